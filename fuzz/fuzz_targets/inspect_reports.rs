//! `inspect_bytes`: a pain.002 / camt XML, or a zip of them, summarised. Never a panic.
#![no_main]

use collecte::sepa::reports::Limits;
use collecte::sepa::reports::inspect::inspect_bytes;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = std::hint::black_box(inspect_bytes(data, Limits::default()));
});
