//! `loa check`: validates the config, every playlist file, the audio they
//! name, and plans the coming days, printing each problem as
//! `PATH:LINE:COL: error: MESSAGE`. Exit 0 with no errors, 1 with any, 2 when
//! the config cannot be read.

use std::collections::BTreeSet;
use std::path::Path;

use jiff::civil::Date;

use super::context::{self, weekday_name};
use super::exit;
use super::readiness;
use crate::config::{Config, ConfigError};
use crate::lang::Lang;
use crate::playlist::{self, InEffect, PlaylistSet};
use crate::problem::{Problem, display_path, sort_dedup};
use crate::schedule::clock::Clock;
use crate::schedule::{DayPlan, MediaFacts, MediaStatus, PlanSettings, local_time, plan_for};
use crate::tr;

/// `loa check`: prints every problem, then a line per day, then the
/// verdict. Exit 0 with no errors, 1 with any, 2 when the config cannot be
/// read (an invalid one is checked all the same, its problems listed).
pub fn run(config: Option<&Path>, date: Option<&str>, days: u32, clock: &dyn Clock) -> i32 {
    let mut problems: Vec<Problem> = Vec::new();
    let Some(cfg) = config_even_invalid(config, &mut problems) else {
        return exit::CONFIG;
    };
    let lang = cfg.lang;
    let first = match context::day(date, &cfg, clock) {
        Ok(d) => d,
        Err(msg) => {
            eprintln!("{msg}");
            return exit::CONFIG;
        }
    };
    let days = days.clamp(1, 3660);

    let set = playlist::load_dir(&cfg.paths.playlists, lang);
    problems.extend(set.problems.iter().cloned());
    let (library, index, ps) = context::open_media(&cfg);
    problems.extend(ps);
    let ahead = crate::tts::render_ahead(&cfg, &set, Some(first));
    problems.extend(ahead.problems.iter().cloned());
    let media = crate::media::Facts::new(&library, &index, lang).with_speech(&ahead);
    problems.extend(item_problems(&set, &media));
    problems.extend(readiness::check(&cfg));
    let station_note = station(&cfg, &mut problems);

    let range: Vec<Date> = first
        .series(jiff::Span::new().days(1))
        .take(days as usize)
        .collect();
    let summary = plan_days(&cfg, &set, &media, &range, &mut problems);
    if summary.airing_days == 0 {
        problems.push(nothing_airs(&cfg, days));
    }
    sort_dedup(&mut problems);
    for p in &problems {
        println!("{p}");
    }
    if !problems.is_empty() {
        println!();
    }
    for line in &summary.lines {
        println!("{line}");
    }
    let errors = problems.iter().filter(|p| p.is_error()).count();
    let tally = Tally {
        days,
        first,
        last: range.last().copied().unwrap_or(first),
        errors,
        warnings: problems.len() - errors,
        airing_days: summary.airing_days,
    };
    if let Some(note) = station_note {
        println!();
        println!("{note}");
    }
    println!();
    println!("{}", tally.verdict(lang));
    if errors > 0 { exit::PROBLEMS } else { exit::OK }
}

/// The config, also when it is invalid (its problems go into `problems`
/// and the rest is checked all the same); `None`, with the problems
/// printed, when it cannot be read at all.
fn config_even_invalid(config: Option<&Path>, problems: &mut Vec<Problem>) -> Option<Config> {
    match context::load_config(config) {
        Ok(c) => Some(c),
        Err((ConfigError::Invalid { config, .. }, ps)) => {
            problems.extend(ps);
            Some(*config)
        }
        Err((_, ps)) => {
            for p in ps {
                println!("{p}");
            }
            None
        }
    }
}

