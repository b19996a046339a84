//! Validation's tests: real files made with sox and lame, whole, cut,
//! zeroed in the middle, silent, too short; and the judgement on
//! measurements made up for the case.

use super::*;
use crate::duration::human;
use crate::lang::Lang;
use crate::media::mpeg::{Ending, FrameHeader};
use crate::media::test_audio::{encoders, mp3, run, wav};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// A copy of the file's first `fraction` of bytes (a cut-off upload).
fn cut(path: &Path, fraction: f64) -> PathBuf {
    let bytes = std::fs::read(path).unwrap();
    let keep = (bytes.len() as f64 * fraction) as usize;
    let out = path.with_file_name(format!("cut-{fraction}-{}", name_of(path)));
    std::fs::write(&out, &bytes[..keep]).unwrap();
    out
}

fn name_of(path: &Path) -> &str {
    path.file_name().unwrap().to_str().unwrap()
}

fn rejected(path: &Path) -> Rejection {
    match validate(&MediaPath::Given(path.to_path_buf())) {
        Verdict::Rejected(r) => r,
        Verdict::Ok(p) => panic!("{} passed: {p:?}", path.display()),
    }
}

fn passes(path: &Path) -> Probe {
    match validate(&MediaPath::Given(path.to_path_buf())) {
        Verdict::Ok(p) => p,
        Verdict::Rejected(r) => panic!("{}: {}", path.display(), r.message("", Lang::En)),
    }
}

fn scan(path: &Path) -> (Measurement, Scan) {
    measure(&MediaPath::Given(path.to_path_buf()), Scan::default()).unwrap()
}

#[test]
fn a_whole_mp3_passes_and_its_header_matches_its_frames() {
    if !encoders() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (name, opts) in [
        ("cbr.mp3", &["-b", "128"][..]),
        ("vbr.mp3", &["-V", "4"][..]),
        (
            "mono-22k.mp3",
            &["-m", "m", "--resample", "22.05", "-b", "32"][..],
        ),
    ] {
        let f = mp3(dir.path(), name, "6", "0.5", opts);
        let p = passes(&f);
        assert!(
            (p.duration.as_secs_f64() - 6.0).abs() < 0.1,
            "{name}: {p:?}"
        );
        let (m, s) = scan(&f);
        let spf = u64::from(s.mpeg.reference.unwrap().samples);
        // lame's header counts the frames after it, which all decode;
        // at 32 kbps and 22 kHz its frames are too small to hold one.
        // Decoding trims the encoder delay and padding lame declares.
        let decoded = m.frames + m.trimmed;
        assert_eq!(decoded % spf, 0, "{name}");
        let header = (name != "mono-22k.mp3").then_some(decoded / spf);
        assert_eq!(s.mpeg.header, header, "{name}");
        assert_eq!(s.mpeg.frames, decoded / spf, "{name}");
        assert_eq!((s.mpeg.gaps, s.mpeg.ending), (0, Ending::Clean), "{name}");
    }
}

// Issue 5: a half-uploaded MP3 must never air.
#[test]
fn an_mp3_cut_at_half_or_at_95_percent_is_cut_off() {
    if !encoders() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for opts in [&["-b", "128"][..], &["-V", "4"][..]] {
        let whole = mp3(dir.path(), "ban-tin.mp3", "10", "0.5", opts);
        for fraction in [0.5, 0.95] {
            let f = cut(&whole, fraction);
            let r = rejected(&f);
            let RejectKind::Truncated {
                decoded,
                announced: Some(announced),
            } = r.kind
            else {
                panic!("{opts:?} {fraction}: {r:?}");
            };
            assert!(
                (decoded.as_secs_f64() - 10.0 * fraction).abs() < 0.5,
                "{opts:?} {fraction}: {decoded:?}"
            );
            assert!(
                (announced.as_secs_f64() - 10.0).abs() < 0.1,
                "{announced:?}"
            );
            assert_eq!(r.code(), "truncated");
            let (d, a) = (human(decoded, Lang::En), human(announced, Lang::En));
            assert_eq!(
                r.message("ban-tin.mp3", Lang::En),
                format!(
                    "the file \"ban-tin.mp3\" is cut off: it holds {d} of the {a} its header \
                     announces, probably because the upload did not finish; upload it again"
                )
            );
            let (d, a) = (human(decoded, Lang::Vi), human(announced, Lang::Vi));
            assert_eq!(
                r.message("ban-tin.mp3", Lang::Vi),
                format!(
                    "Tệp \"ban-tin.mp3\" bị thiếu phần cuối: chỉ nghe được {d}, trong khi đầu \
                     tệp ghi dài {a}. Có thể việc tải lên bị ngắt giữa chừng; hãy tải lại."
                )
            );
        }
    }
}

