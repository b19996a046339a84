//! Issue 2, "Bad input: what each gets": each mistake an operator can make is
//! reported at its file, line and column, says what to do, and makes
//! `loa check` exit 1 (2 when the config cannot be read). None panics (every
//! run asserts that, see `util`).

use crate::util::{DEFAULT_CONFIG, Output, TestEnv};

const PLAYLIST: &str = "playlists/default.toml";

/// `loa check` of one day, with the jingle in the audio folder and `text` as
/// default.toml.
fn check_playlist(text: &str) -> Output {
    let env = TestEnv::new();
    env.audio("nhac-hieu.mp3");
    env.write_playlist("default.toml", text);
    env.check("2026-01-20")
}

/// `loa check` of one day with this config and a playlist that is fine.
fn check_config(config: &str) -> Output {
    let env = TestEnv::with_config(config);
    env.audio("nhac-hieu.mp3");
    env.write_playlist(
        "default.toml",
        "[[broadcast]]\nat = \"06:00\"\nitems = [\"nhac-hieu.mp3\"]\n",
    );
    env.check("2026-01-20")
}

/// A broadcast at 06:00 airing the jingle and then `item` (a TOML value),
/// which starts at line 3, column 27.
fn with_item(item: &str) -> String {
    format!("[[broadcast]]\nat = \"06:00\"\nitems = [\"nhac-hieu.mp3\", {item}]\n")
}

fn at(line_col: &str) -> String {
    format!("{PLAYLIST}:{line_col}")
}

// --- Unknown keys and wrong types -------------------------------------------

// Issue 2: an unknown key in a playlist, at its line and column, with the key meant.
#[test]
fn unknown_key_in_a_playlist() {
    let out = check_playlist(
        "[[broadcast]]\nat = \"06:00\"\nitems = [\"nhac-hieu.mp3\"]\ntitel = \"Morning\"\n",
    );
    out.code(1);
    out.error_at(&at("4:1"), "unknown key `titel`");
    out.error_at(&at("4:1"), "did you mean `title`?");
}

// Issue 2: an unknown key in the config, with the key meant; the rest is still checked.
#[test]
fn unknown_key_in_the_config() {
    let out = check_config(&format!("{DEFAULT_CONFIG}\n[relay]\nwarmup = \"3s\"\n"));
    out.code(1);
    out.error_at("config/loa.toml:9:1", "unknown key `warmup` in [relay]");
    out.error_at("config/loa.toml:9:1", "did you mean `warm-up`?");
    // The rest is still checked.
    out.says("Checked 1 day(s)");
}

// Issue 2: a value of the wrong type in a playlist says what type it must be.
#[test]
fn wrong_type_in_a_playlist() {
    let out = check_playlist("[[broadcast]]\nat = 6\nitems = [\"nhac-hieu.mp3\"]\n");
    out.code(1);
    out.error_at(
        &at("2:6"),
        "`at` must be quoted text, but it is a whole number",
    );
}

// Issue 2: a value of the wrong type in the config says what it must be.
#[test]
fn wrong_type_in_the_config() {
    let out = check_config(&format!(
        "{DEFAULT_CONFIG}\n[relay]\nactive-low = \"yes\"\n"
    ));
    out.code(1);
    out.error_at("config/loa.toml:9:14", "`active-low` must be true or false");
}

// --- Times, dates, weekdays -----------------------------------------------

fn bad_time(time: &str) {
    let out = check_playlist(&format!(
        "[[broadcast]]\nat = \"{time}\"\nitems = [\"nhac-hieu.mp3\"]\n"
    ));
    out.code(1);
    let line = out.error_at(&at("2:6"), &format!("start time \"{time}\" is not valid"));
    assert!(
        line.contains("HOUR:MINUTE") && line.contains("\"06:00\""),
        "{line}"
    );
}

// Issue 2: "25:00" is not a start time.
#[test]
fn hour_25_is_not_a_time() {
    bad_time("25:00");
}

