//! `collecte demo`: the product end to end on generated data, in a folder of its own.
//!
//! Steps: create `collecte.toml`, the folders and a SQLite ledger in the folder (the same code
//! as `init`; `DATABASE_URL`, `REDIS_URL` and `SMTP_URL` are ignored so that demo data never
//! lands in a real ledger); generate the customer book into `demo-data/` and load it through
//! the code of `import all`; run the day's jobs through the job runner (what `run day` runs);
//! play the bank on every pain.008 file the day wrote, dropping its answers into the inbox;
//! run the day's jobs again except collect (ingest books the answers; retry, reconcile and
//! digest will act on them once built); print what happened, where every file is, and which
//! jobs are not built yet.
//!
//! The folder must be new or empty: a demo never mixes with earlier data. Without `--dir` a
//! fresh folder is made under the system's temporary directory, so the command can be run
//! again and again as written in the README.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use chrono::{NaiveDate, Offset, TimeZone};
use clap::Args;
use serde::Serialize;

use super::output::ReportFormat;
use super::run::job_error;
use super::{CliError, Context, import, init, parse_date};
use crate::config::{DEFAULT_CONFIG_FILE, EnvOverrides, Folders, Job};
use crate::demo::bank::{self, Mix, Tally};
use crate::demo::{self as generator, DemoError, Spec, Stats};
use crate::domain::collect::reachable_date;
use crate::jobs::collect::CollectReport;
use crate::jobs::ingest::IngestReport;
use crate::jobs::outbox::write_atomically;
use crate::jobs::runner::{self, DAY, JobOutput, RunMode};
use crate::sepa::calendar;
use crate::store::{ImportCounts, StatusTotal};

/// Options of `collecte demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Folder to run the demo in; it must be missing or empty [default: a new folder
    /// collecte-demo-* under the system's temporary directory].
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Number of customers to generate.
    #[arg(long, default_value_t = 300, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=2_000_000))]
    pub customers: u32,
    /// Business date of the day [default: today in Europe/Paris]; moved to the next TARGET2
    /// business day when the bank is closed.
    #[arg(long, value_parser = parse_date, value_name = "YYYY-MM-DD")]
    pub date: Option<NaiveDate>,
    /// Chooses the generated book and the bank's decisions: the same seed and date give the
    /// same files.
    #[arg(long, default_value_t = 1, value_name = "S")]
    pub seed: u64,
    /// Run on this PostgreSQL database instead of an SQLite file in the folder (for measuring
    /// the day on PostgreSQL); it must hold no collections yet. `DATABASE_URL` is still
    /// ignored: the database must be named here, on purpose.
    #[arg(long, value_name = "postgres://USER@HOST/DB")]
    pub postgres: Option<String>,
    /// table (a summary for people) or json.
    #[arg(long, value_enum, default_value_t)]
    pub format: ReportFormat,
}

/// Everything the demo did, as printed (`--format json` prints this object).
#[derive(Debug, Serialize)]
pub struct Summary {
    /// The business date the day ran for.
    pub business_date: NaiveDate,
    /// The collection date its file asks for (D-1 under the bank profile).
    pub collection_date: NaiveDate,
    /// The seed.
    pub seed: u64,
    /// What the generated book holds.
    pub book: Stats,
    /// Each CSV file loaded and what it created.
    pub loaded: Vec<Loaded>,
    /// The day's jobs in the order run (the day, then after the bank's answers), with their
    /// one-line summaries.
    pub day: Vec<JobLine>,
    /// What the collect job wrote.
    pub collected: Collected,
    /// What the bank answered, per pain.008 file.
    pub bank: Vec<BankAnswer>,
    /// What ingest did with each answer.
    pub ingested: Vec<Ingested>,
    /// The ledger afterwards: collections per status.
    pub ledger: Vec<StatusTotal>,
    /// Jobs of a day that are not built yet (the demo will run them when they are).
    pub not_built: Vec<&'static str>,
    /// Where every file is.
    pub paths: Paths,
    /// Wall time of each step, in milliseconds, in order.
    pub steps: Vec<Step>,
}

/// One loaded CSV file.
#[derive(Debug, Serialize)]
pub struct Loaded {
    /// The file.
    pub file: PathBuf,
    /// What it changed.
    pub counts: ImportCounts,
}

