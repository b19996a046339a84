//! The as-run log: what loa aired, failed to air or missed, one row per item
//! attempt, and every edge of the amplifier relay, in the state database.
//! Rows are written as things happen, each write its own transaction, so a
//! power cut or `kill -9` loses at most the write in progress and an item
//! cut off mid-air stays recorded as interrupted. It only records and reads
//! back: deciding what to air is the planner's and the daemon's job, and
//! summing up for the commune's report is [`report`]'s.

pub mod report;

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
    pub const ALL: [Priority; 3] = [Priority::Normal, Priority::Priority, Priority::Emergency];

    /// The stored and JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Normal => "normal",
            Priority::Priority => "priority",
            Priority::Emergency => "emergency",
        }
    }

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
    pub status: Status,
    pub priority: Priority,
    /// Why it failed, was missed or was cut off, for the operator.
    pub error: Option<String>,
    /// Whether the kernel said the clock was synchronised: a report can
    /// then tell times it can vouch for from times it cannot.
    pub clock_synced: bool,
    /// Aired after its planned time (late start, or an overrunning
    /// broadcast before it).
    pub late: bool,
}

/// A stored item attempt.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub id: i64,
    pub record: ItemRecord,
}

/// Why the as-run log could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum AsRunError {
    #[error("the disk holding {path} is full: {source}")]
    DiskFull {
        path: String,
        source: rusqlite::Error,
    },
    #[error("the state database {path} cannot be written: {source}")]
    ReadOnly {
        path: String,
        source: rusqlite::Error,
    },
    #[error("the state database {path} is locked by another program: {source}")]
    Busy {
        path: String,
        source: rusqlite::Error,
    },
    #[error("the state database {path} is damaged: {source}")]
    Corrupt {
        path: String,
        source: rusqlite::Error,
    },
    #[error("state database {path}: {source}")]
    Sql {
        path: String,
        source: rusqlite::Error,
    },
    #[error("the as-run log has no row {id}")]
    NoSuchRow { id: i64 },
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
}

