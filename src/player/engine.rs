//! The output engine: a feeder thread turns queued segments into the
//! device's frames, block by block (decode, gain, fades, channel mapping,
//! resampling), into a lock-free ring; the cpal callback only copies from the
//! ring and converts to the device's sample format. Segments know where they
//! start and end in the stream of frames, and the callback counts the frames
//! it has handed to ALSA, so progress is what was actually played.
//!
//! Per-sample work in the audio thread is a copy and a conversion; nothing
//! there allocates, locks or decodes.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, OnceLock};
use std::thread::Thread;
use std::time::Duration;
use std::time::Instant;

use super::pipeline::ramp;
pub use super::pipeline::{Pipeline, Resampler, map_channels};
use super::{Progress, State};
use crate::lang::Lang;
use crate::media::{Decoder, ProbeError};

/// Where an item's samples come from: a decoded file (the real one), or a
/// test's source. Interleaved f32 frames, a packet at a time.
pub trait FrameSource: Send {
    /// The source's sample rate, in Hz.
    fn sample_rate(&self) -> u32;
    /// Channels per frame.
    fn channels(&self) -> u16;
    /// Appends the next packet's samples; Ok(false) at the end.
    fn next_into(&mut self, out: &mut Vec<f32>) -> Result<bool, ProbeError>;
    /// Frames decoded so far.
    fn frames(&self) -> u64;
    /// The operator's words for an error from `next_into` on this item.
    fn message(&self, e: &ProbeError, name: &str, lang: Lang) -> String {
        e.message(name, lang)
    }
}

impl FrameSource for Decoder {
    fn sample_rate(&self) -> u32 {
        self.sample_rate
    }
    fn channels(&self) -> u16 {
        self.channels
    }
    fn next_into(&mut self, out: &mut Vec<f32>) -> Result<bool, ProbeError> {
        Decoder::next_into(self, out)
    }
    fn frames(&self) -> u64 {
        self.frames
    }
}

/// A fault to inject into one item's decoding, for the tests of what
/// follows (`LOA_FAULT_INJECT=decoder-panic:NAME` or
/// `decoder-stall:NAME`): half a second into the item named NAME, its
/// decoder panics, or stops producing sound for good.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fault {
    /// The decoder panics.
    Panic,
    /// The decoder stops producing sound, for good.
    Stall,
}

/// The fault `LOA_FAULT_INJECT` asks for on the item named `name`.
pub fn injected_fault(name: &str) -> Option<Fault> {
    let v = std::env::var("LOA_FAULT_INJECT").ok()?;
    let (kind, who) = v.split_once(':')?;
    if who != name {
        return None;
    }
    match kind {
        "decoder-panic" => Some(Fault::Panic),
        "decoder-stall" => Some(Fault::Stall),
        _ => None,
    }
}

/// A source with an injected fault (see [`Fault`]).
pub struct Faulty {
    /// The real source.
    pub inner: Box<dyn FrameSource>,
    /// Which fault, half a second into the item.
    pub fault: Fault,
    /// Frames it has produced so far.
    pub frames: u64,
}

impl FrameSource for Faulty {
    fn sample_rate(&self) -> u32 {
        self.inner.sample_rate()
    }
    fn channels(&self) -> u16 {
        self.inner.channels()
    }
    fn next_into(&mut self, out: &mut Vec<f32>) -> Result<bool, ProbeError> {
        if self.frames >= u64::from(self.sample_rate() / 2) {
            match self.fault {
                Fault::Panic => panic!("injected fault (LOA_FAULT_INJECT): the decoder panics"),
                Fault::Stall => loop {
                    std::thread::sleep(Duration::from_secs(3600));
                },
            }
        }
        let before = out.len();
        let more = self.inner.next_into(out)?;
        self.frames += ((out.len() - before) / usize::from(self.channels().max(1))) as u64;
        Ok(more)
    }
    fn frames(&self) -> u64 {
        self.inner.frames()
    }
}

/// How much shorter than its validated length an item may end (a decoder
/// may count its last packet differently).
const SHORT_BY: Duration = Duration::from_millis(100);

