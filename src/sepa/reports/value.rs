//! The small values bank reports carry: amounts with their currency, dates, debit/credit.
//!
//! Parsed here once, exactly (integer hundredths, never floats), and leniently: a value that
//! cannot be read becomes a [`Warning`] and `None`, never an error for the whole file.

use std::fmt;

use chrono::NaiveDate;
use serde::Serialize;

use super::error::Warning;
use crate::sepa::money::format_cents;

/// An amount as a bank report states it: hundredths of the currency unit, and the `Ccy`
/// attribute as written (reports may be in CHF, SEK, ... even on a EUR-only creditor).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Amount {
    /// The amount in hundredths of the currency unit (cents for EUR).
    pub cents: i64,
    /// ISO 4217 code from the `Ccy` attribute, as written.
    pub currency: String,
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", format_cents(self.cents), self.currency)
    }
}

/// Which side of the account an entry or transaction is booked on (`CdtDbtInd`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum CreditDebit {
    /// `CRDT`: money came in (a settled collection, for a creditor).
    Credit,
    /// `DBIT`: money went out (a returned or refunded collection, for a creditor).
    Debit,
}

/// Reads an XML `decimal` amount into exact hundredths.
///
/// Accepts what the ISO amount types allow (`12`, `12.3`, `12.30000`, `.5`); refuses signs
/// other than `+`, more than two significant decimals and overflow, saying which.
pub fn parse_decimal_cents(input: &str) -> Result<i64, String> {
    let s = input.trim();
    let s = s.strip_prefix('+').unwrap_or(s);
    if s.starts_with('-') {
        return Err(format!("{input:?} is negative"));
    }
    let (int_part, frac_part) = s.split_once('.').unwrap_or((s, ""));
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if (int_part.is_empty() && frac_part.is_empty()) || !all_digits(int_part) || !all_digits(frac_part) {
        return Err(format!("{input:?} is not a decimal amount"));
    }
    let (kept, dropped) = frac_part.split_at(frac_part.len().min(2));
    if dropped.bytes().any(|b| b != b'0') {
        return Err(format!("{input:?} has more than two decimals"));
    }
    let overflow = || format!("{input:?} is too large");
    let mut cents: i64 = 0;
    for b in int_part
        .bytes()
        .chain(kept.bytes())
        .chain("00".bytes().take(2 - kept.len()))
    {
        cents = cents
            .checked_mul(10)
            .and_then(|c| c.checked_add(i64::from(b - b'0')))
            .ok_or_else(overflow)?;
    }
    Ok(cents)
}

/// Reads the date part of an ISO date or date-time (`2014-01-05`, `2014-01-05+01:00`,
/// `2014-01-05T16:20:26.673Z`): the day the bank states, in the bank's own time zone.
pub fn parse_iso_date(input: &str) -> Result<NaiveDate, String> {
    let s = input.trim();
    let tail_ok = matches!(s.as_bytes().get(10), None | Some(b'T' | b'Z' | b'+' | b'-'));
    // The usual `YYYY-MM-DD` without chrono's format machinery (the same result: chrono
    // reads these digits the same way), which is most of the time of a date otherwise.
    if let Some(&[y1, y2, y3, y4, b'-', m1, m2, b'-', d1, d2]) = s.as_bytes().get(..10)
        && tail_ok
        && [y1, y2, y3, y4, m1, m2, d1, d2].iter().all(u8::is_ascii_digit)
    {
        let n = |digits: &[u8]| digits.iter().fold(0u32, |acc, &d| acc * 10 + u32::from(d - b'0'));
        let year = i32::try_from(n(&[y1, y2, y3, y4])).unwrap_or(i32::MAX);
        return NaiveDate::from_ymd_opt(year, n(&[m1, m2]), n(&[d1, d2]))
            .ok_or_else(|| format!("{input:?} is not an ISO date"));
    }
    s.get(..10)
        .filter(|_| tail_ok)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .ok_or_else(|| format!("{input:?} is not an ISO date"))
}

/// Reads `CRDT` / `DBIT`.
pub fn parse_credit_debit(input: &str) -> Result<CreditDebit, String> {
    match input {
        "CRDT" => Ok(CreditDebit::Credit),
        "DBIT" => Ok(CreditDebit::Debit),
        _ => Err(format!("{input:?} is neither CRDT nor DBIT")),
    }
}

