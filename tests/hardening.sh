#!/bin/sh
# hardening.sh - sweepreport run on a sweep salted with every bad input of the
# external test corpus: corrupt PNGs as samples, the safetensors validation
# vectors as checkpoints, broken JSON, damaged TensorBoard logs, odd names and
# empty trials.  The run must succeed, write the report, and name every bad
# file in summary.json's problems.  Under a sanitizer build any report makes
# the program exit non-zero, so this also checks that nothing reads out of
# bounds, leaks or overflows on any of these inputs.
. "${SR_SRCDIR:-.}/tests/lib.sh"

CORPUS="$SR_SRCDIR/../shared/testdata"
if [ ! -f "$CORPUS/pngsuite/MANIFEST.tsv" ] || [ ! -f "$CORPUS/png-bad/MANIFEST.tsv" ] ||
    [ ! -f "$CORPUS/safetensors/MANIFEST.json" ] || [ ! -d "$CORPUS/tfevents" ]; then
    echo "1..0 # SKIP no ../shared/testdata"
    exit 0
fi
PY=${SR_PYTHON:-}
[ -n "$PY" ] && [ -x "$PY" ] || PY=/usr/bin/python3
if [ ! -x "$PY" ]; then
    echo "1..0 # SKIP no python3"
    exit 0
fi

