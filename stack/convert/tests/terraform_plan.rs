//! Real terraform, offline: an HCL configuration on Terraform's builtin provider (iteration,
//! `moved`, `removed`, `check`, a lifecycle precondition, a validated variable, locals with
//! functions and `for` expressions) is applied with a local backend; the converted package's
//! synthesized JSON then plans against the same state with no changes
//! (`terraform plan -detailed-exitcode` exits 0).
//!
//! Terraform is found through `$TERRAFORM`, else `/usr/local/bin/terraform`, else `PATH`;
//! without it the test prints `SKIPPED`, unless `CALLFLOW_REQUIRE_TERRAFORM=1`, where it fails.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use callflow_convert::{Options, convert};
use support::{repo, run_package};

fn terraform_binary() -> Option<PathBuf> {
    let candidate = std::env::var_os("TERRAFORM")
        .map(PathBuf::from)
        .or_else(|| Some(PathBuf::from("/usr/local/bin/terraform")).filter(|p| p.is_file()))
        .or_else(|| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|p| p.join("terraform"))
                    .find(|p| p.is_file())
            })
        });
    if candidate.is_none() {
        assert!(
            std::env::var_os("CALLFLOW_REQUIRE_TERRAFORM").is_none(),
            "terraform is required (CALLFLOW_REQUIRE_TERRAFORM is set) but was not found"
        );
        eprintln!("SKIPPED: no terraform binary ($TERRAFORM, /usr/local/bin/terraform, PATH)");
    }
    candidate
}

/// Runs terraform in `dir`; returns (exit code, output).
fn terraform(bin: &Path, dir: &Path, cli_config: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(bin)
        .arg(format!("-chdir={}", dir.display()))
        .args(args)
        .env("TF_CLI_CONFIG_FILE", cli_config)
        .env("TF_IN_AUTOMATION", "1")
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .expect("terraform");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

fn ok(bin: &Path, dir: &Path, cli_config: &Path, args: &[&str]) {
    let (code, text) = terraform(bin, dir, cli_config, args);
    assert_eq!(code, 0, "terraform {args:?} in {}:\n{text}", dir.display());
}

const BEFORE: &str = r#"terraform {
  backend "local" {
    path = "STATE"
  }
}

resource "terraform_data" "original" {
  input = "DEV"
}

resource "terraform_data" "retired" {
  input = "kept outside Terraform"
}
"#;

const AFTER: &str = r#"terraform {
  backend "local" {
    path = "STATE"
  }
}

variable "environment" {
  type        = string
  default     = "dev"
  description = "Deployment environment."
  validation {
    condition     = contains(["dev", "prod"], var.environment)
    error_message = "The environment is dev or prod."
  }
}

variable "services" {
  type = map(object({ port = number, public = bool }))
  default = {
    api    = { port = 443, public = true }
    worker = { port = 8080, public = false }
  }
}

locals {
  prefix       = "callflow-${var.environment}"
  public_ports = [for name, s in var.services : s.port if s.public]
  tags         = merge({ Environment = var.environment }, { Owner = "platform" })
  greeting     = <<-EOT
    Hello ${upper(var.environment)}!
    %{ for p in [1, 2] }port ${p} %{ endfor }
  EOT
}

resource "terraform_data" "base" {
  input = local.prefix
}

resource "terraform_data" "service" {
  for_each = var.services
  input = {
    name = "${local.prefix}-${each.key}"
    port = each.value.port
  }
  triggers_replace = local.tags

  lifecycle {
    precondition {
      condition     = each.value.port > 0
      error_message = "Ports are positive."
    }
  }
  depends_on = [terraform_data.base]
}

resource "terraform_data" "replica" {
  count = length(local.public_ports) + 1
  input = "${terraform_data.base.output}-${count.index}"
}

resource "terraform_data" "renamed" {
  input = upper(var.environment)
  lifecycle {
    ignore_changes = [triggers_replace]
  }
}

resource "terraform_data" "greeting" {
  input = local.greeting
}

moved {
  from = terraform_data.original
  to   = terraform_data.renamed
}

removed {
  from = terraform_data.retired
  lifecycle {
    destroy = false
  }
}

check "prefix" {
  assert {
    condition     = startswith(local.prefix, "callflow-")
    error_message = "The prefix names the service."
  }
}

output "base" {
  value       = terraform_data.base.output
  description = "The naming prefix."
}

output "service_names" {
  value = { for k, v in terraform_data.service : k => v.output.name }
}
"#;

#[test]
fn converted_hcl_plans_with_no_changes_against_the_original_state() {
    let Some(bin) = terraform_binary() else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let cli_config = tmp.path().join("terraformrc");
    std::fs::write(&cli_config, "").expect("cli config");
    let state = tmp.path().join("terraform.tfstate");
    let state_text = state.display().to_string();

    // The state: the "before" configuration applied, then the "after" one (moves, forgets).
    for (name, text) in [("before", BEFORE), ("after", AFTER)] {
        let dir = tmp.path().join(name);
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("main.tf"), text.replace("STATE", &state_text)).expect("write");
        ok(
            &bin,
            &dir,
            &cli_config,
            &["init", "-input=false", "-no-color"],
        );
        ok(
            &bin,
            &dir,
            &cli_config,
            &["apply", "-auto-approve", "-input=false", "-no-color"],
        );
    }

    let mut options = Options::new(tmp.path().join("after"));
    options.schemas = vec![repo().join("stack/codegen/tests/fixtures/builtin-terraform.json")];
    options.dsl_path = std::fs::canonicalize(repo().join("stack/dsl")).expect("stack/dsl");
    let conversion = convert(&options).unwrap_or_else(|e| panic!("{e}"));
    for gap in &conversion.gaps {
        println!("gap: {gap}");
    }
    let package = tmp.path().join("package");
    conversion.write_to(&package).expect("write");
    let main_rs = &conversion.files[Path::new("src/main.rs")];
    println!("{main_rs}");
    // The Terraform language through the DSL's typed forms.
    let compact: String = main_rs.chars().filter(|c| !c.is_whitespace()).collect();
    for typed in [
        "stack.moved(\"terraform_data.original\",&renamed);",
        "stack.removed(\"terraform_data.retired\",false);",
        "stack.resource_with_count(\"replica\",",
        "stack.resource_for_each(\"service\",",
        "stack.depends_on(&service,&[&base]);",
        "stack.check(\"prefix\",|c|{c.assert(",
        "precondition:vec![Condition::new(Tf::expr(Expression::raw(\"each.value.port>0\")),\"Portsarepositive.\"",
    ] {
        assert!(compact.contains(typed), "{typed} not in:\n{main_rs}");
    }
    let out = package.join("cdktf.out");
    run_package(&package, &out);

    let stack_dir = out.join("stacks/after");
    ok(
        &bin,
        &stack_dir,
        &cli_config,
        &["init", "-input=false", "-no-color"],
    );
    let (code, text) = terraform(
        &bin,
        &stack_dir,
        &cli_config,
        &["plan", "-detailed-exitcode", "-input=false", "-no-color"],
    );
    assert_eq!(code, 0, "the converted stack plans changes:\n{text}");
    assert!(text.contains("No changes."), "{text}");
}
