//! pain.008 generation, side by side: collecte's streaming writer, the `sepa` crate's
//! `Pain008Builder`, python `sepaxml`, and the whole `collecte run collect` on SQLite, for
//! 10k, 100k and 1M transactions (issue 3, item 11). Results are written up in BENCHMARKS.md.
//!
//! ```text
//! cargo bench --bench bench_collect -- [--sizes 10000,100000,1000000] [--repeat 3]
//!     [--only writer,checked,sepa,sepaxml,collect] [--import-chunk ROWS] [--validate]
//!     [--xsd DIR] [--python python3] [--work DIR] [--keep] [--reuse-seed] [--phases]
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
//! `--phases` runs collect once more per size with `RUST_LOG=sqlx=debug` and prints where the
//! time goes: consecutive SQL statements of the same kind, their count, wall span and summed
//! execution time (the logging slows the run down; read it for proportions, not absolutes).
//! `--reuse-seed` keeps seeded projects (under `--work`) between invocations and reuses them.
//!
//! `cargo test --benches` runs this file without `--bench`: it then only says how to run it.

#[path = "../examples/support/pain008_fixture.rs"]
mod fixture;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use collecte::sepa::pain008::Transaction;
use fixture::{ADDRESS, Counter, IBANS, POOL, Plain, Source, ours, plain, run_ours, run_theirs};

/// The binary the `collect` rows run (cargo builds it for benchmarks).
const COLLECTE: &str = env!("CARGO_BIN_EXE_collecte");
const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");
const SIDES: [&str; 5] = ["writer", "checked", "sepa", "sepaxml", "collect"];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("child") {
        child(&args[1..]);
        return;
    }
    if !args.iter().any(|a| a == "--bench") {
        println!("bench_collect: run it with `cargo bench --bench bench_collect` (see BENCHMARKS.md)");
        return;
    }
    let opts = Options::parse(&args);
    orchestrate(&opts);
}

// ---------------------------------------------------------------------------------------------
// Options

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
}

impl Options {
    fn parse(args: &[String]) -> Self {
        let mut o = Options {
            sizes: vec![10_000, 100_000, 1_000_000],
            repeat: 3,
            only: SIDES.iter().map(|s| (*s).to_owned()).collect(),
            import_chunk: 0,
            validate: false,
            xsd: Path::new(MANIFEST_DIR).join("../shared/sepa-samples/xsd"),
            python: "python3".to_owned(),
            work: Path::new(MANIFEST_DIR).join("target/bench_collect"),
            keep: false,
            reuse_seed: false,
            phases: false,
        };
        let number = |s: &str| -> usize { s.replace('_', "").parse().expect("a number") };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut value = || it.next().unwrap_or_else(|| panic!("{a} needs a value")).clone();
            match a.as_str() {
                "--bench" => {}
                "--sizes" => o.sizes = value().split(',').map(number).collect(),
                "--repeat" => o.repeat = number(&value()).max(1),
                "--only" => o.only = value().split(',').map(str::to_owned).collect(),
                "--import-chunk" => o.import_chunk = number(&value()),
                "--validate" => o.validate = true,
                "--xsd" => o.xsd = PathBuf::from(value()),
                "--python" => o.python = value(),
                "--work" => o.work = PathBuf::from(value()),
                "--keep" => o.keep = true,
                "--reuse-seed" => o.reuse_seed = true,
                "--phases" => o.phases = true,
                other => panic!("unknown option {other} (see the top of benches/bench_collect.rs)"),
            }
        }
        for s in &o.only {
            assert!(SIDES.contains(&s.as_str()), "--only takes {}", SIDES.join(","));
        }
        o
    }

    fn runs(&self, side: &str) -> bool {
        self.only.iter().any(|s| s == side)
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
    /// The `sepa` crate's build time, for the "build + write_to" row.
    build_secs: Option<f64>,
}

struct Measured {
    stdout: String,
    stderr: String,
    wall: Duration,
    rss_kb: u64,
    ok: bool,
}

/// Runs `cmd` under `/usr/bin/time -v`, returning its output, wall time and peak RSS.
fn measure(cmd: &mut Command, scratch: &Path) -> Measured {
    let report = scratch.join("time-v.txt");
    let program = cmd.get_program().to_owned();
    let args: Vec<_> = cmd.get_args().map(ToOwned::to_owned).collect();
    let mut timed = Command::new("/usr/bin/time");
    timed.arg("-v").arg("-o").arg(&report).arg(&program).args(&args);
    if let Some(dir) = cmd.get_current_dir() {
        timed.current_dir(dir);
    }
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => timed.env(k, v),
            None => timed.env_remove(k),
        };
    }
    let start = Instant::now();
    let out = timed
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program:?} under /usr/bin/time: {e}"));
    let wall = start.elapsed();
    let time_v = std::fs::read_to_string(&report).unwrap_or_default();
    let rss_kb = time_v
        .lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes):"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    Measured {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        wall,
        rss_kb,
        ok: out.status.success(),
    }
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
    rss_kb: u64,
    files: usize,
}

