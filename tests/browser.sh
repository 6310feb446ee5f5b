#!/bin/sh
# browser.sh - the HTML report in a real browser (headless Chromium, no
# network): no console errors, every image loads, the pages are not blank.
. "${SR_SRCDIR:-.}/tests/lib.sh"

CHROMIUM=${SR_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
    skip "browser checks" "no $CHROMIUM"
    finish
    exit $?
fi
PY=/usr/bin/python3

expect_status 0 "synth a small sweep" -- "$SR_BIN" synth --trials 3 --epochs 4 --save-every 2 --samples 2 --size 64 "$TMP/sweep"
# markup planted in a parameter must render as text
p="$TMP/sweep/trial_0001/params.json"
if [ -f "$p" ]; then
    sed '0,/{/s//{"note": "<script>alert(1)<\/script><img src=x onerror=alert(2)>",/' "$p" > "$TMP/params" && cp "$TMP/params" "$p"
fi
expect_status 0 "run on it" -- "$SR_BIN" run --device cpu --quiet -o "$TMP/report" "$TMP/sweep"

# browse FILE NAME: dumps the DOM after load (and a screenshot), with the console log
browse() {
    profile=$(mktemp -d "$TMP/profile.XXXXXX")
    timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$profile" --enable-logging=stderr --v=0 --virtual-time-budget=5000 \
        --window-size=1280,2000 --dump-dom "file://$1" > "$TMP/$2.dom" 2> "$TMP/$2.log"
    timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$profile" --virtual-time-budget=5000 --hide-scrollbars \
        --window-size=1280,2000 --screenshot="$TMP/$2.png" "file://$1" > /dev/null 2>> "$TMP/$2.log"
}

check_page() {
    file=$1; name=$2
    if [ ! -f "$file" ]; then fail "$name: $file was not written"; return; fi
    browse "$file" "$name"
    if grep -E 'Uncaught|ERROR:CONSOLE|CONSOLE.*[Ee]rror|Not allowed to load|net::ERR_' "$TMP/$name.log" > "$TMP/$name.bad"; then
        fail "$name: console errors"; sed 's/^/  /' "$TMP/$name.bad" | head -5
    else
        pass "$name: no console errors"
    fi
    if grep -q 'data-images-ok="true"' "$TMP/$name.dom"; then pass "$name: every image loaded"; else
        fail "$name: an image did not load"; grep -o '<html[^>]*>' "$TMP/$name.dom" | head -1 | sed 's/^/  /'; fi
    if grep -q '<script>alert\|<img src="x"' "$TMP/$name.dom"; then
        fail "$name: markup from the sweep became elements"
    else
        pass "$name: no planted markup"
    fi
    size=$(wc -c < "$TMP/$name.png" 2>/dev/null || echo 0)
    if [ "$size" -lt 5000 ]; then fail "$name: screenshot missing or tiny ($size bytes)"; return; fi
    if [ -x "$PY" ] && "$PY" -c 'import PIL' 2>/dev/null; then
        colours=$("$PY" -c 'import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB").resize((200, 300))
print(len(set(im.getdata())))' "$TMP/$name.png")
        if [ "$colours" -gt 16 ]; then pass "$name: screenshot is not blank ($colours colours)"; else
            fail "$name: screenshot looks blank ($colours colours)"; fi
    else
        pass "$name: screenshot written ($size bytes)"
    fi
    if [ -n "${SR_KEEP_SCREENSHOTS:-}" ]; then cp "$TMP/$name.png" "$SR_KEEP_SCREENSHOTS/"; fi
}

check_page "$TMP/report/index.html" index
check_page "$TMP/report/trials/trial_0001.html" trial

# A reader who asks for dark pages gets one; the light page stays light.
if [ -x "$PY" ] && "$PY" -c 'import PIL' 2>/dev/null; then
    profile=$(mktemp -d "$TMP/profile.XXXXXX")
    timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync --force-dark-mode \
        --user-data-dir="$profile" --virtual-time-budget=5000 --hide-scrollbars \
        --window-size=1280,1200 --screenshot="$TMP/dark.png" "file://$TMP/report/index.html" > /dev/null 2>&1
    lum() { "$PY" -c 'import sys
from PIL import Image, ImageStat
print(int(ImageStat.Stat(Image.open(sys.argv[1]).convert("L").crop((0, 0, 1280, 600))).mean[0]))' "$1"; }
    dark=$(lum "$TMP/dark.png")
    light=$(lum "$TMP/index.png")
    if [ "$dark" -lt 90 ] && [ "$light" -gt 180 ]; then
        pass "dark mode: a dark page ($dark) where asked, else a light one ($light)"
    else
        fail "dark mode: mean luminance $dark dark, $light light"
    fi
else
    skip "dark mode" "no python3 with PIL"
fi
finish
