//! The report as an Excel workbook: summary, per-day and per-item sheets,
//! and a native chart of aired vs planned minutes per day.
//!
//! Every figure is a cell of its own kind: counts and minutes are numbers,
//! the rate a fraction shown as a percentage, days real dates and times
//! real times, so that the official can sum, sort and filter them. The
//! sheets:
//! - "Tổng hợp" (Summary): the station, the period, the period's figures,
//!   per campaign phase, per priority, the emergency broadcasts, and per
//!   zone when the config declares zones;
//! - "Theo ngày" (Per day): one row per day, the period's total under them,
//!   and a column chart of the minutes aired against the minutes scheduled;
//! - "Chi tiết" (Items): every as-run row;
//! - "Bị lỡ, lỗi" (Missed, failed): the scheduled broadcasts with items
//!   missed or failed, one row per item.

use jiff::civil::Date;
use rust_xlsxwriter::{
    Chart, ChartLegendPosition, ChartType, ColNum, ExcelDateTime, Format, FormatAlign,
    FormatBorder, RowNum, Workbook, Worksheet, XlsxError,
};

use super::text::{self, minutes};
use super::{Figures, Report, ReportError};
use crate::lang::Lang;

/// The .xlsx file's bytes.
pub fn write(r: &Report) -> Result<Vec<u8>, ReportError> {
    workbook(r).map_err(|e| ReportError::Xlsx(e.to_string()))
}

fn workbook(r: &Report) -> Result<Vec<u8>, XlsxError> {
    let st = Styles::new();
    let names = SheetNames::new(r.lang);
    let mut wb = Workbook::new();
    wb.push_worksheet(summary(r, &st, names.summary)?);
    wb.push_worksheet(per_day(r, &st, names.per_day)?);
    wb.push_worksheet(items(r, &st, names.items)?);
    wb.push_worksheet(problems(r, &st, names.problems)?);
    wb.save_to_buffer()
}

/// The sheets' names, in the operator's language (each at most 31
/// characters, none of `[]:*?/\`).
#[derive(Clone, Copy)]
struct SheetNames {
    summary: &'static str,
    per_day: &'static str,
    items: &'static str,
    problems: &'static str,
}

impl SheetNames {
    fn new(lang: Lang) -> SheetNames {
        SheetNames {
            summary: lang.pick("Tổng hợp", "Summary"),
            per_day: lang.pick("Theo ngày", "Per day"),
            items: lang.pick("Chi tiết", "Items"),
            problems: lang.pick("Bị lỡ, lỗi", "Missed, failed"),
        }
    }
}

/// The cell formats.
struct Styles {
    title: Format,
    bold: Format,
    header: Format,
    date: Format,
    time: Format,
    hhmm: Format,
    count: Format,
    minutes: Format,
    seconds: Format,
    percent: Format,
    total_count: Format,
    total_minutes: Format,
}

impl Styles {
    fn new() -> Styles {
        let header = Format::new()
            .set_bold()
            .set_text_wrap()
            .set_align(FormatAlign::Center)
            .set_align(FormatAlign::VerticalCenter)
            .set_border_bottom(FormatBorder::Thin);
        let total = Format::new().set_bold().set_border_top(FormatBorder::Thin);
        Styles {
            title: Format::new().set_bold().set_font_size(14),
            bold: Format::new().set_bold(),
            header,
            date: Format::new()
                .set_num_format("dd/mm/yyyy")
                .set_align(FormatAlign::Left),
            time: Format::new()
                .set_num_format("hh:mm:ss")
                .set_align(FormatAlign::Left),
            hhmm: Format::new()
                .set_num_format("hh:mm")
                .set_align(FormatAlign::Left),
            count: Format::new().set_num_format("0"),
            minutes: Format::new().set_num_format("0.00"),
            seconds: Format::new().set_num_format("0.0"),
            percent: Format::new().set_num_format("0.0%"),
            total_count: total.clone().set_num_format("0"),
            total_minutes: total.set_num_format("0.00"),
        }
    }
}

/// A figure of the summary: how it is written.
#[derive(Clone, Copy)]
enum Value {
    /// A count.
    Count(usize),
    /// Milliseconds, written as minutes.
    Minutes(i64),
    /// Part of a whole, written as a fraction shown as a percentage ("—"
    /// when the whole is nothing).
    Rate(usize, usize),
}

