//! The real CLI format: `terraform providers schema -json`, run here on a configuration whose only
//! resource is Terraform's builtin `terraform_data` (no provider to download), generates exactly
//! what the committed copy of that output (`tests/fixtures/builtin-terraform.json`) generates.
//! Skipped with a message when terraform is absent outside CI; fails in CI.

use std::path::PathBuf;
use std::process::Command;

use callflow_codegen::{Options, Selection, generate};

fn terraform() -> Option<PathBuf> {
    let path = std::env::var_os("TERRAFORM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/local/bin/terraform"));
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "terraform is required in CI (set TERRAFORM)"
    );
    eprintln!("terraform not found at {}: skipped", path.display());
    None
}

#[test]
fn live_cli_schema_generates_what_the_committed_cli_output_generates() {
    let Some(terraform) = terraform() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("main.tf.json"),
        r#"{"resource": {"terraform_data": {"x": {}}}}"#,
    )
    .expect("write config");
    let rc = dir.path().join("terraformrc");
    std::fs::write(&rc, "").expect("write rc");
    let run = |args: &[&str]| {
        let out = Command::new(&terraform)
            .args(args)
            .current_dir(dir.path())
            .env("TF_CLI_CONFIG_FILE", &rc)
            .env("TF_IN_AUTOMATION", "1")
            .output()
            .expect("terraform runs");
        assert!(
            out.status.success(),
            "terraform {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    };
    run(&["init", "-input=false", "-no-color", "-backend=false"]);
    let live = run(&["providers", "schema", "-json"]);

    let committed_path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/builtin-terraform.json");
    let committed = std::fs::read_to_string(&committed_path).expect("builtin-terraform.json");
    let options = Options::new("terraform.io/builtin/terraform");
    let from_live =
        generate("live", &live, &Selection::all(), &options).unwrap_or_else(|e| panic!("{e}"));
    let from_committed = generate("committed", &committed, &Selection::all(), &options)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(from_live.files, from_committed.files);
    assert_eq!(from_live.stats.resources, 1);
    assert_eq!(from_live.stats.data_sources, 1);
}
