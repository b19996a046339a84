//! The encoder's thread: takes what the tap copied, downmixes it to mono,
//! encodes it with LAME (constant bitrate) and appends it to the file as it
//! comes, so that a power cut or `kill -9` leaves a file that plays up to
//! its last seconds. At the end it flushes LAME, writes the LAME tag over
//! the first frame when the bitrate's frames can hold one (the exact
//! length, for gapless players; at 32 kbit/s mono they cannot, and players
//! start with LAME's delay of about 50 ms), syncs the file and hashes it. It never touches the sound card's side: it only reads the
//! ring.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use mp3lame_encoder::{Bitrate, Builder, Encoder, FlushGap, Mode, MonoPcm, Quality};
use sha2::{Digest, Sha256};

use super::ArchiveError;
use super::tap::TapShared;

/// How often the thread looks at the ring when nobody wakes it: what it
/// finds is encoded and written to the file at once.
pub const POLL: Duration = Duration::from_millis(250);
/// How often what was written is forced to the card (a power cut loses
/// at most this much of the recording).
pub const SYNC_EVERY: Duration = Duration::from_secs(5);

/// How often, while recording, the free space is looked at.
pub const SPACE_EVERY: Duration = Duration::from_secs(30);

/// A recording once its file is closed.
#[derive(Clone, Debug, PartialEq)]
pub struct Closed {
    /// The file.
    pub path: PathBuf,
    /// Its size.
    pub bytes: u64,
    /// How much sound it holds.
    pub duration: Duration,
    /// The file's SHA-256, hex.
    pub sha256: String,
    /// Sound the encoder had no room for (it lagged): missing from the file.
    pub dropped: Duration,
}

/// What the thread does with the result: the daemon writes it into the
/// as-run log. `Ok(None)`: nothing was recorded (the file is removed).
pub type OnClose = Box<dyn FnOnce(Result<Option<Closed>, ArchiveError>) + Send>;

/// The state of one recording's encoding.
pub(super) struct Encoding {
    pub(super) file: File,
    pub(super) path: PathBuf,
    pub(super) bitrate_kbps: u32,
    pub(super) ring: rtrb::Consumer<f32>,
    pub(super) shared: Arc<TapShared>,
    /// Below half of the ingest reserve, the recording stops (closed as
    /// it is): the as-run log must keep room even in a long broadcast.
    pub(super) reserve: u64,
    /// Free space on the archive's disk (the seam tests replace).
    pub(super) free_space: fn(&std::path::Path) -> Option<u64>,
}

fn bitrate(kbps: u32) -> Bitrate {
    match kbps {
        ..=8 => Bitrate::Kbps8,
        9..=16 => Bitrate::Kbps16,
        17..=24 => Bitrate::Kbps24,
        25..=32 => Bitrate::Kbps32,
        33..=40 => Bitrate::Kbps40,
        41..=48 => Bitrate::Kbps48,
        49..=64 => Bitrate::Kbps64,
        65..=80 => Bitrate::Kbps80,
        81..=96 => Bitrate::Kbps96,
        97..=112 => Bitrate::Kbps112,
        113..=128 => Bitrate::Kbps128,
        129..=160 => Bitrate::Kbps160,
        _ => Bitrate::Kbps192,
    }
}

/// The rate LAME is given for a device at `rate`: halved (by [`Halver`])
/// from 32 kHz up, since at archive bitrates LAME would resample to half
/// the rate anyway, and doing it first costs far less than LAME's own
/// resampler (and halves LAME's work).
pub fn lame_rate(rate: u32) -> u32 {
    if rate >= 32_000 { rate / 2 } else { rate }
}

/// Halves the sample rate of a mono stream: the half-band filter
/// [-1 0 9 16 9 0 -1]/32, every second sample. Speech keeps what LAME
/// keeps at these bitrates (its low-pass is about 8 kHz).
#[derive(Debug)]
pub struct Halver {
    /// The samples still needed (the filter's history, then what came).
    buf: Vec<f32>,
    /// Where in `buf` the next output sample is centred.
    next: usize,
}

impl Default for Halver {
    fn default() -> Halver {
        Halver {
            buf: vec![0.0; 3],
            next: 3,
        }
    }
}

impl Halver {
    /// Appends to `out` the half-rate samples `input` completes.
    pub fn push(&mut self, input: &[f32], out: &mut Vec<f32>) {
        self.buf.extend_from_slice(input);
        let b = &self.buf;
        let mut c = self.next;
        while c + 3 < b.len() {
            let y = 16.0 * b[c] + 9.0 * (b[c - 1] + b[c + 1]) - (b[c - 3] + b[c + 3]);
            out.push(y * (1.0 / 32.0));
            c += 2;
        }
        self.buf.drain(..c - 3);
        self.next = 3;
    }

