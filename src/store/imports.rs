//! CSV imports land here: each file in one transaction, all or nothing, upserted by natural key.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};

use super::plans::{StatedPlan, import_plans};
use super::values::{JsonColumn, execute_json, json_rows, named_rows};
use super::{BeginWrite, CreditorKey, Doing, Store, StoreError, dispatch};
use crate::domain::collect::mandate_in_force;
use crate::domain::records::{
    CardRecord, CustomerRecord, InvoiceRecord, MandateRecord, MandateState, Numbered, PaymentMethodRef, PaymentRecord,
    PlanRecord, RowProblem,
};

/// One parsed import file.
#[derive(Debug, Clone)]
pub enum ImportBatch {
    /// customers.csv
    Customers(Vec<Numbered<CustomerRecord>>),
    /// mandates.csv
    Mandates(Vec<Numbered<MandateRecord>>),
    /// cards.csv
    Cards(Vec<Numbered<CardRecord>>),
    /// plans.csv
    Plans(Vec<Numbered<PlanRecord>>),
    /// invoices.csv
    Invoices(Vec<Numbered<InvoiceRecord>>),
    /// payments.csv
    Payments(Vec<Numbered<PaymentRecord>>),
}

impl ImportBatch {
    /// Rows the file holds without problems (what a progress line says is being recorded).
    pub(crate) fn len(&self) -> usize {
        match self {
            Self::Customers(rows) => rows.len(),
            Self::Mandates(rows) => rows.len(),
            Self::Cards(rows) => rows.len(),
            Self::Plans(rows) => rows.len(),
            Self::Invoices(rows) => rows.len(),
            Self::Payments(rows) => rows.len(),
        }
    }
}

/// What an applied import changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportCounts {
    /// Rows that created a record.
    pub inserted: u64,
    /// Rows that changed a record.
    pub updated: u64,
    /// Rows identical to what the ledger holds.
    pub unchanged: u64,
    /// Mandate amendments recorded (new IBAN, new mandate id).
    pub amendments: u64,
    /// Collections created, re-priced, rescheduled, removed or cancelled by plan changes.
    pub collections_changed: u64,
    /// New mandates signed more than 36 months before the import date and with no
    /// `last_collected_on`: the next collect will find them lapsed. Usually a migration that
    /// left out when the replaced system last collected them.
    pub lapsed_on_arrival: u64,
}

impl ImportCounts {
    /// True when the file changed nothing at all.
    pub fn is_noop(&self) -> bool {
        self.inserted == 0 && self.updated == 0 && self.amendments == 0 && self.collections_changed == 0
    }
}

/// An import either applies whole or is refused whole with every problem found.
#[derive(Debug, Clone)]
pub enum ImportOutcome {
    /// Committed.
    Applied(ImportCounts),
    /// Nothing was written; these rows must be fixed.
    Refused(Vec<RowProblem>),
}

fn problem(line: u64, column: &str, value: &str, reason: impl Into<String>) -> RowProblem {
    RowProblem {
        line,
        column: column.to_owned(),
        value: value.to_owned(),
        reason: reason.into(),
    }
}

/// Flags a natural key seen twice in one file: the second row would silently win otherwise.
fn check_duplicates<'a>(keys: impl Iterator<Item = (u64, &'a str)>, column: &str, problems: &mut Vec<RowProblem>) {
    let mut seen: HashMap<&str, u64> = HashMap::new();
    for (line, key) in keys {
        if let Some(first) = seen.insert(key, line) {
            problems.push(problem(
                line,
                column,
                key,
                format!("appears twice in the file (also on line {first})"),
            ));
        }
    }
}

/// Customer ids by reference, for the references `$keys` (an iterator of `&str`) names.
macro_rules! customer_ids {
    ($tx:expr, $creditor:expr, $keys:expr) => {
        named_rows!(
            $tx,
            (String, i64),
            "SELECT reference, id FROM customers WHERE creditor_id = $1 AND reference IN (SELECT key FROM v)",
            $creditor,
            $keys,
            "reading customers"
        )
        .into_iter()
        .collect::<HashMap<String, i64>>()
    };
}

