//! `loa district [--broker URL] [--credentials FILE] [--ca-file FILE]
//! SUBCOMMAND`: the district's tools over MQTT (src/district). The broker,
//! the account and the CA default to the config's `[district]`; the
//! database of `collect`, read by `status`, `now` and `report`, is
//! `STATE/district.db` (`--state DIR`, default the config's state folder).

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Subcommand};

use super::context;
use super::exit;
use crate::config::Config;
use crate::district::proto::CommandKind;
use crate::district::send::{Order, Target};
use crate::district::tools::Link;
use crate::tr;

/// Where a command goes and how long it stays good.
#[derive(Debug, Args)]
pub struct To {
    /// all (every box), a box's name, or group:NAME.
    #[arg(long, value_name = "all|BOX|group:NAME")]
    pub to: String,
    /// How long the command stays good (a box that gets it later does not
    /// carry it out), e.g. 30m, 12h. Defaults: now 30m, queue 12h,
    /// push-playlist 7d (168h), stop 10m.
    #[arg(long, value_name = "LENGTH")]
    pub expires: Option<String>,
    /// How long to wait for the boxes' answers.
    #[arg(long, value_name = "LENGTH", default_value = "20s")]
    pub wait: String,
}

/// What `loa district` does.
#[derive(Debug, Subcommand)]
pub enum Action {
    /// Every box at a glance: online or not, clock, relay, playing, next,
    /// last error; boxes silent for over 3 minutes first.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// The collector's folder (district.db); default the config's state
        /// folder.
        #[arg(long, value_name = "DIR")]
        state: Option<PathBuf>,
    },
    /// Emergency: these local audio files (or a text each box reads
    /// aloud, --say), aired at once by the boxes.
    Now {
        /// Where it goes, how long it is good, how long to wait.
        #[command(flatten)]
        to: To,
        /// Air only to this zone; repeat for several. Default: every zone.
        #[arg(long = "zone", value_name = "Z")]
        zones: Vec<String>,
        /// A text each box reads aloud itself (offline speech), instead of
        /// files.
        #[arg(long, value_name = "TEXT", conflicts_with = "files")]
        say: Option<String>,
        /// Local audio files (up to 8 MB each), carried with the command.
        #[arg(required_unless_present = "say", value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Priority: these local audio files, aired first in each box's next
    /// broadcast.
    Queue {
        /// Where it goes, how long it is good, how long to wait.
        #[command(flatten)]
        to: To,
        /// Air only to this zone; repeat for several. Default: every zone.
        #[arg(long = "zone", value_name = "Z")]
        zones: Vec<String>,
        /// A text each box reads aloud itself (offline speech), instead of
        /// files.
        #[arg(long, value_name = "TEXT", conflicts_with = "files")]
        say: Option<String>,
        /// Local audio files (up to 8 MB each), carried with the command.
        #[arg(required_unless_present = "say", value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Send a playlist (default.toml or YYYY-MM-DD.toml) to the boxes.
    PushPlaylist {
        /// Where it goes, how long it is good, how long to wait.
        #[command(flatten)]
        to: To,
        /// The playlist file.
        #[arg(value_name = "FILE.toml")]
        file: PathBuf,
    },
    /// End the broadcast on air.
    Stop {
        /// Where it goes, how long it is good, how long to wait.
        #[command(flatten)]
        to: To,
    },
    /// The collector (a service): stores what every box sends in
    /// STATE/district.db, until SIGTERM.
    Collect {
        /// Where district.db is; default the config's state folder.
        #[arg(long, value_name = "DIR")]
        state: Option<PathBuf>,
    },
    /// The district's report: per commune and in total, from the collector.
    Report {
        /// The first day (YYYY-MM-DD).
        #[arg(long, value_name = "YYYY-MM-DD")]
        from: String,
        /// The last day (YYYY-MM-DD).
        #[arg(long, value_name = "YYYY-MM-DD")]
        to: String,
        /// md (Markdown, the default) or csv.
        #[arg(long, value_name = "md|csv")]
        format: Option<String>,
        /// Where district.db is; default the config's state folder.
        #[arg(long, value_name = "DIR")]
        state: Option<PathBuf>,
    },
}

/// The broker and account given on the command line.
#[derive(Debug, Default)]
pub struct LinkArgs<'a> {
    /// `--broker`.
    pub broker: Option<&'a str>,
    /// `--credentials`.
    pub credentials: Option<&'a Path>,
    /// `--ca-file`.
    pub ca_file: Option<&'a Path>,
}

