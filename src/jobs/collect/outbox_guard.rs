//! Step 0 of a run: refusing to collect when the outbox holds files of this ledger that the
//! ledger does not know (or not as it assigned them), because a ledger restored from an older
//! backup would otherwise present the same collections to the bank again.

use crate::config::Config;
use crate::jobs::JobError;
use crate::jobs::outbox::names_like;
use crate::store::{CreditorKey, LedgerTag, Store, message_id_prefix};

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

/// Files stopped runs left unfinished were reserved in another outbox folder than the one
/// configured now (its marker differs, or it has none), and the configured one holds neither
/// them nor their temporaries: that says nothing about whether they were ever placed (in the
/// other folder), so they can neither be recorded as sent nor written again without risking
/// to collect nothing or to collect twice. A person decides, file by file.
#[derive(Debug, thiserror::Error)]
#[error(
    "refusing to collect: {} file(s) assigned by runs that stopped before finishing them were \
     reserved in another outbox folder than folders.outbox, {outbox} ({}), which holds neither \
     them nor their temporaries: {}. That is not their folder (folders.outbox pointed \
     elsewhere, a share that is not mounted, a folder made anew), so whether they reached the \
     bank is unknown; nothing was collected. For each file: if the folder it was reserved in \
     holds it or its temporary, move that into {outbox} (or mount the folder back) and collect \
     again; if not, ask the bank. Not received: put an empty .NAME.tmp into {outbox} and \
     collect again (the file is written anew). Received: `collecte run collect --sent NAME` \
     (the file is recorded as sent, not written again)",
    .files.len(),
    .outbox_id.as_deref().map_or_else(|| "no marker".to_owned(), |id| format!("marked {id}")),
    list(.files)
)]
pub struct OutboxMoved {
    /// The files, each with where it was reserved.
    pub files: Vec<ReservedElsewhere>,
    /// The outbox configured now (canonical path).
    pub outbox: String,
    /// Its marker id, if it has one.
    pub outbox_id: Option<String>,
}

/// A stopped run's file reserved in another outbox folder than the configured one.
#[derive(Debug, Clone)]
pub struct ReservedElsewhere {
    /// The file name.
    pub file: String,
    /// The folder its temporary was reserved in (canonical path).
    pub folder: String,
    /// That folder's marker id.
    pub folder_id: String,
}

/// "F (reserved in P, marked ID), …", the first few.
fn list(files: &[ReservedElsewhere]) -> String {
    const SHOWN: usize = 5;
    let mut text = files
        .iter()
        .take(SHOWN)
        .map(|f| format!("{} (reserved in {}, marked {})", f.file, f.folder, f.folder_id))
        .collect::<Vec<_>>()
        .join(", ");
    if files.len() > SHOWN {
        text.push_str(&format!(" and {} more", files.len() - SHOWN));
    }
    text
}

/// The run stops: `problem` in `outbox`.
pub(super) fn behind(outbox: &std::path::Path, problem: String) -> JobError {
    LedgerBehindOutbox {
        outbox: outbox.to_owned(),
        problem,
    }
    .into()
}

/// Step 0: every file of this ledger in the outbox is one the ledger knows.
pub(super) async fn ensure_outbox_known(
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
