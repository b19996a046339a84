//! `loa report --from D --to D [--format md|csv]`: the periodic report a
//! commune sends up to the district or province about its information
//! campaign, from the as-run log: per day and in total, the broadcasts and
//! items aired and the minutes on air, the missed, failed, interrupted and
//! skipped items; the same per tag (campaign phase); and the missed and
//! failed items with their reasons. Headings and words are in the
//! operator's language; the sums follow the rules in [`crate::asrun::report`].
//!
//! # Markdown (`--format md`, the default)
//! A title, the range of days, then three sections: per day (every day of
//! the range, then a bold total row), per tag, and the missed or failed
//! items (day, time, broadcast, file, status, reason).
//!
//! # CSV (`--format csv`)
//! RFC 4180: comma-separated, CRLF line ends, fields quoted when they hold
//! a comma, a quote or a line end. One header row, then one row per day of
//! the range, one total row, one row per tag, and one row per missed or
//! failed item. The columns (header in Vietnamese / English):
//!
//! | # | vi | en | holds |
//! |---|----|----|-------|
//! | 1 | loại | kind | ngày/day, tổng cộng/total, chủ đề/tag, chi tiết/item |
//! | 2 | ngày | date | YYYY-MM-DD (day and item rows) |
//! | 3 | chủ đề | tag | the tag (tag rows; empty for the untagged items) |
//! | 4 | buổi phát | broadcasts | broadcasts with an item played |
//! | 5 | bản tin đã phát | items_aired | items played |
//! | 6 | số phút phát | minutes_aired | minutes on air, one decimal, "." |
//! | 7 | số giây phát | seconds_aired | seconds on air, rounded |
//! | 8 | bị lỡ | missed | items missed |
//! | 9 | lỗi | failed | items failed |
//! | 10 | bị ngắt | interrupted | items cut off |
//! | 11 | bỏ qua | skipped | items skipped |
//! | 12 | giờ | time | item rows: scheduled (else started) local HH:MM:SS |
//! | 13 | buổi phát (tên) | broadcast | item rows: the broadcast's title |
//! | 14 | tệp | file | item rows: the file |
//! | 15 | tình trạng | status | item rows: missed / failed, in words |
//! | 16 | lý do | reason | item rows: why |
//!
//! Columns 4 to 11 are empty on item rows, 12 to 16 on the others.

use std::fmt::Write as _;
use std::path::Path;

use jiff::tz::TimeZone;

use super::context;
use super::exit;
use super::log::{date_range, day_name, short_date};
use crate::asrun::report::{Summary, Totals};
use crate::asrun::{ItemRecord, Row};
use crate::lang::Lang;
use crate::schedule::local_time;
use crate::tr;

/// The output formats `--format` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `md`: a Markdown document.
    Markdown,
    /// `csv`: one row per item, for a spreadsheet.
    Csv,
}

