#!/bin/sh
# scan_cli.sh - synth and scan end to end through the program.
. "${SR_SRCDIR:-.}/tests/lib.sh"

S="$TMP/sweep"
expect_status 0 "synth a small sweep" -- "$SR_BIN" synth --trials 4 --epochs 6 --samples 2 --size 32 --rank 1 --seed 7 "$S"
expect_status 0 "synth the same sweep again" -- "$SR_BIN" synth --trials 4 --epochs 6 --samples 2 --size 32 --rank 1 --seed 7 "$TMP/again"
if diff -r "$S" "$TMP/again" > /dev/null; then pass "synth is deterministic"; else fail "two synth runs differ"; fi

expect_status 0 "scan (text)" -- "$SR_BIN" scan "$S"
expect_grep "^trial_0001 " "$TMP/out" "a table per trial"
expect_grep "EPOCH" "$TMP/out" "table header"
expect_grep "incomplete" "$TMP/out" "the half-written checkpoint is shown"
expect_grep "^problems (" "$TMP/out" "problems listed"

expect_status 0 "scan --json" -- "$SR_BIN" scan --json "$S"
cp "$TMP/out" "$TMP/scan.json"
expect_grep "incomplete" "$TMP/err" "problems repeated on stderr"
expect_status 0 "scan --json -q" -- "$SR_BIN" scan --json -q "$S"
if [ ! -s "$TMP/err" ]; then pass "-q keeps stderr quiet"; else fail "-q printed: $(head -2 "$TMP/err")"; fi

if [ -z "${SR_PYTHON:-}" ] || [ ! -x "$SR_PYTHON" ]; then
    skip "scan --json keeps its contract" "no python3 to check it"
else
    if "$SR_PYTHON" - "$TMP/scan.json" "$S" <<'PY'
import json, os, sys
doc = json.load(open(sys.argv[1]))
sweep = sys.argv[2]
assert doc["tool"]["name"] == "sweepreport", doc["tool"]
assert doc["sweep"]["path"] == os.path.realpath(sweep)
study = doc["sweep"]["study"]
assert study["direction"] in ("MINIMIZE", "MAXIMIZE"), study
names = [t["name"] for t in doc["trials"]]
assert names == sorted(d for d in os.listdir(sweep) if d.startswith("trial_")), names
for t in doc["trials"]:
    for key in ("name", "path", "state", "optuna_number", "value", "params", "checkpoints",
                "user_attrs", "intermediate_values", "datetime_start", "datetime_complete"):
        assert key in t, key
    assert t["state"] in ("COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING"), t["state"]
    # synth writes TensorBoard logs for every trial that trained
    tb = t["tensorboard"]["series"]
    assert set(tb) >= {"loss/current", "loss/average", "lr/unet"}, sorted(tb)
    ok = [c for c in t["checkpoints"] if c["status"] == "ok"]
    last = max(c["epoch"] for c in ok)
    assert max(tb["loss/current"]["epoch"]) >= last, (t["name"], last)
    # synth numbers its folders from 1 and its Optuna trials from 0
    assert t["optuna_number"] == int(t["name"].split("_")[1]) - 1, (t["name"], t["optuna_number"])
    files = sorted(f for f in os.listdir(t["path"]) if f.endswith(".safetensors"))
    assert sorted(c["file"] for c in t["checkpoints"]) == files, (files, t["checkpoints"])
    for c in t["checkpoints"]:
        assert c["status"] in ("ok", "incomplete", "invalid")
        assert c["size"] == os.path.getsize(os.path.join(t["path"], c["file"]))
        assert isinstance(c["final"], bool)
        assert (c["status"] == "ok") == ("problem" not in c)
        for s in c["samples"]:
            assert os.path.isfile(os.path.join(t["path"], s)), s
        for k, v in c["metrics"].items():
            assert v is None or isinstance(v, (int, float)), (k, v)
        # the epoch comes from the name where the name has one
        stem = c["file"][:-len(".safetensors")]
        if not c["final"]:
            assert c["epoch"] == int(stem.rsplit("-", 1)[1]), c
        else:
            assert c["epoch"] == t["params"]["max_train_epochs"], c
bad = [p for p in doc["problems"] if "incomplete" in p["problem"]]
assert len(bad) == 1, doc["problems"]
print("contract ok")
PY
    then pass "scan --json keeps its contract"; else fail "scan --json contract"; fi
fi

# The demo writes its sweep once, into a new or empty folder, then reuses it.
cd "$TMP" || exit 1
mkdir demo-sweep
expect_status 0 "demo into an empty folder" -- "$SR_BIN" demo demo-sweep
expect_grep "writing a synthetic sweep" "$TMP/out" "an empty folder gets the demo sweep"
expect_grep "^report: .*demo-sweep/sweepreport/index.html" "$TMP/out" "demo says where its report is"
expect_grep "; recommended: trial_" "$TMP/out" "demo recommends a checkpoint"
if [ -s demo-sweep/sweepreport/report.pdf ] && [ -s demo-sweep/sweepreport/index.html ]; then pass "demo wrote the HTML and PDF report"; else fail "demo report missing"; fi
expect_status 0 "demo -o again" -- "$SR_BIN" demo -o demo-sweep
expect_grep "already" "$TMP/out" "demo reuses its sweep"
tail -1 "$TMP/out" > "$TMP/last"
expect_grep "^report: .*demo-sweep/sweepreport/index.html, .*demo-sweep/sweepreport/report.pdf; recommended: trial_[0-9]* epoch [0-9]* /" \
    "$TMP/last" "its last line says where index.html and report.pdf are and what it recommends"
expect_status 2 "demo with two folders" -- "$SR_BIN" demo -o demo-sweep other
echo x > a-file
expect_status 1 "demo on a file" -- "$SR_BIN" demo a-file
if grep -q "a-file: not a folder" "$TMP/err" && ! grep -q "using" "$TMP/out"; then
    pass "a file is no demo sweep, and is not called one"
else
    fail "demo on a file: $(cat "$TMP/out" "$TMP/err")"
fi
mkdir other && echo x > other/notes
expect_status 1 "demo on a folder of other files" -- "$SR_BIN" demo other
if [ "$(ls other)" = notes ]; then pass "the folder is left as it was"; else fail "demo wrote into a folder of other files"; fi

finish
