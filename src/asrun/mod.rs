//! The as-run log: what loa aired, failed to air or missed, one row per item
//! attempt, and every edge of the amplifier relay, in the state database.
//! Rows are written as things happen, each write its own transaction, so a
//! power cut or `kill -9` loses at most the write in progress and an item
//! cut off mid-air stays recorded as interrupted. It only records and reads
//! back: deciding what to air is the planner's and the daemon's job, and
//! summing up for the commune's report is [`report`]'s.

mod archive;
pub mod district;
pub mod report;

pub use archive::ArchiveRow;

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::{Connection, ErrorCode, OptionalExtension, params};

use crate::db::{self, DbError};
use crate::lang::Lang;
use crate::tr;

/// What became of one item attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Aired to its end.
    Played,
    /// Could not be aired (the file would not decode, the sound card
    /// failed...); `error` says why.
    Failed,
    /// Its time passed without it airing (loa was down or the clock was not
    /// trusted beyond the late grace).
    Missed,
    /// Cut off while airing: by an emergency, `loa stop`, shutdown, or a
    /// power cut (the row then keeps no end).
    Interrupted,
    /// Skipped by the operator (`loa skip`) or left out after an emergency.
    Skipped,
}

impl Status {
    /// Every status, as `parse` tries them.
    pub const ALL: [Status; 5] = [
        Status::Played,
        Status::Failed,
        Status::Missed,
        Status::Interrupted,
        Status::Skipped,
    ];

    /// The stored and JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Played => "played",
            Status::Failed => "failed",
            Status::Missed => "missed",
            Status::Interrupted => "interrupted",
            Status::Skipped => "skipped",
        }
    }

    /// The status with this stored name (exact, lowercase); None for any other
    /// text.
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The operator's word for it.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Status::Played => lang.pick("đã phát", "played"),
            Status::Failed => lang.pick("lỗi", "failed"),
            Status::Missed => lang.pick("bị lỡ", "missed"),
            Status::Interrupted => lang.pick("bị ngắt", "interrupted"),
            Status::Skipped => lang.pick("đã bỏ qua", "skipped"),
        }
    }
}

/// The three levels of Circular 39/2020/TT-BTTTT.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    /// The playlist.
    #[default]
    Normal,
    /// `loa queue`: first in the next broadcast.
    Priority,
    /// `loa now`: at once, interrupting what plays.
    Emergency,
}

impl Priority {
    /// Every priority, as `parse` tries them.
    pub const ALL: [Priority; 3] = [Priority::Normal, Priority::Priority, Priority::Emergency];

    /// The stored and JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Normal => "normal",
            Priority::Priority => "priority",
            Priority::Emergency => "emergency",
        }
    }

    /// The priority with this stored name (exact, lowercase); None for any
    /// other text.
    pub fn parse(s: &str) -> Option<Priority> {
        Priority::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The operator's word for it.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Priority::Normal => lang.pick("thường", "normal"),
            Priority::Priority => lang.pick("ưu tiên", "priority"),
            Priority::Emergency => lang.pick("khẩn cấp", "emergency"),
        }
    }
}

/// What an item aired: a file, or a live programme relayed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A file from the audio folder.
    #[default]
    File,
    /// An Internet stream (`file` holds its URL).
    Stream,
    /// The sound card's line-in (`file` holds the capture device).
    LineIn,
    /// Text read aloud (`file` holds its first 80 characters, `sha256`
    /// the text's).
    Tts,
}

impl Kind {
    /// The stored and JSON name: "file", "stream", "line-in", "tts".
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::File => "file",
            Kind::Stream => "stream",
            Kind::LineIn => "line-in",
            Kind::Tts => "tts",
        }
    }

    /// The kind stored as `s` (NULL, from before live items: a file).
    pub fn parse(s: Option<&str>) -> Kind {
        match s {
            Some("stream") => Kind::Stream,
            Some("line-in") => Kind::LineIn,
            Some("tts") => Kind::Tts,
            _ => Kind::File,
        }
    }
}

