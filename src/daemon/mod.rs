//! The service (`loa run`): the select! loop that sleeps until the next thing
//! to do, re-plans after every wake-up (midnight, a playlist or audio change,
//! `loa reload`, SIGHUP, a clock jump), holds broadcasts while the clock is
//! not trustworthy, airs what the agenda says through the airing sequence
//! (`air`, over the relay, sound and clock seams),
//! answers the control socket, and writes the as-run log as things happen.
//! Deciding what is due is `schedule::agenda`'s job; airing is `air`'s.
//!
//! Rooms: this file is the loop; `planning` re-plans; `ingest` takes up
//! uploads; `broadcast` starts broadcasts and reads their reports;
//! `recorder` writes the as-run log as they air; `requests` answers the
//! control socket; `status` says how things stand; `service` wires the
//! real parts together for `loa run`.

mod broadcast;
mod ingest;
mod planning;
mod recorder;
mod requests;
pub mod service;
mod status;
#[cfg(test)]
mod tests;

use ingest::join_ingest;
use recorder::{Cause, Live, Meta, Recorder, summarize};

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::Date;
use tokio::sync::{mpsc, oneshot, watch};

use crate::air::{self, AirCommand, AirEvents, AirItem, AirReport, ItemReport, Outcome};
use crate::asrun::{AsRun, ItemRecord, Priority, Status as RowStatus};
use crate::config::Config;
use crate::control::protocol::{
    BroadcastResult, NextBroadcast, Playing, RelayState, Request, Response, Status, TodayBroadcast,
    WarmingUp,
};
use crate::lang::Lang;
use crate::media::{Library, MediaIndex};
use crate::player::Output;
use crate::playlist;
use crate::problem::display_path;
use crate::relay::RelayGuard;
use crate::schedule::agenda::{Decision, broadcast_key, decide};
use crate::schedule::clock::Clock;
use crate::schedule::timeline::{Timeline, Timing};
use crate::schedule::{DayPlan, PlanSettings, local_time, plan_for, rfc3339};
use crate::shutdown::Shutdown;
use crate::tr;

/// What the daemon needs from outside.
pub struct Deps {
    /// The wall clock the plan and every wait are measured on.
    pub clock: Arc<dyn Clock>,
    /// The amplifier relay, behind its guard (max-on watchdog, off on drop).
    pub relay: RelayGuard,
    /// The sound output each broadcast opens.
    pub output: Arc<dyn Output>,
    /// Raised on SIGTERM / SIGINT: a broadcast on air ends at once, relay
    /// off.
    pub shutdown: Shutdown,
    /// The as-run log, written as broadcasts air.
    pub asrun: Arc<Mutex<AsRun>>,
    /// Whether the clock is trustworthy now.
    pub clock_synced: Arc<dyn Fn() -> bool + Send + Sync>,
    /// Requests from the control socket.
    pub requests: mpsc::Receiver<(Request, oneshot::Sender<Response>)>,
    /// Something changed in the playlists or audio folder.
    pub changes: mpsc::UnboundedReceiver<Change>,
    /// Called once, when the first day's plan is loaded (systemd READY=1).
    pub ready: Box<dyn Fn() + Send + Sync>,
    /// Called on every turn of the loop, and every `turn_every` while an
    /// upload is validated (systemd WATCHDOG=1).
    pub alive: Box<dyn Fn() + Send + Sync>,
    /// Under a systemd watchdog the loop must turn at least this often
    /// (half of WatchdogSec), even with nothing to do.
    pub turn_every: Option<Duration>,
    /// Whether to keep TINH-TRANG.txt in the audio folder (not for `loa
    /// demo`, which airs the shipped samples where they are, nor tests).
    pub status_note: bool,
    /// How the link to the district is (None without one).
    pub district: crate::district::link::LinkState,
}

/// An emergency waiting for the broadcast on air to yield.
#[derive(Clone, Debug)]
struct Emergency {
    /// Text read aloud first (`loa say --now`), rendered and measured.
    speech: Vec<AirItem>,
    files: Vec<String>,
    /// How long live programmes air.
    slot: Option<std::time::Duration>,
    /// The zones it airs to.
    zones: Vec<String>,
    /// The district command that asked it.
    origin: Option<String>,
}

/// One entry of the priority queue.
#[derive(Clone, Debug)]
enum Queued {
    /// A file in the audio folder, found and measured when it airs.
    File(String),
    /// A text read aloud (`loa say --queue`), already rendered.
    Speech(Box<AirItem>),
}

