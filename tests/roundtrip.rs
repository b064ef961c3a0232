//! The whole loop on both backends: collect a day, play the bank on the very file in the
//! outbox (a pain.002 with a reject and a refusal, a camt.054 with a batch settlement, a
//! return and a refund), ingest the replies, and check every collection's final state — then
//! that a FRST rejected before settling is presented as FRST again.

mod common;

use std::collections::HashMap;

use collecte::sepa::EndToEndId;
use collecte::sepa::bank::{Camt054Version, Decisions, Pain002Version, ReasonCode, RefundReason};
use common::{Backend, Project};

fn d(s: &str) -> chrono::NaiveDate {
    s.parse().unwrap()
}

async fn collect_reply_ingest(backend: Backend) {
    let p = Project::new(backend).await;
    p.import_demo_book();
    p.ok(&["run", "collect", "--date", "2026-12-09"]);
    let files = p.outbox();
    assert_eq!(files.len(), 1);
    let submitted = p.collections("submitted");
    assert!(submitted.len() >= 6, "{submitted:?}");
    let by_mandate: HashMap<String, &serde_json::Value> = submitted
        .iter()
        .map(|c| (c["mandate_id"].as_str().unwrap().to_owned(), c))
        .collect();
    let e2e = |mandate: &str| by_mandate[mandate]["end_to_end_id"].as_str().unwrap().to_owned();
    let (rejected, refused, returned, refunded) = (e2e("MDT-1001"), e2e("MDT-1004"), e2e("MDT-1005"), e2e("MDT-1007"));
    assert_eq!(by_mandate["MDT-1001"]["sequence_type"], "FRST");

    // Play the bank on our own file.
    let id = |s: &str| EndToEndId::parse(s).unwrap();
    let decisions = Decisions::accept_all()
        .reject(id(&rejected), ReasonCode::AM04)
        .reject(id(&refused), ReasonCode::MS02)
        .return_after_settlement(id(&returned), ReasonCode::AC04, d("2026-12-14"))
        .refund(id(&refunded), RefundReason::Md06, d("2026-12-21"));
    let (pain002, camt054) =
        common::drop_bank_replies(&p, &files[0], &decisions, (Pain002Version::V10, Camt054Version::V08));
    common::assert_valid_xml(&pain002, "pain.002.001.10");
    common::assert_valid_xml(&camt054, "camt.054.001.08");

    let (code, report) = p.ingest_json();
    assert_eq!(code, 0, "{report}");
    assert!(
        report["files"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["outcome"] == "processed"),
        "{report}"
    );
    assert_eq!(p.unmatched(), 0, "every fact is ours");

    let all: Vec<serde_json::Value> = ["settled", "failed"].iter().flat_map(|s| p.collections(s)).collect();
    let state = |e2e: &str| {
        let c = all
            .iter()
            .find(|c| c["end_to_end_id"] == e2e)
            .unwrap_or_else(|| panic!("{e2e} not settled or failed"));
        (
            c["status"].as_str().unwrap().to_owned(),
            c["reason"].as_str().unwrap_or_default().to_owned(),
        )
    };
    for (e2e, reason) in [
        (&rejected, "AM04"),
        (&refused, "MS02"),
        (&returned, "AC04"),
        (&refunded, "MD06"),
    ] {
        let (status, why) = state(e2e);
        assert_eq!(status, "failed", "{e2e}");
        assert!(why.contains(reason), "{e2e}: {why}");
    }
    let (_, why) = state(&refused);
    assert!(why.starts_with("refusal"), "{why}");
    let (_, why) = state(&refunded);
    assert!(why.starts_with("refund"), "{why}");
    let others: Vec<&serde_json::Value> = submitted
        .iter()
        .filter(|c| {
            ![&rejected, &refused, &returned, &refunded].contains(&&c["end_to_end_id"].as_str().unwrap().to_owned())
        })
        .collect();
    assert!(!others.is_empty());
    for c in &others {
        let (status, _) = state(c["end_to_end_id"].as_str().unwrap());
        assert_eq!(status, "settled", "{c}");
    }
    assert!(
        p.collections("submitted").is_empty(),
        "every submitted collection got its answer"
    );

    // The timeline names the bank files.
    let settled_id = others[0]["id"].to_string();
    let show = p.ok(&["show", &settled_id]);
    assert!(show.contains("settled") && show.contains("notification.xml"), "{show}");
    let returned_id = all.iter().find(|c| c["end_to_end_id"] == returned.as_str()).unwrap()["id"].to_string();
    let show = p.ok(&["show", &returned_id]);
    assert!(
        show.contains("settled") && show.contains("returned") && show.contains("AC04"),
        "{show}"
    );

    // The same replies dropped again book nothing.
    std::fs::write(p.folder("inbox").join("status-again.xml"), &pain002).unwrap();
    let (_, again) = p.ingest_json();
    assert_eq!(again["files"][0]["outcome"], "duplicate");

    // The rejected FRST was never presented: the mandate's next installment is FRST again.
    p.ok(&["run", "collect", "--date", "2027-01-04"]);
    let next = p.collections("submitted");
    let next_1001 = next
        .iter()
        .find(|c| c["mandate_id"] == "MDT-1001")
        .expect("MDT-1001 collected again");
    assert_eq!(next_1001["sequence_type"], "FRST", "{next_1001}");
    let next_1002 = next.iter().find(|c| c["mandate_id"] == "MDT-1003");
    if let Some(c) = next_1002 {
        assert_eq!(c["sequence_type"], "RCUR", "a settled FRST is followed by RCUR: {c}");
    }
    p.db.cleanup().await;
}

