//! The `synth`, `diff` and `plan` commands as a user runs them: the real binary, real files,
//! the real terraform CLI.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn callflow(args: &[&str]) -> Output {
    let empty_tfrc = std::env::temp_dir().join("callflow-test-empty.tfrc");
    std::fs::write(&empty_tfrc, "").expect("tfrc");
    Command::new(env!("CARGO_BIN_EXE_callflow"))
        .args(args)
        .current_dir(repo_root())
        .env("TF_CLI_CONFIG_FILE", &empty_tfrc)
        .env_remove("NO_COLOR")
        .output()
        .expect("run callflow")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn synth_to(dir: &Path) -> Output {
    callflow(&["synth", "--out", &dir.to_string_lossy()])
}

#[test]
fn synth_writes_the_cdktf_layout_and_prints_one_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = synth_to(dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    // The count the line reports is the committed document's.
    let committed: serde_json::Value = serde_json::from_slice(
        &std::fs::read(repo_root().join("cdktf.out/stacks/callflow/cdk.tf.json"))
            .expect("committed synth"),
    )
    .expect("JSON");
    let resources: usize = committed["resource"]
        .as_object()
        .expect("resources")
        .values()
        .map(|of_type| of_type.as_object().map_or(0, serde_json::Map::len))
        .sum();
    assert!(
        stdout.starts_with(&format!(
            "synthesized 1 stack(s), {resources} resources to "
        )),
        "{stdout}"
    );
    assert!(stdout.trim_end().ends_with(" ms"), "{stdout}");
    for file in ["manifest.json", "stacks/callflow/cdk.tf.json"] {
        let written = std::fs::read(dir.path().join(file)).expect(file);
        let committed = std::fs::read(repo_root().join("cdktf.out").join(file)).expect(file);
        assert!(
            written == committed,
            "{file} differs from the committed synth"
        );
    }
}

#[test]
fn diff_exit_code_is_0_when_same_and_1_when_different() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert!(synth_to(dir.path()).status.success());
    let against = dir.path().to_string_lossy().into_owned();
    let same = callflow(&["diff", "--against", &against, "--exit-code"]);
    assert_eq!(same.status.code(), Some(0), "{}", text(&same.stderr));
    assert_eq!(text(&same.stdout), "No changes: the synth matches.\n");

    // Simulate an old synth: a changed memory size and a resource the new synth no longer has.
    let path = dir.path().join("stacks/callflow/cdk.tf.json");
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    doc["resource"]["aws_lambda_function"]["event_storer"]["memory_size"] = 1024.into();
    doc["resource"]["aws_s3_bucket"]["old"] = serde_json::json!({ "bucket": "legacy" });
    std::fs::write(&path, serde_json::to_string_pretty(&doc).expect("json")).expect("write");

    let differs = callflow(&[
        "diff",
        "--against",
        &against,
        "--exit-code",
        "--color",
        "never",
    ]);
    assert_eq!(differs.status.code(), Some(1), "{}", text(&differs.stderr));
    let stdout = text(&differs.stdout);
    assert!(
        stdout.starts_with("0 added, 1 changed, 1 removed\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("~ callflow/aws_lambda_function.event_storer (memory_size)\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("- callflow/aws_s3_bucket.old\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("-  \"memory_size\": 1024,\n+  \"memory_size\": 256,\n"),
        "{stdout}"
    );
    assert!(
        !stdout.contains('\u{1b}'),
        "no colour when not asked and not a terminal"
    );

    let json = callflow(&["diff", "--against", &against, "--format", "json"]);
    assert_eq!(
        json.status.code(),
        Some(0),
        "without --exit-code a difference is not an error"
    );
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON report");
    assert_eq!(report["changed"], true);
    let changes = report["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 2);
    assert!(
        changes
            .iter()
            .any(|c| c["address"] == "aws_lambda_function.event_storer"
                && c["change"] == "changed"
                && c["paths"] == serde_json::json!(["memory_size"]))
    );
}

#[test]
fn diff_against_a_missing_synth_shows_everything_added() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = callflow(&[
        "diff",
        "--against",
        &dir.path().to_string_lossy(),
        "--exit-code",
        "--color",
        "never",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("+ callflow/aws_s3_bucket.events"));
}

#[test]
fn invalid_config_is_a_clear_error_with_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("bad.toml");
    std::fs::write(&config, "environment = \"Prod!\"\nregion = \"us-east-1\"\n[jwt]\nissuer = \"i\"\naudience = \"a\"\njwks_url = \"https://x\"\n").expect("write");
    let out = callflow(&[
        "synth",
        "--config",
        &config.to_string_lossy(),
        "--out",
        &dir.path().join("o").to_string_lossy(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("environment `Prod!`: use 1-24 of [a-z0-9-]"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn plan_without_network_says_what_to_do() {
    let terraform = Path::new("/usr/local/bin/terraform");
    if !terraform.exists() && std::env::var_os("CI").is_none() {
        eprintln!("SKIPPED: no terraform at /usr/local/bin/terraform");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let out = callflow(&[
        "plan",
        "--out",
        &dir.path().to_string_lossy(),
        "--terraform",
        &terraform.to_string_lossy(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("terraform could not download the hashicorp/aws provider: no network access to the registry"), "{stderr}");
    assert!(stderr.contains("TF_PLUGIN_CACHE_DIR"), "{stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );
    // The synth it planned is the committed one.
    assert!(dir.path().join("stacks/callflow/cdk.tf.json").exists());
}

#[test]
fn plan_with_a_missing_terraform_binary_is_one_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = callflow(&[
        "plan",
        "--out",
        &dir.path().to_string_lossy(),
        "--terraform",
        "/nonexistent/terraform",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("/nonexistent/terraform"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
