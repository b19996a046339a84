//! Measuring one audio file in a single pass: what it is (codec, rate,
//! channels), how long it plays, its loudness (EBU R128 integrated) and
//! true peak, and the SHA-256 of its bytes (for the as-run log: which exact
//! recording aired). The file is opened once and read once: the same pass
//! hands every byte to an observer ([`ByteObserver`]: validation walks MP3
//! frames and Ogg pages with it) and counts what validation compares
//! (frames decoded and announced, where decoding failed). It does not judge
//! whether a file may air (validate.rs) nor remember what it measured (the
//! media index does).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use sha2::{Digest, Sha256};
use symphonia::core::io::MediaSource;

use super::decode::{Decoder, check_header};
use super::folder::MediaPath;
use super::loudness;
use super::probe::{Probe, ProbeError};

/// Sees every byte of a file exactly once, in order, while it is measured
/// (validation walks the MP3 frames with it). Bytes come in pieces of any
/// size; `end` follows the last.
pub trait ByteObserver: Send {
    /// Takes the next piece of the file.
    fn observe(&mut self, bytes: &[u8]);
    /// Called once after the last piece.
    fn end(&mut self) {}
}

/// Observes nothing.
impl ByteObserver for () {
    fn observe(&mut self, _: &[u8]) {}
}

/// What one measuring pass learns: the probe, and the counts validation
/// compares.
#[derive(Clone, Debug, PartialEq)]
pub struct Measurement {
    /// What the file is and how it plays.
    pub probe: Probe,
    /// Frames (samples per channel) decoded, gapless (without the encoder
    /// delay and padding): exact, where `probe.duration` is rounded down to
    /// the millisecond.
    pub frames: u64,
    /// Frames decoded but trimmed as the encoder's delay and padding (see
    /// `Decoder::trimmed`): `frames + trimmed` is what an MP3's frame count
    /// times its frame length gives.
    pub trimmed: u64,
    /// Frames the container announces, if it does, gapless (see
    /// `Decoder::announced_frames`; for MP3 symphonia guesses from the
    /// bitrate when there is no Xing header, so validation reads the header
    /// itself).
    pub announced_frames: Option<u64>,
    /// Frames decoded before the first packet that could not be.
    pub first_error_at: Option<u64>,
    /// Jumps in the container's packet timestamps (a lost stretch of a
    /// FLAC), and the frames decoded before the first.
    pub skips: u32,
    /// Frames decoded before the first jump; None when there was none.
    pub first_skip_at: Option<u64>,
    /// Decoding stopped early, after `frames`, on this error from the
    /// container (a probe reports it as `ProbeError::Corrupt`).
    pub stream_error: Option<String>,
    /// The file's size in bytes.
    pub bytes: u64,
}

impl Measurement {
    /// A length in frames as a duration at this file's sample rate.
    pub fn frames_to_duration(&self, frames: u64) -> Duration {
        let rate = u64::from(self.probe.sample_rate.max(1));
        Duration::from_secs(frames / rate)
            + Duration::from_nanos((frames % rate) * 1_000_000_000 / rate)
    }
}

/// Decodes the whole file: its length, loudness and true peak. A file that
/// does not decode at all is an error; skipped packets are counted.
pub fn probe(path: &Path) -> Result<Probe, ProbeError> {
    let (m, ()) = measure(&MediaPath::Given(path.to_path_buf()), ())?;
    match m.stream_error {
        Some(e) => Err(ProbeError::Corrupt(e)),
        None => Ok(m.probe),
    }
}

