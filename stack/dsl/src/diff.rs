//! Comparing two synths element by element: what `callflow diff` reports.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;
use similar::{ChangeTag, TextDiff};

use super::rename::{Rename, changed_paths, detect_renames, moved_block_json, rename_references};
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
    /// A resource whose address changed: dropped at [`Rename::from`], added at [`Rename::to`]
    /// (the change's `address`). See [`crate::detect_renames`].
    Renamed,
}

/// One changed element.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ElementChange {
    /// Stack name.
    pub stack: String,
    /// Terraform address, e.g. `aws_s3_bucket.events`, `output.api_url`, `provider.aws`; for a
    /// rename, the new address.
    pub address: String,
    /// What happened to it.
    pub change: ChangeKind,
    /// Changed attribute paths (for `changed`, and for `renamed` when more than references
    /// changed), e.g. `versioning_configuration.status`. References to renamed resources
    /// count as unchanged.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// For [`ChangeKind::Renamed`]: the old address, the new one, why, and the fix (serialized
    /// inline: `from`, `to`, `type`, `basis`, `covered`, `moved`, `rust`, `dependents`, ...).
    #[serde(
        flatten,
        skip_serializing_if = "Option::is_none",
        serialize_with = "rename_fields"
    )]
    pub rename: Option<Rename>,
    /// Old content (absent when added), with references to renamed resources already renamed.
    #[serde(skip)]
    pub before: Option<Value>,
    /// New content (absent when removed).
    #[serde(skip)]
    pub after: Option<Value>,
}

/// A rename's JSON fields, plus the `moved` entry and the Rust line that fix it.
fn rename_fields<S: serde::Serializer>(
    rename: &Option<Rename>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let Some(rename) = rename else {
        return serializer.serialize_map(Some(0))?.end();
    };
    let mut map = serializer.serialize_map(None)?;
    map.serialize_entry("from", &rename.from)?;
    map.serialize_entry("to", &rename.to)?;
    map.serialize_entry("type", &rename.resource_type)?;
    map.serialize_entry("basis", &rename.basis)?;
    map.serialize_entry("covered", &rename.covered)?;
    if !rename.ambiguous_with.is_empty() {
        map.serialize_entry("ambiguous_with", &rename.ambiguous_with)?;
    }
    map.serialize_entry("dependents", &rename.dependents)?;
    map.serialize_entry("moved", &rename.moved_entry())?;
    map.serialize_entry("rust", &rename.rust_line())?;
    map.end()
}

/// The differences between two synths, in address order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SynthDiff {
    /// Every element that differs. Renamed resources appear once, as [`ChangeKind::Renamed`];
    /// elements whose only change is a reference to a renamed resource are left out (they are
    /// listed in the rename's `dependents`).
    pub changes: Vec<ElementChange>,
}

impl SynthDiff {
    /// Compares `old` (e.g. the committed `cdktf.out`) with `new` (a fresh synth).
    pub fn between(old: &Synthesized, new: &Synthesized) -> Self {
        let mut changes = Vec::new();
        let names: BTreeSet<&String> = old.stacks().keys().chain(new.stacks().keys()).collect();
        let empty = Value::Null;
        for name in names {
            let old_doc = old.stacks().get(name).unwrap_or(&empty);
            let new_doc = new.stacks().get(name).unwrap_or(&empty);
            let before = elements(old_doc);
            let after = elements(new_doc);
            let mut renames = detect_renames(old_doc, new_doc);
            let map: BTreeMap<String, String> = renames
                .iter()
                .map(|r| (r.from.clone(), r.to.clone()))
                .collect();
            let renamed_from: BTreeSet<String> = renames.iter().map(|r| r.from.clone()).collect();
            let mut by_to: BTreeMap<String, Rename> = BTreeMap::new();
            let addresses: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
            for address in addresses {
                if renamed_from.contains(address.as_str()) {
                    continue;
                }
                let (b, a) = (before.get(address), after.get(address));
                if let Some(index) = renames.iter().position(|r| &r.to == address) {
                    by_to.insert(address.clone(), renames.swap_remove(index));
                    continue;
                }
                let b = if map.is_empty() {
                    b.cloned()
                } else {
                    b.map(|x| rename_references(x, &map))
                };
                let change = match (&b, a) {
                    (None, Some(_)) => ChangeKind::Added,
                    (Some(_), None) => ChangeKind::Removed,
                    (Some(x), Some(y)) if x != y => ChangeKind::Changed,
                    (Some(x), Some(_)) => {
                        // Equal once renamed: a dependent that follows the rename(s) it refers to.
                        if let Some(original) = before.get(address)
                            && original != x
                        {
                            follow(address, original, &map, &mut renames, &mut by_to);
                        }
                        continue;
                    }
                    (None, None) => continue,
                };
                let mut paths = Vec::new();
                if let (Some(x), Some(y)) = (&b, a) {
                    changed_paths(x, y, "", &mut paths);
                    if let Some(original) = before.get(address)
                        && original != x
                    {
                        follow(address, original, &map, &mut renames, &mut by_to);
                    }
                }
                changes.push(ElementChange {
                    stack: name.clone(),
                    address: address.clone(),
                    change,
                    paths,
                    rename: None,
                    before: b,
                    after: a.cloned(),
                });
            }
            for (to, rename) in by_to {
                let b = before.get(&rename.from).map(|x| rename_references(x, &map));
                changes.push(ElementChange {
                    stack: name.clone(),
                    address: to.clone(),
                    change: ChangeKind::Renamed,
                    paths: rename.changed.clone(),
                    rename: Some(rename),
                    before: b,
                    after: after.get(&to).cloned(),
                });
            }
        }
        changes.sort_by(|x, y| (&x.stack, &x.address).cmp(&(&y.stack, &y.address)));
        Self { changes }
    }

