//! The district at scale (issue 17): 200 boxes on one machine. Prints the
//! figures and PASS/MISS against the targets; never fails on a figure.
//!
//! The boxes: loa's own link code (src/district/link.rs, `link::spawn`)
//! run 200 times in this process, each with its own in-memory as-run log
//! and, in place of the airing loop, a stub that takes every control
//! request as the real loop does when it accepts (`now` -> ok) and
//! answers `status` with a sample status. So what is measured is loa's
//! link (MQTT session, subscriptions, status, rows, commands, acks), not
//! 200 sound cards. The broker: a real Mosquitto on 127.0.0.1 with the
//! shipped ACL and 201 accounts made by the shipped add-box.sh.
//!
//! 1. An emergency to all (`PREFIX/all/cmd`, a file the boxes have, no
//!    audio carried): the time from publishing until 200 "accepted" acks
//!    are back (target < 5 s on loopback).
//! 2. A day of as-run rows: 40 per box (8 000) written into the boxes' logs
//!    at once; the time until a district subscriber has every (box, id),
//!    how many arrived twice (at-least-once delivery allows doubles), and
//!    whether the real `loa district collect` (running throughout) stored
//!    every one once: none lost, none doubled.
//! 3. `loa district status`, from the broker's retained messages and from
//!    the collector's database (`--state`): wall time (target < 1 s).
//! 4. One real `loa run` box with the link up, idle for 60 s
//!    (`LOA_BENCH_IDLE_SECONDS`): its CPU (utime+stime from /proc) per
//!    minute and its peak RSS (targets < 50 ms CPU per minute, < 25 MB).
//!
//! Run: `cargo bench --bench district` (builds loa in release first).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use loa::asrun::{AsRun, ItemRecord, Kind, Priority, Status};
use loa::config::Config;
use loa::config::district::DistrictConfig;
use loa::control::protocol::{Request, Response};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};

const BOXES: usize = 200;
const ROWS_PER_BOX: usize = 40;

