//! `loa status`, `loa now`, `loa queue`, `loa stop`, `loa skip`, `loa reload`,
//! and `loa relay on|off|status` while the service runs: the operator's side
//! of the control socket. Each sends one request to the running daemon and
//! shows its answer; none of them airs or switches anything itself. When no
//! daemon runs they say so plainly (except `loa relay`, which then drives the
//! line itself, see `cli::relay`).

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use super::status_text::{relay_text, render_status};
use super::{RelayAction, context, exit};
use crate::config::Config;
use crate::control::client::{self, ClientError};
use crate::control::protocol::{Request, Response};
use crate::duration;
use crate::lang::Lang;
use crate::shutdown::Shutdown;
use crate::tr;

/// How long a status may take: the daemon answers it from memory.
const STATUS_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a command may take to be accepted (not carried out).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);
/// A reload re-reads the playlists and may probe new audio first.
const RELOAD_TIMEOUT: Duration = Duration::from_secs(30);
/// A text is rendered before it is taken (Piper on a Pi 3: seconds).
const SAY_TIMEOUT: Duration = Duration::from_secs(150);

/// `loa status [--json]`.
pub fn status(config: Option<&Path>, json: bool) -> i32 {
    let Some(cfg) = context::config_or_say(config) else {
        return exit::CONFIG;
    };
    let lang = cfg.lang;
    match client::request(&cfg.control.socket, &Request::Status, STATUS_TIMEOUT) {
        Err(e) => {
            eprintln!("{}", e.message(lang));
            exit::PROBLEMS
        }
        Ok(Response {
            ok: true,
            status: Some(s),
            ..
        }) => {
            let text = if json {
                match serde_json::to_string_pretty(&s) {
                    Ok(t) => t + "\n",
                    Err(e) => {
                        eprintln!("{e}");
                        return exit::PROBLEMS;
                    }
                }
            } else {
                render_status(&s, lang, cfg.schedule.require_clock_sync)
            };
            let mut out = std::io::stdout();
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
            exit::OK
        }
        Ok(r) => {
            let text = r.message.unwrap_or_else(|| {
                tr!(
                    lang,
                    "Dịch vụ loa không gửi trạng thái về; hãy xem `journalctl -u loa -n 50`.",
                    "the loa service sent no status; see `journalctl -u loa -n 50`"
                )
            });
            eprintln!("{text}");
            exit::PROBLEMS
        }
    }
}

/// `loa now [--zone NAME]... FILE...`: emergency, at once.
pub fn now(config: Option<&Path>, files: &[String], slot: Option<&str>, zones: &[String]) -> i32 {
    let slot = slot.map(str::to_string);
    let zones = zones.to_vec();
    named(config, files, &zones.clone(), |files| Request::Now {
        files,
        slot,
        zones,
        origin: None,
    })
}

/// `loa queue [--zone NAME]... FILE...`: first in the next broadcast.
pub fn queue(config: Option<&Path>, files: &[String], zones: &[String]) -> i32 {
    let zones = zones.to_vec();
    named(config, files, &zones.clone(), |files| Request::Queue {
        files,
        zones,
    })
}

/// Sends `now` or `queue` with the files as names in the audio folder,
/// once the zones named are known to the config.
fn named(
    config: Option<&Path>,
    files: &[String],
    zones: &[String],
    request: impl FnOnce(Vec<String>) -> Request,
) -> i32 {
    let Some(cfg) = context::config_or_say(config) else {
        return exit::CONFIG;
    };
    if !zones_known(&cfg, zones) {
        return exit::PROBLEMS;
    }
    match as_sent(files, &cfg.paths.audio, cfg.lang) {
        Ok(names) => command(config, request(names)),
        Err(why) => {
            eprintln!("{why}");
            exit::PROBLEMS
        }
    }
}

/// Whether every zone named is in the config; when not, says why nothing
/// was sent (`now`, `queue`, `say`).
pub(super) fn zones_known(cfg: &Config, zones: &[String]) -> bool {
    let lang = cfg.lang;
    match crate::config::zone::resolve(&cfg.zones, zones, lang) {
        Ok(_) => true,
        Err(why) => {
            eprintln!(
                "{}",
                tr!(
                    lang,
                    "Lệnh bị từ chối, không có gì được phát. {why}",
                    "Refused, nothing was aired: {why}"
                )
            );
            false
        }
    }
}

/// `loa stop`.
pub fn stop(config: Option<&Path>) -> i32 {
    command(config, Request::Stop)
}

/// `loa skip`.
pub fn skip(config: Option<&Path>) -> i32 {
    command(config, Request::Skip)
}

/// `loa reload`.
pub fn reload(config: Option<&Path>) -> i32 {
    command(config, Request::Reload)
}

