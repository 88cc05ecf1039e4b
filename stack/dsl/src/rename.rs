//! Rename detection: which resources a synth dropped and re-added under another address.
//!
//! Terraform knows a resource by its address (`aws_s3_bucket.events`). Rename a construct or a
//! logical id and the next plan destroys the old object and creates a new one — for a bucket,
//! with its data — unless a `moved` block says where the state went. [`detect_renames`] finds
//! the pairs a human would call a rename, so `callflow diff` and `callflow plan` can say so and
//! print the fix ([`Rename::moved_block_json`], [`Rename::rust_line`]).
//!
//! A dropped address `X` and an added address `Y` **of the same type** pair up when:
//! 1. a `moved` block of the new synth declares `X → Y` ([`RenameBasis::Declared`]); or
//! 2. their bodies are equal once references are renamed: every `X.` in a reference becomes
//!    `Y.`, and so does every other rename found so far. Renaming a bucket renames the
//!    references of its dependents, so the search runs to a fixpoint
//!    ([`RenameBasis::EqualBody`]); or
//! 3. their identity arguments are equal: the attributes that name the real object
//!    (`bucket`, `function_name`, an IAM role's `name`, ...: [`identity_rule`]), compared after
//!    renaming references too. The body may differ otherwise ([`RenameBasis::Identity`]; the
//!    other differences are in [`Rename::changed`]).
//!
//! Candidates are never paired across types. Equal bodies pair before identity matches, and
//! identity matches with fewer other differences first. When one dropped address matches
//! several added ones equally well (or the other way round), the first in address order is chosen and the
//! others are listed in [`Rename::ambiguous_with`].
//!
//! ```
//! use callflow_dsl::{RenameBasis, detect_renames};
//! use serde_json::json;
//! let old = json!({"resource": {
//!     "aws_s3_bucket": {"events_store": {"bucket": "callflow-events"}},
//!     "aws_s3_bucket_versioning": {"events": {"bucket": "${aws_s3_bucket.events_store.id}"}}}});
//! let new = json!({"resource": {
//!     "aws_s3_bucket": {"events": {"bucket": "callflow-events"}},
//!     "aws_s3_bucket_versioning": {"events": {"bucket": "${aws_s3_bucket.events.id}"}}}});
//! let renames = detect_renames(&old, &new);
//! assert_eq!(renames.len(), 1);
//! assert_eq!((renames[0].from.as_str(), renames[0].to.as_str()),
//!            ("aws_s3_bucket.events_store", "aws_s3_bucket.events"));
//! assert_eq!(renames[0].basis, RenameBasis::EqualBody);
//! assert_eq!(renames[0].moved_block_json(),
//!            r#"{"moved": [{"from": "aws_s3_bucket.events_store", "to": "aws_s3_bucket.events"}]}"#);
//! assert_eq!(renames[0].rust_line(),
//!            r#"stack.moved("aws_s3_bucket.events_store", &events);"#);
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Map, Value};

/// Why a dropped and an added address are taken for one renamed resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum RenameBasis {
    /// A `moved` block in the new synth declares it.
    Declared,
    /// The bodies are equal once references are renamed.
    EqualBody,
    /// The identity arguments are equal (the body differs at [`Rename::changed`]).
    Identity {
        /// The attributes compared, e.g. `["bucket"]`, `["role", "name"]`.
        attributes: Vec<String>,
    },
}

impl RenameBasis {
    /// A short phrase for reports: "declared by a moved block", "same body once references
    /// are renamed", "same bucket".
    pub fn describe(&self) -> String {
        match self {
            Self::Declared => "declared by a moved block".into(),
            Self::EqualBody => "same body once references are renamed".into(),
            Self::Identity { attributes } if attributes.is_empty() => {
                "only one of its kind per account".into()
            }
            Self::Identity { attributes } => format!("same {}", attributes.join(" and ")),
        }
    }
}

