//! The service's wiring (`loa run`): the real parts (the relay, the sound
//! output, the as-run log, the control socket, the folder watcher, signals,
//! systemd's notifications and watchdog) put together around the loop, and
//! taken down again, relay off, when it ends.

use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, watch};

use super::{Change, Deps};
use crate::asrun::AsRun;
use crate::config::Config;
use crate::lang::Lang;
use crate::relay::{self, RelayError, RelayGuard};
use crate::schedule::clock::Clock;
use crate::shutdown::Shutdown;
use crate::tr;

/// Why the service could not start, or ended on an error.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The control socket could not be bound (another `loa run`, a folder
    /// missing or not writable).
    #[error("control socket: {0}")]
    Socket(std::io::Error),
    /// The relay could not be opened or switched off at start.
    #[error("relay: {0}")]
    Relay(RelayError),
    /// The as-run log could not be opened.
    #[error("as-run log: {0}")]
    AsRun(crate::db::DbError),
    /// The async runtime could not be started.
    #[error("runtime: {0}")]
    Runtime(std::io::Error),
    /// The loop itself failed.
    #[error("{0}")]
    Loop(anyhow::Error),
}

impl ServiceError {
    /// The message for the operator.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            ServiceError::Socket(e) => crate::control::server::error_message(e, lang),
            ServiceError::Relay(e) => e.message(lang),
            ServiceError::AsRun(e) => {
                let e = e.message(lang);
                tr!(
                    lang,
                    "Không mở được nhật ký phát. {e}",
                    "cannot open the as-run log: {e}"
                )
            }
            ServiceError::Runtime(e) => e.to_string(),
            ServiceError::Loop(e) => e.to_string(),
        }
    }
}

/// Runs the service with this config until SIGTERM or SIGINT; the relay is
/// off when it returns, whatever happened.
pub fn serve(
    cfg: Config,
    clock: Arc<dyn Clock>,
    clock_synced: Arc<dyn Fn() -> bool + Send + Sync>,
) -> Result<(), ServiceError> {
    let lang = cfg.lang;
    raise_open_files_limit();
    relay::install_panic_hook();
    // One service at a time: a second `loa run` must not air the schedule
    // again. Binding the control socket tells.
    let socket = crate::control::server::ControlSocket::bind(&cfg.control.socket)
        .map_err(ServiceError::Socket)?
        .language(lang);
    // The relay first: off before anything else happens.
    let guard = relay::open_guard(&cfg, clock.clone()).map_err(ServiceError::Relay)?;
    let asrun = open_asrun(&cfg)?;
    let unwritten = record_edges(&guard, &asrun);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(ServiceError::Runtime)?;
    let parts = Parts {
        clock,
        clock_synced,
        socket,
        relay: guard.clone(),
        asrun,
    };
    let result = runtime.block_on(run_loop(cfg, parts));
    let _ = guard.off_with(relay::EdgeCause::Shutdown);
    let t = std::time::Instant::now();
    while unwritten.load(std::sync::atomic::Ordering::Acquire) > 0
        && t.elapsed() < std::time::Duration::from_secs(1)
    {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    result
}

/// The parts opened before the runtime starts.
struct Parts {
    clock: Arc<dyn Clock>,
    clock_synced: Arc<dyn Fn() -> bool + Send + Sync>,
    socket: crate::control::server::ControlSocket,
    relay: RelayGuard,
    asrun: Arc<Mutex<AsRun>>,
}

/// The as-run log, with the rows a power cut or a kill left open closed.
fn open_asrun(cfg: &Config) -> Result<Arc<Mutex<AsRun>>, ServiceError> {
    let lang = cfg.lang;
    let a = AsRun::open(&cfg.paths.state).map_err(ServiceError::AsRun)?;
    let why = tr!(
        lang,
        "loa dừng đột ngột khi tệp đang phát (mất điện, lỗi, hoặc bị buộc dừng); không biết tệp phát được đến đâu.",
        "loa stopped abruptly while this item aired (a power cut, a crash, or it was killed); how far it got is not known"
    );
    match a.close_stale(&why) {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            rows = n,
            "{}",
            crate::lang::log(
                "có tệp đang phát khi loa dừng đột ngột lần trước",
                "items were on air when loa last stopped abruptly"
            )
        ),
        Err(e) => {
            tracing::error!(error = %e, "{}", crate::lang::log("không ghi được nhật ký phát", "could not write the as-run log"))
        }
    }
    // What the last run left in the kernel's memory (a kill is not a power
    // cut) goes to the card now, before a power cut can take it.
    if let Err(e) = a.sync_files() {
        tracing::error!(error = %e, "{}", crate::lang::log("không ghi được nhật ký phát xuống thẻ nhớ", "could not sync the as-run log to the card"));
    }
    Ok(Arc::new(Mutex::new(a)))
}

