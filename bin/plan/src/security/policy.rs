//! IAM policy documents, parsed into statements that compare by meaning: statement order,
//! action order, `"x"` versus `["x"]`, `Sid`s and the case of action names do not matter.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::Value;

use super::pattern::covers;

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Effect {
    /// Grants.
    Allow,
    /// Refuses, whatever else grants.
    Deny,
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Allow => "Allow",
            Self::Deny => "Deny",
        })
    }
}

/// One principal: `*` (anyone), or a kind (`AWS`, `Service`, `Federated`, `CanonicalUser`)
/// and an identifier.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Principal {
    /// `"*"` or `{"AWS": "*"}`: every principal, anonymous ones included.
    Anyone,
    /// A typed principal.
    Named {
        /// `AWS`, `Service`, `Federated`, `CanonicalUser`.
        kind: String,
        /// The ARN, account, service name, ... (an account id is written as its root ARN).
        id: String,
    },
}

impl Principal {
    fn named(kind: &str, id: &str) -> Self {
        if id == "*" && kind.eq_ignore_ascii_case("aws") {
            return Self::Anyone;
        }
        let id = if kind == "AWS" && id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
            format!("arn:aws:iam::{id}:root")
        } else {
            id.to_owned()
        };
        Self::Named {
            kind: kind.to_owned(),
            id,
        }
    }

    fn covers(&self, other: &Principal) -> bool {
        match (self, other) {
            (Self::Anyone, _) => true,
            (Self::Named { .. }, Self::Anyone) => false,
            (Self::Named { kind: k1, id: i1 }, Self::Named { kind: k2, id: i2 }) => {
                k1 == k2 && covers(i1, i2, false)
            }
        }
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Anyone => f.write_str("*"),
            Self::Named { kind, id } => write!(f, "{kind}:{id}"),
        }
    }
}

/// A list that is either what is named (`Action`, `Resource`, `Principal`) or everything but
/// it (`NotAction`, `NotResource`, `NotPrincipal`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Matcher<T: Ord> {
    /// `true` for the `Not*` form.
    pub negated: bool,
    /// The patterns, deduplicated and sorted.
    pub items: BTreeSet<T>,
}

impl<T: Ord> Matcher<T> {
    fn new(negated: bool, items: BTreeSet<T>) -> Self {
        Self { negated, items }
    }
}

/// One condition: `{"Bool": {"aws:SecureTransport": "false"}}` is operator `Bool`, key
/// `aws:securetransport` (keys are case-insensitive) and values `{"false"}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Condition {
    /// The condition operator, e.g. `StringEquals`, `ArnLike`, `Bool`.
    pub operator: String,
    /// The condition key, lowercased.
    pub key: String,
    /// The values (any of them matches), as strings.
    pub values: BTreeSet<String>,
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let values: Vec<&str> = self.values.iter().map(String::as_str).collect();
        write!(f, "{} {} {}", self.operator, self.key, values.join("|"))
    }
}

/// One statement, normalized. `Sid` is not kept: renaming a statement changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Statement {
    /// Allow or Deny.
    pub effect: Effect,
    /// `Principal` / `NotPrincipal`; `None` in identity policies.
    pub principals: Option<Matcher<Principal>>,
    /// `Action` / `NotAction` (patterns as written).
    pub actions: Matcher<String>,
    /// `Resource` / `NotResource`; `None` in trust policies.
    pub resources: Option<Matcher<String>>,
    /// Every condition (all must hold).
    pub conditions: BTreeSet<Condition>,
}

/// A parsed policy document: its distinct statements.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyDocument {
    /// The statements, sorted and deduplicated (order has no meaning in IAM).
    pub statements: BTreeSet<Statement>,
}

/// Why a policy could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// Not JSON at all (e.g. an unresolved `${data.aws_iam_policy_document.x.json}`).
    #[error("not a JSON policy document: {0}")]
    NotJson(String),
    /// JSON, but not the policy grammar.
    #[error("not an IAM policy document: {0}")]
    Grammar(String),
}

fn strings(value: &Value, what: &str) -> Result<BTreeSet<String>, PolicyError> {
    let scalar = |v: &Value| match v {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(PolicyError::Grammar(format!(
            "{what}: expected a string, got {other}"
        ))),
    };
    match value {
        Value::Array(items) => items.iter().map(scalar).collect(),
        Value::Null => Ok(BTreeSet::new()),
        other => Ok(BTreeSet::from([scalar(other)?])),
    }
}

fn principals(value: &Value) -> Result<BTreeSet<Principal>, PolicyError> {
    match value {
        Value::String(s) if s == "*" => Ok(BTreeSet::from([Principal::Anyone])),
        Value::Object(map) => {
            let mut out = BTreeSet::new();
            for (kind, ids) in map {
                for id in strings(ids, "Principal")? {
                    out.insert(Principal::named(kind, &id));
                }
            }
            Ok(out)
        }
        other => Err(PolicyError::Grammar(format!(
            "Principal: expected \"*\" or an object, got {other}"
        ))),
    }
}

