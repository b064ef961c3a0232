//! Writing an assigned file to the outbox and marking it written: from the transactions the
//! run just checked, or, for a file a stopped run left `writing`, from what the ledger
//! assigned to it (read back and checked again), or by taking the complete file found in the
//! outbox if it is the one assigned.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::time::Instant;

use chrono::NaiveDate;

use super::checker::{hybrid_lines, raw};
use super::outbox_guard::{
    OutboxMoved, ReservedElsewhere, behind, creditors_outbox, reserved_in_the_outbox, still_the_outbox,
};
use super::{FileLine, Phases};
use crate::config::Config;
use crate::domain::collect::AmendmentFields;
use crate::jobs::JobError;
use crate::jobs::outbox::{self, OutboxError, Reserved, Temporary, Whereabouts, sha256_of};
use crate::sepa::money::format_cents;
use crate::sepa::pain008::{
    self, Creditor, GroupHeader, Pain008Error, Pain008Version, Pain008Writer, PaymentGroup, Profile, SequenceType,
    Transaction,
};
use crate::sepa::{MessageId, PaymentInfoId};
use crate::store::{CreditorKey, FileRow, GroupTotal, OutboxFolder, RunLock, Store};

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

/// What one file holds: its payment groups and, in the same order, their transactions.
pub(super) struct FileContent {
    pub(super) groups: Vec<GroupTotal>,
    pub(super) transactions: Vec<Transaction>,
}

/// Takes the complete file a stopped run's `file` names, found in the outbox, returning its
/// SHA-256 — if it declares what the ledger assigned to `file` (MsgId, number of
/// transactions, control sum) and carries what it declares.
fn take_found_file(outbox: &std::path::Path, file: &FileRow) -> Result<String, JobError> {
    let path = outbox.join(&file.file_name);
    let opened = std::fs::File::open(&path).map_err(crate::jobs::outbox::err("cannot read", &path))?;
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
/// again; also returns the collections that no longer pass (id and reason), which the content
/// then lacks.
async fn assigned_content(
    config: &Config,
    store: &Store,
    creditor: &Creditor,
    file: &FileRow,
) -> Result<(FileContent, Vec<(i64, String)>), JobError> {
    let groups = store.file_groups(file).await?;
    let collections = store.file_collections(file).await?;
    let mut transactions = Vec::with_capacity(collections.len());
    let mut refused = Vec::new();
    let mut rows = collections.iter();
    for g in &groups {
        for c in rows.by_ref().take(usize::try_from(g.count).unwrap_or_default()) {
            let amendment = AmendmentFields {
                original_mandate_id: c.original_mandate_id.clone(),
                original_scheme_id: c.original_scheme_id.clone(),
                original_debtor_account: c.original_debtor_account.clone(),
            };
            let e2e = c.end_to_end_id.clone().unwrap_or_default();
            let hybrid = hybrid_lines(c, config.bank.address_style);
            let lines: Vec<&str> = hybrid.iter().map(String::as_str).collect();
            match pain008::check_transaction(&raw(c, &e2e, &amendment, &lines), creditor, g.requested_date) {
                Ok(tx) => transactions.push(tx),
                Err(e) => refused.push((
                    c.id,
                    format!(
                        "not written to a bank file: assigned to {} by a run that stopped before writing it, it \
                         can no longer be written: {e} (what it is written from changed since: the customer's \
                         name or address, the plan's text, the creditor's settings); correct it, then `collecte \
                         retry {}`",
                        file.file_name, c.id
                    ),
                )),
            }
        }
    }
    // The others of a refused collection's mandate in this file go with it: the refused one
    // may have carried the mandate's first presentation or its announcement.
    let refused_ids: HashSet<i64> = refused.iter().map(|(id, _)| *id).collect();
    let refused_by_mandate: HashMap<i64, i64> = collections
        .iter()
        .filter(|c| refused_ids.contains(&c.id))
        .map(|c| (c.mandate_key, c.id))
        .collect();
    for c in &collections {
        if let Some(first) = refused_by_mandate.get(&c.mandate_key)
            && !refused_ids.contains(&c.id)
        {
            refused.push((
                c.id,
                format!(
                    "not written to a bank file: taken out of {} with collection {first} of the same mandate, which \
                     can no longer be written (this one would reach the bank without the first presentation or \
                     announcement that went with it); `collecte retry {}` presents it again",
                    file.file_name, c.id
                ),
            ));
        }
    }
    Ok((FileContent { groups, transactions }, refused))
}

/// What a re-run does with a file a stopped run assigned but did not mark written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fate {
    /// The complete file is in the outbox: taken if it is the one assigned.
    Take,
    /// Written from what the ledger assigned to it: its temporary is there (the run stopped
    /// before placing it), or an earlier version assigned it (no promise: "neither name"
    /// may mean "never written").
    Write,
    /// Recorded as sent: a file is reserved in the outbox before its assignment commits, so a
    /// committed file with neither name in the folder it was reserved in was placed and has
    /// left it since — the bank's transfer took it. Writing it again would present its
    /// collections twice.
    RecordSent,
}

