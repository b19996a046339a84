//! A throw-away Internet radio station for the relay bench: Debian's
//! `icecast2` on a free port of 127.0.0.1 with a config in a temporary
//! folder, fed by `ffmpeg` sending an MP3 file, looped, at real-time speed
//! (`-re`, the frames copied as they are: the stream is that file's
//! bitstream). A trimmed copy of tests/cli/util/icecast.rs (a bench cannot
//! use the test harness): one server, one source, no fakes, no ICY titles.
//!
//! The server's config is Icecast's usual one where it matters to a
//! listener: a new listener gets a burst of [`BURST_SIZE`] bytes (Icecast's
//! default, about 4 s of 128 kb/s MP3), then the stream at the source's
//! pace. Run as root, Icecast is told to become nobody:nogroup
//! (`<changeowner>`: it refuses to run as root). Every wait is bounded, and
//! both programs are killed when their values are dropped.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tempfile::TempDir;

/// How long Icecast may take to answer, and the source to go live.
const START_WITHIN: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(20);
/// The burst a new listener gets (bytes): Icecast's default.
pub const BURST_SIZE: usize = 65_536;
/// What the source calls the station (listeners get it as `icy-name`).
const STATION_NAME: &str = "loa bench radio";

/// A throw-away Icecast server on 127.0.0.1, killed when dropped.
pub struct Icecast {
    port: u16,
    source_password: String,
    child: Child,
    dir: TempDir,
}

impl Icecast {
    /// Writes a config in a temporary folder, starts `icecast2 -c` on a
    /// free port and returns once it answers HTTP; an error (with Icecast's
    /// output and log) if it has not within [`START_WITHIN`]. A port taken
    /// between our look and Icecast's bind is tried again.
    pub fn start() -> Result<Icecast> {
        let mut failures = Vec::new();
        for _ in 0..3 {
            match Icecast::try_start() {
                Ok(ice) => return Ok(ice),
                Err((why, retry)) => {
                    failures.push(why);
                    if !retry {
                        break;
                    }
                }
            }
        }
        bail!("{}", failures.join("\n\n"))
    }

    /// One try; the error says whether the port was taken (worth a retry).
    fn try_start() -> Result<Icecast, (String, bool)> {
        let fail = |e: std::io::Error| (e.to_string(), false);
        let dir = tempfile::tempdir().map_err(fail)?;
        let port = free_port().map_err(fail)?;
        let logs = dir.path().join("log");
        std::fs::create_dir(&logs).map_err(fail)?;
        let root = is_root();
        if root {
            // Icecast opens its logs after becoming nobody.
            std::fs::set_permissions(dir.path(), PermissionsExt::from_mode(0o755)).map_err(fail)?;
            std::fs::set_permissions(&logs, PermissionsExt::from_mode(0o777)).map_err(fail)?;
        }
        let source_password = secret();
        let config = dir.path().join("icecast.xml");
        let xml = config_xml(port, &source_password, dir.path(), &logs, root);
        std::fs::write(&config, xml).map_err(fail)?;
        let out = std::fs::File::create(dir.path().join("output")).map_err(fail)?;
        let child = Command::new("icecast2")
            .arg("-c")
            .arg(&config)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(out.try_clone().map_err(fail)?)
            .stderr(out)
            .spawn()
            .map_err(|e| (format!("running icecast2: {e}"), false))?;
        let mut ice = Icecast {
            port,
            source_password,
            child,
            dir,
        };
        let t = Instant::now();
        loop {
            if let Ok(Some(status)) = ice.child.try_wait() {
                let why = format!("icecast2 exited ({status}) on start\n{}", ice.logs());
                let taken = why.contains("Could not create listener socket");
                return Err((why, taken));
            }
            let answer = get(port, "/status-json.xsl");
            if answer.is_ok_and(|(status, body)| status == 200 && body.contains("Icecast")) {
                return Ok(ice);
            }
            if t.elapsed() > START_WITHIN {
                let why = format!(
                    "icecast2 not answering on port {port} after {START_WITHIN:?}\n{}",
                    ice.logs()
                );
                return Err((why, false));
            }
            std::thread::sleep(POLL);
        }
    }

    /// `http://127.0.0.1:PORT/MOUNT`.
    pub fn url(&self, mount: &str) -> String {
        format!("http://127.0.0.1:{}/{}", self.port, bare(mount))
    }

    /// Whether a source is on `mount` (Icecast's /status-json.xsl lists
    /// its URL).
    pub fn mount_live(&self, mount: &str) -> bool {
        let url = format!("\"listenurl\":\"{}\"", self.url(mount));
        get(self.port, "/status-json.xsl").is_ok_and(|(s, body)| s == 200 && body.contains(&url))
    }

    /// What Icecast said: its standard output and error, and its error log.
    pub fn logs(&self) -> String {
        let read = |p: PathBuf| std::fs::read_to_string(p).unwrap_or_default();
        format!(
            "--- icecast2's output ---\n{}\n--- icecast2's error.log ---\n{}",
            read(self.dir.path().join("output")),
            read(self.dir.path().join("log/error.log"))
        )
    }
}

