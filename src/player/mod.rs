//! The audio output. One seam, [`Sink`]: segments (an item, or a silence)
//! are queued one after another and play back to back, each with a
//! [`Segment`] handle to follow and stop it. The ALSA sink (cpal) is in
//! `alsa`, the item pipeline (decode ahead, resample, gain, fades) in
//! `engine`; the fake for tests is in `crate::testing`. It does not know about relays or
//! schedules.

pub mod alsa;
pub mod engine;
pub mod gain;
pub mod pipeline;
pub mod standin;

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use crate::lang::Lang;
use crate::tr;

/// What to play.
#[derive(Clone, Debug, PartialEq)]
pub enum SegmentSpec {
    /// A file (or a live programme), at a gain, with fades in and out.
    Item(Box<ItemSpec>),
    /// Exactly this much silence.
    Silence(Duration),
}

/// Where an item's sound comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// A file.
    File(crate::media::MediaPath),
    /// A live programme for a slot.
    Live(crate::live::LiveAir),
}

/// An item to play, and how.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemSpec {
    /// The file, or the live programme.
    pub source: Source,
    /// The name shown to the operator and written to the log.
    pub name: String,
    /// Total gain (normalisation + volume settings), dB.
    pub gain_db: f64,
    /// Fade in and out, each this long.
    pub fade: Duration,
    /// The expected length (for progress), when known.
    pub duration: Option<Duration>,
}

/// Where a queued segment is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Not started yet.
    Queued,
    /// Being played (its first frames have been taken).
    Playing,
    /// Played to its end.
    Finished,
    /// Ended early because a stop was asked for.
    Stopped,
    /// Could not play (see `error`).
    Failed,
}

impl State {
    fn from_u8(v: u8) -> State {
        match v {
            0 => State::Queued,
            1 => State::Playing,
            2 => State::Finished,
            3 => State::Stopped,
            _ => State::Failed,
        }
    }
    fn as_u8(self) -> u8 {
        match self {
            State::Queued => 0,
            State::Playing => 1,
            State::Finished => 2,
            State::Stopped => 3,
            State::Failed => 4,
        }
    }
    /// True once it has finished, stopped or failed.
    pub fn is_over(self) -> bool {
        matches!(self, State::Finished | State::Stopped | State::Failed)
    }
}

/// Shared between a queued segment's source (in the audio thread) and its
/// handle. Lock-free but for the error text.
#[derive(Debug)]
pub struct Progress {
    /// Frames handed to the output so far.
    frames: AtomicU64,
    /// The segment's own sample rate (frames per second).
    rate: AtomicU32,
    state: AtomicU8,
    /// Set by `Segment::stop`: the source fades out and ends.
    stop: AtomicU8,
    /// Times the output asked for samples the decoder did not have yet.
    underruns: AtomicU32,
    /// The item ended before its expected length (the file changed while
    /// it aired): it did not all go out; `error` says what.
    short: std::sync::atomic::AtomicBool,
    error: Mutex<Option<String>>,
    /// The output engine's count of frames handed to the device; with it,
    /// the segment's place in the stream says where it is.
    played: Option<Arc<AtomicU64>>,
    /// First and one-past-last output frame of the segment (u64::MAX: not
    /// known yet).
    start: AtomicU64,
    end: AtomicU64,
}

const UNKNOWN: u64 = u64::MAX;

impl Progress {
    /// A segment whose state is set by hand (the test fake).
    pub fn new(rate: u32) -> Arc<Progress> {
        Arc::new(Progress::make(rate, None))
    }

    /// A segment in the output engine's stream of `rate` frames per second.
    pub fn in_stream(rate: u32, played: Arc<AtomicU64>) -> Arc<Progress> {
        Arc::new(Progress::make(rate, Some(played)))
    }

