//! Issue 17, the box's side: real `loa run` boxes (sim relay, the paced
//! stand-in card) linked to a real Mosquitto with the shipped ACL, and the
//! district's commands sent on the broker as the district's account.

use std::time::Duration;

use serde_json::{Value, json};

use crate::util::mosquitto::{Listener, Mosquitto};
use crate::util::service::{self, Service, wait_for};
use crate::util::sound::{SoundCard, tone_wav};
use crate::util::{TestEnv, fixtures::sha256_hex};

const WAIT: Duration = Duration::from_secs(30);

/// One box: its installation (sim relay, `[district]` pointing at the
/// broker with its own account) and its sound card.
struct Box_ {
    name: &'static str,
    env: TestEnv,
    card: SoundCard,
}

impl Box_ {
    fn new(m: &Mosquitto, name: &'static str, groups: &[&str], tail: &str) -> Box_ {
        let groups: Vec<String> = groups.iter().map(|g| format!("{g:?}")).collect();
        let env = TestEnv::with_config(&service::service_config(
            None,
            &format!(
                "{}{}{tail}\n[district]\nbroker = \"{}\"\nbox = \"{name}\"\ngroups = [{}]\ncredentials = \"{}\"\n",
                service::TONE_AUDIO,
                service::ANY_CLOCK,
                m.url(),
                groups.join(", "),
                m.secret(name).display()
            ),
        ));
        let path = env.path("audio/a.wav");
        tone_wav(&path, 600.0, 1.0, 0.5, 48_000);
        crate::util::age(&path);
        Box_ {
            name,
            env,
            card: SoundCard::paced(),
        }
    }

    fn start(&self) -> Service {
        Service::start(&self.env, &self.card)
    }

    /// Waits until `loa status` says the link is up.
    fn wait_linked(&self, svc: &Service) {
        wait_for(
            WAIT,
            &format!("{} linked to the district", self.name),
            || service::story(&self.env, svc),
            || (service::status(&self.env)["district"]["state"] == "connected").then_some(()),
        );
    }

    fn log(&self) -> Vec<Value> {
        let out = self.env.run(&["log", "--json"]);
        out.code(0);
        serde_json::from_str(&out.stdout).unwrap()
    }
}

/// A command as the district sends it, `now` of the tone carried along.
fn command(id: &str, kind: &str, expires_in_s: i64, extra: Value) -> String {
    let expires = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(expires_in_s);
    let mut c = json!({
        "id": id,
        "command": kind,
        "expires": expires.to_string(),
    });
    if let (Some(c), Some(e)) = (c.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            c.insert(k.clone(), v.clone());
        }
    }
    c.to_string()
}

/// `now` carrying `bytes` as `name`.
fn carrying(name: &str, bytes: &[u8], sha: Option<&str>) -> Value {
    use base64::Engine;
    json!({
        "files": [name],
        "media": [{
            "name": name,
            "sha256": sha.map_or_else(|| sha256_hex(bytes), str::to_string),
            "data_b64": base64::engine::general_purpose::STANDARD.encode(bytes),
        }],
    })
}

fn tone_bytes(freq: f64, seconds: f64) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.wav");
    tone_wav(&p, freq, seconds, 0.5, 48_000);
    std::fs::read(p).unwrap()
}

