//! The district's own database (`STATE/district.db`, SQLite in WAL mode),
//! written by `loa district collect` and read by `loa district status`,
//! `now` (which boxes to expect) and `report`: every box's online state
//! and since when, its last status, its as-run rows (one per box and row
//! id: a row sent twice is stored once), its answers to commands, and the
//! commands the district sent (without their audio).
//!
//! Times are milliseconds since the epoch, as the district's machine saw
//! them, except where a column says it is the box's (RFC 3339 text).

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use super::proto::{Ack, Command};
use crate::db::DbError;
use crate::lang::Lang;
use crate::tr;

/// The database file inside the state folder.
pub const FILE_NAME: &str = "district.db";

/// Schema migrations, in order (`PRAGMA user_version` counts those run).
/// Never edit one that has shipped: add a new one.
const MIGRATIONS: &[&str] = &[
    // 1: the boxes, their as-run rows, their answers, the commands sent,
    // and facts about the collector itself ('alive': its last sign of
    // life; 'connected': 1 or 0, with 'connected_since').
    "CREATE TABLE box (
        name TEXT PRIMARY KEY,
        online INTEGER,
        online_since INTEGER,
        status TEXT,
        status_at INTEGER,
        groups TEXT NOT NULL DEFAULT '[]'
    );
    CREATE TABLE asrun (
        box TEXT NOT NULL,
        id INTEGER NOT NULL,
        day TEXT NOT NULL,
        status TEXT NOT NULL,
        priority TEXT NOT NULL,
        kind TEXT NOT NULL,
        aired_s REAL NOT NULL,
        broadcast_key TEXT,
        broadcast TEXT,
        file TEXT,
        scheduled TEXT,
        started TEXT,
        ended TEXT,
        error TEXT,
        received INTEGER NOT NULL,
        row TEXT NOT NULL,
        PRIMARY KEY (box, id)
    );
    CREATE INDEX asrun_day ON asrun (day);
    CREATE TABLE ack (
        box TEXT NOT NULL,
        id TEXT NOT NULL,
        status TEXT NOT NULL,
        at TEXT,
        error TEXT,
        rows TEXT NOT NULL DEFAULT '[]',
        received INTEGER NOT NULL,
        PRIMARY KEY (box, id, status)
    );
    CREATE TABLE command (
        id TEXT PRIMARY KEY,
        command TEXT NOT NULL,
        target TEXT NOT NULL,
        files TEXT NOT NULL DEFAULT '[]',
        zones TEXT NOT NULL DEFAULT '[]',
        expires TEXT,
        playlist TEXT,
        received INTEGER NOT NULL
    );
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
];

/// A box as the database knows it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BoxRow {
    /// Its name (the topic's second level).
    pub name: String,
    /// Online (true), offline (false), or never said.
    pub online: Option<bool>,
    /// Since when it is in that state, when known.
    pub online_since: Option<Timestamp>,
    /// Its last status (the JSON of `loa status --json`, "box", "groups").
    pub status: Option<Value>,
    /// When that status was made (received live; for one first seen as
    /// retained, the box's own "now").
    pub status_at: Option<Timestamp>,
    /// The groups its last status named.
    pub groups: Vec<String>,
}

/// An as-run row as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct AsRunRow {
    /// The box.
    pub box_name: String,
    /// The box's row id.
    pub id: i64,
    /// The day it belongs to (YYYY-MM-DD).
    pub day: String,
    /// played, failed, missed, interrupted, skipped.
    pub status: String,
    /// normal, priority, emergency.
    pub priority: String,
    /// file, stream, line-in.
    pub kind: String,
    /// Seconds of programme aired.
    pub aired_s: f64,
    /// The broadcast's key on the box.
    pub broadcast_key: Option<String>,
    /// The broadcast's title.
    pub broadcast: Option<String>,
    /// The item.
    pub file: Option<String>,
    /// Planned start (the box's RFC 3339).
    pub scheduled: Option<String>,
    /// Actual start (the box's RFC 3339).
    pub started: Option<String>,
    /// Why it did not play, in the box's language.
    pub error: Option<String>,
}

