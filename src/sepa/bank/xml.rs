//! A small indenting XML emitter for the bank-side writers.
//!
//! Bank replies are small (one per collection file) and written for tests and the demo, so
//! the document is built in memory and handed to the caller's writer in one piece: an error
//! half-way leaves the output untouched instead of holding half a report. Text is always
//! escaped, since reason texts and names here do not all come from SEPA-checked types.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Offset};

use super::BankError;
use crate::sepa::Bic;

/// The element names and shapes that differ between the 2009 message generation
/// (pain.002.001.03, camt.054.001.02) and the 2019 one (pain.002.001.10, camt.054.001.08).
#[derive(Clone, Copy)]
pub(super) struct Tags {
    /// 2019: `BICFI`/`AnyBIC`, parties wrapped in `Pty`, `Sts/Cd`, `Amt` + `CdtDbtInd` and
    /// `LclInstrm` in camt `TxDtls`.
    pub(super) v2019: bool,
}

impl Tags {
    /// Agent BIC: `BIC` / `BICFI`.
    pub(super) fn agent_bic(self) -> &'static str {
        if self.v2019 { "BICFI" } else { "BIC" }
    }

    /// Organisation BIC in a party id: `BICOrBEI` / `AnyBIC`.
    pub(super) fn party_bic(self) -> &'static str {
        if self.v2019 { "AnyBIC" } else { "BICOrBEI" }
    }
}

/// `<tag><FinInstnId><BIC|BICFI>…</…></FinInstnId></tag>`.
pub(super) fn agent(xml: &mut Xml, tags: Tags, tag: &str, bic: &Bic) {
    xml.open(tag);
    xml.wrapped("FinInstnId", tags.agent_bic(), bic.as_str());
    xml.close(tag);
}

/// `DecimalNumber` / `ActiveOrHistoricCurrencyAndAmount` carry at most 18 digits: the largest
/// sum that can be written, in cents.
pub(super) const MAX_DECIMAL_CENTS: i64 = 999_999_999_999_999_999;

/// An XML document being built, with two-space indentation.
pub(super) struct Xml {
    buf: Vec<u8>,
    depth: usize,
}

