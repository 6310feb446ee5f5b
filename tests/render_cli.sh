#!/bin/sh
# render_cli.sh - render and run: summary.json, charts, score options, publishing.
. "${SR_SRCDIR:-.}/tests/lib.sh"

S="$TMP/sweep"
"$SR_BIN" synth --trials 5 --epochs 6 --samples 2 --size 32 --rank 1 --seed 5 "$S" > /dev/null || exit 1

expect_status 0 "run" -- "$SR_BIN" run "$S"
tail -1 "$TMP/out" > "$TMP/last"
expect_grep "^report: $S/sweepreport/index.html, $S/sweepreport/report.pdf; " "$TMP/last" "the last line says where the report is"
expect_grep "; recommended: trial_[0-9]* epoch [0-9]* $S/trial_[0-9]*/lora_trial_[0-9]*-[0-9]*.safetensors\$" "$TMP/last" "and what is recommended: trial, epoch, checkpoint path"
R="$S/sweepreport"
for f in index.html summary.json report.pdf; do
    if [ -s "$R/$f" ]; then pass "$f written"; else fail "no $f"; fi
done
n_svg=$(ls "$R/charts" | grep -c '\.svg$')
n_png=$(ls "$R/charts" | grep -c '\.png$')
if [ "$n_svg" -ge 10 ] && [ "$n_svg" -eq "$n_png" ]; then pass "$n_svg charts as SVG and PNG"; else fail "charts: $n_svg svg, $n_png png"; fi
n_trial=$(ls "$R/charts/trials" | grep -c '^trial-trial_0001-.*\.svg$')
if [ "$n_trial" -ge 2 ]; then pass "small multiples for each trial ($n_trial for trial_0001)"; else fail "no per-trial charts"; fi
# Each chart is drawn once: the trial page shows the very SVG of the chart's file (its xmlns
# attributes aside), and the small multiples' files are as small as on the page.
if [ -n "${SR_PYTHON:-}" ] && [ -x "$SR_PYTHON" ]; then
    if "$SR_PYTHON" - "$R" <<'PY'
import os, re, struct, sys
r = sys.argv[1]
page = open(os.path.join(r, "trials", "trial_0001.html"), encoding="utf-8").read()
index = open(os.path.join(r, "index.html"), encoding="utf-8").read()
def inline(path):
    f = open(path, encoding="utf-8").read()
    start = f.index("<svg")
    end = f.index(">", start)
    return re.sub(r' xmlns(:[A-Za-z]+)?="[^"]*"', "", f[start:end]) + f[end:]
d = os.path.join(r, "charts", "trials")
small = [f for f in os.listdir(d) if f.startswith("trial-trial_0001-") and f.endswith(".svg")]
assert small
for f in small:
    assert inline(os.path.join(d, f)) in page, f
    png = open(os.path.join(d, f[:-4] + ".png"), "rb").read(24)
    assert struct.unpack(">II", png[16:24]) == (480, 300), (f, struct.unpack(">II", png[16:24]))
assert inline(os.path.join(r, "charts", "score.svg")) in index
PY
    then pass "the pages show the charts' files; small multiples are 480x300"; else fail "charts on the pages"; fi
else
    skip "the pages show the charts' files" "no python3"
fi
if ls -a "$S" | grep -q '\.sweepreport-tmp-\|\.old-'; then fail "temporary report folders left"; else pass "the report was published whole"; fi

if [ -n "${SR_PYTHON:-}" ] && [ -x "$SR_PYTHON" ]; then
    if "$SR_PYTHON" - "$R" <<'PY'
import json, math, os, sys
import xml.etree.ElementTree as ET
r = sys.argv[1]
d = json.load(open(os.path.join(r, "summary.json")))
assert d["score"] == {"expression": "pixar_score", "direction": "minimize", "prefer_earlier": None}, d["score"]
import re
assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", d["generated_at"]), d["generated_at"]
best = d["best"]
scored = [(c["score"], t["name"], c) for t in d["trials"] for c in t["checkpoints"]
          if c.get("score") is not None and c["metrics"].get("weight_nonfinite", 0) == 0]
