//! The flagship proof: the repository's own synthesized stack converts to a Rust package that
//! builds without warnings, is rustfmt-clean, and synthesizes the same document again.

mod support;

use std::path::Path;

use callflow_convert::{Options, convert};
use support::{assert_rustfmt_clean, read_json, repo, run_package};

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

    // Readable: the resources are typed and read each other through handles.
    assert!(
        main_rs.contains("stack.resource(\"events\", S3Bucket::new()"),
        "{main_rs}"
    );
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
    let took = run_package(dir.path(), &out);
    println!("built and ran in {took:?}");

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
    assert_rustfmt_clean(&dir.path().join("src/main.rs"));
}
