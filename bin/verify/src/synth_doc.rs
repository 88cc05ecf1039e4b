//! Reading a synthesized Terraform JSON document: resources by type, blocks written as objects or
//! lists, and `${type.name.attr}` references resolved to literals where the document has them.

use serde_json::Value;

/// A value declared in the synth: known now, or a Terraform expression only known after apply.
#[derive(Clone, Debug, PartialEq)]
pub enum Declared<T> {
    /// A literal (possibly reached by following references to other literals).
    Known(T),
    /// An interpolation Terraform resolves at apply time, e.g. `${aws_kms_key.events.arn}`.
    Unresolved(String),
}

/// A reference `${type.name.attr}` to an attribute of a resource in the same document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceRef {
    /// Resource type, e.g. `aws_s3_bucket`.
    pub resource_type: String,
    /// Logical name, e.g. `events`.
    pub name: String,
    /// Attribute, e.g. `bucket`.
    pub attr: String,
}

impl ResourceRef {
    /// Parses a string that is exactly one reference `${type.name.attr}`; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let inner = text.strip_prefix("${")?.strip_suffix('}')?;
        let mut parts = inner.split('.');
        let (resource_type, name, attr) = (parts.next()?, parts.next()?, parts.next()?);
        let plain = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        };
        if parts.next().is_some() || ![resource_type, name, attr].into_iter().all(plain) {
            return None;
        }
        if resource_type == "var" || resource_type == "local" || resource_type == "data" {
            return None;
        }
        Some(Self {
            resource_type: resource_type.to_owned(),
            name: name.to_owned(),
            attr: attr.to_owned(),
        })
    }
}

/// A synthesized stack document (`cdk.tf.json`).
#[derive(Clone, Copy, Debug)]
pub struct SynthDoc<'a> {
    doc: &'a Value,
}

impl<'a> SynthDoc<'a> {
    /// Wraps a parsed `cdk.tf.json`.
    pub fn new(doc: &'a Value) -> Self {
        Self { doc }
    }

    /// The resources of one type, by logical name, in document order.
    pub fn resources(&self, resource_type: &str) -> Vec<(&'a str, &'a Value)> {
        self.doc
            .get("resource")
            .and_then(|r| r.get(resource_type))
            .and_then(Value::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.as_str(), v)).collect())
            .unwrap_or_default()
    }

    /// One resource by type and logical name.
    pub fn resource(&self, resource_type: &str, name: &str) -> Option<&'a Value> {
        self.doc.get("resource")?.get(resource_type)?.get(name)
    }

    /// The region of the default `aws` provider, when literal.
    pub fn provider_region(&self) -> Option<String> {
        let aws = self.doc.get("provider")?.get("aws")?;
        let first = match aws {
            Value::Array(items) => items.iter().find(|p| p.get("alias").is_none())?,
            other => other,
        };
        literal(first.get("region")?)
    }

    /// A string attribute resolved through references to other resources' literal attributes.
    pub fn string(&self, value: Option<&Value>) -> Option<Declared<String>> {
        let text = value?.as_str()?;
        Some(self.resolve(text, 0))
    }

    fn resolve(&self, text: &str, depth: usize) -> Declared<String> {
        if !text.replace("$${", "").contains("${") {
            return Declared::Known(text.replace("$${", "${"));
        }
        let Some(reference) = ResourceRef::parse(text) else {
            return Declared::Unresolved(text.to_owned());
        };
        let target = self.resource(&reference.resource_type, &reference.name);
        let attr = match (reference.resource_type.as_str(), reference.attr.as_str()) {
            ("aws_s3_bucket", "id") => "bucket",
            ("aws_lambda_function", "id") => "function_name",
            (_, attr) => attr,
        };
        match target.and_then(|t| t.get(attr)).and_then(Value::as_str) {
            Some(next) if depth < 8 => self.resolve(next, depth + 1),
            _ => Declared::Unresolved(text.to_owned()),
        }
    }
}

/// A literal string attribute (no interpolation).
pub fn literal(value: &Value) -> Option<String> {
    value
        .as_str()
        .filter(|s| !s.contains("${"))
        .map(str::to_owned)
}

/// A nested block, written by cdktf either as an object or as a list of objects.
pub fn blocks(value: Option<&Value>) -> Vec<&Value> {
    match value {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(obj @ Value::Object(_)) => vec![obj],
        _ => Vec::new(),
    }
}

/// The first (single) nested block.
pub fn block(value: Option<&Value>) -> Option<&Value> {
    blocks(value).into_iter().next()
}

/// An integer attribute (literal number).
pub fn int(value: Option<&Value>) -> Option<i64> {
    value.and_then(Value::as_i64)
}

/// A number attribute (literal number).
pub fn number(value: Option<&Value>) -> Option<f64> {
    value.and_then(Value::as_f64)
}

/// A boolean attribute (literal).
pub fn boolean(value: Option<&Value>) -> Option<bool> {
    value.and_then(Value::as_bool)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn references_resolve_to_literals_and_stop_at_computed_attributes() {
        let doc = json!({"resource": {
            "aws_s3_bucket": {"events": {"bucket": "b-1"}},
            "aws_kms_key": {"k": {"description": "d"}},
        }});
        let synth = SynthDoc::new(&doc);
        let s = |t: &str| synth.string(Some(&json!(t)));
        assert_eq!(
            s("${aws_s3_bucket.events.bucket}"),
            Some(Declared::Known("b-1".into()))
        );
        assert_eq!(
            s("${aws_s3_bucket.events.id}"),
            Some(Declared::Known("b-1".into()))
        );
        assert_eq!(
            s("${aws_kms_key.k.arn}"),
            Some(Declared::Unresolved("${aws_kms_key.k.arn}".into()))
        );
        assert_eq!(
            s("${var.log_level}"),
            Some(Declared::Unresolved("${var.log_level}".into()))
        );
        assert_eq!(s("$${literal}"), Some(Declared::Known("${literal}".into())));
        assert_eq!(s("plain"), Some(Declared::Known("plain".into())));
    }
}
