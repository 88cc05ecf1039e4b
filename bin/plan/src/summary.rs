//! The reviewable summary of a plan: counts, one line per resource with its changed
//! attributes, and warnings for destructive changes to stateful resources.

use std::fmt::{self, Write as _};

use serde::Serialize;
use serde::ser::SerializeStruct;

use crate::diff::{AttributeChange, ShownValue, changed_attributes};
use crate::document::{Action, Change, PlanDocument, ResourceMode};
use crate::exit_code;
use crate::security::{Direction, SecurityChange, analyze_plan};
use crate::stateful::StatefulKind;

/// Version of the JSON summary layout [`PlanSummary::render_json`] prints.
pub const SUMMARY_VERSION: u32 = 1;

/// How many objects each action touches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ChangeCounts {
    /// Objects to create.
    pub create: usize,
    /// Objects to update in place.
    pub update: usize,
    /// Objects to replace (either order).
    pub replace: usize,
    /// Objects to delete (including deposed objects).
    pub delete: usize,
    /// Data sources to read during apply.
    pub read: usize,
    /// Objects removed from the state without being destroyed.
    pub forget: usize,
    /// Objects left as they are (imports with no changes not included).
    pub no_op: usize,
    /// Existing objects brought under management by `import` blocks (whatever their action).
    pub import: usize,
    /// Objects whose address changes through a `moved` block (whatever their action).
    pub moved: usize,
}

impl ChangeCounts {
    fn add(&mut self, action: Action) {
        let slot = match action {
            Action::NoOp => &mut self.no_op,
            Action::Create => &mut self.create,
            Action::Read => &mut self.read,
            Action::Update => &mut self.update,
            Action::Replace { .. } => &mut self.replace,
            Action::Delete => &mut self.delete,
            Action::Forget => &mut self.forget,
        };
        *slot += 1;
    }

    /// Whether anything besides no-ops is planned.
    pub fn has_changes(&self) -> bool {
        self.create
            + self.update
            + self.replace
            + self.delete
            + self.read
            + self.forget
            + self.import
            + self.moved
            > 0
    }
}

/// One resource instance object the plan changes.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceLine {
    /// The resource instance address.
    pub address: String,
    /// The resource type.
    pub resource_type: String,
    /// Managed resource or data source.
    pub mode: ResourceMode,
    /// What will be done.
    pub action: Action,
    /// Terraform's reason code, e.g. `replace_because_cannot_update`.
    pub action_reason: Option<String>,
    /// The address it had before a `moved` block.
    pub previous_address: Option<String>,
    /// The deposed object key, when the change is to a deposed object.
    pub deposed: Option<String>,
    /// The import ID, when an `import` block brings the object under management.
    pub importing: Option<String>,
    /// Changed attributes (empty for deletes, reads and forgets).
    pub changes: Vec<AttributeChange>,
}

impl Serialize for ResourceLine {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("ResourceLine", 9)?;
        s.serialize_field("address", &self.address)?;
        s.serialize_field("type", &self.resource_type)?;
        s.serialize_field("action", self.action.keyword())?;
        if let Action::Replace {
            create_before_destroy,
        } = self.action
        {
            s.serialize_field("create_before_destroy", &create_before_destroy)?;
        }
        if let Some(reason) = &self.action_reason {
            s.serialize_field("action_reason", reason)?;
        }
        if let Some(previous) = &self.previous_address {
            s.serialize_field("previous_address", previous)?;
        }
        if let Some(deposed) = &self.deposed {
            s.serialize_field("deposed", deposed)?;
        }
        if let Some(id) = &self.importing {
            s.serialize_field("importing", id)?;
        }
        s.serialize_field("changes", &self.changes)?;
        s.end()
    }
}

/// One root-module output the plan changes.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputLine {
    /// The output name.
    pub name: String,
    /// Create, update or delete.
    pub action: Action,
    /// The value before.
    pub before: ShownValue,
    /// The value after.
    pub after: ShownValue,
}

impl Serialize for OutputLine {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("OutputLine", 4)?;
        s.serialize_field("name", &self.name)?;
        s.serialize_field("action", self.action.keyword())?;
        s.serialize_field("before", &self.before)?;
        s.serialize_field("after", &self.after)?;
        s.end()
    }
}