assert scored, "nothing scored"
low = min(s for s, _, _ in scored)
assert abs(best["score"] - low) < 1e-12, (best, low)
assert best["trial"] in [t["name"] for t in d["trials"]]
assert best["reason"] and best["checkpoint"].endswith(".safetensors")
assert os.path.isfile(best["path"])
# the recommendation is over every epoch, the runners-up follow in order
ru = [x["score"] for x in d["runners_up"]]
assert ru == sorted(ru) and len(ru) == min(5, len(scored) - 1), ru
assert all(x >= best["score"] for x in ru)
for t in d["trials"]:
    # judged on a scored final checkpoint only, unknown (null) without one
    finals = [c for c in t["checkpoints"] if c["final"]]
    judged = bool(finals) and finals[-1].get("score") is not None and t["best_checkpoint"] is not None
    assert "overfit" in t and (isinstance(t["overfit"], bool) if judged else t["overfit"] is None), t
    scores = [(c["score"], c["file"]) for c in t["checkpoints"] if c.get("score") is not None]
    if scores:
        assert t["best_checkpoint"] == min(scores)[1], (t["name"], t["best_checkpoint"])
    # the score is the seed's pixar_score of the checkpoint's own metrics
    for c in t["checkpoints"]:
        m = c["metrics"]
        if c.get("score") is not None and "mean_brightness" in m:
            want = abs(m["mean_brightness"] - 0.5) + 0.5 * m["std_brightness"] + abs(m["mean_contrast"] - 0.2) + 0.5 * m["std_contrast"]
            assert abs(c["score"] - want) < 1e-9, (c["file"], c["score"], want)
assert isinstance(d["importance"], list) and d["importance"]
# every SVG is XML, and the score chart has a series per scored trial
for f in os.listdir(os.path.join(r, "charts")):
    if f.endswith(".svg"):
        ET.parse(os.path.join(r, "charts", f))
svg = ET.parse(os.path.join(r, "charts", "score.svg")).getroot()
names = {g.get("data-name") for g in svg.iter() if g.get("class") == "series"}
want = {t["name"] for t in d["trials"] if any(c.get("score") is not None for c in t["checkpoints"])}
assert want <= names, (want, names)
print("summary ok")
PY
    then pass "summary.json keeps its contract; SVG charts are XML with a series per trial"; else fail "summary.json"; fi
else
    skip "summary.json keeps its contract" "no python3"
fi

# rendering again swaps the whole report in
echo "stale" > "$R/stale.txt"
expect_status 0 "render again" -- "$SR_BIN" render -q --force "$S"
if [ ! -e "$R/stale.txt" ] && [ -f "$R/summary.json" ] && ! ls -a "$S" | grep -q '\.sweepreport-tmp-\|\.old-'; then
    pass "the new report replaced the old one whole"
else
    fail "report folder after a second render: $(ls -a "$S" "$R" | tr '\n' ' ')"
fi

# The output folder is replaced as a whole, so only a report's folder may be:
# never the sweep, a folder holding it, a foreign folder or file, a link, a
# trial or the store.  Nothing is written or removed when one is refused.
sums() { (cd "$S" && find . -path ./sweepreport -prune -o -type f -print | LC_ALL=C sort | xargs sha256sum); }
sums > "$TMP/sums-before"
mkdir -p "$TMP/docs" "$TMP/empty"
echo "notes" > "$TMP/docs/notes.txt"
echo "a file" > "$TMP/afile"
ln -s "$TMP/nowhere" "$TMP/dangling"
for o in "$S" "$S/" "$S/../$(basename "$S")" "$S/new/../../$(basename "$S")" "$TMP" "$S/trial_0001/report" \
    "$S/new/../trial_0001/report" "$S/.sweepreport" "$TMP/docs" "$TMP/afile" "$TMP/dangling"; do
    expect_status 2 "render -o $o is refused" -- "$SR_BIN" render -q -o "$o" "$S"
    expect_grep "^sweepreport: render: ${o%/}: .*: choose" "$TMP/err" "the refusal names $o and what to do"
done
expect_status 2 "run -o SWEEP is refused before measuring" -- "$SR_BIN" run -q --force -o "$S" "$S"
# a saved scan --json named summary.json is no report: refused when the report would be published
mkdir -p "$TMP/scanned" && "$SR_BIN" scan --json -q "$S" > "$TMP/scanned/summary.json"
cp "$TMP/scanned/summary.json" "$TMP/scanned.json"
expect_status 2 "run -o a folder with a saved scan" -- "$SR_BIN" run -q -o "$TMP/scanned" "$S"
expect_grep "scanned: holds no sweepreport report" "$TMP/err" "the saved scan is no report"
if cmp -s "$TMP/scanned/summary.json" "$TMP/scanned.json" && [ "$(ls "$TMP/scanned")" = summary.json ]; then
    pass "the folder with the saved scan is left as it was"
else
    fail "the folder with the saved scan was changed"
fi
sums > "$TMP/sums-after"
if cmp -s "$TMP/sums-before" "$TMP/sums-after" && [ "$(cat "$TMP/docs/notes.txt")" = notes ] &&
    [ "$(cat "$TMP/afile")" = "a file" ] && [ ! -e "$S/new" ] && ! ls -a "$TMP" "$S" | grep -q '\.sweepreport-tmp-'; then
    pass "refused folders are left as they were"
else
    fail "a refused output folder was changed"
