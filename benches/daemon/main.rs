//! `loa run`, the service, measured against the figures of issue 4
//! ("Performance"), with `mpd` as the peer in the same run:
//!
//! 1. idle: the CPU time `loa run` uses over 60 s with nothing due (target
//!    < 50 ms), beside `mpd` idle over the same minute; resident memory of
//!    both at the end of it (loa's target < 25 MB);
//! 2. playing: loa's resident memory sampled every 200 ms while a broadcast
//!    of a 60 s MP3 plays through the paced ALSA stand-in (target < 25 MB),
//!    beside mpd playing the same file through the same stand-in;
//! 3. accuracy: 20 broadcasts ~8 s apart through the paced stand-in; the
//!    relay-on edges of the sim-file and the first item's start in
//!    `loa log --json` against `loa plan --json` (targets: median |Δ| < 20 ms,
//!    max |Δ| < 100 ms).
//!
//! It prints the figures and never fails on one (a missed target says MISS);
//! it fails only when it cannot measure (loa does not start, and so on).
//!
//! Run: `cargo bench --bench daemon` (builds target/release/loa; takes about
//! seven minutes). A short smoke run, whose figures are not the issue's:
//! `LOA_BENCH_QUICK=1 cargo bench --bench daemon` (or `-- --quick`).
//! Needs sox and lame (apt packages `sox lame`); the peer needs mpd
//! (apt package `mpd`): without it the peer's columns are skipped.
//!
//! CPU time: utime + stime from /proc/PID/stat (clock ticks, converted with
//! `getconf CLK_TCK`), and, finer, the run time in nanoseconds summed over
//! the threads' /proc/PID/task/TID/schedstat. Memory: VmRSS and VmHWM from
//! /proc/PID/status; MB = 10^6 bytes. Every child is stopped on the way out,
//! also on Ctrl-C.
//!
//! Layout (benches/daemon/):
//! - main.rs: the settings, the three parts in order, the summary;
//! - idle.rs, playing.rs, accuracy.rs: the three parts, each measuring and
//!   printing its own table;
//! - install.rs: a throw-away loa installation, the paced card, the
//!   relay's sim-file;
//! - mpd.rs: mpd, the peer, and its client;
//! - process.rs: the children and temporary folders, stopped and removed on
//!   every way out;
//! - procfs.rs: CPU time and memory of a process from /proc;
//! - ../support/: what this bench shares with play_vs_mpg123 (the test MP3,
//!   the stand-in's asoundrc, small helpers).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::Ordering;
use std::thread;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use jiff::Timestamp;
use jiff::tz::TimeZone;

mod accuracy;
mod idle;
mod install;
mod mpd;
mod playing;
mod process;
mod procfs;
#[path = "../support/mod.rs"]
mod support;

use accuracy::Accuracy;
use idle::Idle;
use mpd::mpd_version;
use playing::Playing;
use process::{INTERRUPTED, stop_children_on_signal, tempdir};
use procfs::clock_ticks;
use support::rel;

/// The commune's zone, written into the config (loa's default too).
const TZ: &str = "Asia/Ho_Chi_Minh";

/// Targets from issue 4.
const IDLE_CPU_TARGET_MS: f64 = 50.0;
const RSS_TARGET_MB: f64 = 25.0;
const MEDIAN_TARGET_MS: f64 = 20.0;
const MAX_TARGET_MS: f64 = 100.0;

/// The lengths of the accuracy run's tones (cycled), seconds.
const TONES: [f64; 5] = [1.0, 1.25, 1.5, 1.75, 2.0];

/// The durations of one run: the issue's, or a short smoke run.
struct Settings {
    quick: bool,
    idle: Duration,
    play_secs: u32,
    broadcasts: usize,
    spacing_s: i64,
    lead_s: i64,
}

