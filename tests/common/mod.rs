//! Test support shared by the integration suites: one fresh database per test on either
//! backend, the real PostgreSQL at 127.0.0.1:5432 included (never mocked, never skipped).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

use collecte::store::DatabaseUrl;
use sqlx::Connection;

/// Which backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server tests use: `COLLECTE_TEST_POSTGRES`, else the local one.
pub fn postgres_admin_url() -> String {
    std::env::var("COLLECTE_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// The shared sample folder (`../shared/sepa-samples`); tests fail when it is missing.
pub fn shared_samples() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/sepa-samples");
    assert!(
        dir.is_dir(),
        "{} is missing: CI must provide ../shared beside the project",
        dir.display()
    );
    dir
}

/// Validates a document with `xmllint --schema` against the official XSD named `xsd_name`
/// (e.g. `camt.054.001.08`); fails the test when xmllint or the XSD is missing or the
/// document is refused.
pub fn assert_valid_xml(xml: &[u8], xsd_name: &str) {
    use std::io::Write;
    let xsd = shared_samples().join("xsd").join(format!("{xsd_name}.xsd"));
    assert!(xsd.is_file(), "XSD missing: {}", xsd.display());
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(xml).expect("write temp file");
    file.flush().expect("flush temp file");
    let out = std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&xsd)
        .arg(file.path())
        .output()
        .unwrap_or_else(|e| panic!("xmllint could not run (is libxml2-utils installed?): {e}"));
    if !out.status.success() {
        let text = String::from_utf8_lossy(xml);
        let head: String = text.chars().take(6000).collect();
        panic!(
            "{xsd_name} refused the document:\n{}\n--- document start ---\n{head}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Validates a pain.008 document against the XSD of its version.
pub fn assert_valid_pain008(xml: &[u8], version: collecte::sepa::pain008::Pain008Version) {
    assert_valid_xml(xml, version.message_name());
}

/// Validates a pain.008 file against the XSD of the version its namespace names.
pub fn assert_valid_pain008_file(path: &Path) {
    use collecte::sepa::pain008::Pain008Version;
    let xml = std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let head = String::from_utf8_lossy(&xml[..xml.len().min(400)]).into_owned();
    let version = [Pain008Version::V02, Pain008Version::V08]
        .into_iter()
        .find(|v| head.contains(&format!("xsd:{}", v.message_name())))
        .unwrap_or_else(|| panic!("{} names no pain.008 version we write: {head}", path.display()));
    assert_valid_pain008(&xml, version);
}

/// The marker collect keeps in an outbox folder (what tells it from another folder).
pub const OUTBOX_MARKER: &str = ".collecte-outbox-id";

/// A project's folder. When a test is done with it, every pain.008 file left in its outbox
/// is validated against its XSD: whatever a test made collecte write, the bank would accept.
pub struct ProjectDir(tempfile::TempDir);

impl ProjectDir {
    pub fn path(&self) -> &Path {
        self.0.path()
    }

    /// The pain.008 files in the outbox (complete ones: temporary files are not `.xml`), by
    /// name.
    pub fn outbox(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.path().join("outbox"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "xml"))
            .collect();
        files.sort();
        files
    }
}

impl Drop for ProjectDir {
    fn drop(&mut self) {
        // A failing test has already said why; a second panic would abort the run.
        if std::thread::panicking() || !self.path().join("outbox").is_dir() {
            return;
        }
        for file in self.outbox() {
            assert_valid_pain008_file(&file);
        }
    }
}

/// A fresh, empty ledger location (a temporary SQLite file or a new PostgreSQL database).
pub struct TestDb {
    pub url: DatabaseUrl,
    pub dir: tempfile::TempDir,
    pg_name: Option<String>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestDb {
    pub async fn new(backend: Backend) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        match backend {
            Backend::Sqlite => Self {
                url: DatabaseUrl::Sqlite(dir.path().join("ledger.db")),
                dir,
                pg_name: None,
            },
            Backend::Postgres => {
                let name = format!(
                    "collecte_t_{}_{}_{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::SeqCst),
                    chrono::Utc::now().timestamp_micros() % 1_000_000
                );
                admin_sql(&format!("CREATE DATABASE {name}")).await;
                let admin = postgres_admin_url();
                let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b).to_owned();
                Self {
                    url: DatabaseUrl::Postgres(format!("{base}/{name}")),
                    dir,
                    pg_name: Some(name),
                }
            }
        }
    }

    /// A ledger at `url` that the test set up itself (nothing to drop at cleanup).
    pub fn at(url: DatabaseUrl) -> Self {
        Self {
            url,
            dir: tempfile::tempdir().expect("temp dir"),
            pg_name: None,
        }
    }

    /// The URL as `DATABASE_URL` takes it.
    pub fn env_url(&self) -> String {
        match &self.url {
            DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
            DatabaseUrl::Postgres(u) => u.clone(),
        }
    }

    /// Takes a copy of the ledger as it is now (no process may be using it), the way an
    /// operator's backup would.
    pub async fn backup(&self) {
        match (&self.url, &self.pg_name) {
            (DatabaseUrl::Sqlite(path), _) => {
                for suffix in ["", "-wal"] {
                    let from = PathBuf::from(format!("{}{suffix}", path.display()));
                    if from.exists() {
                        std::fs::copy(&from, format!("{}.backup{suffix}", path.display())).expect("copy the ledger");
                    }
                }
            }
            (DatabaseUrl::Postgres(_), Some(name)) => {
                admin_sql(&format!("CREATE DATABASE {name}_backup TEMPLATE {name}")).await;
            }
            (DatabaseUrl::Postgres(_), None) => panic!("only a test's own database can be backed up"),
        }
    }

    /// Puts the copy [`TestDb::backup`] took in the ledger's place (the copy is used up).
    pub async fn restore(&self) {
        match (&self.url, &self.pg_name) {
            (DatabaseUrl::Sqlite(path), _) => {
                for suffix in ["-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
                for suffix in ["", "-wal"] {
                    let from = format!("{}.backup{suffix}", path.display());
                    if Path::new(&from).exists() {
                        std::fs::rename(&from, format!("{}{suffix}", path.display())).expect("restore the ledger");
                    }
                }
            }
            (DatabaseUrl::Postgres(_), Some(name)) => {
                admin_sql(&format!("DROP DATABASE {name} WITH (FORCE)")).await;
                admin_sql(&format!("ALTER DATABASE {name}_backup RENAME TO {name}")).await;
            }
            (DatabaseUrl::Postgres(_), None) => panic!("only a test's own database can be restored"),
        }
    }

    /// Drops the PostgreSQL database (SQLite files go with the temp dir).
    pub async fn cleanup(self) {
        if let Some(name) = &self.pg_name
            && let Ok(mut conn) = sqlx::PgConnection::connect(&postgres_admin_url()).await
        {
            let drop = sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            let _ = sqlx::query(drop).execute(&mut conn).await;
        }
    }
}

/// Runs one statement as PostgreSQL's administrator (databases are made and dropped there).
async fn admin_sql(statement: &str) {
    let admin = postgres_admin_url();
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL is required for the tests and is not reachable at {admin}: {e}"));
    sqlx::query(sqlx::AssertSqlSafe(statement.to_owned()))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{statement}: {e}"));
}

/// Declares each listed async test fn `name(Backend)` once per backend:
/// `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::common::Backend::Sqlite).await })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::common::Backend::Postgres).await })*
        }
    };
}

