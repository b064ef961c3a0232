//! The ledger on both backends: migrations, imports (all or nothing, idempotent, amendments),
//! plan materialisation and changes, listing, timelines, and the schema's constraints.

mod common;

use std::path::Path;

use chrono::NaiveDate;
use collecte::config::{Config, EXAMPLE_CONFIG, EnvOverrides};
use collecte::import::{ImportKind, parse};
use collecte::store::{
    Assignment, CollectionFilter, CollectionStatus, CreditorKey, FileState, ImportCounts, ImportOutcome, OutboxFolder,
    Store,
};
use common::{Backend, TestDb, raw_exec};
use futures::TryStreamExt;
use sqlx::Connection;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

const TODAY: &str = "2026-11-22";

async fn setup(backend: Backend) -> (TestDb, Store, CreditorKey) {
    let db = TestDb::new(backend).await;
    let store = Store::open(&db.url).await.expect("open store");
    let config = Config::from_toml(
        EXAMPLE_CONFIG,
        &db.dir.path().join("collecte.toml"),
        &EnvOverrides::default(),
    )
    .expect("example config");
    let creditor = store
        .sync_creditor(&config.creditor_snapshot())
        .await
        .expect("creditor");
    (db, store, creditor)
}

async fn import(store: &Store, creditor: CreditorKey, kind: ImportKind, csv: &str) -> ImportOutcome {
    let file = parse(kind, csv.as_bytes(), d(TODAY)).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
    assert!(file.problems.is_empty(), "{kind:?}: {:?}", file.problems);
    store
        .import(creditor, &file.batch, vec![], d(TODAY))
        .await
        .expect("import")
}

fn applied(outcome: ImportOutcome) -> ImportCounts {
    match outcome {
        ImportOutcome::Applied(c) => c,
        ImportOutcome::Refused(p) => panic!("refused: {p:?}"),
    }
}

async fn import_demo(store: &Store, creditor: CreditorKey) {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo");
    for kind in ImportKind::ALL {
        let csv = std::fs::read_to_string(demo.join(format!("{}.csv", kind.name()))).unwrap();
        applied(import(store, creditor, kind, &csv).await);
    }
}

async fn pending(store: &Store, creditor: CreditorKey) -> Vec<collecte::store::CollectionRow> {
    let filter = CollectionFilter {
        status: Some(CollectionStatus::Pending),
        ..Default::default()
    };
    store
        .collections(creditor, &filter)
        .try_collect::<Vec<_>>()
        .await
        .unwrap()
}

async fn migrations_are_idempotent_and_creditor_changes_are_kept(backend: Backend) {
    let (db, store, creditor) = setup(backend).await;
    store.close().await;
    let again = Store::open(&db.url).await.expect("second open runs no migration twice");
    let mut config = Config::from_toml(
        EXAMPLE_CONFIG,
        &db.dir.path().join("collecte.toml"),
        &EnvOverrides::default(),
    )
    .unwrap();
    let same = again.sync_creditor(&config.creditor_snapshot()).await.unwrap();
    assert_eq!(same, creditor);
    config.creditor.creditor_id = collecte::sepa::CreditorId::parse("DE98ZZZ09999999999").unwrap();
    assert_eq!(
        again.sync_creditor(&config.creditor_snapshot()).await.unwrap(),
        creditor
    );
    again.close().await;
    let changes = raw_exec(
        &db.url,
        "UPDATE creditor_scheme_id_changes SET changed_at = changed_at WHERE new_scheme_id = 'DE98ZZZ09999999999'",
    )
    .await
    .unwrap();
    assert_eq!(changes, 1, "the creditor id change is recorded once");
    db.cleanup().await;
}

