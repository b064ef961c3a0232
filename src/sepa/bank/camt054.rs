//! The camt.054 debit/credit notification of the creditor's account.
//!
//! Modelled on the real notifications in `sepa-samples`: each payment group that settles is
//! one booked batch credit (`NtryDtls/Btch` with our MsgId, PmtInfId, count and total, then
//! one `TxDtls` per transaction carrying its own `AmtDtls/TxAmt`), with bank transaction code
//! PMNT/IDDT/ESDD (BBDD for B2B); each return or refund is one booked debit with
//! `RvslInd` true, code PMNT/IDDT/UPDD and `RtrInf` (the ABN AMRO and Bank of Ireland
//! unpaid notifications). Entry amounts are the exact sums of their transactions.
//!
//! `AcctSvcrRef` is derived from what the entry books (original MsgId and PmtInfId, or the
//! EndToEndId and kind), never from the report, so the same booking keeps its reference in
//! every notification that repeats it, as a bank's reference does; ingest may key on it.

use std::ops::RangeInclusive;

use chrono::{FixedOffset, NaiveDate, NaiveTime};
use sha2::{Digest, Sha256};

use super::model::{OriginalGroup, OriginalTransaction, Outcome, ReasonCode};
use super::xml::{Tags, Xml, agent, date_time};
use super::{BankError, BankReply, Camt054Version, ReportHeader, sum_cents};
use crate::sepa::pain008::LocalInstrument;

const MESSAGE: &str = "BkToCstmrDbtCdtNtfctn";

/// Why money moved back to the debtor.
#[derive(Clone, Copy)]
enum Back {
    Return(ReasonCode),
    Refund(ReasonCode),
}

/// One booking on the creditor's account.
enum Booking<'a> {
    /// A payment group's settled transactions, credited together.
    Batch {
        group: &'a OriginalGroup,
        transactions: Vec<&'a OriginalTransaction>,
        total: i64,
    },
    /// One settled transaction debited back.
    Back {
        group: &'a OriginalGroup,
        transaction: &'a OriginalTransaction,
        back: Back,
        booked_on: NaiveDate,
    },
}

impl Booking<'_> {
    fn booked_on(&self) -> NaiveDate {
        match self {
            Self::Batch { group, .. } => group.collection_date,
            Self::Back { booked_on, .. } => *booked_on,
        }
    }

    fn cents(&self) -> i64 {
        match self {
            Self::Batch { total, .. } => *total,
            Self::Back { transaction, .. } => transaction.amount.cents(),
        }
    }

    fn is_credit(&self) -> bool {
        matches!(self, Self::Batch { .. })
    }
}

/// Every booking the decisions lead to, in booking order (a day's batch credits before
/// the returns booked the same day, file order otherwise).
fn bookings<'a>(reply: &BankReply<'a>) -> Result<Vec<Booking<'a>>, BankError> {
    let mut all = Vec::new();
    for (g, group) in reply.original.groups.iter().enumerate() {
        if reply.group_rejected(g) {
            continue;
        }
        let settled: Vec<(usize, &OriginalTransaction)> = group
            .transactions
            .iter()
            .enumerate()
            .filter(|(t, _)| reply.outcome_at(g, *t).settled())
            .collect();
        if settled.is_empty() {
            continue;
        }
        let total = sum_cents(
            || format!("the batch of payment group {}", group.payment_info_id),
            settled.iter().map(|(_, tx)| tx.amount.cents()),
        )?;
        all.push(Booking::Batch {
            group,
            transactions: settled.iter().map(|(_, tx)| *tx).collect(),
            total,
        });
        for (t, transaction) in settled {
            let (back, booked_on) = match reply.outcome_at(g, t) {
                Outcome::Returned { reason, booked_on } => (Back::Return(reason), booked_on),
                Outcome::Refunded { reason, booked_on } => (Back::Refund(reason.code()), booked_on),
                Outcome::Accepted | Outcome::Rejected(_) => continue,
            };
            all.push(Booking::Back {
                group,
                transaction,
                back,
                booked_on,
            });
        }
    }
    // Stable: same-day bookings keep their order (a group's credit before its returns).
    all.sort_by_key(|b| (b.booked_on(), !b.is_credit()));
    Ok(all)
}

