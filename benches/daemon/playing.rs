//! Part 2: resident memory sampled every 200 ms while a broadcast of an MP3
//! plays through the paced stand-in, beside mpd playing the same file
//! through the same stand-in; printed as a table.

use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::install::{Install, read_sim_file};
use crate::mpd::Mpd;
use crate::process::tempdir;
use crate::procfs::{kb_mb, mb, mem_kb};
use crate::support::median;
use crate::support::standin::{CAPTURE_BYTES_PER_SECOND, write_asoundrc};
use crate::{RSS_TARGET_MB, Settings, local};

/// What the summary takes from part 2.
pub struct Playing {
    pub loa_max_rss_mb: f64,
    pub mpd_max_rss_mb: Option<f64>,
}

pub fn playing(
    s: &Settings,
    loa: &Path,
    mp3: &Path,
    tz: &TimeZone,
    with_mpd: bool,
) -> Result<Playing> {
    println!(
        "== 2. memory while playing a {} s MP3 (128 kbps, 44.1 kHz stereo), paced ==",
        s.play_secs
    );
    let inst = Install::new(loa, "play", "1s", "500ms")?;
    inst.add_audio(mp3, "music.mp3")?;
    // Probed (loudness, SHA-256) before, as a file is long before it airs.
    inst.warm_index(&["music.mp3"])?;
    let capture = inst.root.join("capture.raw");
    let at = Timestamp::from_second(Timestamp::now().as_second() + 7)?;
    let (date, hms) = local(at, tz);
    inst.write_playlist(
        &date,
        &format!("[[broadcast]]\nat = \"{hms}\"\ntitle = \"music\"\nitems = [\"music.mp3\"]\n"),
    )?;
    let plan = inst.json(&["plan", "--date", &date, "--json"])?;
    let relay_off = plan["broadcasts"][0]["relay_off"]
        .as_str()
        .context("the plan has the broadcast")?
        .parse::<Timestamp>()?;
    println!("  loa: one broadcast at {hms} (warm-up 1s, hold 500ms), capture into a file");

    let mut daemon = inst.start_with_capture(&capture)?;
    let pid = daemon.pid();
    let rss_before = mem_kb(pid, "VmRSS")?;
    let deadline = Instant::now()
        + Duration::from_millis(
            (relay_off.as_millisecond() - Timestamp::now().as_millisecond()).max(0) as u64,
        )
        + Duration::from_secs(30);
    let mut samples: Vec<u64> = Vec::new();
    loop {
        if Instant::now() > deadline {
            bail!("the broadcast did not end in time:\n{}", daemon.log_text());
        }
        if !daemon.alive() {
            bail!("loa run ended during the broadcast:\n{}", daemon.log_text());
        }
        let edges = read_sim_file(&inst.sim_file);
        let on = edges.iter().position(|e| e.on);
        let off_after = on.is_some_and(|i| edges[i..].iter().any(|e| !e.on));
        if off_after {
            break;
        }
        if on.is_some() {
            samples.push(mem_kb(pid, "VmRSS")?);
        }
        thread::sleep(Duration::from_millis(200));
    }
    let hwm = mem_kb(pid, "VmHWM")?;
    let rss_after = mem_kb(pid, "VmRSS")?;
    daemon.stop();
    let log = inst.json(&["log", "--date", &date, "--json"])?;
    let status = log[0]["status"].as_str().unwrap_or("none").to_string();
    let captured =
        std::fs::metadata(&capture).map(|m| m.len()).unwrap_or(0) as f64 / CAPTURE_BYTES_PER_SECOND;
    let loa_play = Played {
        samples,
        before: rss_before,
        after: rss_after,
        hwm,
        captured,
    };

    // mpd playing the same file into the same stand-in.
    let mpd = if with_mpd {
        Some(mpd_playing(s, mp3)?)
    } else {
        None
    };

    print_table(&loa_play, mpd.as_ref());
    println!("  loa's as-run row: {status}");
    println!();
    Ok(Playing {
        loa_max_rss_mb: loa_play.max_rss() as f64 * 1024.0 / 1e6,
        mpd_max_rss_mb: mpd.map(|p| p.max_rss() as f64 * 1024.0 / 1e6),
    })
}

