//! Airing one broadcast: the safety sequence, written once. Relay on; wait
//! the warm-up; play the items with the gaps between them; wait the hold;
//! relay off. The relay goes off on every way out (done, an item failing,
//! the sound device failing, a shutdown). `loa play` uses it now, the daemon
//! later. It does not decide what to air or when.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use jiff::Timestamp;

use crate::lang::Lang;
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
    pub source: Result<PathBuf, String>,
    pub gain_db: f64,
    /// The expected length, for progress.
    pub duration: Option<Duration>,
}

/// The timings of the sequence.
#[derive(Clone, Debug)]
pub struct AirSettings {
    pub warm_up: Duration,
    pub hold: Duration,
    pub gap: Duration,
    pub fade: Duration,
    pub lang: Lang,
}

/// What became of one item.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Played,
    /// Could not be played; the reason, for the operator.
    Failed(String),
    /// Cut short (a shutdown, or the sound device failing mid-item).
    Interrupted,
    /// Never reached (the broadcast ended before it).
    NotAired(String),
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
/// An item that makes no progress this long means the device is stuck.
const STALL: Duration = Duration::from_secs(3);

struct Queued {
    index: usize,
    gap: Option<Segment>,
    item: Segment,
    started: Option<Timestamp>,
    last_progress: (Duration, Instant),
}

/// Airs `items`. With `relay` None (`--no-relay`) the relay is left alone.
pub fn air(
    items: &[AirItem],
    relay: Option<&RelayGuard>,
    output: &dyn Output,
    s: &AirSettings,
    clock: &dyn Clock,
    shutdown: &Shutdown,
    events: &mut dyn AirEvents,
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
        events.device_error(&e);
        let msg = e.message(lang);
        for (i, it) in items.iter().enumerate() {
            report.items[i].outcome = Outcome::Failed(msg.clone());
            events.item_ended(i, it, &report.items[i]);
        }
        report.device_error = Some(e);
        return report;
    }

    // Relay on, then the warm-up.
    if let Some(r) = relay {
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
        let at = clock.now();
        report.relay_on = Some(at);
        events.relay(true, at);
        if shutdown.wait_timeout(s.warm_up) {
            report.shut_down = true;
        }
    }

    if !report.shut_down {
        match output.open() {
            Ok(mut sink) => {
                play_all(
                    items,
                    sink.as_mut(),
                    output,
                    s,
                    clock,
                    shutdown,
                    events,
                    &mut report,
                );
                if report.shut_down {
                    // Relay off first; closing the device may wait for its
                    // buffer, and the process is about to end anyway.
                    switch_off(relay, clock, events, &mut report, true, lang);
                    let _ = std::thread::Builder::new()
                        .name("close-audio".into())
                        .spawn(move || drop(sink));
                } else {
                    if report.device_error.is_none() {
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

    // The hold, unless shutting down or the sound failed; then relay off.
    if relay.is_some() && report.relay_off.is_none() {
        if !report.shut_down && report.device_error.is_none() {
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
    sink: &mut dyn Sink,
    output: &dyn Output,
    s: &AirSettings,
    clock: &dyn Clock,
    shutdown: &Shutdown,
    events: &mut dyn AirEvents,
    report: &mut AirReport,
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
            r.outcome = Outcome::Interrupted;
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
                r.outcome = Outcome::Interrupted;
                r.ended = Some(clock.now());
                events.item_ended(index, &items[index], r);
            }
            return;
        }

        // The device failed, or stopped taking samples.
        let stalled = q.item.state() == State::Playing && q.last_progress.1.elapsed() > STALL;
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
                State::Finished => Outcome::Played,
                State::Stopped => Outcome::Interrupted,
                _ => Outcome::Failed(q.item.error().unwrap_or_default()),
            };
            events.item_ended(q.index, &items[q.index], r);
            queue.pop_front();
            continue;
        }
        if state == State::Playing {
            let e = q.item.elapsed();
            if e != q.last_progress.0 {
                q.last_progress = (e, Instant::now());
                events.progress(q.index, &items[q.index], e);
            }
        } else {
            // Waiting through the gap before it: not a stall.
            q.last_progress.1 = Instant::now();
        }
        shutdown.wait_timeout(TICK);
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
