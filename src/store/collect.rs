//! The collect job's ledger operations: due collections, assigning them to a file in one
//! transaction, and marking a file written.
//!
//! The order of writes is what makes "never collect twice" hold: a collection is assigned to
//! a file (and becomes `submitted`; it can then never be assigned to another) before a byte
//! is written; the file is marked written only after it is complete in the outbox.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};

use super::outbox_folder::OutboxFolder;
use super::plans::{Holds, Materialize};
use super::presentations::undo_presentations;
use super::sqlite_bulk::{Columns, iso};
use super::values::{JsonColumn, execute_json, json_rows};
use super::{BeginWrite, CreditorKey, Doing, LedgerTag, Pool, Store, StoreError, dispatch};
use crate::domain::installments::Lifecycle;

/// A collection with everything needed to decide on it and to write it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DueCollection {
    /// Collection id.
    pub id: i64,
    /// Due date.
    pub due_date: NaiveDate,
    /// Amount in cents.
    pub amount_cents: i64,
    /// The plan is active.
    pub plan_active: bool,
    /// The plan's current frequency is `once`.
    pub one_off: bool,
    /// The plan's last installment, with nothing else of the plan still pending (a retried
    /// earlier installment would follow a FNAL that ended the mandate).
    pub last_installment: bool,
    /// Remittance text.
    pub description: Option<String>,
    /// Mandate row id.
    pub mandate_key: i64,
    /// UMR: the one its file presented once assigned, the mandate's until then.
    pub mandate_id: String,
    /// Mandate status is active.
    pub mandate_active: bool,
    /// A first collection was presented and not undone.
    pub first_presented: bool,
    /// Signature date.
    pub signed_on: NaiveDate,
    /// When the mandate was last presented (or created, if never).
    pub mandate_since: DateTime<Utc>,
    /// Debtor name.
    pub debtor_name: String,
    /// Debtor IBAN: the one its file presented once assigned, the mandate's until then.
    pub debtor_iban: String,
    /// Debtor BIC, likewise.
    pub debtor_bic: Option<String>,
    /// Address parts.
    pub street: Option<String>,
    /// Building number.
    pub building: Option<String>,
    /// Post code.
    pub postcode: Option<String>,
    /// Town.
    pub town: Option<String>,
    /// Country.
    pub country: Option<String>,
    /// Set once assigned: end-to-end id.
    pub end_to_end_id: Option<String>,
    /// Set once assigned: sequence type.
    pub sequence_type: Option<String>,
    /// Set once assigned: requested collection date.
    pub requested_date: Option<NaiveDate>,
    /// Set once assigned: amendment, previous UMR.
    pub original_mandate_id: Option<String>,
    /// Set once assigned: amendment, previous creditor identifier.
    pub original_scheme_id: Option<String>,
    /// Set once assigned: amendment, previous IBAN or `SMNDA`.
    pub original_debtor_account: Option<String>,
    /// The collection date of the mandate's last presented collection (a failed one
    /// counts): with the signature date, where its 36 months of validity count from.
    pub last_presented_on: Option<NaiveDate>,
    /// The mandate serves another plan too, so it is recurrent: a one-off plan's collection
    /// is no OOFF and a plan's last no FNAL. Known for one-off plans and last installments,
    /// where it decides the sequence type ([`mark_shared_mandates`]); FALSE for the rest.
    #[sqlx(default)]
    pub mandate_shared: bool,
}

impl DueCollection {
    /// One row of [`DUE_SELECT`] on the SQLite bulk path, column by column in its order.
    fn from_columns(c: &Columns<'_, '_>) -> Result<Self, StoreError> {
        Ok(Self {
            id: c.int(0)?,
            due_date: c.date(1)?,
            amount_cents: c.int(2)?,
            plan_active: c.bool(3)?,
            one_off: c.bool(4)?,
            last_installment: c.bool(5)?,
            description: c.opt_text(6)?,
            mandate_key: c.int(7)?,
            mandate_id: c.text(8)?,
            mandate_active: c.bool(9)?,
            first_presented: c.bool(10)?,
            signed_on: c.date(11)?,
            mandate_since: c.timestamp(12)?,
            debtor_name: c.text(13)?,
            debtor_iban: c.text(14)?,
            debtor_bic: c.opt_text(15)?,
            street: c.opt_text(16)?,
            building: c.opt_text(17)?,
            postcode: c.opt_text(18)?,
            town: c.opt_text(19)?,
            country: c.opt_text(20)?,
            end_to_end_id: c.opt_text(21)?,
            sequence_type: c.opt_text(22)?,
            requested_date: c.opt_date(23)?,
            original_mandate_id: c.opt_text(24)?,
            original_scheme_id: c.opt_text(25)?,
            original_debtor_account: c.opt_text(26)?,
            last_presented_on: c.opt_date(27)?,
            mandate_shared: false,
        })
    }
}

/// Columns in the order of [`DueCollection`]'s fields (the SQLite bulk path reads them by
/// position).
const DUE_SELECT: &str = "SELECT c.id, c.due_date, c.amount_cents,
        p.status = 'active' AS plan_active,
        COALESCE((SELECT t.frequency FROM plan_terms t WHERE t.plan_id = p.id ORDER BY t.effective_from DESC LIMIT 1) = 'once', FALSE) AS one_off,
        COALESCE(p.installment_count = c.installment AND NOT EXISTS (SELECT 1 FROM collections o
          WHERE o.plan_id = c.plan_id AND o.id <> c.id AND o.status = 'pending'), FALSE) AS last_installment,
        p.description,
        m.id AS mandate_key, COALESCE(c.presented_mandate_id, m.reference) AS mandate_id,
        m.status = 'active' AS mandate_active, m.first_presented,
        m.signed_on, COALESCE(m.last_presented_at, m.created_at) AS mandate_since,
        cu.name AS debtor_name, COALESCE(c.presented_iban, m.iban) AS debtor_iban,
        CASE WHEN c.presented_iban IS NULL THEN m.bic ELSE c.presented_bic END AS debtor_bic,
        cu.street, cu.building, cu.postcode, cu.town, cu.country,
        c.end_to_end_id, c.sequence_type, c.requested_date,
        c.original_mandate_id, c.original_scheme_id, c.original_debtor_account,
        m.last_presented_on
 FROM collections c
 JOIN plans p ON p.id = c.plan_id
 JOIN mandates m ON m.id = c.mandate_id
 JOIN customers cu ON cu.id = c.customer_id";

