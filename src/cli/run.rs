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
    match crate::daemon::service::serve(cfg, Arc::new(SystemClock), Arc::new(kernel_clock_synced)) {
        Ok(()) => exit::OK,
        Err(e) => {
            eprintln!("{}", e.message(lang));
            exit::PROBLEMS
        }
    }
}
