//! The sources the output plays: an item (decoded ahead on its own thread,
//! with its gain and its fades in and out) and an exact silence. They run in
//! the audio thread, so they never block for long and never allocate per
//! sample; a stop request fades the sound out within `STOP_FADE_MAX`.

use std::num::NonZero;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TryRecvError, sync_channel};
use std::time::Duration;

use rodio::Source;

use super::{ItemSpec, Progress, State};
use crate::media::probe::{Decoder, ProbeError};

/// How many decoded chunks may wait (about 1.5 s of audio at 44.1 kHz).
const AHEAD_CHUNKS: usize = 64;
/// Frames per chunk handed from the decoder thread.
const CHUNK_FRAMES: usize = 1152;
/// A stop request fades out over the item's fade, but at least this...
const STOP_FADE_MIN: Duration = Duration::from_millis(50);
/// ...and at most this ("within half a second").
pub const STOP_FADE_MAX: Duration = Duration::from_millis(400);

enum Chunk {
    Samples(Vec<f32>),
    End,
    Error(String),
}

/// Raised-cosine ramp: 0 at x = 0, 1 at x = 1.
fn ramp(x: f32) -> f32 {
    let x = x.clamp(0.0, 1.0);
    0.5 - 0.5 * (std::f32::consts::PI * x).cos()
}

/// An item being played: decoded ahead on a thread of its own.
pub struct ItemSource {
    rx: Receiver<Chunk>,
    cur: Vec<f32>,
    pos: usize,
    channels: NonZero<u16>,
    rate: NonZero<u32>,
    progress: Arc<Progress>,
    /// Index of the next sample within its frame.
    chan: u16,
    /// Frames left / total of a stop fade in progress.
    stop_ramp: Option<(u32, u32)>,
    /// Gain of the current frame (1 unless stopping).
    frame_gain: f32,
    /// Zero frames still to give during an underrun.
    silence_samples: u16,
    ended: bool,
    total: Option<Duration>,
    /// How long a stop request takes to fade out.
    stop_fade: Duration,
    /// Frames given so far.
    frames: u64,
    /// Fault injection for tests (`LOA_FAULT_INJECT=audio-panic`): panic in
    /// the audio thread after this many frames.
    panic_after: Option<u64>,
}

impl ItemSource {
    /// Opens the file and starts decoding it ahead.
    pub fn open(spec: &ItemSpec) -> Result<(ItemSource, Arc<Progress>), ProbeError> {
        let dec = Decoder::open(&spec.path)?;
        let channels = NonZero::new(dec.channels.max(1)).expect("max(1) is not zero");
        let rate = NonZero::new(dec.sample_rate).ok_or(ProbeError::NotAudio)?;
        let progress = Progress::new(rate.get());
        let (tx, rx) = sync_channel(AHEAD_CHUNKS);
        let gain = super::gain::db_to_linear(spec.gain_db);
        let fade_frames = (spec.fade.as_secs_f64() * rate.get() as f64).round() as usize;
        let p = progress.clone();
        std::thread::Builder::new()
            .name("decode".into())
            .spawn(move || decode_ahead(dec, gain, fade_frames, tx, p))
            .map_err(|e| ProbeError::Io(e.to_string()))?;
        Ok((
            ItemSource {
                rx,
                cur: Vec::new(),
                pos: 0,
                channels,
                rate,
                progress: progress.clone(),
                chan: 0,
                stop_ramp: None,
                frame_gain: 1.0,
                silence_samples: 0,
                ended: false,
                total: spec.duration,
                stop_fade: spec.fade.max(STOP_FADE_MIN).min(STOP_FADE_MAX),
                frames: 0,
                panic_after: (std::env::var("LOA_FAULT_INJECT").as_deref() == Ok("audio-panic"))
                    .then_some(rate.get() as u64 / 2),
            },
            progress,
        ))
    }

    fn end(&mut self, state: State) -> Option<f32> {
        self.ended = true;
        self.progress.finish(state);
        None
    }

