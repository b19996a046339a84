//! Relaying live Internet radio (issue 15): `loa play --no-relay --for N
//! URL` against `mpg123 URL` on the same 128 kbps MP3 stream, in the same
//! run, through the same ALSA stand-in, paced like a real card. Prints the
//! figures, the ratio and PASS/MISS against the targets; it never fails on
//! a figure (speed is reported, not asserted). Issue 15's words: "Relaying
//! a 128 kbps stream for 10 minutes: CPU against `mpg123` playing the same
//! stream URL in the same run (target <= 1.2x, the level control
//! included), and the time from the slot's start to the first relayed
//! sample at the card (target < 1.5 s including connecting; say how you
//! pre-connect during the warm-up)."
//!
//! The station: a throw-away Icecast (`icecast2`) on 127.0.0.1, fed by
//! `ffmpeg -re` looping the play_vs_mpg123 bench's music MP3 (tones,
//! sweeps and pink noise with a slow tremolo, 128 kbps CBR, 44.1 kHz
//! stereo; made once with sox and lame in target/bench-data), its frames
//! copied: the stream is that file's bitstream, sent in real time.
//!
//! The card: the stand-in's asoundrc (a `plug` to S16_LE, 48 kHz, stereo,
//! into the `file` plugin) writing into a named pipe that a thread of this
//! bench drains at real time (support/pacer.rs): a live relay must be
//! paced, or the card takes the whole slot at once, in silence.
//!
//! 1. CPU: loa relays the stream for N s (`LOA_BENCH_RELAY_SECONDS`,
//!    default 600); mpg123 plays the same URL and is stopped (SIGTERM)
//!    once the card has taken N s from it. Alternating; one run each for
//!    600 s, more for short durations. User+sys CPU and peak RSS from
//!    `wait4(2)`'s rusage of each child (the `wait4` crate: this package
//!    forbids `unsafe`). loa's figure includes its level control, as on
//!    air: the pump's level control towards `[audio] target-lufs`
//!    (`normalize = true` here) and limiter (src/live/level.rs), and the
//!    engine's gain (`volume-db = -3.0` here) on every sample. It also
//!    includes loa's 1.5 s pre-roll (below): loa runs N + 1.5 s.
//! 2. First relayed sample at the card, from the slot's start to the first
//!    non-zero sample the card takes. How loa pre-connects: it puts a
//!    live item that airs first max(warm-up, 1.5 s) after the moment it
//!    switches the relay on (1.5 s: `LIVE_PREROLL` in src/cli/play.rs;
//!    with `--no-relay` the warm-up is 0, so 1.5 s); the item is queued as
//!    soon as the relay is on and the device open, and its pump thread
//!    connects, decodes, levels and holds the newest 1.5 s of programme;
//!    at the slot's start loa starts the card on what is held. Measured
//!    two ways, alternating: `loa play --no-relay --for 10s URL`, whose
//!    slot starts 1.5 s after loa sets its timeline, which its log does
//!    not show: the bench takes the spawn + 1.5 s (loa's own start, a few
//!    tens of ms, counts against it); and `loa play --for 10s URL` with
//!    the simulated relay and `warm-up = "2s"`, whose slot starts at the
//!    relay's "on" edge (loa's log) + 2 s. Beside them: when the card
//!    started (its first byte; loa starts it at the slot's start), when the
//!    stream connected, and mpg123's time from its spawn to its first
//!    sample (it has no slot: it plays as soon as it can).
//!
//! Where loa's CPU goes: `cargo build --profile profiling` (the release
//! build with symbols), start a station (any Icecast URL), then with this
//! bench's asoundrc and a paced card, `perf record -F 4999 --call-graph
//! dwarf target/profiling/loa --config … play --no-relay --for 60s URL`
//! (dwarf: the build keeps no frame pointers) and `perf report --sort
//! comm,dso` / `--sort symbol`. Its threads: `loa` (the airing loop),
//! `loa-relay` (the pump: HTTP, MP3 decoding, resampling, level control),
//! `audio-feed` (the engine's feeder) and `cpal_alsa_out` (the writes to
//! the card).
//!
//! Run: `cargo bench --bench relay` (10 minutes of relaying and as many of
//! mpg123, plus about a minute of setup and latency runs);
//! `LOA_BENCH_RELAY_SECONDS=60 cargo bench --bench relay` for a short run.
//! Needs icecast2, ffmpeg, mpg123, sox and lame (apt packages of those
//! names); without them it says what to install and exits 0 with no
//! figures.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use wait4::{ResUse, Wait4};

