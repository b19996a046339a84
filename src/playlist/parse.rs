//! Turning one playlist file's TOML into a [`Playlist`], reporting every
//! mistake at its line and column with what to do about it.

use std::ops::Range;
use std::time::Duration;

use jiff::civil::{Date, Time, Weekday};
use toml::de::{DeTable, DeValue};
use unicode_normalization::UnicodeNormalization;

use super::{Broadcast, Item, Playlist, Pos};
use crate::duration;
use crate::lang::Lang;
use crate::problem::Problem;
use crate::tomlfile::{Source, Value, Walk};
use crate::tr;

const TOP_KEYS: &[&str] = &["title", "broadcast", "tags"];
const BROADCAST_KEYS: &[&str] = &[
    "at", "title", "items", "repeat", "gap", "from", "until", "days", "tags", "zones",
];
const ITEM_KEYS: &[&str] = &["file", "repeat", "volume-db", "jingle"];

/// Parses one playlist file. Returns None only when the file is not TOML at
/// all; otherwise the playlist holds every broadcast that made sense, and the
/// problems say what was dropped and why.
pub fn parse(src: &Source, lang: Lang) -> (Option<Playlist>, Vec<Problem>) {
    let doc = match src.parse(lang) {
        Ok(d) => d,
        Err(p) => return (None, vec![p]),
    };
    let mut w = Walk::new(src, lang);
    let top = doc.get_ref();
    w.unknown_keys(
        top,
        TOP_KEYS,
        lang.pick("phần đầu danh sách phát", "the top of the playlist"),
    );
    let mut playlist = Playlist {
        path: src.path.clone(),
        title: None,
        broadcasts: Vec::new(),
        unplanned_items: Vec::new(),
        tag_names: std::collections::BTreeMap::new(),
    };
    if let Some(v) = top.get("title") {
        playlist.title = w.string("title", v, "title = \"Tuyên truyền Đại hội XIV\"");
    }
    let example = "[tags]\ntruoc-dai-hoi = \"Trước Đại hội\"";
    if let Some(v) = top.get("tags")
        && let Some(t) = w.table("tags", v, example)
    {
        for (k, v) in t {
            if let Some(name) = w.string(k.get_ref(), v, example) {
                playlist
                    .tag_names
                    .insert(k.get_ref().to_string(), name.trim().to_string());
            }
        }
    }
    if let Some(v) = top.get("broadcast") {
        match v.get_ref() {
            DeValue::Array(list) => {
                for (index, b) in list.iter().enumerate() {
                    match b.get_ref() {
                        DeValue::Table(t) => {
                            match broadcast(&mut w, index, t, b.span()) {
                                Ok(b) => playlist.broadcasts.push(b),
                                Err(items) => playlist.unplanned_items.extend(items),
                            }
                        }
                        other => {
                            let found = crate::tomlfile::kind_name(other, lang);
                            w.error(
                                &b.span(),
                                tr!(
                                    lang,
                                    "Mỗi buổi phát phải là một bảng [[broadcast]], nhưng ở đây lại là {found}.",
                                    "each broadcast must be a [[broadcast]] table, but this is {found}"
                                ),
                            );
                        }
                    }
                }
            }
            _ => w.error(
                &v.span(),
                tr!(
                    lang,
                    "Hãy viết [[broadcast]] với hai cặp dấu ngoặc vuông: mỗi buổi phát là một khối [[broadcast]] riêng.",
                    "write [[broadcast]] with double brackets: each broadcast is its own [[broadcast]] entry"
                ),
            ),
        }
    }
    (Some(playlist), w.problems)
}

fn pos(src: &Source, span: &Range<usize>) -> Pos {
    let (line, column) = src.line_col(span.start);
    Pos { line, column }
}

fn broadcast(
    w: &mut Walk<'_>,
    index: usize,
    t: &DeTable<'_>,
    span: Range<usize>,
) -> Result<Broadcast, Vec<Item>> {
    let lang = w.lang;
    let n = index + 1;
    let section = tr!(
        lang,
        "buổi phát thứ {n} ([[broadcast]])",
        "broadcast #{n} ([[broadcast]])"
    );
    w.unknown_keys(t, BROADCAST_KEYS, &section);
    let title = t
        .get("title")
        .and_then(|v| w.string("title", v, "title = \"Bản tin sáng\""));
    let (at, at_pos) = start_time(w, t, &span, &section);
    let items = item_list(w, t, &span, &section);
    let repeat = t
        .get("repeat")
        .and_then(|v| repeat(w, "repeat", v))
        .unwrap_or(1);
    let gap = t.get("gap").and_then(|v| gap(w, v));
    let (from, until, dates_ok) = date_range(w, t);
    let days = weekdays(w, t);
    let tags = tags(w, t);
    let zones = zones(w, t);
    // Empty items after errors: the errors were reported item by item.
    let Some(at) = at.filter(|_| dates_ok && !items.is_empty()) else {
        return Err(items);
    };
    Ok(Broadcast {
        index,
        pos: at_pos,
        at,
        title,
        items,
        repeat,
        gap,
        from,
        until,
        days,
        tags,
        zones,
    })
}

