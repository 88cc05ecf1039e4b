//! Rename detection in `SynthDiff`: a resource dropped at one address and added at another of
//! the same type is one rename, its dependents follow it, and the fix is printed.

use std::collections::BTreeMap;

use callflow_dsl::{ChangeKind, RenameBasis, SynthDiff, Synthesized};
use serde_json::{Value, json};

fn synth(doc: Value) -> Synthesized {
    Synthesized::new(BTreeMap::from([("app".to_owned(), doc)]))
}

/// A bucket named `name` (logical id) with a versioning resource, a policy and an output that
/// refer to it, and a queue that does not.
fn bucket_stack(name: &str, status: &str) -> Value {
    json!({
        "resource": {
            "aws_s3_bucket": {name: {"bucket": "callflow-events", "lifecycle": {"prevent_destroy": true}}},
            "aws_s3_bucket_versioning": {"events": {
                "bucket": format!("${{aws_s3_bucket.{name}.id}}"),
                "versioning_configuration": {"status": status}}},
            "aws_s3_bucket_policy": {"events": {
                "bucket": format!("${{aws_s3_bucket.{name}.id}}"),
                "policy": format!("{{\"Resource\": \"${{aws_s3_bucket.{name}.arn}}/*\"}}"),
                "depends_on": [format!("aws_s3_bucket.{name}")]}},
            "aws_sqs_queue": {"dlq": {"name": "dlq"}}
        },
        "output": {"bucket_arn": {"value": format!("${{aws_s3_bucket.{name}.arn}}")}}
    })
}

fn kinds(diff: &SynthDiff) -> Vec<(String, ChangeKind)> {
    diff.changes
        .iter()
        .map(|c| (c.address.clone(), c.change.clone()))
        .collect()
}

