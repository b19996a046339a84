//! The report as a Word document, laid out as a Vietnamese administrative
//! report (Nghị định 30/2020/NĐ-CP): A4, margins 2 cm (3 cm on the left),
//! Times New Roman 13 pt; the national header beside the station's name,
//! the title, the figures in numbered sections with tables, the chart, and
//! the two signature blocks.

use std::io::Cursor;

use docx_rs::{
    AlignmentType, BorderType, Docx, LineSpacing, LineSpacingType, PageMargin, Paragraph,
    ParagraphBorder, ParagraphBorderPosition, ParagraphBorders, Pic, Run, RunFonts, Shading,
    SpecialIndentType, Table, TableBorder, TableBorderPosition, TableBorders, TableCell,
    TableCellMargins, TableLayoutType, TableRow, VAlignType, WidthType,
};

use super::text::{self, BLANK, MOTTO, NATION, duration, short_date};
use super::{Report, ReportError, chart};
use crate::lang::Lang;
use crate::tr;

/// The font of the whole document.
const FONT: &str = "Times New Roman";
/// Sizes in half-points: the body (13 pt), the tables and the header's
/// small lines (12 pt), the title (14 pt).
const BODY: usize = 26;
const SMALL: usize = 24;
const TITLE: usize = 28;
/// A4 in twentieths of a point, and the margins: 2 cm top, bottom and
/// right, 3 cm left (1 cm = 567).
const PAGE: (u32, u32) = (11906, 16838);
const CM: i32 = 567;
const MARGIN_LEFT: i32 = 3 * CM;
const MARGIN: i32 = 2 * CM;
/// The width between the margins (16 cm), which the tables fill.
const TEXT_WIDTH: usize = (PAGE.0 as i32 - MARGIN_LEFT - MARGIN) as usize;
/// The chart's width on the page, in EMU (1 cm = 360 000).
const CHART_EMU: u32 = 16 * 360_000;
/// The header's width (17 cm) and its cells' side margins (0.1 cm).
const HEADER_WIDTH: usize = TEXT_WIDTH + CM as usize;
const HEADER_CELL_MARGIN: usize = 57;

/// The .docx file's bytes.
pub fn write(r: &Report) -> Result<Vec<u8>, ReportError> {
    let lang = r.lang;
    let mut blocks: Vec<Block> = vec![header(r).into()];
    blocks.extend(title(r));
    let mut sections: Vec<(&str, Vec<Block>)> = vec![
        (
            lang.pick("Kết quả phát thanh theo ngày", "Broadcasts by day"),
            per_day(r),
        ),
        (
            lang.pick("Kết quả theo chủ đề", "By campaign phase"),
            per_phase(r),
        ),
        (
            lang.pick("Theo mức độ ưu tiên", "By priority"),
            per_priority(r),
        ),
    ];
    if !r.zones.is_empty() {
        sections.push((text::zones_title(lang), per_zone(r)));
    }
    if r.total.relayed_ms > 0 {
        let rel = duration(r.total.relayed_ms, lang);
        let line = tr!(
            lang,
            "Thời lượng tiếp sóng: {rel}.",
            "Time relayed from live programmes: {rel}."
        );
        sections.push((
            lang.pick("Tiếp sóng", "Relayed programmes"),
            vec![prose(vec![run(line)]).into()],
        ));
    }
    sections.push((
        lang.pick(
            "Các buổi phát bị lỡ hoặc bị lỗi",
            "Missed and failed broadcasts",
        ),
        problems(r),
    ));
    sections.push((
        lang.pick("Danh sách bản tin đã phát", "Bulletins aired"),
        aired(r),
    ));
    sections.push((
        lang.pick("Biểu đồ thời lượng phát theo ngày", "Minutes aired per day"),
        chart_section(r)?,
    ));
    sections.push((lang.pick("Ghi chú", "Notes"), notes(r)));
    for (i, (title, body)) in sections.into_iter().enumerate() {
        blocks.push(heading(i + 1, title).into());
        blocks.extend(body);
    }
    // The signatures never alone on the last page: the notes' last line
    // goes with them.
    blocks.push(tight(Paragraph::new()).keep_next(true).into());
    blocks.push(signatures(r).into());
    // A document ends with a paragraph, not a table.
    blocks.push(tight(Paragraph::new()).into());

    let doc = blocks.into_iter().fold(document(), |doc, b| match b {
        Block::P(p) => doc.add_paragraph(*p),
        Block::T(t) => doc.add_table(*t),
    });
    let mut out = Cursor::new(Vec::new());
    doc.pack(&mut out)
        .map_err(|e| ReportError::Docx(e.to_string()))?;
    Ok(out.into_inner())
}

