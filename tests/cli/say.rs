//! Issue 18: urgent text read aloud on the box, offline, by the real
//! espeak-ng (Debian's package, installed by tests/run.sh): `loa say` into
//! the ALSA stand-in, `--now` through the running service, a playlist's
//! `say` item rendered ahead and aired at its second, and what happens
//! when the engine or the Piper model is missing.

use std::time::Duration;

use jiff::Timestamp;
use serde_json::Value;

use crate::util::fixtures::sha256_hex;
use crate::util::service::{self, Commune, Service, relay_edges, wait_for};
use crate::util::sound::{Capture, RATE, SoundCard, tone_wav};
use crate::util::{TestEnv, text};

/// A water-cut notice as an operator types it (93 characters).
const NOTICE: &str = "Thông báo của xã: ngày mai cắt nước từ bảy giờ đến mười một giờ. Đề nghị bà con chủ động trữ nước.";

/// A PATH with no espeak-ng on it (and nothing else).
const NO_ENGINE: &str = "/nonexistent-loa-test-path";

fn env_with(tail: &str) -> TestEnv {
    TestEnv::with_config(&service::service_config(
        None,
        &format!("{}{tail}", service::ANY_CLOCK),
    ))
}

/// Seconds from the first sound to the last (pauses between words and
/// sentences under half a second merged).
fn spoken_seconds(cap: &Capture) -> f64 {
    let s = cap.sounds(RATE / 2);
    match (s.first(), s.last()) {
        (Some(a), Some(b)) => (b.end - a.start) as f64 / RATE as f64,
        _ => 0.0,
    }
}

/// Speech, not a tone: its pitch (zero crossings) wanders from one
/// stretch to the next, where a tone's stays put.
fn sounds_like_speech(cap: &Capture, range: std::ops::Range<usize>) -> bool {
    let step = RATE / 5;
    let pitches: Vec<f64> = (range.start..range.end.saturating_sub(step))
        .step_by(step)
        .map(|f| f..f + step)
        .filter(|r| cap.rms_db(r.clone()) > -45.0)
        .map(|r| cap.frequency(r))
        .collect();
    let (lo, hi) = pitches
        .iter()
        .fold((f64::MAX, 0.0f64), |(lo, hi), p| (lo.min(*p), hi.max(*p)));
    pitches.len() >= 5 && hi - lo > 150.0
}

