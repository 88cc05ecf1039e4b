//! Security changes: what a plan or a synth diff grants or revokes, and whether it widens
//! access (**broadening**) or not.
//!
//! One analysis serves `callflow plan` (each resource change's `before` / `after` in a
//! `terraform show -json` document, [`analyze_plan`]) and `callflow diff` (each element of two
//! synthesized `cdk.tf.json` documents, [`analyze_synth_diff`]). Policies are parsed, never
//! compared as strings ([`policy::PolicyDocument`]): reordered statements or actions, `"x"`
//! versus `["x"]` and renamed `Sid`s are no change; a statement split in two is no change.
//!
//! | Resource types | What is compared |
//! |---|---|
//! | `aws_iam_policy`, `aws_iam_role_policy`, `aws_iam_user_policy`, `aws_iam_group_policy` | `policy` statements |
//! | `aws_iam_role` | `assume_role_policy` (who may assume), `inline_policy[*].policy`, `managed_policy_arns` |
//! | `aws_iam_*_policy_attachment` | the attached `policy_arn` |
//! | `aws_s3_bucket_policy`, `aws_kms_key`, `aws_sns_topic_policy`, `aws_sqs_queue_policy`, any other type with a JSON `policy` | resource policy statements (principals included) |
//! | `data.aws_iam_policy_document` | its `statement` blocks |
//! | `aws_lambda_permission` | principal, source ARN / account / organization, action, function URL auth |
//! | `aws_api_gateway_method` | `authorization`, `authorizer_id`, `authorization_scopes`, `api_key_required` |
//! | `aws_api_gateway_rest_api` | the OpenAPI `body`: each route's security requirements and the authorizers of its schemes |
//! | `aws_s3_bucket_public_access_block`, `aws_s3_account_public_access_block` | the four block flags |
//! | `aws_s3_bucket_server_side_encryption_configuration`, `aws_kms_key` | default encryption algorithm and key; key rotation |
//! | `aws_security_group` (inline rules), `aws_security_group_rule`, `aws_vpc_security_group_{ingress,egress}_rule` | each rule per source: new ones broaden, removed ones narrow |
//!
//! Broadening: a new Allow not covered by the old statements (wider action, resource or
//! principal pattern, a dropped condition), a removed or narrowed Deny (e.g. the
//! `aws:SecureTransport` deny of a bucket policy), a public-access flag turned off, a Lambda
//! permission for a new principal or from any source, a route or method without its
//! authorizer, weaker default encryption, and any policy that is known only after apply or
//! cannot be parsed (it cannot be shown not to widen access).

mod api;
mod network;
pub mod pattern;
pub mod policy;

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::document::{Action, PlanDocument, ResourceMode};
use policy::{Effect, PolicyDocument, Statement, allow_covered, deny_covered, uncovered_grants};

/// Whether a change widens access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Grants something not granted before (or cannot be shown not to).
    Broadening,
    /// Security-relevant, but neither provably wider nor narrower (e.g. another authorizer).
    Changed,
    /// Grants nothing new: removes access, or restates what was granted.
    Narrowing,
}

impl Direction {
    /// `broadening`, `changed`, `narrowing`.
    pub fn keyword(self) -> &'static str {
        match self {
            Self::Broadening => "broadening",
            Self::Changed => "changed",
            Self::Narrowing => "narrowing",
        }
    }
}

/// What kind of security setting changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SecurityAspect {
    /// What an identity (role, user, group) may do.
    IdentityPolicy,
    /// Who may assume a role.
    TrustPolicy,
    /// Who may use a resource (bucket, key, topic, queue, API policies).
    ResourcePolicy,
    /// A managed policy attached to an identity.
    PolicyAttachment,
    /// Who may invoke a Lambda function.
    LambdaPermission,
    /// Who may call an API route or method.
    ApiAuthorization,
    /// S3 Block Public Access.
    PublicAccessBlock,
    /// Encryption at rest.
    Encryption,
    /// A security group rule: who may reach what over the network.
    NetworkRule,
}

