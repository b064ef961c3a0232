//! pain.008 generation, side by side: collecte's streaming writer, the `sepa` crate's
//! `Pain008Builder`, python `sepaxml`, and the whole `collecte run collect` on SQLite, for
//! 10k, 100k and 1M transactions (issue 3, item 11). Results are written up in BENCHMARKS.md.
//!
//! ```text
//! cargo bench --bench bench_collect -- [--sizes 10000,100000,1000000] [--repeat 3]
//!     [--only writer,checked,sepa,sepaxml,collect] [--import-chunk ROWS] [--validate]
//!     [--xsd DIR] [--python python3] [--work DIR] [--keep] [--reuse-seed] [--phases]
//!     [--postgres URL]
//! ```
//!
//! Every measurement runs in its own process under `/usr/bin/time -v` (peak RSS is per
//! process), `--repeat` times; the tables give the best time, the spread (worst over best) and
//! the highest peak RSS seen. Throughput is transactions / best time, MB/s is output bytes /
//! best time.
//!
//! - `writer`: `Pain008Writer` alone on already-checked `Transaction`s cycled from a pool of
//!   1024 (`examples/support/pain008_fixture.rs`), into a byte-counting sink;
//! - `checked`: the same, but each row goes through `check_transaction` first (stored strings →
//!   transliterated, checked `Transaction`), which is what the collect job does per row;
//! - `sepa`: `sepa` 0.9 on the same collections; `write_to` alone, and build + `write_to`
//!   (its API holds the whole document as values before writing);
//! - `sepaxml`: `benches/sepaxml_peer.py` (PyPI `sepaxml`) on the same pool, timing only its
//!   generation (SepaDD, add_payment, export without XSD validation);
//! - `collect`: a temporary project seeded through the product's own CSV imports (customers,
//!   mandates, open-ended monthly plans due Monday 2026-11-23, then 5% of the mandates
//!   re-imported with a new IBAN so that their collection carries an amendment), then
//!   `collecte run collect --date 2026-11-20` timed as a whole (process start to exit) on a
//!   fresh copy of the seeded project for each repeat. Import times and rates are reported too.
//!
//! `--phases` prints where each timed collect run spent its time, from the `collect phases`
//! line the job logs at its end (prepare, read, decide, fail, assign, write, mark; no extra
//! run, no slowdown). `--reuse-seed` keeps seeded projects (under `--work`, by default
//! `$TMPDIR/collecte-bench_collect`) between invocations and reuses them, so 1M is seeded
//! once. `--postgres URL` runs the collect rows on PostgreSQL instead of SQLite: the seed is
//! a database `collecte_bench_seed_N` on that server and every run gets a fresh copy
//! (`CREATE DATABASE ... TEMPLATE`). `/usr/bin/time -v` reports go to temporary files, never
//! into the project.
//!
//! `cargo test --benches` runs this file without `--bench`: it then only says how to run it.

#[path = "support/args.rs"]
#[allow(dead_code, reason = "each harness uses the part of the shared parser it needs")]
mod args;
#[path = "../examples/support/pain008_fixture.rs"]
mod fixture;
#[path = "support/time_v.rs"]
mod time_v;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use args::BenchArgs;
use collecte::sepa::pain008::Transaction;
use fixture::{ADDRESS, Counter, IBANS, POOL, Plain, Source, ours, plain, run_ours, run_theirs};
use time_v::{Measured, measure};

/// The binary the `collect` rows run (cargo builds it for benchmarks).
const COLLECTE: &str = env!("CARGO_BIN_EXE_collecte");
const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");
const SIDES: [&str; 5] = ["writer", "checked", "sepa", "sepaxml", "collect"];
const COLLECT_SQLITE: &str = "collecte run collect (SQLite)";
const COLLECT_PG: &str = "collecte run collect (PostgreSQL)";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("child") {
        child(&args[1..]);
        return;
    }
    if let Some(args) = BenchArgs::from_env(USAGE, FLAGS, SWITCHES) {
        orchestrate(&Options::new(&args));
    }
}

// ---------------------------------------------------------------------------------------------
// Options

const USAGE: &str = "cargo bench --bench bench_collect -- [--sizes 10000,100000,1000000] [--repeat 3] \
    [--only writer,checked,sepa,sepaxml,collect] [--import-chunk ROWS] [--validate] [--xsd DIR] \
    [--python python3] [--work DIR] [--keep] [--reuse-seed] [--phases] [--postgres URL]";
