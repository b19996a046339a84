//! Issue 17: the district over MQTT, with a real broker (Mosquitto, the
//! shipped ACL and accounts made by the shipped add-box.sh) and real
//! `loa run` boxes.

use std::time::Duration;

use crate::util::mosquitto::Mosquitto;

// Issue 17: the shipped ACL lets a box publish under its own prefix only,
// read its own, its groups' and everyone's commands; the district reads
// everything and publishes commands only.
#[test]
fn the_shipped_acl_keeps_each_box_to_its_own_topics() {
    if !Mosquitto::available("the_shipped_acl_keeps_each_box_to_its_own_topics") {
        return;
    }
    let m = Mosquitto::start(&[("xa-a", &["ven-bien"]), ("xa-b", &[])]);
    let wait = Duration::from_secs(2);
    // Retained, so that a later subscriber sees what got through.
    assert_eq!(m.publish("xa-a", "loa/xa-a/status", "{\"a\":1}", true), 0);
    m.publish("xa-a", "loa/xa-b/status", "{\"forged\":1}", true);
    m.publish("xa-a", "loa/all/cmd", "{\"forged\":1}", true);
    m.publish("district", "loa/xa-b/status", "{\"forged\":2}", true);
    m.publish("district", "loa/group/ven-bien/cmd", "{\"id\":\"g\"}", true);
    let seen = m.messages("district", "loa/#", 10, wait);
    let topics: Vec<&str> = seen.iter().map(|(t, _)| t.as_str()).collect();
    assert!(topics.contains(&"loa/xa-a/status"), "{seen:?}");
    assert!(topics.contains(&"loa/group/ven-bien/cmd"), "{seen:?}");
    assert!(
        !seen.iter().any(|(_, p)| p.contains("forged")),
        "the broker let a forged message through: {seen:?}\n{}",
        m.output()
    );
    // Groups: xa-a reads ven-bien's commands, xa-b does not.
    assert_eq!(
        m.messages("xa-a", "loa/group/ven-bien/cmd", 1, wait).len(),
        1
    );
    assert!(
        m.messages("xa-b", "loa/group/ven-bien/cmd", 1, wait)
            .is_empty()
    );
    // A box cannot read another's status.
    assert!(m.messages("xa-b", "loa/xa-a/status", 1, wait).is_empty());
}

// ---- The district's side: `loa district ...` against the real broker,
// the boxes played by mosquitto_pub / mosquitto_sub with their own
// accounts (as the box side of the link publishes and answers).

use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::time::Instant;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::util::{BIN, DEFAULT_CONFIG, TestEnv, null_card};

/// An installation whose `[district]` is the test broker's, with the
/// district's account.
pub(crate) fn district_env(m: &Mosquitto) -> TestEnv {
    TestEnv::with_config(&format!(
        "{DEFAULT_CONFIG}\n[district]\nbroker = \"{}\"\ncredentials = \"{}\"\n",
        m.url(),
        m.secret("district").display()
    ))
}

/// RFC 3339 of `ago` before now.
fn ago(ago: Duration) -> String {
    (jiff::Timestamp::now() - jiff::SignedDuration::try_from(ago).unwrap()).to_string()
}

/// A box's status, as `loa status --json` plus "box" and "groups", made
/// `age` ago.
fn status_of(name: &str, groups: &[&str], age: Duration) -> String {
    json!({
        "now": ago(age), "timezone": "Asia/Ho_Chi_Minh", "clock_synced": true,
        "playing": null,
        "next": {"title": "Bản tin chiều", "at": "2026-11-02T17:00:00+07:00",
                 "relay_on": "2026-11-02T16:59:57+07:00"},
        "relay": {"on": false, "since": null, "backend": "sim"},
        "zones": [], "last_error": null, "last_error_at": null, "today": [],
        "queued": [], "warnings": [], "archive": null,
        "box": name, "groups": groups,
    })
    .to_string()
}

/// Publishes what a box keeps retained: online (or offline, as its last
/// will) and its status of `age` ago.
fn retain_box(m: &Mosquitto, name: &str, groups: &[&str], online: bool, age: Duration) {
    let state = if online { "online" } else { "offline" };
    assert_eq!(
        m.publish(name, &format!("loa/{name}/online"), state, true),
        0
    );
    let status = status_of(name, groups, age);
    assert_eq!(
        m.publish(name, &format!("loa/{name}/status"), &status, true),
        0
    );
}