    /// The last samples, the filter's tail filled with silence.
    pub fn finish(&mut self, out: &mut Vec<f32>) {
        self.push(&[0.0; 4], out);
    }
}

/// A mono CBR LAME encoder taking `rate` Hz.
pub fn lame(rate: u32, kbps: u32) -> Result<Encoder, ArchiveError> {
    let fail = |e: mp3lame_encoder::BuildError| ArchiveError::Encoder(format!("{e:?}"));
    let mut b = Builder::new().ok_or_else(|| ArchiveError::Encoder("lame_init".into()))?;
    b.set_num_channels(1).map_err(fail)?;
    b.set_sample_rate(rate).map_err(fail)?;
    b.set_mode(Mode::Mono).map_err(fail)?;
    b.set_brate(bitrate(kbps)).map_err(fail)?;
    // Quality 7 ("fast"): for speech at these bitrates as good to the ear
    // as 5, at 60 % of the work.
    b.set_quality(Quality::Ok).map_err(fail)?;
    b.build().map_err(fail)
}

/// Averages the channels of interleaved `samples` (which may wrap around
/// the ring: `a` then `b`) into `mono`.
fn downmix(a: &[f32], b: &[f32], channels: usize, mono: &mut Vec<f32>) {
    if channels == 1 {
        mono.extend_from_slice(a);
        mono.extend_from_slice(b);
        return;
    }
    let scale = 1.0 / channels as f32;
    let (mut sum, mut n) = (0.0f32, 0);
    for s in a.iter().chain(b) {
        sum += *s;
        n += 1;
        if n == channels {
            mono.push(sum * scale);
            sum = 0.0;
            n = 0;
        }
    }
}

impl Encoding {
    /// Runs until the tap is dropped (the device closed) or the recording
    /// is closed; then finishes the file.
    pub(super) fn run(mut self) -> Result<Option<Closed>, ArchiveError> {
        let mut enc: Option<Encoder> = None;
        let mut halver = Halver::default();
        let mut mono: Vec<f32> = Vec::with_capacity(1 << 16);
        let mut half: Vec<f32> = Vec::with_capacity(1 << 15);
        let mut mp3: Vec<u8> = Vec::with_capacity(1 << 16);
        let mut frames: u64 = 0;
        let mut rate;
        let mut last_sync = Instant::now();
        let mut last_space = Instant::now();
        loop {
            if last_space.elapsed() >= SPACE_EVERY {
                last_space = Instant::now();
                self.stop_if_disk_low();
            }
            // Looked at before reading: once abandoned, every push is in.
            let done = self.ring.is_abandoned() || self.shared.closing.load(Ordering::Acquire);
            rate = self.shared.rate.load(Ordering::Acquire);
            let channels = self.shared.channels.load(Ordering::Acquire).max(1) as usize;
            let n = self.ring.slots() / channels * channels;
            if rate > 0 && n > 0 {
                let e = match &mut enc {
                    Some(e) => e,
                    None => enc.insert(lame(lame_rate(rate), self.bitrate_kbps)?),
                };
                mono.clear();
                if let Ok(chunk) = self.ring.read_chunk(n) {
                    let (a, b) = chunk.as_slices();
                    downmix(a, b, channels, &mut mono);
                    chunk.commit_all();
                }
                frames += mono.len() as u64;
                let pcm = if lame_rate(rate) == rate {
                    &mono
                } else {
                    half.clear();
                    halver.push(&mono, &mut half);
                    &half
                };
                mp3.clear();
                mp3.reserve(mp3lame_encoder::max_required_buffer_size(pcm.len()));
                e.encode_to_vec(MonoPcm(pcm.as_slice()), &mut mp3)
                    .map_err(|e| ArchiveError::Encoder(format!("{e:?}")))?;
                self.write(&mp3)?;
            }
            if last_sync.elapsed() >= SYNC_EVERY {
                let _ = self.file.sync_data();
                last_sync = Instant::now();
            }
            if done {
                break;
            }
            std::thread::park_timeout(POLL);
        }
        let Some(mut enc) = enc.filter(|_| frames > 0) else {
            drop(self.file);
            let _ = std::fs::remove_file(&self.path);
            // The day's folder too, if that left it empty.
            if let Some(day) = self.path.parent() {
                let _ = std::fs::remove_dir(day);
            }
            return Ok(None);
        };
        if lame_rate(rate) != rate {
            let mut tail = Vec::new();
            halver.finish(&mut tail);
            let mut mp3 = Vec::with_capacity(mp3lame_encoder::max_required_buffer_size(tail.len()));
            enc.encode_to_vec(MonoPcm(tail.as_slice()), &mut mp3)
                .map_err(|e| ArchiveError::Encoder(format!("{e:?}")))?;
            self.write(&mp3)?;
        }
        self.close(enc, frames, rate).map(Some)
    }

