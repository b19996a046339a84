//! Taking up uploads into the audio folder: knowing when an upload has
//! finished (the writer closed it, or its size and mtime stayed still for a
//! few seconds), leaving temporary upload names alone, sending a rejected
//! file to `rejected/` (whose notes and moves are `rejected`'s job),
//! spotting names that clash, and refusing ingest when the disk is nearly
//! full (the as-run log must always have room). Validation itself is
//! `validate`'s job.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use unicode_normalization::UnicodeNormalization;

use super::folder::MediaPath;
use super::index::MediaIndex;
use super::probe::Probe;
use super::rejected::{self, NoteKind, REJECTED_DIR};
use super::validate::{self, Verdict};
use crate::lang::Lang;
use crate::tr;

/// How long a file's size and mtime must stay still when no close was seen.
pub const SETTLE: Duration = Duration::from_secs(3);

/// Names that uploaders use while a transfer is in progress (WinSCP's
/// `.filepart`, browsers' `.part`, and hidden files), left alone until
/// renamed.
pub fn is_temporary(name: &str) -> bool {
    let lower = name.to_lowercase();
    name.starts_with('.')
        || [".filepart", ".part", ".partial", ".tmp", ".crdownload", "~"]
            .iter()
            .any(|s| lower.ends_with(s))
}

/// Whether a path (below the audio folder) should be taken up at all.
pub fn is_candidate(audio_root: &Path, path: &Path) -> bool {
    let Ok(rel) = path.strip_prefix(audio_root) else {
        return false;
    };
    let mut parts = rel.components();
    if let Some(first) = parts.next()
        && (first.as_os_str() == REJECTED_DIR
            || (first.as_os_str() == crate::status_note::FILE_NAME && parts.next().is_none()))
    {
        return false;
    }
    rel.components().all(|c| {
        let s = c.as_os_str().to_string_lossy();
        !is_temporary(&s)
    })
}

#[derive(Clone, Copy, Debug)]
struct Seen {
    size: u64,
    mtime_ns: i64,
    /// When size or mtime last changed.
    changed: Instant,
    /// The writer closed it after the last change.
    closed: bool,
}

/// Files seen changing, waiting until their upload is complete. Pure: the
/// caller passes `now` and the file's size and mtime.
#[derive(Debug, Default)]
pub struct Uploads {
    pending: HashMap<PathBuf, Seen>,
    settle: Option<Duration>,
}

impl Uploads {
    /// Uploads that count as complete after `settle` without a change (when no
    /// close is seen).
    pub fn new(settle: Duration) -> Uploads {
        Uploads {
            pending: HashMap::new(),
            settle: Some(settle),
        }
    }

    fn settle(&self) -> Duration {
        self.settle.unwrap_or(SETTLE)
    }

    /// A file changed (written, created, renamed into place); `closed` when
    /// the event says the writer closed it.
    pub fn touched(&mut self, path: PathBuf, size: u64, mtime_ns: i64, closed: bool, now: Instant) {
        let e = self.pending.entry(path).or_insert(Seen {
            size,
            mtime_ns,
            changed: now,
            closed: false,
        });
        if e.size != size || e.mtime_ns != mtime_ns {
            e.size = size;
            e.mtime_ns = mtime_ns;
            e.changed = now;
            e.closed = false;
        }
        if closed {
            e.closed = true;
        }
    }

    /// The file is gone (deleted, renamed away).
    pub fn forget(&mut self, path: &Path) {
        self.pending.remove(path);
    }

    /// Files whose upload is complete: closed by the writer, or still for
    /// the settle time (as checked against `stat`, which the caller does:
    /// `current` gives a file's size and mtime now, or None if it is gone).
    pub fn ready(
        &mut self,
        now: Instant,
        current: impl Fn(&Path) -> Option<(u64, i64)>,
    ) -> Vec<PathBuf> {
        let settle = self.settle();
        let mut done = Vec::new();
        let mut gone = Vec::new();
        for (path, seen) in self.pending.iter_mut() {
            match current(path) {
                None => gone.push(path.clone()),
                Some((size, mtime)) => {
                    if size != seen.size || mtime != seen.mtime_ns {
                        seen.size = size;
                        seen.mtime_ns = mtime;
                        seen.changed = now;
                        seen.closed = false;
                    } else if seen.closed || now.duration_since(seen.changed) >= settle {
                        done.push(path.clone());
                    }
                }
            }
        }
        for p in gone.iter().chain(done.iter()) {
            self.pending.remove(p);
        }
        done.sort();
        done
    }

