//! Airing one broadcast: the safety sequence, written once. Relay on; wait
//! the warm-up; play the items with the gaps between them; wait the hold;
//! relay off. The relay goes off on every way out (done, an item failing,
//! the sound device failing, a shutdown). `loa play` uses it now, the daemon
//! later. It does not decide what to air or when.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use jiff::Timestamp;

use crate::lang::Lang;
use crate::media::MediaPath;
use crate::player::{AudioError, ItemSpec, Output, Segment, Sink, State};
use crate::relay::RelayGuard;
use crate::schedule::clock::Clock;
use crate::shutdown::Shutdown;
use crate::tr;

/// One item to air.
#[derive(Clone, Debug)]
pub struct AirItem {
    /// The name shown and logged (the playlist's name, or the path given).
    pub name: String,
    /// The file, or why it cannot be aired (it is then reported and skipped).
    pub source: Result<MediaPath, String>,
    pub gain_db: f64,
    /// The expected length, for progress.
    pub duration: Option<Duration>,
    /// The file's SHA-256, for the as-run log.
    pub sha256: Option<String>,
    /// The file's sample rate: the device is opened at the first item's rate
    /// when it takes it, so that the usual case needs no resampling.
    pub sample_rate: Option<u32>,
}

impl AirItem {
    /// An item from what finding and measuring its file gave: the gain from
    /// its loudness, the [audio] settings and the item's own `volume-db`;
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
                source: Ok(path),
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
            },
            Err(why) => AirItem::failed(name, why),
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
        }
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

/// A name as it may be shown and logged: control characters (a NUL from a
/// malformed request) escaped.
pub fn display_name(name: &str) -> String {
    if name.chars().any(char::is_control) {
        name.escape_debug().to_string()
    } else {
        name.to_string()
    }
}

/// The timings of the sequence.
#[derive(Clone, Debug)]
pub struct AirSettings {
    pub warm_up: Duration,
    pub hold: Duration,
    pub gap: Duration,
    pub fade: Duration,
    pub lang: Lang,
    /// The schedule's times, when there is a schedule: the relay goes on at
    /// `relay_at` and the first item starts at `start_at` (never before the
    /// warm-up has passed), so the preparation (checking and opening the
    /// device) happens before and during the warm-up, not after it.
    pub relay_at: Option<Timestamp>,
    pub start_at: Option<Timestamp>,
}

/// Waits until the wall clock reaches `t` (at once if it has); true if a
/// shutdown came first.
fn wait_until(clock: &dyn Clock, t: Timestamp, shutdown: &Shutdown) -> bool {
    let left = t.as_millisecond() - clock.now().as_millisecond();
    if left <= 0 {
        return shutdown.is_triggered();
    }
    shutdown.wait_timeout(Duration::from_millis(left as u64))
}

fn ts_plus(t: Timestamp, d: Duration) -> Timestamp {
    Timestamp::from_millisecond(t.as_millisecond() + d.as_millis() as i64).unwrap_or(t)
}

/// What became of one item.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
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

/// Optional extras for the daemon: commands while airing, and whether to
/// keep the relay on at the end (the next broadcast is already due).
#[derive(Default)]
pub struct Controls<'a> {
    pub commands: Option<&'a std::sync::mpsc::Receiver<AirCommand>>,
    pub keep_on: Option<&'a (dyn Fn() -> bool + Sync)>,
}

#[derive(Clone, Debug)]
pub struct ItemReport {
    pub name: String,
    pub started: Option<Timestamp>,
    pub ended: Option<Timestamp>,
    pub outcome: Outcome,
}

#[derive(Clone, Debug, Default)]
pub struct AirReport {
    pub items: Vec<ItemReport>,
    pub relay_on: Option<Timestamp>,
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
    pub fn all_played(&self) -> bool {
        !self.items.is_empty() && self.items.iter().all(|i| i.outcome == Outcome::Played)
    }
}

/// Told about each step as it happens (progress lines, the as-run log).
pub trait AirEvents {
    fn relay(&mut self, _on: bool, _at: Timestamp) {}
    fn item_started(&mut self, _index: usize, _item: &AirItem, _at: Timestamp) {}
    fn progress(&mut self, _index: usize, _item: &AirItem, _elapsed: Duration) {}
    fn item_ended(&mut self, _index: usize, _item: &AirItem, _report: &ItemReport) {}
    fn device_error(&mut self, _error: &AudioError) {}
}

/// Events nobody listens to.
pub struct NoEvents;
impl AirEvents for NoEvents {}

