//! A sound card for tests on a machine without one: ALSA's `file` plugin
//! (into a `null` slave) captures exactly what loa played, through a `plug`
//! with a fixed format (S16_LE, 48 kHz, stereo), configured by an asoundrc in
//! a temporary XDG_CONFIG_HOME that only the child process sees. The paced
//! variant writes into a named pipe that a thread of the test drains at the
//! card's rate, so time passes as on a real card. Also the
//! analysis of a capture (where the sound is, its pitch and level), and test
//! tones written as WAV files.

use std::io::{Read, Write};
use std::ops::Range;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::Loa;

/// The capture's format: what the plug converts everything to.
pub const RATE: usize = 48_000;
pub const CHANNELS: usize = 2;
/// Real time: 48000 frames * 2 channels * 2 bytes.
const BYTES_PER_SECOND: usize = RATE * CHANNELS * 2;

/// The paced card's drain: a thread reading the named pipe at real-time
/// speed into the capture file.
///
/// loa has a card like this of its own (`loa::player::standin`, for `loa
/// demo` and the benchmarks); the tests keep theirs on purpose. What the
/// tests measure (the gaps, the fades, the timing of the sound) is taken
/// through this card: were it loa's, a fault in loa's stand-in (a drift, a
/// dropped page) would move the measurement and the code under test
/// together, and the test would pass on a wrong card. The two are small
/// and kept independent.
struct Pacer {
    stop: Arc<AtomicBool>,
    fifo: PathBuf,
    _dir: TempDir,
}

/// The pacer's step: 10 ms of sound.
const STEP_BYTES: usize = BYTES_PER_SECOND / 100;

impl Pacer {
    /// `keep`: each time loa opens the device its sound is added to the
    /// capture (else the capture starts afresh).
    fn start(dir: TempDir, fifo: PathBuf, capture: PathBuf, keep: bool) -> Pacer {
        let stop = Arc::new(AtomicBool::new(false));
        let (s, f) = (stop.clone(), fifo.clone());
        std::thread::Builder::new()
            .name("paced-card".into())
            .spawn(move || Pacer::drain(&s, &f, &capture, keep))
            .unwrap();
        Pacer {
            stop,
            fifo,
            _dir: dir,
        }
    }

    fn drain(stop: &AtomicBool, fifo: &Path, capture: &Path, keep: bool) {
        while !stop.load(Ordering::Acquire) {
            // Blocks until loa opens the device.
            let Ok(mut input) = std::fs::File::open(fifo) else {
                return;
            };
            if stop.load(Ordering::Acquire) {
                return;
            }
            // One page: loa can be at most 21 ms ahead of the clock.
            let _ = rustix::pipe::fcntl_setpipe_size(&input, 4096);
            let out = std::fs::OpenOptions::new()
                .create(true)
                .write(true)
                .append(keep)
                .truncate(!keep)
                .open(capture);
            let Ok(mut out) = out else {
                return;
            };
            let mut buf = vec![0u8; STEP_BYTES];
            let mut next = Instant::now();
            loop {
                if let Some(wait) = next.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                let n = read_full(&mut input, &mut buf);
                if n == 0 {
                    break;
                }
                // After a pause (nothing written), the card starts again from
                // now: it never catches up with a burst.
                let now = Instant::now();
                if now > next + Duration::from_millis(20) {
                    next = now;
                }
                if out.write_all(&buf[..n]).is_err() {
                    return;
                }
                next += Duration::from_secs_f64(n as f64 / BYTES_PER_SECOND as f64);
            }
        }
    }
}

/// Reads until `buf` is full or the writer has gone; the bytes read.
fn read_full(input: &mut std::fs::File, buf: &mut [u8]) -> usize {
    let mut got = 0;
    while got < buf.len() {
        match input.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    got
}

impl Drop for Pacer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        // Wakes the thread if it waits in `open` for a writer.
        let _ = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&self.fifo);
    }
}

/// A stand-in sound card for one test.
pub struct SoundCard {
    // Stopped before the folder that holds its pipe goes.
    _pacer: Option<Pacer>,
    _dir: TempDir,
    xdg: PathBuf,
    capture: PathBuf,
}

