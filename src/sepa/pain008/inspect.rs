//! What a pain.008 file holds, read in one streaming pass: header, groups, counts, totals.
//!
//! Used by `collecte inspect` and by tests that check generated files. Declared counts and
//! control sums are compared with what the file actually carries, in exact cents, because a
//! file whose header lies is the first thing a bank rejects. Any pain.008 version is read
//! (`.001.02`, `.001.08`, `.001.11`, the German `.003.02`); memory grows with the number of
//! payment groups only.

use std::fmt;
use std::io::BufRead;

use quick_xml::NsReader;
use quick_xml::events::{BytesRef, Event};
use quick_xml::name::{Namespace, ResolveResult};
use serde::{Serialize, Serializer};

use crate::sepa::money::format_cents;

/// Every pain.008 namespace starts with this.
const NAMESPACE_PREFIX: &str = "urn:iso:std:iso:20022:tech:xsd:";
/// The longest value kept from an element (ids are 35, timestamps about 30).
const MAX_VALUE_LEN: usize = 256;

/// An exact amount in cents, shown and serialized as a decimal string (`"1234.56"`), since
/// JSON numbers are floats to most readers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Cents(pub i64);

impl fmt::Display for Cents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_cents(self.0))
    }
}

impl Serialize for Cents {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// One payment-information group (`PmtInf`): what it declares and what it carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupSummary {
    /// `PmtInfId`.
    pub payment_info_id: String,
    /// `PmtTpInf/SeqTp` at group level (FRST, RCUR, OOFF, FNAL), when given there.
    pub sequence_type: Option<String>,
    /// `PmtTpInf/LclInstrm/Cd` (CORE, B2B), when given at group level.
    pub local_instrument: Option<String>,
    /// `ReqdColltnDt`, as written.
    pub requested_collection_date: String,
    /// `NbOfTxs`, when declared.
    pub declared_nb_of_txs: Option<u64>,
    /// `CtrlSum`, when declared.
    pub declared_ctrl_sum: Option<Cents>,
    /// `DrctDbtTxInf` elements found.
    pub counted_nb_of_txs: u64,
    /// Sum of their `InstdAmt`.
    pub counted_ctrl_sum: Cents,
    /// Whether every declared value equals the counted one.
    pub consistent: bool,
}

/// A whole pain.008 message: header, groups, and whether the declarations hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pain008Summary {
    /// The message name taken from the namespace, e.g. `pain.008.001.08`.
    pub message: String,
    /// The `Document` namespace.
    pub namespace: String,
    /// `GrpHdr/MsgId`.
    pub message_id: String,
    /// `GrpHdr/CreDtTm`, as written.
    pub created_at: String,
    /// `GrpHdr/NbOfTxs`.
    pub declared_nb_of_txs: u64,
    /// `GrpHdr/CtrlSum`, when declared.
    pub declared_ctrl_sum: Option<Cents>,
    /// Transactions found in the whole message.
    pub counted_nb_of_txs: u64,
    /// Sum of their amounts.
    pub counted_ctrl_sum: Cents,
    /// Whether the header and every group declare exactly what they carry.
    pub consistent: bool,
    /// The payment groups, in file order.
    pub groups: Vec<GroupSummary>,
}

/// Why a file could not be summarised.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    /// The bytes are not well-formed XML.
    #[error("not well-formed XML near byte {position}: {source}")]
    Xml {
        /// Where the reader stopped.
        position: u64,
        /// What the XML parser said.
        source: quick_xml::Error,
    },
    /// A DOCTYPE (the door to entity-expansion attacks) is never part of a bank file.
    #[error("the file declares a DOCTYPE, which no pain.008 has; refused")]
    Doctype,
    /// The root element is not a pain.008 `Document`.
    #[error("not a pain.008 message: root element <{element}> in namespace {namespace:?}")]
    NotPain008 {
        /// The root element's local name.
        element: String,
        /// Its namespace (empty when none).
        namespace: String,
    },
    /// The input ends inside the document (a truncated or half-written file).
    #[error("the file ends before the document is complete")]
    Truncated,
    /// A mandatory element is absent.
    #[error("{0} is missing")]
    Missing(&'static str),
    /// An element's value cannot be read.
    #[error("{field} {value:?} is not valid: {reason}")]
    Invalid {
        /// The element.
        field: &'static str,
        /// Its content (cut).
        value: String,
        /// Why.
        reason: &'static str,
    },
}

