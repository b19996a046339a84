//! Vietnamese text as it will be spoken: the normaliser that runs before
//! espeak-ng (voice `vi`). espeak-ng reads digits, dates, symbols and
//! abbreviations badly or not as a listener expects, so they become
//! Vietnamese words first: "7h30 ngày 19/01/2026" is spoken as "bảy giờ ba
//! mươi phút ngày mười chín tháng một năm hai nghìn không trăm hai mươi sáu".
//!
//! The text is cut into tokens (words, runs of digits, single symbols,
//! spaces, line breaks). At each token the rules are tried from the most
//! particular (phone numbers, times, dates) to the most general (a plain
//! number, a word); what no rule changes passes through as written.
//! Abbreviations come from a table, [`Abbreviations`]: the one shipped in
//! config/tts-abbreviations.toml, extended by the installer's own file.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;

use toml::Spanned;
use toml::de::DeValue;
use unicode_normalization::UnicodeNormalization;

use crate::lang::Lang;
use crate::problem::Problem;
use crate::tomlfile::{Source, Value, Walk, nearest};
use crate::tr;

/// The shipped table's text.
const BUILTIN: &str = include_str!("../../config/tts-abbreviations.toml");

/// The one table of an abbreviation file.
const SECTION: &str = "abbreviations";

/// The abbreviation table: whole words (case-sensitive as written) -> how they are read.
#[derive(Clone, Debug, Default)]
pub struct Abbreviations {
    /// Abbreviation -> its reading, both in NFC, the reading with single
    /// spaces.
    entries: BTreeMap<String, String>,
}

impl Abbreviations {
    /// The table shipped with loa (include_str!("../../config/tts-abbreviations.toml")).
    pub fn builtin() -> Abbreviations {
        let path = Path::new("config/tts-abbreviations.toml");
        match Abbreviations::parse(BUILTIN, path, crate::lang::operator()) {
            Ok(table) => table,
            Err(e) => {
                // A unit test parses the shipped file, so this is not
                // expected; speech without abbreviations beats no speech.
                tracing::error!(
                    error = %e,
                    "{}",
                    crate::lang::log(
                        "bảng chữ viết tắt kèm theo loa bị lỗi; sẽ đọc mà không thay chữ viết tắt",
                        "the abbreviation table shipped with loa is broken; reading without it"
                    )
                );
                Abbreviations::default()
            }
        }
    }

    /// Parses a table file's text; `path` is only for messages. Errors name the line and say what to fix, in `lang`.
    pub fn parse(text: &str, path: &Path, lang: Lang) -> Result<Abbreviations, String> {
        let src = Source::new(path, text.to_string());
        let doc = src.parse(lang).map_err(|p| located(&p, lang))?;
        let mut walk = Walk::new(&src, lang);
        let mut entries = BTreeMap::new();
        for (key, value) in doc.get_ref().iter() {
            let name = key.get_ref().as_ref();
            if name != SECTION {
                let message = top_level_message(name, value, lang);
                walk.error(&key.span(), message);
                continue;
            }
            let Some(table) = walk.table(SECTION, value, "[abbreviations]") else {
                continue;
            };
            for (k, v) in table.iter() {
                if let Some((abbr, reading)) = entry(&mut walk, k, v) {
                    entries.insert(abbr, reading);
                }
            }
        }
        if walk.problems.is_empty() {
            Ok(Abbreviations { entries })
        } else {
            let lines: Vec<String> = walk.problems.iter().map(|p| located(p, lang)).collect();
            Err(lines.join("\n"))
        }
    }

    /// Adds (or overrides) entries from another table (the installer's file over the shipped one).
    pub fn extend(&mut self, other: Abbreviations) {
        self.entries.extend(other.entries);
    }

