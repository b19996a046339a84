//! The operator's language: every message an operator reads is written in both
//! Vietnamese and English, and this picks one. It must not hold message texts
//! itself: they stay next to the code that raises them, so each reads in context.

use std::fmt;

/// The language of every operator-facing message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lang {
    /// Vietnamese, the default: the operator is a commune official.
    #[default]
    Vi,
    /// English, for installers and tests.
    En,
}

impl Lang {
    /// Parses the config value ("vi" or "en").
    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The config value for it: "vi" or "en".
    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    /// Picks between two already-built texts.
    pub fn pick<T>(self, vi: T, en: T) -> T {
        match self {
            Lang::Vi => vi,
            Lang::En => en,
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The operator's language for this process, once the config says it:
/// what problem labels ("lỗi:", "cảnh báo:") and the service's log lines
/// are written in. Vietnamese until set.
static OPERATOR: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

/// Sets the process's operator language (when the config is read).
pub fn set_operator(lang: Lang) {
    let v = match lang {
        Lang::Vi => 0,
        Lang::En => 1,
    };
    OPERATOR.store(v, std::sync::atomic::Ordering::Relaxed);
}

/// The process's operator language (see [`set_operator`]).
pub fn operator() -> Lang {
    match OPERATOR.load(std::sync::atomic::Ordering::Relaxed) {
        1 => Lang::En,
        _ => Lang::Vi,
    }
}

/// `tr!(lang, "Vietnamese {x}", "English {x}")`: formats only the text in the
/// chosen language. Both texts capture the same variables from the scope.
#[macro_export]
macro_rules! tr {
    ($lang:expr, $vi:literal, $en:literal $(,)?) => {
        match $lang {
            $crate::lang::Lang::Vi => format!($vi),
            $crate::lang::Lang::En => format!($en),
        }
    };
    ($lang:expr, $vi:literal, $en:literal, $($arg:tt)+) => {
        match $lang {
            $crate::lang::Lang::Vi => format!($vi, $($arg)+),
            $crate::lang::Lang::En => format!($en, $($arg)+),
        }
    };
}

/// A calendar date as the operator writes it: "02/12/2026" in Vietnamese,
/// "2026-12-02" in English.
pub fn date(d: jiff::civil::Date, lang: Lang) -> String {
    match lang {
        Lang::Vi => format!("{:02}/{:02}/{:04}", d.day(), d.month(), d.year()),
        Lang::En => d.to_string(),
    }
}

/// An instant as local date and time to the minute: "02/12/2026 10:08" in
/// Vietnamese, "2026-12-02 10:08" in English.
pub fn date_time(t: jiff::Timestamp, tz: &jiff::tz::TimeZone, lang: Lang) -> String {
    let dt = tz.to_offset(t).to_datetime(t);
    format!(
        "{} {:02}:{:02}",
        date(dt.date(), lang),
        dt.hour(),
        dt.minute()
    )
}

/// A log line's message in the operator's language (see [`operator`]):
/// the journal is read by the people who run the box.
pub fn log(vi: &'static str, en: &'static str) -> &'static str {
    operator().pick(vi, en)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_each_language() {
        let d = jiff::civil::date(2026, 12, 2);
        assert_eq!(date(d, Lang::Vi), "02/12/2026");
        assert_eq!(date(d, Lang::En), "2026-12-02");
        let tz = jiff::tz::TimeZone::get("Asia/Ho_Chi_Minh").unwrap();
        let t: jiff::Timestamp = "2026-12-02T03:08:00Z".parse().unwrap();
        assert_eq!(date_time(t, &tz, Lang::Vi), "02/12/2026 10:08");
    }
}
