//! Reads one of our pain.008 files back into an [`OriginalMessage`], the way a bank takes in
//! the file it receives: so a test or the demo can answer exactly what `collect` wrote.
//!
//! Meant for files collecte wrote (pain.008.001.02 / .001.08, one creditor, sequence type and
//! local instrument per payment group); every value goes through the SEPA types, so a file
//! breaking the rules is refused with the field and the reason. The whole message is kept in
//! memory, which is fine for the file sizes a test or a demo day produces.

use std::io::BufRead;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime};
use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::{Namespace, ResolveResult};

use super::model::{OriginalGroup, OriginalMessage, OriginalTransaction};
use crate::sepa::pain008::{Creditor, LocalInstrument, Pain008Version, SequenceType};
use crate::sepa::text::{Name, Remittance};
use crate::sepa::{Bic, CreditorId, EndToEndId, Iban, MandateId, MessageId, Money, ParseError, PaymentInfoId};

/// The longest value kept from one element; nothing a pain.008 holds comes close.
const MAX_VALUE_LEN: usize = 4096;

/// Why a pain.008 could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum OriginalMessageError {
    /// The bytes are not well-formed XML.
    #[error("not well-formed XML near byte {position}: {source}")]
    Xml {
        /// Where the reader stopped.
        position: u64,
        /// What the XML parser said.
        source: quick_xml::Error,
    },
    /// A DOCTYPE is never part of a pain.008.
    #[error("the file declares a DOCTYPE, which no pain.008 has; refused")]
    Doctype,
    /// Not a pain.008.001.02 or .001.08 document.
    #[error("not a pain.008.001.02 or pain.008.001.08 message (root namespace {0:?})")]
    NotPain008(String),
    /// The input ends inside the document.
    #[error("the file ends before the document is complete")]
    Truncated,
    /// A mandatory element is absent.
    #[error("{0} is missing")]
    Missing(String),
    /// An element's value breaks a SEPA rule.
    #[error("{field}: {source}")]
    Invalid {
        /// The element, by path.
        field: &'static str,
        /// What the SEPA type said.
        source: ParseError,
    },
    /// An element holds far more text than any pain.008 value.
    #[error("{0} holds more than {MAX_VALUE_LEN} bytes of text")]
    ValueTooLong(String),
    /// Payment groups of one message name different creditors (collecte never writes that).
    #[error("payment group {0} names another creditor than the first group")]
    MixedCreditors(String),
}

/// The elements read, by path below `CstmrDrctDbtInitn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    MsgId,
    CreDtTm,
    PmtInfId,
    LclInstrm,
    SeqTp,
    ReqdColltnDt,
    CdtrNm,
    CdtrIban,
    CdtrBic,
    CdtrId,
    EndToEndId,
    InstdAmt,
    MndtId,
    DtOfSgntr,
    DbtrBic,
    DbtrNm,
    DbtrIban,
    Ustrd,
}

