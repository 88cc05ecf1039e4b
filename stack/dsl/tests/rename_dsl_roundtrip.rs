//! The fix `callflow diff` prints for a rename, applied with the DSL: a stack built with the
//! DSL renames a resource; the diff prints `stack.moved("<old address>", &<handle>);`; the same
//! call added to the stack makes the next diff report the rename as covered by a `moved` block.

use std::collections::BTreeMap;

use callflow_dsl::{Handle, RenameBasis, Stack, SynthDiff, Synthesized};
use callflow_provider_terraform::data::Data;
use serde_json::json;

/// A store and a reader of its output, the store under logical id `store`.
fn stack(store: &str) -> (Stack, Handle<Data>) {
    let mut stack = Stack::new("app");
    let events = stack.resource(
        store,
        Data::new().set_input(json!({"bucket": "callflow-events"})),
    );
    stack.resource("reader", Data::new().set_input(events.output()));
    (stack, events)
}

fn synth(stack: &Stack) -> Synthesized {
    let doc = stack
        .synth()
        .unwrap_or_else(|e| panic!("synth failed: {e}"));
    Synthesized::new(BTreeMap::from([("app".to_owned(), doc)]))
}

#[test]
fn the_printed_moved_call_covers_the_rename() {
    let (old, _) = stack("events_store");
    let old = synth(&old);

    let (renamed, _) = stack("events");
    let diff = SynthDiff::between(&old, &synth(&renamed));
    let renames: Vec<_> = diff.renames().map(|(_, r)| r.clone()).collect();
    assert_eq!(renames.len(), 1, "{:?}", diff.changes);
    let rename = &renames[0];
    assert_eq!(
        (rename.from.as_str(), rename.to.as_str()),
        ("terraform_data.events_store", "terraform_data.events")
    );
    assert_eq!(rename.basis, RenameBasis::EqualBody);
    assert_eq!(rename.dependents, ["terraform_data.reader"]);
    assert_eq!(diff.changes.len(), 1, "the reader follows the rename");
    assert_eq!(
        rename.rust_line(),
        "stack.moved(\"terraform_data.events_store\", &events);"
    );

    // Apply the printed line: `events` is the handle of the renamed resource.
    let (mut fixed, events) = stack("events");
    fixed.moved(rename.from.as_str(), &events);
    let fixed_doc = fixed.synth().expect("synth with moved");
    assert_eq!(
        fixed_doc["moved"],
        json!([{"from": "terraform_data.events_store", "to": "terraform_data.events"}]),
        "the DSL emits the block the diff printed"
    );
    let diff = SynthDiff::between(&old, &synth(&fixed));
    let covered: Vec<_> = diff.renames().map(|(_, r)| r.clone()).collect();
    assert_eq!(covered.len(), 1);
    assert!(covered[0].covered);
    assert_eq!(covered[0].basis, RenameBasis::Declared);
    let human = diff.render_human(false);
    assert!(
        human.contains(
            "~> app/terraform_data.events_store \u{2192} terraform_data.events (declared by a moved block; 1 dependent follows)"
        ),
        "{human}"
    );
    assert!(!human.contains("Keep the state"), "{human}");
}
