//! The pain.008 writer against the official XSDs (through `xmllint`), the summary reader and
//! the EPC rules: every file written here is schema-validated, and read back.

mod common;

use chrono::{DateTime, FixedOffset, NaiveDate};
use collecte::sepa::pain008::{
    AddressStyle, Amendment, Creditor, GroupHeader, LocalInstrument, OriginalDebtorAccount, Pain008Error,
    Pain008Summary, Pain008Version, Pain008Writer, PaymentGroup, PostalAddress, Profile, RawAddress, RawTransaction,
    SequenceType, ShortAddressText, TownName, Transaction, check_transaction, inspect,
};
use collecte::sepa::text::{AddressText, Name, Remittance};
use collecte::sepa::{Bic, CountryCode, CreditorId, EndToEndId, Iban, MandateId, MessageId, Money, PaymentInfoId};
use proptest::prelude::*;

use common::assert_valid_pain008 as assert_valid;

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn created_at() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-11-20T06:00:00+01:00").unwrap()
}

fn address(town: &str, country: &str, lines: &[&str]) -> PostalAddress {
    PostalAddress::new(TownName::parse(town).unwrap(), CountryCode::parse(country).unwrap())
        .with_street(AddressText::parse("Rue de la Paix").unwrap())
        .with_building_number(ShortAddressText::parse("12B").unwrap())
        .with_postcode(ShortAddressText::parse("75002").unwrap())
        .with_address_lines(lines.iter().map(|l| AddressText::parse(l).unwrap()))
        .unwrap()
}

fn creditor() -> Creditor {
    Creditor {
        name: Name::parse("Abonnements Durand SAS").unwrap(),
        iban: Iban::parse("FR1420041010050500013M02606").unwrap(),
        bic: Some(Bic::parse("BNPAFRPPXXX").unwrap()),
        id: CreditorId::parse("FR72ZZZ123456").unwrap(),
        address: Some(address("Paris", "FR", &["Batiment A"])),
    }
}

/// Five kinds of debtor, covering every optional part of a transaction.
fn varied_tx(i: usize) -> Transaction {
    let (iban, bic, addr) = match i % 5 {
        0 => (
            "CH9300762011623852957",
            Some("UBSWCHZH80A"),
            Some(address("Zurich", "CH", &["c/o Muster", "Postfach 12"])),
        ),
        1 => ("DE89370400440532013000", Some("COBADEFFXXX"), None),
        2 => ("BE68539007547034", None, None),
        3 => ("NL91ABNA0417164300", Some("ABNANL2A"), None),
        _ => ("AT611904300234573201", None, Some(address("Wien", "AT", &[]))),
    };
    let amendment = match i % 5 {
        2 => Some(
            Amendment::debtor_account_changed(OriginalDebtorAccount::Smnda)
                .and_mandate_id_changed(MandateId::parse("OLD-UMR-2").unwrap()),
        ),
        3 => Some(
            Amendment::creditor_id_changed(CreditorId::parse("DE98ZZZ09999999999").unwrap())
                .and_debtor_account_changed(OriginalDebtorAccount::Iban(
                    Iban::parse("DE89370400440532013000").unwrap(),
                )),
        ),
        4 => Some(Amendment::mandate_id_changed(MandateId::parse("OLD-UMR-4").unwrap())),
        _ => None,
    };
    Transaction {
        end_to_end_id: EndToEndId::parse(&format!("E2E-{i}")).unwrap(),
        amount: Money::from_cents(1 + (i as i64 * 7919) % 500_000).unwrap(),
        mandate_id: MandateId::parse(&format!("UMR-{i}")).unwrap(),
        mandate_signed_on: date("2024-02-29"),
        amendment,
        debtor_name: Name::parse(&format!("Debiteur {i}")).unwrap(),
        debtor_iban: Iban::parse(iban).unwrap(),
        debtor_bic: bic.map(|b| Bic::parse(b).unwrap()),
        debtor_address: addr,
        remittance: i
            .is_multiple_of(2)
            .then(|| Remittance::parse("Abonnement / facture 2026-11").unwrap()),
    }
}