    fn make(rate: u32, played: Option<Arc<AtomicU64>>) -> Progress {
        Progress {
            frames: AtomicU64::new(0),
            rate: AtomicU32::new(rate.max(1)),
            state: AtomicU8::new(State::Queued.as_u8()),
            stop: AtomicU8::new(0),
            underruns: AtomicU32::new(0),
            short: std::sync::atomic::AtomicBool::new(false),
            error: Mutex::new(None),
            played,
            start: AtomicU64::new(UNKNOWN),
            end: AtomicU64::new(UNKNOWN),
        }
    }

    /// Where the segment lies in the output stream (the engine's feeder).
    pub fn set_span(&self, start: u64, end: Option<u64>) {
        self.start.store(start, Ordering::Release);
        if let Some(e) = end {
            self.end.store(e, Ordering::Release);
        }
    }

    /// Keeps `msg` as the segment's error, without changing its state.
    pub fn set_error(&self, msg: String) {
        *self.error.lock().unwrap_or_else(|e| e.into_inner()) = Some(msg);
    }

    /// How much of it has been handed to the output.
    pub fn elapsed(&self) -> Duration {
        let rate = self.rate.load(Ordering::Relaxed).max(1) as u64;
        let frames = match &self.played {
            Some(played) => {
                let (s, e) = (
                    self.start.load(Ordering::Acquire),
                    self.end.load(Ordering::Acquire),
                );
                if s == UNKNOWN {
                    0
                } else {
                    played.load(Ordering::Acquire).clamp(s, e.max(s)) - s
                }
            }
            None => self.frames.load(Ordering::Relaxed),
        };
        Duration::from_nanos(frames.saturating_mul(1_000_000_000) / rate)
    }
    /// Counts `n` more frames handed to the output (the test fake's count;
    /// in the engine's stream, the span says where it is).
    pub fn add_frames(&self, n: u64) {
        self.frames.fetch_add(n, Ordering::Relaxed);
    }
    /// Sets the state outright (no check that it moves forward).
    pub fn set_state(&self, s: State) {
        self.state.store(s.as_u8(), Ordering::Release);
    }
    /// Moves Queued -> Playing (the first time samples are taken).
    pub fn mark_playing(&self) {
        let _ = self.state.compare_exchange(
            State::Queued.as_u8(),
            State::Playing.as_u8(),
            Ordering::AcqRel,
            Ordering::Acquire,
        );
    }
    /// Ends the segment unless it has already ended.
    pub fn finish(&self, s: State) {
        let cur = self.state();
        if !cur.is_over() {
            self.set_state(s);
        }
    }
    /// Records `msg` as its error, and ends it as failed if it has not
    /// ended yet.
    pub fn fail(&self, msg: String) {
        *self.error.lock().unwrap_or_else(|e| e.into_inner()) = Some(msg);
        self.finish(State::Failed);
    }
    /// Where the segment is. In the engine's stream, read from the frames the
    /// device has taken.
    pub fn state(&self) -> State {
        let set = State::from_u8(self.state.load(Ordering::Acquire));
        let Some(played) = &self.played else {
            return set;
        };
        // In the engine's stream: what the device has taken says where it is.
        let start = self.start.load(Ordering::Acquire);
        if start == UNKNOWN {
            return if set.is_over() { set } else { State::Queued };
        }
        let p = played.load(Ordering::Acquire);
        let end = self.end.load(Ordering::Acquire);
        if end != UNKNOWN && p >= end {
            if set.is_over() { set } else { State::Playing }
        } else if p >= start && (p > start || end == start) {
            State::Playing
        } else {
            State::Queued
        }
    }
    /// Whether `Segment::stop` has been called.
    pub fn stop_requested(&self) -> bool {
        self.stop.load(Ordering::Acquire) != 0
    }
    /// Marks the item as ended before its expected length, with why.
    pub fn cut(&self, why: String) {
        self.set_error(why);
        self.short.store(true, Ordering::Release);
    }

    /// Whether the item ended before its expected length.
    pub fn cut_short(&self) -> bool {
        self.short.load(Ordering::Acquire)
    }

    /// Counts one time the output asked for samples the decoder did not have.
    pub fn note_underrun(&self) {
        self.underruns.fetch_add(1, Ordering::Relaxed);
    }
}

