//! Relaying a stream for a slot: [`Relay`], the frame source the engine
//! plays, and its pump thread, which connects (during the warm-up, when the
//! item is queued), decodes and hands over the programme, failing over from
//! the main stream to the backups and to the fallback file.
//!
//! The slot is exact: the relay gives the engine exactly `slot × rate`
//! frames, the programme when it has it and silence when it has not, so the
//! item ends when its slot does whatever the stream does, and the
//! amplifier's timing never depends on the network. The relay keeps a
//! little ahead of the sound card (it knows how much of its sound the card
//! has taken), so that it waits for a late packet while the card still has
//! sound, and gives silence only when the card would otherwise run dry.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::LiveState;
use super::http;
use crate::lang::Lang;
use crate::media::{MediaPath, ProbeError};
use crate::player::engine::{FrameSource, Shared};
use crate::player::pipeline::{Resampler, map_channels};
use crate::tr;

/// Frames handed to the engine at a time.
const CHUNK: u64 = 2048;
/// How far ahead of the card the relay waits for the network before it
/// gives silence (about a device period and a half).
const LEAD: Duration = Duration::from_millis(150);
/// Before the card reaches the slot: how much of the programme held is
/// handed over ahead (more than the two device periods a starting card
/// waits for), and how much silence when the card waits and there is none.
const PRE_LEAD: Duration = Duration::from_millis(400);
const PRE_SILENCE: Duration = Duration::from_millis(200);
/// How long a starting card waits for the first programme before the
/// slot begins on silence.
const START_GRACE: Duration = Duration::from_millis(250);
/// Programme kept before the slot starts (the newest; older is dropped).
const PREBUFFER: Duration = Duration::from_millis(1500);
/// The ring between the pump and the engine.
const RING: Duration = Duration::from_secs(4);
/// Decoded silence this long is a drop.
const SILENT_DROP: Duration = Duration::from_secs(30);
/// Below this level a sample is silence (-70 dBFS).
const SILENT_LEVEL: f32 = 3.2e-4;
/// Before trying the sources again after all failed.
const RETRY: Duration = Duration::from_secs(5);
/// After the card ran dry, the programme resumes only once this much is
/// buffered at least (and at most [`REBUFFER_MAX`]; see [`Relay::rebuffer`]).
const REBUFFER_MIN: Duration = Duration::from_millis(300);
const REBUFFER_MAX: Duration = Duration::from_secs(3);

/// What the pump is to relay.
#[derive(Clone, Debug)]
pub struct StreamPlan {
    /// The main stream, then the backups.
    pub urls: Vec<String>,
    /// The file for the rest of the slot when no stream can be had.
    pub fallback: Option<MediaPath>,
    /// The device's rate and channels (the relay hands over in them).
    pub rate: u32,
    /// Channels.
    pub channels: usize,
    /// For the messages.
    pub lang: Lang,
    /// How long a connection may stay silent (the stall).
    pub stall: Duration,
    /// How the level is set.
    pub level: super::level::Level,
}

/// What the pump and the relay share.
struct Link {
    /// Runs of frames in the ring, in order: (programme or not, frames).
    runs: Mutex<VecDeque<(bool, u64)>>,
    /// Set once the slot has started: the pump stops dropping old sound.
    playing: AtomicBool,
    /// Set when the relay is dropped: the pump stops.
    stop: AtomicBool,
    /// Before the slot starts: the newest programme (PREBUFFER of it),
    /// taken by the relay at once when the slot starts.
    held: Mutex<VecDeque<f32>>,
    /// The longest pause between two arrivals of programme on the current
    /// connection, in ms: a stream sent in bursts (an Ogg encoder's pages
    /// of a second) needs that much buffered to play without gaps.
    gap_ms: AtomicU64,
}

/// The engine's frame source for a live stream slot.
pub struct Relay {
    rate: u32,
    channels: usize,
    slot_frames: u64,
    produced: u64,
    /// The engine's counters: how much of this item the card has taken.
    engine: Arc<Shared>,
    /// Frames written to the engine's ring before this item's first.
    written_before: Option<u64>,
    ring: rtrb::Consumer<f32>,
    link: Arc<Link>,
    state: Arc<LiveState>,
    programme: u64,
    /// The card's underruns when this item was queued.
    underruns_before: u64,
    /// Since when the card has been starting on this item.
    due_since: Option<Instant>,
    /// The programme held before the slot, played first.
    front: VecDeque<f32>,
    /// Set when the card ran dry in the slot: the programme resumes once
    /// enough is buffered, so that one gap is heard rather than many.
    dry: bool,
}

