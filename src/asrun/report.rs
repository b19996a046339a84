//! The as-run arithmetic the report (`crate::report`) rests on.

use super::ItemRecord;

/// How long an item was on air: `ended - started`, 0 when either is unknown
/// (an item cut off by a power cut has no end: its length is unknown) or
/// the clock went backwards in between.
pub fn on_air_ms(r: &ItemRecord) -> i64 {
    match (r.started, r.ended) {
        (Some(s), Some(e)) => (e.as_millisecond() - s.as_millisecond()).max(0),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Priority, Status};
    use super::*;

    #[test]
    fn time_on_air_needs_both_ends() {
        let t = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
        let mut r = ItemRecord {
            day: jiff::civil::date(2026, 1, 20),
            broadcast_key: "k".into(),
            broadcast: None,
            tags: vec![],
            file: "x.mp3".into(),
            sha256: None,
            scheduled: None,
            started: Some(t("2026-01-20T06:00:00+07:00")),
            ended: Some(t("2026-01-20T06:01:30.5+07:00")),
            status: Status::Played,
            priority: Priority::Normal,
            error: None,
            clock_synced: true,
            late: false,
            kind: Default::default(),
            aired_ms: None,
            zones: vec![],
        };
        assert_eq!(on_air_ms(&r), 90_500);
        r.ended = None;
        assert_eq!(on_air_ms(&r), 0, "cut by a power cut: unknown");
        r.ended = Some(t("2026-01-20T05:59:00+07:00"));
        assert_eq!(on_air_ms(&r), 0, "the clock went back");
    }
}
