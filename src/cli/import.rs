//! `collecte import`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use clap::Args;

use super::{CliError, Context, parse_date};
use crate::config::Job;
use crate::import::{ImportError, ImportKind, MAX_SHOWN_PROBLEMS, parse};
use crate::jobs::runner;
use crate::store::{ImportCounts, ImportOutcome};
use crate::telemetry::Progress;

/// What to import: a kind of file and its path, or `all` and a folder.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// customers, mandates, cards, plans, invoices, payments, or all (with a folder).
    #[arg(value_name = "KIND", value_parser = parse_target)]
    pub kind: Target,
    /// The CSV file (or, with `all`, the folder holding KIND.csv files).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Business date the changes take effect on [default: today in the schedule's time zone].
    #[arg(long, value_parser = parse_date, value_name = "YYYY-MM-DD")]
    pub date: Option<NaiveDate>,
}

/// One kind, or every kind from a folder.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// One file of one kind.
    One(ImportKind),
    /// DIR/<kind>.csv for every kind, in dependency order.
    All,
}

fn parse_target(s: &str) -> Result<Target, String> {
    if s == "all" {
        return Ok(Target::All);
    }
    <ImportKind as clap::ValueEnum>::from_str(s, false)
        .map(Target::One)
        .map_err(|_| "expected customers, mandates, cards, plans, invoices, payments or all".to_owned())
}

/// Imports one file or a folder of files, each all or nothing.
pub async fn run(explicit_config: Option<&Path>, args: ImportArgs) -> Result<(), CliError> {
    let files: Vec<(ImportKind, PathBuf)> = match args.kind {
        Target::One(kind) => vec![(kind, args.file.clone())],
        Target::All => {
            if !args.file.is_dir() {
                return Err(CliError::Input(format!(
                    "import all: {} is not a folder",
                    args.file.display()
                )));
            }
            ImportKind::ALL
                .iter()
                .map(|k| (*k, args.file.join(format!("{}.csv", k.name()))))
                .filter(|(_, p)| p.exists())
                .collect()
        }
    };
    let ctx = Context::open(explicit_config).await?;
    let today = args.date.unwrap_or_else(|| ctx.today());
    import_files(&ctx, files, today, |path, c| {
        let what = if c.is_noop() { " (nothing changed)" } else { "" };
        println!(
            "{}: {} new, {} updated, {} unchanged, {} amendment(s), {} collection change(s){what}",
            path.display(),
            c.inserted,
            c.updated,
            c.unchanged,
            c.amendments,
            c.collections_changed
        );
        if c.lapsed_on_arrival > 0 {
            tracing::warn!(
                file = %path.display(),
                mandates = c.lapsed_on_arrival,
                "new mandates signed more than 36 months ago, with no last_collected_on: collect will find them lapsed \
                 and fail their collections; give last_collected_on if the system you replace collected them"
            );
        }
    })
    .await?;
    ctx.store.close().await;
    Ok(())
}

/// Reads and parses every file before touching the ledger, then imports each in its own
/// transaction (all or nothing), calling `applied` after each: `import` and `demo` load data
/// through this one path.
pub(super) async fn import_files(
    ctx: &Context,
    files: Vec<(ImportKind, PathBuf)>,
    today: NaiveDate,
    mut applied: impl FnMut(&Path, &ImportCounts),
) -> Result<(), CliError> {
    let progress = Progress::of(2 * files.len() as u64, "import", "steps (read, record)");
    let mut parsed = Vec::new();
    for (kind, path) in files {
        progress.say(&format!("reading {}", path.display()));
        let bytes = std::fs::read(&path)
            .map_err(|e| CliError::Input(format!("import {}: cannot read {}: {e}", kind.name(), path.display())))?;
        let file = parse(kind, &bytes, today).map_err(|e| refused(kind, &path, &e))?;
        parsed.push((kind, path, file));
        progress.add(1);
    }
    // Not beside a collect run: it reads mandates, plans and amendments page by page, and
    // must see each as it was when it started.
    let collect = runner::wait_for_run_lock(&ctx.config, &ctx.store, ctx.creditor, Job::Collect)
        .await
        .map_err(super::run::job_error)?;
    for (kind, path, file) in parsed {
        progress.say(&format!(
            "recording {} {} of {}",
            file.batch.len(),
            kind.name(),
            path.display()
        ));
        match ctx
            .store
            .import(ctx.creditor, &file.batch, file.problems, today)
            .await
            .map_err(anyhow::Error::new)?
        {
            ImportOutcome::Applied(c) => {
                progress.add(1);
                progress.aside(|| applied(&path, &c));
            }
            ImportOutcome::Refused(problems) => {
                return Err(refused(kind, &path, &ImportError::rows(problems)));
            }
        }
    }
    collect.release().await;
    Ok(())
}

/// One summary line, then one line per problem (at most [`MAX_SHOWN_PROBLEMS`]).
fn refused(kind: ImportKind, path: &Path, e: &ImportError) -> CliError {
    let mut msg = format!("import {} {}: {e}", kind.name(), path.display());
    if let ImportError::Rows { problems, .. } = e {
        for p in problems.iter().take(MAX_SHOWN_PROBLEMS) {
            let _ = write!(msg, "\n  {p}");
        }
        if problems.len() > MAX_SHOWN_PROBLEMS {
            let _ = write!(msg, "\n  ... and {} more", problems.len() - MAX_SHOWN_PROBLEMS);
        }
    }
    CliError::Input(msg)
}