/// What the body is made of.
enum Block {
    P(Box<Paragraph>),
    T(Box<Table>),
}

impl From<Paragraph> for Block {
    fn from(p: Paragraph) -> Self {
        Block::P(Box::new(p))
    }
}

impl From<Table> for Block {
    fn from(t: Table) -> Self {
        Block::T(Box::new(t))
    }
}

/// An empty A4 document in the report's font, size and margins.
fn document() -> Docx {
    let fonts = RunFonts::new()
        .ascii(FONT)
        .hi_ansi(FONT)
        .cs(FONT)
        .east_asia(FONT);
    Docx::new()
        .page_size(PAGE.0, PAGE.1)
        .page_margin(
            PageMargin::new()
                .top(MARGIN)
                .bottom(MARGIN)
                .left(MARGIN_LEFT)
                .right(MARGIN)
                .header(CM)
                .footer(CM),
        )
        .default_fonts(fonts)
        .default_size(BODY)
        .default_line_spacing(
            LineSpacing::new()
                .before(0)
                .after(80)
                .line(264)
                .line_rule(LineSpacingType::Auto),
        )
}

/// A run of text.
fn run(s: impl Into<String>) -> Run {
    Run::new().add_text(s)
}

/// No space before or after.
fn tight(p: Paragraph) -> Paragraph {
    p.line_spacing(LineSpacing::new().before(0).after(0))
}

/// A centred paragraph of one run, without space around it.
fn centred(r: Run) -> Paragraph {
    tight(Paragraph::new().align(AlignmentType::Center).add_run(r))
}

/// A paragraph of the body: justified, its first line indented 1 cm.
fn prose(runs: Vec<Run>) -> Paragraph {
    let p = Paragraph::new().align(AlignmentType::Both).indent(
        None,
        Some(SpecialIndentType::FirstLine(CM)),
        None,
        None,
    );
    runs.into_iter().fold(p, Paragraph::add_run)
}

/// "Không có." / "None.", as a paragraph of the body.
fn none(lang: Lang) -> Block {
    prose(vec![run(lang.pick("Không có.", "None."))]).into()
}

/// A short rule, `width` twips long, centred in `room` twips.
fn rule(width: i32, room: i32) -> Paragraph {
    let side = ((room - width) / 2).max(0);
    let line = ParagraphBorder::new(ParagraphBorderPosition::Top)
        .val(BorderType::Single)
        .size(6)
        .color("000000");
    let mut p = Paragraph::new()
        .line_spacing(LineSpacing::new().before(60).after(0))
        .indent(Some(side), None, Some(side), None)
        .size(8);
    p.property = p
        .property
        .set_borders(ParagraphBorders::with_empty().set(line));
    p
}

/// "I. KẾT QUẢ ..." for the `n`th section.
fn heading(n: usize, title: &str) -> Paragraph {
    const ROMAN: [&str; 10] = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"];
    let num = ROMAN
        .get(n.wrapping_sub(1))
        .map_or_else(|| n.to_string(), |s| s.to_string());
    Paragraph::new()
        .line_spacing(LineSpacing::new().before(200).after(100))
        .keep_next(true)
        .add_run(run(format!("{num}. {}", title.to_uppercase())).bold())
}

/// "thường" → "Thường".
fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// A borderless table's cell of paragraphs.
fn plain_cell(width: usize, paragraphs: Vec<Paragraph>) -> TableCell {
    paragraphs.into_iter().fold(
        TableCell::new().width(width, WidthType::Dxa),
        TableCell::add_paragraph,
    )
}

