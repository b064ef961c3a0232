//! The SQLite bulk path: statements that move many rows, run through `rusqlite` on a blocking
//! thread instead of through sqlx.
//!
//! sqlx-sqlite hands every row from its worker thread to the async caller one at a time and
//! copies every column value on the way (≈ 10–35 µs for a wide row here); rusqlite reads the
//! statement in place (≈ 1 µs). Only statements whose cost is the row transfer come here; the
//! SQL text is the same as on PostgreSQL (`$n` placeholders are SQLite named parameters, bound
//! by name). See ARCHITECTURE.md, "Decision: rusqlite for SQLite bulk reads".

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, Row};

use super::{Doing, StoreError};

/// The SQLite file the store's pool is connected to, for opening bulk connections.
#[derive(Debug, Clone)]
pub(super) struct SqliteFile(Arc<PathBuf>);

impl SqliteFile {
    pub(super) fn new(path: &Path) -> Self {
        Self(Arc::new(path.to_owned()))
    }

    /// The database file.
    pub(super) fn path(&self) -> &Path {
        &self.0
    }

    /// Runs `work` on a blocking thread with its own connection (the same settings as the
    /// pool's: foreign keys, `synchronous=FULL`, busy timeout; WAL is a property of the file).
    pub(super) async fn run<T, F>(&self, doing: &'static str, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let path = Arc::clone(&self.0);
        let joined = tokio::task::spawn_blocking(move || {
            let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
            let mut conn = Connection::open_with_flags(path.as_path(), flags).doing(doing)?;
            conn.busy_timeout(super::SQLITE_BUSY_TIMEOUT).doing(doing)?;
            conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;")
                .doing(doing)?;
            work(&mut conn)
        })
        .await;
        match joined {
            Ok(result) => result,
            // A panic in the work is a bug: let it continue as the panic it is.
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
}

impl<T> Doing<T> for Result<T, rusqlite::Error> {
    fn doing(self, doing: &'static str) -> Result<T, StoreError> {
        self.map_err(|source| match source.sqlite_error() {
            Some(e) if super::sqlite_busy_code(e.extended_code) => StoreError::Busy { doing },
            _ => StoreError::Sqlite { doing, source },
        })
    }
}

/// Reads typed columns of one row; every failure names the column and what it held.
pub(super) struct Columns<'a, 'r> {
    pub row: &'a Row<'r>,
    pub doing: &'static str,
}

impl Columns<'_, '_> {
    fn value(&self, i: usize) -> Result<ValueRef<'_>, StoreError> {
        self.row.get_ref(i).doing(self.doing)
    }

    fn corrupt(&self, i: usize, what: &str) -> StoreError {
        let name = self.row.as_ref().column_name(i).unwrap_or("?");
        StoreError::Corrupt(format!("{}: column {name} holds {what}", self.doing))
    }

    /// An integer column (booleans are 0/1 integers).
    pub fn int(&self, i: usize) -> Result<i64, StoreError> {
        match self.value(i)? {
            ValueRef::Integer(v) => Ok(v),
            other => Err(self.corrupt(i, &format!("{other:?}, not an integer"))),
        }
    }

    /// A 0/1 column.
    pub fn bool(&self, i: usize) -> Result<bool, StoreError> {
        self.int(i).map(|v| v != 0)
    }

    /// A text column that may be NULL.
    pub fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        match self.value(i)? {
            ValueRef::Null => Ok(None),
            ValueRef::Text(t) => match std::str::from_utf8(t) {
                Ok(t) => Ok(Some(t.to_owned())),
                Err(_) => Err(self.corrupt(i, "text that is not UTF-8")),
            },
            other => Err(self.corrupt(i, &format!("{other:?}, not text"))),
        }
    }

    /// A text column.
    pub fn text(&self, i: usize) -> Result<String, StoreError> {
        self.opt_text(i)?.ok_or_else(|| self.corrupt(i, "NULL"))
    }

    /// A date column that may be NULL (ISO `YYYY-MM-DD`, as sqlx stores it).
    pub fn opt_date(&self, i: usize) -> Result<Option<NaiveDate>, StoreError> {
        match self.value(i)? {
            ValueRef::Null => Ok(None),
            ValueRef::Text(t) => iso_date(t)
                .map(Some)
                .ok_or_else(|| self.corrupt(i, &format!("{:?}, not a date", String::from_utf8_lossy(t)))),
            other => Err(self.corrupt(i, &format!("{other:?}, not a date"))),
        }
    }

    /// A date column.
    pub fn date(&self, i: usize) -> Result<NaiveDate, StoreError> {
        self.opt_date(i)?.ok_or_else(|| self.corrupt(i, "NULL"))
    }

    /// A timestamp column (RFC 3339, as sqlx stores `DateTime<Utc>`; SQLite's own
    /// `YYYY-MM-DD HH:MM:SS` accepted too).
    pub fn timestamp(&self, i: usize) -> Result<DateTime<Utc>, StoreError> {
        let text = self.text(i)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|t| t.with_timezone(&Utc))
            .or_else(|_| NaiveDateTime::parse_from_str(&text, "%F %T%.f").map(|t| t.and_utc()))
            .map_err(|_| self.corrupt(i, &format!("{text:?}, not a timestamp")))
    }
}

/// `YYYY-MM-DD` without going through chrono's format parser (≈ 1,200 instructions a date).
fn iso_date(text: &[u8]) -> Option<NaiveDate> {
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        text.get(range)?
            .iter()
            .try_fold(0u32, |n, b| b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0')))
    };
    if text.len() != 10 || text[4] != b'-' || text[7] != b'-' {
        return None;
    }
    let year = i32::try_from(digits(0..4)?).ok()?;
    NaiveDate::from_ymd_opt(year, digits(5..7)?, digits(8..10)?)
}

/// The ISO text a date is stored as on SQLite (what sqlx binds for a `NaiveDate`).
pub(super) fn iso(date: NaiveDate) -> String {
    date.format("%F").to_string()
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    #[test]
    fn iso_dates_read_like_chrono_reads_them() {
        for text in ["2026-11-23", "2024-02-29", "1900-01-01", "9999-12-31"] {
            assert_eq!(
                super::iso_date(text.as_bytes()),
                NaiveDate::parse_from_str(text, "%F").ok(),
                "{text}"
            );
        }
        for text in [
            "2023-02-29",
            "2026-13-01",
            "2026-1-01",
            "2026/11/23",
            "20261123xx",
            "2026-11-2x",
        ] {
            assert_eq!(super::iso_date(text.as_bytes()), None, "{text}");
        }
    }
}