async fn demo_import_is_idempotent(backend: Backend) {
    let (db, store, creditor) = setup(backend).await;
    import_demo(&store, creditor).await;
    let first = pending(&store, creditor).await;
    assert!(
        first.len() >= 20,
        "demo plans materialise collections, got {}",
        first.len()
    );
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo");
    for kind in ImportKind::ALL {
        let csv = std::fs::read_to_string(demo.join(format!("{}.csv", kind.name()))).unwrap();
        let c = applied(import(&store, creditor, kind, &csv).await);
        assert!(c.is_noop(), "{kind:?} re-import changed something: {c:?}");
        assert!(c.unchanged > 0);
    }
    assert_eq!(pending(&store, creditor).await, first);
    // Money arrives exact: "1 234,56" is 123456 cents.
    assert!(
        first
            .iter()
            .any(|c| c.plan_id == "P-1002" && c.amount.cents() == 123_456)
    );
    store.close().await;
    db.cleanup().await;
}

const CUSTOMERS: &str =
    "reference;name;email;street;building;postcode;town;country\nC1;Ana;ana@example.fr;;;;Lyon;FR\nC2;Bo;;;;;;\n";

async fn one_bad_row_imports_nothing(backend: Backend) {
    let (db, store, creditor) = setup(backend).await;
    applied(import(&store, creditor, ImportKind::Customers, CUSTOMERS).await);
    let mandates = "mandate_id,customer_reference,iban,bic,signed_on,channel\n\
        M1,C1,DE89370400440532013000,,2026-01-01,paper\n\
        M2,NOPE,DE89370400440532013000,,2026-01-01,paper\n\
        M3,C2,FR1420041010050500013M02606,,2026-01-01,web\n";
    match import(&store, creditor, ImportKind::Mandates, mandates).await {
        ImportOutcome::Refused(problems) => {
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert_eq!(problems[0].line, 3);
            assert_eq!(problems[0].column, "customer_reference");
            assert_eq!(problems[0].value, "NOPE");
        }
        ImportOutcome::Applied(c) => panic!("applied {c:?}"),
    }
    // Nothing of the file was kept: importing the good rows now inserts both.
    let good = "mandate_id,customer_reference,iban,bic,signed_on,channel\nM1,C1,DE89370400440532013000,,2026-01-01,paper\nM3,C2,FR1420041010050500013M02606,,2026-01-01,web\n";
    assert_eq!(
        applied(import(&store, creditor, ImportKind::Mandates, good).await).inserted,
        2
    );
    store.close().await;
    db.cleanup().await;
}

async fn mandate_amendments_are_recorded(backend: Backend) {
    let (db, store, creditor) = setup(backend).await;
    applied(import(&store, creditor, ImportKind::Customers, CUSTOMERS).await);
    // A changed customer is updated in place, and a second import of the same file is a no-op.
    let moved = CUSTOMERS.replace(
        "C1;Ana;ana@example.fr;;;;Lyon;FR",
        "C1;Ana Silva;;12 rue Neuve;;69001;Lyon;FR",
    );
    let c = applied(import(&store, creditor, ImportKind::Customers, &moved).await);
    assert_eq!((c.inserted, c.updated, c.unchanged), (0, 1, 1));
    assert!(applied(import(&store, creditor, ImportKind::Customers, &moved).await).is_noop());
    let v1 =
        "mandate_id,customer_reference,iban,bic,signed_on,channel\nM1,C1,DE89370400440532013000,,2026-01-01,paper\n";
    applied(import(&store, creditor, ImportKind::Mandates, v1).await);
    let new_iban = "mandate_id,customer_reference,iban,bic,signed_on,channel\nM1,C1,FR1420041010050500013M02606,,2026-01-01,paper\n";
    let c = applied(import(&store, creditor, ImportKind::Mandates, new_iban).await);
    assert_eq!((c.updated, c.amendments), (1, 1));
    assert!(applied(import(&store, creditor, ImportKind::Mandates, new_iban).await).is_noop());
    let renamed = "mandate_id,customer_reference,iban,bic,signed_on,channel,previous_mandate_id\nM1-NEW,C1,FR1420041010050500013M02606,,2026-01-01,paper,M1\n";
    let c = applied(import(&store, creditor, ImportKind::Mandates, renamed).await);
    assert_eq!(c.amendments, 1);
    store.close().await;
    let n = raw_exec(&db.url, "UPDATE mandate_amendments SET kind = kind")
        .await
        .unwrap();
    assert_eq!(n, 2, "one IBAN and one mandate-id amendment");
    let n = raw_exec(
        &db.url,
        "UPDATE mandates SET status = status WHERE reference = 'M1-NEW'",
    )
    .await
    .unwrap();
    assert_eq!(n, 1, "the mandate was renamed, not duplicated");
    db.cleanup().await;
}