/// Relay edges go to the as-run log from a thread of their own, so that
/// switching the relay never waits for the disk. The count returned is of
/// edges not written yet: the exit waits for the last ones.
fn record_edges(
    guard: &RelayGuard,
    asrun: &Arc<Mutex<AsRun>>,
) -> Arc<std::sync::atomic::AtomicU64> {
    let unwritten = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let a = asrun.clone();
    let left = unwritten.clone();
    let (tx, rx) = std::sync::mpsc::channel::<crate::relay::Edge>();
    let _ = std::thread::Builder::new()
        .name("asrun-edges".into())
        .spawn(move || {
            for edge in rx {
                if let Err(e) = a.lock().unwrap_or_else(|e| e.into_inner()).relay_edge(
                    edge.at,
                    edge.on,
                    edge.cause.name(),
                    edge.zone.as_deref(),
                ) {
                    tracing::error!(error = %e, "could not record a relay edge");
                }
                left.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
            }
        });
    let tx = std::sync::Mutex::new(tx);
    let sent = unwritten.clone();
    guard.on_edge(move |edge| {
        sent.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        let _ = tx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(edge.clone());
    });
    unwritten
}

/// Inside the runtime: signals, the folder watcher and the control socket
/// started, then the loop until a signal.
async fn run_loop(cfg: Config, parts: Parts) -> Result<(), ServiceError> {
    let lang = cfg.lang;
    let shutdown = Shutdown::new();
    let (stop_tx, stop_rx) = watch::channel(false);
    // SIGTERM / SIGINT end the service; SIGHUP re-reads the playlists.
    let (changes_tx, changes_rx) = mpsc::unbounded_channel();
    spawn_signals(stop_tx.clone(), shutdown.clone(), changes_tx.clone());
    let _watcher = watch_folders(&cfg, changes_tx);
    let (req_tx, req_rx) = mpsc::channel(16);
    // The district link asks the loop as the control socket does.
    let district: crate::district::link::LinkState = Default::default();
    let _link = crate::district::link::spawn(crate::district::link::LinkParts {
        cfg: cfg.clone(),
        requests: req_tx.clone(),
        asrun: parts.asrun.clone(),
        state: district.clone(),
        stop: stop_rx.clone(),
    });
    let server_stop = stop_rx.clone();
    let socket = parts.socket;
    let server = tokio::spawn(async move {
        if let Err(e) = socket.serve(req_tx, server_stop).await {
            tracing::error!(error = %e, "control socket");
            eprintln!("{}", crate::control::server::error_message(&e, lang));
        }
    });
    let deps = Deps {
        output: crate::player::output(&cfg),
        clock: parts.clock,
        relay: parts.relay,
        shutdown,
        asrun: parts.asrun,
        clock_synced: parts.clock_synced,
        requests: req_rx,
        changes: changes_rx,
        ready: Box::new(|| sd_notify("READY=1")),
        alive: Box::new(|| sd_notify("WATCHDOG=1")),
        turn_every: watchdog_half(),
        status_note: true,
        district,
    };
    tracing::info!(config = %cfg.path.display(), "{}", crate::lang::log("loa khởi động", "loa starting"));
    let result = super::run(cfg, deps, stop_rx).await;
    let _ = stop_tx.send(true);
    let _ = server.await;
    result.map_err(ServiceError::Loop)
}