fn put(
    ws: &mut Worksheet,
    row: RowNum,
    col: ColNum,
    v: Value,
    st: &Styles,
) -> Result<(), XlsxError> {
    match v {
        Value::Count(n) => ws.write_number_with_format(row, col, n as f64, &st.count)?,
        Value::Minutes(ms) => ws.write_number_with_format(row, col, minutes(ms), &st.minutes)?,
        Value::Rate(_, 0) => ws.write_string(row, col, "—")?,
        Value::Rate(part, whole) => {
            ws.write_number_with_format(row, col, part as f64 / whole as f64, &st.percent)?
        }
    };
    Ok(())
}

/// A real Excel date.
fn excel_date(d: Date) -> Result<ExcelDateTime, XlsxError> {
    let year = u16::try_from(d.year()).unwrap_or(0);
    let month = u8::try_from(d.month()).unwrap_or(0);
    let day = u8::try_from(d.day()).unwrap_or(0);
    ExcelDateTime::from_ymd(year, month, day)
}

/// A real Excel time from "HH:MM:SS" or "HH:MM"; None for anything else.
fn excel_time(hms: &str) -> Option<ExcelDateTime> {
    let mut parts = hms.split(':').map(|p| p.parse::<u8>().ok());
    let h = parts.next()??;
    let m = parts.next()??;
    let s = parts.next().unwrap_or(Some(0))?;
    if parts.next().is_some() || h > 23 || m > 59 || s > 59 {
        return None;
    }
    ExcelDateTime::from_hms(u16::from(h), m, s).ok()
}

fn put_date(
    ws: &mut Worksheet,
    row: RowNum,
    col: ColNum,
    d: Date,
    st: &Styles,
) -> Result<(), XlsxError> {
    ws.write_datetime_with_format(row, col, excel_date(d)?, &st.date)?;
    Ok(())
}

/// A time of day as a real time in `format`, else as the text it is.
fn put_time(
    ws: &mut Worksheet,
    row: RowNum,
    col: ColNum,
    hms: &str,
    format: &Format,
) -> Result<(), XlsxError> {
    match excel_time(hms) {
        Some(t) => ws.write_datetime_with_format(row, col, t, format)?,
        None => ws.write_string(row, col, hms)?,
    };
    Ok(())
}

/// A header row at `row`, its cells in the header format.
fn header(ws: &mut Worksheet, row: RowNum, labels: &[&str], st: &Styles) -> Result<(), XlsxError> {
    for (col, label) in (0..).zip(labels) {
        ws.write_string_with_format(row, col, *label, &st.header)?;
    }
    Ok(())
}

fn widths(ws: &mut Worksheet, widths: &[f64]) -> Result<(), XlsxError> {
    for (col, w) in (0..).zip(widths) {
        ws.set_column_width(col, *w)?;
    }
    Ok(())
}

/// The period's figures, as the summary lists them.
fn figures(f: &Figures, lang: Lang) -> Vec<(&'static str, Value)> {
    vec![
        (
            lang.pick("Buổi phát theo lịch", "Scheduled broadcasts"),
            Value::Count(f.planned_broadcasts),
        ),
        (
            lang.pick("Đã phát", "Aired"),
            Value::Count(f.aired_broadcasts),
        ),
        (
            lang.pick("Tỉ lệ", "Rate"),
            Value::Rate(f.aired_broadcasts, f.planned_broadcasts),
        ),
        (
            lang.pick("Bản tin đã phát", "Bulletins aired"),
            Value::Count(f.bulletins),
        ),
        (lang.pick("Nhạc hiệu", "Jingles"), Value::Count(f.jingles)),
        (
            lang.pick("Số phút phát", "Minutes on air"),
            Value::Minutes(f.aired_ms),
        ),
        (
            lang.pick("Số phút theo lịch", "Minutes scheduled"),
            Value::Minutes(f.planned_ms),
        ),
        (
            lang.pick("Số phút tiếp sóng", "Minutes relayed"),
            Value::Minutes(f.relayed_ms),
        ),
        (
            lang.pick(
                "Ngoài lịch (ưu tiên/khẩn cấp)",
                "Outside the schedule (priority/emergency)",
            ),
            Value::Count(f.extra_broadcasts),
        ),
        (lang.pick("Bị lỡ", "Missed"), Value::Count(f.missed)),
        (lang.pick("Lỗi", "Failed"), Value::Count(f.failed)),
        (
            lang.pick("Bị ngắt", "Interrupted"),
            Value::Count(f.interrupted),
        ),
        (lang.pick("Bỏ qua", "Skipped"), Value::Count(f.skipped)),
    ]
}

