//! `collecte run JOB`.

use std::path::Path;

use chrono::NaiveDate;
use clap::{Args, Subcommand};

use super::output::ReportFormat;
use super::{CliError, Context, parse_date};
use crate::config::{Config, Job as JobName};
use crate::jobs::JobError;
use crate::jobs::collect::{self, CollectReport};
use crate::jobs::ingest::{IngestReport, Outcome};
use crate::jobs::runner::{self, DAY, JobOutput, RunMode};

/// The jobs that can be run by hand.
#[derive(Debug, Subcommand)]
pub enum Job {
    /// Put due installments into pain.008 files in the outbox, exactly once.
    ///
    /// Collections due on the first date reachable from DATE under the bank's lead time (D-1 in
    /// TARGET2 business days by default, counted from the next business day when DATE is a
    /// weekend or holiday) go into one file per run (split at the profile's
    /// maximum); missed ones within the catch-up window are collected at that date, older ones
    /// are marked failed for review. Files appear complete or not at all; a second run for the
    /// same date writes nothing new. A run started while another collect run is under way
    /// waits for it (queue.wait_for_other_run_seconds, default 600), then finds its work done.
    Collect(JobArgs),
    /// Empty the bank drop folder: every pain.002, camt.053/054 (XML or zip) becomes
    /// settlements and R-transactions exactly once, then moves to processed/; a file that
    /// cannot be read moves to quarantine/ with a .reason.txt. Exits 4 when something was
    /// quarantined.
    Ingest(OutputArgs),
    /// The whole day, in order, through the same job code: ingest, then collect (the other
    /// jobs join as they are built). Exits 4 when a bank file was quarantined.
    Day(DayArgs),
}

/// Options of `run collect`.
#[derive(Debug, Args)]
pub struct JobArgs {
    /// Business date to run for [default: today in the schedule's time zone]. A past date
    /// runs as asked (a replay), with a warning when its collection date can no longer be
    /// reached by a file sent today.
    #[arg(long, value_parser = parse_date, value_name = "YYYY-MM-DD")]
    pub date: Option<NaiveDate>,
    /// Show what would be done (counts and totals per collection date and sequence type, what
    /// would fail and why) without writing anything: no file, no collection. The plans'
    /// installments up to that date are counted as the real run will materialise them (in a
    /// transaction rolled back at the end; on SQLite other writers wait for it meanwhile).
    #[arg(long)]
    pub dry_run: bool,
    /// A file a stopped run left unfinished that the bank confirmed it received, and that the
    /// outbox no longer holds in any form (a refusal names such files): recorded as sent, not
    /// written again. Repeat for several.
    #[arg(long, value_name = "FILE", conflicts_with = "dry_run")]
    pub sent: Vec<String>,
    /// Make the folder folders.outbox names this ledger's outbox from now on, though the
    /// ledger's files went to another (a refusal names both): it is marked if it has no
    /// marker, and recorded. Only for a folder made the outbox on purpose: a share that failed
    /// to mount is mounted back, not adopted (files written to its empty mount point would
    /// never reach the bank).
    #[arg(long, conflicts_with = "dry_run")]
    pub adopt_outbox: bool,
    /// table (a summary for people) or json.
    #[arg(long, value_enum, default_value_t)]
    pub format: ReportFormat,
}

/// Options of `run day`.
#[derive(Debug, Args)]
pub struct DayArgs {
    /// Business date to run for [default: today in the schedule's time zone].
    #[arg(long, value_parser = parse_date, value_name = "YYYY-MM-DD")]
    pub date: Option<NaiveDate>,
    /// table (a summary for people) or json.
    #[arg(long, value_enum, default_value_t)]
    pub format: ReportFormat,
}

/// Options of jobs that only print.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// table (a summary for people) or json.
    #[arg(long, value_enum, default_value_t)]
    pub format: ReportFormat,
}

pub(super) fn job_error(e: JobError) -> CliError {
    match e {
        JobError::Conflict(_) | JobError::Invalid(_) => CliError::Input(e.to_string()),
        JobError::Disagree(_) | JobError::Moved(_) | JobError::Replaced(_) => CliError::Unsafe(e.to_string()),
        other => CliError::Runtime(anyhow::Error::new(other)),
    }
}

