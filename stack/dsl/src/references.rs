//! Finding the references inside Terraform template strings (`${...}`), for synth-time checks.

use std::fmt;

use super::expr::{Expression, TemplatePart};

/// Something a Terraform expression refers to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reference {
    /// `type.name[.attr]`
    Resource {
        /// Resource type.
        kind: String,
        /// Logical id.
        name: String,
        /// First attribute traversed, if any.
        attr: Option<String>,
    },
    /// `data.type.name[.attr]`
    Data {
        /// Data source type.
        kind: String,
        /// Logical id.
        name: String,
        /// First attribute traversed, if any.
        attr: Option<String>,
    },
    /// `var.name`
    Variable(String),
    /// `local.name`
    Local(String),
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reference::Resource { kind, name, attr } => {
                write!(f, "{kind}.{name}")?;
                attr.as_ref().map_or(Ok(()), |a| write!(f, ".{a}"))
            }
            Reference::Data { kind, name, attr } => {
                write!(f, "data.{kind}.{name}")?;
                attr.as_ref().map_or(Ok(()), |a| write!(f, ".{a}"))
            }
            Reference::Variable(n) => write!(f, "var.{n}"),
            Reference::Local(n) => write!(f, "local.{n}"),
        }
    }
}

/// The references in a Terraform JSON string value (a template), in order of appearance.
///
/// Escaped sequences (`$${`) are literal text. Inside `${...}` the expression is scanned for
/// traversals; nested string templates are scanned too. Any provider's resource types are
/// recognised (`<provider>_<type>.<name>`: a root name with an underscore that is not one of
/// Terraform's own roots), except names bound by a `for` expression, which are locals of it.
/// ```
/// use callflow_dsl::references_in;
/// let refs = references_in("${aws_s3_bucket.events.arn}/x $${aws_kms_key.k.arn} ${var.region}");
/// assert_eq!(refs.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
///            ["aws_s3_bucket.events.arn", "var.region"]);
/// ```
pub fn references_in(template: &str) -> Vec<Reference> {
    let mut out = Vec::new();
    scan_template(template.as_bytes(), &mut out);
    out.into_iter().map(|(r, _)| r).collect()
}

/// How a reference to a resource or data source goes on right after its name: what synth checks
/// against the element's `count` / `for_each`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    /// The whole element (`aws_s3_bucket.b`, e.g. in `depends_on` or a `for_each`).
    Whole,
    /// An attribute of the element itself (`aws_s3_bucket.b.arn`).
    Attr,
    /// A numeric instance index (`aws_s3_bucket.b[0]`).
    Index,
    /// A string instance key (`aws_s3_bucket.b["k"]`).
    Key,
    /// The splat (`aws_s3_bucket.b[*]`).
    Splat,
    /// An index computed by an expression (`aws_s3_bucket.b[each.key]`).
    Computed,
}

/// [`references_in`] with each reference's [`Access`] (variables and locals: [`Access::Whole`]).
pub(crate) fn references_with_access(template: &str) -> Vec<(Reference, Access)> {
    let mut out = Vec::new();
    scan_template(template.as_bytes(), &mut out);
    out
}

/// The access after a reference's name: `names` segments were read, ending before `b[j]`.
fn access_after(b: &[u8], j: usize, names: usize, segments: usize) -> Access {
    if segments > names {
        return Access::Attr;
    }
    if b.get(j) != Some(&b'[') {
        return Access::Whole;
    }
    let mut k = j + 1;
    while b.get(k) == Some(&b' ') {
        k += 1;
    }
    match b.get(k) {
        Some(c) if c.is_ascii_digit() => {
            let mut e = k;
            while b.get(e).is_some_and(u8::is_ascii_digit) {
                e += 1;
            }
            while b.get(e) == Some(&b' ') {
                e += 1;
            }
            if b.get(e) == Some(&b']') {
                Access::Index
            } else {
                Access::Computed
            }
        }
        Some(b'"') => {
            // A key that is a plain string literal (no interpolation inside).
            let mut e = k + 1;
            while let Some(&c) = b.get(e) {
                match c {
                    b'\\' => e += 1,
                    b'"' => break,
                    b'$' if b.get(e + 1) == Some(&b'{') => return Access::Computed,
                    _ => {}
                }
                e += 1;
            }
            e += 1;
            while b.get(e) == Some(&b' ') {
                e += 1;
            }
            if b.get(e) == Some(&b']') {
                Access::Key
            } else {
                Access::Computed
            }
        }
        Some(b'*') => Access::Splat,
        _ => Access::Computed,
    }
}

