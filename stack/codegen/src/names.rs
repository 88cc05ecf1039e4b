//! Rust names for Terraform names: snake_case identifiers (keywords as raw identifiers),
//! PascalCase type names, and deterministic suffixes where two names collide after conversion.

use std::collections::BTreeSet;

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "dyn", "else", "enum", "extern", "false",
    "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "static", "struct", "trait", "true", "try", "type", "unsafe", "use", "where",
    "while", "abstract", "become", "box", "do", "final", "macro", "override", "priv", "typeof",
    "unsized", "virtual", "yield",
];
/// Keywords that cannot be raw identifiers.
const NOT_RAW: &[&str] = &["self", "Self", "super", "crate", "_"];

/// The snake_case form of a Terraform name, without keyword handling.
pub fn snake(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut prev_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            out.push('_');
            prev_lower = false;
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// The PascalCase form of a Terraform name.
pub fn pascal(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for part in snake(name).split('_').filter(|p| !p.is_empty()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'T');
    }
    out
}

/// The identifier for a snake name: `r#type` for keywords, `self_` for those that cannot be raw.
pub fn ident(snake: &str) -> String {
    if NOT_RAW.contains(&snake) {
        format!("{snake}_")
    } else if KEYWORDS.contains(&snake) {
        format!("r#{snake}")
    } else {
        snake.to_string()
    }
}

/// Hands out unique names in the order asked: the first asker of a name gets it, later ones get
/// `2`, `3`, ... appended (joined by `sep`), so output depends only on the (sorted) input.
#[derive(Debug, Default)]
pub struct Registry {
    used: BTreeSet<String>,
}

impl Registry {
    /// A registry with names already taken.
    pub fn with_reserved(names: &[&str]) -> Self {
        Self {
            used: names.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// Whether `name` (and `name` + each of `also`) is still free.
    pub fn is_free(&self, name: &str, also: &[&str]) -> bool {
        !self.used.contains(name)
            && also
                .iter()
                .all(|s| !self.used.contains(&format!("{name}{s}")))
    }

    /// A unique name based on `base`; `also` suffixes are reserved with it (e.g. `Refs`).
    pub fn claim(&mut self, base: &str, sep: &str, also: &[&str]) -> String {
        let mut name = base.to_string();
        let mut i = 2;
        while !self.is_free(&name, also) {
            name = format!("{base}{sep}{i}");
            i += 1;
        }
        self.used.insert(name.clone());
        for s in also {
            self.used.insert(format!("{name}{s}"));
        }
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(snake("fooBar"), "foo_bar");
        assert_eq!(snake("3d"), "_3d");
        assert_eq!(pascal("s3_bucket_v2"), "S3BucketV2");
        assert_eq!(ident("type"), "r#type");
        assert_eq!(ident("self"), "self_");
    }

    #[test]
    fn collisions_get_ordered_suffixes() {
        let mut r = Registry::default();
        assert_eq!(r.claim("FooBar", "", &["Refs"]), "FooBar");
        assert_eq!(r.claim("FooBar", "", &["Refs"]), "FooBar2");
        assert_eq!(r.claim("Foo", "", &["BarRefs"]), "Foo2");
    }
}
