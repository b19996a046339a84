//! Airing one broadcast: the safety sequence, written once, for scheduled
//! broadcasts, emergencies and `loa play` alike. The relay goes on at the
//! planned time; the sound device is opened and the first items made ready
//! during the warm-up; the items play with the gaps between them; the hold
//! passes; the relay goes off, on every way out (done, an item failing, the
//! sound device failing, a shutdown). The times come from the planner
//! (`schedule::timeline`), and every wait goes through the one clock (tokio
//! time, which tests pause): the sequence itself decides neither what to
//! air nor when.
//!
//! This file holds what goes in and out (the items, the job, the report,
//! the events); `airing` is the sequence, a small state machine.

mod airing;

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

use crate::lang::Lang;
use crate::media::MediaPath;
use crate::player::{AudioError, Output};
use crate::relay::RelayGuard;
use crate::schedule::clock::Clock;
use crate::schedule::timeline::Timeline;
use crate::shutdown::Shutdown;

/// One item to air.
#[derive(Clone, Debug)]
pub struct AirItem {
    /// The name shown and logged (the playlist's name, or the path given).
    pub name: String,
    /// The file or live programme, or why it cannot be aired (it is then
    /// reported and skipped).
    pub source: Result<crate::player::Source, String>,
    /// The gain to play it at, in dB: loudness normalisation (capped), the
    /// `[audio]` volume and the item's own `volume-db` (`player::gain::gain_db`).
    pub gain_db: f64,
    /// The expected length, for progress.
    pub duration: Option<Duration>,
    /// The file's SHA-256, for the as-run log.
    pub sha256: Option<String>,
    /// The file's sample rate: the device is opened at the first item's rate
    /// when it takes it, so that the usual case needs no resampling.
    pub sample_rate: Option<u32>,
    /// The zones it airs to, by name (empty: no zones are configured).
    /// Consecutive items with the same zones air as one run; between runs
    /// the zones are switched in the silence.
    pub zones: Vec<String>,
    /// Text read aloud (`loa say`, a playlist's `say`): its name is the
    /// text's first 80 characters, its SHA-256 the text's, its kind "tts".
    pub speech: bool,
}

impl AirItem {
    /// An item from what finding and measuring its file gave: the gain from
    /// its loudness, the `[audio]` settings and the item's own `volume-db`;
    /// or, when the file cannot be aired, the reason.
    pub fn from_found(
        name: &str,
        found: Result<(MediaPath, crate::media::probe::Probe), String>,
        audio: &crate::config::AudioConfig,
        item_volume_db: f64,
    ) -> AirItem {
        match found {
            Ok((path, p)) => AirItem {
                name: name.to_string(),
                source: Ok(crate::player::Source::File(path)),
                gain_db: crate::player::gain::gain_db(
                    p.loudness_lufs,
                    p.true_peak_db,
                    audio.normalize,
                    audio.target_lufs,
                    audio.volume_db,
                    item_volume_db,
                ),
                duration: Some(p.duration),
                sha256: p.sha256,
                sample_rate: Some(p.sample_rate),
                zones: Vec::new(),
                speech: false,
            },
            Err(why) => AirItem::failed(name, why),
        }
    }

    /// A live programme for its slot: at the `[audio]` volume and the
    /// item's own `volume-db` (live sound cannot be measured ahead); its
    /// fallback file as found (a fallback that cannot be found is said
    /// in its state, and the slot goes on without it).
    pub fn live(
        name: &str,
        live: crate::live::Live,
        fallback: Option<Result<MediaPath, String>>,
        audio: &crate::config::AudioConfig,
        item_volume_db: f64,
    ) -> AirItem {
        let state = Arc::new(crate::live::LiveState::default());
        let fallback = match fallback {
            Some(Ok(p)) => Some(p),
            Some(Err(why)) => {
                state.fault(why);
                None
            }
            None => None,
        };
        AirItem {
            name: name.to_string(),
            duration: Some(live.slot),
            source: Ok(crate::player::Source::Live(crate::live::LiveAir {
                live,
                fallback,
                state,
                level: crate::live::level::Level {
                    target_lufs: audio.target_lufs,
                    control: audio.normalize,
                    after_db: audio.volume_db + item_volume_db,
                },
            })),
            gain_db: audio.volume_db + item_volume_db,
            sha256: None,
            sample_rate: None,
            zones: Vec::new(),
            speech: false,
        }
    }

    /// The live programme's state, for a live item.
    pub fn live_state(&self) -> Option<&crate::live::LiveAir> {
        match &self.source {
            Ok(crate::player::Source::Live(l)) => Some(l),
            _ => None,
        }
    }

