//! What the bank received (the original pain.008, as values) and what it decided about it.

use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDate};

use crate::sepa::pain008::{Creditor, LocalInstrument, Pain008Version, SequenceType, Transaction};
use crate::sepa::reports::reason::reason_name;
use crate::sepa::text::{Name, Remittance};
use crate::sepa::{Bic, EndToEndId, Iban, MandateId, MessageId, Money, ParseError, PaymentInfoId};

/// An ISO 20022 external reason code (`AM04`, `AC04`, `MS02`...): four upper-case letters or
/// digits, as `StsRsnInf/Rsn/Cd` and `RtrInf/Rsn/Cd` carry them.
///
/// A type of its own so that a free text can never end up where banks put a code, and so the
/// common SEPA codes can be named in tests and the demo (`ReasonCode::AM04`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReasonCode([u8; 4]);

impl ReasonCode {
    /// `AC01` IncorrectAccountNumber.
    pub const AC01: Self = Self(*b"AC01");
    /// `AC04` ClosedAccountNumber.
    pub const AC04: Self = Self(*b"AC04");
    /// `AC06` BlockedAccount.
    pub const AC06: Self = Self(*b"AC06");
    /// `AG01` TransactionForbidden (e.g. an account that refuses direct debits).
    pub const AG01: Self = Self(*b"AG01");
    /// `AM04` InsufficientFunds: the one code worth re-presenting.
    pub const AM04: Self = Self(*b"AM04");
    /// `AM05` Duplication.
    pub const AM05: Self = Self(*b"AM05");
    /// `AM10` InvalidControlSum: a whole file refused for a wrong control sum.
    pub const AM10: Self = Self(*b"AM10");
    /// `FF01` InvalidFileFormat: a whole file refused.
    pub const FF01: Self = Self(*b"FF01");
    /// `MD01` NoMandate (a reject, or an unauthorised-debit refund within 13 months).
    pub const MD01: Self = Self(*b"MD01");
    /// `MD02` MissingMandatoryInformationInMandate.
    pub const MD02: Self = Self(*b"MD02");
    /// `MD06` RefundRequestByEndCustomer (authorised debit, within 8 weeks).
    pub const MD06: Self = Self(*b"MD06");
    /// `MD07` EndCustomerDeceased.
    pub const MD07: Self = Self(*b"MD07");
    /// `MS02` NotSpecifiedReasonCustomerGenerated: the debtor refused.
    pub const MS02: Self = Self(*b"MS02");
    /// `MS03` NotSpecifiedReasonAgentGenerated.
    pub const MS03: Self = Self(*b"MS03");
    /// `RC01` BankIdentifierIncorrect.
    pub const RC01: Self = Self(*b"RC01");
    /// `SL01` SpecificServiceOfferedByDebtorAgent (e.g. a debtor's blocking list).
    pub const SL01: Self = Self(*b"SL01");

    /// Parses a code (surrounding whitespace is trimmed; lower case is refused, as banks
    /// never send it and the readers compare codes exactly).
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let code = input.trim();
        match <[u8; 4]>::try_from(code.as_bytes()) {
            Ok(bytes) if bytes.iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) => Ok(Self(bytes)),
            Ok(_) => Err(ParseError::new(
                "reason code",
                input,
                "only upper-case letters and digits are allowed",
            )),
            Err(_) => Err(ParseError::new("reason code", input, "is not 4 characters long")),
        }
    }

    /// The code as written to XML.
    pub fn as_str(&self) -> &str {
        // Only ASCII upper-case letters and digits ever get in.
        std::str::from_utf8(&self.0).unwrap_or("????")
    }

    /// The ISO name of the code (`InsufficientFunds`), written beside it as `AddtlInf` the way
    /// banks add a readable text; `None` for codes outside the SEPA table.
    pub fn name(&self) -> Option<&'static str> {
        reason_name(self.as_str())
    }
}

crate::sepa::text_newtype_traits!(ReasonCode);

/// The two reasons a debtor can claim a refund for after settlement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefundReason {
    /// `MD06`: an authorised debit, refunded on request within 8 weeks (no questions asked).
    Md06,
    /// `MD01`: an unauthorised debit (no valid mandate), refundable for 13 months.
    Md01,
}

impl RefundReason {
    /// The ISO code written to `RtrInf/Rsn/Cd`.
    pub fn code(self) -> ReasonCode {
        match self {
            Self::Md06 => ReasonCode::MD06,
            Self::Md01 => ReasonCode::MD01,
        }
    }
}