/// One resource whose address changed between two synths of a stack.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rename {
    /// The address in the old synth, e.g. `aws_s3_bucket.events_store`.
    pub from: String,
    /// The address in the new synth, e.g. `aws_s3_bucket.events`.
    pub to: String,
    /// The resource type (the same on both sides).
    #[serde(rename = "type")]
    pub resource_type: String,
    /// Why the two are taken for one resource.
    pub basis: RenameBasis,
    /// Whether the new synth already has the `moved` block for this pair (no fix needed).
    pub covered: bool,
    /// Attribute paths that differ besides renamed references (empty for
    /// [`RenameBasis::EqualBody`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changed: Vec<String>,
    /// Other addresses that matched as well as the chosen one: check the pairing by hand.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ambiguous_with: Vec<String>,
    /// Elements of the stack whose only change is a reference to this resource (filled in by
    /// [`crate::SynthDiff`]; they follow the rename and are not reported as changed).
    pub dependents: Vec<String>,
}

impl Rename {
    /// The `moved` entry Terraform JSON reads: `{"from": "...", "to": "..."}`.
    pub fn moved_entry(&self) -> Value {
        serde_json::json!({ "from": self.from, "to": self.to })
    }

    /// The whole block as it goes into a stack's JSON, on one line:
    /// `{"moved": [{"from": "...", "to": "..."}]}`.
    pub fn moved_block_json(&self) -> String {
        moved_block_json(std::slice::from_ref(self))
    }

    /// The name of the Rust variable the rust line uses for the new resource's handle: its
    /// logical id made into an identifier (`events`, `api_v2`, `r#type`).
    pub fn handle_name(&self) -> String {
        let name = self.to.rsplit('.').next().unwrap_or(&self.to);
        let mut ident: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        if ident.is_empty() || ident.starts_with(|c: char| c.is_ascii_digit()) {
            ident.insert(0, '_');
        }
        if RUST_KEYWORDS.contains(&ident.as_str()) {
            ident.insert_str(0, "r#");
        }
        ident
    }

    /// The DSL line that declares the block, with the new resource's handle named after its
    /// logical id ([`Rename::handle_name`]):
    /// `stack.moved("aws_s3_bucket.events_store", &events);`.
    pub fn rust_line(&self) -> String {
        format!(
            "stack.moved({}, &{});",
            Value::String(self.from.clone()),
            self.handle_name()
        )
    }
}

const RUST_KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "static", "struct", "super", "trait", "true", "type", "unsafe",
    "use", "where", "while",
];

/// One `moved` block for several renames, on one line, as Terraform JSON reads it:
/// `{"moved": [{"from": "a_b.x", "to": "a_b.y"}, ...]}`.
pub fn moved_block_json(renames: &[Rename]) -> String {
    let entries: Vec<String> = renames
        .iter()
        .map(|r| {
            format!(
                "{{\"from\": {}, \"to\": {}}}",
                Value::String(r.from.clone()),
                Value::String(r.to.clone())
            )
        })
        .collect();
    format!("{{\"moved\": [{}]}}", entries.join(", "))
}

/// Which arguments name the real object behind a resource of some type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdentityRule {
    /// These attributes, all equal and at least one set, identify it (e.g. `["bucket"]`,
    /// `["role", "name"]`).
    Attributes(&'static [&'static str]),
    /// One per account and region: any two of the type are the same object
    /// (`aws_api_gateway_account`).
    Singleton,
    /// Nothing in the configuration names it (`aws_kms_key`, `terraform_data`): only an equal
    /// body makes a rename.
    None,
    /// A type the table does not know: `name`, `bucket`, `function_name` and every other
    /// `*_name` attribute present are compared.
    Generic,
}

