//! The control socket's client side, for the operator's commands: one
//! blocking request and its answer, with a deadline, and the ways that can
//! fail worded for the operator. It must not decide what a command means:
//! it carries requests, the daemon answers them.

use std::io::{self, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::protocol::{MAX_RESPONSE, Request, Response};
use crate::duration;
use crate::lang::Lang;
use crate::problem::display_path;
use crate::tr;

/// Sends `req` to the daemon on `socket` and waits up to `timeout` for its
/// answer. A daemon too busy to take the connection (a flood of others) is
/// asked again, until the deadline.
pub fn request(socket: &Path, req: &Request, timeout: Duration) -> Result<Response, ClientError> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match request_once(socket, req, left.max(Duration::from_millis(1))) {
            Ok(r) if r.busy && Instant::now() + BUSY_RETRY < deadline => {
                std::thread::sleep(BUSY_RETRY);
            }
            other => return other,
        }
    }
}

/// How long to wait before asking a busy daemon again.
const BUSY_RETRY: Duration = Duration::from_millis(200);

fn request_once(socket: &Path, req: &Request, timeout: Duration) -> Result<Response, ClientError> {
    let deadline = Instant::now() + timeout;
    let timed_out = || ClientError::Timeout {
        socket: socket.to_path_buf(),
        after: timeout,
    };
    let bad = |problem| ClientError::Protocol {
        socket: socket.to_path_buf(),
        problem,
    };
    let mut stream = UnixStream::connect(socket).map_err(|e| connect_error(socket, e))?;
    stream
        .set_write_timeout(Some(timeout.max(Duration::from_millis(1))))
        .map_err(|e| bad(BadAnswer::Io(e.to_string())))?;
    let mut line = serde_json::to_vec(req).map_err(|e| bad(BadAnswer::Io(e.to_string())))?;
    line.push(b'\n');
    if let Err(e) = stream.write_all(&line) {
        if is_timeout(&e) {
            return Err(timed_out());
        }
        // A daemon too busy for this connection writes why and closes it
        // before the request is written: that answer is still there.
        if !matches!(
            e.kind(),
            io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
        ) {
            return Err(bad(BadAnswer::Io(e.to_string())));
        }
    }
    let mut answer = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(timed_out());
        }
        stream
            .set_read_timeout(Some(left))
            .map_err(|e| bad(BadAnswer::Io(e.to_string())))?;
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                answer.extend_from_slice(&chunk[..n]);
                if chunk[..n].contains(&b'\n') {
                    break;
                }
                if answer.len() > MAX_RESPONSE {
                    return Err(bad(BadAnswer::TooLong));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if is_timeout(&e) => return Err(timed_out()),
            Err(e) => return Err(bad(BadAnswer::Io(e.to_string()))),
        }
    }
    let end = answer
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(answer.len());
    let line = &answer[..end];
    if line.iter().all(u8::is_ascii_whitespace) {
        return Err(bad(BadAnswer::Closed));
    }
    serde_json::from_slice(line).map_err(|e| bad(BadAnswer::Garbled(e.to_string())))
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

fn connect_error(socket: &Path, e: io::Error) -> ClientError {
    let socket = socket.to_path_buf();
    match e.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused => {
            ClientError::NotRunning { socket }
        }
        io::ErrorKind::PermissionDenied => {
            let group = socket_group(&socket);
            ClientError::PermissionDenied { socket, group }
        }
        _ => ClientError::Io { socket, source: e },
    }
}

/// The group whose members may use the socket: the socket's own group, or,
/// when its folder cannot even be entered, the nearest folder's that can be
/// looked at. A name from /etc/group, else the number.
fn socket_group(socket: &Path) -> Option<String> {
    let gid = socket
        .ancestors()
        .find_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.gid())?;
    let groups = std::fs::read_to_string("/etc/group").unwrap_or_default();
    Some(group_name(&groups, gid).unwrap_or_else(|| gid.to_string()))
}

/// The name of group `gid` in /etc/group's text (`name:x:gid:members`).
fn group_name(etc_group: &str, gid: u32) -> Option<String> {
    etc_group.lines().find_map(|l| {
        let mut fields = l.split(':');
        let name = fields.next()?;
        let id = fields.nth(1)?.trim().parse::<u32>().ok()?;
        (id == gid && !name.is_empty()).then(|| name.to_string())
    })
}

