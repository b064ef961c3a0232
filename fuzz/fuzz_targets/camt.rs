//! `reports::open` then every record drained, seeded with camt.052/053/054 files. Whatever the bytes:
//! records or an error, never a panic, a hang or unbounded memory.
#![no_main]

use std::hint::black_box;

use collecte::sepa::reports::camt::CamtItem;
use collecte::sepa::reports::pain002::Pain002Item;
use collecte::sepa::reports::{self, Limits, Report, classify};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(report) = reports::open(data, Limits::default()) else {
        return;
    };
    black_box(report.message());
    match report {
        Report::Pain002(mut reader) => {
            while let Ok(Some(item)) = reader.next_item() {
                match &item {
                    Pain002Item::Group(g) => {
                        black_box(g.rejects_all());
                    }
                    Pain002Item::PaymentInfo(p) => {
                        black_box(p.rejects_all());
                    }
                    Pain002Item::Transaction(t) => {
                        black_box((t.r_kind(), t.reason_code()));
                    }
                }
                black_box(item);
            }
        }
        // Seeded with camt, but mutations reach pain.002 too.
        Report::Camt(mut reader) => {
            while let Ok(Some(item)) = reader.next_item() {
                match item {
                    CamtItem::Transaction { entry, transaction } => {
                        black_box(classify::classify(entry, Some(&transaction)));
                    }
                    CamtItem::EntryEnd { entry, transactions: 0 } => {
                        black_box(classify::classify(entry, None));
                    }
                    other => {
                        black_box(other);
                    }
                }
            }
        }
    }
});
