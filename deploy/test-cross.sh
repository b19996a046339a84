#!/usr/bin/env bash
# Builds loa for the Raspberry Pi's two architectures and tests it under
# emulation, on a Debian (bookworm) x86-64 machine:
#
#   sudo bash deploy/test-cross.sh                  both targets, everything
#   sudo bash deploy/test-cross.sh aarch64          one target (aarch64 | armv7)
#   LOA_CROSS_STEPS="build unit" sudo bash deploy/test-cross.sh
#   LOA_CROSS_QUICK=1 ...   leaves out the unit test that encodes an hour of
#                           MP3 (8-9 minutes emulated; CI runs it natively)
#
# Steps (LOA_CROSS_STEPS, default all of them):
#   build    cargo build --release for the target and `cargo deb` (the .deb for
#            64-bit or 32-bit Raspberry Pi OS): sizes, Architecture, ELF header;
#   unit     the library's unit tests under qemu-user (`cargo test --lib`, the
#            runner from .cargo/config.toml);
#   cli      the integration tests of the real binary (tests/cli, tests/fuzz)
#            under qemu-user, the ALSA stand-in card included: the test binary
#            and the loa it starts both run emulated (binfmt_misc);
#   figures  startup time and the CPU used while playing, emulated and native
#            x86-64 side by side (emulation is not a Pi: a rough ratio only).
#
# Targets: aarch64-unknown-linux-gnu (64-bit Raspberry Pi OS: Pi 3, 4, 5,
# Zero 2 W) and armv7-unknown-linux-gnueabihf (32-bit Raspberry Pi OS: Pi 2
# and later). Debian's cross compilers, its multiarch libasound2-dev:arm64 /
# :armhf and libc6:arm64 / :armhf (which qemu-user runs the binaries with:
# no QEMU_LD_PREFIX, so that the dynamic loader and libc are the same
# build) and Debian's qemu-user, installed here with apt when missing, with
# the rust-std of both targets (rustup) and cargo-deb.
#
# What cannot run under emulation (skipped, with the reason, by the tests
# themselves or by the list below): the GPIO relay on a simulated chip
# (gpiosim needs the kernel's gpio-sim module and configfs, absent on this
# kind of machine, and its ioctls would have to cross qemu-user); the tests
# listed in CLI_SKIP below, which measure real-time behaviour that an
# emulated CPU (5-20x slower) cannot keep up with.
#
# Ends with "cross: N passed, N failed, N skipped"; exit status 1 on failure.
set -euo pipefail
cd "$(dirname "$0")/.."

STEPS=${LOA_CROSS_STEPS:-build unit cli figures}
ALL_TARGETS="aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf"
TARGETS=""
for a in "$@"; do
    case $a in
    aarch64 | aarch64-unknown-linux-gnu) TARGETS="$TARGETS aarch64-unknown-linux-gnu" ;;
    armv7 | armhf | armv7-unknown-linux-gnueabihf) TARGETS="$TARGETS armv7-unknown-linux-gnueabihf" ;;
    *)
        echo "test-cross.sh: unknown target '$a' (aarch64 or armv7)" >&2
        exit 2
        ;;
    esac
done
TARGETS=${TARGETS:-$ALL_TARGETS}

# Integration tests that cannot pass under emulation, "NAME|reason" (seen
# on aarch64 or armv7 under qemu-user 7.2 on a 2-core x86-64 machine; each
# passes natively).
CLI_SKIP=(
    "live::a_web_page_is_not_a_stream|relays an Ogg stream in real time; emulated, decoding and levelling fall behind (9 of the slot's 10 s relayed)"
    "live::a_silent_line_in_is_said_in_status|the line-in's level meter must keep up with the capture in real time; emulated it falls behind"
    "live::the_source_killed_mid_slot_and_restarted|times the relay to the slot within 0.5 s; emulated, the reconnection takes 0.6 s longer"
    "say::a_missing_engine_is_named_and_nothing_airs|qemu-user runs glibc's posix_spawn (a vfork sharing memory) as a plain fork, so a program missing from PATH comes back as exit status 127, not 'not found', and loa's 'espeak-ng is not installed' cannot be seen"
    "service::loa_stop_ends_the_broadcast_after_the_hold_and_airs_nothing_more|times the relay's release to the 1 s hold; emulated, stopping the player takes 0.9 s more"
    "live::an_emergency_relay_with_loa_now|the relayed sound must have no gap; emulated armv7, the decoder underran once (a 0.08 s hole)"
    "live::the_line_in_is_relayed_for_its_slot|relays the line-in in real time; emulated armv7 fell behind (6 of the slot's 8 s relayed)"
)

