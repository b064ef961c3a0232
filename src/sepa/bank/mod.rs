//! The bank's side of the conversation: given what a bank decided about the transactions of
//! one of our pain.008 files, write the pain.002 status report and the camt.054 debit/credit
//! notification a real bank would send back.
//!
//! It exists so that tests can play the bank in a round trip (collect → bank replies →
//! ingest) and so `collecte demo` can show a whole day without a bank: the files it writes
//! follow the published XSDs (pain.002.001.03 / .001.10, camt.054.001.02 / .001.08) and the
//! habits of the real files in `sepa-samples/public` — statuses stated at the level where the
//! bank decided, a batch credit per payment group with one `TxDtls` per transaction, returns
//! and refunds booked as single debits with `RtrInf` and `RvslInd`.
//!
//! Pure like the rest of `sepa`: values in, bytes out to any `io::Write`, no clock (report
//! timestamps are parameters), no paths. Each document is built in memory and written in one
//! piece, so a refused input leaves the output untouched.
//!
//! ```
//! # fn demo(original: &collecte::sepa::bank::OriginalMessage) -> Result<(), collecte::sepa::bank::BankError> {
//! use collecte::sepa::bank::{BankReply, Camt054Version, Decisions, Pain002Version, ReasonCode, ReportHeader};
//! use collecte::sepa::{EndToEndId, MessageId};
//!
//! let decisions = Decisions::accept_all()
//!     .reject(EndToEndId::parse("E2E-1").unwrap(), ReasonCode::AM04);
//! let reply = BankReply::new(original, &decisions)?;
//! let header = ReportHeader {
//!     message_id: MessageId::parse("BANK-0001").unwrap(),
//!     created_at: chrono::DateTime::parse_from_rfc3339("2026-12-09T18:00:00+01:00").unwrap(),
//! };
//! let mut pain002 = Vec::new();
//! reply.write_pain002(&mut pain002, Pain002Version::V10, &header)?;
//! let mut camt054 = Vec::new();
//! reply.write_camt054(&mut camt054, Camt054Version::V08, &header, None)?;
//! # Ok(()) }
//! ```

mod camt054;
mod model;
mod original;
mod pain002;
mod xml;

use std::collections::HashSet;
use std::io::Write;
use std::ops::RangeInclusive;

use chrono::{DateTime, FixedOffset, NaiveDate};

use crate::sepa::MessageId;
use crate::sepa::pain008::LocalInstrument;

pub use model::{
    Decisions, OriginalGroup, OriginalMessage, OriginalTransaction, Outcome, ReasonCode, RefundReason, RejectLevel,
    Resolved,
};
pub use original::OriginalMessageError;

/// The pain.002 versions banks answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pain002Version {
    /// `pain.002.001.03` (ISO 2009), still what most banks send for pain.008.001.02 files.
    V03,
    /// `pain.002.001.10` (ISO 2019), the answer to pain.008.001.08 under the 2023+ rulebooks.
    V10,
}

impl Pain002Version {
    /// The message name, e.g. `pain.002.001.10` (also the XSD's file name).
    pub fn message_name(self) -> &'static str {
        match self {
            Self::V03 => "pain.002.001.03",
            Self::V10 => "pain.002.001.10",
        }
    }
}

/// The camt.054 versions banks notify with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Camt054Version {
    /// `camt.054.001.02` (ISO 2009).
    V02,
    /// `camt.054.001.08` (ISO 2019).
    V08,
}

impl Camt054Version {
    /// The message name, e.g. `camt.054.001.08` (also the XSD's file name).
    pub fn message_name(self) -> &'static str {
        match self {
            Self::V02 => "camt.054.001.02",
            Self::V08 => "camt.054.001.08",
        }
    }
}

/// The report's own identity: banks give every report a message id and a creation time.
/// Both are parameters so that replies are reproducible (no clock in `sepa`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportHeader {
    /// `GrpHdr/MsgId` of the report (also the camt.054 `Ntfctn/Id`).
    pub message_id: MessageId,
    /// `GrpHdr/CreDtTm`, written with its offset.
    pub created_at: DateTime<FixedOffset>,
}

