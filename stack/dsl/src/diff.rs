//! Comparing two synths element by element: what `callflow diff` reports.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;
use similar::{ChangeTag, TextDiff};

use super::synth::{Synthesized, render};

/// How one element (resource, data source, output, variable, block) changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// Only in the new synth.
    Added,
    /// Only in the old synth.
    Removed,
    /// In both, with different content.
    Changed,
}

/// One changed element.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ElementChange {
    /// Stack name.
    pub stack: String,
    /// Terraform address, e.g. `aws_s3_bucket.events`, `output.api_url`, `provider.aws`.
    pub address: String,
    /// What happened to it.
    pub change: ChangeKind,
    /// Changed attribute paths (for `changed`), e.g. `versioning_configuration.status`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// Old content (absent when added).
    #[serde(skip)]
    pub before: Option<Value>,
    /// New content (absent when removed).
    #[serde(skip)]
    pub after: Option<Value>,
}

/// The differences between two synths, in address order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SynthDiff {
    /// Every element that differs.
    pub changes: Vec<ElementChange>,
}

impl SynthDiff {
    /// Compares `old` (e.g. the committed `cdktf.out`) with `new` (a fresh synth).
    pub fn between(old: &Synthesized, new: &Synthesized) -> Self {
        let mut changes = Vec::new();
        let names: std::collections::BTreeSet<&String> =
            old.stacks().keys().chain(new.stacks().keys()).collect();
        for name in names {
            let before = old.stacks().get(name).map(elements).unwrap_or_default();
            let after = new.stacks().get(name).map(elements).unwrap_or_default();
            let addresses: std::collections::BTreeSet<&String> =
                before.keys().chain(after.keys()).collect();
            for address in addresses {
                let (b, a) = (before.get(address), after.get(address));
                let change = match (b, a) {
                    (None, Some(_)) => ChangeKind::Added,
                    (Some(_), None) => ChangeKind::Removed,
                    (Some(x), Some(y)) if x != y => ChangeKind::Changed,
                    _ => continue,
                };
                let mut paths = Vec::new();
                if let (Some(x), Some(y)) = (b, a) {
                    changed_paths(x, y, "", &mut paths);
                }
                changes.push(ElementChange {
                    stack: name.clone(),
                    address: address.clone(),
                    change,
                    paths,
                    before: b.cloned(),
                    after: a.cloned(),
                });
            }
        }
        Self { changes }
    }

    /// Whether the two synths are identical element by element.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The human report: a summary line per element (`+`, `-`, `~` with changed paths), then a
    /// unified JSON diff of each element; ANSI colours when `color` is set.
    pub fn render_human(&self, color: bool) -> String {
        let paint = |code: &str, s: &str| {
            if color {
                format!("\x1b[{code}m{s}\x1b[0m")
            } else {
                s.to_string()
            }
        };
        let mut out = String::new();
        if self.changes.is_empty() {
            out.push_str("No changes: the synth matches.\n");
            return out;
        }
        let count = |k: ChangeKind| self.changes.iter().filter(|c| c.change == k).count();
        let _ = writeln!(
            out,
            "{} added, {} changed, {} removed",
            count(ChangeKind::Added),
            count(ChangeKind::Changed),
            count(ChangeKind::Removed)
        );
        for c in &self.changes {
            let line = match c.change {
                ChangeKind::Added => paint("32", &format!("+ {}/{}", c.stack, c.address)),
                ChangeKind::Removed => paint("31", &format!("- {}/{}", c.stack, c.address)),
                ChangeKind::Changed => paint(
                    "33",
                    &format!("~ {}/{} ({})", c.stack, c.address, c.paths.join(", ")),
                ),
            };
            let _ = writeln!(out, "{line}");
        }
        for c in &self.changes {
            let old = c.before.as_ref().map(render).unwrap_or_default();
            let new = c.after.as_ref().map(render).unwrap_or_default();
            let _ = writeln!(out);
            let _ = writeln!(
                out,
                "{}",
                paint("1", &format!("--- a/{}/{}", c.stack, c.address))
            );
            let _ = writeln!(
                out,
                "{}",
                paint("1", &format!("+++ b/{}/{}", c.stack, c.address))
            );
            let diff = TextDiff::from_lines(&old, &new);
            for group in diff.grouped_ops(3) {
                for op in group {
                    for change in diff.iter_changes(&op) {
                        let text = change.value().trim_end_matches('\n');
                        let line = match change.tag() {
                            ChangeTag::Delete => paint("31", &format!("-{text}")),
                            ChangeTag::Insert => paint("32", &format!("+{text}")),
                            ChangeTag::Equal => format!(" {text}"),
                        };
                        let _ = writeln!(out, "{line}");
                    }
                }
            }
        }
        out
    }

    /// The machine report: `{"changed": bool, "changes": [...]}`.
    pub fn render_json(&self) -> String {
        let doc = serde_json::json!({ "changed": !self.is_empty(), "changes": self.changes });
        render(&doc)
    }
}

/// Splits a Terraform JSON document into addressable elements.
fn elements(doc: &Value) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let Some(root) = doc.as_object() else {
        return out;
    };
    for (section, body) in root {
        match section.as_str() {
            "resource" | "data" => {
                let prefix = if section == "data" { "data." } else { "" };
                for (kind, by_name) in body.as_object().into_iter().flatten() {
                    for (name, element) in by_name.as_object().into_iter().flatten() {
                        out.insert(format!("{prefix}{kind}.{name}"), element.clone());
                    }
                }
            }
            "output" | "variable" | "provider" | "locals" => {
                for (name, element) in body.as_object().into_iter().flatten() {
                    out.insert(format!("{section}.{name}"), element.clone());
                }
            }
            "//" => {}
            other => {
                out.insert(other.to_string(), body.clone());
            }
        }
    }
    out
}

fn changed_paths(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => changed_paths(p, q, &join(k), out),
                    _ => out.push(join(k)),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                changed_paths(p, q, &format!("{path}[{i}]"), out);
            }
        }
        _ if a != b => out.push(if path.is_empty() {
            "(all)".into()
        } else {
            path.into()
        }),
        _ => {}
    }
}
