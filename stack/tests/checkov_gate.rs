//! Gate on checkov: every failed check on the synthesized stack must be suppressed in the stack's
//! Rust code (`Stack::suppress_check`, rendered as `checkov:skip=<ID>:<reason>` comments on the
//! resource); any other finding fails this test.
//!
//! checkov is found through `CALLFLOW_CHECKOV` (path of the executable) or PATH. Outside CI a
//! missing checkov skips the test with a message; in CI (`CI` set) it fails.

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;
use support::*;

fn checkov() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CALLFLOW_CHECKOV") {
        return Some(PathBuf::from(p));
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("checkov"))
            .find(|p| p.is_file())
    })
}

/// Maps each resource's first line in the pretty-printed document to its address.
fn resource_lines(text: &str) -> BTreeMap<usize, String> {
    let mut out = BTreeMap::new();
    let mut in_resources = false;
    let mut kind = String::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with("  \"") {
            in_resources = line.starts_with("  \"resource\"");
            continue;
        }
        if !in_resources {
            continue;
        }
        let key = || {
            line.trim()
                .trim_end_matches(": {")
                .trim_matches('"')
                .to_string()
        };
        if line.starts_with("    \"") && line.ends_with('{') {
            kind = key();
        } else if line.starts_with("      \"") && line.ends_with('{') {
            out.insert(i + 1, format!("{kind}.{}", key()));
        }
    }
    out
}

#[test]
fn checkov_finds_nothing_that_is_not_suppressed_in_code() {
    let Some(checkov) = checkov() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "checkov is required in CI: set CALLFLOW_CHECKOV"
        );
        eprintln!("SKIPPED: checkov not found (set CALLFLOW_CHECKOV or put it on PATH)");
        return;
    };
    let synthesized = synth(&committed_config());
    let dir = tempfile::tempdir().expect("tempdir");
    synthesized.write_to(dir.path()).expect("write");
    let output = Command::new(&checkov)
        .args([
            "-d",
            &dir.path().to_string_lossy(),
            "--framework",
            "terraform_json",
            "--skip-download",
            "--quiet",
            "--compact",
            "-o",
            "json",
        ])
        .output()
        .expect("run checkov");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "checkov output is not JSON ({e}): {stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let reports: Vec<Value> = match report {
        Value::Array(items) => items,
        other => vec![other],
    };
    assert!(
        reports.iter().all(|r| r["summary"]["parsing_errors"] == 0),
        "checkov could not parse the synth: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let passed: u64 = reports
        .iter()
        .filter_map(|r| r["summary"]["passed"].as_u64())
        .sum();
    assert!(
        passed > 50,
        "checkov ran suspiciously few checks ({passed})"
    );

    let doc = &synthesized.stacks()["callflow"];
    let text = callflow_stack::dsl::render(doc);
    let lines = resource_lines(&text);
    let mut unsuppressed = Vec::new();
    let mut used = 0;
    let mut used_suppressions = std::collections::BTreeSet::new();
    for failed in reports.iter().flat_map(|r| {
        r["results"]["failed_checks"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }) {
        let id = failed["check_id"].as_str().unwrap_or_default();
        let start = failed["file_line_range"][0].as_u64().unwrap_or(0) as usize;
        let Some(address) = lines.get(&start) else {
            unsuppressed.push(format!(
                "{id} at line {start} (not a resource): {}",
                failed["check_name"]
            ));
            continue;
        };
        let (kind, name) = address.split_once('.').unwrap_or_default();
        let comments = doc["resource"][kind][name]["//"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let prefix = format!("checkov:skip={id}:");
        match comments
            .iter()
            .filter_map(Value::as_str)
            .find(|c| c.starts_with(&prefix))
        {
            Some(c) if c.len() > prefix.len() + 10 => {
                used += 1;
                used_suppressions.insert(format!("{address} {id}"));
            }
            _ => unsuppressed.push(format!("{id} on {address}: {}", failed["check_name"])),
        }
    }
    assert!(
        unsuppressed.is_empty(),
        "unsuppressed checkov findings (fix them, or suppress in the stack code with a reason):\n{}",
        unsuppressed.join("\n")
    );
    // A suppression checkov no longer needs is stale: remove it from the stack code.
    let stale: Vec<String> = suppressions(doc)
        .into_iter()
        .map(|(address, id, _)| format!("{address} {id}"))
        .filter(|key| !used_suppressions.contains(key))
        .collect();
    assert!(
        stale.is_empty(),
        "suppressions checkov no longer needs: {stale:?}"
    );
    eprintln!("checkov: {passed} passed, {used} suppressed in code");
}

/// Every accepted finding in one place, with its reason: the snapshot is the reviewable list,
/// and adding or removing a suppression in the stack code changes it.
#[test]
fn suppressions_are_listed_in_one_place_with_reasons() {
    let synthesized = synth(&committed_config());
    let doc = &synthesized.stacks()["callflow"];
    let mut lines = Vec::new();
    for (address, id, reason) in suppressions(doc) {
        assert!(
            reason.len() > 20,
            "{address} {id}: a suppression needs a real reason"
        );
        lines.push(format!("{id} {address}: {reason}"));
    }
    lines.sort();
    insta::assert_snapshot!("checkov_suppressions", lines.join("\n"));
}

/// The suppressions recorded in a synthesized document: (address, check id, reason).
fn suppressions(doc: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (kind, by_name) in doc["resource"].as_object().into_iter().flatten() {
        for (name, body) in by_name.as_object().into_iter().flatten() {
            for comment in body["//"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                let rest = comment
                    .strip_prefix("checkov:skip=")
                    .expect("only checkov skips");
                let (id, reason) = rest.split_once(':').expect("id:reason");
                out.push((format!("{kind}.{name}"), id.to_string(), reason.to_string()));
            }
        }
    }
    out
}
