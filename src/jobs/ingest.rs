//! `ingest`: empties the bank drop folder. Every file becomes facts in the ledger exactly once
//! and moves to `processed/`, or moves to `quarantine/` with a `.reason.txt` beside it.
//! Nothing is deleted; one bad file does not stop the others.
//!
//! 1. Claim each file by renaming it into this run's folder under `inbox/.ingesting/`, whose
//!    lock the process holds while it lives (two ingest processes never read the same file;
//!    files claimed by a process that died are taken over, never those of a live one).
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
use crate::telemetry::Progress;

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

/// What a reader task returned. A panic in it is a bug, not a bad file: it continues as the
/// panic it is (as the store's bulk path does) rather than becoming a refusal of the file
/// (exit code 3, which tells a script the input was wrong).
fn reader_finished<T>(name: &str, joined: Result<T, tokio::task::JoinError>) -> Result<T, JobError> {
    joined.map_err(|e| match e.try_into_panic() {
        Ok(panic) => std::panic::resume_unwind(panic),
        Err(e) => JobError::Interrupted(format!("{name}: the reader was stopped before it finished: {e}")),
    })
}

/// `name` with `.n` before its extension for n ≥ 2: the names tried for a taken name.
fn numbered(name: &str, n: u32) -> String {
    if n < 2 {
        return name.to_owned();
    }
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem}.{n}.{ext}"),
        _ => format!("{name}.{n}"),
    }
}

/// Moves a file into `dir` under `name` (or `name.2`, `name.3`... when taken), never
/// overwriting: the new name is made with a hard link, which fails rather than replace a
/// file another process put there at the same moment, and only then is the old name removed.
/// Across file systems: an exclusive create, copy and sync, then the removal.
fn move_into(from: &Path, dir: &Path, name: &str) -> Result<PathBuf, OutboxError> {
    fs::create_dir_all(dir).map_err(io_err("cannot create folder", dir))?;
    let mut n = 1;
    let target = loop {
        let target = dir.join(numbered(name, n));
        n += 1;
        match fs::hard_link(from, &target) {
            Ok(()) => break target,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) if e.kind() == std::io::ErrorKind::CrossesDevices => {
                let created = fs::OpenOptions::new().write(true).create_new(true).open(&target);
                let mut out = match created {
                    Ok(out) => out,
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                    Err(e) => return Err(io_err("cannot create", &target)(e)),
                };
                let mut input = fs::File::open(from).map_err(io_err("cannot read", from))?;
                std::io::copy(&mut input, &mut out).map_err(io_err("cannot copy into", &target))?;
                out.sync_all().map_err(io_err("cannot sync", &target))?;
                break target;
            }
            Err(e) => return Err(io_err("cannot move into", &target)(e)),
        }
    };
    fs::remove_file(from).map_err(io_err("cannot remove", from))?;
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

/// This run's claim on inbox files: a folder `inbox/.ingesting/<pid>-<nanos>/` of its own
/// and, beside it, `<pid>-<nanos>.lock`, locked (`flock`) for as long as the process lives.
///
/// A file is claimed by renaming it into the folder, so two processes never read the same
/// file. The lock, not the pid, says whether the owner lives: the kernel releases it when
/// the process dies however it dies, a reused pid or another pid namespace cannot fake it,
/// and a live process's claims are never taken. The lock is taken before the folder exists,
/// so no folder is ever seen without its owner's lock held.
struct Claims {
    dir: PathBuf,
    lock_path: PathBuf,
    /// Held, never read: closing it (at the process's end at the latest) releases the lock.
    _lock: fs::File,
}

impl Claims {
    fn open(work: &Path) -> Result<Self, OutboxError> {
        fs::create_dir_all(work).map_err(io_err("cannot create folder", work))?;
        let pid = std::process::id();
        loop {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            let id = format!("{pid}-{nanos}");
            let lock_path = work.join(format!("{id}.lock"));
            let lock = match fs::OpenOptions::new().write(true).create_new(true).open(&lock_path) {
                Ok(lock) => lock,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(io_err("cannot create", &lock_path)(e)),
            };
            lock.try_lock().map_err(|e| {
                io_err("cannot lock", &lock_path)(match e {
                    fs::TryLockError::Error(e) => e,
                    fs::TryLockError::WouldBlock => std::io::ErrorKind::WouldBlock.into(),
                })
            })?;
            let dir = work.join(&id);
            fs::create_dir(&dir).map_err(io_err("cannot create folder", &dir))?;
            return Ok(Self {
                dir,
                lock_path,
                _lock: lock,
            });
        }
    }

    /// Renames `from` into the claim folder under `name` (numbered if a taken-over file
    /// already holds it); `None` when another process took it first.
    fn take(&self, from: &Path, name: &str) -> Result<Option<PathBuf>, OutboxError> {
        // Only this process writes into its folder: a name free now stays free.
        let mut n = 1;
        let mine = loop {
            let mine = self.dir.join(numbered(name, n));
            if !mine.exists() {
                break mine;
            }
            n += 1;
        };
        match fs::rename(from, &mine) {
            Ok(()) => Ok(Some(mine)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err("cannot claim", from)(e)),
        }
    }

