//! A collection's timeline, one event at a time (bulk paths write theirs with their rows).

use chrono::{DateTime, Utc};

use super::{Doing, StoreError};

/// Adds one event to a collection's timeline.
pub(super) async fn record_event<'c, DB>(
    tx: &mut sqlx::Transaction<'c, DB>,
    collection: i64,
    at: DateTime<Utc>,
    kind: &str,
    detail: &str,
) -> Result<(), StoreError>
where
    DB: sqlx::Database,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> DateTime<Utc>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
    for<'e> &'e mut <DB as sqlx::Database>::Connection: sqlx::Executor<'e, Database = DB>,
{
    sqlx::query("INSERT INTO collection_events (collection_id, occurred_at, kind, detail) VALUES ($1, $2, $3, $4)")
        .bind(collection)
        .bind(at)
        .bind(kind)
        .bind(detail)
        .execute(&mut **tx)
        .await
        .doing("recording a collection event")?;
    Ok(())
}