// Issue 2: "6h" is not a start time.
#[test]
fn six_h_is_not_a_time() {
    bad_time("6h");
}

// Issue 2: `from` = 30 February is not a real date.
#[test]
fn a_date_that_does_not_exist() {
    let out = check_playlist(
        "[[broadcast]]\nat = \"06:00\"\nitems = [\"nhac-hieu.mp3\"]\nfrom = \"2026-02-30\"\n",
    );
    out.code(1);
    out.error_at(&at("4:8"), "`from` = \"2026-02-30\" is not a real date");
}

// Issue 2: `until` before `from` is an error at `until`.
#[test]
fn until_before_from() {
    let out = check_playlist(
        "[[broadcast]]\nat = \"06:00\"\nitems = [\"nhac-hieu.mp3\"]\n\
         from = \"2026-01-20\"\nuntil = \"2026-01-18\"\n",
    );
    out.code(1);
    let line = out.error_at(
        &at("5:9"),
        "`until` (2026-01-18) is before `from` (2026-01-20)",
    );
    assert!(line.contains("correct one of the two dates"), "{line}");
}

// Issue 2: an unknown weekday lists the ones there are.
#[test]
fn unknown_weekday() {
    let out = check_playlist(
        "[[broadcast]]\nat = \"06:00\"\nitems = [\"nhac-hieu.mp3\"]\ndays = [\"mon\", \"funday\"]\n",
    );
    out.code(1);
    let line = out.error_at(&at("4:16"), "no weekday \"funday\"");
    assert!(line.contains("\"mon\", \"tue\""), "{line}");
}

// --- Items ------------------------------------------------------------------

// Issue 2: an empty `items` list is an error.
#[test]
fn empty_items() {
    let out = check_playlist("[[broadcast]]\nat = \"06:00\"\nitems = []\n");
    out.code(1);
    out.error_at(&at("3:9"), "the `items` list is empty");
}

// Issue 2: an item path with ".." leaves the audio folder: an error.
#[test]
fn item_path_with_dot_dot() {
    let out = check_playlist(&with_item("\"../secret.mp3\""));
    out.code(1);
    out.error_at(
        &at("3:27"),
        "\"../secret.mp3\" has \"..\" (it leaves the audio folder)",
    );
}

// Issue 2: an absolute item path is an error.
#[test]
fn absolute_item_path() {
    let out = check_playlist(&with_item("\"/home/op/tin.mp3\""));
    out.code(1);
    out.error_at(&at("3:27"), "\"/home/op/tin.mp3\" is an absolute path");
}

// Issue 2: an item path with a backslash says to use forward slashes.
#[test]
fn item_path_with_a_backslash() {
    // A path pasted from Windows, in a TOML literal string.
    let out = check_playlist(&with_item(r"'dai-hoi\ban-tin-1.mp3'"));
    out.code(1);
    out.error_at(&at("3:27"), "has a backslash \\; use forward slashes");
}

// --- Audio files ------------------------------------------------------------

// Issue 2: a missing file with a typo in its name suggests the real one.
#[test]
fn missing_file_with_a_typo_suggests_the_real_name() {
    let env = TestEnv::new();
    env.audio("nhac-hieu.mp3");
    env.audio("dai-hoi/ban-tin-1.mp3");
    env.write_playlist("default.toml", with_item("\"dai-hoi/ban-tin-l.mp3\""));
    let out = env.check("2026-01-20");
    out.code(1);
    out.error_at(&at("3:27"), "no file \"dai-hoi/ban-tin-l.mp3\"");
    out.error_at(&at("3:27"), "did you mean \"dai-hoi/ban-tin-1.mp3\"?");
}

