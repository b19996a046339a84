//! `loa check` exits 0 with no error (warnings allowed), 1 with any error,
//! 2 when the config cannot be read or the command line is wrong.

use crate::util::TestEnv;

const GOOD: &str = "[[broadcast]]\nat = \"06:00\"\nitems = [\"nhac-hieu.mp3\"]\n";

// Issue 2: `loa check` exits 0 with warnings only.
#[test]
fn zero_with_only_warnings() {
    let env = TestEnv::new();
    env.audio("nhac-hieu.mp3");
    env.write_playlist("default.toml", GOOD);
    // Not a playlist name: worth a warning, changes nothing on air.
    env.write_playlist("ghi-chu.txt", "lịch tuần sau\n");
    let out = env.check("2026-01-20");
    out.code(0).no_errors();
    out.problem(
        "playlists/ghi-chu.txt:1:1",
        "warning",
        "this file is not used",
    );
    out.says("no errors, 1 warning(s). Ready.");
}

// Issue 2: `loa check` exits 1 with an error among warnings.
#[test]
fn one_with_an_error_among_warnings() {
    let env = TestEnv::new();
    env.audio("nhac-hieu.mp3");
    env.write_playlist(
        "default.toml",
        "[[broadcast]]\nat = \"06:00\"\nitems = [\"nhac-hieu.mp3\", \"mat.mp3\"]\n",
    );
    env.write_playlist("ghi-chu.txt", "lịch tuần sau\n");
    let out = env.check("2026-01-20");
    out.code(1);
    out.problem(
        "playlists/ghi-chu.txt:1:1",
        "warning",
        "this file is not used",
    );
    out.error_at("playlists/default.toml:3:27", "no file \"mat.mp3\"");
    out.says("1 error(s), 1 warning(s). Fix the errors above.");
}

// Issue 2: `loa check` exits 0 when all is well.
#[test]
fn zero_when_all_is_well() {
    let env = TestEnv::new();
    env.audio("nhac-hieu.mp3");
    env.write_playlist("default.toml", GOOD);
    let out = env.run(&["check", "--date", "2026-01-20", "--days", "3"]);
    out.code(0);
    assert!(
        out.problems("error").is_empty() && out.problems("warning").is_empty(),
        "{out}"
    );
    out.says("Checked 3 day(s), 2026-01-20 to 2026-01-22: no errors, 0 warning(s). Ready.");
}

// Issue 2: `loa check` exits 2 when the config cannot be read.
#[test]
fn two_when_the_config_cannot_be_read() {
    let env = TestEnv::with_config("language = \"en\"\ntimezone = \"Asia/Ho_Chi_Minh\n");
    let out = env.run(&["check"]);
    out.code(2);
    // Where the closing quote is missing.
    let line = out.error_at("config/loa.toml:2:29", "TOML syntax error");
    assert!(line.contains("expected `\"`"), "{line}");
}

// Issue 2: `loa check --date` with a date that does not exist exits 2.
#[test]
fn two_for_a_date_that_does_not_exist() {
    let env = TestEnv::new();
    let out = env.run(&["check", "--date", "2026-02-30"]);
    out.code(2);
    assert!(
        out.stderr
            .contains("--date \"2026-02-30\" is not a real date"),
        "{out}"
    );
}
