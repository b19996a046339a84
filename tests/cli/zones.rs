//! Issue 16, end to end: hamlet zones on relays of their own, through the
//! real `loa run` with the simulated relay (whose sim-file records every
//! line's edges in order), the paced ALSA stand-in, and `loa check`,
//! `loa plan`, `loa relay`, `loa now`, `loa status` and `loa log` as an
//! operator runs them.

use std::time::Duration;

use jiff::Timestamp;
use serde_json::Value;

use crate::util::service::{self, Commune, Service, wait_for};
use crate::util::sound::{RATE, SoundCard, tone_wav};
use crate::util::{TestEnv, list, text};

/// Three hamlets on lines 22, 23 and 24; the amplifier on 17 (the
/// report's tests use them too).
pub(crate) const ZONES: &str = r#"
[[zone]]
name = "thon-1"
title = "Thôn Đông"
line = 22

[[zone]]
name = "thon-2"
title = "Thôn Tây"
line = 23

[[zone]]
name = "thon-3"
title = "Thôn Bắc"
line = 24
"#;

/// One line of the sim-file: when, which line ("amp" or the zone's
/// name), and on or off.
#[derive(Clone, Debug, PartialEq)]
struct Edge {
    at: Timestamp,
    line: String,
    on: bool,
}

impl Edge {
    fn text(&self) -> String {
        format!("{} {}", self.line, if self.on { "on" } else { "off" })
    }
}

/// The sim-file's edges in file order; every line must be exactly
/// `TIMESTAMP on|off` or `TIMESTAMP zone NAME on|off`.
fn edges(env: &TestEnv) -> Vec<Edge> {
    let text = std::fs::read_to_string(env.path("relay.log")).unwrap_or_default();
    text.lines()
        .map(|l| {
            let parts: Vec<&str> = l.split(' ').collect();
            let (stamp, line, level) = match parts.as_slice() {
                [t, level] => (*t, "amp".to_string(), *level),
                [t, "zone", name, level] => (*t, name.to_string(), *level),
                _ => panic!("bad sim-file line {l:?}"),
            };
            assert_eq!(stamp.len(), 29, "{l:?}: RFC 3339 with milliseconds");
            let on = match level {
                "on" => true,
                "off" => false,
                other => panic!("bad level {other:?} in {l:?}"),
            };
            Edge {
                at: stamp.parse().unwrap_or_else(|e| panic!("{l:?}: {e}")),
                line,
                on,
            }
        })
        .collect()
}

/// The edges after start-up (which switches every line off once).
fn after_start_up(env: &TestEnv) -> Vec<Edge> {
    edges(env).into_iter().skip_while(|e| !e.on).collect()
}

fn texts(e: &[Edge]) -> Vec<String> {
    e.iter().map(Edge::text).collect()
}

fn ms(a: Timestamp, b: Timestamp) -> i64 {
    b.as_millisecond() - a.as_millisecond()
}

struct Rig {
    env: TestEnv,
    card: SoundCard,
    commune: Commune,
}

impl Rig {
    fn new(card: SoundCard) -> Rig {
        let commune = Commune::for_window(Duration::ZERO, Duration::from_secs(90));
        let env = TestEnv::with_config(&service::service_config(
            Some(commune.zone),
            &format!("{}{}{ZONES}", service::TONE_AUDIO, service::ANY_CLOCK),
        ));
        Rig { env, card, commune }
    }

    /// A tone in audio/NAME, aged so that it is not taken for an upload
    /// in progress.
    fn tone(&self, name: &str, freq: f64, seconds: f64) {
        let path = self.env.path(&format!("audio/{name}"));
        tone_wav(&path, freq, seconds, 0.5, 48_000);
        crate::util::age(&path);
    }

    fn playlist(&self, toml: &str) {
        self.env
            .write_playlist(&format!("{}.toml", self.commune.today()), toml);
    }

    fn story(&self, svc: &Service) -> String {
        service::story(&self.env, svc)
    }

    /// Waits until the sim-file holds `n` edges after start-up, the last
    /// one a zone's off; those edges.
    fn wait_edges(&self, svc: &Service, n: usize) -> Vec<Edge> {
        wait_for(
            Duration::from_secs(40),
            &format!("{n} relay edges after start-up"),
            || self.story(svc),
            || {
                let e = after_start_up(&self.env);
                (e.len() >= n && e.last().is_some_and(|l| l.line != "amp" && !l.on)).then_some(e)
            },
        )
    }
}

