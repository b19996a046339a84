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
# cached_base TARBALL INCLUDE: a Debian bookworm base system (debootstrap
# minbase with the packages INCLUDE names) cached as TARBALL, made once
# (in $TMP/bootstrap); false, showing debootstrap's last lines, when it
# cannot be made.
cached_base() {
    local out=$1 include=$2
    [ -f "$out" ] && return 0
    mkdir -p "$(dirname "$out")"
    echo "  debootstrap bookworm (minbase + $include), once; cached in $out"
    local bs=$TMP/bootstrap
    if debootstrap --variant=minbase --include="$include" bookworm "$bs" \
        http://deb.debian.org/debian >"$TMP/debootstrap.log" 2>&1; then
        tar -C "$bs" -cf "$out.part" . && mv "$out.part" "$out"
        rm -rf "$bs"
    else
        tail -5 "$TMP/debootstrap.log"
        return 1
    fi
}
