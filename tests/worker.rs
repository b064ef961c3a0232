//! `collecte worker` and `collecte enqueue` with real processes on the real queue backends:
//! SQLite (a queue file beside the ledger), PostgreSQL (schema `apalis`) and Redis. Several
//! workers share the work, a worker killed with SIGKILL mid-job hands it over, SIGTERM lets
//! the running job finish, failing jobs go dead and come back, Redis restarts, and the cron
//! trigger fires each (job, business date) once and catches up what it missed.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use collecte::config::{Config, EnvOverrides};
use collecte::store::Store;
use collecte::worker::{EnqueueOutcome, Queue, fire_due};
use common::{Backend, Project, TestDb, outbox_end_to_end_ids, seed_monthly_plans, shared_samples};

/// Which queue the workers of a test use.
#[derive(Clone, Copy, Debug)]
enum QueueKind {
    /// The SQL queue of the ledger's backend.
    Sql,
    /// The machine's Redis at 127.0.0.1:6379, under a queue name of the test's own.
    Redis,
}

/// A project whose workers use `queue`, with short leases and backoffs so that tests wait
/// seconds, not minutes.
async fn project(backend: Backend, queue: QueueKind) -> Project {
    let p = Project::new(backend).await;
    short_waits(&p, queue);
    p
}

/// The queue settings of [`project`].
fn short_waits(p: &Project, queue: QueueKind) {
    let name = format!(
        "t{}",
        p.dir.path().file_name().unwrap().to_string_lossy().replace('.', "-")
    );
    let redis = match queue {
        QueueKind::Redis => "redis_url = \"redis://127.0.0.1:6379\"\n",
        QueueKind::Sql => "",
    };
    p.set_table(
        "queue",
        &format!(
            "{redis}name = \"{name}\"\nlease_seconds = 6\nretry_backoff_seconds = 1\nmax_attempts = 2\nshutdown_timeout_seconds = 60\ninbox_scan_seconds = 5"
        ),
    );
}

/// A worker process, killed if the test fails before it is stopped.
struct Worker(Option<Child>);

