//! Throughput of the streaming pain.008 writer, side by side with the `sepa` crate's
//! `Pain008Builder` on the same collections.
//!
//! ```text
//! cargo run --release --example pain008_throughput -- [N] [collecte|sepa|both] [FILE]
//! ```
//! N defaults to 1,000,000. Output goes to a byte-counting sink, or to FILE (collecte only).
//! Run one side alone under `/usr/bin/time -v` to see its peak RSS.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate};
use collecte::sepa::pain008::{
    Amendment, Creditor, GroupHeader, OriginalDebtorAccount, Pain008Writer, PaymentGroup, PostalAddress, Profile,
    SequenceType, ShortAddressText, TownName, Transaction,
};
use collecte::sepa::text::{AddressText, Name, Remittance};
use collecte::sepa::{Bic, CountryCode, CreditorId, EndToEndId, Iban, MandateId, MessageId, Money, PaymentInfoId};

/// Distinct collections cycled through (the writer does not care about repeats).
const POOL: usize = 1024;
const IBANS: [(&str, &str); 4] = [
    ("DE89370400440532013000", "COBADEFFXXX"),
    ("FR1420041010050500013M02606", "BNPAFRPPXXX"),
    ("NL91ABNA0417164300", "ABNANL2A"),
    ("BE68539007547034", "GEBABEBB"),
];

/// Counts bytes and throws them away.
struct Counter(u64);

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
struct Plain {
    e2e: String,
    cents: i64,
    mandate: String,
    name: String,
    iban: &'static str,
    bic: Option<&'static str>,
    address: bool,
    amendment: bool,
    remittance: String,
}

fn plain(i: usize) -> Plain {
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

fn ours(p: &Plain) -> Transaction {
    Transaction {
        end_to_end_id: EndToEndId::parse(&p.e2e).expect("fixture"),
        amount: Money::from_cents(p.cents).expect("fixture"),
        mandate_id: MandateId::parse(&p.mandate).expect("fixture"),
        mandate_signed_on: NaiveDate::from_ymd_opt(2024, 3, 1).expect("fixture"),
        amendment: p
            .amendment
            .then(|| Amendment::debtor_account_changed(OriginalDebtorAccount::Smnda)),
        debtor_name: Name::parse(&p.name).expect("fixture"),
        debtor_iban: Iban::parse(p.iban).expect("fixture"),
        debtor_bic: p.bic.map(|b| Bic::parse(b).expect("fixture")),
        debtor_address: p.address.then(|| {
            PostalAddress::new(
                TownName::parse("Lyon").expect("fixture"),
                CountryCode::parse("FR").expect("fixture"),
            )
            .with_street(AddressText::parse("Rue Victor Hugo").expect("fixture"))
            .with_building_number(ShortAddressText::parse("12").expect("fixture"))
            .with_postcode(ShortAddressText::parse("69002").expect("fixture"))
        }),
        remittance: Some(Remittance::parse(&p.remittance).expect("fixture")),
    }
}

fn theirs(p: &Plain) -> sepa::DirectDebitEntry {
    let mut e = sepa::DirectDebitEntry::new(
        p.mandate.clone(),
        sepa::IsoDate::new(2024, 3, 1).expect("fixture"),
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
            sepa::PostalAddress::new("Lyon", "FR")
                .expect("fixture")
                .street("Rue Victor Hugo")
                .building_number("12")
                .post_code("69002"),
        );
    }
    if p.amendment {
        e = e.with_amendment(sepa::MandateAmendment::debtor_account_changed());
    }
    e
}

/// (sequence type, transactions) per group: 10% first collections, the rest recurrent.
fn split(n: usize) -> [(SequenceType, usize); 2] {
    let first = (n / 10).max(1).min(n.saturating_sub(1)).max(1);
    [
        (SequenceType::Frst, first),
        (SequenceType::Rcur, n.saturating_sub(first)),
    ]
}

