//! What `collecte inspect FILE --format json` prints for a bank report: one object per
//! message, listing faithfully every R-transaction and settlement the file holds, without
//! the database (no matching, so nothing is hidden for being someone else's payment).

use std::io::{BufRead, Cursor};

use chrono::NaiveDate;
use serde::Serialize;

use super::archive::{for_each_member, is_zip};
use super::camt::{CamtItem, CamtReader, Entry, Transaction};
use super::classify::{CamtClass, RKind, classify};
use super::error::Warning;
use super::pain002::{Pain002Item, Pain002Reader, StatusReason};
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
    match open(input, limits)? {
        Report::Pain002(mut reader) => inspect_pain002(&mut reader),
        Report::Camt(mut reader) => inspect_camt(&mut reader),
    }
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

/// Accumulates one report, capping the warnings.
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

    fn warn(&mut self, warnings: &[Warning]) {
        for warning in warnings {
            if self.report.warnings.len() < MAX_WARNINGS {
                self.report.warnings.push(warning.to_string());
            } else {
                self.warnings_dropped += 1;
            }
        }
    }

    fn r_transaction(
        &mut self,
        kind: RKind,
        reason: Option<&str>,
        end_to_end_id: Option<&str>,
        payment_information_id: Option<&str>,
        amount: Option<&Amount>,
        booking_date: Option<NaiveDate>,
    ) {
        self.report.r_transactions.push(InspectRTransaction {
            kind,
            reason: reason.map(str::to_owned),
            end_to_end_id: end_to_end_id.map(str::to_owned),
            payment_information_id: payment_information_id.map(str::to_owned),
            amount: amount.map(|a| format_cents(a.cents)),
            currency: amount.map(|a| a.currency.clone()),
            booking_date,
        });
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

fn first_code(reasons: &[StatusReason]) -> Option<&str> {
    reasons.iter().find_map(StatusReason::code)
}

fn inspect_pain002<R: BufRead>(reader: &mut Pain002Reader<R>) -> Result<InspectReport, ReportError> {
    let mut out = Builder::new(reader.message().name.clone());
    while let Some(item) = reader.next_item()? {
        match item {
            Pain002Item::Group(group) => {
                out.warn(&group.warnings);
                if let Some(kind) = group.rejects_all() {
                    out.r_transaction(kind, first_code(&group.reasons), None, None, None, None);
                }
                out.report.message_id = group.message_id;
                out.report.group_status = group.status;
                out.report.original_message_id = group.original_message_id;
            }
            Pain002Item::PaymentInfo(block) => {
                out.warn(&block.warnings);
                if let Some(kind) = block.rejects_all() {
                    let id = block.original_payment_info_id.as_deref();
                    out.r_transaction(kind, first_code(&block.reasons), None, id, None, None);
                }
            }
            Pain002Item::Transaction(tx) => {
                out.warn(&tx.warnings);
                if let Some(kind) = tx.r_kind() {
                    let e2e = tx.original_end_to_end_id.as_deref();
                    out.r_transaction(kind, tx.reason_code(), e2e, None, tx.amount.as_ref(), None);
                }
            }
        }
    }
    Ok(out.finish())
}

fn inspect_camt<R: BufRead>(reader: &mut CamtReader<R>) -> Result<InspectReport, ReportError> {
    let mut out = Builder::new(reader.message().name.clone());
    let mut entry_used = false;
    while let Some(item) = reader.next_item()? {
        match item {
            CamtItem::Header(header) => {
                out.warn(&header.warnings);
                out.report.message_id.clone_from(&header.message_id);
            }
            CamtItem::Account(_) => {}
            CamtItem::Transaction { entry, transaction } => {
                out.warn(&transaction.warnings);
                entry_used |= record(&mut out, entry, Some(&transaction));
            }
            CamtItem::EntryEnd { entry, transactions } => {
                out.warn(&entry.warnings);
                if transactions == 0 {
                    entry_used = record(&mut out, entry, None);
                }
                if !entry_used {
                    out.report.unmatched_entries += 1;
                }
                entry_used = false;
            }
        }
    }
    Ok(out.finish())
}

/// Lists what one transaction (or an entry without details) is; `false` when it is neither
/// an R-transaction nor a settlement.
fn record(out: &mut Builder, entry: &Entry, transaction: Option<&Transaction>) -> bool {
    let amount = match transaction {
        Some(t) => t.amount.as_ref(),
        None => entry.amount.as_ref(),
    };
    let end_to_end_id = transaction.and_then(|t| t.end_to_end_id.as_deref());
    match classify(entry, transaction) {
        CamtClass::RTransaction(kind) => {
            let reason = transaction.and_then(Transaction::reason_code);
            out.r_transaction(kind, reason, end_to_end_id, None, amount, entry.booking_date);
            true
        }
        CamtClass::Settlement => {
            let payment_information_id = transaction
                .and_then(|t| t.payment_info_id.as_deref())
                .or_else(|| entry.batch.as_ref()?.payment_info_id.as_deref());
            out.report.settlements.push(InspectSettlement {
                amount: amount.map(|a| format_cents(a.cents)),
                currency: amount.map(|a| a.currency.clone()),
                end_to_end_id: end_to_end_id.map(str::to_owned),
                payment_information_id: payment_information_id.map(str::to_owned),
                booking_date: entry.booking_date,
            });
            true
        }
        CamtClass::Other => false,
    }
}
