//! `callflow get`: the summary line, `--check`, the offline failure of the terraform path, and a
//! failed generation leaving the previous bindings untouched.

use std::path::Path;
use std::process::Command;

/// The real `terraform providers schema -json` output of the builtin provider, committed with
/// the codegen tests (see that folder's README for how it is regenerated).
const BUILTIN: &str = "../../stack/codegen/tests/fixtures/builtin-terraform.json";

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
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().next().unwrap_or_default();
    assert!(
        line.starts_with(
            "generated 1 provider(s), 2 types (1 resources, 1 data sources), 2 modules, 5 structs, "
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
    // It says how to make FILE, with what the user has: terraform and the provider's source.
    assert!(
        stderr.contains("terraform providers schema -json > FILE"),
        "{stderr}"
    );
    assert!(stderr.contains("source = \"hashicorp/aws\""), "{stderr}");
    assert!(!dir.path().join("bindings").exists(), "nothing written");
}

/// The repository root (the workspace this test binary was built in).
fn repo_root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn get_into_an_empty_crate_dir_writes_a_crate_that_builds() {
    // A project outside any Cargo workspace: the crate names the DSL by path.
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(dir.path(), "terraform.io/builtin/terraform", "\"*\"");
    let schema = builtin_schema();
    let out = callflow(&[
        "get",
        "--config",
        cfg.to_str().expect("utf-8"),
        "--schema",
        schema.to_str().expect("utf-8"),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("created the crate callflow-provider-terraform"),
        "{stdout}"
    );
    let manifest_path = dir.path().join("bindings/Cargo.toml");
    let manifest = std::fs::read_to_string(&manifest_path).expect("Cargo.toml written");
    assert!(
        manifest.contains("terraform.io/builtin/terraform"),
        "the description names the provider: {manifest}"
    );

    // It builds with no hand-written file: cargo check, with this workspace's lock file so the
    // versions (and the shared target directory's artifacts) are the ones already built.
    std::fs::copy(
        repo_root().join("Cargo.lock"),
        dir.path().join("bindings/Cargo.lock"),
    )
    .expect("copy Cargo.lock");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let check = Command::new(cargo)
        .args(["check", "--quiet", "--manifest-path"])
        .arg(&manifest_path)
        .env(
            "CARGO_TARGET_DIR",
            std::env::var_os("CARGO_TARGET_DIR")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| repo_root().join("target")),
        )
        .output()
        .expect("cargo runs");
    assert!(
        check.status.success(),
        "cargo check of the generated crate failed:\n{}",
        String::from_utf8_lossy(&check.stderr)
    );

    // A second run keeps the manifest (it may have been edited) and says nothing more.
    std::fs::write(&manifest_path, format!("{manifest}# edited\n")).expect("edit");
    let again = callflow(&[
        "get",
        "--config",
        cfg.to_str().expect("utf-8"),
        "--schema",
        schema.to_str().expect("utf-8"),
    ]);
    assert!(again.status.success());
    assert!(!String::from_utf8_lossy(&again.stdout).contains("created the crate"));
    assert!(
        std::fs::read_to_string(&manifest_path)
            .expect("kept")
            .ends_with("# edited\n")
    );
}

#[test]
fn get_inside_a_workspace_inherits_its_dependencies_and_names_the_member_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dsl = repo_root().join("stack/dsl");
    std::fs::write(
        dir.path().join("Cargo.toml"),
        format!(
            "[workspace]\nresolver = \"3\"\nmembers = []\n\n[workspace.package]\nedition = \"2024\"\n\
             rust-version = \"1.95\"\nlicense = \"Apache-2.0\"\npublish = false\n\n\
             [workspace.dependencies]\ncallflow-dsl = {{ path = {:?} }}\nserde = \"1\"\n",
            dsl.display().to_string()
        ),
    )
    .expect("workspace manifest");
    let cfg = config(dir.path(), "terraform.io/builtin/terraform", "\"*\"");
    let schema = builtin_schema();
    let out = callflow(&[
        "get",
        "--config",
        cfg.to_str().expect("utf-8"),
        "--schema",
        schema.to_str().expect("utf-8"),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("add it to the workspace: members = [..., \"bindings\"]"),
        "{stdout}"
    );
    let manifest =
        std::fs::read_to_string(dir.path().join("bindings/Cargo.toml")).expect("manifest");
    assert!(
        manifest.contains("callflow-dsl.workspace = true"),
        "{manifest}"
    );
}