impl SecurityAspect {
    /// A short human name.
    pub fn label(self) -> &'static str {
        match self {
            Self::IdentityPolicy => "identity policy",
            Self::TrustPolicy => "trust policy",
            Self::ResourcePolicy => "resource policy",
            Self::PolicyAttachment => "policy attachment",
            Self::LambdaPermission => "Lambda permission",
            Self::ApiAuthorization => "API authorization",
            Self::PublicAccessBlock => "public access block",
            Self::Encryption => "encryption",
            Self::NetworkRule => "security group rule",
        }
    }
}

/// Whether a grant appears, disappears or is modified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeSign {
    /// A statement or setting that is new.
    Added,
    /// A statement or setting that is gone.
    Removed,
    /// A setting with another value.
    Modified,
}

impl ChangeSign {
    /// `+`, `-`, `~`.
    pub fn symbol(self) -> &'static str {
        match self {
            Self::Added => "+",
            Self::Removed => "-",
            Self::Modified => "~",
        }
    }
}

/// A policy statement as shown to a reviewer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatementView {
    /// `Allow` or `Deny`.
    pub effect: String,
    /// Principals (`*` for anyone; `kind:id` otherwise); empty in identity policies.
    pub principals: Vec<String>,
    /// Whether `principals` is a `NotPrincipal` list.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub not_principal: bool,
    /// Action patterns.
    pub actions: Vec<String>,
    /// Whether `actions` is a `NotAction` list.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub not_action: bool,
    /// Resource patterns; empty in trust policies.
    pub resources: Vec<String>,
    /// Whether `resources` is a `NotResource` list.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub not_resource: bool,
    /// Conditions as `Operator key value|value`.
    pub conditions: Vec<String>,
}

impl StatementView {
    fn of(statement: &Statement) -> Self {
        let (principals, not_principal) = match &statement.principals {
            Some(m) => (m.items.iter().map(ToString::to_string).collect(), m.negated),
            None => (Vec::new(), false),
        };
        let (resources, not_resource) = match &statement.resources {
            Some(m) => (m.items.iter().cloned().collect(), m.negated),
            None => (Vec::new(), false),
        };
        Self {
            effect: statement.effect.to_string(),
            principals,
            not_principal,
            actions: statement.actions.items.iter().cloned().collect(),
            not_action: statement.actions.negated,
            resources,
            not_resource,
            conditions: statement
                .conditions
                .iter()
                .map(ToString::to_string)
                .collect(),
        }
    }
}

fn list(items: &[String], limit: usize) -> String {
    let mut shown: Vec<&str> = items.iter().take(limit).map(String::as_str).collect();
    let more = items.len().saturating_sub(limit);
    let extra;
    if more > 0 {
        extra = format!("+{more} more");
        shown.push(&extra);
    }
    shown.join(", ")
}

impl fmt::Display for StatementView {
    /// `Allow s3:GetObject on arn:...:events/* to Service:lambda.amazonaws.com when Bool ...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.effect)?;
        if self.not_action {
            f.write_str("all but ")?;
        }
        f.write_str(&list(&self.actions, 6))?;
        if !self.resources.is_empty() {
            f.write_str(if self.not_resource {
                " on all but "
            } else {
                " on "
            })?;
            f.write_str(&list(&self.resources, 4))?;
        }
        if !self.principals.is_empty() {
            f.write_str(if self.not_principal {
                " to all but "
            } else {
                " to "
            })?;
            f.write_str(&list(&self.principals, 4))?;
        }
        if !self.conditions.is_empty() {
            write!(f, " when {}", self.conditions.join(" and "))?;
        }
        Ok(())
    }
}

/// One security-relevant change of one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecurityChange {
    /// The resource address (`aws_iam_role_policy.x`; `stack/address` for a synth diff of
    /// several stacks).
    pub address: String,
    /// The resource type.
    pub resource_type: String,
    /// What kind of setting.
    pub aspect: SecurityAspect,
    /// Where in the resource: an attribute (`policy`, `inline_policy["read"]`,
    /// `block_public_policy`) or an API route (`POST /events`).
    pub location: String,
    /// Added, removed or modified.
    pub change: ChangeSign,
    /// Broadening, changed or narrowing.
    pub direction: Direction,
    /// The statement added or removed, for policy changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement: Option<StatementView>,
    /// One sentence: what this grants or revokes and why it is classified so.
    pub detail: String,
}