/// The identity rule of `resource_type`: a table of common AWS types, [`IdentityRule::Generic`]
/// for the rest.
pub fn identity_rule(resource_type: &str) -> IdentityRule {
    use IdentityRule::{Attributes, Generic, None, Singleton};
    match resource_type {
        "aws_s3_bucket" => Attributes(&["bucket"]),
        "aws_s3_bucket_metric" | "aws_s3_bucket_analytics_configuration" => {
            Attributes(&["bucket", "name"])
        }
        "aws_s3_bucket_notification" | "aws_s3_bucket_policy" => Attributes(&["bucket"]),
        t if t.starts_with("aws_s3_bucket_") => Attributes(&["bucket"]),
        "aws_s3_object" => Attributes(&["bucket", "key"]),
        "aws_lambda_function" => Attributes(&["function_name"]),
        "aws_lambda_permission" => Attributes(&["function_name", "statement_id"]),
        "aws_lambda_alias" => Attributes(&["function_name", "name"]),
        "aws_iam_role" | "aws_iam_policy" | "aws_iam_user" | "aws_iam_group" => {
            Attributes(&["name"])
        }
        "aws_iam_role_policy" => Attributes(&["role", "name"]),
        "aws_iam_role_policy_attachment" => Attributes(&["role", "policy_arn"]),
        "aws_kms_alias" => Attributes(&["name"]),
        "aws_cloudwatch_log_group" => Attributes(&["name"]),
        "aws_cloudwatch_log_metric_filter" => Attributes(&["log_group_name", "name"]),
        "aws_cloudwatch_metric_alarm" => Attributes(&["alarm_name"]),
        "aws_cloudwatch_dashboard" => Attributes(&["dashboard_name"]),
        "aws_dynamodb_table" | "aws_sqs_queue" | "aws_sns_topic" => Attributes(&["name"]),
        "aws_sns_topic_policy" => Attributes(&["arn"]),
        "aws_sns_topic_subscription" => Attributes(&["topic_arn", "protocol", "endpoint"]),
        "aws_secretsmanager_secret" | "aws_ssm_parameter" | "aws_ecr_repository" => {
            Attributes(&["name"])
        }
        "aws_route53_zone" => Attributes(&["name"]),
        "aws_route53_record" => Attributes(&["zone_id", "name", "type", "set_identifier"]),
        "aws_acm_certificate" => Attributes(&["domain_name"]),
        "aws_acm_certificate_validation" => Attributes(&["certificate_arn"]),
        "aws_api_gateway_rest_api" | "aws_api_gateway_api_key" | "aws_api_gateway_usage_plan" => {
            Attributes(&["name"])
        }
        "aws_api_gateway_usage_plan_key" => Attributes(&["usage_plan_id", "key_id"]),
        "aws_api_gateway_domain_name" => Attributes(&["domain_name"]),
        "aws_api_gateway_base_path_mapping" => Attributes(&["domain_name", "base_path"]),
        "aws_api_gateway_stage" => Attributes(&["rest_api_id", "stage_name"]),
        "aws_api_gateway_method_settings" => {
            Attributes(&["rest_api_id", "stage_name", "method_path"])
        }
        "aws_api_gateway_account" => Singleton,
        "aws_kms_key"
        | "aws_api_gateway_deployment"
        | "terraform_data"
        | "null_resource"
        | "random_id"
        | "random_password"
        | "random_string"
        | "tls_private_key" => None,
        _ => Generic,
    }
}

/// The identity arguments `rule` picks from two bodies, if they identify one object: the
/// attribute names compared, or `None` when they differ or none is set.
pub fn identity_match(rule: IdentityRule, a: &Value, b: &Value) -> Option<Vec<String>> {
    let (a, b) = (a.as_object()?, b.as_object()?);
    let keys: Vec<String> = match rule {
        IdentityRule::None => return None,
        IdentityRule::Singleton => return Some(Vec::new()),
        IdentityRule::Attributes(keys) => keys.iter().map(|k| (*k).to_owned()).collect(),
        IdentityRule::Generic => a
            .keys()
            .chain(b.keys())
            .filter(|k| {
                matches!(k.as_str(), "name" | "bucket" | "function_name") || k.ends_with("_name")
            })
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
    };
    fn set(v: Option<&Value>) -> Option<&Value> {
        v.filter(|v| !v.is_null() && v.as_str() != Some(""))
    }
    let mut compared = Vec::new();
    for key in keys {
        let (x, y) = (set(a.get(&key)), set(b.get(&key)));
        if x != y {
            return None;
        }
        if x.is_some() {
            compared.push(key);
        }
    }
    (!compared.is_empty()).then_some(compared)
}

