#!/bin/sh
# cli.sh - the command line: help, version, exit codes, one-line errors.
. "${SR_SRCDIR:-.}/tests/lib.sh"

expect_status 0 "--version" -- "$SR_BIN" --version
if grep -Eq '^sweepreport [0-9]+\.[0-9]+\.[0-9]+$' "$TMP/out"; then pass "version format"; else fail "version format: $(cat "$TMP/out")"; fi

expect_status 0 "--help" -- "$SR_BIN" --help
for cmd in scan eval render run inspect demo synth; do
    expect_grep "^  $cmd " "$TMP/out" "--help lists $cmd"
done
for cmd in scan eval render run inspect demo synth; do
    expect_status 0 "$cmd --help" -- "$SR_BIN" "$cmd" --help
    expect_grep "^Usage: sweepreport $cmd" "$TMP/out" "$cmd --help shows its usage"
done

expect_status 2 "no command" -- "$SR_BIN"
expect_status 2 "unknown command" -- "$SR_BIN" frobnicate
expect_grep "unknown command 'frobnicate'" "$TMP/err" "unknown command is named"
expect_status 2 "unknown global option" -- "$SR_BIN" --frob
expect_status 2 "scan without a sweep" -- "$SR_BIN" scan
expect_status 2 "scan with two sweeps" -- "$SR_BIN" scan a b
expect_status 2 "scan with an unknown option" -- "$SR_BIN" scan --frob x
expect_grep "Try 'sweepreport scan --help'" "$TMP/err" "usage errors point to --help"
expect_status 2 "synth with a bad --trials" -- "$SR_BIN" synth --trials zero "$TMP/s"
expect_status 2 "synth with --rank 0" -- "$SR_BIN" synth --rank 0 "$TMP/s"
expect_status 2 "synth with a missing value" -- "$SR_BIN" synth "$TMP/s" --seed

# A missing sweep: exit 1 and one line naming the folder and the reason.
expect_status 1 "scan of a missing folder" -- "$SR_BIN" scan "$TMP/missing"
if [ "$(wc -l < "$TMP/err")" -eq 1 ] && grep -q "$TMP/missing: cannot open the sweep folder: No such file" "$TMP/err"; then
    pass "one-line error names the folder and the reason"
else
    fail "error line: $(cat "$TMP/err")"
fi
echo x > "$TMP/file"
expect_status 1 "scan of a file" -- "$SR_BIN" scan --json "$TMP/file"
expect_grep "not a folder" "$TMP/err" "a file is not a sweep"

# --study and --study-name reach the scan: a storage that is not there is a problem, not a failure.
mkdir -p "$TMP/sw/trial_0001"
expect_status 0 "scan --study with a missing storage" -- "$SR_BIN" scan --json --study "$TMP/none.db" --study-name x "$TMP/sw"
expect_grep "$TMP/none.db: no such Optuna storage" "$TMP/err" "the missing storage is named"
expect_status 2 "scan --study without a value" -- "$SR_BIN" scan "$TMP/sw" --study

# synth refuses to write into a folder that has something in it.
mkdir -p "$TMP/full" && echo x > "$TMP/full/keep"
expect_status 1 "synth into a non-empty folder" -- "$SR_BIN" synth "$TMP/full"
if [ "$(cat "$TMP/full/keep")" = x ] && [ "$(ls "$TMP/full")" = keep ]; then pass "nothing was written"; else fail "the folder was changed"; fi


finish