impl Queued {
    /// Its name in `loa status`: the file's, or the text's start.
    fn name(&self) -> &str {
        match self {
            Queued::File(f) => f,
            Queued::Speech(i) => &i.name,
        }
    }
}

/// Requests from the control socket, each with where to send the answer.
type Requests = mpsc::Receiver<(Request, oneshot::Sender<Response>)>;

/// A change seen in a watched folder (or a request to re-read everything:
/// SIGHUP, with no path).
#[derive(Clone, Debug, Default)]
pub struct Change {
    /// The file or folder that changed; None to re-read everything.
    pub path: Option<PathBuf>,
    /// The writer closed the file (the upload may be complete).
    pub closed: bool,
    /// The file was removed or renamed away.
    pub removed: bool,
}

/// A broadcast in progress.
struct Current {
    handle: tokio::task::JoinHandle<AirReport>,
    commands: mpsc::UnboundedSender<AirCommand>,
    key: String,
    late: bool,
    emergency: bool,
}

/// The loop's own state.
struct Daemon {
    cfg: Config,
    deps_clock: Arc<dyn Clock>,
    relay: RelayGuard,
    output: Arc<dyn Output>,
    shutdown: Shutdown,
    asrun: Arc<Mutex<AsRun>>,
    live: Arc<Mutex<Live>>,
    plan: Option<DayPlan>,
    /// The in-effect playlist was broken: the last good plan stays.
    plan_error: Option<String>,
    /// The first broadcast after the planned day's (`loa status`'s next
    /// when none is left today).
    later: Option<crate::schedule::PlannedBroadcast>,
    attempted: HashSet<String>,
    dirty: bool,
    /// Files (and texts read aloud) queued with priority for the next
    /// broadcast, each with its zones.
    queue: Vec<(Queued, Vec<String>)>,
    /// Files for an emergency waiting for the current broadcast to yield.
    emergency: Option<Emergency>,
    current: Option<Current>,
    clock_synced: bool,
    /// wall − monotonic at the last turn, to see clock jumps.
    offset_ms: Option<i64>,
    /// A forward jump still to apply to today's plan (once re-planned).
    jump: Option<Jump>,
    /// Uploads in progress in the audio folder.
    uploads: crate::media::ingest::Uploads,
    /// Finished uploads waiting to be validated, one at a time.
    to_ingest: std::collections::VecDeque<PathBuf>,
    /// The upload being validated now, and its path.
    ingesting: Option<(
        PathBuf,
        tokio::task::JoinHandle<crate::media::ingest::TakeUp>,
    )>,
    /// The watchdog: called on every turn of the loop, and while the loop
    /// waits for a broadcast's files to be validated.
    alive: Box<dyn Fn() + Send + Sync>,
    /// How often the watchdog must hear from loa (half of WatchdogSec).
    turn_every: Option<Duration>,
    /// Why uploads are not being taken up (the disk is nearly full).
    ingest_warning: Option<String>,
    /// Free space is below the reserve (logged once per change).
    disk_low: bool,
    /// What the last scan of the audio folder found that is not an
    /// ordinary file (links, pipes...): shown in status, never aired.
    odd_names: Vec<String>,
    /// When loa first ran with a trustworthy clock (from the state
    /// database): what fell due before was before its installation.
    first_start: Option<Timestamp>,
    /// Uploads taken up today, for the status note (TINH-TRANG.txt).
    uploads_today: Vec<crate::status_note::Upload>,
    /// The status note as last written: rewritten only when it changes
    /// (an SD card is not written for nothing).
    note: Option<crate::status_note::Note>,
    /// Whether the status note is kept at all (see `Deps::status_note`).
    status_note: bool,
    /// How the link to the district is, for `loa status`.
    district: crate::district::link::LinkState,
    /// The broadcast archive: each broadcast recorded as it airs; old
    /// recordings deleted at midnight (and when the disk is low).
    archive: Arc<crate::archive::Archive>,
}

/// The most times one text is read in a row (`loa say --repeat`).
pub const MAX_SAY_REPEAT: u32 = 10;

/// The most files one `now` or the priority queue may hold: a request over
/// it is refused whole.
const MAX_QUEUE: usize = 50;
/// A forward jump of the wall clock: from where to where, and by how much.
#[derive(Clone, Copy, Debug)]
struct Jump {
    from: Timestamp,
    to: Timestamp,
    by: Duration,
}