#[test]
fn an_mp3_without_a_header_is_cut_off_when_its_last_frame_is() {
    if !encoders() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // lame -t: no Xing/Info header, as some encoders write plain CBR.
    let whole = mp3(dir.path(), "plain.mp3", "10", "0.5", &["-b", "128", "-t"]);
    let (_, s) = scan(&whole);
    assert_eq!(s.mpeg.header, None);
    passes(&whole);
    let r = rejected(&cut(&whole, 0.6));
    let RejectKind::Truncated {
        decoded,
        announced: None,
    } = r.kind
    else {
        panic!("{r:?}");
    };
    assert!((decoded.as_secs_f64() - 6.0).abs() < 0.1, "{decoded:?}");
    let d = human(decoded, Lang::En);
    assert_eq!(
        r.message("plain.mp3", Lang::En),
        format!(
            "the file \"plain.mp3\" is cut off: its sound stops abruptly after {d} and the end \
             of the file is missing, probably because the upload did not finish; upload it again"
        )
    );
    // Cut exactly between two frames, nothing tells: it passes (see the
    // module's head). Halving this one does: its 384 frames of 417 or
    // 418 bytes repeat the same pattern of padding.
    let bytes = std::fs::read(&whole).unwrap();
    let mut at = 0;
    while at < bytes.len() / 2 {
        at += FrameHeader::parse(&bytes[at..]).unwrap().len;
    }
    assert_eq!(at, bytes.len() / 2);
    passes(&cut(&whole, 0.5));
}

// Issue 5: decoders skip zeroed bytes without a word.
#[test]
fn an_mp3_with_4_kb_zeroed_in_the_middle_is_damaged_there() {
    if !encoders() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (name, opts) in [
        ("info.mp3", &["-b", "128"][..]),
        ("plain.mp3", &["-b", "128", "-t"][..]),
    ] {
        let f = mp3(dir.path(), name, "10", "0.5", opts);
        zero_middle(&f);
        let r = rejected(&f);
        let RejectKind::Damaged {
            gaps: 1,
            at: Some(at),
            ..
        } = r.kind
        else {
            panic!("{name}: {r:?}");
        };
        assert!((at.as_secs_f64() - 5.0).abs() < 0.2, "{name}: {at:?}");
        assert_eq!(r.code(), "damaged");
        assert_eq!(
            r.message(name, Lang::Vi),
            format!(
                "Tệp \"{name}\" bị hỏng ở 0:05 (phút:giây): có đoạn dữ liệu âm thanh bị mất \
                 hoặc không đọc được, nên khi phát sẽ bị ngắt quãng hoặc rè; hãy tải lại từ \
                 bản gốc."
            )
        );
        assert_eq!(
            r.message(name, Lang::En),
            format!(
                "the file \"{name}\" is damaged at 0:05 (min:s): part of its audio data is \
                 missing or unreadable, so it would play with a gap or noise; upload it again \
                 from the original"
            )
        );
    }
}

