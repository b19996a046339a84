//! The airing sequence as a small state machine: check, switch on, open and
//! prepare, start on time, play (watching the device, the decoder, the
//! operator and the relay), then close, hold and switch off. Every wait is
//! a tokio sleep computed from the one `Clock`, so that tests with paused
//! tokio time run the real sequence in milliseconds. It decides nothing of
//! what airs or when: the job and its timeline say.

use std::collections::VecDeque;
use std::time::Duration;

use jiff::Timestamp;
use tokio::time::Instant;

use super::{AirCommand, AirEvents, AirItem, AirReport, ItemReport, Job, Outcome, Seams};
use crate::player::{AudioError, ItemSpec, Segment, Sink, State};
use crate::relay::EdgeCause;
use crate::tr;

/// How often the sequence looks at the playing item (progress, stop, faults).
const TICK: Duration = Duration::from_millis(5);
/// How often while an item's first sound is about to be taken, so that the
/// time recorded is that of the sound.
const START_TICK: Duration = Duration::from_millis(1);
/// How often well inside an item (more than [`END_SLACK`] from its end):
/// a stop, a skip or an emergency is still seen within this, and the item's
/// end again every [`TICK`]. Waking 200 times a second through a
/// 10-minute item cost a third of `loa play`'s CPU.
const INSIDE_TICK: Duration = Duration::from_millis(50);
const END_SLACK: Duration = Duration::from_millis(300);
/// The longest single sleep while waiting for a time (a shutdown is seen
/// within this).
const WAIT_STEP: Duration = Duration::from_millis(50);
/// An item that makes no progress this long means the device is stuck.
const STALL: Duration = Duration::from_secs(3);
/// An item whose decoder produces no sound this long, while the device
/// waits for it, is stuck.
const FEED_STALL: Duration = Duration::from_secs(2);
/// How many items are queued on the device at once: enough that a device
/// faster than real time (the test stand-in) never runs dry between them.
const QUEUE_AHEAD: usize = 8;
/// How long a stopped item may take to fade out.
const STOP_WAIT: Duration = Duration::from_millis(600);
/// How long closing the device may take to play out what is queued.
const DRAIN_WAIT: Duration = Duration::from_secs(5);
/// Silence after zone lines switched while the amplifier is on, before
/// sound goes out on them: a relay's contacts settle in a few ms, and
/// the listener hears a clean start rather than a cut-in word.
pub(super) const ZONE_SETTLE: Duration = Duration::from_millis(200);

/// An item on the device.
struct Queued {
    index: usize,
    gap: Option<Segment>,
    item: Segment,
    started: Option<Timestamp>,
    /// Asked to skip: it ends as Skipped, not Interrupted.
    skipped: bool,
    /// The item's elapsed sound when it last moved, and when that was.
    last_progress: (Duration, Instant),
}

/// A queued item, or one that could not be opened (reported in its turn).
enum Entry {
    Ready(Box<Queued>),
    Failed(usize, String),
}

/// What the play loop does next.
enum Flow {
    Continue,
    /// Every item was dealt with (played, failed, stopped).
    Done,
}

pub(super) struct Airing<'e> {
    job: Job,
    seams: Seams,
    events: &'e mut (dyn AirEvents + Send),
    report: AirReport,
    /// The next item to put on the device.
    next: usize,
    queued_any: bool,
    queue: VecDeque<Entry>,
    /// The zones this job has switched on (None before it switched any):
    /// items for other zones wait until the device is silent and the
    /// lines have been switched.
    zones: Option<Vec<String>>,
    /// Silence before the first item: ZONE_SETTLE when lines were switched
    /// while the amplifier was already on (an emergency widening a
    /// broadcast's zones), so that the sound comes after the switch.
    lead: Duration,
}