/// `loa district ...`: the exit code.
pub fn run(config: Option<&Path>, link: &LinkArgs<'_>, action: Action) -> i32 {
    let Some(cfg) = context::config_or_say(config) else {
        return exit::CONFIG;
    };
    let state = |s: Option<PathBuf>| s.unwrap_or_else(|| cfg.paths.state.clone());
    let with_link = |f: &dyn Fn(&Link) -> i32| match Link::from_config(
        &cfg,
        link.broker,
        link.credentials,
        link.ca_file,
    ) {
        Ok(l) => f(&l),
        Err(msg) => {
            eprintln!("{msg}");
            exit::CONFIG
        }
    };
    // `now` and `queue`: files, or a text each box reads aloud.
    let air = |l: &Link,
               kind: CommandKind,
               to: &To,
               zones: &[String],
               say: &Option<String>,
               files: &[PathBuf]| {
        let what = What {
            files: files.to_vec(),
            playlist: None,
            say: say.clone(),
        };
        send(&cfg, l, kind, to, zones.to_vec(), what)
    };
    match action {
        Action::Report {
            from,
            to,
            format,
            state: s,
        } => report(&cfg, &from, &to, format.as_deref(), &state(s)),
        Action::Status { json, state: s } => {
            let link = || Link::from_config(&cfg, link.broker, link.credentials, link.ca_file);
            status(&cfg, &state(s), json, &link)
        }
        Action::Collect { state: s } => {
            with_link(&|l| crate::district::collect::run(l, &state(s.clone())))
        }
        Action::Now {
            to,
            zones,
            say,
            files,
        } => with_link(&|l| air(l, CommandKind::Now, &to, &zones, &say, &files)),
        Action::Queue {
            to,
            zones,
            say,
            files,
        } => with_link(&|l| air(l, CommandKind::Queue, &to, &zones, &say, &files)),
        Action::PushPlaylist { to, file } => with_link(&|l| {
            let what = What {
                files: vec![],
                playlist: Some(file.clone()),
                say: None,
            };
            send(&cfg, l, CommandKind::Playlist, &to, vec![], what)
        }),
        Action::Stop { to } => {
            with_link(&|l| send(&cfg, l, CommandKind::Stop, &to, vec![], What::default()))
        }
    }
}

/// `status`: from the collector's database when there is one (no broker
/// needed), else from the broker.
fn status(cfg: &Config, state: &Path, json: bool, link: &dyn Fn() -> Result<Link, String>) -> i32 {
    use crate::district::board;
    let known = match board::from_store(state, cfg.lang) {
        Ok(Some(k)) => Ok(k),
        Ok(None) => match link() {
            Ok(l) => board::from_broker(&l),
            Err(msg) => {
                eprintln!("{msg}");
                return exit::CONFIG;
            }
        },
        Err(msg) => Err(msg),
    };
    let known = match known {
        Ok(k) => k,
        Err(msg) => {
            eprintln!("{msg}");
            return exit::PROBLEMS;
        }
    };
    let now = jiff::Timestamp::now();
    let out = if json {
        serde_json::to_string_pretty(&board::json(&known, now, &cfg.tz)).unwrap_or_default() + "\n"
    } else {
        board::text(&known, now, &cfg.tz, cfg.lang)
    };
    super::log::emit(&out);
    exit::OK
}