const DOING_DUE: &str = "reading due collections";

/// One page of due collections: `$1` creditor, `$2` due on or before, `$3`/`$4` the
/// `(due_date, id)` cursor, `$5` the page size.
fn due_page_sql() -> String {
    format!(
        "{DUE_SELECT} WHERE c.creditor_id = $1 AND c.status = 'pending' AND c.collection_file_id IS NULL AND c.due_date <= $2
           AND (c.due_date, c.id) > ($3, $4)
         ORDER BY c.due_date, c.id LIMIT $5"
    )
}

/// The cursor and limit of a page as bound values: no cursor starts before any due date the
/// ledger can hold (and inside both databases' date ranges).
fn page_bounds(after: Option<(NaiveDate, i64)>, limit: usize) -> (NaiveDate, i64, i64) {
    let floor = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default();
    let (after_date, after_id) = after.unwrap_or((floor, 0));
    (after_date, after_id, i64::try_from(limit).unwrap_or(i64::MAX))
}

/// Of the mandates in the JSON array `$1`, those serving more than one plan, per dialect.
/// A second statement for the few rows that ask, not a column of [`DUE_SELECT`]: there it
/// re-read every row's plan terms and made the page read of 100k collections about 30% slower
/// (BENCHMARKS.md, session 8).
const SHARED_MANDATES_SQLITE: &str =
    "SELECT mandate_id FROM plans WHERE mandate_id IN (SELECT value FROM json_each($1))
     GROUP BY mandate_id HAVING COUNT(*) > 1";
const SHARED_MANDATES_POSTGRES: &str = "SELECT mandate_id FROM plans
     WHERE mandate_id IN (SELECT CAST(value AS BIGINT) FROM jsonb_array_elements_text(CAST($1 AS JSONB)))
     GROUP BY mandate_id HAVING COUNT(*) > 1";
const DOING_SHARED: &str = "reading which mandates serve several plans";

/// The mandates of `page`'s one-off plans and last installments (where the answer decides the
/// sequence type), as the JSON array the shared-mandates statement reads; `None` when no row
/// asks, as on most pages.
fn shared_mandates_asked(page: &[DueCollection]) -> Result<Option<String>, StoreError> {
    let asked: Vec<i64> = page
        .iter()
        .filter(|c| c.one_off || c.last_installment)
        .map(|c| c.mandate_key)
        .collect();
    if asked.is_empty() {
        return Ok(None);
    }
    super::values::json_array(&asked, "mandate keys").map(Some)
}

/// Sets [`DueCollection::mandate_shared`] on `page` from the `shared` mandate keys.
fn mark_shared_mandates(page: &mut [DueCollection], shared: &HashSet<i64>) {
    for c in page {
        c.mandate_shared = shared.contains(&c.mandate_key);
    }
}

/// Fetches one page of due collections through sqlx from `$executor` (a pool or a
/// transaction's connection), then which of its mandates serve several plans (`$shared`: the
/// dialect's statement).
macro_rules! fetch_due_page {
    ($executor:expr, $shared:expr, $creditor:expr, $until:expr, $after:expr, $limit:expr) => {{
        let (after_date, after_id, limit) = page_bounds($after, $limit);
        let mut page: Vec<DueCollection> = sqlx::query_as(sqlx::AssertSqlSafe(due_page_sql()))
            .bind($creditor.0)
            .bind($until)
            .bind(after_date)
            .bind(after_id)
            .bind(limit)
            .fetch_all($executor)
            .await
            .doing(DOING_DUE)?;
        if let Some(asked) = shared_mandates_asked(&page)? {
            let shared: Vec<i64> = sqlx::query_scalar($shared)
                .bind(asked)
                .fetch_all($executor)
                .await
                .doing(DOING_SHARED)?;
            mark_shared_mandates(&mut page, &shared.into_iter().collect());
        }
        Ok(page)
    }};
}

/// The plan refresh inside the caller's transaction `$tx` (`$analyze`: whether to refresh
/// planner statistics, see `materialize_plans!`); evaluates to the number of collections
/// changed.
macro_rules! refresh_plans_in {
    ($tx:ident, $creditor:expr, $today:expr, $analyze:expr) => {{
        let creditor: CreditorKey = $creditor;
        let today: NaiveDate = $today;
        let plans: Vec<(i64, String, Option<i64>)> = sqlx::query_as(
            "SELECT id, reference, installment_count FROM plans
             WHERE creditor_id = $1 AND status = 'active' AND (next_due IS NULL OR next_due <= $2) ORDER BY id",
        )
        .bind(creditor.0)
        .bind(today + chrono::Duration::days(crate::domain::installments::HORIZON_DAYS))
        .fetch_all(&mut *$tx)
        .await
        .doing("reading active plans")?;
        let plans: Vec<Materialize> = plans
            .into_iter()
            .map(|(id, reference, count)| Materialize {
                reference,
                count: count.and_then(|c| u32::try_from(c).ok()),
                lifecycle: Lifecycle::Active { skipped: None },
                holds: Holds::Stored(id),
            })
            .collect();
        super::plans::materialize_plans!($tx, creditor.0, plans, today, Utc::now(), analyze = $analyze)
    }};
}

/// A dry run's uncommitted view of the ledger ([`Store::dry_run_view`]).
#[derive(Debug)]
pub struct DryRunView(Tx);

