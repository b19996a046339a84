//! The audio folder as untrusted ground. Upload accounts write there, so
//! anything in it may be a symbolic link (to the state folder, to
//! /etc/passwd, to itself), a hard link to a file elsewhere, a named pipe or
//! a device. Every file loa opens, creates, moves or changes below the
//! folder goes through here: each path component is opened with
//! `O_NOFOLLOW` relative to the one above it (never by a full path the
//! kernel would resolve through links), a file must be a regular file with
//! a single name, and what is created is created exclusively. A link is
//! never followed; it is reported (see [`Odd`]) and left where it is.
//!
//! It also brings what an upload account created to the folder's shared
//! group and mode ([`share`]), so that the operator can replace it. It must
//! not decide what is audio or what airs: that is validation's job.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags};

/// A media file to open: one below the audio folder (opened without
/// following any link below the folder), or a path an operator gave by hand
/// (`loa play /home/canbo/x.mp3`), which is theirs to trust.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum MediaPath {
    /// A file below the audio folder, opened component by component.
    Beneath {
        /// The audio folder.
        root: PathBuf,
        /// "/"-separated, below `root`.
        rel: String,
    },
    /// A path given by hand, opened as the system resolves it.
    Given(PathBuf),
}

impl MediaPath {
    /// The file `rel` ("/"-separated) below the folder `root`.
    pub fn beneath(root: &Path, rel: &str) -> MediaPath {
        MediaPath::Beneath {
            root: root.to_path_buf(),
            rel: rel.to_string(),
        }
    }

    /// The full path, for messages and as a key for files outside the folder.
    pub fn path(&self) -> PathBuf {
        match self {
            MediaPath::Beneath { root, rel } => root.join(rel),
            MediaPath::Given(p) => p.clone(),
        }
    }

    /// The extension, lowercase (a hint for the decoder).
    pub fn extension(&self) -> Option<String> {
        self.path()
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase())
    }

    /// Opens the file for reading: a regular file, never through a link
    /// below the audio folder.
    pub fn open(&self) -> Result<File, OpenError> {
        match self {
            MediaPath::Beneath { root, rel } => open_file(root, Path::new(rel)),
            MediaPath::Given(p) => open_given(p),
        }
    }
}

/// Why a file could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// A symbolic link where a file or folder was expected.
    #[error("a symbolic link (not followed)")]
    Link,
    /// A regular file with more than one name: a hard link, perhaps to a
    /// file outside the folder.
    #[error("a hard link ({0} names)")]
    HardLink(u64),
    /// Not a regular file: a folder, a named pipe, a device...
    #[error("not a regular file but {}", .0.english())]
    NotRegular(Kind),
    /// A name that leaves the folder ("..", an absolute path).
    #[error("a name outside the audio folder")]
    Outside,
    /// Any other error from the system.
    #[error("{0}")]
    Io(#[from] io::Error),
}

impl OpenError {
    /// A short code for what the name is instead of a file (kept in the
    /// media index; [`words`] says it in the operator's language).
    pub fn code(&self) -> String {
        match self {
            OpenError::Link => "symlink".into(),
            OpenError::HardLink(n) => format!("hard-link:{n}"),
            OpenError::NotRegular(k) => match k {
                Kind::Directory => "folder",
                Kind::Fifo => "fifo",
                Kind::Socket => "socket",
                Kind::CharDevice | Kind::BlockDevice => "device",
                Kind::Link => "symlink",
                Kind::Unknown => "special",
            }
            .into(),
            OpenError::Outside => "outside".into(),
            OpenError::Io(e) => format!("io:{e}"),
        }
    }

    /// True when the name does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, OpenError::Io(e) if e.kind() == io::ErrorKind::NotFound)
    }
}

/// What a name is, when it is not a regular file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A folder.
    Directory,
    /// A named pipe.
    Fifo,
    /// A Unix socket.
    Socket,
    /// A character device.
    CharDevice,
    /// A block device.
    BlockDevice,
    /// A symbolic link.
    Link,
    /// Anything else.
    Unknown,
}

impl Kind {
    fn of(t: FileType) -> Option<Kind> {
        Some(match t {
            FileType::RegularFile => return None,
            FileType::Directory => Kind::Directory,
            FileType::Fifo => Kind::Fifo,
            FileType::Socket => Kind::Socket,
            FileType::CharacterDevice => Kind::CharDevice,
            FileType::BlockDevice => Kind::BlockDevice,
            FileType::Symlink => Kind::Link,
            _ => Kind::Unknown,
        })
    }