/// One item attempt, as the daemon reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemRecord {
    /// The local date of the broadcast (not of the item: a broadcast that
    /// runs past midnight stays on its own day).
    pub day: Date,
    /// Names the scheduled broadcast within its day, e.g.
    /// "2026-01-20 06:00:00 #0": after a restart the daemon asks
    /// [`AsRun::attempted`] so that nothing airs twice.
    pub broadcast_key: String,
    /// The broadcast's title, if the playlist gives one.
    pub broadcast: Option<String>,
    /// The broadcast's tags (campaign phases), for the report's per-tag totals.
    pub tags: Vec<String>,
    /// The item's file as the playlist names it.
    pub file: String,
    /// Which exact recording: the file's SHA-256 when it was known.
    pub sha256: Option<String>,
    /// When the item was planned to start (None for `loa now`).
    pub scheduled: Option<Timestamp>,
    /// When it actually started; None if it never did.
    pub started: Option<Timestamp>,
    /// When it ended; None if it never started, or if loa died mid-item.
    pub ended: Option<Timestamp>,
    /// What became of it.
    pub status: Status,
    /// How it was asked for: the playlist, `loa queue` or `loa now`.
    pub priority: Priority,
    /// Why it failed, was missed or was cut off, for the operator.
    pub error: Option<String>,
    /// Whether the kernel said the clock was synchronised: a report can
    /// then tell times it can vouch for from times it cannot.
    pub clock_synced: bool,
    /// Aired after its planned time (late start, or an overrunning
    /// broadcast before it).
    pub late: bool,
    /// A file, or a live programme.
    pub kind: Kind,
    /// For a live item: the milliseconds of programme actually aired (the
    /// rest of its slot was backup, fallback or silence).
    pub aired_ms: Option<i64>,
    /// The zones it aired to, by name (empty when no zone is configured).
    pub zones: Vec<String>,
}

/// A stored relay edge: (when, on, cause, line: None for the amplifier,
/// else the zone's name).
pub type EdgeRow = (Timestamp, bool, String, Option<String>);

/// A stored item attempt.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The row's id in the database, as [`AsRun::item_started`] returns it.
    pub id: i64,
    /// The attempt as written.
    pub record: ItemRecord,
}

/// Why the as-run log could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum AsRunError {
    /// SQLite reported the disk full.
    #[error("the disk holding {path} is full: {source}")]
    DiskFull {
        /// The database file, as messages show it.
        path: String,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The database cannot be written or opened (permissions, a card gone
    /// read-only).
    #[error("the state database {path} cannot be written: {source}")]
    ReadOnly {
        /// The database file, as messages show it.
        path: String,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// Another connection holds the database locked.
    #[error("the state database {path} is locked by another program: {source}")]
    Busy {
        /// The database file, as messages show it.
        path: String,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The file is not a database, or is damaged.
    #[error("the state database {path} is damaged: {source}")]
    Corrupt {
        /// The database file, as messages show it.
        path: String,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// Any other SQLite error.
    #[error("state database {path}: {source}")]
    Sql {
        /// The database file, as messages show it.
        path: String,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// An update named a row that is not there (a bug in loa).
    #[error("the as-run log has no row {id}")]
    NoSuchRow {
        /// The row's id.
        id: i64,
    },
}

impl AsRunError {
    fn from_sql(path: &str, source: rusqlite::Error) -> AsRunError {
        let path = path.to_string();
        let code = match &source {
            rusqlite::Error::SqliteFailure(e, _) => Some(e.code),
            _ => None,
        };
        match code {
            Some(ErrorCode::DiskFull) => AsRunError::DiskFull { path, source },
            Some(ErrorCode::ReadOnly | ErrorCode::PermissionDenied | ErrorCode::CannotOpen) => {
                AsRunError::ReadOnly { path, source }
            }
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
                AsRunError::Busy { path, source }
            }
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
                AsRunError::Corrupt { path, source }
            }
            _ => AsRunError::Sql { path, source },
        }
    }

    /// What went wrong and what to do, for the operator.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            AsRunError::DiskFull { path, .. } => tr!(
                lang,
                "Ổ đĩa chứa nhật ký phát {path} đã đầy nên không ghi lại được những gì đã phát; hãy xóa bớt tệp (ví dụ tệp âm thanh cũ) để có thêm chỗ trống.",
                "the disk holding the as-run log {path} is full: what airs cannot be recorded; delete some files (old audio, for example) to free space"
            ),
            AsRunError::ReadOnly { path, .. } => tr!(
                lang,
                "Không ghi được nhật ký phát {path}: thư mục trạng thái không cho phép ghi (hoặc thẻ nhớ đã bị khóa, chỉ cho đọc). Hãy cấp quyền ghi vào thư mục đó cho người dùng chạy loa, hoặc sửa [paths] state.",
                "cannot write the as-run log {path}: the state folder is not writable (or the SD card went read-only); give the user loa runs as write access to it, or correct [paths] state"
            ),
            AsRunError::Busy { path, .. } => tr!(
                lang,
                "Nhật ký phát {path} đang bị một chương trình khác khóa; hãy đóng chương trình đó (ví dụ sqlite3) rồi thử lại.",
                "the as-run log {path} is locked by another program; close it (sqlite3, for example) and try again"
            ),
            AsRunError::Corrupt { path, source } => tr!(
                lang,
                "Nhật ký phát {path} bị hỏng ({source}). Hãy dừng loa, đổi tên tệp đó để giữ lại, rồi khởi động lại loa để bắt đầu một nhật ký mới.",
                "the as-run log {path} is damaged ({source}); stop loa, rename that file to keep it, and start loa again to begin a new log"
            ),
            AsRunError::Sql { path, source } => tr!(
                lang,
                "Lỗi khi dùng nhật ký phát {path} ({source}).",
                "error using the as-run log {path}: {source}"
            ),
            AsRunError::NoSuchRow { id } => tr!(
                lang,
                "Nhật ký phát không có dòng số {id} (đây là lỗi của loa, hãy báo lại).",
                "the as-run log has no row {id} (a bug in loa: please report it)"
            ),
        }
    }
}

