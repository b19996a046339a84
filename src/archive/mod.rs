//! The broadcast archive: a recording of every broadcast, exactly the
//! samples sent to the sound card (after gain and fades, gaps included),
//! as mono MP3 files ARCHIVE/YYYY-MM-DD/HHMMSS-KEY.mp3 written as the
//! broadcast plays. `tap` is the feeder's end (never waits), `encoder` the
//! thread that encodes and writes, `retention` what to delete (by age, and
//! when the disk is low), `listing` what a day holds. The daemon starts a
//! [`Recording`] per broadcast through [`Archive`]; this module never
//! decides what airs and never touches the relay or the as-run log itself
//! (it tells its caller when a file is closed).

pub mod encoder;
pub mod listing;
pub mod retention;
pub mod tap;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

pub use encoder::{Closed, OnClose};
pub use tap::{Tap, TapShared};

use crate::config::Config;
use crate::lang::Lang;
use crate::tr;

/// Why a recording could not be made or finished.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The archive folder (or the day's folder, or the file) could not be
    /// created.
    #[error("cannot create {path}: {source}")]
    Create {
        /// What could not be created.
        path: PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
    /// Writing the file failed (the disk filled up, the card went
    /// read-only).
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
    /// LAME refused its settings or failed.
    #[error("MP3 encoder: {0}")]
    Encoder(String),
}

impl ArchiveError {
    /// What went wrong and what to do, for the operator.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            ArchiveError::Create { path, source } => {
                let (shown, why) = (
                    crate::problem::display_path(path),
                    crate::tomlfile::io_reason(source, lang),
                );
                tr!(
                    lang,
                    "Không tạo được {shown} để lưu bản ghi buổi phát ({why}); hãy kiểm tra quyền ghi và [archive] folder.",
                    "cannot create {shown} for the broadcast recording ({why}); check write permission and [archive] folder"
                )
            }
            ArchiveError::Write { path, source } => {
                let (shown, why) = (
                    crate::problem::display_path(path),
                    crate::tomlfile::io_reason(source, lang),
                );
                tr!(
                    lang,
                    "Không ghi được bản ghi buổi phát {shown} ({why}); bản ghi dừng ở đó, buổi phát vẫn tiếp tục.",
                    "cannot write the broadcast recording {shown} ({why}); the recording stops there, the broadcast goes on"
                )
            }
            ArchiveError::Encoder(e) => tr!(
                lang,
                "Bộ mã hóa MP3 bị lỗi ({e}); buổi phát này không được lưu lại.",
                "the MP3 encoder failed ({e}); this broadcast is not recorded"
            ),
        }
    }
}

/// A broadcast key as a file name's part: letters, digits and `-`, every
/// other run of characters one `-` ("2026-01-20 06:00:00 #0" becomes
/// "2026-01-20-06-00-00-0"), so that the name is the same on every system
/// (Windows takes no `:`) and in every shell.
pub fn file_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for c in key.chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// Where a recording of `key`, started at local `at`, goes under `folder`:
/// FOLDER/YYYY-MM-DD/HHMMSS-KEY.mp3.
pub fn file_path(folder: &Path, key: &str, at: DateTime) -> PathBuf {
    folder.join(at.date().to_string()).join(format!(
        "{:02}{:02}{:02}-{}.mp3",
        at.hour(),
        at.minute(),
        at.second(),
        file_key(key)
    ))
}

/// `path` as the as-run log keeps it: relative to the state folder when it
/// is inside it, else absolute.
pub fn relative_to_state(path: &Path, state: &Path) -> String {
    path.strip_prefix(state)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

/// What the archive is doing, for `loa status`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ArchiveState {
    /// Recording is off because the disk is below the reserve even with
    /// every old recording deleted; the free bytes then.
    pub disk_low: Option<u64>,
    /// The last deletion: when, how many files, and why.
    pub last_deletion: Option<(Timestamp, usize, retention::Why)>,
    /// The last recording that failed, for the operator.
    pub last_error: Option<String>,
}

/// The archive as the daemon holds it: its settings, the recordings still
/// open, and its state for `loa status`.
pub struct Archive {
    /// `[archive]`.
    pub cfg: crate::config::ArchiveConfig,
    /// The state folder (paths in the as-run log are relative to it).
    pub state: PathBuf,
    /// `[ingest]` reserve: below it, old recordings go, then recording stops.
    pub reserve: u64,
    /// For the names of the files (local time).
    pub tz: TimeZone,
    /// The operator's language, for the log and the status.
    pub lang: Lang,
    /// Recordings whose file is not closed yet (shutdown waits for them).
    open: Arc<AtomicUsize>,
    /// What `loa status` says of it.
    pub status: Arc<Mutex<ArchiveState>>,
    /// Free space on the archive's disk; a seam for tests of the reserve.
    pub free_space: fn(&Path) -> Option<u64>,
}

