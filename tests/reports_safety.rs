//! Hostile and broken input: DTDs, deep nesting, huge texts, odd encodings, truncation,
//! zip archives — plus the classification rules on small hand-written reports.

use std::io::{Cursor, Write};

use collecte::sepa::reports::camt::CamtItem;
use collecte::sepa::reports::inspect::{InspectReport, inspect_bytes};
use collecte::sepa::reports::{self, Limits, RKind, Report, ReportError};

const CAMT054: &str = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.02";

/// A camt.054 holding `entries`, with the given XML declaration.
fn camt054_with(declaration: &str, entries: &str) -> String {
    format!(
        "{declaration}<Document xmlns=\"{CAMT054}\"><BkToCstmrDbtCdtNtfctn>\
         <GrpHdr><MsgId>MSG-1</MsgId><CreDtTm>2026-01-02T10:00:00</CreDtTm></GrpHdr>\
         <Ntfctn><Id>N1</Id><Acct><Id><IBAN>FR7630006000011234567890189</IBAN></Id></Acct>\
         {entries}</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>"
    )
}

fn camt054(entries: &str) -> String {
    camt054_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", entries)
}

/// One entry: amount, CRDT/DBIT, extra entry fields (after BookgDt), sub-family, details.
fn entry(amount: &str, side: &str, family: &str, sub_family: &str, details: &str) -> String {
    format!(
        "<Ntry><Amt Ccy=\"EUR\">{amount}</Amt><CdtDbtInd>{side}</CdtDbtInd><Sts>BOOK</Sts>\
         <BookgDt><Dt>2026-01-05</Dt></BookgDt>\
         <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>{family}</Cd><SubFmlyCd>{sub_family}</SubFmlyCd>\
         </Fmly></Domn></BkTxCd><NtryDtls>{details}</NtryDtls></Ntry>"
    )
}

fn tx(e2e: &str, amount: Option<&str>, extra: &str) -> String {
    let amount = amount
        .map(|a| format!("<AmtDtls><TxAmt><Amt Ccy=\"EUR\">{a}</Amt></TxAmt></AmtDtls>"))
        .unwrap_or_default();
    format!("<TxDtls><Refs><EndToEndId>{e2e}</EndToEndId></Refs>{amount}{extra}</TxDtls>")
}

fn rtr(code: &str) -> String {
    format!("<RtrInf><Rsn><Cd>{code}</Cd></Rsn></RtrInf>")
}

fn inspect_one(xml: &[u8]) -> InspectReport {
    let mut reports = inspect_bytes(xml, Limits::default()).unwrap();
    assert_eq!(reports.len(), 1);
    reports.remove(0)
}

fn error_of(xml: &[u8]) -> ReportError {
    match inspect_bytes(xml, Limits::default()) {
        Err(e) => e,
        Ok(r) => panic!("expected an error, got {r:?}"),
    }
}

// --- safety ------------------------------------------------------------------------------

#[test]
fn a_billion_laughs_doctype_is_refused_before_any_expansion() {
    let xml = format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [<!ENTITY lol \"lol\">\
         <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\
         <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">]>\n{}",
        camt054("<Ntry><AddtlNtryInf>&lol2;</AddtlNtryInf></Ntry>")
    );
    let err = error_of(xml.as_bytes());
    assert!(matches!(err, ReportError::Doctype { offset: 22 }), "{err}");
    assert!(err.to_string().contains("DOCTYPE declaration at byte 22"));
}

#[test]
fn an_external_entity_doctype_is_refused_and_undeclared_entities_too() {
    let xxe = format!(
        "<!DOCTYPE d [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>{}",
        camt054("<Ntry><NtryRef>&xxe;</NtryRef></Ntry>")
    );
    assert!(matches!(error_of(xxe.as_bytes()), ReportError::Doctype { .. }));
    let inner = camt054("<Ntry><!DOCTYPE x><NtryRef>1</NtryRef></Ntry>");
    assert!(matches!(error_of(inner.as_bytes()), ReportError::Doctype { .. }));
    let undeclared = camt054("<Ntry><NtryRef>&xxe;</NtryRef></Ntry>");
    let err = error_of(undeclared.as_bytes());
    assert!(
        matches!(&err, ReportError::UnknownEntity { name, path, .. }
            if name == "xxe" && path.ends_with("Ntfctn/Ntry/NtryRef")),
        "{err}"
    );
}

