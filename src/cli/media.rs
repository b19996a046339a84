//! `loa media [--json]`: the audio library as loa sees it: each file's
//! length, loudness and the gain it will play at, its status (ok, rejected,
//! pending: not judged yet; with `upload` "in-progress" when it is still
//! being written, "interrupted" for an upload abandoned under its
//! temporary name), the playlists that use it, and the files no playlist
//! uses. Links and special files are listed
//! as rejected, with what they are; they are never opened.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;

use super::context;
use super::exit;
use crate::config::Config;
use crate::duration;
use crate::lang::Lang;
use crate::media::ingest::{NameProblem, name_problems};
use crate::media::library::FileEntry;
use crate::media::{Library, MediaIndex, Probe, ProbeError, Upload, upload_state};
use crate::player::gain::gain_db;
use crate::playlist;
use crate::problem::display_path;
use crate::tr;

/// `loa media [--json]`. Exit 0; 1 when the audio folder cannot be read; 2
/// when the config cannot.
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
    let users = Users::of_playlists(&cfg);
    let files = rows(&library, &index, &users, &cfg);
    let problems = name_problems(library.all_names());
    if json {
        let report = Report::new(files, &problems, lang);
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else {
        print_table(&cfg, &files, &problems);
    }
    exit::OK
}

/// A file's standing: the JSON's `status` word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
enum Status {
    /// Judged playable.
    Ok,
    /// Not judged yet (see [`UploadWord`] for why, when it is an upload).
    Pending,
    /// Judged unplayable, moved to `rejected/`, or not a file at all.
    Rejected,
}

/// Why a pending file is not judged yet when it is an upload: the JSON's
/// `upload` word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
enum UploadWord {
    /// Still being written.
    InProgress,
    /// Abandoned under its temporary name.
    Interrupted,
}

/// One file as `loa media` lists it; the fields in the JSON's order.
#[derive(Debug, Serialize)]
struct FileRow {
    name: String,
    status: Status,
    upload: Option<UploadWord>,
    /// Why it is rejected, or what to do about an interrupted upload.
    reason: Option<String>,
    duration_s: Option<f64>,
    loudness_lufs: Option<f64>,
    true_peak_db: Option<f64>,
    /// The gain it will play at, with the config's normalisation.
    gain_db: Option<f64>,
    codec: Option<String>,
    sample_rate: Option<u32>,
    sha256: Option<String>,
    /// The playlist files (by file name) that use it.
    playlists: Vec<String>,
    used: bool,
}

/// `loa media --json`: the files, the ones no playlist uses, and the
/// problems with names.
#[derive(Debug, Serialize)]
struct Report {
    files: Vec<FileRow>,
    unused: Vec<String>,
    name_problems: Vec<String>,
}

impl Report {
    /// The report on these rows: the unused ones picked out.
    fn new(files: Vec<FileRow>, problems: &[NameProblem], lang: Lang) -> Report {
        Report {
            unused: files
                .iter()
                .filter(|r| r.is_unused())
                .map(|r| r.name.clone())
                .collect(),
            name_problems: problems.iter().map(|p| p.message(lang)).collect(),
            files,
        }
    }
}

/// Which playlists (by file name) use each audio name.
struct Users(BTreeMap<String, BTreeSet<String>>);

impl Users {
    /// Reads every playlist in the playlists folder, default and dated.
    fn of_playlists(cfg: &Config) -> Users {
        let set = playlist::load_dir(&cfg.paths.playlists, cfg.lang);
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
        Users(users)
    }

    /// The playlists using `name`, in order (none: empty).
    fn of(&self, name: &str) -> Vec<String> {
        self.0
            .get(name)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }
}

/// Every row: the files in the library, then the links and special files,
/// then the files in `rejected/` not uploaded again since.
fn rows(library: &Library, index: &MediaIndex, users: &Users, cfg: &Config) -> Vec<FileRow> {
    let mut rows = Vec::new();
    for (name, e) in library.entries() {
        let standing = Standing::judge(name, e, index, cfg.lang);
        rows.push(FileRow::of_file(name, standing, users, cfg));
    }
    for o in library.odd() {
        rows.push(FileRow::rejected(&o.rel, o.message(cfg.lang), users));
    }
    for (name, reason) in library.rejected() {
        // Uploaded again since, and listed above as it is now.
        if library.find(name).is_some() {
            continue;
        }
        rows.push(FileRow::rejected(name, reason.to_string(), users));
    }
    rows
}

/// What loa has decided about a file in the library so far.
struct Standing {
    status: Status,
    upload: Option<UploadWord>,
    reason: Option<String>,
    /// What the probe found, when the file was judged playable.
    probe: Option<Probe>,
}

impl Standing {
    /// From the upload state of the file and the index's verdict on it.
    fn judge(name: &str, e: &FileEntry, index: &MediaIndex, lang: Lang) -> Standing {
        let verdict: Option<Result<Probe, ProbeError>> = index.lookup(&e.rel, e.size, e.mtime_ns);
        // "pending": not judged yet; `upload` says why when it is an
        // upload still being written, or one abandoned half way.
        match (upload_state(e), verdict) {
            (Some(Upload::Abandoned), _) => Standing::pending(
                Some(UploadWord::Interrupted),
                Some(tr!(
                    lang,
                    "Tệp \"{name}\" tải lên dở dang và đã bị bỏ đó hơn một ngày; hãy tải lại tệp rồi xóa tệp dở dang này.",
                    "The upload \"{name}\" was cut off and left unfinished for over a day; send the file again and delete this unfinished one"
                )),
            ),
            (Some(Upload::InProgress) | None, Some(Ok(p))) => Standing::ok(p),
            (Some(Upload::InProgress), _) => Standing::pending(Some(UploadWord::InProgress), None),
            (None, Some(Err(err))) => Standing::rejected(err.message(name, lang)),
            (None, None) => Standing::pending(None, None),
        }
    }

