#!/usr/bin/env bash
# Tests the Ansible playbook (deploy/ansible) against two throwaway boxes on
# this machine: two Debian bookworm roots booted under real systemd
# (systemd-nspawn --boot), each with its own sshd on 127.0.0.1, reached over
# SSH with a throwaway key, as Ansible reaches a district's Pis.
#
#   sudo bash deploy/test-ansible.sh        (needs root: debootstrap, nspawn)
#
# 1. the example inventory parses (its vault values too) and the playbook
#    passes --syntax-check;
# 2. --check on the new boxes fails nothing (it says loa is not installed
#    yet and stops there); a first run sets both boxes up (changes on
#    each): the package, loa.toml from the inventory (a simulated relay and
#    ALSA's null device: no GPIO, no sound card here), the district
#    credentials (from vault-encrypted files) and CA, the upload account
#    (key and vaulted password), the time zone and NTP servers; loa
#    enabled, running, `loa check` passing; the upload account uploads over
#    SFTP with its key and gets no shell; the operator's login runs
#    `loa status` over SSH;
# 3. a second run changes nothing (changed=0 on every box);
# 4. with one box's zones changed in a copy of the inventory, --check --diff
#    shows that box's loa.toml diff alone and changes nothing;
# 5. applying it changes that box alone (changed=0 on the other): the new
#    zone in /etc/loa/loa.toml, loa restarted, the other box's loa not;
# 6. a config loa rejects (a zone on the amplifier's line) is not written:
#    the run fails on that box with loa's message, the old config and the
#    running service stay;
# 7. loa_start=false leaves a box configured but loa stopped and disabled
#    (the package's own state, until the relay is checked by hand), and the
#    next run without it starts loa again.
#
# Installs what it needs with apt-get (ansible-core, systemd-container,
# debootstrap, openssh-client, openssl) and builds the package
# (cargo build --release, cargo deb) when target/debian has none for this
# version. The boxes' base system (debootstrap minbase + python3,
# python3-apt, systemd, openssh-server...) is cached as a tarball in
# target/deploy-test/ (CARGO_TARGET_DIR is honoured). Ends with
# "ansible: N passed, N failed, N skipped"; exit status 1 on failure.
# LOA_ANSIBLE_KEEP=1 keeps the boxes' roots for a look afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
TARGET=${CARGO_TARGET_DIR:-target}
case "$TARGET" in /*) ;; *) TARGET=$REPO/$TARGET ;; esac

# shellcheck source=deploy/test-lib.sh
. deploy/test-lib.sh
expect_eq() { # expect_eq "what" actual expected
    if [ "$2" = "$3" ]; then ok "$1: $2"; else bad "$1: got '$2', expected '$3'"; fi
}
summary() {
    section "summary"
    report ansible " ($((SECONDS - START))s)"
}
START=$SECONDS

if [ "$(id -u)" -ne 0 ]; then
    echo "test-ansible.sh needs root (debootstrap, systemd-nspawn): sudo bash $0" >&2
    exit 2
fi

section "tools"
sh deploy/ensure-packages.sh ansible-core systemd-container debootstrap openssh-client openssl
echo "  $(ansible-playbook --version | head -1), $(systemd-nspawn --version | head -1)"

section "the package"
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
ARCH=$(dpkg --print-architecture)
DEB=$TARGET/debian/loa_${VERSION}-1_${ARCH}.deb
if [ ! -f "$DEB" ]; then
    echo "  no $DEB: building it (cargo build --release, cargo deb)"
    if ! command -v cargo-deb >/dev/null 2>&1; then
        cargo install cargo-deb --locked
    fi
    cargo build --release --locked
    cargo deb --no-build --locked >/dev/null
fi
[ -f "$DEB" ] || { echo "no package at $DEB" >&2; exit 1; }
echo "  $DEB ($(stat -c %s "$DEB") bytes)"

TMP=$(mktemp -d /tmp/loa-ansible.XXXXXX)
BOXES=() # "name:port:root:pid:ctpid"
cleanup() {
    local b name port root pid ct
    for b in "${BOXES[@]}"; do
        IFS=: read -r name port root pid ct <<<"$b"
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            [ -n "$ct" ] && nsenter -t "$ct" -a systemctl poweroff >/dev/null 2>&1 || true
            for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            if kill -0 "$pid" 2>/dev/null; then
                for p in $(pgrep -P "$pid" 2>/dev/null || true); do kill -KILL "$p" 2>/dev/null || true; done
                kill -KILL "$pid" 2>/dev/null || true
            fi
            wait "$pid" 2>/dev/null || true
        fi
        if [ "${LOA_ANSIBLE_KEEP:-0}" = 1 ]; then
            echo "kept $name's root: $root"
        else
            rm -rf "$root"
        fi
    done
    rm -rf "$TMP"
}
trap cleanup EXIT

# ---------------------------------------------------------------------------
section "1. the example inventory and the playbook"
cd "$REPO/deploy/ansible"
printf 'vi-du\n' >"$TMP/example-vault-pass"
export ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_HOST_KEY_CHECKING=False \
    ANSIBLE_PIPELINING=True ANSIBLE_PYTHON_INTERPRETER=auto_silent \
    ANSIBLE_LOCAL_TEMP=$TMP/ansible-local ANSIBLE_SSH_CONTROL_PATH_DIR=$TMP/cp \
    ANSIBLE_DEPRECATION_WARNINGS=False
if out=$(ansible-inventory -i inventory.example.yml --list --vault-password-file "$TMP/example-vault-pass" 2>&1) &&
    printf '%s' "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
hv = d["_meta"]["hostvars"]
assert sorted(hv) == ["loa-xa-an-binh", "loa-xa-hai-an", "loa-xa-tan-lap"], sorted(hv)
assert "__ansible_vault" in hv["loa-xa-tan-lap"]["loa_upload_accounts"][0]["password"]
assert len(hv["loa-xa-an-binh"]["loa_zones"]) == 3
' && ansible -i inventory.example.yml loa-xa-tan-lap --vault-password-file "$TMP/example-vault-pass" \
        -m ansible.builtin.debug -a 'msg={{ loa_upload_accounts[0].password }}' 2>&1 | grep -q 'Loa@TanLap2026'; then
    ok "inventory.example.yml: three boxes, its vault value decrypts"
else
    bad "inventory.example.yml"
    printf '%s\n' "$out" | tail -5 | sed 's/^/      | /'
fi
check "ansible-playbook --syntax-check site.yml" \
    ansible-playbook -i inventory.example.yml --vault-password-file "$TMP/example-vault-pass" --syntax-check site.yml
MODULES=$(grep -rhoE '^ *-? *[a-z0-9_]+\.[a-z0-9_]+\.[a-z0-9_]+:' roles site.yml | tr -d ' -' | sort -u)
if printf '%s\n' "$MODULES" | grep -v '^ansible\.builtin\.' | grep -q .; then
    bad "modules outside ansible.builtin: $(printf '%s\n' "$MODULES" | grep -v '^ansible\.builtin\.' | tr '\n' ' ')"
else
    ok "only ansible.builtin modules: $(printf '%s\n' "$MODULES" | sed 's/ansible.builtin.//; s/:$//' | tr '\n' ' ')"
fi
cd "$REPO"

# ---------------------------------------------------------------------------
section "two boxes: Debian roots booted with systemd-nspawn, sshd on 127.0.0.1"
CACHE=$TARGET/deploy-test
BASE_TAR=$CACHE/bookworm-ansible-v1.tar
INCLUDE=adduser,acl,libasound2,init-system-helpers,systemd,systemd-sysv,openssh-server,systemd-timesyncd,python3,python3-apt,fonts-dejavu-core,tzdata,sudo
if ! cached_base "$BASE_TAR" "$INCLUDE"; then
    bad "debootstrap failed (is Debian's archive reachable?)"
    summary
    exit 1
fi

ssh-keygen -q -t ed25519 -N '' -C ansible-test -f "$TMP/id_ansible"
ssh-keygen -q -t ed25519 -N '' -C tailen@van-phong -f "$TMP/id_tailen"
ssh-keygen -q -t ed25519 -N '' -C canbo@laptop -f "$TMP/id_canbo"
SSHOPTS=(-o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR)

# boot_box NAME PORT: a root from the base, root's key, an sshd on
# 127.0.0.1:PORT, booted under systemd-nspawn (the host's network, so that
# the sshd is reachable; nothing else listens).
boot_box() {
    local name=$1 port=$2 root pid ct=""
    root=$(mktemp -d "/tmp/loa-ansible-$name.XXXXXX")
    tar -C "$root" -xf "$BASE_TAR"
    echo "$name" >"$root/etc/hostname"
    rm -f "$root/usr/sbin/policy-rc.d"
    install -d -m 700 "$root/root/.ssh"
    install -m 600 "$TMP/id_ansible.pub" "$root/root/.ssh/authorized_keys"
    printf 'Port %s\nListenAddress 127.0.0.1\nPermitRootLogin prohibit-password\n' "$port" \
        >"$root/etc/ssh/sshd_config.d/00-test.conf"
    [ -f "$root/etc/ssh/ssh_host_ed25519_key" ] || chroot "$root" ssh-keygen -A >/dev/null
    timeout 1800 systemd-nspawn -q -D "$root" --boot --register=no --keep-unit -M "$name" \
        >"$TMP/nspawn-$name.log" 2>&1 </dev/null &
    pid=$!
    for _ in $(seq 1 100); do
        ct=$(pgrep -P "$(pgrep -P "$pid" | head -1)" -x systemd 2>/dev/null | head -1 || true)
        [ -z "$ct" ] && ct=$(pgrep -P "$pid" -x systemd 2>/dev/null | head -1 || true)
        [ -n "$ct" ] && break
        sleep 0.1
    done
    BOXES+=("$name:$port:$root:$pid:$ct")
    if [ -z "$ct" ]; then
        bad "$name: systemd-nspawn could not boot: $(tail -3 "$TMP/nspawn-$name.log" | tr '\n' ' ')"
        return 1
    fi
    for _ in $(seq 1 150); do
        ssh "${SSHOPTS[@]}" -i "$TMP/id_ansible" -p "$port" root@127.0.0.1 true 2>/dev/null && break
        sleep 0.2
    done
    if ssh "${SSHOPTS[@]}" -i "$TMP/id_ansible" -p "$port" root@127.0.0.1 true; then
        ok "$name booted (systemd pid $ct), sshd on 127.0.0.1:$port"
    else
        bad "$name: no sshd on 127.0.0.1:$port"
        return 1
    fi
}
# box_field NAME FIELD(3 root, 5 ct pid)
box_field() {
    local b
    for b in "${BOXES[@]}"; do
        [ "${b%%:*}" = "$1" ] && { echo "$b" | cut -d: -f"$2"; return; }
    done
}
in_box() { local ct; ct=$(box_field "$1" 5); shift; nsenter -t "$ct" -a "$@"; }
root_of() { box_field "$1" 3; }

A=xa-an-binh
B=xa-tan-lap
if ! boot_box "$A" 2231 || ! boot_box "$B" 2232; then
    summary
    exit 1
fi

# ---------------------------------------------------------------------------
section "the test district: inventory, vault, secrets"
W=$TMP/district
mkdir -p "$W/secrets"
printf 'thu-nghiem-%s\n' "$RANDOM$RANDOM" >"$W/vault-pass"
# The district's accounts as add-box.sh writes them, encrypted in place.
for box in "$A" "$B"; do
    printf 'username = "%s"\npassword = "mat-khau-%s"\n' "$box" "$box" >"$W/secrets/$box.secret"
    ansible-vault encrypt --vault-password-file "$W/vault-pass" "$W/secrets/$box.secret" >/dev/null 2>&1
done
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj "/CN=loa test district CA" -keyout "$W/secrets/ca.key" -out "$W/secrets/district-ca.crt" 2>/dev/null
UPLOAD_PASSWORD=$(ansible-vault encrypt_string --vault-password-file "$W/vault-pass" 'Tai-len-2026' 2>/dev/null |
    sed 's/^/              /')
# write_inventory FILE B_ZONES: B's zones as a YAML flow list.
write_inventory() {
    cat >"$1" <<EOF
all:
  children:
    huyen_thu:
      vars:
        ansible_host: 127.0.0.1
        ansible_user: root
        ansible_ssh_private_key_file: $TMP/id_ansible
        ansible_ssh_common_args: "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
        loa_deb_dir: $TARGET/debian
        loa_deb_version: "$VERSION-1"
        loa_timezone: Asia/Ho_Chi_Minh
        loa_ntp_servers: [ntp1.huyen-thu.example.vn, ntp2.huyen-thu.example.vn]
        loa_relay_backend: sim
        loa_relay_sim_file: /var/lib/loa/state/relay-sim.log
        loa_audio_device: "null"
        loa_station_province: "Tỉnh Thử Nghiệm"
        loa_district_broker: "mqtts://127.0.0.1:18883"
        loa_district_ca: $W/secrets/district-ca.crt
        loa_district_secret: "$W/secrets/{{ loa_district_box }}.secret"
        loa_upload_accounts:
          - name: tailen
            ssh_keys: ["$(cat "$TMP/id_tailen.pub")"]
            password: $UPLOAD_PASSWORD
      hosts:
        $A:
          ansible_port: 2231
          loa_district_box: $A
          loa_district_groups: [huyen-thu, ven-bien]
          loa_station_name: "Đài truyền thanh xã An Bình"
          loa_relay_line: 17
          loa_operators:
            - name: canbo
              ssh_keys: ["$(cat "$TMP/id_canbo.pub")"]
          loa_zones:
            - { name: thon-1, title: "Thôn Đông", line: 22 }
            - { name: thon-2, title: "Thôn Tây", line: 23 }
        $B:
          ansible_port: 2232
          loa_district_box: $B
          loa_district_groups: [huyen-thu]
          loa_station_name: "Đài truyền thanh xã Tân Lập"
          loa_relay_line: 27
          loa_relay_active_low: true
          loa_zones: $2
EOF
}
write_inventory "$W/inventory.yml" '[{ name: ap-1, title: "Ấp Phú Hòa", line: 5 }]'
write_inventory "$W/inventory-2.yml" '[{ name: ap-1, title: "Ấp Phú Hòa", line: 5 }, { name: ap-2, title: "Ấp Tân Thành", line: 6 }]'
write_inventory "$W/inventory-bad.yml" '[{ name: ap-1, title: "Ấp Phú Hòa", line: 5 }, { name: ap-2, title: "Ấp Tân Thành", line: 27 }]'
ok "inventory with two boxes; the secrets vault-encrypted"

# play NAME INVENTORY [ARGS...]: runs the playbook, its output in
# $TMP/NAME.log; sets RC and CHANGED_<box>/FAILED_<box> from the recap.
play() {
    local name=$1 inv=$2 t0=$SECONDS
    shift 2
    set +e
    (cd "$REPO/deploy/ansible" &&
        ansible-playbook -i "$inv" site.yml --vault-password-file "$W/vault-pass" "$@") >"$TMP/$name.log" 2>&1
    RC=$?
    set -e
    local box line
    for box in "$A" "$B"; do
        line=$(grep -E "^$box +: " "$TMP/$name.log" | tail -1 || true)
        printf -v "CHANGED_${box//-/_}" '%s' "$(sed -n 's/.*changed=\([0-9]*\).*/\1/p' <<<"$line")"
        printf -v "FAILED_${box//-/_}" '%s' "$(sed -n 's/.*failed=\([0-9]*\).*/\1/p' <<<"$line")"
    done
    echo "  run '$name' ($((SECONDS - t0)) s, exit $RC):"
    sed -n '/^PLAY RECAP/,$p' "$TMP/$name.log" | sed '/^$/d; s/^/      /'
}
changed() { local v="CHANGED_${1//-/_}"; echo "${!v:-?}"; }
failed() { local v="FAILED_${1//-/_}"; echo "${!v:-?}"; }
# The tasks that reported a change, with their host.
changed_tasks() {
    awk '/^(TASK|RUNNING HANDLER) \[/ { t = $0; sub(/ \*+$/, "", t) } /^changed: \[/ { print t ": " $0 }' "$TMP/$1.log"
}
show_failures() {
    grep -E '^(fatal|failed):|FAILED!|"msg"' "$TMP/$1.log" | head -20 | sed 's/^/      | /'
}
invocation() { in_box "$1" systemctl show loa -p InvocationID --value; }

