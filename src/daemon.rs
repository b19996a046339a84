//! The service (`loa run`): the select! loop that sleeps until the next thing
//! to do, re-plans after every wake-up (midnight, a playlist or audio change,
//! `loa reload`, SIGHUP, a clock jump), holds broadcasts while the clock is
//! not trustworthy, airs what the agenda says through the `Airer` seam,
//! answers the control socket, and writes the as-run log as things happen.
//! Deciding what is due is `schedule::agenda`'s job; airing is `air`'s.

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
    NextBroadcast, Playing, RelayState, Request, Response, Status, TodayBroadcast, WarmingUp,
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
    pub clock: Arc<dyn Clock>,
    pub relay: RelayGuard,
    /// The sound output each broadcast opens.
    pub output: Arc<dyn Output>,
    /// Raised on SIGTERM / SIGINT: a broadcast on air ends at once, relay
    /// off.
    pub shutdown: Shutdown,
    pub asrun: Arc<Mutex<AsRun>>,
    /// Whether the clock is trustworthy now.
    pub clock_synced: Arc<dyn Fn() -> bool + Send + Sync>,
    /// Requests from the control socket.
    pub requests: mpsc::Receiver<(Request, oneshot::Sender<Response>)>,
    /// Something changed in the playlists or audio folder.
    pub changes: mpsc::UnboundedReceiver<Change>,
    /// Called once the day's plan is loaded (systemd READY=1), and on every
    /// turn of the loop (the watchdog).
    pub ready: Box<dyn Fn() + Send + Sync>,
    pub alive: Box<dyn Fn() + Send + Sync>,
    /// Under a systemd watchdog the loop must turn at least this often
    /// (half of WatchdogSec), even with nothing to do.
    pub turn_every: Option<Duration>,
    /// Whether to keep TINH-TRANG.txt in the audio folder (not for `loa
    /// demo`, which airs the shipped samples where they are, nor tests).
    pub status_note: bool,
}

/// Requests from the control socket, each with where to send the answer.
type Requests = mpsc::Receiver<(Request, oneshot::Sender<Response>)>;

/// A change seen in a watched folder (or a request to re-read everything:
/// SIGHUP, with no path).
#[derive(Clone, Debug, Default)]
pub struct Change {
    pub path: Option<PathBuf>,
    /// The writer closed the file (the upload may be complete).
    pub closed: bool,
    /// The file was removed or renamed away.
    pub removed: bool,
}

/// What is known of the broadcast being aired, for the as-run log.
#[derive(Clone, Debug)]
struct Meta {
    day: Date,
    key: String,
    title: Option<String>,
    tags: Vec<String>,
    /// Per item: (planned start, priority).
    scheduled: Vec<(Option<Timestamp>, Priority)>,
    late: bool,
    clock_synced: bool,
}

/// The status shared between the loop, the airing thread and `loa status`.
#[derive(Default)]
struct Live {
    playing: Option<Playing>,
    warming_up: Option<WarmingUp>,
    last_error: Option<LastError>,
    /// Broadcast key -> status word for today's list.
    results: HashMap<String, String>,
}

/// The last thing that went wrong, with when and what it concerns, so that
/// it can be cleared once its cause is gone (the file was replaced or
/// removed, the sound device played again...).
#[derive(Clone, Debug)]
struct LastError {
    message: String,
    at: Timestamp,
    cause: Cause,
}

#[derive(Clone, Debug, PartialEq)]
enum Cause {
    /// A file below the audio folder (its name there).
    File(String),
    /// The sound device.
    Device,
    /// Writing the as-run log.
    Log,
    /// Switching the relay.
    Relay,
}

impl Live {
    fn error(&mut self, cause: Cause, message: String) {
        self.last_error = Some(LastError {
            message,
            at: Timestamp::now(),
            cause,
        });
    }

    /// Forgets the last error if `gone` says its cause is gone.
    fn clear_if(&mut self, gone: impl Fn(&Cause) -> bool) {
        if self.last_error.as_ref().is_some_and(|e| gone(&e.cause)) {
            self.last_error = None;
        }
    }
}

/// Records what happens while a broadcast airs: as-run rows and the live
/// status.
struct Recorder {
    asrun: Arc<Mutex<AsRun>>,
    live: Arc<Mutex<Live>>,
    meta: Meta,
    items: Vec<AirItem>,
    rows: HashMap<usize, i64>,
    lang: Lang,
    /// For `loa status` while the amplifier warms up.
    warm_up: Duration,
    tz: jiff::tz::TimeZone,
}

impl Recorder {
    fn record(&self, index: usize, started: Option<Timestamp>) -> ItemRecord {
        let (scheduled, priority) = self
            .meta
            .scheduled
            .get(index)
            .cloned()
            .unwrap_or((None, Priority::Normal));
        ItemRecord {
            day: self.meta.day,
            broadcast_key: self.meta.key.clone(),
            broadcast: self.meta.title.clone(),
            tags: self.meta.tags.clone(),
            file: self.items[index].name.clone(),
            sha256: self.items[index].sha256.clone(),
            scheduled,
            started,
            ended: None,
            status: RowStatus::Interrupted,
            priority,
            error: None,
            clock_synced: self.meta.clock_synced,
            late: self.meta.late,
        }
    }

    fn lock_live(&self) -> std::sync::MutexGuard<'_, Live> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl AirEvents for Recorder {
    fn relay(&mut self, on: bool, at: Timestamp) {
        let warm = self.warm_up;
        let tz = self.tz.clone();
        let title = self.meta.title.clone();
        let mut live = self.lock_live();
        live.warming_up = on.then(|| WarmingUp {
            broadcast: title,
            since: rfc3339(at, &tz),
            until: rfc3339(ts_after(at, warm), &tz),
        });
    }

    fn item_started(&mut self, index: usize, item: &AirItem, at: Timestamp) {
        let rec = self.record(index, Some(at));
        match self
            .asrun
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .item_started(&rec)
        {
            Ok(id) => {
                self.rows.insert(index, id);
            }
            Err(e) => {
                tracing::error!(error = %e, "{}", crate::lang::log("không ghi được nhật ký phát", "could not write the as-run log"));
                self.lock_live().error(Cause::Log, e.message(self.lang));
            }
        }
        tracing::info!(broadcast = ?self.meta.title, file = %item.name, "{}", crate::lang::log("bắt đầu phát tệp", "item started"));
        let priority = rec.priority.as_str().to_string();
        let mut live = self.lock_live();
        live.warming_up = None;
        live.playing = Some(Playing {
            broadcast: self.meta.title.clone(),
            file: item.name.clone(),
            elapsed_s: 0.0,
            total_s: item.duration.map(|d| d.as_secs_f64()),
            priority,
            // 1-based: the first of four is "1 of 4".
            index: index + 1,
            count: self.items.len(),
        });
    }

    fn progress(&mut self, _index: usize, _item: &AirItem, elapsed: Duration) {
        if let Some(p) = &mut self.lock_live().playing {
            p.elapsed_s = elapsed.as_secs_f64();
        }
    }

    fn item_ended(&mut self, index: usize, item: &AirItem, report: &ItemReport) {
        let (status, error) = match &report.outcome {
            Outcome::Played => (RowStatus::Played, None),
            Outcome::Failed(m) => (RowStatus::Failed, Some(m.clone())),
            Outcome::Interrupted(why) => (RowStatus::Interrupted, Some(why.clone())),
            Outcome::Skipped => (RowStatus::Skipped, None),
            Outcome::NotAired(why) => (RowStatus::Skipped, Some(why.clone())),
        };
        let asrun = self.asrun.lock().unwrap_or_else(|e| e.into_inner());
        let result = match self.rows.get(&index) {
            Some(id) => asrun.item_ended(
                *id,
                report.ended.unwrap_or_else(Timestamp::now),
                status,
                error.as_deref(),
            ),
            None => {
                let mut rec = self.record(index, report.started);
                rec.ended = report.ended;
                rec.status = status;
                rec.error = error.clone();
                asrun.record(&rec).map(|_| ())
            }
        };
        drop(asrun);
        let mut live = self.lock_live();
        match result {
            Err(e) => {
                tracing::error!(error = %e, "{}", crate::lang::log("không ghi được nhật ký phát", "could not write the as-run log"));
                live.error(Cause::Log, e.message(self.lang));
            }
            Ok(()) => live.clear_if(|c| *c == Cause::Log),
        }
        if let Some(err) = &error
            && matches!(report.outcome, Outcome::Failed(_))
        {
            tracing::warn!(file = %item.name, error = %err, "{}", crate::lang::log("tệp không được phát", "item not aired"));
            live.error(
                Cause::File(item.name.clone()),
                format!("{}: {err}", item.name),
            );
        }
        // Played whole: what was wrong with this file, or with the sound
        // device, is gone.
        if report.outcome == Outcome::Played {
            let name = item.name.clone();
            live.clear_if(|c| *c == Cause::Device || *c == Cause::File(name.clone()));
        }
        drop(live);
        self.lock_live().playing = None;
    }

    fn device_error(&mut self, error: &crate::player::AudioError) {
        tracing::error!(error = %error, "{}", crate::lang::log("lỗi thiết bị âm thanh", "sound device"));
        self.lock_live()
            .error(Cause::Device, error.message(self.lang));
    }
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
    /// Files queued with priority for the next broadcast.
    queue: Vec<String>,
    /// Files for an emergency waiting for the current broadcast to yield.
    emergency: Option<Vec<String>>,
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
}

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