/// While idle, the loop looks at the clock at least this often, so that a
/// jump of the wall clock (NTP after a boot with a stale time, an operator
/// setting it) is noticed within seconds, before anything airs by it.
const JUMP_CHECK: Duration = Duration::from_secs(2);
/// How long before a broadcast's relay-on its preparation starts (reading
/// its files, checking the sound device).
const PREP_LEAD: Duration = Duration::from_millis(500);
/// How often the clock is looked at while it is not synchronised.
const SYNC_RECHECK: Duration = Duration::from_secs(5);
/// A change in wall − monotonic larger than this is a clock jump.
const JUMP_MS: i64 = 2000;
/// Folder changes are taken up once quiet for this long.
const DEBOUNCE: Duration = Duration::from_millis(1000);

/// The expected lengths of `items` (zero when not known), for their
/// timeline.
fn durations(items: &[AirItem]) -> Vec<Duration> {
    items
        .iter()
        .map(|i| i.duration.unwrap_or_default())
        .collect()
}

/// What the loop listens to and tells, apart from its own state.
struct Outside {
    clock: Arc<dyn Clock>,
    clock_synced: Arc<dyn Fn() -> bool + Send + Sync>,
    requests: Requests,
    changes: mpsc::UnboundedReceiver<Change>,
    ready: Box<dyn Fn() + Send + Sync>,
}

/// What the loop remembers from one turn to the next.
struct Turns {
    /// Monotonic time at start, to see the wall clock jump.
    mono_start: tokio::time::Instant,
    /// Folder changes are taken up once quiet (debounced) until then.
    dirty_at: Option<tokio::time::Instant>,
    /// READY=1 was sent.
    was_ready: bool,
    /// The unsynchronised clock was logged.
    warned_unsynced: bool,
}

/// What the loop does after looking at the agenda.
enum Next {
    /// Something was started or recorded: look again at once.
    Again,
    /// Sleep until then (or a request, a change, a broadcast ending).
    Wait(Option<Timestamp>),
}

/// Runs the service until `shutdown` turns true.
pub async fn run(
    cfg: Config,
    deps: Deps,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let (mut d, mut outside) = Daemon::new(cfg, deps);
    d.ingest_existing();
    let mut turns = Turns {
        mono_start: tokio::time::Instant::now(),
        dirty_at: None,
        was_ready: false,
        warned_unsynced: false,
    };
    loop {
        (d.alive)();
        let now = outside.clock.now();
        d.see_clock_jump(now, turns.mono_start);
        d.plan_when_needed(now, &mut turns, &outside.ready).await;
        d.clock_synced = (outside.clock_synced)();
        d.note_first_start(now);
        let deadline = match d.what_next(now, &mut turns, &mut outside.requests).await {
            Next::Again => continue,
            Next::Wait(t) => t,
        };
        d.update_note(now);
        let wake = tokio::time::Instant::now() + d.sleep_for(now, deadline);
        tokio::select! {
            _ = shutdown.changed() => {
                if *shutdown.borrow() { break; }
            }
            Some((req, reply)) = outside.requests.recv() => {
                // The time of the question, not of the last wake-up.
                let resp = d.handle(req, outside.clock.now()).await;
                let _ = reply.send(resp);
            }
            Some(change) = outside.changes.recv() => {
                if d.observe(change) {
                    turns.dirty_at = Some(tokio::time::Instant::now() + DEBOUNCE);
                }
            }
            _ = sleep_opt(d.uploads.next_check().map(tokio::time::Instant::from_std)) => {
                d.uploads_settled();
            }
            taken = join_ingest(&mut d.ingesting) => {
                d.ingesting = None;
                d.ingested(taken);
                d.next_ingest();
            }
            _ = sleep_opt(turns.dirty_at) => {
                turns.dirty_at = None;
                d.dirty = true;
            }
            report = join_opt(&mut d.current) => {
                let cur = d.current.take().expect("join_opt resolves only with a broadcast");
                d.finished(cur, report);
            }
            _ = tokio::time::sleep_until(wake) => {}
        }
    }
    d.stop().await;
    Ok(())
}

impl Daemon {
    fn new(cfg: Config, deps: Deps) -> (Daemon, Outside) {
        let Deps {
            clock,
            relay,
            output,
            shutdown,
            asrun,
            clock_synced,
            requests,
            changes,
            ready,
            alive,
            turn_every,
            status_note,
            district,
        } = deps;
        let archive = Arc::new(crate::archive::Archive::new(&cfg));
        let d = Daemon {
            archive,
            cfg,
            deps_clock: clock.clone(),
            relay,
            output,
            shutdown,
            asrun,
            live: Arc::new(Mutex::new(Live::default())),
            plan: None,
            plan_error: None,
            later: None,
            attempted: HashSet::new(),
            dirty: true,
            queue: Vec::new(),
            emergency: None,
            current: None,
            clock_synced: true,
            offset_ms: None,
            jump: None,
            uploads: crate::media::ingest::Uploads::new(crate::media::ingest::SETTLE),
            to_ingest: std::collections::VecDeque::new(),
            ingesting: None,
            alive,
            turn_every,
            ingest_warning: None,
            disk_low: false,
            odd_names: Vec::new(),
            first_start: None,
            uploads_today: Vec::new(),
            note: None,
            status_note,
            district,
        };
        let outside = Outside {
            clock,
            clock_synced,
            requests,
            changes,
            ready,
        };
        (d, outside)
    }

