//! What `loa run` needs from the machine, checked by `loa check` so that
//! "ready" means ready: the relay's GPIO chip and line exist and are free
//! (or held by the running service), a simulated relay's file can be
//! written, the sound device opens, the state folder can be written, the
//! control socket's path fits in a Unix socket address and the archive
//! folder can be created. Each problem is located at the config key it
//! concerns. It changes nothing: no line is
//! requested, no file is created.

use std::path::Path;

use crate::config::{Config, RelayBackend};
use crate::lang::Lang;
use crate::problem::{Problem, display_path};
use crate::tr;

/// The longest path a Unix socket address holds (sun_path, less the NUL).
const SOCKET_PATH_MAX: usize = 107;

/// The problems `loa run` would meet on this machine.
pub fn check(cfg: &Config) -> Vec<Problem> {
    let mut out = Vec::new();
    let lang = cfg.lang;
    let service_running = crate::control::client::request(
        &cfg.control.socket,
        &crate::control::protocol::Request::Status,
        std::time::Duration::from_secs(2),
    )
    .is_ok();
    relay(cfg, service_running, &mut out);
    zone_lines(cfg, service_running, &mut out);
    district(cfg, &mut out);
    if !service_running {
        sound(cfg, &mut out);
    }
    state(cfg, &mut out);
    archive(cfg, &mut out);
    let socket = cfg.control.socket.as_os_str().len();
    if socket > SOCKET_PATH_MAX {
        let shown = cfg.control.socket.display();
        out.push(at_key(
            cfg,
            "state",
            true,
            tr!(
                lang,
                "Đường dẫn socket điều khiển \"{shown}\" dài {socket} ký tự, vượt giới hạn {SOCKET_PATH_MAX} ký tự của hệ điều hành, nên `loa run` sẽ không khởi động được. Hãy chọn thư mục trạng thái có đường dẫn ngắn hơn ([paths] state), hoặc đặt [control] socket.",
                "the control socket's path \"{shown}\" is {socket} characters long, over the system's limit of {SOCKET_PATH_MAX}, so `loa run` could not start; choose a shorter state folder ([paths] state) or set [control] socket"
            ),
        ));
    }
    if !cfg.paths.audio.is_dir() {
        let shown = display_path(&cfg.paths.audio);
        out.push(at_key(
            cfg,
            "audio",
            true,
            tr!(
                lang,
                "Không có thư mục âm thanh \"{shown}\"; hãy tạo thư mục này, hoặc sửa [paths] audio.",
                "there is no audio folder \"{shown}\"; create it or correct [paths] audio"
            ),
        ));
    }
    out
}

/// The relay: the chip and line exist and are free; a simulated relay's
/// file can be written.
fn relay(cfg: &Config, service_running: bool, out: &mut Vec<Problem>) {
    let lang = cfg.lang;
    match cfg.relay.backend {
        RelayBackend::Gpio => match crate::relay::gpio::status(&cfg.relay) {
            Err(e) => out.push(at_key(cfg, "backend", true, e.message(lang))),
            Ok(st) if st.used && !service_running => {
                let who = st.consumer.clone();
                out.push(at_key(
                    cfg,
                    "line",
                    who != crate::relay::CONSUMER,
                    if who == crate::relay::CONSUMER {
                        tr!(
                            lang,
                            "Chân GPIO của rơ-le đang bị một chương trình loa khác giữ (không phải dịch vụ đang chạy); hãy dừng chương trình đó.",
                            "the relay's GPIO line is held by another loa program (not the running service); stop it"
                        )
                    } else {
                        tr!(
                            lang,
                            "Chân GPIO của rơ-le đang bị chương trình \"{who}\" dùng, nên loa không điều khiển được ampli; hãy dừng chương trình đó, hoặc chọn chân khác ([relay] line).",
                            "the relay's GPIO line is in use by \"{who}\", so loa cannot switch the amplifier; stop that program or choose another line ([relay] line)"
                        )
                    },
                ));
            }
            Ok(_) => {}
        },
        RelayBackend::Rppal => {
            #[cfg(not(feature = "rppal"))]
            out.push(at_key(
                cfg,
                "backend",
                true,
                crate::relay::RelayError::RppalNotBuilt.message(lang),
            ));
        }
        RelayBackend::Sim => {
            if let Some(f) = &cfg.relay.sim_file
                && let Err(why) = writable_file(f, lang)
            {
                let shown = display_path(f);
                out.push(at_key(
                    cfg,
                    "sim-file",
                    true,
                    tr!(
                        lang,
                        "Không ghi được tệp \"{shown}\" của ampli giả lập ({why}); hãy sửa [relay] sim-file.",
                        "cannot write the simulated relay's file \"{shown}\": {why}; correct [relay] sim-file"
                    ),
                ));
            }
        }
    }
}

