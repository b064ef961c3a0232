//! The pain.002 customer payment status report a creditor bank sends about a pain.008.
//!
//! Statuses are stated where the bank decided, as the real reports in `sepa-samples` do:
//! - a whole-file rejection is `GrpSts` RJCT with its reason, and nothing below it;
//! - a whole-group rejection is `PmtInfSts` RJCT with its reason, without transactions
//!   (like the Swiss B-level report);
//! - transaction rejections are `TxInfAndSts` RJCT with reason and `OrgnlTxRef`, in a block
//!   whose `PmtInfSts` is PART when some of the group went through, and is left out when
//!   none did (like the Bank of Ireland unpaid report): a block status without a reason would
//!   read as one more, reasonless, rejection of the whole group;
//! - `GrpSts` is ACCP when nothing is rejected, PART (with `NbOfTxsPerSts`) when some is,
//!   and left out when every transaction was rejected at a lower level, for the same reason.
//!
//! Groups without any reject are not listed, as banks only report what needs action.

use super::model::{OriginalGroup, OriginalTransaction, Outcome, ReasonCode};
use super::xml::{Tags, Xml, agent, date_time};
use super::{BankError, BankReply, Pain002Version, ReportHeader, sum_cents};
use crate::sepa::Bic;

/// Who stated a status: a bank by BIC, or the debtor by name (a refusal).
enum Originator<'a> {
    Bank(&'a Bic),
    Debtor(&'a str),
}

const MESSAGE: &str = "CstmrPmtStsRpt";

pub(super) fn write(
    reply: &BankReply<'_>,
    version: Pain002Version,
    header: &ReportHeader,
) -> Result<Vec<u8>, BankError> {
    let original = reply.original;
    let tags = Tags {
        v2019: version == Pain002Version::V10,
    };
    let created_at = date_time("report creation time", &header.created_at)?;
    let original_created_at = date_time("original creation time", &original.created_at)?;
    let total = sum_cents(
        || format!("message {}", original.message_id),
        tx_amounts(original.groups.iter()),
    )?;
    let creditor_bank = original.creditor.bic.as_ref();

    // What was rejected below the file level: (count, sum) of rejected and of the rest.
    let mut rejected = (0u64, 0i64);
    let mut accepted = (0u64, 0i64);
    for (g, group) in original.groups.iter().enumerate() {
        for (t, tx) in group.transactions.iter().enumerate() {
            let side = if reply.group_rejection(g).is_some() || matches!(reply.outcome_at(g, t), Outcome::Rejected(_)) {
                &mut rejected
            } else {
                &mut accepted
            };
            side.0 += 1;
            side.1 += tx.amount.cents();
        }
    }

    let mut xml = Xml::document(
        &format!("urn:iso:std:iso:20022:tech:xsd:{}", version.message_name()),
        MESSAGE,
    );
    xml.open("GrpHdr");
    xml.leaf("MsgId", header.message_id.as_str());
    xml.leaf("CreDtTm", &created_at);
    if let Some(bic) = creditor_bank {
        agent(&mut xml, tags, "CdtrAgt", bic);
    }
    xml.close("GrpHdr");

    xml.open("OrgnlGrpInfAndSts");
    xml.leaf("OrgnlMsgId", original.message_id.as_str());
    xml.leaf("OrgnlMsgNmId", original.version.message_name());
    xml.leaf("OrgnlCreDtTm", &original_created_at);
    xml.leaf("OrgnlNbOfTxs", &original.nb_of_txs().to_string());
    xml.decimal("OrgnlCtrlSum", total);
    if let Some(reason) = reply.file_rejection {
        xml.leaf("GrpSts", "RJCT");
        status_reason(&mut xml, tags, creditor_bank.map(Originator::Bank), reason);
    } else if rejected.0 == 0 {
        xml.leaf("GrpSts", "ACCP");
    } else if accepted.0 > 0 {
        xml.leaf("GrpSts", "PART");
        for (status, (nb, sum)) in [("ACCP", accepted), ("RJCT", rejected)] {
            xml.open("NbOfTxsPerSts");
            xml.leaf("DtldNbOfTxs", &nb.to_string());
            xml.leaf("DtldSts", status);
            xml.decimal("DtldCtrlSum", sum);
            xml.close("NbOfTxsPerSts");
        }
    }
    xml.close("OrgnlGrpInfAndSts");

    if reply.file_rejection.is_none() {
        for (g, group) in original.groups.iter().enumerate() {
            write_block(&mut xml, reply, tags, g, group)?;
        }
    }
    Ok(xml.finish(MESSAGE))
}

fn tx_amounts<'a>(groups: impl Iterator<Item = &'a OriginalGroup>) -> impl Iterator<Item = i64> {
    groups.flat_map(|g| g.transactions.iter().map(|t| t.amount.cents()))
}

