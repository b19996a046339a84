//! The commune's periodic report (`loa report`): what the station aired over
//! a range of days, against its schedule, in the forms an official files.
//!
//! [`Report`] holds every figure, built once by [`build`] from the as-run
//! rows and the day plans (pure: no files, no clock); the writers render
//! the same figures: [`md`] (the terminal), [`csv`] (a spreadsheet's
//! import), [`docx`] (the administrative report, Nghị định 30/2020/NĐ-CP
//! layout) and [`xlsx`] (sheets and a native chart). [`text`] holds the
//! words and numbers all of them share, so that no two disagree.

pub mod build;
pub mod chart;
pub mod csv;
pub mod docx;
pub mod md;
pub mod text;
pub mod xlsx;

#[cfg(test)]
pub(crate) mod sample;

use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::asrun::{ItemRecord, Priority, Status};
use crate::lang::Lang;

pub use build::{Inputs, build};

/// Who the report comes from and who signs it: `[station]` in the config.
/// Every field is optional; the report leaves a dotted line for a missing
/// one, and `loa check` warns about it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Station {
    /// The station's name: "Đài truyền thanh xã An Bình".
    pub name: Option<String>,
    /// The commune: "Xã An Bình" (the place line uses it without "Xã").
    pub commune: Option<String>,
    /// The province: "Tỉnh Quảng Trị".
    pub province: Option<String>,
    /// Who prepares the report (NGƯỜI LẬP BIỂU).
    pub reporter: Option<String>,
    /// Who signs it (THỦ TRƯỞNG ĐƠN VỊ).
    pub head: Option<String>,
    /// Which files are station jingles (nhạc hiệu), not bulletins: glob
    /// patterns on the playlist's file names (`*` any run of characters
    /// but '/', `?` one); see [`text::is_jingle`].
    pub jingles: Vec<String>,
    /// Whether the config has a `[station]` table at all.
    pub declared: bool,
}

impl Station {
    /// The keys a report needs and this station lacks.
    pub fn missing(&self) -> Vec<&'static str> {
        [
            ("name", &self.name),
            ("commune", &self.commune),
            ("province", &self.province),
            ("reporter", &self.reporter),
            ("head", &self.head),
        ]
        .into_iter()
        .filter(|(_, v)| v.is_none())
        .map(|(k, _)| k)
        .collect()
    }
}

/// The figures of a set of as-run rows (a day, a phase, the whole period).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Figures {
    /// Broadcasts the schedule had (playlist broadcasts whose time has
    /// come, by the day's plan and the as-run log).
    pub planned_broadcasts: usize,
    /// Of those, the ones that aired (at least one item went out).
    pub aired_broadcasts: usize,
    /// Broadcasts outside the schedule that aired: `loa now`
    /// (emergencies) and `loa queue` items aired on their own.
    pub extra_broadcasts: usize,
    /// Items aired to their end that are bulletins (jingles not counted).
    pub bulletins: usize,
    /// Jingles aired to their end.
    pub jingles: usize,
    /// Milliseconds on air (every item that went out, jingles and
    /// interrupted ones included).
    pub aired_ms: i64,
    /// Milliseconds the schedule had for the planned broadcasts.
    pub planned_ms: i64,
    /// Of `aired_ms`, the milliseconds relayed from a live programme
    /// (a stream or the line-in).
    pub relayed_ms: i64,
    /// Items whose time passed without them airing.
    pub missed: usize,
    /// Items that could not be aired.
    pub failed: usize,
    /// Items cut off while airing.
    pub interrupted: usize,
    /// Items skipped by the operator or left out after an emergency.
    pub skipped: usize,
}

/// One day of the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Day {
    /// The local date.
    pub date: Date,
    /// What aired that day.
    pub figures: Figures,
}

/// One campaign phase (a playlist tag).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phase {
    /// The tag as playlists write it; None for the untagged broadcasts.
    pub tag: Option<String>,
    /// What the report shows: the playlists' `[tags]` name, else the tag
    /// made readable ("truoc-dai-hoi" → "Truoc dai hoi"), or "(không có
    /// chủ đề)".
    pub name: String,
    /// What aired under it.
    pub figures: Figures,
}

/// One level of Circular 39/2020/TT-BTTTT's priorities.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriorityLine {
    /// Normal (the playlist), priority (`loa queue`), emergency (`loa now`).
    pub priority: Priority,
    /// Broadcasts with an item of this priority aired.
    pub broadcasts: usize,
    /// Bulletins of this priority aired to their end.
    pub bulletins: usize,
    /// Milliseconds on air at this priority.
    pub aired_ms: i64,
}

/// One emergency item (`loa now`), by time and file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Emergency {
    /// The local date.
    pub day: Date,
    /// Local "HH:MM:SS" it started (else was asked for).
    pub time: String,
    /// The file.
    pub file: String,
    /// What became of it.
    pub status: Status,
    /// Milliseconds on air.
    pub aired_ms: i64,
}

