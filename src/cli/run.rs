//! `loa run`: the service (`daemon::service`), until SIGTERM or SIGINT;
//! its result as an exit code.

use std::path::Path;
use std::sync::Arc;

use super::context;
use super::exit;
use crate::schedule::clock::{SystemClock, kernel_clock_synced};

/// `loa run`: the service until SIGTERM or SIGINT; the exit code.
pub fn run(config: Option<&Path>) -> i32 {
    let Some(cfg) = context::config_or_say(config) else {
        return exit::CONFIG;
    };
    let lang = cfg.lang;
    // A folder on a tmpfs or a read-only root's overlay: said once in the
    // journal (and by `loa check`), then the service runs all the same.
    for p in super::readiness::memory_backed(&cfg) {
        tracing::warn!("{}", p.message);
    }
    match crate::daemon::service::serve(cfg, Arc::new(SystemClock), Arc::new(kernel_clock_synced)) {
        Ok(()) => exit::OK,
        Err(e) => {
            eprintln!("{}", e.message(lang));
            exit::PROBLEMS
        }
    }
}
