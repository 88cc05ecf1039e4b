//! Likely renames in a plan: the destroy gate names the rename and its fix (the `moved` block
//! and the DSL line), and the real `terraform` plans a rename without `moved` as delete + create
//! (found as a rename) and with `moved` as a move the gate lets through.
//!
//! Terraform is found through `$TERRAFORM`, else `/usr/local/bin/terraform`, else `PATH`.
//! Without it the terraform tests print `SKIPPED` and pass, unless
//! `CALLFLOW_REQUIRE_TERRAFORM=1`.

use std::path::{Path, PathBuf};
use std::process::Command;

use callflow_dsl::RenameBasis;
use callflow_plan::{
    Action, BinarySource, PlanDocument, PlanOptions, PlanSummary, TerraformCli, likely_renames,
};

/// A plan as `terraform show -json` prints it (format 1.2, hashicorp/aws 6.x attribute names)
/// for a stack whose events bucket was renamed from `events_store` to `events` without a
/// `moved` block: the old bucket is deleted, the new one created, and the versioning resource,
/// whose `bucket` now refers to the new bucket's unknown id, is replaced. Hand-made after
/// Terraform's "JSON Output Format" documentation (no AWS provider is available offline).
const RENAMED_BUCKET_PLAN: &str = r#"{
  "format_version": "1.2",
  "terraform_version": "1.11.4",
  "resource_changes": [
    {
      "address": "aws_s3_bucket.events", "mode": "managed", "type": "aws_s3_bucket",
      "name": "events", "provider_name": "registry.terraform.io/hashicorp/aws",
      "change": {
        "actions": ["create"], "before": null,
        "after": {"bucket": "callflow-events-prod", "force_destroy": false,
                  "region": "eu-west-1", "tags": null, "timeouts": null},
        "after_unknown": {"acceleration_status": true, "acl": true, "arn": true,
                          "bucket_domain_name": true, "bucket_prefix": true,
                          "bucket_regional_domain_name": true, "hosted_zone_id": true,
                          "id": true, "object_lock_enabled": true, "policy": true,
                          "tags_all": true, "versioning": true},
        "before_sensitive": false, "after_sensitive": {}
      }
    },
    {
      "address": "aws_s3_bucket.events_store", "mode": "managed", "type": "aws_s3_bucket",
      "name": "events_store", "provider_name": "registry.terraform.io/hashicorp/aws",
      "action_reason": "delete_because_no_resource_config",
      "change": {
        "actions": ["delete"],
        "before": {"acceleration_status": "", "acl": null,
                   "arn": "arn:aws:s3:::callflow-events-prod",
                   "bucket": "callflow-events-prod",
                   "bucket_domain_name": "callflow-events-prod.s3.amazonaws.com",
                   "bucket_prefix": "", "force_destroy": false,
                   "hosted_zone_id": "Z1BKCTXD74EZPE", "id": "callflow-events-prod",
                   "object_lock_enabled": false, "region": "eu-west-1", "tags": null,
                   "tags_all": {}, "timeouts": null,
                   "versioning": [{"enabled": true, "mfa_delete": false}]},
        "after": null, "after_unknown": {}, "before_sensitive": {}, "after_sensitive": false
      }
    },
    {
      "address": "aws_s3_bucket_versioning.events", "mode": "managed",
      "type": "aws_s3_bucket_versioning", "name": "events",
      "provider_name": "registry.terraform.io/hashicorp/aws",
      "action_reason": "replace_because_cannot_update",
      "change": {
        "actions": ["delete", "create"],
        "before": {"bucket": "callflow-events-prod", "expected_bucket_owner": "",
                   "id": "callflow-events-prod", "mfa": null, "region": "eu-west-1",
                   "versioning_configuration": [{"mfa_delete": "", "status": "Enabled"}]},
        "after": {"expected_bucket_owner": null, "mfa": null, "region": "eu-west-1",
                  "versioning_configuration": [{"status": "Enabled"}]},
        "after_unknown": {"bucket": true, "id": true,
                          "versioning_configuration": [{"mfa_delete": true}]},
        "before_sensitive": {}, "after_sensitive": {},
        "replace_paths": [["bucket"]]
      }
    }
  ]
}"#;

