//! The collections both pain.008 benchmarks write (`examples/pain008_throughput.rs`,
//! `benches/bench_collect.rs`), and how each library is driven on them.
//!
//! Included with `#[path]` by both; each uses a part of it.
#![allow(dead_code)]

use std::io::{self, Write};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate};
use collecte::sepa::pain008::{
    self, Amendment, Creditor, GroupHeader, OriginalDebtorAccount, Pain008Writer, PaymentGroup, PostalAddress, Profile,
    RawAddress, RawTransaction, SequenceType, ShortAddressText, TownName, Transaction,
};
use collecte::sepa::text::{AddressText, Name, Remittance};
use collecte::sepa::{Bic, CountryCode, CreditorId, EndToEndId, Iban, MandateId, MessageId, Money, PaymentInfoId};

/// Distinct collections cycled through (the writers do not care about repeats).
pub const POOL: usize = 1024;
/// Debtor accounts, with their bank's BIC.
pub const IBANS: [(&str, &str); 4] = [
    ("DE89370400440532013000", "COBADEFFXXX"),
    ("FR1420041010050500013M02606", "BNPAFRPPXXX"),
    ("NL91ABNA0417164300", "ABNANL2A"),
    ("BE68539007547034", "GEBABEBB"),
];
/// The creditor of every file.
pub const CREDITOR_NAME: &str = "Abonnements Durand SAS";
/// Creditor account.
pub const CREDITOR_IBAN: &str = "FR1420041010050500013M02606";
/// Creditor bank.
pub const CREDITOR_BIC: &str = "BNPAFRPPXXX";
/// Creditor identifier.
pub const CREDITOR_ID: &str = "FR72ZZZ123456";
/// Requested collection date of every group.
pub const COLLECTION_DATE: (i32, u32, u32) = (2026, 11, 23);
/// Mandate signature date of every collection.
pub const SIGNED_ON: (i32, u32, u32) = (2024, 3, 1);
/// Debtor address written for one collection in five.
pub const ADDRESS: [&str; 5] = ["Rue Victor Hugo", "12", "69002", "Lyon", "FR"];

/// Counts bytes and throws them away.
pub struct Counter(pub u64);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// One collection in plain values, turned into either library's types.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Plain {
    pub e2e: String,
    pub cents: i64,
    pub mandate: String,
    pub name: String,
    pub iban: &'static str,
    pub bic: Option<&'static str>,
    pub address: bool,
    pub amendment: bool,
    pub remittance: String,
}

/// Collection number `i`: 70% with a BIC, 20% with an address, 5% with an amendment.
pub fn plain(i: usize) -> Plain {
    let (iban, bic) = IBANS[i % IBANS.len()];
    Plain {
        e2e: format!("E2E-2026-11-{i:08}"),
        cents: 990 + (i as i64 * 7919) % 20_000,
        mandate: format!("UMR-{i:010}"),
        name: format!("Client Numero {i} Dupont"),
        iban,
        bic: (i % 10 < 7).then_some(bic),
        address: i.is_multiple_of(5),
        amendment: i.is_multiple_of(20),
        remittance: format!("Abonnement novembre 2026 facture F-{i:08}"),
    }
}

fn date((y, m, d): (i32, u32, u32)) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("fixture")
}

fn their_date((y, m, d): (i32, u32, u32)) -> sepa::IsoDate {
    sepa::IsoDate::new(y as u16, m as u8, d as u8).expect("fixture")
}

