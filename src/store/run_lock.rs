//! One run of a job per creditor at a time, across processes and machines.
//!
//! Two collect runs for one creditor cannot put a collection in two files without it (the
//! assignment refuses collections another run took), but the second run then stops half-way
//! with a conflict and must be started again. With the lock it waits for the first and then
//! finds the work done, which is what an operator re-running a job by hand while the worker
//! runs it expects.
//!
//! The lock goes away with its holder, whatever kills it: on SQLite it is an `flock` on a file
//! beside the database (the operating system drops it with the process); on PostgreSQL a
//! session advisory lock on a connection of its own (the server drops it with the session).
//! The holder's name and start are readable by whoever waits, so the wait can say for whom.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use sqlx::Postgres;
use sqlx::pool::PoolConnection;

use super::sqlite_bulk::SqliteFile;
use super::{CreditorKey, Doing, Pool, Store, StoreError};

/// A held run lock; dropping it releases it.
#[derive(Debug)]
pub struct RunLock {
    held: Option<Held>,
}

#[derive(Debug)]
enum Held {
    /// The lock file, `flock`ed.
    File(File),
    /// The connection whose session holds the advisory lock, and the lock's two keys.
    Session(PoolConnection<Postgres>, [i32; 2]),
}

impl RunLock {
    /// Releases the lock at the end of a run: the PostgreSQL session is closed politely (a
    /// lock dropped on an error path closes its connection abruptly, which the server logs).
    pub async fn release(mut self) {
        if let Some(Held::Session(conn, _)) = self.held.take() {
            let _ = sqlx::Connection::close(conn.detach()).await;
        }
        // A file is unlocked by `Drop`.
    }

    /// Fails with [`StoreError::LockLost`] unless the lock is still this run's, before it does
    /// what only the holder may (move a file into the outbox, clear its temporaries): a
    /// PostgreSQL session can end under a run and its advisory lock with it, after which
    /// another run could be writing the same files. A `flock` lasts as long as the process.
    pub async fn still_held(&mut self, doing: &'static str) -> Result<(), StoreError> {
        let Some(Held::Session(conn, [class, object])) = self.held.as_mut() else {
            return Ok(());
        };
        let held: Result<bool, _> = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
               AND classid = $1::int4::oid AND objid = $2::int4::oid AND objsubid = 2)",
        )
        .bind(*class)
        .bind(*object)
        .fetch_one(&mut **conn)
        .await;
        match held {
            Ok(true) => Ok(()),
            Ok(false) | Err(_) => Err(StoreError::LockLost { doing }),
        }
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        match self.held.take() {
            // Closing the file would release it too; unlocking first says what is meant (an
            // error leaves the lock to the close).
            Some(Held::File(file)) => drop(file.unlock()),
            // A connection that holds the advisory lock must never go back to the pool (its
            // next user would hold the lock too): it is closed instead.
            Some(Held::Session(conn, _)) => drop(conn.detach()),
            None => {}
        }
    }
}

/// Who holds a run lock, as far as it can be told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockHolder {
    /// The holder's worker name (host and process id).
    pub worker: String,
    /// When it took the lock.
    pub since: Option<DateTime<Utc>>,
}

/// The advisory-lock key space of a job: a stable 32-bit hash of its name (FNV-1a), so that
/// each job's locks are apart from each other and from other applications' keys.
fn key_space(job: &str) -> i32 {
    let hash = format!("collecte:{job}")
        .bytes()
        .fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
    i32::from_ne_bytes(hash.to_ne_bytes())
}

/// The creditor's part of an advisory-lock key.
fn key_of(creditor: CreditorKey) -> Result<i32, StoreError> {
    i32::try_from(creditor.0)
        .map_err(|_| StoreError::Corrupt(format!("creditor row id {} is beyond a lock key's range", creditor.0)))
}

/// What the holder writes into its lock file, and what `application_name` says on
/// PostgreSQL: `collecte <start> <worker>` (short, the worker last: PostgreSQL cuts the name
/// at 63 bytes, which leaves the worker 33).
fn holder_label(worker: &str) -> String {
    let since = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    format!("collecte {since} {worker}")
}

fn parse_label(label: &str) -> Option<LockHolder> {
    let mut words = label.split_whitespace().skip(1);
    let since = words
        .next()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc));
    let worker = words.next()?.to_owned();
    Some(LockHolder { worker, since })
}