/// The broadcast's `at`, required, and where it is (where the section is,
/// when it is missing).
fn start_time(
    w: &mut Walk<'_>,
    t: &DeTable<'_>,
    span: &Range<usize>,
    section: &str,
) -> (Option<Time>, Pos) {
    let lang = w.lang;
    match t.get("at") {
        Some(v) => (time_of_day(w, v), pos(w.src, &v.span())),
        None => {
            w.error(
                span,
                tr!(
                    lang,
                    "Thiếu giờ phát `at` trong {section}; hãy thêm vào, ví dụ: at = \"06:00\"",
                    "{section} has no start time `at`; add one, for example: at = \"06:00\""
                ),
            );
            (None, pos(w.src, span))
        }
    }
}

/// The broadcast's `items`, required (empty when missing or all wrong).
fn item_list(w: &mut Walk<'_>, t: &DeTable<'_>, span: &Range<usize>, section: &str) -> Vec<Item> {
    let lang = w.lang;
    match t.get("items") {
        Some(v) => items(w, v),
        None => {
            w.error(
                span,
                tr!(
                    lang,
                    "Thiếu danh sách tệp `items` trong {section}; hãy thêm vào, ví dụ: items = [\"nhac-hieu.mp3\", \"ban-tin.mp3\"]",
                    "{section} has no `items` list; for example: items = [\"nhac-hieu.mp3\", \"ban-tin.mp3\"]"
                ),
            );
            None
        }
    }
    .unwrap_or_default()
}

/// `gap`: a duration of at most ten minutes.
fn gap(w: &mut Walk<'_>, v: &Value<'_>) -> Option<Duration> {
    let lang = w.lang;
    let text = w.string("gap", v, "gap = \"2s\"")?;
    match duration::parse(&text) {
        Some(d) if d <= Duration::from_secs(600) => Some(d),
        Some(_) => {
            w.error(
                &v.span(),
                tr!(
                    lang,
                    "Khoảng nghỉ giữa các bài `gap` = \"{text}\" quá dài; tối đa là \"10m\".",
                    "`gap` = \"{text}\" is too long; the most is \"10m\""
                ),
            );
            None
        }
        None => {
            w.error(&v.span(), duration::error_message("gap", &text, lang));
            None
        }
    }
}

/// `from` and `until`, and whether they are in order (an `until` before
/// `from` is an error: the broadcast would never air).
fn date_range(w: &mut Walk<'_>, t: &DeTable<'_>) -> (Option<Date>, Option<Date>, bool) {
    let lang = w.lang;
    let from = t.get("from").and_then(|v| date(w, "from", v));
    let until = t.get("until").and_then(|v| date(w, "until", v));
    if let (Some(f), Some(u), Some(uv)) = (from, until, t.get("until"))
        && u < f
    {
        let (u, f) = (crate::lang::date(u, lang), crate::lang::date(f, lang));
        w.error(
            &uv.span(),
            tr!(
                lang,
                "Ngày kết thúc `until` ({u}) ở trước ngày bắt đầu `from` ({f}), nên buổi phát này sẽ không bao giờ được phát; hãy sửa lại một trong hai ngày.",
                "`until` ({u}) is before `from` ({f}), so this broadcast would never air; correct one of the two dates"
            ),
        );
        return (from, until, false);
    }
    (from, until, true)
}

/// `days`: the weekdays it airs on (an empty list is a warning: it never
/// airs).
fn weekdays(w: &mut Walk<'_>, t: &DeTable<'_>) -> Option<Vec<Weekday>> {
    let lang = w.lang;
    let v = t.get("days")?;
    let d = days(w, v)?;
    if d.is_empty() {
        w.warning(
            &v.span(),
            tr!(
                lang,
                "`days` để trống nên buổi phát này sẽ không bao giờ được phát; hãy liệt kê các thứ trong tuần, ví dụ days = [\"t2\", \"t4\", \"t6\"], hoặc xóa dòng này để phát mọi ngày.",
                "`days` is empty, so this broadcast never airs; list weekdays, e.g. days = [\"mon\", \"wed\", \"fri\"], or remove the line to air every day"
            ),
        );
    }
    Some(d)
}

/// `tags`: words for reports.
fn tags(w: &mut Walk<'_>, t: &DeTable<'_>) -> Vec<String> {
    t.get("tags")
        .and_then(|v| {
            let list = w.array("tags", v, "tags = [\"dai-hoi-xiv\"]")?;
            Some(
                list.iter()
                    .filter_map(|x| w.string("tags", x, "tags = [\"dai-hoi-xiv\"]"))
                    .collect::<Vec<_>>(),
            )
        })
        .unwrap_or_default()
}