/// Every playlist's items, in effect in the range or not, checked against
/// the audio folder; also the items of broadcasts that could not be read
/// whole: one mistake (a bad `at`) must not hide the others.
fn item_problems(set: &PlaylistSet, media: &dyn MediaFacts) -> Vec<Problem> {
    let mut problems = Vec::new();
    for pl in set.default.iter().chain(set.dated.values()) {
        let items = pl
            .broadcasts
            .iter()
            .flat_map(|b| b.items.iter())
            .chain(pl.unplanned_items.iter());
        for it in items {
            // A live item: its fallback file is what must be there.
            let file = match it.live.as_ref().map(|l| &l.source) {
                Some(crate::live::LiveSource::Stream {
                    fallback: Some(f), ..
                }) => f,
                Some(_) => continue,
                None => &it.file,
            };
            let status = match &it.say {
                Some(say) => media.speech(say),
                None => media.status(file),
            };
            match status {
                MediaStatus::Unplayable(msg) => {
                    problems.push(Problem::error(&pl.path, it.pos.line, it.pos.column, msg))
                }
                MediaStatus::Uploading(msg) => {
                    problems.push(Problem::warning(&pl.path, it.pos.line, it.pos.column, msg))
                }
                MediaStatus::Playable { .. } => {}
            }
        }
    }
    problems
}

/// The days of the range, as planned.
struct Summary {
    /// One line per day of the range.
    lines: Vec<String>,
    /// The days of the range with at least one broadcast.
    airing_days: usize,
}

/// Plans each day of the range, and each dated file's own day even outside
/// it, adding the plans' problems to `problems` day by day (a day's line
/// says whether its playlist has errors among those found so far).
fn plan_days(
    cfg: &Config,
    set: &PlaylistSet,
    media: &dyn MediaFacts,
    range: &[Date],
    problems: &mut Vec<Problem>,
) -> Summary {
    let settings = PlanSettings::from_config(cfg);
    let mut to_plan: BTreeSet<Date> = range.iter().copied().collect();
    to_plan.extend(set.dated.keys().copied());
    let mut summary = Summary {
        lines: Vec::new(),
        airing_days: 0,
    };
    for d in to_plan {
        let plan = plan_for(d, set, media, &settings);
        problems.extend(plan.problems.iter().cloned());
        if !range.contains(&d) {
            continue;
        }
        if !plan.broadcasts.is_empty() {
            summary.airing_days += 1;
        }
        summary
            .lines
            .push(day_line(cfg, set.for_date(d), &plan, problems));
    }
    summary
}

/// "Thứ Ba 20/01/2026: 2 buổi phát lúc 05:30, 17:00 (playlists/default.toml)":
/// what airs on the plan's day, or why nothing does.
fn day_line(cfg: &Config, in_effect: InEffect, plan: &DayPlan, problems: &[Problem]) -> String {
    let lang = cfg.lang;
    let day = plan.date;
    let d = day_label(day, lang);
    if let InEffect::Nothing = in_effect {
        return tr!(
            lang,
            "{d}: không có danh sách phát nên không phát gì",
            "{d}: no playlist, nothing airs"
        );
    }
    let src = plan.source.as_deref().map(display_path).unwrap_or_default();
    let n = plan.broadcasts.len();
    let times = plan
        .broadcasts
        .iter()
        .map(|b| clock_time(&local_time(b.at, &cfg.tz)))
        .collect::<Vec<_>>()
        .join(", ");
    // A day left empty by errors in its playlist is not a silent day the
    // operator chose.
    let broken = problems.iter().any(|p| p.is_error() && p.path == src);
    // Broadcasts due that day, none of which can air yet (its files still
    // uploading, say): not a silent day either.
    let due = in_effect
        .playlist()
        .is_some_and(|p| p.broadcasts.iter().any(|b| b.airs_on(day)));
    match n {
        0 if broken => tr!(
            lang,
            "{d}: không phát gì vì danh sách phát có lỗi, xem ở trên ({src})",
            "{d}: nothing airs because the playlist has errors (see above) ({src})"
        ),
        0 if due => tr!(
            lang,
            "{d}: chưa phát được gì vì các tệp của buổi phát chưa sẵn sàng, xem các cảnh báo ở trên ({src})",
            "{d}: nothing can air yet because the broadcasts' files are not ready (see the warnings above) ({src})"
        ),
        0 => tr!(
            lang,
            "{d}: không có buổi phát nào ({src})",
            "{d}: a silent day, nothing airs ({src})"
        ),
        _ => tr!(
            lang,
            "{d}: {n} buổi phát lúc {times} ({src})",
            "{d}: {n} broadcast(s) at {times} ({src})"
        ),
    }
}