impl fmt::Display for SecurityChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} ({}): ",
            self.change.symbol(),
            self.address,
            self.location,
            self.aspect.label()
        )?;
        if let Some(statement) = &self.statement {
            write!(f, "{statement} — ")?;
        }
        f.write_str(&self.detail)
    }
}

/// Whether any change in `changes` is broadening.
pub fn any_broadening(changes: &[SecurityChange]) -> bool {
    changes.iter().any(|c| c.direction == Direction::Broadening)
}

/// One side (before or after) of an object: its value and, for plans, its unknown and
/// sensitive marks (same shape as the value, `true` at marked leaves).
#[derive(Debug, Clone, Copy)]
pub struct ObjectSide<'a> {
    /// The object (`null` when it does not exist on this side).
    pub value: &'a Value,
    /// `after_unknown` (or `false`).
    pub unknown: &'a Value,
    /// `before_sensitive` / `after_sensitive` (or `false`).
    pub sensitive: &'a Value,
}

static NULL: Value = Value::Null;
static FALSE: Value = Value::Bool(false);

impl<'a> ObjectSide<'a> {
    /// A fully known, non-sensitive object (a synthesized configuration element).
    pub fn known(value: &'a Value) -> Self {
        Self {
            value,
            unknown: &FALSE,
            sensitive: &FALSE,
        }
    }

    /// The side of an object that does not exist.
    pub fn absent() -> Self {
        Self::known(&NULL)
    }

    fn exists(&self) -> bool {
        !self.value.is_null()
    }

    fn child(&self, key: &str) -> ObjectSide<'a> {
        let mark = |m: &'a Value| -> &'a Value {
            match m {
                Value::Bool(true) => m,
                Value::Object(map) => map.get(key).unwrap_or(&FALSE),
                _ => &FALSE,
            }
        };
        ObjectSide {
            value: self.value.get(key).unwrap_or(&NULL),
            unknown: mark(self.unknown),
            sensitive: mark(self.sensitive),
        }
    }

    fn index(&self, i: usize) -> ObjectSide<'a> {
        let mark = |m: &'a Value| -> &'a Value {
            match m {
                Value::Bool(true) => m,
                Value::Array(items) => items.get(i).unwrap_or(&FALSE),
                _ => &FALSE,
            }
        };
        ObjectSide {
            value: self.value.get(i).unwrap_or(&NULL),
            unknown: mark(self.unknown),
            sensitive: mark(self.sensitive),
        }
    }

    fn attr(&self, key: &str) -> Attr<'a> {
        let child = self.child(key);
        if child.unknown == &Value::Bool(true) {
            Attr::Unknown
        } else if child.sensitive == &Value::Bool(true) {
            Attr::Sensitive(child.value)
        } else if child.value.is_null() {
            Attr::Absent
        } else {
            Attr::Known(child.value)
        }
    }

    fn str_attr(&self, key: &str) -> Option<&'a str> {
        match self.attr(key) {
            Attr::Known(Value::String(s)) if !s.is_empty() => Some(s),
            _ => None,
        }
    }

    fn bool_attr(&self, key: &str) -> Option<bool> {
        match self.attr(key) {
            Attr::Known(Value::Bool(b)) => Some(*b),
            Attr::Known(Value::String(s)) => s.parse().ok(),
            _ => None,
        }
    }
}

/// An attribute as the analysis may use it.
#[derive(Debug, Clone, Copy)]
enum Attr<'a> {
    Absent,
    Known(&'a Value),
    /// Known, but its content must not be shown.
    Sensitive(&'a Value),
    /// Decided during apply.
    Unknown,
}

/// Collects the changes of one resource.
struct Sink<'a> {
    address: &'a str,
    resource_type: &'a str,
    out: Vec<SecurityChange>,
}

impl Sink<'_> {
    fn push(
        &mut self,
        aspect: SecurityAspect,
        location: &str,
        change: ChangeSign,
        direction: Direction,
        statement: Option<StatementView>,
        detail: String,
    ) {
        self.out.push(SecurityChange {
            address: self.address.to_owned(),
            resource_type: self.resource_type.to_owned(),
            aspect,
            location: location.to_owned(),
            change,
            direction,
            statement,
            detail,
        });
    }
}

