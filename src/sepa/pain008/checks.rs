//! The EPC rules the XSD does not check, applied before any byte is written.
//!
//! The SEPA value types already enforce the per-field rules (charset, lengths, check digits,
//! amount range). What is left are the rules between fields, and turning raw stored strings
//! into a [`Transaction`] with reasons a person can act on when that is impossible.

use chrono::NaiveDate;

use super::model::{
    Amendment, Creditor, OriginalDebtorAccount, PostalAddress, ShortAddressText, TownName, Transaction,
};
use crate::sepa::calendar;
use crate::sepa::money::{MAX_CENTS, format_cents};
use crate::sepa::text::{AddressText, Name, Remittance};
use crate::sepa::{Bic, CountryCode, CreditorId, EndToEndId, Iban, MandateId, Money, ParseError};

/// A rule between fields that a transaction made of valid values can still break.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransactionProblem {
    /// EPC rulebook: debtors banking outside the EEA must come with their address.
    #[error("debtor bank is in {country} (outside the EEA) and the customer has no postal address")]
    NonEeaDebtorWithoutAddress {
        /// The country of the debtor's IBAN.
        country: String,
    },
    /// EPC rulebook and the EU transfer-of-funds rules: when the creditor's bank is outside
    /// the EEA, every debtor (the payer) comes with an address too.
    #[error(
        "the creditor's bank is in {country} (outside the EEA), so every debtor needs a postal address, and the customer has none"
    )]
    NonEeaCreditorBankDebtorWithoutAddress {
        /// The country of the creditor's IBAN.
        country: String,
    },
    /// EPC rulebook: the BIC of a debtor bank outside the EEA is mandatory.
    #[error("debtor bank is in {country} (outside the EEA) and its BIC is unknown")]
    NonEeaDebtorWithoutBic {
        /// The country of the debtor's IBAN.
        country: String,
    },
    /// A mandate cannot authorise a collection due before it was signed.
    #[error("mandate was signed on {signed_on}, after the collection date {collection_date}")]
    MandateSignedAfterCollection {
        /// `DtOfSgntr`.
        signed_on: NaiveDate,
        /// `ReqdColltnDt`.
        collection_date: NaiveDate,
    },
    /// Banks reject an amendment whose "original" value is the current one.
    #[error("amendment gives the current mandate id {0} as the original one")]
    UnchangedMandateId(String),
    /// Banks reject an amendment whose "original" value is the current one.
    #[error("amendment gives the current creditor identifier {0} as the original one")]
    UnchangedCreditorId(String),
    /// Banks reject an amendment whose "original" value is the current one.
    #[error("amendment gives the current debtor IBAN {0} as the original one")]
    UnchangedDebtorIban(String),
    /// SEPA collects only on TARGET2 business days; banks reject any other date.
    #[error(
        "collection date {0} is not a TARGET2 business day (a weekend, 1 January, Easter Friday or Monday, 1 May, 25 or 26 December)"
    )]
    CollectionDateNotBusinessDay(NaiveDate),
}

/// Every problem of `tx` collected by `creditor_id` into `creditor_iban` on
/// `collection_date`, first one first.
///
/// Allocates only for the problems found, so the writer runs it on every transaction.
pub fn problems(
    tx: &Transaction,
    creditor_id: &CreditorId,
    creditor_iban: &Iban,
    collection_date: NaiveDate,
) -> impl Iterator<Item = TransactionProblem> + use<> {
    let non_eea = tx.debtor_iban.requires_debtor_address();
    let country = || tx.debtor_iban.country().to_owned();
    let creditor_non_eea = creditor_iban.requires_debtor_address();
    let amendment = tx.amendment.as_ref();
    [
        (non_eea && tx.debtor_address.is_none())
            .then(|| TransactionProblem::NonEeaDebtorWithoutAddress { country: country() }),
        (!non_eea && creditor_non_eea && tx.debtor_address.is_none()).then(|| {
            TransactionProblem::NonEeaCreditorBankDebtorWithoutAddress {
                country: creditor_iban.country().to_owned(),
            }
        }),
        (non_eea && tx.debtor_bic.is_none()).then(|| TransactionProblem::NonEeaDebtorWithoutBic { country: country() }),
        (tx.mandate_signed_on > collection_date).then_some(TransactionProblem::MandateSignedAfterCollection {
            signed_on: tx.mandate_signed_on,
            collection_date,
        }),
        amendment
            .and_then(Amendment::original_mandate_id)
            .filter(|id| **id == tx.mandate_id)
            .map(|id| TransactionProblem::UnchangedMandateId(id.to_string())),
        amendment
            .and_then(Amendment::original_creditor_id)
            .filter(|id| *id == creditor_id)
            .map(|id| TransactionProblem::UnchangedCreditorId(id.to_string())),
        amendment
            .and_then(Amendment::original_debtor_account)
            .and_then(|acct| match acct {
                OriginalDebtorAccount::Iban(iban) if *iban == tx.debtor_iban => {
                    Some(TransactionProblem::UnchangedDebtorIban(iban.as_str().to_owned()))
                }
                _ => None,
            }),
    ]
    .into_iter()
    .flatten()
}

