//! Changed attributes of one object: a deep diff of `before` and `after`, with values not
//! known until apply (`after_unknown`) and sensitive values (`*_sensitive`) taken into account.

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::document::Change;

/// One step into an object value: an attribute / map key, or a list / set index.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PathStep {
    /// An attribute name or map key.
    Key(String),
    /// A list, set or tuple index.
    Index(usize),
}

/// A path into an object value, rendered as `versioning_configuration[0].status`
/// (map keys that are not identifiers as `tags["Cost Center"]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AttributePath(Vec<PathStep>);

impl AttributePath {
    /// The steps from the object root.
    pub fn steps(&self) -> &[PathStep] {
        &self.0
    }

    /// Whether `prefix` is this path or one of its ancestors.
    pub fn starts_with(&self, prefix: &AttributePath) -> bool {
        self.0.starts_with(&prefix.0)
    }

    /// A path from a `replace_paths` element (strings and numbers); `None` for other values.
    pub fn from_json_steps(steps: &[Value]) -> Option<Self> {
        steps
            .iter()
            .map(|step| match step {
                Value::String(key) => Some(PathStep::Key(key.clone())),
                Value::Number(n) => n
                    .as_u64()
                    .and_then(|i| usize::try_from(i).ok())
                    .map(PathStep::Index),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
            .map(Self)
    }

    fn child(&self, step: PathStep) -> Self {
        let mut steps = self.0.clone();
        steps.push(step);
        Self(steps)
    }
}

impl fmt::Display for AttributePath {
    /// Empty (the whole object, e.g. when all of it is sensitive) renders as `(object)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(object)");
        }
        for (i, step) in self.0.iter().enumerate() {
            match step {
                PathStep::Key(key) if is_identifier(key) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(key)?;
                }
                PathStep::Key(key) => write!(f, "[{}]", Value::String(key.clone()))?,
                PathStep::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

impl Serialize for AttributePath {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

fn is_identifier(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A value as it may be shown to a reader: never the content of a sensitive value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ShownValue {
    /// Not set (absent or `null`).
    Absent,
    /// A known, non-sensitive value.
    Value(Value),
    /// A sensitive value; its content is withheld.
    Sensitive,
    /// Decided by the provider during apply.
    KnownAfterApply,
}

impl fmt::Display for ShownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Absent => f.write_str("null"),
            Self::Value(value) => f.write_str(&truncate(&value.to_string(), MAX_SHOWN_CHARS)),
            Self::Sensitive => f.write_str("(sensitive value)"),
            Self::KnownAfterApply => f.write_str("(known after apply)"),
        }
    }
}

/// Longest rendering of one value in human output (JSON policies can be kilobytes).
const MAX_SHOWN_CHARS: usize = 80;

fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let kept: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    format!("{kept}…")
}

/// One changed leaf (or sensitive subtree) of an object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttributeChange {
    /// Where in the object.
    pub path: AttributePath,
    /// The value before the change.
    pub before: ShownValue,
    /// The value after the change.
    pub after: ShownValue,
    /// Whether this change is (under) one of the change's `replace_paths`.
    pub forces_replacement: bool,
}

/// The changed attributes of `change`, ordered by path.
///
/// `null`, absent, `[]` and `{}` count as the same "empty" value, so a create does not list
/// every unset attribute. Below a path marked sensitive on either side nothing is compared
/// leaf by leaf: the whole subtree is one change shown as `(sensitive value)`.
pub fn changed_attributes(change: &Change) -> Vec<AttributeChange> {
    let replace_paths: Vec<AttributePath> = change
        .replace_paths
        .iter()
        .filter_map(|steps| AttributePath::from_json_steps(steps))
        .collect();
    let mut walker = Walker {
        replace_paths,
        changes: Vec::new(),
    };
    walker.walk(
        AttributePath::default(),
        Node {
            before: &change.before,
            after: &change.after,
            unknown: &change.after_unknown,
            before_sensitive: &change.before_sensitive,
            after_sensitive: &change.after_sensitive,
        },
    );
    walker.changes
}

/// The five parallel values at one path.
#[derive(Clone, Copy)]
struct Node<'a> {
    before: &'a Value,
    after: &'a Value,
    unknown: &'a Value,
    before_sensitive: &'a Value,
    after_sensitive: &'a Value,
}

static NULL: Value = Value::Null;

/// The mark (unknown / sensitive) for a child: a `true` mark covers the whole subtree.
fn child_mark<'a>(mark: &'a Value, step: &PathStep) -> &'a Value {
    match (mark, step) {
        (Value::Bool(true), _) => mark,
        (Value::Object(map), PathStep::Key(key)) => map.get(key).unwrap_or(&NULL),
        (Value::Array(items), PathStep::Index(index)) => items.get(*index).unwrap_or(&NULL),
        _ => &NULL,
    }
}

fn child_value<'a>(value: &'a Value, step: &PathStep) -> &'a Value {
    match (value, step) {
        (Value::Object(map), PathStep::Key(key)) => map.get(key).unwrap_or(&NULL),
        (Value::Array(items), PathStep::Index(index)) => items.get(*index).unwrap_or(&NULL),
        _ => &NULL,
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        _ => false,
    }
}

fn is_marked(mark: &Value) -> bool {
    mark == &Value::Bool(true)
}

