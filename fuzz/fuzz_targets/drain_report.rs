//! The body of the `pain002` and `camt` targets: `reports::open`, then every record drained
//! and classified. The two targets differ only in the corpus they are seeded with (mutations
//! reach the other format too). Whatever the bytes: records or an error, never a panic, a
//! hang or unbounded memory.

use std::hint::black_box;

use collecte::sepa::reports::camt::CamtItem;
use collecte::sepa::reports::pain002::Pain002Item;
use collecte::sepa::reports::{self, Limits, Report, classify};

pub fn drain(data: &[u8]) {
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
}
