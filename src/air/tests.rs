//! The real sequence, driven through the fakes of each seam in paused tokio
//! time: the relay's edges, the device's steps and their times are exact,
//! whatever the machine's load.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use tokio::time::Instant;

use super::*;
use crate::lang::Lang;
use crate::media::MediaPath;
use crate::player::AudioError;
use crate::relay::{Edge, RelayGuard};
use crate::schedule::clock::{Clock, SystemClock};
use crate::schedule::timeline::{Timeline, Timing};
use crate::shutdown::Shutdown;
use crate::testing::{FakeOutput, FakeRelay, SinkEvent, TokioClock};

const BASE: &str = "2026-01-20T05:59:00+07:00";

fn items(names: &[&str]) -> Vec<AirItem> {
    names
        .iter()
        .map(|n| AirItem {
            name: n.to_string(),
            source: Ok(crate::player::Source::File(MediaPath::Given(
                PathBuf::from(n),
            ))),
            gain_db: 0.0,
            duration: Some(Duration::from_secs(10)),
            sha256: None,
            sample_rate: None,
            zones: Vec::new(),
            speech: false,
        })
        .collect()
}

fn timing(warm_up_ms: u64, hold_ms: u64) -> Timing {
    Timing {
        warm_up: Duration::from_millis(warm_up_ms),
        gap: Duration::from_millis(2000),
        hold: Duration::from_millis(hold_ms),
    }
}

/// The relay's edges with their times, as the as-run log gets them.
struct Rig {
    fake: FakeRelay,
    guard: RelayGuard,
    clock: Arc<dyn Clock>,
    edges: Arc<Mutex<Vec<Edge>>>,
}

fn rig(max_on: Duration, clock: Arc<dyn Clock>) -> Rig {
    let fake = FakeRelay::new();
    let guard = RelayGuard::new(fake.boxed(), max_on, clock.clone()).unwrap();
    let edges: Arc<Mutex<Vec<Edge>>> = Arc::default();
    let e = edges.clone();
    guard.on_edge(move |edge| e.lock().unwrap().push(edge.clone()));
    Rig {
        fake,
        guard,
        clock,
        edges,
    }
}

fn paused_rig() -> Rig {
    rig(
        Duration::from_secs(3600),
        TokioClock::new(BASE.parse().unwrap()),
    )
}

impl Rig {
    /// The levels the relay went through, repeats collapsed (dropping the
    /// guard switches off once more, which changes nothing).
    fn levels(&self) -> Vec<bool> {
        let mut v = self.fake.calls();
        v.dedup();
        v
    }

    fn edges(&self) -> Vec<(bool, Timestamp)> {
        self.edges
            .lock()
            .unwrap()
            .iter()
            .map(|e| (e.on, e.at))
            .collect()
    }

    /// A job whose relay goes on `in_ms` from now.
    fn job(&self, list: Vec<AirItem>, in_ms: i64, t: Timing) -> Job {
        let on = Timestamp::from_millisecond(self.clock.now().as_millisecond() + in_ms).unwrap();
        let durations: Vec<Duration> = list.iter().map(|i| i.duration.unwrap()).collect();
        Job {
            timeline: Timeline::from_relay_on(on, &durations, t),
            items: list,
            fade: Duration::from_millis(20),
            lang: Lang::En,
            commands: None,
            keep_on: None,
        }
    }

    fn seams(&self, out: &FakeOutput, shutdown: &Shutdown) -> Seams {
        Seams {
            relay: Some(self.guard.clone()),
            output: Arc::new(out.clone()),
            clock: self.clock.clone(),
            shutdown: shutdown.clone(),
        }
    }
}

/// Records what the sequence reports, with the tokio instant.
#[derive(Default)]
struct Log {
    relay: Vec<(bool, Instant)>,
    started: Vec<(usize, Timestamp)>,
    ended: Vec<(usize, Outcome)>,
    device_errors: usize,
}

