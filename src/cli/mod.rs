//! The `collecte` command line: parses arguments, calls the store or a job, prints results.
//!
//! No business rule lives here. Exit codes: 0 done; 1 something failed at run time (database
//! unreachable, disk full); 2 bad usage (unknown flag, bad argument); 3 bad input refused
//! (invalid config, import file with bad rows, unknown collection id); 4 done, but some input
//! was set aside (a bank file quarantined); 5 refused for safety (the outbox holds files the
//! ledger has no record of, or a stopped run's file was reserved in another outbox folder).

mod action_center;
mod collections;
mod demo;
mod import;
mod init;
mod inspect;
mod jobs;
mod manual;
mod output;
mod run;
mod worker;

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::NaiveDate;
use clap::{Parser, Subcommand};

use crate::config::{Config, EnvOverrides, config_path};
use crate::store::{CreditorKey, Store};
use crate::telemetry::LogFormat;

/// SEPA direct-debit back office: builds pain.008 files from payment plans and books the bank's
/// returns and settlements (retries, card-expiry warnings, reconciliation, digests and
/// statements are not built yet).
#[derive(Debug, Parser)]
#[command(name = "collecte", version, propagate_version = true)]
#[command(
    after_help = "Exit codes: 0 done, 1 run-time failure, 2 bad usage, 3 bad input refused, 4 done but something set aside (a bank file quarantined), 5 refused for safety: the outbox holds files of this ledger it has no record of (restored from an older backup?), or a stopped run's file was reserved in another outbox folder than folders.outbox names now; nothing collected.\n\
Environment: COLLECTE_CONFIG (config file), DATABASE_URL, REDIS_URL, SMTP_URL override the config."
)]
pub struct Cli {
    /// Configuration file [default: $COLLECTE_CONFIG, else ./collecte.toml].
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Log format on stderr: human (default) or json (one object per line, for log shippers).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,
    /// More log detail (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create collecte.toml (a commented example with a valid demo creditor) in the current
    /// directory if missing, the exchange folders beside it, and the database.
    Init,
    /// Import a CSV file (all or nothing; re-importing the same file changes nothing).
    ///
    /// KIND is customers, mandates, cards, plans, invoices or payments; `all DIR` imports
    /// DIR/customers.csv, mandates.csv, cards.csv, plans.csv, invoices.csv and payments.csv
    /// in that order, skipping missing ones. Formats: docs/import.md.
    Import(import::ImportArgs),
    /// List collections (installment attempts) with their status, EndToEndId, pain.008 file (and
    /// whether it is complete in the outbox) and reason, filtered, as a table, CSV or JSON.
    Collections(collections::ListArgs),
    /// Show one collection and its timeline (created, in file, settled, returned, ...).
    Show(collections::ShowArgs),
    /// Present a failed collection again: a new attempt (its own EndToEndId) of the same
    /// installment and amount, due on the first collection date the next collect run reaches.
    /// Only a failed direct-debit collection under a mandate in force, once.
    Retry(manual::RetryArgs),
    /// Set a failed collection aside (status `ignored`): it is not presented again.
    Ignore(manual::IgnoreArgs),
    /// Show what a pain.008, pain.002 or camt file (or a zip of them) holds: groups, counts,
    /// totals and dates, or R-transactions and settlements. Needs no configuration or database.
    Inspect(inspect::InspectArgs),
    /// Lists that need a person: `unmatched` (bank entries and statuses that match nothing of
    /// ours).
    #[command(name = "action-center", subcommand)]
    ActionCenter(action_center::View),
    /// Recent job runs (job, business date, worker, start, duration, outcome, what it did),
    /// queued and dead job requests; `jobs requeue ID` runs a dead one again.
    Jobs(jobs::JobsArgs),
    /// Run one job by hand (as the worker would): collect, ingest, or the whole day.
    #[command(subcommand)]
    Run(run::Job),
    /// Run jobs from the durable queue until SIGTERM or Ctrl-C, fire the cron schedules of
    /// `jobs/` (in their time zone, once per job and business date, catching up a firing
    /// missed while no worker ran) and queue `ingest` when files land in the inbox. Start as
    /// many as you like, on as many machines: with REDIS_URL they share Redis, else the SQL
    /// queue beside the ledger.
    Worker(worker::WorkerArgs),
    /// Queue a job for the workers, once per job and business date (a second enqueue of the
    /// same date says so and adds nothing).
    Enqueue(worker::EnqueueArgs),
    /// Generate a demo customer book in a new folder, run a whole day on it, play the bank,
    /// ingest its answers, and print what happened and where every file is.
    Demo(demo::DemoArgs),
}

