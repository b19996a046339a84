//! Test support for relaying live Internet radio (issue 15): a real Icecast
//! server (Debian's `icecast2`) on 127.0.0.1 with a throwaway config, fed
//! by a real source client (`ffmpeg` sending a sine tone as MP3, AAC or
//! Ogg Vorbis, at real-time speed), a listener that reads a stream as a
//! radio does (ICY metadata included), and three small fakes of what a
//! station's URL may turn out to be: a server that never answers
//! ([`Stall`]), a web page ([`Html`]) and a playlist ([`M3u`]).
//!
//! Every wait is bounded: a server that does not start, a source that does
//! not go live, fails the test with what the program said (Icecast's error
//! log, ffmpeg's errors) instead of hanging it. Everything started is
//! killed when its value is dropped, also after a failed assert. Like the
//! rest of `util`, it knows nothing of loa's insides.
//!
//! The server's config (see [`Icecast::start`]): a source that stops
//! sending is dropped after 2 s (`source-timeout`), one that disconnects
//! at once; a mount with no source is a 404 at once (no fallback mount, no
//! on-demand relays, no static files: `fileserve` is off, so a mount's
//! name never finds a file of the web root instead); a new listener gets a
//! burst of at most 16 KiB (about 1 s of 128 kb/s MP3) and then the stream
//! at the source's pace.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// How long Icecast may take to answer, and a source to go live or away.
pub const START_WITHIN: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(20);
/// How long one request to the server (status, admin) may take.
const REQUEST_LIMIT: Duration = Duration::from_secs(5);
/// How long Icecast is left alone after it is started before the first
/// request: Debian's Icecast 2.4.4 sometimes crashes (SIGSEGV) when a
/// request reaches it in its first moments (measured here: 15 of 200 starts
/// on 2 busy cores when polled at once, 0 of 150 after 0.5 s). A crash at
/// start is also retried (see [`Icecast::start`]).
const SETTLE: Duration = Duration::from_millis(500);
/// The burst a new listener gets (bytes): see the module's comment.
pub const BURST_SIZE: usize = 16_384;

/// The programs the harness runs, each in the Debian package of its name
/// (tests/run.sh installs them).
const TOOLS: &[&str] = &["icecast2", "ffmpeg"];
/// The encoders [`Format`] needs from ffmpeg.
const ENCODERS: &[&str] = &["libmp3lame", "aac", "libvorbis"];

/// A throwaway Icecast server on 127.0.0.1, killed when dropped.
pub struct Icecast {
    end: Endpoint,
    child: Child,
    dir: TempDir,
}

/// What a source or a request needs of the server.
#[derive(Clone)]
struct Endpoint {
    port: u16,
    source_password: String,
    admin_password: String,
}

impl Icecast {
    /// Whether `icecast2` and `ffmpeg` (with the MP3, AAC and Vorbis
    /// encoders) are installed; when not, says `test` is skipped (fails it
    /// under CI, see [`super::skip::tool_missing`]).
    pub fn available(test: &str) -> bool {
        static MISSING: OnceLock<Option<String>> = OnceLock::new();
        match MISSING.get_or_init(missing_tools) {
            None => true,
            Some(why) => {
                super::skip::tool_missing(test, why);
                false
            }
        }
    }

    /// Writes a config in a temporary folder and starts `icecast2 -c` on a
    /// free port of 127.0.0.1; returns once it answers HTTP. Fails the test
    /// (with Icecast's output and error log) if it has not within
    /// [`START_WITHIN`]. Run as root, Icecast is told to become
    /// nobody:nogroup (`<changeowner>`: it refuses to run as root); run as
    /// anyone else, it stays that user.
    pub fn start() -> Icecast {
        // Another program may take the free port between our look and
        // Icecast's bind, or Icecast may crash as it starts (see [`SETTLE`]):
        // a few tries.
        let mut failures = Vec::new();
        for _ in 0..4 {
            match Icecast::try_start() {
                Ok(ice) => return ice,
                Err((why, retry)) => {
                    if !retry {
                        panic!("{why}");
                    }
                    failures.push(why);
                }
            }
        }
        panic!("{}", failures.join("\n\n"));
    }