/// The security changes of one resource between `before` and `after` (either may be absent).
pub fn analyze_resource(
    address: &str,
    resource_type: &str,
    mode: ResourceMode,
    before: ObjectSide<'_>,
    after: ObjectSide<'_>,
) -> Vec<SecurityChange> {
    let mut sink = Sink {
        address,
        resource_type,
        out: Vec::new(),
    };
    if mode == ResourceMode::Data {
        if resource_type == "aws_iam_policy_document" {
            policy_document_data(&mut sink, before, after);
        }
        return sink.out;
    }
    use SecurityAspect as A;
    match resource_type {
        "aws_iam_policy"
        | "aws_iam_role_policy"
        | "aws_iam_user_policy"
        | "aws_iam_group_policy" => {
            policy_attr(
                &mut sink,
                A::IdentityPolicy,
                "policy",
                before.attr("policy"),
                after.attr("policy"),
            );
        }
        "aws_iam_role" => {
            policy_attr(
                &mut sink,
                A::TrustPolicy,
                "assume_role_policy",
                before.attr("assume_role_policy"),
                after.attr("assume_role_policy"),
            );
            inline_policies(&mut sink, before, after);
            arn_set(&mut sink, "managed_policy_arns", before, after);
        }
        "aws_iam_role_policy_attachment"
        | "aws_iam_user_policy_attachment"
        | "aws_iam_group_policy_attachment"
        | "aws_iam_policy_attachment" => attachment(&mut sink, before, after),
        "aws_lambda_permission" => api::lambda_permission(&mut sink, before, after),
        "aws_api_gateway_method" => api::method(&mut sink, before, after),
        "aws_api_gateway_rest_api" => {
            api::rest_api_body(&mut sink, before.attr("body"), after.attr("body"));
            policy_attr(
                &mut sink,
                A::ResourcePolicy,
                "policy",
                before.attr("policy"),
                after.attr("policy"),
            );
        }
        "aws_s3_bucket_public_access_block" | "aws_s3_account_public_access_block" => {
            public_access_block(&mut sink, before, after);
        }
        "aws_security_group"
        | "aws_security_group_rule"
        | "aws_vpc_security_group_ingress_rule"
        | "aws_vpc_security_group_egress_rule" => {
            network::security_group(&mut sink, resource_type, before, after);
        }
        "aws_s3_bucket_server_side_encryption_configuration" => {
            bucket_encryption(&mut sink, before, after);
        }
        "aws_kms_key" => {
            policy_attr(
                &mut sink,
                A::ResourcePolicy,
                "policy",
                before.attr("policy"),
                after.attr("policy"),
            );
            if before.bool_attr("enable_key_rotation") == Some(true)
                && after.exists()
                && after.bool_attr("enable_key_rotation") != Some(true)
                && !matches!(after.attr("enable_key_rotation"), Attr::Unknown)
            {
                sink.push(
                    A::Encryption,
                    "enable_key_rotation",
                    ChangeSign::Modified,
                    Direction::Broadening,
                    None,
                    "automatic key rotation turned off".to_owned(),
                );
            }
        }
        _ => {
            // Any other resource with a JSON policy document (topic, queue, repository,
            // secret policies...).
            let has_policy = |side: ObjectSide<'_>| match side.attr("policy") {
                Attr::Known(Value::String(s)) => PolicyDocument::parse(s).is_ok(),
                Attr::Unknown | Attr::Sensitive(_) => resource_type.ends_with("_policy"),
                _ => false,
            };
            if has_policy(before) || has_policy(after) {
                policy_attr(
                    &mut sink,
                    A::ResourcePolicy,
                    "policy",
                    before.attr("policy"),
                    after.attr("policy"),
                );
            }
        }
    }
    sink.out
}

/// The policy in an attribute: JSON text, or (in a configuration) a JSON object.
fn parse_policy(value: &Value) -> Result<PolicyDocument, policy::PolicyError> {
    match value {
        Value::String(text) => PolicyDocument::parse(text),
        other => PolicyDocument::from_value(other),
    }
}

