//! What can go wrong, each error naming the file, the type and the JSON path.

use std::fmt;

/// A schema document the generator cannot read: malformed JSON or a construct outside the
/// documented format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaError {
    /// The schema file.
    pub file: String,
    /// The resource or data-source type the problem is in, if any.
    pub type_name: Option<String>,
    /// JSON path of the offending value (`provider_schemas["..."].resource_schemas.x.block...`).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(t) = &self.type_name {
            write!(f, ": type `{t}`")?;
        }
        write!(f, ": at {}: {}", self.path, self.message)
    }
}

impl std::error::Error for SchemaError {}

/// Every error of the generator.
#[derive(Debug, thiserror::Error)]
pub enum CodegenError {
    /// The schema document is malformed or uses an unknown construct.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// The document has no schema for the requested provider.
    #[error("{file}: no provider `{provider}` in provider_schemas (found: {found})")]
    NoProvider {
        /// The schema file.
        file: String,
        /// The provider asked for.
        provider: String,
        /// The providers the file has.
        found: String,
    },
    /// A selected type (or a glob) matches nothing in the schema.
    #[error("{file}: {kind} `{pattern}` is not in the schema of {provider}{}", suggestions_text(.suggestions))]
    UnknownType {
        /// The schema file.
        file: String,
        /// The provider.
        provider: String,
        /// `resource type` or `data source`.
        kind: &'static str,
        /// The name or glob.
        pattern: String,
        /// The closest names the schema has.
        suggestions: Vec<String>,
    },
    /// rustfmt could not format a generated module.
    #[error("formatting generated module `{module}` with rustfmt: {message}")]
    Rustfmt {
        /// The module.
        module: String,
        /// rustfmt's message.
        message: String,
    },
    /// Writing the bindings failed; the previous ones are left in place.
    #[error("writing bindings to {path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

fn suggestions_text(s: &[String]) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!(
            "; did you mean {}?",
            s.iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}