/// A delete or replace of a stateful resource (see [`StatefulKind`]).
#[derive(Debug, Clone, PartialEq)]
pub struct DestructiveChange {
    /// The resource instance address.
    pub address: String,
    /// The resource type.
    pub resource_type: String,
    /// What kind of state is at stake.
    pub kind: StatefulKind,
    /// [`Action::Delete`] or [`Action::Replace`].
    pub action: Action,
    /// Terraform's reason code, when given.
    pub action_reason: Option<String>,
    /// For a delete that looks like a rename (a create of the same type with the same
    /// configuration or identity): the new address and the `moved` block that keeps the state
    /// ([`crate::rename::likely_renames`]).
    pub rename: Option<callflow_dsl::Rename>,
}

impl Serialize for DestructiveChange {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("DestructiveChange", 5)?;
        s.serialize_field("address", &self.address)?;
        s.serialize_field("type", &self.resource_type)?;
        s.serialize_field("action", self.action.keyword())?;
        if let Some(reason) = &self.action_reason {
            s.serialize_field("action_reason", reason)?;
        }
        s.serialize_field("consequence", self.kind.consequence())?;
        if let Some(rename) = &self.rename {
            s.serialize_field("likely_rename", &crate::rename::RenameJson(rename))?;
        }
        s.end()
    }
}

impl fmt::Display for DestructiveChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = match self.action {
            Action::Replace {
                create_before_destroy: true,
            } => "REPLACED (create before destroy)",
            Action::Replace { .. } => "REPLACED (destroy before create)",
            _ => "DELETED",
        };
        write!(
            f,
            "{} ({}) will be {verb}: {}",
            self.address,
            self.kind.label(),
            self.kind.consequence()
        )
    }
}

/// The plan deletes or replaces stateful resources and `--allow-destroy` was not given.
///
/// The CLI exits with [`exit_code::DESTRUCTIVE_BLOCKED`] (3) for it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "the plan destroys {} stateful resource(s): {}; nothing was applied.{} Review the plan and re-run with --allow-destroy if this is intended",
    .changes.len(),
    addresses(.changes),
    crate::rename::gate_hint(.changes.iter().filter_map(|c| c.rename.as_ref()))
)]
pub struct DestructiveChanges {
    /// The blocked changes.
    pub changes: Vec<DestructiveChange>,
}

impl DestructiveChanges {
    /// The process exit code for this outcome: [`exit_code::DESTRUCTIVE_BLOCKED`].
    pub const EXIT_CODE: i32 = exit_code::DESTRUCTIVE_BLOCKED;
}

fn addresses(changes: &[DestructiveChange]) -> String {
    let list: Vec<&str> = changes.iter().map(|c| c.address.as_str()).collect();
    list.join(", ")
}

/// What a plan will do, ready to render for humans ([`PlanSummary::render_human`]) or CI
/// ([`PlanSummary::render_json`]) and to gate on ([`PlanSummary::gate`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanSummary {
    /// Layout version of the JSON form ([`SUMMARY_VERSION`]).
    pub summary_version: u32,
    /// The Terraform version that made the plan.
    pub terraform_version: Option<String>,
    /// Objects per action.
    pub counts: ChangeCounts,
    /// Deletes and replaces of stateful resources, in plan order.
    pub destructive: Vec<DestructiveChange>,
    /// Every resource object that changes (no-ops left out), in plan order.
    pub resources: Vec<ResourceLine>,
    /// Every output that changes, by name.
    pub outputs: Vec<OutputLine>,
    /// What the plan grants or revokes (IAM, resource policies, Lambda permissions, API
    /// authorization, public access blocks, encryption), in plan order.
    pub security: Vec<SecurityChange>,
    /// Objects changed outside Terraform since the last apply (`resource_drift`): updated,
    /// deleted, or moved.
    pub drift: Vec<ResourceLine>,
}

