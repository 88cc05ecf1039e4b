//! Typed IAM policy documents (the hand-written layer above the generated `aws_iam_*` bindings):
//! named actions, principals, conditions, and template values, rendered as the JSON string
//! Terraform expects with references kept as interpolations.

use serde::Serialize;

use crate::dsl::{StackError, Tf, TfLiteral};

/// An IAM action such as `s3:GetObject`. Wildcard actions (`*`, `s3:*`) are rejected: every
/// permission in this stack is named.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct IamAction(String);

impl IamAction {
    /// Parses `service:Action`; rejects wildcards.
    pub fn parse(s: &str) -> Result<Self, String> {
        let (service, action) = s
            .split_once(':')
            .ok_or_else(|| format!("IAM action `{s}` is not `service:Action`"))?;
        let ok = !service.is_empty()
            && service
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !action.is_empty()
            && action.chars().all(|c| c.is_ascii_alphanumeric());
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(format!(
                "IAM action `{s}` is not allowed: name each action, no wildcards"
            ))
        }
    }

    /// The action string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A policy condition: operator → key → values, e.g. `Bool` → `aws:SecureTransport` → `false`.
pub type Condition =
    std::collections::BTreeMap<String, std::collections::BTreeMap<String, Vec<Tf<String>>>>;

/// A statement's principal: `{"AWS": [...]}` or `{"Service": [...]}`.
#[derive(Clone, Debug, PartialEq)]
pub struct Principal {
    /// `AWS`, `Service` or `Federated`.
    pub kind: String,
    /// Principal ARNs or service names.
    pub ids: Vec<Tf<String>>,
}

impl Principal {
    /// A service principal such as `lambda.amazonaws.com`.
    pub fn service(name: impl Into<Tf<String>>) -> Self {
        Self {
            kind: "Service".into(),
            ids: vec![name.into()],
        }
    }

    /// An AWS account or role principal.
    pub fn aws(arn: impl Into<Tf<String>>) -> Self {
        Self {
            kind: "AWS".into(),
            ids: vec![arn.into()],
        }
    }

    /// Every principal (`*`): only in Deny statements.
    pub fn everyone() -> Self {
        Self {
            kind: "AWS".into(),
            ids: vec!["*".into()],
        }
    }
}

/// One statement of a policy document.
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    /// Actions that were rejected when the statement was built (reported by
    /// [`PolicyDocument::render`] as stack errors instead of panicking).
    pub rejected: Vec<String>,
    /// Statement id: says why the statement exists.
    pub sid: String,
    /// `Allow` or `Deny`.
    pub effect: Effect,
    /// Principal (resource and trust policies).
    pub principal: Option<Principal>,
    /// Actions, each named.
    pub actions: Vec<IamAction>,
    /// Resource ARNs (may contain references).
    pub resources: Vec<Tf<String>>,
    /// Conditions.
    pub condition: Condition,
}

impl Statement {
    /// An Allow statement of named actions on resources.
    ///
    /// An action that is not `service:Action` (or a wildcard) is left out and recorded in
    /// [`Statement::rejected`]; [`PolicyDocument::render`] reports it on the stack, so synth fails
    /// listing it with every other problem.
    pub fn allow(sid: &str, actions: &[&str], resources: Vec<Tf<String>>) -> Self {
        let mut parsed = Vec::new();
        let mut rejected = Vec::new();
        for a in actions {
            match IamAction::parse(a) {
                Ok(action) => parsed.push(action),
                Err(e) => rejected.push(format!("statement `{sid}`: {e}")),
            }
        }
        Self {
            rejected,
            sid: sid.into(),
            effect: Effect::Allow,
            principal: None,
            actions: parsed,
            resources,
            condition: Condition::new(),
        }
    }

    /// A Deny of every action of one service (`s3:*`). Wildcard actions exist only in this
    /// form: a deny can only take access away, so "everything" is the safe reading.
    pub fn deny_all_actions(sid: &str, service: &str, resources: Vec<Tf<String>>) -> Self {
        Self {
            rejected: Vec::new(),
            sid: sid.into(),
            effect: Effect::Deny,
            principal: None,
            actions: vec![IamAction(format!("{service}:*"))],
            resources,
            condition: Condition::new(),
        }
    }

    /// Adds a principal.
    pub fn with_principal(mut self, principal: Principal) -> Self {
        self.principal = Some(principal);
        self
    }

    /// Adds a condition `operator` → `key` → `values`.
    pub fn with_condition(mut self, operator: &str, key: &str, values: Vec<Tf<String>>) -> Self {
        self.condition
            .entry(operator.into())
            .or_default()
            .insert(key.into(), values);
        self
    }

    /// Turns the statement into a Deny.
    pub fn deny(mut self) -> Self {
        self.effect = Effect::Deny;
        self
    }
}

/// Statement effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Effect {
    /// Grants.
    Allow,
    /// Denies, overriding any allow.
    Deny,
}

/// An IAM policy document, rendered as a JSON string whose ARNs may be Terraform interpolations.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PolicyDocument {
    /// Statements in order.
    pub statements: Vec<Statement>,
}