/// A borderless table of one row per `rows`, of `widths` twips.
fn borderless(widths: &[usize], rows: Vec<Vec<TableCell>>) -> Table {
    Table::new(
        rows.into_iter()
            .map(|cells| TableRow::new(cells).cant_split())
            .collect(),
    )
    .set_grid(widths.to_vec())
    .width(widths.iter().sum(), WidthType::Dxa)
    .layout(TableLayoutType::Fixed)
    .clear_all_border()
}

/// The national header beside the station's, and the place and date.
fn header(r: &Report) -> Table {
    let st = &r.station;
    let upper = |s: &Option<String>| {
        s.as_deref()
            .map(|s| s.trim().to_uppercase())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| BLANK.to_string())
    };
    // 17 cm: half a centimetre into each side margin, as the decree's
    // samples do, so that a station's name and the national line each
    // fit on one line at 12 pt.
    let widths = [4300, HEADER_WIDTH - 4300];
    let left = plain_cell(
        widths[0],
        vec![
            centred(run(upper(&st.province)).size(SMALL)),
            centred(run(upper(&st.name)).size(SMALL).bold()),
            rule(1300, widths[0] as i32 - 2 * HEADER_CELL_MARGIN as i32),
        ],
    );
    let right = plain_cell(
        widths[1],
        vec![
            centred(run(NATION).size(SMALL).bold()),
            centred(run(MOTTO).size(BODY).bold().underline("single")),
        ],
    );
    let date = plain_cell(
        widths[1],
        vec![
            centred(run(text::place_and_date(r)).italic())
                .line_spacing(LineSpacing::new().before(160).after(0)),
        ],
    );
    borderless(
        &widths,
        vec![vec![left, right], vec![plain_cell(widths[0], vec![]), date]],
    )
    .indent(-CM / 2)
    .margins(TableCellMargins::new().margin(0, HEADER_CELL_MARGIN, 0, HEADER_CELL_MARGIN))
}

/// "BÁO CÁO", what it reports on, and the headline.
fn title(r: &Report) -> Vec<Block> {
    let lang = r.lang;
    let mut v: Vec<Block> = vec![
        centred(run(lang.pick("BÁO CÁO", "REPORT")).bold().size(TITLE))
            .line_spacing(LineSpacing::new().before(480).after(60))
            .into(),
        centred(run(text::period(r)).bold()).into(),
    ];
    if let Some(n) = text::narrowed(r) {
        v.push(centred(run(n).italic()).into());
    }
    v.push(rule(1700, TEXT_WIDTH as i32).into());
    v.push(
        prose(vec![
            run(format!("{}. ", text::headline(&r.total, lang))).bold(),
            run(text::headline_detail(&r.total, lang)),
        ])
        .line_spacing(LineSpacing::new().before(240).after(80))
        .into(),
    );
    v
}

/// A table cell's text and how it shows.
struct Cell {
    text: String,
    align: AlignmentType,
    bold: bool,
    /// Kept on the page of the next row.
    keep: bool,
}

impl Cell {
    fn left(s: impl Into<String>) -> Cell {
        Cell {
            text: s.into(),
            align: AlignmentType::Left,
            bold: false,
            keep: false,
        }
    }

    /// A number or a length: right-aligned.
    fn num(s: impl ToString) -> Cell {
        Cell {
            text: s.to_string(),
            align: AlignmentType::Right,
            bold: false,
            keep: false,
        }
    }

    fn bold(mut self) -> Cell {
        self.bold = true;
        self
    }

    fn keep(mut self) -> Cell {
        self.keep = true;
        self
    }
}