impl Relay {
    /// Starts connecting now; the slot begins with the first frames the
    /// engine takes.
    pub fn start(
        plan: StreamPlan,
        slot: Duration,
        engine: Arc<Shared>,
        state: Arc<LiveState>,
    ) -> Relay {
        state.update(|i| {
            i.kind = "stream".into();
            i.source = "main".into();
            i.url = plan.urls.first().cloned();
        });
        let (relay, pump) = Relay::new(&plan, slot, engine, state);
        let _ = std::thread::Builder::new()
            .name("loa-relay".into())
            .spawn(move || pump.run());
        relay
    }

    /// Captures the line-in `device` from now; the slot begins with the
    /// first frames the engine takes. `out` is the device's (rate,
    /// channels) and the operator's language.
    pub fn line_in(
        device: &str,
        slot: Duration,
        out: (u32, usize, Lang, super::level::Level),
        engine: Arc<Shared>,
        state: Arc<LiveState>,
    ) -> Relay {
        let (rate, channels, lang, level) = out;
        state.update(|i| {
            i.kind = "line-in".into();
            i.source = "line-in".into();
            i.url = Some(device.to_string());
        });
        let plan = StreamPlan {
            urls: Vec::new(),
            fallback: None,
            rate,
            channels,
            lang,
            stall: super::STALL,
            level,
        };
        let (relay, pump) = Relay::new(&plan, slot, engine, state);
        let device = device.to_string();
        let _ = std::thread::Builder::new()
            .name("loa-line-in".into())
            .spawn(move || super::line_in::capture(&device, pump));
        relay
    }

    fn new(
        plan: &StreamPlan,
        slot: Duration,
        engine: Arc<Shared>,
        state: Arc<LiveState>,
    ) -> (Relay, Pump) {
        let rate = plan.rate;
        let channels = plan.channels.max(1);
        let cap = (RING.as_secs_f64() * f64::from(rate)) as usize * channels;
        let (producer, consumer) = rtrb::RingBuffer::new(cap);
        let link = Arc::new(Link {
            runs: Mutex::new(VecDeque::new()),
            playing: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            held: Mutex::new(VecDeque::new()),
            gap_ms: AtomicU64::new(0),
        });
        let pump = Pump {
            plan: StreamPlan {
                channels,
                ..plan.clone()
            },
            ring: producer,
            link: link.clone(),
            state: state.clone(),
            leveler: super::level::Leveler::new(rate, channels, plan.level),
            last_arrival: None,
        };
        let relay = Relay {
            rate,
            channels,
            slot_frames: (slot.as_secs_f64() * f64::from(rate)).round() as u64,
            produced: 0,
            engine,
            written_before: None,
            ring: consumer,
            link,
            state,
            programme: 0,
            underruns_before: 0,
            due_since: None,
            front: VecDeque::new(),
            dry: false,
        };
        (relay, pump)
    }

    /// After the card ran dry: the frames to have buffered before the
    /// programme resumes, one and a half of the longest pause between
    /// arrivals (plus 0.2 s), within [`REBUFFER_MIN`, `REBUFFER_MAX`], and
    /// never more than the slot has left.
    fn rebuffer(&self) -> u64 {
        let gap = Duration::from_millis(self.link.gap_ms.load(Ordering::Acquire));
        let want =
            (gap.mul_f64(1.5) + Duration::from_millis(200)).clamp(REBUFFER_MIN, REBUFFER_MAX);
        let frames = (want.as_secs_f64() * f64::from(self.rate)) as u64;
        frames.min(self.slot_frames.saturating_sub(self.produced))
    }

    /// How far this item's frames are ahead of the card.
    fn ahead(&self) -> Duration {
        let frames = self.produced.saturating_sub(self.taken());
        Duration::from_secs_f64(frames as f64 / f64::from(self.rate))
    }

