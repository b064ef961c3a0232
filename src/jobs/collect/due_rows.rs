//! Reading a run's due collections a page at a time: from the ledger, or from a dry run's
//! uncommitted view of it, after a `(due_date, id)` cursor, so that a run holds one file's
//! worth of rows (plus what a top-up read brings) however many are due.

use std::collections::VecDeque;

use chrono::NaiveDate;

use crate::store::{CreditorKey, DryRunView, DueCollection, Store};

/// Where a run reads its due collections: the ledger, or a dry run's uncommitted view of it.
pub(super) enum Due<'a> {
    Ledger(&'a Store),
    DryRun(DryRunView),
}

/// A run's due collections, read a page at a time after a `(due_date, id)` cursor.
pub(super) struct DueRows<'a> {
    pub(super) source: Due<'a>,
    pub(super) creditor: CreditorKey,
    /// Due on or before.
    pub(super) until: NaiveDate,
    /// Read and not yet checked.
    pub(super) rows: VecDeque<DueCollection>,
    /// The last row read.
    pub(super) cursor: Option<(NaiveDate, i64)>,
    /// The last read filled what it asked for: there may be more.
    pub(super) more: bool,
}

impl DueRows<'_> {
    /// Reads up to `ask` more rows after the cursor (none once a read came back short).
    pub(super) async fn fetch(&mut self, ask: usize) -> Result<(), crate::store::StoreError> {
        if !self.more {
            return Ok(());
        }
        let (creditor, until, after) = (self.creditor, self.until, self.cursor);
        let page = match &mut self.source {
            Due::Ledger(store) => store.due_collections(creditor, until, after, ask).await?,
            Due::DryRun(view) => view.due_collections(creditor, until, after, ask).await?,
        };
        self.more = page.len() == ask;
        if let Some(last) = page.last() {
            self.cursor = Some((last.due_date, last.id));
        }
        self.rows.extend(page);
        Ok(())
    }
}
