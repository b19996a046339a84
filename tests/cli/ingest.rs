//! Issue 5: what operators upload (scp, sftp, WinSCP) must play, or be
//! refused with a plain reason, and never air half uploaded. Standalone,
//! `loa import`, `loa check` and `loa media` on files made with real
//! encoders (sox, lame; see `util::fixtures`) and then cut, zeroed or
//! emptied as failed uploads leave them; with `loa run` (sim relay, the
//! ALSA stand-in), uploads written slowly, under a temporary name, cut off,
//! replaced, and fifty at once during a broadcast. Each test checks what
//! the operator sees: the verdict and its message, where the file ended up,
//! `loa media --json`, `loa check`, `loa log --json` and the sound.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use unicode_normalization::UnicodeNormalization;

use crate::util::fixtures::{Fixtures, cut, fixtures, sha256_hex, zeroed_in_the_middle};
use crate::util::service::{self, Commune, Service, broadcasts_toml, wait_for};
use crate::util::sound::{RATE, SoundCard, tone_wav};
use crate::util::{DEFAULT_CONFIG, Output, TestEnv, list, skip, text};

/// A playlist naming one file, for `loa check` (the item is at 3:10).
fn one_item_playlist(name: &str) -> String {
    format!("[[broadcast]]\nat = \"06:00\"\nitems = [{name:?}]\n")
}

const DATE: &str = "2026-01-20";
const ITEM_AT: &str = "playlists/default.toml:3:10";

/// `loa media --json`, exit code 0 expected.
fn media(env: &TestEnv) -> Value {
    let out = env.run(&["media", "--json"]);
    out.code(0);
    out.json()
}

/// The row of `loa media --json` for NAME, if listed.
fn media_row(media: &Value, name: &str) -> Option<Value> {
    list(media, "files")
        .iter()
        .find(|r| r["name"] == name)
        .cloned()
}

/// Every file below `dir`, as "/"-separated paths (sorted), but for the
/// service's own status note (TINH-TRANG.txt, issue 10).
fn files_below(dir: &Path) -> Vec<String> {
    let mut all = files_below_all(dir);
    all.retain(|f| f != "TINH-TRANG.txt");
    all
}

/// Every file below `dir`, as "/"-separated paths (sorted).
fn files_below_all(dir: &Path) -> Vec<String> {
    fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let rel = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            if e.path().is_dir() {
                walk(&e.path(), &rel, out);
            } else {
                out.push(rel);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, "", &mut out);
    out.sort();
    out
}

/// A bad upload and the phrase its message must hold (English).
struct Bad {
    name: &'static str,
    bytes: Vec<u8>,
    phrase: &'static str,
}

/// The bad files of the issue, from the fixtures.
fn bad_files(fx: &Fixtures) -> Vec<Bad> {
    let whole = fx.bytes("ban-tin.mp3");
    vec![
        Bad {
            name: "nua.mp3",
            bytes: cut(&whole, 0.5),
            phrase: "is cut off: it holds 5.0 s of the 10.0 s its header announces, probably \
                     because the upload did not finish; upload it again",
        },
        Bad {
            name: "gan-het.mp3",
            bytes: cut(&whole, 0.95),
            phrase: "is cut off: it holds 9.5 s of the 10.0 s its header announces, probably \
                     because the upload did not finish; upload it again",
        },
        Bad {
            name: "hong.mp3",
            bytes: zeroed_in_the_middle(&whole, 4096),
            phrase: "is damaged at 0:05 (min:s): part of its audio data is missing or \
                     unreadable, so it would play with a gap or noise; upload it again from the \
                     original",
        },
        Bad {
            name: "rong.mp3",
            bytes: Vec::new(),
            phrase: "is empty (0 bytes)",
        },
        Bad {
            name: "van-ban.mp3",
            bytes: "Đây không phải âm thanh.\n".repeat(200).into_bytes(),
            phrase: "is not an audio file (or is completely damaged); export it again as MP3 and \
                     upload it again",
        },
        Bad {
            name: "tone.opus",
            bytes: std::fs::read(crate::util::data("tone.opus")).unwrap(),
            phrase: "uses the Opus format, which loa cannot play; convert it to MP3, WAV, FLAC \
                     or OGG Vorbis",
        },
        Bad {
            name: "ngan.mp3",
            bytes: fx.bytes("ngan.mp3"),
            phrase: "is too short (0.2 s; at least 0.5 s is needed), perhaps the recording or \
                     the export went wrong; check the recording and upload it again",
        },
        Bad {
            name: "im-lang.mp3",
            bytes: fx.bytes("im-lang.mp3"),
            phrase: "is silent or almost silent (no sound loud enough to measure), perhaps the \
                     microphone was off or the wrong recording was exported",
        },
    ]
}

fn bad(fx: &Fixtures, name: &str) -> Bad {
    bad_files(fx)
        .into_iter()
        .find(|b| b.name == name)
        .unwrap_or_else(|| panic!("no bad file {name}"))
}

// ---------------------------------------------------------------------
// Standalone: `loa import`.

// Issue 5: `loa import` refuses each bad file with its reason and copies none of them.
#[test]
fn loa_import_refuses_each_bad_file_with_its_reason_and_copies_nothing() {
    let Some(fx) = fixtures("loa_import_refuses_each_bad_file_with_its_reason_and_copies_nothing")
    else {
        return;
    };
    let env = TestEnv::new();
    let bads = bad_files(fx);
    let mut args = vec!["import".to_string()];
    for b in &bads {
        args.push(
            env.write(&format!("uploads/{}", b.name), &b.bytes)
                .display()
                .to_string(),
        );
    }
    let args: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    let out = env.run(&args);
    out.code(1);
    for b in &bads {
        let line = format!("✗ {}: the file \"{}\" {}", b.name, b.name, b.phrase);
        assert!(
            out.stdout.lines().any(|l| l.starts_with(&line)),
            "no line starting {line:?}\n{out}"
        );
    }
    assert!(!out.stdout.contains('✓'), "{out}");
    // Nothing copied in, not even a temporary file; nothing indexed.
    assert_eq!(files_below(&env.path("audio")), Vec::<String>::new());
    assert!(list(&media(&env), "files").is_empty());
    // The originals are where they were, untouched.
    for b in &bads {
        let at = env.path(&format!("uploads/{}", b.name));
        assert_eq!(std::fs::read(&at).unwrap(), b.bytes, "{}", at.display());
    }
}

// Issue 5: `loa import --to` copies a good file into the subfolder and a bad one nowhere.
#[test]
fn loa_import_to_a_subfolder_copies_a_good_file_there_and_a_bad_one_nowhere() {
    let Some(fx) =
        fixtures("loa_import_to_a_subfolder_copies_a_good_file_there_and_a_bad_one_nowhere")
    else {
        return;
    };
    let env = TestEnv::new();
    let good = fx.bytes("ban-tin.mp3");
    let src_good = env.write("uploads/ban-tin.mp3", &good);
    let src_bad = env.write("uploads/nua.mp3", cut(&good, 0.5));
    let out = env.run(&[
        "import",
        src_good.to_str().unwrap(),
        src_bad.to_str().unwrap(),
        "--to",
        "dai-hoi",
    ]);
    out.code(1);
    // The 10 s recording's own length, without lame's delay and padding
    // (issue 13).
    out.says("✓ dai-hoi/ban-tin.mp3: accepted (10 s, 44100 Hz); use the name \"dai-hoi/ban-tin.mp3\" in playlists");
    out.says("✗ nua.mp3: the file \"nua.mp3\" is cut off");
    assert_eq!(files_below(&env.path("audio")), ["dai-hoi/ban-tin.mp3"]);
    assert_eq!(
        std::fs::read(env.path("audio/dai-hoi/ban-tin.mp3")).unwrap(),
        good
    );

    // Indexed as it was validated: `loa media` knows it without probing.
    let m = media(&env);
    let row = media_row(&m, "dai-hoi/ban-tin.mp3").expect("listed");
    assert_eq!(row["status"], "ok", "{m:#}");
    assert!(row["reason"].is_null(), "{m:#}");
    assert_eq!(row["codec"], "mp3", "{m:#}");
    assert_eq!(row["sample_rate"], 44_100, "{m:#}");
    assert_eq!(text(&row, "sha256"), sha256_hex(&good), "{m:#}");
    let d = row["duration_s"].as_f64().unwrap();
    assert!((d - 10.0).abs() < 0.1, "{m:#}");
    assert_eq!(
        m["unused"],
        serde_json::json!(["dai-hoi/ban-tin.mp3"]),
        "{m:#}"
    );
    assert!(media_row(&m, "nua.mp3").is_none(), "{m:#}");

    // A playlist can use the name import told.
    env.write_playlist("default.toml", one_item_playlist("dai-hoi/ban-tin.mp3"));
    env.check(DATE).code(0).no_errors();
    let m = media(&env);
    let row = media_row(&m, "dai-hoi/ban-tin.mp3").unwrap();
    assert_eq!(
        row["playlists"],
        serde_json::json!(["default.toml"]),
        "{m:#}"
    );
    assert_eq!(row["used"], true, "{m:#}");
}