    /// Called at each frame boundary: handles stop requests.
    fn start_frame(&mut self) -> bool {
        if let Some((left, total)) = &mut self.stop_ramp {
            if *left == 0 {
                return false;
            }
            *left -= 1;
            self.frame_gain = ramp(*left as f32 / *total as f32);
        } else if self.progress.stop_requested() {
            let total = ((self.stop_fade.as_secs_f64() * self.rate.get() as f64) as u32).max(1);
            self.stop_ramp = Some((total, total));
            return self.start_frame();
        }
        true
    }
}

impl Iterator for ItemSource {
    type Item = f32;

    fn next(&mut self) -> Option<f32> {
        if self.ended {
            return None;
        }
        if self.chan == 0 {
            self.progress.mark_playing();
            if self.panic_after.is_some_and(|n| self.frames >= n) {
                panic!("injected fault (LOA_FAULT_INJECT=audio-panic): a panic in the audio path");
            }
            if !self.start_frame() {
                return self.end(State::Stopped);
            }
        }
        let sample = loop {
            if self.silence_samples > 0 {
                self.silence_samples -= 1;
                break 0.0;
            }
            if self.pos < self.cur.len() {
                let s = self.cur[self.pos];
                self.pos += 1;
                break s * self.frame_gain;
            }
            // Chunks hold whole frames, so this is a frame boundary.
            let got = if self.progress.state() == State::Queued || self.cur.is_empty() {
                self.rx
                    .recv_timeout(Duration::from_millis(200))
                    .map_err(|e| matches!(e, RecvTimeoutError::Disconnected))
            } else {
                match self.rx.try_recv() {
                    Ok(c) => Ok(c),
                    Err(TryRecvError::Disconnected) => Err(true),
                    Err(TryRecvError::Empty) => self
                        .rx
                        .recv_timeout(Duration::from_millis(5))
                        .map_err(|e| matches!(e, RecvTimeoutError::Disconnected)),
                }
            };
            match got {
                Ok(Chunk::Samples(v)) => {
                    self.cur = v;
                    self.pos = 0;
                }
                Ok(Chunk::End) => return self.end(State::Finished),
                Ok(Chunk::Error(msg)) => {
                    self.ended = true;
                    self.progress.fail(msg);
                    return None;
                }
                Err(true) if self.stop_ramp.is_some() => return self.end(State::Stopped),
                Err(true) => {
                    self.ended = true;
                    self.progress
                        .fail("the decoder stopped unexpectedly".into());
                    return None;
                }
                Err(false) => {
                    // The decoder is behind: one frame of silence, counted.
                    self.progress.note_underrun();
                    self.silence_samples = self.channels.get();
                }
            }
        };
        self.chan += 1;
        if self.chan == self.channels.get() {
            self.chan = 0;
            self.frames += 1;
            self.progress.add_frames(1);
        }
        Some(sample)
    }
}

impl Source for ItemSource {
    // A span is what is left of the current decoded chunk (whole frames).
    // Never None: rodio's queue passes a None up unchanged, and the mixer
    // then keeps this item's channels and rate for whatever follows it.
    fn current_span_len(&self) -> Option<usize> {
        if self.ended {
            return Some(0);
        }
        let left = self.cur.len() - self.pos + self.silence_samples as usize;
        Some(if left > 0 {
            left
        } else {
            self.channels.get() as usize
        })
    }
    fn channels(&self) -> rodio::ChannelCount {
        self.channels
    }
    fn sample_rate(&self) -> rodio::SampleRate {
        self.rate
    }
    fn total_duration(&self) -> Option<Duration> {
        self.total
    }
}

impl Drop for ItemSource {
    fn drop(&mut self) {
        if !self.progress.state().is_over() {
            self.progress
                .fail("the audio output stopped before the item ended".into());
        }
    }
}

