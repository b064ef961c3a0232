//! International Bank Account Numbers.
//!
//! Checking is delegated to `iban_validate`, whose per-country BBAN formats are generated from
//! the SWIFT IBAN registry; this wrapper adds SEPA-scope questions and the serde/display forms
//! collecte needs.

use std::fmt;

use iban::IbanLike;

use super::ParseError;

/// An IBAN that passed ISO 13616 mod-97 and its country's registered length and BBAN format.
///
/// Stored and written to XML in electronic form (`DE89370400440532013000`), shown to people
/// in groups of four (`DE89 3704 0044 0532 0130 00`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Iban(iban::Iban);

/// Countries of the SEPA scheme outside the EEA: their debtors need a postal address in
/// every collection (EPC rulebook), so the collect job must know them.
/// (EPC409-09 v8.0, Dec 2025; JE, GG and IM bank under GB IBANs.)
const SEPA_NON_EEA: [&str; 12] = ["AD", "AL", "CH", "GB", "GI", "MC", "MD", "ME", "MK", "RS", "SM", "VA"];

impl Iban {
    /// Parses electronic or grouped form; case and inner whitespace are forgiven.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let compact: String = input
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if compact.is_empty() {
            return Err(ParseError::new("IBAN", input, "is empty"));
        }
        compact.parse::<iban::Iban>().map(Self).map_err(|e| {
            let reason = match e {
                iban::ParseIbanError::InvalidBaseIban { source } => match source {
                    iban::ParseBaseIbanError::InvalidChecksum => "check digits do not match (mod-97)".to_owned(),
                    _ => "not of the form CCdd followed by up to 30 letters or digits".to_owned(),
                },
                iban::ParseIbanError::InvalidBban(_) => format!(
                    "wrong length or characters for a {} account number",
                    &compact[..2.min(compact.len())]
                ),
                iban::ParseIbanError::UnknownCountry(_) => format!(
                    "country {} has no IBAN in the registry",
                    &compact[..2.min(compact.len())]
                ),
            };
            ParseError::new("IBAN", input, reason)
        })
    }

    /// The electronic form, as written to pain.008 and stored in the database.
    pub fn as_str(&self) -> &str {
        self.0.electronic_str()
    }

    /// The ISO 3166 country of the account's bank.
    pub fn country(&self) -> &str {
        self.0.country_code()
    }

    /// The bank's identifier within the country, where the registry defines one: an IBAN
    /// change to another bank is announced differently (SMNDA) from one within the same bank.
    pub fn bank_identifier(&self) -> Option<&str> {
        self.0.bank_identifier()
    }

    /// Whether the account's country takes part in the SEPA schemes at all.
    pub fn is_sepa(&self) -> bool {
        sepa::iban::is_sepa_country(self.country())
    }

    /// SEPA but outside the EEA: the debtor's postal address becomes mandatory.
    pub fn requires_debtor_address(&self) -> bool {
        SEPA_NON_EEA.contains(&self.country())
    }
}

impl fmt::Display for Iban {
    /// Grouped print form, for people.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

text_newtype_traits!(Iban, without Display);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_electronic_and_grouped_forms() {
        let a = Iban::parse("DE89370400440532013000").unwrap();
        let b = Iban::parse("de89 3704 0044 0532 0130 00").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "DE89370400440532013000");
        assert_eq!(a.to_string(), "DE89 3704 0044 0532 0130 00");
        assert_eq!(a.country(), "DE");
        assert!(a.is_sepa());
        assert!(!a.requires_debtor_address());
    }

    #[test]
    fn refuses_bad_check_digits_length_and_country() {
        let e = Iban::parse("DE88370400440532013000").unwrap_err();
        assert!(e.reason.contains("check digits"), "{e}");
        let e = Iban::parse("DE8937040044053201300").unwrap_err();
        assert!(e.to_string().contains("DE89370400440532013"), "{e}");
        assert!(Iban::parse("XX89370400440532013000").is_err());
        assert!(Iban::parse("").is_err());
        assert!(Iban::parse("FR76 3000 6000 0112 3456 7890 18!").is_err());
    }

    #[test]
    fn knows_non_eea_sepa_countries() {
        let ch = Iban::parse("CH9300762011623852957").unwrap();
        assert!(ch.is_sepa());
        assert!(ch.requires_debtor_address());
        let gb = Iban::parse("GB29NWBK60161331926819").unwrap();
        assert!(gb.requires_debtor_address());
    }
}
