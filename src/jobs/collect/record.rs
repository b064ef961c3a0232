//! Recording one file's worth of checked rows in the ledger while the checks go on
//! (`fill.rs` hands them on): the collections assigned a chunk at a time, and the refusals
//! (collections `failed`, lapsed mandates `expired`), in one transaction committed once the
//! file is complete; then the file written to the outbox and marked written.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use tokio::sync::mpsc::Receiver;

use super::fill::ToRecord;
use super::write::{FileContent, write_file};
use super::{FileLine, Phases};
use crate::config::Config;
use crate::jobs::JobError;
use crate::sepa::Bic;
use crate::sepa::pain008::{Creditor, Transaction};
use crate::store::{Assignment, CreditorKey, FileAssignment, FileRow, GroupTotal, LedgerTag, Presented, Store};
use crate::telemetry::Progress;

/// Where a run's files go in the ledger: its creditor, and what their MsgIds are made of.
pub(super) struct FileToRecord<'a> {
    pub(super) creditor_key: CreditorKey,
    pub(super) tag: &'a LedgerTag,
    pub(super) business_date: NaiveDate,
    pub(super) pain_version: &'static str,
}

/// A file assigned and committed, with the collections and transactions it holds.
pub(super) type Assigned = (FileRow, Vec<(Assignment, Transaction)>);

/// Records what the checks hand on for one file, as it comes: collections assigned to the
/// file and refusals recorded, in one transaction (opened with the first message) that is
/// committed when the checks say the file is complete. A dry run records nothing. Returns the
/// file, if it holds any collection, and the time spent waiting for the ledger.
pub(super) async fn assign_as_checked(
    store: &Store,
    dry_run: bool,
    file: &FileToRecord<'_>,
    mut from_checks: Receiver<ToRecord>,
    progress: &Progress,
) -> Result<(Option<Assigned>, Duration), JobError> {
    let mut open: Option<FileAssignment> = None;
    let mut items: Vec<(Assignment, Transaction)> = Vec::new();
    let mut waited = Duration::ZERO;
    while let Some(message) = from_checks.recv().await {
        let started = Instant::now();
        match message {
            ToRecord::Items(chunk) if dry_run => progress.add(chunk.len() as u64),
            ToRecord::Refusals { .. } if dry_run => {}
            ToRecord::Done if dry_run => return Ok((None, waited)),
            ToRecord::Items(chunk) => {
                let mut assignment = begun(store, file, open.take()).await?;
                let presented: Vec<(&Assignment, Presented<'_>)> = chunk
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
                assignment.assign(&presented).await??;
                drop(presented);
                items.extend(chunk);
                open = Some(assignment);
            }
            ToRecord::Refusals { failed, lapsed } => {
                let mut assignment = begun(store, file, open.take()).await?;
                assignment.fail(&failed, &lapsed).await?;
                open = Some(assignment);
            }
            ToRecord::Done => {
                let row = match open.take() {
                    Some(assignment) => assignment.commit().await?,
                    None => None,
                };
                waited += started.elapsed();
                if let Some(row) = &row {
                    tracing::info!(file = %row.file_name, transactions = row.nb_of_txs, "collections assigned to a file");
                }
                return Ok((row.map(|row| (row, items)), waited));
            }
        }
        waited += started.elapsed();
    }
    // The checks stopped on an error (theirs is the run's): dropped, `open` rolls back.
    Ok((None, waited))
}

/// The file's open transaction, or a new one.
async fn begun(
    store: &Store,
    file: &FileToRecord<'_>,
    open: Option<FileAssignment>,
) -> Result<FileAssignment, JobError> {
    match open {
        Some(assignment) => Ok(assignment),
        None => Ok(store
            .begin_file(file.creditor_key, file.tag, file.business_date, file.pain_version)
            .await?),
    }
}

/// Writes a committed file to the outbox from the transactions just checked and assigned
/// (the ledger holds the same values, and is read back only to finish the file of a stopped
/// run) and marks it written.
pub(super) async fn write_assigned(
    config: &Config,
    store: &Store,
    creditor: &Creditor,
    (row, mut items): Assigned,
    progress: &Progress,
    phases: &mut Phases,
) -> Result<FileLine, JobError> {
    let mut clock = Instant::now();
    items.sort_by_key(|(i, _)| (i.requested_date, i.sequence_type, i.id));
    let content = FileContent {
        groups: groups_of(items.iter().map(|(a, _)| a)),
        // Collected in place: a million-collection run holds one file's transactions once.
        transactions: items.into_iter().map(|(_, t)| t).collect(),
    };
    Phases::lap(&mut phases.decide, &mut clock);
    progress.say(&format!("writing {}", row.file_name));
    let line = write_file(config, store, creditor, &row, Some(content), phases).await?;
    progress.add(u64::try_from(line.transactions).unwrap_or_default());
    Ok(line)
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
