//! Asking for a job run: a request row in the ledger first, then its id on the queue.
//!
//! The order makes a crash harmless: a row whose push never happened is found by
//! [`sweep`] and pushed then; a push whose row already succeeded is skipped by the handler.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use tracing::{info, warn};

use super::WorkerError;
use super::queue::Queue;
use crate::config::{Job, QueueSettings};
use crate::store::{Enqueued, JobRequestRow, NewRequest, RequestOrigin, Store};

/// What [`enqueue`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnqueueOutcome {
    /// A new request, now on the queue.
    Queued(i64),
    /// A new request, recorded in the ledger only: the queue is unreachable (the reason).
    /// A worker's sweeper hands it to the queue once it is back; nothing is lost.
    Recorded(i64, String),
    /// The same job and business date was already asked for (its row, in whatever state).
    AlreadyRequested(JobRequestRow),
}

/// Asks for `job` on `business_date`; `queue` is the reason it cannot be reached, if so. Cron and
/// manual requests run once per job and date.
pub async fn enqueue(
    store: &Store,
    queue: Result<&mut Queue, &str>,
    settings: &QueueSettings,
    job: Job,
    business_date: NaiveDate,
    origin: RequestOrigin,
    scheduled_for: Option<DateTime<Utc>>,
) -> Result<EnqueueOutcome, WorkerError> {
    let request = NewRequest {
        job: job.as_str(),
        business_date,
        origin,
        scheduled_for,
        max_attempts: settings.max_attempts,
    };
    let id = match store.enqueue_request(&request).await? {
        Enqueued::Existing(row) => return Ok(EnqueueOutcome::AlreadyRequested(row)),
        Enqueued::New(id) => id,
    };
    let reason = match queue {
        Ok(queue) => match push(store, queue, id, None).await {
            Ok(()) => {
                info!(request = id, job = %job, %business_date, "job queued on {}", queue.name());
                return Ok(EnqueueOutcome::Queued(id));
            }
            Err(WorkerError::Queue(e)) => e.to_string(),
            Err(other) => return Err(other),
        },
        Err(reason) => reason.to_owned(),
    };
    warn!(request = id, job = %job, %business_date, "job recorded, not yet queued: {reason}");
    Ok(EnqueueOutcome::Recorded(id, reason))
}

/// Puts an existing request id on the queue and notes it in the ledger.
pub async fn push(
    store: &Store,
    queue: &mut Queue,
    id: i64,
    run_after: Option<DateTime<Utc>>,
) -> Result<(), WorkerError> {
    queue.push(id, run_after).await?;
    store.mark_request_pushed(id).await?;
    Ok(())
}

/// How long a request may sit unpushed before the sweeper pushes it: longer than any
/// insert-then-push takes, so that a live enqueuer is never raced.
const UNPUSHED_GRACE_SECONDS: i64 = 30;

/// How long a pushed, due request may wait unstarted before it counts as lost by the queue.
const LOST_AFTER_SECONDS: i64 = 600;

/// Pushes the requests a crash or a queue outage left in the ledger only. Returns how many.
pub async fn sweep(store: &Store, queue: &mut Queue) -> Result<usize, WorkerError> {
    let now = Utc::now();
    let stale = store
        .requests_to_push(
            now - Duration::seconds(UNPUSHED_GRACE_SECONDS),
            now - Duration::seconds(LOST_AFTER_SECONDS),
        )
        .await?;
    for (id, run_after) in &stale {
        push(store, queue, *id, *run_after).await?;
        info!(request = id, "queued a job request the queue did not have");
    }
    Ok(stale.len())
}
