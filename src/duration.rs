//! The operator's way of writing lengths of time ("3s", "500ms", "10m",
//! "1h30m") and of reading them back ("1 phút 12 giây"). Pure text handling.

use std::time::Duration;

use crate::lang::Lang;
use crate::tr;

/// The forms accepted, for error messages.
pub const ACCEPTED: &str = "\"500ms\", \"3s\", \"10m\", \"1h\", \"1h30m\", \"2m30s\"";

/// Parses "3s", "500ms", "10m", "1h30m", "1m30s500ms": whole numbers each
/// followed by a unit (h, m, s, ms), largest unit first, each unit once.
pub fn parse(text: &str) -> Option<Duration> {
    let s = text.trim();
    if s.is_empty() {
        return None;
    }
    let mut rest = s;
    let mut total_ms: u64 = 0;
    // Units in the order they must appear.
    let order = ["h", "m", "s", "ms"];
    let mut next_unit = 0;
    while !rest.is_empty() {
        let digits = rest.chars().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        let n: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit = if rest.starts_with("ms") {
            "ms"
        } else if rest.starts_with('h') {
            "h"
        } else if rest.starts_with('m') {
            "m"
        } else if rest.starts_with('s') {
            "s"
        } else {
            return None;
        };
        rest = &rest[unit.len()..];
        let idx = order.iter().position(|u| *u == unit)?;
        if idx < next_unit {
            return None;
        }
        next_unit = idx + 1;
        let ms = match unit {
            "h" => n.checked_mul(3_600_000)?,
            "m" => n.checked_mul(60_000)?,
            "s" => n.checked_mul(1000)?,
            _ => n,
        };
        total_ms = total_ms.checked_add(ms)?;
    }
    Some(Duration::from_millis(total_ms))
}

/// The error message for a duration that does not parse.
pub fn error_message(key: &str, text: &str, lang: Lang) -> String {
    tr!(
        lang,
        "`{key}` = \"{text}\" không phải là cách viết khoảng thời gian hợp lệ. Hãy viết số nguyên liền với đơn vị h (giờ), m (phút), s (giây) hoặc ms (mili giây), ví dụ: {ACCEPTED}.",
        "`{key}` = \"{text}\" is not a valid length of time; write whole numbers followed by h (hours), m (minutes), s (seconds) or ms (milliseconds), for example: {ACCEPTED}"
    )
}

/// Writes a duration back in the config syntax ("1h30m", "2s", "500ms").
pub fn to_config_text(d: Duration) -> String {
    let ms = d.as_millis() as u64;
    if ms == 0 {
        return "0s".into();
    }
    let (h, m, s, rem) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    let mut out = String::new();
    if h > 0 {
        out += &format!("{h}h");
    }
    if m > 0 {
        out += &format!("{m}m");
    }
    if s > 0 {
        out += &format!("{s}s");
    }
    if rem > 0 {
        out += &format!("{rem}ms");
    }
    out
}

/// A length for people: "3 phút 40 giây" / "3 min 40 s", "20 phút",
/// "1 giờ 30 phút" (parts that are zero are left out); under a minute with
/// one decimal ("12,3 giây" / "12.3 s").
pub fn human(d: Duration, lang: Lang) -> String {
    let total = d.as_secs_f64();
    if total < 60.0 {
        let s = if d.subsec_millis() == 0 {
            format!("{}", d.as_secs())
        } else {
            format!("{total:.1}")
        };
        return match lang {
            Lang::Vi => format!("{} giây", s.replace('.', ",")),
            Lang::En => format!("{s} s"),
        };
    }
    let secs = total.round() as u64;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    // Parts that are zero are left out: "20 phút", "1 giờ 30 phút".
    let units = match lang {
        Lang::Vi => ["giờ", "phút", "giây"],
        Lang::En => ["h", "min", "s"],
    };
    let parts: Vec<String> = [h, m, s]
        .iter()
        .zip(units)
        .filter(|(n, _)| **n > 0)
        .map(|(n, u)| format!("{n} {u}"))
        .collect();
    parts.join(" ")
}

/// "m:ss" (or "h:mm:ss") for tables.
pub fn clock(d: Duration) -> String {
    let secs = d.as_secs_f64().round() as u64;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_forms() {
        assert_eq!(parse("3s"), Some(Duration::from_secs(3)));
        assert_eq!(parse("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse("10m"), Some(Duration::from_secs(600)));
        assert_eq!(parse("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse("1m30s250ms"), Some(Duration::from_millis(90_250)));
        assert_eq!(parse("0s"), Some(Duration::ZERO));
        assert_eq!(parse(" 2s "), Some(Duration::from_secs(2)));
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            "",
            "3",
            "3 seconds",
            "3 s",
            "s",
            "1.5s",
            "-3s",
            "3S",
            "30s1m",
            "1m1m",
            "3sec",
            "1h 30m",
            "99999999999999999999h",
        ] {
            assert_eq!(parse(bad), None, "{bad:?} should be rejected");
        }
    }

    #[test]
    fn round_trips_through_config_text() {
        for s in ["3s", "500ms", "10m", "1h30m", "2m30s", "1h1m1s1ms"] {
            assert_eq!(to_config_text(parse(s).unwrap()), s);
        }
    }

    #[test]
    fn human_lengths() {
        assert_eq!(human(Duration::from_secs(220), Lang::Vi), "3 phút 40 giây");
        assert_eq!(human(Duration::from_secs(72), Lang::En), "1 min 12 s");
        assert_eq!(human(Duration::from_millis(12_345), Lang::Vi), "12,3 giây");
        assert_eq!(human(Duration::from_secs(3), Lang::Vi), "3 giây");
        assert_eq!(human(Duration::from_secs(1200), Lang::Vi), "20 phút");
        assert_eq!(human(Duration::from_secs(5400), Lang::Vi), "1 giờ 30 phút");
        assert_eq!(human(Duration::from_secs(7201), Lang::Vi), "2 giờ 1 giây");
        assert_eq!(human(Duration::from_secs(3600), Lang::En), "1 h");
        assert_eq!(clock(Duration::from_secs(3725)), "1:02:05");
        assert_eq!(clock(Duration::from_millis(5_600)), "0:06");
    }
}
