//! The ledger side of the job queue: one row per request to run a job.
//!
//! The queue backend only carries a request id and delivers it at least once; everything that
//! must be exact lives here: a second trigger of the same `(job, business date)` is refused by
//! the unique `dedupe_key`; a redelivered request that already succeeded or died is skipped;
//! attempts, the last error and dead requests are visible whatever the backend.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::{Doing, Store, StoreError, dispatch};

/// Why a request exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestOrigin {
    /// A cron trigger of `collecte worker`.
    Cron,
    /// `collecte enqueue`.
    Manual,
    /// A file appeared in the inbox (ingest only; not de-duplicated by date).
    Inbox,
}

impl RequestOrigin {
    /// As stored in `job_requests.origin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cron => "cron",
            Self::Manual => "manual",
            Self::Inbox => "inbox",
        }
    }
}

/// What to insert.
#[derive(Debug, Clone)]
pub struct NewRequest<'a> {
    /// Job name (`collect`, `ingest`, ...).
    pub job: &'a str,
    /// The business date it runs for.
    pub business_date: NaiveDate,
    /// Who asks.
    pub origin: RequestOrigin,
    /// For cron requests: the instant the schedule fired (the catch-up watermark).
    pub scheduled_for: Option<DateTime<Utc>>,
    /// Runs before the request is parked as dead.
    pub max_attempts: u32,
}

/// One request, as `collecte jobs` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct JobRequestRow {
    /// Row id; the queue task carries it.
    pub id: i64,
    /// Job name.
    pub job: String,
    /// Business date.
    pub business_date: NaiveDate,
    /// cron, manual, inbox or requeue.
    pub origin: String,
    /// queued, running, succeeded or dead.
    pub state: String,
    /// Runs so far.
    pub attempts: i64,
    /// Runs allowed.
    pub max_attempts: i64,
    /// When it was asked for.
    pub enqueued_at: DateTime<Utc>,
    /// Not before (a retry's backoff).
    pub run_after: Option<DateTime<Utc>>,
    /// Worker of the last run.
    pub worker: Option<String>,
    /// Why the last run failed.
    pub last_error: Option<String>,
}

/// The result of asking for a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enqueued {
    /// A new request: push its id to the queue.
    New(i64),
    /// The same job and business date was already asked for; nothing new.
    Existing(JobRequestRow),
}

/// How a run of a request ended, as the ledger records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestEnd<'a> {
    /// Done; never run again.
    Succeeded,
    /// Failed; queued again, not before `run_after`.
    Retry {
        /// The error.
        error: &'a str,
        /// When the retry may run.
        run_after: DateTime<Utc>,
    },
    /// Failed for the last time (or for a reason retrying cannot fix).
    Dead {
        /// The error.
        error: &'a str,
    },
}

const COLUMNS: &str =
    "id, job, business_date, origin, state, attempts, max_attempts, enqueued_at, run_after, worker, last_error";

