//! A playlist's live items: `{ stream = URL, for = "30m", backup = [URL…],
//! fallback = FILE }` and `{ line-in = DEVICE, for = "15m" }`, each
//! mistake at its line and column.

use std::ops::Range;
use std::time::Duration;

use toml::de::DeTable;

use crate::duration;
use crate::live::{Live, LiveSource};
use crate::tomlfile::{Value, Walk};
use crate::tr;

/// The keys a live item takes.
pub const LIVE_KEYS: &[&str] = &[
    "stream",
    "line-in",
    "for",
    "backup",
    "fallback",
    "volume-db",
];

/// Checks a fallback's name as an item's file: its NFC form, or None
/// with the problem said.
pub type CheckFile = fn(&mut Walk<'_>, &str, &Range<usize>) -> Option<String>;

/// The longest slot: a day.
const LONGEST: Duration = Duration::from_secs(24 * 3600);

/// Whether the table is a live item (it has `stream` or `line-in`).
pub fn is_live(t: &DeTable<'_>) -> bool {
    t.contains_key("stream") || t.contains_key("line-in")
}

/// Why `url` cannot be a stream's address, if it cannot.
pub fn url_problem(url: &str) -> Option<&'static str> {
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("http://")
        .or_else(|| lower.strip_prefix("https://"));
    let Some(rest) = rest else {
        return Some("scheme");
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit('@').next().unwrap_or("");
    if host.is_empty() || host.starts_with(':') {
        return Some("host");
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("space");
    }
    None
}

/// One stream address, checked; None (with the problem) when it is not one.
fn stream_url(w: &mut Walk<'_>, key: &str, v: &Value<'_>) -> Option<String> {
    let lang = w.lang;
    let example = "\"http://radio.example.vn:8000/vov1\"";
    let url = w.string(key, v, &format!("{key} = {example}"))?;
    let url = url.trim().to_string();
    let Some(why) = url_problem(&url) else {
        return Some(url);
    };
    let msg = match why {
        "scheme" => tr!(
            lang,
            "`{key}` = \"{url}\" không phải địa chỉ luồng phát: phải bắt đầu bằng http:// hoặc https://, ví dụ {example}.",
            "`{key}` = \"{url}\" is not a stream address: it must start with http:// or https://, e.g. {example}"
        ),
        "host" => tr!(
            lang,
            "`{key}` = \"{url}\" thiếu tên máy chủ; ví dụ {example}.",
            "`{key}` = \"{url}\" has no server name; e.g. {example}"
        ),
        _ => tr!(
            lang,
            "`{key}` = \"{url}\" có dấu cách hoặc ký tự điều khiển; hãy chép lại đúng địa chỉ.",
            "`{key}` = \"{url}\" has a space or a control character; copy the address again"
        ),
    };
    w.error(&v.span(), msg);
    None
}

/// `for`: required, a length from 1 s to a day.
fn slot(w: &mut Walk<'_>, t: &DeTable<'_>, span: &Range<usize>) -> Option<Duration> {
    let lang = w.lang;
    let Some(v) = t.get("for") else {
        w.error(
            span,
            tr!(
                lang,
                "Mục tiếp sóng này thiếu `for` (phát trong bao lâu); ví dụ: for = \"30m\".",
                "this live item has no `for` (how long it airs); e.g. for = \"30m\""
            ),
        );
        return None;
    };
    let text = w.string("for", v, "for = \"30m\"")?;
    match duration::parse(&text) {
        Some(d) if d >= Duration::from_secs(1) && d <= LONGEST => Some(d),
        _ => {
            let accepted = duration::ACCEPTED;
            w.error(
                &v.span(),
                tr!(
                    lang,
                    "`for` = \"{text}\" không hợp lệ; hãy ghi thời lượng từ 1 giây đến 24 giờ, như {accepted}.",
                    "`for` = \"{text}\" is not valid; write a length from 1 s to 24 h, such as {accepted}"
                ),
            );
            None
        }
    }
}

/// A live item's source and slot; None (with the problems) when it cannot
/// be read. `file` checks a fallback's name as an item's file.
pub fn live(
    w: &mut Walk<'_>,
    t: &DeTable<'_>,
    span: &Range<usize>,
    file: CheckFile,
) -> Option<Live> {
    let lang = w.lang;
    let section = lang.pick("một mục tiếp sóng của `items`", "a live `items` entry");
    w.unknown_keys(t, LIVE_KEYS, section);
    let slot = slot(w, t, span);
    let source = match (t.get("stream"), t.get("line-in")) {
        (Some(_), Some(v)) => {
            w.error(
                &v.span(),
                tr!(
                    lang,
                    "Một mục chỉ tiếp sóng một nguồn: `stream` hoặc `line-in`, không cả hai; hãy tách thành hai mục.",
                    "an item relays one source: `stream` or `line-in`, not both; make them two items"
                ),
            );
            None
        }
        (Some(v), None) => stream(w, t, v, file),
        (None, Some(v)) => line_in(w, t, v),
        (None, None) => None,
    };
    Some(Live {
        source: source?,
        slot: slot?,
    })
}

fn stream(w: &mut Walk<'_>, t: &DeTable<'_>, v: &Value<'_>, file: CheckFile) -> Option<LiveSource> {
    let url = stream_url(w, "stream", v);
    let mut backup = Vec::new();
    let mut ok = true;
    if let Some(b) = t.get("backup") {
        let example = "backup = [\"http://backup.example.vn/vov1.mp3\"]";
        match w.array("backup", b, example) {
            Some(list) => {
                for u in list {
                    match stream_url(w, "backup", u) {
                        Some(u) => backup.push(u),
                        None => ok = false,
                    }
                }
            }
            None => ok = false,
        }
    }
    let fallback = match t.get("fallback") {
        Some(f) => {
            let name = w.string("fallback", f, "fallback = \"xin-loi-mat-song.mp3\"");
            match name.and_then(|n| file(w, &n, &f.span())) {
                Some(n) => Some(n),
                None => {
                    ok = false;
                    None
                }
            }
        }
        None => None,
    };
    (ok && url.is_some()).then(|| LiveSource::Stream {
        url: url.unwrap_or_default(),
        backup,
        fallback,
    })
}

fn line_in(w: &mut Walk<'_>, t: &DeTable<'_>, v: &Value<'_>) -> Option<LiveSource> {
    let lang = w.lang;
    for key in ["backup", "fallback"] {
        if let Some(x) = t.get(key) {
            w.error(
                &x.span(),
                tr!(
                    lang,
                    "`{key}` chỉ dùng cho `stream` (luồng phát qua mạng), không dùng cho `line-in`.",
                    "`{key}` is for a `stream` (a network stream), not for `line-in`"
                ),
            );
        }
    }
    let device = w.string("line-in", v, "line-in = \"default\"")?;
    let device = device.trim().to_string();
    if device.is_empty() || device.chars().any(|c| c.is_whitespace() || c.is_control()) {
        w.error(
            &v.span(),
            tr!(
                lang,
                "`line-in` = \"{device}\" không phải tên thiết bị thu ALSA; hãy ghi như \"default\" hoặc \"hw:1,0\" (xem `arecord -L`).",
                "`line-in` = \"{device}\" is not an ALSA capture device name; write one like \"default\" or \"hw:1,0\" (see `arecord -L`)"
            ),
        );
        return None;
    }
    Some(LiveSource::LineIn { device })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_addresses() {
        assert_eq!(url_problem("http://radio.example.vn:8000/vov1"), None);
        assert_eq!(url_problem("https://x.vn/a.m3u"), None);
        assert_eq!(url_problem("HTTP://X.VN"), None);
        assert_eq!(url_problem("ftp://x.vn/a"), Some("scheme"));
        assert_eq!(url_problem("radio.vn/vov1"), Some("scheme"));
        assert_eq!(url_problem("http:///vov1"), Some("host"));
        assert_eq!(url_problem("http://:8000/x"), Some("host"));
        assert_eq!(url_problem("http://x.vn/a b"), Some("space"));
    }
}
