//! Part 3: broadcasts a few seconds apart through the paced stand-in; the
//! relay-on edges of the sim-file and the first items' starts in the as-run
//! log against loa's own plan, per broadcast and as median and max.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde_json::Value;

use crate::install::{Install, read_sim_file};
use crate::procfs::{clock_ticks, mb, mem_kb, proc_ticks};
use crate::support::median;
use crate::{MAX_TARGET_MS, MEDIAN_TARGET_MS, Settings, TZ, fmt_ms, local};

/// |actual − planned| over the broadcasts.
pub struct Stats {
    pub n: usize,
    /// Every broadcast had its figure.
    pub complete: bool,
    pub median: Option<f64>,
    pub max: Option<f64>,
}

impl Stats {
    pub fn of(deltas: &[Option<i64>]) -> Stats {
        let abs: Vec<f64> = deltas.iter().flatten().map(|d| d.abs() as f64).collect();
        Stats {
            n: abs.len(),
            complete: abs.len() == deltas.len(),
            median: (!abs.is_empty()).then(|| median(abs.clone())),
            max: abs.iter().copied().reduce(f64::max),
        }
    }
}

/// What the summary takes from part 3.
pub struct Accuracy {
    pub relay_on: Stats,
    pub first_item: Stats,
}

pub fn accuracy(s: &Settings, loa: &Path, tones: &[PathBuf], tz: &TimeZone) -> Result<Accuracy> {
    println!(
        "== 3. accuracy: {} broadcasts {} s apart, paced stand-in ==",
        s.broadcasts, s.spacing_s
    );
    let inst = Install::new(loa, "accuracy", "1s", "500ms")?;
    let names: Vec<String> = (0..tones.len())
        .map(|i| format!("tone-{}.wav", i + 1))
        .collect();
    for (tone, name) in tones.iter().zip(&names) {
        inst.add_audio(tone, name)?;
    }
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    inst.warm_index(&name_refs)?;

    let plan = Plan::write(s, &inst, &names, tz)?;
    let (cpu_ms, hwm) = air(s, &inst, &plan)?;

    // What happened: the relay's file and the as-run log.
    let (on_d, item_d) = deltas(s, &inst, &plan, tz)?;
    let relay_on = Stats::of(&on_d);
    let first_item = Stats::of(&item_d);
    print_stats(&on_d, &item_d, &relay_on, &first_item);
    println!(
        "  loa over the whole run: CPU {cpu_ms:.0} ms (utime+stime), VmHWM {}",
        mb(hwm)
    );
    println!("  (planned: `loa plan --date D --json` relay_on and items[0].start; actual: the");
    println!("   sim-file's `TIMESTAMP on` lines and `loa log --date D --json` \"started\")");
    Ok(Accuracy {
        relay_on,
        first_item,
    })
}

/// The broadcasts as written into the playlists and as loa plans them.
struct Plan {
    /// The playlists' days, in order.
    dates: Vec<String>,
    /// `bench 01`, `bench 02`, ... in airing order.
    titles: Vec<String>,
    /// By title: relay-on, the first item's start, relay-off.
    planned: HashMap<String, (Timestamp, Timestamp, Timestamp)>,
    last_off: Timestamp,
}

