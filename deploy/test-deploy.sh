#!/usr/bin/env bash
# Tests the deployment of loa: the systemd unit, the Debian package and its
# maintainer scripts, the sshd snippet for the SFTP upload account.
#
#   sudo bash deploy/test-deploy.sh        (needs root: dpkg --root, chroot)
#
# 1. builds loa and the package (cargo build --release, cargo deb);
# 2. the unit: `systemd-analyze verify` (offline, in a root holding the real
#    binary), the directives the issue requires, `systemd-analyze security
#    --offline=yes` (prints the score; fails above 2.0);
# 3. the package: `dpkg-deb -I`, `dpkg-deb -c`, lintian (fails on errors),
#    the packaged config against config/loa.toml;
# 4. the sshd snippet: `sshd -t` with Debian's sshd_config;
# 5. a throwaway Debian bookworm root (debootstrap, cached as a tarball under
#    target/deploy-test/): install (user, groups, folders, ACLs, conffile,
#    not enabled), `systemd-analyze verify` there, the service run as the
#    unit runs it (user loa, umask 0007, its groups) with an operator using
#    the control socket and the as-run log, the SFTP-only account through a
#    real sshd on 127.0.0.1, reinstall (upgrade path), remove (data kept),
#    purge (data deleted);
# 6. under real systemd: a second root with the package booted in
#    systemd-nspawn, the unit's sandbox in force: READY, watchdog pings, the
#    operator's socket, ingest, a scheduled broadcast (null sound card,
#    simulated relay), the clock query through the syscall filter,
#    ExecStopPost after SIGKILL, a hung loop killed by the watchdog, restarts;
# 7. cross-building: checks .cargo/config.toml; with LOA_DEPLOY_CROSS=1 also
#    runs deploy/test-cross.sh's build and unit steps (the aarch64 and armv7
#    packages, the unit tests under qemu-user).
#
# Installs what it needs with apt-get (systemd, openssh-server, lintian,
# debootstrap, acl, systemd-container) and cargo-deb with `cargo install`
# when missing. Debian's archive must be reachable the first time (the base
# system for the throwaway roots is then cached in target/deploy-test/).
# Ends with "deploy: N passed, N failed, N skipped"; exit status 1 on failure.
# LOA_DEPLOY_KEEP=1 keeps the throwaway root for a look afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=deploy/test-lib.sh
. deploy/test-lib.sh

if [ "$(id -u)" -ne 0 ]; then
    echo "test-deploy.sh needs root (dpkg --root, chroot, debootstrap): sudo bash $0" >&2
    exit 2
fi

section "tools"
# (An index that fails to download, a mirror in sync, does not stop it when
# the packages can still come.)
sh deploy/ensure-packages.sh pkg-config libasound2-dev systemd openssh-server lintian debootstrap acl
if ! command -v cargo-deb >/dev/null 2>&1; then
    echo "installing cargo-deb (cargo install cargo-deb --locked)"
    cargo install cargo-deb --locked
fi
echo "  $(cargo deb --version), $(systemd-analyze --version | head -1), $(sshd -V 2>&1 | head -1)"

section "build"
cargo build --release --locked
cargo deb --no-build --locked >/dev/null
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
ARCH=$(dpkg --print-architecture)
DEB=target/debian/loa_${VERSION}-1_${ARCH}.deb
[ -f "$DEB" ] || { echo "no package at $DEB" >&2; exit 1; }
DEB_SIZE=$(stat -c %s "$DEB")
INSTALLED_KB=$(dpkg-deb -f "$DEB" Installed-Size)
echo "  $DEB: $DEB_SIZE bytes ($((DEB_SIZE / 1024)) KiB), installed $INSTALLED_KB KiB"

