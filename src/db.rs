//! The state database (STATE/loa.db, SQLite): opening it safely (WAL, a busy
//! timeout so that `loa check` and the daemon can share it) and bringing its
//! schema up to date. Tables belong to the modules that use them; this file
//! only knows the migrations in order.

use std::path::{Path, PathBuf};

use rusqlite::Connection;

/// The database file inside the state folder.
pub const FILE_NAME: &str = "loa.db";

/// Schema migrations, applied in order; `PRAGMA user_version` records how
/// many have run. Never edit one that has shipped: add a new one.
const MIGRATIONS: &[&str] = &[
    // 1: the media index (the duration cache of the foundation).
    "CREATE TABLE media (
        path TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        duration_ms INTEGER,
        codec TEXT,
        sample_rate INTEGER,
        channels INTEGER,
        loudness_lufs REAL,
        true_peak_db REAL,
        decode_errors INTEGER,
        error_kind TEXT,
        error_detail TEXT,
        probed_at TEXT NOT NULL
    );",
    // 2: the as-run log (src/asrun): one row per item attempt and one per
    // relay edge; and each file's SHA-256 in the media index.
    "ALTER TABLE media ADD COLUMN sha256 TEXT;
    CREATE TABLE asrun_item (
        id INTEGER PRIMARY KEY,
        day TEXT NOT NULL,
        broadcast_key TEXT NOT NULL,
        broadcast TEXT,
        tags TEXT NOT NULL DEFAULT '[]',
        file TEXT NOT NULL,
        sha256 TEXT,
        scheduled INTEGER,
        started INTEGER,
        ended INTEGER,
        status TEXT NOT NULL
            CHECK (status IN ('played', 'failed', 'missed', 'interrupted', 'skipped')),
        priority TEXT NOT NULL CHECK (priority IN ('normal', 'priority', 'emergency')),
        error TEXT,
        clock_synced INTEGER NOT NULL,
        late INTEGER NOT NULL
    );
    CREATE INDEX asrun_item_day ON asrun_item (day);
    CREATE INDEX asrun_item_broadcast_key ON asrun_item (broadcast_key);
    CREATE TABLE relay_edge (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        \"on\" INTEGER NOT NULL,
        cause TEXT NOT NULL
    );
    CREATE INDEX relay_edge_at ON relay_edge (at);",
    // 3: validation's verdict on each file (src/media/validate.rs): NULL
    // when the file was only probed (for planning), 'ok' when it passed,
    // else the rejection as JSON ({"code":"truncated",...}).
    "ALTER TABLE media ADD COLUMN verdict TEXT;",
    // 4: facts about the service itself, by key: 'first_start' is when
    // `loa run` first ran with a trustworthy clock (ms since the epoch):
    // broadcasts due before it were before loa was installed, not missed.
    "CREATE TABLE service (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
    // 5: which decoding measured a media row (`index::MEASURED_BY`): rows
    // from before gapless decoding (issue 13) hold lengths with the
    // encoder's delay and padding, and are measured again.
    "ALTER TABLE media ADD COLUMN measured_by INTEGER;",
    // 6: the broadcast archive (src/archive): one row per recording, its
    // path (relative to the state folder) written when it starts, its
    // length, size and SHA-256 once the file is closed (NULL after a power
    // cut or kill -9: the file then holds what was written).
    "CREATE TABLE archive (
        id INTEGER PRIMARY KEY,
        broadcast_key TEXT NOT NULL,
        day TEXT NOT NULL,
        path TEXT NOT NULL,
        started INTEGER NOT NULL,
        duration_ms INTEGER,
        bytes INTEGER,
        sha256 TEXT,
        dropped_ms INTEGER
    );
    CREATE INDEX archive_broadcast_key ON archive (broadcast_key);
    CREATE INDEX archive_day ON archive (day);",
    // 7: live items (issue 15): what an item relayed ("stream", "line-in";
    // NULL: a file, as every row before), and the milliseconds of
    // programme it actually aired (the rest backup, fallback or silence).
    "ALTER TABLE asrun_item ADD COLUMN kind TEXT;
    ALTER TABLE asrun_item ADD COLUMN aired_ms INTEGER;",
    // 8: zones (issue 16): the hamlets' lines an item aired to (a JSON
    // list of zone names; '[]' when no zone is configured, as every row
    // before), and which line a relay edge switched (NULL: the amplifier;
    // else the zone's name).
    "ALTER TABLE asrun_item ADD COLUMN zones TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE relay_edge ADD COLUMN line TEXT;",
    // 9: the district link (issue 17): the ids of the commands carried
    // out, so that none is carried out twice (across restarts); the last
    // as-run row the broker acknowledged is kept in `service`
    // ('district_acked').
    "CREATE TABLE district_seen (id TEXT PRIMARY KEY, at INTEGER NOT NULL);",
];

