//! What a test does when this machine cannot run it: it says so on stderr
//! (`SKIPPED <test>: why`, written past the test harness's capture so that
//! a plain `cargo test` shows it), never silently. A missing tool that
//! tests/run.sh installs (sox, lame, mpg123, vorbis-tools, openssh, lftp, acl,
//! faketime, python3-docx, python3-openpyxl, icecast2, ffmpeg, mosquitto,
//! mosquitto-clients) fails the test
//! when the environment variable `CI` is set: there
//! it is a broken set-up, not a reason to skip. Any other reason (the
//! machine's own /etc/loa/loa.toml, a disk too large to fill, a build
//! feature, a synchronised clock) only prints. The sshd harness is
//! stricter: a missing tool fails its tests anywhere, and so does not
//! being root under CI (see `sshd::Sshd::start`).

use std::io::Write;

/// Says that `test` (or a part of it) is skipped, and why.
pub fn skipped(test: &str, why: &str) {
    // Not eprintln!, which the harness captures and shows only for a
    // failed test: a passing run must show what it did not test.
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
}

/// `test` cannot run because a tool tests/run.sh installs is missing
/// (`why` names it and its package): fails the test under CI, else says it
/// is skipped.
pub fn tool_missing(test: &str, why: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "{test}: {why}, but tests/run.sh should have installed it"
    );
    skipped(test, why);
}