// Issue 16: a broadcast to one zone of three switches only that zone,
// before the amplifier and off after it; one without `zones` goes to every
// zone. Every line starts off, and the log, the plan and the status say
// which hamlets.
#[test]
fn a_broadcast_to_one_zone_switches_only_it_and_the_default_is_every_zone() {
    let rig = Rig::new(SoundCard::paced());
    rig.tone("hop-thon.wav", 800.0, 1.0);
    rig.tone("ban-tin.wav", 600.0, 1.0);
    let (one_at, one) = rig.commune.at(6);
    let (all_at, _) = rig.commune.at(12);
    rig.playlist(&format!(
        r#"[[broadcast]]
at = "{one_at}"
title = "Họp thôn Tây"
zones = ["thon-2"]
items = ["hop-thon.wav"]

[[broadcast]]
at = "{all_at}"
title = "Bản tin"
items = ["ban-tin.wav"]
"#
    ));
    let day = rig.commune.today();
    let plan = rig.env.run(&["plan", "--date", &day]);
    plan.code(0);
    assert!(plan.stdout.contains("Airs to: Thôn Tây"), "{plan}");
    assert!(
        plan.stdout
            .contains("Airs to: every zone (Thôn Đông, Thôn Tây, Thôn Bắc)"),
        "{plan}"
    );
    let pj = rig.env.plan_json(&day);
    let b = list(&pj, "broadcasts");
    assert_eq!(b[0]["zones"], serde_json::json!(["thon-2"]), "{pj:#}");
    assert_eq!(b[0]["zone_titles"], serde_json::json!(["Thôn Tây"]));

    let mut svc = Service::start(&rig.env, &rig.card);
    // Start-up: the amplifier off, then every zone off.
    let start = edges(&rig.env);
    assert_eq!(
        texts(&start[..4]),
        ["amp off", "thon-1 off", "thon-2 off", "thon-3 off"],
        "{}",
        rig.story(&svc)
    );
    let st = service::status(&rig.env);
    let zones = list(&st, "zones");
    assert_eq!(zones.len(), 3, "{st:#}");
    assert_eq!(
        (text(&zones[1], "name"), text(&zones[1], "title")),
        ("thon-2", "Thôn Tây")
    );
    assert!(
        zones
            .iter()
            .all(|z| z["on"] == false && z["since"].is_string())
    );

    let e = rig.wait_edges(&svc, 12);
    assert_eq!(
        texts(&e),
        [
            "thon-2 on",
            "amp on",
            "amp off",
            "thon-2 off",
            "thon-1 on",
            "thon-2 on",
            "thon-3 on",
            "amp on",
            "amp off",
            "thon-1 off",
            "thon-2 off",
            "thon-3 off"
        ],
        "{}",
        rig.story(&svc)
    );
    // The zone goes on with the amplifier at relay-on (warm-up 1 s before
    // the broadcast's time), and off right after it.
    assert!(
        ms(e[0].at, e[1].at) >= 0 && ms(e[0].at, e[1].at) < 500,
        "{e:?}"
    );
    let warm = ms(e[1].at, one);
    assert!(
        (500..=1500).contains(&warm),
        "relay on {warm} ms before 'at'"
    );
    assert!(
        ms(e[2].at, e[3].at) >= 0 && ms(e[2].at, e[3].at) < 500,
        "{e:?}"
    );

    let rows = service::log(&rig.env, &day);
    let row = |file: &str| -> &Value {
        rows.iter()
            .find(|r| r["file"] == file)
            .unwrap_or_else(|| panic!("no row for {file}: {rows:#?}"))
    };
    assert_eq!(row("hop-thon.wav")["status"], "played");
    assert_eq!(row("hop-thon.wav")["zones"], serde_json::json!(["thon-2"]));
    assert_eq!(
        row("ban-tin.wav")["zones"],
        serde_json::json!(["thon-1", "thon-2", "thon-3"])
    );
    // The sound went out while the zone's line was on.
    let started: Timestamp = text(row("hop-thon.wav"), "started").parse().unwrap();
    let ended: Timestamp = text(row("hop-thon.wav"), "ended").parse().unwrap();
    assert!(
        e[0].at <= started && ended <= e[3].at,
        "{e:?} {started} {ended}"
    );

    svc.signal("TERM");
    svc.wait_exit(Duration::from_secs(5));
}