impl PlanSummary {
    /// Summarizes a parsed plan document.
    pub fn from_document(plan: &PlanDocument) -> Self {
        let mut counts = ChangeCounts::default();
        let mut destructive = Vec::new();
        let mut resources = Vec::new();
        let renames = crate::rename::likely_renames(plan);
        for rc in &plan.resource_changes {
            let action = rc.change.action;
            if rc.change.importing.is_some() {
                counts.import += 1;
            }
            if rc.previous_address.is_some() {
                counts.moved += 1;
            }
            if action == Action::NoOp
                && rc.change.importing.is_none()
                && rc.previous_address.is_none()
            {
                counts.no_op += 1;
                continue;
            }
            if action != Action::NoOp {
                counts.add(action);
            }
            let stateful = StatefulKind::of(&rc.resource_type)
                .filter(|_| rc.mode == ResourceMode::Managed && action.destroys());
            if let Some(kind) = stateful {
                destructive.push(DestructiveChange {
                    address: rc.address.clone(),
                    resource_type: rc.resource_type.clone(),
                    kind,
                    action,
                    action_reason: rc.action_reason.clone(),
                    rename: renames.iter().find(|r| r.from == rc.address).cloned(),
                });
            }
            let changes = match action {
                Action::Create | Action::Update | Action::Replace { .. } => {
                    changed_attributes(&rc.change)
                }
                _ => Vec::new(),
            };
            resources.push(ResourceLine {
                address: rc.address.clone(),
                resource_type: rc.resource_type.clone(),
                mode: rc.mode,
                action,
                action_reason: rc.action_reason.clone(),
                previous_address: rc.previous_address.clone(),
                deposed: rc.deposed.clone(),
                importing: rc.change.importing.clone(),
                changes,
            });
        }
        let outputs = plan
            .output_changes
            .iter()
            .filter(|(_, change)| change.action != Action::NoOp)
            .map(|(name, change)| output_line(name, change))
            .collect();
        let drift = plan
            .resource_drift
            .iter()
            .map(|rc| ResourceLine {
                address: rc.address.clone(),
                resource_type: rc.resource_type.clone(),
                mode: rc.mode,
                action: rc.change.action,
                action_reason: rc.action_reason.clone(),
                previous_address: rc.previous_address.clone(),
                deposed: rc.deposed.clone(),
                importing: None,
                changes: match rc.change.action {
                    Action::Update => changed_attributes(&rc.change),
                    _ => Vec::new(),
                },
            })
            .collect();
        Self {
            summary_version: SUMMARY_VERSION,
            terraform_version: plan.terraform_version.clone(),
            counts,
            destructive,
            resources,
            outputs,
            security: analyze_plan(plan),
            drift,
        }
    }

    /// `Ok` when nothing destructive is planned or `allow_destroy` is set; otherwise the
    /// blocked changes (exit code [`exit_code::DESTRUCTIVE_BLOCKED`]).
    pub fn gate(&self, allow_destroy: bool) -> Result<(), DestructiveChanges> {
        if allow_destroy || self.destructive.is_empty() {
            Ok(())
        } else {
            Err(DestructiveChanges {
                changes: self.destructive.clone(),
            })
        }
    }

    /// The summary as pretty JSON for CI (layout version [`SUMMARY_VERSION`]); sensitive values
    /// appear as `"sensitive"`, unknown ones as `"known_after_apply"`, set ones as
    /// `{"value": ...}`, unset ones as `"absent"`.
    pub fn render_json(&self) -> String {
        // Serializing plain structs and `serde_json::Value`s cannot fail.
        serde_json::to_string_pretty(self)
            .unwrap_or_else(|error| format!("{{\"error\": {:?}}}", error.to_string()))
    }

    /// The summary for a terminal, with ANSI colors when `color` is set.
    pub fn render_human(&self, color: bool) -> String {
        let paint = Paint { color };
        let mut out = String::new();
        if !self.drift.is_empty() {
            let _ = writeln!(
                out,
                "Changed outside Terraform since the last apply ({}):",
                self.drift.len()
            );
            for line in &self.drift {
                render_resource(&mut out, line, paint);
            }
            out.push('\n');
        }
        let c = &self.counts;
        if !c.has_changes() && self.outputs.is_empty() {
            out.push_str("No changes: the infrastructure matches the configuration.\n");
        } else if !c.has_changes() {
            out.push_str("No changes to resources; only outputs change.\n");
        } else {
            let _ = write!(
                out,
                "Plan: {} to create, {} to update, {} to replace, {} to delete",
                c.create, c.update, c.replace, c.delete
            );
            let optional = [
                (c.import, "to import"),
                (c.moved, "to move"),
                (c.read, "to read"),
                (c.forget, "to forget"),
            ];
            for (n, word) in optional {
                if n > 0 {
                    let _ = write!(out, ", {n} {word}");
                }
            }
            out.push_str(".\n\n");
            for line in &self.resources {
                render_resource(&mut out, line, paint);
            }
        }
        if !self.outputs.is_empty() {
            out.push_str("\nOutputs:\n");
            for output in &self.outputs {
                let symbol = paint.symbol(output.action);
                let _ = match output.action {
                    Action::Create => writeln!(out, "{symbol} {} = {}", output.name, output.after),
                    Action::Delete => writeln!(out, "{symbol} {}", output.name),
                    _ => writeln!(
                        out,
                        "{symbol} {}: {} -> {}",
                        output.name, output.before, output.after
                    ),
                };
            }
        }
        if !self.security.is_empty() {
            let broadening = self
                .security
                .iter()
                .filter(|s| s.direction == Direction::Broadening)
                .count();
            let _ = writeln!(out, "\nSecurity changes ({} broadening):", broadening);
            for change in &self.security {
                let mark = match change.direction {
                    Direction::Broadening => paint.alarm("! broadening"),
                    Direction::Changed => "  changed   ".to_owned(),
                    Direction::Narrowing => "  narrowing ".to_owned(),
                };
                let _ = writeln!(out, "  {mark} {change}");
            }
        }
        if !self.destructive.is_empty() {
            let heading = format!(
                "WARNING: {} destructive change(s) to stateful resources:",
                self.destructive.len()
            );
            let _ = writeln!(out, "\n{}", paint.alarm(&heading));
            for change in &self.destructive {
                let _ = writeln!(out, "  {} {change}", paint.alarm("!"));
                if let Some(rename) = &change.rename {
                    out.push_str(&crate::rename::fix_lines(rename, "    "));
                }
            }
            out.push_str(
                "Review them; `callflow plan` exits with code 3 unless --allow-destroy is given.\n",
            );
        }
        out
    }
}

