//! The streaming pain.008 writer.
//!
//! A message is written front to back: the group header and each payment group's header come
//! before their transactions, so their counts and sums are declared up front by the caller
//! (who reads the collections twice, or counts while selecting). The writer then checks, at
//! the end of each group and of the message, that what it wrote is what was declared. Nothing
//! is kept per transaction, so memory does not grow with the size of the file.
//!
//! On any error the writer stops: the output so far is an unfinished document (never closed,
//! so not even well-formed) that the caller must discard, which the outbox's temp-file-then-
//! rename protocol does by itself.

use std::collections::HashSet;
use std::io::Write;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Offset};

use super::checks::{TransactionProblem, problems};
use super::model::{
    AddressStyle, Creditor, GroupHeader, OriginalDebtorAccount, Pain008Version, PaymentGroup, PostalAddress, Profile,
    Transaction,
};
use super::xml::XmlOut;
use crate::sepa::money::{MAX_CENTS, format_cents};
use crate::sepa::{Bic, CreditorId, Iban, PaymentInfoId};

/// Bytes gathered before they are handed to the underlying writer.
const FLUSH_AT: usize = 64 * 1024;
/// `Max15NumericText`: the largest `NbOfTxs` the XSD accepts.
const MAX_NB_OF_TXS: u64 = 999_999_999_999_999;
/// `DecimalNumber` has at most 18 digits: the largest control sum, in cents.
const MAX_CTRL_SUM_CENTS: i128 = 999_999_999_999_999_999;

/// Why a pain.008 could not be written; the partial output must be discarded.
#[derive(Debug, thiserror::Error)]
pub enum Pain008Error {
    /// The underlying writer failed.
    #[error("writing the pain.008 failed: {0}")]
    Io(#[from] std::io::Error),
    /// A method was called out of order (e.g. a transaction outside any payment group).
    #[error("{call} called {context}")]
    Order {
        /// The method called.
        call: &'static str,
        /// What was wrong with calling it then.
        context: String,
    },
    /// A declared count or sum is impossible before anything is counted.
    #[error("{scope} declares {what}: {reason}")]
    Declaration {
        /// The group header or payment group concerned.
        scope: String,
        /// The declared value, as written.
        what: String,
        /// Why no correct message can carry it.
        reason: &'static str,
    },
    /// Fewer or more transactions were written than declared.
    #[error("{scope} declares {declared} transactions but {written} were written")]
    CountMismatch {
        /// The group header or payment group concerned.
        scope: String,
        /// Declared `NbOfTxs`.
        declared: u64,
        /// Transactions written (so far, when there are too many).
        written: u64,
    },
    /// The amounts written do not add up to the declared control sum.
    #[error("{scope} declares a control sum of {declared} but its transactions add up to {written}")]
    SumMismatch {
        /// The group header or payment group concerned.
        scope: String,
        /// Declared `CtrlSum`.
        declared: String,
        /// Sum of the amounts written.
        written: String,
    },
    /// Two payment groups of one message share a `PmtInfId`.
    #[error("payment information id {0} is used by two payment groups of the message")]
    DuplicatePaymentInfoId(String),
    /// A date or time the XSD cannot carry.
    #[error("{what} {value} cannot be written: {reason}")]
    DateTime {
        /// Which date.
        what: &'static str,
        /// The value given.
        value: String,
        /// Why not.
        reason: &'static str,
    },
    /// The creditor banks outside the EEA without an address (EPC rulebook).
    #[error("creditor account is in {0} (outside the EEA) and the creditor has no postal address")]
    CreditorWithoutAddress(String),
    /// A transaction breaks an EPC rule between its fields.
    #[error("transaction {end_to_end_id}: {problem}")]
    Transaction {
        /// Its end-to-end id.
        end_to_end_id: String,
        /// The rule broken.
        problem: TransactionProblem,
    },
    /// An earlier error already left the document unfinished.
    #[error("an earlier error left this pain.008 unfinished; discard the output")]
    Failed,
}

/// The payment group being written.
struct OpenGroup {
    id: PaymentInfoId,
    date: NaiveDate,
    declared_nb: u64,
    declared_sum: i64,
    nb: u64,
    sum: i128,
}

impl OpenGroup {
    fn scope(&self) -> String {
        format!("payment group {}", self.id)
    }
}

/// Writes one pain.008 message to `W`, group by group, transaction by transaction.
///
/// Usage: [`start`](Self::start), then for each group [`begin_group`](Self::begin_group),
/// [`transaction`](Self::transaction)s and [`end_group`](Self::end_group), then
/// [`finish`](Self::finish). Output is buffered internally (64 KiB at a time), so `W` can be a
/// plain `File`.
pub struct Pain008Writer<W: Write> {
    out: W,
    buf: Vec<u8>,
    profile: Profile,
    bic_tag: &'static str,
    creditor_id: CreditorId,
    /// Whose country decides whether every debtor needs an address.
    creditor_iban: Iban,
    /// Everything of a `PmtInf` from `Cdtr` to `CdtrSchmeId`: the same in every group.
    group_tail: Vec<u8>,
    message_scope: String,
    declared_nb: u64,
    declared_sum: i64,
    nb: u64,
    sum: i128,
    group: Option<OpenGroup>,
    group_ids: HashSet<PaymentInfoId>,
    failed: bool,
}

/// The BIC element's name: `BIC` in `.02`, `BICFI` in `.08`.
fn bic_tag(version: Pain008Version) -> &'static str {
    match version {
        Pain008Version::V02 => "BIC",
        Pain008Version::V08 => "BICFI",
    }
}