// Issue 16: an emergency during a broadcast to one zone goes to every
// zone: the item fades out, the other zones switch on in the silence
// (the amplifier stays on), and the emergency plays to all after a pause.
#[test]
fn an_emergency_widens_a_one_zone_broadcast_to_every_zone_in_the_silence() {
    let rig = Rig::new(SoundCard::paced_keeping());
    rig.tone("hop-thon.wav", 1000.0, 8.0);
    rig.tone("bao.wav", 500.0, 1.0);
    let (at, _) = rig.commune.at(3);
    rig.playlist(&format!(
        "[[broadcast]]\nat = \"{at}\"\ntitle = \"Họp thôn Đông\"\nzones = [\"thon-1\"]\nitems = [\"hop-thon.wav\"]\n"
    ));
    let mut svc = Service::start(&rig.env, &rig.card);
    wait_for(
        Duration::from_secs(20),
        "hop-thon.wav to be 1.5 s on air",
        || rig.story(&svc),
        || {
            let st = service::status(&rig.env);
            let p = &st["playing"];
            (p["file"] == "hop-thon.wav" && p["elapsed_s"].as_f64().unwrap_or(0.0) >= 1.5)
                .then_some(())
        },
    );
    rig.env.run(&["now", "bao.wav"]).code(0);
    let e = rig.wait_edges(&svc, 8);
    assert_eq!(
        texts(&e),
        [
            "thon-1 on",
            "amp on",
            "thon-2 on",
            "thon-3 on",
            "amp off",
            "thon-1 off",
            "thon-2 off",
            "thon-3 off"
        ],
        "{}",
        rig.story(&svc)
    );
    let rows = service::log(&rig.env, &rig.commune.today());
    let row = |file: &str| -> &Value {
        rows.iter()
            .find(|r| r["file"] == file)
            .unwrap_or_else(|| panic!("no row for {file}: {rows:#?}"))
    };
    let cut = row("hop-thon.wav");
    assert_eq!(cut["status"], "interrupted", "{cut:#}");
    let alarm = row("bao.wav");
    assert_eq!(alarm["priority"], "emergency");
    assert_eq!(
        alarm["zones"],
        serde_json::json!(["thon-1", "thon-2", "thon-3"])
    );
    // The lines switched after the broadcast's sound ended, and before
    // the emergency's (which the sound card takes after 200 ms of
    // silence: below).
    let cut_end: Timestamp = text(cut, "ended").parse().unwrap();
    let alarm_start: Timestamp = text(alarm, "started").parse().unwrap();
    assert!(cut_end <= e[2].at, "{cut_end} vs {:?}", e[2]);
    assert!(e[3].at <= alarm_start, "{:?} {alarm_start}", e[3]);
    // In the sound: the broadcast's tone, silence while the lines
    // switched, then the emergency's tone.
    let cap = rig.card.capture();
    let sounds = cap.sounds(RATE / 20);
    let long: Vec<_> = sounds.iter().filter(|r| r.len() > RATE / 10).collect();
    assert_eq!(long.len(), 2, "{sounds:?}");
    let pitch = |r: &std::ops::Range<usize>| {
        let q = r.len() / 4;
        cap.frequency(r.start + q..r.end - q)
    };
    assert!((pitch(long[0]) - 1000.0).abs() < 30.0, "{}", pitch(long[0]));
    assert!((pitch(long[1]) - 500.0).abs() < 30.0, "{}", pitch(long[1]));
    let silent = long[1].start - long[0].end;
    assert!(
        silent >= RATE / 5,
        "only {silent} frames of silence between"
    );
    svc.signal("TERM");
    svc.wait_exit(Duration::from_secs(5));
}