/// The elements whose values the summary needs, by path below `Document`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    MsgId,
    CreDtTm,
    HeaderNbOfTxs,
    HeaderCtrlSum,
    PmtInfId,
    GroupNbOfTxs,
    GroupCtrlSum,
    SeqTp,
    LclInstrm,
    ReqdColltnDt,
    InstdAmt,
}

impl Field {
    fn of(path: &[u8]) -> Option<Self> {
        let rest = path.strip_prefix(b"/Document/CstmrDrctDbtInitn/")?;
        Some(match rest {
            b"GrpHdr/MsgId" => Self::MsgId,
            b"GrpHdr/CreDtTm" => Self::CreDtTm,
            b"GrpHdr/NbOfTxs" => Self::HeaderNbOfTxs,
            b"GrpHdr/CtrlSum" => Self::HeaderCtrlSum,
            b"PmtInf/PmtInfId" => Self::PmtInfId,
            b"PmtInf/NbOfTxs" => Self::GroupNbOfTxs,
            b"PmtInf/CtrlSum" => Self::GroupCtrlSum,
            b"PmtInf/PmtTpInf/SeqTp" => Self::SeqTp,
            b"PmtInf/PmtTpInf/LclInstrm/Cd" => Self::LclInstrm,
            b"PmtInf/ReqdColltnDt" => Self::ReqdColltnDt,
            b"PmtInf/DrctDbtTxInf/InstdAmt" => Self::InstdAmt,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Self::MsgId => "GrpHdr/MsgId",
            Self::CreDtTm => "GrpHdr/CreDtTm",
            Self::HeaderNbOfTxs => "GrpHdr/NbOfTxs",
            Self::HeaderCtrlSum => "GrpHdr/CtrlSum",
            Self::PmtInfId => "PmtInf/PmtInfId",
            Self::GroupNbOfTxs => "PmtInf/NbOfTxs",
            Self::GroupCtrlSum => "PmtInf/CtrlSum",
            Self::SeqTp => "PmtInf/PmtTpInf/SeqTp",
            Self::LclInstrm => "PmtInf/PmtTpInf/LclInstrm/Cd",
            Self::ReqdColltnDt => "PmtInf/ReqdColltnDt",
            Self::InstdAmt => "DrctDbtTxInf/InstdAmt",
        }
    }
}

const PMT_INF: &[u8] = b"/Document/CstmrDrctDbtInitn/PmtInf";
const TX: &[u8] = b"/Document/CstmrDrctDbtInitn/PmtInf/DrctDbtTxInf";

/// A payment group being read.
#[derive(Default)]
struct GroupDraft {
    payment_info_id: Option<String>,
    sequence_type: Option<String>,
    local_instrument: Option<String>,
    requested_collection_date: Option<String>,
    declared_nb_of_txs: Option<u64>,
    declared_ctrl_sum: Option<Cents>,
    counted_nb_of_txs: u64,
    counted_ctrl_sum: i64,
}

impl GroupDraft {
    fn finish(self) -> Result<GroupSummary, InspectError> {
        let counted_ctrl_sum = Cents(self.counted_ctrl_sum);
        let consistent = self.declared_nb_of_txs.is_none_or(|n| n == self.counted_nb_of_txs)
            && self.declared_ctrl_sum.is_none_or(|s| s == counted_ctrl_sum);
        Ok(GroupSummary {
            payment_info_id: self
                .payment_info_id
                .ok_or(InspectError::Missing(Field::PmtInfId.name()))?,
            sequence_type: self.sequence_type,
            local_instrument: self.local_instrument,
            requested_collection_date: self
                .requested_collection_date
                .ok_or(InspectError::Missing(Field::ReqdColltnDt.name()))?,
            declared_nb_of_txs: self.declared_nb_of_txs,
            declared_ctrl_sum: self.declared_ctrl_sum,
            counted_nb_of_txs: self.counted_nb_of_txs,
            counted_ctrl_sum,
            consistent,
        })
    }
}

/// Everything read so far.
#[derive(Default)]
struct Draft {
    message_id: Option<String>,
    created_at: Option<String>,
    declared_nb_of_txs: Option<u64>,
    declared_ctrl_sum: Option<Cents>,
    group: Option<GroupDraft>,
    groups: Vec<GroupSummary>,
}

fn invalid(field: Field, value: &str, reason: &'static str) -> InspectError {
    InspectError::Invalid {
        field: field.name(),
        value: value.chars().take(80).collect(),
        reason,
    }
}

/// Parses an `xs:decimal` into exact cents; refuses anything finer than a cent.
fn parse_cents(field: Field, value: &str) -> Result<i64, InspectError> {
    let bad = |reason| invalid(field, value, reason);
    let (negative, digits) = match value.as_bytes() {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        rest => (false, rest),
    };
    let (int, frac) = match digits.iter().position(|b| *b == b'.') {
        Some(dot) => (&digits[..dot], &digits[dot + 1..]),
        None => (digits, &[][..]),
    };
    if int.is_empty() && frac.is_empty() {
        return Err(bad("is not a decimal number"));
    }
    if !int.iter().chain(frac).all(u8::is_ascii_digit) {
        return Err(bad("is not a decimal number"));
    }
    if frac.iter().skip(2).any(|b| *b != b'0') {
        return Err(bad("has a fraction of a cent"));
    }
    let cents_digits = frac.iter().chain(b"00").take(2);
    int.iter()
        .chain(cents_digits)
        .try_fold(0i64, |acc, d| acc.checked_mul(10)?.checked_add(i64::from(d - b'0')))
        .map(|c| if negative { -c } else { c })
        .ok_or_else(|| bad("is too large"))
}

fn parse_count(field: Field, value: &str) -> Result<u64, InspectError> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(field, value, "is not a count"));
    }
    value.parse().map_err(|_| invalid(field, value, "is too large"))
}

