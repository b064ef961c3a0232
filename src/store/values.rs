//! Multi-row statements: many rows per statement, because the per-statement round trip, not
//! the database, is what a row-at-a-time loop spends its time on (on both backends). Rows
//! travel as one JSON parameter ([`json_rows`]) rather than as placeholders: sqlx-sqlite binds
//! every parameter by name and SQLite finds a name by a linear scan, so a statement's binding
//! cost grew with the square of its placeholders (40% of a collect run at 2,800 of them).

use super::{Dialect, StoreError};

/// What differs between the backends for multi-row statements.
pub(super) trait Backend: sqlx::Database {
    /// Which SQL dialect the backend speaks.
    const DIALECT: Dialect;
    /// What to run after bulk inserts that later statements of the same transaction join on.
    /// PostgreSQL plans those joins from statistics taken before the inserts (an empty table)
    /// and picks nested loops over full scans: a plan import of 10k rows took 4 minutes.
    const REFRESH_STATISTICS: Option<&'static str>;
}

impl Backend for sqlx::Sqlite {
    const DIALECT: Dialect = Dialect::Sqlite;
    const REFRESH_STATISTICS: Option<&'static str> = None;
}

impl Backend for sqlx::Postgres {
    const DIALECT: Dialect = Dialect::Postgres;
    const REFRESH_STATISTICS: Option<&'static str> = Some("ANALYZE plans, collections");
}

/// The statement refreshing planner statistics in `_tx`'s backend, if it needs one.
pub(super) fn refresh_statistics<DB: Backend>(_tx: &sqlx::Transaction<'_, DB>) -> Option<&'static str> {
    DB::REFRESH_STATISTICS
}

/// The SQL type a column of [`json_rows`] is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum JsonColumn {
    /// A JSON number, as a 64-bit integer.
    Int,
    /// A JSON string or null.
    Text,
    /// A JSON string `YYYY-MM-DD`.
    Date,
    /// A JSON boolean.
    Bool,
}

/// `WITH v AS MATERIALIZED (...)`: the rows of a JSON array of arrays bound as parameter
/// `$param`, as a table `v` with the given columns (element `i` of each array is column `i`).
///
/// One parameter carries thousands of rows, so a 100k-row update is a few statements: no
/// per-row binding (sqlx-sqlite binds by name, see [`Backend`]) and no per-statement round
/// trip. `MATERIALIZED` makes both databases read the array first and then find each target
/// row by its key; otherwise SQLite's planner may scan the target by another index and the
/// array once per target row.
pub(super) fn json_rows<DB: Backend>(
    _tx: &sqlx::Transaction<'_, DB>,
    param: usize,
    columns: &[(&str, JsonColumn)],
) -> String {
    let dialect = DB::DIALECT;
    let fields: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, (name, kind))| match (dialect, kind) {
            (Dialect::Sqlite, _) | (Dialect::Postgres, JsonColumn::Text) => format!("value ->> {i} AS {name}"),
            (Dialect::Postgres, JsonColumn::Int) => format!("CAST(value ->> {i} AS BIGINT) AS {name}"),
            (Dialect::Postgres, JsonColumn::Date) => format!("CAST(value ->> {i} AS DATE) AS {name}"),
            (Dialect::Postgres, JsonColumn::Bool) => format!("CAST(value ->> {i} AS BOOLEAN) AS {name}"),
        })
        .collect();
    let source = match dialect {
        Dialect::Sqlite => format!("json_each(${param})"),
        // JSONB: each element is parsed once, not again for every `->>` (a 10,000-row
        // assignment spent 60–95 ms unpacking its rows as JSON, 25–33 ms as JSONB).
        Dialect::Postgres => format!("jsonb_array_elements(CAST(${param} AS JSONB))"),
    };
    format!("WITH v AS MATERIALIZED (SELECT {} FROM {source})", fields.join(", "))
}

