//! The integration tests: one binary driving the real `loa` program as an
//! operator would, each test in its own temporary installation (see `util`).
//! They check what a user sees: exit codes, `PATH:LINE:COL` messages and the
//! fields of `loa plan --json`, the sound that came out of the ALSA stand-in
//! and the relay's edges. The specs they follow are issues 2 and 3.

mod util;

#[path = "cli/asrun.rs"]
mod asrun;
#[path = "cli/bad_input.rs"]
mod bad_input;
#[path = "cli/clock.rs"]
mod clock;
#[path = "cli/config.rs"]
mod config;
#[path = "cli/control.rs"]
mod control;
#[path = "cli/demo.rs"]
mod demo;
#[path = "cli/exit_codes.rs"]
mod exit_codes;
#[path = "cli/ingest.rs"]
mod ingest;
#[path = "cli/links.rs"]
mod links;
#[path = "cli/media.rs"]
mod media;
#[path = "cli/plan.rs"]
mod plan;
#[path = "cli/play.rs"]
mod play;
#[path = "cli/playlists.rs"]
mod playlists;
#[path = "cli/relay.rs"]
mod relay;
#[path = "cli/requests.rs"]
mod requests;
#[path = "cli/service.rs"]
mod service;
#[path = "cli/shipped.rs"]
mod shipped;
#[path = "cli/upload.rs"]
mod upload;
