//! Reading collections: filtered lists and one collection's timeline.

use chrono::{DateTime, NaiveDate, Utc};
use futures::StreamExt;
use futures::stream::BoxStream;
use serde::Serialize;

use super::{CreditorKey, Doing, Store, StoreError, dispatch};
use crate::sepa::Money;

/// Where a collection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CollectionStatus {
    /// Waiting for its date.
    Pending,
    /// In a pain.008 file, its content fixed: the file is in the outbox, or (after a run
    /// stopped while writing it) the next collect finishes it before anything else.
    Submitted,
    /// The money arrived.
    Settled,
    /// Rejected, returned or refunded; see the timeline for the reason.
    Failed,
    /// Given up on by a person.
    Ignored,
    /// Will not be collected (plan paused or cancelled).
    Cancelled,
}

impl CollectionStatus {
    /// Every status, for `--help` and error messages.
    pub const ALL: [Self; 6] = [
        Self::Pending,
        Self::Submitted,
        Self::Settled,
        Self::Failed,
        Self::Ignored,
        Self::Cancelled,
    ];

    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Submitted => "submitted",
            Self::Settled => "settled",
            Self::Failed => "failed",
            Self::Ignored => "ignored",
            Self::Cancelled => "cancelled",
        }
    }

    /// Parses the stored form.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// Which collections to list.
#[derive(Debug, Clone, Default)]
pub struct CollectionFilter {
    /// Only this status.
    pub status: Option<CollectionStatus>,
    /// Only this customer (reference).
    pub customer: Option<String>,
    /// Due on or after.
    pub from: Option<NaiveDate>,
    /// Due on or before.
    pub to: Option<NaiveDate>,
    /// Only those in this pain.008 file (its file name or MsgId): what the bank asks about.
    pub file: Option<String>,
}

/// How many collections are in one status, and their amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StatusTotal {
    /// The status.
    pub status: CollectionStatus,
    /// How many collections.
    pub count: u64,
    /// Their amount in cents (`"amount": "1234.56"` in JSON, like every amount).
    #[serde(rename = "amount", serialize_with = "cents_as_decimal")]
    pub amount_cents: i64,
}

fn cents_as_decimal<S: serde::Serializer>(cents: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::sepa::money::format_cents(*cents))
}

/// One collection as people and scripts see it (`collections --format json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CollectionRow {
    /// Row id, for `show`, `retry`, `ignore`.
    pub id: i64,
    /// The plan's business key.
    pub plan_id: String,
    /// The customer's business key.
    pub customer_reference: String,
    /// The customer's name.
    pub customer_name: String,
    /// The mandate's UMR as its file presented it, or the mandate's current one while in no
    /// file (null for card plans).
    pub mandate_id: Option<String>,
    /// The account debited: the IBAN its file presented, or the mandate's current one while
    /// in no file (null for card plans). A customer's later change of account leaves a past
    /// collection's IBAN as it was (for collections put in files before the ledger recorded it,
    /// migration 0010, the mandate's current one).
    pub debtor_iban: Option<String>,
    /// Due date.
    pub due_date: NaiveDate,
    /// Amount, as a decimal string.
    pub amount: Money,
    /// Always EUR.
    pub currency: String,
    /// Status.
    pub status: CollectionStatus,
    /// 1 for the first presentation, 2+ for re-presentations.
    pub attempt: i64,
    /// Installment number within the plan.
    pub installment: i64,
    /// Set once the collection is in a file.
    pub end_to_end_id: Option<String>,
    /// FRST, RCUR, OOFF or FNAL once in a file.
    pub sequence_type: Option<String>,
    /// Why it failed or was cancelled, in words.
    pub reason: Option<String>,
    /// The ISO reason code of its latest R-transaction (reject, refusal, return, refund,
    /// reversal), e.g. `AC04`: what people filter and count failures by.
    pub reason_code: Option<String>,
    /// The pain.008 file it was put in (its name in the outbox), if any: what ops look for
    /// when the bank asks about a file.
    pub file: Option<String>,
    /// Whether that file is complete in the outbox. `writing` only after a collect run
    /// stopped between assigning the file and finishing it; the next run finishes it.
    pub file_state: Option<FileState>,
}

/// How far a collection file is: assigned in the ledger, or complete in the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileState {
    /// Its collections are assigned; the file is not (yet) complete in the outbox.
    Writing,
    /// Complete in the outbox (temp file, fsync, rename done).
    Written,
}

impl FileState {
    /// The word the ledger and the listings use.
    pub fn as_str(self) -> &'static str {
        match self {
            FileState::Writing => "writing",
            FileState::Written => "written",
        }
    }

    /// The state of a `collection_files.state` value, `None` for anything else.
    fn parse(s: &str) -> Option<Self> {
        [FileState::Writing, FileState::Written]
            .into_iter()
            .find(|f| f.as_str() == s)
    }
}

