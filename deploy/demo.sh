#!/bin/sh
# The README's first command: builds loa and runs it on the shipped sample
# config (relay simulated): checks the config, the playlists and the audio for
# the coming days, then shows today's plan.
set -eu
cd "$(dirname "$0")/.."
sh deploy/ensure-packages.sh pkg-config libasound2-dev
cargo build --release --locked
LOA=./target/release/loa
echo "== loa check =="
$LOA --config config/loa.toml check
echo
echo "== loa plan (today) =="
$LOA --config config/loa.toml plan
