//! `loa play --no-relay` against `mpg123` on the same 10-minute 128 kbps
//! stereo MP3, through the same ALSA stand-in (a `plug` to S16_LE, 48 kHz,
//! stereo, into the `file` plugin with a `null` slave: unpaced), in the same
//! run. Prints the figures and the ratios; it never fails on a figure
//! (speed is reported, not asserted). Targets (issue 13): CPU (user+sys)
//! ≤ 1.1× mpg123's, peak RSS ≤ 20 MB; (issue 3) first sample at ALSA
//! < 150 ms after starting loa with warm-up 0; also the stripped release
//! binary's size.
//!
//! Where loa's CPU goes: `cargo build --profile profiling` (the release
//! build with symbols), then, with this bench's asoundrc and config,
//! `perf record -g target/profiling/loa --config … play --no-relay FILE`
//! and `perf report --sort comm,dso` / `--sort symbol`.
//!
//! Run: `cargo bench --bench play_vs_mpg123` (which builds target/release/loa).
//! Needs sox, lame and mpg123 (apt packages `sox lame mpg123`); without
//! them it says what to install and exits 0 with no figures.
//!
//! CPU time and peak RSS come from `wait4(2)`'s rusage of each child (through
//! the `wait4` crate: this package forbids `unsafe`).