impl Format {
    /// The format named `s` ("md", "markdown", "csv", any case).
    pub fn parse(s: &str) -> Option<Format> {
        match s.trim().to_ascii_lowercase().as_str() {
            "md" | "markdown" => Some(Format::Markdown),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }
}

/// `loa report`: the commune's report over a range of days, in Markdown or CSV; the exit code.
pub fn run(config: Option<&Path>, from: &str, to: &str, format: &str) -> i32 {
    let Some(cfg) = context::config_or_say(config) else {
        return exit::CONFIG;
    };
    let lang = cfg.lang;
    let Some(fmt) = Format::parse(format) else {
        eprintln!(
            "{}",
            tr!(
                lang,
                "Không có định dạng --format \"{format}\"; hãy chọn md (Markdown) hoặc csv.",
                "there is no --format \"{format}\"; choose md (Markdown) or csv"
            )
        );
        return exit::CONFIG;
    };
    let (from, to) = match date_range(from, to, lang) {
        Ok(r) => r,
        Err(msg) => {
            eprintln!("{msg}");
            return exit::CONFIG;
        }
    };
    let rows = match super::log::read(&cfg, from, to) {
        Ok(Some(rows)) => rows,
        Ok(None) => {
            let state = crate::problem::display_path(&cfg.paths.state);
            eprintln!(
                "{}",
                tr!(
                    lang,
                    "Lưu ý: thư mục trạng thái {state} chưa có nhật ký phát (loa chưa phát gì), nên mọi số liệu trong báo cáo đều bằng 0.",
                    "note: no as-run log in the state folder {state} yet (loa has not aired anything): the report is all zeros"
                )
            );
            Vec::new()
        }
        Err(msg) => {
            eprintln!("{msg}");
            return exit::PROBLEMS;
        }
    };
    let summary = Summary::new(from, to, &rows);
    let out = match fmt {
        Format::Markdown => {
            let unsynced = rows.iter().filter(|r| !r.record.clock_synced).count();
            let mut md = markdown(&summary, &cfg.timezone_name, &cfg.tz, lang);
            md.push_str(&clock_note(cfg.schedule.require_clock_sync, unsynced, lang));
            md.push_str(&archive_note(&cfg, from, to));
            md
        }
        Format::Csv => csv(&summary, &cfg.tz, lang),
    };
    super::log::emit(&out);
    exit::OK
}

/// What the report's times rest on: the clock policy in force, and how
/// many rows were written while the kernel did not vouch for the clock.
fn clock_note(require_clock_sync: bool, unsynced: usize, lang: Lang) -> String {
    let note = match (require_clock_sync, unsynced) {
        (true, 0) => tr!(
            lang,
            "Giờ trong báo cáo theo đồng hồ đã được đồng bộ qua mạng (NTP); loa không phát khi đồng hồ chưa đồng bộ.",
            "The times in this report come from a clock synchronised over the network (NTP); loa airs nothing while the clock is not."
        ),
        (true, n) => tr!(
            lang,
            "Giờ trong báo cáo theo đồng hồ đã được đồng bộ qua mạng (NTP); {n} dòng được ghi khi đồng hồ chưa đồng bộ (các buổi bị lỡ vì thế).",
            "The times in this report come from a clock synchronised over the network (NTP); {n} row(s) were written while it was not (broadcasts missed for that reason)."
        ),
        (false, n) => tr!(
            lang,
            "Máy này đặt require-clock-sync = false (có đồng hồ chạy pin): loa phát theo đồng hồ của máy mà không chờ mạng xác nhận giờ; {n} dòng được ghi khi hệ thống chưa xác nhận giờ qua mạng.",
            "This box is set to require-clock-sync = false (it has a battery clock): loa airs by its own clock without waiting for the network to confirm the time; {n} row(s) were written while the system had not confirmed the time over the network."
        ),
    };
    format!("\n{note}\n")
}

/// How much of what aired is archived: the recordings of the period's
/// broadcasts, in minutes (a recording cut by a power cut counts by its
/// file's size).
fn archive_note(
    cfg: &crate::config::Config,
    from: jiff::civil::Date,
    to: jiff::civil::Date,
) -> String {
    let lang = cfg.lang;
    let rows: Vec<_> = super::log::archives(cfg, from, to).into_values().collect();
    let kbps = u64::from(cfg.archive.bitrate_kbps.max(1));
    let ms: u64 = rows
        .iter()
        .map(|r| match r.duration {
            Some(d) => d.as_millis() as u64,
            None => std::fs::metadata(cfg.paths.state.join(&r.path))
                .map(|m| m.len() * 8 / kbps)
                .unwrap_or(0),
        })
        .sum();
    let n = rows.len();
    let m = format!("{:.1}", ms as f64 / 60_000.0);
    let m = match lang {
        Lang::Vi => m.replace('.', ","),
        Lang::En => m,
    };
    let note = tr!(
        lang,
        "Số phút đã lưu trữ (bản ghi âm những gì đã phát, `loa archive`): {m} phút, {n} bản ghi.",
        "Minutes archived (recordings of what aired, `loa archive`): {m} minutes in {n} recordings."
    );
    format!("\n{note}\n")
}

/// Minutes with one decimal, in the language's notation ("12,5" / "12.5").
fn minutes(t: &Totals, lang: Lang) -> String {
    let m = format!("{:.1}", t.minutes());
    match lang {
        Lang::Vi => m.replace('.', ","),
        Lang::En => m,
    }
}

/// The names of the columns of totals, shared by the tables.
fn totals_header(lang: Lang) -> [&'static str; 7] {
    [
        lang.pick("Buổi phát", "Broadcasts"),
        lang.pick("Bản tin đã phát", "Items aired"),
        lang.pick("Số phút phát", "Minutes aired"),
        lang.pick("Bị lỡ", "Missed"),
        lang.pick("Lỗi", "Failed"),
        lang.pick("Bị ngắt", "Interrupted"),
        lang.pick("Bỏ qua", "Skipped"),
    ]
}

fn totals_cells(t: &Totals, lang: Lang) -> [String; 7] {
    [
        t.broadcasts.to_string(),
        t.items.to_string(),
        minutes(t, lang),
        t.missed.to_string(),
        t.failed.to_string(),
        t.interrupted.to_string(),
        t.skipped.to_string(),
    ]
}

/// A Markdown table cell: one line, pipes escaped.
fn cell(s: &str) -> String {
    s.replace(['\n', '\r'], " ").replace('|', "\\|")
}

/// The local time an item was due (else started).
fn item_time(r: &ItemRecord, tz: &TimeZone) -> String {
    r.scheduled
        .or(r.started)
        .map(|t| local_time(t, tz))
        .unwrap_or_default()
}

/// The reason shown for a missed or failed item.
fn item_reason(r: &ItemRecord, lang: Lang) -> String {
    super::log::reason(
        &Row {
            id: 0,
            record: r.clone(),
        },
        lang,
    )
}

fn untagged(lang: Lang) -> &'static str {
    lang.pick("(không có chủ đề)", "(no tag)")
}