/// One item's run through the feeder.
struct ItemJob<'a> {
    decoder: Box<dyn FrameSource>,
    gain: f32,
    fade: Duration,
    progress: &'a Progress,
    out_rate: u32,
    out_ch: usize,
    name: &'a str,
    lang: Lang,
    expected: Option<Duration>,
}

/// Writes frames into the ring; false when the device was closed.
type Write<'w> = dyn Fn(&mut rtrb::Producer<f32>, &Shared, &[f32]) -> bool + 'w;

impl ItemJob<'_> {
    /// At the end of the file: if it ended well before its validated
    /// length (overwritten in place by a new upload, cut while it aired),
    /// the item is marked cut short, with what went out.
    fn check_length(&self) {
        let Some(expected) = self.expected else {
            return;
        };
        let rate = u64::from(self.decoder.sample_rate().max(1));
        let got = Duration::from_secs_f64(self.decoder.frames() as f64 / rate as f64);
        if got + SHORT_BY < expected {
            let (g, e) = (
                crate::duration::human(got, self.lang),
                crate::duration::human(expected, self.lang),
            );
            tracing::warn!(file = %self.name, aired_s = got.as_secs_f64(), expected_s = expected.as_secs_f64(), "{}", crate::lang::log("tệp kết thúc sớm hơn độ dài đã kiểm tra", "the file ended before its validated length"));
            self.progress.cut(crate::tr!(
                self.lang,
                "Tệp chỉ phát được {g} trong {e}: nó bị thay đổi hoặc bị cắt trong khi đang phát (có thể do tải lên lại đè tệp cũ).",
                "only {g} of its {e} aired: the file was changed or cut while it aired (perhaps a new upload over it)"
            ));
        }
    }

    /// Decodes, processes and writes the whole item (or until a stop is
    /// asked for); its final state, or None when the device was closed.
    fn run(
        mut self,
        ring: &mut rtrb::Producer<f32>,
        shared: &Shared,
        out: &mut Vec<f32>,
        write: &Write<'_>,
    ) -> Option<State> {
        let (out_rate, out_ch, fade) = (self.out_rate, self.out_ch, self.fade);
        let mut pipe = Pipeline::new(
            self.decoder.sample_rate(),
            usize::from(self.decoder.channels()),
            out_rate,
            out_ch,
            self.gain,
            fade,
        );
        loop {
            if self.progress.stop_requested() {
                // Fade out from here over a short ramp.
                let fade_frames = ((fade.max(STOP_FADE_MIN).min(STOP_FADE_MAX)).as_secs_f64()
                    * out_rate as f64) as usize;
                out.clear();
                let mut tail = Vec::new();
                // What the pipeline holds, then silence, ramped down.
                pipe.finish(&mut tail);
                tail.truncate(fade_frames * out_ch);
                tail.resize(fade_frames * out_ch, 0.0);
                for (i, frame) in tail.chunks_mut(out_ch).enumerate() {
                    let g = ramp(1.0 - (i as f32 + 0.5) / fade_frames.max(1) as f32);
                    frame.iter_mut().for_each(|s| *s *= g);
                }
                return write(ring, shared, &tail).then_some(State::Stopped);
            }
            out.clear();
            let decoder = &mut self.decoder;
            match pipe.push_from(out, |into| decoder.next_into(into)) {
                Ok(true) => {
                    if !write(ring, shared, out) {
                        return None;
                    }
                }
                Ok(false) => {
                    out.clear();
                    pipe.finish(out);
                    self.check_length();
                    return write(ring, shared, out).then_some(State::Finished);
                }
                Err(e) => {
                    out.clear();
                    pipe.finish(out);
                    let _ = write(ring, shared, out);
                    tracing::warn!(file = %self.name, error = %e, "{}", crate::lang::log("giải mã bị lỗi khi đang phát", "decoding failed while playing"));
                    self.progress
                        .set_error(self.decoder.message(&e, self.name, self.lang));
                    return Some(State::Failed);
                }
            }
        }
    }
}

/// The ring between the feeder and the callback, in frames (about 170 ms at
/// 48 kHz): a stop is heard within that plus the fade.
pub const RING_FRAMES: usize = 8192;
/// A stop request fades out over the item's fade, but at least this...
pub const STOP_FADE_MIN: Duration = Duration::from_millis(50);
/// ...and at most this.
pub const STOP_FADE_MAX: Duration = Duration::from_millis(300);