/// Why bank replies could not be written; nothing was written to the output.
#[derive(Debug, thiserror::Error)]
pub enum BankError {
    /// The output writer failed.
    #[error("writing the bank reply failed: {0}")]
    Io(#[from] std::io::Error),
    /// Two transactions of the message share an end-to-end id, so decisions and replies
    /// could not tell them apart.
    #[error("end-to-end id {0} is used by two transactions of the original message")]
    DuplicateEndToEndId(String),
    /// Two payment groups of the message share a `PmtInfId`.
    #[error("payment information id {0} is used by two payment groups of the original message")]
    DuplicatePaymentInfoId(String),
    /// A decision names a transaction the message does not hold.
    #[error("a decision names end-to-end id {0}, which the original message does not hold")]
    UnknownEndToEndId(String),
    /// A decision names a payment group the message does not hold.
    #[error("a decision names payment information id {0}, which the original message does not hold")]
    UnknownPaymentInfoId(String),
    /// A transaction or group was decided inside a group or file already rejected whole: a
    /// bank states one status, so the input contradicts itself.
    #[error("{what} has its own decision, but its {level} is already rejected as a whole")]
    DecisionUnderRejection {
        /// The transaction or group concerned.
        what: String,
        /// Where the rejection covering it was stated.
        level: RejectLevel,
    },
    /// A return or refund booked before the collection settled.
    #[error("end-to-end id {end_to_end_id}: booked back on {booked_on}, before it settled on {settled_on}")]
    BookedBeforeSettlement {
        /// The transaction.
        end_to_end_id: String,
        /// The return or refund's booking day.
        booked_on: NaiveDate,
        /// The collection date.
        settled_on: NaiveDate,
    },
    /// A return given the refund code MD06, which only a refund can carry.
    #[error("end-to-end id {0}: MD06 is a refund reason, not a return reason (use Outcome::Refunded)")]
    RefundCodeOnReturn(String),
    /// A refund of a B2B collection: the B2B scheme gives debtors no refund right.
    #[error("end-to-end id {0}: SDD B2B debits cannot be refunded")]
    RefundUnderB2b(String),
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
    /// A sum with more digits than an ISO amount holds.
    #[error("{0} adds up to more than an ISO 20022 amount can hold")]
    AmountTooLarge(String),
}

/// What a bank answers to one original message: the decisions, checked against it and
/// resolved per transaction, ready to be written as pain.002 and camt.054.
#[derive(Debug, Clone)]
pub struct BankReply<'a> {
    original: &'a OriginalMessage,
    file_rejection: Option<ReasonCode>,
    /// Per group, in file order: its whole-group rejection.
    group_rejections: Vec<Option<ReasonCode>>,
    /// Per group, per transaction, in file order: the transaction's own decision.
    outcomes: Vec<Vec<Outcome>>,
}

impl<'a> BankReply<'a> {
    /// Checks `decisions` against `original` and resolves them per transaction.
    ///
    /// Refuses ids the message does not hold, decisions under a file or group already
    /// rejected whole, returns and refunds booked before the collection date, MD06 given as
    /// a return reason, refunds of B2B debits, and messages whose ids repeat.
    pub fn new(original: &'a OriginalMessage, decisions: &Decisions) -> Result<Self, BankError> {
        let mut group_ids = HashSet::new();
        let mut tx_ids = HashSet::new();
        for group in &original.groups {
            if !group_ids.insert(&group.payment_info_id) {
                return Err(BankError::DuplicatePaymentInfoId(group.payment_info_id.to_string()));
            }
            xml::check_date("requested collection date", group.collection_date)?;
            for tx in &group.transactions {
                if !tx_ids.insert(&tx.end_to_end_id) {
                    return Err(BankError::DuplicateEndToEndId(tx.end_to_end_id.to_string()));
                }
            }
        }
        if let Some(id) = decisions.group_rejections.keys().find(|id| !group_ids.contains(id)) {
            return Err(BankError::UnknownPaymentInfoId(id.to_string()));
        }
        if let Some(id) = decisions.outcomes.keys().find(|id| !tx_ids.contains(id)) {
            return Err(BankError::UnknownEndToEndId(id.to_string()));
        }
        if decisions.file_rejection.is_some()
            && let Some(id) = decisions.group_rejections.keys().next()
        {
            return Err(BankError::DecisionUnderRejection {
                what: format!("payment group {id}"),
                level: RejectLevel::File,
            });
        }

        let mut group_rejections = Vec::with_capacity(original.groups.len());
        let mut outcomes = Vec::with_capacity(original.groups.len());
        for group in &original.groups {
            let group_rejection = decisions.group_rejections.get(&group.payment_info_id).copied();
            let covering = if decisions.file_rejection.is_some() {
                Some(RejectLevel::File)
            } else {
                group_rejection.map(|_| RejectLevel::Group)
            };
            let mut group_outcomes = Vec::with_capacity(group.transactions.len());
            for tx in &group.transactions {
                let outcome = decisions
                    .outcomes
                    .get(&tx.end_to_end_id)
                    .copied()
                    .unwrap_or(Outcome::Accepted);
                if let Some(level) = covering
                    && outcome != Outcome::Accepted
                {
                    return Err(BankError::DecisionUnderRejection {
                        what: format!("end-to-end id {}", tx.end_to_end_id),
                        level,
                    });
                }
                check_outcome(group, tx, outcome)?;
                group_outcomes.push(outcome);
            }
            group_rejections.push(group_rejection);
            outcomes.push(group_outcomes);
        }
        Ok(Self {
            original,
            file_rejection: decisions.file_rejection,
            group_rejections,
            outcomes,
        })
    }

