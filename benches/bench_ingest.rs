//! The whole `collecte run ingest` job on bank replies to a real collect run, on SQLite and
//! PostgreSQL (issue 4): the time from process start to exit (wall, and CPU: user + system of
//! the process), facts booked per second and peak RSS. Results are written up in BENCHMARKS.md.
//!
//! ```text
//! cargo bench --bench bench_ingest -- [--sizes 100000] [--backends sqlite,postgres]
//!     [--repeat 1] [--postgres URL] [--work DIR] [--keep] [--baseline PATH]
//! ```
//!
//! Per size and backend: a project on a fresh ledger is seeded through the product's own CSV
//! imports (N customers, mandates and monthly plans due Monday 2026-11-23, collection `i`
//! shaped as `plain(i)` of `examples/support/pain008_fixture.rs`), `collecte run collect
//! --date 2026-11-20` writes the pain.008 files, and the bank is played on each of them
//! (`sepa::bank`): 2% rejected before settlement (AM04, in a pain.002.001.10), the rest
//! settled in batch bookings of a camt.054.001.08, of which 2% returned (AC04) and 1%
//! refunded (MD06) in entries of their own. Then `collecte run ingest` is timed as a whole
//! under `/usr/bin/time -v`, `--repeat` times, each on a fresh copy of the collected ledger
//! (a copy of the project folder for SQLite, `CREATE DATABASE … TEMPLATE` for PostgreSQL).
//! Facts are what ingest booked: R-transactions, settlements, unmatched entries.
//! `--baseline PATH` times another `collecte` binary (e.g. built from an earlier commit, with
//! the same migrations) on the same seeded ledger, alternating with this one.
//!
//! `cargo test --benches` runs this file without `--bench`: it then only says how to run it.

#[path = "support/args.rs"]
#[allow(dead_code, reason = "each harness uses the part of the shared parser it needs")]
mod args;
#[path = "../examples/support/pain008_fixture.rs"]
mod fixture;
#[path = "support/time_v.rs"]
mod time_v;

