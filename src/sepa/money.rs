//! Amounts of money: euro cents in an `i64`, never a float.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::ParseError;

/// Largest amount one SEPA transaction may carry: 999,999,999.99 EUR.
pub const MAX_CENTS: i64 = 99_999_999_999;

/// An amount one SEPA transaction may carry: 0.01 to 999,999,999.99 EUR, as integer cents.
///
/// Parsed from what people and spreadsheets write (`12.30`, `12,30`, `1 234,56`,
/// `1.234,56`, `1,234.56`); printed the way XML wants it (`1234.56`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(i64);

impl Money {
    /// Accepts a cent count within the SEPA range.
    pub fn from_cents(cents: i64) -> Result<Self, ParseError> {
        if (1..=MAX_CENTS).contains(&cents) {
            Ok(Self(cents))
        } else {
            Err(ParseError::new(
                "amount",
                &format_cents(cents),
                "must be between 0.01 and 999999999.99 EUR",
            ))
        }
    }

    /// Parses a decimal amount written with `.` or `,` decimals and optional thousands
    /// separators (space, no-break space, `'`, or the other of `.`/`,` in groups of three).
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let cents = parse_cents(input).map_err(|reason| ParseError::new("amount", input, reason))?;
        Self::from_cents(cents).map_err(|e| ParseError {
            input: input.trim().to_owned(),
            ..e
        })
    }

    /// The amount in cents.
    pub fn cents(self) -> i64 {
        self.0
    }
}

/// Writes cents as a plain decimal with two places (`-12.05`, `0.00`, `1234.56`).
///
/// Used for sums (control sums, balances) that are not single transaction amounts.
pub fn format_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

fn parse_cents(input: &str) -> Result<i64, String> {
    let s = input.trim();
    if s.is_empty() {
        return Err("is empty".into());
    }
    if s.starts_with('-') {
        return Err("must not be negative".into());
    }
    let s = s.strip_prefix('+').unwrap_or(s);
    // Spaces and apostrophes only ever group thousands.
    let s: String = s
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\''))
        .collect();
    if let Some(c) = s.chars().find(|c| !c.is_ascii_digit() && *c != '.' && *c != ',') {
        return Err(format!("unexpected character {c:?}"));
    }
    let (int_part, frac_part) = match s.rfind(['.', ',']) {
        None => (s.as_str(), ""),
        Some(pos) => {
            let sep = s.as_bytes()[pos];
            let frac = &s[pos + 1..];
            let other_seps = s[..pos].bytes().filter(|b| *b == b'.' || *b == b',').count();
            let same_sep_earlier = s[..pos].bytes().any(|b| b == sep);
            if (1..=2).contains(&frac.len()) {
                if same_sep_earlier {
                    return Err(format!("uses '{}' both for decimals and thousands", sep as char));
                }
                (&s[..pos], frac)
            } else if frac.len() == 3 && (same_sep_earlier || other_seps > 0) {
                // "1.234.567" or "1,234.567": the last separator groups thousands too.
                (s.as_str(), "")
            } else if frac.len() == 3 {
                return Err("is ambiguous: write 1234.00 or 1 234,00".into());
            } else {
                return Err("has more than two decimals".into());
            }
        }
    };
    let digits = check_grouping(int_part)?;
    if digits.is_empty() {
        return Err("has no digits before the decimal separator".into());
    }
    let mut cents: i64 = 0;
    for d in digits
        .bytes()
        .chain(frac_part.bytes())
        .chain(std::iter::repeat_n(b'0', 2 - frac_part.len()))
    {
        cents = cents
            .checked_mul(10)
            .and_then(|c| c.checked_add(i64::from(d - b'0')))
            .ok_or_else(|| "is too large".to_owned())?;
    }
    Ok(cents)
}

/// Removes thousands separators, insisting on groups of three after the first group.
fn check_grouping(int_part: &str) -> Result<String, String> {
    let groups: Vec<&str> = int_part.split(['.', ',']).collect();
    if groups.len() > 1 {
        let kinds = int_part
            .bytes()
            .filter(|b| *b == b'.' || *b == b',')
            .collect::<Vec<_>>();
        if kinds.windows(2).any(|w| w[0] != w[1]) {
            return Err("mixes '.' and ',' as thousands separators".into());
        }
        if groups[0].is_empty() || groups[0].len() > 3 || groups[1..].iter().any(|g| g.len() != 3) {
            return Err("has thousands separators in the wrong places".into());
        }
    }
    Ok(groups.concat())
}

impl fmt::Display for Money {
    /// The XML form: `1234.56`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_cents(self.0))
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Money({})", format_cents(self.0))
    }
}

impl FromStr for Money {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Money {
    /// A JSON string (`"12.34"`): JSON numbers are floats to most readers.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format_cents(self.0))
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cents(s: &str) -> i64 {
        Money::parse(s).unwrap_or_else(|e| panic!("{s}: {e}")).cents()
    }

    #[test]
    fn parses_what_people_write() {
        assert_eq!(cents("12.30"), 1230);
        assert_eq!(cents("12,30"), 1230);
        assert_eq!(cents("12,3"), 1230);
        assert_eq!(cents("12"), 1200);
        assert_eq!(cents("1 234,56"), 123_456);
        assert_eq!(cents("1\u{a0}234,56"), 123_456);
        assert_eq!(cents("1.234,56"), 123_456);
        assert_eq!(cents("1,234.56"), 123_456);
        assert_eq!(cents("1'234.56"), 123_456);
        assert_eq!(cents("1.234.567"), 123_456_700);
        assert_eq!(cents("0.01"), 1);
        assert_eq!(cents("999999999.99"), MAX_CENTS);
        assert_eq!(cents("999 999 999,99"), MAX_CENTS);
        assert_eq!(cents(" +5.00 "), 500);
    }

    #[test]
    fn refuses_what_is_not_an_amount() {
        for (bad, why) in [
            ("", "empty"),
            ("0", "between"),
            ("0.00", "between"),
            ("1000000000.00", "between"),
            ("-1.00", "negative"),
            ("1.234", "ambiguous"),
            ("1.2345", "two decimals"),
            ("12.", "two decimals"),
            ("12a", "character"),
            ("1e3", "character"),
            ("12.3.4", "both"),
            ("1,23,456.00", "wrong places"),
            ("1.234,567.00", "both"),
            ("1.234,567,000", "mixes"),
            (",50", "no digits"),
            ("99999999999999999999999", "too large"),
            ("NaN", "character"),
        ] {
            let e = Money::parse(bad).unwrap_err();
            assert!(e.reason.contains(why), "{bad:?}: {e}");
            assert_eq!(e.input, bad.trim());
        }
    }

    #[test]
    fn prints_the_xml_form() {
        assert_eq!(Money::from_cents(5).unwrap().to_string(), "0.05");
        assert_eq!(Money::from_cents(123_456).unwrap().to_string(), "1234.56");
        assert_eq!(format_cents(-1205), "-12.05");
        assert_eq!(
            serde_json::to_string(&Money::from_cents(1230).unwrap()).unwrap(),
            "\"12.30\""
        );
    }
}