/// Reads an XML boolean (`true`, `false`, `1`, `0`).
pub fn parse_bool(input: &str) -> Result<bool, String> {
    match input {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(format!("{input:?} is not a boolean")),
    }
}

/// Reads a count such as `NbOfTxs`.
pub fn parse_count(input: &str) -> Result<u64, String> {
    input.parse().map_err(|_| format!("{input:?} is not a whole number"))
}

/// Collects the warnings of one record, with the place they come from.
#[derive(Debug, Default)]
pub(crate) struct Warnings(pub(crate) Vec<Warning>);

impl Warnings {
    /// Maximum warnings kept per record: one record must not grow without bound.
    const MAX: usize = 32;

    pub(crate) fn push(&mut self, offset: u64, path: &[u8], message: impl Into<String>) {
        if self.0.len() < Self::MAX {
            self.0.push(Warning {
                offset,
                path: String::from_utf8_lossy(path).into_owned(),
                message: message.into(),
            });
        }
    }

    /// Parses `text` with `parse`, turning a failure into a warning and `None`.
    pub(crate) fn parse<T>(
        &mut self,
        offset: u64,
        path: &[u8],
        text: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        match parse(text) {
            Ok(v) => Some(v),
            Err(message) => {
                self.push(offset, path, message);
                None
            }
        }
    }

    /// Reads an amount element: its text and its `Ccy` attribute.
    pub(crate) fn amount(&mut self, offset: u64, path: &[u8], text: &str, currency: Option<&str>) -> Option<Amount> {
        let cents = self.parse(offset, path, text, parse_decimal_cents)?;
        match currency.map(str::trim).filter(|c| !c.is_empty()) {
            Some(c) => Some(Amount {
                cents,
                currency: c.to_owned(),
            }),
            None => {
                self.push(offset, path, format!("amount {text:?} has no Ccy attribute"));
                None
            }
        }
    }

    pub(crate) fn take(&mut self) -> Vec<Warning> {
        std::mem::take(&mut self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_become_exact_cents() {
        assert_eq!(parse_decimal_cents("100"), Ok(10_000));
        assert_eq!(parse_decimal_cents("905.3"), Ok(90_530));
        assert_eq!(parse_decimal_cents("8.850"), Ok(885));
        assert_eq!(parse_decimal_cents(" 0.01 "), Ok(1));
        assert_eq!(parse_decimal_cents(".5"), Ok(50));
        assert_eq!(parse_decimal_cents("+3."), Ok(300));
        assert_eq!(parse_decimal_cents("999999999.99"), Ok(99_999_999_999));
    }

    #[test]
    fn unreadable_decimals_say_why() {
        for bad in ["", ".", "-1", "1,50", "1.005", "1e3", "12a", "99999999999999999999"] {
            assert!(parse_decimal_cents(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn dates_take_the_stated_day() {
        let d = NaiveDate::from_ymd_opt(2014, 1, 5);
        assert_eq!(parse_iso_date("2014-01-05").ok(), d);
        assert_eq!(parse_iso_date("2014-01-05T23:59:59.999Z").ok(), d);
        assert_eq!(parse_iso_date("2014-01-05+01:00").ok(), d);
        assert!(parse_iso_date("2014-13-05").is_err());
        assert!(parse_iso_date("2014-01-051").is_err());
        assert!(parse_iso_date("05.01.2014").is_err());
        assert!(parse_iso_date("2014-01-é").is_err());
        assert!(parse_iso_date("2014-02-30").is_err());
        assert!(parse_iso_date("2014-00-05").is_err());
    }

    /// The fast path for `YYYY-MM-DD` gives what chrono's `%Y-%m-%d` gives.
    #[test]
    fn fast_dates_agree_with_chrono() {
        let chrono = |s: &str| NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d").ok();
        for year in ["0000", "0001", "1999", "2024", "9999"] {
            for month in ["00", "01", "02", "09", "10", "12", "13", "99"] {
                for day in ["00", "01", "09", "28", "29", "30", "31", "32", "99"] {
                    let date = format!("{year}-{month}-{day}");
                    assert_eq!(parse_iso_date(&date).ok(), chrono(&date), "{date}");
                    let stamp = format!("{date}T10:00:00Z");
                    assert_eq!(parse_iso_date(&stamp).ok(), chrono(&stamp), "{stamp}");
                }
            }
        }
    }
}