/// Writes a whole message: `groups` of (sequence type, transactions).
fn write_message(profile: Profile, groups: &[(SequenceType, Vec<Transaction>)]) -> Result<Vec<u8>, Pain008Error> {
    let cents = |txs: &[Transaction]| txs.iter().map(|t| t.amount.cents()).sum::<i64>();
    let header = GroupHeader {
        message_id: MessageId::parse("MSG-2026-11-20-1").unwrap(),
        created_at: created_at(),
        initiating_party: None,
        nb_of_txs: groups.iter().map(|(_, t)| t.len() as u64).sum(),
        ctrl_sum_cents: groups.iter().map(|(_, t)| cents(t)).sum(),
    };
    let mut w = Pain008Writer::start(Vec::new(), profile, &creditor(), &header)?;
    for (n, (seq, txs)) in groups.iter().enumerate() {
        w.begin_group(&PaymentGroup {
            payment_info_id: PaymentInfoId::parse(&format!("PMT-{n}-{}", seq.code())).unwrap(),
            sequence_type: *seq,
            collection_date: date("2026-11-23"),
            nb_of_txs: txs.len() as u64,
            ctrl_sum_cents: cents(txs),
        })?;
        for tx in txs {
            w.transaction(tx)?;
        }
        w.end_group()?;
    }
    w.finish()
}

fn all_profiles() -> Vec<Profile> {
    let mut out = Vec::new();
    for version in [Pain008Version::V02, Pain008Version::V08] {
        for include_bic in [true, false] {
            for batch_booking in [true, false] {
                for group_ctrl_sum in [true, false] {
                    for address_style in [AddressStyle::Structured, AddressStyle::Hybrid] {
                        for local_instrument in [LocalInstrument::Core, LocalInstrument::B2b] {
                            out.push(Profile {
                                version,
                                include_bic,
                                batch_booking,
                                group_ctrl_sum,
                                address_style,
                                local_instrument,
                            });
                        }
                    }
                }
            }
        }
    }
    out
}

fn varied_groups() -> Vec<(SequenceType, Vec<Transaction>)> {
    [
        SequenceType::Frst,
        SequenceType::Rcur,
        SequenceType::Ooff,
        SequenceType::Fnal,
    ]
    .into_iter()
    .enumerate()
    .map(|(g, seq)| (seq, (0..6).map(|i| varied_tx(g * 6 + i)).collect()))
    .collect()
}

fn summary(xml: &[u8]) -> Pain008Summary {
    inspect(xml).unwrap_or_else(|e| panic!("own output unreadable: {e}"))
}

#[test]
fn every_profile_combination_validates_against_its_xsd() {
    let groups = varied_groups();
    let total: i64 = groups.iter().flat_map(|(_, t)| t).map(|t| t.amount.cents()).sum();
    for profile in all_profiles() {
        let xml = write_message(profile, &groups).unwrap();
        assert_valid(&xml, profile.version);
        let text = String::from_utf8(xml.clone()).unwrap();
        let s = summary(&xml);
        assert!(s.consistent, "{profile:?}");
        assert_eq!(s.message, profile.version.message_name());
        assert_eq!(s.counted_nb_of_txs, 24);
        assert_eq!(s.counted_ctrl_sum.0, total);
        assert_eq!(s.declared_ctrl_sum.is_some(), profile.group_ctrl_sum);
        assert_eq!(s.groups.len(), 4);
        assert_eq!(
            s.groups
                .iter()
                .map(|g| g.sequence_type.as_deref().unwrap())
                .collect::<Vec<_>>(),
            ["FRST", "RCUR", "OOFF", "FNAL"]
        );
        assert!(
            s.groups
                .iter()
                .all(|g| g.local_instrument.as_deref() == Some(profile.local_instrument.code()))
        );
        let (bic, other) = match profile.version {
            Pain008Version::V02 => ("<BIC>", "<BICFI>"),
            Pain008Version::V08 => ("<BICFI>", "<BIC>"),
        };
        assert!(!text.contains(other));
        // Swiss debtors keep their BIC whatever the profile says (EPC: non-EEA).
        assert!(text.contains(&format!("{bic}UBSWCHZH80A<")), "{profile:?}");
        assert_eq!(text.contains(&format!("{bic}COBADEFFXXX<")), profile.include_bic);
        assert!(text.contains("<Id>NOTPROVIDED</Id>"));
        assert_eq!(
            text.contains("<AdrLine>"),
            profile.address_style == AddressStyle::Hybrid
        );
        assert_eq!(text.contains("<BtchBookg>true</BtchBookg>"), profile.batch_booking);
        assert!(text.contains("<CreDtTm>2026-11-20T06:00:00+01:00</CreDtTm>"));
        assert!(text.contains("<ReqdColltnDt>2026-11-23</ReqdColltnDt>"));
    }
}

