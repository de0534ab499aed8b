//! The `loglens` binary: parse the command line, set up diagnostics, dispatch.

use clap::Parser;
use loglens::cli::{Cli, LogFormat, EXIT_FAILED};
use tracing_subscriber::EnvFilter;

fn main() {
    let cli = Cli::parse();
    let filter = EnvFilter::try_from_env("LOGLENS_LOG").unwrap_or_else(|_| EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
    let code = match loglens::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("loglens: error: {e:#}");
            EXIT_FAILED
        }
    };
    std::process::exit(code);
}
