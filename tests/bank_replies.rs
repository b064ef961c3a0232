//! The bank-side writers (`collecte::sepa::bank`): every pain.002 and camt.054 they write is
//! validated against its official XSD (through `xmllint`) and read back with the project's
//! own report readers, whose R-transactions and settlements must equal the decisions given.

mod common;

use std::collections::BTreeMap;

use chrono::{DateTime, Days, FixedOffset, NaiveDate};
use collecte::sepa::bank::{
    BankError, BankReply, Camt054Version, Decisions, OriginalGroup, OriginalMessage, OriginalTransaction, Outcome,
    Pain002Version, ReasonCode, RefundReason, RejectLevel, ReportHeader,
};
use collecte::sepa::pain008::{Creditor, LocalInstrument, Pain008Version, SequenceType};
use collecte::sepa::reports::camt::CamtItem;
use collecte::sepa::reports::inspect::{InspectRTransaction, InspectReport, InspectSettlement, inspect_bytes};
use collecte::sepa::reports::{Limits, RKind, Report};
use collecte::sepa::text::{Name, Remittance};
use collecte::sepa::{Bic, CreditorId, EndToEndId, Iban, MandateId, MessageId, Money, PaymentInfoId};
use proptest::prelude::*;

use common::assert_valid_xml;

const PAIN002: [Pain002Version; 2] = [Pain002Version::V03, Pain002Version::V10];
const CAMT054: [Camt054Version; 2] = [Camt054Version::V02, Camt054Version::V08];

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn e2e(s: &str) -> EndToEndId {
    EndToEndId::parse(s).unwrap()
}

fn pmtinf(s: &str) -> PaymentInfoId {
    PaymentInfoId::parse(s).unwrap()
}

fn code(s: &str) -> ReasonCode {
    ReasonCode::parse(s).unwrap()
}

fn header(id: &str) -> ReportHeader {
    ReportHeader {
        message_id: MessageId::parse(id).unwrap(),
        created_at: DateTime::parse_from_rfc3339("2026-12-09T18:30:00+01:00").unwrap(),
    }
}

fn creditor() -> Creditor {
    Creditor {
        name: Name::parse("Abonnements Durand SAS").unwrap(),
        iban: Iban::parse("FR1420041010050500013M02606").unwrap(),
        bic: Some(Bic::parse("BNPAFRPPXXX").unwrap()),
        id: CreditorId::parse("FR72ZZZ123456").unwrap(),
        address: None,
    }
}

fn tx(id: &str, cents: i64, bic: Option<&str>, remittance: Option<&str>) -> OriginalTransaction {
    let (iban, signed) = match id.len() % 3 {
        0 => ("DE89370400440532013000", Some(date("2024-02-29"))),
        1 => ("BE68539007547034", None),
        _ => ("CH9300762011623852957", Some(date("2025-06-01"))),
    };
    OriginalTransaction {
        end_to_end_id: e2e(id),
        amount: Money::from_cents(cents).unwrap(),
        mandate_id: MandateId::parse(&format!("UMR-{id}")).unwrap(),
        mandate_signed_on: signed,
        debtor_name: Name::parse(&format!("Débiteur {id} & Fils")).unwrap(),
        debtor_iban: Iban::parse(iban).unwrap(),
        debtor_bic: bic.map(|b| Bic::parse(b).unwrap()),
        remittance: remittance.map(|r| Remittance::parse(r).unwrap()),
    }
}

fn group(
    id: &str,
    instrument: LocalInstrument,
    sequence: SequenceType,
    day: &str,
    txs: Vec<OriginalTransaction>,
) -> OriginalGroup {
    OriginalGroup {
        payment_info_id: pmtinf(id),
        local_instrument: instrument,
        sequence_type: sequence,
        collection_date: date(day),
        transactions: txs,
    }
}

