//! `loa plan`: one day's timeline, as a table for the operator or as JSON
//! for other programs (a stable format: see the README).

use std::path::Path;

use serde_json::json;

use super::context::{self, weekday_name};
use super::exit;
use crate::config::Config;
use crate::duration;
use crate::playlist::{self, hhmm};
use crate::problem::{Problem, display_path, sort_dedup};
use crate::schedule::clock::Clock;
use crate::schedule::{DayPlan, PlanSettings, local_time, plan_for, rfc3339};
use crate::tr;

/// `loa plan`: a day's timeline (relay on, each item, relay off), as a table or JSON; the exit code.
pub fn run(config: Option<&Path>, date: Option<&str>, json: bool, clock: &dyn Clock) -> i32 {
    let Some(cfg) = context::config_or_say(config) else {
        return exit::CONFIG;
    };
    let lang = cfg.lang;
    let day = match context::day(date, &cfg, clock) {
        Ok(d) => d,
        Err(msg) => {
            eprintln!("{msg}");
            return exit::CONFIG;
        }
    };
    let set = playlist::load_dir(&cfg.paths.playlists, lang);
    let playlist = set.for_date(day).playlist();
    let (library, index, mut problems) = context::open_media(&cfg);
    let ahead = crate::tts::render_ahead(&cfg, &set, Some(day));
    let facts = crate::media::Facts::new(&library, &index, lang).with_speech(&ahead);
    let plan = plan_for(day, &set, &facts, &PlanSettings::from_config(&cfg));
    // The in-effect file's own problems, then the plan's.
    if let Some(pl) = playlist {
        let shown = display_path(&pl.path);
        problems.extend(set.problems.iter().filter(|p| p.path == shown).cloned());
    }
    problems.extend(plan.problems.iter().cloned());
    sort_dedup(&mut problems);

    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&to_json(&plan, &cfg, &problems)).unwrap_or_default()
        );
    } else {
        print_table(&plan, &cfg, playlist.and_then(|p| p.title.as_deref()));
        if !problems.is_empty() {
            println!();
            for p in &problems {
                println!("{p}");
            }
        }
    }
    exit::OK
}

