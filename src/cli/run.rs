//! `collecte run JOB`.

use std::path::Path;

use chrono::NaiveDate;
use clap::{Args, Subcommand};

use super::output::Format;
use super::{CliError, Context, parse_date};
use crate::jobs::{self, JobError};

/// The jobs that can be run by hand.
#[derive(Debug, Subcommand)]
pub enum Job {
    /// Put due installments into pain.008 files in the outbox, exactly once.
    ///
    /// Collections due on the first date reachable from DATE under the bank's lead time (D-1 in
    /// TARGET2 business days by default) go into one file per run (split at the profile's
    /// maximum); missed ones within the catch-up window are collected at that date, older ones
    /// are marked failed for review. Files appear complete or not at all; a second run for the
    /// same date writes nothing new.
    Collect(JobArgs),
    /// Empty the bank drop folder: every pain.002, camt.053/054 (XML or zip) becomes
    /// settlements and R-transactions exactly once, then moves to processed/; a file that
    /// cannot be read moves to quarantine/ with a .reason.txt. Exits 4 when something was
    /// quarantined.
    Ingest(IngestArgs),
}

/// Options of `run ingest`.
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// table (a summary for people) or json.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Options every job takes.
#[derive(Debug, Args)]
pub struct JobArgs {
    /// Business date to run for [default: today in the schedule's time zone].
    #[arg(long, value_parser = parse_date, value_name = "YYYY-MM-DD")]
    pub date: Option<NaiveDate>,
    /// Show what would be done (counts and totals) without writing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// table (a summary for people) or json.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

fn job_error(e: JobError) -> CliError {
    match e {
        JobError::Conflict(_) | JobError::Invalid(_) => CliError::Input(e.to_string()),
        other => CliError::Runtime(anyhow::Error::new(other)),
    }
}

/// Runs one job.
pub async fn run(explicit_config: Option<&Path>, job: Job) -> Result<(), CliError> {
    let ctx = Context::open(explicit_config).await?;
    match job {
        Job::Collect(args) => {
            let date = args.date.unwrap_or_else(|| ctx.today());
            let report = jobs::collect::run(&ctx.config, &ctx.store, ctx.creditor, date, args.dry_run)
                .await
                .map_err(job_error)?;
            ctx.store.close().await;
            if args.format == Format::Json {
                println!("{}", serde_json::to_string_pretty(&report).map_err(anyhow::Error::new)?);
                return Ok(());
            }
            let verb = if report.dry_run { "would collect" } else { "collected" };
            let count: u64 = report.groups.iter().map(|g| g.count).sum();
            if count == 0 && report.files.is_empty() {
                println!(
                    "collect {date}: nothing new to collect ({} collection(s) of this date already in files)",
                    report.already_in_files
                );
            } else {
                println!("collect {date}: {verb} {count} collection(s)");
            }
            for g in &report.groups {
                println!(
                    "  {} {:<4} {:>8} x  {:>16} EUR",
                    g.collection_date, g.sequence_type, g.count, g.total
                );
            }
            for f in &report.files {
                let how = if f.recovered {
                    " (finished after an interrupted run)"
                } else {
                    ""
                };
                println!(
                    "  wrote {} ({} transactions, {} EUR){how}",
                    ctx.config.folders.outbox.join(&f.file).display(),
                    f.transactions,
                    f.total
                );
            }
            if report.held > 0 {
                println!("  {} held: their plan is paused", report.held);
            }
            if !report.failed.is_empty() {
                let verb = if report.dry_run { "would fail" } else { "failed" };
                println!(
                    "  {} {verb} (see `collecte collections --status failed`):",
                    report.failed.len()
                );
                for (id, reason) in report.failed.iter().take(20) {
                    println!("    collection {id}: {reason}");
                }
            }
            Ok(())
        }
        Job::Ingest(args) => {
            let report = jobs::ingest::run(&ctx.config, &ctx.store, ctx.creditor)
                .await
                .map_err(job_error)?;
            ctx.store.close().await;
            if args.format == Format::Json {
                println!("{}", serde_json::to_string_pretty(&report).map_err(anyhow::Error::new)?);
            } else if report.files.is_empty() {
                println!("ingest: the inbox {} is empty", ctx.config.folders.inbox.display());
            } else {
                for f in &report.files {
                    let b = &f.booked;
                    let what = match f.outcome {
                        jobs::ingest::Outcome::Processed => format!(
                            "{}: {} R-transaction(s), {} settlement(s), {} unmatched, {} already booked",
                            f.messages.join(" + "),
                            b.r_transactions,
                            b.settlements,
                            b.unmatched,
                            b.already_booked
                        ),
                        _ => f.note.clone().unwrap_or_default(),
                    };
                    let outcome = serde_json::to_value(&f.outcome).map_err(anyhow::Error::new)?;
                    println!(
                        "{} {}: {what} -> {}",
                        outcome.as_str().unwrap_or_default(),
                        f.file,
                        f.moved_to.display()
                    );
                }
            }
            match report.quarantined() {
                0 => Ok(()),
                n => Err(CliError::Partial(format!(
                    "ingest: {n} file(s) quarantined in {} (see the .reason.txt beside each)",
                    ctx.config.folders.quarantine.display()
                ))),
            }
        }
    }
}
