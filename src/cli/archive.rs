//! `loa archive [--date D] [--json]`: the recordings of a day's broadcasts
//! (time, broadcast, length, size); `loa archive play KEY`: one played back
//! through `loa play`'s path without the relay, for the operator to listen
//! over a headset. It only reads the archive and the as-run log.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use serde_json::json;

use super::context;
use super::exit;
use crate::archive::listing::{self, Stored};
use crate::asrun::{ArchiveRow, AsRun};
use crate::config::Config;
use crate::schedule::clock::SystemClock;
use crate::{duration, tr};

/// What the as-run log knows of a day's recordings: by file (relative to
/// the state folder), and the broadcasts' titles by key.
struct Known {
    rows: HashMap<String, ArchiveRow>,
    titles: HashMap<String, Option<String>>,
}

fn known(cfg: &Config, day: jiff::civil::Date) -> Known {
    let log = AsRun::open_existing(&cfg.paths.state).ok().flatten();
    let rows = log
        .as_ref()
        .and_then(|l| l.archives(day, day).ok())
        .unwrap_or_default()
        .into_iter()
        .map(|r| (r.path.clone(), r))
        .collect();
    let titles = log
        .as_ref()
        .and_then(|l| l.rows(day, day).ok())
        .unwrap_or_default()
        .into_iter()
        .map(|r| (r.record.broadcast_key, r.record.broadcast))
        .collect();
    Known { rows, titles }
}

/// A recording's length: as the log recorded it when its file was closed,
/// else from its size (constant bitrate).
fn length(s: &Stored, row: Option<&ArchiveRow>, cfg: &Config) -> Duration {
    row.and_then(|r| r.duration)
        .unwrap_or_else(|| s.estimated_length(cfg.archive.bitrate_kbps))
}

/// "1,4 MB" / "1.4 MB".
fn size(bytes: u64, lang: crate::lang::Lang) -> String {
    let mb = format!("{:.1} MB", bytes as f64 / 1e6);
    match lang {
        crate::lang::Lang::Vi => mb.replace('.', ","),
        crate::lang::Lang::En => mb,
    }
}

/// `loa archive`: the day's recordings; the exit code.
pub fn list(config: Option<&Path>, date: Option<&str>, json: bool) -> i32 {
    let Some(cfg) = context::config_or_say(config) else {
        return exit::CONFIG;
    };
    let lang = cfg.lang;
    let day = match context::day(date, &cfg, &SystemClock) {
        Ok(d) => d,
        Err(msg) => {
            eprintln!("{msg}");
            return exit::CONFIG;
        }
    };
    let stored = listing::day(&cfg.archive.folder, day);
    let k = known(&cfg, day);
    let state = &cfg.paths.state;
    let rel = |s: &Stored| crate::archive::relative_to_state(&s.path, state);
    if json {
        let list: Vec<_> = stored
            .iter()
            .map(|s| {
                let row = k.rows.get(&rel(s));
                let key = row.map(|r| r.broadcast_key.clone());
                json!({
                    "time": s.at.time().to_string(),
                    "name": s.stem,
                    "file": rel(s),
                    "broadcast_key": key,
                    "broadcast": key.as_ref().and_then(|k2| k.titles.get(k2).cloned().flatten()),
                    "length_s": length(s, row, &cfg).as_secs_f64(),
                    "bytes": s.bytes,
                    "sha256": row.and_then(|r| r.sha256.clone()),
                })
            })
            .collect();
        super::log::emit(&(serde_json::to_string_pretty(&list).unwrap_or_default() + "\n"));
        return exit::OK;
    }
    let shown_day = super::log::day_name(day, lang);
    let folder = crate::problem::display_path(&cfg.archive.folder.join(day.to_string()));
    let mut o = tr!(
        lang,
        "Bản ghi các buổi phát ngày {shown_day} ({folder}):\n",
        "Recordings of the broadcasts of {shown_day} ({folder}):\n"
    );
    if !cfg.archive.enabled {
        let _ = writeln!(
            o,
            "{}",
            lang.pick(
                "(Lưu trữ đang tắt: [archive] enabled = false.)",
                "(The archive is off: [archive] enabled = false.)"
            )
        );
    }
    if stored.is_empty() {
        let _ = writeln!(
            o,
            "{}",
            lang.pick("Không có bản ghi nào.", "No recordings.")
        );
        super::log::emit(&o);
        return exit::OK;
    }
    for s in &stored {
        let row = k.rows.get(&rel(s));
        let what = match row {
            Some(r) => match k.titles.get(&r.broadcast_key).cloned().flatten() {
                Some(t) => format!("{t} ({})", r.broadcast_key),
                None => r.broadcast_key.clone(),
            },
            None => s.key.clone(),
        };
        let unclosed = row.is_some_and(|r| r.sha256.is_none());
        let note = if unclosed {
            lang.pick(
                "  (chưa đóng tệp: đang ghi, hoặc loa bị dừng đột ngột)",
                "  (not closed: recording now, or loa was stopped abruptly)",
            )
        } else {
            ""
        };
        let _ = writeln!(
            o,
            "{}  {:<40}  {:>8}  {:>8}  {}{note}",
            s.at.time(),
            what,
            duration::clock(length(s, row, &cfg)),
            size(s.bytes, lang),
            s.stem,
        );
    }
    let _ = writeln!(
        o,
        "{}",
        tr!(
            lang,
            "Nghe lại một bản ghi (không bật ampli): loa archive play TÊN",
            "Listen to one (the relay stays off): loa archive play NAME"
        )
    );
    super::log::emit(&o);
    exit::OK
}

