//! The bench's children and temporary folders, stopped and removed on
//! every way out: a long-running child stopped when dropped, a short
//! command run to its end with a timeout, and on Ctrl-C or SIGTERM every
//! child stopped and every folder removed. It knows nothing of loa or mpd.

use std::fs::File;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// The children alive now, for the signal handler.
static CHILDREN: Mutex<Vec<u32>> = Mutex::new(Vec::new());
/// A signal came: the children are being stopped, the run ends.
pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// The temporary folders, for the signal handler.
static TEMP_DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

pub fn tempdir(label: &str) -> Result<tempfile::TempDir> {
    let d = tempfile::Builder::new()
        .prefix(&format!("loa-bench-{label}-"))
        .tempdir()?;
    lock(&TEMP_DIRS).push(d.path().to_path_buf());
    Ok(d)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// On Ctrl-C or SIGTERM: the children get SIGTERM (loa switches its relay
/// off), then SIGKILL; the temporary folders go; exit 130.
pub fn stop_children_on_signal() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        eprintln!("warning: cannot catch signals; an interrupted run may leave children");
        return;
    };
    thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            INTERRUPTED.store(true, Ordering::SeqCst);
            let pids = lock(&CHILDREN).clone();
            for pid in &pids {
                send_signal(*pid, "TERM");
            }
            thread::sleep(Duration::from_secs(1));
            for pid in &pids {
                send_signal(*pid, "KILL");
            }
            for d in lock(&TEMP_DIRS).iter() {
                let _ = std::fs::remove_dir_all(d);
            }
            eprintln!("\ninterrupted (signal {sig}): children stopped");
            std::process::exit(130);
        }
    });
}

fn send_signal(pid: u32, sig: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// A long-running child with its output in a log file; stopped (SIGTERM,
/// then SIGKILL after 5 s) when dropped.
pub struct Proc {
    name: String,
    child: Child,
    log: PathBuf,
    reaped: bool,
}

impl Proc {
    pub fn spawn(name: &str, mut cmd: Command, log: PathBuf) -> Result<Proc> {
        let out = File::create(&log)?;
        let err = out.try_clone()?;
        let child = cmd
            .stdout(out)
            .stderr(err)
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        lock(&CHILDREN).push(child.id());
        Ok(Proc {
            name: name.to_string(),
            child,
            log,
            reaped: false,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn alive(&mut self) -> bool {
        if self.reaped {
            return false;
        }
        match self.child.try_wait() {
            Ok(None) => true,
            _ => {
                self.reaped = true;
                lock(&CHILDREN).retain(|p| *p != self.child.id());
                false
            }
        }
    }

    pub fn log_text(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        format!("--- {} ({}) ---\n{text}", self.name, self.log.display())
    }

    pub fn stop(&mut self) {
        if !self.alive() {
            return;
        }
        send_signal(self.pid(), "TERM");
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(5) {
            if !self.alive() {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        eprintln!("{} did not end on SIGTERM within 5 s: killed", self.name);
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.reaped = true;
        lock(&CHILDREN).retain(|p| *p != self.child.id());
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.stop();
    }
}

/// How a short command ended (no code: a signal) and what it printed.
pub struct Out {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs a short command to its end, killed after `timeout`.
pub fn run_with_timeout(mut cmd: Command, timeout: Duration) -> Result<Out> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting a command")?;
    lock(&CHILDREN).push(child.id());
    let mut so = child.stdout.take().context("stdout")?;
    let mut se = child.stderr.take().context("stderr")?;
    let ro = thread::spawn(move || {
        let mut s = String::new();
        let _ = so.read_to_string(&mut s);
        s
    });
    let re = thread::spawn(move || {
        let mut s = String::new();
        let _ = se.read_to_string(&mut s);
        s
    });
    let t = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait()? {
            break Some(st);
        }
        if t.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(5));
    };
    lock(&CHILDREN).retain(|p| *p != child.id());
    let (stdout, stderr) = (ro.join().unwrap_or_default(), re.join().unwrap_or_default());
    let Some(status) = status else {
        bail!("{cmd:?} did not end within {timeout:?}");
    };
    Ok(Out {
        code: status.code(),
        stdout,
        stderr,
    })
}