    /// What the as-run log calls its kind.
    pub fn kind(&self) -> crate::asrun::Kind {
        match self.live_state().map(|l| &l.live.source) {
            Some(crate::live::LiveSource::Stream { .. }) => crate::asrun::Kind::Stream,
            Some(crate::live::LiveSource::LineIn { .. }) => crate::asrun::Kind::LineIn,
            None if self.speech => crate::asrun::Kind::Tts,
            None => crate::asrun::Kind::File,
        }
    }

    /// An item that cannot be aired: reported and recorded when its turn
    /// comes.
    pub fn failed(name: &str, why: String) -> AirItem {
        AirItem {
            name: name.to_string(),
            source: Err(why),
            gain_db: 0.0,
            duration: None,
            sha256: None,
            sample_rate: None,
            zones: Vec::new(),
            speech: false,
        }
    }

    /// The same item, aired to `zones`.
    pub fn to_zones(mut self, zones: &[String]) -> AirItem {
        self.zones = zones.to_vec();
        self
    }
}

/// Finds and measures each of `files` (names below the audio folder, or
/// paths), as `loa play`, `loa now` and `loa queue` air them.
pub fn prepare_files(cfg: &crate::config::Config, files: &[String]) -> Vec<AirItem> {
    use crate::media::{Library, MediaIndex};
    let library =
        Library::scan(&cfg.paths.audio).unwrap_or_else(|_| Library::empty(&cfg.paths.audio));
    let index = MediaIndex::open(&cfg.paths.state).unwrap_or_else(|_| MediaIndex::in_memory());
    files
        .iter()
        .map(|f| {
            let found = crate::media::find_and_probe(f, &library, &index, cfg.lang);
            AirItem::from_found(f, found, &cfg.audio, 0.0)
        })
        .collect()
}

/// Finds and measures each of `names` in the audio folder only (what the
/// control socket takes: no path, no `..`, no link out), validated like an
/// upload.
pub fn prepare_named(cfg: &crate::config::Config, names: &[String]) -> Vec<AirItem> {
    use crate::media::{Library, MediaIndex};
    let library =
        Library::scan(&cfg.paths.audio).unwrap_or_else(|_| Library::empty(&cfg.paths.audio));
    let index = MediaIndex::open(&cfg.paths.state).unwrap_or_else(|_| MediaIndex::in_memory());
    names
        .iter()
        .map(|f| {
            let found = crate::media::find_named(f, &library, &index, cfg.lang);
            AirItem::from_found(&display_name(f), found, &cfg.audio, 0.0)
        })
        .collect()
}

/// As [`prepare_named`], with live programmes among the names (a stream's
/// address, `line-in:DEVICE`) aired for `slot` (`loa now --for`).
pub fn prepare_requested(
    cfg: &crate::config::Config,
    names: &[String],
    slot: Option<Duration>,
) -> Vec<AirItem> {
    names
        .iter()
        .map(|n| match crate::live::parse_arg(n, slot, cfg.lang) {
            Ok(Some(live)) => AirItem::live(n, live, None, &cfg.audio, 0.0),
            Ok(None) => prepare_named(cfg, std::slice::from_ref(n))
                .pop()
                .unwrap_or_else(|| AirItem::failed(n, String::new())),
            Err(why) => AirItem::failed(&display_name(n), why),
        })
        .collect()
}

/// A name as it may be shown and logged: control characters (a NUL from a
/// malformed request) escaped.
pub fn display_name(name: &str) -> String {
    if name.chars().any(char::is_control) {
        name.escape_debug().to_string()
    } else {
        name.to_string()
    }
}

/// What to air, and how.
pub struct Job {
    /// The items, in airing order.
    pub items: Vec<AirItem>,
    /// The planned times (relay on, each item's start, relay off): the
    /// sequence follows them, and the gap and hold they were made with.
    pub timeline: Timeline,
    /// Fade in and out of every item.
    pub fade: Duration,
    /// The operator's language, for the reasons written into the report.
    pub lang: Lang,
    /// What the operator asks while it airs (`loa skip`, `loa stop`, an
    /// emergency); None for `loa play`.
    pub commands: Option<tokio::sync::mpsc::UnboundedReceiver<AirCommand>>,
    /// Asked at the end: keep the relay on, because the next broadcast is
    /// already due.
    pub keep_on: Option<Arc<dyn Fn() -> bool + Send + Sync>>,
}