// Issue 2: a missing file named without its folder suggests the real path.
#[test]
fn missing_file_without_its_folder_suggests_the_real_name() {
    let env = TestEnv::new();
    env.audio("nhac-hieu.mp3");
    env.audio("dai-hoi/ban-tin-1.mp3");
    env.write_playlist("default.toml", with_item("\"ban-tin-l.mp3\""));
    let out = env.check("2026-01-20");
    out.code(1);
    out.error_at(&at("3:27"), "no file \"ban-tin-l.mp3\"");
    out.error_at(&at("3:27"), "did you mean \"dai-hoi/ban-tin-1.mp3\"?");
}

// Issue 2: a missing file with no name close to it suggests nothing.
#[test]
fn missing_file_with_nothing_close_suggests_nothing() {
    let env = TestEnv::new();
    env.audio("nhac-hieu.mp3");
    env.audio("dai-hoi/ban-tin-1.mp3");
    env.write_playlist("default.toml", with_item("\"bao-cao-tai-chinh.mp3\""));
    let out = env.check("2026-01-20");
    out.code(1);
    let line = out.error_at(&at("3:27"), "no file \"bao-cao-tai-chinh.mp3\"");
    assert!(line.contains("upload the file"), "{line}");
    assert!(!line.contains("did you mean"), "{line}");
}

/// `loa check` of a playlist naming audio/NAME after `prepare` made it.
fn check_audio_file(name: &str, prepare: impl FnOnce(&TestEnv)) -> Output {
    let env = TestEnv::new();
    env.audio("nhac-hieu.mp3");
    prepare(&env);
    env.write_playlist("default.toml", with_item(&format!("\"{name}\"")));
    env.check("2026-01-20")
}

// Issue 2: a text file named .mp3 is said not to be audio.
#[test]
fn a_text_file_named_mp3() {
    let out = check_audio_file("ghi-chu.mp3", |env| {
        env.write_old("audio/ghi-chu.mp3", "Ghi chú: nhớ thu âm bản tin chiều.\n");
    });
    out.code(1);
    out.error_at(&at("3:27"), "the file \"ghi-chu.mp3\" is not an audio file");
}

// Issue 2: an empty .mp3 is said to be empty, with what to do.
#[test]
fn a_zero_byte_mp3() {
    let out = check_audio_file("trong.mp3", |env| {
        env.write_old("audio/trong.mp3", b"");
    });
    out.code(1);
    let line = out.error_at(&at("3:27"), "the file \"trong.mp3\" is empty (0 bytes)");
    assert!(line.contains("upload it again"), "{line}");
}

// Issue 2: Opus in an Ogg file is a format loa cannot play, with what to convert it to.
#[test]
fn opus_in_ogg_is_an_unsupported_codec() {
    let out = check_audio_file("tone.ogg", |env| env.fixture_as("tone.opus", "tone.ogg"));
    out.code(1);
    let line = out.error_at(&at("3:27"), "the file \"tone.ogg\" uses the Opus format");
    assert!(line.contains("convert it to MP3"), "{line}");
}

// --- The day's plan ---------------------------------------------------------

// Issue 2: two broadcasts whose relay times overlap are both named.
#[test]
fn overlapping_broadcasts_name_both() {
    // The jingle lasts about 5.4 s: the first broadcast holds the relay until
    // about 06:00:07; the second switches it on at 06:00:02.
    let out = check_playlist(
        "[[broadcast]]\nat = \"06:00\"\ntitle = \"Morning news\"\nitems = [\"nhac-hieu.mp3\"]\n\n\
         [[broadcast]]\nat = \"06:00:05\"\ntitle = \"Weather\"\nitems = [\"nhac-hieu.mp3\"]\n",
    );
    out.code(1);
    let line = out.error_at(&at("7:6"), "\"Weather\" overlaps \"Morning news\"");
    assert!(line.contains("move one of them"), "{line}");
}