const FLAGS: &[&str] = &[
    "--sizes",
    "--repeat",
    "--only",
    "--import-chunk",
    "--xsd",
    "--python",
    "--work",
    "--postgres",
];
const SWITCHES: &[&str] = &["--validate", "--keep", "--reuse-seed", "--phases"];

struct Options {
    sizes: Vec<usize>,
    repeat: usize,
    only: Vec<String>,
    import_chunk: usize,
    validate: bool,
    xsd: PathBuf,
    python: String,
    work: PathBuf,
    keep: bool,
    reuse_seed: bool,
    phases: bool,
    postgres: Option<String>,
}

impl Options {
    fn new(args: &BenchArgs) -> Self {
        let o = Options {
            sizes: args.list("--sizes", "10000,100000,1000000"),
            repeat: args.parsed("--repeat", 3).max(1),
            only: args.list("--only", &SIDES.join(",")),
            import_chunk: args.parsed("--import-chunk", 0),
            validate: args.switch("--validate"),
            xsd: args.path("--xsd", || Path::new(MANIFEST_DIR).join("../shared/sepa-samples/xsd")),
            python: args.parsed("--python", "python3".to_owned()),
            work: args.path("--work", || std::env::temp_dir().join("collecte-bench_collect")),
            keep: args.switch("--keep"),
            reuse_seed: args.switch("--reuse-seed"),
            phases: args.switch("--phases"),
            postgres: args.value("--postgres").map(str::to_owned),
        };
        for s in &o.only {
            assert!(SIDES.contains(&s.as_str()), "--only takes {}", SIDES.join(","));
        }
        o
    }

    fn runs(&self, side: &str) -> bool {
        self.only.iter().any(|s| s == side)
    }

