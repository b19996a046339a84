//! The relay's safety net, written once for every backend: a [`RelayGuard`]
//! switches the relay off when it is made (start-up), when its last clone is
//! dropped, when it has been on longer than max-on (a watchdog thread), and on
//! a panic anywhere ([`install_panic_hook`]). It records every edge with its
//! time and cause for the as-run log. It must not decide when to switch on.
//!
//! Zones (the hamlets' speaker lines, `[[zone]]`) are relays the guard owns
//! beside the amplifier's: every way the amplifier goes off switches them
//! off right after it, so that no line is switched while sound is on it.
//! Which zones are on is chosen by [`RelayGuard::select_zones`], which the
//! airing sequence calls only while the amplifier is off or silent.
//!
//! Locks: the relay and its state sit behind one mutex, held while switching
//! and while edge listeners run (so edges reach them in order). `is_on` and
//! `since` read a separate snapshot and never wait for a switch. Listeners
//! must not switch the relay themselves (that would wait on the lock they
//! are called under).

use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Once, TryLockError, Weak};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use tracing::{error, info, warn};

use super::{EmergencyOff, Relay, RelayError};
use crate::schedule::clock::Clock;

/// One switching of a relay, for the as-run log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edge {
    /// True for on, false for off.
    pub on: bool,
    /// When it switched, by the guard's clock.
    pub at: Timestamp,
    /// Why.
    pub cause: EdgeCause,
    /// Which line: None for the amplifier, else the zone's name.
    pub zone: Option<String>,
}

/// Why the relay switched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgeCause {
    /// `on()` or `off()`.
    Requested,
    /// On longer than max-on.
    Watchdog,
    /// The last guard was dropped (normal exit, SIGTERM), or `off_with`.
    Shutdown,
    /// A panic somewhere in the program.
    Panic,
    /// The off every guard starts with (logged; listeners, registered later,
    /// do not see it).
    StartUp,
}

impl EdgeCause {
    /// A short word for logs.
    pub fn name(self) -> &'static str {
        match self {
            EdgeCause::Requested => "requested",
            EdgeCause::Watchdog => "watchdog",
            EdgeCause::Shutdown => "shutdown",
            EdgeCause::Panic => "panic",
            EdgeCause::StartUp => "start-up",
        }
    }
}

type Listener = Arc<dyn Fn(&Edge) + Send + Sync>;

/// A zone's relay and its level.
struct ZoneLine {
    name: String,
    relay: Box<dyn Relay>,
    on: bool,
}

/// A zone's state as `loa status` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneState {
    /// The zone's name.
    pub name: String,
    /// Whether its line is on.
    pub on: bool,
    /// Since when (the guard's start when it never switched).
    pub since: Timestamp,
}

/// What the state lock protects.
struct State {
    relay: Box<dyn Relay>,
    /// The zones' relays, in the config's order.
    zones: Vec<ZoneLine>,
    on: bool,
    /// When the current on period began, on the monotonic clock: max-on is
    /// measured on it, never on the wall clock, which jumps when a Pi syncs.
    on_since: Option<Instant>,
    /// When the watchdog tries again after failing to switch off.
    retry_at: Option<Instant>,
    /// The last guard is gone: the watchdog ends.
    closed: bool,
}

/// What `is_on` and `since` read, without waiting for a switch in progress.
struct View {
    on: bool,
    since: Timestamp,
    /// Why the relay last switched.
    cause: EdgeCause,
    /// Each zone's level and since when.
    zones: Vec<ZoneState>,
}

struct Shared {
    state: Mutex<State>,
    /// Wakes the watchdog when the state changes.
    wake: Condvar,
    view: Mutex<View>,
    listeners: Mutex<Vec<Listener>>,
    /// The backends' lock-free offs (the amplifier's first), for the
    /// panic hook.
    emergency: Vec<EmergencyOff>,
    /// The panic hook switched off without the state lock: the next holder
    /// of the lock switches off properly and records the edge.
    panic_off_pending: AtomicBool,
    max_on: Duration,
    clock: Arc<dyn Clock>,
    describe: String,
}

/// Owned by the guard's clones together; dropping it switches off.
struct Handle {
    shared: Arc<Shared>,
    watchdog: Option<JoinHandle<()>>,
}

/// The relay, made safe. Clones share one relay; the last one dropped
/// switches it off.
#[derive(Clone)]
pub struct RelayGuard {
    handle: Arc<Handle>,
}

