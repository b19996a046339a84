use std::sync::mpsc;

use super::*;
use crate::media::Decoder;
use crate::media::MediaPath;

/// `secs` of a sine at `hz` (0: silence), 48 kHz stereo.
fn tone(hz: f32, secs: f32) -> Vec<f32> {
    let n = (secs * 48_000.0) as usize;
    (0..n)
        .flat_map(|i| {
            let s = if hz == 0.0 {
                0.0
            } else {
                0.5 * (2.0 * std::f32::consts::PI * hz * i as f32 / 48_000.0).sin()
            };
            [s, s]
        })
        .collect()
}

/// The file decoded to mono, and its rate.
fn decode(path: &Path) -> (Vec<f32>, u32) {
    let mut d = Decoder::open(&MediaPath::Given(path.to_path_buf())).unwrap();
    let (rate, ch) = (d.sample_rate, usize::from(d.channels));
    let mut all = Vec::new();
    while d.next_into(&mut all).unwrap() {}
    let mono = all.chunks(ch).map(|f| f.iter().sum::<f32>() / ch as f32);
    (mono.collect(), rate)
}

/// Runs of sound: (frequency by zero crossings, start s, length s), in
/// 10 ms windows.
fn runs(samples: &[f32], rate: u32) -> Vec<(f32, f32, f32)> {
    let w = (rate / 100) as usize;
    let mut out: Vec<(f32, f32, f32)> = Vec::new();
    let mut cur: Option<(usize, usize, usize)> = None; // start window, windows, crossings
    for (i, win) in samples.chunks(w).enumerate() {
        let rms = (win.iter().map(|s| s * s).sum::<f32>() / win.len() as f32).sqrt();
        let loud = rms > 0.05;
        let crossings = win
            .windows(2)
            .filter(|p| (p[0] < 0.0) != (p[1] < 0.0))
            .count();
        match (&mut cur, loud) {
            (Some((_, n, c)), true) => {
                *n += 1;
                *c += crossings;
            }
            (None, true) => cur = Some((i, 1, crossings)),
            (Some((s, n, c)), false) => {
                let hz = *c as f32 / 2.0 / (*n as f32 * 0.01);
                out.push((hz, *s as f32 * 0.01, *n as f32 * 0.01));
                cur = None;
            }
            (None, false) => {}
        }
    }
    if let Some((s, n, c)) = cur {
        out.push((
            c as f32 / 2.0 / (n as f32 * 0.01),
            s as f32 * 0.01,
            n as f32 * 0.01,
        ));
    }
    out
}

fn archive(dir: &Path) -> Archive {
    let mut cfg = Config::defaults(dir);
    cfg.archive.folder = dir.join("archive");
    cfg.tz = TimeZone::fixed(jiff::tz::Offset::constant(7));
    Archive::new(&cfg)
}

fn record(a: &Archive, key: &str, at: Timestamp, blocks: &[Vec<f32>]) -> Closed {
    let (tx, rx) = mpsc::channel();
    let (rec, mut tap) = a
        .start(key, at, Box::new(move |r| tx.send(r).unwrap()))
        .expect("the archive is on")
        .expect("the recording starts");
    tap.set_format(48_000, 2);
    for b in blocks {
        for chunk in b.chunks(2048) {
            while tap.room() < chunk.len() {
                std::thread::sleep(Duration::from_millis(2));
            }
            tap.push(chunk);
        }
    }
    drop(tap);
    let closed = rx
        .recv_timeout(Duration::from_secs(20))
        .unwrap()
        .unwrap()
        .unwrap();
    drop(rec);
    closed
}

