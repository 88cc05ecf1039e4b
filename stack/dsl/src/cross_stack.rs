//! Cross-stack references, as cdktf wires them: a value of stack A used in stack B becomes an
//! output of A (`cross-stack-output-<expression>`, sensitive), a `terraform_remote_state` data
//! source in B reading A's backend (`cross-stack-reference-input-<A>`) whose
//! `outputs.<output>` replaces the reference, and a dependency of B on A in `manifest.json`.
//!
//! Detection is exact, not a guess from names: every reference a stack hands out (handles,
//! variables, locals) carries the stack's [`StackId`] as its expression's origin, and
//! expressions derived from it keep it. When a stack records an element, its body is
//! serialized with the stack's id set on the thread ([`record`]); an expression whose origin is
//! another stack is written as the remote-state read and remembered. The [`crate::App`] then
//! declares the output and the data source once both stacks are in it ([`wire`]). A stack that
//! uses no other stack's value pays one thread-local read per reference, nothing else.
//!
//! As in cdktf, the exported outputs are `sensitive`, so Terraform marks what the consumer
//! reads as sensitive: an output of the consumer that shows such a value must be `sensitive`
//! too. The consumer can be planned only once the producer is applied (its state holds the
//! output): `manifest.json`'s `dependencies` and [`crate::manifest::Manifest::stacks_in_dependency_order`]
//! give the order. A value computed once and shared by stacks that declare the same elements
//! is read by name with [`crate::Tf::by_name`] instead.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::num::NonZeroU32;
use std::sync::Mutex;

use super::backend::Backend;
use super::error::{StackError, SynthError};
use super::expr::{Expression, TemplatePart, Tf};
use super::remote_state::{RemoteState, output_path};
use super::stack::{Output, Stack};

/// The identity of one [`Stack`] value (two stacks of the same name are two ids).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct StackId(NonZeroU32);

/// The names of the stacks created in this process, by id (`id - 1`).
static NAMES: Mutex<Vec<String>> = Mutex::new(Vec::new());

