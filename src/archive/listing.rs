//! What the archive folder holds: the recordings of a day, or of every
//! day, read from the names alone (FOLDER/YYYY-MM-DD/HHMMSS-KEY.mp3), and
//! finding one by the operator's KEY. Reads the folder, writes nothing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::civil::{Date, DateTime, Time};

/// One recording in the archive folder.
#[derive(Clone, Debug, PartialEq)]
pub struct Stored {
    /// The file.
    pub path: PathBuf,
    /// When it started (local time, from its folder and name).
    pub at: DateTime,
    /// The broadcast's key as the name has it ("2026-01-20-06-00-00-0").
    pub key: String,
    /// The name without ".mp3" ("060000-2026-01-20-06-00-00-0").
    pub stem: String,
    /// Its size.
    pub bytes: u64,
}

impl Stored {
    /// Its length from its size at `kbps` (the files are constant bitrate).
    pub fn estimated_length(&self, kbps: u32) -> Duration {
        Duration::from_millis(self.bytes * 8 / u64::from(kbps.max(1)))
    }
}

/// "HHMMSS-KEY" on day `day`: the start and the key.
fn parse_name(day: Date, stem: &str) -> Option<(DateTime, String)> {
    let (hms, key) = stem.split_once('-')?;
    if hms.len() != 6 || !hms.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |i: usize| hms[i..i + 2].parse::<i8>().ok();
    let t = Time::new(n(0)?, n(2)?, n(4)?, 0).ok()?;
    Some((day.to_datetime(t), key.to_string()))
}

/// The recordings of `day`, in the order they were made.
pub fn day(folder: &Path, day: Date) -> Vec<Stored> {
    let dir = folder.join(day.to_string());
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out: Vec<Stored> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let stem = name.strip_suffix(".mp3")?;
            let (at, key) = parse_name(day, stem)?;
            let meta = e.metadata().ok().filter(|m| m.is_file())?;
            Some(Stored {
                path: e.path(),
                at,
                key,
                stem: stem.to_string(),
                bytes: meta.len(),
            })
        })
        .collect();
    out.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.stem.cmp(&b.stem)));
    out
}

/// Every recording in the archive folder, oldest first.
pub fn all(folder: &Path) -> Vec<Stored> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut days: Vec<Date> = entries
        .flatten()
        .filter_map(|e| crate::playlist::parse_file_date(e.file_name().to_str()?))
        .collect();
    days.sort();
    days.into_iter().flat_map(|d| day(folder, d)).collect()
}

/// The recording the operator names: its name without ".mp3"
/// ("060012-2026-01-20-06-00-00-0"), or a broadcast key as `loa log`
/// shows it ("2026-01-20 06:00:00 #0") or as the file name has it (the
/// latest recording of that broadcast). Err: the nearest name, if any.
pub fn find<'a>(stored: &'a [Stored], key: &str) -> Result<&'a Stored, Option<String>> {
    let key = key.trim().trim_end_matches(".mp3");
    if let Some(s) = stored.iter().rev().find(|s| s.stem == key) {
        return Ok(s);
    }
    let fk = super::file_key(key);
    if let Some(s) = stored.iter().rev().find(|s| s.key == fk) {
        return Ok(s);
    }
    let names = stored
        .iter()
        .flat_map(|s| [s.stem.as_str(), s.key.as_str()]);
    Err(crate::tomlfile::nearest(key, names).map(str::to_string))
}