/// One broadcast's recording, from the daemon's side: the file it goes to.
/// Dropping it (the broadcast is over) closes the file even if the sound
/// card's feeder is stuck and still holds the tap.
pub struct Recording {
    /// The file.
    pub path: PathBuf,
    shared: Arc<TapShared>,
    thread: std::thread::Thread,
}

impl Drop for Recording {
    fn drop(&mut self) {
        self.shared.closing.store(true, Ordering::Release);
        self.thread.unpark();
    }
}

impl Archive {
    /// The archive `cfg` describes.
    pub fn new(cfg: &Config) -> Archive {
        Archive {
            cfg: cfg.archive.clone(),
            state: cfg.paths.state.clone(),
            reserve: cfg.ingest.min_free,
            tz: cfg.tz.clone(),
            lang: cfg.lang,
            open: Arc::new(AtomicUsize::new(0)),
            status: Arc::new(Mutex::new(ArchiveState::default())),
            free_space: crate::media::ingest::free_space,
        }
    }

    fn status(&self) -> std::sync::MutexGuard<'_, ArchiveState> {
        self.status.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts recording broadcast `key`, which starts sounding at `at`;
    /// `on_close` is told the file's hash once it is closed. None when
    /// the archive is off, or the disk is too low even after deleting old
    /// recordings (said in the log and the status).
    pub fn start(
        &self,
        key: &str,
        at: Timestamp,
        on_close: OnClose,
    ) -> Option<Result<(Recording, Tap), ArchiveError>> {
        if !self.cfg.enabled {
            return None;
        }
        if let Err(e) = std::fs::create_dir_all(&self.cfg.folder) {
            return Some(Err(ArchiveError::Create {
                path: self.cfg.folder.clone(),
                source: e,
            }));
        }
        if !self.room_for_recording(at) {
            return None;
        }
        let local = self.tz.to_offset(at).to_datetime(at);
        Some(self.open_file(key, local, on_close))
    }

    /// Whether the disk has room for a recording, deleting the oldest
    /// ones first when it is below the reserve.
    fn room_for_recording(&self, now: Timestamp) -> bool {
        let free = (self.free_space)(&self.cfg.folder);
        if free.is_none_or(|f| f >= self.reserve) {
            self.status().disk_low = None;
            return true;
        }
        self.prune(now);
        let free = (self.free_space)(&self.cfg.folder).unwrap_or(0);
        if free >= self.reserve {
            self.status().disk_low = None;
            return true;
        }
        let (mb, min) = (free / 1_000_000, self.reserve / 1_000_000);
        tracing::warn!(
            free_mb = mb,
            reserve_mb = min,
            "{}",
            crate::lang::log(
                "đĩa sắp đầy: buổi phát này không được ghi lại (nhật ký phát vẫn được ghi)",
                "the disk is nearly full: this broadcast is not recorded (the as-run log still is)"
            )
        );
        self.status().disk_low = Some(free);
        false
    }

