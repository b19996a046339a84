#!/bin/sh
# The README's second command, and what CI runs: installs the system packages
# the build and the tests need, then the whole suite (format, lints, tests).
set -eu
cd "$(dirname "$0")/.."
# make and gcc: the build compiles LAME (the archive's MP3 encoder) from its C sources.
sh deploy/ensure-packages.sh pkg-config libasound2-dev make gcc sox libsox-fmt-mp3 lame mpg123 vorbis-tools \
    openssh-server openssh-client lftp acl faketime python3-docx python3-openpyxl fonts-dejavu-core \
    icecast2 ffmpeg mosquitto mosquitto-clients espeak-ng
cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --locked