/// Four groups covering every optional part: BIC or not, remittance or not, signature date
/// or not, extreme amounts, CORE and B2B, two collection dates.
fn hand_made() -> OriginalMessage {
    use LocalInstrument::{B2b, Core};
    use SequenceType::{Frst, Ooff, Rcur};
    OriginalMessage {
        message_id: MessageId::parse("CLT-20261209-00000001").unwrap(),
        created_at: DateTime::parse_from_rfc3339("2026-11-20T06:00:00+01:00").unwrap(),
        version: Pain008Version::V08,
        creditor: creditor(),
        groups: vec![
            group(
                "CLT-20261209-00000001-1",
                Core,
                Frst,
                "2026-12-10",
                vec![
                    tx("A1", 1, Some("COBADEFFXXX"), Some("Facture 1")),
                    tx("A2", 2_990, None, None),
                    tx("A3", 1_250, Some("UBSWCHZH80A"), Some("Abonnement decembre")),
                    tx("A4", 48_000, None, Some("Facture 4")),
                    tx("A5", 4_500, Some("AIBKIE2D"), None),
                    tx("A6", 99_999_999_999, Some("ABNANL2A"), None),
                ],
            ),
            group(
                "CLT-20261209-00000001-2",
                Core,
                Rcur,
                "2026-12-10",
                vec![
                    tx("B1", 1_250, None, None),
                    tx("B2", 1_251, Some("PSSTFRPPLYO"), None),
                    tx("B3", 7_500, None, Some("B3")),
                ],
            ),
            group(
                "CLT-20261209-00000001-3",
                Core,
                Ooff,
                "2026-12-10",
                vec![tx("C1", 35_000, None, None), tx("C2", 9_900, Some("COBADEFF"), None)],
            ),
            group(
                "CLT-20261209-00000001-4",
                B2b,
                Rcur,
                "2026-12-11",
                vec![
                    tx("D1", 12_345, Some("COBADEFFXXX"), None),
                    tx("D2", 67_890, None, None),
                ],
            ),
        ],
    }
}

