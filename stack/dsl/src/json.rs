//! JSON documents whose strings may be Terraform references ([`TfJson`]), rendered as one
//! Terraform string template: the compact JSON text, each reference interpolated inside its
//! JSON string. IAM policies and REST API bodies are such documents.

use serde_json::{Number, Value};

use super::expr::{Expression, TemplatePart, Tf};
use super::pretty::push_json_escaped;

/// A JSON value whose strings are [`Tf<String>`]: literals, references or templates.
///
/// [`TfJson::to_template`] writes the JSON text (compact, keys in insertion order, escaped as
/// `serde_json` does) with each reference as an interpolation, so no reference is rendered to
/// text and parsed back:
/// ```
/// use callflow_dsl::{Expression, Tf, TfJson, TfJsonObject};
/// let arn: Tf<String> = Tf::expr(Expression::raw("aws_s3_bucket.events.arn"));
/// let doc = TfJson::from(TfJsonObject::from_iter([
///     ("Resource", TfJson::from(vec![arn.suffixed("/*").into(), "*".into()])),
///     ("Sid", "Say \"why\"".into()),
/// ]));
/// assert_eq!(
///     doc.to_template().to_tf_json(),
///     serde_json::json!(r#"{"Resource":["${aws_s3_bucket.events.arn}/*","*"],"Sid":"Say \"why\""}"#),
/// );
/// ```
///
/// The JSON text is built at synth time, so Terraform inserts each reference's value as is,
/// without JSON escaping: meant for values such as ARNs and ids, which never need any.
#[derive(Clone, Debug, PartialEq)]
pub enum TfJson {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, written as `serde_json` writes it.
    Number(Number),
    /// A string: literal text is JSON-escaped, interpolations are kept as `${...}`.
    String(Tf<String>),
    /// An array.
    Array(Vec<TfJson>),
    /// An object, keys in insertion order.
    Object(TfJsonObject),
}

/// The members of a [`TfJson::Object`] in insertion order; keys are unique.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TfJsonObject(Vec<(String, TfJson)>);

impl TfJsonObject {
    /// An empty object.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `key` to `value`, returning the value it replaces. A new key goes last; an existing
    /// one keeps its position (as `serde_json::Map` does with `preserve_order`).
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<TfJson>) -> Option<TfJson> {
        let key = key.into();
        let value = value.into();
        match self.get_mut(&key) {
            Some(slot) => Some(std::mem::replace(slot, value)),
            None => {
                self.0.push((key, value));
                None
            }
        }
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&TfJson> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The value of `key`, to change it.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut TfJson> {
        self.0.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Whether the object has `key`.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The members in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &TfJson)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The values in order, to change them.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut TfJson> {
        self.0.iter_mut().map(|(_, v)| v)
    }

    /// The number of members.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the object has no members.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Members in order; a repeated key keeps its first position and its last value.
impl<K: Into<String>, V: Into<TfJson>> FromIterator<(K, V)> for TfJsonObject {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(members: I) -> Self {
        let mut object = Self::new();
        for (k, v) in members {
            object.insert(k, v);
        }
        object
    }
}

impl TfJson {
    /// The member `key` of an object; `None` for other values.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut TfJson> {
        self.as_object_mut()?.get_mut(key)
    }

    /// The members of an object; `None` for other values.
    pub fn as_object_mut(&mut self) -> Option<&mut TfJsonObject> {
        match self {
            TfJson::Object(object) => Some(object),
            _ => None,
        }
    }

    /// The JSON text of this value as a Terraform string template: literal text (JSON syntax and
    /// escaped literal strings) and, inside their JSON strings, the interpolated references.
    /// Always a [`Tf::Template`], adjacent literal text merged.
    pub fn to_template(&self) -> Tf<String> {
        let mut writer = Writer::default();
        writer.value(self);
        writer.finish()
    }
}

/// Collects the parts of a template, merging literal text.
#[derive(Default)]
struct Writer {
    parts: Vec<TemplatePart>,
    text: String,
}