/// A postal address as stored: free strings, blanks meaning "absent".
#[derive(Debug, Clone, Copy, Default)]
pub struct RawAddress<'a> {
    /// Street name (cut to 70 characters).
    pub street: Option<&'a str>,
    /// Building number (at most 16 characters).
    pub building_number: Option<&'a str>,
    /// Post code (at most 16 characters).
    pub postcode: Option<&'a str>,
    /// Town (mandatory, at most 35 characters).
    pub town: &'a str,
    /// ISO country code (mandatory).
    pub country: &'a str,
    /// Free-text lines of a hybrid address (at most 2, each cut to 70 characters).
    pub lines: &'a [&'a str],
}

/// A collection as stored: the strings the database or a CSV import hold.
#[derive(Debug, Clone, Copy)]
pub struct RawTransaction<'a> {
    /// End-to-end id of this attempt.
    pub end_to_end_id: &'a str,
    /// Amount in cents.
    pub amount_cents: i64,
    /// Mandate reference.
    pub mandate_id: &'a str,
    /// Mandate signature date.
    pub mandate_signed_on: NaiveDate,
    /// Debtor name, any Unicode (transliterated, cut to 70 characters).
    pub debtor_name: &'a str,
    /// Debtor IBAN.
    pub debtor_iban: &'a str,
    /// Debtor BIC, if known.
    pub debtor_bic: Option<&'a str>,
    /// Debtor address, if known.
    pub debtor_address: Option<RawAddress<'a>>,
    /// Remittance text, any Unicode (transliterated, cut to 140 characters).
    pub remittance: Option<&'a str>,
    /// Amendment: the previous mandate id.
    pub original_mandate_id: Option<&'a str>,
    /// Amendment: the previous creditor identifier.
    pub original_creditor_id: Option<&'a str>,
    /// Amendment: the previous debtor IBAN, or the literal `SMNDA` for "new debtor account".
    pub original_debtor_account: Option<&'a str>,
}

/// Why a collection cannot be written: every reason found, each one a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", reasons.join("; "))]
pub struct Refused {
    /// The reasons, in field order.
    pub reasons: Vec<String>,
}

/// Collects parse failures as readable reasons instead of stopping at the first.
struct Reasons(Vec<String>);

impl Reasons {
    fn take<T>(&mut self, label: &str, input: &str, parsed: Result<T, ParseError>) -> Option<T> {
        parsed
            .map_err(|e| {
                let reason = if input.trim().is_empty() {
                    format!("{label} is empty")
                } else if e.reason == "is empty" {
                    format!("{label} {:?} is empty after transliteration", e.input)
                } else {
                    format!("{label} {:?}: {}", e.input, e.reason)
                };
                self.0.push(reason);
            })
            .ok()
    }

    fn optional<T>(
        &mut self,
        label: &str,
        input: Option<&str>,
        parse: impl FnOnce(&str) -> Result<T, ParseError>,
    ) -> Option<Option<T>> {
        match input.filter(|s| !s.trim().is_empty()) {
            None => Some(None),
            Some(s) => self.take(label, s, parse(s)).map(Some),
        }
    }
}