impl Xml {
    /// Starts a document whose root is `<Document xmlns="namespace">` holding `message`.
    pub(super) fn document(namespace: &str, message: &str) -> Self {
        let mut xml = Self {
            buf: Vec::with_capacity(16 * 1024),
            depth: 0,
        };
        xml.buf
            .extend_from_slice(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"");
        xml.escaped(namespace);
        xml.buf
            .extend_from_slice(b"\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">");
        xml.depth = 1;
        xml.open(message);
        xml
    }

    /// Closes the message and the document and returns the bytes.
    pub(super) fn finish(mut self, message: &str) -> Vec<u8> {
        self.close(message);
        self.buf.extend_from_slice(b"\n</Document>\n");
        self.buf
    }

    fn indent(&mut self) {
        self.buf.push(b'\n');
        self.buf.extend(std::iter::repeat_n(b' ', 2 * self.depth));
    }

    fn escaped(&mut self, text: &str) {
        for b in text.bytes() {
            match b {
                b'<' => self.buf.extend_from_slice(b"&lt;"),
                b'>' => self.buf.extend_from_slice(b"&gt;"),
                b'&' => self.buf.extend_from_slice(b"&amp;"),
                b'"' => self.buf.extend_from_slice(b"&quot;"),
                b'\'' => self.buf.extend_from_slice(b"&apos;"),
                _ => self.buf.push(b),
            }
        }
    }

    /// `<tag>` on a new line; what follows is nested one level deeper.
    pub(super) fn open(&mut self, tag: &str) {
        self.indent();
        self.buf.push(b'<');
        self.buf.extend_from_slice(tag.as_bytes());
        self.buf.push(b'>');
        self.depth += 1;
    }

    /// `</tag>` on a new line, one level up.
    pub(super) fn close(&mut self, tag: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.indent();
        self.buf.extend_from_slice(b"</");
        self.buf.extend_from_slice(tag.as_bytes());
        self.buf.push(b'>');
    }

    /// `<tag>text</tag>` on a new line, the text escaped.
    pub(super) fn leaf(&mut self, tag: &str, text: &str) {
        self.indent();
        self.buf.push(b'<');
        self.buf.extend_from_slice(tag.as_bytes());
        self.buf.push(b'>');
        self.escaped(text);
        self.buf.extend_from_slice(b"</");
        self.buf.extend_from_slice(tag.as_bytes());
        self.buf.push(b'>');
    }

    /// `<outer><inner>text</inner></outer>`, for the many one-child wrappers of ISO 20022.
    pub(super) fn wrapped(&mut self, outer: &str, inner: &str, text: &str) {
        self.open(outer);
        self.leaf(inner, text);
        self.close(outer);
    }

    /// `<tag Ccy="EUR">12.34</tag>`.
    pub(super) fn amount(&mut self, tag: &str, cents: i64) {
        self.indent();
        self.buf.push(b'<');
        self.buf.extend_from_slice(tag.as_bytes());
        self.buf.extend_from_slice(b" Ccy=\"EUR\">");
        self.buf.extend_from_slice(decimal(cents).as_bytes());
        self.buf.extend_from_slice(b"</");
        self.buf.extend_from_slice(tag.as_bytes());
        self.buf.push(b'>');
    }

    /// `<tag>12.34</tag>`: a sum without currency (`DecimalNumber`).
    pub(super) fn decimal(&mut self, tag: &str, cents: i64) {
        self.leaf(tag, &decimal(cents));
    }

    /// `Id/PrvtId/Othr/Id` with `SchmeNm/Prtry` SEPA: a SEPA creditor identifier, the same
    /// in every version of every message here.
    pub(super) fn scheme_id(&mut self, creditor_id: &str) {
        self.open("Id");
        self.open("PrvtId");
        self.open("Othr");
        self.leaf("Id", creditor_id);
        self.wrapped("SchmeNm", "Prtry", "SEPA");
        self.close("Othr");
        self.close("PrvtId");
        self.close("Id");
    }

    /// `<tag>2026-12-10</tag>`.
    pub(super) fn date(&mut self, tag: &str, date: NaiveDate) {
        self.leaf(tag, &date.format("%Y-%m-%d").to_string());
    }
}

/// Exact cents as an XML decimal with two places (`0.05`, `1234.56`).
pub(super) fn decimal(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// Refuses dates `ISODate` cannot hold (it has four-digit years).
pub(super) fn check_date(what: &'static str, date: NaiveDate) -> Result<NaiveDate, BankError> {
    if (1..=9999).contains(&date.year()) {
        Ok(date)
    } else {
        Err(BankError::DateTime {
            what,
            value: date.to_string(),
            reason: "ISO dates have four-digit years",
        })
    }
}

/// `xs:dateTime` with its explicit offset (`2026-12-10T18:30:00+01:00`).
pub(super) fn date_time(what: &'static str, at: &DateTime<FixedOffset>) -> Result<String, BankError> {
    let offset = at.offset().fix().local_minus_utc();
    if offset % 60 != 0 {
        return Err(BankError::DateTime {
            what,
            value: at.to_rfc3339(),
            reason: "an XML time zone is a whole number of minutes",
        });
    }
    check_date(what, at.date_naive())?;
    Ok(at.format("%Y-%m-%dT%H:%M:%S%:z").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text_and_formats_amounts() {
        let mut xml = Xml::document("urn:x", "Msg");
        xml.leaf("Nm", "A<B & 'C'");
        xml.amount("Amt", 5);
        xml.decimal("Sum", 123_456);
        let text = String::from_utf8(xml.finish("Msg")).unwrap();
        assert!(text.contains("<Nm>A&lt;B &amp; &apos;C&apos;</Nm>"), "{text}");
        assert!(text.contains("<Amt Ccy=\"EUR\">0.05</Amt>"), "{text}");
        assert!(text.contains("<Sum>1234.56</Sum>"), "{text}");
        assert!(text.ends_with("  </Msg>\n</Document>\n"), "{text}");
    }

    #[test]
    fn refuses_times_xml_cannot_carry() {
        let far = NaiveDate::from_ymd_opt(10_000, 1, 1).unwrap();
        assert!(check_date("booking date", far).is_err());
        let odd = DateTime::parse_from_rfc3339("2026-01-01T00:00:00+01:00").unwrap();
        assert_eq!(date_time("t", &odd).unwrap(), "2026-01-01T00:00:00+01:00");
        let seconds = odd.with_timezone(&FixedOffset::east_opt(30).unwrap());
        assert!(date_time("t", &seconds).is_err());
    }
}
