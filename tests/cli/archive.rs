//! Issue 13, part 3: the broadcast archive end to end. The real `loa run`
//! with the simulated relay and the paced ALSA stand-in airs a broadcast;
//! its recording (decoded back with mpg123) holds the tones the card got,
//! in order and length; `loa log --json` names it with its SHA-256; `loa
//! archive` lists it and `loa archive play` plays it without the relay; a
//! kill -9 leaves a recording that plays up to the kill; below the disk
//! reserve, old recordings go oldest first and the as-run log is untouched.

use std::ops::Range;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::util::fixtures::sha256_hex;
use crate::util::service::{self, Commune, Service, broadcasts_toml, wait_for};
use crate::util::sound::{RATE, SoundCard, tone_wav};
use crate::util::{TestEnv, skip, text};

/// One test's installation: sim relay, 1 s warm-up, hold and gap, the
/// paced card, a playlist for today.
struct Rig {
    env: TestEnv,
    card: SoundCard,
    commune: Commune,
}

impl Rig {
    fn new(extra: &str) -> Rig {
        let commune = Commune::for_window(Duration::ZERO, Duration::from_secs(90));
        let env = TestEnv::with_config(&service::service_config(
            Some(commune.zone),
            &format!("{}{}{extra}", service::TONE_AUDIO, service::ANY_CLOCK),
        ));
        Rig {
            env,
            card: SoundCard::paced(),
            commune,
        }
    }

    fn tone(&self, name: &str, freq: f64, seconds: f64) {
        let p = self.env.path(&format!("audio/{name}"));
        tone_wav(&p, freq, seconds, 0.5, 48_000);
    }

    /// Today's playlist: one broadcast `secs` from now; its key.
    fn broadcast_in(&self, secs: i64, items: &[&str]) -> String {
        let (at, _) = self.commune.at(secs);
        self.env.write_playlist(
            &format!("{}.toml", self.commune.today()),
            broadcasts_toml(&[(&at, "Test", items)]),
        );
        format!("{} {at} #0", self.commune.today())
    }

    fn log(&self) -> Vec<Value> {
        service::log(&self.env, &self.commune.today())
    }

    fn edges(&self) -> usize {
        service::relay_edges(&self.env.path("relay.log")).len()
    }

    fn story(&self, svc: &Service) -> String {
        let log = self.env.run(&["log", "--json"]);
        let relay = std::fs::read_to_string(self.env.path("relay.log")).unwrap_or_default();
        format!(
            "--- relay.log ---\n{relay}--- loa log ---\n{}\n{}",
            log.stdout,
            svc.output()
        )
    }

    /// Waits until the as-run log names the broadcast's recording with its
    /// hash (the file closed); the first row.
    fn wait_archived(&self, svc: &Service) -> Value {
        wait_for(
            Duration::from_secs(25),
            "the recording's SHA-256 in `loa log --json`",
            || self.story(svc),
            || {
                self.log()
                    .into_iter()
                    .find(|r| r["archive_sha256"].is_string())
            },
        )
    }
}

