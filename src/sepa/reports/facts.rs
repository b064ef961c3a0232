//! The facts a bank report states, as one stream for every report type: what `inspect`
//! lists and what `ingest` books come from the same classification, record by record.

use std::io::BufRead;
use std::ops::ControlFlow;

use chrono::NaiveDate;

use super::camt::{CamtItem, Entry, Transaction};
use super::classify::{CamtClass, RKind, classify};
use super::pain002::{Pain002Item, StatusReason};
use super::value::{Amount, CreditDebit};
use super::{Report, ReportError};

/// One fact, in file order. Owned, so it can cross a channel to the ingest job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fact {
    /// The report itself: always the first fact of a pain.002; for camt, when the header has
    /// been read.
    Message {
        /// The message's own MsgId.
        message_id: Option<String>,
        /// pain.002 `GrpSts`.
        group_status: Option<String>,
        /// pain.002 `OrgnlMsgId`: our pain.008 it answers.
        original_message_id: Option<String>,
        /// Day the report was created.
        created_on: Option<NaiveDate>,
    },
    /// A payment failed or was undone.
    RTransaction(RFact),
    /// A payment (or a whole batch) was credited.
    Settlement(SettlementFact),
    /// A booking that is neither (someone else's payment, fees, no usable ids).
    Unmatched(UnmatchedFact),
    /// Something the reader could not read; the rest of the file still counts.
    Warning(String),
}

/// A reject, refusal, return, refund or reversal. Without an EndToEndId it covers a whole
/// payment-information block (`payment_information_id`) or, without either, the whole
/// original message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RFact {
    /// Which kind.
    pub kind: RKind,
    /// ISO (or proprietary) reason code.
    pub reason: Option<String>,
    /// The collection attempt concerned.
    pub end_to_end_id: Option<String>,
    /// The block concerned, for block-level rejects.
    pub payment_information_id: Option<String>,
    /// pain.002: our MsgId the report answers.
    pub original_message_id: Option<String>,
    /// The amount, when the file says.
    pub amount: Option<Amount>,
    /// camt: the booking date of the entry.
    pub booking_date: Option<NaiveDate>,
    /// camt: the bank's reference of the entry (`AcctSvcrRef`, else `NtryRef`).
    pub entry_reference: Option<String>,
}

/// A direct-debit credit: per transaction when the bank details the batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettlementFact {
    /// The collection attempt, when detailed.
    pub end_to_end_id: Option<String>,
    /// The block (batch booking).
    pub payment_information_id: Option<String>,
    /// Amount of this transaction (or of the batch, when not detailed).
    pub amount: Option<Amount>,
    /// Booking date.
    pub booking_date: Option<NaiveDate>,
    /// The bank's reference of the entry.
    pub entry_reference: Option<String>,
}

/// A booking collecte has nothing to do with, kept so that nothing is dropped silently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnmatchedFact {
    /// A line for people: bank transaction code, debtor or remittance, reference.
    pub description: String,
    /// Amount.
    pub amount: Option<Amount>,
    /// Credit or debit.
    pub credit_debit: Option<CreditDebit>,
    /// Booking date.
    pub booking_date: Option<NaiveDate>,
    /// The EndToEndId, if any.
    pub end_to_end_id: Option<String>,
    /// The bank's reference of the entry.
    pub entry_reference: Option<String>,
}

fn first_code(reasons: &[StatusReason]) -> Option<String> {
    reasons.iter().find_map(StatusReason::code).map(str::to_owned)
}

fn entry_reference(entry: &Entry) -> Option<String> {
    entry
        .account_servicer_reference
        .clone()
        .or_else(|| entry.reference.clone())
}

fn warnings(sink: &mut impl FnMut(Fact) -> ControlFlow<()>, list: &[super::Warning]) -> ControlFlow<()> {
    for w in list {
        sink(Fact::Warning(w.to_string()))?;
    }
    ControlFlow::Continue(())
}

