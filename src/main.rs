//! The `loa` program: parses the command line, sets up logging and hands over
//! to the library. The only place that exits the process.

use clap::Parser;
use loa::cli::{Cli, Command};

fn main() {
    let cli = Cli::parse();
    if prints_for_a_pipe(&cli.command) {
        restore_sigpipe();
    }
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LOA_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    std::process::exit(loa::cli::run(cli));
}

/// Commands whose output is often piped (`loa log --json | head`): they end
/// quietly when the reader goes away, like any Unix tool. Not the service,
/// which must never die because a client hung up.
fn prints_for_a_pipe(c: &Command) -> bool {
    matches!(
        c,
        Command::Check { .. }
            | Command::Plan { .. }
            | Command::Log { .. }
            | Command::Report { .. }
            | Command::Status { .. }
            | Command::Devices
    )
}

#[allow(unsafe_code)]
fn restore_sigpipe() {
    // SAFETY: setting a signal's disposition to the default, before any
    // other thread exists, has no memory-safety implications.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
