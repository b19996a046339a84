//! Tests of the config: defaults, values and paths read, located problems
//! with suggestions, the language of the messages, and the shipped config.

use super::*;

fn load(text: &str) -> Result<Config, ConfigError> {
    let src = Source::new(Path::new("/etc/loa/loa.toml"), text.to_string());
    Config::from_source(&src, sniff_language(text))
}

fn problems(text: &str) -> Vec<Problem> {
    match load(text) {
        Ok(_) => vec![],
        Err(e) => e.problems(Lang::En),
    }
}

#[test]
fn empty_config_is_all_defaults() {
    let c = load("").unwrap();
    assert_eq!(c.timezone_name, "Asia/Ho_Chi_Minh");
    assert_eq!(c.lang, Lang::Vi);
    assert_eq!(c.paths.audio, PathBuf::from("/etc/loa/audio"));
    assert_eq!(c.relay.backend, RelayBackend::Sim);
    assert_eq!(c.relay.line, LineSpec::Offset(17));
    assert_eq!(c.relay.warm_up, Duration::from_secs(3));
    assert_eq!(c.relay.hold, Duration::from_secs(2));
    assert_eq!(c.relay.max_on, Duration::from_secs(5400));
    assert_eq!(c.audio.gap, Duration::from_secs(2));
    assert_eq!(c.audio.fade, Duration::from_millis(20));
    assert_eq!(c.audio.target_lufs, -16.0);
    assert_eq!(c.schedule.late_grace, Duration::from_secs(600));
    assert!(c.schedule.require_clock_sync);
    assert_eq!(c.control.socket, PathBuf::from("/etc/loa/state/loa.sock"));
}

#[test]
fn values_are_read_and_paths_resolved() {
    let c = load(
        r#"
timezone = "Europe/Paris"
language = "en"
[paths]
audio = "/srv/audio"
playlists = "../pl"
[relay]
backend = "gpio"
line = "GPIO17"
active-low = true
warm-up = "5s"
max-on = "1h30m"
sim-file = "relay.log"
[audio]
volume-db = -3
gap = "500ms"
[schedule]
late-grace = "0s"
require-clock-sync = false
"#,
    )
    .unwrap();
    assert_eq!(c.lang, Lang::En);
    assert_eq!(c.timezone_name, "Europe/Paris");
    assert_eq!(c.paths.audio, PathBuf::from("/srv/audio"));
    // Issue 11: every path absolute and tidy, whatever the current
    // folder later is.
    assert_eq!(c.paths.playlists, PathBuf::from("/etc/pl"));
    assert_eq!(c.relay.line, LineSpec::Name("GPIO17".into()));
    assert!(c.relay.active_low);
    assert_eq!(c.relay.sim_file, Some(PathBuf::from("/etc/loa/relay.log")));
    assert_eq!(c.audio.volume_db, -3.0);
    assert_eq!(c.audio.gap, Duration::from_millis(500));
    assert!(!c.schedule.require_clock_sync);
    assert_eq!(c.control.socket, PathBuf::from("/etc/loa/state/loa.sock"));
}

#[test]
fn unknown_key_is_located_with_a_suggestion() {
    let p = problems("language = \"en\"\n[relay]\nwarmup = \"3s\"\n");
    assert_eq!(p.len(), 1);
    assert_eq!((p[0].line, p[0].column), (3, 1));
    assert!(
        p[0].message.contains("unknown key `warmup` in [relay]"),
        "{}",
        p[0].message
    );
    assert!(
        p[0].message.contains("did you mean `warm-up`"),
        "{}",
        p[0].message
    );
}

#[test]
fn bad_duration_shows_accepted_forms() {
    let p = problems("language = \"en\"\n[relay]\nhold = \"3 seconds\"\n");
    assert_eq!((p[0].line, p[0].column), (3, 8));
    assert!(p[0].message.contains("\"3 seconds\""));
    assert!(p[0].message.contains("\"1h30m\""));
}

#[test]
fn unknown_timezone_suggests_a_real_one() {
    let p = problems("language = \"en\"\ntimezone = \"Asia/Ho_Chi_Min\"\n");
    assert_eq!(p.len(), 1);
    assert!(
        p[0].message.contains("Asia/Ho_Chi_Minh"),
        "{}",
        p[0].message
    );
}

