//! Deciding on each due collection (the domain's selector: date, sequence type, hold,
//! refusal) and checking what goes against the EPC rules, one row at a time, so a row leaves
//! memory once it is refused or turned into the transaction its file will hold. The stored
//! row's conversion into a pain.008 transaction is here too: a stopped run's file is checked
//! again with it when it is read back.

use std::collections::HashMap;

use crate::config::Config;
use crate::domain::collect::{AmendmentFields, Candidate, CurrentMandate, Decision, Selector, amendment_for};
use crate::sepa::Iban;
use crate::sepa::pain008::{self, AddressStyle, Creditor, RawAddress, RawTransaction, Transaction};
use crate::sepa::text::AddressText;
use crate::store::{Assignment, DueCollection, LedgerTag, SchemeIdChange};

/// The end-to-end id of a collection attempt: one per collection row, so every return names
/// exactly one attempt; the ledger's tag keeps it apart from another ledger's row of the same
/// id (see [`LedgerTag`]).
pub fn end_to_end_id(tag: &LedgerTag, collection_id: i64) -> String {
    format!("E2E-{tag}-{collection_id:012}")
}

/// The address lines of a hybrid address: street and building number, which then leave their
/// structured elements (town and country stay structured, as the EPC requires) — on one
/// line when it holds both (70 characters once transliterated), else one each, so a long
/// street never loses its number to the cut at 70.
pub(super) fn hybrid_lines(c: &DueCollection, style: AddressStyle) -> Vec<String> {
    if style != AddressStyle::Hybrid {
        return Vec::new();
    }
    street_lines(c.street.as_deref(), c.building.as_deref())
}

fn street_lines(street: Option<&str>, building: Option<&str>) -> Vec<String> {
    let parts: Vec<&str> = [street, building]
        .into_iter()
        .flatten()
        .filter(|p| !p.trim().is_empty())
        .collect();
    let joined = parts.join(" ");
    if parts.len() < 2 || AddressText::parse(&joined).is_ok() {
        return (!joined.is_empty()).then_some(joined).into_iter().collect();
    }
    parts.into_iter().map(str::to_owned).collect()
}

/// The row as pain.008's checks take it: with its EndToEndId, the amendment it announces and,
/// for a hybrid address, the address line (`lines`, empty when the address is structured).
pub(super) fn raw<'a>(
    c: &'a DueCollection,
    e2e: &'a str,
    amendment: &'a AmendmentFields,
    lines: &'a [&'a str],
) -> RawTransaction<'a> {
    let structured = lines.is_empty();
    let address = match (c.town.as_deref(), c.country.as_deref()) {
        (Some(town), Some(country)) => Some(RawAddress {
            street: c.street.as_deref().filter(|_| structured),
            building_number: c.building.as_deref().filter(|_| structured),
            postcode: c.postcode.as_deref(),
            town,
            country,
            lines,
        }),
        _ => None,
    };
    RawTransaction {
        end_to_end_id: e2e,
        amount_cents: c.amount_cents,
        mandate_id: &c.mandate_id,
        mandate_signed_on: c.signed_on,
        debtor_name: &c.debtor_name,
        debtor_iban: &c.debtor_iban,
        debtor_bic: c.debtor_bic.as_deref(),
        debtor_address: address,
        remittance: c.description.as_deref(),
        original_mandate_id: amendment.original_mandate_id.as_deref(),
        original_creditor_id: amendment.original_scheme_id.as_deref(),
        original_debtor_account: amendment.original_debtor_account.as_deref(),
    }
}

/// What the checks made of the rows bound for one file.
#[derive(Default)]
pub(super) struct Checked {
    /// Collections for the file, with their checked transactions.
    pub(super) items: Vec<(Assignment, Transaction)>,
    /// Collections refused or needing review, with the reason.
    pub(super) failed: Vec<(i64, String)>,
    /// Mandates found lapsed (they become `expired` with the refusals).
    pub(super) lapsed: Vec<i64>,
    /// Collections held because their plan is paused.
    pub(super) held: u64,
}

/// What deciding on a due collection takes besides the collection and the run's selector:
/// the creditor, the ledger's tag and the amendments not yet announced.
pub(super) struct Checker<'a> {
    pub(super) config: &'a Config,
    pub(super) creditor: &'a Creditor,
    pub(super) tag: &'a LedgerTag,
    pub(super) scheme_changes: &'a [SchemeIdChange],
    /// Per mandate: (kind, value before) of its changes the bank has not heard of.
    pub(super) changes_by_mandate: HashMap<i64, Vec<(&'a str, &'a str)>>,
}

