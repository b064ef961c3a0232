//! `collecte inspect` reads every public sample without a database or config, as JSON and as
//! a table, and refuses unsafe or unreadable files with one line.

mod common;

use std::process::Command;

fn inspect(args: &[&str]) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_collecte"))
        .arg("inspect")
        .args(args)
        .current_dir(dir.path())
        .env_remove("COLLECTE_CONFIG")
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    )
}

#[test]
fn every_public_sample_is_inspected_without_a_database() {
    let public = common::shared_samples().join("public");
    let mut seen = 0;
    for folder in ["pain.008", "pain.002", "camt.053", "camt.054"] {
        for entry in std::fs::read_dir(public.join(folder)).unwrap() {
            let path = entry.unwrap().path();
            let file = path.to_str().unwrap();
            let (code, stdout, stderr) = inspect(&[file, "--format", "json"]);
            assert_eq!(code, 0, "{file}: {stderr}");
            let json: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{file}: {e}"));
            let first = if json.is_array() { json[0].clone() } else { json };
            assert!(
                first["message"]
                    .as_str()
                    .unwrap()
                    .starts_with(folder.split('.').next().unwrap()),
                "{file}: {first}"
            );
            if folder == "pain.008" {
                assert!(
                    first["groups"].is_array() && first["consistent"].is_boolean(),
                    "{first}"
                );
            } else {
                for key in [
                    "message_id",
                    "group_status",
                    "r_transactions",
                    "settlements",
                    "unmatched_entries",
                    "warnings",
                ] {
                    assert!(first.get(key).is_some(), "{file}: no {key}");
                }
            }
            let (code, table, _) = inspect(&[file]);
            assert_eq!(code, 0);
            assert!(!table.trim().is_empty());
            seen += 1;
        }
    }
    assert!(seen >= 30, "only {seen} samples");
}

#[test]
fn unsafe_and_missing_files_are_refused_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = dir.path().join("bomb.xml");
    std::fs::write(
        &bomb,
        r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02">&lol2;</Document>"#,
    )
    .unwrap();
    for file in [bomb.to_str().unwrap(), "/nonexistent/file.xml"] {
        let (code, stdout, stderr) = inspect(&[file]);
        assert_eq!(code, 3, "{file}: {stderr}");
        assert!(stdout.is_empty());
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(file), "{stderr}");
    }
}

#[test]
fn the_project_samples_are_valid_and_consistent() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sepa-samples");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "xml") {
            continue;
        }
        let xml = std::fs::read(&path).unwrap();
        let name = path.file_stem().unwrap().to_str().unwrap();
        if let Some(message) = name.strip_prefix("reply-") {
            // The bank's answers: valid against their own XSD, and read back by inspect.
            common::assert_valid_xml(&xml, message);
            let (code, stdout, _) = inspect(&[path.to_str().unwrap(), "--format", "json"]);
            assert_eq!(code, 0);
            let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
            assert_eq!(report["message"], message);
            assert_eq!(report["r_transactions"].as_array().unwrap().len(), 2, "{report}");
            continue;
        }
        let version = if String::from_utf8_lossy(&xml).contains("pain.008.001.02") {
            collecte::sepa::pain008::Pain008Version::V02
        } else {
            collecte::sepa::pain008::Pain008Version::V08
        };
        common::assert_valid_pain008(&xml, version);
        let (code, stdout, _) = inspect(&[path.to_str().unwrap(), "--format", "json"]);
        assert_eq!(code, 0);
        let summary: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(summary["consistent"], true, "{}", path.display());
        seen += 1;
    }
    assert!(seen >= 3, "sepa-samples/ holds {seen} pain.008 files");
}

/// `inspect --format json` reports each group's id, sequence type, date, counts and totals as
/// the file states them (cross-checked here by reading the XML crudely), and a file whose
/// amounts were changed after it was written is told inconsistent, group and header.
#[test]
fn inspect_reports_groups_and_catches_a_changed_amount() {
    let sample =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sepa-samples/collect-pain.008.001.08-default.xml");
    let xml = std::fs::read_to_string(&sample).unwrap();
    let element = |text: &str, name: &str| -> String {
        let open = format!("<{name}>");
        let at = text.find(&open).unwrap_or_else(|| panic!("no {name}")) + open.len();
        text[at..].split('<').next().unwrap().to_owned()
    };
    let (code, stdout, _) = inspect(&[sample.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 0);
    let summary: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(summary["message"], "pain.008.001.08");
    assert_eq!(summary["message_id"], element(&xml, "MsgId"));
    assert_eq!(summary["declared_nb_of_txs"].to_string(), element(&xml, "NbOfTxs"));
    assert_eq!(summary["declared_ctrl_sum"], element(&xml, "CtrlSum"));
    let groups: Vec<&str> = xml.split("<PmtInf>").skip(1).collect();
    assert_eq!(summary["groups"].as_array().unwrap().len(), groups.len());
    for (group, found) in groups.iter().zip(summary["groups"].as_array().unwrap()) {
        let amounts: Vec<i64> = group
            .split("<InstdAmt Ccy=\"EUR\">")
            .skip(1)
            .map(|a| a.split('<').next().unwrap().replace('.', "").parse().unwrap())
            .collect();
        assert_eq!(found["payment_info_id"], element(group, "PmtInfId"));
        assert_eq!(found["sequence_type"], element(group, "SeqTp"));
        assert_eq!(found["requested_collection_date"], element(group, "ReqdColltnDt"));
        assert_eq!(found["counted_nb_of_txs"], amounts.len());
        let sum: i64 = amounts.iter().sum();
        assert_eq!(found["counted_ctrl_sum"], format!("{}.{:02}", sum / 100, sum % 100));
        assert_eq!(found["declared_ctrl_sum"], element(group, "CtrlSum"));
        assert_eq!(found["consistent"], true);
    }

    let dir = tempfile::tempdir().unwrap();
    let changed = dir.path().join("changed.xml");
    let first = element(groups[0], "InstdAmt Ccy=\"EUR\"");
    let tampered = xml.replacen(
        &format!("<InstdAmt Ccy=\"EUR\">{first}</InstdAmt>"),
        "<InstdAmt Ccy=\"EUR\">9999.99</InstdAmt>",
        1,
    );
    std::fs::write(&changed, tampered).unwrap();
    let (code, stdout, _) = inspect(&[changed.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 0, "inspect reports, it does not refuse");
    let summary: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(summary["consistent"], false);
    assert_eq!(summary["groups"][0]["consistent"], false);
    assert_eq!(summary["groups"][1]["consistent"], true);
    assert_ne!(summary["counted_ctrl_sum"], summary["declared_ctrl_sum"]);
}
