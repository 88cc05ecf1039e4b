//! Bad input gets an error naming file, line and construct; what has no typed form is kept and
//! listed (file, line, construct), never dropped.

use std::path::{Path, PathBuf};

use callflow_convert::{ConvertError, Handling, Options, convert};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn aws_schema() -> PathBuf {
    repo().join("stack/providers/aws/schema.json")
}

fn builtin_schema() -> PathBuf {
    repo().join("stack/codegen/tests/fixtures/builtin-terraform.json")
}

/// A configuration directory with the given files.
fn config(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write");
    }
    dir
}

fn options(dir: &Path, schema: PathBuf) -> Options {
    let mut o = Options::new(dir);
    o.schemas = vec![schema];
    o.rustfmt = None;
    o
}

#[test]
fn hcl_syntax_error_names_file_and_line() {
    let dir = config(&[
        (
            "main.tf",
            "resource \"terraform_data\" \"a\" {\n  input = \"x\"\n}\n",
        ),
        ("broken.tf", "locals {\n  a = 1\n  b = [1, 2\n}\n"),
    ]);
    let err = convert(&options(dir.path(), builtin_schema())).expect_err("a syntax error");
    let text = err.to_string();
    match &err {
        ConvertError::Hcl { location, .. } => {
            assert!(location.file.ends_with("broken.tf"), "{text}");
            assert!((3..=4).contains(&location.line), "{text}");
        }
        other => panic!("expected an HCL syntax error, got {other}"),
    }
    assert!(text.contains("broken.tf:"), "{text}");
    assert!(text.contains("HCL syntax error"), "{text}");
}

#[test]
fn unknown_type_names_the_closest_ones() {
    let dir = config(&[(
        "main.tf",
        "\n\nresource \"aws_s3_buckt\" \"logs\" {\n  bucket = \"logs\"\n}\n",
    )]);
    let err = convert(&options(dir.path(), aws_schema())).expect_err("unknown type");
    let text = err.to_string();
    match &err {
        ConvertError::UnknownType {
            location,
            type_name,
            suggestions,
            ..
        } => {
            assert_eq!(location.line, 3);
            assert_eq!(type_name, "aws_s3_buckt");
            assert_eq!(
                suggestions.first().map(String::as_str),
                Some("aws_s3_bucket"),
                "{text}"
            );
        }
        other => panic!("expected an unknown type, got {other}"),
    }
    assert!(text.contains("main.tf:3"), "{text}");
    assert!(text.contains("closest: aws_s3_bucket"), "{text}");
}

#[test]
fn reference_to_nothing_declared_is_an_error_at_its_line() {
    let dir = config(&[(
        "main.tf",
        "resource \"terraform_data\" \"a\" {\n  input = \"x\"\n}\n\nresource \"terraform_data\" \"b\" {\n  input = terraform_data.missing.output\n}\n",
    )]);
    let err = convert(&options(dir.path(), builtin_schema())).expect_err("undeclared");
    let text = err.to_string();
    assert!(text.contains("main.tf:5"), "{text}");
    assert!(text.contains("terraform_data.b"), "{text}");
    assert!(text.contains("terraform_data.missing"), "{text}");
}

#[test]
fn duplicate_address_names_both_places() {
    let dir = config(&[
        ("a.tf", "variable \"region\" {\n  type = string\n}\n"),
        ("b.tf", "\nvariable \"region\" {\n  type = string\n}\n"),
    ]);
    let err = convert(&options(dir.path(), builtin_schema())).expect_err("duplicate");
    let text = err.to_string();
    assert!(text.contains("b.tf:2"), "{text}");
    assert!(text.contains("a.tf:1"), "{text}");
    assert!(text.contains("var.region"), "{text}");
}

#[test]
fn constructs_without_a_typed_form_are_kept_and_listed_with_their_line() {
    let dir = config(&[(
        "main.tf",
        r#"terraform {
  backend "local" {
    path = "state.tfstate"
  }
}

variable "names" {
  type    = set(string)
  default = ["a", "b"]
  validation {
    condition     = length(var.names) > 0
    error_message = "At least one name."
  }
}

resource "terraform_data" "each" {
  for_each = var.names
  input    = each.key
}

resource "terraform_data" "counted" {
  count = 2
  input = count.index
}

resource "terraform_data" "literal" {
  for_each = { a = 1 }
  input    = each.value
}

moved {
  from = terraform_data.old
  to   = terraform_data.counted[0]
}

module "child" {
  source = "./child"
}
"#,
    )]);
    let conversion = convert(&options(dir.path(), builtin_schema())).expect("converted");
    let listed: Vec<(String, usize, Handling)> = conversion
        .gaps
        .iter()
        .map(|g| (g.construct.clone(), g.location.line, g.handling))
        .collect();
    for (construct, line) in [
        ("var.names", 7),
        ("terraform_data.literal: for_each", 26),
        ("moved", 31),
        ("module.child", 36),
    ] {
        assert!(
            listed
                .iter()
                .any(|(c, l, h)| c == construct && *l == line && *h == Handling::Raw),
            "{construct} at line {line} not listed: {listed:#?}"
        );
    }
    assert!(
        !listed
            .iter()
            .any(|(c, _, _)| c.starts_with("terraform_data.each")
                || c.starts_with("terraform_data.counted")),
        "iteration over one expression or a number is typed: {listed:#?}"
    );
    // Nothing dropped: the program's document has all of it.
    let expected = &conversion.expected;
    assert_eq!(
        expected["resource"]["terraform_data"]["each"]["for_each"],
        "${var.names}"
    );
    assert_eq!(
        expected["resource"]["terraform_data"]["counted"]["count"],
        2
    );
    assert_eq!(expected["moved"][0]["from"], "terraform_data.old");
    assert_eq!(expected["module"]["child"]["source"], "./child");
    assert_eq!(
        expected["variable"]["names"]["validation"][0]["condition"],
        "${length(var.names) > 0}"
    );
    let main_rs = &conversion.files[Path::new("src/main.rs")];
    assert!(
        main_rs.contains("stack.backend(LocalBackend::new().path(\"state.tfstate\"))"),
        "{main_rs}"
    );
    let compact: String = main_rs.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(
        compact.contains("stack.resource_for_each(\"each\",ForEach::<Tf<Dynamic>>::expression(Expression::raw(\"var.names\")),|_|"),
        "{main_rs}"
    );
    assert!(
        compact.contains("stack.resource_with_count(\"counted\",2,|_|"),
        "{main_rs}"
    );
    assert!(
        compact.contains("stack.add_override(&literal,\"for_each\""),
        "{main_rs}"
    );
    assert!(main_rs.contains("doc[\"moved\"] = json!"), "{main_rs}");
}

#[test]
fn a_stack_file_that_is_not_json_names_its_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("cdk.tf.json");
    std::fs::write(&file, "{\n  \"resource\": {\n    \"x\": [1,\n}\n").expect("write");
    let err = convert(&options(&file, builtin_schema())).expect_err("bad JSON");
    let text = err.to_string();
    assert!(text.contains("cdk.tf.json:4"), "{text}");
}
