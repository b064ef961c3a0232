//! The floor under issue 3's 20× goal: how fast could *any* SQLite ledger run a collect of N
//! collections on this machine? BENCHMARKS.md ("The 20× goal is not met") compares the real
//! run with it.
//!
//! ```text
//! cargo bench --bench ledger_floor -- [--n 100000] [--repeat 5] [--work DIR]
//! ```
//!
//! The ledger here is the most favourable one conceivable for collect, not collecte's: every
//! due collection is one row of a queue clustered by (creditor, due date, id), denormalised
//! with everything its transaction needs (no joins), and a collect run never rewrites a row:
//! it appends (collection, file, EndToEndId) to a narrow table and deletes the queue's range,
//! in one transaction (`synchronous = FULL`, WAL, as collecte). Between the read and the
//! write, the product's own format layer does the real work: `check_transaction` on every
//! row (transliteration, EPC rules) and `Pain008Writer` into a file in the folder, written
//! beside the transaction on a second thread, then fsynced, renamed and the folder fsynced.
//!
//! What it leaves out, each a cost collecte pays: mandate state (FRST/RCUR, 36-month lapse,
//! amendments announced), plan and mandate status at the time of the run, refusals, a
//! resumable file, the run lock and the outbox guard. A queue holding debtor names and IBANs
//! would also have to be rewritten by every change of a customer, mandate or plan.
//!
//! The seed holds twelve months of N collections; the run takes the first month. Every
//! repeat runs on a fresh copy of the seed. The collections are the ones `bench_collect`'s
//! writer sides use (`examples/support/pain008_fixture.rs`).
//!
//! `cargo test --benches` runs this file without `--bench`: it then only says how to run it.

#[path = "support/args.rs"]
#[allow(dead_code, reason = "each harness uses the part of the shared parser it needs")]
mod args;
#[path = "../examples/support/pain008_fixture.rs"]
mod fixture;

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::Path;
use std::time::{Duration, Instant};

use args::BenchArgs;
use chrono::{DateTime, NaiveDate};
use collecte::sepa::pain008::{
    self, GroupHeader, Pain008Writer, PaymentGroup, Profile, RawAddress, RawTransaction, SequenceType,
};
use collecte::sepa::{MessageId, PaymentInfoId};
use rusqlite::{Connection, params};

/// Months of collections in the seed (the run takes one).
const MONTHS: i64 = 12;
/// The first month's due date, the run's reach.
const DUE: &str = "2026-11-23";

fn main() {
    let usage = "cargo bench --bench ledger_floor -- [--n 100000] [--repeat 5] [--work DIR]";
    let Some(args) = BenchArgs::from_env(usage, &["--n", "--repeat", "--work"], &[]) else {
        return;
    };
    let n: i64 = args.parsed("--n", 100_000);
    let repeat: usize = args.parsed("--repeat", 5);
    let work = args.path("--work", || std::env::temp_dir().join("collecte-ledger_floor"));
    std::fs::create_dir_all(&work).expect("the work folder");

    let seed = work.join(format!("seed-{n}.db"));
    if !seed.exists() {
        let started = Instant::now();
        seed_ledger(&seed, n);
        eprintln!(
            "seeded {} collections in {:.1} s",
            n * MONTHS,
            started.elapsed().as_secs_f64()
        );
    }
    println!("# ledger_floor, N = {n}\n");
    println!(
        "| run | read + check + write XML | DB append | + delete range | + commit | file fsync (beside) | total |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    let mut totals = Vec::new();
    for r in 1..=repeat {
        let db = work.join("run.db");
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
        }
        std::fs::copy(&seed, &db).expect("a copy of the seed");
        let outbox = work.join("outbox");
        let _ = std::fs::remove_dir_all(&outbox);
        std::fs::create_dir_all(&outbox).expect("the outbox");
        sync_all();
        let p = run(&db, &outbox, n);
        println!(
            "| {r} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | **{:.3}** |",
            p.read.as_secs_f64(),
            p.append.as_secs_f64(),
            p.delete.as_secs_f64(),
            p.commit.as_secs_f64(),
            p.file.as_secs_f64(),
            p.total.as_secs_f64()
        );
        totals.push(p.total);
    }
    totals.sort();
    println!(
        "\nbest {:.3} s, median {:.3} s for {n} collections",
        totals[0].as_secs_f64(),
        totals[totals.len() / 2].as_secs_f64()
    );
}

