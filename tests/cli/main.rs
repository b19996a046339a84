//! The integration tests: one binary driving the real `loa` program as an
//! operator would, each test in its own temporary installation (see `util`).
//! They check what a user sees: exit codes, `PATH:LINE:COL` messages and the
//! fields of `loa plan --json`, the sound that came out of the ALSA stand-in
//! and the relay's edges. The specs they follow are issues 2 to 6, 10,
//! 11 and 13: each regression test starts with a comment naming the issue it guards.

// Test support: a throw-away installation per test, the `loa` runner, the harnesses.
mod util;

// The broadcast archive: recordings of what aired, retention, playback (issue 13).
mod archive;
// `loa log` and `loa report` on an as-run log written as the daemon writes it (issue 4).
mod asrun;
// Each mistake an operator can make, said at its file, line and column (issues 2, 10, 11).
mod bad_input;
// Clock jumps under libfaketime: nothing airs in a burst, nothing airs twice (issue 11).
mod clock;
// Where the config is found, its relative paths, and the commune's time zone (issue 2).
mod config;
// The control commands against a fake service on the control socket (issue 4).
mod control;
// `loa demo`, the README's first command (issue 4).
mod demo;
// Gapless decoding: a file plays, fades and is planned for its recording's length (issue 13).
mod gapless;
// `loa check`'s exit codes: 0, 1 with an error, 2 when the config cannot be read (issue 2).
mod exit_codes;
// The live-radio harness: a real Icecast fed by ffmpeg, and the fake stations (issue 15).
mod icecast_harness;
// Uploads and `loa import`: what must play, what is refused and why (issue 5).
mod ingest;
// Links planted in the untrusted audio folder are never followed (issue 10).
mod links;
// The media index: a file is probed once until it changes (issue 2).
mod media;
// `loa plan`: the operator's table and the JSON problems (issue 2).
mod plan;
// `loa play` through the real ALSA path: the sound and the relay's edges (issue 3).
mod play;
// Which playlist is in effect on a day, and NFC file names (issue 2).
mod playlists;
// Relaying live programmes: Icecast streams, failover, the slot kept (issue 15).
mod live;
// kill -9 and power cuts through broadcasts: the as-run log keeps its rows (issue 19).
mod powercut;
// `loa report` as the commune files it: docx, xlsx, csv, md (issue 14).
mod report;
// `loa relay on|off|status` and `loa devices` (issue 3).
mod relay;
// What reaches the service's control socket is checked first (issue 11).
mod requests;
// Text read aloud offline by the real espeak-ng: `loa say`, playlist `say` items (issue 18).
mod say;
// The real `loa run` end to end: relay, sound, status, log, signals (issue 4).
mod service;
// The shipped config, playlists and samples check clean and plan as the spec says (issue 2).
mod shipped;
// Uploads through a real sshd with real accounts and clients (issue 10).
mod upload;

// Hamlet zones on relays of their own (issue 16).
mod zones;

// The district over MQTT, with a real broker (issue 17).
mod district;
// The box's side of the district link, with real boxes (issue 17).
mod district_box;