    /// Below half the reserve, the recording ends here (closed as it is).
    fn stop_if_disk_low(&self) {
        if (self.free_space)(&self.path).is_some_and(|f| f < self.reserve / 2) {
            tracing::warn!(file = %self.path.display(), "{}", crate::lang::log("đĩa gần đầy: dừng ghi âm buổi phát (nhật ký phát vẫn được ghi)", "the disk is nearly full: recording stops here (the as-run log goes on)"));
            self.shared.closing.store(true, Ordering::Release);
        }
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), ArchiveError> {
        self.file
            .write_all(bytes)
            .map_err(|source| ArchiveError::Write {
                path: self.path.clone(),
                source,
            })
    }

    /// The end: LAME's last frames, the LAME tag over the first frame, the
    /// file synced and hashed.
    fn close(mut self, mut enc: Encoder, frames: u64, rate: u32) -> Result<Closed, ArchiveError> {
        let mut mp3 = Vec::with_capacity(8192);
        enc.flush_to_vec::<FlushGap>(&mut mp3)
            .map_err(|e| ArchiveError::Encoder(format!("{e:?}")))?;
        self.write(&mp3)?;
        let mut tag = Vec::with_capacity(enc.lame_tag_size().max(1024));
        let path = self.path.clone();
        let io = |source| ArchiveError::Write {
            path: path.clone(),
            source,
        };
        if enc.lame_tag_encode_to_vec(&mut tag).is_some() {
            self.file.seek(SeekFrom::Start(0)).map_err(io)?;
            self.write(&tag)?;
            self.file.seek(SeekFrom::End(0)).map_err(io)?;
        }
        self.file.sync_all().map_err(io)?;
        self.file.seek(SeekFrom::Start(0)).map_err(io)?;
        let mut hash = Sha256::new();
        let mut buf = vec![0u8; 64 * 1024];
        let mut bytes = 0u64;
        loop {
            let n = self.file.read(&mut buf).map_err(io)?;
            if n == 0 {
                break;
            }
            hash.update(&buf[..n]);
            bytes += n as u64;
        }
        let rate = u64::from(rate.max(1));
        let dropped = self.shared.dropped.load(Ordering::Relaxed);
        Ok(Closed {
            path: self.path.clone(),
            bytes,
            duration: Duration::from_nanos(frames.saturating_mul(1_000_000_000) / rate),
            sha256: hex(&hash.finalize()),
            dropped: Duration::from_nanos(dropped.saturating_mul(1_000_000_000) / rate),
        })
    }
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downmix_averages_across_the_ring_wrap() {
        let mut mono = Vec::new();
        // Frames (1, 3), (0.5, 0.5), the second split across the wrap.
        downmix(&[1.0, 3.0, 0.5], &[0.5], 2, &mut mono);
        assert_eq!(mono, vec![2.0, 0.5]);
    }

    #[test]
    fn lame_takes_the_usual_device_rates() {
        for rate in [44_100, 48_000, 22_050, 16_000, 8_000] {
            assert!(lame(lame_rate(rate), 32).is_ok(), "{rate} Hz");
        }
    }

    #[test]
    fn halving_keeps_speech_and_drops_what_would_alias() {
        let rate = 48_000.0;
        let sine = |hz: f32, n: usize| -> Vec<f32> {
            (0..n)
                .map(|i| (2.0 * std::f32::consts::PI * hz * i as f32 / rate).sin())
                .collect()
        };
        let rms = |v: &[f32]| (v.iter().map(|s| s * s).sum::<f32>() / v.len() as f32).sqrt();
        for (hz, lo, hi) in [(1000.0, 0.69, 0.72), (22_000.0, 0.0, 0.05)] {
            let input = sine(hz, 48_000);
            let mut h = Halver::default();
            let mut out = Vec::new();
            // In uneven blocks: the filter's state carries over.
            for block in input.chunks(1001) {
                h.push(block, &mut out);
            }
            h.finish(&mut out);
            assert!((24_000..=24_002).contains(&out.len()), "{}", out.len());
            let level = rms(&out[100..23_900]);
            assert!((lo..=hi).contains(&level), "{hz} Hz: {level}");
        }
    }
}
