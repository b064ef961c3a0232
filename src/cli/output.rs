//! Printing rows as an aligned table, CSV or JSON.

use std::io::{self, Write};

use serde::Serialize;

/// Output formats every listing command offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    #[default]
    Table,
    /// Comma-separated values with a header, for spreadsheets and scripts.
    Csv,
    /// One JSON array (or object), for scripts.
    Json,
}

/// Output formats of the commands that print one report (a job's run, a file's summary, a
/// collection's timeline): a report is not a list of rows, so it has no CSV form, and asking
/// for one is bad usage (exit 2), not a run that prints nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ReportFormat {
    /// A summary for people.
    #[default]
    Table,
    /// One JSON object (an array where the report has several parts), for scripts.
    Json,
}

/// A row that can be shown as table or CSV cells.
pub trait Tabular: Serialize {
    /// Column titles.
    const HEADERS: &'static [&'static str];
    /// The row's cells, in `HEADERS` order.
    fn cells(&self) -> Vec<String>;
}

/// Writes rows to stdout in the format asked for.
pub fn print_rows<T: Tabular>(format: Format, rows: &[T]) -> io::Result<()> {
    let stdout = io::stdout();
    let mut sink = Rows::<T, _>::start(format, io::BufWriter::new(stdout.lock()))?;
    for row in rows {
        sink.push(row)?;
    }
    sink.finish()
}

/// Writes rows to stdout as the stream yields them. CSV and JSON hold one row at a time, so
/// an export of millions of collections takes the memory of one (a whole-ledger CSV of 2M
/// collections held 1.2 GB when listed at once); a table needs every row's cells for its
/// column widths.
pub async fn print_row_stream<T, E>(
    format: Format,
    mut rows: futures::stream::BoxStream<'_, Result<T, E>>,
) -> Result<(), super::CliError>
where
    T: Tabular,
    E: std::error::Error + Send + Sync + 'static,
{
    use futures::StreamExt;
    let stdout_error = |e: io::Error| super::CliError::Runtime(anyhow::anyhow!("cannot write to stdout: {e}"));
    let stdout = io::stdout();
    let mut sink = Rows::<T, _>::start(format, io::BufWriter::new(stdout.lock())).map_err(stdout_error)?;
    while let Some(row) = rows.next().await {
        let row = row.map_err(|e| super::CliError::Runtime(anyhow::Error::new(e)))?;
        sink.push(&row).map_err(stdout_error)?;
    }
    sink.finish().map_err(stdout_error)
}

/// Rows being written in one format: CSV and JSON as they come, a table once all are in.
enum Rows<T, W: Write> {
    Json {
        out: W,
        rows: usize,
    },
    // Boxed: the writer holds its state inline, ten times the other variants.
    Csv(Box<csv::Writer<W>>),
    Table {
        out: W,
        cells: Vec<Vec<String>>,
        row: std::marker::PhantomData<T>,
    },
}

impl<T: Tabular, W: Write> Rows<T, W> {
    fn start(format: Format, mut out: W) -> io::Result<Self> {
        Ok(match format {
            Format::Json => {
                write!(out, "[")?;
                Self::Json { out, rows: 0 }
            }
            Format::Csv => {
                let mut w = csv::Writer::from_writer(out);
                w.write_record(T::HEADERS).map_err(io::Error::other)?;
                Self::Csv(Box::new(w))
            }
            Format::Table => Self::Table {
                out,
                cells: Vec::new(),
                row: std::marker::PhantomData,
            },
        })
    }

    fn push(&mut self, row: &T) -> io::Result<()> {
        match self {
            // The array `serde_json::to_writer_pretty` writes, one element at a time: each
            // element indented by two spaces (a JSON string never holds a raw line break).
            Self::Json { out, rows } => {
                let text = serde_json::to_string_pretty(row).map_err(io::Error::other)?;
                write!(out, "{}", if *rows == 0 { "\n" } else { ",\n" })?;
                for (i, line) in text.lines().enumerate() {
                    write!(out, "{}  {line}", if i == 0 { "" } else { "\n" })?;
                }
                *rows += 1;
                Ok(())
            }
            Self::Csv(w) => w.write_record(row.cells()).map_err(io::Error::other),
            Self::Table { cells, .. } => {
                cells.push(row.cells());
                Ok(())
            }
        }
    }