/// The decoder thread: decodes, applies the gain and the fades (holding the
/// last `fade` back until it knows where the end is), and hands chunks over.
fn decode_ahead(
    mut dec: Decoder,
    gain: f32,
    fade_frames: usize,
    tx: SyncSender<Chunk>,
    progress: Arc<Progress>,
) {
    let ch = dec.channels.max(1) as usize;
    let fade_samples = fade_frames * ch;
    let mut pending: Vec<f32> = Vec::with_capacity(fade_samples + 4 * CHUNK_FRAMES * ch);
    let mut emitted_frames: usize = 0;
    let mut buf = Vec::with_capacity(CHUNK_FRAMES * ch * 2);
    let fade_in = |chunk: &mut [f32], first_frame: usize| {
        if first_frame >= fade_frames {
            return;
        }
        for (i, frame) in chunk.chunks_mut(ch).enumerate() {
            let f = first_frame + i;
            if f >= fade_frames {
                break;
            }
            let g = ramp((f as f32 + 0.5) / fade_frames as f32);
            frame.iter_mut().for_each(|s| *s *= g);
        }
    };
    // A stop is handled by the source (it fades out what is already
    // decoded); this thread ends when the source is dropped and a send fails.
    let _ = &progress;
    loop {
        buf.clear();
        match dec.next_into(&mut buf) {
            Ok(true) => {
                for s in &mut buf {
                    *s = (*s * gain).clamp(-1.0, 1.0);
                }
                pending.extend_from_slice(&buf);
                let chunk_samples = CHUNK_FRAMES * ch;
                while pending.len() >= fade_samples + chunk_samples {
                    let mut out: Vec<f32> = pending.drain(..chunk_samples).collect();
                    fade_in(&mut out, emitted_frames);
                    emitted_frames += CHUNK_FRAMES;
                    if tx.send(Chunk::Samples(out)).is_err() {
                        return;
                    }
                }
            }
            Ok(false) => {
                let mut out = std::mem::take(&mut pending);
                fade_in(&mut out, emitted_frames);
                let frames = out.len() / ch;
                let n = fade_frames.min(frames);
                for (i, frame) in out.chunks_mut(ch).skip(frames - n).enumerate() {
                    let left = n - i;
                    let g = ramp((left as f32 - 0.5) / fade_frames.max(1) as f32);
                    frame.iter_mut().for_each(|s| *s *= g);
                }
                if !out.is_empty() && tx.send(Chunk::Samples(out)).is_err() {
                    return;
                }
                let _ = tx.send(Chunk::End);
                return;
            }
            Err(e) => {
                let _ = tx.send(Chunk::Error(e.to_string()));
                return;
            }
        }
    }
}

/// Exactly `frames` frames of silence at the output's rate.
pub struct SilenceSource {
    left: u64,
    channels: NonZero<u16>,
    rate: NonZero<u32>,
    chan: u16,
    progress: Arc<Progress>,
}

impl SilenceSource {
    pub fn new(
        d: Duration,
        channels: NonZero<u16>,
        rate: NonZero<u32>,
    ) -> (SilenceSource, Arc<Progress>) {
        let frames = (d.as_secs_f64() * rate.get() as f64).round() as u64;
        let progress = Progress::new(rate.get());
        (
            SilenceSource {
                left: frames * channels.get() as u64,
                channels,
                rate,
                chan: 0,
                progress: progress.clone(),
            },
            progress,
        )
    }
}

impl Iterator for SilenceSource {
    type Item = f32;
    fn next(&mut self) -> Option<f32> {
        if self.chan == 0 {
            self.progress.mark_playing();
            if self.left == 0 {
                self.progress.finish(State::Finished);
                return None;
            }
            if self.progress.stop_requested() {
                self.progress.finish(State::Stopped);
                return None;
            }
        }
        self.left -= 1;
        self.chan += 1;
        if self.chan == self.channels.get() {
            self.chan = 0;
            self.progress.add_frames(1);
        }
        Some(0.0)
    }
}