#[test]
fn tags_around_the_audio_are_not_damage() {
    if !encoders() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let f = mp3(
        dir.path(),
        "tagged.mp3",
        "6",
        "0.5",
        &[
            "-b",
            "128",
            "--add-id3v2",
            "--tt",
            "Bản tin sáng",
            "--ta",
            "Xã",
        ],
    );
    let bytes = std::fs::read(&f).unwrap();
    assert!(bytes.starts_with(b"ID3"));
    assert_eq!(&bytes[bytes.len() - 128..][..3], b"TAG");
    passes(&f);
    let (_, s) = scan(&f);
    assert_eq!(s.mpeg.ending, Ending::Tag);
    // Cut inside the ID3v1 tag: the upload did not finish.
    let short = dir.path().join("short-tag.mp3");
    std::fs::write(&short, &bytes[..bytes.len() - 40]).unwrap();
    assert_eq!(rejected(&short).code(), "truncated");
    // Cut in the audio, with its header intact.
    assert_eq!(rejected(&cut(&f, 0.5)).code(), "truncated");
}

#[test]
fn silence_and_near_silence_are_rejected() {
    if !encoders() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let silent = mp3(dir.path(), "im-lang.mp3", "5", "0", &[]);
    let r = rejected(&silent);
    // lame's output of digital silence peaks around -84 dBFS.
    let RejectKind::Silent {
        loudness_lufs: None,
        true_peak_db,
    } = r.kind
    else {
        panic!("{r:?}");
    };
    assert!(true_peak_db.is_none_or(|p| p < -80.0), "{r:?}");
    assert_eq!(
        r.message("im-lang.mp3", Lang::Vi),
        "Tệp \"im-lang.mp3\" không có tiếng hoặc tiếng quá nhỏ (không đo được độ to). Có lẽ \
         micrô bị tắt khi thu, hoặc đã xuất nhầm bản ghi; hãy nghe thử, thu âm hoặc xuất lại rồi \
         tải lên lại."
    );
    // A tone at -66 dBFS: measurable, but nobody would hear it.
    let faint = wav(dir.path(), "faint.wav", "5", 44_100, "0.0005");
    let r = rejected(&faint);
    let RejectKind::Silent {
        loudness_lufs: Some(l),
        true_peak_db: Some(p),
    } = r.kind
    else {
        panic!("{r:?}");
    };
    assert!(l < -60.0 && p < -50.0, "{l} {p}");
    assert_eq!(
        r.message("faint.wav", Lang::En),
        format!(
            "the file \"faint.wav\" is silent or almost silent (loudness {l:.0} LUFS), perhaps \
             the microphone was off or the wrong recording was exported; listen to it, record \
             or export it again, and upload it again"
        )
    );
    // Quiet but audible (-40 dBFS) passes.
    passes(&wav(dir.path(), "quiet.wav", "5", 44_100, "0.01"));
}

#[test]
fn a_very_short_file_is_too_short() {
    if !encoders() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let r = rejected(&mp3(dir.path(), "ngan.mp3", "0.2", "0.5", &[]));
    let RejectKind::TooShort { duration } = r.kind else {
        panic!("{r:?}");
    };
    // With the encoder's delay and padding.
    assert!(duration < MIN_DURATION, "{duration:?}");
    let d = human(duration, Lang::En);
    assert_eq!(
        r.message("ngan.mp3", Lang::En),
        format!(
            "the file \"ngan.mp3\" is too short ({d}; at least 0.5 s is needed), perhaps the \
             recording or the export went wrong; check the recording and upload it again"
        )
    );
    assert!(
        r.message("ngan.mp3", Lang::Vi)
            .contains("cần ít nhất 0,5 giây")
    );
}

#[test]
fn an_unusual_sample_rate_is_rejected() {
    if !encoders() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let r = rejected(&wav(dir.path(), "la.wav", "2", 37_800, "0.5"));
    assert_eq!(r.kind, RejectKind::UnusualRate { rate: 37_800 });
    assert_eq!(
        r.message("la.wav", Lang::En),
        "the file \"la.wav\" has an unusual sample rate (37800 Hz); export it again at 44100 Hz \
         or 48000 Hz (e.g. with Audacity) and upload it again"
    );
}