/// A box's answer as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct AckRow {
    /// The box.
    pub box_name: String,
    /// The command's id.
    pub id: String,
    /// accepted, aired, rejected, expired, duplicate.
    pub status: String,
    /// When (the box's RFC 3339).
    pub at: Option<String>,
    /// Why, for a refusal.
    pub error: Option<String>,
    /// For "aired": the as-run rows.
    pub rows: Vec<Value>,
}

/// A command the district sent, as stored (its audio left out).
#[derive(Clone, Debug, PartialEq)]
pub struct CommandRow {
    /// Its id.
    pub id: String,
    /// now, queue, stop, playlist.
    pub command: String,
    /// "all", a box's name, or "group:NAME".
    pub target: String,
    /// The files it carried or named.
    pub files: Vec<String>,
    /// When the collector saw it.
    pub sent: Timestamp,
    /// Its expiry (RFC 3339).
    pub expires: Option<String>,
}

/// What the collector last said of itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Collector {
    /// Its last sign of life.
    pub alive: Option<Timestamp>,
    /// Whether it was connected to the broker then.
    pub connected: bool,
    /// Since when it is (or is not) connected.
    pub since: Option<Timestamp>,
    /// It stopped (SIGTERM) at `alive`.
    pub stopped: bool,
}

/// The district database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

fn ts(ms: Option<i64>) -> Option<Timestamp> {
    ms.and_then(|m| Timestamp::from_millisecond(m).ok())
}

fn json_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// A string field of a JSON object (None when absent, null or not text).
fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(String::from)
}