/// `zones`: the hamlets it airs to, by name (checked against the config's
/// `[[zone]]` names by the planner, which knows them). An empty list is an
/// error: the broadcast would air to nobody.
fn zones(w: &mut Walk<'_>, t: &DeTable<'_>) -> Option<Vec<(String, Pos)>> {
    const EXAMPLE: &str = "zones = [\"thon-1\", \"thon-3\"]";
    let lang = w.lang;
    let v = t.get("zones")?;
    let list = w.array("zones", v, EXAMPLE)?;
    if list.is_empty() {
        w.error(
            &v.span(),
            tr!(
                lang,
                "`zones` để trống nên buổi phát này không phát cho thôn nào; hãy ghi tên các vùng, ví dụ zones = [\"thon-1\"], hoặc xóa dòng này để phát cho mọi vùng.",
                "`zones` is empty, so this broadcast airs to no hamlet; name the zones, e.g. zones = [\"thon-1\"], or remove the line to air to every zone"
            ),
        );
        return Some(Vec::new());
    }
    let mut out: Vec<(String, Pos)> = Vec::new();
    for x in list {
        if let Some(name) = w.string("zones", x, EXAMPLE)
            && !out.iter().any(|(n, _)| *n == name)
        {
            out.push((name, pos(w.src, &x.span())));
        }
    }
    Some(out)
}

/// "06:00" or "06:00:30" (also an unquoted TOML time, 06:00:00).
fn time_of_day(w: &mut Walk<'_>, v: &Value<'_>) -> Option<Time> {
    let lang = w.lang;
    let text = match v.get_ref() {
        DeValue::Datetime(dt) if dt.date.is_none() && dt.time.is_some() => dt.to_string(),
        _ => w.string("at", v, "at = \"06:00\"")?,
    };
    match parse_time(&text) {
        Some(t) => Some(t),
        None => {
            w.error(
                &v.span(),
                tr!(
                    lang,
                    "Giờ phát \"{text}\" không hợp lệ; hãy viết GIỜ:PHÚT theo kiểu 24 giờ, như \"06:00\", \"17:30\" hoặc \"06:00:30\" (giờ từ 00 đến 23, phút và giây từ 00 đến 59).",
                    "start time \"{text}\" is not valid; write HOUR:MINUTE on the 24-hour clock, like \"06:00\", \"17:30\" or \"06:00:30\" (hours 00 to 23, minutes and seconds 00 to 59)"
                ),
            );
            None
        }
    }
}

/// Parses "H:MM", "HH:MM" or "HH:MM:SS".
pub fn parse_time(text: &str) -> Option<Time> {
    let parts: Vec<&str> = text.trim().split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return None;
    }
    let num = |s: &str, max: i8, width: std::ops::RangeInclusive<usize>| -> Option<i8> {
        if !width.contains(&s.len()) || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n: i8 = s.parse().ok()?;
        (n <= max).then_some(n)
    };
    let h = num(parts[0], 23, 1..=2)?;
    let m = num(parts[1], 59, 2..=2)?;
    let s = match parts.get(2) {
        Some(s) => num(s, 59, 2..=2)?,
        None => 0,
    };
    Time::new(h, m, s, 0).ok()
}

/// "2026-01-18" (also an unquoted TOML date).
fn date(w: &mut Walk<'_>, key: &str, v: &Value<'_>) -> Option<Date> {
    let lang = w.lang;
    let text = match v.get_ref() {
        DeValue::Datetime(dt) if dt.date.is_some() && dt.time.is_none() => dt.to_string(),
        _ => w.string(key, v, &format!("{key} = \"2026-01-19\""))?,
    };
    match super::parse_file_date(text.trim()) {
        Some(d) => Some(d),
        None => {
            w.error(
                &v.span(),
                tr!(
                    lang,
                    "`{key}` = \"{text}\" không phải là một ngày hợp lệ; hãy viết theo dạng NĂM-THÁNG-NGÀY, ví dụ \"2026-01-19\".",
                    "`{key}` = \"{text}\" is not a real date; write YEAR-MONTH-DAY, e.g. \"2026-01-19\""
                ),
            );
            None
        }
    }
}

const WEEKDAYS: &[(&str, Weekday)] = &[
    ("mon", Weekday::Monday),
    ("tue", Weekday::Tuesday),
    ("wed", Weekday::Wednesday),
    ("thu", Weekday::Thursday),
    ("fri", Weekday::Friday),
    ("sat", Weekday::Saturday),
    ("sun", Weekday::Sunday),
    ("monday", Weekday::Monday),
    ("tuesday", Weekday::Tuesday),
    ("wednesday", Weekday::Wednesday),
    ("thursday", Weekday::Thursday),
    ("friday", Weekday::Friday),
    ("saturday", Weekday::Saturday),
    ("sunday", Weekday::Sunday),
    // Vietnamese: thứ hai (Monday) ... thứ bảy, chủ nhật.
    ("t2", Weekday::Monday),
    ("t3", Weekday::Tuesday),
    ("t4", Weekday::Wednesday),
    ("t5", Weekday::Thursday),
    ("t6", Weekday::Friday),
    ("t7", Weekday::Saturday),
    ("cn", Weekday::Sunday),
];