/// Resolves a row's customer reference or records a problem.
fn resolve_customer(
    ids: &HashMap<String, i64>,
    line: u64,
    reference: &str,
    problems: &mut Vec<RowProblem>,
) -> Option<i64> {
    let id = ids.get(reference).copied();
    if id.is_none() {
        problems.push(problem(
            line,
            "customer_reference",
            reference,
            "no such customer (import customers first)",
        ));
    }
    id
}

type CustomerRow = (
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);
type MandateRow = (i64, String, i64, String, Option<String>, NaiveDate, String, String);
type LedgerRow = (i64, i64, String, NaiveDate, i64, Option<String>, i64);

/// One ledger entry as an import file states it.
struct LedgerUpsert<'a> {
    source: &'static str,
    reference: &'a str,
    customer_id: i64,
    kind: &'static str,
    on: NaiveDate,
    cents: i64,
    method: Option<&'a str>,
}

/// Inserts or updates an invoice/payment entry; an entry already reconciled may not change
/// its amount or owner (the allocations would lie).
macro_rules! upsert_ledger_entry {
    ($tx:expr, $creditor:expr, $e:expr, $now:expr, $line:expr, $column:expr, $counts:expr, $problems:expr) => {{
        let e = $e;
        let old: Option<LedgerRow> = sqlx::query_as(
            "SELECT id, customer_id, kind, occurred_on, amount_cents, method,
                    (SELECT COUNT(*) FROM allocations a WHERE a.debit_entry_id = l.id OR a.credit_entry_id = l.id)
             FROM ledger_entries l WHERE creditor_id = $1 AND source = $2 AND reference = $3",
        )
        .bind($creditor.0)
        .bind(e.source)
        .bind(e.reference)
        .fetch_optional(&mut *$tx)
        .await
        .doing("reading a ledger entry")?;
        match old {
            Some(o) if (o.1, o.2.as_str(), o.3, o.4, o.5.as_deref()) == (e.customer_id, e.kind, e.on, e.cents, e.method) => {
                $counts.unchanged += 1
            }
            Some(o) if o.6 > 0 && (o.1, o.2.as_str(), o.4) != (e.customer_id, e.kind, e.cents) => $problems.push(problem(
                $line,
                $column,
                e.reference,
                "already reconciled: its customer, kind and amount can no longer change",
            )),
            Some(o) => {
                sqlx::query(
                    "UPDATE ledger_entries SET customer_id = $1, kind = $2, occurred_on = $3, amount_cents = $4, method = $5, updated_at = $6 WHERE id = $7",
                )
                .bind(e.customer_id)
                .bind(e.kind)
                .bind(e.on)
                .bind(e.cents)
                .bind(e.method)
                .bind($now)
                .bind(o.0)
                .execute(&mut *$tx)
                .await
                .doing("updating a ledger entry")?;
                $counts.updated += 1;
            }
            None => {
                sqlx::query(
                    "INSERT INTO ledger_entries (creditor_id, customer_id, source, reference, kind, occurred_on, amount_cents, method, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
                )
                .bind($creditor.0)
                .bind(e.customer_id)
                .bind(e.source)
                .bind(e.reference)
                .bind(e.kind)
                .bind(e.on)
                .bind(e.cents)
                .bind(e.method)
                .bind($now)
                .execute(&mut *$tx)
                .await
                .doing("inserting a ledger entry")?;
                $counts.inserted += 1;
            }
        }
    }};
}