/// An error that maps to an exit code; its message is the one line printed on stderr.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad usage the argument parser cannot see, e.g. a folder that must be empty (exit 2).
    #[error("{0}")]
    Usage(String),
    /// Bad input refused (exit 3).
    #[error("{0}")]
    Input(String),
    /// Done, but some input was set aside (exit 4).
    #[error("{0}")]
    Partial(String),
    /// Refused for safety: the ledger and the outbox disagree; a person must look (exit 5).
    #[error("{0}")]
    Unsafe(String),
    /// Run-time failure (exit 1).
    #[error(transparent)]
    Runtime(#[from] anyhow::Error),
}

impl CliError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Self::Usage(_) => ExitCode::from(2),
            Self::Input(_) => ExitCode::from(3),
            Self::Partial(_) => ExitCode::from(4),
            Self::Unsafe(_) => ExitCode::from(5),
            Self::Runtime(_) => ExitCode::from(1),
        }
    }
}

/// Everything a command that touches the ledger needs.
pub(crate) struct Context {
    pub config: Config,
    pub store: Store,
    pub creditor: CreditorKey,
}

impl Context {
    /// Loads the configuration, opens (and migrates) the ledger, records the creditor.
    pub async fn open(explicit_config: Option<&std::path::Path>) -> Result<Self, CliError> {
        Self::load(&config_path(explicit_config), &EnvOverrides::from_env()).await
    }

    /// [`Context::open`] with the config file and the environment overrides given.
    pub async fn load(path: &std::path::Path, env: &EnvOverrides) -> Result<Self, CliError> {
        let config = Config::load(path, env).map_err(|e| CliError::Input(e.to_string()))?;
        let store = Store::open(&config.database)
            .await
            .map_err(|e| CliError::Runtime(anyhow::Error::new(e)))?;
        let creditor = store
            .sync_creditor(&config.creditor_snapshot())
            .await
            .map_err(|e| CliError::Runtime(anyhow::Error::new(e)))?;
        Ok(Self {
            config,
            store,
            creditor,
        })
    }

    /// The business date now, in the schedule's time zone.
    pub fn today(&self) -> NaiveDate {
        self.config.schedule.today()
    }
}

/// Parses `--date` values.
pub(crate) fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| format!("{s:?} is not a date: expected YYYY-MM-DD"))
}

/// Runs the parsed command.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Init => init::run(cli.config.as_deref()).await,
        Command::Import(args) => import::run(cli.config.as_deref(), args).await,
        Command::Collections(args) => collections::list(cli.config.as_deref(), args).await,
        Command::Show(args) => collections::show(cli.config.as_deref(), args).await,
        Command::Retry(args) => manual::retry(cli.config.as_deref(), args).await,
        Command::Ignore(args) => manual::ignore(cli.config.as_deref(), args).await,
        Command::Inspect(args) => inspect::run(&args),
        Command::ActionCenter(view) => action_center::run(cli.config.as_deref(), view).await,
        Command::Jobs(args) => jobs::run(cli.config.as_deref(), args).await,
        Command::Run(job) => run::run(cli.config.as_deref(), job).await,
        Command::Worker(args) => worker::run_worker(cli.config.as_deref(), args).await,
        Command::Enqueue(args) => worker::enqueue(cli.config.as_deref(), args).await,
        Command::Demo(args) => demo::run(args).await,
    }
}