fn policy_attr(
    sink: &mut Sink<'_>,
    aspect: SecurityAspect,
    location: &str,
    before: Attr<'_>,
    after: Attr<'_>,
) {
    // Providers report an unset policy as "" (e.g. the computed `inline_policy` block of
    // `aws_iam_role`): no policy, not a malformed one.
    fn unset(attr: Attr<'_>) -> Attr<'_> {
        match attr {
            Attr::Known(Value::String(s)) if s.trim().is_empty() => Attr::Absent,
            other => other,
        }
    }
    let (before, after) = (unset(before), unset(after));
    if matches!((before, after), (Attr::Absent, Attr::Absent)) {
        return;
    }
    let parse = |attr: Attr<'_>| match attr {
        Attr::Absent => Some(Ok(PolicyDocument::default())),
        Attr::Known(v) | Attr::Sensitive(v) => Some(parse_policy(v)),
        Attr::Unknown => None,
    };
    let sensitive = matches!(before, Attr::Sensitive(_)) || matches!(after, Attr::Sensitive(_));
    let sign = match (&before, &after) {
        (Attr::Absent, _) => ChangeSign::Added,
        (_, Attr::Absent) => ChangeSign::Removed,
        _ => ChangeSign::Modified,
    };
    let (old, new) = match (parse(before), parse(after)) {
        (_, None) => {
            if matches!(before, Attr::Unknown) {
                return;
            }
            sink.push(
                aspect,
                location,
                sign,
                Direction::Broadening,
                None,
                "the new policy is known only after apply, so it cannot be shown not to widen access; review it after apply".to_owned(),
            );
            return;
        }
        (None, Some(_)) => return,
        (Some(old), Some(new)) => (old, new),
    };
    let (old, new) = match (old, new) {
        (Ok(old), Ok(new)) => (old, new),
        (old, new) => {
            let same = match (before, after) {
                (Attr::Known(a) | Attr::Sensitive(a), Attr::Known(b) | Attr::Sensitive(b)) => {
                    a == b
                }
                _ => false,
            };
            if same {
                return;
            }
            let error = old
                .err()
                .or(new.err())
                .map(|e| e.to_string())
                .unwrap_or_default();
            sink.push(
                aspect,
                location,
                sign,
                Direction::Broadening,
                None,
                format!("the policy cannot be analyzed ({error}); review it by hand"),
            );
            return;
        }
    };
    let deltas = statement_deltas(&old, &new);
    if sensitive {
        if let Some(direction) = deltas.iter().map(|d| d.direction).min() {
            sink.push(
                aspect,
                location,
                sign,
                direction,
                None,
                format!(
                    "{} statement(s) changed in a sensitive policy (content withheld)",
                    deltas.len()
                ),
            );
        }
        return;
    }
    for delta in deltas {
        sink.push(
            aspect,
            location,
            delta.sign,
            delta.direction,
            Some(StatementView::of(delta.statement)),
            delta.detail,
        );
    }
}

/// One statement added or removed, classified.
struct StatementDelta<'a> {
    sign: ChangeSign,
    direction: Direction,
    statement: &'a Statement,
    detail: String,
}

/// Added and removed statements with their direction; nothing when the new document grants
/// and refuses exactly what the old one did (statements reordered, split or merged).
fn statement_deltas<'a>(
    old: &'a PolicyDocument,
    new: &'a PolicyDocument,
) -> Vec<StatementDelta<'a>> {
    let mut deltas = Vec::new();
    let mut real_change = false;
    for statement in new.statements.difference(&old.statements) {
        let (direction, detail) = match statement.effect {
            Effect::Allow => {
                if allow_covered(statement, old) {
                    (
                        Direction::Narrowing,
                        "grants nothing that was not granted before".to_owned(),
                    )
                } else {
                    real_change = true;
                    let uncovered = uncovered_grants(statement, old, 4);
                    let detail = if uncovered.is_empty() {
                        "grants access not granted before".to_owned()
                    } else {
                        format!("newly grants {}", uncovered.join("; "))
                    };
                    (Direction::Broadening, detail)
                }
            }
            Effect::Deny => {
                if deny_covered(statement, old) {
                    (
                        Direction::Narrowing,
                        "refuses what was already refused".to_owned(),
                    )
                } else {
                    real_change = true;
                    (Direction::Narrowing, "refuses access".to_owned())
                }
            }
        };
        deltas.push(StatementDelta {
            sign: ChangeSign::Added,
            direction,
            statement,
            detail,
        });
    }
    for statement in old.statements.difference(&new.statements) {
        let (direction, detail) = match statement.effect {
            Effect::Allow => {
                if allow_covered(statement, new) {
                    (
                        Direction::Narrowing,
                        "still granted by the new statements".to_owned(),
                    )
                } else {
                    real_change = true;
                    (Direction::Narrowing, "no longer granted".to_owned())
                }
            }
            Effect::Deny => {
                if deny_covered(statement, new) {
                    (
                        Direction::Narrowing,
                        "still refused by the new statements".to_owned(),
                    )
                } else {
                    real_change = true;
                    let condition = if statement.conditions.is_empty() {
                        String::new()
                    } else {
                        let keys: Vec<&str> = statement
                            .conditions
                            .iter()
                            .map(|c| c.key.as_str())
                            .collect();
                        format!(" (the deny on {} is gone)", keys.join(", "))
                    };
                    (
                        Direction::Broadening,
                        format!("no longer refused: a deny was removed or narrowed{condition}"),
                    )
                }
            }
        };
        deltas.push(StatementDelta {
            sign: ChangeSign::Removed,
            direction,
            statement,
            detail,
        });
    }
    if real_change { deltas } else { Vec::new() }
}

