//! The one error every SEPA value parser returns.

use std::fmt;

/// A value that could not become a SEPA type: which kind, the input as given, and why.
///
/// One shape for every parser so that callers (CSV import, config, XML readers) can put
/// "what, which input, why" in front of a person without matching on a dozen error enums.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ParseError {
    /// What was being parsed, e.g. "IBAN".
    pub kind: &'static str,
    /// The input exactly as given (cut to 80 characters).
    pub input: String,
    /// Why it was refused, in words a person understands.
    pub reason: String,
}

impl ParseError {
    pub(crate) fn new(kind: &'static str, input: &str, reason: impl Into<String>) -> Self {
        let input = if input.chars().count() > 80 {
            let mut cut: String = input.chars().take(77).collect();
            cut.push_str("...");
            cut
        } else {
            input.to_owned()
        };
        Self {
            kind,
            input,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {} {:?}: {}", self.kind, self.input, self.reason)
    }
}
