//! `collecte jobs`: what ran, what waits and what died; `collecte jobs requeue ID`.

use std::path::Path;

use clap::{Args, Subcommand};
use serde::Serialize;

use super::output::{Format, Tabular, print_rows};
use super::{CliError, Context};
use crate::store::{JobRequestRow, JobRunRow};
use crate::worker::{Queue, WorkerError, enqueue};

/// How many runs and in which format, or a subcommand.
#[derive(Debug, Args)]
pub struct JobsArgs {
    /// Act on a job request instead of listing.
    #[command(subcommand)]
    pub action: Option<JobsAction>,
    /// How many recent runs (and at most how many queued and dead requests).
    #[arg(long, default_value_t = 30)]
    pub limit: i64,
    /// table (runs, then queued and running requests, then dead ones), csv (runs only) or
    /// json (one object: runs, queued, dead).
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// What to do with a job request.
#[derive(Debug, Subcommand)]
pub enum JobsAction {
    /// Put a dead job request (see the "dead" list) back in the queue with fresh attempts;
    /// a running worker picks it up.
    Requeue {
        /// The request id (`collecte jobs` lists it).
        id: i64,
    },
}

impl Tabular for JobRunRow {
    const HEADERS: &'static [&'static str] = &[
        "id",
        "job",
        "business_date",
        "worker",
        "started_at",
        "duration",
        "outcome",
        "what",
    ];

    fn cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.job.clone(),
            self.business_date.to_string(),
            self.worker.clone(),
            self.started_at.format("%Y-%m-%d %H:%M:%S").to_string(),
            self.finished_at.map_or_else(String::new, |f| {
                let ms = (f - self.started_at).num_milliseconds();
                format!("{}.{:03}s", ms / 1000, ms % 1000)
            }),
            self.outcome.clone(),
            self.summary.clone().or_else(|| self.error.clone()).unwrap_or_default(),
        ]
    }
}

impl Tabular for JobRequestRow {
    const HEADERS: &'static [&'static str] = &[
        "request",
        "job",
        "business_date",
        "origin",
        "state",
        "attempts",
        "enqueued_at",
        "not_before",
        "worker",
        "last_error",
    ];

    fn cells(&self) -> Vec<String> {
        let time = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M:%S").to_string();
        vec![
            self.id.to_string(),
            self.job.clone(),
            self.business_date.to_string(),
            self.origin.clone(),
            self.state.clone(),
            format!("{}/{}", self.attempts, self.max_attempts),
            time(self.enqueued_at),
            self.run_after.map(time).unwrap_or_default(),
            self.worker.clone().unwrap_or_default(),
            self.last_error.clone().unwrap_or_default(),
        ]
    }
}

#[derive(Serialize)]
struct Listing<'a> {
    runs: &'a [JobRunRow],
    queued: &'a [JobRequestRow],
    dead: &'a [JobRequestRow],
}

/// Lists runs and requests, or re-queues a dead request.
pub async fn run(explicit_config: Option<&Path>, args: JobsArgs) -> Result<(), CliError> {
    let ctx = Context::open(explicit_config).await?;
    let result = match args.action {
        Some(JobsAction::Requeue { id }) => requeue(&ctx, id).await,
        None => list(&ctx, args.limit.max(1), args.format).await,
    };
    ctx.store.close().await;
    result
}

async fn list(ctx: &Context, limit: i64, format: Format) -> Result<(), CliError> {
    let runtime = |e: crate::store::StoreError| CliError::Runtime(anyhow::Error::new(e));
    let runs = ctx.store.recent_job_runs(limit).await.map_err(runtime)?;
    let queued = ctx
        .store
        .job_requests(&["queued", "running"], limit)
        .await
        .map_err(runtime)?;
    let dead = ctx.store.job_requests(&["dead"], limit).await.map_err(runtime)?;
    let stdout_error = |e: std::io::Error| CliError::Runtime(anyhow::anyhow!("cannot write to stdout: {e}"));
    match format {
        Format::Json => {
            let listing = Listing {
                runs: &runs,
                queued: &queued,
                dead: &dead,
            };
            let text = serde_json::to_string_pretty(&listing).map_err(anyhow::Error::new)?;
            println!("{text}");
        }
        Format::Csv => print_rows(format, &runs).map_err(stdout_error)?,
        Format::Table => {
            println!("Recent runs");
            print_rows(format, &runs).map_err(stdout_error)?;
            println!("\nQueued and running ({})", queued.len());
            if !queued.is_empty() {
                print_rows(format, &queued).map_err(stdout_error)?;
            }
            println!(
                "\nDead ({}){}",
                dead.len(),
                if dead.is_empty() {
                    ""
                } else {
                    ": `collecte jobs requeue ID` runs one again"
                }
            );
            if !dead.is_empty() {
                print_rows(format, &dead).map_err(stdout_error)?;
            }
        }
    }
    Ok(())
}

async fn requeue(ctx: &Context, id: i64) -> Result<(), CliError> {
    let runtime = |e: &dyn std::fmt::Display| CliError::Runtime(anyhow::anyhow!("{e}"));
    let Some(row) = ctx.store.requeue_dead_request(id).await.map_err(|e| runtime(&e))? else {
        return Err(CliError::Input(format!(
            "job request {id} is not dead (or does not exist): only dead requests can be re-queued; see `collecte jobs`"
        )));
    };
    let pushed = async {
        let mut queue = Queue::open(&ctx.config).await?;
        enqueue::push(&ctx.store, &mut queue, id, None).await?;
        Ok::<_, WorkerError>(queue.name())
    };
    let backend = pushed.await.map_err(|e| {
        runtime(&format!(
            "job request {id} is queued again in the ledger, but {e}; a worker will queue it once the queue is back"
        ))
    })?;
    println!(
        "job request {id} ({} {}) queued again on {backend}",
        row.job, row.business_date
    );
    Ok(())
}
