//! The writer's memory does not grow with the number of transactions: measured with a
//! counting global allocator that counts the measuring thread's allocations only (the test
//! harness's own thread allocates while the test starts, which once made this test fail).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use chrono::{DateTime, NaiveDate};
use collecte::sepa::pain008::{
    Amendment, Creditor, GroupHeader, OriginalDebtorAccount, Pain008Writer, PaymentGroup, PostalAddress, Profile,
    SequenceType, TownName, Transaction,
};
use collecte::sepa::text::{Name, Remittance};
use collecte::sepa::{Bic, CountryCode, CreditorId, EndToEndId, Iban, MandateId, MessageId, Money, PaymentInfoId};

struct Counting;

thread_local! {
    // `const` thread-locals with `Cell`s need no allocation and no destructor, so the
    // allocator may touch them.
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn get(counter: &'static std::thread::LocalKey<Cell<usize>>) -> usize {
    counter.with(Cell::get)
}

fn set(counter: &'static std::thread::LocalKey<Cell<usize>>, value: usize) {
    counter.with(|c| c.set(value));
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = get(&LIVE).wrapping_add(layout.size());
        set(&LIVE, live);
        set(&PEAK, get(&PEAK).max(live));
        set(&ALLOCATIONS, get(&ALLOCATIONS) + 1);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // Wrapping: memory allocated by one thread may be freed by another.
        set(&LIVE, get(&LIVE).wrapping_sub(layout.size()));
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn tx() -> Transaction {
    Transaction {
        end_to_end_id: EndToEndId::parse("E2E-1").unwrap(),
        amount: Money::from_cents(1234).unwrap(),
        mandate_id: MandateId::parse("UMR-1").unwrap(),
        mandate_signed_on: NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
        amendment: Some(Amendment::debtor_account_changed(OriginalDebtorAccount::Smnda)),
        debtor_name: Name::parse("Jeanne Martin").unwrap(),
        debtor_iban: Iban::parse("CH9300762011623852957").unwrap(),
        debtor_bic: Some(Bic::parse("UBSWCHZH80A").unwrap()),
        debtor_address: Some(PostalAddress::new(
            TownName::parse("Geneve").unwrap(),
            CountryCode::parse("CH").unwrap(),
        )),
        remittance: Some(Remittance::parse("Abonnement").unwrap()),
    }
}

/// Writes `n` transactions to a sink; returns (peak live bytes above the start, allocations
/// made while writing the transactions).
fn write(n: u64) -> (usize, usize) {
    let creditor = Creditor {
        name: Name::parse("Abo SAS").unwrap(),
        iban: Iban::parse("FR1420041010050500013M02606").unwrap(),
        bic: None,
        id: CreditorId::parse("FR72ZZZ123456").unwrap(),
        address: None,
    };
    let tx = tx();
    let header = GroupHeader {
        message_id: MessageId::parse("M1").unwrap(),
        created_at: DateTime::parse_from_rfc3339("2026-11-20T06:00:00+01:00").unwrap(),
        initiating_party: None,
        nb_of_txs: n,
        ctrl_sum_cents: 1234 * n as i64,
    };
    let group = PaymentGroup {
        payment_info_id: PaymentInfoId::parse("P1").unwrap(),
        sequence_type: SequenceType::Rcur,
        collection_date: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
        nb_of_txs: n,
        ctrl_sum_cents: 1234 * n as i64,
    };
    let base = get(&LIVE);
    set(&PEAK, base);
    let mut w = Pain008Writer::start(std::io::sink(), Profile::default(), &creditor, &header).unwrap();
    w.begin_group(&group).unwrap();
    let before = get(&ALLOCATIONS);
    for _ in 0..n {
        w.transaction(&tx).unwrap();
    }
    let during = get(&ALLOCATIONS) - before;
    w.end_group().unwrap();
    w.finish().unwrap();
    (get(&PEAK).wrapping_sub(base), during)
}

#[test]
fn memory_is_flat_and_transactions_do_not_allocate() {
    let (small_peak, small_allocs) = write(1_000);
    let (big_peak, big_allocs) = write(200_000);
    assert_eq!(small_allocs, 0, "allocations while writing 1,000 transactions");
    assert_eq!(big_allocs, 0, "allocations while writing 200,000 transactions");
    assert_eq!(
        big_peak, small_peak,
        "peak heap for 200,000 transactions vs 1,000 (bytes)"
    );
    assert!(small_peak < 128 * 1024, "peak heap {small_peak} bytes");
}
