//! `pain008::inspect`: the pain.008 summary reader. Never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = std::hint::black_box(collecte::sepa::pain008::inspect(data));
});