/// The plan as the stable JSON other checks read.
pub fn to_json(plan: &DayPlan, cfg: &Config, problems: &[Problem]) -> serde_json::Value {
    let tz = &cfg.tz;
    json!({
        "date": plan.date.to_string(),
        "timezone": cfg.timezone_name,
        "source": plan.source.as_deref().map(display_path),
        "broadcasts": plan.broadcasts.iter().map(|b| json!({
            "title": b.title,
            "at": rfc3339(b.at, tz),
            "relay_on": rfc3339(b.relay_on, tz),
            "end": rfc3339(b.end, tz),
            "relay_off": rfc3339(b.relay_off, tz),
            "tags": b.tags,
            "zones": b.zones,
            "zone_titles": crate::config::zone::titles(&cfg.zones, &b.zones),
            "items": b.items.iter().map(|i| json!({
                "file": i.file,
                "path": i.path,
                "start": rfc3339(i.start, tz),
                "end": rfc3339(i.end, tz),
                "duration_s": i.duration.as_millis() as f64 / 1000.0,
                "volume_db": i.volume_db,
                "kind": match (&i.live, &i.say) {
                    (Some(l), _) => l.kind(),
                    (None, Some(_)) => "tts",
                    (None, None) => "file",
                },
                "backup": match i.live.as_ref().map(|l| &l.source) {
                    Some(crate::live::LiveSource::Stream { backup, .. }) => json!(backup),
                    _ => json!(null),
                },
                "fallback": match i.live.as_ref().map(|l| &l.source) {
                    Some(crate::live::LiveSource::Stream { fallback, .. }) => json!(fallback),
                    _ => json!(null),
                },
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "problems": problems,
    })
}

fn print_table(plan: &DayPlan, cfg: &Config, title: Option<&str>) {
    let lang = cfg.lang;
    let tz = &cfg.tz;
    let d = plan.date;
    let wd = weekday_name(d.weekday(), lang);
    let (dd, mm, yyyy) = (d.day(), d.month(), d.year());
    let zone = &cfg.timezone_name;
    println!(
        "{}",
        tr!(
            lang,
            "Lịch phát thanh {wd} {dd:02}/{mm:02}/{yyyy} (giờ {zone})",
            "Broadcast plan for {wd} {yyyy}-{mm:02}-{dd:02} ({zone} time)"
        )
    );
    let Some(src) = plan.source.as_deref() else {
        println!(
            "{}",
            tr!(
                lang,
                "Ngày này không có danh sách phát (không có default.toml, cũng không có tệp riêng cho ngày này), nên không phát gì.",
                "No playlist for this day (no default.toml and no dated file): nothing airs."
            )
        );
        return;
    };
    let src = display_path(src);
    match title {
        Some(t) => println!(
            "{}",
            tr!(lang, "Danh sách phát: {src} — {t}", "Playlist: {src} — {t}")
        ),
        None => println!("{}", tr!(lang, "Danh sách phát: {src}", "Playlist: {src}")),
    }
    if plan.broadcasts.is_empty() {
        println!(
            "{}",
            tr!(lang, "Ngày này không phát gì.", "Nothing airs this day.")
        );
        return;
    }
    let warm = duration::human(cfg.relay.warm_up, lang);
    let hold = duration::human(cfg.relay.hold, lang);
    let (h_time, h_what, h_len) = (
        lang.pick("Giờ", "Time"),
        lang.pick("Nội dung", "What"),
        lang.pick("Độ dài", "Length"),
    );
    for b in &plan.broadcasts {
        println!();
        let at = local_time(b.at, tz);
        let name = b
            .title
            .clone()
            .unwrap_or_else(|| tr!(lang, "Buổi phát {at}", "Broadcast {at}"));
        let tags = if b.tags.is_empty() {
            String::new()
        } else {
            format!("  [{}]", b.tags.join(", "))
        };
        let total = duration::clock(std::time::Duration::from_millis(
            (b.end.as_millisecond() - b.at.as_millisecond()) as u64,
        ));
        println!("{name} ({total}){tags}");
        if !b.zones.is_empty() {
            let titles = crate::config::zone::titles(&cfg.zones, &b.zones).join(", ");
            let label = if b.zones.len() == cfg.zones.len() {
                tr!(
                    lang,
                    "  Phát cho: mọi vùng ({titles})",
                    "  Airs to: every zone ({titles})"
                )
            } else {
                tr!(lang, "  Phát cho: {titles}", "  Airs to: {titles}")
            };
            println!("{label}");
        }
        println!("  {h_time:<9} {h_what:<44} {h_len:>7}");
        let on = tr!(
            lang,
            "BẬT AMPLI (chờ ổn định {warm})",
            "RELAY ON (warm-up {warm})"
        );
        println!("  {:<9} {on}", local_time(b.relay_on, tz));
        for i in &b.items {
            // A live slot says what it relays.
            let what = match i.live.as_ref().map(|l| &l.source) {
                Some(crate::live::LiveSource::Stream { url, .. }) => {
                    format!("{} {url}", lang.pick("TIẾP SÓNG", "RELAY"))
                }
                Some(crate::live::LiveSource::LineIn { device }) => {
                    format!("{} line-in:{device}", lang.pick("TIẾP SÓNG", "RELAY"))
                }
                None => i.file.clone(),
            };
            println!(
                "  {:<9} {:<44} {:>7}",
                local_time(i.start, tz),
                what,
                duration::clock(i.duration)
            );
        }
        let end = lang.pick("kết thúc", "end");
        println!("  {:<9} {end}", local_time(b.end, tz));
        let off = tr!(lang, "TẮT AMPLI (sau {hold})", "RELAY OFF (after {hold})");
        println!("  {:<9} {off}", local_time(b.relay_off, tz));
    }
    let _ = hhmm;
}
