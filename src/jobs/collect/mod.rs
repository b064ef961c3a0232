//! `collect`: due installments → pain.008 files in the outbox, exactly once.
//!
//! 0. Refuse to start when the outbox holds a file of this ledger that the ledger has no
//!    record of (a ledger restored from an older backup would present its collections again).
//! 1. Finish any file a stopped run assigned but did not mark written (same MsgId, same
//!    collections).
//! 2. Materialise plans up to the horizon.
//! 3. Decide (pure) which pending collections go now, with which date and sequence type;
//!    refuse, with a reason, those the EPC rules or the mandate forbid.
//! 4. Per file (at most `max_transactions_per_file`): assign in one transaction, fed a chunk
//!    at a time while step 3 goes on checking the next rows; commit, then move the file
//!    (written meanwhile under a temporary name) into place, mark written. A crash anywhere
//!    leaves each collection in at most one file, and the next run completes what was
//!    assigned.
//!
//! [`run`] orders the steps; each submodule is named after what it does: `outbox_guard`
//! (step 0), `write` (writing a file, step 1's and step 4's), `due_rows` (reading due
//! collections a chunk at a time), `checker` (step 3, per row), `fill` (step 3 for one
//! file, handing chunks on) and `record` (step 4's transaction, and the refusals).

mod checker;
mod due_rows;
mod fill;
mod outbox_guard;
mod record;
mod write;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use serde::Serialize;

use self::checker::Checker;
use self::due_rows::{Due, DueRows};
use self::fill::{Filling, read_sizes};
use self::outbox_guard::{check_creditors_outbox, creditors_outbox, ensure_outbox_known};
use self::record::{FileToRecord, assign_as_checked, commit_and_write};
pub use self::write::confirm_sent;
use self::write::{Fate, Outbound, fate, finish_file, moved};
use super::JobError;
use super::outbox::remove_stale_temporaries;
use crate::config::Config;
use crate::domain::collect::{Rules, Selector, reachable_date};
use crate::sepa::money::format_cents;
use crate::sepa::pain008::{Creditor, PostalAddress};
use crate::store::{Assignment, CreditorKey, RunLock, Store, message_id_prefix};
use crate::telemetry::Progress;

pub use self::checker::end_to_end_id;
pub use self::outbox_guard::{LedgerBehindOutbox, OutboxMoved, OutboxReplaced, ReservedElsewhere, adopt_outbox};

/// Totals of one (collection date, sequence type) group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupLine {
    /// Requested collection date.
    pub collection_date: NaiveDate,
    /// FRST, RCUR, OOFF or FNAL.
    pub sequence_type: &'static str,
    /// Transactions.
    pub count: u64,
    /// Total, as a decimal string.
    pub total: String,
}

/// One file written (or finished) by the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileLine {
    /// File name in the outbox.
    pub file: String,
    /// Transactions.
    pub transactions: i64,
    /// Control sum.
    pub total: String,
    /// Whether it was left over by a stopped run and finished now.
    pub recovered: bool,
    /// A stopped run's file that had left the outbox (taken by the bank's transfer) before
    /// the ledger recorded it: recorded as sent now, not written again.
    pub already_taken: bool,
}

/// What a collect run did (or, dry, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CollectReport {
    /// Business date of the run.
    pub date: Option<NaiveDate>,
    /// Nothing was written.
    pub dry_run: bool,
    /// Files written.
    pub files: Vec<FileLine>,
    /// What went (or would go) into files, per group.
    pub groups: Vec<GroupLine>,
    /// Collections refused or needing review, with the reason (now `failed`); the first 1000.
    pub failed: Vec<(i64, String)>,
    /// How many collections were refused or need review.
    pub failed_count: u64,
    /// Collections held because their plan is paused.
    pub held: u64,
    /// Collections of this business date already in files before the run.
    pub already_in_files: i64,
    /// Total of what went (or would go) into files.
    pub total: String,
}

fn creditor(config: &Config) -> Creditor {
    let c = &config.creditor;
    let a = &c.address;
    let mut address = PostalAddress::new(a.town.clone(), a.country);
    if let Some(street) = &a.street {
        address = address.with_street(street.clone());
    }
    if let Some(building) = &a.building {
        address = address.with_building_number(building.clone());
    }
    if let Some(postcode) = &a.postcode {
        address = address.with_postcode(postcode.clone());
    }
    Creditor {
        name: c.name.clone(),
        iban: c.iban.clone(),
        // A creditor bank outside the EEA is always named (the writer's rule), whatever the
        // profile says about BICs.
        bic: c
            .bic
            .clone()
            .filter(|_| config.bank.include_bic || c.iban.requires_debtor_address()),
        id: c.creditor_id.clone(),
        address: Some(address),
    }
}

fn rules(config: &Config) -> Rules {
    Rules {
        lead_days: config.bank.lead_days,
        catch_up_days: config.bank.catch_up_days,
        use_frst: config.bank.use_frst,
        use_fnal: config.bank.use_fnal,
    }
}

