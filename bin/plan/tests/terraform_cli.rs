//! The real `terraform` binary: offline init failure, missing binary, and a provider-free
//! configuration planned end to end through `cdktf.out/manifest.json`.
//!
//! Terraform is found through `$TERRAFORM`, else `/usr/local/bin/terraform`, else `PATH`.
//! Without it these tests print `SKIPPED` and pass, unless `CALLFLOW_REQUIRE_TERRAFORM=1`.

use std::path::{Path, PathBuf};

use callflow_plan::{
    Action, BackendConfig, BinarySource, InitFailure, PlanError, PlanOptions, TerraformCli,
    TerraformError, TerraformVar, plan_stack,
};

/// The terraform CLI with its configuration pointed at a real empty file (the machine's
/// `TF_CLI_CONFIG_FILE` names a file that does not exist, which makes terraform warn).
fn terraform(scratch: &Path) -> Option<TerraformCli> {
    let binary = std::env::var_os("TERRAFORM")
        .map(PathBuf::from)
        .or_else(|| Some(PathBuf::from("/usr/local/bin/terraform")).filter(|p| p.is_file()))
        .map(|p| TerraformCli::at(p, BinarySource::Explicit))
        .or_else(|| TerraformCli::locate(None).ok());
    let Some(cli) = binary else {
        assert!(
            std::env::var_os("CALLFLOW_REQUIRE_TERRAFORM").is_none(),
            "terraform is required (CALLFLOW_REQUIRE_TERRAFORM is set) but was not found"
        );
        eprintln!("SKIPPED: no terraform binary ($TERRAFORM, /usr/local/bin/terraform, PATH)");
        return None;
    };
    let config = scratch.join("empty.tfrc");
    std::fs::write(&config, "").expect("write empty CLI config");
    Some(cli.env("TF_CLI_CONFIG_FILE", &config))
}

fn write(path: &Path, text: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create dirs");
    }
    std::fs::write(path, text).expect("write file");
}

#[test]
fn offline_init_of_the_aws_provider_is_a_clear_init_failure() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let Some(cli) = terraform(scratch.path()) else {
        return;
    };
    let stack = scratch.path().join("stack");
    write(
        &stack.join("cdk.tf.json"),
        r#"{"terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": "6.25.0"}}},
            "provider": {"aws": [{"region": "eu-west-1"}]},
            "resource": {"aws_s3_bucket": {"events": {"bucket": "callflow-events"}}}}"#,
    );
    let error = cli
        .init(&stack, &PlanOptions::default())
        .expect_err("no network: the registry lookup fails");
    let TerraformError::InitFailed { failure, .. } = &error else {
        panic!("expected InitFailed, got {error:?}");
    };
    assert_eq!(
        failure,
        &InitFailure::ProviderDownload {
            provider: "hashicorp/aws".to_owned()
        }
    );
    let message = error.to_string();
    assert_eq!(
        message,
        format!(
            "terraform init failed in {}: terraform could not download the hashicorp/aws provider: no network access to the registry; pre-install it with a provider mirror / plugin cache (TF_PLUGIN_CACHE_DIR or provider_installation in a CLI config) and retry",
            stack.display()
        )
    );
}

#[test]
fn a_missing_binary_is_not_installed_with_what_to_do() {
    let error = TerraformCli::locate(Some(Path::new("/nonexistent/bin/terraform")))
        .expect_err("no such binary");
    assert!(matches!(error, TerraformError::NotInstalled { .. }));
    assert_eq!(
        error.to_string(),
        "terraform is not installed: /nonexistent/bin/terraform (given with --terraform) does not exist. Install Terraform 1.x (https://developer.hashicorp.com/terraform/install) or point --terraform or the TERRAFORM environment variable at the binary"
    );

    let scratch = tempfile::tempdir().expect("tempdir");
    let unchecked = TerraformCli::at("/nonexistent/bin/terraform", BinarySource::EnvVar);
    let error = unchecked
        .init(scratch.path(), &PlanOptions::default())
        .expect_err("cannot run a missing binary");
    assert!(
        matches!(error, TerraformError::NotInstalled { ref detail } if detail.contains("TERRAFORM environment variable")),
        "{error:?}"
    );
}

/// A stack without providers: `terraform_data` and outputs are built into terraform.
const PROVIDER_FREE_STACK: &str = r#"{
  "variable": {
    "stage": {"type": "string"},
    "region": {"type": "string", "default": "eu-west-1"},
    "signing_key": {"type": "string", "default": "very-secret-signing-key", "sensitive": true}
  },
  "resource": {
    "terraform_data": {
      "deployment": {"input": {"stage": "${var.stage}", "region": "${var.region}",
                               "signing_key": "${var.signing_key}"}}
    }
  },
  "output": {
    "stage": {"value": "${var.stage}"},
    "deployment_id": {"value": "${terraform_data.deployment.id}"}
  }
}"#;

