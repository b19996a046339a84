//! `loa import FILE... [--to SUBFOLDER]`: for an operator logged in over
//! SSH. Each file is validated first; a good one is copied into the audio
//! folder atomically (a hidden temporary name, fsync, rename), with a
//! progress line for large files, and entered in the media index. A bad one
//! is not copied, and the verdict says why.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use unicode_normalization::UnicodeNormalization;

use super::context;
use super::exit;
use crate::config::Config;
use crate::lang::Lang;
use crate::media::folder::{OpenError, open_given};
use crate::media::ingest::{stat, verdict};
use crate::media::validate::Verdict;
use crate::media::{MediaIndex, MediaPath};
use crate::tr;

/// Files larger than this show a progress line while copied.
const PROGRESS_OVER: u64 = 4_000_000;

/// `loa import`: a line per file. Exit 0 when every file was taken, 1
/// when any was not, 2 for the config or a bad `--to`.
pub fn run(config: Option<&Path>, files: &[String], to: Option<&str>) -> i32 {
    let Some(cfg) = context::config_or_say(config) else {
        return exit::CONFIG;
    };
    let sub = match subfolder(to, cfg.lang) {
        Ok(sub) => sub,
        Err(message) => {
            eprintln!("{message}");
            return exit::CONFIG;
        }
    };
    let index = MediaIndex::open(&cfg.paths.state).unwrap_or_else(|_| MediaIndex::in_memory());
    let mut failed = 0;
    for f in files {
        match import_one(f, &cfg, sub.as_deref(), &index) {
            Ok(line) => println!("{line}"),
            Err(line) => {
                println!("{line}");
                failed += 1;
            }
        }
    }
    if failed > 0 { exit::PROBLEMS } else { exit::OK }
}

/// `--to` as a folder inside the audio folder (none: the audio folder
/// itself); else the message to show.
fn subfolder(to: Option<&str>, lang: Lang) -> Result<Option<String>, String> {
    match to.map(crate::playlist::check_item_path) {
        None => Ok(None),
        Some(Ok(s)) => Ok(Some(s)),
        Some(Err(_)) => Err(tr!(
            lang,
            "--to \"{}\" không hợp lệ; hãy ghi tên một thư mục con trong thư mục âm thanh, ví dụ --to dai-hoi.",
            "--to \"{}\" is not valid: name a folder inside the audio folder, e.g. --to dai-hoi",
            to.unwrap_or_default()
        )),
    }
}

/// One file given on the command line: checked (what it is, the room on
/// the disk, its sound), then copied into `sub` of the audio folder and
/// entered in the index. The line to show: "✓ …" when it was taken, the
/// error "✗ …" when not.
fn import_one(
    f: &str,
    cfg: &Config,
    sub: Option<&str>,
    index: &MediaIndex,
) -> Result<String, String> {
    let lang = cfg.lang;
    let src = PathBuf::from(f);
    let name: String = src
        .file_name()
        .map(|n| n.to_string_lossy().nfc().collect())
        .unwrap_or_default();
    // What it is, before anything reads it: a folder, a pipe or a device
    // is said as such (reading a pipe would wait forever).
    if let Err(e) = open_given(&src) {
        return Err(not_openable_text(f, e, lang));
    }
    if let Some(text) = disk_full_text(cfg, &src, &name) {
        return Err(text);
    }
    let probe = verdict(&MediaPath::Given(src.clone()), &name, lang)
        .map_err(|message| format!("✗ {name}: {message}"))?;
    let rel = match sub {
        Some(s) => format!("{s}/{name}"),
        None => name.clone(),
    };
    if let Err(e) = copy_atomically(&src, &cfg.paths.audio, &rel, lang) {
        let dest_dir = match sub {
            Some(s) => cfg.paths.audio.join(s),
            None => cfg.paths.audio.clone(),
        };
        return Err(tr!(
            lang,
            "✗ {name}: Không chép được vào {} ({e}).",
            "✗ {name}: could not copy into {}: {e}",
            dest_dir.display()
        ));
    }
    let dest = cfg.paths.audio.join(&rel);
    if let Some((size, mtime)) = stat(&cfg.paths.audio, &dest) {
        index.store_verdict(&rel, size, mtime, &Verdict::Ok(probe.clone()));
    }
    let len = crate::duration::human(probe.duration, lang);
    Ok(tr!(
        lang,
        "✓ {rel}: Đã nhận ({len}, {} Hz); hãy dùng tên \"{rel}\" trong danh sách phát.",
        "✓ {rel}: accepted ({len}, {} Hz); use the name \"{rel}\" in playlists",
        probe.sample_rate
    ))
}

/// "✗ FILE: this is a folder, not an audio file", or why it cannot be
/// opened.
fn not_openable_text(f: &str, e: OpenError, lang: Lang) -> String {
    match e {
        OpenError::NotRegular(kind) => {
            let k = kind.words(lang);
            tr!(
                lang,
                "✗ {f}: Đây là {k}, không phải tệp âm thanh.",
                "✗ {f}: this is {k}, not an audio file"
            )
        }
        e if e.is_not_found() => {
            tr!(lang, "✗ {f}: Không có tệp này.", "✗ {f}: no such file")
        }
        e => tr!(
            lang,
            "✗ {f}: Không đọc được tệp ({e}).",
            "✗ {f}: cannot be read ({e})"
        ),
    }
}

/// The refusal when copying `src` in would leave less than the room kept
/// for the as-run log; none when there is room (or the room is unknown).
fn disk_full_text(cfg: &Config, src: &Path, name: &str) -> Option<String> {
    let free = crate::media::ingest::free_space(&cfg.paths.audio)?;
    let size = std::fs::metadata(src).map(|m| m.len()).unwrap_or(0);
    if free >= cfg.ingest.min_free + size {
        return None;
    }
    let (mb, min) = (free / 1_000_000, cfg.ingest.min_free / 1_000_000);
    Some(tr!(
        cfg.lang,
        "✗ {name}: Đĩa sắp đầy (còn trống {mb} MB, cần giữ lại {min} MB cho nhật ký phát); hãy xóa bớt tệp âm thanh cũ.",
        "✗ {name}: the disk is nearly full ({mb} MB free, {min} MB are kept for the as-run log); delete old audio files"
    ))
}

/// Copies under a hidden temporary name (the service leaves those alone),
/// syncs, then renames into place, so the service never sees half a file;
/// no folder on the way is reached through a link (see `media::folder`).
fn copy_atomically(src: &Path, audio: &Path, rel: &str, lang: Lang) -> Result<(), OpenError> {
    let mut input = open_given(src)?;
    let total = input.metadata()?.len();
    let show = total > PROGRESS_OVER && std::io::stdout().is_terminal();
    crate::media::folder::write_with(audio, Path::new(rel), true, |out| {
        let mut buf = vec![0u8; 1 << 16];
        let mut done: u64 = 0;
        let mut last_pct = u64::MAX;
        loop {
            let n = input.read(&mut buf)?;
            if n == 0 {
                break;
            }
            out.write_all(&buf[..n])?;
            done += n as u64;
            if show {
                let pct = done * 100 / total.max(1);
                if pct != last_pct {
                    print!(
                        "\r{}",
                        tr!(lang, "  đang chép… {pct}%", "  copying… {pct}%")
                    );
                    let _ = std::io::stdout().flush();
                    last_pct = pct;
                }
            }
        }
        if show {
            println!();
        }
        Ok(())
    })
}