/// The as-run log: a connection to the state database. Shareable between
/// threads (the daemon writes, `loa status` may read through it).
pub struct AsRun {
    conn: Mutex<Connection>,
    /// For messages: where the database is.
    path: String,
    /// The database file itself (":memory:" for one in memory).
    file: std::path::PathBuf,
}

const COLUMNS: &str = "id, day, broadcast_key, broadcast, tags, file, sha256, scheduled, started, \
                       ended, status, priority, error, clock_synced, late, kind, aired_ms, zones";

impl AsRun {
    /// The log in the state folder's database (created if needed).
    pub fn open(state_dir: &Path) -> Result<AsRun, DbError> {
        let conn = db::open(state_dir)?;
        let path = state_dir.join(db::FILE_NAME);
        AsRun::with(conn, &path).map_err(|source| DbError::Sql { path, source })
    }

    /// The log if the state folder already has a database; None if loa has
    /// never written one (nothing aired yet). For readers, which must not
    /// create state folders.
    pub fn open_existing(state_dir: &Path) -> Result<Option<AsRun>, DbError> {
        if !state_dir.join(db::FILE_NAME).exists() {
            return Ok(None);
        }
        AsRun::open(state_dir).map(Some)
    }

    /// A log that forgets everything when dropped (tests, and a daemon
    /// whose state folder cannot be written).
    pub fn in_memory() -> AsRun {
        AsRun::with(db::open_in_memory(), Path::new(":memory:"))
            .expect("pragmas apply to a database in memory")
    }

