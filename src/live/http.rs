//! Opening a live Internet radio stream over HTTP(S) (Icecast, Shoutcast):
//! [`open`] asks for the stream with ICY metadata, follows .m3u/.pls
//! playlists to the stream itself, checks that what comes is MP3, AAC (ADTS)
//! or Ogg, and hands back a [`Stream`]: a `Read` of the audio bytes alone,
//! with the metadata blocks taken out and their titles reported.
//!
//! # Timeouts
//! - Name lookup, and then the TCP connection with the TLS handshake, each
//!   get [`Options::connect`].
//! - Sending the request and waiting for the response headers get
//!   [`Options::stall`]: a server that accepts the connection and says
//!   nothing fails with [`StreamError::Timeout`].
//! - Every read from the network gets [`Options::stall`] (ureq's per-read
//!   timeout), so a stream that stops sending fails its next
//!   [`Read::read`] with [`io::ErrorKind::TimedOut`]. There is no total
//!   budget: a stream may run for hours.
//!
//! Legacy SHOUTcast v1 servers that answer "ICY 200 OK" instead of an HTTP
//! status line are not understood (the HTTP parser refuses that line): they
//! fail with [`StreamError::Other`]. HLS playlists (a list of short
//! segments, not a stream) are refused with [`StreamError::Playlist`].

use std::fmt;
use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use ureq::http::Response;
use ureq::{Body, ResponseExt};

use crate::lang::Lang;
use crate::tr;

/// How many playlists deep [`open`] follows (a playlist naming a playlist…).
const MAX_PLAYLIST_DEPTH: usize = 3;
/// The most of a playlist that is read.
const PLAYLIST_LIMIT: usize = 64 * 1024;
/// How many first bytes are looked at when the server does not say what it
/// sends.
const SNIFF_LEN: usize = 16;

/// How long [`open`] and the [`Stream`] wait for the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The longest wait for the name lookup, and then again for the TCP
    /// connection and TLS handshake. Default 3 s.
    pub connect: Duration,
    /// The longest wait with nothing from the server: for the response
    /// headers once the request is sent, and for each read of the body.
    /// Default 5 s.
    pub stall: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            connect: Duration::from_secs(3),
            stall: Duration::from_secs(5),
        }
    }
}

/// The audio format of a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    /// MPEG audio (MP3), possibly starting with an ID3 tag.
    Mp3,
    /// AAC or HE-AAC in ADTS frames.
    Aac,
    /// An Ogg stream (Vorbis, usually).
    Ogg,
}

impl Codec {
    /// Its name for messages: "MP3", "AAC", "Ogg".
    pub fn name(self) -> &'static str {
        match self {
            Codec::Mp3 => "MP3",
            Codec::Aac => "AAC",
            Codec::Ogg => "Ogg",
        }
    }
}

/// An open radio stream: what the server said about it, and a `Read` of its
/// audio bytes (ICY metadata taken out).
///
/// `read` returns `Ok(0)` when the server closes the stream, and an error of
/// kind [`io::ErrorKind::TimedOut`] when nothing arrives for
/// [`Options::stall`]. After an error the stream is not to be read further.
pub struct Stream {
    /// The audio format.
    pub codec: Codec,
    /// The media type the server gave, lower-cased, without parameters ("" when
    /// it gave none).
    pub content_type: String,
    /// The station's name (`icy-name`), when the server gives one.
    pub station: Option<String>,
    /// The bitrate in kbit/s (`icy-br`), when the server gives one.
    pub bitrate_kbps: Option<u32>,
    /// The stream's URL once playlists and redirects are followed.
    pub url: String,
    audio: Audio,
    /// Bytes read ahead to recognise the format, not yet returned.
    head: Vec<u8>,
    bytes: Arc<AtomicU64>,
    stall: Duration,
}

impl Stream {
    /// Audio bytes returned by `read` so far.
    ///
    /// On an owned `Stream`, `stream.bytes()` finds [`Read::bytes`] first
    /// (method lookup tries `self` by value before `&self`): call it as
    /// `Stream::bytes(&stream)`, or through a reference.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// The counter behind [`Stream::bytes`], to watch the stream from another
    /// thread while the reader is busy.
    pub fn counter(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.bytes)
    }
}

