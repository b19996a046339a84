//! The control socket's server side: binds the Unix socket (mode 0660, so the
//! operators' group may use it), reads one request line per connection,
//! hands each request to the daemon over a channel with a one-shot reply
//! slot, and writes the daemon's answer back as one line. It decides nothing
//! itself: what a request does is the daemon's business, and a bad client
//! never disturbs the daemon (it gets an error line and the connection ends).

use std::fmt;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinSet;
use tracing::{debug, warn};

use super::protocol::{MAX_REQUEST, Request, Response};
use crate::lang::Lang;
use crate::problem::display_path;
use crate::tr;

/// Where the server hands requests to the daemon: each with the slot for its
/// answer.
pub type Requests = mpsc::Sender<(Request, oneshot::Sender<Response>)>;

/// Owner and group may read and write: the operators are put in the
/// service's group, nobody else may command the loudspeakers.
pub const SOCKET_MODE: u32 = 0o660;

/// How long a client has to send its request line: `loa status` sends it
/// at once; a connection that says nothing must not hold a slot.
const READ_TIMEOUT: Duration = Duration::from_secs(2);

/// How many connections are served at once; more are closed as they come
/// (with a line saying why). A flood of idle connections must never take
/// the descriptors the sound device, the database and the playlists need.
pub const MAX_CONNECTIONS: usize = 32;

/// How long the daemon has to answer; the client gives up sooner.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// After answering, how much unread input is read away (and for how long)
/// so that closing does not reset the connection before the client reads.
const DRAIN_LIMIT: u64 = 16 * MAX_REQUEST as u64;
const DRAIN_TIMEOUT: Duration = Duration::from_secs(1);

/// Binds `path` and serves requests until `shutdown` turns true (or its
/// sender is dropped), then removes the socket file. Returns an error at
/// once when the socket cannot be set up, e.g. [`ServeError::AlreadyRunning`]
/// (kind `AddrInUse`) when another loa service answers on it;
/// [`error_message`] words any of them for the operator.
pub async fn serve(
    path: &Path,
    requests: Requests,
    shutdown: watch::Receiver<bool>,
) -> io::Result<()> {
    ControlSocket::bind(path)?.serve(requests, shutdown).await
}

/// A bound control socket not yet serving: lets the daemon find out that
/// another one runs before it touches the relay, then serve later.
#[derive(Debug)]
pub struct ControlSocket {
    listener: std::os::unix::net::UnixListener,
    file: SocketFile,
    /// The language of the server's own messages (a malformed request...);
    /// None writes both.
    lang: Option<Lang>,
}