    /// Judged playable, with what the probe found.
    fn ok(probe: Probe) -> Standing {
        Standing {
            status: Status::Ok,
            upload: None,
            reason: None,
            probe: Some(probe),
        }
    }

    /// Not judged yet.
    fn pending(upload: Option<UploadWord>, reason: Option<String>) -> Standing {
        Standing {
            status: Status::Pending,
            upload,
            reason,
            probe: None,
        }
    }

    /// Judged unplayable, and why.
    fn rejected(reason: String) -> Standing {
        Standing {
            status: Status::Rejected,
            upload: None,
            reason: Some(reason),
            probe: None,
        }
    }
}

impl FileRow {
    /// A file in the library, with what its probe found and the gain the
    /// config gives it.
    fn of_file(name: &str, s: Standing, users: &Users, cfg: &Config) -> FileRow {
        let p = s.probe.as_ref();
        let gain = p.map(|p| {
            gain_db(
                p.loudness_lufs,
                p.true_peak_db,
                cfg.audio.normalize,
                cfg.audio.target_lufs,
                cfg.audio.volume_db,
                0.0,
            )
        });
        let playlists = users.of(name);
        FileRow {
            name: name.to_string(),
            status: s.status,
            upload: s.upload,
            reason: s.reason,
            duration_s: p.and_then(|p| number(p.duration.as_millis() as f64 / 1000.0)),
            loudness_lufs: p.and_then(|p| p.loudness_lufs).and_then(round1),
            true_peak_db: p.and_then(|p| p.true_peak_db).and_then(round1),
            gain_db: gain.and_then(round1),
            codec: p.map(|p| p.codec.clone()),
            sample_rate: p.map(|p| p.sample_rate),
            sha256: p.and_then(|p| p.sha256.clone()),
            used: !playlists.is_empty(),
            playlists,
        }
    }

    /// A rejected name (a link, a special file, a file in `rejected/`):
    /// nothing known about its sound.
    fn rejected(name: &str, reason: String, users: &Users) -> FileRow {
        let playlists = users.of(name);
        FileRow {
            name: name.to_string(),
            status: Status::Rejected,
            upload: None,
            reason: Some(reason),
            duration_s: None,
            loudness_lufs: None,
            true_peak_db: None,
            gain_db: None,
            codec: None,
            sample_rate: None,
            sha256: None,
            used: !playlists.is_empty(),
            playlists,
        }
    }

    /// Whether to list it among the files no playlist uses: not the
    /// rejected ones, nor uploads.
    fn is_unused(&self) -> bool {
        !self.used && self.status != Status::Rejected && self.upload.is_none()
    }

    /// The status column of the table.
    fn status_text(&self, lang: Lang) -> &'static str {
        match (self.status, self.upload) {
            (Status::Ok, _) => lang.pick("hợp lệ", "ok"),
            (Status::Rejected, _) => lang.pick("BỊ TỪ CHỐI", "REJECTED"),
            (_, Some(UploadWord::InProgress)) => lang.pick("đang tải lên", "uploading"),
            (_, Some(UploadWord::Interrupted)) => lang.pick("TẢI DỞ", "UNFINISHED"),
            _ => lang.pick("chờ kiểm tra", "to be checked"),
        }
    }
}

/// `loa media` for a person: a table of the files, each reason under its
/// file, then the unused files and the problems with names.
fn print_table(cfg: &Config, rows: &[FileRow], problems: &[NameProblem]) {
    let lang = cfg.lang;
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
    for r in rows {
        print_row(r, lang);
    }
    let unused: Vec<&str> = rows
        .iter()
        .filter(|r| r.is_unused())
        .map(|r| r.name.as_str())
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
    for p in problems {
        println!("{}: {}", lang.pick("Lưu ý", "Note"), p.message(lang));
    }
}

/// One line of the table, and the reason under it when there is one.
fn print_row(r: &FileRow, lang: Lang) {
    let len = r
        .duration_s
        .map(|s| duration::clock(std::time::Duration::from_secs_f64(s)))
        .unwrap_or_else(|| "-".into());
    let lufs = r
        .loudness_lufs
        .map(|v| decimal(format!("{v:.1}"), lang))
        .unwrap_or_else(|| "-".into());
    let gain = r
        .gain_db
        .map(|v| decimal(format!("{v:+.1} dB"), lang))
        .unwrap_or_else(|| "-".into());
    let used = if r.playlists.is_empty() {
        lang.pick("(không có)", "(no playlist)").to_string()
    } else {
        r.playlists.join(", ")
    };
    println!(
        "  {:<36} {:>6} {:>9} {:>8}  {:<10} {}",
        r.name,
        len,
        lufs,
        gain,
        r.status_text(lang),
        used
    );
    if let Some(reason) = &r.reason {
        println!("      {reason}");
    }
}

/// A number as the operator writes it: a decimal comma in Vietnamese.
fn decimal(text: String, lang: Lang) -> String {
    match lang {
        Lang::Vi => text.replace('.', ","),
        Lang::En => text,
    }
}

/// To one decimal, as listed; see [`number`].
fn round1(x: f64) -> Option<f64> {
    number((x * 10.0).round() / 10.0)
}

/// A number to list: none when it is not finite (JSON has no infinity; it
/// is listed as null, and as "-" in the table).
fn number(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}