/// Runs one job, or the day.
pub async fn run(explicit_config: Option<&Path>, job: Job) -> Result<(), CliError> {
    let ctx = Context::open(explicit_config).await?;
    let (jobs, date, dry_run, format): (&[JobName], _, _, _) = match &job {
        Job::Collect(a) => (&[JobName::Collect], a.date, a.dry_run, a.format),
        Job::Ingest(a) => (&[JobName::Ingest], None, false, a.format),
        Job::Day(a) => (&DAY, a.date, false, a.format),
    };
    let date = date.unwrap_or_else(|| ctx.today());
    // A person's word is recorded under collect's run lock, never beside a run finishing the
    // same file; the run goes on under the same lock.
    let mut held = None;
    if let Job::Collect(a) = &job
        && (a.adopt_outbox || !a.sent.is_empty())
    {
        let mut lock = runner::wait_for_run_lock(&ctx.config, &ctx.store, ctx.creditor, JobName::Collect)
            .await
            .map_err(job_error)?;
        let recorded = async {
            if a.adopt_outbox {
                collect::adopt_outbox(&ctx.config, &ctx.store, ctx.creditor, &mut lock).await?;
            }
            collect::confirm_sent(&ctx.config, &ctx.store, ctx.creditor, &a.sent, &mut lock).await
        }
        .await;
        if let Err(e) = recorded {
            lock.release().await;
            return Err(job_error(e));
        }
        held = Some(lock);
    }
    let mode = if dry_run { RunMode::DryRun } else { RunMode::Manual };
    let mut outputs = Vec::new();
    for name in jobs {
        let output = runner::run(&ctx.config, &ctx.store, ctx.creditor, *name, date, mode, held.take())
            .await
            .map_err(job_error)?;
        if format == ReportFormat::Table {
            print_output(&ctx.config, date, &output);
        }
        outputs.push(output);
    }
    ctx.store.close().await;
    if format == ReportFormat::Json {
        let json = match outputs.as_slice() {
            [one] => serde_json::to_string_pretty(one),
            many => serde_json::to_string_pretty(many),
        };
        println!("{}", json.map_err(anyhow::Error::new)?);
    }
    match outputs.iter().map(JobOutput::set_aside).sum::<usize>() {
        0 => Ok(()),
        n => Err(CliError::Partial(format!(
            "{n} bank file(s) quarantined in {} (see the .reason.txt beside each)",
            ctx.config.folders.quarantine.display()
        ))),
    }
}

fn print_output(config: &Config, date: NaiveDate, output: &JobOutput) {
    match output {
        JobOutput::Collect(r) => print_collect(config, date, r),
        JobOutput::Ingest(r) => print_ingest(config, r),
    }
}

fn print_collect(config: &Config, date: NaiveDate, report: &CollectReport) {
    let verb = if report.dry_run { "would collect" } else { "collected" };
    let count: u64 = report.groups.iter().map(|g| g.count).sum();
    if count == 0 && report.files.is_empty() {
        println!(
            "collect {date}: nothing new to collect ({} collection(s) of this date already in files)",
            report.already_in_files
        );
    } else {
        println!("collect {date}: {verb} {count} collection(s), {} EUR", report.total);
    }
    for g in &report.groups {
        println!(
            "  {} {:<4} {:>8} x  {:>16} EUR",
            g.collection_date, g.sequence_type, g.count, g.total
        );
    }
    for f in &report.files {
        let (verb, how) = match (report.dry_run, f.already_taken, f.recovered) {
            (true, true, _) => (
                "would record as sent",
                " (an interrupted run placed it, and it has left the outbox since)",
            ),
            (true, false, _) => ("would finish", " (left by an interrupted run)"),
            (false, true, _) => (
                "recorded as sent",
                " (an interrupted run placed it, and it has left the outbox since: not written again)",
            ),
            (false, false, true) => ("wrote", " (finished after an interrupted run)"),
            (false, false, false) => ("wrote", ""),
        };
        println!(
            "  {verb} {} ({} transactions, {} EUR){how}",
            config.folders.outbox.join(&f.file).display(),
            f.transactions,
            f.total
        );
    }
    if report.held > 0 {
        println!("  {} held: their plan is paused", report.held);
    }
    if report.failed_count > 0 {
        let verb = if report.dry_run { "would fail" } else { "failed" };
        println!(
            "  {} {verb} (see `collecte collections --status failed`):",
            report.failed_count
        );
        for (id, reason) in report.failed.iter().take(20) {
            println!("    collection {id}: {reason}");
        }
    }
}

fn print_ingest(config: &Config, report: &IngestReport) {
    if report.files.is_empty() {
        println!("ingest: the inbox {} is empty", config.folders.inbox.display());
    }
    for f in &report.files {
        let b = &f.booked;
        let (outcome, what) = match f.outcome {
            Outcome::Processed => (
                "processed",
                format!(
                    "{}: {} R-transaction(s), {} settlement(s), {} unmatched, {} already booked",
                    f.messages.join(" + "),
                    b.r_transactions,
                    b.settlements,
                    b.unmatched,
                    b.already_booked
                ),
            ),
            Outcome::Duplicate => ("duplicate", f.note.clone().unwrap_or_default()),
            Outcome::Quarantined => ("quarantined", f.note.clone().unwrap_or_default()),
        };
        println!("{outcome} {}: {what} -> {}", f.file, f.moved_to.display());
    }
}