/// One job of the day.
#[derive(Debug, Serialize)]
pub struct JobLine {
    /// `day` (before the bank answered) or `after the bank`.
    pub phase: &'static str,
    /// Its name.
    pub job: &'static str,
    /// What it did, as `collecte jobs` shows it.
    pub summary: String,
}

/// The collect job's result in short.
#[derive(Debug, Default, Serialize)]
pub struct Collected {
    /// Files written, in the outbox.
    pub files: Vec<CollectedFile>,
    /// Transactions per sequence type.
    pub sequence_types: BTreeMap<&'static str, u64>,
    /// Collections held (paused plans).
    pub held: u64,
    /// Collections refused for a person to look at.
    pub failed: u64,
}

/// One pain.008 file.
#[derive(Debug, Serialize)]
pub struct CollectedFile {
    /// Where it is.
    pub path: PathBuf,
    /// Transactions in it.
    pub transactions: i64,
    /// Their total, `"1234.56"`.
    pub total: String,
}

/// The bank's answer to one pain.008 file.
#[derive(Debug, Serialize)]
pub struct BankAnswer {
    /// The pain.008 file answered.
    pub original: String,
    /// Names of the reply files dropped into the inbox.
    pub replies: Vec<String>,
    /// What they say.
    pub tally: Tally,
}

/// One reply file after ingest.
#[derive(Debug, Serialize)]
pub struct Ingested {
    /// Its name in the inbox.
    pub file: String,
    /// `processed`, `duplicate` or `quarantined`.
    pub outcome: String,
    /// R-transactions booked.
    pub r_transactions: u64,
    /// Settlements booked.
    pub settlements: u64,
    /// Entries that matched nothing of ours.
    pub unmatched: u64,
    /// Where it is now.
    pub moved_to: PathBuf,
}

/// Where everything is.
#[derive(Debug, Serialize)]
pub struct Paths {
    /// The demo folder.
    pub dir: PathBuf,
    /// Its configuration.
    pub config: PathBuf,
    /// The ledger.
    pub database: String,
    /// The generated CSV files.
    pub demo_data: PathBuf,
    /// The project's folders (outbox, inbox, processed, quarantine, statements, mail), as
    /// fields of this object in JSON.
    #[serde(flatten)]
    pub folders: Folders,
}

/// One timed step.
#[derive(Debug, Serialize)]
pub struct Step {
    /// What it was.
    pub step: String,
    /// How long it took.
    pub millis: u128,
}

/// Times the steps one after the other.
struct Clock {
    last: Instant,
    steps: Vec<Step>,
}

impl Clock {
    fn start() -> Self {
        Self {
            last: Instant::now(),
            steps: Vec::new(),
        }
    }

    fn lap(&mut self, step: String) {
        let now = Instant::now();
        self.steps.push(Step {
            step,
            millis: now.duration_since(self.last).as_millis(),
        });
        self.last = now;
    }
}

fn demo_error(e: DemoError) -> CliError {
    CliError::Runtime(anyhow::Error::new(e))
}

