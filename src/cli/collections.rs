//! `collecte collections` and `collecte show`.

use std::path::Path;

use chrono::NaiveDate;
use clap::Args;

use super::output::{Format, ReportFormat, Tabular, print_row_stream};
use super::{CliError, Context, parse_date};
use crate::store::{CollectionFilter, CollectionRow, CollectionStatus};

/// Filters and format of `collections`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// pending, submitted, settled, failed, ignored or cancelled.
    #[arg(long, value_parser = parse_status)]
    pub status: Option<CollectionStatus>,
    /// Only this customer (its reference).
    #[arg(long, value_name = "REFERENCE")]
    pub customer: Option<String>,
    /// Due on or after this date.
    #[arg(long, value_parser = parse_date, value_name = "YYYY-MM-DD")]
    pub from: Option<NaiveDate>,
    /// Due on or before this date.
    #[arg(long, value_parser = parse_date, value_name = "YYYY-MM-DD")]
    pub to: Option<NaiveDate>,
    /// Only the collections of this pain.008 file: its name or path in the outbox, or its MsgId.
    #[arg(long, value_name = "FILE")]
    pub file: Option<String>,
    /// table, csv or json.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Which collection `show` shows.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The collection id (first column of `collections`).
    pub id: i64,
    /// table or json.
    #[arg(long, value_enum, default_value_t)]
    pub format: ReportFormat,
}

fn parse_status(s: &str) -> Result<CollectionStatus, String> {
    CollectionStatus::parse(s).ok_or_else(|| {
        let all: Vec<&str> = CollectionStatus::ALL.iter().map(|s| s.as_str()).collect();
        format!("expected one of {}", all.join(", "))
    })
}

impl Tabular for CollectionRow {
    const HEADERS: &'static [&'static str] = &[
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
        "file",
        "file_state",
        "reason",
    ];

    fn cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.plan_id.clone(),
            self.customer_reference.clone(),
            self.mandate_id.clone().unwrap_or_default(),
            self.debtor_iban.clone().unwrap_or_default(),
            self.due_date.to_string(),
            self.amount.to_string(),
            self.currency.clone(),
            self.status.as_str().to_owned(),
            self.attempt.to_string(),
            self.end_to_end_id.clone().unwrap_or_default(),
            self.file.clone().unwrap_or_default(),
            self.file_state.map(|s| s.as_str().to_owned()).unwrap_or_default(),
            // Last: the one long column of the table.
            self.short_reason().unwrap_or_default().to_owned(),
        ]
    }
}

/// Lists collections.
pub async fn list(explicit_config: Option<&Path>, args: ListArgs) -> Result<(), CliError> {
    if let (Some(from), Some(to)) = (args.from, args.to)
        && from > to
    {
        return Err(CliError::Input(format!("--from {from} is after --to {to}")));
    }
    let ctx = Context::open(explicit_config).await?;
    let filter = CollectionFilter {
        status: args.status,
        customer: args.customer,
        from: args.from,
        to: args.to,
        // A path works too (`outbox/CLT-….xml`): the ledger knows the file by its name.
        file: args.file.map(|f| {
            Path::new(&f)
                .file_name()
                .map_or(f.clone(), |n| n.to_string_lossy().into_owned())
        }),
    };
    // An unknown file (a typo) is refused before anything is listed, so that it is not
    // mistaken for a file with nothing matching the other filters.
    if let Some(file) = filter.file.as_deref()
        && !ctx
            .store
            .has_file(ctx.creditor, file)
            .await
            .map_err(anyhow::Error::new)?
    {
        ctx.store.close().await;
        return Err(CliError::Input(format!(
            "no pain.008 file {file:?} in this ledger (give its name in the outbox, its path or its MsgId)"
        )));
    }
    print_row_stream(args.format, ctx.store.collections(ctx.creditor, &filter)).await?;
    ctx.store.close().await;
    Ok(())
}

/// Shows one collection's timeline.
pub async fn show(explicit_config: Option<&Path>, args: ShowArgs) -> Result<(), CliError> {
    let ctx = Context::open(explicit_config).await?;
    let found = ctx
        .store
        .collection_timeline(ctx.creditor, args.id)
        .await
        .map_err(anyhow::Error::new)?;
    ctx.store.close().await;
    let Some((c, events)) = found else {
        return Err(CliError::Input(format!("no collection with id {}", args.id)));
    };
    let text = match args.format {
        ReportFormat::Json => serde_json::to_string_pretty(&serde_json::json!({ "collection": c, "timeline": events }))
            .map_err(anyhow::Error::new)?,
        ReportFormat::Table => {
            let mut s = format!(
                "collection {}: plan {}, customer {} ({}), installment {}, attempt {}\n{} EUR due {}, status {}",
                c.id,
                c.plan_id,
                c.customer_reference,
                c.customer_name,
                c.installment,
                c.attempt,
                c.amount,
                c.due_date,
                c.status.as_str()
            );
            if let Some(m) = &c.mandate_id {
                s.push_str(&format!(", mandate {m}"));
            }
            if let Some(iban) = &c.debtor_iban {
                s.push_str(&format!(", account {iban}"));
            }
            if let Some(e2e) = &c.end_to_end_id {
                s.push_str(&format!(", end-to-end id {e2e}"));
            }
            if let Some(r) = &c.reason {
                s.push_str(&format!("\nreason: {r}"));
            }
            s.push_str("\ntimeline:");
            for e in &events {
                s.push_str(&format!(
                    "\n  {}  {:<12} {}",
                    e.at.format("%Y-%m-%d %H:%M:%S UTC"),
                    e.kind,
                    e.detail
                ));
                if let Some(f) = &e.file {
                    s.push_str(&format!(" [{f}]"));
                }
            }
            s
        }
    };
    println!("{text}");
    Ok(())
}
