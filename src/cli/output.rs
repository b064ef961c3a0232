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
    let mut out = io::BufWriter::new(stdout.lock());
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, rows).map_err(io::Error::other)?;
            writeln!(out)?;
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut out);
            w.write_record(T::HEADERS).map_err(io::Error::other)?;
            for row in rows {
                w.write_record(row.cells()).map_err(io::Error::other)?;
            }
            w.flush()?;
        }
        Format::Table => {
            let cells: Vec<Vec<String>> = rows.iter().map(Tabular::cells).collect();
            let mut widths: Vec<usize> = T::HEADERS.iter().map(|h| h.chars().count()).collect();
            for row in &cells {
                for (w, c) in widths.iter_mut().zip(row) {
                    *w = (*w).max(c.chars().count());
                }
            }
            let line = |out: &mut dyn Write, row: &[String]| -> io::Result<()> {
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
            writeln!(out, "({} row{})", rows.len(), if rows.len() == 1 { "" } else { "s" })?;
        }
    }
    out.flush()
}