#[test]
fn predefined_entities_and_character_references_are_read() {
    let xml = camt054(&entry(
        "1.00",
        "DBIT",
        "IDDT",
        "UPDD",
        &tx("A&amp;B&#233;&#x2F;&lt;", None, &rtr("AM04")),
    ));
    let report = inspect_one(xml.as_bytes());
    assert_eq!(report.r_transactions[0].end_to_end_id.as_deref(), Some("A&Bé/<"));
}

#[test]
fn nesting_deeper_than_the_limit_is_refused_with_where() {
    let deep = "<X>".repeat(100) + &"</X>".repeat(100);
    let xml = camt054(&format!("<Ntry>{deep}</Ntry>"));
    let err = error_of(xml.as_bytes());
    match &err {
        ReportError::TooDeep {
            limit: 64,
            path,
            offset,
        } => {
            assert!(path.starts_with("Document/BkToCstmrDbtCdtNtfctn/Ntfctn/Ntry/X/X"));
            assert!(*offset > 0);
        }
        other => panic!("unexpected {other}"),
    }
    assert!(err.to_string().contains("deeper than the limit of 64"));
}

#[test]
fn over_long_texts_and_nodes_are_refused_with_the_limit() {
    let long = "A".repeat(70 * 1024);
    let xml = camt054(&format!("<Ntry><AddtlNtryInf>{long}</AddtlNtryInf></Ntry>"));
    let err = error_of(xml.as_bytes());
    assert!(
        matches!(&err, ReportError::TextTooLong { limit: 65536, path, .. } if path.ends_with("AddtlNtryInf")),
        "{err}"
    );
    // A text without end is stopped by the node guard, not read into memory.
    let doc = camt054("<Ntry><AddtlNtryInf>");
    let open_end = doc.find("<AddtlNtryInf>").unwrap() + "<AddtlNtryInf>".len();
    let endless = doc[..open_end].to_owned() + &"B".repeat(1 << 20);
    let err = error_of(endless.as_bytes());
    assert!(matches!(err, ReportError::NodeTooLong { limit: 131_072, .. }), "{err}");
    // So is a tag that never closes.
    let endless_tag = camt054("").replace("<Ntfctn>", &format!("<Ntfctn a=\"{}\">", "x".repeat(1 << 20)));
    assert!(matches!(
        error_of(endless_tag.as_bytes()),
        ReportError::NodeTooLong { .. }
    ));
    // Many entity references add up to one text, which is limited too.
    let entities = camt054(&format!(
        "<Ntry><AddtlNtryInf>{}</AddtlNtryInf></Ntry>",
        "&amp;".repeat(70_000)
    ));
    assert!(matches!(error_of(entities.as_bytes()), ReportError::TextTooLong { .. }));
    // Smaller limits apply as given.
    let limits = Limits {
        max_text_bytes: 32,
        ..Limits::default()
    };
    let ok = camt054(&format!("<Ntry><NtryRef>{}</NtryRef></Ntry>", "9".repeat(32)));
    assert!(inspect_bytes(ok.as_bytes(), limits).is_ok());
    let too_long = camt054(&format!("<Ntry><NtryRef>{}</NtryRef></Ntry>", "9".repeat(33)));
    assert!(inspect_bytes(too_long.as_bytes(), limits).is_err());
}

#[test]
fn a_utf8_bom_is_skipped() {
    let mut xml = b"\xEF\xBB\xBF".to_vec();
    let details = tx(
        "E2E-1",
        Some("10.00"),
        "<RltdPties><Dbtr><Nm>Müller</Nm></Dbtr></RltdPties>",
    );
    xml.extend_from_slice(camt054(&entry("10.00", "CRDT", "IDDT", "ESDD", &details)).as_bytes());
    let report = inspect_one(&xml);
    assert_eq!(report.settlements.len(), 1);
    let Report::Camt(mut camt) = reports::open(&xml[..], Limits::default()).unwrap() else {
        panic!("not camt");
    };
    while let Some(item) = camt.next_item().unwrap() {
        if let CamtItem::Transaction { transaction, .. } = item {
            assert_eq!(transaction.debtor_name.as_deref(), Some("Müller"));
        }
    }
}