impl PolicyDocument {
    /// A document of these statements.
    pub fn new(statements: Vec<Statement>) -> Self {
        Self { statements }
    }

    /// The policy JSON (as [`PolicyDocument::to_tf`]), recording every rejected action of its
    /// statements as an error of `stack` under `construct`.
    pub fn render(&self, stack: &mut crate::dsl::Stack, construct: &str) -> Tf<String> {
        for s in &self.statements {
            for message in &s.rejected {
                stack.record_error(StackError::Invalid {
                    construct: construct.to_string(),
                    message: message.clone(),
                });
            }
        }
        self.to_tf()
    }

    /// The policy JSON as a Terraform string template: literal JSON text with references kept
    /// as `${...}` interpolations (in principals, resources and condition values).
    pub fn to_tf(&self) -> Tf<String> {
        let mut marks = Marks::default();
        let statements: Vec<serde_json::Value> = self
            .statements
            .iter()
            .map(|s| {
                let mut m = serde_json::Map::new();
                m.insert("Sid".into(), s.sid.clone().into());
                m.insert(
                    "Effect".into(),
                    serde_json::to_value(s.effect).unwrap_or_default(),
                );
                if let Some(p) = &s.principal {
                    let ids: Vec<serde_json::Value> =
                        p.ids.iter().map(|id| marks.mark(id)).collect();
                    m.insert(
                        "Principal".into(),
                        serde_json::json!({ p.kind.clone(): ids }),
                    );
                }
                let actions: Vec<&str> = s.actions.iter().map(IamAction::as_str).collect();
                m.insert("Action".into(), actions.into());
                if !s.resources.is_empty() {
                    let rs: Vec<serde_json::Value> =
                        s.resources.iter().map(|r| marks.mark(r)).collect();
                    m.insert("Resource".into(), rs.into());
                }
                if !s.condition.is_empty() {
                    let mut ops = serde_json::Map::new();
                    for (op, keys) in &s.condition {
                        let mut km = serde_json::Map::new();
                        for (k, vals) in keys {
                            let vs: Vec<serde_json::Value> =
                                vals.iter().map(|v| marks.mark(v)).collect();
                            km.insert(k.clone(), vs.into());
                        }
                        ops.insert(op.clone(), km.into());
                    }
                    m.insert("Condition".into(), ops.into());
                }
                serde_json::Value::Object(m)
            })
            .collect();
        let doc = serde_json::json!({ "Version": "2012-10-17", "Statement": statements });
        marks.splice(&doc.to_string())
    }
}

/// Placeholders for template values while a JSON document is serialized.
#[derive(Default)]
struct Marks {
    values: Vec<Tf<String>>,
}

impl Marks {
    const OPEN: &'static str = "\"\\u0001";
    const CLOSE: &'static str = "\\u0001\"";

    fn mark(&mut self, v: &Tf<String>) -> serde_json::Value {
        self.values.push(v.clone());
        serde_json::Value::String(format!("\u{1}{}\u{1}", self.values.len() - 1))
    }

    /// Replaces each quoted placeholder with the quoted template value.
    fn splice(&self, text: &str) -> Tf<String> {
        let mut parts: Vec<Tf<String>> = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find(Self::OPEN) {
            parts.push(rest[..start].into());
            let after = &rest[start + Self::OPEN.len()..];
            let Some(end) = after.find(Self::CLOSE) else {
                break;
            };
            let index: usize = after[..end].parse().unwrap_or(usize::MAX);
            if let Some(v) = self.values.get(index) {
                parts.push("\"".into());
                parts.push(json_string_body(v));
                parts.push("\"".into());
            }
            rest = &after[end + Self::CLOSE.len()..];
        }
        parts.push(rest.into());
        Tf::template(parts)
    }
}

/// A string value as it appears between the quotes of a JSON string (literals JSON-escaped).
fn json_string_body(value: &Tf<String>) -> Tf<String> {
    let escape = |s: &str| {
        let quoted = serde_json::Value::String(s.to_string()).to_string();
        quoted[1..quoted.len() - 1].to_string()
    };
    match value {
        Tf::Literal(s) => Tf::Literal(escape(s)),
        Tf::Expr(e) => Tf::Expr(e.clone()),
        Tf::Template(parts) => Tf::Template(
            parts
                .iter()
                .map(|p| match p {
                    crate::dsl::TemplatePart::Literal(s) => {
                        crate::dsl::TemplatePart::Literal(escape(s))
                    }
                    other => other.clone(),
                })
                .collect(),
        ),
    }
}

/// Lets a policy document be used where a string attribute is expected.
impl From<&PolicyDocument> for Tf<String> {
    fn from(p: &PolicyDocument) -> Self {
        p.to_tf()
    }
}

impl TfLiteral for IamAction {
    fn to_tf_json(&self) -> serde_json::Value {
        serde_json::Value::String(self.0.clone())
    }
    fn to_hcl(&self) -> String {
        crate::dsl::hcl_quote(&self.0)
    }
}