/// Every guard alive, for the panic hook.
static LIVE: Mutex<Vec<Weak<Shared>>> = Mutex::new(Vec::new());
static HOOK: Once = Once::new();

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl RelayGuard {
    /// Wraps a relay; switches it OFF at once (start-up safety) and starts
    /// the max-on watchdog.
    pub fn new(
        relay: Box<dyn Relay>,
        max_on: Duration,
        clock: Arc<dyn Clock>,
    ) -> Result<RelayGuard, RelayError> {
        RelayGuard::with_zones(relay, Vec::new(), max_on, clock)
    }

    /// As [`RelayGuard::new`], with the zones' relays (name, relay), each
    /// switched OFF at once after the amplifier's.
    pub fn with_zones(
        mut relay: Box<dyn Relay>,
        zones: Vec<super::ZoneRelay>,
        max_on: Duration,
        clock: Arc<dyn Clock>,
    ) -> Result<RelayGuard, RelayError> {
        let describe = relay.describe();
        relay.set(false)?;
        let mut lines = Vec::new();
        for (name, mut r) in zones {
            r.set(false)?;
            lines.push(ZoneLine {
                name,
                relay: r,
                on: false,
            });
        }
        let at = clock.now();
        info!(relay = %describe, on = false, cause = EdgeCause::StartUp.name(), %at, "{}", crate::lang::log("đã bật/tắt ampli", "relay switched"));
        let emergency = std::iter::once(relay.emergency_off())
            .chain(lines.iter().map(|z| z.relay.emergency_off()))
            .flatten()
            .collect();
        let view_zones = lines
            .iter()
            .map(|z| ZoneState {
                name: z.name.clone(),
                on: false,
                since: at,
            })
            .collect();
        let shared = Arc::new(Shared {
            emergency,
            state: Mutex::new(State {
                relay,
                zones: lines,
                on: false,
                on_since: None,
                retry_at: None,
                closed: false,
            }),
            wake: Condvar::new(),
            view: Mutex::new(View {
                on: false,
                since: at,
                cause: EdgeCause::StartUp,
                zones: view_zones,
            }),
            listeners: Mutex::new(Vec::new()),
            panic_off_pending: AtomicBool::new(false),
            max_on,
            clock,
            describe: describe.clone(),
        });
        {
            let mut live = lock(&LIVE);
            live.retain(|w| w.strong_count() > 0);
            live.push(Arc::downgrade(&shared));
        }
        let for_watchdog = shared.clone();
        let watchdog = thread::Builder::new()
            .name("relay-watchdog".into())
            .spawn(move || watchdog(for_watchdog))
            .map_err(|e| RelayError::Backend {
                relay: describe,
                detail: format!("cannot start the max-on watchdog: {e}"),
            })?;
        Ok(RelayGuard {
            handle: Arc::new(Handle {
                shared,
                watchdog: Some(watchdog),
            }),
        })
    }

    /// Switches the relay on; does nothing when it is on already. If the
    /// backend fails, it is switched off again and the error returned.
    pub fn on(&self) -> Result<(), RelayError> {
        let sh = &self.handle.shared;
        let mut st = sh.lock_state();
        sh.switch(&mut st, true, EdgeCause::Requested)
    }

    /// Switches the relay off (the backend is told even when the relay is
    /// believed off).
    pub fn off(&self) -> Result<(), RelayError> {
        self.off_with(EdgeCause::Requested)
    }

    /// Switches off, recording `cause` (e.g. `Shutdown` on SIGTERM). The
    /// backend is told to switch off even when the relay is believed off.
    pub fn off_with(&self, cause: EdgeCause) -> Result<(), RelayError> {
        let sh = &self.handle.shared;
        let mut st = sh.lock_state();
        sh.switch(&mut st, false, cause)
    }

    /// Switches the zones so that exactly `wanted` are on (names not
    /// configured are ignored): those to go off first, then those to go on.
    /// True when any line switched. The caller makes sure no sound is on
    /// the lines (the amplifier off, or silent). A zone that fails to go on
    /// is switched off again and the error returned.
    pub fn select_zones(&self, wanted: &[String]) -> Result<bool, RelayError> {
        let sh = &self.handle.shared;
        let mut st = sh.lock_state();
        let mut changed = false;
        for i in 0..st.zones.len() {
            if st.zones[i].on && !wanted.contains(&st.zones[i].name) {
                sh.switch_zone(&mut st, i, false, EdgeCause::Requested)?;
                changed = true;
            }
        }
        for i in 0..st.zones.len() {
            if !st.zones[i].on && wanted.contains(&st.zones[i].name) {
                sh.switch_zone(&mut st, i, true, EdgeCause::Requested)?;
                changed = true;
            }
        }
        Ok(changed)
    }

    /// Switches one zone on or off alone (`loa relay on|off --zone`); the
    /// amplifier is left as it is. Err when the zone is not configured.
    pub fn switch_zone(&self, name: &str, on: bool) -> Result<(), RelayError> {
        let sh = &self.handle.shared;
        let mut st = sh.lock_state();
        let Some(i) = st.zones.iter().position(|z| z.name == name) else {
            return Err(RelayError::Backend {
                relay: sh.describe.clone(),
                detail: format!("no zone {name:?}"),
            });
        };
        sh.switch_zone(&mut st, i, on, EdgeCause::Requested)
    }

    /// Each zone's state, in the config's order (empty without zones).
    pub fn zones(&self) -> Vec<ZoneState> {
        lock(&self.handle.shared.view).zones.clone()
    }

    /// Whether the relay is on, as last switched; never waits for a switch in
    /// progress.
    pub fn is_on(&self) -> bool {
        lock(&self.handle.shared.view).on
    }

    /// When the current state began.
    pub fn since(&self) -> Timestamp {
        lock(&self.handle.shared.view).since
    }

    /// Why the relay last switched (the max-on watchdog, a panic...).
    pub fn last_cause(&self) -> EdgeCause {
        lock(&self.handle.shared.view).cause
    }

    /// The relay as described for messages ("gpiochip0 line 17 (GPIO17)").
    pub fn describe(&self) -> String {
        self.handle.shared.describe.clone()
    }

    /// Called on every edge (the as-run log records them), in order, on the
    /// thread that switched. `f` must not switch the relay, nor keep a clone
    /// of this guard (the guard would then never be dropped).
    pub fn on_edge(&self, f: impl Fn(&Edge) + Send + Sync + 'static) {
        lock(&self.handle.shared.listeners).push(Arc::new(f));
    }
}