    fn finish(self) -> io::Result<()> {
        match self {
            Self::Json { mut out, rows } => {
                writeln!(out, "{}]", if rows == 0 { "" } else { "\n" })?;
                out.flush()
            }
            Self::Csv(mut w) => w.flush(),
            Self::Table { mut out, cells, .. } => {
                let mut widths: Vec<usize> = T::HEADERS.iter().map(|h| h.chars().count()).collect();
                for row in &cells {
                    for (w, c) in widths.iter_mut().zip(row) {
                        *w = (*w).max(c.chars().count());
                    }
                }
                let line = |out: &mut W, row: &[String]| -> io::Result<()> {
                    let mut text = String::new();
                    for (i, (cell, w)) in row.iter().zip(&widths).enumerate() {
                        if i > 0 {
                            text.push_str("  ");
                        }
                        text.push_str(cell);
                        text.extend(std::iter::repeat_n(' ', w - cell.chars().count()));
                    }
                    writeln!(out, "{}", text.trim_end())
                };
                let headers: Vec<String> = T::HEADERS.iter().map(|h| (*h).to_owned()).collect();
                line(&mut out, &headers)?;
                for row in &cells {
                    line(&mut out, row)?;
                }
                writeln!(out, "({} row{})", cells.len(), if cells.len() == 1 { "" } else { "s" })?;
                out.flush()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Pair {
        name: String,
        note: Option<String>,
    }

    impl Tabular for Pair {
        const HEADERS: &'static [&'static str] = &["name", "note"];
        fn cells(&self) -> Vec<String> {
            vec![self.name.clone(), self.note.clone().unwrap_or_default()]
        }
    }

    fn written(format: Format, rows: &[Pair]) -> String {
        let mut out = Vec::new();
        let mut sink = Rows::<Pair, _>::start(format, &mut out).unwrap();
        for row in rows {
            sink.push(row).unwrap();
        }
        sink.finish().unwrap();
        String::from_utf8(out).unwrap()
    }

    fn pairs(n: usize) -> Vec<Pair> {
        (0..n)
            .map(|i| Pair {
                name: format!("Zoë \"{i}\"\nline, two"),
                note: (i % 2 == 0).then(|| "ok".to_owned()),
            })
            .collect()
    }

    /// Streamed one row at a time, the JSON is byte for byte the array serde_json writes for
    /// the whole list (scripts and tests parse either), empty or not.
    #[test]
    fn streamed_json_is_the_pretty_array() {
        for n in [0, 1, 3] {
            let rows = pairs(n);
            let whole = serde_json::to_string_pretty(&rows).unwrap() + "\n";
            assert_eq!(written(Format::Json, &rows), whole, "{n} rows");
        }
    }

    /// CSV: the header, then one record per row, quoted where a cell needs it.
    #[test]
    fn csv_has_a_header_and_quotes_what_needs_it() {
        assert_eq!(written(Format::Csv, &[]), "name,note\n");
        assert_eq!(
            written(Format::Csv, &pairs(2)),
            "name,note\n\"Zoë \"\"0\"\"\nline, two\",ok\n\"Zoë \"\"1\"\"\nline, two\",\n"
        );
    }

    /// A table is aligned on its widest cell (in characters, not bytes) and counts its rows.
    #[test]
    fn table_aligns_on_characters_and_counts_rows() {
        let rows = vec![
            Pair {
                name: "Zoë".into(),
                note: Some("x".into()),
            },
            Pair {
                name: "Al".into(),
                note: None,
            },
        ];
        assert_eq!(written(Format::Table, &rows), "name  note\nZoë   x\nAl\n(2 rows)\n");
        assert_eq!(written(Format::Table, &[]), "name  note\n(0 rows)\n");
    }
}