impl AirEvents for Log {
    fn relay(&mut self, on: bool, _at: Timestamp) {
        self.relay.push((on, Instant::now()));
    }
    fn item_started(&mut self, index: usize, _item: &AirItem, at: Timestamp) {
        self.started.push((index, at));
    }
    fn item_ended(&mut self, index: usize, _item: &AirItem, r: &ItemReport) {
        self.ended.push((index, r.outcome.clone()));
    }
    fn device_error(&mut self, _e: &AudioError) {
        self.device_errors += 1;
    }
}

async fn run(rig: &Rig, job: Job, out: &FakeOutput, shutdown: &Shutdown) -> (AirReport, Log) {
    let mut log = Log::default();
    let r = air(job, rig.seams(out, shutdown), &mut log).await;
    (r, log)
}

fn ms_between(a: Timestamp, b: Timestamp) -> i64 {
    b.as_millisecond() - a.as_millisecond()
}

// Issue 12: the timing rule lives in the planner's timeline, and the real
// sequence follows it: relay on at its time, first item after the warm-up,
// gaps, hold, relay off; never on outside [relay_on, relay_off].
#[tokio::test(start_paused = true)]
async fn relay_on_warm_up_items_with_gaps_hold_relay_off() {
    let rig = paused_rig();
    let out = FakeOutput::new(1.0);
    let job = rig.job(items(&["a", "b", "c"]), 1000, timing(3000, 2000));
    let tl = job.timeline.clone();
    let (r, log) = run(&rig, job, &out, &Shutdown::new()).await;
    assert!(r.all_played(), "{r:?}");
    // Off at start-up, on, off: nothing else.
    assert_eq!(rig.levels(), vec![false, true, false]);
    let edges = rig.edges();
    assert_eq!(edges.len(), 2, "{edges:?}");
    let (on, off) = (edges[0].1, edges[1].1);
    // The relay goes on at the planned time, and off after the hold once
    // the last item ended; never outside the planned window.
    assert!(
        ms_between(tl.relay_on, on).abs() <= 50,
        "{on} vs {}",
        tl.relay_on
    );
    assert!(on >= tl.relay_on);
    assert!(
        ms_between(off, tl.relay_off).abs() <= 100,
        "{off} vs {}",
        tl.relay_off
    );
    // Each item starts at its planned time.
    assert_eq!(log.started.len(), 3);
    for ((i, at), planned) in log.started.iter().zip(&tl.starts) {
        assert!(
            ms_between(*planned, *at).abs() <= 20,
            "item {i} started {at}, planned {planned}"
        );
    }
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
    // The items are queued (opened, decoding) during the warm-up, and the
    // device is started once it is over, once.
    let relay_on = log.relay[0].1;
    let queued_a = out
        .when(&SinkEvent::Queued {
            name: "a".into(),
            gap: Duration::ZERO,
        })
        .unwrap();
    let began = out.when(&SinkEvent::Began).unwrap();
    assert!(queued_a.duration_since(relay_on) < Duration::from_millis(50));
    assert!(began.duration_since(relay_on) >= Duration::from_millis(3000));
    assert_eq!(ev.iter().filter(|e| **e == SinkEvent::Began).count(), 1);
    // The hold passes between the device closing and relay off.
    let closed = out.when(&SinkEvent::Closed).unwrap();
    let relay_off = log.relay[1].1;
    assert!(relay_off.duration_since(closed) >= Duration::from_millis(2000));
    assert!(!rig.fake.is_on());
}

#[tokio::test(start_paused = true)]
async fn an_item_that_does_not_open_is_skipped_and_the_others_play() {
    let rig = paused_rig();
    let out = FakeOutput::new(1.0).unplayable("b");
    let job = rig.job(items(&["a", "b", "c"]), 0, timing(0, 0));
    let (r, log) = run(&rig, job, &out, &Shutdown::new()).await;
    assert_eq!(r.items[0].outcome, Outcome::Played);
    assert!(matches!(&r.items[1].outcome, Outcome::Failed(m) if m.contains("b cannot be played")));
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
    assert_eq!(rig.levels(), vec![false, true, false]);
}

