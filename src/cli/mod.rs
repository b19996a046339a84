//! The operator's commands: the command line's shape (clap) and one file per
//! subcommand. Each returns the process exit code; only `main` exits.

pub mod archive;
pub mod check;
pub mod context;
pub mod control;
pub mod demo;
pub mod devices;
pub mod district;
pub mod import;
pub mod log;
pub mod media;
pub mod plan;
pub mod play;
pub mod readiness;
pub mod relay;
pub mod report;
pub mod run;
pub mod say;
pub mod status_text;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// loa: scheduled announcements for a commune loudspeaker system.
#[derive(Debug, Parser)]
#[command(name = "loa", version, about, long_about = None)]
pub struct Cli {
    /// The config file (else $LOA_CONFIG, /etc/loa/loa.toml, ./config/loa.toml).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The operator's commands (each variant's doc is its line in `--help`).
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the config, every playlist and the audio they use, and plan the
    /// coming days.
    Check {
        /// First day to plan (YYYY-MM-DD); default today in the commune's zone.
        #[arg(long, value_name = "YYYY-MM-DD")]
        date: Option<String>,
        /// How many days to plan.
        #[arg(long, value_name = "N", default_value_t = 8)]
        days: u32,
        /// Also try each stream the playlists relay, for 3 s, and say what
        /// it is or why it cannot be had.
        #[arg(long)]
        online: bool,
    },
    /// Show a day's timeline: relay on, each item, relay off.
    Plan {
        /// The day (YYYY-MM-DD); default today in the commune's zone.
        #[arg(long, value_name = "YYYY-MM-DD")]
        date: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// A broadcast now: relay on, warm-up, the files with gaps, hold, relay off.
    Play {
        /// Files: names in the audio folder, or paths; or live programmes:
        /// a stream's http(s):// address, or line-in:DEVICE (with --for).
        #[arg(required = true, value_name = "FILE")]
        files: Vec<String>,
        /// Leave the relay alone (just play the sound).
        #[arg(long)]
        no_relay: bool,
        /// How long a live programme (stream or line-in) airs, e.g. 30s, 10m.
        #[arg(long = "for", value_name = "LENGTH")]
        slot: Option<String>,
    },
    /// List the sound output devices ALSA offers, with the names for [audio] device.
    Devices,
    /// The service: air each day's playlist at the right time, unattended.
    Run,
    /// Run the real service on the shipped samples for one broadcast a few
    /// seconds from now (temporary state, simulated relay), then exit.
    Demo,
    /// What the running service is doing: playing, next, relay, clock, errors.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Emergency: air these files at once, interrupting what plays.
    Now {
        /// Files in the audio folder, by name (e.g. thong-bao.mp3); or live
        /// programmes: a stream's http(s):// address, line-in:DEVICE.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<String>,
        /// How long a live programme airs, e.g. 10m.
        #[arg(long = "for", value_name = "LENGTH")]
        slot: Option<String>,
        /// Air only to this zone ([[zone]] name); repeat for several.
        /// Default: every zone.
        #[arg(long = "zone", value_name = "NAME")]
        zones: Vec<String>,
    },
    /// Priority: air these files first in the next broadcast.
    Queue {
        /// Files in the audio folder, by name (e.g. thong-bao.mp3).
        #[arg(required = true, value_name = "FILE")]
        files: Vec<String>,
        /// Air only to this zone ([[zone]] name); repeat for several.
        /// Default: every zone.
        #[arg(long = "zone", value_name = "NAME")]
        zones: Vec<String>,
    },
    /// Read a text aloud, offline (Vietnamese speech): at once through
    /// the sound card with the relay left alone (the default, to listen
    /// first), as an emergency (--now) or first in the next broadcast
    /// (--queue).
    Say {
        /// The text (quote it, or give the words as they come).
        #[arg(
            value_name = "TEXT",
            required_unless_present = "file",
            conflicts_with = "file"
        )]
        text: Vec<String>,
        /// Read the text from this file (UTF-8; "-": standard input).
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
        /// Air it at once as an emergency, interrupting what plays.
        #[arg(long, conflicts_with_all = ["queue", "no_relay", "text_only"])]
        now: bool,
        /// Air it first in the next broadcast.
        #[arg(long, conflicts_with_all = ["no_relay", "text_only"])]
        queue: bool,
        /// Play it now through the sound card, the relay left alone (the
        /// default).
        #[arg(long)]
        no_relay: bool,
        /// Air only to this zone ([[zone]] name), with --now or --queue;
        /// repeat for several. Default: every zone.
        #[arg(long = "zone", value_name = "NAME")]
        zones: Vec<String>,
        /// How many times it is read (1 to 10).
        #[arg(long, value_name = "N", default_value_t = 1)]
        repeat: u32,
        /// The voice: vi (northern), vi-VN-x-central, vi-VN-x-south.
        #[arg(long, value_name = "VOICE")]
        voice: Option<String>,
        /// Print the text exactly as it will be spoken; render nothing.
        #[arg(long)]
        text_only: bool,
    },
    /// End the current broadcast (relay off after the hold).
    Stop,
    /// Skip the item playing now.
    Skip,
    /// Re-read the playlists and the audio folder now.
    Reload,
    /// What was aired: the as-run log.
    Log {
        /// One day (YYYY-MM-DD); default today.
        #[arg(long, value_name = "YYYY-MM-DD", conflicts_with_all = ["from", "to"])]
        date: Option<String>,
        /// First day of a range.
        #[arg(long, value_name = "YYYY-MM-DD", requires = "to")]
        from: Option<String>,
        /// Last day of a range.
        #[arg(long, value_name = "YYYY-MM-DD", requires = "from")]
        to: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The audio library: each file's length, loudness, gain and status, the
    /// playlists that use it, and the files no playlist uses.
    Media {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check audio files and copy the good ones into the audio folder.
    Import {
        /// The audio files to check and copy.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<String>,
        /// A folder inside the audio folder, e.g. "dai-hoi".
        #[arg(long = "to", value_name = "SUBFOLDER")]
        to: Option<String>,
    },
    /// The periodic report for the commune: what was aired, missed and failed.
    Report {
        /// The first day of the report.
        #[arg(long, value_name = "YYYY-MM-DD")]
        from: String,
        /// The last day of the report.
        #[arg(long, value_name = "YYYY-MM-DD")]
        to: String,
        /// docx (Word), xlsx (Excel), md (Markdown, the default) or csv.
        #[arg(long, value_name = "docx|xlsx|md|csv")]
        format: Option<String>,
        /// Where to write it (docx and xlsx: else bao-cao-FROM_TO.docx in
        /// the current folder; md and csv: else standard output).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Only the broadcasts that went to this zone.
        #[arg(long, value_name = "ZONE")]
        zone: Option<String>,
        /// Only this campaign phase (a playlist tag, or its name).
        #[arg(long, value_name = "TAG")]
        tag: Option<String>,
        /// The CSV's separator: ',' (the default), ';' or tab.
        #[arg(long, value_name = "SEP")]
        separator: Option<String>,
    },
    /// The broadcast archive: the recordings of a day's broadcasts, or one
    /// played back without the relay.
    Archive {
        /// Play one back instead of listing.
        #[command(subcommand)]
        action: Option<ArchiveAction>,
        /// The day (YYYY-MM-DD); default today (for `play`: every day).
        #[arg(long, value_name = "YYYY-MM-DD", global = true)]
        date: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Switch the amplifier relay by hand, to test the wiring.
    Relay {
        /// What to do with the relay.
        #[command(subcommand)]
        action: RelayAction,
    },
    /// The district's tools over MQTT: every commune's box at a glance, an
    /// emergency or a playlist to all of them, the collector, the report.
    District {
        /// The broker, mqtt://HOST:PORT or mqtts://HOST:PORT; default
        /// [district] broker.
        #[arg(long, value_name = "URL", global = true)]
        broker: Option<String>,
        /// The district account's credentials file; default
        /// $LOA_DISTRICT_CREDENTIALS, else [district] credentials.
        #[arg(
            long,
            value_name = "FILE",
            global = true,
            env = "LOA_DISTRICT_CREDENTIALS"
        )]
        credentials: Option<PathBuf>,
        /// The CA certificate to trust (mqtts); default [district] ca-file,
        /// else the system's.
        #[arg(long = "ca-file", value_name = "FILE", global = true)]
        ca_file: Option<PathBuf>,
        /// What to do.
        #[command(subcommand)]
        action: district::Action,
    },
}