/// Streams every fact of one report to `sink`, which may stop the reading by breaking.
pub fn for_each_fact<R: BufRead>(
    report: Report<R>,
    mut sink: impl FnMut(Fact) -> ControlFlow<()>,
) -> Result<(), ReportError> {
    match report {
        Report::Pain002(mut reader) => {
            let mut original_message_id = None;
            while let Some(item) = reader.next_item()? {
                let flow = match item {
                    Pain002Item::Group(group) => {
                        original_message_id.clone_from(&group.original_message_id);
                        let mut flow = warnings(&mut sink, &group.warnings);
                        if flow.is_continue() {
                            flow = sink(Fact::Message {
                                message_id: group.message_id.clone(),
                                group_status: group.status.clone(),
                                original_message_id: group.original_message_id.clone(),
                                created_on: group.creation_date,
                            });
                        }
                        match (flow, group.rejects_all()) {
                            (ControlFlow::Continue(()), Some(kind)) => sink(Fact::RTransaction(RFact {
                                kind,
                                reason: first_code(&group.reasons),
                                end_to_end_id: None,
                                payment_information_id: None,
                                original_message_id: group.original_message_id,
                                amount: None,
                                booking_date: None,
                                entry_reference: None,
                            })),
                            (flow, _) => flow,
                        }
                    }
                    Pain002Item::PaymentInfo(block) => {
                        let flow = warnings(&mut sink, &block.warnings);
                        match (flow, block.rejects_all()) {
                            (ControlFlow::Continue(()), Some(kind)) => sink(Fact::RTransaction(RFact {
                                kind,
                                reason: first_code(&block.reasons),
                                end_to_end_id: None,
                                payment_information_id: block.original_payment_info_id,
                                original_message_id: original_message_id.clone(),
                                amount: None,
                                booking_date: None,
                                entry_reference: None,
                            })),
                            (flow, _) => flow,
                        }
                    }
                    Pain002Item::Transaction(tx) => {
                        let flow = warnings(&mut sink, &tx.warnings);
                        match (flow, tx.r_kind()) {
                            (ControlFlow::Continue(()), Some(kind)) => sink(Fact::RTransaction(RFact {
                                kind,
                                reason: tx.reason_code().map(str::to_owned),
                                end_to_end_id: tx.original_end_to_end_id,
                                payment_information_id: tx.original_payment_info_id,
                                original_message_id: original_message_id.clone(),
                                amount: tx.amount,
                                booking_date: None,
                                entry_reference: None,
                            })),
                            (flow, _) => flow,
                        }
                    }
                };
                if flow.is_break() {
                    return Ok(());
                }
            }
        }
        Report::Camt(mut reader) => {
            let mut entry_used = false;
            while let Some(item) = reader.next_item()? {
                if camt_item(item, &mut entry_used, &mut sink).is_break() {
                    return Ok(());
                }
            }
        }
    }
    Ok(())
}

/// The facts of one camt record; `entry_used` remembers whether the current entry produced
/// any, so an entry that produced none is reported unmatched at its end.
fn camt_item(
    item: CamtItem<'_>,
    entry_used: &mut bool,
    sink: &mut impl FnMut(Fact) -> ControlFlow<()>,
) -> ControlFlow<()> {
    match item {
        CamtItem::Header(header) => {
            warnings(sink, &header.warnings)?;
            sink(Fact::Message {
                message_id: header.message_id.clone(),
                group_status: None,
                original_message_id: None,
                created_on: header.creation_date,
            })
        }
        CamtItem::Account(_) => ControlFlow::Continue(()),
        CamtItem::Transaction { entry, transaction } => {
            warnings(sink, &transaction.warnings)?;
            match camt_fact(entry, Some(&transaction)) {
                Some(fact) => {
                    *entry_used = true;
                    sink(fact)
                }
                None => ControlFlow::Continue(()),
            }
        }
        CamtItem::EntryEnd { entry, transactions } => {
            let used = std::mem::take(entry_used);
            warnings(sink, &entry.warnings)?;
            if transactions == 0
                && let Some(fact) = camt_fact(entry, None)
            {
                return sink(fact);
            }
            if used {
                ControlFlow::Continue(())
            } else {
                sink(Fact::Unmatched(unmatched(entry)))
            }
        }
    }
}

/// What one transaction (or an entry without details) is, if it is ours to book.
fn camt_fact(entry: &Entry, transaction: Option<&Transaction>) -> Option<Fact> {
    let amount = match transaction {
        Some(t) => t.amount.clone(),
        None => entry.amount.clone(),
    };
    let end_to_end_id = transaction.and_then(|t| t.end_to_end_id.clone());
    match classify(entry, transaction) {
        CamtClass::RTransaction(kind) => Some(Fact::RTransaction(RFact {
            kind,
            reason: transaction.and_then(Transaction::reason_code).map(str::to_owned),
            end_to_end_id,
            payment_information_id: transaction.and_then(|t| t.payment_info_id.clone()),
            original_message_id: transaction.and_then(|t| t.message_id.clone()),
            amount,
            booking_date: entry.booking_date,
            entry_reference: entry_reference(entry),
        })),
        CamtClass::Settlement => Some(Fact::Settlement(SettlementFact {
            end_to_end_id,
            payment_information_id: transaction
                .and_then(|t| t.payment_info_id.clone())
                .or_else(|| entry.batch.as_ref()?.payment_info_id.clone()),
            amount,
            booking_date: entry.booking_date,
            entry_reference: entry_reference(entry),
        })),
        CamtClass::Other => None,
    }
}

fn unmatched(entry: &Entry) -> UnmatchedFact {
    let code = &entry.bank_transaction_code;
    let parts: Vec<&str> = [
        code.domain.as_deref(),
        code.family.as_deref(),
        code.sub_family.as_deref(),
        code.proprietary.as_deref(),
        entry.additional_info.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect();
    UnmatchedFact {
        description: if parts.is_empty() {
            "entry without bank transaction code".to_owned()
        } else {
            parts.join(" ")
        },
        amount: entry.amount.clone(),
        credit_debit: entry.credit_debit,
        booking_date: entry.booking_date,
        end_to_end_id: None,
        entry_reference: entry_reference(entry),
    }
}
