//! The queue backends: apalis on Redis when a Redis URL is configured, else apalis on SQL —
//! a SQLite file of its own beside an SQLite ledger, or the `apalis` schema of a PostgreSQL
//! ledger's database. All three carry the same task (a job request id); nothing else about a
//! job lives in the queue.

use std::path::{Path, PathBuf};
use std::time::Duration;

use apalis::prelude::{TaskBuilder, TaskSink};
use apalis_postgres::PostgresStorage;
use apalis_redis::RedisStorage;
use apalis_sqlite::SqliteStorage;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::Executor;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

use crate::config::{Config, QueueSettings};
use crate::store::DatabaseUrl;

/// What a queued task carries: the id of a row in `job_requests`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobTask {
    /// The request to run.
    pub request: i64,
}

/// The backend tasks go through.
#[derive(Clone)]
pub enum Queue {
    /// `REDIS_URL` / `queue.redis_url` set.
    Redis(RedisStorage<JobTask>),
    /// SQLite ledger without Redis: `<ledger>.queue.db` beside it.
    Sqlite(SqliteStorage<JobTask>),
    /// PostgreSQL ledger without Redis: schema `apalis` of the same database.
    Postgres(PostgresStorage<JobTask>),
}

/// Why the queue cannot be reached or written.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// Connecting to Redis failed.
    #[error("cannot connect to the Redis queue at {url}: {source}")]
    Redis {
        /// The configured URL.
        url: String,
        /// Driver error.
        source: apalis_redis::RedisError,
    },
    /// Opening or migrating the SQL queue failed.
    #[error("cannot open the job queue at {at}: {reason}")]
    Sql {
        /// File or database.
        at: String,
        /// What failed.
        reason: String,
    },
    /// The backend refused a task.
    #[error("cannot queue job request {request} on {backend}: {reason}")]
    Push {
        /// The request id.
        request: i64,
        /// Which backend.
        backend: &'static str,
        /// What failed.
        reason: String,
    },
}

impl Queue {
    /// Opens the configured backend, creating its tables on first use.
    pub async fn open(config: &Config) -> Result<Self, QueueError> {
        let settings = &config.queue;
        if let Some(url) = &config.redis_url {
            let conn = apalis_redis::connect(url.as_str())
                .await
                .map_err(|source| QueueError::Redis {
                    url: url.clone(),
                    source,
                })?;
            let (heartbeat, missed) = heartbeat(settings);
            let redis_config = apalis_redis::Config::default()
                .queue(&settings.name)
                .heartbeat_interval(heartbeat)
                .missed_heartbeats(missed)
                .batch_size(1);
            return Ok(Self::Redis(RedisStorage::new(conn).with_config(redis_config)));
        }
        match &config.database {
            DatabaseUrl::Sqlite(ledger) => Self::open_sqlite(&queue_file(ledger), settings).await,
            DatabaseUrl::Postgres(url) => Self::open_postgres(url, &config.database.to_string(), settings).await,
        }
    }

