//! The value parsers of the SEPA layer on arbitrary UTF-8. Never a panic; what parses prints
//! and parses back to itself.
#![no_main]

use std::hint::black_box;

use collecte::sepa::{Bic, CreditorId, Iban, MandateId, Money, SepaText};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(money) = Money::parse(text) {
        let printed = money.to_string();
        let back = Money::parse(&printed);
        assert_eq!(
            back.ok(),
            Some(money),
            "Money {text:?} printed as {printed:?} does not parse back"
        );
    }
    if let Ok(iban) = Iban::parse(text) {
        black_box((iban.as_str(), iban.country(), iban.bank_identifier(), iban.is_sepa()));
        black_box(iban.requires_debtor_address());
        let printed = iban.to_string();
        black_box(Iban::parse(&printed).ok());
    }
    if let Ok(bic) = Bic::parse(text) {
        black_box(Bic::parse(bic.as_str()).ok());
    }
    if let Ok(id) = CreditorId::parse(text) {
        black_box(CreditorId::parse(id.as_str()).ok());
    }
    if let Ok(id) = MandateId::parse(text) {
        assert_eq!(MandateId::parse(id.as_str()).ok().as_ref(), Some(&id));
    }
    if let Ok(t) = SepaText::<70>::truncated(text) {
        assert!(
            t.as_str().chars().count() <= 70,
            "truncated to more than 70 chars: {t:?}"
        );
    }
});
