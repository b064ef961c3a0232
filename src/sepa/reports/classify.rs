//! What each record of a report means for our collections: an R-transaction of which kind,
//! a settlement, or something else on the account.
//!
//! Kept apart from the parsers so the rules (which the SEPA rulebook and the banks' habits
//! decide, not the XML) can be read and tested in one place.

use std::fmt;

use serde::Serialize;

use super::camt::{BankTransactionCode, Entry, Transaction};
use super::pain002::StatusReason;
use super::value::CreditDebit;
use crate::sepa::pain008::LocalInstrument;

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
    /// Claimed back by the debtor after settlement, under SDD Core only: MD06 (authorised
    /// debit, 8 weeks) or MD01 (no mandate, 13 months). SDD B2B has no refund right: an MD01
    /// there is a return of a collection the debtor bank holds no mandate for.
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

/// When an R-transaction happens: before settlement the debtor bank refuses to pay (pain.002),
/// after it the money comes back (camt).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// pain.002 `RJCT` at group, payment-information or transaction level.
    BeforeSettlement,
    /// A camt booking that undoes a settled collection.
    AfterSettlement,
}

/// The kind of an R-transaction: the one table of the rules.
///
/// | stage | reason | scheme | initiated by | kind |
/// | --- | --- | --- | --- | --- |
/// | before | MS02 | any | debtor | refusal |
/// | before | any other or none | any | bank | reject |
/// | after | any | any | creditor (PRDD / RCDD) | reversal |
/// | after | MD06, MD01 | CORE or not known | debtor | refund |
/// | after | MD06, MD01 | B2B | debtor bank | return |
/// | after | any other or none | any | debtor bank | return |
///
/// An unknown scheme reads as CORE, the scheme collecte collects under by default: the
/// 2019 camt versions carry `LclInstrm`, and every version carries the original sub-family
/// (ESDD / BBDD) in `RtrInf/OrgnlBkTxCd` when the bank writes it (see [`local_instrument`]);
/// the ledger does not record the scheme per collection, so it cannot tell either.
pub fn r_kind(stage: Stage, reason: Option<&str>, scheme: Option<LocalInstrument>, creditor_initiated: bool) -> RKind {
    match stage {
        Stage::BeforeSettlement if reason == Some("MS02") => RKind::Refusal,
        Stage::BeforeSettlement => RKind::Reject,
        Stage::AfterSettlement if creditor_initiated => RKind::Reversal,
        Stage::AfterSettlement => match (reason, scheme) {
            (Some("MD06" | "MD01"), None | Some(LocalInstrument::Core)) => RKind::Refund,
            _ => RKind::Return,
        },
    }
}

/// The kind of a pain.002 status, `None` unless it is RJCT: MS02 ("not specified reason,
/// customer generated", i.e. the debtor refused) makes a refusal, anything else a reject.
pub(crate) fn status_reject_kind(status: Option<&str>, reasons: &[StatusReason]) -> Option<RKind> {
    if status != Some("RJCT") {
        return None;
    }
    let code = reasons.iter().find_map(StatusReason::code);
    Some(r_kind(Stage::BeforeSettlement, code, None, false))
}