const PLAN_HEADER: &str =
    "plan_id,customer_reference,mandate_id,amount,frequency,start_date,count,day_of_month,description,status\n";

async fn plan_setup(store: &Store, creditor: CreditorKey) {
    applied(import(store, creditor, ImportKind::Customers, CUSTOMERS).await);
    let m =
        "mandate_id,customer_reference,iban,bic,signed_on,channel\nM1,C1,DE89370400440532013000,,2026-01-01,paper\n";
    applied(import(store, creditor, ImportKind::Mandates, m).await);
}

async fn plan_changes_apply_to_future_installments(backend: Backend) {
    let (db, store, creditor) = setup(backend).await;
    plan_setup(&store, creditor).await;
    let v1 = format!("{PLAN_HEADER}P1,C1,M1,10.00,monthly,2026-11-01,6,5,Gym,\n");
    applied(import(&store, creditor, ImportKind::Plans, &v1).await);
    let before = pending(&store, creditor).await;
    let dates: Vec<NaiveDate> = before.iter().map(|c| c.due_date).collect();
    assert_eq!(dates, vec![d("2026-11-05"), d("2026-12-07"), d("2027-01-05")]);
    // Pretend the first installment went out: it must keep its amount.
    raw_exec(
        &db.url,
        &format!("UPDATE collections SET status = 'settled' WHERE id = {}", before[0].id),
    )
    .await
    .unwrap();
    let v2 = format!("{PLAN_HEADER}P1,C1,M1,12.50,monthly,2026-11-01,6,5,Gym,\n");
    let c = applied(import(&store, creditor, ImportKind::Plans, &v2).await);
    assert_eq!(c.updated, 1);
    let after = pending(&store, creditor).await;
    assert_eq!(after.len(), 2);
    assert!(after.iter().all(|c| c.amount.cents() == 1250), "{after:?}");
    let all = store
        .collections(creditor, &CollectionFilter::default())
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    assert_eq!(all.iter().find(|c| c.id == before[0].id).unwrap().amount.cents(), 1000);
    // Lower the count to 2: the third installment disappears.
    let v3 = format!("{PLAN_HEADER}P1,C1,M1,12.50,monthly,2026-11-01,2,5,Gym,\n");
    applied(import(&store, creditor, ImportKind::Plans, &v3).await);
    assert_eq!(pending(&store, creditor).await.len(), 1);
    // A started plan cannot move its start date.
    let moved = format!("{PLAN_HEADER}P1,C1,M1,12.50,monthly,2026-10-01,2,5,Gym,\n");
    match import(&store, creditor, ImportKind::Plans, &moved).await {
        ImportOutcome::Refused(p) => assert_eq!(p[0].column, "start_date"),
        ImportOutcome::Applied(c) => panic!("{c:?}"),
    }
    store.close().await;
    db.cleanup().await;
}

