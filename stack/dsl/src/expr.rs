//! Terraform values: literals, expressions and string templates, rendered to Terraform JSON.
//!
//! In Terraform's JSON syntax every string is a template: `${...}` interpolates an expression and
//! `%{...}` is a directive. A literal string therefore has those sequences escaped (`$${`, `%%{`),
//! while an [`Expression`] is written inside `${...}` as is.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Serialize, Serializer};
use serde_json::Value;

use super::cross_stack::{self, StackId};

/// A Terraform expression in HCL syntax, without the surrounding `${` `}`.
///
/// ```
/// use callflow_dsl::Expression;
/// let e = Expression::raw("aws_s3_bucket.events.arn");
/// assert_eq!(e.interpolation(), "${aws_s3_bucket.events.arn}");
/// ```
///
/// An expression read from a stack's element (a handle's reference, a variable, a local) also
/// knows the stack it comes from, its *origin*: used in another stack of the same
/// [`crate::App`], it becomes a cross-stack reference (see [`crate::RemoteState`]). Equality,
/// ordering and hashing look at the HCL text only.
#[derive(Clone)]
pub struct Expression {
    hcl: String,
    origin: Option<StackId>,
}

impl PartialEq for Expression {
    fn eq(&self, other: &Self) -> bool {
        self.hcl == other.hcl
    }
}

impl Eq for Expression {}

impl std::hash::Hash for Expression {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.hcl.hash(state);
    }
}

impl PartialOrd for Expression {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Expression {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.hcl.cmp(&other.hcl)
    }
}

impl fmt::Debug for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Expression").field(&self.hcl).finish()
    }
}

impl Expression {
    /// An expression from HCL source text; the caller vouches for its syntax.
    pub fn raw(hcl: impl Into<String>) -> Self {
        Self {
            hcl: hcl.into(),
            origin: None,
        }
    }

    /// An expression computed from `self` (a function of it, a conversion, a traversal):
    /// `hcl` is the new text, and it keeps `self`'s origin stack, so that a value derived from
    /// another stack's reference still becomes a cross-stack reference.
    pub fn derived(&self, hcl: impl Into<String>) -> Self {
        Self {
            hcl: hcl.into(),
            origin: self.origin,
        }
    }

    /// An expression computed from several (`f(a, b)`): it keeps their origin stack when all
    /// of them that have one share it, and has none when they come from different stacks.
    pub fn combined<'a>(
        hcl: impl Into<String>,
        sources: impl IntoIterator<Item = &'a Expression>,
    ) -> Self {
        let mut origin = None;
        for source in sources {
            match (origin, source.origin) {
                (_, None) => {}
                (None, Some(o)) => origin = Some(o),
                (Some(a), Some(b)) if a == b => {}
                (Some(_), Some(_)) => return Self::raw(hcl),
            }
        }
        Self {
            hcl: hcl.into(),
            origin,
        }
    }

    /// The expression read from an element of the stack `origin`.
    pub(crate) fn in_stack(hcl: impl Into<String>, origin: StackId) -> Self {
        Self {
            hcl: hcl.into(),
            origin: Some(origin),
        }
    }

    /// The stack this expression reads from, if it reads a stack's element.
    pub(crate) fn origin(&self) -> Option<StackId> {
        self.origin
    }

    /// This expression without origin: read by name in whatever stack uses it.
    pub fn by_name(&self) -> Self {
        Self::raw(self.hcl.clone())
    }

    /// The HCL source text of this expression.
    pub fn as_hcl(&self) -> &str {
        &self.hcl
    }

    /// The expression as a Terraform JSON string value: `${expr}`.
    pub fn interpolation(&self) -> String {
        format!("${{{}}}", self.hcl)
    }

    /// A reference to an attribute of this value: `expr.name`.
    pub fn attr(&self, name: &str) -> Self {
        self.derived(format!("{}.{}", self.hcl, name))
    }

    /// An index into this value: `expr[index]`.
    pub fn index(&self, index: usize) -> Self {
        self.derived(format!("{}[{}]", self.hcl, index))
    }
}