/// "Tổng hợp": who, when, the period's figures, then per phase, per
/// priority, the emergencies and per zone.
fn summary(r: &Report, st: &Styles, name: &str) -> Result<Worksheet, XlsxError> {
    let lang = r.lang;
    let mut ws = Worksheet::new();
    ws.set_name(name)?;
    widths(&mut ws, &[42.0, 16.0, 14.0, 26.0, 14.0, 16.0, 16.0])?;
    let station = r.station.name.as_deref().unwrap_or(text::BLANK);
    ws.write_string_with_format(0, 0, station, &st.title)?;
    ws.write_string_with_format(1, 0, text::period(r), &st.bold)?;
    let mut row: RowNum = 2;
    if let Some(n) = text::narrowed(r) {
        ws.write_string(row, 0, n)?;
        row += 1;
    }
    ws.write_string(row, 0, text::place_and_date(r))?;
    row += 2;
    header(
        &mut ws,
        row,
        &[
            lang.pick("Chỉ tiêu", "Figure"),
            lang.pick("Số liệu", "Value"),
        ],
        st,
    )?;
    row += 1;
    for (label, v) in figures(&r.total, lang) {
        ws.write_string(row, 0, label)?;
        put(&mut ws, row, 1, v, st)?;
        row += 1;
    }
    row = phases(&mut ws, row + 1, r, st)?;
    row = priorities(&mut ws, row + 1, r, st)?;
    row = emergencies(&mut ws, row + 1, r, st)?;
    if !r.zones.is_empty() {
        zones(&mut ws, row + 1, r, st)?;
    }
    ws.set_active(true);
    Ok(ws)
}

/// The per-phase table from `row`; the row after it.
fn phases(
    ws: &mut Worksheet,
    mut row: RowNum,
    r: &Report,
    st: &Styles,
) -> Result<RowNum, XlsxError> {
    let lang = r.lang;
    ws.write_string_with_format(row, 0, lang.pick("Theo chủ đề", "By phase"), &st.bold)?;
    row += 1;
    if r.phases.is_empty() {
        ws.write_string(row, 0, lang.pick("Không có.", "None."))?;
        return Ok(row + 1);
    }
    header(
        ws,
        row,
        &[
            lang.pick("Chủ đề", "Phase"),
            lang.pick("Buổi theo lịch", "Scheduled"),
            lang.pick("Đã phát", "Aired"),
            lang.pick("Tỉ lệ", "Rate"),
            lang.pick("Bản tin", "Bulletins"),
            lang.pick("Số phút phát", "Minutes on air"),
            lang.pick("Số phút theo lịch", "Minutes scheduled"),
        ],
        st,
    )?;
    row += 1;
    for p in &r.phases {
        let f = &p.figures;
        ws.write_string(row, 0, &p.name)?;
        let values = [
            Value::Count(f.planned_broadcasts),
            Value::Count(f.aired_broadcasts),
            Value::Rate(f.aired_broadcasts, f.planned_broadcasts),
            Value::Count(f.bulletins),
            Value::Minutes(f.aired_ms),
            Value::Minutes(f.planned_ms),
        ];
        for (col, v) in (1..).zip(values) {
            put(ws, row, col, v, st)?;
        }
        row += 1;
    }
    Ok(row)
}

/// The per-priority table from `row`; the row after it.
fn priorities(
    ws: &mut Worksheet,
    mut row: RowNum,
    r: &Report,
    st: &Styles,
) -> Result<RowNum, XlsxError> {
    let lang = r.lang;
    let title = lang.pick("Theo mức ưu tiên", "By priority");
    ws.write_string_with_format(row, 0, title, &st.bold)?;
    header(
        ws,
        row + 1,
        &[
            lang.pick("Mức ưu tiên", "Priority"),
            lang.pick("Số lần phát", "Broadcasts"),
            lang.pick("Bản tin", "Bulletins"),
            lang.pick("Số phút phát", "Minutes on air"),
        ],
        st,
    )?;
    row += 2;
    for p in &r.priorities {
        ws.write_string(row, 0, p.priority.label(lang))?;
        put(ws, row, 1, Value::Count(p.broadcasts), st)?;
        put(ws, row, 2, Value::Count(p.bulletins), st)?;
        put(ws, row, 3, Value::Minutes(p.aired_ms), st)?;
        row += 1;
    }
    Ok(row)
}

