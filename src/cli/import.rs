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
use crate::media::MediaIndex;
use crate::media::ingest::{stat, verdict};
use crate::tr;

/// Files larger than this show a progress line while copied.
const PROGRESS_OVER: u64 = 4_000_000;

pub fn run(config: Option<&Path>, files: &[String], to: Option<&str>) -> i32 {
    let cfg = match context::load_config(config) {
        Ok(c) => c,
        Err((_, ps)) => {
            for p in ps {
                eprintln!("{p}");
            }
            return exit::CONFIG;
        }
    };
    let lang = cfg.lang;
    let sub = match to.map(crate::playlist::check_item_path) {
        None => None,
        Some(Ok(s)) => Some(s),
        Some(Err(_)) => {
            eprintln!(
                "{}",
                tr!(
                    lang,
                    "--to \"{}\" không hợp lệ: hãy ghi tên một thư mục con trong thư mục âm thanh, ví dụ --to dai-hoi",
                    "--to \"{}\" is not valid: name a folder inside the audio folder, e.g. --to dai-hoi",
                    to.unwrap_or_default()
                )
            );
            return exit::CONFIG;
        }
    };
    let dest_dir = match &sub {
        Some(s) => cfg.paths.audio.join(s),
        None => cfg.paths.audio.clone(),
    };
    let index = MediaIndex::open(&cfg.paths.state).unwrap_or_else(|_| MediaIndex::in_memory());
    let mut failed = 0;
    for f in files {
        let src = PathBuf::from(f);
        let name: String = src
            .file_name()
            .map(|n| n.to_string_lossy().nfc().collect())
            .unwrap_or_default();
        if !src.is_file() {
            println!(
                "{}",
                tr!(lang, "✗ {f}: không có tệp này", "✗ {f}: no such file")
            );
            failed += 1;
            continue;
        }
        if let Some(free) = crate::media::ingest::free_space(&cfg.paths.audio)
            && free < cfg.ingest.min_free + std::fs::metadata(&src).map(|m| m.len()).unwrap_or(0)
        {
            let (mb, min) = (free / 1_000_000, cfg.ingest.min_free / 1_000_000);
            println!(
                "{}",
                tr!(
                    lang,
                    "✗ {name}: đĩa sắp đầy (còn {mb} MB, cần giữ {min} MB cho nhật ký phát); hãy xóa bớt tệp âm thanh cũ",
                    "✗ {name}: the disk is nearly full ({mb} MB free, {min} MB are kept for the as-run log); delete old audio files"
                )
            );
            failed += 1;
            continue;
        }
        match verdict(&src, &name, lang) {
            Err(message) => {
                println!("✗ {name}: {message}");
                failed += 1;
            }
            Ok(probe) => {
                let dest = dest_dir.join(&name);
                match copy_atomically(&src, &dest, lang) {
                    Ok(()) => {
                        let rel = match &sub {
                            Some(s) => format!("{s}/{name}"),
                            None => name.clone(),
                        };
                        if let Some((size, mtime)) = stat(&dest) {
                            index.store_verdict(
                                &rel,
                                size,
                                mtime,
                                &crate::media::validate::Verdict::Ok(probe.clone()),
                            );
                        }
                        let len = crate::duration::human(probe.duration, lang);
                        println!(
                            "{}",
                            tr!(
                                lang,
                                "✓ {rel}: đã nhận ({len}, {} Hz); dùng tên \"{rel}\" trong danh sách phát",
                                "✓ {rel}: accepted ({len}, {} Hz); use the name \"{rel}\" in playlists",
                                probe.sample_rate
                            )
                        );
                    }
                    Err(e) => {
                        println!(
                            "{}",
                            tr!(
                                lang,
                                "✗ {name}: không chép được vào {}: {e}",
                                "✗ {name}: could not copy into {}: {e}",
                                dest_dir.display()
                            )
                        );
                        failed += 1;
                    }
                }
            }
        }
    }
    if failed > 0 { exit::PROBLEMS } else { exit::OK }
}

/// Copies under a hidden temporary name (the service leaves those alone),
/// syncs, then renames into place, so the service never sees half a file.
fn copy_atomically(src: &Path, dest: &Path, lang: crate::lang::Lang) -> std::io::Result<()> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.loa-import-{}",
        dest.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default(),
        std::process::id()
    ));
    let result = (|| {
        let mut input = std::fs::File::open(src)?;
        let total = input.metadata()?.len();
        let mut out = std::fs::File::create(&tmp)?;
        let show = total > PROGRESS_OVER && std::io::stdout().is_terminal();
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
        out.sync_all()?;
        drop(out);
        std::fs::rename(&tmp, dest)?;
        // The rename itself is durable once the folder is synced.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
