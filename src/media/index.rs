//! The media index: what probing learnt about each file of the audio folder,
//! keyed by its path, size and modification time, in the state database,
//! and validation's verdict on it. A changed file (new size or mtime) is
//! simply probed again, and so is a file indexed before SHA-256 hashes were
//! kept or measured by an older decoding ([`MEASURED_BY`]).

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

use super::probe::{Probe, ProbeError};
use super::rejection::Rejection;
use super::validate::Verdict;
use crate::db::{self, DbError};

/// The decoding that measured a row, stored with it: a row measured by an
/// older one (or before this was kept) is measured again, so an upgraded
/// box does not plan with stale lengths. 2: gapless decoding (issue 13:
/// without the encoder's delay and padding).
pub const MEASURED_BY: i64 = 2;

/// The media index: a connection to the state database's `media` table.
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

    /// What is known of `rel`, if it has not changed since. A file that
    /// validation rejected answers its rejection.
    pub fn lookup(&self, rel: &str, size: u64, mtime_ns: i64) -> Option<Result<Probe, ProbeError>> {
        match self.row(rel, Some((size, mtime_ns)))? {
            Row::Probed(p) | Row::Passed(p) => Some(Ok(p)),
            Row::Failed(e) => Some(Err(e)),
            Row::Rejected(r) => Some(Err(ProbeError::Rejected(Box::new(r)))),
        }
    }

    /// Validation's verdict on `rel` as it is now; None when it has not
    /// been validated since it last changed (pending).
    pub fn verdict(&self, rel: &str, size: u64, mtime_ns: i64) -> Option<Verdict> {
        match self.row(rel, Some((size, mtime_ns)))? {
            Row::Passed(p) => Some(Verdict::Ok(p)),
            Row::Rejected(r) => Some(Verdict::Rejected(r)),
            Row::Probed(_) | Row::Failed(_) => None,
        }
    }

    /// The rejection last recorded for `rel`, whatever its size and time:
    /// for a file ingest has moved out of the way, so that a playlist that
    /// names it can say why it is missing.
    pub fn rejection(&self, rel: &str) -> Option<Rejection> {
        match self.row(rel, None)? {
            Row::Rejected(r) => Some(r),
            _ => None,
        }
    }

    /// The row for `rel` (of that size and time, if given).
    fn row(&self, rel: &str, version: Option<(u64, i64)>) -> Option<Row> {
        let (size, mtime_ns) = version.map_or((None, None), |(s, m)| (Some(s as i64), Some(m)));
        let row = self
            .conn
            .query_row(
                "SELECT duration_ms, codec, sample_rate, channels, error_kind, error_detail,
                        loudness_lufs, true_peak_db, decode_errors, sha256, verdict,
                        measured_by
                 FROM media WHERE path = ?1
                   AND (?2 IS NULL OR size = ?2) AND (?3 IS NULL OR mtime_ns = ?3)",
                params![rel, size, mtime_ns],
                |r| {
                    let measured_by = r.get::<_, Option<i64>>(11)?;
                    let row = (
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
                        r.get::<_, Option<String>>(10)?,
                    );
                    Ok((row, measured_by))
                },
            )
            .optional()
            .ok()??;
        let (row, measured_by) = row;
        Some(match row {
            // A rejection stands whatever decoding measured the file (it
            // explains a file moved out of the way); one this build cannot
            // read: judge the file again.
            (.., Some(verdict)) if verdict != "ok" => {
                Row::Rejected(serde_json::from_str(&verdict).ok()?)
            }
            // Measured (or found undecodable) by an older decoding: its
            // length held the encoder's delay and padding. Measure again.
            _ if measured_by.is_none_or(|m| m < MEASURED_BY) => return None,
            (_, _, _, _, Some(kind), detail, ..) => Row::Failed(ProbeError::from_parts(
                &kind,
                detail.as_deref().unwrap_or(""),
            )),
            // Probed before hashes were kept: probe again, once.
            (Some(_), .., None, _) => return None,
            (Some(ms), codec, rate, ch, None, _, lufs, peak, errs, sha256, verdict) => {
                let p = Probe {
                    duration: std::time::Duration::from_millis(ms as u64),
                    codec: codec.unwrap_or_default(),
                    sample_rate: rate.unwrap_or(0) as u32,
                    channels: ch.unwrap_or(0) as u16,
                    loudness_lufs: lufs,
                    true_peak_db: peak,
                    decode_errors: errs.unwrap_or(0) as u32,
                    sha256,
                };
                if verdict.is_some() {
                    Row::Passed(p)
                } else {
                    Row::Probed(p)
                }
            }
            _ => return None,
        })
    }

    /// Remembers what probing `rel` gave (not validated). A failure to
    /// write is logged, not fatal: the index is only a cache.
    pub fn store(&self, rel: &str, size: u64, mtime_ns: i64, result: &Result<Probe, ProbeError>) {
        match result {
            Ok(p) => self.write(rel, size, mtime_ns, Some(p), None, None),
            Err(ProbeError::Rejected(r)) => {
                self.store_verdict(rel, size, mtime_ns, &Verdict::Rejected((**r).clone()))
            }
            Err(e) => self.write(rel, size, mtime_ns, None, Some(e), None),
        }
    }

    /// Remembers validation's verdict on `rel`. Also logged, not fatal.
    pub fn store_verdict(&self, rel: &str, size: u64, mtime_ns: i64, verdict: &Verdict) {
        match verdict {
            Verdict::Ok(p) => self.write(rel, size, mtime_ns, Some(p), None, Some("ok".into())),
            Verdict::Rejected(r) => {
                let json = serde_json::to_string(r).expect("a rejection serialises");
                let e = ProbeError::Rejected(Box::new(r.clone()));
                self.write(rel, size, mtime_ns, None, Some(&e), Some(json))
            }
        }
    }

    fn write(
        &self,
        rel: &str,
        size: u64,
        mtime_ns: i64,
        probe: Option<&Probe>,
        error: Option<&ProbeError>,
        verdict: Option<String>,
    ) {
        let now = jiff::Timestamp::now().to_string();
        let r = self.conn.execute(
            "INSERT OR REPLACE INTO media
             (path, size, mtime_ns, duration_ms, codec, sample_rate, channels,
              loudness_lufs, true_peak_db, decode_errors, sha256, error_kind, error_detail,
              probed_at, verdict, measured_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
            params![
                rel,
                size as i64,
                mtime_ns,
                probe.map(|p| p.duration.as_millis() as i64),
                probe.map(|p| &p.codec),
                probe.map(|p| p.sample_rate),
                probe.map(|p| p.channels),
                probe.and_then(|p| p.loudness_lufs),
                probe.and_then(|p| p.true_peak_db),
                probe.map(|p| p.decode_errors),
                probe.and_then(|p| p.sha256.as_ref()),
                error.map(ProbeError::kind),
                error.map(ProbeError::detail),
                now,
                verdict,
                MEASURED_BY
            ],
        );
        if let Err(e) = r {
            tracing::warn!(file = rel, error = %e, "{}", crate::lang::log("không ghi được chỉ mục tệp âm thanh", "could not write the media index"));
        }
    }
}