#[tokio::test(start_paused = true)]
async fn a_file_missing_before_airing_is_reported_in_its_turn() {
    let rig = paused_rig();
    let out = FakeOutput::new(1.0);
    let mut list = items(&["a", "b"]);
    list[1].source = Err("no file b".into());
    let job = rig.job(list, 0, timing(0, 0));
    let (r, log) = run(&rig, job, &out, &Shutdown::new()).await;
    assert_eq!(r.items[1].outcome, Outcome::Failed("no file b".into()));
    assert_eq!(
        log.ended.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        [0, 1]
    );
    assert!(!rig.fake.is_on());
}

#[tokio::test(start_paused = true)]
async fn the_device_failing_mid_broadcast_switches_the_relay_off() {
    let rig = paused_rig();
    let out = FakeOutput::new(1.0).fail_after(1);
    let job = rig.job(items(&["a", "b", "c"]), 0, timing(0, 5000));
    let (r, log) = run(&rig, job, &out, &Shutdown::new()).await;
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
    // No hold after a device failure: the relay goes off as soon as the
    // failure is seen (the first item's end, plus the gap it was in).
    assert_eq!(rig.levels(), vec![false, true, false]);
    let edges = rig.edges();
    let on_for = ms_between(edges[0].1, edges[1].1);
    assert!((10_000..12_500).contains(&on_for), "on for {on_for} ms");
}

#[tokio::test(start_paused = true)]
async fn no_device_means_the_relay_never_goes_on() {
    let rig = paused_rig();
    let out = FakeOutput::new(1.0).missing(AudioError::NoDevice);
    let job = rig.job(items(&["a", "b"]), 0, timing(0, 0));
    let (r, log) = run(&rig, job, &out, &Shutdown::new()).await;
    assert!(matches!(r.device_error, Some(AudioError::NoDevice)));
    assert_eq!(rig.levels(), vec![false]);
    assert!(log.relay.is_empty());
    assert!(
        r.items
            .iter()
            .all(|i| matches!(&i.outcome, Outcome::Failed(m) if m.contains("no audio device")))
    );
}

#[tokio::test(start_paused = true)]
async fn nothing_playable_means_the_relay_never_goes_on() {
    let rig = paused_rig();
    let out = FakeOutput::new(1.0).unplayable("a").unplayable("b");
    let job = rig.job(items(&["a", "b"]), 0, timing(0, 0));
    let (r, _) = run(&rig, job, &out, &Shutdown::new()).await;
    assert!(r.nothing_playable);
    assert_eq!(rig.levels(), vec![false]);
    assert!(!out.events().contains(&SinkEvent::Opened));
}

#[tokio::test(start_paused = true)]
async fn a_shutdown_mid_item_switches_off_within_a_second() {
    let rig = paused_rig();
    let out = FakeOutput::new(1.0);
    let shutdown = Shutdown::new();
    let s2 = shutdown.clone();
    let sent = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(4000)).await;
        s2.trigger(15);
        Instant::now()
    });
    let job = rig.job(items(&["a", "b"]), 0, timing(0, 2000));
    let (r, log) = run(&rig, job, &out, &shutdown).await;
    let sent = sent.await.unwrap();
    assert!(r.shut_down);
    assert!(
        matches!(&r.items[0].outcome, Outcome::Interrupted(w) if w.contains("loa stopped")),
        "{:?}",
        r.items[0]
    );
    assert!(matches!(r.items[1].outcome, Outcome::NotAired(_)));
    let off = log.relay.last().unwrap();
    assert!(!off.0);
    let took = off.1.duration_since(sent);
    assert!(took < Duration::from_secs(1), "{took:?}");
    assert!(!rig.fake.is_on());
}

#[tokio::test(start_paused = true)]
async fn a_shutdown_during_the_wait_for_relay_on_airs_nothing() {
    let rig = paused_rig();
    let out = FakeOutput::new(1.0);
    let shutdown = Shutdown::new();
    let s2 = shutdown.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        s2.trigger(15);
    });
    let job = rig.job(items(&["a"]), 60_000, timing(0, 0));
    let (r, _) = run(&rig, job, &out, &shutdown).await;
    assert!(r.shut_down);
    assert_eq!(rig.levels(), vec![false]);
    assert!(matches!(&r.items[0].outcome, Outcome::NotAired(w) if w.contains("shutting down")));
}