    /// How many entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the table has no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// One `KEY = "reading"` line of the table, checked.
fn entry(
    walk: &mut Walk<'_>,
    key: &Spanned<Cow<'_, str>>,
    value: &Value<'_>,
) -> Option<(String, String)> {
    let lang = walk.lang;
    let abbr: String = key.get_ref().trim().nfc().collect();
    let how = lang.pick("cách đọc", "how it is read");
    let example = format!("\"{abbr}\" = \"{how}\"");
    let reading = walk.string(&abbr, value, &example)?;
    if !abbr.starts_with(char::is_alphabetic) {
        walk.error(
            &key.span(),
            tr!(
                lang,
                "Chữ viết tắt `{abbr}` phải bắt đầu bằng một chữ cái; hãy sửa hoặc xóa dòng này.",
                "the abbreviation `{abbr}` must begin with a letter; correct or remove this line"
            ),
        );
        return None;
    }
    let words: Vec<&str> = reading.split_whitespace().collect();
    let reading: String = words.join(" ").nfc().collect();
    if reading.is_empty() {
        walk.error(
            &value.span(),
            tr!(
                lang,
                "Chưa có cách đọc cho `{abbr}`: hãy viết cách đọc vào giữa hai dấu ngoặc kép, ví dụ {example}",
                "`{abbr}` has no reading: write how it is read between the quotes, e.g. {example}"
            ),
        );
        return None;
    }
    Some((abbr, reading))
}

/// What is wrong with a top-level key other than `[abbreviations]`.
fn top_level_message(name: &str, value: &Value<'_>, lang: Lang) -> String {
    if let DeValue::String(_) = value.get_ref() {
        return tr!(
            lang,
            "`{name}` nằm ngoài bảng [abbreviations]: hãy chuyển dòng này xuống dưới dòng [abbreviations].",
            "`{name}` is outside the [abbreviations] table: move this line below the [abbreviations] line"
        );
    }
    match nearest(name, [SECTION]) {
        Some(s) => tr!(
            lang,
            "Không có mục `{name}` trong tệp chữ viết tắt. Có phải là `[{s}]` không?",
            "unknown key `{name}` in the abbreviation file; did you mean `[{s}]`?"
        ),
        None => tr!(
            lang,
            "Không có mục `{name}` trong tệp chữ viết tắt; tệp chỉ có bảng [abbreviations]. Hãy xóa hoặc sửa dòng này.",
            "unknown key `{name}` in the abbreviation file, which has only the [abbreviations] table; remove or correct this line"
        ),
    }
}

/// A problem as one line: "path:line:column: error: message".
fn located(p: &Problem, lang: Lang) -> String {
    let label = lang.pick("lỗi", "error");
    format!("{}:{}:{}: {label}: {}", p.path, p.line, p.column, p.message)
}

/// The text as it will be spoken: numbers, dates, times, percentages, units, currency,
/// phone numbers, Roman numerals after "Đại hội"/"khóa", abbreviations, all as Vietnamese words.
pub fn normalize(text: &str, abbr: &Abbreviations) -> String {
    // Invisible characters pasted from word processors would split words.
    let text: String = text
        .nfc()
        .filter(|c| {
            !matches!(
                c,
                '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{FEFF}' | '\u{AD}'
            )
        })
        .collect();
    let mut keys: Vec<(&str, &str)> = abbr
        .entries
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    // The longest first: "TP.HCM" before "TP.".
    keys.sort_by_key(|k| std::cmp::Reverse(k.0.len()));
    let mut n = Normalizer {
        text: &text,
        toks: lex(&text),
        keys,
        out: Out::default(),
        numeric_end: None,
        phone_end: None,
    };
    n.run();
    n.out.finish()
}

/// A whole number in Vietnamese words: 15 -> "mười lăm", 2026 -> "hai nghìn không trăm hai mươi sáu".
pub fn number_words(n: u64) -> String {
    if n == 0 {
        return DIGITS[0].to_string();
    }
    let mut words = Vec::new();
    say(n, false, &mut words);
    words.join(" ")
}

/// The digits as words.
const DIGITS: [&str; 10] = [
    "không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín",
];

/// Says `n` (> 0). `inner` when something was said before it in the same
/// number, so that a group under a hundred reads in full ("một nghìn không
/// trăm linh năm").
fn say(n: u64, inner: bool, words: &mut Vec<&'static str>) {
    const BILLION: u64 = 1_000_000_000;
    if n >= BILLION {
        say(n / BILLION, inner, words);
        words.push("tỷ");
        let rest = n % BILLION;
        if rest > 0 {
            say(rest, true, words);
        }
        return;
    }
    let mut inner = inner;
    for (scale, name) in [(1_000_000, "triệu"), (1_000, "nghìn"), (1, "")] {
        let group = n / scale % 1000;
        if group == 0 {
            continue;
        }
        say_group(group, inner, words);
        if !name.is_empty() {
            words.push(name);
        }
        inner = true;
    }
}

/// Says a group of three digits (1..=999); `full` reads "không trăm" and
/// "linh" where a group after a higher one needs them.
fn say_group(g: u64, full: bool, words: &mut Vec<&'static str>) {
    let (h, t, u) = (
        (g / 100) as usize,
        (g / 10 % 10) as usize,
        (g % 10) as usize,
    );
    let hundreds = full || h > 0;
    if hundreds {
        words.push(DIGITS[h]);
        words.push("trăm");
    }
    match t {
        0 => {
            if u > 0 {
                if hundreds {
                    words.push("linh");
                }
                words.push(DIGITS[u]);
            }
        }
        1 => {
            words.push("mười");
            match u {
                0 => {}
                5 => words.push("lăm"),
                _ => words.push(DIGITS[u]),
            }
        }
        _ => {
            words.push(DIGITS[t]);
            words.push("mươi");
            match u {
                0 => {}
                1 => words.push("mốt"),
                4 => words.push("tư"),
                5 => words.push("lăm"),
                _ => words.push(DIGITS[u]),
            }
        }
    }
}

/// Digits read one by one: "114" -> "một một bốn".
fn digit_words(digits: &str) -> String {
    let words: Vec<&str> = digits
        .chars()
        .filter_map(|c| c.to_digit(10))
        .map(|d| DIGITS[d as usize])
        .collect();
    words.join(" ")
}

/// A whole number as written: by its value, except a code with leading
/// zeros ("007") and a number too long for any value, which are read digit
/// by digit.
fn read_int(digits: &str) -> String {
    if digits.len() >= 3 && digits.starts_with('0') {
        return digit_words(digits);
    }
    match digits.parse::<u64>() {
        Ok(n) => number_words(n),
        Err(_) => digit_words(digits),
    }
}

/// The part after the decimal comma: leading zeros one by one, the rest as
/// a number ("05" -> "không năm", "75" -> "bảy mươi lăm").
fn read_fraction(digits: &str) -> String {
    let rest = digits.trim_start_matches('0');
    let mut words = vec![DIGITS[0]; digits.len() - rest.len()];
    let tail = match rest.parse::<u64>() {
        Ok(n) => number_words(n),
        Err(_) => digit_words(rest),
    };
    if !rest.is_empty() {
        words.push(&tail);
    }
    words.join(" ")
}

/// A month's number as it is read after "tháng": 4 is "tư".
fn month_words(m: u64) -> String {
    if m == 4 {
        "tư".to_string()
    } else {
        number_words(m)
    }
}

/// A Roman numeral of I, V, X and L in its usual form ("XIV"), as a number.
/// C, D and M are left out: after the trigger words they are names, not
/// numbers, and no congress or term is numbered that high.
fn roman(word: &str) -> Option<u64> {
    if word.is_empty() || word.len() > 8 {
        return None;
    }
    let values: Vec<i64> = word
        .chars()
        .map(|c| match c {
            'I' => Some(1),
            'V' => Some(5),
            'X' => Some(10),
            'L' => Some(50),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let mut total = 0;
    for (k, v) in values.iter().enumerate() {
        if values.get(k + 1).is_some_and(|next| next > v) {
            total -= v;
        } else {
            total += v;
        }
    }
    let total = u64::try_from(total).ok()?;
    // Only the usual spelling: "IIII" or "VX" are not numerals.
    let mut canonical = String::new();
    let mut rest = total;
    for (v, s) in [
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ] {
        while rest >= v {
            canonical.push_str(s);
            rest -= v;
        }
    }
    (canonical == word && total > 0).then_some(total)
}

/// How a unit written after a number is read.
fn unit_reading(word: &str) -> Option<&'static str> {
    Some(match word {
        "km" | "Km" | "KM" => "ki lô mét",
        "m" => "mét",
        "cm" => "xăng ti mét",
        "mm" => "mi li mét",
        "ha" | "Ha" => "héc ta",
        "kg" | "Kg" | "KG" => "ki lô gam",
        "l" | "L" => "lít",
        "ml" => "mi li lít",
        "kW" | "kw" | "KW" => "ki lô oát",
        "kWh" | "kwh" | "KWh" => "ki lô oát giờ",
        _ => return None,
    })
}

/// Units that take a power: "m2" is "mét vuông", "m3" "mét khối".
fn takes_power(word: &str) -> bool {
    matches!(word, "m" | "km" | "Km" | "cm" | "mm")
}

/// What a word after "/" following a quantity reads as, after "một": "km/h"
/// is "ki lô mét một giờ", "đ/người" "đồng một người".
fn per_reading(word: &str) -> Option<&str> {
    if let Some(r) = unit_reading(word) {
        return Some(r);
    }
    match word {
        "h" => Some("giờ"),
        "s" => Some("giây"),
        "giờ" | "ngày" | "tuần" | "tháng" | "năm" | "quý" | "người" | "hộ" | "khẩu" | "lần"
        | "suất" | "con" | "cái" | "chiếc" | "buổi" | "lượt" | "tấn" | "lít" | "sào" | "mẫu"
        | "bao" | "thùng" | "phòng" | "xã" | "thôn" | "em" | "học" | "ca" | "kỳ" | "tạ" => {
            Some(word)
        }
        _ => None,
    }
}

/// Words after "3-5" that make it a range ("3-5 ngày"), not a date.
const COUNTERS: &[&str] = &[
    "người", "ngày", "tháng", "năm", "tuần", "giờ", "phút", "giây", "tuổi", "lần", "hộ", "con",
    "cái", "chiếc", "buổi", "tấn", "tạ", "lít", "đồng", "đ", "nghìn", "ngàn", "triệu", "tỷ", "tỉ",
    "trăm", "sào", "mẫu", "lượt", "suất", "em", "cháu", "học", "độ", "phần", "cấp",
];

/// Words before "10-12" or "12/3" that make it a range or a number, not a
/// date: "gió cấp 10-12", "số 12/3".
const NOT_BEFORE_DATE: &[&str] = &[
    "cấp", "giật", "khoảng", "số", "lớp", "tổ", "đội", "tháng", "mức", "hạng", "phòng", "thôn",
    "xóm", "ấp", "bản", "khu", "lô", "nhà", "tuổi", "điểm", "tỷ", "tỉ", "thứ",
];

/// Words before a number that mean it is a phone number; the number is
/// read digit by digit. The second field is the fewest digits it takes:
/// "gọi 114" is a number to call, "gọi 15 người" is not.
const PHONE_TRIGGERS: &[(&str, usize)] = &[
    ("điện thoại", 1),
    ("sđt", 1),
    ("đt", 1),
    ("hotline", 1),
    ("đường dây nóng", 1),
    ("fax", 1),
    ("zalo", 1),
    ("gọi", 3),
];

/// Words before a Roman numeral that make it a number: "Đại hội XIV",
/// "khóa XV", "lần thứ XIV" (through "thứ"), "thế kỷ XXI", "quý III".
const ROMAN_TRIGGERS: &[&str] = &["đại hội", "khóa", "khoá", "thứ", "thế kỷ", "thế kỉ", "quý"];

/// Scale words after which "đ" is a currency: "1,5 triệu đ".
const SCALES: &[&str] = &["trăm", "nghìn", "ngàn", "triệu", "tỷ", "tỉ"];

/// The kinds of token the text is cut into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A run of letters.
    Word,
    /// A run of ASCII digits.
    Num,
    /// Any other single character.
    Sym,
    /// A run of whitespace without a line break.
    Space,
    /// A run of whitespace with one or more line breaks.
    Newline,
}

/// One token: its kind, its text and where it starts (a byte offset).
#[derive(Clone, Copy, Debug)]
struct Tok<'a> {
    kind: Kind,
    text: &'a str,
    start: usize,
}