TMP=$(mktemp -d)
ROOT=""
SSHD_PID=""
SERVICE_PID=""
cleanup() {
    [ -n "$SSHD_PID" ] && kill "$SSHD_PID" 2>/dev/null || true
    [ -n "$SERVICE_PID" ] && kill "$SERVICE_PID" 2>/dev/null || true
    if [ -n "$ROOT" ]; then
        mountpoint -q "$ROOT/proc" && umount "$ROOT/proc" || true
        if [ "${LOA_DEPLOY_KEEP:-0}" = 1 ]; then
            echo "kept the throwaway root: $ROOT"
        else
            rm -rf "$ROOT"
        fi
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT

# ---------------------------------------------------------------------------
section "the unit: deploy/loa.service"
UNIT=deploy/loa.service
for d in 'Type=notify' 'WatchdogSec=' 'Restart=always' 'User=loa' \
    'SupplementaryGroups=audio gpio' 'ExecStopPost=/usr/bin/loa relay off' \
    'NoNewPrivileges=yes' 'ProtectSystem=strict' 'ReadWritePaths=/var/lib/loa/audio /var/lib/loa/playlists /var/lib/loa/state' \
    'ProtectHome=yes' 'PrivateTmp=yes' 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK' \
    'DevicePolicy=closed' 'DeviceAllow=char-alsa rw' 'DeviceAllow=char-gpiochip rw'; do
    if grep -q "^$d" "$UNIT"; then ok "has $d"; else bad "missing $d"; fi
done
# verify offline: a root holding the real binary, the helpers the unit
# names and this machine's own units (sysinit.target…). Any message fails.
VROOT=$TMP/verify-root
mkdir -p "$VROOT/usr/bin" "$VROOT/usr/lib/systemd"
ln -s usr/bin "$VROOT/bin"
cp -a /usr/lib/systemd/system "$VROOT/usr/lib/systemd/"
cp target/release/loa "$(type -P kill)" "$(type -P sh)" "$VROOT/usr/bin/"
cp "$UNIT" "$VROOT/usr/lib/systemd/system/loa.service"
if out=$(systemd-analyze verify --man=no --root="$VROOT" loa.service 2>&1) && [ -z "$out" ]; then
    ok "systemd-analyze verify: no message"
else
    bad "systemd-analyze verify"
    printf '%s\n' "$out" | sed 's/^/      | /'
fi
SECURITY=$(systemd-analyze security --offline=yes --no-pager "$UNIT" 2>&1 || true)
printf '%s\n' "$SECURITY" | grep -E '^✗' | sed 's/  */ /g; s/^/      /' || true
SCORE=$(printf '%s\n' "$SECURITY" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) \([A-Z]*\).*/\1 \2/p')
echo "  systemd-analyze security: ${SCORE:-?}"
# The limit was 2.0 until the live relays and the district link (issues 15
# and 16) gave the unit the network (AF_INET/AF_INET6, no PrivateNetwork,
# no IPAddressDeny: 0.5 together); loa still listens on no network port.
if [ -n "$SCORE" ] && awk -v s="${SCORE%% *}" 'BEGIN { exit !(s <= 2.5) }'; then
    ok "exposure ${SCORE} (at most 2.5)"
else
    bad "exposure ${SCORE:-unknown} above 2.5"
fi

# ---------------------------------------------------------------------------
section "the package: $DEB"
INFO=$(dpkg-deb -I "$DEB")
CONTENTS=$(dpkg-deb -c "$DEB")
printf '%s\n' "$INFO" | sed 's/^/      /'
for f in ./usr/bin/loa ./usr/lib/systemd/system/loa.service ./etc/loa/loa.toml \
    ./etc/loa/tts-abbreviations.toml ./usr/share/loa/district/acl \
    ./usr/share/loa/sshd/loa-upload.conf ./usr/lib/udev/rules.d/60-loa-gpio.rules \
    ./usr/share/doc/loa/deploy/README.md ./usr/share/doc/loa/deploy/HUONG-DAN.md \
    ./usr/share/doc/loa/copyright; do
    if printf '%s\n' "$CONTENTS" | awk '{print $6}' | grep -qx "$f"; then ok "contains $f"; else bad "lacks $f"; fi
done
if printf '%s\n' "$CONTENTS" | grep -q ' \./usr/bin/loa$' &&
    printf '%s\n' "$CONTENTS" | grep ' \./usr/bin/loa$' | grep -q '^-rwxr-xr-x root/root\|^-rwxr-xr-x 0/0'; then
    ok "/usr/bin/loa is root's, 0755"
else
    bad "/usr/bin/loa mode or owner"
fi
if dpkg-deb --ctrl-tarfile "$DEB" | tar -xO ./conffiles | grep -qx /etc/loa/loa.toml; then
    ok "/etc/loa/loa.toml is a conffile"
else
    bad "/etc/loa/loa.toml is not a conffile"
fi
DEPENDS=$(dpkg-deb -f "$DEB" Depends)
for p in libasound2 libc6 adduser acl; do
    if printf '%s' "$DEPENDS" | grep -q "\b$p\b"; then ok "depends on $p"; else bad "does not depend on $p"; fi
done
for s in postinst prerm postrm; do
    if dpkg-deb --ctrl-tarfile "$DEB" | tar -xO "./$s" | sh -n; then ok "$s parses (sh -n)"; else bad "$s syntax"; fi
done
LINTIAN=$(lintian --tag-display-limit 0 "$DEB" 2>&1 | grep -v 'running with root privileges' || true)
printf '%s\n' "$LINTIAN" | sed '/^$/d; s/^/      lintian: /'
if printf '%s\n' "$LINTIAN" | grep -q '^E:'; then bad "lintian errors"; else ok "lintian: no error"; fi
# The packaged config is config/loa.toml with the paths and the backend
# changed, and [station] left for the installer to fill (the sample names
# its fictional commune): the same keys and values otherwise.
check "deploy/debian/loa.toml = config/loa.toml but paths, backend and station" python3 - <<'EOF'
import tomllib
a = tomllib.load(open("config/loa.toml", "rb"))
b = tomllib.load(open("deploy/debian/loa.toml", "rb"))
assert b["paths"] == {"audio": "/var/lib/loa/audio", "playlists": "/var/lib/loa/playlists",
                      "state": "/var/lib/loa/state"}, b["paths"]
assert b["relay"]["backend"] == "gpio", b["relay"]
assert b.get("station", {}) == {}, b["station"]
for t in (a, b):
    t.pop("paths"); t["relay"].pop("backend"); t.pop("station", None)
assert a == b, (a, b)
EOF

# ---------------------------------------------------------------------------
section "sshd snippet: deploy/sshd/loa-upload.conf (sshd -t on this machine)"
SSHD_DIR=$TMP/sshd
mkdir -p "$SSHD_DIR/sshd_config.d" /run/sshd
if [ -f /etc/ssh/sshd_config ]; then
    sed "s|^Include /etc/ssh/sshd_config.d/\*.conf|Include $SSHD_DIR/sshd_config.d/*.conf|" \
        /etc/ssh/sshd_config >"$SSHD_DIR/sshd_config"
else
    printf 'Include %s/sshd_config.d/*.conf\nSubsystem sftp internal-sftp\n' "$SSHD_DIR" >"$SSHD_DIR/sshd_config"
fi
grep -q "Include $SSHD_DIR" "$SSHD_DIR/sshd_config" || bad "could not point sshd_config at the snippet"
cp deploy/sshd/loa-upload.conf "$SSHD_DIR/sshd_config.d/"
check "sshd -t -f (Debian's sshd_config with the snippet included)" sshd -t -f "$SSHD_DIR/sshd_config"

# ---------------------------------------------------------------------------
section "throwaway Debian root: install, run, remove, purge"
CACHE=target/deploy-test
BASE_TAR=$CACHE/bookworm-base-v2.tar
INCLUDE=adduser,acl,libasound2,init-system-helpers,systemd,openssh-server,systemd-timesyncd,fonts-dejavu-core
cached_base "$BASE_TAR" "$INCLUDE" ||
    bad "debootstrap failed (is Debian's archive reachable?): no install test"

if [ -f "$BASE_TAR" ]; then
    ROOT=$(mktemp -d /tmp/loa-root.XXXXXX)
    tar -C "$ROOT" -xf "$BASE_TAR"
    # No service starts inside the root.
    printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
    chmod 755 "$ROOT/usr/sbin/policy-rc.d"
    cp "$DEB" "$ROOT/tmp/loa.deb"
    in_root() { chroot "$ROOT" "$@"; }
    as_user() { # as_user USER COMMAND...: in the root, with the user's groups
        local u=$1
        shift
        chroot "$ROOT" setpriv --reuid="$u" --regid="$(chroot "$ROOT" id -g "$u")" --init-groups \
            env HOME=/ PATH=/usr/bin:/bin "$@"
    }
    owner_mode() { in_root stat -c '%U:%G %a' "$1"; }
    expect_eq() { # expect_eq "what" actual expected
        if [ "$2" = "$3" ]; then ok "$1: $2"; else bad "$1: got '$2', expected '$3'"; fi
    }

    echo "-- install"
    if dpkg --root="$ROOT" -i "$ROOT/tmp/loa.deb" >"$TMP/install.log" 2>&1; then
        ok "dpkg --root -i"
    else
        bad "dpkg --root -i"
        sed 's/^/      | /' "$TMP/install.log"
    fi
    status=$(dpkg-query --admindir="$ROOT/var/lib/dpkg" -W -f='${Status}' loa 2>/dev/null || true)
    expect_eq "package state" "$status" "install ok installed"
    if in_root getent passwd loa >/dev/null; then
        uid=$(in_root id -u loa)
        shell=$(in_root getent passwd loa | cut -d: -f7)
        [ "$uid" -lt 1000 ] && ok "loa is a system user (uid $uid)" || bad "loa uid $uid is not a system uid"
        expect_eq "loa's shell" "$shell" /usr/sbin/nologin
        expect_eq "loa's primary group" "$(in_root id -gn loa)" loa
        for g in audio gpio loa-upload; do
            if in_root id -nG loa | tr ' ' '\n' | grep -qx "$g"; then ok "loa in group $g"; else bad "loa not in group $g"; fi
        done
    else
        bad "no loa user"
    fi
    for g in loa loa-upload loa-sftp gpio; do
        if in_root getent group "$g" >/dev/null; then ok "group $g exists"; else bad "no group $g"; fi
    done
    expect_eq "/var/lib/loa" "$(owner_mode /var/lib/loa)" "root:root 755"
    expect_eq "/var/lib/loa/audio" "$(owner_mode /var/lib/loa/audio)" "loa:loa-upload 2775"
    expect_eq "/var/lib/loa/playlists" "$(owner_mode /var/lib/loa/playlists)" "loa:loa-upload 2775"
    expect_eq "/var/lib/loa/state" "$(owner_mode /var/lib/loa/state)" "loa:loa 2770"
    expect_eq "/var/lib/loa/state/loa.db" "$(owner_mode /var/lib/loa/state/loa.db)" "loa:loa 660"
    if in_root getfacl -p /var/lib/loa/audio 2>/dev/null | grep -qx 'default:group::rwx'; then
        ok "audio has a default ACL (group rwx)"
    else
        bad "audio has no default ACL"
    fi
    expect_eq "/etc/loa/loa.toml" "$(owner_mode /etc/loa/loa.toml)" "root:root 644"
    conff=$(dpkg-query --admindir="$ROOT/var/lib/dpkg" -W -f='${Conffiles}' loa | awk '{print $1}')
    expect_eq "registered conffiles" "$(printf '%s\n' "$conff" | grep . | sort | paste -sd' ' -)" \
        "/etc/loa/loa.toml /etc/loa/tts-abbreviations.toml"
    if [ -e "$ROOT/etc/systemd/system/multi-user.target.wants/loa.service" ]; then
        bad "the service was enabled on install (the installer enables it after checking)"
    else
        ok "the service is installed, not enabled"
    fi
    if out=$(in_root systemd-analyze verify --man=no loa.service 2>&1) && [ -z "$out" ]; then
        ok "systemd-analyze verify loa.service inside the root"
    else
        bad "systemd-analyze verify inside the root"
        printf '%s\n' "$out" | sed 's/^/      | /'
    fi
    # The packaged config drives the relay through gpiochip0, which this
    # root has not: that is loa check's one error (with its remedy), the
    # rest (empty folders, no sound card) are warnings.
    rc=0
    out=$(in_root loa check 2>&1) || rc=$?
    errors=$(printf '%s\n' "$out" | grep -E ': (lỗi|error): ' || true)
    if [ "$rc" = 1 ] && [ "$(printf '%s\n' "$errors" | grep -c .)" = 1 ] &&
        printf '%s\n' "$errors" | grep -q 'gpiochip0.*backend = "sim"'; then
        ok "loa check with the packaged config: only the missing GPIO chip is an error (exit 1)"
    else
        bad "loa check with the packaged config (empty folders): exit $rc"
        printf '%s\n' "$out" | sed 's/^/      | /' | tail -20
    fi

    echo "-- the service as the unit runs it, and an operator"
    mount -t proc proc "$ROOT/proc"
    in_root adduser --quiet --disabled-password --gecos "" canbo
    in_root adduser --quiet canbo loa
    in_root adduser --quiet canbo loa-upload
    # The packaged config with the simulated relay: no GPIO chip here.
    sed 's/^backend = "gpio"/backend = "sim"\nsim-file = "\/var\/lib\/loa\/state\/relay-sim.log"/' \
        "$ROOT/etc/loa/loa.toml" >"$ROOT/etc/loa/test-sim.toml"
    # A playlist and a file, as an operator would upload them (the playlist
    # is valid but never airs: its dates are past).
    as_user canbo sh -c 'umask 022; mkdir -p /var/lib/loa/audio/thu-nghiem &&
        cp /usr/share/loa/examples/audio/nhac-hieu.mp3 /var/lib/loa/audio/thu-nghiem/ &&
        printf "[[broadcast]]\nat = \"05:30\"\nitems = [\"thu-nghiem/nhac-hieu.mp3\"]\nfrom = \"2020-01-01\"\nuntil = \"2020-01-02\"\n" \
            >/var/lib/loa/playlists/default.toml' &&
        ok "operator (umask 022) writes audio and playlists" || bad "operator cannot write audio/playlists"
    perm=$(in_root stat -c '%A %G' /var/lib/loa/audio/thu-nghiem)
    expect_eq "operator's new subfolder (ACL, setgid)" "$perm" "drwxrwsr-x loa-upload"
    # loa run as systemd would: user loa, its groups, UMask=0007, after the
    # unit's ExecStartPre.
    in_root sh -c 'umask 0007; : >>/var/lib/loa/state/loa.db; chmod 0660 /var/lib/loa/state/loa.db' || true
    chroot "$ROOT" setpriv --reuid=loa --regid=loa --init-groups \
        env -i PATH=/usr/bin:/bin LOA_CONFIG=/etc/loa/test-sim.toml LOA_LOG=info \
        sh -c 'umask 0007; exec loa run' >"$TMP/service.log" 2>&1 &
    SERVICE_PID=$!
    for _ in $(seq 1 100); do
        [ -S "$ROOT/var/lib/loa/state/loa.sock" ] && break
        sleep 0.1
    done
    expect_eq "control socket" "$(owner_mode /var/lib/loa/state/loa.sock)" "loa:loa 660"
    check "operator: loa status (control socket)" as_user canbo env LOA_CONFIG=/etc/loa/test-sim.toml loa status
    check "operator: loa check" as_user canbo env LOA_CONFIG=/etc/loa/test-sim.toml loa check
    check "operator: loa reload" as_user canbo env LOA_CONFIG=/etc/loa/test-sim.toml loa reload
    # The service takes up the upload (validates it) within a few seconds.
    taken=no
    for _ in $(seq 1 60); do
        if as_user canbo env LOA_CONFIG=/etc/loa/test-sim.toml loa media --json 2>/dev/null |
            grep -q '"status": "ok"'; then
            taken=yes
            break
        fi
        sleep 0.5
    done
    expect_eq "the service validated the operator's upload" "$taken" yes
    check "operator: loa log" as_user canbo env LOA_CONFIG=/etc/loa/test-sim.toml loa log
    check "operator: loa report" as_user canbo env LOA_CONFIG=/etc/loa/test-sim.toml \
        loa report --from 2026-01-01 --to 2026-01-31
    if as_user nobody env LOA_CONFIG=/etc/loa/test-sim.toml loa status >/dev/null 2>&1; then
        bad "a user outside group loa could use the control socket"
    else
        ok "a user outside group loa cannot use the control socket"
    fi
    kill -TERM "$SERVICE_PID"
    stopped=no
    for _ in $(seq 1 50); do
        kill -0 "$SERVICE_PID" 2>/dev/null || { stopped=yes; break; }
        sleep 0.1
    done
    expect_eq "loa run stops within 5 s of SIGTERM" "$stopped" yes
    wait "$SERVICE_PID" && rc=0 || rc=$?
    SERVICE_PID=""
    expect_eq "loa run exit status" "$rc" 0
    # What systemd runs after every stop.
    check "ExecStopPost as user loa: loa relay off" chroot "$ROOT" setpriv --reuid=loa --regid=loa \
        --init-groups env -i PATH=/usr/bin:/bin LOA_CONFIG=/etc/loa/test-sim.toml loa relay off
    last=$(tail -1 "$ROOT/var/lib/loa/state/relay-sim.log" 2>/dev/null | awk '{print $2}')
    expect_eq "relay's last edge" "$last" off
    if grep -q 'ERROR\|panicked' "$TMP/service.log"; then
        bad "the service logged an error"
        sed 's/^/      | /' "$TMP/service.log" | tail -20
    else
        ok "the service logged no error"
    fi
    db_mode=$(owner_mode /var/lib/loa/state/loa.db)
    expect_eq "loa.db after the service ran" "$db_mode" "loa:loa 660"

    echo "-- the SFTP-only upload account (sshd in the root, on 127.0.0.1)"
    in_root adduser --quiet --disabled-password --gecos "" --ingroup loa-upload \
        --no-create-home --home /var/lib/loa --shell /usr/sbin/nologin tailen
    in_root adduser --quiet tailen loa-sftp
    # No password here (the guide sets one): '*' is "no password", where
    # --disabled-password's '!' is "locked", which sshd refuses even for keys.
    in_root usermod -p '*' tailen
    install -m 644 deploy/sshd/loa-upload.conf "$ROOT/etc/ssh/sshd_config.d/loa-upload.conf"
    mkdir -p "$ROOT/run/sshd"
    check "sshd -t inside the root, snippet installed" in_root sshd -t
    eff=$(in_root sshd -T -C user=tailen,host=h,addr=127.0.0.1 2>/dev/null)
    for want in 'chrootdirectory /var/lib/loa' 'forcecommand internal-sftp -d /audio -u 0002 -P symlink,hardlink' \
        'disableforwarding yes' 'allowtcpforwarding no' 'allowagentforwarding no' \
        'allowstreamlocalforwarding no' 'x11forwarding no' 'permittty no' 'permittunnel no'; do
        if printf '%s\n' "$eff" | grep -qx "$want"; then ok "tailen: $want"; else bad "tailen lacks: $want"; fi
    done
    eff=$(in_root sshd -T -C user=canbo,host=h,addr=127.0.0.1 2>/dev/null)
    if printf '%s\n' "$eff" | grep -qx 'chrootdirectory none' &&
        printf '%s\n' "$eff" | grep -qx 'forcecommand none' &&
        printf '%s\n' "$eff" | grep -qx 'permittty yes'; then
        ok "the operator canbo keeps an ordinary login"
    else
        bad "the snippet changes the operator's login"
    fi
    # A real session: key login, upload, then what it may not do.
    ssh-keygen -q -t ed25519 -N "" -f "$TMP/key"
    mkdir -p "$ROOT/etc/ssh/loa-test-keys"
    install -m 644 "$TMP/key.pub" "$ROOT/etc/ssh/loa-test-keys/tailen"
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    chroot "$ROOT" /usr/sbin/sshd -D -e -p "$PORT" -o ListenAddress=127.0.0.1 -o UsePAM=no \
        -o PasswordAuthentication=no -o 'AuthorizedKeysFile=/etc/ssh/loa-test-keys/%u' \
        >"$TMP/sshd.log" 2>&1 &
    SSHD_PID=$!
    for _ in $(seq 1 50); do
        (echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
        sleep 0.1
    done
    SSHOPTS=(-o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
        -o LogLevel=ERROR -i "$TMP/key")
    head -c 4096 /dev/urandom >"$TMP/ban-tin.mp3"
    # sftp sends the local file's mode; a client asking for 0666 gets 0664.
    chmod 0666 "$TMP/ban-tin.mp3"
    printf 'pwd\nput %s ban-tin.mp3\nmkdir dot-2\nput %s dot-2/ban-tin.mp3\nls -l\n' \
        "$TMP/ban-tin.mp3" "$TMP/ban-tin.mp3" >"$TMP/batch"
    if out=$(sftp "${SSHOPTS[@]}" -P "$PORT" -b "$TMP/batch" tailen@127.0.0.1 2>&1); then
        ok "sftp upload as tailen"
        printf '%s\n' "$out" | grep -q 'Remote working directory: /audio' &&
            ok "tailen starts in /audio" || bad "tailen does not start in /audio"
    else
        bad "sftp upload as tailen"
        printf '%s\n' "$out" | sed 's/^/      | /'
        sed 's/^/      sshd| /' "$TMP/sshd.log" | tail -10
    fi
    expect_eq "uploaded file" "$(owner_mode /var/lib/loa/audio/ban-tin.mp3 2>/dev/null)" "tailen:loa-upload 664"
    expect_eq "uploaded folder" "$(in_root stat -c '%U:%G %A' /var/lib/loa/audio/dot-2 2>/dev/null)" \
        "tailen:loa-upload drwxrwsr-x"
    printf 'put %s /state/x\n' "$TMP/ban-tin.mp3" >"$TMP/batch2"
    if sftp "${SSHOPTS[@]}" -P "$PORT" -b "$TMP/batch2" tailen@127.0.0.1 >/dev/null 2>&1; then
        bad "tailen could write the state folder"
    else
        ok "tailen cannot write /state (the as-run log)"
    fi
    printf 'put %s /x\n' "$TMP/ban-tin.mp3" >"$TMP/batch3"
    if sftp "${SSHOPTS[@]}" -P "$PORT" -b "$TMP/batch3" tailen@127.0.0.1 >/dev/null 2>&1; then
        bad "tailen could write the chroot's top"
    else
        ok "tailen cannot write outside audio and playlists"
    fi
    out=$(ssh "${SSHOPTS[@]}" -p "$PORT" tailen@127.0.0.1 id 2>&1 || true)
    if printf '%s' "$out" | grep -q 'uid='; then bad "tailen ran a command"; else ok "tailen cannot run a command"; fi
    # A remote forwarding is asked for at login: refused, ssh exits at once.
    if timeout 10 ssh "${SSHOPTS[@]}" -p "$PORT" -N -o ExitOnForwardFailure=yes \
        -R "127.0.0.1:0:127.0.0.1:$PORT" tailen@127.0.0.1 </dev/null >/dev/null 2>&1; then
        bad "tailen's forwarding session did not fail"
    elif [ $? -eq 124 ]; then
        bad "tailen could open a port forwarding"
    else
        ok "tailen cannot forward ports"
    fi
    kill "$SSHD_PID" 2>/dev/null || true
    wait "$SSHD_PID" 2>/dev/null || true
    SSHD_PID=""
    umount "$ROOT/proc"

    echo "-- reinstall (the upgrade path)"
    check "dpkg --root -i again" dpkg --root="$ROOT" -i "$ROOT/tmp/loa.deb"
    expect_eq "/var/lib/loa/audio after reinstall" "$(owner_mode /var/lib/loa/audio)" "loa:loa-upload 2775"
    [ -f "$ROOT/var/lib/loa/audio/thu-nghiem/nhac-hieu.mp3" ] && ok "uploads kept" || bad "uploads lost"

    echo "-- remove: the program goes, the commune's data stays"
    echo '# changed by the installer' >>"$ROOT/etc/loa/loa.toml"
    check "dpkg --root -r loa" dpkg --root="$ROOT" -r loa
    [ ! -e "$ROOT/usr/bin/loa" ] && ok "/usr/bin/loa removed" || bad "/usr/bin/loa still there"
    [ ! -e "$ROOT/usr/lib/systemd/system/loa.service" ] && ok "unit removed" || bad "unit still there"
    for f in /var/lib/loa/audio/thu-nghiem/nhac-hieu.mp3 /var/lib/loa/audio/ban-tin.mp3 \
        /var/lib/loa/playlists/default.toml /var/lib/loa/state/loa.db /etc/loa/loa.toml; do
        [ -e "$ROOT$f" ] && ok "kept $f" || bad "lost $f on remove"
    done
    in_root getent passwd loa >/dev/null && ok "user loa kept" || bad "user loa gone on remove"
    status=$(dpkg-query --admindir="$ROOT/var/lib/dpkg" -W -f='${Status}' loa 2>/dev/null || true)
    expect_eq "package state after remove" "$status" "deinstall ok config-files"

    echo "-- install again over the kept data, then purge"
    check "dpkg --root -i after remove" dpkg --root="$ROOT" -i "$ROOT/tmp/loa.deb"
    grep -q 'changed by the installer' "$ROOT/etc/loa/loa.toml" &&
        ok "the installer's config change survived" || bad "the config was overwritten"
    [ -f "$ROOT/var/lib/loa/state/loa.db" ] && ok "as-run log still there" || bad "as-run log lost"
    check "dpkg --root -P loa" dpkg --root="$ROOT" -P loa
    [ ! -e "$ROOT/var/lib/loa" ] && ok "purge deleted /var/lib/loa" || bad "/var/lib/loa left after purge"
    [ ! -e "$ROOT/etc/loa" ] && ok "purge deleted /etc/loa" || bad "/etc/loa left after purge"
    status=$(dpkg-query --admindir="$ROOT/var/lib/dpkg" -W -f='${Status}' loa 2>/dev/null || echo "not known")
    case "$status" in "unknown ok not-installed" | "not known" | "") ok "package purged" ;;
    *) bad "package state after purge: $status" ;; esac