// Issue 16: SIGTERM mid-broadcast, and a panic in loa's own airing
// sequence, leave every line off: the amplifier first, then the zones.
#[test]
fn sigterm_and_a_panic_mid_broadcast_leave_every_line_off() {
    for panic in [false, true] {
        let rig = Rig::new(SoundCard::paced());
        rig.tone("dai.wav", 700.0, 10.0);
        let (at, _) = rig.commune.at(3);
        rig.playlist(&format!(
            "[[broadcast]]\nat = \"{at}\"\nzones = [\"thon-1\", \"thon-3\"]\nitems = [\"dai.wav\"]\n"
        ));
        let vars: Vec<(&str, &std::ffi::OsStr)> = if panic {
            vec![("LOA_FAULT_INJECT", "airing-panic:dai.wav".as_ref())]
        } else {
            vec![]
        };
        let mut svc = Service::start_with(&rig.env, &rig.card, &vars);
        if !panic {
            wait_for(
                Duration::from_secs(20),
                "dai.wav on air, the amplifier and two zones on",
                || rig.story(&svc),
                || {
                    let on =
                        texts(&after_start_up(&rig.env)) == ["thon-1 on", "thon-3 on", "amp on"];
                    (on && service::status(&rig.env)["playing"]["file"] == "dai.wav").then_some(())
                },
            );
        }
        if !panic {
            svc.signal("TERM");
            svc.wait_exit(Duration::from_secs(5));
        }
        let e = wait_for(
            Duration::from_secs(30),
            "every line off",
            || rig.story(&svc),
            || {
                let e = after_start_up(&rig.env);
                (e.len() >= 6).then_some(e)
            },
        );
        assert_eq!(
            texts(&e),
            [
                "thon-1 on",
                "thon-3 on",
                "amp on",
                "amp off",
                "thon-1 off",
                "thon-3 off"
            ],
            "panic: {panic}\n{}",
            rig.story(&svc)
        );
        if panic {
            let out = svc.output();
            assert!(out.contains("injected fault"), "{out}");
            // The service lives on, every line off.
            let st = service::status(&rig.env);
            assert_eq!(st["relay"]["on"], false, "{st:#}");
            assert!(
                list(&st, "zones").iter().all(|z| z["on"] == false),
                "{st:#}"
            );
            svc.signal("TERM");
            svc.wait_exit(Duration::from_secs(5));
        }
    }
}

// Issue 16: `loa relay off` with no service switches every line off (it
// is systemd's ExecStopPost); `--zone` switches one line alone, and
// `loa relay status` shows each.
#[test]
fn loa_relay_off_switches_every_line_off_and_zone_switches_one() {
    let env = TestEnv::with_config(&service::service_config(None, ZONES));
    env.run(&["relay", "on"]).code(0);
    let on = env.run(&["relay", "on", "--zone", "thon-2"]);
    on.code(0);
    assert!(
        on.stdout.contains("thon-2") && on.stdout.contains("ON"),
        "{on}"
    );
    let st = env.run(&["relay", "status"]);
    st.code(0);
    let line = |out: &str, what: &str| -> String {
        out.lines()
            .find(|l| l.contains(what))
            .unwrap_or_else(|| panic!("no line with {what}:\n{out}"))
            .to_string()
    };
    assert!(line(&st.stdout, "Simulated relay:").contains("ON"), "{st}");
    assert!(line(&st.stdout, "zone thon-2").contains("ON since"), "{st}");
    assert!(line(&st.stdout, "zone thon-1").contains("OFF"), "{st}");
    let one = env.run(&["relay", "status", "--zone", "thon-2"]);
    one.code(0);
    let relays = one.stdout.lines().filter(|l| l.contains("relay")).count();
    assert_eq!(relays, 1, "{one}");
    assert!(one.stdout.contains("zone thon-2"), "{one}");

    let off = env.run(&["relay", "off"]);
    off.code(0);
    let e = after_start_up(&env);
    assert_eq!(
        texts(&e),
        [
            "amp on",
            "thon-2 on",
            "amp off",
            "thon-1 off",
            "thon-2 off",
            "thon-3 off"
        ],
        "{off}"
    );
    let st = env.run(&["relay", "status"]);
    assert!(!st.stdout.contains("ON"), "{st}");
}

