//! ISO 20022 status and return reason codes with their ISO names.
//!
//! Every R-transaction records its reason text next to the code so that digests, exports and
//! the timeline can say "InsufficientFunds" without each of them carrying the table. Names are
//! those of the ISO External Code Sets (ExternalStatusReason1Code / ExternalReturnReason1Code)
//! for the codes SEPA direct debits meet; unknown and proprietary codes have no name.

/// The ISO name of a reason code (`AM04` → `InsufficientFunds`), `None` when unknown.
pub fn reason_name(code: &str) -> Option<&'static str> {
    Some(match code {
        "AC01" => "IncorrectAccountNumber",
        "AC02" => "InvalidDebtorAccountNumber",
        "AC03" => "InvalidCreditorAccountNumber",
        "AC04" => "ClosedAccountNumber",
        "AC06" => "BlockedAccount",
        "AC13" => "InvalidDebtorAccountType",
        "AG01" => "TransactionForbidden",
        "AG02" => "InvalidBankOperationCode",
        "AM01" => "ZeroAmount",
        "AM02" => "NotAllowedAmount",
        "AM03" => "NotAllowedCurrency",
        "AM04" => "InsufficientFunds",
        "AM05" => "Duplication",
        "AM06" => "TooLowAmount",
        "AM07" => "BlockedAmount",
        "AM09" => "WrongAmount",
        "AM10" => "InvalidControlSum",
        "BE01" => "InconsistentWithEndCustomer",
        "BE05" => "UnrecognisedInitiatingParty",
        "CNOR" => "CreditorBankIsNotRegistered",
        "CURR" => "IncorrectCurrency",
        "CUST" => "RequestedByCustomer",
        "DNOR" => "DebtorBankIsNotRegistered",
        "DUPL" => "DuplicatePayment",
        "ED05" => "SettlementFailed",
        "FF01" => "InvalidFileFormat",
        "FOCR" => "FollowingCancellationRequest",
        "FRAD" => "FraudulentOrigin",
        "MD01" => "NoMandate",
        "MD02" => "MissingMandatoryInformationInMandate",
        "MD06" => "RefundRequestByEndCustomer",
        "MD07" => "EndCustomerDeceased",
        "MS02" => "NotSpecifiedReasonCustomerGenerated",
        "MS03" => "NotSpecifiedReasonAgentGenerated",
        "NARR" => "Narrative",
        "RC01" => "BankIdentifierIncorrect",
        "RR01" => "MissingDebtorAccountOrIdentification",
        "RR02" => "MissingDebtorNameOrAddress",
        "RR03" => "MissingCreditorNameOrAddress",
        "RR04" => "RegulatoryReason",
        "SL01" => "SpecificServiceOfferedByDebtorAgent",
        "TECH" => "TechnicalProblem",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_codes_sepa_meets_have_names() {
        assert_eq!(reason_name("AM04"), Some("InsufficientFunds"));
        assert_eq!(reason_name("MD06"), Some("RefundRequestByEndCustomer"));
        assert_eq!(reason_name("MS02"), Some("NotSpecifiedReasonCustomerGenerated"));
        assert_eq!(reason_name("am04"), None);
        assert_eq!(reason_name("MS01"), None);
    }
}
