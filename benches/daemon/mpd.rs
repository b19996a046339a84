//! mpd, the peer the daemon bench measures loa beside: started with its
//! own config in a temporary folder, and a client for its socket (one
//! command per connection). It takes no figures itself.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use crate::install::paced_card;
use crate::process::{Proc, tempdir};
use crate::utf8;

/// A running mpd in its temporary folder; stopped when dropped.
pub struct Mpd {
    pub proc: Proc,
    pub config: PathBuf,
    pub socket: PathBuf,
    _dir: tempfile::TempDir,
}

impl Mpd {
    /// Starts `mpd --no-daemon CONFIG` in a temporary folder, with `music`
    /// (if any) as its only file, and an ALSA output into the stand-in
    /// (`alsa` = XDG_CONFIG_HOME and the capture) or a null output.
    pub fn start(label: &str, music: Option<&Path>, alsa: Option<(&Path, &Path)>) -> Result<Mpd> {
        let dir = tempdir(&format!("mpd-{label}"))?;
        let root = dir.path().canonicalize()?;
        let music_dir = root.join("music");
        std::fs::create_dir_all(&music_dir)?;
        if let Some(m) = music {
            std::fs::copy(m, music_dir.join("music.mp3"))?;
        }
        let socket = root.join("mpd.sock");
        let output = if alsa.is_some() {
            "audio_output {\n  type \"alsa\"\n  name \"stand-in\"\n  device \"default\"\n  mixer_type \"none\"\n}\n"
        } else {
            "audio_output {\n  type \"null\"\n  name \"null\"\n}\n"
        };
        let config = root.join("mpd.conf");
        std::fs::write(
            &config,
            format!(
                "music_directory {:?}\nplaylist_directory {:?}\ndb_file {:?}\nstate_file {:?}\n\
                 bind_to_address {:?}\nzeroconf_enabled \"no\"\n{output}",
                utf8(&music_dir)?,
                utf8(&music_dir)?,
                utf8(&root.join("database"))?,
                utf8(&root.join("state"))?,
                utf8(&socket)?,
            ),
        )?;
        let mut cmd = Command::new("mpd");
        cmd.arg("--no-daemon")
            .arg("--stderr")
            .arg(&config)
            .stdin(Stdio::null());
        if let Some((xdg, capture)) = alsa {
            cmd.env("XDG_CONFIG_HOME", xdg)
                .env("LOA_TEST_CAPTURE", paced_card(capture));
        }
        let mut proc = Proc::spawn("mpd", cmd, root.join("mpd.log"))?;
        let t = Instant::now();
        loop {
            if !proc.alive() {
                bail!("mpd ended at start:\n{}", proc.log_text());
            }
            if mpd_request(&socket, "ping").is_ok() {
                break;
            }
            if t.elapsed() > Duration::from_secs(20) {
                bail!("mpd did not answer within 20 s:\n{}", proc.log_text());
            }
            thread::sleep(Duration::from_millis(50));
        }
        Ok(Mpd {
            proc,
            config,
            socket,
            _dir: dir,
        })
    }

    pub fn command(&self, cmd: &str) -> Result<String> {
        mpd_request(&self.socket, cmd)
    }

    /// Updates the database and waits until mpd has finished it.
    pub fn wait_for_database(&self) -> Result<()> {
        self.command("update")?;
        let t = Instant::now();
        loop {
            let status = self.command("status")?;
            if !status.lines().any(|l| l.starts_with("updating_db:")) {
                let found = self.command("listall")?;
                if found.lines().any(|l| l == "file: music.mp3") {
                    return Ok(());
                }
            }
            if t.elapsed() > Duration::from_secs(20) {
                bail!("mpd's database does not list music.mp3");
            }
            thread::sleep(Duration::from_millis(100));
        }
    }
}

/// One command on a new connection to mpd's socket; its answer up to `OK`.
fn mpd_request(socket: &Path, cmd: &str) -> Result<String> {
    let mut s = UnixStream::connect(socket)?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.set_write_timeout(Some(Duration::from_secs(5)))?;
    let mut r = BufReader::new(s.try_clone()?);
    let mut line = String::new();
    r.read_line(&mut line)?;
    if !line.starts_with("OK MPD") {
        bail!("mpd greeted with {line:?}");
    }
    s.write_all(format!("{cmd}\n").as_bytes())?;
    let mut out = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            bail!("mpd closed the connection after {cmd:?}");
        }
        if line == "OK\n" {
            return Ok(out);
        }
        if line.starts_with("ACK") {
            bail!("mpd answered {cmd:?} with {}", line.trim_end());
        }
        out.push_str(&line);
    }
}

pub fn mpd_version() -> Option<String> {
    let out = Command::new("mpd").arg("--version").output().ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .map(str::to_string)
}