#[test]
fn a_wav_and_a_flac_that_are_fine_pass_and_cut_ones_do_not() {
    if !encoders() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let w = wav(dir.path(), "tot.wav", "6", 48_000, "0.5");
    let flac = dir.path().join("tot.flac");
    run("sox", &[w.to_str().unwrap(), flac.to_str().unwrap()]);
    for f in [&w, &flac] {
        let p = passes(f);
        assert_eq!(p.sample_rate, 48_000);
        assert_eq!(p.duration, Duration::from_secs(6));
        // A 440 Hz sine at -6 dBFS in both channels.
        let l = p.loudness_lufs.unwrap();
        assert!((l - -6.0).abs() < 1.0, "{l}");
        let r = rejected(&cut(f, 0.5));
        let RejectKind::Truncated {
            decoded,
            announced: Some(announced),
        } = r.kind
        else {
            panic!("{}: {r:?}", f.display());
        };
        assert!((decoded.as_secs_f64() - 3.0).abs() < 0.2, "{decoded:?}");
        assert_eq!(announced, Duration::from_secs(6));
    }
    // FLAC frames number their samples: the reader skips a damaged
    // stretch without a word, but the numbers jump.
    zero_middle(&flac);
    let r = rejected(&flac);
    let RejectKind::Damaged { at: Some(at), .. } = r.kind else {
        panic!("{r:?}");
    };
    assert!((at.as_secs_f64() - 3.0).abs() < 0.2, "{r:?}");
    // PCM has no structure to check: 4 KB of zeros is 23 ms of silence.
    zero_middle(&w);
    passes(&w);
}

/// The file with 4096 bytes zeroed in its middle.
fn zero_middle(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid..mid + 4096].fill(0);
    std::fs::write(path, &bytes).unwrap();
}

#[test]
fn an_ogg_vorbis_that_is_fine_passes_and_a_cut_or_damaged_one_does_not() {
    if !encoders() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let w = wav(dir.path(), "tot.wav", "6", 44_100, "0.5");
    let ogg = dir.path().join("tot.ogg");
    run("sox", &[w.to_str().unwrap(), ogg.to_str().unwrap()]);
    let p = passes(&ogg);
    assert_eq!(p.codec, "vorbis");
    // Symphonia decodes a cut Ogg without a word, and takes its length
    // from the last page left: only the missing end-of-stream page
    // tells.
    for fraction in [0.5, 0.95] {
        let r = rejected(&cut(&ogg, fraction));
        assert!(
            matches!(
                r.kind,
                RejectKind::Truncated {
                    announced: None,
                    ..
                }
            ),
            "{fraction}: {r:?}"
        );
    }
    zero_middle(&ogg);
    let r = rejected(&ogg);
    let RejectKind::Damaged {
        gaps, at: Some(at), ..
    } = r.kind
    else {
        panic!("{r:?}");
    };
    // Where the damaged page begins (sox writes pages of a second or
    // more).
    assert!(gaps >= 1 && at.as_secs_f64() <= 3.0, "{r:?}");
}

