//! Throughput of the streaming pain.008 writer, side by side with the `sepa` crate's
//! `Pain008Builder` on the same collections.
//!
//! ```text
//! cargo run --release --example pain008_throughput -- [N] [collecte|sepa|both] [FILE]
//! ```
//! N defaults to 1,000,000. Output goes to a byte-counting sink, or to FILE (collecte only).
//! Run one side alone under `/usr/bin/time -v` to see its peak RSS. The full benchmark (three
//! sizes, python `sepaxml`, the whole `collect` run, peak RSS of each) is
//! `cargo bench --bench bench_collect`.

#[path = "support/pain008_fixture.rs"]
mod fixture;

use collecte::sepa::pain008::Transaction;
use fixture::{Counter, POOL, Plain, Source, ours, plain, report, run_ours, run_theirs};

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
        run_ours(n.min(10_000), &plains, &pool, Source::Checked, Counter(0));
        let (bytes, took) = match &file {
            Some(path) => {
                let f = std::fs::File::create(path).expect("output file");
                let (f, took) = run_ours(n, &plains, &pool, Source::Checked, f);
                drop(f);
                let bytes = std::fs::metadata(path).expect("output file").len();
                (bytes, took)
            }
            None => (0..5)
                .map(|_| {
                    let (c, took) = run_ours(n, &plains, &pool, Source::Checked, Counter(0));
                    (c.0, took)
                })
                .min_by_key(|(_, took)| *took)
                .expect("five runs"),
        };
        report("collecte Pain008Writer", n, bytes, took);
        ratio.0 = Some(n as f64 / took.as_secs_f64());
    }
    if which == "both" || which == "sepa" {
        let best = (0..3)
            .map(|_| run_theirs(n, &plains, Counter(0)))
            .min_by_key(|r| r.write)
            .expect("three runs");
        report("sepa 0.9 Pain008Builder", n, best.out.0, best.write);
        println!(
            "  (sepa: building its {n} entries in memory took a further {:.2?})",
            best.build
        );
        ratio.1 = Some(n as f64 / best.write.as_secs_f64());
    }
    if let (Some(a), Some(b)) = ratio {
        println!("ratio collecte / sepa: {:.2}x", a / b);
    }
}
