//! Plans and the collections they materialise.

use chrono::{DateTime, NaiveDate, Utc};

use super::CreditorKey;
use crate::domain::installments::{Action, Existing, Terms};
use crate::domain::records::PlanRecord;
use crate::domain::schedule::Frequency;
use crate::sepa::Money;

/// Everything needed to bring one stated plan into the ledger.
pub(super) struct PlanSync<'a> {
    pub creditor: CreditorKey,
    pub customer_id: i64,
    pub mandate_id: Option<i64>,
    pub card_id: Option<i64>,
    pub record: &'a PlanRecord,
    pub today: NaiveDate,
    pub now: DateTime<Utc>,
}

/// Whether the plan row itself was created, changed or left alone.
pub(super) enum RowEffect {
    Inserted,
    Updated,
    Unchanged,
}

/// The effect of one plan sync.
pub(super) struct PlanOutcome {
    pub row: RowEffect,
    pub collections_changed: u64,
}

pub(super) type TermsRow = (NaiveDate, i64, String, Option<i64>);
pub(super) type ExistingRow = (i64, i64, NaiveDate, i64, bool);

/// Reads stored terms rows back into domain terms (the schema's CHECKs make failure a bug).
pub(super) fn terms_from_rows(rows: Vec<TermsRow>) -> Result<Vec<Terms>, super::StoreError> {
    rows.into_iter()
        .map(|(effective_from, cents, frequency, dom)| {
            let corrupt = |what: String| super::StoreError::Corrupt(what);
            Ok(Terms {
                effective_from,
                amount: Money::from_cents(cents).map_err(|e| corrupt(e.to_string()))?,
                frequency: frequency.parse::<Frequency>().map_err(|e| corrupt(e.to_string()))?,
                day_of_month: dom
                    .map(u8::try_from)
                    .transpose()
                    .map_err(|_| corrupt(format!("plan day of month {dom:?} out of range")))?,
            })
        })
        .collect()
}

/// Reads stored first-attempt collections into domain values.
pub(super) fn existing_from_rows(rows: Vec<ExistingRow>) -> Result<Vec<Existing>, super::StoreError> {
    rows.into_iter()
        .map(|(id, installment, due_date, cents, open)| {
            Ok(Existing {
                id,
                installment: u32::try_from(installment).map_err(|_| {
                    super::StoreError::Corrupt(format!("collection {id} has installment {installment}"))
                })?,
                due_date,
                amount: Money::from_cents(cents).map_err(|e| super::StoreError::Corrupt(e.to_string()))?,
                open,
            })
        })
        .collect()
}

/// A timeline line for an action.
pub(super) fn describe(action: &Action) -> (&'static str, String) {
    match action {
        Action::Insert {
            installment,
            due_date,
            amount,
        } => (
            "created",
            format!("installment {installment}, due {due_date}, {amount} EUR"),
        ),
        Action::InsertSkipped {
            installment,
            due_date,
            amount,
        } => (
            "cancelled",
            format!("installment {installment}, due {due_date}, {amount} EUR: skipped, plan paused"),
        ),
        Action::Update { due_date, amount, .. } => ("rescheduled", format!("now due {due_date}, {amount} EUR")),
        Action::Remove { .. } => ("removed", String::new()),
        Action::Cancel { reason, .. } => ("cancelled", (*reason).to_owned()),
    }
}

