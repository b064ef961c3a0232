//! `collecte worker`: durable jobs on apalis queues, cron triggers, the inbox watch.
//!
//! One process = one apalis worker taking one job at a time, plus two background loops: the
//! cron trigger (with the sweeper that re-queues what a crash or an outage left behind) and
//! the inbox watch. Any number of processes on any number of machines share one queue; the
//! ledger's `job_requests` rows make their effects happen once (see `handler`).

mod cron;
pub mod enqueue;
mod handler;
mod inbox;
pub mod queue;

use std::sync::Arc;
use std::time::Duration;

use apalis::prelude::{BackendExt, Monitor, WorkerBuilder, WorkerBuilderExt};
use chrono::Utc;
use tokio::sync::watch;
use tracing::{error, info, warn};

pub use cron::fire_due;
pub use enqueue::{EnqueueOutcome, enqueue, sweep};
use handler::Shared;
pub use queue::{Queue, QueueError};

use crate::config::Config;
use crate::jobs::runner;
use crate::store::{CreditorKey, Store, StoreError};

/// The job name of a request that does nothing but go through the queue and the ledger
/// (queue benchmarks, smoke tests of a deployment).
pub const NOOP: &str = "noop";

/// Why the worker (or an enqueue) could not go on.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The ledger failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The queue backend failed.
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// What this worker process runs besides queued jobs.
#[derive(Debug, Clone, Copy)]
pub struct WorkerOptions {
    /// Fire the cron schedules (off: only run what others enqueue).
    pub triggers: bool,
    /// Queue `ingest` when files land in the inbox.
    pub watch_inbox: bool,
}

/// How often the trigger loop wakes at the latest (it also wakes at each next firing).
const TRIGGER_TICK: chrono::Duration = chrono::Duration::seconds(30);

/// How often an idle worker on the Redis or SQLite queue looks for a task another process
/// pushed.
const IDLE_POLL: Duration = Duration::from_secs(1);

/// Runs one apalis monitor with this process's worker on one backend, until the stop signal
/// (then the running job gets `timeout`) or a backend error ends it.
macro_rules! serve {
    ($backend:expr, $shared:expr, $name:expr, $stop:expr, $timeout:expr) => {{
        let backend = $backend.clone();
        let shared = $shared.clone();
        let name = $name.clone();
        let mut stop = $stop.clone();
        let timeout = $timeout;
        Monitor::new()
            .register(move |_| {
                WorkerBuilder::new(name.as_str())
                    .backend(backend.clone())
                    .data(shared.clone())
                    .concurrency(1)
                    .build(handler::handle)
            })
            .with_terminator(async move { tokio::time::sleep(timeout).await })
            .run_with_signal(async move {
                let _ = stop.wait_for(|s| *s).await;
                Ok(())
            })
            .await
            .map_err(|e| e.to_string())
    }};
}

/// Runs until SIGTERM or SIGINT, then lets the running job finish (at most
/// `queue.shutdown_timeout_seconds`) and returns.
pub async fn run(
    config: Config,
    store: Store,
    creditor: CreditorKey,
    options: WorkerOptions,
) -> Result<(), WorkerError> {
    let queue = Queue::open(&config).await?;
    let worker = runner::worker_name();
    info!(worker, queue = queue.name(), "worker started");
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        info!("stop requested: no new jobs; the running one may finish");
        let _ = stop_tx.send(true);
    });

    let mut background = Vec::new();
    if options.triggers {
        background.push(tokio::spawn(trigger_loop(
            config.clone(),
            store.clone(),
            queue.clone(),
            stop_rx.clone(),
        )));
    }
    if options.watch_inbox {
        background.push(tokio::spawn(inbox::watch_inbox(
            config.clone(),
            store.clone(),
            queue.clone(),
            stop_rx.clone(),
        )));
    }

    let timeout = Duration::from_secs(u64::from(config.queue.shutdown_timeout_seconds));
    let shared = Arc::new(Shared {
        config,
        store,
        creditor,
        queue: queue.clone(),
        worker: worker.clone(),
    });
    let mut restarts: u32 = 0;
    loop {
        // A name is never reused: a backend refuses a worker name it saw alive recently.
        let name = if restarts == 0 {
            worker.clone()
        } else {
            format!("{worker}-r{restarts}")
        };
        let outcome = match &queue {
            // The storages alone look for new tasks only at their heartbeat (a third of the
            // lease, 20 s by default). PostgreSQL can tell: LISTEN for inserted tasks. Redis
            // and SQLite cannot: look every second (one script call, one indexed query).
            Queue::Redis(q) => serve!(q.clone().poll_with_interval(IDLE_POLL), shared, name, stop_rx, timeout),
            Queue::Sqlite(q) => serve!(q.clone().poll_with_interval(IDLE_POLL), shared, name, stop_rx, timeout),
            Queue::Postgres(q) => serve!(q.clone().with_pubsub(), shared, name, stop_rx, timeout),
        };
        if *stop_rx.borrow() {
            break;
        }
        restarts += 1;
        let pause = Duration::from_secs(2u64.saturating_pow(restarts.min(5)).min(30));
        match outcome {
            Ok(()) => warn!("the worker stopped; restarting in {}s", pause.as_secs()),
            Err(e) => error!(
                "the worker stopped on a queue error: {e}; reconnecting in {}s",
                pause.as_secs()
            ),
        }
        let mut stop = stop_rx.clone();
        tokio::select! {
            _ = stop.wait_for(|s| *s) => break,
            () = tokio::time::sleep(pause) => {}
        }
    }
    for task in background {
        let _ = task.await;
    }
    info!(worker, "worker stopped");
    Ok(())
}

/// Fires due cron schedules and sweeps the queue until `stop`; errors are logged and retried
/// at the next tick (a ledger or queue restart must not end the loop).
async fn trigger_loop(config: Config, store: Store, mut queue: Queue, mut stop: watch::Receiver<bool>) {
    let started = Utc::now();
    loop {
        let now = Utc::now();
        if let Err(e) = cron::fire_due(&config, &store, &mut queue, started, now).await {
            warn!("cron trigger: {e}");
        }
        if let Err(e) = sweep(&store, &mut queue).await {
            warn!("queue sweep: {e}");
        }
        let wake = cron::next_wake(&config, Utc::now(), TRIGGER_TICK);
        let pause = (wake - Utc::now()).to_std().unwrap_or_default() + Duration::from_millis(10);
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            () = tokio::time::sleep(pause) => {}
        }
    }
}

/// SIGTERM (service managers) or SIGINT (Ctrl-C).
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(e) => {
            warn!("cannot listen for SIGTERM ({e}); Ctrl-C still stops the worker");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
