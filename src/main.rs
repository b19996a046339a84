//! The `loa` program: parses the command line, sets up logging and hands over
//! to the library, whose exit code it returns.

use std::process::ExitCode;

use clap::Parser;
use loa::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    if prints_for_a_pipe(&cli.command) {
        restore_sigpipe();
    }
    init_logging(is_service(&cli.command));
    loa::contain::install_hook();
    ExitCode::from(u8::try_from(loa::cli::run(cli)).unwrap_or(1))
}

/// Logging, at the level $LOA_LOG sets (default "warn"). Under systemd,
/// where stderr is the journal, as native journal entries with their fields
/// (`journalctl -u loa -o verbose` shows BROADCAST=, FILE=...); elsewhere as
/// lines on stderr, coloured only on a terminal (never escape codes in a
/// log file) and never when $NO_COLOR is set.
fn init_logging(service: bool) {
    use std::io::IsTerminal;
    use tracing_subscriber::prelude::*;
    let filter = || tracing_subscriber::EnvFilter::new(log_directives(service));
    if stderr_is_the_journal()
        && let Ok(journal) = tracing_journald::layer()
    {
        tracing_subscriber::registry()
            .with(filter())
            .with(
                journal
                    .with_syslog_identifier("loa".to_string())
                    // FILE=, BROADCAST=: none of loa's fields is one of
                    // journald's own names.
                    .with_field_prefix(None),
            )
            .init();
        return;
    }
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_env_filter(filter())
        .init();
}

/// What is logged. Only loa's own events, never its dependencies' (a
/// decoder's "skipping junk" warnings are not for the operator; loa says
/// what matters itself, in the operator's language). $LOA_LOG gives the
/// level ("info") or, with `=` or `,` in it, full tracing directives. The
/// service logs warnings by default (the unit sets info); the other
/// commands print their own messages and log nothing unless asked.
fn log_directives(service: bool) -> String {
    match std::env::var("LOA_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty())
    {
        Some(v) if v.contains('=') || v.contains(',') => v,
        Some(level) => format!("loa={}", level.trim()),
        None if service => "loa=warn".into(),
        None => "off".into(),
    }
}

/// The commands that run unattended and whose log is their record.
fn is_service(c: &Command) -> bool {
    matches!(c, Command::Run | Command::Demo)
}

/// Whether stderr is connected to the journal: systemd sets $JOURNAL_STREAM
/// to "DEVICE:INODE" of that stream (a child whose stderr was redirected
/// inherits the variable, but not the stream).
fn stderr_is_the_journal() -> bool {
    let Some(var) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    let Ok(st) = rustix::fs::fstat(std::io::stderr()) else {
        return false;
    };
    var.to_string_lossy() == format!("{}:{}", st.st_dev, st.st_ino)
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
            | Command::Archive { action: None, .. }
            | Command::Report { .. }
            | Command::Status { .. }
            | Command::Media { .. }
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
