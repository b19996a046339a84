//! The words and numbers every form of the report shares: lengths ("1 phút
//! 24 giây"), percentages ("96,7%"), dates ("ngày 02 tháng 12 năm 2026"),
//! the headline, the place line, and which files are jingles.

use jiff::civil::Date;

use super::{Figures, Report, Station, ZoneLine};
use crate::lang::Lang;
use crate::tr;

/// The national header's first line (Nghị định 30/2020/NĐ-CP).
pub const NATION: &str = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM";
/// Its motto, underlined in the document.
pub const MOTTO: &str = "Độc lập - Tự do - Hạnh phúc";
/// Shown where `[station]` lacks a name, for the official to write in.
pub const BLANK: &str = "……………………";

/// A length in whole minutes and seconds: "1 phút 24 giây", "45 giây",
/// "12 phút", "0 giây" / "1 min 24 s".
pub fn duration(ms: i64, lang: Lang) -> String {
    let s = (ms.max(0) + 500) / 1000;
    let (m, s) = (s / 60, s % 60);
    match (lang, m, s) {
        (Lang::Vi, 0, s) => format!("{s} giây"),
        (Lang::Vi, m, 0) => format!("{m} phút"),
        (Lang::Vi, m, s) => format!("{m} phút {s} giây"),
        (Lang::En, 0, s) => format!("{s} s"),
        (Lang::En, m, 0) => format!("{m} min"),
        (Lang::En, m, s) => format!("{m} min {s} s"),
    }
}

/// Minutes as a number for a table or a sheet: two decimals (minutes are
/// the unit of the report, the seconds are in [`duration`]).
pub fn minutes(ms: i64) -> f64 {
    (ms as f64 / 600.0).round() / 100.0
}

/// "96,7%" / "96.7%"; "—" when nothing was planned.
pub fn percent(part: usize, whole: usize, lang: Lang) -> String {
    if whole == 0 {
        return "—".into();
    }
    let p = format!("{:.1}", part as f64 * 100.0 / whole as f64);
    match lang {
        Lang::Vi => format!("{}%", p.replace('.', ",")),
        Lang::En => format!("{p}%"),
    }
}

/// "02/12/2026" / "2026-12-02".
pub fn short_date(d: Date, lang: Lang) -> String {
    crate::cli::log::short_date(d, lang)
}

/// "ngày 02 tháng 12 năm 2026" / "2 December 2026".
pub fn long_date(d: Date, lang: Lang) -> String {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let (dd, mm, yyyy) = (d.day(), d.month(), d.year());
    match lang {
        Lang::Vi => format!("ngày {dd:02} tháng {mm:02} năm {yyyy}"),
        Lang::En => format!("{dd} {} {yyyy}", MONTHS[(mm - 1) as usize]),
    }
}

/// The commune's name without its kind: "Xã An Bình" → "An Bình" (also
/// "Phường", "Thị trấn", "Đặc khu").
pub fn place(station: &Station) -> Option<String> {
    let c = station.commune.as_deref()?.trim();
    let lower = c.to_lowercase();
    for kind in ["xã ", "phường ", "thị trấn ", "đặc khu "] {
        if lower.starts_with(kind) {
            return Some(c[kind.len()..].trim().to_string());
        }
    }
    Some(c.to_string())
}

/// The place-and-date line: "An Bình, ngày 02 tháng 12 năm 2026".
pub fn place_and_date(r: &Report) -> String {
    let place = place(&r.station).unwrap_or_else(|| BLANK.to_string());
    format!("{place}, {}", long_date(r.made_on, r.lang))
}

/// The title's second line: "Kết quả phát thanh từ ngày 01/11/2026 đến
/// ngày 30/11/2026".
pub fn period(r: &Report) -> String {
    let lang = r.lang;
    let (f, t) = (short_date(r.from, lang), short_date(r.shown_to(), lang));
    tr!(
        lang,
        "Kết quả phát thanh từ ngày {f} đến ngày {t}",
        "Broadcasts aired from {f} to {t}"
    )
}