impl CollectionRow {
    /// The shortest true answer to "why": the R-transaction's reason code when the bank gave
    /// one, else the reason in words (a collection refused before any file, a cancellation).
    pub fn short_reason(&self) -> Option<&str> {
        self.reason_code.as_deref().or(self.reason.as_deref())
    }
}

/// One line of a collection's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimelineEvent {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// created, rescheduled, in-file, accepted, settled, rejected, returned, retried...
    pub kind: String,
    /// Human-readable detail.
    pub detail: String,
    /// The collection file or bank file involved, if any.
    pub file: Option<String>,
}

/// A listed collection as read, before its status and amount are parsed.
#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    plan: String,
    customer: String,
    customer_name: String,
    mandate: Option<String>,
    debtor_iban: Option<String>,
    due_date: NaiveDate,
    amount_cents: i64,
    currency: String,
    status: String,
    attempt: i64,
    installment: i64,
    end_to_end_id: Option<String>,
    sequence_type: Option<String>,
    failure_reason: Option<String>,
    reason_code: Option<String>,
    file: Option<String>,
    file_state: Option<String>,
    /// When the file was written (or, while still `writing`, created): the submission's time.
    file_at: Option<DateTime<Utc>>,
    requested_date: Option<NaiveDate>,
}

type EventRow = (DateTime<Utc>, String, String, Option<String>);

/// The submission event of a collection in a file, derived from the file row rather than
/// stored once per collection (a 100k-collection file would otherwise write 100k event rows).
fn file_event(c: &CollectionRow, at: DateTime<Utc>, requested_date: Option<NaiveDate>) -> Option<TimelineEvent> {
    let file = c.file.clone()?;
    let what = format!(
        "as {}, collection date {}, end-to-end id {}",
        c.sequence_type.as_deref().unwrap_or("?"),
        requested_date.map_or_else(|| "?".to_owned(), |d| d.to_string()),
        c.end_to_end_id.as_deref().unwrap_or("?"),
    );
    let (kind, detail) = if c.file_state == Some(FileState::Written) {
        ("submitted", format!("in {file} {what}"))
    } else {
        (
            "assigned",
            format!(
                "in {file} {what}; the file is not complete in the outbox yet (a collect run stopped), the next collect finishes it"
            ),
        )
    };
    Some(TimelineEvent {
        at,
        kind: kind.to_owned(),
        detail,
        file: Some(file),
    })
}

const SELECT: &str =
    "SELECT c.id, p.reference AS plan, cu.reference AS customer, cu.name AS customer_name,
        COALESCE(c.presented_mandate_id, m.reference) AS mandate, COALESCE(c.presented_iban, m.iban) AS debtor_iban,
        c.due_date, c.amount_cents, c.currency, c.status, c.attempt, c.installment, c.end_to_end_id,
        c.sequence_type, c.failure_reason,
        (SELECT r.reason_code FROM r_transactions r WHERE r.collection_id = c.id ORDER BY r.id DESC LIMIT 1) AS reason_code,
        cf.file_name AS file, cf.state AS file_state, COALESCE(cf.written_at, cf.created_at) AS file_at,
        c.requested_date
 FROM collections c
 JOIN plans p ON p.id = c.plan_id
 JOIN customers cu ON cu.id = c.customer_id
 LEFT JOIN mandates m ON m.id = c.mandate_id
 LEFT JOIN collection_files cf ON cf.id = c.collection_file_id";

fn to_row(r: Row) -> Result<CollectionRow, StoreError> {
    let file_state = r
        .file_state
        .map(|state| {
            FileState::parse(&state)
                .ok_or_else(|| StoreError::Corrupt(format!("collection {}'s file is in state {state:?}", r.id)))
        })
        .transpose()?;
    Ok(CollectionRow {
        id: r.id,
        plan_id: r.plan,
        customer_reference: r.customer,
        customer_name: r.customer_name,
        mandate_id: r.mandate,
        debtor_iban: r.debtor_iban,
        due_date: r.due_date,
        amount: Money::from_cents(r.amount_cents)
            .map_err(|e| StoreError::Corrupt(format!("collection {}: {e}", r.id)))?,
        currency: r.currency,
        status: CollectionStatus::parse(&r.status)
            .ok_or_else(|| StoreError::Corrupt(format!("collection {} has status {:?}", r.id, r.status)))?,
        attempt: r.attempt,
        installment: r.installment,
        end_to_end_id: r.end_to_end_id,
        sequence_type: r.sequence_type,
        reason: r.failure_reason,
        reason_code: r.reason_code,
        file: r.file,
        file_state,
    })
}

