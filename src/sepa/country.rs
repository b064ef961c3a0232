//! ISO 3166-1 alpha-2 country codes.

use super::ParseError;

/// A real ISO 3166-1 alpha-2 country code, upper case (`Ctry` in postal addresses).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    /// Parses a two-letter code; case and surrounding whitespace are forgiven.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let code = input.trim().to_ascii_uppercase();
        match code.as_bytes() {
            [a, b] if sepa::country::is_country_code(&code) => Ok(Self([*a, *b])),
            _ => Err(ParseError::new(
                "country code",
                input,
                "is not an ISO 3166-1 alpha-2 country",
            )),
        }
    }

    /// The two upper-case letters.
    pub fn as_str(&self) -> &str {
        // Only ASCII letters ever get in through `parse`.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

text_newtype_traits!(CountryCode);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_real_codes_only() {
        assert_eq!(CountryCode::parse(" fr ").unwrap().as_str(), "FR");
        for bad in ["ZZ", "F", "FRA", "", "1A"] {
            assert!(CountryCode::parse(bad).is_err(), "{bad}");
        }
    }
}
