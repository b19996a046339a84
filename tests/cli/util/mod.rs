//! Test support for the integration tests: a throw-away loa installation per
//! test (config, playlists, audio and state folders in a temporary folder),
//! and running the real `loa` binary in it as an operator would. It must not
//! know anything of loa's insides: tests look only at what a user sees (exit
//! code, output, JSON).

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

pub mod fixtures;
pub mod icecast;
pub mod mosquitto;
pub mod service;
pub mod skip;
pub mod sound;
pub mod sshd;

/// The `loa` program under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_loa");

/// The config every test starts from: English messages, folders next to
/// the `config/` folder (resolved against the config file's own folder).
pub const DEFAULT_CONFIG: &str = r#"language = "en"

[paths]
audio = "../audio"
playlists = "../playlists"
state = "../state"
"#;

/// The repository's root (for the shipped config, playlists and samples).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A committed fixture under tests/data/.
pub fn data(name: &str) -> PathBuf {
    repo().join("tests/data").join(name)
}

/// tests/data/NAME.c built into a shared library for `LD_PRELOAD` (with
/// `cc`), once per run of the test binary; None (after saying so, which
/// fails the test under CI) without a C compiler.
pub fn c_shim(test: &str, name: &'static str) -> Option<PathBuf> {
    type Built = std::sync::Mutex<std::collections::HashMap<&'static str, Option<PathBuf>>>;
    static BUILT: std::sync::OnceLock<Built> = std::sync::OnceLock::new();
    let mut built = BUILT
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let so = built.entry(name).or_insert_with(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let out = dir.join(format!("{name}.so"));
        // Built aside and renamed into place: a loa started by another run
        // of the tests keeps the copy it loaded.
        let tmp = dir.join(format!("{name}.so.{}", std::process::id()));
        let ok = Command::new("cc")
            .args(["-shared", "-fPIC", "-O2", "-Wall", "-o"])
            .arg(&tmp)
            .arg(data(&format!("{name}.c")))
            .args(["-ldl", "-lpthread"])
            .status()
            .is_ok_and(|s| s.success());
        (ok && std::fs::rename(&tmp, &out).is_ok()).then_some(out)
    });
    if so.is_none() {
        skip::tool_missing(test, &format!("no C compiler (cc) for tests/data/{name}.c"));
    }
    so.clone()
}

/// A temporary loa installation: ROOT/config/loa.toml, ROOT/audio,
/// ROOT/playlists, and ROOT/state once loa has run.
pub struct TestEnv {
    _dir: TempDir,
    root: PathBuf,
}

impl TestEnv {
    /// An installation with [`DEFAULT_CONFIG`] and empty audio and playlists
    /// folders.
    pub fn new() -> TestEnv {
        TestEnv::with_config(DEFAULT_CONFIG)
    }

    /// An installation with this config text.
    pub fn with_config(config: &str) -> TestEnv {
        let dir = tempfile::tempdir().expect("a temporary folder");
        // Canonical, so that loa (which shows paths relative to its current
        // folder) and the tests agree on what is below what.
        let root = dir.path().canonicalize().expect("the temporary folder");
        let env = TestEnv { _dir: dir, root };
        env.write_config(config);
        std::fs::create_dir_all(env.path("audio")).unwrap();
        std::fs::create_dir_all(env.path("playlists")).unwrap();
        env
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A path below the installation's root.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    pub fn config_path(&self) -> PathBuf {
        self.path("config/loa.toml")
    }