// Issue 18: `loa say` (and `--no-relay`) reads the text through the sound
// card at once, the relay left alone: speech of a plausible length, not
// a click or a tone; `--repeat 2` reads it twice with the gap between.
#[test]
fn say_plays_speech_of_a_plausible_length_and_leaves_the_relay_alone() {
    let env = env_with("");
    let card = SoundCard::unpaced();
    let out = card.attach(env.loa().args(&["say", NOTICE])).run();
    out.code(0);
    assert!(out.stdout.contains("played"), "{out}");
    let cap = card.capture();
    let secs = spoken_seconds(&cap);
    // 93 characters at 150 words a minute: some 6 to 9 s of speech.
    assert!((4.0..15.0).contains(&secs), "{secs} s of sound\n{out}");
    let all = 0..cap.frames();
    assert!(cap.rms_db(all.clone()) > -40.0, "{}", cap.rms_db(all));
    assert!(sounds_like_speech(&cap, 0..cap.frames()), "not speech");
    assert!(
        relay_edges(&env.path("relay.log")).is_empty(),
        "the relay was touched"
    );
    // Rendered once into the cache, in the state folder.
    let renders: Vec<_> = std::fs::read_dir(env.path("state/tts"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(renders.len(), 1, "{renders:?}");

    let card = SoundCard::paced_keeping();
    let out = card
        .attach(
            env.loa()
                .args(&["say", "--no-relay", "--repeat", "2", "Xin chào bà con."]),
        )
        .run();
    out.code(0);
    let cap = card.capture();
    let long: Vec<_> = cap
        .sounds(RATE / 2)
        .into_iter()
        .filter(|r| r.len() > RATE / 2)
        .collect();
    assert_eq!(long.len(), 2, "{long:?}\n{out}");
    let gap = (long[1].start - long[0].end) as f64 / RATE as f64;
    // `[audio] gap` is 2 s by default; speech starts and ends softly.
    assert!(
        (1.5..3.5).contains(&gap),
        "{gap} s between the two readings"
    );
    assert!(relay_edges(&env.path("relay.log")).is_empty());
}

// Issue 18: `--text-only` prints what will be spoken and renders nothing;
// a text that is empty, too long or not UTF-8 is refused plainly.
#[test]
fn text_only_prints_the_spoken_text_and_bad_text_is_refused() {
    let env = env_with("");
    let out = env.run(&["say", "--text-only", "UBND xã thông báo: 15% hộ dân"]);
    out.code(0);
    assert_eq!(
        out.stdout.trim(),
        "ủy ban nhân dân xã thông báo: mười lăm phần trăm hộ dân",
        "{out}"
    );
    assert!(
        !env.path("state/tts").exists()
            || std::fs::read_dir(env.path("state/tts"))
                .unwrap()
                .next()
                .is_none()
    );

    let out = env.run(&["say", "   "]);
    out.code(1);
    assert!(out.stderr.contains("empty"), "{out}");
    let long = "a ".repeat(3000);
    let out = env.run(&["say", &long]);
    out.code(1);
    assert!(out.stderr.contains("over the limit of 5000"), "{out}");
    std::fs::write(env.path("latin1.txt"), b"Th\xf4ng b\xe1o").unwrap();
    let out = env.run(&["say", "--file", "latin1.txt"]);
    out.code(1);
    assert!(out.stderr.contains("not UTF-8"), "{out}");
    let out = env.run(&["say", "--voice", "vi-hue", "Xin chào"]);
    out.code(1);
    assert!(out.stderr.contains("vi-VN-x-central"), "{out}");
    let out = env.run(&["say", "--zone", "thon-1", "Xin chào"]);
    out.code(2);
    assert!(out.stderr.contains("--now or --queue"), "{out}");
    // A notice in a file, as the operator uploads it.
    std::fs::write(env.path("bao.txt"), "\u{feff}Bão số 3 đã vào đất liền.\n").unwrap();
    let out = env.run(&["say", "--text-only", "--file", "bao.txt"]);
    out.code(0);
    assert!(out.stdout.contains("Bão số ba đã vào đất liền."), "{out}");
}

// Issue 18: `loa say --now` interrupts a broadcast as `loa now` does: the
// amplifier stays on, the broadcast's item is cut, the speech airs as an
// emergency and is logged with kind "tts", the text's first 80
// characters and its SHA-256.
#[test]
fn say_now_interrupts_a_broadcast_like_loa_now() {
    let commune = Commune::for_window(Duration::ZERO, Duration::from_secs(90));
    let env = TestEnv::with_config(&service::service_config(
        Some(commune.zone),
        &format!("{}{}", service::TONE_AUDIO, service::ANY_CLOCK),
    ));
    let song = env.path("audio/nhac.wav");
    tone_wav(&song, 1000.0, 10.0, 0.5, 48_000);
    crate::util::age(&song);
    let (at, _) = commune.at(3);
    env.write_playlist(
        &format!("{}.toml", commune.today()),
        format!("[[broadcast]]\nat = \"{at}\"\nitems = [\"nhac.wav\"]\n"),
    );
    let card = SoundCard::paced_keeping();
    let mut svc = Service::start(&env, &card);
    wait_for(
        Duration::from_secs(20),
        "nhac.wav to be 1.5 s on air",
        || service::story(&env, &svc),
        || {
            let p = &service::status(&env)["playing"];
            (p["file"] == "nhac.wav" && p["elapsed_s"].as_f64().unwrap_or(0.0) >= 1.5).then_some(())
        },
    );
    let out = env.run(&["say", "--now", NOTICE]);
    out.code(0);
    assert!(
        out.stdout.contains("Reading the text as an emergency now"),
        "{out}"
    );
    let rows = wait_for(
        Duration::from_secs(40),
        "the spoken notice to be logged played",
        || service::story(&env, &svc),
        || {
            let rows = service::log(&env, &commune.today());
            rows.iter()
                .any(|r| r["kind"] == "tts" && r["status"] == "played")
                .then_some(rows)
        },
    );
    let row = |kind: &str| -> &Value {
        rows.iter()
            .find(|r| r["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind} row: {rows:#?}"))
    };
    assert_eq!(row("file")["status"], "interrupted", "{rows:#?}");
    let spoken = row("tts");
    assert_eq!(spoken["priority"], "emergency");
    let first_80: String = NOTICE.chars().take(80).collect();
    assert_eq!(text(spoken, "file"), first_80);
    assert_eq!(text(spoken, "sha256"), sha256_hex(NOTICE.as_bytes()));
    // The amplifier went on once and stayed on into the emergency.
    wait_for(
        Duration::from_secs(10),
        "the amplifier off",
        || service::story(&env, &svc),
        || {
            let e = relay_edges(&env.path("relay.log"));
            e.last().is_some_and(|(_, on)| !on).then_some(())
        },
    );
    let ons = relay_edges(&env.path("relay.log"))
        .iter()
        .filter(|(_, on)| *on)
        .count();
    assert_eq!(ons, 1, "{}", service::story(&env, &svc));
    // In the sound: the tone, cut, then speech to the end.
    let cap = card.capture();
    let sound = cap.sounds(RATE / 2);
    let (start, end) = (sound[0].start, sound.last().unwrap().end);
    let tone = cap.frequency(start + RATE / 10..start + RATE);
    assert!((tone - 1000.0).abs() < 30.0, "{tone}");
    let secs = (end - start) as f64 / RATE as f64;
    assert!((5.5..30.0).contains(&secs), "{secs} s of sound");
    assert!(
        sounds_like_speech(&cap, end - 4 * RATE..end),
        "the emergency is not speech"
    );
    svc.signal("TERM");
    svc.wait_exit(Duration::from_secs(5));
}

// Issue 18: a playlist's `say` item is rendered by `loa check` (and when
// the service plans the day), so that its broadcast airs at its second
// without waiting for synthesis: the render is not made again at air
// time.
#[test]
fn a_playlist_say_item_is_rendered_ahead_and_airs_at_its_second() {
    let commune = Commune::for_window(Duration::ZERO, Duration::from_secs(90));
    let env = TestEnv::with_config(&service::service_config(
        Some(commune.zone),
        service::ANY_CLOCK,
    ));
    let (at, at_instant) = commune.at(8);
    let day = commune.today();
    env.write_playlist(
        &format!("{day}.toml"),
        format!(
            "[[broadcast]]\nat = \"{at}\"\ntitle = \"Thông báo\"\nitems = [{{ say = \"{NOTICE}\", voice = \"vi-VN-x-south\" }}]\n"
        ),
    );
    let check = env.check(&day);
    check.code(0);
    let renders = || -> Vec<(std::path::PathBuf, std::time::SystemTime)> {
        std::fs::read_dir(env.path("state/tts"))
            .map(|d| {
                d.flatten()
                    .map(|e| (e.path(), e.metadata().unwrap().modified().unwrap()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let before = renders();
    assert_eq!(before.len(), 1, "loa check rendered the item\n{check}");
    let plan = env.plan_json(&day);
    let item = &plan["broadcasts"][0]["items"][0];
    assert_eq!(item["kind"], "tts", "{plan:#}");
    let planned = item["duration_s"].as_f64().unwrap();
    assert!((4.0..15.0).contains(&planned), "{planned}");

    let card = SoundCard::paced();
    let mut svc = Service::start(&env, &card);
    let rows = wait_for(
        Duration::from_secs(60),
        "the say item to be logged played",
        || service::story(&env, &svc),
        || {
            let rows = service::log(&env, &day);
            rows.iter()
                .any(|r| r["kind"] == "tts" && r["status"] == "played")
                .then_some(rows)
        },
    );
    let row = rows.iter().find(|r| r["kind"] == "tts").unwrap();
    let scheduled: Timestamp = text(row, "scheduled").parse().unwrap();
    assert_eq!(scheduled, at_instant, "{row:#}");
    assert_eq!(row["late"], false, "{row:#}");
    assert_eq!(row["priority"], "normal");
    assert_eq!(text(row, "sha256"), sha256_hex(NOTICE.as_bytes()));
    let started: Timestamp = text(row, "started").parse().unwrap();
    let lag = started.as_millisecond() - scheduled.as_millisecond();
    assert!(
        (0..2000).contains(&lag),
        "started {lag} ms after its second"
    );
    // The render loa check made is the one that aired: not made again.
    assert_eq!(renders(), before);
    let cap = card.capture();
    assert!(sounds_like_speech(&cap, 0..cap.frames()), "not speech");
    svc.signal("TERM");
    svc.wait_exit(Duration::from_secs(5));
}

// Issue 18: without espeak-ng on the box, `loa say` names the package to
// install, airs nothing and leaves the amplifier off; `loa check` says it
// at the playlist's `say` item.
#[test]
fn a_missing_engine_is_named_and_nothing_airs() {
    let env = env_with("");
    let card = SoundCard::unpaced();
    let out = card
        .attach(env.loa().args(&["say", "Xin chào"]).env("PATH", NO_ENGINE))
        .run();
    out.code(1);
    assert!(out.stderr.contains("sudo apt install espeak-ng"), "{out}");
    assert!(card.capture().samples.is_empty());

    env.write_playlist(
        "default.toml",
        "[[broadcast]]\nat = \"06:00\"\nitems = [\n  { say = \"Xin chào\" },\n]\n",
    );
    let out = env
        .loa()
        .args(&["check", "--days", "1"])
        .env("PATH", NO_ENGINE)
        .run();
    out.code(1);
    out.error_at("playlists/default.toml:4:11", "sudo apt install espeak-ng");

    let svc = Service::start_with(&env, &card, &[("PATH", NO_ENGINE.as_ref())]);
    let out = env.run(&["say", "--now", "Xin chào"]);
    out.code(1);
    assert!(out.stderr.contains("Refused, nothing was aired"), "{out}");
    assert!(out.stderr.contains("sudo apt install espeak-ng"), "{out}");
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        relay_edges(&env.path("relay.log"))
            .iter()
            .all(|(_, on)| !on),
        "{}",
        service::story(&env, &svc)
    );
}

// Issue 18: `engine = "piper"` with its voice model missing: the error
// names the model's file, and the text is read with espeak-ng's voice
// rather than not at all (`loa say`, `loa check`, `loa say --now`).
#[test]
fn a_missing_piper_model_falls_back_to_the_espeak_voice() {
    let env = env_with(
        "[tts]\nengine = \"piper\"\npiper-model = \"/var/lib/loa/voices/khong-co.onnx\"\n",
    );
    let card = SoundCard::unpaced();
    let out = card.attach(env.loa().args(&["say", NOTICE])).run();
    out.code(0);
    assert!(
        out.stderr.contains("/var/lib/loa/voices/khong-co.onnx"),
        "{out}"
    );
    assert!(out.stderr.contains("espeak-ng's \"vi\" voice"), "{out}");
    let cap = card.capture();
    assert!((4.0..15.0).contains(&spoken_seconds(&cap)), "{out}");

    env.write_playlist(
        "default.toml",
        "[[broadcast]]\nat = \"06:00\"\nitems = [\n  { say = \"Xin chào\" },\n]\n",
    );
    let out = env.run(&["check", "--days", "1"]);
    out.code(0);
    let w = out.problem("playlists/default.toml:4:11", "warning", "khong-co.onnx");
    assert!(w.contains("espeak-ng"), "{w}");

    // The Piper program itself missing (the model is there): named too.
    std::fs::write(env.path("model.onnx"), b"not really a model").unwrap();
    let env2 = env_with(&format!(
        "[tts]\nengine = \"piper\"\npiper-model = \"{}\"\npiper-program = \"/opt/khong-co/piper\"\n",
        env.path("model.onnx").display()
    ));
    let out = card.attach(env2.loa().args(&["say", "Xin chào"])).run();
    out.code(0);
    assert!(out.stderr.contains("/opt/khong-co/piper"), "{out}");

    let mut svc = Service::start(&env, &card);
    let out = env.run(&["say", "--now", "Bão số ba"]);
    out.code(0);
    assert!(out.stdout.contains("khong-co.onnx"), "{out}");
    let today = service::status(&env)["now"].as_str().unwrap()[..10].to_string();
    wait_for(
        Duration::from_secs(30),
        "the fallback speech to air",
        || service::story(&env, &svc),
        || {
            service::log(&env, &today)
                .iter()
                .any(|r| r["kind"] == "tts" && r["status"] == "played")
                .then_some(())
        },
    );
    svc.signal("TERM");
    svc.wait_exit(Duration::from_secs(5));
}