use std::fs::OpenOptions;
use std::io::{ErrorKind, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use wait4::{ResUse, Wait4};

#[path = "support/mod.rs"]
mod support;

use support::standin::CAPTURE_BYTES_PER_SECOND;
use support::{median, rel};

/// Measured runs of each program (alternating).
const RUNS: usize = 5;
/// The test file's length and format.
const SECONDS: u32 = 600;
const MP3_NAME: &str = "music-600s-128k-44k1-stereo.mp3";
/// No single run may take longer than this (unpaced, it takes seconds).
const RUN_TIMEOUT: Duration = Duration::from_secs(300);
/// A latency run gives up on seeing sound after this.
const LATENCY_TIMEOUT: Duration = Duration::from_secs(10);

/// Targets from issues 13 (CPU, RSS) and 3 (latency).
const CPU_RATIO_TARGET: f64 = 1.1;
const RSS_TARGET_MB: f64 = 20.0;
const LATENCY_TARGET_MS: f64 = 150.0;

fn main() {
    println!("== loa play vs mpg123 (issues 3 and 13, performance) ==");
    println!("command: cargo bench --bench play_vs_mpg123");
    println!();

    let missing = support::missing(&["sox", "lame", "mpg123", "mkfifo"]);
    if !missing.is_empty() {
        let packages: Vec<&str> = missing
            .iter()
            .map(|t| if *t == "mkfifo" { "coreutils" } else { t })
            .collect();
        println!("SKIPPED, no figures: missing {}", missing.join(", "));
        println!("install with: apt-get install {}", packages.join(" "));
        return;
    }

    // Built by `cargo bench` (the bench profile inherits release: strip, lto).
    let loa = PathBuf::from(env!("CARGO_BIN_EXE_loa"));
    if !loa.is_file() {
        println!(
            "{} is missing: build it with `cargo build --release`",
            loa.display()
        );
        std::process::exit(1);
    }

    let data = support::bench_data(&loa).expect("the binary is in target/<profile>/");
    let mp3 = data.join(MP3_NAME);
    let made = Instant::now();
    let fresh = support::media::ensure_mp3(&mp3, SECONDS, || Ok(tempfile::tempdir()?))
        .unwrap_or_else(|e| panic!("{e:#}"));
    let mp3_size = std::fs::metadata(&mp3).map(|m| m.len()).unwrap_or(0);

    // A throw-away installation: the asoundrc, the config, the state folder.
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let bench = Bench::install(&loa, &data, &mp3, tmp.path());
    bench.print_setup(mp3_size, fresh.then(|| made.elapsed()));

    let m = bench.measure(tmp.path());

    // 5. The binary.
    let size = std::fs::metadata(&loa).map(|m| m.len()).unwrap_or(0);
    print_summary(&m, size, &loa);
    print_notes(&m);
}

/// What the runs gave, for the summary.
struct Measured {
    loa_runs: Vec<Run>,
    mpg_runs: Vec<Run>,
    loa_out: Delivered,
    mpg_out: Delivered,
    loa_lat: Vec<Latency>,
    mpg_lat: Vec<Latency>,
}

/// The medians of the runs against the targets, the audio delivered, and
/// the binary's size.
fn print_summary(m: &Measured, size: u64, loa: &Path) {
    let med = |runs: &[Run], f: fn(&Run) -> f64| median(runs.iter().map(f).collect());
    let cpu = |r: &Run| r.cpu().as_secs_f64();
    let rss = |r: &Run| r.rss_mb();
    let wall = |r: &Run| r.wall.as_secs_f64();
    let (loa_cpu, mpg_cpu) = (med(&m.loa_runs, cpu), med(&m.mpg_runs, cpu));
    let (loa_rss, mpg_rss) = (med(&m.loa_runs, rss), med(&m.mpg_runs, rss));
    let (loa_wall, mpg_wall) = (med(&m.loa_runs, wall), med(&m.mpg_runs, wall));
    let lat = |v: &[Latency], f: fn(&Latency) -> Option<Duration>| -> Option<f64> {
        let ms: Vec<f64> = v
            .iter()
            .filter_map(f)
            .map(|d| d.as_secs_f64() * 1e3)
            .collect();
        (ms.len() == v.len()).then(|| median(ms))
    };
    let loa_byte = lat(&m.loa_lat, |l| l.first_byte);
    let loa_sound = lat(&m.loa_lat, |l| l.first_nonzero);
    let mpg_byte = lat(&m.mpg_lat, |l| l.first_byte);
    let mpg_sound = lat(&m.mpg_lat, |l| l.first_nonzero);

    let ms = |v: Option<f64>| v.map_or("none".to_string(), |v| format!("{v:.1} ms"));
    let verdict = |ok: bool| if ok { "PASS" } else { "MISS" };
    let cpu_ratio = loa_cpu / mpg_cpu;
    // A figure of each program, without a target.
    let row = |what: &str, loa: String, mpg: String| println!("  {what:<34} {loa:>12} {mpg:>12}");
    let (loa_out, mpg_out) = (&m.loa_out, &m.mpg_out);

    println!();
    println!("medians of {RUNS} alternating runs each:");
    println!(
        "  {:<34} {:>12} {:>12} {:>8}   {:<10} result",
        "", "loa", "mpg123", "loa/mpg", "target"
    );
    println!(
        "  {:<34} {:>10.3} s {:>10.3} s {:>7.2}×   {:<10} {}",
        "CPU time (user+sys)",
        loa_cpu,
        mpg_cpu,
        cpu_ratio,
        format!("≤ {CPU_RATIO_TARGET}×"),
        verdict(cpu_ratio <= CPU_RATIO_TARGET)
    );
    println!(
        "  {:<34} {:>9.1} MB {:>9.1} MB {:>7.2}×   {:<10} {}",
        "peak RSS",
        loa_rss,
        mpg_rss,
        loa_rss / mpg_rss,
        format!("≤ {RSS_TARGET_MB} MB"),
        verdict(loa_rss <= RSS_TARGET_MB)
    );
    println!(
        "  {:<34} {:>10.3} s {:>10.3} s {:>7.2}×",
        "wall time, unpaced",
        loa_wall,
        mpg_wall,
        loa_wall / mpg_wall
    );
    row("first byte at ALSA", ms(loa_byte), ms(mpg_byte));
    println!(
        "  {:<34} {:>12} {:>12} {:>8}   {:<10} {}",
        "first non-zero sample at ALSA",
        ms(loa_sound),
        ms(mpg_sound),
        "",
        format!("< {LATENCY_TARGET_MS} ms"),
        verdict(loa_sound.is_some_and(|v| v < LATENCY_TARGET_MS))
    );
    row(
        "sound delivered to ALSA",
        format!("{:.2} s", loa_out.sound),
        format!("{:.2} s", mpg_out.sound),
    );
    let silence = |d: &Delivered| format!("{:.2}/{:.1} s", d.silence_before, d.silence_after);
    row(
        "  + silence before / after it",
        silence(loa_out),
        silence(mpg_out),
    );
    row(
        "  = all audio written to ALSA",
        format!("{:.1} s", loa_out.total),
        format!("{:.1} s", mpg_out.total),
    );
    println!(
        "  {:<34} {:>9.2} MB   ({size} bytes, {})",
        "release binary (stripped)",
        size as f64 / 1e6,
        rel(loa)
    );
}

/// How the figures were taken, and a warning when a program did not play
/// the whole file.
fn print_notes(m: &Measured) {
    println!();
    for line in [
        "notes:",
        "- CPU and peak RSS: wait4(2) rusage of each child (ru_utime + ru_stime, ru_maxrss);",
        "  MB = 10^6 bytes. Captured into /dev/null; both programs see the same asoundrc.",
        "- latency: from just before the spawn to the first byte / first non-zero sample",
        "  written to the capture (a FIFO read by this bench); the program is killed then.",
        "- silence: the file plugin into null is unpaced, so an open stream with nothing to",
        "  play writes silence at hundreds of times real time (e.g. while a program drains",
        "  its device buffer before closing); a real card would take ~0.1 s of it.",
    ] {
        println!("{line}");
    }
    for (name, d) in [("loa", &m.loa_out), ("mpg123", &m.mpg_out)] {
        if (d.sound - SECONDS as f64).abs() > 1.0 {
            println!(
                "WARNING: {name} delivered {:.1} s of sound, not {SECONDS} s: \
                 the comparison is not like for like",
                d.sound
            );
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Program {
    Loa,
    Mpg123,
}

impl Program {
    fn name(self) -> &'static str {
        match self {
            Program::Loa => "loa",
            Program::Mpg123 => "mpg123",
        }
    }
}

struct Bench {
    loa: PathBuf,
    config: PathBuf,
    mp3: PathBuf,
    xdg: PathBuf,
    logs: PathBuf,
}

/// One measured run.
struct Run {
    wall: Duration,
    user: Duration,
    sys: Duration,
    maxrss_bytes: u64,
}

impl Run {
    fn cpu(&self) -> Duration {
        self.user + self.sys
    }
    fn rss_mb(&self) -> f64 {
        self.maxrss_bytes as f64 / 1e6
    }
}

/// When sound reached the capture, from just before the spawn.
struct Latency {
    first_byte: Option<Duration>,
    first_nonzero: Option<Duration>,
}

impl Bench {
    /// A throw-away installation in `dir`: the asoundrc, the config (audio
    /// from `data`), the state folder.
    fn install(loa: &Path, data: &Path, mp3: &Path, dir: &Path) -> Bench {
        let xdg = dir.join("xdg");
        support::standin::write_asoundrc(&xdg).unwrap();
        let state = dir.join("state");
        let config = dir.join("loa.toml");
        std::fs::write(
            &config,
            format!(
                r#"language = "en"

[paths]
audio = {audio:?}
state = {state:?}

[relay]
backend = "sim"
warm-up = "0s"
hold = "0s"

[audio]
normalize = true
"#,
                audio = data.to_str().expect("a UTF-8 path"),
                state = state.to_str().expect("a UTF-8 path"),
            ),
        )
        .unwrap();
        Bench {
            loa: loa.to_path_buf(),
            config,
            mp3: mp3.to_path_buf(),
            xdg,
            logs: dir.to_path_buf(),
        }
    }

    /// What is compared, and how; `made` is how long making the MP3 took
    /// now (none: it was there).
    fn print_setup(&self, mp3_size: u64, made: Option<Duration>) {
        println!(
            "input:   {} ({SECONDS} s, 128 kbps CBR, 44.1 kHz stereo, {:.1} MB){}",
            rel(&self.mp3),
            mp3_size as f64 / 1e6,
            match made {
                Some(t) => format!(", made in {:.1} s", t.as_secs_f64()),
                None => ", cached".to_string(),
            }
        );
        println!(
            "ALSA:    default = plug (S16_LE, 48000 Hz, 2 ch) -> file plugin, format raw, slave null (unpaced)"
        );
        println!("         via XDG_CONFIG_HOME/alsa/asoundrc; capture LOA_TEST_CAPTURE=/dev/null");
        println!(
            "loa:     {} --config {} play --no-relay {MP3_NAME}",
            rel(&self.loa),
            self.config.display()
        );
        println!("         (language en, relay sim, warm-up 0s, hold 0s, normalize true)");
        println!("mpg123:  mpg123 -q -o alsa -a default {}", rel(&self.mp3));
        println!();
    }

    /// The first play, the alternating measured runs (printed as they
    /// come), the audio delivered and the latency runs; FIFOs go in `dir`.
    fn measure(&self, dir: &Path) -> Measured {
        // 1. The first play measures the loudness and caches it.
        let first = self.run(Program::Loa, Path::new("/dev/null"));
        println!(
            "first play incl. loudness measurement: wall {:.2} s, cpu {:.2} s, peak RSS {:.1} MB",
            first.wall.as_secs_f64(),
            first.cpu().as_secs_f64(),
            first.rss_mb()
        );

        // 2. Alternating measured runs.
        println!();
        println!(
            "{:>3}  {:<7} {:>9} {:>9} {:>9} {:>10} {:>12}",
            "run", "program", "wall s", "user s", "sys s", "user+sys s", "peak RSS MB"
        );
        let mut loa_runs = Vec::new();
        let mut mpg_runs = Vec::new();
        for i in 1..=RUNS {
            for program in [Program::Loa, Program::Mpg123] {
                let r = self.run(program, Path::new("/dev/null"));
                println!(
                    "{i:>3}  {:<7} {:>9.3} {:>9.3} {:>9.3} {:>10.3} {:>12.1}",
                    program.name(),
                    r.wall.as_secs_f64(),
                    r.user.as_secs_f64(),
                    r.sys.as_secs_f64(),
                    r.cpu().as_secs_f64(),
                    r.rss_mb()
                );
                match program {
                    Program::Loa => loa_runs.push(r),
                    Program::Mpg123 => mpg_runs.push(r),
                }
            }
        }

        // 3. Both really played the whole file into the stand-in.
        let loa_out = self.delivered(Program::Loa, dir);
        let mpg_out = self.delivered(Program::Mpg123, dir);

        // 4. Time to the first sample at ALSA.
        let mut loa_lat = Vec::new();
        let mut mpg_lat = Vec::new();
        for _ in 0..RUNS {
            loa_lat.push(self.latency(Program::Loa, dir));
            mpg_lat.push(self.latency(Program::Mpg123, dir));
        }
        Measured {
            loa_runs,
            mpg_runs,
            loa_out,
            mpg_out,
            loa_lat,
            mpg_lat,
        }
    }

    fn command(&self, program: Program, capture: &Path) -> Command {
        let mut c = match program {
            Program::Loa => {
                let mut c = Command::new(&self.loa);
                c.arg("--config")
                    .arg(&self.config)
                    .args(["play", "--no-relay", MP3_NAME]);
                c
            }
            Program::Mpg123 => {
                let mut c = Command::new("mpg123");
                c.args(["-q", "-o", "alsa", "-a", "default"]).arg(&self.mp3);
                c
            }
        };
        c.env("XDG_CONFIG_HOME", &self.xdg)
            .env("LOA_TEST_CAPTURE", capture)
            .env_remove("LOA_CONFIG")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null());
        c
    }

    /// Starts the program with its output in log files.
    fn spawn(&self, program: Program, capture: &Path) -> (Child, PathBuf) {
        let log = self.logs.join(format!("{}.log", program.name()));
        let out = std::fs::File::create(&log).expect("a log file");
        let err = out.try_clone().unwrap();
        let child = self
            .command(program, capture)
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.name()));
        (child, log)
    }

    /// Runs the program to its end and measures it.
    fn run(&self, program: Program, capture: &Path) -> Run {
        let start = Instant::now();
        let (child, log) = self.spawn(program, capture);
        let (res, wall) = wait_with_timeout(child, start, RUN_TIMEOUT, || false);
        let Some(res) = res else {
            fail(program, &log, "did not finish in time (killed)");
        };
        check(program, res.status, &log);
        Run {
            wall,
            user: res.rusage.utime,
            sys: res.rusage.stime,
            maxrss_bytes: res.rusage.maxrss,
        }
    }

    /// Plays the whole file into a FIFO and returns how much audio reached it.
    fn delivered(&self, program: Program, dir: &Path) -> Delivered {
        let fifo = make_fifo(dir, &format!("{}-all", program.name()));
        let reader = Reader::start(fifo.clone());
        let start = Instant::now();
        let (child, log) = self.spawn(program, &fifo);
        let (res, _) = wait_with_timeout(child, start, RUN_TIMEOUT, || false);
        let got = reader.finish();
        let _ = std::fs::remove_file(&fifo);
        let Some(res) = res else {
            fail(program, &log, "did not finish in time (killed)");
        };
        check(program, res.status, &log);
        let secs = |bytes: u64| bytes as f64 / CAPTURE_BYTES_PER_SECOND;
        if got.first_nonzero.is_none() {
            return Delivered {
                total: secs(got.bytes),
                sound: 0.0,
                silence_before: secs(got.bytes),
                silence_after: 0.0,
            };
        }
        Delivered {
            total: secs(got.bytes),
            sound: secs(got.last_nonzero_at + 1 - got.first_nonzero_at),
            silence_before: secs(got.first_nonzero_at),
            silence_after: secs(got.bytes - got.last_nonzero_at - 1),
        }
    }

    /// Starts the program and times the first sound at ALSA; kills it then.
    fn latency(&self, program: Program, dir: &Path) -> Latency {
        let fifo = make_fifo(dir, &format!("{}-latency", program.name()));
        let reader = Reader::start(fifo.clone());
        let seen = reader.state.clone();
        let start = Instant::now();
        let (child, log) = self.spawn(program, &fifo);
        let (res, _) = wait_with_timeout(child, start, LATENCY_TIMEOUT, || {
            seen.lock().unwrap().first_nonzero.is_some()
        });
        let got = reader.finish();
        let _ = std::fs::remove_file(&fifo);
        if let Some(res) = res
            && got.first_nonzero.is_none()
        {
            check(program, res.status, &log);
        }
        Latency {
            first_byte: got.first_byte.map(|t| t.duration_since(start)),
            first_nonzero: got.first_nonzero.map(|t| t.duration_since(start)),
        }
    }
}

