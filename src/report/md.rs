//! The report as Markdown, for the terminal: the same content as the Word
//! document, in the same order (national header, station, place and date,
//! title, headline, then numbered sections, then the signature blocks).
//! Phases by their readable names, lengths in whole minutes and seconds.

use std::fmt::Write as _;

use super::text::{self, duration, short_date};
use super::{Figures, Report};
use crate::cli::log::day_name;
use crate::lang::Lang;
use crate::tr;

/// A table cell: one line, pipes escaped.
fn cell(s: &str) -> String {
    s.replace(['\n', '\r'], " ").replace('|', "\\|")
}

fn row(o: &mut String, cells: &[String]) {
    let _ = writeln!(o, "| {} |", cells.join(" | "));
}

/// A header row and its rule (the first column left, the rest right).
fn head(o: &mut String, names: &[&str]) {
    let _ = writeln!(o, "| {} |", names.join(" | "));
    let _ = writeln!(o, "|---|{}", "--:|".repeat(names.len() - 1));
}

/// The Markdown text.
pub fn write(r: &Report) -> String {
    let lang = r.lang;
    let mut o = String::new();
    let st = &r.station;
    let _ = writeln!(o, "{}  \n{}\n", text::NATION, text::MOTTO);
    if let Some(p) = &st.province {
        let _ = writeln!(o, "{}  ", p.to_uppercase());
    }
    let name = st.name.as_deref().unwrap_or(text::BLANK).to_uppercase();
    let _ = writeln!(o, "**{name}**\n");
    let _ = writeln!(o, "*{}*\n", text::place_and_date(r));
    let _ = writeln!(o, "# {}\n", lang.pick("BÁO CÁO", "REPORT"));
    let _ = writeln!(o, "**{}**\n", text::period(r));
    if let Some(n) = text::narrowed(r) {
        let _ = writeln!(o, "*{n}*\n");
    }
    if r.days.is_empty() {
        let _ = writeln!(
            o,
            "{}\n",
            lang.pick(
                "Khoảng thời gian này chưa đến: chưa có gì để báo cáo.",
                "This period has not come yet: there is nothing to report."
            )
        );
    }
    let _ = writeln!(
        o,
        "**{}.** {}\n",
        text::headline(&r.total, lang),
        text::headline_detail(&r.total, lang)
    );
    let mut n = 0;
    let mut section = |o: &mut String, title: &str| {
        n += 1;
        let _ = writeln!(o, "## {n}. {title}\n");
    };
    section(&mut o, lang.pick("Theo ngày", "Per day"));
    per_day(&mut o, r);
    section(
        &mut o,
        lang.pick("Theo giai đoạn tuyên truyền", "Per campaign phase"),
    );
    per_phase(&mut o, r);
    section(&mut o, lang.pick("Theo mức ưu tiên", "Per priority"));
    per_priority(&mut o, r);
    if !r.zones.is_empty() {
        section(&mut o, text::zones_title(lang));
        per_zone(&mut o, r);
    }
    if r.total.relayed_ms > 0 {
        section(&mut o, lang.pick("Tiếp sóng", "Relayed programmes"));
        let d = duration(r.total.relayed_ms, lang);
        let _ = writeln!(
            o,
            "{}\n",
            tr!(
                lang,
                "Thời lượng tiếp sóng chương trình của cấp trên: {d}.",
                "Time relaying higher levels' programmes: {d}."
            )
        );
    }
    section(
        &mut o,
        lang.pick(
            "Các buổi có bản tin bị lỡ hoặc lỗi",
            "Broadcasts with missed or failed items",
        ),
    );
    problems(&mut o, r);
    section(&mut o, lang.pick("Các bản tin đã phát", "What was aired"));
    aired(&mut o, r);
    section(&mut o, lang.pick("Ghi chú", "Notes"));
    let _ = writeln!(o, "{}\n", clock_note(r));
    if let Some(a) = archive_note(r) {
        let _ = writeln!(o, "{a}\n");
    }
    for (title, note) in text::signatures(lang) {
        let _ = writeln!(o, "**{title}**  \n*{note}*\n");
        let who = if title == text::signatures(lang)[0].0 {
            &st.reporter
        } else {
            &st.head
        };
        let _ = writeln!(o, "{}\n", who.as_deref().unwrap_or(text::BLANK));
    }
    o
}

/// The cells of one line of figures, after its first cell.
fn figure_cells(f: &Figures, lang: Lang) -> Vec<String> {
    vec![
        f.planned_broadcasts.to_string(),
        f.aired_broadcasts.to_string(),
        f.bulletins.to_string(),
        duration(f.aired_ms, lang),
        f.missed.to_string(),
        f.failed.to_string(),
        f.interrupted.to_string(),
        f.skipped.to_string(),
    ]
}