fn collecte(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(COLLECTE);
    cmd.args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("COLLECTE_CONFIG")
        .env_remove("RUST_LOG");
    cmd
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

/// Seeds `dir` with `n` due collections; returns the import statistics per kind.
fn seed(dir: &Path, scratch: &Path, n: usize, chunk: usize) -> BTreeMap<&'static str, ImportStat> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).expect("remove old seed");
    }
    std::fs::create_dir_all(dir).expect("seed dir");
    let init = collecte(dir, &["init"]).output().expect("collecte init");
    assert!(init.status.success(), "init: {}", String::from_utf8_lossy(&init.stderr));
    let csv_dir = dir.join("csv");
    std::fs::create_dir_all(&csv_dir).expect("csv dir");
    let files = write_csvs(&csv_dir, n, chunk);
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
            let m = measure(
                &mut collecte(dir, &["import", what, &path_str, "--date", "2026-11-20"]),
                scratch,
            );
            assert!(m.ok, "import {kind} {path_str}: {}\n{}", m.stdout, m.stderr);
            stat.rows += rows;
            stat.secs += m.wall.as_secs_f64();
            stat.rss_kb = stat.rss_kb.max(m.rss_kb);
            stat.files += 1;
            eprintln!(
                "    import {what:<9} {rows:>8} rows  {:>8.2} s  {:>8.0} rows/s  peak RSS {:>6.1} MB  [{}]",
                m.wall.as_secs_f64(),
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

/// Times `collecte run collect` `repeat` times, each on a fresh copy of the seeded project.
fn collect_runs(opts: &Options, seed_dir: &Path, n: usize, validate: bool) -> Vec<Sample> {
    let mut samples = Vec::new();
    for r in 0..opts.repeat {
        let run_dir = opts.work.join(format!("run-{n}"));
        copy_dir(seed_dir, &run_dir);
        let m = measure(
            &mut collecte(&run_dir, &["run", "collect", "--date", "2026-11-20"]),
            &opts.work,
        );
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
            "    collect run {}: {:.3} s, {} file(s), peak RSS {:.1} MB",
            r + 1,
            m.wall.as_secs_f64(),
            files.len(),
            m.rss_kb as f64 / 1024.0
        );
        if validate && r == 0 {
            for f in &files {
                xmllint(opts, f, &format!("collect {n}"));
            }
        }
        samples.push(Sample {
            secs: m.wall.as_secs_f64(),
            bytes,
            rss_kb: m.rss_kb,
            build_secs: None,
        });
        if !opts.keep {
            let _ = std::fs::remove_dir_all(&run_dir);
        }
    }
    samples
}

/// One collect run with every SQL statement logged (JSON lines on stderr), summed per kind of
/// statement: how many, first and last seen, summed execution time.
fn phases_of(opts: &Options, seed_dir: &Path, n: usize) {
    let run_dir = opts.work.join(format!("phases-{n}"));
    copy_dir(seed_dir, &run_dir);
    let start = Instant::now();
    // Streamed: at 1M collections the log is gigabytes.
    let mut child = collecte(
        &run_dir,
        &["--log-format", "json", "run", "collect", "--date", "2026-11-20"],
    )
    .env("RUST_LOG", "info,sqlx=debug")
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .expect("collect with logs");
    struct Phase {
        what: String,
        count: u64,
        first: String,
        last: String,
        exec: f64,
    }
    // Per kind of statement (or log event), in order of first appearance.
    let mut phases: Vec<Phase> = Vec::new();
    let stderr = std::io::BufReader::new(child.stderr.take().expect("piped stderr"));
    for line in std::io::BufRead::lines(stderr) {
        let Ok(line) = line else { break };
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        let ts = v["timestamp"].as_str().unwrap_or("").to_owned();
        let f = &v["fields"];
        let what: String = f["summary"]
            .as_str()
            .or(f["message"].as_str())
            .unwrap_or("?")
            .chars()
            .take(70)
            .collect();
        let exec = f["elapsed_secs"].as_f64().unwrap_or(0.0);
        match phases.iter_mut().find(|p| p.what == what) {
            Some(p) => {
                p.count += 1;
                p.last = ts;
                p.exec += exec;
            }
            None => phases.push(Phase {
                what,
                count: 1,
                first: ts.clone(),
                last: ts,
                exec,
            }),
        }
    }
    let status = child.wait().expect("collect with logs");
    let wall = start.elapsed().as_secs_f64();
    assert!(status.success(), "instrumented collect failed");
    println!("\n### Where `collect` spends its time, N = {n} (instrumented run: {wall:.1} s wall)\n");
    println!("| from | to | statements | summed execution s | statement / event |");
    println!("|---|---|---:|---:|---|");
    let clock = |ts: &str| ts.get(11..23).unwrap_or(ts).to_owned();
    for p in phases.iter().filter(|p| p.count > 1 || p.exec > 0.01) {
        println!(
            "| {} | {} | {} | {:.3} | `{}` |",
            clock(&p.first),
            clock(&p.last),
            p.count,
            p.exec,
            p.what.replace('|', "\\|").replace('\n', " ")
        );
    }
    if !opts.keep {
        let _ = std::fs::remove_dir_all(&run_dir);
    }
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
    samples: Vec<(f64, u64, u64)>,
}

