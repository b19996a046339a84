//! The audio folder as the planner sees it: every file below it by its name
//! in Unicode NFC (a Mac uploads "Thông báo.mp3" decomposed), so playlist
//! names match whatever form the upload used, and close names can be
//! suggested for typos. Hidden files and the `rejected/` folder are left out;
//! links and special files are listed apart, never followed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use unicode_normalization::UnicodeNormalization;

use super::folder::{MediaPath, Odd};
/// The folder where rejected uploads are moved (skipped when scanning);
/// `rejected` owns it.
pub use super::rejected::REJECTED_DIR;

/// One file below the audio folder.
#[derive(Clone, Debug)]
pub struct FileEntry {
    /// Its path below the audio folder as on disk, "/"-separated.
    pub rel: String,
    /// Its size, in bytes.
    pub size: u64,
    /// Its modification time, in nanoseconds since the Unix epoch.
    pub mtime_ns: i64,
}

/// The files below the audio folder, by NFC name, as one scan found them.
pub struct Library {
    root: PathBuf,
    /// NFC name -> the file.
    files: BTreeMap<String, FileEntry>,
    /// NFC name -> why it was rejected (files moved to `rejected/`).
    rejected: BTreeMap<String, String>,
    /// Every file's name as on disk, also those whose NFC name another file
    /// already has (a clash to report).
    all: Vec<String>,
    /// Links, pipes and the like found below the folder: never followed,
    /// never aired, reported to the operator.
    odd: Vec<Odd>,
}

impl Library {
    /// Lists the audio folder, without ever following a link (see
    /// `media::folder`). A missing folder is an error for the caller to
    /// report; unreadable subfolders are skipped.
    pub fn scan(root: &Path) -> std::io::Result<Library> {
        let skip = |rel: &str, is_dir: bool| {
            let name = rel.rsplit('/').next().unwrap_or(rel);
            name.starts_with('.')
                || (is_dir && rel == REJECTED_DIR)
                || (!is_dir && rel == crate::status_note::FILE_NAME)
        };
        let (found, odd) = super::folder::walk(root, &skip)?;
        let mut files = BTreeMap::new();
        let mut all = Vec::new();
        for f in found {
            all.push(f.rel.clone());
            files.insert(
                f.rel.nfc().collect(),
                FileEntry {
                    rel: f.rel,
                    size: f.size,
                    mtime_ns: f.mtime_ns,
                },
            );
        }
        Ok(Library {
            root: root.to_path_buf(),
            files,
            rejected: super::rejected::list(root),
            all,
            odd,
        })
    }

    /// A library with no files (when the folder cannot be read).
    pub fn empty(root: &Path) -> Library {
        Library {
            root: root.to_path_buf(),
            files: BTreeMap::new(),
            rejected: BTreeMap::new(),
            all: Vec::new(),
            odd: Vec::new(),
        }
    }

    /// The links, pipes and other odd names found below the folder.
    pub fn odd(&self) -> &[Odd] {
        &self.odd
    }

    /// The file of `entry` as something to open (never through a link).
    pub fn media(&self, entry: &FileEntry) -> MediaPath {
        MediaPath::beneath(&self.root, &entry.rel)
    }

    /// The audio folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file a playlist name (already NFC) means.
    pub fn find(&self, name: &str) -> Option<&FileEntry> {
        self.files.get(name)
    }

    /// Why a file was rejected at upload, if it was (it is in `rejected/`).
    pub fn rejection(&self, name: &str) -> Option<&str> {
        self.rejected.get(name).map(|s| s.as_str())
    }

    /// The rejected files and why.
    pub fn rejected(&self) -> impl Iterator<Item = (&str, &str)> {
        self.rejected.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Every file's name as on disk (clashing names included).
    pub fn all_names(&self) -> impl Iterator<Item = &str> {
        self.all.iter().map(|s| s.as_str())
    }

    /// Every file, with its entry.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &FileEntry)> {
        self.files.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Every file's NFC name, in order (one per name when names clash).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(|s| s.as_str())
    }

    /// A name the operator probably meant: the same name in other case, the
    /// only file with the same base name in another folder, or a near typo.
    pub fn suggest(&self, name: &str) -> Option<&str> {
        let lower = name.to_lowercase();
        if let Some(k) = self.files.keys().find(|k| k.to_lowercase() == lower) {
            return Some(k);
        }
        let base = |s: &str| s.rsplit('/').next().unwrap_or(s).to_lowercase();
        let wanted = base(name);
        let same_base: Vec<&String> = self.files.keys().filter(|k| base(k) == wanted).collect();
        if same_base.len() == 1 {
            return Some(same_base[0]);
        }
        if let Some(near) = crate::tomlfile::nearest(name, self.files.keys().map(|s| s.as_str())) {
            return Some(near);
        }
        // A typo in the name of a file that sits in a subfolder.
        let bases: Vec<String> = self.files.keys().map(|k| base(k)).collect();
        let near = crate::tomlfile::nearest(&wanted, bases.iter().map(|s| s.as_str()))?;
        let mut matches = self.files.keys().filter(|k| base(k) == near);
        let first = matches.next()?;
        matches.next().is_none().then_some(first.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nfd_uploads_match_nfc_names_and_typos_get_suggestions() {
        let dir = tempfile::tempdir().unwrap();
        let nfd: String = "Thông báo.mp3".nfd().collect();
        std::fs::write(dir.path().join(&nfd), b"x").unwrap();
        std::fs::create_dir_all(dir.path().join("dai-hoi")).unwrap();
        std::fs::write(dir.path().join("dai-hoi/ban-tin-1.mp3"), b"x").unwrap();
        std::fs::create_dir_all(dir.path().join("rejected")).unwrap();
        std::fs::write(dir.path().join("rejected/bad.mp3"), b"x").unwrap();
        std::fs::write(dir.path().join(".hidden.mp3.filepart"), b"x").unwrap();
        let lib = Library::scan(dir.path()).unwrap();
        let e = lib.find("Thông báo.mp3").expect("found by its NFC name");
        assert_eq!(e.rel, nfd);
        assert_eq!(lib.names().count(), 2);
        assert_eq!(lib.suggest("thông báo.mp3"), Some("Thông báo.mp3"));
        assert_eq!(lib.suggest("ban-tin-1.mp3"), Some("dai-hoi/ban-tin-1.mp3"));
        assert_eq!(
            lib.suggest("dai-hoi/ban-tin-l.mp3"),
            Some("dai-hoi/ban-tin-1.mp3")
        );
        assert_eq!(lib.suggest("ban-tin-l.mp3"), Some("dai-hoi/ban-tin-1.mp3"));
        assert_eq!(lib.suggest("something-else.mp3"), None);
    }
}
