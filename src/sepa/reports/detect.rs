//! Which message a file holds, from its namespace — never from its file name, which banks
//! and EBICS clients choose freely.

use std::fmt;

use serde::Serialize;

use super::ReportError;

/// The report families this module reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum ReportKind {
    /// pain.002 customer payment status report: rejects before settlement.
    Pain002,
    /// camt.052 intraday account report (same entry structure as camt.053).
    Camt052,
    /// camt.053 end-of-day statement.
    Camt053,
    /// camt.054 debit/credit notification.
    Camt054,
}

impl ReportKind {
    /// The message element the ISO schema puts under `Document` for this family.
    pub fn message_element(self) -> &'static str {
        match self {
            Self::Pain002 => "CstmrPmtStsRpt",
            Self::Camt052 => "BkToCstmrAcctRpt",
            Self::Camt053 => "BkToCstmrStmt",
            Self::Camt054 => "BkToCstmrDbtCdtNtfctn",
        }
    }
}

/// The message a report file holds: its family and its full name as the namespace gives it
/// (`camt.054.001.02`, `pain.002.001.03.ch.02`), which `inspect` prints as is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct MessageType {
    /// The family, which decides the parser.
    pub kind: ReportKind,
    /// The message name taken from the namespace.
    pub name: String,
}

impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// Takes the ISO message name out of a namespace URI: the last `:`- or `/`-separated part,
/// without `.xsd`, when it looks like `xxxx.nnn.nnn.nn[.variant...]`.
///
/// Covers `urn:iso:std:iso:20022:tech:xsd:camt.054.001.02` and the Swiss
/// `http://www.six-interbank-clearing.com/de/pain.002.001.03.ch.02.xsd`.
pub fn message_name(namespace: &str) -> Option<&str> {
    let tail = namespace.trim().rsplit([':', '/']).next()?;
    let tail = tail.strip_suffix(".xsd").unwrap_or(tail);
    let mut parts = tail.split('.');
    let area = parts.next()?;
    let numbers_ok = (0..3).all(|_| {
        parts
            .next()
            .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    });
    let area_ok = area.len() == 4 && area.bytes().all(|b| b.is_ascii_lowercase());
    (area_ok && numbers_ok).then_some(tail)
}

/// Decides what the root element announces.
///
/// A pain.002 or camt.052/053/054 of any version or national variant is a report (the parser
/// then checks the structure); any other ISO 20022 name (our own pain.008, a pain.001, a
/// camt.056...) is [`ReportError::NotAReport`]; anything else is
/// [`ReportError::UnknownMessage`].
pub fn detect(root_local_name: &str, namespace: Option<&str>) -> Result<MessageType, ReportError> {
    let unknown = || ReportError::UnknownMessage {
        root: root_local_name.to_owned(),
        namespace: namespace.map(str::to_owned),
    };
    let name = namespace.and_then(message_name).ok_or_else(unknown)?;
    let kind = match name.get(..8) {
        Some("pain.002") => ReportKind::Pain002,
        Some("camt.052") => ReportKind::Camt052,
        Some("camt.053") => ReportKind::Camt053,
        Some("camt.054") => ReportKind::Camt054,
        _ => {
            return Err(ReportError::NotAReport {
                message: name.to_owned(),
            });
        }
    };
    Ok(MessageType {
        kind,
        name: name.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_iso_and_swiss_namespaces() {
        assert_eq!(
            message_name("urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"),
            Some("camt.054.001.02")
        );
        assert_eq!(
            message_name("http://www.six-interbank-clearing.com/de/pain.002.001.03.ch.02.xsd"),
            Some("pain.002.001.03.ch.02")
        );
        assert_eq!(message_name("http://www.w3.org/2001/XMLSchema-instance"), None);
        assert_eq!(message_name("urn:iso:std:iso:20022:tech:xsd:camt.054"), None);
        assert_eq!(message_name(""), None);
    }

    #[test]
    fn initiations_are_not_reports() {
        let err = detect("Document", Some("urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"));
        assert!(matches!(err, Err(ReportError::NotAReport { ref message }) if message == "pain.008.001.02"));
        assert!(matches!(
            detect("Document", None),
            Err(ReportError::UnknownMessage { .. })
        ));
        let camt = detect("Document", Some("urn:iso:std:iso:20022:tech:xsd:camt.053.001.13"));
        assert_eq!(camt.map(|m| m.kind).ok(), Some(ReportKind::Camt053));
    }
}
