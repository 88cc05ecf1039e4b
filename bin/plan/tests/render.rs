//! Rendering of real `terraform show -json` plan documents (../shared/terraform-plans) and of
//! hand-written fixtures that follow Terraform's documented "JSON Output Format".

use std::path::{Path, PathBuf};

use callflow_plan::{Action, PlanDocument, PlanSummary, StatefulKind};

/// The shared reference plans, `../shared/terraform-plans` from the repository root.
fn shared_plans_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/terraform-plans")
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn summarize(path: &Path) -> PlanSummary {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let plan = PlanDocument::from_json(&text)
        .unwrap_or_else(|e| panic!("cannot parse {}: {e}", path.display()));
    PlanSummary::from_document(&plan)
}

/// The summary of a shared plan, or `None` (with a message) when the shared data is absent.
fn shared_summary(name: &str) -> Option<PlanSummary> {
    let path = shared_plans_dir().join(name);
    if !path.exists() {
        eprintln!(
            "SKIPPED: {} is absent; the shared reference plans live in ../shared/terraform-plans",
            path.display()
        );
        return None;
    }
    Some(summarize(&path))
}

fn snapshot_both(name: &str, summary: &PlanSummary) {
    insta::assert_snapshot!(format!("{name}.human"), summary.render_human(false));
    insta::assert_snapshot!(format!("{name}.json"), summary.render_json());
}

#[test]
fn shared_update_in_place() {
    let Some(summary) = shared_summary("update-in-place.plan.json") else {
        return;
    };
    assert_eq!(summary.counts.update, 2);
    assert!(summary.gate(false).is_ok(), "updates are not destructive");
    let foo = &summary.resources[0];
    assert_eq!(foo.address, "aws_security_group_rule.foo");
    let paths: Vec<String> = foo.changes.iter().map(|c| c.path.to_string()).collect();
    assert_eq!(paths, ["security_group_rule_id", "to_port"]);
    snapshot_both("shared_update_in_place", &summary);
}

#[test]
fn shared_replace_create_before_destroy() {
    let Some(summary) = shared_summary("replace-create-before-destroy.plan.json") else {
        return;
    };
    assert_eq!(summary.counts.replace, 1);
    assert_eq!(
        summary.resources[0].action,
        Action::Replace {
            create_before_destroy: true
        }
    );
    assert!(
        summary.gate(false).is_ok(),
        "a secret is not in the stateful list"
    );
    snapshot_both("shared_replace_create_before_destroy", &summary);
}

#[test]
fn shared_delete() {
    let Some(summary) = shared_summary("delete.plan.json") else {
        return;
    };
    assert_eq!(summary.counts.delete, 1);
    assert!(summary.resources[0].changes.is_empty());
    snapshot_both("shared_delete", &summary);
}

#[test]
fn deleting_a_bucket_and_replacing_a_kms_key_is_blocked() {
    let summary = summarize(&fixture("destroy-bucket-replace-kms.plan.json"));
    let c = summary.counts;
    assert_eq!(
        (c.create, c.update, c.replace, c.delete, c.no_op),
        (0, 1, 1, 1, 1)
    );
    let blocked = summary
        .gate(false)
        .expect_err("stateful deletes are blocked");
    let kinds: Vec<(&str, StatefulKind)> = blocked
        .changes
        .iter()
        .map(|c| (c.address.as_str(), c.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("aws_kms_key.events", StatefulKind::KmsKey),
            ("aws_s3_bucket.events", StatefulKind::S3Bucket),
        ]
    );
    assert_eq!(blocked.to_string().lines().count(), 1, "one paragraph");
    assert!(
        summary.gate(true).is_ok(),
        "--allow-destroy lets it through"
    );

    let kms = &summary.resources[0];
    let forced: Vec<String> = kms
        .changes
        .iter()
        .filter(|c| c.forces_replacement)
        .map(|c| c.path.to_string())
        .collect();
    assert_eq!(forced, ["multi_region"]);
    let versioning = &summary.resources[2];
    assert_eq!(versioning.changes.len(), 1);
    assert_eq!(
        versioning.changes[0].path.to_string(),
        "versioning_configuration[0].status"
    );

    let human = summary.render_human(false);
    assert!(human.contains("aws_s3_bucket.events (S3 bucket) will be DELETED"));
    snapshot_both("destroy_bucket_replace_kms", &summary);
}

#[test]
fn colored_output_marks_the_warning() {
    let summary = summarize(&fixture("destroy-bucket-replace-kms.plan.json"));
    let colored = summary.render_human(true);
    assert!(colored.contains("\x1b[1;31mWARNING"));
    assert!(!summary.render_human(false).contains('\x1b'));
}

#[test]
fn a_no_op_plan_has_no_changes() {
    let summary = summarize(&fixture("no-op.plan.json"));
    assert!(!summary.counts.has_changes());
    assert_eq!(summary.counts.no_op, 2);
    assert!(summary.resources.is_empty() && summary.outputs.is_empty());
    assert!(summary.gate(false).is_ok());
    snapshot_both("no_op", &summary);
}

#[test]
fn sensitive_values_never_reach_the_output() {
    let summary = summarize(&fixture("unknown-and-sensitive.plan.json"));
    let human = summary.render_human(false);
    let json = summary.render_json();
    for secret in ["old-signing-key-value", "new-signing-key-value"] {
        assert!(!human.contains(secret), "human output leaks {secret}");
        assert!(!json.contains(secret), "JSON output leaks {secret}");
    }
    assert!(
        human.contains(
            "environment[0].variables.SIGNING_KEY: (sensitive value) -> (sensitive value)"
        )
    );
    assert!(human.contains("arn = (known after apply)"));
    assert!(human.contains("retriever_arn = (known after apply)"));
    snapshot_both("unknown_and_sensitive", &summary);
}

#[test]
fn an_imported_bucket_is_listed_with_its_import_id() {
    // Terraform 1.5+ `import` block adopting an existing bucket: actions ["no-op"] plus
    // `change.importing.id`.
    let plan = PlanDocument::from_json(
        r#"{
      "format_version": "1.2",
      "terraform_version": "1.11.4",
      "resource_changes": [{
        "address": "aws_s3_bucket.events", "mode": "managed", "type": "aws_s3_bucket",
        "name": "events", "provider_name": "registry.terraform.io/hashicorp/aws",
        "change": {
          "actions": ["no-op"],
          "before": {"bucket": "callflow-events", "force_destroy": false},
          "after": {"bucket": "callflow-events", "force_destroy": false},
          "after_unknown": {}, "before_sensitive": {}, "after_sensitive": {},
          "importing": {"id": "callflow-events"}
        }
      }],
      "output_changes": {
        "bucket": {"actions": ["create"], "before": null, "after": "callflow-events",
                   "after_unknown": false, "before_sensitive": false, "after_sensitive": false}
      }
    }"#,
    )
    .expect("valid plan");
    let summary = PlanSummary::from_document(&plan);
    assert_eq!((summary.counts.import, summary.counts.no_op), (1, 0));
    assert!(summary.gate(false).is_ok());
    assert_eq!(
        summary.render_human(false),
        "Plan: 0 to create, 0 to update, 0 to replace, 0 to delete, 1 to import.\n\n\
         \x20   aws_s3_bucket.events  # no-op, import id \"callflow-events\"\n\
         \nOutputs:\n  + bucket = \"callflow-events\"\n"
    );
}
