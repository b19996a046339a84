//! Relaying live programmes (issue 15), with real parts: Icecast on
//! 127.0.0.1 fed by ffmpeg, the service airing a playlist's stream slot
//! through the paced stand-in card, the sound captured, the relay's edges
//! and the as-run rows read back. Each case checks that the slot is heard
//! for its length, whatever the stream does, and that the amplifier's
//! timing never changes.

use std::ops::Range;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::Value;

use crate::util::icecast::{Format, Html, Icecast, M3u, Source, Stall, Tone};
use crate::util::service::{self, Commune, Service, wait_for};
use crate::util::sound::{RATE, SoundCard, tone_wav};
use crate::util::{TestEnv, ms_between, text};

/// A test folder for relaying by hand (`loa play`): the service tests'
/// config, files at their own level, any clock.
fn hand_env() -> TestEnv {
    TestEnv::with_config(&service::service_config(
        None,
        &format!("{}{}", service::TONE_AUDIO, service::ANY_CLOCK),
    ))
}

/// The slot relayed in most cases.
const SLOT_S: f64 = 10.0;

struct Rig {
    env: TestEnv,
    card: SoundCard,
    commune: Commune,
}

impl Rig {
    fn new() -> Rig {
        let commune = Commune::for_window(Duration::ZERO, Duration::from_secs(90));
        let env = TestEnv::with_config(&service::service_config(
            Some(commune.zone),
            &format!("{}{}", service::TONE_AUDIO, service::ANY_CLOCK),
        ));
        Rig {
            env,
            card: SoundCard::paced(),
            commune,
        }
    }

    /// Today's playlist: one broadcast `lead` seconds from now with these
    /// items (TOML); its `at`.
    fn playlist(&self, lead: i64, items: &str) -> Timestamp {
        let (at_text, at) = self.commune.at(lead);
        self.env.write_playlist(
            &format!("{}.toml", self.commune.today()),
            format!(
                "[[broadcast]]\nat = \"{at_text}\"\ntitle = \"Tiếp sóng\"\nitems = [{items}]\n"
            ),
        );
        at
    }

    fn start(&self) -> Service {
        Service::start(&self.env, &self.card)
    }

    fn story(&self, svc: &Service) -> String {
        service::story(&self.env, svc)
    }

    /// Waits for the relay to go on and off; (on, off).
    fn aired(&self, svc: &Service) -> (Timestamp, Timestamp) {
        let e = wait_for(
            Duration::from_secs(60),
            "the relay to go on and then off",
            || self.story(svc),
            || {
                let e: Vec<_> = service::relay_edges(&self.env.path("relay.log"))
                    .into_iter()
                    .skip_while(|(_, on)| !on)
                    .collect();
                (e.len() >= 2 && !e.last().unwrap().1).then_some(e)
            },
        );
        (e[0].0, e[1].0)
    }

    /// The as-run row of the live item, once written whole.
    fn row(&self, svc: &Service) -> Value {
        wait_for(
            Duration::from_secs(10),
            "the live item's row",
            || self.story(svc),
            || {
                service::log(&self.env, &self.commune.today())
                    .into_iter()
                    .find(|r| r["kind"] != "file" && !r["ended"].is_null())
            },
        )
    }

    /// The stretches of sound in the capture, longer than 0.1 s.
    fn sounds(&self) -> Vec<Range<usize>> {
        self.card.capture().items(RATE / 10)
    }

    fn pitch(&self, r: &Range<usize>) -> f64 {
        let q = r.len() / 4;
        self.card.capture().frequency(r.start + q..r.end - q)
    }
}

fn secs(frames: usize) -> f64 {
    frames as f64 / RATE as f64
}

/// The relay is on for the warm-up, the slot and the hold (1 s each side),
/// whatever the stream did.
fn assert_timing(on: Timestamp, off: Timestamp, at: Timestamp, slot: f64, story: &str) {
    let early = ms_between(on, at);
    assert!(
        (early - 1000).abs() <= 400,
        "relay on {early} ms before `at`\n{story}"
    );
    let on_for = ms_between(on, off) as f64 / 1000.0;
    let want = 1.0 + slot + 1.0;
    assert!(
        (on_for - want).abs() <= 0.6,
        "relay on for {on_for} s, {want} s expected\n{story}"
    );
}