/// Refuses counts and sums no valid message can declare, before a byte is written.
fn check_declaration(scope: &str, nb: u64, sum_cents: i64) -> Result<(), Pain008Error> {
    let refuse = |what: String, reason| Pain008Error::Declaration {
        scope: scope.to_owned(),
        what,
        reason,
    };
    if nb == 0 {
        return Err(refuse(
            "0 transactions".into(),
            "a pain.008 message and each of its payment groups need at least one",
        ));
    }
    if nb > MAX_NB_OF_TXS {
        return Err(refuse(format!("{nb} transactions"), "NbOfTxs has at most 15 digits"));
    }
    let sum = i128::from(sum_cents);
    if sum < i128::from(nb) || sum > i128::from(nb) * i128::from(MAX_CENTS) {
        return Err(refuse(
            format!("a control sum of {} for {nb} transactions", format_cents(sum_cents)),
            "each transaction carries 0.01 to 999999999.99",
        ));
    }
    if sum > MAX_CTRL_SUM_CENTS {
        return Err(refuse(
            format!("a control sum of {}", format_cents(sum_cents)),
            "CtrlSum has at most 18 digits",
        ));
    }
    Ok(())
}

/// `ISODate` has four-digit years; chrono's dates go further.
fn check_date(what: &'static str, date: NaiveDate) -> Result<(), Pain008Error> {
    if (1..=9999).contains(&date.year()) {
        Ok(())
    } else {
        Err(Pain008Error::DateTime {
            what,
            value: date.to_string(),
            reason: "ISO dates have four-digit years",
        })
    }
}

/// `CreDtTm` as `xs:dateTime` with its explicit offset (`2026-11-20T06:00:00+01:00`).
fn creation_time(at: &DateTime<FixedOffset>) -> Result<String, Pain008Error> {
    let offset = at.offset().fix().local_minus_utc();
    let refuse = |reason| Pain008Error::DateTime {
        what: "creation time",
        value: at.to_rfc3339(),
        reason,
    };
    if offset % 60 != 0 || offset.abs() > 14 * 3600 {
        return Err(refuse("an XML time zone is whole minutes between -14:00 and +14:00"));
    }
    check_date("creation time", at.date_naive()).map_err(|_| refuse("four-digit years only"))?;
    Ok(at.format("%Y-%m-%dT%H:%M:%S%:z").to_string())
}

