//! The audio library: finding playlist items' files in the audio folder
//! (Unicode-form and case aware), probing them, and remembering what was
//! learnt in the media index so a file is probed once until it changes. It
//! answers the planner's question "does this item play, and for how long".
//!
//! # Layout
//! - `folder`: the audio folder as untrusted ground (nothing reached through a link).
//! - `library`: the files of the audio folder by NFC name, as the planner sees them.
//! - `header`: refusing an impossible container header before any decoder sees it.
//! - `decode`: decoding a file with symphonia (`Decoder`), gaplessly, for playback and measuring.
//! - `loudness`: EBU R128 integrated loudness and true peak (pure).
//! - `measure`: the single measuring pass over a file (`measure`, `probe`), with a
//!   tap on its bytes.
//! - `mpeg`, `ogg`: the walks over MP3 frames and Ogg pages as the bytes go by.
//! - `probe`: what probing says (`Probe`, `ProbeError`).
//! - `rejection`: why a file must not air (`Rejection`, `RejectKind`) and what the
//!   operator is told.
//! - `validate`: validation's judgement (`validate`, `Verdict`).
//! - `index`: the media index (probes and verdicts in the state database).
//! - `facts`: the planner's view of the folder (`Facts`: each item name's status).
//! - `rejected`: the `rejected/` folder: moving files there, their notes, listing it.
//! - `ingest`: taking up uploads once complete, into the index or `rejected/`.
//! - here: the planner's and the operator's questions (`status`, `find_named`...).

pub mod decode;
pub mod facts;
pub mod folder;
pub mod header;
pub mod index;
pub mod ingest;
pub mod library;
mod loudness;
pub mod measure;
mod mpeg;
mod ogg;
pub mod probe;
pub mod rejected;
pub mod rejection;
#[cfg(test)]
mod test_audio;
pub mod validate;

use std::collections::HashSet;
use std::path::Path;

use crate::lang::Lang;
use crate::schedule::MediaStatus;
use crate::tr;

pub use decode::Decoder;
pub use facts::Facts;
pub use folder::MediaPath;
pub use index::MediaIndex;
pub use library::Library;
pub use measure::probe;
pub use probe::{Probe, ProbeError};

/// What the planner is told of one item name (NFC, below the audio folder):
/// probed, from the index when the file has not changed since. The files in
/// `pending` (paths below the audio folder: uploads in progress or waiting
/// to be validated) are not ready: they are neither validated here nor
/// aired until the service has taken them up. `Facts` asks this once per
/// name.
pub fn status(
    name: &str,
    library: &Library,
    index: &MediaIndex,
    lang: Lang,
    pending: &HashSet<String>,
) -> MediaStatus {
    match library.find(name) {
        // Planned with the length its header announces (cheap); it is
        // validated before its broadcast airs, and planned again then.
        Some(entry) if pending.contains(&entry.rel) => match Decoder::open(&library.media(entry)) {
            Ok(d) if d.announced_frames.is_some_and(|n| n > 0) => MediaStatus::Playable {
                duration: std::time::Duration::from_secs_f64(
                    d.announced_frames.unwrap_or(0) as f64 / f64::from(d.sample_rate.max(1)),
                ),
                path: entry.rel.clone(),
            },
            _ => MediaStatus::Unplayable(not_ready_message(name, lang)),
        },
        _ => status_of(name, library, index, lang),
    }
}

/// A file whose upload may still be going on: written to in the last
/// [`UPLOAD_QUIET`], or under a temporary name (`.filepart`...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Upload {
    /// Still being written: not judged yet.
    InProgress,
    /// A temporary name untouched for over [`ABANDONED_AFTER`]: the
    /// transfer was cut off and must be sent again.
    Abandoned,
}

/// A file written to less than this long ago may still be uploading: it is
/// neither validated nor reported as cut off by `loa check` or `loa media`.
pub const UPLOAD_QUIET: std::time::Duration = std::time::Duration::from_secs(10);
/// A temporary upload name left untouched this long was abandoned.
pub const ABANDONED_AFTER: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Whether `entry` is an upload in progress or one that was abandoned.
pub fn upload_state(entry: &library::FileEntry) -> Option<Upload> {
    let now_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0);
    let age = std::time::Duration::from_nanos(now_ns.saturating_sub(entry.mtime_ns).max(0) as u64);
    let name = entry.rel.rsplit('/').next().unwrap_or(&entry.rel);
    if ingest::is_temporary(name) {
        return Some(if age > ABANDONED_AFTER {
            Upload::Abandoned
        } else {
            Upload::InProgress
        });
    }
    (age < UPLOAD_QUIET).then_some(Upload::InProgress)
}

