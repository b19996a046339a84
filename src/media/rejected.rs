//! The `rejected/` folder inside the audio folder: its name, moving a
//! rejected upload there with a note beside it that says what is wrong and
//! what to do, the note left for a link or special file that stays where it
//! is, and listing what is in the folder with the reason of each. Nothing in
//! it is reached through a link (see `folder`). It does not decide what is
//! rejected (validation does) nor when (ingest does), and knows nothing of
//! the library or the media index.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use unicode_normalization::UnicodeNormalization;

use super::folder::{self, OpenError};
use crate::lang::Lang;
use crate::tr;

/// The folder inside the audio folder where rejected files go (skipped
/// when the library is scanned and when uploads are taken up).
pub const REJECTED_DIR: &str = "rejected";

/// Moves a rejected file to `rejected/` (keeping its subfolder) and writes
/// `rejected/NAME.txt` beside it with the message. Returns the new path.
/// Neither the file nor any folder on the way is reached through a link
/// (see `folder`). When the file cannot be moved (a folder the service may
/// not write), the note is still written and the error returned.
pub fn reject(
    audio_root: &Path,
    rel: &str,
    message: &str,
    lang: Lang,
    tz: &jiff::tz::TimeZone,
) -> Result<PathBuf, OpenError> {
    let to_rel = Path::new(REJECTED_DIR).join(rel);
    // The note first, whole, then the file: whoever sees the file in
    // rejected/ finds its reason beside it, never half of it.
    write_note(audio_root, rel, message, NoteKind::Moved, lang, tz)?;
    match folder::rename(audio_root, Path::new(rel), &to_rel) {
        Ok(()) => Ok(audio_root.join(to_rel)),
        Err(e) if e.is_not_found() => {
            let _ = folder::remove(audio_root, &note_path(&to_rel));
            Err(e)
        }
        Err(e) => {
            // The note stays, saying the file could not be moved.
            let why = e.to_string();
            let _ = write_note(audio_root, rel, message, NoteKind::NotMoved(why), lang, tz);
            Err(e)
        }
    }
}

/// What became of the file a note is about.
pub enum NoteKind {
    /// Moved into rejected/ beside the note.
    Moved,
    /// Could not be moved (the reason): it stays where it was, not aired.
    NotMoved(String),
    /// A link or special file: left where it is, never followed.
    LeftAlone,
}

/// Writes `rejected/REL.txt` (atomically, never through a link).
pub fn write_note(
    audio_root: &Path,
    rel: &str,
    message: &str,
    kind: NoteKind,
    lang: Lang,
    tz: &jiff::tz::TimeZone,
) -> Result<(), OpenError> {
    let when = crate::lang::date_time(jiff::Timestamp::now(), tz, lang);
    let what = match kind {
        NoteKind::Moved => tr!(
            lang,
            "Lúc {when}, tệp \"{rel}\" đã được chuyển vào thư mục rejected/ và sẽ không được phát.\nSửa xong, hãy tải tệp lên lại thư mục âm thanh. Có thể xóa bản nằm trong rejected/.",
            "The file \"{rel}\" was moved to the rejected/ folder at {when} and will not be aired.\nOnce it is fixed, upload it again into the audio folder (the copy in rejected/ may be deleted)."
        ),
        NoteKind::NotMoved(why) => tr!(
            lang,
            "Tệp \"{rel}\" sẽ không được phát, nhưng loa không chuyển được nó vào thư mục rejected/ ({why}); có lẽ thư mục chứa tệp không cho phép nhóm ghi. Hãy xóa tệp đó rồi tải bản đã sửa lên.\n(Ghi chú này được viết lúc {when}.)",
            "The file \"{rel}\" will not be aired, but loa could not move it to the rejected/ folder ({why}): perhaps its folder is not writable for the group. Delete it and upload a fixed copy (written {when})."
        ),
        NoteKind::LeftAlone => tr!(
            lang,
            "Mục \"{rel}\" được để nguyên ở chỗ cũ và sẽ không bao giờ được phát.\n(Ghi chú này được viết lúc {when}.)",
            "loa leaves \"{rel}\" where it is and never airs it (written {when})."
        ),
    };
    let note = format!("{message}\n\n{what}\n");
    let txt = note_path(&Path::new(REJECTED_DIR).join(rel));
    folder::write_atomically(audio_root, &txt, note.as_bytes())
}

/// `rejected/NAME.txt` for `rejected/NAME`.
pub fn note_path(rejected_file: &Path) -> PathBuf {
    let mut name = rejected_file
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".txt");
    rejected_file.with_file_name(name)
}

/// The rejected files, by NFC name below the audio folder, with the
/// message of their note (its first paragraph). Nothing in `rejected/` is
/// reached through a link.
pub fn list(audio_root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Ok((files, _)) = folder::walk_below(audio_root, Path::new(REJECTED_DIR), &|_, _| false)
    else {
        return out;
    };
    for f in files {
        if f.rel.ends_with(".txt") {
            continue;
        }
        let note = folder::read_text(audio_root, &note_path(Path::new(&f.rel)), 64 * 1024)
            .unwrap_or_default();
        let first = note.split("\n\n").next().unwrap_or("").trim().to_string();
        let rel = f
            .rel
            .strip_prefix(REJECTED_DIR)
            .unwrap_or(&f.rel)
            .trim_start_matches('/');
        out.insert(rel.nfc().collect::<String>(), first);
    }
    out
}

/// Whether `rejected/REL.txt` is there (and readable, not through a link).
pub fn has_note(audio_root: &Path, rel: &str) -> bool {
    folder::read_text(
        audio_root,
        &note_path(&Path::new(REJECTED_DIR).join(rel)),
        64 * 1024,
    )
    .is_some()
}

/// Removes the copy of `rel` in `rejected/` and its note, if a regular file
/// is there: a good upload under the name of one rejected before makes
/// them out of date.
pub fn clear(audio_root: &Path, rel: &str) {
    let old = Path::new(REJECTED_DIR).join(rel);
    if folder::lstat(audio_root, &old).is_some_and(|e| e.kind.is_none()) {
        let _ = folder::remove(audio_root, &old);
        let _ = folder::remove(audio_root, &note_path(&old));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejected_files_get_a_note_and_are_listed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("dai-hoi")).unwrap();
        std::fs::write(dir.path().join("dai-hoi/ban-tin.mp3"), b"x").unwrap();
        let tz = jiff::tz::TimeZone::get("Asia/Ho_Chi_Minh").unwrap();
        let to = reject(
            dir.path(),
            "dai-hoi/ban-tin.mp3",
            "the file is cut off",
            Lang::En,
            &tz,
        )
        .unwrap();
        assert_eq!(to, dir.path().join("rejected/dai-hoi/ban-tin.mp3"));
        assert!(!dir.path().join("dai-hoi/ban-tin.mp3").exists());
        let note =
            std::fs::read_to_string(dir.path().join("rejected/dai-hoi/ban-tin.mp3.txt")).unwrap();
        assert!(note.starts_with("the file is cut off"));
        let r = list(dir.path());
        assert_eq!(
            r.get("dai-hoi/ban-tin.mp3").map(|s| s.as_str()),
            Some("the file is cut off")
        );
    }
}