impl Drop for Icecast {
    fn drop(&mut self) {
        // SIGKILL: SIGTERM makes Icecast take a second to shut down.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The throw-away config. The password is random; there is no admin.
fn config_xml(port: u16, source_password: &str, base: &Path, logs: &Path, root: bool) -> String {
    let owner = if root {
        "<changeowner><user>nobody</user><group>nogroup</group></changeowner>"
    } else {
        ""
    };
    format!(
        r#"<icecast>
  <location>loa bench</location>
  <admin>loa@localhost</admin>
  <hostname>127.0.0.1</hostname>
  <limits>
    <clients>16</clients>
    <sources>2</sources>
    <queue-size>524288</queue-size>
    <client-timeout>30</client-timeout>
    <header-timeout>15</header-timeout>
    <source-timeout>10</source-timeout>
    <burst-on-connect>1</burst-on-connect>
    <burst-size>{BURST_SIZE}</burst-size>
  </limits>
  <authentication>
    <source-password>{source_password}</source-password>
    <admin-user>admin</admin-user>
    <admin-password>{admin}</admin-password>
  </authentication>
  <listen-socket>
    <port>{port}</port>
    <bind-address>127.0.0.1</bind-address>
  </listen-socket>
  <fileserve>0</fileserve>
  <paths>
    <basedir>{base}</basedir>
    <logdir>{logs}</logdir>
    <webroot>/usr/share/icecast2/web</webroot>
    <adminroot>/usr/share/icecast2/admin</adminroot>
  </paths>
  <logging>
    <accesslog>access.log</accesslog>
    <errorlog>error.log</errorlog>
    <loglevel>2</loglevel>
  </logging>
  <security>
    <chroot>0</chroot>
    {owner}
  </security>
</icecast>
"#,
        admin = secret(),
        base = base.display(),
        logs = logs.display(),
    )
}

/// A source on a mount of an [`Icecast`]: ffmpeg sending an MP3 file,
/// looped for ever, at real-time speed, its frames copied as they are.
/// Killed when dropped.
pub struct Source {
    child: Child,
    /// ffmpeg's standard error.
    log: PathBuf,
}

impl Source {
    /// Starts ffmpeg on `mount` and waits until Icecast lists the mount;
    /// an error (with ffmpeg's errors) if it is not live within
    /// [`START_WITHIN`].
    pub fn start(ice: &Icecast, mount: &str, mp3: &Path) -> Result<Source> {
        let log = ice.dir.path().join("ffmpeg.log");
        let err = std::fs::File::create(&log)?;
        let child = Command::new("ffmpeg")
            .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-re"])
            .args(["-stream_loop", "-1", "-i"])
            .arg(mp3)
            .args(["-map", "0:a", "-c:a", "copy", "-f", "mp3"])
            .args(["-content_type", "audio/mpeg", "-ice_name", STATION_NAME])
            .arg(format!(
                "icecast://source:{}@127.0.0.1:{}/{}",
                ice.source_password,
                ice.port,
                bare(mount)
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .context("running ffmpeg")?;
        let mut source = Source { child, log };
        let t = Instant::now();
        while !ice.mount_live(mount) {
            let exited = source.child.try_wait()?;
            if exited.is_some() || t.elapsed() > START_WITHIN {
                let what = match exited {
                    Some(status) => format!("ffmpeg exited ({status})"),
                    None => format!("still not live after {START_WITHIN:?}"),
                };
                bail!(
                    "source on /{}: {what}\n--- ffmpeg's errors ---\n{}",
                    bare(mount),
                    source.errors()
                );
            }
            std::thread::sleep(POLL);
        }
        Ok(source)
    }

    /// Whether ffmpeg still runs (it sends for ever unless something
    /// broke).
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// What ffmpeg wrote to its standard error.
    pub fn errors(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Source {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET TARGET HTTP/1.0` to the server; the status and the body (for
/// requests that end), within a few seconds.
fn get(port: u16, target: &str) -> std::io::Result<(u16, String)> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(1))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.set_write_timeout(Some(Duration::from_secs(1)))?;
    let request =
        format!("GET {target} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: loa-bench\r\n\r\n");
    s.write_all(request.as_bytes())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let not_http = || std::io::Error::other(format!("GET {target}: not HTTP"));
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(not_http)?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(not_http)?;
    Ok((status, body.to_string()))
}

/// A port of 127.0.0.1 free a moment ago.
fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

/// 16 random hex digits (std's hasher keys are random).
fn secret() -> String {
    let mut h = RandomState::new().build_hasher();
    h.write_u8(0);
    format!("{:016x}", h.finish())
}

/// A mount's name without its leading `/`.
fn bare(mount: &str) -> &str {
    mount.trim_start_matches('/')
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}