/// Decodes the whole file once and measures it: loudness and true peak on
/// a second thread while this one decodes, and SHA-256 and `observer` fed
/// from the bytes as the decoder reads them (the file is read once). Fails
/// when the file is empty, unreadable, not audio, in a codec this build
/// cannot play, or yields no sound at all; an error from the container
/// after some sound ends decoding early and is reported in
/// `Measurement::stream_error`. Gives the observer back.
pub fn measure<O: ByteObserver + 'static>(
    media: &MediaPath,
    observer: O,
) -> Result<(Measurement, O), ProbeError> {
    let io = |e: std::io::Error| ProbeError::Io(e.to_string());
    let file = media.open().map_err(ProbeError::from)?;
    // The same open file, read again from where the decoder stopped: never
    // opened a second time by name (it may have been swapped meanwhile).
    let rest = file.try_clone().map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    if len == 0 {
        return Err(ProbeError::Empty);
    }
    check_header(&file)?;
    let tap = Arc::new(Mutex::new(Tap {
        hasher: Sha256::new(),
        observer,
        fed: 0,
    }));
    let source = TapSource {
        file,
        pos: 0,
        len,
        tap: Arc::clone(&tap),
    };
    let mut dec = Decoder::from_source(Box::new(source), media.extension().as_deref())?;
    let (levels, stream_error) = decode_and_meter(&mut dec)?;
    if dec.frames == 0 {
        return Err(match stream_error {
            Some(e) => ProbeError::Corrupt(e),
            None if dec.decode_errors > 0 => ProbeError::Corrupt(format!(
                "{} packets could not be decoded",
                dec.decode_errors
            )),
            None => ProbeError::NotAudio,
        });
    }
    let codec = std::mem::take(&mut dec.codec);
    let (sample_rate, channels, frames) = (dec.sample_rate, dec.channels, dec.frames);
    let trimmed = dec.trimmed;
    let (decode_errors, first_error_at) = (dec.decode_errors, dec.first_error_at);
    let (skips, first_skip_at) = (dec.skips, dec.first_skip_at);
    let announced_frames = dec.announced_frames;
    drop(dec);
    // The decoder held the other handle on the tap; it is gone now.
    let mut tap = match Arc::try_unwrap(tap) {
        Ok(m) => m.into_inner().unwrap_or_else(|p| p.into_inner()),
        Err(_) => unreachable!("the decoder and its source were dropped"),
    };
    // What the decoder did not read (a trailing tag, or all of it after an
    // early stop) still counts for the hash and the observer.
    tap.feed_rest(rest).map_err(io)?;
    tap.observer.end();
    let sha256: String = tap
        .hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let (loudness_lufs, true_peak_db) = levels.unwrap_or((None, None));
    let probe = Probe {
        duration: Duration::from_millis(frames * 1000 / u64::from(sample_rate.max(1))),
        codec,
        sample_rate,
        channels,
        loudness_lufs,
        true_peak_db,
        decode_errors,
        sha256: Some(sha256),
    };
    let measurement = Measurement {
        probe,
        frames,
        trimmed,
        announced_frames,
        first_error_at,
        skips,
        first_skip_at,
        stream_error,
        bytes: len,
    };
    Ok((measurement, tap.observer))
}

/// Frames per block handed to the meter thread: large enough that the
/// hand-over costs nothing, small enough to keep memory low on a Pi.
const METER_BLOCK_FRAMES: usize = 16 * 1024;

/// Loudness and true peak, in LUFS and dBFS.
type Levels = (Option<f64>, Option<f64>);

/// Decodes to the end on this thread while a second one measures loudness
/// and true peak (decoding and measuring each take about as long as the
/// other; together they would take twice as long). Returns the levels
/// (None when nothing was decoded) and the container error that ended
/// decoding early, if one did.
fn decode_and_meter(dec: &mut Decoder) -> Result<(Option<Levels>, Option<String>), ProbeError> {
    let rate = dec.sample_rate;
    let (full_tx, full_rx) = mpsc::sync_channel::<Vec<Vec<f32>>>(2);
    let (empty_tx, empty_rx) = mpsc::channel::<Vec<Vec<f32>>>();
    std::thread::scope(|s| {
        let meter = std::thread::Builder::new()
            .name("loa-meter".into())
            .spawn_scoped(s, move || {
                let mut meter: Option<loudness::Meter> = None;
                for block in full_rx {
                    meter
                        .get_or_insert_with(|| loudness::Meter::new(block.len(), rate))
                        .add(&block);
                    let _ = empty_tx.send(block);
                }
                meter.map(|m| m.finish())
            })
            .map_err(|e| ProbeError::Io(format!("cannot start the measuring thread: {e}")))?;
        let mut block: Vec<Vec<f32>> = Vec::new();
        let mut outcome = Ok(None);
        loop {
            match dec.advance() {
                Ok(true) => {}
                Ok(false) => break,
                Err(ProbeError::Corrupt(e)) => {
                    outcome = Ok(Some(e));
                    break;
                }
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            }
            if block.is_empty() {
                block = empty_rx.try_recv().unwrap_or_default();
                block.resize_with(usize::from(dec.channels), Vec::new);
                block.iter_mut().for_each(Vec::clear);
            }
            dec.append_planar(&mut block);
            if block[0].len() >= METER_BLOCK_FRAMES
                && full_tx.send(std::mem::take(&mut block)).is_err()
            {
                break;
            }
        }
        if block.first().is_some_and(|b| !b.is_empty()) {
            let _ = full_tx.send(block);
        }
        drop(full_tx);
        let levels = meter
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        outcome.map(|stream_error| (levels, stream_error))
    })
}

/// The hash and the observer, fed in file order from whatever the decoder
/// reads.
struct Tap<O> {
    hasher: Sha256,
    observer: O,
    /// Bytes fed so far: the file's first `fed` bytes.
    fed: u64,
}