/// The acks that arrived: (box, status, error).
fn acks(got: &[(String, String)]) -> Vec<(String, String, String)> {
    got.iter()
        .filter(|(t, _)| t.ends_with("/ack"))
        .map(|(_, p)| {
            let v: Value = serde_json::from_str(p).unwrap();
            (
                v["box"].as_str().unwrap_or_default().to_string(),
                v["status"].as_str().unwrap_or_default().to_string(),
                v["error"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn count(got: &[(String, String)], status: &str) -> usize {
    acks(got).iter().filter(|(_, s, _)| s == status).count()
}

fn district_listener(m: &Mosquitto) -> Listener {
    m.listen("district", "loa/+/ack", None)
}

// Issue 17: an emergency to all airs on every box (the audio carried in
// the command), and every box answers "accepted" then "aired", with its
// rows; each box says it is online (retained) and publishes its status.
#[test]
fn an_emergency_to_all_airs_on_every_box_and_every_ack_comes_back_aired() {
    if !Mosquitto::available("an_emergency_to_all_airs_on_every_box") {
        return;
    }
    let names = ["xa-a", "xa-b", "xa-c"];
    let m = Mosquitto::start(&[("xa-a", &[]), ("xa-b", &[]), ("xa-c", &[])]);
    let boxes: Vec<Box_> = names.iter().map(|n| Box_::new(&m, n, &[], "")).collect();
    let svcs: Vec<Service> = boxes.iter().map(Box_::start).collect();
    for (b, s) in boxes.iter().zip(&svcs) {
        b.wait_linked(s);
    }
    let mut l = district_listener(&m);
    let bao = tone_bytes(500.0, 1.0);
    let cmd = command("bao-so-3", "now", 300, carrying("bao.wav", &bao, None));
    assert_eq!(m.publish("district", "loa/all/cmd", &cmd, false), 0);
    let got = l.until(WAIT * 2, "every box to answer aired", |g| {
        count(g, "aired") == 3
    });
    assert_eq!(count(&got, "accepted"), 3, "{got:#?}");
    for (_, p) in got.iter().filter(|(_, p)| p.contains("\"aired\"")) {
        let v: Value = serde_json::from_str(p).unwrap();
        assert_eq!(v["id"], "bao-so-3");
        assert!(v["error"].is_null(), "{v:#}");
        let rows = v["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 1, "{v:#}");
        assert_eq!(
            (rows[0]["file"].as_str(), rows[0]["status"].as_str()),
            (Some("bao.wav"), Some("played"))
        );
        assert_eq!(rows[0]["priority"], "emergency");
    }
    for b in &boxes {
        assert_eq!(
            std::fs::read(b.env.path("audio/bao.wav")).unwrap(),
            bao,
            "{}",
            b.name
        );
        let rows = b.log();
        assert_eq!(
            rows.iter().filter(|r| r["file"] == "bao.wav").count(),
            1,
            "{rows:#?}"
        );
    }
    let online = m.messages("district", "loa/+/online", 3, Duration::from_secs(3));
    assert_eq!(
        online.iter().filter(|(_, p)| p == "online").count(),
        3,
        "{online:?}"
    );
    let status = m.messages("district", "loa/xa-b/status", 1, Duration::from_secs(3));
    let st: Value = serde_json::from_str(&status[0].1).unwrap();
    assert_eq!(st["box"], "xa-b");
    assert!(
        st["relay"].is_object() && st["district"]["state"] == "connected",
        "{st:#}"
    );
}

// Issue 17: a box that is down when a command is sent airs it on coming
// back if it has not expired, and answers "expired" (never airing it) if
// it has; the same id sent twice airs once ("duplicate").
#[test]
fn a_box_down_airs_what_has_not_expired_and_an_id_airs_once() {
    if !Mosquitto::available("a_box_down_airs_what_has_not_expired") {
        return;
    }
    let m = Mosquitto::start(&[("xa-a", &[])]);
    let b = Box_::new(&m, "xa-a", &[], "");
    // Once up, so that the broker keeps its session (and its commands).
    let mut svc = b.start();
    b.wait_linked(&svc);
    svc.signal("TERM");
    svc.wait_exit(Duration::from_secs(10));
    let mut l = district_listener(&m);
    let live = command("con-han", "now", 600, json!({"files": ["a.wav"]}));
    let stale = command("het-han", "now", 2, json!({"files": ["a.wav"]}));
    assert_eq!(m.publish("district", "loa/xa-a/cmd", &stale, false), 0);
    assert_eq!(m.publish("district", "loa/xa-a/cmd", &live, false), 0);
    std::thread::sleep(Duration::from_secs(3));
    let svc = b.start();
    let got = l.until(WAIT * 2, "aired and expired", |g| {
        count(g, "aired") == 1 && count(g, "expired") == 1
    });
    let by_id = |id: &str| -> Vec<String> {
        got.iter()
            .filter_map(|(_, p)| serde_json::from_str::<Value>(p).ok())
            .filter(|v| v["id"] == id)
            .map(|v| v["status"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(by_id("het-han"), ["expired"], "{got:#?}");
    assert_eq!(by_id("con-han"), ["accepted", "aired"], "{got:#?}");
    // The same command again: "duplicate", nothing aired.
    assert_eq!(m.publish("district", "loa/xa-a/cmd", &live, false), 0);
    let got = l.until(WAIT, "duplicate", |g| count(g, "duplicate") == 1);
    assert_eq!(count(&got, "aired"), 1);
    let rows = b.log();
    assert_eq!(
        rows.iter().filter(|r| r["priority"] == "emergency").count(),
        1,
        "{rows:#?}\n{}",
        service::story(&b.env, &svc)
    );
}

// Issue 17: a group and a zone target: only the boxes of the group air it,
// and only to the zone named.
#[test]
fn a_group_and_zone_target_airs_only_there() {
    if !Mosquitto::available("a_group_and_zone_target_airs_only_there") {
        return;
    }
    let zones = "[[zone]]\nname = \"thon-1\"\nline = 22\n[[zone]]\nname = \"thon-2\"\nline = 23\n";
    let m = Mosquitto::start(&[("xa-a", &["ven-bien"]), ("xa-b", &[])]);
    let a = Box_::new(&m, "xa-a", &["ven-bien"], zones);
    let b = Box_::new(&m, "xa-b", &[], zones);
    let (sa, sb) = (a.start(), b.start());
    a.wait_linked(&sa);
    b.wait_linked(&sb);
    let mut l = district_listener(&m);
    let cmd = command(
        "lu",
        "now",
        300,
        json!({"files": ["a.wav"], "zones": ["thon-1"]}),
    );
    assert_eq!(
        m.publish("district", "loa/group/ven-bien/cmd", &cmd, false),
        0
    );
    let got = l.until(WAIT * 2, "xa-a aired", |g| count(g, "aired") == 1);
    let got = {
        let mut g = got;
        g.extend(l.gather(Duration::from_secs(2)));
        g
    };
    assert!(acks(&got).iter().all(|(bx, _, _)| bx == "xa-a"), "{got:#?}");
    let relay = std::fs::read_to_string(a.env.path("relay.log")).unwrap();
    assert!(
        relay.contains("zone thon-1 on") && !relay.contains("zone thon-2 on"),
        "{relay}"
    );
    assert!(
        !std::fs::read_to_string(b.env.path("relay.log"))
            .unwrap()
            .contains(" on\n")
    );
}

// Issue 17: what the district must never take: carried audio whose
// SHA-256 does not match, a pushed playlist with an error (refused with
// the problem); a good playlist is taken.
#[test]
fn bad_media_and_a_broken_playlist_are_rejected_with_why() {
    if !Mosquitto::available("bad_media_and_a_broken_playlist_are_rejected") {
        return;
    }
    let m = Mosquitto::start(&[("xa-a", &[])]);
    let b = Box_::new(&m, "xa-a", &[], "");
    let svc = b.start();
    b.wait_linked(&svc);
    let mut l = district_listener(&m);
    let bao = tone_bytes(500.0, 1.0);
    let bad_sum = "0".repeat(64);
    let cmd = command(
        "hong",
        "now",
        300,
        carrying("bao.wav", &bao, Some(&bad_sum)),
    );
    m.publish("district", "loa/xa-a/cmd", &cmd, false);
    let broken = command(
        "lich-hong",
        "playlist",
        300,
        json!({"playlist": {"name": "default.toml", "text": "[[broadcast]]\nat = \"25:00\"\nitems = [\"a.wav\"]\n"}}),
    );
    m.publish("district", "loa/xa-a/cmd", &broken, false);
    let good = command(
        "lich",
        "playlist",
        300,
        json!({"playlist": {"name": "default.toml", "text": "[[broadcast]]\nat = \"23:59\"\nitems = [\"a.wav\"]\n"}}),
    );
    m.publish("district", "loa/xa-a/cmd", &good, false);
    let got = l.until(WAIT, "three answers", |g| acks(g).len() >= 3);
    let a = acks(&got);
    assert_eq!(a[0].1, "rejected", "{a:#?}");
    assert!(a[0].2.contains("SHA-256"), "{a:#?}");
    assert_eq!(a[1].1, "rejected", "{a:#?}");
    assert!(a[1].2.contains("25:00"), "{a:#?}");
    assert_eq!(a[2].1, "accepted", "{a:#?}");
    assert!(!b.env.path("audio/bao.wav").exists());
    assert!(
        std::fs::read_to_string(b.env.path("playlists/default.toml"))
            .unwrap()
            .contains("23:59")
    );
}

// Issue 17: as-run rows written while the broker is down arrive once it is
// back, each at least once and none lost; the broker killed mid-way leaves
// the box's schedule untouched (the broadcast airs on time).
#[test]
fn rows_written_while_the_broker_is_down_arrive_after_and_the_schedule_holds() {
    if !Mosquitto::available("rows_written_while_the_broker_is_down") {
        return;
    }
    let mut m = Mosquitto::start(&[("xa-a", &[])]);
    let b = Box_::new(&m, "xa-a", &[], "");
    // The district's collector keeps its session across the outage.
    drop(m.listen("district", "loa/+/asrun", Some("collector")));
    let commune = service::Commune::for_window(Duration::ZERO, Duration::from_secs(60));
    let (at, planned) = commune.at(8);
    b.env.write_playlist(
        &format!("{}.toml", commune.today()),
        format!("[[broadcast]]\nat = \"{at}\"\nitems = [\"a.wav\"]\n"),
    );
    let svc = b.start();
    b.wait_linked(&svc);
    m.kill();
    b.env.run(&["now", "a.wav"]).code(0);
    wait_for(
        WAIT * 2,
        "the emergency and the broadcast logged",
        || service::story(&b.env, &svc),
        || {
            let rows = b.log();
            (rows.len() >= 2 && rows.iter().all(|r| r["status"] == "played")).then_some(())
        },
    );
    let edges = service::relay_edges(&b.env.path("relay.log"));
    let on = edges
        .iter()
        .filter(|(_, on)| *on)
        .map(|(t, _)| *t)
        .next_back()
        .unwrap();
    assert!(
        on <= planned,
        "the broadcast's relay went on at {on}, after {planned}"
    );
    let st = service::status(&b.env);
    assert_ne!(st["district"]["state"], "connected", "{st:#}");
    m.restart();
    let mut l = m.listen("district", "loa/+/asrun", Some("collector"));
    let got = l.until(WAIT * 2, "both rows", |g| {
        let ids: std::collections::BTreeSet<i64> = g
            .iter()
            .filter_map(|(_, p)| serde_json::from_str::<Value>(p).ok())
            .filter_map(|v| v["id"].as_i64())
            .collect();
        ids.len() >= 2
    });
    let logged: Vec<i64> = b.log().iter().filter_map(|r| r["id"].as_i64()).collect();
    for id in logged {
        assert!(
            got.iter().any(|(_, p)| serde_json::from_str::<Value>(p)
                .is_ok_and(|v| v["id"] == id && v["box"] == "xa-a")),
            "row {id} never arrived: {got:#?}"
        );
    }
}

// Issue 17: a credentials file others can read is refused, with a clear
// message in `loa status`; the box airs its schedule all the same.
#[test]
fn a_world_readable_credentials_file_is_refused_plainly() {
    if !Mosquitto::available("a_world_readable_credentials_file_is_refused") {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let m = Mosquitto::start(&[("xa-a", &[])]);
    let b = Box_::new(&m, "xa-a", &[], "");
    std::fs::set_permissions(m.secret("xa-a"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let svc = b.start();
    let st = wait_for(
        WAIT,
        "the link refused",
        || service::story(&b.env, &svc),
        || {
            let st = service::status(&b.env);
            (st["district"]["state"] == "refused").then_some(st)
        },
    );
    let why = st["district"]["error"].as_str().unwrap();
    assert!(
        why.contains("can be read by others") && why.contains("chmod 600"),
        "{why}"
    );
    let human = b.env.run(&["status"]);
    assert!(human.stdout.contains("chmod 600"), "{human}");
}

// Issue 17: `loa check` says a credentials file others can read, at its
// line in the config, with the command that fixes it.
#[test]
fn check_says_the_credentials_file_is_readable_by_others() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("district.secret");
    std::fs::write(&secret, "username = \"xa-a\"\npassword = \"x\"\n").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
    let env = TestEnv::with_config(&service::service_config(
        None,
        &format!(
            "[district]\nbroker = \"mqtt://127.0.0.1:1\"\nbox = \"xa-a\"\ncredentials = \"{}\"\n",
            secret.display()
        ),
    ));
    let out = env.run(&["check"]);
    out.code(1);
    out.error_at("config/loa.toml:14:1", "can be read by others (mode 644)");
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = env.run(&["check"]);
    assert!(!out.stdout.contains("credentials"), "{out}");
}

// Issue 17, end to end: `loa district now --to all` carries a file to two
// real boxes and prints each one's answers; `loa district collect` stores
// their rows (one box's written while the broker was down), and `loa
// district report` counts each box's emergency once.
#[test]
fn district_now_collect_and_report_with_real_boxes() {
    if !Mosquitto::available("district_now_collect_and_report_with_real_boxes") {
        return;
    }
    use crate::district::{Collector, district_env};
    let mut m = Mosquitto::start(&[("xa-a", &[]), ("xa-b", &[])]);
    let (a, b) = (
        Box_::new(&m, "xa-a", &[], ""),
        Box_::new(&m, "xa-b", &[], ""),
    );
    let (sa, sb) = (a.start(), b.start());
    a.wait_linked(&sa);
    b.wait_linked(&sb);
    let district = district_env(&m);
    let state = district.path("district");
    let mut c = Collector::start(&district, &state, 1);
    c.wait_for("connected to", 1);
    let bao = district.path("bao.wav");
    tone_wav(&bao, 500.0, 1.0, 0.5, 48_000);
    let out = district.run(&[
        "district",
        "now",
        "--to",
        "all",
        "--wait",
        "40s",
        bao.to_str().unwrap(),
    ]);
    out.code(0);
    for name in ["xa-a", "xa-b"] {
        let aired = out
            .stdout
            .lines()
            .any(|l| l.contains(name) && l.to_lowercase().contains("aired"));
        assert!(aired, "{name} did not answer aired\n{out}");
    }
    // Box b airs once more while the broker is down; its rows follow.
    m.kill();
    b.env.run(&["now", "a.wav"]).code(0);
    wait_for(
        WAIT,
        "xa-b's second emergency logged",
        || service::story(&b.env, &sb),
        || (b.log().iter().filter(|r| r["status"] == "played").count() >= 2).then_some(()),
    );
    m.restart();
    let day = jiff::Timestamp::now()
        .in_tz("Asia/Ho_Chi_Minh")
        .unwrap()
        .date()
        .to_string();
    let t = std::time::Instant::now();
    let report = loop {
        let r = district.run(&[
            "district",
            "report",
            "--from",
            &day,
            "--to",
            &day,
            "--format",
            "csv",
            "--state",
            state.to_str().unwrap(),
        ]);
        let rows = |b: &str| {
            r.stdout
                .lines()
                .find(|l| l.starts_with(&format!("box,{b},")))
                .map(str::to_string)
        };
        if r.code == Some(0)
            && rows("xa-a").is_some()
            && rows("xa-b").is_some_and(|l| l.split(',').nth(7) == Some("2"))
        {
            break r;
        }
        assert!(
            t.elapsed() < Duration::from_secs(90),
            "the report never counted both\n{r}\n{}",
            c.said()
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    // kind, box, broadcasts, minutes aired, relayed, missed, failed,
    // emergencies.
    let line = |b: &str| {
        report
            .stdout
            .lines()
            .find(|l| l.starts_with(&format!("box,{b},")))
            .unwrap()
            .to_string()
    };
    let emergencies = |b: &str| line(b).split(',').nth(7).map(str::to_string);
    assert_eq!(emergencies("xa-a").as_deref(), Some("1"), "{report}");
    assert_eq!(emergencies("xa-b").as_deref(), Some("2"), "{report}");
}

// Issue 18: a district `say` command carries a few hundred bytes of text,
// and each box reads it aloud itself: aired on every box, logged as
// kind "tts" with the text's start and SHA-256, acknowledged "aired".
#[test]
fn a_say_command_is_read_aloud_by_each_box() {
    if !Mosquitto::available("a_say_command_is_read_aloud_by_each_box") {
        return;
    }
    let text = "Bão số 3 sẽ đổ bộ vào chiều nay. Đề nghị bà con neo đậu tàu thuyền và ở trong nhà.";
    let m = Mosquitto::start(&[("xa-a", &[]), ("xa-b", &[])]);
    let boxes: Vec<Box_> = ["xa-a", "xa-b"]
        .iter()
        .map(|n| Box_::new(&m, n, &[], ""))
        .collect();
    let svcs: Vec<Service> = boxes.iter().map(Box_::start).collect();
    for (b, s) in boxes.iter().zip(&svcs) {
        b.wait_linked(s);
    }
    let mut l = district_listener(&m);
    let cmd = command("bao-say", "now", 300, json!({ "say": text }));
    assert!(cmd.len() < 400, "{} bytes", cmd.len());
    assert_eq!(m.publish("district", "loa/all/cmd", &cmd, false), 0);
    let got = l.until(WAIT * 2, "both boxes to answer aired", |g| {
        count(g, "aired") == 2
    });
    for (_, p) in got.iter().filter(|(_, p)| p.contains("\"aired\"")) {
        let v: Value = serde_json::from_str(p).unwrap();
        assert!(v["error"].is_null(), "{v:#}");
        let rows = v["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 1, "{v:#}");
        assert_eq!(rows[0]["kind"], "tts", "{v:#}");
        assert_eq!(rows[0]["status"], "played", "{v:#}");
        assert_eq!(rows[0]["sha256"], sha256_hex(text.as_bytes()));
        let first_80: String = text.chars().take(80).collect();
        assert_eq!(rows[0]["file"], first_80.as_str());
    }
    // Both: a queue of text, and a command with text and files refused.
    let both = command(
        "say-and-file",
        "queue",
        300,
        json!({ "say": "Xin chào", "files": ["a.wav"] }),
    );
    assert_eq!(m.publish("district", "loa/xa-a/cmd", &both, false), 0);
    let got = l.until(WAIT, "the mixed command to be rejected", |g| {
        count(g, "rejected") == 1
    });
    let rejected = got
        .iter()
        .find(|(_, p)| p.contains("\"rejected\""))
        .unwrap();
    assert!(rejected.1.contains("two commands"), "{rejected:?}");
}