fn days(w: &mut Walk<'_>, v: &Value<'_>) -> Option<Vec<Weekday>> {
    let lang = w.lang;
    let list = w.array("days", v, "days = [\"mon\", \"wed\", \"fri\"]")?;
    let mut out = Vec::new();
    for d in list {
        let Some(s) = w.string("days", d, "days = [\"mon\", \"wed\", \"fri\"]") else {
            continue;
        };
        let key = s.trim().to_lowercase();
        match WEEKDAYS.iter().find(|(n, _)| *n == key) {
            Some((_, wd)) => {
                if !out.contains(wd) {
                    out.push(*wd);
                }
            }
            None => w.error(
                &d.span(),
                tr!(
                    lang,
                    "Không có thứ \"{s}\"; hãy dùng \"t2\" đến \"t7\" và \"cn\" (hoặc \"mon\", \"tue\", \"wed\", \"thu\", \"fri\", \"sat\", \"sun\").",
                    "no weekday \"{s}\"; use \"mon\", \"tue\", \"wed\", \"thu\", \"fri\", \"sat\", \"sun\" (or \"t2\" to \"t7\" and \"cn\")"
                ),
            ),
        }
    }
    Some(out)
}

fn repeat(w: &mut Walk<'_>, key: &str, v: &Value<'_>) -> Option<u32> {
    let lang = w.lang;
    let n = w.integer(key, v, &format!("{key} = 2"))?;
    if (1..=100).contains(&n) {
        Some(n as u32)
    } else {
        // As written (a number too large for a computer is shown as typed).
        let n = w.src.text.get(v.span()).unwrap_or("").trim().to_string();
        w.error(
            &v.span(),
            tr!(
                lang,
                "`{key}` = {n} không hợp lệ; số lần phát phải từ 1 đến 100.",
                "`{key}` = {n} is not valid; the number of plays must be from 1 to 100"
            ),
        );
        None
    }
}

fn items(w: &mut Walk<'_>, v: &Value<'_>) -> Option<Vec<Item>> {
    let lang = w.lang;
    let example = "items = [\"nhac-hieu.mp3\", \"ban-tin.mp3\"]";
    let list = w.array("items", v, example)?;
    if list.is_empty() {
        w.error(
            &v.span(),
            tr!(
                lang,
                "Danh sách `items` để trống nên buổi phát không có gì để phát; hãy thêm tên tệp, ví dụ: {example}",
                "the `items` list is empty: the broadcast has nothing to air; add file names, for example: {example}"
            ),
        );
        return None;
    }
    let mut out = Vec::new();
    for entry in list {
        match entry.get_ref() {
            DeValue::String(s) => {
                if let Some(file) = item_path(w, s, &entry.span()) {
                    out.push(Item {
                        file,
                        pos: pos(w.src, &entry.span()),
                        repeat: 1,
                        volume_db: 0.0,
                        jingle: false,
                        live: None,
                        say: None,
                    });
                }
            }
            DeValue::Table(t) if t.contains_key("say") => {
                if let Some(item) = say_item(w, t) {
                    out.push(item);
                }
            }
            DeValue::Table(t) if super::live_item::is_live(t) => {
                let live = super::live_item::live(w, t, &entry.span(), item_path);
                if let (Some(live), Some(volume_db)) = (live, volume_db(w, t)) {
                    out.push(Item {
                        file: live.name().to_string(),
                        pos: pos(w.src, &entry.span()),
                        repeat: 1,
                        volume_db,
                        jingle: false,
                        live: Some(live),
                        say: None,
                    });
                }
            }
            DeValue::Table(t) => {
                w.unknown_keys(
                    t,
                    ITEM_KEYS,
                    lang.pick("một mục của `items`", "an `items` entry"),
                );
                let Some(fv) = t.get("file") else {
                    w.error(
                        &entry.span(),
                        tr!(
                            lang,
                            "Mục này thiếu `file`; hãy thêm vào, ví dụ: {{ file = \"thong-bao.mp3\", repeat = 2 }}",
                            "this entry has no `file`; for example: {{ file = \"thong-bao.mp3\", repeat = 2 }}"
                        ),
                    );
                    continue;
                };
                let file = w
                    .string("file", fv, "file = \"thong-bao.mp3\"")
                    .and_then(|s| item_path(w, &s, &fv.span()));
                let repeat = match t.get("repeat") {
                    Some(v) => repeat(w, "repeat", v),
                    None => Some(1),
                };
                let volume_db = volume_db(w, t);
                let jingle = t
                    .get("jingle")
                    .and_then(|v| w.boolean("jingle", v))
                    .unwrap_or(false);
                if let (Some(file), Some(repeat), Some(volume_db)) = (file, repeat, volume_db) {
                    out.push(Item {
                        file,
                        pos: pos(w.src, &fv.span()),
                        repeat,
                        volume_db,
                        jingle,
                        live: None,
                        say: None,
                    });
                }
            }
            other => {
                let found = crate::tomlfile::kind_name(other, lang);
                w.error(
                    &entry.span(),
                    tr!(
                        lang,
                        "Mỗi mục của `items` phải là tên tệp trong ngoặc kép hoặc {{ file = \"...\" }}, nhưng ở đây lại là {found}.",
                        "each `items` entry must be a quoted file name or {{ file = \"...\" }}, but this is {found}"
                    ),
                );
            }
        }
    }
    Some(out)
}

