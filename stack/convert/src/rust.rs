//! Small pieces of Rust source: identifiers, string literals, `json!` literals.

use serde_json::Value;

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "static", "struct", "super", "trait", "true", "try", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield",
];

/// A snake_case Rust identifier for a Terraform name (`getEvent` → `get_event`); keywords get
/// a trailing `_`.
pub fn snake_ident(name: &str) -> String {
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
            if !out.ends_with('_') {
                out.push('_');
            }
            prev_lower = false;
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    if KEYWORDS.contains(&out.as_str()) {
        out.push('_');
    }
    out
}

/// A Rust string literal: a raw string when the text has quotes or backslashes and no
/// control characters (JSON policies read better), else an escaped one.
pub fn str_lit(s: &str) -> String {
    let plain_raw = (s.contains('"') || s.contains('\\'))
        && !s.chars().any(|c| c.is_control())
        && !s.contains("\"#");
    if plain_raw {
        format!("r#\"{s}\"#")
    } else {
        format!("{s:?}")
    }
}

/// A `serde_json::json!` literal of a value (strings as they are: no escaping is added).
pub fn json_lit(v: &Value) -> String {
    let mut out = String::from("json!(");
    write_json(v, &mut out);
    out.push(')');
    out
}

/// The largest number of entries of one object or array in `v` (the `json!` macro recurses
/// once per entry).
pub fn json_width(v: &Value) -> usize {
    match v {
        Value::Array(items) => items
            .iter()
            .map(json_width)
            .max()
            .unwrap_or(0)
            .max(items.len()),
        Value::Object(map) => map
            .values()
            .map(json_width)
            .max()
            .unwrap_or(0)
            .max(map.len()),
        _ => 0,
    }
}

fn write_json(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(&b.to_string()),
        Value::Number(n) => out.push_str(&number_lit(n)),
        Value::String(s) => out.push_str(&str_lit(s)),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&str_lit(k));
                out.push_str(": ");
                write_json(item, out);
            }
            out.push('}');
        }
    }
}

/// A Rust numeric literal of a JSON number that converts back to the same JSON number.
pub fn number_lit(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        if i32::try_from(i).is_ok() {
            i.to_string()
        } else {
            format!("{i}_i64")
        }
    } else if let Some(u) = n.as_u64() {
        format!("{u}_u64")
    } else {
        let f = n.as_f64().unwrap_or(0.0);
        let text = format!("{f:?}");
        if text.contains(['.', 'e', 'E']) {
            text
        } else {
            format!("{text}.0")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        assert_eq!(
            snake_ident("event_retriever_getEvent"),
            "event_retriever_get_event"
        );
        assert_eq!(snake_ident("type"), "type_");
        assert_eq!(snake_ident("my-bucket"), "my_bucket");
        assert_eq!(snake_ident("1st"), "_1st");
    }

    #[test]
    fn literals() {
        assert_eq!(str_lit("a\nb"), "\"a\\nb\"");
        assert_eq!(str_lit("{\"a\":1}"), "r#\"{\"a\":1}\"#");
        assert_eq!(
            json_lit(&serde_json::json!({"a": [1, 2.5, null, "x"]})),
            "json!({\"a\": [1, 2.5, null, \"x\"]})"
        );
        assert_eq!(
            number_lit(&serde_json::Number::from(5_000_000_000_i64)),
            "5000000000_i64"
        );
    }
}