/// A box's end of the link for the tests: its account and a persistent
/// session (client id box-NAME) subscribed to its commands, as `loa run`
/// keeps one.
struct BoxSide {
    name: String,
    port: String,
    password: String,
    topics: Vec<String>,
}

impl BoxSide {
    /// Makes the box's session at the broker (subscribed, then away).
    fn new(m: &Mosquitto, name: &str, groups: &[&str]) -> BoxSide {
        let mut topics = vec![format!("loa/{name}/cmd"), "loa/all/cmd".to_string()];
        topics.extend(groups.iter().map(|g| format!("loa/group/{g}/cmd")));
        let b = BoxSide {
            name: name.into(),
            port: m.url().rsplit(':').next().unwrap().to_string(),
            password: m.password(name),
            topics,
        };
        let ok = b.sub(&["-E"]).status().unwrap().success();
        assert!(ok, "mosquitto_sub -E as {name}");
        b
    }

    fn client(&self, tool: &str) -> Process {
        let mut c = Process::new(tool);
        c.args(["-h", "127.0.0.1", "-p", &self.port, "-u", &self.name])
            .args(["-P", &self.password])
            .stdin(Stdio::null());
        c
    }

    fn sub(&self, extra: &[&str]) -> Process {
        let mut c = self.client("mosquitto_sub");
        c.args(["-c", "-i", &format!("box-{}", self.name), "-q", "1"]);
        for t in &self.topics {
            c.args(["-t", t]);
        }
        c.args(extra);
        c
    }

    /// On a thread: takes the next command (waiting up to 30 s), answers
    /// it with the acks `answer` makes of it, returns (topic, command).
    fn answer(
        self,
        answer: impl FnOnce(&str, &Value) -> Vec<Value> + Send + 'static,
    ) -> std::thread::JoinHandle<Option<(String, Value)>> {
        std::thread::spawn(move || {
            let out = self.sub(&["-v", "-C", "1", "-W", "30"]).output().unwrap();
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            let (topic, payload) = text.trim_end().split_once(' ')?;
            let command: Value = serde_json::from_str(payload).unwrap();
            for ack in answer(&self.name, &command) {
                let ok = self
                    .client("mosquitto_pub")
                    .args(["-q", "1", "-t", &format!("loa/{}/ack", self.name)])
                    .args(["-m", &ack.to_string()])
                    .status()
                    .unwrap()
                    .success();
                assert!(ok, "publishing an ack as {}", self.name);
            }
            Some((topic.to_string(), command))
        })
    }
}

/// An ack as a box sends it.
fn ack(name: &str, command: &Value, status: &str, error: Option<&str>, rows: Value) -> Value {
    json!({"id": command["id"], "status": status, "error": error,
           "at": ago(Duration::ZERO), "box": name, "rows": rows})
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

// Issue 17: `loa district status` from the broker's retained messages:
// every box, an offline one and a silent one standing out (in words, and
// first), and the same as JSON.
#[test]
fn district_status_from_the_retained_messages() {
    if !Mosquitto::available("district_status_from_the_retained_messages") {
        return;
    }
    let m = Mosquitto::start(&[("xa-a", &["ven-bien"]), ("xa-b", &[]), ("xa-c", &[])]);
    retain_box(&m, "xa-a", &["ven-bien"], true, Duration::from_secs(10));
    retain_box(&m, "xa-b", &[], true, Duration::from_secs(7 * 60 + 5));
    retain_box(&m, "xa-c", &[], false, Duration::from_secs(20 * 60 + 5));
    let env = district_env(&m);
    let t = Instant::now();
    let out = env.run(&["district", "status"]);
    out.code(0);
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "{:?}\n{out}",
        t.elapsed()
    );
    out.says("3 boxes, 2 online, 1 offline, 2 silent")
        .says("SILENT 7 min")
        .says("SILENT 20 min")
        .says("OFFLINE")
        .says("17:00 Bản tin chiều");
    let lines: Vec<&str> = out.stdout.lines().collect();
    let at = |name: &str| lines.iter().position(|l| l.starts_with(name)).unwrap();
    assert!(at("xa-c") < at("xa-b") && at("xa-b") < at("xa-a"), "{out}");
    assert!(lines[at("xa-a")].contains("s ago"), "{out}");
    let j = env.run(&["district", "status", "--json"]);
    j.code(0);
    let j = j.json();
    assert_eq!(j["source"], "broker");
    let boxes = j["boxes"].as_array().unwrap();
    let names: Vec<&str> = boxes.iter().map(|b| b["box"].as_str().unwrap()).collect();
    assert_eq!(names, ["xa-c", "xa-b", "xa-a"]);
    assert_eq!(
        (boxes[0]["online"].clone(), boxes[0]["silent"].clone()),
        (json!(false), json!(true))
    );
    assert_eq!(
        (boxes[2]["online"].clone(), boxes[2]["silent"].clone()),
        (json!(true), json!(false))
    );
    assert_eq!(boxes[2]["groups"], json!(["ven-bien"]));
    assert_eq!(boxes[2]["next"]["title"], "Bản tin chiều");
}