// Issue 13: the archive holds the tones sent to the card, in order, with
// their lengths (within 50 ms), named by the broadcast's local start and key.
#[test]
fn a_recording_holds_what_was_pushed_in_order_and_length() {
    let dir = tempfile::tempdir().unwrap();
    let a = archive(dir.path());
    let at: Timestamp = "2026-01-20T23:30:05Z".parse().unwrap();
    let closed = record(
        &a,
        "2026-01-21 06:30:00 #0",
        at,
        &[tone(440.0, 1.5), tone(0.0, 0.5), tone(880.0, 1.0)],
    );
    assert_eq!(
        closed.path,
        dir.path()
            .join("archive/2026-01-21/063005-2026-01-21-06-30-00-0.mp3")
    );
    assert!((closed.duration.as_secs_f64() - 3.0).abs() < 0.01);
    assert_eq!(closed.dropped, Duration::ZERO);
    assert_eq!(
        closed.sha256,
        crate::media::measure::sha256_file(&closed.path).unwrap()
    );
    let (pcm, rate) = decode(&closed.path);
    let r = runs(&pcm, rate);
    assert_eq!(r.len(), 2, "{r:?}");
    assert!((r[0].0 - 440.0).abs() < 20.0, "{r:?}");
    assert!((r[1].0 - 880.0).abs() < 30.0, "{r:?}");
    // At 32 kbit/s the LAME tag does not fit in a frame, so decoders keep
    // the encoder's delay (about 50 ms) first: the tones keep their lengths
    // and their distance.
    assert!(r[0].1 < 0.07, "{r:?}");
    assert!((r[0].2 - 1.5).abs() < 0.05, "{r:?}");
    assert!((r[1].1 - r[0].1 - 2.0).abs() < 0.05, "{r:?}");
    assert!((r[1].2 - 1.0).abs() < 0.05, "{r:?}");
    // Listed under its day, found by its key as `loa log` shows it.
    let day = listing::day(&a.cfg.folder, jiff::civil::date(2026, 1, 21));
    assert_eq!(day.len(), 1);
    let found = listing::find(&day, "2026-01-21 06:30:00 #0").unwrap();
    assert_eq!(found.path, closed.path);
    assert!(listing::find(&day, "063005-2026-01-21-06-30-00-0").is_ok());
}

// Issue 13: a day of typical broadcasts (2 h) takes under 30 MB at 32
// kbit/s (an hour is recorded here: 14.4 MB at most).
#[test]
fn an_hour_at_32_kbps_is_about_14_mb() {
    let dir = tempfile::tempdir().unwrap();
    let a = archive(dir.path());
    let minute = tone(440.0, 60.0);
    let blocks: Vec<Vec<f32>> = (0..60).map(|_| minute.clone()).collect();
    let closed = record(&a, "hour", Timestamp::now(), &blocks);
    eprintln!("an hour at 32 kbit/s: {} bytes", closed.bytes);
    assert!(closed.bytes < 15_000_000, "{}", closed.bytes);
    assert!(closed.bytes > 13_000_000, "{}", closed.bytes);
}

// Issue 13: nothing pushed, nothing kept.
#[test]
fn a_recording_without_sound_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let a = archive(dir.path());
    let (tx, rx) = mpsc::channel();
    let (_rec, tap) = a
        .start(
            "k",
            Timestamp::now(),
            Box::new(move |r| tx.send(r).unwrap()),
        )
        .unwrap()
        .unwrap();
    drop(tap);
    assert!(
        rx.recv_timeout(Duration::from_secs(5))
            .unwrap()
            .unwrap()
            .is_none()
    );
    assert!(listing::all(&a.cfg.folder).is_empty());
}

// Issue 13: below the reserve with nothing left to delete, nothing is
// recorded (the as-run log keeps its room), and the status says so.
#[test]
fn below_the_reserve_old_recordings_go_then_recording_stops() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = archive(dir.path());
    let old = a.cfg.folder.join("2026-01-01/053000-old.mp3");
    std::fs::create_dir_all(old.parent().unwrap()).unwrap();
    std::fs::write(&old, b"x").unwrap();
    a.free_space = |_| Some(10);
    let at: Timestamp = "2026-01-20T00:00:00Z".parse().unwrap();
    assert!(a.start("k", at, Box::new(|_| {})).is_none());
    assert!(!old.exists());
    assert!(a.warning().unwrap().contains("không được ghi lại"));
    assert!(a.summary().contains("đĩa sắp đầy"), "{}", a.summary());
}

#[test]
fn file_keys_are_safe_names() {
    assert_eq!(file_key("2026-01-20 06:00:00 #0"), "2026-01-20-06-00-00-0");
    assert_eq!(
        file_key("2026-01-20 emergency 06:01:02"),
        "2026-01-20-emergency-06-01-02"
    );
    assert_eq!(file_key("../x/ y"), "x-y");
}