/// What the report was narrowed to, if anything: "Chỉ tính: vùng thon-1
/// (Thôn Đông); chủ đề Trước Đại hội".
pub fn narrowed(r: &Report) -> Option<String> {
    let lang = r.lang;
    let mut parts = Vec::new();
    if let Some((name, title)) = &r.filter.zone {
        let z = if title == name {
            name.clone()
        } else {
            format!("{name} ({title})")
        };
        parts.push(tr!(lang, "vùng {z}", "zone {z}"));
    }
    if let Some((_, name)) = &r.filter.tag {
        parts.push(tr!(lang, "chủ đề {name}", "phase {name}"));
    }
    if parts.is_empty() {
        return None;
    }
    let parts = parts.join("; ");
    Some(tr!(lang, "Chỉ tính: {parts}.", "Counting only: {parts}."))
}

/// The per-zone section's title.
pub fn zones_title(lang: Lang) -> &'static str {
    lang.pick("Thời lượng phát theo thôn/vùng", "Time on air per zone")
}

/// A zone as a table's first cell shows it: "Thôn Đông (thon-1)", or the
/// name alone when it has no title of its own.
pub fn zone_label(z: &ZoneLine) -> String {
    if z.title == z.name {
        z.name.clone()
    } else {
        format!("{} ({})", z.title, z.name)
    }
}

/// The headline: "Đã phát 58/60 buổi theo lịch (96,7%)".
pub fn headline(f: &Figures, lang: Lang) -> String {
    let (a, p) = (f.aired_broadcasts, f.planned_broadcasts);
    if p == 0 {
        return lang
            .pick(
                "Không có buổi phát nào theo lịch trong khoảng thời gian này",
                "No scheduled broadcast in this period",
            )
            .to_string();
    }
    let pc = percent(a, p, lang);
    tr!(
        lang,
        "Đã phát {a}/{p} buổi theo lịch ({pc})",
        "Aired {a} of {p} scheduled broadcasts ({pc})"
    )
}

/// The headline's second sentence: the bulletins, the time on air, what
/// aired outside the schedule and what was relayed.
pub fn headline_detail(f: &Figures, lang: Lang) -> String {
    let (b, on) = (f.bulletins, duration(f.aired_ms, lang));
    let mut s = tr!(
        lang,
        "{b} bản tin, tổng thời lượng phát {on}",
        "{b} bulletins, {on} on air in all"
    );
    if f.relayed_ms > 0 {
        let rel = duration(f.relayed_ms, lang);
        s.push_str(&tr!(
            lang,
            ", trong đó tiếp sóng {rel}",
            ", of which {rel} relayed"
        ));
    }
    if f.extra_broadcasts > 0 {
        let x = f.extra_broadcasts;
        s.push_str(&tr!(
            lang,
            "; ngoài lịch: {x} lần phát ưu tiên hoặc khẩn cấp",
            "; outside the schedule: {x} priority or emergency airings"
        ));
    }
    s.push('.');
    s
}

/// A tag made readable when the playlists give it no name:
/// "truoc-dai-hoi" → "Truoc dai hoi".
pub fn readable_tag(tag: &str) -> String {
    let words = tag.replace(['-', '_'], " ");
    let mut c = words.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Whether `file` (as the playlist names it) is a jingle by one of
/// `patterns`: `*` matches any run of characters but '/', `?` one
/// character; case is ignored.
pub fn is_jingle(file: &str, patterns: &[String]) -> bool {
    let f: Vec<char> = file.to_lowercase().chars().collect();
    patterns.iter().any(|p| {
        let p: Vec<char> = p.to_lowercase().chars().collect();
        glob(&p, &f)
    })
}

fn glob(p: &[char], s: &[char]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some(('*', rest)) => (0..=s.len())
            .take_while(|&i| i == 0 || s[i - 1] != '/')
            .any(|i| glob(rest, &s[i..])),
        Some(('?', rest)) => s.first().is_some_and(|c| *c != '/') && glob(rest, &s[1..]),
        Some((c, rest)) => s.first() == Some(c) && glob(rest, &s[1..]),
    }
}

/// A relayed programme's "file": a stream's address or `line-in:DEVICE`
/// (how the as-run log records a live item).
pub fn is_relayed(file: &str) -> bool {
    let f = file.to_ascii_lowercase();
    f.starts_with("http://") || f.starts_with("https://") || f.starts_with("line-in:")
}