/// What `loa archive` does besides listing.
#[derive(Debug, Subcommand)]
pub enum ArchiveAction {
    /// Play a recording back through the sound card, the relay left off
    /// (to listen over a headset).
    Play {
        /// The recording: its name as `loa archive` lists it
        /// ("063005-2026-01-20-06-30-00-0"), or the broadcast's key as
        /// `loa log` shows it (its latest recording).
        #[arg(value_name = "KEY")]
        key: String,
    },
}

/// What `loa relay` does.
#[derive(Debug, Subcommand)]
pub enum RelayAction {
    /// Switch the relay on. With real GPIO the line is held until Ctrl-C, or
    /// for --for, and never longer than [relay] max-on.
    On {
        /// How long to keep it on, e.g. "10s" (real GPIO only).
        #[arg(long = "for", value_name = "DURATION")]
        for_: Option<String>,
        /// One zone's relay instead of the amplifier's ([[zone]] name).
        #[arg(long = "zone", value_name = "NAME")]
        zone: Option<String>,
    },
    /// Switch the relay off: the amplifier, then every zone's line.
    Off {
        /// Only this zone's relay ([[zone]] name).
        #[arg(long = "zone", value_name = "NAME")]
        zone: Option<String>,
    },
    /// Show the relay's state (and every zone's).
    Status {
        /// Only this zone's relay ([[zone]] name).
        #[arg(long = "zone", value_name = "NAME")]
        zone: Option<String>,
    },
}