// Issue 2: a broadcast longer than the relay's max-on is an error.
#[test]
fn broadcast_longer_than_max_on() {
    let env = TestEnv::with_config(&format!("{DEFAULT_CONFIG}\n[relay]\nmax-on = \"1m\"\n"));
    for f in [
        "dai-hoi/ban-tin-1.mp3",
        "dai-hoi/ban-tin-2.mp3",
        "thong-bao-chung.mp3",
    ] {
        env.audio(f);
    }
    // Three items (about 37 s) played twice: about 90 s with gaps, warm-up
    // and hold.
    env.write_playlist(
        "default.toml",
        "[[broadcast]]\nat = \"06:00\"\ntitle = \"Long news\"\n\
         items = [\"dai-hoi/ban-tin-1.mp3\", \"dai-hoi/ban-tin-2.mp3\", \"thong-bao-chung.mp3\"]\n\
         repeat = 2\n",
    );
    let out = env.check("2026-01-20");
    out.code(1);
    let line = out.error_at(&at("2:6"), "\"Long news\" keeps the amplifier on for");
    assert!(line.contains("longer than max-on = \"1m\""), "{line}");
    assert!(line.contains("raise [relay] max-on"), "{line}");
}

// --- Config values ----------------------------------------------------------

// Issue 2: an unknown time zone suggests the nearest real one.
#[test]
fn unknown_timezone() {
    let out = check_config(&format!("timezone = \"Asia/Ho_Chi_Min\"\n{DEFAULT_CONFIG}"));
    out.code(1);
    let line = out.error_at(
        "config/loa.toml:1:12",
        "unknown time zone \"Asia/Ho_Chi_Min\"",
    );
    assert!(line.contains("\"Asia/Ho_Chi_Minh\""), "{line}");
}

// Issue 2: a length of time in words in the config says how to write it.
#[test]
fn duration_in_words_in_the_config() {
    let out = check_config(&format!(
        "{DEFAULT_CONFIG}\n[relay]\nwarm-up = \"3 seconds\"\n"
    ));
    out.code(1);
    let line = out.error_at(
        "config/loa.toml:9:11",
        "`warm-up` = \"3 seconds\" is not a valid length of time",
    );
    // It shows the accepted forms.
    assert!(
        line.contains("\"500ms\", \"3s\", \"10m\"") && line.contains("\"1h30m\""),
        "{line}"
    );
}

// Issue 2: a length of time in words in a playlist says how to write it.
#[test]
fn duration_in_words_in_a_playlist() {
    let out = check_playlist(
        "[[broadcast]]\nat = \"06:00\"\nitems = [\"nhac-hieu.mp3\"]\ngap = \"3 seconds\"\n",
    );
    out.code(1);
    let line = out.error_at(
        &at("4:7"),
        "`gap` = \"3 seconds\" is not a valid length of time",
    );
    assert!(line.contains("\"3s\""), "{line}");
}

// --- Files that cannot be read ------------------------------------------------

// Issue 2: a playlist not in UTF-8 is located at its first bad byte.
#[test]
fn playlist_that_is_not_utf8() {
    // "Thông báo" saved in Latin-1: the first bad byte is the 12th.
    let env = TestEnv::new();
    env.write_playlist("default.toml", b"title = \"Th\xf4ng b\xe1o\"\n");
    let out = env.check("2026-01-20");
    out.code(1);
    let line = out.error_at(&at("1:12"), "the file is not UTF-8 text");
    assert!(line.contains("save it as UTF-8"), "{line}");
}

// Issue 2: a config that does not parse is exit code 2, for `loa check` and `loa plan`.
#[test]
fn config_that_does_not_parse() {
    let env = TestEnv::with_config("language = \"en\"\n[paths\naudio = \"../audio\"\n");
    for args in [
        &["check", "--date", "2026-01-20"][..],
        &["plan", "--date", "2026-01-20"][..],
    ] {
        let out = env.run(args);
        out.code(2);
        let line = out.error_at("config/loa.toml:2:7", "TOML syntax error");
        assert!(line.contains("expected `]`"), "{line}");
    }
}

