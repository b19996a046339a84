//! loa: airs a commune's prerecorded announcements on schedule through a
//! loudspeaker amplifier switched by a relay, and records what it aired.
//!
//! # Layout
//! Every module, in the order a broadcast goes through them.
//! - `config`: the config file: where it is found, its keys, the validated `Config`.
//! - `playlist`: the playlist file format (`parse`: TOML to broadcasts, with
//!   located problems); which file is in effect on a day.
//! - `media`: the audio folder as untrusted ground (`folder`), its files by
//!   name (`library`), header checks (`header`), decoding (`decode`),
//!   measuring (`measure`, `loudness`, the `mpeg` and `ogg` walks),
//!   validation (`validate`, `rejection`, `rejected`), the media index
//!   (`index`), taking up uploads (`ingest`), and the planner's view of it
//!   all (`facts`).
//! - `schedule`: the planner (pure): `plan_for` a day from the playlists and
//!   the media facts; `timeline`, the timing rule of one broadcast (relay
//!   on, warm-up, gaps, hold, relay off), written once; `agenda`, what is
//!   due now; `clock`, the one `Clock` seam.
//! - `relay`: the amplifier relay: the `Relay` seam, its backends (`gpio`,
//!   `rppal`, `sim`), one owner at a time (`lock`), and the `RelayGuard`
//!   (`guard`: off at start-up, max-on watchdog, off on drop and panic).
//! - `player`: the sound output: the `Output` and `Sink` seams, the backend
//!   table (`BACKENDS`), ALSA through cpal (`alsa`), the item pipeline
//!   (`engine`: decode ahead, resample, gain, fades), loudness gain
//!   (`gain`), and the paced stand-in card for `loa demo` (`standin`).
//! - `air`: the airing sequence, once, for every broadcast (`airing`: a
//!   small state machine on the clock seam).
//! - `daemon`: the service (`loa run`): the loop, re-planning
//!   (`planning`), uploads (`ingest`), starting broadcasts (`broadcast`),
//!   the as-run log as they air (`recorder`), the control socket's requests
//!   (`requests`), `status`, and the wiring of the real parts (`service`).
//! - `control`: the control socket (JSON lines) between the operator's
//!   commands and the running service: `protocol`, `server`, `client`, and
//!   `fake`, a stand-in service for the command-line tests.
//! - `tts`: text read aloud offline (`loa say`, a playlist's `say`, the
//!   district's `say`): Vietnamese normalisation (`normalize`), the
//!   engines run as programs (`engine`: espeak-ng, Piper), the render
//!   cache.
//! - `archive`: the broadcast archive: every broadcast recorded as it went
//!   to the sound card (`tap`, `encoder`: mono MP3 through LAME), kept by
//!   `retention`, found by `listing`.
//! - `asrun`: the as-run log (what aired, failed or was missed; relay
//!   edges) and the sums behind the commune's report (`report`).
//! - `db`: the state database (SQLite) and its migrations.
//! - `status_note`: TINH-TRANG.txt, the status note in the audio folder for
//!   upload-only accounts.
//! - `cli`: the operator's commands, one file each (`context`: what they
//!   share; `readiness`: `loa check`'s look at the box itself).
//! - `tomlfile`: reading TOML with positions, turning mistakes into located
//!   problems; `problem`: a located problem and how it prints.
//! - `contain`: containing panics in decoders fed with untrusted files.
//! - `shutdown`: the shutdown signal, passed in as a value.
//! - `duration`: the "3s" / "1h30m" syntax and human-readable lengths.
//! - `lang`: the operator's language (Vietnamese or English) and `tr!`.
//! - `testing` (test builds only): the fakes, one per seam (`TestClock`,
//!   `TokioClock`, `FakeRelay`, `FakeOutput`).

pub mod air;
pub mod archive;
pub mod asrun;
pub mod cli;
pub mod config;
pub mod contain;
pub mod control;
pub mod daemon;
pub mod db;
pub mod district;
pub mod duration;
pub mod lang;
pub mod live;
pub mod media;
pub mod player;
pub mod playlist;
pub mod problem;
pub mod relay;
pub mod report;
pub mod schedule;
pub mod shutdown;
pub mod status_note;
#[cfg(test)]
pub(crate) mod testing;
pub mod tomlfile;
pub mod tts;