/// Runs the service until `shutdown` turns true.
pub async fn run(
    cfg: Config,
    deps: Deps,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let Deps {
        clock,
        relay,
        output,
        shutdown: airing_shutdown,
        asrun,
        clock_synced,
        mut requests,
        mut changes,
        ready,
        alive,
        turn_every,
        status_note,
    } = deps;
    let mut d = Daemon {
        cfg,
        deps_clock: clock.clone(),
        relay,
        output,
        shutdown: airing_shutdown,
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
    };
    d.ingest_existing();
    let mono_start = tokio::time::Instant::now();
    let mut dirty_at: Option<tokio::time::Instant> = None;
    let mut was_ready = false;
    let mut warned_unsynced = false;
    loop {
        (d.alive)();
        let now = clock.now();
        // A clock jump: re-plan at once (the agenda then neither bursts
        // nor repeats).
        let offset = now.as_millisecond() - mono_start.elapsed().as_millis() as i64;
        if let Some(prev) = d.offset_ms
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
            d.dirty = true;
            if offset > prev {
                let by = Duration::from_millis((offset - prev) as u64);
                let jump = Jump {
                    from: Timestamp::from_millisecond(now.as_millisecond() - (offset - prev))
                        .unwrap_or(now),
                    to: now,
                    by,
                };
                // What the jump skipped in the plan in hand (the day before,
                // when it crossed midnight); today's, once planned, below.
                if let Some(plan) = d.plan.clone() {
                    d.apply_jump(&plan, jump);
                }
                d.jump = Some(jump);
            }
        }
        d.offset_ms = Some(offset);

        let today = d.today(now);
        if d.plan.as_ref().is_none_or(|p| p.date != today) {
            d.dirty = true;
        }
        if d.dirty && d.current.is_none() {
            d.check_disk();
            d.replan(today).await;
            if !was_ready {
                ready();
                was_ready = true;
            }
        }
        if let Some(jump) = d.jump
            && d.current.is_none()
            && let Some(plan) = d.plan.clone().filter(|p| p.date == today)
        {
            d.apply_jump(&plan, jump);
            d.jump = None;
        }

        d.clock_synced = clock_synced();
        if d.first_start.is_none() && (d.clock_synced || !d.cfg.schedule.require_clock_sync) {
            let installed = installed_at(&d.cfg, now);
            let asrun = d.asrun.lock().unwrap_or_else(|e| e.into_inner());
            d.first_start = asrun.first_start(installed).ok();
        }
        let mut deadline: Option<Timestamp> = None;
        if d.current.is_none() {
            if let Some(files) = d.emergency.take() {
                d.start_emergency(files, now).await;
                continue;
            }
            if d.cfg.schedule.require_clock_sync && !d.clock_synced {
                if !warned_unsynced {
                    tracing::warn!(
                        "{}",
                        crate::lang::log(
                            "đồng hồ chưa được đồng bộ: loa không phát gì cho đến khi có giờ đúng",
                            "the clock is not synchronised: nothing airs until it is"
                        )
                    );
                    warned_unsynced = true;
                }
                deadline = Some(ts_after(now, SYNC_RECHECK));
            } else {
                warned_unsynced = false;
                let plan = d.plan.clone();
                if let Some(plan) = plan {
                    // Looking PREP_LEAD ahead: a broadcast is started a little
                    // before its relay-on, to be ready at the second.
                    match decide(
                        ts_after(now, PREP_LEAD),
                        &plan,
                        &d.attempted,
                        d.cfg.schedule.late_grace,
                        &d.cfg.tz,
                    ) {
                        Decision::Missed(list) => {
                            d.record_missed(&plan, &list);
                            continue;
                        }
                        Decision::Air { index, late } => {
                            if d.validate_first(&plan.broadcasts[index], &mut requests)
                                .await
                            {
                                // What was just validated changes the plan
                                // (a file uploaded moments before now airs in
                                // its place): decide again on the new one.
                                d.replan(plan.date).await;
                                continue;
                            }
                            d.start_broadcast(&plan, index, late, now).await;
                            continue;
                        }
                        Decision::Wait(t) => {
                            deadline = t.map(|t| {
                                Timestamp::from_millisecond(
                                    t.as_millisecond() - PREP_LEAD.as_millis() as i64,
                                )
                                .unwrap_or(t)
                            })
                        }
                    }
                }
            }
            // Re-plan at local midnight.
            let midnight = next_midnight(now, &d.cfg.tz);
            deadline = Some(deadline.map_or(midnight, |t| t.min(midnight)));
        }

        d.update_note(now);
        let sleep_for = deadline
            .map(|t| {
                Duration::from_millis((t.as_millisecond() - now.as_millisecond()).max(0) as u64)
            })
            .unwrap_or(Duration::from_secs(3600));
        let sleep_for = turn_every
            .map_or(sleep_for, |t| sleep_for.min(t))
            .min(JUMP_CHECK);
        let wake = tokio::time::Instant::now() + sleep_for;
        tokio::select! {
            _ = shutdown.changed() => {
                if *shutdown.borrow() { break; }
            }
            Some((req, reply)) = requests.recv() => {
                // The time of the question, not of the last wake-up.
                let resp = d.handle(req, clock.now()).await;
                let _ = reply.send(resp);
            }
            Some(change) = changes.recv() => {
                if d.observe(change) {
                    dirty_at = Some(tokio::time::Instant::now() + DEBOUNCE);
                }
            }
            _ = sleep_opt(d.uploads.next_check().map(tokio::time::Instant::from_std)) => {
                let audio = d.cfg.paths.audio.clone();
                let ready = d.uploads.ready(std::time::Instant::now(), |p| crate::media::ingest::stat(&audio, p));
                d.to_ingest.extend(ready);
                d.next_ingest();
            }
            taken = join_ingest(&mut d.ingesting) => {
                d.ingesting = None;
                d.ingested(taken);
                d.next_ingest();
            }
            _ = sleep_opt(dirty_at) => {
                dirty_at = None;
                d.dirty = true;
            }
            report = join_opt(&mut d.current) => {
                let cur = d.current.take().expect("join_opt resolves only with a broadcast");
                d.finished(cur, report);
            }
            _ = tokio::time::sleep_until(wake) => {}
        }
    }

    // Shutdown: the broadcast's own shutdown flag stops it (raised here
    // too when the stop came from the caller, not a signal); wait briefly.
    d.shutdown.trigger(0);
    if let Some(cur) = d.current.take() {
        let _ = tokio::time::timeout(Duration::from_secs(2), cur.handle).await;
    }
    let _ = d.relay.off_with(crate::relay::EdgeCause::Shutdown);
    tracing::info!(
        "{}",
        crate::lang::log("loa đã dừng; ampli đã tắt", "loa stopped; relay off")
    );
    Ok(())
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

/// Validates one file on a thread of its own (validation lowers its
/// thread's priority, which must not stay with a pooled thread that may
/// later run playback).
async fn take_up_on_own_thread(cfg: Config, path: PathBuf) -> crate::media::ingest::TakeUp {
    let rel = path.display().to_string();
    // A blocking task (so tokio knows work is in progress) that waits for a
    // thread of its own (whose lowered priority dies with it).
    let job = tokio::task::spawn_blocking(move || {
        std::thread::Builder::new()
            .name("ingest".into())
            .spawn(move || {
                let index =
                    MediaIndex::open(&cfg.paths.state).unwrap_or_else(|_| MediaIndex::in_memory());
                crate::media::ingest::take_up(
                    &cfg.paths.audio,
                    &path,
                    &index,
                    &cfg.paths.state,
                    cfg.ingest.min_free,
                    cfg.lang,
                    &cfg.tz,
                )
            })
            .ok()
            .and_then(|t| t.join().ok())
    });
    job.await
        .ok()
        .flatten()
        .unwrap_or(crate::media::ingest::TakeUp::Gone { rel })
}

