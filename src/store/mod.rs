//! All SQL of collecte: one `Store` over SQLite (the embedded default) or PostgreSQL.
//!
//! Each operation is written once. The [`dispatch!`] macro type-checks the same body against
//! each backend's pool, so the SQL text is shared wherever the dialects agree (`$1`
//! placeholders, `ON CONFLICT`, `RETURNING`) and a `match` on [`Store::dialect`] marks the
//! few places they do not. Schemas live in `migrations/sqlite` and `migrations/postgres`.

mod collections;
mod creditor;
mod imports;
mod plans;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use creditor::{CreditorKey, CreditorSnapshot};
pub use imports::{ImportBatch, ImportCounts, ImportOutcome};

/// What went wrong talking to the ledger, with the operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL is neither `sqlite:` nor `postgres:`.
    #[error("unsupported database URL {0:?}: expected sqlite://PATH or postgres://...")]
    Url(String),
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
    /// The ledger holds something its own rules forbid (a bug or a hand edit).
    #[error("ledger inconsistency: {0}")]
    Corrupt(String),
}

/// Adds "while doing what" to driver errors.
trait Doing<T> {
    fn doing(self, doing: &'static str) -> Result<T, StoreError>;
}

impl<T> Doing<T> for Result<T, sqlx::Error> {
    fn doing(self, doing: &'static str) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::Query { doing, source })
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
    Sqlite(SqlitePool),
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
    fn begin_write(
        &self,
    ) -> impl Future<Output = Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>>;
}

impl BeginWrite for SqlitePool {
    type Db = sqlx::Sqlite;
    fn begin_write(
        &self,
    ) -> impl Future<Output = Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>> {
        self.begin_with("BEGIN IMMEDIATE")
    }
}

impl BeginWrite for PgPool {
    type Db = sqlx::Postgres;
    fn begin_write(
        &self,
    ) -> impl Future<Output = Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>> {
        self.begin()
    }
}

/// Runs the same body against whichever pool the store holds; `$pool` is bound to it.
macro_rules! dispatch {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.pool {
            $crate::store::Pool::Sqlite($pool) => $body,
            $crate::store::Pool::Postgres($pool) => $body,
        }
    };
}
use dispatch;

/// Removes the password from a URL before it goes into a message or a log line.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

impl Store {
    /// Opens (creating a SQLite file if missing) and migrates the ledger at `url`.
    ///
    /// SQLite runs in WAL mode with `synchronous=FULL` (a committed collection file must
    /// survive a power cut), foreign keys on, and a busy timeout so that concurrent processes
    /// wait for each other instead of failing.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let shown = redact(url);
        let connect = |source| StoreError::Connect {
            url: shown.clone(),
            source,
        };
        let store = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(connect)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(30));
            let pool = SqlitePoolOptions::new()
                .max_connections(4)
                .connect_with(options)
                .await
                .map_err(connect)?;
            Self {
                pool: Pool::Sqlite(pool),
            }
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url).map_err(connect)?;
            let pool = PgPoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .map_err(connect)?;
            Self {
                pool: Pool::Postgres(pool),
            }
        } else {
            return Err(StoreError::Url(shown));
        };
        store.migrate(&shown).await?;
        Ok(store)
    }

    async fn migrate(&self, shown: &str) -> Result<(), StoreError> {
        let result = match &self.pool {
            Pool::Sqlite(pool) => sqlx::migrate!("migrations/sqlite").run(pool).await,
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
            Pool::Sqlite(_) => Dialect::Sqlite,
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
    use super::redact;

    #[test]
    fn redacts_passwords_only() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite://collecte.db"), "sqlite://collecte.db");
    }
}
