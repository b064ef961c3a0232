//! `ingest`: empties the bank drop folder. Every file becomes facts in the ledger exactly once
//! and moves to `processed/`, or moves to `quarantine/` with a `.reason.txt` beside it.
//! Nothing is deleted; one bad file does not stop the others.
//!
//! 1. Claim each file by renaming it into `inbox/.ingesting/` (two ingest processes never
//!    read the same file; files claimed by a process that died are taken over).
//! 2. Known content (SHA-256) is a re-drop: moved to `processed/`, nothing booked.
//! 3. A first pass reads the whole file: anything unreadable quarantines it before a single
//!    fact is booked.
//! 4. A second pass streams its facts through a bounded channel to the ledger in batches;
//!    each fact has its own key, so overlapping statements book each fact once.

use std::fs;
use std::io::{BufReader, Read};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::JobError;
use super::outbox::{OutboxError, err as io_err, sha256_of};
use crate::config::Config;
use crate::sepa::reports::archive::{for_each_member, is_zip};
use crate::sepa::reports::facts::{Fact, for_each_fact};
use crate::sepa::reports::{Limits, Report, ReportError, open};
use crate::store::{BankFileStart, Booked, CreditorKey, Store};

/// Facts booked per ledger transaction.
const BATCH: usize = 1000;

/// How one file ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Booked and moved to `processed/`.
    Processed,
    /// The same bytes were ingested before; moved to `processed/`, nothing booked.
    Duplicate,
    /// Moved to `quarantine/` with a reason.
    Quarantined,
}

/// One file of the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileReport {
    /// The name it had in the inbox.
    pub file: String,
    /// What happened.
    pub outcome: Outcome,
    /// Message types found (`pain.002.001.10`, `camt.054.001.08`...).
    pub messages: Vec<String>,
    /// What it booked.
    pub booked: Booked,
    /// Why it was quarantined, or what it duplicates.
    pub note: Option<String>,
    /// Where it is now.
    pub moved_to: PathBuf,
}

/// What an ingest run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IngestReport {
    /// Every file, in the order handled.
    pub files: Vec<FileReport>,
}

impl IngestReport {
    /// Whether any file went to quarantine (the exit code says so).
    pub fn quarantined(&self) -> usize {
        self.files.iter().filter(|f| f.outcome == Outcome::Quarantined).count()
    }
}

/// Reads every fact of a file (one XML message, or each XML member of a zip) and returns the
/// message types found. Errors are the reason a person reads in `.reason.txt`.
fn read_facts(path: &Path, mut sink: impl FnMut(Fact) -> ControlFlow<()>) -> Result<Vec<String>, String> {
    let limits = Limits::default();
    let mut file = fs::File::open(path).map_err(|e| format!("cannot read the file: {e}"))?;
    let mut head = [0u8; 4];
    let n = file.read(&mut head).map_err(|e| format!("cannot read the file: {e}"))?;
    let file = fs::File::open(path).map_err(|e| format!("cannot read the file: {e}"))?;
    let mut messages = Vec::new();
    let mut one = |reader: &mut dyn std::io::BufRead| -> Result<(), ReportError> {
        let report = open(reader, limits)?;
        messages.push(match &report {
            Report::Pain002(r) => r.message().name.clone(),
            Report::Camt(r) => r.message().name.clone(),
        });
        for_each_fact(report, &mut sink)
    };
    if is_zip(&head[..n]) {
        for_each_member(file, limits, |name, reader| {
            one(reader).map_err(|e| ReportError::Member {
                member: name.to_owned(),
                source: Box::new(e),
            })
        })
        .map_err(|e: ReportError| e.to_string())?;
    } else {
        one(&mut BufReader::with_capacity(1 << 16, file)).map_err(|e| e.to_string())?;
    }
    Ok(messages)
}

/// Moves a file, falling back to copy + sync + remove across file systems; never overwrites
/// (a name already taken gets `.2`, `.3`... before its extension).
fn move_into(from: &Path, dir: &Path, name: &str) -> Result<PathBuf, OutboxError> {
    fs::create_dir_all(dir).map_err(io_err("cannot create folder", dir))?;
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s.to_owned(), format!(".{e}")),
        _ => (name.to_owned(), String::new()),
    };
    let mut target = dir.join(name);
    let mut n = 2;
    while target.exists() {
        target = dir.join(format!("{stem}.{n}{ext}"));
        n += 1;
    }
    if let Err(e) = fs::rename(from, &target) {
        if e.kind() != std::io::ErrorKind::CrossesDevices {
            return Err(io_err("cannot move into", &target)(e));
        }
        fs::copy(from, &target).map_err(io_err("cannot copy into", &target))?;
        fs::File::open(&target)
            .and_then(|f| f.sync_all())
            .map_err(io_err("cannot sync", &target))?;
        fs::remove_file(from).map_err(io_err("cannot remove", from))?;
    }
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err("cannot sync folder", dir))?;
    Ok(target)
}

fn sidecar(path: &Path, suffix: &str, text: &str) -> Result<(), OutboxError> {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    let side = PathBuf::from(name);
    fs::write(&side, text).map_err(io_err("cannot write", &side))
}