/// A handle on a queued segment.
#[derive(Clone, Debug)]
pub struct Segment {
    /// What it plays.
    pub spec: SegmentSpec,
    /// Its progress, shared with the thread that plays it.
    pub progress: Arc<Progress>,
}

impl Segment {
    /// Where it is: queued, playing or over.
    pub fn state(&self) -> State {
        self.progress.state()
    }
    /// How much of it has been handed to the output.
    pub fn elapsed(&self) -> Duration {
        self.progress.elapsed()
    }
    /// Asks it to fade out quickly and end.
    pub fn stop(&self) {
        self.progress.stop.store(1, Ordering::Release);
        if self.state() == State::Queued {
            self.progress.finish(State::Stopped);
        }
    }
    /// Why it failed or was cut short; None otherwise.
    pub fn error(&self) -> Option<String> {
        self.progress
            .error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
    /// Times the output asked for its samples before they were decoded.
    pub fn underruns(&self) -> u32 {
        self.progress.underruns.load(Ordering::Relaxed)
    }
}

/// The audio output seam.
pub trait Sink: Send {
    /// Queues an item after what is already queued, preceded by exactly
    /// `gap_before` of silence (none when zero). The item is opened first: one
    /// that cannot be (missing, not audio) is an `AudioError::Item` and
    /// nothing is queued, gap included. Nothing is heard before `start`:
    /// items queued ahead are made ready (opened, their first sound decoded)
    /// so that the first one starts the moment `start` is called.
    fn queue(
        &mut self,
        gap_before: Duration,
        item: ItemSpec,
    ) -> Result<(Option<Segment>, Segment), AudioError>;
    /// Starts the sound: what is queued plays from now on, in order. Called
    /// once, at the first item's time; later calls do nothing.
    fn start(&mut self) -> Result<(), AudioError>;
    /// Why the device stopped working, once it has.
    fn failure(&self) -> Option<String>;
    /// Whether what was queued has left the device (its buffer drained),
    /// so that closing it cuts no sound. Does not block: asked again until
    /// true (each call moves the closing on); gives up after a few seconds
    /// on a device that stopped taking sound.
    fn drained(&mut self) -> bool;
    /// Times the device asked for sound that was not ready (decoding fell
    /// behind): each is an audible gap.
    fn underruns(&self) -> u64 {
        0
    }
    /// Whether the device is waiting for sound that the decoding side has
    /// not produced: nothing is left in its buffer while an item is due.
    /// For a while, that is decoding falling behind; for seconds, a stuck
    /// decoder.
    fn starved(&self) -> bool {
        false
    }
    /// From now on, a copy of every block sent to the device goes to the
    /// archive through `tap` (which never waits). A sink that records
    /// nothing drops it.
    fn archive(&mut self, _tap: crate::archive::Tap) {}
}

/// A sound output backend, by name, as relay backends are: `loa run`, `loa
/// play`, `loa demo` and `loa check` take theirs from here and name none.
/// Only ALSA (through cpal) today; another (PipeWire, a network stream) is
/// one more row.
pub struct Backend {
    /// Its name (`find` looks it up).
    pub name: &'static str,
    /// The backend for the config's `[audio] device`.
    pub make: fn(&crate::config::Config) -> Arc<dyn Output>,
}

/// Every sound output backend; the first is the default.
pub const BACKENDS: &[Backend] = &[Backend {
    name: "alsa",
    make: alsa::make,
}];

/// The backend of this name.
pub fn find(name: &str) -> Option<&'static Backend> {
    BACKENDS.iter().find(|b| b.name == name)
}

/// The sound output the config asks for (the default backend).
pub fn output(cfg: &crate::config::Config) -> Arc<dyn Output> {
    (BACKENDS[0].make)(cfg)
}

