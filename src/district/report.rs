//! `loa district report --from D --to D [--format md|csv]`: what every
//! commune's box aired over a range of days, from the collector's
//! database: per box and in total the broadcasts aired, the minutes on
//! air and the minutes relayed from live programmes (stream, line-in), the
//! items missed and failed with their reasons, and each emergency the
//! district sent with when each box aired it (or why it did not).
//!
//! Counted from the as-run rows the boxes sent (each box's row once,
//! however often it came): a broadcast is aired when at least one of its
//! items went out; minutes are the rows' `aired_s`; an emergency is the
//! district's when a box's "aired" answer names its rows, else the
//! commune's own.
//!
//! The CSV (UTF-8 with a byte-order mark, CRLF, as `loa report`'s) has
//! the columns kind, box, broadcasts, minutes_aired, minutes_relayed,
//! missed, failed, emergencies, day, time, broadcast, file, status,
//! reason, command (headers in the operator's language); kinds are box,
//! total, item (a missed or failed row), emergency (a box's outcome for a
//! district emergency) and local-emergency (a commune's own).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use super::store::{AckRow, AsRunRow, Store};
use crate::lang::Lang;
use crate::tr;

/// One box's figures (or the total's).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Figures {
    /// The box ("" for the total).
    pub name: String,
    /// Broadcasts with at least one item aired.
    pub broadcasts: usize,
    /// Seconds on air.
    pub aired_s: f64,
    /// Of those, relayed from a stream or the line-in.
    pub relayed_s: f64,
    /// Items missed.
    pub missed: usize,
    /// Items failed.
    pub failed: usize,
    /// Emergency broadcasts aired.
    pub emergencies: usize,
    /// As-run rows received for the period.
    pub rows: usize,
}

/// What became of a district emergency on one box.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Aired; when its first item started (the box's RFC 3339).
    Aired(Option<String>),
    /// Taken, its airing not reported.
    Accepted,
    /// Refused, with the box's reason.
    Rejected(String),
    /// It reached the box after it expired.
    Expired,
    /// Nothing heard from the box.
    NoAnswer,
}

/// A district emergency and each box's outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct Emergency {
    /// The command's id.
    pub id: String,
    /// Its files.
    pub files: Vec<String>,
    /// When it was sent (None when the collector did not see it sent).
    pub sent: Option<Timestamp>,
    /// Where to ("all", a box, "group:NAME"; "?" when not seen).
    pub target: String,
    /// Each box's outcome, by box.
    pub boxes: Vec<(String, Outcome)>,
}

/// The district's report.
#[derive(Clone, Debug)]
pub struct DistrictReport {
    /// First day.
    pub from: Date,
    /// Last day.
    pub to: Date,
    /// Per box, by name.
    pub boxes: Vec<Figures>,
    /// All boxes together.
    pub total: Figures,
    /// The missed and failed rows.
    pub problems: Vec<AsRunRow>,
    /// The district's emergencies, in the order sent.
    pub emergencies: Vec<Emergency>,
    /// The communes' own emergency rows.
    pub local_emergencies: Vec<AsRunRow>,
}

fn aired(r: &AsRunRow) -> bool {
    r.status == "played" || r.aired_s > 0.0
}

/// The local day's bounds in `tz`: its first and last millisecond.
fn bounds(from: Date, to: Date, tz: &TimeZone) -> (Timestamp, Timestamp) {
    let start = |d: Date| {
        tz.to_ambiguous_timestamp(d.to_datetime(jiff::civil::Time::midnight()))
            .compatible()
            .unwrap_or(Timestamp::UNIX_EPOCH)
    };
    let end = to
        .tomorrow()
        .map(start)
        .unwrap_or(Timestamp::MAX)
        .checked_sub(jiff::SignedDuration::from_millis(1))
        .unwrap_or(Timestamp::MAX);
    (start(from), end)
}