    /// What it is, in English (as [`OpenError`] displays it).
    pub fn english(self) -> &'static str {
        match self {
            Kind::Directory => "a folder",
            Kind::Fifo => "a named pipe (FIFO)",
            Kind::Socket => "a socket",
            Kind::CharDevice => "a character device",
            Kind::BlockDevice => "a block device",
            Kind::Link => "a symbolic link",
            Kind::Unknown => "a special file",
        }
    }

    /// What it is, in the operator's language.
    pub fn words(self, lang: crate::lang::Lang) -> &'static str {
        match self {
            Kind::Directory => lang.pick("một thư mục", "a folder"),
            Kind::Fifo => lang.pick("một đường ống có tên (FIFO)", "a named pipe (FIFO)"),
            Kind::Socket => lang.pick("một socket", "a socket"),
            Kind::CharDevice | Kind::BlockDevice => lang.pick("một tệp thiết bị", "a device file"),
            Kind::Link => lang.pick("một liên kết tượng trưng (symlink)", "a symbolic link"),
            Kind::Unknown => lang.pick("một tệp đặc biệt", "a special file"),
        }
    }
}

const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);

/// The components of a relative name, refusing any that would leave the
/// folder.
fn components(rel: &Path) -> Result<Vec<&OsStr>, OpenError> {
    let mut out = Vec::new();
    for c in rel.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir => {}
            _ => return Err(OpenError::Outside),
        }
    }
    Ok(out)
}

fn io_err(e: rustix::io::Errno) -> io::Error {
    io::Error::from_raw_os_error(e.raw_os_error())
}

/// Opens the folder itself (trusted: the installer set it).
fn open_root(root: &Path) -> Result<OwnedFd, OpenError> {
    rustix::fs::open(
        root,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| OpenError::Io(io_err(e)))
}

/// Opens one directory below `dir`, refusing a link.
fn open_subdir(dir: &OwnedFd, name: &OsStr) -> Result<OwnedFd, OpenError> {
    match rustix::fs::openat(dir, name, DIR_FLAGS, Mode::empty()) {
        Ok(fd) => Ok(fd),
        Err(rustix::io::Errno::LOOP) => Err(OpenError::Link),
        Err(rustix::io::Errno::NOTDIR) => {
            let kind = rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)
                .ok()
                .and_then(|st| Kind::of(FileType::from_raw_mode(st.st_mode)))
                .unwrap_or(Kind::Unknown);
            Err(if kind == Kind::Link {
                OpenError::Link
            } else {
                OpenError::NotRegular(kind)
            })
        }
        Err(e) => Err(OpenError::Io(io_err(e))),
    }
}

/// Opens the folder `rel_dir` below `root`, each component without
/// following a link.
pub fn open_dir(root: &Path, rel_dir: &Path) -> Result<OwnedFd, OpenError> {
    let mut fd = open_root(root)?;
    for name in components(rel_dir)? {
        fd = open_subdir(&fd, name)?;
    }
    Ok(fd)
}

/// The parent folder's descriptor and the last component of `rel`.
fn parent_of<'a>(root: &Path, rel: &'a Path) -> Result<(OwnedFd, &'a OsStr), OpenError> {
    let parts = components(rel)?;
    let (last, dirs) = parts.split_last().ok_or(OpenError::Outside)?;
    let mut fd = open_root(root)?;
    for name in dirs {
        fd = open_subdir(&fd, name)?;
    }
    Ok((fd, last))
}

/// Opens `name` in `dir` for reading: a regular file with one name, never
/// a link, a pipe (opening one would block) or a device.
fn open_regular_at(dir: &OwnedFd, name: &OsStr) -> Result<File, OpenError> {
    let fd = match rustix::fs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::LOOP) => return Err(OpenError::Link),
        Err(e) => return Err(OpenError::Io(io_err(e))),
    };
    checked_regular(fd)
}

/// Checks an open descriptor is a regular file with one name, and makes it
/// blocking again.
fn checked_regular(fd: OwnedFd) -> Result<File, OpenError> {
    let st = rustix::fs::fstat(&fd).map_err(|e| OpenError::Io(io_err(e)))?;
    if let Some(kind) = Kind::of(FileType::from_raw_mode(st.st_mode)) {
        return Err(OpenError::NotRegular(kind));
    }
    let nlink = entry_of(&st).nlink;
    if nlink > 1 {
        return Err(OpenError::HardLink(nlink));
    }
    rustix::fs::fcntl_setfl(&fd, OFlags::empty()).map_err(|e| OpenError::Io(io_err(e)))?;
    Ok(File::from(fd))
}