fn synth_output(root: &Path) -> PathBuf {
    let out = root.join("cdktf.out");
    write(
        &out.join("manifest.json"),
        r#"{"version": "0.20.0", "stacks": {"demo": {"name": "demo", "constructPath": "demo",
            "workingDirectory": "stacks/demo", "synthesizedStackPath": "stacks/demo/cdk.tf.json",
            "annotations": [], "dependencies": []}}}"#,
    );
    write(&out.join("stacks/demo/cdk.tf.json"), PROVIDER_FREE_STACK);
    out
}

#[test]
fn a_provider_free_stack_plans_end_to_end_through_the_manifest() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let Some(cli) = terraform(scratch.path()) else {
        return;
    };
    let out = synth_output(scratch.path());
    write(
        &out.join("stacks/demo/region.tfvars.json"),
        r#"{"region": "us-east-2"}"#,
    );
    let options = PlanOptions {
        vars: vec!["stage=prod".parse::<TerraformVar>().expect("valid var")],
        var_files: vec![PathBuf::from("region.tfvars.json")],
        ..PlanOptions::default()
    };
    let summary = plan_stack(&out, "demo", &cli, &options).expect("plan succeeds");

    assert_eq!(summary.counts.create, 1);
    assert_eq!(summary.resources[0].action, Action::Create);
    assert!(summary.gate(false).is_ok());
    assert!(
        out.join("stacks/demo/callflow.tfplan").is_file(),
        "plan file kept"
    );
    let human = summary.render_human(false);
    assert!(
        human.contains("input.stage = \"prod\""),
        "-var passed: {human}"
    );
    assert!(
        human.contains("input.region = \"us-east-2\""),
        "-var-file passed: {human}"
    );
    assert!(
        !human.contains("very-secret-signing-key"),
        "sensitive value leaked"
    );
    assert!(!summary.render_json().contains("very-secret-signing-key"));
    insta::assert_snapshot!("provider_free_stack.human", human);
}

#[test]
fn an_unknown_stack_lists_the_synthesized_ones() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let out = synth_output(scratch.path());
    let cli = TerraformCli::at("/nonexistent/terraform", BinarySource::Path);
    let error = plan_stack(&out, "prod", &cli, &PlanOptions::default()).expect_err("unknown");
    assert!(matches!(error, PlanError::Manifest(_)));
    assert_eq!(
        error.to_string(),
        "no stack named \"prod\" in the synth output; available stacks: demo"
    );
    assert_eq!(PlanError::EXIT_CODE, 2);
}

#[test]
fn a_failed_plan_is_one_paragraph_with_terraform_s_reason() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let Some(cli) = terraform(scratch.path()) else {
        return;
    };
    let out = synth_output(scratch.path());
    let dir = out.join("stacks/demo");
    let options = PlanOptions {
        vars: vec!["stage=prod".parse().expect("valid var")],
        ..PlanOptions::default()
    };
    cli.init(&dir, &options).expect("init without providers");
    // Terraform rejects a -var for a variable the configuration does not declare.
    let bad = PlanOptions {
        vars: vec!["stgae=prod".parse().expect("valid var syntax")],
        ..PlanOptions::default()
    };
    let error = cli.plan(&dir, &bad).expect_err("bad variable value");
    assert!(
        matches!(error, TerraformError::PlanFailed { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(
        message.contains("Value for undeclared variable"),
        "terraform's reason is kept: {message}"
    );
    assert!(message.ends_with("then retry"), "{message}");
}

#[test]
fn backend_config_and_environment_reach_terraform() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let Some(cli) = terraform(scratch.path()) else {
        return;
    };
    let dir = scratch.path().join("stack");
    write(
        &dir.join("cdk.tf.json"),
        r#"{"terraform": {"backend": {"local": {}}},
            "variable": {"stage": {"type": "string"}},
            "output": {"stage": {"value": "${var.stage}"}}}"#,
    );
    let outside = scratch.path().join("elsewhere/plan.tfplan");
    std::fs::create_dir_all(outside.parent().expect("has parent")).expect("create dir");
    let options = PlanOptions {
        backend_config: vec![
            "path=custom.tfstate"
                .parse::<BackendConfig>()
                .expect("infallible"),
        ],
        plan_file: Some(outside.clone()),
        ..PlanOptions::default()
    };
    let cli = cli.env("TF_VAR_stage", "from-env");
    let plan = cli.plan_document(&dir, &options).expect("plan succeeds");
    let backend = std::fs::read_to_string(dir.join(".terraform/terraform.tfstate"))
        .expect("init recorded the backend");
    assert!(backend.contains("custom.tfstate"), "{backend}");
    assert!(
        outside.is_file(),
        "an absolute plan_file is written outside the stack dir"
    );
    assert!(!dir.join("callflow.tfplan").exists());
    let stage = &plan.output_changes["stage"];
    assert_eq!(stage.action, Action::Create);
    assert_eq!(stage.after, serde_json::json!("from-env"));
}