    /// When to look again (the earliest settle deadline).
    pub fn next_check(&self) -> Option<Instant> {
        let settle = self.settle();
        self.pending
            .values()
            .map(|s| {
                if s.closed {
                    s.changed
                } else {
                    s.changed + settle
                }
            })
            .min()
    }

    /// True when no upload is in progress.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// True when `path` is an upload in progress.
    pub fn contains(&self, path: &Path) -> bool {
        self.pending.contains_key(path)
    }

    /// The uploads in progress.
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.pending.keys().map(PathBuf::as_path)
    }
}

/// A file's size and modification time (ns), or None if it is not a
/// regular file with one name reached without a link (a link is reported
/// apart, see `folder::Odd`). `path` is below `audio_root`.
pub fn stat(audio_root: &Path, path: &Path) -> Option<(u64, i64)> {
    let rel = path.strip_prefix(audio_root).ok()?;
    let e = super::folder::lstat(audio_root, rel)?;
    (e.kind.is_none() && e.nlink == 1).then_some((e.size, e.mtime_ns))
}

/// What a name below the audio folder is, when it is not an ordinary file
/// loa may take up: a link, a pipe, a device. None for a regular file (or
/// a folder, or nothing at all).
pub fn odd(audio_root: &Path, path: &Path) -> Option<super::folder::Odd> {
    use super::folder::{Kind, Odd, OddKind};
    let rel = path.strip_prefix(audio_root).ok()?;
    let e = super::folder::lstat(audio_root, rel)?;
    let rel = rel.to_string_lossy().into_owned();
    match e.kind {
        None if e.nlink > 1 => Some(Odd {
            rel,
            what: OddKind::HardLink(e.nlink),
        }),
        None | Some(Kind::Directory) => None,
        Some(Kind::Link) => {
            let target = std::fs::read_link(path)
                .map(|t| t.display().to_string())
                .unwrap_or_default();
            Some(Odd {
                rel,
                what: OddKind::Symlink(target),
            })
        }
        Some(kind) => Some(Odd {
            rel,
            what: OddKind::Special(kind),
        }),
    }
}

/// A problem with a file's name.
#[derive(Clone, Debug, PartialEq)]
pub enum NameProblem {
    /// Two files whose names differ only by Unicode form or case.
    Conflict(String, String),
    /// A control character (a line break, a tab) in the name.
    Control(String),
    /// Spaces at the start or end of a name (invisible in most listings).
    Spaces(String),
}

impl NameProblem {
    /// What is wrong and what to do, for the operator.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            NameProblem::Conflict(a, b) => tr!(
                lang,
                "Hai tệp \"{a}\" và \"{b}\" có tên chỉ khác nhau ở chữ hoa/thường hoặc ở cách gõ dấu, nên danh sách phát không phân biệt được; hãy xóa hoặc đổi tên một trong hai tệp.",
                "two files \"{a}\" and \"{b}\" have names that differ only in case or in how the accents were typed; playlists cannot tell them apart: delete or rename one"
            ),
            NameProblem::Control(a) => tr!(
                lang,
                "Tên tệp \"{}\" có ký tự điều khiển (dấu xuống dòng hoặc tab); hãy đổi tên tệp.",
                "the file name \"{}\" has a control character (line break, tab); rename the file",
                a.escape_debug()
            ),
            NameProblem::Spaces(a) => tr!(
                lang,
                "Tên tệp \"{a}\" có dấu cách ở đầu hoặc cuối (khó nhìn thấy); hãy đổi tên để bỏ dấu cách đó.",
                "the file name \"{a}\" has a space at its start or end (hard to see); rename the file without it"
            ),
        }
    }
}

/// Name problems among the files below the audio folder (real names, as on
/// disk).
pub fn name_problems<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<NameProblem> {
    let mut out = Vec::new();
    let mut folded: BTreeMap<String, String> = BTreeMap::new();
    for n in names {
        if n.chars().any(|c| c.is_control()) {
            out.push(NameProblem::Control(n.to_string()));
        }
        let has_spaces = n
            .split('/')
            .any(|part| part != part.trim() && !part.is_empty());
        if has_spaces {
            out.push(NameProblem::Spaces(n.to_string()));
        }
        let key: String = n.nfc().collect::<String>().to_lowercase();
        if let Some(other) = folded.get(&key) {
            out.push(NameProblem::Conflict(other.clone(), n.to_string()));
        } else {
            folded.insert(key, n.to_string());
        }
    }
    out
}