# shellcheck source=deploy/test-lib.sh
. deploy/test-lib.sh
has_step() { case " $STEPS " in *" $1 "*) return 0 ;; esac; return 1; }
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"

# Debian's names for a target: the multiarch folder, the dpkg architecture,
# the cross compiler's prefix and qemu-user's program.
multiarch() { case $1 in aarch64-*) echo aarch64-linux-gnu ;; armv7-*) echo arm-linux-gnueabihf ;; esac; }
darch() { case $1 in aarch64-*) echo arm64 ;; armv7-*) echo armhf ;; esac; }
qemu() { case $1 in aarch64-*) echo qemu-aarch64 ;; armv7-*) echo qemu-arm ;; esac; }

section "tools"
for t in $TARGETS; do
    d=$(darch "$t")
    if ! dpkg --print-foreign-architectures | grep -qx "$d"; then
        echo "  dpkg --add-architecture $d"
        $SUDO dpkg --add-architecture "$d"
        NEED_UPDATE=1
    fi
done
pkgs="pkg-config gcc make qemu-user qemu-user-binfmt"
for t in $TARGETS; do
    d=$(darch "$t")
    pkgs="$pkgs gcc-$(multiarch "$t") libc6-dev-$d-cross libasound2-dev:$d libc6:$d"
done
if has_step cli; then
    # What the integration tests use, as tests/run.sh installs it.
    pkgs="$pkgs sox libsox-fmt-mp3 lame mpg123 vorbis-tools openssh-server openssh-client lftp acl"
    pkgs="$pkgs faketime python3-docx python3-openpyxl fonts-dejavu-core icecast2 ffmpeg mosquitto"
    pkgs="$pkgs mosquitto-clients espeak-ng"
fi
[ "${NEED_UPDATE:-0}" = 1 ] && { $SUDO apt-get update -qq || echo "  (apt-get update reported errors; trying anyway)"; }
# shellcheck disable=SC2086
sh deploy/ensure-packages.sh $pkgs
for t in $TARGETS; do
    if ! rustup target list --installed 2>/dev/null | grep -qx "$t"; then
        echo "  rustup target add $t"
        rustup target add "$t"
    fi
done
if has_step build && ! command -v cargo-deb >/dev/null 2>&1; then
    echo "  installing cargo-deb (cargo install cargo-deb --locked)"
    cargo install cargo-deb --locked --quiet
fi
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
echo "  $(rustc --version); $($(qemu aarch64-) --version | head -1)"

# The integration tests start target/<triple>/debug/loa themselves: the
# kernel hands it to qemu-user through binfmt_misc (Debian's
# qemu-user-binfmt; registered here when no systemd did it at boot).
BINFMT=1
if has_step cli; then
    if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
        $SUDO mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null || true
    fi
    for t in $TARGETS; do
        q=$(qemu "$t")
        if [ ! -e "/proc/sys/fs/binfmt_misc/$q" ] && [ -f "/usr/lib/binfmt.d/$q.conf" ]; then
            $SUDO /usr/lib/systemd/systemd-binfmt "/usr/lib/binfmt.d/$q.conf" 2>/dev/null || true
        fi
        [ -e "/proc/sys/fs/binfmt_misc/$q" ] || BINFMT=0
    done
    [ "$BINFMT" = 1 ] && ok "binfmt_misc: the kernel runs ARM programs through qemu-user" ||
        skip "binfmt_misc not available (needs root and the binfmt_misc file system): integration tests not run"
fi

# run_tests WHAT LOG cargo-args...: runs cargo test, keeps its output, and
# records the summary lines ("test result: ...").
run_tests() {
    local what=$1 log=$2
    shift 2
    local start=$SECONDS rc=0
    "$@" >"$log" 2>&1 || rc=$?
    local results
    results=$(grep -E '^test result:' "$log" | sed 's/; finished in.*//' | paste -sd' ' -)
    local skipped
    skipped=$(grep -c '^SKIPPED ' "$log" || true)
    if [ "$rc" = 0 ]; then
        ok "$what: ${results:-no tests?} ($((SECONDS - start)) s, $skipped SKIPPED lines)"
    else
        bad "$what: exit $rc: ${results:-did not build or run} ($((SECONDS - start)) s; log $log)"
        grep -E '^(test .* FAILED|---- |error(\[|:)|thread .* panicked)' "$log" | head -30 | sed 's/^/      | /'
    fi
    grep '^SKIPPED ' "$log" | sort -u | sed 's/^/      /' | head -40 || true
}

