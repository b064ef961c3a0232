//! Measures how fast the camt reader streams a file, next to a bare quick-xml event loop over
//! the same bytes (the ceiling any quick-xml based reader can reach).
//!
//! ```text
//! cargo run --release --example camt_throughput -- --generate 100 /tmp/camt054-100mb.xml
//! cargo run --release --example camt_throughput -- /tmp/camt054-100mb.xml
//! ```

use std::error::Error;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::time::Instant;

use collecte::sepa::reports::camt::CamtItem;
use collecte::sepa::reports::{self, CamtClass, Limits, Report, classify::classify};
use quick_xml::Reader;
use quick_xml::events::Event;

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag, megabytes, path] if flag == "--generate" => generate(megabytes.parse()?, path),
        [path] => measure(path),
        _ => Err("usage: camt_throughput FILE | camt_throughput --generate MEGABYTES FILE".into()),
    }
}

fn measure(path: &str) -> Result<(), Box<dyn Error>> {
    let size = fs::metadata(path)?.len();
    let mb = size as f64 / 1e6;
    println!("{path}: {mb:.1} MB (best of 3 alternating runs each)");
    let open =
        || -> Result<BufReader<File>, Box<dyn Error>> { Ok(BufReader::with_capacity(64 * 1024, File::open(path)?)) };

    // Streaming from the file, as ingest does: memory stays flat whatever the size.
    let (mut bare, mut ours) = (f64::MAX, f64::MAX);
    let (mut events, mut counts) = (0, String::new());
    for _ in 0..3 {
        let start = Instant::now();
        events = bare_loop(open()?)?;
        bare = bare.min(start.elapsed().as_secs_f64());
        let start = Instant::now();
        counts = read_report(open()?)?;
        ours = ours.min(start.elapsed().as_secs_f64());
    }
    report("from file", mb, bare, ours, events, &counts);
    println!("peak RSS so far (file streamed, never loaded): {} MB", peak_rss_mb());

    // The same over the bytes in memory (`&[u8]` is the fastest input quick-xml has).
    let bytes = fs::read(path)?;
    let (mut bare, mut ours) = (f64::MAX, f64::MAX);
    for _ in 0..3 {
        let start = Instant::now();
        events = bare_loop(&bytes[..])?;
        bare = bare.min(start.elapsed().as_secs_f64());
        let start = Instant::now();
        counts = read_report(&bytes[..])?;
        ours = ours.min(start.elapsed().as_secs_f64());
    }
    report("in memory", mb, bare, ours, events, &counts);
    Ok(())
}

fn report(input: &str, mb: f64, bare: f64, ours: f64, events: u64, counts: &str) {
    println!("{input}: bare quick-xml loop {:6.1} MB/s ({events} events)", mb / bare);
    println!(
        "{input}: collecte camt reader {:6.1} MB/s ({counts}) = {:.0}% of the bare loop",
        mb / ours,
        100.0 * bare / ours
    );
}

/// What the ingest job would do per record: classify it.
fn read_report<R: BufRead>(input: R) -> Result<String, Box<dyn Error>> {
    let Report::Camt(mut camt) = reports::open(input, Limits::default())? else {
        return Err("not a camt file".into());
    };
    let (mut transactions, mut entries, mut r, mut settled) = (0u64, 0u64, 0u64, 0u64);
    while let Some(item) = camt.next_item()? {
        match item {
            CamtItem::Transaction { entry, transaction } => {
                transactions += 1;
                match classify(entry, Some(&transaction)) {
                    CamtClass::RTransaction(_) => r += 1,
                    CamtClass::Settlement => settled += 1,
                    CamtClass::Other => {}
                }
            }
            CamtItem::EntryEnd { .. } => entries += 1,
            CamtItem::Header(_) | CamtItem::Account(_) => {}
        }
    }
    Ok(format!(
        "{entries} entries, {transactions} transactions, {r} R, {settled} settled"
    ))
}

/// The ceiling: every event read into a reused buffer, nothing done with it.
fn bare_loop<R: BufRead>(input: R) -> Result<u64, quick_xml::Error> {
    let mut reader = Reader::from_reader(input);
    let mut buf = Vec::with_capacity(4096);
    let mut events = 0u64;
    loop {
        buf.clear();
        match reader.read_event_into(&mut buf)? {
            Event::Eof => return Ok(events),
            _ => events += 1,
        }
    }
}