impl Field {
    fn of(path: &str) -> Option<Self> {
        let rest = path.strip_prefix("/Document/CstmrDrctDbtInitn/")?;
        Some(match rest {
            "GrpHdr/MsgId" => Self::MsgId,
            "GrpHdr/CreDtTm" => Self::CreDtTm,
            "PmtInf/PmtInfId" => Self::PmtInfId,
            "PmtInf/PmtTpInf/LclInstrm/Cd" => Self::LclInstrm,
            "PmtInf/PmtTpInf/SeqTp" => Self::SeqTp,
            "PmtInf/ReqdColltnDt" => Self::ReqdColltnDt,
            "PmtInf/Cdtr/Nm" => Self::CdtrNm,
            "PmtInf/CdtrAcct/Id/IBAN" => Self::CdtrIban,
            "PmtInf/CdtrAgt/FinInstnId/BIC" | "PmtInf/CdtrAgt/FinInstnId/BICFI" => Self::CdtrBic,
            "PmtInf/CdtrSchmeId/Id/PrvtId/Othr/Id" => Self::CdtrId,
            "PmtInf/DrctDbtTxInf/PmtId/EndToEndId" => Self::EndToEndId,
            "PmtInf/DrctDbtTxInf/InstdAmt" => Self::InstdAmt,
            "PmtInf/DrctDbtTxInf/DrctDbtTx/MndtRltdInf/MndtId" => Self::MndtId,
            "PmtInf/DrctDbtTxInf/DrctDbtTx/MndtRltdInf/DtOfSgntr" => Self::DtOfSgntr,
            "PmtInf/DrctDbtTxInf/DbtrAgt/FinInstnId/BIC" | "PmtInf/DrctDbtTxInf/DbtrAgt/FinInstnId/BICFI" => {
                Self::DbtrBic
            }
            "PmtInf/DrctDbtTxInf/Dbtr/Nm" => Self::DbtrNm,
            "PmtInf/DrctDbtTxInf/DbtrAcct/Id/IBAN" => Self::DbtrIban,
            "PmtInf/DrctDbtTxInf/RmtInf/Ustrd" => Self::Ustrd,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Self::MsgId => "GrpHdr/MsgId",
            Self::CreDtTm => "GrpHdr/CreDtTm",
            Self::PmtInfId => "PmtInf/PmtInfId",
            Self::LclInstrm => "PmtInf/PmtTpInf/LclInstrm/Cd",
            Self::SeqTp => "PmtInf/PmtTpInf/SeqTp",
            Self::ReqdColltnDt => "PmtInf/ReqdColltnDt",
            Self::CdtrNm => "PmtInf/Cdtr/Nm",
            Self::CdtrIban => "PmtInf/CdtrAcct/Id/IBAN",
            Self::CdtrBic => "PmtInf/CdtrAgt/FinInstnId/BIC",
            Self::CdtrId => "PmtInf/CdtrSchmeId/Id/PrvtId/Othr/Id",
            Self::EndToEndId => "DrctDbtTxInf/PmtId/EndToEndId",
            Self::InstdAmt => "DrctDbtTxInf/InstdAmt",
            Self::MndtId => "DrctDbtTxInf/DrctDbtTx/MndtRltdInf/MndtId",
            Self::DtOfSgntr => "DrctDbtTxInf/DrctDbtTx/MndtRltdInf/DtOfSgntr",
            Self::DbtrBic => "DrctDbtTxInf/DbtrAgt/FinInstnId/BIC",
            Self::DbtrNm => "DrctDbtTxInf/Dbtr/Nm",
            Self::DbtrIban => "DrctDbtTxInf/DbtrAcct/Id/IBAN",
            Self::Ustrd => "DrctDbtTxInf/RmtInf/Ustrd",
        }
    }
}

const PMT_INF: &str = "/Document/CstmrDrctDbtInitn/PmtInf";
const TX: &str = "/Document/CstmrDrctDbtInitn/PmtInf/DrctDbtTxInf";

/// Raw values of one element group, checked when the group closes.
#[derive(Default)]
struct Values(Vec<(Field, String)>);

impl Values {
    fn get(&self, field: Field) -> Option<&str> {
        self.0.iter().find(|(f, _)| *f == field).map(|(_, v)| v.as_str())
    }

    fn required(&self, field: Field) -> Result<&str, OriginalMessageError> {
        self.get(field)
            .ok_or_else(|| OriginalMessageError::Missing(field.name().to_owned()))
    }

    fn parse<T>(
        &self,
        field: Field,
        parse: impl FnOnce(&str) -> Result<T, ParseError>,
    ) -> Result<T, OriginalMessageError> {
        parse(self.required(field)?).map_err(|source| OriginalMessageError::Invalid {
            field: field.name(),
            source,
        })
    }

