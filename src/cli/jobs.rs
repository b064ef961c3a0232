//! `collecte jobs`: what ran, when, where and how it ended.

use std::path::Path;

use clap::Args;

use super::output::{Format, Tabular, print_rows};
use super::{CliError, Context};
use crate::store::JobRunRow;

/// How many runs and in which format.
#[derive(Debug, Args)]
pub struct JobsArgs {
    /// How many recent runs.
    #[arg(long, default_value_t = 30)]
    pub limit: i64,
    /// table, csv or json.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
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

/// Lists recent job runs.
pub async fn run(explicit_config: Option<&Path>, args: JobsArgs) -> Result<(), CliError> {
    let ctx = Context::open(explicit_config).await?;
    let rows = ctx
        .store
        .recent_job_runs(args.limit.max(1))
        .await
        .map_err(anyhow::Error::new)?;
    ctx.store.close().await;
    print_rows(args.format, &rows).map_err(|e| anyhow::anyhow!("cannot write to stdout: {e}"))?;
    Ok(())
}
