//! Test support for driving `loa run` as a child process: a handle that
//! always kills the service when the test ends (even on a failed assert),
//! waiting until it answers on its control socket, `loa status --json` and
//! `loa log --json`, the relay's edges from the sim-file, and wall-clock
//! times a few seconds from now in the commune's zone. Like the rest of
//! `util`, it knows nothing of loa's insides.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::sound::SoundCard;
use super::{BIN, TestEnv};

/// How long a freshly started service may take to answer `loa status`.
const READY_WITHIN: Duration = Duration::from_secs(10);
/// How often the tests look again while waiting.
const POLL: Duration = Duration::from_millis(50);

/// A running `loa run`. Dropping it kills the process (SIGKILL) and reaps
/// it, so that no test leaves a service (and its paced sound card) behind.
pub struct Service {
    child: Option<Child>,
    /// Where the service's stdout and stderr go (LOA_LOG=info), shown when
    /// a test fails.
    out: PathBuf,
    err: PathBuf,
}

impl Service {
    /// Starts `loa --config CONFIG run` from the installation's root with
    /// this sound card, and waits until it answers `loa status`.
    pub fn start(env: &TestEnv, card: &SoundCard) -> Service {
        let mut svc = Service::spawn(env, card);
        svc.wait_ready(env);
        svc
    }

    /// Starts the service without waiting for it. Each start in the same
    /// installation logs to its own files (a restart keeps the first's).
    pub fn spawn(env: &TestEnv, card: &SoundCard) -> Service {
        Service::spawn_with(env, card, &[])
    }

    /// Starts the service with these extra environment variables, and waits
    /// until it answers `loa status`.
    pub fn start_with(
        env: &TestEnv,
        card: &SoundCard,
        vars: &[(&str, &std::ffi::OsStr)],
    ) -> Service {
        let mut svc = Service::spawn_with(env, card, vars);
        svc.wait_ready(env);
        svc
    }

    /// Starts `loa ARGS... run` from the installation's root, the config
    /// found as ARGS and VARS say (a relative `--config`, `LOA_CONFIG`, or
    /// nothing: ./config/loa.toml), and waits until it answers.
    pub fn start_found(
        env: &TestEnv,
        card: &SoundCard,
        args: &[&str],
        vars: &[(&str, &std::ffi::OsStr)],
    ) -> Service {
        let mut svc = Service::spawn_args(env, card, args, vars);
        svc.wait_ready(env);
        svc
    }

    fn spawn_with(env: &TestEnv, card: &SoundCard, vars: &[(&str, &std::ffi::OsStr)]) -> Service {
        let config = env.config_path();
        let config = config.to_str().unwrap();
        Service::spawn_args(env, card, &["--config", config], vars)
    }

    fn spawn_args(
        env: &TestEnv,
        card: &SoundCard,
        args: &[&str],
        vars: &[(&str, &std::ffi::OsStr)],
    ) -> Service {
        let n = (1..)
            .find(|n| !env.path(&format!("run-{n}.err")).exists())
            .unwrap();
        let out = env.path(&format!("run-{n}.out"));
        let err = env.path(&format!("run-{n}.err"));
        let child = Command::new(BIN)
            .env_remove("LOA_CONFIG")
            .env_remove("NOTIFY_SOCKET")
            .env_remove("WATCHDOG_USEC")
            .env("LOA_LOG", "info")
            .env("XDG_CONFIG_HOME", card.xdg())
            .env("LOA_TEST_CAPTURE", card.capture_path())
            .envs(vars.iter().copied())
            .args(args)
            .arg("run")
            .current_dir(env.root())
            .stdin(Stdio::null())
            .stdout(File::create(&out).unwrap())
            .stderr(File::create(&err).unwrap())
            .spawn()
            .expect("starting loa run");
        Service {
            child: Some(child),
            out,
            err,
        }
    }

    fn child(&mut self) -> &mut Child {
        self.child
            .as_mut()
            .expect("the service was already waited for")
    }