/// The live row's seconds of programme.
fn aired_s(row: &Value) -> f64 {
    row["aired_s"].as_f64().unwrap_or(-1.0)
}

// Issue 15: a 10 s slot of a live MP3 stream is relayed whole: the captured
// sound is the source's tone for 10 s, the relay around it as for any
// broadcast, and the row says stream, played, 10 s aired.
#[test]
fn a_stream_slot_is_relayed_whole() {
    if !Icecast::available("a_stream_slot_is_relayed_whole") {
        return;
    }
    let ice = Icecast::start();
    let _src = Source::start(&ice, "/vov1", Tone::new(1000.0, Format::Mp3));
    let rig = Rig::new();
    let url = ice.url("/vov1");
    let at = rig.playlist(4, &format!("{{ stream = \"{url}\", for = \"10s\" }}"));
    let svc = rig.start();
    let (on, off) = rig.aired(&svc);
    let story = rig.story(&svc);
    assert_timing(on, off, at, SLOT_S, &story);
    let sounds = rig.sounds();
    assert_eq!(sounds.len(), 1, "one stretch of sound: {sounds:?}\n{story}");
    let len = secs(sounds[0].len());
    let total = rig.card.capture().frames();
    assert!(
        (len - SLOT_S).abs() <= 0.2,
        "{len} s of sound at {:?} of {total}\n{story}",
        sounds[0]
    );
    let f = rig.pitch(&sounds[0]);
    assert!((f - 1000.0).abs() < 10.0, "{f} Hz\n{story}");
    let row = rig.row(&svc);
    assert_eq!(row["kind"], "stream", "{row:#}");
    assert_eq!(text(&row, "file"), url, "{row:#}");
    assert_eq!(row["status"], "played", "{row:#}");
    assert!(aired_s(&row) >= 9.5, "{row:#}");
    // The archive records the relayed programme like any broadcast: about
    // 10 s of 32 kbps MP3 (4 kB a second), named in the row.
    let row = wait_for(
        Duration::from_secs(20),
        "the relayed broadcast's recording",
        || rig.story(&svc),
        || {
            service::log(&rig.env, &rig.commune.today())
                .into_iter()
                .find(|r| r["kind"] == "stream" && r["archive_sha256"].is_string())
        },
    );
    let file = rig.env.path(&format!("state/{}", text(&row, "archive")));
    let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    assert!((35_000..60_000).contains(&size), "{size} bytes in {file:?}");
}

// Issue 15: the main stream is not there (no source on its mount): the
// backup is relayed, the row says why.
#[test]
fn main_down_backup_up() {
    if !Icecast::available("main_down_backup_up") {
        return;
    }
    let ice = Icecast::start();
    let _src = Source::start(&ice, "/backup", Tone::new(1000.0, Format::Mp3));
    let rig = Rig::new();
    let (main, backup) = (ice.url("/vov1"), ice.url("/backup"));
    let at = rig.playlist(
        4,
        &format!("{{ stream = \"{main}\", backup = [\"{backup}\"], for = \"10s\" }}"),
    );
    let svc = rig.start();
    let (on, off) = rig.aired(&svc);
    let story = rig.story(&svc);
    assert_timing(on, off, at, SLOT_S, &story);
    let row = rig.row(&svc);
    assert_eq!(row["status"], "played", "{row:#}\n{story}");
    assert!(aired_s(&row) >= 9.5, "{row:#}");
    assert!(text(&row, "error").contains("404"), "{row:#}");
    let sounds = rig.sounds();
    assert!(!sounds.is_empty(), "{story}");
    assert!((rig.pitch(&sounds[0]) - 1000.0).abs() < 10.0);
}