impl Draft {
    fn group(&mut self, field: Field) -> Result<&mut GroupDraft, InspectError> {
        self.group.as_mut().ok_or(InspectError::Missing(field.name()))
    }

    fn set(&mut self, field: Field, value: &str) -> Result<(), InspectError> {
        match field {
            Field::MsgId => self.message_id = Some(value.to_owned()),
            Field::CreDtTm => self.created_at = Some(value.to_owned()),
            Field::HeaderNbOfTxs => self.declared_nb_of_txs = Some(parse_count(field, value)?),
            Field::HeaderCtrlSum => {
                self.declared_ctrl_sum = Some(Cents(parse_cents(field, value)?));
            }
            Field::PmtInfId => self.group(field)?.payment_info_id = Some(value.to_owned()),
            Field::GroupNbOfTxs => {
                self.group(field)?.declared_nb_of_txs = Some(parse_count(field, value)?);
            }
            Field::GroupCtrlSum => {
                self.group(field)?.declared_ctrl_sum = Some(Cents(parse_cents(field, value)?));
            }
            Field::SeqTp => self.group(field)?.sequence_type = Some(value.to_owned()),
            Field::LclInstrm => self.group(field)?.local_instrument = Some(value.to_owned()),
            Field::ReqdColltnDt => {
                self.group(field)?.requested_collection_date = Some(value.to_owned());
            }
            Field::InstdAmt => {
                let cents = parse_cents(field, value)?;
                let group = self.group(field)?;
                group.counted_ctrl_sum = group
                    .counted_ctrl_sum
                    .checked_add(cents)
                    .ok_or_else(|| invalid(field, value, "overflows the group's total"))?;
            }
        }
        Ok(())
    }

    fn finish(self, namespace: String) -> Result<Pain008Summary, InspectError> {
        let counted_nb_of_txs = self.groups.iter().map(|g| g.counted_nb_of_txs).sum();
        let counted = self
            .groups
            .iter()
            .try_fold(0i64, |acc, g| acc.checked_add(g.counted_ctrl_sum.0))
            .ok_or(InspectError::Invalid {
                field: Field::InstdAmt.name(),
                value: String::new(),
                reason: "the amounts overflow the message total",
            })?;
        let counted_ctrl_sum = Cents(counted);
        let declared_nb_of_txs = self
            .declared_nb_of_txs
            .ok_or(InspectError::Missing(Field::HeaderNbOfTxs.name()))?;
        let consistent = declared_nb_of_txs == counted_nb_of_txs
            && self.declared_ctrl_sum.is_none_or(|s| s == counted_ctrl_sum)
            && self.groups.iter().all(|g| g.consistent);
        if self.groups.is_empty() {
            return Err(InspectError::Missing("PmtInf"));
        }
        Ok(Pain008Summary {
            message: namespace
                .strip_prefix(NAMESPACE_PREFIX)
                .unwrap_or(&namespace)
                .to_owned(),
            message_id: self.message_id.ok_or(InspectError::Missing(Field::MsgId.name()))?,
            created_at: self.created_at.ok_or(InspectError::Missing(Field::CreDtTm.name()))?,
            namespace,
            declared_nb_of_txs,
            declared_ctrl_sum: self.declared_ctrl_sum,
            counted_nb_of_txs,
            counted_ctrl_sum,
            consistent,
            groups: self.groups,
        })
    }
}