#[test]
fn the_destroy_gate_names_the_rename_and_the_fix() {
    let plan = PlanDocument::from_json(RENAMED_BUCKET_PLAN).expect("valid plan");
    let renames = likely_renames(&plan);
    assert_eq!(renames.len(), 1, "{renames:?}");
    assert_eq!(renames[0].from, "aws_s3_bucket.events_store");
    assert_eq!(renames[0].to, "aws_s3_bucket.events");
    assert_eq!(renames[0].basis, RenameBasis::EqualBody);

    let summary = PlanSummary::from_document(&plan);
    let blocked = summary.gate(false).expect_err("a bucket is deleted");
    assert_eq!(blocked.changes.len(), 2);
    assert_eq!(
        blocked.changes[0].rename.as_ref().map(|r| r.to.as_str()),
        Some("aws_s3_bucket.events")
    );
    assert_eq!(blocked.changes[1].rename, None, "a replace is no rename");
    assert_eq!(
        blocked.to_string(),
        "the plan destroys 2 stateful resource(s): aws_s3_bucket.events_store, aws_s3_bucket_versioning.events; nothing was applied. \
         aws_s3_bucket.events_store looks renamed to aws_s3_bucket.events (same configuration): add the moved block \
         {\"moved\": [{\"from\": \"aws_s3_bucket.events_store\", \"to\": \"aws_s3_bucket.events\"}]} \
         (with the DSL: stack.moved(\"aws_s3_bucket.events_store\", &events);) and plan again. \
         Review the plan and re-run with --allow-destroy if this is intended"
    );
    assert!(summary.gate(true).is_ok());

    let human = summary.render_human(false);
    let fix = "  ! aws_s3_bucket.events_store (S3 bucket) will be DELETED: the bucket and every object stored in it are lost
    likely a rename to aws_s3_bucket.events (same configuration); keep its state with a moved block instead:
      {\"moved\": [{\"from\": \"aws_s3_bucket.events_store\", \"to\": \"aws_s3_bucket.events\"}]}
      stack.moved(\"aws_s3_bucket.events_store\", &events);
";
    assert!(human.contains(fix), "{human}");

    let json: serde_json::Value =
        serde_json::from_str(&summary.render_json()).expect("summary JSON");
    assert_eq!(
        json["destructive"][0]["likely_rename"],
        serde_json::json!({
            "to": "aws_s3_bucket.events",
            "basis": {"kind": "equal_body"},
            "moved": {"from": "aws_s3_bucket.events_store", "to": "aws_s3_bucket.events"},
            "rust": "stack.moved(\"aws_s3_bucket.events_store\", &events);"
        })
    );
    assert!(json["destructive"][1].get("likely_rename").is_none());
}

#[test]
fn an_identity_match_with_another_change_is_still_named() {
    // The renamed bucket also turns on force_destroy: the configuration differs, its name not.
    let text = RENAMED_BUCKET_PLAN.replacen(
        r#""after": {"bucket": "callflow-events-prod", "force_destroy": false"#,
        r#""after": {"bucket": "callflow-events-prod", "force_destroy": true"#,
        1,
    );
    let plan = PlanDocument::from_json(&text).expect("valid plan");
    let renames = likely_renames(&plan);
    assert_eq!(renames.len(), 1);
    assert_eq!(
        renames[0].basis,
        RenameBasis::Identity {
            attributes: vec!["bucket".into()]
        }
    );
    assert_eq!(renames[0].changed, ["force_destroy"]);
    let blocked = PlanSummary::from_document(&plan)
        .gate(false)
        .expect_err("blocked");
    assert!(
        blocked.to_string().contains(
            "aws_s3_bucket.events_store looks renamed to aws_s3_bucket.events (same bucket)"
        ),
        "{blocked}"
    );
}

#[test]
fn a_real_move_of_a_bucket_is_not_destructive() {
    // What terraform plans once the moved block is in: the bucket keeps its object under the
    // new address (`previous_address`), nothing is deleted, the gate lets it through.
    let plan = PlanDocument::from_json(
        r#"{"format_version": "1.2", "resource_changes": [
          {"address": "aws_s3_bucket.events", "previous_address": "aws_s3_bucket.events_store",
           "mode": "managed", "type": "aws_s3_bucket", "name": "events",
           "change": {"actions": ["no-op"],
                      "before": {"bucket": "callflow-events-prod", "id": "callflow-events-prod"},
                      "after": {"bucket": "callflow-events-prod", "id": "callflow-events-prod"},
                      "after_unknown": {}, "before_sensitive": {}, "after_sensitive": {}}}]}"#,
    )
    .expect("valid plan");
    assert!(likely_renames(&plan).is_empty());
    let summary = PlanSummary::from_document(&plan);
    assert!(summary.destructive.is_empty());
    assert_eq!(summary.counts.delete, 0);
    assert!(summary.gate(false).is_ok());
}

