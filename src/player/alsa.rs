//! The real sound output: an ALSA device opened by name through cpal, with
//! rodio's mixer and player queueing our sources. Also lists the devices for
//! `loa devices`. Opened per broadcast and closed after it, so a sound card
//! that failed is tried again next time and no device is held while idle.

use std::num::NonZero;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rodio::cpal::traits::{DeviceTrait, HostTrait};
use rodio::cpal::{self, BufferSize, SampleFormat};

use super::item::{ItemSource, SilenceSource};
use super::{AudioError, ItemSpec, Output, Segment, SegmentSpec, Sink};
use crate::lang::Lang;

/// The preferred output format: what most cards take, and what the test
/// stand-in captures.
const PREFERRED_RATE: u32 = 48_000;
const PREFERRED_CHANNELS: u16 = 2;
/// The device buffer, about 50 ms.
const BUFFER_FRAMES: u32 = 2048;

/// An ALSA device by name ("default", "hw:1,0", "plughw:CARD=Device,DEV=0").
#[derive(Clone, Debug)]
pub struct AlsaOutput {
    pub device: String,
    pub lang: Lang,
}

/// One output device as ALSA lists it.
#[derive(Clone, Debug)]
pub struct DeviceInfo {
    /// The name to put in [audio] device.
    pub name: String,
    pub description: String,
}

/// Keeps alsa-lib's own complaints (written to stderr by default) off the
/// operator's screen while this thread talks to ALSA: loa says what is wrong
/// in its own words. Dropping the handle lets them through again.
fn quiet_alsa() -> Option<std::rc::Rc<std::cell::RefCell<alsa::Output>>> {
    alsa::Output::local_error_handler().ok()
}

/// The output devices ALSA offers.
pub fn list_devices() -> Vec<DeviceInfo> {
    let _quiet = quiet_alsa();
    let host = cpal::default_host();
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
    let host = cpal::default_host();
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

/// Picks 48 kHz stereo 16-bit when the device takes it, else its default.
fn choose_config(device: &cpal::Device) -> Result<cpal::SupportedStreamConfig, String> {
    if let Ok(ranges) = device.supported_output_configs() {
        let ranges: Vec<_> = ranges.collect();
        for format in [SampleFormat::I16, SampleFormat::F32, SampleFormat::I32] {
            for r in &ranges {
                if r.channels() == PREFERRED_CHANNELS
                    && r.sample_format() == format
                    && let Some(c) = (*r).try_with_sample_rate(PREFERRED_RATE)
                {
                    return Ok(c);
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
        choose_config(&device).map_err(|d| self.open_error(d))?;
        Ok(())
    }

    fn open(&self) -> Result<Box<dyn Sink>, AudioError> {
        let _quiet = quiet_alsa();
        let name = self.device.clone();
        let device = find_device(&name)?;
        let open_err = |detail: String| self.open_error(detail);
        let config = choose_config(&device).map_err(open_err)?;
        let failure: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
        let f = failure.clone();
        let mut sink = rodio::DeviceSinkBuilder::from_device(device)
            .map_err(|e| open_err(e.to_string()))?
            .with_supported_config(&config)
            .with_buffer_size(BufferSize::Fixed(BUFFER_FRAMES))
            .with_error_callback(move |e: cpal::Error| {
                // An underrun is not a failure of the device.
                if e.kind() == cpal::ErrorKind::Xrun {
                    tracing::warn!("audio underrun");
                    return;
                }
                let mut g = f.lock().unwrap_or_else(|e| e.into_inner());
                if g.is_none() {
                    *g = Some(e.to_string());
                }
            })
            .open_stream()
            .map_err(|e| open_err(format!("{e}: {}", source_text(&e))))?;
        sink.log_on_drop(false);
        let player = rodio::Player::connect_new(sink.mixer());
        let cfg = sink.config();
        let channels = cfg.channel_count();
        let rate = cfg.sample_rate();
        tracing::info!(device = %name, rate = rate.get(), channels = channels.get(), "audio device opened");
        Ok(Box::new(AlsaSink {
            _sink: sink,
            player,
            failure,
            name,
            lang: self.lang,
            channels,
            rate,
        }))
    }
}

fn source_text(e: &dyn std::error::Error) -> String {
    e.source().map(|s| s.to_string()).unwrap_or_default()
}

struct AlsaSink {
    // Dropping it closes the device; the player must go first.
    player: rodio::Player,
    _sink: rodio::MixerDeviceSink,
    failure: Arc<Mutex<Option<String>>>,
    name: String,
    lang: Lang,
    channels: NonZero<u16>,
    rate: NonZero<u32>,
}

impl Sink for AlsaSink {
    fn queue(
        &mut self,
        gap_before: Duration,
        item: ItemSpec,
    ) -> Result<(Option<Segment>, Segment), AudioError> {
        let (src, progress) = ItemSource::open(&item)
            .map_err(|e| AudioError::Item(e.message(&item.name, self.lang)))?;
        let gap = (!gap_before.is_zero()).then(|| {
            let (silence, progress) = SilenceSource::new(gap_before, self.channels, self.rate);
            self.player.append(silence);
            Segment {
                spec: SegmentSpec::Silence(gap_before),
                progress,
            }
        });
        self.player.append(src);
        Ok((
            gap,
            Segment {
                spec: SegmentSpec::Item(item),
                progress,
            },
        ))
    }

    fn failure(&self) -> Option<String> {
        self.failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn drain(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(2);
        while !self.player.empty() && Instant::now() < deadline && self.failure().is_none() {
            std::thread::sleep(Duration::from_millis(5));
        }
        // What the mixer handed over is still in the device buffer.
        let buffered = BUFFER_FRAMES as f64 / self.rate.get() as f64;
        std::thread::sleep(Duration::from_secs_f64(buffered * 2.0));
    }
}

impl std::fmt::Debug for AlsaSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AlsaSink({})", self.name)
    }
}
