//! Reading the operator's TOML files (config and playlists) with positions, and
//! walking their tables key by key so that every mistake becomes a located
//! [`Problem`] in the operator's language. It knows nothing of what the keys
//! mean: config.rs and playlist/ say that.
//!
//! We walk toml's spanned document tree instead of deriving serde structs,
//! because serde's messages are fixed English text ("unknown field `x`"), and
//! the operator reads Vietnamese.

use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::lang::Lang;
use crate::problem::Problem;
use crate::tr;

/// A TOML file's text, with what is needed to turn byte offsets into lines
/// and columns.
pub struct Source {
    /// The file, as problems name it.
    pub path: PathBuf,
    /// Its whole text.
    pub text: String,
    line_starts: Vec<usize>,
}

impl Source {
    /// Reads a file; an unreadable or non-UTF-8 file becomes a problem at the
    /// place of the first bad byte.
    pub fn read(path: &Path, lang: Lang) -> Result<Source, Problem> {
        let bytes = read_bounded(path, lang)?;
        match String::from_utf8(bytes) {
            Ok(text) => Ok(Source::new(path, text)),
            Err(e) => {
                let good = e.utf8_error().valid_up_to();
                let bytes = e.into_bytes();
                let prefix = String::from_utf8_lossy(&bytes[..good]).into_owned();
                let src = Source::new(path, prefix);
                let (line, col) = src.line_col(good);
                Err(Problem::error(
                    path,
                    line,
                    col,
                    tr!(
                        lang,
                        "Tệp không phải là văn bản UTF-8 (có lẽ đã được lưu bằng bảng mã khác, như Windows-1258 hoặc TCVN3). Hãy mở tệp bằng Notepad++ hoặc VS Code rồi lưu lại với bảng mã UTF-8.",
                        "the file is not UTF-8 text (it was probably saved in another encoding, such as Windows-1258 or TCVN3); open it in Notepad++ or VS Code and save it as UTF-8"
                    ),
                ))
            }
        }
    }

    /// The text `text` of the file `path` (tests give it directly).
    pub fn new(path: &Path, text: String) -> Source {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Source {
            path: path.to_path_buf(),
            text,
            line_starts,
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (u32, u32) {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line];
        let mut end = offset;
        while !self.text.is_char_boundary(end) {
            end -= 1;
        }
        let col = self.text[start..end].chars().count();
        (line as u32 + 1, col as u32 + 1)
    }

    /// An error at the start of `span` (byte offsets into the text).
    pub fn error(&self, span: &Range<usize>, message: String) -> Problem {
        let (line, col) = self.line_col(span.start);
        Problem::error(&self.path, line, col, message)
    }

    /// A warning at the start of `span` (byte offsets into the text).
    pub fn warning(&self, span: &Range<usize>, message: String) -> Problem {
        let (line, col) = self.line_col(span.start);
        Problem::warning(&self.path, line, col, message)
    }

    /// Parses the text as a TOML document; a syntax error becomes a problem at
    /// its place, with the parser's own explanation kept.
    pub fn parse(&self, lang: Lang) -> Result<Spanned<DeTable<'_>>, Problem> {
        DeTable::parse(&self.text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            // Curly quotes, as word processors and phones type them: TOML
            // takes only straight ones.
            let (line, _) = self.line_col(span.start);
            let text_line = self.text.lines().nth(line as usize - 1).unwrap_or("");
            if text_line.contains(['“', '”', '‘', '’']) {
                return self.error(
                    &span,
                    tr!(
                        lang,
                        "Dòng này có dấu ngoặc kép cong “ ” (do Word hoặc điện thoại tự đổi); hãy gõ lại bằng dấu ngoặc kép thẳng \" \", ví dụ at = \"06:00\"",
                        "this line has curly quotes “ ” (a word processor or phone typed them); type them again as straight quotes \" \", e.g. at = \"06:00\""
                    ),
                );
            }
            let detail = e.message().trim().to_string();
            self.error(
                &span,
                tr!(
                    lang,
                    "Sai cú pháp TOML ({detail}); hãy kiểm tra dấu ngoặc kép, dấu bằng và dấu phẩy ở dòng này.",
                    "TOML syntax error ({detail}); check the quotes, equals signs and commas on this line"
                ),
            )
        })
    }
}

/// The most a config or playlist file may hold: a few kilobytes in
/// practice; anything far bigger is not one (a device, a mistake).
pub const MAX_FILE: u64 = 1_000_000;