impl RelayAction {
    /// The zone `--zone` names, if any.
    pub fn zone(&self) -> Option<&str> {
        match self {
            RelayAction::On { zone, .. }
            | RelayAction::Off { zone }
            | RelayAction::Status { zone } => zone.as_deref(),
        }
    }
}

/// Exit codes shared by the commands.
pub mod exit {
    /// Everything fine (warnings allowed).
    pub const OK: i32 = 0;
    /// Problems found, or the command failed.
    pub const PROBLEMS: i32 = 1;
    /// The config cannot be read (or the command line is wrong).
    pub const CONFIG: i32 = 2;
}

/// Runs a parsed command line; returns the exit code.
pub fn run(cli: Cli) -> i32 {
    let clock = crate::schedule::clock::SystemClock;
    match cli.command {
        Command::Check { date, days, online } => {
            let code = check::run(cli.config.as_deref(), date.as_deref(), days, &clock);
            if online && code != exit::CONFIG {
                check::online(cli.config.as_deref())
            } else {
                code
            }
        }
        Command::Plan { date, json } => {
            plan::run(cli.config.as_deref(), date.as_deref(), json, &clock)
        }
        Command::Play {
            files,
            no_relay,
            slot,
        } => play::run(cli.config.as_deref(), &files, no_relay, slot.as_deref()),
        Command::Devices => devices::run(cli.config.as_deref()),
        Command::Run => run::run(cli.config.as_deref()),
        Command::Demo => demo::run(cli.config.as_deref()),
        Command::Status { json } => control::status(cli.config.as_deref(), json),
        Command::Now { files, slot, zones } => {
            control::now(cli.config.as_deref(), &files, slot.as_deref(), &zones)
        }
        Command::Queue { files, zones } => control::queue(cli.config.as_deref(), &files, &zones),
        Command::Say {
            text,
            file,
            now,
            queue,
            no_relay: _,
            zones,
            repeat,
            voice,
            text_only,
        } => say::run(
            cli.config.as_deref(),
            say::SayArgs {
                text,
                file,
                now,
                queue,
                zones,
                repeat,
                voice,
                text_only,
            },
        ),
        Command::Stop => control::stop(cli.config.as_deref()),
        Command::Skip => control::skip(cli.config.as_deref()),
        Command::Reload => control::reload(cli.config.as_deref()),
        Command::Log {
            date,
            from,
            to,
            json,
        } => log::run(
            cli.config.as_deref(),
            date.as_deref(),
            from.as_deref(),
            to.as_deref(),
            json,
        ),
        Command::Media { json } => media::run(cli.config.as_deref(), json),
        Command::Import { files, to } => import::run(cli.config.as_deref(), &files, to.as_deref()),
        Command::Report {
            from,
            to,
            format,
            out,
            zone,
            tag,
            separator,
        } => {
            let args = report::Args {
                from: &from,
                to: &to,
                format: format.as_deref(),
                out: out.as_deref(),
                zone: zone.as_deref(),
                tag: tag.as_deref(),
                separator: separator.as_deref(),
            };
            report::run(cli.config.as_deref(), &args, &clock)
        }
        Command::Relay { action } => relay::run(cli.config.as_deref(), action),
        Command::District {
            broker,
            credentials,
            ca_file,
            action,
        } => {
            let link = district::LinkArgs {
                broker: broker.as_deref(),
                credentials: credentials.as_deref(),
                ca_file: ca_file.as_deref(),
            };
            district::run(cli.config.as_deref(), &link, action)
        }
        Command::Archive { action, date, json } => match action {
            None => archive::list(cli.config.as_deref(), date.as_deref(), json),
            Some(ArchiveAction::Play { key }) => {
                archive::play(cli.config.as_deref(), &key, date.as_deref())
            }
        },
    }
}