/// Writes a postal address (`PstlAdr`) at `indent`, as the profile's style wants it.
fn postal_address(buf: &mut Vec<u8>, indent: usize, a: &PostalAddress, style: AddressStyle) {
    buf.line(indent, "<PstlAdr>");
    let inner = indent + 2;
    if let Some(s) = a.street() {
        buf.leaf(inner, "StrtNm", s.as_str());
    }
    if let Some(n) = a.building_number() {
        buf.leaf(inner, "BldgNb", n.as_str());
    }
    if let Some(p) = a.postcode() {
        buf.leaf(inner, "PstCd", p.as_str());
    }
    buf.leaf(inner, "TwnNm", a.town().as_str());
    buf.leaf(inner, "Ctry", a.country().as_str());
    if style == AddressStyle::Hybrid {
        for line in a.address_lines() {
            buf.leaf(inner, "AdrLine", line.as_str());
        }
    }
    buf.line(indent, "</PstlAdr>");
}

/// Writes `FinInstnId` content for an agent at `indent`: its BIC, or `NOTPROVIDED`
/// (IBAN-only), which is never put in the BIC element where a bank would read it as one.
fn agent(buf: &mut Vec<u8>, tag: &str, indent: usize, bic: Option<&Bic>) {
    match bic {
        Some(bic) => buf.leaf(indent, tag, bic.as_str()),
        None => {
            buf.line(indent, "<Othr>");
            buf.leaf(indent + 2, "Id", "NOTPROVIDED");
            buf.line(indent, "</Othr>");
        }
    }
}

/// Writes `Id/PrvtId/Othr/Id` + `SchmeNm/Prtry` SEPA for a creditor identifier at `indent`.
fn scheme_id(buf: &mut Vec<u8>, indent: usize, id: &CreditorId) {
    buf.line(indent, "<Id>");
    buf.line(indent + 2, "<PrvtId>");
    buf.line(indent + 4, "<Othr>");
    buf.leaf(indent + 6, "Id", id.as_str());
    buf.line(indent + 6, "<SchmeNm>");
    buf.leaf(indent + 8, "Prtry", "SEPA");
    buf.line(indent + 6, "</SchmeNm>");
    buf.line(indent + 4, "</Othr>");
    buf.line(indent + 2, "</PrvtId>");
    buf.line(indent, "</Id>");
}

