//! The cron trigger loop every worker runs: each enabled job's schedule, read in its time
//! zone, becomes one request per `(job, business date)`.
//!
//! Why not apalis-cron or tokio-cron-scheduler: neither catches up a firing missed while every
//! worker was down, neither de-duplicates across worker processes, and tokio-cron-scheduler
//! mis-fires on daylight-saving days (#107). Here the firings come from
//! [`crate::domain::triggers`] (wall-clock correct), the watermark is the last firing
//! recorded in the ledger (so a restart catches up), and the ledger's unique key per job and
//! date makes two workers firing at once one request.

use chrono::{DateTime, Utc};
use tracing::{info, warn};

use super::WorkerError;
use super::enqueue::{EnqueueOutcome, enqueue};
use super::queue::Queue;
use crate::config::{Config, Job, JobSchedule};
use crate::domain::triggers::{Firing, firings, next_firing};
use crate::jobs::runner;
use crate::store::{RequestOrigin, Store};

/// The jobs the loop triggers: enabled and built.
fn triggered(config: &Config) -> Vec<&JobSchedule> {
    config
        .schedule
        .jobs()
        .iter()
        .filter(|s| s.enabled && runner::is_built(s.job))
        .collect()
}

/// Fires what is due at `now`: for each job, the firings since its last recorded one. When
/// several were missed (every worker down for days), only the latest runs — a day's jobs
/// catch up their own backlog (collect's catch-up window) — and the skipped ones are logged.
/// A job never fired before starts from `started` (no history to catch up). A missed collect
/// runs for today rather than its own date: its files go to the bank today, so they must ask
/// for the collection date reachable from today (Friday's run made on Monday would ask for
/// Monday, whose deadline was Friday).
pub async fn fire_due(
    config: &Config,
    store: &Store,
    queue: &mut Queue,
    started: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<(Job, Firing, EnqueueOutcome)>, WorkerError> {
    let mut fired = Vec::new();
    for schedule in triggered(config) {
        let job = schedule.job;
        let since = store.last_cron_firing(job.as_str()).await?.unwrap_or(started);
        let due = firings(schedule.cron.schedule(), schedule.timezone, since, now);
        let Some(mut latest) = due.last().copied() else {
            continue;
        };
        let today = now.with_timezone(&schedule.timezone).date_naive();
        if job == Job::Collect && latest.business_date < today {
            warn!(job = %job, "the firing of {} was missed (no worker ran at {}); running it for today, {today}, so that its files ask for a collection date the bank can still reach", latest.business_date, latest.at);
            latest.business_date = today;
        }
        if due.len() > 1 {
            let skipped: Vec<String> = due[..due.len() - 1]
                .iter()
                .map(|f| f.business_date.to_string())
                .collect();
            warn!(job = %job, "missed {} firing(s) while no worker ran ({}); running the latest only", skipped.len(), skipped.join(", "));
        }
        let outcome = enqueue(
            store,
            Ok(&mut *queue),
            &config.queue,
            job,
            latest.business_date,
            RequestOrigin::Cron,
            Some(latest.at),
        )
        .await?;
        if let EnqueueOutcome::AlreadyRequested(row) = &outcome {
            info!(job = %job, date = %latest.business_date, "already requested (request {}, {})", row.id, row.state);
        }
        fired.push((job, latest, outcome));
    }
    Ok(fired)
}

/// When the loop should look again: the next firing of any triggered job, at most `cap` away.
pub(super) fn next_wake(config: &Config, now: DateTime<Utc>, cap: chrono::Duration) -> DateTime<Utc> {
    triggered(config)
        .iter()
        .filter_map(|s| next_firing(s.cron.schedule(), s.timezone, now))
        .map(|f| f.at)
        .min()
        .map_or(now + cap, |at| at.min(now + cap))
}