/// Why a request got no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The socket is missing or nobody listens on it: no daemon runs.
    #[error("loa is not running (nothing answers on {})", socket.display())]
    NotRunning {
        /// The control socket tried.
        socket: PathBuf,
    },
    /// The operator is not in the group that may use the socket.
    #[error("permission denied on {}", socket.display())]
    PermissionDenied {
        /// The control socket tried.
        socket: PathBuf,
        /// The group to join, when it could be found.
        group: Option<String>,
    },
    /// The daemon did not answer in time.
    #[error("no answer from {} within {after:?}", socket.display())]
    Timeout {
        /// The control socket asked.
        socket: PathBuf,
        /// How long the client waited.
        after: Duration,
    },
    /// An answer that is not one, or none at all.
    #[error("bad answer from {}: {problem:?}", socket.display())]
    Protocol {
        /// The control socket asked.
        socket: PathBuf,
        /// What was wrong with the answer.
        problem: BadAnswer,
    },
    /// The socket cannot be reached for another reason (a path too long, a
    /// file where a folder should be...).
    #[error("cannot connect to {}: {source}", socket.display())]
    Io {
        /// The control socket tried.
        socket: PathBuf,
        /// The system's error.
        #[source]
        source: io::Error,
    },
}

/// What was wrong with the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadAnswer {
    /// The daemon closed the connection without a line.
    Closed,
    /// A line longer than any answer can be.
    TooLong,
    /// A line that is not a response object.
    Garbled(String),
    /// Reading or writing failed midway.
    Io(String),
}

