#!/bin/sh
# kill9.sh - a run killed at any instant (SIGKILL, no chance to clean up)
# leaves the previous report whole and no half-written file in its place;
# the next run removes the temporaries it left and publishes again.
. "${SR_SRCDIR:-.}/tests/lib.sh"

PY="${SR_PYTHON:-/usr/bin/python3}"
if ! "$PY" -c 'import json' > /dev/null 2>&1; then
    skip "a killed run leaves the report whole" "no python3"
    finish
fi
S="$TMP/sweep"
"$SR_BIN" synth --trials 3 --epochs 6 --samples 3 --size 64 --rank 2 --seed 5 "$S" > /dev/null || exit 1
R="$S/sweepreport"
expect_status 0 "a first run" -- "$SR_BIN" run --settle 0 --archive "$S"

# Every published file parses and ends as a whole file of its kind.
whole() {
    "$PY" - "$S" "$R" << 'PYEOF'
import json, os, sys
sweep, out = sys.argv[1], sys.argv[2]
bad = []
json.load(open(os.path.join(out, "summary.json")))
html = open(os.path.join(out, "index.html"), "rb").read().rstrip()
if not html.endswith(b"</html>"):
    bad.append("index.html is cut")
def pdf_whole(p):
    data = open(p, "rb").read()
    return data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
if not pdf_whole(os.path.join(out, "report.pdf")):
    bad.append("report.pdf is cut")
for t in sorted(os.listdir(sweep)):
    a = os.path.join(sweep, t, t + "_report.pdf")
    if os.path.exists(a) and not pdf_whole(a):
        bad.append(a + " is cut")
m = os.path.join(sweep, ".sweepreport", "measurements")
for f in os.listdir(m):
    if not f.startswith("."):
        json.load(open(os.path.join(m, f)))
for root, dirs, files in os.walk(sweep):
    for f in files:
        if f == "metrics.json":
            json.load(open(os.path.join(root, f)))
print("; ".join(bad) if bad else "whole")
sys.exit(1 if bad else 0)
PYEOF
}

# Kill runs that measure and render everything again at a spread of instants.
for d in 0.05 0.2 0.4 0.7 1.0 1.5 2.0 3.0; do
    "$SR_BIN" run -q --force --settle 0 --archive "$S" > /dev/null 2>&1 &
    pid=$!
    sleep "$d"
    kill -9 "$pid" 2> /dev/null
    wait "$pid" 2> /dev/null
    if whole > "$TMP/whole" 2>&1; then pass "killed after ${d} s: the report and the store are whole"; else
        fail "killed after ${d} s: $(cat "$TMP/whole")"; fi
done

echo "# temporaries the killed runs left: $(find "$S" -name '.*.sweepreport-tmp-??????' | wc -l)"
# Other tools' temporaries are not ours to clean up: a trainer writing a
# checkpoint under a temporary name, a results file, a folder.
mkdir -p "$S/results" "$S/trial_0001/.samples.tmp-Zx9Yw8"
echo data > "$S/trial_0001/.lora_trial_1-000004.safetensors.tmp-a1B2c3"
echo keep > "$S/results/.all_trials.json.tmp-Q9w8e7"
expect_status 0 "a run after the killed ones" -- "$SR_BIN" run --settle 0 --archive "$S"
if [ "$(cat "$S/trial_0001/.lora_trial_1-000004.safetensors.tmp-a1B2c3")" = data ] &&
    [ "$(cat "$S/results/.all_trials.json.tmp-Q9w8e7")" = keep ] && [ -d "$S/trial_0001/.samples.tmp-Zx9Yw8" ]; then
    pass "other tools' temporaries are left alone"
else
    fail "other tools' temporaries were removed"
fi
left=$(find "$S" -name '.*.sweepreport-tmp-??????' | head -5)
if [ -z "$left" ]; then pass "no temporary file or folder is left anywhere in the sweep"; else
    fail "temporaries left: $left"; fi
if whole > "$TMP/whole" 2>&1; then pass "and the report is whole"; else fail "$(cat "$TMP/whole")"; fi
finish