/// The recording decoded by mpg123, mono at 48 kHz (starting with the
/// encoder's delay: at 32 kbit/s there is no LAME tag to trim it); None
/// when mpg123 is missing (the test is then skipped).
fn decode(test: &str, mp3: &Path) -> Option<Vec<f64>> {
    let out = Command::new("mpg123")
        .args(["-q", "-s", "-m", "-r", "48000", "-e", "s16"])
        .arg(mp3)
        .output();
    let Ok(out) = out else {
        skip::tool_missing(test, "mpg123 is missing (package mpg123)");
        return None;
    };
    Some(
        out.stdout
            .chunks_exact(2)
            .map(|b| f64::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
            .collect(),
    )
}

/// Runs of sound in 10 ms windows (RMS over 0.05): (start, length) in
/// seconds, and the pitch by zero crossings.
fn runs(samples: &[f64]) -> Vec<(f64, f64, f64)> {
    let w = RATE / 100;
    let mut out = Vec::new();
    let mut cur: Option<(usize, usize, usize)> = None;
    let close = |s: usize, n: usize, c: usize| {
        (
            s as f64 * 0.01,
            n as f64 * 0.01,
            c as f64 / 2.0 / (n as f64 * 0.01),
        )
    };
    for (i, win) in samples.chunks(w).enumerate() {
        let rms = (win.iter().map(|s| s * s).sum::<f64>() / win.len() as f64).sqrt();
        let crossings = win
            .windows(2)
            .filter(|p| (p[0] < 0.0) != (p[1] < 0.0))
            .count();
        match (&mut cur, rms > 0.05) {
            (Some((_, n, c)), true) => {
                *n += 1;
                *c += crossings;
            }
            (None, true) => cur = Some((i, 1, crossings)),
            (Some((s, n, c)), false) => {
                out.push(close(*s, *n, *c));
                cur = None;
            }
            (None, false) => {}
        }
    }
    if let Some((s, n, c)) = cur {
        out.push(close(s, n, c));
    }
    out
}

fn secs(r: &Range<usize>) -> (f64, f64) {
    (r.start as f64 / RATE as f64, r.len() as f64 / RATE as f64)
}

/// Whether the recording holds the tones the card got (asserted); false
/// when it cannot be decoded here (mpg123 missing: skipped).
fn same_tones(test: &str, rig: &Rig, file: &Path) -> bool {
    // The same tones as the card got, in order, lengths within 50 ms.
    let card: Vec<(f64, f64, f64)> = rig
        .card
        .capture()
        .items(RATE / 10)
        .iter()
        .map(|r| {
            let (s, l) = secs(r);
            let q = r.len() / 4;
            (s, l, rig.card.capture().frequency(r.start + q..r.end - q))
        })
        .collect();
    let Some(pcm) = decode(test, file) else {
        return false;
    };
    let arch = runs(&pcm);
    assert_eq!(card.len(), 2, "the card got {card:?}");
    assert_eq!(
        arch.len(),
        2,
        "the archive holds {arch:?}; the card got {card:?}"
    );
    for (c, a) in card.iter().zip(&arch) {
        assert!(
            (c.2 - a.2).abs() < 20.0,
            "pitch: card {card:?}, archive {arch:?}"
        );
        assert!(
            (c.1 - a.1).abs() < 0.05,
            "length: card {card:?}, archive {arch:?}"
        );
    }
    let (card_apart, arch_apart) = (card[1].0 - card[0].0, arch[1].0 - arch[0].0);
    assert!(
        (card_apart - arch_apart).abs() < 0.05,
        "second tone: {card_apart} s after the first on the card, {arch_apart} s in the archive"
    );
    assert!(
        (arch[0].2 - 440.0).abs() < 20.0 && (arch[1].2 - 880.0).abs() < 20.0,
        "{arch:?}"
    );
    true
}

/// Below the reserve (more than any disk has free), at the start, the
/// recordings go, oldest first (`older`, then the broadcast's `rel`); the
/// as-run log keeps its rows.
fn below_the_reserve(rig: &Rig, older: &[String], rel: &str) {
    let st = rustix::fs::statvfs(rig.env.root()).unwrap();
    if st.f_bavail * st.f_frsize / 1_000_000 >= 1_000_000 {
        skip::skipped(
            "a_broadcast_is_archived_as_the_card_got_it",
            "its part below the disk reserve: more free space than any reserve loa accepts",
        );
        return;
    }
    let file = rig.env.path(&format!("state/{rel}"));
    let config = std::fs::read_to_string(rig.env.config_path()).unwrap();
    rig.env
        .write_config(&format!("{config}[ingest]\nmin-free-mb = 1000000\n"));
    let rows_before = rig.log();
    let svc = Service::start(&rig.env, &rig.card);
    let deleted = wait_for(
        Duration::from_secs(10),
        "the recordings to be deleted",
        || svc.output(),
        || {
            let out = svc.output();
            let lines: Vec<String> = out
                .lines()
                .filter(|l| l.contains("deleted an old broadcast recording"))
                .map(String::from)
                .collect();
            (lines.len() == 3).then_some(lines)
        },
    );
    assert!(deleted[0].contains(&older[0][6..]), "{deleted:#?}");
    assert!(deleted[1].contains(&older[1][6..]), "{deleted:#?}");
    assert!(deleted[2].contains(rel), "{deleted:#?}");
    assert!(
        deleted.iter().all(|l| l.contains("disk-low")),
        "{deleted:#?}"
    );
    assert!(!file.exists());
    assert_eq!(rig.log(), rows_before);
    let st = service::status(&rig.env);
    let line = text(&st, "archive");
    assert!(line.starts_with("0 recordings"), "{st:#}");
    assert!(line.contains("the disk was nearly full"), "{st:#}");
}

// Issue 13: a broadcast's recording holds what the card got (the same
// tones, in the same order and lengths within 50 ms), at
// ARCHIVE/YYYY-MM-DD/HHMMSS-KEY.mp3; `loa log --json` names it with its
// SHA-256; `loa archive` lists it; `loa archive play KEY` plays it back with
// the relay left alone; then, below the disk reserve, old recordings go
// oldest first and the as-run log keeps its rows.
#[test]
fn a_broadcast_is_archived_as_the_card_got_it() {
    let test = "a_broadcast_is_archived_as_the_card_got_it";
    let rig = Rig::new("");
    rig.tone("a.wav", 440.0, 1.5);
    rig.tone("b.wav", 880.0, 1.0);
    let key = rig.broadcast_in(3, &["a.wav", "b.wav"]);
    // Two older recordings, from the two days before (kept: within 180 days).
    let today = jiff::civil::Date::strptime("%Y-%m-%d", rig.commune.today()).unwrap();
    let older: Vec<String> = [2, 1]
        .iter()
        .map(|d| {
            let day = today.checked_sub(jiff::Span::new().days(*d)).unwrap();
            let rel = format!("state/archive/{day}/053000-{day}-05-30-00-0.mp3");
            rig.env.write(&rel, b"\xff\xfb old");
            rel
        })
        .collect();
    let mut svc = Service::start(&rig.env, &rig.card);
    let row = rig.wait_archived(&svc);

    // The file, named by the broadcast's local start and key.
    let rel = text(&row, "archive").to_string();
    let day = rig.commune.today();
    let slug = key.replace([' ', ':'], "-").replace("-#", "-");
    assert!(
        rel.starts_with(&format!("archive/{day}/")) && rel.ends_with(&format!("-{slug}.mp3")),
        "{rel} for {key}"
    );
    let name = Path::new(&rel)
        .file_stem()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(name[..6].bytes().all(|b| b.is_ascii_digit()), "{name}");
    let file = rig.env.path(&format!("state/{rel}"));
    let bytes = std::fs::read(&file).unwrap();
    assert_eq!(text(&row, "archive_sha256"), sha256_hex(&bytes));
    // Every row of the broadcast names the same recording.
    for r in rig.log() {
        assert_eq!(r["archive"], row["archive"], "{r:#}");
    }

    // The same tones as the card got, in order, lengths within 50 ms.
    if !same_tones(test, &rig, &file) {
        return;
    }

    // `loa archive` lists it (and the older ones of their days).
    let list = rig.env.run(&["archive"]);
    list.code(0).says(&name).says("Test");
    let json = rig.env.run(&["archive", "--json"]).json();
    let entry = &json.as_array().unwrap()[0];
    assert_eq!(entry["file"], row["archive"], "{json:#}");
    assert_eq!(entry["broadcast_key"], key.as_str(), "{json:#}");
    assert!(
        (entry["length_s"].as_f64().unwrap() - 3.5).abs() < 0.5,
        "{json:#}"
    );

    // Played back without the relay: the card gets the tones, the relay's
    // sim-file is untouched.
    svc.signal("TERM");
    svc.wait_exit(Duration::from_secs(10));
    let edges = rig.edges();
    let play = rig
        .card
        .attach(rig.env.loa().args(&["archive", "play", &key]))
        .within(Duration::from_secs(30))
        .run();
    play.code(0);
    assert_eq!(rig.edges(), edges, "the relay was touched");
    let got = rig.card.capture().items(RATE / 10);
    assert_eq!(got.len(), 2, "{got:?}\n{play}");
    let q = |r: &Range<usize>| r.start + r.len() / 4..r.end - r.len() / 4;
    assert!((rig.card.capture().frequency(q(&got[0])) - 440.0).abs() < 20.0);
    assert!((rig.card.capture().frequency(q(&got[1])) - 880.0).abs() < 20.0);
    // An unknown name: the nearest one.
    let out = rig
        .env
        .run(&["archive", "play", &format!("{}x", &name[..name.len() - 1])]);
    out.code(1);
    assert!(
        out.stderr.contains(&format!("Did you mean \"{name}\"?")),
        "{out}"
    );

    below_the_reserve(&rig, &older, &rel);
}

// Issue 13: kill -9 mid-broadcast leaves a recording that plays up to
// about the kill; the as-run log names it, without a hash.
#[test]
fn kill_9_mid_broadcast_leaves_a_recording_that_plays_up_to_the_kill() {
    let test = "kill_9_mid_broadcast_leaves_a_recording_that_plays_up_to_the_kill";
    let rig = Rig::new("");
    rig.tone("long.wav", 440.0, 8.0);
    rig.broadcast_in(3, &["long.wav"]);
    let mut svc = Service::start(&rig.env, &rig.card);
    wait_for(
        Duration::from_secs(15),
        "long.wav 3 s on air",
        || rig.story(&svc),
        || {
            let st = service::status(&rig.env);
            (st["playing"]["elapsed_s"].as_f64().unwrap_or(0.0) >= 3.0).then_some(())
        },
    );
    svc.signal("KILL");
    svc.wait_exit(Duration::from_secs(2));
    let rows = rig.log();
    let rel = text(&rows[0], "archive").to_string();
    assert!(rows[0]["archive_sha256"].is_null(), "{rows:#?}");
    let file = rig.env.path(&format!("state/{rel}"));
    let Some(pcm) = decode(test, &file) else {
        return;
    };
    let r = runs(&pcm);
    assert_eq!(r.len(), 1, "{r:?}");
    assert!((r[0].2 - 440.0).abs() < 20.0, "{r:?}");
    // Killed 3 s in: written every quarter second, so at least 2.5 s are
    // there, and no more than went out.
    assert!(r[0].1 >= 2.5 && r[0].1 <= 4.0, "{r:?}");
    // And `loa archive play` plays it to where it stops.
    let name = Path::new(&rel).file_stem().unwrap().to_str().unwrap();
    let play = rig
        .card
        .attach(rig.env.loa().args(&["archive", "play", name]))
        .within(Duration::from_secs(30))
        .run();
    play.code(0);
    let got = rig.card.capture().items(RATE / 10);
    assert_eq!(got.len(), 1, "{got:?}\n{play}");
    assert!((secs(&got[0]).1 - r[0].1).abs() < 0.1, "{got:?} {r:?}");
}

// Issue 13: `loa check` says what is wrong with [archive].
#[test]
fn loa_check_rejects_bad_archive_settings() {
    let env = TestEnv::with_config(
        "language = \"en\"\n[archive]\nbitrate-kbps = 7\nkeep = \"forever\"\n",
    );
    let out = env.check("2026-01-20");
    out.code(1);
    out.error_at(
        "config/loa.toml:3:16",
        "`bitrate-kbps` = 7 is not a usable MP3 bitrate",
    );
    out.error_at(
        "config/loa.toml:4:8",
        "`keep` = \"forever\" is not a valid keeping time",
    );

    let env = TestEnv::with_config(
        "language = \"en\"\n[paths]\nstate = \"../state\"\n[archive]\nfolder = \"blocked/archive\"\n",
    );
    env.write("state/blocked", b"a file where a folder should be");
    let out = env.check("2026-01-20");
    out.code(1);
    out.error_at("config/loa.toml:5:1", "the archive folder");
    out.says("is a file, not a folder");
}
