#!/bin/sh
# shared.sh - a sweep and a report folder that a group shares: new files and
# folders follow the umask, a report folder prepared for a team keeps its
# modes and group, another user's lock file still locks, and an output
# folder that cannot be swapped in is refused before anything is done.
. "${SR_SRCDIR:-.}/tests/lib.sh"

S="$TMP/sweep"
"$SR_BIN" synth --trials 2 --epochs 4 --samples 2 --size 32 --rank 1 --seed 3 "$S" > /dev/null || exit 1
mode() { stat -c %a "$1"; }

# ---- umask 002: what the run creates stays open to the group --------------------
(umask 002 && "$SR_BIN" run -q "$S" > "$TMP/out" 2> "$TMP/err")
st=$?
if [ $st -eq 0 ]; then pass "run under umask 002 (exit 0)"; else fail "run under umask 002: exit $st"; fi
for d in "$S/.sweepreport" "$S/.sweepreport/measurements" "$S/sweepreport" "$S/sweepreport/charts"; do
    if [ "$(mode "$d")" = 775 ]; then pass "${d#"$TMP"/} is 775"; else fail "${d#"$TMP"/} is $(mode "$d"), not 775"; fi
done
for f in "$S/.sweepreport/run.lock" "$S/sweepreport/summary.json"; do
    if [ "$(mode "$f")" = 664 ]; then pass "${f#"$TMP"/} is 664"; else fail "${f#"$TMP"/} is $(mode "$f"), not 664"; fi
done

# ---- a report folder prepared for a team keeps its modes and group ---------------
T="$TMP/team-report"
mkdir "$T"
chmod 2770 "$T"
group=$(id -gn)
if [ "$(id -u)" -eq 0 ] && getent group users > /dev/null 2>&1; then
    chgrp users "$T"
    group=users
fi
expect_status 0 "render into a prepared team folder" -- "$SR_BIN" render -o "$T" "$S"
if [ "$(mode "$T")" = 2770 ] && [ "$(stat -c %G "$T")" = "$group" ]; then
    pass "the report folder kept its modes and group"
else
    fail "the report folder became $(mode "$T") $(stat -c %G "$T") (was 2770 $group)"
fi
expect_status 0 "render into it again" -- "$SR_BIN" render --force -o "$T" "$S"
if [ "$(mode "$T")" = 2770 ]; then pass "and again"; else fail "the second render made it $(mode "$T")"; fi

# ---- another user ---------------------------------------------------------------
if [ "$(id -u)" -ne 0 ] || ! command -v setpriv > /dev/null 2>&1; then
    skip "another user's lock file still locks" "not root, or no setpriv"
    skip "a sweep one cannot write" "not root, or no setpriv"
    skip "an output folder in a folder one cannot write is refused at once" "not root, or no setpriv"
    finish
    exit $?
fi
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }
chmod -R a+rX "$S"
PUB="$TMP/pub"
mkdir -m 777 "$PUB"
if ! as_nobody test -r "$S/optuna_study.db"; then
    skip "another user's lock file still locks" "the test folder is not readable by others"
    skip "a sweep one cannot write" "the test folder is not readable by others"
    skip "an output folder in a folder one cannot write is refused at once" "the test folder is not readable by others"
    finish
    exit $?
fi
# the lock file is root's (umask 022), and root holds it: nobody cannot write
# it, but it locks all the same
chmod 644 "$S/.sweepreport/run.lock"
ck=$(ls "$S"/trial_0001/*-000002.safetensors)
mkdir -p "$TMP/hold/trial_0001"
cp -p "$ck" "$TMP/hold/trial_0001/lora-000002.safetensors"
chmod -R a+rX "$TMP/hold"
"$SR_BIN" run -q --sampler "sh -c 'sleep 4' holder {checkpoint} {outdir} {n}" "$TMP/hold" > /dev/null 2>&1 &
holder=$!
i=0
while [ $i -lt 100 ] && ! grep -q "^pid $holder\$" "$TMP/hold/.sweepreport/run.lock" 2> /dev/null; do
    sleep 0.1
    i=$((i + 1))
done
chmod 644 "$TMP/hold/.sweepreport/run.lock"
expect_status 3 "another user's render while the lock is held" -- as_nobody "$SR_BIN" render -o "$PUB/out" "$TMP/hold"
expect_grep "locked by pid $holder" "$TMP/err" "another user's lock file still locks, and names its holder"
wait $holder

# a sweep one cannot write: run says how to report on it, and render does
expect_status 1 "another user's run on a sweep they cannot write" -- as_nobody "$SR_BIN" run -o "$PUB/ro" "$S"
expect_grep "run.lock: cannot open: Permission denied (measuring writes into the sweep: render -o DIR reports on a sweep you cannot write)" \
    "$TMP/err" "the message says why and what to do instead"
expect_status 0 "their render of it elsewhere" -- as_nobody "$SR_BIN" render -o "$PUB/ro" "$S"
# ... also where its store folder is there but holds no lock file yet
rm "$S/.sweepreport/run.lock"
chmod 755 "$S/.sweepreport"
expect_status 0 "their render of it when it has no lock file" -- as_nobody "$SR_BIN" render --force -o "$PUB/ro" "$S"
# a report folder of their own that they made read-only is replaced all the same
chmod 555 "$PUB/ro"
expect_status 0 "their render into their read-only report folder" -- as_nobody "$SR_BIN" render --force -o "$PUB/ro" "$S"
if [ "$(mode "$PUB/ro")" = 555 ] && [ -z "$(ls -A "$PUB" | grep sweepreport-tmp)" ]; then
    pass "it stays read-only, and nothing is left beside it"; else fail "after it: $(mode "$PUB/ro"), $(ls -A "$PUB")"; fi

# an output folder whose folder cannot be written: refused before anything
mkdir -m 755 "$TMP/closed"
mkdir -m 777 "$TMP/closed/out"
expect_status 2 "render into a folder inside one that cannot be written" -- as_nobody "$SR_BIN" render -o "$TMP/closed/out" "$S"
expect_grep "closed/out: the report is written beside it and swapped in, but .*closed cannot be written (Permission denied)" \
    "$TMP/err" "an output folder in a folder one cannot write is refused at once, saying why"
if [ -z "$(ls -A "$TMP/closed/out")" ]; then pass "and nothing was written"; else fail "it wrote into the folder"; fi

finish
