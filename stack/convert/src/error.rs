//! What can stop a conversion, and what a conversion could not say in typed form (gaps).

use std::fmt;
use std::path::PathBuf;

use crate::ir::Location;

/// An error: nothing is written.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// A file or directory could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// An HCL file does not parse.
    #[error("{location}: HCL syntax error: {message}")]
    Hcl {
        /// File and line of the error.
        location: Location,
        /// The parser's message, with the offending line.
        message: String,
    },
    /// A JSON file does not parse.
    #[error("{location}: JSON syntax error: {message}")]
    Json {
        /// File and line of the error.
        location: Location,
        /// The parser's message.
        message: String,
    },
    /// A construct that is malformed (not what Terraform accepts).
    #[error("{location}: {construct}: {message}")]
    Invalid {
        /// Where.
        location: Location,
        /// What (e.g. `resource "aws_s3_bucket"`).
        construct: String,
        /// What is wrong.
        message: String,
    },
    /// The input has no configuration files.
    #[error("{}: no *.tf or *.tf.json files (give a configuration directory or a cdk.tf.json)", path.display())]
    NoInput {
        /// The directory.
        path: PathBuf,
    },
    /// Two constructs share an address.
    #[error("{location}: {address} is declared twice (first at {first})")]
    Duplicate {
        /// The second declaration.
        location: Location,
        /// The address.
        address: String,
        /// The first declaration.
        first: Location,
    },
    /// A resource or data source type that no `--schema` document has.
    #[error(
        "{location}: {kind} type `{type_name}` is not in the given schema(s){}",
        suggest(suggestions)
    )]
    UnknownType {
        /// Where it is used.
        location: Location,
        /// `resource` or `data source`.
        kind: &'static str,
        /// The type.
        type_name: String,
        /// The closest names the schemas have.
        suggestions: Vec<String>,
    },
    /// A `--schema` document that is not a provider schema.
    #[error("{}: {message}", path.display())]
    Schema {
        /// The document.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Generating the bindings failed.
    #[error("generating bindings: {0}")]
    Codegen(#[from] callflow_codegen::CodegenError),
    /// The generated bindings could not be read back (a bug: they are ours).
    #[error("reading the generated bindings of {provider}: {message}")]
    Bindings {
        /// The provider.
        provider: String,
        /// What failed.
        message: String,
    },
}

fn suggest(names: &[String]) -> String {
    if names.is_empty() {
        String::new()
    } else {
        format!("; closest: {}", names.join(", "))
    }
}

/// A construct the converter could not express with the DSL's typed API: it is carried over
/// through the raw escape hatch (so the synthesized stack still says it) or, where there is no
/// hatch, not converted. Either way it is listed, never silently dropped.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Gap {
    /// Where the construct is.
    pub location: Location,
    /// The construct, e.g. `aws_s3_bucket.logs: count`.
    pub construct: String,
    /// Why it has no typed form.
    pub reason: String,
    /// What the converter did with it.
    pub handling: Handling,
}

/// What happened to a gap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Handling {
    /// Emitted through the raw escape hatch (`add_override`, or set on the synthesized
    /// document): the output still says it.
    Raw,
    /// Not in the output.
    Dropped,
}

impl fmt::Display for Gap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let how = match self.handling {
            Handling::Raw => "kept as raw Terraform JSON",
            Handling::Dropped => "NOT converted",
        };
        write!(
            f,
            "{}: {}: {} ({how})",
            self.location, self.construct, self.reason
        )
    }
}
