//! Convert time of a 50-resource HCL configuration (10 services × 5 AWS resources that reference
//! each other, plus variables, locals and outputs), and the build time of the converted package.
//!
//! ```sh
//! cargo run --release -p callflow-convert --example convert_bench            # convert only
//! cargo run --release -p callflow-convert --example convert_bench -- --build # and cargo build it
//! ```
//! The schema is the trimmed AWS schema the project commits (`stack/providers/aws/schema.json`);
//! `--schema FILE` takes another (e.g. the full provider schema).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn configuration(services: usize) -> String {
    let mut hcl = String::from(
        "variable \"environment\" {\n  type    = string\n  default = \"dev\"\n}\n\nlocals {\n  prefix = \"bench-${var.environment}\"\n}\n\nprovider \"aws\" {\n  region = \"us-east-1\"\n}\n",
    );
    for i in 0..services {
        hcl.push_str(&format!(
            r#"
resource "aws_kms_key" "key{i}" {{
  description         = "service {i}"
  enable_key_rotation = true
}}

resource "aws_s3_bucket" "data{i}" {{
  bucket = "${{local.prefix}}-data-{i}"
  tags = {{
    Service = "svc{i}"
  }}
}}

resource "aws_s3_bucket_versioning" "data{i}" {{
  bucket = aws_s3_bucket.data{i}.id
  versioning_configuration {{
    status = "Enabled"
  }}
}}

resource "aws_iam_role" "svc{i}" {{
  name = "${{local.prefix}}-svc{i}"
  assume_role_policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{ Effect = "Allow", Action = "sts:AssumeRole", Principal = {{ Service = "lambda.amazonaws.com" }} }}]
  }})
}}

resource "aws_cloudwatch_log_group" "svc{i}" {{
  name              = "/aws/lambda/${{local.prefix}}-svc{i}"
  retention_in_days = 30
  kms_key_id        = aws_kms_key.key{i}.arn
}}
"#
        ));
    }
    hcl.push_str("\noutput \"first_bucket\" {\n  value       = aws_s3_bucket.data0.arn\n  description = \"The first bucket.\"\n}\n");
    hcl
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let build = args.iter().any(|a| a == "--build");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let schema = args
        .iter()
        .position(|a| a == "--schema")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join("stack/providers/aws/schema.json"));

    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("bench");
    std::fs::create_dir(&src).expect("mkdir");
    std::fs::write(src.join("main.tf"), configuration(10)).expect("write");
    let mut options = callflow_convert::Options::new(&src);
    options.schemas = vec![schema.clone()];

    let mut times: Vec<Duration> = Vec::new();
    let mut last = None;
    for _ in 0..5 {
        let started = Instant::now();
        let conversion = callflow_convert::convert(&options).unwrap_or_else(|e| panic!("{e}"));
        times.push(started.elapsed());
        last = Some(conversion);
    }
    let conversion = last.expect("converted");
    times.sort();
    println!(
        "convert: {} resources, {} binding types, src/main.rs {} lines, schema {}: min {:.1} ms, median {:.1} ms (5 runs, rustfmt included: {})",
        conversion.stats.resources,
        conversion.stats.binding_types,
        conversion.stats.main_lines,
        schema.display(),
        times[0].as_secs_f64() * 1000.0,
        times[2].as_secs_f64() * 1000.0,
        conversion.formatted
    );
    for gap in &conversion.gaps {
        println!("  gap: {gap}");
    }
    if !build {
        return;
    }
    let package = dir.path().join("package");
    conversion.write_to(&package).expect("write");
    let target = dir.path().join("target");
    for label in [
        "cold (own target dir: dependencies too)",
        "after editing src/main.rs",
    ] {
        if label.starts_with("after") {
            let main = package.join("src/main.rs");
            let text = std::fs::read_to_string(&main).expect("main.rs");
            std::fs::write(&main, format!("{text}\n// edited\n")).expect("edit");
        }
        let started = Instant::now();
        let status = Command::new("cargo")
            .args(["build", "--offline", "--quiet", "--manifest-path"])
            .arg(package.join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", &target)
            .status()
            .expect("cargo build");
        assert!(status.success(), "the converted package did not build");
        println!(
            "cargo build, {label}: {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
}
