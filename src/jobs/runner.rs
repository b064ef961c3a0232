//! Runs a job the same way whoever asks (`run JOB`, `run day`, later the worker): records the
//! run in the ledger with a one-line summary, or its error.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use serde::Serialize;

use super::collect::{CollectReport, FileLine};
use super::ingest::IngestReport;
use super::{JobError, collect, ingest};
use crate::config::{Config, Job};
use crate::domain::collect::late_run;
use crate::store::{CreditorKey, LockHolder, RunLock, Store};

/// The jobs built so far, in the order a day runs them (ingest before collect, so that the
/// day's rejects are known before the next presentations).
pub const DAY: [Job; 2] = [Job::Ingest, Job::Collect];

/// Whether `job` exists yet (the worker triggers only these; the others say "not built").
pub fn is_built(job: Job) -> bool {
    DAY.contains(&job)
}

/// What a job produced. As JSON, each report names its job (`"job": "collect"`): `run day`
/// prints one per job, and a script must not have to tell them apart by their fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "job", rename_all = "lowercase")]
pub enum JobOutput {
    /// `collect`.
    Collect(CollectReport),
    /// `ingest`.
    Ingest(IngestReport),
}

impl JobOutput {
    /// The one line `collecte jobs` shows.
    pub fn summary(&self) -> String {
        match self {
            Self::Collect(r) => {
                let count: u64 = r.groups.iter().map(|g| g.count).sum();
                let (finished, new): (Vec<&FileLine>, Vec<&FileLine>) = r.files.iter().partition(|f| f.recovered);
                let mut line = format!(
                    "{count} collection(s) in {} file(s) ({} EUR), {} failed, {} held",
                    new.len(),
                    r.total,
                    r.failed_count,
                    r.held
                );
                // A file a stopped run assigned is not this run's collections: said apart, so
                // that "0 collections in 1 file" never hides 13,704 of them.
                for f in finished {
                    let how = if f.already_taken {
                        "recorded as sent (it had left the outbox)"
                    } else {
                        "finished"
                    };
                    line.push_str(&format!(
                        "; {how} {} of an interrupted run ({} transactions, {} EUR)",
                        f.file, f.transactions, f.total
                    ));
                }
                line
            }
            Self::Ingest(r) => {
                let booked = r.files.iter().fold(crate::store::Booked::default(), |mut acc, f| {
                    acc.add(f.booked);
                    acc
                });
                format!(
                    "{} file(s), {} quarantined; {} R-transaction(s), {} settlement(s), {} unmatched",
                    r.files.len(),
                    r.quarantined(),
                    booked.r_transactions,
                    booked.settlements,
                    booked.unmatched
                )
            }
        }
    }

    /// How many inputs were set aside for a person (quarantined files).
    pub fn set_aside(&self) -> usize {
        match self {
            Self::Collect(_) => 0,
            Self::Ingest(r) => r.quarantined(),
        }
    }
}

/// This process's worker name, unique across machines and restarts: host and process id.
pub fn worker_name() -> String {
    format!("{}-{}", host_name(), std::process::id())
}

/// The machine's (or container's) host name: process ids are only meaningful on it.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// How a job is run: by hand, as a dry run, or for a worker's job request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunMode {
    /// `collecte run`, `run day`, `demo`: recorded.
    Manual,
    /// `--dry-run`: writes nothing, not recorded.
    DryRun,
    /// A worker runs job request `.0`: recorded with it.
    Request(i64),
}

/// Runs `job` for `date`, recorded in `job_runs` unless it is a dry run. `held`: the job's run
/// lock, already taken by a caller that had something to record under it first (`run
/// collect --sent`), so that no other run slips in between; else it is taken here.
pub async fn run(
    config: &Config,
    store: &Store,
    creditor: CreditorKey,
    job: Job,
    date: NaiveDate,
    mode: RunMode,
    held: Option<RunLock>,
) -> Result<JobOutput, JobError> {
    // Held until the run is recorded as ended; dry runs too, so that what they foretell is
    // not a state another run is half-way through changing.
    let mut lock = match held {
        Some(lock) => lock,
        None => wait_for_run_lock(config, store, creditor, job).await?,
    };
    let dry_run = mode == RunMode::DryRun;
    // Ingest changes what collect decides from (a rejected FRST makes the mandate first
    // again, a rejected announcement is re-armed): it also waits for a collect run to end,
    // as imports do, so that a collect never assigns from a mandate ingest changed meanwhile.
    let collect_lock = match job {
        Job::Ingest if !dry_run => Some(wait_for_run_lock(config, store, creditor, Job::Collect).await?),
        _ => None,
    };
    let request = match mode {
        RunMode::Request(id) => Some(id),
        RunMode::Manual | RunMode::DryRun => None,
    };
    if let Some(id) = request {
        // A run of this request still shown as running ended without a word: with the lock
        // ours, its process is gone (a live one would still hold it).
        if store.abandon_request_runs(id, &worker_name()).await? > 0 {
            tracing::warn!(
                request = id,
                "the previous run of this job request stopped mid-way (its worker died); running it again"
            );
        }
    }
    if job == Job::Collect
        && let Some(late) = late_run(date, config.schedule.today(), config.bank.lead_days)
    {
        tracing::warn!("{late}");
    }
    let recorded = if dry_run {
        None
    } else {
        Some(store.start_job_run(job.as_str(), date, &worker_name(), request).await?)
    };
    let output = match job {
        Job::Collect => collect::run(config, store, creditor, date, dry_run, &mut lock)
            .await
            .map(JobOutput::Collect),
        Job::Ingest if dry_run => Err(JobError::Invalid(
            "ingest has no dry run: use `collecte inspect FILE` to read a bank file".into(),
        )),
        Job::Ingest => ingest::run(config, store, creditor).await.map(JobOutput::Ingest),
        other => Err(JobError::Invalid(format!("the {other} job is not built yet"))),
    };
    if let Some(run) = recorded {
        let line = output.as_ref().map(JobOutput::summary).map_err(ToString::to_string);
        store
            .finish_job_run(run, line.as_deref().map_err(String::as_str))
            .await?;
    }
    if let Some(held) = collect_lock {
        held.release().await;
    }
    lock.release().await;
    output
}