fn conditions(value: &Value) -> Result<BTreeSet<Condition>, PolicyError> {
    let mut out = BTreeSet::new();
    let Some(operators) = value.as_object() else {
        return match value {
            Value::Null => Ok(out),
            other => Err(PolicyError::Grammar(format!(
                "Condition: expected an object, got {other}"
            ))),
        };
    };
    for (operator, keys) in operators {
        let keys = keys.as_object().ok_or_else(|| {
            PolicyError::Grammar(format!("Condition {operator}: expected an object"))
        })?;
        for (key, values) in keys {
            out.insert(Condition {
                operator: operator.clone(),
                key: key.to_ascii_lowercase(),
                values: strings(values, "Condition")?,
            });
        }
    }
    Ok(out)
}

/// `positive` or `negative` (e.g. `Action` / `NotAction`) from a JSON statement.
fn pick<'a>(
    statement: &'a serde_json::Map<String, Value>,
    positive: &str,
    negative: &str,
) -> Option<(bool, &'a Value)> {
    statement
        .get(positive)
        .map(|v| (false, v))
        .or_else(|| statement.get(negative).map(|v| (true, v)))
}

impl PolicyDocument {
    /// Parses policy JSON text (what `jsonencode`, `aws_iam_policy_document.json` and the
    /// provider put in a `policy` attribute).
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| PolicyError::NotJson(e.to_string()))?;
        Self::from_value(&value)
    }

    /// Parses an already-decoded policy document.
    pub fn from_value(value: &Value) -> Result<Self, PolicyError> {
        let statement = value
            .get("Statement")
            .ok_or_else(|| PolicyError::Grammar("no Statement".to_owned()))?;
        let list: Vec<&Value> = match statement {
            Value::Array(items) => items.iter().collect(),
            single => vec![single],
        };
        let mut statements = BTreeSet::new();
        for raw in list {
            let map = raw
                .as_object()
                .ok_or_else(|| PolicyError::Grammar("a Statement is not an object".to_owned()))?;
            let effect = match map.get("Effect").and_then(Value::as_str) {
                Some("Allow") => Effect::Allow,
                Some("Deny") => Effect::Deny,
                other => {
                    return Err(PolicyError::Grammar(format!(
                        "Effect must be Allow or Deny, got {other:?}"
                    )));
                }
            };
            let principals = match pick(map, "Principal", "NotPrincipal") {
                Some((negated, v)) => Some(Matcher::new(negated, principals(v)?)),
                None => None,
            };
            let actions = match pick(map, "Action", "NotAction") {
                Some((negated, v)) => Matcher::new(negated, strings(v, "Action")?),
                None => return Err(PolicyError::Grammar("a Statement has no Action".to_owned())),
            };
            let resources = match pick(map, "Resource", "NotResource") {
                Some((negated, v)) => Some(Matcher::new(negated, strings(v, "Resource")?)),
                None => None,
            };
            statements.insert(Statement {
                effect,
                principals,
                actions,
                resources,
                conditions: conditions(map.get("Condition").unwrap_or(&Value::Null))?,
            });
        }
        Ok(Self { statements })
    }

    /// The statements of an `aws_iam_policy_document` data source's configuration or plan
    /// value: `statement` blocks (`effect`, `actions`, `not_actions`, `resources`,
    /// `not_resources`, `principals`/`not_principals` blocks of `type` + `identifiers`,
    /// `condition` blocks of `test` + `variable` + `values`), plus the statements of
    /// `source_policy_documents` and `override_policy_documents` when those are known JSON.
    pub fn from_policy_document_data(value: &Value) -> Result<Self, PolicyError> {
        let mut statements = BTreeSet::new();
        for key in ["source_policy_documents", "override_policy_documents"] {
            for text in value
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(text) = text.as_str() {
                    statements.extend(Self::parse(text)?.statements);
                }
            }
        }
        for block in blocks(value.get("statement")) {
            let effect = match block.get("effect").and_then(Value::as_str) {
                Some("Deny") => Effect::Deny,
                _ => Effect::Allow,
            };
            let list = |key: &str| {
                strings(block.get(key).unwrap_or(&Value::Null), key)
                    .map(|set| Some(set).filter(|s| !s.is_empty()))
            };
            let actions = match (list("actions")?, list("not_actions")?) {
                (Some(items), _) => Matcher::new(false, items),
                (None, Some(items)) => Matcher::new(true, items),
                (None, None) => Matcher::new(false, BTreeSet::new()),
            };
            let resources = match (list("resources")?, list("not_resources")?) {
                (Some(items), _) => Some(Matcher::new(false, items)),
                (None, Some(items)) => Some(Matcher::new(true, items)),
                (None, None) => None,
            };
            let principal_blocks = |key: &str| -> Result<Option<BTreeSet<Principal>>, PolicyError> {
                let mut set = BTreeSet::new();
                for p in blocks(block.get(key)) {
                    let kind = p.get("type").and_then(Value::as_str).unwrap_or("AWS");
                    for id in strings(p.get("identifiers").unwrap_or(&Value::Null), key)? {
                        set.insert(if kind == "*" && id == "*" {
                            Principal::Anyone
                        } else {
                            Principal::named(kind, &id)
                        });
                    }
                }
                Ok(Some(set).filter(|s| !s.is_empty()))
            };
            let principals = match (
                principal_blocks("principals")?,
                principal_blocks("not_principals")?,
            ) {
                (Some(items), _) => Some(Matcher::new(false, items)),
                (None, Some(items)) => Some(Matcher::new(true, items)),
                (None, None) => None,
            };
            let mut conds = BTreeSet::new();
            for c in blocks(block.get("condition")) {
                conds.insert(Condition {
                    operator: c
                        .get("test")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned(),
                    key: c
                        .get("variable")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_ascii_lowercase(),
                    values: strings(c.get("values").unwrap_or(&Value::Null), "values")?,
                });
            }
            statements.insert(Statement {
                effect,
                principals,
                actions,
                resources,
                conditions: conds,
            });
        }
        Ok(Self { statements })
    }
}