/// A media index row, read back.
enum Row {
    /// Probed for planning, not validated.
    Probed(Probe),
    /// Validated and passed.
    Passed(Probe),
    /// Could not be probed.
    Failed(ProbeError),
    /// Validated and rejected.
    Rejected(Rejection),
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

    // Issue 13: lengths measured before gapless decoding held the encoder's
    // delay and padding; an upgraded box measures its files again.
    #[test]
    fn a_row_measured_before_gapless_decoding_is_measured_again() {
        use crate::media::rejection::{RejectKind, Rejection};
        let idx = MediaIndex::in_memory();
        let p = Probe {
            duration: Duration::from_millis(2_000),
            codec: "mp3".into(),
            sample_rate: 44_100,
            channels: 1,
            loudness_lufs: Some(-4.0),
            true_peak_db: Some(-0.9),
            decode_errors: 0,
            sha256: Some("ef".repeat(32)),
        };
        idx.store_verdict("tone.mp3", 10, 1, &Verdict::Ok(p.clone()));
        idx.store("odd.mp3", 10, 1, &Err(ProbeError::NotAudio));
        let r = Rejection::new(RejectKind::TooShort {
            duration: Duration::from_millis(300),
        });
        idx.store_verdict("short.mp3", 10, 1, &Verdict::Rejected(r.clone()));
        assert_eq!(idx.lookup("tone.mp3", 10, 1), Some(Ok(p.clone())));
        assert_eq!(
            idx.lookup("odd.mp3", 10, 1),
            Some(Err(ProbeError::NotAudio))
        );
        for old in ["NULL", "1"] {
            idx.conn
                .execute(&format!("UPDATE media SET measured_by = {old}"), [])
                .unwrap();
            assert_eq!(idx.lookup("tone.mp3", 10, 1), None, "{old}");
            assert_eq!(idx.verdict("tone.mp3", 10, 1), None, "{old}");
            assert_eq!(idx.lookup("odd.mp3", 10, 1), None, "{old}");
            // A rejection still explains the file.
            assert_eq!(idx.rejection("short.mp3"), Some(r.clone()), "{old}");
        }
        // Measured again, it is known again.
        idx.store_verdict("tone.mp3", 10, 1, &Verdict::Ok(p.clone()));
        assert_eq!(idx.lookup("tone.mp3", 10, 1), Some(Ok(p)));
    }