# ---------------------------------------------------------------------------
section "2. --check on boxes never set up, then a first run sets them up"
play check0 "$W/inventory.yml" --check --diff
if [ "$RC" -eq 0 ] && [ "$(failed "$A")" = 0 ] && [ "$(failed "$B")" = 0 ] &&
    grep -q 'loa is not installed on' "$TMP/check0.log"; then
    ok "--check on new boxes: says loa is not installed yet, fails nothing"
else
    bad "--check on new boxes (exit $RC)"
    show_failures check0
fi
expect_eq "$A: still no loa after --check" "$(in_box "$A" dpkg-query -W -f='${Status}' loa 2>/dev/null || echo none)" none
play run1 "$W/inventory.yml"
if [ "$RC" -eq 0 ] && [ "$(failed "$A")" = 0 ] && [ "$(failed "$B")" = 0 ]; then
    ok "first run succeeds"
else
    bad "first run failed (exit $RC)"
    show_failures run1
fi
for box in "$A" "$B"; do
    [ "$(changed "$box")" -gt 0 ] 2>/dev/null && ok "$box: changed=$(changed "$box") on the first run" ||
        bad "$box: changed=$(changed "$box") on the first run"
    expect_eq "$box: loa enabled" "$(in_box "$box" systemctl is-enabled loa 2>&1)" enabled
    expect_eq "$box: loa running" "$(in_box "$box" systemctl is-active loa 2>&1)" active
    check "$box: loa check passes (as user loa)" in_box "$box" runuser -u loa -- loa check
    expect_eq "$box: package version" "$(in_box "$box" dpkg-query -W -f='${Version}' loa)" "$VERSION-1"
    expect_eq "$box: /etc/timezone" "$(cat "$(root_of "$box")/etc/timezone")" Asia/Ho_Chi_Minh
    expect_eq "$box: /etc/localtime" "$(readlink "$(root_of "$box")/etc/localtime")" ../usr/share/zoneinfo/Asia/Ho_Chi_Minh
    if grep -qx 'NTP=ntp1.huyen-thu.example.vn ntp2.huyen-thu.example.vn' "$(root_of "$box")/etc/systemd/timesyncd.conf.d/loa.conf" 2>/dev/null; then
        ok "$box: NTP servers in timesyncd.conf.d/loa.conf"
    else
        bad "$box: NTP servers not in timesyncd.conf.d/loa.conf"
    fi
    expect_eq "$box: timesyncd enabled" "$(in_box "$box" systemctl is-enabled systemd-timesyncd 2>&1)" enabled
    expect_eq "$box: district.secret" "$(in_box "$box" stat -c '%U:%G %a' /etc/loa/district.secret 2>&1)" "loa:loa 600"
    expect_eq "$box: district.secret decrypted" "$(head -1 "$(root_of "$box")/etc/loa/district.secret")" "username = \"$box\""
    check "$box: district CA in place" cmp "$W/secrets/district-ca.crt" "$(root_of "$box")/etc/loa/district-ca.crt"
    expect_eq "$box: upload account" "$(in_box "$box" id tailen 2>&1 | sed 's/[0-9]*//g')" \
        "uid=(tailen) gid=(loa-upload) groups=(loa-upload),(loa-sftp)"
    hash=$(in_box "$box" getent shadow tailen | cut -d: -f2)
    [ "${hash#\$6\$}" != "$hash" ] && ok "$box: the upload account's password is set (SHA-512 crypt)" ||
        bad "$box: the upload account's password hash is '$hash'"
