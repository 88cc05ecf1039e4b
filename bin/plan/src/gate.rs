//! The gates `callflow plan` applies to a plan, with one exit code each.
//!
//! | Exit code | Outcome |
//! |---|---|
//! | 0 | nothing blocked |
//! | 3 | destructive changes to stateful resources, without `--allow-destroy` |
//! | 4 | security broadening, under `--require-approval broadening` (the default) or `any-change`, without `--allow-broadening` |
//! | 5 | security changes that are not broadening, under `--require-approval any-change`, without `--allow-broadening` |
//!
//! When several gates block, every reason is reported and the exit code is the lowest one
//! (data loss first, then broadening).

use std::fmt;
use std::str::FromStr;

use crate::exit_code;
use crate::security::{Direction, SecurityChange};
use crate::summary::{DestructiveChanges, PlanSummary};

/// Which security changes need approval, as `cdk deploy --require-approval`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RequireApproval {
    /// No security change needs approval.
    Never,
    /// Broadening changes need approval (the default).
    #[default]
    Broadening,
    /// Every security change needs approval, broadening or not.
    AnyChange,
}

impl FromStr for RequireApproval {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "never" => Ok(Self::Never),
            "broadening" => Ok(Self::Broadening),
            "any-change" => Ok(Self::AnyChange),
            other => Err(format!(
                "unknown approval level {other:?}: use never, broadening or any-change"
            )),
        }
    }
}

impl fmt::Display for RequireApproval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Never => "never",
            Self::Broadening => "broadening",
            Self::AnyChange => "any-change",
        })
    }
}

/// What the caller accepts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GatePolicy {
    /// `--allow-destroy`: deletes and replaces of stateful resources are accepted.
    pub allow_destroy: bool,
    /// `--require-approval`: which security changes need approval.
    pub require_approval: RequireApproval,
    /// `--allow-broadening`: the security changes that need approval are approved (the
    /// reviewer has read them).
    pub allow_broadening: bool,
}

/// One reason a plan is blocked.
#[derive(Debug, Clone, PartialEq)]
pub enum Blocked {
    /// Deletes or replaces of stateful resources (exit code 3).
    Destructive(DestructiveChanges),
    /// Security changes that widen access (exit code 4).
    Broadening(Vec<SecurityChange>),
    /// Security changes that need approval under `any-change` (exit code 5).
    SecurityChange(Vec<SecurityChange>),
}

impl Blocked {
    /// The exit code of this reason.
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::Destructive(_) => exit_code::DESTRUCTIVE_BLOCKED,
            Self::Broadening(_) => exit_code::SECURITY_BROADENING_BLOCKED,
            Self::SecurityChange(_) => exit_code::SECURITY_CHANGE_BLOCKED,
        }
    }
}

fn addresses(changes: &[SecurityChange]) -> String {
    let mut list: Vec<&str> = changes.iter().map(|c| c.address.as_str()).collect();
    list.dedup();
    list.join(", ")
}

impl fmt::Display for Blocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Destructive(d) => d.fmt(f),
            Self::Broadening(c) => write!(
                f,
                "the plan broadens access in {} security change(s) ({}); nothing was applied. Review the security changes and re-run with --allow-broadening (or --require-approval never) if they are intended",
                c.len(),
                addresses(c)
            ),
            Self::SecurityChange(c) => write!(
                f,
                "the plan makes {} security change(s) that --require-approval any-change stops ({}); nothing was applied. Review them and re-run with --allow-broadening if they are intended",
                c.len(),
                addresses(c)
            ),
        }
    }
}

/// Every reason a plan is blocked (at least one).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", .reasons.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct GateFailure {
    /// The reasons, in exit-code order.
    pub reasons: Vec<Blocked>,
}

impl GateFailure {
    /// The lowest exit code of the reasons.
    pub fn exit_code(&self) -> i32 {
        self.reasons
            .iter()
            .map(Blocked::exit_code)
            .min()
            .unwrap_or(exit_code::OK)
    }
}

impl PlanSummary {
    /// Applies every gate: `Ok` when nothing is blocked, otherwise all the reasons.
    pub fn check(&self, policy: &GatePolicy) -> Result<(), GateFailure> {
        let mut reasons = Vec::new();
        if let Err(destructive) = self.gate(policy.allow_destroy) {
            reasons.push(Blocked::Destructive(destructive));
        }
        reasons.extend(security_gate(&self.security, policy));
        if reasons.is_empty() {
            Ok(())
        } else {
            Err(GateFailure { reasons })
        }
    }
}

/// The security part of the gates, shared by plans and synth diffs.
pub fn security_gate(changes: &[SecurityChange], policy: &GatePolicy) -> Vec<Blocked> {
    if policy.allow_broadening || policy.require_approval == RequireApproval::Never {
        return Vec::new();
    }
    let (broadening, other): (Vec<SecurityChange>, Vec<SecurityChange>) = changes
        .iter()
        .cloned()
        .partition(|c| c.direction == Direction::Broadening);
    let mut reasons = Vec::new();
    if !broadening.is_empty() {
        reasons.push(Blocked::Broadening(broadening));
    }
    if policy.require_approval == RequireApproval::AnyChange && !other.is_empty() {
        reasons.push(Blocked::SecurityChange(other));
    }
    reasons
}