LOGS=target/cross-test
mkdir -p "$LOGS"
for t in $TARGETS; do
    section "$t"
    d=$(darch "$t")
    if has_step build; then
        start=$SECONDS
        if cargo build --release --locked --target "$t" >"$LOGS/$t-build.log" 2>&1; then
            bin=target/$t/release/loa
            ok "cargo build --release --target $t ($((SECONDS - start)) s): $(stat -c %s "$bin") bytes"
            elf=$(file -b "$bin" 2>/dev/null || true)
            case "$t:$elf" in
            aarch64-*:*"ARM aarch64"* | armv7-*:*"32-bit"*"ARM"*"EABI5"*) ok "ELF: ${elf%%, BuildID*}" ;;
            *) bad "$bin is not an $d program: $elf" ;;
            esac
            if cargo deb --no-build --locked --target "$t" >"$LOGS/$t-deb.log" 2>&1; then
                deb=target/$t/debian/loa_${VERSION}-1_$d.deb
                if [ "$(dpkg-deb -f "$deb" Architecture 2>/dev/null)" = "$d" ] &&
                    dpkg-deb -c "$deb" | grep -c '\./usr/bin/loa$' >/dev/null; then
                    ok "$deb: Architecture $d, $(stat -c %s "$deb") bytes, $(dpkg-deb -f "$deb" Installed-Size) KiB installed"
                    echo "      Depends: $(dpkg-deb -f "$deb" Depends)"
                else
                    bad "$deb: not an $d package holding /usr/bin/loa"
                fi
            else
                bad "cargo deb --target $t (log $LOGS/$t-deb.log)"
                tail -5 "$LOGS/$t-deb.log" | sed 's/^/      | /'
            fi
        else
            bad "cargo build --release --target $t (log $LOGS/$t-build.log)"
            grep -E '^(error|warning: unused)' -A5 "$LOGS/$t-build.log" | head -30 | sed 's/^/      | /'
        fi
    fi
    if has_step unit; then
        quick=()
        if [ "${LOA_CROSS_QUICK:-0}" = 1 ]; then
            quick=(-- --skip archive::tests::an_hour_at_32_kbps_is_about_14_mb)
            skip "$t: archive::tests::an_hour_at_32_kbps_is_about_14_mb (LOA_CROSS_QUICK: an hour of LAME encoding, 8-9 min emulated)"
        fi
        run_tests "unit tests under $(qemu "$t") (cargo test --lib)" "$LOGS/$t-unit.log" \
            cargo test --locked --target "$t" --lib "${quick[@]}"
    fi
    if has_step cli; then
        if [ "$BINFMT" = 1 ]; then
            skips=()
            for s in "${CLI_SKIP[@]}"; do skips+=(--skip "${s%%|*}"); done
            for s in "${CLI_SKIP[@]}"; do skip "$t: ${s%%|*}: ${s#*|}"; done
            # The suite's servers (sshd, icecast2, mosquitto) and tools run
            # natively; only the test binary and loa are emulated. The release
            # build: a debug loa, emulated, decodes and measures audio 100-300x
            # slower than a native one, too slow for the tests' real-time waits
            # (27 of 254 failed that way).
            run_tests "integration tests under $(qemu "$t") (cargo test --release --test cli)" "$LOGS/$t-cli.log" \
                env CI=true cargo test --release --locked --target "$t" --test cli -- "${skips[@]}"
            run_tests "fuzz harness under $(qemu "$t") (20 s)" "$LOGS/$t-fuzz.log" \
                env LOA_FUZZ_SECS=20 cargo test --locked --target "$t" --test fuzz
        fi
    fi
done

if has_step figures; then
    section "figures: emulated (qemu-user on this x86-64 machine) next to native x86-64"
    bash deploy/cross-figures.sh $TARGETS || bad "figures (deploy/cross-figures.sh)"
fi

section "summary"
report cross
