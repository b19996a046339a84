//! `loa district status`: every box at a glance. The boxes come from the
//! collector's database when there is one (no broker needed, instant for
//! hundreds of boxes), else from the broker's retained messages
//! (`PREFIX/+/online`, `PREFIX/+/status`). A box whose last status is over
//! [`SILENT_AFTER`] old stands out, in words, at the top.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use rumqttc::{Publish, QoS};
use serde_json::{Value, json};

use super::proto::Topics;
use super::store::{BoxRow, Collector, Store, status_time};
use super::tools::{Link, Session};
use crate::control::protocol::Status;
use crate::lang::Lang;
use crate::tr;

/// A box that has not sent a status for this long stands out (a box
/// sends one on every change and every minute).
pub const SILENT_AFTER: Duration = Duration::from_secs(180);

/// A collector that has not written for this long is not running.
const COLLECTOR_STALE: Duration = Duration::from_secs(120);

/// Where the list of boxes came from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// The collector's database, and what the collector last said of
    /// itself.
    Database(Option<Collector>),
    /// The broker's retained messages.
    Broker,
}

/// The boxes the district knows.
#[derive(Clone, Debug)]
pub struct Known {
    /// By name.
    pub boxes: Vec<BoxRow>,
    /// From where.
    pub source: Source,
}

/// The boxes in the collector's database in `state`, if it has one.
pub fn from_store(state: &Path, lang: Lang) -> Result<Option<Known>, String> {
    let store = match Store::open_existing(state) {
        Ok(Some(s)) => s,
        Ok(None) => return Ok(None),
        Err(e) => return Err(e.message(lang)),
    };
    let boxes = store.boxes().map_err(|e| store.error(&e, lang))?;
    let collector = store.collector().map_err(|e| store.error(&e, lang))?;
    Ok(Some(Known {
        boxes,
        source: Source::Database(collector),
    }))
}

/// The topic filters of the boxes' online state and status.
pub fn filters(topics: &Topics) -> Vec<(String, QoS)> {
    vec![
        (topics.online("+"), QoS::AtLeastOnce),
        (topics.status("+"), QoS::AtLeastOnce),
    ]
}

/// Takes a box's `online` or `status` message into `boxes`; false for
/// any other message.
pub fn absorb(boxes: &mut BTreeMap<String, BoxRow>, topics: &Topics, p: &Publish) -> bool {
    let Some((name, leaf)) = topics.split(&p.topic) else {
        return false;
    };
    if !crate::config::district::valid_name(name) {
        return false;
    }
    let entry = || BoxRow {
        name: name.to_string(),
        ..BoxRow::default()
    };
    match leaf {
        "online" => {
            let online = match p.payload.as_ref() {
                b"online" => true,
                b"offline" => false,
                _ => return false,
            };
            boxes.entry(name.to_string()).or_insert_with(entry).online = Some(online);
            true
        }
        "status" => {
            let Ok(status) = serde_json::from_slice::<Value>(&p.payload) else {
                return false;
            };
            let b = boxes.entry(name.to_string()).or_insert_with(entry);
            b.status_at = status_time(&status);
            b.groups = status
                .get("groups")
                .and_then(|g| serde_json::from_value(g.clone()).ok())
                .unwrap_or_default();
            b.status = Some(status);
            true
        }
        _ => false,
    }
}

/// The boxes as the broker's retained messages tell (on a session that
/// has subscribed to [`filters`]): what comes until the broker is quiet.
pub async fn gather(session: &mut Session, topics: &Topics) -> Result<Vec<BoxRow>, String> {
    let mut boxes = BTreeMap::new();
    for p in session
        .gather(Duration::from_millis(400), Duration::from_secs(2))
        .await?
    {
        absorb(&mut boxes, topics, &p);
    }
    Ok(boxes.into_values().collect())
}

/// The boxes as the broker's retained messages tell, on a session of
/// their own.
pub fn from_broker(link: &Link) -> Result<Known, String> {
    let rt = super::tools::runtime().map_err(|e| e.to_string())?;
    rt.block_on(async {
        let mut s = Session::open(link, &super::tools::tool_client_id()).await?;
        s.subscribe(&filters(&link.topics)).await?;
        let boxes = gather(&mut s, &link.topics).await?;
        s.close().await;
        Ok(Known {
            boxes,
            source: Source::Broker,
        })
    })
}

