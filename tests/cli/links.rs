//! Issue 10: the audio folder is untrusted input. An upload account could
//! plant a symbolic link to the state folder (the service "rejected" the
//! as-run log into rejected/, then aired a broadcast twice), to a file
//! outside (the service read it), to itself (a loop), or a hard link.
//! These tests plant each with `loa run` running and check what must hold:
//! nothing outside the audio folder is opened, moved or written, the
//! as-run log and the config stay where they are, and the operator is told
//! plainly what the link is (`loa status`, `loa media`, a note in
//! `rejected/`).

use std::os::unix::fs::{OpenOptionsExt, symlink};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::Value;

use crate::util::TestEnv;
use crate::util::service::{self, Service, wait_for};
use crate::util::sound::{SoundCard, tone_wav};

fn env() -> TestEnv {
    TestEnv::with_config(
        r#"language = "en"
[paths]
audio = "../audio"
playlists = "../playlists"
state = "../state"
[relay]
backend = "sim"
sim-file = "../relay.log"
warm-up = "0s"
hold = "0s"
[schedule]
require-clock-sync = false
"#,
    )
}

/// The warnings of `loa status --json`, joined.
fn warnings(env: &TestEnv) -> String {
    service::status(env)["warnings"]
        .as_array()
        .map(|w| {
            w.iter()
                .filter_map(|x| x.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

/// Waits until `loa status` warns about `name`.
fn wait_warned(env: &TestEnv, svc: &Service, name: &str) -> String {
    wait_for(
        Duration::from_secs(15),
        &format!("a warning about {name} in `loa status`"),
        || svc.output(),
        || {
            let w = warnings(env);
            w.contains(&format!("\"{name}\"")).then_some(w)
        },
    )
}

/// The row of `loa media --json` for NAME.
fn media_row(env: &TestEnv, name: &str) -> Option<Value> {
    let out = env.run(&["media", "--json"]);
    out.code(0);
    out.json()["files"]
        .as_array()?
        .iter()
        .find(|r| r["name"] == name)
        .cloned()
}

/// Watches a named pipe: true once anyone opened it for reading.
struct Tripwire {
    opened: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
}

impl Tripwire {
    fn new(fifo: &Path) -> Tripwire {
        rustix::fs::mknodat(
            rustix::fs::CWD,
            fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o644),
            0,
        )
        .unwrap();
        let (opened, stop) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicBool::new(false)),
        );
        let (o, s, f) = (opened.clone(), stop.clone(), fifo.to_path_buf());
        std::thread::spawn(move || {
            while !s.load(Ordering::Acquire) {
                // A non-blocking open for writing succeeds only while a
                // reader has the pipe open.
                if std::fs::OpenOptions::new()
                    .write(true)
                    .custom_flags(libc::O_NONBLOCK)
                    .open(&f)
                    .is_ok()
                {
                    o.store(true, Ordering::Release);
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        Tripwire { opened, stop }
    }

    fn opened(&self) -> bool {
        self.opened.load(Ordering::Acquire)
    }
}

impl Drop for Tripwire {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
    }
}

/// Inode of a path (not following a link).
fn ino(p: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(p).unwrap().ino()
}

/// Airs one short emergency so that the as-run log has a row.
fn air_one(env: &TestEnv, svc: &Service) -> String {
    tone_wav(&env.path("audio/tone.wav"), 1000.0, 1.0, 0.5, 48_000);
    wait_for(
        Duration::from_secs(20),
        "tone.wav to be taken up",
        || svc.output(),
        || {
            media_row(env, "tone.wav")
                .filter(|r| r["status"] == "ok")
                .map(|_| ())
        },
    );
    env.run(&["now", "tone.wav"]).code(0);
    let today = service::status(env)["now"].as_str().unwrap()[..10].to_string();
    wait_for(
        Duration::from_secs(20),
        "the emergency to be logged played",
        || svc.output(),
        || {
            let rows = service::log(env, &today);
            rows.iter().any(|r| r["status"] == "played").then_some(())
        },
    );
    today
}

// Issue 10: a link to the state folder is reported and never followed.
#[test]
fn a_link_to_the_state_folder_is_reported_and_never_followed() {
    let env = env();
    let card = SoundCard::unpaced();
    let svc = Service::start(&env, &card);
    let today = air_one(&env, &svc);
    let db = env.path("state/loa.db");
    let db_ino = ino(&db);
    // As the upload account would: `sftp> symlink /var/lib/loa/state /audio/st`.
    symlink(env.path("state"), env.path("audio/st")).unwrap();
    let w = wait_warned(&env, &svc, "st");
    assert!(
        w.contains("symbolic link") && w.contains("does not follow"),
        "{w}"
    );
    // Give the service time to do its worst.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(ino(&db), db_ino, "the as-run log was moved");
    assert!(!env.path("audio/rejected/st").exists(), "a link was moved");
    assert!(
        std::fs::read_dir(env.path("state"))
            .unwrap()
            .flatten()
            .all(|e| !e.file_name().to_string_lossy().contains(".txt")),
        "something was written into the state folder"
    );
    let note = std::fs::read_to_string(env.path("audio/rejected/st.txt"))
        .expect("a note beside where the link would go");
    assert!(note.contains("symbolic link"), "{note}");
    assert!(
        std::fs::symlink_metadata(env.path("audio/st"))
            .unwrap()
            .is_symlink()
    );
    // The log is whole: the row is still there.
    assert!(
        service::log(&env, &today)
            .iter()
            .any(|r| r["status"] == "played")
    );
    // `loa media` reports it, never as a file that plays.
    let row = media_row(&env, "st").expect("`loa media` lists the link");
    assert_eq!(row["status"], "rejected", "{row}");
    assert!(media_row(&env, "st/loa.db").is_none());
    // Naming a file through it is refused.
    let out = env.run(&["now", "st/loa.db"]);
    assert_ne!(out.code, Some(0), "{out}");
    assert_eq!(ino(&db), db_ino);
}

// Issue 10: a link to a file outside the audio folder is never opened.
#[test]
fn a_link_to_a_file_outside_is_never_opened() {
    let env = env();
    let outside = tempfile::tempdir().unwrap();
    let fifo = outside.path().join("passwd");
    let wire = Tripwire::new(&fifo);
    let secret = outside.path().join("secret.mp3");
    std::fs::copy(crate::util::repo().join("audio/nhac-hieu.mp3"), &secret).unwrap();
    let card = SoundCard::unpaced();
    let svc = Service::start(&env, &card);
    symlink(&fifo, env.path("audio/pw.mp3")).unwrap();
    symlink(&secret, env.path("audio/song.mp3")).unwrap();
    wait_warned(&env, &svc, "pw.mp3");
    wait_warned(&env, &svc, "song.mp3");
    // The standalone commands do not open it either.
    env.write_playlist(
        "default.toml",
        "[[broadcast]]\nat = \"23:59\"\nitems = [\"pw.mp3\", \"song.mp3\"]\n",
    );
    let check = env.run(&["check", "--days", "1"]);
    check.code(1);
    assert!(
        check.stdout.contains("symbolic link"),
        "loa check must say the item is a link\n{check}"
    );
    let m = media_row(&env, "song.mp3").expect("listed");
    assert_eq!(m["status"], "rejected", "{m}");
    assert!(
        m["sha256"].is_null(),
        "the file behind the link was read: {m}"
    );
    let out = env.run(&["play", "--no-relay", "pw.mp3"]);
    assert_ne!(out.code, Some(0));
    std::thread::sleep(Duration::from_secs(2));
    assert!(!wire.opened(), "loa opened the pipe behind the link");
    assert!(secret.exists() && fifo.exists(), "a file outside was moved");
    drop(svc);
}

// Issue 10: a folder link loop and a hard link are reported and left alone.
#[test]
fn a_folder_link_loop_and_a_hard_link_are_reported_and_left_alone() {
    let env = env();
    let outside = tempfile::tempdir_in(env.root()).unwrap();
    let target = outside.path().join("config-copy.mp3");
    std::fs::copy(crate::util::repo().join("audio/nhac-hieu.mp3"), &target).unwrap();
    let card = SoundCard::unpaced();
    let svc = Service::start(&env, &card);
    std::fs::create_dir_all(env.path("audio/dai-hoi")).unwrap();
    symlink("..", env.path("audio/dai-hoi/loop")).unwrap();
    std::fs::hard_link(&target, env.path("audio/hard.mp3")).unwrap();
    wait_warned(&env, &svc, "dai-hoi/loop");
    let w = wait_warned(&env, &svc, "hard.mp3");
    assert!(w.contains("hard link"), "{w}");
    let row = media_row(&env, "hard.mp3").expect("listed");
    assert_eq!(row["status"], "rejected", "{row}");
    assert!(
        env.path("audio/hard.mp3").exists(),
        "the hard link was moved"
    );
    assert!(!env.path("audio/rejected/hard.mp3").exists());
    // The service still answers and the config is where it was.
    service::status(&env);
    assert!(env.config_path().is_file());
    let rel = |p: PathBuf| p.exists();
    assert!(rel(target.clone()));
}
