//! What the commands share: loading the config (with its errors shown the
//! same way everywhere), the day asked for, and the media facts for a set of
//! playlists.

use std::path::Path;

use jiff::civil::{Date, Weekday};

use crate::config::{self, Config, ConfigError};
use crate::lang::Lang;
use crate::media::{Library, MediaIndex};
use crate::problem::{Problem, display_path};
use crate::schedule::clock::Clock;
use crate::tr;

/// Finds and loads the config. Returns the error and the problems to print.
/// The prologue of every command that needs the config: the config, or
/// None once its problems have been printed (to stderr); the command then
/// exits with `exit::CONFIG`.
pub fn config_or_say(cli: Option<&Path>) -> Option<Config> {
    match load_config(cli) {
        Ok(c) => Some(c),
        Err((_, problems)) => {
            for p in problems {
                eprintln!("{p}");
            }
            None
        }
    }
}

/// The config (found as `config::locate` says), with the operator's language
/// set for the messages that follow; or why it cannot be used, with its
/// problems in the language the file asks for.
pub fn load_config(cli: Option<&Path>) -> Result<Config, (ConfigError, Vec<Problem>)> {
    let loaded = config::locate(cli).and_then(|p| Config::load(&p));
    if let Ok(cfg) = &loaded {
        crate::lang::set_operator(cfg.lang);
    }
    loaded.map_err(|e| {
        let lang = match &e {
            ConfigError::Invalid { config, .. } => config.lang,
            ConfigError::Unreadable(_) => cli
                .and_then(|p| crate::tomlfile::read_bounded(p, Lang::Vi).ok())
                .map(|b| config::sniff_language(&String::from_utf8_lossy(&b)))
                .unwrap_or_default(),
            ConfigError::NotFound { .. } => Lang::Vi,
        };
        crate::lang::set_operator(lang);
        let problems = e.problems(lang);
        (e, problems)
    })
}

/// The day asked for with --date, or today in the commune's zone.
pub fn day(arg: Option<&str>, cfg: &Config, clock: &dyn Clock) -> Result<Date, String> {
    let lang = cfg.lang;
    match arg {
        Some(s) => crate::playlist::parse_file_date(s.trim()).ok_or_else(|| {
            tr!(
                lang,
                "--date \"{s}\" không phải là một ngày hợp lệ; hãy viết theo dạng NĂM-THÁNG-NGÀY, ví dụ 2026-01-20.",
                "--date \"{s}\" is not a real date; write YEAR-MONTH-DAY, e.g. 2026-01-20"
            )
        }),
        None => {
            let now = clock.now();
            Ok(cfg.tz.to_offset(now).to_datetime(now).date())
        }
    }
}

/// The weekday's name in the operator's language.
pub fn weekday_name(w: Weekday, lang: Lang) -> &'static str {
    let (vi, en) = match w {
        Weekday::Monday => ("Thứ Hai", "Monday"),
        Weekday::Tuesday => ("Thứ Ba", "Tuesday"),
        Weekday::Wednesday => ("Thứ Tư", "Wednesday"),
        Weekday::Thursday => ("Thứ Năm", "Thursday"),
        Weekday::Friday => ("Thứ Sáu", "Friday"),
        Weekday::Saturday => ("Thứ Bảy", "Saturday"),
        Weekday::Sunday => ("Chủ Nhật", "Sunday"),
    };
    lang.pick(vi, en)
}

/// The audio library and its index, with a problem when the folder is
/// missing and a note on stderr when the index cannot be kept.
pub fn open_media(cfg: &Config) -> (Library, MediaIndex, Vec<Problem>) {
    let lang = cfg.lang;
    let mut problems = Vec::new();
    let library = match Library::scan(&cfg.paths.audio) {
        Ok(l) => l,
        Err(e) => {
            let reason = crate::tomlfile::io_reason(&e, lang);
            let shown = display_path(&cfg.paths.audio);
            problems.push(Problem::error(
                &cfg.path,
                1,
                1,
                tr!(
                    lang,
                    "Không mở được thư mục âm thanh {shown} ({reason}); hãy tạo thư mục này, hoặc sửa [paths] audio.",
                    "cannot open the audio folder {shown}: {reason}; create it or correct [paths] audio"
                ),
            ));
            Library::empty(&cfg.paths.audio)
        }
    };
    let index = match MediaIndex::open(&cfg.paths.state) {
        Ok(i) => i,
        Err(e) => {
            let shown = display_path(&cfg.paths.state);
            eprintln!(
                "{}",
                tr!(
                    lang,
                    "Lưu ý: không ghi được vào thư mục trạng thái {shown} ({e}), nên các tệp sẽ phải đo lại mỗi lần.",
                    "note: cannot write the state folder {shown} ({e}); files will be probed every time"
                )
            );
            MediaIndex::in_memory()
        }
    };
    (library, index, problems)
}