/// The decisions of a scenario, kept as plain lists so the expectations are computed from
/// them independently of the library's own resolution.
#[derive(Debug, Clone, Default)]
struct Scenario {
    file: Option<ReasonCode>,
    groups: Vec<(&'static str, ReasonCode)>,
    txs: Vec<(&'static str, Outcome)>,
}

impl Scenario {
    fn decisions(&self) -> Decisions {
        let mut d = Decisions::accept_all();
        if let Some(reason) = self.file {
            d = d.reject_file(reason);
        }
        for (id, reason) in &self.groups {
            d = d.reject_group(pmtinf(id), *reason);
        }
        for (id, outcome) in &self.txs {
            d = d.decide(e2e(id), *outcome);
        }
        d
    }

    fn group_reason(&self, id: &PaymentInfoId) -> Option<ReasonCode> {
        self.groups.iter().find(|(g, _)| *g == id.as_str()).map(|(_, r)| *r)
    }

    fn outcome(&self, id: &EndToEndId) -> Outcome {
        self.txs
            .iter()
            .find(|(t, _)| *t == id.as_str())
            .map_or(Outcome::Accepted, |(_, o)| *o)
    }
}

fn reject_kind(reason: ReasonCode) -> RKind {
    if reason == ReasonCode::MS02 {
        RKind::Refusal
    } else {
        RKind::Reject
    }
}

fn r_tx(
    kind: RKind,
    reason: ReasonCode,
    end_to_end_id: Option<&EndToEndId>,
    payment_information_id: Option<&PaymentInfoId>,
    amount: Option<Money>,
    booking_date: Option<NaiveDate>,
) -> InspectRTransaction {
    InspectRTransaction {
        kind,
        reason: Some(reason.to_string()),
        end_to_end_id: end_to_end_id.map(ToString::to_string),
        payment_information_id: payment_information_id.map(ToString::to_string),
        amount: amount.map(|a| a.to_string()),
        currency: amount.map(|_| "EUR".to_owned()),
        booking_date,
    }
}

/// What the pain.002 must say: group status and the rejects at the level they were stated.
fn expected_pain002(m: &OriginalMessage, s: &Scenario) -> (Option<&'static str>, Vec<InspectRTransaction>) {
    if let Some(reason) = s.file {
        return (
            Some("RJCT"),
            vec![r_tx(reject_kind(reason), reason, None, None, None, None)],
        );
    }
    let mut rejects = Vec::new();
    let (mut rejected, mut total) = (0, 0);
    for g in &m.groups {
        total += g.transactions.len();
        if let Some(reason) = s.group_reason(&g.payment_info_id) {
            rejected += g.transactions.len();
            rejects.push(r_tx(
                reject_kind(reason),
                reason,
                None,
                Some(&g.payment_info_id),
                None,
                None,
            ));
            continue;
        }
        for t in &g.transactions {
            if let Outcome::Rejected(reason) = s.outcome(&t.end_to_end_id) {
                rejected += 1;
                rejects.push(r_tx(
                    reject_kind(reason),
                    reason,
                    Some(&t.end_to_end_id),
                    None,
                    Some(t.amount),
                    None,
                ));
            }
        }
    }
    let status = match rejected {
        0 => Some("ACCP"),
        n if n == total => None,
        _ => Some("PART"),
    };
    (status, rejects)
}

/// What the camt.054 must say: every return and refund, and every settled transaction.
fn expected_camt054(
    m: &OriginalMessage,
    s: &Scenario,
    booked: Option<(NaiveDate, NaiveDate)>,
) -> (Vec<InspectRTransaction>, Vec<InspectSettlement>) {
    let within = |d: NaiveDate| booked.is_none_or(|(from, to)| from <= d && d <= to);
    let mut backs = Vec::new();
    let mut settlements = Vec::new();
    if s.file.is_some() {
        return (backs, settlements);
    }
    for g in m.groups.iter().filter(|g| s.group_reason(&g.payment_info_id).is_none()) {
        for t in &g.transactions {
            let outcome = s.outcome(&t.end_to_end_id);
            if matches!(outcome, Outcome::Rejected(_)) {
                continue;
            }
            if within(g.collection_date) {
                settlements.push(InspectSettlement {
                    amount: Some(t.amount.to_string()),
                    currency: Some("EUR".into()),
                    end_to_end_id: Some(t.end_to_end_id.to_string()),
                    payment_information_id: Some(g.payment_info_id.to_string()),
                    booking_date: Some(g.collection_date),
                });
            }
            let back = match outcome {
                Outcome::Returned { reason, booked_on } => Some((RKind::Return, reason, booked_on)),
                Outcome::Refunded { reason, booked_on } => Some((RKind::Refund, reason.code(), booked_on)),
                _ => None,
            };
            if let Some((kind, reason, day)) = back.filter(|(_, _, day)| within(*day)) {
                backs.push(r_tx(
                    kind,
                    reason,
                    Some(&t.end_to_end_id),
                    None,
                    Some(t.amount),
                    Some(day),
                ));
            }
        }
    }
    (backs, settlements)
}

fn inspect_one(xml: &[u8]) -> InspectReport {
    let mut reports = inspect_bytes(xml, Limits::default()).expect("the project's reader reads the file");
    assert_eq!(reports.len(), 1);
    let report = reports.remove(0);
    assert!(report.warnings.is_empty(), "reader warnings: {:?}", report.warnings);
    report
}

fn sorted<T: Clone + std::fmt::Debug>(items: &[T]) -> Vec<T> {
    let mut v = items.to_vec();
    v.sort_by_key(|i| format!("{i:?}"));
    v
}

fn pain002(m: &OriginalMessage, s: &Scenario, version: Pain002Version) -> Vec<u8> {
    let reply = BankReply::new(m, &s.decisions()).unwrap();
    let mut out = Vec::new();
    reply
        .write_pain002(&mut out, version, &header("BANK-PAIN002-1"))
        .unwrap();
    out
}

fn camt054(
    m: &OriginalMessage,
    s: &Scenario,
    version: Camt054Version,
    booked: Option<(NaiveDate, NaiveDate)>,
) -> Vec<u8> {
    let reply = BankReply::new(m, &s.decisions()).unwrap();
    let mut out = Vec::new();
    reply
        .write_camt054(&mut out, version, &header("BANK-CAMT054-1"), booked.map(|(a, b)| a..=b))
        .unwrap();
    out
}

/// Writes the pain.002, validates it and checks the reader finds exactly the decisions.
fn check_pain002(m: &OriginalMessage, s: &Scenario, version: Pain002Version) -> InspectReport {
    let xml = pain002(m, s, version);
    assert_valid_xml(&xml, version.message_name());
    let report = inspect_one(&xml);
    let (status, rejects) = expected_pain002(m, s);
    assert_eq!(report.message, version.message_name());
    assert_eq!(report.message_id.as_deref(), Some("BANK-PAIN002-1"));
    assert_eq!(report.original_message_id.as_deref(), Some(m.message_id.as_str()));
    assert_eq!(
        report.group_status.as_deref(),
        status,
        "{}",
        String::from_utf8_lossy(&xml)
    );
    assert_eq!(report.r_transactions, rejects, "{}", String::from_utf8_lossy(&xml));
    assert!(report.settlements.is_empty());
    assert_eq!(report.unmatched_entries, 0);
    report
}

/// Per entry: (AcctSvcrRef, amount, transactions' sum, batch NbOfTxs, batch total, count).
type EntryFacts = (Option<String>, Option<i64>, i64, Option<u64>, Option<i64>, u64);

/// Reads the entries with the streaming camt reader, for what `inspect` does not show.
fn entry_facts(xml: &[u8]) -> Vec<EntryFacts> {
    let Report::Camt(mut reader) = collecte::sepa::reports::open(xml, Limits::default()).unwrap() else {
        panic!("not a camt");
    };
    let mut facts = Vec::new();
    let mut sum = 0;
    while let Some(item) = reader.next_item().unwrap() {
        match item {
            CamtItem::Transaction { transaction, .. } => {
                let amount = transaction.amount.as_ref().expect("every TxDtls has its amount");
                assert!(!transaction.amount_from_entry);
                sum += amount.cents;
            }
            CamtItem::EntryEnd { entry, transactions } => {
                let batch = entry.batch.as_ref();
                facts.push((
                    entry.account_servicer_reference.clone(),
                    entry.amount.as_ref().map(|a| a.cents),
                    sum,
                    batch.and_then(|b| b.number_of_transactions),
                    batch.and_then(|b| b.total.as_ref()).map(|a| a.cents),
                    transactions,
                ));
                sum = 0;
            }
            CamtItem::Header(_) | CamtItem::Account(_) => {}
        }
    }
    facts
}

/// Writes the camt.054, validates it, checks the reader finds exactly the decisions and
/// that every entry's amount is the exact sum of its transactions.
fn check_camt054(
    m: &OriginalMessage,
    s: &Scenario,
    version: Camt054Version,
    booked: Option<(NaiveDate, NaiveDate)>,
) -> (Vec<u8>, InspectReport) {
    let xml = camt054(m, s, version, booked);
    assert_valid_xml(&xml, version.message_name());
    let report = inspect_one(&xml);
    let (backs, settlements) = expected_camt054(m, s, booked);
    let shown = String::from_utf8_lossy(&xml);
    assert_eq!(report.message, version.message_name());
    assert_eq!(report.group_status, None);
    assert_eq!(sorted(&report.r_transactions), sorted(&backs), "{shown}");
    assert_eq!(sorted(&report.settlements), sorted(&settlements), "{shown}");
    assert_eq!(report.unmatched_entries, 0, "{shown}");
    for (reference, amount, sum, batch_nb, batch_total, count) in entry_facts(&xml) {
        assert!(reference.is_some());
        assert_eq!(amount, Some(sum), "entry amount is the sum of its transactions");
        if let Some(nb) = batch_nb {
            assert_eq!(nb, count);
            assert_eq!(batch_total, Some(sum));
        } else {
            assert_eq!(count, 1, "returns and refunds are single bookings");
        }
    }
    (xml, report)
}

/// Every kind of outcome in one file: accepted, rejected (reject and refusal), returned and
/// refunded (CORE), a group rejected whole, a group whose every transaction is rejected,
/// a B2B group with a return.
fn mixed() -> Scenario {
    Scenario {
        file: None,
        groups: vec![("CLT-20261209-00000001-2", code("BE05"))],
        txs: vec![
            ("A2", Outcome::Rejected(ReasonCode::AM04)),
            ("A3", Outcome::Rejected(ReasonCode::MS02)),
            (
                "A4",
                Outcome::Returned {
                    reason: ReasonCode::AC04,
                    booked_on: date("2026-12-14"),
                },
            ),
            (
                "A5",
                Outcome::Refunded {
                    reason: RefundReason::Md06,
                    booked_on: date("2027-01-20"),
                },
            ),
            ("C1", Outcome::Rejected(ReasonCode::AC04)),
            ("C2", Outcome::Rejected(ReasonCode::MD07)),
            (
                "D1",
                Outcome::Returned {
                    reason: ReasonCode::AM04,
                    booked_on: date("2026-12-11"),
                },
            ),
        ],
    }
}

#[test]
fn pain002_of_each_version_is_valid_and_reads_back_as_decided() {
    let m = hand_made();
    for version in PAIN002 {
        let report = check_pain002(&m, &mixed(), version);
        assert_eq!(report.group_status.as_deref(), Some("PART"));
        assert_eq!(report.r_transactions.len(), 5);
    }
}

#[test]
fn camt054_of_each_version_is_valid_and_reads_back_as_decided() {
    let m = hand_made();
    for version in CAMT054 {
        let (xml, report) = check_camt054(&m, &mixed(), version, None);
        // Groups 1 and 4 settle (2 and 3 do not); A4, A5 and D1 come back.
        assert_eq!(report.settlements.len(), 6);
        assert_eq!(report.r_transactions.len(), 3);
        let kinds: Vec<RKind> = report.r_transactions.iter().map(|r| r.kind).collect();
        assert_eq!(kinds, [RKind::Return, RKind::Return, RKind::Refund], "booking order");
        let text = String::from_utf8(xml).unwrap();
        assert!(text.contains("<SubFmlyCd>ESDD</SubFmlyCd>"));
        assert!(text.contains("<SubFmlyCd>BBDD</SubFmlyCd>"));
        assert!(text.contains("<SubFmlyCd>UPDD</SubFmlyCd>"));
        assert_eq!(text.matches("<RvslInd>true</RvslInd>").count(), 3);
        // Batch of group 1: A1 + A4 + A5 + A6 (A2, A3 rejected), exact to the cent.
        assert!(text.contains("<TtlAmt Ccy=\"EUR\">1000000525.00</TtlAmt>"), "{text}");
        assert!(text.contains("<Amt Ccy=\"EUR\">1000000525.00</Amt>"));
    }
}

#[test]
fn whole_file_rejection_is_stated_once_at_group_level() {
    let m = hand_made();
    let s = Scenario {
        file: Some(ReasonCode::AM10),
        ..Scenario::default()
    };
    for version in PAIN002 {
        let report = check_pain002(&m, &s, version);
        assert_eq!(report.r_transactions.len(), 1);
        let text = String::from_utf8(pain002(&m, &s, version)).unwrap();
        assert!(!text.contains("OrgnlPmtInfAndSts"), "{text}");
        assert!(text.contains("<AddtlInf>InvalidControlSum</AddtlInf>"), "{text}");
    }
    for version in CAMT054 {
        let (xml, report) = check_camt054(&m, &s, version, None);
        assert!(report.settlements.is_empty() && report.r_transactions.is_empty());
        assert!(!String::from_utf8(xml).unwrap().contains("<Ntry>"));
    }
}

#[test]
fn whole_group_rejection_is_stated_at_block_level_without_transactions() {
    let m = hand_made();
    let s = Scenario {
        groups: vec![("CLT-20261209-00000001-1", ReasonCode::MS03)],
        ..Scenario::default()
    };
    for version in PAIN002 {
        let report = check_pain002(&m, &s, version);
        assert_eq!(report.group_status.as_deref(), Some("PART"));
        assert_eq!(
            report.r_transactions[0].payment_information_id.as_deref(),
            Some("CLT-20261209-00000001-1")
        );
        let text = String::from_utf8(pain002(&m, &s, version)).unwrap();
        assert!(!text.contains("TxInfAndSts"), "{text}");
    }
    for version in CAMT054 {
        let (_, report) = check_camt054(&m, &s, version, None);
        assert_eq!(report.settlements.len(), 7, "groups 2, 3 and 4 settle");
    }
}

#[test]
fn accepted_file_is_acknowledged_and_settles_every_transaction() {
    let m = hand_made();
    let s = Scenario::default();
    for version in PAIN002 {
        let report = check_pain002(&m, &s, version);
        assert!(report.r_transactions.is_empty());
        let text = String::from_utf8(pain002(&m, &s, version)).unwrap();
        assert!(!text.contains("OrgnlPmtInfAndSts"), "{text}");
    }
    for version in CAMT054 {
        let (_, report) = check_camt054(&m, &s, version, None);
        assert_eq!(report.settlements.len(), m.nb_of_txs());
    }
}

#[test]
fn every_transaction_rejected_individually_states_no_reasonless_block_or_group_status() {
    let m = hand_made();
    let reasons = [
        ReasonCode::AM04,
        ReasonCode::AC04,
        ReasonCode::MS02,
        ReasonCode::MD01,
        ReasonCode::SL01,
    ];
    let txs = m
        .groups
        .iter()
        .flat_map(|g| &g.transactions)
        .enumerate()
        .map(|(i, t)| {
            let id: &'static str = t.end_to_end_id.to_string().leak();
            (id, Outcome::Rejected(reasons[i % reasons.len()]))
        })
        .collect();
    let s = Scenario {
        txs,
        ..Scenario::default()
    };
    for version in PAIN002 {
        let report = check_pain002(&m, &s, version);
        assert_eq!(report.group_status, None);
        assert_eq!(report.r_transactions.len(), m.nb_of_txs());
        assert!(report.r_transactions.iter().all(|r| r.end_to_end_id.is_some()));
        let text = String::from_utf8(pain002(&m, &s, version)).unwrap();
        assert!(!text.contains("PmtInfSts"), "{text}");
    }
    for version in CAMT054 {
        let (_, report) = check_camt054(&m, &s, version, None);
        assert!(report.settlements.is_empty() && report.r_transactions.is_empty());
    }
}

#[test]
fn notifications_per_day_keep_each_bookings_reference() {
    let m = hand_made();
    let s = mixed();
    for version in CAMT054 {
        let (all, _) = check_camt054(&m, &s, version, None);
        let day = date("2026-12-10");
        let (first_day, report) = check_camt054(&m, &s, version, Some((day, day)));
        assert_eq!(report.settlements.len(), 4, "only group 1 settles on the 10th");
        assert!(report.r_transactions.is_empty());
        let (later, report) = check_camt054(&m, &s, version, Some((date("2026-12-11"), date("2027-12-31"))));
        assert_eq!(report.settlements.len(), 2, "group 4 (B2B) settles on the 11th");
        assert_eq!(report.r_transactions.len(), 3);
        let refs = |xml: &[u8]| -> Vec<String> { entry_facts(xml).into_iter().filter_map(|f| f.0).collect() };
        let mut split = refs(&first_day);
        split.extend(refs(&later));
        assert_eq!(refs(&all), split, "same bookings, same references, same order");
        let unique: std::collections::BTreeSet<&String> = split.iter().collect();
        assert_eq!(unique.len(), split.len());
        let text = String::from_utf8(first_day).unwrap();
        assert!(text.contains("<FrDtTm>2026-12-10T00:00:00+01:00</FrDtTm>"), "{text}");
    }
}

#[test]
fn replies_to_the_project_pain008_samples_read_back_as_decided() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sepa-samples");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let collected = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("collect-"));
        if path.extension().is_none_or(|e| e != "xml") || !collected {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let m = OriginalMessage::from_pain008(bytes.as_slice()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let summary = collecte::sepa::pain008::inspect(bytes.as_slice()).unwrap();
        assert_eq!(m.nb_of_txs() as u64, summary.counted_nb_of_txs);
        assert_eq!(m.total_cents(), summary.counted_ctrl_sum.0);
        assert_eq!(m.groups.len(), summary.groups.len());
        let mut txs = Vec::new();
        for (i, t) in m
            .groups
            .iter()
            .flat_map(|g| g.transactions.iter().map(move |t| (g, t)))
            .enumerate()
        {
            let (g, t) = t;
            let id: &'static str = t.end_to_end_id.to_string().leak();
            let later = |days| g.collection_date.checked_add_days(Days::new(days)).unwrap();
            let outcome = match i % 6 {
                1 => Outcome::Rejected(ReasonCode::AM04),
                2 => Outcome::Returned {
                    reason: ReasonCode::MS02,
                    booked_on: later(3),
                },
                3 if g.local_instrument == LocalInstrument::Core => Outcome::Refunded {
                    reason: RefundReason::Md06,
                    booked_on: later(40),
                },
                4 => Outcome::Rejected(ReasonCode::MS02),
                _ => Outcome::Accepted,
            };
            txs.push((id, outcome));
        }
        let s = Scenario {
            txs,
            ..Scenario::default()
        };
        let pain002_version = match m.version {
            Pain008Version::V02 => Pain002Version::V03,
            Pain008Version::V08 => Pain002Version::V10,
        };
        check_pain002(&m, &s, pain002_version);
        for version in CAMT054 {
            check_camt054(&m, &s, version, None);
        }
        seen += 1;
    }
    assert!(
        seen >= 3,
        "the project's pain.008 samples are missing from {}",
        dir.display()
    );
}

#[test]
fn inconsistent_decisions_are_refused_with_the_reason() {
    let m = hand_made();
    let check = |d: Decisions, expected: &str| {
        let e = BankReply::new(&m, &d).unwrap_err();
        assert!(e.to_string().contains(expected), "{e}");
        e
    };
    let e = check(Decisions::accept_all().reject(e2e("Z9"), ReasonCode::AM04), "Z9");
    assert!(matches!(e, BankError::UnknownEndToEndId(_)));
    let e = check(
        Decisions::accept_all().reject_group(pmtinf("NOPE"), ReasonCode::AM04),
        "NOPE",
    );
    assert!(matches!(e, BankError::UnknownPaymentInfoId(_)));
    let e = check(
        Decisions::accept_all()
            .reject_group(pmtinf("CLT-20261209-00000001-2"), code("BE05"))
            .reject(e2e("B1"), ReasonCode::AM04),
        "payment group",
    );
    assert!(matches!(
        e,
        BankError::DecisionUnderRejection {
            level: RejectLevel::Group,
            ..
        }
    ));
    let e = check(
        Decisions::accept_all()
            .reject_file(ReasonCode::FF01)
            .reject(e2e("A1"), ReasonCode::AM04),
        "file",
    );
    assert!(matches!(e, BankError::DecisionUnderRejection { .. }));
    check(
        Decisions::accept_all()
            .reject_file(ReasonCode::FF01)
            .reject_group(pmtinf("CLT-20261209-00000001-1"), ReasonCode::AM04),
        "file",
    );
    let e = check(
        Decisions::accept_all().return_after_settlement(e2e("A1"), ReasonCode::AM04, date("2026-12-09")),
        "before it settled on 2026-12-10",
    );
    assert!(matches!(e, BankError::BookedBeforeSettlement { .. }));
    let e = check(
        Decisions::accept_all().return_after_settlement(e2e("A1"), ReasonCode::MD06, date("2026-12-12")),
        "MD06",
    );
    assert!(matches!(e, BankError::RefundCodeOnReturn(_)));
    let e = check(
        Decisions::accept_all().refund(e2e("D1"), RefundReason::Md06, date("2026-12-20")),
        "B2B",
    );
    assert!(matches!(e, BankError::RefundUnderB2b(_)));

    let mut twice = hand_made();
    let copy = twice.groups[0].transactions[0].clone();
    twice.groups[1].transactions.push(copy);
    let e = BankReply::new(&twice, &Decisions::accept_all()).unwrap_err();
    assert!(matches!(e, BankError::DuplicateEndToEndId(ref id) if id == "A1"), "{e}");
    let mut twice = hand_made();
    twice.groups[1].payment_info_id = twice.groups[0].payment_info_id.clone();
    let e = BankReply::new(&twice, &Decisions::accept_all()).unwrap_err();
    assert!(matches!(e, BankError::DuplicatePaymentInfoId(_)), "{e}");
}

#[test]
fn resolved_outcomes_say_what_ingest_should_record() {
    let m = hand_made();
    let d = mixed().decisions();
    let reply = BankReply::new(&m, &d).unwrap();
    let resolved: BTreeMap<String, (Outcome, Option<RejectLevel>)> = reply
        .resolved()
        .into_iter()
        .map(|r| (r.transaction.end_to_end_id.to_string(), (r.outcome, r.rejected_at)))
        .collect();
    assert_eq!(resolved.len(), m.nb_of_txs());
    assert_eq!(resolved["A1"], (Outcome::Accepted, None));
    assert_eq!(
        resolved["A2"],
        (Outcome::Rejected(ReasonCode::AM04), Some(RejectLevel::Transaction))
    );
    assert_eq!(
        resolved["B3"],
        (Outcome::Rejected(code("BE05")), Some(RejectLevel::Group))
    );
    assert!(matches!(resolved["A5"].0, Outcome::Refunded { .. }));
    let file = Decisions::accept_all().reject_file(ReasonCode::FF01);
    let reply = BankReply::new(&m, &file).unwrap();
    assert!(
        reply
            .resolved()
            .iter()
            .all(|r| r.rejected_at == Some(RejectLevel::File))
    );
}

#[test]
fn nothing_is_written_when_the_report_cannot_be() {
    let m = hand_made();
    let reply = BankReply::new(&m, &Decisions::accept_all()).unwrap();
    let mut bad = header("BANK-1");
    bad.created_at = DateTime::<FixedOffset>::from_naive_utc_and_offset(
        NaiveDate::from_ymd_opt(10_000, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap(),
        FixedOffset::east_opt(0).unwrap(),
    );
    let mut out = Vec::new();
    let e = reply.write_pain002(&mut out, Pain002Version::V10, &bad).unwrap_err();
    assert!(matches!(e, BankError::DateTime { .. }), "{e}");
    assert!(out.is_empty());
    let e = reply
        .write_camt054(&mut out, Camt054Version::V08, &bad, None)
        .unwrap_err();
    assert!(matches!(e, BankError::DateTime { .. }), "{e}");
    assert!(out.is_empty());
}

#[test]
fn pain008_reader_refuses_what_is_not_one_of_our_files() {
    let camt = camt054(&hand_made(), &Scenario::default(), Camt054Version::V08, None);
    let e = OriginalMessage::from_pain008(camt.as_slice()).unwrap_err();
    assert!(e.to_string().contains("not a pain.008"), "{e}");
    let sample = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sepa-samples/collect-pain.008.001.08-default.xml"),
    )
    .unwrap();
    let text = String::from_utf8(sample).unwrap();
    let cut = text.find("</CstmrDrctDbtInitn>").unwrap();
    let e = OriginalMessage::from_pain008(&text.as_bytes()[..cut]).unwrap_err();
    assert!(e.to_string().contains("ends before"), "{e}");
    let e = OriginalMessage::from_pain008(&text.as_bytes()[..cut - 6]).unwrap_err();
    assert!(e.to_string().contains("not well-formed"), "{e}");
    let bad_iban = text.replacen("<IBAN>FR76", "<IBAN>FR77", 1);
    let e = OriginalMessage::from_pain008(bad_iban.as_bytes()).unwrap_err();
    assert!(e.to_string().contains("CdtrAcct/Id/IBAN"), "{e}");
    let doctype = text.replacen("<Document", "<!DOCTYPE x [<!ENTITY a \"b\">]><Document", 1);
    assert!(OriginalMessage::from_pain008(doctype.as_bytes()).is_err());
}

/// A transaction decision drawn by proptest: 0 accept, 1 reject, 2 refusal, 3 return,
/// 4 refund (CORE only; accepted under B2B).
fn outcome_for(choice: u8, g: &OriginalGroup, delay: u64) -> Outcome {
    let booked_on = g.collection_date.checked_add_days(Days::new(delay)).unwrap();
    match choice {
        1 => Outcome::Rejected(ReasonCode::AC04),
        2 => Outcome::Rejected(ReasonCode::MS02),
        3 => Outcome::Returned {
            reason: ReasonCode::AM04,
            booked_on,
        },
        4 if g.local_instrument == LocalInstrument::Core => Outcome::Refunded {
            reason: if delay > 56 {
                RefundReason::Md01
            } else {
                RefundReason::Md06
            },
            booked_on,
        },
        _ => Outcome::Accepted,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Any mix of decisions and amounts: both files of both versions validate and read back
    /// exactly as decided.
    #[test]
    fn any_decisions_round_trip_through_the_readers(
        amounts in proptest::collection::vec(1i64..=99_999_999_999, 13),
        choices in proptest::collection::vec((0u8..5, 0u64..400), 13),
        group_rejections in proptest::collection::vec(0u8..6, 4),
        file_rejected in proptest::bool::weighted(0.1),
        v in 0usize..2,
    ) {
        let mut m = hand_made();
        for (t, cents) in m.groups.iter_mut().flat_map(|g| &mut g.transactions).zip(&amounts) {
            t.amount = Money::from_cents(*cents).unwrap();
        }
        let mut txs = Vec::new();
        let mut groups = Vec::new();
        let mut choice = choices.iter();
        for (g, group) in m.groups.iter().enumerate() {
            let rejected = group_rejections[g] == 0 && !file_rejected;
            if rejected {
                groups.push((group.payment_info_id.to_string().leak() as &'static str, ReasonCode::MD02));
            }
            for t in &group.transactions {
                let id: &'static str = t.end_to_end_id.to_string().leak();
                let (pick, delay) = choice.next().copied().unwrap_or_default();
                if !rejected && !file_rejected {
                    txs.push((id, outcome_for(pick, group, delay)));
                }
            }
        }
        let s = Scenario { file: file_rejected.then_some(ReasonCode::FF01), groups, txs };
        check_pain002(&m, &s, PAIN002[v]);
        check_camt054(&m, &s, CAMT054[v], None);
    }
}

/// An SDD B2B collection returned by the debtor bank with MD01 (no mandate registered: the
/// usual B2B return) is a *return*: the B2B scheme has no refunds. The reader tells the
/// scheme by `LclInstrm` B2B (2019 versions) and, in every version, by the original
/// sub-family BBDD in `RtrInf/OrgnlBkTxCd`.
#[test]
fn md01_return_of_a_b2b_collection_reads_as_a_return() {
    let m = hand_made();
    let s = Scenario {
        txs: vec![(
            "D2",
            Outcome::Returned {
                reason: ReasonCode::MD01,
                booked_on: date("2026-12-14"),
            },
        )],
        ..Scenario::default()
    };
    for version in CAMT054 {
        check_camt054(&m, &s, version, None);
    }
}