// Issue 5: `loa import` accepts a WAV and a FLAC that are fine.
#[test]
fn loa_import_accepts_a_wav_and_a_flac_that_are_fine() {
    let Some(fx) = fixtures("loa_import_accepts_a_wav_and_a_flac_that_are_fine") else {
        return;
    };
    let env = TestEnv::new();
    let wav = fx.path("tot.wav");
    let flac = fx.path("tot.flac");
    let out = env.run(&["import", wav.to_str().unwrap(), flac.to_str().unwrap()]);
    out.code(0);
    out.says("✓ tot.wav: accepted (6 s, 48000 Hz)");
    out.says("✓ tot.flac: accepted (6 s, 48000 Hz)");
    assert_eq!(files_below(&env.path("audio")), ["tot.flac", "tot.wav"]);
    let m = media(&env);
    for (name, codec) in [("tot.wav", "pcm_s16le"), ("tot.flac", "flac")] {
        let row = media_row(&m, name).expect("listed");
        assert_eq!(row["status"], "ok", "{m:#}");
        assert_eq!(row["codec"], codec, "{m:#}");
        assert_eq!(row["sample_rate"], 48_000, "{m:#}");
        assert_eq!(row["duration_s"].as_f64(), Some(6.0), "{m:#}");
        // A 440 Hz sine at -6 dBFS in both channels: about -6 LUFS.
        let l = row["loudness_lufs"].as_f64().unwrap();
        assert!((l - -6.0).abs() < 1.0, "{m:#}");
        let p = row["true_peak_db"].as_f64().unwrap();
        assert!((p - -6.0).abs() < 0.5, "{m:#}");
        let bytes = std::fs::read(env.path(&format!("audio/{name}"))).unwrap();
        assert_eq!(
            bytes,
            std::fs::read(fx.path(name)).unwrap(),
            "{name} changed"
        );
        assert_eq!(text(&row, "sha256"), sha256_hex(&bytes), "{m:#}");
    }
}

// Issue 5: `loa import` gives its verdicts in Vietnamese by default.
#[test]
fn loa_import_speaks_vietnamese_by_default() {
    let Some(fx) = fixtures("loa_import_speaks_vietnamese_by_default") else {
        return;
    };
    let env = TestEnv::with_config(&DEFAULT_CONFIG.replace("language = \"en\"\n", ""));
    let whole = fx.bytes("ban-tin.mp3");
    let cut_off = env.write("uploads/ban-tin.mp3", cut(&whole, 0.5));
    let empty = env.write("uploads/rong.mp3", b"");
    let good = env.write("uploads/tot.mp3", &whole);
    let out = env.run(&[
        "import",
        cut_off.to_str().unwrap(),
        empty.to_str().unwrap(),
        good.to_str().unwrap(),
    ]);
    out.code(1);
    out.says(
        "✗ ban-tin.mp3: Tệp \"ban-tin.mp3\" bị thiếu phần cuối: chỉ nghe được 5,0 giây, trong \
         khi đầu tệp ghi dài 10,0 giây. Có thể việc tải lên bị ngắt giữa chừng; hãy tải lại.",
    );
    out.says(
        "✗ rong.mp3: Tệp \"rong.mp3\" rỗng (0 byte): việc tải lên chưa bắt đầu hoặc đã bị lỗi; \
         hãy tải lại.",
    );
    // Gapless: the recording's 10 s, not lame's delay and padding (issue 13).
    out.says(
        "✓ tot.mp3: Đã nhận (10 giây, 44100 Hz); hãy dùng tên \"tot.mp3\" trong danh sách phát.",
    );
    assert_eq!(files_below(&env.path("audio")), ["tot.mp3"]);
}

// Issue 5: below the reserve of free space (`[ingest] min-free-mb`) loa
// "refuses ingest rather than ever failing to write the as-run log":
// `loa import` is ingest too.
#[test]
fn loa_import_refuses_below_the_free_space_reserve() {
    let Some(fx) = fixtures("loa_import_refuses_below_the_free_space_reserve") else {
        return;
    };
    let env = TestEnv::with_config(&format!(
        "{DEFAULT_CONFIG}[ingest]\nmin-free-mb = 1000000\n"
    ));
    let free = free_mb(env.root());
    if free >= 1_000_000 {
        skip::skipped(
            "loa_import_refuses_below_the_free_space_reserve",
            &format!("{free} MB free, more than any reserve loa accepts"),
        );
        return;
    }
    let src = env.write("uploads/tin.mp3", fx.bytes("ban-tin.mp3"));
    let out = env.run(&["import", src.to_str().unwrap()]);
    out.code(1);
    assert!(
        out.lines().any(|l| l.contains("the disk is nearly full")),
        "{out}"
    );
    assert_eq!(files_below(&env.path("audio")), Vec::<String>::new());
}

// ---------------------------------------------------------------------
// Standalone: files placed directly in the audio folder (no service
// running), as `loa check` and `loa media` see them.

/// Puts BAD straight into the audio folder with a playlist naming it:
/// `loa check` must give the verdict and `loa media` the same reason; the
/// file stays where it is (only the service moves files).
fn placed_directly_is_reported(test: &str, name: &str) {
    let Some(fx) = fixtures(test) else {
        return;
    };
    let b = bad(fx, name);
    let env = TestEnv::new();
    env.write_old(&format!("audio/{name}"), &b.bytes);
    env.write_playlist("default.toml", one_item_playlist(name));

    // Not yet judged: never "ok".
    let before = media(&env);
    let row = media_row(&before, name).expect("listed");
    assert_ne!(row["status"], "ok", "{before:#}");

    let out = env.check(DATE);
    out.code(1);
    let message = format!("the file \"{name}\" {}", b.phrase);
    out.error_at(ITEM_AT, &message);

    let after = media(&env);
    let row = media_row(&after, name).expect("listed");
    assert_eq!(row["status"], "rejected", "{after:#}");
    assert!(
        text(&row, "reason").contains(&message),
        "reason lacks {message:?}: {after:#}"
    );
    assert!(row["duration_s"].is_null(), "{after:#}");
    assert_eq!(
        row["playlists"],
        serde_json::json!(["default.toml"]),
        "{after:#}"
    );
    // `loa plan` does not plan it either.
    let plan = env.run(&["plan", "--date", DATE, "--json"]);
    assert!(
        plan.stdout.contains(b.phrase) || plan.stderr.contains(b.phrase),
        "{plan}"
    );
    assert_eq!(
        std::fs::read(env.path(&format!("audio/{name}"))).unwrap(),
        b.bytes
    );
    assert_eq!(files_below(&env.path("audio")), [name]);
}

// Issue 5: an MP3 cut at half, put in the audio folder, is reported cut off.
#[test]
fn a_placed_mp3_cut_at_half_is_reported_cut_off() {
    placed_directly_is_reported("a_placed_mp3_cut_at_half_is_reported_cut_off", "nua.mp3");
}

// Issue 5: an MP3 cut at 95%, put in the audio folder, is reported cut off.
#[test]
fn a_placed_mp3_cut_at_95_percent_is_reported_cut_off() {
    placed_directly_is_reported(
        "a_placed_mp3_cut_at_95_percent_is_reported_cut_off",
        "gan-het.mp3",
    );
}

// Issue 5: an MP3 with 4 KB zeroed in the middle is reported damaged.
#[test]
fn a_placed_mp3_with_4_kb_zeroed_is_reported_damaged() {
    placed_directly_is_reported(
        "a_placed_mp3_with_4_kb_zeroed_is_reported_damaged",
        "hong.mp3",
    );
}