    /// One try; the error says whether it is worth another (the port was
    /// taken, or Icecast crashed as it started).
    fn try_start() -> Result<Icecast, (String, bool)> {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let end = Endpoint {
            port: free_port(),
            source_password: secret(),
            admin_password: secret(),
        };
        let root = is_root();
        let logs = dir.path().join("log");
        std::fs::create_dir(&logs).unwrap();
        if root {
            // Icecast opens its logs after becoming nobody.
            let open = std::fs::Permissions::from_mode(0o755);
            std::fs::set_permissions(dir.path(), open).unwrap();
            std::fs::set_permissions(&logs, std::fs::Permissions::from_mode(0o777)).unwrap();
        }
        let config = dir.path().join("icecast.xml");
        std::fs::write(&config, config_xml(&end, dir.path(), &logs, root)).unwrap();
        let out = std::fs::File::create(dir.path().join("output")).unwrap();
        let child = Command::new("icecast2")
            .arg("-c")
            .arg(&config)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("running icecast2: {e}"));
        let mut ice = Icecast { end, child, dir };
        let t = Instant::now();
        std::thread::sleep(SETTLE);
        loop {
            if let Some(status) = ice.child.try_wait().unwrap() {
                let why = format!("icecast2 exited ({status}) on start\n{}", ice.logs());
                let taken = why.contains("Could not create listener socket");
                let crashed = std::os::unix::process::ExitStatusExt::signal(&status).is_some();
                return Err((why, taken || crashed));
            }
            let answer = ice.end.get("/status-json.xsl", false);
            if answer.is_ok_and(|r| r.status == 200 && r.text().contains("\"server_id\":\"Icecast"))
            {
                return Ok(ice);
            }
            if t.elapsed() > START_WITHIN {
                let why = format!(
                    "icecast2 not answering on port {} after {START_WITHIN:?}\n{}",
                    ice.end.port,
                    ice.logs()
                );
                return Err((why, false));
            }
            std::thread::sleep(POLL);
        }
    }

    pub fn port(&self) -> u16 {
        self.end.port
    }

    /// `http://127.0.0.1:PORT/MOUNT` (`mount` with or without its `/`).
    pub fn url(&self, mount: &str) -> String {
        format!("http://127.0.0.1:{}/{}", self.end.port, bare(mount))
    }

    /// Whether a source is on `mount` (Icecast's /status-json.xsl lists it).
    pub fn mount_live(&self, mount: &str) -> bool {
        self.end.live(mount)
    }

    /// Waits (at most [`START_WITHIN`]) until `mount` is live or, with
    /// `live` false, gone; fails the test if it does not happen.
    pub fn wait_mount(&self, mount: &str, live: bool) {
        if !self.end.wait(mount, live) {
            panic!(
                "{} still {} after {START_WITHIN:?}\n{}",
                self.url(mount),
                if live { "not live" } else { "live" },
                self.logs()
            );
        }
    }

    /// Sets the title listeners of `mount` see (ICY `StreamTitle` for MP3
    /// and AAC, the Vorbis comment `title` for Ogg), as a station's playout
    /// does: Icecast's admin request `/admin/metadata?mode=updinfo`. Fails
    /// the test unless Icecast says the update succeeded.
    pub fn set_title(&self, mount: &str, title: &str) {
        let target = format!(
            "/admin/metadata?mount=/{}&mode=updinfo&song={}",
            percent(bare(mount)),
            percent(title)
        );
        match self.end.get(&target, true) {
            Ok(r) if r.status == 200 && r.text().contains("<return>1</return>") => {}
            Ok(r) => panic!("setting the title of {mount}: {} {}", r.status, r.text()),
            Err(e) => panic!("setting the title of {mount}: {e}"),
        }
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

/// The throwaway config. Passwords are random; the admin user is `admin`.
fn config_xml(end: &Endpoint, base: &Path, logs: &Path, root: bool) -> String {
    // Without it Icecast refuses to run as root; as another user it would
    // only warn that it cannot change user.
    let owner = if root {
        "<changeowner><user>nobody</user><group>nogroup</group></changeowner>"
    } else {
        ""
    };
    format!(
        r#"<icecast>
  <location>loa tests</location>
  <admin>loa@localhost</admin>
  <hostname>127.0.0.1</hostname>
  <limits>
    <clients>100</clients>
    <sources>16</sources>
    <queue-size>524288</queue-size>
    <client-timeout>10</client-timeout>
    <header-timeout>5</header-timeout>
    <source-timeout>2</source-timeout>
    <burst-on-connect>1</burst-on-connect>
    <burst-size>{BURST_SIZE}</burst-size>
  </limits>
  <authentication>
    <source-password>{source}</source-password>
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
    <loglevel>3</loglevel>
  </logging>
  <security>
    <chroot>0</chroot>
    {owner}
  </security>
</icecast>
"#,
        source = end.source_password,
        admin = end.admin_password,
        port = end.port,
        base = base.display(),
        logs = logs.display(),
    )
}

impl Endpoint {
    /// `GET TARGET HTTP/1.0` to the server, with the admin's credentials
    /// if `admin`; the whole answer (for requests that end).
    fn get(&self, target: &str, admin: bool) -> Result<Response, String> {
        let auth = if admin {
            let basic = base64(format!("admin:{}", self.admin_password).as_bytes());
            format!("Authorization: Basic {basic}\r\n")
        } else {
            String::new()
        };
        let request = format!(
            "GET {target} HTTP/1.0\r\nHost: 127.0.0.1:{}\r\nUser-Agent: loa-tests\r\n{auth}\r\n",
            self.port
        );
        let mut s = connect(self.port)?;
        s.write_all(request.as_bytes()).map_err(|e| e.to_string())?;
        let t = Instant::now();
        let mut raw = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            match s.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => raw.extend_from_slice(&buf[..n]),
                Err(e) if is_timeout(&e) => {}
                Err(e) => return Err(e.to_string()),
            }
            if t.elapsed() > REQUEST_LIMIT {
                return Err(format!("GET {target}: no end after {REQUEST_LIMIT:?}"));
            }
        }
        Response::parse(&raw).ok_or_else(|| format!("GET {target}: not HTTP: {raw:?}"))
    }

    fn live(&self, mount: &str) -> bool {
        let Ok(r) = self.get("/status-json.xsl", false) else {
            return false;
        };
        let Ok(json) = serde_json::from_str::<serde_json::Value>(&r.text()) else {
            return false;
        };
        let url = format!("http://127.0.0.1:{}/{}", self.port, bare(mount));
        // One source is an object, more an array (Icecast 2.4's XSL).
        let sources = match &json["icestats"]["source"] {
            serde_json::Value::Array(a) => a.clone(),
            serde_json::Value::Null => Vec::new(),
            one => vec![one.clone()],
        };
        sources.iter().any(|s| s["listenurl"] == url.as_str())
    }

    /// Polls until the mount is live (or gone); false after START_WITHIN.
    fn wait(&self, mount: &str, live: bool) -> bool {
        let t = Instant::now();
        while self.live(mount) != live {
            if t.elapsed() > START_WITHIN {
                return false;
            }
            std::thread::sleep(POLL);
        }
        true
    }
}