/// A transaction the store hands out to outlive one call (a dry run's view, a file's
/// assignment), on either backend.
#[derive(Debug)]
enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Evaluates `$body` with `$tx` bound to the [`Tx`] `$on`'s transaction, type-checked against
/// each backend (as `dispatch!` does for pools).
macro_rules! on_tx {
    ($on:expr, $tx:ident => $body:expr) => {
        match $on {
            Tx::Sqlite($tx) => $body,
            Tx::Postgres($tx) => $body,
        }
    };
}

impl DryRunView {
    /// [`Store::due_collections`], as the view sees them.
    pub async fn due_collections(
        &mut self,
        creditor: CreditorKey,
        until: NaiveDate,
        after: Option<(NaiveDate, i64)>,
        limit: usize,
    ) -> Result<Vec<DueCollection>, StoreError> {
        match &mut self.0 {
            Tx::Sqlite(tx) => fetch_due_page!(&mut **tx, SHARED_MANDATES_SQLITE, creditor, until, after, limit),
            Tx::Postgres(tx) => fetch_due_page!(&mut **tx, SHARED_MANDATES_POSTGRES, creditor, until, after, limit),
        }
    }

    /// Ends the view, undoing what it materialised.
    pub async fn discard(self) -> Result<(), StoreError> {
        on_tx!(self.0, tx => tx.rollback().await.doing("ending a dry run's view of the ledger"))
    }
}

/// A pending amendment of a mandate, not yet announced to the bank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingAmendment {
    /// Mandate row id.
    pub mandate_key: i64,
    /// `iban` or `mandate_id`.
    pub kind: String,
    /// The value before the change.
    pub old_value: String,
}

/// A change of the creditor identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemeIdChange {
    /// The identifier before.
    pub old_scheme_id: String,
    /// When it changed.
    pub changed_at: DateTime<Utc>,
}

/// One collection put into a file.
#[derive(Debug, Clone)]
pub struct Assignment {
    /// Collection id.
    pub id: i64,
    /// Mandate row id.
    pub mandate_key: i64,
    /// End-to-end id.
    pub end_to_end_id: String,
    /// FRST, RCUR, OOFF, FNAL.
    pub sequence_type: &'static str,
    /// Requested collection date.
    pub requested_date: NaiveDate,
    /// Amendment fields, as written.
    pub original_mandate_id: Option<String>,
    /// Previous creditor identifier.
    pub original_scheme_id: Option<String>,
    /// Previous IBAN or `SMNDA`.
    pub original_debtor_account: Option<String>,
    /// Amount in cents (for the file's control sum).
    pub amount_cents: i64,
}

/// What a file presents of a collection's debtor, recorded with its assignment (a stopped
/// run's file is finished with it). Borrowed from the checked transaction the file is
/// written from, so a run holds no second copy of it while it fills a file.
#[derive(Debug, Clone, Copy)]
pub struct Presented<'a> {
    /// The debtor's IBAN.
    pub iban: &'a str,
    /// The debtor's BIC, if any.
    pub bic: Option<&'a str>,
    /// The UMR.
    pub mandate_id: &'a str,
}

/// A collection file row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FileRow {
    /// Row id.
    pub id: i64,
    /// MsgId.
    pub message_id: String,
    /// File name in the outbox.
    pub file_name: String,
    /// Business date of the run that made it.
    pub business_date: NaiveDate,
    /// Message version.
    pub pain_version: String,
    /// Transactions.
    pub nb_of_txs: i64,
    /// Control sum.
    pub ctrl_sum_cents: i64,
    /// `CreDtTm`.
    pub created_at: DateTime<Utc>,
    /// Its temporary was reserved in the outbox before its assignment committed, so while it
    /// is `writing` the outbox holds the temporary or the file until the bank's transfer
    /// takes the file (false for files assigned by versions before migration 0014).
    pub reserved_in_outbox: bool,
    /// The folder (canonical path) its temporary was reserved in, for people (NULL for files
    /// reserved before migration 0015).
    pub reserved_folder: Option<String>,
    /// The id that folder's marker holds: only in the folder holding it does finding neither
    /// the file nor its temporary mean the transfer took it.
    pub reserved_folder_id: Option<String>,
}

/// One payment group of a file: its key and declared totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupTotal {
    /// Requested collection date.
    pub requested_date: NaiveDate,
    /// Sequence type.
    pub sequence_type: String,
    /// Transactions.
    pub count: i64,
    /// Total in cents.
    pub sum_cents: i64,
}

/// Another run assigned some of the same collections first; nothing of this run was kept.
#[derive(Debug, thiserror::Error)]
#[error(
    "{taken} of the {of} collections of a file were taken by another collect run meanwhile; nothing was assigned, run again"
)]
pub struct AssignConflict {
    /// Collections no longer pending and in no file.
    pub taken: u64,
    /// Collections the file was to hold.
    pub of: usize,
}

/// What every MsgId (and file name) of a ledger starts with: `CLT-<tag>-`, then the business
/// date and the file id. Files in a shared outbox are told apart by it.
pub fn message_id_prefix(tag: &LedgerTag) -> String {
    format!("CLT-{tag}-")
}

impl Store {
    /// Materialises the installments that came within the horizon after `today`: only plans
    /// whose watermark (`next_due`) is reached are read.
    pub async fn refresh_plans(&self, creditor: CreditorKey, today: NaiveDate) -> Result<u64, StoreError> {
        dispatch!(self, pool => {
            let mut tx = pool.begin_write().await.doing("starting the plan refresh")?;
            let changed = refresh_plans_in!(tx, creditor, today, true);
            tx.commit().await.doing("committing the plan refresh")?;
            Ok(changed)
        })
    }