/// The collection as collecte's checked [`Transaction`].
pub fn ours(p: &Plain) -> Transaction {
    Transaction {
        end_to_end_id: EndToEndId::parse(&p.e2e).expect("fixture"),
        amount: Money::from_cents(p.cents).expect("fixture"),
        mandate_id: MandateId::parse(&p.mandate).expect("fixture"),
        mandate_signed_on: date(SIGNED_ON),
        amendment: p
            .amendment
            .then(|| Amendment::debtor_account_changed(OriginalDebtorAccount::Smnda)),
        debtor_name: Name::parse(&p.name).expect("fixture"),
        debtor_iban: Iban::parse(p.iban).expect("fixture"),
        debtor_bic: p.bic.map(|b| Bic::parse(b).expect("fixture")),
        debtor_address: p.address.then(|| {
            PostalAddress::new(
                TownName::parse(ADDRESS[3]).expect("fixture"),
                CountryCode::parse(ADDRESS[4]).expect("fixture"),
            )
            .with_street(AddressText::parse(ADDRESS[0]).expect("fixture"))
            .with_building_number(ShortAddressText::parse(ADDRESS[1]).expect("fixture"))
            .with_postcode(ShortAddressText::parse(ADDRESS[2]).expect("fixture"))
        }),
        remittance: Some(Remittance::parse(&p.remittance).expect("fixture")),
    }
}

/// The collection as the strings the ledger stores (what the collect job checks per row).
pub fn raw(p: &Plain) -> RawTransaction<'_> {
    RawTransaction {
        end_to_end_id: &p.e2e,
        amount_cents: p.cents,
        mandate_id: &p.mandate,
        mandate_signed_on: date(SIGNED_ON),
        debtor_name: &p.name,
        debtor_iban: p.iban,
        debtor_bic: p.bic,
        debtor_address: p.address.then_some(RawAddress {
            street: Some(ADDRESS[0]),
            building_number: Some(ADDRESS[1]),
            postcode: Some(ADDRESS[2]),
            town: ADDRESS[3],
            country: ADDRESS[4],
            lines: &[],
        }),
        remittance: Some(&p.remittance),
        original_mandate_id: None,
        original_creditor_id: None,
        original_debtor_account: p.amendment.then_some("SMNDA"),
    }
}

/// The collection as the `sepa` crate's entry.
pub fn theirs(p: &Plain) -> sepa::DirectDebitEntry {
    let mut e = sepa::DirectDebitEntry::new(
        p.mandate.clone(),
        their_date(SIGNED_ON),
        p.name.clone(),
        sepa::validate_iban(p.iban).expect("fixture"),
        p.cents,
        p.e2e.clone(),
    )
    .with_description(p.remittance.clone());
    if let Some(b) = p.bic {
        e = e.with_bic(sepa::validate_bic(b).expect("fixture"));
    }
    if p.address {
        e = e.with_debtor_address(
            sepa::PostalAddress::new(ADDRESS[3], ADDRESS[4])
                .expect("fixture")
                .street(ADDRESS[0])
                .building_number(ADDRESS[1])
                .post_code(ADDRESS[2]),
        );
    }
    if p.amendment {
        e = e.with_amendment(sepa::MandateAmendment::debtor_account_changed());
    }
    e
}

/// (sequence type, transactions) per group: 10% first collections, the rest recurrent.
pub fn split(n: usize) -> [(SequenceType, usize); 2] {
    let first = (n / 10).max(1).min(n.saturating_sub(1)).max(1);
    [
        (SequenceType::Frst, first),
        (SequenceType::Rcur, n.saturating_sub(first)),
    ]
}

/// The creditor of every file.
pub fn creditor() -> Creditor {
    Creditor {
        name: Name::parse(CREDITOR_NAME).expect("fixture"),
        iban: Iban::parse(CREDITOR_IBAN).expect("fixture"),
        bic: Some(Bic::parse(CREDITOR_BIC).expect("fixture")),
        id: CreditorId::parse(CREDITOR_ID).expect("fixture"),
        address: None,
    }
}

/// How the collecte writer gets its transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Already checked [`Transaction`]s, built once (the writer alone).
    Checked,
    /// Stored strings, checked and transliterated per row with
    /// [`pain008::check_transaction`], as the collect job does (writer + checks).
    Raw,
}

