//! Plans and the collections they materialise.

use chrono::NaiveDate;

use crate::domain::installments::{Action, Existing, Lifecycle, Terms};
use crate::domain::records::PlanRecord;
use crate::domain::schedule::Frequency;
use crate::sepa::Money;

/// One stated plan of an import file, its owner and payment method resolved.
pub(super) struct StatedPlan<'a> {
    pub line: u64,
    pub record: &'a PlanRecord,
    pub customer_id: i64,
    pub mandate_id: Option<i64>,
    pub card_id: Option<i64>,
    /// The plan's own final collection (OOFF or FNAL) ended that mandate.
    pub ended_its_mandate: bool,
}

/// A plan whose collections are to be brought in line with its terms.
pub(super) struct Materialize {
    /// The plan's reference (with the creditor, its natural key: bulk statements join on it).
    pub reference: String,
    /// Number of installments; `None` = open-ended.
    pub count: Option<u32>,
    /// Lifecycle to materialise with.
    pub lifecycle: Lifecycle,
    /// What the ledger holds for the plan.
    pub holds: Holds,
}

/// What the ledger holds for a plan about to be materialised.
pub(super) enum Holds {
    /// Inserted in this transaction: these terms, no collections (nothing to read back).
    New(Vec<Terms>),
    /// Stored (row id): its terms and first-attempt collections are read.
    Stored(i64),
}

/// `(plan_id, effective_from, amount_cents, frequency, day_of_month)`.
pub(super) type TermsRow = (i64, NaiveDate, i64, String, Option<i64>);
/// `(plan_id, id, installment, due_date, amount_cents, open)`.
pub(super) type ExistingRow = (i64, i64, i64, NaiveDate, i64, bool);
/// `(id, reference, customer_id, mandate_id, card_id, installment_count, description, status,
/// paused_on)`.
pub(super) type PlanRow = (
    i64,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    String,
    Option<NaiveDate>,
);