    /// Writes a file below the root, creating its folders.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, contents).unwrap();
        p
    }

    /// Writes a file below the root as if it had been put there a while
    /// ago (a finished upload: loa leaves files written in the last
    /// seconds alone, as uploads in progress).
    pub fn write_old(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.write(rel, contents);
        age(&p);
        p
    }

    /// Replaces config/loa.toml.
    pub fn write_config(&self, text: &str) {
        self.write("config/loa.toml", text);
    }

    /// Writes playlists/NAME.
    pub fn write_playlist(&self, name: &str, contents: impl AsRef<[u8]>) {
        self.write(&format!("playlists/{name}"), contents);
    }

    /// Copies the repository's sample audio/SAMPLE to audio/SAMPLE.
    pub fn audio(&self, sample: &str) {
        self.audio_as(sample, sample);
    }

    /// Copies the repository's sample audio/SAMPLE to audio/DEST.
    pub fn audio_as(&self, sample: &str, dest: &str) {
        let to = self.path("audio").join(dest);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(repo().join("audio").join(sample), &to)
            .unwrap_or_else(|e| panic!("copying sample {sample}: {e}"));
        age(&to);
    }

    /// Copies the fixture tests/data/NAME to audio/DEST.
    pub fn fixture_as(&self, name: &str, dest: &str) {
        let to = self.path("audio").join(dest);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(data(name), &to).unwrap_or_else(|e| panic!("copying fixture {name}: {e}"));
        age(&to);
    }

    /// `loa --config ROOT/config/loa.toml ...`, run from ROOT.
    pub fn loa(&self) -> Loa {
        Loa::bare()
            .config(self.config_path())
            .current_dir(&self.root)
    }

    /// Runs `loa --config CONFIG ARGS...` from ROOT.
    pub fn run(&self, args: &[&str]) -> Output {
        self.loa().args(args).run()
    }

    /// `loa check --date DATE --days 1`.
    pub fn check(&self, date: &str) -> Output {
        self.run(&["check", "--date", date, "--days", "1"])
    }

    /// `loa plan --date DATE --json`, exit code 0 expected; the parsed JSON.
    pub fn plan_json(&self, date: &str) -> serde_json::Value {
        let out = self.run(&["plan", "--date", date, "--json"]);
        out.code(0);
        out.json()
    }
}

/// Sets a file's modification time a minute back: a finished upload, not
/// one still being written.
pub fn age(p: &Path) {
    let f = std::fs::File::options().write(true).open(p).unwrap();
    f.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(60))
        .unwrap();
}

/// One run of `loa` being set up: its arguments, environment and folder.
/// `LOA_CONFIG` and `LOA_LOG` are removed from the child's environment
/// unless the test sets them.
pub struct Loa {
    config: Option<PathBuf>,
    args: Vec<OsString>,
    envs: Vec<(String, OsString)>,
    cwd: Option<PathBuf>,
    /// A run still going after this long is killed and fails the test: a
    /// hang (the amplifier left on) must fail, not stall the suite.
    limit: std::time::Duration,
}

/// How long one run of loa may take unless the test says otherwise.
pub const RUN_LIMIT: std::time::Duration = std::time::Duration::from_secs(180);

/// An XDG_CONFIG_HOME whose asoundrc makes ALSA's default a `null` device.
pub fn null_card() -> &'static Path {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("null-card");
        std::fs::create_dir_all(dir.join("alsa")).unwrap();
        let rc = dir.join("alsa/asoundrc");
        let text = "pcm.!default { type null }\n";
        if std::fs::read_to_string(&rc).ok().as_deref() != Some(text) {
            let tmp = dir.join(format!("alsa/asoundrc.{}", std::process::id()));
            std::fs::write(&tmp, text).unwrap();
            std::fs::rename(&tmp, &rc).unwrap();
        }
        dir
    })
}