/// `loa archive play KEY`: the recording played back without the relay;
/// the exit code.
pub fn play(config: Option<&Path>, key: &str, date: Option<&str>) -> i32 {
    let Some(cfg) = context::config_or_say(config) else {
        return exit::CONFIG;
    };
    let lang = cfg.lang;
    let stored = match date {
        Some(_) => match context::day(date, &cfg, &SystemClock) {
            Ok(d) => listing::day(&cfg.archive.folder, d),
            Err(msg) => {
                eprintln!("{msg}");
                return exit::CONFIG;
            }
        },
        None => listing::all(&cfg.archive.folder),
    };
    let found = match listing::find(&stored, key) {
        Ok(s) => s.clone(),
        Err(near) => {
            let hint = match near {
                Some(n) => tr!(lang, " Có phải ý bạn là \"{n}\"?", " Did you mean \"{n}\"?"),
                None => String::new(),
            };
            eprintln!(
                "{}",
                tr!(
                    lang,
                    "Không có bản ghi nào tên \"{key}\".{hint} Hãy xem danh sách bằng `loa archive --date NĂM-THÁNG-NGÀY`.",
                    "no recording named \"{key}\".{hint} See the list with `loa archive --date YEAR-MONTH-DAY`."
                )
            );
            return exit::PROBLEMS;
        }
    };
    // Its length as the as-run log recorded it when the file was closed.
    let row = known(&cfg, found.at.date())
        .rows
        .remove(&crate::archive::relative_to_state(
            &found.path,
            &cfg.paths.state,
        ));
    let item = crate::air::AirItem {
        name: found.stem.clone(),
        // Not validated like an upload: a recording cut by a power cut
        // ends without its last frame, and still plays up to there.
        source: Ok(crate::player::Source::File(crate::media::MediaPath::Given(
            found.path.clone(),
        ))),
        // Played as it aired: the gain is already in the recording.
        gain_db: 0.0,
        duration: row.and_then(|r| r.duration),
        sha256: None,
        sample_rate: None,
        zones: Vec::new(),
        speech: false,
    };
    super::play::run_items(&cfg, true, |_| vec![item])
}
