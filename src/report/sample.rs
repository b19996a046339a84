//! A simulated month for the report's unit tests: November 2026, two
//! scheduled broadcasts a day (06:00 "Bản tin sáng", tagged
//! `truoc-dai-hoi`: the jingle then a 90 s bulletin; 17:00 "Bản tin chiều",
//! untagged: one 120 s bulletin), with
//! - 05/11 morning missed (loa was down), its two items logged missed;
//! - 12/11 evening failed (the file would not decode);
//! - 20/11 an emergency (`loa now`) at 10:15, 45 s;
//! - 25/11 morning: a 10-minute VOV relay after the jingle instead of the
//!   bulletin;
//! - 28/11 morning: nothing in the log at all (power cut all morning).
//!
//! That is 60 scheduled broadcasts, 57 aired (95,0 %).

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::{Date, date};
use jiff::tz::TimeZone;

use super::build::{Inputs, Scheduled};
use super::{Filter, Station};
use crate::asrun::{ItemRecord, Priority, Row, Status};
use crate::lang::Lang;

/// "2026-11-DD HH:MM:SS" at +07:00, plus `secs`.
pub fn at(day: i8, hms: &str, secs: i64) -> Timestamp {
    let t: Timestamp = format!("2026-11-{day:02}T{hms}+07:00").parse().unwrap();
    Timestamp::from_millisecond(t.as_millisecond() + secs * 1000).unwrap()
}

fn key(day: i8, hms: &str, index: usize) -> String {
    format!("2026-11-{day:02} {hms} #{index}")
}

/// One row: `file` of broadcast (`hms`, `index`) on `day`, `secs` long,
/// starting `offset` seconds after the broadcast.
#[allow(clippy::too_many_arguments)]
fn row(
    day: i8,
    hms: &str,
    index: usize,
    file: &str,
    offset: i64,
    secs: i64,
    status: Status,
    error: Option<&str>,
) -> ItemRecord {
    let aired = matches!(status, Status::Played | Status::Interrupted);
    let morning = index == 0;
    ItemRecord {
        day: date(2026, 11, day),
        broadcast_key: key(day, hms, index),
        broadcast: Some(
            if morning {
                "Bản tin sáng"
            } else {
                "Bản tin chiều"
            }
            .into(),
        ),
        tags: if morning {
            vec!["truoc-dai-hoi".into()]
        } else {
            Vec::new()
        },
        file: file.into(),
        sha256: None,
        scheduled: Some(at(day, hms, offset)),
        started: aired.then(|| at(day, hms, offset)),
        ended: aired.then(|| at(day, hms, offset + secs)),
        status,
        priority: Priority::Normal,
        error: error.map(String::from),
        clock_synced: true,
        late: false,
        kind: Default::default(),
        aired_ms: None,
        zones: vec![],
    }
}

/// The month's as-run rows.
pub fn rows() -> Vec<Row> {
    let mut v = Vec::new();
    for day in 1..=30i8 {
        match day {
            5 => {
                let why = Some("loa không chạy");
                v.push(row(
                    day,
                    "06:00:00",
                    0,
                    "nhac-hieu.mp3",
                    0,
                    30,
                    Status::Missed,
                    why,
                ));
                v.push(row(
                    day,
                    "06:00:00",
                    0,
                    "ban-tin-1.mp3",
                    30,
                    90,
                    Status::Missed,
                    why,
                ));
            }
            25 => {
                v.push(row(
                    day,
                    "06:00:00",
                    0,
                    "nhac-hieu.mp3",
                    0,
                    30,
                    Status::Played,
                    None,
                ));
                let vov = "http://radio.example.vn:8000/vov1";
                v.push(row(day, "06:00:00", 0, vov, 30, 600, Status::Played, None));
            }
            28 => {}
            _ => {
                v.push(row(
                    day,
                    "06:00:00",
                    0,
                    "nhac-hieu.mp3",
                    0,
                    30,
                    Status::Played,
                    None,
                ));
                v.push(row(
                    day,
                    "06:00:00",
                    0,
                    "ban-tin-1.mp3",
                    30,
                    90,
                    Status::Played,
                    None,
                ));
            }
        }
        if day == 12 {
            let why = Some("tệp hỏng: không giải mã được");
            v.push(row(
                day,
                "17:00:00",
                1,
                "ban-tin-2.mp3",
                0,
                120,
                Status::Failed,
                why,
            ));
        } else {
            v.push(row(
                day,
                "17:00:00",
                1,
                "ban-tin-2.mp3",
                0,
                120,
                Status::Played,
                None,
            ));
        }
        if day == 20 {
            v.push(ItemRecord {
                broadcast_key: "2026-11-20 now 10:15:00".into(),
                broadcast: None,
                tags: Vec::new(),
                file: "khan-cap/bao-lu.mp3".into(),
                scheduled: None,
                started: Some(at(20, "10:15:00", 0)),
                ended: Some(at(20, "10:15:00", 45)),
                status: Status::Played,
                priority: Priority::Emergency,
                error: None,
                ..row(day, "10:15:00", 9, "x", 0, 0, Status::Played, None)
            });
        }
    }
    v.sort_by_key(|r| r.scheduled.or(r.started));
    v.into_iter()
        .enumerate()
        .map(|(i, record)| Row {
            id: i as i64 + 1,
            record,
        })
        .collect()
}

