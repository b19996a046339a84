//! The test fakes, in one place: a [`TestClock`] that tests set and advance
//! by hand, and a [`FakeRelay`] that records what it was told. They are
//! compiled into the library (not only under `cfg(test)`) so that integration
//! tests and benchmarks can use them too; the program itself must not.

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

    pub fn set(&self, t: Timestamp) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = t;
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

    /// The level last set, `None` if never.
    pub fn level(&self) -> Option<bool> {
        self.state().level
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