/// Flushes the copies just made, so that their writeback does not land inside a run.
fn sync_all() {
    let status = std::process::Command::new("sync").status().expect("sync");
    assert!(status.success(), "sync failed");
}

fn open(path: &Path) -> Connection {
    let c = Connection::open(path).expect("the bench ledger");
    c.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
        .expect("pragmas");
    c
}

fn seed_ledger(path: &Path, n: i64) {
    let c = open(path);
    c.execute_batch(
        "CREATE TABLE queue (
           creditor_id INTEGER NOT NULL, due_date TEXT NOT NULL, collection_id INTEGER NOT NULL,
           amount_cents INTEGER NOT NULL, mandate_ref TEXT NOT NULL, debtor_name TEXT NOT NULL,
           iban TEXT NOT NULL, bic TEXT, street TEXT, building TEXT, postcode TEXT, town TEXT, country TEXT,
           remittance TEXT NOT NULL, amended TEXT,
           PRIMARY KEY (creditor_id, due_date, collection_id)) WITHOUT ROWID;
         CREATE TABLE files (id INTEGER PRIMARY KEY, message_id TEXT NOT NULL UNIQUE);
         CREATE TABLE presented (collection_id INTEGER PRIMARY KEY, file_id INTEGER NOT NULL REFERENCES files (id),
           end_to_end_id TEXT NOT NULL);",
    )
    .expect("the bench schema");
    let tx = c.unchecked_transaction().expect("a transaction");
    {
        let mut insert = tx
            .prepare("INSERT INTO queue VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            .expect("insert");
        let first = NaiveDate::parse_from_str(DUE, "%Y-%m-%d").expect("DUE");
        for m in 0..MONTHS {
            let due = first + chrono::Months::new(m as u32);
            for i in 0..n {
                let p = fixture::plain(i as usize);
                let a = p.address.then_some(fixture::ADDRESS);
                insert
                    .execute(params![
                        due.to_string(),
                        m * n + i + 1,
                        p.cents,
                        p.mandate,
                        p.name,
                        p.iban,
                        p.bic,
                        a.map(|a| a[0]),
                        a.map(|a| a[1]),
                        a.map(|a| a[2]),
                        a.map(|a| a[3]),
                        a.map(|a| a[4]),
                        p.remittance,
                        p.amendment.then_some("SMNDA"),
                    ])
                    .expect("a seed row");
            }
        }
    }
    tx.commit().expect("seed commit");
    c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);").expect("checkpoint");
}

struct Phases {
    read: Duration,
    append: Duration,
    delete: Duration,
    commit: Duration,
    file: Duration,
    total: Duration,
}

