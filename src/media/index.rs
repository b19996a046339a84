//! The media index: what probing learnt about each file of the audio folder,
//! keyed by its path, size and modification time, in the state database. A
//! changed file (new size or mtime) is simply probed again, and so is a
//! file indexed before SHA-256 hashes were kept.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

use super::probe::{Probe, ProbeError};
use crate::db::{self, DbError};

pub struct MediaIndex {
    conn: Connection,
}

impl MediaIndex {
    /// The index in the state folder's database.
    pub fn open(state_dir: &Path) -> Result<MediaIndex, DbError> {
        Ok(MediaIndex {
            conn: db::open(state_dir)?,
        })
    }

    /// An index that forgets everything when dropped.
    pub fn in_memory() -> MediaIndex {
        MediaIndex {
            conn: db::open_in_memory(),
        }
    }

    /// What is known of `rel`, if it has not changed since.
    pub fn lookup(&self, rel: &str, size: u64, mtime_ns: i64) -> Option<Result<Probe, ProbeError>> {
        let row = self
            .conn
            .query_row(
                "SELECT duration_ms, codec, sample_rate, channels, error_kind, error_detail,
                        loudness_lufs, true_peak_db, decode_errors, sha256
                 FROM media WHERE path = ?1 AND size = ?2 AND mtime_ns = ?3",
                params![rel, size as i64, mtime_ns],
                |r| {
                    Ok((
                        r.get::<_, Option<i64>>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, Option<i64>>(2)?,
                        r.get::<_, Option<i64>>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, Option<String>>(5)?,
                        r.get::<_, Option<f64>>(6)?,
                        r.get::<_, Option<f64>>(7)?,
                        r.get::<_, Option<i64>>(8)?,
                        r.get::<_, Option<String>>(9)?,
                    ))
                },
            )
            .optional()
            .ok()??;
        Some(match row {
            (_, _, _, _, Some(kind), detail, ..) => Err(ProbeError::from_parts(
                &kind,
                detail.as_deref().unwrap_or(""),
            )),
            // Probed before hashes were kept: probe again, once.
            (Some(_), .., None) => return None,
            (Some(ms), codec, rate, ch, None, _, lufs, peak, errs, sha256) => Ok(Probe {
                duration: std::time::Duration::from_millis(ms as u64),
                codec: codec.unwrap_or_default(),
                sample_rate: rate.unwrap_or(0) as u32,
                channels: ch.unwrap_or(0) as u16,
                loudness_lufs: lufs,
                true_peak_db: peak,
                decode_errors: errs.unwrap_or(0) as u32,
                sha256,
            }),
            _ => return None,
        })
    }

    /// Remembers what probing `rel` gave. A failure to write is logged, not
    /// fatal: the index is only a cache.
    pub fn store(&self, rel: &str, size: u64, mtime_ns: i64, result: &Result<Probe, ProbeError>) {
        let now = jiff::Timestamp::now().to_string();
        let r = match result {
            Ok(p) => self.conn.execute(
                "INSERT OR REPLACE INTO media
                 (path, size, mtime_ns, duration_ms, codec, sample_rate, channels,
                  loudness_lufs, true_peak_db, decode_errors, sha256, error_kind, error_detail,
                  probed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, NULL, NULL, ?12)",
                params![
                    rel,
                    size as i64,
                    mtime_ns,
                    p.duration.as_millis() as i64,
                    p.codec,
                    p.sample_rate,
                    p.channels,
                    p.loudness_lufs,
                    p.true_peak_db,
                    p.decode_errors,
                    p.sha256,
                    now
                ],
            ),
            Err(e) => self.conn.execute(
                "INSERT OR REPLACE INTO media
                 (path, size, mtime_ns, duration_ms, codec, sample_rate, channels, error_kind, error_detail, probed_at)
                 VALUES (?1, ?2, ?3, NULL, NULL, NULL, NULL, ?4, ?5, ?6)",
                params![rel, size as i64, mtime_ns, e.kind(), e.detail(), now],
            ),
        };
        if let Err(e) = r {
            tracing::warn!(file = rel, error = %e, "could not write the media index");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn remembers_until_the_file_changes() {
        let idx = MediaIndex::in_memory();
        let p = Probe {
            duration: Duration::from_millis(12_345),
            codec: "mp3".into(),
            sample_rate: 22050,
            channels: 1,
            loudness_lufs: Some(-23.5),
            true_peak_db: Some(-3.1),
            decode_errors: 0,
            sha256: Some("ab".repeat(32)),
        };
        idx.store("a.mp3", 100, 7, &Ok(p.clone()));
        assert_eq!(idx.lookup("a.mp3", 100, 7), Some(Ok(p)));
        assert_eq!(idx.lookup("a.mp3", 101, 7), None);
        assert_eq!(idx.lookup("a.mp3", 100, 8), None);
        idx.store(
            "a.mp3",
            101,
            7,
            &Err(ProbeError::Unsupported("Opus".into())),
        );
        assert_eq!(
            idx.lookup("a.mp3", 101, 7),
            Some(Err(ProbeError::Unsupported("Opus".into())))
        );
    }

    #[test]
    fn a_row_without_a_hash_is_probed_again() {
        let idx = MediaIndex::in_memory();
        let p = Probe {
            duration: Duration::from_millis(1_000),
            codec: "mp3".into(),
            sample_rate: 22050,
            channels: 1,
            loudness_lufs: None,
            true_peak_db: None,
            decode_errors: 0,
            sha256: None,
        };
        idx.store("old.mp3", 10, 1, &Ok(p));
        assert_eq!(idx.lookup("old.mp3", 10, 1), None);
    }
}
