//! Part 1: `loa run` idle, with nothing due for three hours, beside mpd
//! idle over the same time: CPU time, context switches, threads and memory,
//! printed as a table.

use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::install::Install;
use crate::mpd::Mpd;
use crate::procfs::{CpuDelta, CpuSample, mb, mem_kb};
use crate::support::rel;
use crate::{IDLE_CPU_TARGET_MS, RSS_TARGET_MB, Settings, local};

pub struct Idle {
    pub loa_cpu_ms: f64,
    pub loa_sched_ms: f64,
    pub loa_rss_mb: f64,
    pub mpd_cpu_ms: Option<f64>,
    pub mpd_sched_ms: Option<f64>,
    pub mpd_rss_mb: Option<f64>,
}

pub fn idle(
    s: &Settings,
    loa: &Path,
    tone: &Path,
    tz: &TimeZone,
    clk_tck: u64,
    with_mpd: bool,
) -> Result<Idle> {
    println!("== 1. idle, nothing due, {} s ==", s.idle.as_secs());
    let inst = Install::new(loa, "idle", "3s", "2s")?;
    inst.add_audio(tone, "tone.wav")?;
    // The only broadcast is three hours away (in a dated playlist for its
    // own day: after 21:00 that is tomorrow, and today has no playlist).
    let at = Timestamp::now() + jiff::SignedDuration::from_hours(3);
    let (date, hms) = local(at, tz);
    inst.write_playlist(
        &date,
        &format!("[[broadcast]]\nat = \"{hms}\"\ntitle = \"later\"\nitems = [\"tone.wav\"]\n"),
    )?;
    inst.json(&["plan", "--date", &date, "--json"])?;
    println!("  playlist: {date}.toml, one broadcast at {hms} (three hours away)");

    let mut daemon = inst.start()?;
    let loa_pid = daemon.pid();
    let mut mpd = if with_mpd {
        Some(Mpd::start("idle", None, None)?)
    } else {
        None
    };
    println!(
        "  loa:  {} --config {} run      (pid {loa_pid}; `loa status --json` answers)",
        rel(loa),
        inst.config.display()
    );
    if let Some(m) = &mpd {
        println!(
            "  mpd:  mpd --no-daemon {}   (pid {}; its socket greets)",
            m.config.display(),
            m.proc.pid()
        );
        println!("        music_directory empty, db/state files in a temporary folder,");
        println!(
            "        audio_output null, bind_to_address {}",
            m.socket.display()
        );
    }

    let loa0 = CpuSample::take(loa_pid)?;
    let mpd0 = match &mpd {
        Some(m) => Some(CpuSample::take(m.proc.pid())?),
        None => None,
    };
    let started = Instant::now();
    while started.elapsed() < s.idle {
        thread::sleep(Duration::from_millis(500).min(s.idle.saturating_sub(started.elapsed())));
        if !daemon.alive() {
            bail!(
                "loa run ended during the idle minute:\n{}",
                daemon.log_text()
            );
        }
    }
    let loa1 = CpuSample::take(loa_pid)?;
    let mpd1 = match &mpd {
        Some(m) => Some(CpuSample::take(m.proc.pid())?),
        None => None,
    };
    let (loa_rss, loa_hwm) = (mem_kb(loa_pid, "VmRSS")?, mem_kb(loa_pid, "VmHWM")?);
    let mpd_mem = match &mpd {
        Some(m) => Some((
            mem_kb(m.proc.pid(), "VmRSS")?,
            mem_kb(m.proc.pid(), "VmHWM")?,
        )),
        None => None,
    };
    // Still serving, and still waiting for the broadcast.
    let status = inst.json(&["status", "--json"])?;
    let next = status["next"]["at"].as_str().unwrap_or("none").to_string();

    let loa_d = loa1.since(&loa0, clk_tck);
    let mpd_d = mpd1.zip(mpd0).map(|(b, a)| b.since(&a, clk_tck));
    if let Some(m) = &mut mpd {
        m.proc.stop();
    }
    daemon.stop();

    println!();
    println!(
        "  {:<40} {:>14} {:>14}   target",
        format!("over the same {} s", s.idle.as_secs()),
        "loa",
        "mpd"
    );
    let mpd_col = |f: &dyn Fn(&CpuDelta) -> String| mpd_d.as_ref().map_or("-".into(), f);
    println!(
        "  {:<40} {:>14} {:>14}   < {IDLE_CPU_TARGET_MS} ms (loa)",
        "CPU, utime+stime (/proc/PID/stat)",
        format!("{:.0} ms", loa_d.ticks_ms),
        mpd_col(&|d| format!("{:.0} ms", d.ticks_ms))
    );
    println!(
        "  {:<40} {:>14} {:>14}",
        "  of which utime / stime",
        format!("{:.0}/{:.0} ms", loa_d.utime_ms, loa_d.stime_ms),
        mpd_col(&|d| format!("{:.0}/{:.0} ms", d.utime_ms, d.stime_ms))
    );
    println!(
        "  {:<40} {:>14} {:>14}",
        "CPU, run time (task/*/schedstat)",
        format!("{:.3} ms", loa_d.sched_ms),
        mpd_col(&|d| format!("{:.3} ms", d.sched_ms))
    );
    println!(
        "  {:<40} {:>14} {:>14}",
        "context switches (voluntary, all threads)",
        loa_d.switches.to_string(),
        mpd_col(&|d| d.switches.to_string())
    );
    println!(
        "  {:<40} {:>14} {:>14}",
        "threads at the end",
        loa1.threads.len().to_string(),
        mpd1_threads(&mpd_d)
    );
    println!(
        "  {:<40} {:>14} {:>14}   < {RSS_TARGET_MB} MB (loa)",
        "VmRSS at the end",
        mb(loa_rss),
        mpd_mem.map_or("-".into(), |m| mb(m.0))
    );
    println!(
        "  {:<40} {:>14} {:>14}",
        "VmHWM (peak since start)",
        mb(loa_hwm),
        mpd_mem.map_or("-".into(), |m| mb(m.1))
    );
    println!(
        "  {:<40} {:>14} {:>14}",
        "CPU from start to t0 (ticks | schedstat)",
        format!(
            "{:.0} | {:.1} ms",
            loa_d.ticks_before as f64 * 1000.0 / clk_tck as f64,
            loa_d.sched_before_ms
        ),
        mpd0_ms(&mpd_d, clk_tck)
    );
    println!("  loa status afterwards: next broadcast at {next}");
    if loa_d.gone_threads > 0 {
        println!(
            "  note: {} loa thread(s) ended inside the minute; their run time there is not in the schedstat figure",
            loa_d.gone_threads
        );
    }
    println!();
    Ok(Idle {
        loa_cpu_ms: loa_d.ticks_ms,
        loa_sched_ms: loa_d.sched_ms,
        loa_rss_mb: loa_rss as f64 * 1024.0 / 1e6,
        mpd_cpu_ms: mpd_d.as_ref().map(|d| d.ticks_ms),
        mpd_sched_ms: mpd_d.as_ref().map(|d| d.sched_ms),
        mpd_rss_mb: mpd_mem.map(|m| m.0 as f64 * 1024.0 / 1e6),
    })
}

fn mpd1_threads(d: &Option<CpuDelta>) -> String {
    d.as_ref()
        .map_or("-".into(), |d| d.threads_after.to_string())
}

fn mpd0_ms(d: &Option<CpuDelta>, clk_tck: u64) -> String {
    d.as_ref().map_or("-".into(), |d| {
        format!(
            "{:.0} | {:.1} ms",
            d.ticks_before as f64 * 1000.0 / clk_tck as f64,
            d.sched_before_ms
        )
    })
}
