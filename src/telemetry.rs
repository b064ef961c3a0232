//! Logging: human-readable lines by default, JSON lines on request, always on stderr so that
//! stdout stays clean for tables, CSV and JSON output.

use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// For people at a terminal.
    Human,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Installs the global subscriber. `RUST_LOG` wins over `verbose` (0 warn, 1 info, 2+ debug).
pub fn init(format: LogFormat, verbose: u8) {
    // sqlx reports every statement over 1 s as a warning: noise for a batch job that reads
    // 100k rows on purpose, so it speaks only from -vv on.
    let default = match verbose {
        0 => "warn,sqlx=error",
        1 => "info,sqlx=error",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Human => builder.with_target(false).init(),
        LogFormat::Json => builder.json().init(),
    }
}