/// Peak resident memory of this process (Linux), in MB.
fn peak_rss_mb() -> String {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
            let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some((kb / 1024).to_string())
        })
        .unwrap_or_else(|| "?".into())
}

/// Writes a camt.054.001.08 of about `megabytes` MB: batch credits of 100 settled direct
/// debits, each followed by a single entry returning one of them (AM04 / MD06 alternately).
fn generate(megabytes: u64, path: &str) -> Result<(), Box<dyn Error>> {
    let mut out = BufWriter::new(File::create(path)?);
    writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
    writeln!(
        out,
        "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.054.001.08\"><BkToCstmrDbtCdtNtfctn>"
    )?;
    writeln!(
        out,
        "<GrpHdr><MsgId>SYNTH-1</MsgId><CreDtTm>2026-11-24T06:00:00</CreDtTm></GrpHdr>"
    )?;
    writeln!(
        out,
        "<Ntfctn><Id>N-1</Id><Acct><Id><IBAN>FR7630006000011234567890189</IBAN></Id></Acct>"
    )?;
    let target = megabytes * 1_000_000;
    let mut written = 0u64;
    let mut batch = 0u64;
    while written < target {
        batch += 1;
        let mut entry = String::with_capacity(80_000);
        entry.push_str(&format!(
            "<Ntry><NtryRef>B{batch}</NtryRef><Amt Ccy=\"EUR\">{batch}00.00</Amt>\
             <CdtDbtInd>CRDT</CdtDbtInd><RvslInd>false</RvslInd><Sts><Cd>BOOK</Cd></Sts>\
             <BookgDt><Dt>2026-11-24</Dt></BookgDt><ValDt><Dt>2026-11-24</Dt></ValDt>\
             <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>IDDT</Cd><SubFmlyCd>ESDD</SubFmlyCd></Fmly>\
             </Domn></BkTxCd><NtryDtls><Btch><PmtInfId>PMT-{batch}</PmtInfId>\
             <NbOfTxs>100</NbOfTxs></Btch>\n"
        ));
        for tx in 0..100 {
            entry.push_str(&format!(
                "<TxDtls><Refs><PmtInfId>PMT-{batch}</PmtInfId><EndToEndId>E2E-{batch}-{tx}</EndToEndId>\
                 <MndtId>MANDATE-{tx}</MndtId></Refs><Amt Ccy=\"EUR\">{tx}.{:02}</Amt>\
                 <CdtDbtInd>CRDT</CdtDbtInd><RltdPties><Dbtr><Pty><Nm>Customer number {tx}</Nm>\
                 </Pty></Dbtr><DbtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></DbtrAcct>\
                 </RltdPties><RmtInf><Ustrd>Subscription November 2026 invoice {batch}/{tx}</Ustrd>\
                 </RmtInf></TxDtls>\n",
                tx % 100
            ));
        }
        entry.push_str("</NtryDtls></Ntry>\n");
        let reason = if batch.is_multiple_of(2) { "AM04" } else { "MD06" };
        entry.push_str(&format!(
            "<Ntry><Amt Ccy=\"EUR\">12.34</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>\
             <BookgDt><Dt>2026-11-25</Dt></BookgDt><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>IDDT</Cd>\
             <SubFmlyCd>UPDD</SubFmlyCd></Fmly></Domn></BkTxCd><NtryDtls><TxDtls><Refs>\
             <EndToEndId>E2E-{batch}-7</EndToEndId></Refs><Amt Ccy=\"EUR\">12.34</Amt>\
             <RtrInf><Rsn><Cd>{reason}</Cd></Rsn></RtrInf></TxDtls></NtryDtls></Ntry>\n"
        ));
        out.write_all(entry.as_bytes())?;
        written += entry.len() as u64;
    }
    writeln!(out, "</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>")?;
    out.flush()?;
    println!("wrote {path}: {batch} batches, about {} MB", written / 1_000_000);
    Ok(())
}