/// Opens the file `rel` below `root` for reading (see [`MediaPath::open`]).
pub fn open_file(root: &Path, rel: &Path) -> Result<File, OpenError> {
    let (dir, name) = parent_of(root, rel)?;
    open_regular_at(&dir, name)
}

/// Opens a path given by hand: following links is the operator's choice,
/// but it must be a regular file (a pipe or /dev/zero would hang or never
/// end).
pub fn open_given(path: &Path) -> Result<File, OpenError> {
    let fd = rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY,
        Mode::empty(),
    )
    .map_err(|e| OpenError::Io(io_err(e)))?;
    let st = rustix::fs::fstat(&fd).map_err(|e| OpenError::Io(io_err(e)))?;
    if let Some(kind) = Kind::of(FileType::from_raw_mode(st.st_mode)) {
        return Err(OpenError::NotRegular(kind));
    }
    rustix::fs::fcntl_setfl(&fd, OFlags::empty()).map_err(|e| OpenError::Io(io_err(e)))?;
    Ok(File::from(fd))
}

/// Reads a small text file below `root` (a rejection note): None if it is
/// missing, not a regular file, a link or larger than `max` bytes.
pub fn read_text(root: &Path, rel: &Path, max: u64) -> Option<String> {
    let f = open_file(root, rel).ok()?;
    let mut s = String::new();
    f.take(max + 1).read_to_string(&mut s).ok()?;
    (s.len() as u64 <= max).then_some(s)
}

/// Creates the folders of `rel_dir` below `root` that are missing (setgid
/// and group-writable, like the folder itself), each without following a
/// link; returns the last one.
///
/// The folder is made without the setgid bit in its mode: the service's
/// unit has `RestrictSUIDSGID=yes`, whose filter refuses (EPERM) a
/// `mkdir` or `chmod` asking for setgid. Below a setgid folder (the audio
/// folder is one) the kernel sets it anyway; elsewhere it is asked for
/// afterwards, and a refusal of only that is let be.
pub fn make_dirs(root: &Path, rel_dir: &Path) -> Result<OwnedFd, OpenError> {
    let mut fd = open_root(root)?;
    for name in components(rel_dir)? {
        let made = match rustix::fs::mkdirat(&fd, name, Mode::from_raw_mode(0o775)) {
            Ok(()) => true,
            Err(rustix::io::Errno::EXIST) => false,
            Err(e) => return Err(OpenError::Io(io_err(e))),
        };
        fd = open_subdir(&fd, name)?;
        if made && let Ok(st) = rustix::fs::fstat(&fd) {
            let _ = widen_mode(&fd, st.st_mode & 0o7777, 0o2070);
        }
    }
    Ok(fd)
}

/// Adds `wanted` to a file's or folder's `mode` (unless it has them all
/// already). Under the unit's `RestrictSUIDSGID=yes` any `chmod` whose
/// mode holds the setgid bit is refused (EPERM), also one that keeps a bit
/// already set: the group's bits are then added without setgid (dropping
/// it if the folder had it: a group-writable folder is what lets the
/// service and the operator move and replace what is in it; setgid only
/// sets the group of files made there later).
fn widen_mode(fd: &impl AsFd, mode: u32, wanted: u32) -> rustix::io::Result<()> {
    if mode & wanted == wanted {
        return Ok(());
    }
    match rustix::fs::fchmod(fd, Mode::from_raw_mode(mode | wanted)) {
        Err(rustix::io::Errno::PERM) if (mode | wanted) & 0o6000 != 0 => {
            let without = wanted & !0o6000;
            if mode & without == without {
                return Ok(());
            }
            rustix::fs::fchmod(fd, Mode::from_raw_mode((mode | without) & !0o6000))
        }
        r => r,
    }
}

/// Moves `from` to `to` (both below `root`), creating `to`'s folders. The
/// name itself is moved, never what it points to.
pub fn rename(root: &Path, from: &Path, to: &Path) -> Result<(), OpenError> {
    let (from_dir, from_name) = parent_of(root, from)?;
    let to_parts = components(to)?;
    let (to_name, to_dirs) = to_parts.split_last().ok_or(OpenError::Outside)?;
    let to_dir = make_dirs(root, &to_dirs.iter().collect::<PathBuf>())?;
    rustix::fs::renameat(&from_dir, from_name, &to_dir, *to_name)
        .map_err(|e| OpenError::Io(io_err(e)))
}