fn inline_policies(sink: &mut Sink<'_>, before: ObjectSide<'_>, after: ObjectSide<'_>) {
    fn named(side: ObjectSide<'_>) -> std::collections::BTreeMap<String, Attr<'_>> {
        let mut out = std::collections::BTreeMap::new();
        let blocks = side.child("inline_policy");
        let count = blocks
            .value
            .as_array()
            .map_or(usize::from(blocks.value.is_object()), Vec::len);
        for i in 0..count {
            let block = if blocks.value.is_object() {
                blocks
            } else {
                blocks.index(i)
            };
            let name = block.str_attr("name").unwrap_or("").to_owned();
            out.insert(name, block.attr("policy"));
        }
        out
    }
    let (old, new) = (named(before), named(after));
    let names: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for name in names {
        let location = format!("inline_policy[{}]", Value::String(name.clone()));
        let b = old.get(name).copied().unwrap_or(Attr::Absent);
        let a = new.get(name).copied().unwrap_or(Attr::Absent);
        policy_attr(sink, SecurityAspect::IdentityPolicy, &location, b, a);
    }
}

pub(crate) fn strings_of(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Value::String(s) => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn arn_set(sink: &mut Sink<'_>, key: &str, before: ObjectSide<'_>, after: ObjectSide<'_>) {
    let set = |side: ObjectSide<'_>| -> std::collections::BTreeSet<String> {
        match side.attr(key) {
            Attr::Known(v) => strings_of(v).into_iter().collect(),
            _ => Default::default(),
        }
    };
    let (old, new) = (set(before), set(after));
    for arn in new.difference(&old) {
        sink.push(
            SecurityAspect::PolicyAttachment,
            key,
            ChangeSign::Added,
            Direction::Broadening,
            None,
            format!("attaches managed policy {arn}"),
        );
    }
    for arn in old.difference(&new) {
        sink.push(
            SecurityAspect::PolicyAttachment,
            key,
            ChangeSign::Removed,
            Direction::Narrowing,
            None,
            format!("detaches managed policy {arn}"),
        );
    }
}

fn attachment(sink: &mut Sink<'_>, before: ObjectSide<'_>, after: ObjectSide<'_>) {
    let arn = |side: ObjectSide<'_>| match side.attr("policy_arn") {
        Attr::Known(Value::String(s)) => Some(s.clone()),
        Attr::Unknown => Some("(known after apply)".to_owned()),
        _ => None,
    };
    let (old, new) = (arn(before), arn(after));
    let exists = |side: ObjectSide<'_>| side.exists();
    if old == new && exists(before) == exists(after) {
        return;
    }
    if let Some(arn) = new.filter(|_| exists(after)) {
        sink.push(
            SecurityAspect::PolicyAttachment,
            "policy_arn",
            ChangeSign::Added,
            Direction::Broadening,
            None,
            format!("attaches managed policy {arn}"),
        );
    }
    if let Some(arn) = old.filter(|_| exists(before)) {
        sink.push(
            SecurityAspect::PolicyAttachment,
            "policy_arn",
            ChangeSign::Removed,
            Direction::Narrowing,
            None,
            format!("detaches managed policy {arn}"),
        );
    }
}

