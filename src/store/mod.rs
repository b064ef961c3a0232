//! All SQL of collecte: one `Store` over SQLite (the embedded default) or PostgreSQL.
//!
//! Each operation is written once. The [`dispatch!`] macro type-checks the same body against
//! each backend's pool, so the SQL text is shared wherever the dialects agree (`$1`
//! placeholders, `ON CONFLICT`, `RETURNING`) and a `match` on [`Store::dialect`] marks the
//! few places they do not. Schemas live in `migrations/sqlite` and `migrations/postgres`.

mod collect;
mod collections;
mod creditor;
mod events;
mod imports;
mod ingest;
mod job_requests;
mod job_runs;
mod manual;
mod outbox_folder;
mod plans;
mod presentations;
mod run_lock;
mod sqlite_bulk;
mod values;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

pub use collect::{
    AssignConflict, Assignment, DryRunView, DueCollection, FileAssignment, FileRow, GroupTotal, PendingAmendment,
    Presented, SchemeIdChange, message_id_prefix,
};
pub use collections::{CollectionFilter, CollectionRow, CollectionStatus, FileState, StatusTotal, TimelineEvent};
pub use creditor::{CreditorKey, CreditorSnapshot, LedgerTag};
pub use imports::{ImportBatch, ImportCounts, ImportOutcome};
pub use ingest::{BankFileKey, BankFileStart, Booked, UnmatchedRow};
pub use job_requests::{Enqueued, JobRequestRow, NewRequest, RequestEnd, RequestOrigin};
pub use job_runs::{JobRunKey, JobRunRow};
pub use manual::{Decided, Retried};
pub use outbox_folder::OutboxFolder;
pub use run_lock::{LockHolder, RunLock};

/// What went wrong talking to the ledger, with the operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Could not open or reach the database.
    #[error("cannot open database {url}: {source}")]
    Connect {
        /// The URL, password removed.
        url: String,
        /// Driver error.
        source: sqlx::Error,
    },
    /// A migration failed; the schema is as it was before it.
    #[error("cannot migrate database {url}: {source}")]
    Migrate {
        /// The URL, password removed.
        url: String,
        /// Migration error.
        source: sqlx::migrate::MigrateError,
    },
    /// A query failed.
    #[error("database error while {doing}: {source}")]
    Query {
        /// What the store was doing.
        doing: &'static str,
        /// Driver error.
        source: sqlx::Error,
    },
    /// A statement of the SQLite bulk path failed.
    #[error("database error while {doing}: {source}")]
    Sqlite {
        /// What the store was doing.
        doing: &'static str,
        /// Driver error.
        source: rusqlite::Error,
    },
    /// A run lock's file beside an SQLite ledger could not be opened or locked.
    #[error("cannot take the run lock {path}: {source}")]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The ledger holds something its own rules forbid (a bug or a hand edit).
    #[error("ledger inconsistency: {0}")]
    Corrupt(String),
    /// Another process held the SQLite ledger's write lock for longer than
    /// [`SQLITE_BUSY_TIMEOUT`]: nothing is wrong with the ledger or the input, the run can
    /// simply be started again (SQLite's own "database is locked" says none of that).
    #[error(
        "the ledger was busy while {doing}: another process (an import, another job, a `sqlite3` shell) held its write lock for more than {} s; run again once it is done",
        SQLITE_BUSY_TIMEOUT.as_secs()
    )]
    Busy {
        /// What the store was doing.
        doing: &'static str,
    },
    /// A PostgreSQL run lock's session ended under the run (a failover, a cut connection, an
    /// idle timeout), and the advisory lock with it: another run may be under way.
    #[error(
        "the run lock was lost while {doing} (its PostgreSQL session ended: a failover, a cut connection, an idle timeout); another run may hold it now, so this one stopped before touching the outbox; run again"
    )]
    LockLost {
        /// What the run was about to do.
        doing: &'static str,
    },
}