impl fmt::Debug for RelayGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RelayGuard")
            .field("relay", &self.handle.shared.describe)
            .field("on", &self.is_on())
            .field("max_on", &self.handle.shared.max_on)
            .finish()
    }
}

impl Shared {
    /// The state lock, after settling an off the panic hook made without it.
    fn lock_state(&self) -> MutexGuard<'_, State> {
        let mut st = lock(&self.state);
        self.settle_panic_off(&mut st);
        st
    }

    fn settle_panic_off(&self, st: &mut State) {
        if self.panic_off_pending.swap(false, Ordering::SeqCst) {
            self.panic_off(st);
        }
    }

    /// Switches and records the edge. Switching to the state already held
    /// is no edge; off is still passed to the backend, to be sure.
    fn switch(&self, st: &mut State, on: bool, cause: EdgeCause) -> Result<(), RelayError> {
        if on {
            if st.on {
                return Ok(());
            }
            if let Err(e) = st.relay.set(true) {
                // Whatever half-happened, leave it off.
                let _ = st.relay.set(false);
                return Err(e);
            }
            st.on = true;
            st.on_since = Some(Instant::now());
        } else {
            // The amplifier first, then every zone, even when the
            // amplifier would not switch (a zone off is always safe).
            let amp = st.relay.set(false);
            let was_on = st.on;
            if amp.is_ok() && was_on {
                st.on = false;
                st.on_since = None;
                st.retry_at = None;
                self.wake.notify_all();
                self.emit(Edge {
                    on,
                    at: self.clock.now(),
                    cause,
                    zone: None,
                });
            }
            let zones = self.zones_off(st, cause);
            return amp.and(zones);
        }
        st.retry_at = None;
        self.wake.notify_all();
        self.emit(Edge {
            on,
            at: self.clock.now(),
            cause,
            zone: None,
        });
        Ok(())
    }

    /// One zone on or off, with its edge; a zone that fails to go on is
    /// switched off again.
    fn switch_zone(
        &self,
        st: &mut State,
        i: usize,
        on: bool,
        cause: EdgeCause,
    ) -> Result<(), RelayError> {
        let z = &mut st.zones[i];
        if let Err(e) = z.relay.set(on) {
            if on {
                let _ = z.relay.set(false);
            }
            return Err(e);
        }
        if z.on == on {
            return Ok(());
        }
        z.on = on;
        let name = z.name.clone();
        self.emit(Edge {
            on,
            at: self.clock.now(),
            cause,
            zone: Some(name),
        });
        Ok(())
    }

    /// Every zone off (each backend told, even when believed off); the
    /// first error, after trying them all.
    fn zones_off(&self, st: &mut State, cause: EdgeCause) -> Result<(), RelayError> {
        let mut first = Ok(());
        for i in 0..st.zones.len() {
            if let Err(e) = self.switch_zone(st, i, false, cause) {
                error!(zone = %st.zones[i].name, error = %e, "{}", crate::lang::log("không tắt được rơ-le của vùng", "cannot switch a zone's relay off"));
                if first.is_ok() {
                    first = Err(e);
                }
            }
        }
        first
    }

    /// Off after a panic, with the state lock held: the amplifier, then
    /// every zone.
    fn panic_off(&self, st: &mut State) {
        match st.relay.set(false) {
            Ok(()) if st.on => {
                st.on = false;
                st.on_since = None;
                st.retry_at = None;
                self.wake.notify_all();
                self.emit(Edge {
                    on: false,
                    at: self.clock.now(),
                    cause: EdgeCause::Panic,
                    zone: None,
                });
            }
            Ok(()) => {}
            Err(e) => {
                error!(relay = %self.describe, error = %e, "{}", crate::lang::log("không tắt được ampli sau một lỗi nghiêm trọng", "cannot switch the relay off after a panic"));
                self.last_resort();
                return;
            }
        }
        if self.zones_off(st, EdgeCause::Panic).is_err() {
            self.last_resort();
        }
    }

    /// Off without the state lock: the backend's emergency off, then the
    /// watchdog is woken to finish properly as soon as the lock is free.
    fn last_resort(&self) {
        if self.emergency.is_empty() {
            warn!(relay = %self.describe, "no emergency off for this relay; the watchdog will switch it off once the lock is released")
        }
        for off in &self.emergency {
            off();
        }
        self.panic_off_pending.store(true, Ordering::SeqCst);
        self.wake.notify_all();
    }

    /// Updates the snapshot, logs, and tells the listeners (called with the
    /// state lock held, so edges reach them in order).
    fn emit(&self, edge: Edge) {
        {
            let mut v = lock(&self.view);
            match &edge.zone {
                None => {
                    v.on = edge.on;
                    v.since = edge.at;
                    v.cause = edge.cause;
                }
                Some(name) => {
                    if let Some(z) = v.zones.iter_mut().find(|z| &z.name == name) {
                        z.on = edge.on;
                        z.since = edge.at;
                    }
                }
            }
        }
        match &edge.zone {
            None => {
                info!(relay = %self.describe, on = edge.on, cause = edge.cause.name(), at = %edge.at, "{}", crate::lang::log("đã bật/tắt ampli", "relay switched"))
            }
            Some(zone) => {
                info!(%zone, on = edge.on, cause = edge.cause.name(), at = %edge.at, "{}", crate::lang::log("đã bật/tắt rơ-le của vùng", "zone relay switched"))
            }
        }
        let listeners = lock(&self.listeners).clone();
        for f in listeners {
            if panic::catch_unwind(AssertUnwindSafe(|| f(&edge))).is_err() {
                error!(relay = %self.describe, "a relay edge listener panicked");
            }
        }
    }
}