impl fmt::Debug for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stream")
            .field("codec", &self.codec)
            .field("content_type", &self.content_type)
            .field("station", &self.station)
            .field("bitrate_kbps", &self.bitrate_kbps)
            .field("url", &self.url)
            .field("metaint", &self.audio.metaint)
            .field("bytes", &self.bytes())
            .finish_non_exhaustive()
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let n = if self.head.is_empty() {
            match self.audio.read(buf) {
                Ok(n) => n,
                Err(e) => return read_error(e, self.stall),
            }
        } else {
            let n = buf.len().min(self.head.len());
            buf[..n].copy_from_slice(&self.head[..n]);
            self.head.drain(..n);
            n
        };
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Why a stream could not be opened. The `Display` text is for logs;
/// [`StreamError::message`] is what the operator reads.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    /// The server refused the TCP connection (nothing listens on that port).
    #[error("connection refused")]
    Refused,
    /// The host name (given) could not be looked up.
    #[error("host {0} not found")]
    Dns(String),
    /// The server did not answer in time (connecting, or the response
    /// headers, or the first bytes).
    #[error("timed out")]
    Timeout,
    /// The server answered with this HTTP status, not a success.
    #[error("HTTP status {0}")]
    Http(u16),
    /// The server sends something that is not an audio stream: its media
    /// type ("" when it gave none and the first bytes are not audio either).
    #[error("not an audio stream (content type {0:?})")]
    ContentType(String),
    /// The playlist at this URL names no stream that can be opened (no
    /// http(s) URL in it, an HLS playlist, or playlists nested too deep).
    #[error("no stream URL in the playlist {0}")]
    Playlist(String),
    /// The TLS (HTTPS) connection failed: what TLS said.
    #[error("TLS: {0}")]
    Tls(String),
    /// Anything else: what the HTTP client said.
    #[error("{0}")]
    Other(String),
}

impl StreamError {
    /// What went wrong opening `url`, as a sentence in the operator's language.
    pub fn message(&self, url: &str, lang: Lang) -> String {
        match self {
            StreamError::Refused => tr!(
                lang,
                "Không kết nối được tới {url}: máy chủ từ chối kết nối.",
                "cannot connect to {url}: the server refused the connection"
            ),
            StreamError::Dns(host) => tr!(
                lang,
                "Không kết nối được tới {url}: không tìm thấy máy chủ \"{host}\"; hãy kiểm tra lại địa chỉ và kết nối Internet của máy.",
                "cannot connect to {url}: the server name \"{host}\" was not found; check the address and this machine's Internet connection"
            ),
            StreamError::Timeout => tr!(
                lang,
                "Không kết nối được tới {url}: máy chủ không trả lời kịp.",
                "cannot connect to {url}: the server did not answer in time"
            ),
            StreamError::Http(status) => http_message(url, *status, lang),
            StreamError::ContentType(t) if t.is_empty() => tr!(
                lang,
                "Địa chỉ {url} không phải là luồng phát thanh: máy chủ không cho biết loại dữ liệu, và dữ liệu không phải âm thanh MP3, AAC hay Ogg.",
                "{url} is not a radio stream: the server does not say what it sends, and it is not MP3, AAC or Ogg audio"
            ),
            StreamError::ContentType(t) if t == "text/html" => tr!(
                lang,
                "Địa chỉ {url} là một trang web, không phải luồng phát thanh; hãy lấy địa chỉ của chính luồng phát (thường kết thúc bằng .mp3, .aac, .ogg, .m3u hoặc .pls).",
                "{url} is a web page, not a radio stream; use the address of the stream itself (it usually ends in .mp3, .aac, .ogg, .m3u or .pls)"
            ),
            StreamError::ContentType(t) => tr!(
                lang,
                "Địa chỉ {url} không phải là luồng phát thanh: máy chủ gửi \"{t}\", không phải âm thanh MP3, AAC hay Ogg.",
                "{url} is not a radio stream: the server sends \"{t}\", not MP3, AAC or Ogg audio"
            ),
            StreamError::Playlist(list) => tr!(
                lang,
                "Không mở được {url}: danh sách phát {list} không chứa địa chỉ luồng phát nào dùng được.",
                "cannot open {url}: the playlist {list} holds no stream address that can be used"
            ),
            StreamError::Tls(detail) => tr!(
                lang,
                "Không tạo được kết nối bảo mật (HTTPS) tới {url}: {detail}. Nếu lỗi là về chứng chỉ, hãy kiểm tra đồng hồ của máy.",
                "cannot make a secure (HTTPS) connection to {url}: {detail}. If it is about the certificate, check this machine's clock"
            ),
            StreamError::Other(detail) => tr!(
                lang,
                "Không mở được luồng phát {url}: {detail}.",
                "cannot open the stream {url}: {detail}"
            ),
        }
    }
}

/// The message for an HTTP error status, with what it usually means.
fn http_message(url: &str, status: u16, lang: Lang) -> String {
    let hint = match status {
        404 | 410 => tr!(
            lang,
            "không có luồng phát ở địa chỉ này (có thể đài đã đổi địa chỉ hoặc đang tắt)",
            "there is no stream at this address (the station may have moved it, or be off the air)"
        ),
        401 | 403 => tr!(
            lang,
            "máy chủ không cho phép nghe luồng này",
            "the server does not allow listening to this stream"
        ),
        _ if status >= 500 => tr!(
            lang,
            "máy chủ đang gặp sự cố hoặc quá tải",
            "the server has a problem or is overloaded"
        ),
        _ => tr!(
            lang,
            "máy chủ không gửi luồng phát",
            "the server does not send the stream"
        ),
    };
    tr!(
        lang,
        "Máy chủ {url} trả lời lỗi HTTP {status}: {hint}.",
        "the server at {url} answered with HTTP error {status}: {hint}"
    )
}