/// A project with one customer, mandate (AM1) and open-ended monthly plan due from Monday
/// 23 Nov 2026.
async fn one_monthly_plan(backend: Backend) -> Project {
    let p = Project::new(backend).await;
    p.import(
        "customers",
        "reference,name,email,street,building,postcode,town,country\nA1,Anna,,Hauptstr.,1,10115,Berlin,DE\n",
    );
    p.import(
        "mandates",
        "mandate_id,customer_reference,iban,bic,signed_on,channel\nAM1,A1,DE89370400440532013000,,2025-01-01,web\n",
    );
    p.import(
        "plans",
        "plan_id,customer_reference,mandate_id,amount,frequency,start_date,count,day_of_month,description\nAP1,A1,AM1,10.00,monthly,2026-11-23,,,\n",
    );
    p
}

/// The bank's replies to `file`, ingested.
fn replies(p: &Project, file: &std::path::Path, decisions: &Decisions) {
    common::drop_bank_replies(p, file, decisions, (Pain002Version::V10, Camt054Version::V08));
    let (code, report) = p.ingest_json();
    assert_eq!(code, 0, "{report}");
}

/// Whether `file` announces the creditor's former identifier.
fn announces_old_id(file: &std::path::Path) -> bool {
    std::fs::read_to_string(file)
        .unwrap()
        .split_whitespace()
        .collect::<String>()
        .contains("<OrgnlCdtrSchmeId><Id><PrvtId><Othr><Id>FR72ZZZ123456</Id>")
}

/// Runs collect for `date` and returns the one file it wrote.
fn collect_one(p: &Project, date: &str) -> std::path::PathBuf {
    let before = p.outbox();
    p.ok(&["run", "collect", "--date", date]);
    let mut new: Vec<_> = p.outbox().into_iter().filter(|f| !before.contains(f)).collect();
    assert_eq!(new.len(), 1, "{date}: {new:?}");
    new.remove(0)
}

/// The collection that announced a new creditor identifier is rejected after the mandate's
/// next collection went out without the announcement (the bank's reply came late): the
/// announcement is made again with the collection after, since nothing the bank accepted
/// has told it yet.
async fn a_late_rejected_creditor_id_announcement_is_made_again(backend: Backend) {
    let p = one_monthly_plan(backend).await;
    let first = collect_one(&p, "2026-11-20");
    replies(&p, &first, &Decisions::accept_all());
    p.set_table("creditor", "creditor_id = \"DE98ZZZ09999999999\"");

    let announcing = collect_one(&p, "2026-12-22");
    assert!(announces_old_id(&announcing));
    let plain = collect_one(&p, "2027-01-22");
    assert!(!announces_old_id(&plain), "announced once per presentation run");
    let e2e = common::end_to_end_ids(&announcing).pop().unwrap();
    replies(
        &p,
        &announcing,
        &Decisions::accept_all().reject(EndToEndId::parse(&e2e).unwrap(), ReasonCode::AM04),
    );
    let next = collect_one(&p, "2027-02-22");
    assert!(announces_old_id(&next), "{}", std::fs::read_to_string(&next).unwrap());
    p.db.cleanup().await;
}

/// The creditor identifier and the debtor's bank changed: the next collection announces both
/// (`OrgnlCdtrSchmeId`, `OrgnlDbtrAcct` SMNDA). The bank rejects that collection, so it never
/// learnt of the changes: the mandate's next collection announces them again; once that one
/// is accepted, the one after announces nothing.
async fn rejected_amendments_are_announced_again(backend: Backend) {
    let p = one_monthly_plan(backend).await;
    let replies = |file: &std::path::Path, decisions: &Decisions| replies(&p, file, decisions);
    p.ok(&["run", "collect", "--date", "2026-11-20"]);
    let first = p.outbox().pop().unwrap();
    replies(&first, &Decisions::accept_all());

    p.set_table("creditor", "creditor_id = \"DE98ZZZ09999999999\"");
    p.import(
        "mandates",
        "mandate_id,customer_reference,iban,bic,signed_on,channel\nAM1,A1,FR1420041010050500013M02606,,2025-01-01,web\n",
    );
    p.ok(&["run", "collect", "--date", "2026-12-22"]);
    let second = p.outbox().into_iter().find(|f| *f != first).unwrap();
    let text = std::fs::read_to_string(&second).unwrap();
    assert!(
        text.contains("<OrgnlCdtrSchmeId>") && announces_old_id(&second) && text.contains("SMNDA"),
        "{text}"
    );
    let e2e = common::end_to_end_ids(&second).pop().unwrap();
    replies(
        &second,
        &Decisions::accept_all().reject(EndToEndId::parse(&e2e).unwrap(), ReasonCode::AM04),
    );
    assert_eq!(p.collections("failed").len(), 1);

    p.ok(&["run", "collect", "--date", "2027-01-22"]);
    let third = p.outbox().into_iter().find(|f| *f != first && *f != second).unwrap();
    let text = std::fs::read_to_string(&third).unwrap();
    assert!(
        text.contains("<OrgnlCdtrSchmeId>") && announces_old_id(&third) && text.contains("SMNDA"),
        "announced again: {text}"
    );

    replies(&third, &Decisions::accept_all());
    p.ok(&["run", "collect", "--date", "2027-02-22"]);
    let fourth = p
        .outbox()
        .into_iter()
        .find(|f| ![&first, &second, &third].contains(&f))
        .unwrap();
    let text = std::fs::read_to_string(&fourth).unwrap();
    assert!(
        !text.contains("<AmdmntInd>true</AmdmntInd>"),
        "accepted once, announced once: {text}"
    );
    p.db.cleanup().await;
}

on_both_backends!(
    collect_reply_ingest,
    rejected_amendments_are_announced_again,
    a_late_rejected_creditor_id_announcement_is_made_again
);
