//! `loa say [--now | --queue | --no-relay] [--zone Z] [--repeat N] TEXT`
//! (or `--file notice.txt`): text read aloud on the box, offline. `--now`
//! and `--queue` hand the text to the running service (which renders it
//! and airs it as `loa now` / `loa queue` would); `--no-relay` (and no
//! flag at all) renders it here and plays it at once through the sound
//! card, the relay left alone, for the operator to listen first.
//! `--text-only` prints the text as it will be spoken and renders nothing.

use std::io::Read;
use std::path::Path;

use super::{context, exit};
use crate::control::protocol::Request;
use crate::tr;

/// What `loa say` was asked, as the command line gives it.
#[derive(Debug, Default)]
pub struct SayArgs {
    /// The words of the text (joined with spaces).
    pub text: Vec<String>,
    /// A file to read the text from ("-": standard input).
    pub file: Option<std::path::PathBuf>,
    /// As an emergency, through the service.
    pub now: bool,
    /// First in the next broadcast, through the service.
    pub queue: bool,
    /// The zones (with --now or --queue).
    pub zones: Vec<String>,
    /// How many times it is read.
    pub repeat: u32,
    /// The espeak-ng voice.
    pub voice: Option<String>,
    /// Print the spoken text only.
    pub text_only: bool,
}

/// The largest notice file read: far above `tts::MAX_CHARS` characters.
const MAX_FILE: u64 = 256 * 1024;

/// `loa say`: the exit code.
pub fn run(config: Option<&Path>, args: SayArgs) -> i32 {
    let Some(cfg) = context::config_or_say(config) else {
        return exit::CONFIG;
    };
    let lang = cfg.lang;
    let text = match the_text(&args, lang) {
        Ok(t) => t,
        Err(why) => {
            eprintln!("{why}");
            return exit::PROBLEMS;
        }
    };
    let speaker = crate::tts::Speaker::new(&cfg);
    if args.text_only {
        println!("{}", speaker.spoken(&text));
        return exit::OK;
    }
    if let Some(why) = crate::tts::text_problem(&text, lang) {
        eprintln!("{why}");
        return exit::PROBLEMS;
    }
    if let Some(v) = &args.voice
        && crate::config::tts::voice(v).is_none()
    {
        eprintln!("{}", crate::config::tts::unknown_voice(v, lang));
        return exit::PROBLEMS;
    }
    if !(1..=crate::daemon::MAX_SAY_REPEAT).contains(&args.repeat) {
        let (n, max) = (args.repeat, crate::daemon::MAX_SAY_REPEAT);
        eprintln!(
            "{}",
            tr!(
                lang,
                "--repeat {n} không hợp lệ: từ 1 đến {max} lần.",
                "--repeat {n} is not valid: 1 to {max} times."
            )
        );
        return exit::CONFIG;
    }
    if args.now || args.queue {
        if !super::control::zones_known(&cfg, &args.zones) {
            return exit::PROBLEMS;
        }
        return super::control::command(
            config,
            Request::Say {
                text,
                voice: args.voice,
                queue: args.queue,
                repeat: args.repeat,
                zones: args.zones,
                origin: None,
            },
        );
    }
    if !args.zones.is_empty() {
        eprintln!(
            "{}",
            tr!(
                lang,
                "--zone chỉ dùng cùng --now hoặc --queue (khi phát qua ampli); --no-relay chỉ phát qua loa máy.",
                "--zone goes with --now or --queue (airing through the amplifier); --no-relay only plays through the sound card."
            )
        );
        return exit::CONFIG;
    }
    let say = crate::tts::Say {
        text,
        voice: args.voice,
    };
    let (item, note) = crate::tts::air_item(&cfg, &speaker, &say, 0.0);
    if let Some(n) = note {
        eprintln!("{n}");
    }
    if let Err(why) = &item.source {
        eprintln!("{why}");
        return exit::PROBLEMS;
    }
    let items = vec![item; args.repeat as usize];
    super::play::run_items(&cfg, true, |_| items)
}

/// The text from the arguments or the file, as UTF-8.
fn the_text(args: &SayArgs, lang: crate::lang::Lang) -> Result<String, String> {
    let Some(file) = &args.file else {
        return Ok(args.text.join(" "));
    };
    let shown = crate::problem::display_path(file);
    let mut bytes = Vec::new();
    let read = if file.as_os_str() == "-" {
        std::io::stdin().take(MAX_FILE + 1).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(file).and_then(|f| f.take(MAX_FILE + 1).read_to_end(&mut bytes))
    };
    if let Err(e) = read {
        let why = crate::tomlfile::io_reason(&e, lang);
        return Err(tr!(
            lang,
            "Không đọc được tệp văn bản {shown} ({why}).",
            "cannot read the text file {shown}: {why}"
        ));
    }
    if bytes.len() as u64 > MAX_FILE {
        let kb = MAX_FILE / 1024;
        return Err(tr!(
            lang,
            "Tệp {shown} lớn hơn {kb} KB, không phải một thông báo; hãy kiểm tra lại tên tệp.",
            "{shown} is over {kb} KB, not a notice; check the file name"
        ));
    }
    // Windows' editors start UTF-8 files with a byte-order mark.
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    String::from_utf8(body.to_vec()).map_err(|_| {
        tr!(
            lang,
            "Tệp {shown} không phải văn bản UTF-8; hãy lưu lại với bảng mã UTF-8 (Unicode).",
            "{shown} is not UTF-8 text; save it again as UTF-8 (Unicode)"
        )
    })
}