/// Opens the radio stream at `url` (http or https), following playlists
/// (.m3u, .m3u8, .pls, at most three deep) and redirects. `on_title` is
/// called with each new non-empty title (ICY `StreamTitle`) as the stream
/// is read.
pub fn open(
    url: &str,
    opts: &Options,
    on_title: Box<dyn FnMut(String) + Send>,
) -> Result<Stream, StreamError> {
    let agent = agent(opts);
    let mut url = url.trim().to_owned();
    for depth in 0..=MAX_PLAYLIST_DEPTH {
        match open_one(&agent, &url)? {
            // A playlist that leads to a playlist once too often: `url` is
            // the last one read.
            Opened::Follow(_) if depth == MAX_PLAYLIST_DEPTH => break,
            Opened::Follow(next) => url = next,
            Opened::Audio {
                codec,
                head,
                mut audio,
                meta,
            } => {
                audio.titles = Some(Titles {
                    on_title,
                    last: None,
                });
                return Ok(Stream {
                    codec,
                    content_type: meta.content_type,
                    station: meta.station,
                    bitrate_kbps: meta.bitrate_kbps,
                    url: meta.url,
                    audio,
                    head,
                    bytes: Arc::new(AtomicU64::new(0)),
                    stall: opts.stall,
                });
            }
        }
    }
    Err(StreamError::Playlist(url))
}

/// The HTTP client with [`Options`] as timeouts (see the module's doc).
fn agent(opts: &Options) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .user_agent(concat!("loa/", env!("CARGO_PKG_VERSION")))
        .timeout_resolve(Some(opts.connect))
        .timeout_connect(Some(opts.connect))
        .timeout_send_request(Some(opts.stall))
        .timeout_recv_response(Some(opts.stall))
        .timeout_per_read(Some(opts.stall))
        .timeout_per_write(Some(opts.stall))
        .build()
        .into()
}

/// What one request gave: the stream, or a playlist's entry to follow.
enum Opened {
    Audio {
        codec: Codec,
        head: Vec<u8>,
        audio: Audio,
        meta: Meta,
    },
    Follow(String),
}

/// What the response headers say.
struct Meta {
    url: String,
    content_type: String,
    station: Option<String>,
    bitrate_kbps: Option<u32>,
    metaint: Option<usize>,
}

impl Meta {
    fn of(response: &Response<Body>) -> Meta {
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| text(v.as_bytes()).trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let content_type = header("content-type")
            .map(|t| {
                let media = t.split(';').next().unwrap_or_default();
                media.trim().to_ascii_lowercase()
            })
            .unwrap_or_default();
        Meta {
            url: response.get_uri().to_string(),
            content_type,
            station: header("icy-name"),
            bitrate_kbps: header("icy-br")
                .and_then(|b| b.split(',').next()?.trim().parse().ok())
                .filter(|&b| b > 0),
            metaint: header("icy-metaint")
                .and_then(|m| m.parse().ok())
                .filter(|&m| m > 0),
        }
    }
}

/// One request: the response checked, and what it is.
fn open_one(agent: &ureq::Agent, url: &str) -> Result<Opened, StreamError> {
    let response = agent
        .get(url)
        .header("Icy-MetaData", "1")
        .call()
        .map_err(|e| from_ureq(e, url))?;
    let status = response.status();
    if !status.is_success() {
        return Err(StreamError::Http(status.as_u16()));
    }
    let meta = Meta::of(&response);
    let body: Box<dyn Read + Send> = Box::new(response.into_body().into_reader());
    let playlist_url = is_playlist_url(url) || is_playlist_url(&meta.url);
    match classify(&meta.content_type, playlist_url) {
        Kind::Audio(codec) => Ok(Opened::Audio {
            codec,
            head: Vec::new(),
            audio: Audio::new(body, meta.metaint),
            meta,
        }),
        Kind::Playlist => playlist_entry_of(Vec::new(), body, &meta.url).map(Opened::Follow),
        Kind::Refuse => Err(StreamError::ContentType(meta.content_type)),
        Kind::Sniff => {
            let mut audio = Audio::new(body, meta.metaint);
            let mut head = Vec::new();
            fill(&mut audio, &mut head, SNIFF_LEN)?;
            if let Some(codec) = sniff(&head) {
                Ok(Opened::Audio {
                    codec,
                    head,
                    audio,
                    meta,
                })
            } else if playlist_url || looks_like_playlist(&head) {
                playlist_entry_of(head, audio, &meta.url).map(Opened::Follow)
            } else {
                Err(StreamError::ContentType(meta.content_type))
            }
        }
    }
}

/// What a response's media type makes of it.
#[derive(Debug, PartialEq, Eq)]
enum Kind {
    Audio(Codec),
    Playlist,
    /// No type, or a generic one: the first bytes tell.
    Sniff,
    Refuse,
}

