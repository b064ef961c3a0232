//! `collecte demo` as a newcomer runs it: real files, a real SQLite ledger, the real binary.
//! The day's pain.008 files validate against the XSD, the bank's answers are ingested, and
//! what the summary says is what the ledger holds.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use collecte::demo::{Spec, generate};
use collecte::import::{ImportKind, parse};
use collecte::sepa::pain008::Pain008Version;
use proptest::prelude::*;
use serde_json::Value;

/// The binary with no ledger or config from the environment, as on a fresh machine.
fn collecte(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_collecte"))
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("COLLECTE_CONFIG")
        .env_remove("REDIS_URL")
        .env_remove("SMTP_URL")
        .env_remove("RUST_LOG")
        .output()
        .expect("run collecte");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "collecte panicked: {stderr}");
    out
}

/// Runs the demo into `dir` and returns its JSON summary.
fn demo(dir: &Path, customers: &str, seed: &str) -> Value {
    let out = collecte(&[
        "demo",
        "--dir",
        dir.to_str().unwrap(),
        "--customers",
        customers,
        "--date",
        "2026-12-08",
        "--seed",
        seed,
        "--format",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "demo failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("demo --format json prints one JSON object")
}

fn files_in(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    files
}

fn sum(v: &Value) -> u64 {
    v.as_object().unwrap().values().map(|n| n.as_u64().unwrap()).sum()
}

#[test]
fn a_whole_demo_day_matches_the_ledger() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let s = demo(&dir, "150", "7");
    assert_eq!(s["business_date"], "2026-12-08");
    assert_eq!(s["collection_date"], "2026-12-09");
    assert_eq!(s["book"]["customers"], 150);
    assert_eq!(s["loaded"][0]["counts"]["inserted"], 150, "{}", s["loaded"]);
    assert!(dir.join("collecte.db").is_file() && dir.join("collecte.toml").is_file());
    assert_eq!(
        files_in(&dir.join("demo-data"), "csv").len(),
        6,
        "150 customers fill every file"
    );

    // The day wrote XSD-valid pain.008 files, and the summary names them.
    let outbox = files_in(&dir.join("outbox"), "xml");
    assert!(!outbox.is_empty());
    let named: Vec<PathBuf> = s["collected"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| PathBuf::from(f["path"].as_str().unwrap()))
        .collect();
    assert_eq!(named, outbox);
    for file in &outbox {
        common::assert_valid_pain008(&std::fs::read(file).unwrap(), Pain008Version::V08);
    }

    // Every answer was ingested: processed, the inbox left empty, nothing quarantined.
    let bank = s["bank"].as_array().unwrap();
    assert_eq!(bank.len(), outbox.len());
    let replies: usize = bank.iter().map(|b| b["replies"].as_array().unwrap().len()).sum();
    assert_eq!(files_in(&dir.join("processed"), "xml").len(), replies);
    assert!(files_in(&dir.join("inbox"), "xml").is_empty());
    assert!(std::fs::read_dir(dir.join("quarantine")).unwrap().next().is_none());
    for i in s["ingested"].as_array().unwrap() {
        assert_eq!(i["outcome"], "processed", "{i}");
        assert_eq!(i["unmatched"], 0, "{i}");
    }

    // What the summary says is what the ledger holds.
    let config = dir.join("collecte.toml");
    let out = collecte(&["--config", config.to_str().unwrap(), "collections", "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let mut by_status: BTreeMap<String, u64> = BTreeMap::new();
    for r in &rows {
        *by_status.entry(r["status"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    let summary_ledger: BTreeMap<String, u64> = s["ledger"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["status"].as_str().unwrap().to_owned(), t["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(summary_ledger, by_status);

    let tally = |key: &str| -> u64 {
        bank.iter()
            .map(|b| {
                let v = &b["tally"][key];
                v.as_u64().unwrap_or_else(|| sum(v))
            })
            .sum()
    };
    let (transactions, settled) = (tally("transactions"), tally("settled"));
    let (rejects, refusals, returns, refunds) =
        (tally("rejects"), tally("refusals"), tally("returns"), tally("refunds"));
    assert!(
        rejects > 0 && refusals > 0 && returns > 0 && refunds > 0,
        "{}",
        s["bank"]
    );
    let count = |status: &str| by_status.get(status).copied().unwrap_or(0);
    assert_eq!(count("submitted"), 0, "every submitted collection got its answer");
    assert_eq!(count("failed"), rejects + refusals + returns + refunds);
    assert_eq!(count("settled"), settled - returns - refunds);
    assert_eq!(count("settled") + count("failed"), transactions);
    let in_files: i64 = s["collected"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["transactions"].as_i64().unwrap())
        .sum();
    assert_eq!(in_files, transactions as i64);
    assert!(count("pending") > 0, "later installments wait for their day");

    // Each failure carries the bank's reason code.
    let failed_reasons: Vec<&str> = rows
        .iter()
        .filter(|r| r["status"] == "failed")
        .map(|r| r["reason"].as_str().unwrap_or_default())
        .collect();
    for code in ["AM04", "MS02", "AC04", "MD06"] {
        assert!(
            failed_reasons.iter().any(|r| r.contains(code)),
            "{code} missing from {failed_reasons:?}"
        );
    }

    // Jobs not built yet are said, not faked.
    let not_built: Vec<&str> = s["not_built"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        not_built.contains(&"retry") && !not_built.contains(&"collect"),
        "{not_built:?}"
    );
    let steps: Vec<&str> = s["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["step"].as_str().unwrap())
        .collect();
    assert!(
        steps.contains(&"load") && steps.contains(&"day: collect") && steps.contains(&"after the bank: ingest"),
        "{steps:?}"
    );
}

#[test]
fn the_table_summary_says_where_everything_is() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    // A Saturday: the day moves to the next TARGET2 business day.
    let out = collecte(&[
        "demo",
        "--dir",
        dir.to_str().unwrap(),
        "--customers",
        "40",
        "--date",
        "2026-12-05",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("business day 2026-12-07"), "{stdout}");
    for needle in [
        "40 customers:",
        "The bank answered",
        "Not built yet",
        "processed",
        "Took ",
    ] {
        assert!(stdout.contains(needle), "{needle} missing from:\n{stdout}");
    }
    assert!(stdout.contains(&dir.join("outbox").display().to_string()), "{stdout}");
}

#[test]
fn the_same_seed_gives_the_same_book_and_the_same_answers() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let (sa, sb) = (demo(&a, "60", "3"), demo(&b, "60", "3"));
    for kind in ImportKind::ALL {
        let name = format!("{}.csv", kind.name());
        assert_eq!(
            std::fs::read(a.join("demo-data").join(&name)).ok(),
            std::fs::read(b.join("demo-data").join(&name)).ok(),
            "{name}"
        );
    }
    assert_eq!(sa["book"], sb["book"]);
    let tallies = |s: &Value| {
        s["bank"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["tally"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(tallies(&sa), tallies(&sb));
    assert_eq!(sa["ledger"], sb["ledger"]);
}

#[test]
fn a_non_empty_folder_is_refused_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("notes.txt"), "mine").unwrap();
    let out = collecte(&["demo", "--dir", tmp.path().to_str().unwrap(), "--customers", "5"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("not empty"), "{stderr}");
    let names: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("notes.txt")]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Whatever the seed, every generated file passes the import rules (IBANs included).
    #[test]
    fn every_seed_gives_importable_files(seed in any::<u64>()) {
        let date = "2026-12-08".parse().unwrap();
        let data = generate(&Spec {
            customers: 60,
            seed,
            business_date: date,
            collection_date: "2026-12-09".parse().unwrap(),
        })
        .unwrap();
        for (kind, bytes) in &data.files {
            let parsed = parse(*kind, bytes, date).unwrap();
            prop_assert!(parsed.problems.is_empty(), "{:?}: {:?}", kind, parsed.problems);
        }
    }
}
