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
    /// An element with both `count` and `for_each` (Terraform accepts only one).
    #[error("`{address}` has both count and for_each: use one")]
    CountAndForEach {
        /// The element's address.
        address: String,
    },
    /// A resource address that does not parse (`type.name`, `type.name[0]`, `type.name["k"]`).
    #[error("invalid resource address `{address}`: {reason}")]
    InvalidAddress {
        /// The address as given.
        address: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A `moved` or `import` block whose target is not declared in this stack.
    #[error("{block}: the target `{address}` is not declared in this stack")]
    UndeclaredTarget {
        /// The block, as Terraform would read it.
        block: String,
        /// The undeclared resource.
        address: String,
    },
    /// A `moved` block Terraform would refuse (its source still declared, or onto itself).
    #[error("{block}: {reason}")]
    InvalidMove {
        /// The block, as Terraform would read it.
        block: String,
        /// Why it is refused.
        reason: String,
    },
    /// An `import` of a resource type that cannot be imported.
    #[error("import into `{address}`: resource type `{kind}` cannot be imported")]
    NotImportable {
        /// The import target.
        address: String,
        /// Its resource type.
        kind: String,
    },
    /// A `removed` block for a resource the stack still declares.
    #[error(
        "removed {{ from = {address} }}: `{address}` is still declared; remove its declaration"
    )]
    RemovedStillDeclared {
        /// The resource address.
        address: String,
    },
    /// An instance access that does not match the element's `count` / `for_each`: a key on an
    /// element without either, a string key on a `count` element, a number on a `for_each` one.
    #[error("`{reference}` at `{at}`: {reason}")]
    WrongInstanceKey {
        /// The reference or address as written.
        reference: String,
        /// Where it occurs (JSON path or block).
        at: String,
        /// Which rule it breaks.
        reason: String,
    },
    /// An attribute read on an element with `count` / `for_each` without choosing an instance.
    #[error(
        "`{reference}` at `{at}`: `{element}` has {meta}, so its attributes are read on one instance (`.instance(..)`) or all of them (`.splat(..)`)"
    )]
    MissingInstanceKey {
        /// The reference as written.
        reference: String,
        /// JSON path where it occurs.
        at: String,
        /// The repeated element.
        element: String,
        /// `count` or `for_each`.
        meta: &'static str,
    },
    /// Values of a stack that is not in the app (cross-stack references need both stacks in
    /// one [`crate::App`]).
    #[error(
        "uses {} of stack `{stack}`, which is not in this app: add both stacks to the same App (a value built for another stack and reused here, such as a cache shared by stacks, is read by name with `Tf::by_name`)",
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
