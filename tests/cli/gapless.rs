//! Issue 13: gapless decoding. A tone that starts and ends at full level,
//! made by the tools an operator uses (lame, oggenc, sox), plays for exactly
//! its length, fading in from its first sample and out to its last; `loa
//! media` and `loa plan` give it that length. Before, an MP3 played lame's
//! ~1,100 priming samples and its padding: the fade-in was spent on the
//! near-silent priming, and the fade-out on the padding, after the tone had
//! stopped at full level.

use std::path::Path;
use std::process::Command;

use crate::util::sound::{RATE, SoundCard, write_wav};
use crate::util::{DEFAULT_CONFIG, TestEnv, age, instant, list, ms_between, skip};

/// The encoders the tones need, and their packages.
const TOOLS: [(&str, &str); 3] = [("sox", "sox"), ("lame", "lame"), ("oggenc", "vorbis-tools")];

/// Whether the encoders are installed; says `test` is skipped when not.
fn encoders(test: &str) -> bool {
    let on_path = |tool: &str| {
        std::env::var_os("PATH")
            .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(tool).is_file()))
    };
    let missing: Vec<&str> = TOOLS
        .iter()
        .filter(|(tool, _)| !on_path(tool))
        .map(|(_, pkg)| *pkg)
        .collect();
    if !missing.is_empty() {
        skip::tool_missing(test, &format!("{} not installed", missing.join(", ")));
    }
    missing.is_empty()
}

/// The tone's length.
const SECONDS: f64 = 2.0;

/// 2.000 s of a 1 kHz cosine at 0.9 of full scale, in the format `dest`'s
/// extension names, at `rate`, mono: full level from the first sample to
/// the last, with no fade of its own. `work` holds the WAV it is encoded
/// from.
fn full_tone(work: &Path, dest: &Path, rate: u32) {
    let frames = (SECONDS * f64::from(rate)) as usize;
    let samples: Vec<i16> = (0..frames)
        .map(|i| {
            let t = i as f64 / f64::from(rate);
            (0.9 * (2.0 * std::f64::consts::PI * 1000.0 * t).cos() * 32767.0).round() as i16
        })
        .collect();
    let ext = dest.extension().and_then(|e| e.to_str()).unwrap_or("");
    if ext == "wav" {
        write_wav(dest, &samples, rate, 1);
        return;
    }
    let wav = work.join(format!("tone-{rate}.wav"));
    write_wav(&wav, &samples, rate, 1);
    let (src, dst) = (wav.to_str().unwrap(), dest.to_str().unwrap());
    let (tool, args): (&str, Vec<&str>) = match ext {
        // lame's defaults: a LAME Info header that declares its delay and
        // padding.
        "mp3" => ("lame", vec!["--quiet", "-b", "128", src, dst]),
        "ogg" => ("oggenc", vec!["-Q", "-q", "5", "-o", dst, src]),
        "flac" => ("sox", vec![src, dst]),
        other => panic!("no encoder for .{other}"),
    };
    let status = Command::new(tool).args(&args).status().unwrap();
    assert!(status.success(), "{tool} {args:?} failed");
}

/// The files played, each with its rate: MP3 at both common rates, the
/// others at the card's rate and at another.
const TONES: [(&str, u32); 5] = [
    ("tone-44k.mp3", 44_100),
    ("tone-48k.mp3", 48_000),
    ("tone.wav", 48_000),
    ("tone.flac", 44_100),
    ("tone.ogg", 44_100),
];

