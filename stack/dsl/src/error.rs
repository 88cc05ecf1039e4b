//! Errors of stack construction and synthesis.

use std::fmt;

/// One problem in a stack, found while building or synthesizing it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StackError {
    /// Two elements share an address; the second would silently replace the first.
    #[error("duplicate logical id: `{address}` is declared twice")]
    DuplicateId {
        /// The address declared twice.
        address: String,
    },
    /// A logical id that Terraform does not accept as an identifier.
    #[error(
        "invalid logical id `{id}`: use a letter or `_` first, then letters, digits, `_` or `-` (max 64)"
    )]
    InvalidId {
        /// The rejected id.
        id: String,
    },
    /// A `${...}` reference to something the stack does not declare.
    #[error("reference `{reference}` at `{at}` names nothing declared in this stack")]
    UnknownReference {
        /// The reference as written.
        reference: String,
        /// JSON path where it occurs.
        at: String,
    },
    /// An override path that cannot be applied.
    #[error("override `{path}` on `{address}`: {message}")]
    Override {
        /// The resource address.
        address: String,
        /// The override path.
        path: String,
        /// Why it failed.
        message: String,
    },
    /// A resource body that could not be serialized.
    #[error("`{address}` could not be serialized: {message}")]
    Serialize {
        /// The resource address.
        address: String,
        /// The serializer's message.
        message: String,
    },
    /// A construct's input that violates a documented constraint.
    #[error("{construct}: {message}")]
    Invalid {
        /// Construct path.
        construct: String,
        /// What is wrong, quoting the value.
        message: String,
    },
    /// Values of a stack that is not in the app (cross-stack references need both stacks in
    /// one [`crate::App`]).
    #[error(
        "uses {} of stack `{stack}`, which is not in this app: add both stacks to the same App",
        references.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", ")
    )]
    ForeignStack {
        /// The producing stack.
        stack: String,
        /// The expressions read from it.
        references: Vec<String>,
    },
    /// Stacks that read each other's values: none can be applied first.
    #[error(
        "stacks {} reference each other in a cycle ({} -> {}): move the shared values to one stack or a third stack both read",
        stacks.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(" and "),
        stacks.join(" -> "),
        stacks.first().map_or("", String::as_str)
    )]
    StackCycle {
        /// The stacks of the cycle, in reference order, starting with the smallest name.
        stacks: Vec<String>,
    },
}

/// Every problem found in one stack, each prefixed with the stack's name when displayed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct SynthError {
    /// The stack's name.
    pub stack: String,
    /// All problems found.
    pub errors: Vec<StackError>,
}

impl fmt::Display for SynthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "stack `{}` has {} problem(s):",
            self.stack,
            self.errors.len()
        )?;
        for e in &self.errors {
            write!(f, "\n  {}: {e}", self.stack)?;
        }
        Ok(())
    }
}
