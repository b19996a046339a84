//! The test fakes, one per seam, in one place and only in test builds: for
//! the clock a [`TestClock`] set by hand and a [`TokioClock`] that follows
//! tokio's (paused) time; for the relay a [`FakeRelay`] that records what it
//! was told; for the sound a [`FakeOutput`] that "plays" in tokio time and
//! records every step. With `#[tokio::test(start_paused = true)]`, the real
//! airing sequence runs through them in milliseconds.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use jiff::Timestamp;

use crate::relay::{EmergencyOff, Relay, RelayError};
use crate::schedule::clock::Clock;

/// A wall clock that only moves when the test says so.
#[derive(Debug)]
pub struct TestClock {
    now: Mutex<Timestamp>,
}

impl TestClock {
    pub fn new(start: Timestamp) -> TestClock {
        TestClock {
            now: Mutex::new(start),
        }
    }

    /// A clock at an RFC 3339 time ("2026-01-20T05:59:57.003+07:00").
    /// Panics on a malformed time: it is written in a test.
    pub fn at(rfc3339: &str) -> TestClock {
        let start = rfc3339
            .parse()
            .unwrap_or_else(|e| panic!("TestClock::at({rfc3339:?}): {e}"));
        TestClock::new(start)
    }

    pub fn advance(&self, d: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now = now
            .checked_add(d)
            .expect("TestClock advanced past the end of time");
    }
}

