//! loa: airs a commune's prerecorded announcements on schedule through a
//! loudspeaker amplifier switched by a relay, and records what it aired.
//!
//! # Layout
//! - `config`: the config file: where it is found, its keys, the validated `Config`.
//! - `playlist`: the playlist file format; parsing and checking (pure but for reading files).
//! - `schedule`: the planner: a day's playlist + media durations -> a timeline (pure);
//!   `schedule::clock` holds the one `Clock` seam.
//! - `relay`: the amplifier relay: the `Relay` seam, its backends (gpio, rppal, sim)
//!   and the `RelayGuard` (off at start-up, max-on watchdog, off on drop and panic).
//! - `media`: the audio folder, probing files with symphonia, the media index.
//! - `db`: the state database (SQLite) and its migrations.
//! - `asrun`: the as-run log (what aired, failed or was missed; relay edges)
//!   and the sums behind the commune's report.
//! - `tomlfile`: reading TOML with positions, turning mistakes into located problems.
//! - `problem`: a located problem in an operator's file, and how it prints.
//! - `contain`: containing panics in decoders fed with untrusted files.
//! - `duration`: the "3s" / "1h30m" syntax and human-readable lengths.
//! - `lang`: the operator's language (Vietnamese or English) and `tr!`.
//! - `status_note`: TINH-TRANG.txt, the status note in the audio folder for upload-only accounts.
//! - `control`: the control socket (JSON lines) between the operator's commands
//!   and the running daemon: protocol, server, client, a fake daemon for tests.
//! - `cli`: the operator's commands, one file each.
//! - `testing`: the test fakes, in one place (`TestClock`, `FakeRelay`).

pub mod air;
pub mod asrun;
pub mod cli;
pub mod config;
pub mod contain;
pub mod control;
pub mod daemon;
pub mod db;
pub mod duration;
pub mod lang;
pub mod media;
pub mod player;
pub mod playlist;
pub mod problem;
pub mod relay;
pub mod schedule;
pub mod shutdown;
pub mod status_note;
#[cfg(test)]
pub(crate) mod testing;
pub mod tomlfile;
