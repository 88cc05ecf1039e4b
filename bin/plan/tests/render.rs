//! Rendering of real `terraform show -json` plan documents (`tests/fixtures/plans`, made by
//! `tests/fixtures/regenerate.sh` with terraform 1.11.4 on `terraform_data`) and of
//! hand-written fixtures that follow Terraform's documented "JSON Output Format".

use std::path::{Path, PathBuf};

use callflow_plan::markdown::MAX_MARKDOWN_CHARS;
use callflow_plan::{Action, PlanDocument, PlanSummary, StatefulKind};

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

/// The summary of a real plan made by `tests/fixtures/regenerate.sh`.
fn real(name: &str) -> PlanSummary {
    let summary = summarize(&fixture(&format!("plans/{name}.plan.json")));
    assert_eq!(summary.terraform_version.as_deref(), Some("1.11.4"));
    summary
}

fn snapshot_both(name: &str, summary: &PlanSummary) {
    insta::assert_snapshot!(format!("{name}.human"), summary.render_human(false));
    insta::assert_snapshot!(format!("{name}.json"), summary.render_json());
}

fn snapshot_text(name: &str, summary: &PlanSummary) {
    insta::assert_snapshot!(format!("{name}.human"), summary.render_human(false));
    insta::assert_snapshot!(format!("{name}.md"), summary.render_markdown());
}

fn paths(summary: &PlanSummary, index: usize) -> Vec<String> {
    summary.resources[index]
        .changes
        .iter()
        .map(|c| format!("{}{}", c.path, if c.forces_replacement { "!" } else { "" }))
        .collect()
}

#[test]
fn real_create() {
    let summary = real("create");
    assert_eq!(summary.counts.create, 1);
    assert_eq!(summary.resources[0].action, Action::Create);
    assert_eq!(paths(&summary, 0), ["id", "input", "output"]);
    assert!(summary.gate(false).is_ok());
    snapshot_text("real_create", &summary);
}

#[test]
fn real_update_in_place() {
    let summary = real("update");
    assert_eq!(summary.counts.update, 1);
    let change = &summary.resources[0].changes;
    let shown: Vec<String> = change
        .iter()
        .map(|c| format!("{}: {} -> {}", c.path, c.before, c.after))
        .collect();
    assert_eq!(
        shown,
        [
            "input: \"one\" -> \"two\"",
            "output: \"one\" -> (known after apply)"
        ]
    );
    snapshot_text("real_update", &summary);
}

#[test]
fn real_replace_destroy_before_create() {
    let summary = real("replace-destroy-before-create");
    assert_eq!(summary.counts.replace, 1);
    let line = &summary.resources[0];
    assert_eq!(
        line.action,
        Action::Replace {
            create_before_destroy: false
        }
    );
    assert_eq!(
        line.action_reason.as_deref(),
        Some("replace_because_cannot_update")
    );
    assert!(paths(&summary, 0).contains(&"triggers_replace!".to_owned()));
    let markdown = summary.render_markdown();
    assert!(
        markdown.contains(
            "destroy before create; cannot be updated in place; forced by triggers_replace"
        )
    );
    snapshot_text("real_replace_destroy_before_create", &summary);
}

#[test]
fn real_replace_create_before_destroy() {
    let summary = real("replace-create-before-destroy");
    assert_eq!(
        summary.resources[0].action,
        Action::Replace {
            create_before_destroy: true
        }
    );
    assert!(summary.render_markdown().contains("create before destroy"));
    snapshot_text("real_replace_create_before_destroy", &summary);
}

#[test]
fn real_delete() {
    let summary = real("delete");
    assert_eq!(summary.counts.delete, 1);
    assert!(summary.resources[0].changes.is_empty());
    assert!(
        summary.gate(false).is_ok(),
        "terraform_data holds no state worth keeping"
    );
    snapshot_text("real_delete", &summary);
}

#[test]
fn real_move() {
    let summary = real("move");
    assert_eq!((summary.counts.moved, summary.counts.no_op), (1, 0));
    let line = &summary.resources[0];
    assert_eq!(line.previous_address.as_deref(), Some("terraform_data.a"));
    assert_eq!(line.action, Action::NoOp);
    assert!(summary.render_markdown().contains("#### Move (1)"));
    snapshot_text("real_move", &summary);
}