/// What the callback and the feeder share.
#[derive(Debug, Default)]
pub struct Shared {
    /// Frames written into the ring by the feeder.
    pub written: AtomicU64,
    /// Frames taken from the ring by the device.
    pub played: Arc<AtomicU64>,
    /// Times the device wanted frames that were due but not there.
    pub underruns: AtomicU64,
    /// Set when the device is asked to start: from then on, a source whose
    /// frames are due (everything before it taken) is being waited for.
    pub starting: AtomicBool,
    /// Jobs sent to the feeder and not finished: while there are any, the
    /// device waits for their frames instead of playing silence (so a device
    /// faster than real time, like the test stand-in, gets every frame in
    /// order, and a gap is exactly its silence).
    pub pending: AtomicU64,
    /// Set when the sink is dropped: the feeder stops, and the callback
    /// no longer waits for frames.
    pub closed: AtomicBool,
    /// The two threads wake each other instead of polling: the feeder
    /// sleeps while the ring is full and the callback wakes it once half
    /// of the ring is free; the callback, waiting for frames that are due,
    /// is woken once they are there. (A device that takes frames faster
    /// than real time, like the test stand-in, otherwise makes both sleep
    /// in turn, and costs CPU in wake-ups.)
    pub wake: Wake,
}

/// The threads' handles and what each waits for.
#[derive(Debug, Default)]
pub struct Wake {
    feeder: OnceLock<Thread>,
    feeder_parked: AtomicBool,
    callback: OnceLock<Thread>,
    /// Samples the callback waits for (0: not waiting).
    callback_needs: AtomicUsize,
}

impl Wake {
    /// Wakes both threads (the device is closing).
    pub fn all(&self) {
        for t in [self.feeder.get(), self.callback.get()]
            .into_iter()
            .flatten()
        {
            t.unpark();
        }
    }

    /// From the callback, after taking frames: wakes the feeder if it
    /// sleeps and at most `readable` samples are left of `capacity`.
    fn room_made(&self, readable: usize, capacity: usize) {
        if readable <= capacity / 2
            && self.feeder_parked.swap(false, Ordering::AcqRel)
            && let Some(t) = self.feeder.get()
        {
            t.unpark();
        }
    }

    /// From the feeder, after writing frames (or finishing a job, with
    /// `usize::MAX`): wakes the callback if it waits for no more than
    /// `readable` samples.
    fn frames_ready(&self, readable: usize) {
        let needs = self.callback_needs.load(Ordering::Acquire);
        if needs > 0
            && readable >= needs
            && self.callback_needs.swap(0, Ordering::AcqRel) > 0
            && let Some(t) = self.callback.get()
        {
            t.unpark();
        }
    }
}

/// One job for the feeder.
pub enum Job {
    /// A file to decode and play.
    Item {
        /// Where its samples come from.
        decoder: Box<dyn FrameSource>,
        /// Linear gain (from the item's dB, `gain::db_to_linear`).
        gain: f32,
        /// Fade in and out.
        fade: Duration,
        /// Its progress, shared with its [`Segment`](super::Segment) handle.
        progress: Arc<Progress>,
        /// For the log and the operator's message when it fails.
        name: String,
        /// The operator's language, for that message.
        lang: Lang,
        /// Its length as validated: an item that ends sooner did not all
        /// go out (the file changed while it aired).
        expected: Option<Duration>,
    },
    /// From now on, a copy of every block written goes to the archive's
    /// tap (`crate::archive::Tap`), which never waits.
    Archive(crate::archive::Tap),
    /// Exactly this much silence.
    Silence {
        /// How long, in output frames (at the device's rate).
        frames: u64,
        /// Its progress, shared with its [`Segment`](super::Segment) handle.
        progress: Arc<Progress>,
    },
}

/// How long the device waits for frames that are due before playing
/// silence (an underrun). Shorter than the device buffer.
pub const WAIT_FOR_FRAMES: Duration = Duration::from_millis(20);