impl Row {
    fn best(&self) -> (f64, u64) {
        self.samples
            .iter()
            .map(|(s, b, _)| (*s, *b))
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .unwrap_or((f64::NAN, 0))
    }
    fn worst(&self) -> f64 {
        self.samples.iter().map(|s| s.0).fold(0.0, f64::max)
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
                (secs, s.bytes, s.rss_kb)
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
                let m = measure(Command::new(&me).args(["child", side, &n.to_string()]), &opts.work);
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
                let m = measure(
                    Command::new(&me).args(["child", side, &n.to_string(), &out.to_string_lossy()]),
                    &opts.work,
                );
                assert!(m.ok, "{side} output: {}", m.stderr);
                xmllint(opts, &out, side);
            }
        }
        if opts.runs("sepa") {
            let mut samples = Vec::new();
            for _ in 0..opts.repeat {
                let m = measure(Command::new(&me).args(["child", "sepa", &n.to_string()]), &opts.work);
                samples.extend(results(&m, "sepa"));
            }
            eprintln!("  sepa: best write_to {:.4} s", row("", n, &samples, false).best().0);
            rows.push(row("sepa 0.9 Pain008Builder::write_to", n, &samples, false));
            rows.push(row("sepa 0.9 build + write_to", n, &samples, true));
            if validate {
                let out = opts.work.join(format!("sepa-{n}.xml"));
                let m = measure(
                    Command::new(&me).args(["child", "sepa", &n.to_string(), &out.to_string_lossy()]),
                    &opts.work,
                );
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
                let m = measure(&mut cmd, &opts.work);
                let s = results(&m, "sepaxml");
                eprintln!("  sepaxml run {}: {:.3} s", r + 1, s[0].secs);
                samples.extend(s);
                if validate && r == 0 {
                    xmllint(opts, &out, "sepaxml");
                }
            }
            rows.push(row("python sepaxml (generation)", n, &samples, false));
        }
        if opts.runs("collect") {
            let seed_dir = opts.work.join(format!("seed-{n}"));
            let seeded = std::fs::read_to_string(seed_dir.join("seeded.ok")).is_ok_and(|s| s == n.to_string());
            if opts.reuse_seed && seeded {
                eprintln!("  reusing the seeded project {}", seed_dir.display());
            } else {
                eprintln!("  seeding {n} collections in {}", seed_dir.display());
                imports = seed(&seed_dir, &opts.work, n, opts.import_chunk);
            }
            let samples = collect_runs(opts, &seed_dir, n, validate);
            rows.push(row("collecte run collect (SQLite)", n, &samples, false));
            if opts.phases {
                phases_of(opts, &seed_dir, n);
            }
            if !opts.keep && !opts.reuse_seed {
                let _ = std::fs::remove_dir_all(&seed_dir);
            }
        }
        let table = table(n, &rows, &imports, &load_before, &load());
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
        "| what | best s | spread | tx/s | MB/s | output MB | peak RSS MB | runs |"
    );
    let _ = writeln!(t, "|---|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let (best, bytes) = r.best();
        let _ = writeln!(
            t,
            "| {} | {:.4} | +{:.0}% | {:.0} | {:.1} | {:.1} | {:.1} | {} |",
            r.name,
            best,
            (r.worst() / best - 1.0) * 100.0,
            r.tx_per_s(),
            bytes as f64 / 1e6 / best,
            bytes as f64 / 1e6,
            r.rss_mb(),
            r.samples.len()
        );
    }
    let find = |name: &str| rows.iter().find(|r| r.name == name).map(Row::tx_per_s);
    let ratio = |a: &str, b: &str| match (find(a), find(b)) {
        (Some(a), Some(b)) => format!("{:.2}×", a / b),
        _ => "n/a".to_owned(),
    };
    let _ = writeln!(t);
    let _ = writeln!(
        t,
        "- collect run vs sepaxml generation: **{}** (goal ≥ 20×)",
        ratio("collecte run collect (SQLite)", "python sepaxml (generation)")
    );
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
    if !imports.is_empty() {
        let _ = writeln!(t, "\nSeeding through `collecte import` (one process per file):\n");
        let _ = writeln!(t, "| import | files | rows | s | rows/s | peak RSS MB |");
        let _ = writeln!(t, "|---|---:|---:|---:|---:|---:|");
        for (kind, s) in imports {
            let _ = writeln!(
                t,
                "| {kind} | {} | {} | {:.2} | {:.0} | {:.1} |",
                s.files,
                s.rows,
                s.secs,
                s.rows as f64 / s.secs,
                s.rss_kb as f64 / 1024.0
            );
        }
    }
    t
}