/// What becomes of `file` with the outbox as it stands, or, for a file reserved in another
/// folder with neither name here, where it was reserved: the person's to decide
/// ([`OutboxMoved`]). The folder's marker is read after the file's names, so that a share
/// mounted in between is not taken for the folder that holds neither.
pub(super) fn fate(outbox: &std::path::Path, file: &FileRow) -> Result<Result<Fate, ReservedElsewhere>, OutboxError> {
    Ok(Ok(match outbox::whereabouts(outbox, &file.file_name)? {
        Whereabouts::Placed => Fate::Take,
        Whereabouts::Temporary => Fate::Write,
        Whereabouts::Neither if !file.reserved_in_outbox => Fate::Write,
        Whereabouts::Neither => match &file.reserved_folder_id {
            Some(reserved) if Some(reserved) != outbox::folder_marker(outbox)?.as_ref() => {
                return Ok(Err(ReservedElsewhere {
                    file: file.file_name.clone(),
                    folder: file.reserved_folder.clone().unwrap_or_default(),
                    folder_id: reserved.clone(),
                }));
            }
            _ => Fate::RecordSent,
        },
    }))
}

/// The refusal for `files`, reserved elsewhere.
pub(super) fn moved(outbox: &std::path::Path, files: Vec<ReservedElsewhere>) -> Result<JobError, OutboxError> {
    Ok(OutboxMoved {
        files,
        outbox: outbox::folder_path(outbox)?,
        outbox_id: outbox::folder_marker(outbox)?,
    }
    .into())
}

/// Records that the bank received the files `names` that stopped runs left unfinished and
/// that the outbox holds in no form (a person's word, after a refusal named them): each is
/// marked reserved in this outbox, where it is then recorded as sent, not written again.
pub async fn confirm_sent(
    config: &Config,
    store: &Store,
    creditor: CreditorKey,
    names: &[String],
    lock: &mut RunLock,
) -> Result<(), JobError> {
    if names.is_empty() {
        return Ok(());
    }
    let outbox = &config.folders.outbox;
    let unwritten = store.unwritten_files(creditor).await?;
    let mut files = Vec::with_capacity(names.len());
    for name in names {
        let file = unwritten.iter().find(|f| f.file_name == *name).ok_or_else(|| {
            JobError::Invalid(format!(
                "--sent {name}: no file of that name was left unfinished by a stopped run (`collecte collections --format json` shows each collection's file)"
            ))
        })?;
        if outbox::whereabouts(outbox, name)? != Whereabouts::Neither {
            return Err(JobError::Invalid(format!(
                "--sent {name}: {} holds {name} or its temporary, so a run finishes it from there; if the bank \
                 received it, remove the temporary first",
                outbox.display()
            )));
        }
        files.push(file);
    }
    // Recorded as reserved in the creditor's outbox only: an empty mount point is refused.
    let folder = creditors_outbox(config, store, creditor).await?;
    for file in files {
        lock.still_held("recording a file as sent on a person's word").await?;
        store.mark_reserved_in_outbox(file, &folder).await?;
        tracing::warn!(file = %file.file_name, "the bank received this file, on a person's word: it is recorded as sent");
    }
    Ok(())
}

/// Where and for whom a run writes its files: the same for each file of the run.
#[derive(Clone, Copy)]
pub(super) struct Outbound<'a> {
    pub(super) config: &'a Config,
    pub(super) store: &'a Store,
    pub(super) creditor: &'a Creditor,
    /// The creditor's outbox folder, checked to be still there before and after each file
    /// is reserved.
    pub(super) folder: &'a OutboxFolder,
}

