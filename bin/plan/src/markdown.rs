//! Markdown for pull request comments (GitHub and GitLab flavoured): a summary line, counts,
//! security changes first, destructive changes, drift, then resources grouped by action with
//! long details folded in `<details>`. Output is deterministic and at most
//! [`MAX_MARKDOWN_CHARS`] characters: what does not fit is left out with a count.

use std::fmt::Write as _;

use crate::diff::AttributeChange;
use crate::document::Action;
use crate::security::{Direction, SecurityChange};
use crate::summary::{PlanSummary, ResourceLine};

/// GitHub's limit on the size of a comment body; the rendering stays under it.
pub const MAX_MARKDOWN_CHARS: usize = 65_000;

/// Room kept for the truncation note at the end.
pub(crate) const FOOTER_RESERVE: usize = 600;

/// Room kept for a truncation note (shared with the synth diff rendering).
pub(crate) const FOOTER: usize = FOOTER_RESERVE;

/// Most attribute rows shown per resource.
const MAX_ATTRIBUTE_ROWS: usize = 40;

/// Inline code for a table cell: a backtick fence longer than any run inside, `|` escaped,
/// line breaks flattened.
pub fn code(text: &str) -> String {
    let text = text.replace(['\n', '\r'], " ").replace('|', "\\|");
    if text.is_empty() {
        return String::new();
    }
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// Text for a table cell (no code formatting): `|` escaped, line breaks flattened, and the
/// characters Markdown would read as emphasis or HTML escaped.
pub fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' | '*' | '_' | '`' | '[' | ']' | '\\' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Text for an HTML element (`<summary>`): `&`, `<`, `>` escaped.
pub fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The "Security changes" section: a table, broadening rows first and marked.
pub fn security_section(out: &mut String, changes: &[SecurityChange], budget: usize) {
    if changes.is_empty() {
        return;
    }
    let broadening = changes
        .iter()
        .filter(|c| c.direction == Direction::Broadening)
        .count();
    let _ = writeln!(
        out,
        "#### Security changes ({} broadening, {} other)\n",
        broadening,
        changes.len() - broadening
    );
    out.push_str("| | Resource | Setting | Change | Why |\n|---|---|---|---|---|\n");
    let mut ordered: Vec<&SecurityChange> = changes.iter().collect();
    ordered.sort_by_key(|c| c.direction);
    let start = out.len();
    for (i, change) in ordered.iter().enumerate() {
        let mark = match change.direction {
            Direction::Broadening => "⚠️ **broadening**",
            Direction::Changed => "changed",
            Direction::Narrowing => "narrowing",
        };
        let what = match &change.statement {
            Some(statement) => format!(
                "{} {}",
                change.change.symbol(),
                code(&statement.to_string())
            ),
            None => change.change.symbol().to_owned(),
        };
        let row = format!(
            "| {mark} | {} | {} ({}) | {what} | {} |\n",
            code(&change.address),
            code(&change.location),
            change.aspect.label(),
            cell(&change.detail)
        );
        if out.len() - start + row.len() > budget {
            let _ = writeln!(
                out,
                "| | … | | | {} more security change(s) not shown; `--format json` lists them all |",
                ordered.len() - i
            );
            break;
        }
        out.push_str(&row);
    }
    out.push('\n');
}

fn attribute_table(out: &mut String, line: &ResourceLine) {
    if line.changes.is_empty() {
        return;
    }
    let create = line.action == Action::Create;
    if create {
        out.push_str("| Attribute | Value |\n|---|---|\n");
    } else {
        out.push_str("| Attribute | Before | After |\n|---|---|---|\n");
    }
    for change in line.changes.iter().take(MAX_ATTRIBUTE_ROWS) {
        let path = if change.forces_replacement {
            format!("{} (forces replacement)", code(&change.path.to_string()))
        } else {
            code(&change.path.to_string())
        };
        let _ = if create {
            writeln!(out, "| {path} | {} |", value_cell(change, false))
        } else {
            writeln!(
                out,
                "| {path} | {} | {} |",
                value_cell(change, true),
                value_cell(change, false)
            )
        };
    }
    if line.changes.len() > MAX_ATTRIBUTE_ROWS {
        let _ = writeln!(
            out,
            "| … {} more attribute(s) | | |",
            line.changes.len() - MAX_ATTRIBUTE_ROWS
        );
    }
}

fn value_cell(change: &AttributeChange, before: bool) -> String {
    let value = if before {
        &change.before
    } else {
        &change.after
    };
    match value {
        crate::diff::ShownValue::Value(_) => code(&value.to_string()),
        other => cell(&other.to_string()),
    }
}

/// Plain words for a line: action details, reason, import id, previous address.
fn notes(line: &ResourceLine) -> Vec<String> {
    let mut notes = Vec::new();
    if let Action::Replace {
        create_before_destroy,
    } = line.action
    {
        notes.push(if create_before_destroy {
            "create before destroy".to_owned()
        } else {
            "destroy before create".to_owned()
        });
    }
    if let Some(reason) = &line.action_reason {
        notes.push(crate::summary::reason_text(reason).to_owned());
    }
    let forced: Vec<String> = line
        .changes
        .iter()
        .filter(|c| c.forces_replacement)
        .map(|c| c.path.to_string())
        .collect();
    if !forced.is_empty() {
        notes.push(format!("forced by {}", forced.join(", ")));
    }
    if let Some(id) = &line.importing {
        notes.push(format!("import id {id}"));
    }
    if let Some(previous) = &line.previous_address {
        notes.push(format!("moved from {previous}"));
    }
    if let Some(deposed) = &line.deposed {
        notes.push(format!("deposed object {deposed}"));
    }
    notes
}

/// One resource: a bullet when there is nothing to fold, else a `<details>` with the table.
fn resource_block(line: &ResourceLine) -> String {
    let notes = notes(line);
    let mut out = String::new();
    if line.changes.is_empty() {
        let _ = write!(out, "- {}", code(&line.address).replace("\\|", "|"));
        if !notes.is_empty() {
            let _ = write!(out, " — {}", cell(&notes.join("; ")));
        }
        out.push('\n');
        return out;
    }
    let _ = write!(
        out,
        "<details><summary><code>{}</code>",
        html(&line.address)
    );
    if !notes.is_empty() {
        let _ = write!(out, " — {}", html(&notes.join("; ")));
    }
    let _ = writeln!(
        out,
        " ({} attribute{})</summary>\n",
        line.changes.len(),
        if line.changes.len() == 1 { "" } else { "s" }
    );
    attribute_table(&mut out, line);
    out.push_str("\n</details>\n\n");
    out
}

/// The groups resources are listed in, with their headings.
fn group_of(line: &ResourceLine) -> (usize, &'static str) {
    match line.action {
        Action::Delete => (0, "Delete"),
        Action::Replace { .. } => (1, "Replace"),
        Action::Create => (2, "Create"),
        Action::Update if line.importing.is_some() => (4, "Import"),
        Action::Update => (3, "Update"),
        Action::NoOp if line.importing.is_some() => (4, "Import"),
        Action::NoOp => (5, "Move"),
        Action::Forget => (6, "Forget (removed from state, not destroyed)"),
        Action::Read => (7, "Read during apply"),
    }
}

impl PlanSummary {
    /// The summary as Markdown for a pull request comment (at most [`MAX_MARKDOWN_CHARS`]).
    pub fn render_markdown(&self) -> String {
        let mut out = String::new();
        let c = &self.counts;
        if !c.has_changes() && self.outputs.is_empty() && self.drift.is_empty() {
            out.push_str(
                "### Terraform plan: no changes\n\nThe infrastructure matches the configuration.\n",
            );
            return out;
        }
        let mut parts = vec![
            format!("{} to create", c.create),
            format!("{} to update", c.update),
            format!("{} to replace", c.replace),
            format!("{} to delete", c.delete),
        ];
        for (n, word) in [
            (c.import, "to import"),
            (c.moved, "to move"),
            (c.read, "to read"),
            (c.forget, "to forget"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {word}"));
            }
        }
        let broadening = self
            .security
            .iter()
            .filter(|s| s.direction == Direction::Broadening)
            .count();
        let _ = writeln!(out, "### Terraform plan: {}\n", parts.join(", "));
        let mut flags = Vec::new();
        if broadening > 0 {
            flags.push(format!(
                "⚠️ **{broadening} security change(s) broaden access**"
            ));
        }
        if !self.destructive.is_empty() {
            flags.push(format!(
                "⚠️ **{} destructive change(s) to stateful resources**",
                self.destructive.len()
            ));
        }
        if !self.drift.is_empty() {
            flags.push(format!(
                "{} object(s) changed outside Terraform",
                self.drift.len()
            ));
        }
        if !flags.is_empty() {
            let _ = writeln!(out, "{}\n", flags.join(" · "));
        }
        out.push_str("| Action | Count |\n|---|--:|\n");
        for (n, word) in [
            (c.create, "create"),
            (c.update, "update"),
            (c.replace, "replace"),
            (c.delete, "delete"),
            (c.import, "import"),
            (c.moved, "move"),
            (c.read, "read"),
            (c.forget, "forget"),
            (c.no_op, "unchanged"),
        ] {
            if n > 0 {
                let _ = writeln!(out, "| {word} | {n} |");
            }
        }
        out.push('\n');
        security_section(&mut out, &self.security, MAX_MARKDOWN_CHARS / 3);
        if !self.destructive.is_empty() {
            out.push_str("#### Destructive changes to stateful resources\n\n");
            for change in &self.destructive {
                let _ = writeln!(out, "- ⚠️ {}", cell(&change.to_string()));
            }
            out.push_str(
                "\n`callflow plan` exits with code 3 unless `--allow-destroy` is given.\n\n",
            );
        }
        if !self.drift.is_empty() {
            let _ = writeln!(
                out,
                "#### Changed outside Terraform ({})\n\nFound by refreshing: these objects differ from the last apply. The plan below starts from them.\n",
                self.drift.len()
            );
            for line in &self.drift {
                let mut block = resource_block(line);
                if line.changes.is_empty() {
                    let what = match line.action {
                        Action::Delete => "deleted outside Terraform",
                        Action::NoOp => "moved",
                        _ => "changed outside Terraform",
                    };
                    block = block.trim_end().to_owned();
                    if line.previous_address.is_none() {
                        let _ = write!(block, " — {what}");
                    }
                    block.push('\n');
                }
                out.push_str(&block);
            }
            out.push('\n');
        }
        let mut lines: Vec<&ResourceLine> = self.resources.iter().collect();
        lines.sort_by_key(|l| group_of(l).0);
        let mut left_out = 0;
        let mut current: Option<usize> = None;
        let outputs = self.outputs_markdown();
        for (i, line) in lines.iter().enumerate() {
            let (group, heading) = group_of(line);
            let mut block = String::new();
            if current != Some(group) {
                let count = lines.iter().filter(|l| group_of(l).0 == group).count();
                let _ = writeln!(block, "#### {heading} ({count})\n");
            }
            block.push_str(&resource_block(line));
            let next_group = lines.get(i + 1).map(|l| group_of(l).0);
            if next_group != Some(group) && !block.ends_with("\n\n") {
                block.push('\n');
            }
            if out.len() + block.len() + outputs.len() + FOOTER_RESERVE > MAX_MARKDOWN_CHARS {
                left_out = lines.len() - i;
                break;
            }
            current = Some(group);
            out.push_str(&block);
        }
        if out.len() + outputs.len() + FOOTER_RESERVE <= MAX_MARKDOWN_CHARS {
            out.push_str(&outputs);
        } else if !self.outputs.is_empty() {
            let _ = writeln!(
                out,
                "_{} output change(s) not shown._\n",
                self.outputs.len()
            );
        }
        if left_out > 0 {
            let _ = writeln!(
                out,
                "_… {left_out} more resource change(s) not shown: a comment holds at most {MAX_MARKDOWN_CHARS} characters. `callflow plan --format json` lists them all._"
            );
        }
        while out.ends_with("\n\n") {
            out.pop();
        }
        out
    }

    fn outputs_markdown(&self) -> String {
        let mut out = String::new();
        if self.outputs.is_empty() {
            return out;
        }
        let _ = writeln!(
            out,
            "#### Outputs ({})\n\n| Output | Action | Before | After |\n|---|---|---|---|",
            self.outputs.len()
        );
        let shown = |v: &crate::diff::ShownValue| match v {
            crate::diff::ShownValue::Value(_) => code(&v.to_string()),
            crate::diff::ShownValue::Absent => String::new(),
            other => cell(&other.to_string()),
        };
        for output in &self.outputs {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                code(&output.name),
                output.action.keyword(),
                shown(&output.before),
                shown(&output.after)
            );
        }
        out.push('\n');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_survive_backticks_and_pipes() {
        assert_eq!(code("a|b"), "`a\\|b`");
        assert_eq!(code("x`y"), "``x`y``");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(code(""), "");
    }

    #[test]
    fn cells_escape_markdown() {
        assert_eq!(cell("s3:* on <b> | x_y"), "s3:\\* on &lt;b&gt; \\| x\\_y");
    }
}