/// Writes `rel` below `root` whole, or not at all: into a new temporary
/// file beside it (created exclusively, never through a link), then renamed
/// over it, so a reader never sees half of it. Creates its folders.
pub fn write_atomically(root: &Path, rel: &Path, bytes: &[u8]) -> Result<(), OpenError> {
    write_with(root, rel, false, |f| f.write_all(bytes))
}

/// As [`write_atomically`], with the content written by `fill`; with
/// `durable`, the file and the rename are synced to the disk before it
/// returns (an import the operator was told succeeded survives a power cut).
pub fn write_with(
    root: &Path,
    rel: &Path,
    durable: bool,
    fill: impl FnOnce(&mut File) -> io::Result<()>,
) -> Result<(), OpenError> {
    let parts = components(rel)?;
    let (name, dirs) = parts.split_last().ok_or(OpenError::Outside)?;
    let dir = make_dirs(root, &dirs.iter().collect::<PathBuf>())?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    // A leftover of an earlier attempt, or a link someone planted there.
    let _ = rustix::fs::unlinkat(&dir, &tmp_name, AtFlags::empty());
    let fd = rustix::fs::openat(
        &dir,
        &tmp_name,
        OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o664),
    )
    .map_err(|e| OpenError::Io(io_err(e)))?;
    let mut f = File::from(fd);
    let written = fill(&mut f)
        .and_then(|()| f.flush())
        .and_then(|()| if durable { f.sync_all() } else { Ok(()) });
    drop(f);
    let renamed = written.map_err(OpenError::Io).and_then(|()| {
        rustix::fs::renameat(&dir, &tmp_name, &dir, *name).map_err(|e| OpenError::Io(io_err(e)))
    });
    if renamed.is_err() {
        let _ = rustix::fs::unlinkat(&dir, &tmp_name, AtFlags::empty());
    } else if durable {
        let _ = rustix::fs::fsync(&dir);
    }
    renamed
}

/// Removes the name `rel` below `root` (a file, or a link: never what a
/// link points to). A missing name is not an error.
pub fn remove(root: &Path, rel: &Path) -> Result<(), OpenError> {
    let (dir, name) = parent_of(root, rel)?;
    match rustix::fs::unlinkat(&dir, name, AtFlags::empty()) {
        Ok(()) | Err(rustix::io::Errno::NOENT) => Ok(()),
        Err(e) => Err(OpenError::Io(io_err(e))),
    }
}

/// What a name is, from [`OpenError::code`], in the operator's words.
pub fn words(code: &str, lang: crate::lang::Lang) -> String {
    let (vi, en) = match code {
        "symlink" => (
            "một liên kết (symlink), loa không đi theo",
            "a symbolic link, which loa does not follow",
        ),
        "folder" => ("một thư mục", "a folder"),
        "fifo" => ("một đường ống (FIFO)", "a named pipe (FIFO)"),
        "socket" => ("một socket", "a socket"),
        "device" => ("một tệp thiết bị", "a device file"),
        "outside" => (
            "một tên nằm ngoài thư mục âm thanh",
            "a name outside the audio folder",
        ),
        c if c.starts_with("hard-link") => (
            "một liên kết cứng (cùng một tệp có nhiều tên)",
            "a hard link (one file with several names)",
        ),
        _ => ("một tệp đặc biệt", "a special file"),
    };
    lang.pick(vi, en).to_string()
}

/// What `lstat` says of a name below the folder, without following it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// None for a regular file.
    pub kind: Option<Kind>,
    /// Its size, in bytes.
    pub size: u64,
    /// Its modification time, in nanoseconds since the Unix epoch.
    pub mtime_ns: i64,
    /// How many names (hard links) the file has.
    pub nlink: u64,
}

/// Looks at `rel` below `root` without following it (or any folder above
/// it); None when it is gone or cannot be reached without a link.
pub fn lstat(root: &Path, rel: &Path) -> Option<Entry> {
    let (dir, name) = parent_of(root, rel).ok()?;
    let st = rustix::fs::statat(&dir, name, AtFlags::SYMLINK_NOFOLLOW).ok()?;
    Some(entry_of(&st))
}

