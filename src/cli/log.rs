//! `loa log`: what the as-run log holds for a day or a range of days, as a
//! table in the operator's language or as JSON for other programs. It only
//! reads: a missing state database means nothing has aired yet, and is not
//! created.
//!
//! Rows come in the order things happened (by start, else by the plan's
//! time); the table shows when each item started, and its planned time
//! beside it when the two differ (an item after a failed or cut one starts
//! early; its planned time stays the plan's).
//!
//! The JSON is an array with one object per item attempt, in that order: "id", "day" (YYYY-MM-DD), "broadcast_key", "broadcast" (title
//! or null), "tags", "file", "sha256", "scheduled", "started", "ended" (RFC
//! 3339 with the commune's offset, or null), "status" (played, failed,
//! missed, interrupted, skipped), "priority" (normal, priority, emergency),
//! "error", "late", "clock_synced", "kind" ("file", "stream", "line-in"),
//! "aired_s" (seconds of programme aired: a live item's main or backup
//! stream, a file's time on air), "zones" (the names of the zones it aired
//! to; empty when no zone is configured), "archive" (the broadcast's recording,
//! relative to the state folder, or null) and "archive_sha256" (its SHA-256
//! once the file was closed, else null).

use std::fmt::Write as _;
use std::path::Path;

use jiff::civil::Date;
use serde_json::json;

use super::context::{self, weekday_name};
use super::exit;
use crate::asrun::{AsRun, Row, Status, report::on_air_ms};
use crate::config::Config;
use crate::lang::Lang;
use crate::schedule::clock::SystemClock;
use crate::schedule::{local_time, rfc3339};
use crate::{duration, tr};

/// `loa log`: what aired, failed or was missed on a day or a range; the exit code.
pub fn run(
    config: Option<&Path>,
    date: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    json: bool,
) -> i32 {
    let Some(cfg) = context::config_or_say(config) else {
        return exit::CONFIG;
    };
    let lang = cfg.lang;
    let range = match (from, to) {
        (Some(f), Some(t)) => date_range(f, t, lang),
        _ => context::day(date, &cfg, &SystemClock).map(|d| (d, d)),
    };
    let (from, to) = match range {
        Ok(r) => r,
        Err(msg) => {
            eprintln!("{msg}");
            return exit::CONFIG;
        }
    };
    let rows = match read(&cfg, from, to) {
        Ok(rows) => rows,
        Err(msg) => {
            eprintln!("{msg}");
            return exit::PROBLEMS;
        }
    };
    let out = if json {
        let archives = archives(&cfg, from, to);
        let list: Vec<_> = rows
            .iter()
            .flatten()
            .map(|r| to_json(r, &cfg, archives.get(&r.record.broadcast_key)))
            .collect();
        serde_json::to_string_pretty(&list).unwrap_or_default() + "\n"
    } else {
        table(rows.as_deref(), from, to, &cfg)
    };
    emit(&out);
    exit::OK
}

/// Writes to stdout. A reader that went away (`loa log | head`) is not an
/// error worth a panic: the rest is simply not shown.
pub fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// `--from` and `--to` as dates, `from` not after `to`; else the message.
pub fn date_range(from: &str, to: &str, lang: Lang) -> Result<(Date, Date), String> {
    let parse = |flag: &str, s: &str| {
        crate::playlist::parse_file_date(s.trim()).ok_or_else(|| {
            tr!(
                lang,
                "{flag} \"{s}\" không phải là một ngày hợp lệ; hãy viết theo dạng NĂM-THÁNG-NGÀY, ví dụ 2026-01-20.",
                "{flag} \"{s}\" is not a real date; write YEAR-MONTH-DAY, e.g. 2026-01-20"
            )
        })
    };
    let (f, t) = (parse("--from", from)?, parse("--to", to)?);
    if f > t {
        let (f, t) = (crate::lang::date(f, lang), crate::lang::date(t, lang));
        return Err(tr!(
            lang,
            "Ngày --from ({f}) ở sau ngày --to ({t}); ngày bắt đầu không được muộn hơn ngày kết thúc.",
            "--from {f} is after --to {t}; the first day must come before or be the last day"
        ));
    }
    Ok((f, t))
}

