//! `collect`: due installments → pain.008 files in the outbox, exactly once.
//!
//! 0. Refuse to start when the outbox holds a file of this ledger that the ledger has no
//!    record of (a ledger restored from an older backup would present its collections again).
//! 1. Finish any file a stopped run assigned but did not mark written (same MsgId, same
//!    collections).
//! 2. Materialise plans up to the horizon.
//! 3. Decide (pure) which pending collections go now, with which date and sequence type;
//!    refuse, with a reason, those the EPC rules or the mandate forbid.
//! 4. Per file (at most `max_transactions_per_file`): assign in one transaction, write
//!    atomically, mark written. A crash anywhere leaves each collection in at most one file,
//!    and the next run completes what was assigned.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::Write;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use serde::Serialize;

use super::JobError;
use super::outbox::{names_like, remove_stale_temporaries, sha256_of, write_atomically};
use crate::config::Config;
use crate::domain::collect::{AmendmentFields, Candidate, CurrentMandate, Decision, Rules, Selector, amendment_for};
use crate::sepa::money::format_cents;
use crate::sepa::pain008::{
    self, AddressStyle, Creditor, GroupHeader, Pain008Version, Pain008Writer, PaymentGroup, PostalAddress, Profile,
    RawAddress, RawTransaction, SequenceType, Transaction,
};
use crate::sepa::{Bic, Iban};
use crate::sepa::{MessageId, PaymentInfoId};
use crate::store::{
    Assignment, CreditorKey, DryRunView, DueCollection, FileRow, GroupTotal, LedgerTag, Presented, SchemeIdChange,
    Store, message_id_prefix,
};
use crate::telemetry::Progress;

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

