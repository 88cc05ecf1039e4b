//! The stage's JSON access log: one line per request with the keys of the deployed stage's
//! format ([`callflow_deployment::stage::ACCESS_LOG_FORMAT`]), its `$context` variables filled in.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

/// A format that is not a flat JSON object of string templates.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("access log format: {0}")]
pub struct InvalidLogFormat(String);

/// A parsed access log format: output keys in order, each with its template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLogFormat {
    fields: Vec<(String, String)>,
}

impl AccessLogFormat {
    /// Parses a JSON access log format such as `{"requestId":"$context.requestId", ...}`.
    pub fn parse(format: &str) -> Result<Self, InvalidLogFormat> {
        let value: Value =
            serde_json::from_str(format).map_err(|e| InvalidLogFormat(e.to_string()))?;
        let object = value
            .as_object()
            .ok_or_else(|| InvalidLogFormat("not a JSON object".into()))?;
        let fields = object
            .iter()
            .map(|(key, template)| match template.as_str() {
                Some(t) => Ok((key.clone(), t.to_owned())),
                None => Err(InvalidLogFormat(format!(
                    "value of {key:?} is not a string"
                ))),
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { fields })
    }

    /// The format of the deployed stage.
    pub fn deployed() -> Result<Self, InvalidLogFormat> {
        Self::parse(callflow_deployment::stage::ACCESS_LOG_FORMAT)
    }

    /// The output keys, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|(k, _)| k.as_str())
    }

    /// One log line: every `$context.name` replaced by `variables["name"]`, `-` when unknown
    /// (as API Gateway writes missing values).
    pub fn render(&self, variables: &HashMap<&'static str, String>) -> String {
        let mut line = Map::new();
        for (key, template) in &self.fields {
            line.insert(key.clone(), Value::String(substitute(template, variables)));
        }
        Value::Object(line).to_string()
    }
}

/// Replaces each `$context.<dotted.name>` in `template`.
fn substitute(template: &str, variables: &HashMap<&'static str, String>) -> String {
    const PREFIX: &str = "$context.";
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find(PREFIX) {
        out.push_str(&rest[..start]);
        let after = &rest[start + PREFIX.len()..];
        let len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_'))
            .unwrap_or(after.len());
        let name = after[..len].trim_end_matches('.');
        match variables.get(name) {
            Some(value) if !value.is_empty() => out.push_str(value),
            _ => out.push('-'),
        }
        rest = &after[name.len()..];
    }
    out.push_str(rest);
    out
}

/// Where access log lines go.
pub trait AccessLogSink: Send + Sync {
    /// Writes one line (without trailing newline).
    fn write_line(&self, line: &str);
}

/// Writes lines to standard output.
#[derive(Debug, Clone, Copy, Default)]
pub struct StdoutSink;

impl AccessLogSink for StdoutSink {
    fn write_line(&self, line: &str) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}

/// Drops every line.
#[derive(Debug, Clone, Copy, Default)]
pub struct DiscardSink;

impl AccessLogSink for DiscardSink {
    fn write_line(&self, _line: &str) {}
}

/// Keeps lines in memory (tests).
#[derive(Debug, Clone, Default)]
pub struct MemorySink {
    lines: Arc<Mutex<Vec<String>>>,
}

impl MemorySink {
    /// The lines written so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl AccessLogSink for MemorySink {
    fn write_line(&self, line: &str) {
        self.lines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(line.to_owned());
    }
}