// Issue 15: no stream can be had (the main refuses, the backup stalls):
// the fallback file airs for the rest of the slot, the row fails with the
// reasons, and the amplifier's timing is that of the slot.
#[test]
fn both_down_the_fallback_file_airs() {
    if !Icecast::available("both_down_the_fallback_file_airs") {
        return;
    }
    let ice = Icecast::start();
    let stall = Stall::start();
    let rig = Rig::new();
    tone_wav(&rig.env.path("audio/xin-loi.wav"), 500.0, 3.0, 0.5, 48_000);
    let main = ice.url("/gone");
    let backup = stall.url();
    let at = rig.playlist(
        4,
        &format!(
            "{{ stream = \"{main}\", backup = [\"{backup}\"], fallback = \"xin-loi.wav\", for = \"12s\" }}"
        ),
    );
    let svc = rig.start();
    let (on, off) = rig.aired(&svc);
    let story = rig.story(&svc);
    assert_timing(on, off, at, 12.0, &story);
    let sounds = rig.sounds();
    assert!(
        sounds
            .iter()
            .any(|r| secs(r.len()) > 2.5 && (rig.pitch(r) - 500.0).abs() < 10.0),
        "the fallback's 500 Hz: {sounds:?}\n{story}"
    );
    let row = rig.row(&svc);
    assert_eq!(row["status"], "failed", "{row:#}");
    assert!(aired_s(&row) < 0.5, "{row:#}");
    let err = text(&row, "error");
    assert!(err.contains("404") && err.contains(&backup), "{row:#}");
    // The stalling backup is caught by its silence, within the 5 s.
    assert!(err.contains("did not answer in time"), "{row:#}");
}

// Issue 15: the source dies mid-slot and comes back: loa reconnects, the
// slot keeps its length, and aired_s tells how much of it was programme.
#[test]
fn the_source_killed_mid_slot_and_restarted() {
    if !Icecast::available("the_source_killed_mid_slot_and_restarted") {
        return;
    }
    let ice = Icecast::start();
    let mut src = Source::start(&ice, "/vov1", Tone::new(1000.0, Format::Mp3));
    let rig = Rig::new();
    let url = ice.url("/vov1");
    let at = rig.playlist(3, &format!("{{ stream = \"{url}\", for = \"14s\" }}"));
    let svc = rig.start();
    // 4 s into the slot the source dies; 3 s later it is back.
    wait_for(
        Duration::from_secs(30),
        "4 s of the slot",
        || rig.story(&svc),
        || (Timestamp::now() > at + jiff::SignedDuration::from_secs(4)).then_some(()),
    );
    src.kill();
    std::thread::sleep(Duration::from_secs(3));
    src.restart();
    let (on, off) = rig.aired(&svc);
    let story = rig.story(&svc);
    assert_timing(on, off, at, 14.0, &story);
    let row = rig.row(&svc);
    let aired = aired_s(&row);
    assert!(
        (5.0..13.5).contains(&aired),
        "aired {aired} s of 14: the drop is counted\n{row:#}\n{story}"
    );
    assert!(!row["error"].is_null(), "{row:#}");
    // Sound before and after the drop.
    let sounds = rig.sounds();
    assert!(sounds.len() >= 2, "{sounds:?}\n{story}");
}

// Issue 15: an AAC stream, reached through a .m3u playlist URL, with the
// programme's ICY title shown by `loa status` while it airs.
#[test]
fn an_aac_stream_through_a_m3u_with_its_title() {
    if !Icecast::available("an_aac_stream_through_a_m3u_with_its_title") {
        return;
    }
    let ice = Icecast::start();
    let _src = Source::start(&ice, "/aac", Tone::new(1000.0, Format::Aac));
    ice.set_title("/aac", "Thời sự VOV1");
    let m3u = M3u::start(&ice.url("/aac"));
    let rig = Rig::new();
    let url = m3u.url();
    let at = rig.playlist(4, &format!("{{ stream = \"{url}\", for = \"10s\" }}"));
    let svc = rig.start();
    let during = wait_for(
        Duration::from_secs(30),
        "`loa status` to show the relay's title",
        || rig.story(&svc),
        || {
            let st = service::status(&rig.env);
            let r = &st["playing"]["relay"];
            (r["title"] == "Thời sự VOV1").then_some(st)
        },
    );
    let relay = &during["playing"]["relay"];
    assert_eq!(relay["source"], "main", "{during:#}");
    assert!(relay["bytes"].as_u64().unwrap_or(0) > 0, "{during:#}");
    let (on, off) = rig.aired(&svc);
    let story = rig.story(&svc);
    assert_timing(on, off, at, SLOT_S, &story);
    let sounds = rig.sounds();
    assert_eq!(sounds.len(), 1, "{sounds:?}\n{story}");
    assert!((secs(sounds[0].len()) - SLOT_S).abs() <= 0.25, "{story}");
    assert!((rig.pitch(&sounds[0]) - 1000.0).abs() < 10.0, "{story}");
    assert_eq!(rig.row(&svc)["status"], "played");
    // What programme was on is in the service's log.
    assert!(
        svc.output().contains("programme on the relayed stream")
            && svc.output().contains("Thời sự VOV1"),
        "{story}"
    );
}

