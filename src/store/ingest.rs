//! The ingest job's ledger operations: bank files known by content, facts booked once by
//! their own keys, matched to our collections, and the collections' state changes.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::presentations::undo_presentations;
use super::{BeginWrite, CreditorKey, Doing, Store, StoreError, dispatch};
use crate::sepa::money::format_cents;
use crate::sepa::reports::RKind;
use crate::sepa::reports::facts::{Fact, RFact, SettlementFact, UnmatchedFact};
use crate::sepa::reports::reason::reason_name;

/// Row id of an ingested bank file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BankFileKey(pub i64);

/// What the ledger already knows about a file's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BankFileStart {
    /// Never seen: book it.
    New(BankFileKey),
    /// A run stopped while booking it: book it again (facts already booked are skipped).
    Resume(BankFileKey),
    /// The same bytes were ingested before (a re-drop or a renamed copy).
    Duplicate {
        /// The earlier file's name.
        original_name: String,
        /// processed or quarantined.
        outcome: String,
    },
}

/// What booking facts did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Booked {
    /// R-transactions recorded.
    pub r_transactions: u64,
    /// Settlements recorded.
    pub settlements: u64,
    /// Entries that match nothing of ours.
    pub unmatched: u64,
    /// Facts already booked from an earlier file (overlapping statements, re-drops).
    pub already_booked: u64,
    /// Warnings the reader gave.
    pub warnings: u64,
}

impl Booked {
    /// Adds another batch's counts.
    pub fn add(&mut self, other: Booked) {
        self.r_transactions += other.r_transactions;
        self.settlements += other.settlements;
        self.unmatched += other.unmatched;
        self.already_booked += other.already_booked;
        self.warnings += other.warnings;
    }
}

/// An entry or status that matched nothing of ours (`action-center unmatched`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnmatchedRow {
    /// Row id.
    pub id: i64,
    /// The bank file it came from.
    pub file: String,
    /// What it is.
    pub description: String,
    /// Amount as "12.34".
    pub amount: String,
    /// Currency.
    pub currency: String,
    /// Booking date.
    pub booking_date: Option<NaiveDate>,
    /// The EndToEndId it carried, if any.
    pub end_to_end_id: Option<String>,
}

/// One of our collections a fact points at: id, EndToEndId, status, sequence type, mandate
/// id, amount in cents.
type Target = (i64, String, String, Option<String>, Option<i64>, i64);

/// What `Target` rows are read with.
const TARGET_COLUMNS: &str = "SELECT c.id, c.end_to_end_id, c.status, c.sequence_type, c.mandate_id, c.amount_cents
    FROM collections c JOIN collection_files f ON f.id = c.collection_file_id";

/// Rows per multi-row statement: a batch costs a few statements, not a few per fact (the
/// per-statement round trip, not the database, is what row-at-a-time booking spent its time
/// on), and the placeholders stay far below both backends' limits (SQLite 32,766).
const ROWS_PER_STATEMENT: usize = super::presentations::ROWS_PER_STATEMENT;

/// A fact applied to one of our collections: an R-transaction or a settlement.
enum Applied<'f> {
    R(&'f RFact),
    Settlement(&'f SettlementFact),
}

/// One row to book: the fact, the collection it applies to, its key and amount.
struct Booking<'f> {
    fact: Applied<'f>,
    target: Target,
    key: String,
    amount_cents: i64,
}