/// The message for a file whose upload is not finished.
pub fn uploading_message(name: &str, lang: Lang) -> String {
    tr!(
        lang,
        "Tệp \"{name}\" đang được tải lên (vừa thay đổi cách đây vài giây); loa sẽ kiểm tra tệp khi tải xong. Nếu việc tải lên đã dừng hẳn, hãy tải lại.",
        "the file \"{name}\" is still being uploaded (it changed a few seconds ago); loa checks it once the upload is complete. If the upload has stopped, send it again"
    )
}

/// The message for a file that is still being uploaded or validated.
pub fn not_ready_message(name: &str, lang: Lang) -> String {
    tr!(
        lang,
        "Tệp \"{name}\" đang được tải lên hoặc đang được kiểm tra, nên chưa phát được.",
        "the file \"{name}\" is still being uploaded or checked, and cannot be aired yet"
    )
}

/// The message for a playlist item whose file was rejected at upload.
pub fn rejected_message(name: &str, reason: &str, lang: Lang) -> String {
    tr!(
        lang,
        "Tệp \"{name}\" đã bị từ chối khi tải lên và đang nằm trong thư mục rejected/. Lý do: {reason}",
        "the file \"{name}\" was rejected when uploaded and is in the rejected/ folder: {reason}"
    )
}

fn status_of(name: &str, library: &Library, index: &MediaIndex, lang: Lang) -> MediaStatus {
    if let Some(o) = library
        .odd()
        .iter()
        .find(|o| name == o.rel || name.starts_with(&format!("{}/", o.rel)))
    {
        return MediaStatus::Unplayable(o.message(lang));
    }
    if let Some(reason) = library.rejection(name)
        && library.find(name).is_none()
    {
        return MediaStatus::Unplayable(rejected_message(name, reason, lang));
    }
    let Some(entry) = library.find(name) else {
        let folder = crate::problem::display_path(library.root());
        return MediaStatus::Unplayable(match library.suggest(name) {
            Some(s) => tr!(
                lang,
                "Không có tệp \"{name}\" trong thư mục âm thanh \"{folder}\". Có phải là \"{s}\" không? Hãy sửa tên trong danh sách phát, hoặc tải tệp lên.",
                "no file \"{name}\" in the audio folder \"{folder}\"; did you mean \"{s}\"? Correct the name in the playlist or upload the file"
            ),
            None => tr!(
                lang,
                "Không có tệp \"{name}\" trong thư mục âm thanh \"{folder}\"; hãy tải tệp lên, hoặc sửa tên trong danh sách phát.",
                "no file \"{name}\" in the audio folder \"{folder}\"; upload the file or correct the name in the playlist"
            ),
        });
    };
    // Still being written: not judged (a half-uploaded file would look
    // cut off), unless it was already judged as it is now.
    if upload_state(entry).is_some()
        && !matches!(
            index.lookup(&entry.rel, entry.size, entry.mtime_ns),
            Some(Ok(_))
        )
    {
        return MediaStatus::Uploading(uploading_message(name, lang));
    }
    match probe_cached(
        &library.media(entry),
        &entry.rel,
        entry.size,
        entry.mtime_ns,
        index,
    ) {
        Ok(p) => MediaStatus::Playable {
            duration: p.duration,
            path: entry.rel.clone(),
        },
        Err(e) => MediaStatus::Unplayable(e.message(name, lang)),
    }
}

