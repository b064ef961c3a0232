//! Why a bank file could not be read.

use std::fmt;
use std::io;

/// A bank file that cannot be read as a report: what went wrong and where (byte offset,
/// element path, archive member), in words that can go into a quarantine `.reason.txt`.
///
/// Anything that merely looks odd inside an otherwise readable file is a [`Warning`], not
/// an error: one bad amount must not send a whole statement to quarantine.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The input could not be read.
    #[error("read error at byte {offset}: {source}")]
    Io {
        /// Byte offset reached when reading failed.
        offset: u64,
        /// The underlying error.
        source: io::Error,
    },
    /// The input is not well-formed XML.
    #[error("malformed XML at byte {offset}: {message}")]
    Syntax {
        /// Byte offset of the offending markup.
        offset: u64,
        /// What the XML parser objected to.
        message: String,
    },
    /// The input ends before its root element is closed (or has no root element at all).
    #[error("the file ends at byte {offset} before the document is complete ({})", open_element(.path))]
    Truncated {
        /// Where the input ended.
        offset: u64,
        /// The element still open, empty when no element was seen.
        path: String,
    },
    /// The input holds a DOCTYPE, which could declare entities (billion laughs, XXE).
    #[error(
        "DOCTYPE declaration at byte {offset}: bank reports never need one and it could expand entities, so the file is refused"
    )]
    Doctype {
        /// Byte offset of the `<!DOCTYPE`.
        offset: u64,
    },
    /// An entity reference other than the five predefined ones.
    #[error(
        "entity reference &{name}; at byte {offset} in {path}: only &lt; &gt; &amp; &apos; &quot; and character references are allowed"
    )]
    UnknownEntity {
        /// The entity name.
        name: String,
        /// Byte offset just after the reference.
        offset: u64,
        /// Element holding it.
        path: String,
    },
    /// Elements nested deeper than [`Limits::max_depth`](super::Limits::max_depth).
    #[error("element nesting deeper than the limit of {limit} at byte {offset} (inside {path})")]
    TooDeep {
        /// Byte offset of the element that went over.
        offset: u64,
        /// Path of its parent.
        path: String,
        /// The limit in force.
        limit: usize,
    },
    /// One text value longer than [`Limits::max_text_bytes`](super::Limits::max_text_bytes).
    #[error("text of {path} at byte {offset} is longer than the limit of {limit} bytes")]
    TextTooLong {
        /// Byte offset where the limit was crossed.
        offset: u64,
        /// The element holding the text.
        path: String,
        /// The limit in force.
        limit: usize,
    },
    /// One node (tag, text run, comment, CDATA section) longer than the limit.
    #[error(
        "an XML node (tag, text, comment or CDATA) starting at byte {offset} inside {path:?} is longer than the limit of {limit} bytes"
    )]
    NodeTooLong {
        /// Byte offset where the node starts.
        offset: u64,
        /// The element holding it.
        path: String,
        /// The limit in force.
        limit: usize,
    },
    /// An encoding quick-xml cannot read, or bytes invalid in the declared encoding.
    #[error("encoding {encoding} at byte {offset}: {reason}")]
    Encoding {
        /// Where the problem was seen.
        offset: u64,
        /// The encoding name or label.
        encoding: String,
        /// Why it cannot be read.
        reason: String,
    },
    /// The root element does not carry the namespace of a message this reader knows.
    #[error(
        "unknown message: root element <{root}> with namespace {namespace:?} is not a pain.002, camt.052/053/054 or pain.008 message"
    )]
    UnknownMessage {
        /// Local name of the root element.
        root: String,
        /// Its namespace, if it has one.
        namespace: Option<String>,
    },
    /// A well-known ISO 20022 message that is not a bank report (e.g. our own pain.008).
    #[error("{message} is not a bank report (pain.002, camt.052, camt.053 or camt.054)")]
    NotAReport {
        /// The message name taken from the namespace, e.g. `pain.008.001.02`.
        message: String,
    },
    /// The namespace names a report, but the elements do not have its structure.
    #[error("{message}: expected {expected} at byte {offset}, found <{found}>")]
    UnexpectedStructure {
        /// The message name from the namespace.
        message: String,
        /// What the message version requires there.
        expected: String,
        /// What the file holds.
        found: String,
        /// Byte offset of the element found.
        offset: u64,
    },
    /// The zip archive itself cannot be read, or breaks a limit.
    #[error("zip archive: {message}")]
    Archive {
        /// What is wrong with it.
        message: String,
    },
    /// One member of a zip archive could not be read.
    #[error("zip member {member:?}: {source}")]
    Member {
        /// The member's name inside the archive.
        member: String,
        /// Why it could not be read.
        source: Box<ReportError>,
    },
}

/// Says which element was still open when the input ended.
fn open_element(path: &str) -> String {
    if path.is_empty() {
        "no root element was read".into()
    } else {
        format!("{path} is still open")
    }
}

/// Something a reader could not use in a file it otherwise read: an unparsable amount or
/// date, an over-long remittance text. Kept with the record it belongs to, so that a file
/// that breaks the XSD in a harmless way is still ingested and a person can see what was odd.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Warning {
    /// Byte offset just after the element concerned.
    pub offset: u64,
    /// Path of the element concerned.
    pub path: String,
    /// What was wrong with it.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "byte {}, {}: {}", self.offset, self.path, self.message)
    }
}