/// What the list of bulletins shows for a file: its path without the
/// extension (the folder kept: "dai-hoi/ban-tin-1" and "sau-dai-hoi/ban-tin-1"
/// are different bulletins); a relayed programme as recorded.
pub fn title_of(file: &str) -> String {
    if is_relayed(file) {
        return file.to_string();
    }
    let (dir, name) = match file.rsplit_once('/') {
        Some((d, n)) => (Some(d), n),
        None => (None, file),
    };
    let stem = match name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => name,
    };
    match dir {
        Some(d) => format!("{d}/{stem}"),
        None => stem.to_string(),
    }
}

/// The signature blocks' headings and the note under them.
pub fn signatures(lang: Lang) -> [(&'static str, &'static str); 2] {
    [
        (
            lang.pick("NGƯỜI LẬP BIỂU", "PREPARED BY"),
            lang.pick("(Ký, ghi rõ họ tên)", "(signature, full name)"),
        ),
        (
            lang.pick("THỦ TRƯỞNG ĐƠN VỊ", "HEAD OF THE UNIT"),
            lang.pick(
                "(Ký, ghi rõ họ tên, đóng dấu)",
                "(signature, full name, seal)",
            ),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_in_whole_minutes_and_seconds() {
        assert_eq!(duration(84_000, Lang::Vi), "1 phút 24 giây");
        assert_eq!(duration(84_499, Lang::Vi), "1 phút 24 giây");
        assert_eq!(duration(45_000, Lang::Vi), "45 giây");
        assert_eq!(duration(720_000, Lang::Vi), "12 phút");
        assert_eq!(duration(0, Lang::Vi), "0 giây");
        assert_eq!(duration(84_000, Lang::En), "1 min 24 s");
        assert_eq!(minutes(84_000), 1.4);
    }

    #[test]
    fn percentages_and_dates() {
        assert_eq!(percent(58, 60, Lang::Vi), "96,7%");
        assert_eq!(percent(58, 60, Lang::En), "96.7%");
        assert_eq!(percent(0, 0, Lang::Vi), "—");
        let d = jiff::civil::date(2026, 12, 2);
        assert_eq!(long_date(d, Lang::Vi), "ngày 02 tháng 12 năm 2026");
        assert_eq!(long_date(d, Lang::En), "2 December 2026");
        let f = Figures {
            planned_broadcasts: 60,
            aired_broadcasts: 58,
            ..Figures::default()
        };
        assert_eq!(
            headline(&f, Lang::Vi),
            "Đã phát 58/60 buổi theo lịch (96,7%)"
        );
    }

    #[test]
    fn the_place_is_the_commune_without_its_kind() {
        let st = |c: &str| Station {
            commune: Some(c.into()),
            ..Station::default()
        };
        assert_eq!(place(&st("Xã An Bình")).as_deref(), Some("An Bình"));
        assert_eq!(place(&st("Phường Hải Châu")).as_deref(), Some("Hải Châu"));
        assert_eq!(place(&st("Thị trấn Đồng Lê")).as_deref(), Some("Đồng Lê"));
        assert_eq!(place(&st("An Bình")).as_deref(), Some("An Bình"));
        assert_eq!(place(&Station::default()), None);
    }

    #[test]
    fn jingles_by_pattern() {
        let p = vec!["nhac-hieu*".to_string(), "*/nhac-hieu*".to_string()];
        assert!(is_jingle("nhac-hieu.mp3", &p));
        assert!(is_jingle("Nhac-Hieu-2.MP3", &p));
        assert!(is_jingle("dai-hoi/nhac-hieu.mp3", &p));
        assert!(!is_jingle("dai-hoi/ban-tin-1.mp3", &p));
        assert!(!is_jingle(
            "a/b/nhac-hieu.mp3",
            &["*/nhac-hieu*".to_string()]
        ));
        assert!(is_jingle("x.mp3", &["?.mp3".to_string()]));
        assert!(!is_jingle("x.mp3", &[]));
    }

    #[test]
    fn titles_and_tags() {
        assert_eq!(title_of("dai-hoi/ban-tin-1.mp3"), "dai-hoi/ban-tin-1");
        assert_eq!(title_of("ket-thuc.mp3"), "ket-thuc");
        assert_eq!(title_of("http://r.vn/vov1"), "http://r.vn/vov1");
        assert!(is_relayed("line-in:default"));
        assert_eq!(readable_tag("truoc-dai-hoi"), "Truoc dai hoi");
    }
}
