//! The `collecte` binary: the edge where errors become one line on stderr and an exit code.

use std::process::ExitCode;

use clap::Parser;
use collecte::cli::{Cli, run};

fn main() -> ExitCode {
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
            // `{:#}` chains the causes on one line: "what: why: root cause".
            match &e {
                collecte::cli::CliError::Runtime(inner) => eprintln!("collecte: {inner:#}"),
                collecte::cli::CliError::Input(msg) | collecte::cli::CliError::Partial(msg) => {
                    eprintln!("collecte: {msg}")
                }
            }
            e.exit_code()
        }
    }
}
