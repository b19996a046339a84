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

/// What the summary takes from part 1.
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
    print_peers(loa, &inst, loa_pid, mpd.as_ref());

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
    let loa_mem = (mem_kb(loa_pid, "VmRSS")?, mem_kb(loa_pid, "VmHWM")?);
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

    print_table(s, clk_tck, (&loa_d, loa_mem), mpd_d.as_ref().zip(mpd_mem));
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
        loa_rss_mb: loa_mem.0 as f64 * 1024.0 / 1e6,
        mpd_cpu_ms: mpd_d.as_ref().map(|d| d.ticks_ms),
        mpd_sched_ms: mpd_d.as_ref().map(|d| d.sched_ms),
        mpd_rss_mb: mpd_mem.map(|m| m.0 as f64 * 1024.0 / 1e6),
    })
}

/// What runs: loa, and mpd if it is there.
fn print_peers(loa: &Path, inst: &Install, loa_pid: u32, mpd: Option<&Mpd>) {
    println!(
        "  loa:  {} --config {} run      (pid {loa_pid}; `loa status --json` answers)",
        rel(loa),
        inst.config.display()
    );
    if let Some(m) = mpd {
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
}

/// The idle table: each process's CPU over the idle time and its memory
/// (VmRSS, VmHWM in kB) at the end of it; mpd's column is `-` without mpd.
fn print_table(
    s: &Settings,
    clk_tck: u64,
    loa: (&CpuDelta, (u64, u64)),
    mpd: Option<(&CpuDelta, (u64, u64))>,
) {
    // A row: loa's figure, mpd's, and the target (with its leading spaces).
    let row = |what: &str, loa: String, mpd: String, target: &str| {
        println!("  {what:<40} {loa:>14} {mpd:>14}{target}");
    };
    // A figure of both, `-` for mpd's when it is not there.
    let line = |what: &str, f: &dyn Fn(&CpuDelta, (u64, u64)) -> String, target: &str| {
        let mpd = mpd.map_or("-".into(), |(d, m)| f(d, m));
        row(what, f(loa.0, loa.1), mpd, target);
    };
    println!();
    row(
        &format!("over the same {} s", s.idle.as_secs()),
        "loa".into(),
        "mpd".into(),
        "   target",
    );
    line(
        "CPU, utime+stime (/proc/PID/stat)",
        &|d, _| format!("{:.0} ms", d.ticks_ms),
        &format!("   < {IDLE_CPU_TARGET_MS} ms (loa)"),
    );
    line(
        "  of which utime / stime",
        &|d, _| format!("{:.0}/{:.0} ms", d.utime_ms, d.stime_ms),
        "",
    );
    line(
        "CPU, run time (task/*/schedstat)",
        &|d, _| format!("{:.3} ms", d.sched_ms),
        "",
    );
    line(
        "context switches (voluntary, all threads)",
        &|d, _| d.switches.to_string(),
        "",
    );
    line(
        "threads at the end",
        &|d, _| d.threads_after.to_string(),
        "",
    );
    line(
        "VmRSS at the end",
        &|_, m| mb(m.0),
        &format!("   < {RSS_TARGET_MB} MB (loa)"),
    );
    line("VmHWM (peak since start)", &|_, m| mb(m.1), "");
    line(
        "CPU from start to t0 (ticks | schedstat)",
        &|d, _| {
            format!(
                "{:.0} | {:.1} ms",
                d.ticks_before as f64 * 1000.0 / clk_tck as f64,
                d.sched_before_ms
            )
        },
        "",
    );
}
