//! What the service should do now, given the day's plan, what the as-run
//! log says was already attempted, and the late-start grace. Pure: the
//! daemon asks, carries out the answer, and asks again. This is where "never
//! air a burst of missed items after a clock jump" and "never air one twice"
//! are decided.

use std::collections::HashSet;
use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use super::{DayPlan, PlannedBroadcast, local_time};

/// A broadcast aired a little after its time still counts as on time.
const ON_TIME_TOLERANCE_MS: i64 = 1000;

/// The as-run log's name for one scheduled broadcast on one day.
pub fn broadcast_key(date: Date, b: &PlannedBroadcast, tz: &TimeZone) -> String {
    format!("{date} {} #{}", local_time(b.at, tz), b.index)
}

/// The service's next step, as [`decide`] gives it.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// These broadcasts (positions in the plan) are past their grace and
    /// were never attempted: record them as missed, do not air them.
    Missed(Vec<usize>),
    /// Air this broadcast now; `late` when its time has already passed.
    Air {
        /// Its position in the plan's `broadcasts`.
        index: usize,
        /// More than a second past its time.
        late: bool,
    },
    /// Nothing to do until this instant (the next relay-on), if any.
    Wait(Option<Timestamp>),
}

/// Decides the next step. `attempted` holds the broadcast keys the as-run
/// log has for the plan's day.
pub fn decide(
    now: Timestamp,
    plan: &DayPlan,
    attempted: &HashSet<String>,
    late_grace: Duration,
    tz: &TimeZone,
) -> Decision {
    let grace = late_grace.as_millis() as i64;
    let now_ms = now.as_millisecond();
    let mut missed = Vec::new();
    let mut due = None;
    let mut next_wait: Option<Timestamp> = None;
    for (i, b) in plan.broadcasts.iter().enumerate() {
        if attempted.contains(&broadcast_key(plan.date, b, tz)) {
            continue;
        }
        let at = b.at.as_millisecond();
        if now_ms < b.relay_on.as_millisecond() {
            next_wait = Some(next_wait.map_or(b.relay_on, |w: Timestamp| w.min(b.relay_on)));
        } else if now_ms <= at + grace {
            if due.is_none() {
                due = Some((i, now_ms > at + ON_TIME_TOLERANCE_MS));
            }
        } else {
            missed.push(i);
        }
    }
    if !missed.is_empty() {
        return Decision::Missed(missed);
    }
    if let Some((index, late)) = due {
        return Decision::Air { index, late };
    }
    Decision::Wait(next_wait)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::PlannedItem;

    fn tz() -> TimeZone {
        TimeZone::get("Asia/Ho_Chi_Minh").unwrap()
    }

    fn t(s: &str) -> Timestamp {
        format!("{s}+07:00").parse().unwrap()
    }

    fn b(index: usize, at: &str) -> PlannedBroadcast {
        let at = t(at);
        let ms = |d: i64| Timestamp::from_millisecond(at.as_millisecond() + d).unwrap();
        PlannedBroadcast {
            index,
            title: None,
            at,
            relay_on: ms(-3000),
            end: ms(60_000),
            relay_off: ms(62_000),
            tags: vec![],
            zones: vec![],
            gap: Duration::from_secs(2),
            skipped: vec![],
            items: vec![PlannedItem {
                file: "a.mp3".into(),
                path: "a.mp3".into(),
                start: at,
                end: ms(60_000),
                duration: Duration::from_secs(60),
                volume_db: 0.0,
                live: None,
                say: None,
            }],
        }
    }

    fn plan() -> DayPlan {
        DayPlan {
            date: jiff::civil::date(2026, 1, 20),
            source: None,
            broadcasts: vec![b(0, "2026-01-20T05:30:00"), b(1, "2026-01-20T17:00:00")],
            problems: vec![],
        }
    }

    const GRACE: Duration = Duration::from_secs(600);

    #[test]
    fn waits_for_the_next_relay_on() {
        let d = decide(
            t("2026-01-20T04:00:00"),
            &plan(),
            &HashSet::new(),
            GRACE,
            &tz(),
        );
        assert_eq!(d, Decision::Wait(Some(t("2026-01-20T05:29:57"))));
    }

    #[test]
    fn airs_on_time_at_relay_on() {
        let d = decide(
            t("2026-01-20T05:29:57"),
            &plan(),
            &HashSet::new(),
            GRACE,
            &tz(),
        );
        assert_eq!(
            d,
            Decision::Air {
                index: 0,
                late: false
            }
        );
    }

    #[test]
    fn a_late_start_within_the_grace_airs_late() {
        let d = decide(
            t("2026-01-20T05:35:00"),
            &plan(),
            &HashSet::new(),
            GRACE,
            &tz(),
        );
        assert_eq!(
            d,
            Decision::Air {
                index: 0,
                late: true
            }
        );
    }

    #[test]
    fn past_the_grace_is_missed_not_aired() {
        let d = decide(
            t("2026-01-20T05:40:01"),
            &plan(),
            &HashSet::new(),
            GRACE,
            &tz(),
        );
        assert_eq!(d, Decision::Missed(vec![0]));
        // A jump to the evening: the morning is missed, never aired in a burst.
        let d = decide(
            t("2026-01-20T17:05:00"),
            &plan(),
            &HashSet::new(),
            GRACE,
            &tz(),
        );
        assert_eq!(d, Decision::Missed(vec![0]));
        let mut done = HashSet::new();
        done.insert(broadcast_key(plan().date, &plan().broadcasts[0], &tz()));
        let d = decide(t("2026-01-20T17:05:00"), &plan(), &done, GRACE, &tz());
        assert_eq!(
            d,
            Decision::Air {
                index: 1,
                late: true
            }
        );
    }

    #[test]
    fn an_attempted_broadcast_is_never_aired_again() {
        let mut done = HashSet::new();
        done.insert(broadcast_key(plan().date, &plan().broadcasts[0], &tz()));
        let d = decide(t("2026-01-20T05:31:00"), &plan(), &done, GRACE, &tz());
        assert_eq!(d, Decision::Wait(Some(t("2026-01-20T16:59:57"))));
        done.insert(broadcast_key(plan().date, &plan().broadcasts[1], &tz()));
        let d = decide(t("2026-01-20T17:01:00"), &plan(), &done, GRACE, &tz());
        assert_eq!(d, Decision::Wait(None));
    }

    #[test]
    fn keys_name_the_day_the_time_and_the_entry() {
        assert_eq!(
            broadcast_key(plan().date, &plan().broadcasts[1], &tz()),
            "2026-01-20 17:00:00 #1"
        );
    }
}