/// Free bytes on the filesystem holding `path`.
pub fn free_space(path: &Path) -> Option<u64> {
    let st = rustix::fs::statvfs(path).ok()?;
    Some(st.f_bavail.saturating_mul(st.f_frsize))
}

/// Lowers the calling thread's priority, so that validation never takes
/// the CPU from playback.
pub fn lower_priority() {
    let _ = rustix::process::setpriority_process(None, 10);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_are_left_alone() {
        for n in [
            "ban-tin.mp3.filepart",
            "x.part",
            "x.PARTIAL",
            "x.tmp",
            ".hidden.mp3",
            "x.mp3~",
        ] {
            assert!(is_temporary(n), "{n}");
        }
        for n in ["ban-tin.mp3", "partition.mp3", "tmp.mp3"] {
            assert!(!is_temporary(n), "{n}");
        }
        let root = Path::new("/a");
        assert!(is_candidate(root, Path::new("/a/dai-hoi/x.mp3")));
        assert!(!is_candidate(root, Path::new("/a/rejected/x.mp3")));
        assert!(!is_candidate(root, Path::new("/a/.upload/x.mp3")));
        assert!(!is_candidate(root, Path::new("/b/x.mp3")));
    }

    #[test]
    fn an_upload_is_ready_when_closed_or_still() {
        let mut u = Uploads::new(Duration::from_secs(3));
        let t0 = Instant::now();
        let p = PathBuf::from("/a/x.mp3");
        u.touched(p.clone(), 100, 1, false, t0);
        // Still growing (seen at 2 s): not ready.
        assert!(
            u.ready(t0 + Duration::from_secs(2), |_| Some((200, 2)))
                .is_empty()
        );
        assert!(
            u.ready(t0 + Duration::from_secs(4), |_| Some((200, 2)))
                .is_empty()
        );
        // Still for 3 s since the last change (at 2 s): ready at 5 s.
        assert_eq!(
            u.ready(t0 + Duration::from_secs(5), |_| Some((200, 2))),
            vec![p.clone()]
        );
        assert!(u.is_empty());
        // Closed by the writer: ready at once.
        u.touched(p.clone(), 300, 3, true, t0);
        assert_eq!(u.ready(t0, |_| Some((300, 3))), vec![p.clone()]);
        // Gone: forgotten.
        u.touched(p.clone(), 300, 3, false, t0);
        assert!(u.ready(t0 + Duration::from_secs(9), |_| None).is_empty());
        assert!(u.is_empty());
    }

    #[test]
    fn name_clashes_and_odd_names() {
        let nfd: String = "Thông báo.mp3".nfd().collect();
        let names = [
            "Thông báo.mp3",
            nfd.as_str(),
            "A.mp3",
            "a.mp3",
            " x.mp3",
            "y\t.mp3",
        ];
        let p = name_problems(names);
        assert!(p.contains(&NameProblem::Conflict("Thông báo.mp3".into(), nfd.clone())));
        assert!(p.contains(&NameProblem::Conflict("A.mp3".into(), "a.mp3".into())));
        assert!(p.contains(&NameProblem::Spaces(" x.mp3".into())));
        assert!(p.contains(&NameProblem::Control("y\t.mp3".into())));
    }

    #[test]
    fn free_space_is_known() {
        assert!(free_space(Path::new("/")).is_some_and(|b| b > 0));
    }
}

/// What taking up one upload came to.
#[derive(Clone, Debug)]
pub enum TakeUp {
    /// It plays: measured and in the index.
    Accepted {
        /// The file, "/"-separated below the audio folder.
        rel: String,
    },
    /// It does not: moved to `rejected/` with a note; the message says why
    /// (and, when it could not be moved, that it stays and is not aired).
    Rejected {
        /// The file, "/"-separated below the audio folder.
        rel: String,
        /// Why, for the operator.
        message: String,
        /// Whether it is in `rejected/` now.
        moved: bool,
    },
    /// Not taken up: the disk is nearly full (the message says so).
    Refused {
        /// The file, "/"-separated below the audio folder.
        rel: String,
        /// Why, for the operator.
        message: String,
    },
    /// A link, a hard link, a pipe or a device: never followed or opened,
    /// left where it is, with a note in `rejected/`; the message says what
    /// it is and what to do.
    Odd {
        /// The file, "/"-separated below the audio folder.
        rel: String,
        /// What it is and what to do, for the operator.
        message: String,
    },
    /// It went away (or could not be read) before it could be looked at.
    Gone {
        /// The file, "/"-separated below the audio folder (the whole path
        /// when it is not below it).
        rel: String,
    },
}