/// The table of both: VmRSS while on air, before and after, VmHWM, and the
/// audio the stand-in took; mpd's column is `-` without mpd.
fn print_table(loa: &Played, mpd: Option<&Played>) {
    // A row of a figure of both, and the target (with its leading spaces).
    let row = |what: &str, f: &dyn Fn(&Played) -> String, target: &str| {
        let m = mpd.map_or("-".into(), f);
        println!("  {what:<40} {:>12} {m:>12}{target}", f(loa));
    };
    println!();
    println!("  {:<40} {:>12} {:>12}   target", "", "loa", "mpd");
    row(
        "VmRSS samples while on air (200 ms)",
        &|p| p.samples.len().to_string(),
        "",
    );
    row(
        "max VmRSS while playing",
        &|p| mb(p.max_rss()),
        &format!("   < {RSS_TARGET_MB} MB (loa)"),
    );
    row(
        "median VmRSS while playing",
        &|p| mb(median_u64(&p.samples)),
        "",
    );
    row(
        "VmRSS before / after the broadcast",
        &|p| format!("{:.1}/{:.1}", kb_mb(p.before), kb_mb(p.after)),
        "",
    );
    row("VmHWM (peak since start)", &|p| mb(p.hwm), "");
    row(
        "audio captured by the stand-in",
        &|p| format!("{:.1} s", p.captured),
        "",
    );
}

/// One program's figures while it played the MP3 (memory in kB).
struct Played {
    /// VmRSS every 200 ms while on air.
    samples: Vec<u64>,
    before: u64,
    after: u64,
    hwm: u64,
    /// Seconds of audio the stand-in took.
    captured: f64,
}

impl Played {
    /// The largest VmRSS sample (0 without samples).
    fn max_rss(&self) -> u64 {
        self.samples.iter().copied().max().unwrap_or(0)
    }
}

fn mpd_playing(s: &Settings, mp3: &Path) -> Result<Played> {
    let xdg_dir = tempdir("mpd-alsa")?;
    let xdg = xdg_dir.path().join("xdg");
    write_asoundrc(&xdg)?;
    let capture = xdg_dir.path().join("capture.raw");
    let mut mpd = Mpd::start("play", Some(mp3), Some((&xdg, &capture)))?;
    println!(
        "  mpd: mpd --no-daemon {} (audio_output alsa \"default\", mixer none), add music.mp3, play",
        mpd.config.display()
    );
    let pid = mpd.proc.pid();
    mpd.wait_for_database()?;
    let before = mem_kb(pid, "VmRSS")?;
    mpd.command("add music.mp3")?;
    mpd.command("play")?;
    let deadline = Instant::now() + Duration::from_secs(s.play_secs as u64 + 30);
    let mut samples = Vec::new();
    let mut seen_play = false;
    loop {
        if Instant::now() > deadline {
            bail!(
                "mpd did not finish playing in time:\n{}",
                mpd.proc.log_text()
            );
        }
        if !mpd.proc.alive() {
            bail!("mpd ended while playing:\n{}", mpd.proc.log_text());
        }
        let status = mpd.command("status")?;
        let playing = status.lines().any(|l| l == "state: play");
        if playing {
            seen_play = true;
            samples.push(mem_kb(pid, "VmRSS")?);
        } else if seen_play || status.lines().any(|l| l.starts_with("error:")) {
            break;
        }
        thread::sleep(Duration::from_millis(200));
    }
    let after = mem_kb(pid, "VmRSS")?;
    let hwm = mem_kb(pid, "VmHWM")?;
    mpd.proc.stop();
    let captured =
        std::fs::metadata(&capture).map(|m| m.len()).unwrap_or(0) as f64 / CAPTURE_BYTES_PER_SECOND;
    Ok(Played {
        samples,
        before,
        after,
        hwm,
        captured,
    })
}

fn median_u64(v: &[u64]) -> u64 {
    median(v.iter().map(|x| *x as f64).collect()) as u64
}