/// How long an SQLite connection waits for another process's write lock before the
/// operation fails with [`StoreError::Busy`]: longer than a run's transactions take, short
/// enough that a stuck process is reported rather than waited for.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Whether an SQLite result code (extended or primary) is SQLITE_BUSY: another connection
/// holds the lock. SQLITE_LOCKED is not: it is a conflict inside one connection (or a shared
/// cache, which the store does not use), which no other process caused and a re-run would meet
/// again.
fn sqlite_busy_code(code: i32) -> bool {
    code & 0xff == 5
}

/// Adds "while doing what" to driver errors.
trait Doing<T> {
    fn doing(self, doing: &'static str) -> Result<T, StoreError>;
}

impl<T> Doing<T> for Result<T, sqlx::Error> {
    fn doing(self, doing: &'static str) -> Result<T, StoreError> {
        self.map_err(|source| {
            let busy = match &source {
                sqlx::Error::Database(e) if e.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() => e
                    .code()
                    .and_then(|code| code.parse().ok())
                    .is_some_and(sqlite_busy_code),
                _ => false,
            };
            if busy {
                StoreError::Busy { doing }
            } else {
                StoreError::Query { doing, source }
            }
        })
    }
}

/// The SQL dialect behind a store, for the few statements that differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite 3.4x, WAL, `synchronous=FULL`.
    Sqlite,
    /// PostgreSQL 13+.
    Postgres,
}

#[derive(Debug, Clone)]
enum Pool {
    /// The sqlx pool, and the file for the bulk path ([`sqlite_bulk`]).
    Sqlite(SqlitePool, sqlite_bulk::SqliteFile),
    Postgres(PgPool),
}

/// The ledger: every fact collecte knows, behind one handle that is cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
}

/// Starts a transaction that will write. On SQLite it takes the write lock up front
/// (`BEGIN IMMEDIATE`), so two processes cannot both read and then deadlock on the upgrade;
/// the busy timeout makes the second one wait instead.
trait BeginWrite {
    type Db: sqlx::Database;
    fn begin_write(&self) -> impl Future<Output = Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>>;
}

impl BeginWrite for SqlitePool {
    type Db = sqlx::Sqlite;
    fn begin_write(&self) -> impl Future<Output = Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>> {
        self.begin_with("BEGIN IMMEDIATE")
    }
}

impl BeginWrite for PgPool {
    type Db = sqlx::Postgres;
    fn begin_write(&self) -> impl Future<Output = Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>> {
        self.begin()
    }
}

/// Runs the same body against whichever pool the store holds; `$pool` is bound to it.
macro_rules! dispatch {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.pool {
            $crate::store::Pool::Sqlite($pool, _) => $body,
            $crate::store::Pool::Postgres($pool) => $body,
        }
    };
}
use dispatch;

/// Where the ledger lives: the two backends collecte supports, told apart once, here.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// An SQLite file (absolute path), created if missing.
    Sqlite(PathBuf),
    /// A PostgreSQL URL, as given (it may hold a password: print it with `Display`, which
    /// hides it).
    Postgres(String),
}

impl fmt::Display for DatabaseUrl {
    /// The URL with any password replaced by `***`, safe for logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            Self::Postgres(url) => {
                let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
                let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
                match authority.rsplit_once('@') {
                    Some((userinfo, host)) => {
                        let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
                        let hidden = if userinfo.contains(':') { ":***" } else { "" };
                        write!(f, "{scheme}://{user}{hidden}@{host}{path}")
                    }
                    None => f.write_str(url),
                }
            }
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

