//! Reading a CSV table: header checks, row access with problem collection, cell parsers.

use chrono::NaiveDate;
use csv::StringRecord;

use super::{ImportError, ImportKind};
use crate::domain::records::{Numbered, RowProblem};

/// A CSV file being read, with the problems found so far.
pub(super) struct Table<'a> {
    headers: Vec<String>,
    reader: csv::Reader<&'a [u8]>,
    problems: Vec<RowProblem>,
    rows: u64,
}

/// Picks `;` when the header has more of them than `,` (Excel in French locales writes `;`).
fn delimiter(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or("");
    if header.matches(';').count() > header.matches(',').count() {
        b';'
    } else {
        b','
    }
}

impl<'a> Table<'a> {
    /// Reads and checks the header: every required column present, no unknown or repeated one.
    pub(super) fn read(kind: ImportKind, text: &'a str) -> Result<Self, ImportError> {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter(text))
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let headers: Vec<String> = reader
            .headers()
            .map_err(|e| ImportError::Header(e.to_string()))?
            .iter()
            .map(|h| h.trim().to_ascii_lowercase())
            .collect();
        if headers.iter().all(String::is_empty) {
            return Err(ImportError::Empty);
        }
        let known = |h: &str| kind.required_columns().contains(&h) || kind.optional_columns().contains(&h);
        let expected = || {
            let mut all = kind.required_columns().join(",");
            for optional in kind.optional_columns() {
                all.push_str(&format!(",[{optional}]"));
            }
            all
        };
        if let Some(unknown) = headers.iter().find(|h| !known(h)) {
            return Err(ImportError::Header(format!(
                "unknown column {unknown:?} for {} (expected {})",
                kind.name(),
                expected()
            )));
        }
        for (i, h) in headers.iter().enumerate() {
            if headers[..i].contains(h) {
                return Err(ImportError::Header(format!("column {h:?} appears twice")));
            }
        }
        let missing: Vec<&str> = kind
            .required_columns()
            .iter()
            .copied()
            .filter(|c| !headers.iter().any(|h| h == c))
            .collect();
        if !missing.is_empty() {
            return Err(ImportError::Header(format!(
                "missing column(s) {} for {} (expected {})",
                missing.join(", "),
                kind.name(),
                expected()
            )));
        }
        Ok(Self {
            headers,
            reader,
            problems: Vec::new(),
            rows: 0,
        })
    }

    /// Turns every data row into a record with `build`; rows with problems yield nothing.
    pub(super) fn records<T>(&mut self, mut build: impl FnMut(&mut Row<'_>) -> Option<T>) -> Vec<Numbered<T>> {
        let mut out = Vec::new();
        let mut record = StringRecord::new();
        loop {
            let line = self.reader.position().line() + 1;
            match self.reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    self.problems.push(RowProblem {
                        line,
                        column: String::new(),
                        value: String::new(),
                        reason: format!("unreadable CSV: {e}"),
                    });
                    break;
                }
            }
            let line = record.position().map_or(line, |p| p.line());
            if record.iter().all(str::is_empty) {
                continue;
            }
            self.rows += 1;
            if record.len() != self.headers.len() {
                self.problems.push(RowProblem {
                    line,
                    column: String::new(),
                    value: String::new(),
                    reason: format!("has {} fields, the header has {}", record.len(), self.headers.len()),
                });
                continue;
            }
            let before = self.problems.len();
            let mut row = Row {
                line,
                headers: &self.headers,
                record: &record,
                problems: &mut self.problems,
            };
            let built = build(&mut row);
            if let (Some(r), true) = (built, self.problems.len() == before) {
                out.push(Numbered { line, record: r });
            }
        }
        out
    }

    /// Ends the read: the row problems found, or an error when the file had no rows.
    pub(super) fn finish(self) -> Result<Vec<RowProblem>, ImportError> {
        if self.rows == 0 {
            return Err(ImportError::Empty);
        }
        Ok(self.problems)
    }
}

/// One data row; cell parsers record their problems on it.
pub(super) struct Row<'a> {
    line: u64,
    headers: &'a [String],
    record: &'a StringRecord,
    problems: &'a mut Vec<RowProblem>,
}

impl Row<'_> {
    /// The non-empty cell of a column, if the file has the column.
    pub(super) fn value(&self, column: &str) -> Option<&str> {
        let i = self.headers.iter().position(|h| h == column)?;
        self.record.get(i).filter(|v| !v.is_empty())
    }

    /// Records a problem with this row.
    pub(super) fn problem(&mut self, column: &str, value: &str, reason: impl Into<String>) {
        self.problems.push(RowProblem {
            line: self.line,
            column: column.to_owned(),
            value: value.to_owned(),
            reason: reason.into(),
        });
    }

    /// A cell that must hold a valid value.
    pub(super) fn required<T>(&mut self, column: &str, parse: impl FnOnce(&str) -> Result<T, String>) -> Option<T> {
        match self.value(column).map(str::to_owned) {
            None => {
                self.problem(column, "", "is required");
                None
            }
            Some(v) => parse(&v).map_err(|reason| self.problem(column, &v, reason)).ok(),
        }
    }

    /// A cell that may be empty: `Some(None)` when empty, `None` when its value is wrong.
    pub(super) fn optional<T>(
        &mut self,
        column: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<Option<T>> {
        match self.value(column).map(str::to_owned) {
            None => Some(None),
            Some(v) => parse(&v)
                .map(Some)
                .map_err(|reason| self.problem(column, &v, reason))
                .ok(),
        }
    }
}

/// Parses `2026-11-23` or `23/11/2026` (day first, as written in France and most of Europe).
pub(super) fn parse_date(v: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(v, "%d/%m/%Y"))
        .map_err(|_| "expected a date such as 2026-11-23 or 23/11/2026".to_owned())
}

/// Parses yes/no in the spellings spreadsheets produce.
pub(super) fn parse_bool(v: &str) -> Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "1" | "oui" | "vrai" => Ok(true),
        "false" | "no" | "n" | "0" | "non" | "faux" => Ok(false),
        _ => Err("expected true or false".to_owned()),
    }
}
