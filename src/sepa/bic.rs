//! Business Identifier Codes (ISO 9362).

use super::ParseError;

/// A BIC of 8 or 11 characters with a real country code.
///
/// Checking is the `sepa` crate's (it also refuses the `NOTPROVIDED` placeholder, which
/// collecte writes itself when a bank profile omits the BIC, so a stored BIC is always real).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Bic(String);

impl Bic {
    /// Parses a BIC; case and inner whitespace are forgiven.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        sepa::bic::validate_bic(input)
            .map(|b| Self(b.as_str().to_owned()))
            .map_err(|e| ParseError::new("BIC", input, e.to_string()))
    }

    /// The canonical upper-case form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

text_newtype_traits!(Bic);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_8_and_11_characters() {
        assert_eq!(Bic::parse("COBADEFF").unwrap().as_str(), "COBADEFF");
        assert_eq!(Bic::parse("cobadeff xxx").unwrap().as_str(), "COBADEFFXXX");
    }

    #[test]
    fn refuses_bad_lengths_countries_and_placeholder() {
        for bad in ["COBADEF", "COBADEFFXX", "COBAZZFF", "NOTPROVIDED", "", "CO!ADEFF"] {
            let e = Bic::parse(bad).unwrap_err();
            assert_eq!(e.kind, "BIC");
            assert_eq!(e.input, bad);
        }
    }
}
