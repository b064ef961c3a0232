//! Step 0 of a run: refusing to collect when `folders.outbox` is not the folder the creditor's
//! files go to (known by its marker: an empty mount point is not the share), or when the
//! outbox holds files of this ledger that the ledger does not know (or not as it assigned
//! them), because a ledger restored from an older backup would otherwise present the same
//! collections to the bank again.

use std::path::Path;

use crate::config::Config;
use crate::jobs::JobError;
use crate::jobs::outbox::{self, Reserved, names_like};
use crate::store::{CreditorKey, LedgerTag, OutboxFolder, RunLock, Store, message_id_prefix};

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
/// the creditor's files go to now (adopted since: its marker differs), which holds neither
/// them nor their temporaries: that says nothing about whether they were ever placed (in the
/// other folder), so they can neither be recorded as sent nor written again without risking
/// to collect nothing or to collect twice. A person decides, file by file.
#[derive(Debug, thiserror::Error)]
#[error(
    "refusing to collect: {} file(s) assigned by runs that stopped before finishing them were \
     reserved in another outbox folder than folders.outbox, {outbox} ({}), which holds neither \
     them nor their temporaries: {}. That is not their folder (an outbox adopted since they \
     were reserved), so whether they reached the bank is unknown; nothing was collected. For \
     each file: if the folder it was reserved in holds it or its temporary, move that into \
     {outbox} and collect again; if not, ask the bank. Not received: put an empty .NAME.tmp into {outbox} and \
     collect again (the file is written anew). Received: `collecte run collect --sent NAME` \
     (the file is recorded as sent, not written again)",
    .files.len(),
    marked(.outbox_id),
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

/// folders.outbox holds another folder than the one the creditor's files go to (known by its
/// marker), or a folder with no marker: the empty mount point of a share that failed to
/// mount, a folder made anew, a mistyped path. Files written there would never reach the
/// bank while the ledger records them as sent, so nothing is written until the folder is
/// back or a person adopts the new one.
#[derive(Debug, thiserror::Error)]
#[error(
    "refusing to collect: folders.outbox, {outbox} ({}), is not the folder this ledger's files \
     go to, {} (marked {}). A share that failed to mount leaves its empty mount point at the \
     same path, and files written there would never reach the bank while the ledger records \
     them as sent; nothing more was collected. Mount the folder back (or point folders.outbox \
     at it) and collect again; if this folder is the outbox from now on, `collecte run collect \
     --adopt-outbox` once",
    marked(.found),
    .known.path,
    .known.id
)]
pub struct OutboxReplaced {
    /// The outbox configured now (canonical path).
    pub outbox: String,
    /// Its marker id, if it has one.
    pub found: Option<String>,
    /// The folder the creditor's files go to.
    pub known: OutboxFolder,
}

/// "marked ID", or "no marker".
fn marked(id: &Option<String>) -> String {
    id.as_deref()
        .map_or_else(|| "no marker".to_owned(), |id| format!("marked {id}"))
}

/// The folder a run's files go to: folders.outbox, if it is the one the creditor's files
/// have gone to (by its marker: a folder moved with its marker is still it, and its new path
/// is recorded). The first run marks it and records it.
pub(super) async fn creditors_outbox(
    config: &Config,
    store: &Store,
    creditor: CreditorKey,
) -> Result<OutboxFolder, JobError> {
    let dir = &config.folders.outbox;
    let here = match store.creditor_outbox(creditor).await? {
        None => marked_folder(dir)?,
        Some(known) => {
            still_the_outbox(dir, &known)?;
            let here = OutboxFolder {
                path: outbox::folder_path(dir)?,
                id: known.id.clone(),
            };
            if here == known {
                return Ok(here);
            }
            tracing::info!(outbox = %here.path, was = %known.path, "the outbox moved with its marker: its new path is recorded");
            here
        }
    };
    store.set_creditor_outbox(creditor, &here).await?;
    Ok(here)
}

