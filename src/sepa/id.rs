//! Scheme identifiers: mandate id (UMR), end-to-end id, message id, payment information id.
//!
//! They share one rule (EPC implementation guidelines): 1–35 characters of the SEPA Latin
//! set, no leading or trailing `/`, no `//`. Each is its own type so that an end-to-end id can
//! never be passed where a mandate id is expected.

use super::ParseError;
use super::text::is_sepa_char;

/// Checks the shared identifier rule; returns the trimmed identifier.
fn check<'a>(kind: &'static str, input: &'a str) -> Result<&'a str, ParseError> {
    let id = input.trim();
    let len = id.chars().count();
    if len == 0 {
        return Err(ParseError::new(kind, input, "is empty"));
    }
    if len > 35 {
        return Err(ParseError::new(
            kind,
            input,
            format!("is {len} characters long, at most 35 are allowed"),
        ));
    }
    if let Some(c) = id.chars().find(|c| !is_sepa_char(*c)) {
        return Err(ParseError::new(
            kind,
            input,
            format!("character {c:?} is not in the SEPA character set"),
        ));
    }
    if id.starts_with('/') || id.ends_with('/') {
        return Err(ParseError::new(kind, input, "must not start or end with '/'"));
    }
    if id.contains("//") {
        return Err(ParseError::new(kind, input, "must not contain '//'"));
    }
    Ok(id)
}

macro_rules! scheme_identifier {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Parses an identifier under the EPC rule (surrounding whitespace is trimmed).
            pub fn parse(input: &str) -> Result<Self, ParseError> {
                check($kind, input).map(|id| Self(id.to_owned()))
            }

            /// The identifier as written to XML and stored.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        super::text_newtype_traits!($name);
    };
}

scheme_identifier!(
    /// Unique mandate reference (UMR): with the creditor id it names one signed mandate.
    MandateId,
    "mandate id"
);
scheme_identifier!(
    /// End-to-end id of one collection attempt: the bank echoes it in every return, which is
    /// how R-transactions find their collection.
    EndToEndId,
    "end-to-end id"
);
scheme_identifier!(
    /// MsgId of one pain.008 message; banks refuse a message id they have seen before.
    MessageId,
    "message id"
);
scheme_identifier!(
    /// PmtInfId of one payment-information group; batch bookings on statements refer to it.
    PaymentInfoId,
    "payment information id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_sepa_identifiers() {
        assert_eq!(
            MandateId::parse(" MANDATE-2026/001 ").unwrap().as_str(),
            "MANDATE-2026/001"
        );
        assert!(EndToEndId::parse("E2E.1:2?(3)+4,'5'").is_ok());
        assert!(MandateId::parse(&"A".repeat(35)).is_ok());
        assert!(MessageId::parse("a/b/c").is_ok());
    }

    #[test]
    fn refuses_what_the_epc_refuses() {
        for (bad, why) in [
            ("", "empty"),
            ("/ABC", "start or end"),
            ("ABC/", "start or end"),
            ("A//B", "'//'"),
            ("MÜLLER-1", "SEPA character set"),
            ("A&B", "SEPA character set"),
            ("A_B", "SEPA character set"),
        ] {
            let e = MandateId::parse(bad).unwrap_err();
            assert!(e.reason.contains(why), "{bad}: {e}");
        }
        let e = EndToEndId::parse(&"A".repeat(36)).unwrap_err();
        assert!(e.reason.contains("36 characters"), "{e}");
        assert_eq!(e.kind, "end-to-end id");
    }
}
