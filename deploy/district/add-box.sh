#!/bin/sh
# Adds (or updates) a box's account on the district's broker, with the
# groups whose commands it may read; or, with --district, the district's
# own account. Writes NAME.secret (username/password, mode 600) in the
# current folder, to copy to the box as /etc/loa/district.secret.
#
#   sudo sh add-box.sh xa-an-binh huyen-x ven-bien
#   sudo sh add-box.sh --district
#
# LOA_MOSQUITTO_DIR: where passwd and acl are (/etc/mosquitto/loa).
# LOA_BOX_PASSWORD: the password to set (default: a new random one).
set -eu
dir="${LOA_MOSQUITTO_DIR:-/etc/mosquitto/loa}"
if [ "$#" -lt 1 ]; then
    echo "usage: add-box.sh BOX [GROUP...] | add-box.sh --district" >&2
    exit 2
fi
name="$1"
shift
if [ "$name" = "--district" ]; then
    name=district
fi
case "$name" in
    *[!a-z0-9-]*|'') echo "add-box.sh: \"$name\" is not a box name (a-z, 0-9 and '-')" >&2; exit 2 ;;
esac
for g in "$@"; do
    case "$g" in
        *[!a-z0-9-]*|'') echo "add-box.sh: \"$g\" is not a group name (a-z, 0-9 and '-')" >&2; exit 2 ;;
    esac
done
mkdir -p "$dir"
[ -f "$dir/acl" ] || cp "$(dirname "$0")/acl" "$dir/acl"
password="${LOA_BOX_PASSWORD:-$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')}"
if [ -f "$dir/passwd" ]; then
    mosquitto_passwd -b "$dir/passwd" "$name" "$password"
else
    mosquitto_passwd -c -b "$dir/passwd" "$name" "$password"
fi
# The box's group section, written anew (a second run changes nothing);
# the district's section is the shipped one, left as it is.
if [ "$name" = district ]; then
    set --
fi
tmp="$dir/acl.tmp.$$"
awk -v u="$name" '
    /^user / { skip = ($2 == u && u != "district") }
    !skip { print }
' "$dir/acl" > "$tmp"
if [ "$name" != district ] && [ "$#" -gt 0 ]; then
    {
        echo "user $name"
        for g in "$@"; do echo "topic read loa/group/$g/cmd"; done
    } >> "$tmp"
fi
mv "$tmp" "$dir/acl"
chmod 0640 "$dir/passwd" "$dir/acl" 2>/dev/null || true
# Mosquitto reads them after dropping to its own user (Debian: mosquitto).
chgrp mosquitto "$dir/passwd" "$dir/acl" 2>/dev/null || true
umask 077
printf 'username = "%s"\npassword = "%s"\n' "$name" "$password" > "$name.secret"
chmod 600 "$name.secret"
echo "$name: account set; credentials in $(pwd)/$name.secret (copy to the box as /etc/loa/district.secret, owner loa, mode 600). Reload the broker: sudo systemctl reload mosquitto"
