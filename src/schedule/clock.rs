//! The one seam for the wall clock. Everything that asks "what time is it"
//! asks a [`Clock`]; tests hand in a fixed or driven one (see `testing`).

use jiff::Timestamp;

/// The wall clock.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// The system's real-time clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}