// Issue 15: a web page where the stream should be (the wrong content type)
// is refused plainly and the backup airs.
//
// The backup is MP3, whose frames arrive evenly. An Ogg backup sent in
// ffmpeg's pages of a second failed this test 2 times in 11: with the
// rig's 1 s warm-up the backup is connected about 0.7 s before the slot,
// Icecast gives a new listener one page, and whether the next page comes
// before that one is played out depends on where the slot falls between
// two pages (a gap of up to a second, under the 95 % a slot needs). The
// default warm-up of 3 s leaves time to hold 1.5 s; Ogg relaying itself
// is tested by `an_ogg_vorbis_stream_played_by_hand`.
#[test]
fn a_web_page_is_not_a_stream() {
    if !Icecast::available("a_web_page_is_not_a_stream") {
        return;
    }
    let ice = Icecast::start();
    let _src = Source::start(&ice, "/backup", Tone::new(1000.0, Format::Mp3));
    let html = Html::start();
    let rig = Rig::new();
    let (main, backup) = (html.url(), ice.url("/backup"));
    let at = rig.playlist(
        4,
        &format!("{{ stream = \"{main}\", backup = [\"{backup}\"], for = \"10s\" }}"),
    );
    let svc = rig.start();
    let (on, off) = rig.aired(&svc);
    let story = rig.story(&svc);
    assert_timing(on, off, at, SLOT_S, &story);
    let row = rig.row(&svc);
    assert_eq!(row["status"], "played", "{row:#}\n{story}");
    assert!(text(&row, "error").contains("web page"), "{row:#}");
}

/// A line-in on `card`: the ALSA capture device `linein` (S16_LE 48 kHz
/// stereo behind a `plug`), the `file` plugin's `infile` reading a named
/// pipe in `env` that a thread feeds at real time (a line-in is paced by
/// its card; the `null` slave alone would be read as fast as loa can),
/// `level(t)` being the sample at `t` seconds, for up to `seconds`.
fn line_in(
    env: &TestEnv,
    card: &SoundCard,
    seconds: u64,
    level: impl Fn(f64) -> f64 + Send + 'static,
) -> std::thread::JoinHandle<()> {
    let line = env.path("line.fifo");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &line,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
    let rc = card.xdg().join("alsa/asoundrc");
    let mut text = std::fs::read_to_string(&rc).unwrap();
    text += &format!(
        "pcm.linein {{\n  type plug\n  slave {{ pcm \"linefile\"; format S16_LE; rate 48000; channels 2 }}\n}}\npcm.linefile {{\n  type file\n  slave.pcm \"null\"\n  file \"/dev/null\"\n  infile \"{}\"\n  format \"raw\"\n}}\n",
        line.display()
    );
    std::fs::write(&rc, text).unwrap();
    std::thread::spawn(move || {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        // Opened once loa reads the line (never blocking: a loa that
        // failed first leaves this thread to give up).
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        let mut pipe = loop {
            match std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(&line)
            {
                Ok(p) => break p,
                Err(_) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(_) => return,
            }
        };
        // The pipe blocks from here: the line is fed at its own pace.
        let _ = rustix::fs::fcntl_setfl(&pipe, rustix::fs::OFlags::empty());
        let start = std::time::Instant::now();
        // 10 ms at a time, until loa closes the line.
        for block in 0..seconds * 100 {
            let chunk: Vec<u8> = (block * 480..(block + 1) * 480)
                .flat_map(|i| {
                    let s = (level(i as f64 / 48_000.0) * 32767.0) as i16;
                    let b = s.to_le_bytes();
                    [b[0], b[1], b[0], b[1]]
                })
                .collect();
            if pipe.write_all(&chunk).is_err() {
                return;
            }
            let due = Duration::from_millis(10 * (block + 1));
            if let Some(wait) = due.checked_sub(start.elapsed()) {
                std::thread::sleep(wait);
            }
        }
    })
}