impl Checker<'_> {
    /// Decides on `c` (domain rules) and checks it against the EPC rules, into `out`.
    pub(super) fn check(&self, c: DueCollection, selector: &mut Selector, out: &mut Checked) {
        let candidate = Candidate {
            id: c.id,
            due_date: c.due_date,
            plan_active: c.plan_active,
            one_off: c.one_off,
            last_installment: c.last_installment,
            mandate_shared: c.mandate_shared,
            mandate: c.mandate_key,
            mandate_active: c.mandate_active,
            first_presented: c.first_presented,
            mandate_in_use_since: c.last_presented_on.map_or(c.signed_on, |on| on.max(c.signed_on)),
        };
        let (requested_date, sequence) = match selector.decide(&candidate) {
            None => return,
            Some(Decision::Hold) => {
                out.held += 1;
                return;
            }
            Some(Decision::Review(reason)) => {
                out.failed.push((c.id, reason));
                return;
            }
            Some(Decision::Lapsed(reason)) => {
                out.failed.push((c.id, reason));
                out.lapsed.push(c.mandate_key);
                return;
            }
            Some(Decision::Collect {
                requested_date,
                sequence,
            }) => (requested_date, sequence),
        };
        // A mandate's amendment is announced on its first collection of the run that goes
        // into a file (one refused by the checks announces nothing).
        let amendment = if selector.was_presented(c.mandate_key) {
            AmendmentFields::default()
        } else {
            self.amendment(&c)
        };
        let e2e = end_to_end_id(self.tag, c.id);
        let hybrid = hybrid_lines(&c, self.config.bank.address_style);
        let lines: Vec<&str> = hybrid.iter().map(String::as_str).collect();
        match pain008::check_transaction(&raw(&c, &e2e, &amendment, &lines), self.creditor, requested_date) {
            Err(refused) => out
                .failed
                .push((c.id, format!("not written to a bank file: {refused}"))),
            Ok(transaction) => {
                selector.presented(c.mandate_key);
                out.items.push((
                    Assignment {
                        id: c.id,
                        mandate_key: c.mandate_key,
                        end_to_end_id: e2e,
                        sequence_type: sequence.code(),
                        requested_date,
                        original_mandate_id: amendment.original_mandate_id,
                        original_scheme_id: amendment.original_scheme_id,
                        original_debtor_account: amendment.original_debtor_account,
                        amount_cents: c.amount_cents,
                    },
                    transaction,
                ));
            }
        }
    }

    /// The amendment fields `c`'s mandate owes the bank: changes of its IBAN or UMR, and of
    /// the creditor identifier since the mandate was last presented.
    fn amendment(&self, c: &DueCollection) -> AmendmentFields {
        let since: Vec<&str> = self
            .scheme_changes
            .iter()
            .filter(|s| s.changed_at > c.mandate_since)
            .map(|s| s.old_scheme_id.as_str())
            .collect();
        let changes = self
            .changes_by_mandate
            .get(&c.mandate_key)
            .map_or(&[][..], Vec::as_slice);
        match Iban::parse(&c.debtor_iban) {
            Ok(iban) => amendment_for(
                changes,
                CurrentMandate {
                    iban: &iban,
                    mandate_id: &c.mandate_id,
                    scheme_id: self.creditor.id.as_str(),
                },
                &since,
            ),
            // The checks refuse it, with the reason.
            Err(_) => AmendmentFields::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::street_lines;

    #[test]
    fn a_long_street_keeps_its_building_number_on_a_line_of_its_own() {
        assert_eq!(street_lines(Some("Rue de Rivoli"), Some("12B")), ["Rue de Rivoli 12B"]);
        assert_eq!(street_lines(Some("Rue de Rivoli"), None), ["Rue de Rivoli"]);
        assert_eq!(street_lines(None, Some("12B")), ["12B"]);
        assert!(street_lines(None, Some("  ")).is_empty());
        let long = "Avenue du Général de Gaulle et de la Libération Nationale Prolongée";
        assert_eq!(long.chars().count(), 67);
        assert_eq!(street_lines(Some(long), Some("12B")), [long, "12B"]);
        assert_eq!(street_lines(Some(&"x".repeat(66)), Some("12B")).len(), 1, "70 fit");
        assert_eq!(street_lines(Some(&"x".repeat(67)), Some("12B")).len(), 2, "71 do not");
    }
}