    /// Takes over the files of every claim folder whose owner is gone (its lock is free),
    /// then removes that folder and its lock file, empty.
    fn take_over_orphans(&self, work: &Path) -> Result<Vec<PathBuf>, OutboxError> {
        let mut folders: Vec<PathBuf> = fs::read_dir(work)
            .map_err(io_err("cannot list", work))?
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.path())
            .filter(|p| *p != self.dir)
            .collect();
        folders.sort();
        let mut taken = Vec::new();
        for folder in folders {
            let lock_path = folder.with_extension("lock");
            // A missing lock file: its owner is removing the folder at the end of its run.
            let Ok(lock) = fs::OpenOptions::new().write(true).open(&lock_path) else {
                continue;
            };
            match lock.try_lock() {
                Ok(()) => {}
                Err(fs::TryLockError::WouldBlock) => continue,
                Err(fs::TryLockError::Error(e)) => return Err(io_err("cannot lock", &lock_path)(e)),
            }
            let Ok(entries) = fs::read_dir(&folder) else {
                continue; // removed by another process that took it over just before
            };
            let mut names: Vec<String> = entries
                .filter_map(Result::ok)
                .filter_map(|e| e.file_name().to_str().map(str::to_owned))
                .collect();
            names.sort();
            for name in names {
                if let Some(mine) = self.take(&folder.join(&name), &name)? {
                    tracing::warn!(file = %name, "taking over a file whose ingest was interrupted");
                    taken.push(mine);
                }
            }
            // Empty now: the folder goes, then its lock file (in this order, so a folder is
            // never seen without a lock file while it may still hold files).
            if fs::remove_dir(&folder).is_ok() {
                let _ = fs::remove_file(&lock_path);
            }
        }
        Ok(taken)
    }

    /// At the end of a run whose files all moved on: removes the empty folder and the lock
    /// file. A folder still holding files is left, locked until the process ends, for the
    /// next run to take over.
    fn close(self) {
        if fs::remove_dir(&self.dir).is_ok() {
            let _ = fs::remove_file(&self.lock_path);
        }
    }
}

/// Files to handle: those claimed by dead processes, then the inbox's, each claimed by rename
/// into this run's claim folder. Names starting with a dot are not bank files.
fn claim_files(claims: &Claims, inbox: &Path, work: &Path) -> Result<Vec<(PathBuf, String)>, OutboxError> {
    let mut claimed = claims.take_over_orphans(work)?;
    let mut names: Vec<String> = fs::read_dir(inbox)
        .map_err(io_err("cannot list", inbox))?
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    for name in names {
        // Only one process wins the rename: the others find the file gone and move on.
        if let Some(mine) = claims.take(&inbox.join(&name), &name)? {
            claimed.push(mine);
        }
    }
    Ok(claimed
        .into_iter()
        .filter_map(|path| {
            let name = path.file_name()?.to_str()?.to_owned();
            Some((path, name))
        })
        .collect())
}

/// Runs ingest over the inbox.
pub async fn run(config: &Config, store: &Store, creditor: CreditorKey) -> Result<IngestReport, JobError> {
    let f = &config.folders;
    let mut report = IngestReport::default();
    let work = f.inbox.join(".ingesting");
    let claims = Claims::open(&work)?;
    let claimed = claim_files(&claims, &f.inbox, &work)?;
    let progress = Progress::of(claimed.len() as u64, "ingest", "bank files");
    for (path, name) in claimed {
        progress.say(&name);
        let file_report = ingest_file(config, store, creditor, &path, &name).await?;
        tracing::info!(file = %name, outcome = ?file_report.outcome, "bank file handled");
        report.files.push(file_report);
        progress.add(1);
    }
    claims.close();
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
        reader_finished(
            name,
            tokio::task::spawn_blocking(move || read_facts(&path, |_| ControlFlow::Continue(()))).await,
        )?
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
    if let Err(reason) = reader_finished(name, reader.await)? {
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

#[cfg(test)]
mod tests {
    use super::{JobError, reader_finished};

    #[tokio::test]
    async fn a_panicking_reader_stays_a_panic() {
        let joined = tokio::task::spawn_blocking(|| -> Result<(), String> { panic!("reader bug") }).await;
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| reader_finished("r.xml", joined)));
        let payload = caught.expect_err("the panic goes on");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"reader bug"));
    }

    #[tokio::test]
    async fn a_cancelled_reader_is_an_interruption_not_a_bad_file() {
        let task = tokio::spawn(std::future::pending::<Result<(), String>>());
        task.abort();
        match reader_finished("r.xml", task.await) {
            Err(JobError::Interrupted(msg)) => assert!(msg.starts_with("r.xml: the reader was stopped"), "{msg}"),
            other => panic!("expected an interruption, got {other:?}"),
        }
    }
}
