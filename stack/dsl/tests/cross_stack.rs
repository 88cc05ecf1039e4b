//! Cross-stack references: a value of one stack used in another becomes an output of the
//! producer, a `terraform_remote_state` data source in the consumer and a manifest dependency;
//! proven with the real `terraform` (two local-backend stacks applied in manifest order).

mod backend_support;

use backend_support::{Terraform, TerraformData};
use callflow_dsl::manifest::Manifest;
use callflow_dsl::{App, Output, Stack, StackError, Tf};
use serde_json::{Value, json};

/// Producer `a` with `terraform_data.value`; consumer `b` reading its output, and declaring
/// its own `terraform_data.value` (same address) to prove the rewrite follows the origin, not
/// the name. The consumer is added first: wiring waits for the producer.
fn two_stacks() -> App {
    let mut a = Stack::new("a");
    let value = a.resource("value", TerraformData::new("hello from a"));
    let mut b = Stack::new("b");
    let own = b.resource("value", TerraformData::new("b's own"));
    b.resource("copy", TerraformData::new(value.output()));
    b.resource(
        "both",
        TerraformData::new(Tf::template([value.output(), " + ".into(), own.output()])),
    );
    b.output(
        "copied",
        Output {
            value: value.output(),
            description: "a's value, read through remote state".into(),
            sensitive: true,
        },
    );
    let mut app = App::new();
    app.add_stack(b);
    app.add_stack(a);
    app
}

#[test]
fn a_foreign_value_becomes_an_output_a_remote_state_and_a_dependency() {
    let synth = two_stacks().synth().expect("synth");
    let a = &synth.stacks()["a"];
    let b = &synth.stacks()["b"];
    insta::assert_json_snapshot!("cross_stack_producer_output", a["output"]);
    insta::assert_json_snapshot!(
        "cross_stack_consumer",
        json!({"data": b["data"], "resource": b["resource"], "output": b["output"]})
    );
    let manifest = synth.manifest();
    assert_eq!(manifest["stacks"]["b"]["dependencies"], json!(["a"]));
    assert_eq!(manifest["stacks"]["a"]["dependencies"], json!([]));
    assert_eq!(synth.dependencies_of("b"), ["a".to_owned()]);
}

#[test]
fn output_names_are_deterministic() {
    let first = two_stacks().synth().expect("synth");
    let second = two_stacks().synth().expect("synth");
    assert_eq!(first, second);
    let outputs: Vec<&String> = first.stacks()["a"]["output"]
        .as_object()
        .expect("outputs")
        .keys()
        .collect();
    assert_eq!(outputs, ["cross-stack-output-terraform_datavalueoutput"]);
    assert_eq!(
        callflow_dsl::cross_stack_output_id("terraform_data.value.output"),
        "cross-stack-output-terraform_datavalueoutput"
    );
}

#[test]
fn stacks_without_cross_stack_references_are_untouched() {
    let mut a = Stack::new("a");
    a.resource("value", TerraformData::new("x"));
    let alone = a.synth().expect("synth");
    let mut app = App::new();
    let mut a = Stack::new("a");
    a.resource("value", TerraformData::new("x"));
    app.add_stack(a);
    let mut b = Stack::new("b");
    b.resource("value", TerraformData::new("y"));
    app.add_stack(b);
    let synth = app.synth().expect("synth");
    assert_eq!(synth.stacks()["a"], alone);
    assert!(synth.stacks()["b"].get("data").is_none());
    assert_eq!(synth.manifest()["stacks"]["b"]["dependencies"], json!([]));
}

#[test]
fn a_cycle_between_stacks_is_a_synth_error_naming_both() {
    let mut a = Stack::new("alpha");
    let mut b = Stack::new("beta");
    let in_a = a.resource("x", TerraformData::new("x"));
    let in_b = b.resource("y", TerraformData::new(in_a.output()));
    a.resource("z", TerraformData::new(in_b.output()));
    let mut app = App::new();
    app.add_stack(a);
    app.add_stack(b);
    let errors = app.synth().expect_err("cycle");
    let cycle: Vec<&StackError> = errors
        .iter()
        .flat_map(|e| &e.errors)
        .filter(|e| matches!(e, StackError::StackCycle { .. }))
        .collect();
    assert_eq!(
        cycle,
        [&StackError::StackCycle {
            stacks: vec!["alpha".into(), "beta".into()]
        }]
    );
    assert_eq!(
        cycle[0].to_string(),
        "stacks `alpha` and `beta` reference each other in a cycle (alpha -> beta -> alpha): move the shared values to one stack or a third stack both read"
    );
    assert!(app.render().is_err(), "render refuses the cycle too");
}

#[test]
fn a_reference_to_a_stack_not_in_the_app_is_a_synth_error() {
    let mut outside = Stack::new("outside");
    let value = outside.resource("value", TerraformData::new("x"));
    let mut b = Stack::new("b");
    b.resource("copy", TerraformData::new(value.output()));
    let mut app = App::new();
    app.add_stack(b);
    let errors = app.synth().expect_err("producer missing");
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].to_string(),
        "stack `b` has 1 problem(s):\n  b: uses `terraform_data.value.output` of stack `outside`, which is not in this app: add both stacks to the same App (a value built for another stack and reused here, such as a cache shared by stacks, is read by name with `Tf::by_name`)"
    );
    // Alone, too: a stack cannot synthesize another stack's values.
    let mut c = Stack::new("c");
    c.resource("copy", TerraformData::new(value.output()));
    assert!(c.synth().is_err());
}

