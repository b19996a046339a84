//! The audio library: finding playlist items' files in the audio folder
//! (Unicode-form and case aware), probing them, and remembering what was
//! learnt in the media index so a file is probed once until it changes. It
//! answers the planner's question "does this item play, and for how long".

pub mod index;
pub mod ingest;
pub mod library;
pub mod probe;
pub mod validate;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::lang::Lang;
use crate::schedule::MediaStatus;
use crate::tr;

pub use index::MediaIndex;
pub use library::Library;
pub use probe::{Probe, ProbeError, probe};

/// Answers for each name (NFC, below the audio folder): probed, from the
/// index when the file has not changed since.
pub fn resolve<'a>(
    names: impl IntoIterator<Item = &'a str>,
    library: &Library,
    index: &MediaIndex,
    lang: Lang,
) -> HashMap<String, MediaStatus> {
    resolve_except(names, library, index, lang, &HashSet::new())
}

/// As `resolve`, but the files in `pending` (paths below the audio folder:
/// uploads in progress or waiting to be validated) are not ready: they are
/// neither validated here nor aired until the service has taken them up.
pub fn resolve_except<'a>(
    names: impl IntoIterator<Item = &'a str>,
    library: &Library,
    index: &MediaIndex,
    lang: Lang,
    pending: &HashSet<String>,
) -> HashMap<String, MediaStatus> {
    let mut out = HashMap::new();
    for name in names {
        if out.contains_key(name) {
            continue;
        }
        let status = match library.find(name) {
            // Planned with the length its header announces (cheap); it is
            // validated before its broadcast airs, and planned again then.
            Some(entry) if pending.contains(&entry.rel) => {
                match probe::Decoder::open(&library.root().join(&entry.rel)) {
                    Ok(d) if d.announced_frames.is_some_and(|n| n > 0) => MediaStatus::Playable {
                        duration: std::time::Duration::from_secs_f64(
                            d.announced_frames.unwrap_or(0) as f64
                                / f64::from(d.sample_rate.max(1)),
                        ),
                        path: entry.rel.clone(),
                    },
                    _ => MediaStatus::Unplayable(not_ready_message(name, lang)),
                }
            }
            _ => status_of(name, library, index, lang),
        };
        out.insert(name.to_string(), status);
    }
    out
}

/// The message for a file that is still being uploaded or validated.
pub fn not_ready_message(name: &str, lang: Lang) -> String {
    tr!(
        lang,
        "tệp \"{name}\" đang được tải lên hoặc đang được kiểm tra, chưa phát được",
        "the file \"{name}\" is still being uploaded or checked, and cannot be aired yet"
    )
}

/// The message for a playlist item whose file was rejected at upload.
pub fn rejected_message(name: &str, reason: &str, lang: Lang) -> String {
    tr!(
        lang,
        "tệp \"{name}\" đã bị từ chối khi tải lên và nằm trong thư mục rejected/: {reason}",
        "the file \"{name}\" was rejected when uploaded and is in the rejected/ folder: {reason}"
    )
}

fn status_of(name: &str, library: &Library, index: &MediaIndex, lang: Lang) -> MediaStatus {
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
                "không có tệp \"{name}\" trong thư mục âm thanh \"{folder}\"; có phải ý bạn là \"{s}\"? Hãy sửa tên trong danh sách phát hoặc tải tệp lên",
                "no file \"{name}\" in the audio folder \"{folder}\"; did you mean \"{s}\"? Correct the name in the playlist or upload the file"
            ),
            None => tr!(
                lang,
                "không có tệp \"{name}\" trong thư mục âm thanh \"{folder}\"; hãy tải tệp lên hoặc sửa tên trong danh sách phát",
                "no file \"{name}\" in the audio folder \"{folder}\"; upload the file or correct the name in the playlist"
            ),
        });
    };
    match probe_cached(
        &library.root().join(&entry.rel),
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
    path: &Path,
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
    let v = validate::validate(path);
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
) -> Result<(PathBuf, Probe), String> {
    use unicode_normalization::UnicodeNormalization;
    let direct = Path::new(arg);
    let (path, key) = if direct.is_file() {
        let abs = std::fs::canonicalize(direct).unwrap_or_else(|_| direct.to_path_buf());
        let key = abs.display().to_string();
        (abs, key)
    } else {
        let name: String = arg.trim_start_matches("./").nfc().collect();
        match library.find(&name) {
            Some(e) => (library.root().join(&e.rel), e.rel.clone()),
            None if library.rejection(&name).is_some() => {
                return Err(rejected_message(
                    &name,
                    library.rejection(&name).unwrap_or_default(),
                    lang,
                ));
            }
            None => {
                let folder = crate::problem::display_path(library.root());
                return Err(match library.suggest(&name) {
                    Some(s) => tr!(
                        lang,
                        "không có tệp \"{arg}\" (cũng không có trong thư mục âm thanh \"{folder}\"); có phải ý bạn là \"{s}\"?",
                        "no file \"{arg}\" (neither as a path nor in the audio folder \"{folder}\"); did you mean \"{s}\"?"
                    ),
                    None => tr!(
                        lang,
                        "không có tệp \"{arg}\" (cũng không có trong thư mục âm thanh \"{folder}\"); hãy kiểm tra tên tệp",
                        "no file \"{arg}\" (neither as a path nor in the audio folder \"{folder}\"); check the name"
                    ),
                });
            }
        }
    };
    let meta =
        std::fs::metadata(&path).map_err(|e| ProbeError::Io(e.to_string()).message(arg, lang))?;
    let mtime_ns = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0);
    let probe =
        probe_cached(&path, &key, meta.len(), mtime_ns, index).map_err(|e| e.message(arg, lang))?;
    Ok((path, probe))
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
        let lib = Library::scan(dir.path()).unwrap();
        let entry = lib.find("tin.mp3").unwrap().clone();
        let index = MediaIndex::in_memory();
        let pending: HashSet<String> = ["tin.mp3".to_string()].into();
        let real = probe(&sample).unwrap().duration;

        let got = resolve_except(["tin.mp3"], &lib, &index, Lang::En, &pending);
        match &got["tin.mp3"] {
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

        let got = resolve(["tin.mp3"], &lib, &index, Lang::En);
        assert!(
            matches!(got["tin.mp3"], MediaStatus::Playable { .. }),
            "{got:?}"
        );
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