/// The keys a `say` item takes.
const SAY_KEYS: &[&str] = &["say", "voice", "repeat", "volume-db"];

/// `{ say = "Thông báo: ...", voice = "vi" }`: a text read aloud, rendered
/// ahead of its broadcast. None (with the problem said) when it cannot be.
fn say_item(w: &mut Walk<'_>, t: &DeTable<'_>) -> Option<Item> {
    use unicode_normalization::UnicodeNormalization;
    let lang = w.lang;
    w.unknown_keys(t, SAY_KEYS, lang.pick("một mục `say`", "a `say` item"));
    let sv = t.get("say")?;
    let text = w.string("say", sv, "say = \"Thông báo: ...\"")?;
    let text: String = text.nfc().collect();
    if let Some(why) = crate::tts::text_problem(&text, lang) {
        w.error(&sv.span(), why);
        return None;
    }
    let voice = match t.get("voice") {
        None => None,
        Some(v) => {
            let s = w.string("voice", v, "voice = \"vi\"")?;
            match crate::config::tts::voice(&s) {
                Some(known) => Some(known.to_string()),
                None => {
                    w.error(&v.span(), crate::config::tts::unknown_voice(&s, lang));
                    return None;
                }
            }
        }
    };
    let repeat = match t.get("repeat") {
        Some(v) => repeat(w, "repeat", v)?,
        None => 1,
    };
    let volume_db = volume_db(w, t)?;
    let say = crate::tts::Say { text, voice };
    Some(Item {
        file: say.preview(),
        pos: pos(w.src, &sv.span()),
        repeat,
        volume_db,
        jingle: false,
        live: None,
        say: Some(say),
    })
}

/// Checks an item path and returns it in NFC form, "/"-separated, with "."
/// and empty parts removed.
/// An item's own `volume-db` (0 when not given); None when out of range.
fn volume_db(w: &mut Walk<'_>, t: &DeTable<'_>) -> Option<f64> {
    let lang = w.lang;
    let Some(v) = t.get("volume-db") else {
        return Some(0.0);
    };
    let x = w.number("volume-db", v, "volume-db = -3.0")?;
    if (-60.0..=20.0).contains(&x) {
        return Some(x);
    }
    w.error(
        &v.span(),
        tr!(
            lang,
            "`volume-db` = {x} nằm ngoài khoảng cho phép (từ -60 đến 20).",
            "`volume-db` = {x} is out of range: it must be from -60 to 20"
        ),
    );
    None
}

fn item_path(w: &mut Walk<'_>, raw: &str, span: &Range<usize>) -> Option<String> {
    let lang = w.lang;
    match check_item_path(raw) {
        Ok(p) => Some(p),
        Err(kind) => {
            let msg = match kind {
                PathError::Empty => tr!(
                    lang,
                    "Tên tệp để trống; hãy ghi tên một tệp trong thư mục âm thanh, ví dụ \"ban-tin.mp3\".",
                    "the file name is empty; name a file in the audio folder, e.g. \"ban-tin.mp3\""
                ),
                PathError::Absolute => tr!(
                    lang,
                    "Tên tệp \"{raw}\" là đường dẫn tuyệt đối; hãy ghi đường dẫn tính từ thư mục âm thanh, ví dụ \"dai-hoi/ban-tin-1.mp3\".",
                    "\"{raw}\" is an absolute path; write the path from inside the audio folder, e.g. \"dai-hoi/ban-tin-1.mp3\""
                ),
                PathError::Backslash => tr!(
                    lang,
                    "Tên tệp \"{raw}\" có dấu gạch ngược \\; hãy dùng dấu gạch chéo /, ví dụ \"dai-hoi/ban-tin-1.mp3\".",
                    "\"{raw}\" has a backslash \\; use forward slashes, e.g. \"dai-hoi/ban-tin-1.mp3\""
                ),
                PathError::ParentDir => tr!(
                    lang,
                    "Tên tệp \"{raw}\" có \"..\" (trỏ ra ngoài thư mục âm thanh) nên không được phép; hãy chép tệp vào thư mục âm thanh rồi ghi đường dẫn tính từ thư mục đó.",
                    "\"{raw}\" has \"..\" (it leaves the audio folder), which is not allowed; copy the file into the audio folder and give its path inside it"
                ),
                PathError::Control => tr!(
                    lang,
                    "Tên tệp \"{raw}\" có ký tự điều khiển (như dấu xuống dòng hoặc tab); hãy gõ lại tên.",
                    "the file name \"{raw}\" has a control character (like a line break or tab); type the name again"
                ),
                PathError::TrailingSlash => tr!(
                    lang,
                    "Tên \"{raw}\" kết thúc bằng dấu /, tức là tên một thư mục; hãy ghi tên tệp, ví dụ \"{}\".",
                    "\"{raw}\" ends in /, which names a folder; give a file's name, e.g. \"{}\"",
                    raw.trim_end().trim_end_matches('/')
                ),
            };
            w.error(span, msg);
            None
        }
    }
}

