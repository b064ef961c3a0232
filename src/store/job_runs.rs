//! Every run of every job: when, for which business date, by which worker, how it ended.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::{Doing, Store, StoreError, dispatch};

/// Row id of a job run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobRunKey(pub i64);

/// One recorded run (`collecte jobs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct JobRunRow {
    /// Row id.
    pub id: i64,
    /// collect, ingest, ...
    pub job: String,
    /// The business date it ran for.
    pub business_date: NaiveDate,
    /// host-pid of the process that ran it.
    pub worker: String,
    /// Start.
    pub started_at: DateTime<Utc>,
    /// End, unless still running (or the process died).
    pub finished_at: Option<DateTime<Utc>>,
    /// running, succeeded or failed.
    pub outcome: String,
    /// What it did, in one line.
    pub summary: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
}

impl Store {
    /// Records that a job starts, for the job request a worker runs (`None`: by hand).
    pub async fn start_job_run(
        &self,
        job: &str,
        business_date: NaiveDate,
        worker: &str,
        request: Option<i64>,
    ) -> Result<JobRunKey, StoreError> {
        let now = Utc::now();
        dispatch!(self, pool => sqlx::query_scalar(
            "INSERT INTO job_runs (job, business_date, worker, started_at, outcome, request_id) VALUES ($1, $2, $3, $4, 'running', $5) RETURNING id",
        )
        .bind(job)
        .bind(business_date)
        .bind(worker)
        .bind(now)
        .bind(request)
        .fetch_one(pool)
        .await
        .doing("recording a job start")
        .map(JobRunKey))
    }

    /// Records how a job ended: its one-line summary, or its error.
    pub async fn finish_job_run(&self, run: JobRunKey, result: Result<&str, &str>) -> Result<(), StoreError> {
        let now = Utc::now();
        let (outcome, summary, error) = match result {
            Ok(summary) => ("succeeded", Some(summary), None),
            Err(error) => ("failed", None, Some(error)),
        };
        dispatch!(self, pool => sqlx::query("UPDATE job_runs SET finished_at = $1, outcome = $2, summary = $3, error = $4 WHERE id = $5")
            .bind(now)
            .bind(outcome)
            .bind(summary)
            .bind(error)
            .bind(run.0)
            .execute(pool)
            .await
            .doing("recording a job end")
            .map(|_| ()))
    }

    /// Marks the runs of `request` still shown as running as failed: their worker died (a
    /// request runs again only when its previous run can no longer end on its own).
    pub async fn abandon_request_runs(&self, request: i64, taken_over_by: &str) -> Result<u64, StoreError> {
        let error =
            format!("the worker stopped before the end (killed or crashed); {taken_over_by} runs the job again");
        dispatch!(self, pool => sqlx::query(
            "UPDATE job_runs SET outcome = 'failed', error = $1 WHERE request_id = $2 AND outcome = 'running'",
        )
        .bind(&error)
        .bind(request)
        .execute(pool)
        .await
        .doing("marking the runs of a dead worker")
        .map(|r| r.rows_affected()))
    }

    /// The most recent runs, newest first.
    pub async fn recent_job_runs(&self, limit: i64) -> Result<Vec<JobRunRow>, StoreError> {
        dispatch!(self, pool => sqlx::query_as(
            "SELECT id, job, business_date, worker, started_at, finished_at, outcome, summary, error FROM job_runs ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(pool)
        .await
        .doing("listing job runs"))
    }
}