done
python3 - "$(root_of "$A")/etc/loa/loa.toml" "$(root_of "$B")/etc/loa/loa.toml" >"$TMP/toml.out" 2>&1 <<'EOF' &&
import sys, tomllib
a = tomllib.load(open(sys.argv[1], "rb"))
b = tomllib.load(open(sys.argv[2], "rb"))
assert a["relay"]["line"] == 17 and a["relay"]["active-low"] is False, a["relay"]
assert b["relay"]["line"] == 27 and b["relay"]["active-low"] is True, b["relay"]
assert a["relay"]["backend"] == b["relay"]["backend"] == "sim"
assert [z["name"] for z in a["zone"]] == ["thon-1", "thon-2"] and a["zone"][0]["title"] == "Thôn Đông"
assert [z["name"] for z in b["zone"]] == ["ap-1"] and b["zone"][0]["title"] == "Ấp Phú Hòa"
assert a["district"]["box"] == "xa-an-binh" and a["district"]["groups"] == ["huyen-thu", "ven-bien"]
assert b["district"]["box"] == "xa-tan-lap" and b["district"]["groups"] == ["huyen-thu"]
assert a["district"]["credentials"] == "/etc/loa/district.secret"
assert a["station"]["name"] == "Đài truyền thanh xã An Bình", a["station"]
EOF
    ok "each box's loa.toml: its relay line, zones, district box name and groups" ||
    { bad "the boxes' loa.toml"; sed 's/^/      | /' "$TMP/toml.out"; }