fn profile(config: &Config) -> Profile {
    let b = &config.bank;
    Profile {
        version: b.pain_version,
        include_bic: b.include_bic,
        batch_booking: b.batch_booking,
        group_ctrl_sum: b.group_ctrl_sum,
        address_style: b.address_style,
        local_instrument: b.local_instrument,
    }
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
        bic: c.bic.clone().filter(|_| config.bank.include_bic),
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

/// The end-to-end id of a collection attempt: one per collection row, so every return names
/// exactly one attempt; the ledger's tag keeps it apart from another ledger's row of the same
/// id (see [`LedgerTag`]).
pub fn end_to_end_id(tag: &LedgerTag, collection_id: i64) -> String {
    format!("E2E-{tag}-{collection_id:012}")
}

/// The address line of a hybrid address: street and building number, which then leave their
/// structured elements (town and country stay structured, as the EPC requires).
fn hybrid_line(c: &DueCollection, style: AddressStyle) -> Option<String> {
    if style != AddressStyle::Hybrid {
        return None;
    }
    let parts: Vec<&str> = [c.street.as_deref(), c.building.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

fn raw<'a>(
    c: &'a DueCollection,
    e2e: &'a str,
    amendment: &'a AmendmentFields,
    lines: &'a [&'a str],
) -> RawTransaction<'a> {
    let structured = lines.is_empty();
    let address = match (c.town.as_deref(), c.country.as_deref()) {
        (Some(town), Some(country)) => Some(RawAddress {
            street: c.street.as_deref().filter(|_| structured),
            building_number: c.building.as_deref().filter(|_| structured),
            postcode: c.postcode.as_deref(),
            town,
            country,
            lines,
        }),
        _ => None,
    };
    RawTransaction {
        end_to_end_id: e2e,
        amount_cents: c.amount_cents,
        mandate_id: &c.mandate_id,
        mandate_signed_on: c.signed_on,
        debtor_name: &c.debtor_name,
        debtor_iban: &c.debtor_iban,
        debtor_bic: c.debtor_bic.as_deref(),
        debtor_address: address,
        remittance: c.description.as_deref(),
        original_mandate_id: amendment.original_mandate_id.as_deref(),
        original_creditor_id: amendment.original_scheme_id.as_deref(),
        original_debtor_account: amendment.original_debtor_account.as_deref(),
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
    /// Waiting for due collections: every page on SQLite and in a dry run; on PostgreSQL the
    /// first page and the reads that fill a file refusals left room in.
    read: Duration,
    /// PostgreSQL: reading the next page while the current one is recorded and written (not
    /// waited for: it overlaps `fail`, `assign`, `write` and `mark`).
    read_ahead: Duration,
    /// Deciding, checking (EPC rules) and sorting.
    decide: Duration,
    /// Recording refusals.
    fail: Duration,
    /// The assignment transactions.
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

/// At most this many failure reasons are kept in the report (all are in the ledger).
const REPORTED_FAILURES: usize = 1000;

/// Runs collect for `date`.
pub async fn run(
    config: &Config,
    store: &Store,
    creditor_key: CreditorKey,
    date: NaiveDate,
    dry_run: bool,
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
    ensure_outbox_known(config, store, creditor_key, &tag).await?;
    if !dry_run {
        let removed = remove_stale_temporaries(&config.folders.outbox)?;
        if removed > 0 {
            tracing::warn!(removed, "removed temporary files of interrupted runs from the outbox");
        }
        for file in store.unwritten_files(creditor_key).await? {
            report
                .files
                .push(write_file(config, store, &creditor, &file, None, &mut phases).await?);
            clock = Instant::now();
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
    let page_size = usize::try_from(config.bank.max_transactions_per_file)
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
    due.fetch(page_size).await?;
    Phases::lap(&mut phases.read, &mut clock);
    while !due.rows.is_empty() {
        // One file per iteration. Rows are checked one by one, each leaving memory once it is
        // refused or checked into the transaction the file will hold, until the file is full.
        let mut checked = Checked::default();
        progress.say(&format!("checking {} due collection(s)", due.rows.len()));
        loop {
            while checked.items.len() < page_size
                && let Some(c) = due.rows.pop_front()
            {
                checker.check(c, &mut selector, &mut checked);
                if checked.failed.len() >= page_size {
                    // As many refusals as a file holds: recorded now, so that the reasons
                    // held in memory stay bounded whatever the run; the file goes on filling.
                    Phases::lap(&mut phases.decide, &mut clock);
                    record_refusals(store, dry_run, &mut checked, &mut report, &progress, &mut phases).await?;
                    clock = Instant::now();
                }
            }
            if checked.items.len() >= page_size || !due.more {
                break;
            }
            // Rows refused or held left room: the file takes the next rows, so that a run's
            // files split only at the maximum. At least `TOP_UP_ROWS` a read, so a long run
            // of held rows costs few queries; what this file leaves goes to the next.
            Phases::lap(&mut phases.decide, &mut clock);
            let room = page_size - checked.items.len();
            due.fetch(room.max(TOP_UP_ROWS).min(page_size)).await?;
            Phases::lap(&mut phases.read, &mut clock);
            if due.rows.is_empty() {
                break;
            }
        }
        Phases::lap(&mut phases.decide, &mut clock);
        record_refusals(store, dry_run, &mut checked, &mut report, &progress, &mut phases).await?;
        let Checked { items, held, .. } = checked;
        report.held += held;
        items.iter().for_each(|(i, _)| totals.add(i));
        // The next file's rows: those this one left, or a page read while it is recorded.
        let next_page = async {
            let started = Instant::now();
            let next = if due.rows.is_empty() && due.more {
                progress.say("reading due collections");
                due.fetch(page_size).await
            } else {
                Ok(())
            };
            (next, started.elapsed())
        };
        let recording = async {
            if dry_run {
                progress.add(items.len() as u64);
                return Ok(None);
            }
            let file = FileToRecord {
                creditor_key,
                tag: &tag,
                business_date: date,
                items,
            };
            record_file(config, store, &creditor, file, &progress, &mut phases).await
        };
        let read_ahead = !dry_run && store.reads_beside_writes();
        let (recorded, (next, took)) = if read_ahead {
            // The next page is read while this one is recorded and written: it starts after
            // this page's last row, so the two never share a collection, and what this page
            // changes in rows they do share (a mandate's first presentation and amendments)
            // the run tracks itself (the selector's set of mandates presented in the run).
            tokio::join!(recording, next_page)
        } else {
            (recording.await, next_page.await)
        };
        report.files.extend(recorded?);
        if read_ahead {
            phases.read_ahead += took;
        } else {
            phases.read += took;
        }
        next?;
        clock = Instant::now();
    }
    if let Due::DryRun(view) = due.source {
        view.discard().await?;
    }
    tracing::info!(
        prepare_s = phases.prepare.as_secs_f64(),
        read_s = phases.read.as_secs_f64(),
        read_ahead_s = phases.read_ahead.as_secs_f64(),
        decide_s = phases.decide.as_secs_f64(),
        fail_s = phases.fail.as_secs_f64(),
        assign_s = phases.assign.as_secs_f64(),
        write_s = phases.write.as_secs_f64(),
        mark_s = phases.mark.as_secs_f64(),
        "collect phases"
    );
    report.total = format_cents(totals.0.values().map(|(_, sum)| sum).sum());
    report.groups = totals.lines();
    Ok(report)
}

/// Where a run reads its due collections: the ledger, or a dry run's uncommitted view of it.
enum Due<'a> {
    Ledger(&'a Store),
    DryRun(DryRunView),
}

/// A run's due collections, read a page at a time after a `(due_date, id)` cursor.
struct DueRows<'a> {
    source: Due<'a>,
    creditor: CreditorKey,
    /// Due on or before.
    until: NaiveDate,
    /// Read and not yet checked.
    rows: VecDeque<DueCollection>,
    /// The last row read.
    cursor: Option<(NaiveDate, i64)>,
    /// The last read filled what it asked for: there may be more.
    more: bool,
}

impl DueRows<'_> {
    /// Reads up to `ask` more rows after the cursor (none once a read came back short).
    async fn fetch(&mut self, ask: usize) -> Result<(), crate::store::StoreError> {
        if !self.more {
            return Ok(());
        }
        let (creditor, until, after) = (self.creditor, self.until, self.cursor);
        let page = match &mut self.source {
            Due::Ledger(store) => store.due_collections(creditor, until, after, ask).await?,
            Due::DryRun(view) => view.due_collections(creditor, until, after, ask).await?,
        };
        self.more = page.len() == ask;
        if let Some(last) = page.last() {
            self.cursor = Some((last.due_date, last.id));
        }
        self.rows.extend(page);
        Ok(())
    }
}

/// The least a top-up read asks for ([`DueRows::fetch`] while a file has room).
const TOP_UP_ROWS: usize = 1000;

/// What the checks made of the rows bound for one file.
#[derive(Default)]
struct Checked {
    /// Collections for the file, with their checked transactions.
    items: Vec<(Assignment, Transaction)>,
    /// Collections refused or needing review, with the reason.
    failed: Vec<(i64, String)>,
    /// Mandates found lapsed (they become `expired` with the refusals).
    lapsed: Vec<i64>,
    /// Collections held because their plan is paused.
    held: u64,
}

/// What deciding on a due collection takes besides the collection and the run's selector:
/// the creditor, the ledger's tag and the amendments not yet announced.
struct Checker<'a> {
    config: &'a Config,
    creditor: &'a Creditor,
    tag: &'a LedgerTag,
    scheme_changes: &'a [SchemeIdChange],
    /// Per mandate: (kind, value before) of its changes the bank has not heard of.
    changes_by_mandate: HashMap<i64, Vec<(&'a str, &'a str)>>,
}

impl Checker<'_> {
    /// Decides on `c` (domain rules) and checks it against the EPC rules, into `out`.
    fn check(&self, c: DueCollection, selector: &mut Selector, out: &mut Checked) {
        let candidate = Candidate {
            id: c.id,
            due_date: c.due_date,
            plan_active: c.plan_active,
            one_off: c.one_off,
            last_installment: c.last_installment,
            mandate_shared: c.mandate_shared,
            mandate: c.mandate_key,
            mandate_active: c.mandate_active,
            first_presented: c.first_presented,
            mandate_in_use_since: c.last_presented_on.map_or(c.signed_on, |on| on.max(c.signed_on)),
        };
        let (requested_date, sequence) = match selector.decide(&candidate) {
            None => return,
            Some(Decision::Hold) => {
                out.held += 1;
                return;
            }
            Some(Decision::Review(reason)) => {
                out.failed.push((c.id, reason));
                return;
            }
            Some(Decision::Lapsed(reason)) => {
                out.failed.push((c.id, reason));
                out.lapsed.push(c.mandate_key);
                return;
            }
            Some(Decision::Collect {
                requested_date,
                sequence,
            }) => (requested_date, sequence),
        };
        // A mandate's amendment is announced on its first collection of the run that goes
        // into a file (one refused by the checks announces nothing).
        let amendment = if selector.was_presented(c.mandate_key) {
            AmendmentFields::default()
        } else {
            self.amendment(&c)
        };
        let e2e = end_to_end_id(self.tag, c.id);
        let line = hybrid_line(&c, self.config.bank.address_style);
        let lines: Vec<&str> = line.iter().map(String::as_str).collect();
        match pain008::check_transaction(&raw(&c, &e2e, &amendment, &lines), self.creditor, requested_date) {
            Err(refused) => out
                .failed
                .push((c.id, format!("not written to a bank file: {refused}"))),
            Ok(transaction) => {
                selector.presented(c.mandate_key);
                out.items.push((
                    Assignment {
                        id: c.id,
                        mandate_key: c.mandate_key,
                        end_to_end_id: e2e,
                        sequence_type: sequence.code(),
                        requested_date,
                        original_mandate_id: amendment.original_mandate_id,
                        original_scheme_id: amendment.original_scheme_id,
                        original_debtor_account: amendment.original_debtor_account,
                        amount_cents: c.amount_cents,
                    },
                    transaction,
                ));
            }
        }
    }

    /// The amendment fields `c`'s mandate owes the bank: changes of its IBAN or UMR, and of
    /// the creditor identifier since the mandate was last presented.
    fn amendment(&self, c: &DueCollection) -> AmendmentFields {
        let since: Vec<&str> = self
            .scheme_changes
            .iter()
            .filter(|s| s.changed_at > c.mandate_since)
            .map(|s| s.old_scheme_id.as_str())
            .collect();
        let changes = self
            .changes_by_mandate
            .get(&c.mandate_key)
            .map_or(&[][..], Vec::as_slice);
        match Iban::parse(&c.debtor_iban) {
            Ok(iban) => amendment_for(
                changes,
                CurrentMandate {
                    iban: &iban,
                    mandate_id: &c.mandate_id,
                    scheme_id: self.creditor.id.as_str(),
                },
                &since,
            ),
            // The checks refuse it, with the reason.
            Err(_) => AmendmentFields::default(),
        }
    }
}

