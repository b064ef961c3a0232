//! `collecte worker` and `collecte enqueue`.

use std::path::Path;

use chrono::NaiveDate;
use clap::Args;

use super::{CliError, Context, parse_date};
use crate::config::Job;
use crate::store::RequestOrigin;
use crate::worker::{self, EnqueueOutcome, Queue, WorkerOptions};

/// `collecte worker` options.
#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Do not fire the cron schedules here (another worker does); only run queued jobs.
    #[arg(long)]
    pub no_triggers: bool,
    /// Do not watch the inbox for bank files.
    #[arg(long)]
    pub no_inbox_watch: bool,
}

/// `collecte enqueue` arguments.
#[derive(Debug, Args)]
pub struct EnqueueArgs {
    /// The job: collect or ingest (the others are not built yet).
    pub job: String,
    /// Business date it runs for [default: today in the schedule's time zone].
    #[arg(long, value_parser = parse_date, value_name = "YYYY-MM-DD")]
    pub date: Option<NaiveDate>,
}

/// Runs the worker until SIGTERM or Ctrl-C.
pub async fn run_worker(explicit_config: Option<&Path>, args: WorkerArgs) -> Result<(), CliError> {
    let ctx = Context::open(explicit_config).await?;
    let options = WorkerOptions {
        triggers: !args.no_triggers,
        watch_inbox: !args.no_inbox_watch,
    };
    let store = ctx.store.clone();
    let result = worker::run(ctx.config, ctx.store, ctx.creditor, options).await;
    store.close().await;
    result.map_err(|e| CliError::Runtime(anyhow::Error::new(e)))
}

/// Asks the workers to run a job once for a business date.
pub async fn enqueue(explicit_config: Option<&Path>, args: EnqueueArgs) -> Result<(), CliError> {
    let job: Job = args
        .job
        .parse()
        .map_err(|e: crate::config::UnknownJob| CliError::Input(e.to_string()))?;
    if !crate::jobs::runner::is_built(job) {
        return Err(CliError::Input(format!("the {job} job is not built yet")));
    }
    let ctx = Context::open(explicit_config).await?;
    let date = args.date.unwrap_or_else(|| ctx.today());
    let mut queue = Queue::open(&ctx.config).await.map_err(|e| e.to_string());
    let queue = match &mut queue {
        Ok(q) => Ok(q),
        Err(reason) => Err(reason.as_str()),
    };
    let result = worker::enqueue(
        &ctx.store,
        queue,
        &ctx.config.queue,
        job,
        date,
        RequestOrigin::Manual,
        None,
    )
    .await;
    ctx.store.close().await;
    match result.map_err(|e| CliError::Runtime(anyhow::Error::new(e)))? {
        EnqueueOutcome::Queued(id) => println!("{job} {date}: queued as job request {id}"),
        EnqueueOutcome::Recorded(id, reason) => println!(
            "{job} {date}: recorded as job request {id}, but the queue is unreachable ({reason}); \
             a running worker queues it within a minute of the queue coming back"
        ),
        EnqueueOutcome::AlreadyRequested(row) => println!(
            "{job} {date}: already requested (job request {}, {}); a job runs once per business date",
            row.id, row.state
        ),
    }
    Ok(())
}
