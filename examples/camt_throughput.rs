//! Measures how fast the camt reader streams a file, next to a bare quick-xml event loop over
//! the same bytes (the ceiling any quick-xml based reader can reach) and next to the `sepa`
//! crate's `parse_camt054` (a whole-document tree parser).
//!
//! ```text
//! # the quick check: reader vs. bare loop in one process, from file and from memory
//! cargo run --release --example camt_throughput -- --generate 100 /tmp/camt054-100mb.xml
//! cargo run --release --example camt_throughput -- /tmp/camt054-100mb.xml
//!
//! # the BENCHMARKS.md table: writes a camt.054 of 1,000,000 entries (~1 GB) to /tmp, runs
//! # each parser 3 times in its own process under /usr/bin/time -v (peak RSS apart), prints
//! # MB/s (best of 3) and peak RSS, and deletes the file
//! cargo run --release --example camt_throughput -- --bench 1000000
//!
//! # the pieces the bench is made of
//! cargo run --release --example camt_throughput -- --generate-entries 1000000 /tmp/camt054-1m.xml
//! cargo run --release --example camt_throughput -- --run bare|collecte|sepa|sepa-default FILE
//! ```

use std::error::Error;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::process::Command;
use std::time::Instant;

use collecte::sepa::reports::camt::CamtItem;
use collecte::sepa::reports::{self, CamtClass, Limits, Report, classify::classify};
use quick_xml::Reader;
use quick_xml::events::Event;

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["--generate", megabytes, path] => generate(megabytes.parse()?, path),
        ["--generate-entries", entries, path] => {
            let size = generate_entries(entries.parse()?, path)?;
            println!("wrote {path}: {entries} entries, {:.1} MB", size as f64 / 1e6);
            Ok(())
        }
        ["--run", parser, path] => run_one(parser, path),
        ["--bench", entries] => bench(entries.parse()?, None),
        ["--bench", entries, "--sepa-entries", sepa_entries] => bench(entries.parse()?, Some(sepa_entries.parse()?)),
        [path] => measure(path),
        _ => Err(
            "usage: camt_throughput FILE | --generate MEGABYTES FILE | --generate-entries N FILE \
                  | --run bare|collecte|sepa|sepa-default FILE | --bench N [--sepa-entries M]"
                .into(),
        ),
    }
}

fn measure(path: &str) -> Result<(), Box<dyn Error>> {
    let size = fs::metadata(path)?.len();
    let mb = size as f64 / 1e6;
    println!(
        "{path}: {mb:.1} MB (best of 3 alternating runs each; load: {})",
        uptime()
    );
    let open =
        || -> Result<BufReader<File>, Box<dyn Error>> { Ok(BufReader::with_capacity(64 * 1024, File::open(path)?)) };

    // Streaming from the file, as ingest does: memory stays flat whatever the size.
    let (mut bare, mut ours) = (Best::default(), Best::default());
    let (mut events, mut counts) = (0, String::new());
    for _ in 0..3 {
        let clock = Clock::start();
        events = bare_loop(open()?)?;
        bare.add(clock);
        let clock = Clock::start();
        counts = read_report(open()?)?;
        ours.add(clock);
    }
    report("from file", mb, &bare, &ours, events, &counts);
    println!("peak RSS so far (file streamed, never loaded): {} MB", peak_rss_mb());

    // The same over the bytes in memory (`&[u8]` is the fastest input quick-xml has).
    let bytes = fs::read(path)?;
    let (mut bare, mut ours) = (Best::default(), Best::default());
    for _ in 0..3 {
        let clock = Clock::start();
        events = bare_loop(&bytes[..])?;
        bare.add(clock);
        let clock = Clock::start();
        counts = read_report(&bytes[..])?;
        ours.add(clock);
    }
    report("in memory", mb, &bare, &ours, events, &counts);
    Ok(())
}

/// Wall time and the time this thread actually ran on a CPU (from the scheduler, in ns): on
/// a loaded machine the second one is the steadier measure of the work done.
struct Clock {
    wall: Instant,
    cpu_ns: Option<u64>,
}