/// The max-on watchdog: sleeps on the condvar until the deadline of the
/// current on period (or until the state changes), never polls.
fn watchdog(sh: Arc<Shared>) {
    let mut st = lock(&sh.state);
    loop {
        if st.closed {
            return;
        }
        sh.settle_panic_off(&mut st);
        let deadline = match (st.on, st.on_since) {
            (true, Some(t0)) => st.retry_at.or_else(|| t0.checked_add(sh.max_on)),
            _ => None,
        };
        let Some(deadline) = deadline else {
            st = sh.wake.wait(st).unwrap_or_else(|e| e.into_inner());
            continue;
        };
        let now = Instant::now();
        if now < deadline {
            st = sh
                .wake
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
            continue;
        }
        let max_on = crate::duration::to_config_text(sh.max_on);
        error!(relay = %sh.describe, %max_on, "{}", crate::lang::log("ampli đã bật quá thời gian tối đa (max-on): loa tự tắt nó", "the relay has been on longer than max-on: the watchdog switches it off"));
        if let Err(e) = sh.switch(&mut st, false, EdgeCause::Watchdog) {
            error!(relay = %sh.describe, error = %e, "{}", crate::lang::log("không tắt được ampli khi quá thời gian tối đa; thử lại sau 1 giây", "the watchdog cannot switch the relay off; trying again in 1 s"));
            st.retry_at = Some(now + Duration::from_secs(1));
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        let sh = &self.shared;
        {
            let mut st = sh.lock_state();
            if let Err(e) = sh.switch(&mut st, false, EdgeCause::Shutdown) {
                error!(relay = %sh.describe, error = %e, "{}", crate::lang::log("không tắt được ampli khi loa dừng", "cannot switch the relay off on the way out"));
                for off in &sh.emergency {
                    off();
                }
            }
            st.closed = true;
            sh.wake.notify_all();
        }
        // Wait for the watchdog, so that the line is released when the
        // guard is gone (a new guard on the same line must not find it busy).
        if let Some(w) = self.watchdog.take()
            && w.thread().id() != thread::current().id()
        {
            let _ = w.join();
        }
    }
}

/// Installs (once) a panic hook that switches every live guard's relay off,
/// then runs the previous hook.
///
/// It never waits for a lock: when a guard's lock is taken (by the panicking
/// thread itself, or by another one mid-switch), it uses the backend's
/// emergency off (gpio: the line request, shared; sim: the file append;
/// rppal: the pin if free) and wakes the watchdog, which switches off
/// properly and records the edge as soon as the lock is released.
pub fn install_panic_hook() {
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            // A decoder failing on one file, caught where it runs: the
            // airing sequence fails that item and goes on, the relay with it.
            if !crate::contain::is_contained() {
                switch_all_off_after_panic();
            }
            previous(info);
        }));
    });
}

