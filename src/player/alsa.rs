//! The real sound output: an ALSA device opened by name through cpal, fed
//! by the output engine (`engine`). Also lists the devices for
//! `loa devices`. Opened per broadcast and closed after it, so a sound card
//! that failed is tried again next time and no device is held while idle.

use std::str::FromStr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{BufferSize, SampleFormat};

use super::engine::{self, Job, RING_FRAMES, Shared};
use super::{AudioError, ItemSpec, Output, Progress, Segment, SegmentSpec, Sink};
use crate::lang::Lang;
use crate::media::Decoder;

/// The preferred output format: what most cards take, and what the test
/// stand-in captures.
const PREFERRED_RATE: u32 = 48_000;
const PREFERRED_CHANNELS: u16 = 2;
/// The device's period, about 90 ms at 44.1-48 kHz (its buffer holds two):
/// few wake-ups a second, and a stop is still heard within half a second.
const BUFFER_FRAMES: u32 = 4096;

/// What `start` waits to have decoded before the device starts (two device
/// buffers), and for at most how long.
const START_FRAMES: u64 = 2 * BUFFER_FRAMES as u64;
const START_WAIT: Duration = Duration::from_millis(500);

/// An ALSA device by name ("default", "hw:1,0", "plughw:CARD=Device,DEV=0").
#[derive(Clone, Debug)]
pub struct AlsaOutput {
    /// The ALSA device name, as in `[audio] device`.
    pub device: String,
    /// The language of the operator's messages about its items.
    pub lang: Lang,
}

/// The ALSA output for the config's `[audio] device`.
pub fn make(cfg: &crate::config::Config) -> Arc<dyn Output> {
    Arc::new(AlsaOutput {
        device: cfg.audio.device.clone(),
        lang: cfg.lang,
    })
}

/// One output device as ALSA lists it.
#[derive(Clone, Debug)]
pub struct DeviceInfo {
    /// The name to put in `[audio] device`.
    pub name: String,
    /// ALSA's description of it, on one line ("" when it gives none).
    pub description: String,
}

/// Keeps alsa-lib's own complaints (written to stderr by default) off the
/// operator's screen while this thread talks to ALSA: loa says what is wrong
/// in its own words. Dropping the handle lets them through again.
fn quiet_alsa() -> Option<std::rc::Rc<std::cell::RefCell<alsa::Output>>> {
    alsa::Output::local_error_handler().ok()
}

/// ALSA, through cpal. cpal's `default_host` panics when ALSA cannot read
/// its configuration (a broken asoundrc); this says why instead.
fn alsa_host() -> Result<cpal::Host, AudioError> {
    cpal::host_from_id(cpal::HostId::Alsa).map_err(|e| AudioError::Config(e.to_string()))
}