/// The rows of [from, to]; None when loa has never written a state
/// database (nothing aired yet). Errors are the operator's message.
pub fn read(cfg: &Config, from: Date, to: Date) -> Result<Option<Vec<Row>>, String> {
    let lang = cfg.lang;
    let log = match AsRun::open_existing(&cfg.paths.state) {
        Ok(Some(log)) => log,
        Ok(None) => return Ok(None),
        Err(e) => {
            let e = e.message(lang);
            return Err(tr!(
                lang,
                "Không đọc được nhật ký phát. {e}",
                "cannot read the as-run log: {e}"
            ));
        }
    };
    log.rows(from, to).map(Some).map_err(|e| e.message(lang))
}

/// The recordings of the broadcasts of [from, to], by broadcast key (none
/// when the log cannot be read: the rows say why).
pub fn archives(
    cfg: &Config,
    from: Date,
    to: Date,
) -> std::collections::HashMap<String, crate::asrun::ArchiveRow> {
    AsRun::open_existing(&cfg.paths.state)
        .ok()
        .flatten()
        .and_then(|log| log.archive_by_key(from, to).ok())
        .unwrap_or_default()
}

/// One row as the JSON object documented above, with its broadcast's
/// recording.
pub fn to_json(
    row: &Row,
    cfg: &Config,
    archive: Option<&crate::asrun::ArchiveRow>,
) -> serde_json::Value {
    let r = &row.record;
    let time = |t: Option<jiff::Timestamp>| t.map(|t| rfc3339(t, &cfg.tz));
    json!({
        "id": row.id,
        "day": r.day.to_string(),
        "broadcast_key": r.broadcast_key,
        "broadcast": r.broadcast,
        "tags": r.tags,
        "file": r.file,
        "sha256": r.sha256,
        "scheduled": time(r.scheduled),
        "started": time(r.started),
        "ended": time(r.ended),
        "status": r.status,
        "priority": r.priority,
        "error": r.error,
        "late": r.late,
        "clock_synced": r.clock_synced,
        "archive": archive.map(|a| &a.path),
        "archive_sha256": archive.and_then(|a| a.sha256.as_ref()),
        "kind": r.kind.as_str(),
        "aired_s": aired_s(r),
        "zones": r.zones,
    })
}

/// Seconds of programme aired: a live item's as recorded, a file's time
/// on air (0 when it did not air).
fn aired_s(r: &crate::asrun::ItemRecord) -> f64 {
    let ms = match r.aired_ms {
        Some(ms) => ms,
        None if matches!(r.status, Status::Played | Status::Interrupted) => {
            crate::asrun::report::on_air_ms(r)
        }
        None => 0,
    };
    ms as f64 / 1000.0
}

/// "Thứ Ba 20/01/2026" / "Tuesday 2026-01-20".
pub fn day_name(d: Date, lang: Lang) -> String {
    let wd = weekday_name(d.weekday(), lang);
    format!("{wd} {}", short_date(d, lang))
}

/// "20/01/2026" / "2026-01-20".
pub fn short_date(d: Date, lang: Lang) -> String {
    let (dd, mm, yyyy) = (d.day(), d.month(), d.year());
    tr!(lang, "{dd:02}/{mm:02}/{yyyy}", "{yyyy}-{mm:02}-{dd:02}")
}

/// What the error column shows: the recorded reason, or for an item with a
/// start and no end, what that means.
pub fn reason(row: &Row, lang: Lang) -> String {
    let r = &row.record;
    match &r.error {
        Some(e) => e.replace(['\n', '\r'], " "),
        None if r.status == Status::Interrupted && r.ended.is_none() => tr!(
            lang,
            "chưa ghi giờ kết thúc: đang phát, hoặc loa đã bị dừng đột ngột (mất điện, khởi động lại máy)",
            "no end recorded: playing now, or loa was stopped abruptly (power cut, restart)"
        ),
        None => String::new(),
    }
}