/// What the bank did with one transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Collected and credited to the creditor in the group's batch booking.
    Accepted,
    /// Refused before settlement (pain.002 `TxSts` RJCT with this reason); never credited.
    Rejected(ReasonCode),
    /// Settled, then sent back by the debtor bank (camt.054 debit with `RtrInf`).
    Returned {
        /// The return reason (`AM04`, `AC04`, `MD07`, `MS02`...); never `MD06`, a refund code.
        reason: ReasonCode,
        /// The day the return is booked on the creditor's account.
        booked_on: NaiveDate,
    },
    /// Settled, then refunded to the debtor on request (camt.054 debit with `RtrInf`).
    Refunded {
        /// `MD06` or `MD01`.
        reason: RefundReason,
        /// The day the refund is booked on the creditor's account.
        booked_on: NaiveDate,
    },
}

impl Outcome {
    /// Whether the transaction was credited to the creditor at some point (every outcome but
    /// a reject: returns and refunds undo a settlement that did happen).
    pub fn settled(&self) -> bool {
        !matches!(self, Self::Rejected(_))
    }
}

/// One transaction of the original message, as the bank saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginalTransaction {
    /// `EndToEndId`: how every reply points back to the collection.
    pub end_to_end_id: EndToEndId,
    /// `InstdAmt`, in euros.
    pub amount: Money,
    /// The mandate reference.
    pub mandate_id: MandateId,
    /// The mandate's signature date, repeated by banks in `OrgnlTxRef`.
    pub mandate_signed_on: Option<NaiveDate>,
    /// The debtor's name.
    pub debtor_name: Name,
    /// The account debited.
    pub debtor_iban: Iban,
    /// The debtor bank, when the file named it.
    pub debtor_bic: Option<Bic>,
    /// `RmtInf/Ustrd`, repeated in replies.
    pub remittance: Option<Remittance>,
}

impl From<&Transaction> for OriginalTransaction {
    /// The parts of a collection that bank replies repeat.
    fn from(tx: &Transaction) -> Self {
        Self {
            end_to_end_id: tx.end_to_end_id.clone(),
            amount: tx.amount,
            mandate_id: tx.mandate_id.clone(),
            mandate_signed_on: Some(tx.mandate_signed_on),
            debtor_name: tx.debtor_name.clone(),
            debtor_iban: tx.debtor_iban.clone(),
            debtor_bic: tx.debtor_bic.clone(),
            remittance: tx.remittance.clone(),
        }
    }
}

/// One payment-information group (`PmtInf`) of the original message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginalGroup {
    /// `PmtInfId`: the key of the group's batch booking and of a block-level reject.
    pub payment_info_id: PaymentInfoId,
    /// CORE or B2B: decides the bank transaction code (ESDD / BBDD) and whether refunds exist.
    pub local_instrument: LocalInstrument,
    /// `SeqTp`, repeated in `OrgnlTxRef`.
    pub sequence_type: SequenceType,
    /// `ReqdColltnDt`: the settlement day, on which the batch is booked.
    pub collection_date: NaiveDate,
    /// The group's transactions, in file order.
    pub transactions: Vec<OriginalTransaction>,
}

impl OriginalGroup {
    /// The group's total, in cents.
    pub fn total_cents(&self) -> i64 {
        self.transactions.iter().map(|t| t.amount.cents()).sum()
    }
}

/// The pain.008 message the bank answers, as values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginalMessage {
    /// `GrpHdr/MsgId`, echoed as `OrgnlMsgId` and in batch bookings.
    pub message_id: MessageId,
    /// `GrpHdr/CreDtTm`, echoed as `OrgnlCreDtTm`.
    pub created_at: DateTime<FixedOffset>,
    /// The message version, echoed as `OrgnlMsgNmId`.
    pub version: Pain008Version,
    /// The creditor: its account is the one the camt.054 reports on.
    pub creditor: Creditor,
    /// The payment groups, in file order.
    pub groups: Vec<OriginalGroup>,
}

impl OriginalMessage {
    /// Transactions in the whole message.
    pub fn nb_of_txs(&self) -> usize {
        self.groups.iter().map(|g| g.transactions.len()).sum()
    }

    /// The message's total, in cents.
    pub fn total_cents(&self) -> i64 {
        self.groups.iter().map(OriginalGroup::total_cents).sum()
    }
}

/// What the bank decided about one original message: at file level, per payment group and
/// per transaction. Anything not decided otherwise is accepted.
///
/// A later decision about the same transaction or group replaces an earlier one. Whether the
/// decisions fit the message (known ids, no transaction decision inside a rejected group,
/// returns booked after settlement...) is checked by [`BankReply::new`](super::BankReply::new).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decisions {
    pub(super) file_rejection: Option<ReasonCode>,
    pub(super) group_rejections: HashMap<PaymentInfoId, ReasonCode>,
    pub(super) outcomes: HashMap<EndToEndId, Outcome>,
}

