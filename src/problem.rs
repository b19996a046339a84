//! A problem found in an operator's file: where it is (path, line, column) and
//! what to do about it. Problems are values, collected and printed by the
//! commands; nothing here prints or decides exit codes.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// How bad a problem is: errors stop a broadcast or a file from working,
/// warnings are worth a look but change nothing on air.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// It stops a broadcast or a file from working.
    Error,
    /// Worth a look; it changes nothing on air.
    Warning,
}

/// One problem, located in a file. Line and column are 1-based; the column
/// counts characters, as an editor does. Line 0 means the problem is the
/// file as a whole (missing, unreadable).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Problem {
    /// Error or warning.
    pub severity: Severity,
    /// The path as the operator should type it: relative to the current
    /// folder when the file is below it, absolute otherwise.
    pub path: String,
    /// The line, from 1; 0 for the file as a whole.
    pub line: u32,
    /// The column in characters, from 1.
    pub column: u32,
    /// What is wrong and what to do, in the operator's language.
    pub message: String,
}

impl Problem {
    /// An error at `line`, `column` of `path`.
    pub fn error(path: &Path, line: u32, column: u32, message: String) -> Problem {
        Problem {
            severity: Severity::Error,
            path: display_path(path),
            line,
            column,
            message,
        }
    }

    /// A warning at `line`, `column` of `path`.
    pub fn warning(path: &Path, line: u32, column: u32, message: String) -> Problem {
        Problem {
            severity: Severity::Warning,
            ..Problem::error(path, line, column, message)
        }
    }

    /// True for an error, false for a warning.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // In the operator's language (see `lang::operator`): "lỗi",
        // "cảnh báo" when the config says Vietnamese.
        let lang = crate::lang::operator();
        let sev = match self.severity {
            Severity::Error => lang.pick("lỗi", "error"),
            Severity::Warning => lang.pick("cảnh báo", "warning"),
        };
        if self.line == 0 {
            // No position: the file itself is the problem (e.g. it is missing).
            return write!(f, "{}: {}: {}", self.path, sev, self.message);
        }
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.path, self.line, self.column, sev, self.message
        )
    }
}

/// Sorts problems by file and position and drops exact repeats (the same
/// missing file is found once per planned day).
pub fn sort_dedup(problems: &mut Vec<Problem>) {
    problems.sort_by(|a, b| {
        (&a.path, a.line, a.column, a.severity, &a.message)
            .cmp(&(&b.path, b.line, b.column, b.severity, &b.message))
    });
    problems.dedup();
}

/// A path as the operator should see it: relative to the current folder when
/// it lies below it, else absolute.
pub fn display_path(path: &Path) -> String {
    let abs: PathBuf = if path.is_absolute() {
        path.to_path_buf()
    } else {
        match std::env::current_dir() {
            Ok(cwd) => cwd.join(path),
            Err(_) => return path.display().to_string(),
        }
    };
    let abs = normalize(&abs);
    if let Ok(cwd) = std::env::current_dir()
        && let Ok(rel) = abs.strip_prefix(normalize(&cwd))
        && !rel.as_os_str().is_empty()
    {
        return rel.display().to_string();
    }
    abs.display().to_string()
}

/// Removes `.` and folds `..` lexically, so that `config/../playlists` shows
/// as `playlists`.
pub fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}
