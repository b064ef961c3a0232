//! Playing the bank: what a debtor's and a creditor's bank answer to one of our pain.008
//! files — some transactions rejected before settlement (pain.002), the rest credited in one
//! batch per payment group, a few of those returned or refunded in the following days
//! (camt.054) — decided deterministically from a seed.
//!
//! The XML itself is written by [`crate::sepa::bank`]; this module only decides who fails
//! and why, in proportions like a real consumer book's (about 3 % rejected, 2 % returned or
//! refunded), and counts what it decided so the demo can say it.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime};
use serde::Serialize;

use super::DemoError;
use super::rng::Rng;
use crate::sepa::bank::{
    BankReply, Camt054Version, Decisions, OriginalMessage, Outcome, Pain002Version, ReasonCode, RefundReason,
    ReportHeader,
};
use crate::sepa::calendar::add_business_days;
use crate::sepa::pain008::{LocalInstrument, Pain008Version};
use crate::sepa::{MessageId, money::format_cents};

/// How often the bank says no, in basis points of a file's transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mix {
    /// Refused before settlement (pain.002): rejects and refusals.
    pub rejected_bp: u32,
    /// Settled, then returned or refunded (camt.054 debits).
    pub undone_bp: u32,
}

impl Default for Mix {
    /// About 3 % rejected and 2 % returned or refunded, the order of magnitude SEPA
    /// consumer collections see.
    fn default() -> Self {
        Self {
            rejected_bp: 300,
            undone_bp: 200,
        }
    }
}

/// Reasons for refusals before settlement, in the order they are handed out, so that a small
/// file shows the common ones first: insufficient funds, the debtor's refusal, a closed
/// account, no mandate at the debtor bank.
const REJECTS: [ReasonCode; 10] = [
    ReasonCode::AM04,
    ReasonCode::MS02,
    ReasonCode::AC04,
    ReasonCode::MD01,
    ReasonCode::AM04,
    ReasonCode::AC01,
    ReasonCode::MS03,
    ReasonCode::AM04,
    ReasonCode::AG01,
    ReasonCode::MS02,
];

/// What undoes a settled collection, in the order handed out.
#[derive(Debug, Clone, Copy)]
enum Undo {
    /// The debtor bank sends it back, this many TARGET2 days after settlement.
    Return(ReasonCode, u32),
    /// The debtor claims it back, this many TARGET2 days after settlement.
    Refund(RefundReason, u32),
}

const UNDOS: [Undo; 8] = [
    Undo::Return(ReasonCode::AC04, 2),
    Undo::Refund(RefundReason::Md06, 7),
    Undo::Return(ReasonCode::AM04, 2),
    Undo::Return(ReasonCode::MD07, 3),
    Undo::Refund(RefundReason::Md06, 10),
    Undo::Return(ReasonCode::MS03, 2),
    Undo::Refund(RefundReason::Md01, 15),
    Undo::Return(ReasonCode::AC04, 4),
];

/// How many of `n` transactions get a decision at `bp` basis points: rounded up, at least
/// `at_least` (so a small demo still shows every common case), never more than a quarter.
fn how_many(n: usize, bp: u32, at_least: usize) -> usize {
    let proportional = (n * bp as usize).div_ceil(10_000);
    proportional.max(at_least).min(n / 4)
}

/// Decides the fate of every transaction of `original`: which are rejected, returned or
/// refunded (and when), the rest settling on their collection date. The same seed and file
/// give the same decisions; which transactions are hit depends on their mandate, collection
/// date and amount — not on their end-to-end ids, which carry the ledger's random tag.
pub fn decide(original: &OriginalMessage, mix: Mix, seed: u64) -> Decisions {
    let mut txs: Vec<(
        (u64, String),
        &crate::sepa::bank::OriginalGroup,
        &crate::sepa::bank::OriginalTransaction,
    )> = original
        .groups
        .iter()
        .flat_map(|g| g.transactions.iter().map(move |t| (g, t)))
        .map(|(g, t)| {
            let key = format!("{}|{}|{}", t.mandate_id.as_str(), g.collection_date, t.amount.cents());
            ((Rng::new(seed, fnv1a(&key)).next_u64(), key), g, t)
        })
        .collect();
    txs.sort_by(|a, b| a.0.cmp(&b.0));
    let rejected = how_many(txs.len(), mix.rejected_bp, 4);
    let undone = how_many(txs.len(), mix.undone_bp, 3);
    let mut decisions = Decisions::accept_all();
    for (i, (_, group, tx)) in txs.iter().take(rejected + undone).enumerate() {
        let id = tx.end_to_end_id.clone();
        decisions = if i < rejected {
            decisions.reject(id, REJECTS[i % REJECTS.len()])
        } else {
            let booked = |days| add_business_days(group.collection_date, days);
            match UNDOS[(i - rejected) % UNDOS.len()] {
                // The B2B scheme gives no refund right: the debtor bank returns it instead.
                Undo::Refund(_, days) if group.local_instrument == LocalInstrument::B2b => {
                    decisions.return_after_settlement(id, ReasonCode::AC04, booked(days))
                }
                Undo::Refund(reason, days) => decisions.refund(id, reason, booked(days)),
                Undo::Return(reason, days) => decisions.return_after_settlement(id, reason, booked(days)),
            }
        };
    }
    decisions
}