/// How often a run waiting for another run of its job tries the lock again.
const LOCK_POLL: Duration = Duration::from_millis(200);

/// Takes the run lock of `job` for `creditor`, waiting for a run of the job to end, at most
/// `queue.wait_for_other_run_seconds`; then gives up having done nothing. Imports and ingest
/// take collect's, so that a collect run never reads a mandate, plan or amendment half-changed.
pub async fn wait_for_run_lock(
    config: &Config,
    store: &Store,
    creditor: CreditorKey,
    job: Job,
) -> Result<RunLock, JobError> {
    let wait = Duration::from_secs(u64::from(config.queue.wait_for_other_run_seconds));
    let started = Instant::now();
    let mut waiting = false;
    loop {
        if let Some(lock) = store.try_lock_run(job.as_str(), creditor, &worker_name()).await? {
            if waiting {
                tracing::info!(job = job.as_str(), "the {job} run ended; going on");
            }
            return Ok(lock);
        }
        let waited = started.elapsed();
        if waited >= wait {
            let holder = describe_holder(store.run_lock_holder(job.as_str(), creditor).await?);
            return Err(JobError::Busy(format!(
                "a {job} run for this creditor ({holder}) is still under way after {} s of waiting \
                 (queue.wait_for_other_run_seconds); nothing was done: try again once it has ended",
                waited.as_secs()
            )));
        }
        if !waiting {
            let holder = describe_holder(store.run_lock_holder(job.as_str(), creditor).await?);
            tracing::warn!(
                holder = %holder,
                wait_s = wait.as_secs(),
                "a {job} run for this creditor is under way; waiting for it to end"
            );
            waiting = true;
        }
        tokio::time::sleep(LOCK_POLL.min(wait - waited)).await;
    }
}

fn describe_holder(holder: Option<LockHolder>) -> String {
    match holder {
        Some(LockHolder {
            worker,
            since: Some(since),
        }) => format!("held by {worker} since {}", since.format("%Y-%m-%d %H:%M:%S UTC")),
        Some(LockHolder { worker, since: None }) => format!("held by {worker}"),
        None => "its holder could not be seen".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::collect::GroupLine;

    fn file(name: &str, transactions: i64, total: &str, recovered: bool) -> FileLine {
        FileLine {
            file: name.into(),
            transactions,
            total: total.into(),
            recovered,
            already_taken: false,
        }
    }

    /// A run that only finished a stopped run's file says so, with that file's count and sum,
    /// instead of "0 collection(s) in 1 file(s)".
    #[test]
    fn a_finished_file_is_said_apart_from_the_runs_own() {
        let finished = JobOutput::Collect(CollectReport {
            files: vec![file("CLT-A-20270104-00000002.xml", 13_704, "4027396.72", true)],
            total: "0.00".into(),
            ..CollectReport::default()
        });
        assert_eq!(
            finished.summary(),
            "0 collection(s) in 0 file(s) (0.00 EUR), 0 failed, 0 held; finished \
             CLT-A-20270104-00000002.xml of an interrupted run (13704 transactions, 4027396.72 EUR)"
        );
        // As JSON, the report names its job (`run day` prints one per job).
        let json = serde_json::to_value(&finished).unwrap_or_default();
        assert_eq!(json["job"], "collect", "{json}");
        assert_eq!(json["files"][0]["recovered"], true, "{json}");
        let both = JobOutput::Collect(CollectReport {
            files: vec![
                file("CLT-A-20270104-00000002.xml", 2, "30.00", true),
                file("CLT-A-20270105-00000003.xml", 3, "45.00", false),
            ],
            groups: vec![GroupLine {
                collection_date: NaiveDate::from_ymd_opt(2027, 1, 6).unwrap_or_default(),
                sequence_type: "RCUR",
                count: 3,
                total: "45.00".into(),
            }],
            failed_count: 1,
            total: "45.00".into(),
            ..CollectReport::default()
        });
        assert_eq!(
            both.summary(),
            "3 collection(s) in 1 file(s) (45.00 EUR), 1 failed, 0 held; finished \
             CLT-A-20270104-00000002.xml of an interrupted run (2 transactions, 30.00 EUR)"
        );
    }
}
