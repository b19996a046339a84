//! Issue 11: what reaches the running service over its control socket is
//! checked before anything happens. Raw request lines as any local program
//! could send them (the socket is the daemon's interface), and `loa now` as
//! the operator types it: names outside the audio folder, unknown names,
//! thousands of names, nothing at all; and the amplifier never goes on with
//! nothing to play.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use serde_json::Value;

use crate::util::TestEnv;
use crate::util::service::{self, Commune, Service, broadcasts_toml, relay_edges, wait_for};
use crate::util::sound::{SoundCard, tone_wav};

fn env() -> TestEnv {
    TestEnv::with_config(&service::service_config(None, service::ANY_CLOCK))
}

/// Sends one raw request line; the parsed answer.
fn ask(env: &TestEnv, line: &str) -> Value {
    let mut s = UnixStream::connect(env.path("state/loa.sock")).expect("the control socket");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(line.as_bytes()).unwrap();
    s.write_all(b"\n").unwrap();
    let mut answer = String::new();
    BufReader::new(s).read_line(&mut answer).unwrap();
    serde_json::from_str(&answer).unwrap_or_else(|e| panic!("{answer:?}: {e}"))
}

fn ons(env: &TestEnv) -> usize {
    relay_edges(&env.path("relay.log"))
        .iter()
        .filter(|(_, on)| *on)
        .count()
}