#[path = "support/mod.rs"]
mod support;

#[path = "support/icecast.rs"]
mod icecast;

#[path = "support/pacer.rs"]
mod pacer;

use pacer::{Heard, PacedCard};
use support::standin::CAPTURE_BYTES_PER_SECOND;
use support::{median, rel};

/// How long loa relays (and mpg123 plays) in the CPU runs, unless
/// `LOA_BENCH_RELAY_SECONDS` says otherwise.
const DEFAULT_SECONDS: u64 = 600;
const SECONDS_VAR: &str = "LOA_BENCH_RELAY_SECONDS";
/// The music the station sends (the play_vs_mpg123 bench's), looped.
const MP3_SECONDS: u32 = 600;
const MP3_NAME: &str = "music-600s-128k-44k1-stereo.mp3";
const MOUNT: &str = "radio.mp3";
/// Runs of each program for the first sample, and their slot.
const LATENCY_RUNS: usize = 5;
const LATENCY_SLOT_S: u64 = 10;
/// The warm-up loa pre-connects in.
const WARM_UP_S: u64 = 2;
/// How long before its slot loa connects a live item that airs first when
/// there is no relay or a shorter warm-up (`LIVE_PREROLL` in
/// src/cli/play.rs, which a bench cannot reach).
const LIVE_PREROLL_S: f64 = 1.5;
/// A latency run gives up on hearing sound after this.
const LATENCY_TIMEOUT: Duration = Duration::from_secs(15);
/// A CPU run overrunning its slot by this much is killed.
const OVERRUN: Duration = Duration::from_secs(60);
/// After SIGTERM, a program has this long before SIGKILL.
const GRACE: Duration = Duration::from_secs(5);

/// Issue 15's targets.
const CPU_RATIO_TARGET: f64 = 1.2;
const FIRST_SAMPLE_TARGET_MS: f64 = 1500.0;

fn main() {
    println!("== loa relaying a live stream vs mpg123 (issue 15, performance) ==");
    let (secs, from_env) = seconds();
    println!(
        "command: {}cargo bench --bench relay",
        if from_env {
            format!("{SECONDS_VAR}={secs} ")
        } else {
            String::new()
        }
    );
    println!();

    let tools = ["icecast2", "ffmpeg", "mpg123", "sox", "lame"];
    let missing = support::missing(&tools);
    if !missing.is_empty() {
        println!("SKIPPED, no figures: missing {}", missing.join(", "));
        println!("install with: apt-get install {}", missing.join(" "));
        return;
    }

    // Built by `cargo bench` (the bench profile inherits release).
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
    support::media::ensure_mp3(&mp3, MP3_SECONDS, || Ok(tempfile::tempdir()?))
        .unwrap_or_else(|e| panic!("{e:#}"));

    let ice = icecast::Icecast::start().unwrap_or_else(|e| setup_failed(&e));
    let mut source = icecast::Source::start(&ice, MOUNT, &mp3).unwrap_or_else(|e| setup_failed(&e));
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let bench = Bench::install(&loa, &ice.url(MOUNT), tmp.path());
    bench.print_setup(secs, from_env, &mp3);

    let runs = runs_for(secs);
    let cpu = bench.cpu_runs(secs, runs);
    let lat = bench.latency_runs();
    if !source.running() {
        println!();
        println!(
            "WARNING: the station's source (ffmpeg) stopped during the bench; \
             its errors:\n{}\n{}",
            source.errors(),
            ice.logs()
        );
    }
    print_summary(&cpu, &lat, secs, runs);
    print_notes(&cpu, secs);
}