#[test]
fn a_declared_iso_8859_1_file_is_decoded() {
    let details = tx("E2E-\u{e9}", Some("10.00"), &rtr("AC04"));
    let xml = camt054_with(
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>",
        &entry("10.00", "DBIT", "IDDT", "UPDD", &details),
    );
    // Re-encode as Latin-1: é is the single byte 0xE9.
    let latin1: Vec<u8> = xml.chars().map(|c| u8::try_from(u32::from(c)).unwrap()).collect();
    assert!(latin1.contains(&0xE9));
    let report = inspect_one(&latin1);
    assert_eq!(report.r_transactions[0].end_to_end_id.as_deref(), Some("E2E-é"));
    // The same bytes declared as UTF-8 are invalid: an error, not mojibake.
    let mut raw = latin1;
    let at = raw.windows(10).position(|w| w == b"ISO-8859-1").unwrap();
    raw.splice(at..at + 10, b"UTF-8".iter().copied());
    assert!(matches!(error_of(&raw), ReportError::Encoding { .. }));
}

#[test]
fn a_bom_contradicting_the_declared_encoding_is_refused() {
    let mut xml = b"\xEF\xBB\xBF".to_vec();
    let details = tx("E2E-é", Some("1.00"), &rtr("AC04"));
    xml.extend_from_slice(
        camt054_with(
            "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>",
            &entry("1.00", "DBIT", "IDDT", "UPDD", &details),
        )
        .as_bytes(),
    );
    let err = error_of(&xml);
    assert!(
        matches!(&err, ReportError::Encoding { encoding, offset: 3, .. } if encoding == "ISO-8859-1"),
        "{err}"
    );
    assert!(err.to_string().contains("byte order mark"), "{err}");
}

