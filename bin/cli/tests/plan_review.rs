//! The real `callflow` binary reviewing plans and synth diffs: `plan --plan-file` on saved
//! plans (JSON and, with the real terraform, binary), the security gate's exit codes, and
//! `diff --format markdown` with a role whose actions widen.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture(path: &str) -> String {
    repo_root()
        .join("bin/plan/tests/fixtures")
        .join(path)
        .to_string_lossy()
        .into_owned()
}

fn callflow_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_callflow"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run callflow")
}

fn callflow(args: &[&str]) -> Output {
    callflow_in(&repo_root(), args)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_widened_role_policy_exits_4_and_the_reordered_one_0() {
    let widened = fixture("aws/role-policy-widened.plan.json");
    let out = callflow(&[
        "plan",
        "--plan-file",
        &widened,
        "--require-approval",
        "broadening",
    ]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("! broadening + aws_iam_role_policy.event_retriever_read"));
    assert!(text(&out.stderr).contains("--allow-broadening"));
    // The default level is broadening too.
    assert_eq!(
        callflow(&["plan", "--plan-file", &widened]).status.code(),
        Some(4)
    );
    for approved in [
        &["--allow-broadening"][..],
        &["--require-approval", "never"][..],
    ] {
        let mut args = vec!["plan", "--plan-file", &widened];
        args.extend_from_slice(approved);
        let out = callflow(&args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{approved:?}: {}",
            text(&out.stderr)
        );
    }

    let reordered = fixture("aws/role-policy-reordered.plan.json");
    for level in ["broadening", "any-change"] {
        let out = callflow(&[
            "plan",
            "--plan-file",
            &reordered,
            "--require-approval",
            level,
        ]);
        assert_eq!(out.status.code(), Some(0), "{level}: {}", text(&out.stderr));
        assert!(!text(&out.stdout).contains("Security changes"));
    }
}

#[test]
fn plan_file_markdown_and_json_of_a_real_plan() {
    let plan = fixture("plans/all-actions.plan.json");
    let out = callflow(&["plan", "--plan-file", &plan, "--format", "markdown"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let markdown = text(&out.stdout);
    assert!(markdown.starts_with(
        "### Terraform plan: 1 to create, 2 to update, 2 to replace, 1 to delete, 1 to import, 1 to move, 1 to forget\n"
    ));
    assert!(markdown.contains("#### Forget (removed from state, not destroyed) (1)"));
    let out = callflow(&["plan", "--plan-file", &plan, "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON summary");
    assert_eq!(json["counts"]["moved"], 1);
    let drift = fixture("plans/drift-refresh-only.plan.json");
    let out = callflow(&["plan", "--plan-file", &drift, "--format", "markdown"]);
    assert!(text(&out.stdout).contains("#### Changed outside Terraform (1)"));
}

#[test]
fn an_unreadable_plan_file_is_an_error_with_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("not-a-plan.json");
    std::fs::write(&path, r#"{"format_version": "2.0"}"#).expect("write");
    let out = callflow(&["plan", "--plan-file", &path.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("is not a terraform plan document"),
        "{}",
        text(&out.stderr)
    );
}

fn terraform() -> Option<PathBuf> {
    let found = std::env::var_os("TERRAFORM")
        .map(PathBuf::from)
        .or_else(|| Some(PathBuf::from("/usr/local/bin/terraform")).filter(|p| p.is_file()))
        .or_else(|| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|dir| dir.join("terraform"))
                    .find(|p| p.is_file())
            })
        });
    if found.is_none() {
        assert!(
            std::env::var_os("CALLFLOW_REQUIRE_TERRAFORM").is_none(),
            "terraform is required (CALLFLOW_REQUIRE_TERRAFORM is set) but was not found"
        );
        eprintln!("SKIPPED: no terraform binary ($TERRAFORM, /usr/local/bin/terraform, PATH)");
    }
    found
}

#[test]
fn a_binary_plan_file_is_shown_with_terraform() {
    let Some(terraform) = terraform() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let rc = dir.path().join("empty.tfrc");
    std::fs::write(&rc, "").expect("tfrc");
    std::fs::write(
        dir.path().join("main.tf"),
        "resource \"terraform_data\" \"a\" {\n  input = \"one\"\n}\n",
    )
    .expect("main.tf");
    let run = |args: &[&str]| {
        let out = Command::new(&terraform)
            .args(args)
            .current_dir(dir.path())
            .env("TF_CLI_CONFIG_FILE", &rc)
            .output()
            .expect("run terraform");
        assert!(
            out.status.success(),
            "terraform {args:?}: {}",
            text(&out.stderr)
        );
    };
    run(&["init", "-input=false", "-no-color"]);
    run(&["plan", "-input=false", "-no-color", "-out=saved.tfplan"]);
    let out = Command::new(env!("CARGO_BIN_EXE_callflow"))
        .args([
            "plan",
            "--plan-file",
            "saved.tfplan",
            "--format",
            "markdown",
        ])
        .args(["--terraform", &terraform.to_string_lossy()])
        .current_dir(dir.path())
        .env("TF_CLI_CONFIG_FILE", &rc)
        .output()
        .expect("run callflow");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let markdown = text(&out.stdout);
    assert!(
        markdown.starts_with(
            "### Terraform plan: 1 to create, 0 to update, 0 to replace, 0 to delete\n"
        ),
        "{markdown}"
    );
    assert!(markdown.contains("<code>terraform_data.a</code>"));
}

/// A copy of the committed `cdktf.out` in which `aws_iam_role_policy.event_retriever_read`
/// grants `s3:GetObject` on `events/*` only: the fresh synth, against it, widens that role.
fn narrowed_copy(dir: &Path) {
    let committed = repo_root().join("cdktf.out");
    std::fs::copy(committed.join("manifest.json"), dir.join("manifest.json")).expect("manifest");
    let stack_dir = dir.join("stacks/callflow");
    std::fs::create_dir_all(&stack_dir).expect("stack dir");
    let source = std::fs::read_to_string(committed.join("stacks/callflow/cdk.tf.json"))
        .expect("committed stack");
    let mut doc: serde_json::Value = serde_json::from_str(&source).expect("JSON");
    let element = &mut doc["resource"]["aws_iam_role_policy"]["event_retriever_read"];
    let mut policy: serde_json::Value =
        serde_json::from_str(element["policy"].as_str().expect("policy")).expect("policy JSON");
    policy["Statement"][0]["Resource"] =
        serde_json::json!(["${aws_s3_bucket.events.arn}/events/*"]);
    element["policy"] = serde_json::Value::String(policy.to_string());
    std::fs::write(
        stack_dir.join("cdk.tf.json"),
        serde_json::to_string_pretty(&doc).expect("serialize"),
    )
    .expect("write copy");
}

#[test]
fn diff_markdown_shows_the_widened_role_first_and_gates_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    narrowed_copy(dir.path());
    let against = dir.path().to_string_lossy().into_owned();
    let out = callflow(&["diff", "--against", &against, "--format", "markdown"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "diff alone does not gate: {}",
        text(&out.stderr)
    );
    let markdown = text(&out.stdout);
    let security = markdown
        .find("#### Security changes")
        .expect("security section");
    let elements = markdown.find("#### Elements").expect("elements section");
    assert!(security < elements);
    let row = markdown
        .lines()
        .find(|l| l.starts_with("| ⚠️ **broadening** | `aws_iam_role_policy.event_retriever_read`"))
        .unwrap_or_else(|| panic!("no broadening row in\n{markdown}"));
    assert!(
        row.contains(
            "newly grants s3:GetObject on ${aws\\_s3\\_bucket.events.arn}/metadata/indexes/\\*"
        ),
        "{row}"
    );

    let out = callflow(&[
        "diff",
        "--against",
        &against,
        "--require-approval",
        "broadening",
    ]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("Security changes (1 broadening):"));
    let out = callflow(&["diff", "--against", &against, "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["security"][0]["direction"], "broadening");
}