#[test]
fn files_that_are_not_audio_empty_or_unplayable() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("rong.mp3");
    std::fs::write(&empty, b"").unwrap();
    let r = rejected(&empty);
    assert_eq!((r.kind.clone(), r.code()), (RejectKind::Empty, "empty"));
    assert_eq!(
        r.message("rong.mp3", Lang::Vi),
        "Tệp \"rong.mp3\" rỗng (0 byte): việc tải lên chưa bắt đầu hoặc đã bị lỗi; hãy tải \
         lại."
    );

    let text = dir.path().join("van-ban.mp3");
    std::fs::write(&text, "Đây không phải âm thanh.\n".repeat(200)).unwrap();
    let r = rejected(&text);
    assert_eq!(
        (r.kind.clone(), r.code()),
        (RejectKind::NotAudio, "not-audio")
    );
    assert_eq!(
        r.message("van-ban.mp3", Lang::En),
        "the file \"van-ban.mp3\" is not an audio file (or is completely damaged); export it \
         again as MP3 and upload it again"
    );

    let opus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tone.opus");
    let r = rejected(&opus);
    assert_eq!(
        r.kind,
        RejectKind::Unsupported {
            codec: "Opus".into()
        }
    );
    assert_eq!(
        r.message("tone.opus", Lang::En),
        "the file \"tone.opus\" uses the Opus format, which loa cannot play; convert it to MP3, \
         WAV, FLAC or OGG Vorbis (e.g. with Audacity or ffmpeg) and upload it again"
    );
    assert!(
        r.message("tone.opus", Lang::Vi)
            .starts_with("Tệp \"tone.opus\" dùng định dạng Opus, loa không phát được; ")
    );

    let r = rejected(&dir.path().join("khong-co.mp3"));
    let RejectKind::Unreadable { detail } = &r.kind else {
        panic!("{r:?}");
    };
    assert_eq!(
        r.message("khong-co.mp3", Lang::En),
        format!(
            "the file \"khong-co.mp3\" cannot be read ({detail}); check the file's permissions \
             and try again"
        )
    );
}

#[test]
fn every_shipped_sample_passes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("audio");
    for entry in std::fs::read_dir(&root).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "mp3") {
            passes(&path);
        }
    }
}

/// A measurement of a file that would pass, for the checks that need
/// no real file.
fn fine(seconds: u64) -> Measurement {
    Measurement {
        probe: Probe {
            duration: Duration::from_secs(seconds),
            codec: "pcm_s16le".into(),
            sample_rate: 8_000,
            channels: 1,
            loudness_lufs: Some(-20.0),
            true_peak_db: Some(-1.0),
            decode_errors: 0,
            sha256: None,
        },
        frames: seconds * 8_000,
        trimmed: 0,
        announced_frames: Some(seconds * 8_000),
        first_error_at: None,
        skips: 0,
        first_skip_at: None,
        stream_error: None,
        bytes: seconds * 16_000 + 44,
    }
}

#[test]
fn over_two_hours_is_too_long() {
    assert_eq!(judge(&fine(7200), &Scan::default()), None);
    let kind = judge(&fine(7201), &Scan::default()).unwrap();
    assert_eq!(
        kind,
        RejectKind::TooLong {
            duration: Duration::from_secs(7201)
        }
    );
    let r = Rejection::new(kind);
    assert_eq!(
        r.message("dai.wav", Lang::Vi),
        "Tệp \"dai.wav\" quá dài (2 giờ 1 giây, tối đa 2 giờ); hãy chia thành các tệp \
         ngắn hơn rồi tải lên."
    );
    assert_eq!(
        r.message("dai.wav", Lang::En),
        "the file \"dai.wav\" is too long (2 h 1 s; at most 2 h); split it into shorter \
         files and upload those"
    );
}

#[test]
fn decode_errors_and_container_errors_are_damage_where_they_start() {
    let mut m = fine(60);
    m.probe.decode_errors = 3;
    m.first_error_at = Some(8_000 * 75);
    let kind = judge(&m, &Scan::default()).unwrap();
    assert_eq!(
        kind,
        RejectKind::Damaged {
            decode_errors: 3,
            gaps: 0,
            at: Some(Duration::from_secs(75))
        }
    );
    assert!(
        Rejection::new(kind)
            .message("x.wav", Lang::En)
            .contains("is damaged at 1:15 (min:s)")
    );
    let mut m = fine(60);
    m.frames = 8_000 * 20;
    m.stream_error = Some("riff: invalid chunk".into());
    let kind = judge(&m, &Scan::default()).unwrap();
    assert_eq!(
        kind,
        RejectKind::Damaged {
            decode_errors: 0,
            gaps: 0,
            at: Some(Duration::from_secs(20))
        }
    );
}

