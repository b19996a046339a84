//! `loa report --from D --to D [--format docx|xlsx|md|csv] [--out FILE]
//! [--zone Z] [--tag T] [--separator ';']`: the periodic report a commune
//! files with the district or province, from the as-run log and the
//! schedule. The figures are [`crate::report::build`]'s; the forms are
//! [`crate::report`]'s writers.
//!
//! - `md` (the default) and `csv` go to standard output, or to `--out`.
//! - `docx` and `xlsx` go to `--out`, else to
//!   `bao-cao-FROM_TO.docx`/`.xlsx` in the current folder; loa says where.
//!   A file is written whole or not at all (a temporary file, then
//!   renamed).
//! - `--tag` takes a tag as playlists write it or its readable name.
//! - `--zone` takes a zone's name (or its title) from the config's
//!   `[[zone]]` and counts only what aired to that hamlet; a config
//!   without zones refuses it, and an unknown name gets the nearest one.
//! - With zones in the config, every form has a section of what aired to
//!   each zone (broadcasts, bulletins, time on air), counted from the
//!   zones each as-run row names; rows from before zones existed count
//!   for none.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use jiff::civil::Date;

use super::context;
use super::exit;
use super::log::date_range;
use crate::config::Config;
use crate::lang::Lang;
use crate::report::build::Scheduled;
use crate::report::{Filter, Inputs, Report};
use crate::schedule::agenda::broadcast_key;
use crate::schedule::clock::Clock;
use crate::schedule::{PlanSettings, plan_for};
use crate::tr;

/// The output formats `--format` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `docx`: the administrative report, for Word or LibreOffice.
    Docx,
    /// `xlsx`: sheets and a chart, for Excel or LibreOffice Calc.
    Xlsx,
    /// `md`: Markdown, for the terminal.
    Markdown,
    /// `csv`: for a spreadsheet's import.
    Csv,
}

impl Format {
    /// The format named `s` (any case).
    pub fn parse(s: &str) -> Option<Format> {
        match s.trim().to_ascii_lowercase().as_str() {
            "docx" | "word" => Some(Format::Docx),
            "xlsx" | "excel" => Some(Format::Xlsx),
            "md" | "markdown" => Some(Format::Markdown),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }

    /// Its file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Docx => "docx",
            Format::Xlsx => "xlsx",
            Format::Markdown => "md",
            Format::Csv => "csv",
        }
    }
}

/// What `loa report` was asked for.
#[derive(Clone, Debug, Default)]
pub struct Args<'a> {
    /// `--from`.
    pub from: &'a str,
    /// `--to`.
    pub to: &'a str,
    /// `--format` (md when not given).
    pub format: Option<&'a str>,
    /// `--out`.
    pub out: Option<&'a Path>,
    /// `--zone`.
    pub zone: Option<&'a str>,
    /// `--tag`.
    pub tag: Option<&'a str>,
    /// `--separator` (CSV only).
    pub separator: Option<&'a str>,
}

/// `loa report`: the commune's report over a range of days; the exit code.
pub fn run(config: Option<&Path>, args: &Args<'_>, clock: &dyn Clock) -> i32 {
    let Some(cfg) = context::config_or_say(config) else {
        return exit::CONFIG;
    };
    let lang = cfg.lang;
    let (fmt, sep) = match format_and_separator(args, lang) {
        Ok(x) => x,
        Err(msg) => {
            eprintln!("{msg}");
            return exit::CONFIG;
        }
    };
    let (from, to) = match date_range(args.from, args.to, lang) {
        Ok(r) => r,
        Err(msg) => {
            eprintln!("{msg}");
            return exit::CONFIG;
        }
    };
    let zone = match args.zone.map(|z| find_zone(&cfg, z)).transpose() {
        Ok(z) => z,
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
                    "Lưu ý: thư mục trạng thái {state} chưa có nhật ký phát (loa chưa phát gì).",
                    "note: no as-run log in the state folder {state} yet (loa has not aired anything)"
                )
            );
            Vec::new()
        }
        Err(msg) => {
            eprintln!("{msg}");
            return exit::PROBLEMS;
        }
    };
    let now = clock.now();
    let playlists = crate::playlist::load_dir(&cfg.paths.playlists, lang);
    let tag_names = playlists.tag_names();
    let tag = match args.tag {
        Some(t) => match find_tag(t, &rows, &playlists, &tag_names, lang) {
            Ok(t) => Some(t),
            Err(msg) => {
                eprintln!("{msg}");
                return exit::CONFIG;
            }
        },
        None => None,
    };
    let today = cfg.tz.to_offset(now).to_datetime(now).date();
    // The files playlists mark `jingle = true`, besides [station] jingles'
    // patterns (a name with no '*' or '?' matches only itself).
    let mut station = cfg.station.clone();
    station.jingles.extend(
        playlists
            .jingles()
            .into_iter()
            .map(|f| f.replace(['*', '?'], "?")),
    );
    let inputs = Inputs {
        lang,
        station,
        timezone: cfg.timezone_name.clone(),
        tz: cfg.tz.clone(),
        now,
        from,
        to,
        rows: &rows,
        schedule: schedule(&cfg, &playlists, from, to.min(today)),
        installed: installed_at(&cfg),
        tag_names,
        zones: cfg
            .zones
            .iter()
            .map(|z| (z.name.clone(), z.title.clone()))
            .collect(),
        filter: Filter {
            zone,
            tag: tag.clone(),
        },
        late_grace: cfg.schedule.late_grace,
        require_clock_sync: cfg.schedule.require_clock_sync,
        archived: cfg.archive.enabled.then(|| archived(&cfg, from, to)),
    };
    let report = crate::report::build(&inputs);
    if report.days.is_empty() {
        eprintln!(
            "{}",
            tr!(
                lang,
                "Lưu ý: từ ngày {from} đến ngày {to} đều sau hôm nay ({today}): báo cáo không có ngày nào.",
                "note: {from} to {to} is all after today ({today}): the report has no days"
            )
        );
    }
    output(&cfg, &report, fmt, sep, args.out)
}

