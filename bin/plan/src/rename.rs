//! Likely renames in a plan: a `delete` of one address and a `create` of another of the same
//! type that are the same real object, so a `moved` block would keep its state.
//!
//! Terraform plans a renamed resource (a new logical id, a new construct path) as a delete of
//! the old address and a create of the new one. For a bucket that loses every object. This
//! module finds those pairs in a plan document so the destroy gate
//! ([`crate::PlanSummary::gate`]) can name the rename and its fix instead of only refusing:
//!
//! - same resource type and module, a pure `delete` (not deposed) against a pure `create`
//!   (not an import);
//! - **equal configuration**: every attribute the create already knows (the non-computed
//!   ones, and computed ones known at plan time; `after_unknown` leaves are skipped) equals the
//!   deleted object's value, and at least one of them is set; or
//! - **equal identity arguments**: the attributes that name the real object (`bucket`,
//!   `function_name`, a role's `name`, ...) are equal — the table is
//!   [`callflow_dsl::identity_rule`], shared with `callflow diff`.
//!
//! A real move (a `moved` block) is not a delete: Terraform plans it as a no-op or update with
//! `previous_address`, which the gate never blocks.
//!
//! ```
//! use callflow_plan::{PlanDocument, likely_renames};
//! let plan = PlanDocument::from_json(r#"{"format_version": "1.2", "resource_changes": [
//!   {"address": "aws_s3_bucket.events_store", "mode": "managed", "type": "aws_s3_bucket",
//!    "name": "events_store", "action_reason": "delete_because_no_resource_config",
//!    "change": {"actions": ["delete"], "before": {"bucket": "callflow-events", "id": "callflow-events"},
//!               "after": null}},
//!   {"address": "aws_s3_bucket.events", "mode": "managed", "type": "aws_s3_bucket",
//!    "name": "events",
//!    "change": {"actions": ["create"], "before": null, "after": {"bucket": "callflow-events"},
//!               "after_unknown": {"id": true}}}]}"#)?;
//! let renames = likely_renames(&plan);
//! assert_eq!(renames[0].from, "aws_s3_bucket.events_store");
//! assert_eq!(renames[0].to, "aws_s3_bucket.events");
//! # Ok::<(), callflow_plan::DocumentError>(())
//! ```

use std::collections::BTreeSet;

use callflow_dsl::{Rename, RenameBasis, identity_match, identity_rule};
use serde_json::Value;

use crate::document::{Action, PlanDocument, ResourceChange, ResourceMode};

/// The likely renames of a plan, in the order of their deletes. Each is a
/// [`callflow_dsl::Rename`] (never `covered`, no dependents) whose
/// [`moved_block_json`](Rename::moved_block_json) and [`rust_line`](Rename::rust_line) are the
/// fix; [`Rename::changed`] lists the known attributes that differ (for identity matches).
pub fn likely_renames(plan: &PlanDocument) -> Vec<Rename> {
    let deletes: Vec<&ResourceChange> = plan
        .resource_changes
        .iter()
        .filter(|rc| {
            rc.mode == ResourceMode::Managed
                && rc.change.action == Action::Delete
                && rc.deposed.is_none()
        })
        .collect();
    let creates: Vec<&ResourceChange> = plan
        .resource_changes
        .iter()
        .filter(|rc| {
            rc.mode == ResourceMode::Managed
                && rc.change.action == Action::Create
                && rc.change.importing.is_none()
        })
        .collect();
    // (class: 0 equal configuration, 1 identity; differing paths; delete; create; basis)
    let mut candidates: Vec<(u8, usize, usize, usize, RenameBasis, Vec<String>)> = Vec::new();
    for (d, old) in deletes.iter().enumerate() {
        for (c, new) in creates.iter().enumerate() {
            if old.resource_type != new.resource_type || module_of(old) != module_of(new) {
                continue;
            }
            let (differ, equal_set) = compare_known(
                &old.change.before,
                &new.change.after,
                &new.change.after_unknown,
            );
            if differ.is_empty() && equal_set > 0 {
                candidates.push((0, 0, d, c, RenameBasis::EqualBody, Vec::new()));
            } else if let Some(attributes) = identity_match(
                identity_rule(&old.resource_type),
                &known_only(&old.change.before, &new.change.after_unknown),
                &new.change.after,
            ) {
                candidates.push((
                    1,
                    differ.len(),
                    d,
                    c,
                    RenameBasis::Identity { attributes },
                    differ,
                ));
            }
        }
    }
    candidates.sort_by_key(|x| (x.0, x.1, x.2, x.3));
    let mut used_deletes = BTreeSet::new();
    let mut used_creates = BTreeSet::new();
    let mut out = Vec::new();
    for (class, score, d, c, basis, changed) in &candidates {
        if used_deletes.contains(d) || used_creates.contains(c) {
            continue;
        }
        let ambiguous_with: Vec<String> = candidates
            .iter()
            .filter(|x| (x.0, x.1) == (*class, *score) && (x.2, x.3) != (*d, *c))
            .filter_map(|x| {
                if x.2 == *d {
                    Some(creates[x.3].address.clone())
                } else if x.3 == *c {
                    Some(deletes[x.2].address.clone())
                } else {
                    None
                }
            })
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        used_deletes.insert(*d);
        used_creates.insert(*c);
        out.push((
            *d,
            Rename {
                from: deletes[*d].address.clone(),
                to: creates[*c].address.clone(),
                resource_type: deletes[*d].resource_type.clone(),
                basis: basis.clone(),
                covered: false,
                changed: changed.clone(),
                ambiguous_with,
                dependents: Vec::new(),
            },
        ));
    }
    out.sort_by_key(|(d, _)| *d);
    out.into_iter().map(|(_, rename)| rename).collect()
}

