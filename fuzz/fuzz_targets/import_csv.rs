//! `import::parse` for every kind of import file; the first byte picks the kind, the rest is
//! the file. Never a panic.
#![no_main]

use chrono::NaiveDate;
use collecte::import::{self, ImportKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, file)) = data.split_first() else {
        return;
    };
    let kind = ImportKind::ALL[usize::from(selector) % ImportKind::ALL.len()];
    let today = NaiveDate::from_ymd_opt(2026, 1, 15).expect("valid date");
    let _ = std::hint::black_box(import::parse(kind, file, today));
});