/// Judges a media type (lower-cased, no parameters); `playlist_url` is
/// whether the URL ends in .m3u, .m3u8 or .pls.
fn classify(content_type: &str, playlist_url: bool) -> Kind {
    match content_type {
        "audio/mpeg" | "audio/mp3" | "audio/mpeg3" | "audio/x-mpeg" | "audio/x-mp3" => {
            Kind::Audio(Codec::Mp3)
        }
        "audio/aac" | "audio/aacp" | "audio/x-aac" => Kind::Audio(Codec::Aac),
        "audio/ogg" | "application/ogg" | "audio/vorbis" => Kind::Audio(Codec::Ogg),
        "audio/x-mpegurl"
        | "audio/mpegurl"
        | "application/x-mpegurl"
        | "application/vnd.apple.mpegurl"
        | "audio/x-scpls" => Kind::Playlist,
        "" | "application/octet-stream" => Kind::Sniff,
        // An HTML page at a playlist's address is an error page, best
        // reported as what it is.
        "text/html" => Kind::Refuse,
        _ if playlist_url => Kind::Playlist,
        _ => Kind::Refuse,
    }
}

/// Whether the URL's path ends in .m3u, .m3u8 or .pls.
fn is_playlist_url(url: &str) -> bool {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let path = path.to_ascii_lowercase();
    [".m3u", ".m3u8", ".pls"]
        .iter()
        .any(|ext| path.ends_with(ext))
}

/// The audio format the first bytes show, if any.
fn sniff(head: &[u8]) -> Option<Codec> {
    match head {
        [b'I', b'D', b'3', ..] => Some(Codec::Mp3),
        [b'O', b'g', b'g', b'S', ..] => Some(Codec::Ogg),
        // ADTS: 12 sync bits, layer 00 (0xFFF1, 0xFFF9 and their CRC twins).
        [0xFF, b, ..] if b & 0xF6 == 0xF0 => Some(Codec::Aac),
        // MPEG audio: 11 sync bits (0xFFEx), a layer that is not reserved.
        [0xFF, b, ..] if b & 0xE0 == 0xE0 && b & 0x06 != 0 => Some(Codec::Mp3),
        _ => None,
    }
}

/// Whether the first bytes look like an .m3u or .pls playlist.
fn looks_like_playlist(head: &[u8]) -> bool {
    let text = text(head).to_ascii_lowercase();
    let text = text.trim_start_matches('\u{feff}').trim_start();
    ["[playlist]", "#extm3u", "http://", "https://"]
        .iter()
        .any(|p| text.starts_with(p))
}

/// Reads the rest of a playlist (`head` is what was already read) and gives
/// the first stream URL in it.
fn playlist_entry_of(
    mut head: Vec<u8>,
    mut rest: impl Read,
    url: &str,
) -> Result<String, StreamError> {
    fill(&mut rest, &mut head, PLAYLIST_LIMIT)?;
    playlist_entry(&text(&head)).ok_or_else(|| StreamError::Playlist(url.to_owned()))
}

/// The first http(s) URL of an .m3u playlist, or of a .pls one's `FileN=`
/// entries. None for an HLS playlist (segments, not a stream).
fn playlist_entry(text: &str) -> Option<String> {
    if text.contains("#EXT-X-") {
        return None;
    }
    let text = text.trim_start_matches('\u{feff}');
    text.lines().map(str::trim).find_map(|line| {
        if is_http(line) {
            return Some(line.to_owned());
        }
        let (key, value) = line.split_once('=')?;
        let value = value.trim();
        let file = key.trim().to_ascii_lowercase().starts_with("file");
        (file && is_http(value)).then(|| value.to_owned())
    })
}

/// Whether the text starts with http:// or https:// (any case).
fn is_http(s: &str) -> bool {
    let b = s.as_bytes();
    let starts = |p: &[u8]| b.get(..p.len()).is_some_and(|s| s.eq_ignore_ascii_case(p));
    starts(b"http://") || starts(b"https://")
}

/// Reads into `buf` until it holds `limit` bytes or the body ends.
fn fill(reader: &mut impl Read, buf: &mut Vec<u8>, limit: usize) -> Result<(), StreamError> {
    let mut chunk = [0u8; 4096];
    while buf.len() < limit {
        let want = (limit - buf.len()).min(chunk.len());
        match reader.read(&mut chunk[..want]) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => match read_error(e, Duration::ZERO) {
                Ok(_) => break,
                Err(e) if e.kind() == io::ErrorKind::TimedOut => return Err(StreamError::Timeout),
                Err(e) => return Err(StreamError::Other(e.to_string())),
            },
        }
    }
    Ok(())
}

/// A body read error as the stream reports it: the source gone is the end
/// (`Ok(0)`), any timeout is [`io::ErrorKind::TimedOut`].
fn read_error(e: io::Error, stall: Duration) -> io::Result<usize> {
    let ureq_timeout = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<ureq::Error>())
        .is_some_and(|inner| matches!(inner, ureq::Error::Timeout(_)));
    match e.kind() {
        io::ErrorKind::UnexpectedEof
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted => Ok(0),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => Err(stalled(stall)),
        _ if ureq_timeout => Err(stalled(stall)),
        _ => Err(e),
    }
}

fn stalled(stall: Duration) -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        format!("nothing from the stream for {:.1} s", stall.as_secs_f64()),
    )
}

