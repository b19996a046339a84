//! The timing rule of one broadcast, written once: the relay goes on; after
//! the warm-up the first item starts; each next item starts after the gap;
//! the relay goes off the hold after the last item ends. The planner plans
//! every day's broadcasts with it, and the airing sequence (`air`) follows
//! the times it gives, for scheduled broadcasts, emergencies and `loa play`
//! alike. Pure: durations and an instant in, instants out.

use std::time::Duration;

use jiff::Timestamp;

/// The three durations of the rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// Relay on this long before the first item.
    pub warm_up: Duration,
    /// Silence between items.
    pub gap: Duration,
    /// Relay on this long after the last item.
    pub hold: Duration,
}

/// One airing's times.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timeline {
    /// When the relay goes on.
    pub relay_on: Timestamp,
    /// Each item's planned start: the first at `relay_on` + warm-up.
    pub starts: Vec<Timestamp>,
    /// When the last item ends (`relay_on` + warm-up with no items).
    pub end: Timestamp,
    /// When the relay goes off: the hold after `end`.
    pub relay_off: Timestamp,
    /// The rule it was made with (the sequence waits the gap and the hold
    /// after what really played, which may be shorter than planned).
    pub timing: Timing,
}

fn plus(t: Timestamp, d: Duration) -> Timestamp {
    t.checked_add(jiff::SignedDuration::try_from(d).unwrap_or(jiff::SignedDuration::ZERO))
        .unwrap_or(t)
}

fn minus(t: Timestamp, d: Duration) -> Timestamp {
    t.checked_sub(jiff::SignedDuration::try_from(d).unwrap_or(jiff::SignedDuration::ZERO))
        .unwrap_or(t)
}

impl Timeline {
    /// The timeline of items of these lengths whose relay goes on at
    /// `relay_on`.
    pub fn from_relay_on(relay_on: Timestamp, durations: &[Duration], timing: Timing) -> Timeline {
        let first = plus(relay_on, timing.warm_up);
        let mut starts = Vec::with_capacity(durations.len());
        let mut cursor = first;
        for (i, d) in durations.iter().enumerate() {
            if i > 0 {
                cursor = plus(cursor, timing.gap);
            }
            starts.push(cursor);
            cursor = plus(cursor, *d);
        }
        Timeline {
            relay_on,
            starts,
            end: cursor,
            relay_off: plus(cursor, timing.hold),
            timing,
        }
    }

    /// The timeline of items whose first one starts at `at`.
    pub fn from_first_start(at: Timestamp, durations: &[Duration], timing: Timing) -> Timeline {
        Timeline::from_relay_on(minus(at, timing.warm_up), durations, timing)
    }

    /// When the first item is planned to start.
    pub fn first_start(&self) -> Timestamp {
        self.starts
            .first()
            .copied()
            .unwrap_or_else(|| plus(self.relay_on, self.timing.warm_up))
    }

    /// How long the relay stays on, as planned.
    pub fn on_for(&self) -> Duration {
        Duration::from_millis(
            (self.relay_off.as_millisecond() - self.relay_on.as_millisecond()).max(0) as u64,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warm_up_gaps_and_hold() {
        let t: Timestamp = "2026-01-20T05:59:57+07:00".parse().unwrap();
        let timing = Timing {
            warm_up: Duration::from_secs(3),
            gap: Duration::from_secs(2),
            hold: Duration::from_secs(2),
        };
        let tl = Timeline::from_relay_on(
            t,
            &[Duration::from_secs(10), Duration::from_millis(500)],
            timing,
        );
        let at = |s: &str| -> Timestamp { s.parse().unwrap() };
        assert_eq!(
            tl.starts,
            [
                at("2026-01-20T06:00:00+07:00"),
                at("2026-01-20T06:00:12+07:00")
            ]
        );
        assert_eq!(tl.end, at("2026-01-20T06:00:12.5+07:00"));
        assert_eq!(tl.relay_off, at("2026-01-20T06:00:14.5+07:00"));
        assert_eq!(tl.on_for(), Duration::from_millis(17_500));
        assert_eq!(
            Timeline::from_first_start(at("2026-01-20T06:00:00+07:00"), &[], timing).relay_on,
            t
        );
    }
}
