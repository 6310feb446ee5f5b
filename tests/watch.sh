#!/bin/sh
# watch.sh - run --watch: renders, sees a new checkpoint, renders again,
# stops cleanly on SIGTERM with exit status 0 and nothing half-written.
. "${SR_SRCDIR:-.}/tests/lib.sh"

S="$TMP/sweep"
O="$TMP/out-report"
"$SR_BIN" synth --trials 3 --epochs 4 --samples 2 --size 32 --rank 1 --seed 13 "$S" > /dev/null || exit 1

# waits up to 120 s for a file to hold a pattern
wait_for() {
    i=0
    while [ $i -lt 600 ]; do
        if grep -q -- "$1" "$2" 2>/dev/null; then return 0; fi
        sleep 0.2
        i=$((i + 1))
    done
    return 1
}

"$SR_BIN" run --watch 1 --settle 0 -o "$O" "$S" > "$TMP/watch.out" 2> "$TMP/watch.err" &
W=$!
if wait_for "report updated" "$TMP/watch.out" && [ -f "$O/index.html" ]; then pass "the first cycle writes the report"; else
    fail "no report: $(cat "$TMP/watch.out" "$TMP/watch.err")"; fi
n1=$(grep -c "report updated" "$TMP/watch.out")
# cycles with nothing new print nothing and leave the report alone
ino=$(stat -c %i "$O/index.html")
sleep 3
if [ "$(grep -c "report updated" "$TMP/watch.out")" -eq "$n1" ] && [ "$(stat -c %i "$O/index.html")" = "$ino" ]; then
    pass "idle cycles print nothing and render nothing"
else
    fail "idle cycles: $(cat "$TMP/watch.out")"
fi

# a new checkpoint appears
cp "$(ls "$S"/trial_0001/*-000002.safetensors)" "$S/trial_0001/lora_trial_1-000003.safetensors"
if wait_for "lora_trial_1-000003.safetensors" "$O/summary.json"; then pass "the report picked up the new checkpoint"; else
    fail "the new checkpoint never reached the report: $(cat "$TMP/watch.out" "$TMP/watch.err")"; fi
# (it measures two: the new checkpoint, and the one after it for its drift)
if wait_for "measured 2, report updated" "$TMP/watch.out"; then pass "one line for the cycle that measured and rendered"; else
    fail "cycle lines: $(cat "$TMP/watch.out")"; fi
if [ -n "${SR_PYTHON:-}" ] && [ -x "$SR_PYTHON" ]; then
    if "$SR_PYTHON" -c 'import json, sys; json.load(open(sys.argv[1]))' "$O/summary.json"; then
        pass "summary.json is whole JSON"; else fail "summary.json is not JSON"; fi
else
    skip "summary.json is whole JSON" "no python3"
fi

kill -TERM $W
wait $W
st=$?
if [ $st -eq 0 ]; then pass "SIGTERM: exit status 0"; else fail "SIGTERM: exit status $st"; fi
expect_grep "^stopped" "$TMP/watch.out" "it says it stopped"
if find "$TMP" -name '.*.sweepreport-tmp-*' -o -name '*.old-*' | grep -q .; then
    fail "temporary files left: $(find "$TMP" -name '.*.sweepreport-tmp-*' -o -name '*.old-*')"
else
    pass "no temporary file left"
fi
if grep -q "$(printf '\r')" "$TMP/watch.out" || grep -q "$(printf '\033')" "$TMP/watch.out"; then
    fail "escape codes in the log"; else pass "the log is plain lines"; fi
expect_status 0 "the lock is free after it stopped" -- "$SR_BIN" render -q -o "$O" "$S"

# SIGINT stops it the same way (once it is watching: its handler is in place)
"$SR_BIN" run --watch 1 --settle 0 -o "$O" "$S" > "$TMP/watch2.out" 2>&1 &
W=$!
wait_for "^watching " "$TMP/watch2.out"
kill -INT $W
wait $W
st=$?
if [ $st -eq 0 ]; then pass "SIGINT: exit status 0"; else fail "SIGINT: exit status $st"; fi

# SIGTERM while it waits for another holder's lock (--wait) stops the wait
if command -v flock > /dev/null 2>&1; then
    flock "$S/.sweepreport/run.lock" sleep 120 &
    F=$!
    i=0
    while flock -n "$S/.sweepreport/run.lock" true 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    "$SR_BIN" run --watch 1 --wait 100 --settle 0 -o "$O" "$S" > "$TMP/watch3.out" 2>&1 &
    W=$!
    wait_for "^watching " "$TMP/watch3.out"
    sleep 1
    kill -TERM $W
    i=0
    while kill -0 $W 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    if kill -0 $W 2>/dev/null; then
        fail "SIGTERM while waiting for the lock: still waiting after 10 s"
        kill -KILL $W
    else
        pass "SIGTERM while waiting for the lock ends the wait"
    fi
    wait $W
    if grep -q "trying again" "$TMP/watch3.out"; then fail "a stopped wait says it tries again: $(cat "$TMP/watch3.out")"; else
        pass "a stopped wait does not say it tries again"; fi
    kill $F 2>/dev/null
    wait $F 2>/dev/null
else
    skip "SIGTERM while waiting for the lock ends the wait" "no flock(1)"
fi
expect_status 2 "--watch 0 is a usage error" -- "$SR_BIN" run --watch 0 "$S"

# SIGTERM while it measures (a sampler that sleeps holds it there): the
# cycle line says the report was not updated, and names no report
H="$TMP/hold"
mkdir -p "$H/trial_0001"
ck=$(ls "$S"/trial_0001/*.safetensors | head -n 1)
cp -p "$ck" "$H/trial_0001/lora-000002.safetensors"
"$SR_BIN" run --watch 1 --settle 0 --sampler "sh -c 'sleep 3' hold {checkpoint} {outdir} {n}" -o "$TMP/hold-out" "$H" \
    > "$TMP/watch4.out" 2>&1 &
W=$!
if wait_for "^pid $W\$" "$H/.sweepreport/run.lock"; then
    sleep 0.5
    kill -TERM $W
    wait $W
    st=$?
    if [ $st -eq 0 ]; then pass "SIGTERM while measuring: exit status 0"; else fail "SIGTERM while measuring: exit status $st"; fi
    expect_grep "stopped before rendering, the report was not updated" "$TMP/watch4.out" "the cycle says the report was not updated"
    if grep -q "report unchanged\|recommended: nothing" "$TMP/watch4.out"; then fail "a false report line: $(cat "$TMP/watch4.out")"; else
        pass "no report line for a report that was not written"; fi
else
    fail "the watch never took the lock: $(cat "$TMP/watch4.out")"
    kill $W 2>/dev/null
fi
finish