// Issue 2: a missing config file is exit code 2, for `loa check` and `loa plan`.
#[test]
fn missing_config_file() {
    let env = TestEnv::new();
    for args in [&["check"][..], &["plan"][..]] {
        let out = env
            .loa()
            .config(env.path("config/nope.toml"))
            .args(args)
            .run();
        out.code(2);
        // The file names the language, so without it both are given (the
        // label in Vietnamese, the default); no line and column, since
        // there is no file to point into.
        let line = out.problem("config/nope.toml", "lỗi", "Không tìm thấy tệp cấu hình");
        assert!(line.contains("no config file found"), "{line}");
        assert!(line.contains("--config"), "{line}");
    }
}

// --- The operator's language ------------------------------------------------

// Issue 2: with language = "vi" the messages are in Vietnamese.
#[test]
fn messages_are_vietnamese_with_language_vi() {
    let env = TestEnv::with_config(&DEFAULT_CONFIG.replace("\"en\"", "\"vi\""));
    env.audio("nhac-hieu.mp3");
    env.write_playlist(
        "default.toml",
        "[[broadcast]]\nat = \"25:00\"\nitems = [\"nhac-hieu.mp3\"]\n",
    );
    let out = env.check("2026-01-20");
    out.code(1);
    // Issue 10: the severity in Vietnamese too.
    out.problem(&at("2:6"), "lỗi", "Giờ phát \"25:00\" không hợp lệ");
    out.says("Đã kiểm tra 1 ngày");
}

// Issue 2: with no language in the config the messages are in Vietnamese.
#[test]
fn messages_are_vietnamese_when_language_is_unset() {
    let env = TestEnv::with_config(&DEFAULT_CONFIG.replace("language = \"en\"\n", ""));
    env.audio("nhac-hieu.mp3");
    env.write_playlist("default.toml", with_item("\"bao-cao.mp3\""));
    let out = env.check("2026-01-20");
    out.code(1);
    out.problem(
        &at("3:27"),
        "lỗi",
        "Không có tệp \"bao-cao.mp3\" trong thư mục âm thanh",
    );
    // Issue 10: dates in Vietnamese texts are written 20/01/2026.
    out.says("Thứ Ba 20/01/2026: 1 buổi phát lúc 06:00");
    out.says("Hãy sửa các lỗi ở trên");
}

// --- Issue 10: `loa check` says "ready" only when loa is -------------------

// Issue 10: with no playlist at all, nothing airs: said in words, and not
// "Ready".
#[test]
fn no_playlist_at_all_is_a_warning_not_ready() {
    let env = TestEnv::new();
    let out = env.run(&["check", "--date", "2026-01-20"]);
    out.code(0);
    out.problem(
        "playlists:1:1",
        "warning",
        "no broadcast in the coming 8 day(s)",
    );
    assert!(!out.stdout.contains("Ready"), "{out}");
    out.says("but no broadcast at all: loa will air nothing");
    let vi = TestEnv::with_config(&DEFAULT_CONFIG.replace("\"en\"", "\"vi\""));
    let out = vi.run(&["check"]);
    out.says("Không có buổi phát nào trong 8 ngày tới");
    assert!(!out.stdout.contains("Mọi thứ sẵn sàng"), "{out}");
}

// Issue 10: the relay is checked: a GPIO chip that does not exist is an error.
#[test]
fn a_gpio_relay_without_the_chip_is_an_error() {
    let out = check_config(&format!(
        "{DEFAULT_CONFIG}[relay]\nbackend = \"gpio\"\nchip = \"gpiochip-loa-test-absent\"\n"
    ));
    out.code(1);
    out.error_at("config/loa.toml:8:1", "gpiochip-loa-test-absent");
    assert!(!out.stdout.contains("Ready"), "{out}");
}

