//! The one seam for the wall clock. Everything that asks "what time is it"
//! asks a [`Clock`]; tests hand in a fixed or driven one (see `testing`).

use jiff::Timestamp;

/// The wall clock.
pub trait Clock: Send + Sync {
    /// The time now.
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

/// Whether the kernel (or systemd-timesyncd) says the wall clock is
/// synchronised. A Pi has no battery clock: until NTP answers after a boot,
/// its time may be days or months off.
pub fn kernel_clock_synced() -> bool {
    if std::path::Path::new("/run/systemd/timesync/synchronized").exists() {
        return true;
    }
    adjtimex_synced()
}

/// adjtimex(2) in read-only mode: synchronised unless it answers
/// TIME_ERROR or sets STA_UNSYNC.
#[allow(unsafe_code)]
fn adjtimex_synced() -> bool {
    // SAFETY: `timex` is plain old data; zeroed with modes = 0 asks the
    // kernel only to read the clock's state into it.
    let mut tx: libc::timex = unsafe { std::mem::zeroed() };
    // SAFETY: a valid, exclusively borrowed timex for the call's duration.
    let state = unsafe { libc::adjtimex(&mut tx) };
    state >= 0 && state != libc::TIME_ERROR && tx.status & libc::STA_UNSYNC == 0
}
