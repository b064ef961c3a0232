//! `collecte run collect` on both backends: valid files for every profile, exactly once,
//! amendments, refusals with reasons, dry runs, and SIGKILL at any point.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use collecte::sepa::pain008::Pain008Version;
use common::{Backend, Project, assert_valid_pain008, end_to_end_ids, outbox_end_to_end_ids, seed_monthly_plans};
use proptest::prelude::*;

const CUSTOMERS: &str = "reference,name,email,street,building,postcode,town,country\n";
const MANDATES: &str = "mandate_id,customer_reference,iban,bic,signed_on,channel\n";
const PLANS: &str =
    "plan_id,customer_reference,mandate_id,amount,frequency,start_date,count,day_of_month,description\n";

/// Customers with hostile names and texts, due on Monday 23 Nov 2026 (D-1 = Friday 20th).
fn hostile_book(project: &Project) {
    let long = "Ж".repeat(500);
    let names = [
        "Zoë 👩‍💻 O'Brien & Söhne <b>".to_owned(),
        "مرحبا بالعالم \u{202e}evil".to_owned(),
        long.clone(),
        "東京 株式会社 \t\n tab".to_owned(),
        "\"quoted\", with; separators".to_owned(),
    ];
    let mut customers = CUSTOMERS.to_owned();
    let mut mandates = MANDATES.to_owned();
    let mut plans = PLANS.to_owned();
    for (i, name) in names.iter().enumerate() {
        let name = name.chars().take(140).collect::<String>().replace('"', "\"\"");
        customers.push_str(&format!("H{i},\"{name}\",,Straße {i},1,10115,Berlin,DE\n"));
        mandates.push_str(&format!("HM{i},H{i},DE89370400440532013000,,2026-01-0{},web\n", i + 1));
        let amount = ["0.01", "999999999.99", "12,34", "1 000,00", "7.5"][i];
        plans.push_str(&format!(
            "HP{i},H{i},HM{i},\"{amount}\",monthly,2026-11-23,,,\"Facture <&> n° {i} {long}\"\n",
            long = &long[..20]
        ));
    }
    project.import("customers", &customers);
    project.import("mandates", &mandates);
    project.import("plans", &plans);
}

async fn collects_valid_files_exactly_once(backend: Backend) {
    let p = Project::new(backend).await;
    hostile_book(&p);
    let dry = p.ok(&["run", "collect", "--date", "2026-11-20", "--dry-run"]);
    assert!(dry.contains("would collect 5"), "{dry}");
    assert!(p.outbox().is_empty(), "a dry run writes nothing");
    assert_eq!(p.collections("submitted").len(), 0);

    let out = p.ok(&["run", "collect", "--date", "2026-11-20"]);
    assert!(out.contains("collected 5"), "{out}");
    let files = p.outbox();
    assert_eq!(files.len(), 1);
    let xml = std::fs::read(&files[0]).unwrap();
    assert_valid_pain008(&xml, Pain008Version::V08);
    let text = String::from_utf8(xml).unwrap();
    assert!(
        text.contains("<SeqTp>FRST</SeqTp>") && text.contains("<CtrlSum>1000001019.84</CtrlSum>"),
        "{text}"
    );
    let submitted = p.collections("submitted");
    assert_eq!(submitted.len(), 5);
    let mut ids = end_to_end_ids(&files[0]);
    ids.sort();
    let mut expected: Vec<String> = submitted
        .iter()
        .map(|c| c["end_to_end_id"].as_str().unwrap().to_owned())
        .collect();
    expected.sort();
    assert_eq!(ids, expected);
    let file_name = files[0].file_name().unwrap().to_str().unwrap();
    assert!(
        submitted
            .iter()
            .all(|c| c["file"] == file_name && c["file_state"] == "written"),
        "each listed collection names its complete file: {submitted:#?}"
    );
    let in_file = |name: &str| p.list_collections(&["--file", name]).len();
    let message_id = file_name.trim_end_matches(".xml");
    assert_eq!(in_file(file_name), 5);
    assert_eq!(in_file(message_id), 5);
    assert_eq!(in_file(files[0].to_str().unwrap()), 5);
    let unknown = p.run(&["collections", "--file", "CLT-000000-20261120-00000099.xml"]);
    assert_eq!(unknown.status.code(), Some(3), "an unknown file is bad input");
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        stderr.contains("no pain.008 file") && stderr.lines().count() == 1,
        "{stderr}"
    );
    assert!(
        p.list_collections(&["--file", file_name, "--status", "failed"])
            .is_empty()
    );
    let show = p.ok(&["show", &submitted[0]["id"].to_string()]);
    assert!(show.contains("submitted") && show.contains(".xml"), "{show}");

    let again = p.ok(&["run", "collect", "--date", "2026-11-20"]);
    assert!(again.contains("nothing new to collect"), "{again}");
    assert_eq!(p.outbox().len(), 1);

    // The next month on an old-style bank: pain.008.001.02, no BIC, RCUR only.
    p.set_bank("pain_version = \"pain.008.001.02\"\ninclude_bic = false\nuse_frst = false");
    p.ok(&["run", "collect", "--date", "2026-12-22"]);
    let files = p.outbox();
    assert_eq!(files.len(), 2, "{files:?}");
    let xml = std::fs::read(&files[1]).unwrap();
    assert_valid_pain008(&xml, Pain008Version::V02);
    let text = String::from_utf8(xml).unwrap();
    assert!(
        text.contains("NOTPROVIDED") && text.contains("<SeqTp>RCUR</SeqTp>") && !text.contains("FRST"),
        "{text}"
    );
    p.db.cleanup().await;
}

async fn amendments_and_refusals(backend: Backend) {
    let p = Project::new(backend).await;
    p.import(
        "customers",
        &format!(
            "{CUSTOMERS}A1,Anna,,Via Roma,1,00184,Roma,IT\nS1,Hans,,,,,,\nS2,Heidi,,Bahnhofstrasse,7,8001,Zurich,CH\n"
        ),
    );
    p.import(
        "mandates",
        &format!(
            "{MANDATES}AM1,A1,IT60X0542811101000000123456,,2025-01-01,paper\nSM1,S1,CH9300762011623852957,UBSWCHZH80A,2025-01-01,paper\nSM2,S2,CH9300762011623852957,UBSWCHZH80A,2025-01-01,paper\n"
        ),
    );
    p.import("plans", &format!("{PLANS}AP1,A1,AM1,10.00,monthly,2026-11-23,,,\nSP1,S1,SM1,10.00,monthly,2026-11-23,,,\nSP2,S2,SM2,10.00,monthly,2026-11-23,,,\n"));
    p.ok(&["run", "collect", "--date", "2026-11-20"]);
    let failed = p.collections("failed");
    assert_eq!(failed.len(), 1, "{failed:?}");
    let show = p.ok(&["show", &failed[0]["id"].to_string()]);
    assert!(show.contains("CH") && show.contains("address"), "{show}");
    // New IBAN at another bank and a new UMR: announced on the next collection.
    p.import(
        "mandates",
        "mandate_id,customer_reference,iban,bic,signed_on,channel,previous_mandate_id\nAM1-B,A1,DE89370400440532013000,,2025-01-01,paper,AM1\n",
    );
    p.ok(&["run", "collect", "--date", "2026-12-22"]);
    let files = p.outbox();
    let text = std::fs::read_to_string(files.last().unwrap()).unwrap();
    assert_valid_pain008(text.as_bytes(), Pain008Version::V08);
    assert!(text.contains("<AmdmntInd>true</AmdmntInd>"), "{text}");
    assert!(text.contains("<OrgnlMndtId>AM1</OrgnlMndtId>"), "{text}");
    assert!(text.contains("SMNDA"), "{text}");
    // Announced once: the month after carries no amendment.
    p.ok(&["run", "collect", "--date", "2027-01-22"]);
    let text = p.last_file_text();
    assert!(!text.contains("AmdmntInd>true"), "{text}");
    p.db.cleanup().await;
}

/// One collection per file (the profile's limit), so a mandate's three collections of one run
/// go into three files; on PostgreSQL each next page is read while the previous one is being
/// assigned, i.e. before the ledger knows the mandate was presented. The first collection is
/// FRST and announces the new IBAN; the other two are RCUR and announce nothing.
async fn a_mandate_split_across_files_is_first_and_amended_once(backend: Backend) {
    let p = Project::new(backend).await;
    p.set_bank("max_transactions_per_file = 1");
    p.import("customers", &format!("{CUSTOMERS}A1,Anna,,Via Roma,1,00184,Roma,IT\n"));
    p.import(
        "mandates",
        &format!("{MANDATES}AM1,A1,IT60X0542811101000000123456,,2025-01-01,paper\n"),
    );
    p.import(
        "plans",
        &format!("{PLANS}AP1,A1,AM1,10.00,monthly,2026-11-23,,,\nAP2,A1,AM1,20.00,monthly,2026-11-23,,,\nAP3,A1,AM1,30.00,monthly,2026-11-23,,,\n"),
    );
    // The same mandate, now at another bank: announced (SMNDA) on its next collection.
    p.import(
        "mandates",
        &format!("{MANDATES}AM1,A1,DE89370400440532013000,,2025-01-01,paper\n"),
    );
    let out = p.ok(&["run", "collect", "--date", "2026-11-20"]);
    assert!(out.contains("collected 3"), "{out}");
    let files = p.outbox();
    assert_eq!(files.len(), 3, "{files:?}");
    let mut sequences = Vec::new();
    let mut announced = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        assert_valid_pain008(text.as_bytes(), Pain008Version::V08);
        let sequence = text
            .split("<SeqTp>")
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap()
            .to_owned();
        sequences.push(sequence);
        announced += text.matches("<AmdmntInd>true</AmdmntInd>").count();
        if text.contains("<AmdmntInd>true</AmdmntInd>") {
            assert!(text.contains("SMNDA"), "{text}");
        }
    }
    assert_eq!(sequences, ["FRST", "RCUR", "RCUR"], "files in the order written");
    assert_eq!(announced, 1, "the new IBAN is announced once");
    assert!(
        std::fs::read_to_string(&files[0])
            .unwrap()
            .contains("<AmdmntInd>true</AmdmntInd>"),
        "announced on the first collection"
    );
    p.db.cleanup().await;
}

