//! Undoing presentations the bank never took (a reject, a refusal, a return before
//! settlement) or that never reached it (a stopped run's file with a collection that can no
//! longer be written): the mandate's first presentation and the amendments the collection
//! announced count as not made, so the next presentation is FRST again and announces them
//! again. Shared by ingest and collect as a macro: the statements run inside either
//! backend's transaction.

/// Ids per multi-row statement.
pub(crate) const ROWS_PER_STATEMENT: usize = 500;

/// In transaction `$tx` at `$now`: the mandates `$not_presented` (ids) are first to be
/// presented again; what the collections `$rearm` (ids) announced is to be announced again.
/// Run before the collections' own rows change (it reads their file and announcement).
macro_rules! undo_presentations {
    ($tx:ident, $now:expr, $not_presented:expr, $rearm:expr) => {{
        for chunk in $not_presented.chunks($crate::store::presentations::ROWS_PER_STATEMENT) {
            let mut query = sqlx::QueryBuilder::new("UPDATE mandates SET first_presented = FALSE, updated_at = ");
            query.push_bind($now).push(" WHERE id IN (");
            $crate::store::values::push_in_list(&mut query, chunk);
            query
                .build()
                .execute(&mut *$tx)
                .await
                .doing("resetting mandates' sequence")?;
        }
        for chunk in $rearm.chunks($crate::store::presentations::ROWS_PER_STATEMENT) {
            let mut query =
                sqlx::QueryBuilder::new("UPDATE mandate_amendments SET presented_in = NULL WHERE presented_in IN (");
            $crate::store::values::push_in_list(&mut query, chunk);
            query.build().execute(&mut *$tx).await.doing("re-arming amendments")?;
            // A creditor-id change is announced to a mandate presented before it; the
            // bank did not take this presentation, so the mandate counts as last
            // presented when the identifier it announced came into force (or before any
            // change, if it was the first) — unless a later file already announced the
            // change to the bank and was not undone. A later presentation that did not
            // carry the announcement does not count: if the bank refuses it for the
            // unknown identifier, nothing else would announce the change again.
            let mut query = sqlx::QueryBuilder::new(
                "UPDATE mandates SET last_presented_at = (SELECT MAX(s.changed_at) FROM creditor_scheme_id_changes s
                   WHERE s.creditor_id = c.creditor_id AND s.new_scheme_id = c.original_scheme_id), updated_at = ",
            );
            query.push_bind($now).push(
                " FROM collections c WHERE c.mandate_id = mandates.id AND c.original_scheme_id IS NOT NULL
                   AND NOT EXISTS (SELECT 1 FROM collections later WHERE later.mandate_id = c.mandate_id
                     AND later.collection_file_id > c.collection_file_id AND later.status IN ('submitted', 'settled')
                     AND later.original_scheme_id IS NOT NULL)
                   AND c.id IN (",
            );
            $crate::store::values::push_in_list(&mut query, chunk);
            query
                .build()
                .execute(&mut *$tx)
                .await
                .doing("re-arming creditor-id amendments")?;
        }
    }};
}
pub(crate) use undo_presentations;