/// The emergency broadcasts from `row`; the row after them.
fn emergencies(
    ws: &mut Worksheet,
    mut row: RowNum,
    r: &Report,
    st: &Styles,
) -> Result<RowNum, XlsxError> {
    let lang = r.lang;
    let title = lang.pick("Phát khẩn cấp", "Emergency broadcasts");
    ws.write_string_with_format(row, 0, title, &st.bold)?;
    row += 1;
    if r.emergencies.is_empty() {
        ws.write_string(row, 0, lang.pick("Không có.", "None."))?;
        return Ok(row + 1);
    }
    header(
        ws,
        row,
        &[
            lang.pick("Tệp", "File"),
            lang.pick("Ngày", "Date"),
            lang.pick("Giờ", "Time"),
            lang.pick("Tình trạng", "Status"),
            lang.pick("Số phút phát", "Minutes on air"),
        ],
        st,
    )?;
    row += 1;
    for e in &r.emergencies {
        ws.write_string(row, 0, &e.file)?;
        put_date(ws, row, 1, e.day, st)?;
        put_time(ws, row, 2, &e.time, &st.time)?;
        ws.write_string(row, 3, e.status.label(lang))?;
        put(ws, row, 4, Value::Minutes(e.aired_ms), st)?;
        row += 1;
    }
    Ok(row)
}

/// The per-zone table from `row`; the row after it.
fn zones(
    ws: &mut Worksheet,
    mut row: RowNum,
    r: &Report,
    st: &Styles,
) -> Result<RowNum, XlsxError> {
    let lang = r.lang;
    ws.write_string_with_format(row, 0, text::zones_title(lang), &st.bold)?;
    header(
        ws,
        row + 1,
        &[
            lang.pick("Thôn/vùng", "Zone"),
            lang.pick("Mã vùng", "Name"),
            lang.pick("Số lần phát", "Broadcasts"),
            lang.pick("Bản tin", "Bulletins"),
            lang.pick("Số phút phát", "Minutes on air"),
        ],
        st,
    )?;
    row += 2;
    for z in &r.zones {
        ws.write_string(row, 0, &z.title)?;
        ws.write_string(row, 1, &z.name)?;
        put(ws, row, 2, Value::Count(z.broadcasts), st)?;
        put(ws, row, 3, Value::Count(z.bulletins), st)?;
        put(ws, row, 4, Value::Minutes(z.aired_ms), st)?;
        row += 1;
    }
    Ok(row)
}

/// A day's (or the total's) figures, as the per-day sheet's columns after
/// the date.
fn day_values(f: &Figures) -> [Value; 10] {
    [
        Value::Count(f.planned_broadcasts),
        Value::Count(f.aired_broadcasts),
        Value::Count(f.bulletins),
        Value::Minutes(f.aired_ms),
        Value::Minutes(f.planned_ms),
        Value::Minutes(f.relayed_ms),
        Value::Count(f.missed),
        Value::Count(f.failed),
        Value::Count(f.interrupted),
        Value::Count(f.skipped),
    ]
}

/// The per-day sheet's column of the minutes aired (the chart's first
/// series); the minutes scheduled are the next.
const AIRED_MINUTES_COL: ColNum = 4;