/// `--format` and `--separator`, checked together.
fn format_and_separator(args: &Args<'_>, lang: Lang) -> Result<(Format, char), String> {
    let name = args.format.unwrap_or("md");
    let fmt = Format::parse(name).ok_or_else(|| {
        tr!(
            lang,
            "Không có định dạng --format \"{name}\"; hãy chọn docx (Word), xlsx (Excel), md (Markdown) hoặc csv.",
            "there is no --format \"{name}\"; choose docx (Word), xlsx (Excel), md (Markdown) or csv"
        )
    })?;
    let sep = match args.separator {
        None => ',',
        Some(s) if fmt != Format::Csv => {
            let f = fmt.extension();
            return Err(tr!(
                lang,
                "--separator \"{s}\" chỉ dùng với --format csv (đang chọn {f}).",
                "--separator \"{s}\" only applies to --format csv (not {f})"
            ));
        }
        Some(s) => match s {
            "," => ',',
            ";" => ';',
            "\t" | "tab" | "\\t" => '\t',
            _ => {
                return Err(tr!(
                    lang,
                    "Không dùng được --separator \"{s}\"; hãy chọn ',' (mặc định), ';' (cho Excel đặt dấu phẩy thập phân) hoặc tab.",
                    "--separator \"{s}\" cannot be used; choose ',' (the default), ';' (for an Excel whose decimal mark is the comma) or tab"
                ));
            }
        },
    };
    Ok((fmt, sep))
}

/// The zone `--zone` names: (name, title), by its name, else by its title
/// (case ignored); else what is wrong: no zones in the config, or an
/// unknown name with the nearest.
fn find_zone(cfg: &Config, asked: &str) -> Result<(String, String), String> {
    let lang = cfg.lang;
    if cfg.zones.is_empty() {
        let z = crate::air::display_name(asked);
        return Err(tr!(
            lang,
            "Không lọc theo --zone \"{z}\" được: tệp cấu hình chưa khai báo vùng nào ([[zone]]), mọi buổi phát đều phát cho cả xã. Hãy bỏ --zone.",
            "cannot narrow to --zone \"{z}\": the config declares no zones ([[zone]]); every broadcast goes to the whole commune. Leave out --zone."
        ));
    }
    let want = asked.trim();
    cfg.zones
        .iter()
        .find(|z| z.name == want)
        .or_else(|| {
            let want = want.to_lowercase();
            cfg.zones.iter().find(|z| z.title.to_lowercase() == want)
        })
        .map(|z| (z.name.clone(), z.title.clone()))
        .ok_or_else(|| crate::config::zone::unknown_message(&cfg.zones, want, lang))
}

/// The phase `--tag` names: a tag as written, or a readable name (case
/// ignored); else a message with the nearest.
fn find_tag(
    asked: &str,
    rows: &[crate::asrun::Row],
    playlists: &crate::playlist::PlaylistSet,
    names: &BTreeMap<String, String>,
    lang: Lang,
) -> Result<(String, String), String> {
    let mut known: Vec<String> = names.keys().cloned().collect();
    let planned = playlists
        .default
        .iter()
        .chain(playlists.dated.values())
        .flat_map(|p| &p.broadcasts)
        .flat_map(|b| &b.tags);
    for t in rows.iter().flat_map(|r| &r.record.tags).chain(planned) {
        if !known.contains(t) {
            known.push(t.clone());
        }
    }
    let name = |t: &str| {
        names
            .get(t)
            .cloned()
            .unwrap_or_else(|| crate::report::text::readable_tag(t))
    };
    let want = asked.trim().to_lowercase();
    if let Some(t) = known
        .iter()
        .find(|t| t.to_lowercase() == want || name(t).to_lowercase() == want)
    {
        return Ok((t.clone(), name(t)));
    }
    let hint = crate::tomlfile::nearest(asked, known.iter().map(String::as_str))
        .map(|n| tr!(lang, " Có phải ý bạn là \"{n}\"?", " Did you mean \"{n}\"?"))
        .unwrap_or_default();
    let list = if known.is_empty() {
        lang.pick("(chưa có chủ đề nào)", "(none yet)").to_string()
    } else {
        known.join(", ")
    };
    Err(tr!(
        lang,
        "Không có chủ đề (tags) \"{asked}\" trong danh sách phát hay nhật ký phát.{hint} Các chủ đề: {list}.",
        "there is no tag \"{asked}\" in the playlists or the as-run log.{hint} Tags: {list}."
    ))
}

