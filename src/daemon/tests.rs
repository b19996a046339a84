//! The service in paused tokio time, through the real airing sequence and
//! the fakes of each seam: weeks, restarts, clock jumps, emergencies.

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
    cfg.archive.folder = state.join("archive");
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
        district: Default::default(),
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

// Issue 13: at local midnight, recordings older than `keep` are deleted
// (and only those); the status says so.
#[tokio::test(start_paused = true)]
async fn at_midnight_recordings_older_than_keep_are_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = shipped(dir.path());
    cfg.archive.keep = Duration::from_secs(2 * 86_400);
    cfg.ingest.min_free = 0;
    let folder = cfg.archive.folder.clone();
    let put = |rel: &str| {
        let p = folder.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, b"mp3").unwrap();
        p
    };
    // Two days and a minute old at midnight; younger than two days now.
    let old = put("2026-01-18/235930-old.mp3");
    let young = put("2026-01-19/053000-young.mp3");
    let rig = start(
        cfg,
        "2026-01-20T23:59:00+07:00",
        Arc::new(Mutex::new(AsRun::in_memory())),
    );
    rig.until("2026-01-20T23:59:50+07:00").await;
    assert!(old.exists(), "deleted before midnight");
    rig.until("2026-01-21T00:00:30+07:00").await;
    assert!(!old.exists(), "not deleted at midnight");
    assert!(young.exists());
    let st = rig.ask(Request::Status).await.status.unwrap();
    let line = st.archive.unwrap();
    assert!(line.starts_with("1 bản ghi"), "{line}");
    assert!(line.contains("quá thời gian lưu"), "{line}");
    rig.finish().await;
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
            files: vec!["ket-thuc.mp3".into()],
            zones: vec![],
        })
        .await
        .ok
    );
    // An emergency in silence: warm-up then the file.
    rig.ask(Request::Now {
        files: vec!["thong-bao-chung.mp3".into()],
        slot: None,
        zones: vec![],
        origin: None,
    })
    .await;
    rig.until("2026-01-20T05:25:00+07:00").await;
    // During the 05:30 broadcast: an emergency preempts it.
    rig.until("2026-01-20T05:30:10+07:00").await;
    rig.ask(Request::Now {
        files: vec!["nhac-hieu.mp3".into()],
        slot: None,
        zones: vec![],
        origin: None,
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