impl fmt::Display for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hcl)
    }
}

/// Escapes a literal string so that Terraform reads it back unchanged (`${` → `$${`, `%{` → `%%{`).
///
/// ```
/// assert_eq!(callflow_dsl::escape_literal("cost: ${5}"), "cost: $${5}");
/// ```
pub fn escape_literal(s: &str) -> String {
    escaped_literal(s).into_owned()
}

/// [`escape_literal`] without a copy when there is nothing to escape (most strings).
pub(crate) fn escaped_literal(s: &str) -> std::borrow::Cow<'_, str> {
    let b = s.as_bytes();
    // Every `{` preceded by `$` or `%` gets that character doubled; `{` is rare, so look for it
    // (memchr) instead of walking the characters.
    let mut starts = s
        .match_indices('{')
        .map(|(i, _)| i)
        .filter(|&i| i > 0 && matches!(b[i - 1], b'$' | b'%'))
        .peekable();
    if starts.peek().is_none() {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    let mut from = 0;
    for i in starts {
        // `i - 1` is an ASCII byte, so both slices end on character boundaries.
        out.push_str(&s[from..i]);
        out.push(char::from(b[i - 1]));
        from = i;
    }
    out.push_str(&s[from..]);
    std::borrow::Cow::Owned(out)
}

/// Quotes a literal string as an HCL string literal (inside an expression).
pub fn hcl_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in escaped_literal(s).chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether an expression needs no parentheses as an operand: a traversal (`a.b[0].c`), a
/// function call or a collection constructor, possibly followed by traversals
/// (`tolist(a.b)[0].c`, `[a.b]`). Anything with an operator or a space outside brackets and
/// strings (`a + b`, `x ? y : z`) is not.
fn is_traversal(hcl: &str) -> bool {
    if hcl.is_empty() {
        return false;
    }
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for c in hcl.chars() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ if depth > 0 => {}
            c if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') => {}
            _ => return false,
        }
    }
    depth == 0 && !in_string
}

/// A literal Rust value that has a Terraform JSON form.
pub trait TfLiteral {
    /// The value as Terraform JSON, strings escaped.
    fn to_tf_json(&self) -> Value;
    /// The value as an HCL expression (used when it is an argument of a function).
    fn to_hcl(&self) -> String;
    /// Serializes the value as [`TfLiteral::to_tf_json`] would give it, without building that
    /// `Value` first where the type knows how (synth serializes every attribute this way).
    fn serialize_tf<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error>
    where
        Self: Sized,
    {
        self.to_tf_json().serialize(serializer)
    }
}

/// A literal serialized through [`TfLiteral::serialize_tf`] (elements of lists and maps).
struct AsTf<'a, T>(&'a T);

impl<T: TfLiteral> Serialize for AsTf<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_tf(serializer)
    }
}

impl TfLiteral for String {
    fn to_tf_json(&self) -> Value {
        Value::String(escape_literal(self))
    }
    fn to_hcl(&self) -> String {
        hcl_quote(self)
    }
    fn serialize_tf<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&escaped_literal(self))
    }
}

impl TfLiteral for bool {
    fn to_tf_json(&self) -> Value {
        Value::Bool(*self)
    }
    fn to_hcl(&self) -> String {
        self.to_string()
    }
    fn serialize_tf<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bool(*self)
    }
}

macro_rules! number_literal {
    ($($t:ty),*) => {$(
        impl TfLiteral for $t {
            fn to_tf_json(&self) -> Value { Value::from(*self) }
            fn to_hcl(&self) -> String { self.to_string() }
            // `Value::from` and serde_json's serializers agree: integers exact, non-finite
            // floats `null`.
            fn serialize_tf<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                self.serialize(serializer)
            }
        }
    )*};
}
number_literal!(i64, u32, u64, f64);

/// A Terraform `dynamic` value: any JSON value (strings in it are escaped as literals).
pub type Dynamic = Value;