fn address(reasons: &mut Reasons, raw: &RawAddress<'_>) -> Option<PostalAddress> {
    let town = reasons.take("debtor town", raw.town, TownName::parse(raw.town));
    let country = reasons.take("debtor country", raw.country, CountryCode::parse(raw.country));
    let street = reasons.optional("debtor street", raw.street, AddressText::truncated);
    let number = reasons.optional("debtor building number", raw.building_number, ShortAddressText::parse);
    let postcode = reasons.optional("debtor post code", raw.postcode, ShortAddressText::parse);
    let mut lines = Vec::with_capacity(2);
    for line in raw.lines {
        if let Some(Some(l)) = reasons.optional("debtor address line", Some(line), AddressText::truncated) {
            lines.push(l);
        }
    }
    let mut addr = PostalAddress::new(town?, country?);
    if let Some(s) = street? {
        addr = addr.with_street(s);
    }
    if let Some(n) = number? {
        addr = addr.with_building_number(n);
    }
    if let Some(p) = postcode? {
        addr = addr.with_postcode(p);
    }
    let count = lines.len();
    addr.with_address_lines(lines)
        .map_err(|_| {
            reasons.0.push(format!(
                "debtor address has {count} address lines, at most 2 are allowed"
            ));
        })
        .ok()
}

fn amendment(reasons: &mut Reasons, raw: &RawTransaction<'_>) -> Option<Option<Amendment>> {
    let mandate = reasons.optional("original mandate id", raw.original_mandate_id, MandateId::parse)?;
    let creditor = reasons.optional(
        "original creditor identifier",
        raw.original_creditor_id,
        CreditorId::parse,
    )?;
    let account = reasons.optional("original debtor IBAN", raw.original_debtor_account, |s| {
        if s.trim().eq_ignore_ascii_case("SMNDA") {
            Ok(OriginalDebtorAccount::Smnda)
        } else {
            Iban::parse(s).map(OriginalDebtorAccount::Iban)
        }
    })?;
    let mut out: Option<Amendment> = None;
    if let Some(m) = mandate {
        out = Some(Amendment::mandate_id_changed(m));
    }
    if let Some(c) = creditor {
        out = Some(match out {
            Some(a) => a.and_creditor_id_changed(c),
            None => Amendment::creditor_id_changed(c),
        });
    }
    if let Some(acct) = account {
        out = Some(match out {
            Some(a) => a.and_debtor_account_changed(acct),
            None => Amendment::debtor_account_changed(acct),
        });
    }
    Some(out)
}

