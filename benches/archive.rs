//! Issue 13: what archiving a broadcast costs. The same 10-minute MP3 as
//! `play_vs_mpg123` (128 kbps, 44.1 kHz stereo) is played by `loa play
//! --no-relay` through the unpaced ALSA stand-in (CPU from wait4's rusage),
//! and the same sound, decoded beforehand, goes through the archive as the
//! feeder hands it over (the tap, the encoder thread, LAME at 32 kbps mono,
//! the file written and hashed), CPU from /proc/self/stat around it. The
//! archive's CPU over playing's is to be at most 15 % (the target;
//! loa plays so cheaply that an MP3 encoder, which does several times a
//! decoder's work, stays above it: the share of one core is printed too);
//! the size of the recording per hour is printed (2 h a day must stay under
//! 30 MB). Prints PASS or MISS; never fails on a figure.
//!
//! Run: `cargo bench --bench archive`. Needs sox and lame (to make the
//! MP3 once); without them it says what to install and exits 0.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use wait4::Wait4;

#[path = "support/mod.rs"]
mod support;

use support::standin::CAPTURE_BYTES_PER_SECOND;
use support::{median, rel};

const SECONDS: u32 = 600;
const MP3_NAME: &str = "music-600s-128k-44k1-stereo.mp3";
const RUNS: usize = 3;
/// The archive may add at most this much to playing's CPU.
const CPU_TARGET: f64 = 0.15;
/// A day of typical broadcasts (2 h) under 30 MB.
const DAY_TARGET_MB: f64 = 30.0;

fn main() {
    println!("== the broadcast archive's cost (issue 13) ==");
    println!("command: cargo bench --bench archive");
    let missing = support::missing(&["sox", "lame"]);
    if !missing.is_empty() {
        println!("SKIPPED, no figures: missing {}", missing.join(", "));
        println!("install with: apt-get install {}", missing.join(" "));
        return;
    }
    let loa = PathBuf::from(env!("CARGO_BIN_EXE_loa"));
    let data = support::bench_data(&loa).expect("the binary is in target/<profile>/");
    let mp3 = data.join(MP3_NAME);
    support::media::ensure_mp3(&mp3, SECONDS, || Ok(tempfile::tempdir()?))
        .unwrap_or_else(|e| panic!("{e:#}"));
    println!("input:   {} ({SECONDS} s)", rel(&mp3));
    println!(
        "ALSA:    the stand-in (plug to S16_LE 48 kHz stereo, {CAPTURE_BYTES_PER_SECOND} bytes/s, into /dev/null, unpaced)"
    );

    let tmp = tempfile::tempdir().expect("a temporary folder");
    let play: Vec<f64> = (0..RUNS)
        .map(|_| play_cpu(&loa, &data, tmp.path()))
        .collect();
    let (pcm, rate, channels) = decode(&mp3);
    let runs: Vec<(f64, u64)> = (0..RUNS)
        .map(|_| archive_cpu(&pcm, rate, channels, tmp.path()))
        .collect();
    let play = median(play);
    let arch = median(runs.iter().map(|r| r.0).collect());
    let bytes = runs[0].1;
    let per_hour = bytes as f64 * 3600.0 / f64::from(SECONDS);
    let day_mb = per_hour * 2.0 / 1e6;
    let ratio = arch / play;
    let verdict = |ok: bool| if ok { "PASS" } else { "MISS" };
    println!();
    println!("medians of {RUNS} runs:");
    println!("  loa play --no-relay, CPU (user+sys)      {play:>8.2} s");
    println!("  the archive of the same sound, CPU       {arch:>8.2} s");
    println!(
        "  archive / playing                        {:>7.1} %   target <= {:.0} %   {}",
        ratio * 100.0,
        CPU_TARGET * 100.0,
        verdict(ratio <= CPU_TARGET)
    );
    println!(
        "  the archive while a broadcast plays in real time: {:.2} % of one core",
        arch / f64::from(SECONDS) * 100.0
    );
    println!(
        "  recording: {bytes} bytes for {SECONDS} s = {:.0} bytes/hour; 2 h a day = {day_mb:.1} MB   target < {DAY_TARGET_MB:.0} MB   {}",
        per_hour,
        verdict(day_mb < DAY_TARGET_MB)
    );
}

/// CPU seconds of `loa play --no-relay` on the MP3, unpaced.
fn play_cpu(loa: &Path, data: &Path, dir: &Path) -> f64 {
    let xdg = dir.join("xdg");
    support::standin::write_asoundrc(&xdg).unwrap();
    let config = dir.join("loa.toml");
    std::fs::write(
        &config,
        format!(
            "language = \"en\"\n[paths]\naudio = {:?}\nstate = {:?}\n[relay]\nbackend = \"sim\"\nwarm-up = \"0s\"\nhold = \"0s\"\n",
            data.to_str().unwrap(),
            dir.join("state").to_str().unwrap()
        ),
    )
    .unwrap();
    let child = Command::new(loa)
        .arg("--config")
        .arg(&config)
        .args(["play", "--no-relay", MP3_NAME])
        .env("XDG_CONFIG_HOME", &xdg)
        .env("LOA_TEST_CAPTURE", "/dev/null")
        .env_remove("LOA_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting loa play");
    let res = child.wait4().expect("wait4");
    assert!(res.status.success(), "loa play failed");
    (res.rusage.utime + res.rusage.stime).as_secs_f64()
}

/// The MP3 decoded: interleaved f32, its rate and channels.
fn decode(mp3: &Path) -> (Vec<f32>, u32, usize) {
    let mut d = loa::media::Decoder::open(&loa::media::MediaPath::Given(mp3.to_path_buf()))
        .expect("the bench MP3 decodes");
    let (rate, ch) = (d.sample_rate, usize::from(d.channels));
    let mut all = Vec::new();
    while d.next_into(&mut all).expect("the bench MP3 decodes") {}
    (all, rate, ch)
}

/// This process's CPU time so far (user + system), from /proc/self/stat
/// (in USER_HZ, 100 per second).
fn self_cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after.split(' ').collect();
    // Fields 14 and 15 of the line: 12 and 13 after the state.
    let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    ticks as f64 / 100.0
}

/// CPU seconds to archive `pcm` as the feeder hands it over (blocks of
/// 2048 frames), and the recording's size.
fn archive_cpu(pcm: &[f32], rate: u32, channels: usize, dir: &Path) -> (f64, u64) {
    let mut cfg = loa::config::Config::defaults(dir);
    cfg.archive.folder = dir.join("archive");
    let archive = loa::archive::Archive::new(&cfg);
    let (tx, rx) = std::sync::mpsc::channel();
    let before = self_cpu();
    let (rec, mut tap) = archive
        .start(
            "bench",
            jiff::Timestamp::now(),
            Box::new(move |r| {
                let _ = tx.send(r);
            }),
        )
        .expect("the archive is on")
        .expect("the recording starts");
    tap.set_format(rate, channels);
    for block in pcm.chunks(2048 * channels) {
        // The bench must lose nothing; the feeder never waits like this.
        while tap.room() < block.len() {
            std::thread::sleep(Duration::from_millis(1));
        }
        tap.push(block);
    }
    drop(tap);
    let closed = rx
        .recv_timeout(Duration::from_secs(300))
        .expect("the recording closes")
        .expect("the recording is written")
        .expect("the recording has sound");
    drop(rec);
    let cpu = self_cpu() - before;
    let _ = std::fs::remove_file(&closed.path);
    (cpu, closed.bytes)
}