/// How often the sequence looks at the playing item (progress, stop, faults).
const TICK: Duration = Duration::from_millis(5);
/// How often while an item's first sound is about to be taken.
const START_TICK: Duration = Duration::from_millis(1);
/// An item that makes no progress this long means the device is stuck.
const STALL: Duration = Duration::from_secs(3);
/// An item whose decoder produces no sound this long, while the device
/// waits for it, is stuck.
const FEED_STALL: Duration = Duration::from_secs(2);

struct Queued {
    /// Asked to skip: it ends as Skipped, not Interrupted.
    skipped: bool,
    index: usize,
    gap: Option<Segment>,
    item: Segment,
    started: Option<Timestamp>,
    last_progress: (Duration, Instant),
}

/// Airs `items`. With `relay` None (`--no-relay`) the relay is left alone.
// The three seams (relay, sound, clock), the settings, the shutdown flag,
// the listener and the controls are each needed; bundling them would only
// hide what the sequence depends on.
#[allow(clippy::too_many_arguments)]
pub fn air(
    items: &[AirItem],
    relay: Option<&RelayGuard>,
    output: &dyn Output,
    s: &AirSettings,
    clock: &dyn Clock,
    shutdown: &Shutdown,
    events: &mut dyn AirEvents,
    controls: &Controls,
) -> AirReport {
    let lang = s.lang;
    let mut report = AirReport {
        items: items
            .iter()
            .map(|i| ItemReport {
                name: i.name.clone(),
                started: None,
                ended: None,
                outcome: Outcome::NotAired(String::new()),
            })
            .collect(),
        ..AirReport::default()
    };

    // No sound, no amplifier: the device is checked before the relay.
    if let Err(e) = output.check() {
        tracing::error!(error = %e, "{}", crate::lang::log("không có thiết bị âm thanh dùng được; ampli vẫn tắt", "no usable sound device; the relay stays off"));
        events.device_error(&e);
        let msg = e.message(lang);
        for (i, it) in items.iter().enumerate() {
            report.items[i].outcome = Outcome::Failed(msg.clone());
            events.item_ended(i, it, &report.items[i]);
        }
        report.device_error = Some(e);
        return report;
    }

    // Something must be ready to play (opened, its first sound decoded)
    // before the amplifier goes on: with nothing playable, it never does.
    let spec = |it: &AirItem| -> Option<ItemSpec> {
        let path = it.source.as_ref().ok()?.clone();
        Some(ItemSpec {
            path,
            name: it.name.clone(),
            gain_db: it.gain_db,
            fade: s.fade,
            duration: it.duration,
        })
    };
    let mut unready: Vec<(usize, String)> = Vec::new();
    let any_ready = items.iter().enumerate().any(|(i, it)| match &it.source {
        Err(why) => {
            unready.push((i, why.clone()));
            false
        }
        Ok(_) => match spec(it).map(|sp| output.ready(&sp)) {
            Some(Ok(())) => true,
            Some(Err(e)) => {
                unready.push((i, e.message(lang)));
                false
            }
            None => false,
        },
    });
    if !any_ready {
        tracing::warn!(
            "{}",
            crate::lang::log(
                "buổi phát này không có tệp nào phát được; ampli vẫn tắt",
                "nothing in this broadcast can be played; the amplifier stays off"
            )
        );
        for (i, why) in unready {
            report.items[i].outcome = Outcome::Failed(why);
            events.item_ended(i, &items[i], &report.items[i]);
        }
        report.nothing_playable = true;
        return report;
    }

    // Relay on (at its planned time, if any), then the warm-up, during
    // which the device is opened.
    let mut warm_until: Option<Timestamp> = None;
    if let Some(r) = relay {
        if let Some(t) = s.relay_at
            && wait_until(clock, t, shutdown)
        {
            report.shut_down = true;
            not_aired(
                &mut report,
                &tr!(lang, "loa đang dừng", "loa is shutting down"),
            );
            return report;
        }
        let was_on = r.is_on();
        if let Err(e) = r.on() {
            report.relay_error = Some(e.message(lang));
            let _ = r.off();
            not_aired(
                &mut report,
                &tr!(
                    lang,
                    "không bật được ampli",
                    "the amplifier could not be switched on"
                ),
            );
            return report;
        }
        if !was_on {
            // The edge's own time: listeners (the as-run log) may have taken
            // a moment since.
            let at = r.since();
            report.relay_on = Some(at);
            events.relay(true, at);
            warm_until = Some(ts_plus(at, s.warm_up));
        }
    }
    // The first item starts at the later of its planned time and the end
    // of the warm-up.
    let start = match (s.start_at, warm_until) {
        (Some(a), Some(w)) => Some(a.max(w)),
        (a, w) => a.or(w),
    };

    if !report.shut_down {
        match output.open(items.iter().find_map(|i| i.sample_rate)) {
            Ok(mut sink) => {
                play_all(
                    items,
                    relay,
                    sink.as_mut(),
                    output,
                    s,
                    start,
                    clock,
                    shutdown,
                    events,
                    &mut report,
                    controls,
                );
                if report.shut_down {
                    // Relay off first; closing the device may wait for its
                    // buffer, and the process is about to end anyway.
                    switch_off(relay, clock, events, &mut report, true, lang);
                    let _ = std::thread::Builder::new()
                        .name("close-audio".into())
                        .spawn(move || drop(sink));
                } else {
                    if report.device_error.is_none() && !report.stalled {
                        sink.drain();
                    }
                    // Closing the device before the relay goes off.
                    drop(sink);
                }
            }
            Err(e) => {
                events.device_error(&e);
                let msg = e.message(lang);
                for (i, it) in items.iter().enumerate() {
                    report.items[i].outcome = Outcome::Failed(msg.clone());
                    events.item_ended(i, it, &report.items[i]);
                }
                report.device_error = Some(e);
            }
        }
    }
    if report.shut_down {
        not_aired(
            &mut report,
            &tr!(lang, "loa đang dừng", "loa is shutting down"),
        );
    }

    // Preempted, or the next broadcast is due: the relay stays on.
    if relay.is_some_and(|r| r.is_on())
        && !report.shut_down
        && report.device_error.is_none()
        && !report.stalled
        && (report.preempted || controls.keep_on.is_some_and(|f| f()))
    {
        report.kept_on = true;
        return report;
    }
    // The hold, unless shutting down or the sound failed; then relay off.
    if relay.is_some() && report.relay_off.is_none() {
        if !report.shut_down && report.device_error.is_none() && !report.stalled {
            report.shut_down = shutdown.wait_timeout(s.hold);
        }
        let shut_down = report.shut_down;
        switch_off(relay, clock, events, &mut report, shut_down, lang);
    }
    report
}