/// The file arguments as the daemon takes them: names in the audio folder.
/// A file given by its path from here (`audio/thong-bao.mp3`, from
/// /var/lib/loa) is sent as its name in the folder; a file outside the
/// folder is refused here, with what to do (the service airs only what
/// is in its folder, validated).
fn as_sent(files: &[String], audio: &Path, lang: Lang) -> Result<Vec<String>, String> {
    let root = std::fs::canonicalize(audio).unwrap_or_else(|_| audio.to_path_buf());
    files
        .iter()
        .map(|f| {
            let p = Path::new(f);
            let Ok(meta) = std::fs::symlink_metadata(p) else {
                return Ok(f.clone());
            };
            // A name that is also a path from here: where is it?
            if !meta.is_file() && !meta.is_symlink() {
                return Ok(f.clone());
            }
            let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
            let parent = abs
                .parent()
                .and_then(|d| std::fs::canonicalize(d).ok())
                .unwrap_or_default();
            match parent.strip_prefix(&root) {
                Ok(dir) => Ok(dir
                    .join(abs.file_name().unwrap_or_default())
                    .to_string_lossy()
                    .into_owned()),
                Err(_) => Err(tr!(
                    lang,
                    "Tệp \"{f}\" nằm ngoài thư mục âm thanh ({}); loa chỉ phát các tệp trong thư mục đó, sau khi đã kiểm tra. Hãy chép tệp vào trước bằng lệnh: loa import \"{f}\"",
                    "\"{f}\" is outside the audio folder ({}); loa airs only files in that folder, checked. Copy it in first: loa import \"{f}\"",
                    crate::problem::display_path(audio)
                )),
            }
        })
        .collect()
}

/// Sends a command and shows the answer; 0 when the daemon took it.
pub(super) fn command(config: Option<&Path>, req: Request) -> i32 {
    let Some(cfg) = context::config_or_say(config) else {
        return exit::CONFIG;
    };
    let lang = cfg.lang;
    let timeout = match req {
        Request::Reload => RELOAD_TIMEOUT,
        Request::Say { .. } => SAY_TIMEOUT,
        _ => COMMAND_TIMEOUT,
    };
    match client::request(&cfg.control.socket, &req, timeout) {
        Ok(r) => show_answer(r, lang),
        Err(e) => {
            eprintln!("{}", e.message(lang));
            if matches!(e, ClientError::NotRunning { .. })
                && matches!(req, Request::Now { .. } | Request::Queue { .. })
            {
                eprintln!(
                    "{}",
                    tr!(
                        lang,
                        "Chưa phát gì cả. Muốn phát ngay mà không cần dịch vụ, hãy dùng `loa play TỆP...`.",
                        "Nothing was aired. To air files now without the service, use `loa play FILE...`."
                    )
                );
            }
            if matches!(e, ClientError::NotRunning { .. }) && matches!(req, Request::Say { .. }) {
                eprintln!(
                    "{}",
                    tr!(
                        lang,
                        "Chưa đọc gì cả. Muốn nghe thử văn bản qua loa máy mà không cần dịch vụ, hãy dùng `loa say --no-relay \"...\"`.",
                        "Nothing was aired. To hear the text through the sound card without the service, use `loa say --no-relay \"...\"`."
                    )
                );
            }
            exit::PROBLEMS
        }
    }
}

/// Prints the daemon's message (stdout when it took the command, stderr
/// when it refused); the exit code.
fn show_answer(r: Response, lang: Lang) -> i32 {
    if r.ok {
        let text = r.message.unwrap_or_else(|| {
            tr!(
                lang,
                "Dịch vụ loa đã nhận lệnh.",
                "The loa service took the command."
            )
        });
        println!("{text}");
        exit::OK
    } else {
        let text = r.message.unwrap_or_else(|| {
            tr!(
                lang,
                "Dịch vụ loa từ chối lệnh mà không cho biết lý do; hãy xem `loa status` và `journalctl -u loa -n 50`.",
                "the loa service refused the command without a reason; see `loa status` and `journalctl -u loa -n 50`"
            )
        });
        eprintln!("{text}");
        exit::PROBLEMS
    }
}

/// How long `loa relay` waits for the service: `off` also runs after the
/// service stopped (systemd's ExecStopPost) and must not linger.
const RELAY_TIMEOUT: Duration = Duration::from_secs(3);