/// "Thứ Ba 20/01/2026" / "2026-01-20 Tuesday".
fn day_label(d: Date, lang: Lang) -> String {
    let wd = weekday_name(d.weekday(), lang);
    match lang {
        Lang::Vi => format!("{wd} {}", crate::lang::date(d, lang)),
        Lang::En => format!("{d} {wd}"),
    }
}

/// `loa check --online`: every stream the playlists relay (main and
/// backups), tried for 3 s each: what it is, or why it cannot be had. A
/// stream that cannot be had is a warning (the network may be down now;
/// at air time the backups and the fallback take over). Exit 0.
pub fn online(config: Option<&Path>) -> i32 {
    let Some(cfg) = context::config_or_say(config) else {
        return exit::CONFIG;
    };
    let lang = cfg.lang;
    let set = playlist::load_dir(&cfg.paths.playlists, lang);
    let mut urls: Vec<String> = Vec::new();
    for pl in set.default.iter().chain(set.dated.values()) {
        for it in pl.broadcasts.iter().flat_map(|b| &b.items) {
            if let Some(crate::live::LiveSource::Stream { url, backup, .. }) =
                it.live.as_ref().map(|l| &l.source)
            {
                for u in std::iter::once(url).chain(backup) {
                    if !urls.contains(u) {
                        urls.push(u.clone());
                    }
                }
            }
        }
    }
    println!();
    if urls.is_empty() {
        println!(
            "{}",
            lang.pick(
                "Danh sách phát không tiếp sóng luồng nào qua mạng.",
                "The playlists relay no stream."
            )
        );
        return exit::OK;
    }
    for url in &urls {
        match crate::live::probe::probe(url, lang) {
            Ok(what) => println!("{}", tr!(lang, "{url}: được, {what}", "{url}: OK, {what}")),
            Err(why) => println!(
                "{}",
                tr!(lang, "{url}: cảnh báo: {why}", "{url}: warning: {why}")
            ),
        }
    }
    exit::OK
}

/// What the report (`loa report`) would lack from `[station]`: a warning
/// when the table is there but incomplete; a note (not counted as a
/// warning) when the config has none at all, which is how every box starts.
fn station(cfg: &Config, problems: &mut Vec<Problem>) -> Option<String> {
    let lang = cfg.lang;
    let missing = cfg.station.missing();
    if missing.is_empty() {
        return None;
    }
    let keys = missing.join(", ");
    let example = "[station]\nname = \"Đài truyền thanh xã An Bình\"\ncommune = \"Xã An Bình\"\nprovince = \"Tỉnh ...\"\nreporter = \"...\"\nhead = \"...\"";
    if cfg.station.declared {
        problems.push(Problem::warning(
            &cfg.path,
            1,
            1,
            tr!(
                lang,
                "[station] chưa ghi {keys}: báo cáo (loa report) sẽ để trống những chỗ đó cho người ký tự điền.",
                "[station] lacks {keys}: the report (loa report) will leave those blank for the signer to fill in"
            ),
        ));
        return None;
    }
    Some(tr!(
        lang,
        "Lưu ý: tệp cấu hình chưa có phần [station] (tên đài, xã, tỉnh, người lập biểu, thủ trưởng), nên báo cáo (loa report) sẽ để trống những chỗ đó. Thêm vào tệp cấu hình, ví dụ:\n{example}",
        "note: the config has no [station] (the station's name, commune, province, who prepares and who signs the report), so the report (loa report) leaves those blank. Add to the config, e.g.:\n{example}"
    ))
}

