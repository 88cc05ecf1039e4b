//! Reading a synthesized Terraform JSON document: resources by type, blocks written as objects or
//! lists, and `${type.name.attr}` references resolved to literals where the document has them.

use callflow_stack::dsl::{Reference, TemplatePart, parse_template, references_in};
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
    /// Parses a string that is exactly one reference `${type.name.attr}`; `None` for anything
    /// else (text around it, variables, locals, data sources, a bare `${type.name}`). The
    /// template is read by the DSL's one reference parser (`callflow_dsl::parse_template`).
    pub fn parse(text: &str) -> Option<Self> {
        let parts = parse_template(text);
        let [TemplatePart::Interpolation(expression)] = parts.as_slice() else {
            return None;
        };
        let rendered = expression.as_hcl();
        let references = references_in(&expression.interpolation());
        let [
            Reference::Resource {
                kind,
                name,
                attr: Some(attr),
            },
        ] = references.as_slice()
        else {
            return None;
        };
        // Exactly the traversal, nothing applied to it (no index, call or further attribute).
        (rendered == format!("{kind}.{name}.{attr}")).then(|| Self {
            resource_type: kind.clone(),
            name: name.clone(),
            attr: attr.clone(),
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
    fn resource_ref_is_exactly_one_resource_attribute() {
        assert_eq!(
            ResourceRef::parse("${aws_s3_bucket.events.arn}"),
            Some(ResourceRef {
                resource_type: "aws_s3_bucket".into(),
                name: "events".into(),
                attr: "arn".into(),
            })
        );
        for not_one in [
            "${var.region}",
            "${local.dir}",
            "${data.aws_caller_identity.current.account_id}",
            "${aws_s3_bucket.events}",
            "${aws_s3_bucket.events.arn}/*",
            "x${aws_s3_bucket.events.arn}",
            "$${aws_s3_bucket.events.arn}",
            "${aws_s3_bucket.events.arn[0]}",
            "${aws_s3_bucket.events.tags.Name}",
            "${aws_s3_bucket.events.arn}${aws_kms_key.k.arn}",
            "aws_s3_bucket.events.arn",
        ] {
            assert_eq!(ResourceRef::parse(not_one), None, "{not_one}");
        }
    }

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