/// `loa relay on|off|status` when a loa service may be running: while it
/// runs it owns the relay line, so `on` and `off` ask it. Returns the exit
/// code when the service handled the command, None when the caller must
/// drive the line itself: no service runs, `off` could not be passed on
/// (switching off directly is always the safe attempt), `--for` does not
/// parse (the caller says so), or `status` (which shows the service's view
/// first).
pub fn relay(cfg: &Config, action: &RelayAction) -> Option<i32> {
    let lang = cfg.lang;
    let socket = &cfg.control.socket;
    let (on, for_, zone) = match action {
        RelayAction::Status { .. } => {
            relay_status(cfg);
            return None;
        }
        RelayAction::Off { zone } => (false, None, zone.clone()),
        RelayAction::On { for_: None, zone } => (true, None, zone.clone()),
        RelayAction::On {
            for_: Some(t),
            zone,
        } => (true, Some(duration::parse(t)?), zone.clone()),
    };
    // Ctrl-C during --for must still switch off: watch for it before on.
    let shutdown = match for_ {
        Some(_) => match Shutdown::from_signals() {
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!(
                    "{}",
                    tr!(
                        lang,
                        "Không theo dõi được tín hiệu Ctrl-C/SIGTERM ({e}), nên ampli chưa được bật.",
                        "cannot watch for Ctrl-C/SIGTERM ({e}); the relay was not switched on"
                    )
                );
                return Some(exit::PROBLEMS);
            }
        },
        None => None,
    };
    let request = Request::Relay {
        on,
        zone: zone.clone(),
    };
    let answer = match client::request(socket, &request, RELAY_TIMEOUT) {
        Ok(r) => r,
        Err(ClientError::NotRunning { .. }) => return None,
        Err(e) if !on => {
            eprintln!("{}", e.message(lang));
            eprintln!(
                "{}",
                tr!(
                    lang,
                    "Đang thử tắt ampli trực tiếp, không qua dịch vụ.",
                    "Trying to switch the relay off directly."
                )
            );
            return None;
        }
        Err(e) => {
            eprintln!("{}", e.message(lang));
            return Some(exit::PROBLEMS);
        }
    };
    let code = show_answer(answer, lang);
    let (Some(d), Some(shutdown), exit::OK) = (for_, shutdown, code) else {
        return Some(code);
    };
    let shown = duration::human(d, lang);
    println!(
        "{}",
        tr!(
            lang,
            "Dịch vụ loa giữ ampli bật trong {shown}; bấm Ctrl-C để tắt sớm hơn.",
            "The loa service keeps the relay on for {shown}; press Ctrl-C to switch it off sooner."
        )
    );
    let _ = std::io::stdout().flush();
    shutdown.wait_timeout(d);
    let off = Request::Relay { on: false, zone };
    match client::request(socket, &off, RELAY_TIMEOUT) {
        Ok(r) => Some(show_answer(r, lang)),
        Err(e) => {
            eprintln!("{}", e.message(lang));
            Some(exit::PROBLEMS)
        }
    }
}

/// The service's view of the relay, ahead of what `loa relay status` reads
/// from the line itself.
fn relay_status(cfg: &Config) {
    let lang = cfg.lang;
    match client::request(&cfg.control.socket, &Request::Status, RELAY_TIMEOUT) {
        Ok(Response {
            status: Some(s), ..
        }) => {
            let state = relay_text(&s, lang);
            println!(
                "{}",
                tr!(
                    lang,
                    "Dịch vụ loa: ampli {state}.",
                    "The loa service: relay {state}."
                )
            );
            for (label, text) in super::status_text::zone_rows(&s, lang) {
                println!("  {label}: {text}");
            }
        }
        Ok(r) => {
            if let Some(m) = r.message {
                eprintln!("{m}");
            }
        }
        Err(ClientError::NotRunning { .. }) => println!(
            "{}",
            tr!(
                lang,
                "Dịch vụ loa không chạy; trạng thái dưới đây được đọc trực tiếp.",
                "The loa service is not running; what follows is read directly."
            )
        ),
        Err(e) => eprintln!("{}", e.message(lang)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Issue 11: the control socket takes names in the audio folder only; a
    // file given by its path from here is sent as its name there, one
    // outside the folder is refused before anything is sent.
    #[test]
    fn files_are_sent_as_names_in_the_audio_folder() {
        let dir = tempfile::tempdir().unwrap();
        let audio = dir.path().join("audio");
        std::fs::create_dir_all(audio.join("dai-hoi")).unwrap();
        std::fs::write(audio.join("dai-hoi/x.mp3"), b"").unwrap();
        let outside = dir.path().join("y.mp3");
        std::fs::write(&outside, b"").unwrap();
        let given = vec![
            audio.join("dai-hoi/x.mp3").display().to_string(),
            "in-the-library.mp3".into(),
        ];
        let sent = as_sent(&given, &audio, Lang::En).unwrap();
        assert_eq!(sent, ["dai-hoi/x.mp3", "in-the-library.mp3"]);
        let e = as_sent(&[outside.display().to_string()], &audio, Lang::En).unwrap_err();
        assert!(
            e.contains("outside the audio folder") && e.contains("loa import"),
            "{e}"
        );
    }
}