fn run_ours<W: Write>(n: usize, pool: &[Transaction], out: W) -> (W, Duration) {
    let creditor = Creditor {
        name: Name::parse("Abonnements Durand SAS").expect("fixture"),
        iban: Iban::parse("FR1420041010050500013M02606").expect("fixture"),
        bic: Some(Bic::parse("BNPAFRPPXXX").expect("fixture")),
        id: CreditorId::parse("FR72ZZZ123456").expect("fixture"),
        address: None,
    };
    let groups = split(n);
    // Declared first, as the collect job does: one counting pass.
    let sum_of =
        |from: usize, count: usize| -> i64 { (from..from + count).map(|i| pool[i % POOL].amount.cents()).sum() };
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
            collection_date: NaiveDate::from_ymd_opt(2026, 11, 23).expect("fixture"),
            nb_of_txs: count as u64,
            ctrl_sum_cents: sum_of(next, count),
        })
        .expect("group");
        for i in next..next + count {
            w.transaction(&pool[i % POOL]).expect("transaction");
        }
        w.end_group().expect("end group");
        next += count;
    }
    let out = w.finish().expect("finish");
    (out, start.elapsed())
}

fn run_theirs(n: usize, plains: &[Plain]) -> (u64, Duration, Duration) {
    let setup = Instant::now();
    let iban = sepa::validate_iban("FR1420041010050500013M02606").expect("fixture");
    let ci = sepa::validate_creditor_id("FR72ZZZ123456").expect("fixture");
    let pool: Vec<sepa::DirectDebitEntry> = plains.iter().map(theirs).collect();
    let mut builder = sepa::Pain008Builder::new("Abonnements Durand SAS", "MSG-BENCH-1")
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
        let group = sepa::DirectDebitGroup::new(
            "Abonnements Durand SAS",
            &iban,
            &ci,
            sepa::IsoDate::new(2026, 11, 23).expect("fixture"),
        )
        .sequence_type(seq)
        .creditor_bic(sepa::validate_bic("BNPAFRPPXXX").expect("fixture"))
        .batch_booking(true)
        .add_entries((next..next + count).map(|i| pool[i % POOL].clone()));
        builder = builder.add_group(group);
        next += count;
    }
    let setup = setup.elapsed();
    let start = Instant::now();
    let mut out = Counter(0);
    builder.write_to(&mut out).expect("sepa write_to");
    (out.0, start.elapsed(), setup)
}

fn report(who: &str, n: usize, bytes: u64, took: Duration) {
    let secs = took.as_secs_f64();
    println!(
        "{who:<28} {n:>9} tx  {:>7.3} s  {:>10.0} tx/s  {:>8.1} MB/s  {:>8.1} MB",
        secs,
        n as f64 / secs,
        bytes as f64 / 1e6 / secs,
        bytes as f64 / 1e6
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .map(|s| s.replace('_', "").parse().expect("N must be a number"))
        .unwrap_or(1_000_000);
    let which = args.next().unwrap_or_else(|| "both".into());
    let file = args.next();
    let plains: Vec<Plain> = (0..POOL).map(plain).collect();

    let mut ratio = (None, None);
    if which == "both" || which == "collecte" {
        let pool: Vec<Transaction> = plains.iter().map(ours).collect();
        // Warm-up, then the measured run (best of five into the sink: the machine is shared).
        run_ours(n.min(10_000), &pool, Counter(0));
        let (bytes, took) = match &file {
            Some(path) => {
                let f = std::fs::File::create(path).expect("output file");
                let (f, took) = run_ours(n, &pool, f);
                drop(f);
                let bytes = std::fs::metadata(path).expect("output file").len();
                (bytes, took)
            }
            None => (0..5)
                .map(|_| {
                    let (c, took) = run_ours(n, &pool, Counter(0));
                    (c.0, took)
                })
                .min_by_key(|(_, took)| *took)
                .expect("five runs"),
        };
        report("collecte Pain008Writer", n, bytes, took);
        ratio.0 = Some(n as f64 / took.as_secs_f64());
    }
    if which == "both" || which == "sepa" {
        let (bytes, took, setup) = (0..3)
            .map(|_| run_theirs(n, &plains))
            .min_by_key(|(_, took, _)| *took)
            .expect("three runs");
        report("sepa 0.9 Pain008Builder", n, bytes, took);
        println!("  (sepa: building its {n} entries in memory took a further {setup:.2?})");
        ratio.1 = Some(n as f64 / took.as_secs_f64());
    }
    if let (Some(a), Some(b)) = ratio {
        println!("ratio collecte / sepa: {:.2}x", a / b);
    }
}