/// Reads stored terms rows back into domain terms (the schema's CHECKs make failure a bug).
pub(super) fn terms_from_rows(rows: Vec<TermsRow>) -> Result<Vec<Terms>, super::StoreError> {
    rows.into_iter()
        .map(|(_, effective_from, cents, frequency, dom)| {
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
        .map(|(_, id, installment, due_date, cents, open)| {
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

/// Reads the rows of `$select` (a query whose first column is the plan id, with `{}` for the
/// `IN` list of plan ids) for many plans, a JSON chunk of ids per statement, grouped by plan.
macro_rules! rows_by_plan {
    ($tx:expr, $row:ty, $select:literal, $ids:expr, $doing:expr) => {{
        use $crate::store::values::{JSON_ROWS_PER_STATEMENT, JsonColumn, json_array, json_rows};
        let mut by_plan: std::collections::HashMap<i64, Vec<$row>> = std::collections::HashMap::new();
        let sql = format!(
            "{} {}",
            json_rows(&$tx, 1, &[("id", JsonColumn::Int)]),
            format!($select, "SELECT id FROM v")
        );
        for chunk in $ids.chunks(JSON_ROWS_PER_STATEMENT) {
            let ids: Vec<[i64; 1]> = chunk.iter().map(|id| [*id]).collect();
            let query =
                sqlx::query_as::<_, $row>(sqlx::AssertSqlSafe(sql.as_str())).bind(json_array(&ids, "plan ids")?);
            for row in query.fetch_all(&mut *$tx).await.doing($doing)? {
                by_plan.entry(row.0).or_default().push(row);
            }
        }
        by_plan
    }};
}
pub(super) use rows_by_plan;

/// Refreshes the planner's statistics where the backend needs it before joining on rows
/// inserted earlier in the transaction (see `values::Backend::REFRESH_STATISTICS`).
macro_rules! refresh_statistics {
    ($tx:expr) => {
        if let Some(sql) = $crate::store::values::refresh_statistics(&$tx) {
            sqlx::query(sql)
                .execute(&mut *$tx)
                .await
                .doing("refreshing planner statistics")?;
        }
    };
}
pub(super) use refresh_statistics;

/// The terms of many plans, by plan, oldest first.
macro_rules! terms_by_plan {
    ($tx:expr, $ids:expr) => {
        $crate::store::plans::rows_by_plan!(
            $tx,
            $crate::store::plans::TermsRow,
            "SELECT plan_id, effective_from, amount_cents, frequency, day_of_month FROM plan_terms
             WHERE plan_id IN ({}) ORDER BY plan_id, effective_from",
            $ids,
            "reading plan terms"
        )
    };
}
pub(super) use terms_by_plan;

/// Materialises many plans' collections inside the caller's transaction: reads the terms and
/// first-attempt collections of the stored ones (a chunk of plans per statement), asks the
/// domain what to change, and applies it: new collections, their timeline events and the
/// plans' watermarks many rows per statement; the rare re-pricing, removal or cancellation
/// row by row. `$plans` is a `Vec<Materialize>`; evaluates to the number of collections
/// changed.
macro_rules! materialize_plans {
    ($tx:expr, $creditor_id:expr, $plans:expr, $today:expr, $now:expr) => {
        $crate::store::plans::materialize_plans!($tx, $creditor_id, $plans, $today, $now, analyze = true)
    };
    ($tx:expr, $creditor_id:expr, $plans:expr, $today:expr, $now:expr, analyze = $analyze:expr) => {{
        use $crate::domain::installments::Action;
        use $crate::store::plans::{Holds, Materialize, describe, existing_from_rows, terms_from_rows};
        use $crate::store::values::{JsonColumn, execute_json, json_rows};
        let creditor_id: i64 = $creditor_id;
        let today: chrono::NaiveDate = $today;
        let now: chrono::DateTime<chrono::Utc> = $now;
        let mut changed = 0u64;
        // `analyze = false` (a transaction that stays open, like a dry run's) skips the
        // statistics refresh: PostgreSQL's ANALYZE would lock out every other ANALYZE of
        // these tables, autovacuum's included, until the transaction ends.
        let mut refreshed = !$analyze;
        // A plan whose schedule has ended gets a watermark no refresh reaches.
        let far = chrono::NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(chrono::NaiveDate::MAX);
        // A chunk of plans at a time: what a chunk decides (its new collections and their
        // event texts) leaves memory before the next is read.
        let mut all = Vec::<Materialize>::into_iter($plans);
        loop {
            let plans: Vec<Materialize> = all.by_ref().take($crate::store::values::JSON_ROWS_PER_STATEMENT).collect();
            if plans.is_empty() {
                break;
            }
            let stored: Vec<i64> = plans
                .iter()
                .filter_map(|p| match p.holds {
                    Holds::Stored(id) => Some(id),
                    Holds::New(_) => None,
                })
                .collect();
            let mut terms_by = $crate::store::plans::terms_by_plan!($tx, stored);
            let mut existing_by = $crate::store::plans::rows_by_plan!(
                $tx,
                $crate::store::plans::ExistingRow,
                "SELECT plan_id, id, installment, due_date, amount_cents, status = 'pending' AND collection_file_id IS NULL
                 FROM collections WHERE attempt = 1 AND plan_id IN ({}) ORDER BY plan_id, installment",
                stored,
                "reading plan collections"
            );
            let mut watermarks: Vec<(&str, chrono::NaiveDate)> = Vec::with_capacity(plans.len());
            // (plan reference, installment, due date, cents, status, event kind, event detail)
            type NewCollection<'a> = (&'a str, i64, chrono::NaiveDate, i64, &'static str, &'static str, String);
            let mut inserts: Vec<NewCollection<'_>> = Vec::new();
            // Row-by-row changes and their timeline events, decided for every plan first and
            // executed after: no borrow of `plans` lives across an `.await` (rustc cannot prove
            // such a future `Send` where the worker needs it).
            let mut row_changes: Vec<(Action, &'static str, String)> = Vec::new();
            for p in &plans {
                let (terms, existing) = match &p.holds {
                    Holds::New(terms) => (std::borrow::Cow::Borrowed(terms.as_slice()), Vec::new()),
                    Holds::Stored(id) => (
                        std::borrow::Cow::Owned(terms_from_rows(terms_by.remove(id).unwrap_or_default())?),
                        existing_from_rows(existing_by.remove(id).unwrap_or_default())?,
                    ),
                };
                let actions = $crate::domain::installments::plan_actions(&terms, p.count, p.lifecycle, &existing, today)
                    .map_err(|e| $crate::store::StoreError::Corrupt(format!("plan {}: {e}", p.reference)))?;
                let next_due = $crate::domain::installments::next_beyond_horizon(&terms, p.count, today).unwrap_or(far);
                watermarks.push((p.reference.as_str(), next_due));
                changed += actions.len() as u64;
                for action in actions {
                    let (kind, detail) = describe(&action);
                    match action {
                        Action::Insert { installment, due_date, amount } | Action::InsertSkipped { installment, due_date, amount } => {
                            let status = if matches!(action, Action::Insert { .. }) { "pending" } else { "cancelled" };
                            inserts.push((p.reference.as_str(), i64::from(installment), due_date, amount.cents(), status, kind, detail));
                        }
                        other => row_changes.push((other, kind, detail)),
                    }
                }
            }
            for (action, kind, detail) in row_changes {
                let collection_id: i64 = match action {
                    Action::Insert { .. } | Action::InsertSkipped { .. } => continue,
                    Action::Update { id, due_date, amount } => {
                        sqlx::query("UPDATE collections SET due_date = $1, amount_cents = $2, updated_at = $3 WHERE id = $4")
                            .bind(due_date)
                            .bind(amount.cents())
                            .bind(now)
                            .bind(id)
                            .execute(&mut *$tx)
                            .await
                            .doing("rescheduling a collection")?;
                        id
                    }
                    Action::Remove { id } => {
                        sqlx::query("DELETE FROM collection_events WHERE collection_id = $1")
                            .bind(id)
                            .execute(&mut *$tx)
                            .await
                            .doing("removing a collection's events")?;
                        sqlx::query("DELETE FROM collections WHERE id = $1 AND status = 'pending' AND collection_file_id IS NULL")
                            .bind(id)
                            .execute(&mut *$tx)
                            .await
                            .doing("removing a collection")?;
                        continue;
                    }
                    Action::Cancel { id, reason } => {
                        sqlx::query("UPDATE collections SET status = 'cancelled', failure_reason = $1, updated_at = $2 WHERE id = $3")
                            .bind(reason)
                            .bind(now)
                            .bind(id)
                            .execute(&mut *$tx)
                            .await
                            .doing("cancelling a collection")?;
                        id
                    }
                };
                $crate::store::events::record_event(&mut $tx, collection_id, now, kind, &detail).await?;
            }
            let sql = format!(
                "{} UPDATE plans SET next_due = v.next_due FROM v WHERE plans.creditor_id = $1 AND plans.reference = v.reference",
                json_rows(&$tx, 2, &[("reference", JsonColumn::Text), ("next_due", JsonColumn::Date)])
            );
            execute_json!($tx, sql.as_str(), [creditor_id], watermarks, "plans' next due dates", "recording plans' next due dates");
            // After the row-by-row changes: a removed or rescheduled installment frees its date
            // before a new one takes it.
            let sql = format!(
                "{} INSERT INTO collections (creditor_id, plan_id, customer_id, mandate_id, card_id, installment, attempt, due_date, amount_cents, status, created_at, updated_at)
                 SELECT p.creditor_id, p.id, p.customer_id, p.mandate_id, p.card_id, v.installment, 1, v.due_date, v.cents, v.status, $2, $2
                 FROM v JOIN plans p ON p.creditor_id = $1 AND p.reference = v.reference",
                json_rows(&$tx, 3, &[
                    ("reference", JsonColumn::Text),
                    ("installment", JsonColumn::Int),
                    ("due_date", JsonColumn::Date),
                    ("cents", JsonColumn::Int),
                    ("status", JsonColumn::Text),
                ])
            );
            let created = execute_json!($tx, sql.as_str(), [creditor_id, now], inserts, map |(reference, installment, due_date, cents, status, _, _)| (reference, installment, due_date, cents, status), "new collections", "creating collections");
            if created != inserts.len() as u64 {
                return Err($crate::store::StoreError::Corrupt(format!(
                    "{created} of {} new collections found their plan",
                    inserts.len()
                )));
            }
            // Once: the first chunk's rows are enough for the planner to stop taking the table
            // for empty (each ANALYZE samples the table again).
            if !inserts.is_empty() && !refreshed {
                $crate::store::plans::refresh_statistics!($tx);
                refreshed = true;
            }
            let sql = format!(
                "{} INSERT INTO collection_events (collection_id, occurred_at, kind, detail)
                 SELECT c.id, $2, v.kind, v.detail
                 FROM v JOIN plans p ON p.creditor_id = $1 AND p.reference = v.reference
                 JOIN collections c ON c.plan_id = p.id AND c.installment = v.installment AND c.attempt = 1",
                json_rows(&$tx, 3, &[
                    ("reference", JsonColumn::Text),
                    ("installment", JsonColumn::Int),
                    ("kind", JsonColumn::Text),
                    ("detail", JsonColumn::Text),
                ])
            );
            execute_json!($tx, sql.as_str(), [creditor_id, now], inserts, map |(reference, installment, _, _, _, kind, detail)| (reference, installment, kind, detail), "collection events", "recording collection events");
        }
        changed
    }};
}
pub(super) use materialize_plans;

/// Brings the stated plans of an import file into the ledger. The stored plans they name are
/// read in bulk and compared in memory, so an unchanged re-import writes nothing; changed
/// plans are updated row by row; new plans and their first terms are inserted many rows per
/// statement; then every new or changed plan is materialised. `$stated` is a
/// `Vec<StatedPlan>`; counts go to `$counts`, refusals to `$problems`.
macro_rules! import_plans {
    ($tx:expr, $creditor:expr, $stated:expr, $today:expr, $now:expr, $counts:expr, $problems:expr) => {{
        use $crate::domain::plan_changes::{self, StoredPlan, StoredState, TermsChange};
        use $crate::store::plans::{Holds, Materialize, PlanRow, StatedPlan, terms_from_rows};
        use $crate::store::values::{JsonColumn, execute_json, json_rows};
        let creditor: $crate::store::CreditorKey = $creditor;
        let stated: Vec<StatedPlan<'_>> = $stated;
        let today: chrono::NaiveDate = $today;
        let now: chrono::DateTime<chrono::Utc> = $now;
        let mut stored: std::collections::HashMap<String, PlanRow> = $crate::store::values::named_rows!(
            $tx,
            PlanRow,
            "SELECT id, reference, customer_id, mandate_id, card_id, installment_count, description, status, paused_on
             FROM plans WHERE creditor_id = $1 AND reference IN (SELECT key FROM v)",
            creditor,
            stated.iter().map(|s| s.record.plan_id.as_str()),
            "reading plans"
        )
        .into_iter()
        .map(|row| (row.1.clone(), row))
        .collect();
        let ids: Vec<i64> = stored.values().map(|r| r.0).collect();
        let mut terms_by = $crate::store::plans::terms_by_plan!($tx, ids);
        let started = $crate::store::plans::rows_by_plan!(
            $tx,
            (i64,),
            "SELECT DISTINCT plan_id FROM collections WHERE plan_id IN ({})
             AND (status <> 'pending' OR collection_file_id IS NOT NULL) AND status <> 'cancelled'",
            ids,
            "reading plan collections"
        );
        let mut fresh: Vec<(&StatedPlan<'_>, StoredState)> = Vec::new();
        let mut materialize: Vec<Materialize> = Vec::new();
        for s in &stated {
            let p = s.record;
            let Some((id, _, owner, old_mandate, old_card, old_count, description, status, paused_on)) =
                stored.remove(p.plan_id.as_str())
            else {
                let state = plan_changes::initial_state(p, today);
                materialize.push(Materialize {
                    reference: p.plan_id.as_str().to_owned(),
                    count: p.count,
                    lifecycle: plan_changes::lifecycle_of(state),
                    holds: Holds::New(vec![plan_changes::initial_terms(p)]),
                });
                fresh.push((s, state));
                continue;
            };
            if owner != s.customer_id {
                $problems.push(problem(
                    s.line,
                    "customer_reference",
                    p.customer.as_str(),
                    "the plan belongs to another customer; a plan cannot change hands",
                ));
                continue;
            }
            let state = StoredState::from_columns(&status, paused_on)
                .ok_or_else(|| $crate::store::StoreError::Corrupt(format!("plan {id} has status {status:?}")))?;
            let stored_plan = StoredPlan {
                count: old_count.and_then(|c| u32::try_from(c).ok()),
                description,
                state,
                terms: terms_from_rows(terms_by.remove(&id).unwrap_or_default())?,
                started: started.contains_key(&id),
                method_changed: (old_mandate, old_card) != (s.mandate_id, s.card_id),
                ended_its_mandate: s.ended_its_mandate,
            };
            let update = match plan_changes::plan_update(&stored_plan, p, today) {
                Ok(u) => u,
                Err(reasons) => {
                    $problems.extend(reasons.into_iter().map(|(column, value, reason)| problem(s.line, column, &value, reason)));
                    continue;
                }
            };
            if !update.changed {
                $counts.unchanged += 1;
                continue;
            }
            sqlx::query(
                "UPDATE plans SET mandate_id = $1, card_id = $2, installment_count = $3, description = $4, status = $5, paused_on = $6, updated_at = $7 WHERE id = $8",
            )
            .bind(s.mandate_id)
            .bind(s.card_id)
            .bind(p.count.map(i64::from))
            .bind(p.description.as_deref())
            .bind(update.state.status())
            .bind(update.state.paused_on())
            .bind(now)
            .bind(id)
            .execute(&mut *$tx)
            .await
            .doing("updating a plan")?;
            sqlx::query("UPDATE collections SET mandate_id = $1, card_id = $2, updated_at = $3 WHERE plan_id = $4 AND status = 'pending' AND collection_file_id IS NULL")
                .bind(s.mandate_id)
                .bind(s.card_id)
                .bind(now)
                .bind(id)
                .execute(&mut *$tx)
                .await
                .doing("moving pending collections to the plan's payment method")?;
            let new_terms = match &update.terms {
                TermsChange::None => None,
                TermsChange::ReplaceAll(t) => {
                    sqlx::query("DELETE FROM plan_terms WHERE plan_id = $1")
                        .bind(id)
                        .execute(&mut *$tx)
                        .await
                        .doing("replacing plan terms")?;
                    Some(t)
                }
                TermsChange::ReplaceLast(t) => {
                    sqlx::query("DELETE FROM plan_terms WHERE plan_id = $1 AND effective_from = $2")
                        .bind(id)
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
                .bind(id)
                .bind(t.effective_from)
                .bind(t.amount.cents())
                .bind(t.frequency.as_str())
                .bind(t.day_of_month.map(i64::from))
                .bind(now)
                .execute(&mut *$tx)
                .await
                .doing("recording plan terms")?;
            }
            $counts.updated += 1;
            materialize.push(Materialize {
                reference: p.plan_id.as_str().to_owned(),
                count: p.count,
                lifecycle: update.lifecycle,
                holds: Holds::Stored(id),
            });
        }
        let sql = format!(
            "{} INSERT INTO plans (creditor_id, reference, customer_id, mandate_id, card_id, installment_count, description, status, paused_on, created_at, updated_at)
             SELECT $1, v.reference, v.customer_id, v.mandate_id, v.card_id, v.installment_count, v.description, v.status, v.paused_on, $2, $2 FROM v",
            json_rows(&$tx, 3, &[
                ("reference", JsonColumn::Text),
                ("customer_id", JsonColumn::Int),
                ("mandate_id", JsonColumn::Int),
                ("card_id", JsonColumn::Int),
                ("installment_count", JsonColumn::Int),
                ("description", JsonColumn::Text),
                ("status", JsonColumn::Text),
                ("paused_on", JsonColumn::Date),
            ])
        );
        execute_json!($tx, sql.as_str(), [creditor.0, now], fresh, map |(s, state)| {
            (
                s.record.plan_id.as_str(),
                s.customer_id,
                s.mandate_id,
                s.card_id,
                s.record.count,
                s.record.description.as_deref(),
                state.status(),
                state.paused_on(),
            )
        }, "new plans", "inserting plans");
        if !fresh.is_empty() {
            $crate::store::plans::refresh_statistics!($tx);
        }
        let sql = format!(
            "{} INSERT INTO plan_terms (plan_id, effective_from, amount_cents, frequency, day_of_month, recorded_at)
             SELECT p.id, v.effective_from, v.cents, v.frequency, v.day_of_month, $2
             FROM v JOIN plans p ON p.creditor_id = $1 AND p.reference = v.reference",
            json_rows(&$tx, 3, &[
                ("reference", JsonColumn::Text),
                ("effective_from", JsonColumn::Date),
                ("cents", JsonColumn::Int),
                ("frequency", JsonColumn::Text),
                ("day_of_month", JsonColumn::Int),
            ])
        );
        execute_json!($tx, sql.as_str(), [creditor.0, now], fresh, map |(s, _)| {
            let t = plan_changes::initial_terms(s.record);
            (s.record.plan_id.as_str(), t.effective_from, t.amount.cents(), t.frequency.as_str(), t.day_of_month)
        }, "plan terms", "recording plan terms");
        $counts.inserted += fresh.len() as u64;
        $counts.collections_changed += $crate::store::plans::materialize_plans!($tx, creditor.0, materialize, today, now);
    }};
}
pub(super) use import_plans;