/// A table with borders: a bold, shaded heading row, then `rows`;
/// columns of `widths` twips.
fn grid(widths: &[usize], head: &[&str], rows: Vec<Vec<Cell>>) -> Table {
    let cell = |c: Cell, width: usize| {
        let mut r = run(c.text).size(SMALL);
        if c.bold {
            r = r.bold();
        }
        TableCell::new()
            .width(width, WidthType::Dxa)
            .vertical_align(VAlignType::Center)
            .add_paragraph(tight(
                Paragraph::new().align(c.align).keep_next(c.keep).add_run(r),
            ))
    };
    let heading = TableRow::new(
        head.iter()
            .zip(widths)
            .map(|(h, w)| {
                let c = Cell {
                    text: h.to_string(),
                    align: AlignmentType::Center,
                    bold: true,
                    keep: true,
                };
                cell(c, *w).shading(Shading::new().fill("E7E6E6"))
            })
            .collect(),
    )
    .cant_split();
    let rows = rows.into_iter().map(|cells| {
        TableRow::new(
            cells
                .into_iter()
                .zip(widths)
                .map(|(c, w)| cell(c, *w))
                .collect(),
        )
        .cant_split()
    });
    let borders = [
        TableBorderPosition::Top,
        TableBorderPosition::Left,
        TableBorderPosition::Bottom,
        TableBorderPosition::Right,
        TableBorderPosition::InsideH,
        TableBorderPosition::InsideV,
    ]
    .into_iter()
    .fold(TableBorders::new(), |b, pos| {
        b.set(TableBorder::new(pos).size(4).color("000000"))
    });
    Table::new(std::iter::once(heading).chain(rows).collect())
        .set_grid(widths.to_vec())
        .width(widths.iter().sum(), WidthType::Dxa)
        .layout(TableLayoutType::Fixed)
        .set_borders(borders)
}

/// A short line of the body above a table.
fn lead(s: impl Into<String>) -> Block {
    Paragraph::new()
        .keep_next(true)
        .line_spacing(LineSpacing::new().before(120).after(80))
        .add_run(run(s).italic())
        .into()
}

/// One row per day shown, and the total.
fn per_day(r: &Report) -> Vec<Block> {
    let lang = r.lang;
    if r.days.is_empty() {
        return vec![none(lang)];
    }
    let row = |first: Cell, f: &super::Figures| {
        vec![
            first,
            Cell::num(f.planned_broadcasts),
            Cell::num(f.aired_broadcasts),
            Cell::num(f.bulletins),
            Cell::num(duration(f.aired_ms, lang)),
            Cell::num(f.missed),
            Cell::num(f.failed),
        ]
    };
    let mut rows: Vec<Vec<Cell>> = r
        .days
        .iter()
        .map(|d| row(Cell::left(short_date(d.date, lang)), &d.figures))
        .collect();
    // The total on the page of the last day.
    if let Some(last) = rows.pop() {
        rows.push(last.into_iter().map(Cell::keep).collect());
    }
    let total = row(Cell::left(lang.pick("Tổng cộng", "Total")), &r.total);
    rows.push(total.into_iter().map(Cell::bold).collect());
    let head = [
        lang.pick("Ngày", "Date"),
        lang.pick("Buổi theo lịch", "Scheduled"),
        lang.pick("Đã phát", "Aired"),
        lang.pick("Bản tin", "Bulletins"),
        lang.pick("Thời lượng phát", "Time on air"),
        lang.pick("Bị lỡ", "Missed"),
        lang.pick("Lỗi", "Failed"),
    ];
    let widths = [1560, 1200, 1050, 1050, 2311, 950, 950];
    vec![grid(&widths, &head, rows).into()]
}

/// One row per campaign phase.
fn per_phase(r: &Report) -> Vec<Block> {
    let lang = r.lang;
    if r.phases.is_empty() {
        return vec![none(lang)];
    }
    let rows = r
        .phases
        .iter()
        .map(|p| {
            let f = &p.figures;
            vec![
                Cell::left(&p.name),
                Cell::num(format!("{}/{}", f.aired_broadcasts, f.planned_broadcasts)),
                Cell::num(f.bulletins),
                Cell::num(duration(f.aired_ms, lang)),
            ]
        })
        .collect();
    let head = [
        lang.pick("Chủ đề", "Phase"),
        lang.pick("Buổi đã phát/theo lịch", "Aired/scheduled"),
        lang.pick("Bản tin", "Bulletins"),
        lang.pick("Thời lượng", "Time on air"),
    ];
    let widths = [3371, 2400, 1100, 2200];
    vec![grid(&widths, &head, rows).into()]
}