/// Builds the report from the database.
pub fn build(
    store: &Store,
    from: Date,
    to: Date,
    tz: &TimeZone,
) -> rusqlite::Result<DistrictReport> {
    let rows = store.asrun(&from.to_string(), &to.to_string())?;
    let known = store.boxes()?;
    let (start, end) = bounds(from, to, tz);
    let mut sent = store.commands("now", start, end)?;
    let mut ids: Vec<String> = sent.iter().map(|c| c.id.clone()).collect();
    let acks_in_range = store.acks(&store.answered(start, end)?)?;
    let aired_ids: BTreeSet<&str> = acks_in_range
        .iter()
        .filter(|a| a.status == "aired")
        .map(|a| a.id.as_str())
        .collect();
    for id in aired_ids {
        if !ids.iter().any(|i| i == id) {
            ids.push(id.to_string());
            if let Some(c) = store.command(id)? {
                sent.push(c);
            }
        }
    }
    let acks = store.acks(&ids)?;
    // The rows a district emergency aired, by (box, row id).
    let district_rows: BTreeSet<(String, i64)> = acks
        .iter()
        .filter(|a| a.status == "aired")
        .flat_map(|a| {
            a.rows
                .iter()
                .filter_map(|r| r.get("id").and_then(|v| v.as_i64()))
                .map(|id| (a.box_name.clone(), id))
        })
        .collect();
    let (boxes, total) = per_box(&known, &rows);
    let emergencies = sent
        .iter()
        .map(|c| {
            let mine: Vec<&AckRow> = acks.iter().filter(|a| a.id == c.id).collect();
            let target = super::send::Target::parse(&c.target, Lang::En).ok();
            let expected = known
                .iter()
                .filter(|b| target.as_ref().is_some_and(|t| t.includes(b)))
                .map(|b| b.name.clone());
            Emergency {
                id: c.id.clone(),
                files: c.files.clone(),
                sent: Some(c.sent),
                target: c.target.clone(),
                boxes: outcomes(expected, &mine),
            }
        })
        .chain(
            ids.iter()
                .filter(|id| !sent.iter().any(|c| &c.id == *id))
                .map(|id| {
                    let mine: Vec<&AckRow> = acks.iter().filter(|a| &a.id == id).collect();
                    let files = mine
                        .iter()
                        .flat_map(|a| a.rows.iter())
                        .filter_map(|r| r.get("file").and_then(|f| f.as_str()).map(String::from))
                        .collect::<BTreeSet<_>>()
                        .into_iter()
                        .collect();
                    Emergency {
                        id: id.clone(),
                        files,
                        sent: None,
                        target: "?".into(),
                        boxes: outcomes(std::iter::empty(), &mine),
                    }
                }),
        )
        .collect();
    let problems = rows
        .iter()
        .filter(|r| r.status == "missed" || r.status == "failed")
        .cloned()
        .collect();
    let local_emergencies = rows
        .iter()
        .filter(|r| {
            r.priority == "emergency" && !district_rows.contains(&(r.box_name.clone(), r.id))
        })
        .cloned()
        .collect();
    Ok(DistrictReport {
        from,
        to,
        boxes,
        total,
        problems,
        emergencies,
        local_emergencies,
    })
}

/// Each box's figures (every known box, with or without rows), and the
/// total.
fn per_box(known: &[super::store::BoxRow], rows: &[AsRunRow]) -> (Vec<Figures>, Figures) {
    let mut figures: BTreeMap<String, Figures> = known
        .iter()
        .map(|b| {
            let f = Figures {
                name: b.name.clone(),
                ..Figures::default()
            };
            (b.name.clone(), f)
        })
        .collect();
    let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
    let mut emergency_seen: BTreeSet<(String, String)> = BTreeSet::new();
    for r in rows {
        let f = figures
            .entry(r.box_name.clone())
            .or_insert_with(|| Figures {
                name: r.box_name.clone(),
                ..Figures::default()
            });
        f.rows += 1;
        f.aired_s += r.aired_s;
        if r.kind == "stream" || r.kind == "line-in" {
            f.relayed_s += r.aired_s;
        }
        f.missed += usize::from(r.status == "missed");
        f.failed += usize::from(r.status == "failed");
        let key = (
            r.box_name.clone(),
            format!("{}/{}", r.day, r.broadcast_key.as_deref().unwrap_or("")),
        );
        if aired(r) && seen.insert(key.clone()) {
            f.broadcasts += 1;
        }
        if r.priority == "emergency" && aired(r) && emergency_seen.insert(key) {
            f.emergencies += 1;
        }
    }
    let boxes: Vec<Figures> = figures.into_values().collect();
    let total = boxes.iter().fold(Figures::default(), |mut t, f| {
        t.broadcasts += f.broadcasts;
        t.aired_s += f.aired_s;
        t.relayed_s += f.relayed_s;
        t.missed += f.missed;
        t.failed += f.failed;
        t.emergencies += f.emergencies;
        t.rows += f.rows;
        t
    });
    (boxes, total)
}