impl TfLiteral for Value {
    fn to_tf_json(&self) -> Value {
        match self {
            Value::String(s) => Value::String(escape_literal(s)),
            Value::Array(items) => Value::Array(items.iter().map(TfLiteral::to_tf_json).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), v.to_tf_json()))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
    fn to_hcl(&self) -> String {
        hcl_of_json(&self.to_tf_json())
    }
}

/// A value that may itself be a reference, inside a collection literal (`vec![arn, "x".into()]`).
impl<T: TfLiteral> TfLiteral for Tf<T> {
    fn to_tf_json(&self) -> Value {
        Tf::to_tf_json(self)
    }
    fn to_hcl(&self) -> String {
        Tf::to_hcl(self)
    }
    fn serialize_tf<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.serialize(serializer)
    }
}

macro_rules! tuple_literal {
    ($(($($t:ident $i:tt),+)),*) => {$(
        impl<$($t: TfLiteral),+> TfLiteral for ($($t,)+) {
            fn to_tf_json(&self) -> Value {
                Value::Array(vec![$(self.$i.to_tf_json()),+])
            }
            fn to_hcl(&self) -> String {
                let items: Vec<String> = vec![$(self.$i.to_hcl()),+];
                format!("[{}]", items.join(", "))
            }
        }
    )*};
}
tuple_literal!(
    (A 0),
    (A 0, B 1),
    (A 0, B 1, C 2),
    (A 0, B 1, C 2, D 3),
    (A 0, B 1, C 2, D 3, E 4),
    (A 0, B 1, C 2, D 3, E 4, F 5),
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6),
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7)
);

/// The HCL expression of a Terraform JSON value whose strings are already templates (escaped).
pub(crate) fn hcl_of_json(v: &Value) -> String {
    match v {
        Value::String(s) => quote_template(s),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(hcl_of_json).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(map) => {
            let items: Vec<String> = map
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{} = {}",
                        quote_template(&escape_literal(k)),
                        hcl_of_json(v)
                    )
                })
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        other => other.to_string(),
    }
}

/// Quotes a Terraform template (already escaped) as an HCL string literal.
fn quote_template(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl<T: TfLiteral> TfLiteral for Vec<T> {
    fn to_tf_json(&self) -> Value {
        Value::Array(self.iter().map(TfLiteral::to_tf_json).collect())
    }
    fn to_hcl(&self) -> String {
        let items: Vec<String> = self.iter().map(TfLiteral::to_hcl).collect();
        format!("[{}]", items.join(", "))
    }
    fn serialize_tf<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter().map(AsTf))
    }
}

impl<T: TfLiteral> TfLiteral for BTreeMap<String, T> {
    fn to_tf_json(&self) -> Value {
        Value::Object(
            self.iter()
                .map(|(k, v)| (k.clone(), v.to_tf_json()))
                .collect(),
        )
    }
    fn to_hcl(&self) -> String {
        let items: Vec<String> = self
            .iter()
            .map(|(k, v)| format!("{} = {}", hcl_quote(k), v.to_hcl()))
            .collect();
        format!("{{{}}}", items.join(", "))
    }
    fn serialize_tf<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter().map(|(k, v)| (k, AsTf(v))))
    }
}

/// One part of a string template ([`Tf::Template`]): literal text or an interpolated expression.
#[derive(Clone, Debug, PartialEq)]
pub enum TemplatePart {
    /// Literal text, escaped on output.
    Literal(String),
    /// An expression, written as `${expr}`.
    Interpolation(Expression),
}

/// A Terraform attribute value: a literal, an expression, or a string template mixing both.
///
/// Setters of typed resources take `impl Into<Tf<T>>`, so literals and references mix:
/// ```
/// use callflow_dsl::{Expression, Tf};
/// let name: Tf<String> = "events".into();
/// let arn: Tf<String> = Tf::expr(Expression::raw("aws_s3_bucket.events.arn"));
/// let objects = Tf::template([arn.clone(), "/events/*".into()]);
/// assert_eq!(objects.to_tf_json(), serde_json::json!("${aws_s3_bucket.events.arn}/events/*"));
/// assert_eq!(name.to_tf_json(), serde_json::json!("events"));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Tf<T> {
    /// A literal value, escaped on output.
    Literal(T),
    /// An expression, written as `${expr}`.
    Expr(Expression),
    /// A string template of literal text and interpolations.
    Template(Vec<TemplatePart>),
}