impl Settings {
    fn from_env() -> Settings {
        let quick = std::env::args().any(|a| a == "--quick")
            || std::env::var("LOA_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
        if quick {
            Settings {
                quick,
                idle: Duration::from_secs(5),
                play_secs: 8,
                broadcasts: 4,
                spacing_s: 6,
                lead_s: 6,
            }
        } else {
            Settings {
                quick,
                idle: Duration::from_secs(60),
                play_secs: 60,
                broadcasts: 20,
                spacing_s: 8,
                lead_s: 10,
            }
        }
    }

    /// About how long the whole run takes, to keep clear of local midnight
    /// (the dated playlists are for one day).
    fn total(&self) -> Duration {
        let accuracy = self.lead_s + self.broadcasts as i64 * self.spacing_s + 10;
        self.idle + Duration::from_secs(2 * (self.play_secs as u64 + 20) + accuracy as u64 + 60)
    }
}

fn main() {
    println!(
        "== loa run: idle CPU and memory vs mpd, memory while playing, timing accuracy (issue 4, performance) =="
    );
    println!("command: cargo bench --bench daemon");
    let settings = Settings::from_env();
    if settings.quick {
        println!(
            "QUICK smoke run (LOA_BENCH_QUICK / --quick): shortened durations, not the issue's figures"
        );
    }
    println!();
    stop_children_on_signal();
    let code = match run(&settings) {
        Ok(()) => 0,
        Err(_) if INTERRUPTED.load(Ordering::SeqCst) => {
            eprintln!("\ninterrupted: children stopped");
            130
        }
        Err(e) => {
            eprintln!("\nthe daemon bench could not measure: {e:#}");
            1
        }
    };
    // Every child is already stopped (their guards dropped in `run`).
    std::process::exit(code);
}

fn run(s: &Settings) -> Result<()> {
    let missing = support::missing(&["sox", "lame"]);
    if !missing.is_empty() {
        println!("SKIPPED, no figures: missing {}", missing.join(", "));
        println!("install with: apt-get install {}", missing.join(" "));
        return Ok(());
    }
    let mpd = support::on_path("mpd");
    if !mpd {
        println!("mpd is missing: its columns are skipped (install with: apt-get install mpd)");
    }

    // Built by `cargo bench` (the bench profile inherits release).
    let loa = PathBuf::from(env!("CARGO_BIN_EXE_loa"));
    if !loa.is_file() {
        bail!(
            "{} is missing: build it with `cargo build --release`",
            loa.display()
        );
    }
    let tz = TimeZone::get(TZ).context("the commune's time zone")?;
    let clk_tck = clock_ticks();

    // The test audio, made once and kept in target/bench-data.
    let data = support::bench_data(&loa).context("the binary is in target/<profile>/")?;
    let play_mp3 = data.join(format!("daemon-play-{}s-128k.mp3", s.play_secs));
    support::media::ensure_mp3(&play_mp3, s.play_secs, || tempdir("mp3"))?;
    let tones: Vec<PathBuf> = TONES
        .iter()
        .enumerate()
        .map(|(i, secs)| {
            let p = data.join(format!("daemon-tone-{}ms.wav", (secs * 1000.0) as u32));
            ensure_tone(&p, 440.0 + 110.0 * i as f64, *secs).map(|()| p)
        })
        .collect::<Result<_>>()?;

    println!("loa:      {} (clock ticks: {clk_tck}/s)", rel(&loa));
    println!(
        "mpd:      {}",
        mpd_version().unwrap_or_else(|| "missing".into())
    );
    println!(
        "ALSA:     paced stand-in (loa::player::standin::PacedCapture): plug S16_LE/48000/2 -> file plugin"
    );
    println!(
        "          a named pipe drained at real time by this bench (10 ms every 10 ms, one-page buffer), via XDG_CONFIG_HOME/alsa/asoundrc"
    );
    println!("config:   language en, timezone {TZ}, [relay] backend sim + sim-file,");
    println!("          [schedule] require-clock-sync = false; paths in a temporary folder");
    println!();

    keep_clear_of_midnight(s, &tz);

    let idle = idle::idle(s, &loa, &tones[0], &tz, clk_tck, mpd)?;
    let playing = playing::playing(s, &loa, &play_mp3, &tz, mpd)?;
    let accuracy = accuracy::accuracy(s, &loa, &tones, &tz)?;

    print_summary(s, &idle, &playing, &accuracy);
    Ok(())
}

/// The figures against the targets of issue 4, with PASS or MISS.
fn print_summary(s: &Settings, idle: &Idle, playing: &Playing, accuracy: &Accuracy) {
    let verdict = |ok: bool| if ok { "PASS" } else { "MISS" };
    let opt = |v: Option<f64>, unit: &str| v.map_or("-".to_string(), |v| format!("{v:.1} {unit}"));
    // A row with a target: loa's figure, mpd's, the target and the verdict.
    let judged = |what: &str, loa: String, mpd: String, target: String, ok: bool| {
        println!(
            "  {what:<44} {loa:>12} {mpd:>12}   {target:<10} {}",
            verdict(ok)
        );
    };
    println!();
    println!("== summary{} ==", if s.quick { " (QUICK run)" } else { "" });
    println!(
        "  {:<44} {:>12} {:>12}   {:<10} result",
        "", "loa", "mpd", "target"
    );
    judged(
        &format!("idle CPU over {} s (ticks, utime+stime)", s.idle.as_secs()),
        format!("{:.0} ms", idle.loa_cpu_ms),
        idle.mpd_cpu_ms
            .map_or("-".to_string(), |v| format!("{v:.0} ms")),
        format!("< {IDLE_CPU_TARGET_MS} ms"),
        idle.loa_cpu_ms < IDLE_CPU_TARGET_MS,
    );
    println!(
        "  {:<44} {:>12} {:>12}",
        format!("idle CPU over {} s (schedstat run time)", s.idle.as_secs()),
        format!("{:.3} ms", idle.loa_sched_ms),
        opt3(idle.mpd_sched_ms)
    );
    judged(
        "VmRSS idle",
        format!("{:.1} MB", idle.loa_rss_mb),
        opt(idle.mpd_rss_mb, "MB"),
        format!("< {RSS_TARGET_MB} MB"),
        idle.loa_rss_mb < RSS_TARGET_MB,
    );
    judged(
        "max VmRSS while playing (200 ms samples)",
        format!("{:.1} MB", playing.loa_max_rss_mb),
        opt(playing.mpd_max_rss_mb, "MB"),
        format!("< {RSS_TARGET_MB} MB"),
        playing.loa_max_rss_mb < RSS_TARGET_MB,
    );
    for (what, st) in [
        ("relay-on, |actual - planned|", &accuracy.relay_on),
        ("first item start, |actual - planned|", &accuracy.first_item),
    ] {
        for (stat, v, target) in [
            ("median", st.median, MEDIAN_TARGET_MS),
            ("max", st.max, MAX_TARGET_MS),
        ] {
            judged(
                &format!("{what}, {stat}"),
                fmt_ms(v),
                String::new(),
                format!("< {target} ms"),
                st.complete && v.is_some_and(|m| m < target),
            );
        }
    }
    println!(
        "  ({} of {} broadcasts aired with a relay-on edge and a first-item start)",
        accuracy.relay_on.n.min(accuracy.first_item.n),
        s.broadcasts
    );
}

fn opt3(v: Option<f64>) -> String {
    v.map_or("-".to_string(), |v| format!("{v:.3} ms"))
}

fn fmt_ms(v: Option<f64>) -> String {
    v.map_or("none".to_string(), |v| format!("{v:.0} ms"))
}

/// The local date (YYYY-MM-DD) and time of day (HH:MM:SS) of an instant.
fn local(t: Timestamp, tz: &TimeZone) -> (String, String) {
    let z = t.to_zoned_datetime(tz.clone());
    (
        z.strftime("%Y-%m-%d").to_string(),
        z.strftime("%H:%M:%S").to_string(),
    )
}

/// Waits past local midnight when the run would cross it: every playlist
/// here is for one day.
fn keep_clear_of_midnight(s: &Settings, tz: &TimeZone) {
    let now = Timestamp::now().to_zoned_datetime(tz.clone());
    let Some(midnight) = now
        .date()
        .tomorrow()
        .ok()
        .and_then(|d| d.to_zoned_datetime(tz.clone()).ok())
    else {
        return;
    };
    let left = midnight.timestamp().as_second() - now.timestamp().as_second();
    if left > s.total().as_secs() as i64 {
        return;
    }
    println!(
        "local midnight ({TZ}) is {left} s away and the run takes about {} s: waiting past it",
        s.total().as_secs()
    );
    thread::sleep(Duration::from_secs(left.max(0) as u64 + 5));
}

/// A mono 16-bit 48 kHz tone, made once with sox.
fn ensure_tone(wav: &Path, freq: f64, secs: f64) -> Result<()> {
    if wav.is_file() {
        return Ok(());
    }
    let dir = wav.parent().context("the bench-data folder")?;
    std::fs::create_dir_all(dir)?;
    let part = dir.join(format!(
        ".{}.part.wav",
        wav.file_name().and_then(|n| n.to_str()).unwrap_or("tone")
    ));
    let ok = Command::new("sox")
        .args(["-q", "-n", "-r", "48000", "-c", "1", "-b", "16"])
        .arg(&part)
        .args(["synth", &secs.to_string(), "sine", &freq.to_string()])
        .args(["fade", "0.01", "-0", "0.01", "gain", "-n", "-6"])
        .status()
        .context("running sox")?
        .success();
    if !ok {
        bail!("sox failed making {}", wav.display());
    }
    std::fs::rename(&part, wav)?;
    Ok(())
}

fn utf8(p: &Path) -> Result<&str> {
    p.to_str()
        .ok_or_else(|| anyhow!("{} is not UTF-8", p.display()))
}