async fn pause_resume_and_cancel(backend: Backend) {
    let (db, store, creditor) = setup(backend).await;
    plan_setup(&store, creditor).await;
    applied(
        import(
            &store,
            creditor,
            ImportKind::Plans,
            &format!("{PLAN_HEADER}P1,C1,M1,10.00,weekly,2026-11-23,,,,\n"),
        )
        .await,
    );
    let n = pending(&store, creditor).await.len();
    assert!(n >= 8, "weekly over 60 days: {n}");
    applied(
        import(
            &store,
            creditor,
            ImportKind::Plans,
            &format!("{PLAN_HEADER}P1,C1,M1,10.00,weekly,2026-11-23,,,,paused\n"),
        )
        .await,
    );
    // Resume three weeks later: the installments due during the pause are skipped.
    let file = parse(
        ImportKind::Plans,
        format!("{PLAN_HEADER}P1,C1,M1,10.00,weekly,2026-11-23,,,,active\n").as_bytes(),
        d(TODAY),
    )
    .unwrap();
    applied(
        store
            .import(creditor, &file.batch, vec![], d("2026-12-14"))
            .await
            .unwrap(),
    );
    let cancelled = store
        .collections(
            creditor,
            &CollectionFilter {
                status: Some(CollectionStatus::Cancelled),
                ..Default::default()
            },
        )
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    let skipped: Vec<NaiveDate> = cancelled.iter().map(|c| c.due_date).collect();
    assert_eq!(skipped, vec![d("2026-11-23"), d("2026-11-30"), d("2026-12-07")]);
    let (_, timeline) = store
        .collection_timeline(creditor, cancelled[0].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(timeline.last().unwrap().kind, "cancelled");
    applied(
        import(
            &store,
            creditor,
            ImportKind::Plans,
            &format!("{PLAN_HEADER}P1,C1,M1,10.00,weekly,2026-11-23,,,,cancelled\n"),
        )
        .await,
    );
    assert!(pending(&store, creditor).await.is_empty());
    match import(
        &store,
        creditor,
        ImportKind::Plans,
        &format!("{PLAN_HEADER}P1,C1,M1,10.00,weekly,2026-11-23,,,,active\n"),
    )
    .await
    {
        ImportOutcome::Refused(p) => assert_eq!(p[0].column, "status"),
        ImportOutcome::Applied(c) => panic!("{c:?}"),
    }
    store.close().await;
    db.cleanup().await;
}

async fn filters_and_timeline(backend: Backend) {
    let (db, store, creditor) = setup(backend).await;
    import_demo(&store, creditor).await;
    let f = CollectionFilter {
        customer: Some("C-1003".into()),
        from: Some(d("2026-12-01")),
        to: Some(d("2026-12-31")),
        ..Default::default()
    };
    let rows = store.collections(creditor, &f).try_collect::<Vec<_>>().await.unwrap();
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|r| r.customer_reference == "C-1003" && r.due_date.to_string().starts_with("2026-12"))
    );
    let (row, events) = store.collection_timeline(creditor, rows[0].id).await.unwrap().unwrap();
    assert_eq!(row, rows[0]);
    assert_eq!(events[0].kind, "created");
    assert!(store.collection_timeline(creditor, 999_999).await.unwrap().is_none());

    // Assigned to a file: submitted, but the timeline says the file is not complete until it
    // is marked written; then the submission is dated by the file.
    let due = store
        .due_collections(creditor, d("2027-12-31"), None, 1)
        .await
        .unwrap()
        .remove(0);
    let tag = store.ledger_tag(creditor).await.unwrap();
    let assignment = Assignment {
        id: due.id,
        mandate_key: due.mandate_key,
        end_to_end_id: format!("E2E-TEST-{}", due.id),
        sequence_type: "FRST",
        requested_date: due.due_date,
        original_mandate_id: None,
        original_scheme_id: None,
        original_debtor_account: Some("SMNDA".into()),
        amount_cents: due.amount_cents,
    };
    let file = store
        .assign_file(
            creditor,
            &tag,
            d(TODAY),
            "pain.008.001.08",
            &[(&assignment, common::presented(&due))],
        )
        .await
        .unwrap()
        .unwrap();
    let (row, events) = store.collection_timeline(creditor, due.id).await.unwrap().unwrap();
    assert_eq!(row.status, CollectionStatus::Submitted);
    assert_eq!(row.end_to_end_id.as_deref(), Some(assignment.end_to_end_id.as_str()));
    let last = events.last().unwrap();
    assert_eq!(
        (last.kind.as_str(), last.file.as_deref()),
        ("assigned", Some(file.file_name.as_str()))
    );
    assert!(last.detail.contains("not complete in the outbox"), "{}", last.detail);
    assert_eq!(
        (row.file.as_deref(), row.file_state),
        (Some(file.file_name.as_str()), Some(FileState::Writing)),
        "the listing tells a file still being written from a complete one"
    );
    assert_eq!((rows[0].file.as_deref(), rows[0].file_state), (None, None));
    assert!(
        store
            .assign_file(
                creditor,
                &tag,
                d(TODAY),
                "pain.008.001.08",
                &[(&assignment, common::presented(&due))]
            )
            .await
            .unwrap()
            .is_err(),
        "a collection in a file is never assigned to another"
    );
    store.mark_written(&file, Some("0".repeat(64).as_str())).await.unwrap();
    let (row, events) = store.collection_timeline(creditor, due.id).await.unwrap().unwrap();
    assert_eq!(row.file_state, Some(FileState::Written));
    let last = events.last().unwrap();
    assert_eq!(last.kind, "submitted");
    assert!(
        last.detail.contains(&file.file_name) && last.detail.contains("as FRST") && last.detail.contains("E2E-TEST-"),
        "{}",
        last.detail
    );
    store.close().await;
    db.cleanup().await;
}

