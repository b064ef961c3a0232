//! Queue throughput of `collecte worker` (issue 5, item 8): no-op job requests through each
//! queue backend with 1, 2 and 4 worker processes. Results are written up in BENCHMARKS.md.
//!
//! ```text
//! cargo bench --bench bench_queue -- [--jobs 2000] [--workers 1,2,4] [--queues sqlite,postgres,redis]
//! ```
//!
//! Each row: a fresh project (`collecte init`), `--jobs` no-op requests recorded and pushed
//! through the library (`enqueue_request` + `Queue::push`, the same path as `collecte
//! enqueue`), then N `collecte worker --no-triggers --no-inbox-watch` processes started and
//! timed until the ledger says every request succeeded. A no-op request costs what every job
//! pays for the queue: the backend's fetch, lock and ack, and two ledger writes (claim, end).
//! The `sqlite` queue has an SQLite ledger, `postgres` a PostgreSQL one (fresh database),
//! `redis` an SQLite ledger with Redis at 127.0.0.1:6379.
//!
//! `cargo test --benches` runs this file without `--bench`: it then only says how to run it.

#[path = "support/args.rs"]
#[allow(dead_code, reason = "each harness uses the part of the shared parser it needs")]
mod args;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use args::BenchArgs;
use chrono::{Days, NaiveDate};
use collecte::config::{Config, EnvOverrides};
use collecte::store::{Enqueued, NewRequest, RequestOrigin, Store};
use collecte::worker::{NOOP, Queue};
use sqlx::Connection;

const COLLECTE: &str = env!("CARGO_BIN_EXE_collecte");
const POSTGRES_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/test";

struct Options {
    jobs: usize,
    workers: Vec<usize>,
    queues: Vec<String>,
}

fn main() {
    let usage = "cargo bench --bench bench_queue -- [--jobs 2000] [--workers 1,2,4] [--queues sqlite,postgres,redis]";
    let Some(args) = BenchArgs::from_env(usage, &["--jobs", "--workers", "--queues"], &[]) else {
        return;
    };
    let opts = Options {
        jobs: args.parsed("--jobs", 2000),
        workers: args.list("--workers", "1,2,4"),
        queues: args.list("--queues", "sqlite,postgres,redis"),
    };
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    println!("| queue | workers | jobs | seconds | jobs/s | enqueue/s |");
    println!("|---|---:|---:|---:|---:|---:|");
    for queue in &opts.queues {
        for &workers in &opts.workers {
            let (seconds, enqueue_rate) = runtime.block_on(one_row(queue, workers, opts.jobs));
            println!(
                "| {queue} | {workers} | {} | {seconds:.2} | {:.0} | {enqueue_rate:.0} |",
                opts.jobs,
                opts.jobs as f64 / seconds
            );
        }
    }
}

/// Runs one row; returns the seconds the workers took and the enqueue rate.
async fn one_row(queue_kind: &str, workers: usize, jobs: usize) -> (f64, f64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = |args: &[&str], database_url: &str| {
        let out = Command::new(COLLECTE)
            .args(args)
            .current_dir(dir.path())
            .env("DATABASE_URL", database_url)
            .env_remove("REDIS_URL")
            .output()
            .expect("collecte runs");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let pg_name = format!("collecte_bench_queue_{}", std::process::id());
    let database_url = match queue_kind {
        "postgres" => {
            let mut admin = sqlx::PgConnection::connect(POSTGRES_ADMIN).await.expect("PostgreSQL");
            let drop = sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)"));
            sqlx::query(drop).execute(&mut admin).await.expect("drop database");
            let create = sqlx::AssertSqlSafe(format!("CREATE DATABASE {pg_name}"));
            sqlx::query(create).execute(&mut admin).await.expect("create database");
            format!("postgres://postgres@127.0.0.1:5432/{pg_name}")
        }
        _ => format!("sqlite://{}", dir.path().join("collecte.db").display()),
    };
    run(&["init"], &database_url);
    let redis = if queue_kind == "redis" {
        "redis_url = \"redis://127.0.0.1:6379\"\n"
    } else {
        ""
    };
    let config_path = dir.path().join("collecte.toml");
    let config_text = std::fs::read_to_string(&config_path).expect("collecte.toml");
    let name = format!("bench-{}-{workers}", std::process::id());
    let config_text = config_text.replacen("[queue]\n", &format!("[queue]\n{redis}name = \"{name}\"\n"), 1);
    std::fs::write(&config_path, config_text).expect("write collecte.toml");

    let env = EnvOverrides {
        database_url: Some(database_url.clone()),
        ..EnvOverrides::default()
    };
    let config = Config::load(&config_path, &env).expect("config");
    let store = Store::open(&config.database).await.expect("ledger");
    let mut queue = Queue::open(&config).await.expect("queue");
    let first_day = NaiveDate::from_ymd_opt(2000, 1, 3).expect("a date");
    let start = Instant::now();
    for day in 0..jobs {
        // One request per (job, date): distinct dates make distinct no-op requests.
        let request = NewRequest {
            job: NOOP,
            business_date: first_day + Days::new(day as u64),
            origin: RequestOrigin::Manual,
            scheduled_for: None,
            max_attempts: 1,
        };
        let Enqueued::New(id) = store.enqueue_request(&request).await.expect("enqueue") else {
            panic!("a fresh ledger already had {request:?}");
        };
        queue.push(id, None).await.expect("push");
        store.mark_request_pushed(id).await.expect("mark pushed");
    }
    let enqueue_rate = jobs as f64 / start.elapsed().as_secs_f64();

    let start = Instant::now();
    let mut children: Vec<Child> = (0..workers)
        .map(|_| {
            Command::new(COLLECTE)
                .args(["worker", "--no-triggers", "--no-inbox-watch"])
                .current_dir(dir.path())
                .env("DATABASE_URL", &database_url)
                .env_remove("REDIS_URL")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("worker starts")
        })
        .collect();
    loop {
        let done = store
            .job_requests(&["succeeded"], jobs as i64)
            .await
            .expect("count")
            .len();
        if done == jobs {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(1800),
            "{done}/{jobs} after 30 minutes"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let seconds = start.elapsed().as_secs_f64();
    for child in &mut children {
        stop(child);
    }
    store.close().await;
    if queue_kind == "postgres" {
        drop_database(&pg_name).await;
    }
    (seconds, enqueue_rate)
}

fn stop(child: &mut Child) {
    // SAFETY: sending a signal to a child we spawned and have not reaped.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let _ = child.wait();
}

async fn drop_database(name: &str) {
    if let Ok(mut admin) = sqlx::PgConnection::connect(POSTGRES_ADMIN).await {
        let drop = sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        let _ = sqlx::query(drop).execute(&mut admin).await;
    }
}