/// Kills `collect` with SIGKILL at many moments, re-runs it, and checks that every due
/// collection is in exactly one bank file and every file is valid: many small files, taken
/// from the outbox by the bank's transfer after every kill (a file placed by a killed run
/// before the ledger recorded it must not be written again once it has gone).
async fn sigkill_at_any_point_never_collects_twice(backend: Backend) {
    let p = Project::new(backend).await;
    p.set_bank("max_transactions_per_file = 250");
    // Enough work that most runs are killed part-way: a run must take longer than the
    // first delays (1,500 collections became too fast on SQLite once collect wrote each
    // collection row once; each killed run also leaves less for the next).
    let delays = [
        5, 15, 30, 45, 60, 80, 100, 130, 160, 200, 250, 350, 500, 700, 1000, 1400, 2000,
    ];
    kill_and_run_again(&p, 6000, &delays, true).await;
    p.db.cleanup().await;
}

/// The same for one file of several chunks, each assigned while the next is checked, in one
/// transaction: a kill between two chunks keeps none of them.
async fn sigkill_inside_a_file_of_several_chunks_never_collects_twice(backend: Backend) {
    let p = Project::new(backend).await;
    let delays = [20, 60, 120, 200, 300, 450, 650, 900, 1200, 1600, 2100, 2800, 3600];
    kill_and_run_again(&p, 25_000, &delays, false).await;
    p.db.cleanup().await;
}