/// One scheduled broadcast with items missed or failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The local date.
    pub day: Date,
    /// Its local "HH:MM" time.
    pub time: String,
    /// Its title (the playlist's, else its time).
    pub title: String,
    /// Its missed or failed items.
    pub items: Vec<ProblemItem>,
}

impl Problem {
    /// Its items with the same status and reason together, in order:
    /// (files, status, reason).
    pub fn by_reason(&self) -> Vec<(Vec<&str>, Status, &str)> {
        let mut out: Vec<(Vec<&str>, Status, &str)> = Vec::new();
        for i in &self.items {
            match out
                .iter_mut()
                .find(|(_, s, r)| *s == i.status && *r == i.reason)
            {
                Some((files, _, _)) => files.push(&i.file),
                None => out.push((vec![&i.file], i.status, &i.reason)),
            }
        }
        out
    }
}

/// A missed or failed item of a [`Problem`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProblemItem {
    /// The file.
    pub file: String,
    /// Missed or failed.
    pub status: Status,
    /// Why, in plain words.
    pub reason: String,
}

/// One bulletin that aired, with how often.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Aired {
    /// What the list shows: the file without its extension
    /// ("dai-hoi/ban-tin-1"), or a relayed programme's address.
    pub title: String,
    /// The file as the playlist names it.
    pub file: String,
    /// Times it aired to its end.
    pub times: usize,
    /// Milliseconds on air, all times together.
    pub aired_ms: i64,
}

/// One as-run row, as the per-item sheet shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    /// The row as recorded.
    pub record: ItemRecord,
    /// Local "HH:MM:SS": when it started, else when it was due.
    pub time: String,
    /// Milliseconds on air.
    pub aired_ms: i64,
    /// Why it was missed, failed or cut off (empty otherwise).
    pub reason: String,
    /// A station jingle, not a bulletin.
    pub jingle: bool,
    /// Relayed from a live programme.
    pub relayed: bool,
}

/// What aired to one zone (a hamlet's speaker line, `[[zone]]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneLine {
    /// The zone's name, as the config and the as-run log write it.
    pub name: String,
    /// Its title, for the reader ("Thôn Đông"); the name when it has none.
    pub title: String,
    /// Broadcasts with an item aired to it (scheduled or not).
    pub broadcasts: usize,
    /// Items aired to it to their end, jingles included.
    pub items: usize,
    /// Of those, the bulletins (jingles not counted).
    pub bulletins: usize,
    /// Milliseconds on air to it.
    pub aired_ms: i64,
}

/// What the report was narrowed to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// `--zone`: only what aired to this zone (name, title).
    pub zone: Option<(String, String)>,
    /// `--tag`: only broadcasts of this phase (tag, readable name).
    pub tag: Option<(String, String)>,
}

/// The whole report: every figure every writer shows.
#[derive(Clone, Debug)]
pub struct Report {
    /// The operator's language (the national header is Vietnamese in both).
    pub lang: Lang,
    /// `[station]`.
    pub station: Station,
    /// The time zone's name, for the notes ("Asia/Ho_Chi_Minh").
    pub timezone: String,
    /// The time zone.
    pub tz: TimeZone,
    /// The day the report is made (its place-and-date line).
    pub made_on: Date,
    /// The first day asked for.
    pub from: Date,
    /// The last day asked for.
    pub to: Date,
    /// What it was narrowed to.
    pub filter: Filter,
    /// The days shown: `from` to the earlier of `to` and `made_on` (days
    /// after today are not shown); empty when all are in the future.
    pub days: Vec<Day>,
    /// The whole period.
    pub total: Figures,
    /// Per campaign phase, in the order they first aired; the untagged
    /// last.
    pub phases: Vec<Phase>,
    /// Normal, priority, emergency, always all three.
    pub priorities: Vec<PriorityLine>,
    /// Every emergency item, in order.
    pub emergencies: Vec<Emergency>,
    /// Per configured zone, in the config's order (only the one asked
    /// for, when narrowed to a zone); empty when the config has none.
    pub zones: Vec<ZoneLine>,
    /// Scheduled broadcasts with missed or failed items, in order.
    pub problems: Vec<Problem>,
    /// The bulletins aired, most aired first, then by name.
    pub aired: Vec<Aired>,
    /// Every as-run row of the period, in order.
    pub lines: Vec<Line>,
    /// Rows written while the system did not vouch for the clock.
    pub unsynced_rows: usize,
    /// Whether loa airs only on a synchronised clock.
    pub require_clock_sync: bool,
    /// Minutes archived and recordings (`loa archive`), when known.
    pub archived: Option<(i64, usize)>,
}

impl Report {
    /// The days shown, as a range for the title ("from … to …"): the range
    /// asked for, its end brought back to today.
    pub fn shown_to(&self) -> Date {
        self.days.last().map_or(self.to, |d| d.date)
    }
}

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The chart could not be drawn.
    #[error("chart: {0}")]
    Chart(String),
    /// The Word document could not be put together.
    #[error("docx: {0}")]
    Docx(String),
    /// The spreadsheet could not be put together.
    #[error("xlsx: {0}")]
    Xlsx(String),
}