fn spawn_signals(
    stop: watch::Sender<bool>,
    shutdown: Shutdown,
    changes: mpsc::UnboundedSender<Change>,
) {
    use tokio::signal::unix::{SignalKind, signal};
    tokio::spawn(async move {
        let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
            signal(SignalKind::hangup()),
        ) else {
            tracing::error!(
                "{}",
                crate::lang::log(
                    "không nhận được tín hiệu dừng của hệ thống",
                    "cannot listen for signals"
                )
            );
            return;
        };
        loop {
            tokio::select! {
                _ = term.recv() => { shutdown.trigger(15); let _ = stop.send(true); break; }
                _ = int.recv() => { shutdown.trigger(2); let _ = stop.send(true); break; }
                _ = hup.recv() => { tracing::info!("SIGHUP: re-reading"); let _ = changes.send(Change::default()); }
            }
        }
    });
}

/// Watches the playlists and audio folders (inotify); each change is sent
/// on `changes` (the daemon debounces).
fn watch_folders(
    cfg: &Config,
    changes: mpsc::UnboundedSender<Change>,
) -> Option<notify::RecommendedWatcher> {
    use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind, RenameMode};
    use notify::{RecursiveMode, Watcher};
    let handler = move |res: notify::Result<notify::Event>| {
        let Ok(ev) = res else { return };
        let closed = matches!(
            ev.kind,
            EventKind::Access(AccessKind::Close(AccessMode::Write))
        );
        let removed = matches!(
            ev.kind,
            EventKind::Remove(_) | EventKind::Modify(ModifyKind::Name(RenameMode::From))
        );
        // Opening or reading a file changes nothing; neither does a new
        // mode or group (loa sets them itself on what it takes up).
        if (ev.kind.is_access() && !closed)
            || matches!(ev.kind, EventKind::Modify(ModifyKind::Metadata(_)))
        {
            return;
        }
        for path in ev.paths {
            let _ = changes.send(Change {
                path: Some(path),
                closed,
                removed,
            });
        }
    };
    // Upload accounts write the audio folder: a link there (to the state
    // folder, to itself) must never be followed, not even to watch it.
    let config = notify::Config::default().with_follow_symlinks(false);
    let mut w = notify::RecommendedWatcher::new(handler, config)
        .map_err(
            |e| tracing::warn!(error = %e, "cannot watch folders; use `loa reload` after changes"),
        )
        .ok()?;
    for (p, mode) in [
        (&cfg.paths.playlists, RecursiveMode::NonRecursive),
        (&cfg.paths.audio, RecursiveMode::Recursive),
    ] {
        if let Err(e) = w.watch(p, mode) {
            tracing::warn!(error = %e, folder = %p.display(), "{}", crate::lang::log("không theo dõi được thư mục", "cannot watch folder"));
        }
    }
    Some(w)
}

/// Half of systemd's watchdog interval ($WATCHDOG_USEC), when one is set.
fn watchdog_half() -> Option<std::time::Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    Some(std::time::Duration::from_micros(usec / 2))
}

/// Tells systemd (Type=notify) about the service, when run under it.
pub fn sd_notify(state: &str) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let Ok(sock) = std::os::unix::net::UnixDatagram::unbound() else {
        return;
    };
    let path = path.to_string_lossy().into_owned();
    let result = if let Some(abstract_name) = path.strip_prefix('@') {
        use std::os::linux::net::SocketAddrExt;
        std::os::unix::net::SocketAddr::from_abstract_name(abstract_name.as_bytes())
            .and_then(|addr| sock.send_to_addr(state.as_bytes(), &addr))
    } else {
        sock.send_to(state.as_bytes(), &path)
    };
    if let Err(e) = result {
        tracing::debug!(error = %e, "sd_notify");
    }
}

/// Raises the soft limit of open files to the hard one: systemd's default
/// soft limit (1024) is low for a service that must always have a
/// descriptor for its sound device, its database and its playlists, even
/// while the control socket is flooded (the server bounds its connections
/// too).
fn raise_open_files_limit() {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut r = getrlimit(Resource::Nofile);
    if r.current != r.maximum {
        r.current = r.maximum;
        if let Err(e) = setrlimit(Resource::Nofile, r) {
            tracing::debug!(error = %e, "cannot raise the open files limit");
        }
    }
}
