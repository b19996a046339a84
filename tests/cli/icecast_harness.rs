//! Issue 15: the live-radio harness itself (util::icecast). A real Icecast
//! fed by a real ffmpeg serves what a radio expects: the stream's type,
//! ICY metadata with the title the station sets, a tone that decodes to its
//! pitch; the mount goes away when its source dies and comes back when it
//! returns. The fake stations answer as documented. The relay tests rest on
//! these facts.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::icecast::{
    Format, Heard, Html, Icecast, M3u, STATION_NAME, Source, Stall, Tone, listen,
};
use crate::util::skip;

/// The sample rate the sources send and the decoders give.
const RATE: f64 = 44_100.0;

/// Runs `program args` with `input` on its standard input; its standard
/// output, as signed 16-bit little-endian samples. Fails the test if it
/// fails or takes more than 20 s.
fn decode(program: &str, args: &[&str], input: Vec<u8>) -> Vec<i16> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("running {program}: {e}"));
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stdout.read_to_end(&mut v);
        v
    });
    let t = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if t.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{program} still decoding after 20 s: killed");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    writer.join().unwrap();
    let raw = reader.join().unwrap();
    let mut err = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut err);
    assert!(status.success(), "{program} {args:?}: {status}\n{err}");
    raw.chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

/// Pitch of mono samples at [`RATE`] by rising zero crossings, leaving out
/// the first and last 0.1 s (a decoder's start, a cut frame).
fn pitch(samples: &[i16]) -> f64 {
    let edge = (RATE / 10.0) as usize;
    assert!(
        samples.len() > 4 * edge,
        "only {} samples decoded",
        samples.len()
    );
    let x = &samples[edge..samples.len() - edge];
    let rising = x.windows(2).filter(|w| w[0] < 0 && w[1] >= 0).count();
    rising as f64 * RATE / x.len() as f64
}

/// The audio decoded by ffmpeg (any format), mono.
fn ffmpeg_pitch(audio: Vec<u8>) -> f64 {
    let args = [
        "-hide_banner",
        "-loglevel",
        "error",
        "-i",
        "pipe:0",
        "-ac",
        "1",
        "-ar",
        "44100",
        "-f",
        "s16le",
        "pipe:1",
    ];
    pitch(&decode("ffmpeg", &args, audio))
}

fn assert_pitch(what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() < want * 0.03,
        "{what}: a {got:.0} Hz tone, not {want} Hz"
    );
}

fn assert_stream(what: &str, heard: &Heard, format: Format) {
    assert_eq!(heard.status, 200, "{what}: {heard:?}");
    assert_eq!(
        heard.header("content-type"),
        Some(format.content_type()),
        "{what}: {:?}",
        heard.headers
    );
    assert_eq!(heard.header("icy-name"), Some(STATION_NAME), "{what}");
}

