//! Plays the bank for one of our pain.008 files: writes the pain.002 and camt.054 a bank
//! would send back, with a reject (AM04), a refusal (MS02), a return (AC04), a refund (MD06)
//! and a batch settlement of the rest.
//!
//! `cargo run --example play_bank -- OUTBOX-FILE.xml OUT-DIR [02|10]`
//! (10: pain.002.001.10 + camt.054.001.08, the default; 02: pain.002.001.03 + camt.054.001.02).

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;

use anyhow::{Context, bail};
use chrono::{DateTime, Duration};
use collecte::sepa::MessageId;
use collecte::sepa::bank::{
    BankReply, Camt054Version, Decisions, OriginalMessage, Pain002Version, ReasonCode, RefundReason, ReportHeader,
};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [file, out, rest @ ..] = args.as_slice() else {
        bail!("usage: play_bank OUTBOX-FILE.xml OUT-DIR [02|10]");
    };
    let (pain002, camt054) = match rest.first().map(String::as_str) {
        Some("02") => (Pain002Version::V03, Camt054Version::V02),
        _ => (Pain002Version::V10, Camt054Version::V08),
    };
    let original = OriginalMessage::from_pain008(BufReader::new(File::open(file).with_context(|| file.clone())?))?;
    let txs: Vec<_> = original
        .groups
        .iter()
        .flat_map(|g| g.transactions.iter().map(move |t| (g, t)))
        .collect();
    let mut decisions = Decisions::accept_all();
    for (i, (group, tx)) in txs.iter().enumerate().take(4) {
        let booked = group.collection_date + Duration::days(5);
        let id = tx.end_to_end_id.clone();
        decisions = match i {
            0 => decisions.reject(id, ReasonCode::AM04),
            1 => decisions.reject(id, ReasonCode::MS02),
            2 => decisions.return_after_settlement(id, ReasonCode::AC04, booked),
            _ => decisions.refund(id, RefundReason::Md06, booked + Duration::days(7)),
        };
    }
    let reply = BankReply::new(&original, &decisions)?;
    let header = |id: &str| -> anyhow::Result<ReportHeader> {
        Ok(ReportHeader {
            message_id: MessageId::parse(id)?,
            created_at: DateTime::parse_from_rfc3339("2026-12-22T18:00:00+01:00")?,
        })
    };
    let out = PathBuf::from(out);
    let mut bytes = Vec::new();
    reply.write_pain002(&mut bytes, pain002, &header("BANK-STATUS-0001")?)?;
    let path = out.join(format!("reply-{}.xml", pain002.message_name()));
    std::fs::write(&path, &bytes).with_context(|| path.display().to_string())?;
    bytes.clear();
    reply.write_camt054(&mut bytes, camt054, &header("BANK-NOTIF-0001")?, None)?;
    let path = out.join(format!("reply-{}.xml", camt054.message_name()));
    std::fs::write(&path, &bytes).with_context(|| path.display().to_string())?;
    Ok(())
}