/// The audio callback's work: copies what the feeder prepared into `data`
/// (through `convert`), waiting briefly for frames that are due, and fills
/// the rest with `silence`.
pub fn fill_from<T: Copy>(
    data: &mut [T],
    ring: &mut rtrb::Consumer<f32>,
    shared: &Shared,
    channels: usize,
    convert: impl Fn(f32) -> T,
    silence: T,
) {
    let want = data.len();
    let mut filled = 0;
    let mut waited_since: Option<Instant> = None;
    let capacity = ring.buffer().capacity();
    loop {
        let avail = ring.slots().min(want - filled) / channels * channels;
        if avail > 0 {
            if let Ok(chunk) = ring.read_chunk(avail) {
                let (a, b) = chunk.as_slices();
                // Slice by slice (not a chained iterator), so that the
                // conversion is a tight loop the compiler vectorises.
                let (da, db) = data[filled..filled + avail].split_at_mut(a.len());
                for (d, s) in da.iter_mut().zip(a) {
                    *d = convert(*s);
                }
                for (d, s) in db.iter_mut().zip(b) {
                    *d = convert(*s);
                }
                chunk.commit_all();
            }
            filled += avail;
            shared
                .played
                .fetch_add((avail / channels) as u64, Ordering::AcqRel);
            shared.wake.room_made(ring.slots(), capacity);
        }
        if filled >= want
            || shared.pending.load(Ordering::Acquire) == 0
            || shared.closed.load(Ordering::Acquire)
        {
            break;
        }
        let since = *waited_since.get_or_insert_with(Instant::now);
        let Some(left) = WAIT_FOR_FRAMES.checked_sub(since.elapsed()) else {
            shared.underruns.fetch_add(1, Ordering::Relaxed);
            break;
        };
        // Sleep until the feeder has written what is missing (or its job
        // ended), at most until the wait is over. Checked again after
        // saying what is needed, so that no wake-up is lost.
        shared.wake.callback.get_or_init(std::thread::current);
        let needs = (want - filled).min(capacity / 2).max(channels);
        shared.wake.callback_needs.store(needs, Ordering::Release);
        if ring.slots() < needs && shared.pending.load(Ordering::Acquire) > 0 {
            std::thread::park_timeout(left);
        }
        shared.wake.callback_needs.store(0, Ordering::Release);
    }
    for d in &mut data[filled..] {
        *d = silence;
    }
}

/// The feeder: runs jobs in order, writing frames into the ring.
pub fn feeder(
    jobs: Receiver<Job>,
    mut ring: rtrb::Producer<f32>,
    shared: Arc<Shared>,
    out_rate: u32,
    out_ch: usize,
) {
    let mut out: Vec<f32> = Vec::with_capacity(16_384);
    let _ = shared.wake.feeder.set(std::thread::current());
    let capacity = ring.buffer().capacity();
    // The archive's copy of what goes to the card, once a tap is given.
    let tap: std::cell::RefCell<Option<crate::archive::Tap>> = std::cell::RefCell::new(None);
    let write = |ring: &mut rtrb::Producer<f32>, shared: &Shared, data: &[f32]| -> bool {
        if let Some(t) = tap.borrow_mut().as_mut() {
            t.push(data);
        }
        write_frames(ring, shared, data, out_ch, capacity)
    };
    while let Some(job) = next_job(&jobs, &shared) {
        let open = match job {
            Job::Archive(mut t) => {
                t.set_format(out_rate, out_ch);
                *tap.borrow_mut() = Some(t);
                true
            }
            Job::Silence { progress, .. } | Job::Item { progress, .. }
                if progress.stop_requested() =>
            {
                let at = shared.written.load(Ordering::Acquire);
                progress.set_span(at, Some(at));
                progress.set_state(State::Stopped);
                true
            }
            Job::Silence { frames, progress } => {
                silence(frames, &progress, &mut ring, &shared, out_ch, &write)
            }
            Job::Item {
                decoder,
                gain,
                fade,
                progress,
                name,
                lang,
                expected,
            } => {
                let job = ItemJob {
                    decoder,
                    gain,
                    fade,
                    progress: &progress,
                    out_rate,
                    out_ch,
                    name: &name,
                    lang,
                    expected,
                };
                item(job, &mut ring, &shared, &mut out, &write)
            }
        };
        if !open {
            return;
        }
        shared.pending.fetch_sub(1, Ordering::AcqRel);
        // The callback stops waiting once nothing is pending.
        shared.wake.frames_ready(usize::MAX);
    }
}