/// Opens a sink; called at the start of each broadcast, so that a device that
/// failed is tried again next time.
pub trait Output: Send + Sync {
    /// Checks that the device is there and usable, without keeping it open:
    /// done before the relay goes on, so that with no sound the amplifier
    /// is never switched on for nothing.
    fn check(&self) -> Result<(), AudioError>;
    /// Opens the device, at `rate` when it takes it (else its preferred rate).
    fn open(&self, rate: Option<u32>) -> Result<Box<dyn Sink>, AudioError>;
    /// Whether `item` will play: opened and its first sound decoded,
    /// without playing anything. Asked before the amplifier goes on, so
    /// that it never goes on with nothing to play.
    fn ready(&self, item: &ItemSpec) -> Result<(), AudioError>;
    /// The device's name for messages.
    fn name(&self) -> String;
}

/// Why the sound output failed, or an item could not be played on it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AudioError {
    /// ALSA offers no output device at all.
    #[error("no audio device")]
    NoDevice,
    /// The configured device name is not among ALSA's devices.
    #[error("no audio device named {name}")]
    NotFound {
        /// The device name from the config.
        name: String,
        /// The devices ALSA offers.
        available: Vec<String>,
    },
    /// ALSA cannot read its own configuration (a broken asoundrc).
    #[error("ALSA cannot read its configuration: {0}")]
    Config(String),
    /// The device exists but would not open (busy, unsupported format...).
    #[error("cannot open audio device {name}: {detail}")]
    Open {
        /// The device's name.
        name: String,
        /// Why it would not open.
        detail: String,
    },
    /// The device failed while playing.
    #[error("audio device {name} failed: {detail}")]
    Failed {
        /// The device's name.
        name: String,
        /// What went wrong.
        detail: String,
    },
    /// One item cannot be played (its message is already for the operator).
    #[error("{0}")]
    Item(String),
}

impl AudioError {
    /// Whether this concerns the device (the broadcast cannot go on) rather
    /// than one item.
    pub fn is_device(&self) -> bool {
        !matches!(self, AudioError::Item(_))
    }

    /// What is wrong and what to do, for the operator.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            AudioError::NoDevice => tr!(
                lang,
                "Không có thiết bị âm thanh: máy không thấy card âm thanh nào. Hãy kiểm tra xem card âm thanh USB hoặc HAT đã được cắm chặt chưa, rồi chạy `loa devices`.",
                "no audio device: ALSA offers no sound output; check that the USB or HAT sound card is plugged in, then run `loa devices`"
            ),
            AudioError::NotFound { name, available } => {
                let list = if available.is_empty() {
                    lang.pick("(không có)", "(none)").to_string()
                } else {
                    available.join(", ")
                };
                tr!(
                    lang,
                    "Không có thiết bị âm thanh \"{name}\"; các thiết bị hiện có: {list}. Hãy chạy `loa devices` rồi sửa [audio] device trong tệp cấu hình.",
                    "no audio device \"{name}\"; the devices present are: {list}. Run `loa devices` and correct [audio] device in the config"
                )
            }
            AudioError::Config(detail) => tr!(
                lang,
                "ALSA không đọc được cấu hình âm thanh ({detail}). Hãy kiểm tra tệp /etc/asound.conf và ~/.asoundrc (thường do sửa tay bị sai cú pháp).",
                "ALSA cannot read its sound configuration ({detail}); check /etc/asound.conf and ~/.asoundrc (usually a hand edit with a syntax error)"
            ),
            AudioError::Open { name, detail } => tr!(
                lang,
                "Không mở được thiết bị âm thanh \"{name}\" ({detail}); có thể một chương trình khác đang dùng nó, hoặc card âm thanh đã bị rút ra.",
                "cannot open the audio device \"{name}\" ({detail}); another program may be using it, or the sound card was unplugged"
            ),
            AudioError::Failed { name, detail } => tr!(
                lang,
                "Thiết bị âm thanh \"{name}\" bị lỗi khi đang phát ({detail}). Ampli đã được tắt; loa sẽ thử lại thiết bị này ở buổi phát sau. Hãy kiểm tra card âm thanh.",
                "the audio device \"{name}\" failed while playing ({detail}); the amplifier was switched off and the device will be tried again at the next broadcast. Check the sound card"
            ),
            AudioError::Item(msg) => msg.clone(),
        }
    }
}