/// A file's assignment fed a chunk at a time, as collect does while it goes on checking:
/// chunks and refusals are one transaction. One chunk naming a collection already in a file
/// keeps nothing — not the earlier chunks, not the refusals, not the file row; committed, the
/// file counts every chunk; a transaction of refusals alone makes no file.
async fn a_file_assigned_in_chunks_is_all_or_nothing(backend: Backend) {
    let (db, store, creditor) = setup(backend).await;
    import_demo(&store, creditor).await;
    let tag = store.ledger_tag(creditor).await.unwrap();
    let due = store.due_collections(creditor, d("2027-12-31"), None, 5).await.unwrap();
    assert_eq!(due.len(), 5);
    let a: Vec<Assignment> = due
        .iter()
        .map(|c| common::frst_assignment(c, format!("E2E-CHUNK-{}", c.id)))
        .collect();
    let item = |i: usize| (&a[i], common::presented(&due[i]));
    let status = |rows: &[collecte::store::CollectionRow], id: i64| rows.iter().find(|r| r.id == id).map(|r| r.status);
    let everything = CollectionFilter::default();

    // Collection 4 goes into a file of its own first.
    store
        .assign_file(creditor, &tag, d(TODAY), "pain.008.001.08", &[item(4)])
        .await
        .unwrap()
        .unwrap();
    // Chunks 0-1, a refusal of 2, then a chunk naming 3 and 4: nothing of it is kept.
    let mut file = store
        .begin_file(creditor, &tag, d(TODAY), "pain.008.001.08")
        .await
        .unwrap();
    file.assign(&[item(0), item(1)]).await.unwrap().unwrap();
    file.fail(&[(due[2].id, "refused".to_owned())], &[]).await.unwrap();
    let conflict = file.assign(&[item(3), item(4)]).await.unwrap().unwrap_err();
    assert_eq!((conflict.taken, conflict.of), (1, 4), "{conflict}");
    assert!(file.commit().await.is_err(), "what met a conflict is never committed");
    let rows = store
        .collections(creditor, &everything)
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    for (i, c) in due.iter().take(4).enumerate() {
        assert_eq!(status(&rows, c.id), Some(CollectionStatus::Pending), "collection {i}");
    }
    assert!(
        store.unwritten_files(creditor).await.unwrap().len() == 1,
        "only collection 4's file"
    );

    // Again without 4: committed, one file of three collections and their sum (as the row
    // says before the commit, which the file is written from meanwhile), 2 refused.
    let mut file = store
        .begin_file(creditor, &tag, d(TODAY), "pain.008.001.08")
        .await
        .unwrap();
    file.assign(&[item(0)]).await.unwrap().unwrap();
    file.fail(&[(due[2].id, "refused".to_owned())], &[]).await.unwrap();
    file.assign(&[item(1), item(3)]).await.unwrap().unwrap();
    let row = file.file().expect("a file");
    file.commit().await.unwrap();
    let stored = store.unwritten_files(creditor).await.unwrap();
    assert_eq!(
        stored.iter().find(|f| f.id == row.id),
        Some(&row),
        "the ledger holds the row as told"
    );
    assert_eq!(row.nb_of_txs, 3);
    assert_eq!(
        row.ctrl_sum_cents,
        due[0].amount_cents + due[1].amount_cents + due[3].amount_cents
    );
    let rows = store
        .collections(creditor, &everything)
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    for i in [0, 1, 3] {
        let r = rows.iter().find(|r| r.id == due[i].id).unwrap();
        assert_eq!(
            (r.status, r.file.as_deref()),
            (CollectionStatus::Submitted, Some(row.file_name.as_str()))
        );
    }
    assert_eq!(status(&rows, due[2].id), Some(CollectionStatus::Failed));

    // Refusals alone: recorded, and no file.
    let more = store.due_collections(creditor, d("2027-12-31"), None, 1).await.unwrap();
    let mut file = store
        .begin_file(creditor, &tag, d(TODAY), "pain.008.001.08")
        .await
        .unwrap();
    file.fail(&[(more[0].id, "refused".to_owned())], &[]).await.unwrap();
    assert_eq!(file.file(), None);
    file.commit().await.unwrap();
    let rows = store
        .collections(creditor, &everything)
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    assert_eq!(status(&rows, more[0].id), Some(CollectionStatus::Failed));
    assert_eq!(store.unwritten_files(creditor).await.unwrap().len(), 2);
    store.close().await;
    db.cleanup().await;
}