/// The CPU runs' length and whether the environment gave it.
fn seconds() -> (u64, bool) {
    match std::env::var(SECONDS_VAR) {
        Ok(v) if !v.trim().is_empty() => match v.trim().parse::<u64>() {
            Ok(s) if s >= 10 => (s, true),
            _ => {
                eprintln!("{SECONDS_VAR}={v}: give a whole number of seconds, at least 10");
                std::process::exit(1);
            }
        },
        _ => (DEFAULT_SECONDS, false),
    }
}

/// One run each for 5 minutes or more; up to 3 for shorter runs.
fn runs_for(secs: u64) -> usize {
    (300 / secs).clamp(1, 3) as usize
}

fn setup_failed(e: &anyhow::Error) -> ! {
    eprintln!("cannot set the station up: {e:#}");
    std::process::exit(1);
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Program {
    /// `loa play --no-relay`: no relay; the live item is connected
    /// [`LIVE_PREROLL_S`] ahead of its slot.
    Loa,
    /// `loa play` with the simulated relay and a 2 s warm-up.
    LoaWarm,
    Mpg123,
}

impl Program {
    fn name(self) -> &'static str {
        match self {
            Program::Loa => "loa",
            Program::LoaWarm => "loa-warm",
            Program::Mpg123 => "mpg123",
        }
    }
}

/// The throw-away installation: the asoundrc, loa's two configs, and the
/// folder for the logs and the card's pipes.
struct Bench {
    loa: PathBuf,
    url: String,
    xdg: PathBuf,
    /// Warm-up 0 (with `--no-relay`, loa has none anyway).
    config: PathBuf,
    /// The simulated relay, warm-up 2 s.
    warm_config: PathBuf,
    dir: PathBuf,
}

/// How a CPU run ended.
enum Ended {
    /// By itself, with this status.
    Exited(ExitStatus),
    /// Stopped by the bench once the card had taken the slot from it.
    Stopped,
    /// Killed: it overran its slot.
    Overran,
}

/// One CPU run.
struct CpuRun {
    program: Program,
    wall: Duration,
    user: Duration,
    sys: Duration,
    maxrss_bytes: u64,
    heard: Heard,
    /// The card's first non-zero sample, from just before the spawn.
    first_sound: Option<Duration>,
    ended: Ended,
    log: PathBuf,
}

impl CpuRun {
    fn cpu(&self) -> f64 {
        (self.user + self.sys).as_secs_f64()
    }
    fn rss_mb(&self) -> f64 {
        self.maxrss_bytes as f64 / 1e6
    }
}

/// One run timing the first sample; seconds from just before the spawn.
struct Latency {
    /// The card's first non-zero sample, and its first byte (its start).
    first_sound: Option<f64>,
    card_start: Option<f64>,
    /// loa's log: the stream connected, the relay switched on.
    connected: Option<f64>,
    relay_on: Option<f64>,
    /// The slot's start: for `--no-relay`, the spawn + the pre-roll; with
    /// the relay, its "on" edge + the warm-up (the spawn + the warm-up if
    /// the edge is not in the log); mpg123's is its spawn.
    slot_start: f64,
}

impl Latency {
    /// The first sample, from the spawn.
    fn after_spawn(&self) -> Option<f64> {
        self.first_sound
    }

    /// The first sample, from the slot's start.
    fn after_slot_start(&self) -> Option<f64> {
        Some(self.first_sound? - self.slot_start)
    }

    /// The card's start, from the slot's start.
    fn card_after_slot_start(&self) -> Option<f64> {
        Some(self.card_start? - self.slot_start)
    }
}

/// The latency runs of each program.
struct Latencies {
    loa: Vec<Latency>,
    warm: Vec<Latency>,
    mpg: Vec<Latency>,
}

/// The CPU runs of each program.
struct CpuRuns {
    loa: Vec<CpuRun>,
    mpg: Vec<CpuRun>,
}

