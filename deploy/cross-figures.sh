#!/usr/bin/env bash
# Startup time and the CPU used while playing, for the release builds of the
# given targets under qemu-user and for native x86-64, side by side:
#
#   bash deploy/cross-figures.sh [TRIPLE...]      (deploy/test-cross.sh runs it)
#
# Emulation is not a Pi: qemu-user translates ARM code on this machine's
# cores, so a ratio to native says roughly how much heavier the program is
# to emulate, not how a Cortex-A53 or A76 would run it.
#   startup   `loa --version` (loading and linking the program), median of 11;
#             `loa check` on the shipped sample config (config, playlists, the
#             sample MP3s probed and measured), median of 5;
#   playing   `loa play --no-relay` of the sample announcement into the ALSA
#             file-plugin stand-in card (no pacing: it decodes, resamples and
#             normalises as fast as it can), user+system CPU seconds per second
#             of audio = the share of one core that playing in real time takes.
# Builds what is missing (cargo build --release [--target T]).
set -euo pipefail
cd "$(dirname "$0")/.."
TARGETS=${*:-aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf}
RUNS_VERSION=11
RUNS_CHECK=5
FILE=audio/thong-bao-chung.mp3

W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/state" "$W/xdg/alsa"
sed -e "s|^audio = .*|audio = \"$PWD/audio\"|" -e "s|^playlists = .*|playlists = \"$PWD/playlists\"|" \
    -e "s|^state = .*|state = \"$W/state\"|" config/loa.toml >"$W/loa.toml"
cat >"$W/xdg/alsa/asoundrc" <<'EOF'
pcm.!default {
  type plug
  slave { pcm "loa_capture"; format S16_LE; rate 48000; channels 2 }
}
pcm.loa_capture {
  type file
  slave.pcm "null"
  file "/dev/null"
  format "raw"
}
EOF
export XDG_CONFIG_HOME=$W/xdg LOA_CONFIG=$W/loa.toml LOA_LOG=warn

# Audio seconds of the sample, from its own decoder (sox reads MP3 here).
AUDIO_S=$(soxi -D "$FILE" 2>/dev/null || echo 0)

# median_time N CMD...: median wall-clock seconds of N runs of CMD.
median_time() {
    local n=$1
    shift
    local i s e
    for ((i = 0; i < n; i++)); do
        s=$(date +%s.%N)
        "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; return 1; }
        e=$(date +%s.%N)
        echo "$e - $s" | bc -l
    done | sort -g | awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)]}'
}

# cpu_play CMD...: user+system CPU seconds of one `loa play --no-relay`.
cpu_play() {
    local TIMEFORMAT='%U %S'
    local t
    t=$({ time "$@" play --no-relay "$FILE" >/dev/null 2>"$W/play.err"; } 2>&1) ||
        { cat "$W/play.err" >&2; return 1; }
    echo "$t" | awk '{printf "%.3f", $1 + $2}'
}

row() { printf '  %-34s %12s %12s %14s\n' "$@"; }
printf '  sample: %s, %.1f s of audio; %s\n' "$FILE" "$AUDIO_S" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
row "" "--version" "loa check" "play CPU/audio"

native_cmd=(target/release/loa)
[ -x target/release/loa ] || cargo build --release --locked --quiet
nv=$(median_time $RUNS_VERSION "${native_cmd[@]}" --version)
nc=$(median_time $RUNS_CHECK "${native_cmd[@]}" check)
np=$(cpu_play "${native_cmd[@]}")
row "x86_64 (native)" "${nv} s" "${nc} s" "$(echo "100 * $np / $AUDIO_S" | bc -l | xargs printf '%.2f')%"

for t in $TARGETS; do
    case $t in aarch64-*) q=qemu-aarch64 ;; armv7-*) q=qemu-arm ;; esac
    [ -x "target/$t/release/loa" ] || cargo build --release --locked --quiet --target "$t"
    cmd=("$q" "target/$t/release/loa")
    v=$(median_time $RUNS_VERSION "${cmd[@]}" --version)
    c=$(median_time $RUNS_CHECK "${cmd[@]}" check)
    p=$(cpu_play "${cmd[@]}")
    row "$t (qemu)" "${v} s" "${c} s" "$(echo "100 * $p / $AUDIO_S" | bc -l | xargs printf '%.2f')%"
    row "  ratio to native" "$(echo "$v / $nv" | bc -l | xargs printf '%.1fx')" \
        "$(echo "$c / $nc" | bc -l | xargs printf '%.1fx')" "$(echo "$p / $np" | bc -l | xargs printf '%.1fx')"
done
echo "  (qemu-user on this machine's x86-64 cores, not a Pi: a rough ratio of the work, not a Pi's speed)"