const PUBLIC_ACCESS_FLAGS: [&str; 4] = [
    "block_public_acls",
    "block_public_policy",
    "ignore_public_acls",
    "restrict_public_buckets",
];

fn public_access_block(sink: &mut Sink<'_>, before: ObjectSide<'_>, after: ObjectSide<'_>) {
    for flag in PUBLIC_ACCESS_FLAGS {
        let old = before.exists() && before.bool_attr(flag) == Some(true);
        let new_attr = after.attr(flag);
        let new = after.exists() && after.bool_attr(flag) == Some(true);
        if matches!(new_attr, Attr::Unknown) || old == new {
            continue;
        }
        let (sign, direction, detail) = match (old, after.exists()) {
            (true, true) => (
                ChangeSign::Modified,
                Direction::Broadening,
                format!("{flag} turned off"),
            ),
            (true, false) => (
                ChangeSign::Removed,
                Direction::Broadening,
                format!("the public access block is removed: {flag} no longer enforced"),
            ),
            (false, _) => (
                if before.exists() {
                    ChangeSign::Modified
                } else {
                    ChangeSign::Added
                },
                Direction::Narrowing,
                format!("{flag} turned on"),
            ),
        };
        sink.push(
            SecurityAspect::PublicAccessBlock,
            flag,
            sign,
            direction,
            None,
            detail,
        );
    }
}