impl Store {
    /// Opens (creating it and its folder if needed) `dir/district.db`.
    pub fn open(dir: &Path) -> Result<Store, DbError> {
        std::fs::create_dir_all(dir).map_err(|source| DbError::CreateDir {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join(FILE_NAME);
        let conn = Connection::open(&path).map_err(|source| DbError::Open {
            path: path.clone(),
            source,
        })?;
        prepare(&conn).map_err(|source| DbError::Sql {
            path: path.clone(),
            source,
        })?;
        Ok(Store { conn, path })
    }

    /// The database in `dir` if the collector has made one; None when not.
    pub fn open_existing(dir: &Path) -> Result<Option<Store>, DbError> {
        if !dir.join(FILE_NAME).is_file() {
            return Ok(None);
        }
        Store::open(dir).map(Some)
    }

    /// A private database in memory (tests).
    pub fn in_memory() -> Store {
        let conn = Connection::open_in_memory().expect("SQLite in memory always opens");
        prepare(&conn).expect("the schema applies to an empty database");
        Store {
            conn,
            path: PathBuf::from(":memory:"),
        }
    }

    /// The file, as messages show it.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What went wrong with a query, for the operator.
    pub fn error(&self, e: &rusqlite::Error, lang: Lang) -> String {
        let shown = crate::problem::display_path(&self.path);
        tr!(
            lang,
            "Lỗi cơ sở dữ liệu của huyện {shown} ({e}).",
            "district database {shown}: {e}"
        )
    }

    /// A box's `online` message. A retained one (the broker's copy, seen on
    /// subscribing) that says what the database already knows keeps its
    /// since-when; a change read live starts a new since-when at `now`.
    pub fn put_online(
        &self,
        name: &str,
        online: bool,
        retained: bool,
        now: Timestamp,
    ) -> rusqlite::Result<()> {
        let known: Option<(Option<bool>, Option<i64>)> = self
            .conn
            .query_row(
                "SELECT online, online_since FROM box WHERE name = ?1",
                [name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let since = match known {
            Some((Some(was), since)) if was == online => since,
            // A retained state first seen: since when is unknown.
            _ if retained => None,
            _ => Some(ms(now)),
        };
        self.conn.execute(
            "INSERT INTO box (name, online, online_since) VALUES (?1, ?2, ?3)
             ON CONFLICT (name) DO UPDATE SET online = ?2, online_since = ?3",
            params![name, online, since],
        )?;
        Ok(())
    }

    /// A box's status. A live one is as of `now`; a retained one is as of
    /// the box's own "now" (never later than ours), and one the database
    /// already holds keeps its time: a restarted collector must not make
    /// a silent box look fresh.
    pub fn put_status(
        &self,
        name: &str,
        status: &Value,
        retained: bool,
        now: Timestamp,
    ) -> rusqlite::Result<()> {
        let text_now = serde_json::to_string(status).unwrap_or_default();
        let known: Option<(Option<String>, Option<i64>)> = self
            .conn
            .query_row(
                "SELECT status, status_at FROM box WHERE name = ?1",
                [name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let at = match known {
            Some((Some(old), at)) if retained && old == text_now => at,
            _ if retained => Some(status_time(status).map(|t| t.min(now)).map_or(ms(now), ms)),
            _ => Some(ms(now)),
        };
        let groups = serde_json::to_string(&json_list(status.get("groups"))).unwrap_or_default();
        self.conn.execute(
            "INSERT INTO box (name, status, status_at, groups) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (name) DO UPDATE SET status = ?2, status_at = ?3, groups = ?4",
            params![name, text_now, at, groups],
        )?;
        Ok(())
    }

    /// An as-run row (a `loa log --json` row). Stored once per box and row
    /// id: a duplicate changes nothing, except that a row first sent
    /// before its item ended is completed by the one sent after. Returns
    /// whether the row was new; Err(None) for a row without an id or day.
    pub fn put_asrun(
        &self,
        name: &str,
        row: &Value,
        now: Timestamp,
    ) -> Result<bool, Option<rusqlite::Error>> {
        let (Some(id), Some(day)) = (row.get("id").and_then(Value::as_i64), text(row, "day"))
        else {
            return Err(None);
        };
        let status = text(row, "status").unwrap_or_else(|| "played".into());
        let priority = text(row, "priority").unwrap_or_else(|| "normal".into());
        let kind = text(row, "kind").unwrap_or_else(|| "file".into());
        let aired_s = row.get("aired_s").and_then(Value::as_f64).unwrap_or(0.0);
        let exists: bool = self
            .conn
            .query_row(
                "SELECT 1 FROM asrun WHERE box = ?1 AND id = ?2",
                params![name, id],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        self.conn.execute(
            "INSERT INTO asrun (box, id, day, status, priority, kind, aired_s, broadcast_key,
                 broadcast, file, scheduled, started, ended, error, received, row)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
             ON CONFLICT (box, id) DO UPDATE SET day = ?3, status = ?4, priority = ?5,
                 kind = ?6, aired_s = ?7, broadcast_key = ?8, broadcast = ?9, file = ?10,
                 scheduled = ?11, started = ?12, ended = ?13, error = ?14, row = ?16
             WHERE asrun.ended IS NULL AND excluded.ended IS NOT NULL",
            params![
                name,
                id,
                day,
                status,
                priority,
                kind,
                aired_s,
                text(row, "broadcast_key"),
                text(row, "broadcast"),
                text(row, "file"),
                text(row, "scheduled"),
                text(row, "started"),
                text(row, "ended"),
                text(row, "error"),
                ms(now),
                serde_json::to_string(row).unwrap_or_default(),
            ],
        )?;
        Ok(!exists)
    }

    /// A box's answer to a command (one per box, command and status).
    pub fn put_ack(&self, name: &str, ack: &Ack, now: Timestamp) -> rusqlite::Result<()> {
        self.conn.execute(
            "INSERT OR IGNORE INTO ack (box, id, status, at, error, rows, received)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                name,
                ack.id,
                ack.status.as_str(),
                ack.at,
                ack.error,
                serde_json::to_string(&ack.rows).unwrap_or_default(),
                ms(now),
            ],
        )?;
        Ok(())
    }

    /// A command the district sent to `target` ("all", a box, "group:X").
    pub fn put_command(&self, target: &str, c: &Command, now: Timestamp) -> rusqlite::Result<()> {
        let command = serde_json::to_value(c.command)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        let mut files = c.files.clone();
        for m in &c.media {
            if !files.contains(&m.name) {
                files.push(m.name.clone());
            }
        }
        self.conn.execute(
            "INSERT OR IGNORE INTO command (id, command, target, files, zones, expires, playlist,
                 received)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                c.id,
                command,
                target,
                serde_json::to_string(&files).unwrap_or_default(),
                serde_json::to_string(&c.zones).unwrap_or_default(),
                c.expires,
                c.playlist.as_ref().map(|p| p.name.clone()),
                ms(now),
            ],
        )?;
        Ok(())
    }

    /// Runs `f` in one transaction: what it writes reaches the disk with
    /// one sync, or not at all.
    pub fn in_one(&self, f: impl FnOnce(&Store) -> rusqlite::Result<()>) -> rusqlite::Result<()> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        match f(self) {
            Ok(()) => self.conn.execute_batch("COMMIT"),
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// The collector's sign of life, and whether it is connected.
    pub fn heartbeat(&self, connected: bool, now: Timestamp) -> rusqlite::Result<()> {
        let was = self.collector()?;
        let since = match was {
            Some(c) if c.connected == connected => c.since.map(ms),
            _ => Some(ms(now)),
        };
        let tx = self.conn.unchecked_transaction()?;
        for (k, v) in [
            ("alive", Some(ms(now).to_string())),
            ("connected", Some(u8::from(connected).to_string())),
            ("connected_since", since.map(|s| s.to_string())),
        ] {
            if let Some(v) = v {
                tx.execute(
                    "INSERT INTO meta (key, value) VALUES (?1, ?2)
                     ON CONFLICT (key) DO UPDATE SET value = ?2",
                    params![k, v],
                )?;
            }
        }
        tx.commit()
    }

    /// The collector stops: its last word.
    pub fn stopped(&self, now: Timestamp) -> rusqlite::Result<()> {
        self.heartbeat(false, now)?;
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES ('stopped', ?1)
             ON CONFLICT (key) DO UPDATE SET value = ?1",
            [ms(now).to_string()],
        )?;
        Ok(())
    }

    /// What the collector last said of itself; None if it never did.
    pub fn collector(&self) -> rusqlite::Result<Option<Collector>> {
        let get = |k: &str| -> rusqlite::Result<Option<i64>> {
            Ok(self
                .conn
                .query_row("SELECT value FROM meta WHERE key = ?1", [k], |r| {
                    r.get::<_, String>(0)
                })
                .optional()?
                .and_then(|v| v.parse().ok()))
        };
        let Some(alive) = get("alive")? else {
            return Ok(None);
        };
        Ok(Some(Collector {
            alive: ts(Some(alive)),
            connected: get("connected")? == Some(1),
            since: ts(get("connected_since")?),
            stopped: get("stopped")?.is_some_and(|s| s >= alive),
        }))
    }

    /// Every box, by name.
    pub fn boxes(&self) -> rusqlite::Result<Vec<BoxRow>> {
        let mut st = self.conn.prepare(
            "SELECT name, online, online_since, status, status_at, groups FROM box ORDER BY name",
        )?;
        let rows = st.query_map([], |r| {
            let status: Option<String> = r.get(3)?;
            let groups: String = r.get(5)?;
            Ok(BoxRow {
                name: r.get(0)?,
                online: r.get(1)?,
                online_since: ts(r.get(2)?),
                status: status.and_then(|s| serde_json::from_str(&s).ok()),
                status_at: ts(r.get(4)?),
                groups: serde_json::from_str(&groups).unwrap_or_default(),
            })
        })?;
        rows.collect()
    }

    /// The as-run rows of the days `from` to `to` (YYYY-MM-DD), by box,
    /// then as they happened.
    pub fn asrun(&self, from: &str, to: &str) -> rusqlite::Result<Vec<AsRunRow>> {
        let mut st = self.conn.prepare(
            "SELECT box, id, day, status, priority, kind, aired_s, broadcast_key, broadcast,
                    file, scheduled, started, error
             FROM asrun WHERE day >= ?1 AND day <= ?2
             ORDER BY box, day, coalesce(started, scheduled), id",
        )?;
        let rows = st.query_map([from, to], |r| {
            Ok(AsRunRow {
                box_name: r.get(0)?,
                id: r.get(1)?,
                day: r.get(2)?,
                status: r.get(3)?,
                priority: r.get(4)?,
                kind: r.get(5)?,
                aired_s: r.get(6)?,
                broadcast_key: r.get(7)?,
                broadcast: r.get(8)?,
                file: r.get(9)?,
                scheduled: r.get(10)?,
                started: r.get(11)?,
                error: r.get(12)?,
            })
        })?;
        rows.collect()
    }

    /// Every answer to the commands `ids`.
    pub fn acks(&self, ids: &[String]) -> rusqlite::Result<Vec<AckRow>> {
        let mut st = self.conn.prepare(
            "SELECT box, id, status, at, error, rows FROM ack WHERE id = ?1 ORDER BY box, received",
        )?;
        let mut out = Vec::new();
        for id in ids {
            let rows = st.query_map([id], |r| {
                let rows: String = r.get(5)?;
                Ok(AckRow {
                    box_name: r.get(0)?,
                    id: r.get(1)?,
                    status: r.get(2)?,
                    at: r.get(3)?,
                    error: r.get(4)?,
                    rows: serde_json::from_str(&rows).unwrap_or_default(),
                })
            })?;
            for r in rows {
                out.push(r?);
            }
        }
        Ok(out)
    }

    /// The ids of the commands answered between `from` and `to`, whether
    /// or not the collector saw the command itself.
    pub fn answered(&self, from: Timestamp, to: Timestamp) -> rusqlite::Result<Vec<String>> {
        let mut st = self.conn.prepare(
            "SELECT DISTINCT id FROM ack WHERE received >= ?1 AND received <= ?2 ORDER BY id",
        )?;
        let rows = st.query_map(params![ms(from), ms(to)], |r| r.get(0))?;
        rows.collect()
    }

    /// The commands of kind `command` sent between `from` and `to`, oldest
    /// first.
    pub fn commands(
        &self,
        command: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> rusqlite::Result<Vec<CommandRow>> {
        let mut st = self.conn.prepare(
            "SELECT id, command, target, files, received, expires FROM command
             WHERE command = ?1 AND received >= ?2 AND received <= ?3 ORDER BY received, id",
        )?;
        let rows = st.query_map(params![command, ms(from), ms(to)], |r| {
            let files: String = r.get(3)?;
            Ok(CommandRow {
                id: r.get(0)?,
                command: r.get(1)?,
                target: r.get(2)?,
                files: serde_json::from_str(&files).unwrap_or_default(),
                sent: ts(r.get(4)?).unwrap_or(Timestamp::UNIX_EPOCH),
                expires: r.get(5)?,
            })
        })?;
        rows.collect()
    }

    /// One command, if the collector saw it.
    pub fn command(&self, id: &str) -> rusqlite::Result<Option<CommandRow>> {
        self.conn
            .query_row(
                "SELECT id, command, target, files, received, expires FROM command WHERE id = ?1",
                [id],
                |r| {
                    let files: String = r.get(3)?;
                    Ok(CommandRow {
                        id: r.get(0)?,
                        command: r.get(1)?,
                        target: r.get(2)?,
                        files: serde_json::from_str(&files).unwrap_or_default(),
                        sent: ts(r.get(4)?).unwrap_or(Timestamp::UNIX_EPOCH),
                        expires: r.get(5)?,
                    })
                },
            )
            .optional()
    }
}

/// The time a status was made: its "now" (the box's clock).
pub fn status_time(status: &Value) -> Option<Timestamp> {
    status.get("now")?.as_str()?.parse().ok()
}

fn prepare(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let _: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    // What the collector acknowledges to the broker must survive a power
    // cut: the broker will not send it again.
    conn.execute_batch("PRAGMA synchronous=FULL;")?;
    loop {
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let Some(sql) = MIGRATIONS.get(version as usize) else {
            return Ok(());
        };
        let tx = conn.unchecked_transaction()?;
        let v: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if v == version {
            tx.execute_batch(sql)?;
            tx.execute_batch(&format!("PRAGMA user_version = {}", v + 1))?;
        }
        tx.commit()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn a_row_sent_twice_is_stored_once_and_completed_by_its_end() {
        let s = Store::in_memory();
        let now = t("2026-11-02T03:00:00Z");
        let row = json!({"id": 7, "day": "2026-11-02", "status": "interrupted",
                         "priority": "normal", "kind": "file", "aired_s": 0.0,
                         "file": "a.mp3", "started": "2026-11-02T10:00:00+07:00",
                         "ended": null});
        assert!(s.put_asrun("xa-a", &row, now).unwrap());
        assert!(!s.put_asrun("xa-a", &row, now).unwrap());
        let mut done = row.clone();
        done["status"] = json!("played");
        done["ended"] = json!("2026-11-02T10:01:00+07:00");
        done["aired_s"] = json!(60.0);
        assert!(!s.put_asrun("xa-a", &done, now).unwrap());
        // An older copy arriving late does not undo the end.
        s.put_asrun("xa-a", &row, now).unwrap();
        let rows = s.asrun("2026-11-01", "2026-11-30").unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].status.as_str(), rows[0].aired_s), ("played", 60.0));
        // Another box's row 7 is another row.
        assert!(s.put_asrun("xa-b", &row, now).unwrap());
        assert!(matches!(
            s.put_asrun("xa-b", &json!({"id": 1}), now),
            Err(None)
        ));
    }

    #[test]
    fn a_retained_status_seen_again_keeps_its_age() {
        let s = Store::in_memory();
        let status = json!({"now": "2026-11-02T09:50:00+07:00", "groups": ["ven-bien"]});
        // First seen as retained: as of the box's own time.
        s.put_status("xa-a", &status, true, t("2026-11-02T03:00:00Z"))
            .unwrap();
        let b = &s.boxes().unwrap()[0];
        assert_eq!(b.status_at, Some(t("2026-11-02T02:50:00Z")));
        assert_eq!(b.groups, vec!["ven-bien".to_string()]);
        // The collector restarts: the same retained status keeps its time.
        s.put_status("xa-a", &status, true, t("2026-11-02T04:00:00Z"))
            .unwrap();
        assert_eq!(
            s.boxes().unwrap()[0].status_at,
            Some(t("2026-11-02T02:50:00Z"))
        );
        // Live: as of when it came.
        s.put_status("xa-a", &status, false, t("2026-11-02T04:00:00Z"))
            .unwrap();
        assert_eq!(
            s.boxes().unwrap()[0].status_at,
            Some(t("2026-11-02T04:00:00Z"))
        );
    }

    #[test]
    fn online_since_changes_only_with_the_state() {
        let s = Store::in_memory();
        s.put_online("xa-a", true, true, t("2026-11-02T03:00:00Z"))
            .unwrap();
        assert_eq!(s.boxes().unwrap()[0].online_since, None);
        s.put_online("xa-a", false, false, t("2026-11-02T03:05:00Z"))
            .unwrap();
        s.put_online("xa-a", false, true, t("2026-11-02T03:09:00Z"))
            .unwrap();
        let b = &s.boxes().unwrap()[0];
        assert_eq!(
            (b.online, b.online_since),
            (Some(false), Some(t("2026-11-02T03:05:00Z")))
        );
    }

    #[test]
    fn the_collectors_heartbeat() {
        let s = Store::in_memory();
        assert_eq!(s.collector().unwrap(), None);
        s.heartbeat(true, t("2026-11-02T03:00:00Z")).unwrap();
        s.heartbeat(true, t("2026-11-02T03:01:00Z")).unwrap();
        let c = s.collector().unwrap().unwrap();
        assert_eq!(
            (c.alive, c.connected, c.since, c.stopped),
            (
                Some(t("2026-11-02T03:01:00Z")),
                true,
                Some(t("2026-11-02T03:00:00Z")),
                false
            )
        );
        s.stopped(t("2026-11-02T03:02:00Z")).unwrap();
        assert!(s.collector().unwrap().unwrap().stopped);
        s.heartbeat(true, t("2026-11-02T03:05:00Z")).unwrap();
        assert!(!s.collector().unwrap().unwrap().stopped);
    }
}