/// The collection changes of a batch's new facts, applied as a few multi-row statements.
#[derive(Default)]
struct Effects {
    /// Collections settled (status `submitted` → `settled`).
    settled: Vec<i64>,
    /// Collections failed, with the detail of their last R-transaction of the batch.
    failed: Vec<(i64, String)>,
    /// Mandates whose first presentation did not happen after all (FRST again).
    not_presented: Vec<i64>,
    /// Collections whose amendments must be announced again.
    rearm: Vec<i64>,
    /// Timeline events: collection, kind, detail.
    events: Vec<(i64, &'static str, String)>,
}

impl Effects {
    /// Works out, in file order, what the new bookings do to their collections, with the
    /// rules the statements apply (`submitted` → `settled`; `pending`, `submitted` or
    /// `settled` → `failed`), so that a settlement and a return of the same collection in
    /// one batch see each other as they would one by one.
    fn of(bookings: &[Booking<'_>], is_new: &[bool], booked: &mut Booked) -> Self {
        let mut effects = Self::default();
        let mut status: HashMap<i64, &str> = HashMap::new();
        let mut failed_at: HashMap<i64, usize> = HashMap::new();
        for (b, _) in bookings.iter().zip(is_new).filter(|(_, new)| **new) {
            let (id, _, start, sequence_type, mandate_id, _) = &b.target;
            let now = status.entry(*id).or_insert(start.as_str());
            match b.fact {
                Applied::Settlement(s) => {
                    booked.settlements += 1;
                    if *now == "submitted" {
                        *now = "settled";
                        effects.settled.push(*id);
                    }
                    let day = s.booking_date.map_or_else(|| "-".to_owned(), |d| d.to_string());
                    let detail = format!("settled {} EUR, booked {day}", format_cents(b.amount_cents));
                    effects.events.push((*id, "settled", detail));
                }
                Applied::R(r) => {
                    booked.r_transactions += 1;
                    let currency = r.amount.as_ref().map_or("EUR", |a| a.currency.as_str());
                    let detail = format!(
                        "{} {}, {} {currency}",
                        r.kind.as_str(),
                        reason_text(r.reason.as_deref()),
                        format_cents(b.amount_cents)
                    );
                    let before_settlement = matches!(r.kind, RKind::Reject | RKind::Refusal) || *now != "settled";
                    if matches!(*now, "pending" | "submitted" | "settled") {
                        *now = "failed";
                        match failed_at.get(id) {
                            Some(&i) => effects.failed[i].1.clone_from(&detail),
                            None => {
                                failed_at.insert(*id, effects.failed.len());
                                effects.failed.push((*id, detail.clone()));
                            }
                        }
                    }
                    effects.events.push((*id, kind_event(r.kind), detail));
                    if before_settlement {
                        // Not presented after all: the next presentation is FRST again,
                        // and its amendments are announced again.
                        if let (Some("FRST"), Some(mandate)) = (sequence_type.as_deref(), mandate_id) {
                            effects.not_presented.push(*mandate);
                        }
                        effects.rearm.push(*id);
                    }
                }
            }
        }
        effects
    }
}

fn kind_event(kind: RKind) -> &'static str {
    match kind {
        RKind::Reject => "rejected",
        RKind::Refusal => "refused",
        RKind::Return => "returned",
        RKind::Refund => "refunded",
        RKind::Reversal => "reversed",
    }
}

fn reason_text(code: Option<&str>) -> String {
    match code {
        Some(code) => match reason_name(code) {
            Some(name) => format!("{code} ({name})"),
            None => code.to_owned(),
        },
        None => "no reason given".to_owned(),
    }
}

fn opt(v: Option<&str>) -> &str {
    v.unwrap_or("-")
}

/// The key of an R-transaction on one collection: the same fact in any file gives the same key.
fn r_key(r: &RFact, e2e: &str) -> String {
    format!(
        "r:{}:{e2e}:{}:{}:{}",
        r.kind.as_str(),
        opt(r.reason.as_deref()),
        r.booking_date.map_or_else(|| "-".to_owned(), |d| d.to_string()),
        r.entry_reference.as_deref().unwrap_or("-")
    )
}

fn settlement_key(s: &SettlementFact, e2e: &str) -> String {
    format!(
        "s:{e2e}:{}",
        s.booking_date.map_or_else(|| "-".to_owned(), |d| d.to_string())
    )
}

fn unmatched_key(u: &UnmatchedFact, file: BankFileKey, ordinal: u64) -> String {
    let amount = u.amount.as_ref().map_or(0, |a| a.cents);
    match &u.entry_reference {
        Some(reference) => format!(
            "u:{reference}:{amount}:{}",
            u.booking_date.map_or_else(|| "-".to_owned(), |d| d.to_string())
        ),
        // Without the bank's reference an entry cannot be recognised in another file.
        None => format!("u:file{}:{ordinal}", file.0),
    }
}

/// Finds the collections a fact without an EndToEndId names: by PmtInfId (all of that
/// group), else by the original MsgId (all of that file). Evaluates to `Vec<Target>`. Facts
/// with an EndToEndId are matched a batch at a time by `by_end_to_end_id!`.
macro_rules! targets {
    ($tx:expr, $creditor:expr, $pmtinf:expr, $msg:expr) => {{
        let pmtinf: Option<&str> = $pmtinf;
        let msg: Option<&str> = $msg;
        if let Some((message_id, group)) =
            pmtinf.and_then(|p| p.rsplit_once('-')).and_then(|(m, k)| Some((m, k.parse::<usize>().ok()?)))
        {
            // Our PmtInfIds are "<MsgId>-<k>": the k-th group of that file in writing order.
            type Grouped = (i64, String, String, Option<String>, Option<i64>, i64, Option<NaiveDate>);
            let rows: Vec<Grouped> = sqlx::query_as(
                "SELECT c.id, c.end_to_end_id, c.status, c.sequence_type, c.mandate_id, c.amount_cents, c.requested_date
                 FROM collections c JOIN collection_files f ON f.id = c.collection_file_id
                 WHERE f.creditor_id = $1 AND f.message_id = $2 ORDER BY c.requested_date, c.sequence_type, c.id",
            )
            .bind($creditor.0)
            .bind(message_id)
            .fetch_all(&mut *$tx)
            .await
            .doing("matching a PmtInfId")?;
            let mut groups: Vec<Vec<Target>> = Vec::new();
            let mut last_key = None;
            for (id, e2e, status, seq, mandate, cents, date) in rows {
                let key = (date, seq.clone());
                if last_key.as_ref() != Some(&key) {
                    groups.push(Vec::new());
                    last_key = Some(key);
                }
                if let Some(g) = groups.last_mut() {
                    g.push((id, e2e, status, seq, mandate, cents));
                }
            }
            groups.into_iter().nth(group.saturating_sub(1)).filter(|_| group >= 1).unwrap_or_default()
        } else if let Some(message_id) = msg {
            sqlx::query_as::<_, Target>(sqlx::AssertSqlSafe(format!(
                "{TARGET_COLUMNS} WHERE f.creditor_id = $1 AND f.message_id = $2"
            )))
            .bind($creditor.0)
            .bind(message_id)
            .fetch_all(&mut *$tx)
            .await
            .doing("matching a MsgId")?
        } else {
            Vec::new()
        }
    }};
}

/// Our collections with these EndToEndIds, by EndToEndId: one statement per
/// `ROWS_PER_STATEMENT` ids. Evaluates to `HashMap<String, Target>`.
macro_rules! by_end_to_end_id {
    ($tx:expr, $creditor:expr, $ids:expr) => {{
        let ids: &[&str] = $ids;
        let mut found: HashMap<String, Target> = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(ROWS_PER_STATEMENT) {
            let mut query = sqlx::QueryBuilder::new(format!("{TARGET_COLUMNS} WHERE f.creditor_id = "));
            query.push_bind($creditor.0).push(" AND c.end_to_end_id IN (");
            super::values::push_in_list(&mut query, chunk);
            let rows: Vec<Target> = query
                .build_query_as()
                .fetch_all(&mut *$tx)
                .await
                .doing("matching EndToEndIds")?;
            found.extend(rows.into_iter().map(|t| (t.1.clone(), t)));
        }
        found
    }};
}

/// Records an unmatched entry once; evaluates to the `Booked` counts of doing so.
macro_rules! insert_unmatched {
    ($tx:expr, $file:expr, $u:expr, $ordinal:expr, $now:expr) => {{
        let u: &UnmatchedFact = $u;
        let inserted = sqlx::query(
            "INSERT INTO unmatched_entries (fact_key, bank_file_id, description, amount_cents, currency, booking_date, end_to_end_id, recorded_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (fact_key) DO NOTHING",
        )
        .bind(unmatched_key(u, $file, $ordinal))
        .bind($file.0)
        .bind(&u.description)
        .bind(u.amount.as_ref().map_or(0, |a| a.cents.abs()))
        .bind(u.amount.as_ref().map_or("EUR", |a| a.currency.as_str()))
        .bind(u.booking_date)
        .bind(u.end_to_end_id.as_deref())
        .bind($now)
        .execute(&mut *$tx)
        .await
        .doing("recording an unmatched entry")?;
        if inserted.rows_affected() == 1 {
            Booked { unmatched: 1, ..Booked::default() }
        } else {
            Booked { already_booked: 1, ..Booked::default() }
        }
    }};
}

impl Store {
    /// Registers a bank file by the SHA-256 of its bytes, or says it is known.
    pub async fn start_bank_file(&self, sha256: &str, name: &str) -> Result<BankFileStart, StoreError> {
        let now = Utc::now();
        dispatch!(self, pool => {
            let mut tx = pool.begin_write().await.doing("starting a bank file")?;
            let known: Option<(i64, String, String)> =
                sqlx::query_as("SELECT id, original_name, outcome FROM bank_files WHERE sha256 = $1")
                    .bind(sha256)
                    .fetch_optional(&mut *tx)
                    .await
                    .doing("looking up a bank file")?;
            let start = match known {
                Some((id, _, outcome)) if outcome == "processing" => BankFileStart::Resume(BankFileKey(id)),
                Some((_, original_name, outcome)) => BankFileStart::Duplicate { original_name, outcome },
                None => {
                    // Another process may register the same bytes at the same moment: the
                    // unique hash decides, and the loser resumes (facts are booked once anyway).
                    let id: Option<i64> = sqlx::query_scalar(
                        "INSERT INTO bank_files (sha256, original_name, received_at, outcome) VALUES ($1, $2, $3, 'processing')
                         ON CONFLICT (sha256) DO NOTHING RETURNING id",
                    )
                    .bind(sha256)
                    .bind(name)
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await
                    .doing("recording a bank file")?;
                    match id {
                        Some(id) => BankFileStart::New(BankFileKey(id)),
                        None => {
                            let id: i64 = sqlx::query_scalar("SELECT id FROM bank_files WHERE sha256 = $1")
                                .bind(sha256)
                                .fetch_one(&mut *tx)
                                .await
                                .doing("looking up a bank file")?;
                            BankFileStart::Resume(BankFileKey(id))
                        }
                    }
                }
            };
            if !matches!(start, BankFileStart::Duplicate { .. }) {
                // Booking joins on collections written since the last statistics (a collect
                // run's files and states): without fresh ones PostgreSQL's matching query
                // took ~1 s per batch of 500 instead of ~20 ms.
                super::plans::refresh_statistics!(tx);
            }
            tx.commit().await.doing("committing a bank file")?;
            Ok(start)
        })
    }

