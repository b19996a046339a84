//! The playlist file format (playlists/default.toml and the dated
//! playlists/YYYY-MM-DD.toml): parsing one file into a [`Playlist`] with every
//! mistake located, and reading the whole folder. Pure apart from reading the
//! files; it knows nothing of the audio folder or the clock.

mod live_item;
mod parse;

pub use live_item::url_problem as stream_url_problem;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::civil::{Date, Time, Weekday};

use crate::lang::Lang;
use crate::problem::Problem;
use crate::tomlfile::Source;
use crate::tr;

pub use parse::{PathError, check_item_path, parse, parse_time};

/// Where something is in its playlist file (1-based).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pos {
    /// The line, from 1.
    pub line: u32,
    /// The column, from 1.
    pub column: u32,
}

/// One playlist file, as the operator wrote it, minus what was wrong in it.
#[derive(Clone, Debug)]
pub struct Playlist {
    /// The file it was read from.
    pub path: PathBuf,
    /// The file's own `title`, if it has one.
    pub title: Option<String>,
    /// Its `[[broadcast]]` tables that could be read whole, in file order.
    pub broadcasts: Vec<Broadcast>,
    /// The items of broadcasts that could not be read whole (a bad `at`,
    /// say): never planned, but `loa check` still checks their files, so
    /// that one mistake does not hide the others.
    pub unplanned_items: Vec<Item>,
    /// Its `[tags]` table: the readable name of each tag, for the report
    /// (`truoc-dai-hoi = "Trước Đại hội"`).
    pub tag_names: BTreeMap<String, String>,
}

/// One amplifier session.
#[derive(Clone, Debug)]
pub struct Broadcast {
    /// Its place among the file's `[[broadcast]]` tables (0-based).
    pub index: usize,
    /// Where its `at` is written, to locate the planner's problems.
    pub pos: Pos,
    /// The local time of day its first item starts (`at`).
    pub at: Time,
    /// Its `title`, if it has one.
    pub title: Option<String>,
    /// Its `items`, in order, each with its own repeat.
    pub items: Vec<Item>,
    /// How many times the whole item sequence plays.
    pub repeat: u32,
    /// Silence between items; None means the config's `[audio] gap`.
    pub gap: Option<Duration>,
    /// The first day it airs (`from`, included); None means no start.
    pub from: Option<Date>,
    /// The last day it airs (`until`, included); None means no end.
    pub until: Option<Date>,
    /// Weekdays it airs on; None means every day.
    pub days: Option<Vec<Weekday>>,
    /// Its `tags` (campaign phases), for the report's per-tag totals.
    pub tags: Vec<String>,
    /// Its `zones` (the hamlets it airs to), each with where it is written;
    /// None: every zone. Checked against the config by the planner.
    pub zones: Option<Vec<(String, Pos)>>,
}

/// One entry of `items`.
#[derive(Clone, Debug)]
pub struct Item {
    /// The path below the audio folder, "/"-separated, in Unicode NFC.
    pub file: String,
    /// Where its file name is written.
    pub pos: Pos,
    /// How many times the item plays in a row (1 to 100).
    pub repeat: u32,
    /// Its own gain on top of the `[audio]` settings, in dB (-60 to 20).
    pub volume_db: f64,
    /// `jingle = true`: a station jingle, not a bulletin, in the report.
    pub jingle: bool,
    /// A live programme (`stream` or `line-in`) instead of a file: `file`
    /// then holds its URL or device.
    pub live: Option<crate::live::Live>,
    /// A text read aloud (`{ say = "...", voice = "vi" }`) instead of a
    /// file: `file` then holds its first 80 characters.
    pub say: Option<crate::tts::Say>,
}

impl Broadcast {
    /// Whether the broadcast airs on `date` (its date range and weekdays).
    pub fn airs_on(&self, date: Date) -> bool {
        if self.from.is_some_and(|f| date < f) || self.until.is_some_and(|u| date > u) {
            return false;
        }
        match &self.days {
            Some(days) => days.contains(&date.weekday()),
            None => true,
        }
    }

