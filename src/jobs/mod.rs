//! The jobs: short orchestrations of store → pure domain → files or emails → store.

pub mod collect;
pub mod ingest;
pub mod outbox;
pub mod runner;

use crate::store::StoreError;

/// Why a job stopped, with what it was doing.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The ledger failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A file could not be written, moved or read.
    #[error(transparent)]
    Outbox(#[from] outbox::OutboxError),
    /// Another run took collections this one had chosen; nothing of this run was kept.
    #[error(transparent)]
    Conflict(#[from] crate::store::AssignConflict),
    /// The configured creditor or a stored collection cannot be written as pain.008.
    #[error("{0}")]
    Invalid(String),
    /// Another run of the same job held the creditor's run lock for longer than the run
    /// would wait; nothing was done.
    #[error("{0}")]
    Busy(String),
    /// A task of the run was cancelled before it finished (the runtime is shutting down):
    /// nothing about the input is known to be wrong.
    #[error("{0}")]
    Interrupted(String),
    /// The ledger and the outbox disagree in a way that could collect twice; a person must
    /// look before anything more is collected.
    #[error(transparent)]
    Disagree(#[from] collect::LedgerBehindOutbox),
    /// A stopped run's file was reserved in another outbox folder than the configured one;
    /// a person must say where it is before anything more is collected.
    #[error(transparent)]
    Moved(#[from] collect::OutboxMoved),
    /// folders.outbox is not the folder the creditor's files go to (a share that failed to
    /// mount); a person must mount it back or adopt the new one.
    #[error(transparent)]
    Replaced(#[from] collect::OutboxReplaced),
}