# The upload account, as the commune office uses it: SFTP with its key.
printf 'put %s ban-tin-thu.mp3\nls\n' "$REPO/audio/nhac-hieu.mp3" >"$TMP/sftp-batch"
if sftp "${SSHOPTS[@]}" -i "$TMP/id_tailen" -P 2231 -b "$TMP/sftp-batch" tailen@127.0.0.1 >"$TMP/sftp.log" 2>&1 &&
    [ -f "$(root_of "$A")/var/lib/loa/audio/ban-tin-thu.mp3" ]; then
    ok "$A: the upload account uploads over SFTP with its key (into /var/lib/loa/audio)"
else
    bad "$A: SFTP upload with the key"
    sed 's/^/      | /' "$TMP/sftp.log" | tail -5
fi
if out=$(ssh "${SSHOPTS[@]}" -i "$TMP/id_tailen" -p 2231 tailen@127.0.0.1 id 2>&1) && printf '%s' "$out" | grep -q uid=; then
    bad "$A: the upload account ran a command: $out"
else
    ok "$A: the upload account gets no shell"
fi
rm -f "$(root_of "$A")/var/lib/loa/audio/ban-tin-thu.mp3"
expect_eq "$A: operator's login" "$(in_box "$A" id -nG canbo 2>&1 | tr ' ' '\n' | sort | tr '\n' ' ')" "canbo loa loa-upload "
if out=$(ssh "${SSHOPTS[@]}" -i "$TMP/id_canbo" -p 2231 canbo@127.0.0.1 loa status 2>&1); then
    ok "$A: the operator signs in with the key and runs loa status"