/// One row per priority, then the emergencies one by one.
fn per_priority(r: &Report) -> Vec<Block> {
    let lang = r.lang;
    let rows = r
        .priorities
        .iter()
        .map(|p| {
            vec![
                Cell::left(capitalised(p.priority.label(lang))),
                Cell::num(p.broadcasts),
                Cell::num(p.bulletins),
                Cell::num(duration(p.aired_ms, lang)),
            ]
        })
        .collect();
    let head = [
        lang.pick("Mức độ", "Priority"),
        lang.pick("Số lần phát", "Airings"),
        lang.pick("Bản tin", "Bulletins"),
        lang.pick("Thời lượng", "Time on air"),
    ];
    let widths = [3671, 2100, 1100, 2200];
    let mut v = vec![
        grid(&widths, &head, rows).into(),
        lead(lang.pick("Các lần phát khẩn cấp:", "Emergency airings:")),
    ];
    if r.emergencies.is_empty() {
        v.push(none(lang));
        return v;
    }
    let rows = r
        .emergencies
        .iter()
        .map(|e| {
            vec![
                Cell::left(short_date(e.day, lang)),
                Cell::left(&e.time),
                Cell::left(&e.file),
                Cell::left(capitalised(e.status.label(lang))),
                Cell::num(duration(e.aired_ms, lang)),
            ]
        })
        .collect();
    let head = [
        lang.pick("Ngày", "Date"),
        lang.pick("Giờ", "Time"),
        lang.pick("Tệp", "File"),
        lang.pick("Trạng thái", "Status"),
        lang.pick("Thời lượng", "Time on air"),
    ];
    let widths = [1560, 1150, 3161, 1500, 1700];
    v.push(grid(&widths, &head, rows).into());
    v
}

/// One row per zone: what aired to it.
fn per_zone(r: &Report) -> Vec<Block> {
    let lang = r.lang;
    let rows = r
        .zones
        .iter()
        .map(|z| {
            vec![
                Cell::left(text::zone_label(z)),
                Cell::num(z.broadcasts),
                Cell::num(z.bulletins),
                Cell::num(duration(z.aired_ms, lang)),
            ]
        })
        .collect();
    let head = [
        lang.pick("Thôn/vùng", "Zone"),
        lang.pick("Số buổi phát", "Broadcasts"),
        lang.pick("Bản tin", "Bulletins"),
        lang.pick("Thời lượng", "Time on air"),
    ];
    let widths = [3671, 2100, 1100, 2200];
    vec![grid(&widths, &head, rows).into()]
}

/// Each scheduled broadcast with missed or failed items, and its items.
fn problems(r: &Report) -> Vec<Block> {
    let lang = r.lang;
    if r.problems.is_empty() {
        return vec![none(lang)];
    }
    let mut v = Vec::new();
    for p in &r.problems {
        let when = format!("{} {}", short_date(p.day, lang), p.time);
        v.push(
            Paragraph::new()
                .keep_next(true)
                .line_spacing(LineSpacing::new().before(80).after(40))
                .add_run(run(format!("{when} – {}", p.title)).bold())
                .into(),
        );
        for (files, status, reason) in p.by_reason() {
            let line = format!(
                "– {} ({}): {}",
                files.join(", "),
                status.label(lang),
                reason
            );
            v.push(
                Paragraph::new()
                    .align(AlignmentType::Both)
                    .indent(
                        Some(CM),
                        Some(SpecialIndentType::Hanging(CM / 3)),
                        None,
                        None,
                    )
                    .add_run(run(line))
                    .into(),
            );
        }
    }
    v
}

/// The bulletins aired, most aired first.
fn aired(r: &Report) -> Vec<Block> {
    let lang = r.lang;
    if r.aired.is_empty() {
        return vec![none(lang)];
    }
    let rows = r
        .aired
        .iter()
        .enumerate()
        .map(|(i, a)| {
            vec![
                Cell::num(i + 1),
                Cell::left(&a.title),
                Cell::num(a.times),
                Cell::num(duration(a.aired_ms, lang)),
            ]
        })
        .collect();
    let head = [
        lang.pick("STT", "No."),
        lang.pick("Bản tin", "Bulletin"),
        lang.pick("Số lần phát", "Times aired"),
        lang.pick("Thời lượng", "Time on air"),
    ];
    let widths = [750, 4521, 1600, 2200];
    vec![grid(&widths, &head, rows).into()]
}