/// Seconds of the CPU time this process has used so far (all threads).
fn own_cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    // utime and stime, fields 14 and 15 of proc(5), in clock ticks
    // (100 a second on Linux).
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 / 100.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Issue 5's benchmark: validating a 128 kbps stereo MP3 (decoding it,
/// measuring loudness and true peak, hashing it, walking its frames)
/// against `mpg123 -t` decoding the same file, alternately, 5 runs each;
/// prints medians of wall-clock and CPU time and their ratios (target:
/// wall-clock ≤ 1.6x). Ten minutes by default (the file `cargo bench
/// --bench play_vs_mpg123` makes is reused); LOA_BENCH_SECONDS=3600 for
/// the issue's hour. Needs sox, lame and mpg123.
///
/// `cargo test --release --lib validate_vs_mpg123 -- --ignored --nocapture`
#[test]
#[ignore]
fn validate_vs_mpg123() {
    use wait4::Wait4;
    if !encoders() {
        return;
    }
    let seconds: u32 = std::env::var("LOA_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    // Made once and kept beside the play_vs_mpg123 bench's file (the
    // same music: tones, sweeps and pink noise under a slow tremolo at
    // -3 dBFS), piped from sox into lame.
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    let file = data.join(format!("music-{seconds}s-128k-44k1-stereo.mp3"));
    if !file.is_file() {
        std::fs::create_dir_all(&data).unwrap();
        let part = data.join(format!(".music-{seconds}s.mp3.part"));
        let len = seconds.to_string();
        let len = len.as_str();
        let mut sox = Command::new("sox")
            .args([
                "-q", "-n", "-r", "44100", "-c", "2", "-b", "16", "-t", "wav", "-",
            ])
            .args(["synth", len, "sine", "220", "sine", "277.18"])
            .args(["synth", len, "sine", "mix", "329.63", "sine", "mix", "440"])
            .args([
                "synth", len, "sine", "mix", "110-880", "sine", "mix", "880-110",
            ])
            .args(["synth", len, "pinknoise", "mix"])
            .args(["tremolo", "0.3", "60", "gain", "-n", "-3"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let lame = Command::new("lame")
            .args(["--quiet", "-b", "128", "--cbr", "-"])
            .arg(&part)
            .stdin(sox.stdout.take().unwrap())
            .status()
            .unwrap();
        assert!(sox.wait().unwrap().success() && lame.success());
        std::fs::rename(&part, &file).unwrap();
    }
    let (mut ours, mut ours_cpu, mut theirs, mut theirs_cpu) = (vec![], vec![], vec![], vec![]);
    for _ in 0..5 {
        let (t, c) = (std::time::Instant::now(), own_cpu());
        let verdict = validate(&MediaPath::Given(file.to_path_buf()));
        ours.push(t.elapsed().as_secs_f64());
        ours_cpu.push(own_cpu() - c);
        assert!(matches!(verdict, Verdict::Ok(_)), "{verdict:?}");
        let t = std::time::Instant::now();
        let usage = Command::new("mpg123")
            .args(["-q", "-t"])
            .arg(&file)
            .spawn()
            .expect("mpg123 runs (apt-get install mpg123)")
            .wait4()
            .unwrap();
        theirs.push(t.elapsed().as_secs_f64());
        theirs_cpu.push((usage.rusage.utime + usage.rusage.stime).as_secs_f64());
        assert!(usage.status.success());
    }
    let (w, tw) = (median(ours), median(theirs));
    let (c, tc) = (median(ours_cpu), median(theirs_cpu));
    println!(
        "validating {} ({seconds} s, 128 kbps stereo MP3), medians of 5:",
        file.display()
    );
    println!("  loa validate: {w:.3} s wall, {c:.2} s CPU");
    println!("  mpg123 -t:    {tw:.3} s wall, {tc:.2} s CPU");
    println!(
        "  ratio: {:.2}x wall (target <= 1.6x), {:.2}x CPU",
        w / tw,
        c / tc
    );
}