/// Writes `n` transactions cycled from the pool with collecte's writer; returns the output
/// and the time taken (declaring counts and sums up front included).
pub fn run_ours<W: Write>(n: usize, plains: &[Plain], pool: &[Transaction], source: Source, out: W) -> (W, Duration) {
    let creditor = creditor();
    let collection_date = date(COLLECTION_DATE);
    let groups = split(n);
    // Declared first, as the collect job does: one counting pass.
    let sum_of = |from: usize, count: usize| -> i64 { (from..from + count).map(|i| plains[i % POOL].cents).sum() };
    let start = Instant::now();
    let header = GroupHeader {
        message_id: MessageId::parse("MSG-BENCH-1").expect("fixture"),
        created_at: DateTime::parse_from_rfc3339("2026-11-20T06:00:00+01:00").expect("fixture"),
        initiating_party: None,
        nb_of_txs: n as u64,
        ctrl_sum_cents: sum_of(0, n),
    };
    let mut w = Pain008Writer::start(out, Profile::default(), &creditor, &header).expect("start");
    let mut next = 0;
    for (g, (seq, count)) in groups.into_iter().enumerate() {
        if count == 0 {
            continue;
        }
        w.begin_group(&PaymentGroup {
            payment_info_id: PaymentInfoId::parse(&format!("PMT-{g}")).expect("fixture"),
            sequence_type: seq,
            collection_date,
            nb_of_txs: count as u64,
            ctrl_sum_cents: sum_of(next, count),
        })
        .expect("group");
        for i in next..next + count {
            match source {
                Source::Checked => w.transaction(&pool[i % POOL]).expect("transaction"),
                Source::Raw => {
                    let tx = pain008::check_transaction(&raw(&plains[i % POOL]), &creditor, collection_date)
                        .expect("fixture passes the checks");
                    w.transaction(&tx).expect("transaction");
                }
            }
        }
        w.end_group().expect("end group");
        next += count;
    }
    let out = w.finish().expect("finish");
    (out, start.elapsed())
}

/// The `sepa` crate on the same collections: builds its document in memory (`build`), then
/// serialises it into `out` (`write`).
pub struct TheirRun<W> {
    pub out: W,
    pub build: Duration,
    pub write: Duration,
}

/// Runs the `sepa` crate's `Pain008Builder` on `n` collections cycled from the pool.
pub fn run_theirs<W: Write>(n: usize, plains: &[Plain], mut out: W) -> TheirRun<W> {
    let build = Instant::now();
    let iban = sepa::validate_iban(CREDITOR_IBAN).expect("fixture");
    let ci = sepa::validate_creditor_id(CREDITOR_ID).expect("fixture");
    let pool: Vec<sepa::DirectDebitEntry> = plains.iter().map(theirs).collect();
    let mut builder = sepa::Pain008Builder::new(CREDITOR_NAME, "MSG-BENCH-1")
        .created_at("2026-11-20T06:00:00+01:00".parse().expect("fixture"));
    let mut next = 0;
    for (seq, count) in split(n) {
        if count == 0 {
            continue;
        }
        let seq = match seq {
            SequenceType::Frst => sepa::SequenceType::Frst,
            _ => sepa::SequenceType::Rcur,
        };
        let group = sepa::DirectDebitGroup::new(CREDITOR_NAME, &iban, &ci, their_date(COLLECTION_DATE))
            .sequence_type(seq)
            .creditor_bic(sepa::validate_bic(CREDITOR_BIC).expect("fixture"))
            .batch_booking(true)
            .add_entries((next..next + count).map(|i| pool[i % POOL].clone()));
        builder = builder.add_group(group);
        next += count;
    }
    let build = build.elapsed();
    let start = Instant::now();
    builder.write_to(&mut out).expect("sepa write_to");
    TheirRun {
        out,
        build,
        write: start.elapsed(),
    }
}

/// One result line: time, tx/s, MB/s, output size.
pub fn report(who: &str, n: usize, bytes: u64, took: Duration) {
    let secs = took.as_secs_f64();
    println!(
        "{who:<28} {n:>9} tx  {:>7.3} s  {:>10.0} tx/s  {:>8.1} MB/s  {:>8.1} MB",
        secs,
        n as f64 / secs,
        bytes as f64 / 1e6 / secs,
        bytes as f64 / 1e6
    );
}