#[test]
fn amendments_and_creditor_scheme_are_written_where_the_epc_wants_them() {
    let xml = write_message(Profile::default(), &varied_groups()).unwrap();
    let text = String::from_utf8(xml).unwrap();
    let squeezed: String = text.split_whitespace().collect();
    assert!(squeezed.contains(
        "<AmdmntInd>true</AmdmntInd><AmdmntInfDtls><OrgnlMndtId>OLD-UMR-2</OrgnlMndtId>\
         <OrgnlDbtrAcct><Id><Othr><Id>SMNDA</Id></Othr></Id></OrgnlDbtrAcct></AmdmntInfDtls>"
    ));
    assert!(squeezed.contains(
        "<OrgnlCdtrSchmeId><Id><PrvtId><Othr><Id>DE98ZZZ09999999999</Id><SchmeNm><Prtry>SEPA\
         </Prtry></SchmeNm></Othr></PrvtId></Id></OrgnlCdtrSchmeId><OrgnlDbtrAcct><Id><IBAN>\
         DE89370400440532013000</IBAN></Id></OrgnlDbtrAcct>"
    ));
    assert!(squeezed.contains(
        "<ChrgBr>SLEV</ChrgBr><CdtrSchmeId><Id><PrvtId><Othr><Id>FR72ZZZ123456</Id><SchmeNm>\
         <Prtry>SEPA</Prtry></SchmeNm></Othr></PrvtId></Id></CdtrSchmeId>"
    ));
    assert!(squeezed.contains("<SvcLvl><Cd>SEPA</Cd></SvcLvl><LclInstrm><Cd>CORE</Cd>"));
    assert!(squeezed.contains("<InitgPty><Nm>AbonnementsDurandSAS</Nm></InitgPty>"));
    // No amendment, no indicator.
    let amended = (0..24).filter(|i| i % 5 >= 2).count();
    assert_eq!(text.matches("<AmdmntInd>").count(), amended);
}

#[test]
fn the_initiating_party_can_differ_from_the_creditor() {
    let header = GroupHeader {
        message_id: MessageId::parse("M1").unwrap(),
        created_at: DateTime::parse_from_rfc3339("2026-11-20T05:00:00Z").unwrap(),
        initiating_party: Some(Name::parse("Payments Platform GmbH").unwrap()),
        nb_of_txs: 1,
        ctrl_sum_cents: 1,
    };
    let tx = Transaction {
        amount: Money::from_cents(1).unwrap(),
        ..varied_tx(1)
    };
    let profile = Profile {
        version: Pain008Version::V02,
        ..Profile::default()
    };
    let mut w = Pain008Writer::start(Vec::new(), profile, &creditor(), &header).unwrap();
    w.begin_group(&PaymentGroup {
        payment_info_id: PaymentInfoId::parse("P1").unwrap(),
        sequence_type: SequenceType::Rcur,
        collection_date: date("2026-11-23"),
        nb_of_txs: 1,
        ctrl_sum_cents: 1,
    })
    .unwrap();
    w.transaction(&tx).unwrap();
    w.end_group().unwrap();
    let xml = w.finish().unwrap();
    assert_valid(&xml, Pain008Version::V02);
    let text = String::from_utf8(xml).unwrap();
    assert!(text.contains("<Nm>Payments Platform GmbH</Nm>"));
    assert!(text.contains("<CreDtTm>2026-11-20T05:00:00+00:00</CreDtTm>"));
    assert!(text.contains("<InstdAmt Ccy=\"EUR\">0.01</InstdAmt>"));
}