// Issue 5: an empty file in the audio folder is reported empty.
#[test]
fn a_placed_empty_file_is_reported_empty() {
    placed_directly_is_reported("a_placed_empty_file_is_reported_empty", "rong.mp3");
}

// Issue 5: a text file named .mp3 in the audio folder is reported not audio.
#[test]
fn a_placed_text_file_named_mp3_is_reported_not_audio() {
    placed_directly_is_reported(
        "a_placed_text_file_named_mp3_is_reported_not_audio",
        "van-ban.mp3",
    );
}

// Issue 5: an Opus file in the audio folder is reported in a format loa cannot play.
#[test]
fn a_placed_opus_file_is_reported_unsupported() {
    placed_directly_is_reported("a_placed_opus_file_is_reported_unsupported", "tone.opus");
}

// Issue 5: a file of 0.2 s in the audio folder is reported too short.
#[test]
fn a_placed_file_of_0_2_s_is_reported_too_short() {
    placed_directly_is_reported("a_placed_file_of_0_2_s_is_reported_too_short", "ngan.mp3");
}

// Issue 5: a silent file in the audio folder is reported silent.
#[test]
fn a_placed_silent_file_is_reported_silent() {
    placed_directly_is_reported("a_placed_silent_file_is_reported_silent", "im-lang.mp3");
}

// Issue 5: a WAV and a FLAC that are fine, put in the audio folder, check clean.
#[test]
fn placed_wav_and_flac_that_are_fine_check_clean() {
    let Some(fx) = fixtures("placed_wav_and_flac_that_are_fine_check_clean") else {
        return;
    };
    let env = TestEnv::new();
    for name in ["tot.wav", "tot.flac"] {
        env.write_old(&format!("audio/{name}"), fx.bytes(name));
    }
    env.write_playlist(
        "default.toml",
        "[[broadcast]]\nat = \"06:00\"\nitems = [\"tot.wav\", \"tot.flac\"]\n",
    );
    env.check(DATE).code(0).no_errors();
    let plan = env.plan_json(DATE);
    let items = list(&list(&plan, "broadcasts")[0], "items");
    for it in items {
        assert_eq!(it["duration_s"].as_f64(), Some(6.0), "{plan:#}");
    }
    let m = media(&env);
    for name in ["tot.wav", "tot.flac"] {
        let row = media_row(&m, name).expect("listed");
        assert_eq!(row["status"], "ok", "{m:#}");
        assert_eq!(row["sample_rate"], 48_000, "{m:#}");
        assert_eq!(row["used"], true, "{m:#}");
    }
    assert_eq!(m["unused"], serde_json::json!([]), "{m:#}");
}

// Issue 5: bad files in the audio folder are reported in Vietnamese by default.
#[test]
fn placed_bad_files_are_reported_in_vietnamese_by_default() {
    let Some(fx) = fixtures("placed_bad_files_are_reported_in_vietnamese_by_default") else {
        return;
    };
    let env = TestEnv::with_config(&DEFAULT_CONFIG.replace("language = \"en\"\n", ""));
    env.write_old("audio/rong.mp3", b"");
    env.write_old("audio/tone.opus", bad(fx, "tone.opus").bytes);
    env.write_playlist(
        "default.toml",
        "[[broadcast]]\nat = \"06:00\"\nitems = [\"rong.mp3\", \"tone.opus\"]\n",
    );
    let out = env.check(DATE);
    out.code(1);
    out.problem(ITEM_AT, "lỗi", "Tệp \"rong.mp3\" rỗng (0 byte)");
    out.problem(
        "playlists/default.toml:3:22",
        "lỗi",
        "Tệp \"tone.opus\" dùng định dạng Opus, loa không phát được",
    );
    let m = media(&env);
    let row = media_row(&m, "tone.opus").unwrap();
    assert_eq!(row["status"], "rejected", "{m:#}");
    assert!(
        text(&row, "reason").contains("hãy chuyển sang MP3, WAV, FLAC hoặc OGG Vorbis"),
        "{m:#}"
    );
}

// Issue 5: an upload named in Unicode NFD is found by its NFC name.
#[test]
fn an_nfd_named_upload_is_found_by_its_nfc_name() {
    let Some(fx) = fixtures("an_nfd_named_upload_is_found_by_its_nfc_name") else {
        return;
    };
    let env = TestEnv::new();
    let nfc = "Thông báo.mp3";
    let nfd: String = nfc.nfd().collect();
    assert_ne!(nfd, nfc);
    env.write_old(&format!("audio/{nfd}"), fx.bytes("ban-tin.mp3"));
    env.write_playlist("default.toml", one_item_playlist(nfc));
    env.check(DATE).code(0).no_errors();
    let plan = env.plan_json(DATE);
    let it = &list(&list(&plan, "broadcasts")[0], "items")[0];
    let d = it["duration_s"].as_f64().unwrap();
    assert!((d - 10.0).abs() < 0.1, "{plan:#}");
    let m = media(&env);
    let row = media_row(&m, nfc).expect("listed by its NFC name");
    assert_eq!(row["status"], "ok", "{m:#}");
    assert_eq!(row["used"], true, "{m:#}");
    assert_eq!(m["name_problems"], serde_json::json!([]), "{m:#}");
    // Imported from a Mac's (NFD) name, it lands under the NFC one.
    let env2 = TestEnv::new();
    let src = env2.write(&format!("uploads/{nfd}"), fx.bytes("ban-tin.mp3"));
    env2.run(&["import", src.to_str().unwrap()])
        .code(0)
        .says(&format!("✓ {nfc}: accepted"));
    assert_eq!(files_below(&env2.path("audio")), [nfc]);
}

// Issue 5: two uploads whose names differ only in Unicode form are a conflict.
#[test]
fn two_uploads_differing_only_in_unicode_form_are_a_conflict() {
    let Some(fx) = fixtures("two_uploads_differing_only_in_unicode_form_are_a_conflict") else {
        return;
    };
    let env = TestEnv::new();
    let nfc = "Thông báo.mp3";
    let nfd: String = nfc.nfd().collect();
    env.write_old(&format!("audio/{nfd}"), fx.bytes("ban-tin.mp3"));
    env.write(&format!("audio/{nfc}"), fx.bytes("tone-1000.mp3"));
    let m = media(&env);
    let problems = list(&m, "name_problems");
    assert!(
        problems.iter().any(|p| p
            .as_str()
            .is_some_and(|p| p.contains("differ only in case or in how the accents were typed"))),
        "{m:#}"
    );
}

// ---------------------------------------------------------------------
// With the service running.

/// One test's installation for `loa run`: the sim relay and short timings
/// as in the service tests, the commune's zone, a sound card.
struct Station {
    env: TestEnv,
    card: SoundCard,
    commune: Commune,
}

impl Station {
    /// For a test whose broadcasts are all within the coming `minutes`.
    fn new(card: SoundCard, minutes: u64) -> Station {
        let commune = Commune::for_window(Duration::ZERO, Duration::from_secs(minutes * 60));
        let env = TestEnv::with_config(&service::service_config(
            Some(commune.zone),
            &format!("{}{}", service::TONE_AUDIO, service::ANY_CLOCK),
        ));
        Station { env, card, commune }
    }

    /// A mono sine in audio/NAME at half scale, at the capture's rate.
    fn tone(&self, name: &str, freq: f64, seconds: f64) {
        tone_wav(
            &self.env.path(&format!("audio/{name}")),
            freq,
            seconds,
            0.5,
            48_000,
        );
    }

    /// Today's dated playlist: (at, title, items).
    fn playlist(&self, broadcasts: &[(&str, &str, &[&str])]) {
        self.env
            .write_playlist(&self.playlist_name(), broadcasts_toml(broadcasts));
    }

    fn playlist_name(&self) -> String {
        format!("{}.toml", self.commune.today())
    }

    fn start(&self) -> Service {
        Service::start(&self.env, &self.card)
    }

    fn media(&self) -> Value {
        media(&self.env)
    }

    fn log(&self) -> Vec<Value> {
        service::log(&self.env, &self.commune.today())
    }

    fn check(&self) -> Output {
        self.env.check(&self.commune.today())
    }