// Issue 11: names outside the audio folder are refused: nothing airs, nothing is logged.
#[test]
fn names_outside_the_audio_folder_are_refused_and_nothing_is_read() {
    let env = env();
    let card = SoundCard::unpaced();
    let svc = Service::start(&env, &card);
    for files in [
        r#"["../../etc/passwd"]"#,
        r#"["/etc/passwd"]"#,
        r#"["audio/../../../etc/passwd"]"#,
        r#"["a\u0000b.mp3"]"#,
    ] {
        let a = ask(&env, &format!(r#"{{"cmd":"now","files":{files}}}"#));
        assert_eq!(a["ok"], false, "{files}: {a}");
        let m = a["message"].as_str().unwrap_or("");
        assert!(m.contains("Refused, nothing was aired"), "{files}: {m}");
        // Whether /etc/passwd exists is not told.
        assert!(!m.contains("root:"), "{m}");
    }
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(ons(&env), 0, "{}", svc.output());
    // Nothing went into the log.
    let today = service::status(&env)["now"].as_str().unwrap()[..10].to_string();
    assert!(service::log(&env, &today).is_empty());
}

// Issue 11: an unknown name is refused at once, with the nearest name.
#[test]
fn unknown_names_are_refused_at_once_with_the_nearest_name() {
    let env = env();
    tone_wav(&env.path("audio/thong-bao.wav"), 800.0, 1.0, 0.5, 48_000);
    let card = SoundCard::unpaced();
    let svc = Service::start(&env, &card);
    let out = env.run(&["now", "thong-bao-typo.wav"]);
    assert_ne!(out.code, Some(0), "{out}");
    assert!(out.stderr.contains("\"thong-bao.wav\""), "{out}");
    let a = ask(
        &env,
        r#"{"cmd":"queue","files":["thong-bao.wav","khong-co.mp3"]}"#,
    );
    assert_eq!(a["ok"], false, "{a}");
    // Refused whole: nothing queued.
    assert!(
        service::status(&env)["queued"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{}",
        svc.output()
    );
    assert_eq!(ons(&env), 0);
}

// Issue 11: a queue request over its bound is refused whole.
#[test]
fn a_queue_over_its_bound_is_refused_whole() {
    let env = env();
    tone_wav(&env.path("audio/a.wav"), 800.0, 1.0, 0.5, 48_000);
    let card = SoundCard::unpaced();
    let _svc = Service::start(&env, &card);
    let names: Vec<String> = (0..3000).map(|i| format!("\"khong-co-{i}.mp3\"")).collect();
    let a = ask(
        &env,
        &format!(r#"{{"cmd":"queue","files":[{}]}}"#, names.join(",")),
    );
    assert_eq!(a["ok"], false, "{a}");
    assert!(a["message"].as_str().unwrap().contains("at most 50"), "{a}");
    let fifty: Vec<&str> = std::iter::repeat_n("\"a.wav\"", 50).collect();
    let a = ask(
        &env,
        &format!(r#"{{"cmd":"queue","files":[{}]}}"#, fifty.join(",")),
    );
    assert_eq!(a["ok"], true, "{a}");
    let a = ask(&env, r#"{"cmd":"queue","files":["a.wav"]}"#);
    assert_eq!(a["ok"], false, "one more than 50: {a}");
    assert_eq!(
        service::status(&env)["queued"].as_array().unwrap().len(),
        50
    );
}

// Issue 11: `loa now` of nothing playable leaves the amplifier off and the broadcast on air.
#[test]
fn now_with_nothing_to_play_leaves_the_amplifier_off_and_the_broadcast_on() {
    let env = env();
    tone_wav(&env.path("audio/a.wav"), 1000.0, 3.0, 0.5, 48_000);
    tone_wav(&env.path("audio/b.wav"), 500.0, 2.0, 0.5, 48_000);
    let card = SoundCard::paced();
    let svc = Service::start(&env, &card);
    // Nothing named: refused, the amplifier untouched.
    let a = ask(&env, r#"{"cmd":"now","files":[]}"#);
    assert_eq!(a["ok"], false, "{a}");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(ons(&env), 0);
    // During a broadcast, an emergency with a typo is refused, and the
    // broadcast goes on untouched.
    env.run(&["now", "a.wav", "b.wav"]).code(0);
    wait_for(
        Duration::from_secs(10),
        "a.wav on air",
        || svc.output(),
        || (service::status(&env)["playing"]["file"] == "a.wav").then_some(()),
    );
    let out = env.run(&["now", "a-typo.wav"]);
    assert_ne!(
        out.code,
        Some(0),
        "`loa now` with nothing to air exits non-zero\n{out}"
    );
    let today = service::status(&env)["now"].as_str().unwrap()[..10].to_string();
    let rows = wait_for(
        Duration::from_secs(15),
        "both items played",
        || svc.output(),
        || {
            let rows = service::log(&env, &today);
            (rows.iter().filter(|r| r["status"] == "played").count() == 2).then_some(rows)
        },
    );
    assert!(rows.iter().all(|r| r["status"] == "played"), "{rows:#?}");
    assert_eq!(ons(&env), 1);
}

// Issue 11: `loa play` of nothing playable never switches the amplifier on.
#[test]
fn loa_play_of_nothing_playable_never_switches_the_amplifier_on() {
    let env = env();
    env.write_old("audio/hong.mp3", "not audio\n".repeat(50));
    let card = SoundCard::unpaced();
    let out = card.attach(env.loa().args(&["play", "hong.mp3"])).run();
    out.code(1);
    assert_eq!(ons(&env), 0, "{out}");
}

// Issue 11: a broadcast whose only file was rejected seconds before its time:
// the amplifier stays off, and the log says why.
#[test]
fn a_broadcast_whose_only_file_was_just_rejected_leaves_the_amplifier_off() {
    let commune = Commune::for_window(Duration::ZERO, Duration::from_secs(60));
    let env = TestEnv::with_config(&service::service_config(
        Some(commune.zone),
        service::ANY_CLOCK,
    ));
    let (at, _) = commune.at(8);
    env.write_playlist(
        &format!("{}.toml", commune.today()),
        broadcasts_toml(&[(&at, "Tin", &["hong.mp3"])]),
    );
    let card = SoundCard::unpaced();
    let svc = Service::start(&env, &card);
    std::thread::sleep(Duration::from_secs(4));
    env.write("audio/hong.mp3", "not audio\n".repeat(50));
    std::thread::sleep(Duration::from_secs(10));
    assert_eq!(ons(&env), 0, "{}", svc.output());
}

// Issue 11: `loa play` while the service aired a broadcast switched the
// relay off mid-broadcast (its start-up off), then on, then off. One owner
// of the relay at a time: `loa play` is refused with what to do instead,
// and the broadcast's edges are only its own.
#[test]
fn loa_play_while_the_service_airs_is_refused_and_touches_nothing() {
    let env = env();
    tone_wav(&env.path("audio/a.wav"), 1000.0, 4.0, 0.5, 48_000);
    tone_wav(&env.path("audio/b.wav"), 500.0, 1.0, 0.5, 48_000);
    let card = SoundCard::paced();
    let mut svc = Service::start(&env, &card);
    env.run(&["now", "a.wav"]).code(0);
    wait_for(
        Duration::from_secs(10),
        "a.wav on air",
        || svc.output(),
        || (service::status(&env)["playing"]["file"] == "a.wav").then_some(()),
    );
    let other = SoundCard::unpaced();
    let out = other.attach(env.loa().args(&["play", "b.wav"])).run();
    out.code(1);
    assert!(out.stderr.contains("another loa program"), "{out}");
    assert!(out.stderr.contains("loa now"), "{out}");
    assert!(other.capture().samples.is_empty(), "b.wav was played");
    wait_for(
        Duration::from_secs(15),
        "the broadcast to end",
        || svc.output(),
        || {
            let e = relay_edges(&env.path("relay.log"));
            (e.len() >= 3 && !e.last().unwrap().1).then_some(())
        },
    );
    let e: Vec<bool> = relay_edges(&env.path("relay.log"))
        .iter()
        .map(|(_, on)| *on)
        .collect();
    assert_eq!(e, [false, true, false], "only the broadcast's edges");
    // After a kill -9 the lock dies with the service: `loa relay off`
    // (systemd's ExecStopPost) still switches off, and a new owner may
    // take the relay.
    svc.signal("KILL");
    svc.wait_exit(Duration::from_secs(5));
    env.run(&["relay", "on"]).code(0);
    env.run(&["relay", "off"]).code(0);
    let last = relay_edges(&env.path("relay.log")).last().copied().unwrap();
    assert!(!last.1);
}

// Issue 11: under `ulimit -n 1024` (systemd's default soft limit), 1,500
// connections that never sent a line made the broadcast due fail ("no audio
// device": out of descriptors) and lost the day's plan. With 2,000 idle
// connections during a broadcast, the broadcast airs and `loa status`
// answers.
#[test]
fn two_thousand_idle_connections_neither_stop_a_broadcast_nor_status() {
    use rustix::process::{Pid, Resource, Rlimit, getrlimit, prlimit, setrlimit};
    let env = env();
    tone_wav(&env.path("audio/a.wav"), 1000.0, 6.0, 0.5, 48_000);
    let card = SoundCard::paced();
    let svc = Service::start(&env, &card);
    // The service under a hard limit of 1024 descriptors, as `ulimit -n`.
    let pid = Pid::from_raw(svc.pid() as i32).unwrap();
    prlimit(
        Some(pid),
        Resource::Nofile,
        Rlimit {
            current: Some(1024),
            maximum: Some(1024),
        },
    )
    .unwrap();
    // This test holds 2,000 connections itself.
    let mine = getrlimit(Resource::Nofile);
    let _ = setrlimit(
        Resource::Nofile,
        Rlimit {
            current: mine.maximum,
            maximum: mine.maximum,
        },
    );
    env.run(&["now", "a.wav"]).code(0);
    let mut held = Vec::new();
    for _ in 0..2000 {
        if let Ok(s) = UnixStream::connect(env.path("state/loa.sock")) {
            held.push(s);
        }
    }
    assert!(held.len() > 100, "only {} connections", held.len());
    // `loa status` answers meanwhile.
    let st = env.run(&["status", "--json"]);
    st.code(0);
    let today = st.json()["now"].as_str().unwrap()[..10].to_string();
    let rows = wait_for(
        Duration::from_secs(20),
        "a.wav to be logged played",
        || svc.output(),
        || {
            let rows = service::log(&env, &today);
            rows.iter().any(|r| r["status"] == "played").then_some(rows)
        },
    );
    assert!(rows.iter().all(|r| r["status"] == "played"), "{rows:#?}");
    // The plan is still there.
    let st = service::status(&env);
    assert!(st["plan_error"].is_null(), "{st:#}");
    drop(held);
}

// Issue 11: `loa run` with its playlists folder missing says so in status
// (with what to do), instead of "no playlist today".
#[test]
fn a_missing_playlists_folder_is_said_in_status() {
    let env = env();
    std::fs::remove_dir_all(env.path("playlists")).unwrap();
    let card = SoundCard::unpaced();
    let svc = Service::start(&env, &card);
    let st = wait_for(
        Duration::from_secs(10),
        "status to say the folder is missing",
        || svc.output(),
        || {
            let st = service::status(&env);
            st["plan_error"]
                .as_str()
                .is_some_and(|e| e.contains("there is no folder"))
                .then_some(st)
        },
    );
    assert!(
        st["plan_error"]
            .as_str()
            .unwrap()
            .contains("[paths] playlists"),
        "{st:#}"
    );
}

/// A WAV of one second whose header says a sample rate of 0 (issue 11's
/// repro: 4 zero bytes over the rate field).
fn zero_rate_wav(path: &std::path::Path) {
    tone_wav(path, 440.0, 1.0, 0.5, 48_000);
    let mut b = std::fs::read(path).unwrap();
    let fmt = b.windows(4).position(|w| w == b"fmt ").unwrap();
    b[fmt + 12..fmt + 16].fill(0);
    std::fs::write(path, b).unwrap();
    crate::util::age(path);
}

// Issue 11: a WAV whose header says rate 0, named in today's playlist,
// made the planner panic at every re-plan: none of the day's broadcasts
// aired, `loa check` and `loa plan` exited 101. It is rejected alone; the
// rest of the day airs.
#[test]
fn a_wav_with_rate_0_is_rejected_alone_and_the_day_airs() {
    let commune = Commune::for_window(Duration::ZERO, Duration::from_secs(60));
    let env = TestEnv::with_config(&service::service_config(
        Some(commune.zone),
        service::ANY_CLOCK,
    ));
    zero_rate_wav(&env.path("audio/zero.wav"));
    tone_wav(&env.path("audio/a.wav"), 1000.0, 1.0, 0.5, 48_000);
    let (first, _) = commune.at(6);
    let (second, _) = commune.at(12);
    env.write_playlist(
        &format!("{}.toml", commune.today()),
        broadcasts_toml(&[
            (&first, "Zero", &["zero.wav", "a.wav"]),
            (&second, "Good", &["a.wav"]),
        ]),
    );
    // Standalone: a verdict, not a panic (`Loa::run` fails on exit 101).
    env.run(&["check", "--days", "1"]).code(1);
    env.run(&["plan"]);
    let card = SoundCard::paced();
    let svc = Service::start(&env, &card);
    let today = commune.today();
    let rows = wait_for(
        Duration::from_secs(30),
        "both broadcasts to air their good items",
        || svc.output(),
        || {
            let rows = service::log(&env, &today);
            (rows.iter().filter(|r| r["status"] == "played").count() == 2).then_some(rows)
        },
    );
    let zero: Vec<&Value> = rows.iter().filter(|r| r["file"] == "zero.wav").collect();
    assert_eq!(zero.len(), 1, "{rows:#?}");
    assert_eq!(zero[0]["status"], "failed", "{rows:#?}");
    assert!(
        zero[0]["error"].as_str().unwrap_or("").contains("header"),
        "{rows:#?}"
    );
}

// Issue 11: the same file uploaded during a broadcast made the ingest
// thread panic; the panic hook cut the broadcast, and the file stayed
// "pending" forever. It is rejected, and the broadcast plays on.
#[test]
fn a_wav_with_rate_0_uploaded_during_a_broadcast_does_not_cut_it() {
    let env = env();
    tone_wav(&env.path("audio/a.wav"), 1000.0, 5.0, 0.5, 48_000);
    let card = SoundCard::paced();
    let svc = Service::start(&env, &card);
    env.run(&["now", "a.wav"]).code(0);
    wait_for(
        Duration::from_secs(10),
        "a.wav on air",
        || svc.output(),
        || (service::status(&env)["playing"]["file"] == "a.wav").then_some(()),
    );
    zero_rate_wav(&env.path("zero-upload.wav"));
    std::fs::rename(env.path("zero-upload.wav"), env.path("audio/zero.wav")).unwrap();
    wait_for(
        Duration::from_secs(15),
        "zero.wav moved to rejected/",
        || svc.output(),
        || env.path("audio/rejected/zero.wav").is_file().then_some(()),
    );
    let today = service::status(&env)["now"].as_str().unwrap()[..10].to_string();
    let rows = wait_for(
        Duration::from_secs(15),
        "a.wav logged",
        || svc.output(),
        || {
            let rows = service::log(&env, &today);
            rows.iter()
                .any(|r| r["status"] != "interrupted" || !r["ended"].is_null())
                .then_some(rows)
        },
    );
    assert_eq!(rows[0]["status"], "played", "{rows:#?}");
    assert_eq!(ons(&env), 1, "{}", svc.output());
}
