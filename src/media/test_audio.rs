//! Audio files for unit tests, made with sox and lame (tones as WAV or
//! MP3). Test builds only; a test that needs them is skipped, and says so,
//! where the tools are not installed.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Whether lame and sox are installed; says so when a test is skipped.
/// They are tools tests/run.sh installs: under CI (`CI` set) their absence
/// fails the test instead.
pub(super) fn encoders() -> bool {
    let on_path = |tool: &str| {
        std::env::var_os("PATH")
            .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(tool).is_file()))
    };
    let missing: Vec<&str> = ["lame", "sox"]
        .into_iter()
        .filter(|t| !on_path(t))
        .collect();
    if !missing.is_empty() {
        let why = format!(
            "{} not installed (apt-get install lame sox)",
            missing.join(" and ")
        );
        assert!(
            std::env::var_os("CI").is_none(),
            "{why}, but tests/run.sh should have installed it"
        );
        crate::testing::skipped(&why);
    }
    missing.is_empty()
}

pub(super) fn run(tool: &str, args: &[&str]) {
    let status = Command::new(tool).args(args).status().unwrap();
    assert!(status.success(), "{tool} {args:?} failed");
}

/// A sine at 440 Hz made with sox: `vol` 0.5 is -6 dBFS, 0 silence.
pub(super) fn wav(dir: &Path, name: &str, seconds: &str, rate: u32, vol: &str) -> PathBuf {
    let path = dir.join(name);
    let rate = rate.to_string();
    let args = ["-q", "-n", "-r", &rate, "-c", "2", "-b", "16"];
    let mut args: Vec<&str> = args.to_vec();
    let p = path.to_str().unwrap();
    args.extend([p, "synth", seconds, "sine", "440", "vol", vol]);
    run("sox", &args);
    path
}

/// An MP3 of a tone, made with lame (`extra`: lame's options, 128 kbps
/// CBR with a LAME Info header by default).
pub(super) fn mp3(dir: &Path, name: &str, seconds: &str, vol: &str, extra: &[&str]) -> PathBuf {
    let source = wav(dir, &format!("{name}.wav"), seconds, 44_100, vol);
    let path = dir.join(name);
    let mut args = vec!["--quiet"];
    args.extend(if extra.is_empty() {
        &["-b", "128"][..]
    } else {
        extra
    });
    args.extend([source.to_str().unwrap(), path.to_str().unwrap()]);
    run("lame", &args);
    path
}

/// A mono 16-bit WAV of a 1 kHz cosine at 0.9 of full scale, `seconds`
/// long at `rate`: full level from its first sample to its last (no fade
/// of its own), written directly (sox's synth does not start at full level).
pub(super) fn full_tone_wav(dir: &Path, name: &str, seconds: f64, rate: u32) -> PathBuf {
    let frames = (seconds * f64::from(rate)).round() as usize;
    let data: Vec<u8> = (0..frames)
        .flat_map(|i| {
            let t = i as f64 / f64::from(rate);
            let x = 0.9 * (2.0 * std::f64::consts::PI * 1000.0 * t).cos();
            ((x * 32767.0).round() as i16).to_le_bytes()
        })
        .collect();
    let mut b = Vec::with_capacity(44 + data.len());
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes()); // PCM
    b.extend_from_slice(&1u16.to_le_bytes()); // mono
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(rate * 2).to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&(data.len() as u32).to_le_bytes());
    b.extend_from_slice(&data);
    let path = dir.join(name);
    std::fs::write(&path, b).unwrap();
    path
}