/// A nested block in plan (`[{...}]`) or configuration (`{...}` or `[{...}]`) shape.
pub(crate) fn blocks(value: Option<&Value>) -> Vec<&serde_json::Map<String, Value>> {
    match value {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_object).collect(),
        Some(Value::Object(map)) => vec![map],
        _ => Vec::new(),
    }
}

/// One access a statement grants or refuses: a single action, resource and principal.
struct Grant<'a> {
    principal: Option<&'a Principal>,
    action: &'a str,
    resource: Option<&'a str>,
}

impl Statement {
    /// Each (principal, action, resource) of a statement without `Not*` lists; `None` when the
    /// statement uses a `Not*` list (then only whole-statement comparison is sound).
    fn grants(&self) -> Option<Vec<Grant<'_>>> {
        if self.actions.negated
            || self.resources.as_ref().is_some_and(|r| r.negated)
            || self.principals.as_ref().is_some_and(|p| p.negated)
        {
            return None;
        }
        let principals: Vec<Option<&Principal>> = match &self.principals {
            Some(p) => p.items.iter().map(Some).collect(),
            None => vec![None],
        };
        let resources: Vec<Option<&str>> = match &self.resources {
            Some(r) => r.items.iter().map(|s| Some(s.as_str())).collect(),
            None => vec![None],
        };
        let mut out = Vec::new();
        for principal in &principals {
            for action in &self.actions.items {
                for resource in &resources {
                    out.push(Grant {
                        principal: *principal,
                        action,
                        resource: *resource,
                    });
                }
            }
        }
        Some(out)
    }

    /// Whether this statement's match set includes `grant`.
    fn matches(&self, grant: &Grant<'_>) -> bool {
        let principal_ok = match (&self.principals, grant.principal) {
            (None, None) => true,
            (Some(p), Some(g)) if !p.negated => p.items.iter().any(|w| w.covers(g)),
            _ => false,
        };
        let action_ok = !self.actions.negated
            && self
                .actions
                .items
                .iter()
                .any(|w| covers(w, grant.action, true));
        let resource_ok = match (&self.resources, grant.resource) {
            (None, None) => true,
            (Some(r), Some(g)) if !r.negated => r.items.iter().any(|w| covers(w, g, false)),
            _ => false,
        };
        principal_ok && action_ok && resource_ok
    }
}

/// Whether every condition of `loose` is implied by the conditions of `strict` (same operator
/// and key, with a subset of the values). Then `strict` applies in fewer cases.
fn conditions_implied(loose: &BTreeSet<Condition>, strict: &BTreeSet<Condition>) -> bool {
    loose.iter().all(|l| {
        strict
            .iter()
            .any(|s| s.operator == l.operator && s.key == l.key && s.values.is_subset(&l.values))
    })
}

/// Whether `statement` (an Allow) grants nothing beyond what the `Allow` statements of
/// `policy` grant: each of its accesses is matched by one of them under conditions it implies.
pub fn allow_covered(statement: &Statement, policy: &PolicyDocument) -> bool {
    let allows: Vec<&Statement> = policy
        .statements
        .iter()
        .filter(|s| s.effect == Effect::Allow)
        .filter(|s| conditions_implied(&s.conditions, &statement.conditions))
        .collect();
    match statement.grants() {
        Some(grants) => grants.iter().all(|g| allows.iter().any(|s| s.matches(g))),
        None => allows.iter().any(|s| same_except_conditions(s, statement)),
    }
}

