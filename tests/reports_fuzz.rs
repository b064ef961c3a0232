//! Random mutations of the public samples (bytes flipped, inserted, removed, markup spliced
//! in; also inside a zip archive) must give a report or an error, never a panic.

mod common;

use std::fs;
use std::io::{Cursor, Write};
use std::sync::OnceLock;

use collecte::sepa::reports::Limits;
use collecte::sepa::reports::inspect::inspect_bytes;
use proptest::prelude::*;

/// Every report sample, plus one zip archive holding two of them.
fn corpus() -> &'static [Vec<u8>] {
    static CORPUS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let mut files = Vec::new();
        for folder in ["pain.002", "camt.053", "camt.054"] {
            let dir = common::shared_samples().join("public").join(folder);
            let mut paths: Vec<_> = fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .map(|e| e.map(|e| e.path()).unwrap_or_default())
                .collect();
            paths.sort();
            for path in paths {
                files.push(fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())));
            }
        }
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (i, file) in files.iter().take(2).enumerate() {
            zip.start_file(format!("{i}.xml"), zip::write::SimpleFileOptions::default())
                .unwrap();
            zip.write_all(file).unwrap();
        }
        files.push(zip.finish().unwrap().into_inner());
        files
    })
}

/// Markup that is most likely to reach unusual parser paths.
const SPLICES: [&str; 10] = [
    "<",
    ">",
    "&",
    "&amp;",
    "&#x0;",
    "<!DOCTYPE x>",
    "<![CDATA[",
    "]]>",
    "</Ntry>",
    "<TxDtls>",
];

#[derive(Debug, Clone)]
enum Mutation {
    Overwrite(usize, u8),
    Insert(usize, u8),
    Remove(usize),
    Splice(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Mutation::Overwrite(at, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Mutation::Insert(at, b)),
        any::<usize>().prop_map(Mutation::Remove),
        (any::<usize>(), 0..SPLICES.len()).prop_map(|(at, s)| Mutation::Splice(at, s)),
    ]
}

fn apply(bytes: &mut Vec<u8>, mutation: &Mutation) {
    let len = bytes.len();
    match *mutation {
        Mutation::Overwrite(at, b) if len > 0 => bytes[at % len] = b,
        Mutation::Insert(at, b) => bytes.insert(at % (len + 1), b),
        Mutation::Remove(at) if len > 0 => {
            bytes.remove(at % len);
        }
        Mutation::Splice(at, s) => {
            let at = at % (len + 1);
            bytes.splice(at..at, SPLICES[s].bytes());
        }
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn mutated_samples_never_panic(
        index in any::<usize>(),
        mutations in prop::collection::vec(mutation(), 1..12),
    ) {
        let corpus = corpus();
        let mut bytes = corpus[index % corpus.len()].clone();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        let _ = inspect_bytes(&bytes, Limits::default());
    }
}

#[test]
fn every_truncation_of_every_sample_is_handled() {
    for file in corpus() {
        for cut in (0..file.len()).step_by(7) {
            let _ = inspect_bytes(&file[..cut], Limits::default());
        }
    }
}