#[tokio::test(start_paused = true)]
async fn a_relay_that_will_not_switch_on_airs_nothing() {
    let rig = paused_rig();
    rig.fake.fail_with(Some("line busy"));
    let out = FakeOutput::new(1.0);
    let job = rig.job(items(&["a"]), 0, timing(0, 0));
    let (r, _) = run(&rig, job, &out, &Shutdown::new()).await;
    assert!(r.relay_error.is_some());
    assert!(matches!(r.items[0].outcome, Outcome::NotAired(_)));
    assert!(!out.events().contains(&SinkEvent::Opened));
}

// The max-on watchdog is a thread of its own on real time: this test runs
// in real time, with a bound far above what it needs.
#[tokio::test]
async fn the_max_on_watchdog_ends_the_broadcast() {
    let rig = rig(Duration::from_millis(300), Arc::new(SystemClock));
    // Real time, 10 s items: the watchdog cuts at 0.3 s.
    let out = FakeOutput::new(1.0);
    let job = rig.job(items(&["a", "b"]), 0, timing(0, 0));
    let t = std::time::Instant::now();
    let (r, _) = run(&rig, job, &out, &Shutdown::new()).await;
    assert!(t.elapsed() < Duration::from_secs(8), "{:?}", t.elapsed());
    assert!(
        matches!(&r.items[0].outcome, Outcome::Interrupted(w) if w.contains("max-on")),
        "{:?}",
        r.items[0]
    );
    assert!(matches!(&r.items[1].outcome, Outcome::NotAired(w) if w.contains("max-on")));
    assert!(!rig.fake.is_on());
}

#[tokio::test(start_paused = true)]
async fn without_a_relay_only_the_sound_plays() {
    let rig = paused_rig();
    let out = FakeOutput::new(1.0);
    let job = rig.job(items(&["a"]), 0, timing(1000, 1000));
    let mut log = Log::default();
    let mut seams = rig.seams(&out, &Shutdown::new());
    seams.relay = None;
    let r = air(job, seams, &mut log).await;
    assert!(r.all_played());
    assert!(log.relay.is_empty());
    assert_eq!(rig.levels(), vec![false]);
}

/// Sends `cmd` once the `n`th item (from 0) has played `after`.
fn command_at(
    clock: Arc<dyn Clock>,
    tx: tokio::sync::mpsc::UnboundedSender<AirCommand>,
    at: Timestamp,
    cmd: AirCommand,
) {
    tokio::spawn(async move {
        let left = at.as_millisecond() - clock.now().as_millisecond();
        tokio::time::sleep(Duration::from_millis(left.max(0) as u64)).await;
        let _ = tx.send(cmd);
    });
}

#[tokio::test(start_paused = true)]
async fn skip_moves_on_and_stop_ends_with_the_hold() {
    let rig = paused_rig();
    let out = FakeOutput::new(1.0);
    let mut job = rig.job(items(&["a", "b", "c"]), 0, timing(0, 2000));
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    job.commands = Some(rx);
    let starts = job.timeline.starts.clone();
    let plus =
        |t: Timestamp, ms: i64| Timestamp::from_millisecond(t.as_millisecond() + ms).unwrap();
    command_at(
        rig.clock.clone(),
        tx.clone(),
        plus(starts[0], 3000),
        AirCommand::Skip,
    );
    // b starts 2 s (the gap) after a was skipped; stopped 1 s into it.
    command_at(
        rig.clock.clone(),
        tx,
        plus(starts[0], 6000),
        AirCommand::Stop,
    );
    let (r, _) = run(&rig, job, &out, &Shutdown::new()).await;
    assert_eq!(r.items[0].outcome, Outcome::Skipped);
    assert!(matches!(&r.items[1].outcome, Outcome::Interrupted(w) if w.contains("loa stop")));
    assert!(matches!(&r.items[2].outcome, Outcome::NotAired(w) if w.contains("loa stop")));
    assert!(r.stopped);
    // The hold still passes after a stop.
    let edges = rig.edges();
    assert_eq!(edges.len(), 2);
    let on_for = ms_between(edges[0].1, edges[1].1);
    assert!((7_500..9_500).contains(&on_for), "on for {on_for} ms");
}

