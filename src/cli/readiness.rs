//! What `loa run` needs from the machine, checked by `loa check` so that
//! "ready" means ready: the relay's GPIO chip and line exist and are free
//! (or held by the running service), a simulated relay's file can be
//! written, the sound device opens, the state folder can be written, the
//! control socket's path fits in a Unix socket address and the archive
//! folder can be created, and no folder loa writes is on a file system in
//! memory (a read-only root's overlay, a tmpfs). Each problem is located at
//! the config key it concerns. It changes nothing: no line is
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
    out.extend(memory_backed(cfg));
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

/// File system magic numbers (statfs(2)'s f_type).
const TMPFS_MAGIC: u64 = 0x0102_1994;
const RAMFS_MAGIC: u64 = 0x8584_58f6;
const OVERLAYFS_MAGIC: u64 = 0x794c_7630;

/// A warning for each folder loa writes (the state, audio, playlists and
/// archive folders) whose files live in memory and so are gone after a
/// reboot or a power cut: on a tmpfs, or on an overlay whose changes are
/// kept on one (raspi-config's overlay file system, the read-only root).
/// An overlay whose upper layer cannot be seen (a container's) is not
/// warned of. `loa run` logs the same warnings when it starts.
pub fn memory_backed(cfg: &Config) -> Vec<Problem> {
    let lang = cfg.lang;
    let mut folders = vec![
        (
            "state",
            &cfg.paths.state,
            lang.pick("nhật ký phát", "the as-run log"),
        ),
        (
            "audio",
            &cfg.paths.audio,
            lang.pick("tệp âm thanh tải lên", "the uploaded audio"),
        ),
        (
            "playlists",
            &cfg.paths.playlists,
            lang.pick("danh sách phát", "the playlists"),
        ),
    ];
    if cfg.archive.enabled {
        let what = lang.pick("bản ghi âm lưu trữ", "the archive's recordings");
        folders.push(("folder", &cfg.archive.folder, what));
    }
    let mut out = Vec::new();
    let mut said: Vec<std::path::PathBuf> = Vec::new();
    for (key, dir, what) in folders {
        let Some(kind) = in_memory(dir) else { continue };
        if said.contains(dir) {
            continue;
        }
        said.push(dir.clone());
        let shown = display_path(dir);
        out.push(at_key(
            cfg,
            key,
            false,
            tr!(
                lang,
                "Thư mục \"{shown}\" nằm trên {kind} trong bộ nhớ RAM: {what} và mọi thứ loa ghi ở đây sẽ mất khi máy khởi động lại hoặc mất điện. Nếu máy dùng hệ thống tệp lớp phủ (overlay) của raspi-config để thẻ nhớ chỉ đọc, hãy đặt /var/lib/loa trên một phân vùng ghi được (xem HUONG-DAN.md, mục \"Thẻ nhớ chỉ đọc\").",
                "the folder \"{shown}\" is on {kind} kept in memory: {what} and everything else loa writes there would be lost at the next reboot or power cut; with raspi-config's overlay file system (a read-only root), put /var/lib/loa on a writable partition (deploy/README.md, \"A read-only root\")"
            ),
        ));
    }
    out
}

/// What kind of memory-backed file system `dir` (or its nearest existing
/// folder) is on, or None for one that keeps its files.
fn in_memory(dir: &Path) -> Option<&'static str> {
    let mut existing = dir;
    while !existing.exists() {
        existing = existing.parent()?;
    }
    match fs_type(existing)? {
        TMPFS_MAGIC | RAMFS_MAGIC => Some("tmpfs"),
        OVERLAYFS_MAGIC => {
            let path = std::fs::canonicalize(existing).ok()?;
            let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
            let upper = overlay_upper(&mountinfo, &path)?;
            matches!(fs_type(&upper)?, TMPFS_MAGIC | RAMFS_MAGIC).then_some("overlay")
        }
        _ => None,
    }
}

fn fs_type(path: &Path) -> Option<u64> {
    let st = rustix::fs::statfs(path).ok()?;
    // A signed 64-bit word on 64-bit targets, an unsigned 32-bit one on
    // 32-bit ARM: the magic numbers all fit in 32 bits.
    #[allow(clippy::unnecessary_cast)]
    Some(st.f_type as u64 & 0xffff_ffff)
}