/// What a dry run checks of [`creditors_outbox`]: it marks and records nothing.
pub(super) async fn check_creditors_outbox(
    config: &Config,
    store: &Store,
    creditor: CreditorKey,
) -> Result<(), JobError> {
    match store.creditor_outbox(creditor).await? {
        Some(known) => still_the_outbox(&config.folders.outbox, &known),
        None => Ok(()),
    }
}

/// Refuses when the folder at `dir` is not `known` (by its marker): read before and after
/// each file is reserved, as a share may go between two files.
pub(super) fn still_the_outbox(dir: &Path, known: &OutboxFolder) -> Result<(), JobError> {
    let found = outbox::folder_marker(dir)?;
    if found.as_ref() == Some(&known.id) {
        return Ok(());
    }
    Err(OutboxReplaced {
        outbox: outbox::folder_path(dir)?,
        found,
        known: known.clone(),
    }
    .into())
}

/// `reserved`, if `dir` is still `known` once it is reserved; else withdrawn (a share gone
/// in between: the temporary went to its mount point), and the refusal.
pub(super) fn reserved_in_the_outbox(
    dir: &Path,
    known: &OutboxFolder,
    reserved: Reserved,
) -> Result<Reserved, JobError> {
    match still_the_outbox(dir, known) {
        Ok(()) => Ok(reserved),
        Err(refused) => {
            reserved.withdraw()?;
            Err(refused)
        }
    }
}

/// `dir` as an [`OutboxFolder`], marked first if it has no marker yet.
fn marked_folder(dir: &Path) -> Result<OutboxFolder, JobError> {
    Ok(OutboxFolder {
        path: outbox::folder_path(dir)?,
        id: outbox::mark_folder(dir)?,
    })
}

/// Makes folders.outbox the folder the creditor's files go to (a person's word, after a
/// refusal named it): marked if it has no marker, and recorded.
pub async fn adopt_outbox(
    config: &Config,
    store: &Store,
    creditor: CreditorKey,
    lock: &mut RunLock,
) -> Result<OutboxFolder, JobError> {
    let folder = marked_folder(&config.folders.outbox)?;
    let before = store.creditor_outbox(creditor).await?;
    lock.still_held("adopting the outbox").await?;
    store.set_creditor_outbox(creditor, &folder).await?;
    match before {
        None => tracing::info!(outbox = %folder.path, marker = %folder.id, "the outbox is recorded as this ledger's"),
        Some(known) if known.id == folder.id => {
            tracing::info!(outbox = %folder.path, marker = %folder.id, "the outbox was already this ledger's");
        }
        Some(known) => tracing::warn!(
            outbox = %folder.path,
            marker = %folder.id,
            was = %known.path,
            was_marker = %known.id,
            "the outbox is adopted, on a person's word: the creditor's files go here from now on"
        ),
    }
    Ok(folder)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outbox_is_known_by_its_marker_not_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let known = marked_folder(dir.path()).unwrap();
        assert_eq!(marked_folder(dir.path()).unwrap(), known, "marked once");
        still_the_outbox(dir.path(), &known).unwrap();

        // The share gone: its empty mount point at the same path, which the check leaves be.
        std::fs::remove_file(dir.path().join(".collecte-outbox-id")).unwrap();
        let refused = still_the_outbox(dir.path(), &known).unwrap_err();
        let message = refused.to_string();
        assert!(matches!(refused, JobError::Replaced(_)), "{message}");
        assert!(
            message.contains(&format!("({}), is not", marked(&None)))
                && message.contains(&format!("(marked {})", known.id)),
            "{message}"
        );
        assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());

        // Another folder, marked: not this ledger's either.
        let other = marked_folder(dir.path()).unwrap();
        assert_ne!(other.id, known.id);
        let message = still_the_outbox(dir.path(), &known).unwrap_err().to_string();
        assert!(message.contains(&format!("(marked {}), is not", other.id)), "{message}");
    }
}