    /// A name for messages: its title, or "the broadcast at 06:00".
    pub fn label(&self, lang: Lang) -> String {
        match &self.title {
            Some(t) => tr!(lang, "buổi phát \"{t}\"", "\"{t}\""),
            None => {
                let at = hhmm(self.at);
                tr!(lang, "buổi phát lúc {at}", "the broadcast at {at}")
            }
        }
    }
}

/// "06:00" or "06:00:30".
pub fn hhmm(t: Time) -> String {
    if t.second() == 0 {
        format!("{:02}:{:02}", t.hour(), t.minute())
    } else {
        format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
    }
}

/// Every playlist in the folder, and what was wrong with each.
#[derive(Clone, Debug, Default)]
pub struct PlaylistSet {
    /// default.toml, if the folder has one (with no broadcasts when it could
    /// not be read).
    pub default: Option<Playlist>,
    /// The dated files, by their day (the same when they could not be read).
    pub dated: BTreeMap<Date, Playlist>,
    /// Files in the folder, whether or not they parsed: those with errors
    /// still decide which file is in effect on their day.
    pub files: Vec<PathBuf>,
    /// What is wrong, in every file and in the folder itself.
    pub problems: Vec<Problem>,
}

impl PlaylistSet {
    /// The files any playlist marks `jingle = true`.
    pub fn jingles(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .default
            .iter()
            .chain(self.dated.values())
            .flat_map(|p| &p.broadcasts)
            .flat_map(|b| &b.items)
            .filter(|i| i.jingle)
            .map(|i| i.file.clone())
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// Every file's `[tags]` names together (a dated file's name for a tag
    /// wins over default.toml's).
    pub fn tag_names(&self) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        for p in self.default.iter().chain(self.dated.values()) {
            m.extend(p.tag_names.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        m
    }
}

/// What the folder says about one day.
pub enum InEffect<'a> {
    /// A dated file for that very day (it is the whole day).
    Dated(&'a Playlist),
    /// default.toml.
    Default(&'a Playlist),
    /// Nothing airs.
    Nothing,
}

impl PlaylistSet {
    /// The playlist in effect on `date`: its dated file if there is one, else
    /// default.toml, else nothing.
    pub fn for_date(&self, date: Date) -> InEffect<'_> {
        if let Some(p) = self.dated.get(&date) {
            InEffect::Dated(p)
        } else if let Some(p) = &self.default {
            InEffect::Default(p)
        } else {
            InEffect::Nothing
        }
    }
}

impl<'a> InEffect<'a> {
    /// The playlist in effect, if any.
    pub fn playlist(&self) -> Option<&'a Playlist> {
        match self {
            InEffect::Dated(p) | InEffect::Default(p) => Some(p),
            InEffect::Nothing => None,
        }
    }
}

/// Reads every file in the playlists folder. `default.toml` and
/// `YYYY-MM-DD.toml` are playlists; anything else is reported, since the
/// operator probably meant it to be one.
pub fn load_dir(dir: &Path, lang: Lang) -> PlaylistSet {
    let mut set = PlaylistSet::default();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            let reason = crate::tomlfile::io_reason(&e, lang);
            let shown = crate::problem::display_path(dir);
            set.problems.push(Problem::error(
                dir,
                1,
                1,
                tr!(
                    lang,
                    "Không mở được thư mục danh sách phát {shown} ({reason}); hãy tạo thư mục này, hoặc sửa [paths] playlists trong tệp cấu hình.",
                    "cannot open the playlists folder {shown}: {reason}; create it or correct [paths] playlists in the config"
                ),
            ));
            return set;
        }
    };
    let mut paths: Vec<PathBuf> = Vec::new();
    for e in entries.flatten() {
        let p = e.path();
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        let name = e.file_name().to_string_lossy().into_owned();
        // Upload accounts write this folder: a link is never followed (it
        // could make loa read any file); it is reported.
        if meta.file_type().is_symlink() && name.ends_with(".toml") {
            set.problems.push(Problem::error(
                &p,
                1,
                1,
                tr!(
                    lang,
                    "\"{name}\" là một liên kết (symlink), loa không đọc nó. Hãy đặt chính tệp danh sách phát vào thư mục danh sách phát.",
                    "\"{name}\" is a symbolic link, which loa does not read; put the playlist file itself in the playlists folder"
                ),
            ));
            continue;
        }
        if meta.is_file() {
            paths.push(p);
        }
    }
    paths.sort();
    for path in paths {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with('.') || name.ends_with('~') {
            continue;
        }
        let Some(stem) = name.strip_suffix(".toml") else {
            set.problems.push(Problem::warning(
                &path,
                1,
                1,
                tr!(
                    lang,
                    "Tệp này không được dùng: danh sách phát phải có tên là default.toml hoặc NĂM-THÁNG-NGÀY.toml (ví dụ 2026-01-20.toml).",
                    "this file is not used: playlists must be named default.toml or YEAR-MONTH-DAY.toml (e.g. 2026-01-20.toml)"
                ),
            ));
            continue;
        };
        let date = if stem == "default" {
            None
        } else {
            match parse_file_date(stem) {
                Some(d) => Some(d),
                None => {
                    let msg = match loose_file_date(stem) {
                        Some(d) => tr!(
                            lang,
                            "Tên tệp \"{name}\" phải viết đủ hai chữ số cho tháng và ngày; hãy đổi tên thành {d}.toml.",
                            "the file name \"{name}\" needs two digits for the month and the day: rename it {d}.toml"
                        ),
                        None => tr!(
                            lang,
                            "Tên tệp \"{name}\" không phải là một ngày hợp lệ; hãy đặt tên là default.toml, hoặc NĂM-THÁNG-NGÀY.toml như 2026-01-20.toml.",
                            "the file name \"{name}\" is not a real date; name it default.toml, or YEAR-MONTH-DAY.toml like 2026-01-20.toml"
                        ),
                    };
                    set.problems.push(Problem::error(&path, 1, 1, msg));
                    continue;
                }
            }
        };
        set.files.push(path.clone());
        let (playlist, problems) = match Source::read(&path, lang) {
            Ok(src) => parse(&src, lang),
            Err(p) => (
                Some(Playlist {
                    path: path.clone(),
                    title: None,
                    broadcasts: vec![],
                    unplanned_items: vec![],
                    tag_names: BTreeMap::new(),
                }),
                vec![p],
            ),
        };
        set.problems.extend(problems);
        let playlist = playlist.unwrap_or(Playlist {
            path: path.clone(),
            title: None,
            broadcasts: vec![],
            unplanned_items: vec![],
            tag_names: BTreeMap::new(),
        });
        match date {
            None => set.default = Some(playlist),
            Some(d) => {
                set.dated.insert(d, playlist);
            }
        }
    }
    set
}

/// "2026-01-20" -> the date; anything else (an impossible date, a year
/// before 1970) -> None.
pub fn parse_file_date(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if !(digits(0..4) && digits(5..7) && digits(8..10)) {
        return None;
    }
    let y: i16 = s[0..4].parse().ok()?;
    let m: i8 = s[5..7].parse().ok()?;
    let d: i8 = s[8..10].parse().ok()?;
    if y < 1970 {
        return None;
    }
    Date::new(y, m, d).ok()
}

/// "2026-12-5" (one-digit month or day) -> "2026-12-05", when it is a
/// real date: what the operator meant.
fn loose_file_date(s: &str) -> Option<String> {
    let parts: Vec<&str> = s.split('-').collect();
    let [y, m, d] = parts[..] else { return None };
    let num = |x: &str| {
        (!x.is_empty() && x.len() <= 2 && x.bytes().all(|c| c.is_ascii_digit()))
            .then(|| x.parse::<u8>().ok())
            .flatten()
    };
    let (m, d) = (num(m)?, num(d)?);
    let fixed = format!("{y}-{m:02}-{d:02}");
    parse_file_date(&fixed).map(|_| fixed)
}