    async fn open_sqlite(file: &Path, settings: &QueueSettings) -> Result<Self, QueueError> {
        let sql = |e: &dyn std::fmt::Display| QueueError::Sql {
            at: file.display().to_string(),
            reason: e.to_string(),
        };
        let options = SqliteConnectOptions::new()
            .filename(file)
            .create_if_missing(true)
            .busy_timeout(Duration::from_secs(30));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|e| sql(&e))?;
        // sqlx's SQLite migrator takes no lock between processes: two processes migrating a
        // new queue file at once can each see the other's half-made schema. A file lock
        // beside the queue serialises the setup; the kernel releases it if a process dies.
        let mut lock_path = file.as_os_str().to_owned();
        lock_path.push(".lock");
        let lock = tokio::task::spawn_blocking(move || {
            let lock = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&lock_path)?;
            lock.lock()?;
            Ok::<_, std::io::Error>(lock)
        })
        .await
        .map_err(|e| sql(&e))?
        .map_err(|e| sql(&e))?;
        let setup = set_up(|| SqliteStorage::setup(&pool)).await.map_err(|e| sql(&e));
        drop(lock);
        setup?;
        let (heartbeat, missed) = heartbeat(settings);
        let sqlite_config = apalis_sqlite::Config::default()
            .queue(&settings.name)
            .heartbeat_interval(heartbeat)
            .missed_heartbeats(missed)
            .batch_size(1);
        Ok(Self::Sqlite(SqliteStorage::new(&pool).with_config(sqlite_config)))
    }

    async fn open_postgres(url: &str, shown: &str, settings: &QueueSettings) -> Result<Self, QueueError> {
        let sql = |e: &dyn std::fmt::Display| QueueError::Sql {
            at: format!("{shown} (schema apalis)"),
            reason: e.to_string(),
        };
        // apalis keeps its own migration history; with `apalis` first on the search path it
        // lands in that schema instead of clashing with the ledger's in `public`.
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("SET search_path TO apalis, public").await?;
                    Ok(())
                })
            })
            .connect(url)
            .await
            .map_err(|e| sql(&e))?;
        set_up(|| async {
            pool.execute("CREATE SCHEMA IF NOT EXISTS apalis")
                .await
                .map_err(|e| e.to_string())?;
            PostgresStorage::setup(&pool).await.map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| sql(&e))?;
        let (heartbeat, missed) = heartbeat(settings);
        let pg_config = apalis_postgres::Config::default()
            .queue(&settings.name)
            .heartbeat_interval(heartbeat)
            .missed_heartbeats(missed)
            .batch_size(1);
        Ok(Self::Postgres(PostgresStorage::new(&pool).with_config(pg_config)))
    }

    /// Which backend, for logs and `collecte jobs`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Redis(_) => "Redis",
            Self::Sqlite(_) => "SQLite",
            Self::Postgres(_) => "PostgreSQL",
        }
    }

    /// Hands a request to the backend, to run not before `run_after`. The backend itself
    /// never retries it: failures are retried by the request's own policy in the ledger.
    pub async fn push(&mut self, request: i64, run_after: Option<DateTime<Utc>>) -> Result<(), QueueError> {
        let mut task = TaskBuilder::new(JobTask { request }).max_attempts(1);
        if let Some(delay) = run_after.and_then(|at| (at - Utc::now()).to_std().ok()) {
            task = task.run_after(delay);
        }
        let task = task.build();
        let backend = self.name();
        let result = match self {
            Self::Redis(q) => q.push_task(task).await.map_err(|e| e.to_string()),
            Self::Sqlite(q) => q.push_task(task).await.map_err(|e| e.to_string()),
            Self::Postgres(q) => q.push_task(task).await.map_err(|e| e.to_string()),
        };
        result.map_err(|reason| QueueError::Push {
            request,
            backend,
            reason,
        })
    }
}

/// Runs a backend's first-use setup (schema, migrations), retried a few times: workers
/// started together race on it (PostgreSQL's `CREATE SCHEMA IF NOT EXISTS` is not atomic,
/// SQLite's migration table is written by both), and the loser finds it done on a retry.
async fn set_up<F, Fut, E>(mut setup: F) -> Result<(), E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), E>>,
{
    let mut tries = 0;
    loop {
        match setup().await {
            Ok(()) => return Ok(()),
            Err(e) if tries == 8 => return Err(e),
            Err(_) => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(100 * tries)).await;
            }
        }
    }
}

/// The SQLite queue's file: `collecte.db` → `collecte.queue.db`, in the same folder. Never
/// the ledger file itself: apalis sets `synchronous = OFF` and its own migration table.
pub fn queue_file(ledger: &Path) -> PathBuf {
    let stem = ledger
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    ledger.with_file_name(format!("{stem}.queue.db"))
}

/// A heartbeat every third of the lease, three missed ones and the job goes to another worker.
fn heartbeat(settings: &QueueSettings) -> (Duration, usize) {
    let lease = u64::from(settings.lease_seconds);
    (Duration::from_secs((lease / 3).max(1)), 3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sqlite_queue_sits_beside_the_ledger_never_in_it() {
        assert_eq!(
            queue_file(Path::new("/srv/collecte/collecte.db")),
            PathBuf::from("/srv/collecte/collecte.queue.db")
        );
        assert_eq!(
            queue_file(Path::new("/srv/ledger")),
            PathBuf::from("/srv/ledger.queue.db")
        );
    }
}