    fn parse_optional<T>(
        &self,
        field: Field,
        parse: impl FnOnce(&str) -> Result<T, ParseError>,
    ) -> Result<Option<T>, OriginalMessageError> {
        self.get(field).map(|_| self.parse(field, parse)).transpose()
    }
}

fn parse_date(input: &str) -> Result<NaiveDate, ParseError> {
    NaiveDate::parse_from_str(input, "%Y-%m-%d").map_err(|_| ParseError::new("date", input, "is not an ISO date"))
}

/// `xs:dateTime` with or without an offset (without one, it is taken as UTC).
fn parse_date_time(input: &str) -> Result<DateTime<FixedOffset>, ParseError> {
    DateTime::parse_from_rfc3339(input)
        .or_else(|_| NaiveDateTime::parse_from_str(input, "%Y-%m-%dT%H:%M:%S%.f").map(|t| t.and_utc().fixed_offset()))
        .map_err(|_| ParseError::new("date-time", input, "is not an ISO date-time"))
}

fn parse_instrument(input: &str) -> Result<LocalInstrument, ParseError> {
    match input {
        "CORE" => Ok(LocalInstrument::Core),
        "B2B" => Ok(LocalInstrument::B2b),
        _ => Err(ParseError::new("local instrument", input, "is neither CORE nor B2B")),
    }
}

fn parse_sequence(input: &str) -> Result<SequenceType, ParseError> {
    SequenceType::from_code(input)
        .ok_or_else(|| ParseError::new("sequence type", input, "is not FRST, RCUR, OOFF or FNAL"))
}

/// What has been read so far.
#[derive(Default)]
struct Draft {
    header: Values,
    group: Values,
    tx: Values,
    transactions: Vec<OriginalTransaction>,
    groups: Vec<OriginalGroup>,
    creditor: Option<Creditor>,
}

impl Draft {
    fn set(&mut self, field: Field, value: String) {
        let target = match field {
            Field::MsgId | Field::CreDtTm => &mut self.header,
            Field::PmtInfId
            | Field::LclInstrm
            | Field::SeqTp
            | Field::ReqdColltnDt
            | Field::CdtrNm
            | Field::CdtrIban
            | Field::CdtrBic
            | Field::CdtrId => &mut self.group,
            _ => &mut self.tx,
        };
        target.0.push((field, value));
    }

    fn end_transaction(&mut self) -> Result<(), OriginalMessageError> {
        let v = std::mem::take(&mut self.tx);
        self.transactions.push(OriginalTransaction {
            end_to_end_id: v.parse(Field::EndToEndId, EndToEndId::parse)?,
            amount: v.parse(Field::InstdAmt, Money::parse)?,
            mandate_id: v.parse(Field::MndtId, MandateId::parse)?,
            mandate_signed_on: v.parse_optional(Field::DtOfSgntr, parse_date)?,
            debtor_name: v.parse(Field::DbtrNm, Name::parse)?,
            debtor_iban: v.parse(Field::DbtrIban, Iban::parse)?,
            debtor_bic: v.parse_optional(Field::DbtrBic, Bic::parse)?,
            remittance: v.parse_optional(Field::Ustrd, Remittance::parse)?,
        });
        Ok(())
    }

    fn end_group(&mut self) -> Result<(), OriginalMessageError> {
        let v = std::mem::take(&mut self.group);
        let payment_info_id = v.parse(Field::PmtInfId, PaymentInfoId::parse)?;
        let creditor = Creditor {
            name: v.parse(Field::CdtrNm, Name::parse)?,
            iban: v.parse(Field::CdtrIban, Iban::parse)?,
            bic: v.parse_optional(Field::CdtrBic, Bic::parse)?,
            id: v.parse(Field::CdtrId, CreditorId::parse)?,
            address: None,
        };
        match &self.creditor {
            None => self.creditor = Some(creditor),
            Some(first) if *first == creditor => {}
            Some(_) => return Err(OriginalMessageError::MixedCreditors(payment_info_id.to_string())),
        }
        self.groups.push(OriginalGroup {
            payment_info_id,
            local_instrument: v.parse(Field::LclInstrm, parse_instrument)?,
            sequence_type: v.parse(Field::SeqTp, parse_sequence)?,
            collection_date: v.parse(Field::ReqdColltnDt, parse_date)?,
            transactions: std::mem::take(&mut self.transactions),
        });
        Ok(())
    }

