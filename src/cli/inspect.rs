//! `collecte inspect FILE`: what a pain.008, pain.002 or camt file holds, without a database.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use clap::Args;

use super::CliError;
use super::output::ReportFormat;
use crate::sepa::pain008::{self, Pain008Summary};
use crate::sepa::reports::Limits;
use crate::sepa::reports::archive::is_zip;
use crate::sepa::reports::inspect::{InspectReport, inspect, inspect_bytes};

/// Which file and how to show it.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A pain.008, pain.002, camt.052/053/054 file, or a zip of such files.
    pub file: PathBuf,
    /// table (for people) or json (one object per message; an array for a zip).
    #[arg(long, value_enum, default_value_t)]
    pub format: ReportFormat,
}

/// Summarises the file; the type comes from its namespace, never from its name.
pub fn run(args: &InspectArgs) -> Result<(), CliError> {
    let path = &args.file;
    let unreadable = |e: std::io::Error| CliError::Input(format!("inspect {}: cannot read: {e}", path.display()));
    let mut reader = BufReader::with_capacity(1 << 16, File::open(path).map_err(unreadable)?);
    let head = reader.fill_buf().map_err(unreadable)?;
    let is_pain008 = !is_zip(head) && String::from_utf8_lossy(&head[..head.len().min(4096)]).contains(":pain.008.");
    let refused = |e: String| CliError::Input(format!("inspect {}: {e}", path.display()));
    let text = if is_pain008 {
        let summary = pain008::inspect(reader).map_err(|e| refused(e.to_string()))?;
        match args.format {
            ReportFormat::Json => serde_json::to_string_pretty(&summary).map_err(anyhow::Error::new)?,
            ReportFormat::Table => pain008_table(path, &summary),
        }
    } else {
        let reports = if is_zip(head) {
            let mut bytes = Vec::new();
            reader.read_to_end(&mut bytes).map_err(unreadable)?;
            inspect_bytes(&bytes, Limits::default()).map_err(|e| refused(e.to_string()))?
        } else {
            vec![inspect(reader, Limits::default()).map_err(|e| refused(e.to_string()))?]
        };
        match (args.format, reports.as_slice()) {
            (ReportFormat::Json, [one]) => serde_json::to_string_pretty(one).map_err(anyhow::Error::new)?,
            (ReportFormat::Json, many) => serde_json::to_string_pretty(many).map_err(anyhow::Error::new)?,
            (ReportFormat::Table, many) => many.iter().map(report_table).collect::<Vec<_>>().join("\n"),
        }
    };
    println!("{text}");
    Ok(())
}

fn pain008_table(path: &Path, s: &Pain008Summary) -> String {
    let mut out = format!(
        "{}: {} {}, created {}\n{} transaction(s), {} EUR (declared {} / {}){}\n",
        path.display(),
        s.message,
        s.message_id,
        s.created_at,
        s.counted_nb_of_txs,
        s.counted_ctrl_sum,
        s.declared_nb_of_txs,
        s.declared_ctrl_sum
            .map_or_else(|| "no control sum".to_owned(), |c| c.to_string()),
        if s.consistent {
            ""
        } else {
            "  INCONSISTENT: declared totals differ from the content"
        },
    );
    out.push_str("group                                date        seq   txs        total      ok\n");
    for g in &s.groups {
        out.push_str(&format!(
            "{:<36} {:<11} {:<5} {:>5} {:>12}  {}\n",
            g.payment_info_id,
            g.requested_collection_date,
            g.sequence_type.as_deref().unwrap_or("-"),
            g.counted_nb_of_txs,
            g.counted_ctrl_sum.to_string(),
            if g.consistent { "yes" } else { "NO" }
        ));
    }
    out.trim_end().to_owned()
}

fn report_table(r: &InspectReport) -> String {
    let mut out = format!(
        "{} {}{}: {} R-transaction(s), {} settlement(s), {} unmatched entr(y/ies)\n",
        r.message,
        r.message_id.as_deref().unwrap_or("(no id)"),
        r.group_status
            .as_deref()
            .map_or_else(String::new, |s| format!(", group status {s}")),
        r.r_transactions.len(),
        r.settlements.len(),
        r.unmatched_entries
    );
    for t in &r.r_transactions {
        out.push_str(&format!(
            "  {:<9} {:<5} {:<36} {:>12} {} {}\n",
            t.kind.as_str(),
            t.reason.as_deref().unwrap_or("-"),
            t.end_to_end_id
                .as_deref()
                .or(t.payment_information_id.as_deref())
                .unwrap_or("(whole file)"),
            t.amount.as_deref().unwrap_or("?"),
            t.currency.as_deref().unwrap_or(""),
            t.booking_date.map_or_else(String::new, |d| d.to_string()),
        ));
    }
    for s in &r.settlements {
        out.push_str(&format!(
            "  settled         {:<36} {:>12} {} {}\n",
            s.end_to_end_id
                .as_deref()
                .or(s.payment_information_id.as_deref())
                .unwrap_or("-"),
            s.amount.as_deref().unwrap_or("?"),
            s.currency.as_deref().unwrap_or(""),
            s.booking_date.map_or_else(String::new, |d| d.to_string()),
        ));
    }
    for w in &r.warnings {
        out.push_str(&format!("  warning: {w}\n"));
    }
    out.trim_end().to_owned()
}