/// Runs the demo.
pub async fn run(args: DemoArgs) -> Result<(), CliError> {
    let mut clock = Clock::start();
    let dir = demo_dir(args.dir.as_deref())?;
    let config_path = dir.join(DEFAULT_CONFIG_FILE);
    let env = EnvOverrides {
        database_url: args.postgres.clone(),
        ..EnvOverrides::default()
    };
    let (ctx, _) = init::prepare(&config_path, &env).await?;
    if args.postgres.is_some() {
        let totals = ctx
            .store
            .collection_totals(ctx.creditor)
            .await
            .map_err(anyhow::Error::new)?;
        if totals.iter().any(|t| t.count > 0) {
            return Err(CliError::Usage(format!(
                "{} already holds collections: the demo needs an empty database",
                ctx.config.database
            )));
        }
    }
    clock.lap("init".into());

    let date = calendar::roll_forward(args.date.unwrap_or_else(|| ctx.today()));
    let spec = Spec {
        customers: args.customers,
        seed: args.seed,
        business_date: date,
        collection_date: reachable_date(date, ctx.config.bank.lead_days),
    };
    let data = generator::generate(&spec).map_err(demo_error)?;
    let data_dir = dir.join("demo-data");
    let files = data.write(&data_dir).map_err(demo_error)?;
    clock.lap("generate".into());

    let mut loaded = Vec::new();
    import::import_files(&ctx, files, date, |path, counts| {
        loaded.push(Loaded {
            file: path.to_path_buf(),
            counts: *counts,
        });
    })
    .await?;
    clock.lap("load".into());

    let mut day = Vec::new();
    let mut collected = Collected::default();
    let mut written = Vec::new();
    for job in DAY {
        let output = run_job(&ctx, job, date).await?;
        if let JobOutput::Collect(report) = &output {
            collected = summarise_collect(&ctx, report);
            written = report.files.iter().map(|f| f.file.clone()).collect();
        }
        day.push(JobLine {
            phase: "day",
            job: job.as_str(),
            summary: output.summary(),
        });
        clock.lap(format!("day: {job}"));
    }

    let bank = play_bank(&ctx, &written, date, args.seed).map_err(demo_error)?;
    clock.lap("bank".into());

    // The rest of the day after the bank: ingest books the answers, and the jobs that act on
    // them (retry, reconcile, digest, as they are built) run after it; collect would find
    // nothing new for this date.
    let mut ingested = Vec::new();
    for job in DAY.into_iter().filter(|j| *j != Job::Collect) {
        let output = run_job(&ctx, job, date).await?;
        if let JobOutput::Ingest(report) = &output {
            ingested = summarise_ingest(report);
        }
        day.push(JobLine {
            phase: "after the bank",
            job: job.as_str(),
            summary: output.summary(),
        });
        clock.lap(format!("after the bank: {job}"));
    }

    let ledger = ctx
        .store
        .collection_totals(ctx.creditor)
        .await
        .map_err(anyhow::Error::new)?;
    ctx.store.close().await;
    let f = &ctx.config.folders;
    let summary = Summary {
        business_date: date,
        collection_date: spec.collection_date,
        seed: args.seed,
        book: data.stats,
        loaded,
        day,
        collected,
        bank,
        ingested,
        ledger,
        not_built: Job::ALL
            .iter()
            .filter(|j| !DAY.contains(j))
            .map(|j| j.as_str())
            .collect(),
        paths: Paths {
            dir: dir.clone(),
            config: config_path,
            database: ctx.config.database.to_string(),
            demo_data: data_dir,
            folders: f.clone(),
        },
        steps: {
            clock.lap("summary".into());
            clock.steps
        },
    };
    match args.format {
        ReportFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&summary).map_err(anyhow::Error::new)?
        ),
        ReportFormat::Table => print!("{}", render(&summary)),
    }
    let quarantined = summary.ingested.iter().filter(|i| i.outcome == "quarantined").count();
    if quarantined > 0 {
        return Err(CliError::Partial(format!(
            "{quarantined} bank answer(s) quarantined in {} (see the .reason.txt beside each)",
            summary.paths.folders.quarantine.display()
        )));
    }
    Ok(())
}