/// A length given on the command line (zero only when `zero` allows),
/// or the message.
fn length(flag: &str, text: &str, zero: bool, lang: crate::lang::Lang) -> Result<Duration, String> {
    // Days too, for the playlist's week: "7d".
    let days = text
        .trim()
        .strip_suffix('d')
        .and_then(|n| n.parse::<u64>().ok());
    days.map(|d| Duration::from_secs(d * 86_400))
        .or_else(|| crate::duration::parse(text))
        .filter(|d| zero || !d.is_zero())
        .ok_or_else(|| {
            let accepted = crate::duration::ACCEPTED;
            tr!(
                lang,
                "{flag} \"{text}\" không phải khoảng thời gian hợp lệ; hãy viết ví dụ {accepted}, hoặc 7d (ngày).",
                "{flag} \"{text}\" is not a length of time; write e.g. {accepted}, or 7d (days)"
            )
        })
}

/// What a command carries: files, a playlist, or a text to read aloud.
#[derive(Default)]
struct What {
    files: Vec<PathBuf>,
    playlist: Option<PathBuf>,
    say: Option<String>,
}

fn send(
    cfg: &Config,
    link: &Link,
    kind: CommandKind,
    to: &To,
    zones: Vec<String>,
    what: What,
) -> i32 {
    let What {
        files,
        playlist,
        say,
    } = what;
    let lang = cfg.lang;
    let default_expiry = match kind {
        CommandKind::Now => "30m",
        CommandKind::Queue => "12h",
        CommandKind::Playlist => "7d",
        CommandKind::Stop => "10m",
    };
    let parsed = (|| {
        if let Some(why) = say
            .as_deref()
            .and_then(|t| crate::tts::text_problem(t, lang))
        {
            return Err(why);
        }
        Ok::<_, String>(Order {
            kind,
            target: Target::parse(&to.to, lang)?,
            files,
            zones,
            playlist,
            say,
            expires: length(
                "--expires",
                to.expires.as_deref().unwrap_or(default_expiry),
                false,
                lang,
            )?,
            wait: length("--wait", &to.wait, true, lang)?,
        })
    })();
    match parsed {
        Ok(order) => crate::district::send::send(link, &cfg.paths.state, &order),
        Err(msg) => {
            eprintln!("{msg}");
            exit::CONFIG
        }
    }
}

fn report(cfg: &Config, from: &str, to: &str, format: Option<&str>, state: &Path) -> i32 {
    use crate::district::{report, store::Store};
    let lang = cfg.lang;
    let csv = match format.map(|f| f.trim().to_ascii_lowercase()).as_deref() {
        None | Some("md" | "markdown") => false,
        Some("csv") => true,
        Some(other) => {
            eprintln!(
                "{}",
                tr!(
                    lang,
                    "--format \"{other}\" không được hỗ trợ; hãy dùng md hoặc csv.",
                    "--format \"{other}\" is not supported; use md or csv"
                )
            );
            return exit::CONFIG;
        }
    };
    let (from, to) = match super::log::date_range(from, to, lang) {
        Ok(r) => r,
        Err(msg) => {
            eprintln!("{msg}");
            return exit::CONFIG;
        }
    };
    let store = match Store::open_existing(state) {
        Ok(Some(s)) => s,
        Ok(None) => {
            let shown =
                crate::problem::display_path(&state.join(crate::district::store::FILE_NAME));
            eprintln!(
                "{}",
                tr!(
                    lang,
                    "Chưa có cơ sở dữ liệu của huyện {shown}: dịch vụ thu thập (loa district collect) chưa chạy ở thư mục này. Hãy bật nó (sudo systemctl enable --now loa-district-collect), hoặc chỉ đúng thư mục bằng --state.",
                    "no district database {shown}: the collector (loa district collect) has not run with this folder. Start it (sudo systemctl enable --now loa-district-collect), or give the right folder with --state"
                )
            );
            return exit::PROBLEMS;
        }
        Err(e) => {
            eprintln!("{}", e.message(lang));
            return exit::PROBLEMS;
        }
    };
    let r = match report::build(&store, from, to, &cfg.tz) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{}", store.error(&e, lang));
            return exit::PROBLEMS;
        }
    };
    let out = if csv {
        report::csv(&r, &cfg.tz, lang)
    } else {
        report::markdown(&r, &cfg.tz, lang)
    };
    super::log::emit(&out);
    exit::OK
}