#[test]
fn wrong_type_names_what_was_expected() {
    let p = problems("language = \"en\"\n[audio]\nnormalize = \"yes\"\n");
    assert!(
        p[0].message.contains("must be true or false"),
        "{}",
        p[0].message
    );
}

#[test]
fn syntax_error_is_unreadable_and_vietnamese_by_default() {
    let e = load("[relay\nline = 3").unwrap_err();
    assert!(matches!(e, ConfigError::Unreadable(_)));
    let p = e.problems(Lang::Vi);
    assert_eq!(p[0].line, 1);
    assert!(
        p[0].message.contains("Sai cú pháp TOML"),
        "{}",
        p[0].message
    );
}

#[test]
fn invalid_config_keeps_defaults_for_the_bad_keys() {
    match load("[relay]\nwarm-up = \"soon\"\nhold = \"1s\"\n").unwrap_err() {
        ConfigError::Invalid { config, problems } => {
            assert_eq!(problems.len(), 1);
            assert_eq!(config.relay.warm_up, Duration::from_secs(3));
            assert_eq!(config.relay.hold, Duration::from_secs(1));
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

// Issue 2: every file the project ships is parsed by a test.
#[test]
fn the_shipped_config_is_valid_and_simulated() {
    let text = include_str!("../../config/loa.toml");
    let src = Source::new(Path::new("config/loa.toml"), text.to_string());
    let c = Config::from_source(&src, sniff_language(text)).expect("shipped config is valid");
    assert_eq!(c.relay.backend, RelayBackend::Sim, "it must run anywhere");
    assert_eq!(c.lang, Lang::Vi);
    // Issue 11: a relative config gives absolute paths (the service's
    // folder watcher reports absolute ones).
    let repo = std::fs::canonicalize(env!("CARGO_MANIFEST_DIR")).unwrap();
    assert_eq!(c.paths.audio, repo.join("audio"));
    assert_eq!(c.control.socket, repo.join("state/loa.sock"));
}

// Issue 18: `[tts]` as written, each mistake at its place.
#[test]
fn tts_settings_are_read_and_checked() {
    let c = load("").unwrap();
    assert_eq!(c.tts, tts::TtsConfig::defaults());
    assert_eq!(c.tts.engine, tts::Engine::EspeakNg);
    let c = load(
        "[tts]\nengine = \"piper\"\nvoice = \"VI-VN-X-SOUTH\"\nrate = 120\npitch = 40\nvolume-db = -2.5\npiper-model = \"voices/vi.onnx\"\npiper-program = \"/opt/piper/piper\"\n",
    )
    .unwrap();
    assert_eq!(c.tts.engine, tts::Engine::Piper);
    assert_eq!(c.tts.voice, "vi-VN-x-south");
    assert_eq!((c.tts.rate, c.tts.pitch, c.tts.volume_db), (120, 40, -2.5));
    assert_eq!(
        c.tts.piper_model.as_deref(),
        Some(Path::new("/etc/loa/voices/vi.onnx"))
    );
    assert_eq!(c.tts.piper_program, Path::new("/opt/piper/piper"));
    let c = load("[tts]\npiper-program = \"piper\"\n").unwrap();
    assert_eq!(c.tts.piper_program, Path::new("piper"), "a bare name: PATH");

    for (text, line, col, phrase) in [
        (
            "[tts]\nengine = \"festival\"\n",
            2,
            10,
            "no engine \"festival\"",
        ),
        ("[tts]\nvoice = \"vi-hue\"\n", 2, 9, "vi-VN-x-central"),
        ("[tts]\nrate = 1000\n", 2, 8, "rate"),
        ("[tts]\npitch = -1\n", 2, 9, "pitch"),
        ("[tts]\nengine = \"piper\"\n", 2, 10, "piper-model"),
        ("[tts]\nspeed = 1\n", 2, 1, "unknown key `speed`"),
    ] {
        let p = problems(&format!("language = \"en\"\n{text}"));
        assert_eq!(p.len(), 1, "{text}: {p:#?}");
        assert_eq!((p[0].line, p[0].column), (line + 1, col), "{text}: {p:#?}");
        assert!(p[0].message.contains(phrase), "{text}: {}", p[0].message);
    }
}