    /// What a dry run for `today` reads: the ledger with the plans' installments materialised
    /// as the real run would, in a transaction that is never committed, so that the dry run
    /// sees the collections the run will see and writes nothing. `None` when materialising
    /// changes nothing (the dry run then reads the ledger itself, on the fast path).
    ///
    /// On SQLite the view holds the database's write lock until it is discarded: other
    /// writers wait (up to their busy timeout, 30 s) for the dry run; on PostgreSQL it holds
    /// the locks of the rows it materialised.
    pub async fn dry_run_view(
        &self,
        creditor: CreditorKey,
        today: NaiveDate,
    ) -> Result<Option<DryRunView>, StoreError> {
        const DOING: &str = "starting a dry run's plan refresh";
        let view = match &self.pool {
            Pool::Sqlite(pool, _) => {
                let mut tx = pool.begin_write().await.doing(DOING)?;
                (refresh_plans_in!(tx, creditor, today, false) > 0).then_some(Tx::Sqlite(tx))
            }
            Pool::Postgres(pool) => {
                let mut tx = pool.begin_write().await.doing(DOING)?;
                (refresh_plans_in!(tx, creditor, today, false) > 0).then_some(Tx::Postgres(tx))
            }
        };
        // A transaction dropped here (nothing materialised) rolls back.
        Ok(view.map(DryRunView))
    }

    /// One page of pending mandate collections in no file, due on or before `until`, by due
    /// date then id, starting after the `(due_date, id)` cursor. Pages keep a million-row run
    /// in bounded memory.
    pub async fn due_collections(
        &self,
        creditor: CreditorKey,
        until: NaiveDate,
        after: Option<(NaiveDate, i64)>,
        limit: usize,
    ) -> Result<Vec<DueCollection>, StoreError> {
        match &self.pool {
            Pool::Sqlite(_, file) => {
                let sql = due_page_sql();
                let (after_date, after_id, limit) = page_bounds(after, limit);
                const DOING: &str = DOING_DUE;
                file.run(DOING, move |conn| {
                    let mut statement = conn.prepare(&sql).doing(DOING)?;
                    statement.raw_bind_parameter("$1", creditor.0).doing(DOING)?;
                    statement.raw_bind_parameter("$2", iso(until)).doing(DOING)?;
                    statement.raw_bind_parameter("$3", iso(after_date)).doing(DOING)?;
                    statement.raw_bind_parameter("$4", after_id).doing(DOING)?;
                    statement.raw_bind_parameter("$5", limit).doing(DOING)?;
                    let mut rows = statement.raw_query();
                    let mut due = Vec::new();
                    while let Some(row) = rows.next().doing(DOING)? {
                        due.push(DueCollection::from_columns(&Columns { row, doing: DOING })?);
                    }
                    if let Some(asked) = shared_mandates_asked(&due)? {
                        let mut statement = conn.prepare(SHARED_MANDATES_SQLITE).doing(DOING_SHARED)?;
                        let shared = statement
                            .query_map([asked], |row| row.get::<_, i64>(0))
                            .and_then(Iterator::collect::<Result<HashSet<i64>, _>>)
                            .doing(DOING_SHARED)?;
                        mark_shared_mandates(&mut due, &shared);
                    }
                    Ok(due)
                })
                .await
            }
            Pool::Postgres(pool) => fetch_due_page!(pool, SHARED_MANDATES_POSTGRES, creditor, until, after, limit),
        }
    }

    /// Amendments not yet announced, and the creditor identifier's history.
    pub async fn pending_amendments(
        &self,
        creditor: CreditorKey,
    ) -> Result<(Vec<PendingAmendment>, Vec<SchemeIdChange>), StoreError> {
        dispatch!(self, pool => {
            let amendments: Vec<(i64, String, String)> = sqlx::query_as(
                "SELECT a.mandate_id, a.kind, a.old_value FROM mandate_amendments a JOIN mandates m ON m.id = a.mandate_id
                 WHERE m.creditor_id = $1 AND a.presented_in IS NULL ORDER BY a.id",
            )
            .bind(creditor.0)
            .fetch_all(pool)
            .await
            .doing("reading mandate amendments")?;
            let changes: Vec<(String, DateTime<Utc>)> = sqlx::query_as(
                "SELECT old_scheme_id, changed_at FROM creditor_scheme_id_changes WHERE creditor_id = $1 ORDER BY id",
            )
            .bind(creditor.0)
            .fetch_all(pool)
            .await
            .doing("reading creditor identifier changes")?;
            Ok((
                amendments.into_iter().map(|(mandate_key, kind, old_value)| PendingAmendment { mandate_key, kind, old_value }).collect(),
                changes.into_iter().map(|(old_scheme_id, changed_at)| SchemeIdChange { old_scheme_id, changed_at }).collect(),
            ))
        })
    }