impl Writer {
    fn value(&mut self, value: &TfJson) {
        match value {
            TfJson::Null => self.text.push_str("null"),
            TfJson::Bool(b) => self.text.push_str(if *b { "true" } else { "false" }),
            TfJson::Number(n) => self.text.push_str(&n.to_string()),
            TfJson::String(s) => self.string(s),
            TfJson::Array(items) => {
                self.text.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.text.push(',');
                    }
                    self.value(item);
                }
                self.text.push(']');
            }
            TfJson::Object(object) => {
                self.text.push('{');
                for (i, (key, item)) in object.iter().enumerate() {
                    if i > 0 {
                        self.text.push(',');
                    }
                    self.escaped(key, true);
                    self.text.push(':');
                    self.value(item);
                }
                self.text.push('}');
            }
        }
    }

    /// A JSON string: `"`, the escaped literal text and the interpolations, `"`.
    fn string(&mut self, s: &Tf<String>) {
        self.text.push('"');
        match s {
            Tf::Literal(s) => self.escaped(s, false),
            Tf::Expr(e) => self.interpolation(e),
            Tf::Template(parts) => {
                for part in parts {
                    match part {
                        TemplatePart::Literal(s) => self.escaped(s, false),
                        TemplatePart::Interpolation(e) => self.interpolation(e),
                    }
                }
            }
        }
        self.text.push('"');
    }

    /// `s` JSON-escaped as `serde_json` writes it, with or without its quotes.
    fn escaped(&mut self, s: &str, quoted: bool) {
        if quoted {
            self.text.push('"');
        }
        push_json_escaped(&mut self.text, s);
        if quoted {
            self.text.push('"');
        }
    }

    fn interpolation(&mut self, e: &Expression) {
        if !self.text.is_empty() {
            self.parts
                .push(TemplatePart::Literal(std::mem::take(&mut self.text)));
        }
        self.parts.push(TemplatePart::Interpolation(e.clone()));
    }

    fn finish(mut self) -> Tf<String> {
        if !self.text.is_empty() {
            self.parts.push(TemplatePart::Literal(self.text));
        }
        Tf::Template(self.parts)
    }
}

/// A literal JSON value: every string a literal.
impl From<&Value> for TfJson {
    fn from(value: &Value) -> Self {
        match value {
            Value::Null => TfJson::Null,
            Value::Bool(b) => TfJson::Bool(*b),
            Value::Number(n) => TfJson::Number(n.clone()),
            Value::String(s) => TfJson::String(Tf::Literal(s.clone())),
            Value::Array(items) => TfJson::Array(items.iter().map(TfJson::from).collect()),
            Value::Object(map) => TfJson::Object(TfJsonObject(
                map.iter()
                    .map(|(k, v)| (k.clone(), TfJson::from(v)))
                    .collect(),
            )),
        }
    }
}

impl From<Tf<String>> for TfJson {
    fn from(s: Tf<String>) -> Self {
        TfJson::String(s)
    }
}

impl From<&Tf<String>> for TfJson {
    fn from(s: &Tf<String>) -> Self {
        TfJson::String(s.clone())
    }
}

impl From<&str> for TfJson {
    fn from(s: &str) -> Self {
        TfJson::String(s.into())
    }
}

impl From<String> for TfJson {
    fn from(s: String) -> Self {
        TfJson::String(Tf::Literal(s))
    }
}

impl From<bool> for TfJson {
    fn from(b: bool) -> Self {
        TfJson::Bool(b)
    }
}

impl From<Vec<TfJson>> for TfJson {
    fn from(items: Vec<TfJson>) -> Self {
        TfJson::Array(items)
    }
}

impl From<TfJsonObject> for TfJson {
    fn from(object: TfJsonObject) -> Self {
        TfJson::Object(object)
    }
}

impl TfJson {
    /// Parses JSON text straight into a document of literal strings, as
    /// `TfJson::from(&serde_json::from_str::<Value>(text)?)` would build it (same members in
    /// the same order, a repeated key in its first position with its last value, numbers as
    /// `serde_json` reads them) without the `Value` in between: no hashed map to build, copy
    /// and drop. The REST API body is derived from the OpenAPI document this way once per
    /// process.
    ///
    /// ```
    /// use callflow_dsl::TfJson;
    /// let doc = TfJson::from_json(r#"{"b": [1, 2.5, "x"], "a": null}"#).unwrap();
    /// assert_eq!(doc, TfJson::from(&serde_json::json!({"b": [1, 2.5, "x"], "a": null})));
    /// assert!(TfJson::from_json("{").is_err());
    /// ```
    pub fn from_json(text: &str) -> Result<TfJson, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// Reads any self-describing format's value as [`TfJson`], strings as literals
/// ([`TfJson::from_json`] for JSON text).
impl<'de> serde::Deserialize<'de> for TfJson {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TfJsonVisitor)
    }
}

/// Builds a [`TfJson`] from the deserializer's events.
struct TfJsonVisitor;

impl<'de> serde::de::Visitor<'de> for TfJsonVisitor {
    type Value = TfJson;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<TfJson, E> {
        Ok(TfJson::Null)
    }