fi

# ---------------------------------------------------------------------------
section "under real systemd: the package booted in systemd-nspawn"
# The unit as systemd runs it, sandbox and all: READY=1, the watchdog, the
# seccomp filter (loa must still read the clock state), the control socket
# for an operator, ingest writing rejected/, a broadcast through ALSA (a
# null device), ExecStopPost after SIGKILL, a hung loop (SIGSTOP) killed by
# the watchdog and restarted. Skipped, with the reason, where nspawn cannot
# boot a container.
NSROOT=""
NS_PID=""
ct_stop() {
    if [ -n "$NS_PID" ] && kill -0 "$NS_PID" 2>/dev/null; then
        [ -n "${CT:-}" ] && nsenter -t "$CT" -a systemctl poweroff >/dev/null 2>&1 || true
        for _ in $(seq 1 150); do kill -0 "$NS_PID" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$NS_PID" 2>/dev/null; then
            # still up: end systemd-nspawn itself (timeout's child), then timeout
            for p in $(pgrep -P "$NS_PID" 2>/dev/null || true); do kill -KILL "$p" 2>/dev/null || true; done
            kill -KILL "$NS_PID" 2>/dev/null || true
        fi
        wait "$NS_PID" 2>/dev/null || true
    fi
    NS_PID=""
    [ -n "$NSROOT" ] && rm -rf "$NSROOT"
    NSROOT=""
}
trap 'ct_stop; cleanup' EXIT
if [ ! -f "$BASE_TAR" ]; then
    skip "no base system (debootstrap failed above)"