impl Store {
    /// Applies one import file in one transaction, or refuses it whole.
    ///
    /// `known` are problems already found in the file's other rows: the ledger checks still
    /// run on `batch` so the refusal lists every bad row, and nothing is committed.
    /// `today` is the business date: plan changes take effect on installments from then on,
    /// and plans' collections are materialised up to a horizon after it.
    pub async fn import(
        &self,
        creditor: CreditorKey,
        batch: &ImportBatch,
        known: Vec<RowProblem>,
        today: NaiveDate,
    ) -> Result<ImportOutcome, StoreError> {
        let now = Utc::now();
        let mut counts = ImportCounts::default();
        let mut problems = known;
        dispatch!(self, pool => {
            let mut tx = pool.begin_write().await.doing("starting the import")?;
            match batch {
                ImportBatch::Customers(rows) => {
                    check_duplicates(rows.iter().map(|r| (r.line, r.record.reference.as_str())), "reference", &mut problems);
                    let existing: HashMap<String, CustomerRow> = named_rows!(
                        tx,
                        CustomerRow,
                        "SELECT id, reference, name, email, street, building, postcode, town, country FROM customers
                         WHERE creditor_id = $1 AND reference IN (SELECT key FROM v)",
                        creditor,
                        rows.iter().map(|r| r.record.reference.as_str()),
                        "reading customers"
                    )
                    .into_iter()
                    .map(|r| (r.1.clone(), r))
                    .collect();
                    let mut fresh = Vec::new();
                    let mut changed = Vec::new();
                    for Numbered { record: c, .. } in rows {
                        let a = c.address.as_ref();
                        let new = (
                            c.name.clone(),
                            c.email.as_ref().map(|e| e.as_str().to_owned()),
                            a.and_then(|a| a.street.clone()),
                            a.and_then(|a| a.building.clone()),
                            a.and_then(|a| a.postcode.clone()),
                            a.map(|a| a.town.clone()),
                            a.map(|a| a.country.as_str().to_owned()),
                        );
                        match existing.get(c.reference.as_str()) {
                            Some(old) => {
                                let stored = (old.2.clone(), old.3.clone(), old.4.clone(), old.5.clone(), old.6.clone(), old.7.clone(), old.8.clone());
                                if stored == new {
                                    counts.unchanged += 1;
                                    continue;
                                }
                                changed.push((old.0, new));
                            }
                            None => fresh.push((c.reference.as_str(), new)),
                        }
                    }
                    let person = [
                        ("name", JsonColumn::Text),
                        ("email", JsonColumn::Text),
                        ("street", JsonColumn::Text),
                        ("building", JsonColumn::Text),
                        ("postcode", JsonColumn::Text),
                        ("town", JsonColumn::Text),
                        ("country", JsonColumn::Text),
                    ];
                    let sql = format!(
                        "{} UPDATE customers SET name = v.name, email = v.email, street = v.street, building = v.building,
                           postcode = v.postcode, town = v.town, country = v.country, updated_at = $1
                         FROM v WHERE customers.id = v.id",
                        json_rows(&tx, 2, &[[("id", JsonColumn::Int)].as_slice(), &person].concat())
                    );
                    execute_json!(tx, sql.as_str(), [now], changed, map |(id, n)| (id, &n.0, &n.1, &n.2, &n.3, &n.4, &n.5, &n.6), "changed customers", "updating customers");
                    counts.updated += changed.len() as u64;
                    let sql = format!(
                        "{} INSERT INTO customers (creditor_id, reference, name, email, street, building, postcode, town, country, created_at, updated_at)
                         SELECT $1, v.reference, v.name, v.email, v.street, v.building, v.postcode, v.town, v.country, $2, $2 FROM v",
                        json_rows(&tx, 3, &[[("reference", JsonColumn::Text)].as_slice(), &person].concat())
                    );
                    execute_json!(tx, sql.as_str(), [creditor.0, now], fresh, map |(r, n)| (r, &n.0, &n.1, &n.2, &n.3, &n.4, &n.5, &n.6), "new customers", "inserting customers");
                    counts.inserted += fresh.len() as u64;
                }
                ImportBatch::Mandates(rows) => {
                    check_duplicates(rows.iter().map(|r| (r.line, r.record.mandate_id.as_str())), "mandate_id", &mut problems);
                    let customers = customer_ids!(tx, creditor, rows.iter().map(|r| r.record.customer.as_str()));
                    let mut existing: HashMap<String, MandateRow> = named_rows!(
                        tx,
                        MandateRow,
                        "SELECT id, reference, customer_id, iban, bic, signed_on, channel, status FROM mandates
                         WHERE creditor_id = $1 AND reference IN (SELECT key FROM v)",
                        creditor,
                        rows.iter().flat_map(|r| std::iter::once(r.record.mandate_id.as_str()).chain(r.record.previous_mandate_id.as_ref().map(|p| p.as_str()))),
                        "reading mandates"
                    )
                    .into_iter()
                    .map(|r| (r.1.clone(), r))
                    .collect();
                    let mut fresh = Vec::new();
                    let mut changed = Vec::new();
                    let mut new_ibans = Vec::new();
                    for Numbered { line, record: m } in rows {
                        let Some(customer_id) = resolve_customer(&customers, *line, m.customer.as_str(), &mut problems) else { continue };
                        let reference = m.mandate_id.as_str();
                        // A renamed mandate: the row under its previous id becomes this one.
                        if let Some(prev) = &m.previous_mandate_id
                            && !existing.contains_key(reference)
                        {
                            let Some(old) = existing.remove(prev.as_str()) else {
                                problems.push(problem(*line, "previous_mandate_id", prev.as_str(), "no such mandate"));
                                continue;
                            };
                            sqlx::query("UPDATE mandates SET reference = $1, updated_at = $2 WHERE id = $3")
                                .bind(reference).bind(now).bind(old.0)
                                .execute(&mut *tx).await.doing("renaming a mandate")?;
                            sqlx::query(
                                "INSERT INTO mandate_amendments (mandate_id, kind, old_value, new_value, recorded_at) VALUES ($1, 'mandate_id', $2, $3, $4)",
                            )
                            .bind(old.0).bind(prev.as_str()).bind(reference).bind(now)
                            .execute(&mut *tx).await.doing("recording a mandate id amendment")?;
                            counts.amendments += 1;
                            existing.insert(reference.to_owned(), (old.0, reference.to_owned(), old.2, old.3, old.4, old.5, old.6, old.7));
                        }
                        let bic = m.bic.as_ref().map(|b| b.as_str().to_owned());
                        match existing.get(reference) {
                            Some(old) if old.2 != customer_id => {
                                problems.push(problem(*line, "customer_reference", m.customer.as_str(), format!("mandate {reference} belongs to another customer; a mandate cannot change hands")));
                            }
                            Some(old) if old.7 == MandateState::Revoked.as_str() && m.state == Some(MandateState::Active) => {
                                problems.push(problem(*line, "status", "active", format!("mandate {reference} is revoked: it is never collected again; the customer must sign a new mandate (a new mandate_id)")));
                            }
                            Some(old) => {
                                if old.3 != m.iban.as_str() {
                                    new_ibans.push((old.0, old.3.clone(), m.iban.as_str()));
                                }
                                // collecte, not the CRM, finds a mandate lapsed: the CRM's `active` leaves
                                // it `expired`, unless the row tells of a collection (by the system
                                // collecte replaced) that keeps it in force.
                                let in_force = m.last_collected_on.is_some_and(|on| mandate_in_force(on, today));
                                let status: &str = match m.state {
                                    Some(MandateState::Revoked) => MandateState::Revoked.as_str(),
                                    Some(MandateState::Active) if old.7 == MandateState::Active.as_str() || in_force => {
                                        MandateState::Active.as_str()
                                    }
                                    _ => &old.7,
                                };
                                if (old.3.as_str(), &old.4, old.5, old.6.as_str(), old.7.as_str()) == (m.iban.as_str(), &bic, m.signed_on, m.channel.as_str(), status) {
                                    counts.unchanged += 1;
                                    continue;
                                }
                                changed.push((old.0, m.iban.as_str(), bic, m.signed_on, m.channel.as_str(), status.to_owned()));
                            }
                            None => {
                                let lapsed = m.last_collected_on.is_none() && !mandate_in_force(m.signed_on, today);
                                counts.lapsed_on_arrival += u64::from(lapsed);
                                fresh.push((reference, customer_id, m.iban.as_str(), bic, m.signed_on, m.channel.as_str(), m.state.unwrap_or(MandateState::Active).as_str()));
                            }
                        }
                    }
                    let sql = format!(
                        "{} INSERT INTO mandate_amendments (mandate_id, kind, old_value, new_value, recorded_at)
                         SELECT v.id, 'iban', v.old_value, v.new_value, $1 FROM v",
                        json_rows(&tx, 2, &[("id", JsonColumn::Int), ("old_value", JsonColumn::Text), ("new_value", JsonColumn::Text)])
                    );
                    execute_json!(tx, sql.as_str(), [now], new_ibans, "IBAN amendments", "recording IBAN amendments");
                    counts.amendments += new_ibans.len() as u64;
                    let account = [
                        ("iban", JsonColumn::Text),
                        ("bic", JsonColumn::Text),
                        ("signed_on", JsonColumn::Date),
                        ("channel", JsonColumn::Text),
                        ("status", JsonColumn::Text),
                    ];
                    let sql = format!(
                        "{} UPDATE mandates SET iban = v.iban, bic = v.bic, signed_on = v.signed_on, channel = v.channel, status = v.status, updated_at = $1
                         FROM v WHERE mandates.id = v.id",
                        json_rows(&tx, 2, &[[("id", JsonColumn::Int)].as_slice(), &account].concat())
                    );
                    execute_json!(tx, sql.as_str(), [now], changed, "changed mandates", "updating mandates");
                    counts.updated += changed.len() as u64;
                    let sql = format!(
                        "{} INSERT INTO mandates (creditor_id, reference, customer_id, iban, bic, signed_on, channel, status, created_at, updated_at)
                         SELECT $1, v.reference, v.customer_id, v.iban, v.bic, v.signed_on, v.channel, v.status, $2, $2 FROM v",
                        json_rows(&tx, 3, &[[("reference", JsonColumn::Text), ("customer_id", JsonColumn::Int)].as_slice(), &account].concat())
                    );
                    execute_json!(tx, sql.as_str(), [creditor.0, now], fresh, "new mandates", "inserting mandates");
                    counts.inserted += fresh.len() as u64;
                    // Collections presented by the system collecte replaces: the latest counts.
                    let collected: Vec<(&str, NaiveDate)> = rows
                        .iter()
                        .filter_map(|r| Some((r.record.mandate_id.as_str(), r.record.last_collected_on?)))
                        .collect();
                    let sql = format!(
                        "{} UPDATE mandates SET first_presented = TRUE, updated_at = $2,
                           last_presented_on = CASE WHEN mandates.last_presented_on IS NULL OR mandates.last_presented_on < v.collected_on
                                               THEN v.collected_on ELSE mandates.last_presented_on END
                         FROM v WHERE mandates.creditor_id = $1 AND mandates.reference = v.reference",
                        json_rows(&tx, 3, &[("reference", JsonColumn::Text), ("collected_on", JsonColumn::Date)])
                    );
                    execute_json!(tx, sql.as_str(), [creditor.0, now], collected, "earlier collections", "recording earlier collections");
                }
                ImportBatch::Cards(rows) => {
                    let customers = customer_ids!(tx, creditor, rows.iter().map(|r| r.record.customer.as_str()));
                    let keys: Vec<(u64, String)> = rows
                        .iter()
                        .map(|r| (r.line, format!("{}/{}/{}", r.record.customer, r.record.brand.to_lowercase(), r.record.last4.as_str())))
                        .collect();
                    check_duplicates(keys.iter().map(|(l, k)| (*l, k.as_str())), "last4", &mut problems);
                    for Numbered { line, record: c } in rows {
                        let Some(customer_id) = resolve_customer(&customers, *line, c.customer.as_str(), &mut problems) else { continue };
                        let old: Option<(i64, i64, i64, bool)> = sqlx::query_as(
                            "SELECT id, exp_month, exp_year, in_wallet FROM cards WHERE customer_id = $1 AND brand = $2 AND last4 = $3",
                        )
                        .bind(customer_id).bind(&c.brand).bind(c.last4.as_str())
                        .fetch_optional(&mut *tx).await.doing("reading a card")?;
                        match old {
                            Some((_, m, y, w)) if (m, y, w) == (i64::from(c.exp_month), i64::from(c.exp_year), c.in_wallet) => counts.unchanged += 1,
                            Some((id, ..)) => {
                                sqlx::query("UPDATE cards SET exp_month = $1, exp_year = $2, in_wallet = $3, updated_at = $4 WHERE id = $5")
                                    .bind(i64::from(c.exp_month)).bind(i64::from(c.exp_year)).bind(c.in_wallet).bind(now).bind(id)
                                    .execute(&mut *tx).await.doing("updating a card")?;
                                counts.updated += 1;
                            }
                            None => {
                                sqlx::query(
                                    "INSERT INTO cards (customer_id, brand, last4, exp_month, exp_year, in_wallet, created_at, updated_at)
                                     VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
                                )
                                .bind(customer_id).bind(&c.brand).bind(c.last4.as_str()).bind(i64::from(c.exp_month))
                                .bind(i64::from(c.exp_year)).bind(c.in_wallet).bind(now)
                                .execute(&mut *tx).await.doing("inserting a card")?;
                                counts.inserted += 1;
                            }
                        }
                    }
                }
                ImportBatch::Plans(rows) => {
                    check_duplicates(rows.iter().map(|r| (r.line, r.record.plan_id.as_str())), "plan_id", &mut problems);
                    let customers = customer_ids!(tx, creditor, rows.iter().map(|r| r.record.customer.as_str()));
                    // With each mandate, the plan whose collection ended it, if one did (an OOFF
                    // or FNAL in a file, not rejected): such a mandate takes no other plan.
                    let mandates: HashMap<String, (i64, i64, Option<String>)> = named_rows!(
                        tx,
                        (String, i64, i64, Option<String>),
                        "SELECT m.reference, m.id, m.customer_id,
                                (SELECT p.reference FROM plans p JOIN collections c ON c.plan_id = p.id
                                  WHERE p.mandate_id = m.id AND c.sequence_type IN ('OOFF', 'FNAL') AND c.status IN ('submitted', 'settled')
                                  ORDER BY c.id LIMIT 1)
                         FROM mandates m WHERE m.creditor_id = $1 AND m.reference IN (SELECT key FROM v)",
                        creditor,
                        rows.iter().filter_map(|r| match &r.record.method {
                            PaymentMethodRef::Mandate(m) => Some(m.as_str()),
                            PaymentMethodRef::Card(_) => None,
                        }),
                        "reading mandates"
                    )
                    .into_iter()
                    .map(|(r, id, c, ended_by)| (r, (id, c, ended_by)))
                    .collect();
                    let mut stated = Vec::with_capacity(rows.len());
                    for Numbered { line, record: p } in rows {
                        let Some(customer_id) = resolve_customer(&customers, *line, p.customer.as_str(), &mut problems) else { continue };
                        let method = match &p.method {
                            PaymentMethodRef::Mandate(m) => match mandates.get(m.as_str()) {
                                Some((_, owner, Some(ended_by))) if *owner == customer_id && ended_by.as_str() != p.plan_id.as_str() => {
                                    problems.push(problem(*line, "mandate_id", m.as_str(), format!(
                                        "mandate {m} was ended by a collection of plan {ended_by} sent as its one-off (OOFF) or \
                                         final (FNAL) collection: the customer must sign a new mandate for this plan",
                                        m = m.as_str()
                                    )));
                                    continue;
                                }
                                Some((id, owner, ended_by)) if *owner == customer_id => {
                                    (Some(*id), None, ended_by.as_deref() == Some(p.plan_id.as_str()))
                                }
                                Some(_) => {
                                    problems.push(problem(*line, "mandate_id", m.as_str(), "mandate belongs to another customer"));
                                    continue;
                                }
                                None => {
                                    problems.push(problem(*line, "mandate_id", m.as_str(), "no such mandate (import mandates first)"));
                                    continue;
                                }
                            },
                            PaymentMethodRef::Card(last4) => {
                                let cards: Vec<i64> = sqlx::query_scalar("SELECT id FROM cards WHERE customer_id = $1 AND last4 = $2")
                                    .bind(customer_id).bind(last4.as_str())
                                    .fetch_all(&mut *tx).await.doing("reading cards")?;
                                match cards.as_slice() {
                                    [id] => (None, Some(*id), false),
                                    [] => {
                                        problems.push(problem(*line, "mandate_id", &format!("card:{}", last4.as_str()), "no card of this customer ends with these digits"));
                                        continue;
                                    }
                                    _ => {
                                        problems.push(problem(*line, "mandate_id", &format!("card:{}", last4.as_str()), "several cards of this customer end with these digits"));
                                        continue;
                                    }
                                }
                            }
                        };
                        stated.push(StatedPlan { line: *line, record: p, customer_id, mandate_id: method.0, card_id: method.1, ended_its_mandate: method.2 });
                    }
                    import_plans!(tx, creditor, stated, today, now, counts, problems);
                }
                ImportBatch::Invoices(rows) => {
                    check_duplicates(rows.iter().map(|r| (r.line, r.record.invoice_id.as_str())), "invoice_id", &mut problems);
                    let customers = customer_ids!(tx, creditor, rows.iter().map(|r| r.record.customer.as_str()));
                    for Numbered { line, record: i } in rows {
                        let Some(customer_id) = resolve_customer(&customers, *line, i.customer.as_str(), &mut problems) else { continue };
                        let entry = LedgerUpsert { source: "invoice", reference: i.invoice_id.as_str(), customer_id, kind: i.kind.as_str(), on: i.issued_on, cents: i.amount.cents(), method: None };
                        upsert_ledger_entry!(tx, creditor, entry, now, *line, "invoice_id", counts, problems);
                    }
                }
                ImportBatch::Payments(rows) => {
                    check_duplicates(rows.iter().map(|r| (r.line, r.record.payment_id.as_str())), "payment_id", &mut problems);
                    let customers = customer_ids!(tx, creditor, rows.iter().map(|r| r.record.customer.as_str()));
                    for Numbered { line, record: p } in rows {
                        let Some(customer_id) = resolve_customer(&customers, *line, p.customer.as_str(), &mut problems) else { continue };
                        let entry = LedgerUpsert { source: "payment", reference: p.payment_id.as_str(), customer_id, kind: "payment", on: p.received_on, cents: p.amount.cents(), method: Some(p.method.as_str()) };
                        upsert_ledger_entry!(tx, creditor, entry, now, *line, "payment_id", counts, problems);
                    }
                }
            }
            if problems.is_empty() {
                tx.commit().await.doing("committing the import")?;
                Ok(ImportOutcome::Applied(counts))
            } else {
                tx.rollback().await.doing("rolling back the import")?;
                problems.sort_by_key(|p| p.line);
                Ok(ImportOutcome::Refused(problems))
            }
        })
    }
}
