//! The `collecte` binary: the edge where errors become one line on stderr and an exit code.

use std::process::ExitCode;

use clap::Parser;
use collecte::cli::{Cli, run};

fn main() -> ExitCode {
    restore_sigpipe();
    let cli = Cli::parse();
    collecte::telemetry::init(cli.log_format, cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("collecte: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            match &e {
                collecte::cli::CliError::Runtime(inner) => eprintln!("collecte: {}", one_line(inner)),
                collecte::cli::CliError::Usage(msg)
                | collecte::cli::CliError::Input(msg)
                | collecte::cli::CliError::Partial(msg)
                | collecte::cli::CliError::Unsafe(msg) => {
                    eprintln!("collecte: {msg}")
                }
            }
            e.exit_code()
        }
    }
}

/// The error and its causes on one line, "what: why: root cause", each cause said once: the
/// library's errors already end with their cause's text (so that they read whole in a log
/// too), which `{:#}` would repeat after them.
fn one_line(e: &anyhow::Error) -> String {
    let mut line = e.to_string();
    for cause in e.chain().skip(1) {
        let text = cause.to_string();
        if !line.ends_with(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
    }
    line
}

/// Lets `collecte collections | head` end quietly when the reader goes away, as every Unix
/// filter does, instead of failing on a write to a closed pipe (Rust ignores SIGPIPE).
fn restore_sigpipe() {
    // SAFETY: called first thing in `main`, before any thread exists; SIG_DFL is a valid
    // disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