#[test]
fn a_rename_with_dependents_is_one_rename_and_the_dependents_follow() {
    let old = synth(bucket_stack("events_store", "Enabled"));
    let new = synth(bucket_stack("events", "Enabled"));
    let diff = SynthDiff::between(&old, &new);
    assert_eq!(
        kinds(&diff),
        [("aws_s3_bucket.events".to_owned(), ChangeKind::Renamed)]
    );
    let change = &diff.changes[0];
    let rename = change.rename.as_ref().expect("rename");
    assert_eq!(rename.from, "aws_s3_bucket.events_store");
    assert_eq!(rename.to, "aws_s3_bucket.events");
    assert_eq!(rename.basis, RenameBasis::EqualBody);
    assert!(!rename.covered);
    assert!(rename.changed.is_empty() && change.paths.is_empty());
    assert_eq!(
        rename.dependents,
        [
            "aws_s3_bucket_policy.events",
            "aws_s3_bucket_versioning.events",
            "output.bucket_arn"
        ]
    );
    assert_eq!(
        diff.render_human(false),
        "1 renamed, 0 added, 0 changed, 0 removed
~> app/aws_s3_bucket.events_store \u{2192} aws_s3_bucket.events (same body once references are renamed; 3 dependents follow)

Stack app: without a moved block terraform destroys aws_s3_bucket.events_store and creates aws_s3_bucket.events (a bucket loses its objects).
Keep the state: add to the stack's Terraform JSON
  {\"moved\": [{\"from\": \"aws_s3_bucket.events_store\", \"to\": \"aws_s3_bucket.events\"}]}
or declare it in the stack (each handle is what stack.resource(\"<name>\", ...) returned):
  stack.moved(\"aws_s3_bucket.events_store\", &events);
"
    );
    let json: Value = serde_json::from_str(&diff.render_json()).expect("JSON");
    assert_eq!(
        json,
        json!({"changed": true, "changes": [{
            "stack": "app",
            "address": "aws_s3_bucket.events",
            "change": "renamed",
            "from": "aws_s3_bucket.events_store",
            "to": "aws_s3_bucket.events",
            "type": "aws_s3_bucket",
            "basis": {"kind": "equal_body"},
            "covered": false,
            "dependents": ["aws_s3_bucket_policy.events", "aws_s3_bucket_versioning.events",
                           "output.bucket_arn"],
            "moved": {"from": "aws_s3_bucket.events_store", "to": "aws_s3_bucket.events"},
            "rust": "stack.moved(\"aws_s3_bucket.events_store\", &events);"
        }]})
    );
}

#[test]
fn existing_kinds_keep_their_json_shape() {
    let mut old = bucket_stack("events", "Enabled");
    let new = bucket_stack("events", "Suspended");
    old["resource"]["aws_sqs_queue"]["gone"] = json!({"name": "gone"});
    let diff = SynthDiff::between(&synth(old), &synth(new));
    let json: Value = serde_json::from_str(&diff.render_json()).expect("JSON");
    assert_eq!(
        json,
        json!({"changed": true, "changes": [
            {"stack": "app", "address": "aws_s3_bucket_versioning.events", "change": "changed",
             "paths": ["versioning_configuration.status"]},
            {"stack": "app", "address": "aws_sqs_queue.gone", "change": "removed"}
        ]})
    );
}

#[test]
fn two_renames_of_one_type_pair_by_body() {
    let stack = |a: &str, b: &str| {
        json!({"resource": {
            "aws_s3_bucket": {a: {"bucket": "alpha"}, b: {"bucket": "beta"}},
            "aws_s3_bucket_versioning": {
                "alpha": {"bucket": format!("${{aws_s3_bucket.{a}.id}}")},
                "beta": {"bucket": format!("${{aws_s3_bucket.{b}.id}}")}}
        }})
    };
    let diff = SynthDiff::between(
        &synth(stack("old_a", "old_b")),
        &synth(stack("new_b", "new_a")),
    );
    // `new_b` has the body of `old_a` (bucket "alpha") and `new_a` that of `old_b`: the pairing
    // follows the bodies, not the names.
    let pairs: Vec<(&str, &str, bool)> = diff
        .renames()
        .map(|(_, r)| (r.from.as_str(), r.to.as_str(), r.ambiguous_with.is_empty()))
        .collect();
    assert_eq!(
        pairs,
        [
            ("aws_s3_bucket.old_b", "aws_s3_bucket.new_a", true),
            ("aws_s3_bucket.old_a", "aws_s3_bucket.new_b", true),
        ]
    );
    assert_eq!(diff.changes.len(), 2, "{:?}", kinds(&diff));
    let block =
        callflow_dsl::moved_block_json(&diff.renames().map(|(_, r)| r.clone()).collect::<Vec<_>>());
    assert_eq!(
        block,
        r#"{"moved": [{"from": "aws_s3_bucket.old_b", "to": "aws_s3_bucket.new_a"}, {"from": "aws_s3_bucket.old_a", "to": "aws_s3_bucket.new_b"}]}"#
    );
}

#[test]
fn a_dependent_with_a_real_change_shows_only_the_real_change() {
    let old = synth(bucket_stack("events_store", "Enabled"));
    let new = synth(bucket_stack("events", "Suspended"));
    let diff = SynthDiff::between(&old, &new);
    assert_eq!(
        kinds(&diff),
        [
            ("aws_s3_bucket.events".to_owned(), ChangeKind::Renamed),
            (
                "aws_s3_bucket_versioning.events".to_owned(),
                ChangeKind::Changed
            ),
        ]
    );
    let versioning = &diff.changes[1];
    assert_eq!(versioning.paths, ["versioning_configuration.status"]);
    let rename = diff.changes[0].rename.as_ref().expect("rename");
    // It still refers to the renamed bucket: it is counted among those that follow.
    assert!(
        rename
            .dependents
            .contains(&"aws_s3_bucket_versioning.events".to_owned())
    );
    let human = diff.render_human(false);
    assert!(
        human.contains("~ app/aws_s3_bucket_versioning.events (versioning_configuration.status)"),
        "{human}"
    );
    // The unified diff shows the real change, not the renamed reference.
    assert!(human.contains("-    \"status\": \"Enabled\""), "{human}");
    assert!(
        !human.contains("-  \"bucket\": \"${aws_s3_bucket.events_store.id}\""),
        "{human}"
    );
}

#[test]
fn an_add_and_a_remove_of_different_types_are_no_rename() {
    let old = synth(json!({"resource": {"aws_sqs_queue": {"jobs": {"name": "jobs"}}}}));
    let new = synth(json!({"resource": {"aws_sns_topic": {"jobs": {"name": "jobs"}}}}));
    let diff = SynthDiff::between(&old, &new);
    assert_eq!(
        kinds(&diff),
        [
            ("aws_sns_topic.jobs".to_owned(), ChangeKind::Added),
            ("aws_sqs_queue.jobs".to_owned(), ChangeKind::Removed),
        ]
    );
    assert_eq!(diff.renames().count(), 0);
    let human = diff.render_human(false);
    assert!(
        !human.contains("~>") && !human.contains("\"moved\""),
        "{human}"
    );
}

#[test]
fn identity_arguments_pair_a_rename_whose_body_also_changed() {
    let old = synth(json!({"resource": {
        "aws_s3_bucket": {"events_store": {"bucket": "callflow-events", "force_destroy": false}},
        "aws_s3_bucket_versioning": {"events": {"bucket": "${aws_s3_bucket.events_store.id}"}},
        "aws_lambda_function": {"api": {"function_name": "api", "memory_size": 128}}
    }}));
    let new = synth(json!({"resource": {
        "aws_s3_bucket": {"events": {"bucket": "callflow-events", "force_destroy": true}},
        "aws_s3_bucket_versioning": {"events": {"bucket": "${aws_s3_bucket.events.id}"}},
        "aws_lambda_function": {"api_v2": {"function_name": "api", "memory_size": 256}}
    }}));
    let diff = SynthDiff::between(&old, &new);
    let renames: Vec<_> = diff.renames().map(|(_, r)| r.clone()).collect();
    assert_eq!(renames.len(), 2, "{:?}", kinds(&diff));
    let function = &renames[0];
    assert_eq!(
        (function.from.as_str(), function.to.as_str()),
        ("aws_lambda_function.api", "aws_lambda_function.api_v2")
    );
    assert_eq!(
        function.basis,
        RenameBasis::Identity {
            attributes: vec!["function_name".into()]
        }
    );
    assert_eq!(function.changed, ["memory_size"]);
    assert_eq!(
        function.rust_line(),
        "stack.moved(\"aws_lambda_function.api\", &api_v2);"
    );
    let bucket = &renames[1];
    assert_eq!(
        bucket.basis,
        RenameBasis::Identity {
            attributes: vec!["bucket".into()]
        }
    );
    assert_eq!(bucket.changed, ["force_destroy"]);
    assert_eq!(bucket.dependents, ["aws_s3_bucket_versioning.events"]);
    // Only the two renames: the versioning resource follows its bucket.
    assert_eq!(diff.changes.len(), 2, "{:?}", kinds(&diff));
    let human = diff.render_human(false);
    assert!(
        human.contains(
            "~> app/aws_s3_bucket.events_store \u{2192} aws_s3_bucket.events (same bucket; also changed: force_destroy; 1 dependent follows)"
        ),
        "{human}"
    );
    assert!(
        human.contains("--- a/app/aws_s3_bucket.events_store\n+++ b/app/aws_s3_bucket.events"),
        "{human}"
    );
}

#[test]
fn a_rename_chain_resolves_to_a_fixpoint() {
    // Both the bucket and its versioning resource are renamed; the versioning body only
    // matches once the bucket rename is known, and the policy refers to both.
    let stack = |b: &str, v: &str| {
        json!({"resource": {
            "aws_kms_key": {b: {"description": "events"}},
            "aws_s3_bucket_server_side_encryption_configuration": {v: {
                "bucket": "callflow-events",
                "rule": [{"apply_server_side_encryption_by_default": {
                    "kms_master_key_id": format!("${{aws_kms_key.{b}.arn}}")}}]}},
            "terraform_data": {"marker": {"input": format!(
                "${{aws_kms_key.{b}.id}} ${{aws_s3_bucket_server_side_encryption_configuration.{v}.id}}")}}
        }})
    };
    let diff = SynthDiff::between(&synth(stack("k1", "e1")), &synth(stack("k2", "e2")));
    let pairs: Vec<(&str, &str)> = diff
        .renames()
        .map(|(_, r)| (r.from.as_str(), r.to.as_str()))
        .collect();
    assert_eq!(
        pairs,
        [
            ("aws_kms_key.k1", "aws_kms_key.k2"),
            (
                "aws_s3_bucket_server_side_encryption_configuration.e1",
                "aws_s3_bucket_server_side_encryption_configuration.e2"
            ),
        ]
    );
    assert_eq!(diff.changes.len(), 2, "{:?}", kinds(&diff));
    assert!(
        diff.renames()
            .all(|(_, r)| r.dependents.contains(&"terraform_data.marker".to_owned()))
    );
}

#[test]
fn a_moved_block_in_the_new_synth_covers_the_rename() {
    let old = synth(bucket_stack("events_store", "Enabled"));
    let mut new = bucket_stack("events", "Enabled");
    new["moved"] = json!([{"from": "aws_s3_bucket.events_store", "to": "aws_s3_bucket.events"}]);
    let diff = SynthDiff::between(&old, &synth(new));
    let rename = diff.renames().next().expect("rename").1.clone();
    assert!(rename.covered);
    assert_eq!(rename.basis, RenameBasis::Declared);
    let human = diff.render_human(false);
    assert!(
        human.contains("(declared by a moved block; 3 dependents follow)"),
        "{human}"
    );
    assert!(!human.contains("Keep the state"), "{human}");
    // The moved block itself is a new element of the synth.
    assert!(human.contains("+ app/moved"), "{human}");
}

#[test]
fn equal_candidates_are_paired_in_order_and_called_ambiguous() {
    let old = synth(json!({"resource": {"terraform_data": {
        "a": {"input": "same"}, "b": {"input": "same"}}}}));
    let new = synth(json!({"resource": {"terraform_data": {
        "c": {"input": "same"}, "d": {"input": "same"}}}}));
    let diff = SynthDiff::between(&old, &new);
    let renames: Vec<_> = diff.renames().map(|(_, r)| r.clone()).collect();
    assert_eq!(renames.len(), 2);
    assert_eq!(
        (renames[0].from.as_str(), renames[0].to.as_str()),
        ("terraform_data.a", "terraform_data.c")
    );
    assert_eq!(
        renames[0].ambiguous_with,
        ["terraform_data.b", "terraform_data.d"]
    );
    let human = diff.render_human(false);
    assert!(
        human.contains(
            "ambiguous: terraform_data.c and terraform_data.b, terraform_data.d match equally well"
        ),
        "{human}"
    );
}

#[test]
fn a_type_without_identity_needs_an_equal_body() {
    // Two KMS keys with different descriptions: nothing says they are the same key.
    let old = synth(json!({"resource": {"aws_kms_key": {"a": {"description": "one"}}}}));
    let new = synth(json!({"resource": {"aws_kms_key": {"b": {"description": "two"}}}}));
    let diff = SynthDiff::between(&old, &new);
    assert_eq!(diff.renames().count(), 0);
    assert_eq!(diff.changes.len(), 2);
}

#[test]
fn hundreds_of_identity_renames_pair_in_one_pass() {
    // 300 queues renamed and changed (so only their `name` pairs them), each with a dependent
    // policy. The search must not go quadratic per rename (it once took minutes here).
    let stack = |prefix: &str, delay: i64| {
        let mut queues = serde_json::Map::new();
        let mut policies = serde_json::Map::new();
        for i in 0..300 {
            queues.insert(
                format!("{prefix}{i}"),
                json!({"name": format!("queue-{i}"), "delay_seconds": delay}),
            );
            policies.insert(
                format!("p{i}"),
                json!({"queue_url": format!("${{aws_sqs_queue.{prefix}{i}.id}}")}),
            );
        }
        json!({"resource": {"aws_sqs_queue": queues, "aws_sqs_queue_policy": policies}})
    };
    let started = std::time::Instant::now();
    let diff = SynthDiff::between(&synth(stack("old", 1)), &synth(stack("new", 2)));
    let elapsed = started.elapsed();
    assert_eq!(diff.changes.len(), 300, "only the renames");
    for (_, rename) in diff.renames() {
        let i = rename.from.trim_start_matches("aws_sqs_queue.old");
        assert_eq!(rename.to, format!("aws_sqs_queue.new{i}"));
        assert_eq!(rename.changed, ["delay_seconds"]);
        assert_eq!(rename.dependents, [format!("aws_sqs_queue_policy.p{i}")]);
        assert!(rename.ambiguous_with.is_empty());
    }
    assert!(elapsed.as_secs() < 20, "took {elapsed:?}");
}