const COLUMNS: &str = "id, day, broadcast_key, broadcast, tags, file, sha256, scheduled, started, \
                       ended, status, priority, error, clock_synced, late";

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
        // each commit to the card (a few writes per broadcast, so cheap),
        // where db.rs's NORMAL could lose the last ones.
        conn.execute_batch("PRAGMA synchronous=FULL")?;
        Ok(AsRun {
            conn: Mutex::new(conn),
            path: crate::problem::display_path(path),
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
        let conn = self.conn();
        conn.execute(
            "INSERT INTO asrun_item (day, broadcast_key, broadcast, tags, file, sha256, scheduled,
                 started, ended, status, priority, error, clock_synced, late)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
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

    /// A complete row at once (missed, failed before starting, skipped).
    pub fn record(&self, r: &ItemRecord) -> Result<i64, AsRunError> {
        self.insert(r, r.status, r.ended)
    }

    /// The relay switched on or off, and why ("broadcast", "max-on",
    /// "shutdown", "operator"...).
    pub fn relay_edge(&self, at: Timestamp, on: bool, cause: &str) -> Result<(), AsRunError> {
        self.conn()
            .execute(
                "INSERT INTO relay_edge (at, \"on\", cause) VALUES (?1, ?2, ?3)",
                params![at.as_millisecond(), on, cause],
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
    /// cause).
    pub fn edges(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<(Timestamp, bool, String)>, AsRunError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT at, \"on\", cause FROM relay_edge WHERE at >= ?1 AND at <= ?2
                 ORDER BY at, id",
            )
            .map_err(|e| self.err(e))?;
        stmt.query_map([from.as_millisecond(), to.as_millisecond()], |r| {
            Ok((millis(r, 0)?, r.get::<_, bool>(1)?, r.get::<_, String>(2)?))
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

    /// Where the database is, as messages show it.
    pub fn path(&self) -> &str {
        &self.path
    }
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
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn record(file: &str) -> ItemRecord {
        ItemRecord {
            day: jiff::civil::date(2026, 1, 20),
            broadcast_key: "2026-01-20 06:00:00 #0".into(),
            broadcast: Some("Bản tin sáng".into()),
            tags: vec!["dai-hoi".into(), "an-ninh".into()],
            file: file.into(),
            sha256: Some("ab".repeat(32)),
            scheduled: Some(ts("2026-01-20T06:00:00+07:00")),
            started: Some(ts("2026-01-20T06:00:00.012+07:00")),
            ended: Some(ts("2026-01-20T06:01:30.250+07:00")),
            status: Status::Played,
            priority: Priority::Normal,
            error: None,
            clock_synced: true,
            late: false,
        }
    }

    #[test]
    fn a_record_reads_back_as_written() {
        let log = AsRun::in_memory();
        let mut r = record("nhac-hieu.mp3");
        let id = log.record(&r).unwrap();
        r.status = Status::Failed;
        r.priority = Priority::Emergency;
        r.error = Some("card gone".into());
        r.broadcast = None;
        r.tags.clear();
        r.sha256 = None;
        r.started = None;
        r.ended = None;
        r.scheduled = None;
        r.clock_synced = false;
        r.late = true;
        let id2 = log.record(&r).unwrap();
        let rows = log.rows(r.day, r.day).unwrap();
        assert_eq!(rows.len(), 2);
        // The row without a scheduled or start time sorts first.
        assert_eq!(rows[0], Row { id: id2, record: r });
        assert_eq!(rows[1].id, id);
        assert_eq!(rows[1].record, record("nhac-hieu.mp3"));
        assert_eq!(
            log.row(id).unwrap().unwrap().record,
            record("nhac-hieu.mp3")
        );
        assert_eq!(log.row(999).unwrap(), None);
    }

    #[test]
    fn started_then_ended() {
        let log = AsRun::in_memory();
        let mut r = record("a.mp3");
        r.status = Status::Played; // ignored by item_started
        let id = log.item_started(&r).unwrap();
        let row = log.row(id).unwrap().unwrap().record;
        assert_eq!((row.status, row.ended), (Status::Interrupted, None));
        assert_eq!(row.started, r.started);
        let end = ts("2026-01-20T06:01:00+07:00");
        log.item_ended(id, end, Status::Skipped, Some("loa skip"))
            .unwrap();
        let row = log.row(id).unwrap().unwrap().record;
        assert_eq!(row.status, Status::Skipped);
        assert_eq!(row.ended, Some(end));
        assert_eq!(row.error.as_deref(), Some("loa skip"));
        assert!(matches!(
            log.item_ended(id + 1, end, Status::Played, None),
            Err(AsRunError::NoSuchRow { .. })
        ));
    }

    #[test]
    fn attempted_keys_are_per_day() {
        let log = AsRun::in_memory();
        let day = jiff::civil::date(2026, 1, 20);
        assert!(log.attempted(day).unwrap().is_empty());
        let mut r = record("a.mp3");
        log.item_started(&r).unwrap();
        r.broadcast_key = "2026-01-20 18:00:00 #1".into();
        r.status = Status::Missed;
        log.record(&r).unwrap();
        log.record(&r).unwrap();
        r.day = day.tomorrow().unwrap();
        r.broadcast_key = "2026-01-21 06:00:00 #0".into();
        log.record(&r).unwrap();
        let keys = log.attempted(day).unwrap();
        let expected: HashSet<String> = ["2026-01-20 06:00:00 #0", "2026-01-20 18:00:00 #1"]
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(keys, expected);
        assert_eq!(log.rows(day, day).unwrap().len(), 3);
        assert_eq!(log.rows(day, day.tomorrow().unwrap()).unwrap().len(), 4);
    }

    #[test]
    fn relay_edges_in_order() {
        let log = AsRun::in_memory();
        let on = ts("2026-01-20T05:59:57+07:00");
        let off = ts("2026-01-20T06:05:02.5+07:00");
        log.relay_edge(off, false, "broadcast").unwrap();
        log.relay_edge(on, true, "broadcast").unwrap();
        let e = log.edges(on, off).unwrap();
        assert_eq!(
            e,
            vec![
                (on, true, "broadcast".to_string()),
                (off, false, "broadcast".to_string())
            ]
        );
        assert_eq!(log.edges(on, on).unwrap().len(), 1);
    }

    #[test]
    fn the_log_survives_reopening_and_the_error_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        assert!(AsRun::open_existing(&state).unwrap().is_none());
        assert!(!state.exists(), "a reader must not create the state folder");
        let id = AsRun::open(&state)
            .unwrap()
            .item_started(&record("a.mp3"))
            .unwrap();
        let log = AsRun::open_existing(&state).unwrap().unwrap();
        assert_eq!(
            log.row(id).unwrap().unwrap().record.status,
            Status::Interrupted
        );
        let e = AsRunError::from_sql(
            "state/loa.db",
            rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
                None,
            ),
        );
        assert!(matches!(e, AsRunError::DiskFull { .. }));
        assert!(
            e.message(Lang::Vi).contains("đã đầy"),
            "{}",
            e.message(Lang::Vi)
        );
        assert!(e.message(Lang::En).contains("free space"));
    }

    #[test]
    fn shared_between_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<AsRun>();
    }

    // A Pi that ran the foundation has a database with only the media
    // index: opening it adds the log, and keeps the index.
    #[test]
    fn a_database_from_before_the_log_is_upgraded() {
        let dir = tempfile::tempdir().unwrap();
        {
            let c = Connection::open(dir.path().join(db::FILE_NAME)).unwrap();
            c.execute_batch(
                "CREATE TABLE media (path TEXT PRIMARY KEY, size INTEGER NOT NULL,
                    mtime_ns INTEGER NOT NULL, duration_ms INTEGER, codec TEXT,
                    sample_rate INTEGER, channels INTEGER, loudness_lufs REAL,
                    true_peak_db REAL, decode_errors INTEGER, error_kind TEXT,
                    error_detail TEXT, probed_at TEXT NOT NULL);
                 INSERT INTO media (path, size, mtime_ns, duration_ms, codec, probed_at)
                    VALUES ('a.mp3', 10, 1, 5000, 'mp3', 'then');
                 PRAGMA user_version = 1;",
            )
            .unwrap();
        }
        let log = AsRun::open_existing(dir.path()).unwrap().unwrap();
        let id = log.record(&record("a.mp3")).unwrap();
        assert_eq!(log.row(id).unwrap().unwrap().record, record("a.mp3"));
        let index = crate::media::MediaIndex::open(dir.path()).unwrap();
        // Kept, but without a hash: probed again once.
        let n: i64 = log
            .conn()
            .query_row("SELECT count(*) FROM media WHERE sha256 IS NULL", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(n, 1);
        assert_eq!(index.lookup("a.mp3", 10, 1), None);
    }

    #[test]
    fn status_and_priority_names() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_value(s).unwrap(),
                serde_json::Value::from(s.as_str())
            );
        }
        for p in Priority::ALL {
            assert_eq!(Priority::parse(p.as_str()), Some(p));
            assert_eq!(
                serde_json::to_value(p).unwrap(),
                serde_json::Value::from(p.as_str())
            );
        }
        assert_eq!(Status::Missed.label(Lang::Vi), "bị lỡ");
        assert_eq!(Status::parse("Played"), None);
    }

    /// The child of `a_kill_9_leaves_a_readable_log`: writes items forever
    /// (started, then ended) until killed. Does nothing when run on its own.
    #[test]
    #[ignore = "run by a_kill_9_leaves_a_readable_log in a child process"]
    fn writer_child() {
        let Some(dir) = std::env::var_os("LOA_ASRUN_CHILD_STATE") else {
            return;
        };
        let log = AsRun::open(Path::new(&dir)).unwrap();
        for n in 0.. {
            let mut r = record(&format!("item-{n}.mp3"));
            r.broadcast_key = format!("2026-01-20 06:00:00 #{n}");
            let id = log.item_started(&r).unwrap();
            log.relay_edge(Timestamp::now(), n % 2 == 0, "test")
                .unwrap();
            log.item_ended(id, r.ended.unwrap(), Status::Played, None)
                .unwrap();
        }
    }

    #[test]
    fn a_kill_9_leaves_a_readable_log() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        AsRun::open(&state).unwrap();
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "asrun::tests::writer_child",
                "--include-ignored",
                "--nocapture",
            ])
            .env("LOA_ASRUN_CHILD_STATE", &state)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Let it write a while, then kill it mid-write (SIGKILL).
        let reader = AsRun::open(&state).unwrap();
        let day = jiff::civil::date(2026, 1, 20);
        let t0 = std::time::Instant::now();
        while reader.rows(day, day).unwrap().len() < 200 {
            assert!(t0.elapsed().as_secs() < 60, "the child writes nothing");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        drop(reader);

        let log = AsRun::open(&state).unwrap();
        let ok: String = log
            .conn()
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ok, "ok");
        let rows = log.rows(day, day).unwrap();
        assert!(rows.len() >= 200);
        // Every item but perhaps the last aired fully; the last, if cut
        // off, is honestly "interrupted" with no end.
        let (last, done) = rows.split_last().unwrap();
        assert!(done.iter().all(|r| r.record.status == Status::Played));
        match last.record.status {
            Status::Played => assert!(last.record.ended.is_some()),
            Status::Interrupted => assert_eq!(last.record.ended, None),
            s => panic!("last row {s:?}"),
        }
        assert!(
            !log.edges(Timestamp::MIN, Timestamp::MAX)
                .unwrap()
                .is_empty()
        );
        // And it still takes writes.
        log.record(&record("after.mp3")).unwrap();
    }
}
