//! Which playlist is in effect on a day (a dated file replaces default.toml
//! for its day only; a dated file without broadcasts is a silent day; with no
//! playlist nothing airs), and file names matched in Unicode NFC.

use crate::util::{TestEnv, list, text};

fn titles(plan: &serde_json::Value) -> Vec<&str> {
    list(plan, "broadcasts")
        .iter()
        .map(|b| text(b, "title"))
        .collect()
}

// Issue 2: a dated playlist replaces default.toml for its day only.
#[test]
fn a_dated_file_replaces_default_for_its_day_only() {
    let env = TestEnv::new();
    env.audio("nhac-hieu.mp3");
    env.write_playlist(
        "default.toml",
        "[[broadcast]]\nat = \"06:00\"\ntitle = \"Every day\"\nitems = [\"nhac-hieu.mp3\"]\n",
    );
    env.write_playlist(
        "2026-01-19.toml",
        "[[broadcast]]\nat = \"11:30\"\ntitle = \"Opening day\"\nitems = [\"nhac-hieu.mp3\"]\n",
    );
    for (date, source, expected) in [
        ("2026-01-18", "playlists/default.toml", "Every day"),
        ("2026-01-19", "playlists/2026-01-19.toml", "Opening day"),
        ("2026-01-20", "playlists/default.toml", "Every day"),
    ] {
        let plan = env.plan_json(date);
        assert_eq!(text(&plan, "source"), source, "{plan:#}");
        assert_eq!(titles(&plan), [expected], "{date}: {plan:#}");
    }
    let out = env.run(&["check", "--date", "2026-01-18", "--days", "3"]);
    out.code(0).no_errors();
    out.says("2026-01-18 Sunday: 1 broadcast(s) at 06:00 (playlists/default.toml)");
    out.says("2026-01-19 Monday: 1 broadcast(s) at 11:30 (playlists/2026-01-19.toml)");
    out.says("2026-01-20 Tuesday: 1 broadcast(s) at 06:00 (playlists/default.toml)");
}

// Issue 2: a dated playlist without broadcasts is a silent day.
#[test]
fn a_dated_file_without_broadcasts_is_a_silent_day() {
    let env = TestEnv::new();
    env.audio("nhac-hieu.mp3");
    env.write_playlist(
        "default.toml",
        "[[broadcast]]\nat = \"06:00\"\ntitle = \"Every day\"\nitems = [\"nhac-hieu.mp3\"]\n",
    );
    env.write_playlist("2026-01-19.toml", "title = \"Quốc tang\"\n");
    let plan = env.plan_json("2026-01-19");
    assert_eq!(text(&plan, "source"), "playlists/2026-01-19.toml");
    assert!(list(&plan, "broadcasts").is_empty(), "{plan:#}");
    assert!(list(&plan, "problems").is_empty(), "{plan:#}");
    let out = env.check("2026-01-19");
    out.code(0).no_errors();
    out.says("2026-01-19 Monday: a silent day, nothing airs (playlists/2026-01-19.toml)");
}

// A day that airs nothing because its only broadcast is broken is not
// called a silent day: the operator meant something to air.
#[test]
fn a_dated_file_left_empty_by_its_errors_is_not_a_silent_day() {
    let env = TestEnv::new();
    env.audio("nhac-hieu.mp3");
    env.write_playlist(
        "2026-01-19.toml",
        "[[broadcast]]\nat = \"25:00\"\nitems = [\"nhac-hieu.mp3\"]\n",
    );
    let out = env.check("2026-01-19");
    out.code(1);
    out.error_at("playlists/2026-01-19.toml:2:6", "25:00");
    out.says(
        "2026-01-19 Monday: nothing airs because the playlist has errors (see above) (playlists/2026-01-19.toml)",
    );
    assert!(!out.stdout.contains("silent day"), "{out}");
}

// Issue 2: with no playlist at all, nothing airs.
#[test]
fn no_playlist_at_all_airs_nothing() {
    let env = TestEnv::new();
    let plan = env.plan_json("2026-01-20");
    assert!(plan["source"].is_null(), "{plan:#}");
    assert!(list(&plan, "broadcasts").is_empty(), "{plan:#}");
    let out = env.check("2026-01-20");
    out.code(0).no_errors();
    out.says("2026-01-20 Tuesday: no playlist, nothing airs");
    let out = env.run(&["plan", "--date", "2026-01-20"]);
    out.code(0);
    out.says("No playlist for this day");
}

/// "Thông báo.mp3" as a Mac writes it (decomposed, NFD) and as typed (NFC).
const NFD: &str = "Tho\u{0302}ng ba\u{0301}o.mp3";
const NFC: &str = "Th\u{00f4}ng b\u{00e1}o.mp3";

/// Plans a playlist naming `in_playlist` with the jingle saved as `on_disk`.
fn plan_with_names(on_disk: &str, in_playlist: &str) {
    assert_ne!(NFD, NFC);
    let env = TestEnv::new();
    env.audio_as("nhac-hieu.mp3", on_disk);
    env.write_playlist(
        "default.toml",
        format!("[[broadcast]]\nat = \"06:00\"\nitems = [\"{in_playlist}\"]\n"),
    );
    env.check("2026-01-20").code(0).no_errors();
    let plan = env.plan_json("2026-01-20");
    let items = list(&list(&plan, "broadcasts")[0], "items");
    assert_eq!(items.len(), 1, "{plan:#}");
    assert_eq!(text(&items[0], "file"), NFC, "named in NFC: {plan:#}");
    assert!(items[0]["duration_s"].as_f64().unwrap() > 1.0, "{plan:#}");
}

// Issue 2: a file saved in NFD (as a Mac names it) is found by the playlist's NFC name.
#[test]
fn an_nfd_file_name_is_found_by_its_nfc_name() {
    plan_with_names(NFD, NFC);
}

// Issue 2: a file saved in NFC is found by the playlist's NFD name.
#[test]
fn an_nfc_file_name_is_found_by_its_nfd_name() {
    plan_with_names(NFC, NFD);
}