    /// Creates a collection file (state `writing`) and assigns `items` to it, in one
    /// transaction. Every item must still be pending and in no file, or nothing is kept.
    /// The file's MsgId is `CLT-<tag>-<business date>-<file id>`.
    pub async fn assign_file(
        &self,
        creditor: CreditorKey,
        tag: &LedgerTag,
        business_date: NaiveDate,
        pain_version: &'static str,
        items: &[(&Assignment, Presented<'_>)],
    ) -> Result<Result<FileRow, AssignConflict>, StoreError> {
        let mut file = self.begin_file(creditor, tag, business_date, pain_version).await?;
        if let Err(conflict) = file.assign(items).await? {
            return Ok(Err(conflict));
        }
        let row = file
            .file()
            .ok_or_else(|| StoreError::Corrupt("a file assignment without collections".into()))?;
        file.commit().await?;
        Ok(Ok(row))
    }

    /// Opens the write transaction of one file's assignment ([`FileAssignment`]). On
    /// PostgreSQL it takes the creditor's assignment lock; SQLite's `BEGIN IMMEDIATE`
    /// already is one.
    pub async fn begin_file(
        &self,
        creditor: CreditorKey,
        tag: &LedgerTag,
        business_date: NaiveDate,
        pain_version: &'static str,
    ) -> Result<FileAssignment, StoreError> {
        const DOING: &str = "starting the file assignment";
        let tx = match &self.pool {
            Pool::Sqlite(pool, _) => Tx::Sqlite(pool.begin_write().await.doing(DOING)?),
            Pool::Postgres(pool) => {
                let mut tx = pool.begin_write().await.doing(DOING)?;
                sqlx::query(LOCK_ASSIGNMENTS)
                    .bind(creditor.0)
                    .execute(&mut *tx)
                    .await
                    .doing("locking the creditor's collect")?;
                Tx::Postgres(tx)
            }
        };
        Ok(FileAssignment {
            tx,
            creditor,
            message_id_prefix: format!("{}{}-", message_id_prefix(tag), business_date.format("%Y%m%d")),
            business_date,
            pain_version,
            now: Utc::now(),
            file: None,
            conflicted: false,
            reserved_folder: None,
        })
    }

    /// The names of this creditor's files from `first` on (in name order, which is date
    /// order): what the ledger knows of the files an outbox holds.
    pub async fn file_names_from(&self, creditor: CreditorKey, first: &str) -> Result<HashSet<String>, StoreError> {
        let names: Vec<String> = dispatch!(self, pool => sqlx::query_scalar(
            "SELECT file_name FROM collection_files WHERE creditor_id = $1 AND file_name >= $2",
        )
        .bind(creditor.0)
        .bind(first)
        .fetch_all(pool)
        .await
        .doing("reading the names of collection files"))?;
        Ok(names.into_iter().collect())
    }

    /// Calls `clear` with the names of this creditor's files still `writing`, read and acted
    /// on while no file assignment of the creditor is open: on PostgreSQL under the
    /// creditor's assignment lock ([`Store::begin_file`] takes it, and a file's temporary is
    /// reserved under it), so that a run whose run lock was lost under it can neither commit
    /// a file nor reserve a temporary between the read and `clear`. SQLite needs no more than
    /// its run lock, a file lock that holds as long as the process.
    pub async fn with_assignments_held<T>(
        &self,
        creditor: CreditorKey,
        clear: impl FnOnce(Vec<String>) -> T,
    ) -> Result<T, StoreError> {
        const UNWRITTEN: &str =
            "SELECT file_name FROM collection_files WHERE creditor_id = $1 AND state = 'writing' ORDER BY id";
        const DOING: &str = "reading unwritten collection files";
        match &self.pool {
            Pool::Sqlite(pool, _) => {
                let names = sqlx::query_scalar(UNWRITTEN)
                    .bind(creditor.0)
                    .fetch_all(pool)
                    .await
                    .doing(DOING)?;
                Ok(clear(names))
            }
            Pool::Postgres(pool) => {
                let mut tx = pool.begin().await.doing("locking the creditor's collect")?;
                sqlx::query(LOCK_ASSIGNMENTS)
                    .bind(creditor.0)
                    .execute(&mut *tx)
                    .await
                    .doing("locking the creditor's collect")?;
                let names = sqlx::query_scalar(UNWRITTEN)
                    .bind(creditor.0)
                    .fetch_all(&mut *tx)
                    .await
                    .doing(DOING)?;
                let cleared = clear(names);
                tx.commit().await.doing("releasing the creditor's collect")?;
                Ok(cleared)
            }
        }
    }

    /// Files assigned but not yet marked written (a run stopped between the two).
    pub async fn unwritten_files(&self, creditor: CreditorKey) -> Result<Vec<FileRow>, StoreError> {
        dispatch!(self, pool => sqlx::query_as(
            "SELECT id, message_id, file_name, business_date, pain_version, nb_of_txs, ctrl_sum_cents, created_at, reserved_in_outbox, reserved_folder, reserved_folder_id
             FROM collection_files WHERE creditor_id = $1 AND state = 'writing' ORDER BY id",
        )
        .bind(creditor.0)
        .fetch_all(pool)
        .await
        .doing("reading unwritten collection files"))
    }

    /// Records that an unwritten file now has its temporary reserved in `folder` (see
    /// [`FileRow::reserved_in_outbox`]): an earlier version's file follows this version's
    /// protocol from here on, so that a file placed and taken before it is marked is never
    /// written again; a file whose temporary was moved to another outbox is looked for there.
    pub async fn mark_reserved_in_outbox(&self, file: &FileRow, folder: &OutboxFolder) -> Result<(), StoreError> {
        dispatch!(self, pool => sqlx::query(
            "UPDATE collection_files SET reserved_in_outbox = TRUE, reserved_folder = $2, reserved_folder_id = $3 WHERE id = $1 AND state = 'writing'",
        )
            .bind(file.id)
            .bind(&folder.path)
            .bind(&folder.id)
            .execute(pool)
            .await
            .map(|_| ())
            .doing("recording an unwritten file's reserved temporary"))
    }

    /// Moves the requested collection date of a still unwritten file's collections that ask
    /// for a date before `earliest` to `earliest`; returns how many moved. Only for a file the
    /// bank has never seen (its temporary, not the file, is in the outbox).
    pub async fn move_unwritten_file_dates(&self, file: &FileRow, earliest: NaiveDate) -> Result<u64, StoreError> {
        dispatch!(self, pool => sqlx::query(
            "UPDATE collections SET requested_date = $1 WHERE collection_file_id = $2 AND requested_date < $1
               AND EXISTS (SELECT 1 FROM collection_files f WHERE f.id = $2 AND f.state = 'writing')",
        )
        .bind(earliest)
        .bind(file.id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
        .doing("moving an unwritten file's collection date"))
    }

    /// Takes collections that can no longer be written out of a stopped run's unwritten file
    /// (`refused`: collection id and reason): they become `failed` with the reason, as a
    /// refusal of the checks would have made them, their mandate's first presentation and
    /// their announcements count as not made (the bank never saw them), and the file's
    /// declared count and sum drop accordingly. Returns the file as it now is, or `None` when
    /// nothing is left in it (its row goes: no file of that name will ever be written). One
    /// transaction; only while the file is still `writing`.
    pub async fn refuse_from_unwritten_file(
        &self,
        file: &FileRow,
        refused: &[(i64, String)],
    ) -> Result<Option<FileRow>, StoreError> {
        let now = Utc::now();
        let ids: Vec<i64> = refused.iter().map(|(id, _)| *id).collect();
        dispatch!(self, pool => {
            let mut tx = pool.begin_write().await.doing("starting to take collections out of an unwritten file")?;
            let writing: Option<i64> = sqlx::query_scalar("SELECT id FROM collection_files WHERE id = $1 AND state = 'writing'")
                .bind(file.id)
                .fetch_optional(&mut *tx)
                .await
                .doing("reading an unwritten file")?;
            if writing.is_none() {
                return Err(StoreError::Corrupt(format!(
                    "file {} is no longer being written: its collections were not taken out",
                    file.file_name
                )));
            }
            let mut first_presented: Vec<i64> = Vec::new();
            for chunk in ids.chunks(super::presentations::ROWS_PER_STATEMENT) {
                let mut query = sqlx::QueryBuilder::new(
                    "SELECT DISTINCT mandate_id FROM collections WHERE sequence_type = 'FRST' AND mandate_id IS NOT NULL AND collection_file_id = ",
                );
                query.push_bind(file.id).push(" AND id IN (");
                super::values::push_in_list(&mut query, chunk);
                let mandates: Vec<i64> = query
                    .build_query_scalar()
                    .fetch_all(&mut *tx)
                    .await
                    .doing("reading the refused collections' mandates")?;
                first_presented.extend(mandates);
            }
            undo_presentations!(tx, now, &first_presented, &ids);
            // The events first, while the collections still show their file.
            let columns = [("id", JsonColumn::Int), ("reason", JsonColumn::Text)];
            let record = format!(
                "{} INSERT INTO collection_events (collection_id, occurred_at, kind, detail)
                 SELECT c.id, $1, 'failed', v.reason FROM v JOIN collections c ON c.id = v.id WHERE c.collection_file_id = $2",
                json_rows(&tx, 3, &columns)
            );
            let take_out = format!(
                "{} UPDATE collections SET status = 'failed', failure_reason = v.reason, updated_at = $1,
                   collection_file_id = NULL, end_to_end_id = NULL, sequence_type = NULL, requested_date = NULL,
                   original_mandate_id = NULL, original_scheme_id = NULL, original_debtor_account = NULL,
                   presented_iban = NULL, presented_bic = NULL, presented_mandate_id = NULL
                 FROM v WHERE collections.id = v.id AND collections.collection_file_id = $2",
                json_rows(&tx, 3, &columns)
            );
            execute_json!(tx, record.as_str(), [now, file.id], refused, "refused collections", "recording refused collections");
            execute_json!(tx, take_out.as_str(), [now, file.id], refused, "refused collections", "taking refused collections out of their file");
            let (nb_of_txs, ctrl_sum_cents): (i64, i64) = sqlx::query_as(
                "SELECT COUNT(*), CAST(COALESCE(SUM(amount_cents), 0) AS BIGINT) FROM collections WHERE collection_file_id = $1",
            )
            .bind(file.id)
            .fetch_one(&mut *tx)
            .await
            .doing("counting what is left in an unwritten file")?;
            let left = if nb_of_txs == 0 {
                sqlx::query("DELETE FROM collection_files WHERE id = $1")
                    .bind(file.id)
                    .execute(&mut *tx)
                    .await
                    .doing("removing an emptied unwritten file")?;
                None
            } else {
                sqlx::query("UPDATE collection_files SET nb_of_txs = $1, ctrl_sum_cents = $2 WHERE id = $3")
                    .bind(nb_of_txs)
                    .bind(ctrl_sum_cents)
                    .bind(file.id)
                    .execute(&mut *tx)
                    .await
                    .doing("updating an unwritten file's totals")?;
                Some(FileRow {
                    nb_of_txs,
                    ctrl_sum_cents,
                    ..file.clone()
                })
            };
            tx.commit().await.doing("committing collections taken out of an unwritten file")?;
            Ok(left)
        })
    }

    /// The payment groups of a file, in the order they are written.
    pub async fn file_groups(&self, file: &FileRow) -> Result<Vec<GroupTotal>, StoreError> {
        let rows: Vec<(NaiveDate, String, i64, i64)> = dispatch!(self, pool => sqlx::query_as(
            "SELECT requested_date, sequence_type, COUNT(*), CAST(SUM(amount_cents) AS BIGINT) FROM collections WHERE collection_file_id = $1
             GROUP BY requested_date, sequence_type ORDER BY requested_date, sequence_type",
        )
        .bind(file.id)
        .fetch_all(pool)
        .await
        .doing("reading a file's payment groups")?);
        Ok(rows
            .into_iter()
            .map(|(requested_date, sequence_type, count, sum_cents)| GroupTotal {
                requested_date,
                sequence_type,
                count,
                sum_cents,
            })
            .collect())
    }

    /// The collections of a file, in writing order (group by group, then by id).
    pub async fn file_collections(&self, file: &FileRow) -> Result<Vec<DueCollection>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "{DUE_SELECT} WHERE c.collection_file_id = $1 ORDER BY c.requested_date, c.sequence_type, c.id"
        ));
        dispatch!(self, pool => sqlx::query_as(sql).bind(file.id).fetch_all(pool).await.doing("reading a file's collections"))
    }