impl StackId {
    /// A new id for a stack called `name`.
    pub(crate) fn register(name: &str) -> Self {
        let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
        names.push(name.to_owned());
        let n = u32::try_from(names.len()).unwrap_or(u32::MAX);
        Self(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
    }

    /// The name of the stack.
    pub(crate) fn name(self) -> String {
        let names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
        let index = usize::try_from(self.0.get() - 1).unwrap_or(usize::MAX);
        names.get(index).cloned().unwrap_or_default()
    }
}

thread_local! {
    /// The stack whose element is being serialized on this thread, if any.
    static RECORDING: Cell<Option<StackId>> = const { Cell::new(None) };
    /// The foreign expressions met meanwhile: (origin, HCL).
    static IMPORTED: RefCell<Vec<(StackId, String)>> = const { RefCell::new(Vec::new()) };
}

/// Restores the previous recording stack, also when serialization panics.
struct Recording(Option<StackId>);

impl Drop for Recording {
    fn drop(&mut self) {
        RECORDING.with(|r| r.set(self.0));
    }
}

/// Runs `f` (which serializes an element of `stack`) with foreign references rewritten; returns
/// its result and the foreign expressions it met.
pub(crate) fn record<T>(stack: StackId, f: impl FnOnce() -> T) -> (T, Vec<(StackId, String)>) {
    let guard = Recording(RECORDING.with(|r| r.replace(Some(stack))));
    let out = f();
    drop(guard);
    let imported = IMPORTED.with(|i| std::mem::take(&mut *i.borrow_mut()));
    (out, imported)
}

/// The expression that replaces `hcl` (from stack `origin`) in the stack being recorded, when
/// that is another stack; `None` otherwise (same stack, or not recording).
pub(crate) fn foreign(origin: StackId, hcl: &str) -> Option<String> {
    let current = RECORDING.with(Cell::get)?;
    if current == origin {
        return None;
    }
    IMPORTED.with(|i| i.borrow_mut().push((origin, hcl.to_owned())));
    Some(remote_reference(&origin.name(), hcl))
}

/// A template's parts with foreign interpolations replaced, or `None` when it has none.
pub(crate) fn localize_template(parts: &[TemplatePart]) -> Option<Vec<TemplatePart>> {
    let mut out: Option<Vec<TemplatePart>> = None;
    for (i, part) in parts.iter().enumerate() {
        let local = match part {
            TemplatePart::Interpolation(e) => e
                .origin()
                .and_then(|o| foreign(o, e.as_hcl()))
                .map(|hcl| TemplatePart::Interpolation(Expression::raw(hcl))),
            TemplatePart::Literal(_) => None,
        };
        match (local, &mut out) {
            (Some(local), Some(out)) => out.push(local),
            (Some(local), None) => {
                let mut v = parts[..i].to_vec();
                v.push(local);
                out = Some(v);
            }
            (None, Some(out)) => out.push(part.clone()),
            (None, None) => {}
        }
    }
    out
}

/// An output value of this stack with foreign references replaced (outputs are not recorded
/// through [`record`], since they are rendered at synth).
pub(crate) fn localize_output(
    stack: StackId,
    value: Tf<String>,
) -> (Tf<String>, Vec<(StackId, String)>) {
    let foreign_origin = |e: &Expression| e.origin().is_some_and(|o| o != stack);
    let has_foreign = match &value {
        Tf::Expr(e) => foreign_origin(e),
        Tf::Template(parts) => parts
            .iter()
            .any(|p| matches!(p, TemplatePart::Interpolation(e) if foreign_origin(e))),
        Tf::Literal(_) => false,
    };
    if !has_foreign {
        return (value, Vec::new());
    }
    let (text, imported) = record(stack, || serde_json::to_value(&value));
    match text {
        Ok(serde_json::Value::String(s)) => (Tf::from_rendered(&s), imported),
        _ => (value, imported),
    }
}

/// Terraform identifiers of the DSL are at most 64 characters: a longer name keeps its first
/// 55 characters and a hash of the whole.
fn bounded(name: String, hashed: &str) -> String {
    if name.len() <= 64 {
        return name;
    }
    // FNV-1a: stable across runs and platforms.
    let hash = hashed.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    format!("{}-{hash:08x}", &name[..55])
}

/// `[A-Za-z0-9_-]` kept, `.` dropped (as cdktf names its outputs), anything else `_`.
fn identifier_chars(s: &str) -> String {
    s.chars()
        .filter(|&c| c != '.')
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The id of the output that exports expression `hcl`: `cross-stack-output-<hcl without dots>`
/// (cdktf's name for a traversal: `aws_sns_topic.topic.arn` → `…-aws_sns_topictopicarn`).
pub fn output_id(hcl: &str) -> String {
    bounded(format!("cross-stack-output-{}", identifier_chars(hcl)), hcl)
}

/// The id of the `terraform_remote_state` data source reading stack `producer`:
/// `cross-stack-reference-input-<producer>`.
pub fn input_id(producer: &str) -> String {
    bounded(
        format!("cross-stack-reference-input-{}", identifier_chars(producer)),
        producer,
    )
}

/// The expression reading `hcl` of stack `producer` in a consumer stack.
fn remote_reference(producer: &str, hcl: &str) -> String {
    output_path(
        &format!("data.terraform_remote_state.{}", input_id(producer)),
        &output_id(hcl),
    )
}

/// The cross-stack state of one stack.
#[derive(Debug, Default)]
pub(crate) struct CrossStack {
    /// Foreign expressions read, by origin, whose producer is not in the app (yet).
    pending: BTreeMap<StackId, BTreeSet<String>>,
    /// Producers whose remote state data source this stack declares.
    inputs: BTreeSet<StackId>,
    /// Outputs this stack exports for other stacks: output id → HCL.
    exports: BTreeMap<String, String>,
    /// Names of the stacks this one reads (its `dependencies` in `manifest.json`).
    depends_on: BTreeSet<String>,
}

impl CrossStack {
    /// Remembers foreign expressions met while recording an element.
    pub(crate) fn import(&mut self, imported: Vec<(StackId, String)>) {
        for (origin, hcl) in imported {
            self.pending.entry(origin).or_default().insert(hcl);
        }
    }

    /// Whether some foreign expression still waits for its producer.
    pub(crate) fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// The stacks this one depends on, by name.
    pub(crate) fn depends_on(&self) -> &BTreeSet<String> {
        &self.depends_on
    }

    /// The synth errors of references whose producer never joined the app.
    pub(crate) fn pending_errors(&self) -> Vec<StackError> {
        self.pending
            .iter()
            .map(|(origin, hcls)| StackError::ForeignStack {
                stack: origin.name(),
                references: hcls.iter().cloned().collect(),
            })
            .collect()
    }
}

/// Drops the unknown-reference errors of remote-state reads that were never wired: the
/// [`StackError::ForeignStack`] error of [`CrossStack::pending_errors`] says why, once.
pub(crate) fn drop_unwired_reads(errors: &mut Vec<StackError>) {
    let prefix = "data.terraform_remote_state.cross-stack-reference-input-";
    errors.retain(|e| {
        !matches!(e, StackError::UnknownReference { reference, .. } if reference.starts_with(prefix))
    });
}

/// Wires every pending cross-stack reference whose producer is among `stacks`: the output in
/// the producer, the remote state data source in the consumer, the dependency.
pub(crate) fn wire(stacks: &mut [Stack]) {
    let ids: BTreeMap<StackId, usize> = stacks
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id(), i))
        .collect();
    for consumer in 0..stacks.len() {
        if !stacks[consumer].cross().has_pending() {
            continue;
        }
        let pending = std::mem::take(&mut stacks[consumer].cross_mut().pending);
        for (origin, hcls) in pending {
            let Some(&producer) = ids.get(&origin) else {
                stacks[consumer].cross_mut().pending.insert(origin, hcls);
                continue;
            };
            let producer_name = stacks[producer].name().to_owned();
            let backend = stacks[producer].state_backend().clone();
            for hcl in hcls {
                export(&mut stacks[producer], hcl);
            }
            let consumer = &mut stacks[consumer];
            consumer
                .cross_mut()
                .depends_on
                .insert(producer_name.clone());
            if consumer.cross_mut().inputs.insert(origin) {
                match remote_state_of(&backend, &producer_name) {
                    Ok(state) => {
                        consumer.data(&input_id(&producer_name), state);
                    }
                    Err(e) => consumer.record_error(StackError::Invalid {
                        construct: format!("cross-stack reference to stack `{producer_name}`"),
                        message: e.to_string(),
                    }),
                }
            }
        }
    }
}

