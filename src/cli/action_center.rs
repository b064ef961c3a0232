//! `collecte action-center`: the lists a person works through.

use std::path::Path;

use clap::{Args, Subcommand};

use super::output::{Format, Tabular, print_rows};
use super::{CliError, Context};
use crate::store::UnmatchedRow;

/// Which list.
#[derive(Debug, Subcommand)]
pub enum View {
    /// Bank entries and statuses that match nothing of ours (other payments on a statement,
    /// other creditors, unknown EndToEndIds): recorded, never dropped.
    Unmatched(FormatArg),
}

/// Output format.
#[derive(Debug, Args)]
pub struct FormatArg {
    /// table, csv or json.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

impl Tabular for UnmatchedRow {
    const HEADERS: &'static [&'static str] = &[
        "id",
        "file",
        "booking_date",
        "amount",
        "currency",
        "end_to_end_id",
        "description",
    ];

    fn cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.file.clone(),
            self.booking_date.map_or_else(String::new, |d| d.to_string()),
            self.amount.clone(),
            self.currency.clone(),
            self.end_to_end_id.clone().unwrap_or_default(),
            self.description.clone(),
        ]
    }
}

/// Prints one list.
pub async fn run(explicit_config: Option<&Path>, view: View) -> Result<(), CliError> {
    let ctx = Context::open(explicit_config).await?;
    match view {
        View::Unmatched(args) => {
            let rows = ctx.store.unmatched_entries().await.map_err(anyhow::Error::new)?;
            ctx.store.close().await;
            print_rows(args.format, &rows).map_err(|e| anyhow::anyhow!("cannot write to stdout: {e}"))?;
        }
    }
    Ok(())
}