/// Whether `statement` (a Deny) still refuses everything it refused, given the `Deny`
/// statements of `policy`: each of its accesses is refused by one of them under conditions
/// that hold whenever this statement's do.
pub fn deny_covered(statement: &Statement, policy: &PolicyDocument) -> bool {
    let denies: Vec<&Statement> = policy
        .statements
        .iter()
        .filter(|s| s.effect == Effect::Deny)
        .filter(|s| conditions_implied(&s.conditions, &statement.conditions))
        .collect();
    match statement.grants() {
        Some(grants) => grants.iter().all(|g| denies.iter().any(|s| s.matches(g))),
        None => denies.iter().any(|s| same_except_conditions(s, statement)),
    }
}

fn same_except_conditions(a: &Statement, b: &Statement) -> bool {
    a.effect == b.effect
        && a.principals == b.principals
        && a.actions == b.actions
        && a.resources == b.resources
}

/// The accesses of an Allow `statement` that `policy` does not already grant, as
/// `action on resource` texts (at most `limit`).
pub fn uncovered_grants(
    statement: &Statement,
    policy: &PolicyDocument,
    limit: usize,
) -> Vec<String> {
    let allows: Vec<&Statement> = policy
        .statements
        .iter()
        .filter(|s| s.effect == Effect::Allow)
        .filter(|s| conditions_implied(&s.conditions, &statement.conditions))
        .collect();
    let Some(grants) = statement.grants() else {
        return Vec::new();
    };
    grants
        .iter()
        .filter(|g| !allows.iter().any(|s| s.matches(g)))
        .take(limit)
        .map(|g| {
            let mut text = g.action.to_owned();
            if let Some(r) = g.resource {
                text.push_str(" on ");
                text.push_str(r);
            }
            if let Some(p) = g.principal {
                text.push_str(" to ");
                text.push_str(&p.to_string());
            }
            text
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> PolicyDocument {
        PolicyDocument::parse(text).expect("valid policy")
    }

    #[test]
    fn order_and_single_strings_do_not_matter() {
        let a = doc(r#"{"Version":"2012-10-17","Statement":[
              {"Sid":"A","Effect":"Allow","Action":["s3:PutObject","s3:GetObject"],"Resource":"arn:b/*"},
              {"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:b"],
               "Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#);
        let b = doc(r#"{"Statement":[
              {"Effect":"Deny","Principal":{"AWS":["*"]},"Action":["s3:*"],"Resource":"arn:b",
               "Condition":{"Bool":{"aws:securetransport":["false"]}}},
              {"Sid":"Renamed","Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":["arn:b/*"]}]}"#);
        assert_eq!(a, b);
    }

    #[test]
    fn a_split_statement_is_covered_and_a_wider_one_is_not() {
        let before = doc(
            r#"{"Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":["arn:b/events/*"]}]}"#,
        );
        let split = doc(
            r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:b/events/*"}}"#,
        );
        let wide = doc(r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#);
        let s = split.statements.iter().next().expect("one");
        assert!(allow_covered(s, &before));
        let w = wide.statements.iter().next().expect("one");
        assert!(!allow_covered(w, &before));
        assert_eq!(uncovered_grants(w, &before, 5), ["s3:* on *"]);
    }

    #[test]
    fn a_deny_without_its_condition_is_wider() {
        let with = doc(
            r#"{"Statement":{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}}"#,
        );
        let without = doc(
            r#"{"Statement":{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}}"#,
        );
        let conditional = with.statements.iter().next().expect("one");
        let unconditional = without.statements.iter().next().expect("one");
        assert!(deny_covered(conditional, &without));
        assert!(!deny_covered(unconditional, &with));
    }

    #[test]
    fn policy_document_data_source_blocks() {
        let data = serde_json::json!({"statement": [{
            "effect": "Allow", "actions": ["s3:GetObject"], "resources": ["arn:b/*"],
            "principals": [{"type": "Service", "identifiers": ["lambda.amazonaws.com"]}],
            "condition": [{"test": "Bool", "variable": "aws:SecureTransport", "values": ["true"]}]
        }]});
        let from_blocks = PolicyDocument::from_policy_document_data(&data).expect("valid");
        let from_json = doc(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"s3:GetObject","Resource":"arn:b/*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}"#,
        );
        assert_eq!(from_blocks, from_json);
    }

    #[test]
    fn malformed_documents_are_errors() {
        assert!(matches!(
            PolicyDocument::parse("${data.x.json}"),
            Err(PolicyError::NotJson(_))
        ));
        assert!(matches!(
            PolicyDocument::parse(r#"{"Statement":[{"Effect":"Maybe","Action":"x"}]}"#),
            Err(PolicyError::Grammar(_))
        ));
    }
}