/// A 0.4 full-scale sine of `hz` at `t` seconds.
fn sine(hz: f64, t: f64) -> f64 {
    0.4 * (2.0 * std::f64::consts::PI * hz * t).sin()
}

// Issue 15: the line-in, captured from an ALSA capture device (here the
// `file` plugin's `infile`, holding a 700 Hz tone), relayed by hand with
// `loa play --for`: the card gets the tone for the slot's length.
#[test]
fn the_line_in_is_relayed_for_its_slot() {
    let env = hand_env();
    let card = SoundCard::paced();
    let feeder = line_in(&env, &card, 12, |t| sine(700.0, t));
    let out = card
        .attach(env.loa())
        .args(&["play", "--no-relay", "--for", "8s", "line-in:linein"])
        .run();
    out.code(0);
    let capture = card.capture();
    let sounds = capture.items(RATE / 10);
    assert_eq!(sounds.len(), 1, "{sounds:?}\n{out}");
    // Without a warm-up the line is opened when asked: the slot may begin
    // with a moment of silence, and is never longer than asked.
    let len = secs(sounds[0].len());
    assert!((7.5..8.05).contains(&len), "{len} s\n{out}");
    let q = sounds[0].len() / 4;
    let f = capture.frequency(sounds[0].start + q..sounds[0].end - q);
    assert!((f - 700.0).abs() < 10.0, "{f} Hz");
    drop(feeder);
}

// Issue 15: a line-in that goes quiet for more than 30 s in a broadcast's
// slot: "no signal on the line-in" is logged and shown by `loa status`
// while the slot goes on, and the slot still ends on time.
#[test]
fn a_silent_line_in_is_said_in_status() {
    let rig = Rig::new();
    // 2 s of 700 Hz, then nothing.
    let feeder = line_in(&rig.env, &rig.card, 45, |t| {
        if t < 2.0 { sine(700.0, t) } else { 0.0 }
    });
    let slot = 36.0;
    let at = rig.playlist(4, "{ line-in = \"linein\", for = \"36s\" }");
    let svc = rig.start();
    let during = wait_for(
        Duration::from_secs(60),
        "`loa status` to say the line-in has no signal",
        || rig.story(&svc),
        || {
            let st = service::status(&rig.env);
            (st["playing"]["relay"]["source"] == "no signal").then_some(st)
        },
    );
    assert!(
        during["playing"]["relay"]["faults"][0]
            .as_str()
            .unwrap_or_default()
            .contains("no signal on the line-in \"linein\""),
        "{during:#}"
    );
    let shown = rig.env.run(&["status"]);
    shown.says("no signal on the line-in");
    let (on, off) = rig.aired(&svc);
    let story = rig.story(&svc);
    assert_timing(on, off, at, slot, &story);
    assert!(svc.output().contains("no signal on the line-in"), "{story}");
    let row = rig.row(&svc);
    assert_eq!(row["kind"], "line-in", "{row:#}");
    assert_eq!(row["file"], "linein", "{row:#}");
    assert!(text(&row, "error").contains("no signal"), "{row:#}");
    let sounds = rig.sounds();
    assert_eq!(sounds.len(), 1, "the 2 s of tone only: {sounds:?}\n{story}");
    drop(feeder);
}

// Issue 15: a stream relayed by hand: `loa play --for` with a stream's
// address plays it for the slot, and without --for says what is missing.
#[test]
fn a_stream_played_by_hand_for_its_slot() {
    if !Icecast::available("a_stream_played_by_hand_for_its_slot") {
        return;
    }
    let ice = Icecast::start();
    let _src = Source::start(&ice, "/vov1", Tone::new(1000.0, Format::Mp3));
    let env = hand_env();
    let card = SoundCard::paced();
    let url = ice.url("/vov1");
    let out = card
        .attach(env.loa())
        .args(&["play", "--no-relay", &url])
        .run();
    out.code(2);
    assert!(out.stderr.contains("--for"), "{out}");
    let out = card
        .attach(env.loa())
        .args(&["play", "--no-relay", "--for", "8s", &url])
        .run();
    out.code(0);
    let sounds = card.capture().items(RATE / 10);
    assert_eq!(sounds.len(), 1, "{sounds:?}\n{out}");
    // Without a warm-up the stream is connected when asked.
    let len = secs(sounds[0].len());
    assert!((7.5..8.05).contains(&len), "{len} s\n{out}");
}