fn output_line(name: &str, change: &Change) -> OutputLine {
    let shown = |value: &serde_json::Value, sensitive: &serde_json::Value, unknown: bool| {
        if unknown {
            ShownValue::KnownAfterApply
        } else if sensitive == &serde_json::Value::Bool(true) {
            ShownValue::Sensitive
        } else if value.is_null() {
            ShownValue::Absent
        } else {
            ShownValue::Value(value.clone())
        }
    };
    OutputLine {
        name: name.to_owned(),
        action: change.action,
        before: shown(&change.before, &change.before_sensitive, false),
        after: shown(
            &change.after,
            &change.after_sensitive,
            change.after_unknown == serde_json::Value::Bool(true),
        ),
    }
}

fn render_resource(out: &mut String, line: &ResourceLine, paint: Paint) {
    let symbol = paint.symbol(line.action);
    let mut note = line.action.to_string();
    if let Some(id) = &line.importing {
        let _ = write!(note, ", import id {id:?}");
    }
    if let Some(reason) = &line.action_reason {
        let _ = write!(note, ", {}", reason_text(reason));
    }
    if let Some(deposed) = &line.deposed {
        let _ = write!(note, ", deposed object {deposed}");
    }
    if let Some(previous) = &line.previous_address {
        let _ = write!(note, ", moved from {previous}");
    }
    let _ = writeln!(out, "{symbol} {}  # {note}", line.address);
    for change in &line.changes {
        let _ = match line.action {
            Action::Create => writeln!(out, "      {} = {}", change.path, change.after),
            _ => writeln!(
                out,
                "      {}: {} -> {}{}",
                change.path,
                change.before,
                change.after,
                if change.forces_replacement {
                    "  # forces replacement"
                } else {
                    ""
                }
            ),
        };
    }
}

/// Plain words for Terraform's documented `action_reason` codes; unknown codes as written.
pub(crate) fn reason_text(reason: &str) -> &str {
    match reason {
        "replace_because_tainted" => "tainted",
        "replace_because_cannot_update" => "cannot be updated in place",
        "replace_by_request" => "replacement requested",
        "delete_because_no_resource_config" => "no longer in the configuration",
        "delete_because_no_module" => "its module is no longer declared",
        "delete_because_wrong_repetition" => "instance key does not fit count/for_each",
        "delete_because_count_index" => "count index out of range",
        "delete_because_each_key" => "for_each key removed",
        "read_because_config_unknown" => "configuration known only after apply",
        "read_because_dependency_pending" => "depends on a pending change",
        other => other,
    }
}

/// ANSI styling that is a no-op when color is off.
#[derive(Clone, Copy)]
struct Paint {
    color: bool,
}

impl Paint {
    fn wrap(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    /// The action's symbol right-aligned in three columns, colored.
    fn symbol(self, action: Action) -> String {
        let text = action.symbol();
        let pad = " ".repeat(3usize.saturating_sub(text.len()));
        format!("{pad}{}", self.action(action, text))
    }

    fn action(self, action: Action, text: &str) -> String {
        let code = match action {
            Action::Create => "32",
            Action::Update => "33",
            Action::Read => "36",
            Action::Replace { .. } | Action::Delete => "31",
            Action::NoOp | Action::Forget => "0",
        };
        self.wrap(code, text)
    }

    fn alarm(self, text: &str) -> String {
        self.wrap("1;31", text)
    }
}