/// A project folder (config, folders) on a fresh ledger, driven through the binary.
pub struct Project {
    /// The folder holding collecte.toml and the exchange folders.
    pub dir: ProjectDir,
    /// Its ledger.
    pub db: TestDb,
}

impl Project {
    pub async fn new(backend: Backend) -> Self {
        Self::on(TestDb::new(backend).await)
    }

    /// A project (`collecte init` run) on a given ledger.
    pub fn on(db: TestDb) -> Self {
        let project = Self {
            dir: ProjectDir(tempfile::tempdir().unwrap()),
            db,
        };
        project.ok(&["init"]);
        project
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_collecte"));
        cmd.args(args)
            .current_dir(self.dir.path())
            .env("DATABASE_URL", self.db.env_url())
            .env_remove("COLLECTE_CONFIG");
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        let out = self.command(args).output().unwrap();
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains("panicked"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn write(&self, name: &str, text: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    }

    /// Imports the project's demo book (`demo/*.csv`) as of Friday 20 Nov 2026.
    pub fn import_demo_book(&self) {
        let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo");
        self.ok(&["import", "all", demo.to_str().unwrap(), "--date", "2026-11-20"]);
    }

    pub fn import(&self, kind: &str, csv: &str) {
        let file = self.write(&format!("{kind}-in.csv"), csv);
        self.ok(&["import", kind, &file, "--date", "2026-11-20"]);
    }

    pub fn set_bank(&self, settings: &str) {
        self.set_table("bank", settings);
    }

    /// Writes `settings` (TOML lines) into `[table]` of collecte.toml, replacing the keys
    /// it names.
    pub fn set_table(&self, table: &str, settings: &str) {
        let path = self.dir.path().join("collecte.toml");
        let config = std::fs::read_to_string(&path).unwrap();
        let header = format!("[{table}]");
        let mut out = String::new();
        let mut inside = false;
        for line in config.lines() {
            let t = line.trim_start();
            if t.starts_with('[') {
                inside = t.starts_with(&header);
            }
            let key = t.split('=').next().unwrap_or("").trim();
            if inside && !t.starts_with('#') && settings.lines().any(|s| s.split('=').next().unwrap().trim() == key) {
                continue;
            }
            out.push_str(line);
            out.push('\n');
            if t.starts_with(&header) {
                out.push_str(settings);
                out.push('\n');
            }
        }
        std::fs::write(path, out).unwrap();
    }

    pub fn outbox(&self) -> Vec<PathBuf> {
        self.dir.outbox()
    }

    /// The text of the last file in the outbox (names sort by business date and file id).
    pub fn last_file_text(&self) -> String {
        let last = self.outbox().pop().expect("a file in the outbox");
        std::fs::read_to_string(last).unwrap()
    }

    pub fn collections(&self, status: &str) -> Vec<serde_json::Value> {
        self.list_collections(&["--status", status])
    }

    /// `collecte collections FILTERS --format json`, as rows.
    pub fn list_collections(&self, filters: &[&str]) -> Vec<serde_json::Value> {
        let mut args = vec!["collections", "--format", "json"];
        args.extend_from_slice(filters);
        let json = self.ok(&args);
        serde_json::from_str::<serde_json::Value>(&json)
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    }
    pub fn folder(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn drop_file(&self, from: &Path, as_name: &str) {
        std::fs::copy(from, self.folder("inbox").join(as_name)).unwrap();
    }

    pub fn ingest_json(&self) -> (i32, serde_json::Value) {
        let out = self.run(&["run", "ingest", "--format", "json"]);
        let json = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code().unwrap_or(-1), json)
    }

    pub fn unmatched(&self) -> usize {
        let out = self.run(&["action-center", "unmatched", "--format", "json"]);
        serde_json::from_slice::<serde_json::Value>(&out.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .len()
    }

    pub fn names(&self, folder: &str) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.folder(folder))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

/// What a file presents of `c`'s debtor, as collect records it with the assignment.
pub fn presented(c: &collecte::store::DueCollection) -> collecte::store::Presented<'_> {
    collecte::store::Presented {
        iban: &c.debtor_iban,
        bic: c.debtor_bic.as_deref(),
        mandate_id: &c.mandate_id,
    }
}

/// `c` assigned as a FRST without amendment, under `end_to_end_id`.
pub fn frst_assignment(c: &collecte::store::DueCollection, end_to_end_id: String) -> collecte::store::Assignment {
    collecte::store::Assignment {
        id: c.id,
        mandate_key: c.mandate_key,
        end_to_end_id,
        sequence_type: "FRST",
        requested_date: c.due_date,
        original_mandate_id: None,
        original_scheme_id: None,
        original_debtor_account: None,
        amount_cents: c.amount_cents,
    }
}

/// Every EndToEndId in a pain.008 file.
pub fn end_to_end_ids(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    text.split("<EndToEndId>")
        .skip(1)
        .map(|s| s.split('<').next().unwrap_or_default().to_owned())
        .collect()
}

/// `n` customers with a mandate and a monthly plan each, first due Monday 23 Nov 2026
/// (collected by the run of Friday 20 Nov, D-1).
pub fn seed_monthly_plans(project: &Project, n: usize) {
    let mut customers = "reference,name,email,street,building,postcode,town,country\n".to_owned();
    let mut mandates = "mandate_id,customer_reference,iban,bic,signed_on,channel\n".to_owned();
    let mut plans =
        "plan_id,customer_reference,mandate_id,amount,frequency,start_date,count,day_of_month,description\n".to_owned();
    for i in 0..n {
        customers.push_str(&format!("K{i},Customer {i},,,,,,\n"));
        mandates.push_str(&format!("KM{i},K{i},FR1420041010050500013M02606,,2026-01-01,web\n"));
        plans.push_str(&format!(
            "KP{i},K{i},KM{i},{}.{:02},monthly,2026-11-23,,,Plan {i}\n",
            1 + i % 90,
            i % 100
        ));
    }
    project.import("customers", &customers);
    project.import("mandates", &mandates);
    project.import("plans", &plans);
}

/// Every EndToEndId across the outbox, with how many times it appears.
pub fn outbox_end_to_end_ids(project: &Project) -> std::collections::HashMap<String, usize> {
    let mut seen = std::collections::HashMap::new();
    for file in project.outbox() {
        for id in end_to_end_ids(&file) {
            *seen.entry(id).or_default() += 1;
        }
    }
    seen
}

/// Plays the bank on one of our pain.008 files: its pain.002 and camt.054 for `decisions`
/// (in `versions`), dropped into the inbox as `status.xml` and `notification.xml`, and
/// returned for the caller's own checks.
pub fn drop_bank_replies(
    project: &Project,
    pain008: &Path,
    decisions: &collecte::sepa::bank::Decisions,
    versions: (
        collecte::sepa::bank::Pain002Version,
        collecte::sepa::bank::Camt054Version,
    ),
) -> (Vec<u8>, Vec<u8>) {
    use collecte::sepa::bank::{BankReply, OriginalMessage, ReportHeader};
    let original =
        OriginalMessage::from_pain008(std::io::BufReader::new(std::fs::File::open(pain008).unwrap())).unwrap();
    let reply = BankReply::new(&original, decisions).unwrap();
    let header = |n: &str| ReportHeader {
        message_id: collecte::sepa::MessageId::parse(n).unwrap(),
        created_at: chrono::DateTime::parse_from_rfc3339("2026-12-22T18:00:00+01:00").unwrap(),
    };
    let mut pain002 = Vec::new();
    reply
        .write_pain002(&mut pain002, versions.0, &header("BANK-PAIN002-1"))
        .unwrap();
    let mut camt054 = Vec::new();
    reply
        .write_camt054(&mut camt054, versions.1, &header("BANK-CAMT054-1"), None)
        .unwrap();
    std::fs::write(project.folder("inbox").join("status.xml"), &pain002).unwrap();
    std::fs::write(project.folder("inbox").join("notification.xml"), &camt054).unwrap();
    (pain002, camt054)
}

/// Runs raw SQL against the test database: to prove the schema's own constraints, or to put
/// the ledger in a state only a crash leaves.
pub async fn raw_exec(url: &DatabaseUrl, sql: &str) -> Result<u64, sqlx::Error> {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    match url {
        DatabaseUrl::Sqlite(p) => {
            let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", p.display())).await?;
            sqlx::query(sql).execute(&mut c).await.map(|r| r.rows_affected())
        }
        DatabaseUrl::Postgres(u) => {
            let mut c = sqlx::PgConnection::connect(u).await?;
            sqlx::query(sql).execute(&mut c).await.map(|r| r.rows_affected())
        }
    }
}