// Issue 10: a simulated relay writing to a device (sim-file = "/dev/full")
// would hang `loa run`: `loa check` says so first.
#[test]
fn a_sim_file_that_is_a_device_is_an_error() {
    let out = check_config(&format!(
        "{DEFAULT_CONFIG}[relay]\nbackend = \"sim\"\nsim-file = \"/dev/full\"\n"
    ));
    out.code(1);
    out.error_at("config/loa.toml:9:1", "not a regular file");
}

// Issue 10: the sound device is checked: none at all is a warning (a USB card
// may be plugged in later), said in words.
#[test]
fn no_sound_device_is_a_warning() {
    let env = TestEnv::new();
    env.audio("nhac-hieu.mp3");
    env.write_playlist(
        "default.toml",
        "[[broadcast]]\nat = \"06:00\"\nitems = [\"nhac-hieu.mp3\"]\n",
    );
    let card = crate::util::sound::SoundCard::absent();
    let out = card
        .attach(
            env.loa()
                .args(&["check", "--date", "2026-01-20", "--days", "1"]),
        )
        .run();
    out.code(0);
    let w = out.problems("warning");
    assert!(w.iter().any(|l| l.contains("no audio device")), "{out}");
}

// Issue 10: a bad `at` does not hide the other errors of the same broadcast.
#[test]
fn a_bad_at_does_not_hide_a_missing_file() {
    let out =
        check_playlist("[[broadcast]]\nat = \"6h\"\nitems = [\"nhac-hieu.mp3\", \"mat.mp3\"]\n");
    out.code(1);
    out.error_at(&at("2:6"), "start time \"6h\" is not valid");
    out.error_at(&at("3:27"), "no file \"mat.mp3\"");
}

// Issue 10: a warning never points at errors "above" that are printed below
// it.
#[test]
fn a_broadcast_with_nothing_playable_warns_without_pointing_up() {
    let out = check_playlist("[[broadcast]]\nat = \"06:00\"\nitems = [\"mat.mp3\"]\n");
    out.code(1);
    let w = out.problem(&at("2:6"), "warning", "has no playable file");
    assert!(!w.contains("above"), "{w}");
}

// Issue 10: curly quotes, as a phone or a word processor types them.
#[test]
fn curly_quotes_get_a_plain_vietnamese_message() {
    let env = TestEnv::with_config(&DEFAULT_CONFIG.replace("\"en\"", "\"vi\""));
    env.audio("nhac-hieu.mp3");
    env.write_playlist(
        "default.toml",
        "[[broadcast]]\nat = “06:00”\nitems = [\"nhac-hieu.mp3\"]\n",
    );
    let out = env.check("2026-01-20");
    out.code(1);
    let line = out.problem(&at("2:6"), "lỗi", "dấu ngoặc kép cong");
    assert!(line.contains("dấu ngoặc kép thẳng"), "{line}");
}

// Issue 10: a dated file with a one-digit day is named as it should be.
#[test]
fn a_one_digit_day_in_a_file_name_says_how_to_write_it() {
    let env = TestEnv::with_config(&DEFAULT_CONFIG.replace("\"en\"", "\"vi\""));
    env.write_playlist("2026-12-5.toml", "");
    let out = env.run(&["check"]);
    out.code(1);
    out.problem("playlists/2026-12-5.toml:1:1", "lỗi", "2026-12-05.toml");
}

// Issue 10: times with seconds are shown with them (17:00 and 17:00:30
// differ).
#[test]
fn times_with_seconds_are_shown_with_them() {
    let out = check_playlist(
        "[[broadcast]]\nat = \"17:00\"\nitems = [\"nhac-hieu.mp3\"]\n[[broadcast]]\nat = \"17:00:30\"\nitems = [\"nhac-hieu.mp3\"]\n",
    );
    out.code(0);
    out.says("at 17:00, 17:00:30");
}

// --- Issue 11: special files and smaller things ------------------------------

