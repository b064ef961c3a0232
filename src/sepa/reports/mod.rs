//! Bank report readers: pain.002 status reports and camt.052/053/054 account reports, read
//! as streams of records with bounded memory, whatever the file size.
//!
//! Pure like the rest of `sepa`: bytes in (any `BufRead`, or a zip archive), records out; no
//! database, no paths, no clock. The ingest job matches the records to our collections;
//! `inspect` turns them into [`inspect::InspectReport`]s. Untrusted input is handled by one
//! hardened XML layer (no DTD, no entity expansion, depth and size limits; see [`Limits`]).
//!
//! ```no_run
//! # fn demo(file: std::fs::File) -> Result<(), collecte::sepa::reports::ReportError> {
//! use collecte::sepa::reports::{self, Limits, Report, camt::CamtItem};
//! match reports::open(std::io::BufReader::new(file), Limits::default())? {
//!     Report::Camt(mut camt) => {
//!         while let Some(item) = camt.next_item()? {
//!             if let CamtItem::Transaction { entry, transaction } = item {
//!                 let _ = reports::classify::classify(entry, Some(&transaction));
//!             }
//!         }
//!     }
//!     Report::Pain002(mut pain) => while let Some(_item) = pain.next_item()? {},
//! }
//! # Ok(()) }
//! ```

pub mod archive;
pub mod camt;
pub mod classify;
pub mod detect;
pub mod error;
pub mod facts;
pub mod inspect;
pub mod pain002;
pub mod reason;
pub mod value;
mod xml;

use std::io::BufRead;

pub use camt::CamtReader;
pub use classify::{CamtClass, RKind};
pub use detect::{MessageType, ReportKind};
pub use error::{ReportError, Warning};
pub use pain002::Pain002Reader;
pub use value::{Amount, CreditDebit};

use xml::{Step, XmlCursor};

/// The limits that keep a hostile or broken file from exhausting memory or time.
///
/// Real bank files stay far below the defaults: ISO 20022 messages nest about 12 levels and
/// their longest texts are a few hundred characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Deepest element nesting accepted (default 64).
    pub max_depth: usize,
    /// Longest text value, and longest single node (tag, comment...), in bytes (default 64 KiB).
    pub max_text_bytes: usize,
    /// Most members a zip archive may hold (default 1,000).
    pub max_archive_members: usize,
    /// Largest decompressed size of one zip member, in bytes (default 4 GiB): a zip bomb
    /// stops here instead of running for hours.
    pub max_member_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 64,
            max_text_bytes: 64 * 1024,
            max_archive_members: 1_000,
            max_member_bytes: 4 << 30,
        }
    }
}

/// An opened report, ready to stream: the message decides which reader (boxed: readers
/// carry their parsing state and are moved around once per file).
pub enum Report<R> {
    /// A pain.002 status report.
    Pain002(Box<Pain002Reader<R>>),
    /// A camt.052, camt.053 or camt.054.
    Camt(Box<CamtReader<R>>),
}

impl<R: BufRead> Report<R> {
    /// The message the file holds (from its namespace).
    pub fn message(&self) -> &MessageType {
        match self {
            Self::Pain002(reader) => reader.message(),
            Self::Camt(reader) => reader.message(),
        }
    }
}

/// Opens a report: reads up to the message element, detects the message from the root's
/// namespace and checks the message element, then hands over the matching streaming reader.
///
/// Errors when the input is not XML, holds a DOCTYPE, is in an unreadable encoding, is an
/// ISO 20022 message that is not a report ([`ReportError::NotAReport`], e.g. a pain.008) or
/// is unknown altogether.
pub fn open<R: BufRead>(input: R, limits: Limits) -> Result<Report<R>, ReportError> {
    let mut cursor = XmlCursor::new(input, limits)?;
    cursor.next()?; // the first step is always the root opening (or an error)
    let root = String::from_utf8_lossy(cursor.path()).into_owned();
    let message = detect::detect(&root, cursor.root_namespace())?;
    if root != "Document" {
        return Err(ReportError::UnexpectedStructure {
            message: message.name,
            expected: "<Document> as the root element".into(),
            found: root,
            offset: cursor.offset(),
        });
    }
    let expected = message.kind.message_element();
    let step = cursor.next()?;
    let found = cursor.path().strip_prefix(b"Document/").unwrap_or_default();
    if step != Step::Open || found != expected.as_bytes() {
        return Err(ReportError::UnexpectedStructure {
            expected: format!("<{expected}> under <Document>"),
            found: if step == Step::Open {
                String::from_utf8_lossy(found).into_owned()
            } else {
                "/Document".into()
            },
            message: message.name,
            offset: cursor.offset(),
        });
    }
    cursor.set_body_here();
    Ok(match message.kind {
        ReportKind::Pain002 => Report::Pain002(Box::new(Pain002Reader::new(cursor, message))),
        ReportKind::Camt052 | ReportKind::Camt053 | ReportKind::Camt054 => {
            Report::Camt(Box::new(CamtReader::new(cursor, message)))
        }
    })
}

/// Splits `a/b/c` into (`a`, `b/c`); a path without `/` into (path, ``).
pub(crate) fn split_first(path: &[u8]) -> (&[u8], &[u8]) {
    match path.iter().position(|&b| b == b'/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => (path, b""),
    }
}