#[test]
fn real_import() {
    let summary = real("import");
    assert_eq!(summary.counts.import, 1);
    assert_eq!(
        summary.resources[0].importing.as_deref(),
        Some("imported-0001")
    );
    assert!(summary.render_markdown().contains("#### Import (1)"));
    snapshot_text("real_import", &summary);
}

#[test]
fn real_forget() {
    let summary = real("forget");
    assert_eq!(summary.counts.forget, 1);
    assert_eq!(summary.resources[0].action, Action::Forget);
    assert!(summary.gate(false).is_ok(), "a forget destroys nothing");
    snapshot_text("real_forget", &summary);
}

#[test]
fn real_no_op() {
    let summary = real("no-op");
    assert!(!summary.counts.has_changes());
    assert_eq!(summary.counts.no_op, 1);
    assert_eq!(
        summary.render_markdown(),
        "### Terraform plan: no changes\n\nThe infrastructure matches the configuration.\n"
    );
    snapshot_text("real_no_op", &summary);
}

#[test]
fn real_drift_is_its_own_section_in_every_format() {
    let summary = real("drift-refresh-only");
    assert!(summary.resources.is_empty());
    assert_eq!(summary.drift.len(), 1);
    assert_eq!(summary.drift[0].address, "terraform_data.b");
    assert_eq!(
        summary.drift[0].previous_address.as_deref(),
        Some("terraform_data.a")
    );
    assert!(
        summary
            .render_human(false)
            .starts_with("Changed outside Terraform since the last apply (1):")
    );
    assert!(
        summary
            .render_markdown()
            .contains("#### Changed outside Terraform (1)")
    );
    let json: serde_json::Value = serde_json::from_str(&summary.render_json()).expect("json");
    assert_eq!(json["drift"][0]["previous_address"], "terraform_data.a");
    snapshot_text("real_drift", &summary);
    insta::assert_snapshot!("real_drift.json", summary.render_json());
}

#[test]
fn real_plan_with_every_action() {
    let summary = real("all-actions");
    let c = summary.counts;
    assert_eq!(
        (
            c.create, c.update, c.replace, c.delete, c.import, c.moved, c.forget, c.no_op
        ),
        (1, 2, 2, 1, 1, 1, 1, 1)
    );
    let markdown = summary.render_markdown();
    let human = summary.render_human(false);
    let json = summary.render_json();
    // `input.key` comes from a sensitive variable and is marked sensitive on both sides.
    for (format, text) in [("markdown", &markdown), ("human", &human), ("json", &json)] {
        assert!(
            !text.contains("new-signing-key"),
            "{format} output leaks the new key"
        );
    }
    assert!(markdown.contains("| `input.key` | (sensitive value) | (sensitive value) |"));
    // Terraform 1.11.4 does not mark the prior `output` of terraform_data (an echo of `input`)
    // sensitive in `before_sensitive`, so the old value is shown there and only there, as
    // terraform's own plan output shows it.
    let leaking: Vec<&str> = markdown
        .lines()
        .filter(|l| l.contains("old-signing-key"))
        .collect();
    assert_eq!(leaking.len(), 1, "{leaking:?}");
    assert!(leaking[0].starts_with("| `output` |"), "{leaking:?}");
    let headings: Vec<&str> = markdown
        .lines()
        .filter(|l| l.starts_with("#### "))
        .collect();
    assert_eq!(
        headings,
        [
            "#### Delete (1)",
            "#### Replace (2)",
            "#### Create (1)",
            "#### Update (1)",
            "#### Import (1)",
            "#### Move (1)",
            "#### Forget (removed from state, not destroyed) (1)",
            "#### Outputs (2)",
        ]
    );
    assert_eq!(markdown, summary.render_markdown(), "stable output");
    snapshot_text("real_all_actions", &summary);
    insta::assert_snapshot!("real_all_actions.json", json);
}