// Issue 11: a config named as a pipe, a device, or /dev/zero hung loa (or ran
// it out of memory): every file loa reads is checked first, with a message
// that says what it is instead.
#[test]
fn a_config_that_is_a_pipe_or_a_device_is_said_as_such() {
    let env = TestEnv::new();
    let fifo = env.path("config/fifo.toml");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
    let limit = std::time::Duration::from_secs(20);
    let out = crate::util::Loa::bare()
        .config(&fifo)
        .args(&["check"])
        .within(limit)
        .run();
    out.code(2);
    // The file that would name the language is not read: Vietnamese.
    assert!(out.stdout.contains("FIFO"), "{out}");
    for dev in ["/dev/urandom", "/dev/zero"] {
        let out = crate::util::Loa::bare()
            .env("LOA_CONFIG", dev)
            .args(&["plan"])
            .within(limit)
            .run();
        out.code(2);
        let all = format!("{}{}", out.stdout, out.stderr);
        assert!(all.contains("tệp thiết bị"), "{out}");
    }
}

// Issue 11: sim-file = "/dev/full" hung `loa run` and `loa relay off` before
// start-up, deaf to SIGTERM.
#[test]
fn a_sim_file_that_is_a_device_does_not_hang_the_service() {
    let env = TestEnv::with_config(&format!(
        "{DEFAULT_CONFIG}[relay]\nbackend = \"sim\"\nsim-file = \"/dev/full\"\n"
    ));
    let limit = std::time::Duration::from_secs(20);
    let out = env.loa().args(&["relay", "off"]).within(limit).run();
    assert_ne!(out.code, Some(0), "{out}");
    assert!(out.stderr.contains("not a regular file"), "{out}");
    let out = env.loa().args(&["run"]).within(limit).run();
    assert_ne!(out.code, Some(0), "{out}");
    assert!(out.stderr.contains("not a regular file"), "{out}");
}

// Issue 11: `loa import` of a pipe, a device or a folder said "no such file".
#[test]
fn loa_import_says_what_a_non_file_is() {
    let env = TestEnv::new();
    let fifo = env.path("pipe.mp3");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
    std::fs::create_dir_all(env.path("thu-muc")).unwrap();
    let limit = std::time::Duration::from_secs(20);
    for (arg, words) in [
        (fifo.to_str().unwrap(), "named pipe"),
        ("/dev/zero", "device file"),
        (env.path("thu-muc").to_str().unwrap(), "folder"),
    ] {
        let out = env.loa().args(&["import", arg]).within(limit).run();
        out.code(1);
        assert!(out.stdout.contains(words), "{arg}: {out}");
    }
}

// Issue 11: smaller: an empty time zone suggests Vietnam's; a huge repeat says
// the range; a file name ending in "/" is a folder; year 0000 is no date.
#[test]
fn smaller_mistakes_get_the_right_words() {
    let env = TestEnv::with_config(&DEFAULT_CONFIG.replace(
        "language = \"en\"\n",
        "language = \"en\"\ntimezone = \"\"\n",
    ));
    let out = env.run(&["check"]);
    let line = out.error_at("config/loa.toml:2:12", "time zone");
    assert!(line.contains("Asia/Ho_Chi_Minh"), "{line}");
    assert!(!line.contains("\"GB\""), "{line}");

    let out = check_playlist(
        "[[broadcast]]\nat = \"06:00\"\nitems = [\"nhac-hieu.mp3\"]\nrepeat = 99999999999999999999\n",
    );
    out.code(1);
    let line = out.error_at(&at("4:10"), "99999999999999999999");
    assert!(line.contains("from 1 to 100"), "{line}");

    let out = check_playlist("[[broadcast]]\nat = \"06:00\"\nitems = [\"nhac-hieu.mp3/\"]\n");
    out.code(1);
    out.error_at(&at("3:10"), "ends in /");

    let out = check_playlist(
        "[[broadcast]]\nat = \"06:00\"\nitems = [\"nhac-hieu.mp3\"]\nfrom = \"0000-01-01\"\n",
    );
    out.code(1);
    out.error_at(&at("4:8"), "is not a real date");
}