/// Declares (once) the output of `producer` that exports `hcl`.
fn export(producer: &mut Stack, hcl: String) {
    let id = output_id(&hcl);
    match producer.cross().exports.get(&id) {
        Some(existing) if *existing == hcl => {}
        Some(existing) => {
            let message = format!(
                "`{existing}` and `{hcl}` are both used by other stacks and both name output `{id}`; read one of them through a local"
            );
            producer.record_error(StackError::Invalid {
                construct: format!("output.{id}"),
                message,
            });
        }
        None => {
            producer.cross_mut().exports.insert(id.clone(), hcl.clone());
            producer.output(
                &id,
                Output {
                    value: Tf::expr(Expression::raw(hcl)),
                    description: "Cross-stack reference: read by other stacks of the app through terraform_remote_state.".into(),
                    sensitive: true,
                },
            );
        }
    }
}

/// The remote state of `producer`'s backend as its consumers read it: both stacks run in
/// sibling working directories (`stacks/<name>/`), so a relative local path is taken from the
/// producer's directory.
pub(crate) fn remote_state_of(
    backend: &Backend,
    producer: &str,
) -> Result<RemoteState, super::remote_state::RemoteStateError> {
    let mut state = RemoteState::from_backend(backend)?;
    if let Backend::Local(local) = backend {
        let from_producer = |p: &str| {
            if std::path::Path::new(p).is_absolute() {
                p.to_owned()
            } else {
                format!("../{producer}/{p}")
            }
        };
        let path = local.path.as_deref().unwrap_or("terraform.tfstate");
        let config = state.config_mut();
        config.insert("path".into(), from_producer(path).into());
        if let Some(dir) = &local.workspace_dir {
            config.insert("workspace_dir".into(), from_producer(dir).into());
        }
    }
    Ok(state)
}