    /// Records how a bank file ended: processed (with what it produced) or quarantined.
    pub async fn finish_bank_file(
        &self,
        file: BankFileKey,
        message_type: Option<&str>,
        quarantine_reason: Option<&str>,
        summary: &str,
    ) -> Result<(), StoreError> {
        let outcome = if quarantine_reason.is_some() {
            "quarantined"
        } else {
            "processed"
        };
        dispatch!(self, pool => sqlx::query(
            "UPDATE bank_files SET outcome = $1, reason = $2, summary = $3, message_type = COALESCE($4, message_type) WHERE id = $5",
        )
        .bind(outcome)
        .bind(quarantine_reason)
        .bind(summary)
        .bind(message_type)
        .bind(file.0)
        .execute(pool)
        .await
        .doing("finishing a bank file")
        .map(|_| ()))
    }

    /// Books a batch of facts from one file in one transaction. Each fact is recorded once
    /// whatever file states it again (its key is unique: `ON CONFLICT DO NOTHING`, and only
    /// the rows the insert returns are new); its effect on a collection happens only when it
    /// is new. A batch costs a few multi-row statements, not a few per fact.
    pub async fn book_facts(
        &self,
        creditor: CreditorKey,
        file: BankFileKey,
        facts: &[(u64, Fact)],
    ) -> Result<Booked, StoreError> {
        let now: DateTime<Utc> = Utc::now();
        let mut booked = Booked::default();
        let end_to_end_ids: Vec<&str> = facts
            .iter()
            .filter_map(|(_, fact)| match fact {
                Fact::RTransaction(r) => r.end_to_end_id.as_deref(),
                Fact::Settlement(s) => s.end_to_end_id.as_deref(),
                _ => None,
            })
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        dispatch!(self, pool => {
            let mut tx = pool.begin_write().await.doing("starting to book facts")?;
            let by_e2e = by_end_to_end_id!(tx, creditor, &end_to_end_ids);
            let mut bookings: Vec<Booking<'_>> = Vec::with_capacity(facts.len());
            for (ordinal, fact) in facts {
                match fact {
                    Fact::Warning(_) => booked.warnings += 1,
                    Fact::Message { message_id, group_status, original_message_id, .. } => {
                        sqlx::query("UPDATE bank_files SET message_id = $1 WHERE id = $2")
                            .bind(message_id.as_deref())
                            .bind(file.0)
                            .execute(&mut *tx)
                            .await
                            .doing("recording a bank file's message id")?;
                        let accepted = matches!(group_status.as_deref(), Some("ACCP" | "ACTC" | "ACSP" | "ACSC" | "ACWC" | "PART"));
                        if let (true, Some(original)) = (accepted, original_message_id) {
                            sqlx::query(
                                "INSERT INTO collection_events (collection_id, occurred_at, kind, detail, bank_file_id)
                                 SELECT c.id, $1, 'accepted', 'the bank accepted the file (' || $2 || ')', $3
                                 FROM collections c JOIN collection_files f ON f.id = c.collection_file_id
                                 WHERE f.creditor_id = $4 AND f.message_id = $5 AND c.status = 'submitted'
                                   AND NOT EXISTS (SELECT 1 FROM collection_events e WHERE e.collection_id = c.id AND e.kind = 'accepted')",
                            )
                            .bind(now)
                            .bind(group_status.as_deref().unwrap_or_default())
                            .bind(file.0)
                            .bind(creditor.0)
                            .bind(original.as_str())
                            .execute(&mut *tx)
                            .await
                            .doing("recording an acceptance")?;
                        }
                    }
                    Fact::RTransaction(r) => {
                        let targets = match r.end_to_end_id.as_deref() {
                            Some(e2e) => by_e2e.get(e2e).cloned().into_iter().collect(),
                            None => targets!(tx, creditor, r.payment_information_id.as_deref(), r.original_message_id.as_deref()),
                        };
                        if targets.is_empty() {
                            let u = UnmatchedFact {
                                description: format!("{} {} for {} we did not send", r.kind.as_str(), reason_text(r.reason.as_deref()),
                                    r.end_to_end_id.as_deref().or(r.payment_information_id.as_deref()).or(r.original_message_id.as_deref()).unwrap_or("a payment")),
                                amount: r.amount.clone(),
                                credit_debit: None,
                                booking_date: r.booking_date,
                                end_to_end_id: r.end_to_end_id.clone(),
                                entry_reference: Some(r_key(r, opt(r.end_to_end_id.as_deref()))),
                            };
                            booked.add(insert_unmatched!(tx, file, &u, *ordinal, now));
                            continue;
                        }
                        for target in targets {
                            bookings.push(Booking {
                                key: r_key(r, &target.1),
                                amount_cents: r.amount.as_ref().filter(|_| r.end_to_end_id.is_some()).map_or(target.5, |a| a.cents),
                                fact: Applied::R(r),
                                target,
                            });
                        }
                    }
                    Fact::Settlement(s) => {
                        let targets: Vec<Target> = match s.end_to_end_id.as_deref() {
                            Some(e2e) => by_e2e.get(e2e).cloned().into_iter().collect(),
                            None => targets!(tx, creditor, s.payment_information_id.as_deref(), None::<&str>),
                        };
                        if targets.is_empty() {
                            let u = UnmatchedFact {
                                description: format!("direct-debit credit for {} we did not send", s.end_to_end_id.as_deref().or(s.payment_information_id.as_deref()).unwrap_or("a payment")),
                                amount: s.amount.clone(),
                                credit_debit: None,
                                booking_date: s.booking_date,
                                end_to_end_id: s.end_to_end_id.clone(),
                                entry_reference: Some(settlement_key(s, opt(s.end_to_end_id.as_deref().or(s.payment_information_id.as_deref())))),
                            };
                            booked.add(insert_unmatched!(tx, file, &u, *ordinal, now));
                            continue;
                        }
                        for target in targets {
                            bookings.push(Booking {
                                key: settlement_key(s, &target.1),
                                amount_cents: s.amount.as_ref().filter(|_| s.end_to_end_id.is_some()).map_or(target.5, |a| a.cents),
                                fact: Applied::Settlement(s),
                                target,
                            });
                        }
                    }
                    Fact::Unmatched(u) => booked.add(insert_unmatched!(tx, file, u, *ordinal, now)),
                }
            }

            // Record the facts; the keys the inserts return are the new ones. A key stated
            // twice in the batch is inserted once, by its first statement.
            let mut first = HashSet::with_capacity(bookings.len());
            let unique: Vec<&Booking<'_>> = bookings.iter().filter(|b| first.insert(b.key.as_str())).collect();
            let mut inserted: HashSet<String> = HashSet::with_capacity(unique.len());
            let r_rows: Vec<(&Booking<'_>, &RFact)> = unique
                .iter()
                .filter_map(|b| match b.fact {
                    Applied::R(r) => Some((*b, r)),
                    Applied::Settlement(_) => None,
                })
                .collect();
            for chunk in r_rows.chunks(ROWS_PER_STATEMENT) {
                let mut query = sqlx::QueryBuilder::new(
                    "INSERT INTO r_transactions (fact_key, bank_file_id, collection_id, kind, reason_code, reason_text, amount_cents, currency, booking_date, end_to_end_id, recorded_at) ",
                );
                query.push_values(chunk, |mut row, (b, r)| {
                    row.push_bind(b.key.as_str())
                        .push_bind(file.0)
                        .push_bind(b.target.0)
                        .push_bind(r.kind.as_str())
                        .push_bind(r.reason.as_deref())
                        .push_bind(reason_text(r.reason.as_deref()))
                        .push_bind(b.amount_cents)
                        .push_bind(r.amount.as_ref().map_or("EUR", |a| a.currency.as_str()))
                        .push_bind(r.booking_date)
                        .push_bind(b.target.1.as_str())
                        .push_bind(now);
                });
                query.push(" ON CONFLICT (fact_key) DO NOTHING RETURNING fact_key");
                let keys: Vec<String> = query
                    .build_query_scalar()
                    .fetch_all(&mut *tx)
                    .await
                    .doing("recording R-transactions")?;
                inserted.extend(keys);
            }
            let s_rows: Vec<(&Booking<'_>, &SettlementFact)> = unique
                .iter()
                .filter_map(|b| match b.fact {
                    Applied::Settlement(s) => Some((*b, s)),
                    Applied::R(_) => None,
                })
                .collect();
            for chunk in s_rows.chunks(ROWS_PER_STATEMENT) {
                let mut query = sqlx::QueryBuilder::new(
                    "INSERT INTO settlements (fact_key, bank_file_id, collection_id, amount_cents, booking_date, recorded_at) ",
                );
                query.push_values(chunk, |mut row, (b, s)| {
                    row.push_bind(b.key.as_str())
                        .push_bind(file.0)
                        .push_bind(b.target.0)
                        .push_bind(b.amount_cents)
                        .push_bind(s.booking_date)
                        .push_bind(now);
                });
                query.push(" ON CONFLICT (fact_key) DO NOTHING RETURNING fact_key");
                let keys: Vec<String> = query
                    .build_query_scalar()
                    .fetch_all(&mut *tx)
                    .await
                    .doing("recording settlements")?;
                inserted.extend(keys);
            }
            let is_new: Vec<bool> = bookings.iter().map(|b| inserted.remove(&b.key)).collect();
            booked.already_booked += is_new.iter().filter(|new| !**new).count() as u64;
            let effects = Effects::of(&bookings, &is_new, &mut booked);

            // Their effects: settled first, then failed, which gives every collection the
            // state the facts would give it one by one (a failure wins over a settlement).
            for chunk in effects.settled.chunks(ROWS_PER_STATEMENT) {
                let mut query = sqlx::QueryBuilder::new("UPDATE collections SET status = 'settled', updated_at = ");
                query.push_bind(now).push(" WHERE status = 'submitted' AND id IN (");
                super::values::push_in_list(&mut query, chunk);
                query.build().execute(&mut *tx).await.doing("settling collections")?;
            }
            for chunk in effects.failed.chunks(ROWS_PER_STATEMENT) {
                let mut query = sqlx::QueryBuilder::new("UPDATE collections SET status = 'failed', failure_reason = v.column2, updated_at = ");
                query.push_bind(now).push(" FROM (");
                query.push_values(chunk, |mut row, (id, detail)| {
                    row.push_bind(*id).push_bind(detail.as_str());
                });
                query.push(") AS v WHERE collections.id = v.column1 AND collections.status IN ('pending', 'submitted', 'settled')");
                query.build().execute(&mut *tx).await.doing("failing collections")?;
            }
            undo_presentations!(tx, now, &effects.not_presented, &effects.rearm);
            for chunk in effects.events.chunks(ROWS_PER_STATEMENT) {
                let mut query = sqlx::QueryBuilder::new("INSERT INTO collection_events (collection_id, occurred_at, kind, detail, bank_file_id) ");
                query.push_values(chunk, |mut row, (id, kind, detail)| {
                    row.push_bind(*id)
                        .push_bind(now)
                        .push_bind(*kind)
                        .push_bind(detail.as_str())
                        .push_bind(file.0);
                });
                query.build().execute(&mut *tx).await.doing("recording timeline events")?;
            }
            tx.commit().await.doing("committing booked facts")?;
            Ok(booked)
        })
    }

    /// Entries and statuses that matched nothing of ours, newest first.
    pub async fn unmatched_entries(&self) -> Result<Vec<UnmatchedRow>, StoreError> {
        type Row = (i64, String, String, i64, String, Option<NaiveDate>, Option<String>);
        let rows: Vec<Row> = dispatch!(self, pool => sqlx::query_as(
            "SELECT u.id, b.original_name, u.description, u.amount_cents, u.currency, u.booking_date, u.end_to_end_id
             FROM unmatched_entries u JOIN bank_files b ON b.id = u.bank_file_id ORDER BY u.id DESC",
        )
        .fetch_all(pool)
        .await
        .doing("listing unmatched entries")?);
        Ok(rows
            .into_iter()
            .map(
                |(id, file, description, cents, currency, booking_date, end_to_end_id)| UnmatchedRow {
                    id,
                    file,
                    description,
                    amount: format_cents(cents),
                    currency,
                    booking_date,
                    end_to_end_id,
                },
            )
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sepa::reports::Amount;

    fn settlement() -> SettlementFact {
        SettlementFact {
            end_to_end_id: Some("E1".into()),
            payment_information_id: None,
            amount: None,
            booking_date: NaiveDate::from_ymd_opt(2026, 11, 23),
            entry_reference: None,
        }
    }

    fn r(kind: RKind, reason: &str) -> RFact {
        RFact {
            kind,
            reason: Some(reason.into()),
            end_to_end_id: Some("E1".into()),
            payment_information_id: None,
            original_message_id: None,
            amount: Some(Amount {
                cents: 1250,
                currency: "EUR".into(),
            }),
            booking_date: NaiveDate::from_ymd_opt(2026, 11, 27),
            entry_reference: None,
        }
    }

    fn on<'f>(fact: Applied<'f>, status: &str) -> Booking<'f> {
        Booking {
            fact,
            target: (7, "E1".into(), status.into(), Some("FRST".into()), Some(3), 1250),
            key: String::new(),
            amount_cents: 1250,
        }
    }

    #[test]
    fn a_batch_applies_its_new_facts_in_file_order() {
        let (s, back, reject) = (settlement(), r(RKind::Return, "AC04"), r(RKind::Reject, "AM04"));
        // Settled, then returned in the same batch: failed, and the FRST was presented.
        let bookings = [
            on(Applied::Settlement(&s), "submitted"),
            on(Applied::R(&back), "submitted"),
        ];
        let mut booked = Booked::default();
        let e = Effects::of(&bookings, &[true, true], &mut booked);
        assert_eq!((booked.settlements, booked.r_transactions), (1, 1));
        assert_eq!(e.settled, [7]);
        assert_eq!(
            e.failed,
            [(7, "return AC04 (ClosedAccountNumber), 12.50 EUR".to_owned())]
        );
        assert!(e.not_presented.is_empty() && e.rearm.is_empty());
        assert_eq!(
            e.events.iter().map(|(id, kind, _)| (*id, *kind)).collect::<Vec<_>>(),
            [(7, "settled"), (7, "returned")]
        );
        // Already booked facts do nothing; a reject before settlement re-arms FRST and the
        // amendments; a second failure keeps the first one's reason (the collection is failed).
        let bookings = [
            on(Applied::Settlement(&s), "submitted"),
            on(Applied::R(&reject), "submitted"),
            on(Applied::R(&back), "submitted"),
        ];
        let mut booked = Booked::default();
        let e = Effects::of(&bookings, &[false, true, true], &mut booked);
        assert_eq!((booked.settlements, booked.r_transactions), (0, 2));
        assert!(e.settled.is_empty());
        assert_eq!(e.failed.len(), 1);
        assert!(e.failed[0].1.starts_with("reject AM04"), "{:?}", e.failed);
        assert_eq!(e.not_presented, [3, 3]);
        assert_eq!(e.rearm, [7, 7]);
        assert_eq!(e.events.len(), 2);
    }
}