/// The scheme (CORE or B2B) a camt transaction says its collection ran under: `LclInstrm`
/// (from .08 on), else the sub-family of `RtrInf/OrgnlBkTxCd`, of the transaction's or of
/// the entry's bank transaction code (ESDD: Core, BBDD: B2B). `None` when none says.
pub fn local_instrument(entry: &Entry, transaction: Option<&Transaction>) -> Option<LocalInstrument> {
    let declared = transaction
        .and_then(|t| t.local_instrument.as_deref())
        .and_then(|code| match code {
            "CORE" | "COR1" => Some(LocalInstrument::Core),
            "B2B" => Some(LocalInstrument::B2b),
            _ => None,
        });
    let by_code = |code: Option<&BankTransactionCode>| match code?.sub_family.as_deref()? {
        "ESDD" => Some(LocalInstrument::Core),
        "BBDD" => Some(LocalInstrument::B2b),
        _ => None,
    };
    declared
        .or_else(|| {
            by_code(
                transaction
                    .and_then(|t| t.return_info.as_ref())
                    .and_then(|r| r.original_bank_transaction_code.as_ref()),
            )
        })
        .or_else(|| by_code(transaction.and_then(|t| t.bank_transaction_code.as_ref())))
        .or_else(|| by_code(Some(&entry.bank_transaction_code)))
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
///   its kind from [`r_kind`]: reversal for sub-family PRDD/RCDD, refund for MD06/MD01 of a
///   Core (or unknown-scheme) collection, else return.
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
        let scheme = local_instrument(entry, transaction);
        return CamtClass::RTransaction(r_kind(Stage::AfterSettlement, info.code(), scheme, reversal_code));
    }

    let direct_debit_family = matches!(family, Some("IDDT" | "RDDT"));
    let debit = entry.credit_debit == Some(CreditDebit::Debit);
    if debit && direct_debit_family && (UNDO_SUB_FAMILIES.contains(&sub_family) || entry.reversal) {
        return CamtClass::RTransaction(r_kind(Stage::AfterSettlement, None, None, reversal_code));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sepa::reports::camt::ReturnInfo;
    use LocalInstrument::{B2b, Core};
    use RKind::{Refund, Refusal, Reject, Return, Reversal};
    use Stage::{AfterSettlement as After, BeforeSettlement as Before};

    #[test]
    fn the_kind_by_reason_scheme_and_stage() {
        let schemes = [None, Some(Core), Some(B2b)];
        // (stage, reason, creditor initiated, kind under [unknown, CORE, B2B])
        let table: &[(Stage, Option<&str>, bool, [RKind; 3])] = &[
            (Before, Some("MS02"), false, [Refusal; 3]),
            (Before, Some("MD01"), false, [Reject; 3]),
            (Before, Some("MD06"), false, [Reject; 3]),
            (Before, Some("AC04"), false, [Reject; 3]),
            (Before, Some("AM04"), false, [Reject; 3]),
            (Before, None, false, [Reject; 3]),
            (After, Some("MD01"), false, [Refund, Refund, Return]),
            (After, Some("MD06"), false, [Refund, Refund, Return]),
            (After, Some("MS02"), false, [Return; 3]),
            (After, Some("AC04"), false, [Return; 3]),
            (After, Some("AM04"), false, [Return; 3]),
            (After, Some("MD07"), false, [Return; 3]),
            (After, Some("SL01"), false, [Return; 3]),
            (After, None, false, [Return; 3]),
            (After, Some("MD01"), true, [Reversal; 3]),
            (After, Some("MD06"), true, [Reversal; 3]),
            (After, Some("AC04"), true, [Reversal; 3]),
            (After, None, true, [Reversal; 3]),
        ];
        for &(stage, reason, initiated, kinds) in table {
            for (scheme, kind) in schemes.into_iter().zip(kinds) {
                assert_eq!(
                    r_kind(stage, reason, scheme, initiated),
                    kind,
                    "{stage:?} {reason:?} {scheme:?} creditor-initiated {initiated}"
                );
            }
        }
    }

    #[test]
    fn pain002_statuses_are_rejects_or_refusals_whatever_the_code() {
        let reasons = |code: &str| {
            vec![StatusReason {
                code: Some(code.to_owned()),
                ..StatusReason::default()
            }]
        };
        assert_eq!(status_reject_kind(Some("RJCT"), &reasons("MS02")), Some(Refusal));
        assert_eq!(status_reject_kind(Some("RJCT"), &reasons("MD01")), Some(Reject));
        assert_eq!(status_reject_kind(Some("RJCT"), &[]), Some(Reject));
        assert_eq!(status_reject_kind(Some("ACCP"), &reasons("MS02")), None);
        assert_eq!(status_reject_kind(None, &[]), None);
    }

    fn code(sub_family: &str) -> BankTransactionCode {
        BankTransactionCode {
            domain: Some("PMNT".into()),
            family: Some("IDDT".into()),
            sub_family: Some(sub_family.into()),
            ..BankTransactionCode::default()
        }
    }

    /// A booked debit returning one collection with `reason`, as banks write it.
    fn returned(reason: &str) -> (Entry, Transaction) {
        let entry = Entry {
            credit_debit: Some(CreditDebit::Debit),
            reversal: true,
            status: Some("BOOK".into()),
            bank_transaction_code: code("UPDD"),
            ..Entry::default()
        };
        let tx = Transaction {
            end_to_end_id: Some("E2E-1".into()),
            return_info: Some(ReturnInfo {
                code: Some(reason.into()),
                ..ReturnInfo::default()
            }),
            ..Transaction::default()
        };
        (entry, tx)
    }

    #[test]
    fn an_md01_on_a_b2b_collection_is_a_return_wherever_the_camt_says_b2b() {
        let refund = CamtClass::RTransaction(Refund);
        let back = CamtClass::RTransaction(Return);
        // Nothing says the scheme: Core, the refund of an unauthorised debit.
        let (entry, tx) = returned("MD01");
        assert_eq!(local_instrument(&entry, Some(&tx)), None);
        assert_eq!(classify(&entry, Some(&tx)), refund);
        // `LclInstrm/Cd` (2019 versions).
        for (declared, expected) in [("B2B", back), ("CORE", refund), ("COR1", refund), ("XYZ", refund)] {
            let (entry, mut tx) = returned("MD01");
            tx.local_instrument = Some(declared.into());
            assert_eq!(classify(&entry, Some(&tx)), expected, "{declared}");
        }
        // `RtrInf/OrgnlBkTxCd` (every version), the transaction's or the entry's sub-family.
        let (entry, mut tx) = returned("MD01");
        if let Some(info) = tx.return_info.as_mut() {
            info.original_bank_transaction_code = Some(code("BBDD"));
        }
        assert_eq!(classify(&entry, Some(&tx)), back);
        let (entry, mut tx) = returned("MD06");
        tx.bank_transaction_code = Some(code("BBDD"));
        assert_eq!(classify(&entry, Some(&tx)), back);
        let (mut entry, tx) = returned("MD01");
        entry.bank_transaction_code = code("BBDD");
        assert_eq!(classify(&entry, Some(&tx)), back);
        // `LclInstrm` wins over the codes; a creditor-side reversal stays a reversal.
        let (mut entry, mut tx) = returned("MD01");
        entry.bank_transaction_code = code("BBDD");
        tx.local_instrument = Some("CORE".into());
        assert_eq!(local_instrument(&entry, Some(&tx)), Some(Core));
        assert_eq!(classify(&entry, Some(&tx)), refund);
        let (entry, mut tx) = returned("MD01");
        tx.local_instrument = Some("B2B".into());
        tx.bank_transaction_code = Some(code("PRDD"));
        assert_eq!(classify(&entry, Some(&tx)), CamtClass::RTransaction(Reversal));
    }
}
