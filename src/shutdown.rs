//! The shutdown signal, passed in as a value: `main` makes one from SIGTERM
//! and SIGINT, tests make their own. The airing sequence looks at it between
//! its (tokio) waits; the commands that hold the relay by hand wait on it
//! (`wait_timeout`) instead of sleeping.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// A one-way flag with a wait that wakes when it is raised.
#[derive(Clone, Debug, Default)]
pub struct Shutdown {
    inner: Arc<(Mutex<Option<i32>>, Condvar)>,
}

impl Shutdown {
    /// A flag not raised yet.
    pub fn new() -> Shutdown {
        Shutdown::default()
    }

    /// Raises the flag; `signal` is the signal number that caused it (0 when
    /// asked for by code).
    pub fn trigger(&self, signal: i32) {
        let (lock, cv) = &*self.inner;
        let mut g = lock.lock().unwrap_or_else(|e| e.into_inner());
        if g.is_none() {
            *g = Some(signal);
        }
        cv.notify_all();
    }

    /// Whether the flag is raised.
    pub fn is_triggered(&self) -> bool {
        self.signal().is_some()
    }

    /// The signal that raised the flag, if it is raised.
    pub fn signal(&self) -> Option<i32> {
        *self.inner.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits up to `d`; returns true if the flag was raised (at once or
    /// during the wait).
    pub fn wait_timeout(&self, d: Duration) -> bool {
        let deadline = Instant::now() + d;
        let (lock, cv) = &*self.inner;
        let mut g = lock.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if g.is_some() {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            g = cv
                .wait_timeout(g, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// A shutdown raised by SIGTERM or SIGINT (a thread watches for them).
    pub fn from_signals() -> std::io::Result<Shutdown> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let s = Shutdown::new();
        let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT])?;
        let t = s.clone();
        std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                if let Some(sig) = signals.forever().next() {
                    t.trigger(sig);
                }
            })?;
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_returns_early_when_triggered() {
        let s = Shutdown::new();
        assert!(!s.wait_timeout(Duration::from_millis(10)));
        let t = s.clone();
        let h = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            t.trigger(15);
        });
        let start = Instant::now();
        assert!(s.wait_timeout(Duration::from_secs(10)));
        assert!(start.elapsed() < Duration::from_secs(5));
        assert_eq!(s.signal(), Some(15));
        h.join().unwrap();
    }
}
