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
# The library's unit tests on the Pi's 64-bit architecture, under Debian's
# qemu-user (the script installs the cross compiler, the multiarch libraries
# and qemu-user). Before a release, deploy/test-cross.sh alone runs everything
# for both architectures: the packages, the integration tests, the figures.
LOA_CROSS_STEPS=unit LOA_CROSS_QUICK=1 bash deploy/test-cross.sh aarch64
