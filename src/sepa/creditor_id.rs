//! SEPA creditor identifiers (ICS / Gläubiger-ID).

use super::ParseError;

/// A creditor identifier whose check digits are right.
///
/// ISO 7064 MOD 97-10 over the national id + country + "00", skipping the three-character
/// business code (EPC262-08): `DE98ZZZ09999999999` is valid, and any altered digit is not.
/// The arithmetic is the `sepa` crate's.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CreditorId(String);

impl CreditorId {
    /// Parses an identifier; case and inner whitespace are forgiven.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        sepa::creditor_id::validate_creditor_id(input)
            .map(|c| Self(c.as_str().to_owned()))
            .map_err(|e| ParseError::new("creditor identifier", input, e.to_string()))
    }

    /// The canonical upper-case form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

text_newtype_traits!(CreditorId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_identifier_is_valid_and_business_code_is_skipped() {
        assert_eq!(
            CreditorId::parse("DE98ZZZ09999999999").unwrap().as_str(),
            "DE98ZZZ09999999999"
        );
        // The business code takes no part in the check digits.
        assert!(CreditorId::parse("DE98ABC09999999999").is_ok());
        assert!(CreditorId::parse("de98 zzz 09999999999").is_ok());
        assert!(CreditorId::parse("FR72ZZZ123456").is_ok());
    }

    #[test]
    fn any_altered_digit_is_invalid() {
        let valid = "DE98ZZZ09999999999";
        for (i, c) in valid.char_indices() {
            if !c.is_ascii_digit() {
                continue;
            }
            for d in '0'..='9' {
                if d == c {
                    continue;
                }
                let mut altered = valid.to_owned();
                altered.replace_range(i..i + 1, &d.to_string());
                assert!(CreditorId::parse(&altered).is_err(), "{altered} accepted");
            }
        }
    }
}
