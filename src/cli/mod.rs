//! The operator's commands: the command line's shape (clap) and one file per
//! subcommand. Each returns the process exit code; only `main` exits.

pub mod check;
pub mod context;
pub mod plan;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// loa: scheduled announcements for a commune loudspeaker system.
#[derive(Debug, Parser)]
#[command(name = "loa", version, about, long_about = None)]
pub struct Cli {
    /// The config file (else $LOA_CONFIG, /etc/loa/loa.toml, ./config/loa.toml).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

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
        Command::Check { date, days } => {
            check::run(cli.config.as_deref(), date.as_deref(), days, &clock)
        }
        Command::Plan { date, json } => {
            plan::run(cli.config.as_deref(), date.as_deref(), json, &clock)
        }
    }
}
