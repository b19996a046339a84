//! One owner of the relay at a time, whatever the backend: an exclusive
//! `flock` on `STATE/relay.lock`, held by whoever drives the relay (the
//! service for as long as it runs, `loa play` and `loa relay on` while they
//! run). The kernel drops it when its holder exits, also on SIGKILL, so a
//! crash never leaves the relay locked. It decides nothing about switching.

use std::fs::File;
use std::path::Path;

use super::{EmergencyOff, Relay, RelayError};

/// The lock file's name in the state folder.
pub const FILE_NAME: &str = "relay.lock";

/// The held lock; released on drop (and by the kernel on exit).
#[derive(Debug)]
pub struct RelayLock {
    /// None when the lock file could not be made (a state folder this user
    /// may not write): the relay is then driven without a lock, as before,
    /// rather than not at all.
    _file: Option<File>,
}

impl RelayLock {
    /// Takes the lock, or says another program holds it.
    pub fn take(state_dir: &Path) -> Result<RelayLock, RelayError> {
        let _ = std::fs::create_dir_all(state_dir);
        let file = match std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(state_dir.join(FILE_NAME))
        {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(error = %e, "cannot open the relay lock; driving the relay without it");
                return Ok(RelayLock { _file: None });
            }
        };
        match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => Ok(RelayLock { _file: Some(file) }),
            Err(rustix::io::Errno::WOULDBLOCK) => Err(RelayError::InUse),
            Err(e) => {
                tracing::warn!(error = %e, "cannot lock the relay; driving it without the lock");
                Ok(RelayLock { _file: None })
            }
        }
    }
}

/// A backend driven under the lock.
pub struct Locked {
    /// The backend.
    pub inner: Box<dyn Relay>,
    /// The lock, held for as long as the backend is.
    pub lock: RelayLock,
}

impl Relay for Locked {
    fn set(&mut self, on: bool) -> Result<(), RelayError> {
        self.inner.set(on)
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }

    fn emergency_off(&self) -> Option<EmergencyOff> {
        self.inner.emergency_off()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_and_the_lock_dies_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let first = RelayLock::take(dir.path()).unwrap();
        // flock is per open file: a second open in this process is refused
        // like another program would be.
        assert!(matches!(
            RelayLock::take(dir.path()),
            Err(RelayError::InUse)
        ));
        drop(first);
        RelayLock::take(dir.path()).unwrap();
    }
}