/// An error of the HTTP client, opening `url`, as a [`StreamError`].
fn from_ureq(e: ureq::Error, url: &str) -> StreamError {
    match e {
        ureq::Error::HostNotFound | ureq::Error::Timeout(ureq::Timeout::Resolve) => {
            StreamError::Dns(host_of(url))
        }
        ureq::Error::Timeout(_) => StreamError::Timeout,
        ureq::Error::StatusCode(status) => StreamError::Http(status),
        ureq::Error::Tls(detail) => StreamError::Tls(detail.to_owned()),
        ureq::Error::Rustls(e) => StreamError::Tls(e.to_string()),
        ureq::Error::Io(e) => {
            let detail = e.to_string();
            match e.kind() {
                // std's getaddrinfo error has no kind of its own.
                _ if detail.starts_with("failed to lookup address") => {
                    StreamError::Dns(host_of(url))
                }
                io::ErrorKind::ConnectionRefused => StreamError::Refused,
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => StreamError::Timeout,
                // What rustls reports through the socket's reads and writes.
                io::ErrorKind::InvalidData => StreamError::Tls(detail),
                _ => StreamError::Other(detail),
            }
        }
        other => StreamError::Other(other.to_string()),
    }
}

/// The host part of a URL, for messages (the URL itself when it has none).
fn host_of(url: &str) -> String {
    url.parse::<ureq::http::Uri>()
        .ok()
        .and_then(|u| u.host().map(str::to_owned))
        .unwrap_or_else(|| url.to_owned())
}

/// Header and metadata text: UTF-8, or else Latin-1.
fn text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// The body with the ICY metadata blocks taken out: every `metaint` audio
/// bytes one length byte L, then L×16 bytes of metadata.
struct Audio {
    body: Box<dyn Read + Send>,
    metaint: Option<usize>,
    /// Audio bytes before the next metadata block.
    until_meta: usize,
    /// Where titles go; none while the format is being recognised.
    titles: Option<Titles>,
}

struct Titles {
    on_title: Box<dyn FnMut(String) + Send>,
    last: Option<String>,
}

impl Audio {
    fn new(body: Box<dyn Read + Send>, metaint: Option<usize>) -> Audio {
        Audio {
            body,
            metaint,
            until_meta: metaint.unwrap_or(0),
            titles: None,
        }
    }

    /// Reads one metadata block and reports its title if it is new.
    fn read_metadata(&mut self) -> io::Result<()> {
        let mut len = [0u8; 1];
        self.body.read_exact(&mut len)?;
        if len[0] == 0 {
            return Ok(());
        }
        let mut block = vec![0u8; usize::from(len[0]) * 16];
        self.body.read_exact(&mut block)?;
        if let (Some(title), Some(titles)) = (stream_title(&block), self.titles.as_mut())
            && !title.is_empty()
            && titles.last.as_deref() != Some(title.as_str())
        {
            titles.last = Some(title.clone());
            (titles.on_title)(title);
        }
        Ok(())
    }
}

impl Read for Audio {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(metaint) = self.metaint else {
            return self.body.read(buf);
        };
        if self.until_meta == 0 {
            self.read_metadata()?;
            self.until_meta = metaint;
        }
        let want = buf.len().min(self.until_meta);
        let n = self.body.read(&mut buf[..want])?;
        self.until_meta -= n;
        Ok(n)
    }
}

