//! Reading a previous synth back goes through the one manifest reader, with its path check.

use callflow_dsl::manifest::ManifestError;
use callflow_dsl::{OutputError, Synthesized};

fn write(dir: &std::path::Path, manifest: &str) {
    std::fs::write(dir.join("manifest.json"), manifest).expect("write manifest");
}

#[test]
fn a_stack_path_outside_the_output_is_refused_not_read() {
    let root = tempfile::tempdir().expect("tempdir");
    let out = root.path().join("cdktf.out");
    std::fs::create_dir(&out).expect("out dir");
    // A readable JSON file outside the output directory, which the manifest points at.
    std::fs::write(root.path().join("secret.json"), "{}").expect("outside file");
    write(
        &out,
        r#"{"version":"0.20.0","stacks":{"s":{"name":"s","workingDirectory":"stacks/s","synthesizedStackPath":"../secret.json"}}}"#,
    );
    let err = Synthesized::read_from(&out).expect_err("refused");
    assert!(
        matches!(
            err,
            OutputError::Manifest(ManifestError::PathOutsideOutput { .. })
        ),
        "{err}"
    );
}

#[test]
fn a_synth_reads_back_through_its_manifest() {
    let root = tempfile::tempdir().expect("tempdir");
    let out = root.path();
    std::fs::create_dir_all(out.join("stacks/s")).expect("stack dir");
    std::fs::write(out.join("stacks/s/cdk.tf.json"), r#"{"resource":{}}"#).expect("doc");
    write(
        out,
        r#"{"version":"0.20.0","stacks":{"s":{"name":"s","workingDirectory":"stacks/s","synthesizedStackPath":"stacks/s/cdk.tf.json"}}}"#,
    );
    let synth = Synthesized::read_from(out).expect("read");
    assert_eq!(synth.stacks().keys().collect::<Vec<_>>(), ["s"]);
}