// The casts are no-ops on 64-bit Linux, not on 32-bit Raspberry Pi OS,
// where these fields are narrower.
#[allow(clippy::unnecessary_cast)]
fn entry_of(st: &rustix::fs::Stat) -> Entry {
    Entry {
        kind: Kind::of(FileType::from_raw_mode(st.st_mode)),
        size: st.st_size as u64,
        mtime_ns: (st.st_mtime as i64)
            .saturating_mul(1_000_000_000)
            .saturating_add(st.st_mtime_nsec as i64),
        nlink: st.st_nlink as u64,
    }
}

/// Something below the audio folder that is not a regular file with one
/// name: reported, never followed, never moved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Odd {
    /// "/"-separated, below the folder.
    pub rel: String,
    /// What it is instead.
    pub what: OddKind,
}

/// What an [`Odd`] name is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OddKind {
    /// A symbolic link, and where it points (as written in the link).
    Symlink(String),
    /// A regular file with this many names.
    HardLink(u64),
    /// A pipe, socket or device.
    Special(Kind),
}

impl Odd {
    /// What it is and what to do, for the operator.
    pub fn message(&self, lang: crate::lang::Lang) -> String {
        let rel = &self.rel;
        match &self.what {
            OddKind::Symlink(target) => crate::tr!(
                lang,
                "Mục \"{rel}\" là một liên kết (symlink) trỏ tới \"{target}\", không phải tệp âm thanh, nên loa không đi theo và không phát nó. Hãy xóa liên kết này và tải lên chính tệp âm thanh.",
                "\"{rel}\" is a symbolic link to \"{target}\", not an audio file; loa does not follow links and will not air it. Delete the link and upload the audio file itself"
            ),
            OddKind::HardLink(n) => crate::tr!(
                lang,
                "Tệp \"{rel}\" là một liên kết cứng (cùng một tệp mang {n} tên, có thể có tên nằm ngoài thư mục âm thanh), nên loa không dùng nó. Hãy xóa nó và tải lên một bản sao của tệp.",
                "\"{rel}\" is a hard link (one file with {n} names, perhaps outside the audio folder); loa does not use it. Delete it and upload a copy of the file"
            ),
            OddKind::Special(kind) => {
                let what = kind.words(lang);
                crate::tr!(
                    lang,
                    "Mục \"{rel}\" là {what}, không phải tệp âm thanh, nên loa bỏ qua. Hãy xóa nó khỏi thư mục âm thanh.",
                    "\"{rel}\" is {what}, not an audio file; loa leaves it alone. Delete it from the audio folder"
                )
            }
        }
    }
}

/// One regular file found by [`walk`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// "/"-separated, below the folder.
    pub rel: String,
    /// Its size, in bytes.
    pub size: u64,
    /// Its modification time, in nanoseconds since the Unix epoch.
    pub mtime_ns: i64,
}

/// Lists every regular file below `root` (descending into real folders
/// only, so a link to a folder, or a loop, is never entered), and the odd
/// names met on the way. `skip(rel, is_dir)` leaves a name out entirely
/// (hidden files, `rejected/`). Unreadable folders are skipped.
pub fn walk(root: &Path, skip: &dyn Fn(&str, bool) -> bool) -> io::Result<(Vec<Found>, Vec<Odd>)> {
    walk_below(root, Path::new(""), skip)
}

/// As [`walk`], for the folder `rel_dir` below `root` (reached without
/// following a link); names are given below `root`.
pub fn walk_below(
    root: &Path,
    rel_dir: &Path,
    skip: &dyn Fn(&str, bool) -> bool,
) -> io::Result<(Vec<Found>, Vec<Odd>)> {
    let fd = open_dir(root, rel_dir).map_err(|e| match e {
        OpenError::Io(io) => io,
        other => io::Error::other(other.to_string()),
    })?;
    let mut files = Vec::new();
    let mut odd = Vec::new();
    let prefix = rel_dir.to_string_lossy();
    walk_at(&fd, &prefix, skip, &mut files, &mut odd, 0);
    files.sort_by(|a, b| a.rel.cmp(&b.rel));
    odd.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok((files, odd))
}

/// Folders nested deeper than this are not entered (a sane upload never is).
const MAX_DEPTH: usize = 32;

