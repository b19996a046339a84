//! `loa media [--json]`: the audio library as loa sees it: each file's
//! length, loudness and the gain it will play at, its status (ok, rejected,
//! pending: not judged yet; with `upload` "in-progress" when it is still
//! being written, "interrupted" for an upload abandoned under its
//! temporary name), the playlists that use it, and the files no playlist
//! uses. Links and special files are listed
//! as rejected, with what they are; they are never opened.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::json;

use super::context;
use super::exit;
use crate::duration;
use crate::lang::Lang;
use crate::media::ingest::name_problems;
use crate::media::{Library, MediaIndex, Upload, upload_state};
use crate::player::gain::gain_db;
use crate::playlist;
use crate::problem::display_path;
use crate::tr;

pub fn run(config: Option<&Path>, json: bool) -> i32 {
    let Some(cfg) = context::config_or_say(config) else {
        return exit::CONFIG;
    };
    let lang = cfg.lang;
    let library = match Library::scan(&cfg.paths.audio) {
        Ok(l) => l,
        Err(e) => {
            let shown = display_path(&cfg.paths.audio);
            eprintln!(
                "{}",
                tr!(
                    lang,
                    "Không mở được thư mục âm thanh {shown} ({e}).",
                    "cannot open the audio folder {shown}: {e}"
                )
            );
            return exit::PROBLEMS;
        }
    };
    let index = MediaIndex::open(&cfg.paths.state).unwrap_or_else(|_| MediaIndex::in_memory());
    // Which playlists use each name.
    let set = playlist::load_dir(&cfg.paths.playlists, lang);
    let mut users: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for pl in set.default.iter().chain(set.dated.values()) {
        let shown = pl
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for b in &pl.broadcasts {
            for it in &b.items {
                users
                    .entry(it.file.clone())
                    .or_default()
                    .insert(shown.clone());
            }
        }
    }

    let mut rows = Vec::new();
    for (name, e) in library.entries() {
        let used: Vec<String> = users
            .get(name)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default();
        let verdict = index.lookup(&e.rel, e.size, e.mtime_ns);
        // "pending": not judged yet; `upload` says why when it is an
        // upload still being written, or one abandoned half way.
        let (status, upload, reason, p) = match (upload_state(e), verdict) {
            (Some(Upload::Abandoned), _) => (
                "pending",
                Some("interrupted"),
                Some(tr!(
                    lang,
                    "Tệp \"{name}\" tải lên dở dang và đã bị bỏ đó hơn một ngày; hãy tải lại tệp rồi xóa tệp dở dang này.",
                    "The upload \"{name}\" was cut off and left unfinished for over a day; send the file again and delete this unfinished one"
                )),
                None,
            ),
            (Some(Upload::InProgress), Some(Ok(p))) => ("ok", None, None, Some(p)),
            (Some(Upload::InProgress), _) => ("pending", Some("in-progress"), None, None),
            (None, Some(Ok(p))) => ("ok", None, None, Some(p)),
            (None, Some(Err(err))) => ("rejected", None, Some(err.message(name, lang)), None),
            (None, None) => ("pending", None, None, None),
        };
        let gain = p.as_ref().map(|p| {
            gain_db(
                p.loudness_lufs,
                p.true_peak_db,
                cfg.audio.normalize,
                cfg.audio.target_lufs,
                cfg.audio.volume_db,
                0.0,
            )
        });
        rows.push(json!({
            "name": name,
            "status": status,
            "upload": upload,
            "reason": reason,
            "duration_s": p.as_ref().map(|p| p.duration.as_millis() as f64 / 1000.0),
            "loudness_lufs": p.as_ref().and_then(|p| p.loudness_lufs).map(round1),
            "true_peak_db": p.as_ref().and_then(|p| p.true_peak_db).map(round1),
            "gain_db": gain.map(round1),
            "codec": p.as_ref().map(|p| p.codec.clone()),
            "sample_rate": p.as_ref().map(|p| p.sample_rate),
            "sha256": p.as_ref().and_then(|p| p.sha256.clone()),
            "playlists": used,
            "used": !used.is_empty(),
        }));
    }
    for o in library.odd() {
        rows.push(json!({
            "name": o.rel,
            "status": "rejected",
            "upload": null,
            "reason": o.message(lang),
            "duration_s": null, "loudness_lufs": null, "true_peak_db": null, "gain_db": null,
            "codec": null, "sample_rate": null, "sha256": null,
            "playlists": users.get(&o.rel).map(|s| s.iter().cloned().collect::<Vec<_>>()).unwrap_or_default(),
            "used": users.contains_key(&o.rel),
        }));
    }
    for (name, reason) in library.rejected() {
        // Uploaded again since, and listed above as it is now.
        if library.find(name).is_some() {
            continue;
        }
        rows.push(json!({
            "name": name,
            "status": "rejected",
            "upload": null,
            "reason": reason,
            "duration_s": null, "loudness_lufs": null, "true_peak_db": null, "gain_db": null,
            "codec": null, "sample_rate": null, "sha256": null,
            "playlists": users.get(name).map(|s| s.iter().cloned().collect::<Vec<_>>()).unwrap_or_default(),
            "used": users.contains_key(name),
        }));
    }
    let problems = name_problems(library.all_names());

    if json {
        let out = json!({
            "files": rows,
            "unused": rows.iter().filter(|r| r["used"] == false && r["status"] != "rejected" && r["upload"].is_null()).map(|r| r["name"].clone()).collect::<Vec<_>>(),
            "name_problems": problems.iter().map(|p| p.message(lang)).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        return exit::OK;
    }

    let folder = display_path(&cfg.paths.audio);
    println!(
        "{}",
        tr!(
            lang,
            "Thư viện âm thanh: {folder}",
            "Audio library: {folder}"
        )
    );
    println!(
        "  {:<36} {:>6} {:>9} {:>8}  {:<10} {}",
        lang.pick("Tệp", "File"),
        lang.pick("Độ dài", "Length"),
        "LUFS",
        lang.pick("Chỉnh", "Gain"),
        lang.pick("Tình trạng", "Status"),
        lang.pick("Dùng trong", "Used in"),
    );
    for r in &rows {
        let len = r["duration_s"]
            .as_f64()
            .map(|s| duration::clock(std::time::Duration::from_secs_f64(s)))
            .unwrap_or_else(|| "-".into());
        let lufs = r["loudness_lufs"]
            .as_f64()
            .map(|v| decimal(format!("{v:.1}"), lang))
            .unwrap_or_else(|| "-".into());
        let gain = r["gain_db"]
            .as_f64()
            .map(|v| decimal(format!("{v:+.1} dB"), lang))
            .unwrap_or_else(|| "-".into());
        let status = match (r["status"].as_str().unwrap_or(""), r["upload"].as_str()) {
            ("ok", _) => lang.pick("hợp lệ", "ok"),
            ("rejected", _) => lang.pick("BỊ TỪ CHỐI", "REJECTED"),
            (_, Some("in-progress")) => lang.pick("đang tải lên", "uploading"),
            (_, Some("interrupted")) => lang.pick("TẢI DỞ", "UNFINISHED"),
            _ => lang.pick("chờ kiểm tra", "to be checked"),
        };
        let used: Vec<&str> = r["playlists"]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default();
        let used = if used.is_empty() {
            lang.pick("(không có)", "(no playlist)").to_string()
        } else {
            used.join(", ")
        };
        println!(
            "  {:<36} {:>6} {:>9} {:>8}  {:<10} {}",
            r["name"].as_str().unwrap_or(""),
            len,
            lufs,
            gain,
            status,
            used
        );
        if let Some(reason) = r["reason"].as_str() {
            println!("      {reason}");
        }
    }
    let unused: Vec<&str> = rows
        .iter()
        .filter(|r| r["used"] == false && r["status"] != "rejected" && r["upload"].is_null())
        .filter_map(|r| r["name"].as_str())
        .collect();
    if !unused.is_empty() {
        println!();
        println!(
            "{}",
            tr!(
                lang,
                "Các tệp chưa có trong danh sách phát nào: {}",
                "Files no playlist uses: {}",
                unused.join(", ")
            )
        );
    }
    for p in &problems {
        println!("{}: {}", lang.pick("Lưu ý", "Note"), p.message(lang));
    }
    exit::OK
}

/// A number as the operator writes it: a decimal comma in Vietnamese.
fn decimal(text: String, lang: Lang) -> String {
    match lang {
        Lang::Vi => text.replace('.', ","),
        Lang::En => text,
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