impl<W: Write> Pain008Writer<W> {
    /// Writes the document start and the group header declaring `header`'s count and sum.
    pub fn start(out: W, profile: Profile, creditor: &Creditor, header: &GroupHeader) -> Result<Self, Pain008Error> {
        let message_scope = format!("group header of message {}", header.message_id);
        check_declaration(&message_scope, header.nb_of_txs, header.ctrl_sum_cents)?;
        let created_at = creation_time(&header.created_at)?;
        if creditor.iban.requires_debtor_address() && creditor.address.is_none() {
            return Err(Pain008Error::CreditorWithoutAddress(creditor.iban.country().to_owned()));
        }
        let bic_tag = bic_tag(profile.version);
        let mut buf = Vec::with_capacity(FLUSH_AT + 8 * 1024);
        buf.raw(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"");
        buf.raw(profile.version.namespace().as_bytes());
        buf.raw(b"\">\n  <CstmrDrctDbtInitn>\n    <GrpHdr>\n      <MsgId>");
        buf.text(header.message_id.as_str());
        buf.raw(b"</MsgId>\n      <CreDtTm>");
        buf.raw(created_at.as_bytes());
        buf.raw(b"</CreDtTm>\n      <NbOfTxs>");
        buf.count(header.nb_of_txs);
        buf.raw(b"</NbOfTxs>");
        if profile.group_ctrl_sum {
            buf.raw(b"\n      <CtrlSum>");
            buf.cents(header.ctrl_sum_cents);
            buf.raw(b"</CtrlSum>");
        }
        buf.raw(b"\n      <InitgPty>\n        <Nm>");
        buf.text(header.initiating_party.as_ref().unwrap_or(&creditor.name).as_str());
        buf.raw(b"</Nm>\n      </InitgPty>\n    </GrpHdr>");

        let mut tail = Vec::with_capacity(1024);
        tail.line(6, "<Cdtr>");
        tail.leaf(8, "Nm", creditor.name.as_str());
        if let Some(a) = &creditor.address {
            postal_address(&mut tail, 8, a, profile.address_style);
        }
        tail.line(6, "</Cdtr>");
        tail.line(6, "<CdtrAcct>");
        tail.line(8, "<Id>");
        tail.leaf(10, "IBAN", creditor.iban.as_str());
        tail.line(8, "</Id>");
        tail.line(6, "</CdtrAcct>");
        tail.line(6, "<CdtrAgt>");
        tail.line(8, "<FinInstnId>");
        let creditor_bic = creditor
            .bic
            .as_ref()
            .filter(|_| profile.include_bic || creditor.iban.requires_debtor_address());
        agent(&mut tail, bic_tag, 10, creditor_bic);
        tail.line(8, "</FinInstnId>");
        tail.line(6, "</CdtrAgt>");
        tail.leaf(6, "ChrgBr", "SLEV");
        tail.line(6, "<CdtrSchmeId>");
        scheme_id(&mut tail, 8, &creditor.id);
        tail.line(6, "</CdtrSchmeId>");

        Ok(Self {
            out,
            buf,
            profile,
            bic_tag,
            creditor_id: creditor.id.clone(),
            creditor_iban: creditor.iban.clone(),
            group_tail: tail,
            message_scope,
            declared_nb: header.nb_of_txs,
            declared_sum: header.ctrl_sum_cents,
            nb: 0,
            sum: 0,
            group: None,
            group_ids: HashSet::new(),
            failed: false,
        })
    }

    /// Marks the writer failed when `result` is an error, so no later call can finish it.
    fn track<T>(&mut self, result: Result<T, Pain008Error>) -> Result<T, Pain008Error> {
        if result.is_err() {
            self.failed = true;
        }
        result
    }

    fn usable(&self) -> Result<(), Pain008Error> {
        if self.failed { Err(Pain008Error::Failed) } else { Ok(()) }
    }

    /// Opens a payment group (`PmtInf`) declaring `group`'s count and sum.
    pub fn begin_group(&mut self, group: &PaymentGroup) -> Result<(), Pain008Error> {
        self.usable()?;
        let result = self.write_group_start(group);
        self.track(result)
    }