/// The kind of token a character belongs to.
fn class(c: char) -> Kind {
    if c.is_ascii_digit() {
        Kind::Num
    } else if c.is_alphabetic() || ('\u{300}'..='\u{36F}').contains(&c) {
        Kind::Word
    } else if c == '\n' {
        Kind::Newline
    } else if c.is_whitespace() {
        Kind::Space
    } else {
        Kind::Sym
    }
}

/// Cuts the text into tokens.
fn lex(text: &str) -> Vec<Tok<'_>> {
    let mut toks: Vec<Tok<'_>> = Vec::new();
    for (start, c) in text.char_indices() {
        let kind = class(c);
        let end = start + c.len_utf8();
        let blank = |k: Kind| matches!(k, Kind::Space | Kind::Newline);
        if let Some(last) = toks.last_mut()
            && kind != Kind::Sym
            && (last.kind == kind || (blank(kind) && blank(last.kind)))
        {
            last.text = &text[last.start..end];
            if kind == Kind::Newline {
                last.kind = Kind::Newline;
            }
            continue;
        }
        toks.push(Tok {
            kind,
            text: &text[start..end],
            start,
        });
    }
    toks
}

/// The spoken text being built.
#[derive(Default)]
struct Out {
    s: String,
}

impl Out {
    /// Appends words, with a space before them when they would otherwise
    /// run into a word or number before.
    fn word(&mut self, w: &str) {
        let (Some(last), Some(first)) = (self.s.chars().next_back(), w.chars().next()) else {
            self.s.push_str(w);
            return;
        };
        if last.is_alphanumeric() && first.is_alphanumeric() {
            self.s.push(' ');
        }
        self.s.push_str(w);
    }

    /// Appends text as it is (symbols).
    fn raw(&mut self, t: &str) {
        self.s.push_str(t);
    }

    /// Appends punctuation right after the last word.
    fn punct(&mut self, t: &str) {
        let kept = self.s.trim_end_matches(' ').len();
        self.s.truncate(kept);
        self.s.push_str(t);
    }

    /// One space, unless there is one already or nothing yet.
    fn space(&mut self) {
        if self
            .s
            .chars()
            .next_back()
            .is_some_and(|c| !c.is_whitespace())
        {
            self.s.push(' ');
        }
    }

    /// Line breaks: one, or two for a blank line between paragraphs.
    fn newline(&mut self, count: usize) {
        let kept = self.s.trim_end_matches(' ').len();
        self.s.truncate(kept);
        if self.s.is_empty() {
            return;
        }
        let have = self.s.len() - self.s.trim_end_matches('\n').len();
        for _ in have..count.min(2) {
            self.s.push('\n');
        }
    }

    /// True at the start of the text or of a line.
    fn at_line_start(&self) -> bool {
        let t = self.s.trim_end_matches(' ');
        t.is_empty() || t.ends_with('\n')
    }

    /// The finished text.
    fn finish(self) -> String {
        self.s.trim().to_string()
    }
}

/// A number as written: the digits of its whole part (thousands separators
/// removed) and of its decimal part.
struct Number<'a> {
    int: String,
    frac: Option<&'a str>,
}

impl Number<'_> {
    /// The number in words: "3,5" -> "ba phẩy năm".
    fn words(&self) -> String {
        let mut s = read_int(&self.int);
        if let Some(f) = self.frac {
            s.push_str(" phẩy ");
            s.push_str(&read_fraction(f));
        }
        s
    }

    /// Its value when it is a whole number.
    fn whole(&self) -> Option<u64> {
        match self.frac {
            None => self.int.parse().ok(),
            Some(_) => None,
        }
    }
}

/// The walk over the tokens, writing the spoken text.
struct Normalizer<'a> {
    /// The text (NFC) the tokens point into.
    text: &'a str,
    toks: Vec<Tok<'a>>,
    /// The abbreviation table, the longest key first.
    keys: Vec<(&'a str, &'a str)>,
    out: Out,
    /// The token just after the last number, date, time or quantity read:
    /// a "-" there is a range ("đến"), a "/" a rate ("một") or a ratio
    /// ("trên").
    numeric_end: Option<usize>,
    /// The token just after the last phone number read: "113, 114" reads
    /// the second one as a phone number too.
    phone_end: Option<usize>,
}

impl<'a> Normalizer<'a> {
    fn run(&mut self) {
        let mut i = 0;
        while i < self.toks.len() {
            let t = self.toks[i];
            i = match t.kind {
                Kind::Num => self.at_number(i),
                Kind::Word => self.at_word(i),
                Kind::Sym => self.at_symbol(i),
                Kind::Space => {
                    self.out.space();
                    i + 1
                }
                Kind::Newline => {
                    self.out.newline(t.text.matches('\n').count());
                    i + 1
                }
            };
        }
    }

    // Looking at tokens.

    fn kind(&self, i: usize) -> Option<Kind> {
        self.toks.get(i).map(|t| t.kind)
    }