/// Each box's outcome: the expected boxes and those that answered.
fn outcomes(expected: impl Iterator<Item = String>, acks: &[&AckRow]) -> Vec<(String, Outcome)> {
    let mut by_box: BTreeMap<String, Outcome> = expected.map(|b| (b, Outcome::NoAnswer)).collect();
    for a in acks {
        let rank = |o: &Outcome| match o {
            Outcome::Aired(_) => 4,
            Outcome::Rejected(_) => 3,
            Outcome::Expired => 2,
            Outcome::Accepted => 1,
            Outcome::NoAnswer => 0,
        };
        let o = match a.status.as_str() {
            "aired" => {
                let first = a
                    .rows
                    .iter()
                    .filter_map(|r| r.get("started").and_then(|s| s.as_str()))
                    .min()
                    .map(String::from)
                    .or_else(|| a.at.clone());
                Outcome::Aired(first)
            }
            "rejected" => Outcome::Rejected(a.error.clone().unwrap_or_default()),
            "expired" => Outcome::Expired,
            _ => Outcome::Accepted,
        };
        let e = by_box
            .entry(a.box_name.clone())
            .or_insert(Outcome::NoAnswer);
        if rank(&o) > rank(e) {
            *e = o;
        }
    }
    by_box.into_iter().collect()
}

/// Minutes with one decimal ("412,5" in Vietnamese).
fn minutes(s: f64, lang: Lang) -> String {
    let m = format!("{:.1}", s / 60.0);
    match lang {
        Lang::Vi => m.replace('.', ","),
        Lang::En => m,
    }
}

/// A box's RFC 3339 time as local "HH:MM:SS" (the text as sent when it
/// does not read).
fn local(t: Option<&str>, tz: &TimeZone) -> String {
    t.map(|s| {
        s.parse::<Timestamp>()
            .map(|t| crate::schedule::local_time(t, tz))
            .unwrap_or_else(|_| s.to_string())
    })
    .unwrap_or_default()
}

/// A box's RFC 3339 time as the local date.
fn local_day(t: &str, tz: &TimeZone, lang: Lang) -> String {
    t.parse::<Timestamp>()
        .map(|t| crate::lang::date(tz.to_offset(t).to_datetime(t).date(), lang))
        .unwrap_or_default()
}

fn status_word(s: &str, lang: Lang) -> String {
    serde_json::from_value::<crate::asrun::Status>(serde_json::Value::from(s))
        .map(|s| s.label(lang).to_string())
        .unwrap_or_else(|_| s.to_string())
}

fn reason(r: &AsRunRow, lang: Lang) -> String {
    match &r.error {
        Some(e) => e.replace(['\n', '\r'], " "),
        None if r.status == "missed" => lang
            .pick(
                "không phát vào giờ đã định (máy tắt, mất điện hoặc loa không chạy)",
                "not aired at its time (the box off, a power cut, or loa not running)",
            )
            .into(),
        None => String::new(),
    }
}

fn outcome_words(o: &Outcome, tz: &TimeZone, lang: Lang) -> (String, String, String) {
    match o {
        Outcome::Aired(at) => (
            lang.pick("đã phát", "aired").into(),
            at.as_deref()
                .map(|t| format!("{} {}", local_day(t, tz, lang), local(Some(t), tz)))
                .unwrap_or_default(),
            String::new(),
        ),
        Outcome::Accepted => (
            lang.pick("đã nhận, chưa báo đã phát", "accepted, airing not reported")
                .into(),
            String::new(),
            String::new(),
        ),
        Outcome::Rejected(e) => (
            lang.pick("từ chối", "rejected").into(),
            String::new(),
            e.replace(['\n', '\r'], " "),
        ),
        Outcome::Expired => (
            lang.pick(
                "hết hạn trước khi đến máy",
                "expired before it reached the box",
            )
            .into(),
            String::new(),
            String::new(),
        ),
        Outcome::NoAnswer => (
            lang.pick("không trả lời", "no answer").into(),
            String::new(),
            String::new(),
        ),
    }
}