/// One file's checked collections, bound for the run's business date.
struct FileToRecord<'a> {
    creditor_key: CreditorKey,
    tag: &'a LedgerTag,
    business_date: NaiveDate,
    items: Vec<(Assignment, Transaction)>,
}

/// The outbox holds pain.008 files of this ledger (by name: its MsgId prefix) that the
/// ledger has no record of, or a file whose content is not what the ledger assigned to it.
/// Either means the ledger is older than the outbox, and its collections in those files are
/// pending again in its eyes: collecting would present them to the bank a second time.
#[derive(Debug, thiserror::Error)]
#[error(
    "refusing to collect: {problem}. The ledger is older than the outbox (restored from a backup, \
     or a database that lost its last writes), and collecting now could present the same \
     collections to the bank twice; nothing was collected. Ask the bank which of these files it \
     received: if it did, restore the ledger that wrote them (collecting from this one would \
     take the money again); if it never did, move them out of {} and collect again",
    outbox.display()
)]
pub struct LedgerBehindOutbox {
    /// The outbox folder.
    pub outbox: std::path::PathBuf,
    /// What disagrees, naming the files.
    pub problem: String,
}

/// The run stops: `problem` in `outbox`.
fn behind(outbox: &std::path::Path, problem: String) -> JobError {
    LedgerBehindOutbox {
        outbox: outbox.to_owned(),
        problem,
    }
    .into()
}