#[tokio::test(start_paused = true)]
async fn an_emergency_preempts_and_leaves_the_relay_on() {
    let rig = paused_rig();
    let out = FakeOutput::new(1.0);
    let mut job = rig.job(items(&["a", "b"]), 0, timing(0, 2000));
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    job.commands = Some(rx);
    let at = Timestamp::from_millisecond(job.timeline.starts[0].as_millisecond() + 1000).unwrap();
    command_at(rig.clock.clone(), tx, at, AirCommand::Preempt);
    let (r, _) = run(&rig, job, &out, &Shutdown::new()).await;
    assert!(r.preempted && r.kept_on);
    assert!(matches!(&r.items[0].outcome, Outcome::Interrupted(w) if w.contains("emergency")));
    assert!(rig.fake.is_on());
    // The emergency that follows finds the relay on: no second warm-up.
    let job = rig.job(items(&["urgent"]), 0, timing(3000, 0));
    let (r, log) = run(&rig, job, &out, &Shutdown::new()).await;
    assert!(r.all_played());
    assert!(log.relay.iter().all(|(on, _)| !on), "{:?}", log.relay);
    assert!(!rig.fake.is_on());
}

#[tokio::test(start_paused = true)]
async fn keep_on_leaves_the_relay_on_for_the_next_broadcast() {
    let rig = paused_rig();
    let out = FakeOutput::new(1.0);
    let mut job = rig.job(items(&["a"]), 0, timing(0, 2000));
    job.keep_on = Some(Arc::new(|| true));
    let (r, _) = run(&rig, job, &out, &Shutdown::new()).await;
    assert!(r.kept_on);
    assert!(rig.fake.is_on());
}

/// A rig whose guard has three zones; every edge as "LINE on|off" with
/// the tokio instant it was seen at.
/// Every line's edges as "LINE on|off", with when they were seen.
type Lines = Arc<Mutex<Vec<(String, Instant)>>>;

fn zoned_rig() -> (Rig, Lines) {
    let fake = FakeRelay::new();
    let clock: Arc<dyn Clock> = TokioClock::new(BASE.parse().unwrap());
    let zones = (1..=3)
        .map(|i| (format!("thon-{i}"), FakeRelay::new().boxed()))
        .collect();
    let guard = RelayGuard::with_zones(
        fake.boxed(),
        zones,
        Duration::from_secs(3600),
        clock.clone(),
    )
    .unwrap();
    let edges: Arc<Mutex<Vec<Edge>>> = Arc::default();
    let lines: Lines = Arc::default();
    let (e, l) = (edges.clone(), lines.clone());
    guard.on_edge(move |edge| {
        e.lock().unwrap().push(edge.clone());
        let line = edge.zone.clone().unwrap_or_else(|| "amp".into());
        let level = if edge.on { "on" } else { "off" };
        l.lock()
            .unwrap()
            .push((format!("{line} {level}"), Instant::now()));
    });
    let rig = Rig {
        fake,
        guard,
        clock,
        edges,
    };
    (rig, lines)
}

fn names(lines: &Mutex<Vec<(String, Instant)>>) -> Vec<String> {
    lines
        .lock()
        .unwrap()
        .iter()
        .map(|(l, _)| l.clone())
        .collect()
}

fn to_zones(mut list: Vec<AirItem>, zones: &[&str]) -> Vec<AirItem> {
    let zones: Vec<String> = zones.iter().map(|z| z.to_string()).collect();
    for i in &mut list {
        i.zones = zones.clone();
    }
    list
}

// Issue 16: the broadcast's zones on, then the amplifier; the amplifier
// off, then the zones; only the broadcast's zones switch.
#[tokio::test(start_paused = true)]
async fn zones_go_on_before_the_amplifier_and_off_after_it() {
    let (rig, lines) = zoned_rig();
    let out = FakeOutput::new(1.0);
    let job = rig.job(
        to_zones(items(&["a", "b"]), &["thon-2"]),
        1000,
        timing(3000, 2000),
    );
    let (r, _log) = run(&rig, job, &out, &Shutdown::new()).await;
    assert!(r.all_played(), "{r:?}");
    assert_eq!(
        names(&lines),
        ["thon-2 on", "amp on", "amp off", "thon-2 off"]
    );
    let l = lines.lock().unwrap().clone();
    // The zone and the amplifier switch together at relay-on (no sound
    // yet: the warm-up follows); the zone goes off right after the
    // amplifier.
    assert_eq!(l[0].1, l[1].1);
    assert_eq!(l[2].1, l[3].1);
    let began = out.when(&SinkEvent::Began).expect("the device started");
    assert!(
        began >= l[1].1 + Duration::from_millis(2900),
        "sound during the warm-up"
    );
}