/// The output devices ALSA offers.
pub fn list_devices() -> Vec<DeviceInfo> {
    let _quiet = quiet_alsa();
    let Ok(host) = alsa_host() else {
        return vec![];
    };
    let Ok(devices) = host.output_devices() else {
        return vec![];
    };
    let mut out: Vec<DeviceInfo> = devices
        .filter_map(|d| {
            let id = d.id().ok()?;
            let name = id.id().to_string();
            let description = d
                .description()
                .map(|x| x.to_string().replace('\n', " — "))
                .unwrap_or_default();
            Some(DeviceInfo { name, description })
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out.dedup_by(|a, b| a.name == b.name);
    out
}

/// Whether the machine has any sound card at all (not counting plugins).
pub fn has_sound_card() -> bool {
    match std::fs::read_to_string("/proc/asound/cards") {
        Ok(s) => !s.contains("no soundcards") && !s.trim().is_empty(),
        Err(_) => false,
    }
}

fn find_device(name: &str) -> Result<cpal::Device, AudioError> {
    let host = alsa_host()?;
    if name == "default" {
        return host.default_output_device().ok_or(AudioError::NoDevice);
    }
    if let Ok(id) = cpal::DeviceId::from_str(&format!("alsa:{name}"))
        && let Some(d) = host.device_by_id(&id)
    {
        return Ok(d);
    }
    // Names as `loa devices` prints them, also without the "alsa:" prefix.
    if let Ok(devices) = host.output_devices() {
        for d in devices {
            if d.id().map(|i| i.id() == name).unwrap_or(false) {
                return Ok(d);
            }
        }
    }
    Err(AudioError::NotFound {
        name: name.to_string(),
        available: list_devices().into_iter().map(|d| d.name).collect(),
    })
}

/// The capture device ALSA calls `name` ("default", "hw:1,0", a name as
/// `arecord -L` lists it), for the line-in.
pub fn find_input_device(name: &str) -> Result<cpal::Device, AudioError> {
    let _quiet = quiet_alsa();
    let host = alsa_host()?;
    if name == "default" {
        return host.default_input_device().ok_or(AudioError::NoDevice);
    }
    if let Ok(id) = cpal::DeviceId::from_str(&format!("alsa:{name}"))
        && let Some(d) = host.device_by_id(&id)
    {
        return Ok(d);
    }
    let mut available = Vec::new();
    if let Ok(devices) = host.input_devices() {
        for d in devices {
            let Ok(id) = d.id() else { continue };
            if id.id() == name {
                return Ok(d);
            }
            available.push(id.id().to_string());
        }
    }
    Err(AudioError::NotFound {
        name: name.to_string(),
        available,
    })
}

/// Picks 48 kHz stereo 16-bit when the device takes it, else its default.
fn choose_config(
    device: &cpal::Device,
    rate: Option<u32>,
) -> Result<cpal::SupportedStreamConfig, String> {
    if let Ok(ranges) = device.supported_output_configs() {
        let ranges: Vec<_> = ranges.collect();
        for want in rate.into_iter().chain([PREFERRED_RATE]) {
            for format in [SampleFormat::I16, SampleFormat::F32, SampleFormat::I32] {
                for r in &ranges {
                    if r.channels() == PREFERRED_CHANNELS
                        && r.sample_format() == format
                        && let Some(c) = (*r).try_with_sample_rate(want)
                    {
                        return Ok(c);
                    }
                }
            }
        }
    }
    device.default_output_config().map_err(|e| e.to_string())
}

impl AlsaOutput {
    fn open_error(&self, detail: String) -> AudioError {
        if self.device == "default" && !has_sound_card() {
            AudioError::NoDevice
        } else {
            AudioError::Open {
                name: self.device.clone(),
                detail,
            }
        }
    }
}

impl Output for AlsaOutput {
    fn name(&self) -> String {
        self.device.clone()
    }

    fn check(&self) -> Result<(), AudioError> {
        let _quiet = quiet_alsa();
        let device = find_device(&self.device)?;
        choose_config(&device, None).map_err(|d| self.open_error(d))?;
        Ok(())
    }

    fn ready(&self, item: &ItemSpec) -> Result<(), AudioError> {
        let fail = |e: crate::media::ProbeError| AudioError::Item(e.message(&item.name, self.lang));
        let path = match &item.source {
            super::Source::File(p) => p,
            // A live programme is found when its slot comes (and fails over).
            super::Source::Live(_) => return Ok(()),
        };
        let mut decoder = Decoder::open(path).map_err(fail)?;
        let mut first = Vec::new();
        match decoder.next_into(&mut first).map_err(fail)? {
            true => Ok(()),
            false => Err(fail(crate::media::ProbeError::NotAudio)),
        }
    }

    fn open(&self, want_rate: Option<u32>) -> Result<Box<dyn Sink>, AudioError> {
        let _quiet = quiet_alsa();
        let name = self.device.clone();
        let device = find_device(&name)?;
        let supported = choose_config(&device, want_rate).map_err(|d| self.open_error(d))?;
        let format = supported.sample_format();
        let mut config = supported.config();
        let channels = config.channels as usize;
        let rate = config.sample_rate;
        let shared = Arc::new(Shared::default());
        let failure: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
        // The period asked for; a device that cannot take it gets its own.
        config.buffer_size = BufferSize::Fixed(BUFFER_FRAMES);
        let built = match build_stream(&device, &config, format, &shared, &failure) {
            Err(BuildError::Cpal(e)) if e.kind() == cpal::ErrorKind::UnsupportedConfig => {
                config.buffer_size = BufferSize::Default;
                build_stream(&device, &config, format, &shared, &failure)
            }
            other => other,
        };
        let (stream, producer) = built.map_err(|e| match e {
            BuildError::UnsupportedFormat(other) => AudioError::Open {
                name: name.clone(),
                detail: format!("unsupported sample format {other}"),
            },
            BuildError::Cpal(e) => self.open_error(e.to_string()),
        })?;
        // Nothing plays before `start`, at the first item's time: cpal runs
        // the stream only once it is asked to play.

        let (jobs, rx) = std::sync::mpsc::channel();
        let fs = shared.clone();
        let feeder = std::thread::Builder::new()
            .name("audio-feed".into())
            .spawn(move || engine::feeder(rx, producer, fs, rate, channels))
            .map_err(|e| self.open_error(e.to_string()))?;
        tracing::info!(device = %name, rate, channels, format = %format, "{}", crate::lang::log("đã mở thiết bị âm thanh", "audio device opened"));
        Ok(Box::new(AlsaSink {
            stream: Some(Arc::new(stream)),
            started: false,
            jobs: Some(jobs),
            feeder: Some(feeder),
            shared,
            failure,
            lang: self.lang,
            rate,
            channels,
            drain: Drain::NotAsked,
        }))
    }
}

/// The stream for `config` in the device's `format`, and the ring's
/// producer end that feeds it.
fn build_stream(
    device: &cpal::Device,
    config: &cpal::StreamConfig,
    format: SampleFormat,
    shared: &Arc<Shared>,
    failure: &Arc<Mutex<Option<String>>>,
) -> Result<(cpal::Stream, rtrb::Producer<f32>), BuildError> {
    let channels = config.channels as usize;
    let (producer, mut consumer) = rtrb::RingBuffer::<f32>::new(RING_FRAMES * channels);
    let f = failure.clone();
    let on_error = move |e: cpal::Error| {
        // An underrun is not a failure of the device.
        if e.kind() == cpal::ErrorKind::Xrun {
            tracing::warn!(
                "{}",
                crate::lang::log("thiếu âm thanh gửi tới card (underrun)", "audio underrun")
            );
            return;
        }
        let mut g = f.lock().unwrap_or_else(|e| e.into_inner());
        if g.is_none() {
            *g = Some(e.to_string());
        }
    };
    let cb_shared = shared.clone();
    macro_rules! stream {
        ($t:ty) => {
            device.build_output_stream::<$t, _, _>(
                config.clone(),
                move |data: &mut [$t], _| fill(data, &mut consumer, &cb_shared, channels),
                on_error,
                None,
            )
        };
    }
    let stream = match format {
        SampleFormat::I16 => stream!(i16),
        SampleFormat::I32 => stream!(i32),
        SampleFormat::F32 => stream!(f32),
        SampleFormat::F64 => stream!(f64),
        SampleFormat::U16 => stream!(u16),
        SampleFormat::U8 => stream!(u8),
        SampleFormat::I8 => stream!(i8),
        other => return Err(BuildError::UnsupportedFormat(other)),
    }
    .map_err(BuildError::Cpal)?;
    Ok((stream, producer))
}

/// Why a stream could not be built.
enum BuildError {
    UnsupportedFormat(SampleFormat),
    Cpal(cpal::Error),
}

/// The audio callback: the engine's `fill_from`, in the device's format.
fn fill<T>(data: &mut [T], ring: &mut rtrb::Consumer<f32>, shared: &Shared, channels: usize)
where
    T: cpal::SizedSample + cpal::FromSample<f32> + ToDevice,
{
    engine::fill_from(data, ring, shared, channels, T::to_device, T::EQUILIBRIUM);
}

/// One sample from the pipeline (already within -1..1) in the device's
/// format. S16, what most cards take, is a multiply and a saturating cast
/// (vectorised); the others go through cpal's conversions.
trait ToDevice: Sized {
    fn to_device(s: f32) -> Self;
}

impl ToDevice for i16 {
    #[inline]
    fn to_device(s: f32) -> i16 {
        // Round to nearest by the float's own mantissa (adding 1.5 * 2^23
        // puts the integer in the low bits): plain arithmetic, no branch,
        // so the loop over a buffer is vectorised. Within -32767..=32767.
        let v = s.clamp(-1.0, 1.0) * 32767.0 + 12_582_912.0;
        (v.to_bits() as i32 - 0x4B40_0000) as i16
    }
}

macro_rules! to_device_by_cpal {
    ($($t:ty),*) => {$(
        impl ToDevice for $t {
            #[inline]
            fn to_device(s: f32) -> $t {
                <$t as cpal::FromSample<f32>>::from_sample_(s)
            }
        }
    )*};
}
to_device_by_cpal!(i32, f32, f64, u16, u8, i8);

struct AlsaSink {
    // Dropping it closes the device (first thing on drop). Shared with the
    // thread that starts it (see `start`).
    stream: Option<Arc<cpal::Stream>>,
    started: bool,
    jobs: Option<std::sync::mpsc::Sender<Job>>,
    feeder: Option<std::thread::JoinHandle<()>>,
    shared: Arc<Shared>,
    failure: Arc<Mutex<Option<String>>>,
    lang: Lang,
    rate: u32,
    channels: usize,
    /// Where closing stands (see `drained`).
    drain: Drain,
}

/// Closing the device without cutting sound: all that was queued is played,
/// then a little silence pushes the last of it out of the device's buffer.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Drain {
    NotAsked,
    /// Waiting (until the instant) for what was queued to be played.
    Queued(Instant),
    /// Waiting (until the instant) for the closing silence to be played.
    Silence(Instant),
    Done,
}

/// How long each step of closing may take.
const DRAIN_STEP: Duration = Duration::from_secs(2);

impl AlsaSink {
    /// A live programme's frame source: it starts connecting now.
    fn live_source(&self, l: &crate::live::LiveAir) -> Box<dyn engine::FrameSource> {
        match &l.live.source {
            crate::live::LiveSource::Stream { url, backup, .. } => {
                let mut urls = vec![url.clone()];
                urls.extend(backup.iter().cloned());
                let plan = crate::live::relay::StreamPlan {
                    urls,
                    fallback: l.fallback.clone(),
                    rate: self.rate,
                    channels: self.channels,
                    lang: self.lang,
                    stall: crate::live::STALL,
                    level: l.level,
                };
                Box::new(crate::live::relay::Relay::start(
                    plan,
                    l.live.slot,
                    self.shared.clone(),
                    l.state.clone(),
                ))
            }
            crate::live::LiveSource::LineIn { device } => {
                Box::new(crate::live::relay::Relay::line_in(
                    device,
                    l.live.slot,
                    (self.rate, self.channels, self.lang, l.level),
                    self.shared.clone(),
                    l.state.clone(),
                ))
            }
        }
    }
}

impl Sink for AlsaSink {
    fn queue(
        &mut self,
        gap_before: Duration,
        item: ItemSpec,
    ) -> Result<(Option<Segment>, Segment), AudioError> {
        let mut source: Box<dyn engine::FrameSource> = match &item.source {
            super::Source::File(path) => Box::new(
                Decoder::open(path)
                    .map_err(|e| AudioError::Item(e.message(&item.name, self.lang)))?,
            ),
            super::Source::Live(l) => self.live_source(l),
        };
        let played = self.shared.played.clone();
        let gap = (!gap_before.is_zero()).then(|| {
            let progress = Progress::in_stream(self.rate, played.clone());
            let frames = (gap_before.as_secs_f64() * self.rate as f64).round() as u64;
            self.send(Job::Silence {
                frames,
                progress: progress.clone(),
            });
            Segment {
                spec: SegmentSpec::Silence(gap_before),
                progress,
            }
        });
        let progress = Progress::in_stream(self.rate, played);
        if let Some(fault) = engine::injected_fault(&item.name) {
            source = Box::new(engine::Faulty {
                inner: source,
                fault,
                frames: 0,
            });
        }
        self.send(Job::Item {
            decoder: source,
            gain: super::gain::db_to_linear(item.gain_db),
            fade: item.fade,
            progress: progress.clone(),
            name: item.name.clone(),
            lang: self.lang,
            expected: item.duration,
        });
        Ok((
            gap,
            Segment {
                spec: SegmentSpec::Item(Box::new(item)),
                progress,
            },
        ))
    }

    fn start(&mut self) -> Result<(), AudioError> {
        if self.started {
            return Ok(());
        }
        self.started = true;
        self.shared.starting.store(true, Ordering::Release);
        // The first frames are normally in the ring long before (queued
        // during the warm-up); without a warm-up, wait for them briefly, so
        // that the device does not begin with silence the item then lags by.
        let deadline = Instant::now() + START_WAIT;
        while Instant::now() < deadline
            && self.shared.pending.load(Ordering::Acquire) > 0
            && self.shared.written.load(Ordering::Acquire) < START_FRAMES
        {
            std::thread::sleep(Duration::from_millis(1));
        }
        // cpal's `play` lets the stream's thread go first, then asks ALSA
        // for the stream's state, which waits for ALSA's lock; a device
        // whose writes block (the `file` plugin on a paced pipe) holds that
        // lock while the first sound goes out, for up to a few hundred
        // milliseconds. The sound is already flowing by then, so the wait
        // is left to a thread of its own, and the broadcast goes on. A
        // failure to start is seen in `failure`, like any other.
        if let Some(stream) = &self.stream {
            let (stream, failure) = (stream.clone(), self.failure.clone());
            let spawned = std::thread::Builder::new()
                .name("audio-start".into())
                .spawn(move || {
                    if let Err(e) = stream.play() {
                        let mut g = failure.lock().unwrap_or_else(|e| e.into_inner());
                        g.get_or_insert(e.to_string());
                    }
                });
            if let Err(e) = spawned {
                return Err(AudioError::Failed {
                    name: String::new(),
                    detail: e.to_string(),
                });
            }
        }
        Ok(())
    }

    fn failure(&self) -> Option<String> {
        self.failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn drained(&mut self) -> bool {
        if !self.started {
            return true;
        }
        // As many steps as are over now (not one per call: between calls
        // the device plays silence, which a device faster than real time,
        // like the benches' stand-in, takes by the second's worth).
        loop {
            let now = Instant::now();
            let step_over = |deadline: Instant| {
                now >= deadline || self.failure().is_some() || self.all_played()
            };
            let next = match self.drain {
                Drain::NotAsked => Drain::Queued(now + DRAIN_STEP),
                Drain::Queued(d) if step_over(d) => {
                    // Push the last sound out of the device's buffer with
                    // silence, then stop: only silence is cut.
                    self.send(Job::Silence {
                        frames: 2 * BUFFER_FRAMES as u64,
                        progress: Progress::in_stream(self.rate, self.shared.played.clone()),
                    });
                    Drain::Silence(now + DRAIN_STEP)
                }
                Drain::Silence(d) if step_over(d) => Drain::Done,
                other => other,
            };
            if next == self.drain {
                break;
            }
            self.drain = next;
            if matches!(next, Drain::Silence(_)) {
                // The silence has just been queued: it is not played yet.
                break;
            }
        }
        // Closing the device (dropping the sink) stops it; pausing first
        // would only wait for ALSA's lock, like `play` (see `start`).
        self.drain == Drain::Done
    }

    fn underruns(&self) -> u64 {
        self.shared.underruns.load(Ordering::Relaxed)
    }

    fn archive(&mut self, tap: crate::archive::Tap) {
        self.send(Job::Archive(tap));
    }

    fn starved(&self) -> bool {
        self.shared.pending.load(Ordering::Acquire) > 0
            && self.shared.played.load(Ordering::Acquire)
                >= self.shared.written.load(Ordering::Acquire)
    }
}

impl AlsaSink {
    /// Whether everything sent to the device has been played.
    fn all_played(&self) -> bool {
        self.shared.pending.load(Ordering::Acquire) == 0
            && self.shared.played.load(Ordering::Acquire)
                >= self.shared.written.load(Ordering::Acquire)
    }

    fn send(&self, job: Job) {
        self.shared.pending.fetch_add(1, Ordering::AcqRel);
        if let Some(jobs) = &self.jobs
            && jobs.send(job).is_err()
        {
            self.shared.pending.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

impl Drop for AlsaSink {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::Release);
        self.shared.wake.all();
        // The device first, so that nothing more is written to it.
        drop(self.stream.take());
        drop(self.jobs.take());
        // The feeder ends within a block once it sees `closed`; one stuck
        // in a decoder (the stall the airing sequence ended a broadcast
        // for) is left behind rather than waited for forever.
        if let Some(f) = self.feeder.take() {
            let deadline = Instant::now() + Duration::from_secs(1);
            while !f.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(2));
            }
            if f.is_finished() {
                let _ = f.join();
            } else {
                tracing::error!(
                    "{}",
                    crate::lang::log(
                        "luồng giải mã âm thanh bị treo; loa bỏ nó lại",
                        "the audio feeder thread is stuck; it is left behind"
                    )
                );
            }
        }
    }
}

impl std::fmt::Debug for AlsaSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AlsaSink({} Hz)", self.rate)
    }
}
