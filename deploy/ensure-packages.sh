#!/bin/sh
# Installs the Debian packages named on the command line that are missing,
# with apt-get (through sudo when not root). Used by the README's commands.
set -eu
missing=""
for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0
echo "loa: installing system packages:$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# An index that fails to download (a mirror in sync, often a foreign
# architecture's) does not stop the install when the packages can still come:
# apt-get install below fails, and says which, if they cannot.
$SUDO apt-get update -qq || echo "loa: apt-get update reported errors; trying anyway" >&2
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq $missing