impl Bench {
    fn install(loa: &Path, url: &str, dir: &Path) -> Bench {
        let xdg = dir.join("xdg");
        support::standin::write_asoundrc(&xdg).unwrap();
        let state = dir.join("state");
        let write = |name: &str, warm_up: u64| {
            let path = dir.join(name);
            std::fs::write(
                &path,
                format!(
                    r#"language = "en"

[paths]
audio = {audio:?}
state = {state:?}

[relay]
backend = "sim"
warm-up = "{warm_up}s"
hold = "0s"

[audio]
normalize = true
volume-db = -3.0
"#,
                    audio = dir.to_str().expect("a UTF-8 path"),
                    state = state.to_str().expect("a UTF-8 path"),
                ),
            )
            .unwrap();
            path
        };
        Bench {
            loa: loa.to_path_buf(),
            url: url.to_string(),
            xdg,
            config: write("loa.toml", 0),
            warm_config: write("loa-warm.toml", WARM_UP_S),
            dir: dir.to_path_buf(),
        }
    }

    fn print_setup(&self, secs: u64, from_env: bool, mp3: &Path) {
        println!(
            "duration: {secs} s of relaying per CPU run ({})",
            if from_env {
                format!("{SECONDS_VAR}={secs}")
            } else {
                format!("the default; {SECONDS_VAR} sets it")
            }
        );
        println!(
            "station: icecast2 on {} (burst on connect {} bytes), source:",
            self.url,
            icecast::BURST_SIZE
        );
        println!(
            "         ffmpeg -re -stream_loop -1 -i {} -c:a copy -f mp3 (128 kbps CBR, 44.1 kHz stereo)",
            rel(mp3)
        );
        println!(
            "card:    asoundrc default = plug (S16_LE, 48000 Hz, 2 ch) -> file plugin -> named pipe,"
        );
        println!(
            "         drained by this bench at real time (10 ms every 10 ms, one-page pipe: <= 21 ms ahead)"
        );
        println!(
            "loa:     {} --config {} play --no-relay --for {secs}s URL",
            rel(&self.loa),
            self.config.display()
        );
        println!(
            "         (no relay; the stream connected {LIVE_PREROLL_S} s ahead of the slot; \
             normalize true, volume-db -3.0)"
        );
        println!(
            "         first sample also with --config {} play --for {LATENCY_SLOT_S}s URL",
            self.warm_config.display()
        );
        println!("         (the simulated relay, warm-up {WARM_UP_S}s, hold 0s)");
        println!("mpg123:  mpg123 -q -o alsa -a default URL (stopped once the card took {secs} s)");
        println!();
    }

    fn command(&self, program: Program, slot_s: u64, fifo: &Path) -> Command {
        let slot = format!("{slot_s}s");
        let mut c = match program {
            Program::Loa | Program::LoaWarm => {
                let mut c = Command::new(&self.loa);
                if program == Program::Loa {
                    c.arg("--config").arg(&self.config);
                    c.args(["play", "--no-relay", "--for", &slot, &self.url]);
                } else {
                    c.arg("--config").arg(&self.warm_config);
                    c.args(["play", "--for", &slot, &self.url]);
                }
                c
            }
            Program::Mpg123 => {
                let mut c = Command::new("mpg123");
                c.args(["-q", "-o", "alsa", "-a", "default", &self.url]);
                c
            }
        };
        c.env("XDG_CONFIG_HOME", &self.xdg)
            .env("LOA_TEST_CAPTURE", fifo)
            .env_remove("LOA_CONFIG")
            .env_remove("LOA_LOG")
            .env_remove("RUST_LOG")
            .env_remove("JOURNAL_STREAM")
            .stdin(Stdio::null());
        c
    }