/// The chart, 16 cm wide, and its caption.
fn chart_section(r: &Report) -> Result<Vec<Block>, ReportError> {
    let lang = r.lang;
    if r.days.is_empty() {
        return Ok(vec![none(lang)]);
    }
    let png = chart::minutes_per_day_png(r)?;
    let (w, h) = chart::SIZE;
    let height = (u64::from(CHART_EMU) * u64::from(h) / u64::from(w)) as u32;
    let pic = Pic::new_with_dimensions(png, w, h).size(CHART_EMU, height);
    let (f, t) = (short_date(r.from, lang), short_date(r.shown_to(), lang));
    let caption = tr!(
        lang,
        "Biểu đồ: số phút đã phát mỗi ngày (cột đậm) so với số phút theo lịch (cột nhạt), từ ngày {f} đến ngày {t}",
        "Chart: minutes aired each day (dark bars) against the minutes scheduled (light bars), from {f} to {t}"
    );
    Ok(vec![
        centred(Run::new().add_image(pic)).keep_next(true).into(),
        centred(run(caption).italic().size(SMALL))
            .line_spacing(LineSpacing::new().before(60).after(80))
            .into(),
    ])
}

/// The clock, the time zone, the archive.
fn notes(r: &Report) -> Vec<Block> {
    let tz = &r.timezone;
    let mut lines = vec![
        super::md::clock_note(r),
        tr!(
            r.lang,
            "Giờ trong báo cáo theo múi giờ {tz}.",
            "The times in this report are in {tz}."
        ),
    ];
    lines.extend(super::md::archive_note(r).map(|a| a.replace('`', "")));
    let last = lines.len() - 1;
    lines
        .into_iter()
        .enumerate()
        .map(|(i, l)| prose(vec![run(l)]).keep_next(i == last).into())
        .collect()
}

