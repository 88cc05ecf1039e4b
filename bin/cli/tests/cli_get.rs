//! `callflow get`: the summary line, `--check`, the offline failure of the terraform path, and a
//! failed generation leaving the previous bindings untouched.

use std::path::Path;
use std::process::Command;

const BUILTIN: &str = "../../../shared/terraform-provider-schemas/builtin-terraform.json";

fn builtin_schema() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(BUILTIN)
}

fn config(dir: &Path, source: &str, resources: &str) -> std::path::PathBuf {
    let path = dir.join("callflow.toml");
    std::fs::write(
        &path,
        format!(
            "stack_name = \"x\"\n\n[[providers]]\nname = \"{}\"\nsource = \"{source}\"\nversion = \"~> 6.25\"\ncrate_dir = \"bindings\"\nresources = [{resources}]\ndata_sources = [\"*\"]\n",
            source.rsplit('/').next().unwrap_or(source)
        ),
    )
    .expect("write config");
    path
}

fn callflow(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_callflow"))
        .args(args)
        .output()
        .expect("callflow runs")
}

#[test]
fn get_writes_bindings_and_check_detects_drift() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(
        dir.path(),
        "terraform.io/builtin/terraform",
        "\"terraform_*\"",
    );
    let cfg = cfg.to_str().expect("utf-8");
    let schema = builtin_schema();
    let schema = schema.to_str().expect("utf-8");
    let out = callflow(&["get", "--config", cfg, "--schema", schema]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8_lossy(&out.stdout);
    assert!(
        line.starts_with(
            "generated 1 provider(s), 2 types (1 resources, 1 data sources), 2 modules, 4 structs, "
        ),
        "{line}"
    );
    assert!(line.trim_end().ends_with("ms: bindings"), "{line}");
    assert!(dir.path().join("bindings/src/lib.rs").exists());
    let trimmed = std::fs::read_to_string(dir.path().join("bindings/schema.json")).expect("schema");
    assert!(trimmed.contains("\"terraform_data\""));

    let check = callflow(&["get", "--config", cfg, "--schema", schema, "--check"]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    std::fs::write(dir.path().join("bindings/src/data.rs"), "// edited\n").expect("edit");
    let check = callflow(&["get", "--config", cfg, "--schema", schema, "--check"]);
    assert_eq!(check.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&check.stderr).contains("stale bindings"));
}

#[test]
fn an_unknown_type_fails_with_suggestions_and_leaves_the_bindings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let schema = builtin_schema();
    let schema = schema.to_str().expect("utf-8");
    let good = config(
        dir.path(),
        "terraform.io/builtin/terraform",
        "\"terraform_data\"",
    );
    let good = good.to_str().expect("utf-8");
    assert!(
        callflow(&["get", "--config", good, "--schema", schema])
            .status
            .success()
    );
    let before = std::fs::read_to_string(dir.path().join("bindings/src/data.rs")).expect("data.rs");

    let bad = config(
        dir.path(),
        "terraform.io/builtin/terraform",
        "\"terraform_dta\"",
    );
    let out = callflow(&[
        "get",
        "--config",
        bad.to_str().expect("utf-8"),
        "--schema",
        schema,
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("resource type `terraform_dta` is not in the schema of terraform.io/builtin/terraform; did you mean `terraform_data`?"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("bindings/src/data.rs")).expect("kept"),
        before
    );
}

#[test]
fn without_schema_and_without_network_one_paragraph_says_how_to_pass_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(dir.path(), "hashicorp/aws", "\"aws_s3_bucket\"");
    let out = callflow(&["get", "--config", cfg.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "one paragraph: {stderr}"
    );
    assert!(
        stderr.contains("could not obtain the schema of hashicorp/aws")
            || stderr.contains("could not run"),
        "{stderr}"
    );
    assert!(stderr.contains("callflow get --schema FILE"), "{stderr}");
    assert!(!dir.path().join("bindings").exists(), "nothing written");
}