#[test]
fn markdown_of_a_huge_plan_is_truncated_with_a_count() {
    let mut changes = Vec::new();
    for i in 0..3000 {
        changes.push(serde_json::json!({
            "address": format!("terraform_data.r{i:04}"), "mode": "managed",
            "type": "terraform_data", "name": format!("r{i:04}"),
            "provider_name": "terraform.io/builtin/terraform",
            "change": {"actions": ["update"],
                       "before": {"input": format!("old value {i} {}", "x".repeat(60))},
                       "after": {"input": format!("new value {i} {}", "y".repeat(60))},
                       "after_unknown": {}, "before_sensitive": {}, "after_sensitive": {}}
        }));
    }
    let text = serde_json::json!({"format_version": "1.2", "terraform_version": "1.11.4",
        "resource_changes": changes})
    .to_string();
    let summary = PlanSummary::from_document(&PlanDocument::from_json(&text).expect("valid plan"));
    let markdown = summary.render_markdown();
    assert!(
        markdown.chars().count() <= MAX_MARKDOWN_CHARS,
        "{} chars",
        markdown.chars().count()
    );
    let shown = markdown.matches("<details>").count();
    let note = format!("_… {} more resource change(s) not shown", 3000 - shown);
    assert!(markdown.contains(&note), "missing {note:?}");
    assert!(shown > 50, "only {shown} shown");
    assert!(markdown.starts_with("### Terraform plan: 0 to create, 3000 to update"));
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

#[test]
fn drift_of_values_and_deletions_from_a_hand_made_plan() {
    // terraform_data cannot drift offline (its refresh returns the stored object), so value
    // drift is checked on a document in the documented shape: a bucket's versioning suspended
    // and a log group deleted outside Terraform.
    let plan = PlanDocument::from_json(
        r#"{
      "format_version": "1.2", "terraform_version": "1.11.4",
      "resource_drift": [
        {"address": "aws_s3_bucket_versioning.events", "mode": "managed",
         "type": "aws_s3_bucket_versioning", "name": "events",
         "provider_name": "registry.terraform.io/hashicorp/aws",
         "change": {"actions": ["update"],
           "before": {"bucket": "callflow-events", "versioning_configuration": [{"status": "Enabled", "mfa_delete": ""}]},
           "after": {"bucket": "callflow-events", "versioning_configuration": [{"status": "Suspended", "mfa_delete": ""}]},
           "after_unknown": {}, "before_sensitive": {}, "after_sensitive": {}}},
        {"address": "aws_cloudwatch_log_group.authorizer", "mode": "managed",
         "type": "aws_cloudwatch_log_group", "name": "authorizer",
         "provider_name": "registry.terraform.io/hashicorp/aws",
         "change": {"actions": ["delete"], "before": {"name": "/aws/lambda/callflow-prod-authorizer"},
           "after": null, "after_unknown": {}, "before_sensitive": {}, "after_sensitive": false}}
      ],
      "resource_changes": [
        {"address": "aws_s3_bucket_versioning.events", "mode": "managed",
         "type": "aws_s3_bucket_versioning", "name": "events",
         "provider_name": "registry.terraform.io/hashicorp/aws",
         "change": {"actions": ["update"],
           "before": {"bucket": "callflow-events", "versioning_configuration": [{"status": "Suspended", "mfa_delete": ""}]},
           "after": {"bucket": "callflow-events", "versioning_configuration": [{"status": "Enabled", "mfa_delete": ""}]},
           "after_unknown": {"versioning_configuration": [{}]}, "before_sensitive": {}, "after_sensitive": {}}}
      ]
    }"#,
    )
    .expect("valid plan");
    let summary = PlanSummary::from_document(&plan);
    assert_eq!(summary.drift.len(), 2);
    assert_eq!(summary.drift[0].action, Action::Update);
    assert_eq!(
        summary.drift[0].changes[0].path.to_string(),
        "versioning_configuration[0].status"
    );
    let human = summary.render_human(false);
    assert!(human.starts_with("Changed outside Terraform since the last apply (2):\n"));
    let markdown = summary.render_markdown();
    assert!(markdown.contains("2 object(s) changed outside Terraform"));
    assert!(
        markdown.contains("- `aws_cloudwatch_log_group.authorizer` — deleted outside Terraform")
    );
    let drift = markdown
        .find("#### Changed outside Terraform (2)")
        .expect("drift section");
    let update = markdown.find("#### Update (1)").expect("update section");
    assert!(drift < update, "drift comes before the planned changes");
    insta::assert_snapshot!("hand_made_drift.md", markdown);
}