/// The terraform CLI with its configuration pointed at a real empty file.
fn terraform(scratch: &Path) -> Option<(TerraformCli, PathBuf)> {
    let binary = std::env::var_os("TERRAFORM")
        .map(PathBuf::from)
        .or_else(|| Some(PathBuf::from("/usr/local/bin/terraform")).filter(|p| p.is_file()))
        .map(|p| TerraformCli::at(p, BinarySource::Explicit))
        .or_else(|| TerraformCli::locate(None).ok());
    let Some(cli) = binary else {
        assert!(
            std::env::var_os("CALLFLOW_REQUIRE_TERRAFORM").is_none(),
            "terraform is required (CALLFLOW_REQUIRE_TERRAFORM is set) but was not found"
        );
        eprintln!("SKIPPED: no terraform binary ($TERRAFORM, /usr/local/bin/terraform, PATH)");
        return None;
    };
    let config = scratch.join("empty.tfrc");
    std::fs::write(&config, "").expect("write empty CLI config");
    Some((cli.env("TF_CLI_CONFIG_FILE", &config), config))
}

/// A stack with a `terraform_data` named `store` and a dependent that refers to it, plus
/// `extra` top-level blocks (e.g. `"moved": [...]`). The store has `prevent_destroy`, like the
/// events bucket: it does not stop a rename, because the old address has no configuration
/// left to carry it (Terraform plans the delete), which is why the gate matters.
fn stack(store: &str, extra: &str) -> String {
    format!(
        r#"{{"resource": {{"terraform_data": {{
              "{store}": {{"input": {{"bucket": "callflow-events", "versioning": true}},
                           "lifecycle": {{"prevent_destroy": true}}}},
              "reader": {{"input": "${{terraform_data.{store}.output.bucket}}"}}}}}}{extra}}}"#
    )
}

#[test]
fn real_terraform_plans_a_rename_as_delete_and_create_and_a_moved_block_as_a_move() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let Some((cli, tfrc)) = terraform(scratch.path()) else {
        return;
    };
    let dir = scratch.path().join("stack");
    std::fs::create_dir_all(&dir).expect("dir");
    let config = dir.join("cdk.tf.json");
    std::fs::write(&config, stack("events_store", "")).expect("write");
    cli.init(&dir, &PlanOptions::default()).expect("init");
    let apply = Command::new(cli.binary())
        .args(["apply", "-auto-approve", "-input=false", "-no-color"])
        .current_dir(&dir)
        .env("TF_CLI_CONFIG_FILE", &tfrc)
        .output()
        .expect("run terraform apply");
    assert!(
        apply.status.success(),
        "{}",
        String::from_utf8_lossy(&apply.stderr)
    );

    // Renamed without a moved block: delete + create, found as one rename.
    std::fs::write(&config, stack("events", "")).expect("write");
    let plan = cli
        .plan_document(&dir, &PlanOptions::default())
        .expect("plan");
    let actions: Vec<(String, Action)> = plan
        .resource_changes
        .iter()
        .map(|rc| (rc.address.clone(), rc.change.action))
        .collect();
    assert!(
        actions.contains(&("terraform_data.events_store".into(), Action::Delete))
            && actions.contains(&("terraform_data.events".into(), Action::Create)),
        "{actions:?}"
    );
    let renames = likely_renames(&plan);
    assert_eq!(renames.len(), 1, "{renames:?}");
    assert_eq!(
        (renames[0].from.as_str(), renames[0].to.as_str()),
        ("terraform_data.events_store", "terraform_data.events")
    );
    assert_eq!(renames[0].basis, RenameBasis::EqualBody);

    // The printed fix, pasted into the stack: terraform moves the object, deletes nothing.
    let fix = renames[0].moved_block_json();
    let moved: serde_json::Value = serde_json::from_str(&fix).expect("the fix is JSON");
    std::fs::write(
        &config,
        stack("events", &format!(", \"moved\": {}", moved["moved"])),
    )
    .expect("write");
    let plan = cli
        .plan_document(&dir, &PlanOptions::default())
        .expect("plan with moved");
    let moved_change = plan
        .resource_changes
        .iter()
        .find(|rc| rc.address == "terraform_data.events")
        .expect("the moved resource");
    assert_eq!(
        moved_change.previous_address.as_deref(),
        Some("terraform_data.events_store")
    );
    assert!(
        plan.resource_changes
            .iter()
            .all(|rc| !rc.change.action.destroys()),
        "{:?}",
        plan.resource_changes
            .iter()
            .map(|rc| (&rc.address, rc.change.action))
            .collect::<Vec<_>>()
    );
    assert!(likely_renames(&plan).is_empty());
    let summary = PlanSummary::from_document(&plan);
    assert_eq!(summary.counts.delete, 0);
    assert!(summary.gate(false).is_ok());
}