#[test]
fn every_public_bank_sample_is_summarised_consistently() {
    let dir = common::shared_samples().join("public/pain.008");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let file = std::io::BufReader::new(std::fs::File::open(&path).unwrap());
        let s = inspect(file).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(s.consistent, "{name}: {s:?}");
        assert!(name.contains(&s.message), "{name} read as {}", s.message);
        assert!(!s.message_id.is_empty() && !s.created_at.is_empty());
        assert_eq!(s.counted_nb_of_txs, s.declared_nb_of_txs, "{name}");
        for g in &s.groups {
            assert_eq!(g.requested_collection_date.len(), 10, "{name}");
            assert!(g.sequence_type.is_some(), "{name}");
        }
        seen += 1;
        if name.starts_with("sepa_king") {
            assert_eq!(s.counted_nb_of_txs, 2);
        }
        if name == "dutch-sepa-iso20022__abn_pain.008.001.02_voorbeeldbestand.xml" {
            assert_eq!(s.counted_ctrl_sum.0, 160_000);
            assert_eq!(s.groups[0].sequence_type.as_deref(), Some("RCUR"));
            assert_eq!(s.created_at, "2012-02-22T09:29:54");
        }
    }
    assert_eq!(seen, 6, "sample files in {}", dir.display());
}

fn one_group_writer(declared_nb: u64, declared_sum: i64) -> Pain008Writer<Vec<u8>> {
    let header = GroupHeader {
        message_id: MessageId::parse("M1").unwrap(),
        created_at: created_at(),
        initiating_party: None,
        nb_of_txs: 2,
        ctrl_sum_cents: 300,
    };
    let mut w = Pain008Writer::start(Vec::new(), Profile::default(), &creditor(), &header).unwrap();
    w.begin_group(&PaymentGroup {
        payment_info_id: PaymentInfoId::parse("P1").unwrap(),
        sequence_type: SequenceType::Rcur,
        collection_date: date("2026-11-23"),
        nb_of_txs: declared_nb,
        ctrl_sum_cents: declared_sum,
    })
    .unwrap();
    w
}

fn tx_of(cents: i64) -> Transaction {
    Transaction {
        amount: Money::from_cents(cents).unwrap(),
        ..varied_tx(1)
    }
}

