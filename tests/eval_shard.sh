#!/bin/sh
# eval_shard.sh - eval --shard K/N: shards, one after the other or all at
# once, measure every checkpoint exactly once, and render then reports what
# a single eval gives; --shard and device-list usage.
. "${SR_SRCDIR:-.}/tests/lib.sh"

S="$TMP/sweep"
"$SR_BIN" synth --trials 4 --epochs 6 --samples 3 --size 48 --rank 2 --seed 3 "$S" > /dev/null || exit 1
# Written two hours ago: nothing is within the settle time, so every run
# below sees the same sweep whenever it starts.
find "$S" -exec touch -h -d '2 hours ago' {} +
cp -a "$S" "$TMP/one"
cp -a "$S" "$TMP/seq"
cp -a "$S" "$TMP/par"

# One eval: the reference.
expect_status 0 "a single eval" -- "$SR_BIN" eval -v "$TMP/one"
cp "$TMP/out" "$TMP/one.out"

# Three shards, one after the other.
for k in 0 1 2; do
    expect_status 0 "eval --shard $k/3" -- "$SR_BIN" eval -v --shard "$k/3" "$TMP/seq"
    cp "$TMP/out" "$TMP/seq.$k.out"
done
expect_grep "^eval: shard 1/3: " "$TMP/seq.1.out" "a shard says which one it is"

# Three shards at the same time, as a job array runs them.
pids=""
for k in 0 1 2; do
    "$SR_BIN" eval -v --shard "$k/3" "$TMP/par" > "$TMP/par.$k.out" 2> "$TMP/par.$k.err" &
    pids="$pids $!"
done
bad=0
for p in $pids; do wait "$p" || bad=$((bad + 1)); done
if [ "$bad" -eq 0 ]; then pass "three concurrent shards exit 0"; else fail "$bad concurrent shards failed"; cat "$TMP"/par.*.err; fi

# Each checkpoint is measured exactly once: the shards' per-checkpoint lines
# partition the single run's, and their counts add up to its count.
measured() { grep -h '^eval: trial_' "$@" | sed 's/^eval: \([^:]*\):.*/\1/' | sort; }
measured "$TMP/one.out" > "$TMP/one.list"
for run in seq par; do
    measured "$TMP/$run".[012].out > "$TMP/$run.list"
    if [ -s "$TMP/one.list" ] && cmp -s "$TMP/one.list" "$TMP/$run.list"; then
        pass "$run: the shards measured each checkpoint exactly once ($(wc -l < "$TMP/one.list") in all)"
    else
        fail "$run: shards measured $(wc -l < "$TMP/$run.list") lines, a single run $(wc -l < "$TMP/one.list")"
        diff "$TMP/one.list" "$TMP/$run.list" | head -5
    fi
    empty=0
    for k in 0 1 2; do [ -n "$(measured "$TMP/$run.$k.out")" ] || empty=$((empty + 1)); done
    if [ "$empty" -eq 0 ]; then pass "$run: every shard had work"; else fail "$run: $empty shards measured nothing"; fi
    one=$(sed -n 's/.* \([0-9]*\) checkpoints* on .*weights measured for \([0-9]*\), samples measured for \([0-9]*\), \([0-9]*\) metrics.json.*/\1 \2 \3 \4/p' "$TMP/one.out")
    sum=$(cat "$TMP/$run".[012].out | sed -n 's/.* \([0-9]*\) checkpoints* on .*weights measured for \([0-9]*\), samples measured for \([0-9]*\), \([0-9]*\) metrics.json.*/\1 \2 \3 \4/p' |
        awk '{a += $1; b += $2; c += $3; d += $4} END {print a, b, c, d}')
    if [ -n "$one" ] && [ "$one" = "$sum" ]; then pass "$run: the shards' counts add up to the single run's ($one)"; else
        fail "$run: shard counts $sum, single run $one"; fi
    n=$(ls "$TMP/$run/.sweepreport/measurements" | grep -c '\.json$')
    if [ "$n" -eq "$(wc -l < "$TMP/one.list")" ]; then pass "$run: one store record per checkpoint"; else
        fail "$run: $n store records"; fi
    if ls -a "$TMP/$run/.sweepreport/measurements" "$TMP/$run/.sweepreport/thumbs" | grep -q '\.sweepreport-tmp-'; then
        fail "$run: temporary files left in the store"; else pass "$run: no temporary file left in the store"; fi
done

# Shards share the sweep's lock: a shard runs while another shard holds it
# (flock -s stands for one), where an unsharded eval or a render is refused;
# while a run holds it exclusively (flock -x), a shard is refused too.
if command -v flock > /dev/null 2>&1; then
    cp -a "$S" "$TMP/locked"
    mkdir -p "$TMP/locked/.sweepreport"
    expect_status 0 "eval --shard 0/2 while another shard holds the lock" -- \
        flock -s -n "$TMP/locked/.sweepreport/run.lock" "$SR_BIN" eval --shard 0/2 "$TMP/locked"
    expect_grep "^eval: shard 0/2: " "$TMP/out" "the shard did its work"
    expect_status 3 "eval (unsharded) while a shard holds the lock" -- \
        flock -s -n "$TMP/locked/.sweepreport/run.lock" "$SR_BIN" eval "$TMP/locked"
    expect_status 3 "render while a shard holds the lock" -- \
        flock -s -n "$TMP/locked/.sweepreport/run.lock" "$SR_BIN" render "$TMP/locked"
    expect_status 3 "eval --shard 1/2 while a run holds the lock" -- \
        flock -x -n "$TMP/locked/.sweepreport/run.lock" "$SR_BIN" eval --shard 1/2 "$TMP/locked"
    expect_grep "locked by" "$TMP/err" "the refused shard says who holds the lock"
