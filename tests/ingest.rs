//! `collecte run ingest` on both backends: every public sample file ends processed or in
//! quarantine with a reason, facts are booked once (re-drops, renamed copies, overlapping
//! statements, two processes at once), and bad files never stop the others.

mod common;

use std::path::PathBuf;

use collecte::sepa::EndToEndId;
use collecte::sepa::bank::{Camt054Version, Decisions, Pain002Version, ReasonCode};
use common::{Backend, Project};

fn samples() -> Vec<PathBuf> {
    let public = common::shared_samples().join("public");
    let mut files = Vec::new();
    for folder in ["pain.002", "camt.053", "camt.054", "pain.008"] {
        for e in std::fs::read_dir(public.join(folder)).unwrap() {
            files.push(e.unwrap().path());
        }
    }
    files.sort();
    files
}

async fn every_public_sample_is_processed_or_quarantined_with_a_reason(backend: Backend) {
    let p = Project::new(backend).await;
    let files = samples();
    for f in &files {
        p.drop_file(f, f.file_name().unwrap().to_str().unwrap());
    }
    let (code, report) = p.ingest_json();
    assert_eq!(code, 4, "the pain.008 files are quarantined, so the exit code says so");
    let handled = report["files"].as_array().unwrap();
    assert_eq!(handled.len(), files.len());
    for f in handled {
        let name = f["file"].as_str().unwrap();
        match f["outcome"].as_str().unwrap() {
            "processed" => {
                assert!(p.folder("processed").join(name).is_file(), "{name}");
                assert!(
                    p.folder("processed").join(format!("{name}.result.txt")).is_file(),
                    "{name}"
                );
            }
            "quarantined" => {
                assert!(name.contains("pain.008"), "{name} quarantined: {}", f["note"]);
                let reason =
                    std::fs::read_to_string(p.folder("quarantine").join(format!("{name}.reason.txt"))).unwrap();
                assert!(reason.contains("not a bank report"), "{reason}");
            }
            other => panic!("{name}: {other}"),
        }
    }
    // The inbox is empty and nothing was lost: every file is in exactly one place.
    assert!(
        p.names("inbox").iter().all(|n| n.starts_with('.')),
        "{:?}",
        p.names("inbox")
    );
    let kept = p.names("processed").iter().filter(|n| !n.ends_with(".txt")).count()
        + p.names("quarantine").iter().filter(|n| !n.ends_with(".txt")).count();
    assert_eq!(kept, files.len());
    // None of these payments is ours: everything found is listed as unmatched, nothing dropped.
    let booked: u64 = handled.iter().map(|f| f["booked"]["unmatched"].as_u64().unwrap()).sum();
    assert!(booked > 20, "{booked}");
    assert_eq!(p.unmatched() as u64, booked);
    assert!(
        handled
            .iter()
            .all(|f| f["booked"]["r_transactions"] == 0 && f["booked"]["settlements"] == 0)
    );
    p.db.cleanup().await;
}

async fn each_fact_is_booked_once(backend: Backend) {
    let p = Project::new(backend).await;
    let sample = common::shared_samples().join("public/pain.002/oca-account-payment__test-sepa-pain-unpaid.xml");
    p.drop_file(&sample, "first.xml");
    let (code, first) = p.ingest_json();
    assert_eq!(code, 0);
    let n = p.unmatched();
    assert!(n >= 4, "{first}");
    // The same bytes again, under another name: a duplicate, nothing booked.
    p.drop_file(&sample, "again-renamed.xml");
    let (_, again) = p.ingest_json();
    assert_eq!(again["files"][0]["outcome"], "duplicate", "{again}");
    assert_eq!(p.unmatched(), n);
    // Other bytes stating the same facts (a new MsgId): every fact is already booked.
    let text = std::fs::read_to_string(&sample).unwrap();
    let msg_start = text.find("<MsgId>").unwrap() + "<MsgId>".len();
    let changed = format!("{}X{}", &text[..msg_start], &text[msg_start..]);
    std::fs::write(p.folder("inbox").join("overlap.xml"), changed).unwrap();
    let (_, overlap) = p.ingest_json();
    assert_eq!(overlap["files"][0]["outcome"], "processed", "{overlap}");
    assert_eq!(overlap["files"][0]["booked"]["unmatched"], 0, "{overlap}");
    assert_eq!(p.unmatched(), n);
    assert_eq!(p.names("processed").iter().filter(|n| !n.ends_with(".txt")).count(), 3);
    p.db.cleanup().await;
}

