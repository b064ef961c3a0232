//! `collecte retry ID` and `collecte ignore ID`: a person's answer to a collection collect or
//! the bank gave up on ("present it again or set it aside").

use std::path::Path;

use chrono::NaiveDate;
use clap::Args;

use super::{CliError, Context, parse_date};
use crate::store::{Decided, Retried};

/// Options of `retry`.
#[derive(Debug, Args)]
pub struct RetryArgs {
    /// The failed collection's id (first column of `collections --status failed`).
    pub id: i64,
    /// Business date of the collect run that is to present it [default: today in the
    /// schedule's time zone]: the new attempt falls due on the first collection date that
    /// run reaches.
    #[arg(long, value_parser = parse_date, value_name = "YYYY-MM-DD")]
    pub date: Option<NaiveDate>,
}

/// Options of `ignore`.
#[derive(Debug, Args)]
pub struct IgnoreArgs {
    /// The failed collection's id (first column of `collections --status failed`).
    pub id: i64,
}

/// Presents a failed collection again as a new attempt.
pub async fn retry(explicit_config: Option<&Path>, args: RetryArgs) -> Result<(), CliError> {
    let ctx = Context::open(explicit_config).await?;
    let date = args.date.unwrap_or_else(|| ctx.today());
    let decided = ctx
        .store
        .retry_collection(ctx.creditor, args.id, date, ctx.config.bank.lead_days)
        .await
        .map_err(anyhow::Error::new);
    ctx.store.close().await;
    let Retried { id, attempt, due_date } = answer(args.id, "presented again", decided?)?;
    println!(
        "collection {} will be presented again as collection {id} (attempt {attempt}), due {due_date}: \
         the collect run for {date} puts it in a file",
        args.id
    );
    Ok(())
}

/// Sets a failed collection aside.
pub async fn ignore(explicit_config: Option<&Path>, args: IgnoreArgs) -> Result<(), CliError> {
    let ctx = Context::open(explicit_config).await?;
    let decided = ctx
        .store
        .ignore_collection(ctx.creditor, args.id)
        .await
        .map_err(anyhow::Error::new);
    ctx.store.close().await;
    answer(args.id, "set aside", decided?)?;
    println!(
        "collection {} is set aside (ignored): it will not be presented again",
        args.id
    );
    Ok(())
}

/// The decision's result, or the refusal as bad input (exit 3) naming the collection.
fn answer<T>(id: i64, what: &str, decided: Decided<T>) -> Result<T, CliError> {
    match decided {
        Decided::Done(done) => Ok(done),
        Decided::Refused(reason) => Err(CliError::Input(format!("collection {id} cannot be {what}: {reason}"))),
        Decided::NotFound => Err(CliError::Input(format!("no collection with id {id}"))),
    }
}
