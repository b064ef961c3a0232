//! A person's decisions on a failed collection: present it again as a new attempt
//! (`collecte retry`), or set it aside (`collecte ignore`). The rules are
//! [`crate::domain::manual`]'s; here they are applied to the ledger in one transaction each.

use chrono::{NaiveDate, Utc};

use super::events::record_event;
use super::{BeginWrite, CreditorKey, Doing, Store, StoreError, dispatch};
use crate::domain::manual::{RetryFacts, ignore_refusal, retry_due_date, retry_refusal};
use crate::sepa::money::format_cents;

/// What became of a person's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decided<T> {
    /// Done.
    Done(T),
    /// Not done, and why (a sentence for the person who asked).
    Refused(String),
    /// The creditor has no collection of that id.
    NotFound,
}

/// The new attempt a retry made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retried {
    /// The new collection's id.
    pub id: i64,
    /// Its attempt number (the failed one's plus one, per installment).
    pub attempt: i64,
    /// When it falls due: the next collect run for the business date asked puts it in a file.
    pub due_date: NaiveDate,
}

/// The failed collection as a retry reads it.
#[derive(sqlx::FromRow)]
struct Original {
    status: String,
    by_card: bool,
    plan_status: String,
    mandate_status: Option<String>,
    retried_as: Option<i64>,
    mandate_ended: bool,
    plan_id: i64,
    customer_id: i64,
    mandate_id: Option<i64>,
    installment: i64,
    amount_cents: i64,
}

impl Store {
    /// Presents a failed collection again: a new pending collection of the same installment
    /// and amount (attempt + 1, `retry_of` the failed one, its own EndToEndId when collect
    /// puts it in a file), due on the first date a collect run on `run_date` reaches. The
    /// failed collection stays failed, its timeline saying where it went.
    pub async fn retry_collection(
        &self,
        creditor: CreditorKey,
        id: i64,
        run_date: NaiveDate,
        lead_days: u32,
    ) -> Result<Decided<Retried>, StoreError> {
        let now = Utc::now();
        dispatch!(self, pool => {
            let mut tx = pool.begin_write().await.doing("starting a retry")?;
            let original: Option<Original> = sqlx::query_as(
                "SELECT c.status, c.card_id IS NOT NULL AS by_card, p.status AS plan_status, m.status AS mandate_status,
                    (SELECT MIN(r.id) FROM collections r WHERE r.retry_of = c.id) AS retried_as,
                    EXISTS (SELECT 1 FROM collections f WHERE f.mandate_id = c.mandate_id AND f.id <> c.id
                      AND f.sequence_type IN ('OOFF', 'FNAL') AND f.status IN ('submitted', 'settled')) AS mandate_ended,
                    c.plan_id, c.customer_id, c.mandate_id, c.installment, c.amount_cents
                 FROM collections c JOIN plans p ON p.id = c.plan_id LEFT JOIN mandates m ON m.id = c.mandate_id
                 WHERE c.creditor_id = $1 AND c.id = $2",
            )
            .bind(creditor.0)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .doing("reading the collection to retry")?;
            let Some(o) = original else { return Ok(Decided::NotFound) };
            let facts = RetryFacts {
                status: &o.status,
                by_card: o.by_card,
                plan_status: &o.plan_status,
                mandate_status: o.mandate_status.as_deref(),
                retried_as: o.retried_as,
                mandate_ended: o.mandate_ended,
            };
            if let Some(reason) = retry_refusal(&facts) {
                return Ok(Decided::Refused(reason));
            }
            let attempt: i64 = sqlx::query_scalar(
                "SELECT CAST(COALESCE(MAX(attempt), 0) + 1 AS BIGINT) FROM collections WHERE plan_id = $1 AND installment = $2",
            )
            .bind(o.plan_id)
            .bind(o.installment)
            .fetch_one(&mut *tx)
            .await
            .doing("numbering the new attempt")?;
            let taken: Vec<NaiveDate> = sqlx::query_scalar("SELECT due_date FROM collections WHERE plan_id = $1 AND attempt = $2")
                .bind(o.plan_id)
                .bind(attempt)
                .fetch_all(&mut *tx)
                .await
                .doing("reading the plan's dates of that attempt")?;
            let due_date = retry_due_date(run_date, lead_days, &taken);
            let new_id: i64 = sqlx::query_scalar(
                "INSERT INTO collections (creditor_id, plan_id, customer_id, mandate_id, installment, attempt, due_date,
                    amount_cents, status, retry_of, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $10, $10) RETURNING id",
            )
            .bind(creditor.0)
            .bind(o.plan_id)
            .bind(o.customer_id)
            .bind(o.mandate_id)
            .bind(o.installment)
            .bind(attempt)
            .bind(due_date)
            .bind(o.amount_cents)
            .bind(id)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .doing("inserting the new attempt")?;
            let events = [
                (id, "retried", format!("presented again as collection {new_id} (attempt {attempt}), due {due_date}")),
                (
                    new_id,
                    "created",
                    format!(
                        "installment {}, attempt {attempt} (retry of collection {id}), due {due_date}, {} EUR",
                        o.installment,
                        format_cents(o.amount_cents)
                    ),
                ),
            ];
            for (collection, kind, detail) in events {
                record_event(&mut tx, collection, now, kind, &detail).await?;
            }
            tx.commit().await.doing("committing the retry")?;
            Ok(Decided::Done(Retried { id: new_id, attempt, due_date }))
        })
    }

    /// Sets a failed collection aside (`ignored`): nothing chases it any more, and it leaves
    /// the list of collections to review.
    pub async fn ignore_collection(&self, creditor: CreditorKey, id: i64) -> Result<Decided<()>, StoreError> {
        let now = Utc::now();
        dispatch!(self, pool => {
            let mut tx = pool.begin_write().await.doing("starting to set a collection aside")?;
            let status: Option<String> = sqlx::query_scalar("SELECT status FROM collections WHERE creditor_id = $1 AND id = $2")
                .bind(creditor.0)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await
                .doing("reading the collection to set aside")?;
            let Some(status) = status else { return Ok(Decided::NotFound) };
            if let Some(reason) = ignore_refusal(&status) {
                return Ok(Decided::Refused(reason));
            }
            sqlx::query("UPDATE collections SET status = 'ignored', updated_at = $1 WHERE id = $2 AND status = 'failed'")
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await
                .doing("setting a collection aside")?;
            record_event(&mut tx, id, now, "ignored", "set aside by a person: not presented again").await?;
            tx.commit().await.doing("committing the decision")?;
            Ok(Decided::Done(()))
        })
    }
}