impl Decisions {
    /// Every transaction accepted.
    pub fn accept_all() -> Self {
        Self::default()
    }

    /// The whole file refused (`GrpSts` RJCT), e.g. `AM10` or `FF01`: nothing settles.
    pub fn reject_file(mut self, reason: ReasonCode) -> Self {
        self.file_rejection = Some(reason);
        self
    }

    /// One payment group refused as a whole (`PmtInfSts` RJCT): none of it settles.
    pub fn reject_group(mut self, payment_info_id: PaymentInfoId, reason: ReasonCode) -> Self {
        self.group_rejections.insert(payment_info_id, reason);
        self
    }

    /// Sets the outcome of one transaction.
    pub fn decide(mut self, end_to_end_id: EndToEndId, outcome: Outcome) -> Self {
        self.outcomes.insert(end_to_end_id, outcome);
        self
    }

    /// Refuses one transaction before settlement.
    pub fn reject(self, end_to_end_id: EndToEndId, reason: ReasonCode) -> Self {
        self.decide(end_to_end_id, Outcome::Rejected(reason))
    }

    /// Settles one transaction, then has the debtor bank return it.
    pub fn return_after_settlement(self, end_to_end_id: EndToEndId, reason: ReasonCode, booked_on: NaiveDate) -> Self {
        self.decide(end_to_end_id, Outcome::Returned { reason, booked_on })
    }

    /// Settles one transaction, then refunds it to the debtor.
    pub fn refund(self, end_to_end_id: EndToEndId, reason: RefundReason, booked_on: NaiveDate) -> Self {
        self.decide(end_to_end_id, Outcome::Refunded { reason, booked_on })
    }
}

/// At which level of a pain.002 a reject is stated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectLevel {
    /// The whole file (`OrgnlGrpInfAndSts/GrpSts`).
    File,
    /// The whole payment group (`OrgnlPmtInfAndSts/PmtInfSts`).
    Group,
    /// The transaction itself (`TxInfAndSts/TxSts`).
    Transaction,
}

impl fmt::Display for RejectLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::File => "file",
            Self::Group => "payment group",
            Self::Transaction => "transaction",
        })
    }
}

/// The final outcome of one transaction once file- and group-level decisions are applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolved<'a> {
    /// The group holding the transaction.
    pub group: &'a OriginalGroup,
    /// The transaction.
    pub transaction: &'a OriginalTransaction,
    /// What happened to it (a file or group rejection shows as `Rejected` with its reason).
    pub outcome: Outcome,
    /// Where a reject was stated; `None` for settled transactions.
    pub rejected_at: Option<RejectLevel>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_codes_are_four_upper_case_characters() {
        assert_eq!(ReasonCode::parse(" AM04 ").unwrap(), ReasonCode::AM04);
        assert_eq!(ReasonCode::parse("BE05").unwrap().to_string(), "BE05");
        assert_eq!(format!("{:?}", ReasonCode::MS02), "ReasonCode(MS02)");
        assert_eq!(ReasonCode::AM04.name(), Some("InsufficientFunds"));
        assert_eq!(ReasonCode::parse("ZZ99").unwrap().name(), None);
        for bad in ["am04", "AM0", "AM045", "", "AM-4", "ÄM04"] {
            let e = ReasonCode::parse(bad).unwrap_err();
            assert_eq!(e.kind, "reason code", "{bad}");
        }
        assert_eq!(RefundReason::Md06.code(), ReasonCode::MD06);
        assert_eq!(RefundReason::Md01.code(), ReasonCode::MD01);
    }

    #[test]
    fn only_rejects_never_settle() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 10).unwrap();
        assert!(Outcome::Accepted.settled());
        assert!(!Outcome::Rejected(ReasonCode::AM04).settled());
        assert!(
            Outcome::Returned {
                reason: ReasonCode::AM04,
                booked_on: day
            }
            .settled()
        );
        assert!(
            Outcome::Refunded {
                reason: RefundReason::Md06,
                booked_on: day
            }
            .settled()
        );
    }

    #[test]
    fn later_decisions_replace_earlier_ones() {
        let id = EndToEndId::parse("E2E-1").unwrap();
        let d = Decisions::accept_all()
            .reject(id.clone(), ReasonCode::AM04)
            .decide(id.clone(), Outcome::Accepted);
        assert_eq!(d.outcomes.get(&id), Some(&Outcome::Accepted));
    }
}