pub(super) fn write(
    reply: &BankReply<'_>,
    version: Camt054Version,
    header: &ReportHeader,
    booked: Option<&RangeInclusive<NaiveDate>>,
) -> Result<Vec<u8>, BankError> {
    let tags = Tags {
        v2019: version == Camt054Version::V08,
    };
    let original = reply.original;
    let creditor = &original.creditor;
    let created_at = date_time("report creation time", &header.created_at)?;
    let period = match booked {
        Some(days) => {
            let offset = *header.created_at.offset();
            Some((
                day_time(*days.start(), NaiveTime::MIN, offset)?,
                day_time(
                    *days.end(),
                    NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN),
                    offset,
                )?,
            ))
        }
        None => None,
    };
    let mut entries = bookings(reply)?;
    entries.retain(|b| booked.is_none_or(|days| days.contains(&b.booked_on())));
    let (credits, debits): (Vec<&Booking<'_>>, Vec<&Booking<'_>>) = entries.iter().partition(|b| b.is_credit());
    let credit_sum = sum_cents(|| "the credit entries".into(), credits.iter().map(|b| b.cents()))?;
    let debit_sum = sum_cents(|| "the debit entries".into(), debits.iter().map(|b| b.cents()))?;
    let all_sum = sum_cents(|| "the entries".into(), [credit_sum, debit_sum])?;

    let mut xml = Xml::document(
        &format!("urn:iso:std:iso:20022:tech:xsd:{}", version.message_name()),
        MESSAGE,
    );
    xml.open("GrpHdr");
    xml.leaf("MsgId", header.message_id.as_str());
    xml.leaf("CreDtTm", &created_at);
    xml.open("MsgPgntn");
    xml.leaf("PgNb", "1");
    xml.leaf("LastPgInd", "true");
    xml.close("MsgPgntn");
    xml.close("GrpHdr");

    xml.open("Ntfctn");
    xml.leaf("Id", header.message_id.as_str());
    xml.leaf("CreDtTm", &created_at);
    if let Some((from, to)) = &period {
        xml.open("FrToDt");
        xml.leaf("FrDtTm", from);
        xml.leaf("ToDtTm", to);
        xml.close("FrToDt");
    }
    xml.open("Acct");
    xml.wrapped("Id", "IBAN", creditor.iban.as_str());
    xml.leaf("Ccy", "EUR");
    xml.wrapped("Ownr", "Nm", creditor.name.as_str());
    if let Some(bic) = &creditor.bic {
        agent(&mut xml, tags, "Svcr", bic);
    }
    xml.close("Acct");
    xml.open("TxsSummry");
    for (tag, nb, sum) in [
        ("TtlNtries", entries.len(), all_sum),
        ("TtlCdtNtries", credits.len(), credit_sum),
        ("TtlDbtNtries", debits.len(), debit_sum),
    ] {
        xml.open(tag);
        xml.leaf("NbOfNtries", &nb.to_string());
        xml.decimal("Sum", sum);
        xml.close(tag);
    }
    xml.close("TxsSummry");
    for booking in &entries {
        entry(&mut xml, reply, tags, booking);
    }
    xml.close("Ntfctn");
    Ok(xml.finish(MESSAGE))
}

/// Midnight (or end of day) of `day` in the report's time zone, as `xs:dateTime`.
fn day_time(day: NaiveDate, time: NaiveTime, offset: FixedOffset) -> Result<String, BankError> {
    let at = day
        .and_time(time)
        .and_local_timezone(offset)
        .single()
        .ok_or(BankError::DateTime {
            what: "notification period",
            value: day.to_string(),
            reason: "has no single local time in the report's offset",
        })?;
    date_time("notification period", &at)
}

