//! Issue 4: `loa demo`, what the README's first command runs: the real
//! service on the installation's playlists, the first broadcast moved to a
//! few seconds from now, relay simulated, each step printed; without a
//! sound card (as here) the sound goes to a WAV file, taken at real time.

use std::time::Duration;

use crate::util::TestEnv;
use crate::util::service::Commune;
use crate::util::sound::tone_wav;

/// "HH:MM:SS.mmm" as milliseconds since midnight.
fn ms_of_day(t: &str) -> i64 {
    let (hms, ms) = t.split_once('.').unwrap();
    let p: Vec<i64> = hms.split(':').map(|x| x.parse().unwrap()).collect();
    ((p[0] * 60 + p[1]) * 60 + p[2]) * 1000 + ms.parse::<i64>().unwrap()
}

// Issue 4: `loa demo` airs the first broadcast a few seconds ahead and writes what it played.
#[test]
fn demo_airs_the_first_broadcast_and_writes_what_it_played() {
    // Six seconds of lead, the broadcast, the hold: all within one local day.
    let commune = Commune::for_window(Duration::ZERO, Duration::from_secs(60));
    let env = TestEnv::with_config(&format!(
        r#"language = "en"
timezone = "{}"
[paths]
audio = "../audio"
playlists = "../playlists"
state = "../state"
[relay]
warm-up = "1s"
hold = "1s"
[audio]
normalize = false
gap = "1s"
"#,
        commune.zone
    ));
    tone_wav(&env.path("audio/a.wav"), 1000.0, 1.0, 0.5, 48_000);
    tone_wav(&env.path("audio/b.wav"), 500.0, 1.5, 0.5, 48_000);
    env.write_playlist(
        "default.toml",
        "[[broadcast]]\nat = \"06:00\"\ntitle = \"Morning\"\nitems = [\"a.wav\", \"b.wav\"]\n",
    );

    let out = env.run(&["demo"]);
    out.code(0);
    out.says("Broadcast \"Morning\"");
    out.says("No audio device");
    // The relay's two edges, with their times.
    let edge = |word: &str| {
        out.stdout
            .lines()
            .find(|l| l.contains(word))
            .and_then(|l| l.split_whitespace().next())
            .map(ms_of_day)
            .unwrap_or_else(|| panic!("no {word} line\n{out}"))
    };
    let on_for = edge("RELAY OFF") - edge("RELAY ON");
    // Warm-up 1 s, 1 s, gap 1 s, 1.5 s, hold 1 s: at real time, as on air.
    assert!(
        (5_300..6_500).contains(&on_for),
        "relay on for {on_for} ms, 5.5 s expected\n{out}"
    );
    // Issue 12: the items were numbered from 2 ("[2/2] a.wav", then
    // "[3/2] b.wav"): the status's index already counts from 1.
    let numbered: Vec<(usize, usize)> = out
        .stdout
        .lines()
        .filter_map(|l| {
            let (i, n) = l
                .trim_start()
                .strip_prefix('[')?
                .split_once(']')?
                .0
                .split_once('/')?;
            Some((i.parse().ok()?, n.parse().ok()?))
        })
        .collect();
    assert!(!numbered.is_empty(), "no item line\n{out}");
    assert!(
        numbered
            .iter()
            .all(|&(i, n)| (1..=n).contains(&i) && n == 2),
        "{numbered:?}\n{out}"
    );
    // The as-run rows.
    let played: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("  ") && l.contains(" played "))
        .collect();
    assert_eq!(played.len(), 2, "{out}");
    assert!(
        played[0].contains("a.wav") && played[1].contains("b.wav"),
        "{out}"
    );
    // The WAV: what was played, 2.5 s of tones and the gap between them.
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("What was played ("))
        .unwrap_or_else(|| panic!("no WAV line\n{out}"));
    let path = line.rsplit(" is in ").next().unwrap();
    let wav = std::fs::read(path).unwrap();
    assert_eq!(&wav[..4], b"RIFF", "{path}");
    let samples: Vec<i16> = wav[44..]
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    let loud = samples.iter().filter(|s| s.abs() > 1000).count() as f64 / 2.0 / 48_000.0;
    assert!(
        (2.2..2.6).contains(&loud),
        "{loud} s of sound in {path}, 2.5 s expected"
    );
    let _ = std::fs::remove_dir_all(std::path::Path::new(path).parent().unwrap());
}