impl ClientError {
    /// What to tell the operator: what is wrong and what to do.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            ClientError::NotRunning { socket } => {
                let shown = display_path(socket);
                tr!(
                    lang,
                    "Dịch vụ loa không chạy: không có dịch vụ loa nào trả lời qua {shown}. Hãy khởi động dịch vụ bằng `sudo systemctl start loa`; lệnh `journalctl -u loa -n 50` cho biết vì sao dịch vụ đã dừng.",
                    "loa is not running: no loa service answers on {shown}. Start it with `sudo systemctl start loa`; `journalctl -u loa -n 50` shows why it stopped."
                )
            }
            ClientError::PermissionDenied { socket, group } => {
                let shown = display_path(socket);
                match group {
                    Some(g) => tr!(
                        lang,
                        "Bạn không có quyền dùng socket điều khiển {shown} của dịch vụ loa. Hãy nhờ quản trị viên thêm bạn vào nhóm `{g}` (`sudo usermod -aG {g} $USER`), rồi đăng xuất và đăng nhập lại; hoặc chạy lệnh này bằng sudo.",
                        "you may not use the loa service's control socket {shown}. Ask an administrator to add you to the group `{g}`: `sudo usermod -aG {g} $USER`, then log out and back in; or run this command with sudo."
                    ),
                    None => tr!(
                        lang,
                        "Bạn không có quyền dùng socket điều khiển {shown} của dịch vụ loa. Hãy nhờ quản trị viên thêm bạn vào nhóm sở hữu socket này (xem `ls -l {shown}`), rồi đăng xuất và đăng nhập lại; hoặc chạy lệnh này bằng sudo.",
                        "you may not use the loa service's control socket {shown}. Ask an administrator to add you to the group that owns it (see `ls -l {shown}`), then log out and back in; or run this command with sudo."
                    ),
                }
            }
            ClientError::Timeout { after, .. } => {
                let after = duration::human(*after, lang);
                tr!(
                    lang,
                    "Dịch vụ loa không trả lời trong {after}; có thể dịch vụ đang bận hoặc bị treo. Hãy xem `journalctl -u loa -n 50`; nếu vẫn không có trả lời, hãy khởi động lại bằng `sudo systemctl restart loa`.",
                    "the loa service did not answer within {after}; it may be busy or stuck. See `journalctl -u loa -n 50`; if it stays silent, restart it with `sudo systemctl restart loa`."
                )
            }
            ClientError::Protocol { problem, .. } => {
                let what = match (problem, lang) {
                    (BadAnswer::Closed, Lang::Vi) => {
                        "dịch vụ đóng kết nối mà không trả lời".to_string()
                    }
                    (BadAnswer::Closed, Lang::En) => {
                        "it closed the connection without answering".to_string()
                    }
                    (BadAnswer::TooLong, Lang::Vi) => "câu trả lời dài bất thường".to_string(),
                    (BadAnswer::TooLong, Lang::En) => "the answer is far too long".to_string(),
                    (BadAnswer::Garbled(d), Lang::Vi) => format!("câu trả lời không đọc được: {d}"),
                    (BadAnswer::Garbled(d), Lang::En) => format!("the answer cannot be read: {d}"),
                    (BadAnswer::Io(d), _) => d.clone(),
                };
                tr!(
                    lang,
                    "Dịch vụ loa trả lời không đúng cách ({what}). Hãy xem `journalctl -u loa -n 50`; nếu dịch vụ và lệnh `loa` khác phiên bản (vừa cập nhật), hãy khởi động lại bằng `sudo systemctl restart loa`.",
                    "the loa service did not answer properly ({what}). See `journalctl -u loa -n 50`; if the service and the `loa` command are different versions (just updated), restart it with `sudo systemctl restart loa`."
                )
            }
            ClientError::Io { socket, source } => {
                let shown = display_path(socket);
                let reason = if source.kind() == io::ErrorKind::InvalidInput {
                    lang.pick(
                        "đường dẫn quá dài cho một socket (tối đa 107 byte)",
                        "the path is too long for a socket (at most 107 bytes)",
                    )
                    .to_string()
                } else {
                    source.to_string()
                };
                tr!(
                    lang,
                    "Không kết nối được tới dịch vụ loa qua {shown} ({reason}); hãy kiểm tra [control] socket trong tệp cấu hình.",
                    "cannot reach the loa service through {shown}: {reason}; check [control] socket in the config"
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;

    const REQ: Request = Request::Status;

    #[test]
    fn no_socket_means_not_running() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("loa.sock");
        let e = request(&path, &REQ, Duration::from_secs(1)).unwrap_err();
        assert!(matches!(e, ClientError::NotRunning { .. }), "{e:?}");
        assert!(e.message(Lang::En).starts_with("loa is not running"));
        assert!(e.message(Lang::En).contains("sudo systemctl start loa"));
        assert!(e.message(Lang::Vi).contains("không chạy"));
    }

    #[test]
    fn a_stale_socket_means_not_running() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("loa.sock");
        drop(UnixListener::bind(&path).unwrap());
        let e = request(&path, &REQ, Duration::from_secs(1)).unwrap_err();
        assert!(matches!(e, ClientError::NotRunning { .. }), "{e:?}");
    }

    #[test]
    fn a_silent_daemon_is_a_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("loa.sock");
        // Accepts (the backlog does) and never answers.
        let _listener = UnixListener::bind(&path).unwrap();
        let start = Instant::now();
        let e = request(&path, &REQ, Duration::from_millis(200)).unwrap_err();
        assert!(matches!(e, ClientError::Timeout { .. }), "{e:?}");
        assert!(start.elapsed() < Duration::from_secs(5));
        assert!(e.message(Lang::En).contains("did not answer within"));
    }

    /// A one-shot server thread that reads the request line and writes
    /// `reply` raw.
    fn raw_server(path: &Path, reply: &'static [u8]) -> std::thread::JoinHandle<String> {
        let listener = UnixListener::bind(path).unwrap();
        std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut got = Vec::new();
            let mut byte = [0u8; 1];
            while s.read(&mut byte).unwrap() == 1 && byte[0] != b'\n' {
                got.push(byte[0]);
            }
            s.write_all(reply).unwrap();
            String::from_utf8(got).unwrap()
        })
    }

    #[test]
    fn sends_one_line_and_reads_one_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("loa.sock");
        let t = raw_server(&path, b"{\"ok\":true,\"message\":\"queued\"}\n");
        let req = Request::Queue {
            files: vec!["a.mp3".into()],
            zones: vec![],
        };
        let r = request(&path, &req, Duration::from_secs(5)).unwrap();
        assert!(r.ok);
        assert_eq!(r.message.as_deref(), Some("queued"));
        assert_eq!(t.join().unwrap(), r#"{"cmd":"queue","files":["a.mp3"]}"#);
    }

    #[test]
    fn a_bad_or_missing_answer_is_a_protocol_error() {
        let dir = tempfile::tempdir().unwrap();
        for (i, (reply, want)) in [
            (&b"not json\n"[..], "cannot be read"),
            (b"", "without answering"),
        ]
        .into_iter()
        .enumerate()
        {
            let path = dir.path().join(format!("loa{i}.sock"));
            let t = raw_server(&path, reply);
            let e = request(&path, &REQ, Duration::from_secs(5)).unwrap_err();
            t.join().unwrap();
            assert!(matches!(e, ClientError::Protocol { .. }), "{e:?}");
            let m = e.message(Lang::En);
            assert!(m.contains(want), "{m}");
        }
    }

    #[test]
    fn group_names_come_from_etc_group() {
        let text = "root:x:0:\nloa:x:998:minh,lan\n# odd line\nbroken\naudio:x:29:loa\n";
        assert_eq!(group_name(text, 998).as_deref(), Some("loa"));
        assert_eq!(group_name(text, 29).as_deref(), Some("audio"));
        assert_eq!(group_name(text, 5), None);
    }

    #[test]
    fn permission_denied_names_the_group_to_join() {
        let e = ClientError::PermissionDenied {
            socket: PathBuf::from("/var/lib/loa/loa.sock"),
            group: Some("loa".into()),
        };
        let en = e.message(Lang::En);
        assert!(
            en.contains("group `loa`") && en.contains("sudo usermod -aG loa $USER"),
            "{en}"
        );
        let vi = e.message(Lang::Vi);
        assert!(vi.contains("nhóm `loa`"), "{vi}");
    }

    #[test]
    fn the_socket_group_is_looked_up_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("loa.sock");
        let _l = UnixListener::bind(&path).unwrap();
        let gid = std::fs::metadata(&path).unwrap().gid();
        let group = socket_group(&path).unwrap();
        let groups = std::fs::read_to_string("/etc/group").unwrap_or_default();
        assert_eq!(
            group,
            group_name(&groups, gid).unwrap_or_else(|| gid.to_string())
        );
    }
}
