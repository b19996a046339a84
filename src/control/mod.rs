//! The control socket: how the operator's commands (`loa status`, `loa now`,
//! `loa relay on`...) talk to the running daemon. `protocol` holds the JSON
//! shapes, `server` the daemon's side (it hands each request to the daemon
//! over a channel and never acts on one itself), `client` the commands' side.
//! `fake` is a stand-in daemon for tests (test builds and the `test-fakes`
//! feature only).

pub mod client;
#[cfg(any(test, feature = "test-fakes"))]
pub mod fake;
pub mod protocol;
pub mod server;

pub use client::{ClientError, request};
pub use protocol::{NextBroadcast, Playing, RelayState, Request, Response, Status, TodayBroadcast};
pub use server::{ControlSocket, Requests, ServeError, serve};
