//! Recording one file's worth of checked rows in the ledger: the refusals (collections
//! `failed`, lapsed mandates `expired`), then the collections assigned to a file in one
//! transaction, handed on to be written.

use std::time::Instant;

use chrono::NaiveDate;

use super::checker::Checked;
use super::write::{FileContent, write_file};
use super::{CollectReport, FileLine, Phases, REPORTED_FAILURES};
use crate::config::Config;
use crate::jobs::JobError;
use crate::sepa::Bic;
use crate::sepa::pain008::{Creditor, Transaction};
use crate::store::{Assignment, CreditorKey, GroupTotal, LedgerTag, Presented, Store};
use crate::telemetry::Progress;

/// One file's checked collections, bound for the run's business date.
pub(super) struct FileToRecord<'a> {
    pub(super) creditor_key: CreditorKey,
    pub(super) tag: &'a LedgerTag,
    pub(super) business_date: NaiveDate,
    pub(super) items: Vec<(Assignment, Transaction)>,
}

/// Records one file, if it holds any collection: assigned in one transaction, written to the
/// outbox, marked written. Returns the file written.
pub(super) async fn record_file(
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
pub(super) async fn record_refusals(
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