    /// The process id, for signals.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("a running service").id()
    }

    /// What the service printed so far (stdout, then stderr), for messages.
    pub fn output(&self) -> String {
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        format!(
            "--- loa run stdout ---\n{}--- loa run stderr ---\n{}",
            read(&self.out),
            read(&self.err)
        )
    }

    /// Polls `loa status --json` until the service answers; fails the test
    /// if it exits first or takes longer than READY_WITHIN.
    pub fn wait_ready(&mut self, env: &TestEnv) {
        let t = Instant::now();
        loop {
            if env.run(&["status", "--json"]).code == Some(0) {
                return;
            }
            if let Some(status) = self.child().try_wait().expect("waiting for loa run") {
                self.child = None;
                panic!(
                    "loa run exited ({status}) before answering\n{}",
                    self.output()
                );
            }
            assert!(
                t.elapsed() < READY_WITHIN,
                "loa run did not answer `loa status` within {READY_WITHIN:?}\n{}",
                self.output()
            );
            std::thread::sleep(POLL);
        }
    }

    /// Sends a signal by name ("TERM", "KILL"...).
    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.pid().to_string())
            .status()
            .expect("running kill")
            .success();
        assert!(ok, "kill -{sig} {} failed", self.pid());
    }

    /// Waits up to `limit` for the process to end; its exit status, or the
    /// test fails.
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let t = Instant::now();
        loop {
            if let Some(status) = self.child().try_wait().expect("waiting for loa run") {
                self.child = None;
                return status;
            }
            assert!(
                t.elapsed() < limit,
                "loa run still running {limit:?} later\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `loa status --json` (exit 0 expected), parsed.
pub fn status(env: &TestEnv) -> serde_json::Value {
    let out = env.run(&["status", "--json"]);
    out.code(0);
    out.json()
}

/// `loa log --date DATE --json` (exit 0 expected): its rows.
pub fn log(env: &TestEnv, date: &str) -> Vec<serde_json::Value> {
    let out = env.run(&["log", "--date", date, "--json"]);
    out.code(0);
    match out.json() {
        serde_json::Value::Array(rows) => rows,
        other => panic!("`loa log --json` is not an array: {other:#}\n{out}"),
    }
}

/// The relay's edges from a sim-file: (time, on), in file order.
pub fn relay_edges(sim_file: &Path) -> Vec<(Timestamp, bool)> {
    let text = std::fs::read_to_string(sim_file).unwrap_or_default();
    text.lines()
        .map(|l| {
            let (ts, state) = l
                .split_once(' ')
                .unwrap_or_else(|| panic!("bad sim-file line {l:?}"));
            let t: Timestamp = ts.parse().unwrap_or_else(|e| panic!("{ts:?}: {e}"));
            let on = match state {
                "on" => true,
                "off" => false,
                other => panic!("bad state {other:?} in {l:?}"),
            };
            (t, on)
        })
        .collect()
}

/// Polls `probe` until it gives a value; fails the test with `what` and
/// `context()` after `limit`.
pub fn wait_for<T>(
    limit: Duration,
    what: &str,
    context: impl Fn() -> String,
    mut probe: impl FnMut() -> Option<T>,
) -> T {
    let t = Instant::now();
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(
            t.elapsed() < limit,
            "waited {limit:?} for {what}\n{}",
            context()
        );
        std::thread::sleep(POLL);
    }
}

/// The commune's zone for one test, and wall-clock times in it. The zone is
/// Asia/Ho_Chi_Minh (loa's default) unless the test's window of times would
/// cross its local midnight (a day's playlist cannot hold them), then
/// Asia/Dubai, three hours behind.
pub struct Commune {
    pub zone: &'static str,
    tz: TimeZone,
}

impl Commune {
    /// A zone in which now − `before` .. now + `after` is one local day.
    pub fn for_window(before: Duration, after: Duration) -> Commune {
        let now = Timestamp::now();
        let from = now - before;
        let to = now + after;
        for zone in ["Asia/Ho_Chi_Minh", "Asia/Dubai"] {
            let tz = TimeZone::get(zone).unwrap();
            if local(&tz, from).date() == local(&tz, to).date() {
                return Commune { zone, tz };
            }
        }
        panic!("a window of {before:?} before and {after:?} after now fits no zone")
    }

    /// Today's date there, YYYY-MM-DD.
    pub fn today(&self) -> String {
        local(&self.tz, Timestamp::now()).date().to_string()
    }

    /// The local time `seconds` from now (negative: ago), truncated to the
    /// second, as a playlist's `at` ("HH:MM:SS"), and that instant.
    pub fn at(&self, seconds: i64) -> (String, Timestamp) {
        let t = Timestamp::now() + jiff::SignedDuration::from_secs(seconds);
        let whole = local(&self.tz, t)
            .with()
            .subsec_nanosecond(0)
            .build()
            .unwrap();
        let instant = self.tz.to_ambiguous_timestamp(whole).compatible().unwrap();
        let time = whole.time();
        let text = format!(
            "{:02}:{:02}:{:02}",
            time.hour(),
            time.minute(),
            time.second()
        );
        (text, instant)
    }

    /// The zone's UTC offset now, as RFC 3339 writes it ("+07:00").
    pub fn offset(&self) -> String {
        let o = self.tz.to_offset(Timestamp::now());
        let secs = o.seconds();
        let sign = if secs < 0 { '-' } else { '+' };
        let secs = secs.abs();
        format!("{sign}{:02}:{:02}", secs / 3600, secs % 3600 / 60)
    }
}

/// The local date and time of `t` in `tz`.
fn local(tz: &TimeZone, t: Timestamp) -> jiff::civil::DateTime {
    tz.to_offset(t).to_datetime(t)
}

/// Whether the kernel reports the system clock synchronised, as loa is
/// specified to judge it: systemd-timesyncd's flag file, else adjtimex(2)
/// without STA_UNSYNC. Tests use it to know which behaviour to expect.
#[allow(unsafe_code)]
pub fn kernel_clock_synced() -> bool {
    if Path::new("/run/systemd/timesync/synchronized").exists() {
        return true;
    }
    // SAFETY: `timex` is plain old data; zeroed with modes = 0, adjtimex
    // only reads the clock's state into it.
    let mut tx: libc::timex = unsafe { std::mem::zeroed() };
    // SAFETY: a valid, exclusively borrowed timex for the call's duration.
    let state = unsafe { libc::adjtimex(&mut tx) };
    state >= 0 && state != libc::TIME_ERROR && tx.status & libc::STA_UNSYNC == 0
}

/// A playlist with these broadcasts: (at, title, items).
/// `[audio]` for the service tests' tones: no normalisation, 1 s gaps.
pub const TONE_AUDIO: &str = "[audio]\nnormalize = false\ngap = \"1s\"\n";
/// `[schedule]` for a test machine whose clock may not be synchronised.
pub const ANY_CLOCK: &str = "[schedule]\nrequire-clock-sync = false\n";

/// The config the service tests share: English, the test's folders, the
/// simulated relay (sim-file `relay.log`, warm-up and hold 1 s), in the
/// time zone `zone` (the default one when None), then `tail` (more
/// tables).
pub fn service_config(zone: Option<&str>, tail: &str) -> String {
    let zone = zone
        .map(|z| format!("timezone = \"{z}\"\n"))
        .unwrap_or_default();
    format!(
        r#"language = "en"
{zone}[paths]
audio = "../audio"
playlists = "../playlists"
state = "../state"
[relay]
backend = "sim"
sim-file = "../relay.log"
warm-up = "1s"
hold = "1s"
{tail}"#
    )
}

pub fn broadcasts_toml(broadcasts: &[(&str, &str, &[&str])]) -> String {
    let mut toml = String::new();
    for (at, title, items) in broadcasts {
        let items: Vec<String> = items.iter().map(|i| format!("{i:?}")).collect();
        toml += &format!(
            "[[broadcast]]\nat = \"{at}\"\ntitle = \"{title}\"\nitems = [{}]\n\n",
            items.join(", ")
        );
    }
    toml
}

/// What to show when a wait or an assert on a service fails: the relay's
/// sim-file, the as-run log so far and the service's own output.
pub fn story(env: &TestEnv, svc: &Service) -> String {
    let relay = std::fs::read_to_string(env.path("relay.log")).unwrap_or_default();
    let log = env.run(&["log", "--json"]);
    format!(
        "--- relay.log ---\n{relay}--- loa log --json ---\n{}\n{}",
        log.stdout,
        svc.output()
    )
}