else
    skip "shards share the lock" "no flock(1)"
fi

# A shard run again measures nothing.
expect_status 0 "eval --shard 2/3 again" -- "$SR_BIN" eval --shard 2/3 "$TMP/par"
expect_grep "weights measured for 0, samples measured for 0, 0 metrics.json" "$TMP/out" "a rerun of a shard measures nothing"

# render then gives the single run's report: summary.json and scan --json are
# the same document but for the sweep's path, the time and the fingerprint
# (which covers the path).
for run in one seq par; do
    expect_status 0 "render $run" -- "$SR_BIN" render -q "$TMP/$run"
    "$SR_BIN" scan --json -q "$TMP/$run" > "$TMP/$run.scan.json"
done
if [ -n "${SR_PYTHON:-}" ]; then
    if "$SR_PYTHON" - "$TMP" > "$TMP/py.out" 2>&1 <<'PY'
import json, os, sys
top = sys.argv[1]
def norm(x, root):
    if isinstance(x, dict):
        return {k: norm(v, root) for k, v in x.items() if k not in ("generated_at", "fingerprint")}
    if isinstance(x, list):
        return [norm(v, root) for v in x]
    if isinstance(x, str):
        return x.replace(root, "SWEEP")
    return x
def load(run, name):
    root = os.path.realpath(os.path.join(top, run))
    return norm(json.load(open(os.path.join(top, name))), root)
def metrics(doc):
    return {t["name"] + "/" + c["file"]: c["metrics"] for t in doc["trials"] for c in t["checkpoints"]}
for name in ("summary", "scan"):
    f = {"summary": "%s/sweepreport/summary.json", "scan": "%s.scan.json"}[name]
    one = load("one", f % "one")
    m = metrics(one)
    values = sum(len(v) for v in m.values())
    assert values > 100 and any("weight_drift" in v for v in m.values()), "too few metrics: %d" % values
    for run in ("seq", "par"):
        other = load(run, f % run)
        assert metrics(other) == m, "%s %s: metrics differ" % (run, name)
        assert other == one, "%s %s: documents differ in %s" % (run, name,
            [k for k in one if one.get(k) != other.get(k)])
    print("%s: %d metric values of %d checkpoints identical" % (name, values, len(m)))
PY
    then pass "summary.json and scan --json after shards equal the single run's ($(tr '\n' ';' < "$TMP/py.out"))"
    else fail "shards and single run differ: $(cat "$TMP/py.out")"; fi
else
    skip "summary.json after shards equals the single run's" "no python3"
fi

# --shard 0/1 is everything.
expect_status 0 "eval --shard 0/1 --force" -- "$SR_BIN" eval --force --shard 0/1 "$TMP/one"
n=$(wc -l < "$TMP/one.list")
expect_grep "weights measured for $n," "$TMP/out" "shard 0/1 measures all $n checkpoints"

# Usage errors.
for bad in 3/3 1/0 -1/3 1 a/3 1/3x "" 0/ /3 " 1/3" "1/ 3" +1/3 1/-3 2/1; do
    expect_status 2 "eval --shard '$bad'" -- "$SR_BIN" eval --shard "$bad" "$S"
    expect_grep "shard needs K/N" "$TMP/err" "--shard '$bad' is explained"
done
expect_status 2 "eval --shard without a value" -- "$SR_BIN" eval "$S" --shard

# Device lists: bad syntax is a usage error; devices that are not there are
# named with what exists.
expect_status 2 "eval --device cuda:0,,1" -- "$SR_BIN" eval --device cuda:0,,1 "$S"
expect_grep "unknown device 'cuda:0,,1'" "$TMP/err" "the bad list is named"
expect_status 2 "eval --device cuda:1,1" -- "$SR_BIN" eval --device cuda:1,1 "$S"
expect_grep "names cuda:1 twice" "$TMP/err" "a device listed twice is named"
expect_status 1 "eval --device cuda:0,999" -- "$SR_BIN" eval --device cuda:0,999 "$S"
expect_grep "^sweepreport: eval: cuda:0,999 requested but \(this build has no CUDA support\|no CUDA device found\|[0-9]* CUDA devices\? found\)" \
    "$TMP/err" "missing devices: what was asked and what exists"
if "$SR_BIN" eval -q --device cuda "$S" > /dev/null 2>&1; then
    expect_status 0 "eval --device cuda:all with a GPU" -- "$SR_BIN" eval --device cuda:all "$S"
    expect_grep "on cuda:0" "$TMP/out" "cuda:all uses the GPUs"
else
    expect_status 1 "eval --device cuda:all without a GPU" -- "$SR_BIN" eval --device cuda:all "$S"
    expect_grep "cuda:all requested but" "$TMP/err" "cuda:all without a GPU is explained"
fi
finish
