//! The archive's rows in the as-run log: which file recorded which
//! broadcast, and, once the file is closed, its length, size and SHA-256.

use std::collections::HashMap;
use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::params;

use super::{AsRun, AsRunError, bad, millis};

/// One broadcast's recording, as the as-run log has it.
#[derive(Clone, Debug, PartialEq)]
pub struct ArchiveRow {
    /// The row's id.
    pub id: i64,
    /// The broadcast it recorded.
    pub broadcast_key: String,
    /// The broadcast's day.
    pub day: Date,
    /// The file, relative to the state folder (absolute when the archive
    /// folder is elsewhere).
    pub path: String,
    /// When its sound began.
    pub started: Timestamp,
    /// How much sound it holds; None until it is closed.
    pub duration: Option<Duration>,
    /// Its size once closed.
    pub bytes: Option<u64>,
    /// Its SHA-256 once closed; None after a power cut or a crash.
    pub sha256: Option<String>,
    /// Sound missing from it because the encoder lagged.
    pub dropped: Option<Duration>,
}

const COLUMNS: &str =
    "id, broadcast_key, day, path, started, duration_ms, bytes, sha256, dropped_ms";

fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<ArchiveRow> {
    let day: String = r.get(2)?;
    let day =
        crate::playlist::parse_file_date(&day).ok_or_else(|| bad(2, format!("day {day:?}")))?;
    let ms = |v: Option<i64>| v.map(|m| Duration::from_millis(m.max(0) as u64));
    Ok(ArchiveRow {
        id: r.get(0)?,
        broadcast_key: r.get(1)?,
        day,
        path: r.get(3)?,
        started: millis(r, 4)?,
        duration: ms(r.get(5)?),
        bytes: r.get::<_, Option<i64>>(6)?.map(|b| b.max(0) as u64),
        sha256: r.get(7)?,
        dropped: ms(r.get(8)?),
    })
}

impl AsRun {
    /// A recording of broadcast `key` (of `day`) starts into `path`:
    /// written at once, so that the file is known even if loa dies.
    /// Returns the row id.
    pub fn archive_started(
        &self,
        key: &str,
        day: Date,
        path: &str,
        started: Timestamp,
    ) -> Result<i64, AsRunError> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO archive (broadcast_key, day, path, started) VALUES (?1, ?2, ?3, ?4)",
            params![key, day.to_string(), path, started.as_millisecond()],
        )
        .map_err(|e| self.err(e))?;
        Ok(conn.last_insert_rowid())
    }

    /// The recording's file is closed: its length, size, hash, and what
    /// it lacks.
    pub fn archive_closed(
        &self,
        id: i64,
        duration: Duration,
        bytes: u64,
        sha256: &str,
        dropped: Duration,
    ) -> Result<(), AsRunError> {
        self.conn()
            .execute(
                "UPDATE archive SET duration_ms = ?2, bytes = ?3, sha256 = ?4, dropped_ms = ?5
                 WHERE id = ?1",
                params![
                    id,
                    duration.as_millis() as i64,
                    bytes as i64,
                    sha256,
                    dropped.as_millis() as i64
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Nothing was recorded after all (no sound went out): the row goes.
    pub fn archive_forget(&self, id: i64) -> Result<(), AsRunError> {
        self.conn()
            .execute("DELETE FROM archive WHERE id = ?1", [id])
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The recordings of broadcasts whose day is in [from, to], in the
    /// order they were made.
    pub fn archives(&self, from: Date, to: Date) -> Result<Vec<ArchiveRow>, AsRunError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM archive WHERE day >= ?1 AND day <= ?2 ORDER BY started, id"
            ))
            .map_err(|e| self.err(e))?;
        stmt.query_map([from.to_string(), to.to_string()], read)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))
    }

    /// For each broadcast key of those days, its latest recording.
    pub fn archive_by_key(
        &self,
        from: Date,
        to: Date,
    ) -> Result<HashMap<String, ArchiveRow>, AsRunError> {
        Ok(self
            .archives(from, to)?
            .into_iter()
            .map(|r| (r.broadcast_key.clone(), r))
            .collect())
    }
}