/// A ledger written before collect set `submitted` at assignment: migration 0008 marks the
/// collections of an unfinished file submitted and drops the stored submission events (the
/// file row tells the same), so a timeline shows one submission.
async fn older_ledgers_are_brought_in_line(backend: Backend) {
    let (db, store, creditor) = setup(backend).await;
    import_demo(&store, creditor).await;
    let tag = store.ledger_tag(creditor).await.unwrap();
    let due = store.due_collections(creditor, d("2027-12-31"), None, 2).await.unwrap();
    let (written, unfinished) = (
        common::frst_assignment(&due[0], format!("E2E-OLD-{}", due[0].id)),
        common::frst_assignment(&due[1], format!("E2E-OLD-{}", due[1].id)),
    );
    let file = store
        .assign_file(
            creditor,
            &tag,
            d(TODAY),
            "pain.008.001.08",
            &[(&written, common::presented(&due[0]))],
        )
        .await
        .unwrap()
        .unwrap();
    store.mark_written(&file, Some("0".repeat(64).as_str())).await.unwrap();
    store
        .assign_file(
            creditor,
            &tag,
            d(TODAY),
            "pain.008.001.08",
            &[(&unfinished, common::presented(&due[1]))],
        )
        .await
        .unwrap()
        .unwrap();
    store.close().await;
    // What an older run left: a stored submission event, a collection of an unfinished file
    // still pending.
    for sql in [
        format!(
            "INSERT INTO collection_events (collection_id, occurred_at, kind, detail, collection_file_id)
             VALUES ({}, '2026-11-20T09:00:00Z', 'submitted', 'in an old file', {})",
            written.id, file.id
        ),
        format!("UPDATE collections SET status = 'pending' WHERE id = {}", unfinished.id),
        "DELETE FROM _sqlx_migrations WHERE version = 8".to_owned(),
    ] {
        raw_exec(&db.url, &sql).await.unwrap();
    }
    let store = Store::open(&db.url).await.expect("reopen and migrate");
    let (_, events) = store.collection_timeline(creditor, written.id).await.unwrap().unwrap();
    let submissions: Vec<_> = events.iter().filter(|e| e.kind == "submitted").collect();
    assert_eq!(submissions.len(), 1, "{events:#?}");
    let (row, _) = store
        .collection_timeline(creditor, unfinished.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, CollectionStatus::Submitted);
    store.close().await;
    db.cleanup().await;
}