// Issue 16: items for other zones (a priority item queued for one
// hamlet ahead of a broadcast to all) wait until the device is silent;
// the lines switch, and sound follows only after ZONE_SETTLE.
#[tokio::test(start_paused = true)]
async fn a_change_of_zones_waits_for_silence_and_settles() {
    let (rig, lines) = zoned_rig();
    let out = FakeOutput::new(1.0);
    let mut list = to_zones(items(&["for-thon-1"]), &["thon-1"]);
    list.extend(to_zones(
        items(&["all-a", "all-b"]),
        &["thon-1", "thon-2", "thon-3"],
    ));
    let job = rig.job(list, 1000, timing(3000, 2000));
    let (r, log) = run(&rig, job, &out, &Shutdown::new()).await;
    assert!(r.all_played(), "{r:?}");
    assert_eq!(
        names(&lines),
        [
            "thon-1 on",
            "amp on",
            "thon-2 on",
            "thon-3 on",
            "amp off",
            "thon-1 off",
            "thon-2 off",
            "thon-3 off"
        ]
    );
    let l = lines.lock().unwrap().clone();
    let first_end = r.items[0].ended.unwrap();
    let second_start = r.items[1].started.unwrap();
    let switched = l[2].1;
    // The lines switched after the first item ended, and the next item's
    // sound came at least ZONE_SETTLE (plus the gap) after.
    let queued_second = out
        .when(&SinkEvent::Queued {
            name: "all-a".into(),
            gap: Duration::from_millis(2000),
        })
        .expect("all-a was queued after the switch");
    assert!(queued_second >= switched + super::airing::ZONE_SETTLE);
    assert!(
        ms_between(first_end, second_start) >= 2000 + 200,
        "{first_end} {second_start}"
    );
    assert_eq!(log.started.len(), 3);
}

// Issue 16: an emergency while the amplifier is on for one zone: the
// other zones switch on (the amplifier is not switched again), and the
// first sound comes ZONE_SETTLE after, as silence on the device.
#[tokio::test(start_paused = true)]
async fn an_emergency_on_a_live_amplifier_widens_the_zones_in_silence() {
    let (rig, lines) = zoned_rig();
    rig.guard.select_zones(&["thon-1".to_string()]).unwrap();
    rig.guard.on().unwrap();
    let out = FakeOutput::new(1.0);
    let all = ["thon-1", "thon-2", "thon-3"];
    let job = rig.job(to_zones(items(&["alarm"]), &all), 0, timing(3000, 2000));
    let (r, _log) = run(&rig, job, &out, &Shutdown::new()).await;
    assert!(r.all_played(), "{r:?}");
    assert_eq!(
        names(&lines),
        [
            "thon-1 on",
            "amp on",
            "thon-2 on",
            "thon-3 on",
            "amp off",
            "thon-1 off",
            "thon-2 off",
            "thon-3 off"
        ]
    );
    assert!(out.events().contains(&SinkEvent::Queued {
        name: "alarm".into(),
        gap: super::airing::ZONE_SETTLE,
    }));
    // Without a change of zones, no pause.
    let (rig, _lines) = zoned_rig();
    rig.guard.select_zones(&all.map(String::from)).unwrap();
    rig.guard.on().unwrap();
    let out = FakeOutput::new(1.0);
    let job = rig.job(to_zones(items(&["alarm"]), &all), 0, timing(3000, 2000));
    run(&rig, job, &out, &Shutdown::new()).await;
    assert!(out.events().contains(&SinkEvent::Queued {
        name: "alarm".into(),
        gap: Duration::ZERO,
    }));
}