elif ! command -v systemd-nspawn >/dev/null 2>&1 &&
    ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd-container >/dev/null 2>&1; then
    skip "systemd-nspawn (package systemd-container) could not be installed"
else
    NSROOT=$(mktemp -d /tmp/loa-nspawn.XXXXXX)
    tar -C "$NSROOT" -xf "$BASE_TAR"
    rm -f "$NSROOT/usr/sbin/policy-rc.d"
    cp "$DEB" "$NSROOT/tmp/loa.deb"
    dpkg --root="$NSROOT" -i "$NSROOT/tmp/loa.deb" >/dev/null 2>&1
    echo loa-test >"$NSROOT/etc/hostname"
    # The packaged config with the simulated relay and no clock-sync hold (a
    # container's clock is the host's, synchronised or not).
    sed -e 's/^backend = "gpio"/backend = "sim"\nsim-file = "\/var\/lib\/loa\/state\/relay-sim.log"/' \
        -e 's/^require-clock-sync = true/require-clock-sync = false/' \
        "$NSROOT/etc/loa/loa.toml" >"$NSROOT/etc/loa/test-sim.toml"
    mkdir -p "$NSROOT/etc/systemd/system/loa.service.d"
    printf '[Service]\nEnvironment=LOA_CONFIG=/etc/loa/test-sim.toml\nWatchdogSec=6s\n' \
        >"$NSROOT/etc/systemd/system/loa.service.d/test.conf"
    ln -s /usr/lib/systemd/system/loa.service "$NSROOT/etc/systemd/system/multi-user.target.wants/loa.service"
    # A sound card that takes the samples and throws them away.
    printf 'pcm.!default { type plug; slave.pcm "loanull" }\npcm.loanull { type file; slave.pcm "null"; file "/dev/null"; format "raw" }\n' \
        >"$NSROOT/etc/asound.conf"
    # A probe of the clock-state query, run in loa's own sandbox.
    CLOCKPROBE_OK=no
    if printf '#include <stdio.h>\n#include <string.h>\n#include <sys/timex.h>\nint main(void){struct timex t;memset(&t,0,sizeof t);printf("%%d\\n",adjtimex(&t));return 0;}\n' \
        >"$TMP/probe.c" && cc -static -O2 -o "$NSROOT/usr/local/bin/clock-probe" "$TMP/probe.c" 2>/dev/null; then
        CLOCKPROBE_OK=yes
        sed -e 's|^ExecStart=.*|ExecStart=/usr/local/bin/clock-probe|' -e 's/^Type=notify/Type=oneshot/' \
            -e '/^WatchdogSec/d;/^ExecStopPost/d;/^ExecStartPre/d;/^Restart=/d;/^ExecReload/d;/^NotifyAccess/d' \
            "$NSROOT/usr/lib/systemd/system/loa.service" >"$NSROOT/etc/systemd/system/clock-probe.service"
    fi
    # CAP_SYS_TIME: else nspawn's own seccomp filter forbids adjtimex to
    # everything in the container, and the probe would prove nothing.
    timeout 600 systemd-nspawn -q -D "$NSROOT" --boot --private-network --register=no --keep-unit \
        --capability=CAP_SYS_TIME -M loatest >"$TMP/nspawn.log" 2>&1 </dev/null &
    NS_PID=$!
    CT=""
    for _ in $(seq 1 100); do
        CT=$(pgrep -P "$(pgrep -P "$NS_PID" | head -1)" -x systemd 2>/dev/null | head -1 || true)
        [ -z "$CT" ] && CT=$(pgrep -P "$NS_PID" -x systemd 2>/dev/null | head -1 || true)
        [ -n "$CT" ] && break
        sleep 0.1
    done
    if [ -z "$CT" ]; then
        skip "systemd-nspawn could not boot a container here: $(tail -3 "$TMP/nspawn.log" | tr '\n' ' ')"
    else
        in_ct() { nsenter -t "$CT" -a "$@"; }
        as_op() { nsenter -t "$CT" -a setpriv --reuid=canbo --regid=canbo --init-groups \
            env HOME=/ PATH=/usr/bin:/bin LOA_CONFIG=/etc/loa/test-sim.toml "$@"; }
        for _ in $(seq 1 150); do
            st=$(in_ct systemctl is-active loa 2>/dev/null || true)
            [ "$st" = active ] || [ "$st" = failed ] && break
            sleep 0.2
        done
        expect_eq "loa.service under systemd (READY=1 through the sandbox)" "$st" active
        in_ct adduser --quiet --disabled-password --gecos "" canbo >/dev/null
        in_ct adduser --quiet canbo loa >/dev/null
        in_ct adduser --quiet canbo loa-upload >/dev/null
        check "operator: loa status through the socket" as_op loa status
        if [ "$CLOCKPROBE_OK" = yes ]; then
            in_ct systemctl start clock-probe.service
            inside=$(in_ct journalctl -u clock-probe -o cat --no-pager | grep -E '^-?[0-9]+$' | tail -1)
            outside=$(in_ct /usr/local/bin/clock-probe)
            if [ -n "$inside" ] && [ "$inside" = "$outside" ] && [ "$inside" -ge 0 ]; then
                ok "adjtimex in loa's sandbox answers as outside it ($inside)"
            else
                bad "adjtimex in loa's sandbox: '$inside', outside: '$outside'"
            fi
        else
            skip "no C compiler for the clock probe"
        fi
        w1=$(in_ct systemctl show loa -p WatchdogTimestampMonotonic --value)
        sleep 4
        w2=$(in_ct systemctl show loa -p WatchdogTimestampMonotonic --value)
        [ "$w2" -gt "$w1" ] && ok "systemd receives WATCHDOG=1 (WatchdogSec=6s)" ||
            bad "no watchdog ping in 4 s ($w1 -> $w2)"
        # Uploads: a good file and a bogus one; a broadcast 20 s from now.
        as_op sh -c 'cp /usr/share/loa/examples/audio/nhac-hieu.mp3 /usr/share/loa/examples/audio/ket-thuc.mp3 /var/lib/loa/audio/ &&
            head -c 50000 /dev/urandom >/var/lib/loa/audio/hong.mp3'
        AT=$(TZ=Asia/Ho_Chi_Minh date -d '+20 seconds' +%H:%M:%S)
        DAY=$(TZ=Asia/Ho_Chi_Minh date +%F)
        as_op sh -c "printf '[[broadcast]]\nat = \"$AT\"\ntitle = \"systemd\"\nitems = [\"nhac-hieu.mp3\", \"ket-thuc.mp3\"]\n' >/var/lib/loa/playlists/$DAY.toml"
        aired=no
        for _ in $(seq 1 60); do
            n=$(as_op loa log --json 2>/dev/null | grep -c '"status": "played"' || true)
            [ "$n" -ge 2 ] && { aired=yes; break; }
            sleep 1
        done
        expect_eq "a scheduled broadcast aired under the sandbox (ALSA, relay, as-run log)" "$aired" yes
        if as_op loa status 2>/dev/null | grep -q " playlists/$DAY.toml"; then
            ok "loa status names the playlist as the guide does (playlists/$DAY.toml)"
        else
            bad "loa status does not show playlists/$DAY.toml"
            as_op loa status 2>&1 | sed 's/^/      | /' | head -8
        fi
        if [ -f "$NSROOT/var/lib/loa/audio/rejected/hong.mp3.txt" ]; then
            ok "the service moved a bad upload to rejected/ with a note"
        else
            bad "no rejected/hong.mp3.txt"
            ls -la "$NSROOT/var/lib/loa/audio" "$NSROOT/var/lib/loa/audio/rejected" 2>&1 | sed 's/^/      | /' || true
            { date; as_op loa status; as_op loa media; in_ct journalctl -u loa -b --no-pager -o short-precise | tail -30; } 2>&1 | sed 's/^/      | /' || true
        fi
        sleep 5 # the broadcast's hold, then its relay-off
        as_op loa relay on --for 60s >/dev/null 2>&1 &
        sleep 2
        expect_eq "relay on (through the service)" "$(tail -1 "$NSROOT/var/lib/loa/state/relay-sim.log" | awk '{print $2}')" on
        r0=$(in_ct systemctl show loa -p NRestarts --value)
        in_ct systemctl kill -s KILL loa
        sleep 1
        expect_eq "after SIGKILL, ExecStopPost switched the relay" "$(tail -1 "$NSROOT/var/lib/loa/state/relay-sim.log" | awk '{print $2}')" off
        for _ in $(seq 1 100); do
            [ "$(in_ct systemctl show loa -p NRestarts --value)" -gt "$r0" ] &&
                [ "$(in_ct systemctl is-active loa)" = active ] && break
            sleep 0.2
        done
        r1=$(in_ct systemctl show loa -p NRestarts --value)
        [ "$r1" -gt "$r0" ] && [ "$(in_ct systemctl is-active loa)" = active ] &&
            ok "restarted after SIGKILL (Restart=always)" || bad "not restarted after SIGKILL"
        as_op loa relay on --for 60s >/dev/null 2>&1 &
        sleep 2
        in_ct systemctl kill -s STOP --kill-who=main loa
        hung=no
        for _ in $(seq 1 60); do
            in_ct journalctl -u loa -b --no-pager -o cat | grep -q 'Watchdog timeout' && { hung=yes; break; }
            sleep 0.5
        done
        expect_eq "a hung loop (SIGSTOP) is caught by the watchdog" "$hung" yes
        sleep 1
        expect_eq "after the watchdog kill, the relay is off" "$(tail -1 "$NSROOT/var/lib/loa/state/relay-sim.log" | awk '{print $2}')" off
        for _ in $(seq 1 100); do
            [ "$(in_ct systemctl show loa -p NRestarts --value)" -gt "$r1" ] &&
                [ "$(in_ct systemctl is-active loa)" = active ] && break
            sleep 0.2
        done
        [ "$(in_ct systemctl show loa -p NRestarts --value)" -gt "$r1" ] &&
            ok "restarted after the watchdog kill" || bad "not restarted after the watchdog kill"
        if in_ct journalctl -b --no-pager -o cat | grep -q 'loa.service:.*\(Failed to\|bad-setting\|Operation not permitted\)'; then
            bad "systemd reported a problem with the unit"
            in_ct journalctl -b --no-pager -o cat | grep 'loa.service' | tail -5 | sed 's/^/      | /'
        else
            ok "systemd reported no problem with the unit's settings"
        fi
    fi
    ct_stop