/// The value of a predefined or character entity reference (`&amp;`, `&#38;`).
fn entity(r: &BytesRef<'_>) -> Result<char, quick_xml::Error> {
    if let Some(c) = r.resolve_char_ref()? {
        return Ok(c);
    }
    match r.decode()?.as_ref() {
        "lt" => Ok('<'),
        "gt" => Ok('>'),
        "amp" => Ok('&'),
        "apos" => Ok('\''),
        "quot" => Ok('"'),
        other => Err(quick_xml::Error::Escape(
            quick_xml::escape::EscapeError::UnrecognizedEntity(0..other.len(), other.to_owned()),
        )),
    }
}

/// Where the reader is in the document, and what it keeps.
#[derive(Default)]
struct Walker {
    /// Local names from the root, `/`-separated: `/Document/CstmrDrctDbtInitn/GrpHdr`.
    path: Vec<u8>,
    /// Length of `path` before each open element.
    marks: Vec<usize>,
    /// The root's namespace, once the root is seen.
    namespace: Option<String>,
    /// The element whose text is being kept, and that text.
    capture: Option<Field>,
    value: String,
    draft: Draft,
}

impl Walker {
    fn open(&mut self, namespace: Option<&[u8]>, local: &[u8]) -> Result<(), InspectError> {
        if self.namespace.is_none() {
            let ns = String::from_utf8_lossy(namespace.unwrap_or_default()).into_owned();
            let is_pain008 = ns
                .strip_prefix(NAMESPACE_PREFIX)
                .is_some_and(|m| m.starts_with("pain.008."));
            if local != b"Document" || !is_pain008 {
                return Err(InspectError::NotPain008 {
                    element: String::from_utf8_lossy(local).into_owned(),
                    namespace: ns,
                });
            }
            self.namespace = Some(ns);
        }
        self.marks.push(self.path.len());
        self.path.push(b'/');
        self.path.extend_from_slice(local);
        if self.path == PMT_INF {
            self.draft.group = Some(GroupDraft::default());
        } else if self.path == TX {
            self.draft.group(Field::InstdAmt)?.counted_nb_of_txs += 1;
        }
        self.capture = Field::of(&self.path);
        self.value.clear();
        Ok(())
    }

    fn text(&mut self, text: &str) -> Result<(), InspectError> {
        if let Some(field) = self.capture {
            self.value.push_str(text);
            if self.value.len() > MAX_VALUE_LEN {
                return Err(invalid(field, &self.value, "is too long"));
            }
        }
        Ok(())
    }

    fn close(&mut self) -> Result<(), InspectError> {
        if let Some(field) = self.capture.take() {
            self.draft.set(field, self.value.trim())?;
        }
        if self.path == PMT_INF
            && let Some(group) = self.draft.group.take()
        {
            self.draft.groups.push(group.finish()?);
        }
        let mark = self.marks.pop().unwrap_or(0);
        self.path.truncate(mark);
        Ok(())
    }
}