    /// What to show when a wait or an assert fails.
    fn story(&self, svc: &Service) -> String {
        let relay = std::fs::read_to_string(self.env.path("relay.log")).unwrap_or_default();
        let log = self.env.run(&["log", "--json"]);
        let m = self.env.run(&["media", "--json"]);
        format!(
            "--- audio folder ---\n{:#?}\n--- loa media --json ---\n{}\n--- relay.log ---\n{relay}\
             --- loa log --json ---\n{}\n{}",
            files_below(&self.env.path("audio")),
            m.stdout,
            log.stdout,
            svc.output()
        )
    }

    /// Waits until `loa media --json` lists NAME with STATUS; that row.
    fn wait_status(&self, svc: &Service, name: &str, status: &str, limit: Duration) -> Value {
        wait_for(
            limit,
            &format!("{name} to be {status} in `loa media`"),
            || self.story(svc),
            || media_row(&self.media(), name).filter(|r| r["status"] == status),
        )
    }

    /// Waits until the relay has gone on and off `n` times after start-up.
    fn wait_broadcasts(&self, svc: &Service, n: usize, limit: Duration) {
        wait_for(
            limit,
            &format!("{n} relay on-off cycles"),
            || self.story(svc),
            || {
                let e = service::relay_edges(&self.env.path("relay.log"));
                let e: Vec<_> = e.into_iter().skip_while(|(_, on)| !on).collect();
                (e.iter().filter(|(_, on)| !on).count() >= n && !e.last().unwrap().1).then_some(())
            },
        );
    }

    /// Waits until `loa status` shows FILE on the air.
    fn wait_playing(&self, svc: &Service, file: &str) {
        wait_for(
            Duration::from_secs(15),
            &format!("{file} on the air"),
            || self.story(svc),
            || (service::status(&self.env)["playing"]["file"] == file).then_some(()),
        );
    }

    /// The stretches of sound longer than 0.1 s.
    fn sounds(&self) -> Vec<std::ops::Range<usize>> {
        self.card.capture().items(RATE / 10)
    }

    fn pitch(&self, r: &std::ops::Range<usize>) -> f64 {
        let q = r.len() / 4;
        self.card.capture().frequency(r.start + q..r.end - q)
    }
}

fn secs(frames: usize) -> f64 {
    frames as f64 / RATE as f64
}

/// The rows of `loa log --json` for FILE.
fn rows_for<'a>(rows: &'a [Value], file: &str) -> Vec<&'a Value> {
    rows.iter().filter(|r| r["file"] == file).collect()
}

// Issue 5: an upload written slowly is judged only once it is closed, never half uploaded.
#[test]
fn an_upload_written_slowly_is_judged_only_once_closed() {
    let Some(fx) = fixtures("an_upload_written_slowly_is_judged_only_once_closed") else {
        return;
    };
    let st = Station::new(SoundCard::unpaced(), 1);
    let svc = st.start();
    let bytes = fx.bytes("ban-tin.mp3");
    let path = st.env.path("audio/cham.mp3");
    let mut f = std::fs::File::create(&path).unwrap();
    let chunk = bytes.len().div_ceil(10);
    let not_judged = |when: &str| {
        assert!(
            !st.env.path("audio/rejected").exists(),
            "judged {when}\n{}",
            st.story(&svc)
        );
        let m = st.media();
        if let Some(row) = media_row(&m, "cham.mp3") {
            assert_eq!(row["status"], "pending", "{when}\n{}", st.story(&svc));
        }
    };
    for piece in bytes.chunks(chunk) {
        f.write_all(piece).unwrap();
        f.flush().unwrap();
        std::thread::sleep(Duration::from_millis(300));
        not_judged("while it was written");
    }
    // Whole, but still open: the writer may have more.
    std::thread::sleep(Duration::from_millis(500));
    not_judged("before the writer closed it");
    drop(f);

    let row = st.wait_status(&svc, "cham.mp3", "ok", Duration::from_secs(10));
    let d = row["duration_s"].as_f64().unwrap();
    assert!((d - 10.0).abs() < 0.1, "{row:#}");
    assert_eq!(text(&row, "sha256"), sha256_hex(&bytes), "{row:#}");
    assert!(
        !st.env.path("audio/rejected").exists(),
        "{}",
        st.story(&svc)
    );
    // Files that pass are never modified.
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    assert!(svc.output().contains("upload taken up"), "{}", svc.output());
}

/// WinSCP's upload of BYTES as audio/tin.mp3: half of it under the
/// temporary name, stalled for longer than an upload may rest (it must not
/// be judged: it would be cut off), then the rest, then the rename, after
/// which it is taken up.
fn filepart_upload(st: &Station, svc: &Service, part: &Path, bytes: &[u8]) {
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(
        files_below(&st.env.path("audio")),
        ["tin.mp3.filepart"],
        "a .filepart was touched\n{}",
        st.story(svc)
    );
    let m = st.media();
    assert!(
        list(&m, "files")
            .iter()
            .all(|r| r["status"] != "rejected" && r["status"] != "ok"),
        "{m:#}"
    );
    let mut f = std::fs::OpenOptions::new().append(true).open(part).unwrap();
    f.write_all(&bytes[bytes.len() / 2..]).unwrap();
    drop(f);
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(files_below(&st.env.path("audio")), ["tin.mp3.filepart"]);

    std::fs::rename(part, st.env.path("audio/tin.mp3")).unwrap();
    let row = st.wait_status(svc, "tin.mp3", "ok", Duration::from_secs(10));
    assert_eq!(text(&row, "sha256"), sha256_hex(bytes), "{row:#}");
    let d = row["duration_s"].as_f64().unwrap();
    assert!((d - 10.0).abs() < 0.1, "{row:#}");
    assert_eq!(files_below(&st.env.path("audio")), ["tin.mp3"]);
    assert_eq!(std::fs::read(st.env.path("audio/tin.mp3")).unwrap(), bytes);
}

// Issue 5: a .filepart upload is left alone until it is renamed.
#[test]
fn a_filepart_is_left_alone_until_renamed() {
    let Some(fx) = fixtures("a_filepart_is_left_alone_until_renamed") else {
        return;
    };
    let st = Station::new(SoundCard::unpaced(), 1);
    let svc = st.start();
    let bytes = fx.bytes("ban-tin.mp3");
    let part = st
        .env
        .write("audio/tin.mp3.filepart", &bytes[..bytes.len() / 2]);
    filepart_upload(&st, &svc, &part, &bytes);
}

// Issue 5: a .filepart there when the service starts is left alone until renamed.
#[test]
fn a_filepart_present_at_start_up_is_left_alone_until_renamed() {
    let Some(fx) = fixtures("a_filepart_present_at_start_up_is_left_alone_until_renamed") else {
        return;
    };
    let st = Station::new(SoundCard::unpaced(), 1);
    let bytes = fx.bytes("ban-tin.mp3");
    let part = st
        .env
        .write("audio/tin.mp3.filepart", &bytes[..bytes.len() / 2]);
    let svc = st.start();
    filepart_upload(&st, &svc, &part, &bytes);
}

/// What `loa` must say of the cut-off upload audio/ban-tin.mp3 (English).
const CUT_OFF: &str = "the file \"ban-tin.mp3\" is cut off: it holds 5.0 s of the 10.0 s its \
                       header announces, probably because the upload did not finish; upload it \
                       again";