/// A likely rename as the JSON summary shows it under a destructive change:
/// `{"to", "basis", "changed"?, "ambiguous_with"?, "moved": {"from", "to"}, "rust"}`.
pub struct RenameJson<'a>(pub &'a Rename);

impl serde::Serialize for RenameJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let r = self.0;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("to", &r.to)?;
        map.serialize_entry("basis", &r.basis)?;
        if !r.changed.is_empty() {
            map.serialize_entry("changed", &r.changed)?;
        }
        if !r.ambiguous_with.is_empty() {
            map.serialize_entry("ambiguous_with", &r.ambiguous_with)?;
        }
        map.serialize_entry("moved", &r.moved_entry())?;
        map.serialize_entry("rust", &r.rust_line())?;
        map.end()
    }
}

/// Why the plan side took the pair for a rename, in words.
pub fn describe_basis(basis: &RenameBasis) -> String {
    match basis {
        RenameBasis::EqualBody => "same configuration".into(),
        other => other.describe(),
    }
}

/// The lines the human summary prints under a destructive change that is a likely rename:
/// what it is and the fix (the `moved` block and the DSL line), each line indented by
/// `indent`.
pub fn fix_lines(rename: &Rename, indent: &str) -> String {
    let mut text = format!(
        "{indent}likely a rename to {} ({}); keep its state with a moved block instead:\n",
        rename.to,
        describe_basis(&rename.basis)
    );
    if !rename.ambiguous_with.is_empty() {
        text.push_str(&format!(
            "{indent}(ambiguous: {} match equally well; check the pairing)\n",
            rename.ambiguous_with.join(", ")
        ));
    }
    text.push_str(&format!("{indent}  {}\n", rename.moved_block_json()));
    text.push_str(&format!("{indent}  {}\n", rename.rust_line()));
    text
}

/// The sentence the destroy gate's error adds when blocked deletes look like renames: `""`
/// when none does, otherwise one clause per rename naming the `moved` block and the DSL line.
pub fn gate_hint<'a>(renames: impl Iterator<Item = &'a Rename>) -> String {
    let hints: Vec<String> = renames
        .map(|r| {
            format!(
                " {} looks renamed to {} ({}): add the moved block {} (with the DSL: {}) and plan again.",
                r.from,
                r.to,
                describe_basis(&r.basis),
                r.moved_block_json(),
                r.rust_line()
            )
        })
        .collect();
    hints.concat()
}

/// The module part of an address (`module.a.` of `module.a.aws_s3_bucket.b[0]`, `""` at the
/// root).
fn module_of(rc: &ResourceChange) -> &str {
    let local = format!("{}.{}", rc.resource_type, rc.name);
    rc.address.rfind(&local).map_or("", |at| &rc.address[..at])
}