/// The part of a body an identity rule looks at: the rule's attributes (or the name-like ones
/// for [`IdentityRule::Generic`]); small, so renaming it is cheap.
fn identity_view(rule: IdentityRule, body: &Value) -> Value {
    let Some(map) = body.as_object() else {
        return Value::Null;
    };
    let keep = |key: &str| match rule {
        IdentityRule::Attributes(keys) => keys.contains(&key),
        IdentityRule::Generic => {
            matches!(key, "name" | "bucket" | "function_name") || key.ends_with("_name")
        }
        IdentityRule::None | IdentityRule::Singleton => false,
    };
    Value::Object(
        map.iter()
            .filter(|(key, _)| keep(key))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect(),
    )
}

/// Renames references in every string of `value`: each traversal `type.name` that is a key of
/// `renames` (not preceded by `.` or a name character, not followed by a name character)
/// becomes the mapped address. Covers `${type.name.attr}` in templates and the bare addresses
/// of `depends_on` and `moved`; data sources (`data.type.name`) and module outputs are left
/// alone. Object keys are not rewritten.
/// ```
/// use std::collections::BTreeMap;
/// use callflow_dsl::rename_references;
/// let map = BTreeMap::from([("aws_s3_bucket.a".to_string(), "aws_s3_bucket.b".to_string())]);
/// let v = serde_json::json!({"x": "${aws_s3_bucket.a.arn}/*", "y": "${aws_s3_bucket.ab.arn}",
///                            "z": ["aws_s3_bucket.a"], "w": "${data.aws_s3_bucket.a.arn}"});
/// assert_eq!(rename_references(&v, &map), serde_json::json!({"x": "${aws_s3_bucket.b.arn}/*",
///     "y": "${aws_s3_bucket.ab.arn}", "z": ["aws_s3_bucket.b"], "w": "${data.aws_s3_bucket.a.arn}"}));
/// ```
pub fn rename_references(value: &Value, renames: &BTreeMap<String, String>) -> Value {
    if renames.is_empty() {
        return value.clone();
    }
    rename_with(value, &|address| renames.get(address).map(String::as_str))
}

/// [`rename_references`] with a lookup function instead of a map.
fn rename_with<'m>(value: &Value, lookup: &dyn Fn(&str) -> Option<&'m str>) -> Value {
    match value {
        Value::String(s) => rename_in_str(s, lookup).map_or_else(|| value.clone(), Value::String),
        Value::Array(items) => Value::Array(items.iter().map(|v| rename_with(v, lookup)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), rename_with(v, lookup)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Whether `old` with its references renamed by `lookup` equals `new`, without building the
/// renamed value (stops at the first difference).
fn equal_renamed<'m>(old: &Value, new: &Value, lookup: &dyn Fn(&str) -> Option<&'m str>) -> bool {
    match (old, new) {
        (Value::String(x), Value::String(y)) => match rename_in_str(x, lookup) {
            Some(renamed) => &renamed == y,
            None => x == y,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| equal_renamed(p, q, lookup))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, p)| y.get(k).is_some_and(|q| equal_renamed(p, q, lookup)))
        }
        (x, y) => x == y,
    }
}

fn is_name_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// `s` with its references renamed, or `None` when nothing matched.
fn rename_in_str<'m>(s: &str, lookup: &dyn Fn(&str) -> Option<&'m str>) -> Option<String> {
    let b = s.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        let starts = (b[i].is_ascii_alphabetic() || b[i] == b'_')
            && (i == 0 || !(is_name_byte(b[i - 1]) || b[i - 1] == b'.'));
        if !starts {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < b.len() && is_name_byte(b[j]) {
            j += 1;
        }
        let first_end = j;
        if j + 1 < b.len() && b[j] == b'.' && is_name_byte(b[j + 1]) {
            j += 1;
            while j < b.len() && is_name_byte(b[j]) {
                j += 1;
            }
            if let Some(to) = lookup(&s[i..j]) {
                let text = out.get_or_insert_with(|| String::with_capacity(s.len() + 8));
                text.push_str(&s[copied..i]);
                text.push_str(to);
                copied = j;
            }
            i = j;
        } else {
            i = first_end;
        }
    }
    out.map(|mut text| {
        text.push_str(&s[copied..]);
        text
    })
}

/// A body without its top-level `//` comment (cdktf's metadata names the construct path,
/// which a rename changes; Terraform ignores it).
fn without_comment(body: &Value) -> Value {
    match body {
        Value::Object(map) if map.contains_key("//") => Value::Object(
            map.iter()
                .filter(|(k, _)| k.as_str() != "//")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<Map<_, _>>(),
        ),
        other => other.clone(),
    }
}