#[test]
fn declared_counts_and_sums_that_lie_are_refused() {
    // Fewer transactions than the group declares.
    let mut w = one_group_writer(2, 300);
    w.transaction(&tx_of(100)).unwrap();
    let e = w.end_group().unwrap_err();
    assert_eq!(
        e.to_string(),
        "payment group P1 declares 2 transactions but 1 were written"
    );
    // The writer stays failed: the document can never be completed.
    assert!(matches!(w.transaction(&tx_of(1)), Err(Pain008Error::Failed)));
    assert!(matches!(w.finish(), Err(Pain008Error::Failed)));

    // More: refused at once.
    let mut w = one_group_writer(1, 300);
    w.transaction(&tx_of(300)).unwrap();
    let e = w.transaction(&tx_of(1)).unwrap_err();
    assert!(
        matches!(
            e,
            Pain008Error::CountMismatch {
                declared: 1,
                written: 2,
                ..
            }
        ),
        "{e}"
    );

    // Right count, wrong sum.
    let mut w = one_group_writer(2, 300);
    w.transaction(&tx_of(100)).unwrap();
    w.transaction(&tx_of(201)).unwrap();
    let e = w.end_group().unwrap_err();
    assert_eq!(
        e.to_string(),
        "payment group P1 declares a control sum of 3.00 but its transactions add up to 3.01"
    );

    // Groups fine, header lying: caught at finish.
    let mut w = one_group_writer(1, 250);
    w.transaction(&tx_of(250)).unwrap();
    w.end_group().unwrap();
    let e = w.finish().unwrap_err();
    assert_eq!(
        e.to_string(),
        "group header of message M1 declares 2 transactions but 1 were written"
    );
    let mut w = one_group_writer(2, 250);
    w.transaction(&tx_of(125)).unwrap();
    w.transaction(&tx_of(125)).unwrap();
    w.end_group().unwrap();
    let e = w.finish().unwrap_err();
    assert!(matches!(e, Pain008Error::SumMismatch { .. }), "{e}");

    // A group declaring more than the header has left: refused before it is written.
    let mut w = one_group_writer(1, 100);
    w.transaction(&tx_of(100)).unwrap();
    w.end_group().unwrap();
    let e = w
        .begin_group(&PaymentGroup {
            payment_info_id: PaymentInfoId::parse("P2").unwrap(),
            sequence_type: SequenceType::Rcur,
            collection_date: date("2026-11-23"),
            nb_of_txs: 2,
            ctrl_sum_cents: 200,
        })
        .unwrap_err();
    assert!(
        matches!(
            e,
            Pain008Error::CountMismatch {
                declared: 2,
                written: 3,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn impossible_declarations_and_misuse_are_refused() {
    let header = |nb, sum| GroupHeader {
        message_id: MessageId::parse("M1").unwrap(),
        created_at: created_at(),
        initiating_party: None,
        nb_of_txs: nb,
        ctrl_sum_cents: sum,
    };
    let start = |h: &GroupHeader| Pain008Writer::start(Vec::new(), Profile::default(), &creditor(), h).map(|_| ());
    for (nb, sum, why) in [
        (0, 0, "at least one"),
        (2, 1, "0.01 to 999999999.99"),
        (1, 100_000_000_000, "0.01 to 999999999.99"),
        (1_000_000_000_000_000, 1_000_000_000_000_000, "15 digits"),
    ] {
        let e = start(&header(nb, sum)).unwrap_err();
        assert!(e.to_string().contains(why), "{nb} {sum}: {e}");
    }
    let bad_offset = GroupHeader {
        created_at: DateTime::parse_from_rfc3339("2026-11-20T06:00:00+01:00")
            .unwrap()
            .with_timezone(&FixedOffset::east_opt(30).unwrap()),
        ..header(1, 1)
    };
    let e = start(&bad_offset).unwrap_err();
    assert!(e.to_string().contains("whole minutes"), "{e}");

    let swiss = Creditor {
        iban: Iban::parse("CH9300762011623852957").unwrap(),
        address: None,
        ..creditor()
    };
    let e = Pain008Writer::start(Vec::new(), Profile::default(), &swiss, &header(1, 1))
        .map(|_| ())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "creditor account is in CH (outside the EEA) and the creditor has no postal address"
    );

    let mut w = Pain008Writer::start(Vec::new(), Profile::default(), &creditor(), &header(2, 2)).unwrap();
    let e = w.transaction(&tx_of(1)).unwrap_err();
    assert_eq!(e.to_string(), "transaction() called outside a payment group");

    let mut w = Pain008Writer::start(Vec::new(), Profile::default(), &creditor(), &header(2, 2)).unwrap();
    let group = PaymentGroup {
        payment_info_id: PaymentInfoId::parse("P1").unwrap(),
        sequence_type: SequenceType::Frst,
        collection_date: date("2026-11-23"),
        nb_of_txs: 1,
        ctrl_sum_cents: 1,
    };
    w.begin_group(&group).unwrap();
    w.transaction(&tx_of(1)).unwrap();
    w.end_group().unwrap();
    let e = w.begin_group(&group).unwrap_err();
    assert_eq!(
        e.to_string(),
        "payment information id P1 is used by two payment groups of the message"
    );
}

#[test]
fn transactions_breaking_epc_rules_are_refused_by_the_writer_too() {
    let mut w = one_group_writer(2, 300);
    let swiss_without_address = Transaction {
        debtor_address: None,
        ..varied_tx(0)
    };
    let e = w.transaction(&swiss_without_address).unwrap_err();
    assert_eq!(
        e.to_string(),
        "transaction E2E-0: debtor bank is in CH (outside the EEA) and the customer has no \
         postal address"
    );
    let mut w = one_group_writer(2, 300);
    let future = Transaction {
        mandate_signed_on: date("2026-11-24"),
        ..tx_of(1)
    };
    let e = w.transaction(&future).unwrap_err();
    assert!(e.to_string().contains("after the collection date 2026-11-23"), "{e}");
}

/// Names people and upstream systems actually send, and worse.
fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,80}",
        "[😀🎉👍🏽👨‍👩‍👧]{1,20}",
        "[مرحبا שלום עולם ]{1,40}",
        "[<>&\"' a-z]{1,30}",
        "[\\x00-\\x1f\\x7f]{1,10}",
        "[a-zA-Zéèàüßø ]{450,500}",
        Just(String::new()),
        Just("Zoë Ünal-O'Brien & Söhne <GmbH>".to_owned()),
    ]
}

fn boundary_amount() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(1i64),
        Just(99_999_999_999i64),
        Just(99_999_999_998i64),
        1i64..=99_999_999_999,
        1i64..=10_000,
    ]
}

