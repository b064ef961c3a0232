//! The `collecte` binary as scripts use it, on both backends: exit codes, one-line errors,
//! all-or-nothing imports, JSON output.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{Backend, TestDb};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn collecte(dir: &Path, db: &TestDb, args: &[&str]) -> Run {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_collecte"))
        .args(args)
        .current_dir(dir)
        .env("DATABASE_URL", db.env_url())
        .env_remove("COLLECTE_CONFIG")
        .env_remove("RUST_LOG")
        .output()
        .expect("run collecte");
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(!run.stderr.contains("panicked"), "collecte panicked: {}", run.stderr);
    run
}

fn demo() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("demo")
}

async fn initialised(backend: Backend) -> (TestDb, tempfile::TempDir) {
    let db = TestDb::new(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let r = collecte(dir.path(), &db, &["init"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for folder in ["outbox", "inbox", "processed", "quarantine", "statements", "mail"] {
        assert!(dir.path().join(folder).is_dir(), "{folder}");
    }
    (db, dir)
}

fn pending_json(dir: &Path, db: &TestDb) -> serde_json::Value {
    let r = collecte(dir, db, &["collections", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).expect("collections --format json is one JSON array")
}

async fn init_import_list_and_show(backend: Backend) {
    let (db, dir) = initialised(backend).await;
    let r = collecte(
        dir.path(),
        &db,
        &["import", "all", demo().to_str().unwrap(), "--date", "2026-11-22"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("plans.csv: 9 new"), "{}", r.stdout);
    let again = collecte(
        dir.path(),
        &db,
        &[
            "import",
            "plans",
            demo().join("plans.csv").to_str().unwrap(),
            "--date",
            "2026-11-22",
        ],
    );
    assert!(again.stdout.contains("nothing changed"), "{}", again.stdout);

    let all = pending_json(dir.path(), &db);
    let rows = all.as_array().unwrap();
    assert!(rows.len() >= 20);
    let first = &rows[0];
    for key in [
        "id",
        "plan_id",
        "customer_reference",
        "mandate_id",
        "debtor_iban",
        "due_date",
        "amount",
        "currency",
        "status",
        "attempt",
        "end_to_end_id",
    ] {
        assert!(first.get(key).is_some(), "missing {key} in {first}");
    }
    assert!(first["amount"].is_string() && first["due_date"].as_str().unwrap().len() == 10);
    assert_eq!(first["status"], "pending");
    assert_eq!(first["attempt"], 1);
    assert!(first["end_to_end_id"].is_null());
    let big = rows.iter().find(|r| r["plan_id"] == "P-1002").unwrap();
    assert_eq!(big["amount"], "1234.56");

    let csv = collecte(
        dir.path(),
        &db,
        &["collections", "--customer", "C-1003", "--format", "csv"],
    );
    assert!(
        csv.stdout.starts_with("id,plan_id,customer_reference"),
        "{}",
        csv.stdout
    );
    assert!(csv.stdout.lines().skip(1).all(|l| l.contains(",C-1003,")));
    let filtered = collecte(
        dir.path(),
        &db,
        &[
            "collections",
            "--status",
            "pending",
            "--from",
            "2026-12-01",
            "--to",
            "2026-12-31",
        ],
    );
    assert!(
        filtered.stdout.contains("2026-12-") && !filtered.stdout.contains("2026-11-"),
        "{}",
        filtered.stdout
    );

    let id = first["id"].to_string();
    let show = collecte(dir.path(), &db, &["show", &id]);
    assert_eq!(show.code, 0, "{}", show.stderr);
    assert!(
        show.stdout.contains("timeline:") && show.stdout.contains("created"),
        "{}",
        show.stdout
    );
    let missing = collecte(dir.path(), &db, &["show", "987654"]);
    assert_eq!(missing.code, 3);
    assert_eq!(missing.stderr.trim().lines().count(), 1, "{}", missing.stderr);
    db.cleanup().await;
}

/// One bad file per kind: exit 3, a summary line naming the file, every bad row listed, and
/// nothing stored.
async fn bad_files_change_nothing(backend: Backend) {
    let (db, dir) = initialised(backend).await;
    let d = dir.path();
    let cases: [(&str, &str, &str); 6] = [
        (
            "customers",
            "reference,name,email,street,building,postcode,town,country\nC1,Ann,not-an-email,,,,,\nC2,,b@x.fr,,,,Paris,FR\nC3,Cy,c@x.fr,Rue,1,75001,,FR\n",
            "email",
        ),
        (
            "mandates",
            "mandate_id,customer_reference,iban,bic,signed_on,channel\nM//1,C-1001,DE89370400440532013000,,2026-01-01,paper\nM2,C-1001,DE00370400440532013000,XXXX,2099-01-01,fax\n",
            "iban",
        ),
        (
            "cards",
            "customer_reference,brand,last4,exp_month,exp_year,in_wallet\nC-1001,Visa,12a4,13,1999,maybe\n",
            "last4",
        ),
        (
            "plans",
            "plan_id,customer_reference,mandate_id,amount,frequency,start_date,count,day_of_month,description\nPX,C-1001,MDT-1001,1.234,fortnightly,2026-13-01,0,32,ok\n",
            "frequency",
        ),
        (
            "invoices",
            "invoice_id,customer_reference,issued_on,amount,kind\nI1,C-1001,2026-11-01,-5,bill\n",
            "kind",
        ),
        (
            "payments",
            "payment_id,customer_reference,received_on,amount,method\nP1,NOBODY,2026-11-01,5.00,transfer\nP2,C-1001,yesterday,0,\n",
            "received_on",
        ),
    ];
    // Customers must exist for the other kinds' rows to be about their own fields.
    assert_eq!(
        collecte(
            d,
            &db,
            &["import", "customers", demo().join("customers.csv").to_str().unwrap()]
        )
        .code,
        0
    );
    assert_eq!(
        collecte(
            d,
            &db,
            &["import", "mandates", demo().join("mandates.csv").to_str().unwrap()]
        )
        .code,
        0
    );
    let before = pending_json(d, &db);
    for (kind, csv, column) in cases {
        let file = d.join(format!("bad-{kind}.csv"));
        std::fs::write(&file, csv).unwrap();
        let r = collecte(d, &db, &["import", kind, file.to_str().unwrap()]);
        assert_eq!(r.code, 3, "{kind}: {}", r.stderr);
        let first = r.stderr.lines().next().unwrap();
        assert!(
            first.contains(&format!("import {kind}")) && first.contains("nothing was imported"),
            "{kind}: {first}"
        );
        assert!(r.stderr.contains(&format!("column {column}")), "{kind}: {}", r.stderr);
        assert!(r.stderr.contains("line 2"), "{kind}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{kind}: {}", r.stdout);
    }
    // Header problems and unreadable files are one line too.
    std::fs::write(d.join("hdr.csv"), "reference,name,emial\nC1,Ann,a@b.fr\n").unwrap();
    let r = collecte(d, &db, &["import", "customers", "hdr.csv"]);
    assert_eq!(r.code, 3);
    assert!(r.stderr.contains("unknown column \"emial\""), "{}", r.stderr);
    assert_eq!(r.stderr.trim().lines().count(), 1);
    std::fs::write(
        d.join("latin1.csv"),
        b"reference,name,email,street,building,postcode,town,country\nC1,M\xfcller,,,,,,\n",
    )
    .unwrap();
    let r = collecte(d, &db, &["import", "customers", "latin1.csv"]);
    assert_eq!(r.code, 3);
    assert!(
        r.stderr.contains("line 2") && r.stderr.contains("UTF-8"),
        "{}",
        r.stderr
    );
    let r = collecte(d, &db, &["import", "customers", "does-not-exist.csv"]);
    assert_eq!(r.code, 3);
    assert!(r.stderr.contains("does-not-exist.csv"), "{}", r.stderr);
    std::fs::write(
        d.join("empty.csv"),
        "reference,name,email,street,building,postcode,town,country\n",
    )
    .unwrap();
    assert_eq!(collecte(d, &db, &["import", "customers", "empty.csv"]).code, 3);
    assert_eq!(pending_json(d, &db), before, "a refused import changed the ledger");
    db.cleanup().await;
}

async fn bad_usage_config_and_database(backend: Backend) {
    let (db, dir) = initialised(backend).await;
    let d = dir.path();
    let r = collecte(d, &db, &["collections", "--colour", "red"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let r = collecte(d, &db, &["collections", "--status", "lost"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("pending"), "{}", r.stderr);
    let r = collecte(d, &db, &["collections", "--from", "2026-12-31", "--to", "2026-12-01"]);
    assert_eq!(r.code, 3);
    // A report (a run, a file's summary, a timeline) has no CSV form: asking for one is bad
    // usage, refused before anything runs, not a run that prints nothing.
    for args in [
        &["run", "collect", "--format", "csv"][..],
        &["run", "day", "--format", "csv"],
        &["inspect", "file.xml", "--format", "csv"],
        &["show", "1", "--format", "csv"],
    ] {
        let r = collecte(d, &db, args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("[possible values: table, json]"),
            "{args:?}: {}",
            r.stderr
        );
    }
    let jobs: serde_json::Value =
        serde_json::from_str(&collecte(d, &db, &["jobs", "--format", "json"]).stdout).unwrap();
    assert_eq!(jobs["runs"].as_array().map(Vec::len), Some(0), "nothing ran: {jobs}");

    // A bad config value: one line naming the key and the value.
    let config = std::fs::read_to_string(d.join("collecte.toml")).unwrap();
    let iban_line = config
        .lines()
        .find(|l| l.trim_start().starts_with("iban"))
        .unwrap()
        .to_owned();
    std::fs::write(
        d.join("collecte.toml"),
        config.replacen(&iban_line, "iban = \"FR76 0000 0000 0000\"", 1),
    )
    .unwrap();
    let r = collecte(d, &db, &["collections"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(r.stderr.trim().lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("creditor.iban") && r.stderr.contains("FR76 0000 0000 0000"),
        "{}",
        r.stderr
    );
    std::fs::write(d.join("collecte.toml"), &config).unwrap();

    // A database that cannot be reached or opened: exit 1, one line naming it, no panic, and
    // the driver's cause said once (each error in the chain already ends with its cause's
    // text).
    let unusable = |url: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_collecte"))
            .args(["collections"])
            .current_dir(d)
            .env("DATABASE_URL", url)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(url), "{stderr}");
        stderr
    };
    unusable("postgres://nobody@127.0.0.1:1/none");
    let stderr = unusable("sqlite:///proc/no-such-folder/collecte.db");
    assert_eq!(stderr.matches("unable to open database file").count(), 1, "{stderr}");
    // No config at all.
    let empty = tempfile::tempdir().unwrap();
    let r = collecte(empty.path(), &db, &["collections"]);
    assert_eq!(r.code, 3);
    assert!(r.stderr.contains("collecte init"), "{}", r.stderr);
    db.cleanup().await;
}

async fn run_day_records_every_job(backend: Backend) {
    let (db, dir) = initialised(backend).await;
    let d = dir.path();
    assert_eq!(
        collecte(
            d,
            &db,
            &["import", "all", demo().to_str().unwrap(), "--date", "2026-11-20"]
        )
        .code,
        0
    );
    let day = collecte(d, &db, &["run", "day", "--date", "2026-11-20"]);
    assert_eq!(day.code, 0, "{}", day.stderr);
    for file in std::fs::read_dir(d.join("outbox")).unwrap() {
        let file = file.unwrap().path();
        if file.extension().is_some_and(|x| x == "xml") {
            common::assert_valid_pain008_file(&file);
        }
    }
    assert!(
        day.stdout.contains("ingest:") && day.stdout.contains("collect 2026-11-20: collected"),
        "{}",
        day.stdout
    );
    let jobs = collecte(d, &db, &["jobs", "--format", "json"]);
    let listing: serde_json::Value = serde_json::from_str(&jobs.stdout).unwrap();
    let runs = listing["runs"].as_array().unwrap();
    assert!(listing["queued"].as_array().unwrap().is_empty());
    assert!(listing["dead"].as_array().unwrap().is_empty());
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[1]["job"], "ingest", "the day ingests before it collects");
    assert_eq!(runs[0]["job"], "collect");
    for run in runs {
        assert_eq!(run["outcome"], "succeeded");
        assert_eq!(run["business_date"], "2026-11-20");
        assert!(run["summary"].as_str().unwrap().len() > 10, "{run}");
        assert!(run["worker"].as_str().unwrap().contains('-'));
    }
    // A bank file that cannot be read: the day still runs, and says so with exit code 4.
    std::fs::write(d.join("inbox/broken.xml"), "<not-a-bank-file/>").unwrap();
    let day = collecte(d, &db, &["run", "day", "--date", "2026-11-23"]);
    assert_eq!(day.code, 4, "{}", day.stderr);
    assert!(day.stderr.contains("quarantined"), "{}", day.stderr);
    assert!(d.join("quarantine/broken.xml.reason.txt").is_file());
    db.cleanup().await;
}

on_both_backends!(
    init_import_list_and_show,
    bad_files_change_nothing,
    bad_usage_config_and_database,
    run_day_records_every_job
);

#[test]
fn help_explains_every_command() {
    let out = Command::new(env!("CARGO_BIN_EXE_collecte"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for cmd in [
        "init",
        "import",
        "collections",
        "show",
        "inspect",
        "run",
        "jobs",
        "action-center",
        "worker",
        "enqueue",
    ] {
        assert!(help.contains(cmd), "{help}");
        let sub = Command::new(env!("CARGO_BIN_EXE_collecte"))
            .args([cmd, "--help"])
            .output()
            .unwrap();
        assert!(sub.status.success());
        assert!(String::from_utf8_lossy(&sub.stdout).len() > 100);
    }
    assert!(help.contains("Exit codes"));
}
