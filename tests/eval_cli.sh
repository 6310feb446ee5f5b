#!/bin/sh
# eval_cli.sh - sweepreport eval end to end: what it measures, what it writes,
# what it never touches, and the sampler hook.
. "${SR_SRCDIR:-.}/tests/lib.sh"

S="$TMP/sweep"
"$SR_BIN" synth --trials 4 --epochs 6 --samples 3 --size 48 --rank 2 --seed 3 "$S" > /dev/null || exit 1
# A fingerprint of every file other tools wrote (everything but sweepreport's own).
others() { (cd "$S" && find . -path ./.sweepreport -prune -o -type f -print | sort | xargs md5sum); }
others > "$TMP/before"
"$SR_BIN" scan --json -q "$S" > "$TMP/scan0.json"

# The half-written checkpoint was modified just now: within an hour's settle
# time it is pending, whatever the machine's speed.
expect_status 0 "eval" -- "$SR_BIN" eval --settle 3600 "$S"
expect_grep "on cpu" "$TMP/out" "eval says which device it used"
expect_grep "1 pending" "$TMP/out" "the half-written checkpoint is pending"
others > "$TMP/after"
# Only new metrics.json files may appear; nothing that was there changed.
if diff "$TMP/before" "$TMP/after" | grep '^<' > "$TMP/changed"; [ ! -s "$TMP/changed" ]; then
    pass "no file another tool wrote was changed"
else
    fail "files changed: $(cat "$TMP/changed")"
fi
if diff "$TMP/before" "$TMP/after" | grep '^>' | grep -v '/metrics.json$' > "$TMP/added"; [ ! -s "$TMP/added" ]; then
    pass "only metrics.json files were added"
else
    fail "unexpected files: $(cat "$TMP/added")"
fi
"$SR_BIN" scan --json -q "$S" > "$TMP/scan1.json"

expect_status 0 "eval again" -- "$SR_BIN" eval "$S"
expect_grep "weights measured for 0, samples measured for 0, 0 metrics.json" "$TMP/out" "a rerun measures nothing"
expect_status 0 "eval --force" -- "$SR_BIN" eval --force -q "$S"
others > "$TMP/forced"
if cmp -s "$TMP/after" "$TMP/forced"; then pass "--force rewrites no metrics.json"; else fail "--force changed files"; fi

if [ -n "${SR_PYTHON:-}" ] && "$SR_PYTHON" -c 'import numpy, PIL' 2>/dev/null; then
    if "$SR_PYTHON" - "$TMP/scan0.json" "$TMP/scan1.json" "$S" <<'PY'
import json, os, sys
import numpy as np
from PIL import Image
before = {c["path"]: c for t in json.load(open(sys.argv[1]))["trials"] for c in t["checkpoints"]}
after = json.load(open(sys.argv[2]))
written = 0
for t in after["trials"]:
    for c in t["checkpoints"]:
        m = c["metrics"]
        if c["status"] != "ok":
            continue
        # every valid checkpoint has weight metrics
        for k in ("weight_delta_norm", "weight_nonfinite", "weight_effective_rank", "weight_norm_unet_down"):
            assert k in m, (c["file"], k)
        assert m["weight_nonfinite"] == 0
        # every checkpoint with samples has image metrics
        if c["samples"]:
            for k in ("mean_saturation", "mean_sharpness", "mean_colorfulness", "mean_entropy", "pixar_score"):
                assert k in m, (c["file"], k)
            # the seed's definitions, from the PNGs with numpy
            imgs = [np.asarray(Image.open(os.path.join(t["path"], s)).convert("RGB")) for s in c["samples"]]
            b = [np.mean(a) / 255 for a in imgs]
            ct = [np.std(a) / 255 for a in imgs]
            assert abs(m["mean_brightness"] - np.mean(b)) < 1e-9, (c["file"], m["mean_brightness"], np.mean(b))
            assert abs(m["mean_contrast"] - np.mean(ct)) < 1e-9
            mj = os.path.join(t["path"], os.path.dirname(c["samples"][0]), "metrics.json")
            assert os.path.exists(mj), mj
            doc = json.load(open(mj))
            if "mean_sharpness" in doc.get("metrics", {}):
                written += 1
                assert doc["checkpoint"] == c["file"]
                assert doc["metrics"]["total_samples"] == len(c["samples"])
                assert len(doc["metrics"]["avg_brightness"]) == len(c["samples"])
                assert abs(doc["metrics"]["std_brightness"] - np.std(b)) < 1e-9
        # the drift of a later checkpoint is against the one before it
        if c["epoch"] and c["epoch"] > 2 and not c["final"]:
            assert m.get("weight_drift", 0) > 0, c["file"]