/// The upper (writable) layer of the overlay mounted nearest above `path`,
/// from /proc/self/mountinfo's text: `... MOUNTPOINT OPTS ... - overlay SRC
/// rw,lowerdir=...,upperdir=UPPER,workdir=...`.
fn overlay_upper(mountinfo: &str, path: &Path) -> Option<std::path::PathBuf> {
    let mut best: Option<(usize, std::path::PathBuf)> = None;
    for line in mountinfo.lines() {
        let Some((mount, rest)) = line.split_once(" - ") else {
            continue;
        };
        let Some(point) = mount.split(' ').nth(4).map(unescape_mount) else {
            continue;
        };
        if !path.starts_with(&point) {
            continue;
        }
        let depth = Path::new(&point).components().count();
        if best.as_ref().is_some_and(|(d, _)| *d > depth) {
            continue;
        }
        let mut fields = rest.split(' ');
        let upper = (fields.next() == Some("overlay"))
            .then(|| {
                fields.nth(1)?.split(',').find_map(|o| {
                    o.strip_prefix("upperdir=")
                        .map(|u| std::path::PathBuf::from(unescape_mount(u)))
                })
            })
            .flatten();
        // A deeper mount that is not an overlay hides the overlay below.
        best = Some((depth, upper.unwrap_or_default()));
    }
    best.map(|(_, u)| u).filter(|u| !u.as_os_str().is_empty())
}

/// mountinfo writes a space, tab, newline and backslash as \ooo octal.
fn unescape_mount(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let code = rest
            .get(i + 1..i + 4)
            .and_then(|o| u8::from_str_radix(o, 8).ok());
        match code {
            Some(c) => {
                out.push(char::from(c));
                rest = &rest[i + 4..];
            }
            None => {
                out.push('\\');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    /// /proc/self/mountinfo on Raspberry Pi OS with raspi-config's overlay
    /// file system on (the root an overlay whose changes go to a tmpfs), and
    /// a data partition on /var/lib/loa.
    const RASPI_OVERLAY: &str = "\
22 28 0:20 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
28 1 0:24 / / rw,noatime shared:1 - overlay overlayroot rw,lowerdir=/media/root-ro,upperdir=/media/root-rw/overlay,workdir=/media/root-rw/overlay-workdir
29 28 179:2 / /media/root-ro ro,relatime shared:2 - ext4 /dev/mmcblk0p2 ro
30 28 0:25 / /media/root-rw rw,relatime shared:3 - tmpfs tmpfs-root rw
41 28 179:3 / /var/lib/loa rw,noatime shared:20 - ext4 /dev/mmcblk0p3 rw
42 28 8:1 / /media/usb\\040stick rw,relatime shared:21 - vfat /dev/sda1 rw
";

    #[test]
    fn the_overlay_roots_upper_layer_is_found_unless_a_partition_is_mounted_nearer() {
        let upper = overlay_upper(RASPI_OVERLAY, Path::new("/var/lib/misc"));
        assert_eq!(upper, Some("/media/root-rw/overlay".into()));
        assert_eq!(overlay_upper(RASPI_OVERLAY, Path::new("/")), upper);
        // The data partition hides the overlay below it.
        assert_eq!(
            overlay_upper(RASPI_OVERLAY, Path::new("/var/lib/loa/state")),
            None
        );
        assert_eq!(
            overlay_upper(RASPI_OVERLAY, Path::new("/var/lib/loa")),
            None
        );
        // A prefix of a name is not a parent folder.
        assert_eq!(
            overlay_upper(RASPI_OVERLAY, Path::new("/var/lib/loa-old")),
            upper
        );
        assert_eq!(
            overlay_upper(RASPI_OVERLAY, Path::new("/media/usb stick/loa")),
            None
        );
        // No overlay at all, and a line that is not mountinfo's.
        let plain = "28 1 179:2 / / rw,noatime shared:1 - ext4 /dev/mmcblk0p2 rw\nnonsense\n";
        assert_eq!(overlay_upper(plain, Path::new("/var/lib/loa")), None);
    }

    #[test]
    fn mountinfo_octal_escapes_are_undone() {
        assert_eq!(unescape_mount(r"/media/usb\040stick"), "/media/usb stick");
        assert_eq!(unescape_mount(r"/a\134b\011c"), "/a\\b\tc");
        assert_eq!(unescape_mount(r"/odd\9"), r"/odd\9");
    }

    #[test]
    fn a_tmpfs_is_memory_and_this_source_tree_is_not() {
        assert_eq!(in_memory(Path::new(env!("CARGO_MANIFEST_DIR"))), None);
        // /dev/shm is a tmpfs on every Linux this runs on; say so if not.
        if fs_type(Path::new("/dev/shm")) == Some(TMPFS_MAGIC) {
            assert_eq!(in_memory(Path::new("/dev/shm/loa/state")), Some("tmpfs"));
        } else {
            eprintln!("SKIPPED a_tmpfs_is_memory: /dev/shm is not a tmpfs here");
        }
    }
}