/// Files to handle: those claimed by dead processes, then the inbox's, each claimed by rename.
fn claim_files(inbox: &Path) -> Result<Vec<(PathBuf, String)>, OutboxError> {
    let work = inbox.join(".ingesting");
    fs::create_dir_all(&work).map_err(io_err("cannot create folder", &work))?;
    let mut claimed = Vec::new();
    let me = std::process::id();
    let mut orphans: Vec<_> = fs::read_dir(&work)
        .map_err(io_err("cannot list", &work))?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_owned();
            let (pid, original) = name.split_once('-')?;
            let pid: u32 = pid.parse().ok()?;
            (pid != me && !Path::new(&format!("/proc/{pid}")).exists()).then(|| (e.path(), original.to_owned()))
        })
        .collect();
    orphans.sort();
    for (path, original) in orphans {
        let mine = work.join(format!("{me}-{original}"));
        if fs::rename(&path, &mine).is_ok() {
            tracing::warn!(file = %original, "taking over a file whose ingest was interrupted");
            claimed.push((mine, original));
        }
    }
    let mut names: Vec<String> = fs::read_dir(inbox)
        .map_err(io_err("cannot list", inbox))?
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    for name in names {
        let mine = work.join(format!("{me}-{name}"));
        // Only one process wins the rename: the others find the file gone and move on.
        if fs::rename(inbox.join(&name), &mine).is_ok() {
            claimed.push((mine, name));
        }
    }
    Ok(claimed)
}

/// Runs ingest over the inbox.
pub async fn run(config: &Config, store: &Store, creditor: CreditorKey) -> Result<IngestReport, JobError> {
    let f = &config.folders;
    let mut report = IngestReport::default();
    for (path, name) in claim_files(&f.inbox)? {
        let file_report = ingest_file(config, store, creditor, &path, &name).await?;
        tracing::info!(file = %name, outcome = ?file_report.outcome, "bank file handled");
        report.files.push(file_report);
    }
    Ok(report)
}

async fn ingest_file(
    config: &Config,
    store: &Store,
    creditor: CreditorKey,
    path: &Path,
    name: &str,
) -> Result<FileReport, JobError> {
    let folders = &config.folders;
    let quarantine = |reason: String, messages: Vec<String>| -> Result<FileReport, JobError> {
        let moved_to = move_into(path, &folders.quarantine, name)?;
        sidecar(&moved_to, ".reason.txt", &format!("{name}: {reason}\n"))?;
        Ok(FileReport {
            file: name.to_owned(),
            outcome: Outcome::Quarantined,
            messages,
            booked: Booked::default(),
            note: Some(reason),
            moved_to,
        })
    };
    let sha = sha256_of(path)?;
    let key = match store.start_bank_file(&sha, name).await? {
        BankFileStart::New(key) | BankFileStart::Resume(key) => key,
        BankFileStart::Duplicate { original_name, outcome } => {
            let note = format!("same content as {original_name} (already {outcome}); nothing booked");
            let moved_to = move_into(path, &folders.processed, name)?;
            sidecar(&moved_to, ".result.txt", &format!("{name}: {note}\n"))?;
            return Ok(FileReport {
                file: name.to_owned(),
                outcome: Outcome::Duplicate,
                messages: vec![],
                booked: Booked::default(),
                note: Some(note),
                moved_to,
            });
        }
    };
    // First pass: the whole file must be readable before anything is booked.
    let check = {
        let path = path.to_owned();
        tokio::task::spawn_blocking(move || read_facts(&path, |_| ControlFlow::Continue(())))
            .await
            .map_err(|e| JobError::Invalid(format!("{name}: the reader stopped: {e}")))?
    };
    let messages = match check {
        Ok(messages) => messages,
        Err(reason) => {
            store.finish_bank_file(key, None, Some(&reason), "").await?;
            return quarantine(reason, vec![]);
        }
    };
    // Second pass: stream the facts to the ledger in batches.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(u64, Fact)>(4 * BATCH);
    let reader = {
        let path = path.to_owned();
        tokio::task::spawn_blocking(move || {
            let mut ordinal = 0;
            read_facts(&path, |fact| {
                ordinal += 1;
                match tx.blocking_send((ordinal, fact)) {
                    Ok(()) => ControlFlow::Continue(()),
                    Err(_) => ControlFlow::Break(()),
                }
            })
        })
    };
    let mut booked = Booked::default();
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(fact) = rx.recv().await {
        batch.push(fact);
        if batch.len() == BATCH {
            booked.add(store.book_facts(creditor, key, &batch).await?);
            batch.clear();
        }
    }
    booked.add(store.book_facts(creditor, key, &batch).await?);
    if let Err(reason) = reader
        .await
        .map_err(|e| JobError::Invalid(format!("{name}: the reader stopped: {e}")))?
    {
        // The file changed between the passes (it is in our working folder: it should not).
        store.finish_bank_file(key, None, Some(&reason), "").await?;
        return quarantine(reason, messages);
    }
    let summary = format!(
        "{}: {} R-transaction(s), {} settlement(s), {} unmatched entr(y/ies), {} already booked, {} warning(s)",
        messages.join(" + "),
        booked.r_transactions,
        booked.settlements,
        booked.unmatched,
        booked.already_booked,
        booked.warnings
    );
    store
        .finish_bank_file(key, Some(&messages.join(",")), None, &summary)
        .await?;
    let moved_to = move_into(path, &folders.processed, name)?;
    sidecar(&moved_to, ".result.txt", &format!("{name}: {summary}\n"))?;
    Ok(FileReport {
        file: name.to_owned(),
        outcome: Outcome::Processed,
        messages,
        booked,
        note: None,
        moved_to,
    })
}