#[test]
fn utf16_and_unknown_encodings_are_refused() {
    let utf16: Vec<u8> = b"\xFF\xFE"
        .iter()
        .copied()
        .chain(camt054("").encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let err = error_of(&utf16);
    assert!(
        matches!(&err, ReportError::Encoding { encoding, .. } if encoding == "UTF-16"),
        "{err}"
    );
    let declared = camt054_with("<?xml version=\"1.0\" encoding=\"UTF-16\"?>", "");
    assert!(matches!(error_of(declared.as_bytes()), ReportError::Encoding { .. }));
    let unknown = camt054_with("<?xml version=\"1.0\" encoding=\"X-KLINGON\"?>", "");
    assert!(matches!(error_of(unknown.as_bytes()), ReportError::Encoding { .. }));
}

#[test]
fn truncated_files_are_errors_never_panics() {
    let xml = camt054(&entry("10.00", "CRDT", "IDDT", "ESDD", &tx("E2E-1", Some("10.00"), "")));
    let complete = xml.rfind("</Document>").unwrap() + "</Document>".len();
    for cut in 0..complete {
        let result = inspect_bytes(&xml.as_bytes()[..cut], Limits::default());
        assert!(result.is_err(), "prefix of {cut} bytes was accepted");
    }
    let err = error_of(&xml.as_bytes()[..complete - 20]);
    assert!(err.to_string().contains("byte"), "{err}");
    assert!(matches!(error_of(b""), ReportError::Truncated { offset: 0, .. }));
}

#[test]
fn garbage_and_unknown_messages_say_what_they_are() {
    assert!(matches!(
        error_of(b"%PDF-1.4 ..."),
        ReportError::Syntax { .. } | ReportError::Truncated { .. }
    ));
    let no_ns = b"<Document><BkToCstmrStmt/></Document>";
    assert!(matches!(
        error_of(no_ns),
        ReportError::UnknownMessage { namespace: None, .. }
    ));
    let other = b"<Document xmlns=\"urn:example:invoice\"/>";
    let err = error_of(other);
    assert!(err.to_string().contains("urn:example:invoice"), "{err}");
    let cancel = b"<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.056.001.08\"/>";
    assert!(matches!(error_of(cancel), ReportError::NotAReport { .. }));
    let wrong = format!("<Document xmlns=\"{CAMT054}\"><CstmrPmtStsRpt/></Document>");
    let err = error_of(wrong.as_bytes());
    assert!(
        err.to_string()
            .contains("expected <BkToCstmrDbtCdtNtfctn> under <Document>"),
        "{err}"
    );
    let two_roots = camt054("") + "<Document/>";
    assert!(matches!(error_of(two_roots.as_bytes()), ReportError::Syntax { .. }));
    let mismatched = camt054("<Ntry></Ntryy>");
    assert!(matches!(error_of(mismatched.as_bytes()), ReportError::Syntax { .. }));
}

#[test]
fn prefixed_namespaces_and_camt052_are_read() {
    let xml = camt054(&entry(
        "5.00",
        "DBIT",
        "IDDT",
        "UPDD",
        &tx("E1", Some("5.00"), &rtr("MD07")),
    ))
    .replace("<Document xmlns=", "<ns2:Document xmlns:ns2=")
    .replace("</Document>", "</ns2:Document>");
    let report = inspect_one(xml.as_bytes());
    assert_eq!(report.r_transactions[0].reason.as_deref(), Some("MD07"));

    let camt052 = camt054(&entry(
        "5.00",
        "DBIT",
        "IDDT",
        "UPDD",
        &tx("E1", Some("5.00"), &rtr("AC04")),
    ))
    .replace("camt.054.001.02", "camt.052.001.08")
    .replace("BkToCstmrDbtCdtNtfctn", "BkToCstmrAcctRpt")
    .replace("Ntfctn>", "Rpt>");
    let report = inspect_one(camt052.as_bytes());
    assert_eq!(report.message, "camt.052.001.08");
    assert_eq!(report.r_transactions.len(), 1);
}

// --- what becomes what -------------------------------------------------------------------

#[test]
fn returns_refunds_and_reversals_are_told_apart() {
    let entries = [
        entry(
            "30.00",
            "DBIT",
            "IDDT",
            "UPDD",
            &(tx("RET", Some("10.00"), &rtr("AM04"))
                + &tx("REF6", Some("12.00"), &rtr("MD06"))
                + &tx("REF1", Some("8.00"), &rtr("MD01"))),
        ),
        entry("7.00", "DBIT", "IDDT", "PRDD", &tx("REV", Some("7.00"), &rtr("AM05"))),
        // An unpaid direct debit without RtrInf: a return with no reason code.
        entry("4.00", "DBIT", "IDDT", "UPDD", &tx("NORSN", Some("4.00"), "")),
    ]
    .concat();
    let report = inspect_one(camt054(&entries).as_bytes());
    type Row<'a> = (RKind, Option<&'a str>, Option<&'a str>, Option<&'a str>);
    let got: Vec<Row> = report
        .r_transactions
        .iter()
        .map(|r| {
            (
                r.kind,
                r.reason.as_deref(),
                r.end_to_end_id.as_deref(),
                r.amount.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (RKind::Return, Some("AM04"), Some("RET"), Some("10.00")),
            (RKind::Refund, Some("MD06"), Some("REF6"), Some("12.00")),
            (RKind::Refund, Some("MD01"), Some("REF1"), Some("8.00")),
            (RKind::Reversal, Some("AM05"), Some("REV"), Some("7.00")),
            (RKind::Return, None, Some("NORSN"), Some("4.00")),
        ]
    );
    assert_eq!(report.unmatched_entries, 0);
    assert!(
        report
            .r_transactions
            .iter()
            .all(|r| r.booking_date.map(|d| d.to_string()) == Some("2026-01-05".into()))
    );
}

#[test]
fn batch_settlements_are_per_transaction_or_per_batch() {
    let per_tx = entry(
        "30.00",
        "CRDT",
        "IDDT",
        "ESDD",
        &("<Btch><PmtInfId>PMT-1</PmtInfId><NbOfTxs>2</NbOfTxs></Btch>".to_owned()
            + &tx("S1", Some("10.00"), "")
            + &tx("S2", Some("20.00"), "")),
    );
    let per_batch = entry(
        "99.00",
        "CRDT",
        "IDDT",
        "BBDD",
        "<Btch><PmtInfId>PMT-2</PmtInfId><NbOfTxs>3</NbOfTxs></Btch>",
    );
    // Pending, reversed or non-direct-debit credits are not settlements.
    let pending = entry("1.00", "CRDT", "IDDT", "ESDD", &tx("P1", Some("1.00"), ""))
        .replace("<Sts>BOOK</Sts>", "<Sts>PDNG</Sts>");
    let transfer = entry("2.00", "CRDT", "RCDT", "ESCT", &tx("T1", Some("2.00"), ""));
    let not_provided = entry("3.00", "CRDT", "IDDT", "ESDD", &tx("NOTPROVIDED", Some("3.00"), ""));
    let xml = camt054(&[per_tx, per_batch, pending, transfer, not_provided].concat());
    let report = inspect_one(xml.as_bytes());
    let got: Vec<(Option<&str>, Option<&str>, Option<&str>)> = report
        .settlements
        .iter()
        .map(|s| {
            (
                s.end_to_end_id.as_deref(),
                s.payment_information_id.as_deref(),
                s.amount.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (Some("S1"), Some("PMT-1"), Some("10.00")),
            (Some("S2"), Some("PMT-1"), Some("20.00")),
            (None, Some("PMT-2"), Some("99.00")),
        ]
    );
    assert_eq!(report.unmatched_entries, 3);
}

#[test]
fn a_lone_transaction_without_amount_takes_the_entry_amount_but_a_batch_does_not() {
    let single = entry("12.34", "DBIT", "IDDT", "UPDD", &tx("ONE", None, &rtr("AC04")));
    let batch = entry(
        "50.00",
        "DBIT",
        "IDDT",
        "UPDD",
        &(tx("B1", None, &rtr("AC04")) + &tx("B2", Some("20.00"), &rtr("AC04"))),
    );
    let report = inspect_one(camt054(&(single + &batch)).as_bytes());
    let amounts: Vec<Option<&str>> = report.r_transactions.iter().map(|r| r.amount.as_deref()).collect();
    assert_eq!(amounts, [Some("12.34"), None, Some("20.00")]);
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    assert!(report.warnings[0].contains("no amount for this transaction"));
}

#[test]
fn harmless_schema_breaks_are_read_with_warnings() {
    let ustrd = "X".repeat(204);
    let details = tx(
        "E1",
        Some("1,50"),
        &format!("<RmtInf><Ustrd>{ustrd}</Ustrd></RmtInf>{}", rtr("AM04")),
    );
    let xml = camt054(&entry("1.50", "DBIT", "IDDT", "UPDD", &details).replace("2026-01-05", "05/01/2026"));
    let report = inspect_one(xml.as_bytes());
    assert_eq!(report.r_transactions.len(), 1);
    // The unreadable transaction amount falls back to the entry's (it holds only this one).
    let r = &report.r_transactions[0];
    assert_eq!((r.amount.as_deref(), r.booking_date), (Some("1.50"), None));
    let warnings = report.warnings.join("\n");
    assert!(warnings.contains("Ustrd of 204 characters"), "{warnings}");
    assert!(warnings.contains("\"1,50\" is not a decimal amount"), "{warnings}");
    assert!(warnings.contains("\"05/01/2026\" is not an ISO date"), "{warnings}");
    assert!(warnings.contains("NtryDtls/TxDtls/AmtDtls/TxAmt/Amt"), "{warnings}");
}

// --- zip ---------------------------------------------------------------------------------

fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in members {
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        writer.start_file(*name, options).unwrap();
        writer.write_all(bytes).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

#[test]
fn a_zip_of_several_reports_gives_one_object_each() {
    let one = camt054(&entry(
        "1.00",
        "DBIT",
        "IDDT",
        "UPDD",
        &tx("Z1", Some("1.00"), &rtr("AC04")),
    ));
    let two = camt054(&entry("2.00", "CRDT", "IDDT", "ESDD", &tx("Z2", Some("2.00"), "")));
    let archive = zip_of(&[("a.xml", one.as_bytes()), ("b.xml", two.as_bytes())]);
    let reports = inspect_bytes(&archive, Limits::default()).unwrap();
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0].r_transactions[0].end_to_end_id.as_deref(), Some("Z1"));
    assert_eq!(reports[1].settlements[0].end_to_end_id.as_deref(), Some("Z2"));

    let bad = zip_of(&[("a.xml", one.as_bytes()), ("evil.xml", b"<!DOCTYPE x><x/>")]);
    let err = inspect_bytes(&bad, Limits::default()).unwrap_err();
    assert!(
        matches!(&err, ReportError::Member { member, source } if member == "evil.xml" && matches!(**source, ReportError::Doctype { .. })),
        "{err}"
    );

    let limits = Limits {
        max_archive_members: 1,
        ..Limits::default()
    };
    assert!(matches!(
        inspect_bytes(&archive, limits),
        Err(ReportError::Archive { .. })
    ));
    let limits = Limits {
        max_member_bytes: 100,
        ..Limits::default()
    };
    let err = inspect_bytes(&archive, limits).unwrap_err();
    assert!(err.to_string().contains("more than 100 bytes"), "{err}");
    assert!(matches!(
        inspect_bytes(b"PK\x03\x04broken", Limits::default()),
        Err(ReportError::Archive { .. })
    ));
}