#[test]
fn icecast_relays_a_tone_its_title_and_its_source_going_away() {
    let test = "icecast_harness::icecast_relays_a_tone_its_title_and_its_source_going_away";
    if !Icecast::available(test) {
        return;
    }
    if Command::new("mpg123").arg("--version").output().is_err() {
        skip::tool_missing(test, "mpg123 is missing (package mpg123)");
        return;
    }
    let t = Instant::now();
    let ice = Icecast::start();
    let started = t.elapsed();
    let tone = Tone::new;
    let t = Instant::now();
    let mut mp3 = Source::start(&ice, "vov1", tone(1000.0, Format::Mp3));
    let live = t.elapsed();
    assert_eq!(
        ice.url("/vov1"),
        format!("http://127.0.0.1:{}/vov1", ice.port())
    );
    assert!(ice.mount_live("/vov1") && !ice.mount_live("vov9"));
    let _aac = Source::start(&ice, "/vov2", tone(500.0, Format::Aac));
    let _ogg = Source::start(&ice, "vov3.ogg", tone(1500.0, Format::Ogg));

    // 3 s of the MP3 stream; the station sets a title after 0.7 s.
    let url = ice.url("vov1");
    let listener = std::thread::spawn(move || listen(&url, Duration::from_secs(3)));
    std::thread::sleep(Duration::from_millis(700));
    let title = "Thời sự 6 giờ – 'VOV1' & co";
    ice.set_title("vov1", title);
    let heard = listener.join().unwrap();
    assert_stream("mp3", &heard, Format::Mp3);
    assert!(heard.header("icy-metaint").is_some(), "{:?}", heard.headers);
    assert!(!heard.ended, "the stream ended: {heard:?}");
    assert!(
        heard.titles.iter().any(|t| t == title),
        "no StreamTitle {title:?} in {:?}",
        heard.titles
    );
    let samples = decode("mpg123", &["-q", "-s", "--mono", "-"], heard.audio);
    assert_pitch("mp3 through mpg123", pitch(&samples), 1000.0);

    // AAC and Ogg, at once.
    let (u2, u3) = (ice.url("vov2"), ice.url("vov3.ogg"));
    let aac = std::thread::spawn(move || listen(&u2, Duration::from_millis(1500)));
    let ogg = listen(&u3, Duration::from_millis(1500));
    let aac = aac.join().unwrap();
    assert_stream("aac", &aac, Format::Aac);
    assert_stream("ogg", &ogg, Format::Ogg);
    assert_pitch("aac through ffmpeg", ffmpeg_pitch(aac.audio), 500.0);
    assert_pitch("ogg through ffmpeg", ffmpeg_pitch(ogg.audio), 1500.0);

    // The source dies under a listener: the listener's stream ends, the
    // mount is gone, a new listener gets a 404.
    let url = ice.url("vov1");
    let listener = std::thread::spawn(move || listen(&url, Duration::from_secs(3)));
    std::thread::sleep(Duration::from_millis(500));
    let t = Instant::now();
    mp3.kill();
    ice.wait_mount("vov1", false);
    let gone = t.elapsed();
    let cut = listener.join().unwrap();
    let cut_after = t.elapsed();
    assert!(cut.ended, "the listener's stream did not end: {cut:?}");
    let after = listen(&ice.url("vov1"), Duration::from_millis(500));
    assert_eq!(after.status, 404, "{after:?}");
    assert!(!ice.mount_live("vov1"));

    // It comes back.
    let t = Instant::now();
    mp3.restart();
    let back = t.elapsed();
    let again = listen(&ice.url("vov1"), Duration::from_millis(500));
    assert_stream("mp3 again", &again, Format::Mp3);
    assert!(!again.audio.is_empty(), "no audio after the restart");

    let t = Instant::now();
    drop((mp3, _aac, _ogg));
    drop(ice);
    let _ = writeln!(
        std::io::stderr(),
        "icecast: up in {started:?}; mp3 source live in {live:?}; mount gone {gone:?} after \
         SIGKILL (listener cut, {} bytes, by {cut_after:?}); back in {back:?}; all stopped in \
         {:?}; titles seen {:?}",
        cut.audio.len(),
        t.elapsed(),
        heard.titles,
    );
}

#[test]
fn fake_stations_answer_as_documented() {
    let html = Html::start();
    let page = listen(&html.url(), Duration::from_secs(3));
    assert_eq!(page.status, 200, "{page:?}");
    assert!(page.ended, "the page did not end");
    assert!(
        page.header("content-type")
            .is_some_and(|t| t.starts_with("text/html")),
        "{page:?}"
    );
    assert!(String::from_utf8_lossy(&page.audio).contains("<html>"));

    let m3u = M3u::start("http://127.0.0.1:9/vov1");
    let list = listen(&m3u.url(), Duration::from_secs(3));
    assert_eq!(list.status, 200, "{list:?}");
    assert_eq!(list.header("content-type"), Some("audio/x-mpegurl"));
    assert_eq!(list.audio, b"http://127.0.0.1:9/vov1\n");

    // The stall accepts, reads nothing back, sends nothing, closes nothing.
    let stall = Stall::start();
    let port: u16 = stall.url()["http://127.0.0.1:".len()..]
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(b"GET /stream HTTP/1.0\r\n\r\n").unwrap();
    s.set_read_timeout(Some(Duration::from_millis(700)))
        .unwrap();
    let mut buf = [0u8; 16];
    let got = s.read(&mut buf);
    assert!(
        got.as_ref().is_err_and(|e| matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        )),
        "the stall answered: {got:?}"
    );
    drop(stall);
    // Dropped: the connection is closed.
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    assert!(
        matches!(s.read(&mut buf), Ok(0) | Err(_)),
        "still open after the drop"
    );
}