// Issue 13: the fade-in starts at the first sample of the recording and the
// fade-out ends at its last, in every format: lame's priming samples and
// padding are trimmed, so a 2.000 s tone plays for 2.000 s (±1 ms), its
// first and last millisecond under 10% of its peak.
#[test]
fn every_format_fades_from_its_first_sample_to_its_last() {
    if !encoders("every_format_fades_from_its_first_sample_to_its_last") {
        return;
    }
    let env = TestEnv::with_config(&format!(
        "{DEFAULT_CONFIG}[audio]\nnormalize = false\nfade = \"20ms\"\ngap = \"1s\"\n"
    ));
    for (name, rate) in TONES {
        full_tone(env.root(), &env.path("audio").join(name), rate);
    }
    let card = SoundCard::paced();
    let mut args = vec!["play", "--no-relay"];
    args.extend(TONES.iter().map(|(name, _)| *name));
    let out = card.attach(env.loa().args(&args)).run();
    out.code(0);
    let cap = card.capture();
    let items = cap.items(RATE / 10);
    assert_eq!(items.len(), TONES.len(), "{items:?}\n{out}");
    let ms = RATE / 1000;
    for ((name, _), r) in TONES.iter().zip(items) {
        let seconds = r.len() as f64 / RATE as f64;
        let peak = cap.peak(r.clone());
        let level = |from_ms: usize, to_ms: usize| {
            cap.peak(r.start + from_ms * ms..r.start + to_ms * ms) / peak
        };
        let level_before_end = |from_ms: usize, to_ms: usize| {
            cap.peak(r.end - from_ms * ms..r.end - to_ms * ms) / peak
        };
        let report = format!(
            "{name}: {seconds:.4} s; peak {peak:.3}; first ms {:.3}, 9-11 ms {:.3}, 25-45 ms {:.3}; \
             last ms {:.3}, 11-9 ms before the end {:.3}, 45-25 ms before {:.3}",
            level(0, 1),
            level(9, 11),
            level(25, 45),
            level_before_end(1, 0),
            level_before_end(11, 9),
            level_before_end(45, 25),
        );
        assert!(peak > 0.8, "{report}");
        // The whole tone, and no more.
        assert!((seconds - SECONDS).abs() <= 0.001, "{report}");
        // The first and last millisecond are the fades' start and end.
        assert!(level(0, 1) < 0.1, "{report}");
        assert!(level_before_end(1, 0) < 0.1, "{report}");
        // Half way through the 20 ms raised-cosine fades, about half the
        // level; full level once they are over.
        assert!((0.3..0.75).contains(&level(9, 11)), "{report}");
        assert!((0.3..0.75).contains(&level_before_end(11, 9)), "{report}");
        assert!(level(25, 45) > 0.9, "{report}");
        assert!(level_before_end(45, 25) > 0.9, "{report}");
        let f = cap.frequency(r.start + RATE / 10..r.end - RATE / 10);
        assert!((f - 1000.0).abs() < 5.0, "{report}: {f} Hz");
    }
}

// Issue 13: `loa media` and `loa plan` give a lame-encoded 2.000 s tone its
// recording's length, not lame's delay and padding besides (2.037 s).
#[test]
fn media_and_plan_give_an_mp3_its_gapless_length() {
    if !encoders("media_and_plan_give_an_mp3_its_gapless_length") {
        return;
    }
    let env = TestEnv::new();
    full_tone(env.root(), &env.path("audio/tone.mp3"), 44_100);
    // A finished upload, not one still being written.
    age(&env.path("audio/tone.mp3"));
    env.write_playlist(
        "default.toml",
        "[[broadcast]]\nat = \"06:00\"\nitems = [\"tone.mp3\", \"tone.mp3\"]\n",
    );
    let plan = env.plan_json("2026-01-20");
    let b = &list(&plan, "broadcasts")[0];
    let items = list(b, "items");
    assert_eq!(items.len(), 2, "{plan:#}");
    for item in items {
        assert_eq!(item["duration_s"].as_f64(), Some(2.0), "{item:#}");
        let (start, end) = (instant(item, "start"), instant(item, "end"));
        assert_eq!(ms_between(start, end), 2_000, "{item:#}");
    }

    // Measured for the plan, `loa media` lists it with the same length.
    let out = env.run(&["media", "--json"]);
    out.code(0);
    let media = out.json();
    let row = list(&media, "files")
        .iter()
        .find(|r| r["name"] == "tone.mp3")
        .cloned()
        .unwrap_or_else(|| panic!("tone.mp3 not listed\n{media:#}"));
    assert_eq!(row["duration_s"].as_f64(), Some(2.0), "{row:#}");
}