/// The hardware and time the sequence works through: one seam each.
pub struct Seams {
    /// None: leave the relay alone (`loa play --no-relay`).
    pub relay: Option<RelayGuard>,
    /// The sound output the items are played on.
    pub output: Arc<dyn Output>,
    /// The wall clock every wait is measured on.
    pub clock: Arc<dyn Clock>,
    /// Seen at every step: a shutdown fades out what plays and switches the
    /// relay off.
    pub shutdown: Shutdown,
}

/// Airs `job` through `seams`, telling `events` each step as it happens.
pub async fn air(job: Job, seams: Seams, events: &mut (dyn AirEvents + Send)) -> AirReport {
    airing::Airing::new(job, seams, events).run().await
}

/// What became of one item.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Played to its end.
    Played,
    /// Could not be played; the reason, for the operator.
    Failed(String),
    /// Cut short (a shutdown, `loa stop`, an emergency, the sound device
    /// failing, the file changing while it aired); the reason, for the
    /// operator.
    Interrupted(String),
    /// Skipped by the operator (`loa skip`, `loa stop`) while playing.
    Skipped,
    /// Never reached (the broadcast ended before it).
    NotAired(String),
}

/// What the operator can ask of a broadcast while it airs.
#[derive(Clone, Debug, PartialEq)]
pub enum AirCommand {
    /// Skip the item playing now.
    Skip,
    /// End the broadcast: the hold, then relay off.
    Stop,
    /// An emergency preempts the broadcast: the item playing fades out, the
    /// rest is not aired, and the relay stays on for what follows.
    Preempt,
}

/// How one item went: its outcome and, if its sound began, when.
#[derive(Clone, Debug)]
pub struct ItemReport {
    /// The item's name, as in [`AirItem::name`].
    pub name: String,
    /// When its first sound was taken by the device; None if it never began.
    pub started: Option<Timestamp>,
    /// When it ended; None if it never began.
    pub ended: Option<Timestamp>,
    /// What became of it.
    pub outcome: Outcome,
}

/// What became of a broadcast: each item, the relay's edges and how it ended.
#[derive(Clone, Debug, Default)]
pub struct AirReport {
    /// One report per item of the job, in the same order.
    pub items: Vec<ItemReport>,
    /// When the relay went on (the edge's own time); None when this
    /// broadcast did not switch it on (no relay, already on, a shutdown
    /// first, or switching failed).
    pub relay_on: Option<Timestamp>,
    /// When this broadcast switched the relay off; None when it left the
    /// relay on, has none, or could not switch it off.
    pub relay_off: Option<Timestamp>,
    /// The sound device failed (or could not be opened).
    pub device_error: Option<AudioError>,
    /// The relay could not be switched.
    pub relay_error: Option<String>,
    /// A shutdown cut the broadcast short.
    pub shut_down: bool,
    /// `loa stop` ended it.
    pub stopped: bool,
    /// An emergency preempted it (the relay was left on).
    pub preempted: bool,
    /// The relay was left on for the next broadcast.
    pub kept_on: bool,
    /// An item's decoder stopped producing sound: the broadcast was ended.
    pub stalled: bool,
    /// No item could be played: the relay was never switched on.
    pub nothing_playable: bool,
}

impl AirReport {
    /// True when there was at least one item and every item played to its end.
    pub fn all_played(&self) -> bool {
        !self.items.is_empty() && self.items.iter().all(|i| i.outcome == Outcome::Played)
    }
}

/// Told about each step as it happens (progress lines, the as-run log).
pub trait AirEvents {
    /// The relay went on (true) or off (false), at the given time. Not told
    /// when the relay was already on.
    fn relay(&mut self, _on: bool, _at: Timestamp) {}
    /// The job's item at `index` began to sound, at the given time.
    fn item_started(&mut self, _index: usize, _item: &AirItem, _at: Timestamp) {}
    /// The item at `index` plays, this far into its sound; told only when
    /// it has moved on since the last time.
    fn progress(&mut self, _index: usize, _item: &AirItem, _elapsed: Duration) {}
    /// The item at `index` ended (played, failed, skipped, interrupted, or
    /// not aired); the report says how.
    fn item_ended(&mut self, _index: usize, _item: &AirItem, _report: &ItemReport) {}
    /// The sound device failed or could not be opened; the items are failed
    /// or interrupted with its message.
    fn device_error(&mut self, _error: &AudioError) {}
    /// The sound device is open and the first sound goes out at `at`: a
    /// tap to record everything sent to it (the broadcast archive), or None
    /// when this broadcast is not recorded.
    fn archive(&mut self, _at: Timestamp) -> Option<crate::archive::Tap> {
        None
    }
}

/// Events nobody listens to.
pub struct NoEvents;
impl AirEvents for NoEvents {}

#[cfg(test)]
mod tests;