/// Waits for the child, killing it after `timeout` or once `stop()` says so;
/// returns its rusage if it ended by itself, and the time since `start`.
fn wait_with_timeout(
    mut child: Child,
    start: Instant,
    timeout: Duration,
    stop: impl Fn() -> bool,
) -> (Option<ResUse>, Duration) {
    loop {
        match child.try_wait4() {
            // Reaped: the child must not be touched again.
            Ok(Some(res)) => return (Some(res), start.elapsed()),
            Ok(None) => {}
            Err(e) => panic!("wait4: {e}"),
        }
        if stop() || start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait4();
            return (None, start.elapsed());
        }
        thread::sleep(Duration::from_millis(1));
    }
}

fn check(program: Program, status: ExitStatus, log: &Path) {
    if !status.success() {
        fail(program, log, &format!("failed ({status})"));
    }
}

fn fail(program: Program, log: &Path, what: &str) -> ! {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    eprintln!("{} {what}; its output:\n{text}", program.name());
    std::process::exit(1);
}

/// What the reader saw of the capture.
#[derive(Default)]
struct Seen {
    first_byte: Option<Instant>,
    first_nonzero: Option<Instant>,
    /// Byte offsets of the first and the last non-zero byte.
    first_nonzero_at: u64,
    last_nonzero_at: u64,
    bytes: u64,
}