#[derive(Debug, Clone)]
struct PlanTx {
    name: String,
    remittance: String,
    amount: i64,
    kind: usize,
}

fn plan_tx() -> impl Strategy<Value = PlanTx> {
    (hostile_text(), hostile_text(), boundary_amount(), 0usize..5).prop_map(|(name, remittance, amount, kind)| PlanTx {
        name,
        remittance,
        amount,
        kind,
    })
}

fn any_profile() -> impl Strategy<Value = Profile> {
    (0usize..64).prop_map(|i| all_profiles()[i])
}

fn any_sequence() -> impl Strategy<Value = SequenceType> {
    prop_oneof![
        Just(SequenceType::Frst),
        Just(SequenceType::Rcur),
        Just(SequenceType::Ooff),
        Just(SequenceType::Fnal),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn hostile_plans_give_valid_files_whose_summary_matches(
        profile in any_profile(),
        plan in prop::collection::vec(
            (any_sequence(), prop::collection::vec(plan_tx(), 1..25)),
            1..8,
        ),
    ) {
        let creditor = creditor();
        let mut groups: Vec<(SequenceType, Vec<Transaction>)> = Vec::new();
        for (g, (seq, txs)) in plan.iter().enumerate() {
            let mut written = Vec::new();
            for (i, p) in txs.iter().enumerate() {
                let template = varied_tx(p.kind);
                let e2e = format!("E2E-{g}-{i}");
                let lines: Vec<&str> = template
                    .debtor_address
                    .iter()
                    .flat_map(|a| a.address_lines().map(AddressText::as_str))
                    .collect();
                let address = template.debtor_address.as_ref().map(|a| RawAddress {
                    street: a.street().map(AddressText::as_str),
                    building_number: a.building_number().map(ShortAddressText::as_str),
                    postcode: a.postcode().map(ShortAddressText::as_str),
                    town: &p.name,
                    country: template.debtor_iban.country(),
                    lines: &lines,
                });
                let raw = RawTransaction {
                    end_to_end_id: &e2e,
                    amount_cents: p.amount,
                    mandate_id: template.mandate_id.as_str(),
                    mandate_signed_on: template.mandate_signed_on,
                    debtor_name: &p.name,
                    debtor_iban: template.debtor_iban.as_str(),
                    debtor_bic: template.debtor_bic.as_ref().map(Bic::as_str),
                    debtor_address: address,
                    remittance: Some(&p.remittance),
                    original_mandate_id: None,
                    original_creditor_id: None,
                    original_debtor_account: None,
                };
                match check_transaction(&raw, &creditor, date("2026-11-23")) {
                    Ok(tx) => {
                        prop_assert!(tx.debtor_name.as_str().len() <= 70);
                        written.push(Transaction {
                            amendment: template.amendment,
                            ..tx
                        });
                    }
                    Err(refused) => {
                        // Only the hostile name (also used as town, up to 35 characters) may
                        // be refused: everything else is valid by design.
                        prop_assert!(
                            refused.reasons.iter().all(|r| r.starts_with("debtor name")
                                || r.starts_with("debtor town")),
                            "{refused}"
                        );
                    }
                }
            }
            if !written.is_empty() {
                groups.push((*seq, written));
            }
        }
        prop_assume!(!groups.is_empty());
        let xml = write_message(profile, &groups).unwrap();
        assert_valid(&xml, profile.version);
        let s = summary(&xml);
        prop_assert!(s.consistent);
        prop_assert_eq!(s.groups.len(), groups.len());
        for ((_, txs), g) in groups.iter().zip(&s.groups) {
            prop_assert_eq!(g.counted_nb_of_txs, txs.len() as u64);
            prop_assert_eq!(
                g.counted_ctrl_sum.0,
                txs.iter().map(|t| t.amount.cents()).sum::<i64>()
            );
        }
        prop_assert_eq!(
            s.counted_nb_of_txs,
            groups.iter().map(|(_, t)| t.len() as u64).sum::<u64>()
        );
    }
}

#[test]
#[should_panic(expected = "pain.008.001.02 refused the document")]
fn the_schema_check_is_not_vacuous() {
    // A .08 file (BICFI, .08 namespace) must not pass the .02 schema.
    let xml = write_message(Profile::default(), &varied_groups()).unwrap();
    assert_valid(&xml, Pain008Version::V02);
}