impl<T> Tf<T> {
    /// A value computed by a Terraform expression.
    pub fn expr(e: Expression) -> Self {
        Tf::Expr(e)
    }

    /// The expression form of this value, for use as an argument of a Terraform function.
    pub fn to_hcl(&self) -> String
    where
        T: TfLiteral,
    {
        match self {
            Tf::Literal(v) => v.to_hcl(),
            Tf::Expr(e) if is_traversal(e.as_hcl()) => e.as_hcl().to_string(),
            Tf::Expr(e) => format!("({})", e.as_hcl()),
            Tf::Template(parts) => {
                let mut out = String::from("\"");
                for p in parts {
                    match p {
                        TemplatePart::Literal(s) => {
                            let quoted = hcl_quote(s);
                            out.push_str(&quoted[1..quoted.len() - 1]);
                        }
                        TemplatePart::Interpolation(e) => out.push_str(&e.interpolation()),
                    }
                }
                out.push('"');
                out
            }
        }
    }

    /// This value where a string is expected (Terraform converts numbers and bools in string
    /// templates): references stay references, literals become their HCL expression.
    pub fn as_string(&self) -> Tf<String>
    where
        T: TfLiteral,
    {
        match self {
            Tf::Literal(v) => Tf::Expr(Expression::raw(v.to_hcl())),
            Tf::Expr(e) => Tf::Expr(e.clone()),
            Tf::Template(parts) => Tf::Template(parts.clone()),
        }
    }

    /// This value with its references read by name in whatever stack uses it, instead of as
    /// references into the stack they were taken from: for a value built once and shared by
    /// stacks that declare the same elements (a cache across stacks). Without it, such a value
    /// used in another stack of an [`crate::App`] is a cross-stack reference. (An expression
    /// or template only; references inside a literal collection keep their origin.)
    pub fn by_name(&self) -> Self
    where
        T: Clone,
    {
        match self {
            Tf::Literal(v) => Tf::Literal(v.clone()),
            Tf::Expr(e) => Tf::Expr(e.by_name()),
            Tf::Template(parts) => Tf::Template(
                parts
                    .iter()
                    .map(|p| match p {
                        TemplatePart::Interpolation(e) => TemplatePart::Interpolation(e.by_name()),
                        literal => literal.clone(),
                    })
                    .collect(),
            ),
        }
    }

    /// The value as Terraform JSON.
    pub fn to_tf_json(&self) -> Value
    where
        T: TfLiteral,
    {
        match self {
            Tf::Literal(v) => v.to_tf_json(),
            Tf::Expr(e) => Value::String(e.interpolation()),
            Tf::Template(parts) => Value::String(template_text(parts)),
        }
    }
}

/// The Terraform JSON string of a template: literal text escaped, expressions as `${expr}`.
fn template_text(parts: &[TemplatePart]) -> String {
    let len = parts
        .iter()
        .map(|p| match p {
            TemplatePart::Literal(s) => s.len(),
            TemplatePart::Interpolation(e) => e.as_hcl().len() + 3,
        })
        .sum();
    let mut out = String::with_capacity(len);
    for p in parts {
        match p {
            TemplatePart::Literal(s) => out.push_str(&escaped_literal(s)),
            TemplatePart::Interpolation(e) => {
                out.push_str("${");
                out.push_str(e.as_hcl());
                out.push('}');
            }
        }
    }
    out
}

impl Tf<String> {
    /// A string template joining literal strings and expressions in order.
    pub fn template(parts: impl IntoIterator<Item = Tf<String>>) -> Self {
        let mut out = Vec::new();
        for part in parts {
            match part {
                Tf::Literal(s) => out.push(TemplatePart::Literal(s)),
                Tf::Expr(e) => out.push(TemplatePart::Interpolation(e)),
                Tf::Template(inner) => out.extend(inner),
            }
        }
        Tf::Template(out)
    }

