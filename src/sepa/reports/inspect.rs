//! What `collecte inspect FILE --format json` prints for a bank report: one object per
//! message, listing faithfully every R-transaction and settlement the file holds, without
//! the database (no matching, so nothing is hidden for being someone else's payment).

use std::io::{BufRead, Cursor};
use std::ops::ControlFlow;

use chrono::NaiveDate;
use serde::Serialize;

use super::archive::{for_each_member, is_zip};
use super::classify::RKind;
use super::facts::{Fact, for_each_fact};
use super::value::Amount;
use super::{Limits, Report, ReportError, open};
use crate::sepa::money::format_cents;

/// Warnings listed per message; past this a last line says how many more there were.
const MAX_WARNINGS: usize = 1_000;

/// One message of a bank file, as `inspect --format json` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InspectReport {
    /// The message name from the namespace, e.g. `camt.054.001.02`.
    pub message: String,
    /// `GrpHdr/MsgId` of the report.
    pub message_id: Option<String>,
    /// pain.002 `GrpSts`; always `null` for camt.
    pub group_status: Option<String>,
    /// pain.002 `OrgnlMsgId`: the file a group-level status covers (absent for camt).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_message_id: Option<String>,
    /// Every reject, refusal, return, refund and reversal in the file, in file order.
    pub r_transactions: Vec<InspectRTransaction>,
    /// Every booked direct-debit settlement in the file, per transaction.
    pub settlements: Vec<InspectSettlement>,
    /// Entries that are neither (other payments, fees, entries without usable ids).
    pub unmatched_entries: u64,
    /// What could not be read (`byte N, path: why`).
    pub warnings: Vec<String>,
}

/// One R-transaction. `end_to_end_id` is `null` when the status covers a whole
/// payment-information block (then `payment_information_id` is given) or the whole file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InspectRTransaction {
    /// reject, refusal, return, refund or reversal.
    pub kind: RKind,
    /// The ISO (or proprietary) reason code, if the bank gave one.
    pub reason: Option<String>,
    /// The EndToEndId of the collection concerned.
    pub end_to_end_id: Option<String>,
    /// The PmtInfId a block-level status covers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_information_id: Option<String>,
    /// The amount as `"12.34"`, `null` when the file does not say.
    pub amount: Option<String>,
    /// The amount's currency.
    pub currency: Option<String>,
    /// The entry's booking date (camt), `null` for pain.002.
    pub booking_date: Option<NaiveDate>,
}

/// One settlement: a collection (or a whole batch) credited to the account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InspectSettlement {
    /// The amount as `"12.34"`.
    pub amount: Option<String>,
    /// The amount's currency.
    pub currency: Option<String>,
    /// The EndToEndId, for a settlement per transaction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_to_end_id: Option<String>,
    /// The PmtInfId, for a batch booking (also given with an EndToEndId when known).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_information_id: Option<String>,
    /// The booking date.
    pub booking_date: Option<NaiveDate>,
}

/// Inspects one XML report.
pub fn inspect<R: BufRead>(input: R, limits: Limits) -> Result<InspectReport, ReportError> {
    let report = open(input, limits)?;
    let mut out = Builder::new(match &report {
        Report::Pain002(reader) => reader.message().name.clone(),
        Report::Camt(reader) => reader.message().name.clone(),
    });
    for_each_fact(report, |fact| {
        out.add(fact);
        ControlFlow::Continue(())
    })?;
    Ok(out.finish())
}

/// Inspects a whole file given as bytes: a zip archive gives one report per member (in
/// archive order, an error naming the member that fails), anything else is read as XML.
pub fn inspect_bytes(bytes: &[u8], limits: Limits) -> Result<Vec<InspectReport>, ReportError> {
    if !is_zip(bytes) {
        return inspect(bytes, limits).map(|report| vec![report]);
    }
    let mut reports = Vec::new();
    for_each_member(Cursor::new(bytes), limits, |name, member| {
        let report = inspect(member, limits).map_err(|source| ReportError::Member {
            member: name.to_owned(),
            source: Box::new(source),
        })?;
        reports.push(report);
        Ok::<(), ReportError>(())
    })?;
    Ok(reports)
}

/// Accumulates one report from its facts, capping the warnings.
struct Builder {
    report: InspectReport,
    warnings_dropped: usize,
}

impl Builder {
    fn new(message: String) -> Self {
        Self {
            report: InspectReport {
                message,
                message_id: None,
                group_status: None,
                original_message_id: None,
                r_transactions: Vec::new(),
                settlements: Vec::new(),
                unmatched_entries: 0,
                warnings: Vec::new(),
            },
            warnings_dropped: 0,
        }
    }

    fn add(&mut self, fact: Fact) {
        let amount = |a: &Option<Amount>| a.as_ref().map(|a| format_cents(a.cents));
        let currency = |a: &Option<Amount>| a.as_ref().map(|a| a.currency.clone());
        match fact {
            Fact::Message {
                message_id,
                group_status,
                original_message_id,
                ..
            } => {
                self.report.message_id = message_id;
                self.report.group_status = group_status;
                if self.report.message.starts_with("pain.002") {
                    self.report.original_message_id = original_message_id;
                }
            }
            Fact::RTransaction(r) => self.report.r_transactions.push(InspectRTransaction {
                kind: r.kind,
                amount: amount(&r.amount),
                currency: currency(&r.amount),
                reason: r.reason,
                end_to_end_id: r.end_to_end_id.clone(),
                payment_information_id: r.payment_information_id.filter(|_| r.end_to_end_id.is_none()),
                booking_date: r.booking_date,
            }),
            Fact::Settlement(st) => self.report.settlements.push(InspectSettlement {
                amount: amount(&st.amount),
                currency: currency(&st.amount),
                end_to_end_id: st.end_to_end_id,
                payment_information_id: st.payment_information_id,
                booking_date: st.booking_date,
            }),
            Fact::Unmatched(_) => self.report.unmatched_entries += 1,
            Fact::Warning(w) if self.report.warnings.len() < MAX_WARNINGS => self.report.warnings.push(w),
            Fact::Warning(_) => self.warnings_dropped += 1,
        }
    }

    fn finish(mut self) -> InspectReport {
        if self.warnings_dropped > 0 {
            self.report
                .warnings
                .push(format!("... and {} more warnings", self.warnings_dropped));
        }
        self.report
    }
}
