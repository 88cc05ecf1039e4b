//! `callflow diff --against` a copy of the committed `cdktf.out` in which the events bucket is
//! called `events_store`: the real binary reports one rename, folds the 14 elements whose only
//! change is the bucket reference into it, and prints the `moved` block and the DSL line.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn callflow(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_callflow"))
        .args(args)
        .current_dir(repo_root())
        .env_remove("NO_COLOR")
        .output()
        .expect("run callflow")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Copies the committed `cdktf.out` into `dir` with `aws_s3_bucket.events` renamed to
/// `aws_s3_bucket.events_store`: the key in the JSON and every `${aws_s3_bucket.events.`
/// reference. Returns how many references were renamed.
fn renamed_copy(dir: &Path) -> usize {
    let committed = repo_root().join("cdktf.out");
    std::fs::copy(committed.join("manifest.json"), dir.join("manifest.json")).expect("manifest");
    let stack_dir = dir.join("stacks/callflow");
    std::fs::create_dir_all(&stack_dir).expect("stack dir");
    let source = std::fs::read_to_string(committed.join("stacks/callflow/cdk.tf.json"))
        .expect("committed stack");
    let mut doc: serde_json::Value = serde_json::from_str(&source).expect("JSON");
    let buckets = doc["resource"]["aws_s3_bucket"]
        .as_object_mut()
        .expect("aws_s3_bucket resources");
    let bucket = buckets.remove("events").expect("aws_s3_bucket.events");
    buckets.insert("events_store".to_owned(), bucket);
    let text = serde_json::to_string_pretty(&doc).expect("serialize");
    let references = text.matches("${aws_s3_bucket.events.").count();
    let text = text.replace("${aws_s3_bucket.events.", "${aws_s3_bucket.events_store.");
    std::fs::write(stack_dir.join("cdk.tf.json"), text).expect("write copy");
    references
}

#[test]
fn a_renamed_bucket_is_one_rename_with_the_moved_block_and_the_rust_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let references = renamed_copy(dir.path());
    assert!(references >= 14, "the copy renames {references} references");
    let against = dir.path().to_string_lossy().into_owned();

    let out = callflow(&["diff", "--against", &against, "--color", "never"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let human = text(&out.stdout);
    eprintln!("{human}");
    assert_eq!(
        human,
        "1 renamed, 0 added, 0 changed, 0 removed
~> callflow/aws_s3_bucket.events_store \u{2192} aws_s3_bucket.events (same body once references are renamed; 14 dependents follow)

Stack callflow: without a moved block terraform destroys aws_s3_bucket.events_store and creates aws_s3_bucket.events (a bucket loses its objects).
Keep the state: add to the stack's Terraform JSON
  {\"moved\": [{\"from\": \"aws_s3_bucket.events_store\", \"to\": \"aws_s3_bucket.events\"}]}
or declare it in the stack (each handle is what stack.resource(\"<name>\", ...) returned):
  stack.moved(\"aws_s3_bucket.events_store\", &events);
"
    );

    let out = callflow(&["diff", "--against", &against, "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    eprintln!("{}", text(&out.stdout));
    assert_eq!(json["changed"], true);
    let changes = json["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 1, "only the rename: {changes:#?}");
    let rename = &changes[0];
    assert_eq!(rename["change"], "renamed");
    assert_eq!(rename["from"], "aws_s3_bucket.events_store");
    assert_eq!(rename["to"], "aws_s3_bucket.events");
    assert_eq!(rename["address"], "aws_s3_bucket.events");
    assert_eq!(rename["covered"], false);
    assert_eq!(
        rename["moved"],
        serde_json::json!({"from": "aws_s3_bucket.events_store", "to": "aws_s3_bucket.events"})
    );
    assert_eq!(
        rename["rust"],
        "stack.moved(\"aws_s3_bucket.events_store\", &events);"
    );
    let dependents: Vec<&str> = rename["dependents"]
        .as_array()
        .expect("dependents")
        .iter()
        .filter_map(serde_json::Value::as_str)
        .collect();
    assert_eq!(dependents.len(), 14, "{dependents:?}");
    for expected in [
        "aws_s3_bucket_versioning.events",
        "aws_s3_bucket_policy.events",
        "aws_lambda_function.event_storer",
        "aws_iam_role_policy.event_storer_write",
        "output.bucket_name",
    ] {
        assert!(
            dependents.contains(&expected),
            "{expected} in {dependents:?}"
        );
    }

    // A rename is a difference: --exit-code says so.
    let out = callflow(&["diff", "--against", &against, "--exit-code"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
}
