//! Recording one file's worth of checked rows in the ledger while the checks go on
//! (`fill.rs` hands them on): the collections assigned a chunk at a time, and the refusals
//! (collections `failed`, lapsed mandates `expired`), in one transaction committed once the
//! file is complete; then the file written to the outbox and marked written.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use tokio::sync::mpsc::Receiver;

use super::fill::ToRecord;
use super::outbox_guard::{reserved_in_the_outbox, still_the_outbox};
use super::write::{FileContent, Outbound, place_and_mark, write_pain008};
use super::{FileLine, Phases};
use crate::jobs::JobError;
use crate::sepa::Bic;
use crate::sepa::pain008::Transaction;
use crate::store::{
    Assignment, CreditorKey, FileAssignment, GroupTotal, LedgerTag, OutboxFolder, Presented, RunLock, Store,
};
use crate::telemetry::Progress;

/// Where a run's files go in the ledger: its creditor, and what their MsgIds are made of.
pub(super) struct FileToRecord<'a> {
    pub(super) creditor_key: CreditorKey,
    pub(super) tag: &'a LedgerTag,
    /// The outbox, recorded with each file as where its temporary is reserved (none in a dry
    /// run, which records nothing).
    pub(super) outbox_folder: Option<&'a OutboxFolder>,
    pub(super) business_date: NaiveDate,
    pub(super) pain_version: &'static str,
}

/// A file's transaction, complete but not yet committed, with the collections and
/// transactions assigned in it.
pub(super) type Assigned = (FileAssignment, Vec<(Assignment, Transaction)>);

/// Records what the checks hand on for one file, as it comes: collections assigned to the
/// file and refusals recorded, in one transaction (opened with the first message), handed
/// back uncommitted once the checks say the file is complete ([`commit_and_write`] commits
/// it). A dry run records nothing. Returns the transaction, if anything was recorded, and the
/// time spent waiting for the ledger.
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
            ToRecord::Done => return Ok((open.map(|assignment| (assignment, items)), waited)),
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
        None => {
            let begun = store
                .begin_file(file.creditor_key, file.tag, file.business_date, file.pain_version)
                .await?;
            Ok(match file.outbox_folder {
                Some(folder) => begun.reserving_in(folder.clone()),
                None => begun,
            })
        }
    }
}

/// Commits a file's transaction and writes the file to the outbox from the transactions just
/// checked and assigned (the ledger holds the same values, and is read back only to finish
/// the file of a stopped run), then marks it written. The file is written under its
/// temporary name while the commit runs, and moved into place only once the commit is done:
/// a file never appears that the ledger does not hold. `None` when the transaction held
/// refusals only.
pub(super) async fn commit_and_write(
    to: Outbound<'_>,
    (assignment, mut items): Assigned,
    progress: &Progress,
    phases: &mut Phases,
    lock: &mut RunLock,
) -> Result<Option<FileLine>, JobError> {
    let Outbound {
        config,
        store,
        creditor,
        folder,
    } = to;
    let mut clock = Instant::now();
    let Some(row) = assignment.file() else {
        assignment.commit().await?;
        Phases::lap(&mut phases.assign, &mut clock);
        return Ok(None);
    };
    tracing::info!(file = %row.file_name, transactions = row.nb_of_txs, "collections assigned to a file");
    items.sort_by_key(|(i, _)| (i.requested_date, i.sequence_type, i.id));
    let content = FileContent {
        groups: groups_of(items.iter().map(|(a, _)| a)),
        // Collected in place: a million-collection run holds one file's transactions once.
        transactions: items.into_iter().map(|(_, t)| t).collect(),
    };
    Phases::lap(&mut phases.decide, &mut clock);
    progress.say(&format!("writing {}", row.file_name));
    // Reserved before the commit: a committed file always has its temporary or itself in the
    // outbox until the bank's transfer takes it (see `finish_file`) — by the lock's holder
    // only, whose clearing of stale temporaries it must not meet.
    lock.still_held("reserving a file in the outbox").await?;
    still_the_outbox(&config.folders.outbox, folder)?;
    let reserved = crate::jobs::outbox::reserve(&config.folders.outbox, &row.file_name)?;
    // Gone in between: the assignment, dropped uncommitted, rolls back.
    let reserved = reserved_in_the_outbox(&config.folders.outbox, folder, reserved)?;
    let committing = async {
        let started = Instant::now();
        (assignment.commit().await, started.elapsed())
    };
    let writing = async {
        let started = Instant::now();
        (
            write_pain008(config, creditor, &row, &content, reserved),
            started.elapsed(),
        )
    };
    let ((committed, commit_took), (written, write_took)) = tokio::join!(committing, writing);
    phases.assign += commit_took;
    phases.write += write_took;
    committed?;
    let line = place_and_mark(config, store, &row, written?, false, phases, lock).await?;
    progress.add(u64::try_from(line.transactions).unwrap_or_default());
    Ok(Some(line))
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
