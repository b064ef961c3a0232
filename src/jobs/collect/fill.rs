//! Filling one file: due rows read a chunk at a time, decided and checked one by one, and
//! handed on as they pass — with the refusals, as they gather — to the recording side
//! (`record.rs`), which writes them to the ledger meanwhile. The checks of one chunk thus run
//! beside the ledger's writes of the one before, on the other core.

use std::time::Instant;

use tokio::sync::mpsc::Sender;

use super::checker::{Checked, Checker};
use super::due_rows::DueRows;
use super::{CollectReport, GroupTotals, Phases};
use crate::domain::collect::Selector;
use crate::jobs::JobError;
use crate::sepa::pain008::Transaction;
use crate::store::{Assignment, Dialect};
use crate::telemetry::Progress;

/// Collections (or refusals) handed on at a time: the size of one assignment statement
/// (`store::values::JSON_ROWS_PER_STATEMENT`), large enough that a statement's round trip is
/// noise.
const CHUNK: usize = 10_000;

/// A file's first chunk: small, so that the ledger starts writing while the checks are still
/// at the file's first rows (the run waits for nothing else before the two sides overlap).
const FIRST_CHUNK: usize = 1_000;

/// Rows the reads of due collections ask for, for files of at most `max_per_file`: the run's
/// first read, then the others. On SQLite a chunk (the first one small): the read is an index
/// range in this process, so small reads overlap the writes of the chunks before. On
/// PostgreSQL a file's worth: each page query costs the server a pass over the customers,
/// mandates and plans tables (100k in ten reads took 2.0 s instead of 0.8–1.1 s, and slowed
/// the assignment beside it); the next file's page is read while a file commits and is
/// written instead.
pub(super) fn read_sizes(dialect: Dialect, max_per_file: usize) -> (usize, usize) {
    match dialect {
        Dialect::Sqlite => (FIRST_CHUNK, CHUNK),
        Dialect::Postgres => (max_per_file, max_per_file),
    }
}

/// What the checks hand the recording side of a file.
pub(super) enum ToRecord {
    /// Collections checked into the file, with the transactions it will hold.
    Items(Vec<(Assignment, Transaction)>),
    /// Collections refused or needing review, with the reason, and the mandates found lapsed.
    Refusals {
        failed: Vec<(i64, String)>,
        lapsed: Vec<i64>,
    },
    /// The file is complete: what was handed on may be committed. A channel closed without it
    /// means the checking side stopped on an error, and nothing is kept.
    Done,
}

/// What filling a file needs of the run besides its rows: the checks, the run's selector and
/// where the file's refusals and totals are reported.
pub(super) struct Filling<'r, 'c> {
    /// Rows a read asks for (see [`read_sizes`]).
    pub(super) read_rows: usize,
    pub(super) checker: &'r Checker<'c>,
    pub(super) selector: &'r mut Selector,
    pub(super) report: &'r mut CollectReport,
    pub(super) totals: &'r mut GroupTotals,
    pub(super) progress: &'r Progress,
    pub(super) phases: &'r mut Phases,
}

impl Filling<'_, '_> {
    /// Fills one file of at most `max` collections from `due`, handing chunks to `to_record`.
    /// Rows refused or held leave room that the next rows take, so a run's files split only
    /// at the maximum; rows read beyond it stay in `due` for the next file. Returns early,
    /// without error, when the recording side has gone (its error is the run's).
    pub(super) async fn file(
        &mut self,
        due: &mut DueRows<'_>,
        max: usize,
        to_record: Sender<ToRecord>,
    ) -> Result<(), JobError> {
        let mut checked = Checked::default();
        let mut in_file = 0;
        let mut clock = Instant::now();
        loop {
            while in_file + checked.items.len() < max
                && let Some(c) = due.rows.pop_front()
            {
                self.checker.check(c, self.selector, &mut checked);
                let chunk = if in_file == 0 { FIRST_CHUNK } else { CHUNK };
                let handed = if checked.items.len() >= chunk {
                    Phases::lap(&mut self.phases.decide, &mut clock);
                    in_file += checked.items.len();
                    self.hand_items(&mut checked, &to_record).await
                } else if checked.failed.len() >= CHUNK {
                    Phases::lap(&mut self.phases.decide, &mut clock);
                    self.hand_refusals(&mut checked, &to_record).await
                } else {
                    continue;
                };
                if !handed {
                    return Ok(());
                }
                clock = Instant::now();
            }
            if in_file + checked.items.len() >= max || !due.more {
                break;
            }
            Phases::lap(&mut self.phases.decide, &mut clock);
            due.fetch(self.read_rows).await?;
            Phases::lap(&mut self.phases.read, &mut clock);
            if due.rows.is_empty() {
                break;
            }
        }
        Phases::lap(&mut self.phases.decide, &mut clock);
        self.report.held += checked.held;
        let _ = self.hand_items(&mut checked, &to_record).await
            && self.hand_refusals(&mut checked, &to_record).await
            && to_record.send(ToRecord::Done).await.is_ok();
        Ok(())
    }

    /// Hands on the collections checked so far (counted into the run's totals); false when
    /// the recording side has gone.
    async fn hand_items(&mut self, checked: &mut Checked, to_record: &Sender<ToRecord>) -> bool {
        if checked.items.is_empty() {
            return true;
        }
        let items = std::mem::take(&mut checked.items);
        items.iter().for_each(|(i, _)| self.totals.add(i));
        self.progress
            .say(&format!("assigning {} checked collection(s) to a file", items.len()));
        to_record.send(ToRecord::Items(items)).await.is_ok()
    }

    /// Hands on the refusals gathered so far (the report keeps the first ones:
    /// `CollectReport::add_failures`); false when the recording side has gone.
    async fn hand_refusals(&mut self, checked: &mut Checked, to_record: &Sender<ToRecord>) -> bool {
        if checked.failed.is_empty() {
            return true;
        }
        let failed = std::mem::take(&mut checked.failed);
        let lapsed = std::mem::take(&mut checked.lapsed);
        self.report.add_failures(&failed);
        self.progress.say(&format!("recording {} refusal(s)", failed.len()));
        to_record.send(ToRecord::Refusals { failed, lapsed }).await.is_ok()
    }
}