    /// Frames of this item the card has taken.
    fn taken(&self) -> u64 {
        let before = self.written_before.unwrap_or(0);
        self.engine
            .played
            .load(Ordering::Acquire)
            .saturating_sub(before)
    }

    /// Whether the card has been left waiting for frames since this item
    /// was queued (it started on it, and there is nothing yet).
    fn card_waits(&mut self) -> bool {
        let due = self.engine.starting.load(Ordering::Acquire)
            && self.engine.played.load(Ordering::Acquire) >= self.written_before.unwrap_or(0);
        let since = match (due, self.due_since) {
            (false, _) => None,
            (true, Some(t)) => Some(t),
            (true, None) => Some(*self.due_since.insert(Instant::now())),
        };
        since.is_some_and(|t| t.elapsed() >= START_GRACE)
            || self.engine.underruns.load(Ordering::Acquire) > self.underruns_before
    }

    /// Programme counted into `out` from `front`.
    fn take_front(&mut self, n: u64, out: &mut Vec<f32>) {
        out.extend(self.front.drain(..n as usize * self.channels));
        self.count(n, n);
    }

    /// Before the slot: up to `n` frames of what the pump holds (the
    /// oldest first); false when it holds nothing.
    fn hand_held(&mut self, n: u64, out: &mut Vec<f32>) -> bool {
        let mut held = self.link.held.lock().unwrap_or_else(|e| e.into_inner());
        let k = ((held.len() / self.channels) as u64).min(n);
        if k == 0 {
            return false;
        }
        out.extend(held.drain(..k as usize * self.channels));
        drop(held);
        self.count(k, k);
        true
    }

    /// `n` frames handed over, `programme` of them programme.
    fn count(&mut self, n: u64, programme: u64) {
        self.produced += n;
        self.programme += programme;
        let aired = self.programme as f64 / f64::from(self.rate);
        self.state.update(|i| i.aired_s = aired);
    }

    /// Takes `n` frames from the ring into `out`, counting the programme.
    fn take(&mut self, n: u64, out: &mut Vec<f32>) {
        let samples = n as usize * self.channels;
        if let Ok(chunk) = self.ring.read_chunk(samples) {
            let (a, b) = chunk.as_slices();
            out.extend_from_slice(a);
            out.extend_from_slice(b);
            chunk.commit_all();
        }
        let mut left = n;
        let mut runs = self.link.runs.lock().unwrap_or_else(|e| e.into_inner());
        while left > 0 {
            let Some(front) = runs.front_mut() else { break };
            let k = front.1.min(left);
            if front.0 {
                self.programme += k;
            }
            front.1 -= k;
            left -= k;
            if front.1 == 0 {
                runs.pop_front();
            }
        }
        drop(runs);
        self.produced += n;
        let aired = self.programme as f64 / f64::from(self.rate);
        self.state.update(|i| i.aired_s = aired);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.link.stop.store(true, Ordering::Release);
    }
}

impl FrameSource for Relay {
    fn sample_rate(&self) -> u32 {
        self.rate
    }

    fn channels(&self) -> u16 {
        self.channels as u16
    }