fn md_cell(s: &str) -> String {
    s.replace(['\n', '\r'], " ").replace('|', "\\|")
}

fn md_row(o: &mut String, cells: &[String]) {
    let cells: Vec<String> = cells.iter().map(|c| md_cell(c)).collect();
    let _ = writeln!(o, "| {} |", cells.join(" | "));
}

/// The report as Markdown.
pub fn markdown(r: &DistrictReport, tz: &TimeZone, lang: Lang) -> String {
    let mut o = String::new();
    let (f, t) = (
        crate::lang::date(r.from, lang),
        crate::lang::date(r.to, lang),
    );
    let _ = writeln!(
        o,
        "# {}\n",
        lang.pick("BÁO CÁO PHÁT THANH TOÀN HUYỆN", "DISTRICT BROADCAST REPORT")
    );
    let _ = writeln!(
        o,
        "**{}**\n",
        tr!(lang, "Từ ngày {f} đến ngày {t}", "From {f} to {t}")
    );
    let tt = &r.total;
    let (n, b, m, rl, mi, fa) = (
        r.boxes.len(),
        tt.broadcasts,
        minutes(tt.aired_s, lang),
        minutes(tt.relayed_s, lang),
        tt.missed,
        tt.failed,
    );
    let e = r.emergencies.len();
    let _ = writeln!(
        o,
        "{}\n",
        tr!(
            lang,
            "{n} máy (xã) đã phát {b} buổi, {m} phút, trong đó {rl} phút tiếp sóng; {mi} bản tin bị lỡ, {fa} bản tin bị lỗi; huyện đã gửi {e} tin khẩn cấp.",
            "{n} boxes (communes) aired {b} broadcasts, {m} minutes, of which {rl} minutes relayed; {mi} items missed, {fa} failed; the district sent {e} emergencies."
        )
    );
    let _ = writeln!(o, "## 1. {}\n", lang.pick("Theo từng xã", "Per commune"));
    let head = [
        lang.pick("Máy (xã)", "Box (commune)"),
        lang.pick("Buổi phát", "Broadcasts"),
        lang.pick("Phút đã phát", "Minutes aired"),
        lang.pick("Phút tiếp sóng", "Minutes relayed"),
        lang.pick("Bị lỡ", "Missed"),
        lang.pick("Lỗi", "Failed"),
        lang.pick("Khẩn cấp", "Emergencies"),
    ];
    let _ = writeln!(
        o,
        "| {} |\n|---|{}",
        head.join(" | "),
        "--:|".repeat(head.len() - 1)
    );
    let line = |o: &mut String, name: String, f: &Figures| {
        md_row(
            o,
            &[
                name,
                f.broadcasts.to_string(),
                minutes(f.aired_s, lang),
                minutes(f.relayed_s, lang),
                f.missed.to_string(),
                f.failed.to_string(),
                f.emergencies.to_string(),
            ],
        );
    };
    for f in &r.boxes {
        line(&mut o, f.name.clone(), f);
    }
    line(
        &mut o,
        format!("**{}**", lang.pick("Tổng cộng", "Total")),
        tt,
    );
    let silent: Vec<&str> = r
        .boxes
        .iter()
        .filter(|f| f.rows == 0)
        .map(|f| f.name.as_str())
        .collect();
    if !silent.is_empty() {
        let list = silent.join(", ");
        let _ = writeln!(
            o,
            "\n{}",
            tr!(
                lang,
                "Không nhận được dòng nhật ký phát nào trong kỳ từ: {list}.",
                "No as-run row came for this period from: {list}."
            )
        );
    }
    problems_md(&mut o, r, tz, lang);
    emergencies_md(&mut o, r, tz, lang);
    o
}

