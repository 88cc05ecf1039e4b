//! The security analysis of `callflow diff` on two synths of the Callflow stack: the committed
//! `cdktf.out` and a copy in which a test widens one role's actions (or only reorders them).

use std::collections::BTreeMap;
use std::path::Path;

use callflow_dsl::{SynthDiff, Synthesized};
use callflow_plan::{Direction, GatePolicy, SecurityAspect, SynthReview};
use serde_json::Value;

fn committed() -> Synthesized {
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../cdktf.out");
    Synthesized::read_from(&out).expect("committed cdktf.out")
}

/// The committed synth with the `policy` of `aws_iam_role_policy.<name>` rewritten by `edit`
/// (on the parsed policy document).
fn with_policy(name: &str, edit: impl FnOnce(&mut Value)) -> Synthesized {
    let base = committed();
    let mut stacks: BTreeMap<String, Value> = base.stacks().clone();
    let stack = stacks.get_mut("callflow").expect("callflow stack");
    let element = &mut stack["resource"]["aws_iam_role_policy"][name];
    let text = element["policy"]
        .as_str()
        .expect("policy string")
        .to_owned();
    let mut policy: Value = serde_json::from_str(&text).expect("policy JSON");
    edit(&mut policy);
    element["policy"] = Value::String(policy.to_string());
    Synthesized::new(stacks)
}

#[test]
fn a_widened_role_is_the_one_broadening_change() {
    let widened = with_policy("event_storer_write", |policy| {
        policy["Statement"][0]["Action"] = serde_json::json!(["s3:PutObject", "s3:DeleteObject"]);
    });
    let review = SynthReview::new(SynthDiff::between(&committed(), &widened));
    assert_eq!(review.diff.changes.len(), 1);
    let broadening: Vec<_> = review
        .security
        .iter()
        .filter(|c| c.direction == Direction::Broadening)
        .collect();
    assert_eq!(broadening.len(), 1, "{:#?}", review.security);
    let change = broadening[0];
    assert_eq!(change.address, "aws_iam_role_policy.event_storer_write");
    assert_eq!(change.aspect, SecurityAspect::IdentityPolicy);
    assert!(
        change
            .detail
            .contains("s3:DeleteObject on ${aws_s3_bucket.events.arn}/events/*"),
        "{}",
        change.detail
    );
    assert_eq!(review.check(&GatePolicy::default())[0].exit_code(), 4);
    let markdown = review.render_markdown();
    assert!(markdown.contains("⚠️ **broadening**"));
    insta::assert_snapshot!("callflow_role_widened.md", markdown);

    // The reverse direction narrows: nothing to approve under `broadening`.
    let back = SynthReview::new(SynthDiff::between(&widened, &committed()));
    assert!(!back.security.is_empty());
    assert!(
        back.security
            .iter()
            .all(|c| c.direction == Direction::Narrowing)
    );
    assert!(back.check(&GatePolicy::default()).is_empty());
}

#[test]
fn a_reordered_role_policy_is_no_security_change() {
    let reordered = with_policy("event_retriever_read", |policy| {
        let statements = policy["Statement"].as_array_mut().expect("statements");
        statements.reverse();
        for statement in statements.iter_mut() {
            statement.as_object_mut().expect("statement").remove("Sid");
            if let Some(actions) = statement["Action"].as_array_mut() {
                actions.reverse();
                if actions.len() == 1 {
                    statement["Action"] = actions[0].clone();
                }
            }
        }
    });
    let review = SynthReview::new(SynthDiff::between(&committed(), &reordered));
    assert_eq!(review.diff.changes.len(), 1, "the text differs");
    assert!(review.security.is_empty(), "{:#?}", review.security);
}

#[test]
fn the_committed_stack_against_nothing_lists_every_grant() {
    // A first deploy: every policy, permission and setting is new.
    let review = SynthReview::new(SynthDiff::between(&Synthesized::default(), &committed()));
    let broadening = review
        .security
        .iter()
        .filter(|c| c.direction == Direction::Broadening)
        .count();
    assert!(broadening >= 10, "{broadening} broadening changes");
    let aspects: std::collections::BTreeSet<SecurityAspect> =
        review.security.iter().map(|c| c.aspect).collect();
    for aspect in [
        SecurityAspect::IdentityPolicy,
        SecurityAspect::TrustPolicy,
        SecurityAspect::ResourcePolicy,
        SecurityAspect::LambdaPermission,
        SecurityAspect::PublicAccessBlock,
        SecurityAspect::Encryption,
    ] {
        assert!(aspects.contains(&aspect), "no {aspect:?} in {aspects:?}");
    }
    // The bucket's deny of insecure transport is a new deny: not broadening.
    assert!(review.security.iter().any(|c| {
        c.address == "aws_s3_bucket_policy.events"
            && c.direction == Direction::Narrowing
            && c.statement.as_ref().is_some_and(|s| s.effect == "Deny")
    }));
    assert!(review.render_markdown().chars().count() <= 65_000);
}

#[test]
fn diff_markdown_of_a_huge_change_is_truncated_with_a_count() {
    let old = committed();
    let mut stacks: BTreeMap<String, Value> = old.stacks().clone();
    let stack = stacks.get_mut("callflow").expect("callflow stack");
    let data = stack["resource"].as_object_mut().expect("resources");
    let mut many = serde_json::Map::new();
    for i in 0..1500 {
        many.insert(
            format!("r{i:04}"),
            serde_json::json!({"input": format!("{i} {}", "x".repeat(80))}),
        );
    }
    data.insert("terraform_data".to_owned(), Value::Object(many));
    let review = SynthReview::new(SynthDiff::between(&old, &Synthesized::new(stacks)));
    assert_eq!(review.diff.changes.len(), 1500);
    let markdown = review.render_markdown();
    assert!(
        markdown.chars().count() <= 65_000,
        "{} chars",
        markdown.chars().count()
    );
    let rows = markdown
        .lines()
        .filter(|l| l.starts_with("| + | `terraform_data.r"))
        .count();
    assert!(
        markdown.contains(&format!(
            "| | … {} more element(s) not shown | |",
            1500 - rows
        )),
        "no count of the table rows left out"
    );
    let shown = markdown.matches("<details>").count();
    assert!(
        markdown.contains(&format!(
            "_… {} more element diff(s) not shown",
            1500 - shown
        )),
        "no truncation note"
    );
}