fn main() {
    let tools = ["mosquitto", "mosquitto_passwd"];
    if let Some(t) = tools.iter().find(|t| !on_path(t)) {
        println!(
            "district bench: SKIPPED ({t} is not installed: apt install mosquitto mosquitto-clients)"
        );
        return;
    }
    let root = env!("CARGO_MANIFEST_DIR");
    let build = Command::new(env!("CARGO"))
        .args(["build", "--release", "--bin", "loa"])
        .current_dir(root)
        .status()
        .expect("cargo build");
    assert!(build.success(), "cargo build --release failed");
    let loa = PathBuf::from(root).join("target/release/loa");
    let broker = Broker::start(BOXES);
    println!(
        "district bench: {BOXES} boxes (loa's link code, stub airing loops), Mosquitto {}",
        broker.url()
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let district = tempfile::tempdir().unwrap();
    let cfg = district_config(&broker, district.path());
    let said = district.path().join("collect.log");
    let mut collect = Command::new(&loa)
        .args(["--config", cfg.to_str().unwrap(), "district", "collect"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&said).unwrap())
        .spawn()
        .expect("loa district collect");
    rt.block_on(fleet(&broker));
    if !collected(&district.path().join("state/district.db")) {
        let text = std::fs::read_to_string(&said).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(5).collect();
        println!("    the collector said (last lines): {tail:?}");
    }
    let _ = Command::new("kill")
        .args(["-TERM", &collect.id().to_string()])
        .status();
    let _ = collect.wait();
    status_cli(&loa, &cfg, &[]);
    let state = district.path().join("state");
    status_cli(&loa, &cfg, &["--state", state.to_str().unwrap()]);
    idle_box(&broker, &loa);
}

/// One simulated box: its as-run log.
struct SimBox {
    asrun: Arc<Mutex<AsRun>>,
    _dir: tempfile::TempDir,
}

async fn fleet(broker: &Broker) {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut boxes = Vec::new();
    let t0 = Instant::now();
    for i in 0..BOXES {
        let name = format!("xa-{i:03}");
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = Config::defaults(dir.path());
        cfg.district = Some(DistrictConfig {
            broker: loa::config::district::Broker::parse(&broker.url()).unwrap(),
            box_name: Some(name.clone()),
            groups: vec!["huyen-x".into()],
            credentials: Some(broker.secret(&name)),
            ca_file: None,
            topic_prefix: "loa".into(),
        });
        let asrun = Arc::new(Mutex::new(AsRun::in_memory()));
        let (req_tx, mut req_rx) =
            tokio::sync::mpsc::channel::<(Request, tokio::sync::oneshot::Sender<Response>)>(16);
        // The stub airing loop: takes every request.
        tokio::spawn(async move {
            while let Some((req, reply)) = req_rx.recv().await {
                let resp = match req {
                    Request::Status => Response::status(loa::control::fake::sample_status()),
                    _ => Response::ok("ok"),
                };
                let _ = reply.send(resp);
            }
        });
        loa::district::link::spawn(loa::district::link::LinkParts {
            cfg,
            requests: req_tx,
            asrun: asrun.clone(),
            state: Default::default(),
            stop: stop_rx.clone(),
        });
        boxes.push(SimBox { asrun, _dir: dir });
    }
    let mut district = Listener::start(broker, "loa/+/#").await;
    let online = district
        .until(Duration::from_secs(60), |m| {
            m.iter()
                .filter(|(t, p)| t.ends_with("/online") && p == "online")
                .count()
                >= BOXES
        })
        .await;
    println!(
        "  {BOXES} boxes connected, subscribed and online in {:.2} s ({})",
        t0.elapsed().as_secs_f64(),
        if online { "all" } else { "NOT all" }
    );
    district.clear();

    // 1. An emergency to all, and its "accepted" acks.
    let cmd = serde_json::json!({
        "id": "bench-1", "command": "now", "files": ["bao.mp3"],
        "expires": (jiff::Timestamp::now() + jiff::SignedDuration::from_secs(600)).to_string(),
    });
    let t = Instant::now();
    district.publish("loa/all/cmd", cmd.to_string()).await;
    let all = district
        .until(Duration::from_secs(30), |m| {
            m.iter()
                .filter(|(t, p)| t.ends_with("/ack") && p.contains("\"accepted\""))
                .count()
                >= BOXES
        })
        .await;
    let took = t.elapsed().as_secs_f64();
    println!(
        "  emergency to all: {} accepted acks back in {took:.2} s (target < 5 s): {}",
        if all {
            BOXES.to_string()
        } else {
            "NOT all".into()
        },
        verdict(all && took < 5.0)
    );
    district.clear();

    // 2. A day of as-run rows.
    let day = jiff::civil::date(2026, 9, 1);
    let t = Instant::now();
    for b in &boxes {
        let log = b.asrun.lock().unwrap();
        for n in 0..ROWS_PER_BOX {
            let at = jiff::Timestamp::from_second(1_788_220_800 + n as i64 * 60).unwrap();
            log.record(&row(day, n, at)).unwrap();
        }
    }
    let want = BOXES * ROWS_PER_BOX;
    let all = district
        .until(Duration::from_secs(120), |m| distinct_rows(m).0 >= want)
        .await;
    let (distinct, total) = distinct_rows(&district.got);
    println!(
        "  a day of rows ({ROWS_PER_BOX} per box, {want}): {distinct} distinct arrived in {:.2} s, {} twice, none lost: {}",
        t.elapsed().as_secs_f64(),
        total - distinct,
        verdict(all && distinct == want)
    );
    let _ = stop_tx.send(true);
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(boxes);
}

fn row(day: jiff::civil::Date, n: usize, at: jiff::Timestamp) -> ItemRecord {
    ItemRecord {
        day,
        broadcast_key: format!("{day} 06:00:00 #{}", n / 4),
        broadcast: Some("Bản tin sáng".into()),
        tags: vec![],
        file: format!("ban-tin-{n}.mp3"),
        sha256: None,
        scheduled: Some(at),
        started: Some(at),
        ended: Some(at + jiff::SignedDuration::from_secs(50)),
        status: Status::Played,
        priority: Priority::Normal,
        error: None,
        clock_synced: true,
        late: false,
        kind: Kind::File,
        aired_ms: None,
        zones: vec![],
    }
}

/// (distinct (box, id), all) among the rows that arrived.
fn distinct_rows(m: &[(String, String)]) -> (usize, usize) {
    let mut seen = BTreeSet::new();
    let mut total = 0;
    for (t, p) in m.iter().filter(|(t, _)| t.ends_with("/asrun")) {
        total += 1;
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(p) {
            seen.insert((t.clone(), v["id"].as_i64().unwrap_or(-1)));
        }
    }
    (seen.len(), total)
}

/// The district machine's config: its state folder in `dir`, the
/// district's account.
fn district_config(broker: &Broker, dir: &Path) -> PathBuf {
    let cfg = dir.join("loa.toml");
    std::fs::create_dir_all(dir.join("state")).unwrap();
    std::fs::write(
        &cfg,
        format!(
            "language = \"en\"\n[paths]\nstate = \"{}\"\n[district]\nbroker = \"{}\"\ncredentials = \"{}\"\n",
            dir.join("state").display(),
            broker.url(),
            broker.secret("district").display()
        ),
    )
    .unwrap();
    cfg
}

/// The collector's database: every row once (true).
fn collected(db: &Path) -> bool {
    let want = (BOXES * ROWS_PER_BOX) as i64;
    let t = Instant::now();
    let mut last = (0, 0);
    while t.elapsed() < Duration::from_secs(60) {
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
        if let Ok(conn) = rusqlite::Connection::open_with_flags(db, flags) {
            last = conn
                .query_row(
                    "SELECT count(*), count(DISTINCT box || '/' || id) FROM asrun",
                    [],
                    |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
                )
                .unwrap_or(last);
        }
        if last.1 >= want {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    println!(
        "  loa district collect: {} rows stored ({} distinct) of {want}, all in by {:.2} s after the subscriber had them: {}",
        last.0,
        last.1,
        t.elapsed().as_secs_f64(),
        verdict(last.0 == want && last.1 == want)
    );
    last.0 == want && last.1 == want
}

/// Step 3: `loa district status`, from the broker's retained messages, or from
/// the collector's database (`--state DIR`).
fn status_cli(loa: &Path, cfg: &Path, extra: &[&str]) {
    let mut times = Vec::new();
    let mut boxes_seen = 0;
    let mut source = String::new();
    for _ in 0..3 {
        let t = Instant::now();
        let out = Command::new(loa)
            .args([
                "--config",
                cfg.to_str().unwrap(),
                "district",
                "status",
                "--json",
            ])
            .args(extra)
            .output()
            .expect("loa district status");
        times.push(t.elapsed().as_secs_f64());
        if !out.status.success() {
            println!(
                "  loa district status: failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            return;
        }
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        boxes_seen = v["boxes"].as_array().map_or(0, Vec::len);
        source = v["source"].as_str().unwrap_or("?").to_string();
    }
    times.sort_by(f64::total_cmp);
    println!(
        "  loa district status (from the {source}, {boxes_seen} boxes): median {:.2} s of 3 (target < 1 s): {}",
        times[1],
        verdict(times[1] < 1.0)
    );
}

/// Step 4: a real `loa run` with the link up, idle.
fn idle_box(broker: &Broker, loa: &Path) {
    let secs: u64 = std::env::var("LOA_BENCH_IDLE_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let dir = tempfile::tempdir().unwrap();
    for d in ["audio", "playlists", "state"] {
        std::fs::create_dir_all(dir.path().join(d)).unwrap();
    }
    let cfg = dir.path().join("loa.toml");
    std::fs::write(
        &cfg,
        format!(
            "language = \"en\"\n[paths]\naudio = \"audio\"\nplaylists = \"playlists\"\nstate = \"state\"\n\
             [relay]\nbackend = \"sim\"\n[schedule]\nrequire-clock-sync = false\n\
             [district]\nbroker = \"{}\"\nbox = \"xa-000\"\ncredentials = \"{}\"\n",
            broker.url(),
            broker.secret("xa-000").display()
        ),
    )
    .unwrap();
    let mut child = Command::new(loa)
        .args(["--config", cfg.to_str().unwrap(), "run"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("loa run");
    let pid = child.id();
    std::thread::sleep(Duration::from_secs(5));
    let before = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(secs));
    let after = cpu_ticks(pid);
    let rss = status_kb(pid, "VmHWM:");
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let _ = child.wait();
    let tick = 1000.0 / 100.0; // ms per clock tick (USER_HZ = 100)
    let per_min = (after - before) as f64 * tick * 60.0 / secs as f64;
    println!(
        "  one real `loa run` box, link up, idle {secs} s: {per_min:.0} ms CPU per minute (target < 50): {}; peak RSS {:.1} MB (target < 25): {}",
        verdict(per_min < 50.0),
        rss / 1024.0,
        verdict(rss / 1024.0 < 25.0)
    );
}

fn cpu_ticks(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let rest = s.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3; utime 14 and stime 15 (1-based).
    let n = |i: usize| {
        f.get(i - 3)
            .and_then(|x| x.parse::<u64>().ok())
            .unwrap_or(0)
    };
    n(14) + n(15)
}

fn status_kb(pid: u32, key: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|x| x.parse().ok())
        .unwrap_or(0.0)
}

fn verdict(ok: bool) -> &'static str {
    if ok { "PASS" } else { "MISS" }
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
}

/// A throw-away Mosquitto with the shipped ACL and accounts.
struct Broker {
    child: std::process::Child,
    dir: tempfile::TempDir,
    port: u16,
}

impl Broker {
    fn start(boxes: usize) -> Broker {
        let dir = tempfile::tempdir().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/district/add-box.sh");
        let conf_dir = dir.path().join("loa");
        let mut names: Vec<String> = vec!["--district".into()];
        names.extend((0..boxes).map(|i| format!("xa-{i:03}")));
        for n in &names {
            let mut c = Command::new("sh");
            c.arg(&script).arg(n);
            if n != "--district" {
                c.arg("huyen-x");
            }
            let ok = c
                .current_dir(dir.path())
                .env("LOA_MOSQUITTO_DIR", &conf_dir)
                .env(
                    "LOA_BOX_PASSWORD",
                    format!("pw-{}", n.trim_start_matches('-')),
                )
                .stdout(Stdio::null())
                .status()
                .unwrap()
                .success();
            assert!(ok, "add-box.sh {n}");
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let user = if std::fs::metadata("/proc/self")
            .is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        {
            "user root\n"
        } else {
            ""
        };
        let conf = dir.path().join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!(
                "{user}per_listener_settings false\nallow_anonymous false\npassword_file {0}/loa/passwd\n\
                 acl_file {0}/loa/acl\npersistence false\nmax_queued_messages 100000\n\
                 max_packet_size 12582912\nlistener {port} 127.0.0.1\n",
                dir.path().display()
            ),
        )
        .unwrap();
        let child = Command::new("mosquitto")
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let t = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "mosquitto does not listen"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Broker { child, dir, port }
    }

    fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    fn secret(&self, name: &str) -> PathBuf {
        self.dir.path().join(format!("{name}.secret"))
    }

    fn password(&self, name: &str) -> String {
        format!("pw-{name}")
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The district's side: subscribed, gathering what arrives.
struct Listener {
    client: AsyncClient,
    rx: tokio::sync::mpsc::UnboundedReceiver<(String, String)>,
    got: Vec<(String, String)>,
}

impl Listener {
    async fn start(b: &Broker, topic: &str) -> Listener {
        let mut o = MqttOptions::new("bench-district", "127.0.0.1", b.port);
        o.set_credentials("district", b.password("district"));
        o.set_max_packet_size(16 << 20, 16 << 20);
        o.set_inflight(1000);
        let (client, mut ev) = AsyncClient::new(o, 1000);
        client.subscribe(topic, QoS::AtLeastOnce).await.unwrap();
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let mut ready = Some(ready_tx);
        tokio::spawn(async move {
            loop {
                match ev.poll().await {
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        if let Some(r) = ready.take() {
                            let _ = r.send(());
                        }
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let _ = tx.send((
                            p.topic.clone(),
                            String::from_utf8_lossy(&p.payload).into_owned(),
                        ));
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        });
        let _ = ready_rx.await;
        Listener {
            client,
            rx,
            got: Vec::new(),
        }
    }

    async fn publish(&self, topic: &str, payload: String) {
        self.client
            .publish(topic, QoS::AtLeastOnce, false, payload)
            .await
            .unwrap();
    }

    fn clear(&mut self) {
        while self.rx.try_recv().is_ok() {}
        self.got.clear();
    }

    /// Gathers until `done` holds (true) or `limit` passes (false); `done`
    /// is asked once per batch of what has arrived, not per message.
    async fn until(&mut self, limit: Duration, done: impl Fn(&[(String, String)]) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if done(&self.got) {
                return true;
            }
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(m)) => {
                    self.got.push(m);
                    while let Ok(m) = self.rx.try_recv() {
                        self.got.push(m);
                    }
                }
                _ => return done(&self.got),
            }
        }
    }
}