fn walk_at(
    dir: &OwnedFd,
    prefix: &str,
    skip: &dyn Fn(&str, bool) -> bool,
    files: &mut Vec<Found>,
    odd: &mut Vec<Odd>,
    depth: usize,
) {
    let Ok(entries) = rustix::fs::Dir::read_from(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let raw = entry.file_name().to_bytes();
        if raw == b"." || raw == b".." {
            continue;
        }
        let name = String::from_utf8_lossy(raw).into_owned();
        let os_name = OsStr::from_bytes(raw);
        let rel = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}/{name}")
        };
        let Ok(st) = rustix::fs::statat(dir, os_name, AtFlags::SYMLINK_NOFOLLOW) else {
            continue;
        };
        let e = entry_of(&st);
        match e.kind {
            Some(Kind::Directory) => {
                if skip(&rel, true) || depth >= MAX_DEPTH {
                    continue;
                }
                if let Ok(sub) = open_subdir(dir, os_name) {
                    walk_at(&sub, &rel, skip, files, odd, depth + 1);
                }
            }
            _ if skip(&rel, false) => {}
            None if e.nlink > 1 => odd.push(Odd {
                rel,
                what: OddKind::HardLink(e.nlink),
            }),
            None => files.push(Found {
                rel,
                size: e.size,
                mtime_ns: e.mtime_ns,
            }),
            Some(Kind::Link) => {
                let target = rustix::fs::readlinkat(dir, os_name, Vec::new())
                    .map(|t| t.to_string_lossy().into_owned())
                    .unwrap_or_default();
                odd.push(Odd {
                    rel,
                    what: OddKind::Symlink(target),
                });
            }
            Some(kind) => odd.push(Odd {
                rel,
                what: OddKind::Special(kind),
            }),
        }
    }
}

/// What [`share`] could not do, for the operator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShareProblem {
    /// The file or folder, below the audio folder.
    pub rel: String,
    /// What failed: the `chgrp` and `chmod` errors, joined.
    pub detail: String,
}

/// Brings `rel` (a file below `root`) and the folders above it to the
/// audio folder's group, group-writable, folders setgid (where allowed:
/// see [`widen_mode`]): an upload account
/// sends mode 0644 and `scp -r` makes folders 0755, which would keep the
/// operator (and the service, moving a bad file out) from replacing or
/// moving what it uploaded. Needs ownership or CAP_FOWNER and CAP_CHOWN
/// (the service's unit grants them); what cannot be changed is returned.
pub fn share(root: &Path, rel: &Path) -> Vec<ShareProblem> {
    let mut problems = Vec::new();
    let Ok(root_fd) = open_root(root) else {
        return problems;
    };
    let Ok(root_st) = rustix::fs::fstat(&root_fd) else {
        return problems;
    };
    let gid = root_st.st_gid;
    let Ok(parts) = components(rel) else {
        return problems;
    };
    let mut fd = root_fd;
    let mut so_far = PathBuf::new();
    for (i, name) in parts.iter().enumerate() {
        so_far.push(name);
        let last = i + 1 == parts.len();
        let opened = if last {
            rustix::fs::openat(
                &fd,
                *name,
                OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| OpenError::Io(io_err(e)))
        } else {
            open_subdir(&fd, name)
        };
        let Ok(this) = opened else {
            return problems;
        };
        let Ok(st) = rustix::fs::fstat(&this) else {
            return problems;
        };
        let kind = Kind::of(FileType::from_raw_mode(st.st_mode));
        let wanted_bits = match kind {
            Some(Kind::Directory) => 0o2070,
            None => 0o060,
            // Not ours to change.
            Some(_) => return problems,
        };
        let mut failed = Vec::new();
        if st.st_gid != gid
            && let Err(e) = rustix::fs::fchown(&this, None, Some(rustix::fs::Gid::from_raw(gid)))
        {
            failed.push(format!("chgrp: {}", io_err(e)));
        }
        if let Err(e) = widen_mode(&this, st.st_mode & 0o7777, wanted_bits) {
            failed.push(format!("chmod: {}", io_err(e)));
        }
        if !failed.is_empty() {
            problems.push(ShareProblem {
                rel: so_far.to_string_lossy().into_owned(),
                detail: failed.join(", "),
            });
        }
        if !last {
            fd = this;
        }
    }
    problems
}

/// The descriptor's path as the kernel resolved it (for tests).
pub fn resolved(f: &impl AsFd) -> Option<PathBuf> {
    rustix::fs::readlinkat(
        rustix::fs::CWD,
        format!(
            "/proc/self/fd/{}",
            std::os::fd::AsRawFd::as_raw_fd(&f.as_fd())
        ),
        Vec::new(),
    )
    .ok()
    .map(|c| PathBuf::from(OsStr::from_bytes(c.as_bytes())))
}

#[cfg(test)]
mod tests;
