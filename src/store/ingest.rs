//! The ingest job's ledger operations: bank files known by content, facts booked once by
//! their own keys, matched to our collections, and the collections' state changes.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

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

/// One of our collections a fact points at.
type Target = (i64, String, String, Option<String>, Option<i64>, i64);

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

/// Finds the collections a fact names: by EndToEndId, else by PmtInfId (all of that group),
/// else by the original MsgId (all of that file). Evaluates to `Vec<Target>`.
macro_rules! targets {
    ($tx:expr, $creditor:expr, $e2e:expr, $pmtinf:expr, $msg:expr) => {{
        const COLS: &str = "SELECT c.id, c.end_to_end_id, c.status, c.sequence_type, c.mandate_id, c.amount_cents
            FROM collections c JOIN collection_files f ON f.id = c.collection_file_id";
        let e2e: Option<&str> = $e2e;
        let pmtinf: Option<&str> = $pmtinf;
        let msg: Option<&str> = $msg;
        if let Some(e2e) = e2e {
            let sql = sqlx::AssertSqlSafe(format!("{COLS} WHERE f.creditor_id = $1 AND c.end_to_end_id = $2"));
            sqlx::query_as::<_, Target>(sql)
                .bind($creditor.0)
                .bind(e2e)
                .fetch_all(&mut *$tx)
                .await
                .doing("matching an EndToEndId")?
        } else if let Some((message_id, group)) =
            pmtinf.and_then(|p| p.rsplit_once('-')).and_then(|(m, k)| Some((m, k.parse::<usize>().ok()?)))
        {
            // Our PmtInfIds are "<MsgId>-<k>": the k-th group of that file in writing order.
            type Grouped = (i64, String, String, Option<String>, Option<i64>, i64, Option<NaiveDate>);
            let sql_grouped = sqlx::AssertSqlSafe(format!(
                "SELECT c.id, c.end_to_end_id, c.status, c.sequence_type, c.mandate_id, c.amount_cents, c.requested_date
                 FROM collections c JOIN collection_files f ON f.id = c.collection_file_id
                 WHERE f.creditor_id = $1 AND f.message_id = $2 ORDER BY c.requested_date, c.sequence_type, c.id"
            ));
            let rows: Vec<Grouped> = sqlx::query_as(sql_grouped)
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
            let sql = sqlx::AssertSqlSafe(format!("{COLS} WHERE f.creditor_id = $1 AND f.message_id = $2"));
            sqlx::query_as::<_, Target>(sql)
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
    /// whatever file states it again; its effect on a collection happens only when it is new.
    pub async fn book_facts(
        &self,
        creditor: CreditorKey,
        file: BankFileKey,
        facts: &[(u64, Fact)],
    ) -> Result<Booked, StoreError> {
        let now: DateTime<Utc> = Utc::now();
        let mut booked = Booked::default();
        dispatch!(self, pool => {
            let mut tx = pool.begin_write().await.doing("starting to book facts")?;
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
                        let targets = targets!(tx, creditor, r.end_to_end_id.as_deref(), r.payment_information_id.as_deref(), r.original_message_id.as_deref());
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
                        for (id, e2e, status, sequence_type, mandate_id, cents) in targets {
                            let amount = r.amount.as_ref().filter(|_| r.end_to_end_id.is_some()).map_or(cents, |a| a.cents);
                            let currency = r.amount.as_ref().map_or("EUR", |a| a.currency.as_str());
                            let reason = reason_text(r.reason.as_deref());
                            let inserted = sqlx::query(
                                "INSERT INTO r_transactions (fact_key, bank_file_id, collection_id, kind, reason_code, reason_text, amount_cents, currency, booking_date, end_to_end_id, recorded_at)
                                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (fact_key) DO NOTHING",
                            )
                            .bind(r_key(r, &e2e))
                            .bind(file.0)
                            .bind(id)
                            .bind(r.kind.as_str())
                            .bind(r.reason.as_deref())
                            .bind(&reason)
                            .bind(amount)
                            .bind(currency)
                            .bind(r.booking_date)
                            .bind(&e2e)
                            .bind(now)
                            .execute(&mut *tx)
                            .await
                            .doing("recording an R-transaction")?;
                            if inserted.rows_affected() == 0 {
                                booked.already_booked += 1;
                                continue;
                            }
                            booked.r_transactions += 1;
                            let detail = format!("{} {reason}, {} {currency}", r.kind.as_str(), format_cents(amount));
                            sqlx::query(
                                "UPDATE collections SET status = 'failed', failure_reason = $1, updated_at = $2 WHERE id = $3 AND status IN ('pending', 'submitted', 'settled')",
                            )
                            .bind(&detail)
                            .bind(now)
                            .bind(id)
                            .execute(&mut *tx)
                            .await
                            .doing("failing a collection")?;
                            sqlx::query("INSERT INTO collection_events (collection_id, occurred_at, kind, detail, bank_file_id) VALUES ($1, $2, $3, $4, $5)")
                                .bind(id)
                                .bind(now)
                                .bind(kind_event(r.kind))
                                .bind(&detail)
                                .bind(file.0)
                                .execute(&mut *tx)
                                .await
                                .doing("recording an R-transaction event")?;
                            let before_settlement = matches!(r.kind, RKind::Reject | RKind::Refusal) || status != "settled";
                            if before_settlement {
                                // Not presented after all: the next presentation is FRST again,
                                // and its amendments are announced again.
                                if sequence_type.as_deref() == Some("FRST") {
                                    sqlx::query("UPDATE mandates SET first_presented = FALSE, updated_at = $1 WHERE id = $2")
                                        .bind(now)
                                        .bind(mandate_id)
                                        .execute(&mut *tx)
                                        .await
                                        .doing("resetting a mandate's sequence")?;
                                }
                                sqlx::query("UPDATE mandate_amendments SET presented_in = NULL WHERE presented_in = $1")
                                    .bind(id)
                                    .execute(&mut *tx)
                                    .await
                                    .doing("re-arming an amendment")?;
                            }
                        }
                    }
                    Fact::Settlement(s) => {
                        let targets = targets!(tx, creditor, s.end_to_end_id.as_deref(), s.payment_information_id.as_deref(), None::<&str>);
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
                        for (id, e2e, _status, _seq, _mandate, cents) in targets {
                            let amount = s.amount.as_ref().filter(|_| s.end_to_end_id.is_some()).map_or(cents, |a| a.cents);
                            let inserted = sqlx::query(
                                "INSERT INTO settlements (fact_key, bank_file_id, collection_id, amount_cents, booking_date, recorded_at)
                                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (fact_key) DO NOTHING",
                            )
                            .bind(settlement_key(s, &e2e))
                            .bind(file.0)
                            .bind(id)
                            .bind(amount)
                            .bind(s.booking_date)
                            .bind(now)
                            .execute(&mut *tx)
                            .await
                            .doing("recording a settlement")?;
                            if inserted.rows_affected() == 0 {
                                booked.already_booked += 1;
                                continue;
                            }
                            booked.settlements += 1;
                            let detail = format!("settled {} EUR, booked {}", format_cents(amount), s.booking_date.map_or_else(|| "-".to_owned(), |d| d.to_string()));
                            sqlx::query("UPDATE collections SET status = 'settled', updated_at = $1 WHERE id = $2 AND status = 'submitted'")
                                .bind(now)
                                .bind(id)
                                .execute(&mut *tx)
                                .await
                                .doing("settling a collection")?;
                            sqlx::query("INSERT INTO collection_events (collection_id, occurred_at, kind, detail, bank_file_id) VALUES ($1, $2, 'settled', $3, $4)")
                                .bind(id)
                                .bind(now)
                                .bind(&detail)
                                .bind(file.0)
                                .execute(&mut *tx)
                                .await
                                .doing("recording a settlement event")?;
                        }
                    }
                    Fact::Unmatched(u) => booked.add(insert_unmatched!(tx, file, u, *ordinal, now)),
                }
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