else
    bad "$A: the operator's loa status over SSH"
    printf '%s\n' "$out" | sed 's/^/      | /' | tail -5
fi

# ---------------------------------------------------------------------------
section "3. second run: nothing changes"
INV_A=$(invocation "$A")
INV_B=$(invocation "$B")
play run2 "$W/inventory.yml"
[ "$RC" -eq 0 ] && ok "second run succeeds" || { bad "second run failed (exit $RC)"; show_failures run2; }
for box in "$A" "$B"; do
    expect_eq "$box: changed on the second run" "$(changed "$box")" 0
done
expect_eq "$A: loa not restarted" "$(invocation "$A")" "$INV_A"
expect_eq "$B: loa not restarted" "$(invocation "$B")" "$INV_B"
changed_tasks run2 | sed 's/^/      | /'


# ---------------------------------------------------------------------------
section "4. $B's zones changed: --check --diff shows it and changes nothing"
SUM_B=$(sha256sum <"$(root_of "$B")/etc/loa/loa.toml")
play check3 "$W/inventory-2.yml" --check --diff
[ "$RC" -eq 0 ] && ok "--check --diff succeeds" || { bad "--check --diff failed (exit $RC)"; show_failures check3; }
expect_eq "$A: changed in --check" "$(changed "$A")" 0
changed_tasks check3 | sed 's/^/      /'
[ "$(changed "$B")" -gt 0 ] 2>/dev/null && ok "$B: changed=$(changed "$B") in --check (would change)" ||
    bad "$B: changed=$(changed "$B") in --check"
