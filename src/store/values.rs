//! Multi-row statements: many rows per statement, because the per-statement round trip, not
//! the database, is what a row-at-a-time loop spends its time on (on both backends).

/// Parameters per multi-row statement, per backend. sqlx-sqlite binds every parameter by its
/// name, and SQLite finds a parameter's name by a linear scan (`sqlite3_bind_parameter_name`),
/// so binding a statement costs the square of its parameter count: at 2,800 parameters it was
/// 40% of a collect run, at 480 still 29% of a plan import. PostgreSQL binds in linear time and
/// pays a network round trip per statement instead, so it gets more rows per statement.
pub(super) trait Backend: sqlx::Database {
    /// Parameters per statement.
    const PARAMS_PER_STATEMENT: usize;
    /// What to run after bulk inserts that later statements of the same transaction join on.
    /// PostgreSQL plans those joins from statistics taken before the inserts (an empty table)
    /// and picks nested loops over full scans: a plan import of 10k rows took 4 minutes.
    const REFRESH_STATISTICS: Option<&'static str>;
}

impl Backend for sqlx::Sqlite {
    const PARAMS_PER_STATEMENT: usize = 160;
    const REFRESH_STATISTICS: Option<&'static str> = None;
}

impl Backend for sqlx::Postgres {
    const PARAMS_PER_STATEMENT: usize = 480;
    const REFRESH_STATISTICS: Option<&'static str> = Some("ANALYZE plans, collections");
}

/// The statement refreshing planner statistics in `_tx`'s backend, if it needs one.
pub(super) fn refresh_statistics<DB: Backend>(_tx: &sqlx::Transaction<'_, DB>) -> Option<&'static str> {
    DB::REFRESH_STATISTICS
}

/// Rows of `width` parameters per multi-row statement in the transaction `_tx`'s backend.
pub(super) fn rows_per_statement<DB: Backend>(_tx: &sqlx::Transaction<'_, DB>, width: usize) -> usize {
    (DB::PARAMS_PER_STATEMENT / width.max(1)).max(1)
}

/// `($3, $4, ...), ($10, ...)`: `rows` tuples of `width` placeholders numbered from `first`,
/// for `VALUES` lists (their columns are `column1`, `column2`, ... on both backends).
pub(super) fn values_list(rows: usize, width: usize, first: usize) -> String {
    let mut out = String::with_capacity(rows * width * 6);
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for c in 0..width {
            if c > 0 {
                out.push_str(", ");
            }
            out.push('$');
            out.push_str(&(first + r * width + c).to_string());
        }
        out.push(')');
    }
    out
}

/// `$2, $3, $4`: `count` placeholders numbered from `first`, for `IN (...)` lists.
pub(super) fn in_list(count: usize, first: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn values_lists_number_placeholders_row_by_row() {
        assert_eq!(super::values_list(2, 3, 2), "($2, $3, $4), ($5, $6, $7)");
        assert_eq!(super::values_list(1, 1, 1), "($1)");
    }

    #[test]
    fn in_lists_number_placeholders() {
        assert_eq!(super::in_list(3, 2), "$2, $3, $4");
    }
}
