//! A stand-in daemon for tests: the real [`serve`](super::serve) on a
//! background thread with its own tokio runtime, answering each request with
//! a canned response and keeping the requests for the test to look at. It
//! must not be used outside tests; it airs nothing.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use tokio::sync::{mpsc, oneshot, watch};

use super::protocol::{
    BroadcastResult, NextBroadcast, Playing, RelayState, Request, Response, Status, TodayBroadcast,
};
use super::server::ControlSocket;

/// How the fake answers a request.
pub type Answer = Box<dyn Fn(&Request) -> Response + Send>;

/// A fake daemon listening on a socket until dropped.
pub struct FakeDaemon {
    socket: PathBuf,
    seen: Arc<Mutex<Vec<Request>>>,
    shutdown: watch::Sender<bool>,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl FakeDaemon {
    /// Binds `socket` (so it answers as soon as this returns) and answers
    /// every request with `answer`.
    pub fn start(
        socket: &Path,
        answer: impl Fn(&Request) -> Response + Send + 'static,
    ) -> io::Result<FakeDaemon> {
        let bound = ControlSocket::bind(socket)?;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (shutdown, shutdown_rx) = watch::channel(false);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let log = seen.clone();
        let thread = std::thread::Builder::new()
            .name("fake-daemon".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let (tx, mut rx) = mpsc::channel::<(Request, oneshot::Sender<Response>)>(16);
                    tokio::spawn(async move {
                        while let Some((req, reply)) = rx.recv().await {
                            let response = answer(&req);
                            log.lock().unwrap_or_else(|e| e.into_inner()).push(req);
                            let _ = reply.send(response);
                        }
                    });
                    bound.serve(tx, shutdown_rx).await
                })
            })?;
        Ok(FakeDaemon {
            socket: socket.to_path_buf(),
            seen,
            shutdown,
            thread: Some(thread),
        })
    }

    /// The socket it answers on.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// The requests received so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Stops serving (the socket file is removed) and waits for it.
    pub fn stop(mut self) -> io::Result<()> {
        self.finish()
    }

    fn finish(&mut self) -> io::Result<()> {
        let _ = self.shutdown.send(true);
        match self.thread.take() {
            Some(t) => t
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the fake daemon panicked"))),
            None => Ok(()),
        }
    }
}

impl Drop for FakeDaemon {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

/// A status with every field filled, as a daemon might report it at
/// 06:01:12 on 2026-01-20 in the middle of the morning broadcast.
pub fn sample_status() -> Status {
    Status {
        now: "2026-01-20T06:01:12+07:00".into(),
        timezone: "Asia/Ho_Chi_Minh".into(),
        playing: Some(Playing {
            broadcast: Some("Bản tin sáng".into()),
            file: "tin-tuc.mp3".into(),
            elapsed_s: 72.4,
            total_s: Some(185.0),
            priority: crate::asrun::Priority::Normal,
            index: 2,
            count: 3,
            relay: None,
        }),
        warming_up: None,
        next: Some(NextBroadcast {
            title: Some("Bản tin chiều".into()),
            at: "2026-01-20T17:00:00+07:00".into(),
            relay_on: "2026-01-20T16:59:57+07:00".into(),
        }),
        relay: RelayState {
            on: true,
            since: Some("2026-01-20T05:59:57+07:00".into()),
            backend: "sim".into(),
        },
        zones: vec![],
        district: None,
        clock_synced: true,
        audio_device: "default".into(),
        last_error: None,
        last_error_at: None,
        plan_error: None,
        playlist: Some("playlists/default.toml".into()),
        today: vec![
            TodayBroadcast {
                title: Some("Bản tin sáng".into()),
                at: "2026-01-20T06:00:00+07:00".into(),
                status: BroadcastResult::Playing,
            },
            TodayBroadcast {
                title: Some("Bản tin chiều".into()),
                at: "2026-01-20T17:00:00+07:00".into(),
                status: BroadcastResult::Pending,
            },
        ],
        queued: vec![],
        warnings: vec![],
        archive: None,
    }
}