    /// Starts the program with its output in a log file; `log_info` asks
    /// loa to log (its "connected" and "relay edge" lines).
    fn spawn(
        &self,
        program: Program,
        slot_s: u64,
        fifo: &Path,
        log_info: bool,
    ) -> (Child, PathBuf) {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let log = self.dir.join(format!("{}-{n}.log", program.name()));
        let out = std::fs::File::create(&log).expect("a log file");
        let err = out.try_clone().unwrap();
        let mut c = self.command(program, slot_s, fifo);
        if log_info && program != Program::Mpg123 {
            c.env("LOA_LOG", "info");
        }
        let child = c
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.name()));
        (child, log)
    }

    /// The alternating CPU runs, printed as they come.
    fn cpu_runs(&self, secs: u64, runs: usize) -> CpuRuns {
        println!("1. CPU: {runs} alternating run(s) of each, {secs} s each");
        println!(
            "{:>3}  {:<7} {:>8} {:>8} {:>7} {:>10} {:>7} {:>8} {:>9} {:>8} {:>9}",
            "run",
            "program",
            "wall s",
            "user s",
            "sys s",
            "user+sys s",
            "% core",
            "RSS MB",
            "sound s",
            "gaps s",
            "1st snd s"
        );
        let mut out = CpuRuns {
            loa: Vec::new(),
            mpg: Vec::new(),
        };
        for i in 1..=runs {
            for program in [Program::Loa, Program::Mpg123] {
                let r = self.cpu_run(program, secs);
                let first = r
                    .first_sound
                    .map_or("none".to_string(), |d| format!("{:.2}", d.as_secs_f64()));
                println!(
                    "{i:>3}  {:<7} {:>8.1} {:>8.2} {:>7.2} {:>10.2} {:>7.1} {:>8.1} {:>9.1} {:>8.2} {:>9}",
                    program.name(),
                    r.wall.as_secs_f64(),
                    r.user.as_secs_f64(),
                    r.sys.as_secs_f64(),
                    r.cpu(),
                    100.0 * r.cpu() / r.wall.as_secs_f64(),
                    r.rss_mb(),
                    r.heard.sound_seconds(),
                    r.heard.gap_seconds(),
                    first,
                );
                match program {
                    Program::Mpg123 => out.mpg.push(r),
                    _ => out.loa.push(r),
                }
            }
        }
        out
    }

    /// Relays (or plays) for `secs` into a fresh paced card.
    fn cpu_run(&self, program: Program, secs: u64) -> CpuRun {
        let card = PacedCard::start(&self.dir.join(format!("{}-cpu.fifo", program.name())))
            .expect("the paced card");
        let start = Instant::now();
        let (child, log) = self.spawn(program, secs, card.fifo(), false);
        let slot_bytes = secs as f64 * CAPTURE_BYTES_PER_SECOND;
        let limit = Duration::from_secs(secs) + OVERRUN;
        let (res, ended) = supervise(child, |elapsed| {
            if program == Program::Mpg123 && card.heard().bytes as f64 >= slot_bytes {
                Some(Ended::Stopped)
            } else if elapsed > limit {
                Some(Ended::Overran)
            } else {
                None
            }
        });
        let wall = start.elapsed();
        let heard = card.finish();
        CpuRun {
            program,
            wall,
            user: res.rusage.utime,
            sys: res.rusage.stime,
            maxrss_bytes: res.rusage.maxrss,
            first_sound: heard.first_sound.map(|t| t.duration_since(start)),
            heard,
            ended: ended.unwrap_or(Ended::Exited(res.status)),
            log,
        }
    }

    /// The runs timing the first sample, alternating, printed as they come.
    fn latency_runs(&self) -> Latencies {
        println!();
        println!(
            "2. first sample at the card: {LATENCY_RUNS} runs of each, slot {LATENCY_SLOT_S} s \
             (times from spawning the program; the slot's start: --no-relay spawn + \
             {LIVE_PREROLL_S} s, warm-up relay on + {WARM_UP_S} s)"
        );
        let mut out = Latencies {
            loa: Vec::new(),
            warm: Vec::new(),
            mpg: Vec::new(),
        };
        let s = |v: Option<f64>| v.map_or("none".to_string(), |v| format!("{v:.3}"));
        println!(
            "{:>3}  {:<12} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
            "run", "program", "connected", "relay on", "slot", "card on", "1st snd", "1st-slot"
        );
        for i in 1..=LATENCY_RUNS {
            for program in [Program::Loa, Program::LoaWarm, Program::Mpg123] {
                let l = self.latency(program);
                println!(
                    "{i:>3}  {:<12} {:>9} {:>9} {:>9.3} {:>9} {:>9} {:>9}",
                    match program {
                        Program::Loa => "loa no-relay",
                        Program::LoaWarm => "loa warm-up",
                        Program::Mpg123 => "mpg123",
                    },
                    s(l.connected),
                    s(l.relay_on),
                    l.slot_start,
                    s(l.card_start),
                    s(l.first_sound),
                    s(l.after_slot_start()),
                );
                match program {
                    Program::Loa => out.loa.push(l),
                    Program::LoaWarm => out.warm.push(l),
                    Program::Mpg123 => out.mpg.push(l),
                }
            }
        }
        println!(
            "     (seconds from the spawn; 'card on': its first byte; '1st-slot': the first \
             sample after the slot's start)"
        );
        out
    }

    /// Starts the program, waits for the card's first non-zero sample,
    /// stops the program and reads its log.
    fn latency(&self, program: Program) -> Latency {
        let fifo = self.dir.join(format!("{}-latency.fifo", program.name()));
        let card = PacedCard::start(&fifo).expect("the paced card");
        let wall_start = Timestamp::now();
        let start = Instant::now();
        let (child, log) = self.spawn(program, LATENCY_SLOT_S, card.fifo(), true);
        let (res, _) = supervise(child, |elapsed| {
            (card.heard().first_sound.is_some() || elapsed > LATENCY_TIMEOUT)
                .then_some(Ended::Stopped)
        });
        let heard = card.finish();
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if heard.first_sound.is_none() {
            println!(
                "     {} gave no sound within {LATENCY_TIMEOUT:?} ({}); its output:\n{text}",
                program.name(),
                res.status
            );
        }
        let at = |what: &str, also: &str| {
            text.lines()
                .find(|l| l.contains(what) && l.contains(also))
                .and_then(|l| l.split_whitespace().next()?.parse::<Timestamp>().ok())
                .map(|t| t.duration_since(wall_start).as_secs_f64())
        };
        let relay_on = at("relay edge", "on=true");
        let slot_start = match program {
            Program::Loa => LIVE_PREROLL_S,
            // The warm-up, but never less than the pre-roll.
            Program::LoaWarm => relay_on.unwrap_or(0.0) + LIVE_PREROLL_S.max(WARM_UP_S as f64),
            Program::Mpg123 => 0.0,
        };
        let since = |t: Option<Instant>| t.map(|t| t.duration_since(start).as_secs_f64());
        Latency {
            first_sound: since(heard.first_sound),
            card_start: since(heard.first_byte),
            connected: at("relayed stream connected", ""),
            relay_on,
            slot_start,
        }
    }
}