    /// Marks a file complete in the outbox (idempotent). Its collections became `submitted`
    /// when they were assigned; their timeline shows the submission from this moment on
    /// (`collection_timeline`), so nothing is written per collection here.
    pub async fn mark_written(&self, file: &FileRow, sha256: Option<&str>) -> Result<(), StoreError> {
        let now = Utc::now();
        dispatch!(self, pool => sqlx::query(
            "UPDATE collection_files SET state = 'written', sha256 = $1, written_at = $2 WHERE id = $3 AND state = 'writing'",
        )
        .bind(sha256)
        .bind(now)
        .bind(file.id)
        .execute(pool)
        .await
        .map(|_| ())
        .doing("marking a file written"))
    }

    /// How many collections are already in files for a business date (for "nothing new").
    pub async fn collections_in_files(
        &self,
        creditor: CreditorKey,
        business_date: NaiveDate,
    ) -> Result<i64, StoreError> {
        dispatch!(self, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM collections c JOIN collection_files f ON f.id = c.collection_file_id WHERE f.creditor_id = $1 AND f.business_date = $2",
        )
        .bind(creditor.0)
        .bind(business_date)
        .fetch_one(pool)
        .await
        .doing("counting collections in files"))
    }
}

/// One file's assignment, as one write transaction fed while the run goes on checking rows
/// ([`Store::begin_file`]): collections are assigned a chunk at a time as they pass the
/// checks, so the ledger's writes (the bulk of a run) overlap the reading and checking of the
/// rest, and the refusals checked with the file are recorded with it. Nothing is kept unless
/// [`FileAssignment::commit`] is reached: dropped, it rolls back. The file row is created with
/// the first chunk, so a transaction that only records refusals makes no file.
#[derive(Debug)]
pub struct FileAssignment {
    tx: Tx,
    creditor: CreditorKey,
    /// `CLT-<tag>-<business date>-`: the file id completes the MsgId.
    message_id_prefix: String,
    business_date: NaiveDate,
    pain_version: &'static str,
    now: DateTime<Utc>,
    /// The file row, once the first chunk made it, counting every chunk assigned since.
    file: Option<FileRow>,
    /// A chunk met collections another run took: what was written so far must not be kept.
    conflicted: bool,
    /// The outbox folder the file's temporary is reserved in before the commit.
    reserved_folder: Option<OutboxFolder>,
}