    fn visit_none<E>(self) -> Result<TfJson, E> {
        Ok(TfJson::Null)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<TfJson, D::Error> {
        serde::Deserialize::deserialize(d)
    }

    fn visit_bool<E>(self, b: bool) -> Result<TfJson, E> {
        Ok(TfJson::Bool(b))
    }

    fn visit_u64<E>(self, n: u64) -> Result<TfJson, E> {
        Ok(TfJson::Number(n.into()))
    }

    fn visit_i64<E>(self, n: i64) -> Result<TfJson, E> {
        Ok(TfJson::Number(n.into()))
    }

    fn visit_f64<E>(self, n: f64) -> Result<TfJson, E> {
        // JSON text has no NaN or infinity; other formats' are null, as in `serde_json::Value`.
        Ok(Number::from_f64(n).map_or(TfJson::Null, TfJson::Number))
    }

    fn visit_str<E>(self, s: &str) -> Result<TfJson, E> {
        Ok(TfJson::String(Tf::Literal(s.to_owned())))
    }

    fn visit_string<E>(self, s: String) -> Result<TfJson, E> {
        Ok(TfJson::String(Tf::Literal(s)))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<TfJson, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(TfJson::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<TfJson, A::Error> {
        let mut object = TfJsonObject(Vec::with_capacity(map.size_hint().unwrap_or(0)));
        while let Some((key, value)) = map.next_entry::<String, TfJson>()? {
            object.insert(key, value);
        }
        Ok(TfJson::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn arn(resource: &str) -> Tf<String> {
        Tf::expr(Expression::raw(format!("{resource}.arn")))
    }

    /// `from_json` builds what the `Value` route builds, and its template text is what
    /// serde_json writes: numbers at the edges of their types, escapes, a repeated key.
    #[test]
    fn from_json_matches_the_value_route() {
        let texts = [
            r#"{"a":1,"b":{"c":[true,false,null,"x"]},"a":3}"#,
            r#"[18446744073709551615,-9223372036854775808,1e300,-0.0,1.0,0.1,2.5e-8,12]"#,
            r#"{"s":"quote \" slash \/ \u00e9 \ud83d\ude00 tab \t ${x} %{y}","":{}}"#,
            r#""just a string""#,
            "  null ",
        ];
        for text in texts {
            let via_value = TfJson::from(&serde_json::from_str::<Value>(text).expect("json"));
            let direct = TfJson::from_json(text).expect("json");
            assert_eq!(direct, via_value, "{text}");
            assert_eq!(direct.to_template(), via_value.to_template(), "{text}");
        }
        for bad in ["{", r#"{"a":}"#, "[1,]", "nul", r#"{"a":1} x"#] {
            assert!(TfJson::from_json(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn literal_documents_render_as_serde_json_writes_them() {
        let doc = json!({
            "z": [1, -2.5, 1e300, true, false, null, {}, []],
            "a": "quote \" backslash \\ newline \n tab \t control \u{1} unicode é / ${x} %{y}",
            "k\"ey": {"nested": ["x"]}
        });
        let template = TfJson::from(&doc).to_template();
        let Tf::Template(parts) = &template else {
            panic!("always a template: {template:?}");
        };
        assert_eq!(parts, &[TemplatePart::Literal(doc.to_string())]);
        // Terraform reads the escaped template back as the JSON text.
        assert_eq!(
            template.to_tf_json(),
            Value::from(crate::escape_literal(&doc.to_string()))
        );
    }

    #[test]
    fn references_are_interpolated_inside_their_json_strings() {
        let doc = TfJson::from(TfJsonObject::from_iter([
            ("whole", TfJson::from(arn("aws_kms_key.k"))),
            (
                "parts",
                TfJson::from(vec![
                    Tf::template(["\"pre\" ".into(), arn("aws_s3_bucket.b"), "/*".into()]).into(),
                    "${literal}".into(),
                ]),
            ),
        ]));
        assert_eq!(
            doc.to_template().to_tf_json(),
            Value::from(
                r#"{"whole":"${aws_kms_key.k.arn}","parts":["\"pre\" ${aws_s3_bucket.b.arn}/*","$${literal}"]}"#
            )
        );
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let mut all: String = (0u8..=0x7f).map(char::from).collect();
        all.push_str("é ü € 😀 \u{2028} \u{fffd}");
        for s in [all.as_str(), "", "plain", "\"", "a\\b", "\u{1f}x"] {
            let mut out = String::new();
            push_json_escaped(&mut out, s);
            assert_eq!(format!("\"{out}\""), Value::from(s).to_string(), "{s:?}");
        }
    }

    #[test]
    fn insert_keeps_the_position_of_an_existing_key() {
        let mut object = TfJsonObject::from_iter([("a", "1"), ("b", "2")]);
        assert_eq!(object.insert("a", "3"), Some(TfJson::from("1")));
        assert_eq!(object.insert("c", "4"), None);
        let keys: Vec<&str> = object.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["a", "b", "c"]);
        assert_eq!(
            TfJson::from(object).to_template().to_tf_json(),
            Value::from(r#"{"a":"3","b":"2","c":"4"}"#)
        );
    }
}