/// Reads a config or playlist file: a regular file (a pipe would block
/// forever, /dev/zero never end) of at most [`MAX_FILE`] bytes; anything
/// else is a problem saying what it is instead.
pub fn read_bounded(path: &Path, lang: Lang) -> Result<Vec<u8>, Problem> {
    use std::io::Read;
    let problem = |reason: String| {
        Problem::error(
            path,
            1,
            1,
            tr!(
                lang,
                "Không đọc được tệp ({reason}).",
                "cannot read the file: {reason}"
            ),
        )
    };
    let file = crate::media::folder::open_given(path).map_err(|e| match e {
        crate::media::folder::OpenError::Io(io) => problem(io_reason(&io, lang)),
        crate::media::folder::OpenError::NotRegular(kind) => {
            let what = kind.words(lang);
            problem(tr!(
                lang,
                "đây là {what}, không phải tệp văn bản",
                "it is {what}, not a text file"
            ))
        }
        other => problem(other.to_string()),
    })?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| problem(io_reason(&e, lang)))?;
    if bytes.len() as u64 > MAX_FILE {
        let mb = MAX_FILE / 1_000_000;
        return Err(problem(tr!(
            lang,
            "tệp lớn hơn {mb} MB, không thể là tệp cấu hình hay danh sách phát",
            "it is larger than {mb} MB, which no config or playlist is"
        )));
    }
    Ok(bytes)
}

/// A short reason for an IO error, in the operator's language.
pub fn io_reason(e: &std::io::Error, lang: Lang) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        NotFound => lang.pick("không tồn tại", "no such file").to_string(),
        PermissionDenied => lang
            .pick("không có quyền đọc", "permission denied")
            .to_string(),
        IsADirectory => lang
            .pick(
                "đây là thư mục, không phải tệp",
                "it is a folder, not a file",
            )
            .to_string(),
        _ => e.to_string(),
    }
}

/// The kind of a TOML value, in words the operator understands.
pub fn kind_name(v: &DeValue<'_>, lang: Lang) -> &'static str {
    match v {
        DeValue::String(_) => lang.pick("chữ", "text"),
        DeValue::Integer(_) => lang.pick("một số nguyên", "a whole number"),
        DeValue::Float(_) => lang.pick("một số thập phân", "a decimal number"),
        DeValue::Boolean(_) => lang.pick("true/false", "true/false"),
        DeValue::Datetime(_) => lang.pick("ngày giờ không có ngoặc kép", "an unquoted date"),
        DeValue::Array(_) => lang.pick("một danh sách [ ]", "a list [ ]"),
        DeValue::Table(_) => lang.pick("một bảng", "a table"),
    }
}

/// Collects problems while walking one file.
pub struct Walk<'s> {
    /// The file being walked.
    pub src: &'s Source,
    /// The language of the problems' messages.
    pub lang: Lang,
    /// What was found wrong so far.
    pub problems: Vec<Problem>,
}

/// A TOML value with its span (byte offsets into the text).
pub type Value<'i> = Spanned<DeValue<'i>>;

impl<'s> Walk<'s> {
    /// A walk over `src`, with messages in `lang`.
    pub fn new(src: &'s Source, lang: Lang) -> Walk<'s> {
        Walk {
            src,
            lang,
            problems: Vec::new(),
        }
    }

    /// Records an error at the start of `span`.
    pub fn error(&mut self, span: &Range<usize>, message: String) {
        let p = self.src.error(span, message);
        self.problems.push(p);
    }

    /// Records a warning at the start of `span`.
    pub fn warning(&mut self, span: &Range<usize>, message: String) {
        let p = self.src.warning(span, message);
        self.problems.push(p);
    }

    /// Reports every key of `table` not in `allowed`, suggesting the nearest
    /// allowed key. `section` names the table for the message ("`[relay]`").
    pub fn unknown_keys(&mut self, table: &DeTable<'_>, allowed: &[&str], section: &str) {
        let lang = self.lang;
        for (key, _) in table.iter() {
            let name = key.get_ref().as_ref();
            if allowed.contains(&name) {
                continue;
            }
            let known = allowed.join(", ");
            let msg = match nearest(name, allowed.iter().copied()) {
                Some(s) => tr!(
                    lang,
                    "Không có khóa `{name}` trong {section}. Có phải là `{s}` không? Các khóa hợp lệ: {known}.",
                    "unknown key `{name}` in {section}; did you mean `{s}`? Allowed keys: {known}"
                ),
                None => tr!(
                    lang,
                    "Không có khóa `{name}` trong {section}; hãy xóa hoặc sửa dòng này. Các khóa hợp lệ: {known}.",
                    "unknown key `{name}` in {section}; remove or correct it. Allowed keys: {known}"
                ),
            };
            self.error(&key.span(), msg);
        }
    }

    fn wrong_type(&mut self, key: &str, v: &Value<'_>, expected: &str, example: &str) {
        let lang = self.lang;
        let found = kind_name(v.get_ref(), lang);
        self.error(
            &v.span(),
            tr!(
                lang,
                "`{key}` phải là {expected}, nhưng ở đây lại là {found}. Ví dụ: {example}",
                "`{key}` must be {expected}, but it is {found}; for example: {example}"
            ),
        );
    }

    /// A string value, or a problem saying what was expected.
    pub fn string(&mut self, key: &str, v: &Value<'_>, example: &str) -> Option<String> {
        match v.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            _ => {
                let expected = self.lang.pick("chữ đặt trong ngoặc kép", "quoted text");
                self.wrong_type(key, v, expected, example);
                None
            }
        }
    }