    fn backend(&self) -> &'static str {
        if self.postgres.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Children: one measurement each, in its own process so that peak RSS is its own.

/// `child writer|checked|sepa N [OUT]`: prints `RESULT secs bytes n [build_secs]` per run.
fn child(args: &[String]) {
    let side = args[0].as_str();
    let n: usize = args[1].parse().expect("N");
    let out = args.get(2);
    let plains: Vec<Plain> = (0..POOL).map(plain).collect();
    match side {
        "writer" | "checked" => {
            let source = if side == "writer" { Source::Checked } else { Source::Raw };
            let pool: Vec<Transaction> = plains.iter().map(ours).collect();
            if let Some(path) = out {
                let f = std::io::BufWriter::new(std::fs::File::create(path).expect("output file"));
                let (f, _) = run_ours(n, &plains, &pool, source, f);
                f.into_inner().expect("flush").sync_all().expect("sync");
                return;
            }
            // Warm-up, then three runs: the short ones are over in a millisecond.
            run_ours(n.min(10_000), &plains, &pool, source, Counter(0));
            for _ in 0..3 {
                let (c, took) = run_ours(n, &plains, &pool, source, Counter(0));
                println!("RESULT {} {} {n}", took.as_secs_f64(), c.0);
            }
        }
        "sepa" => {
            if let Some(path) = out {
                let f = std::io::BufWriter::new(std::fs::File::create(path).expect("output file"));
                let r = run_theirs(n, &plains, f);
                r.out.into_inner().expect("flush").sync_all().expect("sync");
                return;
            }
            // One run per process: at 1M the builder's document is most of the peak RSS.
            let r = run_theirs(n, &plains, Counter(0));
            println!(
                "RESULT {} {} {n} {}",
                r.write.as_secs_f64(),
                r.out.0,
                r.build.as_secs_f64()
            );
        }
        other => panic!("unknown child {other}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Measuring a process

#[derive(Debug, Clone, Default)]
struct Sample {
    /// Time the side reports for itself (or the process wall time for the collect run).
    secs: f64,
    /// Output bytes.
    bytes: u64,
    /// Peak resident set of the process, in kB.
    rss_kb: u64,
    /// CPU time of the process (user + system), seconds: on a shared machine the wall time
    /// also counts waiting for a core.
    cpu_secs: f64,
    /// The `sepa` crate's build time, for the "build + write_to" row.
    build_secs: Option<f64>,
}

/// The `RESULT secs bytes n [build]` lines a child printed.
fn results(m: &Measured, what: &str) -> Vec<Sample> {
    assert!(m.ok, "{what} failed:\n{}\n{}", m.stdout, m.stderr);
    let samples: Vec<Sample> = m
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("RESULT "))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            Sample {
                secs: f[0].parse().expect("secs"),
                bytes: f[1].parse().expect("bytes"),
                rss_kb: m.rss_kb,
                cpu_secs: m.cpu_secs,
                build_secs: f.get(3).map(|b| b.parse().expect("build secs")),
            }
        })
        .collect();
    assert!(!samples.is_empty(), "{what} printed no RESULT:\n{}", m.stdout);
    samples
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// The collect run: a project seeded through the product's CSV imports

/// One import (or the sum of its chunks).
#[derive(Debug, Clone, Default)]
struct ImportStat {
    rows: usize,
    secs: f64,
    cpu_secs: f64,
    rss_kb: u64,
    files: usize,
}

/// `collecte ARGS` in the project `dir`, on the database `url` (or the project's SQLite file).
fn collecte(dir: &Path, url: Option<&str>, args: &[&str]) -> Command {
    let mut cmd = Command::new(COLLECTE);
    cmd.args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("COLLECTE_CONFIG")
        .env_remove("RUST_LOG");
    if let Some(url) = url {
        cmd.env("DATABASE_URL", url);
    }
    cmd
}

/// `url` naming the database `db` on the same server.
fn with_database(url: &str, db: &str) -> String {
    let (base, _) = url.rsplit_once('/').expect("a PostgreSQL URL ending in /DATABASE");
    format!("{base}/{db}")
}

/// Runs one SQL statement with `psql` on the server of `url`.
fn psql(url: &str, sql: &str) {
    let out = Command::new("psql")
        .arg(url)
        .args(["-q", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .expect("psql");
    assert!(
        out.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The database a seeded (or run) project of `n` uses: `None` for its own SQLite file.
fn database(opts: &Options, what: &str, n: usize) -> Option<String> {
    opts.postgres
        .as_deref()
        .map(|url| with_database(url, &format!("collecte_bench_{what}_{n}")))
}

fn csv_quote(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// The CSV files of `n` customers, mandates and plans (collection `i` is `plain(i)`: the same
/// shapes the writers get, with every row distinct), and the amendment file.
fn write_csvs(dir: &Path, n: usize, chunk: usize) -> BTreeMap<&'static str, Vec<(PathBuf, usize)>> {
    let chunk = if chunk == 0 { n.max(1) } else { chunk };
    let mut files: BTreeMap<&'static str, Vec<(PathBuf, usize)>> = BTreeMap::new();
    let kinds: [(&'static str, &str); 4] = [
        (
            "1-customers",
            "reference,name,email,street,building,postcode,town,country\n",
        ),
        (
            "2-mandates",
            "mandate_id,customer_reference,iban,bic,signed_on,channel\n",
        ),
        (
            "3-plans",
            "plan_id,customer_reference,mandate_id,amount,frequency,start_date,count,day_of_month,description\n",
        ),
        (
            "4-amendments",
            "mandate_id,customer_reference,iban,bic,signed_on,channel\n",
        ),
    ];
    for (kind, header) in kinds {
        let mut start = 0;
        let mut part = 0;
        while start < n {
            let end = (start + chunk).min(n);
            let path = dir.join(format!("{kind}-{part:03}.csv"));
            let mut text = String::with_capacity((end - start) * 120 + header.len());
            text.push_str(header);
            let mut rows = 0;
            for i in start..end {
                let p = plain(i);
                match kind {
                    "1-customers" => {
                        let address = if p.address {
                            ADDRESS.join(",")
                        } else {
                            ",,,,".to_owned()
                        };
                        let _ = writeln!(text, "C{i:08},{},,{address}", csv_quote(&p.name));
                    }
                    "2-mandates" => {
                        let _ = writeln!(
                            text,
                            "{},C{i:08},{},{},2024-03-01,web",
                            p.mandate,
                            p.iban,
                            p.bic.unwrap_or("")
                        );
                    }
                    "3-plans" => {
                        let _ = writeln!(
                            text,
                            "P{i:08},C{i:08},{},{}.{:02},monthly,2026-11-23,,,{}",
                            p.mandate,
                            p.cents / 100,
                            p.cents % 100,
                            csv_quote(&p.remittance)
                        );
                    }
                    _ => {
                        if !p.amendment {
                            continue;
                        }
                        // A new account at another bank: an IBAN amendment on the next collection.
                        let (iban, bic) = IBANS[(i + 1) % IBANS.len()];
                        let bic = if p.bic.is_some() { bic } else { "" };
                        let _ = writeln!(text, "{},C{i:08},{iban},{bic},2024-03-01,web", p.mandate);
                    }
                }
                rows += 1;
            }
            std::fs::write(&path, text).expect("write csv");
            files.entry(kind).or_default().push((path, rows));
            start = end;
            part += 1;
        }
    }
    files
}

/// Seeds `dir` (and, on PostgreSQL, its database) with `n` due collections; returns the
/// import statistics per kind.
fn seed(opts: &Options, dir: &Path, n: usize) -> BTreeMap<&'static str, ImportStat> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).expect("remove old seed");
    }
    std::fs::create_dir_all(dir).expect("seed dir");
    let url = database(opts, "seed", n);
    if let (Some(admin), Some(url)) = (&opts.postgres, &url) {
        let db = url.rsplit('/').next().unwrap_or_default();
        psql(admin, &format!("DROP DATABASE IF EXISTS {db}"));
        psql(admin, &format!("CREATE DATABASE {db}"));
    }
    let url = url.as_deref();
    let init = collecte(dir, url, &["init"]).output().expect("collecte init");
    assert!(init.status.success(), "init: {}", String::from_utf8_lossy(&init.stderr));
    let csv_dir = dir.join("csv");
    std::fs::create_dir_all(&csv_dir).expect("csv dir");
    let files = write_csvs(&csv_dir, n, opts.import_chunk);
    let mut stats = BTreeMap::new();
    for (kind, parts) in files {
        let what = if kind == "1-customers" {
            "customers"
        } else if kind == "3-plans" {
            "plans"
        } else {
            "mandates"
        };
        let mut stat = ImportStat::default();
        for (path, rows) in parts {
            let path_str = path.to_string_lossy().into_owned();
            let m = measure(&mut collecte(
                dir,
                url,
                &["import", what, &path_str, "--date", "2026-11-20"],
            ));
            assert!(m.ok, "import {kind} {path_str}: {}\n{}", m.stdout, m.stderr);
            stat.rows += rows;
            stat.secs += m.wall.as_secs_f64();
            stat.cpu_secs += m.cpu_secs;
            stat.rss_kb = stat.rss_kb.max(m.rss_kb);
            stat.files += 1;
            eprintln!(
                "    import {what:<9} {rows:>8} rows  {:>8.2} s ({:.2} s CPU)  {:>8.0} rows/s  peak RSS {:>6.1} MB  [{}]",
                m.wall.as_secs_f64(),
                m.cpu_secs,
                rows as f64 / m.wall.as_secs_f64(),
                m.rss_kb as f64 / 1024.0,
                m.stdout.trim()
            );
        }
        stats.insert(kind, stat);
    }
    let _ = std::fs::remove_dir_all(&csv_dir);
    std::fs::write(dir.join("seeded.ok"), n.to_string()).expect("seeded.ok");
    stats
}

/// Bytes of the pain.008 files in an outbox.
fn outbox_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("outbox"))
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "xml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

fn copy_dir(from: &Path, to: &Path) {
    if to.exists() {
        std::fs::remove_dir_all(to).expect("remove old run dir");
    }
    let status = Command::new("cp").arg("-a").arg(from).arg(to).status().expect("cp");
    assert!(status.success(), "cp -a {} {}", from.display(), to.display());
}

/// Where one collect run spent its time: the fields of its `collect phases` log line.
type Phases = Vec<(String, f64)>;

fn phases_of(stderr: &str) -> Option<Phases> {
    stderr.lines().find_map(|line| {
        let v: serde_json::Value = serde_json::from_str(line).ok()?;
        let f = v.get("fields")?.as_object()?;
        (f.get("message")?.as_str()? == "collect phases").then(|| {
            f.iter()
                .filter_map(|(k, v)| Some((k.strip_suffix("_s")?.to_owned(), v.as_f64()?)))
                .collect()
        })
    })
}

/// Times `collecte run collect` `repeat` times, each on a fresh copy of the seeded project
/// (and database); with `--phases`, also returns each run's phases.
fn collect_runs(opts: &Options, seed_dir: &Path, n: usize, validate: bool) -> (Vec<Sample>, Vec<Phases>) {
    let mut samples = Vec::new();
    let mut all_phases = Vec::new();
    for r in 0..opts.repeat {
        let run_dir = opts.work.join(format!("run-{n}"));
        copy_dir(seed_dir, &run_dir);
        let url = database(opts, "run", n);
        if let (Some(admin), Some(url), Some(seed)) = (&opts.postgres, &url, database(opts, "seed", n)) {
            let db = url.rsplit('/').next().unwrap_or_default();
            let seed_db = seed.rsplit('/').next().unwrap_or_default();
            psql(admin, &format!("DROP DATABASE IF EXISTS {db}"));
            psql(admin, &format!("CREATE DATABASE {db} TEMPLATE {seed_db}"));
        }
        let mut cmd = collecte(
            &run_dir,
            url.as_deref(),
            &["--log-format", "json", "run", "collect", "--date", "2026-11-20"],
        );
        if opts.phases {
            cmd.env("RUST_LOG", "warn,collecte::jobs::collect=info");
        }
        let m = measure(&mut cmd);
        assert!(m.ok, "collect: {}\n{}", m.stdout, m.stderr);
        assert!(
            m.stdout.contains(&format!("collected {n} collection(s)")),
            "collect did not take every due collection:\n{}",
            m.stdout
        );
        let files = outbox_files(&run_dir);
        let bytes = files
            .iter()
            .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
            .sum();
        eprintln!(
            "    collect run {}: {:.3} s ({:.3} s CPU), {} file(s), peak RSS {:.1} MB",
            r + 1,
            m.wall.as_secs_f64(),
            m.cpu_secs,
            files.len(),
            m.rss_kb as f64 / 1024.0
        );
        if let Some(phases) = phases_of(&m.stderr) {
            let line: Vec<String> = phases.iter().map(|(k, v)| format!("{k} {v:.3}")).collect();
            eprintln!("      phases (s): {}", line.join(", "));
            all_phases.push(phases);
        }
        if validate && r == 0 {
            for f in &files {
                xmllint(opts, f, &format!("collect {n}"));
            }
        }
        samples.push(Sample {
            secs: m.wall.as_secs_f64(),
            bytes,
            rss_kb: m.rss_kb,
            cpu_secs: m.cpu_secs,
            build_secs: None,
        });
        if !opts.keep {
            let _ = std::fs::remove_dir_all(&run_dir);
            if let (Some(admin), Some(url)) = (&opts.postgres, &url) {
                psql(
                    admin,
                    &format!("DROP DATABASE IF EXISTS {}", url.rsplit('/').next().unwrap_or_default()),
                );
            }
        }
    }
    (samples, all_phases)
}

fn xmllint(opts: &Options, file: &Path, what: &str) {
    let xsd = opts.xsd.join("pain.008.001.08.xsd");
    assert!(
        xsd.is_file(),
        "--validate: {} is missing (pass --xsd DIR)",
        xsd.display()
    );
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&xsd)
        .arg(file)
        .output()
        .expect("xmllint");
    if out.status.success() {
        eprintln!("    {what}: {} is valid pain.008.001.08", file.display());
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        let head: String = err.lines().take(5).collect::<Vec<_>>().join("\n");
        eprintln!("    {what}: {} is NOT valid pain.008.001.08:\n{head}", file.display());
    }
}

// ---------------------------------------------------------------------------------------------
// The run and its tables

struct Row {
    name: &'static str,
    n: usize,
    /// (seconds, output bytes, peak RSS kB, process CPU seconds)
    samples: Vec<(f64, u64, u64, f64)>,
}

impl Row {
    fn best(&self) -> (f64, u64) {
        self.samples
            .iter()
            .map(|(s, b, _, _)| (*s, *b))
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .unwrap_or((f64::NAN, 0))
    }
    fn worst(&self) -> f64 {
        self.samples.iter().map(|s| s.0).fold(0.0, f64::max)
    }
    fn best_cpu(&self) -> f64 {
        self.samples.iter().map(|s| s.3).fold(f64::INFINITY, f64::min)
    }
    fn rss_mb(&self) -> f64 {
        self.samples.iter().map(|s| s.2).max().unwrap_or(0) as f64 / 1024.0
    }
    fn tx_per_s(&self) -> f64 {
        self.n as f64 / self.best().0
    }
}

fn row(name: &'static str, n: usize, samples: &[Sample], build: bool) -> Row {
    Row {
        name,
        n,
        samples: samples
            .iter()
            .map(|s| {
                let secs = if build {
                    s.secs + s.build_secs.unwrap_or(0.0)
                } else {
                    s.secs
                };
                (secs, s.bytes, s.rss_kb, s.cpu_secs)
            })
            .collect(),
    }
}

fn orchestrate(opts: &Options) {
    std::fs::create_dir_all(&opts.work).expect("work dir");
    let me = std::env::current_exe().expect("current exe");
    let pool_json = opts.work.join("pool.json");
    let plains: Vec<Plain> = (0..POOL).map(plain).collect();
    std::fs::write(&pool_json, serde_json::to_vec(&plains).expect("json")).expect("pool.json");
    let peer = Path::new(MANIFEST_DIR).join("benches/sepaxml_peer.py");
    let smallest = opts.sizes.iter().copied().min().unwrap_or(0);

    println!("# bench_collect");
    println!();
    println!(
        "collecte binary: {COLLECTE}; repeats: {}; load at start: {}",
        opts.repeat,
        load()
    );
    let mut tables = String::new();
    for &n in &opts.sizes {
        eprintln!("== N = {n} (load {})", load());
        let load_before = load();
        let mut rows: Vec<Row> = Vec::new();
        let mut imports = BTreeMap::new();
        let validate = opts.validate && n == smallest;
        for side in ["writer", "checked"] {
            if !opts.runs(side) {
                continue;
            }
            let mut samples = Vec::new();
            for _ in 0..opts.repeat {
                let m = measure(Command::new(&me).args(["child", side, &n.to_string()]));
                samples.extend(results(&m, side));
            }
            let name = if side == "writer" {
                "collecte Pain008Writer"
            } else {
                "collecte check_transaction + writer"
            };
            eprintln!("  {name}: best {:.4} s", row(name, n, &samples, false).best().0);
            rows.push(row(name, n, &samples, false));
            if validate {
                let out = opts.work.join(format!("{side}-{n}.xml"));
                let m = measure(Command::new(&me).args(["child", side, &n.to_string(), &out.to_string_lossy()]));
                assert!(m.ok, "{side} output: {}", m.stderr);
                xmllint(opts, &out, side);
            }
        }
        if opts.runs("sepa") {
            let mut samples = Vec::new();
            for _ in 0..opts.repeat {
                let m = measure(Command::new(&me).args(["child", "sepa", &n.to_string()]));
                samples.extend(results(&m, "sepa"));
            }
            eprintln!("  sepa: best write_to {:.4} s", row("", n, &samples, false).best().0);
            rows.push(row("sepa 0.9 Pain008Builder::write_to", n, &samples, false));
            rows.push(row("sepa 0.9 build + write_to", n, &samples, true));
            if validate {
                let out = opts.work.join(format!("sepa-{n}.xml"));
                let m = measure(Command::new(&me).args(["child", "sepa", &n.to_string(), &out.to_string_lossy()]));
                assert!(m.ok, "sepa output: {}", m.stderr);
                xmllint(opts, &out, "sepa");
            }
        }
        if opts.runs("sepaxml") {
            let mut samples = Vec::new();
            for r in 0..opts.repeat {
                let mut cmd = Command::new(&opts.python);
                cmd.arg(&peer).arg(&pool_json).arg(n.to_string());
                let out = opts.work.join(format!("sepaxml-{n}.xml"));
                if validate && r == 0 {
                    cmd.arg("--out").arg(&out);
                }
                let m = measure(&mut cmd);
                let s = results(&m, "sepaxml");
                eprintln!("  sepaxml run {}: {:.3} s", r + 1, s[0].secs);
                samples.extend(s);
                if validate && r == 0 {
                    xmllint(opts, &out, "sepaxml");
                }
            }
            rows.push(row("python sepaxml (generation)", n, &samples, false));
        }
        let mut phases = Vec::new();
        if opts.runs("collect") {
            let seed_dir = opts.work.join(format!("seed-{}-{n}", opts.backend()));
            let seeded = std::fs::read_to_string(seed_dir.join("seeded.ok")).is_ok_and(|s| s == n.to_string());
            if opts.reuse_seed && seeded {
                eprintln!("  reusing the seeded project {}", seed_dir.display());
            } else {
                eprintln!("  seeding {n} collections in {}", seed_dir.display());
                imports = seed(opts, &seed_dir, n);
            }
            let (samples, p) = collect_runs(opts, &seed_dir, n, validate);
            phases = p;
            let name = if opts.postgres.is_some() {
                COLLECT_PG
            } else {
                COLLECT_SQLITE
            };
            rows.push(row(name, n, &samples, false));
            if !opts.keep && !opts.reuse_seed {
                let _ = std::fs::remove_dir_all(&seed_dir);
                if let (Some(admin), Some(seed)) = (&opts.postgres, database(opts, "seed", n)) {
                    psql(
                        admin,
                        &format!(
                            "DROP DATABASE IF EXISTS {}",
                            seed.rsplit('/').next().unwrap_or_default()
                        ),
                    );
                }
            }
        }
        let table = table(n, &rows, &imports, &phases, &load_before, &load());
        print!("{table}");
        std::io::stdout().flush().expect("stdout");
        tables.push_str(&table);
    }
    let _ = std::fs::write(opts.work.join("last-run.md"), tables);
}

fn table(
    n: usize,
    rows: &[Row],
    imports: &BTreeMap<&'static str, ImportStat>,
    phases: &[Phases],
    load_before: &str,
    load_after: &str,
) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "\n## N = {n}  (load average before: {load_before}; after: {load_after})\n"
    );
    let _ = writeln!(
        t,
        "| what | best s | spread | tx/s | MB/s | output MB | peak RSS MB | process CPU s (best) | runs |"
    );
    let _ = writeln!(t, "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let (best, bytes) = r.best();
        let _ = writeln!(
            t,
            "| {} | {:.4} | +{:.0}% | {:.0} | {:.1} | {:.1} | {:.1} | {:.3} | {} |",
            r.name,
            best,
            (r.worst() / best - 1.0) * 100.0,
            r.tx_per_s(),
            bytes as f64 / 1e6 / best,
            bytes as f64 / 1e6,
            r.rss_mb(),
            r.best_cpu(),
            r.samples.len()
        );
    }
    let find = |name: &str| rows.iter().find(|r| r.name == name).map(Row::tx_per_s);
    let ratio = |a: &str, b: &str| match (find(a), find(b)) {
        (Some(a), Some(b)) => format!("{:.2}×", a / b),
        _ => "n/a".to_owned(),
    };
    let _ = writeln!(t);
    for name in [COLLECT_SQLITE, COLLECT_PG] {
        if find(name).is_some() {
            let _ = writeln!(
                t,
                "- {name} vs sepaxml generation: **{}** (goal ≥ 20×)",
                ratio(name, "python sepaxml (generation)")
            );
        }
    }
    let _ = writeln!(
        t,
        "- collecte writer vs sepa `write_to`: **{}** (goal ≥ 2×); vs sepa build + `write_to`: {}",
        ratio("collecte Pain008Writer", "sepa 0.9 Pain008Builder::write_to"),
        ratio("collecte Pain008Writer", "sepa 0.9 build + write_to")
    );
    let _ = writeln!(
        t,
        "- collecte check + writer vs sepa build + `write_to`: {}",
        ratio("collecte check_transaction + writer", "sepa 0.9 build + write_to")
    );
    if !phases.is_empty() {
        let _ = writeln!(t, "\nWhere each collect run spent its time (s):\n");
        let names: Vec<&str> = phases[0].iter().map(|(k, _)| k.as_str()).collect();
        let _ = writeln!(t, "| run | {} |", names.join(" | "));
        let _ = writeln!(t, "|---|{}", "---:|".repeat(names.len()));
        for (i, p) in phases.iter().enumerate() {
            let cells: Vec<String> = p.iter().map(|(_, v)| format!("{v:.3}")).collect();
            let _ = writeln!(t, "| {} | {} |", i + 1, cells.join(" | "));
        }
    }
    if !imports.is_empty() {
        let _ = writeln!(t, "\nSeeding through `collecte import` (one process per file):\n");
        let _ = writeln!(t, "| import | files | rows | s | CPU s | rows/s | peak RSS MB |");
        let _ = writeln!(t, "|---|---:|---:|---:|---:|---:|---:|");
        for (kind, s) in imports {
            let _ = writeln!(
                t,
                "| {kind} | {} | {} | {:.2} | {:.2} | {:.0} | {:.1} |",
                s.files,
                s.rows,
                s.secs,
                s.cpu_secs,
                s.rows as f64 / s.secs,
                s.rss_kb as f64 / 1024.0
            );
        }
    }
    t
}
