//! What the district link keeps in the state database: the commands
//! carried out (by id, so that none is carried out twice, even across a
//! restart), and the last as-run row the broker acknowledged (rows after
//! it are sent, in order, once the link is up).

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};

use super::{AsRun, AsRunError, COLUMNS, Row, read_row};

impl AsRun {
    /// Records command `id` as carried out; false when it already was.
    pub fn district_first_time(&self, id: &str, at: Timestamp) -> Result<bool, AsRunError> {
        let n = self
            .conn()
            .execute(
                "INSERT OR IGNORE INTO district_seen (id, at) VALUES (?1, ?2)",
                params![id, at.as_millisecond()],
            )
            .map_err(|e| self.err(e))?;
        Ok(n == 1)
    }

    /// The last row id the broker acknowledged (0 before any).
    pub fn district_acked(&self) -> Result<i64, AsRunError> {
        let v: Option<String> = self
            .conn()
            .query_row(
                "SELECT value FROM service WHERE key = 'district_acked'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(v.and_then(|v| v.parse().ok()).unwrap_or(0))
    }

    /// Records that the broker has every row up to `id`.
    pub fn set_district_acked(&self, id: i64) -> Result<(), AsRunError> {
        self.conn()
            .execute(
                "INSERT INTO service (key, value) VALUES ('district_acked', ?1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [id.to_string()],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The finished rows after `id`, in id order, up to the first row
    /// still on air (an item playing, its end not written yet), at most
    /// `limit`. A row left open by a power cut counts as finished once the
    /// service has given it its reason.
    pub fn finished_rows_after(&self, id: i64, limit: usize) -> Result<Vec<Row>, AsRunError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM asrun_item WHERE id > ?1 ORDER BY id LIMIT ?2"
            ))
            .map_err(|e| self.err(e))?;
        let rows: Vec<Row> = stmt
            .query_map(params![id, limit as i64], read_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))?;
        Ok(rows.into_iter().take_while(finished).collect())
    }

    /// The rows of the emergency a district command `origin` started.
    pub fn rows_of_origin(&self, origin: &str) -> Result<Vec<Row>, AsRunError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM asrun_item WHERE broadcast_key = ?1 OR broadcast_key LIKE ?2 ORDER BY id"
            ))
            .map_err(|e| self.err(e))?;
        let suffix = format!("% {}", origin_tag(origin));
        stmt.query_map(params![origin_tag(origin), suffix], read_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))
    }
}

/// Whether a row is written for good (not an item still on air).
pub fn finished(r: &Row) -> bool {
    let x = &r.record;
    x.status != super::Status::Interrupted || x.ended.is_some() || x.error.is_some()
}

/// What ends the broadcast key of an emergency a district command started.
pub fn origin_tag(origin: &str) -> String {
    format!("district:{origin}")
}