impl<'e> Airing<'e> {
    pub(super) fn new(job: Job, seams: Seams, events: &'e mut (dyn AirEvents + Send)) -> Self {
        let report = AirReport {
            items: job
                .items
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
        Airing {
            job,
            seams,
            events,
            report,
            next: 0,
            queued_any: false,
            queue: VecDeque::new(),
            zones: None,
            lead: Duration::ZERO,
        }
    }

    fn lang(&self) -> crate::lang::Lang {
        self.job.lang
    }

    fn now(&self) -> Timestamp {
        self.seams.clock.now()
    }

    /// Waits until the wall clock reaches `t`; true if a shutdown came
    /// first. Re-reads the clock after every step: a jump is followed.
    async fn wait_until(&mut self, t: Timestamp) -> bool {
        loop {
            if self.seams.shutdown.is_triggered() {
                return true;
            }
            let left = t.as_millisecond() - self.now().as_millisecond();
            if left <= 0 {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(left as u64).min(WAIT_STEP)).await;
        }
    }

    async fn wait_for(&mut self, d: Duration) -> bool {
        let until = Timestamp::from_millisecond(self.now().as_millisecond() + d.as_millis() as i64)
            .unwrap_or_else(|_| self.now());
        self.wait_until(until).await
    }

    /// The whole sequence.
    pub(super) async fn run(mut self) -> AirReport {
        if !self.preflight() {
            return self.report;
        }
        let Some(start) = self.switch_on().await else {
            return self.report;
        };
        let rate = self.job.items.iter().find_map(|i| i.sample_rate);
        match self.seams.output.open(rate) {
            Ok(mut sink) => {
                if let Some(tap) = self.events.archive(start) {
                    sink.archive(tap);
                }
                self.on_device(sink, start).await
            }
            Err(e) => self.device_failed_before(e),
        }
        if self.report.shut_down {
            let why = self.shutting_down();
            self.not_aired(&why);
        }
        self.finish().await;
        self.report
    }

    /// No sound, no amplifier: the device is checked, and an item must be
    /// ready (opened, its first sound decoded) before the relay goes on.
    fn preflight(&mut self) -> bool {
        let lang = self.lang();
        if let Err(e) = self.seams.output.check() {
            tracing::error!(error = %e, "{}", crate::lang::log("không có thiết bị âm thanh dùng được; ampli vẫn tắt", "no usable sound device; the relay stays off"));
            self.device_failed_before(e);
            return false;
        }
        let mut unready: Vec<(usize, String)> = Vec::new();
        for (i, it) in self.job.items.iter().enumerate() {
            match self.spec(it) {
                Err(why) => unready.push((i, why)),
                Ok(spec) => match self.seams.output.ready(&spec) {
                    Ok(()) => return true,
                    Err(e) => unready.push((i, e.message(lang))),
                },
            }
        }
        tracing::warn!(
            "{}",
            crate::lang::log(
                "buổi phát này không có tệp nào phát được; ampli vẫn tắt",
                "nothing in this broadcast can be played; the amplifier stays off"
            )
        );
        for (i, why) in unready {
            self.end_item(i, Outcome::Failed(why));
        }
        self.report.nothing_playable = true;
        false
    }

    /// The device failed before anything played: every item fails with
    /// its message.
    fn device_failed_before(&mut self, e: AudioError) {
        self.events.device_error(&e);
        let msg = e.message(self.lang());
        for i in 0..self.job.items.len() {
            self.end_item(i, Outcome::Failed(msg.clone()));
        }
        self.report.device_error = Some(e);
    }

    /// What to hand the device for an item, or why it cannot be.
    fn spec(&self, it: &AirItem) -> Result<ItemSpec, String> {
        let source = it.source.clone()?;
        Ok(ItemSpec {
            source,
            name: it.name.clone(),
            gain_db: it.gain_db,
            fade: self.job.fade,
            duration: it.duration,
        })
    }

    /// The relay on at its planned time (if there is a relay); when the
    /// first item starts. None when the sequence ends here.
    async fn switch_on(&mut self) -> Option<Timestamp> {
        let planned = self.job.timeline.first_start();
        let Some(r) = self.seams.relay.clone() else {
            return Some(planned);
        };
        if self.wait_until(self.job.timeline.relay_on).await {
            self.report.shut_down = true;
            let why = self.shutting_down();
            self.not_aired(&why);
            return None;
        }
        let was_on = r.is_on();
        // The zones first, while the amplifier is off or silent; then the
        // amplifier.
        let zones = self.first_zones();
        let changed = match r.select_zones(&zones) {
            Ok(c) => c,
            Err(e) => {
                let why = tr!(
                    self.lang(),
                    "không bật được rơ-le của vùng",
                    "a zone's relay could not be switched on"
                );
                self.switch_on_failed(&r, &e, &why);
                return None;
            }
        };
        self.zones = Some(zones);
        if let Err(e) = r.on() {
            let why = tr!(
                self.lang(),
                "không bật được ampli",
                "the amplifier could not be switched on"
            );
            self.switch_on_failed(&r, &e, &why);
            return None;
        }
        if was_on {
            // Already on (an emergency, an overrunning broadcast): no
            // second warm-up; lines just switched get a moment of silence
            // on the device before the first sound.
            if changed {
                self.lead = ZONE_SETTLE;
            }
            return Some(planned.min(self.now()));
        }
        // The edge's own time: listeners (the as-run log) may have taken a
        // moment since. The first item starts at its planned time, never
        // before the warm-up has passed since the relay really went on.
        let at = r.since();
        self.report.relay_on = Some(at);
        self.events.relay(true, at);
        let warm = self.job.timeline.timing.warm_up;
        let warm_until = Timestamp::from_millisecond(at.as_millisecond() + warm.as_millis() as i64)
            .unwrap_or(at);
        Some(planned.max(warm_until))
    }

    /// A line would not switch on: every line off, nothing aired, for `why`.
    fn switch_on_failed(
        &mut self,
        r: &crate::relay::RelayGuard,
        e: &crate::relay::RelayError,
        why: &str,
    ) {
        self.report.relay_error = Some(e.message(self.lang()));
        let _ = r.off();
        self.not_aired(why);
    }

    /// Waits (at most DRAIN_WAIT) until the device has played out what it
    /// holds.
    async fn drain(sink: &mut dyn Sink) {
        let deadline = Instant::now() + DRAIN_WAIT;
        while !sink.drained() && Instant::now() < deadline {
            tokio::time::sleep(TICK).await;
        }
    }

    /// The zones of the first item that can play (the first item's when
    /// none can).
    fn first_zones(&self) -> Vec<String> {
        let items = &self.job.items;
        items
            .iter()
            .find(|i| i.source.is_ok())
            .or(items.first())
            .map(|i| i.zones.clone())
            .unwrap_or_default()
    }

    /// Whether item `i` must wait for the zones to be switched: it plays,
    /// and airs to other zones than those on.
    fn waits_for_zones(&self, i: usize) -> bool {
        let it = &self.job.items[i];
        self.seams.relay.is_some()
            && it.source.is_ok()
            && self.zones.as_ref().is_some_and(|z| *z != it.zones)
    }

    /// Between two runs of items for different zones: once the device has
    /// played out what it holds, the next item's zones are switched in the
    /// silence, and a moment passes before its sound.
    async fn change_zones(&mut self, sink: &mut dyn Sink) -> Flow {
        Self::drain(sink).await;
        let zones = self.job.items[self.next].zones.clone();
        if let Some(r) = self.seams.relay.clone()
            && let Err(e) = r.select_zones(&zones)
        {
            let msg = e.message(self.lang());
            self.report.relay_error = Some(msg.clone());
            let why = tr!(
                self.lang(),
                "không bật được rơ-le của vùng: {msg}",
                "a zone's relay could not be switched on: {msg}"
            );
            self.next = self.job.items.len();
            self.not_aired_reported(&why);
            return Flow::Done;
        }
        self.zones = Some(zones);
        if self.wait_for(ZONE_SETTLE).await {
            self.report.shut_down = true;
            return Flow::Done;
        }
        Flow::Continue
    }

    /// With the device open: prepare, start on time, play, close.
    async fn on_device(&mut self, mut sink: Box<dyn Sink>, start: Timestamp) {
        self.play(sink.as_mut(), start).await;
        if self.report.shut_down {
            // Relay off first; closing the device may wait for its buffer,
            // and the process is about to end anyway.
            self.switch_off(true);
            let _ = std::thread::Builder::new()
                .name("close-audio".into())
                .spawn(move || drop(sink));
            return;
        }
        if self.report.device_error.is_none() && !self.report.stalled {
            Self::drain(sink.as_mut()).await;
        }
        // Closing the device before the relay goes off.
        drop(sink);
    }

    /// The hold, then relay off; or the relay left on for what follows.
    async fn finish(&mut self) {
        let Some(r) = self.seams.relay.clone() else {
            return;
        };
        let failed = self.report.device_error.is_some() || self.report.stalled;
        let keep = self.report.preempted || self.job.keep_on.as_ref().is_some_and(|f| f());
        if r.is_on() && !self.report.shut_down && !failed && keep {
            self.report.kept_on = true;
            return;
        }
        if self.report.relay_off.is_some() {
            return;
        }
        if !self.report.shut_down && !failed {
            self.report.shut_down = self.wait_for(self.job.timeline.timing.hold).await;
        }
        let shutting_down = self.report.shut_down;
        self.switch_off(shutting_down);
    }

    fn switch_off(&mut self, shutting_down: bool) {
        let Some(r) = &self.seams.relay else { return };
        if self.report.relay_off.is_some() {
            return;
        }
        let result = if shutting_down {
            r.off_with(EdgeCause::Shutdown)
        } else {
            r.off()
        };
        match result {
            Ok(()) => {
                let at = self.now();
                self.report.relay_off = Some(at);
                self.events.relay(false, at);
            }
            Err(e) => self.report.relay_error = Some(e.message(self.lang())),
        }
    }

    fn shutting_down(&self) -> String {
        tr!(self.lang(), "loa đang dừng", "loa is shutting down")
    }

    /// Items not reached yet are marked not aired, for `why` (they are not
    /// reported one by one: the broadcast ended).
    fn not_aired(&mut self, why: &str) {
        for i in &mut self.report.items {
            if let Outcome::NotAired(r) = &mut i.outcome
                && r.is_empty()
            {
                *r = why.to_string();
            }
        }
    }

    /// Items not reached yet are marked not aired and reported.
    fn not_aired_reported(&mut self, why: &str) {
        for i in 0..self.report.items.len() {
            if matches!(&self.report.items[i].outcome, Outcome::NotAired(w) if w.is_empty()) {
                self.end_item(i, Outcome::NotAired(why.to_string()));
            }
        }
    }

    /// Records how an item ended and tells the listener.
    fn end_item(&mut self, index: usize, outcome: Outcome) {
        let outcome = match (outcome, self.job.items[index].live_state()) {
            (Outcome::Played, Some(l)) => live_outcome(l, self.lang()),
            (o, _) => o,
        };
        let r = &mut self.report.items[index];
        r.outcome = outcome;
        if r.started.is_some() && r.ended.is_none() {
            r.ended = Some(self.seams.clock.now());
        }
        self.events
            .item_ended(index, &self.job.items[index], &self.report.items[index]);
    }

    /// Puts items on the device, up to QUEUE_AHEAD ready ones. Err on a
    /// device failure.
    fn fill(&mut self, sink: &mut dyn Sink) -> Result<(), AudioError> {
        while self.next < self.job.items.len()
            && self
                .queue
                .iter()
                .filter(|e| matches!(e, Entry::Ready(_)))
                .count()
                < QUEUE_AHEAD
        {
            let i = self.next;
            if self.waits_for_zones(i) {
                break;
            }
            self.next += 1;
            let spec = match self.spec(&self.job.items[i]) {
                Ok(s) => s,
                Err(msg) => {
                    self.queue.push_back(Entry::Failed(i, msg));
                    continue;
                }
            };
            let gap = if self.queued_any {
                self.job.timeline.timing.gap
            } else {
                self.lead
            };
            match sink.queue(gap, spec) {
                Ok((gap, item)) => {
                    self.queued_any = true;
                    self.queue.push_back(Entry::Ready(Box::new(Queued {
                        index: i,
                        gap,
                        item,
                        started: None,
                        skipped: false,
                        last_progress: (Duration::ZERO, Instant::now()),
                    })));
                }
                Err(AudioError::Item(msg)) => self.queue.push_back(Entry::Failed(i, msg)),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Asks everything on the device to stop.
    fn stop_queued(&self) {
        for e in &self.queue {
            if let Entry::Ready(q) = e {
                q.item.stop();
                if let Some(g) = &q.gap {
                    g.stop();
                }
            }
        }
    }

    /// The device failed: what plays is interrupted, the rest fails with the
    /// device's message.
    fn device_failed(&mut self, e: AudioError) {
        self.stop_queued();
        self.events.device_error(&e);
        let msg = e.message(self.lang());
        if let Some(Entry::Ready(q)) = self.queue.front()
            && q.started.is_some()
        {
            let i = q.index;
            self.end_item(i, Outcome::Interrupted(msg.clone()));
        }
        for i in 0..self.report.items.len() {
            if matches!(&self.report.items[i].outcome, Outcome::NotAired(w) if w.is_empty()) {
                self.end_item(i, Outcome::Failed(msg.clone()));
            }
        }
        self.queue.clear();
        self.report.device_error = Some(e);
    }

    /// The first items are opened and their first sound decoded now,
    /// during the warm-up; the device starts at the first item's time, so
    /// the sound begins on it. Then the items play.
    async fn play(&mut self, sink: &mut dyn Sink, start: Timestamp) {
        if let Err(e) = self.fill(sink) {
            self.device_failed(e);
            return;
        }
        if self.wait_until(start).await {
            self.report.shut_down = true;
            self.stop_queued();
            return;
        }
        if self.queue.iter().any(|e| matches!(e, Entry::Ready(_)))
            && let Err(e) = sink.start()
        {
            self.device_failed(e);
            return;
        }
        // Progress is watched from the moment the sound is due.
        let now = Instant::now();
        for e in &mut self.queue {
            if let Entry::Ready(q) = e {
                q.last_progress.1 = now;
            }
        }
        loop {
            let wait = match self.step(sink).await {
                Flow::Done => return,
                Flow::Continue => self.tick(),
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// How long to sleep before looking again: shorter while an item's
    /// first sound is about to be taken, longer well inside an item.
    fn tick(&self) -> Duration {
        match self.queue.front() {
            Some(Entry::Ready(q))
                if q.started.is_none() && q.gap.as_ref().is_none_or(|g| g.state().is_over()) =>
            {
                START_TICK
            }
            Some(Entry::Ready(q)) if q.started.is_some() => {
                let left = self.job.items[q.index]
                    .duration
                    .map(|d| d.saturating_sub(q.item.elapsed()));
                match left {
                    Some(l) if l > END_SLACK => (l - END_SLACK).clamp(TICK, INSIDE_TICK),
                    _ => TICK,
                }
            }
            _ => TICK,
        }
    }

    /// One look at the device: new items queued, failed ones reported, the
    /// front item's start, end, commands and faults.
    async fn step(&mut self, sink: &mut dyn Sink) -> Flow {
        if let Err(e) = self.fill(sink) {
            self.device_failed(e);
            return Flow::Done;
        }
        // Items that could not be opened are reported in their turn.
        while let Some(Entry::Failed(..)) = self.queue.front() {
            if let Some(Entry::Failed(i, msg)) = self.queue.pop_front() {
                tracing::warn!(item = %self.job.items[i].name, reason = %msg, "{}", crate::lang::log("bỏ qua tệp", "item skipped"));
                self.end_item(i, Outcome::Failed(msg));
            }
        }
        if self.queue.is_empty() && self.next < self.job.items.len() {
            return self.change_zones(sink).await;
        }
        if self.queue.is_empty() {
            return Flow::Done;
        }
        if self.seams.shutdown.is_triggered() {
            self.shut_down_now().await;
            return Flow::Done;
        }
        if self.front_started_or_ended() {
            return Flow::Continue;
        }
        if let Some(flow) = self.commands().await {
            return flow;
        }
        if self.relay_went_off() {
            return Flow::Done;
        }
        self.watch_progress(sink)
    }

    /// Shutdown: fade out what plays, drop what waits.
    async fn shut_down_now(&mut self) {
        self.report.shut_down = true;
        let Some(Entry::Ready(q)) = self.queue.front() else {
            return;
        };
        q.item.stop();
        let (index, started, item) = (q.index, q.started, q.item.clone());
        self.stop_queued();
        self.wait_over(&item, STOP_WAIT).await;
        if started.is_some() {
            let why = tr!(
                self.lang(),
                "loa dừng (tắt máy hoặc dừng dịch vụ) khi tệp đang phát",
                "loa stopped (shutdown, or the service was stopped) while it aired"
            );
            self.end_item(index, Outcome::Interrupted(why));
        }
    }

    async fn wait_over(&mut self, seg: &Segment, max: Duration) {
        let deadline = Instant::now() + max;
        while !seg.state().is_over() && Instant::now() < deadline {
            tokio::time::sleep(TICK).await;
        }
    }

    /// Notes the front item's first sound, and its end (then it leaves the
    /// queue). True when it ended.
    fn front_started_or_ended(&mut self) -> bool {
        let now = self.now();
        let Some(Entry::Ready(q)) = self.queue.front_mut() else {
            return false;
        };
        let state = q.item.state();
        let index = q.index;
        if q.started.is_none() && state != State::Queued {
            q.started = Some(now);
            self.report.items[index].started = Some(now);
            self.events.item_started(index, &self.job.items[index], now);
            if injected_panic(&self.job.items[index].name) {
                panic!("injected fault (LOA_FAULT_INJECT): the airing sequence panics");
            }
        }
        let Some(Entry::Ready(q)) = self.queue.front() else {
            return false;
        };
        if !state.is_over() {
            return false;
        }
        let lang = self.lang();
        let outcome = match state {
            // Played to its end, but its end came early: the file changed
            // (an upload over it) while it aired.
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
        self.report.items[index].ended = Some(now);
        self.end_item(index, outcome);
        self.queue.pop_front();
        true
    }

    /// The operator's commands: skip the item on air; stop the broadcast;
    /// an emergency preempting it. Some(Done) when the broadcast ends.
    async fn commands(&mut self) -> Option<Flow> {
        let cmd = self.job.commands.as_mut()?.try_recv().ok()?;
        let Some(Entry::Ready(q)) = self.queue.front_mut() else {
            return None;
        };
        if cmd == AirCommand::Skip {
            q.skipped = true;
            q.item.stop();
            return None;
        }
        let lang = self.lang();
        let why = if cmd == AirCommand::Stop {
            self.report.stopped = true;
            tr!(
                lang,
                "buổi phát bị dừng (loa stop)",
                "the broadcast was stopped (loa stop)"
            )
        } else {
            self.report.preempted = true;
            tr!(lang, "nhường cho tin khẩn cấp", "preempted by an emergency")
        };
        let Some(Entry::Ready(q)) = self.queue.front() else {
            return None;
        };
        q.item.stop();
        let (index, started, item) = (q.index, q.started, q.item.clone());
        self.stop_queued();
        self.wait_over(&item, STOP_WAIT).await;
        if started.is_some() {
            self.end_item(index, Outcome::Interrupted(why.clone()));
        } else {
            self.report.items[index].outcome = Outcome::NotAired(why.clone());
            self.events
                .item_ended(index, &self.job.items[index], &self.report.items[index]);
        }
        self.not_aired(&why);
        Some(Flow::Done)
    }

    /// The relay went off under us (the max-on watchdog, a panic
    /// elsewhere): no amplifier, so nothing more is aired. True then.
    fn relay_went_off(&mut self) -> bool {
        let Some(r) = self.seams.relay.clone().filter(|r| !r.is_on()) else {
            return false;
        };
        self.stop_queued();
        let lang = self.lang();
        let why = match r.last_cause() {
            EdgeCause::Watchdog => tr!(
                lang,
                "ampli đã bị tắt vì bật quá thời gian tối đa cho phép ([relay] max-on)",
                "the amplifier was switched off: it had been on longer than max-on"
            ),
            EdgeCause::Panic => tr!(
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
        if let Some(Entry::Ready(q)) = self.queue.front() {
            let i = q.index;
            self.end_item(i, Outcome::Interrupted(why.clone()));
        }
        self.not_aired(&why);
        true
    }

    /// The item's sound is due (its gap, if any, is over): it must be
    /// making progress. No new sound for FEED_STALL while the device waits
    /// for it means the decoder is stuck (a fault in it, or a file it loops
    /// on): that item fails, and as its thread cannot be trusted any more,
    /// the broadcast ends with the relay off. No progress while sound waits
    /// in the device's buffer means the device stopped taking it.
    fn watch_progress(&mut self, sink: &mut dyn Sink) -> Flow {
        let Some(Entry::Ready(q)) = self.queue.front_mut() else {
            return Flow::Continue;
        };
        let due = q.gap.as_ref().is_none_or(|g| g.state().is_over());
        let playing = q.item.state() == State::Playing;
        let index = q.index;
        let mut moved = None;
        if due {
            let e = q.item.elapsed();
            if e != q.last_progress.0 {
                q.last_progress = (e, Instant::now());
                moved = playing.then_some(e);
            }
        } else {
            q.last_progress.1 = Instant::now();
        }
        let silent_for = q.last_progress.1.elapsed();
        if let Some(e) = moved {
            self.events.progress(index, &self.job.items[index], e);
        }
        if silent_for > FEED_STALL && sink.starved() {
            self.decoder_stalled(index);
            return Flow::Done;
        }
        let stalled = due && silent_for > STALL;
        let lang = self.lang();
        if let Some(detail) = sink.failure().or_else(|| {
            stalled.then(|| {
                lang.pick(
                    "thiết bị ngừng nhận âm thanh",
                    "the device stopped taking sound",
                )
                .to_string()
            })
        }) {
            let e = AudioError::Failed {
                name: self.seams.output.name(),
                detail,
            };
            self.device_failed(e);
            return Flow::Done;
        }
        Flow::Continue
    }

    fn decoder_stalled(&mut self, index: usize) {
        let lang = self.lang();
        let why = tr!(
            lang,
            "Bộ giải mã ngừng tạo âm thanh khi đang phát tệp này (quá {} giây không có âm thanh mới); tệp có thể bị hỏng. Buổi phát đã dừng và ampli đã tắt.",
            "the decoder stopped producing sound while playing this file (no new sound for over {} s); the file may be damaged. The broadcast was ended and the amplifier switched off",
            FEED_STALL.as_secs()
        );
        tracing::error!(file = %self.job.items[index].name, "{}", crate::lang::log("bộ giải mã bị treo; kết thúc buổi phát", "the decoder stalled; ending the broadcast"));
        self.stop_queued();
        self.end_item(index, Outcome::Failed(why));
        let why = tr!(
            lang,
            "Buổi phát dừng vì bộ giải mã bị treo ở tệp trước.",
            "the broadcast ended because the decoder stalled on an earlier file"
        );
        self.not_aired_reported(&why);
        self.report.stalled = true;
    }
}

/// A live slot played to its end counts as played when the main stream or
/// a backup filled at least 95 % of it; else it failed, with what went
/// wrong.
fn live_outcome(l: &crate::live::LiveAir, lang: crate::lang::Lang) -> Outcome {
    let info = l.state.info();
    let slot = l.live.slot.as_secs_f64();
    if info.aired_s >= 0.95 * slot {
        return Outcome::Played;
    }
    let (aired, slot) = (info.aired_s.round() as u64, slot.round() as u64);
    let faults = if info.faults.is_empty() {
        String::new()
    } else {
        format!(": {}", info.faults.join("; "))
    };
    Outcome::Failed(crate::tr!(
        lang,
        "chỉ tiếp sóng được {aired} trên {slot} giây của khung giờ{faults}",
        "only {aired} of the slot's {slot} s were relayed{faults}"
    ))
}

/// `LOA_FAULT_INJECT=airing-panic:NAME`: the airing sequence itself (not a
/// decoder) panics as the item named NAME begins, for the tests of what a
/// bug in loa does to the relays.
fn injected_panic(name: &str) -> bool {
    std::env::var("LOA_FAULT_INJECT").is_ok_and(|v| v.strip_prefix("airing-panic:") == Some(name))
}