/// Materialises one plan's collections inside the caller's transaction: loads its terms and
/// first-attempt collections, asks the domain what to change, applies it. Evaluates to the
/// number of collections changed. `$plan` is `(plan_id, creditor_id, customer_id,
/// mandate_id, card_id, count)`.
macro_rules! materialize_plan {
    ($tx:expr, $plan:expr, $lifecycle:expr, $today:expr, $now:expr) => {{
        let (plan_id, creditor_id, customer_id, mandate_id, card_id, count): (i64, i64, i64, Option<i64>, Option<i64>, Option<u32>) = $plan;
        let terms_rows: Vec<$crate::store::plans::TermsRow> = sqlx::query_as(
            "SELECT effective_from, amount_cents, frequency, day_of_month FROM plan_terms WHERE plan_id = $1 ORDER BY effective_from",
        )
        .bind(plan_id)
        .fetch_all(&mut *$tx)
        .await
        .doing("reading plan terms")?;
        let terms = $crate::store::plans::terms_from_rows(terms_rows)?;
        let existing_rows: Vec<$crate::store::plans::ExistingRow> = sqlx::query_as(
            "SELECT id, installment, due_date, amount_cents, status = 'pending' AND collection_file_id IS NULL
             FROM collections WHERE plan_id = $1 AND attempt = 1 ORDER BY installment",
        )
        .bind(plan_id)
        .fetch_all(&mut *$tx)
        .await
        .doing("reading plan collections")?;
        let existing = $crate::store::plans::existing_from_rows(existing_rows)?;
        let actions = $crate::domain::installments::plan_actions(&terms, count, $lifecycle, &existing, $today)
            .map_err(|e| $crate::store::StoreError::Corrupt(format!("plan {plan_id}: {e}")))?;
        // A plan whose schedule has ended gets a watermark no refresh reaches.
        let far = chrono::NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(chrono::NaiveDate::MAX);
        let next_due = $crate::domain::installments::next_beyond_horizon(&terms, count, $today).unwrap_or(far);
        sqlx::query("UPDATE plans SET next_due = $1 WHERE id = $2")
            .bind(next_due)
            .bind(plan_id)
            .execute(&mut *$tx)
            .await
            .doing("recording a plan's next due date")?;
        for action in &actions {
            use $crate::domain::installments::Action;
            let (kind, detail) = $crate::store::plans::describe(action);
            let collection_id: i64 = match action {
                Action::Insert { installment, due_date, amount } | Action::InsertSkipped { installment, due_date, amount } => {
                    let status = if matches!(action, Action::Insert { .. }) { "pending" } else { "cancelled" };
                    sqlx::query_scalar(
                        "INSERT INTO collections (creditor_id, plan_id, customer_id, mandate_id, card_id, installment, attempt, due_date, amount_cents, status, created_at, updated_at)
                         VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8, $9, $10, $10) RETURNING id",
                    )
                    .bind(creditor_id)
                    .bind(plan_id)
                    .bind(customer_id)
                    .bind(mandate_id)
                    .bind(card_id)
                    .bind(i64::from(*installment))
                    .bind(*due_date)
                    .bind(amount.cents())
                    .bind(status)
                    .bind($now)
                    .fetch_one(&mut *$tx)
                    .await
                    .doing("creating a collection")?
                }
                Action::Update { id, due_date, amount } => {
                    sqlx::query("UPDATE collections SET due_date = $1, amount_cents = $2, updated_at = $3 WHERE id = $4")
                        .bind(*due_date)
                        .bind(amount.cents())
                        .bind($now)
                        .bind(*id)
                        .execute(&mut *$tx)
                        .await
                        .doing("rescheduling a collection")?;
                    *id
                }
                Action::Remove { id } => {
                    sqlx::query("DELETE FROM collection_events WHERE collection_id = $1")
                        .bind(*id)
                        .execute(&mut *$tx)
                        .await
                        .doing("removing a collection's events")?;
                    sqlx::query("DELETE FROM collections WHERE id = $1 AND status = 'pending' AND collection_file_id IS NULL")
                        .bind(*id)
                        .execute(&mut *$tx)
                        .await
                        .doing("removing a collection")?;
                    continue;
                }
                Action::Cancel { id, reason } => {
                    sqlx::query("UPDATE collections SET status = 'cancelled', failure_reason = $1, updated_at = $2 WHERE id = $3")
                        .bind(*reason)
                        .bind($now)
                        .bind(*id)
                        .execute(&mut *$tx)
                        .await
                        .doing("cancelling a collection")?;
                    *id
                }
            };
            sqlx::query("INSERT INTO collection_events (collection_id, occurred_at, kind, detail) VALUES ($1, $2, $3, $4)")
                .bind(collection_id)
                .bind($now)
                .bind(kind)
                .bind(detail)
                .execute(&mut *$tx)
                .await
                .doing("recording a collection event")?;
        }
        actions.len() as u64
    }};
}
pub(super) use materialize_plan;