/// "Theo ngày": one row per day, the total, and the chart.
fn per_day(r: &Report, st: &Styles, name: &str) -> Result<Worksheet, XlsxError> {
    let lang = r.lang;
    let mut ws = Worksheet::new();
    ws.set_name(name)?;
    let labels = [
        lang.pick("Ngày", "Date"),
        lang.pick("Buổi theo lịch", "Scheduled"),
        lang.pick("Đã phát", "Aired"),
        lang.pick("Bản tin", "Bulletins"),
        lang.pick("Số phút phát", "Minutes on air"),
        lang.pick("Số phút theo lịch", "Minutes scheduled"),
        lang.pick("Số phút tiếp sóng", "Minutes relayed"),
        lang.pick("Bị lỡ", "Missed"),
        lang.pick("Lỗi", "Failed"),
        lang.pick("Bị ngắt", "Interrupted"),
        lang.pick("Bỏ qua", "Skipped"),
    ];
    header(&mut ws, 0, &labels, st)?;
    ws.set_row_height(0, 32)?;
    widths(
        &mut ws,
        &[12.0, 10.0, 9.0, 9.0, 10.0, 11.0, 11.0, 8.0, 8.0, 8.0, 8.0],
    )?;
    let mut row: RowNum = 1;
    for d in &r.days {
        put_date(&mut ws, row, 0, d.date, st)?;
        for (col, v) in (1..).zip(day_values(&d.figures)) {
            put(&mut ws, row, col, v, st)?;
        }
        row += 1;
    }
    let last_day = row - 1;
    let total = lang.pick("Tổng cộng", "Total");
    ws.write_string_with_format(row, 0, total, &st.total_count)?;
    for (col, v) in (1..).zip(day_values(&r.total)) {
        match v {
            Value::Minutes(ms) => {
                ws.write_number_with_format(row, col, minutes(ms), &st.total_minutes)?
            }
            Value::Count(n) | Value::Rate(n, _) => {
                ws.write_number_with_format(row, col, n as f64, &st.total_count)?
            }
        };
    }
    ws.set_freeze_panes(1, 0)?;
    let last_col = ColNum::try_from(labels.len() - 1).unwrap_or(0);
    ws.autofilter(0, 0, last_day, last_col)?;
    if !r.days.is_empty() {
        let chart = minutes_chart(lang, name, last_day);
        ws.insert_chart_with_offset(1, last_col + 2, &chart, 0, 0)?;
    }
    Ok(ws)
}

/// The column chart of the minutes aired and scheduled per day, from the
/// per-day sheet `sheet` (days in rows 1 to `last_day`).
fn minutes_chart(lang: Lang, sheet: &str, last_day: RowNum) -> Chart {
    let mut chart = Chart::new(ChartType::Column);
    for col in [AIRED_MINUTES_COL, AIRED_MINUTES_COL + 1] {
        chart
            .add_series()
            .set_name((sheet, 0, col))
            .set_categories((sheet, 1, 0, last_day, 0))
            .set_values((sheet, 1, col, last_day, col));
    }
    chart.title().set_name(lang.pick(
        "Số phút phát so với lịch theo ngày",
        "Minutes aired vs scheduled per day",
    ));
    chart.x_axis().set_num_format("dd/mm");
    chart.y_axis().set_name(lang.pick("phút", "minutes"));
    chart.legend().set_position(ChartLegendPosition::Bottom);
    chart.set_width(900).set_height(420);
    chart
}

/// "Có" / "Không".
fn yes_no(b: bool, lang: Lang) -> &'static str {
    match b {
        true => lang.pick("Có", "Yes"),
        false => lang.pick("Không", "No"),
    }
}

/// "Chi tiết": every as-run row.
fn items(r: &Report, st: &Styles, name: &str) -> Result<Worksheet, XlsxError> {
    let lang = r.lang;
    let mut ws = Worksheet::new();
    ws.set_name(name)?;
    let labels = [
        lang.pick("Ngày", "Date"),
        lang.pick("Giờ", "Time"),
        lang.pick("Buổi phát", "Broadcast"),
        lang.pick("Tệp", "File"),
        lang.pick("Tình trạng", "Status"),
        lang.pick("Ưu tiên", "Priority"),
        lang.pick("Số giây phát", "Seconds on air"),
        lang.pick("Nhạc hiệu", "Jingle"),
        lang.pick("Tiếp sóng", "Relayed"),
        lang.pick("Lý do", "Reason"),
    ];
    header(&mut ws, 0, &labels, st)?;
    widths(
        &mut ws,
        &[12.0, 10.0, 18.0, 32.0, 12.0, 10.0, 10.0, 10.0, 10.0, 60.0],
    )?;
    let mut row: RowNum = 1;
    for l in &r.lines {
        let rec = &l.record;
        put_date(&mut ws, row, 0, rec.day, st)?;
        put_time(&mut ws, row, 1, &l.time, &st.time)?;
        if let Some(b) = &rec.broadcast {
            ws.write_string(row, 2, b)?;
        }
        ws.write_string(row, 3, &rec.file)?;
        ws.write_string(row, 4, rec.status.label(lang))?;
        ws.write_string(row, 5, rec.priority.label(lang))?;
        let secs = (l.aired_ms as f64 / 100.0).round() / 10.0;
        ws.write_number_with_format(row, 6, secs, &st.seconds)?;
        ws.write_string(row, 7, yes_no(l.jingle, lang))?;
        ws.write_string(row, 8, yes_no(l.relayed, lang))?;
        if !l.reason.is_empty() {
            ws.write_string(row, 9, &l.reason)?;
        }
        row += 1;
    }
    ws.set_freeze_panes(1, 0)?;
    let last_col = ColNum::try_from(labels.len() - 1).unwrap_or(0);
    ws.autofilter(0, 0, row - 1, last_col)?;
    Ok(ws)
}