impl Node<'_> {
    fn child(&self, step: &PathStep) -> Self {
        Node {
            before: child_value(self.before, step),
            after: child_value(self.after, step),
            unknown: child_mark(self.unknown, step),
            before_sensitive: child_mark(self.before_sensitive, step),
            after_sensitive: child_mark(self.after_sensitive, step),
        }
    }

    /// The child steps to visit when every input is a container of one kind.
    fn child_steps(&self) -> Option<Vec<PathStep>> {
        // `false` marks a known leaf in `after_unknown`: no structure to follow there.
        let unknown = Some(self.unknown).filter(|mark| mark.is_object() || mark.is_array());
        let containers = [Some(self.before), Some(self.after), unknown];
        let present = || containers.into_iter().flatten().filter(|v| !v.is_null());
        if present().all(Value::is_object) {
            let keys: BTreeSet<&String> = present()
                .filter_map(|v| v.as_object())
                .flat_map(|map| map.keys())
                .collect();
            return Some(keys.into_iter().cloned().map(PathStep::Key).collect());
        }
        if present().all(Value::is_array) {
            let len = present()
                .filter_map(|v| v.as_array())
                .map(Vec::len)
                .max()
                .unwrap_or(0);
            return Some((0..len).map(PathStep::Index).collect());
        }
        None
    }
}

struct Walker {
    replace_paths: Vec<AttributePath>,
    changes: Vec<AttributeChange>,
}

impl Walker {
    fn walk(&mut self, path: AttributePath, node: Node<'_>) {
        let before_sensitive = is_marked(node.before_sensitive);
        let after_sensitive = is_marked(node.after_sensitive);
        let unknown = is_marked(node.unknown);
        if before_sensitive || after_sensitive || unknown {
            let changed = unknown
                || before_sensitive != after_sensitive
                || !same_value(node.before, node.after);
            if changed {
                let before = shown(node.before, before_sensitive, false);
                let after = shown(node.after, after_sensitive, unknown);
                self.push(path, before, after);
            }
            return;
        }
        let both_empty = is_empty(node.before) && is_empty(node.after) && is_empty(node.unknown);
        if both_empty {
            return;
        }
        match node.child_steps() {
            Some(steps) => {
                for step in steps {
                    self.walk(path.child(step.clone()), node.child(&step));
                }
            }
            None => {
                if !same_value(node.before, node.after) {
                    let before = shown(node.before, false, false);
                    let after = shown(node.after, false, false);
                    self.push(path, before, after);
                }
            }
        }
    }

    fn push(&mut self, path: AttributePath, before: ShownValue, after: ShownValue) {
        let forces_replacement = self.replace_paths.iter().any(|p| path.starts_with(p));
        self.changes.push(AttributeChange {
            path,
            before,
            after,
            forces_replacement,
        });
    }
}

fn same_value(before: &Value, after: &Value) -> bool {
    before == after || (is_empty(before) && is_empty(after))
}

fn shown(value: &Value, sensitive: bool, unknown: bool) -> ShownValue {
    if unknown {
        ShownValue::KnownAfterApply
    } else if sensitive {
        ShownValue::Sensitive
    } else if value.is_null() {
        ShownValue::Absent
    } else {
        ShownValue::Value(value.clone())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::document::Action;

    fn change(before: Value, after: Value, unknown: Value, bs: Value, as_: Value) -> Change {
        Change {
            action: Action::Update,
            before,
            after,
            after_unknown: unknown,
            before_sensitive: bs,
            after_sensitive: as_,
            replace_paths: vec![vec![json!("versioning_configuration")]],
            importing: None,
        }
    }

    fn rendered(changes: &[AttributeChange]) -> Vec<String> {
        changes
            .iter()
            .map(|c| format!("{}: {} -> {}", c.path, c.before, c.after))
            .collect()
    }

    #[test]
    fn nested_block_change_is_a_dotted_path() {
        let c = change(
            json!({"bucket": "b", "versioning_configuration": [{"status": "Suspended"}]}),
            json!({"bucket": "b", "versioning_configuration": [{"status": "Enabled"}]}),
            json!({"versioning_configuration": [{}]}),
            json!({}),
            json!({}),
        );
        let changes = changed_attributes(&c);
        assert_eq!(
            rendered(&changes),
            ["versioning_configuration[0].status: \"Suspended\" -> \"Enabled\""]
        );
        assert!(changes[0].forces_replacement);
    }

    #[test]
    fn unknown_and_sensitive_values_are_never_shown() {
        let c = change(
            json!({"password": "old", "tags": {"Cost Center": "a"}}),
            json!({"password": "new", "tags": {"Cost Center": "b"}}),
            json!({"arn": true}),
            json!({"password": true}),
            json!({"password": true}),
        );
        assert_eq!(
            rendered(&changed_attributes(&c)),
            [
                "arn: null -> (known after apply)",
                "password: (sensitive value) -> (sensitive value)",
                "tags[\"Cost Center\"]: \"a\" -> \"b\"",
            ]
        );
    }

    #[test]
    fn empty_collections_and_null_are_the_same() {
        let c = change(
            json!({"tags": null, "list": []}),
            json!({"tags": {}, "list": null}),
            json!({}),
            json!(false),
            json!(false),
        );
        assert!(changed_attributes(&c).is_empty());
    }

    #[test]
    fn false_and_zero_are_values_not_absence() {
        let mut c = change(
            Value::Null,
            json!({"publish": false, "retries": 0, "name": ""}),
            json!({"publish": false, "arn": true}),
            json!(false),
            json!({}),
        );
        c.action = Action::Create;
        assert_eq!(
            rendered(&changed_attributes(&c)),
            [
                "arn: null -> (known after apply)",
                "name: null -> \"\"",
                "publish: null -> false",
                "retries: null -> 0",
            ]
        );
    }

    #[test]
    fn equal_sensitive_values_are_not_a_change() {
        let c = change(
            json!({"secret": "s"}),
            json!({"secret": "s"}),
            json!({}),
            json!({"secret": true}),
            json!({"secret": true}),
        );
        assert!(changed_attributes(&c).is_empty());
    }
}