fn problems_md(o: &mut String, r: &DistrictReport, tz: &TimeZone, lang: Lang) {
    let _ = writeln!(
        o,
        "\n## 2. {}\n",
        lang.pick("Bản tin bị lỡ và bị lỗi", "Items missed and failed")
    );
    if r.problems.is_empty() {
        let _ = writeln!(o, "{}", lang.pick("Không có.", "None."));
        return;
    }
    let head = [
        lang.pick("Máy (xã)", "Box (commune)"),
        lang.pick("Ngày", "Day"),
        lang.pick("Giờ", "Time"),
        lang.pick("Buổi phát", "Broadcast"),
        lang.pick("Tệp", "File"),
        lang.pick("Tình trạng", "Status"),
        lang.pick("Lý do", "Reason"),
    ];
    let _ = writeln!(
        o,
        "| {} |\n|{}",
        head.join(" | "),
        "---|".repeat(head.len())
    );
    for p in &r.problems {
        md_row(o, &item_cells(p, tz, lang));
    }
}

/// A row's cells: box, day, time, broadcast, file, status, reason.
fn item_cells(p: &AsRunRow, tz: &TimeZone, lang: Lang) -> [String; 7] {
    let day = p
        .day
        .parse::<Date>()
        .map(|d| crate::lang::date(d, lang))
        .unwrap_or_else(|_| p.day.clone());
    [
        p.box_name.clone(),
        day,
        local(p.started.as_deref().or(p.scheduled.as_deref()), tz),
        p.broadcast.clone().unwrap_or_else(|| "—".into()),
        p.file.clone().unwrap_or_default(),
        status_word(&p.status, lang),
        reason(p, lang),
    ]
}