async fn join_ingest(
    job: &mut Option<(
        PathBuf,
        tokio::task::JoinHandle<crate::media::ingest::TakeUp>,
    )>,
) -> Option<crate::media::ingest::TakeUp> {
    match job {
        Some((_, j)) => j.await.ok(),
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
    /// A folder change. Returns true when the plan must be re-read (a
    /// playlist changed, an audio file went away); uploads are taken up
    /// once complete, and re-plan when they are.
    fn observe(&mut self, c: Change) -> bool {
        use crate::media::ingest;
        let Some(path) = c.path else {
            return true;
        };
        let audio = &self.cfg.paths.audio;
        if !path.starts_with(audio) {
            return true;
        }
        if c.removed {
            self.uploads.forget(&path);
            // The operator deleted the rejected copy: the complaint about it
            // is done with. (The original's removal is the move to
            // rejected/ itself, not a sign the cause is gone.)
            if let Ok(rel) = path.strip_prefix(audio.join(crate::media::library::REJECTED_DIR)) {
                let rel = rel.to_string_lossy().into_owned();
                self.live
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clear_if(|c| *c == Cause::File(rel.clone()));
            }
            return true;
        }
        // A link, a pipe or a device: never followed; taken up only to be
        // reported (a note in rejected/, a warning in status).
        if ingest::odd(audio, &path).is_some() {
            if ingest::is_candidate(audio, &path) && !self.to_ingest.contains(&path) {
                self.to_ingest.push_back(path);
                self.next_ingest();
            }
            return true;
        }
        let Ok(rel) = path.strip_prefix(audio) else {
            return true;
        };
        if crate::media::folder::lstat(audio, rel)
            .is_some_and(|e| e.kind == Some(crate::media::folder::Kind::Directory))
        {
            // A folder moved in whole: its files, as uploads (and what is
            // odd in it, to be reported); no link in it is followed.
            let Ok((files, odd)) = crate::media::folder::walk_below(audio, rel, &|_, _| false)
            else {
                return false;
            };
            let now = std::time::Instant::now();
            for f in files {
                let p = audio.join(&f.rel);
                if ingest::is_candidate(audio, &p) {
                    self.uploads.touched(p, f.size, f.mtime_ns, false, now);
                }
            }
            for o in odd {
                let p = audio.join(&o.rel);
                if ingest::is_candidate(audio, &p) && !self.to_ingest.contains(&p) {
                    self.to_ingest.push_back(p);
                }
            }
            self.next_ingest();
            return false;
        }
        if !ingest::is_candidate(audio, &path) {
            return false;
        }
        match ingest::stat(audio, &path) {
            Some((size, mtime)) => {
                self.uploads
                    .touched(path, size, mtime, c.closed, std::time::Instant::now());
                false
            }
            None => {
                self.uploads.forget(&path);
                true
            }
        }
    }

    /// At start-up: files the media index does not know (or that changed
    /// since) are taken up like uploads.
    fn ingest_existing(&mut self) {
        let Ok(library) = Library::scan(&self.cfg.paths.audio) else {
            return;
        };
        let index =
            MediaIndex::open(&self.cfg.paths.state).unwrap_or_else(|_| MediaIndex::in_memory());
        let audio = self.cfg.paths.audio.clone();
        for o in library.odd() {
            let path = audio.join(&o.rel);
            if crate::media::ingest::is_candidate(&audio, &path) {
                self.to_ingest.push_back(path);
            }
        }
        for (_, e) in library.entries() {
            let path = audio.join(&e.rel);
            if crate::media::ingest::is_candidate(&audio, &path)
                && !matches!(
                    index.verdict(&e.rel, e.size, e.mtime_ns),
                    Some(crate::media::validate::Verdict::Ok(_))
                )
            {
                self.to_ingest.push_back(path);
            }
        }
        self.next_ingest();
    }

    /// Starts validating the next finished upload, if none is in progress.
    fn next_ingest(&mut self) {
        if self.ingesting.is_some() {
            return;
        }
        let Some(path) = self.to_ingest.pop_front() else {
            return;
        };
        let cfg = self.cfg.clone();
        let job = tokio::spawn(take_up_on_own_thread(cfg, path.clone()));
        self.ingesting = Some((path, job));
    }

    fn ingested(&mut self, taken: Option<crate::media::ingest::TakeUp>) {
        use crate::media::ingest::TakeUp;
        match taken {
            Some(TakeUp::Accepted { rel }) => {
                self.note_upload(&rel, None);
                tracing::info!(file = %rel, "{}", crate::lang::log("đã nhận tệp tải lên", "upload taken up"));
                self.ingest_warning = None;
                self.dirty = true;
                // A good file in place of a rejected one: the old complaint
                // is gone.
                self.live
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clear_if(|c| *c == Cause::File(rel.clone()));
            }
            Some(TakeUp::Rejected { rel, message }) => {
                self.note_upload(&rel, Some(message.clone()));
                tracing::warn!(file = %rel, reason = %message, "{}", crate::lang::log("tệp tải lên bị từ chối, đã chuyển vào rejected/", "upload rejected: moved to rejected/"));
                self.live
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .error(Cause::File(rel.clone()), format!("{rel}: {message}"));
                self.dirty = true;
            }
            Some(TakeUp::Odd { rel, message }) => {
                self.note_upload(&rel, Some(message.clone()));
                tracing::warn!(file = %rel, reason = %message, "{}", crate::lang::log("không phải tệp bình thường: để nguyên, không bao giờ phát", "not an ordinary file: left alone, never aired"));
                self.dirty = true;
            }
            Some(TakeUp::Refused { rel, message }) => {
                tracing::error!(file = %rel, reason = %message, "{}", crate::lang::log("chưa nhận tệp tải lên", "upload not taken up"));
                self.ingest_warning = Some(message);
                // Tried again on its next change, or at the next start.
            }
            Some(TakeUp::Gone { .. }) | None => {}
        }
    }

    /// An upload taken up (None) or refused (why), for the status note.
    fn note_upload(&mut self, rel: &str, refused: Option<String>) {
        let now = self.deps_clock.now();
        let today = self.today(now);
        self.uploads_today.retain(|u| {
            self.cfg.tz.to_offset(u.at).to_datetime(u.at).date() == today && u.rel != rel
        });
        self.uploads_today.push(crate::status_note::Upload {
            at: now,
            rel: rel.to_string(),
            refused,
        });
    }

    /// Rewrites TINH-TRANG.txt at the top of the audio folder when what it
    /// says has changed: today's uploads, the coming broadcasts, what needs
    /// attention. For upload-only accounts, which cannot run `loa status`.
    fn update_note(&mut self, now: Timestamp) {
        use crate::status_note::{Coming, Note};
        if !self.status_note {
            return;
        }
        let today = self.today(now);
        let tz = self.cfg.tz.clone();
        let st = self.status(now);
        let mut coming: Vec<Coming> = Vec::new();
        if let Some(plan) = &self.plan {
            for b in &plan.broadcasts {
                let key = broadcast_key(plan.date, b, &tz);
                if b.relay_on >= now && !self.attempted.contains(&key) {
                    coming.push(Coming {
                        at: b.at,
                        title: b.title.clone(),
                        items: b.items.len(),
                    });
                }
            }
        }
        if let Some(b) = &self.later
            && coming.is_empty()
        {
            coming.push(Coming {
                at: b.at,
                title: b.title.clone(),
                items: b.items.len(),
            });
        }
        let mut attention = st.warnings.clone();
        attention.extend(st.plan_error.clone());
        attention.extend(st.last_error.clone());
        let note = Note {
            uploads: self
                .uploads_today
                .iter()
                .filter(|u| tz.to_offset(u.at).to_datetime(u.at).date() == today)
                .cloned()
                .collect(),
            coming,
            attention,
        };
        if self.note.as_ref() == Some(&note) {
            return;
        }
        let text = note.render(now, &tz, self.cfg.lang);
        match crate::media::folder::write_atomically(
            &self.cfg.paths.audio,
            std::path::Path::new(crate::status_note::FILE_NAME),
            text.as_bytes(),
        ) {
            Ok(()) => self.note = Some(note),
            Err(e) => {
                if self.note.is_some() {
                    tracing::warn!(error = %e, "{}", crate::lang::log("không ghi được tệp TINH-TRANG.txt", "could not write TINH-TRANG.txt"));
                }
                // Tried again at the next turn only if something changes.
                self.note = Some(note);
            }
        }
    }

    /// Logs (once per change) when free space on the audio or state
    /// filesystem is below the reserve: uploads are then not taken up.
    fn check_disk(&mut self) {
        let low = [&self.cfg.paths.audio, &self.cfg.paths.state]
            .into_iter()
            .find_map(|fs| {
                let free = crate::media::ingest::free_space(fs)?;
                (free < self.cfg.ingest.min_free).then(|| (fs.clone(), free))
            });
        match (low, self.disk_low) {
            (Some((fs, free)), false) => {
                tracing::warn!(
                    folder = %fs.display(),
                    free_mb = free / 1_000_000,
                    reserve_mb = self.cfg.ingest.min_free / 1_000_000, "{}", crate::lang::log("đĩa sắp đầy; loa không nhận thêm tệp tải lên", "the disk is nearly full; uploads are not taken up"));
                self.disk_low = true;
            }
            (None, true) => {
                tracing::info!(
                    "{}",
                    crate::lang::log(
                        "dung lượng trống đã trở lại trên mức dự trữ",
                        "free disk space is back above the reserve"
                    )
                );
                self.disk_low = false;
            }
            _ => {}
        }
    }

    /// The files below the audio folder that are not ready: uploads in
    /// progress, waiting to be validated, or being validated.
    fn pending_rels(&self) -> std::collections::HashSet<String> {
        let audio = &self.cfg.paths.audio;
        self.uploads
            .paths()
            .chain(self.to_ingest.iter().map(PathBuf::as_path))
            .chain(self.ingesting.as_ref().map(|(p, _)| p.as_path()))
            .filter_map(|p| p.strip_prefix(audio).ok())
            .map(|r| r.to_string_lossy().into_owned())
            .collect()
    }

    /// Whether a file (below the audio folder) is still being uploaded: it
    /// must not be aired yet.
    fn not_ready(&self, rel: &str) -> bool {
        self.uploads.contains(&self.cfg.paths.audio.join(rel))
    }

    /// Before a broadcast starts: validates now those of its files (aired
    /// or left out for now) that are waiting their turn, and waits for the
    /// one being validated if it is one of them, so that nothing
    /// unvalidated airs and a file uploaded just before its broadcast still
    /// airs. Whether any was taken up (then the plan must be made again).
    /// The watchdog is fed meanwhile: a long file takes a while to validate
    /// on a Pi, and the loop is not hung.
    async fn validate_first(
        &mut self,
        b: &crate::schedule::PlannedBroadcast,
        requests: &mut Requests,
    ) -> bool {
        let audio = &self.cfg.paths.audio;
        let paths: Vec<PathBuf> = b
            .items
            .iter()
            .map(|i| audio.join(&i.path))
            .chain(b.skipped.iter().map(|(file, _)| audio.join(file)))
            .collect();
        let mut taken_any = false;
        if let Some((path, _)) = &self.ingesting
            && paths.contains(path)
            && let Some((_, job)) = self.ingesting.take()
        {
            let taken = self.meanwhile(job, requests).await.ok();
            self.ingested(taken);
            taken_any = true;
        }
        for path in paths {
            let Some(pos) = self.to_ingest.iter().position(|p| *p == path) else {
                continue;
            };
            self.to_ingest.remove(pos);
            let job = take_up_on_own_thread(self.cfg.clone(), path);
            let taken = self.meanwhile(job, requests).await;
            self.ingested(Some(taken));
            taken_any = true;
        }
        self.next_ingest();
        taken_any
    }

    /// Awaits `work` while still answering the control socket (`loa
    /// status` must not say the service is stuck while it validates a long
    /// file) and telling the watchdog every `turn_every` that loa is alive.
    async fn meanwhile<F: std::future::Future>(
        &mut self,
        work: F,
        requests: &mut Requests,
    ) -> F::Output {
        let every = self.turn_every.unwrap_or(Duration::from_secs(3600));
        // A deadline of its own: questions arriving more often than `every`
        // must not put the watchdog off.
        let mut ping_at = tokio::time::Instant::now() + every;
        tokio::pin!(work);
        loop {
            tokio::select! {
                out = &mut work => return out,
                _ = tokio::time::sleep_until(ping_at) => {
                    (self.alive)();
                    ping_at = tokio::time::Instant::now() + every;
                }
                Some((req, reply)) = requests.recv() => {
                    let now = self.deps_clock.now();
                    let resp = self.handle(req, now).await;
                    let _ = reply.send(resp);
                }
            }
        }
    }

    fn today(&self, now: Timestamp) -> Date {
        self.cfg.tz.to_offset(now).to_datetime(now).date()
    }

    fn lang(&self) -> Lang {
        self.cfg.lang
    }

    /// Re-reads the playlists and the audio folder and plans `day`. A broken
    /// edit of the in-effect playlist keeps the last good plan for the day.
    async fn replan(&mut self, day: Date) {
        self.dirty = false;
        let cfg = self.cfg.clone();
        // Files still being uploaded or waiting to be validated are not
        // ready: validating them here would hold the loop (no watchdog, no
        // `loa status`) for as long as a long file takes.
        let pending = self.pending_rels();
        let planned = tokio::task::spawn_blocking(move || {
            let lang = cfg.lang;
            // A folder that cannot be read now (out of descriptors, a disk
            // error, a folder removed by mistake) says nothing about the
            // day: the last good plan stays, and this is tried again.
            let unreadable = |dir: &std::path::Path, key: &str, e: std::io::Error| {
                let shown = display_path(dir);
                if e.kind() == std::io::ErrorKind::NotFound {
                    return tr!(
                        lang,
                        "Không có thư mục {shown}; hãy tạo thư mục đó hoặc sửa [paths] {key} trong tệp cấu hình. Cho đến khi có, loa không phát gì mới.",
                        "there is no folder {shown}; create it or correct [paths] {key} in the config. Until then, loa airs nothing new"
                    );
                }
                let why = crate::tomlfile::io_reason(&e, lang);
                tr!(
                    lang,
                    "Không đọc được thư mục {shown} ({why}); loa giữ lịch phát tốt gần nhất và sẽ thử lại.",
                    "cannot read the folder {shown} ({why}); the last good plan stays in effect and loa tries again"
                )
            };
            if let Err(e) = std::fs::read_dir(&cfg.paths.playlists) {
                return Err(unreadable(&cfg.paths.playlists, "playlists", e));
            }
            let library = Library::scan(&cfg.paths.audio)
                .map_err(|e| unreadable(&cfg.paths.audio, "audio", e))?;
            let set = playlist::load_dir(&cfg.paths.playlists, lang);
            let index =
                MediaIndex::open(&cfg.paths.state).unwrap_or_else(|_| MediaIndex::in_memory());
            let facts = crate::media::Facts::new(&library, &index, lang).pending(pending);
            let settings = PlanSettings::from_config(&cfg);
            let plan_of = |day: Date| plan_for(day, &set, &facts, &settings);
            let plan = plan_of(day);
            let playlist = set.for_date(day).playlist();
            let broken: Vec<String> = match &playlist {
                Some(p) => {
                    let shown = display_path(&p.path);
                    set.problems
                        .iter()
                        .filter(|x| x.path == shown && x.is_error())
                        .map(|x| x.to_string())
                        .collect()
                }
                None => vec![],
            };
            // For `loa status` when nothing is left today: the first
            // broadcast of the next days that air something (a week ahead).
            let later = (1..=LOOK_AHEAD_DAYS)
                .filter_map(|n| day.checked_add(jiff::Span::new().days(n)).ok())
                .find_map(|d| plan_of(d).broadcasts.into_iter().next());
            let odd: Vec<String> = library.odd().iter().map(|o| o.message(lang)).collect();
            Ok((plan, broken, later, odd))
        })
        .await;
        let (plan, broken, later, odd) = match planned {
            Ok(Ok(p)) => p,
            Ok(Err(why)) => {
                if self.plan_error.as_deref() != Some(&why) {
                    tracing::error!(problem = %why, "{}", crate::lang::log("không lập được lịch phát; loa giữ lịch phát tốt gần nhất", "cannot plan; the last good plan stays in effect"));
                }
                self.plan_error = Some(why);
                // Tried again at the next turn of the loop.
                self.dirty = true;
                return;
            }
            Err(_) => {
                self.dirty = true;
                return;
            }
        };
        self.later = later;
        self.odd_names = odd;
        let same_day = self.plan.as_ref().is_some_and(|p| p.date == day);
        if !broken.is_empty() && same_day {
            let first = broken[0].clone();
            tracing::error!(problem = %first, "{}", crate::lang::log("danh sách phát có lỗi; loa giữ lịch phát tốt gần nhất", "the playlist has errors; the last good plan stays in effect"));
            self.plan_error = Some(first);
        } else {
            if !broken.is_empty() {
                self.plan_error = Some(broken[0].clone());
            } else {
                self.plan_error = None;
            }
            for p in plan.problems.iter().filter(|p| p.is_error()) {
                tracing::warn!(problem = %p, "{}", crate::lang::log("vấn đề trong lịch phát", "plan problem"));
            }
            tracing::info!(
                day = %day,
                broadcasts = plan.broadcasts.len(),
                source = ?plan.source.as_deref().map(display_path), "{}", crate::lang::log("đã lập lịch phát trong ngày", "day planned"));
            self.plan = Some(plan);
        }
        if !same_day {
            self.refresh_attempted(day);
        }
    }

    fn refresh_attempted(&mut self, day: Date) {
        let asrun = self.asrun.lock().unwrap_or_else(|e| e.into_inner());
        self.attempted = asrun.attempted(day).unwrap_or_default();
        // Today's list: what the log says of each broadcast.
        let mut results = HashMap::new();
        if let Ok(rows) = asrun.rows(day, day) {
            let mut by_key: HashMap<String, Vec<RowStatus>> = HashMap::new();
            for r in rows {
                by_key
                    .entry(r.record.broadcast_key.clone())
                    .or_default()
                    .push(r.record.status);
            }
            for (k, statuses) in by_key {
                results.insert(k, summarize(&statuses).to_string());
            }
        }
        drop(asrun);
        self.live.lock().unwrap_or_else(|e| e.into_inner()).results = results;
    }

    fn record_missed(&mut self, plan: &DayPlan, list: &[usize]) {
        self.record_missed_because(plan, list, None);
    }

    /// As `record_missed`, with the reason given (a clock jump), else the
    /// usual "loa was not running or the clock was wrong".
    fn record_missed_because(&mut self, plan: &DayPlan, list: &[usize], reason: Option<&str>) {
        let asrun = self.asrun.lock().unwrap_or_else(|e| e.into_inner());
        let lang = self.cfg.lang;
        // Broadcasts due before loa first ran were before it was installed:
        // not missed, and not in the log.
        let now = self.deps_clock.now();
        let installed = installed_at(&self.cfg, now);
        let first_start = *self
            .first_start
            .get_or_insert_with(|| asrun.first_start(installed).unwrap_or(installed));
        for &i in list {
            let b = &plan.broadcasts[i];
            let key = broadcast_key(plan.date, b, &self.cfg.tz);
            if b.at < first_start {
                tracing::info!(broadcast = %key, "{}", crate::lang::log("đến giờ trước khi cài đặt loa: không tính là bị lỡ", "due before loa was installed: not missed"));
                self.attempted.insert(key.clone());
                self.live
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .results
                    .insert(key, "before-install".into());
                continue;
            }
            let grace = crate::duration::to_config_text(self.cfg.schedule.late_grace);
            let grace_h = crate::duration::human(self.cfg.schedule.late_grace, lang);
            let why = reason.map(str::to_string).unwrap_or_else(|| tr!(
                lang,
                "Đến giờ phát, loa không chạy hoặc đồng hồ chưa đúng, và đã trễ quá thời gian cho phép phát muộn ({grace_h}, late-grace = \"{grace}\").",
                "loa was not running, or the clock was not right, at the broadcast's time, and the late-start grace (late-grace = \"{grace}\") has passed"
            ));
            tracing::warn!(broadcast = %key, "{}", crate::lang::log("buổi phát bị lỡ", "missed"));
            for it in &b.items {
                let rec = ItemRecord {
                    day: plan.date,
                    broadcast_key: key.clone(),
                    broadcast: b.title.clone(),
                    tags: b.tags.clone(),
                    file: it.file.clone(),
                    sha256: None,
                    scheduled: Some(it.start),
                    started: None,
                    ended: None,
                    status: RowStatus::Missed,
                    priority: Priority::Normal,
                    error: Some(why.clone()),
                    clock_synced: self.clock_synced,
                    late: false,
                };
                if let Err(e) = asrun.record(&rec) {
                    tracing::error!(error = %e, "{}", crate::lang::log("không ghi được nhật ký phát", "could not write the as-run log"));
                }
            }
            self.attempted.insert(key.clone());
            self.live
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .results
                .insert(key, "missed".into());
        }
    }

    /// After the wall clock jumped forward (`jump`): what fell inside the
    /// jump is missed, with the jump as the reason, and never aired, but
    /// for the latest one still within its grace of the new time, which
    /// airs once. Never a burst of past broadcasts after a clock jump.
    fn apply_jump(&mut self, plan: &DayPlan, jump: Jump) {
        let tz = self.cfg.tz.clone();
        let grace = self.cfg.schedule.late_grace.as_millis() as i64;
        let inside: Vec<usize> = plan
            .broadcasts
            .iter()
            .enumerate()
            .filter(|(_, b)| {
                b.at > jump.from
                    && b.at <= jump.to
                    && !self.attempted.contains(&broadcast_key(plan.date, b, &tz))
            })
            .map(|(i, _)| i)
            .collect();
        let keep = inside
            .iter()
            .copied()
            .filter(|&i| jump.to.as_millisecond() - plan.broadcasts[i].at.as_millisecond() <= grace)
            .max_by_key(|&i| plan.broadcasts[i].at);
        let missed: Vec<usize> = inside.into_iter().filter(|&i| Some(i) != keep).collect();
        if missed.is_empty() {
            return;
        }
        let by = crate::duration::human(jump.by, self.cfg.lang);
        let why = tr!(
            self.cfg.lang,
            "Đồng hồ của máy vừa nhảy tới trước {by} (ví dụ khi máy lấy lại giờ đúng qua mạng); giờ phát của buổi này nằm trong khoảng thời gian bị nhảy qua nên nó không được phát.",
            "the clock jumped forward by {by} (as when the box gets the right time from the network); this broadcast's time fell inside the jump, so it was not aired"
        );
        self.record_missed_because(plan, &missed, Some(&why));
    }

    /// Items for files named over the control socket (queue, emergency):
    /// names in the audio folder only.
    fn resolve_files(&self, files: &[String]) -> Vec<AirItem> {
        crate::air::prepare_named(&self.cfg, files)
    }

    /// Checks the names sent with `now` or `queue`: each must be a file in
    /// the audio folder (no path, no `..`, no link) that passes validation.
    /// The message lists every name that does not, with the nearest name.
    async fn check_names(&self, files: &[String]) -> Result<(), String> {
        let lang = self.cfg.lang;
        if files.is_empty() {
            return Err(tr!(
                lang,
                "Chưa ghi tên tệp nào nên không có gì được phát.",
                "No file was named; nothing was aired."
            ));
        }
        let items = {
            let cfg = self.cfg.clone();
            let files = files.to_vec();
            tokio::task::spawn_blocking(move || crate::air::prepare_named(&cfg, &files))
                .await
                .unwrap_or_default()
        };
        let bad: Vec<String> = items
            .iter()
            .filter_map(|i| i.source.as_ref().err().cloned())
            .collect();
        if bad.is_empty() && !items.is_empty() {
            return Ok(());
        }
        Err(tr!(
            lang,
            "Lệnh bị từ chối, không có gì được phát. {}",
            "Refused, nothing was aired: {}",
            bad.join(lang.pick(" ", "; "))
        ))
    }

    /// The timing rule for a broadcast with this gap between items.
    fn timing(&self, gap: Duration) -> Timing {
        Timing {
            warm_up: self.cfg.relay.warm_up,
            gap,
            hold: self.cfg.relay.hold,
        }
    }

    async fn start_broadcast(&mut self, plan: &DayPlan, index: usize, late: bool, now: Timestamp) {
        let b = &plan.broadcasts[index];
        let key = broadcast_key(plan.date, b, &self.cfg.tz);
        self.attempted.insert(key.clone());
        let cfg = self.cfg.clone();
        // Priority files first, then the broadcast's own items.
        let queued = std::mem::take(&mut self.queue);
        let mut items = self.resolve_files(&queued);
        let mut scheduled: Vec<(Option<Timestamp>, Priority)> =
            items.iter().map(|_| (None, Priority::Priority)).collect();
        let library =
            Library::scan(&cfg.paths.audio).unwrap_or_else(|_| Library::empty(&cfg.paths.audio));
        let media_index =
            MediaIndex::open(&cfg.paths.state).unwrap_or_else(|_| MediaIndex::in_memory());
        for it in &b.items {
            let probed = if self.not_ready(&it.path) {
                Err(crate::media::not_ready_message(&it.file, cfg.lang))
            } else {
                crate::media::find_and_probe(&it.path, &library, &media_index, cfg.lang)
            };
            items.push(AirItem::from_found(
                &it.file,
                probed,
                &cfg.audio,
                it.volume_db,
            ));
            scheduled.push((Some(it.start), Priority::Normal));
        }
        // Files that cannot be aired are recorded failed, with the reason.
        for (file, why) in &b.skipped {
            items.push(AirItem::failed(file, why.clone()));
            scheduled.push((None, Priority::Normal));
        }
        tracing::info!(broadcast = %key, title = ?b.title, late, items = items.len(), "{}", crate::lang::log("bắt đầu buổi phát", "broadcast starting"));
        let meta = Meta {
            day: plan.date,
            key: key.clone(),
            title: b.title.clone(),
            tags: b.tags.clone(),
            scheduled,
            late,
            clock_synced: self.clock_synced,
        };
        // The relay stays on into the next broadcast if this one overruns.
        let next_on = plan
            .broadcasts
            .iter()
            .filter(|x| {
                x.relay_on > b.relay_on
                    && !self
                        .attempted
                        .contains(&broadcast_key(plan.date, x, &cfg.tz))
            })
            .map(|x| x.relay_on)
            .min();
        let clock = self.deps_clock.clone();
        let keep_on: Arc<dyn Fn() -> bool + Send + Sync> =
            Arc::new(move || next_on.is_some_and(|t| clock.now() >= t));
        let _ = now;
        // Prepared ahead: the relay goes on at its planned time, the first
        // item starts at its time (the priority files first, so the
        // timeline is the planner's rule over what airs).
        let timeline = Timeline::from_relay_on(b.relay_on, &durations(&items), self.timing(b.gap));
        self.launch(items, meta, timeline, keep_on, false);
    }

    async fn start_emergency(&mut self, files: Vec<String>, now: Timestamp) {
        let items = self.resolve_files(&files);
        let key = format!(
            "{} emergency {}",
            self.today(now),
            local_time(now, &self.cfg.tz)
        );
        let meta = Meta {
            day: self.today(now),
            key: key.clone(),
            title: Some(self.lang().pick("Tin khẩn cấp", "Emergency").to_string()),
            tags: vec!["khan-cap".into()],
            scheduled: items
                .iter()
                .map(|_| (Some(now), Priority::Emergency))
                .collect(),
            late: false,
            clock_synced: self.clock_synced,
        };
        tracing::warn!(files = ?files, "{}", crate::lang::log("phát khẩn cấp", "emergency broadcast"));
        // If a broadcast is due right after, keep the relay on for it.
        let plan = self.plan.clone();
        let attempted = self.attempted.clone();
        let tz = self.cfg.tz.clone();
        let clock = self.deps_clock.clone();
        let keep_on: Arc<dyn Fn() -> bool + Send + Sync> = Arc::new(move || {
            let now = clock.now();
            plan.as_ref().is_some_and(|p| {
                p.broadcasts.iter().any(|b| {
                    !attempted.contains(&broadcast_key(p.date, b, &tz)) && b.relay_on <= now
                })
            })
        });
        let timing = self.timing(self.cfg.audio.gap);
        let timeline = Timeline::from_relay_on(now, &durations(&items), timing);
        self.launch(items, meta, timeline, keep_on, true);
    }

    fn launch(
        &mut self,
        items: Vec<AirItem>,
        meta: Meta,
        timeline: Timeline,
        keep_on: Arc<dyn Fn() -> bool + Send + Sync>,
        emergency: bool,
    ) {
        let (key, late) = (meta.key.clone(), meta.late);
        let (tx, rx) = mpsc::unbounded_channel();
        self.live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .results
            .insert(key.clone(), "playing".into());
        let recorder = Recorder {
            asrun: self.asrun.clone(),
            live: self.live.clone(),
            meta,
            items: items.clone(),
            rows: HashMap::new(),
            lang: self.cfg.lang,
            warm_up: timeline.timing.warm_up,
            tz: self.cfg.tz.clone(),
        };
        let job = air::Job {
            items,
            timeline,
            fade: self.cfg.audio.fade,
            lang: self.cfg.lang,
            commands: Some(rx),
            keep_on: Some(keep_on),
        };
        let seams = air::Seams {
            relay: Some(self.relay.clone()),
            output: self.output.clone(),
            clock: self.deps_clock.clone(),
            shutdown: self.shutdown.clone(),
        };
        let mut recorder = recorder;
        let handle = tokio::spawn(async move { air::air(job, seams, &mut recorder).await });
        self.current = Some(Current {
            handle,
            commands: tx,
            key,
            late,
            emergency,
        });
    }

    fn finished(&mut self, cur: Current, report: AirReport) {
        let statuses: Vec<RowStatus> = report
            .items
            .iter()
            .map(|i| match i.outcome {
                Outcome::Played => RowStatus::Played,
                Outcome::Failed(_) => RowStatus::Failed,
                Outcome::Interrupted(_) => RowStatus::Interrupted,
                Outcome::Skipped | Outcome::NotAired(_) => RowStatus::Skipped,
            })
            .collect();
        let word = match summarize(&statuses) {
            "aired" if cur.late => "late",
            w => w,
        };
        tracing::info!(broadcast = %cur.key, result = word, emergency = cur.emergency, "{}", crate::lang::log("kết thúc buổi phát", "broadcast ended"));
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.results.insert(cur.key.clone(), word.to_string());
        live.playing = None;
        live.warming_up = None;
        if let Some(e) = &report.device_error {
            live.error(Cause::Device, e.message(self.cfg.lang));
        }
        if let Some(e) = &report.relay_error {
            live.error(Cause::Relay, e.clone());
        } else if report.relay_on.is_some() {
            live.clear_if(|c| *c == Cause::Relay);
        }
        drop(live);
        // A file change during the broadcast is taken up now.
        self.dirty = true;
    }

    async fn handle(&mut self, req: Request, now: Timestamp) -> Response {
        let lang = self.cfg.lang;
        let ok = |message: String| Response::ok(message);
        match req {
            Request::Status => Response::status(self.status(now)),
            Request::Reload => {
                self.dirty = true;
                ok(tr!(
                    lang,
                    "Đã đọc lại danh sách phát và thư mục âm thanh.",
                    "Playlists and the audio folder re-read."
                ))
            }
            Request::Queue { files } => {
                if self.queue.len() + files.len() > MAX_QUEUE {
                    let (n, have) = (files.len(), self.queue.len());
                    return Response::error(tr!(
                        lang,
                        "Không xếp thêm được {n} tệp: hàng chờ phát ưu tiên đã có {have} tệp, tối đa là {MAX_QUEUE} tệp. Chưa tệp nào được xếp thêm.",
                        "Cannot queue {n} file(s): the priority queue already holds {have}, at most {MAX_QUEUE}. Nothing was queued."
                    ));
                }
                if let Err(why) = self.check_names(&files).await {
                    return Response::error(why);
                }
                let n = files.len();
                self.queue.extend(files);
                ok(tr!(
                    lang,
                    "Đã xếp {n} tệp để phát đầu tiên trong buổi phát tới.",
                    "{n} file(s) queued to air first in the next broadcast."
                ))
            }
            Request::Now { files } => {
                if files.len() > MAX_QUEUE {
                    let n = files.len();
                    return Response::error(tr!(
                        lang,
                        "Không phát được: {n} tệp là quá nhiều cho một lần phát khẩn cấp (tối đa {MAX_QUEUE} tệp). Chưa có gì được phát.",
                        "Not aired: {n} files are too many for one emergency (at most {MAX_QUEUE}). Nothing was aired."
                    ));
                }
                // Refused before anything is cut: the broadcast on air goes
                // on untouched when nothing of this would play.
                if let Err(why) = self.check_names(&files).await {
                    return Response::error(why);
                }
                if let Some(cur) = &self.current {
                    let _ = cur.commands.send(AirCommand::Preempt);
                }
                let n = files.len();
                self.emergency = Some(files);
                ok(tr!(
                    lang,
                    "Đang phát khẩn cấp {n} tệp ngay bây giờ.",
                    "Airing {n} emergency file(s) now."
                ))
            }
            Request::Stop => match &self.current {
                Some(cur) => {
                    let _ = cur.commands.send(AirCommand::Stop);
                    let hold = crate::duration::human(self.cfg.relay.hold, lang);
                    ok(tr!(
                        lang,
                        "Đang dừng buổi phát; ampli sẽ tắt sau {hold}.",
                        "Stopping the broadcast; the amplifier goes off after {hold}."
                    ))
                }
                None => ok(tr!(
                    lang,
                    "Không có buổi phát nào đang chạy.",
                    "No broadcast is on air."
                )),
            },
            Request::Skip => match &self.current {
                Some(cur) => {
                    let _ = cur.commands.send(AirCommand::Skip);
                    ok(tr!(
                        lang,
                        "Đã bỏ qua bài đang phát.",
                        "Skipped the item on air."
                    ))
                }
                None => ok(tr!(
                    lang,
                    "Không có bài nào đang phát.",
                    "Nothing is on air."
                )),
            },
            Request::Relay { on } => {
                if self.current.is_some() {
                    return Response::error(tr!(
                        lang,
                        "Đang có buổi phát; hãy dùng `loa stop` trước khi bật/tắt ampli bằng tay.",
                        "A broadcast is on air; use `loa stop` before switching the amplifier by hand."
                    ));
                }
                let r = if on {
                    self.relay.on()
                } else {
                    self.relay.off()
                };
                let max_on = crate::duration::human(self.cfg.relay.max_on, lang);
                match r {
                    Ok(()) => ok(if on {
                        tr!(
                            lang,
                            "Ampli đã BẬT (do dịch vụ loa giữ). Ampli sẽ tự tắt sau {max_on}.",
                            "Amplifier ON (held by loa run). It goes off after {max_on}."
                        )
                    } else {
                        tr!(lang, "Ampli đã TẮT.", "Amplifier OFF.")
                    }),
                    Err(e) => Response::error(e.message(lang)),
                }
            }
        }
    }

    fn status(&self, now: Timestamp) -> Status {
        let tz = &self.cfg.tz;
        let live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        let mut today = Vec::new();
        let mut next = None;
        if let Some(plan) = &self.plan {
            for b in &plan.broadcasts {
                let key = broadcast_key(plan.date, b, tz);
                let status = live
                    .results
                    .get(&key)
                    .cloned()
                    .unwrap_or_else(|| "pending".into());
                if status == "pending" && next.is_none() && b.relay_on >= now {
                    next = Some(NextBroadcast {
                        title: b.title.clone(),
                        at: rfc3339(b.at, tz),
                        relay_on: rfc3339(b.relay_on, tz),
                    });
                }
                today.push(TodayBroadcast {
                    title: b.title.clone(),
                    at: rfc3339(b.at, tz),
                    status,
                });
            }
        }
        if next.is_none()
            && let Some(b) = self.later.as_ref().filter(|b| b.relay_on >= now)
        {
            next = Some(NextBroadcast {
                title: b.title.clone(),
                at: rfc3339(b.at, tz),
                relay_on: rfc3339(b.relay_on, tz),
            });
        }
        let mut warnings = Vec::new();
        if let Some(w) = &self.ingest_warning {
            warnings.push(w.clone());
        }
        warnings.extend(self.odd_names.iter().cloned());
        for fs in [&self.cfg.paths.audio, &self.cfg.paths.state] {
            if let Some(free) = crate::media::ingest::free_space(fs)
                && free < self.cfg.ingest.min_free
            {
                let (mb, min) = (free / 1_000_000, self.cfg.ingest.min_free / 1_000_000);
                let shown = display_path(fs);
                let w = tr!(
                    self.cfg.lang,
                    "Đĩa sắp đầy: {shown} chỉ còn trống {mb} MB (cần ít nhất {min} MB), nên loa không nhận thêm tệp tải lên. Hãy xóa bớt tệp âm thanh cũ.",
                    "the disk is nearly full: only {mb} MB free on {shown} (at least {min} MB needed); uploads are not taken up. Delete old audio files."
                );
                if !warnings.contains(&w) {
                    warnings.push(w);
                }
            }
        }
        if self.cfg.schedule.require_clock_sync && !self.clock_synced {
            warnings.push(tr!(
                self.cfg.lang,
                "Đồng hồ chưa được đồng bộ: loa sẽ không phát gì cho đến khi có giờ đúng. Hãy kiểm tra kết nối mạng (NTP).",
                "The clock is not synchronised: nothing airs until it is. Check the network (NTP)."
            ));
        }
        Status {
            now: rfc3339(now, tz),
            timezone: self.cfg.timezone_name.clone(),
            playing: live.playing.clone(),
            warming_up: live.warming_up.clone(),
            next,
            relay: RelayState {
                on: self.relay.is_on(),
                since: Some(rfc3339(self.relay.since(), tz)),
                backend: self.cfg.relay.backend.name().to_string(),
            },
            clock_synced: self.clock_synced,
            audio_device: self.cfg.audio.device.clone(),
            last_error: live.last_error.as_ref().map(|e| e.message.clone()),
            last_error_at: live.last_error.as_ref().map(|e| rfc3339(e.at, tz)),
            plan_error: self.plan_error.clone(),
            playlist: self
                .plan
                .as_ref()
                .and_then(|p| p.source.as_deref())
                .map(display_path),
            today,
            queued: self.queue.clone(),
            warnings,
        }
    }
}

/// One word for a broadcast's outcome from its items' statuses.
fn summarize(statuses: &[RowStatus]) -> &'static str {
    let played = statuses.iter().filter(|s| **s == RowStatus::Played).count();
    if statuses.is_empty() {
        "pending"
    } else if statuses.iter().all(|s| *s == RowStatus::Missed) {
        "missed"
    } else if played == statuses.len() {
        "aired"
    } else if played > 0 {
        "partial"
    } else if statuses.iter().all(|s| *s == RowStatus::Skipped) {
        "skipped"
    } else {
        "failed"
    }
}