impl ControlSocket {
    /// Creates the parent folder if missing, removes a stale socket file
    /// (one nobody answers on), binds, and sets mode 0660. Works outside a
    /// tokio runtime.
    pub fn bind(path: &Path) -> io::Result<ControlSocket> {
        let fail = |step, source| ServeError::Io {
            step,
            path: path.to_path_buf(),
            source,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
            && !parent.exists()
        {
            std::fs::create_dir_all(parent).map_err(|e| fail(Step::CreateFolder, e))?;
        }
        remove_stale(path)?;
        let listener = std::os::unix::net::UnixListener::bind(path).map_err(|e| {
            if e.kind() == io::ErrorKind::AddrInUse {
                ServeError::AlreadyRunning {
                    socket: path.to_path_buf(),
                }
            } else {
                fail(Step::Bind, e)
            }
        })?;
        // From here on the file is ours: removed again if anything fails.
        let meta = std::fs::symlink_metadata(path).map_err(|e| fail(Step::Bind, e))?;
        let file = SocketFile {
            path: path.to_path_buf(),
            dev: meta.dev(),
            ino: meta.ino(),
        };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(SOCKET_MODE))
            .map_err(|e| fail(Step::SetMode, e))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| fail(Step::Bind, e))?;
        Ok(ControlSocket {
            listener,
            file,
            lang: None,
        })
    }

    /// Writes the server's own messages in `lang` instead of both languages.
    pub fn language(mut self, lang: Lang) -> ControlSocket {
        self.lang = Some(lang);
        self
    }

    /// The socket file it is bound to.
    pub fn path(&self) -> &Path {
        &self.file.path
    }

    /// Serves until `shutdown` turns true or its sender is dropped; then
    /// stops accepting, drops the connections in progress and removes the
    /// socket file (unless another process has replaced it).
    pub async fn serve(
        self,
        requests: Requests,
        mut shutdown: watch::Receiver<bool>,
    ) -> io::Result<()> {
        let ControlSocket {
            listener,
            file,
            lang,
        } = self;
        let listener = UnixListener::from_std(listener)?;
        debug!(socket = %file.path.display(), "control socket listening");
        let mut connections = JoinSet::new();
        loop {
            if *shutdown.borrow_and_update() {
                break;
            }
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) if connections.len() >= MAX_CONNECTIONS => {
                        // Refused at once: a short line, then closed.
                        let busy = say(
                            lang,
                            "Dịch vụ loa đang bận trả lời quá nhiều kết nối; hãy thử lại sau vài giây.",
                            "the loa service is busy with too many connections; try again in a few seconds",
                        );
                        let answer = Response {
                            busy: true,
                            ..Response::error(busy)
                        };
                        let line = serde_json::to_vec(&answer).unwrap_or_default();
                        let _ = stream.try_write(&[line.as_slice(), b"\n"].concat());
                        drop(stream);
                    }
                    Ok((stream, _)) => {
                        connections.spawn(answer(stream, requests.clone(), lang));
                    }
                    Err(e) => {
                        // Out of file descriptors and the like: wait a little
                        // rather than spin; the daemon goes on airing.
                        warn!(error = %e, "control socket: accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
                changed = shutdown.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
        drop(file);
        drop(listener);
        connections.shutdown().await;
        debug!("control socket closed");
        Ok(())
    }
}

/// The socket file while it is ours: removed on drop, unless another
/// process has since put its own in its place.
#[derive(Debug)]
struct SocketFile {
    path: PathBuf,
    dev: u64,
    ino: u64,
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        if let Ok(m) = std::fs::symlink_metadata(&self.path)
            && m.dev() == self.dev
            && m.ino() == self.ino
        {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Removes a socket file left by a daemon that died without cleaning up.
/// One that answers belongs to a running daemon: that is an error.
fn remove_stale(path: &Path) -> Result<(), ServeError> {
    let fail = |step, source| ServeError::Io {
        step,
        path: path.to_path_buf(),
        source,
    };
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(fail(Step::CheckExisting, e)),
    };
    if !meta.file_type().is_socket() {
        return Err(ServeError::NotASocket {
            path: path.to_path_buf(),
        });
    }
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => Err(ServeError::AlreadyRunning {
            socket: path.to_path_buf(),
        }),
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
            debug!(socket = %path.display(), "removing a stale control socket");
            match std::fs::remove_file(path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(fail(Step::RemoveStale, e)),
                _ => Ok(()),
            }
        }
        Err(e) => Err(fail(Step::CheckExisting, e)),
    }
}

/// One connection: read a line, ask the daemon, write its answer, close.
async fn answer(stream: UnixStream, requests: Requests, lang: Option<Lang>) {
    let (mut reader, mut writer) = stream.into_split();
    let response = match tokio::time::timeout(READ_TIMEOUT, read_request(&mut reader)).await {
        Err(_) => Response::error(say(
            lang,
            "Không nhận được yêu cầu trọn vẹn trong 2 giây; hãy gửi một dòng JSON kết thúc bằng dấu xuống dòng, ví dụ {\"cmd\":\"status\"}.",
            "no complete request within 2 s; send one JSON line ending in a newline, e.g. {\"cmd\":\"status\"}",
        )),
        Ok(Err(e)) => {
            debug!(error = %e, "control socket: reading a request failed");
            return;
        }
        Ok(Ok(Incoming::Nothing)) => return,
        Ok(Ok(Incoming::TooLong)) => {
            warn!("control socket: a request longer than 64 KiB was refused");
            Response::error(say(
                lang,
                "Yêu cầu dài quá 64 KiB nên bị từ chối; hãy ghi ít tệp hơn trong một lệnh.",
                "a request longer than 64 KiB was refused; name fewer files in one command",
            ))
        }
        Ok(Ok(Incoming::Line(line))) => match serde_json::from_slice::<Request>(&line) {
            Ok(request) => ask_daemon(request, &requests, lang).await,
            Err(e) => {
                warn!(error = %e, "control socket: malformed request");
                let e = e.to_string();
                Response::error(say(
                    lang,
                    &format!(
                        "Yêu cầu không hợp lệ ({e}); mỗi yêu cầu phải là một đối tượng JSON trên một dòng, ví dụ {{\"cmd\":\"status\"}}; hoặc hãy dùng các lệnh `loa status`, `loa now`, `loa stop`."
                    ),
                    &format!(
                        "invalid request ({e}); send one JSON object on one line, e.g. {{\"cmd\":\"status\"}}, or use the commands `loa status`, `loa now`, `loa stop`"
                    ),
                ))
            }
        },
    };
    let mut line = match serde_json::to_vec(&response) {
        Ok(l) => l,
        Err(e) => {
            warn!(error = %e, "control socket: cannot encode a response");
            return;
        }
    };
    line.push(b'\n');
    if let Err(e) = writer.write_all(&line).await {
        debug!(error = %e, "control socket: the client left before the answer");
        return;
    }
    let _ = writer.shutdown().await;
    // Closing with unread input would reset the connection and lose the
    // answer (a request that was too long): read what is left, briefly.
    let mut rest = (&mut reader).take(DRAIN_LIMIT);
    let _ = tokio::time::timeout(
        DRAIN_TIMEOUT,
        tokio::io::copy(&mut rest, &mut tokio::io::sink()),
    )
    .await;
}