impl FileAssignment {
    /// Says which outbox folder the file's temporary will be reserved in before the commit,
    /// recorded with the file (see [`FileRow::reserved_folder_id`]).
    #[must_use]
    pub fn reserving_in(mut self, folder: OutboxFolder) -> Self {
        self.reserved_folder = Some(folder);
        self
    }

    /// Assigns `items` to the file (created with the first chunk): each must still be pending
    /// and in no file; if one is not, nothing of the assignment is kept (its commit refuses).
    pub async fn assign(
        &mut self,
        items: &[(&Assignment, Presented<'_>)],
    ) -> Result<Result<(), AssignConflict>, StoreError> {
        if items.is_empty() {
            return Ok(Ok(()));
        }
        let now = self.now;
        let row = match self.file.take() {
            Some(row) => row,
            None => self.create_file().await?,
        };
        let (file, already) = (row.id, row.nb_of_txs);
        self.file = Some(row);
        let count = i64::try_from(items.len()).unwrap_or(i64::MAX);
        let sum: i64 = items.iter().map(|(i, _)| i.amount_cents).sum();
        on_tx!(&mut self.tx, tx => {
            // One `UPDATE … FROM v` per `JSON_ROWS_PER_STATEMENT` rows (see
            // `values::json_rows`). The collections become `submitted` here, in the same row
            // write that names their file: the file is `writing` until it is complete in the
            // outbox, and the next run finishes such a file before anything else.
            let sql = format!(
                "{} UPDATE collections SET collection_file_id = $1, status = 'submitted', updated_at = $2,
                   end_to_end_id = v.e2e, sequence_type = v.sequence_type, requested_date = v.requested_date,
                   original_mandate_id = v.original_mandate_id, original_scheme_id = v.original_scheme_id,
                   original_debtor_account = v.original_debtor_account,
                   presented_iban = v.iban, presented_bic = v.bic, presented_mandate_id = v.umr
                 FROM v
                 WHERE collections.id = v.id AND collections.status = 'pending' AND collections.collection_file_id IS NULL",
                json_rows(tx, 3, &[
                    ("id", JsonColumn::Int),
                    ("e2e", JsonColumn::Text),
                    ("sequence_type", JsonColumn::Text),
                    ("requested_date", JsonColumn::Date),
                    ("original_mandate_id", JsonColumn::Text),
                    ("original_scheme_id", JsonColumn::Text),
                    ("original_debtor_account", JsonColumn::Text),
                    ("iban", JsonColumn::Text),
                    ("bic", JsonColumn::Text),
                    ("umr", JsonColumn::Text),
                ])
            );
            let assigned = execute_json!(*tx, sql.as_str(), [file, now], items, map |(i, p)| {
                (
                    i.id,
                    &i.end_to_end_id,
                    i.sequence_type,
                    i.requested_date,
                    &i.original_mandate_id,
                    &i.original_scheme_id,
                    &i.original_debtor_account,
                    p.iban,
                    p.bic,
                    p.mandate_id,
                )
            }, "a file's collections", "assigning collections to a file");
            if assigned != items.len() as u64 {
                self.conflicted = true;
                let of = usize::try_from(already).unwrap_or_default() + items.len();
                return Ok(Err(AssignConflict { taken: items.len() as u64 - assigned, of }));
            }
            let announced: Vec<(i64, i64)> = items
                .iter()
                .filter(|(i, _)| i.original_mandate_id.is_some() || i.original_debtor_account.is_some())
                .map(|(i, _)| (i.id, i.mandate_key))
                .collect();
            let sql = format!(
                "{} UPDATE mandate_amendments SET presented_in = v.collection FROM v
                 WHERE mandate_amendments.mandate_id = v.mandate AND mandate_amendments.presented_in IS NULL",
                json_rows(tx, 1, &[("collection", JsonColumn::Int), ("mandate", JsonColumn::Int)])
            );
            execute_json!(*tx, sql.as_str(), [], announced, "announced amendments", "recording announced amendments");
            let sql = format!(
                "{} UPDATE mandates SET first_presented = (first_presented OR v.frst),
                   last_presented_on = CASE WHEN mandates.last_presented_on IS NULL OR mandates.last_presented_on < v.presented_on
                                       THEN v.presented_on ELSE mandates.last_presented_on END,
                   last_presented_at = $1, updated_at = $1
                 FROM v WHERE mandates.id = v.id",
                json_rows(tx, 2, &[("id", JsonColumn::Int), ("frst", JsonColumn::Bool), ("presented_on", JsonColumn::Date)])
            );
            execute_json!(*tx, sql.as_str(), [now], presentations(items), "mandate presentations", "recording mandate presentations");
            sqlx::query("UPDATE collection_files SET nb_of_txs = nb_of_txs + $1, ctrl_sum_cents = ctrl_sum_cents + $2 WHERE id = $3")
                .bind(count)
                .bind(sum)
                .bind(file)
                .execute(&mut **tx)
                .await
                .doing("counting a collection file")?;
            Ok::<(), StoreError>(())
        })?;
        if let Some(row) = &mut self.file {
            row.nb_of_txs += count;
            row.ctrl_sum_cents += sum;
        }
        Ok(Ok(()))
    }

    /// Records refusals with the file: pending collections in no file become `failed` with a
    /// reason a person understands (refused by the EPC checks, missed beyond the catch-up
    /// window...) and a timeline event; mandates found lapsed (36 months without a
    /// presentation) become `expired`. A collection that meanwhile went into a file or changed
    /// is left alone.
    pub async fn fail(&mut self, failures: &[(i64, String)], lapsed_mandates: &[i64]) -> Result<(), StoreError> {
        let now = self.now;
        on_tx!(&mut self.tx, tx => {
            let columns = [("id", JsonColumn::Int), ("reason", JsonColumn::Text)];
            // The events first, while the collections still show which of them are pending.
            let record = format!(
                "{} INSERT INTO collection_events (collection_id, occurred_at, kind, detail)
                 SELECT c.id, $1, 'failed', v.reason FROM v JOIN collections c ON c.id = v.id
                 WHERE c.status = 'pending' AND c.collection_file_id IS NULL",
                json_rows(tx, 2, &columns)
            );
            let fail = format!(
                "{} UPDATE collections SET status = 'failed', failure_reason = v.reason, updated_at = $1 FROM v
                 WHERE collections.id = v.id AND collections.status = 'pending' AND collections.collection_file_id IS NULL",
                json_rows(tx, 2, &columns)
            );
            execute_json!(*tx, record.as_str(), [now], failures, "failed collections", "recording failures");
            execute_json!(*tx, fail.as_str(), [now], failures, "failed collections", "marking collections failed");
            let expire = format!(
                "{} UPDATE mandates SET status = 'expired', updated_at = $1 FROM v
                 WHERE mandates.id = v.id AND mandates.status = 'active'",
                json_rows(tx, 2, &[("id", JsonColumn::Int)])
            );
            execute_json!(*tx, expire.as_str(), [now], lapsed_mandates, map |id| [*id], "lapsed mandates", "marking mandates expired");
            Ok(())
        })
    }

    /// The file row as [`FileAssignment::commit`] will leave it (every chunk counted), once a
    /// chunk made one: what the file is written from, which may happen while the commit runs.
    pub fn file(&self) -> Option<FileRow> {
        self.file.clone()
    }

    /// Commits the file (if a chunk made one), its collections and the refusals. A single
    /// statement, so that it is under way from its first poll: collect writes the file
    /// meanwhile.
    pub async fn commit(self) -> Result<(), StoreError> {
        if self.conflicted {
            // Dropped here, the transaction rolls back.
            return Err(StoreError::Corrupt(
                "a file assignment that met collections of another run was to be committed; nothing was kept".into(),
            ));
        }
        on_tx!(self.tx, tx => tx.commit().await.doing("committing the file assignment"))
    }

    /// Inserts the file row (state `writing`), named after its id.
    async fn create_file(&mut self) -> Result<FileRow, StoreError> {
        let now = self.now;
        let provisional = format!(
            "provisional-{}-{}",
            std::process::id(),
            now.timestamp_nanos_opt().unwrap_or_default()
        );
        let (creditor, business_date, version, prefix, folder) = (
            self.creditor,
            self.business_date,
            self.pain_version,
            self.message_id_prefix.as_str(),
            self.reserved_folder.as_ref(),
        );
        on_tx!(&mut self.tx, tx => {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO collection_files (creditor_id, message_id, business_date, pain_version, state, nb_of_txs, ctrl_sum_cents, file_name, created_at, reserved_in_outbox, reserved_folder, reserved_folder_id)
                 VALUES ($1, $2, $3, $4, 'writing', 0, 0, $2, $5, TRUE, $6, $7) RETURNING id",
            )
            .bind(creditor.0)
            .bind(&provisional)
            .bind(business_date)
            .bind(version)
            .bind(now)
            .bind(folder.map(|f| f.path.as_str()))
            .bind(folder.map(|f| f.id.as_str()))
            .fetch_one(&mut **tx)
            .await
            .doing("creating a collection file")?;
            let message_id = format!("{prefix}{id:08}");
            sqlx::query_as(
                "UPDATE collection_files SET message_id = $1, file_name = $2 WHERE id = $3
                 RETURNING id, message_id, file_name, business_date, pain_version, nb_of_txs, ctrl_sum_cents, created_at, reserved_in_outbox, reserved_folder, reserved_folder_id",
            )
            .bind(&message_id)
            .bind(format!("{message_id}.xml"))
            .bind(id)
            .fetch_one(&mut **tx)
            .await
            .doing("naming a collection file")
        })
    }
}

/// Takes the creditor's assignment lock for the rest of the transaction (PostgreSQL): one
/// file assignment at a time, and no clearing of the outbox's temporaries during one.
const LOCK_ASSIGNMENTS: &str = "SELECT pg_advisory_xact_lock(7321, CAST($1 AS INTEGER))";

/// Per mandate of `items`: whether one of them is its FRST, and the latest collection date
/// presented (the rows of the mandates' `UPDATE`).
fn presentations(items: &[(&Assignment, Presented<'_>)]) -> Vec<(i64, bool, NaiveDate)> {
    let mut mandates: Vec<(i64, bool, NaiveDate)> = Vec::new();
    let mut index: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
    for (item, _) in items {
        let frst = item.sequence_type == "FRST";
        match index.get(&item.mandate_key) {
            Some(&i) => {
                mandates[i].1 |= frst;
                mandates[i].2 = mandates[i].2.max(item.requested_date);
            }
            None => {
                index.insert(item.mandate_key, mandates.len());
                mandates.push((item.mandate_key, frst, item.requested_date));
            }
        }
    }
    mandates
}