// Issue 15: `loa check --online` tries each stream of the playlists and
// says what it found, or why it could not be had.
#[test]
fn check_online_says_what_each_stream_is() {
    if !Icecast::available("check_online_says_what_each_stream_is") {
        return;
    }
    let ice = Icecast::start();
    let _src = Source::start(&ice, "/vov1", Tone::new(1000.0, Format::Mp3));
    let env = TestEnv::new();
    let (good, gone) = (ice.url("/vov1"), ice.url("/gone"));
    env.write_playlist(
        "default.toml",
        format!(
            "[[broadcast]]\nat = \"05:00\"\nitems = [{{ stream = \"{good}\", for = \"30m\", backup = [\"{gone}\"] }}]\n"
        ),
    );
    let out = env.run(&["check", "--online"]);
    out.code(0);
    // (Icecast passes no bitrate for ffmpeg's source: none is said.)
    out.says(&format!(
        "{good}: OK, MP3, 44100 Hz, 2 channel(s), station \"VOV1 test\""
    ));
    out.says(&format!("{gone}: warning: "));
    out.says("404");
}

// Issue 15: `loa check` says what is wrong with a live item's form, where
// it is: the address's scheme, a missing or bad `for`, a slot longer than
// the amplifier may stay on, a missing fallback file, a bad ALSA name.
#[test]
fn check_says_what_is_wrong_with_a_live_item() {
    let env = TestEnv::new();
    env.write_playlist(
        "default.toml",
        r#"[[broadcast]]
at = "05:00"
items = [
  { stream = "ftp://radio.example.vn/vov1", for = "10m" },
  { stream = "http://radio.example.vn/vov1" },
  { stream = "http://radio.example.vn/vov1", for = "10m", fallback = "khong-co.mp3" },
  { line-in = "bad name", for = "10m" },
  { line-in = "default", for = "0s" },
]

[[broadcast]]
at = "09:00"
items = [{ stream = "http://radio.example.vn/vov1", for = "2h" }]
"#,
    );
    let out = env.run(&["check"]);
    out.code(1);
    out.says("playlists/default.toml:4:14: error: ")
        .says("\"ftp://radio.example.vn/vov1\"")
        .says("http:// or https://");
    out.says("playlists/default.toml:5:3: error: ")
        .says("`for`");
    out.says("playlists/default.toml:6:")
        .says("\"khong-co.mp3\"");
    out.says("playlists/default.toml:7:").says("\"bad name\"");
    out.says("playlists/default.toml:8:").says("\"0s\"");
    // The 2 h slot keeps the amplifier on past max-on (1h30m by default).
    out.says("playlists/default.toml:12:").says("max-on");
    // Nothing is fetched from the network without --online.
    assert!(!out.stdout.contains("OK, MP3"), "{out}");
}

// Issue 15: an Ogg Vorbis stream (Icecast's `application/ogg`) relayed by
// hand: its tone, for the slot.
#[test]
fn an_ogg_vorbis_stream_played_by_hand() {
    if !Icecast::available("an_ogg_vorbis_stream_played_by_hand") {
        return;
    }
    let ice = Icecast::start();
    let _src = Source::start(&ice, "/huyen.ogg", Tone::new(600.0, Format::Ogg));
    let env = hand_env();
    let card = SoundCard::paced();
    // ffmpeg sends Ogg in pages of a second: a station that has just
    // come on air has no pages for Icecast to give a new listener at once.
    // Like a real one, this station has been on air a while when the slot
    // begins.
    std::thread::sleep(Duration::from_secs(3));
    let url = ice.url("/huyen.ogg");
    let out = card
        .attach(env.loa())
        .args(&["play", "--no-relay", "--for", "6s", &url])
        .run();
    out.code(0);
    let capture = card.capture();
    let sounds = capture.items(RATE / 10);
    assert_eq!(sounds.len(), 1, "{sounds:?}\n{out}");
    let len = secs(sounds[0].len());
    assert!((5.5..6.05).contains(&len), "{len} s\n{out}");
    let q = sounds[0].len() / 4;
    let f = capture.frequency(sounds[0].start + q..sounds[0].end - q);
    assert!((f - 600.0).abs() < 10.0, "{f} Hz\n{out}");
}