impl Clock {
    fn start() -> Self {
        Self {
            wall: Instant::now(),
            cpu_ns: thread_cpu_ns(),
        }
    }

    /// (wall seconds, CPU seconds) since the start.
    fn stop(&self) -> (f64, Option<f64>) {
        let wall = self.wall.elapsed().as_secs_f64();
        let cpu = thread_cpu_ns()
            .zip(self.cpu_ns)
            .map(|(end, start)| end.saturating_sub(start) as f64 / 1e9);
        (wall, cpu)
    }
}

/// On-CPU time of this thread in ns (`/proc/thread-self/schedstat`, Linux).
fn thread_cpu_ns() -> Option<u64> {
    fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The fastest of several runs, by wall time and by CPU time apart.
struct Best {
    wall: f64,
    cpu: Option<f64>,
}

impl Default for Best {
    fn default() -> Self {
        Self {
            wall: f64::MAX,
            cpu: None,
        }
    }
}

impl Best {
    fn add(&mut self, clock: Clock) {
        let (wall, cpu) = clock.stop();
        self.wall = self.wall.min(wall);
        self.cpu = match (self.cpu, cpu) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
}

fn report(input: &str, mb: f64, bare: &Best, ours: &Best, events: u64, counts: &str) {
    let cpu = |best: &Best| best.cpu.map_or("?".to_owned(), |c| format!("{:.1}", mb / c));
    println!(
        "{input}: bare quick-xml loop  {:6.1} MB/s wall, {} MB/s CPU ({events} events)",
        mb / bare.wall,
        cpu(bare)
    );
    let cpu_share = bare
        .cpu
        .zip(ours.cpu)
        .map_or("?".to_owned(), |(b, o)| format!("{:.0}", 100.0 * b / o));
    println!(
        "{input}: collecte camt reader {:6.1} MB/s wall, {} MB/s CPU ({counts}) = {:.0}% (wall), {cpu_share}% (CPU) of the bare loop",
        mb / ours.wall,
        cpu(ours),
        100.0 * bare.wall / ours.wall,
    );
}

/// One parser, once, over `path`; prints `seconds=<wall> cpu=<on-CPU seconds> <what it
/// found>` (read by `--bench`, which runs this in a child process to measure its peak RSS
/// apart).
fn run_one(parser: &str, path: &str) -> Result<(), Box<dyn Error>> {
    let open =
        || -> Result<BufReader<File>, Box<dyn Error>> { Ok(BufReader::with_capacity(64 * 1024, File::open(path)?)) };
    let clock = Clock::start();
    let found = match parser {
        "bare" => format!("{} events", bare_loop(open()?)?),
        "collecte" => read_report(open()?)?,
        "sepa" => sepa_parse(path, unlimited_sepa_limits())?,
        "sepa-default" => sepa_parse(path, sepa::ParseLimits::default())?,
        other => return Err(format!("unknown parser {other:?}").into()),
    };
    let (wall, cpu) = clock.stop();
    println!("seconds={wall:.6} cpu={:.6} {found}", cpu.unwrap_or(wall));
    Ok(())
}

/// The `sepa` crate's limits with every size budget lifted (depth and attribute counts kept):
/// its defaults refuse any input over 32 MiB or 250,000 elements, and the indentation of a
/// big notification alone passes the 1 MiB of text its `text_bytes` allows in one element.
fn unlimited_sepa_limits() -> sepa::ParseLimits {
    sepa::ParseLimits {
        input_bytes: usize::MAX,
        nodes: usize::MAX,
        text_bytes: usize::MAX,
        total_text_bytes: usize::MAX,
        total_attribute_bytes: usize::MAX,
        ..sepa::ParseLimits::default()
    }
}

/// `sepa::parse_camt054` as its API requires: the whole file as one `&str`, then the
/// document tree, then the records. Counts what the ingest job would look at.
fn sepa_parse(path: &str, limits: sepa::ParseLimits) -> Result<String, Box<dyn Error>> {
    let xml = fs::read_to_string(path)?;
    let doc = if limits == sepa::ParseLimits::default() {
        sepa::parse_camt054(&xml)?
    } else {
        sepa::parse_camt054_with_limits(&xml, limits)?
    };
    drop(xml);
    let (mut entries, mut details, mut returns) = (0usize, 0usize, 0usize);
    for notification in &doc.notifications {
        entries += notification.entries.len();
        details += notification.entries.iter().map(|e| e.details.len()).sum::<usize>();
        returns += notification.returns().count();
    }
    Ok(format!("{entries} entries, {details} transactions, {returns} returns"))
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

/// One measured run of a child process.
struct Run {
    seconds: f64,
    cpu: f64,
    rss_mb: f64,
    found: String,
}

/// Runs `--run parser path` in its own process under `/usr/bin/time -v` (for its peak RSS),
/// capped at `memory_cap` bytes of address space; `Err` carries why it failed.
fn run_child(parser: &str, path: &str, memory_cap: u64) -> Result<Run, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let output = Command::new("/usr/bin/time")
        .arg("-v")
        .arg("prlimit")
        .arg(format!("--as={memory_cap}"))
        .arg(exe)
        .args(["--run", parser, path])
        .output()
        .map_err(|e| format!("cannot start /usr/bin/time -v prlimit: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let rss_kb: Option<f64> = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes):"))
        .and_then(|v| v.trim().parse().ok());
    let line = stdout.lines().find_map(|l| l.strip_prefix("seconds="));
    let parsed = line.and_then(|line| {
        let (seconds, rest) = line.split_once(" cpu=")?;
        let (cpu, found) = rest.split_once(' ').unwrap_or((rest, ""));
        Some((seconds.parse().ok()?, cpu.parse().ok()?, found.to_owned()))
    });
    match (output.status.success(), parsed, rss_kb) {
        (true, Some((seconds, cpu, found)), Some(kb)) => Ok(Run {
            seconds,
            cpu,
            rss_mb: kb / 1024.0,
            found,
        }),
        _ => {
            let why = stderr
                .lines()
                .find(|l| l.contains("Error") || l.contains("memory allocation"))
                .unwrap_or("no output")
                .trim()
                .to_owned();
            let rss = rss_kb.map(|kb| format!(", peak RSS {:.0} MB when it stopped", kb / 1024.0));
            Err(format!("{}: {why}{}", output.status, rss.unwrap_or_default()))
        }
    }
}

/// The best of the runs of one parser: fastest wall time and fastest CPU time apart, and
/// the largest peak RSS.
#[derive(Default)]
struct Runs {
    best: Option<Run>,
    fastest_cpu: f64,
    rss_mb: f64,
    failed: Option<String>,
}

impl Runs {
    fn add(&mut self, run: Result<Run, String>) {
        match run {
            Ok(run) => {
                self.rss_mb = self.rss_mb.max(run.rss_mb);
                self.fastest_cpu = if self.best.is_some() {
                    self.fastest_cpu.min(run.cpu)
                } else {
                    run.cpu
                };
                if self.best.as_ref().is_none_or(|b| run.seconds < b.seconds) {
                    self.best = Some(run);
                }
            }
            Err(why) => self.failed = Some(why),
        }
    }
}

fn uptime() -> String {
    Command::new("uptime")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|e| format!("uptime: {e}"))
}

/// Address space allowed to each measured process: what the machine has free now less 4 GiB
/// (at most 20 GiB), so that the `sepa` tree parser, which holds the whole document and its
/// tree, stops with an allocation failure instead of pushing a shared machine into swap or
/// the OOM killer.
fn memory_cap() -> u64 {
    let available_kb: u64 = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(8 << 20);
    (available_kb * 1024).saturating_sub(4 << 30).clamp(1 << 30, 20 << 30)
}

/// Generates a camt.054 of `entries` entries in /tmp, measures the three parsers on it in
/// separate processes, prints a Markdown table and deletes the file. The `sepa` crate parses
/// a whole document in memory; when it fails on the big file (or `sepa_entries` is given) it
/// is also measured, with the two others, on a smaller file of `sepa_entries` entries (by
/// default a tenth).
fn bench(entries: u64, sepa_entries: Option<u64>) -> Result<(), Box<dyn Error>> {
    let path = format!("/tmp/camt054-{entries}-entries.xml");
    let result = bench_file(entries, &path, true);
    let _ = fs::remove_file(&path);
    let sepa_failed = result?;
    let fallback = sepa_entries.or(sepa_failed.then_some(entries / 10));
    if let Some(small) = fallback.filter(|&n| n > 0 && n != entries) {
        let path = format!("/tmp/camt054-{small}-entries.xml");
        let result = bench_file(small, &path, false);
        let _ = fs::remove_file(&path);
        result?;
    }
    Ok(())
}

/// Measures the three parsers over one generated file, 3 rounds of one run each in turn (so
/// that a change of load hits all of them alike); true when `sepa` could not parse it.
fn bench_file(entries: u64, path: &str, with_sepa_default: bool) -> Result<bool, Box<dyn Error>> {
    let started = Instant::now();
    let size = generate_entries(entries, path)?;
    let mb = size as f64 / 1e6;
    println!(
        "\n{path}: {entries} entries, {mb:.1} MB ({size} bytes), written in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let cap = memory_cap();
    println!(
        "memory cap per parser process: {:.1} GiB of address space",
        cap as f64 / f64::from(1 << 30)
    );
    println!("load before: {}", uptime());
    // Read once so that every parser finds the file in the page cache.
    bare_loop(BufReader::with_capacity(1 << 20, File::open(path)?))?;
    let parsers = ["bare", "collecte", "sepa"];
    let mut runs: [Runs; 3] = Default::default();
    for round in 1..=3 {
        for (parser, runs) in parsers.iter().zip(runs.iter_mut()) {
            // A parser that failed once (the `sepa` one out of memory) is not run again.
            if runs.failed.is_none() {
                runs.add(run_child(parser, path, cap));
            }
        }
        println!("round {round} done, load: {}", uptime());
    }
    let default = with_sepa_default.then(|| run_child("sepa-default", path, cap));
    println!();
    println!(
        "| parser | MB/s wall (best of 3) | MB/s on CPU (best of 3) | % of ceiling, wall / CPU | peak RSS | found |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | --- |");
    let ceiling = runs[0].best.as_ref().map(|r| (r.seconds, runs[0].fastest_cpu));
    let row = |name: &str, runs: &Runs| match (&runs.best, &runs.failed) {
        (Some(run), None) => {
            let share = ceiling.map_or("?".to_owned(), |(wall, cpu)| {
                format!(
                    "{:.0}% / {:.0}%",
                    100.0 * wall / run.seconds,
                    100.0 * cpu / runs.fastest_cpu
                )
            });
            println!(
                "| {name} | {:.1} | {:.1} | {share} | {:.0} MB | {} |",
                mb / run.seconds,
                mb / runs.fastest_cpu,
                runs.rss_mb,
                run.found
            );
        }
        (_, Some(why)) => println!("| {name} | — | — | — | — | failed: {why} |"),
        (None, None) => println!("| {name} | — | — | — | — | not run |"),
    };
    row("bare quick-xml 0.41 event loop (ceiling)", &runs[0]);
    row("collecte `CamtReader` + `classify`", &runs[1]);
    row("`sepa` 0.9 `parse_camt054_with_limits`, limits lifted", &runs[2]);
    if let Some(default) = default {
        let mut once = Runs::default();
        once.add(default);
        row("`sepa` 0.9 `parse_camt054` (default limits), 1 run", &once);
    }
    Ok(runs[2].failed.is_some())
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

/// Writes a camt.054.001.08 of exactly `entries` entries of about 1 KB each, indented as banks
/// write them: one settled direct debit per entry (credit, PMNT/IDDT/ESDD) with its full
/// transaction details, and every 20th entry a return (debit, PMNT/IDDT/UPDD, `RtrInf` with
/// AM04, MD06, AC04 or MS03 in turn). Returns the size written.
fn generate_entries(entries: u64, path: &str) -> Result<u64, Box<dyn Error>> {
    const REASONS: [&str; 4] = ["AM04", "MD06", "AC04", "MS03"];
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let mut head = String::new();
    head.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    head.push_str("<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.054.001.08\">\n");
    head.push_str("  <BkToCstmrDbtCdtNtfctn>\n");
    head.push_str(
        "    <GrpHdr>\n      <MsgId>SYNTH-1M</MsgId>\n      <CreDtTm>2026-11-24T06:00:00</CreDtTm>\n    </GrpHdr>\n",
    );
    head.push_str("    <Ntfctn>\n      <Id>N-1</Id>\n      <CreDtTm>2026-11-24T06:00:00</CreDtTm>\n");
    head.push_str("      <Acct>\n        <Id>\n          <IBAN>FR7630006000011234567890189</IBAN>\n        </Id>\n        <Ccy>EUR</Ccy>\n      </Acct>\n");
    out.write_all(head.as_bytes())?;
    let mut written = head.len() as u64;
    let mut entry = String::with_capacity(4096);
    for n in 1..=entries {
        entry.clear();
        let cents = 1000 + (n * 7919) % 99_000;
        let amount = format!("{}.{:02}", cents / 100, cents % 100);
        let day = 1 + n % 28;
        let returned = n.is_multiple_of(20);
        let (cdt_dbt, sub_family) = if returned { ("DBIT", "UPDD") } else { ("CRDT", "ESDD") };
        let run = n / 5000;
        entry.push_str(&format!(
            "      <Ntry>
        <NtryRef>{n}</NtryRef>
        <Amt Ccy=\"EUR\">{amount}</Amt>
        <CdtDbtInd>{cdt_dbt}</CdtDbtInd>
        <Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>2026-11-{day:02}</Dt></BookgDt>
        <ValDt><Dt>2026-11-{day:02}</Dt></ValDt>
        <AcctSvcrRef>20261124{n:012}</AcctSvcrRef>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>IDDT</Cd><SubFmlyCd>{sub_family}</SubFmlyCd></Fmly></Domn></BkTxCd>
        <NtryDtls>
          <TxDtls>
            <Refs>
              <MsgId>COLLECTE-RUN-{run}</MsgId>
              <PmtInfId>PMT-{run}-CORE</PmtInfId>
              <EndToEndId>E2E-{n:010}</EndToEndId>
              <MndtId>MANDATE-{:08}</MndtId>
            </Refs>
            <Amt Ccy=\"EUR\">{amount}</Amt>
            <CdtDbtInd>{cdt_dbt}</CdtDbtInd>
            <RltdPties>
              <Dbtr><Pty><Nm>Customer number {n}</Nm></Pty></Dbtr>
              <DbtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></DbtrAcct>
            </RltdPties>
            <RmtInf><Ustrd>Subscription November 2026 invoice {n}</Ustrd></RmtInf>
",
            n % 100_000
        ));
        if returned {
            let reason = REASONS[(n / 20 % 4) as usize];
            entry.push_str(&format!(
                "            <RtrInf><Rsn><Cd>{reason}</Cd></Rsn><AddtlInf>Returned direct debit</AddtlInf></RtrInf>\n"
            ));
        }
        entry.push_str(
            "          </TxDtls>
        </NtryDtls>
        <AddtlNtryInf>SEPA Core Direct Debit</AddtlNtryInf>
      </Ntry>
",
        );
        out.write_all(entry.as_bytes())?;
        written += entry.len() as u64;
    }
    let tail = "    </Ntfctn>\n  </BkToCstmrDbtCdtNtfctn>\n</Document>\n";
    out.write_all(tail.as_bytes())?;
    out.flush()?;
    Ok(written + tail.len() as u64)
}