    /// A value from an already rendered Terraform template string (e.g. a document whose
    /// interpolations were inserted by another crate): parsed back into literal text and
    /// interpolations, so it renders unchanged.
    pub fn from_rendered(text: &str) -> Self {
        Tf::Template(super::references::parse_template(text))
    }

    /// This value followed by a literal suffix, e.g. `arn.suffixed("/*")`.
    pub fn suffixed(&self, suffix: &str) -> Self {
        Self::template([self.clone(), suffix.into()])
    }
}

/// The literal default (`""`, `0`, `false`, `[]`), so typed blocks can use `..Default::default()`.
impl<T: Default> Default for Tf<T> {
    fn default() -> Self {
        Tf::Literal(T::default())
    }
}

/// Serializes as [`Tf::to_tf_json`], straight into the serializer.
impl<T: TfLiteral> Serialize for Tf<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Tf::Literal(v) => v.serialize_tf(serializer),
            // A reference into another stack is rewritten while a stack records its element
            // (`cross_stack`); nothing to do for the others.
            Tf::Expr(e) => match e.origin.and_then(|o| cross_stack::foreign(o, &e.hcl)) {
                Some(local) => serializer.serialize_str(&format!("${{{local}}}")),
                None => serializer.serialize_str(&e.interpolation()),
            },
            Tf::Template(parts) => match cross_stack::localize_template(parts) {
                Some(local) => serializer.serialize_str(&template_text(&local)),
                None => serializer.serialize_str(&template_text(parts)),
            },
        }
    }
}

impl From<&str> for Tf<String> {
    fn from(s: &str) -> Self {
        Tf::Literal(s.to_string())
    }
}

impl From<&String> for Tf<String> {
    fn from(s: &String) -> Self {
        Tf::Literal(s.clone())
    }
}

/// Any literal value: `Tf::from(true)`, `Tf::from(vec![..])`, `Tf::from(BTreeMap)`.
impl<T> From<T> for Tf<T> {
    fn from(v: T) -> Self {
        Tf::Literal(v)
    }
}

impl From<Vec<&str>> for Tf<Vec<Tf<String>>> {
    fn from(v: Vec<&str>) -> Self {
        Tf::Literal(v.into_iter().map(Tf::from).collect())
    }
}

impl From<Vec<String>> for Tf<Vec<Tf<String>>> {
    fn from(v: Vec<String>) -> Self {
        Tf::Literal(v.into_iter().map(Tf::from).collect())
    }
}

impl<const N: usize> From<[&str; N]> for Tf<Vec<Tf<String>>> {
    fn from(v: [&str; N]) -> Self {
        Tf::Literal(v.into_iter().map(Tf::from).collect())
    }
}

impl<K: Into<String>, V: Into<Tf<String>>, const N: usize> From<[(K, V); N]>
    for Tf<BTreeMap<String, Tf<String>>>
{
    fn from(v: [(K, V); N]) -> Self {
        Tf::Literal(v.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }
}

impl From<Expression> for Tf<String> {
    fn from(e: Expression) -> Self {
        Tf::Expr(e)
    }
}

impl<T> From<&Tf<T>> for Tf<T>
where
    T: Clone,
{
    fn from(t: &Tf<T>) -> Self {
        t.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_escape_template_sequences() {
        let t: Tf<String> = "a ${b} %{c} $d".into();
        assert_eq!(t.to_tf_json(), Value::from("a $${b} %%{c} $d"));
    }

    #[test]
    fn templates_mix_literals_and_references() {
        let arn = Tf::<String>::expr(Expression::raw("aws_s3_bucket.events.arn"));
        let t = Tf::template([arn, "/${not-a-ref}".into()]);
        assert_eq!(
            t.to_tf_json(),
            Value::from("${aws_s3_bucket.events.arn}/$${not-a-ref}")
        );
        assert_eq!(t.to_hcl(), "\"${aws_s3_bucket.events.arn}/$${not-a-ref}\"");
    }
}