assert written >= 1, "no metrics.json was written"
print("measurements ok, %d metrics.json written" % written)
PY
    then pass "measurements agree with numpy and cover every checkpoint"; else fail "measurements"; fi
else
    skip "measurements agree with numpy" "no python3 with numpy and PIL"
fi

# A rewritten checkpoint is measured again, and the one after it for its
# drift against the new version; nothing else.
ck=$(ls "$S"/trial_0001/*-000002.safetensors)
touch -d '2020-01-01' "$ck"
expect_status 0 "eval after a checkpoint changed" -- "$SR_BIN" eval "$S"
expect_grep "weights measured for 2," "$TMP/out" "only the changed checkpoint and the one after it are measured"

# The sampler hook renders samples for checkpoints without any, then they are measured.
FAKE="$SR_SRCDIR/tests/data/sampler/fake_sampler.sh"
expect_status 0 "eval --sampler" -- "$SR_BIN" eval --samples 2 --sampler "sh '$FAKE' {checkpoint} {outdir} {n}" "$S"
expect_grep "samples rendered for 1" "$TMP/out" "the one checkpoint without samples got some"
D="$S/trial_0002/realtime_evaluations/lora_trial_2-000002"
if [ -f "$D/sample_00.png" ] && [ -f "$D/sample_01.png" ] && [ -f "$D/metrics.json" ]; then
    pass "samples and metrics.json in the seed evaluator's layout"
else
    fail "no samples in $D: $(ls "$D" 2>&1)"
fi
mkdir "$TMP/a-folder"
if [ "$(stat -c %a "$D")" = "$(stat -c %a "$TMP/a-folder")" ]; then pass "the samples' folder has the modes of any new folder"; else
    fail "the samples' folder is mode $(stat -c %a "$D"), a new folder $(stat -c %a "$TMP/a-folder")"; fi
if [ "$(cat "$D/checkpoint.txt")" = "$S/trial_0002/lora_trial_2-000002.safetensors" ]; then
    pass "the sampler got the checkpoint path as one argument"
else
    fail "sampler argument: $(cat "$D/checkpoint.txt")"
fi
# Four 2x2 pixels (200,120,40) (10,90,250) (255,255,255) (0,0,0): brightness 1475/12/255.
"$SR_BIN" scan --json -q "$S" > "$TMP/scan2.json"
if grep -q '"mean_brightness":[[:space:]]*0.48202614379' "$TMP/scan2.json"; then
    pass "rendered samples were measured"
else
    fail "no measurement of the rendered samples"
fi
if ls -a "$S/trial_0002/realtime_evaluations" | grep -q '\.sweepreport-tmp-'; then fail "temporary folder left"; else pass "no temporary folder left"; fi
# the samples are seconds old, but they were measured as they are: not
# pending (as the report right after the run would otherwise show them)
"$SR_BIN" scan --json -q --settle 3600 "$S" > "$TMP/scan3.json"
if grep -q '"pending":[[:space:]]*"its samples' "$TMP/scan3.json"; then
    fail "samples measured as they are counted as still being written"
else
    pass "samples measured as they are are settled"
fi

# A failing sampler is reported and blocks nothing else.
rm -rf "$D"
expect_status 0 "eval with a failing sampler" -- "$SR_BIN" eval --sampler "sh -c 'echo broken >&2; exit 3' x {checkpoint} {outdir}" "$S"
expect_grep "exited with status 3: broken" "$TMP/err" "the sampler's failure is reported with its last line"
expect_grep "1 failed" "$TMP/out" "and counted"

# Files that vanish while eval runs (a trainer keeping only its last
# checkpoints, samples made again) are left for the next run, not named as
# problems.  The sampler, run for trial_0002's checkpoint without samples,
# deletes trial_0003's checkpoints and trial_0004's samples before eval gets
# to them.
V="$TMP/vanish"
"$SR_BIN" synth --trials 4 --epochs 6 --samples 3 --size 48 --rank 2 --seed 3 "$V" > /dev/null || exit 1
VANISH="$SR_SRCDIR/tests/data/sampler/vanish.sh"
expect_status 0 "eval while files vanish" -- "$SR_BIN" eval --jobs 1 --settle 3600 --samples 2 \
    --sampler "sh '$VANISH' {checkpoint} {outdir} {n} '$V/trial_0003/lora_trial_3-000002.safetensors' '$V/trial_0003/lora_trial_3-000004.safetensors' '$V/trial_0004/realtime_evaluations'" "$V"
if [ -e "$V/trial_0003/lora_trial_3-000002.safetensors" ] || [ -e "$V/trial_0004/realtime_evaluations" ]; then
    fail "the sampler did not delete the files"
fi
if grep -E "trial_0003|trial_0004" "$TMP/err" > "$TMP/vanish-problems"; then
    fail "vanished files named as problems: $(head -3 "$TMP/vanish-problems")"
else
    pass "vanished files are not problems"
fi
expect_grep "samples rendered for 1" "$TMP/out" "the sampler ran"
# trial_0003's two checkpoints, trial_0004's checkpoint with samples, the half-written one
expect_grep ", 4 pending" "$TMP/out" "what vanished is left for the next run"
expect_status 0 "the next eval" -- "$SR_BIN" eval --settle 3600 "$V"
expect_grep "trial_0003: no checkpoint in this trial" "$TMP/err" "the next run sees the sweep as it is"
if grep -q "trial_0004/realtime_evaluations" "$TMP/err"; then fail "the gone samples are still named"; else pass "the gone samples are not named"; fi

# A checkpoint with more samples than are decoded at once (64) is measured a
# chunk at a time, with the same definitions.
M="$TMP/many"
"$SR_BIN" synth --trials 2 --epochs 4 --samples 80 --size 24 --rank 1 --seed 5 "$M" > /dev/null || exit 1
expect_status 0 "eval of checkpoints with 80 samples" -- "$SR_BIN" eval --settle 3600 "$M"
expect_grep "samples measured for 2," "$TMP/out" "both checkpoints with samples are measured"
if [ -n "${SR_PYTHON:-}" ] && "$SR_PYTHON" -c 'import numpy, PIL' 2>/dev/null; then
    "$SR_BIN" scan --json -q "$M" > "$TMP/many.json"
    if "$SR_PYTHON" - "$TMP/many.json" <<'PY'
import json, os, sys
import numpy as np
from PIL import Image
seen = 0
for t in json.load(open(sys.argv[1]))["trials"]:
    for c in t["checkpoints"]:
        if c["status"] != "ok" or len(c["samples"]) <= 64:
            continue
        m = c["metrics"]
        imgs = [np.asarray(Image.open(os.path.join(t["path"], s)).convert("RGB")) for s in c["samples"]]
        assert m["total_samples"] == len(imgs), (c["file"], m["total_samples"])
        b = [np.mean(a) / 255 for a in imgs]
        assert abs(m["mean_brightness"] - np.mean(b)) < 1e-9, (c["file"], m["mean_brightness"], np.mean(b))
        assert abs(m["std_brightness"] - np.std(b)) < 1e-9
        assert 0 < m["sample_diversity"] < 1, m.get("sample_diversity")
        seen += 1
assert seen == 2, seen
PY
    then pass "80 samples: every one counted, the seed's numbers"; else fail "80 samples"; fi
else
    skip "80 samples: the seed's numbers" "no python3 with numpy and PIL"
fi

# inspect: one checkpoint in detail.  SD1.5: 3 down blocks x 2 attentions x 12
# modules (attn1 q/k/v/out, attn2 q/k/v/out, ff x2, proj_in/out), 1 x 12 in the
# middle, 3 x 3 x 12 up, 12 text-encoder layers x 6.
ck=$(ls "$S"/trial_0001/*-000004.safetensors)
expect_status 0 "inspect" -- "$SR_BIN" inspect "$ck"
expect_grep "modules: 264 (264 measured)" "$TMP/out" "inspect counts the SD1.5 modules"
for b in "unet_down *72 " "unet_mid *12 " "unet_up *108 " "text_encoder *72 "; do
    expect_grep "^  $b" "$TMP/out" "inspect: block $b"
done
expect_grep "ss_training_started_at *2025-" "$TMP/out" "Unix times shown as dates"
expect_status 0 "inspect --json" -- "$SR_BIN" inspect --json "$ck"
expect_grep '"rank":[[:space:]]*2' "$TMP/out" "inspect --json has the rank per module"
half=$(ls "$S"/trial_0004/*.safetensors | tail -1)
expect_status 1 "inspect of a half-written file" -- "$SR_BIN" inspect "$half"
expect_grep "status: incomplete" "$TMP/out" "inspect says it is incomplete"
expect_status 2 "inspect without a file" -- "$SR_BIN" inspect

# Every PNG of PngSuite and the known-bad corpus as one checkpoint's samples:
# the ones libpng rejects are named in problems, all the others are measured.
CORPUS="$SR_SRCDIR/../shared/testdata"
if [ -f "$CORPUS/pngsuite/MANIFEST.tsv" ] && [ -f "$CORPUS/png-bad/MANIFEST.tsv" ]; then
    P="$TMP/pngs"
    mkdir -p "$P/trial_0001/realtime_evaluations/x-000002"
    # -p: a finished checkpoint (a fresh copy would be pending, see --settle)
    cp -p "$(ls "$S"/trial_0001/*-000002.safetensors)" "$P/trial_0001/x-000002.safetensors"
    i=0
    want_ok=0
    want_bad=0
    for corpus in pngsuite png-bad; do
        tail -n +2 "$CORPUS/$corpus/MANIFEST.tsv" | while IFS="$(printf '\t')" read -r f _ _ _ _ _ _ expect _; do
            echo "$corpus/$f $expect"
        done
    done > "$TMP/pnglist"
    while read -r f expect; do
        i=$((i + 1))
        cp "$CORPUS/$f" "$P/trial_0001/realtime_evaluations/x-000002/sample_$(printf '%03d' $i).png"
        if [ "$expect" = ok ]; then want_ok=$((want_ok + 1)); else want_bad=$((want_bad + 1)); fi
    done < "$TMP/pnglist"
    expect_status 0 "eval of $i corpus PNGs" -- "$SR_BIN" eval --settle 0 "$P" # copied just now
    got_bad=$(grep -c 'realtime_evaluations/x-000002/sample_' "$TMP/err")
    if [ "$got_bad" -eq "$want_bad" ]; then pass "each of the $want_bad corrupt PNGs is named in problems"; else
        fail "$got_bad PNG problems, wanted $want_bad"; grep sample_ "$TMP/err" | head -3; fi
    if grep -Eq "\"total_samples\":[[:space:]]*$want_ok[,}]" "$P/trial_0001/realtime_evaluations/x-000002/metrics.json"; then
        pass "the $want_ok valid PNGs (16-bit, gray, palette, alpha, interlaced) were measured"
    else
        fail "total_samples is not $want_ok: $(grep total_samples "$P/trial_0001/realtime_evaluations/x-000002/metrics.json")"
    fi
else
    skip "corrupt PNGs are named, the others measured" "no ../shared/testdata"
fi

# A valid safetensors file with no LoRA in it (a base model's weight) among
# a trial's checkpoints: named, and given no norms (not zeros), no drift.
if [ -n "${SR_PYTHON:-}" ] && [ -x "$SR_PYTHON" ]; then
    N="$TMP/notlora"
    "$SR_BIN" synth --trials 1 --epochs 4 --samples 1 --size 16 --rank 1 --seed 9 "$N" > /dev/null
    "$SR_PYTHON" - "$N/trial_0001/lora_trial_1-000003.safetensors" <<'PY'
import json, struct, sys
head = {"model.diffusion_model.input_blocks.0.0.weight": {"dtype": "F16", "shape": [4, 4], "data_offsets": [0, 32]}}
b = json.dumps(head).encode()
b += b" " * (-len(b) % 8)
open(sys.argv[1], "wb").write(struct.pack("<Q", len(b)) + b + bytes(32))
PY
    expect_status 0 "eval of a trial with a checkpoint that is no LoRA" -- "$SR_BIN" eval --settle 0 "$N"
    expect_grep "lora_trial_1-000003.safetensors: weights not measured: not one of its modules is one the formulas cover (1 not measured" "$TMP/err" \
        "the file that is no LoRA is named"
    # named once when measured again, and still in the report after runs that measure nothing new
    expect_status 0 "eval --force" -- "$SR_BIN" eval --force --settle 0 "$N"
    if [ "$(grep -c 'lora_trial_1-000003.safetensors: weights not measured' "$TMP/err")" -eq 1 ]; then
        pass "named once"
    else
        fail "named $(grep -c 'lora_trial_1-000003.safetensors: weights not measured' "$TMP/err") times"
    fi
    expect_status 0 "eval again" -- "$SR_BIN" eval --settle 0 "$N"
    expect_status 0 "render" -- "$SR_BIN" render --settle 0 --force "$N"
    expect_grep "weights not measured: not one of its modules is one the formulas cover (1 not measured" "$N/sweepreport/summary.json" \
        "summary.json names it, from the stored record"
    "$SR_BIN" scan --json -q --settle 0 "$N" > "$TMP/notlora.json"
    if "$SR_PYTHON" - "$TMP/notlora.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
cks = {c["file"]: c["metrics"] for t in d["trials"] for c in t["checkpoints"]}
m = cks["lora_trial_1-000003.safetensors"]
assert m.get("weight_modules") == 0 and "weight_delta_norm" not in m and "weight_drift" not in m, m
nxt = [f for f in cks if f > "lora_trial_1-000003" and f != "lora_trial_1-000003.safetensors"]
assert nxt, sorted(cks)
for f in nxt:  # measured, with a drift against the one before the file that is no LoRA
    assert "weight_delta_norm" in cks[f] and "weight_drift" in cks[f], (f, cks[f])
PY
    then pass "no norm and no drift for it"; else fail "metrics of the file that is no LoRA"; fi
else
    skip "a checkpoint that is no LoRA" "no python3"
fi

# Devices and usage.
expect_status 1 "eval --device cuda:7" -- "$SR_BIN" eval --device cuda:7 "$S"
expect_grep "cuda" "$TMP/err" "an unusable device is named"
expect_status 2 "eval --jobs 0" -- "$SR_BIN" eval --jobs 0 "$S"
expect_status 2 "eval --sampler without placeholders" -- "$SR_BIN" eval --sampler "true" "$S"
expect_status 1 "eval of a missing sweep" -- "$SR_BIN" eval "$TMP/missing"
finish