/// One collect on the ideal ledger: read the month's queue, check every row and write the
/// file; then record it (append + delete + commit) while the file is fsynced beside.
fn run(db: &Path, outbox: &Path, n: i64) -> Phases {
    let started = Instant::now();
    let c = open(db);
    let creditor = fixture::creditor();
    let date = NaiveDate::parse_from_str(DUE, "%Y-%m-%d").expect("DUE");
    let mut ids = Vec::with_capacity(n as usize);
    let mut checked = Vec::with_capacity(n as usize);
    {
        let mut select = c
            .prepare(
                "SELECT collection_id, amount_cents, mandate_ref, debtor_name, iban, bic, street, building, postcode,
                        town, country, remittance, amended
                 FROM queue WHERE creditor_id = 1 AND due_date <= ?1 ORDER BY creditor_id, due_date, collection_id",
            )
            .expect("select");
        let mut rows = select.query([DUE]).expect("query");
        let mut e2e = String::new();
        while let Some(r) = rows.next().expect("a row") {
            let text = |k: usize| r.get_ref(k).expect("a column").as_str_or_null().expect("text");
            let id: i64 = r.get(0).expect("id");
            e2e.clear();
            std::fmt::Write::write_fmt(&mut e2e, format_args!("CLT-E{id:012}-1")).expect("e2e");
            let raw = RawTransaction {
                end_to_end_id: &e2e,
                amount_cents: r.get(1).expect("amount"),
                mandate_id: text(2).expect("mandate"),
                mandate_signed_on: NaiveDate::from_ymd_opt(2024, 3, 1).expect("date"),
                debtor_name: text(3).expect("name"),
                debtor_iban: text(4).expect("iban"),
                debtor_bic: text(5),
                debtor_address: text(9).map(|town| RawAddress {
                    street: text(6),
                    building_number: text(7),
                    postcode: text(8),
                    town,
                    country: text(10).expect("country"),
                    lines: &[],
                }),
                remittance: text(11),
                original_mandate_id: None,
                original_creditor_id: None,
                original_debtor_account: text(12),
            };
            checked.push(pain008::check_transaction(&raw, &creditor, date).expect("the fixture passes"));
            ids.push((id, e2e.clone()));
        }
    }
    let tmp = outbox.join("CLT-FLOOR-1.xml.tmp");
    {
        let out = BufWriter::with_capacity(1 << 20, File::create(&tmp).expect("the temporary file"));
        let ctrl_sum_cents: i64 = checked.iter().map(|t| t.amount.cents()).sum();
        let header = GroupHeader {
            message_id: MessageId::parse("CLT-FLOOR-1").expect("MsgId"),
            created_at: DateTime::parse_from_rfc3339("2026-11-20T06:00:00+01:00").expect("time"),
            initiating_party: None,
            nb_of_txs: checked.len() as u64,
            ctrl_sum_cents,
        };
        let mut w = Pain008Writer::start(out, Profile::default(), &creditor, &header).expect("start");
        w.begin_group(&PaymentGroup {
            payment_info_id: PaymentInfoId::parse("CLT-FLOOR-1-1").expect("PmtInfId"),
            sequence_type: SequenceType::Rcur,
            collection_date: date,
            nb_of_txs: checked.len() as u64,
            ctrl_sum_cents,
        })
        .expect("group");
        for t in &checked {
            w.transaction(t).expect("transaction");
        }
        w.end_group().expect("end group");
        w.finish().expect("finish").flush().expect("flush");
    }
    let read = started.elapsed();

    // The temporary file is fsynced beside the transaction; it takes its final name only
    // once the transaction committed (collecte's order: the ledger first, then the outbox).
    let file_tmp = tmp.clone();
    let fsync = std::thread::spawn(move || {
        let t = Instant::now();
        File::open(&file_tmp).expect("the file").sync_all().expect("fsync");
        t.elapsed()
    });
    let db_started = Instant::now();
    let tx = c.unchecked_transaction().expect("a transaction");
    tx.execute("INSERT INTO files (message_id) VALUES ('CLT-FLOOR-1')", [])
        .expect("the file row");
    let file_id = tx.last_insert_rowid();
    {
        let mut insert = tx.prepare("INSERT INTO presented VALUES (?, ?, ?)").expect("insert");
        for (id, e2e) in &ids {
            insert.execute(params![id, file_id, e2e]).expect("a presentation");
        }
    }
    let append = db_started.elapsed();
    let deleted = tx
        .execute("DELETE FROM queue WHERE creditor_id = 1 AND due_date <= ?1", [DUE])
        .expect("delete");
    assert_eq!(deleted as i64, n, "the run takes one month of the queue");
    let delete = db_started.elapsed();
    tx.commit().expect("commit");
    let commit = db_started.elapsed();
    let file = fsync.join().expect("the fsync thread");
    std::fs::rename(&tmp, outbox.join("CLT-FLOOR-1.xml")).expect("rename");
    File::open(outbox)
        .expect("the outbox")
        .sync_all()
        .expect("fsync of the folder");
    Phases {
        read,
        append,
        delete,
        commit,
        file,
        total: started.elapsed(),
    }
}