    fn write_group_start(&mut self, group: &PaymentGroup) -> Result<(), Pain008Error> {
        if let Some(open) = &self.group {
            return Err(Pain008Error::Order {
                call: "begin_group()",
                context: format!("while {} is still open", open.scope()),
            });
        }
        let scope = format!("payment group {}", group.payment_info_id);
        check_declaration(&scope, group.nb_of_txs, group.ctrl_sum_cents)?;
        check_date("requested collection date", group.collection_date)?;
        let after = self.nb.saturating_add(group.nb_of_txs);
        if after > self.declared_nb {
            return Err(Pain008Error::CountMismatch {
                scope: self.message_scope.clone(),
                declared: self.declared_nb,
                written: after,
            });
        }
        if !self.group_ids.insert(group.payment_info_id.clone()) {
            return Err(Pain008Error::DuplicatePaymentInfoId(group.payment_info_id.to_string()));
        }
        let b = &mut self.buf;
        b.raw(b"\n    <PmtInf>\n      <PmtInfId>");
        b.text(group.payment_info_id.as_str());
        b.raw(b"</PmtInfId>\n      <PmtMtd>DD</PmtMtd>\n      <BtchBookg>");
        b.raw(if self.profile.batch_booking { b"true" } else { b"false" });
        b.raw(b"</BtchBookg>\n      <NbOfTxs>");
        b.count(group.nb_of_txs);
        b.raw(b"</NbOfTxs>\n      <CtrlSum>");
        b.cents(group.ctrl_sum_cents);
        b.raw(b"</CtrlSum>\n      <PmtTpInf>\n        <SvcLvl>\n          <Cd>SEPA</Cd>\n        </SvcLvl>\n        <LclInstrm>\n          <Cd>");
        b.raw(self.profile.local_instrument.code().as_bytes());
        b.raw(b"</Cd>\n        </LclInstrm>\n        <SeqTp>");
        b.raw(group.sequence_type.code().as_bytes());
        b.raw(b"</SeqTp>\n      </PmtTpInf>\n      <ReqdColltnDt>");
        b.date(group.collection_date);
        b.raw(b"</ReqdColltnDt>");
        b.raw(&self.group_tail);
        self.group = Some(OpenGroup {
            id: group.payment_info_id.clone(),
            date: group.collection_date,
            declared_nb: group.nb_of_txs,
            declared_sum: group.ctrl_sum_cents,
            nb: 0,
            sum: 0,
        });
        Ok(())
    }

    /// Writes one transaction (`DrctDbtTxInf`) into the open payment group.
    pub fn transaction(&mut self, tx: &Transaction) -> Result<(), Pain008Error> {
        self.usable()?;
        let result = self.write_transaction(tx);
        self.track(result)
    }