/// Step 0: every file of this ledger in the outbox is one the ledger knows.
async fn ensure_outbox_known(
    config: &Config,
    store: &Store,
    creditor_key: CreditorKey,
    tag: &LedgerTag,
) -> Result<(), JobError> {
    let outbox = &config.folders.outbox;
    let ours = names_like(outbox, &message_id_prefix(tag), ".xml")?;
    let Some(first) = ours.first() else {
        return Ok(());
    };
    let known = store.file_names_from(creditor_key, first).await?;
    let unknown: Vec<&String> = ours.iter().filter(|name| !known.contains(*name)).collect();
    if unknown.is_empty() {
        return Ok(());
    }
    const SHOWN: usize = 5;
    let mut names = unknown
        .iter()
        .take(SHOWN)
        .map(|n| n.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    if unknown.len() > SHOWN {
        names.push_str(&format!(" and {} more", unknown.len() - SHOWN));
    }
    Err(behind(
        outbox,
        format!(
            "the outbox holds {} file(s) of this ledger that the ledger has no record of: {names}",
            unknown.len()
        ),
    ))
}

/// Records one file, if it holds any collection: assigned in one transaction, written to the
/// outbox, marked written. Returns the file written.
async fn record_file(
    config: &Config,
    store: &Store,
    creditor: &Creditor,
    file: FileToRecord<'_>,
    progress: &Progress,
    phases: &mut Phases,
) -> Result<Option<FileLine>, JobError> {
    let mut clock = Instant::now();
    let mut items = file.items;
    if items.is_empty() {
        return Ok(None);
    }
    items.sort_by_key(|(i, _)| (i.requested_date, i.sequence_type, i.id));
    let assignments: Vec<(&Assignment, Presented<'_>)> = items
        .iter()
        .map(|(a, t)| {
            let presented = Presented {
                iban: t.debtor_iban.as_str(),
                bic: t.debtor_bic.as_ref().map(Bic::as_str),
                mandate_id: t.mandate_id.as_str(),
            };
            (a, presented)
        })
        .collect();
    let groups = groups_of(assignments.iter().map(|(a, _)| *a));
    let version = config.bank.pain_version.message_name();
    Phases::lap(&mut phases.decide, &mut clock);
    progress.say(&format!("assigning {} collection(s) to a file", assignments.len()));
    let row = store
        .assign_file(file.creditor_key, file.tag, file.business_date, version, &assignments)
        .await??;
    Phases::lap(&mut phases.assign, &mut clock);
    tracing::info!(file = %row.file_name, transactions = row.nb_of_txs, "collections assigned to a file");
    // Written from what was just checked and assigned: the ledger holds the same values, and
    // is read back only to finish the file of a stopped run. (Collected in place: a
    // million-collection run holds one page's transactions, not two copies of them — plus,
    // on PostgreSQL, the next page being read.)
    let content = FileContent {
        groups,
        transactions: items.into_iter().map(|(_, t)| t).collect(),
    };
    progress.say(&format!("writing {}", row.file_name));
    let line = write_file(config, store, creditor, &row, Some(content), phases).await?;
    progress.add(u64::try_from(line.transactions).unwrap_or_default());
    Ok(Some(line))
}

/// Records the refusals checked so far (a dry run only reports them) and forgets them: the
/// collections become `failed` with their reason, lapsed mandates `expired`.
async fn record_refusals(
    store: &Store,
    dry_run: bool,
    checked: &mut Checked,
    report: &mut CollectReport,
    progress: &Progress,
    phases: &mut Phases,
) -> Result<(), JobError> {
    if checked.failed.is_empty() {
        return Ok(());
    }
    let mut clock = Instant::now();
    if !dry_run {
        progress.say(&format!("recording {} refusal(s)", checked.failed.len()));
        store.fail_collections(&checked.failed, &checked.lapsed).await?;
    }
    report.failed_count += checked.failed.len() as u64;
    let room = REPORTED_FAILURES.saturating_sub(report.failed.len());
    report.failed.extend(checked.failed.drain(..).take(room));
    checked.lapsed.clear();
    Phases::lap(&mut phases.fail, &mut clock);
    Ok(())
}

/// What one file holds: its payment groups and, in the same order, their transactions.
struct FileContent {
    groups: Vec<GroupTotal>,
    transactions: Vec<Transaction>,
}

/// The payment groups of assignments sorted by (collection date, sequence type): consecutive
/// runs of the same key.
fn groups_of<'a>(sorted: impl IntoIterator<Item = &'a Assignment>) -> Vec<GroupTotal> {
    let mut groups: Vec<GroupTotal> = Vec::new();
    for a in sorted {
        match groups.last_mut() {
            Some(g) if g.requested_date == a.requested_date && g.sequence_type == a.sequence_type => {
                g.count += 1;
                g.sum_cents += a.amount_cents;
            }
            _ => groups.push(GroupTotal {
                requested_date: a.requested_date,
                sequence_type: a.sequence_type.to_owned(),
                count: 1,
                sum_cents: a.amount_cents,
            }),
        }
    }
    groups
}

/// Takes the complete file a stopped run's `file` names, found in the outbox, returning its
/// SHA-256 — if it declares what the ledger assigned to `file` (MsgId, number of
/// transactions, control sum) and carries what it declares.
fn take_found_file(outbox: &std::path::Path, file: &FileRow) -> Result<String, JobError> {
    let path = outbox.join(&file.file_name);
    let opened = std::fs::File::open(&path).map_err(super::outbox::err("cannot read", &path))?;
    let found = pain008::inspect(std::io::BufReader::new(opened)).map_err(|e| {
        behind(
            outbox,
            format!(
                "{} in the outbox is not a pain.008 this ledger could have written ({e}), but the ledger assigned collections to it",
                file.file_name
            ),
        )
    })?;
    if found.message_id == file.message_id
        && i64::try_from(found.counted_nb_of_txs).ok() == Some(file.nb_of_txs)
        && found.counted_ctrl_sum.0 == file.ctrl_sum_cents
        && found.consistent
    {
        return Ok(sha256_of(&path)?);
    }
    Err(behind(
        outbox,
        format!(
            "{} in the outbox holds MsgId {}, {} transactions, {} in all, but the ledger assigned MsgId {}, {} transactions, {} to it",
            file.file_name,
            found.message_id,
            found.counted_nb_of_txs,
            found.counted_ctrl_sum,
            file.message_id,
            file.nb_of_txs,
            format_cents(file.ctrl_sum_cents)
        ),
    ))
}

/// Reads back what a stopped run assigned to `file` (same groups, same values) and checks it
/// again.
async fn assigned_content(
    config: &Config,
    store: &Store,
    creditor: &Creditor,
    file: &FileRow,
) -> Result<FileContent, JobError> {
    let invalid = |what: String| JobError::Invalid(format!("file {}: {what}", file.file_name));
    let groups = store.file_groups(file).await?;
    let collections = store.file_collections(file).await?;
    let mut transactions = Vec::with_capacity(collections.len());
    let mut rows = collections.iter();
    for g in &groups {
        for c in rows.by_ref().take(usize::try_from(g.count).unwrap_or_default()) {
            let amendment = AmendmentFields {
                original_mandate_id: c.original_mandate_id.clone(),
                original_scheme_id: c.original_scheme_id.clone(),
                original_debtor_account: c.original_debtor_account.clone(),
            };
            let e2e = c.end_to_end_id.clone().unwrap_or_default();
            let line = hybrid_line(c, config.bank.address_style);
            let lines: Vec<&str> = line.iter().map(String::as_str).collect();
            let tx = pain008::check_transaction(&raw(c, &e2e, &amendment, &lines), creditor, g.requested_date)
                .map_err(|e| {
                    invalid(format!(
                        "collection {} of this file, assigned by a run that stopped before writing it, can no \
                         longer be written: {e}. What it is written from changed since (the customer's name or \
                         address, the plan's text, the creditor's settings; the account and mandate id are kept \
                         from the assignment): correct it and run collect again",
                        c.id
                    ))
                })?;
            transactions.push(tx);
        }
    }
    Ok(FileContent { groups, transactions })
}

/// Writes (or finds already written) one assigned file and marks it written. `content` is
/// what the run just assigned; `None` for the file of a stopped run (read back if needed).
async fn write_file(
    config: &Config,
    store: &Store,
    creditor: &Creditor,
    file: &FileRow,
    content: Option<FileContent>,
    phases: &mut Phases,
) -> Result<FileLine, JobError> {
    let mut clock = Instant::now();
    let recovered = content.is_none();
    let outbox = &config.folders.outbox;
    let path = outbox.join(&file.file_name);
    let sha = if recovered && path.exists() {
        // The rename into place happened before the stop: the file is complete. It is the one
        // assigned if it says so (a restored ledger's file row may name a file of other
        // content).
        take_found_file(outbox, file)?
    } else {
        let content = match content {
            Some(content) => content,
            None => assigned_content(config, store, creditor, file).await?,
        };
        let invalid = |what: String| JobError::Invalid(format!("file {}: {what}", file.file_name));
        let header = GroupHeader {
            message_id: MessageId::parse(&file.message_id).map_err(|e| invalid(e.to_string()))?,
            created_at: file.created_at.with_timezone(&config.schedule.timezone).fixed_offset(),
            initiating_party: None,
            nb_of_txs: u64::try_from(file.nb_of_txs).unwrap_or_default(),
            ctrl_sum_cents: file.ctrl_sum_cents,
        };
        // The version the file was assigned in: a profile changed since a stopped run does
        // not change a file whose MsgId is already fixed.
        let version = Pain008Version::from_message_name(&file.pain_version)
            .ok_or_else(|| invalid(format!("unknown message version {:?}", file.pain_version)))?;
        let profile = Profile {
            version,
            ..profile(config)
        };
        let written = write_atomically(outbox, &file.file_name, |out| {
            let mut writer =
                Pain008Writer::start(&mut *out, profile, creditor, &header).map_err(|e| invalid(e.to_string()))?;
            let mut transactions = content.transactions.iter();
            for (k, g) in content.groups.iter().enumerate() {
                let sequence_type = SequenceType::from_code(&g.sequence_type)
                    .ok_or_else(|| invalid(format!("unknown sequence type {:?}", g.sequence_type)))?;
                let group = PaymentGroup {
                    payment_info_id: PaymentInfoId::parse(&format!("{}-{}", file.message_id, k + 1))
                        .map_err(|e| invalid(e.to_string()))?,
                    sequence_type,
                    collection_date: g.requested_date,
                    nb_of_txs: u64::try_from(g.count).unwrap_or_default(),
                    ctrl_sum_cents: g.sum_cents,
                };
                writer.begin_group(&group).map_err(|e| invalid(e.to_string()))?;
                for tx in transactions.by_ref().take(usize::try_from(g.count).unwrap_or_default()) {
                    writer.transaction(tx).map_err(|e| invalid(e.to_string()))?;
                }
                writer.end_group().map_err(|e| invalid(e.to_string()))?;
            }
            let out = writer.finish().map_err(|e| invalid(e.to_string()))?;
            out.flush().map_err(|e| invalid(format!("cannot write: {e}")))
        });
        match written {
            // A stopped run's file: another run finished it meanwhile; taken if it is the one.
            Err(e) if e.source.kind() == std::io::ErrorKind::AlreadyExists && recovered => {
                take_found_file(outbox, file)?
            }
            // A new file's name was free when the run started (step 0): someone else, or a
            // ledger with the same forgotten history, put a file there since.
            Err(e) if e.source.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(behind(
                    outbox,
                    format!(
                        "{} appeared in the outbox while this run was writing the file of that name",
                        file.file_name
                    ),
                ));
            }
            written => written??,
        }
    };
    Phases::lap(&mut phases.write, &mut clock);
    store.mark_written(file, &sha).await?;
    Phases::lap(&mut phases.mark, &mut clock);
    Ok(FileLine {
        file: file.file_name.clone(),
        transactions: file.nb_of_txs,
        total: format_cents(file.ctrl_sum_cents),
        recovered,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file the project generated (see sepa-samples/README.md): MsgId
    /// CLT-B6E04E-20261209-00000001, 11 transactions, 1203.90.
    const SAMPLE: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/sepa-samples/collect-pain.008.001.08-default.xml"
    );

    fn row(message_id: &str, nb_of_txs: i64, ctrl_sum_cents: i64) -> FileRow {
        FileRow {
            id: 1,
            message_id: message_id.to_owned(),
            file_name: format!("{message_id}.xml"),
            business_date: NaiveDate::from_ymd_opt(2026, 12, 9).unwrap(),
            pain_version: "pain.008.001.08".to_owned(),
            nb_of_txs,
            ctrl_sum_cents,
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn a_found_file_is_finished_only_if_it_is_the_one_assigned() {
        let outbox = tempfile::tempdir().unwrap();
        let name = "CLT-B6E04E-20261209-00000001";
        std::fs::copy(SAMPLE, outbox.path().join(format!("{name}.xml"))).unwrap();
        let sha = take_found_file(outbox.path(), &row(name, 11, 120_390)).unwrap();
        assert_eq!(sha, sha256_of(&outbox.path().join(format!("{name}.xml"))).unwrap());
        for other in [row(name, 11, 120_391), row(name, 12, 120_390)] {
            let refused = take_found_file(outbox.path(), &other).unwrap_err();
            let message = refused.to_string();
            assert!(matches!(refused, JobError::Disagree(_)), "{message}");
            assert!(
                message.contains("holds MsgId CLT-B6E04E-20261209-00000001, 11 transactions, 1203.90 in all")
                    && message.contains(&format!(
                        "{} transactions, {}",
                        other.nb_of_txs,
                        format_cents(other.ctrl_sum_cents)
                    ))
                    && message.contains("nothing was collected"),
                "{message}"
            );
        }
        // A same-named file of another run (another MsgId) is not this file either.
        std::fs::copy(SAMPLE, outbox.path().join("CLT-B6E04E-20261209-00000002.xml")).unwrap();
        let refused = take_found_file(outbox.path(), &row("CLT-B6E04E-20261209-00000002", 11, 120_390));
        assert!(matches!(refused, Err(JobError::Disagree(_))), "{refused:?}");
    }
}