expect_eq "diffs of loa.toml shown" "$(grep -c '^--- before: /etc/loa/loa.toml' "$TMP/check3.log")" 1
if grep -q '^+name = "ap-2"' "$TMP/check3.log" && grep -q '^+title = "Ấp Tân Thành"' "$TMP/check3.log"; then
    ok "the diff shows $B's new zone"
else
    bad "the diff does not show the new zone"
fi
# Which host each diff belongs to: the task's result line right after it.
if awk '/^--- before: \/etc\/loa\/loa.toml/ { d = 1 } d && /^(changed|ok): \[/ { print; exit }' "$TMP/check3.log" |
    grep -q "^changed: \[$B\]"; then
    ok "the loa.toml diff is $B's"
else
    bad "the loa.toml diff is not $B's"
fi
grep -A12 '^--- before: /etc/loa/loa.toml' "$TMP/check3.log" | sed 's/^/      /'
expect_eq "$B: loa.toml untouched by --check" "$(sha256sum <"$(root_of "$B")/etc/loa/loa.toml")" "$SUM_B"
expect_eq "$B: loa not restarted by --check" "$(invocation "$B")" "$INV_B"

# ---------------------------------------------------------------------------
section "5. applied: $B alone changes"
play run4 "$W/inventory-2.yml"
[ "$RC" -eq 0 ] && ok "the run succeeds (loa check passes on both)" || { bad "run failed (exit $RC)"; show_failures run4; }
expect_eq "$A: changed" "$(changed "$A")" 0
[ "$(changed "$B")" -gt 0 ] 2>/dev/null && ok "$B: changed=$(changed "$B")" || bad "$B: changed=$(changed "$B")"
changed_tasks run4 | sed 's/^/      /'
if grep -q '^name = "ap-2"' "$(root_of "$B")/etc/loa/loa.toml"; then
    ok "$B: /etc/loa/loa.toml has the new zone ap-2"