/// The two signature blocks: who prepared the report, who signs it.
fn signatures(r: &Report) -> Table {
    let half = TEXT_WIDTH / 2;
    let widths = [half, TEXT_WIDTH - half];
    let names = [&r.station.reporter, &r.station.head];
    let cells = text::signatures(r.lang)
        .into_iter()
        .zip(names)
        .zip(widths)
        .map(|(((heading, note), name), width)| {
            let mut ps = vec![centred(run(heading).bold()), centred(run(note).italic())];
            // Room for the signature (and the seal).
            ps.extend((0..4).map(|_| tight(Paragraph::new())));
            let name = name.as_deref().map(str::trim).unwrap_or_default();
            ps.push(centred(run(name).bold()));
            plain_cell(width, ps)
        })
        .collect();
    borderless(&widths, vec![cells])
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::super::chart::tests::png_size;
    use super::super::{build, sample};
    use super::*;

    /// The document's text (word/document.xml) and its PNGs.
    fn unzip(docx: &[u8]) -> (String, Vec<Vec<u8>>) {
        let mut zip = zip::ZipArchive::new(Cursor::new(docx)).unwrap();
        let mut xml = String::new();
        zip.by_name("word/document.xml")
            .unwrap()
            .read_to_string(&mut xml)
            .unwrap();
        let names: Vec<String> = zip.file_names().map(String::from).collect();
        let mut pngs = Vec::new();
        for name in names.iter().filter(|n| n.starts_with("word/media/")) {
            let mut bytes = Vec::new();
            zip.by_name(name).unwrap().read_to_end(&mut bytes).unwrap();
            if !bytes.is_empty() {
                pngs.push(bytes);
            }
        }
        (xml, pngs)
    }

    #[test]
    fn the_sample_month_as_a_word_document() {
        let rows = sample::rows();
        let r = build(&sample::inputs(&rows));
        let docx = write(&r).unwrap();
        if let Ok(dir) = std::env::var("LOA_REPORT_SAMPLE_DIR") {
            std::fs::write(format!("{dir}/report-sample.docx"), &docx).unwrap();
        }
        let (xml, pngs) = unzip(&docx);
        for want in [
            NATION,
            MOTTO,
            "TỈNH QUẢNG TRỊ",
            "ĐÀI TRUYỀN THANH XÃ AN BÌNH",
            "An Bình, ngày 30 tháng 11 năm 2026",
            "BÁO CÁO",
            "Kết quả phát thanh từ ngày 01/11/2026 đến ngày 30/11/2026",
            "Đã phát 57/60 buổi theo lịch (95,0%)",
            "Trước Đại hội",
            "(không có chủ đề)",
            "Khẩn cấp",
            "khan-cap/bao-lu.mp3",
            "Thời lượng tiếp sóng: 10 phút.",
            "12/11/2026 17:00 – Bản tin chiều",
            "không giải mã được",
            "28/11/2026 06:00 – Bản tin sáng",
            "ban-tin-2",
            "NGƯỜI LẬP BIỂU",
            "(Ký, ghi rõ họ tên)",
            "THỦ TRƯỞNG ĐƠN VỊ",
            "(Ký, ghi rõ họ tên, đóng dấu)",
            "Nguyễn Thị Hoa",
            "Trần Văn Nam",
            "Tổng cộng",
        ] {
            assert!(xml.contains(want), "the document has {want:?}");
        }
        let failed = &r.problems[1].items[0];
        assert!(xml.contains(&failed.reason), "{:?}", failed.reason);
        assert!(!xml.contains("truoc-dai-hoi"), "phases by name, not tag");
        assert!(!xml.contains("None"));
        assert!(!xml.contains("THÔN/VÙNG"), "no zones, no section");
        assert!(xml.contains("IV. TIẾP SÓNG"));
        assert_eq!(pngs.len(), 1, "the chart");
        assert_eq!(png_size(&pngs[0]), chart::SIZE);
        // 16 cm wide, in proportion.
        assert!(xml.contains(r#"cx="5760000" cy="2520000""#));
    }

    #[test]
    fn a_report_of_no_days_and_no_names_still_writes() {
        let mut inp = sample::inputs(&[]);
        inp.now = sample::at(1, "00:00:00", 0);
        inp.from = jiff::civil::date(2026, 12, 1);
        inp.to = jiff::civil::date(2026, 12, 31);
        inp.station = super::super::Station::default();
        inp.archived = Some((3_600_000, 12));
        let r = build(&inp);
        assert!(r.days.is_empty());
        let docx = write(&r).unwrap();
        if let Ok(dir) = std::env::var("LOA_REPORT_SAMPLE_DIR") {
            std::fs::write(format!("{dir}/report-empty.docx"), &docx).unwrap();
        }
        let (xml, pngs) = unzip(&docx);
        assert!(pngs.is_empty());
        assert!(xml.contains("Không có buổi phát nào theo lịch"));
        assert!(xml.contains(BLANK), "blanks for the missing names");
        assert!(xml.contains(
            "Đã lưu trữ bản ghi âm những gì đã phát (loa archive): 60 phút, 12 bản ghi."
        ));
        assert!(!xml.contains("None"));
    }

    #[test]
    fn time_on_air_per_zone() {
        let rows = sample::zoned_rows();
        let r = build(&sample::zoned_inputs(&rows));
        let (xml, _) = unzip(&write(&r).unwrap());
        for want in [
            "IV. THỜI LƯỢNG PHÁT THEO THÔN/VÙNG",
            "Thôn/vùng",
            "Số buổi phát",
            "Thôn Đông (thon-1)",
            "59 phút 15 giây",
            "Thôn Tây (thon-2)",
            "111 phút 15 giây",
            "Thôn Bắc (thon-3)",
            "V. TIẾP SÓNG",
        ] {
            assert!(xml.contains(want), "the document has {want:?}");
        }
    }

    #[test]
    fn in_english() {
        let rows = sample::zoned_rows();
        let mut inp = sample::zoned_inputs(&rows);
        inp.lang = Lang::En;
        inp.filter.zone = Some(("thon-1".into(), "Thôn Đông".into()));
        let r = build(&inp);
        let (xml, pngs) = unzip(&write(&r).unwrap());
        for want in [
            NATION,
            "REPORT",
            "Aired 25 of 27 scheduled broadcasts (92.6%)",
            "Counting only: zone thon-1 (Thôn Đông).",
            "TIME ON AIR PER ZONE",
            "PREPARED BY",
            "HEAD OF THE UNIT",
            "Emergency",
        ] {
            assert!(xml.contains(want), "the document has {want:?}");
        }
        assert_eq!(pngs.len(), 1);
    }
}