/// Uploads half of ban-tin.mp3 while the service runs (today's playlist
/// names it) and checks what the operator then sees: the file moved to
/// rejected/ with a note beside it, and `loa media`, `loa check` and `loa
/// status` naming it with the reason.
fn upload_cut_off(st: &Station, svc: &Service, fx: &Fixtures) {
    let bytes = cut(&fx.bytes("ban-tin.mp3"), 0.5);
    st.env.write("audio/ban-tin.mp3", &bytes);

    // The file in rejected/ comes last, its note already beside it.
    let note_path = st.env.path("audio/rejected/ban-tin.mp3.txt");
    wait_for(
        Duration::from_secs(8),
        "rejected/ban-tin.mp3",
        || st.story(svc),
        || {
            st.env
                .path("audio/rejected/ban-tin.mp3")
                .is_file()
                .then_some(())
        },
    );
    let note = std::fs::read_to_string(&note_path).unwrap();
    assert!(note.starts_with(CUT_OFF), "{note}");
    assert!(
        note.contains("The file \"ban-tin.mp3\" was moved to the rejected/ folder at "),
        "{note}"
    );
    assert!(
        note.contains("upload it again into the audio folder"),
        "{note}"
    );
    assert_eq!(
        std::fs::read(st.env.path("audio/rejected/ban-tin.mp3")).unwrap(),
        bytes,
        "the rejected file is kept as uploaded"
    );
    assert!(!st.env.path("audio/ban-tin.mp3").exists());

    let m = st.media();
    let row = media_row(&m, "ban-tin.mp3").expect("listed");
    assert_eq!(row["status"], "rejected", "{m:#}");
    assert!(text(&row, "reason").contains(CUT_OFF), "{m:#}");
    assert_eq!(
        row["playlists"],
        serde_json::json!([st.playlist_name()]),
        "{m:#}"
    );
    assert!(
        !list(&m, "unused").iter().any(|n| n == "ban-tin.mp3"),
        "{m:#}"
    );

    let out = st.check();
    out.code(1);
    let reported = out.problems("error");
    assert!(
        reported.iter().any(|l| {
            l.starts_with(&format!("playlists/{}:", st.playlist_name()))
            && l.contains(
                "the file \"ban-tin.mp3\" was rejected when uploaded and is in the rejected/ folder"
            )
            && l.contains(CUT_OFF)
        }),
        "{out}"
    );
    // The service says so too, once it has heard the verdict.
    wait_for(
        Duration::from_secs(5),
        "`loa status` to name the rejected file",
        || format!("{:#}\n{}", service::status(&st.env), st.story(svc)),
        || {
            service::status(&st.env)["last_error"]
                .as_str()
                .is_some_and(|e| e.contains("ban-tin.mp3") && e.contains("is cut off"))
                .then_some(())
        },
    );
}

// Issue 5: a cut-off upload is moved to rejected/ with a note that says why.
#[test]
fn a_cut_off_upload_is_moved_to_rejected_with_a_note_that_says_why() {
    let Some(fx) = fixtures("a_cut_off_upload_is_moved_to_rejected_with_a_note_that_says_why")
    else {
        return;
    };
    let st = Station::new(SoundCard::unpaced(), 2);
    let (at, _) = st.commune.at(100);
    st.playlist(&[(&at, "Tin", &["ban-tin.mp3"])]);
    let svc = st.start();
    upload_cut_off(&st, &svc, fx);
}

// Issue 19 (found by deploy/test-deploy.sh): under the unit's
// RestrictSUIDSGID=yes a `mkdir` asking for the setgid bit is refused, and
// a bad upload stayed in the audio folder, "loa could not move it to
// rejected/: Operation not permitted". With systemd's filter (the
// no-setgid shim) on the service and the audio folder setgid as the
// package makes it, a bad upload, also one in a subfolder sent with
// `scp -r` (mode 0755), is moved to rejected/ with its note.
#[test]
fn under_restrict_suid_sgid_a_bad_upload_is_still_moved_to_rejected() {
    let test = "under_restrict_suid_sgid_a_bad_upload_is_still_moved_to_rejected";
    let Some(fx) = fixtures(test) else {
        return;
    };
    let Some(shim) = crate::util::c_shim(test, "no-setgid-shim") else {
        return;
    };
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    // The filter is in force: what loa did before is refused.
    let probe = tempfile::tempdir().unwrap();
    let refused = std::process::Command::new("mkdir")
        .args(["-m", "2775", "x"])
        .current_dir(probe.path())
        .env("LD_PRELOAD", &shim)
        .output()
        .unwrap();
    assert!(
        !refused.status.success()
            && String::from_utf8_lossy(&refused.stderr).contains("Operation not permitted"),
        "the shim does not refuse mkdir -m 2775: {refused:?}"
    );

    let st = Station::new(SoundCard::unpaced(), 2);
    let audio = st.env.path("audio");
    std::fs::set_permissions(&audio, std::fs::Permissions::from_mode(0o2775)).unwrap();
    let (at, _) = st.commune.at(100);
    st.playlist(&[(&at, "Tin", &["ban-tin.mp3"])]);
    let svc = Service::start_with(&st.env, &st.card, &[("LD_PRELOAD", shim.as_os_str())]);
    upload_cut_off(&st, &svc, fx);
    // rejected/ is group-writable (the operator deletes what is in it).
    // Made below a setgid folder it is setgid too, unless the umask left
    // out the group's write: adding it is a chmod the filter refuses while
    // setgid is set (under the unit's UMask=0007 no chmod is needed).
    let rejected = st.env.path("audio/rejected");
    let group_writable = |p: &Path| mode(p) & 0o070 == 0o070;
    assert!(group_writable(&rejected), "{:o}", mode(&rejected));

    // A folder as `scp -r` leaves it, with a cut-off file in it.
    let sub = st.env.path("audio/dai-hoi");
    std::fs::create_dir(&sub).unwrap();
    std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o755)).unwrap();
    let bytes = cut(&fx.bytes("ban-tin.mp3"), 0.5);
    st.env.write("audio/dai-hoi/tin.mp3", &bytes);
    wait_for(
        Duration::from_secs(20),
        "rejected/dai-hoi/tin.mp3",
        || st.story(&svc),
        || {
            st.env
                .path("audio/rejected/dai-hoi/tin.mp3")
                .is_file()
                .then_some(())
        },
    );
    let note = std::fs::read_to_string(st.env.path("audio/rejected/dai-hoi/tin.mp3.txt")).unwrap();
    assert!(
        note.contains("was moved to the rejected/ folder at"),
        "{note}"
    );
    assert!(!st.env.path("audio/dai-hoi/tin.mp3").exists());
    let made = rejected.join("dai-hoi");
    assert!(group_writable(&made), "{:o}", mode(&made));
    // The sent folder is made group-writable even though setgid is refused.
    assert!(group_writable(&sub), "{:o}", mode(&sub));
    let out = st.env.run(&["status"]);
    assert!(!out.stdout.contains("could not move"), "{out}");
}

// When a bad upload cannot be moved (here a file named `rejected` is in the
// way of the folder), the operator is told it stays where it is and is
// not aired, in status and in the service's log, never that it was moved.
#[test]
fn a_bad_upload_that_cannot_be_moved_is_said_to_stay_where_it_is() {
    let test = "a_bad_upload_that_cannot_be_moved_is_said_to_stay_where_it_is";
    let Some(fx) = fixtures(test) else {
        return;
    };
    let st = Station::new(SoundCard::unpaced(), 2);
    st.env.write("audio/rejected", b"not a folder");
    let svc = st.start();
    let bytes = cut(&fx.bytes("ban-tin.mp3"), 0.5);
    st.env.write("audio/ban-tin.mp3", &bytes);
    let stays = "it stays where it is and is not aired";
    let status = wait_for(
        Duration::from_secs(20),
        "status to say ban-tin.mp3 could not be moved",
        || st.story(&svc),
        || {
            let out = st.env.run(&["status"]);
            (out.stdout.contains("ban-tin.mp3") && out.stdout.contains(stays)).then_some(out)
        },
    );
    assert!(
        status.stdout.contains("loa could not move it to rejected/"),
        "{status}"
    );
    assert_eq!(
        std::fs::read(st.env.path("audio/ban-tin.mp3")).unwrap(),
        bytes,
        "{status}"
    );
    let log = svc.output();
    assert!(
        log.contains("upload rejected but not moved to rejected/"),
        "{log}"
    );
    assert!(
        !log.contains("upload rejected: moved to rejected/"),
        "{log}"
    );
}