/// Probes a file through the index: `key` is its path below the audio
/// folder (or its absolute path for a file elsewhere).
pub fn probe_cached(
    media: &MediaPath,
    key: &str,
    size: u64,
    mtime_ns: i64,
    index: &MediaIndex,
) -> Result<Probe, ProbeError> {
    // Only a full validation's verdict counts: a file that merely decodes
    // may still be cut off or silent.
    if let Some(v) = index.verdict(key, size, mtime_ns) {
        return verdict_result(v);
    }
    let v = validate::validate(media);
    let unreadable = matches!(
        &v,
        validate::Verdict::Rejected(r) if r.code() == "unreadable"
    );
    if !unreadable {
        index.store_verdict(key, size, mtime_ns, &v);
    }
    verdict_result(v)
}

fn verdict_result(v: validate::Verdict) -> Result<Probe, ProbeError> {
    match v {
        validate::Verdict::Ok(p) => Ok(p),
        validate::Verdict::Rejected(r) => Err(ProbeError::Rejected(Box::new(r))),
    }
}

/// A file named on the command line (`loa play`): a path, else a name in
/// the audio folder. Returns the file and its probe, or the message for the
/// operator.
pub fn find_and_probe(
    arg: &str,
    library: &Library,
    index: &MediaIndex,
    lang: Lang,
) -> Result<(MediaPath, Probe), String> {
    let direct = Path::new(arg);
    if direct.is_file() {
        let abs = std::fs::canonicalize(direct).unwrap_or_else(|_| direct.to_path_buf());
        let key = abs.display().to_string();
        return probe_opened(arg, MediaPath::Given(abs), key, index, lang);
    }
    find_named(arg, library, index, lang)
}

/// A file named by its name in the audio folder (what the control socket
/// takes: never a path, never `..`, never through a link), validated like
/// an upload. Returns the file and its probe, or the message for the
/// operator (with the nearest name when there is no such file).
pub fn find_named(
    arg: &str,
    library: &Library,
    index: &MediaIndex,
    lang: Lang,
) -> Result<(MediaPath, Probe), String> {
    use crate::playlist::PathError;
    let shown = arg.escape_debug().to_string();
    let name = match crate::playlist::check_item_path(arg) {
        Ok(n) => n,
        Err(PathError::Absolute | PathError::ParentDir | PathError::Backslash) => {
            return Err(tr!(
                lang,
                "\"{shown}\" không phải là tên một tệp trong thư mục âm thanh. Hãy ghi tên tệp như `loa media` liệt kê (ví dụ \"dai-hoi/ban-tin.mp3\"), hoặc chép tệp vào trước bằng `loa import`.",
                "\"{shown}\" is not the name of a file in the audio folder; give the name as `loa media` lists it (e.g. \"dai-hoi/ban-tin.mp3\"), or copy the file in first with `loa import`"
            ));
        }
        Err(_) => {
            return Err(tr!(
                lang,
                "\"{shown}\" không phải là tên tệp hợp lệ (tên trống, có ký tự điều khiển, hoặc kết thúc bằng /).",
                "\"{shown}\" is not a valid file name (empty, with a control character, or ending in /)"
            ));
        }
    };
    if let Some(o) = library
        .odd()
        .iter()
        .find(|o| name == o.rel || name.starts_with(&format!("{}/", o.rel)))
    {
        return Err(o.message(lang));
    }
    let media = match library.find(&name) {
        Some(e) => library.media(e),
        None if library.rejection(&name).is_some() => {
            return Err(rejected_message(
                &name,
                library.rejection(&name).unwrap_or_default(),
                lang,
            ));
        }
        None => return Err(not_found_message(&name, library, lang)),
    };
    let key = match &media {
        MediaPath::Beneath { rel, .. } => rel.clone(),
        MediaPath::Given(p) => p.display().to_string(),
    };
    probe_opened(&name, media, key, index, lang)
}

/// Opens `media` (never through a link) for its size and time, then its
/// verdict from the index, or a full validation.
fn probe_opened(
    arg: &str,
    media: MediaPath,
    key: String,
    index: &MediaIndex,
    lang: Lang,
) -> Result<(MediaPath, Probe), String> {
    // Size and time of what is really opened (never through a link).
    let file = media
        .open()
        .map_err(|e| ProbeError::from(e).message(arg, lang))?;
    let meta = file
        .metadata()
        .map_err(|e| ProbeError::Io(e.to_string()).message(arg, lang))?;
    drop(file);
    let mtime_ns = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0);
    let probe = probe_cached(&media, &key, meta.len(), mtime_ns, index)
        .map_err(|e| e.message(arg, lang))?;
    Ok((media, probe))
}

