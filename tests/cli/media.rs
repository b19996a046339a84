//! The media index in STATE/loa.db: a file is probed once and its duration
//! remembered until its size or modification time changes.

use std::fs::File;

use crate::util::{TestEnv, list};

const PLAYLIST: &str = "[[broadcast]]\nat = \"06:00\"\nitems = [\"tin.mp3\"]\n";

fn planned_duration(env: &TestEnv) -> f64 {
    let plan = env.plan_json("2026-01-20");
    let b = list(&plan, "broadcasts");
    assert_eq!(b.len(), 1, "{plan:#}");
    list(&b[0], "items")[0]["duration_s"]
        .as_f64()
        .expect("duration_s")
}

// Issue 2: a file replaced (size or modification time changed) is probed again.
#[test]
fn a_replaced_file_is_probed_again() {
    let env = TestEnv::new();
    env.audio_as("nhac-hieu.mp3", "tin.mp3");
    env.write_playlist("default.toml", PLAYLIST);
    env.check("2026-01-20").code(0).no_errors();
    assert!(
        env.path("state/loa.db").is_file(),
        "the index is STATE/loa.db"
    );
    let before = planned_duration(&env);
    assert!((5.0..6.0).contains(&before), "the jingle: {before}");

    // Same name, another length (and size).
    env.audio_as("dai-hoi/ban-tin-1.mp3", "tin.mp3");
    let after = planned_duration(&env);
    assert!((11.0..12.0).contains(&after), "the bulletin: {after}");
}

// Issue 2: an unchanged file is not probed again: its duration comes from the index.
#[test]
fn an_unchanged_file_is_not_probed_again() {
    // The index trusts a file whose size and modification time are as they
    // were: overwrite the jingle with junk of the same size and put its
    // modification time back, and the remembered duration still holds.
    let env = TestEnv::new();
    env.audio_as("nhac-hieu.mp3", "tin.mp3");
    env.write_playlist("default.toml", PLAYLIST);
    let before = planned_duration(&env);
    let path = env.path("audio/tin.mp3");
    let meta = std::fs::metadata(&path).unwrap();
    let mtime = meta.modified().unwrap();
    env.write("audio/tin.mp3", vec![b'x'; meta.len() as usize]);
    File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    assert_eq!(planned_duration(&env), before);
    env.check("2026-01-20").code(0).no_errors();

    // A new modification time: probed again, and found not to be audio.
    File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(mtime + std::time::Duration::from_secs(1))
        .unwrap();
    let out = env.check("2026-01-20");
    out.code(1);
    out.error_at(
        "playlists/default.toml:3:10",
        "the file \"tin.mp3\" is not an audio file",
    );
}

// Issue 2: loa runs started together on a fresh install share one new index.
#[test]
fn loa_runs_started_together_share_a_new_index() {
    // `loa check` run while the daemon starts on a fresh install: every run
    // must open the new STATE/loa.db, none fall back to probing every time.
    let env = TestEnv::new();
    env.audio_as("nhac-hieu.mp3", "tin.mp3");
    env.write_playlist("default.toml", PLAYLIST);
    let outputs: Vec<_> = std::thread::scope(|s| {
        let runs: Vec<_> = (0..8)
            .map(|_| s.spawn(|| env.run(&["plan", "--date", "2026-01-20", "--json"])))
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    for out in &outputs {
        out.code(0);
        assert!(
            !out.stderr.contains("cannot write the state folder"),
            "{out}"
        );
    }
}
