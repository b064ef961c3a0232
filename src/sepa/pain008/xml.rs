//! Byte-level XML output into a reused buffer: the writer's hot path.
//!
//! Numbers and dates are formatted without `fmt` and without allocating. Text is copied as is:
//! every value written comes from a SEPA type whose characters are letters, digits, space and
//! `/ - ? : ( ) . , ' +`, none of which XML escapes. Scanning for `<`, `>` and `&` anyway cost
//! a third of the writer's throughput when measured, so it is a debug assertion instead,
//! exercised by the property tests with hostile input.

use chrono::{Datelike, NaiveDate};

/// Appends XML pieces to a byte buffer.
pub(super) trait XmlOut {
    /// Markup written as is.
    fn raw(&mut self, markup: &[u8]);
    /// Character data from a SEPA type (never needs escaping).
    fn text(&mut self, text: &str);
    /// A decimal amount with two places, from non-negative cents (`1234.56`).
    fn cents(&mut self, cents: i64);
    /// A count.
    fn count(&mut self, n: u64);
    /// An ISO date (`2026-11-23`); the year must be 1..=9999.
    fn date(&mut self, date: NaiveDate);
    /// `\n`, `indent` spaces, `<tag>text</tag>`: for the rarely written parts.
    fn leaf(&mut self, indent: usize, tag: &str, text: &str);
    /// `\n`, `indent` spaces, then `markup`.
    fn line(&mut self, indent: usize, markup: &str);
}

const SPACES: &[u8; 32] = b"                                ";

impl XmlOut for Vec<u8> {
    #[inline]
    fn raw(&mut self, markup: &[u8]) {
        self.extend_from_slice(markup);
    }

    #[inline]
    fn text(&mut self, text: &str) {
        debug_assert!(
            !text.contains(['<', '>', '&']),
            "SEPA text needing XML escapes: {text:?}"
        );
        self.extend_from_slice(text.as_bytes());
    }

    #[inline]
    fn cents(&mut self, cents: i64) {
        let cents = cents.unsigned_abs();
        let mut units = itoa::Buffer::new();
        self.extend_from_slice(units.format(cents / 100).as_bytes());
        let frac = (cents % 100) as u8;
        self.extend_from_slice(&[b'.', b'0' + frac / 10, b'0' + frac % 10]);
    }

    #[inline]
    fn count(&mut self, n: u64) {
        let mut digits = itoa::Buffer::new();
        self.extend_from_slice(digits.format(n).as_bytes());
    }

    #[inline]
    fn date(&mut self, date: NaiveDate) {
        // Callers check the year range first; `rem_euclid` keeps this total anyway.
        let y = date.year().rem_euclid(10_000) as u32;
        let (m, d) = (date.month(), date.day());
        let digit = |v: u32| b'0' + (v % 10) as u8;
        self.extend_from_slice(&[
            digit(y / 1000),
            digit(y / 100),
            digit(y / 10),
            digit(y),
            b'-',
            digit(m / 10),
            digit(m),
            b'-',
            digit(d / 10),
            digit(d),
        ]);
    }

    fn leaf(&mut self, indent: usize, tag: &str, text: &str) {
        self.line(indent, "<");
        self.extend_from_slice(tag.as_bytes());
        self.push(b'>');
        self.text(text);
        self.extend_from_slice(b"</");
        self.extend_from_slice(tag.as_bytes());
        self.push(b'>');
    }

    fn line(&mut self, indent: usize, markup: &str) {
        self.push(b'\n');
        self.extend_from_slice(&SPACES[..indent.min(SPACES.len())]);
        self.extend_from_slice(markup.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_amounts_counts_and_dates() {
        let mut b = Vec::new();
        for c in [1, 10, 100, 123_456, 99_999_999_999] {
            b.cents(c);
            b.raw(b" ");
        }
        b.count(0);
        b.raw(b" ");
        b.date(NaiveDate::from_ymd_opt(987, 3, 4).unwrap());
        assert_eq!(
            String::from_utf8(b).unwrap(),
            "0.01 0.10 1.00 1234.56 999999999.99 0 0987-03-04"
        );
    }
}