    /// A jump of the wall clock (against the monotonic one): re-plan at
    /// once (the agenda then neither bursts nor repeats); what a forward
    /// jump skipped is recorded missed.
    fn see_clock_jump(&mut self, now: Timestamp, mono_start: tokio::time::Instant) {
        let offset = now.as_millisecond() - mono_start.elapsed().as_millis() as i64;
        if let Some(prev) = self.offset_ms
            && (offset - prev).abs() > JUMP_MS
        {
            tracing::warn!(
                jump_ms = offset - prev,
                "{}",
                crate::lang::log(
                    "đồng hồ vừa nhảy; loa lập lại lịch phát",
                    "the wall clock jumped; re-planning"
                )
            );
            self.dirty = true;
            if offset > prev {
                let by = Duration::from_millis((offset - prev) as u64);
                let jump = Jump {
                    from: Timestamp::from_millisecond(now.as_millisecond() - (offset - prev))
                        .unwrap_or(now),
                    to: now,
                    by,
                };
                // What the jump skipped in the plan in hand (the day before,
                // when it crossed midnight); today's, once planned.
                if let Some(plan) = self.plan.clone() {
                    self.apply_jump(&plan, jump);
                }
                self.jump = Some(jump);
            }
        }
        self.offset_ms = Some(offset);
    }

    /// Re-plans when something changed (or the day did), never while a
    /// broadcast airs; then applies a forward jump to today's plan.
    async fn plan_when_needed(
        &mut self,
        now: Timestamp,
        turns: &mut Turns,
        ready: &(dyn Fn() + Send + Sync),
    ) {
        let today = self.today(now);
        if self.plan.as_ref().is_none_or(|p| p.date != today) {
            self.dirty = true;
            // A new day (local midnight, or the start): old recordings go.
            if self.current.is_none() {
                self.prune_archive(now).await;
            }
        }
        if self.dirty && self.current.is_none() {
            self.check_disk();
            self.replan(today).await;
            if !turns.was_ready {
                ready();
                turns.was_ready = true;
            }
        }
        if let Some(jump) = self.jump
            && self.current.is_none()
            && let Some(plan) = self.plan.clone().filter(|p| p.date == today)
        {
            self.apply_jump(&plan, jump);
            self.jump = None;
        }
    }

    /// The first start with a trustworthy clock, once (from the state
    /// database): what fell due before it was before loa was installed.
    fn note_first_start(&mut self, now: Timestamp) {
        if self.first_start.is_none()
            && (self.clock_synced || !self.cfg.schedule.require_clock_sync)
        {
            let installed = installed_at(&self.cfg, now);
            let asrun = self.asrun.lock().unwrap_or_else(|e| e.into_inner());
            self.first_start = asrun.first_start(installed).ok();
        }
    }

    /// Looks at the agenda: an emergency waiting, a broadcast due (its
    /// files validated first), what was missed; else until when to sleep.
    /// Nothing new starts while a broadcast airs.
    async fn what_next(
        &mut self,
        now: Timestamp,
        turns: &mut Turns,
        requests: &mut Requests,
    ) -> Next {
        if self.current.is_some() {
            return Next::Wait(None);
        }
        if let Some(e) = self.emergency.take() {
            self.start_emergency(e, now).await;
            return Next::Again;
        }
        // Re-plan at local midnight at the latest.
        let midnight = next_midnight(now, &self.cfg.tz);
        let at_midnight =
            |t: Option<Timestamp>| Next::Wait(Some(t.map_or(midnight, |t| t.min(midnight))));
        if self.cfg.schedule.require_clock_sync && !self.clock_synced {
            if !turns.warned_unsynced {
                tracing::warn!(
                    "{}",
                    crate::lang::log(
                        "đồng hồ chưa được đồng bộ: loa không phát gì cho đến khi có giờ đúng",
                        "the clock is not synchronised: nothing airs until it is"
                    )
                );
                turns.warned_unsynced = true;
            }
            return at_midnight(Some(ts_after(now, SYNC_RECHECK)));
        }
        turns.warned_unsynced = false;
        let Some(plan) = self.plan.clone() else {
            return at_midnight(None);
        };
        // Looking PREP_LEAD ahead: a broadcast is started a little before
        // its relay-on, to be ready at the second.
        match decide(
            ts_after(now, PREP_LEAD),
            &plan,
            &self.attempted,
            self.cfg.schedule.late_grace,
            &self.cfg.tz,
        ) {
            Decision::Missed(list) => {
                self.record_missed(&plan, &list);
                Next::Again
            }
            Decision::Air { index, late } => {
                if self.validate_first(&plan.broadcasts[index], requests).await {
                    // What was just validated changes the plan (a file
                    // uploaded moments before now airs in its place):
                    // decide again on the new one.
                    self.replan(plan.date).await;
                } else {
                    self.start_broadcast(&plan, index, late, now).await;
                }
                Next::Again
            }
            Decision::Wait(t) => at_midnight(t.map(|t| {
                Timestamp::from_millisecond(t.as_millisecond() - PREP_LEAD.as_millis() as i64)
                    .unwrap_or(t)
            })),
        }
    }