/// Passes a request to the daemon and waits for its answer.
async fn ask_daemon(request: Request, requests: &Requests, lang: Option<Lang>) -> Response {
    debug!(?request, "control request");
    let (tx, rx) = oneshot::channel();
    if requests.send((request, tx)).await.is_err() {
        return Response::error(say(
            lang,
            "Dịch vụ loa đang dừng và không nhận lệnh nữa; hãy thử lại khi dịch vụ chạy lại (`systemctl status loa`).",
            "the loa service is stopping and takes no more commands; try again once it runs again (`systemctl status loa`)",
        ));
    }
    match tokio::time::timeout(ANSWER_TIMEOUT, rx).await {
        Ok(Ok(response)) => response,
        Ok(Err(_)) => Response::error(say(
            lang,
            "Dịch vụ loa bỏ dở lệnh này mà không trả lời; hãy xem `journalctl -u loa -n 50` rồi thử lại.",
            "the loa service dropped this command without an answer; see `journalctl -u loa -n 50`, then try again",
        )),
        Err(_) => Response::error(say(
            lang,
            "Dịch vụ loa không trả lời trong 60 giây; hãy xem `journalctl -u loa -n 50`.",
            "the loa service did not answer within 60 s; see `journalctl -u loa -n 50`",
        )),
    }
}

/// A message of the server's own, in `lang` or in both.
fn say(lang: Option<Lang>, vi: &str, en: &str) -> String {
    match lang {
        Some(l) => l.pick(vi, en).to_string(),
        None => format!("{vi} / {en}"),
    }
}

/// What came in on a connection.
enum Incoming {
    /// The client closed without sending anything (a probe).
    Nothing,
    /// More than [`MAX_REQUEST`] bytes without a newline.
    TooLong,
    /// One line, without its newline.
    Line(Vec<u8>),
}

/// Reads one line of at most [`MAX_REQUEST`] bytes; a last line without a
/// newline counts too.
async fn read_request(reader: &mut (impl AsyncRead + Unpin)) -> io::Result<Incoming> {
    let mut reader = BufReader::new(reader.take(MAX_REQUEST as u64 + 1));
    let mut line = Vec::new();
    let n = reader.read_until(b'\n', &mut line).await?;
    if n == 0 {
        return Ok(Incoming::Nothing);
    }
    if line.last() == Some(&b'\n') {
        line.pop();
    }
    if line.len() > MAX_REQUEST {
        return Ok(Incoming::TooLong);
    }
    Ok(Incoming::Line(line))
}

/// A step in setting up the socket, for error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Creating the socket's folder.
    CreateFolder,
    /// Looking at what sits at the socket's path already, and whether
    /// anyone answers on it.
    CheckExisting,
    /// Removing a socket file nobody answers on.
    RemoveStale,
    /// Binding and listening.
    Bind,
    /// Setting the socket's mode to 0660.
    SetMode,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::CreateFolder => "cannot create the folder of",
            Step::CheckExisting => "cannot check the existing",
            Step::RemoveStale => "cannot remove the stale",
            Step::Bind => "cannot listen on",
            Step::SetMode => "cannot set mode 0660 on",
        })
    }
}