/// Splits a rendered Terraform template (as found in Terraform JSON) back into literal text
/// (unescaped) and interpolated expressions.
/// ```
/// use callflow_dsl::{parse_template, TemplatePart, Expression};
/// assert_eq!(parse_template("a$${b}${var.c}"), vec![
///     TemplatePart::Literal("a${b}".into()),
///     TemplatePart::Interpolation(Expression::raw("var.c")),
/// ]);
/// ```
pub fn parse_template(text: &str) -> Vec<TemplatePart> {
    let b = text.as_bytes();
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut i = 0;
    let mut lit_start = 0;
    while i < b.len() {
        if (b[i] == b'$' || b[i] == b'%')
            && b.get(i + 1) == Some(&b[i])
            && b.get(i + 2) == Some(&b'{')
        {
            literal.push_str(&text[lit_start..i + 1]);
            i += 2;
            lit_start = i;
            continue;
        }
        if b[i] == b'$' && b.get(i + 1) == Some(&b'{') {
            literal.push_str(&text[lit_start..i]);
            if !literal.is_empty() {
                parts.push(TemplatePart::Literal(std::mem::take(&mut literal)));
            }
            let mut ignored = Vec::new();
            let end = scan_expression(b, i + 2, &mut ignored);
            parts.push(TemplatePart::Interpolation(Expression::raw(
                &text[i + 2..end.min(b.len())],
            )));
            i = end + 1;
            lit_start = i.min(b.len());
            continue;
        }
        i += 1;
    }
    literal.push_str(&text[lit_start.min(b.len())..]);
    if !literal.is_empty() {
        parts.push(TemplatePart::Literal(literal));
    }
    parts
}

/// Scans template text for references.
fn scan_template(b: &[u8], out: &mut Vec<(Reference, Access)>) {
    // Only a `$` can start an interpolation (skipping `%%{` changes nothing), so jump from one
    // `$` to the next instead of looking at every byte.
    let mut i = 0;
    while let Some(at) = b.get(i..).and_then(|rest| memchr::memchr(b'$', rest)) {
        i += at;
        if b.get(i + 1) == Some(&b'$') && b.get(i + 2) == Some(&b'{') {
            i += 3;
            continue;
        }
        if b.get(i + 1) == Some(&b'{') {
            let end = scan_expression(b, i + 2, out);
            i = end + 1;
            continue;
        }
        i += 1;
    }
}

/// Scans an expression from `start` until its closing `}`; returns the index of that brace.
fn scan_expression(b: &[u8], start: usize, out: &mut Vec<(Reference, Access)>) -> usize {
    // Names bound by `for` expressions seen so far in this expression.
    let mut bound: Vec<String> = Vec::new();
    let mut depth = 0usize;
    let mut i = start;
    while i < b.len() {
        let c = b[i];
        match c {
            b'"' => {
                // A quoted string inside an expression is itself a template.
                let mut j = i + 1;
                let content_start = j;
                let mut inner_depth = 0usize;
                while j < b.len() {
                    match b[j] {
                        b'\\' => j += 1,
                        b'$' if b.get(j + 1) == Some(&b'{') => {
                            inner_depth += 1;
                            j += 1;
                        }
                        b'}' if inner_depth > 0 => inner_depth -= 1,
                        b'"' if inner_depth == 0 => break,
                        _ => {}
                    }
                    j += 1;
                }
                scan_template(&b[content_start..j.min(b.len())], out);
                i = j + 1;
                continue;
            }
            b'{' | b'(' | b'[' => depth += 1,
            b'}' if depth == 0 => return i,
            b'}' | b')' | b']' => depth = depth.saturating_sub(1),
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let preceded_by_dot = i > 0 && b[i - 1] == b'.';
                let mut j = i;
                let mut segments: Vec<String> = Vec::new();
                loop {
                    let seg_start = j;
                    while j < b.len()
                        && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] == b'-')
                    {
                        j += 1;
                    }
                    segments.push(String::from_utf8_lossy(&b[seg_start..j]).into_owned());
                    if j + 1 < b.len()
                        && b[j] == b'.'
                        && (b[j + 1].is_ascii_alphabetic() || b[j + 1] == b'_')
                    {
                        j += 1;
                        continue;
                    }
                    break;
                }
                let is_call = b.get(j) == Some(&b'(');
                if segments.len() == 1 && segments[0] == "for" && !preceded_by_dot {
                    bound.extend(for_bindings(b, j));
                } else if let Some(r) =
                    (!preceded_by_dot && !is_call && !bound.contains(&segments[0]))
                        .then(|| classify(&segments))
                        .flatten()
                {
                    let access = match &r {
                        Reference::Resource { .. } => access_after(b, j, 2, segments.len()),
                        Reference::Data { .. } => access_after(b, j, 3, segments.len()),
                        _ => Access::Whole,
                    };
                    out.push((r, access));
                }
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    b.len()
}