/// The lock file of `job` for `creditor` beside the SQLite ledger `db`.
fn lock_path(db: &SqliteFile, job: &str, creditor: CreditorKey) -> PathBuf {
    let mut name = db.path().as_os_str().to_owned();
    name.push(format!(".{job}-{}.lock", creditor.0));
    PathBuf::from(name)
}

impl Store {
    /// Takes the run lock of `job` for `creditor` if no one holds it; `None` when another run
    /// does. `worker` names this process to whoever waits.
    pub async fn try_lock_run(
        &self,
        job: &str,
        creditor: CreditorKey,
        worker: &str,
    ) -> Result<Option<RunLock>, StoreError> {
        match &self.pool {
            Pool::Sqlite(_, db) => {
                let path = lock_path(db, job, creditor);
                let lock_error = |source| StoreError::Lock {
                    path: path.clone(),
                    source,
                };
                let mut file = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create(true)
                    .truncate(false)
                    .open(&path)
                    .map_err(lock_error)?;
                match file.try_lock() {
                    Ok(()) => {}
                    Err(TryLockError::WouldBlock) => return Ok(None),
                    Err(TryLockError::Error(e)) => return Err(lock_error(e)),
                }
                file.set_len(0).map_err(lock_error)?;
                file.rewind().map_err(lock_error)?;
                writeln!(file, "{}", holder_label(worker)).map_err(lock_error)?;
                Ok(Some(RunLock {
                    held: Some(Held::File(file)),
                }))
            }
            Pool::Postgres(pool) => {
                const DOING: &str = "taking a run lock";
                // In the guard before the lock is asked for: if this future is dropped half-way,
                // the connection is closed, not returned to the pool perhaps holding the lock.
                let keys = [key_space(job), key_of(creditor)?];
                let mut lock = RunLock {
                    held: Some(Held::Session(pool.acquire().await.doing(DOING)?, keys)),
                };
                // (Always the session just put there.)
                let Some(Held::Session(conn, _)) = lock.held.as_mut() else {
                    return Ok(None);
                };
                let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, $2)")
                    .bind(keys[0])
                    .bind(keys[1])
                    .fetch_one(&mut **conn)
                    .await
                    .doing(DOING)?;
                if !taken {
                    // Holds nothing: back to the pool.
                    drop(lock.held.take());
                    return Ok(None);
                }
                // `application_name` is the waiters' way to tell who holds it (`set_config`: a
                // bound value). The session is idle while the run works: without keepalives the
                // server would notice a crashed or cut-off host only after the kernel's default
                // (two hours), and the lock would outlive its holder that long; with these,
                // within about half a minute (computed from the settings).
                sqlx::query(
                    "SELECT set_config('application_name', $1, false),
                            set_config('tcp_keepalives_idle', '10', false), set_config('tcp_keepalives_interval', '5', false),
                            set_config('tcp_keepalives_count', '3', false), set_config('tcp_user_timeout', '30000', false)",
                )
                .bind(holder_label(worker))
                .execute(&mut **conn)
                .await
                .doing(DOING)?;
                Ok(Some(lock))
            }
        }
    }

    /// Who holds the run lock of `job` for `creditor`, if anyone can be seen holding it.
    pub async fn run_lock_holder(&self, job: &str, creditor: CreditorKey) -> Result<Option<LockHolder>, StoreError> {
        match &self.pool {
            Pool::Sqlite(_, db) => {
                let path = lock_path(db, job, creditor);
                let mut label = String::new();
                match File::open(&path) {
                    Ok(mut file) => {
                        file.read_to_string(&mut label)
                            .map_err(|source| StoreError::Lock { path, source })?;
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                    Err(source) => return Err(StoreError::Lock { path, source }),
                }
                Ok(parse_label(&label))
            }
            Pool::Postgres(pool) => {
                let label: Option<String> = sqlx::query_scalar(
                    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                     WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::int4::oid AND l.objid = $2::int4::oid
                       AND l.objsubid = 2 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                )
                .bind(key_space(job))
                .bind(key_of(creditor)?)
                .fetch_optional(pool)
                .await
                .doing("looking up a run lock's holder")?;
                Ok(label.as_deref().and_then(parse_label))
            }
        }
    }
}