/// Each day's plan from `from` to `last` (the report's days so far).
fn schedule(
    cfg: &Config,
    playlists: &crate::playlist::PlaylistSet,
    from: Date,
    last: Date,
) -> BTreeMap<Date, Vec<Scheduled>> {
    let mut out = BTreeMap::new();
    if last < from {
        return out;
    }
    let (library, index, _) = context::open_media(cfg);
    let ahead = crate::tts::render_ahead(cfg, playlists, Some(from));
    let facts = crate::media::Facts::new(&library, &index, cfg.lang).with_speech(&ahead);
    let settings = PlanSettings::from_config(cfg);
    let mut d = from;
    while d <= last {
        let plan = plan_for(d, playlists, &facts, &settings);
        let day: Vec<Scheduled> = plan
            .broadcasts
            .iter()
            .map(|b| Scheduled {
                key: broadcast_key(d, b, &cfg.tz),
                title: b.title.clone(),
                at: b.at,
                planned_ms: (b.end.as_millisecond() - b.at.as_millisecond()).max(0),
                tags: b.tags.clone(),
                zones: b.zones.clone(),
                files: b
                    .items
                    .iter()
                    .map(|i| i.file.clone())
                    .chain(b.skipped.iter().map(|(f, _)| f.clone()))
                    .collect(),
            })
            .collect();
        out.insert(d, day);
        match d.tomorrow() {
            Ok(n) => d = n,
            Err(_) => break,
        }
    }
    out
}

/// When the service first ran on this box, if it has.
fn installed_at(cfg: &Config) -> Option<jiff::Timestamp> {
    crate::asrun::AsRun::open_existing(&cfg.paths.state)
        .ok()
        .flatten()
        .and_then(|log| log.installed_at().ok().flatten())
}

/// Milliseconds archived over the period and the recordings (a recording
/// cut by a power cut counts by its file's size).
fn archived(cfg: &Config, from: Date, to: Date) -> (i64, usize) {
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
    (ms as i64, rows.len())
}

/// Renders and writes the report; the exit code.
fn output(cfg: &Config, r: &Report, fmt: Format, sep: char, out: Option<&Path>) -> i32 {
    let lang = cfg.lang;
    let bytes = match fmt {
        Format::Markdown => Ok(crate::report::md::write(r).into_bytes()),
        Format::Csv => Ok(crate::report::csv::write(r, sep).into_bytes()),
        Format::Docx => crate::report::docx::write(r),
        Format::Xlsx => crate::report::xlsx::write(r),
    };
    let bytes = match bytes {
        Ok(b) => b,
        Err(e) => {
            eprintln!(
                "{}",
                tr!(
                    lang,
                    "Không tạo được báo cáo: {e}.",
                    "could not make the report: {e}"
                )
            );
            return exit::PROBLEMS;
        }
    };
    let path: PathBuf = match (out, fmt) {
        (Some(p), _) if p != Path::new("-") => p.to_path_buf(),
        (Some(_), _) | (None, Format::Markdown | Format::Csv) => {
            let mut o = std::io::stdout().lock();
            let _ = o.write_all(&bytes).and_then(|()| o.flush());
            return exit::OK;
        }
        (None, _) => PathBuf::from(format!("bao-cao-{}_{}.{}", r.from, r.to, fmt.extension())),
    };
    match write_whole(&path, &bytes) {
        Ok(()) => {
            let shown = crate::problem::display_path(&path);
            let kb = bytes.len().div_ceil(1024);
            println!(
                "{}",
                tr!(
                    lang,
                    "Đã ghi báo cáo vào {shown} ({kb} KB).",
                    "Wrote the report to {shown} ({kb} KB)."
                )
            );
            exit::OK
        }
        Err(e) => {
            let shown = crate::problem::display_path(&path);
            let why = crate::tomlfile::io_reason(&e, lang);
            eprintln!(
                "{}",
                tr!(
                    lang,
                    "Không ghi được báo cáo vào {shown}: {why}. Hãy chọn chỗ khác bằng --out.",
                    "could not write the report to {shown}: {why}. Choose another place with --out."
                )
            );
            exit::PROBLEMS
        }
    }
}

/// Writes `bytes` to `path` whole or not at all: a temporary file beside
/// it (created new, never following a link), synced, then renamed over it.
fn write_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.part", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let written = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names() {
        assert_eq!(Format::parse("md"), Some(Format::Markdown));
        assert_eq!(Format::parse("CSV"), Some(Format::Csv));
        assert_eq!(Format::parse("docx"), Some(Format::Docx));
        assert_eq!(Format::parse("xlsx"), Some(Format::Xlsx));
        assert_eq!(Format::parse("pdf"), None);
    }
}