async fn two_ingest_processes_book_each_fact_once(backend: Backend) {
    let p = Project::new(backend).await;
    let files = samples();
    let mut copies = 0;
    for round in 0..3 {
        for f in files.iter().filter(|f| !f.to_string_lossy().contains("pain.008")) {
            p.drop_file(f, &format!("{round}-{}", f.file_name().unwrap().to_str().unwrap()));
            copies += 1;
        }
    }
    let children: Vec<_> = (0..2)
        .map(|_| {
            p.command(&["run", "ingest", "--format", "json"])
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut handled = 0;
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        handled += json["files"].as_array().unwrap().len();
    }
    assert_eq!(handled, copies, "each file handled by exactly one process");
    // The baseline: the same files ingested once by one process in a fresh ledger.
    let single = Project::new(backend).await;
    for f in files.iter().filter(|f| !f.to_string_lossy().contains("pain.008")) {
        single.drop_file(f, f.file_name().unwrap().to_str().unwrap());
    }
    single.ingest_json();
    assert_eq!(p.unmatched(), single.unmatched());
    p.db.cleanup().await;
    single.db.cleanup().await;
}

async fn bad_files_are_quarantined_and_never_stop_the_others(backend: Backend) {
    let p = Project::new(backend).await;
    let inbox = p.folder("inbox");
    std::fs::write(inbox.join("a-empty.xml"), "").unwrap();
    std::fs::write(inbox.join("b-garbage.bin"), [0u8, 159, 146, 150, 255, 1, 2]).unwrap();
    std::fs::write(
        inbox.join("c-xxe.xml"),
        r#"<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02">&x;</Document>"#,
    )
    .unwrap();
    let good = common::shared_samples().join("public/camt.054/oca-bank-statement-import__test-camt054.xml");
    let text = std::fs::read_to_string(&good).unwrap();
    std::fs::write(inbox.join("d-truncated.xml"), &text[..text.len() / 2]).unwrap();
    p.drop_file(&good, "e-good.xml");
    let (code, report) = p.ingest_json();
    assert_eq!(code, 4);
    let outcomes: Vec<(String, String)> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_owned(),
                f["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        outcomes.last().unwrap(),
        &("e-good.xml".to_owned(), "processed".to_owned())
    );
    for name in ["a-empty.xml", "b-garbage.bin", "c-xxe.xml", "d-truncated.xml"] {
        assert!(
            outcomes.contains(&(name.to_owned(), "quarantined".to_owned())),
            "{name}: {outcomes:?}"
        );
        let reason = std::fs::read_to_string(p.folder("quarantine").join(format!("{name}.reason.txt"))).unwrap();
        assert!(reason.len() > name.len() + 10, "{reason}");
    }
    let xxe = std::fs::read_to_string(p.folder("quarantine").join("c-xxe.xml.reason.txt")).unwrap();
    assert!(xxe.to_lowercase().contains("doctype"), "{xxe}");
    // The one-line stderr summary says what happened and where.
    let again = p.run(&["run", "ingest"]);
    assert!(again.status.success(), "an empty inbox is not an error");
    p.db.cleanup().await;
}

/// Four ingest processes at once on a busy inbox, three times over, beside a claim folder of
/// a dead process (taken over once) and one of a live process (never touched while its lock
/// is held, taken over after): every file is handled by exactly one process, ends in
/// `processed/` exactly once, and no process fails.
async fn several_processes_at_once_never_steal_or_lose_a_file(backend: Backend) {
    let p = Project::new(backend).await;
    let sample = |name: &str| common::shared_samples().join("public").join(name);
    let work = p.folder("inbox").join(".ingesting");
    std::fs::create_dir_all(&work).unwrap();
    // A claim of a process that died: its lock file is free.
    std::fs::create_dir(work.join("1-1")).unwrap();
    std::fs::write(work.join("1-1.lock"), "").unwrap();
    std::fs::copy(
        sample("camt.054/genkgo-camt__camt054.v2.xml"),
        work.join("1-1/dead.xml"),
    )
    .unwrap();
    // A claim of a live process: this test holds its lock.
    std::fs::create_dir(work.join("2-2")).unwrap();
    let live = std::fs::File::create(work.join("2-2.lock")).unwrap();
    live.lock().unwrap();
    std::fs::copy(
        sample("camt.054/genkgo-camt__camt054.v4.xml"),
        work.join("2-2/live.xml"),
    )
    .unwrap();

    let files: Vec<PathBuf> = samples()
        .into_iter()
        .filter(|f| !f.to_string_lossy().contains("pain.008"))
        .collect();
    let mut expected = 1; // the dead process's file
    for round in 0..3 {
        for copy in 0..3 {
            for f in &files {
                p.drop_file(
                    f,
                    &format!("{round}-{copy}-{}", f.file_name().unwrap().to_str().unwrap()),
                );
                expected += 1;
            }
        }
        let children: Vec<_> = (0..4)
            .map(|_| {
                p.command(&["run", "ingest", "--format", "json"])
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            for f in json["files"].as_array().unwrap() {
                assert_ne!(f["outcome"], "quarantined", "{f}");
                assert_ne!(f["file"], "live.xml", "a live process's claim was taken: {f}");
            }
        }
    }
    let processed = |p: &Project| {
        p.names("processed")
            .into_iter()
            .filter(|n| !n.ends_with(".txt"))
            .count()
    };
    assert_eq!(processed(&p), expected, "{:?}", p.names("processed"));
    assert_eq!(
        p.names("processed")
            .iter()
            .filter(|n| n.ends_with(".result.txt"))
            .count(),
        expected
    );
    assert!(p.names("processed").contains(&"dead.xml".to_owned()));
    assert!(
        p.names("inbox").iter().all(|n| n.starts_with('.')),
        "{:?}",
        p.names("inbox")
    );
    // Only the live claim is left in the working folder.
    let mut left = std::fs::read_dir(&work)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect::<Vec<_>>();
    left.sort();
    assert_eq!(left, ["2-2", "2-2.lock"]);
    assert!(work.join("2-2/live.xml").is_file());
    // Once its owner is gone, the next run takes it over.
    drop(live);
    let (code, report) = p.ingest_json();
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["files"][0]["file"], "live.xml", "{report}");
    assert_eq!(processed(&p), expected + 1);
    assert_eq!(
        std::fs::read_dir(&work).unwrap().count(),
        0,
        "claim folders are removed when done"
    );
    p.db.cleanup().await;
}

/// `collections` (table, CSV and JSON) says why each failed collection failed: the ISO code
/// of its R-transaction, whether rejected before settlement or returned after it.
async fn the_collections_list_gives_the_reason_of_failed_collections(backend: Backend) {
    let p = Project::new(backend).await;
    p.import_demo_book();
    p.ok(&["run", "collect", "--date", "2026-12-09"]);
    let submitted = p.collections("submitted");
    assert!(submitted.len() >= 3, "{submitted:?}");
    let e2e = |i: usize| submitted[i]["end_to_end_id"].as_str().unwrap().to_owned();
    let (rejected, returned) = (e2e(0), e2e(1));
    let outbox = p.outbox();
    let id = |s: &str| EndToEndId::parse(s).unwrap();
    let decisions = Decisions::accept_all()
        .reject(id(&rejected), ReasonCode::AM04)
        .return_after_settlement(id(&returned), ReasonCode::AC04, "2026-12-14".parse().unwrap());
    common::drop_bank_replies(&p, &outbox[0], &decisions, (Pain002Version::V03, Camt054Version::V02));
    let (code, report) = p.ingest_json();
    assert_eq!(code, 0, "{report}");

    // JSON: the words and the code. The demo also holds collections that failed before any
    // file (they missed their date): words only.
    let failed = p.collections("failed");
    assert_eq!(failed.len(), 4, "{failed:?}");
    for (e2e, code, words) in [(&rejected, "AM04", "reject"), (&returned, "AC04", "return")] {
        let c = failed.iter().find(|c| c["end_to_end_id"] == e2e.as_str()).unwrap();
        assert_eq!(c["reason_code"], code, "{c}");
        assert!(c["reason"].as_str().unwrap().starts_with(words), "{c}");
    }
    let missed: Vec<&serde_json::Value> = failed.iter().filter(|c| c["end_to_end_id"].is_null()).collect();
    assert_eq!(missed.len(), 2, "{failed:?}");
    assert!(missed.iter().all(|c| c["reason_code"].is_null()));
    // CSV: a `reason` column holding the code, else the words; empty when nothing failed.
    let csv = p.ok(&["collections", "--format", "csv"]);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (e2e_at, status_at, reason_at) = (column("end_to_end_id"), column("status"), column("reason"));
    let mut seen = 0;
    for record in reader.records() {
        let record = record.unwrap();
        let (e2e, status, reason) = (&record[e2e_at], &record[status_at], &record[reason_at]);
        match e2e {
            e if e == rejected => assert_eq!(reason, "AM04"),
            e if e == returned => assert_eq!(reason, "AC04"),
            _ if status == "failed" => assert!(reason.starts_with("missed its due date"), "{record:?}"),
            _ => assert_eq!(reason, "", "{record:?}"),
        }
        seen += usize::from(status == "failed");
    }
    assert_eq!(seen, 4, "{csv}");
    // Table: the same column.
    let table = p.ok(&["collections", "--status", "failed"]);
    let head = table.lines().next().unwrap();
    assert!(head.trim_end().ends_with("reason"), "{table}");
    for (e2e, code) in [(&rejected, "AM04"), (&returned, "AC04")] {
        let line = table.lines().find(|l| l.contains(e2e.as_str())).unwrap();
        assert!(line.trim_end().ends_with(code), "{table}");
    }
    p.db.cleanup().await;
}

/// A new ledger (a re-init, a move to PostgreSQL) numbers its rows from 1 again: its file and
/// EndToEndIds still differ from the old ledger's (the bank would refuse a repeated MsgId),
/// and the old ledger's late answers are listed as unmatched, never booked against the new
/// ledger's collections of the same row ids.
async fn a_new_ledger_never_takes_an_old_ones_returns(backend: Backend) {
    let (old, new) = (Project::new(backend).await, Project::new(backend).await);
    for p in [&old, &new] {
        common::seed_monthly_plans(p, 5);
        p.ok(&["run", "collect", "--date", "2026-11-20"]);
    }
    let (old_files, new_files) = (old.outbox(), new.outbox());
    assert_eq!((old_files.len(), new_files.len()), (1, 1));
    assert_ne!(old_files[0].file_name(), new_files[0].file_name());
    let submitted = |p: &Project| -> Vec<(i64, String)> {
        p.collections("submitted")
            .iter()
            .map(|c| {
                (
                    c["id"].as_i64().unwrap(),
                    c["end_to_end_id"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let (old_ids, new_ids) = (submitted(&old), submitted(&new));
    let rows = |ids: &[(i64, String)]| ids.iter().map(|(id, _)| *id).collect::<Vec<_>>();
    assert_eq!(rows(&old_ids), rows(&new_ids), "both ledgers numbered their rows alike");
    assert!(
        old_ids
            .iter()
            .all(|(_, e2e)| new_ids.iter().all(|(_, other)| other != e2e)),
        "{old_ids:?} / {new_ids:?}"
    );

    let id = |s: &str| EndToEndId::parse(s).unwrap();
    let decisions = Decisions::accept_all()
        .reject(id(&old_ids[0].1), ReasonCode::AM04)
        .return_after_settlement(id(&old_ids[1].1), ReasonCode::AC04, "2026-12-14".parse().unwrap());
    common::drop_bank_replies(
        &new,
        &old_files[0],
        &decisions,
        (Pain002Version::V10, Camt054Version::V08),
    );
    let (code, report) = new.ingest_json();
    assert_eq!(code, 0, "{report}");
    assert_eq!(new.collections("submitted").len(), 5, "{report}");
    assert!(new.unmatched() >= 2, "{report}");
    new.db.cleanup().await;
    old.db.cleanup().await;
}

on_both_backends!(
    a_new_ledger_never_takes_an_old_ones_returns,
    every_public_sample_is_processed_or_quarantined_with_a_reason,
    each_fact_is_booked_once,
    two_ingest_processes_book_each_fact_once,
    several_processes_at_once_never_steal_or_lose_a_file,
    bad_files_are_quarantined_and_never_stop_the_others,
    the_collections_list_gives_the_reason_of_failed_collections,
);