// Issue 17: `loa district now --to all FILE` carries the file (its SHA-256
// checked by the box), prints each box's answers as they come (accepted,
// then aired with what), and at the end the boxes that have not answered:
// an online box that said nothing, and an offline one whose command the
// broker keeps until it expires.
#[test]
fn district_now_to_all_carries_the_file_and_says_who_has_not_answered() {
    if !Mosquitto::available("district_now_to_all_carries_the_file_and_says_who_has_not_answered") {
        return;
    }
    let m = Mosquitto::start(&[("xa-a", &["ven-bien"]), ("xa-b", &[]), ("xa-c", &[])]);
    retain_box(&m, "xa-a", &["ven-bien"], true, Duration::from_secs(5));
    retain_box(&m, "xa-b", &[], true, Duration::from_secs(5));
    retain_box(&m, "xa-c", &[], false, Duration::from_secs(600));
    let env = district_env(&m);
    let file = env.write("bao-bao.mp3", b"ID3 not really an mp3, but bytes to carry");
    // xa-c has been online before: the broker keeps its session.
    let c = BoxSide::new(&m, "xa-c", &[]);
    let a = BoxSide::new(&m, "xa-a", &["ven-bien"]).answer(|name, c| {
        let row = json!({"id": 41, "day": "2026-11-02", "file": c["files"][0],
                         "status": "played", "priority": "emergency",
                         "started": ago(Duration::ZERO), "aired_s": 3.0});
        vec![
            ack(name, c, "accepted", None, json!([])),
            ack(name, c, "aired", None, json!([row])),
        ]
    });
    let out = env.run(&[
        "district",
        "now",
        "--to",
        "all",
        "--wait",
        "3s",
        file.to_str().unwrap(),
    ]);
    let (topic, command) = a.join().unwrap().expect("xa-a got the command");
    assert_eq!(topic, "loa/all/cmd");
    assert_eq!(command["command"], "now");
    assert_eq!(command["files"], json!(["bao-bao.mp3"]));
    let media = &command["media"][0];
    assert_eq!(media["name"], "bao-bao.mp3");
    let bytes = std::fs::read(&file).unwrap();
    assert_eq!(media["sha256"], sha256_hex(&bytes));
    assert!(
        command["expires"].as_str().unwrap().ends_with("+07:00"),
        "{command}"
    );
    out.code(0)
        .says("to all boxes (3 expected to answer): bao-bao.mp3")
        .says("xa-a: accepted")
        .says("xa-a: AIRED bao-bao.mp3 at ")
        .says("Not answered (2):")
        .says("xa-b: no answer within 3 s.")
        .says("xa-c: offline; the broker keeps it for them until it expires at ")
        .says("1/3 boxes answered; 0 refused.");
    // The offline box gets it when it comes back.
    let c = c.answer(|_, _| vec![]);
    let (_, kept) = c
        .join()
        .unwrap()
        .expect("the broker kept the command for xa-c");
    assert_eq!(kept["id"], command["id"]);
}