fn per_day(o: &mut String, r: &Report) {
    let lang = r.lang;
    if r.days.is_empty() {
        let _ = writeln!(o, "{}\n", lang.pick("Không có.", "None."));
        return;
    }
    head(
        o,
        &[
            lang.pick("Ngày", "Day"),
            lang.pick("Buổi theo lịch", "Scheduled"),
            lang.pick("Đã phát", "Aired"),
            lang.pick("Bản tin", "Bulletins"),
            lang.pick("Thời lượng phát", "Time on air"),
            lang.pick("Bị lỡ", "Missed"),
            lang.pick("Lỗi", "Failed"),
            lang.pick("Bị ngắt", "Cut off"),
            lang.pick("Bỏ qua", "Skipped"),
        ],
    );
    for d in &r.days {
        let mut cells = vec![day_name(d.date, lang)];
        cells.extend(figure_cells(&d.figures, lang));
        row(o, &cells);
    }
    let mut cells = vec![format!("**{}**", lang.pick("Tổng cộng", "Total"))];
    cells.extend(
        figure_cells(&r.total, lang)
            .into_iter()
            .map(|c| format!("**{c}**")),
    );
    row(o, &cells);
    o.push('\n');
}

fn per_phase(o: &mut String, r: &Report) {
    let lang = r.lang;
    if r.phases.is_empty() {
        let _ = writeln!(o, "{}\n", lang.pick("Không có.", "None."));
        return;
    }
    head(
        o,
        &[
            lang.pick("Giai đoạn (chủ đề)", "Phase"),
            lang.pick("Buổi đã phát / theo lịch", "Aired / scheduled"),
            lang.pick("Bản tin", "Bulletins"),
            lang.pick("Thời lượng phát", "Time on air"),
        ],
    );
    for p in &r.phases {
        let f = &p.figures;
        row(
            o,
            &[
                cell(&p.name),
                format!("{}/{}", f.aired_broadcasts, f.planned_broadcasts),
                f.bulletins.to_string(),
                duration(f.aired_ms, lang),
            ],
        );
    }
    let _ = writeln!(
        o,
        "\n{}\n",
        lang.pick(
            "Một buổi phát có thể thuộc nhiều giai đoạn, nên tổng các dòng có thể lớn hơn tổng cộng.",
            "A broadcast may belong to several phases, so the lines may add up to more than the total."
        )
    );
}

fn per_priority(o: &mut String, r: &Report) {
    let lang = r.lang;
    head(
        o,
        &[
            lang.pick("Mức", "Level"),
            lang.pick("Buổi phát", "Broadcasts"),
            lang.pick("Bản tin", "Bulletins"),
            lang.pick("Thời lượng phát", "Time on air"),
        ],
    );
    for p in &r.priorities {
        row(
            o,
            &[
                p.priority.label(lang).to_string(),
                p.broadcasts.to_string(),
                p.bulletins.to_string(),
                duration(p.aired_ms, lang),
            ],
        );
    }
    let _ = writeln!(
        o,
        "\n**{}**\n",
        lang.pick("Các lần phát khẩn cấp:", "Emergencies:")
    );
    if r.emergencies.is_empty() {
        let _ = writeln!(o, "{}\n", lang.pick("Không có.", "None."));
        return;
    }
    for e in &r.emergencies {
        let _ = writeln!(
            o,
            "- {} {}: {} ({}, {})",
            short_date(e.day, lang),
            e.time,
            cell(&e.file),
            e.status.label(lang),
            duration(e.aired_ms, lang)
        );
    }
    o.push('\n');
}

fn per_zone(o: &mut String, r: &Report) {
    let lang = r.lang;
    head(
        o,
        &[
            lang.pick("Thôn/vùng", "Zone"),
            lang.pick("Buổi phát", "Broadcasts"),
            lang.pick("Bản tin", "Bulletins"),
            lang.pick("Thời lượng phát", "Time on air"),
        ],
    );
    for z in &r.zones {
        row(
            o,
            &[
                cell(&text::zone_label(z)),
                z.broadcasts.to_string(),
                z.bulletins.to_string(),
                duration(z.aired_ms, lang),
            ],
        );
    }
    if r.zones.len() > 1 {
        let _ = writeln!(
            o,
            "\n{}",
            lang.pick(
                "Một buổi phát có thể phát cho nhiều thôn/vùng, nên tổng các dòng có thể lớn hơn tổng cộng.",
                "A broadcast may air to several zones, so the lines may add up to more than the total."
            )
        );
    }
    o.push('\n');
}

fn problems(o: &mut String, r: &Report) {
    let lang = r.lang;
    if r.problems.is_empty() {
        let _ = writeln!(o, "{}\n", lang.pick("Không có.", "None."));
        return;
    }
    for p in &r.problems {
        let _ = writeln!(
            o,
            "**{} {} – {}**\n",
            short_date(p.day, lang),
            p.time,
            cell(&p.title)
        );
        for (files, status, reason) in p.by_reason() {
            let _ = writeln!(
                o,
                "- {}: {}. {}",
                cell(&files.join(", ")),
                status.label(lang),
                cell(reason)
            );
        }
        o.push('\n');
    }
}

