# shellcheck shell=bash
# What the deploy test scripts share (sourced by deploy/test-deploy.sh,
# deploy/test-ansible.sh and deploy/test-cross.sh): the counters, a line per
# check, sections, and the summary line each script ends with.
PASSED=0
FAILED=0
SKIPPED=0
FAILURES=()
ok() { PASSED=$((PASSED + 1)); echo "  ok: $*"; }
bad() { FAILED=$((FAILED + 1)); FAILURES+=("$*"); echo "  FAIL: $*"; }
skip() { SKIPPED=$((SKIPPED + 1)); echo "  skip: $*"; }
# check "what" command...: runs the command quietly, records the result, and
# shows the end of its output when it fails.
check() {
    local what=$1
    shift
    local out
    if out=$("$@" 2>&1); then
        ok "$what"
    else
        bad "$what"
        printf '%s\n' "$out" | sed 's/^/      | /' | tail -20
    fi
}
section() { printf '\n== %s\n' "$*"; }
# report NAME [TAIL]: the failures, then "NAME: N passed, N failed, N skipped
# TAIL"; its status is the script's verdict.
report() {
    local f
    for f in "${FAILURES[@]}"; do echo "  failed: $f"; done
    echo "$1: $PASSED passed, $FAILED failed, $SKIPPED skipped${2:-}"
    [ "$FAILED" -eq 0 ]
}