/// The warning when no day of the range has a broadcast.
fn nothing_airs(cfg: &Config, days: u32) -> Problem {
    Problem::warning(
        &cfg.paths.playlists,
        1,
        1,
        tr!(
            cfg.lang,
            "Không có buổi phát nào trong {days} ngày tới, nên loa sẽ không phát gì. Hãy tải danh sách phát (default.toml hoặc NĂM-THÁNG-NGÀY.toml) lên thư mục danh sách phát.",
            "no broadcast in the coming {days} day(s): loa will air nothing. Upload a playlist into the playlists folder (default.toml or YEAR-MONTH-DAY.toml)"
        ),
    )
}

/// What the closing line counts.
struct Tally {
    days: u32,
    first: Date,
    last: Date,
    errors: usize,
    warnings: usize,
    airing_days: usize,
}

impl Tally {
    /// "Checked 8 day(s), … : no errors, 1 warning(s). Ready.", or what is
    /// wrong.
    fn verdict(&self, lang: Lang) -> String {
        let Tally {
            days,
            errors,
            warnings,
            ..
        } = *self;
        let first = crate::lang::date(self.first, lang);
        let last = crate::lang::date(self.last, lang);
        match (errors, self.airing_days) {
            (0, 0) => tr!(
                lang,
                "Đã kiểm tra {days} ngày, từ {first} đến {last}: không có lỗi, {warnings} cảnh báo, nhưng không có buổi phát nào, nên loa sẽ không phát gì.",
                "Checked {days} day(s), {first} to {last}: no errors, {warnings} warning(s), but no broadcast at all: loa will air nothing."
            ),
            (0, _) => tr!(
                lang,
                "Đã kiểm tra {days} ngày, từ {first} đến {last}: không có lỗi, {warnings} cảnh báo. Mọi thứ sẵn sàng.",
                "Checked {days} day(s), {first} to {last}: no errors, {warnings} warning(s). Ready."
            ),
            _ => tr!(
                lang,
                "Đã kiểm tra {days} ngày, từ {first} đến {last}: {errors} lỗi, {warnings} cảnh báo. Hãy sửa các lỗi ở trên.",
                "Checked {days} day(s), {first} to {last}: {errors} error(s), {warnings} warning(s). Fix the errors above."
            ),
        }
    }
}

/// "17:00" for a time on the minute, "17:00:30" when it has seconds.
fn clock_time(hms: &str) -> String {
    match hms.strip_suffix(":00") {
        Some(hm) if hm.len() == 5 => hm.to_string(),
        _ => hms.to_string(),
    }
}

/// The problems `loa check` finds in one playlist's text, as if it were
/// `name` in the playlists folder: how it reads, its files in the audio
/// folder, and the days it plans (its own day, or the coming eight for
/// default.toml). For a playlist pushed by the district, checked before it
/// is taken. The problems name the file `name`.
pub fn playlist_text_problems(cfg: &Config, name: &str, text: &str) -> Vec<Problem> {
    let dir = cfg
        .paths
        .state
        .join(format!(".district-check-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let written = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(dir.join(name), text));
    if let Err(e) = written {
        let _ = std::fs::remove_dir_all(&dir);
        return vec![Problem::error(
            Path::new(name),
            0,
            0,
            crate::tomlfile::io_reason(&e, cfg.lang),
        )];
    }
    let set = playlist::load_dir(&dir, cfg.lang);
    let mut problems = set.problems.clone();
    let (library, index, _) = context::open_media(cfg);
    let ahead = crate::tts::render_ahead(cfg, &set, None);
    problems.extend(ahead.problems.iter().cloned());
    let media = crate::media::Facts::new(&library, &index, cfg.lang).with_speech(&ahead);
    problems.extend(item_problems(&set, &media));
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(cfg.tz.clone())
        .date();
    let range: Vec<Date> = today.series(jiff::Span::new().days(1)).take(8).collect();
    plan_days(cfg, &set, &media, &range, &mut problems);
    let _ = std::fs::remove_dir_all(&dir);
    for p in &mut problems {
        p.path = name.to_string();
    }
    sort_dedup(&mut problems);
    problems
}
