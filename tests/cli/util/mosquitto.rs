//! A real MQTT broker for the district tests: Mosquitto on a free port of
//! 127.0.0.1, with the shipped ACL (deploy/district/acl) and accounts made
//! by the shipped deploy/district/add-box.sh, persistence in a throwaway
//! folder; and mosquitto_pub / mosquitto_sub as any account, to see what
//! the broker lets through. Dropping it kills the broker.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::icecast::{free_port, is_root, on_path, secret};

/// How long a broker may take to listen.
const START_WITHIN: Duration = Duration::from_secs(10);

/// A running Mosquitto.
pub struct Mosquitto {
    child: Option<Child>,
    dir: tempfile::TempDir,
    port: u16,
}

impl Mosquitto {
    /// Whether mosquitto and its clients are installed; when not, says
    /// `test` is skipped (fails it under CI).
    pub fn available(test: &str) -> bool {
        static MISSING: OnceLock<Option<String>> = OnceLock::new();
        let missing = MISSING.get_or_init(|| {
            let tools = [
                "mosquitto",
                "mosquitto_pub",
                "mosquitto_sub",
                "mosquitto_passwd",
            ];
            let gone: Vec<&str> = tools.into_iter().filter(|t| !on_path(t)).collect();
            (!gone.is_empty()).then(|| {
                format!(
                    "{} missing (packages mosquitto, mosquitto-clients)",
                    gone.join(", ")
                )
            })
        });
        match missing {
            None => true,
            Some(why) => {
                super::skip::tool_missing(test, why);
                false
            }
        }
    }

    /// Starts a broker with the district's account and one account per
    /// box, each box with its groups: (box, groups).
    pub fn start(boxes: &[(&str, &[&str])]) -> Mosquitto {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let conf_dir = dir.path().join("loa");
        add_account(dir.path(), &conf_dir, &["--district"]);
        for (name, groups) in boxes {
            let mut args = vec![*name];
            args.extend_from_slice(groups);
            add_account(dir.path(), &conf_dir, &args);
        }
        std::fs::create_dir_all(dir.path().join("data")).unwrap();
        let mut m = Mosquitto {
            child: None,
            dir,
            port: free_port(),
        };
        m.launch();
        m
    }