    fn finish(self, version: Pain008Version) -> Result<OriginalMessage, OriginalMessageError> {
        Ok(OriginalMessage {
            message_id: self.header.parse(Field::MsgId, MessageId::parse)?,
            created_at: self.header.parse(Field::CreDtTm, parse_date_time)?,
            version,
            creditor: self
                .creditor
                .ok_or_else(|| OriginalMessageError::Missing("PmtInf".into()))?,
            groups: self.groups,
        })
    }
}

impl OriginalMessage {
    /// Reads a pain.008.001.02 or .001.08 written by collecte back into values.
    pub fn from_pain008<R: BufRead>(input: R) -> Result<Self, OriginalMessageError> {
        let mut reader = NsReader::from_reader(input);
        let mut buf = Vec::with_capacity(4096);
        let mut path = String::new();
        let mut marks: Vec<usize> = Vec::new();
        let mut version = None;
        let mut capture: Option<Field> = None;
        let mut value = String::new();
        let mut draft = Draft::default();
        loop {
            buf.clear();
            let xml_error = |reader: &NsReader<R>, source| OriginalMessageError::Xml {
                position: reader.error_position(),
                source,
            };
            let (namespace, event) = match reader.read_resolved_event_into(&mut buf) {
                Ok((ResolveResult::Bound(Namespace(ns)), e)) if version.is_none() => (Some(ns.to_vec()), e),
                Ok((_, e)) => (None, e),
                Err(e) => return Err(xml_error(&reader, e)),
            };
            let (start, end) = match &event {
                Event::Start(_) => (true, false),
                Event::Empty(_) => (true, true),
                Event::End(_) => (false, true),
                Event::Text(t) if capture.is_some() => {
                    value.push_str(&t.decode().map_err(|e| xml_error(&reader, e.into()))?);
                    (false, false)
                }
                Event::CData(t) if capture.is_some() => {
                    value.push_str(&t.decode().map_err(|e| xml_error(&reader, e.into()))?);
                    (false, false)
                }
                Event::GeneralRef(r) if capture.is_some() => {
                    let c = r
                        .resolve_char_ref()
                        .map_err(|e| xml_error(&reader, e))?
                        .or_else(|| match r.decode().ok()?.as_ref() {
                            "lt" => Some('<'),
                            "gt" => Some('>'),
                            "amp" => Some('&'),
                            "apos" => Some('\''),
                            "quot" => Some('"'),
                            _ => None,
                        })
                        .unwrap_or('\u{fffd}');
                    value.push(c);
                    (false, false)
                }
                Event::DocType(_) => return Err(OriginalMessageError::Doctype),
                Event::Eof => break,
                _ => (false, false),
            };
            if value.len() > MAX_VALUE_LEN {
                return Err(OriginalMessageError::ValueTooLong(path));
            }
            if start {
                let local = match &event {
                    Event::Start(e) | Event::Empty(e) => String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                    _ => String::new(),
                };
                if version.is_none() {
                    let ns = String::from_utf8_lossy(namespace.as_deref().unwrap_or_default()).into_owned();
                    version = match ns.as_str() {
                        _ if local != "Document" => None,
                        "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02" => Some(Pain008Version::V02),
                        "urn:iso:std:iso:20022:tech:xsd:pain.008.001.08" => Some(Pain008Version::V08),
                        _ => None,
                    };
                    if version.is_none() {
                        return Err(OriginalMessageError::NotPain008(ns));
                    }
                }
                marks.push(path.len());
                path.push('/');
                path.push_str(&local);
                capture = Field::of(&path);
                value.clear();
            }
            if end {
                if let Some(field) = capture.take() {
                    draft.set(field, value.trim().to_owned());
                }
                if path == TX {
                    draft.end_transaction()?;
                } else if path == PMT_INF {
                    draft.end_group()?;
                }
                let mark = marks.pop().unwrap_or(0);
                path.truncate(mark);
            }
        }
        if !marks.is_empty() {
            return Err(OriginalMessageError::Truncated);
        }
        let version = version.ok_or_else(|| OriginalMessageError::NotPain008(String::new()))?;
        draft.finish(version)
    }
}