/// Seeds `n` due collections, starts `collect` and kills it (SIGKILL) after each of
/// `delays_ms`, runs it to the end, and checks every file written. `bank_takes`: after each
/// kill the bank's transfer moves what is in the outbox to a `bank` folder.
async fn kill_and_run_again(p: &Project, n: usize, delays_ms: &[u64], bank_takes: bool) {
    seed_monthly_plans(p, n);
    let bank = p.folder("bank");
    std::fs::create_dir_all(&bank).unwrap();
    let mut kills = 0;
    for &delay_ms in delays_ms {
        let mut child = p
            .command(&["run", "collect", "--date", "2026-11-20"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        child.wait().unwrap();
        if bank_takes {
            for f in p.outbox() {
                std::fs::rename(&f, bank.join(f.file_name().unwrap())).unwrap();
            }
        }
    }
    eprintln!("{kills} runs killed part-way");
    assert!(kills >= 3, "the runs were too fast to be interrupted ({kills} kills)");
    let out = p.ok(&["run", "collect", "--date", "2026-11-20"]);
    let last = p.ok(&["run", "collect", "--date", "2026-11-20"]);
    assert!(last.contains("nothing new"), "{out}\n{last}");
    let mut seen: HashMap<String, usize> = HashMap::new();
    let taken = std::fs::read_dir(&bank).unwrap().map(|e| e.unwrap().path());
    for file in p.outbox().into_iter().chain(taken) {
        assert_valid_pain008(&std::fs::read(&file).unwrap(), Pain008Version::V08);
        for id in end_to_end_ids(&file) {
            *seen.entry(id).or_default() += 1;
        }
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "collected twice: {twice:?}");
    let submitted = p.collections("submitted");
    assert_eq!(submitted.len(), n, "every due collection was submitted");
    for c in &submitted {
        assert_eq!(seen.get(c["end_to_end_id"].as_str().unwrap()), Some(&1), "{c}");
    }
    assert_eq!(seen.len(), n);
    let leftovers: Vec<_> = std::fs::read_dir(p.dir.path().join("outbox"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// A small disk of its own (tmpfs) mounted over `path` for one test, unmounted when dropped.
/// Mounting needs root, as the test suite runs in CI; a machine where it cannot mount fails
/// the test instead of skipping it.
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    fn mount(path: &std::path::Path, size: &str) -> Self {
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "mount tmpfs on {}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        Self(path.to_owned())
    }

    fn grow(&self, size: &str) {
        let out = std::process::Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.0)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

/// The outbox's disk full while a file is written: the run fails with exit 1 (a run-time
/// failure, not bad input) and one line naming the file and the cause once; no file is in
/// place, and its temporary, which tells the next run the file is still to be written, is
/// emptied (the disk gets its space back). With space again, the next run finishes the file its assignment committed, and
/// every collection is in it once.
async fn a_full_outbox_disk_fails_the_run_and_the_next_finishes_the_file(backend: Backend) {
    let p = Project::new(backend).await;
    let n = 3000; // ≈ 2.5 MB of pain.008
    seed_monthly_plans(&p, n);
    let outbox = p.folder("outbox");
    std::fs::create_dir_all(&outbox).unwrap();
    let disk = SmallDisk::mount(&outbox, "1m");
    let out = p.run(&["run", "collect", "--date", "2026-11-20"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let line = stderr
        .lines()
        .filter(|l| l.starts_with("collecte: "))
        .collect::<Vec<_>>();
    assert_eq!(line.len(), 1, "{stderr}");
    assert!(line[0].contains(&outbox.display().to_string()), "{stderr}");
    assert_eq!(line[0].matches("No space left on device").count(), 1, "{stderr}");
    let left: Vec<(String, u64)> = std::fs::read_dir(&outbox)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name() != common::OUTBOX_MARKER)
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                e.metadata().unwrap().len(),
            )
        })
        .collect();
    assert!(
        matches!(left.as_slice(), [(name, 0)] if name.starts_with(".CLT-") && name.ends_with(".xml.tmp")),
        "a failed write leaves only its empty temporary in the outbox: {left:?}"
    );

    disk.grow("64m");
    let finished = p.ok(&["run", "collect", "--date", "2026-11-20"]);
    assert!(finished.contains("finished after an interrupted run"), "{finished}");
    assert!(
        p.ok(&["run", "collect", "--date", "2026-11-20"])
            .contains("nothing new")
    );
    let files = p.outbox();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_valid_pain008(&std::fs::read(&files[0]).unwrap(), Pain008Version::V08);
    let seen = outbox_end_to_end_ids(&p);
    assert_eq!(seen.len(), n);
    assert!(seen.values().all(|k| *k == 1));
    assert_eq!(p.collections("submitted").len(), n);
    drop(disk);
    p.db.cleanup().await;
}

/// A collection missed beyond the catch-up window is failed for review; a person answers
/// with `retry` (a new attempt, due on the next reachable date, collected by the next run
/// with its own EndToEndId) or `ignore` (set aside). Each answer is given once, only to a
/// failed collection, and the timelines say what happened.
async fn a_person_retries_or_ignores_a_failed_collection(backend: Backend) {
    let p = Project::new(backend).await;
    seed_monthly_plans(&p, 3);
    // Run on Monday 4 Jan 2027: the 23 Nov installments are 42 days late (failed), the
    // 23 Dec ones within the window (collected on Tuesday 5 Jan).
    p.ok(&["run", "collect", "--date", "2027-01-04"]);
    let failed = p.collections("failed");
    assert_eq!(failed.len(), 3, "{failed:?}");
    let id = |c: &serde_json::Value| c["id"].as_i64().unwrap().to_string();
    let (retried, ignored) = (id(&failed[0]), id(&failed[1]));
    let submitted = id(&p.collections("submitted")[0]);
    let refused = |args: &[&str], says: &str| {
        let out = p.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    };

    let said = p.ok(&["retry", &retried, "--date", "2027-01-04"]);
    let new = p
        .collections("pending")
        .into_iter()
        .find(|c| c["attempt"] == 2)
        .unwrap();
    let new_id = id(&new);
    assert!(
        said.contains(&format!(
            "presented again as collection {new_id} (attempt 2), due 2027-01-05"
        )),
        "{said}"
    );
    assert_eq!(new["due_date"], "2027-01-05");
    assert_eq!(new["amount"], failed[0]["amount"]);
    refused(
        &["retry", &retried],
        &format!("already presented again as collection {new_id}"),
    );
    refused(&["retry", &submitted], "submitted, not failed");
    refused(&["retry", "999999"], "no collection with id 999999");

    p.ok(&["ignore", &ignored]);
    assert_eq!(id(&p.collections("ignored")[0]), ignored);
    refused(&["ignore", &ignored], "ignored, not failed");
    refused(&["retry", &ignored], "ignored, not failed");
    refused(&["ignore", &new_id], "pending, not failed");

    // The next run presents the new attempt, with an EndToEndId of its own.
    let out = p.ok(&["run", "collect", "--date", "2027-01-04"]);
    assert!(out.contains("collected 1 collection(s)"), "{out}");
    let presented = p.list_collections(&["--status", "submitted"]);
    let again = presented.iter().find(|c| id(c) == new_id).unwrap();
    let e2e = again["end_to_end_id"].as_str().unwrap();
    let seen = outbox_end_to_end_ids(&p);
    assert_eq!(seen.get(e2e), Some(&1), "{seen:?}");
    assert!(seen.values().all(|k| *k == 1));
    for file in p.outbox() {
        assert_valid_pain008(&std::fs::read(&file).unwrap(), Pain008Version::V08);
    }
    let timeline = |id: &str| p.ok(&["show", id, "--format", "json"]);
    assert!(timeline(&retried).contains(&format!("presented again as collection {new_id}")));
    assert!(timeline(&new_id).contains(&format!("retry of collection {retried}")));
    assert!(timeline(&ignored).contains("set aside by a person"));
    p.db.cleanup().await;
}

/// Collect runs started together (a worker's and an operator's, say) collect once: the
/// first takes the creditor's run lock, the others wait for it and then find nothing new.
/// Every run succeeds and each due collection is in exactly one file.
async fn concurrent_runs_collect_once(backend: Backend) {
    let p = Project::new(backend).await;
    p.set_bank("max_transactions_per_file = 500");
    let n = 4000;
    seed_monthly_plans(&p, n);
    let children: Vec<_> = (0..4)
        .map(|_| {
            p.command(&["run", "collect", "--date", "2026-11-20", "--format", "json"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut counts = Vec::new();
    let mut waited = 0;
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        if stderr.contains("a collect run for this creditor is under way; waiting for it to end") {
            waited += 1;
        }
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let count: u64 = report["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["count"].as_u64().unwrap())
            .sum();
        counts.push(count);
    }
    counts.sort_unstable();
    assert_eq!(counts, [0, 0, 0, n as u64], "one run collects everything");
    assert!(waited >= 1, "the runs did not overlap");
    let seen = outbox_end_to_end_ids(&p);
    assert_eq!(seen.len(), n);
    assert!(seen.values().all(|times| *times == 1), "collected twice");
    p.db.cleanup().await;
}

/// A run that finds another run of its job holding the lock longer than it may wait gives
/// up having done nothing, names the holder, and exits 1; it starts as soon as the holder
/// ends within the wait.
async fn a_run_waits_for_the_lock_then_gives_up(backend: Backend) {
    let p = Project::new(backend).await;
    seed_monthly_plans(&p, 3);
    let pending = p.collections("pending").len();
    let store = collecte::store::Store::open(&p.db.url).await.unwrap();
    let creditor = collecte::store::CreditorKey(1);
    let lock = store
        .try_lock_run("collect", creditor, "ops-laptop-4242")
        .await
        .unwrap()
        .expect("no one holds the lock");
    assert!(
        store
            .try_lock_run("collect", creditor, "other")
            .await
            .unwrap()
            .is_none(),
        "the lock is exclusive"
    );
    let ingest = store.try_lock_run("ingest", creditor, "other").await.unwrap();
    assert!(ingest.is_some(), "another job's lock is apart");
    drop(ingest);

    p.set_table("queue", "wait_for_other_run_seconds = 1");
    let out = p.run(&["run", "collect", "--date", "2026-11-20"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("a collect run for this creditor (held by ops-laptop-4242 since ")
            && stderr.contains("nothing was done"),
        "{stderr}"
    );
    assert!(p.outbox().is_empty());
    assert_eq!(p.collections("pending").len(), pending, "nothing done");
    // Imports wait for collect too: a run reads mandates and plans page by page.
    let mandates = p.write(
        "m.csv",
        &format!("{MANDATES}KM0,K0,DE89370400440532013000,,2026-01-01,web\n"),
    );
    let out = p.run(&["import", "mandates", &mandates]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("held by ops-laptop-4242"));
    assert!(
        p.list_collections(&["--customer", "K0"])
            .iter()
            .all(|c| c["debtor_iban"] != "DE89370400440532013000")
    );
    // So does ingest: a rejected FRST changes what collect decides from.
    let out = p.run(&["run", "ingest"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("a collect run for this creditor (held by ops-laptop-4242"));

    p.set_table("queue", "wait_for_other_run_seconds = 60");
    let waiting = p
        .command(&["run", "collect", "--date", "2026-11-20"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(p.outbox().is_empty(), "the run waits while the lock is held");
    drop(lock);
    let out = waiting.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("collected 3 collection(s)"));
    store.close().await;
    p.db.cleanup().await;
}

/// A run stopped after assigning a file and before writing it leaves the file to the next
/// run, which finishes it with what was assigned: the debtor account and mandate id of the
/// assignment, not a new IBAN the CRM sent in between (the file's amendment fields were
/// decided against the old one; the new IBAN goes, announced, with the next collection).
/// Listings keep showing the account each collection was taken from.
async fn a_stopped_runs_file_keeps_the_account_it_was_assigned(backend: Backend) {
    const OLD: &str = "FR1420041010050500013M02606";
    const NEW: &str = "DE89370400440532013000";
    let p = Project::new(backend).await;
    seed_monthly_plans(&p, 2);
    let stopped = assign_like_a_stopped_run(&p, &["KM0"]).await;
    p.import(
        "mandates",
        &format!("{MANDATES}KM0,K0,{NEW},,2026-01-01,web\nKM1,K1,{OLD},,2026-01-01,web\n"),
    );

    let out = p.ok(&["run", "collect", "--date", "2026-11-20"]);
    assert!(out.contains("collected 1 collection(s)"), "{out}");
    let finished = std::fs::read_to_string(p.folder("outbox").join(&stopped.file_name)).unwrap();
    assert!(
        finished.contains(&format!("<IBAN>{OLD}</IBAN>"))
            && !finished.contains(NEW)
            && !finished.contains("<AmdmntInd>true</AmdmntInd>"),
        "{finished}"
    );
    let account = |status: &str| -> Vec<String> {
        p.list_collections(&["--status", status, "--customer", "K0"])
            .iter()
            .map(|c| c["debtor_iban"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(account("submitted"), [OLD]);
    assert!(account("pending").iter().all(|iban| iban == NEW));

    p.ok(&["run", "collect", "--date", "2026-12-22"]);
    let next = p.last_file_text();
    assert!(
        next.contains(&format!("<IBAN>{NEW}</IBAN>")) && next.contains("<AmdmntInd>true</AmdmntInd>"),
        "{next}"
    );
    assert_eq!(account("submitted"), [OLD, NEW]);
    p.db.cleanup().await;
}

/// A stopped run's file finished on a later day asks for no collection date a file sent
/// that day cannot reach: stopped on Friday 20 Nov asking for Monday 23, finished on
/// Tuesday 24 with D-1, it asks for Wednesday 25 (the file is written from the ledger, which
/// now says the same).
/// Finished on its own day, it keeps its date (the other stopped-run tests).
async fn a_stopped_runs_file_finished_late_asks_for_a_reachable_date(backend: Backend) {
    let p = Project::new(backend).await;
    seed_monthly_plans(&p, 2);
    let stopped = assign_like_a_stopped_run(&p, &["KM0"]).await;
    let out = p.ok(&["run", "collect", "--date", "2026-11-24"]);
    assert!(out.contains("finished after an interrupted run"), "{out}");
    let text = std::fs::read_to_string(p.folder("outbox").join(&stopped.file_name)).unwrap();
    assert_valid_pain008(text.as_bytes(), Pain008Version::V08);
    assert!(
        text.contains("<ReqdColltnDt>2026-11-25</ReqdColltnDt>") && !text.contains("2026-11-23</ReqdColltnDt>"),
        "{text}"
    );
    // The run's own file (KM1's collection) asks for the same date.
    let own = p.last_file_text();
    assert!(own.contains("<ReqdColltnDt>2026-11-25</ReqdColltnDt>"), "{own}");
    assert_eq!(p.collections("submitted").len(), 2);
    p.db.cleanup().await;
}

/// Refused rows do not split a run's files before the maximum: with room for four per file,
/// seven due collections of which the first three are refused (revoked mandates) make one
/// file of four, not a file of one and a file of three.
async fn refusals_do_not_split_files_early(backend: Backend) {
    let p = Project::new(backend).await;
    p.set_bank("max_transactions_per_file = 4");
    seed_monthly_plans(&p, 7);
    let revoked: String = (0..3)
        .map(|i| format!("KM{i},K{i},FR1420041010050500013M02606,,2026-01-01,web,revoked\n"))
        .collect();
    p.import(
        "mandates",
        &format!("mandate_id,customer_reference,iban,bic,signed_on,channel,status\n{revoked}"),
    );
    let out = p.ok(&["run", "collect", "--date", "2026-11-20"]);
    assert!(out.contains("collected 4 collection(s)"), "{out}");
    let files = p.outbox();
    assert_eq!(files.len(), 1, "{out}");
    assert_eq!(end_to_end_ids(&files[0]).len(), 4);
    assert_eq!(p.collections("failed").len(), 3);
    p.db.cleanup().await;
}

/// Does what a collect run of Friday 20 Nov 2026 that stopped between its assignment and its
/// file did: assigns the due collections of `mandates` to a new file (each mandate's first
/// FRST, the others RCUR), writes nothing.
async fn assign_like_a_stopped_run(p: &Project, mandates: &[&str]) -> collecte::store::FileRow {
    let store = collecte::store::Store::open(&p.db.url).await.unwrap();
    let creditor = collecte::store::CreditorKey(1);
    let tag = store.ledger_tag(creditor).await.unwrap();
    let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let due = store
        .due_collections(creditor, day("2026-11-23"), None, 10)
        .await
        .unwrap();
    let chosen: Vec<_> = due
        .iter()
        .filter(|c| mandates.contains(&c.mandate_id.as_str()))
        .collect();
    assert!(!chosen.is_empty(), "{mandates:?} have nothing due");
    let mut first = std::collections::HashSet::new();
    let assignments: Vec<_> = chosen
        .iter()
        .map(|c| {
            let mut a = common::frst_assignment(c, collecte::jobs::collect::end_to_end_id(&tag, c.id));
            if !first.insert(c.mandate_key) {
                a.sequence_type = "RCUR";
            }
            a
        })
        .collect();
    let items: Vec<_> = assignments
        .iter()
        .zip(&chosen)
        .map(|(a, c)| (a, common::presented(c)))
        .collect();
    let file = store
        .assign_file(creditor, &tag, day("2026-11-20"), "pain.008.001.08", &items)
        .await
        .unwrap()
        .unwrap();
    store.close().await;
    // A run reserves the file's temporary in the outbox before its assignment commits.
    collecte::jobs::outbox::reserve(&p.folder("outbox"), &file.file_name).unwrap();
    file
}

/// A stopped run's file with a collection that can no longer be written (a Swiss debtor's
/// address removed since: outside the EEA it is mandatory): that collection fails with the
/// reason and what to do, its mandate is first to present again, and the file is written
/// without it (count and sum declared anew) — the run goes on, as item 7 wants of any
/// refusal. A file left with nothing is not written at all.
async fn a_stopped_runs_file_that_can_no_longer_be_written_says_why(backend: Backend) {
    let p = Project::new(backend).await;
    let customer = |address: &str| format!("{CUSTOMERS}CH1,Heidi Muster,,{address}\nDE1,Dora,,,,,,\n");
    p.import("customers", &customer("Bahnhofstrasse,1,8001,Zürich,CH"));
    p.import(
        "mandates",
        &format!(
            "{MANDATES}CHM1,CH1,CH9300762011623852957,UBSWCHZH80A,2026-01-01,web\n\
             DEM1,DE1,DE89370400440532013000,,2026-01-01,web\n"
        ),
    );
    p.import(
        "plans",
        &format!("{PLANS}CHP1,CH1,CHM1,25.00,monthly,2026-11-23,,,Abo\nDEP1,DE1,DEM1,7.50,monthly,2026-11-23,,,Abo\n"),
    );
    let stopped = assign_like_a_stopped_run(&p, &["CHM1", "DEM1"]).await;
    assert_eq!((stopped.nb_of_txs, stopped.ctrl_sum_cents), (2, 3250));
    p.import("customers", &customer(",,,,"));
    let out = p.ok(&["run", "collect", "--date", "2026-11-20"]);
    assert!(
        out.contains("1 failed") && out.contains("can no longer be written"),
        "{out}"
    );
    let text = std::fs::read_to_string(p.folder("outbox").join(&stopped.file_name)).unwrap();
    assert_valid_pain008(text.as_bytes(), Pain008Version::V08);
    assert_eq!(end_to_end_ids(&p.folder("outbox").join(&stopped.file_name)).len(), 1);
    assert!(
        text.contains("<NbOfTxs>1</NbOfTxs>") && text.contains("<CtrlSum>7.50</CtrlSum>") && !text.contains("Heidi"),
        "{text}"
    );
    let failed = p.collections("failed");
    assert_eq!(failed.len(), 1, "{failed:?}");
    let reason = failed[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains(&stopped.file_name)
            && reason.contains("no postal address")
            && reason.contains("collecte retry"),
        "{reason}"
    );
    assert!(failed[0]["file"].is_null(), "{}", failed[0]);

    // Address back, retried: the next run presents it, FRST again (the bank never saw it).
    p.import("customers", &customer("Bahnhofstrasse,1,8001,Zürich,CH"));
    p.ok(&["retry", &failed[0]["id"].to_string(), "--date", "2026-11-20"]);
    p.ok(&["run", "collect", "--date", "2026-11-20"]);
    let retried = p.last_file_text();
    assert!(
        retried.contains("<TwnNm>Zurich</TwnNm>") && retried.contains("<SeqTp>FRST</SeqTp>"),
        "{retried}"
    );

    // A collection refused out of a stopped file takes the others of its mandate with it (it
    // carried their FRST): two plans on KM0, one of whose collections was assigned a mandate
    // id no bank file may carry.
    let p3 = Project::new(backend).await;
    seed_monthly_plans(&p3, 2);
    p3.import(
        "plans",
        &format!("{PLANS}KP9,K0,KM0,3.00,monthly,2026-11-23,,,Second plan\n"),
    );
    let shared = assign_like_a_stopped_run(&p3, &["KM0", "KM1"]).await;
    assert_eq!(shared.nb_of_txs, 3);
    common::raw_exec(
        &p3.db.url,
        "UPDATE collections SET presented_mandate_id = 'KM0//X' WHERE sequence_type = 'FRST' AND presented_mandate_id = 'KM0'",
    )
    .await
    .unwrap();
    let out = p3.ok(&["run", "collect", "--date", "2026-11-20"]);
    assert!(out.contains("2 failed"), "{out}");
    let failed = p3.collections("failed");
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(
        failed
            .iter()
            .any(|c| c["reason"].as_str().unwrap().contains("of the same mandate")),
        "{failed:?}"
    );
    for c in &failed {
        let show = p3.ok(&["show", &c["id"].to_string()]);
        let reason = c["reason"].as_str().unwrap();
        let timeline = show.split_once("timeline:").map(|(_, t)| t).unwrap_or_default();
        assert_eq!(
            timeline.matches(&format!("failed       {reason}")).count(),
            1,
            "the timeline says why, once: {show}"
        );
    }
    let written = end_to_end_ids(&p3.folder("outbox").join(&shared.file_name));
    assert_eq!(written.len(), 1, "only KM1's collection is left");
    p3.db.cleanup().await;

    // A stopped file with nothing left to write is dropped: no file, nothing left behind.
    let p2 = Project::new(backend).await;
    p2.import("customers", &customer("Bahnhofstrasse,1,8001,Zürich,CH"));
    p2.import(
        "mandates",
        &format!("{MANDATES}CHM1,CH1,CH9300762011623852957,UBSWCHZH80A,2026-01-01,web\n"),
    );
    p2.import(
        "plans",
        &format!("{PLANS}CHP1,CH1,CHM1,25.00,monthly,2026-11-23,,,Abo\n"),
    );
    let alone = assign_like_a_stopped_run(&p2, &["CHM1"]).await;
    p2.import("customers", &customer(",,,,"));
    let out = p2.ok(&["run", "collect", "--date", "2026-11-20"]);
    assert!(out.contains("1 failed"), "{out}");
    assert!(!p2.folder("outbox").join(&alone.file_name).exists());
    let left: Vec<_> = std::fs::read_dir(p2.folder("outbox"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, [common::OUTBOX_MARKER], "no temporary left");
    assert!(
        p2.ok(&["run", "collect", "--date", "2026-11-20"])
            .contains("nothing new")
    );
    p.db.cleanup().await;
    p2.db.cleanup().await;
}

/// A mandate the CRM revoked (mandates file, `status` column) and one with no collection
/// presented for 36 months (SEPA rulebook) are not collected: their collections fail with
/// the reason, the lapsed mandate becomes `expired`, and neither comes back to life.
async fn revoked_and_lapsed_mandates_are_not_collected(backend: Backend) {
    let p = Project::new(backend).await;
    p.import(
        "customers",
        &format!("{CUSTOMERS}R1,Rita,,,,,,\nL1,Lars,,,,,,\nK1,Kim,,,,,,\nU1,Ute,,,,,,\n"),
    );
    // UM1 is as old as LM1, but the system collecte replaces collected it last month. The
    // import warns about LM1, the one the next collect will find lapsed.
    let file = p.write(
        "mandates-in.csv",
        "mandate_id,customer_reference,iban,bic,signed_on,channel,last_collected_on\n\
         RM1,R1,FR1420041010050500013M02606,,2025-01-01,web,\n\
         LM1,L1,FR1420041010050500013M02606,,2023-06-01,paper,\n\
         KM1,K1,FR1420041010050500013M02606,,2025-01-01,web,\n\
         UM1,U1,FR1420041010050500013M02606,,2023-06-01,paper,2026-10-23\n",
    );
    let imported = p.run(&["import", "mandates", &file, "--date", "2026-11-20"]);
    let stderr = String::from_utf8_lossy(&imported.stderr);
    assert!(imported.status.success(), "{stderr}");
    assert!(
        stderr.contains("mandates=1") && stderr.contains("collect will find them lapsed") && !stderr.contains('\u{1b}'),
        "{stderr}"
    );
    p.import(
        "plans",
        &format!(
            "{PLANS}RP1,R1,RM1,10.00,monthly,2026-11-23,,,\nLP1,L1,LM1,20.00,monthly,2026-11-23,,,\n\
             KP1,K1,KM1,30.00,monthly,2026-11-23,,,\nUP1,U1,UM1,40.00,monthly,2026-11-23,,,\n"
        ),
    );
    p.import(
        "mandates",
        "mandate_id,customer_reference,iban,bic,signed_on,channel,status\nRM1,R1,FR1420041010050500013M02606,,2025-01-01,web,revoked\n",
    );
    let out = p.ok(&["run", "collect", "--date", "2026-11-20"]);
    assert!(out.contains("collected 2"), "{out}");
    let text = p.last_file_text();
    assert!(
        text.contains("<MndtId>KM1</MndtId>")
            && text.contains("<MndtId>UM1</MndtId>")
            && !text.contains("RM1")
            && !text.contains("LM1"),
        "{text}"
    );
    let sequence = |mandate: &str| {
        p.collections("submitted")
            .iter()
            .find(|c| c["mandate_id"] == mandate)
            .map(|c| c["sequence_type"].clone())
    };
    assert_eq!(
        sequence("UM1"),
        Some("RCUR".into()),
        "its first collection was done before"
    );
    assert_eq!(sequence("KM1"), Some("FRST".into()));
    let reason = |mandate: &str| -> Vec<String> {
        p.collections("failed")
            .iter()
            .filter(|c| c["mandate_id"] == mandate)
            .map(|c| c["reason"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(reason("RM1"), ["the mandate is revoked or expired: not presented"]);
    let lapsed = reason("LM1");
    assert!(
        lapsed.len() == 1 && lapsed[0].contains("lapsed") && lapsed[0].contains("since 2023-06-01"),
        "{lapsed:?}"
    );
    let mandates = |rows: &str| {
        p.write(
            "again.csv",
            &format!("mandate_id,customer_reference,iban,bic,signed_on,channel,status,last_collected_on\n{rows}"),
        )
    };
    // A revoked mandate cannot be made active again by an import: a new mandate is needed.
    let file = mandates("RM1,R1,FR1420041010050500013M02606,,2025-01-01,web,active,\n");
    let refused = p.run(&["import", "mandates", &file, "--date", "2026-11-20"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("mandate RM1 is revoked"), "{stderr}");
    let file = mandates("LM1,L1,FR1420041010050500013M02606,,2023-06-01,paper,,2023-01-15\n");
    let refused = p.run(&["import", "mandates", &file, "--date", "2026-11-20"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("is before the mandate was signed (2023-06-01)"),
        "{stderr}"
    );
    // The CRM does not know of the lapse and still says `active`: taken, and still expired.
    let file = mandates("LM1,L1,FR1420041010050500013M02606,,2023-06-01,paper,active,\n");
    p.ok(&["import", "mandates", &file, "--date", "2026-11-20"]);
    // The next month: the expired mandate is now stored as such.
    p.ok(&["run", "collect", "--date", "2026-12-22"]);
    let lapsed = reason("LM1");
    assert_eq!(lapsed.len(), 2, "{lapsed:?}");
    assert!(
        lapsed.contains(&"the mandate is revoked or expired: not presented".to_owned()),
        "{lapsed:?}"
    );
    assert_eq!(
        p.collections("submitted").len(),
        4,
        "KM1 and UM1 in November and December"
    );
    // Told of a collection the replaced system presented in October, it is in force again.
    let file = mandates("LM1,L1,FR1420041010050500013M02606,,2023-06-01,paper,active,2026-10-15\n");
    p.ok(&["import", "mandates", &file, "--date", "2026-12-22"]);
    p.ok(&["run", "collect", "--date", "2027-01-22"]);
    let january: Vec<_> = p
        .collections("submitted")
        .into_iter()
        .filter(|c| c["mandate_id"] == "LM1")
        .collect();
    assert_eq!(january.len(), 1, "{january:?}");
    assert_eq!(january[0]["sequence_type"], "RCUR");
    p.db.cleanup().await;
}

/// An IBAN changed and changed back before the next collection is no change for the bank:
/// the collection goes out without an amendment instead of being refused for announcing the
/// current IBAN as the old one.
async fn a_change_undone_before_the_next_collection_announces_nothing(backend: Backend) {
    let p = Project::new(backend).await;
    p.import("customers", &format!("{CUSTOMERS}A1,Anna,,Via Roma,1,00184,Roma,IT\n"));
    let mandate = |iban: &str| format!("{MANDATES}AM1,A1,{iban},,2025-01-01,paper\n");
    p.import("mandates", &mandate("IT60X0542811101000000123456"));
    p.import("plans", &format!("{PLANS}AP1,A1,AM1,10.00,monthly,2026-11-23,,,\n"));
    p.ok(&["run", "collect", "--date", "2026-11-20"]);
    p.import("mandates", &mandate("DE89370400440532013000"));
    p.import("mandates", &mandate("IT60X0542811101000000123456"));
    let out = p.ok(&["run", "collect", "--date", "2026-12-22"]);
    assert!(out.contains("collected 1"), "{out}");
    assert!(p.collections("failed").is_empty(), "{:?}", p.collections("failed"));
    let text = p.last_file_text();
    assert!(!text.contains("<AmdmntInd>true</AmdmntInd>"), "{text}");
    // A real change afterwards is announced from what the bank knows.
    p.import("mandates", &mandate("DE89370400440532013000"));
    p.ok(&["run", "collect", "--date", "2027-01-22"]);
    let text = p.last_file_text();
    assert!(
        text.contains("<AmdmntInd>true</AmdmntInd>") && text.contains("SMNDA"),
        "{text}"
    );
    p.db.cleanup().await;
}

/// A project whose one plan (TP1, mandate TM1) has two monthly installments from Monday
/// 23 Nov 2026, under a bank profile that sends RCUR first and FNAL last.
async fn two_installments_ending_in_fnal(backend: Backend) -> Project {
    let p = Project::new(backend).await;
    p.set_bank("use_frst = false\nuse_fnal = true");
    p.import("customers", &format!("{CUSTOMERS}T1,Tom,,,,,,\n"));
    p.import(
        "mandates",
        &format!("{MANDATES}TM1,T1,FR1420041010050500013M02606,,2026-01-01,web\n"),
    );
    p.import("plans", &format!("{PLANS}TP1,T1,TM1,5.00,monthly,2026-11-23,2,,\n"));
    p
}

/// The bank rejects (AM04) the one collection of `file`; ingest books it.
fn reject_its_collection(p: &Project, file: &std::path::Path) {
    use collecte::sepa::EndToEndId;
    use collecte::sepa::bank::{Camt054Version, Decisions, Pain002Version, ReasonCode};
    let e2e = end_to_end_ids(file).pop().unwrap();
    let decisions = Decisions::accept_all().reject(EndToEndId::parse(&e2e).unwrap(), ReasonCode::AM04);
    common::drop_bank_replies(p, file, &decisions, (Pain002Version::V10, Camt054Version::V08));
    p.ok(&["run", "ingest"]);
}

/// FNAL goes with a plan's last installment only when nothing else of the plan is still to
/// be collected: a rejected installment retried for the same date as the last one makes the
/// last one RCUR (an RCUR after the FNAL that ended the mandate would be refused); and once
/// a FNAL went out, an earlier installment rejected late is not retried on that mandate.
async fn no_final_collection_while_a_retry_of_the_plan_is_pending(backend: Backend) {
    let p = two_installments_ending_in_fnal(backend).await;
    p.ok(&["run", "collect", "--date", "2026-11-20"]);
    let first = p.outbox().pop().unwrap();
    reject_its_collection(&p, &first);
    let failed = p.collections("failed");
    assert_eq!(failed.len(), 1);
    p.ok(&["retry", &failed[0]["id"].to_string(), "--date", "2026-12-22"]);

    p.ok(&["run", "collect", "--date", "2026-12-22"]);
    let text = p.last_file_text();
    assert_eq!(text.matches("<DrctDbtTxInf>").count(), 2, "{text}");
    assert!(!text.contains("<SeqTp>FNAL</SeqTp>"), "{text}");
    p.db.cleanup().await;

    // The other way round: the FNAL went out before the bank rejected the installment before
    // it. That mandate is ended; a retry would be refused by the debtor bank, so collecte
    // refuses it, saying why.
    let p = two_installments_ending_in_fnal(backend).await;
    p.ok(&["run", "collect", "--date", "2026-11-20"]);
    let first = p.outbox().pop().unwrap();
    p.ok(&["run", "collect", "--date", "2026-12-22"]);
    assert!(p.last_file_text().contains("<SeqTp>FNAL</SeqTp>"));
    reject_its_collection(&p, &first);
    let failed = p.collections("failed");
    assert_eq!(failed.len(), 1);
    let out = p.run(&["retry", &failed[0]["id"].to_string(), "--date", "2026-12-22"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("final collection (OOFF or FNAL) went to the bank"),
        "{stderr}"
    );
    assert!(p.collections("pending").iter().all(|c| c["plan_id"] != "TP1"));
    p.db.cleanup().await;
}

/// Every switch of the bank profile reaches the file the collect job writes (not only the
/// writer's own tests): FNAL for a plan's last installment with RCUR-only, B2B, batch booking
/// off, no control sum in the group header, hybrid addresses — in both versions, each file
/// valid against its XSD.
async fn every_profile_switch_reaches_the_file(backend: Backend) {
    let p = Project::new(backend).await;
    p.import(
        "customers",
        &format!(
            "{CUSTOMERS}B1,Bau GmbH,,Hauptstrasse,12,10115,Berlin,DE\nB2,Bureau SARL,,Rue de Rivoli,5,75001,Paris,FR\n"
        ),
    );
    p.import(
        "mandates",
        &format!("{MANDATES}BM1,B1,DE89370400440532013000,,2025-01-01,paper\nBM2,B2,FR1420041010050500013M02606,,2025-01-01,paper\n"),
    );
    p.import(
        "plans",
        &format!("{PLANS}BP1,B1,BM1,10.00,monthly,2026-11-23,1,,\nBP2,B2,BM2,20.00,monthly,2026-11-23,,,\n"),
    );
    p.set_bank(
        "use_frst = false\nuse_fnal = true\nbatch_booking = false\ngroup_ctrl_sum = false\naddress_style = \"hybrid\"\nlocal_instrument = \"B2B\"",
    );
    let header = |text: &str| text.split("</GrpHdr>").next().unwrap().to_owned();
    for (date, version, sequences) in [
        ("2026-11-20", Pain008Version::V08, &["FNAL", "RCUR"][..]),
        ("2026-12-22", Pain008Version::V02, &["RCUR"]),
    ] {
        if version == Pain008Version::V02 {
            p.set_bank("pain_version = \"pain.008.001.02\"");
        }
        p.ok(&["run", "collect", "--date", date]);
        let text = p.last_file_text();
        assert_valid_pain008(text.as_bytes(), version);
        for sequence in sequences {
            assert!(
                text.contains(&format!("<SeqTp>{sequence}</SeqTp>")),
                "{sequence}: {text}"
            );
        }
        assert!(!text.contains("<SeqTp>FRST</SeqTp>"), "{text}");
        assert!(text.contains("<Cd>B2B</Cd>"), "{text}");
        assert!(text.contains("<BtchBookg>false</BtchBookg>"), "{text}");
        assert!(!header(&text).contains("<CtrlSum>"), "{}", header(&text));
        assert!(
            text.contains("<AdrLine>") && text.contains("<TwnNm>Paris</TwnNm>"),
            "{text}"
        );
    }
    p.db.cleanup().await;
}

/// A paused plan's collections wait (held, still pending) and a card plan's never go into a
/// pain.008; the rest of the run goes on.
async fn paused_and_card_plans_stay_out_of_the_file(backend: Backend) {
    let p = Project::new(backend).await;
    p.import(
        "customers",
        &format!("{CUSTOMERS}P1,Paula,,,,,,\nC1,Carl,,,,,,\nK1,Kim,,,,,,\n"),
    );
    p.import(
        "mandates",
        &format!("{MANDATES}PM1,P1,FR1420041010050500013M02606,,2025-01-01,web\nKM1,K1,FR1420041010050500013M02606,,2025-01-01,web\n"),
    );
    p.import(
        "cards",
        "customer_reference,brand,last4,exp_month,exp_year,in_wallet\nC1,visa,4242,12,2028,true\n",
    );
    p.import(
        "plans",
        &format!(
            "{PLANS}PP1,P1,PM1,10.00,monthly,2026-11-23,,,\nCP1,C1,card:4242,20.00,monthly,2026-11-23,,,\n\
             KP1,K1,KM1,30.00,monthly,2026-11-23,,,\n"
        ),
    );
    // Paused after its installments were planned: they wait.
    p.import(
        "plans",
        "plan_id,customer_reference,mandate_id,amount,frequency,start_date,count,day_of_month,description,status\n\
         PP1,P1,PM1,10.00,monthly,2026-11-23,,,,paused\n",
    );
    let report: serde_json::Value =
        serde_json::from_str(&p.ok(&["run", "collect", "--date", "2026-11-20", "--format", "json"])).unwrap();
    assert_eq!(report["total"], "30.00", "{report:#}");
    assert_eq!(report["failed_count"], 0, "{report:#}");
    assert_eq!(report["held"], 1, "{report:#}");
    let text = p.last_file_text();
    assert!(
        text.contains("<MndtId>KM1</MndtId>") && !text.contains("PM1") && !text.contains("20.00"),
        "{text}"
    );
    let submitted = p.collections("submitted");
    assert_eq!(submitted.len(), 1, "{submitted:?}");
    assert_eq!(submitted[0]["mandate_id"], "KM1");
    assert!(
        p.collections("failed").is_empty(),
        "held and card collections are not failures"
    );
    let pending = p.collections("pending");
    for plan in ["PP1", "CP1"] {
        assert!(
            pending
                .iter()
                .any(|c| c["plan_id"] == plan && c["due_date"] == "2026-11-23"),
            "{plan}: {pending:?}"
        );
    }
    p.db.cleanup().await;
}

/// The sequence type belongs to the mandate: a one-off plan alone on its mandate goes OOFF;
/// one sharing its mandate with a monthly plan is part of that mandate's series (FRST, then
/// RCUR). A mandate an OOFF (or FNAL) ended takes no new plan, nor another installment of
/// the plan that ended it: the import says why and changes nothing.
async fn one_off_plans_follow_their_mandate(backend: Backend) {
    let p = Project::new(backend).await;
    p.import("customers", &format!("{CUSTOMERS}O1,Olga,,,,,,\nS1,Sven,,,,,,\n"));
    p.import(
        "mandates",
        &format!(
            "{MANDATES}OM1,O1,FR1420041010050500013M02606,,2025-01-01,web\n\
             SM1,S1,DE89370400440532013000,,2025-01-01,web\n"
        ),
    );
    let plans = format!(
        "{PLANS}OP1,O1,OM1,50.00,once,2026-11-23,1,,\nSP1,S1,SM1,10.00,monthly,2026-11-23,,,\n\
         SQ1,S1,SM1,25.00,once,2026-11-23,1,,\n"
    );
    p.import("plans", &plans);
    p.ok(&["run", "collect", "--date", "2026-11-20"]);
    let submitted = p.collections("submitted");
    let sequence_of = |plan: &str| {
        let row = submitted
            .iter()
            .find(|c| c["plan_id"] == plan)
            .unwrap_or_else(|| panic!("{plan}: {submitted:?}"));
        row["sequence_type"].as_str().unwrap().to_owned()
    };
    assert_eq!(sequence_of("OP1"), "OOFF", "{submitted:?}");
    assert_eq!(sequence_of("SP1"), "FRST", "{submitted:?}");
    assert_eq!(
        sequence_of("SQ1"),
        "RCUR",
        "a one-off on a recurrent mandate: {submitted:?}"
    );

    // OM1 is spent: a new plan on it is refused, with the reason; the same file again is not.
    p.import("plans", &plans);
    let refused = |name: &str, rows: &str, reason: &str| {
        let csv = p.write(name, &format!("{PLANS}{rows}"));
        let out = p.run(&["import", "plans", &csv, "--date", "2026-11-20"]);
        let said = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{said}");
        assert!(said.contains(reason), "{said}");
    };
    refused(
        "more.csv",
        "OP2,O1,OM1,50.00,monthly,2026-12-23,,,\n",
        "mandate OM1 was ended by a collection of plan OP1 sent as its one-off (OOFF)",
    );
    // Nor does OP1 itself get more installments on it: stated again as monthly and
    // open-ended, or with three installments, it is refused.
    for (frequency, count) in [("monthly", ""), ("once", "3")] {
        refused(
            "again.csv",
            &format!("OP1,O1,OM1,50.00,{frequency},2026-11-23,{count},,\n"),
            "went to the bank as its final collection (OOFF or FNAL), which ended its mandate",
        );
    }
    assert_eq!(p.list_collections(&["--customer", "O1"]).len(), 1);
    p.db.cleanup().await;
}

/// A dry run tells what the run will do — counts and totals per collection date and
/// sequence type, and what would fail and why — records nothing, and the real run then does
/// exactly that.
async fn a_dry_run_foretells_the_run(backend: Backend) {
    let p = Project::new(backend).await;
    p.import_demo_book();
    let run = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec!["run", "collect", "--date", "2026-12-08", "--format", "json"];
        args.extend_from_slice(extra);
        serde_json::from_str(&p.ok(&args)).unwrap()
    };
    let pending_before = p.collections("pending").len();
    let dry = run(&["--dry-run"]);
    assert_eq!(
        dry["groups"],
        serde_json::json!([
            {"collection_date": "2026-12-09", "sequence_type": "FRST", "count": 5, "total": "666.40"},
            {"collection_date": "2026-12-09", "sequence_type": "RCUR", "count": 4, "total": "112.50"},
        ]),
        "{dry:#}"
    );
    assert_eq!(dry["total"], "778.90");
    assert_eq!(dry["failed_count"], 2, "{dry:#}");
    assert!(
        dry["failed"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f[1].as_str().unwrap().contains("catch-up window")),
        "{dry:#}"
    );
    let table = p.ok(&["run", "collect", "--date", "2026-12-08", "--dry-run"]);
    assert!(
        table.contains("would collect 9 collection(s), 778.90 EUR")
            && table.contains("2026-12-09 RCUR        4 x            112.50 EUR"),
        "{table}"
    );
    assert!(p.outbox().is_empty());
    assert!(p.collections("failed").is_empty() && p.collections("submitted").is_empty());
    assert_eq!(
        p.collections("pending").len(),
        pending_before,
        "a dry run writes nothing"
    );

    let done = run(&[]);
    assert_eq!(done["groups"], dry["groups"]);
    assert_eq!(done["failed"], dry["failed"]);
    assert_eq!(p.collections("submitted").len(), 9);
    assert_eq!(p.collections("failed").len(), 2);

    // Months ahead, past the horizon the import materialised (60 days): the dry run sees the
    // installments due then, as the run will, and leaves them unwritten.
    let pending = p.collections("pending").len();
    let ahead = p.ok(&["run", "collect", "--date", "2027-04-22", "--dry-run"]);
    assert_eq!(p.collections("pending").len(), pending, "a dry run writes nothing");
    let run = p.ok(&["run", "collect", "--date", "2027-04-22"]);
    let count = |text: &str, verb: &str| -> u64 {
        let at = text.find(verb).unwrap_or_else(|| panic!("{verb}: {text}")) + verb.len();
        text[at..].split_whitespace().next().unwrap().parse().unwrap()
    };
    assert!(count(&ahead, "would collect ") > 0, "{ahead}");
    assert_eq!(
        count(&ahead, "would collect "),
        count(&run, "collected "),
        "{ahead}\n{run}"
    );

    // A run for a day long past asks for a date a file sent today cannot reach: it says so.
    let past = p.run(&["run", "collect", "--date", "2020-01-06", "--dry-run"]);
    let said = String::from_utf8_lossy(&past.stderr);
    assert!(past.status.success(), "{said}");
    assert!(
        said.contains("collect for 2020-01-06 runs on")
            && said.contains("ask for collection on 2020-01-07, which a file sent today can no longer reach"),
        "{said}"
    );
    p.db.cleanup().await;
}

/// A ledger restored from a backup taken before a collect run has no record of the files
/// that run left in the outbox, and its collections are pending again: collecting from it
/// would present them to the bank twice. It refuses (exit 5, dry runs too), names the files
/// and changes nothing; once the files are out of the outbox (the bank never got them), it
/// collects each collection once.
async fn a_ledger_behind_its_outbox_refuses_to_collect(backend: Backend) {
    let p = Project::new(backend).await;
    p.set_bank("max_transactions_per_file = 4");
    seed_monthly_plans(&p, 10);
    p.db.backup().await;
    p.ok(&["run", "collect", "--date", "2026-11-20"]);
    let written = p.outbox();
    assert_eq!(written.len(), 3, "{written:?}");
    let contents: Vec<Vec<u8>> = written.iter().map(|f| std::fs::read(f).unwrap()).collect();

    p.db.restore().await;
    for args in [
        &["run", "collect", "--date", "2026-11-20"][..],
        &["run", "collect", "--date", "2026-11-20", "--dry-run"],
        &["run", "collect", "--date", "2026-11-23"],
    ] {
        let refused = p.run(args);
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert_eq!(refused.status.code(), Some(5), "{args:?}: {stderr}");
        assert!(
            stderr.contains("3 file(s) of this ledger that the ledger has no record of")
                && stderr.contains("restored from a backup")
                && written
                    .iter()
                    .all(|f| stderr.contains(f.file_name().unwrap().to_str().unwrap())),
            "{stderr}"
        );
    }
    assert_eq!(p.outbox(), written);
    let now: Vec<Vec<u8>> = written.iter().map(|f| std::fs::read(f).unwrap()).collect();
    assert!(now == contents, "the outbox files were changed");
    assert!(p.collections("submitted").is_empty());

    // The bank never received them: moved out of the outbox, the restored ledger collects
    // each collection once (under the same names, which the bank never saw).
    let aside = p.folder("aside");
    std::fs::create_dir(&aside).unwrap();
    for f in &written {
        std::fs::rename(f, aside.join(f.file_name().unwrap())).unwrap();
    }
    let out = p.ok(&["run", "collect", "--date", "2026-11-20"]);
    assert!(out.contains("collected 10"), "{out}");
    let seen = outbox_end_to_end_ids(&p);
    assert_eq!(seen.len(), 10);
    assert!(seen.values().all(|n| *n == 1), "{seen:?}");
    p.db.cleanup().await;
}

/// A run that placed its files and stopped before the ledger recorded them, the files then
/// taken from the outbox by the bank's transfer: a dry run says so, and the next run records
/// them as sent and writes nothing (writing them again would present
/// their collections twice) — unless the outbox configured now is not the folder they were
/// reserved in. A file whose temporary is still there is written instead (the
/// stopped runs of `assign_like_a_stopped_run`), and so is one an earlier version assigned.
async fn a_file_taken_before_the_ledger_recorded_it_is_not_written_again(backend: Backend) {
    let p = Project::new(backend).await;
    p.set_bank("max_transactions_per_file = 4");
    seed_monthly_plans(&p, 6);
    p.ok(&["run", "collect", "--date", "2026-11-20"]);
    let written = p.outbox();
    assert_eq!(written.len(), 2, "{written:?}");
    common::raw_exec(
        &p.db.url,
        "UPDATE collection_files SET state = 'writing', sha256 = NULL, written_at = NULL",
    )
    .await
    .unwrap();
    let bank = p.folder("bank");
    std::fs::create_dir(&bank).unwrap();
    for f in &written {
        std::fs::rename(f, bank.join(f.file_name().unwrap())).unwrap();
    }

    // In the folder they were reserved in, neither name means the bank's transfer took them.
    let dry = p.ok(&["run", "collect", "--date", "2026-11-20", "--dry-run"]);
    assert_eq!(dry.matches("would record as sent").count(), 2, "{dry}");

    // Another folder is not the outbox until a person adopts it (exit 5, its dry run too,
    // nothing written there) — whether `folders.outbox` was pointed elsewhere or another
    // folder stands at the same path (a share that failed to mount, a folder made anew): the
    // folder is known by its marker. Adopted, finding neither name there says nothing about
    // files reserved in the other: the run refuses again, naming both folders, and records
    // nothing.
    let outbox = p.folder("outbox");
    let canonical = |dir: &std::path::Path| std::fs::canonicalize(dir).unwrap().display().to_string();
    let marker_of = |dir: &std::path::Path| std::fs::read_to_string(dir.join(common::OUTBOX_MARKER)).unwrap();
    let marker = marker_of(&outbox);
    let refused = |now: &std::path::Path, known: &std::path::Path, known_id: &str| {
        let date = ["run", "collect", "--date", "2026-11-20"];
        let refusal = |args: &[&str]| {
            let out = p.run(args);
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            assert_eq!(out.status.code(), Some(5), "{args:?}: {stderr}");
            assert!(stderr.contains("nothing"), "{stderr}");
            stderr
        };
        for args in [[&date[..], &["--dry-run"]].concat(), date.to_vec()] {
            let stderr = refusal(&args);
            assert!(
                stderr.contains(&format!(
                    "folders.outbox, {} (no marker), is not the folder this ledger's files go to, {} (marked {known_id})",
                    canonical(now),
                    canonical(known)
                )),
                "{stderr}"
            );
        }
        assert!(
            std::fs::read_dir(now).unwrap().next().is_none(),
            "nothing written to {now:?}"
        );
        let mut adopted = None;
        for args in [
            [&date[..], &["--adopt-outbox"]].concat(),
            [&date[..], &["--dry-run"]].concat(),
        ] {
            let stderr = refusal(&args);
            let id = adopted.get_or_insert_with(|| marker_of(now));
            assert!(
                stderr.contains("2 file(s) assigned by runs that stopped before finishing them")
                    && stderr.contains(&format!("than folders.outbox, {} (marked {id})", canonical(now)))
                    && stderr
                        .matches(&format!("(reserved in {}, marked {marker})", canonical(&outbox)))
                        .count()
                        == 2,
                "{args:?}: {stderr}"
            );
        }
        let left: Vec<_> = std::fs::read_dir(now)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            left,
            [common::OUTBOX_MARKER],
            "only the adopted folder's marker in {now:?}"
        );
        adopted.unwrap()
    };
    let elsewhere = p.folder("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    p.set_table("folders", "outbox = \"elsewhere\"");
    let adopted = refused(&elsewhere, &outbox, &marker);
    p.set_table("folders", "outbox = \"outbox\"");
    let share = p.folder("share");
    std::fs::rename(&outbox, &share).unwrap();
    std::fs::create_dir(&outbox).unwrap();
    let adopted = refused(&outbox, &elsewhere, &adopted);
    std::fs::remove_dir_all(&outbox).unwrap();
    std::fs::rename(&share, &outbox).unwrap();

    // The share back, it is adopted again (the folder adopted last is now the one refused),
    // and the files are recorded as sent, not written again.
    let dry = p.run(&["run", "collect", "--date", "2026-11-20", "--dry-run"]);
    let stderr = String::from_utf8_lossy(&dry.stderr);
    assert_eq!(dry.status.code(), Some(5), "{stderr}");
    assert!(
        stderr.contains(&format!("(marked {marker}), is not the folder")) && stderr.contains(&adopted),
        "{stderr}"
    );
    let out = p.ok(&["run", "collect", "--date", "2026-11-20", "--adopt-outbox"]);
    assert_eq!(out.matches("recorded as sent").count(), 2, "{out}");
    assert!(out.contains("not written again"), "{out}");
    assert!(p.outbox().is_empty(), "{:?}", p.outbox());
    assert_eq!(p.collections("submitted").len(), 6);
    let again = p.ok(&["run", "collect", "--date", "2026-11-20"]);
    assert!(again.contains("nothing new"), "{again}");
    assert!(p.outbox().is_empty());

    // A file an earlier version assigned (no temporary reserved before its commit) with
    // neither name in the outbox may never have been written: it is written, not assumed
    // sent. An earlier version's temporary left beside it counts for nothing and goes.
    let p = Project::new(backend).await;
    seed_monthly_plans(&p, 3);
    let legacy = assign_like_a_stopped_run(&p, &["KM0", "KM1"]).await;
    common::raw_exec(&p.db.url, "UPDATE collection_files SET reserved_in_outbox = FALSE")
        .await
        .unwrap();
    let outbox = p.folder("outbox");
    std::fs::remove_file(outbox.join(format!(".{}.tmp", legacy.file_name))).unwrap();
    std::fs::write(outbox.join(format!(".{}.oldhost.4242.tmp", legacy.file_name)), "half").unwrap();
    let dry = p.ok(&["run", "collect", "--date", "2026-11-20", "--dry-run"]);
    assert!(
        dry.contains("would finish") && !dry.contains("would record as sent"),
        "{dry}"
    );
    let out = p.ok(&["run", "collect", "--date", "2026-11-20"]);
    assert!(out.contains("finished after an interrupted run"), "{out}");
    assert_eq!(end_to_end_ids(&outbox.join(&legacy.file_name)).len(), 2);
    assert_eq!(outbox_end_to_end_ids(&p).len(), 3);
    let left: Vec<_> = std::fs::read_dir(&outbox)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    p.db.cleanup().await;
}

/// A stopped run's file reserved in one outbox is finished in the outbox configured now (once
/// a person has adopted it) when its temporary is there: moved across by a person, or put
/// there empty as the refusal says when the bank never received it (the file is written anew
/// from the ledger). When the bank did, a person says so (`--sent`) and the file is recorded
/// as sent.
async fn a_stopped_runs_file_is_finished_where_its_temporary_is(backend: Backend) {
    let p = Project::new(backend).await;
    seed_monthly_plans(&p, 2);
    let stopped = assign_like_a_stopped_run(&p, &["KM0"]).await;
    let outbox = p.folder("outbox");
    let reserved = std::fs::canonicalize(&outbox).unwrap().display().to_string();
    reserved_in_a_folder_gone(&p, &reserved).await;
    let elsewhere = p.folder("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let temporary = format!(".{}.tmp", stopped.file_name);
    std::fs::remove_file(outbox.join(&temporary)).unwrap();
    p.set_table("folders", "outbox = \"elsewhere\"");
    let refusal = |args: &[&str], says: &str| {
        let refused = p.run(args);
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert_eq!(refused.status.code(), Some(5), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    };
    refusal(&["run", "collect", "--date", "2026-11-20"], "--adopt-outbox");
    refusal(
        &["run", "collect", "--date", "2026-11-20", "--adopt-outbox"],
        &format!("{} (reserved in {reserved}, marked a-folder-gone)", stopped.file_name),
    );
    refusal(
        &["run", "collect", "--date", "2026-11-20"],
        "put an empty .NAME.tmp into",
    );

    std::fs::write(elsewhere.join(&temporary), "").unwrap();
    let out = p.ok(&["run", "collect", "--date", "2026-11-20"]);
    assert!(out.contains("finished after an interrupted run"), "{out}");
    let finished = elsewhere.join(&stopped.file_name);
    common::assert_valid_pain008_file(&finished);
    assert_eq!(end_to_end_ids(&finished).len(), 1);
    assert!(!outbox.join(&stopped.file_name).exists());
    // KM1's collection went into the day's own file, there too.
    let seen: usize = std::fs::read_dir(&elsewhere)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|f| f.extension().is_some_and(|x| x == "xml"))
        .map(|f| end_to_end_ids(&f).len())
        .sum();
    assert_eq!(seen, 2);
    for f in std::fs::read_dir(&elsewhere).unwrap() {
        let f = f.unwrap().path();
        if f.extension().is_some_and(|x| x == "xml") {
            std::fs::rename(&f, outbox.join(f.file_name().unwrap())).unwrap();
        }
    }
    p.db.cleanup().await;

    // The bank did receive it, from a folder that is gone: the outbox takes that folder's
    // place (its marker), and the file is recorded as sent, not written again.
    let p = Project::new(backend).await;
    seed_monthly_plans(&p, 1);
    let stopped = assign_like_a_stopped_run(&p, &["KM0"]).await;
    reserved_in_a_folder_gone(&p, "/mnt/gone").await;
    let outbox = p.folder("outbox");
    std::fs::remove_file(outbox.join(format!(".{}.tmp", stopped.file_name))).unwrap();
    let refused = p.run(&["run", "collect", "--date", "2026-11-20"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(5), "{stderr}");
    assert!(
        stderr.contains("is not the folder this ledger's files go to, /mnt/gone"),
        "{stderr}"
    );
    let sent = [
        "run",
        "collect",
        "--date",
        "2026-11-20",
        "--sent",
        &stopped.file_name,
        "--adopt-outbox",
    ];
    for (args, code) in [
        (
            &["run", "collect", "--date", "2026-11-20", "--sent", "CLT-NOSUCH.xml"][..],
            3,
        ),
        (&[&sent[..], &["--dry-run"]].concat()[..], 2),
        // Not recorded as reserved in a folder that is not the outbox.
        (&sent[..6], 5),
    ] {
        let out = p.run(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(
        !outbox.join(common::OUTBOX_MARKER).exists(),
        "nothing marked or recorded before the folder is adopted"
    );
    let out = p.ok(&sent);
    assert!(out.contains("recorded as sent"), "{out}");
    assert!(p.outbox().is_empty(), "{:?}", p.outbox());
    assert_eq!(p.collections("submitted").len(), 1);
    p.db.cleanup().await;
}

/// A share that failed to mount leaves its empty mount point at folders.outbox: files written
/// there would never reach the bank while the ledger records them as sent. The run refuses
/// (exit 5, its dry run too), writes nothing there, not even a marker, and goes on once the
/// share is back. A folder made the outbox on purpose is adopted once (`--adopt-outbox`),
/// and from then on the old folder is the one refused; moved elsewhere with its marker, it
/// is still the outbox.
async fn a_folder_that_is_not_the_ledgers_outbox_is_not_written_to(backend: Backend) {
    let p = Project::new(backend).await;
    seed_monthly_plans(&p, 3);
    let outbox = p.folder("outbox");
    p.ok(&["run", "collect", "--date", "2026-11-20", "--dry-run"]);
    assert!(!outbox.join(common::OUTBOX_MARKER).exists(), "a dry run marks nothing");
    p.ok(&["run", "collect", "--date", "2026-11-20"]);
    let canonical = std::fs::canonicalize(&outbox).unwrap().display().to_string();
    let marker_of = |dir: &std::path::Path| std::fs::read_to_string(dir.join(common::OUTBOX_MARKER)).unwrap();
    let first = marker_of(&outbox);
    let refused = |date: &str, found: &str, known: &str| {
        for args in [
            &["run", "collect", "--date", date, "--dry-run"][..],
            &["run", "collect", "--date", date][..],
        ] {
            let out = p.run(args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(5), "{args:?}: {stderr}");
            assert!(
                stderr.contains(&format!(
                    "folders.outbox, {canonical} ({found}), is not the folder this ledger's files go to, \
                     {canonical} (marked {known})"
                )) && stderr.contains("nothing more was collected")
                    && stderr.contains("`collecte run collect --adopt-outbox`"),
                "{args:?}: {stderr}"
            );
        }
    };
    let share = p.folder("share");
    std::fs::rename(&outbox, &share).unwrap();
    std::fs::create_dir(&outbox).unwrap();
    refused("2026-12-22", "no marker", &first);
    assert!(
        std::fs::read_dir(&outbox).unwrap().next().is_none(),
        "nothing written to the mount point"
    );
    assert_eq!(p.collections("submitted").len(), 3);
    let dry_adopt = p.run(&["run", "collect", "--date", "2026-12-22", "--dry-run", "--adopt-outbox"]);
    assert_eq!(dry_adopt.status.code(), Some(2), "a dry run adopts nothing");

    std::fs::remove_dir(&outbox).unwrap();
    std::fs::rename(&share, &outbox).unwrap();
    p.ok(&["run", "collect", "--date", "2026-12-22"]);
    assert_eq!(p.collections("submitted").len(), 6);
    assert_eq!(p.outbox().len(), 2);

    std::fs::rename(&outbox, &share).unwrap();
    std::fs::create_dir(&outbox).unwrap();
    p.ok(&["run", "collect", "--date", "2027-01-22", "--adopt-outbox"]);
    let adopted = marker_of(&outbox);
    assert_ne!(adopted, first);
    assert_eq!(p.collections("submitted").len(), 9);
    let files = p.outbox();
    assert_eq!(files.len(), 1, "{files:?}");
    common::assert_valid_pain008_file(&files[0]);
    let moved = p.folder("moved");
    std::fs::rename(&outbox, &moved).unwrap();
    std::fs::rename(&share, &outbox).unwrap();
    refused("2027-02-22", &format!("marked {first}"), &adopted);
    assert_eq!(p.collections("submitted").len(), 9);

    // The adopted folder moved, its marker with it, is still the outbox: no adoption needed.
    p.set_table("folders", "outbox = \"moved\"");
    p.ok(&["run", "collect", "--date", "2027-02-22"]);
    assert_eq!(p.collections("submitted").len(), 12);
    assert_eq!(marker_of(&moved), adopted);
    let xml = std::fs::read_dir(&moved)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "xml"))
        .count();
    assert_eq!(xml, 2);
    // Its new path is what the ledger knows now.
    std::fs::rename(&moved, p.folder("moved-again")).unwrap();
    std::fs::create_dir(&moved).unwrap();
    let out = p.run(&["run", "collect", "--date", "2027-02-22", "--dry-run"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let moved = std::fs::canonicalize(&moved).unwrap().display().to_string();
    assert!(
        stderr.contains(&format!(
            "folders.outbox, {moved} (no marker), is not the folder this ledger's files go to, {moved} (marked {adopted})"
        )),
        "{stderr}"
    );
    p.db.cleanup().await;
}

/// What a stopped run left when the outbox it reserved its files in (and that the ledger
/// records as its creditor's, `path`) is gone: the files' rows and the creditor's outbox name
/// a folder marked `a-folder-gone` that no longer exists.
async fn reserved_in_a_folder_gone(p: &Project, path: &str) {
    for sql in [
        format!("UPDATE collection_files SET reserved_folder = '{path}', reserved_folder_id = 'a-folder-gone'"),
        format!(
            "INSERT INTO creditor_outboxes (creditor_id, path, marker_id, recorded_at)
             VALUES (1, '{path}', 'a-folder-gone', '2026-11-20T09:00:00Z')"
        ),
    ] {
        common::raw_exec(&p.db.url, &sql).await.unwrap();
    }
}

/// At a terminal (a pseudo-terminal from `script`), collect draws its progress bar on
/// stderr; piped, the same run prints its report and nothing else.
#[tokio::test]
async fn a_terminal_gets_a_progress_bar_and_a_pipe_does_not() {
    let p = Project::new(Backend::Sqlite).await;
    seed_monthly_plans(&p, 2000);
    let piped = p.run(&["run", "collect", "--date", "2026-11-20", "--dry-run"]);
    assert!(piped.status.success());
    let stderr = String::from_utf8_lossy(&piped.stderr);
    assert!(
        !stderr.contains("collections checked") && !stderr.contains('\u{1b}'),
        "{stderr}"
    );

    let binary = env!("CARGO_BIN_EXE_collecte");
    let terminal = std::process::Command::new("script")
        .args([
            "-qec",
            &format!("'{binary}' run collect --date 2026-11-20"),
            "/dev/null",
        ])
        .current_dir(p.dir.path())
        .env("DATABASE_URL", p.db.env_url())
        .env_remove("COLLECTE_CONFIG")
        .env_remove("RUST_LOG")
        .output()
        .expect("script (util-linux) runs a command in a pseudo-terminal");
    let screen = String::from_utf8_lossy(&terminal.stdout);
    assert!(terminal.status.success(), "{screen}");
    assert!(
        screen.contains("collect: ") && screen.contains("collections in files"),
        "{screen}"
    );
    assert!(screen.contains("collected 2000 collection(s)"), "{screen}");
    p.db.cleanup().await;
}

on_both_backends!(
    one_off_plans_follow_their_mandate,
    collects_valid_files_exactly_once,
    amendments_and_refusals,
    a_mandate_split_across_files_is_first_and_amended_once,
    sigkill_at_any_point_never_collects_twice,
    sigkill_inside_a_file_of_several_chunks_never_collects_twice,
    concurrent_runs_collect_once,
    a_full_outbox_disk_fails_the_run_and_the_next_finishes_the_file,
    a_person_retries_or_ignores_a_failed_collection,
    refusals_do_not_split_files_early,
    a_stopped_runs_file_keeps_the_account_it_was_assigned,
    a_stopped_runs_file_is_finished_where_its_temporary_is,
    a_folder_that_is_not_the_ledgers_outbox_is_not_written_to,
    a_stopped_runs_file_that_can_no_longer_be_written_says_why,
    a_run_waits_for_the_lock_then_gives_up,
    a_ledger_behind_its_outbox_refuses_to_collect,
    a_file_taken_before_the_ledger_recorded_it_is_not_written_again,
    a_stopped_runs_file_finished_late_asks_for_a_reachable_date,
    no_final_collection_while_a_retry_of_the_plan_is_pending,
    revoked_and_lapsed_mandates_are_not_collected,
    a_change_undone_before_the_next_collection_announces_nothing,
    a_dry_run_foretells_the_run,
    every_profile_switch_reaches_the_file,
    paused_and_card_plans_stay_out_of_the_file
);

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// Any mix of collectable, refused (revoked mandate) and held (paused plan) collections
    /// and any file size: each collectable one is in exactly one file, no file is over the
    /// maximum, and every file but the last is full.
    #[test]
    fn files_split_only_at_the_maximum(kinds in proptest::collection::vec(0u8..3, 1..40), max in 1usize..8) {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let p = Project::new(Backend::Sqlite).await;
            p.set_bank(&format!("max_transactions_per_file = {max}"));
            seed_monthly_plans(&p, kinds.len());
            let (mut revoked, mut paused) = (String::new(), String::new());
            for (i, kind) in kinds.iter().enumerate() {
                match kind {
                    1 => revoked.push_str(&format!("KM{i},K{i},FR1420041010050500013M02606,,2026-01-01,web,revoked\n")),
                    2 => paused.push_str(&format!(
                        "KP{i},K{i},KM{i},{}.{:02},monthly,2026-11-23,,,Plan {i},paused\n",
                        1 + i % 90,
                        i % 100
                    )),
                    _ => {}
                }
            }
            if !revoked.is_empty() {
                p.import("mandates", &format!("mandate_id,customer_reference,iban,bic,signed_on,channel,status\n{revoked}"));
            }
            if !paused.is_empty() {
                p.import("plans", &format!("{}{paused}", PLANS.trim_end().to_owned() + ",status\n"));
            }
            p.ok(&["run", "collect", "--date", "2026-11-20"]);
            let sizes: Vec<usize> = p.outbox().iter().map(|f| end_to_end_ids(f).len()).collect();
            let collectable = kinds.iter().filter(|k| **k == 0).count();
            assert_eq!(sizes.iter().sum::<usize>(), collectable, "{kinds:?} {max}: {sizes:?}");
            assert!(sizes.iter().all(|n| *n <= max), "{kinds:?} {max}: {sizes:?}");
            if let Some((_, full)) = sizes.split_last() {
                assert!(full.iter().all(|n| *n == max), "{kinds:?} {max}: {sizes:?}");
            }
            assert!(outbox_end_to_end_ids(&p).values().all(|n| *n == 1));
            assert_eq!(p.collections("failed").len(), kinds.iter().filter(|k| **k == 1).count());
            p.db.cleanup().await;
        });
    }
}
