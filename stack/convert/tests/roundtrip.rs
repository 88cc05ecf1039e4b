//! The flagship proof: the repository's own synthesized stack converts to a Rust package that
//! builds without warnings, is rustfmt-clean, and synthesizes the same document again.

use std::path::{Path, PathBuf};
use std::process::Command;

use callflow_convert::{Options, convert};
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Where converted packages build: a target directory kept between runs (next to the test's
/// own, not the shared one, which the running `cargo test` holds).
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("converted")
}

fn read_json(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn callflow_stack_round_trips_through_a_built_package() {
    let root = repo();
    let source = root.join("cdktf.out/stacks/callflow/cdk.tf.json");
    let mut options = Options::new(&source);
    options.schemas = vec![root.join("stack/providers/aws/schema.json")];
    options.dsl_path = std::fs::canonicalize(root.join("stack/dsl")).expect("stack/dsl");
    let started = std::time::Instant::now();
    let conversion = convert(&options).unwrap_or_else(|e| panic!("{e}"));
    let convert_time = started.elapsed();
    let dir = tempfile::tempdir().expect("tempdir");
    conversion.write_to(dir.path()).expect("write");
    let main_rs = &conversion.files[Path::new("src/main.rs")];
    println!(
        "converted in {convert_time:?}; gaps: {:#?}",
        conversion.gaps
    );
    println!("{main_rs}");

    // Readable: the resources are typed and read each other through handles.
    assert!(main_rs.contains("stack.resource(\"events\", S3Bucket::new()"));
    assert!(
        main_rs.contains("events_kms_key.arn()"),
        "typed references through handles"
    );
    assert!(
        main_rs.contains("log_level.clone()"),
        "variables as Rust values"
    );
    assert!(conversion.formatted, "rustfmt ran");

    let out = dir.path().join("cdktf.out");
    let started = std::time::Instant::now();
    let run = Command::new(env!("CARGO"))
        .args(["run", "--quiet", "--offline", "--manifest-path"])
        .arg(dir.path().join("Cargo.toml"))
        .arg("--")
        .arg(&out)
        .env("CARGO_TARGET_DIR", target_dir())
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo run");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success(),
        "the converted package failed:\n{stderr}"
    );
    assert!(
        !stderr.contains("warning"),
        "the converted package has warnings:\n{stderr}"
    );
    println!("built and ran in {:?}", started.elapsed());

    let synthesized = read_json(&out.join("stacks/callflow/cdk.tf.json"));
    assert_eq!(
        synthesized,
        read_json(&source),
        "the round trip changed the stack"
    );
    assert_eq!(synthesized, conversion.expected);
    let manifest = read_json(&out.join("manifest.json"));
    assert_eq!(
        manifest["stacks"]["callflow"]["synthesizedStackPath"],
        "stacks/callflow/cdk.tf.json"
    );

    // rustfmt-clean as written.
    let check = Command::new(callflow_convert::find_rustfmt().expect("rustfmt"))
        .args(["--edition", "2024", "--check"])
        .arg(dir.path().join("src/main.rs"))
        .output()
        .expect("rustfmt");
    assert!(
        check.status.success(),
        "src/main.rs is not rustfmt-clean:\n{}",
        String::from_utf8_lossy(&check.stdout)
    );
}