    /// The renames found, in address order.
    pub fn renames(&self) -> impl Iterator<Item = (&str, &Rename)> {
        self.changes
            .iter()
            .filter_map(|c| c.rename.as_ref().map(|r| (c.stack.as_str(), r)))
    }

    /// Whether the two synths are identical element by element.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The human report: a summary line per element (`~>` renamed, `+`, `-`, `~` with changed
    /// paths), then a unified JSON diff of each element, then for renames without a `moved`
    /// block the block and the DSL line that keep the state; ANSI colours when `color` is set.
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
        let renamed = count(ChangeKind::Renamed);
        if renamed > 0 {
            let _ = write!(out, "{renamed} renamed, ");
        }
        let _ = writeln!(
            out,
            "{} added, {} changed, {} removed",
            count(ChangeKind::Added),
            count(ChangeKind::Changed),
            count(ChangeKind::Removed)
        );
        for c in &self.changes {
            let line = match (&c.change, &c.rename) {
                (ChangeKind::Renamed, Some(r)) => {
                    let mut line = format!("~> {}/{} \u{2192} {}", c.stack, r.from, r.to);
                    let _ = write!(line, " ({}", r.basis.describe());
                    if !r.changed.is_empty() {
                        let _ = write!(line, "; also changed: {}", r.changed.join(", "));
                    }
                    match r.dependents.len() {
                        0 => {}
                        1 => line.push_str("; 1 dependent follows"),
                        n => {
                            let _ = write!(line, "; {n} dependents follow");
                        }
                    }
                    // A covered rename is one its basis already calls declared by a moved block.
                    line.push(')');
                    paint("36", &line)
                }
                (ChangeKind::Added, _) => paint("32", &format!("+ {}/{}", c.stack, c.address)),
                (ChangeKind::Removed, _) => paint("31", &format!("- {}/{}", c.stack, c.address)),
                _ => paint(
                    "33",
                    &format!("~ {}/{} ({})", c.stack, c.address, c.paths.join(", ")),
                ),
            };
            let _ = writeln!(out, "{line}");
            if let Some(r) = c.rename.as_ref().filter(|r| !r.ambiguous_with.is_empty()) {
                let _ = writeln!(
                    out,
                    "   {} {} and {} match equally well; check the pairing before moving state",
                    paint("1;33", "ambiguous:"),
                    r.to,
                    r.ambiguous_with.join(", ")
                );
            }
        }
        for c in &self.changes {
            let old_address = c.rename.as_ref().map_or(&c.address, |r| &r.from);
            if c.change == ChangeKind::Renamed && c.paths.is_empty() {
                continue;
            }
            let old = c.before.as_ref().map(render).unwrap_or_default();
            let new = c.after.as_ref().map(render).unwrap_or_default();
            let _ = writeln!(out);
            let _ = writeln!(
                out,
                "{}",
                paint("1", &format!("--- a/{}/{}", c.stack, old_address))
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
        self.render_moved_fix(&mut out, &paint);
        out
    }

    /// For each stack with renames no `moved` block covers: the block and the DSL lines.
    fn render_moved_fix(&self, out: &mut String, paint: &dyn Fn(&str, &str) -> String) {
        let mut by_stack: BTreeMap<&str, Vec<Rename>> = BTreeMap::new();
        for (stack, rename) in self.renames().filter(|(_, r)| !r.covered) {
            by_stack.entry(stack).or_default().push(rename.clone());
        }
        for (stack, renames) in by_stack {
            let _ = writeln!(out);
            let _ = writeln!(
                out,
                "{}",
                paint(
                    "1;33",
                    &format!(
                        "Stack {stack}: without a moved block terraform destroys {} and creates {} (a bucket loses its objects).",
                        list(renames.iter().map(|r| r.from.as_str())),
                        list(renames.iter().map(|r| r.to.as_str()))
                    )
                )
            );
            let _ = writeln!(out, "Keep the state: add to the stack's Terraform JSON");
            let _ = writeln!(out, "  {}", moved_block_json(&renames));
            let _ = writeln!(
                out,
                "or declare it in the stack (each handle is what stack.resource(\"<name>\", ...) returned):"
            );
            for rename in &renames {
                let _ = writeln!(out, "  {}", rename.rust_line());
            }
        }
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

/// `a, b and c`.
fn list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let items: Vec<&str> = items.collect();
    match items.as_slice() {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Records `address` as a dependent of every rename whose old address `original` refers to.
fn follow(
    address: &str,
    original: &Value,
    map: &BTreeMap<String, String>,
    pending: &mut [Rename],
    done: &mut BTreeMap<String, Rename>,
) {
    for (from, to) in map {
        let one = BTreeMap::from([(from.clone(), to.clone())]);
        if &rename_references(original, &one) == original {
            continue;
        }
        let rename = match done.get_mut(to) {
            Some(rename) => Some(rename),
            None => pending.iter_mut().find(|r| &r.to == to),
        };
        if let Some(rename) = rename {
            rename.dependents.push(address.to_owned());
        }
    }
}