#[test]
fn a_value_shared_by_name_is_read_in_the_stack_that_uses_it() {
    // A value built once for stacks that declare the same elements (a cache across stacks).
    let mut first = Stack::new("first");
    let value = first.resource("value", TerraformData::new("x"));
    let shared = Tf::template([value.output(), "/suffix".into()]).by_name();
    let mut second = Stack::new("second");
    second.resource("value", TerraformData::new("y"));
    second.resource("copy", TerraformData::new(shared.clone()));
    first.resource("copy", TerraformData::new(shared));
    let mut app = App::new();
    app.add_stack(first);
    app.add_stack(second);
    let synth = app.synth().expect("synth");
    for stack in ["first", "second"] {
        assert_eq!(
            synth.stacks()[stack]["resource"]["terraform_data"]["copy"]["input"],
            json!("${terraform_data.value.output}/suffix")
        );
        assert!(synth.stacks()[stack].get("data").is_none());
    }
}

#[test]
fn derived_values_keep_their_origin() {
    let mut a = Stack::new("a");
    let value = a.resource("value", TerraformData::new("x"));
    let mut b = Stack::new("b");
    // A value computed from a's reference through the expression API keeps the origin.
    let upper: Tf<String> = match value.output() {
        Tf::Expr(e) => Tf::expr(e.derived(format!("upper({e})"))),
        other => other,
    };
    b.resource("copy", TerraformData::new(upper));
    let mut app = App::new();
    app.add_stack(a);
    app.add_stack(b);
    let synth = app.synth().expect("synth");
    assert_eq!(
        synth.stacks()["b"]["resource"]["terraform_data"]["copy"]["input"],
        json!(
            "${data.terraform_remote_state.cross-stack-reference-input-a.outputs.cross-stack-output-upper_terraform_datavalueoutput_}"
        )
    );
    assert_eq!(
        synth.stacks()["a"]["output"]["cross-stack-output-upper_terraform_datavalueoutput_"]["value"],
        json!("${upper(terraform_data.value.output)}")
    );
}

/// The resource `terraform_data.<name>`'s `input` in a stack's state (`terraform show -json`).
fn state_input(tf: &Terraform, dir: &std::path::Path, name: &str) -> Value {
    let show: Value =
        serde_json::from_str(&tf.ok(dir, &["show", "-json", "-no-color"])).expect("show -json");
    show["values"]["root_module"]["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r["address"] == format!("terraform_data.{name}"))
        .map(|r| r["values"]["input"].clone())
        .unwrap_or(Value::Null)
}

#[test]
fn terraform_applies_the_stacks_in_manifest_order_and_the_consumer_reads_the_producer() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let Some(tf) = Terraform::find(scratch.path()) else {
        return;
    };
    let out = scratch.path().join("cdktf.out");
    two_stacks()
        .synth()
        .expect("synth")
        .write_to(&out)
        .expect("write");

    let manifest = Manifest::load(&out).expect("manifest");
    let order: Vec<&str> = manifest
        .stacks_in_dependency_order()
        .expect("acyclic")
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(order, ["a", "b"]);
    for name in &order {
        let dir = manifest.working_dir(name).expect("stack dir");
        tf.ok(&dir, &["init", "-input=false", "-no-color"]);
        tf.ok(
            &dir,
            &["apply", "-auto-approve", "-input=false", "-no-color"],
        );
    }

    let a = manifest.working_dir("a").expect("a");
    let b = manifest.working_dir("b").expect("b");
    let outputs: Value =
        serde_json::from_str(&tf.ok(&a, &["output", "-json", "-no-color"])).expect("output -json");
    assert_eq!(
        outputs["cross-stack-output-terraform_datavalueoutput"]["value"],
        "hello from a"
    );
    assert_eq!(state_input(&tf, &b, "copy"), json!("hello from a"));
    assert_eq!(
        state_input(&tf, &b, "both"),
        json!("hello from a + b's own")
    );
    assert_eq!(state_input(&tf, &b, "value"), json!("b's own"));
    let copied: Value =
        serde_json::from_str(&tf.ok(&b, &["output", "-json", "-no-color"])).expect("output -json");
    assert_eq!(copied["copied"]["value"], "hello from a");

    // Applying the consumer first fails: the producer's state has no output yet.
    let fresh = scratch.path().join("fresh");
    two_stacks()
        .synth()
        .expect("synth")
        .write_to(&fresh)
        .expect("write");
    let b_first = fresh.join("stacks/b");
    tf.ok(&b_first, &["init", "-input=false", "-no-color"]);
    let out = tf.run(&b_first, &["plan", "-input=false", "-no-color"]);
    assert!(
        !out.status.success(),
        "the consumer cannot plan before the producer is applied"
    );
}
