//! `cdktf.out/` in the repository is exactly what a fresh synth writes: CI fails when someone
//! changes the stack without committing the new output.

mod support;

use support::*;

#[test]
fn committed_cdktf_out_is_up_to_date() {
    let fresh = synth(&committed_config());
    let out = repo_root().join("cdktf.out");
    let mut stale = Vec::new();
    for (rel, contents) in fresh.files() {
        let path = out.join(&rel);
        match std::fs::read_to_string(&path) {
            Ok(committed) if committed == contents => {}
            Ok(_) => stale.push(format!("{} differs", rel.display())),
            Err(e) => stale.push(format!("{} is missing ({e})", rel.display())),
        }
    }
    assert!(
        stale.is_empty(),
        "cdktf.out is stale: {}\nrun `cargo run -p callflow-cli -- synth` and commit cdktf.out",
        stale.join(", ")
    );
}

#[test]
fn synth_is_byte_identical_across_runs() {
    let a = synth(&committed_config()).files();
    let b = synth(&committed_config()).files();
    assert_eq!(a, b);
}

#[test]
fn write_then_read_round_trips_and_replaces_removed_stacks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut two = committed_config();
    let mut second = two.stacks[0].clone();
    second.stack_name = "callflow-staging".into();
    second.environment = "staging".into();
    two.stacks.push(second);
    let synthesized = synth(&two);
    synthesized.write_to(dir.path()).expect("write");
    assert!(
        dir.path()
            .join("stacks/callflow-staging/cdk.tf.json")
            .exists()
    );
    let read = callflow_stack::dsl::Synthesized::read_from(dir.path()).expect("read");
    assert_eq!(read, synthesized);

    let one = synth(&committed_config());
    one.write_to(dir.path()).expect("write again");
    assert!(
        !dir.path().join("stacks/callflow-staging").exists(),
        "a removed stack's directory must go"
    );
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("manifest.json")).expect("manifest"),
    )
    .expect("json");
    assert_eq!(
        manifest["stacks"]["callflow"]["synthesizedStackPath"],
        "stacks/callflow/cdk.tf.json"
    );
    assert_eq!(
        manifest["stacks"]["callflow"]["workingDirectory"],
        "stacks/callflow"
    );
    assert!(manifest["stacks"].get("callflow-staging").is_none());
}

#[test]
fn parallel_render_writes_exactly_what_synth_writes() {
    let mut config = committed_config();
    for i in 0..5 {
        let mut c = config.stacks[0].clone();
        c.stack_name = format!("copy-{i}");
        c.environment = format!("copy{i}");
        config.stacks.push(c);
    }
    let app = callflow_stack::callflow::callflow_app(&config);
    let rendered = app.render().expect("render");
    let synthesized = app.synth().expect("synth");
    assert_eq!(rendered.files(), synthesized.files());
    assert_eq!(rendered.resource_count(), synthesized.resource_count());
    assert_eq!(rendered.stack_count(), 6);
    let built = callflow_stack::callflow::render_callflow_app(&config).expect("render built");
    assert_eq!(built, rendered);

    let mut duplicate = committed_config();
    duplicate.stacks.push(duplicate.stacks[0].clone());
    let errors = callflow_stack::callflow::callflow_app(&duplicate)
        .render()
        .expect_err("duplicate stack names");
    assert!(
        errors[0]
            .to_string()
            .contains("duplicate logical id: `stack callflow`"),
        "{}",
        errors[0]
    );
}
