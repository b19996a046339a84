//! The report as CSV for a spreadsheet: UTF-8 with a byte-order mark (so
//! that Excel on a Vietnamese Windows reads the diacritics right), CRLF line
//! ends, fields separated by `,` (or `;` with `--separator ';'`, for
//! locales whose decimal mark is the comma) and quoted when they hold the
//! separator, a quote or a line end (RFC 4180).
//!
//! One header row, then one row per day shown, one total row, one row per
//! campaign phase, one row per zone (when the config declares zones), and
//! one row per missed or failed item. The columns (header in Vietnamese /
//! English):
//!
//! | # | vi | en | holds |
//! |---|----|----|-------|
//! | 1 | loại | kind | ngày/day, tổng cộng/total, chủ đề/tag, vùng/zone, chi tiết/item |
//! | 2 | ngày | date | YYYY-MM-DD (day and item rows) |
//! | 3 | chủ đề | tag | the tag as playlists write it (tag rows; empty for the untagged) |
//! | 4 | buổi phát | broadcasts | broadcasts that aired (scheduled and outside the schedule) |
//! | 5 | bản tin đã phát | items_aired | items played to their end, jingles included |
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
//! | 17 | buổi theo lịch | scheduled_broadcasts | broadcasts the schedule had |
//! | 18 | buổi theo lịch đã phát | scheduled_aired | of those, aired |
//! | 19 | bản tin (không tính nhạc hiệu) | bulletins | items played, jingles not counted |
//! | 20 | số phút theo lịch | minutes_scheduled | minutes the schedule had, one decimal |
//! | 21 | số phút tiếp sóng | minutes_relayed | minutes relayed, one decimal |
//! | 22 | tên chủ đề | phase | the phase's readable name (tag rows) |
//! | 23 | vùng | zone | the zone's name (zone rows) |
//! | 24 | tên vùng | zone_title | the zone's title (zone rows) |
//!
//! Columns 4 to 11 and 17 to 21 are empty on item rows, 12 to 16 on the
//! others. Zone rows hold what aired to the zone: columns 4 to 7 and 19,
//! the others empty. Columns 23 and 24 are there only when the config
//! declares zones (without zones the file is as before them).

use super::{Figures, Report, ZoneLine};
use crate::lang::Lang;

/// The byte-order mark that opens the file.
pub const BOM: char = '\u{feff}';