/// Inserts or updates one stated plan and materialises its collections. Evaluates to
/// `Result<PlanOutcome, Vec<PlanProblem>>`; database errors return from the caller.
macro_rules! sync_plan {
    ($tx:expr, $sync:expr) => {{
        use $crate::domain::plan_changes::{self, StoredPlan, StoredState, TermsChange};
        use $crate::store::plans::{PlanOutcome, RowEffect};
        let s: $crate::store::plans::PlanSync<'_> = $sync;
        let p = s.record;
        let count = p.count;
        type PlanRow = (i64, i64, Option<i64>, Option<i64>, Option<i64>, Option<String>, String, Option<NaiveDate>);
        let old: Option<PlanRow> = sqlx::query_as(
            "SELECT id, customer_id, mandate_id, card_id, installment_count, description, status, paused_on
             FROM plans WHERE creditor_id = $1 AND reference = $2",
        )
        .bind(s.creditor.0)
        .bind(p.plan_id.as_str())
        .fetch_optional(&mut *$tx)
        .await
        .doing("reading a plan")?;
        'sync: {
            let (plan_id, row, update) = match old {
                None => {
                    let state = plan_changes::initial_state(p, s.today);
                    let id: i64 = sqlx::query_scalar(
                        "INSERT INTO plans (creditor_id, reference, customer_id, mandate_id, card_id, installment_count, description, status, paused_on, created_at, updated_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
                    )
                    .bind(s.creditor.0)
                    .bind(p.plan_id.as_str())
                    .bind(s.customer_id)
                    .bind(s.mandate_id)
                    .bind(s.card_id)
                    .bind(count.map(i64::from))
                    .bind(p.description.as_deref())
                    .bind(state.status())
                    .bind(state.paused_on())
                    .bind(s.now)
                    .fetch_one(&mut *$tx)
                    .await
                    .doing("inserting a plan")?;
                    let update = plan_changes::PlanUpdate {
                        changed: true,
                        terms: TermsChange::ReplaceAll(plan_changes::initial_terms(p)),
                        state,
                        lifecycle: plan_changes::lifecycle_of(state),
                    };
                    (id, RowEffect::Inserted, update)
                }
                Some((id, owner, old_mandate, old_card, old_count, description, status, paused_on)) => {
                    if owner != s.customer_id {
                        break 'sync Err(vec![("customer_reference", p.customer.to_string(), "the plan belongs to another customer; a plan cannot change hands".to_owned())]);
                    }
                    let terms_rows: Vec<$crate::store::plans::TermsRow> = sqlx::query_as(
                        "SELECT effective_from, amount_cents, frequency, day_of_month FROM plan_terms WHERE plan_id = $1 ORDER BY effective_from",
                    )
                    .bind(id)
                    .fetch_all(&mut *$tx)
                    .await
                    .doing("reading plan terms")?;
                    let started: bool = sqlx::query_scalar(
                        "SELECT EXISTS (SELECT 1 FROM collections WHERE plan_id = $1 AND (status <> 'pending' OR collection_file_id IS NOT NULL) AND status <> 'cancelled')",
                    )
                    .bind(id)
                    .fetch_one(&mut *$tx)
                    .await
                    .doing("reading plan collections")?;
                    let state = StoredState::from_columns(&status, paused_on)
                        .ok_or_else(|| $crate::store::StoreError::Corrupt(format!("plan {id} has status {status:?}")))?;
                    let stored = StoredPlan {
                        count: old_count.and_then(|c| u32::try_from(c).ok()),
                        description,
                        state,
                        terms: $crate::store::plans::terms_from_rows(terms_rows)?,
                        started,
                        method_changed: (old_mandate, old_card) != (s.mandate_id, s.card_id),
                    };
                    let update = match plan_changes::plan_update(&stored, p, s.today) {
                        Ok(u) => u,
                        Err(problems) => break 'sync Err(problems),
                    };
                    if !update.changed {
                        break 'sync Ok(PlanOutcome { row: RowEffect::Unchanged, collections_changed: 0 });
                    }
                    sqlx::query(
                        "UPDATE plans SET mandate_id = $1, card_id = $2, installment_count = $3, description = $4, status = $5, paused_on = $6, updated_at = $7 WHERE id = $8",
                    )
                    .bind(s.mandate_id)
                    .bind(s.card_id)
                    .bind(count.map(i64::from))
                    .bind(p.description.as_deref())
                    .bind(update.state.status())
                    .bind(update.state.paused_on())
                    .bind(s.now)
                    .bind(id)
                    .execute(&mut *$tx)
                    .await
                    .doing("updating a plan")?;
                    sqlx::query("UPDATE collections SET mandate_id = $1, card_id = $2, updated_at = $3 WHERE plan_id = $4 AND status = 'pending' AND collection_file_id IS NULL")
                        .bind(s.mandate_id)
                        .bind(s.card_id)
                        .bind(s.now)
                        .bind(id)
                        .execute(&mut *$tx)
                        .await
                        .doing("moving pending collections to the plan's payment method")?;
                    (id, RowEffect::Updated, update)
                }
            };
            let new_terms = match &update.terms {
                TermsChange::None => None,
                TermsChange::ReplaceAll(t) => {
                    sqlx::query("DELETE FROM plan_terms WHERE plan_id = $1")
                        .bind(plan_id)
                        .execute(&mut *$tx)
                        .await
                        .doing("replacing plan terms")?;
                    Some(t)
                }
                TermsChange::ReplaceLast(t) => {
                    sqlx::query("DELETE FROM plan_terms WHERE plan_id = $1 AND effective_from = $2")
                        .bind(plan_id)
                        .bind(t.effective_from)
                        .execute(&mut *$tx)
                        .await
                        .doing("replacing plan terms")?;
                    Some(t)
                }
                TermsChange::Append(t) => Some(t),
            };
            if let Some(t) = new_terms {
                sqlx::query(
                    "INSERT INTO plan_terms (plan_id, effective_from, amount_cents, frequency, day_of_month, recorded_at) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(plan_id)
                .bind(t.effective_from)
                .bind(t.amount.cents())
                .bind(t.frequency.as_str())
                .bind(t.day_of_month.map(i64::from))
                .bind(s.now)
                .execute(&mut *$tx)
                .await
                .doing("recording plan terms")?;
            }
            let plan = (plan_id, s.creditor.0, s.customer_id, s.mandate_id, s.card_id, count);
            let collections_changed = $crate::store::plans::materialize_plan!($tx, plan, update.lifecycle, s.today, s.now);
            Ok(PlanOutcome { row, collections_changed })
        }
    }};
}
pub(super) use sync_plan;