/// The managed resources of a Terraform JSON document: address → (type, body).
fn resources(doc: &Value) -> BTreeMap<String, (&str, &Value)> {
    let mut out = BTreeMap::new();
    for (kind, by_name) in doc
        .get("resource")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        for (name, body) in by_name.as_object().into_iter().flatten() {
            out.insert(format!("{kind}.{name}"), (kind.as_str(), body));
        }
    }
    out
}

/// The `from`/`to` pairs of a document's `moved` blocks (a list of objects, or one object).
pub fn declared_moves(doc: &Value) -> Vec<(String, String)> {
    let pair = |v: &Value| {
        Some((
            v.get("from")?.as_str()?.to_owned(),
            v.get("to")?.as_str()?.to_owned(),
        ))
    };
    match doc.get("moved") {
        Some(Value::Array(items)) => items.iter().filter_map(pair).collect(),
        Some(one @ Value::Object(_)) => pair(one).into_iter().collect(),
        _ => Vec::new(),
    }
}

/// The attribute paths where `a` and `b` differ (`versioning_configuration.status`,
/// `tags.env`, `list[0]`), `(all)` when the two are different scalars.
pub(crate) fn changed_paths(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
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

struct Side<'a> {
    address: &'a str,
    kind: &'a str,
    body: Value,
}

/// The renames between two synths of one stack (Terraform JSON documents), in `to` address
/// order. `dependents` is left empty: [`crate::SynthDiff`] fills it while comparing the other
/// elements.
///
/// A resource dropped at `X` and one added at `Y`, **of the same type**, pair up when a
/// `moved` block of the new synth declares `X → Y` ([`RenameBasis::Declared`]); else when their
/// bodies are equal once references are renamed — `X.` becomes `Y.` in every reference, and so
/// does every other rename found so far, to a fixpoint, since renaming a bucket renames its
/// dependents' references ([`RenameBasis::EqualBody`]); else when their identity arguments
/// ([`identity_rule`]: `bucket`, `function_name`, an IAM role's `name`, ...) are equal after
/// renaming, whatever else differs ([`RenameBasis::Identity`], the differences in
/// [`Rename::changed`]). Equal bodies pair first, then identity matches with the fewest other
/// differences; `cdktf`'s `//` metadata is ignored. Among equally good candidates the first in
/// address order is taken and the others are listed in [`Rename::ambiguous_with`].
pub fn detect_renames(old: &Value, new: &Value) -> Vec<Rename> {
    let before = resources(old);
    let after = resources(new);
    let removed: Vec<Side<'_>> = before
        .iter()
        .filter(|(address, _)| !after.contains_key(*address))
        .map(|(address, (kind, body))| Side {
            address,
            kind,
            body: without_comment(body),
        })
        .collect();
    let added: Vec<Side<'_>> = after
        .iter()
        .filter(|(address, _)| !before.contains_key(*address))
        .map(|(address, (kind, body))| Side {
            address,
            kind,
            body: without_comment(body),
        })
        .collect();
    if removed.is_empty() || added.is_empty() {
        return Vec::new();
    }
    let mut pairing = Pairing {
        removed: &removed,
        added: &added,
        map: BTreeMap::new(),
        taken_removed: vec![false; removed.len()],
        taken_added: vec![false; added.len()],
        found: Vec::new(),
    };
    for (from, to) in declared_moves(new) {
        let r = removed.iter().position(|s| s.address == from);
        let a = added.iter().position(|s| s.address == to);
        if let (Some(r), Some(a)) = (r, a)
            && removed[r].kind == added[a].kind
            && !pairing.taken_removed[r]
            && !pairing.taken_added[a]
        {
            pairing.take(r, a, RenameBasis::Declared, Vec::new());
        }
    }
    while pairing.equal_bodies() || pairing.best_identity() {}
    let declared: BTreeSet<(String, String)> = declared_moves(new).into_iter().collect();
    let map = pairing.map;
    let mut renames: Vec<Rename> = pairing
        .found
        .into_iter()
        .map(|(r, a, basis, ambiguous_with)| {
            let (from, to) = (removed[r].address, added[a].address);
            let mut changed = Vec::new();
            changed_paths(
                &rename_references(&removed[r].body, &map),
                &added[a].body,
                "",
                &mut changed,
            );
            Rename {
                from: from.to_owned(),
                to: to.to_owned(),
                resource_type: removed[r].kind.to_owned(),
                covered: declared.contains(&(from.to_owned(), to.to_owned())),
                basis,
                changed,
                ambiguous_with,
                dependents: Vec::new(),
            }
        })
        .collect();
    renames.sort_by(|x, y| x.to.cmp(&y.to));
    renames
}