/// One box as the board shows it.
#[derive(Clone, Debug)]
pub struct View<'a> {
    /// The stored facts.
    pub row: &'a BoxRow,
    /// Its status, read.
    pub status: Option<Status>,
    /// How old its last status is (None: none, or no time on it).
    pub age: Option<Duration>,
    /// No status for over [`SILENT_AFTER`] (or none at all).
    pub silent: bool,
}

/// The boxes as the board lists them: the silent ones first, longest
/// silent first; then by name.
pub fn views(boxes: &[BoxRow], now: Timestamp) -> Vec<View<'_>> {
    let mut v: Vec<View<'_>> = boxes
        .iter()
        .map(|row| {
            let age = row.status_at.map(|t| {
                Duration::from_millis((now.as_millisecond() - t.as_millisecond()).max(0) as u64)
            });
            View {
                row,
                status: row
                    .status
                    .as_ref()
                    .and_then(|s| serde_json::from_value(s.clone()).ok()),
                age,
                silent: age.is_none_or(|a| a > SILENT_AFTER),
            }
        })
        .collect();
    v.sort_by(|a, b| {
        b.silent
            .cmp(&a.silent)
            .then_with(|| match (a.silent, a.age, b.age) {
                (true, Some(x), Some(y)) => y.cmp(&x),
                (true, None, Some(_)) => std::cmp::Ordering::Less,
                (true, Some(_), None) => std::cmp::Ordering::Greater,
                _ => std::cmp::Ordering::Equal,
            })
            .then_with(|| a.row.name.cmp(&b.row.name))
    });
    v
}

/// "20 giây" / "20 s", "7 phút" / "7 min", "3 giờ" / "3 h", "2 ngày" /
/// "2 days": how long, in one unit.
pub fn span(d: Duration, lang: Lang) -> String {
    let s = d.as_secs();
    match s {
        0..60 => tr!(lang, "{s} giây", "{s} s"),
        60..7200 => {
            let m = s / 60;
            tr!(lang, "{m} phút", "{m} min")
        }
        7200..172_800 => {
            let h = s / 3600;
            tr!(lang, "{h} giờ", "{h} h")
        }
        _ => {
            let days = s / 86_400;
            tr!(lang, "{days} ngày", "{days} days")
        }
    }
}

/// A time as the board shows it: "09:58" today, else with its date.
pub fn when(t: Timestamp, now: Timestamp, tz: &TimeZone, lang: Lang) -> String {
    let (a, b) = (
        tz.to_offset(t).to_datetime(t),
        tz.to_offset(now).to_datetime(now),
    );
    if a.date() == b.date() {
        format!("{:02}:{:02}", a.hour(), a.minute())
    } else {
        crate::lang::date_time(t, tz, lang)
    }
}

/// A box's RFC 3339 time, as [`when`] shows it; the text as sent when it
/// does not read.
fn when_text(t: &str, now: Timestamp, tz: &TimeZone, lang: Lang) -> String {
    t.parse::<Timestamp>()
        .map(|t| when(t, now, tz, lang))
        .unwrap_or_else(|_| t.to_string())
}

/// The link cell: online or offline, and since when.
fn link_cell(r: &BoxRow, now: Timestamp, tz: &TimeZone, lang: Lang) -> String {
    let since = r.online_since.map(|t| when(t, now, tz, lang));
    match (r.online, since) {
        (Some(true), Some(s)) => tr!(lang, "trực tuyến từ {s}", "online since {s}"),
        (Some(true), None) => lang.pick("trực tuyến", "online").into(),
        (Some(false), Some(s)) => tr!(lang, "MẤT KẾT NỐI từ {s}", "OFFLINE since {s}"),
        (Some(false), None) => lang.pick("MẤT KẾT NỐI", "OFFLINE").into(),
        (None, _) => "?".into(),
    }
}