/// Each zone's GPIO line exists on the chip and is free (or held by the
/// running service): a hamlet whose line cannot be driven would never
/// hear its broadcasts, and the service would not start.
fn zone_lines(cfg: &Config, service_running: bool, out: &mut Vec<Problem>) {
    let lang = cfg.lang;
    if cfg.relay.backend != RelayBackend::Gpio {
        return;
    }
    for z in &cfg.zones {
        let (name, title) = (&z.name, &z.title);
        let why = match crate::relay::gpio::status(&z.relay_config(&cfg.relay)) {
            Err(e) => e.message(lang),
            Ok(st) if st.used && !(service_running && st.consumer == crate::relay::CONSUMER) => {
                let who = st.consumer;
                tr!(
                    lang,
                    "chân GPIO đang bị chương trình \"{who}\" giữ; hãy dừng chương trình đó, hoặc chọn chân khác",
                    "its GPIO line is held by \"{who}\"; stop that program or choose another line"
                )
            }
            Ok(_) => continue,
        };
        out.push(at_zone(
            cfg,
            name,
            tr!(
                lang,
                "Rơ-le của vùng \"{name}\" ({title}) không dùng được: {why}",
                "the relay of zone \"{name}\" ({title}) cannot be used: {why}"
            ),
        ));
    }
}

/// `[district]`: a box name to link as, and a credentials file loa can
/// use (others must not read it).
fn district(cfg: &Config, out: &mut Vec<Problem>) {
    let lang = cfg.lang;
    let Some(d) = &cfg.district else { return };
    if d.box_name.is_none() {
        out.push(at_key(
            cfg,
            "broker",
            false,
            tr!(
                lang,
                "[district] không có tên hộp `box`, nên `loa run` không kết nối với huyện (máy của huyện thì không cần); ví dụ: box = \"xa-an-binh\"",
                "[district] has no `box`, so `loa run` does not link to the district (the district's own machine needs none); for example: box = \"xa-an-binh\""
            ),
        ));
    }
    if let Some(p) = &d.credentials
        && let Err(e) = crate::district::creds::load(p)
    {
        out.push(at_key(cfg, "credentials", true, e.message(lang)));
    }
}

/// An error at the `name = "NAME"` line of a `[[zone]]`, else at the top.
fn at_zone(cfg: &Config, name: &str, message: String) -> Problem {
    let text = crate::tomlfile::read_bounded(&cfg.path, cfg.lang)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let quoted = format!("\"{name}\"");
    let line = text
        .lines()
        .position(|l| {
            let l = l.trim_start();
            l.starts_with("name") && l.contains(&quoted)
        })
        .map_or(1, |i| i as u32 + 1);
    Problem::error(&cfg.path, line, 1, message)
}

/// The sound device opens (a warning: a USB card may be plugged in later).
fn sound(cfg: &Config, out: &mut Vec<Problem>) {
    if let Err(e) = crate::player::output(cfg).check() {
        out.push(at_key(cfg, "device", false, e.message(cfg.lang)));
    }
}