/// Reads a pain.008 from `input` and summarises it.
pub fn inspect<R: BufRead>(input: R) -> Result<Pain008Summary, InspectError> {
    let mut reader = NsReader::from_reader(input);
    let mut buf = Vec::with_capacity(4096);
    let mut walker = Walker::default();
    loop {
        buf.clear();
        let xml_error = |reader: &NsReader<R>, source| InspectError::Xml {
            position: reader.error_position(),
            source,
        };
        let (namespace, event) = match reader.read_resolved_event_into(&mut buf) {
            // Only the root's namespace matters (the rest is matched by local name).
            Ok((ResolveResult::Bound(Namespace(ns)), e)) if walker.namespace.is_none() => (Some(ns.to_vec()), e),
            Ok((_, e)) => (None, e),
            Err(e) => return Err(xml_error(&reader, e)),
        };
        match &event {
            Event::Start(e) => walker.open(namespace.as_deref(), e.local_name().as_ref())?,
            Event::Empty(e) => {
                walker.open(namespace.as_deref(), e.local_name().as_ref())?;
                walker.close()?;
            }
            Event::End(_) => walker.close()?,
            // Text outside the kept elements (mostly indentation) is not even decoded.
            Event::Text(t) if walker.capture.is_some() => {
                walker.text(&t.decode().map_err(|e| xml_error(&reader, e.into()))?)?;
            }
            Event::CData(t) if walker.capture.is_some() => {
                walker.text(&t.decode().map_err(|e| xml_error(&reader, e.into()))?)?;
            }
            Event::Text(_) | Event::CData(_) => {}
            Event::GeneralRef(r) => {
                let c = entity(r).map_err(|e| xml_error(&reader, e))?;
                walker.text(c.encode_utf8(&mut [0; 4]))?;
            }
            Event::DocType(_) => return Err(InspectError::Doctype),
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
        }
    }
    if !walker.marks.is_empty() {
        return Err(InspectError::Truncated);
    }
    let namespace = walker.namespace.ok_or(InspectError::Missing("Document"))?;
    walker.draft.finish(namespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cents(s: &str) -> Result<i64, InspectError> {
        parse_cents(Field::InstdAmt, s)
    }

    #[test]
    fn decimals_become_exact_cents() {
        assert_eq!(cents("12.34").unwrap(), 1234);
        assert_eq!(cents("12").unwrap(), 1200);
        assert_eq!(cents("12.3").unwrap(), 1230);
        assert_eq!(cents("12.34000").unwrap(), 1234);
        assert_eq!(cents(".5").unwrap(), 50);
        assert_eq!(cents("+0.01").unwrap(), 1);
        assert_eq!(cents("-1.00").unwrap(), -100);
        assert_eq!(cents("999999999.99").unwrap(), 99_999_999_999);
        for bad in ["", ".", "1.001", "1e3", "1,00", "12.3.4", "99999999999999999999"] {
            assert!(cents(bad).is_err(), "{bad}");
        }
    }

    const MINIMAL: &str = r#"<?xml version="1.0"?>
<p:Document xmlns:p="urn:iso:std:iso:20022:tech:xsd:pain.008.001.08"><p:CstmrDrctDbtInitn>
<p:GrpHdr><p:MsgId>M&amp;1</p:MsgId><p:CreDtTm>2026-01-01T00:00:00Z</p:CreDtTm>
<p:NbOfTxs>2</p:NbOfTxs><p:CtrlSum>3.00</p:CtrlSum></p:GrpHdr>
<p:PmtInf><p:PmtInfId>P1</p:PmtInfId><p:NbOfTxs>2</p:NbOfTxs><p:CtrlSum>3.01</p:CtrlSum>
<p:ReqdColltnDt>2026-01-05</p:ReqdColltnDt>
<p:DrctDbtTxInf><p:InstdAmt Ccy="EUR">1.00</p:InstdAmt></p:DrctDbtTxInf>
<p:DrctDbtTxInf><p:InstdAmt Ccy="EUR"> 2 </p:InstdAmt></p:DrctDbtTxInf>
</p:PmtInf></p:CstmrDrctDbtInitn></p:Document>"#;

    #[test]
    fn reads_prefixed_documents_and_spots_lying_groups() {
        let s = inspect(MINIMAL.as_bytes()).unwrap();
        assert_eq!(s.message, "pain.008.001.08");
        assert_eq!(s.message_id, "M&1");
        assert_eq!(s.counted_nb_of_txs, 2);
        assert_eq!(s.counted_ctrl_sum, Cents(300));
        assert_eq!(s.groups[0].declared_ctrl_sum, Some(Cents(301)));
        assert!(!s.groups[0].consistent);
        assert!(!s.consistent);
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["counted_ctrl_sum"], "3.00");
        assert_eq!(json["groups"][0]["requested_collection_date"], "2026-01-05");
    }

    #[test]
    fn refuses_doctype_other_messages_and_broken_xml() {
        let doctype = format!(
            "<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY a \"aaaa\">]>{}",
            &MINIMAL[22..]
        );
        assert!(matches!(inspect(doctype.as_bytes()), Err(InspectError::Doctype)));
        let camt = r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"/>"#;
        let e = inspect(camt.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("camt.054"), "{e}");
        let e = inspect(&MINIMAL.as_bytes()[..MINIMAL.find("</p:PmtInf>").unwrap()]).unwrap_err();
        assert!(matches!(e, InspectError::Truncated), "{e}");
        let e = inspect(MINIMAL.replace("</p:PmtInf>", "").as_bytes()).unwrap_err();
        assert!(matches!(e, InspectError::Xml { .. }), "{e}");
        let no_ctrl = MINIMAL.replace("<p:MsgId>M&amp;1</p:MsgId>", "");
        let e = inspect(no_ctrl.as_bytes()).unwrap_err();
        assert_eq!(e.to_string(), "GrpHdr/MsgId is missing");
        let unknown = MINIMAL.replace("M&amp;1", "M&ent;1");
        assert!(inspect(unknown.as_bytes()).is_err());
    }
}