/// Running totals per (collection date, sequence type), without keeping the collections.
#[derive(Default)]
struct GroupTotals(BTreeMap<(NaiveDate, &'static str), (u64, i64)>);

impl GroupTotals {
    fn add(&mut self, item: &Assignment) {
        let entry = self.0.entry((item.requested_date, item.sequence_type)).or_default();
        entry.0 += 1;
        entry.1 += item.amount_cents;
    }

    fn lines(self) -> Vec<GroupLine> {
        self.0
            .into_iter()
            .map(|((collection_date, sequence_type), (count, sum))| GroupLine {
                collection_date,
                sequence_type,
                count,
                total: format_cents(sum),
            })
            .collect()
    }
}

/// Where a run's time went, summed over its files and pages; logged at info level at the end
/// of the run (`cargo bench --bench bench_collect -- --phases` reads it from the JSON log).
#[derive(Debug, Default)]
struct Phases {
    /// Counting what is already in files, and materialising plans (a stopped run's files
    /// count as write and mark).
    prepare: Duration,
    /// Reading due collections (`fill::read_sizes`): beside the recording of a file's
    /// chunks, or of the file before, except for the run's first read.
    read: Duration,
    /// Deciding, checking (EPC rules) and sorting (beside the recording).
    decide: Duration,
    /// The assignment transactions, refusals included: the time the recording side waited
    /// for the ledger, beside the reads and checks.
    assign: Duration,
    /// Writing files (temp file, fsync, rename, fsync of the folder).
    write: Duration,
    /// Marking files written and their collections submitted.
    mark: Duration,
}

impl Phases {
    /// Adds the time since `since` to `phase` and restarts the clock.
    fn lap(phase: &mut Duration, since: &mut Instant) {
        let now = Instant::now();
        *phase += now - *since;
        *since = now;
    }
}

impl CollectReport {
    /// Counts `failed` refusals and keeps their reasons, up to [`REPORTED_FAILURES`] (all are
    /// in the ledger).
    fn add_failures(&mut self, failed: &[(i64, String)]) {
        self.failed_count += failed.len() as u64;
        let room = REPORTED_FAILURES.saturating_sub(self.failed.len());
        self.failed.extend(failed.iter().take(room).cloned());
    }
}

/// At most this many failure reasons are kept in the report (all are in the ledger).
const REPORTED_FAILURES: usize = 1000;

/// Runs collect for `date`.
pub async fn run(
    config: &Config,
    store: &Store,
    creditor_key: CreditorKey,
    date: NaiveDate,
    dry_run: bool,
    lock: &mut RunLock,
) -> Result<CollectReport, JobError> {
    let creditor = creditor(config);
    let mut report = CollectReport {
        date: Some(date),
        dry_run,
        ..Default::default()
    };
    let mut phases = Phases::default();
    let mut clock = Instant::now();
    report.already_in_files = store.collections_in_files(creditor_key, date).await?;
    let tag = store.ledger_tag(creditor_key).await?;
    // Where this run's files go (a dry run marks nothing): first, as in another folder what
    // it holds or lacks would ask for remedies in the wrong place.
    let folder = if dry_run {
        check_creditors_outbox(config, store, creditor_key).await?;
        None
    } else {
        Some(creditors_outbox(config, store, creditor_key).await?)
    };
    let to = folder.as_ref().map(|folder| Outbound {
        config,
        store,
        creditor: &creditor,
        folder,
    });
    ensure_outbox_known(config, store, creditor_key, &tag).await?;
    // Every stopped file's fate next: a run that must refuse for one of them writes nothing
    // and names them all.
    let unwritten = store.unwritten_files(creditor_key).await?;
    let mut fates = Vec::with_capacity(unwritten.len());
    let mut elsewhere = Vec::new();
    for file in &unwritten {
        match fate(&config.folders.outbox, file)? {
            Ok(fate) => fates.push(fate),
            Err(e) => elsewhere.push(e),
        }
    }
    if !elsewhere.is_empty() {
        return Err(moved(&config.folders.outbox, elsewhere)?);
    }
    for (file, fate) in unwritten.iter().zip(fates) {
        let Some(to) = to else {
            report.files.push(FileLine {
                file: file.file_name.clone(),
                transactions: file.nb_of_txs,
                total: format_cents(file.ctrl_sum_cents),
                recovered: true,
                already_taken: fate == Fate::RecordSent,
            });
            continue;
        };
        let reachable = reachable_date(date, config.bank.lead_days);
        let finished = finish_file(to, file, reachable, &mut phases, lock).await?;
        report.add_failures(&finished.refused);
        report.files.extend(finished.line);
        clock = Instant::now();
    }
    if !dry_run {
        // Every file of this ledger's still to be placed was just finished: what temporaries
        // are left belong to assignments that never committed.
        lock.still_held("clearing the outbox's temporaries").await?;
        // Read again, with no assignment open: a file committed meanwhile (by a run whose
        // lock was lost under it) keeps its temporary, and none is reserved while clearing.
        let prefix = message_id_prefix(&tag);
        let removed = store
            .with_assignments_held(creditor_key, |unwritten| {
                remove_stale_temporaries(&config.folders.outbox, &prefix, &unwritten)
            })
            .await??;
        if removed > 0 {
            tracing::warn!(removed, "removed temporary files of interrupted runs from the outbox");
        }
    }
    // Dry runs too, but uncommitted: a dry run for a date past the plans' materialised
    // horizon (a first run months after the import, a look ahead) would otherwise miss the
    // installments due then.
    let source = if dry_run {
        store
            .dry_run_view(creditor_key, date)
            .await?
            .map_or(Due::Ledger(store), Due::DryRun)
    } else {
        store.refresh_plans(creditor_key, date).await?;
        Due::Ledger(store)
    };
    Phases::lap(&mut phases.prepare, &mut clock);
    let (amendments, scheme_changes) = store.pending_amendments(creditor_key).await?;
    let mut changes_by_mandate: HashMap<i64, Vec<(&str, &str)>> = HashMap::new();
    for a in &amendments {
        changes_by_mandate
            .entry(a.mandate_key)
            .or_default()
            .push((a.kind.as_str(), a.old_value.as_str()));
    }
    let checker = Checker {
        config,
        creditor: &creditor,
        tag: &tag,
        scheme_changes: &scheme_changes,
        changes_by_mandate,
    };
    let mut selector = Selector::new(date, rules(config));
    let mut totals = GroupTotals::default();
    let max_per_file = usize::try_from(config.bank.max_transactions_per_file)
        .unwrap_or(usize::MAX)
        .max(1);
    let until = selector.reachable();
    let progress = Progress::counting(
        "collect",
        if dry_run {
            "collections checked"
        } else {
            "collections in files"
        },
    );
    progress.say("reading due collections");
    let mut due = DueRows {
        source,
        creditor: creditor_key,
        until,
        rows: VecDeque::new(),
        cursor: None,
        more: true,
    };
    let file = FileToRecord {
        creditor_key,
        tag: &tag,
        outbox_folder: folder.as_ref(),
        business_date: date,
        pain_version: config.bank.pain_version.message_name(),
    };
    let (first_read, read_rows) = read_sizes(store.dialect(), max_per_file);
    due.fetch(first_read).await?;
    Phases::lap(&mut phases.read, &mut clock);
    while !due.rows.is_empty() {
        // One file per iteration: the rows are checked one by one, and what passes (or is
        // refused) is handed on a chunk at a time to be recorded in the file's transaction
        // meanwhile. The two sides run side by side: the checks of one chunk beside the
        // ledger's writes of the one before. Rows that leave a file room are made up from the
        // next rows, read after the last, so they never share a collection with what is
        // being recorded; what recording changes in rows both may touch (a
        // mandate's first presentation, its announced amendments) the run tracks itself (the
        // selector's set of mandates presented in the run).
        progress.say(&format!("checking {} due collection(s)", due.rows.len()));
        let (to_record, from_checks) = tokio::sync::mpsc::channel(2);
        let mut filling = Filling {
            read_rows,
            checker: &checker,
            selector: &mut selector,
            report: &mut report,
            totals: &mut totals,
            progress: &progress,
            phases: &mut phases,
        };
        let (filled, recorded) = tokio::join!(
            filling.file(&mut due, max_per_file, to_record),
            assign_as_checked(store, dry_run, &file, from_checks, &progress),
        );
        filled?;
        let (assigned, waited) = recorded?;
        phases.assign += waited;
        // The next file's rows, if this one left none, are read while this one commits and
        // is written: they come after its last row, so the two never share a collection.
        let next_rows = async {
            let started = Instant::now();
            let read = if due.rows.is_empty() {
                due.fetch(read_rows).await
            } else {
                Ok(())
            };
            (read, started.elapsed())
        };
        let written = async {
            // A dry run assigns nothing (and has no folder).
            match (assigned, to) {
                (Some(assigned), Some(to)) => commit_and_write(to, assigned, &progress, &mut phases, &mut *lock).await,
                _ => Ok(None),
            }
        };
        // The read is polled first: its first poll starts it (on SQLite a blocking thread, on
        // PostgreSQL the server), while writing the pain.008 holds this task's thread until
        // the file is fsynced. Polled second, the read would start only after the write.
        let ((read, took), written) = tokio::join!(next_rows, written);
        report.files.extend(written?);
        read?;
        phases.read += took;
    }
    if let Due::DryRun(view) = due.source {
        view.discard().await?;
    }
    tracing::info!(
        prepare_s = phases.prepare.as_secs_f64(),
        read_s = phases.read.as_secs_f64(),
        decide_s = phases.decide.as_secs_f64(),
        assign_s = phases.assign.as_secs_f64(),
        write_s = phases.write.as_secs_f64(),
        mark_s = phases.mark.as_secs_f64(),
        "collect phases"
    );
    report.total = format_cents(totals.0.values().map(|(_, sum)| sum).sum());
    report.groups = totals.lines();
    Ok(report)
}