impl<O: ByteObserver> Tap<O> {
    /// Takes the bytes read at `at` that extend what was fed; a read that
    /// jumps ahead (a container looking at the end of the file first) is
    /// left for later, when the decoder or `feed_rest` reads in order.
    fn feed(&mut self, at: u64, bytes: &[u8]) {
        let end = at + bytes.len() as u64;
        if at > self.fed || end <= self.fed {
            return;
        }
        let new = &bytes[(self.fed - at) as usize..];
        self.hasher.update(new);
        self.observer.observe(new);
        self.fed = end;
    }

    /// Feeds the rest of the file, from where the decoder stopped reading.
    fn feed_rest(&mut self, mut file: File) -> std::io::Result<()> {
        file.seek(SeekFrom::Start(self.fed))?;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match file.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => self.feed(self.fed, &buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

/// The file as symphonia reads it, with a tap on the bytes.
struct TapSource<O> {
    file: File,
    pos: u64,
    len: u64,
    tap: Arc<Mutex<Tap<O>>>,
}

impl<O: ByteObserver> Read for TapSource<O> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read(buf)?;
        self.tap
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .feed(self.pos, &buf[..n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl<O> Seek for TapSource<O> {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        self.pos = self.file.seek(to)?;
        Ok(self.pos)
    }
}

impl<O: ByteObserver + 'static> MediaSource for TapSource<O> {
    fn is_seekable(&self) -> bool {
        true
    }

    fn byte_len(&self) -> Option<u64> {
        Some(self.len)
    }
}

/// The SHA-256 of a file's bytes as lowercase hex, read 64 KiB at a time.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_is_lowercase_hex_of_the_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("abc");
        std::fs::write(&f, b"abc").unwrap();
        assert_eq!(
            sha256_file(&f).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // Longer than one 64 KiB read.
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'a'; 200_000]).unwrap();
        let mut h = Sha256::new();
        h.update(vec![b'a'; 200_000]);
        let expected: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(sha256_file(&big).unwrap(), expected);
    }

    #[test]
    fn probing_a_sample_gives_its_hash() {
        let f = Path::new(env!("CARGO_MANIFEST_DIR")).join("audio/nhac-hieu.mp3");
        let p = probe(&f).unwrap();
        assert_eq!(p.sha256, Some(sha256_file(&f).unwrap()));
        assert_eq!(p.sha256.as_deref().map(str::len), Some(64));
    }

    /// Collects what it observes.
    #[derive(Default)]
    struct Copy(Vec<u8>, bool);

    impl ByteObserver for Copy {
        fn observe(&mut self, bytes: &[u8]) {
            assert!(!self.1, "bytes after the end");
            self.0.extend_from_slice(bytes);
        }
        fn end(&mut self) {
            self.1 = true;
        }
    }

    #[test]
    fn the_observer_sees_every_byte_once_in_order() {
        let f = Path::new(env!("CARGO_MANIFEST_DIR")).join("audio/nhac-hieu.mp3");
        let (m, seen) = measure(&MediaPath::Given(f.clone()), Copy::default()).unwrap();
        assert!(seen.1);
        assert_eq!(seen.0, std::fs::read(&f).unwrap());
        assert_eq!(m.bytes, seen.0.len() as u64);
        assert_eq!(
            m.probe.duration.as_millis() as u64,
            m.frames * 1000 / 44_100
        );
        // The Ogg reader looks at the end of the file before the start.
        let opus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tone.opus");
        assert!(matches!(
            measure(&MediaPath::Given(opus.clone()), Copy::default()),
            Err(ProbeError::Unsupported(_))
        ));
    }

    #[test]
    fn one_pass_gives_what_the_ebur128_crate_measures() {
        use ebur128::{EbuR128, Mode};
        let f = Path::new(env!("CARGO_MANIFEST_DIR")).join("audio/nhac-hieu.mp3");
        let p = probe(&f).unwrap();
        let mut dec = Decoder::open(&MediaPath::Given(f.clone())).unwrap();
        let mut m = EbuR128::new(
            u32::from(dec.channels),
            dec.sample_rate,
            Mode::I | Mode::TRUE_PEAK,
        )
        .unwrap();
        let mut chunk = Vec::new();
        while dec.next_into(&mut chunk).unwrap() {
            m.add_frames_f32(&chunk).unwrap();
            chunk.clear();
        }
        let l = m.loudness_global().unwrap();
        let peak = (0..u32::from(dec.channels))
            .map(|c| m.true_peak(c).unwrap())
            .fold(0.0, f64::max);
        assert!((p.loudness_lufs.unwrap() - l).abs() < 0.01, "{p:?} vs {l}");
        assert!(
            (p.true_peak_db.unwrap() - 20.0 * peak.log10()).abs() < 0.01,
            "{p:?} vs {peak}"
        );
        assert_eq!(
            p.duration.as_millis() as u64,
            dec.frames * 1000 / u64::from(dec.sample_rate)
        );
    }
}