/// The next job; None once the device is closed or the sink gone.
fn next_job(jobs: &Receiver<Job>, shared: &Shared) -> Option<Job> {
    loop {
        match jobs.recv_timeout(Duration::from_millis(200)) {
            Ok(j) => return Some(j),
            Err(RecvTimeoutError::Timeout) => {
                if shared.closed.load(Ordering::Acquire) {
                    return None;
                }
            }
            Err(RecvTimeoutError::Disconnected) => return None,
        }
    }
}

/// Writes `data` (whole frames) into the ring, waiting for room; false
/// once the device is closed.
fn write_frames(
    ring: &mut rtrb::Producer<f32>,
    shared: &Shared,
    mut data: &[f32],
    out_ch: usize,
    capacity: usize,
) -> bool {
    while !data.is_empty() {
        if shared.closed.load(Ordering::Acquire) {
            return false;
        }
        let free = ring.slots() / out_ch * out_ch;
        if free == 0 {
            // Asleep until the callback has made room (checked again after
            // saying so, so that no wake-up is lost); the timeout only
            // guards against a device that stopped.
            shared.wake.feeder_parked.store(true, Ordering::Release);
            if ring.slots() < out_ch {
                std::thread::park_timeout(Duration::from_millis(50));
            }
            shared.wake.feeder_parked.store(false, Ordering::Release);
            continue;
        }
        let n = free.min(data.len());
        if let Ok(mut chunk) = ring.write_chunk(n) {
            let (a, b) = chunk.as_mut_slices();
            a.copy_from_slice(&data[..a.len()]);
            b.copy_from_slice(&data[a.len()..n]);
            chunk.commit_all();
        }
        shared
            .written
            .fetch_add((n / out_ch) as u64, Ordering::Release);
        shared.wake.frames_ready(capacity - ring.slots());
        data = &data[n..];
    }
    true
}

/// Exactly `frames` of silence (less if stopped); false once the device is
/// closed.
fn silence(
    frames: u64,
    progress: &Progress,
    ring: &mut rtrb::Producer<f32>,
    shared: &Shared,
    out_ch: usize,
    write: &Write<'_>,
) -> bool {
    let start = shared.written.load(Ordering::Acquire);
    progress.set_span(start, None);
    let zeros = vec![0.0f32; 4096 * out_ch];
    let mut left = frames;
    let mut stopped = false;
    while left > 0 {
        if progress.stop_requested() {
            stopped = true;
            break;
        }
        let n = left.min(4096) as usize;
        if !write(ring, shared, &zeros[..n * out_ch]) {
            return false;
        }
        left -= n as u64;
    }
    let end = shared.written.load(Ordering::Acquire);
    progress.set_span(start, Some(end));
    progress.set_state(if stopped {
        State::Stopped
    } else {
        State::Finished
    });
    true
}

/// One item, decoded and processed into the ring. A decoder that panics on
/// a malformed file, or any fault in this item's pipeline, fails the item
/// alone: the feeder goes on with the next job. False once the device is
/// closed.
fn item(
    job: ItemJob<'_>,
    ring: &mut rtrb::Producer<f32>,
    shared: &Shared,
    out: &mut Vec<f32>,
    write: &Write<'_>,
) -> bool {
    let (progress, name, lang) = (job.progress, job.name, job.lang);
    let start = shared.written.load(Ordering::Acquire);
    progress.set_span(start, None);
    let state = match crate::contain::contained(|| job.run(ring, shared, out, write)) {
        Ok(Some(state)) => state,
        // The device was closed.
        Ok(None) => return false,
        Err(panic) => {
            tracing::error!(file = %name, panic = %panic, "{}", crate::lang::log("khâu xử lý âm thanh bị lỗi ở tệp này", "the audio pipeline failed on this item"));
            progress.set_error(
                lang.pick(
                    "Bộ giải mã bị lỗi khi đang phát tệp này; có thể tệp bị hỏng.",
                    "the decoder failed while playing this file (the file may be damaged)",
                )
                .to_string(),
            );
            State::Failed
        }
    };
    let end = shared.written.load(Ordering::Acquire);
    progress.set_span(start, Some(end));
    progress.set_state(state);
    true
}

#[cfg(test)]
mod tests;