/// The operator's table: a title, then the rows day by day, each day's
/// columns aligned on their own; or why there is nothing to show.
fn table(rows: Option<&[Row]>, from: Date, to: Date, cfg: &Config) -> String {
    let lang = cfg.lang;
    let mut o = title(from, to, cfg);
    let Some(rows) = rows else {
        let state = crate::problem::display_path(&cfg.paths.state);
        let _ = writeln!(
            o,
            "{}",
            tr!(
                lang,
                "Nhật ký phát trống: loa chưa phát gì (chưa có cơ sở dữ liệu trong thư mục trạng thái {state}).",
                "The as-run log is empty: loa has not aired anything yet (no database in the state folder {state})."
            )
        );
        return o;
    };
    if rows.is_empty() {
        let _ = writeln!(
            o,
            "{}",
            tr!(
                lang,
                "Nhật ký phát không có gì trong khoảng thời gian này.",
                "Nothing in the as-run log for this time."
            )
        );
        return o;
    }
    let header = [
        lang.pick("Giờ", "Time"),
        lang.pick("Buổi phát", "Broadcast"),
        lang.pick("Tệp", "File"),
        lang.pick("Độ dài", "Length"),
        lang.pick("Tình trạng", "Status"),
        lang.pick("Ưu tiên", "Priority"),
        lang.pick("Lỗi", "Error"),
    ]
    .map(String::from);
    if !cfg.schedule.require_clock_sync && rows.iter().any(|r| !r.record.clock_synced) {
        let _ = writeln!(
            o,
            "{}",
            tr!(
                lang,
                "Giờ theo đồng hồ của máy (require-clock-sync = false): hệ thống chưa xác nhận giờ qua mạng.",
                "Times by this box's own clock (require-clock-sync = false): the system has not confirmed the time over the network."
            )
        );
    }
    let mut day = None;
    let mut table: Vec<[String; 7]> = Vec::new();
    for row in rows {
        let r = &row.record;
        if day != Some(r.day) {
            if !table.is_empty() {
                print_rows(&mut o, &header, &table);
                table.clear();
            }
            day = Some(r.day);
            o.push('\n');
            if from != to {
                let _ = writeln!(o, "{}", day_name(r.day, lang));
            }
        }
        table.push(cells(row, cfg));
    }
    print_rows(&mut o, &header, &table);
    o
}

/// "As-run log for Tuesday 2026-01-20 (Asia/Ho_Chi_Minh time)", or from
/// one day to another, and a line break.
fn title(from: Date, to: Date, cfg: &Config) -> String {
    let lang = cfg.lang;
    let zone = &cfg.timezone_name;
    let title = if from == to {
        let day = day_name(from, lang);
        tr!(
            lang,
            "Nhật ký phát {day} (giờ {zone})",
            "As-run log for {day} ({zone} time)"
        )
    } else {
        let (f, t) = (short_date(from, lang), short_date(to, lang));
        tr!(
            lang,
            "Nhật ký phát từ ngày {f} đến ngày {t} (giờ {zone})",
            "As-run log from {f} to {t} ({zone} time)"
        )
    };
    title + "\n"
}

/// One row's cells: time, broadcast, file, length, status, priority, error.
fn cells(row: &Row, cfg: &Config) -> [String; 7] {
    let lang = cfg.lang;
    let r = &row.record;
    // When it happened; the plan's time beside it when they differ.
    let time = match (r.started, r.scheduled) {
        (Some(s), Some(p)) if (s.as_millisecond() - p.as_millisecond()).abs() >= 1000 => {
            let (s, p) = (local_time(s, &cfg.tz), local_time(p, &cfg.tz));
            tr!(lang, "{s} (theo lịch {p})", "{s} (planned {p})")
        }
        (Some(t), _) | (None, Some(t)) => local_time(t, &cfg.tz),
        (None, None) => String::new(),
    };
    let length = match (r.started, r.ended) {
        (Some(_), Some(_)) => {
            duration::clock(std::time::Duration::from_millis(on_air_ms(r) as u64))
        }
        _ => String::new(),
    };
    let mut status = r.status.label(lang).to_string();
    if r.late {
        status += lang.pick(", muộn", ", late");
    }
    // With require-clock-sync = false (a box with a battery clock), the
    // kernel's "not synchronised" is the normal state: said once above the
    // table, not on every row.
    if !r.clock_synced && cfg.schedule.require_clock_sync {
        status += lang.pick(", đồng hồ chưa đồng bộ", ", clock not synced");
    }
    [
        time,
        r.broadcast.clone().unwrap_or_else(|| "—".into()),
        r.file.clone(),
        length,
        status,
        r.priority.label(lang).to_string(),
        reason(row, lang),
    ]
}

/// Prints aligned columns (by characters: Vietnamese text is NFC); the
/// last column is not padded.
fn print_rows(o: &mut String, header: &[String; 7], rows: &[[String; 7]]) {
    let width = |i: usize| {
        std::iter::once(header)
            .chain(rows)
            .map(|r| r[i].chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..7).map(width).collect();
    for r in std::iter::once(header).chain(rows) {
        let mut line = String::from(" ");
        for (i, cell) in r.iter().enumerate() {
            line.push(' ');
            line.push_str(cell);
            if i + 1 < r.len() {
                let pad = widths[i] - cell.chars().count();
                line.extend(std::iter::repeat_n(' ', pad + 1));
            }
        }
        let _ = writeln!(o, "{}", line.trim_end());
    }
}