// Issue 17: `--to group:NAME` goes to the group's topic and expects its
// members only (by the groups their status names); a box's refusal is
// printed with its reason and makes the exit code 1.
#[test]
fn district_now_to_a_group_and_a_refusal() {
    if !Mosquitto::available("district_now_to_a_group_and_a_refusal") {
        return;
    }
    let m = Mosquitto::start(&[("xa-a", &["ven-bien"]), ("xa-d", &[])]);
    retain_box(&m, "xa-a", &["ven-bien"], true, Duration::from_secs(5));
    retain_box(&m, "xa-d", &[], true, Duration::from_secs(5));
    let env = district_env(&m);
    let file = env.write("bao.mp3", b"bytes");
    let a = BoxSide::new(&m, "xa-a", &["ven-bien"]).answer(|name, c| {
        vec![ack(
            name,
            c,
            "rejected",
            Some("no zone thon-9 here"),
            json!([]),
        )]
    });
    let out = env.run(&[
        "district",
        "now",
        "--to",
        "group:ven-bien",
        "--zone",
        "thon-9",
        "--wait",
        "10s",
        file.to_str().unwrap(),
    ]);
    let (topic, command) = a.join().unwrap().expect("xa-a got the command");
    assert_eq!(topic, "loa/group/ven-bien/cmd");
    assert_eq!(command["zones"], json!(["thon-9"]));
    out.code(1)
        .says("to group ven-bien (1 expected to answer)")
        .says("xa-a: REJECTED: no zone thon-9 here")
        .says("1/1 boxes answered; 1 refused.");
    assert!(!out.stdout.contains("xa-d"), "{out}");
}

// Issue 17: a file over 8 MB is refused before anything is sent, saying
// why and what to do.
#[test]
fn district_now_refuses_a_file_over_8_mb() {
    if !Mosquitto::available("district_now_refuses_a_file_over_8_mb") {
        return;
    }
    let m = Mosquitto::start(&[("xa-a", &[])]);
    let env = district_env(&m);
    let big = env.write("to.mp3", vec![0u8; 8 * 1024 * 1024 + 1]);
    let b = BoxSide::new(&m, "xa-a", &[]);
    let out = env.run(&["district", "now", "--to", "all", big.to_str().unwrap()]);
    out.code(1);
    assert!(
        out.stderr
            .contains("to.mp3 is 8.0 MB, over the 8 MB a command can carry; nothing was sent"),
        "{out}"
    );
    assert!(!out.stdout.contains("Sending"), "{out}");
    // Nothing waits for the box.
    let got = b.sub(&["-C", "1", "-W", "1"]).output().unwrap();
    assert!(
        got.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&got.stdout)
    );
}

/// `loa district collect --state DIR`, running.
pub(crate) struct Collector {
    child: Child,
    err: PathBuf,
}