/// FNV-1a: a stable 64-bit hash of an id (std's hasher may change between releases).
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// One reply file, ready to be dropped into the inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyFile {
    /// File name: sending day, message type, original MsgId.
    pub file_name: String,
    /// `pain.002.001.10`, `camt.054.001.08`, ...
    pub message: &'static str,
    /// The document.
    pub bytes: Vec<u8>,
}

/// What the bank decided about one file, in numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Transactions in the file.
    pub transactions: u64,
    /// Credited in the batch bookings (returned and refunded ones included: they settled).
    pub settled: u64,
    /// Their amount, `"1234.56"`.
    pub settled_amount: String,
    /// Rejected by a bank before settlement, per reason code.
    pub rejects: BTreeMap<String, u64>,
    /// Refused by the debtor before settlement (MS02).
    pub refusals: u64,
    /// Returned after settlement, per reason code.
    pub returns: BTreeMap<String, u64>,
    /// Refunded to the debtor after settlement, per reason code.
    pub refunds: BTreeMap<String, u64>,
}

/// The bank's answer to one pain.008 file.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The pain.002 status report, then the camt.054 notification.
    pub files: Vec<ReplyFile>,
    /// What they say.
    pub tally: Tally,
}

/// Writes the pain.002 (sent on `business_date` at 18:00) and the camt.054 (sent at 20:00 on
/// the last booking day) answering `original` under `decisions`, in the versions a bank
/// answers that pain.008 version with; `offset` is the bank's UTC offset.
pub fn answer(
    original: &OriginalMessage,
    decisions: &Decisions,
    business_date: NaiveDate,
    offset: FixedOffset,
) -> Result<Answer, DemoError> {
    let reply = BankReply::new(original, decisions)?;
    let (pain002, camt054) = match original.version {
        Pain008Version::V02 => (Pain002Version::V03, Camt054Version::V02),
        Pain008Version::V08 => (Pain002Version::V10, Camt054Version::V08),
    };
    let mut tally = Tally::default();
    let mut settled_cents = 0i64;
    let mut last_booking = business_date;
    for r in reply.resolved() {
        tally.transactions += 1;
        if r.outcome.settled() {
            tally.settled += 1;
            settled_cents += r.transaction.amount.cents();
            last_booking = last_booking.max(r.group.collection_date);
        }
        match r.outcome {
            Outcome::Accepted => {}
            Outcome::Rejected(code) if code == ReasonCode::MS02 => tally.refusals += 1,
            Outcome::Rejected(code) => *tally.rejects.entry(code.as_str().to_owned()).or_default() += 1,
            Outcome::Returned { reason, booked_on } => {
                *tally.returns.entry(reason.as_str().to_owned()).or_default() += 1;
                last_booking = last_booking.max(booked_on);
            }
            Outcome::Refunded { reason, booked_on } => {
                *tally.refunds.entry(reason.code().as_str().to_owned()).or_default() += 1;
                last_booking = last_booking.max(booked_on);
            }
        }
    }
    tally.settled_amount = format_cents(settled_cents);

    let msg_id = original.message_id.as_str();
    let header = |prefix: &str, day: NaiveDate, hour: u32| -> Result<ReportHeader, DemoError> {
        let id: String = format!("{prefix}{msg_id}").chars().take(35).collect();
        let time = NaiveTime::from_hms_opt(hour, 0, 0).unwrap_or(NaiveTime::MIN);
        let created_at = day
            .and_time(time)
            .and_local_timezone(offset)
            .single()
            .unwrap_or_else(|| DateTime::from_naive_utc_and_offset(day.and_time(time), offset));
        Ok(ReportHeader {
            message_id: MessageId::parse(&id).map_err(DemoError::ReportId)?,
            created_at,
        })
    };
    let mut status = Vec::new();
    reply.write_pain002(&mut status, pain002, &header("STS-", business_date, 18)?)?;
    let mut notification = Vec::new();
    reply.write_camt054(&mut notification, camt054, &header("NTF-", last_booking, 20)?, None)?;
    // Named like bank drops, sending day first, so that a folder listing (and ingest, which
    // takes files by name) sees them in the order the bank sent them.
    let name = |sent: NaiveDate, message: &str| format!("{}-{message}-{msg_id}.xml", sent.format("%Y%m%d"));
    Ok(Answer {
        files: vec![
            ReplyFile {
                file_name: name(business_date, pain002.message_name()),
                message: pain002.message_name(),
                bytes: status,
            },
            ReplyFile {
                file_name: name(last_booking, camt054.message_name()),
                message: camt054.message_name(),
                bytes: notification,
            },
        ],
        tally,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_proportional_with_a_floor_and_a_ceiling() {
        assert_eq!(how_many(0, 300, 4), 0);
        assert_eq!(how_many(8, 300, 4), 2);
        assert_eq!(how_many(100, 300, 4), 4);
        assert_eq!(how_many(1000, 300, 4), 30);
        assert_eq!(how_many(33_333, 200, 3), 667);
    }

    #[test]
    fn fnv_is_the_published_function() {
        assert_eq!(fnv1a(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a("a"), 0xaf63_dc4c_8601_ec8c);
    }
}