    fn with(conn: Connection, path: &Path) -> rusqlite::Result<AsRun> {
        // A row is only worth writing if it survives a power cut: sync
        // each commit to the card. Measured (tests/cli/powercut.rs, 100
        // SIGKILLs each also a power cut): with FULL no row seen before the
        // cut was lost; with NORMAL, 97 cuts in 100 lost rows (every row
        // since the last checkpoint, which comes every ~4 MB of log: days)
        // and 26 items aired twice after the restart. The cost: one sync
        // per write, 2 per item and 4 per broadcast (benches/sd_writes.rs).
        conn.execute_batch(&format!("PRAGMA synchronous={}", synchronous()))?;
        Ok(AsRun {
            conn: Mutex::new(conn),
            path: crate::problem::display_path(path),
            file: path.to_path_buf(),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written:
        // each statement is its own transaction.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn err(&self, e: rusqlite::Error) -> AsRunError {
        AsRunError::from_sql(&self.path, e)
    }

    fn insert(
        &self,
        r: &ItemRecord,
        status: Status,
        ended: Option<Timestamp>,
    ) -> Result<i64, AsRunError> {
        let tags = serde_json::to_string(&r.tags).expect("a list of strings serialises");
        let zones = serde_json::to_string(&r.zones).expect("a list of strings serialises");
        let conn = self.conn();
        conn.execute(
            "INSERT INTO asrun_item (day, broadcast_key, broadcast, tags, file, sha256, scheduled,
                 started, ended, status, priority, error, clock_synced, late, kind, aired_ms, zones)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
            params![
                r.day.to_string(),
                r.broadcast_key,
                r.broadcast,
                tags,
                r.file,
                r.sha256,
                r.scheduled.map(|t| t.as_millisecond()),
                r.started.map(|t| t.as_millisecond()),
                ended.map(|t| t.as_millisecond()),
                status.as_str(),
                r.priority.as_str(),
                r.error,
                r.clock_synced,
                r.late,
                (r.kind != Kind::File).then(|| r.kind.as_str()),
                r.aired_ms,
                zones,
            ],
        )
        .map_err(|e| self.err(e))?;
        Ok(conn.last_insert_rowid())
    }

    /// An item starts: its row is written at once with status Interrupted
    /// and no end, so that a power cut mid-item leaves an honest record.
    /// `r.status` and `r.ended` are ignored. Returns the row id.
    pub fn item_started(&self, r: &ItemRecord) -> Result<i64, AsRunError> {
        self.insert(r, Status::Interrupted, None)
    }

    /// The item ended: sets ended, status and error of that row.
    pub fn item_ended(
        &self,
        id: i64,
        ended: Timestamp,
        status: Status,
        error: Option<&str>,
    ) -> Result<(), AsRunError> {
        let n = self
            .conn()
            .execute(
                "UPDATE asrun_item SET ended = ?2, status = ?3, error = ?4 WHERE id = ?1",
                params![id, ended.as_millisecond(), status.as_str(), error],
            )
            .map_err(|e| self.err(e))?;
        if n == 0 {
            return Err(AsRunError::NoSuchRow { id });
        }
        Ok(())
    }

    /// A live item's programme actually aired, once its slot is over.
    pub fn live_aired(&self, id: i64, aired_ms: i64) -> Result<(), AsRunError> {
        self.conn()
            .execute(
                "UPDATE asrun_item SET aired_ms = ?2 WHERE id = ?1",
                params![id, aired_ms],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// A complete row at once (missed, failed before starting, skipped).
    pub fn record(&self, r: &ItemRecord) -> Result<i64, AsRunError> {
        self.insert(r, r.status, r.ended)
    }

    /// The relay switched on or off, and why ("broadcast", "max-on",
    /// "shutdown", "operator"...); `line` is the zone's name for a zone's
    /// relay, None for the amplifier's.
    pub fn relay_edge(
        &self,
        at: Timestamp,
        on: bool,
        cause: &str,
        line: Option<&str>,
    ) -> Result<(), AsRunError> {
        self.conn()
            .execute(
                "INSERT INTO relay_edge (at, \"on\", cause, line) VALUES (?1, ?2, ?3, ?4)",
                params![at.as_millisecond(), on, cause, line],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The broadcast keys with any row on that day (aired, attempted or
    /// recorded missed).
    pub fn attempted(&self, day: Date) -> Result<HashSet<String>, AsRunError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached("SELECT DISTINCT broadcast_key FROM asrun_item WHERE day = ?1")
            .map_err(|e| self.err(e))?;
        stmt.query_map([day.to_string()], |r| r.get::<_, String>(0))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))
    }

    /// Rows whose day is in [from, to], in the order things happened:
    /// (day, started or else scheduled, id).
    pub fn rows(&self, from: Date, to: Date) -> Result<Vec<Row>, AsRunError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM asrun_item WHERE day >= ?1 AND day <= ?2
                 ORDER BY day, coalesce(started, scheduled), id"
            ))
            .map_err(|e| self.err(e))?;
        stmt.query_map([from.to_string(), to.to_string()], read_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))
    }

    /// One row by its id.
    pub fn row(&self, id: i64) -> Result<Option<Row>, AsRunError> {
        self.conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM asrun_item WHERE id = ?1"),
                [id],
                read_row,
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The relay edges with `from <= at <= to`, oldest first: (when, on,
    /// cause, line: None for the amplifier, else the zone's name).
    pub fn edges(&self, from: Timestamp, to: Timestamp) -> Result<Vec<EdgeRow>, AsRunError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT at, \"on\", cause, line FROM relay_edge WHERE at >= ?1 AND at <= ?2
                 ORDER BY at, id",
            )
            .map_err(|e| self.err(e))?;
        stmt.query_map([from.as_millisecond(), to.as_millisecond()], |r| {
            Ok((
                millis(r, 0)?,
                r.get::<_, bool>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| self.err(e))
    }

    /// Gives a reason to the rows of items that were airing when loa last
    /// stopped without ending them (a power cut, a crash, kill -9): every
    /// row that is not "played" says why. Called when the service starts,
    /// before anything airs. Returns how many rows it touched.
    pub fn close_stale(&self, reason: &str) -> Result<usize, AsRunError> {
        self.conn()
            .execute(
                "UPDATE asrun_item SET error = ?1
                 WHERE status = 'interrupted' AND ended IS NULL AND error IS NULL",
                [reason],
            )
            .map_err(|e| self.err(e))
    }

    /// Syncs the database and its WAL to the card, so that every row this
    /// log shows is there. After a kill, SQLite's recovery takes up every
    /// transaction whose WAL frames reached the kernel, synced or not: a
    /// power cut before the next commit would then lose rows `loa log` had
    /// shown (the power-cut test, tests/cli/powercut.rs, found it under
    /// emulation). The service calls it once as it starts, after a first
    /// statement has made SQLite recover the WAL.
    pub fn sync_files(&self) -> std::io::Result<()> {
        let _held = self.conn();
        let mut wal = self.file.clone().into_os_string();
        wal.push("-wal");
        for f in [std::path::PathBuf::from(wal), self.file.clone()] {
            match std::fs::File::open(&f) {
                Ok(file) => file.sync_all()?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// When the service first ran with a trustworthy clock, recording
    /// `now` as that time if it is the first; broadcasts due before it
    /// were before loa was installed.
    pub fn first_start(&self, now: Timestamp) -> Result<Timestamp, AsRunError> {
        let conn = self.conn();
        conn.execute(
            "INSERT OR IGNORE INTO service (key, value) VALUES ('first_start', ?1)",
            [now.as_millisecond().to_string()],
        )
        .map_err(|e| self.err(e))?;
        let v: String = conn
            .query_row(
                "SELECT value FROM service WHERE key = 'first_start'",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        Ok(v.parse::<i64>()
            .ok()
            .and_then(|ms| Timestamp::from_millisecond(ms).ok())
            .unwrap_or(now))
    }

    /// When the service first ran with a trustworthy clock, if it has
    /// (read only: see [`AsRun::first_start`]).
    pub fn installed_at(&self) -> Result<Option<Timestamp>, AsRunError> {
        let v: Option<String> = self
            .conn()
            .query_row(
                "SELECT value FROM service WHERE key = 'first_start'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(v.and_then(|v| v.parse::<i64>().ok())
            .and_then(|ms| Timestamp::from_millisecond(ms).ok()))
    }

    /// Where the database is, as messages show it.
    pub fn path(&self) -> &str {
        &self.path
    }
}

/// The as-run connection's `synchronous`: FULL. A test build may ask for
/// another through `LOA_TEST_SYNCHRONOUS` (NORMAL, OFF), to measure what
/// FULL saves (tests/cli/powercut.rs); a build that ships ignores it.
fn synchronous() -> &'static str {
    #[cfg(feature = "test-fakes")]
    match std::env::var("LOA_TEST_SYNCHRONOUS").as_deref() {
        Ok("NORMAL") => return "NORMAL",
        Ok("OFF") => return "OFF",
        _ => {}
    }
    "FULL"
}

fn bad(col: usize, what: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(col, rusqlite::types::Type::Text, what.into())
}

fn millis(r: &rusqlite::Row<'_>, col: usize) -> rusqlite::Result<Timestamp> {
    let ms: i64 = r.get(col)?;
    Timestamp::from_millisecond(ms).map_err(|e| bad(col, e.to_string()))
}

fn opt_millis(r: &rusqlite::Row<'_>, col: usize) -> rusqlite::Result<Option<Timestamp>> {
    match r.get::<_, Option<i64>>(col)? {
        None => Ok(None),
        Some(_) => millis(r, col).map(Some),
    }
}

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    let day: String = r.get(1)?;
    let day =
        crate::playlist::parse_file_date(&day).ok_or_else(|| bad(1, format!("day {day:?}")))?;
    let tags: String = r.get(4)?;
    let tags: Vec<String> = serde_json::from_str(&tags).map_err(|e| bad(4, e.to_string()))?;
    let status: String = r.get(10)?;
    let status = Status::parse(&status).ok_or_else(|| bad(10, format!("status {status:?}")))?;
    let priority: String = r.get(11)?;
    let priority =
        Priority::parse(&priority).ok_or_else(|| bad(11, format!("priority {priority:?}")))?;
    Ok(Row {
        id: r.get(0)?,
        record: ItemRecord {
            day,
            broadcast_key: r.get(2)?,
            broadcast: r.get(3)?,
            tags,
            file: r.get(5)?,
            sha256: r.get(6)?,
            scheduled: opt_millis(r, 7)?,
            started: opt_millis(r, 8)?,
            ended: opt_millis(r, 9)?,
            status,
            priority,
            error: r.get(12)?,
            clock_synced: r.get(13)?,
            late: r.get(14)?,
            kind: Kind::parse(r.get::<_, Option<String>>(15)?.as_deref()),
            aired_ms: r.get(16)?,
            zones: serde_json::from_str(&r.get::<_, String>(17)?)
                .map_err(|e| bad(17, e.to_string()))?,
        },
    })
}

#[cfg(test)]
mod tests;