/// `before` without the top-level attributes the create does not know yet (`after_unknown`
/// marks them; Terraform omits them from `after`): a computed `*_name` is no identity.
fn known_only(before: &Value, unknown: &Value) -> Value {
    match before {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(key, _)| unknown.get(key.as_str()) != Some(&Value::Bool(true)))
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Compares the deleted object's `before` with the created object's known `after`: the
/// differing attribute paths, and how many set attributes are equal. Leaves that
/// `after_unknown` marks are skipped.
fn compare_known(before: &Value, after: &Value, unknown: &Value) -> (Vec<String>, usize) {
    let mut differ = Vec::new();
    let mut equal_set = 0;
    walk(before, after, unknown, "", &mut differ, &mut equal_set);
    (differ, equal_set)
}

fn walk(
    before: &Value,
    after: &Value,
    unknown: &Value,
    path: &str,
    differ: &mut Vec<String>,
    equal_set: &mut usize,
) {
    if unknown == &Value::Bool(true) {
        return;
    }
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            for (key, value) in a {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                let before = b.get(key).unwrap_or(&Value::Null);
                let unknown = unknown.get(key).unwrap_or(&Value::Null);
                walk(before, value, unknown, &child, differ, equal_set);
            }
        }
        (Value::Array(b), Value::Array(a)) if a.len() == b.len() => {
            for (i, (x, y)) in b.iter().zip(a).enumerate() {
                let unknown = unknown.get(i).unwrap_or(&Value::Null);
                walk(x, y, unknown, &format!("{path}[{i}]"), differ, equal_set);
            }
        }
        (b, a) if b == a => {
            if !a.is_null() {
                *equal_set += 1;
            }
        }
        _ => differ.push(if path.is_empty() {
            "(all)".into()
        } else {
            path.into()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(changes: &str) -> PlanDocument {
        PlanDocument::from_json(&format!(
            r#"{{"format_version": "1.2", "resource_changes": [{changes}]}}"#
        ))
        .expect("valid plan")
    }

    fn rc(address: &str, ty: &str, actions: &str, before: &str, after: &str) -> String {
        let name = address.rsplit('.').next().unwrap_or(address);
        format!(
            r#"{{"address": "{address}", "mode": "managed", "type": "{ty}", "name": "{name}",
                "change": {{"actions": {actions}, "before": {before}, "after": {after},
                            "after_unknown": {{"id": true, "arn": true}}}}}}"#
        )
    }

    #[test]
    fn unknown_leaves_are_skipped_and_known_ones_compared() {
        let (differ, equal) = compare_known(
            &serde_json::json!({"bucket": "b", "id": "b", "tags": {"a": "1"}, "force_destroy": false}),
            &serde_json::json!({"bucket": "b", "tags": {"a": "1"}, "force_destroy": true}),
            &serde_json::json!({"id": true}),
        );
        assert_eq!(differ, ["force_destroy"]);
        assert_eq!(equal, 2);
    }

    #[test]
    fn pairs_by_configuration_then_identity_and_never_across_types_or_modules() {
        let plan = plan(
            &[
                rc(
                    "aws_sqs_queue.q1",
                    "aws_sqs_queue",
                    r#"["delete"]"#,
                    r#"{"name": "q"}"#,
                    "null",
                ),
                rc(
                    "aws_sns_topic.q2",
                    "aws_sns_topic",
                    r#"["create"]"#,
                    "null",
                    r#"{"name": "q"}"#,
                ),
                rc(
                    "aws_lambda_function.a",
                    "aws_lambda_function",
                    r#"["delete"]"#,
                    r#"{"function_name": "api", "memory_size": 128}"#,
                    "null",
                ),
                rc(
                    "module.m.aws_lambda_function.b",
                    "aws_lambda_function",
                    r#"["create"]"#,
                    "null",
                    r#"{"function_name": "api", "memory_size": 128}"#,
                ),
                rc(
                    "aws_lambda_function.c",
                    "aws_lambda_function",
                    r#"["create"]"#,
                    "null",
                    r#"{"function_name": "api", "memory_size": 256}"#,
                ),
            ]
            .join(","),
        );
        let renames = likely_renames(&plan);
        assert_eq!(renames.len(), 1, "{renames:?}");
        assert_eq!(renames[0].from, "aws_lambda_function.a");
        assert_eq!(renames[0].to, "aws_lambda_function.c");
        assert_eq!(
            renames[0].basis,
            RenameBasis::Identity {
                attributes: vec!["function_name".into()]
            }
        );
        assert_eq!(renames[0].changed, ["memory_size"]);
    }

    #[test]
    fn computed_names_of_a_type_outside_the_table_are_no_identity() {
        // `google_storage_bucket` is matched by the generic rule (`name`, `*_name`); its
        // computed `self_name` is unknown in the create and must not prevent the match.
        let plan = plan(
            &[
                rc(
                    "google_storage_bucket.a",
                    "google_storage_bucket",
                    r#"["delete"]"#,
                    r#"{"name": "logs", "location": "EU", "self_name": "x", "id": "logs"}"#,
                    "null",
                ),
                r#"{"address": "google_storage_bucket.b", "mode": "managed",
                    "type": "google_storage_bucket", "name": "b",
                    "change": {"actions": ["create"], "before": null,
                               "after": {"name": "logs", "location": "US"},
                               "after_unknown": {"id": true, "self_name": true}}}"#
                    .to_owned(),
            ]
            .join(","),
        );
        let renames = likely_renames(&plan);
        assert_eq!(renames.len(), 1, "{renames:?}");
        assert_eq!(
            renames[0].basis,
            RenameBasis::Identity {
                attributes: vec!["name".into()]
            }
        );
        assert_eq!(renames[0].changed, ["location"]);
    }

    #[test]
    fn a_replace_or_an_import_is_no_rename() {
        let plan = plan(
            &[
                rc(
                    "aws_s3_bucket.a",
                    "aws_s3_bucket",
                    r#"["delete", "create"]"#,
                    r#"{"bucket": "x"}"#,
                    r#"{"bucket": "x"}"#,
                ),
                rc(
                    "aws_s3_bucket.b",
                    "aws_s3_bucket",
                    r#"["delete"]"#,
                    r#"{"bucket": "y"}"#,
                    "null",
                ),
            ]
            .join(","),
        );
        assert!(likely_renames(&plan).is_empty());
    }
}