/// "no file NAME", with the nearest name in the folder when there is one.
pub fn not_found_message(arg: &str, library: &Library, lang: Lang) -> String {
    let folder = crate::problem::display_path(library.root());
    match library.suggest(arg) {
        Some(s) => tr!(
            lang,
            "Không có tệp \"{arg}\", kể cả trong thư mục âm thanh \"{folder}\". Có phải là \"{s}\" không?",
            "no file \"{arg}\" (neither as a path nor in the audio folder \"{folder}\"); did you mean \"{s}\"?"
        ),
        None => tr!(
            lang,
            "Không có tệp \"{arg}\", kể cả trong thư mục âm thanh \"{folder}\"; hãy kiểm tra lại tên tệp.",
            "no file \"{arg}\" (neither as a path nor in the audio folder \"{folder}\"); check the name"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::time::Duration;

    // Issue 5: the service plans a file that is still waiting to be
    // validated with the length its header announces, without validating
    // it (that would hold its loop); once it is no longer pending, it is.
    #[test]
    fn a_pending_file_is_planned_from_its_header_and_not_validated() {
        let dir = tempfile::tempdir().unwrap();
        let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("audio/nhac-hieu.mp3");
        std::fs::copy(&sample, dir.path().join("tin.mp3")).unwrap();
        // Written a minute ago: a finished upload, not one in progress.
        std::fs::File::options()
            .write(true)
            .open(dir.path().join("tin.mp3"))
            .unwrap()
            .set_modified(std::time::SystemTime::now() - Duration::from_secs(60))
            .unwrap();
        let lib = Library::scan(dir.path()).unwrap();
        let entry = lib.find("tin.mp3").unwrap().clone();
        let index = MediaIndex::in_memory();
        let pending: HashSet<String> = ["tin.mp3".to_string()].into();
        let real = probe(&sample).unwrap().duration;

        let got = status("tin.mp3", &lib, &index, Lang::En, &pending);
        match &got {
            MediaStatus::Playable { duration, path } => {
                assert_eq!(path, "tin.mp3");
                let off = duration.as_secs_f64() - real.as_secs_f64();
                assert!(
                    off.abs() < 0.2,
                    "{duration:?} from the header, {real:?} decoded"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(
            index
                .verdict("tin.mp3", entry.size, entry.mtime_ns)
                .is_none()
        );

        let got = status("tin.mp3", &lib, &index, Lang::En, &HashSet::new());
        assert!(matches!(got, MediaStatus::Playable { .. }), "{got:?}");
        assert!(
            index
                .verdict("tin.mp3", entry.size, entry.mtime_ns)
                .is_some()
        );
    }

    // Issue 2: every sample under audio/ is real, decodable and short.
    #[test]
    fn every_shipped_sample_probes_as_real_audio() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("audio");
        let lib = Library::scan(&root).unwrap();
        let names: Vec<&str> = lib.names().collect();
        assert!(names.len() >= 8, "{names:?}");
        for name in names {
            let p = probe(&root.join(&lib.find(name).unwrap().rel))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(
                p.duration > Duration::from_secs(2) && p.duration < Duration::from_secs(60),
                "{name}: {:?}",
                p.duration
            );
            assert_eq!(p.codec, "mp3", "{name}");
            assert!(p.sample_rate >= 16_000, "{name}");
        }
    }

    #[test]
    fn broken_files_get_the_right_verdict() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.mp3");
        std::fs::write(&empty, b"").unwrap();
        assert_eq!(probe(&empty), Err(ProbeError::Empty));
        let text = dir.path().join("text.mp3");
        std::fs::write(&text, "Đây không phải âm thanh.\n".repeat(200)).unwrap();
        assert_eq!(probe(&text), Err(ProbeError::NotAudio));
        assert!(matches!(
            probe(&dir.path().join("absent.mp3")),
            Err(ProbeError::Io(_))
        ));
        let m = ProbeError::Unsupported("Opus".into()).message("a.opus", Lang::Vi);
        assert!(m.contains("Opus") && m.contains("MP3"), "{m}");
    }
}
