//! A throw-away loa installation for `loa run` and its commands: a
//! temporary folder with the config, audio, playlists, state and asoundrc;
//! the paced card its ALSA output drains into; the relay's sim-file read
//! back as edges. It starts loa and reads what loa wrote; it measures
//! nothing itself.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, bail};
use jiff::Timestamp;
use serde_json::Value;

use crate::process::{Proc, run_with_timeout, tempdir};
use crate::{TZ, support, utf8};

/// A paced ALSA stand-in: a plug to S16_LE, 48 kHz, stereo into the `file`
/// plugin, which writes into a named pipe that a thread of this bench
/// drains at real time (`paced_card`, as tests/cli/util/sound.rs does). It
/// replaced `pv -L`, which earns burst credit while idle. With either, a few
/// of 20 first items come 0.07-1 s late now and then (not yet explained; see
/// the README). The times measured are loa's own: the relay's edges and the
/// hand-off of the first frames to ALSA.
///
/// A named pipe for ALSA's `file` plugin, drained at real time into
/// `capture` by a thread of this bench: 10 ms of sound every 10 ms, a pipe
/// buffer of one page (21 ms), and no catching up after a pause (a real
/// card takes nothing while the stream is paused and bursts nothing after).
/// The thread lives until the bench ends.
pub fn paced_card(capture: &Path) -> PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "loa-bench-card-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a folder for the paced card");
    let fifo = dir.join("card");
    let card =
        loa::player::standin::PacedCapture::start(&fifo, capture).expect("the paced card's thread");
    // It drains the pipe until the bench ends.
    std::mem::forget(card);
    fifo
}

/// A throw-away loa installation; its folder goes when it is dropped.
pub struct Install {
    _dir: tempfile::TempDir,
    loa: PathBuf,
    pub root: PathBuf,
    pub config: PathBuf,
    audio: PathBuf,
    playlists: PathBuf,
    pub sim_file: PathBuf,
    xdg: PathBuf,
}

impl Install {
    pub fn new(loa: &Path, label: &str, warm_up: &str, hold: &str) -> Result<Install> {
        let dir = tempdir(label)?;
        let root = dir.path().canonicalize()?;
        let audio = root.join("audio");
        let playlists = root.join("playlists");
        let state = root.join("state");
        let xdg = root.join("xdg");
        for d in [&audio, &playlists, &state] {
            std::fs::create_dir_all(d)?;
        }
        support::standin::write_asoundrc(&xdg)?;
        let sim_file = state.join("relay.log");
        let config = root.join("loa.toml");
        std::fs::write(
            &config,
            format!(
                r#"language = "en"
timezone = "{TZ}"

[paths]
audio = {audio:?}
playlists = {playlists:?}
state = {state:?}

[relay]
backend = "sim"
sim-file = {sim_file:?}
warm-up = "{warm_up}"
hold = "{hold}"

[schedule]
require-clock-sync = false
"#,
                audio = utf8(&audio)?,
                playlists = utf8(&playlists)?,
                state = utf8(&state)?,
                sim_file = utf8(&sim_file)?,
            ),
        )?;
        Ok(Install {
            _dir: dir,
            loa: loa.to_path_buf(),
            root,
            config,
            audio,
            playlists,
            sim_file,
            xdg,
        })
    }

    /// Copies `from` into the audio folder as `name`, dated an hour back,
    /// as a file that airs has lain in the folder long before: loa takes a
    /// file written in the last seconds for an upload under way, and
    /// neither plans nor checks it until it has been quiet for a while.
    pub fn add_audio(&self, from: &Path, name: &str) -> Result<()> {
        let to = self.audio.join(name);
        std::fs::copy(from, &to).with_context(|| format!("copying {}", from.display()))?;
        std::fs::File::options()
            .write(true)
            .open(&to)
            .and_then(|f| f.set_modified(SystemTime::now() - Duration::from_secs(3600)))
            .with_context(|| format!("dating {} an hour back", to.display()))?;
        Ok(())
    }

    pub fn write_playlist(&self, date: &str, text: &str) -> Result<()> {
        std::fs::write(self.playlists.join(format!("{date}.toml")), text)?;
        Ok(())
    }

    /// Probes the files into the media index (loudness, SHA-256) through a
    /// far-off day's plan, as any file is probed long before it airs.
    pub fn warm_index(&self, files: &[&str]) -> Result<()> {
        let items: Vec<String> = files.iter().map(|f| format!("{f:?}")).collect();
        let date = "2099-01-01";
        self.write_playlist(
            date,
            &format!(
                "[[broadcast]]\nat = \"12:00\"\nitems = [{}]\n",
                items.join(", ")
            ),
        )?;
        self.json(&["plan", "--date", date, "--json"])?;
        std::fs::remove_file(self.playlists.join(format!("{date}.toml")))?;
        Ok(())
    }

    pub fn command(&self, args: &[&str], capture: &Path) -> Command {
        let mut c = Command::new(&self.loa);
        c.arg("--config")
            .arg(&self.config)
            .args(args)
            .current_dir(&self.root)
            .env("XDG_CONFIG_HOME", &self.xdg)
            .env("LOA_TEST_CAPTURE", paced_card(capture))
            .env_remove("LOA_CONFIG")
            .env_remove("LOA_LOG")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null());
        c
    }

    /// Runs `loa ARGS` to its end; its stdout as JSON (exit code 0 expected).
    pub fn json(&self, args: &[&str]) -> Result<Value> {
        let out = run_with_timeout(
            self.command(args, Path::new("/dev/null")),
            Duration::from_secs(60),
        )?;
        if out.code != Some(0) {
            bail!(
                "loa {} exited with {:?}:\n{}{}",
                args.join(" "),
                out.code,
                out.stdout,
                out.stderr
            );
        }
        serde_json::from_str(&out.stdout)
            .with_context(|| format!("loa {}: not JSON:\n{}", args.join(" "), out.stdout))
    }

    pub fn start(&self) -> Result<Proc> {
        self.start_with_capture(Path::new("/dev/null"))
    }

    /// Starts `loa run` and waits until `loa status --json` answers.
    pub fn start_with_capture(&self, capture: &Path) -> Result<Proc> {
        let mut p = Proc::spawn(
            "loa run",
            self.command(&["run"], capture),
            self.root.join("loa-run.log"),
        )?;
        let t = Instant::now();
        loop {
            if !p.alive() {
                bail!("loa run ended at start:\n{}", p.log_text());
            }
            let out = run_with_timeout(
                self.command(&["status", "--json"], Path::new("/dev/null")),
                Duration::from_secs(5),
            )?;
            if out.code == Some(0) && serde_json::from_str::<Value>(&out.stdout).is_ok() {
                return Ok(p);
            }
            if t.elapsed() > Duration::from_secs(20) {
                bail!(
                    "`loa status --json` did not answer within 20 s:\n{}{}\nloa run:\n{}",
                    out.stdout,
                    out.stderr,
                    p.log_text()
                );
            }
            thread::sleep(Duration::from_millis(50));
        }
    }
}

/// One line of the sim-file: the relay went on or off at `at`.
pub struct Edge {
    pub at: Timestamp,
    pub on: bool,
}

/// The edges of the sim-file: `2026-01-20T05:59:57.003+07:00 on` lines.
pub fn read_sim_file(path: &Path) -> Vec<Edge> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let (t, level) = l.split_once(' ')?;
            let on = match level.trim() {
                "on" => true,
                "off" => false,
                _ => return None,
            };
            Some(Edge {
                at: t.parse().ok()?,
                on,
            })
        })
        .collect()
}