impl Worker {
    fn kill(mut self) {
        if let Some(mut child) = self.0.take() {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn spawn_worker(p: &Project, tag: &str, args: &[&str]) -> Worker {
    let log = std::fs::File::create(p.dir.path().join(format!("worker-{tag}.log"))).unwrap();
    let mut all = vec!["worker", "-vv"];
    all.extend_from_slice(args);
    p.command(&all)
        .env("RUST_LOG", "collecte=debug,info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map(|child| Worker(Some(child)))
        .unwrap()
}

fn logs(p: &Project) -> String {
    let mut out = String::new();
    for entry in std::fs::read_dir(p.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap().to_string_lossy().starts_with("worker-") {
            out.push_str(&format!(
                "--- {}\n{}",
                path.display(),
                std::fs::read_to_string(&path).unwrap()
            ));
        }
    }
    out
}

fn jobs(p: &Project) -> serde_json::Value {
    serde_json::from_str(&p.ok(&["jobs", "--format", "json", "--limit", "200"])).unwrap()
}

/// Waits until `done` holds, failing with the workers' logs after `limit`.
fn wait_for(p: &Project, limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}\n{}", logs(p));
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn request_states(p: &Project) -> (usize, usize, usize) {
    let j = jobs(p);
    let count = |key: &str| j[key].as_array().unwrap().len();
    let succeeded = j["runs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["outcome"] == "succeeded")
        .count();
    (count("queued"), count("dead"), succeeded)
}

/// SIGTERM, then the exit status.
fn stop(mut worker: Worker) -> std::process::ExitStatus {
    let mut child = worker.0.take().unwrap();
    // SAFETY: a signal to a child this test spawned and has not reaped.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    child.wait().unwrap()
}

/// Three workers, a day of jobs: every collection in exactly one file, every bank file
/// booked once, each (job, date) run once however often it is enqueued.
async fn three_workers_share_a_day(backend: Backend, queue: QueueKind) {
    let p = project(backend, queue).await;
    seed_monthly_plans(&p, 300);
    let public = shared_samples().join("public");
    p.drop_file(&public.join("camt.054/genkgo-camt__camt054.v2.xml"), "bank-1.xml");
    p.drop_file(&public.join("camt.054/genkgo-camt__camt054.v8.xml"), "bank-2.xml");
    let workers: Vec<Worker> = (0..3)
        .map(|i| spawn_worker(&p, &i.to_string(), &["--no-triggers", "--no-inbox-watch"]))
        .collect();
    for date in ["2026-11-19", "2026-11-20"] {
        for job in ["ingest", "collect"] {
            let first = p.ok(&["enqueue", job, "--date", date]);
            assert!(first.contains("queued as job request"), "{first}");
            let again = p.ok(&["enqueue", job, "--date", date]);
            assert!(again.contains("already requested"), "{again}");
        }
    }
    wait_for(&p, Duration::from_secs(120), "four requests done", || {
        let (queued, dead, succeeded) = request_states(&p);
        queued == 0 && dead == 0 && succeeded == 4
    });
    let j = jobs(&p);
    let runs = j["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 4, "each (job, date) ran once: {runs:#?}");
    for status in workers.into_iter().map(stop) {
        assert!(status.success(), "a worker exited with {status}\n{}", logs(&p));
    }
    let seen = outbox_end_to_end_ids(&p);
    assert_eq!(seen.len(), 300, "every due collection in a file");
    assert!(seen.values().all(|n| *n == 1), "a collection is in two files");
    assert_eq!(p.collections("submitted").len(), 300);
    assert!(
        p.names("inbox").iter().all(|n| n.starts_with('.')),
        "{:?}",
        p.names("inbox")
    );
    p.db.cleanup().await;
}

/// Collections in the jobs that must still be running when a signal arrives: 60 files of
/// 200, so the signal lands after the first file with 59 still to write.
const BIG_JOB: usize = 12_000;

/// Returns as soon as the running collect's first file is complete in the outbox: the job
/// has started and has most of its work left. Polls the folder, not the `jobs` command,
/// because each `jobs` call is a process start the job may outrun.
fn wait_for_first_file(p: &Project) {
    let start = Instant::now();
    while p.outbox().is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for the first file\n{}",
            logs(p)
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// A worker killed with SIGKILL in the middle of `collect`: another worker takes the job
/// over when the lease lapses, and every collection still ends in exactly one file.
async fn sigkill_mid_job_hands_over(backend: Backend, queue: QueueKind) {
    let p = project(backend, queue).await;
    p.set_bank("max_transactions_per_file = 200");
    seed_monthly_plans(&p, BIG_JOB);
    let victim = spawn_worker(&p, "victim", &["--no-triggers", "--no-inbox-watch"]);
    let queued = p.ok(&["enqueue", "collect", "--date", "2026-11-20"]);
    assert!(queued.contains("queued as job request"), "{queued}");
    // Killed once the job's first file is in the outbox: the run has started and has work
    // left (a kill on seeing the request claimed could land before the run began).
    wait_for_first_file(&p);
    victim.kill();
    let runs = jobs(&p)["runs"].as_array().unwrap().clone();
    assert!(
        runs.iter().all(|r| r["outcome"] != "succeeded"),
        "the job finished before it could be killed; make it bigger: {runs:#?}\n{}",
        logs(&p)
    );
    let heir = spawn_worker(&p, "heir", &["--no-triggers", "--no-inbox-watch"]);
    wait_for(&p, Duration::from_secs(90), "the job handed over and done", || {
        jobs(&p)["runs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["outcome"] == "succeeded")
    });
    assert!(stop(heir).success());
    let j = jobs(&p);
    assert!(j["queued"].as_array().unwrap().is_empty(), "{j:#}");
    let runs = j["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2, "the killed run and the one that finished: {j:#}");
    assert_eq!(
        runs[1]["outcome"], "failed",
        "the killed worker's run is not left running: {j:#}"
    );
    assert!(
        runs[1]["error"].as_str().unwrap().contains("stopped before the end"),
        "{j:#}"
    );
    let seen = outbox_end_to_end_ids(&p);
    assert_eq!(seen.len(), BIG_JOB, "every due collection in a file");
    assert!(seen.values().all(|n| *n == 1), "collected twice");
    assert_eq!(p.collections("submitted").len(), BIG_JOB);
    p.db.cleanup().await;
}

/// SIGTERM while a job runs: the worker takes no new job, finishes the running one and exits 0.
async fn sigterm_finishes_the_running_job(backend: Backend) {
    let p = project(backend, QueueKind::Sql).await;
    p.set_bank("max_transactions_per_file = 200");
    seed_monthly_plans(&p, BIG_JOB);
    let worker = spawn_worker(&p, "0", &["--no-triggers", "--no-inbox-watch"]);
    p.ok(&["enqueue", "collect", "--date", "2026-11-20"]);
    wait_for_first_file(&p);
    p.ok(&["enqueue", "ingest", "--date", "2026-11-20"]);
    let status = stop(worker);
    assert!(status.success(), "{status}\n{}", logs(&p));
    let j = jobs(&p);
    let runs = j["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "no new job after SIGTERM: {j:#}");
    assert_eq!(runs[0]["outcome"], "succeeded", "{j:#}");
    assert_eq!(p.collections("submitted").len(), BIG_JOB);
    let waiting = j["queued"].as_array().unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0]["job"], "ingest");
    assert_eq!(waiting[0]["state"], "queued");
    p.db.cleanup().await;
}

/// A job that keeps failing is retried with backoff, parked as dead with its error, listed,
/// and runs again after `jobs requeue`.
async fn failing_job_goes_dead_and_comes_back(backend: Backend) {
    let p = project(backend, QueueKind::Sql).await;
    seed_monthly_plans(&p, 5);
    // The outbox is a file: every collect fails writing.
    let outbox = p.folder("outbox");
    std::fs::remove_dir_all(&outbox).unwrap();
    std::fs::write(&outbox, "not a folder").unwrap();
    let worker = spawn_worker(&p, "0", &["--no-triggers", "--no-inbox-watch"]);
    p.ok(&["enqueue", "collect", "--date", "2026-11-20"]);
    wait_for(&p, Duration::from_secs(60), "the request to die", || {
        request_states(&p).1 == 1
    });
    let j = jobs(&p);
    let dead = &j["dead"][0];
    assert_eq!(dead["attempts"], 2, "{j:#}");
    assert!(dead["last_error"].as_str().unwrap().contains("outbox"), "{j:#}");
    let failed_runs = j["runs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["outcome"] == "failed")
        .count();
    assert_eq!(failed_runs, 2, "{j:#}");
    let table = p.ok(&["jobs"]);
    assert!(table.contains("Dead (1)") && table.contains("requeue"), "{table}");

    std::fs::remove_file(&outbox).unwrap();
    std::fs::create_dir(&outbox).unwrap();
    let id = dead["id"].as_i64().unwrap().to_string();
    let requeued = p.ok(&["jobs", "requeue", &id]);
    assert!(requeued.contains("queued again"), "{requeued}");
    wait_for(&p, Duration::from_secs(60), "the requeued job to succeed", || {
        let (queued, dead, succeeded) = request_states(&p);
        queued == 0 && dead == 0 && succeeded == 1
    });
    assert_eq!(p.collections("submitted").len(), 5);
    let not_dead = p.run(&["jobs", "requeue", &id]);
    assert_eq!(not_dead.status.code(), Some(3));
    assert!(stop(worker).success());
    p.db.cleanup().await;
}

/// The outbox share is not mounted when a queued collect runs: the run writes nothing to the
/// empty mount point and is retried, not parked as dead; once the share is back, the retry
/// collects into it.
async fn a_share_mounted_late_is_collected_on_the_retry(backend: Backend) {
    let p = project(backend, QueueKind::Sql).await;
    p.set_table("queue", "retry_backoff_seconds = 2\nmax_attempts = 6");
    seed_monthly_plans(&p, 4);
    p.ok(&["run", "collect", "--date", "2026-11-20"]);
    let (outbox, share) = (p.folder("outbox"), p.folder("share"));
    std::fs::rename(&outbox, &share).unwrap();
    std::fs::create_dir(&outbox).unwrap();
    let worker = spawn_worker(&p, "0", &["--no-triggers", "--no-inbox-watch"]);
    p.ok(&["enqueue", "collect", "--date", "2026-12-22"]);
    wait_for(
        &p,
        Duration::from_secs(60),
        "a run refused for the unmounted share",
        || {
            jobs(&p)["runs"].as_array().unwrap().iter().any(|r| {
                r["outcome"] == "failed"
                    && r["error"]
                        .as_str()
                        .is_some_and(|e| e.contains("is not the folder this ledger's files go to"))
            })
        },
    );
    assert!(
        std::fs::read_dir(&outbox).unwrap().next().is_none(),
        "nothing written to the mount point"
    );
    std::fs::remove_dir(&outbox).unwrap();
    std::fs::rename(&share, &outbox).unwrap();
    wait_for(&p, Duration::from_secs(90), "the retry to collect", || {
        let (queued, dead, succeeded) = request_states(&p);
        queued == 0 && dead == 0 && succeeded == 2
    });
    assert_eq!(p.collections("submitted").len(), 8);
    assert_eq!(p.outbox().len(), 2);
    assert!(stop(worker).success());
    p.db.cleanup().await;
}

/// Files landing in the inbox are ingested without anyone enqueueing anything.
async fn inbox_files_are_ingested_on_arrival(backend: Backend) {
    let p = project(backend, QueueKind::Sql).await;
    let worker = spawn_worker(&p, "0", &["--no-triggers"]);
    std::thread::sleep(Duration::from_millis(500));
    let file = shared_samples().join("public/camt.054/genkgo-camt__camt054.v4.xml");
    p.drop_file(&file, "arrived.xml");
    wait_for(&p, Duration::from_secs(60), "the file ingested", || {
        p.names("processed").iter().any(|n| n == "arrived.xml")
            || p.names("quarantine").iter().any(|n| n == "arrived.xml")
    });
    let j = jobs(&p);
    assert_eq!(j["runs"][0]["job"], "ingest", "{j:#}");
    assert!(stop(worker).success());
    p.db.cleanup().await;
}

fn load(p: &Project) -> Config {
    let env = EnvOverrides {
        database_url: Some(p.db.env_url()),
        ..EnvOverrides::default()
    };
    Config::load(&p.dir.path().join("collecte.toml"), &env).unwrap()
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// The trigger: collect at 06:00 Paris on weekdays fires once per business date, two
/// workers firing at once make one request, a restart after days down catches up the
/// latest missed firing only, and a missed collect runs for the day it is caught up on.
async fn cron_fires_once_and_catches_up(backend: Backend) {
    let p = project(backend, QueueKind::Sql).await;
    let config = load(&p);
    let store = Store::open(&config.database).await.unwrap();
    let mut queue = Queue::open(&config).await.unwrap();
    let collect = |fired: &[(
        collecte::config::Job,
        collecte::domain::triggers::Firing,
        EnqueueOutcome,
    )]| {
        fired
            .iter()
            .filter(|(job, _, _)| job.as_str() == "collect")
            .map(|(_, f, o)| (f.business_date.to_string(), matches!(o, EnqueueOutcome::Queued(_))))
            .collect::<Vec<_>>()
    };
    let started = at("2026-11-19T00:00:00Z");
    // Thursday 19 Nov, 06:00 Paris = 05:00 UTC.
    let now = at("2026-11-19T05:00:30Z");
    let (mut q1, mut q2) = (queue.clone(), queue.clone());
    let (a, b) = tokio::join!(
        fire_due(&config, &store, &mut q1, started, now),
        fire_due(&config, &store, &mut q2, started, now)
    );
    let mut both = collect(&a.unwrap());
    both.extend(collect(&b.unwrap()));
    // The second either finds the request (already requested) or the watermark past the
    // firing (nothing due): one request either way.
    assert!(both.iter().all(|(date, _)| date == "2026-11-19"), "{both:?}");
    assert_eq!(
        both.iter().filter(|(_, new)| *new).count(),
        1,
        "two workers, one request: {both:?}"
    );
    // Nothing new later that morning.
    let again = fire_due(&config, &store, &mut queue, started, at("2026-11-19T09:00:00Z"))
        .await
        .unwrap();
    assert!(collect(&again).is_empty(), "{again:?}");
    // Every worker down from Thursday to Monday 23 at 07:00: Friday and Monday were missed;
    // Monday (the latest) runs, once.
    let later = fire_due(
        &config,
        &store,
        &mut queue,
        at("2026-11-23T06:00:00Z"),
        at("2026-11-23T06:00:00Z"),
    )
    .await
    .unwrap();
    assert_eq!(collect(&later), [("2026-11-23".to_owned(), true)]);
    // Down again from Monday until Wednesday 25 at 05:30 Paris, before that day's firing:
    // Tuesday's was missed. It runs for Wednesday, the day its files go out (Tuesday's
    // collection date can no longer be reached), and Wednesday's own firing finds it queued.
    let woken = at("2026-11-25T04:30:00Z");
    let caught_up = fire_due(&config, &store, &mut queue, woken, woken).await.unwrap();
    assert_eq!(collect(&caught_up), [("2026-11-25".to_owned(), true)]);
    let on_time = fire_due(&config, &store, &mut queue, woken, at("2026-11-25T05:00:30Z"))
        .await
        .unwrap();
    assert_eq!(collect(&on_time), [("2026-11-25".to_owned(), false)]);
    let j = jobs(&p);
    let dates: Vec<_> = j["queued"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["job"] == "collect")
        .map(|r| r["business_date"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(dates, ["2026-11-19", "2026-11-23", "2026-11-25"]);
    store.close().await;
    p.db.cleanup().await;
}

/// A private redis-server on a free port, restartable.
struct OwnRedis {
    port: u16,
    child: Option<Child>,
    dir: tempfile::TempDir,
}

impl OwnRedis {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut redis = Self {
            port,
            child: None,
            dir: tempfile::tempdir().unwrap(),
        };
        redis.up();
        redis
    }

    fn up(&mut self) {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .current_dir(self.dir.path())
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is required for the tests");
        self.child = Some(child);
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(start.elapsed() < Duration::from_secs(10), "redis-server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn down(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.down();
    }
}

/// Redis restarts (and, keeping nothing on disk, forgets its queue) under a running worker:
/// the worker reconnects and goes on; a request enqueued while Redis was down runs once it
/// is back.
async fn redis_restart(backend: Backend) {
    let mut redis = OwnRedis::start();
    let p = project(backend, QueueKind::Redis).await;
    p.set_table("queue", &format!("redis_url = \"redis://127.0.0.1:{}\"", redis.port));
    seed_monthly_plans(&p, 20);
    let worker = spawn_worker(&p, "0", &["--no-inbox-watch"]);
    p.ok(&["enqueue", "collect", "--date", "2026-11-19"]);
    wait_for(&p, Duration::from_secs(60), "the first job", || {
        request_states(&p).2 == 1
    });

    redis.down();
    let recorded = p.ok(&["enqueue", "ingest", "--date", "2026-11-19"]);
    assert!(recorded.contains("queue is unreachable"), "{recorded}");
    std::thread::sleep(Duration::from_secs(2));
    redis.up();
    p.ok(&["enqueue", "collect", "--date", "2026-11-20"]);
    wait_for(&p, Duration::from_secs(120), "both jobs after the restart", || {
        let (queued, dead, succeeded) = request_states(&p);
        queued == 0 && dead == 0 && succeeded == 3
    });
    assert!(stop(worker).success());
    assert_eq!(p.collections("submitted").len(), 20);
    p.db.cleanup().await;
}

/// A PostgreSQL cluster of the test's own on a free port, restartable like a crash
/// (`pg_ctl -m immediate`). PostgreSQL refuses to run as root: as root (CI), the cluster
/// belongs to the `postgres` user and its commands run through `runuser`.
struct OwnPostgres {
    port: u16,
    bin: std::path::PathBuf,
    dir: tempfile::TempDir,
}

impl OwnPostgres {
    fn start() -> Self {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .into_iter()
            .flatten()
            .map(|e| e.unwrap().path().join("bin"))
            .filter(|b| b.join("initdb").exists())
            .max()
            .expect("PostgreSQL's server programs (initdb, pg_ctl under /usr/lib/postgresql) are required");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let pg = Self {
            port,
            bin,
            dir: tempfile::tempdir().unwrap(),
        };
        if Self::as_root() {
            let status = Command::new("chown")
                .args(["postgres"])
                .arg(pg.dir.path())
                .status()
                .unwrap();
            assert!(status.success(), "chown postgres {}", pg.dir.path().display());
        }
        let data = pg.dir.path().join("data");
        pg.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        pg.ctl("start");
        pg
    }

    fn as_root() -> bool {
        // SAFETY: geteuid has no preconditions.
        unsafe { libc::geteuid() == 0 }
    }

    /// One of PostgreSQL's programs, run as the cluster's owner.
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if Self::as_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    fn run(&self, program: &str, args: &[&str]) {
        let out = self.command(program).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `pg_ctl ACTION`, waiting until the server accepts connections (or is down).
    fn ctl(&self, action: &str) {
        let dir = self.dir.path().to_str().unwrap();
        let options = format!("-p {} -k {dir} -c listen_addresses=127.0.0.1 -c fsync=off", self.port);
        let (data, log) = (format!("{dir}/data"), format!("{dir}/server.log"));
        self.run(
            "pg_ctl",
            &["-D", &data, "-l", &log, "-o", &options, "-m", "immediate", "-w", action],
        );
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(data)
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }
}

/// PostgreSQL crashes and comes back under a worker, twice. During a collect: the run fails
/// on the lost connection (or, between statements, does not notice), the ledger's retry
/// finishes it, and every collection ends in exactly one file. While idle: a request
/// enqueued afterwards is picked up (the worker's queue connection and its LISTEN come back).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restart() {
    let pg = OwnPostgres::start();
    let p = Project::on(TestDb::at(collecte::store::DatabaseUrl::Postgres(pg.url())));
    short_waits(&p, QueueKind::Sql);
    // One crash can cost two attempts: the run that loses its connection, and the one the
    // worker's monitor drops when it restarts on the queue's lost connection.
    p.set_table("queue", "max_attempts = 5");
    p.set_bank("max_transactions_per_file = 200");
    seed_monthly_plans(&p, BIG_JOB);
    let worker = spawn_worker(&p, "0", &["--no-triggers", "--no-inbox-watch"]);
    p.ok(&["enqueue", "collect", "--date", "2026-11-20"]);
    wait_for_first_file(&p);
    pg.ctl("restart");
    wait_for(
        &p,
        Duration::from_secs(120),
        "the collect finished after the restart",
        || request_states(&p) == (0, 0, 1),
    );
    let seen = outbox_end_to_end_ids(&p);
    assert_eq!(seen.len(), BIG_JOB, "every due collection in a file");
    assert!(seen.values().all(|n| *n == 1), "collected twice");
    assert_eq!(p.collections("submitted").len(), BIG_JOB);
    let runs: Vec<String> = jobs(&p)["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| format!("{} {}", r["outcome"], r["error"]))
        .collect();
    eprintln!("collect runs around the restart: {runs:?}");

    pg.ctl("restart");
    p.ok(&["enqueue", "ingest", "--date", "2026-11-20"]);
    wait_for(
        &p,
        Duration::from_secs(60),
        "a request enqueued after the restart",
        || request_states(&p) == (0, 0, 2),
    );
    assert!(stop(worker).success(), "{}", logs(&p));
}

/// A scheduled collect that runs too late for its date (a dead request requeued days later)
/// runs for today: its files ask for the first collection date a file sent today can reach,
/// and what is due by then is in them. Run for its own date, it would ask for a date long
/// past (and would not even reach this collection).
async fn a_late_scheduled_collect_runs_for_today(backend: Backend) {
    let p = project(backend, QueueKind::Sql).await;
    let config = load(&p);
    let today = config.schedule.today();
    let due = collecte::domain::collect::reachable_date(today, config.bank.lead_days);
    p.import(
        "customers",
        "reference,name,email,street,building,postcode,town,country\nL1,Lea,,Hauptstr.,1,10115,Berlin,DE\n",
    );
    p.import(
        "mandates",
        "mandate_id,customer_reference,iban,bic,signed_on,channel\nLM1,L1,DE89370400440532013000,,2025-01-01,web\n",
    );
    p.import(
        "plans",
        &format!(
            "plan_id,customer_reference,mandate_id,amount,frequency,start_date,count,day_of_month,description\n\
             LP1,L1,LM1,10.00,monthly,{due},1,,\n"
        ),
    );
    let store = Store::open(&config.database).await.unwrap();
    let mut queue = Queue::open(&config).await.unwrap();
    let long_ago = today - chrono::Days::new(14);
    let queued = collecte::worker::enqueue(
        &store,
        Ok(&mut queue),
        &config.queue,
        collecte::config::Job::Collect,
        long_ago,
        collecte::store::RequestOrigin::Cron,
        Some(Utc::now() - chrono::Duration::days(14)),
    )
    .await
    .unwrap();
    assert!(matches!(queued, EnqueueOutcome::Queued(_)), "{queued:?}");
    store.close().await;
    let worker = spawn_worker(&p, "0", &["--no-triggers", "--no-inbox-watch"]);
    wait_for(&p, Duration::from_secs(60), "the late request to succeed", || {
        request_states(&p) == (0, 0, 1)
    });
    assert!(stop(worker).success(), "{}", logs(&p));
    let j = jobs(&p);
    assert_eq!(j["runs"][0]["business_date"], today.to_string(), "{j:#}");
    let text = p.last_file_text();
    assert!(text.contains(&format!("<ReqdColltnDt>{due}</ReqdColltnDt>")), "{text}");
    assert!(logs(&p).contains(&format!("this scheduled request runs for {today} instead")));
    p.db.cleanup().await;
}

async fn three_workers_sql(backend: Backend) {
    three_workers_share_a_day(backend, QueueKind::Sql).await;
}
async fn three_workers_redis(backend: Backend) {
    three_workers_share_a_day(backend, QueueKind::Redis).await;
}
async fn sigkill_sql(backend: Backend) {
    sigkill_mid_job_hands_over(backend, QueueKind::Sql).await;
}
async fn sigkill_redis(backend: Backend) {
    sigkill_mid_job_hands_over(backend, QueueKind::Redis).await;
}

on_both_backends!(
    three_workers_sql,
    three_workers_redis,
    sigkill_sql,
    sigkill_redis,
    sigterm_finishes_the_running_job,
    failing_job_goes_dead_and_comes_back,
    a_share_mounted_late_is_collected_on_the_retry,
    inbox_files_are_ingested_on_arrival,
    cron_fires_once_and_catches_up,
    a_late_scheduled_collect_runs_for_today,
    redis_restart
);