fn emergencies_md(o: &mut String, r: &DistrictReport, tz: &TimeZone, lang: Lang) {
    let _ = writeln!(
        o,
        "\n## 3. {}\n",
        lang.pick("Tin khẩn cấp của huyện", "The district's emergencies")
    );
    if r.emergencies.is_empty() {
        let _ = writeln!(o, "{}", lang.pick("Không có.", "None."));
    }
    for (i, e) in r.emergencies.iter().enumerate() {
        let files = e.files.join(", ");
        let id = &e.id;
        let target = super::send::Target::parse(&e.target, Lang::En)
            .map_or_else(|_| e.target.clone(), |t| t.shown(lang));
        let sent = e
            .sent
            .map(|t| crate::lang::date_time(t, tz, lang))
            .unwrap_or_else(|| "?".into());
        let aired = e
            .boxes
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::Aired(_)))
            .count();
        let n = e.boxes.len();
        if i > 0 {
            o.push('\n');
        }
        let _ = writeln!(
            o,
            "### 3.{} {}\n",
            i + 1,
            tr!(
                lang,
                "{files}: gửi lúc {sent} tới {target} ({id}); {aired}/{n} máy đã phát",
                "{files}: sent {sent} to {target} ({id}); aired by {aired}/{n} boxes"
            )
        );
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} |\n|---|---|---|---|",
            lang.pick("Máy (xã)", "Box (commune)"),
            lang.pick("Kết quả", "Outcome"),
            lang.pick("Phát lúc", "Aired at"),
            lang.pick("Lý do", "Reason")
        );
        for (b, out) in &e.boxes {
            let (w, at, why) = outcome_words(out, tz, lang);
            md_row(o, &[b.clone(), w, at, why]);
        }
    }
    let _ = writeln!(
        o,
        "\n## 4. {}\n",
        lang.pick(
            "Tin khẩn cấp do xã tự phát",
            "The communes' own emergencies"
        )
    );
    if r.local_emergencies.is_empty() {
        let _ = writeln!(o, "{}", lang.pick("Không có.", "None."));
        return;
    }
    let _ = writeln!(
        o,
        "| {} | {} | {} | {} | {} |\n|---|---|---|---|---|",
        lang.pick("Máy (xã)", "Box (commune)"),
        lang.pick("Ngày", "Day"),
        lang.pick("Giờ", "Time"),
        lang.pick("Tệp", "File"),
        lang.pick("Tình trạng", "Status")
    );
    for p in &r.local_emergencies {
        let c = item_cells(p, tz, lang);
        md_row(
            o,
            &[
                c[0].clone(),
                c[1].clone(),
                c[2].clone(),
                c[4].clone(),
                c[5].clone(),
            ],
        );
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The report as CSV (see the module's head).
pub fn csv(r: &DistrictReport, tz: &TimeZone, lang: Lang) -> String {
    let mut o = String::from(crate::report::csv::BOM);
    let header: [&str; 15] = match lang {
        Lang::Vi => [
            "loại",
            "máy",
            "buổi phát",
            "số phút phát",
            "số phút tiếp sóng",
            "bị lỡ",
            "lỗi",
            "khẩn cấp",
            "ngày",
            "giờ",
            "buổi phát (tên)",
            "tệp",
            "tình trạng",
            "lý do",
            "lệnh",
        ],
        Lang::En => [
            "kind",
            "box",
            "broadcasts",
            "minutes_aired",
            "minutes_relayed",
            "missed",
            "failed",
            "emergencies",
            "day",
            "time",
            "broadcast",
            "file",
            "status",
            "reason",
            "command",
        ],
    };
    let mut line = |fields: Vec<String>| {
        let mut v: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        v.resize(15, String::new());
        o.push_str(&v.join(","));
        o.push_str("\r\n");
    };
    line(header.iter().map(|s| s.to_string()).collect());
    // Minutes with a '.', whatever the language: a spreadsheet reads it.
    let figures = |kind: &str, f: &Figures| {
        vec![
            kind.to_string(),
            f.name.clone(),
            f.broadcasts.to_string(),
            format!("{:.1}", f.aired_s / 60.0),
            format!("{:.1}", f.relayed_s / 60.0),
            f.missed.to_string(),
            f.failed.to_string(),
            f.emergencies.to_string(),
        ]
    };
    for f in &r.boxes {
        line(figures(lang.pick("máy", "box"), f));
    }
    line(figures(lang.pick("tổng cộng", "total"), &r.total));
    let item = |kind: &str, p: &AsRunRow, command: String| {
        let c = item_cells(p, tz, lang);
        let mut v = vec![kind.to_string(), p.box_name.clone()];
        v.resize(8, String::new());
        v.extend([
            p.day.clone(),
            c[2].clone(),
            c[3].clone(),
            c[4].clone(),
            c[5].clone(),
            c[6].clone(),
            command,
        ]);
        v
    };
    for p in &r.problems {
        line(item(lang.pick("chi tiết", "item"), p, String::new()));
    }
    for e in &r.emergencies {
        for (b, out) in &e.boxes {
            let (w, _, why) = outcome_words(out, tz, lang);
            let (day, time) = match out {
                Outcome::Aired(Some(t)) => (
                    t.parse::<Timestamp>()
                        .map(|x| tz.to_offset(x).to_datetime(x).date().to_string())
                        .unwrap_or_default(),
                    local(Some(t), tz),
                ),
                _ => (String::new(), String::new()),
            };
            let mut v = vec![lang.pick("khẩn cấp", "emergency").to_string(), b.clone()];
            v.resize(8, String::new());
            v.extend([
                day,
                time,
                String::new(),
                e.files.join(" "),
                w,
                why,
                e.id.clone(),
            ]);
            line(v);
        }
    }
    for p in &r.local_emergencies {
        line(item(
            lang.pick("khẩn cấp của xã", "local-emergency"),
            p,
            String::new(),
        ));
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::district::proto::{Ack, AckStatus, Command, CommandKind};
    use serde_json::json;

    fn row(
        id: i64,
        status: &str,
        priority: &str,
        kind: &str,
        aired_s: f64,
        key: &str,
    ) -> serde_json::Value {
        json!({"id": id, "day": "2026-11-02", "status": status, "priority": priority, "kind": kind,
               "aired_s": aired_s, "broadcast_key": key, "file": format!("f{id}.mp3"),
               "started": "2026-11-02T10:00:05+07:00", "ended": "2026-11-02T10:01:05+07:00",
               "error": if status == "failed" { json!("sound card gone") } else { json!(null) }})
    }

    #[test]
    fn figures_per_box_and_the_districts_emergency() {
        let s = Store::in_memory();
        let now: Timestamp = "2026-11-02T03:00:00Z".parse().unwrap();
        for b in ["xa-a", "xa-b", "xa-c"] {
            s.put_online(b, true, false, now).unwrap();
        }
        for (b, r) in [
            ("xa-a", row(1, "played", "normal", "file", 60.0, "0530")),
            ("xa-a", row(2, "played", "normal", "file", 30.0, "0530")),
            ("xa-a", row(3, "played", "normal", "stream", 600.0, "1700")),
            ("xa-a", row(3, "played", "normal", "stream", 600.0, "1700")),
            ("xa-a", row(4, "played", "emergency", "file", 20.0, "now-1")),
            ("xa-b", row(1, "missed", "normal", "file", 0.0, "0530")),
            ("xa-b", row(2, "failed", "normal", "file", 0.0, "1700")),
            ("xa-b", row(3, "played", "emergency", "file", 15.0, "own")),
        ] {
            s.put_asrun(b, &r, now).unwrap();
        }
        let cmd = Command {
            id: "now-1".into(),
            command: CommandKind::Now,
            files: vec!["bao.mp3".into()],
            zones: vec![],
            expires: None,
            media: vec![],
            playlist: None,
            say: None,
            voice: None,
        };
        s.put_command("all", &cmd, now).unwrap();
        let ack = |status, rows| Ack {
            id: "now-1".into(),
            status,
            error: None,
            at: "2026-11-02T10:00:06+07:00".into(),
            r#box: String::new(),
            rows,
        };
        s.put_ack("xa-a", &ack(AckStatus::Accepted, vec![]), now)
            .unwrap();
        s.put_ack(
            "xa-a",
            &ack(
                AckStatus::Aired,
                vec![row(4, "played", "emergency", "file", 20.0, "now-1")],
            ),
            now,
        )
        .unwrap();
        s.put_ack("xa-b", &ack(AckStatus::Expired, vec![]), now)
            .unwrap();
        let tz = TimeZone::get("Asia/Ho_Chi_Minh").unwrap();
        let d: Date = "2026-11-02".parse().unwrap();
        let r = build(&s, d, d, &tz).unwrap();
        let a = &r.boxes[0];
        assert_eq!(
            (a.broadcasts, a.aired_s, a.relayed_s, a.emergencies),
            (3, 710.0, 600.0, 1)
        );
        let b = &r.boxes[1];
        assert_eq!(
            (b.broadcasts, b.missed, b.failed, b.emergencies),
            (1, 1, 1, 1)
        );
        assert_eq!(r.total.broadcasts, 4);
        assert_eq!(r.problems.len(), 2);
        let e = &r.emergencies[0];
        assert_eq!(
            e.boxes,
            vec![
                (
                    "xa-a".into(),
                    Outcome::Aired(Some("2026-11-02T10:00:05+07:00".into()))
                ),
                ("xa-b".into(), Outcome::Expired),
                ("xa-c".into(), Outcome::NoAnswer),
            ]
        );
        assert_eq!(r.local_emergencies.len(), 1);
        let md = markdown(&r, &tz, Lang::Vi);
        assert!(
            md.contains("| xa-a | 3 | 11,8 | 10,0 | 0 | 0 | 1 |"),
            "{md}"
        );
        assert!(
            md.contains("| xa-a | đã phát | 02/11/2026 10:00:05 |"),
            "{md}"
        );
        assert!(md.contains("| xa-c | 0 | 0,0 | 0,0 | 0 | 0 | 0 |"), "{md}");
        assert!(
            md.contains("Không nhận được dòng nhật ký phát nào trong kỳ từ: xa-c."),
            "{md}"
        );
        let csv = csv(&r, &tz, Lang::En);
        assert!(csv.starts_with('\u{feff}'));
        assert!(
            csv.contains("box,xa-a,3,11.8,10.0,0,0,1,,,,,,,\r\n"),
            "{csv}"
        );
        assert!(
            csv.contains("item,xa-b,,,,,,,2026-11-02,10:00:05,—,f2.mp3,failed,sound card gone,"),
            "{csv}"
        );
        assert!(
            csv.contains("emergency,xa-a,,,,,,,2026-11-02,10:00:05,,bao.mp3,aired,,now-1"),
            "{csv}"
        );
    }
}