/// Cycles between stacks: each is a synth error naming the stacks of the cycle.
pub(crate) fn cycles(stacks: &[Stack]) -> Vec<SynthError> {
    if stacks.iter().all(|s| s.cross().depends_on().is_empty()) {
        return Vec::new();
    }
    let graph: BTreeMap<&str, Vec<&str>> = stacks
        .iter()
        .map(|s| {
            (
                s.name(),
                s.cross().depends_on().iter().map(String::as_str).collect(),
            )
        })
        .collect();
    find_cycles(&graph)
        .into_iter()
        .map(|cycle| SynthError {
            stack: cycle[0].clone(),
            errors: vec![StackError::StackCycle { stacks: cycle }],
        })
        .collect()
}

/// The cycles a depth-first walk meets — at least one in every group of stacks that depend on
/// each other — each once, starting at its smallest name.
pub(crate) fn find_cycles(graph: &BTreeMap<&str, Vec<&str>>) -> Vec<Vec<String>> {
    fn walk<'a>(
        node: &'a str,
        graph: &BTreeMap<&'a str, Vec<&'a str>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
        found: &mut BTreeSet<Vec<String>>,
    ) {
        if let Some(at) = path.iter().position(|&n| n == node) {
            let mut cycle: Vec<String> = path[at..].iter().map(|s| (*s).to_owned()).collect();
            let start = cycle
                .iter()
                .enumerate()
                .min_by(|a, b| a.1.cmp(b.1))
                .map_or(0, |(i, _)| i);
            cycle.rotate_left(start);
            found.insert(cycle);
            return;
        }
        if done.contains(node) {
            return;
        }
        path.push(node);
        for &next in graph.get(node).map(Vec::as_slice).unwrap_or_default() {
            walk(next, graph, path, done, found);
        }
        path.pop();
        done.insert(node);
    }
    let mut found = BTreeSet::new();
    let mut done = BTreeSet::new();
    for &node in graph.keys() {
        walk(node, graph, &mut Vec::new(), &mut done, &mut found);
    }
    found.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_ids_follow_cdktf_and_stay_identifiers() {
        assert_eq!(
            output_id("aws_sns_topic.topic.arn"),
            "cross-stack-output-aws_sns_topictopicarn"
        );
        assert_eq!(
            output_id("tolist(aws_x.y.z)[0]"),
            "cross-stack-output-tolist_aws_xyz__0_"
        );
        let long = output_id(&format!("terraform_data.{}.output", "a".repeat(80)));
        assert_eq!(long.len(), 64);
        assert_eq!(
            long,
            output_id(&format!("terraform_data.{}.output", "a".repeat(80)))
        );
        assert_ne!(
            long,
            output_id(&format!("terraform_data.{}.input", "a".repeat(80)))
        );
    }

    #[test]
    fn cycles_are_found_once_from_their_smallest_stack() {
        let graph: BTreeMap<&str, Vec<&str>> = [
            ("a", vec!["b"]),
            ("b", vec!["c"]),
            ("c", vec!["b"]),
            ("d", vec!["a"]),
        ]
        .into();
        assert_eq!(
            find_cycles(&graph),
            vec![vec!["b".to_owned(), "c".to_owned()]]
        );
        let acyclic: BTreeMap<&str, Vec<&str>> = [("a", vec!["b"]), ("b", vec![])].into();
        assert!(find_cycles(&acyclic).is_empty());
    }
}