/// A sine tone a [`Source`] sends.
#[derive(Debug, Clone, Copy)]
pub struct Tone {
    pub freq_hz: f64,
    pub format: Format,
    /// How long the source sends before it ends (ffmpeg's `-t`); None:
    /// until killed.
    pub seconds: Option<f64>,
    /// The tone's level against ffmpeg's sine (-18 dBFS peak), in dB.
    pub volume_db: f64,
}

impl Tone {
    /// `freq_hz` as `format`, at ffmpeg's level, until the source is killed.
    pub fn new(freq_hz: f64, format: Format) -> Tone {
        Tone {
            freq_hz,
            format,
            seconds: None,
            volume_db: 0.0,
        }
    }
}

/// What a [`Source`] encodes to, and the `Content-Type` listeners get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// MP3 at 128 kb/s, `audio/mpeg`.
    Mp3,
    /// AAC-LC in ADTS at 96 kb/s, `audio/aac`.
    Aac,
    /// Ogg Vorbis (ffmpeg's default quality), `application/ogg`.
    Ogg,
}

impl Format {
    /// The `Content-Type` Icecast gives listeners.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Mp3 => "audio/mpeg",
            Format::Aac => "audio/aac",
            Format::Ogg => "application/ogg",
        }
    }

    /// ffmpeg's encoder and muxer options.
    fn ffmpeg_args(self) -> &'static [&'static str] {
        match self {
            Format::Mp3 => &["-c:a", "libmp3lame", "-b:a", "128k", "-f", "mp3"],
            Format::Aac => &["-c:a", "aac", "-b:a", "96k", "-f", "adts"],
            Format::Ogg => &["-c:a", "libvorbis", "-f", "ogg"],
        }
    }
}

