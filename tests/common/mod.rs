//! Test support shared by the integration suites: one fresh database per test on either
//! backend, the real PostgreSQL at 127.0.0.1:5432 included (never mocked, never skipped).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
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

/// Validates a pain.008 document with `xmllint --schema` against the official XSD of its
/// version; fails the test when xmllint or the XSD is missing or the file is refused.
pub fn assert_valid_pain008(xml: &[u8], version: collecte::sepa::pain008::Pain008Version) {
    use std::io::Write;
    let xsd = shared_samples()
        .join("xsd")
        .join(format!("{}.xsd", version.message_name()));
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
            "{} refused the file:\n{}\n--- file start ---\n{head}",
            version.message_name(),
            String::from_utf8_lossy(&out.stderr)
        );
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
                let admin = postgres_admin_url();
                let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap_or_else(|e| {
                    panic!("PostgreSQL is required for the tests and is not reachable at {admin}: {e}")
                });
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut conn)
                    .await
                    .expect("create test database");
                let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b).to_owned();
                Self {
                    url: DatabaseUrl::Postgres(format!("{base}/{name}")),
                    dir,
                    pg_name: Some(name),
                }
            }
        }
    }

    /// The URL as `DATABASE_URL` takes it.
    pub fn env_url(&self) -> String {
        match &self.url {
            DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
            DatabaseUrl::Postgres(u) => u.clone(),
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