    fn write_transaction(&mut self, tx: &Transaction) -> Result<(), Pain008Error> {
        let Some(group) = self.group.as_mut() else {
            return Err(Pain008Error::Order {
                call: "transaction()",
                context: "outside a payment group".into(),
            });
        };
        if group.nb == group.declared_nb {
            return Err(Pain008Error::CountMismatch {
                scope: group.scope(),
                declared: group.declared_nb,
                written: group.nb + 1,
            });
        }
        if let Some(problem) = problems(tx, &self.creditor_id, &self.creditor_iban, group.date).next() {
            return Err(Pain008Error::Transaction {
                end_to_end_id: tx.end_to_end_id.to_string(),
                problem,
            });
        }
        check_date("mandate signature date", tx.mandate_signed_on)?;

        let b = &mut self.buf;
        b.raw(b"\n      <DrctDbtTxInf>\n        <PmtId>\n          <EndToEndId>");
        b.text(tx.end_to_end_id.as_str());
        b.raw(b"</EndToEndId>\n        </PmtId>\n        <InstdAmt Ccy=\"EUR\">");
        b.cents(tx.amount.cents());
        b.raw(b"</InstdAmt>\n        <DrctDbtTx>\n          <MndtRltdInf>\n            <MndtId>");
        b.text(tx.mandate_id.as_str());
        b.raw(b"</MndtId>\n            <DtOfSgntr>");
        b.date(tx.mandate_signed_on);
        b.raw(b"</DtOfSgntr>");
        if let Some(a) = &tx.amendment {
            b.raw(b"\n            <AmdmntInd>true</AmdmntInd>\n            <AmdmntInfDtls>");
            if let Some(id) = a.original_mandate_id() {
                b.leaf(14, "OrgnlMndtId", id.as_str());
            }
            if let Some(id) = a.original_creditor_id() {
                b.line(14, "<OrgnlCdtrSchmeId>");
                scheme_id(b, 16, id);
                b.line(14, "</OrgnlCdtrSchmeId>");
            }
            if let Some(acct) = a.original_debtor_account() {
                b.line(14, "<OrgnlDbtrAcct>");
                b.line(16, "<Id>");
                match acct {
                    OriginalDebtorAccount::Iban(iban) => b.leaf(18, "IBAN", iban.as_str()),
                    OriginalDebtorAccount::Smnda => {
                        b.line(18, "<Othr>");
                        b.leaf(20, "Id", "SMNDA");
                        b.line(18, "</Othr>");
                    }
                }
                b.line(16, "</Id>");
                b.line(14, "</OrgnlDbtrAcct>");
            }
            b.raw(b"\n            </AmdmntInfDtls>");
        }
        b.raw(b"\n          </MndtRltdInf>\n        </DrctDbtTx>\n        <DbtrAgt>\n          <FinInstnId>");
        let non_eea = tx.debtor_iban.requires_debtor_address();
        let bic = tx.debtor_bic.as_ref().filter(|_| self.profile.include_bic || non_eea);
        agent(b, self.bic_tag, 12, bic);
        b.raw(b"\n          </FinInstnId>\n        </DbtrAgt>\n        <Dbtr>\n          <Nm>");
        b.text(tx.debtor_name.as_str());
        b.raw(b"</Nm>");
        if let Some(a) = &tx.debtor_address {
            postal_address(b, 10, a, self.profile.address_style);
        }
        b.raw(b"\n        </Dbtr>\n        <DbtrAcct>\n          <Id>\n            <IBAN>");
        b.text(tx.debtor_iban.as_str());
        b.raw(b"</IBAN>\n          </Id>\n        </DbtrAcct>");
        if let Some(r) = &tx.remittance {
            b.raw(b"\n        <RmtInf>\n          <Ustrd>");
            b.text(r.as_str());
            b.raw(b"</Ustrd>\n        </RmtInf>");
        }
        b.raw(b"\n      </DrctDbtTxInf>");

        group.nb += 1;
        group.sum += i128::from(tx.amount.cents());
        if self.buf.len() >= FLUSH_AT {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Closes the open payment group after checking its declared count and sum.
    pub fn end_group(&mut self) -> Result<(), Pain008Error> {
        self.usable()?;
        let result = self.write_group_end();
        self.track(result)
    }

    fn write_group_end(&mut self) -> Result<(), Pain008Error> {
        let Some(group) = self.group.take() else {
            return Err(Pain008Error::Order {
                call: "end_group()",
                context: "with no payment group open".into(),
            });
        };
        if group.nb != group.declared_nb {
            return Err(Pain008Error::CountMismatch {
                scope: group.scope(),
                declared: group.declared_nb,
                written: group.nb,
            });
        }
        if group.sum != i128::from(group.declared_sum) {
            return Err(Pain008Error::SumMismatch {
                scope: group.scope(),
                declared: format_cents(group.declared_sum),
                written: format_sum(group.sum),
            });
        }
        self.nb += group.nb;
        self.sum += group.sum;
        self.buf.raw(b"\n    </PmtInf>");
        Ok(())
    }

    /// Closes the document after checking the group header's declared count and sum, flushes
    /// everything and hands the underlying writer back.
    pub fn finish(mut self) -> Result<W, Pain008Error> {
        self.usable()?;
        if let Some(open) = &self.group {
            return Err(Pain008Error::Order {
                call: "finish()",
                context: format!("while {} is still open", open.scope()),
            });
        }
        if self.nb != self.declared_nb {
            return Err(Pain008Error::CountMismatch {
                scope: self.message_scope,
                declared: self.declared_nb,
                written: self.nb,
            });
        }
        if self.sum != i128::from(self.declared_sum) {
            return Err(Pain008Error::SumMismatch {
                scope: self.message_scope,
                declared: format_cents(self.declared_sum),
                written: format_sum(self.sum),
            });
        }
        self.buf.raw(b"\n  </CstmrDrctDbtInitn>\n</Document>\n");
        self.out.write_all(&self.buf)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Formats a written sum for an error message (it may exceed `i64` only in theory).
fn format_sum(cents: i128) -> String {
    i64::try_from(cents).map_or_else(|_| format!("{cents} cents"), format_cents)
}