impl Collector {
    pub(crate) fn start(env: &TestEnv, state: &Path, n: usize) -> Collector {
        let err = env.path(&format!("collect-{n}.err"));
        let child = Process::new(BIN)
            .env_remove("LOA_CONFIG")
            .env("XDG_CONFIG_HOME", null_card())
            .arg("--config")
            .arg(env.config_path())
            .args(["district", "collect", "--state"])
            .arg(state)
            .current_dir(env.root())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&err).unwrap())
            .spawn()
            .expect("starting loa district collect");
        Collector { child, err }
    }

    pub(crate) fn said(&self) -> String {
        std::fs::read_to_string(&self.err).unwrap_or_default()
    }

    /// Waits until it has said `words` `times` times.
    pub(crate) fn wait_for(&mut self, words: &str, times: usize) {
        let t = Instant::now();
        while self.said().matches(words).count() < times {
            if let Some(s) = self.child.try_wait().unwrap() {
                panic!("collect exited ({s})\n{}", self.said());
            }
            assert!(
                t.elapsed() < Duration::from_secs(60),
                "no {words:?}\n{}",
                self.said()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM; it must end cleanly (exit 0) within 10 s.
    fn stop(mut self) {
        let ok = Process::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
        let t = Instant::now();
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "collect did not stop\n{}",
                self.said()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "collect exited {status}\n{}", self.said());
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An as-run row as a box sends it: 60 s aired.
fn asrun_row(id: i64, key: &str, status: &str, kind: &str) -> String {
    let aired = if status == "played" { 60.0 } else { 0.0 };
    json!({"id": id, "day": "2026-11-02", "broadcast_key": key, "broadcast": "Bản tin",
           "tags": [], "file": format!("tin-{id}.mp3"), "sha256": null,
           "scheduled": "2026-11-02T17:00:00+07:00", "started": "2026-11-02T17:00:05+07:00",
           "ended": "2026-11-02T17:01:05+07:00", "status": status, "priority": "normal",
           "error": if status == "failed" { json!("the sound card is gone") } else { json!(null) },
           "late": false, "clock_synced": true, "archive": null, "archive_sha256": null,
           "kind": kind, "aired_s": aired, "zones": [], "box": "x"})
    .to_string()
}

/// Waits until `loa district report` (CSV) over 2026-11-02 has the total
/// line `total` (the collector is asynchronous); the report.
fn report_until(env: &TestEnv, state: &Path, total: &str) -> String {
    let t = Instant::now();
    loop {
        let out = env.run(&[
            "district",
            "report",
            "--from",
            "2026-11-02",
            "--to",
            "2026-11-02",
            "--format",
            "csv",
            "--state",
            state.to_str().unwrap(),
        ]);
        if out.code == Some(0) && out.stdout.contains(total) {
            return out.stdout;
        }
        assert!(t.elapsed() < Duration::from_secs(30), "no {total:?}\n{out}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

// Issue 17: `loa district collect` stores two boxes' rows, a row sent
// twice once; it rides out a broker restart, and what the boxes send while
// it is stopped waits for it in its persistent session; SIGTERM ends it
// cleanly. `loa district report` then counts each row once, and `loa
// district status --state DIR` reads the boxes from its database.
#[test]
fn district_collect_stores_each_row_once_through_restarts_and_reports() {
    if !Mosquitto::available("district_collect_stores_each_row_once_through_restarts_and_reports") {
        return;
    }
    let mut m = Mosquitto::start(&[("xa-a", &["ven-bien"]), ("xa-b", &[])]);
    let env = district_env(&m);
    let state = env.path("district");
    retain_box(&m, "xa-a", &["ven-bien"], true, Duration::from_secs(5));
    retain_box(&m, "xa-b", &[], false, Duration::from_secs(5));
    let mut c = Collector::start(&env, &state, 1);
    c.wait_for("connected to", 1);
    let send = |m: &Mosquitto, b: &str, row: String| {
        assert_eq!(m.publish(b, &format!("loa/{b}/asrun"), &row, false), 0);
    };
    send(&m, "xa-a", asrun_row(1, "0530", "played", "file"));
    send(&m, "xa-a", asrun_row(2, "0530", "played", "file"));
    send(&m, "xa-a", asrun_row(2, "0530", "played", "file"));
    send(&m, "xa-b", asrun_row(1, "0530", "missed", "file"));
    report_until(&env, &state, "total,,1,2.0,0.0,1,0,0");
    // The broker dies and comes back (its saved sessions with it).
    std::thread::sleep(Duration::from_millis(1500));
    m.restart();
    c.wait_for("connected to", 2);
    send(&m, "xa-b", asrun_row(2, "1700", "played", "stream"));
    send(&m, "xa-a", asrun_row(1, "0530", "played", "file"));
    report_until(&env, &state, "total,,2,3.0,1.0,1,0,0");
    // The collector stops; what comes meanwhile waits for it.
    c.stop();
    send(&m, "xa-a", asrun_row(3, "1700", "failed", "file"));
    send(&m, "xa-a", asrun_row(4, "1700", "played", "file"));
    let c = Collector::start(&env, &state, 2);
    let csv = report_until(&env, &state, "total,,3,4.0,1.0,1,1,0");
    assert!(csv.contains("box,xa-a,2,3.0,0.0,0,1,0"), "{csv}");
    assert!(csv.contains("box,xa-b,1,1.0,1.0,1,0,0"), "{csv}");
    assert!(csv.contains("the sound card is gone"), "{csv}");
    c.stop();
    let md = env.run(&[
        "district",
        "report",
        "--from",
        "2026-11-02",
        "--to",
        "2026-11-02",
        "--state",
        state.to_str().unwrap(),
    ]);
    md.code(0)
        .says("| xa-a | 2 | 3.0 | 0.0 | 0 | 1 | 0 |")
        .says("| **Total** | 3 | 4.0 | 1.0 | 1 | 1 | 0 |");
    // The board from the database: no broker needed.
    let out = env.run(&["district", "status", "--state", state.to_str().unwrap()]);
    out.code(0)
        .says("2 boxes, 1 online, 1 offline")
        .says("from the collector");
    m.kill();
    let out = env.run(&[
        "district",
        "status",
        "--state",
        state.to_str().unwrap(),
        "--json",
    ]);
    out.code(0);
    let j = out.json();
    assert_eq!(j["source"], "database");
    assert_eq!(j["boxes"].as_array().unwrap().len(), 2);
}