impl Plan {
    /// Writes the broadcasts, `spacing` apart from `lead` seconds on, into
    /// a playlist per day, and reads back loa's plan of them.
    fn write(s: &Settings, inst: &Install, names: &[String], tz: &TimeZone) -> Result<Plan> {
        // The first broadcast's item `lead` seconds from now, on a whole second.
        let first = Timestamp::from_second(Timestamp::now().as_second() + 1 + s.lead_s)?;
        let mut by_date: HashMap<String, String> = HashMap::new();
        let mut titles = Vec::new();
        for i in 0..s.broadcasts {
            let at = Timestamp::from_second(first.as_second() + i as i64 * s.spacing_s)?;
            let (date, hms) = local(at, tz);
            let title = format!("bench {:02}", i + 1);
            by_date.entry(date).or_default().push_str(&format!(
                "[[broadcast]]\nat = \"{hms}\"\ntitle = \"{title}\"\nitems = [\"{}\"]\n\n",
                names[i % names.len()]
            ));
            titles.push(title);
        }
        let mut dates: Vec<String> = by_date.keys().cloned().collect();
        dates.sort();
        for (date, text) in &by_date {
            inst.write_playlist(date, text)?;
        }
        let planned = planned(inst, &dates)?;
        if planned.len() != s.broadcasts {
            bail!(
                "loa plan shows {} broadcasts, not {}",
                planned.len(),
                s.broadcasts
            );
        }
        let last_off = planned.values().map(|p| p.2).max().context("a plan")?;
        println!(
            "  playlist(s): {}; each broadcast: warm-up 1s, one tone of 1-2 s, hold 500ms",
            dates
                .iter()
                .map(|d| format!("{d}.toml"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        println!(
            "  first item at {}, last relay-off at {} ({TZ})",
            local(first, tz).1,
            local(last_off, tz).1
        );
        Ok(Plan {
            dates,
            titles,
            planned,
            last_off,
        })
    }
}

/// The plan, as loa sees it: by title, relay-on, the first item's start
/// and relay-off.
fn planned(
    inst: &Install,
    dates: &[String],
) -> Result<HashMap<String, (Timestamp, Timestamp, Timestamp)>> {
    let mut planned: HashMap<String, (Timestamp, Timestamp, Timestamp)> = HashMap::new();
    for date in dates {
        let plan = inst.json(&["plan", "--date", date, "--json"])?;
        for b in plan["broadcasts"].as_array().into_iter().flatten() {
            let title = b["title"].as_str().unwrap_or_default().to_string();
            let ts = |v: &Value| -> Result<Timestamp> {
                v.as_str()
                    .ok_or_else(|| anyhow!("no time in the plan: {b}"))?
                    .parse::<Timestamp>()
                    .map_err(Into::into)
            };
            planned.insert(
                title,
                (
                    ts(&b["relay_on"])?,
                    ts(&b["items"][0]["start"])?,
                    ts(&b["relay_off"])?,
                ),
            );
        }
    }
    Ok(planned)
}

/// Runs `loa run` until every broadcast has aired (or a minute past the
/// last one's end); returns its CPU time (ms) and VmHWM (kB) then.
fn air(s: &Settings, inst: &Install, plan: &Plan) -> Result<(f64, u64)> {
    let mut daemon = inst.start()?;
    let launched = Timestamp::now();
    let pid = daemon.pid();
    let until = plan.last_off.as_millisecond() + 3000;
    let deadline = Instant::now()
        + Duration::from_millis((until - launched.as_millisecond()).max(0) as u64)
        + Duration::from_secs(60);
    loop {
        if !daemon.alive() {
            bail!(
                "loa run ended during the accuracy run:\n{}",
                daemon.log_text()
            );
        }
        let ons = read_sim_file(&inst.sim_file);
        let done = ons.iter().filter(|e| e.on).count() >= s.broadcasts
            && ons.last().is_some_and(|e| !e.on);
        if done && Timestamp::now().as_millisecond() >= until {
            break;
        }
        if Instant::now() > deadline {
            println!("  (gave up waiting for all broadcasts)");
            break;
        }
        thread::sleep(Duration::from_millis(250));
    }
    let cpu_ms = proc_ticks(pid).map(|(u, s)| (u + s) as f64 * 1000.0 / clock_ticks() as f64)?;
    let hwm = mem_kb(pid, "VmHWM")?;
    daemon.stop();
    Ok((cpu_ms, hwm))
}

/// Actual minus planned, ms, per broadcast in airing order (none: not seen).
type Deltas = Vec<Option<i64>>;

/// Per broadcast, actual minus planned (ms) of the relay-on edge and of the
/// first item's start (none: not found); printed as a table.
fn deltas(s: &Settings, inst: &Install, plan: &Plan, tz: &TimeZone) -> Result<(Deltas, Deltas)> {
    let edges = read_sim_file(&inst.sim_file);
    let mut rows: Vec<Value> = Vec::new();
    for date in &plan.dates {
        let log = inst.json(&["log", "--date", date, "--json"])?;
        rows.extend(log.as_array().cloned().unwrap_or_default());
    }
    println!();
    println!(
        "  {:>3}  {:<10} {:>14} {:>16}   {:<8}",
        "#", "at", "relay-on Δ ms", "first item Δ ms", "status"
    );
    let mut on_d: Deltas = Vec::new();
    let mut item_d: Deltas = Vec::new();
    let half = s.spacing_s * 500;
    for title in &plan.titles {
        let (p_on, p_start, _) = plan.planned[title];
        let on = edges
            .iter()
            .filter(|e| e.on)
            .map(|e| e.at.as_millisecond() - p_on.as_millisecond())
            .filter(|d| d.abs() < half)
            .min_by_key(|d| d.abs());
        let row = rows
            .iter()
            .find(|r| r["broadcast"].as_str() == Some(title.as_str()));
        let started = row
            .and_then(|r| r["started"].as_str())
            .and_then(|t| t.parse::<Timestamp>().ok())
            .map(|t| t.as_millisecond() - p_start.as_millisecond());
        let status = row
            .and_then(|r| r["status"].as_str())
            .unwrap_or("no row")
            .to_string();
        println!(
            "  {:>3}  {:<10} {:>14} {:>16}   {:<8}",
            &title[6..],
            local(p_start, tz).1,
            on.map_or("none".into(), |d| format!("{d:+}")),
            started.map_or("none".into(), |d| format!("{d:+}")),
            status
        );
        on_d.push(on);
        item_d.push(started);
    }
    Ok((on_d, item_d))
}

/// The median, max and signed range of both deltas against the targets,
/// and how much later the first item came than the relay.
fn print_stats(on_d: &[Option<i64>], item_d: &[Option<i64>], relay_on: &Stats, first_item: &Stats) {
    let signed = |v: &[Option<i64>]| -> String {
        let v: Vec<i64> = v.iter().flatten().copied().collect();
        match (v.iter().min(), v.iter().max()) {
            (Some(a), Some(b)) => format!("{a:+} .. {b:+} ms"),
            _ => "none".into(),
        }
    };
    println!();
    println!(
        "  {:<36} {:>10} {:>10} {:>16}   target",
        "|actual - planned|", "median", "max", "signed range"
    );
    for (what, st, d) in [
        ("relay-on (sim-file edge)", relay_on, on_d),
        ("first item start (loa log \"started\")", first_item, item_d),
    ] {
        println!(
            "  {:<36} {:>10} {:>10} {:>16}   median < {MEDIAN_TARGET_MS} ms, max < {MAX_TARGET_MS} ms",
            what,
            fmt_ms(st.median),
            fmt_ms(st.max),
            signed(d)
        );
    }
    let first_vs_on: Vec<i64> = on_d
        .iter()
        .zip(item_d)
        .filter_map(|(a, b)| Some(b.as_ref()? - a.as_ref()?))
        .collect();
    if !first_vs_on.is_empty() {
        println!(
            "  first item lateness minus relay-on lateness: median {:+.0} ms, max {:+} ms",
            median(first_vs_on.iter().map(|v| *v as f64).collect()),
            first_vs_on.iter().max().copied().unwrap_or(0)
        );
    }
}