/// "Bị lỡ, lỗi": each missed or failed item of a scheduled broadcast.
fn problems(r: &Report, st: &Styles, name: &str) -> Result<Worksheet, XlsxError> {
    let lang = r.lang;
    let mut ws = Worksheet::new();
    ws.set_name(name)?;
    let labels = [
        lang.pick("Ngày", "Date"),
        lang.pick("Giờ", "Time"),
        lang.pick("Buổi phát", "Broadcast"),
        lang.pick("Tệp", "File"),
        lang.pick("Tình trạng", "Status"),
        lang.pick("Lý do", "Reason"),
    ];
    header(&mut ws, 0, &labels, st)?;
    widths(&mut ws, &[12.0, 8.0, 18.0, 32.0, 12.0, 80.0])?;
    let mut row: RowNum = 1;
    for p in &r.problems {
        for i in &p.items {
            put_date(&mut ws, row, 0, p.day, st)?;
            put_time(&mut ws, row, 1, &p.time, &st.hhmm)?;
            ws.write_string(row, 2, &p.title)?;
            ws.write_string(row, 3, &i.file)?;
            ws.write_string(row, 4, i.status.label(lang))?;
            ws.write_string(row, 5, &i.reason)?;
            row += 1;
        }
    }
    ws.set_freeze_panes(1, 0)?;
    let last_col = ColNum::try_from(labels.len() - 1).unwrap_or(0);
    ws.autofilter(0, 0, row - 1, last_col)?;
    Ok(ws)
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use serde_json::Value as Json;

    use super::super::{build, sample};
    use super::*;

    fn sample_report() -> Report {
        build(&sample::inputs(&sample::rows()))
    }

    fn has(bytes: &[u8], needle: &[u8]) -> bool {
        bytes.windows(needle.len()).any(|w| w == needle)
    }

    /// A Python with openpyxl: the one on the PATH, else the system's.
    fn openpyxl() -> Option<&'static str> {
        ["python3", "/usr/bin/python3"].into_iter().find(|p| {
            Command::new(p)
                .args(["-c", "import openpyxl"])
                .output()
                .is_ok_and(|o| o.status.success())
        })
    }

    /// What openpyxl makes of the workbook, as JSON.
    const READ: &str = r#"
import datetime, json, sys, zipfile
import openpyxl

def iso(v):
    if isinstance(v, (datetime.datetime, datetime.date, datetime.time)):
        return v.isoformat()
    return v

path = sys.argv[1]
wb = openpyxl.load_workbook(path)
summary, per_day, items, problems = (wb[n] for n in wb.sheetnames)
days, totals = [], []
for row in per_day.iter_rows(min_row=2):
    values = [c.value for c in row]
    entry = {"type": type(values[0]).__name__, "date": iso(values[0]),
             "values": values[1:], "format": row[0].number_format}
    (days if entry["type"] == "datetime" else totals).append(entry)
figures, formats = {}, {}
for row in summary.iter_rows(max_col=2):
    label, value = row[0].value, row[1].value
    if isinstance(label, str) and isinstance(value, (int, float)) and label not in figures:
        figures[label] = value
        formats[label] = row[1].number_format
item_rows = [[iso(c.value) for c in row] for row in items.iter_rows(min_row=2)]
def kind(v):
    return "number" if isinstance(v, (int, float)) else type(v).__name__

item_types = [kind(c.value) for c in next(items.iter_rows(min_row=2), [])]
zones = []
cells = [[c.value for c in r] for r in summary.iter_rows()]
for i, r in enumerate(cells):
    if r[0] in ("Thời lượng phát theo thôn/vùng", "Time on air per zone"):
        zones.append({"header": cells[i + 1][:5]})
        for z in cells[i + 2:]:
            if z[0] is None:
                break
            zones.append({"values": z[:5], "types": [kind(v) for v in z[:5]]})