    fn open_file(
        &self,
        key: &str,
        local: DateTime,
        on_close: OnClose,
    ) -> Result<(Recording, Tap), ArchiveError> {
        let mut path = file_path(&self.cfg.folder, key, local);
        if let Some(day) = path.parent() {
            std::fs::create_dir_all(day).map_err(|source| ArchiveError::Create {
                path: day.to_path_buf(),
                source,
            })?;
        }
        let stem = path.with_extension("");
        let mut n = 1;
        let file = loop {
            match std::fs::File::options()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(f) => break f,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 100 => {
                    n += 1;
                    path = PathBuf::from(format!("{}-{n}.mp3", stem.display()));
                }
                Err(source) => return Err(ArchiveError::Create { path, source }),
            }
        };
        let (producer, consumer) = rtrb::RingBuffer::<f32>::new(tap::RING_SAMPLES);
        let shared = Arc::new(TapShared::default());
        let encoding = encoder::Encoding {
            file,
            path: path.clone(),
            bitrate_kbps: self.cfg.bitrate_kbps,
            ring: consumer,
            shared: shared.clone(),
            reserve: self.reserve,
            free_space: self.free_space,
        };
        let open = self.open.clone();
        open.fetch_add(1, Ordering::AcqRel);
        let spawned = std::thread::Builder::new()
            .name("archive-enc".into())
            .spawn(move || {
                crate::media::ingest::lower_priority();
                let result = match crate::contain::contained(|| encoding.run()) {
                    Ok(r) => r,
                    Err(panic) => Err(ArchiveError::Encoder(panic.to_string())),
                };
                on_close(result);
                open.fetch_sub(1, Ordering::AcqRel);
            });
        let handle = match spawned {
            Ok(h) => h,
            Err(source) => {
                self.open.fetch_sub(1, Ordering::AcqRel);
                let _ = std::fs::remove_file(&path);
                return Err(ArchiveError::Create { path, source });
            }
        };
        let thread = handle.thread().clone();
        tracing::info!(file = %path.display(), bitrate_kbps = self.cfg.bitrate_kbps, "{}", crate::lang::log("bắt đầu ghi lại buổi phát", "recording the broadcast"));
        Ok((
            Recording {
                path,
                shared: shared.clone(),
                thread: thread.clone(),
            },
            Tap::new(producer, shared, thread),
        ))
    }

    /// Deletes what retention says must go (by age at `now`, then the
    /// oldest while the disk is below the reserve); logs it and keeps it
    /// for the status. Returns the files deleted.
    pub fn prune(&self, now: Timestamp) -> Vec<PathBuf> {
        let stored = listing::all(&self.cfg.folder);
        let free = (self.free_space)(&self.cfg.folder);
        let local = self.tz.to_offset(now).to_datetime(now);
        let plan = retention::plan(&stored, local, self.cfg.keep, free, self.reserve);
        let mut deleted = Vec::new();
        let mut last_why = None;
        for (i, why) in plan {
            let f = &stored[i];
            match std::fs::remove_file(&f.path) {
                Ok(()) => {
                    tracing::info!(file = %f.path.display(), reason = why.as_str(), "{}", crate::lang::log("đã xóa bản ghi buổi phát cũ", "deleted an old broadcast recording"));
                    deleted.push(f.path.clone());
                    last_why = Some(why);
                    // An emptied day's folder goes too.
                    if let Some(day) = f.path.parent() {
                        let _ = std::fs::remove_dir(day);
                    }
                }
                Err(e) => {
                    tracing::warn!(file = %f.path.display(), error = %e, "{}", crate::lang::log("không xóa được bản ghi cũ", "could not delete an old recording"));
                }
            }
        }
        if let Some(why) = last_why {
            self.status().last_deletion = Some((now, deleted.len(), why));
        }
        deleted
    }

    /// Waits (at most `max`) for the recordings still being closed.
    pub fn wait_closed(&self, max: Duration) {
        let deadline = std::time::Instant::now() + max;
        while self.open.load(Ordering::Acquire) > 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// `loa status`'s archive line (after the label "Lưu trữ"/"Archive"):
    /// how many recordings, how much space,
    /// how long they are kept, the last deletion. Reads the folder: asked
    /// for `loa status` only.
    pub fn summary(&self) -> String {
        let lang = self.lang;
        if !self.cfg.enabled {
            return lang
                .pick(
                    "tắt ([archive] enabled = false): các buổi phát không được ghi lại.",
                    "off ([archive] enabled = false): broadcasts are not recorded.",
                )
                .to_string();
        }
        let stored = listing::all(&self.cfg.folder);
        let bytes: u64 = stored.iter().map(|s| s.bytes).sum();
        let (n, mb) = (stored.len(), (bytes as f64 / 1e6).round() as u64);
        let days = self.cfg.keep.as_secs().div_ceil(86_400);
        let mut line = tr!(
            lang,
            "{n} bản ghi, {mb} MB, giữ {days} ngày.",
            "{n} recordings, {mb} MB, kept {days} days."
        );
        let st = self.status().clone();
        if let Some((at, count, why)) = st.last_deletion {
            let when = crate::schedule::rfc3339(at, &self.tz);
            let why = why.label(lang);
            line.push(' ');
            line.push_str(&tr!(
                lang,
                "Lần xóa gần nhất: {count} bản ghi lúc {when} ({why}).",
                "Last deletion: {count} recordings at {when} ({why})."
            ));
        }
        line
    }

    /// A warning for `loa status` when recording is off for lack of space,
    /// or the last recording failed.
    pub fn warning(&self) -> Option<String> {
        let st = self.status().clone();
        if let Some(free) = st.disk_low {
            let (mb, min) = (free / 1_000_000, self.reserve / 1_000_000);
            return Some(tr!(
                self.lang,
                "Đĩa sắp đầy (còn {mb} MB, cần {min} MB) dù đã xóa hết bản ghi cũ: các buổi phát không được ghi lại, nhật ký phát vẫn được ghi. Hãy xóa bớt tệp âm thanh cũ.",
                "The disk is nearly full ({mb} MB free, {min} MB needed) even with every old recording deleted: broadcasts are not recorded (the as-run log still is). Delete old audio files."
            ));
        }
        st.last_error
    }

    /// Notes a recording that failed, for the status.
    pub fn failed(status: &Mutex<ArchiveState>, message: String) {
        status.lock().unwrap_or_else(|e| e.into_inner()).last_error = Some(message);
    }
}

#[cfg(test)]
mod tests;