/// The report as Markdown.
pub fn markdown(s: &Summary, zone: &str, tz: &TimeZone, lang: Lang) -> String {
    let mut o = String::new();
    let (f, t) = (short_date(s.from, lang), short_date(s.to, lang));
    let _ = writeln!(
        o,
        "# {}\n",
        lang.pick("BÁO CÁO KẾT QUẢ PHÁT THANH", "BROADCAST REPORT")
    );
    let _ = writeln!(
        o,
        "{}\n",
        tr!(
            lang,
            "Từ ngày {f} đến ngày {t} (giờ {zone})",
            "From {f} to {t} ({zone} time)"
        )
    );
    let head = totals_header(lang);
    let table_head = |o: &mut String, first: &str| {
        let _ = writeln!(o, "| {first} | {} |", head.join(" | "));
        let _ = writeln!(o, "|---|{}", "--:|".repeat(head.len()));
    };
    let _ = writeln!(o, "## {}\n", lang.pick("Theo ngày", "Per day"));
    table_head(&mut o, lang.pick("Ngày", "Day"));
    for (d, totals) in &s.days {
        let _ = writeln!(
            o,
            "| {} | {} |",
            day_name(*d, lang),
            totals_cells(totals, lang).join(" | ")
        );
    }
    let bold: Vec<String> = totals_cells(&s.total, lang)
        .iter()
        .map(|c| format!("**{c}**"))
        .collect();
    let _ = writeln!(
        o,
        "| **{}** | {} |\n",
        lang.pick("Tổng cộng", "Total"),
        bold.join(" | ")
    );

    let _ = writeln!(o, "## {}\n", lang.pick("Theo chủ đề", "Per tag"));
    if s.tags.is_empty() {
        let _ = writeln!(o, "{}\n", lang.pick("Không có.", "None."));
    } else {
        table_head(&mut o, lang.pick("Chủ đề", "Tag"));
        for (tag, totals) in &s.tags {
            let name = tag.as_deref().map(cell);
            let _ = writeln!(
                o,
                "| {} | {} |",
                name.as_deref().unwrap_or(untagged(lang)),
                totals_cells(totals, lang).join(" | ")
            );
        }
        let _ = writeln!(
            o,
            "\n{}\n",
            lang.pick(
                "Một buổi phát có thể thuộc nhiều chủ đề, nên tổng các dòng theo chủ đề có thể lớn hơn dòng tổng cộng.",
                "A broadcast may carry several tags, so the tag rows may add up to more than the total."
            )
        );
    }

    let _ = writeln!(
        o,
        "## {}\n",
        lang.pick("Các bản tin bị lỡ hoặc lỗi", "Missed or failed items")
    );
    if s.problems.is_empty() {
        let _ = writeln!(o, "{}", lang.pick("Không có.", "None."));
    } else {
        let _ = writeln!(
            o,
            "| {} |\n|---|---|---|---|---|---|",
            [
                lang.pick("Ngày", "Day"),
                lang.pick("Giờ", "Time"),
                lang.pick("Buổi phát", "Broadcast"),
                lang.pick("Tệp", "File"),
                lang.pick("Tình trạng", "Status"),
                lang.pick("Lý do", "Reason"),
            ]
            .join(" | ")
        );
        for r in &s.problems {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} |",
                short_date(r.day, lang),
                item_time(r, tz),
                cell(r.broadcast.as_deref().unwrap_or("—")),
                cell(&r.file),
                r.status.label(lang),
                cell(&item_reason(r, lang)),
            );
        }
    }
    o
}