/// A ledger that wrote files before migration 0016 knows the outbox its creditor's files go to
/// from its last file's reserved folder, so that its next run already refuses an empty mount
/// point.
async fn an_older_ledger_knows_its_outbox_from_its_last_file(backend: Backend) {
    let (db, store, creditor) = setup(backend).await;
    import_demo(&store, creditor).await;
    let tag = store.ledger_tag(creditor).await.unwrap();
    let due = store.due_collections(creditor, d("2027-12-31"), None, 2).await.unwrap();
    for c in &due {
        let a = common::frst_assignment(c, format!("E2E-OLD-{}", c.id));
        store
            .assign_file(
                creditor,
                &tag,
                d(TODAY),
                "pain.008.001.08",
                &[(&a, common::presented(c))],
            )
            .await
            .unwrap()
            .unwrap();
    }
    store.close().await;
    for sql in [
        "UPDATE collection_files SET reserved_folder = '/srv/old', reserved_folder_id = 'old-id' \
         WHERE id = (SELECT MIN(id) FROM collection_files)",
        "UPDATE collection_files SET reserved_folder = '/srv/outbox', reserved_folder_id = 'last-id' \
         WHERE id = (SELECT MAX(id) FROM collection_files)",
        "DROP TABLE creditor_outboxes",
        "DELETE FROM _sqlx_migrations WHERE version = 16",
    ] {
        raw_exec(&db.url, sql).await.unwrap();
    }
    let store = Store::open(&db.url).await.expect("reopen and migrate");
    let known = store.creditor_outbox(creditor).await.unwrap();
    let last = OutboxFolder {
        path: "/srv/outbox".to_owned(),
        id: "last-id".to_owned(),
    };
    assert_eq!(known.as_ref(), Some(&last));
    assert_eq!(store.creditor_outbox(CreditorKey(creditor.0 + 1)).await.unwrap(), None);
    store.close().await;
    db.cleanup().await;
}

async fn schema_constraints_hold(backend: Backend) {
    let (db, store, creditor) = setup(backend).await;
    import_demo(&store, creditor).await;
    let one = pending(&store, creditor).await.remove(0);
    store.close().await;
    let url = &db.url;
    let dup_mandate = "INSERT INTO mandates (creditor_id, reference, customer_id, iban, signed_on, channel, created_at, updated_at)
        SELECT creditor_id, reference, customer_id, iban, signed_on, channel, created_at, updated_at FROM mandates LIMIT 1";
    assert!(
        raw_exec(url, dup_mandate).await.is_err(),
        "unique mandate id per creditor"
    );
    let dup_collection = format!(
        "INSERT INTO collections (creditor_id, plan_id, customer_id, mandate_id, card_id, installment, attempt, due_date, amount_cents, created_at, updated_at)
         SELECT creditor_id, plan_id, customer_id, mandate_id, card_id, installment + 1000, attempt, due_date, amount_cents, created_at, updated_at FROM collections WHERE id = {}",
        one.id
    );
    assert!(
        raw_exec(url, &dup_collection).await.is_err(),
        "unique (plan, due date, attempt)"
    );
    if backend == Backend::Sqlite {
        // STRICT tables refuse a REAL in a money column (PostgreSQL's BIGINT cannot hold one).
        let float = format!("UPDATE collections SET amount_cents = 12.5 WHERE id = {}", one.id);
        assert!(raw_exec(url, &float).await.is_err(), "money is never a float");
    }
    let too_big = format!(
        "UPDATE collections SET amount_cents = 100000000000 WHERE id = {}",
        one.id
    );
    assert!(raw_exec(url, &too_big).await.is_err(), "amount bound");
    let submitted_without_file = format!("UPDATE collections SET status = 'submitted' WHERE id = {}", one.id);
    assert!(
        raw_exec(url, &submitted_without_file).await.is_err(),
        "submitted means in a file"
    );
    db.cleanup().await;
}