else
    bad "$B: /etc/loa/loa.toml lacks the new zone"
fi
[ "$(invocation "$B")" != "$INV_B" ] && ok "$B: loa was restarted" || bad "$B: loa was not restarted"
expect_eq "$B: loa running" "$(in_box "$B" systemctl is-active loa)" active
expect_eq "$A: loa not restarted" "$(invocation "$A")" "$INV_A"
if in_box "$B" runuser -u loa -- loa relay status 2>&1 | grep -q 'ap-2'; then
    ok "$B: the running service knows zone ap-2 (loa relay status)"
else
    bad "$B: loa relay status does not show ap-2"
    in_box "$B" runuser -u loa -- loa relay status 2>&1 | sed 's/^/      | /' | head -8
fi

# ---------------------------------------------------------------------------
section "6. a config loa rejects is not written"
SUM_B=$(sha256sum <"$(root_of "$B")/etc/loa/loa.toml")
INV_B=$(invocation "$B")
play bad5 "$W/inventory-bad.yml" --limit "$B"
[ "$RC" -ne 0 ] && [ "$(failed "$B")" = 1 ] && ok "the run fails on $B (exit $RC)" ||
    bad "the run did not fail on $B (exit $RC, failed=$(failed "$B"))"
if grep -q 'failed to validate' "$TMP/bad5.log" && grep -q 'ap-2' "$TMP/bad5.log" &&
    grep -qE 'ampli|amplifier' "$TMP/bad5.log"; then
    ok "with loa's message (a zone on the amplifier's line)"
    grep -E '(lỗi|error): .*ap-2' "$TMP/bad5.log" | head -1 | sed 's/^ *-* */      /' || true
else
    bad "no loa message in the failure"
    show_failures bad5
fi
expect_eq "$B: the old loa.toml kept" "$(sha256sum <"$(root_of "$B")/etc/loa/loa.toml")" "$SUM_B"
expect_eq "$B: loa not restarted" "$(invocation "$B")" "$INV_B"
expect_eq "$B: loa running" "$(in_box "$B" systemctl is-active loa)" active

# ---------------------------------------------------------------------------
section "7. loa_start=false: configured, stopped and not enabled, then started again"
play stop6 "$W/inventory-2.yml" --limit "$B" -e loa_start=false
[ "$RC" -eq 0 ] && ok "the run succeeds (loa check passes with the service stopped)" ||
    { bad "run failed (exit $RC)"; show_failures stop6; }
changed_tasks stop6 | sed 's/^/      /'
expect_eq "$B: loa enabled" "$(in_box "$B" systemctl is-enabled loa 2>&1)" disabled
expect_eq "$B: loa running" "$(in_box "$B" systemctl is-active loa 2>&1)" inactive
play start6 "$W/inventory-2.yml" --limit "$B"
[ "$RC" -eq 0 ] && ok "started again by the next run (changed=$(changed "$B"))" ||
    { bad "run failed (exit $RC)"; show_failures start6; }
expect_eq "$B: loa enabled" "$(in_box "$B" systemctl is-enabled loa 2>&1)" enabled
expect_eq "$B: loa running" "$(in_box "$B" systemctl is-active loa 2>&1)" active

summary
