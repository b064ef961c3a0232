//! Every public sample report parses (or is refused for a stated reason), and yields exactly
//! the R-transactions and settlements the file holds, as read by hand from each file and
//! checked against `sepa-samples/public/MANIFEST.md`.

use std::collections::BTreeSet;
use std::fs;

mod common;

use collecte::sepa::reports::camt::CamtItem;
use collecte::sepa::reports::inspect::{InspectReport, inspect_bytes};
use collecte::sepa::reports::pain002::Pain002Item;
use collecte::sepa::reports::{self, Amount, CamtClass, CreditDebit, Limits, RKind, Report, ReportError};

fn read_sample(relative: &str) -> Vec<u8> {
    let path = common::shared_samples().join("public").join(relative);
    fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// One expected R-transaction: kind, reason, EndToEndId, PmtInfId, amount, currency, date.
type R = (
    RKind,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
);
/// One expected settlement: EndToEndId, PmtInfId, amount, currency, booking date.
type S = (
    Option<&'static str>,
    Option<&'static str>,
    &'static str,
    &'static str,
    &'static str,
);

enum Expected {
    Report {
        message: &'static str,
        message_id: &'static str,
        group_status: Option<&'static str>,
        r_transactions: Vec<R>,
        settlements: Vec<S>,
        unmatched: u64,
    },
    Refused(&'static str),
}

fn report(
    message: &'static str,
    message_id: &'static str,
    group_status: Option<&'static str>,
    r_transactions: Vec<R>,
    settlements: Vec<S>,
    unmatched: u64,
) -> Expected {
    Expected::Report {
        message,
        message_id,
        group_status,
        r_transactions,
        settlements,
        unmatched,
    }
}

/// A pain.002 transaction-level status (no booking date, no PmtInfId).
fn tx(kind: RKind, reason: &'static str, e2e: &'static str, amount: Option<&'static str>) -> R {
    let currency = amount.map(|_| "EUR");
    (kind, Some(reason), Some(e2e), None, amount, currency, None)
}

/// A camt return of one transaction.
fn camt_r(
    kind: RKind,
    reason: &'static str,
    e2e: &'static str,
    amount: &'static str,
    currency: &'static str,
    date: &'static str,
) -> R {
    (
        kind,
        Some(reason),
        Some(e2e),
        None,
        Some(amount),
        Some(currency),
        Some(date),
    )
}

fn expectations() -> Vec<(&'static str, Expected)> {
    use RKind::*;
    let none = Vec::new;
    vec![
        // camt.053 ---------------------------------------------------------------------
        (
            "camt.053/dutch-sepa-iso20022__camt.053.001.02.xml",
            // PAYM/TREA national codes: a received credit, an outgoing batch, a treasury credit.
            report("camt.053.001.02", "AAAASESS-FP-STAT001", None, none(), vec![], 3),
        ),
        (
            "camt.053/genkgo-camt__camt053.v2.all-balance-types.xml",
            report("camt.053.001.02", "CAMT05300000001", None, none(), vec![], 1),
        ),
        (
            "camt.053/genkgo-camt__camt053.v2.multi.statement.xml",
            report("camt.053.001.02", "CAMT053RIB000000000001", None, none(), vec![], 2),
        ),
        (
            "camt.053/genkgo-camt__camt053.v8.xml",
            report("camt.053.001.08", "CAMT053RIB000000000001", None, none(), vec![], 1),
        ),
        (
            // The IDDT/PMDD credit has no EndToEndId nor PmtInfId: nothing to match it by.
            "camt.053/libeufin__camt053_P_CH2909000000250094239_1110092698_0_2020062503071366_v2009.xml",
            report("camt.053.001.04", "20201124375204229003967", None, none(), vec![], 5),
        ),
        (
            "camt.053/libeufin__camt053_P_CH2909000000250094239_1110092698_0_2020112503071366_v2019.xml",
            report("camt.053.001.08", "20201124375204229003967", None, none(), vec![], 5),
        ),
        (
            // Entry 2 is a batch (NbOfTxs 2, TtlAmt 664.05) of two returned SDDs, each with
            // its own amount; entries 1 (RDDT: a debit we paid) and 3 (an SCT) are other.
            "camt.053/oca-bank-statement-import__test-camt053.xml",
            report(
                "camt.053.001.02",
                "TESTBANK/NL/1420561226673",
                None,
                vec![
                    camt_r(
                        Return,
                        "AC06",
                        "TESTBANK/NL/20141229/01206408",
                        "564.05",
                        "EUR",
                        "2014-01-05",
                    ),
                    camt_r(
                        Return,
                        "AC06",
                        "TESTBANK/NL/20141229/01206407",
                        "100.00",
                        "EUR",
                        "2014-01-05",
                    ),
                ],
                vec![],
                2,
            ),
        ),
        (
            // 16 entries without TxDtls; RDDT/PMDD are direct debits the owner paid.
            "camt.053/ofxstatement-iso20022__davider80.xml",
            report("camt.053.001.04", "MSG-C053-170412091216-01", None, none(), vec![], 16),
        ),
        // camt.054 ---------------------------------------------------------------------
        (
            "camt.054/genkgo-camt__camt054.v2.xml",
            report("camt.054.001.02", "AAAASESS-FP-ACCR001", None, none(), vec![], 1),
        ),
        (
            "camt.054/genkgo-camt__camt054.v4.xml",
            report("camt.054.001.04", "AAAASESS-FP-ACCR001", None, none(), vec![], 1),
        ),
        (
            "camt.054/genkgo-camt__camt054.v8.xml",
            report("camt.054.001.08", "AAAASESS-FP-ACCR001", None, none(), vec![], 1),
        ),
        (
            "camt.054/libeufin__10_camt054_Return_Detailavisierung_mit_Einzelbuchung_v2009.xml",
            report(
                "camt.054.001.04",
                "20201124375204228763929",
                None,
                vec![camt_r(
                    Return,
                    "AC01",
                    "EndToEndId-001-03-04",
                    "500.00",
                    "CHF",
                    "2020-11-24",
                )],
                vec![],
                0,
            ),
        ),
        (
            // A batch credit of two collected direct debits, each settled with its own amount.
            "camt.054/libeufin__200519_camt054-chdd_p_ch2909000000250094239_1110097484_0_20190520700381159_v2019.xml",
            report(
                "camt.054.001.08",
                "20190520375204228751067",
                None,
                none(),
                vec![
                    (
                        Some("E2EId-CHDD-1"),
                        Some("PmtInfId-CHDD-1"),
                        "1.50",
                        "CHF",
                        "2019-05-19",
                    ),
                    (
                        Some("E2EId-CHDD-2"),
                        Some("PmtInfId-CHDD-1"),
                        "3.00",
                        "CHF",
                        "2019-05-19",
                    ),
                ],
                0,
            ),
        ),
        (
            "camt.054/libeufin__9_camt054_Return_Detailavisierung_mit_Sammelbuchung_ISO2019_v2019.xml",
            report(
                "camt.054.001.08",
                "20190520375204012050698",
                None,
                vec![camt_r(
                    Return,
                    "AC01",
                    "EndToEndId-004-01-01",
                    "400.00",
                    "CHF",
                    "2022-05-20",
                )],
                vec![],
                0,
            ),
        ),
        (
            // Does not validate (short UETR): read anyway.
            "camt.054/libeufin__camt054_P_CH2909000000250094239_1111111119_0_2022030911011199_v2019.xml",
            report("camt.054.001.08", "20200618375204295372463", None, none(), vec![], 1),
        ),
        (
            // Only AmtDtls/InstdAmt is given for the transaction.
            "camt.054/oca-account-payment__test-sepa-camt-unpaid.xml",
            report(
                "camt.054.001.02",
                "MSGID99345678912",
                None,
                vec![camt_r(Return, "AC06", "E2EID1", "100.00", "EUR", "2016-10-08")],
                vec![],
                0,
            ),
        ),
        (
            "camt.054/oca-bank-statement-import__test-camt054.xml",
            report("camt.054.001.04", "20220126375204763458853", None, none(), vec![], 1),
        ),
        // pain.002 ---------------------------------------------------------------------
        (
            "pain.002/adeudos-sepa-xml__LaCaixa_pain00200103_Example1.xml",
            report(
                "pain.002.001.03",
                "DATIR00112G12345678100",
                None,
                vec![
                    tx(Refusal, "MS02", "201207010001/01002", Some("100.00")),
                    tx(Reject, "MS01", "201207010001/02452", Some("30.30")),
                    tx(Refusal, "MS02", "201205270001/01650", Some("90.00")),
                ],
                vec![],
                0,
            ),
        ),
        (
            "pain.002/hbci4java__test-pain-parse-0020110-03.xml",
            report(
                "pain.002.001.10",
                "dc6f9da5b431-4956-8e23-1bef7d23f948",
                Some("RCVC"),
                none(),
                vec![],
                0,
            ),
        ),
        (
            "pain.002/libeufin__3_pain002_B-Level_und_C-Level_RJCT_ISO2019_v2019.xml",
            report(
                "pain.002.001.10",
                "204691ACFC/071125/023362",
                None,
                vec![(Reject, Some("AC01"), None, Some("PMTINF-02"), None, None, None)],
                vec![],
                0,
            ),
        ),
        (
            "pain.002/libeufin__3_pain002_B-Level_und_C-Level_RJCT_v2009.xml",
            report(
                "pain.002.001.03.ch.02",
                "20180315375204222822452",
                None,
                vec![tx(Reject, "AC01", "EndToEndId-001-03-04", None)],
                vec![],
                0,
            ),
        ),
        (
            "pain.002/libeufin__5_pain002_A-Level_ACTC_Empfangsbestaetigung_FDS_v2019.xml",
            report(
                "pain.002.001.10",
                "20180315375204222821684",
                Some("ACTC"),
                none(),
                vec![],
                0,
            ),
        ),
        (
            "pain.002/libeufin__6_pain002_A-Level_RJCT_Empfangsbestaetigung_FDS_v2019.xml",
            report(
                "pain.002.001.10",
                "20180326375204011685776",
                Some("RJCT"),
                vec![(Reject, Some("AM10"), None, None, None, None, None)],
                vec![],
                0,
            ),
        ),
        (
            "pain.002/libeufin__pain002_CHDD_P_CH2909000000250094239_1110097483_0_20220614375204216308259.xml",
            report(
                "pain.002.001.03.ch.02",
                "20220614375204216308259",
                None,
                none(),
                vec![],
                0,
            ),
        ),
        (
            // The comments say MS03 for E2EID2, the code is MS02: the code wins.
            "pain.002/oca-account-payment__test-sepa-pain-unpaid.xml",
            report(
                "pain.002.001.03",
                "MSGID99345678912",
                None,
                vec![
                    tx(Reject, "AC01", "E2EID1", Some("100.00")),
                    tx(Refusal, "MS02", "E2EID2", Some("100.00")),
                    tx(Reject, "MD06", "E2EID3", Some("100.00")),
                    tx(Reject, "AM04", "E2EID4", Some("100.00")),
                ],
                vec![],
                0,
            ),
        ),
        (
            // PmtInfSts RJCT without a reason, and its one listed transaction with AC01.
            "pain.002/oca-l10n-switzerland__pain002p-rejected.xml",
            report(
                "pain.002.001.03.ch.02",
                "KOBE170515813733",
                None,
                vec![
                    tx(Reject, "AC01", "Ltest", None),
                    (Reject, None, None, Some("P000030"), None, None, None),
                ],
                vec![],
                0,
            ),
        ),
        // pain.008: our own kind of file, not a report ----------------------------------
        (
            "pain.008/dutch-sepa-iso20022__abn_pain.008.001.02_voorbeeldbestand.xml",
            Expected::Refused("pain.008.001.02 is not a bank report"),
        ),
        (
            "pain.008/dutch-sepa-iso20022__ing_pain.008.001.02_voorbeeldbestand.xml",
            Expected::Refused("pain.008.001.02 is not a bank report"),
        ),
        (
            "pain.008/php-sepa-xml__pain.008.001.02.xml",
            Expected::Refused("pain.008.001.02 is not a bank report"),
        ),
        (
            "pain.008/php-sepa-xml__pain.008.001.08.xml",
            Expected::Refused("pain.008.001.08 is not a bank report"),
        ),
        (
            "pain.008/php-sepa-xml__pain.008.001.11.xml",
            Expected::Refused("pain.008.001.11 is not a bank report"),
        ),
        (
            "pain.008/sepa_king__pain.008.003.02.xml",
            Expected::Refused("pain.008.003.02 is not a bank report"),
        ),
    ]
}

fn check(file: &str, expected: &Expected, got: Result<Vec<InspectReport>, ReportError>) {
    match expected {
        Expected::Refused(reason) => match got {
            Err(e) => assert!(e.to_string().contains(reason), "{file}: refused for {e}"),
            Ok(r) => panic!("{file}: should be refused ({reason}), got {r:?}"),
        },
        Expected::Report {
            message,
            message_id,
            group_status,
            r_transactions,
            settlements,
            unmatched,
        } => {
            let reports = got.unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(reports.len(), 1, "{file}");
            let report = &reports[0];
            assert_eq!(report.message, *message, "{file}");
            assert_eq!(report.message_id.as_deref(), Some(*message_id), "{file}");
            assert_eq!(report.group_status.as_deref(), *group_status, "{file}");
            let dates: Vec<Option<String>> = report
                .r_transactions
                .iter()
                .map(|r| r.booking_date.map(|d| d.to_string()))
                .collect();
            let got_r: Vec<_> = report
                .r_transactions
                .iter()
                .zip(&dates)
                .map(|(r, date)| {
                    (
                        r.kind,
                        r.reason.as_deref(),
                        r.end_to_end_id.as_deref(),
                        r.payment_information_id.as_deref(),
                        r.amount.as_deref(),
                        r.currency.as_deref(),
                        date.as_deref(),
                    )
                })
                .collect();
            assert_eq!(&got_r, r_transactions, "{file}: R-transactions");
            let dates: Vec<String> = report
                .settlements
                .iter()
                .map(|s| s.booking_date.map(|d| d.to_string()).unwrap_or_default())
                .collect();
            let got_s: Vec<_> = report
                .settlements
                .iter()
                .zip(&dates)
                .map(|(s, date)| {
                    (
                        s.end_to_end_id.as_deref(),
                        s.payment_information_id.as_deref(),
                        s.amount.as_deref().unwrap_or_default(),
                        s.currency.as_deref().unwrap_or_default(),
                        date.as_str(),
                    )
                })
                .collect();
            assert_eq!(&got_s, settlements, "{file}: settlements");
            assert_eq!(report.unmatched_entries, *unmatched, "{file}: unmatched entries");
        }
    }
}

#[test]
fn every_public_sample_is_read_or_refused_with_exactly_what_it_holds() {
    let expectations = expectations();
    for (file, expected) in &expectations {
        let bytes = read_sample(file);
        check(file, expected, inspect_bytes(&bytes, Limits::default()));
    }
    // Every file of the report and pain.008 folders is covered: a new sample must be added
    // here with what it holds.
    let listed: BTreeSet<&str> = expectations.iter().map(|(f, _)| *f).collect();
    for folder in ["pain.002", "camt.053", "camt.054", "pain.008"] {
        let dir = common::shared_samples().join("public").join(folder);
        for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let name = entry.map(|e| e.file_name()).unwrap_or_default();
            let relative = format!("{folder}/{}", name.to_string_lossy());
            assert!(listed.contains(relative.as_str()), "{relative} has no expectation");
        }
    }
}

#[test]
fn a_batch_of_returns_is_streamed_per_transaction_with_its_own_amounts() {
    let bytes = read_sample("camt.053/oca-bank-statement-import__test-camt053.xml");
    let Report::Camt(mut camt) = reports::open(&bytes[..], Limits::default()).unwrap() else {
        panic!("not read as camt");
    };
    let mut transactions = Vec::new();
    let mut entries = Vec::new();
    while let Some(item) = camt.next_item().unwrap() {
        match item {
            CamtItem::Account(account) => {
                assert_eq!(account.iban.as_deref(), Some("NL77ABNA0574908765"));
            }
            CamtItem::Transaction { entry, transaction } => {
                let class = reports::classify::classify(entry, Some(&transaction));
                transactions.push((entry.reversal, class, transaction));
            }
            CamtItem::EntryEnd { entry, transactions } => entries.push((entry.clone(), transactions)),
            CamtItem::Header(header) => {
                assert_eq!(header.message_id.as_deref(), Some("TESTBANK/NL/1420561226673"));
            }
        }
    }
    assert_eq!(entries.len(), 3);
    let (batch_entry, count) = &entries[1];
    assert_eq!(*count, 2);
    assert!(batch_entry.reversal);
    assert_eq!(batch_entry.credit_debit, Some(CreditDebit::Debit));
    assert_eq!(batch_entry.bank_transaction_code.sub_family.as_deref(), Some("UPDD"));
    assert_eq!(batch_entry.bank_transaction_code.proprietary.as_deref(), Some("EIST"));
    let batch = batch_entry.batch.as_ref().unwrap();
    assert_eq!(batch.payment_info_id.as_deref(), Some("2018/125-20141229-NORM"));
    assert_eq!(batch.number_of_transactions, Some(2));
    assert_eq!(
        batch.total,
        Some(Amount {
            cents: 66_405,
            currency: "EUR".into()
        })
    );
    let returned: Vec<(i64, Option<&str>, Option<&str>)> = transactions
        .iter()
        .filter(|(_, class, _)| *class == CamtClass::RTransaction(RKind::Return))
        .map(|(_, _, t)| {
            (
                t.amount.as_ref().map_or(0, |a| a.cents),
                t.mandate_id.as_deref(),
                t.reason_code(),
            )
        })
        .collect();
    assert_eq!(
        returned,
        [
            (56_405, Some("NL22ZZZ524885430000-C0125.1"), Some("AC06")),
            (10_000, Some("NL22ZZZ524885430000-C0125.2"), Some("AC06")),
        ]
    );
    assert!(transactions.iter().all(|(_, _, t)| !t.amount_from_entry));
}

#[test]
fn transaction_amounts_come_from_the_transaction_in_every_version() {
    let bytes = read_sample("camt.054/oca-account-payment__test-sepa-camt-unpaid.xml");
    let Report::Camt(mut camt) = reports::open(&bytes[..], Limits::default()).unwrap() else {
        panic!("not read as camt");
    };
    while let Some(item) = camt.next_item().unwrap() {
        if let CamtItem::Transaction { transaction, .. } = item {
            // AmtDtls/InstdAmt is given, so the entry amount is not needed.
            assert!(!transaction.amount_from_entry);
            assert_eq!(transaction.debtor_iban.as_deref(), Some("IE16AIBK93110187654321"));
            let info = transaction.return_info.unwrap();
            assert_eq!(info.additional_info, ["/RTYP/RTRN"]);
        }
    }
    // libeufin's PostFinance statement: TxDtls carry Amt directly (.04 and later).
    let bytes =
        read_sample("camt.053/libeufin__camt053_P_CH2909000000250094239_1110092698_0_2020112503071366_v2019.xml");
    let Report::Camt(mut camt) = reports::open(&bytes[..], Limits::default()).unwrap() else {
        panic!("not read as camt");
    };
    let mut amounts = Vec::new();
    while let Some(item) = camt.next_item().unwrap() {
        if let CamtItem::Transaction { entry, transaction } = item {
            assert_eq!(entry.status.as_deref(), Some("BOOK"));
            amounts.push(transaction.amount.map(|a| a.cents));
        }
    }
    assert_eq!(
        amounts,
        [Some(450), Some(7_770), Some(150_000), Some(153_700), Some(169_222)]
    );
}

#[test]
fn pain002_levels_stay_apart() {
    let bytes = read_sample("pain.002/oca-l10n-switzerland__pain002p-rejected.xml");
    let Report::Pain002(mut pain) = reports::open(&bytes[..], Limits::default()).unwrap() else {
        panic!("not read as pain.002");
    };
    assert_eq!(pain.message().name, "pain.002.001.03.ch.02");
    let mut items = Vec::new();
    while let Some(item) = pain.next_item().unwrap() {
        items.push(item);
    }
    let [
        Pain002Item::Group(group),
        Pain002Item::Transaction(tx),
        Pain002Item::PaymentInfo(block),
    ] = items.as_slice()
    else {
        panic!("unexpected records {items:?}");
    };
    assert_eq!(group.original_message_id.as_deref(), Some("2017/1013"));
    assert_eq!(group.rejects_all(), None);
    assert_eq!(tx.original_payment_info_id.as_deref(), Some("P000030"));
    assert_eq!(tx.reasons[0].additional_info, ["1080407;Payment rejected."]);
    assert_eq!(block.rejects_all(), Some(RKind::Reject));
    assert_eq!(block.transactions_listed, 1);

    let bytes = read_sample("pain.002/adeudos-sepa-xml__LaCaixa_pain00200103_Example1.xml");
    let Report::Pain002(mut pain) = reports::open(&bytes[..], Limits::default()).unwrap() else {
        panic!("not read as pain.002");
    };
    let mut mandates = Vec::new();
    while let Some(item) = pain.next_item().unwrap() {
        match item {
            Pain002Item::Group(g) => {
                assert_eq!(g.original_number_of_transactions, Some(3));
                assert_eq!(g.original_control_sum, Some(22_000));
            }
            Pain002Item::Transaction(t) => mandates.push((
                t.mandate_id.unwrap_or_default(),
                t.requested_collection_date.map(|d| d.to_string()),
                t.debtor_name.unwrap_or_default(),
            )),
            Pain002Item::PaymentInfo(_) => {}
        }
    }
    assert_eq!(
        mandates[0],
        (
            "000001101000".to_owned(),
            Some("2012-07-16".to_owned()),
            "NURIA SAULER PORTAL".to_owned()
        )
    );
}

#[test]
fn inspect_json_has_the_documented_keys() {
    let bytes = read_sample(
        "camt.054/libeufin__200519_camt054-chdd_p_ch2909000000250094239_1110097484_0_20190520700381159_v2019.xml",
    );
    let reports = inspect_bytes(&bytes, Limits::default()).unwrap();
    let json = serde_json::to_value(&reports[0]).unwrap();
    let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "group_status",
            "message",
            "message_id",
            "r_transactions",
            "settlements",
            "unmatched_entries",
            "warnings"
        ]
    );
    assert_eq!(
        json["settlements"][0],
        serde_json::json!({
            "amount": "1.50",
            "currency": "CHF",
            "end_to_end_id": "E2EId-CHDD-1",
            "payment_information_id": "PmtInfId-CHDD-1",
            "booking_date": "2019-05-19"
        })
    );
    let bytes = read_sample("pain.002/libeufin__6_pain002_A-Level_RJCT_Empfangsbestaetigung_FDS_v2019.xml");
    let json = serde_json::to_value(&inspect_bytes(&bytes, Limits::default()).unwrap()[0]).unwrap();
    assert_eq!(
        json["r_transactions"][0],
        serde_json::json!({
            "kind": "reject",
            "reason": "AM10",
            "end_to_end_id": null,
            "amount": null,
            "currency": null,
            "booking_date": null
        })
    );
    assert_eq!(json["original_message_id"], "MsgId-005");
}