/// Runs `cmd` to the end, collecting its output; kills it and fails the
/// test if it takes longer than `limit`.
fn output_within(mut cmd: Command, limit: std::time::Duration) -> std::process::Output {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running loa");
    let read = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
    };
    let out = read(Box::new(child.stdout.take().unwrap()));
    let err = read(Box::new(child.stderr.take().unwrap()));
    let t = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("waiting for loa") {
            break s;
        }
        if t.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            let (o, e) = (out.join().unwrap(), err.join().unwrap());
            panic!(
                "loa still running after {limit:?}: killed\n--- stdout ---\n{}\n--- stderr ---\n{}",
                String::from_utf8_lossy(&o),
                String::from_utf8_lossy(&e)
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    std::process::Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

impl Loa {
    /// `loa` with no --config and the test's own current folder.
    pub fn bare() -> Loa {
        Loa {
            config: None,
            args: Vec::new(),
            envs: Vec::new(),
            cwd: None,
            limit: RUN_LIMIT,
        }
    }

    /// Passes `--config PATH` before the subcommand.
    pub fn config(mut self, path: impl Into<PathBuf>) -> Loa {
        self.config = Some(path.into());
        self
    }

    pub fn args(mut self, args: &[&str]) -> Loa {
        self.args.extend(args.iter().map(OsString::from));
        self
    }

    pub fn env(mut self, key: &str, value: impl Into<OsString>) -> Loa {
        self.envs.push((key.into(), value.into()));
        self
    }

    /// Fails the test if this run takes longer than `limit`.
    pub fn within(mut self, limit: std::time::Duration) -> Loa {
        self.limit = limit;
        self
    }

    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Loa {
        self.cwd = Some(dir.into());
        self
    }

    /// Runs loa to the end. Fails the test if it panicked, whatever the test
    /// goes on to check: no input may make loa panic.
    pub fn run(self) -> Output {
        let mut cmd = Command::new(BIN);
        cmd.env_remove("LOA_CONFIG").env_remove("LOA_LOG");
        // A machine without a sound card: unless the test attaches its own
        // card, ALSA's default is a `null` device that takes any sound, so
        // `loa check` finds a device as on a box.
        cmd.env("XDG_CONFIG_HOME", null_card());
        if let Some(c) = &self.config {
            cmd.arg("--config").arg(c);
        }
        cmd.args(&self.args);
        for (k, v) in &self.envs {
            cmd.env(k, v);
        }
        if let Some(d) = &self.cwd {
            cmd.current_dir(d);
        }
        let out = output_within(cmd, self.limit);
        let mut shown = vec![OsString::from("loa")];
        if let Some(c) = &self.config {
            shown.push("--config".into());
            shown.push(c.clone().into_os_string());
        }
        shown.extend(self.args.iter().cloned());
        let output = Output {
            command: shown
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(" "),
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        assert!(
            !output.stderr.contains("panicked") && output.code != Some(101),
            "loa panicked\n{output}"
        );
        output
    }
}

/// What one run of loa showed.
pub struct Output {
    pub command: String,
    /// None when killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "$ {}", self.command)?;
        writeln!(f, "exit code: {:?}", self.code)?;
        writeln!(f, "--- stdout ---\n{}", self.stdout)?;
        write!(f, "--- stderr ---\n{}", self.stderr)
    }
}

impl Output {
    /// Asserts the exit code.
    pub fn code(&self, expected: i32) -> &Output {
        assert_eq!(self.code, Some(expected), "unexpected exit code\n{self}");
        self
    }

    /// Every line of stdout, then of stderr.
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.stdout.lines().chain(self.stderr.lines())
    }

    /// The problem lines (`PATH:LINE:COL: error: ...`) with this severity.
    pub fn problems(&self, severity: &str) -> Vec<&str> {
        let tag = format!(": {severity}: ");
        self.lines().filter(|l| l.contains(&tag)).collect()
    }

    /// Asserts a problem line `LOCATION: SEVERITY: ...` whose message holds
    /// `phrase`; returns that line. `location` is `PATH:LINE:COL`.
    pub fn problem(&self, location: &str, severity: &str, phrase: &str) -> &str {
        let start = format!("{location}: {severity}: ");
        self.lines()
            .find(|l| l.starts_with(&start) && l[start.len()..].contains(phrase))
            .unwrap_or_else(|| {
                panic!("no line starting {start:?} and containing {phrase:?}\n{self}")
            })
    }

    /// Asserts an error at `location` whose message holds `phrase`.
    pub fn error_at(&self, location: &str, phrase: &str) -> &str {
        self.problem(location, "error", phrase)
    }

    /// Asserts that no line reports an error.
    pub fn no_errors(&self) -> &Output {
        let errors = self.problems("error");
        assert!(errors.is_empty(), "unexpected errors {errors:#?}\n{self}");
        self
    }

    /// Asserts stdout holds `text`.
    pub fn says(&self, text: &str) -> &Output {
        assert!(self.stdout.contains(text), "stdout lacks {text:?}\n{self}");
        self
    }

    /// Stdout parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{self}"))
    }
}

/// A JSON string field, or the test fails.
pub fn text<'a>(v: &'a serde_json::Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key:?} is not a string in {v:#}"))
}

/// A JSON array field, or the test fails.
pub fn list<'a>(v: &'a serde_json::Value, key: &str) -> &'a [serde_json::Value] {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key:?} is not a list in {v:#}"))
}

/// An RFC 3339 time field as an instant.
pub fn instant(v: &serde_json::Value, key: &str) -> jiff::Timestamp {
    let s = text(v, key);
    s.parse()
        .unwrap_or_else(|e| panic!("{key:?} = {s:?} is not RFC 3339: {e}"))
}

/// Milliseconds from `a` to `b`.
pub fn ms_between(a: jiff::Timestamp, b: jiff::Timestamp) -> i64 {
    b.as_millisecond() - a.as_millisecond()
}