// Issue 5: a playlist item whose file was rejected "at air time is skipped
// and recorded as failed with that reason"; the rest of the broadcast
// plays.
#[test]
fn a_rejected_file_is_recorded_failed_at_air_time_while_the_others_play() {
    let Some(fx) = fixtures("a_rejected_file_is_recorded_failed_at_air_time_while_the_others_play")
    else {
        return;
    };
    let st = Station::new(SoundCard::paced(), 1);
    st.tone("a.wav", 1000.0, 2.0);
    st.tone("b.wav", 500.0, 2.0);
    let (at, _) = st.commune.at(12);
    st.playlist(&[(&at, "Tin", &["a.wav", "ban-tin.mp3", "b.wav"])]);
    let svc = st.start();
    upload_cut_off(&st, &svc, fx);

    st.wait_broadcasts(&svc, 1, Duration::from_secs(25));
    let rows = st.log();
    let failed = rows_for(&rows, "ban-tin.mp3");
    assert_eq!(failed.len(), 1, "{rows:#?}");
    assert_eq!(failed[0]["status"], "failed", "{rows:#?}");
    assert!(
        failed[0]["error"]
            .as_str()
            .is_some_and(|e| e.contains(CUT_OFF)),
        "{rows:#?}"
    );
    assert!(failed[0]["started"].is_null(), "{rows:#?}");
    for file in ["a.wav", "b.wav"] {
        let r = rows_for(&rows, file);
        assert_eq!(r.len(), 1, "{rows:#?}");
        assert_eq!(r[0]["status"], "played", "{rows:#?}");
    }
    let sounds = st.sounds();
    assert_eq!(sounds.len(), 2, "{sounds:?}\n{}", st.story(&svc));
    for (r, freq) in sounds.iter().zip([1000.0, 500.0]) {
        assert!((secs(r.len()) - 2.0).abs() < 0.05, "{} s", secs(r.len()));
        let f = st.pitch(r);
        assert!((f - freq).abs() < 10.0, "{f} Hz instead of {freq}");
    }
}

// Issue 5: once `loa check` (run while the service was stopped) has looked
// at a cut-off file, the service must still validate it at start-up: a
// probe is not a verdict.
#[test]
fn a_cut_off_file_checked_before_the_service_started_is_still_rejected() {
    let Some(fx) = fixtures("a_cut_off_file_checked_before_the_service_started_is_still_rejected")
    else {
        return;
    };
    let st = Station::new(SoundCard::unpaced(), 1);
    let bytes = cut(&fx.bytes("ban-tin.mp3"), 0.5);
    st.env.write("audio/ban-tin.mp3", &bytes);
    let (at, _) = st.commune.at(8);
    st.playlist(&[(&at, "Tin", &["ban-tin.mp3"])]);
    let _ = st.check();
    let svc = st.start();
    let note_path = st.env.path("audio/rejected/ban-tin.mp3.txt");
    wait_for(
        Duration::from_secs(6),
        "rejected/ban-tin.mp3.txt",
        || st.story(&svc),
        || note_path.is_file().then_some(()),
    );
    let m = st.media();
    assert_eq!(
        media_row(&m, "ban-tin.mp3").unwrap()["status"],
        "rejected",
        "{m:#}"
    );
    // And it does not air.
    std::thread::sleep(Duration::from_secs(4));
    let rows = st.log();
    assert!(rows.iter().all(|r| r["status"] != "played"), "{rows:#?}");
    assert!(st.sounds().is_empty(), "{}", st.story(&svc));
}

// Issue 5: a file replaced under the same name is measured again and its new version airs.
#[test]
fn a_file_replaced_under_the_same_name_is_measured_and_aired_anew() {
    let Some(fx) = fixtures("a_file_replaced_under_the_same_name_is_measured_and_aired_anew")
    else {
        return;
    };
    let st = Station::new(SoundCard::paced(), 1);
    let old = fx.bytes("tone-1000.mp3");
    let new = fx.bytes("tone-500.mp3");
    st.env.write("audio/tin.mp3", &old);
    let (first, _) = st.commune.at(5);
    let (second, _) = st.commune.at(20);
    st.playlist(&[
        (&first, "Sang", &["tin.mp3"]),
        (&second, "Chieu", &["tin.mp3"]),
    ]);
    let svc = st.start();
    let row = st.wait_status(&svc, "tin.mp3", "ok", Duration::from_secs(5));
    assert_eq!(text(&row, "sha256"), sha256_hex(&old), "{row:#}");
    let d_old = row["duration_s"].as_f64().unwrap();
    assert!((d_old - 3.0).abs() < 0.1, "{row:#}");

    // The first broadcast airs it. (The stand-in card's capture starts
    // afresh each time the device is opened: listen now.)
    st.wait_broadcasts(&svc, 1, Duration::from_secs(15));
    let heard = |freq: f64, len: f64| {
        let sounds = st.sounds();
        assert_eq!(sounds.len(), 1, "{sounds:?}\n{}", st.story(&svc));
        let f = st.pitch(&sounds[0]);
        assert!((f - freq).abs() < 10.0, "{f} Hz instead of {freq}");
        let l = secs(sounds[0].len());
        assert!((l - len).abs() < 0.1, "{l} s, not {len}");
    };
    heard(1000.0, 3.0);

    // A new version replaces it in place (as scp does: truncate and write).
    std::fs::write(st.env.path("audio/tin.mp3"), &new).unwrap();
    let row = wait_for(
        Duration::from_secs(8),
        "the new version in `loa media`",
        || st.story(&svc),
        || {
            media_row(&st.media(), "tin.mp3")
                .filter(|r| r["status"] == "ok" && r["sha256"] == sha256_hex(&new))
        },
    );
    let d_new = row["duration_s"].as_f64().unwrap();
    assert!((d_new - 4.0).abs() < 0.1, "{row:#}");

    st.wait_broadcasts(&svc, 2, Duration::from_secs(25));
    let rows = st.log();
    let shas: Vec<&str> = rows_for(&rows, "tin.mp3")
        .iter()
        .map(|r| {
            assert_eq!(r["status"], "played", "{rows:#?}");
            text(r, "sha256")
        })
        .collect();
    assert_eq!(shas, [sha256_hex(&old), sha256_hex(&new)], "{rows:#?}");
    heard(500.0, 4.0);
}

// Issue 5: the service watches the audio folder "subfolders included": a
// folder of announcements moved in whole (`mv`, as an operator logged in
// over SSH does with what they copied to their home folder) brings new
// files, each to be judged.
#[test]
fn files_in_a_folder_moved_into_the_audio_folder_are_judged() {
    let Some(fx) = fixtures("files_in_a_folder_moved_into_the_audio_folder_are_judged") else {
        return;
    };
    let st = Station::new(SoundCard::unpaced(), 1);
    let svc = st.start();
    let bytes = cut(&fx.bytes("ban-tin.mp3"), 0.5);
    st.env.write("uploads/dai-hoi/ban-tin.mp3", &bytes);
    st.env
        .write("uploads/dai-hoi/tot.mp3", fx.bytes("ban-tin.mp3"));
    std::fs::rename(st.env.path("uploads/dai-hoi"), st.env.path("audio/dai-hoi")).unwrap();
    let note_path = st.env.path("audio/rejected/dai-hoi/ban-tin.mp3.txt");
    wait_for(
        Duration::from_secs(8),
        "rejected/dai-hoi/ban-tin.mp3.txt",
        || st.story(&svc),
        || note_path.is_file().then_some(()),
    );
    let note = std::fs::read_to_string(&note_path).unwrap();
    assert!(
        note.starts_with("the file \"ban-tin.mp3\" is cut off: it holds 5.0 s of the 10.0 s"),
        "{note}"
    );
    st.wait_status(&svc, "dai-hoi/tot.mp3", "ok", Duration::from_secs(8));
    let m = st.media();
    let row = media_row(&m, "dai-hoi/ban-tin.mp3").expect("listed");
    assert_eq!(row["status"], "rejected", "{m:#}");
    assert_eq!(
        files_below(&st.env.path("audio")),
        [
            "dai-hoi/tot.mp3",
            "rejected/dai-hoi/ban-tin.mp3",
            "rejected/dai-hoi/ban-tin.mp3.txt"
        ]
    );
}