    fn next_into(&mut self, out: &mut Vec<f32>) -> Result<bool, ProbeError> {
        if self.produced >= self.slot_frames {
            return Ok(false);
        }
        if self.written_before.is_none() {
            // Queued: the card reaches this item once it has played all
            // that was written before it.
            self.written_before = Some(self.engine.written.load(Ordering::Acquire));
            self.underruns_before = self.engine.underruns.load(Ordering::Acquire);
        }
        let want = CHUNK.min(self.slot_frames - self.produced);
        let frames = |d: Duration| (d.as_secs_f64() * f64::from(self.rate)) as u64;
        let (pre_lead, pre_silence) = (frames(PRE_LEAD), frames(PRE_SILENCE));
        loop {
            if self.engine.closed.load(Ordering::Acquire) {
                return Ok(false);
            }
            let reached = self.taken() > 0;
            if reached && !self.link.playing.load(Ordering::Acquire) {
                // The slot has started: the programme held goes first.
                self.link.playing.store(true, Ordering::Release);
                let mut held = self.link.held.lock().unwrap_or_else(|e| e.into_inner());
                self.front.extend(held.drain(..));
            }
            if !self.front.is_empty() {
                let n = ((self.front.len() / self.channels) as u64).min(want);
                self.take_front(n, out);
                return Ok(true);
            }
            if !reached {
                // Before the card reaches the slot: at most a lead's worth,
                // from what is held (or silence if the card is already
                // waiting and nothing is), then wait for the card.
                let room = pre_lead.saturating_sub(self.produced).min(want);
                if room > 0 && self.hand_held(room, out) {
                    return Ok(true);
                }
                let quiet = pre_silence.saturating_sub(self.produced).min(want);
                if quiet == 0 || !self.card_waits() {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
                let n = quiet.min(u64::from(self.rate) / 20).max(1);
                out.resize(out.len() + n as usize * self.channels, 0.0);
                self.produced += n;
                return Ok(true);
            } else {
                let avail = (self.ring.slots() / self.channels) as u64;
                if self.dry && avail > 0 && avail >= self.rebuffer() {
                    self.dry = false;
                }
                if avail > 0 && !self.dry {
                    self.take(avail.min(want), out);
                    return Ok(true);
                }
                if self.ahead() > LEAD {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
            }
            // The card would run dry: silence, counted as such.
            self.dry |= reached;
            let n = want.min(u64::from(self.rate) / 20).max(1);
            out.resize(out.len() + n as usize * self.channels, 0.0);
            self.produced += n;
            return Ok(true);
        }
    }

    fn frames(&self) -> u64 {
        self.produced
    }
}

/// Why one connection ended.
enum Ended {
    /// The relay is gone.
    Stopped,
    /// The source failed; whether it had given any programme first.
    Fault { message: String, had_audio: bool },
}

/// The pump: sources in order, into the ring.
pub(super) struct Pump {
    plan: StreamPlan,
    /// The programme's level control and limiter.
    leveler: super::level::Leveler,
    ring: rtrb::Producer<f32>,
    link: Arc<Link>,
    state: Arc<LiveState>,
    /// When programme last arrived on this connection.
    last_arrival: Option<Instant>,
}

impl Pump {
    /// Whether the relay is gone.
    pub(super) fn stopped(&self) -> bool {
        self.link.stop.load(Ordering::Acquire)
    }

    /// The device's rate and channels, and the language.
    pub(super) fn out(&self) -> (u32, usize, Lang) {
        (self.plan.rate, self.plan.channels, self.plan.lang)
    }

    /// The shared state.
    pub(super) fn state(&self) -> &LiveState {
        &self.state
    }

    fn run(mut self) {
        let urls = self.plan.urls.clone();
        let lang = self.plan.lang;
        let mut fallback_aired = false;
        while !self.stopped() {
            for (i, url) in urls.iter().enumerate() {
                let label = if i == 0 {
                    "main".to_string()
                } else {
                    format!("backup {i}")
                };
                // A stream that drops is reconnected once before the next.
                for _attempt in 0..2 {
                    self.state.update(|s| {
                        s.source = label.clone();
                        s.url = Some(url.clone());
                    });
                    match self.relay_url(url) {
                        Ended::Stopped => return,
                        Ended::Fault { message, had_audio } => {
                            tracing::warn!(url = %url, fault = %message, "{}", crate::lang::log("luồng tiếp sóng lỗi", "relayed stream fault"));
                            self.state.fault(message);
                            if !had_audio {
                                break;
                            }
                        }
                    }
                    if self.stopped() {
                        return;
                    }
                }
            }
            if self.stopped() {
                return;
            }
            match self.plan.fallback.clone() {
                Some(f) if !fallback_aired => {
                    fallback_aired = true;
                    self.state.update(|s| s.source = "fallback".into());
                    if !self.play_file(&f) {
                        return;
                    }
                }
                _ => {
                    self.state.update(|s| s.source = "silence".into());
                    if self.plan.fallback.is_none() && !fallback_aired {
                        fallback_aired = true;
                        self.state.fault(tr!(
                            lang,
                            "không có luồng nào phát được và không có tệp dự phòng (fallback): phát im lặng",
                            "no stream could be had and there is no fallback file: silence"
                        ));
                    }
                    if !self.sleep(RETRY) {
                        return;
                    }
                }
            }
        }
    }

    /// Sleeps, waking to stop; false once stopped.
    fn sleep(&self, d: Duration) -> bool {
        let until = Instant::now() + d;
        while Instant::now() < until {
            if self.stopped() {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        !self.stopped()
    }

    /// Relays one URL until it fails or the relay is gone.
    fn relay_url(&mut self, url: &str) -> Ended {
        let lang = self.plan.lang;
        let state = self.state.clone();
        let on_title: Box<dyn FnMut(String) + Send> = Box::new(move |t: String| {
            tracing::info!(title = %t, "{}", crate::lang::log("chương trình đang tiếp sóng", "programme on the relayed stream"));
            state.update(|s| s.title = Some(t));
        });
        let opts = http::Options {
            stall: self.plan.stall,
            ..http::Options::default()
        };
        // A new connection: its pauses are its own.
        self.last_arrival = None;
        self.link.gap_ms.store(0, Ordering::Release);
        let stream = match http::open(url, &opts, on_title) {
            Ok(s) => s,
            Err(e) => {
                return Ended::Fault {
                    message: e.message(url, lang),
                    had_audio: false,
                };
            }
        };
        tracing::info!(url = %stream.url, codec = stream.codec.name(), station = ?stream.station, "{}", crate::lang::log("đã kết nối luồng tiếp sóng", "relayed stream connected"));
        let counter = stream.counter();
        let station = stream.station.clone();
        self.state.update(|s| s.station = station);
        let ext = match stream.codec {
            http::Codec::Mp3 => "mp3",
            http::Codec::Aac => "aac",
            http::Codec::Ogg => "ogg",
        };
        let source = Box::new(symphonia::core::io::ReadOnlySource::new(
            super::probe::SyncRead(Mutex::new(stream)),
        ));
        let mut decoder = match crate::media::decode::Decoder::from_source(source, Some(ext)) {
            Ok(d) => d,
            Err(e) => {
                return Ended::Fault {
                    message: e.message(url, lang),
                    had_audio: false,
                };
            }
        };
        self.decode(&mut decoder, url, &counter)
    }

    /// Decodes into the ring until the stream ends, fails or is silent too
    /// long.
    fn decode(
        &mut self,
        decoder: &mut crate::media::decode::Decoder,
        url: &str,
        counter: &Arc<std::sync::atomic::AtomicU64>,
    ) -> Ended {
        let lang = self.plan.lang;
        let (out_rate, out_ch) = (self.plan.rate, self.plan.channels);
        let mut resampler: Option<Resampler> = None;
        let (mut raw, mut mapped, mut resampled) = (Vec::new(), Vec::new(), Vec::new());
        let mut had_audio = false;
        let mut silent_frames: u64 = 0;
        loop {
            if self.stopped() {
                return Ended::Stopped;
            }
            raw.clear();
            let more = match decoder.next_into(&mut raw) {
                Ok(m) => m,
                Err(e) => {
                    return Ended::Fault {
                        message: e.message(url, lang),
                        had_audio,
                    };
                }
            };
            if !more {
                return Ended::Fault {
                    message: tr!(lang, "luồng {url} bị ngắt", "the stream {url} dropped"),
                    had_audio,
                };
            }
            let in_ch = usize::from(decoder.channels.max(1));
            mapped.clear();
            map_channels(&raw, in_ch, out_ch, &mut mapped);
            let r = resampler
                .get_or_insert_with(|| Resampler::new(decoder.sample_rate, out_rate, out_ch));
            resampled.clear();
            r.process(&mapped, &mut resampled);
            let frames = (resampled.len() / out_ch) as u64;
            if resampled.iter().all(|s| s.abs() < SILENT_LEVEL) {
                silent_frames += frames;
            } else {
                silent_frames = 0;
            }
            if silent_frames as f64 / f64::from(out_rate) > SILENT_DROP.as_secs_f64() {
                return Ended::Fault {
                    message: tr!(
                        lang,
                        "luồng {url} chỉ có im lặng quá 30 giây",
                        "the stream {url} was silent for more than 30 s"
                    ),
                    had_audio,
                };
            }
            had_audio = true;
            let received = frames as f64 / f64::from(out_rate);
            let bytes = counter.load(Ordering::Relaxed);
            self.state.update(|s| {
                s.received_s += received;
                s.bytes = bytes;
            });
            if !self.push_programme(&mut resampled) {
                return Ended::Stopped;
            }
        }
    }

    /// Plays the fallback file into the ring (not programme); false once
    /// the relay is gone.
    fn play_file(&mut self, f: &MediaPath) -> bool {
        let lang = self.plan.lang;
        let mut d = match crate::media::decode::Decoder::open(f) {
            Ok(d) => d,
            Err(e) => {
                self.state
                    .fault(e.message(&f.path().display().to_string(), lang));
                return true;
            }
        };
        let (out_rate, out_ch) = (self.plan.rate, self.plan.channels);
        let mut r = Resampler::new(d.sample_rate, out_rate, out_ch);
        let (mut raw, mut mapped, mut resampled) = (Vec::new(), Vec::new(), Vec::new());
        loop {
            raw.clear();
            match d.next_into(&mut raw) {
                Ok(true) => {}
                Ok(false) | Err(_) => break,
            }
            mapped.clear();
            map_channels(&raw, usize::from(d.channels.max(1)), out_ch, &mut mapped);
            resampled.clear();
            r.process(&mapped, &mut resampled);
            if !self.push(&resampled, false) {
                return false;
            }
        }
        resampled.clear();
        r.flush(&mut resampled);
        self.push(&resampled, false)
    }

    /// Levels programme (the level control and the limiter), then hands
    /// it over as [`Pump::push`], noting the pause since the last was
    /// handed over (the time waiting for the network and decoding, not
    /// that waiting for room in the ring).
    pub(super) fn push_programme(&mut self, data: &mut [f32]) -> bool {
        if let Some(last) = self.last_arrival {
            let gap = last.elapsed().min(REBUFFER_MAX);
            self.link
                .gap_ms
                .fetch_max(gap.as_millis() as u64, Ordering::AcqRel);
        }
        self.leveler.process(data);
        let more = self.push(data, true);
        self.last_arrival = Some(Instant::now());
        more
    }

    /// Hands frames over: before the slot starts, keeps the newest
    /// PREBUFFER of them; then into the ring, waiting for room. False once
    /// the relay is gone.
    pub(super) fn push(&mut self, data: &[f32], programme: bool) -> bool {
        let ch = self.plan.channels;
        {
            let mut held = self.link.held.lock().unwrap_or_else(|e| e.into_inner());
            if !self.link.playing.load(Ordering::Acquire) {
                if !programme {
                    // The fallback is for the slot itself.
                    drop(held);
                    return self.wait_for_slot() && self.push(data, programme);
                }
                held.extend(data);
                let keep = (PREBUFFER.as_secs_f64() * f64::from(self.plan.rate)) as usize * ch;
                let over = held.len().saturating_sub(keep) / ch * ch;
                held.drain(..over);
                return !self.stopped();
            }
            // The slot has started and the relay has not taken what was
            // held yet: it goes first.
            if !held.is_empty() {
                let old: Vec<f32> = held.drain(..).collect();
                drop(held);
                if !self.write(&old, true) {
                    return false;
                }
            }
        }
        self.write(data, programme)
    }

    /// Waits until the slot starts; false once the relay is gone.
    fn wait_for_slot(&self) -> bool {
        while !self.link.playing.load(Ordering::Acquire) {
            if self.stopped() {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        true
    }

    fn write(&mut self, mut data: &[f32], programme: bool) -> bool {
        let ch = self.plan.channels;
        while !data.is_empty() {
            if self.stopped() {
                return false;
            }
            let free = self.ring.slots() / ch * ch;
            if free == 0 {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
            let n = free.min(data.len());
            if let Ok(mut chunk) = self.ring.write_chunk(n) {
                let (a, b) = chunk.as_mut_slices();
                a.copy_from_slice(&data[..a.len()]);
                b.copy_from_slice(&data[a.len()..n]);
                chunk.commit_all();
            }
            let frames = (n / ch) as u64;
            let mut runs = self.link.runs.lock().unwrap_or_else(|e| e.into_inner());
            match runs.back_mut() {
                Some(last) if last.0 == programme => last.1 += frames,
                _ => runs.push_back((programme, frames)),
            }
            drop(runs);
            data = &data[n..];
        }
        true
    }
}