/// Turns a stored collection into a [`Transaction`] that `creditor` can collect on
/// `collection_date`, or every reason why not.
///
/// Names are transliterated and cut to 70 characters, remittance texts to 140 (as banks do;
/// a remittance text with nothing left after transliteration is left out); identifiers, IBANs, BICs, amounts and address parts other than street and lines are never
/// altered: they are refused instead.
pub fn check_transaction(
    raw: &RawTransaction<'_>,
    creditor: &Creditor,
    collection_date: NaiveDate,
) -> Result<Transaction, Refused> {
    let mut reasons = Reasons(Vec::new());
    let end_to_end_id = reasons.take("end-to-end id", raw.end_to_end_id, EndToEndId::parse(raw.end_to_end_id));
    let amount = match Money::from_cents(raw.amount_cents) {
        Ok(m) => Some(m),
        Err(_) => {
            let shown = format_cents(raw.amount_cents);
            reasons.0.push(if raw.amount_cents < 1 {
                format!("amount {shown} is below 0.01")
            } else {
                format!("amount {shown} is above {}", format_cents(MAX_CENTS))
            });
            None
        }
    };
    let mandate_id = reasons.take("mandate id", raw.mandate_id, MandateId::parse(raw.mandate_id));
    let debtor_name = reasons.take("debtor name", raw.debtor_name, Name::truncated(raw.debtor_name));
    let debtor_iban = reasons.take("debtor IBAN", raw.debtor_iban, Iban::parse(raw.debtor_iban));
    let debtor_bic = reasons.optional("debtor BIC", raw.debtor_bic, Bic::parse);
    let debtor_address = match &raw.debtor_address {
        None => Some(None),
        Some(a) => address(&mut reasons, a).map(Some),
    };
    // Remittance text is a courtesy: when nothing is left of it, the collection goes without.
    let remittance = Some(raw.remittance.and_then(|s| Remittance::truncated(s).ok()));
    let amendment = amendment(&mut reasons, raw);

    let (
        Some(end_to_end_id),
        Some(amount),
        Some(mandate_id),
        Some(debtor_name),
        Some(debtor_iban),
        Some(debtor_bic),
        Some(debtor_address),
        Some(remittance),
        Some(amendment),
    ) = (
        end_to_end_id,
        amount,
        mandate_id,
        debtor_name,
        debtor_iban,
        debtor_bic,
        debtor_address,
        remittance,
        amendment,
    )
    else {
        return Err(Refused { reasons: reasons.0 });
    };
    let tx = Transaction {
        end_to_end_id,
        amount,
        mandate_id,
        mandate_signed_on: raw.mandate_signed_on,
        amendment,
        debtor_name,
        debtor_iban,
        debtor_bic,
        debtor_address,
        remittance,
    };
    reasons
        .0
        .extend(problems(&tx, &creditor.id, &creditor.iban, collection_date).map(|p| p.to_string()));
    if !calendar::is_business_day(collection_date) {
        reasons
            .0
            .push(TransactionProblem::CollectionDateNotBusinessDay(collection_date).to_string());
    }
    if reasons.0.is_empty() {
        Ok(tx)
    } else {
        Err(Refused { reasons: reasons.0 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creditor() -> Creditor {
        Creditor {
            name: Name::parse("Abo SAS").unwrap(),
            iban: Iban::parse("FR1420041010050500013M02606").unwrap(),
            bic: None,
            id: CreditorId::parse("FR72ZZZ123456").unwrap(),
            address: None,
        }
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn raw() -> RawTransaction<'static> {
        RawTransaction {
            end_to_end_id: "E2E-1",
            amount_cents: 1234,
            mandate_id: "MANDATE-1",
            mandate_signed_on: date("2025-01-15"),
            debtor_name: "Zoë Ünal",
            debtor_iban: "DE89 3704 0044 0532 0130 00",
            debtor_bic: Some(""),
            debtor_address: None,
            remittance: Some("Abonnement novembre"),
            original_mandate_id: None,
            original_creditor_id: None,
            original_debtor_account: None,
        }
    }

    #[test]
    fn a_good_collection_becomes_a_transaction() {
        let tx = check_transaction(&raw(), &creditor(), date("2026-11-23")).unwrap();
        for closed in ["2026-11-21", "2026-12-25", "2027-03-29"] {
            let e = check_transaction(&raw(), &creditor(), date(closed)).unwrap_err();
            assert_eq!(
                e.reasons,
                [format!(
                    "collection date {closed} is not a TARGET2 business day (a weekend, 1 January, Easter Friday or Monday, 1 May, 25 or 26 December)"
                )]
            );
        }
        assert_eq!(tx.debtor_name.as_str(), "Zoe Unal");
        assert_eq!(tx.debtor_bic, None);
        assert_eq!(tx.amount.cents(), 1234);
        assert!(tx.amendment.is_none());
    }

    #[test]
    fn long_names_and_texts_are_cut() {
        let long = "Ä".repeat(500);
        let r = RawTransaction {
            debtor_name: &long,
            remittance: Some(&long),
            ..raw()
        };
        let tx = check_transaction(&r, &creditor(), date("2026-11-23")).unwrap();
        assert_eq!(tx.debtor_name.as_str().len(), 70);
        assert_eq!(tx.remittance.unwrap().as_str().len(), 140);
        let r = RawTransaction {
            remittance: Some("\u{7}"),
            ..raw()
        };
        let tx = check_transaction(&r, &creditor(), date("2026-11-23")).unwrap();
        assert_eq!(tx.remittance, None);
    }

    #[test]
    fn every_reason_is_given_in_words() {
        let r = RawTransaction {
            end_to_end_id: "A//B",
            amount_cents: 0,
            debtor_name: "\u{1}\u{7f}",
            debtor_iban: "CH9300762011623852957",
            ..raw()
        };
        let e = check_transaction(&r, &creditor(), date("2026-11-23")).unwrap_err();
        // The rules between fields (here: CH without address) wait until the values parse.
        assert_eq!(
            e.reasons,
            [
                "end-to-end id \"A//B\": must not contain '//'",
                "amount 0.00 is below 0.01",
                "debtor name \"\\u{1}\\u{7f}\" is empty after transliteration",
            ]
        );
        assert_eq!(e.to_string(), e.reasons.join("; "));

        // Once the values are fine, the rules between them speak.
        let r = RawTransaction {
            debtor_iban: "CH9300762011623852957",
            ..raw()
        };
        let e = check_transaction(&r, &creditor(), date("2026-11-23")).unwrap_err();
        assert_eq!(
            e.reasons,
            [
                "debtor bank is in CH (outside the EEA) and the customer has no postal address",
                "debtor bank is in CH (outside the EEA) and its BIC is unknown",
            ]
        );
        let r = RawTransaction {
            amount_cents: 100_000_000_000,
            ..raw()
        };
        let e = check_transaction(&r, &creditor(), date("2026-11-23")).unwrap_err();
        assert_eq!(e.reasons, ["amount 1000000000.00 is above 999999999.99"]);
    }

    #[test]
    fn a_creditor_bank_outside_the_eea_needs_every_debtors_address() {
        let swiss = Creditor {
            iban: Iban::parse("CH9300762011623852957").unwrap(),
            ..creditor()
        };
        let e = check_transaction(&raw(), &swiss, date("2026-11-23")).unwrap_err();
        assert_eq!(
            e.reasons,
            [
                "the creditor's bank is in CH (outside the EEA), so every debtor needs a postal address, and the customer has none"
            ]
        );
        let r = RawTransaction {
            debtor_address: Some(RawAddress {
                town: "Paris",
                country: "FR",
                ..RawAddress::default()
            }),
            ..raw()
        };
        assert!(check_transaction(&r, &swiss, date("2026-11-23")).is_ok());
    }

    #[test]
    fn non_eea_debtor_with_address_and_bic_passes() {
        let lines = ["c/o Muster", "Postfach 12"];
        let r = RawTransaction {
            debtor_iban: "CH9300762011623852957",
            debtor_bic: Some("UBSWCHZH80A"),
            debtor_address: Some(RawAddress {
                street: Some("Bahnhofstrasse"),
                building_number: Some("1"),
                postcode: Some("8001"),
                town: "Zürich",
                country: "ch",
                lines: &lines,
            }),
            ..raw()
        };
        let tx = check_transaction(&r, &creditor(), date("2026-11-23")).unwrap();
        let a = tx.debtor_address.unwrap();
        assert_eq!(a.town().as_str(), "Zurich");
        assert_eq!(a.country().as_str(), "CH");
        assert_eq!(a.address_lines().count(), 2);
    }

    #[test]
    fn addresses_without_town_or_with_three_lines_are_refused() {
        let lines = ["a", "b", "c"];
        let r = RawTransaction {
            debtor_address: Some(RawAddress {
                town: " ",
                country: "FR",
                lines: &lines,
                ..RawAddress::default()
            }),
            ..raw()
        };
        let e = check_transaction(&r, &creditor(), date("2026-11-23")).unwrap_err();
        assert_eq!(e.reasons, ["debtor town is empty"]);
        let r = RawTransaction {
            debtor_address: Some(RawAddress {
                town: "Lyon",
                country: "FR",
                lines: &lines,
                ..RawAddress::default()
            }),
            ..raw()
        };
        let e = check_transaction(&r, &creditor(), date("2026-11-23")).unwrap_err();
        assert_eq!(e.reasons, ["debtor address has 3 address lines, at most 2 are allowed"]);
    }

    #[test]
    fn amendments_are_parsed_and_must_change_something() {
        let r = RawTransaction {
            original_mandate_id: Some("OLD-1"),
            original_debtor_account: Some("smnda"),
            ..raw()
        };
        let tx = check_transaction(&r, &creditor(), date("2026-11-23")).unwrap();
        let a = tx.amendment.unwrap();
        assert_eq!(a.original_mandate_id().unwrap().as_str(), "OLD-1");
        assert_eq!(a.original_debtor_account(), Some(&OriginalDebtorAccount::Smnda));
        assert_eq!(a.original_creditor_id(), None);

        let r = RawTransaction {
            original_mandate_id: Some("MANDATE-1"),
            original_creditor_id: Some("FR72ZZZ123456"),
            original_debtor_account: Some("DE89370400440532013000"),
            mandate_signed_on: date("2027-01-01"),
            ..raw()
        };
        let e = check_transaction(&r, &creditor(), date("2026-11-23")).unwrap_err();
        assert_eq!(
            e.reasons,
            [
                "mandate was signed on 2027-01-01, after the collection date 2026-11-23",
                "amendment gives the current mandate id MANDATE-1 as the original one",
                "amendment gives the current creditor identifier FR72ZZZ123456 as the original one",
                "amendment gives the current debtor IBAN DE89370400440532013000 as the original one",
            ]
        );
    }
}