/// A run lock lost under a run is noticed before the run touches the outbox: on PostgreSQL,
/// the lock's session ended (here terminated by an administrator) fails `still_held`; an
/// SQLite `flock` lasts as long as the process.
async fn a_lost_run_lock_is_noticed(backend: Backend) {
    let (db, store, creditor) = setup(backend).await;
    let mut lock = store
        .try_lock_run("collect", creditor, "lockcheck-4242")
        .await
        .unwrap()
        .expect("no one holds the lock");
    lock.still_held("checking").await.unwrap();
    if backend == Backend::Postgres {
        let mut admin = sqlx::PgConnection::connect(&common::postgres_admin_url())
            .await
            .unwrap();
        let ended: Vec<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE '%lockcheck-4242'",
        )
        .fetch_all(&mut admin)
        .await
        .unwrap();
        assert_eq!(ended, [true]);
        let lost = lock.still_held("moving a file into the outbox").await.unwrap_err();
        assert!(
            matches!(lost, collecte::store::StoreError::LockLost { .. })
                && lost
                    .to_string()
                    .contains("the run lock was lost while moving a file into the outbox"),
            "{lost}"
        );
        assert!(
            store
                .try_lock_run("collect", creditor, "other")
                .await
                .unwrap()
                .is_some(),
            "another run can take it now"
        );
    }
    drop(lock);
    store.close().await;
    db.cleanup().await;
}

/// Clearing the outbox's temporaries reads the unwritten files with no file assignment of the
/// creditor open: on PostgreSQL it waits for an open one (of a run whose run lock was lost
/// under it) to commit, and then sees its file; that file's temporary is kept. On SQLite the
/// run lock cannot be lost while its holder lives, and the read does not wait.
async fn clearing_waits_for_an_open_file_assignment(backend: Backend) {
    let (db, store, creditor) = setup(backend).await;
    import_demo(&store, creditor).await;
    let tag = store.ledger_tag(creditor).await.unwrap();
    let due = store.due_collections(creditor, d("2027-12-31"), None, 1).await.unwrap();
    let a = common::frst_assignment(&due[0], "E2E-HELD-1".to_owned());
    let mut file = store
        .begin_file(creditor, &tag, d(TODAY), "pain.008.001.08")
        .await
        .unwrap()
        .reserving_in(collecte::store::OutboxFolder {
            path: "/srv/outbox".to_owned(),
            id: "0f3c".to_owned(),
        });
    file.assign(&[(&a, common::presented(&due[0]))]).await.unwrap().unwrap();
    let row = file.file().expect("a file");
    assert_eq!(
        (row.reserved_folder.as_deref(), row.reserved_folder_id.as_deref()),
        (Some("/srv/outbox"), Some("0f3c"))
    );
    let clearing = store.with_assignments_held(creditor, |unwritten| unwritten);
    if backend == Backend::Postgres {
        let mut clearing = Box::pin(clearing);
        let waited = tokio::time::timeout(std::time::Duration::from_millis(500), &mut clearing).await;
        assert!(
            waited.is_err(),
            "clearing went ahead during an open assignment: {waited:?}"
        );
        file.commit().await.unwrap();
        let seen = clearing.await.unwrap();
        assert_eq!(
            seen,
            std::slice::from_ref(&row.file_name),
            "the file committed meanwhile is seen"
        );
    } else {
        assert_eq!(clearing.await.unwrap(), Vec::<String>::new());
        file.commit().await.unwrap();
    }
    let stored = store.unwritten_files(creditor).await.unwrap();
    assert_eq!(stored, [row], "the reservation's folder is recorded with the file");
    store.close().await;
    db.cleanup().await;
}

on_both_backends!(
    clearing_waits_for_an_open_file_assignment,
    a_lost_run_lock_is_noticed,
    migrations_are_idempotent_and_creditor_changes_are_kept,
    an_older_ledger_knows_its_outbox_from_its_last_file,
    demo_import_is_idempotent,
    one_bad_row_imports_nothing,
    mandate_amendments_are_recorded,
    plan_changes_apply_to_future_installments,
    pause_resume_and_cancel,
    filters_and_timeline,
    older_ledgers_are_brought_in_line,
    a_file_assigned_in_chunks_is_all_or_nothing,
    schema_constraints_hold,
);