/// Why the control socket could not be set up. Carried inside the
/// `io::Error` that [`serve`] and [`ControlSocket::bind`] return.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Another loa service answers on the socket.
    #[error("a loa service is already running (it answers on {})", socket.display())]
    AlreadyRunning {
        /// The control socket.
        socket: PathBuf,
    },
    /// Something that is not a socket sits at the socket's path.
    #[error("{} exists and is not a socket", path.display())]
    NotASocket {
        /// The socket's path.
        path: PathBuf,
    },
    /// A step of the set-up failed.
    #[error("{step} {}: {source}", path.display())]
    Io {
        /// The step that failed.
        step: Step,
        /// The socket's path.
        path: PathBuf,
        /// The system's error.
        #[source]
        source: io::Error,
    },
}

impl From<ServeError> for io::Error {
    fn from(e: ServeError) -> io::Error {
        let kind = match &e {
            ServeError::AlreadyRunning { .. } => io::ErrorKind::AddrInUse,
            ServeError::NotASocket { .. } => io::ErrorKind::AlreadyExists,
            ServeError::Io { source, .. } => source.kind(),
        };
        io::Error::new(kind, e)
    }
}

impl ServeError {
    /// What to tell the operator: what went wrong and what to do.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            ServeError::AlreadyRunning { socket } => {
                let shown = display_path(socket);
                tr!(
                    lang,
                    "Một dịch vụ loa khác đang chạy (trả lời qua {shown}), mà mỗi lúc chỉ được chạy một dịch vụ. Hãy dừng dịch vụ đó trước bằng `sudo systemctl stop loa`, hoặc xem nó đang làm gì bằng `loa status`.",
                    "a loa service is already running (it answers on {shown}); only one may run: stop it first with `sudo systemctl stop loa`, or see what it does with `loa status`"
                )
            }
            ServeError::NotASocket { path } => {
                let shown = display_path(path);
                tr!(
                    lang,
                    "Đã có tệp {shown}, nhưng đó không phải là socket điều khiển; hãy chuyển tệp đó đi chỗ khác, hoặc đặt [control] socket sang đường dẫn khác.",
                    "{shown} exists and is not a control socket; move it away or set [control] socket to another path"
                )
            }
            ServeError::Io { step, path, source } => {
                let shown = display_path(path);
                let folder = path
                    .parent()
                    .map(display_path)
                    .unwrap_or_else(|| shown.clone());
                let reason = match source.kind() {
                    io::ErrorKind::PermissionDenied => tr!(
                        lang,
                        "không có quyền: người dùng chạy dịch vụ phải ghi được vào {folder}",
                        "permission denied; the user running the service must be able to write to {folder}"
                    ),
                    io::ErrorKind::InvalidInput => tr!(
                        lang,
                        "đường dẫn quá dài cho một socket (tối đa 107 byte); hãy đặt [control] socket ngắn hơn",
                        "the path is too long for a socket (at most 107 bytes); set a shorter [control] socket"
                    ),
                    _ => source.to_string(),
                };
                match step {
                    Step::CreateFolder => tr!(
                        lang,
                        "Không tạo được thư mục {folder} cho socket điều khiển: {reason}.",
                        "cannot create the folder {folder} for the control socket: {reason}"
                    ),
                    Step::CheckExisting => tr!(
                        lang,
                        "Không kiểm tra được socket điều khiển cũ {shown}: {reason}.",
                        "cannot check the old control socket {shown}: {reason}"
                    ),
                    Step::RemoveStale => tr!(
                        lang,
                        "Không xóa được socket điều khiển cũ {shown} (không còn ai trả lời qua socket này): {reason}.",
                        "cannot remove the old control socket {shown} (nobody answers on it): {reason}"
                    ),
                    Step::Bind => tr!(
                        lang,
                        "Không mở được socket điều khiển {shown}: {reason}.",
                        "cannot open the control socket {shown}: {reason}"
                    ),
                    Step::SetMode => tr!(
                        lang,
                        "Không đặt được quyền 0660 cho socket điều khiển {shown}: {reason}.",
                        "cannot set mode 0660 on the control socket {shown}: {reason}"
                    ),
                }
            }
        }
    }
}