/// Waits for the child, polling `stop` (given the time since the spawn)
/// every 10 ms; when it says so, SIGTERM, then SIGKILL after [`GRACE`].
/// The child's rusage, and why the bench stopped it (None: it ended by
/// itself).
fn supervise(
    mut child: Child,
    mut stop: impl FnMut(Duration) -> Option<Ended>,
) -> (ResUse, Option<Ended>) {
    let start = Instant::now();
    let mut stopped: Option<(Ended, Instant)> = None;
    loop {
        match child.try_wait4() {
            // Reaped: the child must not be touched again.
            Ok(Some(res)) => return (res, stopped.map(|(e, _)| e)),
            Ok(None) => {}
            Err(e) => panic!("wait4: {e}"),
        }
        match &stopped {
            None => {
                if let Some(why) = stop(start.elapsed()) {
                    let pid = rustix::process::Pid::from_child(&child);
                    let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
                    stopped = Some((why, Instant::now()));
                }
            }
            Some((_, at)) if at.elapsed() > GRACE => {
                let _ = child.kill();
            }
            Some(_) => {}
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// A row of the summary: a figure of each program, their ratio, a target
/// and whether it is met.
fn row(what: &str, loa: String, mpg: String, ratio: Option<f64>, target: Option<(String, bool)>) {
    let ratio = ratio.map_or(String::new(), |r| format!("{r:.2}×"));
    let (target, verdict) = target.map_or((String::new(), ""), |(t, ok)| {
        (t, if ok { "PASS" } else { "MISS" })
    });
    println!("  {what:<44} {loa:>11} {mpg:>11} {ratio:>8}   {target:<10} {verdict}");
}

fn print_summary(cpu: &CpuRuns, lat: &Latencies, secs: u64, runs: usize) {
    let med = |v: &[CpuRun], f: fn(&CpuRun) -> f64| median(v.iter().map(f).collect());
    let loa_cpu = med(&cpu.loa, CpuRun::cpu);
    let mpg_cpu = med(&cpu.mpg, CpuRun::cpu);
    let share = |r: &CpuRun| 100.0 * r.cpu() / r.wall.as_secs_f64();
    let (loa_rss, mpg_rss) = (med(&cpu.loa, CpuRun::rss_mb), med(&cpu.mpg, CpuRun::rss_mb));
    let sound = |r: &CpuRun| r.heard.sound_seconds();
    let gaps = |r: &CpuRun| r.heard.gap_seconds();
    let stretches = |r: &CpuRun| r.heard.gaps as f64;
    let taken = |r: &CpuRun| r.heard.seconds();

    println!();
    println!(
        "summary: {secs} s relayed per CPU run, medians of {runs} run(s); \
         first sample: medians of {LATENCY_RUNS} runs"
    );
    println!(
        "  {:<44} {:>11} {:>11} {:>8}   {:<10} result",
        "", "loa", "mpg123", "loa/mpg", "target"
    );
    let ratio = loa_cpu / mpg_cpu;
    row(
        "CPU time (user+sys), level control included",
        format!("{loa_cpu:.2} s"),
        format!("{mpg_cpu:.2} s"),
        Some(ratio),
        Some((format!("≤ {CPU_RATIO_TARGET}×"), ratio <= CPU_RATIO_TARGET)),
    );
    let (ls, ms_) = (med(&cpu.loa, share), med(&cpu.mpg, share));
    row(
        "  share of one core",
        format!("{ls:.2} %"),
        format!("{ms_:.2} %"),
        None,
        None,
    );
    row(
        "peak RSS",
        format!("{loa_rss:.1} MB"),
        format!("{mpg_rss:.1} MB"),
        Some(loa_rss / mpg_rss),
        None,
    );
    row(
        "sound the card took",
        format!("{:.1} s", med(&cpu.loa, sound)),
        format!("{:.1} s", med(&cpu.mpg, sound)),
        None,
        None,
    );
    row(
        "  silent 10 ms steps inside it (stretches)",
        format!(
            "{:.2} s ({:.0})",
            med(&cpu.loa, gaps),
            med(&cpu.loa, stretches)
        ),
        format!(
            "{:.2} s ({:.0})",
            med(&cpu.mpg, gaps),
            med(&cpu.mpg, stretches)
        ),
        None,
        None,
    );
    row(
        "all the card took, silence included",
        format!("{:.1} s", med(&cpu.loa, taken)),
        format!("{:.1} s", med(&cpu.mpg, taken)),
        None,
        None,
    );
    print_latency_rows(lat);
}

/// The summary's rows for the first sample.
fn print_latency_rows(lat: &Latencies) {
    // Medians in ms, if every run had a figure.
    let ms = |v: &[Latency], f: fn(&Latency) -> Option<f64>| -> Option<f64> {
        let got: Vec<f64> = v.iter().filter_map(f).map(|s| s * 1e3).collect();
        (got.len() == v.len() && !got.is_empty()).then(|| median(got))
    };
    let show = |v: Option<f64>| v.map_or("none".to_string(), |v| format!("{v:.0} ms"));
    let first_target = |v: Option<f64>| {
        Some((
            format!("< {FIRST_SAMPLE_TARGET_MS:.0} ms"),
            v.is_some_and(|v| v < FIRST_SAMPLE_TARGET_MS),
        ))
    };
    let none = || "-".to_string();
    let (loa, warm) = (&lat.loa, &lat.warm);
    row(
        "first sample from the spawn, --no-relay",
        show(ms(loa, Latency::after_spawn)),
        show(ms(&lat.mpg, Latency::after_spawn)),
        None,
        None,
    );
    let first = ms(loa, Latency::after_slot_start);
    row(
        &format!("  from the slot (spawn + {LIVE_PREROLL_S} s)"),
        show(first),
        none(),
        None,
        first_target(first),
    );
    row(
        "    the card's start, from the slot's start",
        show(ms(loa, Latency::card_after_slot_start)),
        none(),
        None,
        None,
    );
    row(
        "    stream connected, from the spawn",
        show(ms(loa, |l| l.connected)),
        none(),
        None,
        None,
    );
    let first = ms(warm, Latency::after_slot_start);
    row(
        &format!("first sample from the slot, warm-up {WARM_UP_S} s"),
        show(first),
        none(),
        None,
        first_target(first),
    );
    row(
        "    the card's start, from the slot's start",
        show(ms(warm, Latency::card_after_slot_start)),
        none(),
        None,
        None,
    );
    row(
        "    relay on, from the spawn",
        show(ms(warm, |l| l.relay_on)),
        none(),
        None,
        None,
    );
    row(
        "    stream connected, from the spawn",
        show(ms(warm, |l| l.connected)),
        none(),
        None,
        None,
    );
}

/// How the figures were taken; a warning for a run that went wrong.
fn print_notes(cpu: &CpuRuns, secs: u64) {
    println!();
    for line in [
        "notes:",
        "- CPU and peak RSS: wait4(2) rusage of each child (ru_utime + ru_stime, ru_maxrss);",
        "  MB = 10^6 bytes. Both take the same URL through the same asoundrc into the same",
        "  paced card. loa's CPU holds its HTTP client, MP3 decoding, resampling 44.1 -> 48 kHz,",
        "  the level control and limiter (normalize true: towards target-lufs), the engine's",
        "  gain (volume-db -3.0) and fades, and its 1.5 s pre-roll (connected, decoding, the",
        "  newest 1.5 s held: loa runs N + 1.5 s); mpg123's holds its decoding and ALSA's plug",
        "  rate conversion (in its process too), and no level control.",
        "- loa's slot ends by itself after N s of card time; mpg123 is stopped (SIGTERM) once",
        "  the card has taken N s from it. 'sound' runs from the first to the last non-zero",
        "  sample; 'gaps' are 10 ms steps of pure silence inside it (dropouts).",
        "- first sample: from the slot's start to the first non-zero sample the paced card",
        "  takes. --no-relay: the slot starts 1.5 s (LIVE_PREROLL, src/cli/play.rs) after loa",
        "  sets its timeline, which its log does not show: the bench takes spawn + 1.5 s, so",
        "  loa's own start (process, config: tens of ms) counts against it. Warm-up 2 s: the",
        "  relay's edge in loa's log ('relay edge on=true') + 2 s. From the spawn, loa's first",
        "  sample comes 1.5 s later than mpg123's by design; mpg123 has no slot and plays as",
        "  soon as it has decoded. Each program is stopped at its first sample.",
        "- how loa pre-connects: a live item that airs first is queued as soon as the relay is",
        "  on and the device open, max(warm-up, 1.5 s) before its slot; queuing it starts its",
        "  pump thread, which connects, decodes, levels and holds the newest 1.5 s of",
        "  programme, dropping older sound. At the slot's start loa starts the card, and the",
        "  relay hands it the held programme first, then the stream as it comes. Had the",
        "  stream not connected by then, the card would wait a fraction of a second for it,",
        "  then take silence until it comes ('stream connected': how far inside the pre-roll).",
    ] {
        println!("{line}");
    }
    for r in cpu.loa.iter().chain(&cpu.mpg) {
        let name = r.program.name();
        let problem = match &r.ended {
            Ended::Exited(s) if r.program == Program::Mpg123 => {
                Some(format!("ended by itself ({s})"))
            }
            Ended::Exited(s) if !s.success() => Some(format!("exited ({s})")),
            Ended::Overran => Some("overran its slot and was killed".to_string()),
            _ => None,
        };
        if let Some(p) = problem {
            let text = std::fs::read_to_string(&r.log).unwrap_or_default();
            println!("WARNING: a {name} run {p}; its last output:\n{text}");
        }
        if (r.heard.sound_seconds() - secs as f64).abs() > 2.0 {
            println!(
                "WARNING: a {name} run gave the card {:.1} s of sound, not {secs} s: \
                 the comparison is not like for like",
                r.heard.sound_seconds()
            );
        }
    }
}