/// The `StreamTitle='…';` of a metadata block (padded with NULs), trimmed.
fn stream_title(block: &[u8]) -> Option<String> {
    let end = block.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    let text = text(&block[..end]);
    const KEY: &str = "StreamTitle='";
    let rest = &text[text.find(KEY)? + KEY.len()..];
    // Titles hold apostrophes ("Don't"): the value ends at "';".
    let stop = rest.find("';").or_else(|| rest.rfind('\''))?;
    Some(rest[..stop].trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::{TcpListener, TcpStream};
    use std::sync::Mutex;
    use std::sync::mpsc;
    use std::thread;
    use std::time::Instant;

    /// Tests' timeouts: 1 s each.
    fn quick() -> Options {
        Options {
            connect: Duration::from_secs(1),
            stall: Duration::from_secs(1),
        }
    }

    fn no_titles() -> Box<dyn FnMut(String) + Send> {
        Box::new(|_| {})
    }

    /// A tiny HTTP server on 127.0.0.1 serving `connections` connections one
    /// after the other: `handler(base, path, request, stream)` answers each
    /// (`base` is "http://127.0.0.1:PORT"). Returns `base`.
    fn serve<F>(connections: usize, handler: F) -> String
    where
        F: Fn(&str, &str, &str, TcpStream) + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server_base = base.clone();
        thread::spawn(move || {
            for _ in 0..connections {
                let Ok((mut stream, _)) = listener.accept() else {
                    return;
                };
                let request = read_request(&mut stream);
                let path = request.split_whitespace().nth(1).unwrap_or("/").to_owned();
                handler(&server_base, &path, &request, stream);
            }
        });
        base
    }

    /// The request's head, up to the blank line.
    fn read_request(stream: &mut TcpStream) -> String {
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            match stream.read(&mut byte) {
                Ok(1) => head.push(byte[0]),
                _ => break,
            }
        }
        String::from_utf8_lossy(&head).into_owned()
    }

    /// Answers 200 with these header lines and body, then closes.
    fn respond(mut stream: TcpStream, headers: &str, body: &[u8]) {
        let head = format!("HTTP/1.0 200 OK\r\n{headers}\r\n");
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(body);
    }

    /// Runs `f` in a thread; panics if it takes over 10 s (so a hang fails
    /// the test instead of hanging it).
    fn within_10s<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let _ = tx.send(f());
        });
        rx.recv_timeout(Duration::from_secs(10))
            .expect("did not return within 10 s")
    }

    /// Audio-like bytes that are no text and no format signature.
    fn payload(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 % 251) as u8).collect()
    }

    /// An ICY metadata block: the length byte, then the text padded to 16s.
    fn meta_block(text: &str) -> Vec<u8> {
        let mut block = text.as_bytes().to_vec();
        block.resize(block.len().div_ceil(16) * 16, 0);
        let mut out = vec![u8::try_from(block.len() / 16).unwrap()];
        out.extend(block);
        out
    }

    #[test]
    fn icy_metadata_is_taken_out_and_titles_reported_once_each() {
        const METAINT: usize = 16_000;
        let audio = payload(70_000);
        let first = "Bản tin sáng – Đài xã";
        let second = "Don't Stop";
        let blocks = [
            meta_block(&format!("StreamTitle='{first}';StreamUrl='';")),
            meta_block(&format!("StreamTitle='{first}';")),
            vec![0],
            meta_block(&format!("StreamTitle='{second}';StreamUrl='http://x/';")),
        ];
        let mut body = Vec::new();
        for (i, chunk) in audio.chunks(METAINT).enumerate() {
            body.extend_from_slice(chunk);
            if chunk.len() == METAINT {
                body.extend_from_slice(&blocks[i]);
            }
        }
        let base = serve(1, move |_, _, request, stream| {
            // Metadata only for a client that asks, as Icecast does.
            let asked = request.to_ascii_lowercase().contains("icy-metadata: 1");
            let headers = if asked {
                format!(
                    "Content-Type: audio/mpeg\r\nicy-name: Radio Test\r\nicy-br: 128\r\nicy-metaint: {METAINT}\r\n"
                )
            } else {
                "Content-Type: audio/mpeg\r\n".to_owned()
            };
            respond(stream, &headers, &body);
        });
        let titles = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&titles);
        let on_title = Box::new(move |t: String| seen.lock().unwrap().push(t));
        let url = format!("{base}/live.mp3");
        let mut stream = open(&url, &quick(), on_title).unwrap();
        assert_eq!(stream.codec, Codec::Mp3);
        assert_eq!(stream.content_type, "audio/mpeg");
        assert_eq!(stream.station.as_deref(), Some("Radio Test"));
        assert_eq!(stream.bitrate_kbps, Some(128));
        assert_eq!(stream.url, url);
        let counter = stream.counter();
        // Odd-sized reads, so that they straddle the metadata blocks.
        let mut got = Vec::new();
        let mut buf = [0u8; 777];
        loop {
            let n = stream.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        assert!(got == audio, "the audio bytes are the payload exactly");
        assert_eq!(Stream::bytes(&stream), 70_000);
        assert_eq!(counter.load(Ordering::Relaxed), 70_000);
        assert_eq!(*titles.lock().unwrap(), [first, second]);
    }

    #[test]
    fn an_m3u_playlist_is_followed() {
        let audio = payload(5000);
        let body = audio.clone();
        let base = serve(2, move |base, path, _, stream| match path {
            "/radio.m3u" => respond(
                stream,
                "Content-Type: audio/x-mpegurl\r\n",
                format!("#EXTM3U\r\n#EXTINF:-1,Radio\r\n{base}/stream\r\n").as_bytes(),
            ),
            "/stream" => respond(stream, "Content-Type: audio/aacp\r\n", &body),
            _ => {}
        });
        let mut stream = open(&format!("{base}/radio.m3u"), &quick(), no_titles()).unwrap();
        assert_eq!(stream.codec, Codec::Aac);
        assert_eq!(stream.url, format!("{base}/stream"));
        let mut got = Vec::new();
        stream.read_to_end(&mut got).unwrap();
        assert!(got == audio);
    }

    #[test]
    fn a_pls_playlist_is_followed_by_its_address() {
        let base = serve(2, move |base, path, _, stream| {
            match path {
            // A plain-text type: the .pls address says what it is.
            "/radio.pls" => respond(
                stream,
                "Content-Type: text/plain\r\n",
                format!("[playlist]\nNumberOfEntries=1\nFile1={base}/stream\nTitle1=Radio\nLength1=-1\nVersion=2\n").as_bytes(),
            ),
            "/stream" => respond(stream, "Content-Type: application/ogg\r\n", b"OggS\0\x02rest"),
            _ => {}
        }
        });
        let mut stream = open(&format!("{base}/radio.pls"), &quick(), no_titles()).unwrap();
        assert_eq!(stream.codec, Codec::Ogg);
        assert_eq!(stream.url, format!("{base}/stream"));
        let mut got = Vec::new();
        stream.read_to_end(&mut got).unwrap();
        assert_eq!(got, b"OggS\0\x02rest");
    }

    #[test]
    fn an_untyped_stream_is_recognised_by_its_first_bytes() {
        let mut body = vec![0xFF, 0xF1, 0x50, 0x80];
        body.extend(payload(3000));
        let sent = body.clone();
        let base = serve(1, move |_, _, _, stream| respond(stream, "", &sent));
        let mut stream = open(&format!("{base}/stream"), &quick(), no_titles()).unwrap();
        assert_eq!(stream.codec, Codec::Aac);
        assert_eq!(stream.content_type, "");
        let mut got = Vec::new();
        stream.read_to_end(&mut got).unwrap();
        assert!(got == body, "the bytes looked at are returned too");
        assert_eq!(Stream::bytes(&stream), 3004);
    }

    #[test]
    fn playlists_are_followed_three_deep_and_no_deeper() {
        // Each playlist names the next (/0 → /1 → /2 → …); /N is the stream
        // when N is `stream_at`.
        let chain = |stream_at: u32| {
            serve(4, move |base, path, _, stream| {
                let n: u32 = path.trim_start_matches('/').parse().unwrap();
                if n == stream_at {
                    respond(stream, "Content-Type: audio/mpeg\r\n", b"ID3");
                } else {
                    let next = format!("{base}/{}\n", n + 1);
                    respond(stream, "Content-Type: audio/x-mpegurl\r\n", next.as_bytes());
                }
            })
        };
        let base = chain(3);
        let stream = open(&format!("{base}/0"), &quick(), no_titles()).unwrap();
        assert_eq!(stream.url, format!("{base}/3"));
        let base = chain(4);
        let err = open(&format!("{base}/0"), &quick(), no_titles()).unwrap_err();
        assert_eq!(err, StreamError::Playlist(format!("{base}/3")));
    }

    #[test]
    fn a_playlist_without_a_stream_address_is_reported() {
        let base = serve(1, |_, _, _, stream| {
            respond(
                stream,
                "Content-Type: audio/x-scpls\r\n",
                b"[playlist]\nNumberOfEntries=0\n",
            );
        });
        let url = format!("{base}/radio.pls");
        let err = open(&url, &quick(), no_titles()).unwrap_err();
        assert_eq!(err, StreamError::Playlist(url));
    }

    #[test]
    fn a_web_page_is_refused() {
        let base = serve(1, |_, _, _, stream| {
            respond(
                stream,
                "Content-Type: text/html; charset=utf-8\r\n",
                b"<html></html>",
            );
        });
        let err = open(&format!("{base}/"), &quick(), no_titles()).unwrap_err();
        assert_eq!(err, StreamError::ContentType("text/html".into()));
    }

    #[test]
    fn an_http_error_status_is_reported() {
        let base = serve(1, |_, _, _, mut stream| {
            let _ =
                stream.write_all(b"HTTP/1.0 404 Not Found\r\nContent-Type: text/html\r\n\r\nno");
        });
        let err = open(&format!("{base}/gone"), &quick(), no_titles()).unwrap_err();
        assert_eq!(err, StreamError::Http(404));
    }

    #[test]
    fn a_closed_port_is_refused() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let url = format!("http://127.0.0.1:{port}/stream");
        let err = open(&url, &quick(), no_titles()).unwrap_err();
        assert_eq!(err, StreamError::Refused);
        assert_eq!(
            err.message(&url, Lang::Vi),
            format!("Không kết nối được tới {url}: máy chủ từ chối kết nối.")
        );
        assert_eq!(
            err.message(&url, Lang::En),
            format!("cannot connect to {url}: the server refused the connection")
        );
    }

    #[test]
    fn a_server_that_accepts_and_says_nothing_times_out() {
        let base = serve(1, |_, _, _, stream| {
            thread::sleep(Duration::from_secs(20));
            drop(stream);
        });
        let started = Instant::now();
        let result = within_10s(move || open(&format!("{base}/stream"), &quick(), no_titles()));
        assert_eq!(result.unwrap_err(), StreamError::Timeout);
        eprintln!("timed out after {:?}", started.elapsed());
    }

    #[test]
    fn a_stream_that_stops_mid_body_times_out_on_read() {
        let base = serve(1, |_, _, _, mut stream| {
            let _ = stream.write_all(b"HTTP/1.0 200 OK\r\nContent-Type: audio/mpeg\r\n\r\n");
            let _ = stream.write_all(&payload(1000));
            thread::sleep(Duration::from_secs(20));
        });
        let (read, err) = within_10s(move || {
            let mut stream = open(&format!("{base}/stream"), &quick(), no_titles()).unwrap();
            let mut read = 0;
            let mut buf = [0u8; 4096];
            loop {
                match stream.read(&mut buf) {
                    Ok(0) => panic!("the stream ended instead of timing out"),
                    Ok(n) => read += n,
                    Err(e) => return (read, e),
                }
            }
        });
        assert_eq!(read, 1000);
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }

    #[test]
    fn a_source_dropped_mid_body_is_the_end() {
        let base = serve(1, |_, _, _, stream| {
            // Promises more than it sends, then closes.
            respond(
                stream,
                "Content-Type: audio/mpeg\r\nContent-Length: 100000\r\n",
                &payload(500),
            );
        });
        let mut stream = open(&format!("{base}/stream"), &quick(), no_titles()).unwrap();
        let mut got = Vec::new();
        stream.read_to_end(&mut got).unwrap();
        assert_eq!(got.len(), 500);
    }

    #[test]
    fn an_unknown_host_is_a_dns_error() {
        let url = "http://radio.loa-test.invalid/stream";
        let err = within_10s(move || open(url, &quick(), no_titles())).unwrap_err();
        assert_eq!(err, StreamError::Dns("radio.loa-test.invalid".into()));
    }

    #[test]
    fn https_to_a_plain_http_server_is_a_tls_error() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        thread::spawn(move || {
            if let Ok((mut stream, _)) = listener.accept() {
                let _ = stream.write_all(b"HTTP/1.0 200 OK\r\nContent-Type: audio/mpeg\r\n\r\n");
                thread::sleep(Duration::from_secs(2));
            }
        });
        let url = format!("https://127.0.0.1:{port}/stream");
        let err = within_10s(move || open(&url, &quick(), no_titles())).unwrap_err();
        assert!(matches!(err, StreamError::Tls(_)), "{err:?}");
    }

    #[test]
    fn first_bytes_tell_the_format() {
        assert_eq!(sniff(b"ID3\x04\0"), Some(Codec::Mp3));
        assert_eq!(sniff(&[0xFF, 0xFB, 0x90, 0x64]), Some(Codec::Mp3));
        assert_eq!(sniff(&[0xFF, 0xF3, 0x90, 0x64]), Some(Codec::Mp3));
        assert_eq!(sniff(&[0xFF, 0xF1, 0x50, 0x80]), Some(Codec::Aac));
        assert_eq!(sniff(&[0xFF, 0xF9, 0x50, 0x80]), Some(Codec::Aac));
        assert_eq!(sniff(b"OggS\0\x02"), Some(Codec::Ogg));
        assert_eq!(sniff(b"<!DOCTYPE html>"), None);
        assert_eq!(sniff(&[0xFF]), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn media_types_are_judged() {
        assert_eq!(classify("audio/mpeg", false), Kind::Audio(Codec::Mp3));
        assert_eq!(classify("audio/x-aac", false), Kind::Audio(Codec::Aac));
        assert_eq!(classify("audio/vorbis", false), Kind::Audio(Codec::Ogg));
        assert_eq!(classify("audio/x-scpls", false), Kind::Playlist);
        assert_eq!(
            classify("application/vnd.apple.mpegurl", false),
            Kind::Playlist
        );
        assert_eq!(classify("", false), Kind::Sniff);
        assert_eq!(classify("application/octet-stream", true), Kind::Sniff);
        assert_eq!(classify("text/plain", true), Kind::Playlist);
        assert_eq!(classify("text/plain", false), Kind::Refuse);
        assert_eq!(classify("text/html", true), Kind::Refuse);
        assert!(is_playlist_url("http://x/Radio.PLS?sid=1"));
        assert!(is_playlist_url("https://x/a/live.m3u8"));
        assert!(!is_playlist_url("http://x/live.mp3?f=.m3u#x"));
    }

    #[test]
    fn playlists_give_their_first_stream() {
        assert_eq!(
            playlist_entry("\u{feff}#EXTM3U\n#EXTINF:-1,A\nhttp://a/1\nhttp://a/2\n").as_deref(),
            Some("http://a/1")
        );
        assert_eq!(
            playlist_entry(
                "[playlist]\r\nNumberOfEntries=2\r\nFile1=HTTPS://a/1?x=y\r\nFile2=http://a/2\r\n"
            )
            .as_deref(),
            Some("HTTPS://a/1?x=y")
        );
        assert_eq!(playlist_entry("[playlist]\nTitle1=http://no\n"), None);
        assert_eq!(playlist_entry("#EXTM3U\nrelative/stream.mp3\n"), None);
        let hls = "#EXTM3U\n#EXT-X-TARGETDURATION:10\nhttp://a/seg1.ts\n";
        assert_eq!(playlist_entry(hls), None);
    }

    #[test]
    fn stream_titles_are_parsed() {
        let block = b"StreamTitle='Don't Stop';StreamUrl='';\0\0\0";
        assert_eq!(stream_title(block).as_deref(), Some("Don't Stop"));
        assert_eq!(stream_title(b"StreamTitle='';\0").as_deref(), Some(""));
        assert_eq!(stream_title(b"StreamUrl='x';\0").as_deref(), None);
        // Latin-1, as some servers send.
        assert_eq!(
            stream_title(b"StreamTitle='Caf\xe9';").as_deref(),
            Some("Café")
        );
    }

    #[test]
    fn a_stream_can_move_to_another_thread() {
        fn is_send<T: Send>() {}
        is_send::<Stream>();
    }
}