use std::fmt::Write as _;
use std::io::{BufReader, BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use args::BenchArgs;
use chrono::{DateTime, NaiveDate};
use collecte::sepa::MessageId;
use collecte::sepa::bank::{
    BankReply, Camt054Version, Decisions, OriginalMessage, Pain002Version, ReasonCode, RefundReason, ReportHeader,
};
use fixture::plain;
use time_v::{Measured, measure};

/// The binary timed (cargo builds it for benchmarks).
const COLLECTE: &str = env!("CARGO_BIN_EXE_collecte");

fn main() {
    let Some(args) = BenchArgs::from_env(USAGE, FLAGS, &["--keep"]) else {
        return;
    };
    let opts = Options::new(&args);
    std::fs::create_dir_all(&opts.work).expect("work dir");
    let mut rows = Vec::new();
    for &n in &opts.sizes {
        for backend in &opts.backends {
            rows.extend(bench(&opts, n, backend));
        }
    }
    println!(
        "\n| N | backend | binary | facts | ingest wall (best of {0}) | CPU (best of {0}) | facts/s wall | facts/s CPU | peak RSS |",
        opts.repeat
    );
    println!("| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for r in &rows {
        let b = &r.best;
        println!(
            "| {} | {} | {} | {} | {:.2} s | {:.2} s | {:.0} | {:.0} | {:.0} MB |",
            r.n,
            r.backend,
            r.binary,
            b.facts,
            b.wall.as_secs_f64(),
            b.cpu.as_secs_f64(),
            b.facts as f64 / b.wall.as_secs_f64(),
            b.facts as f64 / b.cpu.as_secs_f64(),
            b.rss_kb as f64 / 1024.0
        );
    }
}

struct Options {
    sizes: Vec<usize>,
    backends: Vec<String>,
    repeat: usize,
    postgres: String,
    work: PathBuf,
    keep: bool,
    baseline: Option<String>,
}

const USAGE: &str = "cargo bench --bench bench_ingest -- [--sizes 100000] [--backends sqlite,postgres] \
    [--repeat 1] [--postgres URL] [--work DIR] [--keep] [--baseline PATH]";
const FLAGS: &[&str] = &[
    "--sizes",
    "--backends",
    "--repeat",
    "--postgres",
    "--work",
    "--baseline",
];

impl Options {
    fn new(args: &BenchArgs) -> Self {
        Self {
            sizes: args.list("--sizes", "100000"),
            backends: args.list("--backends", "sqlite,postgres"),
            repeat: args.parsed("--repeat", 1),
            postgres: args.value("--postgres").map_or_else(
                || {
                    std::env::var("COLLECTE_TEST_POSTGRES")
                        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
                },
                str::to_owned,
            ),
            work: args.path("--work", || std::env::temp_dir().join("collecte-bench-ingest")),
            keep: args.switch("--keep"),
            baseline: args.value("--baseline").map(str::to_owned),
        }
    }
}

struct Row {
    n: usize,
    backend: String,
    binary: String,
    best: Best,
}

/// The best wall and CPU times of a binary's runs (each the minimum on its own), the highest
/// peak RSS, and the facts booked.
#[derive(Clone, Copy)]
struct Best {
    wall: Duration,
    cpu: Duration,
    rss_kb: u64,
    facts: u64,
}

/// `collecte ARGS` in project `dir` on the ledger `url` (the project's SQLite file if none).
fn collecte(dir: &Path, url: Option<&str>, args: &[&str]) -> Command {
    collecte_at(COLLECTE, dir, url, args)
}

/// The same with the binary at `program`.
fn collecte_at(program: &str, dir: &Path, url: Option<&str>, args: &[&str]) -> Command {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(dir)
        .env_remove("COLLECTE_CONFIG")
        .env_remove("RUST_LOG");
    match url {
        Some(url) => cmd.env("DATABASE_URL", url),
        None => cmd.env_remove("DATABASE_URL"),
    };
    cmd
}

fn ok(cmd: &mut Command, what: &str) -> Measured {
    let m = measure(cmd);
    assert!(m.ok, "{what} failed:\n{}\n{}", m.stdout, m.stderr);
    eprintln!(
        "    {what}: {:.2} s ({:.2} s CPU), peak RSS {:.0} MB",
        m.wall.as_secs_f64(),
        m.cpu_secs,
        m.rss_kb as f64 / 1024.0
    );
    m
}

/// `psql -c SQL` on the server of `admin_url`.
fn psql(admin_url: &str, sql: &str) {
    let out = Command::new("psql")
        .arg(admin_url)
        .args(["-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
        .output()
        .expect("psql");
    assert!(out.status.success(), "{sql}: {}", String::from_utf8_lossy(&out.stderr));
}

/// `admin_url` with another database name.
fn database_url(admin_url: &str, name: &str) -> String {
    let base = admin_url.rsplit_once('/').map_or(admin_url, |(base, _)| base);
    format!("{base}/{name}")
}

/// Customers, mandates and plans CSVs for `n` collections due 2026-11-23, in the import order.
fn write_csvs(dir: &Path, n: usize) -> [(&'static str, PathBuf); 3] {
    let mut customers = String::from("reference,name,email,street,building,postcode,town,country\n");
    let mut mandates = String::from("mandate_id,customer_reference,iban,bic,signed_on,channel\n");
    let mut plans = String::from(
        "plan_id,customer_reference,mandate_id,amount,frequency,start_date,count,day_of_month,description\n",
    );
    for i in 0..n {
        let p = plain(i);
        let _ = writeln!(customers, "C{i:08},\"{}\",,,,,,", p.name);
        let _ = writeln!(
            mandates,
            "{},C{i:08},{},{},2024-03-01,web",
            p.mandate,
            p.iban,
            p.bic.unwrap_or("")
        );
        let _ = writeln!(
            plans,
            "P{i:08},C{i:08},{},{}.{:02},monthly,2026-11-23,,,\"{}\"",
            p.mandate,
            p.cents / 100,
            p.cents % 100,
            p.remittance
        );
    }
    let files = [
        ("customers", dir.join("customers.csv"), customers),
        ("mandates", dir.join("mandates.csv"), mandates),
        ("plans", dir.join("plans.csv"), plans),
    ];
    files.map(|(kind, path, text)| {
        std::fs::write(&path, text).expect("write csv");
        (kind, path)
    })
}

/// Plays the bank on every pain.008 of the outbox: a pain.002 and a camt.054 each, in the inbox.
fn bank_replies(project: &Path) -> u64 {
    let mut outbox: Vec<PathBuf> = std::fs::read_dir(project.join("outbox"))
        .expect("outbox")
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    outbox.sort();
    let header = |id: String| ReportHeader {
        message_id: MessageId::parse(&id).expect("message id"),
        created_at: DateTime::parse_from_rfc3339("2026-12-22T18:00:00+01:00").expect("date"),
    };
    let booked: NaiveDate = "2026-11-27".parse().expect("date");
    let mut transactions = 0;
    for (k, file) in outbox.iter().enumerate() {
        let original = OriginalMessage::from_pain008(BufReader::new(std::fs::File::open(file).expect("pain.008")))
            .expect("our pain.008");
        let mut decisions = Decisions::accept_all();
        for (i, tx) in original.groups.iter().flat_map(|g| &g.transactions).enumerate() {
            let id = tx.end_to_end_id.clone();
            transactions += 1;
            decisions = match i % 100 {
                0 | 50 => decisions.reject(id, ReasonCode::AM04),
                1 | 51 => decisions.return_after_settlement(id, ReasonCode::AC04, booked),
                2 => decisions.refund(id, RefundReason::Md06, booked + chrono::Duration::days(14)),
                _ => decisions,
            };
        }
        let reply = BankReply::new(&original, &decisions).expect("decisions");
        let inbox = project.join("inbox");
        let mut out = BufWriter::new(std::fs::File::create(inbox.join(format!("status-{k}.xml"))).expect("inbox"));
        reply
            .write_pain002(&mut out, Pain002Version::V10, &header(format!("BANK-STS-{k}")))
            .expect("pain.002");
        out.flush().expect("flush");
        let mut out = BufWriter::new(std::fs::File::create(inbox.join(format!("notif-{k}.xml"))).expect("inbox"));
        reply
            .write_camt054(&mut out, Camt054Version::V08, &header(format!("BANK-NTF-{k}")), None)
            .expect("camt.054");
        out.flush().expect("flush");
    }
    transactions
}

fn copy_dir(from: &Path, to: &Path) {
    if to.exists() {
        std::fs::remove_dir_all(to).expect("remove old run dir");
    }
    let status = Command::new("cp").arg("-a").arg(from).arg(to).status().expect("cp");
    assert!(status.success(), "cp -a {} {}", from.display(), to.display());
}

/// Seeds, collects, plays the bank, then times ingest `repeat` times on copies, with this
/// binary and the baseline in turn.
fn bench(opts: &Options, n: usize, backend: &str) -> Vec<Row> {
    eprintln!("== {n} collections on {backend} (load {})", load());
    let seed = opts.work.join(format!("seed-{backend}-{n}"));
    if seed.exists() {
        std::fs::remove_dir_all(&seed).expect("remove old seed");
    }
    std::fs::create_dir_all(&seed).expect("seed dir");
    let pg = backend == "postgres";
    let seed_db = format!("bench_ingest_seed_{n}");
    let seed_url = pg.then(|| {
        psql(&opts.postgres, &format!("DROP DATABASE IF EXISTS {seed_db}"));
        psql(&opts.postgres, &format!("CREATE DATABASE {seed_db}"));
        database_url(&opts.postgres, &seed_db)
    });
    let url = seed_url.as_deref();
    ok(&mut collecte(&seed, url, &["init"]), "init");
    for (kind, path) in write_csvs(&seed, n) {
        let path = path.to_string_lossy().into_owned();
        let what = format!("import {kind}");
        ok(
            &mut collecte(&seed, url, &["import", kind, &path, "--date", "2026-11-20"]),
            &what,
        );
    }
    ok(
        &mut collecte(&seed, url, &["run", "collect", "--date", "2026-11-20"]),
        "collect",
    );
    let start = Instant::now();
    let transactions = bank_replies(&seed);
    assert_eq!(transactions, n as u64, "every collection in a file");
    eprintln!("    bank replies written: {:.2} s", start.elapsed().as_secs_f64());

    let mut binaries = vec![("this", COLLECTE.to_owned())];
    if let Some(baseline) = &opts.baseline {
        binaries.push(("baseline", baseline.clone()));
    }
    let mut best: Vec<Option<Best>> = vec![None; binaries.len()];
    for r in 0..opts.repeat {
        for (b, (label, program)) in binaries.iter().enumerate() {
            let run = opts.work.join(format!("run-{backend}-{n}"));
            copy_dir(&seed, &run);
            let run_db = format!("bench_ingest_run_{n}");
            let run_url = pg.then(|| {
                psql(&opts.postgres, &format!("DROP DATABASE IF EXISTS {run_db}"));
                psql(&opts.postgres, &format!("CREATE DATABASE {run_db} TEMPLATE {seed_db}"));
                database_url(&opts.postgres, &run_db)
            });
            let m = ok(
                &mut collecte_at(
                    program,
                    &run,
                    run_url.as_deref(),
                    &["run", "ingest", "--format", "json"],
                ),
                &format!("ingest run {} ({label})", r + 1),
            );
            let report: serde_json::Value = serde_json::from_str(&m.stdout).expect("ingest JSON");
            let files = report["files"].as_array().expect("files");
            let count = |key: &str| {
                files
                    .iter()
                    .map(|f| f["booked"][key].as_u64().unwrap_or(0))
                    .sum::<u64>()
            };
            let facts = count("r_transactions") + count("settlements") + count("unmatched");
            assert_eq!(count("unmatched"), 0, "every fact matches a collection");
            assert!(files.iter().all(|f| f["outcome"] == "processed"), "{}", m.stdout);
            eprintln!(
                "      {} R-transactions, {} settlements: {:.0} facts/s wall",
                count("r_transactions"),
                count("settlements"),
                facts as f64 / m.wall.as_secs_f64()
            );
            let seen = best[b].get_or_insert(Best {
                wall: m.wall,
                cpu: Duration::from_secs_f64(m.cpu_secs),
                rss_kb: m.rss_kb,
                facts,
            });
            seen.wall = seen.wall.min(m.wall);
            seen.cpu = seen.cpu.min(Duration::from_secs_f64(m.cpu_secs));
            seen.rss_kb = seen.rss_kb.max(m.rss_kb);
            if !opts.keep {
                let _ = std::fs::remove_dir_all(&run);
                if pg {
                    psql(&opts.postgres, &format!("DROP DATABASE IF EXISTS {run_db}"));
                }
            }
        }
    }
    if !opts.keep {
        let _ = std::fs::remove_dir_all(&seed);
        if pg {
            psql(&opts.postgres, &format!("DROP DATABASE IF EXISTS {seed_db}"));
        }
    }
    binaries
        .iter()
        .zip(best)
        .filter_map(|((label, _), best)| {
            Some(Row {
                n,
                backend: backend.to_owned(),
                binary: (*label).to_owned(),
                best: best?,
            })
        })
        .collect()
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}
