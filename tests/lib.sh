# lib.sh - shared helpers for the shell tests (sourced).
set -u
: "${SR_BIN:=./sweepreport}"
: "${SR_BUILDDIR:=.}"
TEST_NAME=$(basename "$0" .sh)
TMP="$SR_BUILDDIR/tests/tmp/$TEST_NAME-$$"
rm -rf "$TMP"
mkdir -p "$TMP"
trap 'rm -rf "$TMP"' EXIT
FAILED=0
PASSED=0

pass() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
fail() { FAILED=$((FAILED + 1)); echo "not ok - $*"; }
skip() { PASSED=$((PASSED + 1)); echo "ok - $1 # SKIP $2"; }

# expect_status CODE DESCRIPTION -- COMMAND...
expect_status() {
    want=$1; what=$2; shift 3
    "$@" > "$TMP/out" 2> "$TMP/err"
    got=$?
    if [ "$got" -eq "$want" ]; then pass "$what (exit $got)"; else
        fail "$what: exit $got, wanted $want"; sed 's/^/  stderr: /' "$TMP/err" | head -5; fi
}

# expect_grep PATTERN FILE DESCRIPTION
expect_grep() {
    if grep -q -- "$1" "$2"; then pass "$3"; else fail "$3: no '$1' in $2"; head -5 "$2" | sed 's/^/  /'; fi
}

# Output is TAP: one "ok"/"not ok" line per check, the plan at the end.
finish() {
    echo "1..$((PASSED + FAILED))"
    echo "# $PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ]
}
