//! Text to speech (issue 18). Prints the figures and PASS/MISS against
//! the targets; never fails on a figure.
//!
//! 1. Synthesis: a 300-character Vietnamese notice rendered by loa's own
//!    `tts::Speaker` (normalisation, espeak-ng run as a program, the WAV
//!    moved into the cache; the cache emptied before each run), next to
//!    the peer, espeak-ng alone on the command line writing the same text
//!    to a WAV: wall time, the speech's length, and times real time.
//! 2. `loa say --now` to the amplifier: a real `loa run` (release build,
//!    simulated relay, the ALSA stand-in), and each time a different
//!    300-character notice (never in the cache): the time from starting
//!    `loa say --now` to the relay's "on" edge in the sim-file (target
//!    < 1 s on this machine); then `loa stop` and the next. Also with the
//!    notice already rendered.
//!
//! Run: `cargo bench --bench tts` (builds loa in release first).

#[path = "support/mod.rs"]
#[allow(dead_code)]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::median;

/// The notice: 300 characters of a storm warning as a commune writes it.
fn notice(n: usize) -> String {
    let base = format!(
        "Thông báo khẩn số {n} của UBND xã: bão số 3 đang tiến vào đất liền, gió mạnh cấp 10, giật cấp 12. \
Từ 14h ngày 19/01/2026, đề nghị bà con neo đậu tàu thuyền an toàn, chằng chống nhà cửa, \
không ra biển. Hộ nào cần hỗ trợ xin gọi 0912 345 678. Ban chỉ huy PCTT xã trực 24/24."
    );
    let mut s: String = base.chars().take(300).collect();
    while s.chars().count() < 300 {
        s.push('.');
    }
    s
}

const RUNS: usize = 10;

fn main() {
    if !support::on_path("espeak-ng") {
        println!("tts bench: SKIPPED (espeak-ng is not installed: apt install espeak-ng)");
        return;
    }
    let root = env!("CARGO_MANIFEST_DIR");
    let build = Command::new(env!("CARGO"))
        .args(["build", "--release", "--bin", "loa"])
        .current_dir(root)
        .status()
        .expect("cargo build");
    assert!(build.success(), "cargo build --release failed");
    let loa = PathBuf::from(root).join("target/release/loa");
    println!(
        "tts bench: a 300-character notice, espeak-ng {} (voice vi, rate 150), {RUNS} runs each",
        espeak_version()
    );
    synthesis();
    say_now(&loa);
}

fn espeak_version() -> String {
    let out = Command::new("espeak-ng").arg("--version").output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .nth(3)
        .unwrap_or("?")
        .to_string()
}

/// Step 1: loa's render against espeak-ng alone.
fn synthesis() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = loa::config::Config::defaults(dir.path());
    cfg.lang = loa::lang::Lang::En;
    let speaker = loa::tts::Speaker::new(&cfg);
    let (mut ours, mut peer, mut speech) = (Vec::new(), Vec::new(), Vec::new());
    for n in 0..RUNS {
        let text = notice(n);
        let _ = std::fs::remove_dir_all(speaker.cache());
        let say = loa::tts::Say {
            text: text.clone(),
            voice: None,
        };
        let t = Instant::now();
        let r = speaker.render(&say).expect("espeak-ng renders");
        ours.push(t.elapsed().as_secs_f64());
        speech.push(wav_seconds(&r.path));
        let out = dir.path().join("peer.wav");
        let t = Instant::now();
        let mut child = Command::new("espeak-ng")
            .args(["-v", "vi", "-s", "150", "-b", "1", "-w"])
            .arg(&out)
            .arg("--stdin")
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(r.spoken.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success());
        peer.push(t.elapsed().as_secs_f64());
    }
    let (o, p, s) = (median(ours), median(peer), median(speech));
    println!("  1. synthesis (median of {RUNS}): {s:.1} s of speech");
    println!(
        "     loa (tts::Speaker::render)   {:>6.0} ms   {:>5.0}x real time",
        o * 1000.0,
        s / o
    );
    println!(
        "     espeak-ng alone (peer)       {:>6.0} ms   {:>5.0}x real time   loa's overhead {:+.0} ms",
        p * 1000.0,
        s / p,
        (o - p) * 1000.0
    );
}

/// The length of a 16-bit PCM WAV, from its header.
fn wav_seconds(p: &Path) -> f64 {
    let b = std::fs::read(p).unwrap();
    let rate = u32::from_le_bytes([b[24], b[25], b[26], b[27]]) as f64;
    let channels = u16::from_le_bytes([b[22], b[23]]) as f64;
    (b.len() - 44) as f64 / (rate * channels * 2.0)
}

/// Step 2: `loa say --now` to the relay's edge, through a real service.
fn say_now(loa: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let xdg = dir.path().join("xdg");
    support::standin::write_asoundrc(&xdg).unwrap();
    for d in ["audio", "playlists", "state"] {
        std::fs::create_dir_all(dir.path().join(d)).unwrap();
    }
    let sim = dir.path().join("relay.log");
    let config = dir.path().join("loa.toml");
    std::fs::write(
        &config,
        "language = \"en\"\n[paths]\naudio = \"audio\"\nplaylists = \"playlists\"\nstate = \"state\"\n[relay]\nbackend = \"sim\"\nsim-file = \"relay.log\"\nwarm-up = \"1s\"\nhold = \"0s\"\n[schedule]\nrequire-clock-sync = false\n",
    )
    .unwrap();
    let mut svc = Command::new(loa)
        .arg("--config")
        .arg(&config)
        .arg("run")
        .env("XDG_CONFIG_HOME", &xdg)
        .env("LOA_TEST_CAPTURE", "/dev/null")
        .env_remove("LOA_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("loa run");
    let run = |args: &[&str]| {
        Command::new(loa)
            .arg("--config")
            .arg(&config)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    };
    let t = Instant::now();
    while !run(&["status"]) {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "loa run did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut fresh = Vec::new();
    let mut cached = Vec::new();
    for n in 0..RUNS * 2 {
        // Even runs: a notice never said; odd runs: the same one again.
        let text = notice(100 + n / 2);
        let ons = count_on(&sim);
        let t = Instant::now();
        let took = run(&["say", "--now", &text]);
        assert!(took, "loa say --now failed");
        while count_on(&sim) == ons {
            assert!(t.elapsed() < Duration::from_secs(30), "no relay on");
            std::thread::sleep(Duration::from_millis(1));
        }
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        if n % 2 == 0 { &mut fresh } else { &mut cached }.push(ms);
        run(&["stop"]);
        let t = Instant::now();
        while !relay_off(&sim) {
            assert!(t.elapsed() < Duration::from_secs(30), "no relay off");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    let _ = Command::new("kill").arg(svc.id().to_string()).status();
    let _ = svc.wait();
    let (f, c) = (median(fresh.clone()), median(cached));
    let worst = fresh.iter().copied().fold(0.0f64, f64::max);
    println!(
        "  2. `loa say --now` to relay on (real `loa run`, median of {RUNS}): new text {f:.0} ms (worst {worst:.0} ms), already rendered {c:.0} ms   target < 1000 ms: {}",
        if worst < 1000.0 { "PASS" } else { "MISS" }
    );
}

fn count_on(sim: &Path) -> usize {
    std::fs::read_to_string(sim)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.ends_with(" on"))
        .count()
}

fn relay_off(sim: &Path) -> bool {
    std::fs::read_to_string(sim)
        .unwrap_or_default()
        .lines()
        .last()
        .is_some_and(|l| l.ends_with(" off"))
}