print(json.dumps({
    "zip": zipfile.ZipFile(path).namelist(),
    "sheets": wb.sheetnames,
    "station": summary["A1"].value,
    "days": days,
    "totals": totals,
    "charts": len(per_day._charts),
    "freeze": [per_day.freeze_panes, items.freeze_panes],
    "filter": [per_day.auto_filter.ref, items.auto_filter.ref],
    "figures": figures,
    "formats": formats,
    "items": item_rows,
    "item_types": item_types,
    "problems": problems.max_row - 1,
    "zones": zones,
}, default=str))
"#;

    /// The workbook as openpyxl reads it; None (after saying so) when
    /// there is no openpyxl.
    fn read_back(bytes: &[u8]) -> Option<Json> {
        let Some(python) = openpyxl() else {
            // tests/run.sh installs it: under CI its absence is a broken
            // set-up, not a reason to skip.
            assert!(
                std::env::var_os("CI").is_none(),
                "python3-openpyxl missing, but tests/run.sh installs it"
            );
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED xlsx read-back: python3-openpyxl missing"
            );
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bao-cao.xlsx");
        std::fs::write(&path, bytes).unwrap();
        let out = Command::new(python)
            .args(["-c", READ])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openpyxl: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Some(serde_json::from_slice(&out.stdout).unwrap())
    }

    #[test]
    fn a_zip_with_a_native_chart() {
        let bytes = write(&sample_report()).unwrap();
        assert!(bytes.starts_with(b"PK\x03\x04"), "a zip archive");
        assert!(has(&bytes, b"xl/charts/chart1.xml"));
        assert!(has(&bytes, b"xl/worksheets/sheet4.xml"));
    }

    #[test]
    fn openpyxl_reads_real_dates_numbers_and_the_chart() {
        let r = sample_report();
        let Some(j) = read_back(&write(&r).unwrap()) else {
            return;
        };
        assert!(
            j["zip"]
                .as_array()
                .unwrap()
                .contains(&"xl/charts/chart1.xml".into())
        );
        assert_eq!(
            j["sheets"],
            serde_json::json!(["Tổng hợp", "Theo ngày", "Chi tiết", "Bị lỡ, lỗi"])
        );
        assert_eq!(j["station"], "Đài truyền thanh xã An Bình");
        let days = j["days"].as_array().unwrap();
        assert_eq!(days.len(), 30, "November");
        assert_eq!(days[0]["type"], "datetime", "a real date, not text");
        assert_eq!(days[0]["date"], "2026-11-01T00:00:00");
        assert_eq!(days[29]["date"], "2026-11-30T00:00:00");
        assert_eq!(days[0]["format"], "dd/mm/yyyy");
        // 01/11: 2 of 2 broadcasts, 4 minutes aired of 4; the 25th's relay.
        assert_eq!(days[0]["values"][0], 2);
        assert_eq!(days[0]["values"][3], 4.0);
        assert_eq!(days[0]["values"][4], 4.0);
        assert_eq!(days[24]["values"][3], 12.5);
        assert_eq!(days[24]["values"][5], 10.0);
        assert!(days.iter().all(|d| d["values"][3].is_number()));
        let totals = j["totals"].as_array().unwrap();
        assert_eq!(totals.len(), 1);
        assert_eq!(totals[0]["values"][0], 60);
        assert_eq!(totals[0]["values"][1], 57);
        assert_eq!(totals[0]["values"][3], minutes(r.total.aired_ms));
        assert_eq!(j["charts"], 1, "the per-day sheet has its chart");
        assert_eq!(j["freeze"], serde_json::json!(["A2", "A2"]));
        assert_eq!(j["filter"][0], "A1:K31");
        let f = &j["figures"];
        assert_eq!(f["Buổi phát theo lịch"], 60);
        assert_eq!(f["Đã phát"], 57);
        assert_eq!(f["Tỉ lệ"], 0.95, "a fraction, not text");
        assert_eq!(j["formats"]["Tỉ lệ"], "0.0%");
        assert_eq!(f["Số phút phát"], minutes(r.total.aired_ms));
        assert_eq!(f["Số phút theo lịch"], 120.0);
        assert_eq!(f["Số phút tiếp sóng"], 10.0);
        assert_eq!(f["Ngoài lịch (ưu tiên/khẩn cấp)"], 1);
        assert_eq!((f["Bị lỡ"].clone(), f["Lỗi"].clone()), (4.into(), 1.into()));
        let items = j["items"].as_array().unwrap();
        assert_eq!(items.len(), r.lines.len());
        assert_eq!(
            j["item_types"],
            serde_json::json!([
                "datetime", "time", "str", "str", "str", "str", "number", "str", "str", "NoneType"
            ])
        );
        assert_eq!(items[0][1], "06:00:00");
        assert_eq!(items[0][3], "nhac-hieu.mp3");
        assert_eq!(items[0][6], 30.0);
        assert_eq!(
            j["problems"], 5,
            "2 on the 5th, 1 on the 12th, 2 on the 28th"
        );
        assert_eq!(j["zones"], serde_json::json!([]), "no zones, no block");
    }

    #[test]
    fn minutes_per_zone_as_numbers() {
        let rows = sample::zoned_rows();
        let r = build(&sample::zoned_inputs(&rows));
        let Some(j) = read_back(&write(&r).unwrap()) else {
            return;
        };
        assert_eq!(
            j["zones"],
            serde_json::json!([
                {"header": ["Thôn/vùng", "Mã vùng", "Số lần phát", "Bản tin", "Số phút phát"]},
                {"values": ["Thôn Đông", "thon-1", 26, 26, 59.25],
                 "types": ["str", "str", "number", "number", "number"]},
                {"values": ["Thôn Tây", "thon-2", 52, 52, 111.25],
                 "types": ["str", "str", "number", "number", "number"]},
                {"values": ["Thôn Bắc", "thon-3", 0, 0, 0],
                 "types": ["str", "str", "number", "number", "number"]},
            ])
        );
    }

    #[test]
    fn a_period_with_no_days_writes_a_valid_workbook() {
        let mut inp = sample::inputs(&[]);
        inp.schedule.clear();
        inp.now = sample::at(1, "00:00:00", 0);
        inp.from = jiff::civil::date(2026, 11, 2);
        let r = build(&inp);
        assert!(r.days.is_empty());
        let bytes = write(&r).unwrap();
        assert!(bytes.starts_with(b"PK\x03\x04"));
        assert!(!has(&bytes, b"xl/charts/chart1.xml"), "no days, no chart");
        let Some(j) = read_back(&bytes) else {
            return;
        };
        assert_eq!(j["days"].as_array().unwrap().len(), 0);
        assert_eq!(j["totals"].as_array().unwrap().len(), 1);
        assert_eq!(j["items"].as_array().unwrap().len(), 0);
        assert_eq!(j["charts"], 0);
    }

    #[test]
    fn in_english_and_narrowed() {
        let rows = sample::zoned_rows();
        let mut inp = sample::zoned_inputs(&rows);
        inp.lang = Lang::En;
        inp.filter.tag = Some(("truoc-dai-hoi".into(), "Before the congress".into()));
        inp.filter.zone = Some(("thon-1".into(), "Thôn Đông".into()));
        let r = build(&inp);
        let Some(j) = read_back(&write(&r).unwrap()) else {
            return;
        };
        assert_eq!(
            j["sheets"],
            serde_json::json!(["Summary", "Per day", "Items", "Missed, failed"])
        );
        // The mornings from the 4th, when the rows name zones.
        assert_eq!(j["figures"]["Scheduled broadcasts"], 27);
        assert_eq!(j["figures"]["Aired"], 25);
        assert_eq!(j["zones"][1]["values"][1], "thon-1", "{}", j["zones"]);
        assert_eq!(j["zones"].as_array().unwrap().len(), 2, "the one zone");
    }

    #[test]
    fn sheet_names_excel_accepts() {
        for lang in [Lang::Vi, Lang::En] {
            let n = SheetNames::new(lang);
            for name in [n.summary, n.per_day, n.items, n.problems] {
                assert!(name.chars().count() <= 31, "{name}");
                assert!(
                    !name.contains(['[', ']', ':', '*', '?', '/', '\\']),
                    "{name}"
                );
            }
        }
    }

    #[test]
    fn times_of_day() {
        let t = excel_time("06:30:15").unwrap();
        assert!((t.to_excel() - (6.0 * 3600.0 + 30.0 * 60.0 + 15.0) / 86_400.0).abs() < 1e-9);
        assert!(excel_time("17:00").is_some());
        assert!(excel_time("").is_none());
        assert!(excel_time("25:00:00").is_none());
        assert!(excel_time("1:2:3:4").is_none());
    }
}