fi
expect_status 0 "render -o an empty folder" -- "$SR_BIN" render -q -o "$TMP/empty" "$S"
expect_status 0 "render -o OUT/ with a slash, over the report there" -- "$SR_BIN" render -q -o "$TMP/empty/" "$S"
if [ -f "$TMP/empty/index.html" ] && ! ls -a "$TMP" | grep -q '\.sweepreport-tmp-'; then pass "a trailing slash names the same folder"; else fail "-o OUT/"; fi
# a link to a report folder is written through: the link stays, the report behind it is new
ln -s "$TMP/empty" "$TMP/link"
before=$(grep -o '"generated_at":[^,]*' "$TMP/empty/summary.json")
sleep 1
expect_status 0 "render -o a link to a report" -- "$SR_BIN" render -q --force -o "$TMP/link" "$S"
if [ -L "$TMP/link" ] && [ "$(grep -o '"generated_at":[^,]*' "$TMP/empty/summary.json")" != "$before" ]; then
    pass "the report is written through the link, which stays"
else
    fail "-o a link: $(ls -la "$TMP" | grep link)"
fi

# score options
expect_status 0 "render --maximize --score" -- "$SR_BIN" render -o "$TMP/max" --maximize --score 'mean_sharpness / (1 + weight_drift)' "$S"
expect_grep '"direction":[[:space:]]*"maximize"' "$TMP/max/summary.json" "the direction is recorded"
expect_grep 'mean_sharpness / (1 + weight_drift)' "$TMP/max/summary.json" "the expression is recorded"
expect_status 2 "render --score with an unknown metric" -- "$SR_BIN" render --score 'mean_sharpnes + 1' "$S"
expect_grep "available metrics: .*mean_sharpness" "$TMP/err" "the error lists the available metrics"
expect_status 2 "render --score malformed" -- "$SR_BIN" render --score '(mean_brightness' "$S"
expect_status 2 "render --minimize --maximize" -- "$SR_BIN" render --minimize --maximize "$S"
expect_grep "contradict" "$TMP/err" "the contradiction is named"
# a checkpoint without samples among scored ones: its row says why it has no score
U="$TMP/unsampled"
mkdir -p "$U"
cp -rp "$S/trial_0001" "$U/"
rm -rf "$U"/trial_0001/realtime_evaluations/lora_trial_1-000002 "$U"/trial_0001/realtime_evaluations/evaluation_*.json
expect_status 0 "render with a checkpoint without samples" -- "$SR_BIN" run -o "$TMP/unsampled-out" "$U"
expect_grep "no score: it has no samples to measure" "$TMP/unsampled-out/trials/trial_0001.html" \
    "the unscored checkpoint says why"
# a metric measuring gives is a valid name before it has given it
mkdir -p "$TMP/bare"
cp -r "$S/trial_0001" "$TMP/bare/"
find "$TMP/bare" -name metrics.json -delete
find "$TMP/bare" -name '*.png' -delete
rm -rf "$TMP/bare/.sweepreport"
expect_status 0 "render --score with a metric not measured yet" -- "$SR_BIN" render -o "$TMP/bare-out" --score 'mean_sharpness * 2' "$TMP/bare"
expect_grep "recommended: nothing yet (no checkpoint has every metric the score 'mean_sharpness \* 2' reads)" "$TMP/out" \
    "nothing scored yet, said so, naming the score"
# run accepts what render accepts: the seed evaluator's metrics too
expect_status 0 "run --score with a seed metric not there yet" -- "$SR_BIN" run -o "$TMP/bare-out" --score 'pixar_score - lpips_diversity' "$TMP/bare"
expect_status 0 "render --score that is never finite" -- "$SR_BIN" render -o "$TMP/nan-out" --score 'log(mean_brightness - 1)' "$S"
expect_grep "recommended: nothing (the score is not a finite number for any of the [0-9]* checkpoints* that have its metrics)" "$TMP/out" "a score that gives no number is named as the cause"
expect_status 2 "render --prefer-earlier -3" -- "$SR_BIN" render --prefer-earlier -3 "$S"
expect_status 0 "render --prefer-earlier 50" -- "$SR_BIN" render -o "$TMP/early" --prefer-earlier 50 "$S"
expect_grep '"prefer_earlier":[[:space:]]*50' "$TMP/early/summary.json" "summary.json records the tolerance that chose the checkpoint"
expect_status 1 "render of a missing sweep" -- "$SR_BIN" render "$TMP/missing"
expect_status 2 "run --device with a malformed device" -- "$SR_BIN" run --device cuda:x "$S"
expect_grep "unknown device 'cuda:x'" "$TMP/err" "the malformed device is named"
expect_status 1 "run --device with GPUs that are not there" -- "$SR_BIN" run --device cuda:0,60 "$S"
expect_grep "cuda:0,60 requested but" "$TMP/err" "what was asked and what exists"
finish