/// The station's name the sources send (listeners get it as `icy-name`).
pub const STATION_NAME: &str = "VOV1 test";

/// A real source client on a mount of an [`Icecast`]: ffmpeg sending a
/// stereo 44.1 kHz sine tone at real-time speed, with `icy-name`
/// [`STATION_NAME`]. Killed when dropped.
pub struct Source {
    end: Endpoint,
    mount: String,
    tone: Tone,
    child: Option<Child>,
    /// ffmpeg's standard error, for failures.
    log: tempfile::NamedTempFile,
}

impl Source {
    /// Starts ffmpeg on `mount` (with or without its `/`) and waits until
    /// Icecast lists the mount; fails the test (with ffmpeg's errors) if it
    /// is not live within [`START_WITHIN`].
    pub fn start(ice: &Icecast, mount: &str, tone: Tone) -> Source {
        let mut source = Source {
            end: ice.end.clone(),
            mount: bare(mount).to_string(),
            tone,
            child: None,
            log: tempfile::NamedTempFile::new().expect("a temporary file"),
        };
        source.spawn();
        source
    }

    fn spawn(&mut self) {
        let err = self.log.reopen().unwrap();
        err.set_len(0).unwrap();
        let mut cmd = Command::new("ffmpeg");
        cmd.args(["-nostdin", "-hide_banner", "-loglevel", "error", "-re"]);
        cmd.args(["-f", "lavfi", "-i"]);
        cmd.arg(format!(
            "sine=frequency={}:sample_rate=44100",
            self.tone.freq_hz
        ));
        cmd.args(["-ac", "2"]);
        if self.tone.volume_db != 0.0 {
            cmd.arg("-af")
                .arg(format!("volume={}dB", self.tone.volume_db));
        }
        if let Some(s) = self.tone.seconds {
            cmd.arg("-t").arg(s.to_string());
        }
        cmd.args(self.tone.format.ffmpeg_args());
        cmd.args(["-content_type", self.tone.format.content_type()]);
        cmd.args(["-ice_name", STATION_NAME]);
        cmd.arg(format!(
            "icecast://source:{}@127.0.0.1:{}/{}",
            self.end.source_password, self.end.port, self.mount
        ));
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("running ffmpeg: {e}"));
        self.child = Some(child);
        let t = Instant::now();
        while !self.end.live(&self.mount) {
            let exited = self.child.as_mut().unwrap().try_wait().unwrap();
            if exited.is_some_and(|s| s.success()) && self.tone.seconds.is_some() {
                // A short tone already over.
                return;
            }
            if exited.is_some() || t.elapsed() > START_WITHIN {
                let what = match exited {
                    Some(status) => format!("ffmpeg exited ({status})"),
                    None => format!("still not live after {START_WITHIN:?}"),
                };
                panic!(
                    "source on /{}: {what}\n--- ffmpeg's errors ---\n{}",
                    self.mount,
                    self.errors()
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// SIGKILLs ffmpeg (as a crash or a lost link would): Icecast drops the
    /// mount. Does not wait for that ([`Icecast::wait_mount`] does).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills ffmpeg if it runs, waits until Icecast has dropped the mount
    /// (it refuses a second source on a live mount), starts it again and
    /// waits until the mount is live.
    pub fn restart(&mut self) {
        self.kill();
        if !self.end.wait(&self.mount, false) {
            panic!("/{} still live after its source was killed", self.mount);
        }
        self.spawn();
    }

    /// What ffmpeg wrote to its standard error.
    pub fn errors(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }
}

impl Drop for Source {
    fn drop(&mut self) {
        self.kill();
    }
}

/// An HTTP answer that ended.
struct Response {
    status: u16,
    body: Vec<u8>,
}

impl Response {
    fn parse(raw: &[u8]) -> Option<Response> {
        let (head, body) = split_head(raw)?;
        let (status, _) = parse_head(head)?;
        Some(Response {
            status,
            body: body.to_vec(),
        })
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// What a listener got from a stream URL.
#[derive(Debug)]
pub struct Heard {
    /// The status code (200, 404...).
    pub status: u16,
    /// The response's header fields, names lowercased, in order.
    pub headers: Vec<(String, String)>,
    /// The body without the ICY metadata blocks (the audio, for a stream).
    pub audio: Vec<u8>,
    /// The `StreamTitle` of each non-empty ICY metadata block, in order.
    pub titles: Vec<String>,
    /// Whether the server closed the connection before `for_` was up.
    pub ended: bool,
}

impl Heard {
    /// A header field's value (`name` lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Listens to `url` (`http://127.0.0.1:PORT/PATH`) for `for_` as a radio
/// does: `GET /PATH HTTP/1.0` with `Icy-MetaData: 1`; splits the ICY
/// metadata (every `icy-metaint` bytes) from the audio. Returns early if
/// the server closes the connection; fails the test if it cannot connect
/// or the answer is not HTTP.
pub fn listen(url: &str, for_: Duration) -> Heard {
    let rest = url
        .strip_prefix("http://127.0.0.1:")
        .unwrap_or_else(|| panic!("{url}: not http://127.0.0.1:PORT/..."));
    let (port, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let port: u16 = port.parse().unwrap_or_else(|_| panic!("{url}: no port"));
    let path = if path.is_empty() { "/" } else { path };
    let mut s = connect(port).unwrap_or_else(|e| panic!("{url}: {e}"));
    let request = format!(
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: loa-tests\r\n\
         Icy-MetaData: 1\r\n\r\n"
    );
    s.write_all(request.as_bytes())
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    let t = Instant::now();
    let mut raw = Vec::new();
    let mut buf = [0u8; 16384];
    let mut ended = false;
    while t.elapsed() < for_ {
        match s.read(&mut buf) {
            Ok(0) => {
                ended = true;
                break;
            }
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) if is_timeout(&e) => {}
            Err(_) => {
                ended = true;
                break;
            }
        }
    }
    let (head, body) =
        split_head(&raw).unwrap_or_else(|| panic!("{url}: no HTTP header in {raw:?}"));
    let (status, headers) = parse_head(head).unwrap_or_else(|| panic!("{url}: not HTTP: {head:?}"));
    let metaint = headers
        .iter()
        .find(|(n, _)| n == "icy-metaint")
        .and_then(|(_, v)| v.parse::<usize>().ok());
    let (audio, titles) = match metaint {
        Some(every) if every > 0 => demux(body, every),
        _ => (body.to_vec(), Vec::new()),
    };
    Heard {
        status,
        headers,
        audio,
        titles,
        ended,
    }
}

/// Splits ICY metadata blocks (a length byte, times 16 bytes of text, after
/// every `every` bytes of audio) from the audio.
fn demux(body: &[u8], every: usize) -> (Vec<u8>, Vec<String>) {
    let (mut audio, mut titles) = (Vec::new(), Vec::new());
    let mut at = 0;
    while at < body.len() {
        let n = every.min(body.len() - at);
        audio.extend_from_slice(&body[at..at + n]);
        at += n;
        if at >= body.len() {
            break;
        }
        let len = usize::from(body[at]) * 16;
        at += 1;
        let block = &body[at..(at + len).min(body.len())];
        at += len;
        let text = String::from_utf8_lossy(block);
        if let Some(start) = text.find("StreamTitle='") {
            let rest = &text[start + "StreamTitle='".len()..];
            let end = rest
                .find("';")
                .or_else(|| rest.rfind('\''))
                .unwrap_or(rest.len());
            titles.push(rest[..end].to_string());
        }
    }
    (audio, titles)
}

/// A fake station that accepts connections and never sends a byte (nor
/// closes them until dropped).
pub struct Stall {
    fake: Fake,
}

impl Stall {
    pub fn start() -> Stall {
        Stall {
            fake: Fake::start(None),
        }
    }

    /// `http://127.0.0.1:PORT/stream`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/stream", self.fake.port)
    }
}

/// A fake station URL that is a web page: `200 OK`, `Content-Type:
/// text/html`, a small page, to any GET.
pub struct Html {
    fake: Fake,
}

impl Html {
    pub fn start() -> Html {
        let page = "<!DOCTYPE html>\n<html><head><title>VOV1 - Nghe tr\u{1ef1}c tuy\u{1ebf}n\
                    </title></head>\n<body><p>Radio player</p></body></html>\n";
        Html {
            fake: Fake::start(Some(("text/html; charset=utf-8", page.to_string()))),
        }
    }

    /// `http://127.0.0.1:PORT/live`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/live", self.fake.port)
    }
}

/// A fake playlist: `200 OK`, `Content-Type: audio/x-mpegurl`, one line
/// (the target URL), to any GET.
pub struct M3u {
    fake: Fake,
}

impl M3u {
    pub fn start(target_url: &str) -> M3u {
        M3u {
            fake: Fake::start(Some(("audio/x-mpegurl", format!("{target_url}\n")))),
        }
    }

    /// `http://127.0.0.1:PORT/live.m3u`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/live.m3u", self.fake.port)
    }
}

/// A tiny server on 127.0.0.1 in a thread: answers every request with
/// `answer` (content type, body), or, with None, keeps the connections
/// open and silent. Stops, closing them all, when dropped.
struct Fake {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Fake {
    fn start(answer: Option<(&'static str, String)>) -> Fake {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("a free port");
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::Builder::new()
            .name("fake-station".into())
            .spawn(move || {
                // The silent connections, kept open until the fake stops.
                let mut held = Vec::new();
                for conn in listener.incoming() {
                    if stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    match &answer {
                        None => held.push(conn),
                        Some((kind, body)) => {
                            let (kind, body) = (*kind, body.clone());
                            std::thread::spawn(move || answer_once(conn, kind, &body));
                        }
                    }
                }
            })
            .unwrap();
        Fake {
            port,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop up.
        let _ = TcpStream::connect_timeout(
            &SocketAddr::from((Ipv4Addr::LOCALHOST, self.port)),
            Duration::from_secs(1),
        );
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Reads a request's header (at most 2 s) and answers it, then closes.
fn answer_once(mut conn: TcpStream, kind: &str, body: &str) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") && got.len() < 65536 {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    let answer = format!(
        "HTTP/1.0 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = conn.write_all(answer.as_bytes());
    let _ = conn.shutdown(std::net::Shutdown::Both);
}

/// A connection to 127.0.0.1:PORT with short timeouts.
fn connect(port: u16) -> Result<TcpStream, String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(1))
        .map_err(|e| format!("connecting to {addr}: {e}"))?;
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    s.set_write_timeout(Some(Duration::from_secs(1))).unwrap();
    Ok(s)
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

/// The header (without the blank line) and what follows it.
fn split_head(raw: &[u8]) -> Option<(&[u8], &[u8])> {
    let at = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    Some((&raw[..at], &raw[at + 4..]))
}

/// The status code and the fields (names lowercased) of a response header.
fn parse_head(head: &[u8]) -> Option<(u16, Vec<(String, String)>)> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let status_line = lines.next()?;
    // "HTTP/1.0 200 OK", or a SHOUTcast server's "ICY 200 OK".
    let status = status_line.split_whitespace().nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some((status, headers))
}

/// A port of 127.0.0.1 free a moment ago.
pub fn free_port() -> u16 {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("a free port");
    l.local_addr().unwrap().port()
}

/// 16 random hex digits (std's hasher keys are random).
pub fn secret() -> String {
    let mut h = RandomState::new().build_hasher();
    h.write_u8(0);
    format!("{:016x}", h.finish())
}

/// A mount's name without its leading `/`.
fn bare(mount: &str) -> &str {
    mount.trim_start_matches('/')
}

/// Percent-encodes all but the unreserved characters of RFC 3986.
fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Standard base64 with padding (for HTTP basic authentication).
fn base64(data: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ABC[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

pub fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(tool).is_file()))
}

/// None when everything is there, else what is missing.
fn missing_tools() -> Option<String> {
    let missing: Vec<&str> = TOOLS.iter().copied().filter(|t| !on_path(t)).collect();
    if !missing.is_empty() {
        return Some(format!("{} not installed", missing.join(", ")));
    }
    let listed = Command::new("ffmpeg")
        .args(["-hide_banner", "-encoders"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let lacking: Vec<&str> = ENCODERS
        .iter()
        .copied()
        .filter(|e| {
            !listed
                .lines()
                .any(|l| l.split_whitespace().nth(1) == Some(e))
        })
        .collect();
    if lacking.is_empty() {
        None
    } else {
        Some(format!(
            "ffmpeg lacks the encoders {} (package ffmpeg)",
            lacking.join(", ")
        ))
    }
}
