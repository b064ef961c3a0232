//! pain.002 customer payment status reports, read as a stream of status records.
//!
//! A pain.002 answers one of our pain.008 files before settlement, at three levels: the whole
//! message (`OrgnlGrpInfAndSts`), each payment-information block (`OrgnlPmtInfAndSts`) and
//! each transaction (`TxInfAndSts`). A status at a higher level covers every transaction
//! under it, listed or not, so the records keep the levels apart instead of expanding them:
//! the ingest job knows which collections a block held.

use std::io::BufRead;

use chrono::NaiveDate;
use serde::Serialize;

use super::classify::{RKind, status_reject_kind};
use super::detect::MessageType;
use super::error::Warning;
use super::value::{Amount, Warnings, parse_count, parse_decimal_cents, parse_iso_date};
use super::xml::{Step, XmlCursor};
use super::{ReportError, split_first};

/// Reasons kept per status (`StsRsnInf`) and lines kept per reason (`AddtlInf`): the schema
/// leaves both unbounded and one record must stay small.
const MAX_REPEATS: usize = 16;

/// One `StsRsnInf`: the ISO code (or the bank's proprietary one) and its free text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StatusReason {
    /// `Rsn/Cd`: an ISO external status reason code such as `AM04`.
    pub code: Option<String>,
    /// `Rsn/Prtry`: a bank-specific code, used when there is no ISO one.
    pub proprietary: Option<String>,
    /// `AddtlInf` lines, as written.
    pub additional_info: Vec<String>,
}

impl StatusReason {
    /// The code to act on: the ISO code, else the proprietary one.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref().or(self.proprietary.as_deref())
    }
}

/// The message-level part: `GrpHdr` and `OrgnlGrpInfAndSts`. Always the first record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GroupStatus {
    /// `GrpHdr/MsgId` of the report itself.
    pub message_id: Option<String>,
    /// Day of `GrpHdr/CreDtTm`: the date a reject is known, for the timeline.
    pub creation_date: Option<NaiveDate>,
    /// `OrgnlMsgId`: the MsgId of our pain.008 this report answers.
    pub original_message_id: Option<String>,
    /// `OrgnlMsgNmId`, as written (`pain.008.001.02`, `PAIN.008.001.02`, `NOTPROVIDED`...).
    pub original_message_name: Option<String>,
    /// `OrgnlNbOfTxs`.
    pub original_number_of_transactions: Option<u64>,
    /// `OrgnlCtrlSum` in hundredths (no currency in the schema).
    pub original_control_sum: Option<i64>,
    /// `GrpSts`: ACCP, ACTC, ACSP, PART, RJCT, RCVD, PDNG...
    pub status: Option<String>,
    /// Group-level `StsRsnInf`.
    pub reasons: Vec<StatusReason>,
    /// What could not be read at this level.
    pub warnings: Vec<Warning>,
}

impl GroupStatus {
    /// `Some(kind)` when the whole original message is rejected (`GrpSts` RJCT): every
    /// collection of that file failed, listed below or not.
    pub fn rejects_all(&self) -> Option<RKind> {
        status_reject_kind(self.status.as_deref(), &self.reasons)
    }
}

/// One `OrgnlPmtInfAndSts` block, reported after the transactions it lists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PaymentInfoStatus {
    /// `OrgnlPmtInfId`: our PmtInfId.
    pub original_payment_info_id: Option<String>,
    /// `OrgnlNbOfTxs`.
    pub original_number_of_transactions: Option<u64>,
    /// `OrgnlCtrlSum` in hundredths.
    pub original_control_sum: Option<i64>,
    /// `PmtInfSts`.
    pub status: Option<String>,
    /// Block-level `StsRsnInf`.
    pub reasons: Vec<StatusReason>,
    /// How many `TxInfAndSts` records the block held.
    pub transactions_listed: u64,
    /// What could not be read at this level.
    pub warnings: Vec<Warning>,
}

impl PaymentInfoStatus {
    /// `Some(kind)` when the whole block is rejected (`PmtInfSts` RJCT): every collection of
    /// that PmtInfId failed, listed or not.
    pub fn rejects_all(&self) -> Option<RKind> {
        status_reject_kind(self.status.as_deref(), &self.reasons)
    }
}