/// The state folder (the as-run log) can be written.
fn state(cfg: &Config, out: &mut Vec<Problem>) {
    let lang = cfg.lang;
    let dir = &cfg.paths.state;
    let target = if dir.exists() {
        dir.as_path()
    } else {
        match dir.parent() {
            Some(p) => p,
            None => return,
        }
    };
    let writable = rustix::fs::access(target, rustix::fs::Access::WRITE_OK).is_ok();
    if !writable {
        let shown = display_path(dir);
        out.push(at_key(
            cfg,
            "state",
            true,
            tr!(
                lang,
                "Không ghi được vào thư mục trạng thái \"{shown}\" (nơi lưu nhật ký phát), nên `loa run` sẽ không ghi lại được những gì đã phát. Hãy cấp quyền ghi cho người dùng chạy loa, hoặc sửa [paths] state.",
                "the state folder \"{shown}\" (which holds the as-run log) cannot be written, so `loa run` could not record what it airs; give the user loa runs as write access, or correct [paths] state"
            ),
        ));
    }
}

/// The archive folder: there and writable, or creatable (its nearest
/// existing folder writable, and no file in its way).
fn archive(cfg: &Config, out: &mut Vec<Problem>) {
    if !cfg.archive.enabled {
        return;
    }
    let lang = cfg.lang;
    let dir = &cfg.archive.folder;
    let mut existing = dir.as_path();
    while !existing.exists() {
        match existing.parent() {
            Some(p) => existing = p,
            None => return,
        }
    }
    let why = if !existing.is_dir() {
        let shown = display_path(existing);
        Some(tr!(
            lang,
            "\"{shown}\" là một tệp, không phải thư mục",
            "\"{shown}\" is a file, not a folder"
        ))
    } else if rustix::fs::access(existing, rustix::fs::Access::WRITE_OK).is_err() {
        let shown = display_path(existing);
        Some(tr!(
            lang,
            "không được ghi vào \"{shown}\"",
            "\"{shown}\" cannot be written"
        ))
    } else {
        None
    };
    if let Some(why) = why {
        let shown = display_path(dir);
        out.push(at_key(
            cfg,
            "folder",
            true,
            tr!(
                lang,
                "Không tạo hoặc không ghi được thư mục lưu trữ \"{shown}\" ({why}), nên các buổi phát sẽ không được ghi lại. Hãy sửa [archive] folder, cấp quyền ghi cho người dùng chạy loa, hoặc tắt lưu trữ bằng [archive] enabled = false.",
                "the archive folder \"{shown}\" cannot be created or written ({why}), so broadcasts would not be recorded; correct [archive] folder, give the user loa runs write access, or turn the archive off with [archive] enabled = false"
            ),
        ));
    }
}

/// Whether `f` can be appended to (or created): a regular file, not a
/// device or a pipe (writing /dev/full never ends).
fn writable_file(f: &Path, lang: Lang) -> Result<(), String> {
    match std::fs::metadata(f) {
        Ok(m) if !m.is_file() => Err(lang
            .pick(
                "đây không phải là tệp thông thường, có thể là thiết bị hoặc thư mục",
                "it is not a regular file (perhaps a device or a folder)",
            )
            .to_string()),
        Ok(_) => rustix::fs::access(f, rustix::fs::Access::WRITE_OK)
            .map_err(|e| std::io::Error::from(e).to_string()),
        Err(_) => {
            let parent = f.parent().unwrap_or(Path::new("."));
            rustix::fs::access(parent, rustix::fs::Access::WRITE_OK).map_err(|_| {
                lang.pick(
                    "không tạo được tệp trong thư mục đó",
                    "the file cannot be created in that folder",
                )
                .to_string()
            })
        }
    }
}

/// A problem at the line of `key` in the config file (the first line that
/// sets it), else at the top.
fn at_key(cfg: &Config, key: &str, error: bool, message: String) -> Problem {
    let text = crate::tomlfile::read_bounded(&cfg.path, cfg.lang)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let line = text
        .lines()
        .position(|l| {
            let l = l.trim_start();
            l.starts_with(key) && l[key.len()..].trim_start().starts_with('=')
        })
        .map_or(1, |i| i as u32 + 1);
    if error {
        Problem::error(&cfg.path, line, 1, message)
    } else {
        Problem::warning(&cfg.path, line, 1, message)
    }
}