impl SoundCard {
    /// Captures as fast as loa writes (not real time).
    pub fn unpaced() -> SoundCard {
        SoundCard::new(r#"file { @func getenv vars [ LOA_TEST_CAPTURE ] default "/dev/null" }"#)
    }

    /// Captures at real-time speed, as a card would take the samples: loa
    /// writes into a named pipe, and a thread takes 10 ms of sound from it
    /// every 10 ms, with a pipe buffer of one page (21 ms), so loa can never
    /// run ahead of the clock by more than a real card's buffer. A paused
    /// stream takes nothing and earns no credit (unlike `pv -L`, which
    /// bursts up to 5 s after an idle spell). Each time loa opens the
    /// device, the capture starts afresh.
    pub fn paced() -> SoundCard {
        SoundCard::paced_with(false)
    }

    /// As [`SoundCard::paced`], the sound of every time loa opens the
    /// device kept, one after the other, in the capture.
    pub fn paced_keeping() -> SoundCard {
        SoundCard::paced_with(true)
    }

    fn paced_with(keep: bool) -> SoundCard {
        let pipe_dir = tempfile::tempdir().unwrap();
        let fifo = pipe_dir.path().join("card");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .expect("a named pipe for the paced sound card");
        let mut card = SoundCard::new(&format!(r#"file "{}""#, fifo.display()));
        card._pacer = Some(Pacer::start(pipe_dir, fifo, card.capture.clone(), keep));
        card
    }

    /// No ALSA device at all: an asoundrc that leaves `default` pointing at
    /// a card this machine does not have.
    pub fn absent() -> SoundCard {
        let dir = tempfile::tempdir().unwrap();
        let xdg = dir.path().join("xdg");
        std::fs::create_dir_all(xdg.join("alsa")).unwrap();
        std::fs::write(xdg.join("alsa/asoundrc"), "# no devices\n").unwrap();
        let capture = dir.path().join("capture.raw");
        SoundCard {
            _pacer: None,
            _dir: dir,
            xdg,
            capture,
        }
    }

    fn new(file_line: &str) -> SoundCard {
        let dir = tempfile::tempdir().unwrap();
        let xdg = dir.path().join("xdg");
        std::fs::create_dir_all(xdg.join("alsa")).unwrap();
        let rc = format!(
            r#"pcm.!default {{
  type plug
  slave {{ pcm "loa_capture"; format S16_LE; rate {RATE}; channels {CHANNELS} }}
}}
pcm.loa_capture {{
  type file
  slave.pcm "null"
  {file_line}
  format "raw"
}}
"#
        );
        std::fs::write(xdg.join("alsa/asoundrc"), rc).unwrap();
        let capture = dir.path().join("capture.raw");
        SoundCard {
            _pacer: None,
            _dir: dir,
            xdg,
            capture,
        }
    }

    /// Points a run of loa at this card.
    pub fn attach(&self, loa: Loa) -> Loa {
        loa.env("XDG_CONFIG_HOME", &self.xdg)
            .env("LOA_TEST_CAPTURE", &self.capture)
    }

    pub fn xdg(&self) -> &Path {
        &self.xdg
    }

    pub fn capture_path(&self) -> &Path {
        &self.capture
    }

    /// How many bytes the capture holds so far.
    pub fn capture_len(&self) -> u64 {
        std::fs::metadata(&self.capture).map_or(0, |m| m.len())
    }

    /// What was played from byte `from` of the capture on (a whole frame).
    pub fn capture_from(&self, from: u64) -> Capture {
        use std::io::Seek;
        let mut bytes = Vec::new();
        if let Ok(mut f) = std::fs::File::open(&self.capture) {
            let _ = f.seek(std::io::SeekFrom::Start(from));
            let _ = f.read_to_end(&mut bytes);
        }
        bytes.truncate(bytes.len() / (2 * CHANNELS) * (2 * CHANNELS));
        let samples = bytes
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]))
            .collect();
        Capture { samples }
    }

    /// What was played (empty if nothing was).
    pub fn capture(&self) -> Capture {
        let bytes = std::fs::read(&self.capture).unwrap_or_default();
        let samples: Vec<i16> = bytes
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]))
            .collect();
        Capture { samples }
    }
}

