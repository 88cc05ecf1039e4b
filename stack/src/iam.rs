//! Typed IAM policy documents (the hand-written layer above the generated `aws_iam_*` bindings):
//! named actions, principals, conditions, and template values, rendered as the JSON string
//! Terraform expects with references kept as interpolations.

use serde::Serialize;

use crate::dsl::{StackError, Tf, TfJson, TfJsonObject, TfLiteral};

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

impl Effect {
    /// `Allow` or `Deny`, as in a policy document.
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }
    }
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
        self.to_json().to_template()
    }

    /// The document as JSON whose strings keep their references: `Version`, then the
    /// statements.
    pub fn to_json(&self) -> TfJson {
        let statements = self.statements.iter().map(Statement::to_json).collect();
        TfJson::from(TfJsonObject::from_iter([
            ("Version", TfJson::from("2012-10-17")),
            ("Statement", TfJson::Array(statements)),
        ]))
    }
}

impl Statement {
    /// The statement as JSON: `Sid`, `Effect`, `Principal` (when set), `Action`, `Resource`
    /// (when not empty), `Condition` (when not empty).
    pub fn to_json(&self) -> TfJson {
        let mut m = TfJsonObject::new();
        m.insert("Sid", self.sid.as_str());
        m.insert("Effect", self.effect.as_str());
        if let Some(p) = &self.principal {
            m.insert(
                "Principal",
                TfJsonObject::from_iter([(p.kind.as_str(), strings(&p.ids))]),
            );
        }
        let actions = self.actions.iter().map(|a| a.as_str().into()).collect();
        m.insert("Action", TfJson::Array(actions));
        if !self.resources.is_empty() {
            m.insert("Resource", strings(&self.resources));
        }
        if !self.condition.is_empty() {
            let operators = self.condition.iter().map(|(operator, keys)| {
                let keys = keys.iter().map(|(key, values)| (key, strings(values)));
                (operator, TfJsonObject::from_iter(keys))
            });
            m.insert("Condition", TfJsonObject::from_iter(operators));
        }
        TfJson::Object(m)
    }
}

/// A JSON array of string values, references kept.
fn strings(values: &[Tf<String>]) -> TfJson {
    TfJson::Array(values.iter().map(TfJson::from).collect())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsl::Expression;

    fn reference(hcl: &str) -> Tf<String> {
        Tf::expr(Expression::raw(hcl))
    }

    #[test]
    fn references_in_resources_principals_and_conditions_stay_interpolations() {
        let bucket = reference("aws_s3_bucket.events.arn");
        let document = PolicyDocument::new(vec![
            Statement::allow(
                "ListOwnPrefix",
                &["s3:ListBucket"],
                vec![bucket.clone(), bucket.suffixed("/events/*")],
            )
            .with_principal(Principal::aws(reference("aws_iam_role.reader.arn")))
            .with_condition(
                "StringEquals",
                "aws:SourceAccount",
                vec![reference("data.aws_caller_identity.current.account_id")],
            )
            .with_condition(
                "StringLike",
                "s3:prefix",
                vec!["events/*".into(), "a \"quoted\" ${literal}".into()],
            ),
            Statement::deny_all_actions("DenyEverythingElse", "s3", vec![]),
        ]);
        let expected = concat!(
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"ListOwnPrefix","Effect":"Allow","#,
            r#""Principal":{"AWS":["${aws_iam_role.reader.arn}"]},"Action":["s3:ListBucket"],"#,
            r#""Resource":["${aws_s3_bucket.events.arn}","${aws_s3_bucket.events.arn}/events/*"],"#,
            r#""Condition":{"StringEquals":{"aws:SourceAccount":["${data.aws_caller_identity.current.account_id}"]},"#,
            r#""StringLike":{"s3:prefix":["events/*","a \"quoted\" $${literal}"]}}},"#,
            r#"{"Sid":"DenyEverythingElse","Effect":"Deny","Action":["s3:*"]}]}"#,
        );
        assert_eq!(document.to_tf().to_tf_json(), serde_json::json!(expected));
        let Tf::Template(parts) = document.to_tf() else {
            panic!("a template");
        };
        let interpolations: Vec<String> = parts
            .iter()
            .filter_map(|p| match p {
                crate::dsl::TemplatePart::Interpolation(e) => Some(e.to_string()),
                crate::dsl::TemplatePart::Literal(_) => None,
            })
            .collect();
        assert_eq!(
            interpolations,
            [
                "aws_iam_role.reader.arn",
                "aws_s3_bucket.events.arn",
                "aws_s3_bucket.events.arn",
                "data.aws_caller_identity.current.account_id",
            ]
        );
    }

    #[test]
    fn a_literal_document_is_its_json_text() {
        let document = PolicyDocument::new(vec![
            Statement::allow("AssumeRole", &["sts:AssumeRole"], vec![])
                .with_principal(Principal::service("lambda.amazonaws.com")),
        ]);
        let json = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "AssumeRole",
                "Effect": "Allow",
                "Principal": {"Service": ["lambda.amazonaws.com"]},
                "Action": ["sts:AssumeRole"],
            }],
        });
        assert_eq!(
            document.to_tf().to_tf_json(),
            serde_json::Value::from(json.to_string())
        );
    }
}