    fn num(&self, i: usize) -> Option<&'a str> {
        self.toks
            .get(i)
            .filter(|t| t.kind == Kind::Num)
            .map(|t| t.text)
    }

    fn word(&self, i: usize) -> Option<&'a str> {
        self.toks
            .get(i)
            .filter(|t| t.kind == Kind::Word)
            .map(|t| t.text)
    }

    fn sym(&self, i: usize) -> Option<char> {
        self.toks
            .get(i)
            .filter(|t| t.kind == Kind::Sym)
            .and_then(|t| t.text.chars().next())
    }

    fn is_space(&self, i: usize) -> bool {
        self.kind(i) == Some(Kind::Space)
    }

    /// `i`, or the token after it when `i` is a space.
    fn skip_space(&self, i: usize) -> usize {
        if self.is_space(i) { i + 1 } else { i }
    }

    /// Up to three words just before token `i`, nearest first, lower case;
    /// only spaces may stand between them.
    fn words_before(&self, i: usize) -> Vec<String> {
        let mut words = Vec::new();
        let mut j = i;
        while j > 0 && words.len() < 3 {
            j -= 1;
            match self.toks[j].kind {
                Kind::Space => {}
                Kind::Word => words.push(self.toks[j].text.to_lowercase()),
                _ => break,
            }
        }
        words
    }

    /// Whether the words just before token `i` are `phrase` (lower case,
    /// words separated by one space).
    fn follows(&self, i: usize, phrase: &str) -> bool {
        let before = self.words_before(i);
        let words: Vec<&str> = phrase.split(' ').collect();
        words.len() <= before.len() && words.iter().rev().zip(&before).all(|(w, b)| w == b)
    }

    fn follows_any(&self, i: usize, phrases: &[&str]) -> bool {
        phrases.iter().any(|p| self.follows(i, p))
    }

    /// Whether a number, date, time or quantity ends just before token `i`
    /// (a space between allowed).
    fn number_ends_at(&self, i: usize) -> bool {
        self.numeric_end == Some(i)
            || (i > 0 && self.is_space(i - 1) && self.numeric_end == Some(i - 1))
    }

    /// Whether a quantity ends just before token `i`, or up to two words
    /// before it ("2 lần/ngày", "1,5 triệu đồng/năm").
    fn quantity_before(&self, i: usize) -> bool {
        let mut j = i;
        for _ in 0..3 {
            if self.number_ends_at(j) {
                return true;
            }
            if j == 0 || self.word(j - 1).is_none() {
                return false;
            }
            j -= 1;
            if j > 0 && self.is_space(j - 1) {
                j -= 1;
            }
        }
        false
    }

    // Numbers.

    fn at_number(&mut self, i: usize) -> usize {
        if let Some(end) = self.phone(i) {
            self.phone_end = Some(end);
            return end;
        }
        let end = match self.time(i).or_else(|| self.date(i)) {
            Some(end) => end,
            None => self.quantity(i),
        };
        self.numeric_end = Some(end);
        end
    }

    /// The groups of a number written in parts ("0912 345 678",
    /// "0912.345.678", "0987-654-321") starting at token `i`: for each
    /// group, the token after it and the digits so far, up to `max` digits.
    fn digit_groups(&self, i: usize, max: usize) -> Vec<(usize, String)> {
        let mut found = Vec::new();
        let mut digits = String::new();
        let mut j = i;
        while let Some(group) = self.num(j) {
            if digits.len() + group.len() > max {
                break;
            }
            digits.push_str(group);
            found.push((j + 1, digits.clone()));
            let separator = match self.toks.get(j + 1) {
                Some(t) if t.kind == Kind::Space => t.text.chars().count() == 1,
                Some(t) if t.kind == Kind::Sym => matches!(t.text, "." | "-"),
                _ => false,
            };
            if !separator {
                break;
            }
            j += 2;
        }
        found
    }

    /// A phone number at token `i`, read digit by digit: one starting with 0
    /// of 9 to 11 digits, or any number after "gọi", "điện thoại", "SĐT"...
    fn phone(&mut self, i: usize) -> Option<usize> {
        let groups = self.digit_groups(i, 11);
        let by_form = if self.toks[i].text.starts_with('0') {
            groups
                .iter()
                .rev()
                .find(|(_, d)| (9..=11).contains(&d.len()))
        } else {
            None
        };
        let found = match by_form {
            Some(g) => g,
            None => {
                let fewest = self.phone_trigger(i)?;
                groups.last().filter(|(_, d)| d.len() >= fewest)?
            }
        };
        let (end, digits) = found.clone();
        self.out.word(&digit_words(&digits));
        Some(end)
    }

    /// Whether the number at token `i` follows a phone number's trigger
    /// ("gọi", "SĐT:", "điện thoại số") or another phone number ("113, 114
    /// hoặc 115"); the fewest digits it then takes.
    fn phone_trigger(&self, i: usize) -> Option<usize> {
        let mut j = i;
        let mut seen_so = false;
        let mut connector = false;
        loop {
            if connector && self.phone_end == Some(j) {
                return Some(1);
            }
            if j == 0 {
                break;
            }
            let t = self.toks[j - 1];
            let lower = t.text.to_lowercase();
            match (t.kind, lower.as_str()) {
                (Kind::Space, _) | (Kind::Sym, ":") => {}
                (Kind::Word, "số") if !seen_so => seen_so = true,
                (Kind::Sym, "," | "/" | ";" | "-") | (Kind::Word, "hoặc" | "và") if !connector =>
                {
                    connector = true;
                }
                _ => break,
            }
            j -= 1;
        }
        PHONE_TRIGGERS
            .iter()
            .find(|(phrase, _)| self.follows(j, phrase))
            .map(|(_, fewest)| *fewest)
    }

    /// "+84 912 345 678" at the "+" of token `i`.
    fn intl_phone(&mut self, i: usize) -> Option<usize> {
        if !self.num(i + 1)?.starts_with("84") {
            return None;
        }
        let groups = self.digit_groups(i + 1, 12);
        let (end, digits) = groups
            .iter()
            .rev()
            .find(|(_, d)| (11..=12).contains(&d.len()))?
            .clone();
        self.out.word("cộng");
        self.out.word(&digit_words(&digits));
        self.phone_end = Some(end);
        Some(end)
    }

    /// A time at token `i`: "7h30", "7h", "7g30", "07:30", "07:30:15".
    fn time(&mut self, i: usize) -> Option<usize> {
        let h = self.toks[i].text;
        if h.len() > 2 {
            return None;
        }
        let hour: u64 = h.parse().ok()?;
        let two_digits = |s: &str| s.len() == 2;
        let minutes = |j: usize, exact: bool| {
            self.num(j)
                .filter(|m| m.len() <= 2 && (!exact || two_digits(m)))
                .and_then(|m| m.parse::<u64>().ok())
                .filter(|m| *m < 60)
        };
        let (end, m, s) = if let Some(w) = self.word(i + 1)
            && matches!(w, "h" | "H" | "g" | "G")
        {
            match minutes(i + 2, false) {
                Some(m) => {
                    // "7h30p", "7h30ph"
                    let end = if matches!(self.word(i + 3), Some("p" | "ph")) {
                        i + 4
                    } else {
                        i + 3
                    };
                    (end, m, 0)
                }
                None if matches!(w, "h" | "H") && self.num(i + 2).is_none() => (i + 2, 0, 0),
                None => return None,
            }
        } else if self.sym(i + 1) == Some(':') && hour <= 24 {
            let m = minutes(i + 2, true)?;
            match (self.sym(i + 3), minutes(i + 4, true)) {
                (Some(':'), Some(s)) => (i + 5, m, s),
                _ => (i + 3, m, 0),
            }
        } else {
            return None;
        };
        let mut words = format!("{} giờ", number_words(hour));
        // "7h30 phút" says its own "phút".
        let says_minutes = self.word(self.skip_space(end)) == Some("phút");
        if (m > 0 && !says_minutes) || s > 0 {
            words.push_str(&format!(" {} phút", number_words(m)));
        } else if m > 0 {
            words.push_str(&format!(" {}", number_words(m)));
        }
        if s > 0 {
            words.push_str(&format!(" {} giây", number_words(s)));
        }
        self.out.word(&words);
        Some(end)
    }

    /// A date at token `i`: "19/01/2026", "19-1-2026", "19.01.2026",
    /// "19/1", "19-1", "12/2026" (a month).
    fn date(&mut self, i: usize) -> Option<usize> {
        let first = self.toks[i].text;
        let sep = self.sym(i + 1).filter(|c| matches!(c, '/' | '-' | '.'))?;
        let second = self.num(i + 2)?;
        let after_month = self.follows(i, "tháng");
        if first.len() == 4 && sep == '-' {
            return self.iso_date(i);
        }
        if first.len() > 2 {
            return None;
        }
        if second.len() == 4 {
            // A month and year: "tháng 12/2026", "12/2026".
            // "số 12/2026" numbers a document, it is no month.
            let m: u64 = first.parse().ok()?;
            let month = (1..=12).contains(&m) && (sep == '/' || after_month);
            if !month || self.follows(i, "số") {
                return None;
            }
            let lead = if after_month { "" } else { "tháng " };
            let words = format!("{lead}{} năm {}", month_words(m), read_int(second));
            self.out.word(&words);
            return Some(i + 3);
        }
        if second.len() > 2 || self.follows_any(i, NOT_BEFORE_DATE) {
            return None;
        }
        let d: u64 = first.parse().ok()?;
        let m: u64 = second.parse().ok()?;
        if !(1..=31).contains(&d) || !(1..=12).contains(&m) {
            return None;
        }
        let after_day = self.follows(i, "ngày");
        let year = self
            .num(i + 4)
            .filter(|y| self.sym(i + 3) == Some(sep) && matches!(y.len(), 2 | 4));
        let end = match year {
            Some(_) => i + 5,
            // "2.5" is a decimal; "3-5 ngày" a range.
            None if sep == '.' => return None,
            None if sep == '-' && !after_day && self.counter_follows(i + 3) => return None,
            None => i + 3,
        };
        let mut words = String::new();
        if !after_day {
            words.push_str("ngày ");
        }
        words.push_str(&format!("{} tháng {}", number_words(d), month_words(m)));
        if let Some(y) = year {
            words.push_str(&format!(" năm {}", read_int(y)));
        }
        self.out.word(&words);
        Some(end)
    }

    /// "2026-01-20" at token `i`, as a date.
    fn iso_date(&mut self, i: usize) -> Option<usize> {
        let y = self.toks[i].text;
        let m: u64 = self.num(i + 2).filter(|m| m.len() <= 2)?.parse().ok()?;
        if self.sym(i + 3) != Some('-') {
            return None;
        }
        let d: u64 = self.num(i + 4).filter(|d| d.len() <= 2)?.parse().ok()?;
        if !(1..=31).contains(&d) || !(1..=12).contains(&m) {
            return None;
        }
        let lead = if self.follows(i, "ngày") {
            ""
        } else {
            "ngày "
        };
        let words = format!(
            "{lead}{} tháng {} năm {}",
            number_words(d),
            month_words(m),
            read_int(y)
        );
        self.out.word(&words);
        Some(i + 5)
    }

    /// Whether a counted thing follows token `j` ("3-5 ngày", "10-15%").
    fn counter_follows(&self, j: usize) -> bool {
        let k = self.skip_space(j);
        if self.sym(k) == Some('%') {
            return true;
        }
        self.word(k).is_some_and(|w| {
            let lower = w.to_lowercase();
            COUNTERS.contains(&lower.as_str()) || unit_reading(w).is_some()
        })
    }

    /// A number at token `i` with what follows it: a percentage, a
    /// currency, a unit.
    fn quantity(&mut self, i: usize) -> usize {
        let (number, end) = self.parse_number(i);
        let words = match number.whole() {
            Some(1) if self.follows(i, "thứ") => "nhất".to_string(),
            Some(4) if self.follows_any(i, &["thứ", "tháng"]) => "tư".to_string(),
            _ => number.words(),
        };
        self.out.word(&words);
        self.suffix(end)
    }

    /// The number at token `i`: "1.500.000" (dots group thousands), "3,5"
    /// (a decimal comma), "2.5" (a dot without three digits after it is a
    /// decimal point too), "1,500,000" (two or more comma groups are
    /// thousands, as written in English).
    fn parse_number(&self, i: usize) -> (Number<'a>, usize) {
        let first = self.toks[i].text;
        let mut int = first.to_string();
        let mut j = i + 1;
        let three = |g: &&str| g.len() == 3;
        if first.len() <= 3 && !first.starts_with('0') {
            while self.sym(j) == Some('.')
                && let Some(g) = self.num(j + 1).filter(three)
            {
                int.push_str(g);
                j += 2;
            }
            if j == i + 1 {
                let mut k = j;
                while self.sym(k) == Some(',') && self.num(k + 1).filter(three).is_some() {
                    k += 2;
                }
                if k >= j + 4 {
                    while j < k {
                        int.push_str(self.num(j + 1).unwrap_or_default());
                        j += 2;
                    }
                    return (Number { int, frac: None }, j);
                }
            }
        }
        let grouped = j > i + 1;
        // "3,5,7" is a list: a decimal has one comma.
        let list = (self.sym(j + 2) == Some(',') && self.num(j + 3).is_some())
            || (i >= 2 && self.sym(i - 1) == Some(',') && self.num(i - 2).is_some());
        let frac = match (self.sym(j), self.num(j + 1)) {
            (Some(','), Some(f)) if !list => Some(f),
            (Some('.'), Some(f)) if !grouped => Some(f),
            _ => None,
        };
        if frac.is_some() {
            j += 2;
        }
        (Number { int, frac }, j)
    }

    /// What follows a number at token `j`: "%", "đ"/"VNĐ", "°C"/"độ C"/"oC",
    /// a unit ("km", "m2", "m³"). Returns the token after it.
    fn suffix(&mut self, j: usize) -> usize {
        let k = self.skip_space(j);
        if self.sym(k) == Some('%') {
            self.out.word("phần trăm");
            return k + 1;
        }
        if self.sym(k) == Some('°') {
            if self.word(k + 1) == Some("C") {
                self.out.word("độ xê");
                return k + 2;
            }
            self.out.word("độ");
            return k + 1;
        }
        let Some(w) = self.word(k) else {
            return j;
        };
        if w == "oC" {
            self.out.word("độ xê");
            return k + 1;
        }
        if w == "độ" && self.is_space(k + 1) && self.word(k + 2) == Some("C") {
            self.out.word("độ xê");
            return k + 3;
        }
        if matches!(w.to_lowercase().as_str(), "đ" | "vnđ" | "vnd") {
            self.out.word("đồng");
            return k + 1;
        }
        if let Some((reading, end)) = self.unit(k) {
            self.out.word(&reading);
            return end;
        }
        j
    }

    /// A unit at token `k`, with its power ("m2", "m³"): its reading and the
    /// token after it.
    fn unit(&self, k: usize) -> Option<(String, usize)> {
        let w = self.word(k)?;
        let base = unit_reading(w)?;
        if takes_power(w) {
            let power = match (self.num(k + 1), self.sym(k + 1)) {
                (Some("2"), _) | (_, Some('²')) => Some("vuông"),
                (Some("3"), _) | (_, Some('³')) => Some("khối"),
                _ => None,
            };
            if let Some(p) = power {
                return Some((format!("{base} {p}"), k + 2));
            }
        }
        Some((base.to_string(), k + 1))
    }

    // Words.

    fn at_word(&mut self, i: usize) -> usize {
        let w = self.toks[i].text;
        if let Some(n) = roman(w)
            && self.follows_any(i, ROMAN_TRIGGERS)
        {
            let words = match n {
                1 if self.follows(i, "thứ") => "nhất".to_string(),
                4 if self.follows(i, "thứ") => "tư".to_string(),
                _ => number_words(n),
            };
            self.out.word(&words);
            return i + 1;
        }
        if let Some(end) = self.abbreviation(i) {
            return end;
        }
        let lower = w.to_lowercase();
        if matches!(lower.as_str(), "đ" | "vnđ" | "vnd")
            && self
                .words_before(i)
                .first()
                .is_some_and(|p| SCALES.contains(&p.as_str()))
        {
            self.out.word("đồng");
            return i + 1;
        }
        self.out.word(w);
        i + 1
    }

    /// The longest abbreviation of the table starting at token `i` and
    /// ending where a token ends; says it and returns the token after it.
    fn abbreviation(&mut self, i: usize) -> Option<usize> {
        let start = self.toks[i].start;
        let rest = &self.text[start..];
        let (key, reading, end) = self.keys.iter().find_map(|(key, reading)| {
            if !rest.starts_with(key) {
                return None;
            }
            let end_byte = start + key.len();
            let end = if end_byte == self.text.len() {
                self.toks.len()
            } else {
                self.toks
                    .binary_search_by_key(&end_byte, |t| t.start)
                    .ok()?
            };
            Some((*key, *reading, end))
        })?;
        self.out.word(reading);
        // "TP." at the very end of a sentence: its dot also ends the sentence.
        if key.ends_with('.') && matches!(self.kind(end), None | Some(Kind::Newline)) {
            self.out.punct(".");
        }
        Some(end)
    }

    // Symbols.

    fn at_symbol(&mut self, i: usize) -> usize {
        let t = self.toks[i].text;
        let c = t.chars().next().unwrap_or(' ');
        match c {
            '-' | '–' | '—' => self.dash(i, c),
            '/' => self.slash(i),
            '&' => {
                self.out.word("và");
                i + 1
            }
            '+' => {
                if let Some(end) = self.intl_phone(i) {
                    return end;
                }
                if !self.out.at_line_start() {
                    self.out.word("cộng");
                }
                i + 1
            }
            // A list's bullet.
            '•' | '*' | '·' if self.out.at_line_start() => i + 1,
            _ => {
                self.out.raw(t);
                i + 1
            }
        }
    }

    /// A dash: "đến" between numbers ("3-5", "7h30 - 11h"), nothing as a
    /// list's bullet, a pause for a spaced long dash, else a space.
    fn dash(&mut self, i: usize, c: char) -> usize {
        let next = self.skip_space(i + 1);
        if self.number_ends_at(i) && self.num(next).is_some() {
            self.out.word("đến");
            return next;
        }
        if self.out.at_line_start() {
            return i + 1;
        }
        let spaced = i > 0 && self.is_space(i - 1) && self.is_space(i + 1);
        let after_punct = self
            .out
            .s
            .trim_end()
            .ends_with(['.', ',', ';', ':', '!', '?']);
        if c != '-' && spaced && !after_punct {
            self.out.punct(",");
        } else {
            self.out.space();
        }
        i + 1
    }

    /// A slash: a rate after a quantity ("km/h", "đ/người", "2 lần/ngày"
    /// with "một"), a ratio between numbers ("35/40", "trên"), else a
    /// space ("ông/bà").
    fn slash(&mut self, i: usize) -> usize {
        if self.quantity_before(i) {
            if let Some(w) = self.word(i + 1)
                && let Some(reading) = per_reading(w)
            {
                let (reading, end) = match self.unit(i + 1) {
                    Some((unit, end)) => (unit, end),
                    None => (reading.to_string(), i + 2),
                };
                self.out.word("một");
                self.out.word(&reading);
                self.numeric_end = Some(end);
                return end;
            }
            // Only right after a number: "3G/4G" is no ratio.
            if self.number_ends_at(i) && self.num(i + 1).is_some() {
                self.out.word("trên");
                return i + 1;
            }
        }
        self.out.space();
        i + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sentences as an operator writes them, and what a listener should hear.
    /// Every expected text is written by hand.
    const CASES: &[(&str, &str)] = &[
        // Whole numbers.
        ("Có 0 trường hợp mắc bệnh.", "Có không trường hợp mắc bệnh."),
        ("Thôn có 15 hộ nghèo.", "Thôn có mười lăm hộ nghèo."),
        ("Đã có 21 hộ đăng ký.", "Đã có hai mươi mốt hộ đăng ký."),
        ("Trạm trực 24 giờ.", "Trạm trực hai mươi tư giờ."),
        ("Có 25 em học sinh.", "Có hai mươi lăm em học sinh."),
        ("Còn 10 ngày nữa.", "Còn mười ngày nữa."),
        ("Cấp 100 thẻ.", "Cấp một trăm thẻ."),
        ("Tổng số 105 người.", "Tổng số một trăm linh năm người."),
        ("Có 110 hộ tham gia.", "Có một trăm mười hộ tham gia."),
        ("Trồng 1000 cây xanh.", "Trồng một nghìn cây xanh."),
        (
            "Năm 2026 là năm bầu cử.",
            "Năm hai nghìn không trăm hai mươi sáu là năm bầu cử.",
        ),
        (
            "Quỹ có 1.500.000 đồng.",
            "Quỹ có một triệu năm trăm nghìn đồng.",
        ),
        ("Tổng vốn 2.000.000.000 đồng.", "Tổng vốn hai tỷ đồng."),
        ("Xã có 1.005 hộ.", "Xã có một nghìn không trăm linh năm hộ."),
        (
            "Có 14 hộ và 114 nhân khẩu.",
            "Có mười bốn hộ và một trăm mười bốn nhân khẩu.",
        ),
        (
            "Năm 1945, nước ta giành độc lập.",
            "Năm một nghìn chín trăm bốn mươi lăm, nước ta giành độc lập.",
        ),
        // Decimals.
        ("Nước dâng 3,5 mét.", "Nước dâng ba phẩy năm mét."),
        (
            "Lượng mưa 12,75 mm.",
            "Lượng mưa mười hai phẩy bảy mươi lăm mi li mét.",
        ),
        (
            "Nồng độ 0,05 phần nghìn.",
            "Nồng độ không phẩy không năm phần nghìn.",
        ),
        ("Giá tăng 2.5 lần.", "Giá tăng hai phẩy năm lần."),
        ("Các đội 3,5,7 trực.", "Các đội ba,năm,bảy trực."),
        // Dates.
        (
            "Ngày 19/01/2026 họp dân.",
            "Ngày mười chín tháng một năm hai nghìn không trăm hai mươi sáu họp dân.",
        ),
        (
            "Họp vào 19/01/2026.",
            "Họp vào ngày mười chín tháng một năm hai nghìn không trăm hai mươi sáu.",
        ),
        ("Kỷ niệm ngày 19-1.", "Kỷ niệm ngày mười chín tháng một."),
        (
            "Từ 19/1, cấm đốt rơm rạ.",
            "Từ ngày mười chín tháng một, cấm đốt rơm rạ.",
        ),
        (
            "Chào mừng 30/4 và 1/5.",
            "Chào mừng ngày ba mươi tháng tư và ngày một tháng năm.",
        ),
        (
            "Hạn nộp hết tháng 12/2026.",
            "Hạn nộp hết tháng mười hai năm hai nghìn không trăm hai mươi sáu.",
        ),
        (
            "Kỳ thu 01/2026.",
            "Kỳ thu tháng một năm hai nghìn không trăm hai mươi sáu.",
        ),
        ("Trong tháng 4 này.", "Trong tháng tư này."),
        (
            "Tỷ lệ 35/40 hộ đạt.",
            "Tỷ lệ ba mươi lăm trên bốn mươi hộ đạt.",
        ),
        (
            "Ngày 32/13 không có thật.",
            "Ngày ba mươi hai trên mười ba không có thật.",
        ),
        (
            "Họp ngày 19.01.2026.",
            "Họp ngày mười chín tháng một năm hai nghìn không trăm hai mươi sáu.",
        ),
        (
            "Từ ngày 19-1-2026.",
            "Từ ngày mười chín tháng một năm hai nghìn không trăm hai mươi sáu.",
        ),
        (
            "Thanh niên từ 18-25 tuổi.",
            "Thanh niên từ mười tám đến hai mươi lăm tuổi.",
        ),
        ("Nghỉ 3-5 ngày.", "Nghỉ ba đến năm ngày."),
        (
            "Gió mạnh cấp 8-9, giật cấp 10-11.",
            "Gió mạnh cấp tám đến chín, giật cấp mười đến mười một.",
        ),
        (
            "Nhà số 12/3 đường Lê Lợi.",
            "Nhà số mười hai trên ba đường Lê Lợi.",
        ),
        // Times.
        ("Họp lúc 7h30.", "Họp lúc bảy giờ ba mươi phút."),
        ("Bắt đầu 7h sáng.", "Bắt đầu bảy giờ sáng."),
        ("Mở cửa 07:30.", "Mở cửa bảy giờ ba mươi phút."),
        (
            "Từ 14h05 đến 16h.",
            "Từ mười bốn giờ năm phút đến mười sáu giờ.",
        ),
        ("Lúc 7 giờ 30 sáng mai.", "Lúc bảy giờ ba mươi sáng mai."),
        (
            "Cắt điện từ 7h30-11h00.",
            "Cắt điện từ bảy giờ ba mươi phút đến mười một giờ.",
        ),
        (
            "Tập trung 6g30 tại sân.",
            "Tập trung sáu giờ ba mươi phút tại sân.",
        ),
        (
            "Tập trung lúc 7h30 phút.",
            "Tập trung lúc bảy giờ ba mươi phút.",
        ),
        ("Đóng cửa 17:00.", "Đóng cửa mười bảy giờ."),
        (
            "Phát lúc 06:00:30 ngày 2026-01-20.",
            "Phát lúc sáu giờ không phút ba mươi giây ngày hai mươi tháng một năm hai nghìn không trăm hai mươi sáu.",
        ),
        // Percentages.
        ("Đạt 15% kế hoạch.", "Đạt mười lăm phần trăm kế hoạch."),
        ("Lãi suất 2,5%.", "Lãi suất hai phẩy năm phần trăm."),
        ("Tỷ lệ 100 %.", "Tỷ lệ một trăm phần trăm."),
        ("Giảm 10-15%.", "Giảm mười đến mười lăm phần trăm."),
        // Units.
        ("Đường dài 5 km.", "Đường dài năm ki lô mét."),
        ("Tường cao 5m.", "Tường cao năm mét."),
        ("Mưa 50mm.", "Mưa năm mươi mi li mét."),
        ("Rộng 30 cm.", "Rộng ba mươi xăng ti mét."),
        (
            "Diện tích 2,5 ha lúa.",
            "Diện tích hai phẩy năm héc ta lúa.",
        ),
        ("Bán 20 kg gạo.", "Bán hai mươi ki lô gam gạo."),
        ("Thu gom 3 tấn rác.", "Thu gom ba tấn rác."),
        ("Nhiệt độ 35°C.", "Nhiệt độ ba mươi lăm độ xê."),
        ("Trời rét 10 độ C.", "Trời rét mười độ xê."),
        ("Ngoài trời 12oC.", "Ngoài trời mười hai độ xê."),
        (
            "Chạy tối đa 40km/h.",
            "Chạy tối đa bốn mươi ki lô mét một giờ.",
        ),
        ("Xả 100 m3 nước.", "Xả một trăm mét khối nước."),
        ("Bể chứa 2 m³.", "Bể chứa hai mét khối."),
        ("Nhà rộng 120m2.", "Nhà rộng một trăm hai mươi mét vuông."),
        ("Phun 16 l thuốc.", "Phun mười sáu lít thuốc."),
        ("Cấp 5 lít dầu.", "Cấp năm lít dầu."),
        ("Đo bằng m và km.", "Đo bằng m và km."),
        // Currency.
        ("Mức thu 50.000đ.", "Mức thu năm mươi nghìn đồng."),
        (
            "Mức thu 50.000 đ mỗi hộ.",
            "Mức thu năm mươi nghìn đồng mỗi hộ.",
        ),
        ("Hỗ trợ 50.000 đồng.", "Hỗ trợ năm mươi nghìn đồng."),
        ("Lệ phí 50.000 VNĐ.", "Lệ phí năm mươi nghìn đồng."),
        ("Lệ phí 50.000 VND.", "Lệ phí năm mươi nghìn đồng."),
        ("Giá 1,5 triệu đ.", "Giá một phẩy năm triệu đồng."),
        ("Vé 20.000đ/người.", "Vé hai mươi nghìn đồng một người."),
        ("Uống 2 lần/ngày.", "Uống hai lần một ngày."),
        // Phone numbers.
        (
            "Liên hệ 0912 345 678.",
            "Liên hệ không chín một hai ba bốn năm sáu bảy tám.",
        ),
        (
            "Liên hệ 0912.345.678.",
            "Liên hệ không chín một hai ba bốn năm sáu bảy tám.",
        ),
        (
            "Liên hệ 02383 123 456 (trạm y tế).",
            "Liên hệ không hai ba tám ba một hai ba bốn năm sáu (trạm y tế).",
        ),
        ("Khi có cháy gọi 114.", "Khi có cháy gọi một một bốn."),
        (
            "Đường dây nóng: 1022.",
            "Đường dây nóng: một không hai hai.",
        ),
        (
            "Hotline 1900 1234.",
            "Hotline một chín không không một hai ba bốn.",
        ),
        (
            "SĐT: 0987-654-321.",
            "số điện thoại: không chín tám bảy sáu năm bốn ba hai một.",
        ),
        (
            "Gọi 113, 114 hoặc 115.",
            "Gọi một một ba, một một bốn hoặc một một năm.",
        ),
        ("Gọi 15 người đến họp.", "Gọi mười lăm người đến họp."),
        (
            "Điện thoại số 3822115.",
            "Điện thoại số ba tám hai hai một một năm.",
        ),
        (
            "Gọi +84 912 345 678.",
            "Gọi cộng tám bốn chín một hai ba bốn năm sáu bảy tám.",
        ),
        // Roman numerals.
        ("Đại hội XIV của Đảng.", "Đại hội mười bốn của Đảng."),
        ("HĐND xã khóa XV.", "hội đồng nhân dân xã khóa mười lăm."),
        ("Khoá XIX.", "Khoá mười chín."),
        ("Kỳ họp thứ IV.", "Kỳ họp thứ tư."),
        (
            "Đại hội Đảng bộ xã lần thứ XXV.",
            "Đại hội Đảng bộ xã lần thứ hai mươi lăm.",
        ),
        ("Tổng kết nhiệm kỳ XV.", "Tổng kết nhiệm kỳ XV."),
        ("MC là chị Lan, CV gửi xã.", "MC là chị Lan, CV gửi xã."),
        (
            "Quý III năm 2026.",
            "Quý ba năm hai nghìn không trăm hai mươi sáu.",
        ),
        ("Bước vào thế kỷ XXI.", "Bước vào thế kỷ hai mươi mốt."),
        ("Thứ 4 và thứ 7 hằng tuần.", "Thứ tư và thứ bảy hằng tuần."),
        ("Làm việc từ thứ 2-6.", "Làm việc từ thứ hai đến sáu."),
        // Abbreviations.
        ("UBND xã thông báo.", "ủy ban nhân dân xã thông báo."),
        (
            "Kính gửi HĐND, UBND và MTTQ xã.",
            "Kính gửi hội đồng nhân dân, ủy ban nhân dân và mặt trận tổ quốc xã.",
        ),
        (
            "HĐND-UBND xã chúc mừng.",
            "hội đồng nhân dân ủy ban nhân dân xã chúc mừng.",
        ),
        ("Tại TP. HCM", "Tại thành phố hồ chí minh"),
        (
            "Tại TP.HCM và TPHCM",
            "Tại thành phố hồ chí minh và thành phố hồ chí minh",
        ),
        (
            "Công tác PCCC và PCTT&TKCN.",
            "Công tác phòng cháy chữa cháy và phòng chống thiên tai và tìm kiếm cứu nạn.",
        ),
        (
            "Phát triển KT-XH, giữ vững ANTT.",
            "Phát triển kinh tế xã hội, giữ vững an ninh trật tự.",
        ),
        ("Ban VH-TT xã.", "Ban văn hóa thông tin xã."),
        (
            "Làm BHYT, BHXH, CCCD.",
            "Làm bảo hiểm y tế, bảo hiểm xã hội, căn cước công dân.",
        ),
        (
            "Trường THCS và THPT.",
            "Trường trung học cơ sở và trung học phổ thông.",
        ),
        (
            "Chi hội HLHPN và ĐTNCS.",
            "Chi hội hội liên hiệp phụ nữ và đoàn thanh niên cộng sản.",
        ),
        ("Ubnd xã và UBNDX.", "Ubnd xã và UBNDX."),
        (
            "ĐBQH tiếp xúc cử tri tại TT.",
            "đại biểu quốc hội tiếp xúc cử tri tại thị trấn.",
        ),
        (
            "CSGT huyện và CA xã.",
            "cảnh sát giao thông huyện và công an xã.",
        ),
        ("V/v tiêm phòng.", "về việc tiêm phòng."),
        ("Đ/c Nguyễn Văn An.", "đồng chí Nguyễn Văn An."),
        ("Sửa QL1A.", "Sửa quốc lộ một A."),
        (
            "BCH, BTV và BQL chợ.",
            "ban chấp hành, ban thường vụ và ban quản lý chợ.",
        ),
        (
            "Thực hiện KHHGĐ và ATGT.",
            "Thực hiện kế hoạch hóa gia đình và an toàn giao thông.",
        ),
        // Symbols, punctuation and spaces.
        ("Mời ông/bà đến họp!", "Mời ông bà đến họp!"),
        ("Nam & Nữ", "Nam và Nữ"),
        ("2 + 3", "hai cộng ba"),
        ("Thông   báo  \n\n\n  khẩn", "Thông báo\n\nkhẩn"),
        (
            "Nội dung:\n- Tiêm phòng;\n- Vệ sinh.",
            "Nội dung:\nTiêm phòng;\nVệ sinh.",
        ),
        ("Phòng COVID-19.", "Phòng COVID mười chín."),
        (
            "Xin chào (bà con) \"thôn Đông\"!",
            "Xin chào (bà con) \"thôn Đông\"!",
        ),
        // Sentences mixing the rules.
        (
            "UBND xã thông báo: từ 7h30 ngày 19/01/2026 cắt nước, liên hệ 0912 345 678.",
            "ủy ban nhân dân xã thông báo: từ bảy giờ ba mươi phút ngày mười chín tháng một năm hai nghìn không trăm hai mươi sáu cắt nước, liên hệ không chín một hai ba bốn năm sáu bảy tám.",
        ),
        (
            "Đại hội XIV khai mạc lúc 8h00 ngày 19/1 tại TP. HCM.",
            "Đại hội mười bốn khai mạc lúc tám giờ ngày mười chín tháng một tại thành phố hồ chí minh.",
        ),
        (
            "Mức đóng BHYT năm 2026 là 1.263.600đ/người/năm.",
            "Mức đóng bảo hiểm y tế năm hai nghìn không trăm hai mươi sáu là một triệu hai trăm sáu mươi ba nghìn sáu trăm đồng một người một năm.",
        ),
        (
            "Bão số 3 gây mưa 200-300mm, gió cấp 10-12.",
            "Bão số ba gây mưa hai trăm đến ba trăm mi li mét, gió cấp mười đến mười hai.",
        ),
        (
            "Hỗ trợ 70% học phí, tối đa 1,5 triệu đồng/năm.",
            "Hỗ trợ bảy mươi phần trăm học phí, tối đa một phẩy năm triệu đồng một năm.",
        ),
        (
            "Lúc 14h ngày 20/01, Ban CHQS xã ra quân; gọi 0238 3822 115.",
            "Lúc mười bốn giờ ngày hai mươi tháng một, Ban CHQS xã ra quân; gọi không hai ba tám ba tám hai hai một một năm.",
        ),
    ];

    #[test]
    fn sentences_read_as_a_listener_expects() {
        let abbr = Abbreviations::builtin();
        let mut failures = Vec::new();
        for (input, expected) in CASES {
            let got = normalize(input, &abbr);
            if got != *expected {
                failures.push(format!(
                    "input:    {input:?}\n  expected: {expected:?}\n  got:      {got:?}"
                ));
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {} cases differ:\n{}",
            failures.len(),
            CASES.len(),
            failures.join("\n")
        );
        assert!(CASES.len() >= 70);
    }

    #[test]
    fn numbers_in_words() {
        let cases: &[(u64, &str)] = &[
            (0, "không"),
            (5, "năm"),
            (10, "mười"),
            (11, "mười một"),
            (15, "mười lăm"),
            (20, "hai mươi"),
            (21, "hai mươi mốt"),
            (24, "hai mươi tư"),
            (25, "hai mươi lăm"),
            (55, "năm mươi lăm"),
            (100, "một trăm"),
            (101, "một trăm linh một"),
            (104, "một trăm linh bốn"),
            (105, "một trăm linh năm"),
            (110, "một trăm mười"),
            (115, "một trăm mười lăm"),
            (1000, "một nghìn"),
            (1005, "một nghìn không trăm linh năm"),
            (2026, "hai nghìn không trăm hai mươi sáu"),
            (10_000, "mười nghìn"),
            (1_500_000, "một triệu năm trăm nghìn"),
            (1_050_000, "một triệu không trăm năm mươi nghìn"),
            (2_000_000_000, "hai tỷ"),
            (
                3_200_000_021,
                "ba tỷ hai trăm triệu không trăm hai mươi mốt",
            ),
            (1_000_000_000_000, "một nghìn tỷ"),
        ];
        for (n, expected) in cases {
            assert_eq!(number_words(*n), *expected, "number_words({n})");
        }
        // The largest value says something and does not panic.
        // 18 446 744 073 709 551 615: 18 446 744 073 tỷ, then the rest.
        assert!(
            number_words(u64::MAX).starts_with("mười tám tỷ bốn trăm bốn mươi sáu triệu"),
            "{}",
            number_words(u64::MAX)
        );
    }

    #[test]
    fn decomposed_input_is_read_as_composed() {
        let abbr = Abbreviations::builtin();
        let nfd: String = "HĐND xã khóa XV họp ngày 4/4.".nfd().collect();
        assert_ne!(nfd, "HĐND xã khóa XV họp ngày 4/4.");
        assert_eq!(
            normalize(&nfd, &abbr),
            "hội đồng nhân dân xã khóa mười lăm họp ngày bốn tháng tư."
        );
    }

    #[test]
    fn long_digit_runs_do_not_panic() {
        let abbr = Abbreviations::default();
        let long = "99999999999999999999999";
        assert_eq!(
            normalize(long, &abbr),
            "chín chín chín chín chín chín chín chín chín chín chín chín chín chín chín chín chín chín chín chín chín chín chín"
        );
        for text in [
            "", "   ", "/", "-", "+", "1,", "1.", "7h", ":30", "°", "đ", "0,", "/h",
        ] {
            let _ = normalize(text, &abbr);
        }
    }

    #[test]
    fn the_shipped_table_parses() {
        let table = Abbreviations::parse(BUILTIN, Path::new("tts-abbreviations.toml"), Lang::En);
        let table = match table {
            Ok(t) => t,
            Err(e) => panic!("the shipped table: {e}"),
        };
        assert!(table.len() >= 40, "only {} entries", table.len());
        assert_eq!(Abbreviations::builtin().len(), table.len());
        assert_eq!(
            table.entries.get("HĐND").map(String::as_str),
            Some("hội đồng nhân dân")
        );
    }

    fn parse_en(text: &str) -> Result<Abbreviations, String> {
        Abbreviations::parse(text, Path::new("/etc/loa/tts-abbreviations.toml"), Lang::En)
    }

    #[test]
    fn bad_toml_names_its_line() {
        let text = "# comment\n[abbreviations]\nUBND = \"ủy ban nhân dân\n";
        let e = parse_en(text).err().unwrap_or_default();
        assert!(e.contains("tts-abbreviations.toml:3:"), "{e}");
        assert!(e.contains("TOML syntax error"), "{e}");
        let vi = Abbreviations::parse(text, Path::new("a.toml"), Lang::Vi)
            .err()
            .unwrap_or_default();
        assert!(vi.contains("a.toml:3:") && vi.contains("lỗi"), "{vi}");
    }

    #[test]
    fn a_value_that_is_not_text_names_its_line() {
        let text = "[abbreviations]\nUBND = \"ủy ban nhân dân\"\nHTX = 3\n";
        let e = parse_en(text).err().unwrap_or_default();
        assert!(e.contains("tts-abbreviations.toml:3:"), "{e}");
        assert!(e.contains("`HTX` must be quoted text"), "{e}");
        let vi = Abbreviations::parse(text, Path::new("a.toml"), Lang::Vi)
            .err()
            .unwrap_or_default();
        assert!(
            vi.contains("a.toml:3:") && vi.contains("`HTX` phải là chữ"),
            "{vi}"
        );
    }

    #[test]
    fn unknown_top_level_keys_are_named() {
        let e = parse_en("[abbreviation]\nUBND = \"ủy ban nhân dân\"\n")
            .err()
            .unwrap_or_default();
        assert!(e.contains(":1:") && e.contains("`abbreviation`"), "{e}");
        assert!(e.contains("did you mean `[abbreviations]`"), "{e}");
        let e = parse_en("UBND = \"ủy ban nhân dân\"\n[abbreviations]\n")
            .err()
            .unwrap_or_default();
        assert!(
            e.contains(":1:") && e.contains("outside the [abbreviations] table"),
            "{e}"
        );
        let e = parse_en("[abbreviations]\n\"\" = \"trống\"\nX = \"  \"\n")
            .err()
            .unwrap_or_default();
        assert!(
            e.contains(":2:") && e.contains("must begin with a letter"),
            "{e}"
        );
        assert!(e.contains(":3:") && e.contains("has no reading"), "{e}");
    }

    #[test]
    fn a_file_without_entries_is_an_empty_table() {
        let t = parse_en("# nothing yet\n[abbreviations]\n");
        assert!(t.is_ok_and(|t| t.is_empty()));
        assert!(parse_en("").is_ok_and(|t| t.is_empty()));
    }

    #[test]
    fn the_installer_s_table_extends_and_overrides() {
        let mut table = Abbreviations::builtin();
        let before = table.len();
        let local = parse_en(
            "# xã Nghi Phong\n[abbreviations]\nTT = \"trung tâm\"\n\"HTXNN\" = \"hợp tác xã nông nghiệp\"\n",
        );
        let local = match local {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(local.len(), 2);
        table.extend(local);
        assert_eq!(table.len(), before + 1);
        assert_eq!(
            normalize("TT văn hóa và HTXNN.", &table),
            "trung tâm văn hóa và hợp tác xã nông nghiệp."
        );
        // The shipped reading is used without the installer's file.
        assert_eq!(
            normalize("TT văn hóa.", &Abbreviations::builtin()),
            "thị trấn văn hóa."
        );
    }

    #[test]
    fn keys_and_readings_are_composed() {
        let text: String = "[abbreviations]\n\"HĐND\" = \"hội   đồng nhân dân\"\n"
            .nfd()
            .collect();
        let t = match parse_en(&text) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(normalize("HĐND xã", &t), "hội đồng nhân dân xã");
    }
}