/// One `OrgnlPmtInfAndSts`, when the group holds a reject.
fn write_block(
    xml: &mut Xml,
    reply: &BankReply<'_>,
    tags: Tags,
    g: usize,
    group: &OriginalGroup,
) -> Result<(), BankError> {
    let group_rejection = reply.group_rejection(g);
    let rejects: Vec<(&OriginalTransaction, ReasonCode)> = group
        .transactions
        .iter()
        .enumerate()
        .filter_map(|(t, tx)| match reply.outcome_at(g, t) {
            Outcome::Rejected(reason) => Some((tx, reason)),
            _ => None,
        })
        .collect();
    if group_rejection.is_none() && rejects.is_empty() {
        return Ok(());
    }
    let total = sum_cents(
        || format!("payment group {}", group.payment_info_id),
        tx_amounts(std::iter::once(group)),
    )?;
    xml.open("OrgnlPmtInfAndSts");
    xml.leaf("OrgnlPmtInfId", group.payment_info_id.as_str());
    xml.leaf("OrgnlNbOfTxs", &group.transactions.len().to_string());
    xml.decimal("OrgnlCtrlSum", total);
    let creditor_bank = reply.original.creditor.bic.as_ref();
    if let Some(reason) = group_rejection {
        xml.leaf("PmtInfSts", "RJCT");
        status_reason(xml, tags, creditor_bank.map(Originator::Bank), reason);
    } else {
        if rejects.len() < group.transactions.len() {
            xml.leaf("PmtInfSts", "PART");
        }
        for (tx, reason) in rejects {
            transaction(xml, reply, tags, group, tx, reason);
        }
    }
    xml.close("OrgnlPmtInfAndSts");
    Ok(())
}

/// One rejected `TxInfAndSts` with the reference data banks repeat from the collection.
fn transaction(
    xml: &mut Xml,
    reply: &BankReply<'_>,
    tags: Tags,
    group: &OriginalGroup,
    tx: &OriginalTransaction,
    reason: ReasonCode,
) {
    let creditor = &reply.original.creditor;
    xml.open("TxInfAndSts");
    xml.leaf("OrgnlEndToEndId", tx.end_to_end_id.as_str());
    xml.leaf("TxSts", "RJCT");
    // A refusal comes from the debtor; anything else from the debtor's bank when known.
    let originator = if reason == ReasonCode::MS02 {
        Some(Originator::Debtor(tx.debtor_name.as_str()))
    } else {
        tx.debtor_bic.as_ref().map(Originator::Bank)
    };
    status_reason(xml, tags, originator, reason);

    xml.open("OrgnlTxRef");
    xml.open("Amt");
    xml.amount("InstdAmt", tx.amount.cents());
    xml.close("Amt");
    xml.date("ReqdColltnDt", group.collection_date);
    xml.open("CdtrSchmeId");
    xml.scheme_id(creditor.id.as_str());
    xml.close("CdtrSchmeId");
    xml.open("PmtTpInf");
    xml.wrapped("SvcLvl", "Cd", "SEPA");
    xml.wrapped("LclInstrm", "Cd", group.local_instrument.code());
    xml.leaf("SeqTp", group.sequence_type.code());
    xml.close("PmtTpInf");
    xml.open("MndtRltdInf");
    xml.leaf("MndtId", tx.mandate_id.as_str());
    if let Some(signed) = tx.mandate_signed_on {
        xml.date("DtOfSgntr", signed);
    }
    xml.close("MndtRltdInf");
    if let Some(text) = &tx.remittance {
        xml.wrapped("RmtInf", "Ustrd", text.as_str());
    }
    party(xml, tags, "Dbtr", tx.debtor_name.as_str());
    account(xml, "DbtrAcct", tx.debtor_iban.as_str());
    if let Some(bic) = &tx.debtor_bic {
        agent(xml, tags, "DbtrAgt", bic);
    }
    if let Some(bic) = &creditor.bic {
        agent(xml, tags, "CdtrAgt", bic);
    }
    party(xml, tags, "Cdtr", creditor.name.as_str());
    account(xml, "CdtrAcct", creditor.iban.as_str());
    xml.close("OrgnlTxRef");
    xml.close("TxInfAndSts");
}

/// `StsRsnInf`: who, the ISO code, and its name as additional information.
fn status_reason(xml: &mut Xml, tags: Tags, originator: Option<Originator<'_>>, reason: ReasonCode) {
    xml.open("StsRsnInf");
    match originator {
        Some(Originator::Bank(bic)) => {
            xml.open("Orgtr");
            xml.open("Id");
            xml.wrapped("OrgId", tags.party_bic(), bic.as_str());
            xml.close("Id");
            xml.close("Orgtr");
        }
        Some(Originator::Debtor(name)) => xml.wrapped("Orgtr", "Nm", name),
        None => {}
    }
    xml.wrapped("Rsn", "Cd", reason.as_str());
    if let Some(name) = reason.name() {
        xml.leaf("AddtlInf", name);
    }
    xml.close("StsRsnInf");
}

fn party(xml: &mut Xml, tags: Tags, tag: &str, name: &str) {
    xml.open(tag);
    if tags.v2019 {
        xml.wrapped("Pty", "Nm", name);
    } else {
        xml.leaf("Nm", name);
    }
    xml.close(tag);
}

fn account(xml: &mut Xml, tag: &str, iban: &str) {
    xml.open(tag);
    xml.wrapped("Id", "IBAN", iban);
    xml.close(tag);
}
