//! What a worker does with one delivered task: claim the request in the ledger, run the job
//! through the same runner as `collecte run`, record how it ended, and schedule the retry.
//!
//! The queue delivers at least once; the ledger makes it once: a request that already
//! succeeded or died is skipped, and the jobs themselves are idempotent (collect's
//! assignment, ingest's per-fact keys), so a job cut off by a crash and run again by another
//! worker has its effects once.

use std::str::FromStr;
use std::sync::Arc;

use apalis::prelude::{BoxDynError, Data};
use chrono::{Duration, NaiveDate, Utc};
use tracing::{error, info, warn};

use super::enqueue::push;
use super::queue::{JobTask, Queue};
use super::{NOOP, WorkerError};
use crate::config::{Config, Job};
use crate::domain::collect::late_run;
use crate::jobs::JobError;
use crate::jobs::runner::{self, RunMode};
use crate::store::{CreditorKey, JobRequestRow, RequestEnd, RequestOrigin, Store};

/// What every task of one worker process shares.
pub(super) struct Shared {
    pub config: Config,
    pub store: Store,
    pub creditor: CreditorKey,
    pub queue: Queue,
    /// host-pid, unique across machines and restarts.
    pub worker: String,
}

/// The apalis task function.
pub(super) async fn handle(task: JobTask, shared: Data<Arc<Shared>>) -> Result<(), BoxDynError> {
    let shared = Arc::clone(&shared);
    // The job runs as a task of its own: a panic in it becomes an error here (the backend
    // redelivers the task) instead of taking the worker down.
    let outcome = tokio::spawn(async move { shared.run_request(task.request).await }).await;
    // Only a ledger that cannot record the outcome gets here as an error; the backend then
    // redelivers the task once the lease lapses, and the ledger decides again.
    match outcome {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => {
            error!(request = task.request, "cannot record the job run: {e}");
            Err(Box::new(e))
        }
        Err(panic) => {
            error!(request = task.request, "the job panicked: {panic}");
            Err(Box::new(panic))
        }
    }
}

impl Shared {
    async fn run_request(&self, id: i64) -> Result<(), WorkerError> {
        let Some(request) = self.store.start_request(id, &self.worker).await? else {
            info!(request = id, "job request already finished; redelivery skipped");
            return Ok(());
        };
        let outcome = if request.job == NOOP {
            Ok(String::new())
        } else {
            self.run_job(&request).await
        };
        match outcome {
            Ok(summary) => {
                self.store.finish_request(id, RequestEnd::Succeeded).await?;
                info!(request = id, job = %request.job, date = %request.business_date, "job done: {summary}");
            }
            Err((error, permanent)) => self.failed(&request, &error, permanent).await?,
        }
        Ok(())
    }

    /// Runs the job; the error comes with whether retrying could help.
    async fn run_job(&self, request: &JobRequestRow) -> Result<String, (String, bool)> {
        let job = Job::from_str(&request.job).map_err(|e| (e.to_string(), true))?;
        let date = self.date_to_run(request, job);
        info!(request = request.id, job = %job, %date, attempt = request.attempts, "job starts");
        runner::run(
            &self.config,
            &self.store,
            self.creditor,
            job,
            date,
            RunMode::Request(request.id),
            None,
        )
        .await
        .map(|output| output.summary())
        .map_err(|e| {
            // Bad configuration or data, a ledger behind its outbox or files reserved in
            // another folder do not heal by waiting; a ledger, disk or conflict error may, and
            // so may an outbox that is not the ledger's: a share that failed to mount is often
            // back by the retry (nothing was written meanwhile).
            let permanent = matches!(e, JobError::Invalid(_) | JobError::Disagree(_) | JobError::Moved(_));
            (e.to_string(), permanent)
        })
    }

    /// The business date a request runs for: its own, except for a scheduled collect that
    /// runs too late for it (requeued days later, retried after midnight), which runs for
    /// today — its files would ask for a collection date the bank can no longer reach, and
    /// what was due by then is caught up, as after a missed firing. A date given to
    /// `collecte enqueue` is kept (a person may replay a day on purpose); the run warns.
    fn date_to_run(&self, request: &JobRequestRow, job: Job) -> NaiveDate {
        let today = self.config.schedule.today();
        if job == Job::Collect
            && request.origin == RequestOrigin::Cron.as_str()
            && let Some(late) = late_run(request.business_date, today, self.config.bank.lead_days)
        {
            warn!(
                request = request.id,
                "{late}; this scheduled request runs for {today} instead"
            );
            return today;
        }
        request.business_date
    }

    async fn failed(&self, request: &JobRequestRow, error: &str, permanent: bool) -> Result<(), WorkerError> {
        let last = request.attempts >= request.max_attempts;
        if permanent || last {
            self.store
                .finish_request(request.id, RequestEnd::Dead { error })
                .await?;
            error!(
                request = request.id,
                job = %request.job,
                attempts = request.attempts,
                "job dead: {error} (see `collecte jobs`; `collecte jobs requeue {}` runs it again)",
                request.id
            );
            return Ok(());
        }
        let run_after = Utc::now() + backoff(self.config.queue.retry_backoff_seconds, request.attempts);
        self.store
            .finish_request(request.id, RequestEnd::Retry { error, run_after })
            .await?;
        warn!(
            request = request.id,
            job = %request.job,
            attempt = request.attempts,
            "job failed, retried at {run_after}: {error}"
        );
        // If the queue is down now, the sweeper pushes it once it is back.
        let mut queue = self.queue.clone();
        if let Err(e) = push(&self.store, &mut queue, request.id, Some(run_after)).await {
            warn!(request = request.id, "retry not queued yet: {e}");
        }
        Ok(())
    }
}

/// `base`, doubled for each attempt after the first, at most one hour.
fn backoff(base_seconds: u32, attempts: i64) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1)).unwrap_or(u32::MAX).min(12);
    let seconds = i64::from(base_seconds).saturating_mul(1 << doublings);
    Duration::seconds(seconds.min(3600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_and_stops_at_an_hour() {
        let secs = |attempts| backoff(60, attempts).num_seconds();
        assert_eq!([secs(1), secs(2), secs(3), secs(4)], [60, 120, 240, 480]);
        assert_eq!(secs(7), 3600);
        assert_eq!(secs(1000), 3600);
        assert_eq!(backoff(1, 1).num_seconds(), 1);
    }
}
