//! The `loa` program: parses the command line, sets up logging and hands over
//! to the library. The only place that exits the process.

use clap::Parser;

fn main() {
    let cli = loa::cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LOA_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    std::process::exit(loa::cli::run(cli));
}