fn aired(o: &mut String, r: &Report) {
    let lang = r.lang;
    if r.aired.is_empty() {
        let _ = writeln!(o, "{}\n", lang.pick("Không có.", "None."));
        return;
    }
    head(
        o,
        &[
            lang.pick("Bản tin", "Bulletin"),
            lang.pick("Số lần phát", "Times"),
            lang.pick("Thời lượng phát", "Time on air"),
        ],
    );
    for a in &r.aired {
        row(
            o,
            &[
                cell(&a.title),
                a.times.to_string(),
                duration(a.aired_ms, lang),
            ],
        );
    }
    o.push('\n');
}

/// What the report's times rest on: the clock policy in force, and how
/// many rows were written while the kernel did not vouch for the clock.
pub fn clock_note(r: &Report) -> String {
    let (lang, n) = (r.lang, r.unsynced_rows);
    match (r.require_clock_sync, n) {
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
    }
}

/// How much of what aired is archived, when known.
pub fn archive_note(r: &Report) -> Option<String> {
    let (ms, n) = r.archived?;
    let lang = r.lang;
    let d = duration(ms, lang);
    Some(tr!(
        lang,
        "Đã lưu trữ bản ghi âm những gì đã phát (`loa archive`): {d}, {n} bản ghi.",
        "Recordings of what aired are archived (`loa archive`): {d} in {n} recordings."
    ))
}

#[cfg(test)]
mod tests {
    use super::super::{build, sample};
    use super::*;

    #[test]
    fn the_sample_month_in_markdown() {
        let rows = sample::rows();
        let md = write(&build(&sample::inputs(&rows)));
        for want in [
            "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
            "Độc lập - Tự do - Hạnh phúc",
            "**ĐÀI TRUYỀN THANH XÃ AN BÌNH**",
            "*An Bình, ngày 30 tháng 11 năm 2026*",
            "# BÁO CÁO",
            "**Kết quả phát thanh từ ngày 01/11/2026 đến ngày 30/11/2026**",
            "**Đã phát 57/60 buổi theo lịch (95,0%).** 58 bản tin, tổng thời lượng phát 123 phút 15 giây",
            "trong đó tiếp sóng 10 phút",
            "| Thứ Năm 05/11/2026 | 2 | 1 | 1 | 2 phút | 2 | 0 | 0 | 0 |",
            "| Trước Đại hội | 28/30 | 28 | 64 phút 30 giây |",
            "| khẩn cấp | 1 | 1 | 45 giây |",
            "- 20/11/2026 10:15:00: khan-cap/bao-lu.mp3 (đã phát, 45 giây)",
            "**05/11/2026 06:00 – Bản tin sáng**",
            "- nhac-hieu.mp3, ban-tin-1.mp3: bị lỡ. Máy không hoạt động vào giờ phát (quá 10 phút cho phép phát bù)",
            "- ban-tin-2.mp3: lỗi. tệp hỏng: không giải mã được",
            "| ban-tin-2 | 29 | 58 phút |",
            "**NGƯỜI LẬP BIỂU**",
            "**THỦ TRƯỞNG ĐƠN VỊ**",
            "Nguyễn Thị Hoa",
            "Trần Văn Nam",
        ] {
            assert!(md.contains(want), "{want:?} missing from\n{md}");
        }
        assert!(!md.contains("truoc-dai-hoi"), "no raw tag slugs:\n{md}");
        assert!(
            !md.contains("| nhac-hieu |"),
            "jingles are not bulletins:\n{md}"
        );
        assert!(!md.contains("thôn/vùng"), "no zones, no section:\n{md}");
        assert!(md.contains("## 4. Tiếp sóng"), "{md}");
    }

    #[test]
    fn time_on_air_per_zone_in_markdown() {
        let rows = sample::zoned_rows();
        let md = write(&build(&sample::zoned_inputs(&rows)));
        for want in [
            "## 4. Thời lượng phát theo thôn/vùng\n\n| Thôn/vùng | Buổi phát | Bản tin | Thời lượng phát |\n|---|--:|--:|--:|\n",
            "| Thôn Đông (thon-1) | 26 | 26 | 59 phút 15 giây |\n| Thôn Tây (thon-2) | 52 | 52 | 111 phút 15 giây |\n| Thôn Bắc (thon-3) | 0 | 0 | 0 giây |\n",
            "tổng các dòng có thể lớn hơn tổng cộng",
            "## 5. Tiếp sóng",
        ] {
            assert!(md.contains(want), "{want:?} missing from\n{md}");
        }
    }
}