/// The plan of every day from `from` to `to`.
pub fn schedule(from: Date, to: Date) -> BTreeMap<Date, Vec<Scheduled>> {
    let mut m = BTreeMap::new();
    let mut d = from;
    while d <= to {
        let at_ = |hms: &str| -> Timestamp { format!("{d}T{hms}+07:00").parse().unwrap() };
        m.insert(
            d,
            vec![
                Scheduled {
                    key: format!("{d} 06:00:00 #0"),
                    title: Some("Bản tin sáng".into()),
                    at: at_("06:00:00"),
                    planned_ms: 120_000,
                    tags: vec!["truoc-dai-hoi".into()],
                    zones: Vec::new(),
                    files: vec!["nhac-hieu.mp3".into(), "ban-tin-1.mp3".into()],
                },
                Scheduled {
                    key: format!("{d} 17:00:00 #1"),
                    title: Some("Bản tin chiều".into()),
                    at: at_("17:00:00"),
                    planned_ms: 120_000,
                    tags: Vec::new(),
                    zones: Vec::new(),
                    files: vec!["ban-tin-2.mp3".into()],
                },
            ],
        );
        d = d.tomorrow().unwrap();
    }
    m
}

/// The station, with every field set.
pub fn station() -> Station {
    Station {
        name: Some("Đài truyền thanh xã An Bình".into()),
        commune: Some("Xã An Bình".into()),
        province: Some("Tỉnh Quảng Trị".into()),
        reporter: Some("Nguyễn Thị Hoa".into()),
        head: Some("Trần Văn Nam".into()),
        jingles: vec!["nhac-hieu*".into()],
        declared: true,
    }
}

/// The month's inputs, made on 30/11/2026 at 20:00, for `rows`.
pub fn inputs(rows: &[Row]) -> Inputs<'_> {
    let (from, to) = (date(2026, 11, 1), date(2026, 11, 30));
    Inputs {
        lang: Lang::Vi,
        station: station(),
        timezone: "Asia/Ho_Chi_Minh".into(),
        tz: TimeZone::fixed(jiff::tz::offset(7)),
        now: at(30, "20:00:00", 0),
        from,
        to,
        rows,
        schedule: schedule(from, to),
        installed: Some(at(1, "00:00:00", 0)),
        tag_names: [("truoc-dai-hoi".to_string(), "Trước Đại hội".to_string())].into(),
        zones: Vec::new(),
        filter: Filter::default(),
        late_grace: Duration::from_secs(600),
        require_clock_sync: true,
        archived: None,
    }
}

/// Three hamlets, (name, title), in the config's order.
pub fn zones() -> Vec<(String, String)> {
    [
        ("thon-1", "Thôn Đông"),
        ("thon-2", "Thôn Tây"),
        ("thon-3", "Thôn Bắc"),
    ]
    .map(|(n, t)| (n.to_string(), t.to_string()))
    .to_vec()
}

/// The zones of a broadcast key: mornings (and the emergency) to thon-1
/// and thon-2, evenings to thon-2 alone; thon-3 gets nothing.
fn zones_of(key: &str) -> Vec<String> {
    let names: &[&str] = if key.contains("17:00:00") {
        &["thon-2"]
    } else {
        &["thon-1", "thon-2"]
    };
    names.iter().map(|n| n.to_string()).collect()
}

/// The month with zones: the first three days' rows are from before zones
/// existed (they name none); after them, every row names its broadcast's
/// zones ([`zones_of`]).
pub fn zoned_rows() -> Vec<Row> {
    let mut rows = rows();
    for r in &mut rows {
        if r.record.day.day() > 3 {
            r.record.zones = zones_of(&r.record.broadcast_key);
        }
    }
    rows
}

/// [`inputs`] with the three zones configured and the plans naming their
/// zones.
pub fn zoned_inputs(rows: &[Row]) -> Inputs<'_> {
    let mut inp = inputs(rows);
    inp.zones = zones();
    for s in inp.schedule.values_mut().flatten() {
        s.zones = zones_of(&s.key);
    }
    inp
}