/// Finishes the file a stopped run assigned but did not mark written, as its [`fate`] says,
/// in the creditor's outbox.
///
/// A file written again asks for no collection date before what a file sent on `run_date`
/// can reach (`reachable`): a run that stopped on Friday and is finished on Monday moves
/// Monday's collections to the first date it can still ask for.
pub(super) async fn finish_file(
    to: Outbound<'_>,
    file: &FileRow,
    reachable: NaiveDate,
    phases: &mut Phases,
    lock: &mut RunLock,
) -> Result<Finished, JobError> {
    let Outbound {
        config,
        store,
        creditor,
        folder,
    } = to;
    let mut clock = Instant::now();
    let outbox = &config.folders.outbox;
    let fate = match fate(outbox, file)? {
        Ok(fate) => fate,
        // Changed since the run looked at every stopped file first.
        Err(elsewhere) => return Err(moved(outbox, vec![elsewhere])?),
    };
    let reserved = match fate {
        Fate::Take => {
            // The rename into place happened before the stop: the file is complete. It is the
            // one assigned if it says so (a restored ledger's file row may name a file of
            // other content).
            let sha = take_found_file(outbox, file)?;
            Phases::lap(&mut phases.write, &mut clock);
            return Ok(mark(store, file, Some(&sha), How::Found, phases).await?.into());
        }
        Fate::RecordSent => {
            // "Neither" was read in the outbox only if its marker is still there, read after
            // the names: a share gone in between holds neither name of anything.
            still_the_outbox(outbox, folder)?;
            lock.still_held("recording a stopped run's file as sent").await?;
            tracing::warn!(
                file = %file.file_name,
                transactions = file.nb_of_txs,
                "a stopped run placed this file in the outbox and it has left the outbox since (taken by the \
                 bank transfer): recorded as sent, not written again. If it never reached the bank, its \
                 collections are `submitted` with no bank file: ask the bank before collecting them again"
            );
            return Ok(mark(store, file, None, How::AlreadyTaken, phases).await?.into());
        }
        // Written again, under this version's protocol from now on, recorded as reserved in
        // this folder (its temporary may have been moved here from another). Replacing a
        // temporary another run may be writing is the holder's right only.
        Fate::Write => {
            lock.still_held("writing a stopped run's file again").await?;
            still_the_outbox(outbox, folder)?;
            let reserved = outbox::reserve_again(outbox, &file.file_name)?;
            // Gone in between: the row stays as it was.
            let reserved = reserved_in_the_outbox(outbox, folder, reserved)?;
            store.mark_reserved_in_outbox(file, folder).await?;
            reserved
        }
    };
    let moved = store.move_unwritten_file_dates(file, reachable).await?;
    if moved > 0 {
        tracing::warn!(
            file = %file.file_name,
            moved,
            "the stopped run's file asked for a collection date a file sent now can no longer reach: \
             its collections now ask for {reachable}"
        );
    }
    let (mut content, refused) = assigned_content(config, store, creditor, file).await?;
    let mut file = file.clone();
    if !refused.is_empty() {
        tracing::warn!(
            file = %file.file_name,
            refused = refused.len(),
            "collections of the stopped run's file can no longer be written: they are failed and the file is written without them"
        );
        match store.refuse_from_unwritten_file(&file, &refused).await? {
            Some(left) => file = left,
            None => return Ok(Finished { line: None, refused }),
        }
        let (again, more) = assigned_content(config, store, creditor, &file).await?;
        if let Some((id, reason)) = more.first() {
            return Err(JobError::Invalid(format!("collection {id}: {reason}")));
        }
        content = again;
    }
    let temporary = write_pain008(config, creditor, &file, &content, reserved)?;
    Phases::lap(&mut phases.write, &mut clock);
    drop(content);
    let line = place_and_mark(config, store, &file, temporary, true, phases, lock).await?;
    Ok(Finished {
        line: Some(line),
        refused,
    })
}

/// What finishing a stopped run's file did: the file (none when every collection in it was
/// refused) and the collections taken out of it.
pub(super) struct Finished {
    pub(super) line: Option<FileLine>,
    pub(super) refused: Vec<(i64, String)>,
}