impl Source for SilenceSource {
    fn current_span_len(&self) -> Option<usize> {
        Some(self.left as usize)
    }
    fn channels(&self) -> rodio::ChannelCount {
        self.channels
    }
    fn sample_rate(&self) -> rodio::SampleRate {
        self.rate
    }
    fn total_duration(&self) -> Option<Duration> {
        None
    }
}

impl Drop for SilenceSource {
    fn drop(&mut self) {
        if !self.progress.state().is_over() {
            self.progress.finish(State::Stopped);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn spec(path: PathBuf, gain_db: f64, fade_ms: u64) -> ItemSpec {
        ItemSpec {
            path,
            name: "t".into(),
            gain_db,
            fade: Duration::from_millis(fade_ms),
            duration: None,
        }
    }

    /// A mono 16-bit WAV of a constant level, written by hand.
    fn wav(dir: &std::path::Path, rate: u32, frames: usize, level: i16) -> PathBuf {
        let p = dir.join("c.wav");
        let data_len = (frames * 2) as u32;
        let mut b = Vec::new();
        b.extend_from_slice(b"RIFF");
        b.extend_from_slice(&(36 + data_len).to_le_bytes());
        b.extend_from_slice(b"WAVEfmt ");
        b.extend_from_slice(&16u32.to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&rate.to_le_bytes());
        b.extend_from_slice(&(rate * 2).to_le_bytes());
        b.extend_from_slice(&2u16.to_le_bytes());
        b.extend_from_slice(&16u16.to_le_bytes());
        b.extend_from_slice(b"data");
        b.extend_from_slice(&data_len.to_le_bytes());
        for _ in 0..frames {
            b.extend_from_slice(&level.to_le_bytes());
        }
        std::fs::write(&p, b).unwrap();
        p
    }

    #[test]
    fn plays_every_frame_with_gain_and_fades() {
        let dir = tempfile::tempdir().unwrap();
        let path = wav(dir.path(), 8000, 8000, 16384);
        let (src, progress) = ItemSource::open(&spec(path, -6.0206, 100)).unwrap();
        let out: Vec<f32> = src.collect();
        assert_eq!(out.len(), 8000);
        assert_eq!(progress.state(), State::Finished);
        // Fades: starts and ends near zero, middle at half of 0.5.
        assert!(out[0].abs() < 0.01, "{}", out[0]);
        assert!(out[7999].abs() < 0.01, "{}", out[7999]);
        assert!((out[4000] - 0.25).abs() < 0.001, "{}", out[4000]);
        // The fade-in lasts 100 ms = 800 frames.
        assert!(out[400] > 0.05 && out[400] < 0.2, "{}", out[400]);
        assert!((out[800] - 0.25).abs() < 0.001);
        assert!((out[7199] - 0.25).abs() < 0.001);
        assert!(out[7600] < 0.2);
    }

    #[test]
    fn a_stop_fades_out_quickly_and_ends() {
        let dir = tempfile::tempdir().unwrap();
        let path = wav(dir.path(), 8000, 80_000, 16384);
        let (mut src, progress) = ItemSource::open(&spec(path, 0.0, 0)).unwrap();
        for _ in 0..1000 {
            src.next().unwrap();
        }
        progress.stop.store(1, std::sync::atomic::Ordering::Release);
        let rest: Vec<f32> = src.collect();
        assert!(
            rest.len() <= (STOP_FADE_MAX.as_secs_f64() * 8000.0) as usize + 1,
            "{}",
            rest.len()
        );
        assert!(rest.last().unwrap().abs() < 0.01);
        assert_eq!(progress.state(), State::Stopped);
    }

    #[test]
    fn silence_is_exact() {
        let (s, p) = SilenceSource::new(
            Duration::from_millis(2000),
            NonZero::new(2).unwrap(),
            NonZero::new(48_000).unwrap(),
        );
        let v: Vec<f32> = s.collect();
        assert_eq!(v.len(), 2 * 96_000);
        assert!(v.iter().all(|&x| x == 0.0));
        assert_eq!(p.state(), State::Finished);
    }
}