impl Store {
    /// A creditor's collections by due date, then id, as the database yields them: a listing
    /// of the whole ledger holds one row at a time, not the ledger.
    pub fn collections<'a>(
        &'a self,
        creditor: CreditorKey,
        f: &'a CollectionFilter,
    ) -> BoxStream<'a, Result<CollectionRow, StoreError>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE c.creditor_id = $1 AND ($2 IS NULL OR c.status = $2) AND ($3 IS NULL OR cu.reference = $3)
               AND ($4 IS NULL OR c.due_date >= $4) AND ($5 IS NULL OR c.due_date <= $5)
               AND ($6 IS NULL OR cf.file_name = $6 OR cf.message_id = $6)
             ORDER BY c.due_date, c.id"
        ));
        dispatch!(self, pool => sqlx::query_as::<_, Row>(sql)
            .bind(creditor.0)
            .bind(f.status.map(CollectionStatus::as_str))
            .bind(f.customer.as_deref())
            .bind(f.from)
            .bind(f.to)
            .bind(f.file.as_deref())
            .fetch(pool)
            .map(|row| row.doing("listing collections").and_then(to_row))
            .boxed())
    }

    /// Whether the creditor has a collection file of this name or MsgId, so that a listing
    /// by file can tell an unknown file from a file with nothing matching the other filters.
    pub async fn has_file(&self, creditor: CreditorKey, name: &str) -> Result<bool, StoreError> {
        let found: Option<i64> = dispatch!(self, pool => sqlx::query_scalar(
            "SELECT id FROM collection_files WHERE creditor_id = $1 AND (file_name = $2 OR message_id = $2) LIMIT 1",
        )
        .bind(creditor.0)
        .bind(name)
        .fetch_optional(pool)
        .await
        .doing("looking up a collection file")?);
        Ok(found.is_some())
    }

    /// Counts and amounts per status (statuses without collections left out): the ledger at a
    /// glance, for summaries that must not load every row.
    pub async fn collection_totals(&self, creditor: CreditorKey) -> Result<Vec<StatusTotal>, StoreError> {
        let rows: Vec<(String, i64, i64)> = dispatch!(self, pool => sqlx::query_as(
            "SELECT status, COUNT(*), CAST(COALESCE(SUM(amount_cents), 0) AS BIGINT)
             FROM collections WHERE creditor_id = $1 GROUP BY status",
        )
        .bind(creditor.0)
        .fetch_all(pool)
        .await
        .doing("counting collections per status")?);
        let mut totals = rows
            .into_iter()
            .map(|(status, count, amount_cents)| {
                Ok(StatusTotal {
                    status: CollectionStatus::parse(&status)
                        .ok_or_else(|| StoreError::Corrupt(format!("a collection has status {status:?}")))?,
                    count: u64::try_from(count).unwrap_or(0),
                    amount_cents,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        totals.sort_by_key(|t| CollectionStatus::ALL.iter().position(|s| *s == t.status));
        Ok(totals)
    }

    /// One collection and its timeline, oldest event first; `None` if there is no such id.
    pub async fn collection_timeline(
        &self,
        creditor: CreditorKey,
        id: i64,
    ) -> Result<Option<(CollectionRow, Vec<TimelineEvent>)>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!("{SELECT} WHERE c.creditor_id = $1 AND c.id = $2"));
        let (row, events): (Option<Row>, Vec<EventRow>) = dispatch!(self, pool => {
            let row = sqlx::query_as(sql)
                .bind(creditor.0)
                .bind(id)
                .fetch_optional(pool)
                .await
                .doing("reading a collection")?;
            let events = sqlx::query_as(
                "SELECT e.occurred_at, e.kind, e.detail, COALESCE(f.file_name, b.original_name)
                 FROM collection_events e
                 LEFT JOIN collection_files f ON f.id = e.collection_file_id
                 LEFT JOIN bank_files b ON b.id = e.bank_file_id
                 WHERE e.collection_id = $1 ORDER BY e.id",
            )
            .bind(id)
            .fetch_all(pool)
            .await
            .doing("reading a collection's timeline")?;
            (row, events)
        });
        let Some(row) = row else { return Ok(None) };
        let (file_at, requested_date) = (row.file_at, row.requested_date);
        let collection = to_row(row)?;
        let mut events: Vec<TimelineEvent> = events
            .into_iter()
            .map(|(at, kind, detail, file)| TimelineEvent { at, kind, detail, file })
            .collect();
        if let Some(event) = file_at.and_then(|at| file_event(&collection, at, requested_date)) {
            let after = events.iter().position(|e| e.at > event.at).unwrap_or(events.len());
            events.insert(after, event);
        }
        Ok(Some((collection, events)))
    }
}