// Issue 16: an unknown zone is said with the nearest name, in a playlist
// (`loa check`), in the config, and in `loa now` / `loa queue` /
// `loa relay`; nothing airs or switches.
#[test]
fn unknown_zones_are_said_with_the_nearest_name_and_nothing_airs() {
    let rig = Rig::new(SoundCard::paced());
    rig.tone("a.wav", 500.0, 1.0);
    let day = rig.commune.today();
    rig.playlist("[[broadcast]]\nat = \"23:59\"\nzones = [\"thon-l\"]\nitems = [\"a.wav\"]\n");
    let check = rig.env.run(&["check", "--date", &day]);
    check.code(1);
    check.error_at(
        &format!("playlists/{day}.toml:3:10"),
        "there is no zone \"thon-l\"; did you mean \"thon-1\"?",
    );

    let svc = Service::start(&rig.env, &rig.card);
    for args in [
        &["now", "--zone", "thon-9", "a.wav"][..],
        &["queue", "--zone", "Thôn Đông", "a.wav"][..],
        &["relay", "on", "--zone", "thon-4"][..],
    ] {
        let out = rig.env.run(args);
        out.code(1);
        assert!(out.stderr.contains("there is no zone"), "{args:?}\n{out}");
        assert!(out.stderr.contains("thon-1 (Thôn Đông)"), "{out}");
    }
    let near = rig.env.run(&["now", "--zone", "thon-4", "a.wav"]);
    assert!(near.stderr.contains("did you mean \"thon-"), "{near}");
    // Nothing switched, nothing was queued.
    assert!(after_start_up(&rig.env).is_empty(), "{}", rig.story(&svc));
    assert!(list(&service::status(&rig.env), "queued").is_empty());

    // The config: a bad name, a duplicate name, a shared line, the
    // amplifier's line.
    let bad = TestEnv::with_config(&service::service_config(
        None,
        r#"
[[zone]]
name = "Thôn 1"
line = 22
[[zone]]
name = "thon-2"
line = 23
[[zone]]
name = "thon-2"
line = 24
[[zone]]
name = "thon-3"
line = 23
[[zone]]
name = "thon-4"
line = 17
"#,
    ));
    let out = bad.run(&["check"]);
    out.code(1);
    out.says("zone name \"Thôn 1\" is not valid");
    out.says("zone name \"thon-2\" is used twice");
    out.says("zone \"thon-3\" is on line 23, which zone \"thon-2\" already uses");
    out.says("zone \"thon-4\" is on line 17, which is the amplifier's own");
}

// Issue 16: `loa check` checks each zone's GPIO line as it checks the
// amplifier's, and says which hamlet's relay cannot be used, at its
// [[zone]] in the config.
#[test]
fn check_says_which_zone_s_relay_cannot_be_used() {
    let env = TestEnv::with_config(
        r#"language = "en"
[paths]
audio = "../audio"
playlists = "../playlists"
state = "../state"
[relay]
backend = "gpio"
chip = "gpiochip-loa-missing"
line = 17

[[zone]]
name = "thon-1"
title = "Thôn Đông"
line = 22
"#,
    );
    let out = env.run(&["check"]);
    out.code(1);
    out.error_at(
        "config/loa.toml:12:1",
        "the relay of zone \"thon-1\" (Thôn Đông) cannot be used: there is no GPIO chip \"gpiochip-loa-missing\"",
    );
}

// Issue 16: `loa play` with zones airs to every zone: the zones on before
// the amplifier, off after it.
#[test]
fn loa_play_airs_to_every_zone() {
    let env = TestEnv::with_config(&service::service_config(
        None,
        &format!("{}{ZONES}", service::TONE_AUDIO),
    ));
    let path = env.path("audio/a.wav");
    tone_wav(&path, 440.0, 1.0, 0.5, 48_000);
    crate::util::age(&path);
    let card = SoundCard::unpaced();
    let out = card.attach(env.loa().args(&["play", "a.wav"])).run();
    out.code(0);
    assert_eq!(
        texts(&after_start_up(&env)),
        [
            "thon-1 on",
            "thon-2 on",
            "thon-3 on",
            "amp on",
            "amp off",
            "thon-1 off",
            "thon-2 off",
            "thon-3 off"
        ],
        "{out}"
    );
    assert!(
        !card.capture().items(RATE / 10).is_empty(),
        "no sound: {out}"
    );
}