/// One CSV field, quoted when it must be (RFC 4180).
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn csv_line(o: &mut String, fields: &[String]) {
    let line: Vec<String> = fields.iter().map(|f| field(f)).collect();
    o.push_str(&line.join(","));
    o.push_str("\r\n");
}

/// The report as CSV (columns in the module doc).
pub fn csv(s: &Summary, tz: &TimeZone, lang: Lang) -> String {
    let mut o = String::new();
    let header: [&str; 16] = match lang {
        Lang::Vi => [
            "loại",
            "ngày",
            "chủ đề",
            "buổi phát",
            "bản tin đã phát",
            "số phút phát",
            "số giây phát",
            "bị lỡ",
            "lỗi",
            "bị ngắt",
            "bỏ qua",
            "giờ",
            "buổi phát (tên)",
            "tệp",
            "tình trạng",
            "lý do",
        ],
        Lang::En => [
            "kind",
            "date",
            "tag",
            "broadcasts",
            "items_aired",
            "minutes_aired",
            "seconds_aired",
            "missed",
            "failed",
            "interrupted",
            "skipped",
            "time",
            "broadcast",
            "file",
            "status",
            "reason",
        ],
    };
    csv_line(&mut o, &header.map(String::from));
    let totals = |kind: &str, date: String, tag: &str, t: &Totals| {
        let mut f = vec![kind.to_string(), date, tag.to_string()];
        f.extend([
            t.broadcasts.to_string(),
            t.items.to_string(),
            format!("{:.1}", t.minutes()),
            ((t.aired_ms + 500) / 1000).to_string(),
            t.missed.to_string(),
            t.failed.to_string(),
            t.interrupted.to_string(),
            t.skipped.to_string(),
        ]);
        f.extend(std::iter::repeat_n(String::new(), 5));
        f
    };
    for (d, t) in &s.days {
        csv_line(
            &mut o,
            &totals(lang.pick("ngày", "day"), d.to_string(), "", t),
        );
    }
    csv_line(
        &mut o,
        &totals(lang.pick("tổng cộng", "total"), String::new(), "", &s.total),
    );
    for (tag, t) in &s.tags {
        let name = tag.as_deref().unwrap_or("");
        csv_line(
            &mut o,
            &totals(lang.pick("chủ đề", "tag"), String::new(), name, t),
        );
    }
    for r in &s.problems {
        let mut f = vec![
            lang.pick("chi tiết", "item").to_string(),
            r.day.to_string(),
            String::new(),
        ];
        f.extend(std::iter::repeat_n(String::new(), 8));
        f.extend([
            item_time(r, tz),
            r.broadcast.clone().unwrap_or_default(),
            r.file.clone(),
            r.status.label(lang).to_string(),
            item_reason(r, lang),
        ]);
        csv_line(&mut o, &f);
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asrun::{Priority, Status};
    use jiff::civil::date;

    fn rows() -> Vec<Row> {
        let t = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
        let base = ItemRecord {
            day: date(2026, 1, 20),
            broadcast_key: "2026-01-20 06:00:00 #0".into(),
            broadcast: Some("Bản tin sáng".into()),
            tags: vec!["dai-hoi".into()],
            file: "dai-hoi/ban-tin-1.mp3".into(),
            sha256: None,
            scheduled: Some(t("2026-01-20T06:00:00+07:00")),
            started: Some(t("2026-01-20T06:00:00+07:00")),
            ended: Some(t("2026-01-20T06:01:30+07:00")),
            status: Status::Played,
            priority: Priority::Normal,
            error: None,
            clock_synced: true,
            late: false,
        };
        let missed = ItemRecord {
            broadcast_key: "2026-01-20 18:00:00 #1".into(),
            broadcast: Some("Chiều, \"tin\" | mới".into()),
            scheduled: Some(t("2026-01-20T18:00:00+07:00")),
            started: None,
            ended: None,
            status: Status::Missed,
            error: Some("loa không chạy, mất điện".into()),
            ..base.clone()
        };
        vec![
            Row {
                id: 1,
                record: base,
            },
            Row {
                id: 2,
                record: missed,
            },
        ]
    }

    #[test]
    fn format_names() {
        assert_eq!(Format::parse("md"), Some(Format::Markdown));
        assert_eq!(Format::parse("CSV"), Some(Format::Csv));
        assert_eq!(Format::parse("pdf"), None);
    }

    #[test]
    fn markdown_in_vietnamese() {
        let s = Summary::new(date(2026, 1, 20), date(2026, 1, 21), &rows());
        let tz = TimeZone::fixed(jiff::tz::offset(7));
        let md = markdown(&s, "Asia/Ho_Chi_Minh", &tz, Lang::Vi);
        assert!(md.starts_with("# BÁO CÁO KẾT QUẢ PHÁT THANH\n"), "{md}");
        assert!(
            md.contains("Từ ngày 20/01/2026 đến ngày 21/01/2026"),
            "{md}"
        );
        assert!(
            md.contains("| Thứ Ba 20/01/2026 | 1 | 1 | 1,5 | 1 | 0 | 0 | 0 |"),
            "{md}"
        );
        assert!(md.contains("| Thứ Tư 21/01/2026 | 0 | 0 | 0,0 |"), "{md}");
        assert!(
            md.contains("| **Tổng cộng** | **1** | **1** | **1,5** | **1** |"),
            "{md}"
        );
        assert!(md.contains("| dai-hoi | 1 | 1 | 1,5 | 1 |"), "{md}");
        assert!(
            md.contains(
                "| 20/01/2026 | 18:00:00 | Chiều, \"tin\" \\| mới | dai-hoi/ban-tin-1.mp3 | bị lỡ | loa không chạy, mất điện |"
            ),
            "{md}"
        );
    }

    #[test]
    fn csv_is_rfc_4180() {
        let s = Summary::new(date(2026, 1, 20), date(2026, 1, 21), &rows());
        let tz = TimeZone::fixed(jiff::tz::offset(7));
        let out = csv(&s, &tz, Lang::En);
        let lines: Vec<&str> = out.split("\r\n").collect();
        assert_eq!(
            lines[0],
            "kind,date,tag,broadcasts,items_aired,minutes_aired,seconds_aired,missed,failed,interrupted,skipped,time,broadcast,file,status,reason"
        );
        assert_eq!(lines[1], "day,2026-01-20,,1,1,1.5,90,1,0,0,0,,,,,");
        assert_eq!(lines[2], "day,2026-01-21,,0,0,0.0,0,0,0,0,0,,,,,");
        assert_eq!(lines[3], "total,,,1,1,1.5,90,1,0,0,0,,,,,");
        assert_eq!(lines[4], "tag,,dai-hoi,1,1,1.5,90,1,0,0,0,,,,,");
        assert_eq!(
            lines[5],
            "item,2026-01-20,,,,,,,,,,18:00:00,\"Chiều, \"\"tin\"\" | mới\",dai-hoi/ban-tin-1.mp3,missed,\"loa không chạy, mất điện\""
        );
        assert_eq!(lines[6], "");
        assert_eq!(lines.len(), 7);
        for l in &lines[..6] {
            assert_eq!(fields(l), 16, "{l}");
        }
    }

    /// Counts the fields of one CSV line, honouring quotes.
    fn fields(line: &str) -> usize {
        let mut n = 1;
        let mut quoted = false;
        for c in line.chars() {
            match c {
                '"' => quoted = !quoted,
                ',' if !quoted => n += 1,
                _ => {}
            }
        }
        n
    }
}