fn switch_all_off_after_panic() {
    // A lock held by another thread for a moment (the watchdog looking at
    // the state, a guard being made) is waited for briefly; one held by the
    // panicking thread itself never comes free, hence the bounded retry.
    const TRIES: usize = 200;
    let mut live: Option<Vec<Arc<Shared>>> = None;
    for _ in 0..TRIES {
        match LIVE.try_lock() {
            Ok(l) => live = Some(l.iter().filter_map(Weak::upgrade).collect()),
            Err(TryLockError::Poisoned(p)) => {
                live = Some(p.into_inner().iter().filter_map(Weak::upgrade).collect())
            }
            Err(TryLockError::WouldBlock) => {
                std::thread::sleep(Duration::from_millis(1));
                continue;
            }
        }
        break;
    }
    for sh in live.unwrap_or_default() {
        let mut done = false;
        for _ in 0..TRIES {
            match sh.state.try_lock() {
                Ok(mut st) => sh.panic_off(&mut st),
                Err(TryLockError::Poisoned(p)) => sh.panic_off(&mut p.into_inner()),
                Err(TryLockError::WouldBlock) => {
                    std::thread::sleep(Duration::from_millis(1));
                    continue;
                }
            }
            done = true;
            break;
        }
        if !done {
            sh.last_resort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{FakeRelay, TestClock};

    const LONG: Duration = Duration::from_secs(3600);

    fn guard(max_on: Duration) -> (RelayGuard, FakeRelay, Arc<TestClock>, Arc<Mutex<Vec<Edge>>>) {
        let fake = FakeRelay::new();
        let clock = Arc::new(TestClock::at("2026-01-20T05:59:57.003+07:00"));
        let g = RelayGuard::new(fake.boxed(), max_on, clock.clone()).unwrap();
        let edges = Arc::new(Mutex::new(Vec::new()));
        let e = edges.clone();
        g.on_edge(move |edge| e.lock().unwrap().push(edge.clone()));
        (g, fake, clock, edges)
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn starts_off() {
        let fake = FakeRelay::new();
        let clock = Arc::new(TestClock::at("2026-01-20T05:00:00+07:00"));
        let g = RelayGuard::new(fake.boxed(), LONG, clock).unwrap();
        assert_eq!(fake.calls(), [false], "the first thing a guard does is off");
        assert!(!g.is_on());
        assert_eq!(g.since(), ts("2026-01-20T05:00:00+07:00"));
        assert_eq!(g.describe(), "fake");
    }

    #[test]
    fn a_relay_that_cannot_switch_off_gives_no_guard() {
        let fake = FakeRelay::new();
        fake.fail_with(Some("wire cut"));
        let clock = Arc::new(TestClock::at("2026-01-20T05:00:00+07:00"));
        let err = RelayGuard::new(fake.boxed(), LONG, clock).unwrap_err();
        assert!(err.to_string().contains("wire cut"));
    }

    #[test]
    fn on_and_off_edges_are_recorded_with_their_times() {
        let (g, fake, clock, edges) = guard(LONG);
        clock.advance(Duration::from_secs(3));
        g.on().unwrap();
        assert!(fake.is_on() && g.is_on());
        assert_eq!(g.since(), ts("2026-01-20T06:00:00.003+07:00"));
        g.on().unwrap(); // already on: no edge
        clock.advance(Duration::from_secs(65));
        g.off().unwrap();
        assert!(!fake.is_on() && !g.is_on());
        assert_eq!(fake.calls(), [false, true, false]);
        assert_eq!(
            *edges.lock().unwrap(),
            [
                Edge {
                    on: true,
                    at: ts("2026-01-20T06:00:00.003+07:00"),
                    cause: EdgeCause::Requested,
                    zone: None,
                },
                Edge {
                    on: false,
                    at: ts("2026-01-20T06:01:05.003+07:00"),
                    cause: EdgeCause::Requested,
                    zone: None,
                },
            ]
        );
        // Off again: the backend is told again, but it is no edge.
        g.off().unwrap();
        assert_eq!(edges.lock().unwrap().len(), 2);
        assert_eq!(g.since(), ts("2026-01-20T06:01:05.003+07:00"));
    }

    #[test]
    fn a_failed_switch_on_leaves_it_off_and_says_why() {
        let (g, fake, _clock, edges) = guard(LONG);
        fake.fail_with(Some("no current"));
        let err = g.on().unwrap_err();
        assert!(err.to_string().contains("no current"));
        assert!(!g.is_on() && !fake.is_on());
        assert!(edges.lock().unwrap().is_empty());
    }

    #[test]
    fn the_watchdog_cuts_the_relay_after_max_on() {
        let (g, fake, _clock, edges) = guard(Duration::from_millis(100));
        g.on().unwrap();
        assert!(
            fake.wait_for(false, Duration::from_secs(10)),
            "the watchdog did not switch off"
        );
        // The edge is recorded under the same lock, right after the switch.
        let _ = g.off();
        assert!(!g.is_on());
        let causes: Vec<(bool, EdgeCause)> = edges
            .lock()
            .unwrap()
            .iter()
            .map(|e| (e.on, e.cause))
            .collect();
        assert_eq!(
            causes,
            [(true, EdgeCause::Requested), (false, EdgeCause::Watchdog)]
        );

        // A new on starts a new max-on period, cut again.
        g.on().unwrap();
        assert!(g.is_on());
        assert!(fake.wait_for(false, Duration::from_secs(10)));
        let _ = g.off();
        let last = edges.lock().unwrap().last().cloned().unwrap();
        assert_eq!((last.on, last.cause), (false, EdgeCause::Watchdog));
        assert_eq!(edges.lock().unwrap().len(), 4);
    }

    #[test]
    fn the_watchdog_retries_when_the_relay_will_not_switch_off() {
        let (g, fake, _clock, edges) = guard(Duration::from_millis(50));
        g.on().unwrap();
        fake.fail_with(Some("stuck"));
        std::thread::sleep(Duration::from_millis(200));
        assert!(g.is_on() && fake.is_on(), "could not switch off: still on");
        fake.fail_with(None);
        assert!(fake.wait_for(false, Duration::from_secs(10)));
        let _ = g.off();
        let last = edges.lock().unwrap().last().cloned().unwrap();
        assert_eq!((last.on, last.cause), (false, EdgeCause::Watchdog));
    }

    #[test]
    fn dropping_the_last_clone_switches_off() {
        let (g, fake, _clock, edges) = guard(LONG);
        let other = g.clone();
        g.on().unwrap();
        drop(g);
        assert!(fake.is_on(), "a clone is still alive");
        assert!(other.is_on());
        drop(other);
        assert!(!fake.is_on());
        let last = edges.lock().unwrap().last().cloned().unwrap();
        assert_eq!((last.on, last.cause), (false, EdgeCause::Shutdown));
    }

    #[test]
    fn off_with_records_the_cause() {
        let (g, _fake, _clock, edges) = guard(LONG);
        g.on().unwrap();
        g.off_with(EdgeCause::Shutdown).unwrap();
        let last = edges.lock().unwrap().last().cloned().unwrap();
        assert_eq!((last.on, last.cause), (false, EdgeCause::Shutdown));
    }

    /// A guard with three zones: the fakes, and every edge as (line, on,
    /// cause) in the order the listeners saw them.
    #[allow(clippy::type_complexity)]
    fn zoned(
        max_on: Duration,
    ) -> (
        RelayGuard,
        FakeRelay,
        Vec<FakeRelay>,
        Arc<Mutex<Vec<(String, bool, EdgeCause)>>>,
    ) {
        let amp = FakeRelay::new();
        let zones: Vec<FakeRelay> = (0..3).map(|_| FakeRelay::new()).collect();
        let clock = Arc::new(TestClock::at("2026-01-20T05:59:57.003+07:00"));
        let lines = zones
            .iter()
            .enumerate()
            .map(|(i, f)| (format!("thon-{}", i + 1), f.boxed()))
            .collect();
        let g = RelayGuard::with_zones(amp.boxed(), lines, max_on, clock).unwrap();
        let edges = Arc::new(Mutex::new(Vec::new()));
        let e = edges.clone();
        g.on_edge(move |edge| {
            let line = edge.zone.clone().unwrap_or_else(|| "amp".into());
            e.lock().unwrap().push((line, edge.on, edge.cause));
        });
        (g, amp, zones, edges)
    }

    fn lines(edges: &Mutex<Vec<(String, bool, EdgeCause)>>) -> Vec<String> {
        edges
            .lock()
            .unwrap()
            .iter()
            .map(|(l, on, _)| format!("{l} {}", if *on { "on" } else { "off" }))
            .collect()
    }

    #[test]
    fn zones_start_off_and_go_off_after_the_amplifier() {
        let (g, amp, zones, edges) = zoned(LONG);
        assert_eq!(amp.calls(), [false]);
        assert!(zones.iter().all(|z| z.calls() == [false]));
        let two = ["thon-2".to_string()];
        assert!(g.select_zones(&two).unwrap());
        assert!(!g.select_zones(&two).unwrap(), "no change, no edge");
        g.on().unwrap();
        assert!(zones[1].is_on() && !zones[0].is_on() && !zones[2].is_on());
        g.off().unwrap();
        assert!(zones.iter().all(|z| !z.is_on()) && !amp.is_on());
        assert_eq!(
            lines(&edges),
            ["thon-2 on", "amp on", "amp off", "thon-2 off"]
        );
        let states = g.zones();
        assert_eq!(
            states
                .iter()
                .map(|z| (z.name.as_str(), z.on))
                .collect::<Vec<_>>(),
            [("thon-1", false), ("thon-2", false), ("thon-3", false)]
        );
    }

    #[test]
    fn selecting_zones_switches_off_before_on() {
        let (g, _amp, zones, edges) = zoned(LONG);
        g.select_zones(&["thon-1".to_string()]).unwrap();
        g.select_zones(&["thon-2".to_string(), "thon-3".to_string()])
            .unwrap();
        assert!(!zones[0].is_on() && zones[1].is_on() && zones[2].is_on());
        assert_eq!(
            lines(&edges),
            ["thon-1 on", "thon-1 off", "thon-2 on", "thon-3 on"]
        );
        g.switch_zone("thon-3", false).unwrap();
        assert!(!zones[2].is_on());
        assert!(g.switch_zone("thon-9", true).is_err());
    }

    #[test]
    fn a_zone_that_fails_to_go_on_is_left_off() {
        let (g, _amp, zones, _edges) = zoned(LONG);
        zones[0].fail_with(Some("relay board unplugged"));
        let err = g.select_zones(&["thon-1".to_string()]).unwrap_err();
        assert!(err.to_string().contains("unplugged"));
        assert!(!zones[0].is_on());
        assert!(!g.zones()[0].on);
    }

    #[test]
    fn the_watchdog_and_the_last_drop_switch_the_zones_off_too() {
        let (g, _amp, zones, edges) = zoned(Duration::from_millis(100));
        g.select_zones(&["thon-1".to_string(), "thon-3".to_string()])
            .unwrap();
        g.on().unwrap();
        assert!(zones[2].wait_for(false, Duration::from_secs(10)));
        let causes: Vec<EdgeCause> = edges.lock().unwrap().iter().map(|e| e.2).collect();
        assert_eq!(
            lines(&edges),
            [
                "thon-1 on",
                "thon-3 on",
                "amp on",
                "amp off",
                "thon-1 off",
                "thon-3 off"
            ]
        );
        assert_eq!(causes[3..], [EdgeCause::Watchdog; 3]);

        let (g2, _amp, zones, edges) = zoned(LONG);
        g2.select_zones(&["thon-2".to_string()]).unwrap();
        g2.on().unwrap();
        drop(g2);
        assert!(zones.iter().all(|z| !z.is_on()));
        let last = edges.lock().unwrap().last().cloned().unwrap();
        assert_eq!(last, ("thon-2".to_string(), false, EdgeCause::Shutdown));
        drop(g);
    }

    #[test]
    fn a_guard_is_send_and_sync() {
        fn check<T: Send + Sync + Clone + 'static>() {}
        check::<RelayGuard>();
    }

    /// The panic hook is process-wide: once a test installs it, any panic
    /// (another test failing, a `should_panic`) switches off every guard in
    /// the process. So its checks run in a child process of their own, one
    /// scenario after the other: this test starts it.
    #[test]
    fn the_panic_hook_switches_off() {
        let path = module_path!()
            .split_once("::")
            .map(|(_, rest)| rest)
            .unwrap_or(module_path!());
        let test = format!("{path}::panic_hook_in_a_child_process");
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([&test, "--exact", "--ignored", "--nocapture"])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "{test} failed in its child process:\n{stdout}\n{stderr}"
        );
    }

    #[test]
    #[ignore = "run in a child process by the_panic_hook_switches_off"]
    fn panic_hook_in_a_child_process() {
        install_panic_hook();
        panic_in_another_thread_switches_off();
        panic_inside_the_relay_switches_off();
        panic_switches_the_zones_off();
    }

    fn panic_switches_the_zones_off() {
        let (g, amp, zones, edges) = zoned(LONG);
        g.select_zones(&["thon-1".to_string(), "thon-2".to_string()])
            .unwrap();
        g.on().unwrap();
        let for_thread = g.clone();
        let joined = std::thread::spawn(move || {
            assert!(for_thread.is_on());
            panic!("a bug while airing to two hamlets");
        })
        .join();
        assert!(joined.is_err(), "the thread was meant to panic");
        assert!(!amp.is_on() && zones.iter().all(|z| !z.is_on()));
        let tail: Vec<(String, bool, EdgeCause)> = edges.lock().unwrap()[3..].to_vec();
        assert_eq!(
            tail,
            [
                ("amp".to_string(), false, EdgeCause::Panic),
                ("thon-1".to_string(), false, EdgeCause::Panic),
                ("thon-2".to_string(), false, EdgeCause::Panic),
            ]
        );
    }

    fn panic_in_another_thread_switches_off() {
        let (g, fake, _clock, edges) = guard(LONG);
        g.on().unwrap();
        let for_thread = g.clone();
        let joined = std::thread::spawn(move || {
            assert!(for_thread.is_on());
            panic!("a bug in the audio path");
        })
        .join();
        assert!(joined.is_err(), "the thread was meant to panic");
        assert!(!fake.is_on(), "the panic hook left the relay on");
        assert!(!g.is_on());
        assert_eq!(fake.emergency_offs(), 0, "the lock was free: a proper off");
        let last = edges.lock().unwrap().last().cloned().unwrap();
        assert_eq!((last.on, last.cause), (false, EdgeCause::Panic));
    }

    fn panic_inside_the_relay_switches_off() {
        let (g, fake, _clock, edges) = guard(LONG);
        g.on().unwrap();
        // The panic happens inside set(), with the guard's lock held.
        fake.panic_on_next_set();
        let for_thread = g.clone();
        let joined = std::thread::spawn(move || for_thread.off()).join();
        assert!(joined.is_err(), "the thread was meant to panic");
        assert!(!fake.is_on(), "the panic hook left the relay on");
        assert_eq!(fake.emergency_offs(), 1, "the lock was held: emergency off");
        // Once the lock is free, the watchdog switches off properly and
        // records the edge (the state is shown before the listeners have
        // it: wait for the edge itself).
        let deadline = Instant::now() + Duration::from_secs(10);
        let last = || edges.lock().unwrap().last().map(|e| (e.on, e.cause));
        while last() != Some((false, EdgeCause::Panic)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(!g.is_on());
        assert_eq!(fake.calls().last(), Some(&false));
        assert_eq!(last(), Some((false, EdgeCause::Panic)));
    }
}
