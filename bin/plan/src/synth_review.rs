//! `callflow diff` for review: the element diff of two synths plus the security changes
//! between them, as Markdown, JSON or a terminal report.

use std::fmt::Write as _;

use callflow_dsl::{ChangeKind, SynthDiff, render};
use serde_json::json;
use similar::TextDiff;

use crate::gate::{Blocked, GatePolicy, security_gate};
use crate::markdown::{FOOTER, MAX_MARKDOWN_CHARS, code, html, security_section};
use crate::security::{Direction, SecurityChange, analyze_synth_diff};

/// A synth diff and what it grants or revokes.
#[derive(Debug, Clone)]
pub struct SynthReview {
    /// The element-by-element diff.
    pub diff: SynthDiff,
    /// The security changes between the two synths (addresses of several stacks as
    /// `stack/address`).
    pub security: Vec<SecurityChange>,
}

impl SynthReview {
    /// Analyzes `diff`.
    pub fn new(diff: SynthDiff) -> Self {
        let security = analyze_synth_diff(&diff);
        Self { diff, security }
    }

    /// The security gate of `policy` (`allow_destroy` does not apply to a synth diff).
    pub fn check(&self, policy: &GatePolicy) -> Vec<Blocked> {
        security_gate(&self.security, policy)
    }

    /// The security changes as a terminal section (empty when there are none).
    pub fn render_security_human(&self) -> String {
        let mut out = String::new();
        if self.security.is_empty() {
            return out;
        }
        let broadening = self
            .security
            .iter()
            .filter(|s| s.direction == Direction::Broadening)
            .count();
        let _ = writeln!(out, "Security changes ({broadening} broadening):");
        for change in &self.security {
            let mark = match change.direction {
                Direction::Broadening => "! broadening",
                Direction::Changed => "  changed   ",
                Direction::Narrowing => "  narrowing ",
            };
            let _ = writeln!(out, "  {mark} {change}");
        }
        out.push('\n');
        out
    }

    /// `{"changed": bool, "changes": [...], "security": [...]}`.
    pub fn render_json(&self) -> String {
        // The diff's own JSON, with the security changes added.
        let mut doc: serde_json::Value =
            serde_json::from_str(&self.diff.render_json()).unwrap_or_else(|_| json!({}));
        if let Some(map) = doc.as_object_mut() {
            map.insert("security".to_owned(), json!(self.security));
        }
        render(&doc)
    }

    /// Markdown for a pull request comment: summary, security table, a table of changed
    /// elements, and each element's unified JSON diff folded in `<details>`; at most
    /// [`MAX_MARKDOWN_CHARS`] characters.
    pub fn render_markdown(&self) -> String {
        let mut out = String::new();
        let changes = &self.diff.changes;
        if changes.is_empty() {
            out.push_str("### Synth diff: no changes\n\nThe synthesized configuration matches.\n");
            return out;
        }
        let count = |k: ChangeKind| changes.iter().filter(|c| c.change == k).count();
        let _ = writeln!(
            out,
            "### Synth diff: {} added, {} changed, {} renamed, {} removed\n",
            count(ChangeKind::Added),
            count(ChangeKind::Changed),
            count(ChangeKind::Renamed),
            count(ChangeKind::Removed)
        );
        let broadening = self
            .security
            .iter()
            .filter(|s| s.direction == Direction::Broadening)
            .count();
        if broadening > 0 {
            let _ = writeln!(
                out,
                "⚠️ **{broadening} security change(s) broaden access**\n"
            );
        }
        security_section(&mut out, &self.security, MAX_MARKDOWN_CHARS / 3);
        out.push_str("#### Elements\n\n| | Element | Changed paths |\n|---|---|---|\n");
        let several = changes
            .iter()
            .map(|c| c.stack.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .len()
            > 1;
        let name = |c: &callflow_dsl::ElementChange| {
            if several {
                format!("{}/{}", c.stack, c.address)
            } else {
                c.address.clone()
            }
        };
        // The table gets at most half of what is left; the folded diffs the rest.
        let table_budget = out.len() + (MAX_MARKDOWN_CHARS - FOOTER).saturating_sub(out.len()) / 2;
        for (i, c) in changes.iter().enumerate() {
            let sign = match c.change {
                ChangeKind::Added => "+",
                ChangeKind::Removed => "-",
                ChangeKind::Changed => "~",
                ChangeKind::Renamed => "~>",
            };
            let paths: Vec<String> = c.paths.iter().take(8).map(|p| code(p)).collect();
            let more = c.paths.len().saturating_sub(8);
            let mut paths = paths.join(", ");
            if more > 0 {
                let _ = write!(paths, " +{more} more");
            }
            let element = match &c.rename {
                Some(rename) => format!("{} → {}", code(&rename.from), code(&name(c))),
                None => code(&name(c)),
            };
            let row = format!("| {sign} | {element} | {paths} |\n");
            if out.len() + row.len() > table_budget {
                let _ = writeln!(
                    out,
                    "| | … {} more element(s) not shown | |",
                    changes.len() - i
                );
                break;
            }
            out.push_str(&row);
        }
        out.push('\n');
        let mut left_out = 0;
        for (i, c) in changes.iter().enumerate() {
            let old = c.before.as_ref().map(render).unwrap_or_default();
            let new = c.after.as_ref().map(render).unwrap_or_default();
            let diff = TextDiff::from_lines(&old, &new);
            let unified = diff.unified_diff().context_radius(3).to_string();
            let fence = "`".repeat(
                unified
                    .split(|ch| ch != '`')
                    .map(str::len)
                    .max()
                    .unwrap_or(0)
                    .max(2)
                    + 1,
            );
            let block = format!(
                "<details><summary>diff of <code>{}</code></summary>\n\n{fence}diff\n{}{fence}\n\n</details>\n",
                html(&name(c)),
                unified
            );
            if out.len() + block.len() + FOOTER > MAX_MARKDOWN_CHARS {
                left_out = changes.len() - i;
                break;
            }
            out.push_str(&block);
        }
        if left_out > 0 {
            let _ = writeln!(
                out,
                "\n_… {left_out} more element diff(s) not shown: a comment holds at most {MAX_MARKDOWN_CHARS} characters. `callflow diff --format human` shows them all._"
            );
        }
        out
    }
}