fi

# ---------------------------------------------------------------------------
section "cross-building (.cargo/config.toml)"
grep -q '^linker = "aarch64-linux-gnu-gcc"' .cargo/config.toml && ok "aarch64 linker configured" ||
    bad "aarch64 linker missing in .cargo/config.toml"
grep -q '^linker = "arm-linux-gnueabihf-gcc"' .cargo/config.toml && ok "armv7 linker configured" ||
    bad "armv7 linker missing in .cargo/config.toml"
if [ "${LOA_DEPLOY_CROSS:-0}" = 1 ]; then
    # The packages for both architectures and their unit tests under
    # qemu-user; deploy/test-cross.sh alone also runs the integration tests.
    check "deploy/test-cross.sh: aarch64 and armv7 packages, unit tests under qemu-user" \
        env LOA_CROSS_STEPS="build unit" LOA_CROSS_QUICK=1 bash deploy/test-cross.sh
else
    skip "cross builds (slow): LOA_DEPLOY_CROSS=1 runs them"
fi

# ---------------------------------------------------------------------------
section "summary"
echo "  package: $DEB, $DEB_SIZE bytes ($((DEB_SIZE / 1024)) KiB), installed size $INSTALLED_KB KiB"
echo "  systemd-analyze security --offline=yes deploy/loa.service: ${SCORE:-?}"
report deploy