// Issue 5: files uploaded into a subfolder while the service runs are taken up
// like the others.
#[test]
fn a_cut_off_upload_into_a_subfolder_is_rejected_there() {
    let Some(fx) = fixtures("a_cut_off_upload_into_a_subfolder_is_rejected_there") else {
        return;
    };
    let st = Station::new(SoundCard::unpaced(), 1);
    std::fs::create_dir(st.env.path("audio/dai-hoi")).unwrap();
    let svc = st.start();
    let bytes = cut(&fx.bytes("ban-tin.mp3"), 0.95);
    st.env.write("audio/dai-hoi/ban-tin.mp3", &bytes);
    let note_path = st.env.path("audio/rejected/dai-hoi/ban-tin.mp3.txt");
    wait_for(
        Duration::from_secs(8),
        "rejected/dai-hoi/ban-tin.mp3.txt",
        || st.story(&svc),
        || note_path.is_file().then_some(()),
    );
    let note = std::fs::read_to_string(&note_path).unwrap();
    assert!(
        note.starts_with(
            "the file \"ban-tin.mp3\" is cut off: it holds 9.5 s of the 10.0 s its header \
             announces"
        ),
        "{note}"
    );
    assert!(
        note.contains("The file \"dai-hoi/ban-tin.mp3\" was moved to the rejected/ folder"),
        "{note}"
    );
    assert_eq!(
        std::fs::read(st.env.path("audio/rejected/dai-hoi/ban-tin.mp3")).unwrap(),
        bytes
    );
    let m = st.media();
    let row = media_row(&m, "dai-hoi/ban-tin.mp3").expect("listed");
    assert_eq!(row["status"], "rejected", "{m:#}");
    assert!(text(&row, "reason").contains("is cut off"), "{m:#}");
}

// Issue 5: "a broadcast validates its own files first and never airs a
// file still uploading"; a file whose upload has finished (the writer
// closed it) is not still uploading, even a second before its broadcast.
#[test]
fn a_new_version_uploaded_just_before_its_broadcast_is_validated_and_aired() {
    let Some(fx) =
        fixtures("a_new_version_uploaded_just_before_its_broadcast_is_validated_and_aired")
    else {
        return;
    };
    let st = Station::new(SoundCard::paced(), 1);
    st.env.write("audio/tin.mp3", fx.bytes("tone-500.mp3"));
    let (at_text, at) = st.commune.at(5);
    st.playlist(&[(&at_text, "Tin", &["tin.mp3"])]);
    let svc = st.start();
    st.wait_status(&svc, "tin.mp3", "ok", Duration::from_secs(4));
    // 2.5 s before `at` (a second before the service prepares the
    // broadcast, 1.5 s before the relay goes on), the new version is
    // written and closed.
    while jiff::Timestamp::now() < at - jiff::SignedDuration::from_millis(2500) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let bytes = fx.bytes("tone-1000.mp3");
    std::fs::write(st.env.path("audio/tin.mp3"), &bytes).unwrap();
    st.wait_broadcasts(&svc, 1, Duration::from_secs(12));
    let rows = st.log();
    let r = rows_for(&rows, "tin.mp3");
    assert_eq!(r.len(), 1, "{rows:#?}\n{}", st.story(&svc));
    assert_eq!(r[0]["status"], "played", "{}", st.story(&svc));
    assert_eq!(text(r[0], "sha256"), sha256_hex(&bytes), "{rows:#?}");
    assert_eq!(r[0]["late"], false, "{rows:#?}");
    let late_by = crate::util::ms_between(at, crate::util::instant(r[0], "started"));
    assert!(late_by.abs() < 500, "started {late_by} ms after `at`");
    let sounds = st.sounds();
    assert_eq!(sounds.len(), 1, "{sounds:?}");
    assert!((st.pitch(&sounds[0]) - 1000.0).abs() < 10.0);
    let row = st.wait_status(&svc, "tin.mp3", "ok", Duration::from_secs(5));
    assert_eq!(text(&row, "sha256"), sha256_hex(&bytes), "{row:#}");
}

/// Free megabytes (10^6 bytes) on the filesystem holding `path`.
fn free_mb(path: &Path) -> u64 {
    let st = rustix::fs::statvfs(path).unwrap();
    st.f_bavail * st.f_frsize / 1_000_000
}

/// A station whose disk reserve (`[ingest] min-free-mb`) is more than its
/// disk has free; None (the test skipped) on a disk larger than the
/// largest reserve loa accepts.
fn station_on_a_full_disk(test: &str) -> Option<Station> {
    const RESERVE_MB: u64 = 1_000_000;
    let st = Station::new(SoundCard::unpaced(), 1);
    let free = free_mb(st.env.root());
    if free >= RESERVE_MB {
        skip::skipped(
            test,
            &format!("{free} MB free, more than any reserve loa accepts"),
        );
        return None;
    }
    let config = std::fs::read_to_string(st.env.config_path()).unwrap();
    st.env
        .write_config(&format!("{config}[ingest]\nmin-free-mb = {RESERVE_MB}\n"));
    Some(st)
}

/// The status's warnings that say the disk is nearly full.
fn disk_warnings(st: &Station) -> Vec<String> {
    let status = service::status(&st.env);
    list(&status, "warnings")
        .iter()
        .filter_map(|w| w.as_str())
        .filter(|w| w.contains("the disk is nearly full"))
        .map(String::from)
        .collect()
}

// Issue 5: below the reserve of free space, ingest is refused (the as-run
// log must always have room): the upload is left where it is, not judged,
// and `loa status` says why.
#[test]
fn below_the_free_space_reserve_an_upload_is_left_untaken_with_a_warning() {
    let test = "below_the_free_space_reserve_an_upload_is_left_untaken_with_a_warning";
    let Some(fx) = fixtures(test) else {
        return;
    };
    let Some(st) = station_on_a_full_disk(test) else {
        return;
    };
    let svc = st.start();
    let bytes = fx.bytes("ban-tin.mp3");
    std::fs::write(st.env.path("audio/tin.mp3"), &bytes).unwrap();
    // The general warning may come first; then the one about the upload.
    let warnings = wait_for(
        Duration::from_secs(8),
        "a disk warning in `loa status` naming the upload",
        || st.story(&svc),
        || Some(disk_warnings(&st)).filter(|w| w.iter().any(|w| w.contains("tin.mp3"))),
    );
    let warnings: Vec<&String> = warnings.iter().filter(|w| w.contains("tin.mp3")).collect();
    assert!(
        warnings[0].contains("(at least 1000000 MB needed); \"tin.mp3\" was not taken up"),
        "{warnings:?}"
    );
    let m = st.media();
    assert_eq!(
        media_row(&m, "tin.mp3").unwrap()["status"],
        "pending",
        "{m:#}"
    );
    assert_eq!(files_below(&st.env.path("audio")), ["tin.mp3"]);
    assert_eq!(std::fs::read(st.env.path("audio/tin.mp3")).unwrap(), bytes);
    assert!(
        svc.output().contains("upload not taken up"),
        "{}",
        svc.output()
    );
}

// Issue 5: "below a configurable reserve of free space ... loa warns in
// status and the log": whether or not anything has been uploaded yet.
#[test]
fn below_the_free_space_reserve_the_service_warns_at_once() {
    let test = "below_the_free_space_reserve_the_service_warns_at_once";
    let Some(st) = station_on_a_full_disk(test) else {
        return;
    };
    let svc = st.start();
    let warnings = disk_warnings(&st);
    assert!(!warnings.is_empty(), "{}", st.story(&svc));
    assert!(
        svc.output().contains("the disk is nearly full"),
        "{}",
        svc.output()
    );
}

/// The threads of process PID: (name, nice).
fn threads(pid: u32) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for t in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(t.path().join("stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = stat[open + 1..close].to_string();
        // After the name: state is field 3; nice is field 19 of proc(5).
        let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
        if let Some(nice) = fields.get(16).and_then(|n| n.parse().ok()) {
            out.push((name, nice));
        }
    }
    out
}

// Issue 5: validation runs at a lower priority so that it never takes the
// CPU from playback; the broadcast's own threads must keep theirs.
#[test]
fn the_audio_threads_of_a_broadcast_keep_their_priority_after_ingest() {
    let Some(fx) = fixtures("the_audio_threads_of_a_broadcast_keep_their_priority_after_ingest")
    else {
        return;
    };
    let st = Station::new(SoundCard::paced(), 1);
    // Validated at start-up, just before the broadcast, with a few others
    // (so that validation has run on more than one of the service's
    // threads).
    for name in ["tin.mp3", "b.mp3", "c.mp3", "d.mp3", "e.mp3", "f.mp3"] {
        std::fs::copy(
            fx.path("tone-1000.mp3"),
            st.env.path(&format!("audio/{name}")),
        )
        .unwrap();
    }
    let (at, _) = st.commune.at(4);
    st.playlist(&[(&at, "Tin", &["tin.mp3"])]);
    let svc = st.start();
    st.wait_playing(&svc, "tin.mp3");
    let during = threads(svc.pid());
    let feed: Vec<_> = during.iter().filter(|(n, _)| n == "audio-feed").collect();
    assert!(!feed.is_empty(), "no audio-feed thread: {during:?}");
    let main_nice = during[0].1;
    assert!(
        feed.iter().all(|(_, nice)| *nice <= main_nice),
        "the audio threads run at a lower priority than the service: {during:?}"
    );
    st.wait_broadcasts(&svc, 1, Duration::from_secs(15));
}