/// A captured stream, S16_LE interleaved stereo at 48 kHz.
pub struct Capture {
    pub samples: Vec<i16>,
}

impl Capture {
    pub fn frames(&self) -> usize {
        self.samples.len() / CHANNELS
    }

    /// The left channel as -1..1.
    pub fn left(&self, range: Range<usize>) -> Vec<f64> {
        range
            .map(|f| self.samples[f * CHANNELS] as f64 / 32768.0)
            .collect()
    }

    fn frame_is_silent(&self, f: usize) -> bool {
        (0..CHANNELS).all(|c| self.samples[f * CHANNELS + c] == 0)
    }

    /// The stretches of sound (frames that are not exactly zero), merging
    /// stretches separated by less than `min_gap` frames of zeros (the zero
    /// crossings inside a tone).
    pub fn sounds(&self, min_gap: usize) -> Vec<Range<usize>> {
        let mut out: Vec<Range<usize>> = Vec::new();
        let mut f = 0;
        let n = self.frames();
        while f < n {
            if self.frame_is_silent(f) {
                f += 1;
                continue;
            }
            let start = f;
            let mut end = f + 1;
            let mut zeros = 0;
            let mut g = f + 1;
            while g < n {
                if self.frame_is_silent(g) {
                    zeros += 1;
                    if zeros >= min_gap {
                        break;
                    }
                } else {
                    zeros = 0;
                    end = g + 1;
                }
                g += 1;
            }
            out.push(start..end);
            f = end.max(g);
        }
        out
    }

    /// The stretches of sound at least `min_len` frames long (so that a
    /// short click is not taken for an item).
    pub fn items(&self, min_len: usize) -> Vec<Range<usize>> {
        self.sounds(RATE / 100)
            .into_iter()
            .filter(|r| r.len() >= min_len)
            .collect()
    }

    /// Pitch by counting rising zero crossings of the left channel.
    pub fn frequency(&self, range: Range<usize>) -> f64 {
        let x = self.left(range.clone());
        let crossings = x.windows(2).filter(|w| w[0] < 0.0 && w[1] >= 0.0).count();
        crossings as f64 * RATE as f64 / range.len() as f64
    }

    /// RMS level of the left channel, dBFS.
    pub fn rms_db(&self, range: Range<usize>) -> f64 {
        let x = self.left(range);
        let ms = x.iter().map(|v| v * v).sum::<f64>() / x.len().max(1) as f64;
        10.0 * ms.max(1e-20).log10()
    }

    /// Peak of the left channel, absolute.
    pub fn peak(&self, range: Range<usize>) -> f64 {
        self.left(range).iter().fold(0.0f64, |m, v| m.max(v.abs()))
    }
}

/// Writes a mono 16-bit WAV of a sine tone (amplitude 0..1).
pub fn tone_wav(path: &Path, freq: f64, seconds: f64, amplitude: f64, rate: u32) {
    let frames = (seconds * rate as f64).round() as usize;
    let samples: Vec<i16> = (0..frames)
        .map(|i| {
            let t = i as f64 / rate as f64;
            (amplitude * (2.0 * std::f64::consts::PI * freq * t).sin() * 32767.0).round() as i16
        })
        .collect();
    write_wav(path, &samples, rate, 1);
}

/// Writes interleaved 16-bit samples as a WAV file.
pub fn write_wav(path: &Path, samples: &[i16], rate: u32, channels: u16) {
    let data_len = (samples.len() * 2) as u32;
    let mut b = Vec::with_capacity(44 + samples.len() * 2);
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data_len).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&channels.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(rate * 2 * channels as u32).to_le_bytes());
    b.extend_from_slice(&(2 * channels).to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        b.extend_from_slice(&s.to_le_bytes());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, b).unwrap();
}