impl Clock for TestClock {
    fn now(&self) -> Timestamp {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A relay that records every switch. Clones share one record: keep a clone
/// in the test and hand [`FakeRelay::boxed`] to the code under test.
#[derive(Clone, Debug, Default)]
pub struct FakeRelay {
    inner: Arc<(Mutex<FakeState>, Condvar)>,
}

#[derive(Debug, Default)]
struct FakeState {
    /// The level last set (`None`: never set).
    level: Option<bool>,
    /// Every successful `set`, in order.
    calls: Vec<bool>,
    /// When set, every `set` fails with this detail.
    fail: Option<String>,
    /// When set, the next `set` panics (to test the panic hook's last resort).
    panic_on_next_set: bool,
    /// How many times the emergency off was used.
    emergency_offs: usize,
}

impl FakeRelay {
    pub fn new() -> FakeRelay {
        FakeRelay::default()
    }

    /// A boxed clone sharing this record, for `RelayGuard::new`.
    pub fn boxed(&self) -> Box<dyn Relay> {
        Box::new(self.clone())
    }

    fn state(&self) -> MutexGuard<'_, FakeState> {
        self.inner.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The level the "hardware" is at now (never set counts as off).
    pub fn is_on(&self) -> bool {
        self.state().level == Some(true)
    }

    /// Every successful `set`, in order.
    pub fn calls(&self) -> Vec<bool> {
        self.state().calls.clone()
    }

    /// How many times the emergency off was used.
    pub fn emergency_offs(&self) -> usize {
        self.state().emergency_offs
    }

    /// Makes every later `set` fail (`Some(detail)`) or succeed again (`None`).
    pub fn fail_with(&self, detail: Option<&str>) {
        self.state().fail = detail.map(String::from);
    }

    /// Makes the next `set` panic (once).
    pub fn panic_on_next_set(&self) {
        self.state().panic_on_next_set = true;
    }

    /// Waits until the level is `on`, up to `timeout`; true if it got there.
    pub fn wait_for(&self, on: bool, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let (_, cv) = &*self.inner;
        let mut st = self.state();
        loop {
            if st.level.unwrap_or(false) == on {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            st = cv
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

impl Relay for FakeRelay {
    fn set(&mut self, on: bool) -> Result<(), RelayError> {
        let mut st = self.state();
        if st.panic_on_next_set {
            st.panic_on_next_set = false;
            drop(st);
            panic!("FakeRelay::set told to panic");
        }
        if let Some(detail) = &st.fail {
            return Err(RelayError::Backend {
                relay: "fake".into(),
                detail: detail.clone(),
            });
        }
        st.level = Some(on);
        st.calls.push(on);
        self.inner.1.notify_all();
        Ok(())
    }

    fn describe(&self) -> String {
        "fake".into()
    }

    fn emergency_off(&self) -> Option<EmergencyOff> {
        let me = self.clone();
        Some(Box::new(move || {
            let mut st = me.state();
            st.level = Some(false);
            st.emergency_offs += 1;
            me.inner.1.notify_all();
        }))
    }
}

/// What a [`FakeOutput`] was asked to do, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum SinkEvent {
    Checked,
    Opened,
    /// An item queued, with the silence before it.
    Queued {
        name: String,
        gap: Duration,
    },
    /// The sink was started: from here on what is queued plays.
    Began,
    /// An item began to play (its first samples were taken).
    Started {
        name: String,
    },
    Closed,
}

/// A sound output with no sound: queued items "play" in a tokio task, in
/// tokio time (`speed` times faster), and every step is recorded.
/// Faults are injected with the builder methods.
#[derive(Clone, Debug)]
pub struct FakeOutput {
    inner: Arc<FakeOutputState>,
}

#[derive(Debug)]
struct FakeOutputState {
    events: Mutex<Vec<(tokio::time::Instant, SinkEvent)>>,
    speed: f64,
    /// check() and open() fail with this.
    missing: Mutex<Option<crate::player::AudioError>>,
    /// Items (by name) that cannot be opened.
    unplayable: Mutex<Vec<String>>,
    /// The device fails after this many items have finished.
    fail_after: Mutex<Option<usize>>,
}

impl FakeOutput {
    /// Plays `speed` times faster than real time.
    pub fn new(speed: f64) -> FakeOutput {
        FakeOutput {
            inner: Arc::new(FakeOutputState {
                events: Mutex::new(Vec::new()),
                speed,
                missing: Mutex::new(None),
                unplayable: Mutex::new(Vec::new()),
                fail_after: Mutex::new(None),
            }),
        }
    }

    /// The device is not there.
    pub fn missing(self, e: crate::player::AudioError) -> FakeOutput {
        *self.inner.missing.lock().unwrap() = Some(e);
        self
    }

    /// This item cannot be opened.
    pub fn unplayable(self, name: &str) -> FakeOutput {
        self.inner.unplayable.lock().unwrap().push(name.into());
        self
    }

    /// The device fails (and stops taking sound) once `n` items finished.
    pub fn fail_after(self, n: usize) -> FakeOutput {
        *self.inner.fail_after.lock().unwrap() = Some(n);
        self
    }

    pub fn events(&self) -> Vec<SinkEvent> {
        self.inner
            .events
            .lock()
            .unwrap()
            .iter()
            .map(|(_, e)| e.clone())
            .collect()
    }

    /// When an event happened (tokio time).
    pub fn when(&self, e: &SinkEvent) -> Option<tokio::time::Instant> {
        self.inner
            .events
            .lock()
            .unwrap()
            .iter()
            .find(|(_, x)| x == e)
            .map(|(t, _)| *t)
    }

    fn record(&self, e: SinkEvent) {
        self.inner
            .events
            .lock()
            .unwrap()
            .push((tokio::time::Instant::now(), e));
    }
}

impl crate::player::Output for FakeOutput {
    fn check(&self) -> Result<(), crate::player::AudioError> {
        self.record(SinkEvent::Checked);
        match self.inner.missing.lock().unwrap().clone() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn open(
        &self,
        _rate: Option<u32>,
    ) -> Result<Box<dyn crate::player::Sink>, crate::player::AudioError> {
        if let Some(e) = self.inner.missing.lock().unwrap().clone() {
            return Err(e);
        }
        self.record(SinkEvent::Opened);
        let queue: Arc<Mutex<Vec<crate::player::Segment>>> = Arc::default();
        let failure: Arc<Mutex<Option<String>>> = Arc::default();
        let closed = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let started = Arc::new(tokio::sync::Notify::new());
        let (q, f, c, s, out) = (
            queue.clone(),
            failure.clone(),
            closed.clone(),
            started.clone(),
            self.clone(),
        );
        tokio::spawn(fake_device(out, q, f, c, s));
        Ok(Box::new(FakeSink {
            output: self.clone(),
            queue,
            failure,
            closed,
            started,
            began: false,
        }))
    }

    fn name(&self) -> String {
        "fake".into()
    }

    fn ready(&self, item: &crate::player::ItemSpec) -> Result<(), crate::player::AudioError> {
        if self.inner.unplayable.lock().unwrap().contains(&item.name) {
            return Err(crate::player::AudioError::Item(format!(
                "{} cannot be played",
                item.name
            )));
        }
        Ok(())
    }
}

struct FakeSink {
    output: FakeOutput,
    queue: Arc<Mutex<Vec<crate::player::Segment>>>,
    failure: Arc<Mutex<Option<String>>>,
    closed: Arc<std::sync::atomic::AtomicBool>,
    started: Arc<tokio::sync::Notify>,
    began: bool,
}

impl crate::player::Sink for FakeSink {
    fn queue(
        &mut self,
        gap_before: Duration,
        item: crate::player::ItemSpec,
    ) -> Result<(Option<crate::player::Segment>, crate::player::Segment), crate::player::AudioError>
    {
        use crate::player::{Progress, Segment, SegmentSpec};
        if self
            .output
            .inner
            .unplayable
            .lock()
            .unwrap()
            .contains(&item.name)
        {
            return Err(crate::player::AudioError::Item(format!(
                "{} cannot be played",
                item.name
            )));
        }
        self.output.record(SinkEvent::Queued {
            name: item.name.clone(),
            gap: gap_before,
        });
        let gap = (!gap_before.is_zero()).then(|| Segment {
            spec: SegmentSpec::Silence(gap_before),
            progress: Progress::new(1000),
        });
        let seg = Segment {
            spec: SegmentSpec::Item(Box::new(item)),
            progress: Progress::new(1000),
        };
        let mut q = self.queue.lock().unwrap();
        q.extend(gap.clone());
        q.push(seg.clone());
        Ok((gap, seg))
    }

    fn start(&mut self) -> Result<(), crate::player::AudioError> {
        if !self.began {
            self.began = true;
            self.output.record(SinkEvent::Began);
            self.started.notify_one();
        }
        Ok(())
    }

    fn failure(&self) -> Option<String> {
        self.failure.lock().unwrap().clone()
    }

    fn drained(&mut self) -> bool {
        self.queue
            .lock()
            .unwrap()
            .iter()
            .all(|s| s.state().is_over())
    }
}

impl Drop for FakeSink {
    fn drop(&mut self) {
        self.closed
            .store(true, std::sync::atomic::Ordering::Release);
        self.output.record(SinkEvent::Closed);
        // Wakes the device if it waits to be started.
        self.started.notify_one();
    }
}

/// The fake device: plays the queue in order, in tokio time (`speed` times
/// faster), one "frame" per millisecond of sound.
async fn fake_device(
    out: FakeOutput,
    queue: Arc<Mutex<Vec<crate::player::Segment>>>,
    failure: Arc<Mutex<Option<String>>>,
    closed: Arc<std::sync::atomic::AtomicBool>,
    started: Arc<tokio::sync::Notify>,
) {
    use crate::player::{SegmentSpec, State};
    use std::sync::atomic::Ordering;
    // Nothing plays before the sink is started (or after it is closed).
    started.notified().await;
    let mut played_items = 0usize;
    let mut i = 0usize;
    while !closed.load(Ordering::Acquire) {
        let seg = queue.lock().unwrap().get(i).cloned();
        let Some(seg) = seg else {
            tokio::time::sleep(Duration::from_millis(1)).await;
            continue;
        };
        i += 1;
        if seg.state().is_over() {
            continue;
        }
        if let Some(n) = *out.inner.fail_after.lock().unwrap()
            && played_items >= n
        {
            *failure.lock().unwrap() = Some("the fake device was unplugged".into());
            return;
        }
        let (length, name) = match &seg.spec {
            SegmentSpec::Silence(d) => (*d, None),
            SegmentSpec::Item(it) => (
                it.duration.unwrap_or(Duration::from_secs(1)),
                Some(it.name.clone()),
            ),
        };
        seg.progress.mark_playing();
        if let Some(n) = &name {
            out.record(SinkEvent::Started { name: n.clone() });
        }
        let total_ms = length.as_millis() as u64;
        let step = Duration::from_secs_f64(0.001 / out.inner.speed);
        let mut done = 0u64;
        while done < total_ms {
            if seg.progress.stop_requested() || closed.load(Ordering::Acquire) {
                seg.progress.finish(State::Stopped);
                break;
            }
            let n = (total_ms - done).min(10);
            tokio::time::sleep(step * n as u32).await;
            seg.progress.add_frames(n);
            done += n;
        }
        seg.progress.finish(State::Finished);
        if name.is_some() {
            played_items += 1;
        }
    }
}

/// A wall clock driven by tokio's (possibly paused) time: `base` plus the
/// tokio time elapsed since it was made, plus a jump the test may set. With
/// `#[tokio::test(start_paused = true)]` a week passes in milliseconds.
#[derive(Debug)]
pub struct TokioClock {
    base: Timestamp,
    start: tokio::time::Instant,
    jump_ms: std::sync::atomic::AtomicI64,
    synced: std::sync::atomic::AtomicBool,
}

impl TokioClock {
    pub fn new(base: Timestamp) -> Arc<TokioClock> {
        Arc::new(TokioClock {
            base,
            start: tokio::time::Instant::now(),
            jump_ms: std::sync::atomic::AtomicI64::new(0),
            synced: std::sync::atomic::AtomicBool::new(true),
        })
    }

    /// Moves the wall clock by `ms` (a clock jump), without tokio time moving.
    pub fn jump(&self, ms: i64) {
        self.jump_ms
            .fetch_add(ms, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn set_synced(&self, synced: bool) {
        self.synced
            .store(synced, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn synced(&self) -> bool {
        self.synced.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Clock for TokioClock {
    fn now(&self) -> Timestamp {
        let ms = self.base.as_millisecond()
            + self.start.elapsed().as_millis() as i64
            + self.jump_ms.load(std::sync::atomic::Ordering::SeqCst);
        Timestamp::from_millisecond(ms).unwrap_or(self.base)
    }
}

/// Says that the running test is skipped, and why: on stderr past the test
/// harness's capture (`SKIPPED <test>: why`), so that a passing run shows
/// what it did not test.
pub fn skipped(why: &str) {
    use std::io::Write;
    let current = std::thread::current();
    let test = current.name().unwrap_or("a test");
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
}