/// What is wrong with an item path.
#[derive(Debug, PartialEq, Eq)]
pub enum PathError {
    /// Blank, or naming no file at all (".").
    Empty,
    /// Starts with "/" or a drive letter ("C:").
    Absolute,
    /// Has a backslash (a Windows separator).
    Backslash,
    /// Has a ".." part, which would leave the audio folder.
    ParentDir,
    /// Has a control character (a line break, a tab).
    Control,
    /// Ends in "/": a folder, not a file.
    TrailingSlash,
}

/// The rules for an item path, without messages (for tests and reuse).
pub fn check_item_path(raw: &str) -> Result<String, PathError> {
    if raw.trim().is_empty() {
        return Err(PathError::Empty);
    }
    if raw.chars().any(|c| c.is_control()) {
        return Err(PathError::Control);
    }
    let b = raw.as_bytes();
    if raw.starts_with('/') || (b.len() >= 2 && b[1] == b':' && b[0].is_ascii_alphabetic()) {
        return Err(PathError::Absolute);
    }
    if raw.contains('\\') {
        return Err(PathError::Backslash);
    }
    let parts: Vec<&str> = raw
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.contains(&"..") {
        return Err(PathError::ParentDir);
    }
    if raw.trim_end().ends_with('/') {
        return Err(PathError::TrailingSlash);
    }
    if parts.is_empty() {
        return Err(PathError::Empty);
    }
    Ok(parts.join("/").nfc().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn run(text: &str) -> (Option<Playlist>, Vec<Problem>) {
        let src = Source::new(Path::new("playlists/default.toml"), text.to_string());
        parse(&src, Lang::En)
    }

    fn one_error(text: &str) -> Problem {
        let (_, p) = run(text);
        assert_eq!(p.len(), 1, "expected one problem, got {p:#?}");
        p.into_iter().next().unwrap()
    }

    #[test]
    fn the_documented_example_parses() {
        let (pl, p) = run(r#"
title = "Tuyên truyền Đại hội XIV"
[[broadcast]]
at = "06:00"
title = "Bản tin sáng"
items = ["nhac-hieu.mp3", "dai-hoi/ban-tin-1.mp3", { file = "thong-bao.mp3", repeat = 2, volume-db = -3.0 }]
repeat = 1
gap = "2s"
from = "2025-08-05"
until = "2026-01-18"
days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
tags = ["dai-hoi-xiv", "truoc-dai-hoi"]
"#);
        assert!(p.is_empty(), "{p:#?}");
        let pl = pl.unwrap();
        assert_eq!(pl.title.as_deref(), Some("Tuyên truyền Đại hội XIV"));
        let b = &pl.broadcasts[0];
        assert_eq!(b.at, Time::new(6, 0, 0, 0).unwrap());
        assert_eq!(b.items.len(), 3);
        assert_eq!(b.items[2].repeat, 2);
        assert_eq!(b.items[2].volume_db, -3.0);
        assert_eq!(
            b.items[1].pos,
            Pos {
                line: 6,
                column: 27
            }
        );
        assert_eq!(b.gap, Some(Duration::from_secs(2)));
        assert_eq!(b.days.as_ref().unwrap().len(), 7);
        assert_eq!(b.tags, vec!["dai-hoi-xiv", "truoc-dai-hoi"]);
    }

    #[test]
    fn the_issue_s_live_items_parse() {
        let (pl, p) = run(r#"
[[broadcast]]
at = "05:00"
items = [
  "nhac-hieu.mp3",
  { stream = "http://radio.example.vn:8000/vov1", for = "30m", backup = ["http://backup.example.vn/vov1.mp3"], fallback = "xin-loi-mat-song.mp3" },
  { line-in = "default", for = "15m", volume-db = -2.0 },
  "thong-bao.mp3",
]
"#);
        assert!(p.is_empty(), "{p:#?}");
        let items = &pl.unwrap().broadcasts[0].items;
        assert_eq!(items.len(), 4);
        let live = items[1].live.as_ref().unwrap();
        assert_eq!(live.slot, Duration::from_secs(1800));
        assert_eq!(live.kind(), "stream");
        assert_eq!(items[1].file, "http://radio.example.vn:8000/vov1");
        assert_eq!(
            live.source,
            crate::live::LiveSource::Stream {
                url: "http://radio.example.vn:8000/vov1".into(),
                backup: vec!["http://backup.example.vn/vov1.mp3".into()],
                fallback: Some("xin-loi-mat-song.mp3".into()),
            }
        );
        let line = items[2].live.as_ref().unwrap();
        assert_eq!(
            (line.kind(), line.slot),
            ("line-in", Duration::from_secs(900))
        );
        assert_eq!(items[2].volume_db, -2.0);
        assert!(items[0].live.is_none() && items[3].live.is_none());
    }

    #[test]
    fn live_items_are_checked_at_their_place() {
        let at = |items: &str| format!("[[broadcast]]\nat = \"05:00\"\nitems = [{items}]\n");
        // (items, what the problem points at, what it says).
        for (items, at_text, phrase) in [
            (r#"{ stream = "http://r.vn/vov1" }"#, "{", "has no `for`"),
            (
                r#"{ stream = "ftp://r.vn/vov1", for = "1m" }"#,
                "\"ftp",
                "must start with http://",
            ),
            (
                r#"{ stream = "http://r.vn/a", for = "2d" }"#,
                "\"2d",
                "from 1 s to 24 h",
            ),
            (
                r#"{ stream = "http://r.vn/a", for = "1m", backup = ["r.vn"] }"#,
                "\"r.vn",
                "`backup` = \"r.vn\"",
            ),
            (
                r#"{ stream = "http://r.vn/a", for = "1m", fallback = "../x.mp3" }"#,
                "\"../",
                "\"..\"",
            ),
            (
                r#"{ line-in = "default", for = "1m", fallback = "x.mp3" }"#,
                "\"x.mp3",
                "not for `line-in`",
            ),
            (
                r#"{ line-in = "", for = "1m" }"#,
                "\"\"",
                "ALSA capture device",
            ),
            (
                r#"{ stream = "http://r.vn/a", line-in = "default", for = "1m" }"#,
                "\"default",
                "not both",
            ),
        ] {
            let p = one_error(&at(items));
            let col = 10 + items.find(at_text).unwrap() as u32;
            assert_eq!((p.line, p.column), (3, col), "{items}: {p:#?}");
            assert!(p.message.contains(phrase), "{items}: {}", p.message);
        }
    }

    #[test]
    fn unknown_key_is_located() {
        let p = one_error("[[broadcast]]\nat = \"06:00\"\nitems = [\"a.mp3\"]\ntitel = \"x\"\n");
        assert_eq!((p.line, p.column), (4, 1));
        assert!(p.message.contains("did you mean `title`"), "{}", p.message);
    }

    #[test]
    fn wrong_type_is_located() {
        let p = one_error("[[broadcast]]\nat = 6\nitems = [\"a.mp3\"]\n");
        assert_eq!((p.line, p.column), (2, 6));
        assert!(
            p.message.contains("`at` must be quoted text"),
            "{}",
            p.message
        );
    }

    #[test]
    fn bad_times() {
        for bad in [
            "25:00", "6h", "06:60", "06:00:61", "0600", "06:0", "-1:00", "",
        ] {
            let p = one_error(&format!(
                "[[broadcast]]\nat = \"{bad}\"\nitems = [\"a.mp3\"]\n"
            ));
            assert_eq!((p.line, p.column), (2, 6), "{bad}");
            assert!(p.message.contains("HOUR:MINUTE"), "{}", p.message);
        }
        assert_eq!(parse_time("6:05"), Some(Time::new(6, 5, 0, 0).unwrap()));
        assert_eq!(
            parse_time("23:59:59"),
            Some(Time::new(23, 59, 59, 0).unwrap())
        );
    }

    #[test]
    fn unquoted_toml_times_and_dates_are_accepted() {
        let (pl, p) = run("[[broadcast]]\nat = 06:30:00\nfrom = 2026-01-19\nitems = [\"a.mp3\"]\n");
        assert!(p.is_empty(), "{p:#?}");
        let b = &pl.unwrap().broadcasts[0];
        assert_eq!(b.at, Time::new(6, 30, 0, 0).unwrap());
        assert_eq!(b.from, Some(Date::new(2026, 1, 19).unwrap()));
    }

    #[test]
    fn invalid_date_and_reversed_range() {
        let p = one_error(
            "[[broadcast]]\nat = \"06:00\"\nitems = [\"a.mp3\"]\nfrom = \"2026-02-30\"\n",
        );
        assert_eq!((p.line, p.column), (4, 8));
        assert!(p.message.contains("not a real date"));
        let p = one_error(
            "[[broadcast]]\nat = \"06:00\"\nitems = [\"a.mp3\"]\nfrom = \"2026-01-20\"\nuntil = \"2026-01-18\"\n",
        );
        assert_eq!((p.line, p.column), (5, 9));
        assert!(p.message.contains("before `from`"), "{}", p.message);
    }

    #[test]
    fn unknown_weekday() {
        let p = one_error(
            "[[broadcast]]\nat = \"06:00\"\nitems = [\"a.mp3\"]\ndays = [\"mon\", \"funday\"]\n",
        );
        assert_eq!((p.line, p.column), (4, 16));
        assert!(p.message.contains("no weekday \"funday\""));
        let (pl, p) =
            run("[[broadcast]]\nat = \"06:00\"\nitems = [\"a.mp3\"]\ndays = [\"T2\", \"cn\"]\n");
        assert!(p.is_empty());
        assert_eq!(
            pl.unwrap().broadcasts[0].days,
            Some(vec![Weekday::Monday, Weekday::Sunday])
        );
    }

    #[test]
    fn empty_and_missing_items() {
        let p = one_error("[[broadcast]]\nat = \"06:00\"\nitems = []\n");
        assert_eq!((p.line, p.column), (3, 9));
        assert!(p.message.contains("empty"));
        let p = one_error("[[broadcast]]\nat = \"06:00\"\n");
        assert!(p.message.contains("no `items`"));
    }

    #[test]
    fn bad_item_paths() {
        for (raw, needle) in [
            ("../secret.mp3", "\"..\""),
            ("a/../../b.mp3", "\"..\""),
            ("/home/op/a.mp3", "absolute"),
            ("C:/x.mp3", "absolute"),
            ("dai-hoi\\\\a.mp3", "backslash"),
            ("", "empty"),
            ("  ", "empty"),
        ] {
            let p = one_error(&format!(
                "[[broadcast]]\nat = \"06:00\"\nitems = [\"ok.mp3\", \"{raw}\"]\n"
            ));
            assert_eq!((p.line, p.column), (3, 20), "{raw}");
            assert!(p.message.contains(needle), "{raw}: {}", p.message);
        }
    }

    #[test]
    fn nfd_names_become_nfc() {
        let nfd: String = "Thông báo.mp3".nfd().collect();
        assert_ne!(nfd, "Thông báo.mp3");
        assert_eq!(check_item_path(&nfd).unwrap(), "Thông báo.mp3");
        assert_eq!(check_item_path("./a//b.mp3").unwrap(), "a/b.mp3");
    }

    #[test]
    fn single_bracket_broadcast_is_explained() {
        let p = one_error("[broadcast]\nat = \"06:00\"\nitems = [\"a.mp3\"]\n");
        assert!(p.message.contains("[[broadcast]]"), "{}", p.message);
    }

    #[test]
    fn a_file_without_broadcasts_is_a_silent_day() {
        let (pl, p) = run("title = \"Để tang\"\n");
        assert!(p.is_empty());
        assert!(pl.unwrap().broadcasts.is_empty());
    }

    #[test]
    fn vietnamese_messages_by_default() {
        let src = Source::new(
            Path::new("p.toml"),
            "[[broadcast]]\nat = \"25:00\"\nitems = [\"a.mp3\"]\n".into(),
        );
        let (_, p) = parse(&src, Lang::Vi);
        assert!(
            p[0].message.contains("Giờ phát \"25:00\" không hợp lệ"),
            "{}",
            p[0].message
        );
    }

    // Issue 18: `{ say = "...", voice = "vi" }` items, and their mistakes
    // at their places.
    #[test]
    fn say_items_parse_and_their_mistakes_are_located() {
        let (pl, p) = run(
            "[[broadcast]]\nat = \"06:00\"\nitems = [\"a.mp3\", { say = \"Thông báo: cắt nước\", voice = \"vi-vn-x-central\", repeat = 2, volume-db = -3 }, { say = \"Xin cảm ơn\" }]\n",
        );
        assert!(p.is_empty(), "{p:#?}");
        let items = &pl.unwrap().broadcasts[0].items;
        assert_eq!(items.len(), 3);
        let say = items[1].say.as_ref().unwrap();
        assert_eq!(say.text, "Thông báo: cắt nước");
        assert_eq!(say.voice.as_deref(), Some("vi-VN-x-central"));
        assert_eq!((items[1].repeat, items[1].volume_db), (2, -3.0));
        assert_eq!(items[1].file, "Thông báo: cắt nước");
        assert_eq!(
            items[1].pos,
            Pos {
                line: 3,
                column: 27
            }
        );
        assert_eq!(items[2].say.as_ref().unwrap().voice, None);

        for (text, col, phrase) in [
            ("{ say = \"  \" }", 9, "empty"),
            (
                "{ say = \"Xin chào\", voice = \"en\" }",
                29,
                "vi-VN-x-south",
            ),
            (
                "{ say = \"Xin chào\", jingle = true }",
                21,
                "unknown key `jingle`",
            ),
            ("{ say = 3 }", 9, "quoted text"),
        ] {
            let p = one_error(&format!(
                "[[broadcast]]\nat = \"06:00\"\nitems = [{text}]\n"
            ));
            assert_eq!((p.line, p.column), (3, col + 9), "{text}: {p:#?}");
            assert!(p.message.contains(phrase), "{text}: {}", p.message);
        }
    }
}