/// One field, quoted when it must be.
fn field(s: &str, sep: char) -> String {
    if s.contains([sep, '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// One line of `width` fields: `fields`, then empty ones.
fn line(o: &mut String, fields: &[String], sep: char, width: usize) {
    let mut line: Vec<String> = fields.iter().map(|f| field(f, sep)).collect();
    line.resize(width.max(fields.len()), String::new());
    o.push_str(&line.join(&sep.to_string()));
    o.push_str("\r\n");
}

/// The zone columns' headers (23 and 24).
fn zone_header(lang: Lang) -> [&'static str; 2] {
    match lang {
        Lang::Vi => ["vùng", "tên vùng"],
        Lang::En => ["zone", "zone_title"],
    }
}

fn header(lang: Lang) -> [&'static str; 22] {
    match lang {
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
            "buổi theo lịch",
            "buổi theo lịch đã phát",
            "bản tin (không tính nhạc hiệu)",
            "số phút theo lịch",
            "số phút tiếp sóng",
            "tên chủ đề",
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
            "scheduled_broadcasts",
            "scheduled_aired",
            "bulletins",
            "minutes_scheduled",
            "minutes_relayed",
            "phase",
        ],
    }
}

/// Minutes with one decimal, ".".
fn min1(ms: i64) -> String {
    format!("{:.1}", ms as f64 / 60_000.0)
}

/// A row of figures: kind, date, tag, then the figures; `phase` last.
fn figures(kind: &str, date: String, tag: &str, f: &Figures, phase: &str) -> Vec<String> {
    let mut v = vec![kind.to_string(), date, tag.to_string()];
    v.extend([
        (f.aired_broadcasts + f.extra_broadcasts).to_string(),
        (f.bulletins + f.jingles).to_string(),
        min1(f.aired_ms),
        ((f.aired_ms + 500) / 1000).to_string(),
        f.missed.to_string(),
        f.failed.to_string(),
        f.interrupted.to_string(),
        f.skipped.to_string(),
    ]);
    v.extend(std::iter::repeat_n(String::new(), 5));
    v.extend([
        f.planned_broadcasts.to_string(),
        f.aired_broadcasts.to_string(),
        f.bulletins.to_string(),
        min1(f.planned_ms),
        min1(f.relayed_ms),
        phase.to_string(),
    ]);
    v
}

/// A zone's row: what aired to it, its name and title last.
fn zone_row(z: &ZoneLine, lang: Lang) -> Vec<String> {
    let mut v = vec![lang.pick("vùng", "zone").to_string()];
    v.extend(std::iter::repeat_n(String::new(), 2));
    v.extend([
        z.broadcasts.to_string(),
        z.items.to_string(),
        min1(z.aired_ms),
        ((z.aired_ms + 500) / 1000).to_string(),
    ]);
    v.extend(std::iter::repeat_n(String::new(), 11));
    v.push(z.bulletins.to_string());
    v.extend(std::iter::repeat_n(String::new(), 3));
    v.extend([z.name.clone(), z.title.clone()]);
    v
}

/// The CSV text (BOM included), fields separated by `sep`.
pub fn write(r: &Report, sep: char) -> String {
    let lang = r.lang;
    let mut o = String::new();
    o.push(BOM);
    let mut head: Vec<String> = header(lang).map(String::from).to_vec();
    if !r.zones.is_empty() {
        head.extend(zone_header(lang).map(String::from));
    }
    let width = head.len();
    line(&mut o, &head, sep, width);
    for d in &r.days {
        let kind = lang.pick("ngày", "day");
        line(
            &mut o,
            &figures(kind, d.date.to_string(), "", &d.figures, ""),
            sep,
            width,
        );
    }
    let kind = lang.pick("tổng cộng", "total");
    line(
        &mut o,
        &figures(kind, String::new(), "", &r.total, ""),
        sep,
        width,
    );
    for p in &r.phases {
        let kind = lang.pick("chủ đề", "tag");
        let tag = p.tag.as_deref().unwrap_or("");
        line(
            &mut o,
            &figures(kind, String::new(), tag, &p.figures, &p.name),
            sep,
            width,
        );
    }
    for z in &r.zones {
        line(&mut o, &zone_row(z, lang), sep, width);
    }
    for p in &r.problems {
        for i in &p.items {
            let mut v = vec![
                lang.pick("chi tiết", "item").to_string(),
                p.day.to_string(),
                String::new(),
            ];
            v.extend(std::iter::repeat_n(String::new(), 8));
            v.extend([
                format!("{}:00", p.time),
                p.title.clone(),
                i.file.clone(),
                i.status.label(lang).to_string(),
                i.reason.clone(),
            ]);
            v.extend(std::iter::repeat_n(String::new(), 6));
            line(&mut o, &v, sep, width);
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::super::{build, sample};
    use super::*;

    /// Splits one line into fields, honouring quotes.
    fn fields(line: &str, sep: char) -> Vec<String> {
        let mut out = vec![String::new()];
        let mut quoted = false;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '"' if quoted && chars.peek() == Some(&'"') => {
                    chars.next();
                    out.last_mut().unwrap().push('"');
                }
                '"' => quoted = !quoted,
                c if c == sep && !quoted => out.push(String::new()),
                c => out.last_mut().unwrap().push(c),
            }
        }
        out
    }

    #[test]
    fn the_sample_month_as_csv_with_a_bom() {
        let rows = sample::rows();
        let mut r = build(&sample::inputs(&rows));
        r.lang = Lang::En;
        let out = write(&r, ',');
        assert!(out.starts_with('\u{feff}'), "the BOM first");
        let lines: Vec<&str> = out.trim_start_matches(BOM).split("\r\n").collect();
        assert_eq!(lines[0].split(',').count(), 22);
        assert!(lines[0].starts_with("kind,date,tag,broadcasts,items_aired,minutes_aired"));
        // 05/11: the morning missed.
        assert_eq!(
            fields(lines[5], ','),
            [
                "day",
                "2026-11-05",
                "",
                "1",
                "1",
                "2.0",
                "120",
                "2",
                "0",
                "0",
                "0",
                "",
                "",
                "",
                "",
                "",
                "2",
                "1",
                "1",
                "4.0",
                "0.0",
                ""
            ]
        );
        let total = fields(lines[31], ',');
        assert_eq!(total[0], "total");
        assert_eq!((total[16].as_str(), total[17].as_str()), ("60", "57"));
        assert_eq!(total[6], "7395");
        assert_eq!(total[20], "10.0");
        let phase = fields(lines[32], ',');
        assert_eq!(
            (phase[2].as_str(), phase[21].as_str()),
            ("truoc-dai-hoi", "Trước Đại hội")
        );
        assert!(
            lines
                .iter()
                .all(|l| l.is_empty() || fields(l, ',').len() == 22)
        );
    }

    #[test]
    fn a_row_per_zone_when_zones_are_configured() {
        let rows = sample::zoned_rows();
        let mut r = build(&sample::zoned_inputs(&rows));
        r.lang = Lang::En;
        let out = write(&r, ',');
        let lines: Vec<&str> = out.trim_start_matches(BOM).split("\r\n").collect();
        assert!(lines[0].ends_with(",phase,zone,zone_title"), "{}", lines[0]);
        assert!(
            lines
                .iter()
                .all(|l| l.is_empty() || fields(l, ',').len() == 24)
        );
        let zones: Vec<Vec<String>> = lines
            .iter()
            .filter(|l| l.starts_with("zone,"))
            .map(|l| fields(l, ','))
            .collect();
        assert_eq!(zones.len(), 3);
        let mut want = vec![String::new(); 24];
        for (i, v) in [
            (0, "zone"),
            (3, "52"),
            (4, "77"),
            (6, "6675"),
            (18, "52"),
            (22, "thon-2"),
            (23, "Thôn Tây"),
        ] {
            want[i] = v.into();
        }
        want[5] = zones[1][5].clone();
        assert_eq!(zones[1], want);
        // 111.25 minutes, to one decimal.
        assert!((zones[1][5].parse::<f64>().unwrap() - 111.25).abs() <= 0.05);
        assert_eq!(zones[2][3..7], ["0", "0", "0.0", "0"]);
        // The zone rows after the phases, before the missed and failed.
        let first_zone = lines.iter().position(|l| l.starts_with("zone,")).unwrap();
        assert!(lines[first_zone - 1].starts_with("tag,"));
        assert!(lines[first_zone + 3].starts_with("item,"));
    }

    #[test]
    fn a_semicolon_separator_quotes_what_holds_one() {
        let rows = sample::rows();
        let mut r = build(&sample::inputs(&rows));
        r.problems[0].title = "Sáng; \"đặc biệt\"".into();
        let out = write(&r, ';');
        assert!(out.contains("\"Sáng; \"\"đặc biệt\"\"\""), "{out}");
        let first = out.trim_start_matches(BOM).lines().next().unwrap();
        assert_eq!(first.split(';').count(), 22);
    }
}
