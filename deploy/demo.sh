#!/bin/sh
# The README's first command: builds loa and runs it on the shipped sample
# config (relay simulated): checks the config, the playlists and the audio for
# the coming days, shows today's plan, then `loa demo` airs the day's first
# broadcast a few seconds from now through the real service (to the sound
# card, or to a WAV file when there is none) and prints the as-run log.
set -eu
cd "$(dirname "$0")/.."
# make and gcc: the build compiles LAME (the archive's MP3 encoder) from its C sources.
sh deploy/ensure-packages.sh pkg-config libasound2-dev make gcc
cargo build --release --locked
LOA=./target/release/loa
echo "== loa check =="
$LOA --config config/loa.toml check
echo
echo "== loa plan (today) =="
$LOA --config config/loa.toml plan
echo
echo "== loa demo =="
$LOA --config config/loa.toml demo