    /// How long to sleep until `deadline`: at most an hour, half the
    /// systemd watchdog's interval, and JUMP_CHECK (to see the clock jump).
    fn sleep_for(&self, now: Timestamp, deadline: Option<Timestamp>) -> Duration {
        let sleep_for = deadline
            .map(|t| {
                Duration::from_millis((t.as_millisecond() - now.as_millisecond()).max(0) as u64)
            })
            .unwrap_or(Duration::from_secs(3600));
        self.turn_every
            .map_or(sleep_for, |t| sleep_for.min(t))
            .min(JUMP_CHECK)
    }

    /// Uploads quiet long enough are queued for validation.
    fn uploads_settled(&mut self) {
        let audio = self.cfg.paths.audio.clone();
        let ready = self.uploads.ready(std::time::Instant::now(), |p| {
            crate::media::ingest::stat(&audio, p)
        });
        self.to_ingest.extend(ready);
        self.next_ingest();
    }

    /// The end of the service: the broadcast's own shutdown flag stops it
    /// (raised here too when the stop came from the caller, not a signal);
    /// it is waited for briefly; the relay goes off.
    async fn stop(&mut self) {
        self.shutdown.trigger(0);
        if let Some(cur) = self.current.take() {
            let _ = tokio::time::timeout(Duration::from_secs(2), cur.handle).await;
        }
        // The recording's file closed and hashed before the process ends.
        let archive = self.archive.clone();
        let _ =
            tokio::task::spawn_blocking(move || archive.wait_closed(Duration::from_secs(3))).await;
        let _ = self.relay.off_with(crate::relay::EdgeCause::Shutdown);
        tracing::info!(
            "{}",
            crate::lang::log("loa đã dừng; ampli đã tắt", "loa stopped; relay off")
        );
    }
}

/// When this box was set up, as far as it can tell on its first start:
/// the earlier of now and the last change to its config file (the
/// installer writes the config before the service first runs). Stored once,
/// as the as-run log's first start.
fn installed_at(cfg: &Config, now: Timestamp) -> Timestamp {
    std::fs::metadata(&cfg.path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| Timestamp::try_from(t).ok())
        .map_or(now, |t| t.min(now))
}

async fn sleep_opt(at: Option<tokio::time::Instant>) {
    match at {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

async fn join_opt(cur: &mut Option<Current>) -> AirReport {
    match cur {
        Some(c) => (&mut c.handle).await.unwrap_or_default(),
        None => std::future::pending().await,
    }
}

fn ts_after(t: Timestamp, d: Duration) -> Timestamp {
    Timestamp::from_millisecond(t.as_millisecond() + d.as_millis() as i64).unwrap_or(t)
}

/// How far ahead `loa status` looks for the next broadcast.
const LOOK_AHEAD_DAYS: i64 = 7;

/// The next local midnight after `now`.
pub fn next_midnight(now: Timestamp, tz: &jiff::tz::TimeZone) -> Timestamp {
    let date = tz.to_offset(now).to_datetime(now).date();
    date.tomorrow()
        .ok()
        .and_then(|d| {
            tz.to_ambiguous_timestamp(d.to_datetime(jiff::civil::Time::midnight()))
                .compatible()
                .ok()
        })
        .unwrap_or_else(|| ts_after(now, Duration::from_secs(3600)))
}

impl Daemon {
    fn today(&self, now: Timestamp) -> Date {
        self.cfg.tz.to_offset(now).to_datetime(now).date()
    }

    fn lang(&self) -> Lang {
        self.cfg.lang
    }
}
