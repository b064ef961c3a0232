//! Plays the bank for one of our pain.008 files, with the decisions `collecte demo` makes
//! (`collecte::demo::bank`): a pain.002 with rejects and a refusal, a camt.054 with the batch
//! settlement, returns and refunds, in the versions a bank answers that pain.008 version with
//! (.001.08 → pain.002.001.10 + camt.054.001.08; .001.02 → pain.002.001.03 + camt.054.001.02).
//!
//! `cargo run --example play_bank -- OUTBOX-FILE.xml OUT-DIR`
//! writes OUT-DIR/reply-pain.002.001.xx.xml and OUT-DIR/reply-camt.054.001.xx.xml.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::{FixedOffset, NaiveDate};
use collecte::demo::bank::{Mix, answer, decide};
use collecte::demo::read_original;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [file, out] = args.as_slice() else {
        bail!("usage: play_bank OUTBOX-FILE.xml OUT-DIR");
    };
    let original = read_original(Path::new(file))?;
    let decisions = decide(&original, Mix::default(), 1);
    // Answered on the day the file was created, in Paris winter time.
    let sent_on: NaiveDate = original.created_at.date_naive();
    let offset = FixedOffset::east_opt(3600).context("UTC+1")?;
    let answer = answer(&original, &decisions, sent_on, offset)?;
    for reply in &answer.files {
        let path = PathBuf::from(out).join(format!("reply-{}.xml", reply.message));
        std::fs::write(&path, &reply.bytes).with_context(|| path.display().to_string())?;
    }
    Ok(())
}