/// Writes the pain.008 of `file` with `content` into its reserved temporary in the outbox
/// (fsynced, not yet in place: [`place_and_mark`]).
pub(super) fn write_pain008(
    config: &Config,
    creditor: &Creditor,
    file: &FileRow,
    content: &FileContent,
    reserved: Reserved,
) -> Result<Temporary, JobError> {
    let invalid = |what: String| JobError::Invalid(format!("file {}: {what}", file.file_name));
    // The disk failing (full, read-only, gone) is a run-time failure that says where, not
    // input refused: a script told "exit 3" would look for a bad row that is not there.
    let failed = |e: Pain008Error| match e {
        Pain008Error::Io(source) => JobError::Outbox(OutboxError {
            doing: "cannot write",
            path: config.folders.outbox.join(&file.file_name),
            source,
        }),
        other => invalid(other.to_string()),
    };
    let header = GroupHeader {
        message_id: MessageId::parse(&file.message_id).map_err(|e| invalid(e.to_string()))?,
        created_at: file.created_at.with_timezone(&config.schedule.timezone).fixed_offset(),
        initiating_party: None,
        nb_of_txs: u64::try_from(file.nb_of_txs).unwrap_or_default(),
        ctrl_sum_cents: file.ctrl_sum_cents,
    };
    // The version the file was assigned in: a profile changed since a stopped run does not
    // change a file whose MsgId is already fixed.
    let version = Pain008Version::from_message_name(&file.pain_version)
        .ok_or_else(|| invalid(format!("unknown message version {:?}", file.pain_version)))?;
    let profile = Profile {
        version,
        ..profile(config)
    };
    let written = reserved.fill(|out| {
        let mut writer = Pain008Writer::start(&mut *out, profile, creditor, &header).map_err(failed)?;
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
            writer.begin_group(&group).map_err(failed)?;
            for tx in transactions.by_ref().take(usize::try_from(g.count).unwrap_or_default()) {
                writer.transaction(tx).map_err(failed)?;
            }
            writer.end_group().map_err(failed)?;
        }
        let out = writer.finish().map_err(failed)?;
        out.flush().map_err(|e| failed(Pain008Error::Io(e)))
    });
    written?
}

/// Moves a written file into place in the outbox (never over another file) and marks it
/// written. `recovered`: the file of a stopped run, which another run may have finished
/// meanwhile.
pub(super) async fn place_and_mark(
    config: &Config,
    store: &Store,
    file: &FileRow,
    temporary: Temporary,
    recovered: bool,
    phases: &mut Phases,
    lock: &mut RunLock,
) -> Result<FileLine, JobError> {
    let mut clock = Instant::now();
    let outbox = &config.folders.outbox;
    lock.still_held("moving a file into the outbox").await?;
    let sha = match temporary.place() {
        Ok(sha) => sha,
        // A stopped run's file: another run finished it meanwhile; taken if it is the one.
        Err(e) if e.source.kind() == std::io::ErrorKind::AlreadyExists && recovered => {
            let sha = take_found_file(outbox, file)?;
            Phases::lap(&mut phases.write, &mut clock);
            return mark(store, file, Some(&sha), How::Found, phases).await;
        }
        // A new file's name was free when the run started (step 0): someone else, or a ledger
        // with the same forgotten history, put a file there since.
        Err(e) if e.source.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(behind(
                outbox,
                format!(
                    "{} appeared in the outbox while this run was writing the file of that name",
                    file.file_name
                ),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    Phases::lap(&mut phases.write, &mut clock);
    let how = if recovered { How::Written } else { How::New };
    mark(store, file, Some(&sha), how, phases).await
}

impl From<FileLine> for Finished {
    fn from(line: FileLine) -> Self {
        Self {
            line: Some(line),
            refused: Vec::new(),
        }
    }
}

/// How a file came to be marked written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum How {
    /// Written by this run, from its own assignment.
    New,
    /// A stopped run's file, written by this run.
    Written,
    /// A stopped run's complete file, found in the outbox.
    Found,
    /// A stopped run's file, placed and gone from the outbox since.
    AlreadyTaken,
}

/// Marks a file complete in the outbox, with its checksum when this run saw its content.
async fn mark(
    store: &Store,
    file: &FileRow,
    sha: Option<&str>,
    how: How,
    phases: &mut Phases,
) -> Result<FileLine, JobError> {
    let clock = Instant::now();
    store.mark_written(file, sha).await?;
    phases.mark += clock.elapsed();
    Ok(FileLine {
        file: file.file_name.clone(),
        transactions: file.nb_of_txs,
        total: format_cents(file.ctrl_sum_cents),
        recovered: how != How::New,
        already_taken: how == How::AlreadyTaken,
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
            reserved_in_outbox: true,
            reserved_folder: None,
            reserved_folder_id: None,
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