    #[test]
    fn keeps_validations_verdict_and_a_rejection_after_the_file_is_gone() {
        use crate::lang::Lang;
        use crate::media::rejection::{RejectKind, Rejection};
        use crate::media::validate::Verdict;
        let idx = MediaIndex::in_memory();
        let p = Probe {
            duration: Duration::from_millis(220_000),
            codec: "mp3".into(),
            sample_rate: 44_100,
            channels: 2,
            loudness_lufs: Some(-16.0),
            true_peak_db: Some(-1.0),
            decode_errors: 0,
            sha256: Some("cd".repeat(32)),
        };
        // Probed for planning only: pending validation.
        idx.store("a.mp3", 100, 7, &Ok(p.clone()));
        assert_eq!(idx.verdict("a.mp3", 100, 7), None);
        idx.store_verdict("a.mp3", 100, 7, &Verdict::Ok(p.clone()));
        assert_eq!(idx.verdict("a.mp3", 100, 7), Some(Verdict::Ok(p.clone())));
        assert_eq!(idx.lookup("a.mp3", 100, 7), Some(Ok(p.clone())));
        assert_eq!(idx.verdict("a.mp3", 101, 7), None);

        let r = Rejection::new(RejectKind::Truncated {
            decoded: Duration::from_secs(72),
            announced: Some(Duration::from_secs(220)),
        });
        idx.store_verdict("b.mp3", 50, 8, &Verdict::Rejected(r.clone()));
        assert_eq!(
            idx.verdict("b.mp3", 50, 8),
            Some(Verdict::Rejected(r.clone()))
        );
        // Planning never airs it, and says why.
        let Some(Err(e)) = idx.lookup("b.mp3", 50, 8) else {
            panic!("a rejected file looked up as playable");
        };
        assert_eq!(e, ProbeError::Rejected(Box::new(r.clone())));
        assert_eq!(e.message("b.mp3", Lang::Vi), r.message("b.mp3", Lang::Vi));
        // Moved to rejected/: the name still explains itself.
        assert_eq!(idx.rejection("b.mp3"), Some(r));
        assert_eq!(idx.rejection("a.mp3"), None);
        // A good new version under the same name replaces it.
        idx.store_verdict("b.mp3", 60, 9, &Verdict::Ok(p));
        assert_eq!(idx.rejection("b.mp3"), None);
    }
}