/// One `TxInfAndSts`: the status of one of our collections.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TransactionStatus {
    /// The `OrgnlPmtInfId` of the enclosing block.
    pub original_payment_info_id: Option<String>,
    /// `OrgnlInstrId`.
    pub original_instruction_id: Option<String>,
    /// `OrgnlEndToEndId`: the first key to our collection.
    pub original_end_to_end_id: Option<String>,
    /// `TxSts`.
    pub status: Option<String>,
    /// Transaction-level `StsRsnInf`.
    pub reasons: Vec<StatusReason>,
    /// `OrgnlTxRef/Amt/InstdAmt`, when the bank repeats it.
    pub amount: Option<Amount>,
    /// `OrgnlTxRef/ReqdColltnDt`.
    pub requested_collection_date: Option<NaiveDate>,
    /// `OrgnlTxRef/MndtRltdInf/MndtId`.
    pub mandate_id: Option<String>,
    /// `OrgnlTxRef/Dbtr/Nm` (or `Dbtr/Pty/Nm` in 2019 versions).
    pub debtor_name: Option<String>,
    /// `OrgnlTxRef/DbtrAcct/Id/IBAN`.
    pub debtor_iban: Option<String>,
    /// What could not be read in this record.
    pub warnings: Vec<Warning>,
}

impl TransactionStatus {
    /// `Some(kind)` when this transaction is rejected (`TxSts` RJCT): MS02 (the debtor said
    /// no) is a refusal, any other reason a reject.
    pub fn r_kind(&self) -> Option<RKind> {
        status_reject_kind(self.status.as_deref(), &self.reasons)
    }

    /// The reason code to record: the first `StsRsnInf` that has one.
    pub fn reason_code(&self) -> Option<&str> {
        self.reasons.iter().find_map(StatusReason::code)
    }
}

/// One record of a pain.002, in document order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Pain002Item {
    /// The message level; always first, exactly once.
    Group(GroupStatus),
    /// One transaction; its block's status, if any, was already in the file before it.
    Transaction(TransactionStatus),
    /// One payment-information block, after its transactions.
    PaymentInfo(PaymentInfoStatus),
}

/// Streams the records of one pain.002 with bounded memory.
pub struct Pain002Reader<R> {
    cursor: XmlCursor<R>,
    message: MessageType,
    state: State,
}

#[derive(Default)]
struct State {
    group: GroupStatus,
    group_warnings: Warnings,
    group_emitted: bool,
    payment_info: PaymentInfoStatus,
    payment_info_warnings: Warnings,
    transaction: TransactionStatus,
    transaction_warnings: Warnings,
    reason: StatusReason,
}

impl<R: BufRead> Pain002Reader<R> {
    pub(crate) fn new(cursor: XmlCursor<R>, message: MessageType) -> Self {
        Self {
            cursor,
            message,
            state: State::default(),
        }
    }

    /// The message read, e.g. `pain.002.001.03`.
    pub fn message(&self) -> &MessageType {
        &self.message
    }

    /// The next record, or `None` at the end of the document.
    pub fn next_item(&mut self) -> Result<Option<Pain002Item>, ReportError> {
        loop {
            let offset = self.cursor.offset();
            let item = match self.cursor.next()? {
                Step::Open => self.state.open(self.cursor.body_path(), offset),
                Step::Close => self.state.close(
                    self.cursor.body_path(),
                    self.cursor.text(),
                    self.cursor.attr(b"Ccy"),
                    self.cursor.offset(),
                ),
                Step::Eof => return Ok(self.state.emit_group_if_missing(offset)),
            };
            if item.is_some() {
                return Ok(item);
            }
        }
    }
}

impl State {
    fn open(&mut self, path: &[u8], offset: u64) -> Option<Pain002Item> {
        match path {
            b"OrgnlPmtInfAndSts" => {
                self.payment_info = PaymentInfoStatus::default();
                self.emit_group_if_missing(offset)
            }
            b"OrgnlPmtInfAndSts/TxInfAndSts" => {
                self.transaction = TransactionStatus::default();
                None
            }
            _ => None,
        }
    }