S="$TMP/sweep"
"$SR_BIN" synth --trials 4 --epochs 4 --samples 2 --size 16 --rank 1 --seed 11 "$S" > /dev/null || exit 1
BAD="$TMP/bad"   # one path per line: each must be named in problems
: > "$BAD"
bad() { printf '%s\n' "$1" >> "$BAD"; }
good_ckpt=$(ls "$S"/trial_0001/lora_trial_1-0000*.safetensors | head -1)
good_png=$(ls "$S"/trial_0001/realtime_evaluations/*/sample_00.png | head -1)
params='{"learning_rate": 0.0001, "network_dim": 4, "max_train_epochs": 4}'

# Every PNG that libpng rejects (PngSuite x*.png, png-bad) as the samples of
# two checkpoints without metrics: one with a good sample beside them, one
# with nothing decodable.
T="$S/trial_0005"
mkdir -p "$T/realtime_evaluations/pngs-000002" "$T/realtime_evaluations/pngs-000004"
echo "$params" > "$T/params.json"
cp "$good_ckpt" "$T/pngs-000002.safetensors"
cp "$good_ckpt" "$T/pngs-000004.safetensors"
cp "$good_png" "$T/realtime_evaluations/pngs-000002/sample_000.png"
i=0
for corpus in pngsuite png-bad; do
    tail -n +2 "$CORPUS/$corpus/MANIFEST.tsv" | while IFS="$(printf '\t')" read -r f _ _ _ _ _ _ expect _; do
        case "$corpus/$f" in pngsuite/x*|png-bad/*) echo "$corpus/$f $expect" ;; esac
    done
done > "$TMP/pngs"
while read -r f expect; do
    i=$((i + 1))
    # alternate between the two checkpoints
    stem=pngs-00000$((2 + 2 * (i % 2)))
    dst="$T/realtime_evaluations/$stem/sample_$(printf '%03d' "$i").png"
    cp "$CORPUS/$f" "$dst"
    [ "$expect" = ok ] || bad "$dst"
done < "$TMP/pngs"
n_png=$i

# Every safetensors validation vector as a checkpoint.
T="$S/trial_0006"
mkdir -p "$T"
echo "$params" > "$T/params.json"
"$PY" - "$CORPUS/safetensors/MANIFEST.json" > "$TMP/vectors" <<'PY'
import json, sys
for v in json.load(open(sys.argv[1])):
    print(v["file"], v["expect"])
PY
n_st=0
while read -r f expect; do
    n_st=$((n_st + 1))
    name=$(echo "$f" | tr '/' '_' | sed 's/\.safetensors$//')
    dst="$T/$name-000001.safetensors"
    cp "$CORPUS/safetensors/$f" "$dst"
    [ "$expect" = ok ] || bad "$dst"
done < "$TMP/vectors"

# Broken JSON: hyperparameters, metrics.json and the evaluator's per-trial files.
T="$S/trial_0007"
mkdir -p "$T/realtime_evaluations/lora_trial_7-000002" "$T/realtime_evaluations/lora_trial_7-000004"
cp "$good_ckpt" "$T/lora_trial_7-000002.safetensors"
cp "$good_ckpt" "$T/lora_trial_7-000004.safetensors"
printf '{"learning_rate": 0.0001, "network_d' > "$T/params.json"; bad "$T/params.json"
printf '{"checkpoint": "lora_trial_7-000002.safetensors", "metrics": {"mean_brightness": 0.5' \
    > "$T/realtime_evaluations/lora_trial_7-000002/metrics.json"
bad "$T/realtime_evaluations/lora_trial_7-000002/metrics.json"
head -c 300 /dev/urandom > "$T/realtime_evaluations/lora_trial_7-000004/metrics.json"
printf '\0\0\0' >> "$T/realtime_evaluations/lora_trial_7-000004/metrics.json"
bad "$T/realtime_evaluations/lora_trial_7-000004/metrics.json"
printf '{"checkpoints": [{"name": "lora_trial_7-000002.safetensors", "metrics": {' \
    > "$T/realtime_evaluations/evaluation_summary.json"
bad "$T/realtime_evaluations/evaluation_summary.json"
printf 'NaN garbage ]]' > "$T/realtime_evaluations/evaluation_state.json"
bad "$T/realtime_evaluations/evaluation_state.json"
T="$S/trial_0008"
mkdir -p "$T/realtime_evaluations/lora_trial_8-000002"
cp "$good_ckpt" "$T/lora_trial_8-000002.safetensors"
printf '[0.0001, 16]' > "$T/params.json"; bad "$T/params.json"
printf '"just a string"' > "$T/realtime_evaluations/lora_trial_8-000002/metrics.json"
bad "$T/realtime_evaluations/lora_trial_8-000002/metrics.json"
printf '{"checkpoints": 12}' > "$T/realtime_evaluations/evaluation_summary.json"
bad "$T/realtime_evaluations/evaluation_summary.json"
printf '{"evaluation_results": [1, 2]}' > "$T/realtime_evaluations/evaluation_state.json"
bad "$T/realtime_evaluations/evaluation_state.json"

# Damaged TensorBoard logs: a real file cut in a record, one with a flipped
# byte, and one that is not an event file at all.
T="$S/trial_0003/logs/20251115090000/network_train"
mkdir -p "$T"
ev=$(find "$CORPUS/tfevents" -name 'events.out.tfevents.*' | sort | head -1)
head -c 1000 "$ev" > "$T/events.out.tfevents.1.cut"; bad "$T/events.out.tfevents.1.cut"
"$PY" - "$ev" "$T/events.out.tfevents.2.flipped" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[len(b) // 2] ^= 0x10
open(sys.argv[2], "wb").write(b)
PY
bad "$T/events.out.tfevents.2.flipped"
printf 'not a TFRecord file at all\n' > "$T/events.out.tfevents.3.text"; bad "$T/events.out.tfevents.3.text"

# Odd names: spaces, quotes, '<', unicode, a very long name; each trial has a
# good checkpoint and a cut one (named in problems).
long=$(printf 'x%.0s' $(seq 1 200))
for t in "trial_0009 with spaces" "trial_0010_\"quoted\"_'single'_<b>&amp;" "trial_0011_ünïcødé_日本語_🙂" \
    "trial_0012_$long"; do
    mkdir -p "$S/$t"
    echo "$params" > "$S/$t/params.json"
    cp "$good_ckpt" "$S/$t/lora \"odd\" <i>-000002.safetensors"
    head -c 5000 "$good_ckpt" > "$S/$t/lora \"odd\" <i>-000004.safetensors"
    bad "$S/$t/lora \"odd\" <i>-000004.safetensors"
done
cp "$good_ckpt" "$S/trial_0009 with spaces/$(printf 'y%.0s' $(seq 1 220))-000006.safetensors"

# A sample whose path is 510 bytes long: its decoder message (cut at 511
# bytes) is the path and a colon, with nothing after them.
"$PY" - "$(cd "$S" && pwd -P)" > "$TMP/longpath" <<'PY'
import sys
base = sys.argv[1]
fixed = len(base) + len("/trial_0015_") + len("/realtime_evaluations/") + len("/sample_00.png")
pad = 510 - fixed
trial = "trial_0015_" + "t" * (pad - pad // 2)
stem = "s" * (pad // 2 - 7) + "-000002"
assert len(trial) < 250 and len(stem) < 240, (len(trial), len(stem))
print(trial)
print(stem)
PY
trial=$(sed -n 1p "$TMP/longpath"); stem=$(sed -n 2p "$TMP/longpath")
mkdir -p "$S/$trial/realtime_evaluations/$stem"
echo "$params" > "$S/$trial/params.json"
cp "$good_ckpt" "$S/$trial/$stem.safetensors"
cp "$CORPUS/pngsuite/xs1n0g01.png" "$S/$trial/realtime_evaluations/$stem/sample_00.png"
bad "$S/$trial/realtime_evaluations/$stem/sample_00.png"

# Empty trials: nothing at all, and hyperparameters only.
mkdir -p "$S/trial_0013" "$S/trial_0014"
bad "$S/trial_0013"
echo "$params" > "$S/trial_0014/params.json"
bad "$S/trial_0014"

# FIFOs where files belong (hyperparameters, metrics, a sample): each is
# refused at once, never waited on for a writer that will not come.
T="$S/trial_0016"
mkdir -p "$T/realtime_evaluations/fifo-000002"
cp "$good_ckpt" "$T/fifo-000002.safetensors"
cp "$good_png" "$T/realtime_evaluations/fifo-000002/sample_00.png"
mkfifo "$T/params.json" "$T/realtime_evaluations/fifo-000002/metrics.json" \
    "$T/realtime_evaluations/fifo-000002/sample_01.png"
bad "$T/params.json"
bad "$T/realtime_evaluations/fifo-000002/metrics.json"
bad "$T/realtime_evaluations/fifo-000002/sample_01.png"

# check_summary WHAT: every bad file is named in summary.json's problems,
# and every trial folder is in the report whatever its name.
check_summary() {
    if "$PY" - "$R/summary.json" "$BAD" "$S" > "$TMP/check" 2>&1 <<'PY'
import json, os, sys
summary = json.load(open(sys.argv[1]))
named = {os.path.realpath(p["path"]) for p in summary["problems"]}
bad = open(sys.argv[2], encoding="utf-8").read().splitlines()
missing = [b for b in bad if os.path.realpath(b) not in named]
for m in missing:
    print("not named in problems:", os.path.relpath(m, sys.argv[3]))
trials = {t["name"] for t in summary["trials"]}
for d in sorted(os.listdir(sys.argv[3])):
    if d.startswith("trial_") and d not in trials:
        print("trial missing from summary.json:", d)
        missing.append(d)
print("%d bad files named among %d problems" % (len(bad), len(summary["problems"])))
sys.exit(1 if missing else 0)
PY
    then
        pass "$1: every bad file is named in summary.json's problems ($(tail -1 "$TMP/check"))"
    else
        fail "$1: summary.json's problems"
        sed 's/^/  /' "$TMP/check" | head -20
    fi
}

# Every file here was just written: --settle 0 treats them as finished
# rather than pending (being written), so that all of them are read.
R="$S/sweepreport"
expect_status 0 "run on a sweep salted with $n_png bad PNGs, $n_st safetensors vectors, broken JSON and odd names" \
    -- timeout 600 "$SR_BIN" run --settle 0 "$S"
for f in index.html summary.json; do
    if [ -s "$R/$f" ]; then pass "$f written"; else fail "no $f"; fi
done
check_summary "first run"
# The odd names are in the HTML, escaped: no raw tag from a file name.
if grep -q 'odd&quot; &lt;i&gt;-000004' "$R/index.html" && ! grep -rq '<i>-0000\|<b>&amp;' "$R/index.html" "$R/trials"; then
    pass "odd names are escaped in the HTML pages"
else
    fail "file names in the HTML pages: $(grep -ro '.\{10\}odd.\{20\}' "$R/index.html" "$R/trials" | head -3)"
fi

# A second run measures nothing new, yet eval still finds every bad file
# (the samples it cannot decode are tried again for their thumbnails), and
# the report still names them.
expect_status 0 "run again" -- timeout 600 "$SR_BIN" run --settle 0 "$S"
if "$PY" - "$TMP/err" "$BAD" "$S" > "$TMP/check" 2>&1 <<'PY'
import os, sys
err = open(sys.argv[1], encoding="utf-8", errors="replace").read()
bad = open(sys.argv[2], encoding="utf-8").read().splitlines()
missing = [b for b in bad if "sweepreport: %s: " % os.path.realpath(b) not in err]
for m in missing:
    print("not named on stderr:", os.path.relpath(m, sys.argv[3]))
sys.exit(1 if missing else 0)
PY
then
    pass "second run: every bad file is named on stderr"
else
    fail "second run: stderr"
    sed 's/^/  /' "$TMP/check" | head -20
fi
check_summary "second run"
finish
