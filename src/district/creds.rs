//! The credentials file (`[district] credentials`): a TOML file of two
//! keys, `username` and `password`, readable by loa only. A file others
//! can read is refused (the password would be anyone's on the box), with
//! the command that fixes it.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::lang::Lang;
use crate::problem::display_path;
use crate::tr;

/// A user name and password for the broker.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The broker account.
    pub username: String,
    /// Its password.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"***")
            .finish()
    }
}

/// Why the credentials cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CredsError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
    /// Group or others may read (or write) it.
    #[error("{path} is readable by others (mode {mode:o})")]
    TooOpen {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// Not TOML with `username` and `password`.
    #[error("{path} is not username/password TOML: {detail}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
}

impl CredsError {
    /// What went wrong and what to do, in the operator's language.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            CredsError::Unreadable { path, source } => {
                let (shown, why) = (display_path(path), crate::tomlfile::io_reason(source, lang));
                tr!(
                    lang,
                    "Không đọc được tệp mật khẩu kết nối huyện {shown} ({why}); hãy kiểm tra [district] credentials.",
                    "cannot read the district credentials file {shown} ({why}); check [district] credentials"
                )
            }
            CredsError::TooOpen { path, mode } => {
                let shown = display_path(path);
                let mode = format!("{:o}", mode & 0o777);
                tr!(
                    lang,
                    "Tệp mật khẩu kết nối huyện {shown} để người khác đọc được (quyền {mode}), nên loa không dùng nó và không kết nối với huyện. Hãy chạy: sudo chown loa:loa {shown} && sudo chmod 600 {shown}",
                    "the district credentials file {shown} can be read by others (mode {mode}), so loa does not use it and does not connect to the district. Run: sudo chown loa:loa {shown} && sudo chmod 600 {shown}"
                )
            }
            CredsError::Malformed { path, detail } => {
                let shown = display_path(path);
                tr!(
                    lang,
                    "Tệp mật khẩu kết nối huyện {shown} phải có hai dòng username = \"...\" và password = \"...\" ({detail}).",
                    "the district credentials file {shown} must hold username = \"...\" and password = \"...\" ({detail})"
                )
            }
        }
    }
}

/// Reads the credentials file, refusing one that group or others can
/// read or write.
pub fn load(path: &Path) -> Result<Credentials, CredsError> {
    let unreadable = |source| CredsError::Unreadable {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(unreadable)?;
    let mode = meta.permissions().mode();
    if mode & 0o077 != 0 {
        return Err(CredsError::TooOpen {
            path: path.to_path_buf(),
            mode,
        });
    }
    let text = std::fs::read_to_string(path).map_err(unreadable)?;
    let malformed = |detail: String| CredsError::Malformed {
        path: path.to_path_buf(),
        detail,
    };
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| malformed(e.message().to_string()))?;
    let get = |k: &str| -> Result<String, CredsError> {
        match table.get(k) {
            Some(toml::Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            _ => Err(malformed(format!("no {k}"))),
        }
    };
    Ok(Credentials {
        username: get("username")?,
        password: get("password")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, text: &str, mode: u32) -> PathBuf {
        let p = dir.join("district.secret");
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        p
    }

    #[test]
    fn a_private_file_is_read_and_an_open_one_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "username = \"xa-an-binh\"\npassword = \"s3cret\"\n",
            0o600,
        );
        let c = load(&p).unwrap();
        assert_eq!(
            (c.username.as_str(), c.password.as_str()),
            ("xa-an-binh", "s3cret")
        );
        assert!(!format!("{c:?}").contains("s3cret"));
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = load(&p).unwrap_err();
        assert!(matches!(e, CredsError::TooOpen { .. }));
        let m = e.message(Lang::En);
        assert!(m.contains("chmod 600") && m.contains("644"), "{m}");
        assert!(e.message(Lang::Vi).contains("người khác đọc được"));
        let p = write(dir.path(), "username = \"x\"\n", 0o600);
        assert!(load(&p).unwrap_err().message(Lang::En).contains("password"));
    }
}