/// How much a program wrote to the capture, in seconds of 48 kHz stereo.
struct Delivered {
    total: f64,
    /// From the first to the last non-zero sample.
    sound: f64,
    silence_before: f64,
    silence_after: f64,
}

/// Reads a capture FIFO on a thread of its own, never blocking: the FIFO is
/// opened non-blocking, so a program that never opens or never writes
/// cannot hang the bench.
struct Reader {
    state: Arc<Mutex<Seen>>,
    done: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl Reader {
    fn start(fifo: PathBuf) -> Reader {
        let state = Arc::new(Mutex::new(Seen::default()));
        let done = Arc::new(AtomicBool::new(false));
        // Opened here, before the program starts, so its writer never waits.
        let mut f = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo)
            .expect("the capture FIFO opens");
        let (s, d) = (state.clone(), done.clone());
        let thread = thread::spawn(move || {
            let mut buf = vec![0u8; 1 << 16];
            let mut idle_since: Option<Instant> = None;
            loop {
                match f.read(&mut buf) {
                    Ok(0) => {
                        // No writer (yet, or any more) and nothing buffered.
                        if d.load(Ordering::Acquire) {
                            break;
                        }
                        thread::sleep(Duration::from_micros(100));
                    }
                    Ok(n) => {
                        let now = Instant::now();
                        idle_since = None;
                        let mut g = s.lock().unwrap();
                        g.first_byte.get_or_insert(now);
                        // A non-zero sample has a non-zero byte.
                        if g.first_nonzero.is_none()
                            && let Some(i) = buf[..n].iter().position(|&b| b != 0)
                        {
                            g.first_nonzero = Some(now);
                            g.first_nonzero_at = g.bytes + i as u64;
                        }
                        if let Some(i) = buf[..n].iter().rposition(|&b| b != 0) {
                            g.last_nonzero_at = g.bytes + i as u64;
                        }
                        g.bytes += n as u64;
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        // A writer holds it open but wrote nothing more.
                        if d.load(Ordering::Acquire)
                            && idle_since.get_or_insert_with(Instant::now).elapsed()
                                > Duration::from_secs(2)
                        {
                            break;
                        }
                        thread::sleep(Duration::from_micros(50));
                    }
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => panic!("reading the capture FIFO: {e}"),
                }
            }
        });
        Reader {
            state,
            done,
            thread,
        }
    }

    /// After the program ended: drains what is left and returns what was seen.
    fn finish(self) -> Seen {
        self.done.store(true, Ordering::Release);
        let _ = self.thread.join();
        std::mem::take(&mut *self.state.lock().unwrap())
    }
}

fn make_fifo(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(format!("{name}.fifo"));
    let _ = std::fs::remove_file(&path);
    let ok = Command::new("mkfifo")
        .arg(&path)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "mkfifo {} failed", path.display());
    path
}