fn switch_off(
    relay: Option<&RelayGuard>,
    clock: &dyn Clock,
    events: &mut dyn AirEvents,
    report: &mut AirReport,
    shutting_down: bool,
    lang: Lang,
) {
    let Some(r) = relay else { return };
    if report.relay_off.is_some() {
        return;
    }
    let result = if shutting_down {
        r.off_with(crate::relay::EdgeCause::Shutdown)
    } else {
        r.off()
    };
    match result {
        Ok(()) => {
            let at = clock.now();
            report.relay_off = Some(at);
            events.relay(false, at);
        }
        Err(e) => report.relay_error = Some(e.message(lang)),
    }
}

fn not_aired(report: &mut AirReport, why: &str) {
    for i in &mut report.items {
        if let Outcome::NotAired(r) = &mut i.outcome
            && r.is_empty()
        {
            *r = why.to_string();
        }
    }
}

/// How many items are queued on the device at once: enough that a device
/// faster than real time (the test stand-in) never runs dry between them.
const QUEUE_AHEAD: usize = 8;

/// A queued item, or one that could not be opened (reported in its turn).
enum Entry {
    Ready(Box<Queued>),
    Failed(usize, String),
}

#[allow(clippy::too_many_arguments)]
fn play_all(
    items: &[AirItem],
    relay: Option<&RelayGuard>,
    sink: &mut dyn Sink,
    output: &dyn Output,
    s: &AirSettings,
    start: Option<Timestamp>,
    clock: &dyn Clock,
    shutdown: &Shutdown,
    events: &mut dyn AirEvents,
    report: &mut AirReport,
    controls: &Controls,
) {
    let lang = s.lang;
    let mut next = 0usize;
    let mut queued_any = false;
    let mut queue: VecDeque<Entry> = VecDeque::new();

    // Fills the queue up to QUEUE_AHEAD opened items. Err on a device failure.
    let mut fill = |sink: &mut dyn Sink, queue: &mut VecDeque<Entry>| -> Result<(), AudioError> {
        while next < items.len()
            && queue
                .iter()
                .filter(|e| matches!(e, Entry::Ready(_)))
                .count()
                < QUEUE_AHEAD
        {
            let i = next;
            next += 1;
            let it = &items[i];
            let path = match &it.source {
                Ok(p) => p.clone(),
                Err(msg) => {
                    queue.push_back(Entry::Failed(i, msg.clone()));
                    continue;
                }
            };
            let spec = ItemSpec {
                path,
                name: it.name.clone(),
                gain_db: it.gain_db,
                fade: s.fade,
                duration: it.duration,
            };
            let gap = if queued_any { s.gap } else { Duration::ZERO };
            match sink.queue(gap, spec) {
                Ok((gap, item)) => {
                    queued_any = true;
                    queue.push_back(Entry::Ready(Box::new(Queued {
                        index: i,
                        gap,
                        item,
                        started: None,
                        last_progress: (Duration::ZERO, Instant::now()),
                        skipped: false,
                    })));
                }
                Err(AudioError::Item(msg)) => queue.push_back(Entry::Failed(i, msg)),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    };

    let stop_queued = |queue: &VecDeque<Entry>| {
        for e in queue {
            if let Entry::Ready(q) = e {
                q.item.stop();
                if let Some(g) = &q.gap {
                    g.stop();
                }
            }
        }
    };

    // The device failed: what plays is interrupted, the rest fails with
    // the device's message.
    let device_failed = |e: AudioError,
                         queue: &mut VecDeque<Entry>,
                         report: &mut AirReport,
                         events: &mut dyn AirEvents,
                         now: Timestamp| {
        events.device_error(&e);
        let msg = e.message(lang);
        if let Some(Entry::Ready(q)) = queue.front()
            && q.started.is_some()
        {
            let r = &mut report.items[q.index];
            r.outcome = Outcome::Interrupted(msg.clone());
            r.ended = Some(now);
            events.item_ended(q.index, &items[q.index], r);
        }
        for (i, r) in report.items.iter_mut().enumerate() {
            if matches!(&r.outcome, Outcome::NotAired(w) if w.is_empty()) {
                r.outcome = Outcome::Failed(msg.clone());
                events.item_ended(i, &items[i], r);
            }
        }
        queue.clear();
        report.device_error = Some(e);
    };

    // The first items are opened and their first sound decoded now, during
    // the warm-up; the device starts at the first item's time, so the
    // sound begins on it and not after the time opening and decoding take.
    let began = fill(sink, &mut queue).and_then(|()| {
        if let Some(t) = start
            && wait_until(clock, t, shutdown)
        {
            return Ok(false);
        }
        if queue.iter().any(|e| matches!(e, Entry::Ready(_))) {
            sink.start()?;
        }
        Ok(true)
    });
    match began {
        Ok(true) => {}
        Ok(false) => {
            report.shut_down = true;
            stop_queued(&queue);
            return;
        }
        Err(e) => {
            stop_queued(&queue);
            device_failed(e, &mut queue, report, events, clock.now());
            return;
        }
    }

    loop {
        if let Err(e) = fill(sink, &mut queue) {
            stop_queued(&queue);
            device_failed(e, &mut queue, report, events, clock.now());
            return;
        }
        // Items that could not be opened are reported in their turn.
        while let Some(Entry::Failed(i, _)) = queue.front() {
            let i = *i;
            if let Some(Entry::Failed(_, msg)) = queue.pop_front() {
                tracing::warn!(item = %items[i].name, reason = %msg, "{}", crate::lang::log("bỏ qua tệp", "item skipped"));
                report.items[i].outcome = Outcome::Failed(msg);
                events.item_ended(i, &items[i], &report.items[i]);
            }
        }
        let Some(Entry::Ready(q)) = queue.front_mut() else {
            // After `fill`, an empty queue means every item was dealt with.
            if queue.is_empty() {
                return;
            }
            continue;
        };

        // Shutdown: fade out what plays, drop what waits.
        if shutdown.is_triggered() {
            report.shut_down = true;
            q.item.stop();
            let (index, started) = (q.index, q.started);
            let item = q.item.clone();
            stop_queued(&queue);
            wait_over(&item, STOP_WAIT);
            if started.is_some() {
                let r = &mut report.items[index];
                r.outcome = Outcome::Interrupted(tr!(
                    lang,
                    "loa dừng (tắt máy hoặc dừng dịch vụ) khi tệp đang phát",
                    "loa stopped (shutdown, or the service was stopped) while it aired"
                ));
                r.ended = Some(clock.now());
                events.item_ended(index, &items[index], r);
            }
            return;
        }

        let state = q.item.state();
        if q.started.is_none() && state != State::Queued {
            let at = clock.now();
            q.started = Some(at);
            report.items[q.index].started = Some(at);
            events.item_started(q.index, &items[q.index], at);
        }
        if state.is_over() {
            let r = &mut report.items[q.index];
            r.ended = Some(clock.now());
            r.outcome = match state {
                // Played to its end, but its end came early: the file
                // changed (an upload over it) while it aired.
                State::Finished if q.item.progress.cut_short() => {
                    Outcome::Interrupted(q.item.error().unwrap_or_default())
                }
                State::Finished => Outcome::Played,
                State::Stopped if q.skipped => Outcome::Skipped,
                State::Stopped => {
                    Outcome::Interrupted(tr!(lang, "bị dừng giữa chừng", "stopped part way"))
                }
                _ => Outcome::Failed(q.item.error().unwrap_or_default()),
            };
            events.item_ended(q.index, &items[q.index], r);
            queue.pop_front();
            continue;
        }
        // The operator's commands.
        if let Some(rx) = controls.commands {
            while let Ok(cmd) = rx.try_recv() {
                match cmd {
                    AirCommand::Skip => {
                        q.skipped = true;
                        q.item.stop();
                    }
                    AirCommand::Stop | AirCommand::Preempt => {
                        let why = if cmd == AirCommand::Stop {
                            report.stopped = true;
                            tr!(
                                lang,
                                "buổi phát đã bị dừng bằng lệnh loa stop",
                                "the broadcast was stopped (loa stop)"
                            )
                        } else {
                            report.preempted = true;
                            tr!(lang, "nhường cho tin khẩn cấp", "preempted by an emergency")
                        };
                        q.item.stop();
                        let (index, started) = (q.index, q.started);
                        let item = q.item.clone();
                        stop_queued(&queue);
                        wait_over(&item, STOP_WAIT);
                        let r = &mut report.items[index];
                        if started.is_some() {
                            r.outcome = Outcome::Interrupted(why.clone());
                            r.ended = Some(clock.now());
                        } else {
                            r.outcome = Outcome::NotAired(why.clone());
                        }
                        events.item_ended(index, &items[index], r);
                        not_aired(report, &why);
                        return;
                    }
                }
            }
        }
        // The relay went off under us (the max-on watchdog): no amplifier,
        // so nothing more is aired.
        if let Some(r) = relay.filter(|r| !r.is_on()) {
            stop_queued(&queue);
            let why = match r.last_cause() {
                crate::relay::EdgeCause::Watchdog => tr!(
                    lang,
                    "ampli đã bị tắt vì bật quá thời gian tối đa cho phép ([relay] max-on)",
                    "the amplifier was switched off: it had been on longer than max-on"
                ),
                crate::relay::EdgeCause::Panic => tr!(
                    lang,
                    "ampli đã bị tắt vì loa gặp một lỗi nghiêm trọng của chính nó (xem nhật ký hệ thống: journalctl -u loa)",
                    "the amplifier was switched off because loa hit an internal error (see the journal: journalctl -u loa)"
                ),
                _ => tr!(
                    lang,
                    "ampli đã bị tắt giữa chừng",
                    "the amplifier was switched off part way"
                ),
            };
            tracing::error!(reason = %why, "{}", crate::lang::log("buổi phát bị ngắt giữa chừng", "broadcast cut short"));
            if let Some(Entry::Ready(q)) = queue.front() {
                let r = &mut report.items[q.index];
                r.outcome = Outcome::Interrupted(why.clone());
                r.ended = Some(clock.now());
                events.item_ended(q.index, &items[q.index], r);
            }
            not_aired(report, &why);
            return;
        }
        // The item's sound is due (its gap, if any, is over): it must be
        // making progress. No new sound for FEED_STALL while the device
        // waits for it means the decoder is stuck (a fault in it, or a
        // file it loops on): that item fails, and as its thread cannot be
        // trusted any more, the broadcast ends with the relay off. No
        // progress while sound waits in the device's buffer means the
        // device stopped taking it.
        let due = q.gap.as_ref().is_none_or(|g| g.state().is_over());
        if due {
            let e = q.item.elapsed();
            if e != q.last_progress.0 {
                q.last_progress = (e, Instant::now());
                if state == State::Playing {
                    events.progress(q.index, &items[q.index], e);
                }
            }
        } else {
            q.last_progress.1 = Instant::now();
        }
        let silent_for = q.last_progress.1.elapsed();
        if silent_for > FEED_STALL && sink.starved() {
            let why = tr!(
                lang,
                "Bộ giải mã ngừng tạo âm thanh khi đang phát tệp này (quá {} giây không có âm thanh mới); có thể tệp bị hỏng. Buổi phát đã dừng và ampli đã tắt.",
                "the decoder stopped producing sound while playing this file (no new sound for over {} s); the file may be damaged. The broadcast was ended and the amplifier switched off",
                FEED_STALL.as_secs()
            );
            tracing::error!(file = %items[q.index].name, "{}", crate::lang::log("bộ giải mã bị treo; kết thúc buổi phát", "the decoder stalled; ending the broadcast"));
            let index = q.index;
            stop_queued(&queue);
            let r = &mut report.items[index];
            r.outcome = Outcome::Failed(why.clone());
            r.ended = Some(clock.now());
            events.item_ended(index, &items[index], r);
            let why = tr!(
                lang,
                "buổi phát đã dừng vì bộ giải mã bị treo ở tệp trước",
                "the broadcast ended because the decoder stalled on an earlier file"
            );
            for (i, r) in report.items.iter_mut().enumerate() {
                if matches!(&r.outcome, Outcome::NotAired(w) if w.is_empty()) {
                    r.outcome = Outcome::NotAired(why.clone());
                    events.item_ended(i, &items[i], r);
                }
            }
            report.stalled = true;
            return;
        }
        let stalled = due && silent_for > STALL;
        if let Some(detail) = sink.failure().or_else(|| {
            stalled.then(|| {
                lang.pick(
                    "thiết bị ngừng nhận âm thanh",
                    "the device stopped taking sound",
                )
                .to_string()
            })
        }) {
            stop_queued(&queue);
            let e = AudioError::Failed {
                name: output.name(),
                detail,
            };
            device_failed(e, &mut queue, report, events, clock.now());
            return;
        }

        // Its start is about to be taken (no gap left before it): looked
        // for more often, so that the time recorded is that of the sound.
        let starting = q.started.is_none() && q.gap.as_ref().is_none_or(|g| g.state().is_over());
        shutdown.wait_timeout(if starting { START_TICK } else { TICK });
    }
}

/// How long a stopped item may take to fade out.
const STOP_WAIT: Duration = Duration::from_millis(600);

fn wait_over(seg: &Segment, max: Duration) {
    let t = Instant::now();
    while !seg.state().is_over() && t.elapsed() < max {
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::clock::SystemClock;
    use crate::testing::{FakeOutput, FakeRelay, SinkEvent};
    use std::path::PathBuf;
    use std::sync::Arc;

    fn settings(warm_up_ms: u64, hold_ms: u64) -> AirSettings {
        AirSettings {
            warm_up: Duration::from_millis(warm_up_ms),
            hold: Duration::from_millis(hold_ms),
            gap: Duration::from_millis(2000),
            fade: Duration::from_millis(20),
            lang: Lang::En,
            relay_at: None,
            start_at: None,
        }
    }

    fn items(names: &[&str]) -> Vec<AirItem> {
        names
            .iter()
            .map(|n| AirItem {
                name: n.to_string(),
                source: Ok(MediaPath::Given(PathBuf::from(n))),
                gain_db: 0.0,
                duration: Some(Duration::from_secs(10)),
                sha256: None,
                sample_rate: None,
            })
            .collect()
    }

    /// The levels the relay went through, repeats collapsed (dropping the
    /// guard switches off once more, which changes nothing).
    fn edges(fake: &FakeRelay) -> Vec<bool> {
        let mut v = fake.calls();
        v.dedup();
        v
    }

    fn guard(fake: &FakeRelay) -> RelayGuard {
        RelayGuard::new(fake.boxed(), Duration::from_secs(60), Arc::new(SystemClock)).unwrap()
    }

    /// Records relay edges with the instant they were reported.
    #[derive(Default)]
    struct Log {
        relay: Vec<(bool, Instant)>,
        ended: Vec<(usize, Outcome)>,
        device_errors: usize,
    }
    impl AirEvents for Log {
        fn relay(&mut self, on: bool, _at: Timestamp) {
            self.relay.push((on, Instant::now()));
        }
        fn item_ended(&mut self, index: usize, _item: &AirItem, r: &ItemReport) {
            self.ended.push((index, r.outcome.clone()));
        }
        fn device_error(&mut self, _e: &AudioError) {
            self.device_errors += 1;
        }
    }

    fn run(
        names: &[&str],
        fake: &FakeRelay,
        out: &FakeOutput,
        s: &AirSettings,
        shutdown: &Shutdown,
    ) -> (AirReport, Log) {
        let g = guard(fake);
        let mut log = Log::default();
        let r = air(
            &items(names),
            Some(&g),
            out,
            s,
            &SystemClock,
            shutdown,
            &mut log,
            &Controls::default(),
        );
        (r, log)
    }

    #[test]
    fn relay_on_warm_up_items_with_gaps_hold_relay_off() {
        let fake = FakeRelay::new();
        let out = FakeOutput::new(200.0);
        let (r, log) = run(
            &["a", "b", "c"],
            &fake,
            &out,
            &settings(100, 100),
            &Shutdown::new(),
        );
        assert!(r.all_played(), "{r:?}");
        // Off at start-up, on, off: nothing else.
        assert_eq!(edges(&fake), vec![false, true, false]);
        assert!(!fake.is_on());
        let ev = out.events();
        assert_eq!(ev[0], SinkEvent::Checked);
        assert_eq!(ev[1], SinkEvent::Opened);
        let queued: Vec<_> = ev
            .iter()
            .filter_map(|e| match e {
                SinkEvent::Queued { name, gap } => Some((name.as_str(), gap.as_millis())),
                _ => None,
            })
            .collect();
        assert_eq!(queued, [("a", 0), ("b", 2000), ("c", 2000)]);
        assert_eq!(ev.last(), Some(&SinkEvent::Closed));
        // The warm-up passes between relay on and the first item.
        let on = log.relay[0];
        assert!(on.0);
        let first = out.when(&SinkEvent::Started { name: "a".into() }).unwrap();
        assert!(first.duration_since(on.1) >= Duration::from_millis(100));
        // The items are queued (opened, decoding) during the warm-up, and
        // the device is started once it is over, once.
        let queued_a = out
            .when(&SinkEvent::Queued {
                name: "a".into(),
                gap: Duration::ZERO,
            })
            .unwrap();
        let began = out.when(&SinkEvent::Began).unwrap();
        assert!(queued_a.duration_since(on.1) < Duration::from_millis(50));
        assert!(began.duration_since(on.1) >= Duration::from_millis(100));
        assert!(first >= began);
        assert_eq!(ev.iter().filter(|e| **e == SinkEvent::Began).count(), 1);
        // The hold passes between the device closing and relay off.
        let closed = out.when(&SinkEvent::Closed).unwrap();
        let off = log.relay[1];
        assert!(!off.0);
        assert!(off.1.duration_since(closed) >= Duration::from_millis(100));
    }

    #[test]
    fn an_item_that_does_not_open_is_skipped_and_the_others_play() {
        let fake = FakeRelay::new();
        let out = FakeOutput::new(500.0).unplayable("b");
        let (r, log) = run(
            &["a", "b", "c"],
            &fake,
            &out,
            &settings(0, 0),
            &Shutdown::new(),
        );
        assert_eq!(r.items[0].outcome, Outcome::Played);
        assert!(
            matches!(&r.items[1].outcome, Outcome::Failed(m) if m.contains("b cannot be played"))
        );
        assert_eq!(r.items[2].outcome, Outcome::Played);
        // Reported in order, and c's gap is the only one queued after a.
        assert_eq!(
            log.ended.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
            [0, 1, 2]
        );
        assert!(out.events().contains(&SinkEvent::Queued {
            name: "c".into(),
            gap: Duration::from_millis(2000)
        }));
        assert_eq!(edges(&fake), vec![false, true, false]);
    }

    #[test]
    fn a_file_missing_before_airing_is_reported_in_its_turn() {
        let fake = FakeRelay::new();
        let out = FakeOutput::new(500.0);
        let mut list = items(&["a", "b"]);
        list[1].source = Err("no file b".into());
        let g = guard(&fake);
        let mut log = Log::default();
        let r = air(
            &list,
            Some(&g),
            &out,
            &settings(0, 0),
            &SystemClock,
            &Shutdown::new(),
            &mut log,
            &Controls::default(),
        );
        assert_eq!(r.items[1].outcome, Outcome::Failed("no file b".into()));
        assert_eq!(
            log.ended.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
            [0, 1]
        );
        assert!(!fake.is_on());
    }

    #[test]
    fn the_device_failing_mid_broadcast_switches_the_relay_off() {
        let fake = FakeRelay::new();
        let out = FakeOutput::new(500.0).fail_after(1);
        let (r, log) = run(
            &["a", "b", "c"],
            &fake,
            &out,
            &settings(0, 5000),
            &Shutdown::new(),
        );
        assert_eq!(r.items[0].outcome, Outcome::Played);
        assert!(
            matches!(&r.device_error, Some(AudioError::Failed { .. })),
            "{r:?}"
        );
        for i in 1..3 {
            assert!(
                matches!(&r.items[i].outcome, Outcome::Failed(m) if m.contains("failed while playing")),
                "{:?}",
                r.items[i]
            );
        }
        assert_eq!(log.device_errors, 1);
        // No hold after a device failure: the relay goes off at once.
        assert_eq!(edges(&fake), vec![false, true, false]);
        let off = log.relay[1].1;
        assert!(off.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn no_device_means_the_relay_never_goes_on() {
        let fake = FakeRelay::new();
        let out = FakeOutput::new(500.0).missing(AudioError::NoDevice);
        let (r, log) = run(&["a", "b"], &fake, &out, &settings(0, 0), &Shutdown::new());
        assert!(matches!(r.device_error, Some(AudioError::NoDevice)));
        assert_eq!(edges(&fake), vec![false]);
        assert!(log.relay.is_empty());
        assert!(
            r.items
                .iter()
                .all(|i| matches!(&i.outcome, Outcome::Failed(m) if m.contains("no audio device")))
        );
    }

    #[test]
    fn a_shutdown_mid_item_switches_off_within_a_second() {
        let fake = FakeRelay::new();
        // Real time: each item 10 s.
        let out = FakeOutput::new(1.0);
        let shutdown = Shutdown::new();
        let s2 = shutdown.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            s2.trigger(15);
            Instant::now()
        });
        let (r, log) = run(&["a", "b"], &fake, &out, &settings(0, 2000), &shutdown);
        let sent = t.join().unwrap();
        assert!(r.shut_down);
        assert!(
            matches!(&r.items[0].outcome, Outcome::Interrupted(w) if w.contains("loa stopped")),
            "{:?}",
            r.items[0]
        );
        assert!(matches!(r.items[1].outcome, Outcome::NotAired(_)));
        let off = log.relay.last().unwrap();
        assert!(!off.0);
        assert!(
            off.1.duration_since(sent) < Duration::from_secs(1),
            "{:?}",
            off.1.duration_since(sent)
        );
        assert!(!fake.is_on());
    }

    #[test]
    fn a_relay_that_will_not_switch_on_airs_nothing() {
        let fake = FakeRelay::new();
        let g = guard(&fake);
        fake.fail_with(Some("line busy"));
        let out = FakeOutput::new(500.0);
        let mut log = Log::default();
        let r = air(
            &items(&["a"]),
            Some(&g),
            &out,
            &settings(0, 0),
            &SystemClock,
            &Shutdown::new(),
            &mut log,
            &Controls::default(),
        );
        assert!(r.relay_error.is_some());
        assert!(matches!(r.items[0].outcome, Outcome::NotAired(_)));
        assert!(!out.events().contains(&SinkEvent::Opened));
    }

    #[test]
    fn the_max_on_watchdog_ends_the_broadcast() {
        let fake = FakeRelay::new();
        let g = RelayGuard::new(
            fake.boxed(),
            Duration::from_millis(300),
            Arc::new(SystemClock),
        )
        .unwrap();
        // Real time, 10 s items: the watchdog cuts at 0.3 s.
        let out = FakeOutput::new(1.0);
        let mut log = Log::default();
        let t = Instant::now();
        let r = air(
            &items(&["a", "b"]),
            Some(&g),
            &out,
            &settings(0, 0),
            &SystemClock,
            &Shutdown::new(),
            &mut log,
            &Controls::default(),
        );
        assert!(t.elapsed() < Duration::from_secs(3));
        assert!(
            matches!(&r.items[0].outcome, Outcome::Interrupted(w) if w.contains("max-on")),
            "{:?}",
            r.items[0]
        );
        assert!(matches!(&r.items[1].outcome, Outcome::NotAired(w) if w.contains("max-on")));
        assert!(!fake.is_on());
    }

    #[test]
    fn without_a_relay_only_the_sound_plays() {
        let out = FakeOutput::new(500.0);
        let mut log = Log::default();
        let r = air(
            &items(&["a"]),
            None,
            &out,
            &settings(1000, 1000),
            &SystemClock,
            &Shutdown::new(),
            &mut log,
            &Controls::default(),
        );
        assert!(r.all_played());
        assert!(log.relay.is_empty());
    }
}
