//! The sums behind the commune's periodic report (`loa report`): per day, in
//! total and per tag (campaign phase), how many broadcasts and items aired
//! and for how many minutes, and which items were missed or failed. Pure
//! arithmetic over as-run rows; printing it is `cli::report`'s job.
//!
//! The rules:
//! - a broadcast counts as aired when at least one of its items played
//!   (distinct (day, broadcast_key) pairs);
//! - items aired are the rows with status "played";
//! - time aired is the sum of `ended - started` over played and interrupted
//!   items (an interrupted item without an end, cut off by a power cut,
//!   adds nothing: its length is unknown);
//! - a row counts under each of its tags, so per-tag totals may add up to
//!   more than the total; rows without tags are summed under `None`.

use std::collections::HashSet;

use jiff::civil::Date;

use super::{ItemRecord, Row, Status};

/// What aired (or did not) over some set of rows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Broadcasts with at least one item played.
    pub broadcasts: usize,
    /// Items played to their end.
    pub items: usize,
    /// Milliseconds on air, played and interrupted items.
    pub aired_ms: i64,
    /// Items whose time passed without them airing.
    pub missed: usize,
    /// Items that could not be aired.
    pub failed: usize,
    /// Items cut off while airing.
    pub interrupted: usize,
    /// Items skipped by the operator or left out after an emergency.
    pub skipped: usize,
}

impl Totals {
    /// Minutes on air.
    pub fn minutes(&self) -> f64 {
        self.aired_ms as f64 / 60_000.0
    }
}

/// Totals being gathered: the broadcasts seen so far, to count each once.
#[derive(Default)]
struct Tally {
    totals: Totals,
    aired: HashSet<(Date, String)>,
}

impl Tally {
    fn add(&mut self, r: &ItemRecord) {
        let t = &mut self.totals;
        match r.status {
            Status::Played => {
                t.items += 1;
                if self.aired.insert((r.day, r.broadcast_key.clone())) {
                    t.broadcasts += 1;
                }
            }
            Status::Missed => t.missed += 1,
            Status::Failed => t.failed += 1,
            Status::Interrupted => t.interrupted += 1,
            Status::Skipped => t.skipped += 1,
        }
        if matches!(r.status, Status::Played | Status::Interrupted) {
            t.aired_ms += on_air_ms(r);
        }
    }
}

/// How long an item was on air: `ended - started`, 0 when either is unknown
/// (or the clock went backwards in between).
pub fn on_air_ms(r: &ItemRecord) -> i64 {
    match (r.started, r.ended) {
        (Some(s), Some(e)) => (e.as_millisecond() - s.as_millisecond()).max(0),
        _ => 0,
    }
}

/// The report's figures for the days [from, to].
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// The first day summed.
    pub from: Date,
    /// The last day summed (included).
    pub to: Date,
    /// Every day of the range, in order, including days with nothing.
    pub days: Vec<(Date, Totals)>,
    /// The whole range.
    pub total: Totals,
    /// Per tag, in the order tags first appear; `None` (rows without tags)
    /// last, and only if there are such rows.
    pub tags: Vec<(Option<String>, Totals)>,
    /// The missed and failed items, in the rows' order (day, time).
    pub problems: Vec<ItemRecord>,
}