/// A bank's stable reference for a booking: the same booking gets the same one in every
/// report, another booking another one.
fn servicer_reference(parts: &[&str]) -> String {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update(part.as_bytes());
        hash.update([0u8]);
    }
    let digest = hash.finalize();
    let mut reference = String::from("SDD");
    for byte in &digest[..8] {
        reference.push_str(&format!("{byte:02X}"));
    }
    reference
}

fn entry(xml: &mut Xml, reply: &BankReply<'_>, tags: Tags, booking: &Booking<'_>) {
    let message_id = reply.original.message_id.as_str();
    let (group, credit) = match booking {
        Booking::Batch { group, .. } => (*group, true),
        Booking::Back { group, .. } => (*group, false),
    };
    let collection_code = match group.local_instrument {
        LocalInstrument::Core => "ESDD",
        LocalInstrument::B2b => "BBDD",
    };
    let sub_family = if credit { collection_code } else { "UPDD" };
    let reference = match booking {
        Booking::Batch { .. } => servicer_reference(&["batch", message_id, group.payment_info_id.as_str()]),
        Booking::Back { transaction, back, .. } => {
            let kind = match back {
                Back::Return(_) => "return",
                Back::Refund(_) => "refund",
            };
            servicer_reference(&[kind, message_id, transaction.end_to_end_id.as_str()])
        }
    };

    xml.open("Ntry");
    xml.amount("Amt", booking.cents());
    xml.leaf("CdtDbtInd", if credit { "CRDT" } else { "DBIT" });
    if !credit {
        // The debit undoes the earlier credit: banks flag it as a reversal (ABN AMRO's
        // unpaid direct debits in the samples carry RvslInd=true).
        xml.leaf("RvslInd", "true");
    }
    if tags.v2019 {
        xml.wrapped("Sts", "Cd", "BOOK");
    } else {
        xml.leaf("Sts", "BOOK");
    }
    xml.wrapped("BookgDt", "Dt", &booking.booked_on().format("%Y-%m-%d").to_string());
    xml.wrapped("ValDt", "Dt", &booking.booked_on().format("%Y-%m-%d").to_string());
    xml.leaf("AcctSvcrRef", &reference);
    bank_transaction_code(xml, "BkTxCd", sub_family);
    xml.open("NtryDtls");
    match booking {
        Booking::Batch {
            transactions, total, ..
        } => {
            xml.open("Btch");
            xml.leaf("MsgId", message_id);
            xml.leaf("PmtInfId", group.payment_info_id.as_str());
            xml.leaf("NbOfTxs", &transactions.len().to_string());
            xml.amount("TtlAmt", *total);
            xml.leaf("CdtDbtInd", "CRDT");
            xml.close("Btch");
            for tx in transactions {
                transaction(xml, reply, tags, group, tx, sub_family, None);
            }
        }
        Booking::Back {
            transaction: tx, back, ..
        } => transaction(xml, reply, tags, group, tx, sub_family, Some((*back, collection_code))),
    }
    xml.close("NtryDtls");
    let info = match booking {
        Booking::Batch { transactions, .. } => format!(
            "SEPA {} DIRECT DEBIT COLLECTION {} TXS {}",
            group.local_instrument.code(),
            transactions.len(),
            group.payment_info_id
        ),
        Booking::Back {
            back: Back::Return(code),
            transaction,
            ..
        } => format!("SEPA DIRECT DEBIT RETURN {code} {}", transaction.end_to_end_id),
        Booking::Back {
            back: Back::Refund(code),
            transaction,
            ..
        } => format!("SEPA DIRECT DEBIT REFUND {code} {}", transaction.end_to_end_id),
    };
    xml.leaf("AddtlNtryInf", &info);
    xml.close("Ntry");
}