/// The state of the pairing search: renames found so far, and which sides are taken.
struct Pairing<'s, 'a> {
    removed: &'s [Side<'a>],
    added: &'s [Side<'a>],
    map: BTreeMap<String, String>,
    taken_removed: Vec<bool>,
    taken_added: Vec<bool>,
    found: Vec<(usize, usize, RenameBasis, Vec<String>)>,
}

impl Pairing<'_, '_> {
    fn take(&mut self, r: usize, a: usize, basis: RenameBasis, ambiguous_with: Vec<String>) {
        self.taken_removed[r] = true;
        self.taken_added[a] = true;
        self.map.insert(
            self.removed[r].address.to_owned(),
            self.added[a].address.to_owned(),
        );
        self.found.push((r, a, basis, ambiguous_with));
    }

    /// The open candidate pairs (same type, neither side taken).
    fn open(&self) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        for (r, old) in self.removed.iter().enumerate() {
            if self.taken_removed[r] {
                continue;
            }
            for (a, new) in self.added.iter().enumerate() {
                if !self.taken_added[a] && old.kind == new.kind {
                    out.push((r, a));
                }
            }
        }
        out
    }

    /// The rename lookup with the known renames and `r → a`.
    fn lookup<'p>(&'p self, r: usize, a: usize) -> impl Fn(&str) -> Option<&'p str> + 'p {
        let (from, to) = (self.removed[r].address, self.added[a].address);
        move |address: &str| {
            if address == from {
                Some(to)
            } else {
                self.map.get(address).map(String::as_str)
            }
        }
    }

    /// Pairs every open candidate whose body is equal once references are renamed; true when
    /// any was paired.
    fn equal_bodies(&mut self) -> bool {
        let matches: Vec<(usize, usize)> = self
            .open()
            .into_iter()
            .filter(|&(r, a)| {
                equal_renamed(
                    &self.removed[r].body,
                    &self.added[a].body,
                    &self.lookup(r, a),
                )
            })
            .collect();
        self.pair_best(
            matches.into_iter().map(|(r, a)| (0, r, a)).collect(),
            |_, _| RenameBasis::EqualBody,
        )
    }

    /// Pairs the open candidates with equal identity arguments, fewest other differences
    /// first; true when any was paired.
    fn best_identity(&mut self) -> bool {
        let mut scored = Vec::new();
        let mut bases = BTreeMap::new();
        for (r, a) in self.open() {
            let rule = identity_rule(self.removed[r].kind);
            let lookup = self.lookup(r, a);
            let view = rename_with(&identity_view(rule, &self.removed[r].body), &lookup);
            let Some(attributes) =
                identity_match(rule, &view, &identity_view(rule, &self.added[a].body))
            else {
                continue;
            };
            let mut paths = Vec::new();
            changed_paths(
                &rename_with(&self.removed[r].body, &lookup),
                &self.added[a].body,
                "",
                &mut paths,
            );
            scored.push((paths.len(), r, a));
            bases.insert((r, a), attributes);
        }
        self.pair_best(scored, |r, a| RenameBasis::Identity {
            attributes: bases.get(&(r, a)).cloned().unwrap_or_default(),
        })
    }

    /// Pairs candidates `(score, r, a)` greedily in address order among the equal best
    /// scores; true when any was paired.
    fn pair_best(
        &mut self,
        candidates: Vec<(usize, usize, usize)>,
        basis: impl Fn(usize, usize) -> RenameBasis,
    ) -> bool {
        let mut progress = false;
        let mut ordered = candidates.clone();
        ordered
            .sort_by_key(|&(score, r, a)| (score, self.removed[r].address, self.added[a].address));
        for &(score, r, a) in &ordered {
            if self.taken_removed[r] || self.taken_added[a] {
                continue;
            }
            let ambiguous = self.alternatives(&candidates, score, r, a);
            self.take(r, a, basis(r, a), ambiguous);
            progress = true;
        }
        progress
    }

    /// The other addresses that matched `r` or `a` with the same score.
    fn alternatives(
        &self,
        candidates: &[(usize, usize, usize)],
        score: usize,
        r: usize,
        a: usize,
    ) -> Vec<String> {
        let mut out: BTreeSet<String> = BTreeSet::new();
        for &(s, r2, a2) in candidates {
            if s != score || (r2, a2) == (r, a) {
                continue;
            }
            if r2 == r {
                out.insert(self.added[a2].address.to_owned());
            }
            if a2 == a {
                out.insert(self.removed[r2].address.to_owned());
            }
        }
        out.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renames_only_whole_traversals() {
        let map = BTreeMap::from([("aws_s3_bucket.a".to_owned(), "aws_s3_bucket.b".to_owned())]);
        let r = |s: &str| rename_in_str(s, &|a| map.get(a).map(String::as_str));
        assert_eq!(r("${aws_s3_bucket.a}"), Some("${aws_s3_bucket.b}".into()));
        assert_eq!(
            r("x ${aws_s3_bucket.a.arn} ${aws_s3_bucket.a.id}"),
            Some("x ${aws_s3_bucket.b.arn} ${aws_s3_bucket.b.id}".into())
        );
        assert_eq!(r("${aws_s3_bucket.a_b.arn}"), None);
        assert_eq!(r("${aws_s3_bucket.a-b.arn}"), None);
        assert_eq!(r("${xaws_s3_bucket.a.arn}"), None);
        assert_eq!(r("${module.m.aws_s3_bucket.a}"), None);
        assert_eq!(r("${data.aws_s3_bucket.a.arn}"), None);
        assert_eq!(
            r("${[aws_s3_bucket.a.arn,aws_s3_bucket.a.id]}"),
            Some("${[aws_s3_bucket.b.arn,aws_s3_bucket.b.id]}".into())
        );
    }

    #[test]
    fn rust_handle_names_are_identifiers() {
        let rename = |to: &str| Rename {
            from: "t_x.a".into(),
            to: to.into(),
            resource_type: "t_x".into(),
            basis: RenameBasis::EqualBody,
            covered: false,
            changed: Vec::new(),
            ambiguous_with: Vec::new(),
            dependents: Vec::new(),
        };
        assert_eq!(rename("t_x.api-v2").handle_name(), "api_v2");
        assert_eq!(rename("t_x.type").handle_name(), "r#type");
        assert_eq!(rename("t_x.1st").handle_name(), "_1st");
        assert_eq!(rename("t_x.b").rust_line(), "stack.moved(\"t_x.a\", &b);");
    }

    #[test]
    fn identity_rules() {
        let a = serde_json::json!({"role": "r", "name": "base", "policy": "x"});
        let b = serde_json::json!({"role": "r", "name": "base", "policy": "y"});
        let c = serde_json::json!({"role": "r2", "name": "base"});
        let rule = identity_rule("aws_iam_role_policy");
        assert_eq!(
            identity_match(rule, &a, &b),
            Some(vec!["role".to_owned(), "name".to_owned()])
        );
        assert_eq!(identity_match(rule, &a, &c), None);
        assert_eq!(identity_match(identity_rule("aws_kms_key"), &a, &a), None);
        let generic = identity_rule("google_storage_bucket");
        assert_eq!(generic, IdentityRule::Generic);
        let g1 = serde_json::json!({"name": "n", "location": "EU"});
        let g2 = serde_json::json!({"name": "n", "location": "US"});
        assert_eq!(
            identity_match(generic, &g1, &g2),
            Some(vec!["name".to_owned()])
        );
        let unset = serde_json::json!({"location": "EU"});
        assert_eq!(identity_match(generic, &unset, &unset), None);
    }
}