    /// The message answered.
    pub fn original(&self) -> &'a OriginalMessage {
        self.original
    }

    /// Every transaction with its final outcome, in file order: a file or group rejection
    /// shows as `Rejected` with that level's reason. What ingest should end up recording.
    pub fn resolved(&self) -> Vec<Resolved<'a>> {
        let mut all = Vec::with_capacity(self.original.nb_of_txs());
        for (g, group) in self.original.groups.iter().enumerate() {
            for (t, transaction) in group.transactions.iter().enumerate() {
                let own = self.outcome_at(g, t);
                let (outcome, rejected_at) = match (self.file_rejection, self.group_rejection(g), own) {
                    (Some(reason), _, _) => (Outcome::Rejected(reason), Some(RejectLevel::File)),
                    (None, Some(reason), _) => (Outcome::Rejected(reason), Some(RejectLevel::Group)),
                    (None, None, Outcome::Rejected(reason)) => {
                        (Outcome::Rejected(reason), Some(RejectLevel::Transaction))
                    }
                    (None, None, own) => (own, None),
                };
                all.push(Resolved {
                    group,
                    transaction,
                    outcome,
                    rejected_at,
                });
            }
        }
        all
    }

    /// Writes the pain.002 status report: group status ACCP (nothing rejected), PART (some
    /// transactions rejected) or RJCT (the file rejected), and a block per payment group
    /// holding a reject, with the rejected transactions and their original references.
    pub fn write_pain002<W: Write>(
        &self,
        mut out: W,
        version: Pain002Version,
        header: &ReportHeader,
    ) -> Result<(), BankError> {
        let bytes = pain002::write(self, version, header)?;
        out.write_all(&bytes)?;
        out.flush()?;
        Ok(())
    }

    /// Writes the camt.054 notification of the creditor's account: per payment group a
    /// booked batch credit on its collection date (one `TxDtls` per settled transaction,
    /// returned and refunded ones included, since they did settle), and one booked debit per
    /// return or refund on its booking day.
    ///
    /// `booked` limits the entries to those booked within the given days (a bank sends one
    /// notification per day or per booking; `None` writes every entry in one notification).
    pub fn write_camt054<W: Write>(
        &self,
        mut out: W,
        version: Camt054Version,
        header: &ReportHeader,
        booked: Option<RangeInclusive<NaiveDate>>,
    ) -> Result<(), BankError> {
        let bytes = camt054::write(self, version, header, booked.as_ref())?;
        out.write_all(&bytes)?;
        out.flush()?;
        Ok(())
    }

    fn group_rejection(&self, group: usize) -> Option<ReasonCode> {
        self.group_rejections.get(group).copied().flatten()
    }

    fn outcome_at(&self, group: usize, tx: usize) -> Outcome {
        self.outcomes
            .get(group)
            .and_then(|g| g.get(tx))
            .copied()
            .unwrap_or(Outcome::Accepted)
    }

    /// Whether nothing of group `g` settles (its file or itself rejected whole).
    fn group_rejected(&self, g: usize) -> bool {
        self.file_rejection.is_some() || self.group_rejection(g).is_some()
    }
}

/// Checks one transaction decision for what no bank would ever send.
fn check_outcome(group: &OriginalGroup, tx: &OriginalTransaction, outcome: Outcome) -> Result<(), BankError> {
    let e2e = || tx.end_to_end_id.to_string();
    let booked_on = match outcome {
        Outcome::Accepted | Outcome::Rejected(_) => return Ok(()),
        Outcome::Returned { reason, booked_on } => {
            if reason == ReasonCode::MD06 {
                return Err(BankError::RefundCodeOnReturn(e2e()));
            }
            booked_on
        }
        Outcome::Refunded { booked_on, .. } => {
            if group.local_instrument == LocalInstrument::B2b {
                return Err(BankError::RefundUnderB2b(e2e()));
            }
            booked_on
        }
    };
    xml::check_date("booking date", booked_on)?;
    if booked_on < group.collection_date {
        return Err(BankError::BookedBeforeSettlement {
            end_to_end_id: e2e(),
            booked_on,
            settled_on: group.collection_date,
        });
    }
    Ok(())
}

/// Sums cents for an ISO amount, refusing what the XSD cannot hold.
fn sum_cents(scope: impl FnOnce() -> String, amounts: impl IntoIterator<Item = i64>) -> Result<i64, BankError> {
    let total = amounts
        .into_iter()
        .try_fold(0i64, i64::checked_add)
        .filter(|t| *t <= xml::MAX_DECIMAL_CENTS);
    total.ok_or_else(|| BankError::AmountTooLarge(scope()))
}