/// One `TxDtls`; `back` is the return or refund with the original collection's sub-family.
fn transaction(
    xml: &mut Xml,
    reply: &BankReply<'_>,
    tags: Tags,
    group: &OriginalGroup,
    tx: &OriginalTransaction,
    sub_family: &str,
    back: Option<(Back, &str)>,
) {
    let creditor = &reply.original.creditor;
    xml.open("TxDtls");
    xml.open("Refs");
    xml.leaf("MsgId", reply.original.message_id.as_str());
    xml.leaf("PmtInfId", group.payment_info_id.as_str());
    xml.leaf("EndToEndId", tx.end_to_end_id.as_str());
    xml.leaf("MndtId", tx.mandate_id.as_str());
    xml.close("Refs");
    if tags.v2019 {
        xml.amount("Amt", tx.amount.cents());
        xml.leaf("CdtDbtInd", if back.is_some() { "DBIT" } else { "CRDT" });
    }
    xml.open("AmtDtls");
    for tag in ["InstdAmt", "TxAmt"] {
        xml.open(tag);
        xml.amount("Amt", tx.amount.cents());
        xml.close(tag);
    }
    xml.close("AmtDtls");
    bank_transaction_code(xml, "BkTxCd", sub_family);

    xml.open("RltdPties");
    xml.open("Dbtr");
    if tags.v2019 {
        xml.open("Pty");
    }
    xml.leaf("Nm", tx.debtor_name.as_str());
    if tags.v2019 {
        xml.close("Pty");
    }
    xml.close("Dbtr");
    xml.open("DbtrAcct");
    xml.wrapped("Id", "IBAN", tx.debtor_iban.as_str());
    xml.close("DbtrAcct");
    xml.open("Cdtr");
    if tags.v2019 {
        xml.open("Pty");
    }
    xml.leaf("Nm", creditor.name.as_str());
    xml.scheme_id(creditor.id.as_str());
    if tags.v2019 {
        xml.close("Pty");
    }
    xml.close("Cdtr");
    xml.open("CdtrAcct");
    xml.wrapped("Id", "IBAN", creditor.iban.as_str());
    xml.close("CdtrAcct");
    xml.close("RltdPties");

    if tx.debtor_bic.is_some() || creditor.bic.is_some() {
        xml.open("RltdAgts");
        if let Some(bic) = &tx.debtor_bic {
            agent(xml, tags, "DbtrAgt", bic);
        }
        if let Some(bic) = &creditor.bic {
            agent(xml, tags, "CdtrAgt", bic);
        }
        xml.close("RltdAgts");
    }
    if tags.v2019 {
        xml.wrapped("LclInstrm", "Cd", group.local_instrument.code());
    }
    if let Some(text) = &tx.remittance {
        xml.wrapped("RmtInf", "Ustrd", text.as_str());
    }
    xml.open("RltdDts");
    xml.date("IntrBkSttlmDt", group.collection_date);
    xml.close("RltdDts");

    if let Some((back, original_sub_family)) = back {
        let (code, kind) = match back {
            Back::Return(code) => (code, "/RTYP/RTRN"),
            Back::Refund(code) => (code, "/RTYP/RFND"),
        };
        xml.open("RtrInf");
        bank_transaction_code(xml, "OrgnlBkTxCd", original_sub_family);
        if let Some(bic) = &tx.debtor_bic {
            xml.open("Orgtr");
            xml.open("Id");
            xml.wrapped("OrgId", tags.party_bic(), bic.as_str());
            xml.close("Id");
            xml.close("Orgtr");
        }
        xml.wrapped("Rsn", "Cd", code.as_str());
        xml.leaf("AddtlInf", kind);
        if let Some(name) = code.name() {
            xml.leaf("AddtlInf", name);
        }
        xml.close("RtrInf");
    }
    xml.close("TxDtls");
}

/// `Domn/Cd` PMNT, `Fmly/Cd` IDDT (issued direct debits) and the given sub-family.
fn bank_transaction_code(xml: &mut Xml, tag: &str, sub_family: &str) {
    xml.open(tag);
    xml.open("Domn");
    xml.leaf("Cd", "PMNT");
    xml.open("Fmly");
    xml.leaf("Cd", "IDDT");
    xml.leaf("SubFmlyCd", sub_family);
    xml.close("Fmly");
    xml.close("Domn");
    xml.close(tag);
}