    fn close(&mut self, path: &[u8], text: &str, currency: Option<&str>, offset: u64) -> Option<Pain002Item> {
        let value = || (!text.is_empty()).then(|| text.to_owned());
        let (head, rest) = split_first(path);
        match head {
            b"GrpHdr" => match rest {
                b"MsgId" => self.group.message_id = value(),
                b"CreDtTm" => {
                    self.group.creation_date = self.group_warnings.parse(offset, path, text, parse_iso_date);
                }
                _ => {}
            },
            b"OrgnlGrpInfAndSts" => {
                let g = &mut self.group;
                let w = &mut self.group_warnings;
                match rest {
                    b"" => {
                        self.group_emitted = true;
                        return Some(self.take_group());
                    }
                    b"OrgnlMsgId" => g.original_message_id = value(),
                    b"OrgnlMsgNmId" => g.original_message_name = value(),
                    b"OrgnlNbOfTxs" => {
                        g.original_number_of_transactions = w.parse(offset, path, text, parse_count);
                    }
                    b"OrgnlCtrlSum" => {
                        g.original_control_sum = w.parse(offset, path, text, parse_decimal_cents);
                    }
                    b"GrpSts" => g.status = value(),
                    _ => reason_step(&mut self.reason, &mut g.reasons, w, rest, text, offset, path),
                }
            }
            b"OrgnlPmtInfAndSts" => {
                let (sub, tx_rest) = split_first(rest);
                if sub == b"TxInfAndSts" {
                    return self.close_transaction(tx_rest, path, text, currency, offset);
                }
                let p = &mut self.payment_info;
                let w = &mut self.payment_info_warnings;
                match rest {
                    b"" => {
                        p.warnings = w.take();
                        return Some(Pain002Item::PaymentInfo(std::mem::take(p)));
                    }
                    b"OrgnlPmtInfId" => p.original_payment_info_id = value(),
                    b"OrgnlNbOfTxs" => {
                        p.original_number_of_transactions = w.parse(offset, path, text, parse_count);
                    }
                    b"OrgnlCtrlSum" => {
                        p.original_control_sum = w.parse(offset, path, text, parse_decimal_cents);
                    }
                    b"PmtInfSts" => p.status = value(),
                    _ => reason_step(&mut self.reason, &mut p.reasons, w, rest, text, offset, path),
                }
            }
            _ => {}
        }
        None
    }

    fn close_transaction(
        &mut self,
        rest: &[u8],
        path: &[u8],
        text: &str,
        currency: Option<&str>,
        offset: u64,
    ) -> Option<Pain002Item> {
        let value = || (!text.is_empty()).then(|| text.to_owned());
        let t = &mut self.transaction;
        let w = &mut self.transaction_warnings;
        match rest {
            b"" => {
                t.original_payment_info_id = self.payment_info.original_payment_info_id.clone();
                t.warnings = w.take();
                self.payment_info.transactions_listed += 1;
                return Some(Pain002Item::Transaction(std::mem::take(t)));
            }
            b"OrgnlInstrId" => t.original_instruction_id = value(),
            b"OrgnlEndToEndId" => t.original_end_to_end_id = value(),
            b"TxSts" => t.status = value(),
            b"OrgnlTxRef/Amt/InstdAmt" => t.amount = w.amount(offset, path, text, currency),
            b"OrgnlTxRef/ReqdColltnDt" => {
                t.requested_collection_date = w.parse(offset, path, text, parse_iso_date);
            }
            b"OrgnlTxRef/MndtRltdInf/MndtId" => t.mandate_id = value(),
            b"OrgnlTxRef/Dbtr/Nm" | b"OrgnlTxRef/Dbtr/Pty/Nm" => t.debtor_name = value(),
            b"OrgnlTxRef/DbtrAcct/Id/IBAN" => t.debtor_iban = value(),
            _ => reason_step(&mut self.reason, &mut t.reasons, w, rest, text, offset, path),
        }
        None
    }

    /// Emits the message level before anything else, even when `OrgnlGrpInfAndSts` (which
    /// the schema requires) is missing, so consumers can rely on it coming first.
    fn emit_group_if_missing(&mut self, offset: u64) -> Option<Pain002Item> {
        if self.group_emitted {
            return None;
        }
        self.group_emitted = true;
        self.group_warnings.push(
            offset,
            b"OrgnlGrpInfAndSts",
            "missing: the original message and its group status are unknown",
        );
        Some(self.take_group())
    }

    fn take_group(&mut self) -> Pain002Item {
        self.group.warnings = self.group_warnings.take();
        Pain002Item::Group(std::mem::take(&mut self.group))
    }
}

/// Reads the parts of a `StsRsnInf` at any level; `rest` is relative to that level.
fn reason_step(
    current: &mut StatusReason,
    reasons: &mut Vec<StatusReason>,
    warnings: &mut Warnings,
    rest: &[u8],
    text: &str,
    offset: u64,
    path: &[u8],
) {
    match rest {
        b"StsRsnInf/Rsn/Cd" => current.code = Some(text.to_owned()),
        b"StsRsnInf/Rsn/Prtry" => current.proprietary = Some(text.to_owned()),
        b"StsRsnInf/AddtlInf" => {
            if current.additional_info.len() < MAX_REPEATS {
                current.additional_info.push(text.to_owned());
            } else {
                warnings.push(offset, path, "too many AddtlInf lines, the rest is ignored");
            }
        }
        b"StsRsnInf" => {
            let reason = std::mem::take(current);
            if reasons.len() < MAX_REPEATS {
                reasons.push(reason);
            } else {
                warnings.push(offset, path, "too many StsRsnInf, the rest is ignored");
            }
        }
        _ => {}
    }
}