impl Store {
    /// Asks for a run. Cron and manual requests are unique per `(job, business date)`; inbox
    /// requests are not, but one that is still waiting makes a new one pointless, so the
    /// waiting one is returned instead.
    pub async fn enqueue_request(&self, request: &NewRequest<'_>) -> Result<Enqueued, StoreError> {
        let dedupe_key = match request.origin {
            RequestOrigin::Inbox => {
                if let Some(waiting) = self.waiting_inbox_request(request.job).await? {
                    return Ok(Enqueued::Existing(waiting));
                }
                None
            }
            _ => Some(format!("{}:{}", request.job, request.business_date)),
        };
        let inserted: Option<i64> = dispatch!(self, pool => sqlx::query_scalar(
            "INSERT INTO job_requests (job, business_date, origin, dedupe_key, state, max_attempts, enqueued_at, scheduled_for) \
             VALUES ($1, $2, $3, $4, 'queued', $5, $6, $7) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
        )
        .bind(request.job)
        .bind(request.business_date)
        .bind(request.origin.as_str())
        .bind(&dedupe_key)
        .bind(i64::from(request.max_attempts))
        .bind(Utc::now())
        .bind(request.scheduled_for)
        .fetch_optional(pool)
        .await
        .doing("recording a job request"))?;
        match (inserted, dedupe_key) {
            (Some(id), _) => Ok(Enqueued::New(id)),
            (None, Some(key)) => {
                if let Some(at) = request.scheduled_for {
                    // The firing is recorded even when a manual request came first, so that the
                    // trigger loop's watermark moves on.
                    dispatch!(self, pool => sqlx::query(
                        "UPDATE job_requests SET scheduled_for = $1 WHERE dedupe_key = $2 AND (scheduled_for IS NULL OR scheduled_for < $1)",
                    )
                    .bind(at)
                    .bind(&key)
                    .execute(pool)
                    .await
                    .doing("recording a cron firing")
                    .map(|_| ()))?;
                }
                let existing = dispatch!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {COLUMNS} FROM job_requests WHERE dedupe_key = $1"
                )))
                .bind(&key)
                .fetch_optional(pool)
                .await
                .doing("reading an existing job request"))?;
                existing
                    .map(Enqueued::Existing)
                    .ok_or_else(|| StoreError::Corrupt(format!("job request {key} conflicted but cannot be read")))
            }
            (None, None) => Err(StoreError::Corrupt(
                "an inbox job request was refused as a duplicate".into(),
            )),
        }
    }

    async fn waiting_inbox_request(&self, job: &str) -> Result<Option<JobRequestRow>, StoreError> {
        dispatch!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM job_requests WHERE job = $1 AND origin = 'inbox' AND state = 'queued' AND attempts = 0 LIMIT 1"
        )))
        .bind(job)
        .fetch_optional(pool)
        .await
        .doing("looking for a waiting inbox request"))
    }

    /// Notes that the queue backend accepted the request.
    pub async fn mark_request_pushed(&self, id: i64) -> Result<(), StoreError> {
        dispatch!(self, pool => sqlx::query("UPDATE job_requests SET pushed_at = $1 WHERE id = $2")
            .bind(Utc::now())
            .bind(id)
            .execute(pool)
            .await
            .doing("marking a job request as queued")
            .map(|_| ()))
    }

    /// Queued requests to hand to the backend again: those it never accepted (the process
    /// died between the insert and the push, or the backend was down), asked for before
    /// `unpushed_before`; and those it accepted before `lost_before` that are due and still
    /// not started (a Redis without persistence restarted and forgot them). Id and not-before
    /// time. A request pushed twice is harmless: the second delivery finds it finished.
    pub async fn requests_to_push(
        &self,
        unpushed_before: DateTime<Utc>,
        lost_before: DateTime<Utc>,
    ) -> Result<Vec<(i64, Option<DateTime<Utc>>)>, StoreError> {
        dispatch!(self, pool => sqlx::query_as(
            "SELECT id, run_after FROM job_requests WHERE state = 'queued' AND ( \
               (pushed_at IS NULL AND enqueued_at < $1) \
               OR (pushed_at < $2 AND (run_after IS NULL OR run_after < $2))) ORDER BY id",
        )
        .bind(unpushed_before)
        .bind(lost_before)
        .fetch_all(pool)
        .await
        .doing("listing job requests to queue"))
    }

    /// Claims a delivered request for a run: counts the attempt and names the worker. `None`
    /// when it already succeeded or died (a redelivery), or does not exist.
    pub async fn start_request(&self, id: i64, worker: &str) -> Result<Option<JobRequestRow>, StoreError> {
        dispatch!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "UPDATE job_requests SET state = 'running', attempts = attempts + 1, worker = $1, started_at = $2 \
             WHERE id = $3 AND state IN ('queued', 'running') RETURNING {COLUMNS}"
        )))
        .bind(worker)
        .bind(Utc::now())
        .bind(id)
        .fetch_optional(pool)
        .await
        .doing("starting a job request"))
    }

    /// Records how a run ended. A retry leaves `pushed_at` empty until the backend takes it.
    pub async fn finish_request(&self, id: i64, end: RequestEnd<'_>) -> Result<(), StoreError> {
        let now = Utc::now();
        let (state, error, run_after) = match end {
            RequestEnd::Succeeded => ("succeeded", None, None),
            RequestEnd::Retry { error, run_after } => ("queued", Some(error), Some(run_after)),
            RequestEnd::Dead { error } => ("dead", Some(error), None),
        };
        dispatch!(self, pool => sqlx::query(
            "UPDATE job_requests SET state = $1, last_error = COALESCE($2, last_error), run_after = $3, finished_at = $4, \
             pushed_at = CASE WHEN $1 = 'queued' THEN NULL ELSE pushed_at END WHERE id = $5",
        )
        .bind(state)
        .bind(error)
        .bind(run_after)
        .bind(now)
        .bind(id)
        .execute(pool)
        .await
        .doing("recording the end of a job request")
        .map(|_| ()))
    }

    /// Puts a dead request back in the queue with a fresh attempt count; `None` unless it
    /// exists and is dead.
    pub async fn requeue_dead_request(&self, id: i64) -> Result<Option<JobRequestRow>, StoreError> {
        dispatch!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "UPDATE job_requests SET state = 'queued', attempts = 0, pushed_at = NULL, run_after = NULL, origin = 'requeue', \
             enqueued_at = $1 WHERE id = $2 AND state = 'dead' RETURNING {COLUMNS}"
        )))
        .bind(Utc::now())
        .bind(id)
        .fetch_optional(pool)
        .await
        .doing("re-queueing a dead job request"))
    }

    /// Requests in one of `states` (queued, running, dead, ...), oldest first.
    pub async fn job_requests(&self, states: &[&str], limit: i64) -> Result<Vec<JobRequestRow>, StoreError> {
        let states: Vec<String> = states.iter().map(|s| (*s).to_owned()).collect();
        let list: Vec<String> = (1..=states.len()).map(|i| format!("${i}")).collect();
        let list = list.join(", ");
        dispatch!(self, pool => {
            let sql = format!("SELECT {COLUMNS} FROM job_requests WHERE state IN ({list}) ORDER BY id LIMIT ${}", states.len() + 1);
            let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
            for state in &states {
                query = query.bind(state);
            }
            query.bind(limit).fetch_all(pool).await.doing("listing job requests")
        })
    }

    /// The instant of the last cron firing recorded for `job`: the trigger loop catches up
    /// from there after every worker was down.
    pub async fn last_cron_firing(&self, job: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        dispatch!(self, pool => sqlx::query_scalar(
            "SELECT MAX(scheduled_for) FROM job_requests WHERE job = $1 AND scheduled_for IS NOT NULL",
        )
        .bind(job)
        .fetch_one(pool)
        .await
        .doing("reading the last cron firing"))
    }
}
