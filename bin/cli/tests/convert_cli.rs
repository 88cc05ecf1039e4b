//! `callflow convert`: exit status 0 (converted), 1 (converted, gaps listed with file and line),
//! 2 (error naming file and line), and the package it writes. Building the package is proven
//! by callflow-convert's own tests (`stack/convert/tests/`).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The real `terraform providers schema -json` output of the builtin provider, committed with
/// the codegen tests (see that folder's README for how it is regenerated).
fn builtin_schema() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../stack/codegen/tests/fixtures/builtin-terraform.json")
}

fn callflow(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_callflow"))
        .args(args)
        .output()
        .expect("callflow runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn convert(source: &Path, out: &Path) -> (i32, String, String) {
    let schema = builtin_schema();
    callflow(&[
        "convert".as_ref(),
        source.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--schema".as_ref(),
        schema.as_os_str(),
    ])
}

const CLEAN: &str = r#"terraform {
  backend "local" {
    path = "terraform.tfstate"
  }
}

variable "environment" {
  type    = string
  default = "dev"
}

resource "terraform_data" "base" {
  input = "callflow-${var.environment}"
}

resource "terraform_data" "child" {
  input      = terraform_data.base.id
  depends_on = [terraform_data.base]
}

output "base_id" {
  value       = terraform_data.base.id
  description = "The base object's id."
}
"#;

#[test]
fn a_clean_configuration_converts_with_status_0() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("network");
    std::fs::create_dir(&src).expect("mkdir");
    std::fs::write(src.join("main.tf"), CLEAN).expect("write");
    let out = dir.path().join("converted");
    let (code, stdout, stderr) = convert(&src, &out);
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stdout.starts_with("converted stack `network`: 2 resources, 0 data sources, 2 variables/locals/outputs, bindings of 1 types"),
        "{stdout}"
    );
    let main_rs = std::fs::read_to_string(out.join("src/main.rs")).expect("main.rs");
    assert!(main_rs.contains("let base = stack.resource("), "{main_rs}");
    assert!(main_rs.contains("TerraformData::new()"), "{main_rs}");
    assert!(
        main_rs.contains("use bindings_terraform::terraform::TerraformData;"),
        "{main_rs}"
    );
    assert!(
        main_rs
            .contains(".set_input(Tf::Template(parse_template(\"callflow-${var.environment}\")))"),
        "{main_rs}"
    );
    assert!(
        main_rs.contains("stack.depends_on(&child, &[&base]);"),
        "{main_rs}"
    );
    let manifest = std::fs::read_to_string(out.join("Cargo.toml")).expect("Cargo.toml");
    assert!(manifest.contains("callflow-dsl = { path = "), "{manifest}");
    assert!(
        manifest.contains("bindings-terraform = { path = \"bindings/terraform\" }"),
        "{manifest}"
    );
    assert!(out.join("bindings/terraform/src/lib.rs").is_file());
    assert!(out.join("bindings/terraform/schema.json").is_file());
}

#[test]
fn constructs_without_a_typed_form_exit_1_and_are_listed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("cfg");
    std::fs::create_dir(&src).expect("mkdir");
    std::fs::write(src.join("main.tf"), CLEAN).expect("write");
    std::fs::write(
        src.join("more.tf"),
        "resource \"terraform_data\" \"many\" {\n  for_each = { a = 1 }\n  input = each.value\n}\n\nmodule \"vpc\" {\n  source = \"./vpc\"\n}\n",
    )
    .expect("write");
    let (code, stdout, stderr) = convert(&src, &dir.path().join("out"));
    assert_eq!(code, 1, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stdout.contains("construct(s) without a typed form in the DSL yet:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("more.tf:1: terraform_data.many: for_each: iteration other than a number or one expression"),
        "{stdout}"
    );
    assert!(
        stdout.contains("more.tf:6: module.vpc: module calls have no typed form"),
        "{stdout}"
    );
    assert!(stdout.contains("(kept as raw Terraform JSON)"), "{stdout}");
}

#[test]
fn errors_exit_2_naming_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("cfg");
    std::fs::create_dir(&src).expect("mkdir");
    std::fs::write(
        src.join("main.tf"),
        "resource \"terraform_data\" \"a\" {\n  input = [1,\n}\n",
    )
    .expect("write");
    let (code, _, stderr) = convert(&src, &dir.path().join("out"));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("main.tf:3: HCL syntax error"), "{stderr}");
    assert!(
        !dir.path().join("out").exists(),
        "nothing is written on error"
    );

    std::fs::write(
        src.join("main.tf"),
        "data \"terraform_remote_stat\" \"x\" {\n  backend = \"local\"\n}\n",
    )
    .expect("write");
    let (code, _, stderr) = convert(&src, &dir.path().join("out"));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("main.tf:1: data source type `terraform_remote_stat` is not in the given schema(s); closest: terraform_remote_state"), "{stderr}");
}