/// Validates one finished upload (`path` below `audio_root`) and files it:
/// into the media index if it plays, into `rejected/` with a note if not.
/// First brings it (and its folders) to the audio folder's group and
/// mode, so the operator can replace what an upload account sent. Runs at
/// low priority: it must never take the CPU from a broadcast. Nothing is
/// reached through a link (see `folder`).
pub fn take_up(
    audio_root: &Path,
    path: &Path,
    index: &MediaIndex,
    state_dir: &Path,
    min_free: u64,
    lang: Lang,
    tz: &jiff::tz::TimeZone,
) -> TakeUp {
    lower_priority();
    let rel = path
        .strip_prefix(audio_root)
        .map(|r| r.to_string_lossy().replace('\\', "/"))
        .unwrap_or_else(|_| path.display().to_string());
    if path.strip_prefix(audio_root).is_err() {
        return TakeUp::Gone { rel };
    }
    for fs in [audio_root, state_dir] {
        if let Some(free) = free_space(fs)
            && free < min_free
        {
            let (mb, min) = (free / 1_000_000, min_free / 1_000_000);
            let shown = crate::problem::display_path(fs);
            return TakeUp::Refused {
                rel: rel.clone(),
                message: tr!(
                    lang,
                    "Đĩa sắp đầy: {shown} chỉ còn trống {mb} MB (cần ít nhất {min} MB), nên tệp \"{rel}\" chưa được nhận. Hãy xóa bớt tệp âm thanh cũ hoặc các tệp trong rejected/.",
                    "the disk is nearly full: only {mb} MB free on {shown} (at least {min} MB needed); \"{rel}\" was not taken up. Delete old audio files or those in rejected/"
                ),
            };
        }
    }
    if let Some(o) = odd(audio_root, path) {
        let message = o.message(lang);
        if !rejected::has_note(audio_root, &rel) {
            let _ = rejected::write_note(audio_root, &rel, &message, NoteKind::LeftAlone, lang, tz);
        }
        return TakeUp::Odd { rel, message };
    }
    for p in super::folder::share(audio_root, Path::new(&rel)) {
        tracing::warn!(file = %p.rel, problem = %p.detail, "{}", crate::lang::log("không cấp được quyền ghi cho nhóm trên tệp tải lên", "could not make an upload group-writable"));
    }
    let Some((size, mtime)) = stat(audio_root, path) else {
        return TakeUp::Gone { rel };
    };
    let name = rel.rsplit('/').next().unwrap_or(&rel).to_string();
    let v = validate::validate(&MediaPath::beneath(audio_root, &rel));
    index.store_verdict(&rel, size, mtime, &v);
    let message = match v {
        Verdict::Ok(_) => {
            // A good upload under the name of one rejected before: the old
            // copy and its note in rejected/ are out of date.
            rejected::clear(audio_root, &rel);
            return TakeUp::Accepted { rel };
        }
        Verdict::Rejected(r) => r.message(&name, lang),
    };
    // A client may set its folder's mode once it has sent every file
    // (`scp -r` makes it 0755 again at the end): the move out of it can
    // then be refused; the folder is shared again and the move retried.
    let mut moved = rejected::reject(audio_root, &rel, &message, lang, tz);
    for _ in 0..3 {
        match &moved {
            Err(super::folder::OpenError::Io(e))
                if e.kind() == std::io::ErrorKind::PermissionDenied =>
            {
                std::thread::sleep(std::time::Duration::from_millis(300));
                let _ = super::folder::share(audio_root, Path::new(&rel));
                moved = rejected::reject(audio_root, &rel, &message, lang, tz);
            }
            _ => break,
        }
    }
    match moved {
        Ok(_) => TakeUp::Rejected {
            rel,
            message,
            moved: true,
        },
        Err(e) if e.is_not_found() => TakeUp::Gone { rel },
        Err(e) => {
            let why = tr!(
                lang,
                "{message} (Không chuyển được tệp vào rejected/: {e}; tệp vẫn nằm ở chỗ cũ và sẽ không được phát.)",
                "{message} (loa could not move it to rejected/: {e}; it stays where it is and is not aired)"
            );
            TakeUp::Rejected {
                rel,
                message: why,
                moved: false,
            }
        }
    }
}

/// The verdict on one file (a full validation): its probe if it plays,
/// else the message for the operator.
pub fn verdict(media: &MediaPath, name: &str, lang: Lang) -> Result<Probe, String> {
    match validate::validate(media) {
        Verdict::Ok(p) => Ok(p),
        Verdict::Rejected(r) => Err(r.message(name, lang)),
    }
}