impl Summary {
    /// Sums `rows` (as [`super::AsRun::rows`] returns them) over [from,
    /// to]; rows outside the range are ignored.
    pub fn new(from: Date, to: Date, rows: &[Row]) -> Summary {
        let rows: Vec<&ItemRecord> = rows
            .iter()
            .map(|r| &r.record)
            .filter(|r| r.day >= from && r.day <= to)
            .collect();
        let mut days = Vec::new();
        let mut d = from;
        while d <= to {
            let mut tally = Tally::default();
            rows.iter()
                .filter(|r| r.day == d)
                .for_each(|r| tally.add(r));
            days.push((d, tally.totals));
            match d.tomorrow() {
                Ok(next) => d = next,
                Err(_) => break,
            }
        }
        let mut total = Tally::default();
        let mut tag_order: Vec<Option<String>> = Vec::new();
        let mut untagged = false;
        for r in &rows {
            total.add(r);
            for t in &r.tags {
                if !tag_order.iter().any(|o| o.as_deref() == Some(t.as_str())) {
                    tag_order.push(Some(t.clone()));
                }
            }
            untagged |= r.tags.is_empty();
        }
        if untagged {
            tag_order.push(None);
        }
        let tags = tag_order
            .into_iter()
            .map(|tag| {
                let mut tally = Tally::default();
                rows.iter()
                    .filter(|r| match &tag {
                        Some(t) => r.tags.contains(t),
                        None => r.tags.is_empty(),
                    })
                    .for_each(|r| tally.add(r));
                (tag, tally.totals)
            })
            .collect();
        let problems = rows
            .iter()
            .filter(|r| matches!(r.status, Status::Missed | Status::Failed))
            .map(|r| (*r).clone())
            .collect();
        Summary {
            from,
            to,
            days,
            total: total.totals,
            tags,
            problems,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Priority;
    use super::*;
    use jiff::Timestamp;
    use jiff::civil::date;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    /// An item of broadcast `key` on 2026-01-`day`, started at `start`
    /// (local HH:MM:SS) and lasting `secs`.
    fn item(day: i8, key: &str, tags: &[&str], start: &str, secs: i64, status: Status) -> Row {
        let started = ts(&format!("2026-01-{day:02}T{start}+07:00"));
        let ended = Timestamp::from_millisecond(started.as_millisecond() + secs * 1000).unwrap();
        let aired = matches!(status, Status::Played | Status::Interrupted);
        Row {
            id: 0,
            record: ItemRecord {
                day: date(2026, 1, day),
                broadcast_key: format!("2026-01-{day:02} {key}"),
                broadcast: None,
                tags: tags.iter().map(|t| t.to_string()).collect(),
                file: "x.mp3".into(),
                sha256: None,
                scheduled: Some(started),
                started: aired.then_some(started),
                ended: aired.then_some(ended),
                status,
                priority: Priority::Normal,
                error: (!aired).then(|| "why".into()),
                clock_synced: true,
                late: false,
            },
        }
    }

    /// Two days of rows (and one outside the range): on the 20th the
    /// morning broadcast airs two items (90 s + 30 s) and the evening one
    /// is missed; on the 21st one item fails, one is cut off after 45 s,
    /// one plays 60 s, and an untagged emergency plays 15 s.
    fn two_days() -> Vec<Row> {
        use Status::*;
        vec![
            // Day 20: the morning broadcast airs two items (90 s + 30 s),
            // the evening one is missed entirely.
            item(20, "06:00 #0", &["dai-hoi"], "06:00:00", 90, Played),
            item(20, "06:00 #0", &["dai-hoi"], "06:01:30", 30, Played),
            item(
                20,
                "18:00 #1",
                &["dai-hoi", "an-ninh"],
                "18:00:00",
                0,
                Missed,
            ),
            item(
                20,
                "18:00 #1",
                &["dai-hoi", "an-ninh"],
                "18:00:20",
                0,
                Missed,
            ),
            // Day 21: one item fails, one is cut off after 45 s, one plays
            // 60 s; an untagged emergency plays 15 s.
            item(21, "06:00 #0", &["truoc-dai-hoi"], "06:00:00", 0, Failed),
            item(
                21,
                "06:00 #0",
                &["truoc-dai-hoi"],
                "06:00:05",
                45,
                Interrupted,
            ),
            item(21, "06:00 #0", &["truoc-dai-hoi"], "06:01:00", 60, Played),
            item(21, "now 09:00", &[], "09:00:00", 15, Played),
            item(21, "now 09:00", &[], "09:00:15", 0, Skipped),
            // Outside the range: ignored.
            item(23, "06:00 #0", &["dai-hoi"], "06:00:00", 100, Played),
        ]
    }

    fn two_days_summary() -> Summary {
        Summary::new(date(2026, 1, 19), date(2026, 1, 22), &two_days())
    }

    #[test]
    fn per_day_and_total_arithmetic() {
        let s = two_days_summary();
        let days: Vec<Date> = s.days.iter().map(|(d, _)| *d).collect();
        assert_eq!(
            days,
            [19, 20, 21, 22].map(|d| date(2026, 1, d)).to_vec(),
            "every day of the range, empty ones too"
        );
        assert_eq!(s.days[0].1, Totals::default());
        assert_eq!(
            s.days[1].1,
            Totals {
                broadcasts: 1,
                items: 2,
                aired_ms: 120_000,
                missed: 2,
                ..Totals::default()
            }
        );
        assert_eq!(
            s.days[2].1,
            Totals {
                broadcasts: 2,
                items: 2,
                aired_ms: 120_000,
                failed: 1,
                interrupted: 1,
                skipped: 1,
                ..Totals::default()
            }
        );
        assert_eq!(
            s.total,
            Totals {
                broadcasts: 3,
                items: 4,
                aired_ms: 240_000,
                missed: 2,
                failed: 1,
                interrupted: 1,
                skipped: 1,
            }
        );
        assert_eq!(s.total.minutes(), 4.0);
    }

    #[test]
    fn per_tag_arithmetic_and_the_problems() {
        use Status::*;
        let s = two_days_summary();
        let tag = |name: Option<&str>| {
            s.tags
                .iter()
                .find(|(t, _)| t.as_deref() == name)
                .map(|(_, t)| t.clone())
                .unwrap()
        };
        let order: Vec<Option<&str>> = s.tags.iter().map(|(t, _)| t.as_deref()).collect();
        assert_eq!(
            order,
            [
                Some("dai-hoi"),
                Some("an-ninh"),
                Some("truoc-dai-hoi"),
                None
            ]
        );
        assert_eq!(
            tag(Some("dai-hoi")),
            Totals {
                broadcasts: 1,
                items: 2,
                aired_ms: 120_000,
                missed: 2,
                ..Totals::default()
            }
        );
        assert_eq!(
            tag(Some("an-ninh")),
            Totals {
                missed: 2,
                ..Totals::default()
            }
        );
        assert_eq!(
            tag(Some("truoc-dai-hoi")),
            Totals {
                broadcasts: 1,
                items: 1,
                aired_ms: 105_000,
                failed: 1,
                interrupted: 1,
                ..Totals::default()
            }
        );
        assert_eq!(
            tag(None),
            Totals {
                broadcasts: 1,
                items: 1,
                aired_ms: 15_000,
                skipped: 1,
                ..Totals::default()
            }
        );
        let problems: Vec<Status> = s.problems.iter().map(|r| r.status).collect();
        assert_eq!(problems, [Missed, Missed, Failed]);
    }

    #[test]
    fn an_item_cut_by_a_power_cut_counts_no_time() {
        let mut r = item(20, "06:00 #0", &[], "06:00:00", 30, Status::Interrupted);
        r.record.ended = None;
        assert_eq!(on_air_ms(&r.record), 0);
        let s = Summary::new(date(2026, 1, 20), date(2026, 1, 20), &[r]);
        assert_eq!((s.total.interrupted, s.total.aired_ms), (1, 0));
        assert_eq!(s.total.broadcasts, 0, "nothing played to its end");
    }
}