// Issue 5: "ingest must not disturb a broadcast in progress: while 50 files
// arrive at once during a broadcast, the captured sound has no gap or
// underrun".
#[test]
fn fifty_uploads_during_a_broadcast_leave_its_sound_unbroken() {
    let Some(fx) = fixtures("fifty_uploads_during_a_broadcast_leave_its_sound_unbroken") else {
        return;
    };
    let st = Station::new(SoundCard::paced(), 1);
    st.tone("tin.wav", 1000.0, 10.0);
    let (at, _) = st.commune.at(4);
    st.playlist(&[(&at, "Tin", &["tin.wav"])]);
    let svc = st.start();
    st.wait_playing(&svc, "tin.wav");

    let loads = fx.load_names();
    let names: Vec<String> = (1..=50).map(|i| format!("thong-bao-{i:02}.mp3")).collect();
    for (i, name) in names.iter().enumerate() {
        std::fs::copy(
            fx.path(loads[i % loads.len()]),
            st.env.path(&format!("audio/{name}")),
        )
        .unwrap();
    }
    // Ingest works while the tone plays.
    let mut taken_while_playing = 0;
    let t = Instant::now();
    while service::status(&st.env)["playing"]["file"] == "tin.wav" {
        let m = st.media();
        taken_while_playing = names
            .iter()
            .filter(|n| media_row(&m, n).is_some_and(|r| r["status"] == "ok"))
            .count();
        assert!(t.elapsed() < Duration::from_secs(15), "{}", st.story(&svc));
        std::thread::sleep(Duration::from_millis(200));
    }
    st.wait_broadcasts(&svc, 1, Duration::from_secs(10));
    assert!(
        taken_while_playing > 0,
        "no upload was taken up during the broadcast\n{}",
        st.story(&svc)
    );

    // One unbroken tone of the right length: no run of zeros inside it.
    let cap = st.card.capture();
    let sounds = cap.sounds(4);
    assert_eq!(
        sounds.len(),
        1,
        "the tone is broken: {:?}",
        sounds
            .iter()
            .map(|r| (secs(r.start), secs(r.len())))
            .collect::<Vec<_>>()
    );
    let tone = &sounds[0];
    assert!(
        (secs(tone.len()) - 10.0).abs() < 0.02,
        "{} s",
        secs(tone.len())
    );
    for s in 0..9 {
        let second = tone.start + s * RATE + RATE / 2..tone.start + (s + 1) * RATE + RATE / 2;
        let f = cap.frequency(second.clone());
        assert!((f - 1000.0).abs() < 3.0, "{f} Hz at {s} s");
        let db = cap.rms_db(second);
        assert!((db - -9.0).abs() < 0.5, "{db} dB at {s} s");
    }
    let rows = st.log();
    let r = rows_for(&rows, "tin.wav");
    assert_eq!(r.len(), 1, "{rows:#?}");
    assert_eq!(r[0]["status"], "played", "{rows:#?}");
    assert!(r[0]["error"].is_null(), "{rows:#?}");

    // And every upload is taken up in the end, none rejected. Validation
    // runs at low priority: on a busy machine it is slow, so what fails
    // the test is no progress for a long while, not the total time.
    let mut last = (0, Instant::now());
    loop {
        let m = st.media();
        let ok = names
            .iter()
            .filter(|n| media_row(&m, n).is_some_and(|r| r["status"] == "ok"))
            .count();
        if ok == names.len() {
            break;
        }
        if ok > last.0 {
            last = (ok, Instant::now());
        }
        assert!(
            last.1.elapsed() < Duration::from_secs(30),
            "{ok} of 50 taken up, none more for 30 s\n{}",
            st.story(&svc)
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(
        !st.env.path("audio/rejected").exists(),
        "{}",
        st.story(&svc)
    );
}

// Issue 10: an upload-only account cannot run `loa media`; the service
// keeps TINH-TRANG.txt at the top of the audio folder: what was accepted
// and rejected today and why, and the next broadcasts. It is rewritten as
// things change and is never taken up as an upload itself.
#[test]
fn tinh_trang_txt_tells_an_upload_only_account_what_happened() {
    let Some(fx) = fixtures("tinh_trang_txt_tells_an_upload_only_account_what_happened") else {
        return;
    };
    let st = Station::new(SoundCard::unpaced(), 30);
    st.tone("nhac-hieu.wav", 800.0, 2.0);
    let (at, _) = st.commune.at(20 * 60);
    st.playlist(&[(&at, "Bản tin trưa", &["nhac-hieu.wav"])]);
    let svc = st.start();
    std::fs::write(st.env.path("audio/tot.mp3"), fx.bytes("ban-tin.mp3")).unwrap();
    std::fs::write(
        st.env.path("audio/cut.mp3"),
        cut(&fx.bytes("ban-tin.mp3"), 0.5),
    )
    .unwrap();
    let note_path = st.env.path("audio/TINH-TRANG.txt");
    let note = wait_for(
        Duration::from_secs(20),
        "TINH-TRANG.txt to name both uploads",
        || st.story(&svc),
        || {
            let t = std::fs::read_to_string(&note_path).ok()?;
            (t.contains("tot.mp3") && t.contains("cut.mp3")).then_some(t)
        },
    );
    assert!(note.contains("ACCEPTED     tot.mp3"), "{note}");
    assert!(note.contains("REFUSED      cut.mp3"), "{note}");
    assert!(note.contains("is cut off"), "{note}");
    assert!(note.contains("Bản tin trưa (1 file(s))"), "{note}");
    assert!(note.contains("\r\n"), "CRLF for Notepad: {note:?}");
    // Not an upload: never judged, never moved.
    std::thread::sleep(Duration::from_secs(2));
    assert!(note_path.is_file());
    assert!(!st.env.path("audio/rejected/TINH-TRANG.txt").exists());
    assert!(media_row(&st.media(), "TINH-TRANG.txt").is_none());
}

// Issue 11: with the config named by a relative path (`--config
// config/loa.toml`, as the README runs it, `LOA_CONFIG=config/loa.toml`,
// or found as ./config/loa.toml), uploads stayed pending forever.
#[test]
fn uploads_are_taken_up_whatever_way_the_config_was_found() {
    let Some(fx) = fixtures("uploads_are_taken_up_whatever_way_the_config_was_found") else {
        return;
    };
    /// The arguments before `run`, and the environment.
    type Way<'a> = (&'a [&'a str], Vec<(&'a str, &'a std::ffi::OsStr)>);
    let ways: Vec<Way> = vec![
        (&["--config", "config/loa.toml"], vec![]),
        (
            &[],
            vec![("LOA_CONFIG", std::ffi::OsStr::new("config/loa.toml"))],
        ),
        (&[], vec![]),
    ];
    for (args, vars) in ways {
        if args.is_empty() && vars.is_empty() && Path::new("/etc/loa/loa.toml").exists() {
            skip::skipped(
                "uploads_are_taken_up_whatever_way_the_config_was_found",
                "its ./config/loa.toml case only: /etc/loa/loa.toml exists on this machine \
                 and takes precedence",
            );
            continue;
        }
        let st = Station::new(SoundCard::unpaced(), 1);
        let svc = Service::start_found(&st.env, &st.card, args, &vars);
        std::fs::write(st.env.path("audio/tin.mp3"), fx.bytes("ban-tin.mp3")).unwrap();
        wait_for(
            Duration::from_secs(15),
            &format!("tin.mp3 taken up ({args:?} {vars:?})"),
            || st.story(&svc),
            || {
                media_row(&st.media(), "tin.mp3")
                    .filter(|r| r["status"] == "ok")
                    .map(|_| ())
            },
        );
    }
}
