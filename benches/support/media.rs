//! The test music both benches play, made with sox and lame and kept in
//! `target/bench-data` so that later runs reuse it. It only makes files;
//! checking that sox and lame are installed is the bench's job.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};
use tempfile::TempDir;

/// Makes `mp3` once, if it is not there: `secs` seconds of tones, sweeps
/// and pink noise with a slow tremolo, 44.1 kHz stereo, normalised to
/// -3 dBFS, encoded by lame at 128 kbps CBR. The WAV and the encoding go
/// into the folder `work` makes (called only when the file is made); the
/// MP3 is moved into place whole, or not at all. Returns whether it was
/// made now.
pub fn ensure_mp3(mp3: &Path, secs: u32, work: impl FnOnce() -> Result<TempDir>) -> Result<bool> {
    if mp3.is_file() {
        return Ok(false);
    }
    let dir = mp3.parent().context("the bench-data folder")?;
    std::fs::create_dir_all(dir)?;
    let work = work()?;
    let wav = work.path().join("music.wav");
    let part = work.path().join("music.mp3");
    let len = secs.to_string();
    let len = len.as_str();
    let ok = Command::new("sox")
        .args(["-q", "-n", "-r", "44100", "-c", "2", "-b", "16"])
        .arg(&wav)
        .args(["synth", len, "sine", "220", "sine", "277.18"])
        .args(["synth", len, "sine", "mix", "329.63", "sine", "mix", "440"])
        .args([
            "synth", len, "sine", "mix", "110-880", "sine", "mix", "880-110",
        ])
        .args(["synth", len, "pinknoise", "mix"])
        .args(["tremolo", "0.3", "60", "gain", "-n", "-3"])
        .status()
        .context("running sox")?
        .success();
    if !ok {
        bail!("sox failed making {}", wav.display());
    }
    let ok = Command::new("lame")
        .args(["--quiet", "-b", "128", "--cbr"])
        .arg(&wav)
        .arg(&part)
        .status()
        .context("running lame")?
        .success();
    if !ok {
        bail!("lame failed encoding {}", wav.display());
    }
    // Same file system not guaranteed: copied beside it, then renamed.
    let staging = dir.join(format!(
        ".{}.part",
        mp3.file_name().and_then(|n| n.to_str()).unwrap_or("mp3")
    ));
    std::fs::copy(&part, &staging)?;
    std::fs::rename(&staging, mp3)?;
    Ok(true)
}