impl Store {
    /// Opens (creating a SQLite file if missing) and migrates the ledger at `url`.
    ///
    /// SQLite runs in WAL mode with `synchronous=FULL` (a committed collection file must
    /// survive a power cut), foreign keys on, and a busy timeout so that concurrent processes
    /// wait for each other instead of failing.
    pub async fn open(url: &DatabaseUrl) -> Result<Self, StoreError> {
        let shown = url.to_string();
        let connect = |source| StoreError::Connect {
            url: shown.clone(),
            source,
        };
        let store = match url {
            DatabaseUrl::Sqlite(path) => {
                let options = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .foreign_keys(true)
                    .busy_timeout(SQLITE_BUSY_TIMEOUT);
                let pool = SqlitePoolOptions::new()
                    .max_connections(4)
                    .connect_with(options)
                    .await
                    .map_err(connect)?;
                Self {
                    pool: Pool::Sqlite(pool, sqlite_bulk::SqliteFile::new(path)),
                }
            }
            DatabaseUrl::Postgres(url) => {
                // JIT off for the ledger's sessions: its statements are bulk row work, where
                // compiling costs more than it saves (a million-collection ledger's due page
                // spent 0.75 s of 1.26 s inlining and optimising, once per page).
                let options = PgConnectOptions::from_str(url)
                    .map_err(connect)?
                    .options([("jit", "off")]);
                let pool = PgPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await
                    .map_err(connect)?;
                Self {
                    pool: Pool::Postgres(pool),
                }
            }
        };
        store.migrate(&shown).await?;
        Ok(store)
    }

    async fn migrate(&self, shown: &str) -> Result<(), StoreError> {
        let result = match &self.pool {
            Pool::Sqlite(pool, _) => sqlx::migrate!("migrations/sqlite").run(pool).await,
            Pool::Postgres(pool) => sqlx::migrate!("migrations/postgres").run(pool).await,
        };
        result.map_err(|source| StoreError::Migrate {
            url: shown.to_owned(),
            source,
        })
    }

    /// Which SQL dialect this store speaks.
    pub fn dialect(&self) -> Dialect {
        match self.pool {
            Pool::Sqlite(..) => Dialect::Sqlite,
            Pool::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Waits for running queries and closes every connection (SQLite checkpoints its WAL).
    pub async fn close(&self) {
        dispatch!(self, pool => pool.close().await)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sqlx::ConnectOptions as _;
    use sqlx::sqlite::SqliteConnectOptions;

    use super::{Doing as _, StoreError};

    /// A real SQLite file whose write lock another connection holds, as an import would.
    fn locked_ledger() -> (tempfile::TempDir, std::path::PathBuf, rusqlite::Connection) {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("ledger.db");
        let holder = rusqlite::Connection::open(&path).expect("the ledger file");
        holder
            .execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (x); BEGIN IMMEDIATE; INSERT INTO t VALUES (1);")
            .expect("the write lock");
        (dir, path, holder)
    }

    fn assert_busy(e: StoreError) {
        let text = e.to_string();
        assert!(matches!(e, StoreError::Busy { doing: "writing" }), "{e:?}");
        assert!(
            text.starts_with("the ledger was busy while writing: another process"),
            "{text}"
        );
        assert!(text.contains("more than 30 s"), "{text}");
    }

    #[tokio::test]
    async fn a_held_write_lock_is_busy_through_sqlx() {
        let (_dir, path, _holder) = locked_ledger();
        let mut conn = SqliteConnectOptions::new()
            .filename(&path)
            .busy_timeout(Duration::ZERO)
            .connect()
            .await
            .expect("a second connection");
        let e = sqlx::query("INSERT INTO t VALUES (2)")
            .execute(&mut conn)
            .await
            .doing("writing")
            .expect_err("the lock is held");
        assert_busy(e);
        // Other failures keep the driver's error.
        let e = sqlx::query("SELECT nope FROM t")
            .execute(&mut conn)
            .await
            .doing("writing")
            .expect_err("no such column");
        assert!(matches!(e, StoreError::Query { .. }), "{e:?}");
    }

    #[test]
    fn a_held_write_lock_is_busy_through_rusqlite() {
        let (_dir, path, _holder) = locked_ledger();
        let conn = rusqlite::Connection::open(&path).expect("a second connection");
        conn.busy_timeout(Duration::ZERO).expect("no wait");
        let e = conn
            .execute("INSERT INTO t VALUES (2)", [])
            .doing("writing")
            .expect_err("the lock is held");
        assert_busy(e);
        let e = conn
            .execute("SELECT nope FROM t", [])
            .doing("writing")
            .expect_err("no such column");
        assert!(matches!(e, StoreError::Sqlite { .. }), "{e:?}");
    }
}