/// Where the daemon's files are, for messages.
pub fn socket_path(cfg: &Config) -> PathBuf {
    cfg.control.socket.clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asrun::{AsRun, Status as RowStatus};
    use crate::config::Config;
    use crate::relay::Edge;
    use crate::testing::{FakeOutput, FakeRelay, TokioClock};
    use std::path::Path;

    /// The shipped config and samples, with a private state folder.
    fn shipped(state: &Path) -> Config {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut cfg = Config::load(&root.join("config/loa.toml")).unwrap();
        cfg.paths.state = state.to_path_buf();
        cfg.control.socket = state.join("loa.sock");
        cfg
    }

    struct Rig {
        clock: Arc<TokioClock>,
        asrun: Arc<Mutex<AsRun>>,
        edges: Arc<Mutex<Vec<Edge>>>,
        requests: mpsc::Sender<(Request, oneshot::Sender<Response>)>,
        changes: mpsc::UnboundedSender<Change>,
        stop: watch::Sender<bool>,
        task: tokio::task::JoinHandle<anyhow::Result<()>>,
        warm_up: Duration,
        hold: Duration,
    }

    fn start(cfg: Config, start_at: &str, asrun: Arc<Mutex<AsRun>>) -> Rig {
        let clock = TokioClock::new(start_at.parse().unwrap());
        let fake = FakeRelay::new();
        let relay = RelayGuard::new(fake.boxed(), cfg.relay.max_on, clock.clone()).unwrap();
        let edges: Arc<Mutex<Vec<Edge>>> = Arc::default();
        let e = edges.clone();
        relay.on_edge(move |edge| e.lock().unwrap().push(edge.clone()));
        let (req_tx, req_rx) = mpsc::channel(4);
        let (ch_tx, ch_rx) = mpsc::unbounded_channel();
        let (stop_tx, stop_rx) = watch::channel(false);
        let c2 = clock.clone();
        let deps = Deps {
            clock: clock.clone(),
            relay,
            output: Arc::new(FakeOutput::new(1.0)),
            shutdown: Shutdown::new(),
            asrun: asrun.clone(),
            clock_synced: Arc::new(move || c2.synced()),
            requests: req_rx,
            changes: ch_rx,
            ready: Box::new(|| {}),
            alive: Box::new(|| {}),
            turn_every: None,
            status_note: false,
        };
        let (warm_up, hold) = (cfg.relay.warm_up, cfg.relay.hold);
        let task = tokio::spawn(run(cfg, deps, stop_rx));
        Rig {
            warm_up,
            hold,
            clock,
            asrun,
            edges,
            requests: req_tx,
            changes: ch_tx,
            stop: stop_tx,
            task,
        }
    }

    impl Rig {
        /// Lets tokio time run until the wall clock reaches `t`.
        async fn until(&self, t: &str) {
            let t: Timestamp = t.parse().unwrap();
            loop {
                let now = self.clock.now();
                if now >= t {
                    break;
                }
                let d = (t.as_millisecond() - now.as_millisecond()).min(3_600_000);
                tokio::time::sleep(Duration::from_millis(d as u64)).await;
            }
        }

        async fn ask(&self, req: Request) -> Response {
            let (tx, rx) = oneshot::channel();
            self.requests.send((req, tx)).await.unwrap();
            rx.await.unwrap()
        }

        /// Stops the service; the as-run rows. Every test checks, here,
        /// that the relay was on only around what aired, and is off.
        async fn finish(self) -> Vec<crate::asrun::Row> {
            let _ = self.stop.send(true);
            self.task.await.unwrap().unwrap();
            let rows = {
                let a = self.asrun.lock().unwrap();
                a.rows(jiff::civil::date(2020, 1, 1), jiff::civil::date(2030, 1, 1))
                    .unwrap()
            };
            let edges = self.edges.lock().unwrap().clone();
            relay_only_around_airing(&edges, &rows, self.warm_up, self.hold);
            rows
        }
    }

    /// The relay's safety rule, seen from outside: every time it was on,
    /// something aired, it went on at most the warm-up before the first
    /// item started and off at most the hold after the last one ended; and
    /// it ends off.
    fn relay_only_around_airing(
        edges: &[Edge],
        rows: &[crate::asrun::Row],
        warm_up: Duration,
        hold: Duration,
    ) {
        const SLACK_MS: i64 = 300;
        assert!(
            edges.last().is_none_or(|e| !e.on),
            "the relay was left on: {edges:?}"
        );
        let mut on_at = None;
        for e in edges {
            match (e.on, on_at) {
                (true, None) => on_at = Some(e.at),
                (false, Some(on)) => {
                    on_at = None;
                    let off = e.at;
                    let aired: Vec<_> = rows
                        .iter()
                        .filter_map(|r| {
                            let started = r.record.started?;
                            (started >= on && started <= off)
                                .then(|| (started, r.record.ended.unwrap_or(started)))
                        })
                        .collect();
                    let first = aired.iter().map(|a| a.0).min();
                    let last = aired.iter().map(|a| a.1).max();
                    let (Some(first), Some(last)) = (first, last) else {
                        panic!("the relay was on {on} .. {off} and nothing aired");
                    };
                    assert!(
                        on.as_millisecond()
                            >= first.as_millisecond() - warm_up.as_millis() as i64 - SLACK_MS,
                        "relay on at {on}, more than the warm-up before {first}"
                    );
                    assert!(
                        off.as_millisecond()
                            <= last.as_millisecond() + hold.as_millis() as i64 + SLACK_MS,
                        "relay off at {off}, more than the hold after {last}"
                    );
                }
                _ => panic!("two edges the same way in a row: {edges:?}"),
            }
        }
    }

    fn plans(cfg: &Config, from: Date, days: usize) -> Vec<DayPlan> {
        let set = playlist::load_dir(&cfg.paths.playlists, cfg.lang);
        let library = Library::scan(&cfg.paths.audio).unwrap();
        let index = MediaIndex::in_memory();
        let facts = crate::media::Facts::new(&library, &index, cfg.lang);
        let settings = PlanSettings::from_config(cfg);
        from.series(jiff::Span::new().days(1))
            .take(days)
            .map(|d| plan_for(d, &set, &facts, &settings))
            .collect()
    }

    // Issue 4: a week of the sample playlists in paused time: every item
    // airs once, in order, at its planned time; the relay is never on
    // outside a broadcast's window; midnight rolls over.
    #[tokio::test(start_paused = true)]
    async fn a_week_of_the_samples_airs_every_item_once_at_its_time() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = shipped(dir.path());
        let expected = plans(&cfg, jiff::civil::date(2026, 1, 17), 7);
        let wall = std::time::Instant::now();
        let rig = start(
            cfg.clone(),
            "2026-01-17T00:00:00+07:00",
            Arc::new(Mutex::new(AsRun::in_memory())),
        );
        rig.until("2026-01-24T00:00:00+07:00").await;
        let edges = rig.edges.lock().unwrap().clone();
        let rows = rig.finish().await;
        // Wall time is reported, not asserted: a busy machine would make a
        // timed test flaky. Paused tokio time is what makes a week fast.
        eprintln!(
            "a week of broadcasts took {:?} of wall time",
            wall.elapsed()
        );

        let planned: Vec<(&str, Timestamp)> = expected
            .iter()
            .flat_map(|p| p.broadcasts.iter())
            .flat_map(|b| b.items.iter())
            .map(|i| (i.file.as_str(), i.start))
            .collect();
        assert!(planned.len() > 40, "{}", planned.len());
        assert_eq!(rows.len(), planned.len(), "one row per planned item");
        for (row, (file, start)) in rows.iter().zip(&planned) {
            let r = &row.record;
            assert_eq!(r.status, RowStatus::Played, "{r:?}");
            assert_eq!(r.file, *file);
            let started = r.started.unwrap();
            let off = (started.as_millisecond() - start.as_millisecond()).abs();
            assert!(
                off <= 200,
                "{file} started {off} ms off its plan ({started} vs {start})"
            );
        }
        // The relay: on only inside [relay_on, relay_off] of some broadcast.
        let windows: Vec<(Timestamp, Timestamp)> = expected
            .iter()
            .flat_map(|p| p.broadcasts.iter())
            .map(|b| (b.relay_on, b.relay_off))
            .collect();
        let ons: Vec<&Edge> = edges.iter().filter(|e| e.on).collect();
        assert_eq!(ons.len(), windows.len(), "one relay-on per broadcast");
        for pair in edges.windows(2) {
            if pair[0].on {
                let (on, off) = (pair[0].at, pair[1].at);
                assert!(!pair[1].on);
                assert!(
                    windows
                        .iter()
                        .any(|(a, b)| on.as_millisecond() >= a.as_millisecond() - 200
                            && off.as_millisecond() <= b.as_millisecond() + 300),
                    "relay on {on} .. {off} outside every broadcast window"
                );
            }
        }
    }

    // Issue 4: a restart mid-day: late within the grace, missed past it,
    // never twice.
    #[tokio::test(start_paused = true)]
    async fn a_restart_airs_late_records_missed_and_never_repeats() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = shipped(dir.path());
        let asrun = Arc::new(Mutex::new(AsRun::open(dir.path()).unwrap()));
        // Starts 5 minutes after the 05:30 broadcast: it airs late.
        let rig = start(cfg.clone(), "2026-01-20T05:35:00+07:00", asrun.clone());
        rig.until("2026-01-20T06:00:00+07:00").await;
        let rows = rig.finish().await;
        assert!(!rows.is_empty());
        assert!(
            rows.iter()
                .all(|r| r.record.late && r.record.status == RowStatus::Played)
        );
        let first = rows[0].record.started.unwrap();
        assert!(first >= "2026-01-20T05:35:00+07:00".parse().unwrap());
        let n = rows.len();
        // Restart again the same morning: already aired, nothing more.
        let rig = start(cfg.clone(), "2026-01-20T05:39:00+07:00", asrun.clone());
        rig.until("2026-01-20T07:00:00+07:00").await;
        assert_eq!(rig.finish().await.len(), n, "aired twice after a restart");
        // Restart in the evening, 20 minutes late: missed, not aired.
        let rig = start(cfg.clone(), "2026-01-20T17:20:00+07:00", asrun.clone());
        rig.until("2026-01-20T18:00:00+07:00").await;
        let rows = rig.finish().await;
        let evening: Vec<_> = rows
            .iter()
            .filter(|r| r.record.broadcast_key.contains("17:00"))
            .collect();
        assert!(!evening.is_empty());
        assert!(
            evening
                .iter()
                .all(|r| r.record.status == RowStatus::Missed && r.record.started.is_none())
        );
    }

    // Issue 4: nothing airs while the clock is unsynchronised; once it is,
    // the late-grace rule decides.
    #[tokio::test(start_paused = true)]
    async fn an_unsynced_clock_holds_broadcasts() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = shipped(dir.path());
        let rig = start(
            cfg,
            "2026-01-20T05:00:00+07:00",
            Arc::new(Mutex::new(AsRun::in_memory())),
        );
        rig.clock.set_synced(false);
        rig.until("2026-01-20T05:35:00+07:00").await;
        let st = rig.ask(Request::Status).await.status.unwrap();
        assert!(!st.clock_synced);
        assert!(!st.warnings.is_empty());
        assert!(
            rig.asrun
                .lock()
                .unwrap()
                .rows(
                    jiff::civil::date(2026, 1, 20),
                    jiff::civil::date(2026, 1, 20)
                )
                .unwrap()
                .is_empty()
        );
        rig.clock.set_synced(true);
        rig.until("2026-01-20T06:00:00+07:00").await;
        let rows = rig.finish().await;
        assert!(
            !rows.is_empty()
                && rows
                    .iter()
                    .all(|r| r.record.late && r.record.status == RowStatus::Played)
        );
    }

    // `loa status` late in the evening, today's broadcasts over: the next
    // one is tomorrow's first, with its date.
    #[tokio::test(start_paused = true)]
    async fn status_names_tomorrows_first_broadcast_once_today_is_over() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = shipped(dir.path());
        let tomorrow = plans(&cfg, jiff::civil::date(2026, 1, 21), 1).remove(0);
        let first = tomorrow.broadcasts[0].clone();
        let rig = start(
            cfg.clone(),
            "2026-01-20T23:30:00+07:00",
            Arc::new(Mutex::new(AsRun::in_memory())),
        );
        rig.until("2026-01-20T23:31:00+07:00").await;
        let st = rig.ask(Request::Status).await.status.unwrap();
        let next = st.next.expect("tomorrow's first broadcast as next");
        assert_eq!(next.title, first.title);
        assert_eq!(next.at, rfc3339(first.at, &cfg.tz));
        assert!(next.at.starts_with("2026-01-21T"), "{}", next.at);
        assert_eq!(next.relay_on, rfc3339(first.relay_on, &cfg.tz));
        // Every broadcast listed for today is today's.
        assert!(st.today.iter().all(|b| b.at.starts_with("2026-01-20T")));
        rig.finish().await;
    }

    // Issue 4: the Pi's stale boot clock: a jump of +3 months, +1 day and
    // -1 hour never airs a burst of past broadcasts nor one twice.
    #[tokio::test(start_paused = true)]
    async fn clock_jumps_neither_burst_nor_repeat() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = shipped(dir.path());
        let rig = start(
            cfg,
            "2025-10-20T05:00:00+07:00",
            Arc::new(Mutex::new(AsRun::in_memory())),
        );
        rig.until("2025-10-20T05:40:00+07:00").await;
        // +3 months, to 2026-01-20 12:40: the morning is long past.
        rig.clock.jump(92 * 24 * 3600 * 1000);
        tokio::time::sleep(Duration::from_secs(60)).await;
        // -1 hour: the evening must still air once.
        rig.clock.jump(-3600 * 1000);
        rig.until("2026-01-20T18:00:00+07:00").await;
        // +1 day.
        rig.clock.jump(24 * 3600 * 1000);
        tokio::time::sleep(Duration::from_secs(120)).await;
        let rows = rig.finish().await;
        let played = |key: &str| {
            rows.iter()
                .filter(|r| {
                    r.record.broadcast_key.contains(key) && r.record.status == RowStatus::Played
                })
                .count()
        };
        assert!(played("2025-10-20 05:30") > 0, "the first morning aired");
        assert_eq!(played("2026-01-20 05:30"), 0, "a burst after the jump");
        assert!(played("2026-01-20 17:00") > 0);
        // Each broadcast's items at most once.
        let mut seen = HashSet::new();
        for r in rows.iter().filter(|r| r.record.status == RowStatus::Played) {
            let started = r.record.started.unwrap().as_millisecond();
            assert!(seen.insert((
                r.record.broadcast_key.clone(),
                r.record.file.clone(),
                started / 60_000
            )));
        }
        let burst = rows
            .iter()
            .filter(|r| r.record.broadcast_key.starts_with("2026-01-21"))
            .filter(|r| r.record.status == RowStatus::Played)
            .count();
        assert_eq!(burst, 0, "the +1 day jump aired the next day's past items");
    }

    // Issue 11: with broadcasts 40, 70, 100 and 130 s ahead, the wall
    // clock jumping 150 s forward made the service air all four back to
    // back at its next wake-up. What fell inside the jump is missed, with
    // the jump as the reason; only the latest one still within its grace
    // airs, once; the amplifier goes on once.
    #[tokio::test(start_paused = true)]
    async fn a_forward_jump_misses_what_it_skipped_and_airs_at_most_one() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = with_own_playlists(dir.path());
        std::fs::write(
            cfg.paths.playlists.join("2026-01-20.toml"),
            broadcasts(&["10:00:40", "10:01:10", "10:01:40", "10:02:10"]),
        )
        .unwrap();
        let rig = start(
            cfg,
            "2026-01-20T10:00:00+07:00",
            Arc::new(Mutex::new(AsRun::in_memory())),
        );
        rig.until("2026-01-20T10:00:05+07:00").await;
        rig.clock.jump(150 * 1000);
        tokio::time::sleep(Duration::from_secs(60)).await;
        let edges = rig.edges.lock().unwrap().clone();
        let rows = rig.finish().await;
        let status = |at: &str| -> Vec<RowStatus> {
            rows.iter()
                .filter(|r| r.record.broadcast_key.contains(at))
                .map(|r| r.record.status)
                .collect()
        };
        for at in ["10:00:40", "10:01:10", "10:01:40"] {
            assert_eq!(status(at), [RowStatus::Missed], "{at}: {rows:#?}");
        }
        let missed = rows
            .iter()
            .find(|r| r.record.status == RowStatus::Missed)
            .unwrap();
        assert!(
            missed
                .record
                .error
                .as_deref()
                .is_some_and(|e| e.contains("nhảy tới trước 2 phút 30 giây")),
            "{missed:#?}"
        );
        assert_eq!(status("10:02:10"), [RowStatus::Played], "{rows:#?}");
        let ons = edges.iter().filter(|e| e.on).count();
        assert_eq!(ons, 1, "the amplifier went on {ons} times: {edges:#?}");
    }

    // Issue 11: an error while re-planning (a folder that cannot be read
    // for a moment: out of descriptors, a disk error) never drops the last
    // good plan; status says what is wrong, and it is tried again.
    #[tokio::test(start_paused = true)]
    async fn a_folder_that_cannot_be_read_keeps_the_last_good_plan() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = with_own_playlists(dir.path());
        let playlists = cfg.paths.playlists.clone();
        std::fs::write(playlists.join("2026-01-20.toml"), broadcasts(&["11:00:00"])).unwrap();
        let rig = start(
            cfg,
            "2026-01-20T10:00:00+07:00",
            Arc::new(Mutex::new(AsRun::in_memory())),
        );
        rig.until("2026-01-20T10:01:00+07:00").await;
        let away = playlists.with_extension("away");
        std::fs::rename(&playlists, &away).unwrap();
        rig.changes.send(Change::default()).unwrap();
        rig.until("2026-01-20T10:05:00+07:00").await;
        let st = rig.ask(Request::Status).await.status.unwrap();
        assert!(st.plan_error.is_some(), "{st:?}");
        assert_eq!(st.today.len(), 1, "the plan is kept: {st:?}");
        rig.until("2026-01-20T11:02:00+07:00").await;
        std::fs::rename(&away, &playlists).unwrap();
        let rows = rig.finish().await;
        assert!(
            rows.iter()
                .any(|r| r.record.broadcast_key.contains("11:00:00")
                    && r.record.status == RowStatus::Played),
            "{rows:#?}"
        );
    }

    /// A playlist of one-item broadcasts at these times.
    fn broadcasts(times: &[&str]) -> String {
        times
            .iter()
            .map(|t| format!("[[broadcast]]\nat = \"{t}\"\nitems = [\"nhac-hieu.mp3\"]\n\n"))
            .collect()
    }

    // Issue 4: an emergency during a broadcast and during silence; a
    // priority queue; stop and skip.
    #[tokio::test(start_paused = true)]
    async fn priorities_emergency_queue_stop_skip() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = shipped(dir.path());
        let rig = start(
            cfg,
            "2026-01-20T05:20:00+07:00",
            Arc::new(Mutex::new(AsRun::in_memory())),
        );
        // Queue a file for the 05:30 broadcast.
        assert!(
            rig.ask(Request::Queue {
                files: vec!["ket-thuc.mp3".into()]
            })
            .await
            .ok
        );
        // An emergency in silence: warm-up then the file.
        rig.ask(Request::Now {
            files: vec!["thong-bao-chung.mp3".into()],
        })
        .await;
        rig.until("2026-01-20T05:25:00+07:00").await;
        // During the 05:30 broadcast: an emergency preempts it.
        rig.until("2026-01-20T05:30:10+07:00").await;
        rig.ask(Request::Now {
            files: vec!["nhac-hieu.mp3".into()],
        })
        .await;
        rig.until("2026-01-20T05:35:00+07:00").await;
        let edges = rig.edges.lock().unwrap().clone();
        let rows = rig.finish().await;
        let prio: Vec<_> = rows
            .iter()
            .map(|r| (r.record.file.as_str(), r.record.priority, r.record.status))
            .collect();
        use crate::asrun::Priority as P;
        assert_eq!(
            prio[0],
            ("thong-bao-chung.mp3", P::Emergency, RowStatus::Played),
            "{prio:?}"
        );
        assert_eq!(
            prio[1],
            ("ket-thuc.mp3", P::Priority, RowStatus::Played),
            "{prio:?}"
        );
        assert!(
            prio.iter()
                .any(|p| p.2 == RowStatus::Interrupted && p.1 == P::Normal),
            "{prio:?}"
        );
        assert!(
            prio.contains(&("nhac-hieu.mp3", P::Emergency, RowStatus::Played)),
            "{prio:?}"
        );
        // The emergency during the broadcast needed no second warm-up: the
        // relay stayed on (one on-edge for the broadcast and its emergency).
        let ons = edges.iter().filter(|e| e.on).count();
        assert_eq!(ons, 2, "{edges:?}");
    }

    /// The shipped config with a private copy of the playlists.
    fn with_own_playlists(state: &Path) -> Config {
        let mut cfg = shipped(state);
        let pl = state.join("playlists");
        std::fs::create_dir_all(&pl).unwrap();
        for e in std::fs::read_dir(&cfg.paths.playlists).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), pl.join(e.file_name())).unwrap();
        }
        cfg.paths.playlists = pl;
        cfg
    }

    // Issue 4: a dated file appearing mid-day takes effect; a later broken
    // edit of it keeps the last good plan and says so in the status.
    #[tokio::test(start_paused = true)]
    async fn a_dated_file_mid_day_and_a_broken_edit() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = with_own_playlists(dir.path());
        let dated = cfg.paths.playlists.join("2026-01-20.toml");
        let rig = start(
            cfg,
            "2026-01-20T10:00:00+07:00",
            Arc::new(Mutex::new(AsRun::in_memory())),
        );
        rig.until("2026-01-20T10:01:00+07:00").await;
        std::fs::write(
            &dated,
            "[[broadcast]]\nat = \"11:00\"\ntitle = \"Đặc biệt\"\nitems = [\"nhac-hieu.mp3\"]\n\n[[broadcast]]\nat = \"12:00\"\ntitle = \"Trưa\"\nitems = [\"ket-thuc.mp3\"]\n",
        )
        .unwrap();
        rig.changes.send(Change::default()).unwrap();
        rig.until("2026-01-20T11:30:00+07:00").await;
        // A broken edit: the 12:00 broadcast must still air from the last
        // good plan.
        std::fs::write(&dated, "[[broadcast]\nat = \"12:00\"\n").unwrap();
        rig.changes.send(Change::default()).unwrap();
        rig.until("2026-01-20T11:40:00+07:00").await;
        let st = rig.ask(Request::Status).await.status.unwrap();
        assert!(
            st.plan_error
                .as_deref()
                .is_some_and(|e| e.contains("2026-01-20.toml")),
            "{st:?}"
        );
        rig.until("2026-01-20T12:10:00+07:00").await;
        let rows = rig.finish().await;
        // The 05:30 broadcast was long past at start: missed.
        let rows: Vec<_> = rows
            .into_iter()
            .filter(|r| r.record.status != RowStatus::Missed)
            .collect();
        let titles: Vec<_> = rows
            .iter()
            .map(|r| r.record.broadcast.clone().unwrap_or_default())
            .collect();
        assert_eq!(titles, ["Đặc biệt", "Trưa"], "{rows:?}");
        assert!(
            rows.iter()
                .all(|r| r.record.status == RowStatus::Played && !r.record.late)
        );
    }

    // Issue 4: a broadcast that overruns into the next one's relay-on: the
    // next starts right after it, the relay staying on, recorded as late.
    #[tokio::test(start_paused = true)]
    async fn an_overrun_runs_the_next_broadcast_with_the_relay_on() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = with_own_playlists(dir.path());
        std::fs::write(
            cfg.paths.playlists.join("2026-01-20.toml"),
            "[[broadcast]]\nat = \"10:00\"\ntitle = \"A\"\nitems = [\"thong-bao-chung.mp3\"]\nrepeat = 3\n\n[[broadcast]]\nat = \"10:00:20\"\ntitle = \"B\"\nitems = [\"nhac-hieu.mp3\"]\n",
        )
        .unwrap();
        let rig = start(
            cfg,
            "2026-01-20T09:59:00+07:00",
            Arc::new(Mutex::new(AsRun::in_memory())),
        );
        rig.until("2026-01-20T10:05:00+07:00").await;
        let edges = rig.edges.lock().unwrap().clone();
        let rows = rig.finish().await;
        let b: Vec<_> = rows
            .iter()
            .filter(|r| r.record.broadcast.as_deref() == Some("B"))
            .collect();
        assert_eq!(b.len(), 1, "{rows:?}");
        assert_eq!(b[0].record.status, RowStatus::Played);
        assert!(b[0].record.late);
        let a_end = rows
            .iter()
            .filter(|r| r.record.broadcast.as_deref() == Some("A"))
            .filter_map(|r| r.record.ended)
            .max()
            .unwrap();
        assert!(b[0].record.started.unwrap() >= a_end);
        assert_eq!(
            edges.iter().filter(|e| e.on).count(),
            1,
            "the relay went off between them: {edges:?}"
        );
    }
}
