//! What each record of a report means for our collections: an R-transaction of which kind,
//! a settlement, or something else on the account.
//!
//! Kept apart from the parsers so the rules (which the SEPA rulebook and the banks' habits
//! decide, not the XML) can be read and tested in one place.

use std::fmt;

use serde::Serialize;

use super::camt::{Entry, Transaction};
use super::pain002::StatusReason;
use super::value::CreditDebit;

/// The five kinds of SEPA R-transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RKind {
    /// Refused before settlement by a bank (pain.002 RJCT, any reason but MS02).
    Reject,
    /// Refused before settlement by the debtor (pain.002 RJCT with MS02).
    Refusal,
    /// Sent back by the debtor bank after settlement (e.g. AM04, AC04, MD07).
    Return,
    /// Claimed back by the debtor after settlement: MD06 (authorised debit, 8 weeks) or
    /// MD01 (no mandate, 13 months).
    Refund,
    /// Undone by the creditor side after settlement (creditor-initiated reversal or
    /// cancellation, bank transaction sub-family PRDD / RCDD).
    Reversal,
}

impl RKind {
    /// The lower-case word used in JSON, CSV and the timeline.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reject => "reject",
            Self::Refusal => "refusal",
            Self::Return => "return",
            Self::Refund => "refund",
            Self::Reversal => "reversal",
        }
    }
}

impl fmt::Display for RKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind of a pain.002 status, `None` unless it is RJCT: MS02 ("not specified reason,
/// customer generated", i.e. the debtor refused) makes a refusal, anything else a reject.
pub(crate) fn status_reject_kind(status: Option<&str>, reasons: &[StatusReason]) -> Option<RKind> {
    if status != Some("RJCT") {
        return None;
    }
    let code = reasons.iter().find_map(StatusReason::code);
    Some(if code == Some("MS02") {
        RKind::Refusal
    } else {
        RKind::Reject
    })
}

/// What one camt entry or transaction is to a SEPA direct-debit creditor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CamtClass {
    /// It undoes a payment: the kind says who undid it.
    RTransaction(RKind),
    /// A booked credit settling a direct-debit collection, with an id to match it by.
    Settlement,
    /// Anything else on the account (card payments, transfers, fees, other creditors'...).
    Other,
}

/// Bank transaction sub-families that undo a direct debit after settlement.
const UNDO_SUB_FAMILIES: [&str; 3] = ["UPDD", "PRDD", "RCDD"];
/// Of those, the ones the creditor side initiates.
const REVERSAL_SUB_FAMILIES: [&str; 2] = ["PRDD", "RCDD"];

/// Classifies one transaction of an entry, or the entry itself when it has no `TxDtls`.
///
/// - `RtrInf` present → an R-transaction, whatever the payment type (inspect lists them all);
///   its kind: reversal for sub-family PRDD/RCDD, refund for MD06/MD01, else return.
/// - a debit undoing a direct debit without `RtrInf` (IDDT/RDDT with UPDD/PRDD/RCDD, or a
///   reversed direct-debit booking `RvslInd=true`) → an R-transaction without reason code.
/// - a booked, non-reversed credit of the direct-debit family IDDT (or with no ISO code but a
///   batch PmtInfId or a mandate id), carrying an EndToEndId or PmtInfId → a settlement.
/// - anything else → other.
pub fn classify(entry: &Entry, transaction: Option<&Transaction>) -> CamtClass {
    let code = transaction
        .and_then(|t| t.bank_transaction_code.as_ref())
        .filter(|c| c.domain.is_some())
        .unwrap_or(&entry.bank_transaction_code);
    let sub_family = code.sub_family.as_deref().unwrap_or_default();
    let family = code.family.as_deref();
    let reversal_code = REVERSAL_SUB_FAMILIES.contains(&sub_family);

    if let Some(info) = transaction.and_then(|t| t.return_info.as_ref()) {
        return CamtClass::RTransaction(match info.code() {
            _ if reversal_code => RKind::Reversal,
            Some("MD06" | "MD01") => RKind::Refund,
            _ => RKind::Return,
        });
    }

    let direct_debit_family = matches!(family, Some("IDDT" | "RDDT"));
    let debit = entry.credit_debit == Some(CreditDebit::Debit);
    if debit && direct_debit_family && (UNDO_SUB_FAMILIES.contains(&sub_family) || entry.reversal) {
        return CamtClass::RTransaction(if reversal_code { RKind::Reversal } else { RKind::Return });
    }

    let booked = entry.status.as_deref().is_none_or(|s| s == "BOOK");
    let credit = entry.credit_debit == Some(CreditDebit::Credit);
    let batch_payment_info = entry.batch.as_ref().and_then(|b| b.payment_info_id.as_deref());
    let collection = match family {
        Some("IDDT") => !UNDO_SUB_FAMILIES.contains(&sub_family),
        Some(_) => false,
        None => batch_payment_info.is_some() || transaction.is_some_and(|t| t.mandate_id.is_some()),
    };
    let has_key = transaction
        .is_some_and(|t| is_reference(t.end_to_end_id.as_deref()) || is_reference(t.payment_info_id.as_deref()))
        || is_reference(batch_payment_info);
    if credit && booked && !entry.reversal && collection && has_key {
        CamtClass::Settlement
    } else {
        CamtClass::Other
    }
}

/// Whether an id read from a bank file can identify anything (`NOTPROVIDED` cannot).
fn is_reference(id: Option<&str>) -> bool {
    id.is_some_and(|id| !id.is_empty() && id != "NOTPROVIDED")
}