    fn launch(&mut self) {
        let d = self.dir.path();
        let conf = d.join("mosquitto.conf");
        let user = if is_root() { "user root\n" } else { "" };
        // The shipped settings, on a plain listener of the loopback.
        std::fs::write(
            &conf,
            format!(
                "{user}per_listener_settings false\nallow_anonymous false\n\
                 password_file {}\nacl_file {}\npersistence true\n\
                 persistence_location {}/\nautosave_interval 1\n\
                 max_queued_messages 20000\nmax_packet_size 12582912\n\
                 listener {} 127.0.0.1\n",
                d.join("loa/passwd").display(),
                d.join("loa/acl").display(),
                d.join("data").display(),
                self.port
            ),
        )
        .unwrap();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(d.join("output"))
            .unwrap();
        let child = Command::new("mosquitto")
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("running mosquitto: {e}"));
        self.child = Some(child);
        let t = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(Some(status)) = self.child.as_mut().map(|c| c.try_wait().unwrap()) {
                panic!("mosquitto exited ({status}) on start\n{}", self.output());
            }
            assert!(
                t.elapsed() < START_WITHIN,
                "mosquitto not listening on {} after {START_WITHIN:?}\n{}",
                self.port,
                self.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `mqtt://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    /// The credentials file add-box.sh wrote for `name` (mode 600).
    pub fn secret(&self, name: &str) -> PathBuf {
        self.dir.path().join(format!("{name}.secret"))
    }

    /// The password in `name`'s credentials file.
    pub fn password(&self, name: &str) -> String {
        let text = std::fs::read_to_string(self.secret(name)).unwrap();
        let line = text.lines().find(|l| l.starts_with("password")).unwrap();
        line.split('"').nth(1).unwrap().to_string()
    }

    /// Kills the broker (as a crash would: what it had not saved is lost).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port, with what it had persisted.
    pub fn restart(&mut self) {
        self.kill();
        self.launch();
    }

    /// What the broker said.
    pub fn output(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("output")).unwrap_or_default()
    }

    /// Publishes `payload` to `topic` as account `user` (QoS 1); the exit
    /// code of mosquitto_pub.
    pub fn publish(&self, user: &str, topic: &str, payload: &str, retain: bool) -> i32 {
        let mut c = self.client("mosquitto_pub", user);
        c.args(["-q", "1", "-t", topic, "-m", payload]);
        if retain {
            c.arg("-r");
        }
        c.status().map(|s| s.code().unwrap_or(-1)).unwrap_or(-1)
    }

    /// The messages on `topic` (a filter) that account `user` receives
    /// within `wait` (retained ones included), as (topic, payload); at
    /// most `count`.
    pub fn messages(
        &self,
        user: &str,
        topic: &str,
        count: usize,
        wait: Duration,
    ) -> Vec<(String, String)> {
        let mut c = self.client("mosquitto_sub", user);
        c.args(["-q", "1", "-v", "-t", topic, "-C", &count.to_string()])
            .args(["-W", &wait.as_secs().max(1).to_string()]);
        let out = c.output().expect("mosquitto_sub");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(t, p)| (t.to_string(), p.to_string()))
            .collect()
    }

    fn client(&self, tool: &str, user: &str) -> Command {
        let mut c = Command::new(tool);
        c.args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-u", user, "-P", &self.password(user)])
            .args(["-i", &format!("test-{}", secret())])
            .stdin(Stdio::null());
        c
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs the shipped add-box.sh for one account, in `dir` (where it writes
/// NAME.secret), with the broker's files in `conf_dir`.
fn add_account(dir: &Path, conf_dir: &Path, args: &[&str]) {
    let script = super::repo().join("deploy/district/add-box.sh");
    let out = Command::new("sh")
        .arg(&script)
        .args(args)
        .current_dir(dir)
        .env("LOA_MOSQUITTO_DIR", conf_dir)
        .env("LOA_BOX_PASSWORD", secret())
        .output()
        .expect("sh add-box.sh");
    assert!(
        out.status.success(),
        "add-box.sh {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A client subscribed (the broker has confirmed it) as some account,
/// gathering what arrives.
pub struct Listener {
    rx: std::sync::mpsc::Receiver<(String, String)>,
    got: Vec<(String, String)>,
    client: rumqttc::Client,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Drop for Listener {
    /// Disconnects: a kept session waits on the broker for its next use.
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Release);
        let _ = self.client.try_disconnect();
    }
}

impl Mosquitto {
    /// Subscribes to `topic` (a filter) as account `user`, and returns once
    /// the broker has confirmed the subscription. `session`: a client id
    /// whose session the broker keeps (clean session off), so that what
    /// arrives while it is away waits for it; None: a fresh one.
    pub fn listen(&self, user: &str, topic: &str, session: Option<&str>) -> Listener {
        use rumqttc::{Client, Event, MqttOptions, Packet, QoS};
        let id = session.map_or_else(|| format!("test-{}", secret()), str::to_string);
        let mut o = MqttOptions::new(id, "127.0.0.1", self.port);
        o.set_credentials(user, self.password(user));
        o.set_clean_session(session.is_none());
        o.set_max_packet_size(16 << 20, 16 << 20);
        o.set_keep_alive(Duration::from_secs(5));
        let (client, mut conn) = Client::new(o, 64);
        client.subscribe(topic, QoS::AtLeastOnce).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::spawn(move || {
            for ev in conn.iter() {
                if stopped.load(std::sync::atomic::Ordering::Acquire) {
                    return;
                }
                match ev {
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        let _ = ready_tx.send(());
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let text = String::from_utf8_lossy(&p.payload).into_owned();
                        if tx.send((p.topic.clone(), text)).is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(_) => std::thread::sleep(Duration::from_millis(200)),
                }
            }
        });
        ready_rx
            .recv_timeout(START_WITHIN)
            .unwrap_or_else(|_| panic!("no subscription to {topic} as {user}\n{}", self.output()));
        Listener {
            rx,
            got: Vec::new(),
            client,
            stop,
        }
    }
}

impl Listener {
    /// Waits until `done` holds for what arrived so far (or `limit`
    /// passes: then fails with `what` and what arrived); all that arrived.
    pub fn until(
        &mut self,
        limit: Duration,
        what: &str,
        done: impl Fn(&[(String, String)]) -> bool,
    ) -> Vec<(String, String)> {
        let t = Instant::now();
        loop {
            while let Ok(m) = self.rx.try_recv() {
                self.got.push(m);
            }
            if done(&self.got) {
                return self.got.clone();
            }
            assert!(
                t.elapsed() < limit,
                "waited {limit:?} for {what}; arrived: {:#?}",
                self.got
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// What arrived within `wait`.
    pub fn gather(&mut self, wait: Duration) -> Vec<(String, String)> {
        std::thread::sleep(wait);
        while let Ok(m) = self.rx.try_recv() {
            self.got.push(m);
        }
        self.got.clone()
    }
}