/// Why the state database could not be opened or brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The state folder could not be created.
    #[error("cannot create the state folder {path}: {source}")]
    CreateDir {
        /// The state folder.
        path: PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
    /// SQLite could not open the database file.
    #[error("cannot open the state database {path}: {source}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// Setting the database up (WAL, the schema's migrations) failed.
    #[error("state database {path}: {source}")]
    Sql {
        /// The database file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
}

impl DbError {
    /// What went wrong and what to do, for the operator.
    pub fn message(&self, lang: crate::lang::Lang) -> String {
        use crate::tr;
        let (path, reason) = match self {
            DbError::CreateDir { path, source } => {
                let why = crate::tomlfile::io_reason(source, lang);
                let shown = crate::problem::display_path(path);
                return tr!(
                    lang,
                    "Không tạo được thư mục trạng thái {shown} ({why}); hãy kiểm tra quyền ghi và [paths] state.",
                    "cannot create the state folder {shown} ({why}); check write permission and [paths] state"
                );
            }
            DbError::Open { path, source } | DbError::Sql { path, source } => (path, source),
        };
        let shown = crate::problem::display_path(path);
        let code = match reason {
            rusqlite::Error::SqliteFailure(e, _) => Some(e.code),
            _ => None,
        };
        use rusqlite::ErrorCode::*;
        match code {
            Some(DiskFull) => tr!(
                lang,
                "Ổ đĩa chứa {shown} đã đầy; hãy xóa bớt tệp (ví dụ tệp âm thanh cũ).",
                "the disk holding {shown} is full; delete some files (old audio, for example)"
            ),
            Some(ReadOnly | PermissionDenied | CannotOpen) => tr!(
                lang,
                "Không mở hoặc không ghi được {shown}: thư mục trạng thái không cho phép (hoặc thẻ nhớ bị khóa chỉ đọc); hãy cho người dùng chạy loa quyền ghi, hoặc sửa [paths] state.",
                "cannot open or write {shown}: the state folder does not allow it (or the SD card went read-only); give the user loa runs as write access, or correct [paths] state"
            ),
            Some(DatabaseBusy | DatabaseLocked) => tr!(
                lang,
                "{shown} đang bị một chương trình khác khóa; hãy đóng chương trình đó rồi thử lại.",
                "{shown} is locked by another program; close it and try again"
            ),
            Some(DatabaseCorrupt | NotADatabase) => tr!(
                lang,
                "{shown} bị hỏng; hãy dừng loa, đổi tên tệp đó để giữ lại, rồi khởi động lại loa để bắt đầu nhật ký mới.",
                "{shown} is damaged; stop loa, rename that file to keep it, and start loa again to begin a new log"
            ),
            _ => tr!(
                lang,
                "Lỗi khi mở {shown} ({reason}).",
                "error opening {shown} ({reason})"
            ),
        }
    }
}

/// Opens (creating if needed) the database in `state_dir`.
pub fn open(state_dir: &Path) -> Result<Connection, DbError> {
    std::fs::create_dir_all(state_dir).map_err(|source| DbError::CreateDir {
        path: state_dir.to_path_buf(),
        source,
    })?;
    let path = state_dir.join(FILE_NAME);
    // Several processes opening a new database at once can be told "busy"
    // without SQLite's busy handler being asked (switching to WAL, the
    // first reader recovering the WAL index): such an open is tried again.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let conn = Connection::open(&path).map_err(|source| DbError::Open {
            path: path.clone(),
            source,
        })?;
        match prepare(&conn) {
            Ok(()) => return Ok(conn),
            Err(e) if is_busy(&e) && std::time::Instant::now() < deadline => {
                drop(conn);
                std::thread::sleep(std::time::Duration::from_millis(25));
            }
            Err(source) => return Err(DbError::Sql { path, source }),
        }
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// A private database in memory, with the same schema (when the state
/// folder cannot be written, and for tests).
pub fn open_in_memory() -> Connection {
    let conn = Connection::open_in_memory().expect("SQLite in memory always opens");
    prepare(&conn).expect("the schema applies to an empty database");
    conn
}

fn prepare(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // WAL: readers never block the writer, and the file stays whole
    // through a power cut. NORMAL syncs only at checkpoints: what this
    // connection writes alone (the media index, a cache measured again
    // when lost) may be lost by a power cut; the as-run log's connection
    // syncs every commit (FULL, src/asrun), and with it what came before.
    let _: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    conn.execute_batch("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")?;
    // Several loa processes may open a new database at once (the daemon
    // and `loa check`): the version is read inside a write transaction, so
    // only one of them migrates.
    loop {
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version as usize >= MIGRATIONS.len() {
            return Ok(());
        }
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let result = (|| {
            let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            if let Some(sql) = MIGRATIONS.get(v as usize) {
                conn.execute_batch(sql)?;
                conn.execute_batch(&format!("PRAGMA user_version = {}", v + 1))?;
            }
            Ok(())
        })();
        match result {
            Ok(()) => conn.execute_batch("COMMIT")?,
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(e);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_opening_a_new_database_at_once_all_get_it() {
        for _ in 0..10 {
            let dir = tempfile::tempdir().unwrap();
            let state = dir.path().join("state");
            let results: Vec<_> = std::thread::scope(|s| {
                let runs: Vec<_> = (0..12).map(|_| s.spawn(|| open(&state))).collect();
                runs.into_iter().map(|r| r.join().unwrap()).collect()
            });
            for r in results {
                let c = r.expect("every open succeeds");
                let v: i64 = c
                    .query_row("PRAGMA user_version", [], |r| r.get(0))
                    .unwrap();
                assert_eq!(v as usize, MIGRATIONS.len());
            }
        }
    }

    #[test]
    fn opens_twice_and_migrates_once() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        {
            let c = open(&state).unwrap();
            c.execute(
                "INSERT INTO media (path, size, mtime_ns, probed_at) VALUES ('a', 1, 2, 'x')",
                [],
            )
            .unwrap();
        }
        let c = open(&state).unwrap();
        let n: i64 = c
            .query_row("SELECT count(*) FROM media", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
        let v: i64 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v as usize, MIGRATIONS.len());
    }
}
