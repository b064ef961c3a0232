//! `reports::open` then every record drained, seeded with camt.052/053/054 files (the body is shared with
//! the other report target: `drain_report.rs`).
#![no_main]

#[path = "drain_report.rs"]
mod drain_report;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| drain_report::drain(data));
