//! What to delete from the archive (pure): recordings older than `keep`,
//! then, while the disk is below the reserve, the oldest first. The
//! archive gives way so that the as-run log is never starved of space.

use std::time::Duration;

use jiff::SignedDuration;
use jiff::civil::DateTime;

use super::listing::Stored;
use crate::lang::Lang;

/// Why a recording was deleted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// Older than `[archive] keep`.
    Age,
    /// The disk was below the reserve (`[ingest] min-free-mb`).
    DiskLow,
}

impl Why {
    /// For the log.
    pub fn as_str(self) -> &'static str {
        match self {
            Why::Age => "age",
            Why::DiskLow => "disk-low",
        }
    }

    /// The operator's words for it.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Why::Age => lang.pick("quá thời gian lưu", "older than the keeping time"),
            Why::DiskLow => lang.pick("đĩa sắp đầy", "the disk was nearly full"),
        }
    }
}

/// Which of `stored` (oldest first) to delete at local time `now`: those
/// that started more than `keep` before it; then, if `free` is below
/// `reserve`, the oldest of the rest until enough is freed.
pub fn plan(
    stored: &[Stored],
    now: DateTime,
    keep: Duration,
    free: Option<u64>,
    reserve: u64,
) -> Vec<(usize, Why)> {
    let keep = SignedDuration::from_secs(keep.as_secs().min(i64::MAX as u64) as i64);
    let cutoff = now.checked_sub(keep).unwrap_or(DateTime::MIN);
    let mut out = Vec::new();
    let mut freed = 0u64;
    let mut order: Vec<usize> = (0..stored.len()).collect();
    order.sort_by_key(|&i| stored[i].at);
    for &i in &order {
        if stored[i].at < cutoff {
            out.push((i, Why::Age));
            freed += stored[i].bytes;
        }
    }
    if let Some(free) = free {
        for &i in &order {
            if free.saturating_add(freed) >= reserve {
                break;
            }
            if out.iter().any(|(j, _)| *j == i) {
                continue;
            }
            out.push((i, Why::DiskLow));
            freed += stored[i].bytes;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn stored(day: i8, hour: i8, bytes: u64) -> Stored {
        let at = date(2026, 1, day).at(hour, 0, 0, 0);
        Stored {
            path: format!("/a/{day}-{hour}.mp3").into(),
            at,
            key: format!("k{day}-{hour}"),
            stem: format!("{hour:02}0000-k{day}-{hour}"),
            bytes,
        }
    }

    // Issue 13: retention deletes by age.
    #[test]
    fn deletes_what_is_older_than_keep_and_nothing_else() {
        let files = [stored(1, 5, 10), stored(2, 17, 10), stored(3, 5, 10)];
        let now = date(2026, 1, 4).at(0, 0, 0, 0);
        let keep = Duration::from_secs(2 * 86_400);
        // 2 days before midnight of the 4th is midnight of the 2nd: only
        // the 1st's recording is older.
        assert_eq!(
            plan(&files, now, keep, Some(1000), 100),
            vec![(0, Why::Age)]
        );
        let keep = Duration::from_secs(86_400);
        assert_eq!(
            plan(&files, now, keep, None, 100),
            vec![(0, Why::Age), (1, Why::Age)]
        );
    }

    // Issue 13: when the disk is below the reserve, the oldest go first,
    // and only as many as needed.
    #[test]
    fn below_the_reserve_the_oldest_go_first_until_there_is_room() {
        // Listed out of order: the plan goes by time.
        let files = [stored(3, 5, 30), stored(1, 5, 30), stored(2, 5, 30)];
        let now = date(2026, 1, 4).at(0, 0, 0, 0);
        let keep = Duration::from_secs(180 * 86_400);
        assert_eq!(
            plan(&files, now, keep, Some(50), 100),
            vec![(1, Why::DiskLow), (2, Why::DiskLow)]
        );
        assert_eq!(plan(&files, now, keep, Some(100), 100), vec![]);
        // Not enough even with all gone: all go.
        assert_eq!(plan(&files, now, keep, Some(0), 1000).len(), 3);
    }
}