/// `(sse_algorithm, kms_master_key_id)` of the first rule's default encryption.
fn default_encryption(side: ObjectSide<'_>) -> Option<(String, Option<String>)> {
    if !side.exists() {
        return None;
    }
    let rule = first_block(side.child("rule"))?;
    let default = first_block(rule.child("apply_server_side_encryption_by_default"))?;
    let algorithm = default.str_attr("sse_algorithm")?.to_owned();
    let key = match default.attr("kms_master_key_id") {
        Attr::Known(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Attr::Unknown => Some("(known after apply)".to_owned()),
        _ => None,
    };
    Some((algorithm, key))
}

/// The first element of a nested block (`[{...}]` in plans, `{...}` or `[{...}]` in synth).
fn first_block(side: ObjectSide<'_>) -> Option<ObjectSide<'_>> {
    match side.value {
        Value::Array(items) if !items.is_empty() => Some(side.index(0)),
        Value::Object(_) => Some(side),
        _ => None,
    }
}

fn bucket_encryption(sink: &mut Sink<'_>, before: ObjectSide<'_>, after: ObjectSide<'_>) {
    let old = default_encryption(before);
    let new = default_encryption(after);
    if old == new {
        return;
    }
    let strength = |alg: &str| match alg {
        "aws:kms:dsse" => 3,
        "aws:kms" => 2,
        "AES256" => 1,
        _ => 0,
    };
    let describe = |e: &(String, Option<String>)| match &e.1 {
        Some(key) => format!("{} with key {key}", e.0),
        None => e.0.clone(),
    };
    let (sign, direction, detail) = match (&old, &new) {
        (Some(o), None) => (
            if after.exists() {
                ChangeSign::Modified
            } else {
                ChangeSign::Removed
            },
            Direction::Broadening,
            format!("default encryption {} is removed", describe(o)),
        ),
        (None, Some(n)) => (
            ChangeSign::Added,
            Direction::Narrowing,
            format!("default encryption {}", describe(n)),
        ),
        (Some(o), Some(n)) => {
            let direction = match strength(&n.0).cmp(&strength(&o.0)) {
                std::cmp::Ordering::Less => Direction::Broadening,
                std::cmp::Ordering::Greater => Direction::Narrowing,
                std::cmp::Ordering::Equal if o.1.is_some() && n.1.is_none() => {
                    Direction::Broadening
                }
                std::cmp::Ordering::Equal => Direction::Changed,
            };
            (
                ChangeSign::Modified,
                direction,
                format!("default encryption {} -> {}", describe(o), describe(n)),
            )
        }
        (None, None) => return,
    };
    sink.push(
        SecurityAspect::Encryption,
        "rule",
        sign,
        direction,
        None,
        detail,
    );
}

fn policy_document_data(sink: &mut Sink<'_>, before: ObjectSide<'_>, after: ObjectSide<'_>) {
    let parse = |side: ObjectSide<'_>| -> Option<Result<PolicyDocument, policy::PolicyError>> {
        if !side.exists() {
            return Some(Ok(PolicyDocument::default()));
        }
        if side.unknown == &Value::Bool(true)
            || side.child("statement").unknown == &Value::Bool(true)
        {
            return None;
        }
        Some(PolicyDocument::from_policy_document_data(side.value))
    };
    let (old, new) = match (parse(before), parse(after)) {
        (Some(Ok(old)), Some(Ok(new))) => (old, new),
        (_, None) => {
            sink.push(
                SecurityAspect::IdentityPolicy,
                "statement",
                ChangeSign::Modified,
                Direction::Broadening,
                None,
                "the policy document is known only after apply; review it after apply".to_owned(),
            );
            return;
        }
        (Some(Err(e)), _) | (_, Some(Err(e))) => {
            sink.push(
                SecurityAspect::IdentityPolicy,
                "statement",
                ChangeSign::Modified,
                Direction::Broadening,
                None,
                format!("the policy document cannot be analyzed ({e}); review it by hand"),
            );
            return;
        }
        (None, _) => return,
    };
    for delta in statement_deltas(&old, &new) {
        sink.push(
            SecurityAspect::IdentityPolicy,
            "statement",
            delta.sign,
            delta.direction,
            Some(StatementView::of(delta.statement)),
            delta.detail,
        );
    }
}

/// Every security change of a plan, in plan order. Deletes count (a removed deny is
/// broadening); forgets do not (the object keeps its settings, unmanaged); data sources read
/// during apply are compared with their value in the plan's prior state.
pub fn analyze_plan(plan: &PlanDocument) -> Vec<SecurityChange> {
    let mut out = Vec::new();
    for rc in &plan.resource_changes {
        if matches!(rc.change.action, Action::NoOp | Action::Forget) || rc.deposed.is_some() {
            continue;
        }
        let c = &rc.change;
        let prior = if rc.mode == ResourceMode::Data && c.before.is_null() {
            plan.prior_data_values.get(&rc.address)
        } else {
            None
        };
        let before = ObjectSide {
            value: prior.unwrap_or(&c.before),
            unknown: &FALSE,
            sensitive: &c.before_sensitive,
        };
        let after = ObjectSide {
            value: &c.after,
            unknown: &c.after_unknown,
            sensitive: &c.after_sensitive,
        };
        let after = if c.action == Action::Delete {
            ObjectSide::absent()
        } else {
            after
        };
        // A data source whose whole value is unknown still exists after the read.
        let after =
            if rc.mode == ResourceMode::Data && c.after.is_null() && c.action == Action::Read {
                ObjectSide {
                    value: &c.after_unknown,
                    ..after
                }
            } else {
                after
            };
        out.extend(analyze_resource(
            &rc.address,
            &rc.resource_type,
            rc.mode,
            before,
            after,
        ));
    }
    out
}

/// Every security change between two synths, in address order. Addresses are prefixed with
/// `stack/` when the synths hold more than one stack.
pub fn analyze_synth_diff(diff: &callflow_dsl::SynthDiff) -> Vec<SecurityChange> {
    let stacks: std::collections::BTreeSet<&str> =
        diff.changes.iter().map(|c| c.stack.as_str()).collect();
    let mut out = Vec::new();
    for change in &diff.changes {
        let (mode, rest) = match change.address.strip_prefix("data.") {
            Some(rest) => (ResourceMode::Data, rest),
            None => (ResourceMode::Managed, change.address.as_str()),
        };
        let Some((resource_type, _name)) = rest.split_once('.') else {
            continue;
        };
        if mode == ResourceMode::Managed
            && matches!(
                resource_type,
                "output" | "variable" | "provider" | "locals" | "module"
            )
        {
            continue;
        }
        let address = if stacks.len() > 1 {
            format!("{}/{}", change.stack, change.address)
        } else {
            change.address.clone()
        };
        let before = change
            .before
            .as_ref()
            .map_or(ObjectSide::absent(), ObjectSide::known);
        let after = change
            .after
            .as_ref()
            .map_or(ObjectSide::absent(), ObjectSide::known);
        out.extend(analyze_resource(
            &address,
            resource_type,
            mode,
            before,
            after,
        ));
    }
    out
}