/// The demo folder: `dir` when it is missing or empty, else a refusal; without `dir`, a new
/// folder under the system's temporary directory. Returned absolute.
fn demo_dir(dir: Option<&Path>) -> Result<PathBuf, CliError> {
    let dir = match dir {
        Some(dir) => {
            let has_entries = match std::fs::read_dir(dir) {
                Ok(mut entries) => entries.next().is_some(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
                Err(e) => {
                    return Err(CliError::Usage(format!(
                        "demo: cannot use {} as the demo folder: {e}",
                        dir.display()
                    )));
                }
            };
            if has_entries {
                return Err(CliError::Usage(format!(
                    "demo: {} is not empty; the demo only writes into a new or empty folder \
                     (remove it, or leave out --dir for a fresh one)",
                    dir.display()
                )));
            }
            dir.to_path_buf()
        }
        None => {
            let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
            std::env::temp_dir().join(format!("collecte-demo-{stamp}-{}", std::process::id()))
        }
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("demo: cannot create {}", dir.display()))?;
    Ok(std::path::absolute(&dir).with_context(|| format!("demo: cannot resolve {}", dir.display()))?)
}

/// Runs one job through the runner, recorded in `job_runs` like any run.
async fn run_job(ctx: &Context, job: Job, date: NaiveDate) -> Result<JobOutput, CliError> {
    runner::run(&ctx.config, &ctx.store, ctx.creditor, job, date, RunMode::Manual, None)
        .await
        .map_err(job_error)
}

fn summarise_collect(ctx: &Context, report: &CollectReport) -> Collected {
    let mut sequence_types = BTreeMap::new();
    for g in &report.groups {
        *sequence_types.entry(g.sequence_type).or_default() += g.count;
    }
    Collected {
        files: report
            .files
            .iter()
            .map(|f| CollectedFile {
                path: ctx.config.folders.outbox.join(&f.file),
                transactions: f.transactions,
                total: f.total.clone(),
            })
            .collect(),
        sequence_types,
        held: report.held,
        failed: report.failed_count,
    }
}

/// Answers every written pain.008 file as the bank would, dropping the replies into the
/// inbox atomically (a half-written file is never seen by ingest).
fn play_bank(ctx: &Context, written: &[String], date: NaiveDate, seed: u64) -> Result<Vec<BankAnswer>, DemoError> {
    let folders = &ctx.config.folders;
    let tz = ctx.config.schedule.timezone;
    let offset = tz
        .from_local_datetime(&date.and_hms_opt(12, 0, 0).unwrap_or_default())
        .single()
        .map_or_else(|| chrono::Utc.fix(), |t| t.offset().fix());
    let mut answers = Vec::new();
    for name in written {
        let original = generator::read_original(&folders.outbox.join(name))?;
        let decisions = bank::decide(&original, Mix::default(), seed);
        let answer = bank::answer(&original, &decisions, date, offset)?;
        for reply in &answer.files {
            write_atomically(&folders.inbox, &reply.file_name, |w| {
                std::io::Write::write_all(w, &reply.bytes)
            })
            .map_err(|e| DemoError::io("write", &e.path, e.source))?
            .map_err(|e| DemoError::io("write", &folders.inbox.join(&reply.file_name), e))?;
        }
        answers.push(BankAnswer {
            original: name.clone(),
            replies: answer.files.into_iter().map(|r| r.file_name).collect(),
            tally: answer.tally,
        });
    }
    Ok(answers)
}

fn summarise_ingest(report: &IngestReport) -> Vec<Ingested> {
    report
        .files
        .iter()
        .map(|f| Ingested {
            file: f.file.clone(),
            outcome: serde_json::to_value(&f.outcome)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            r_transactions: f.booked.r_transactions,
            settlements: f.booked.settlements,
            unmatched: f.booked.unmatched,
            moved_to: f.moved_to.clone(),
        })
        .collect()
}

/// `3 (AM04 ×2, AC04 ×1)` from counts per code, or `0`.
fn counted(counts: &BTreeMap<String, u64>) -> String {
    let parts: Vec<String> = counts.iter().map(|(code, n)| format!("{code} ×{n}")).collect();
    match counts.values().sum::<u64>() {
        0 => "0".to_owned(),
        n => format!("{n} ({})", parts.join(", ")),
    }
}

/// The summary for people: what happened, then where everything is.
fn render(s: &Summary) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let b = &s.book;
    let _ = writeln!(
        out,
        "collecte demo: business day {} (files ask for collection on {}), seed {}",
        s.business_date, s.collection_date, s.seed
    );
    let _ = writeln!(out, "\nLoaded {} through `import all`:", s.paths.demo_data.display());
    let _ = writeln!(
        out,
        "  {} customers: {} outside the EEA (CH, GB), {} with Greek or Cyrillic names, {} without address",
        b.customers, b.outside_eea, b.non_latin_names, b.without_address
    );
    let _ = writeln!(
        out,
        "  {} mandates, {} cards ({} expiring by the end of next month)",
        b.mandates, b.cards, b.cards_expiring_soon
    );
    let plans: Vec<String> = b.plans.iter().map(|(f, n)| format!("{n} {f}")).collect();
    let _ = writeln!(
        out,
        "  {} plans: {}; {} paused, {} cancelled, {} paid by card",
        b.plans.values().sum::<u64>(),
        plans.join(", "),
        b.paused_plans,
        b.cancelled_plans,
        b.card_plans
    );
    let _ = writeln!(
        out,
        "  {} invoices, {} credit notes, {} refunds, {} payments",
        b.invoices, b.credit_notes, b.refunds, b.payments
    );
    let _ = writeln!(out, "\nThe day ({}):", s.business_date);
    for j in s.day.iter().filter(|j| j.phase == "day") {
        let _ = writeln!(out, "  {:<8} {}", j.job, j.summary);
    }
    for f in &s.collected.files {
        let _ = writeln!(
            out,
            "  wrote {} ({} transactions, {} EUR)",
            f.path.display(),
            f.transactions,
            f.total
        );
    }
    let seq: Vec<String> = s
        .collected
        .sequence_types
        .iter()
        .map(|(t, n)| format!("{t} {n}"))
        .collect();
    if !seq.is_empty() {
        let _ = writeln!(out, "  sequence types: {}", seq.join(", "));
    }
    let _ = writeln!(out, "\nThe bank answered:");
    if s.bank.is_empty() {
        let _ = writeln!(out, "  nothing: no file was written");
    }
    for a in &s.bank {
        let t = &a.tally;
        let _ = writeln!(out, "  to {}: {}", a.original, a.replies.join(" + "));
        let _ = writeln!(
            out,
            "    rejected before settlement: {}, refused by the debtor (MS02): {}",
            counted(&t.rejects),
            t.refusals
        );
        let _ = writeln!(
            out,
            "    settled in batch: {} of {} ({} EUR); then returned: {}, refunded: {}",
            t.settled,
            t.transactions,
            t.settled_amount,
            counted(&t.returns),
            counted(&t.refunds)
        );
    }
    let _ = writeln!(out, "\nAfter the bank (same day, same job code):");
    for j in s.day.iter().filter(|j| j.phase != "day") {
        let _ = writeln!(out, "  {:<8} {}", j.job, j.summary);
    }
    for i in &s.ingested {
        let _ = writeln!(
            out,
            "  {} {}: {} R-transaction(s), {} settlement(s), {} unmatched -> {}",
            i.outcome,
            i.file,
            i.r_transactions,
            i.settlements,
            i.unmatched,
            i.moved_to
                .parent()
                .and_then(|p| p.strip_prefix(&s.paths.dir).ok())
                .unwrap_or(&i.moved_to)
                .display()
        );
    }
    let _ = writeln!(out, "\nCollections in the ledger now:");
    for t in &s.ledger {
        let _ = writeln!(
            out,
            "  {:<10} {:>8}  {:>14} EUR",
            t.status.as_str(),
            t.count,
            crate::sepa::money::format_cents(t.amount_cents)
        );
    }
    let _ = writeln!(
        out,
        "\nNot built yet (skipped): {}",
        if s.not_built.is_empty() {
            "nothing".to_owned()
        } else {
            s.not_built.join(", ")
        }
    );
    let p = &s.paths;
    let _ = writeln!(out, "\nWhere everything is:");
    for (what, path) in [
        ("folder", p.dir.display().to_string()),
        ("config", p.config.display().to_string()),
        ("ledger", p.database.clone()),
        ("demo data", p.demo_data.display().to_string()),
        ("outbox", p.folders.outbox.display().to_string()),
        ("processed", p.folders.processed.display().to_string()),
        ("quarantine", p.folders.quarantine.display().to_string()),
        ("statements", p.folders.statements.display().to_string()),
        ("mail", p.folders.mail.display().to_string()),
    ] {
        let _ = writeln!(out, "  {what:<11}{path}");
    }
    let steps: Vec<String> = s
        .steps
        .iter()
        .map(|st| format!("{} {:.2}s", st.step, st.millis as f64 / 1000.0))
        .collect();
    let total: u128 = s.steps.iter().map(|st| st.millis).sum();
    let _ = writeln!(out, "\nTook {:.2}s: {}", total as f64 / 1000.0, steps.join(", "));
    let _ = writeln!(
        out,
        "\nLook around: {}collecte --config {} collections --status failed   (then: show ID, retry ID or ignore ID, jobs, action-center unmatched)",
        if p.database.starts_with("sqlite:") {
            String::new()
        } else {
            format!("DATABASE_URL={} ", p.database)
        },
        p.config.display()
    );
    out
}