/// The names a `for` expression binds: `for x in` or `for k, v in`, starting after `for`.
fn for_bindings(b: &[u8], mut i: usize) -> Vec<String> {
    let mut names = Vec::new();
    loop {
        while i < b.len() && (b[i] == b' ' || b[i] == b',' || b[i] == b'\n' || b[i] == b'\t') {
            i += 1;
        }
        let start = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'-') {
            i += 1;
        }
        if start == i || &b[start..i] == b"in" || names.len() == 2 {
            return names;
        }
        names.push(String::from_utf8_lossy(&b[start..i]).into_owned());
    }
}

/// Roots of Terraform's own namespaces, which are never resource types.
const NOT_RESOURCE_ROOTS: &[&str] = &["count", "each", "module", "path", "self", "terraform"];

fn classify(segments: &[String]) -> Option<Reference> {
    let s = |i: usize| segments.get(i).cloned();
    match segments.first().map(String::as_str)? {
        "var" => s(1).map(Reference::Variable),
        "local" => s(1).map(Reference::Local),
        "data" => Some(Reference::Data {
            kind: s(1)?,
            name: s(2)?,
            attr: s(3),
        }),
        kind if kind.contains('_') && !NOT_RESOURCE_ROOTS.contains(&kind) => {
            Some(Reference::Resource {
                kind: kind.to_string(),
                name: s(1)?,
                attr: s(2),
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(s: &str) -> Vec<String> {
        references_in(s).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn any_providers_resources_are_references_but_for_bindings_are_not() {
        assert_eq!(
            names("${terraform_data.d.id} ${google_storage_bucket.b.url} ${path.module}"),
            ["terraform_data.d.id", "google_storage_bucket.b.url"]
        );
        assert_eq!(
            names("${[for my_item in demo_thing.x.items : my_item.value_x]}"),
            ["demo_thing.x.items"]
        );
        assert_eq!(
            names("${{for k_1, v_1 in var.m : k_1 => v_1.id}}"),
            ["var.m"]
        );
    }

    #[test]
    fn finds_references_in_functions_and_nested_templates() {
        assert_eq!(
            names("${filebase64sha256(\"${path.module}/${local.dir}/a.zip\")}"),
            ["local.dir"]
        );
        assert_eq!(
            names(
                "${tolist(aws_acm_certificate.api.domain_validation_options)[0].resource_record_name}"
            ),
            ["aws_acm_certificate.api.domain_validation_options"]
        );
        assert_eq!(
            names("${jsonencode({a = data.aws_region.current.name, b = \"${var.x}\"})}"),
            ["data.aws_region.current.name", "var.x"]
        );
    }

    #[test]
    fn reads_the_instance_access_after_a_name() {
        let accesses = |s: &str| -> Vec<Access> {
            references_with_access(s)
                .into_iter()
                .map(|(_, a)| a)
                .collect()
        };
        assert_eq!(
            accesses(
                "${a_b.x} ${a_b.x.id} ${a_b.x[0].id} ${a_b.x[\"k\"]} ${a_b.x[*].id} ${a_b.x[each.key]}"
            ),
            [
                Access::Whole,
                Access::Attr,
                Access::Index,
                Access::Key,
                Access::Splat,
                Access::Computed
            ]
        );
        assert_eq!(
            accesses("${data.a_b.x[1].id} ${data.a_b.x.id} ${a_b.x[\"${var.k}\"]} ${a_b.x[1 + 1]}"),
            [
                Access::Index,
                Access::Attr,
                Access::Computed,
                Access::Whole,
                Access::Computed
            ]
        );
    }

    #[test]
    fn ignores_escapes_and_for_expression_names() {
        assert!(names("$${aws_s3_bucket.x.arn} %%{ if }").is_empty());
        assert_eq!(
            names(
                "${{for dvo in aws_acm_certificate.c.domain_validation_options : dvo.domain_name => dvo}}"
            ),
            ["aws_acm_certificate.c.domain_validation_options"]
        );
    }
}