// Issue 15: `loa now --for` relays a stream at once, as an emergency (the
// district's live voice): the amplifier on around it, the slot's length,
// the row a stream; without --for it says what is missing.
#[test]
fn an_emergency_relay_with_loa_now() {
    if !Icecast::available("an_emergency_relay_with_loa_now") {
        return;
    }
    let ice = Icecast::start();
    let _src = Source::start(&ice, "/huyen", Tone::new(1000.0, Format::Mp3));
    let rig = Rig::new();
    let svc = rig.start();
    let url = ice.url("/huyen");
    let out = rig.env.run(&["now", &url]);
    assert_ne!(out.code, Some(0), "{out}");
    assert!(
        out.stderr.contains("nothing was aired") && out.stderr.contains("--for"),
        "{out}"
    );
    rig.env.run(&["now", "--for", "6s", &url]).code(0);
    let (on, off) = rig.aired(&svc);
    let story = rig.story(&svc);
    let on_s = ms_between(on, off) as f64 / 1000.0;
    assert!(on_s > 6.0 && on_s < 6.0 + 15.0, "on for {on_s} s\n{story}");
    let sounds = rig.sounds();
    assert_eq!(sounds.len(), 1, "{sounds:?}\n{story}");
    let len = secs(sounds[0].len());
    assert!((5.5..6.05).contains(&len), "{len} s\n{story}");
    let row = rig.row(&svc);
    assert_eq!(row["kind"], "stream", "{row:#}");
    assert_eq!(row["priority"], "emergency", "{row:#}");
    assert_eq!(row["status"], "played", "{row:#}");
    assert_eq!(text(&row, "file"), url, "{row:#}");
}

// Issue 15: the level of a relayed programme: a quiet stream is brought up
// slowly towards target-lufs (at most 12 dB), and a loud one, boosted by
// [audio] volume-db = +6, never clips at the card.
#[test]
fn a_relayed_programme_is_levelled_and_never_clips() {
    if !Icecast::available("a_relayed_programme_is_levelled_and_never_clips") {
        return;
    }
    let ice = Icecast::start();
    let tone = |volume_db| Tone {
        volume_db,
        ..Tone::new(1000.0, Format::Mp3)
    };
    // ffmpeg's sine peaks at -18 dBFS: these are at -38 and at -1 dBFS.
    let _quiet = Source::start(&ice, "/quiet", tone(-20.0));
    let _loud = Source::start(&ice, "/loud", tone(17.0));
    let relay = |audio: &str, mount: &str, secs_for: &str| {
        let env = TestEnv::with_config(&service::service_config(
            None,
            &format!("{audio}{}", service::ANY_CLOCK),
        ));
        let card = SoundCard::paced();
        let out = card
            .attach(env.loa())
            .args(&["play", "--no-relay", "--for", secs_for, &ice.url(mount)])
            .run();
        out.code(0);
        (card.capture(), out)
    };

    let (capture, out) = relay("[audio]\nnormalize = true\n", "/quiet", "12s");
    let sounds = capture.items(RATE / 10);
    assert_eq!(sounds.len(), 1, "{sounds:?}\n{out}");
    let s = &sounds[0];
    let first = capture.rms_db(s.start..s.start + RATE);
    let last = capture.rms_db(s.end - 2 * RATE..s.end - RATE / 2);
    assert!(
        first < -38.0,
        "brought up slowly: {first:.1} dB in the first second"
    );
    let rise = last - first;
    assert!(
        (8.0..=12.5).contains(&rise),
        "up {rise:.1} dB ({first:.1} to {last:.1})"
    );

    let (capture, out) = relay(
        "[audio]\nnormalize = true\nvolume-db = 6.0\n",
        "/loud",
        "5s",
    );
    let all = 0..capture.frames();
    let peak = capture.peak(all.clone());
    assert!(capture.rms_db(all) > -30.0, "{out}");
    assert!(peak <= 0.9, "peak {peak:.3} (-1 dBFS is 0.891)\n{out}");
}