/// Rows per [`json_rows`] statement. One statement for a whole 100k-collection file would hold
/// SQLite's statement journal for all the pages it changes in memory (the bundled SQLite keeps
/// temporary files in memory): the million-collection run peaked at 316 MB instead of 277 MB.
pub(super) const JSON_ROWS_PER_STATEMENT: usize = 10_000;

/// `rows` as the JSON array [`json_rows`] reads (`what` names them in the error).
pub(super) fn json_array<T: serde::Serialize>(rows: &[T], what: &str) -> Result<String, StoreError> {
    serde_json::to_string(rows).map_err(|e| StoreError::Corrupt(format!("cannot encode {what} as JSON: {e}")))
}

/// Runs the [`json_rows`] statement `$sql` once per [`JSON_ROWS_PER_STATEMENT`] rows of
/// `$rows` (a slice): the leading `$bind`s, then the chunk as JSON. With `map F`, each row
/// is turned into the serialisable tuple the statement reads by `F`, one chunk at a time, so
/// no second copy of a whole file's rows is built. Evaluates to the rows affected, summed
/// over the chunks. `$what` names the rows in an encoding error, `$doing` the statement in a
/// database error.
macro_rules! execute_json {
    ($tx:expr, $sql:expr, [$($bind:expr),* $(,)?], $rows:expr, $what:literal, $doing:literal) => {
        $crate::store::values::execute_json!($tx, $sql, [$($bind),*], $rows, map |row| row, $what, $doing)
    };
    ($tx:expr, $sql:expr, [$($bind:expr),* $(,)?], $rows:expr, map $f:expr, $what:literal, $doing:literal) => {{
        let mut affected = 0u64;
        for chunk in $rows.chunks($crate::store::values::JSON_ROWS_PER_STATEMENT) {
            let mapped: Vec<_> = chunk.iter().map($f).collect();
            affected += sqlx::query(sqlx::AssertSqlSafe($sql))
                $(.bind($bind))*
                .bind($crate::store::values::json_array(&mapped, $what)?)
                .execute(&mut *$tx)
                .await
                .doing($doing)?
                .rows_affected();
        }
        affected
    }};
}
pub(super) use execute_json;

/// The `$row`s of `$select` for the keys `$keys` (an iterator of `&str`) names: the keys go
/// as a JSON table `v(key)` bound as `$2`, 10,000 a statement, after the creditor as `$1`.
/// An import reads only the rows its file names, so it costs what the file holds, not what
/// the ledger holds (a 100-row file into a million-customer ledger read the million rows).
macro_rules! named_rows {
    ($tx:expr, $row:ty, $select:literal, $creditor:expr, $keys:expr, $doing:literal) => {{
        let mut keys: Vec<[&str; 1]> = $keys.map(|k: &str| [k]).collect();
        keys.sort_unstable();
        keys.dedup();
        let sql = format!(
            "{} {}",
            $crate::store::values::json_rows(&$tx, 2, &[("key", $crate::store::values::JsonColumn::Text)]),
            $select
        );
        let mut rows: Vec<$row> = Vec::new();
        for chunk in keys.chunks($crate::store::values::JSON_ROWS_PER_STATEMENT) {
            rows.extend(
                sqlx::query_as::<_, $row>(sqlx::AssertSqlSafe(sql.as_str()))
                    .bind($creditor.0)
                    .bind($crate::store::values::json_array(chunk, "references")?)
                    .fetch_all(&mut *$tx)
                    .await
                    .doing($doing)?,
            );
        }
        rows
    }};
}
pub(super) use named_rows;

/// Binds `items` one by one as the inside of an `IN (` list the query has opened, and
/// closes it.
pub(super) fn push_in_list<DB, T>(query: &mut sqlx::QueryBuilder<DB>, items: &[T])
where
    DB: sqlx::Database,
    T: Copy + for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    let mut list = query.separated(", ");
    for item in items {
        list.push_bind(*item);
    }
    query.push(")");
}