    /// A boolean value, or a problem saying what was expected.
    pub fn boolean(&mut self, key: &str, v: &Value<'_>) -> Option<bool> {
        match v.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            _ => {
                let expected = self.lang.pick("true hoặc false", "true or false");
                self.wrong_type(key, v, expected, &format!("{key} = true"));
                None
            }
        }
    }

    /// A whole number, or a problem saying what was expected. One too large
    /// for an `i64` reads as `i64::MAX` (or `MIN`), for the caller's range
    /// check to report.
    pub fn integer(&mut self, key: &str, v: &Value<'_>, example: &str) -> Option<i64> {
        match v.get_ref() {
            DeValue::Integer(i) => {
                let digits = i.as_str().replace('_', "");
                match i64::from_str_radix(&digits, i.radix()) {
                    Ok(n) => Some(n),
                    // Beyond what any setting takes: the caller's range
                    // check says what is allowed.
                    Err(_) if digits.starts_with('-') => Some(i64::MIN),
                    Err(_) => Some(i64::MAX),
                }
            }
            _ => {
                let expected = self.lang.pick("một số nguyên", "a whole number");
                self.wrong_type(key, v, expected, example);
                None
            }
        }
    }

    /// A number; whole numbers are accepted where decimals are ("-3" as "-3.0").
    pub fn number(&mut self, key: &str, v: &Value<'_>, example: &str) -> Option<f64> {
        match v.get_ref() {
            DeValue::Float(f) => {
                let s = f.as_str().replace('_', "");
                match s.parse::<f64>() {
                    Ok(x) if x.is_finite() => Some(x),
                    _ => {
                        let lang = self.lang;
                        self.error(
                            &v.span(),
                            tr!(
                                lang,
                                "`{key}` phải là một số bình thường. Ví dụ: {example}",
                                "`{key}` must be an ordinary number; for example: {example}"
                            ),
                        );
                        None
                    }
                }
            }
            DeValue::Integer(_) => self.integer(key, v, example).map(|n| n as f64),
            _ => {
                let expected = self.lang.pick("một số", "a number");
                self.wrong_type(key, v, expected, example);
                None
            }
        }
    }

    /// A list, or a problem saying what was expected.
    pub fn array<'v, 'i>(
        &mut self,
        key: &str,
        v: &'v Value<'i>,
        example: &str,
    ) -> Option<&'v [Value<'i>]> {
        match v.get_ref() {
            DeValue::Array(a) => Some(a),
            _ => {
                let expected = self
                    .lang
                    .pick("một danh sách trong ngoặc vuông [ ]", "a list in brackets");
                self.wrong_type(key, v, expected, example);
                None
            }
        }
    }

    /// A table, or a problem saying what was expected.
    pub fn table<'v, 'i>(
        &mut self,
        key: &str,
        v: &'v Value<'i>,
        example: &str,
    ) -> Option<&'v DeTable<'i>> {
        match v.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => {
                let expected = self.lang.pick("một bảng", "a table");
                self.wrong_type(key, v, expected, example);
                None
            }
        }
    }
}

/// The candidate closest to `word` by edit distance, if it is close enough to
/// be a likely typo (case and Unicode form are ignored when comparing).
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let w = word.to_lowercase();
    let limit = (w.chars().count() / 3).max(2);
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = strsim::levenshtein(&w, &c.to_lowercase());
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}