/// Words an error from [`serve`] or [`ControlSocket::bind`] for the operator.
pub fn error_message(e: &io::Error, lang: Lang) -> String {
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<ServeError>())
    {
        Some(se) => se.message(lang),
        None => tr!(
            lang,
            "Socket điều khiển gặp lỗi: {e}",
            "the control socket failed: {e}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::protocol::Status;
    use tokio::io::AsyncWriteExt;

    /// A daemon stand-in: answers every request with `answer`, and passes
    /// each request it got to the test.
    fn daemon(
        answer: impl Fn(&Request) -> Response + Send + 'static,
    ) -> (Requests, mpsc::UnboundedReceiver<Request>) {
        let (tx, mut rx) = mpsc::channel::<(Request, oneshot::Sender<Response>)>(8);
        let (seen_tx, seen_rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some((req, reply)) = rx.recv().await {
                let _ = reply.send(answer(&req));
                let _ = seen_tx.send(req);
            }
        });
        (tx, seen_rx)
    }

    fn canned(req: &Request) -> Response {
        match req {
            Request::Status => Response::status(Status {
                now: "2026-01-20T06:00:00+07:00".into(),
                clock_synced: true,
                ..Status::default()
            }),
            Request::Now { files, .. } => Response::ok(format!("airing {}", files.join(", "))),
            _ => Response::ok("done"),
        }
    }

    /// Starts `serve` on DIR/state/loa.sock; returns the path, the shutdown
    /// switch, the requests the daemon saw and the server's task.
    async fn start(
        dir: &Path,
    ) -> (
        PathBuf,
        watch::Sender<bool>,
        mpsc::UnboundedReceiver<Request>,
        tokio::task::JoinHandle<io::Result<()>>,
    ) {
        let path = dir.join("state/loa.sock");
        let (requests, seen) = daemon(canned);
        let (stop_tx, stop_rx) = watch::channel(false);
        let socket = ControlSocket::bind(&path).unwrap();
        let task = tokio::spawn(socket.serve(requests, stop_rx));
        (path, stop_tx, seen, task)
    }

    /// Sends raw bytes, returns the answer line parsed.
    async fn exchange(path: &Path, bytes: &[u8]) -> Response {
        let mut s = UnixStream::connect(path).await.unwrap();
        s.write_all(bytes).await.unwrap();
        if !bytes.ends_with(b"\n") {
            // The end of the input ends the line.
            s.shutdown().await.unwrap();
        }
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        assert!(
            out.ends_with('\n') && out.matches('\n').count() == 1,
            "{out:?}"
        );
        serde_json::from_str(&out).unwrap()
    }

    #[tokio::test]
    async fn status_and_now_reach_the_daemon_and_come_back() {
        let dir = tempfile::tempdir().unwrap();
        let (path, stop, mut seen, task) = start(dir.path()).await;
        let r = exchange(&path, b"{\"cmd\":\"status\"}\n").await;
        assert!(r.ok);
        let s = r.status.unwrap();
        assert!(s.clock_synced);
        assert_eq!(s.now, "2026-01-20T06:00:00+07:00");
        assert_eq!(seen.recv().await.unwrap(), Request::Status);

        let r = exchange(&path, b"{\"cmd\":\"now\",\"files\":[\"a.mp3\"]}\n").await;
        assert!(r.ok);
        assert_eq!(r.message.as_deref(), Some("airing a.mp3"));
        assert_eq!(
            seen.recv().await.unwrap(),
            Request::Now {
                files: vec!["a.mp3".into()],
                slot: None,
                zones: vec![],
                origin: None,
            }
        );
        stop.send(true).unwrap();
        task.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn a_malformed_line_gets_an_error_and_the_server_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let (path, stop, mut seen, task) = start(dir.path()).await;
        for bad in [
            &b"hello\n"[..],
            b"{\"cmd\":\"explode\"}\n",
            b"\n",
            b"\xff\xfe\n",
        ] {
            let r = exchange(&path, bad).await;
            assert!(!r.ok);
            let m = r.message.unwrap();
            assert!(
                m.contains("invalid request") && m.contains("Yêu cầu không hợp lệ"),
                "{m}"
            );
        }
        // Too long: refused without reading on.
        let mut long = vec![b'x'; MAX_REQUEST + 10];
        long.push(b'\n');
        let r = exchange(&path, &long).await;
        assert!(!r.ok && r.message.unwrap().contains("64 KiB"));
        // A request without its newline, then end of input, still counts.
        let r = exchange(&path, b"{\"cmd\":\"skip\"}").await;
        assert!(r.ok);
        assert_eq!(seen.recv().await.unwrap(), Request::Skip);
        assert!(seen.try_recv().is_err(), "the bad lines reached the daemon");
        stop.send(true).unwrap();
        task.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn two_clients_are_served_concurrently() {
        let dir = tempfile::tempdir().unwrap();
        let (path, stop, _seen, task) = start(dir.path()).await;
        // The first connects and says nothing yet; the second is answered
        // meanwhile.
        let mut first = UnixStream::connect(&path).await.unwrap();
        let r = tokio::time::timeout(
            Duration::from_secs(5),
            exchange(&path, b"{\"cmd\":\"stop\"}\n"),
        )
        .await
        .expect("the second client waited for the first");
        assert!(r.ok);
        first.write_all(b"{\"cmd\":\"reload\"}\n").await.unwrap();
        let mut out = String::new();
        first.read_to_string(&mut out).await.unwrap();
        assert!(serde_json::from_str::<Response>(&out).unwrap().ok);
        stop.send(true).unwrap();
        task.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn the_socket_is_0660_and_its_folder_is_created() {
        let dir = tempfile::tempdir().unwrap();
        let (path, stop, _seen, task) = start(dir.path()).await;
        let meta = std::fs::metadata(&path).unwrap();
        assert!(meta.file_type().is_socket());
        assert_eq!(meta.permissions().mode() & 0o777, 0o660);
        stop.send(true).unwrap();
        task.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn a_stale_socket_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("loa.sock");
        // A daemon that died: its socket file stays, nobody listens.
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        assert!(path.exists());
        assert_eq!(
            std::os::unix::net::UnixStream::connect(&path)
                .unwrap_err()
                .kind(),
            io::ErrorKind::ConnectionRefused
        );
        let (requests, _seen) = daemon(canned);
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn({
            let path = path.clone();
            async move { serve(&path, requests, stop_rx).await }
        });
        let mut answered = false;
        for _ in 0..100 {
            if UnixStream::connect(&path).await.is_ok() {
                answered = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(answered);
        stop.send(true).unwrap();
        task.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn a_second_server_is_refused_while_the_first_runs() {
        let dir = tempfile::tempdir().unwrap();
        let (path, stop, _seen, task) = start(dir.path()).await;
        let (requests, _seen2) = daemon(canned);
        let (_stop2, stop_rx2) = watch::channel(false);
        let e = serve(&path, requests, stop_rx2).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AddrInUse);
        assert!(e.to_string().contains("already running"), "{e}");
        let m = error_message(&e, Lang::Vi);
        assert!(
            m.contains("đang chạy") && m.contains("systemctl stop loa"),
            "{m}"
        );
        // The first still answers.
        assert!(exchange(&path, b"{\"cmd\":\"status\"}\n").await.ok);
        stop.send(true).unwrap();
        task.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn something_else_at_the_path_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("loa.sock");
        std::fs::write(&path, "notes").unwrap();
        let e = ControlSocket::bind(&path).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert!(error_message(&e, Lang::En).contains("is not a control socket"));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "notes");
    }

    #[tokio::test]
    async fn shutdown_removes_the_socket() {
        let dir = tempfile::tempdir().unwrap();
        let (path, stop, _seen, task) = start(dir.path()).await;
        assert!(path.exists());
        // A client in the middle of a request does not hold the shutdown up.
        let _idle = UnixStream::connect(&path).await.unwrap();
        stop.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("serve ends on shutdown")
            .unwrap()
            .unwrap();
        assert!(!path.exists());
        // Dropping the sender counts as shutdown too.
        let (path, stop, _seen, task) = start(dir.path()).await;
        drop(stop);
        task.await.unwrap().unwrap();
        assert!(!path.exists());
    }

    #[tokio::test]
    async fn a_daemon_that_stopped_listening_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("loa.sock");
        let (requests, rx) = mpsc::channel(1);
        drop(rx);
        let (stop, stop_rx) = watch::channel(false);
        let socket = ControlSocket::bind(&path).unwrap().language(Lang::En);
        let task = tokio::spawn(socket.serve(requests, stop_rx));
        let r = exchange(&path, b"{\"cmd\":\"status\"}\n").await;
        assert!(!r.ok);
        let m = r.message.unwrap();
        assert!(m.contains("stopping") && !m.contains("dịch vụ"), "{m}");
        stop.send(true).unwrap();
        task.await.unwrap().unwrap();
    }
}
