//! `collecte demo`'s material: a generated customer book and a simulated bank.
//!
//! The demo runs the real product on made-up data: [`data`] writes the six import CSV files
//! (loaded by the same code as `collecte import all`), the day runs through the job runner,
//! and [`bank`] answers each pain.008 file the day wrote with the pain.002 and camt.054 a bank
//! would send, for ingest to book. Nothing here touches the ledger: the command
//! (`cli::demo`) strings the steps together.

pub mod bank;
mod countries;
pub mod data;
mod iban;
mod rng;

use std::path::{Path, PathBuf};

use crate::import::ImportKind;
use crate::sepa::ParseError;
use crate::sepa::bank::{BankError, OriginalMessageError};

pub use data::{DemoData, Spec, Stats, generate};

/// Why a demo step failed.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A file or folder could not be read or written.
    #[error("cannot {what} {}: {source}", .path.display())]
    Io {
        /// What was being done.
        what: &'static str,
        /// Which file or folder.
        path: PathBuf,
        /// The system's reason.
        source: std::io::Error,
    },
    /// A generated CSV file could not be written.
    #[error("writing the demo {} file failed: {source}", .kind.name())]
    Csv {
        /// Which file.
        kind: ImportKind,
        /// The CSV writer's reason.
        source: csv::Error,
    },
    /// A pain.008 file the day wrote could not be read back by the bank.
    #[error("the bank cannot read {}: {source}", .path.display())]
    Original {
        /// The outbox file.
        path: PathBuf,
        /// Why.
        source: OriginalMessageError,
    },
    /// The bank's decisions did not fit the file (a bug in the simulation).
    #[error(transparent)]
    Bank(#[from] BankError),
    /// A report message id derived from the original MsgId is not a valid id.
    #[error("bank report id: {0}")]
    ReportId(ParseError),
}

impl DemoError {
    /// An I/O error on `path`.
    pub fn io(what: &'static str, path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            what,
            path: path.to_path_buf(),
            source,
        }
    }

    fn csv(kind: ImportKind, source: csv::Error) -> Self {
        Self::Csv { kind, source }
    }
}

/// Reads one of our pain.008 files back, as the bank receives it.
pub fn read_original(path: &Path) -> Result<crate::sepa::bank::OriginalMessage, DemoError> {
    let file = std::fs::File::open(path).map_err(|e| DemoError::io("read", path, e))?;
    crate::sepa::bank::OriginalMessage::from_pain008(std::io::BufReader::new(file)).map_err(|source| {
        DemoError::Original {
            path: path.to_path_buf(),
            source,
        }
    })
}