/// The eight cells of a box's line.
fn cells(v: &View<'_>, now: Timestamp, tz: &TimeZone, lang: Lang) -> [String; 8] {
    let age = match (v.age, v.silent) {
        (Some(a), true) => {
            let a = span(a, lang);
            tr!(lang, "IM LẶNG {a}", "SILENT {a}")
        }
        (Some(a), false) => {
            let a = span(a, lang);
            tr!(lang, "{a} trước", "{a} ago")
        }
        (None, _) if v.row.status.is_some() => lang
            .pick("IM LẶNG (không rõ giờ)", "SILENT (no time)")
            .into(),
        (None, _) => lang.pick("CHƯA GỬI TRẠNG THÁI", "NO STATUS YET").into(),
    };
    let dash = || "—".to_string();
    let Some(s) = &v.status else {
        let link = link_cell(v.row, now, tz, lang);
        return [
            v.row.name.clone(),
            link,
            age,
            dash(),
            dash(),
            dash(),
            dash(),
            dash(),
        ];
    };
    let clock = lang
        .pick(
            if s.clock_synced {
                "đồng bộ"
            } else {
                "CHƯA ĐỒNG BỘ"
            },
            if s.clock_synced {
                "synced"
            } else {
                "NOT SYNCED"
            },
        )
        .to_string();
    let relay = match (s.relay.on, &s.relay.since) {
        (true, Some(t)) => {
            let t = when_text(t, now, tz, lang);
            tr!(lang, "bật từ {t}", "on since {t}")
        }
        (true, None) => lang.pick("bật", "on").into(),
        (false, _) => lang.pick("tắt", "off").into(),
    };
    let playing = s.playing.as_ref().map_or_else(dash, |p| p.file.clone());
    let next = s.next.as_ref().map_or_else(dash, |n| {
        let at = when_text(&n.at, now, tz, lang);
        match &n.title {
            Some(t) => format!("{at} {t}"),
            None => at,
        }
    });
    let error = match (&s.last_error, &s.last_error_at) {
        (Some(e), Some(at)) => format!("{} {}", when_text(at, now, tz, lang), one_line(e)),
        (Some(e), None) => one_line(e),
        (None, _) => dash(),
    };
    [
        v.row.name.clone(),
        link_cell(v.row, now, tz, lang),
        age,
        clock,
        relay,
        playing,
        next,
        error,
    ]
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

/// The board as text: a headline, a warning if the collector is not
/// running, then a line per box.
pub fn text(known: &Known, now: Timestamp, tz: &TimeZone, lang: Lang) -> String {
    let views = views(&known.boxes, now);
    let mut o = String::new();
    let n = views.len();
    let online = views.iter().filter(|v| v.row.online == Some(true)).count();
    let offline = views.iter().filter(|v| v.row.online == Some(false)).count();
    let silent = views.iter().filter(|v| v.silent).count();
    let at = when(now, now, tz, lang);
    let from = match &known.source {
        Source::Database(_) => lang.pick("theo dịch vụ thu thập", "from the collector"),
        Source::Broker => lang.pick("theo máy chủ MQTT", "from the broker"),
    };
    let _ = writeln!(
        o,
        "{}",
        tr!(
            lang,
            "Huyện: {n} máy, {online} trực tuyến, {offline} mất kết nối, {silent} im lặng quá 3 phút (lúc {at}, {from}).",
            "District: {n} boxes, {online} online, {offline} offline, {silent} silent for over 3 minutes (at {at}, {from})."
        )
    );
    if let Source::Database(c) = &known.source {
        collector_note(&mut o, *c, now, tz, lang);
    }
    if views.is_empty() {
        let _ = writeln!(
            o,
            "{}",
            lang.pick(
                "Chưa có máy nào báo về huyện.",
                "No box has reported to the district yet."
            )
        );
        return o;
    }
    let header = [
        lang.pick("Máy", "Box"),
        lang.pick("Kết nối", "Link"),
        lang.pick("Báo gần nhất", "Last status"),
        lang.pick("Đồng hồ", "Clock"),
        lang.pick("Rơ-le", "Relay"),
        lang.pick("Đang phát", "Playing"),
        lang.pick("Buổi phát tới", "Next broadcast"),
        lang.pick("Lỗi gần nhất", "Last error"),
    ]
    .map(String::from);
    let rows: Vec<[String; 8]> = views.iter().map(|v| cells(v, now, tz, lang)).collect();
    columns(&mut o, &header, &rows);
    o
}

/// Says when the collector's database is not being kept up to date.
fn collector_note(o: &mut String, c: Option<Collector>, now: Timestamp, tz: &TimeZone, lang: Lang) {
    let stale = c.and_then(|c| c.alive).is_none_or(|t| {
        now.as_millisecond() - t.as_millisecond() > COLLECTOR_STALE.as_millis() as i64
    });
    if let Some(c) = c.filter(|c| c.stopped) {
        let at = c.alive.map(|t| when(t, now, tz, lang)).unwrap_or_default();
        let _ = writeln!(
            o,
            "{}",
            tr!(
                lang,
                "CHÚ Ý: dịch vụ thu thập (loa district collect) đã dừng lúc {at}: các số liệu dưới đây có thể đã cũ. Hãy bật lại: sudo systemctl start loa-district-collect",
                "NOTE: the collector (loa district collect) stopped at {at}: what follows may be out of date. Start it again: sudo systemctl start loa-district-collect"
            )
        );
    } else if stale {
        let last = c
            .and_then(|c| c.alive)
            .map(|t| when(t, now, tz, lang))
            .unwrap_or_else(|| "?".into());
        let _ = writeln!(
            o,
            "{}",
            tr!(
                lang,
                "CHÚ Ý: dịch vụ thu thập (loa district collect) không ghi gì từ {last}: các số liệu dưới đây có thể đã cũ. Hãy kiểm tra: sudo systemctl status loa-district-collect",
                "NOTE: the collector (loa district collect) has written nothing since {last}: what follows may be out of date. Check: sudo systemctl status loa-district-collect"
            )
        );
    } else if let Some(c) = c.filter(|c| !c.connected) {
        let since = c.since.map(|t| when(t, now, tz, lang)).unwrap_or_default();
        let _ = writeln!(
            o,
            "{}",
            tr!(
                lang,
                "CHÚ Ý: dịch vụ thu thập mất kết nối với máy chủ MQTT từ {since}; nó đang thử kết nối lại.",
                "NOTE: the collector has lost the broker since {since}; it is trying again."
            )
        );
    }
}

/// Aligned columns (by characters); the last one not padded.
fn columns(o: &mut String, header: &[String; 8], rows: &[[String; 8]]) {
    let widths: Vec<usize> = (0..8)
        .map(|i| {
            std::iter::once(header)
                .chain(rows)
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for r in std::iter::once(header).chain(rows) {
        let mut line = String::new();
        for (i, cell) in r.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < r.len() {
                line.extend(std::iter::repeat_n(
                    ' ',
                    widths[i] - cell.chars().count() + 2,
                ));
            }
        }
        let _ = writeln!(o, "{}", line.trim_end());
    }
}

/// The board as JSON: "now", "source" ("database" or "broker") and
/// "boxes", in the board's order, each with "box", "online" (null when
/// unknown), "online_since", "groups", "status_at", "status_age_s",
/// "silent", "clock_synced", "relay_on", "playing", "next", "last_error",
/// "last_error_at" and the whole "status" as the box sent it.
pub fn json(known: &Known, now: Timestamp, tz: &TimeZone) -> Value {
    let t = |t: Option<Timestamp>| t.map(|t| crate::schedule::rfc3339(t, tz));
    let boxes: Vec<Value> = views(&known.boxes, now)
        .iter()
        .map(|v| {
            let s = v.status.as_ref();
            json!({
                "box": v.row.name,
                "online": v.row.online,
                "online_since": t(v.row.online_since),
                "groups": v.row.groups,
                "status_at": t(v.row.status_at),
                "status_age_s": v.age.map(|a| a.as_secs()),
                "silent": v.silent,
                "clock_synced": s.map(|s| s.clock_synced),
                "relay_on": s.map(|s| s.relay.on),
                "playing": s.and_then(|s| s.playing.as_ref()).map(|p| &p.file),
                "next": s.and_then(|s| s.next.as_ref()).map(|n| json!({"title": n.title, "at": n.at})),
                "last_error": s.and_then(|s| s.last_error.as_ref()),
                "last_error_at": s.and_then(|s| s.last_error_at.as_ref()),
                "status": v.row.status,
            })
        })
        .collect();
    let collector = match &known.source {
        Source::Database(Some(c)) => json!({
            "alive": t(c.alive), "connected": c.connected, "since": t(c.since), "stopped": c.stopped
        }),
        _ => Value::Null,
    };
    json!({
        "now": crate::schedule::rfc3339(now, tz),
        "source": match known.source { Source::Database(_) => "database", Source::Broker => "broker" },
        "collector": collector,
        "boxes": boxes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(now: &str, synced: bool) -> Value {
        json!({"now": now, "clock_synced": synced, "relay": {"on": false, "backend": "sim"},
               "next": {"title": "Bản tin chiều", "at": "2026-11-02T17:00:00+07:00",
                        "relay_on": "2026-11-02T16:59:57+07:00"},
               "box": "x", "groups": ["ven-bien"]})
    }

    fn row(name: &str, online: Option<bool>, now: Option<&str>) -> BoxRow {
        BoxRow {
            name: name.into(),
            online,
            online_since: None,
            status: now.map(|n| status(n, true)),
            status_at: now.map(|n| n.parse().unwrap()),
            groups: vec![],
        }
    }

    #[test]
    fn silent_boxes_stand_out_first() {
        let now: Timestamp = "2026-11-02T03:10:00Z".parse().unwrap();
        let boxes = vec![
            row("xa-a", Some(true), Some("2026-11-02T10:09:40+07:00")),
            row("xa-b", Some(true), Some("2026-11-02T10:03:00+07:00")),
            row("xa-c", Some(false), Some("2026-11-02T09:50:00+07:00")),
            row("xa-d", Some(true), None),
        ];
        let order: Vec<&str> = views(&boxes, now)
            .iter()
            .map(|v| v.row.name.as_str())
            .collect();
        assert_eq!(order, ["xa-d", "xa-c", "xa-b", "xa-a"]);
        let tz = TimeZone::get("Asia/Ho_Chi_Minh").unwrap();
        let known = Known {
            boxes,
            source: Source::Broker,
        };
        let t = text(&known, now, &tz, Lang::En);
        assert!(
            t.contains("SILENT 7 min") && t.contains("SILENT 20 min"),
            "{t}"
        );
        assert!(
            t.contains("20 s ago") && t.contains("17:00 Bản tin chiều"),
            "{t}"
        );
        assert!(t.contains("4 boxes, 3 online, 1 offline, 3 silent"), "{t}");
        let vi = text(&known, now, &tz, Lang::Vi);
        assert!(
            vi.contains("IM LẶNG 7 phút") && vi.contains("MẤT KẾT NỐI"),
            "{vi}"
        );
        let j = json(&known, now, &tz);
        assert_eq!(j["boxes"][2]["box"], "xa-b");
        assert_eq!(j["boxes"][2]["silent"], true);
        assert_eq!(j["boxes"][3]["status_age_s"], 20);
    }

    // Issue 17: the board answers in under a second for 200 boxes from
    // the collector's database.
    #[test]
    fn two_hundred_boxes_from_the_database_in_well_under_a_second() {
        let dir = tempfile::tempdir().unwrap();
        let now = Timestamp::now();
        {
            let s = Store::open(dir.path()).unwrap();
            for i in 0..200 {
                let name = format!("xa-{i:03}");
                s.put_online(&name, i % 7 != 0, false, now).unwrap();
                let st = status(&crate::schedule::rfc3339(now, &TimeZone::UTC), i % 5 != 0);
                s.put_status(&name, &st, false, now).unwrap();
            }
            s.heartbeat(true, now).unwrap();
        }
        let t = std::time::Instant::now();
        let known = from_store(dir.path(), Lang::Vi).unwrap().unwrap();
        let out = text(&known, Timestamp::now(), &TimeZone::UTC, Lang::Vi);
        assert!(
            t.elapsed() < Duration::from_millis(500),
            "{:?}",
            t.elapsed()
        );
        assert_eq!(out.lines().count(), 202, "{out}");
        assert!(!out.contains("CHÚ Ý"), "{out}");
    }
}
