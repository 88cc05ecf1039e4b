//! The report: a table for people, JSON and JUnit XML for CI.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus};

use serde::Serialize;

use crate::check::{CheckResult, Verdict};

/// Every check's outcome, in a stable order.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Report {
    /// The rows.
    pub checks: Vec<CheckResult>,
}

impl Report {
    /// Wraps rows.
    pub fn new(checks: Vec<CheckResult>) -> Self {
        Self { checks }
    }

    /// True when there is at least one check and every check passed.
    pub fn passed(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(CheckResult::passed)
    }

    /// The failed rows.
    pub fn failures(&self) -> impl Iterator<Item = &CheckResult> {
        self.checks.iter().filter(|c| !c.passed())
    }

    /// `{"passed": bool, "total": n, "failed": n, "checks": [...]}`.
    pub fn render_json(&self) -> String {
        let value = serde_json::json!({
            "passed": self.passed(),
            "total": self.checks.len(),
            "failed": self.failures().count(),
            "checks": self.checks,
        });
        let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
        text.push('\n');
        text
    }

    /// A table of check, expected, actual, verdict and duration, then the fix of every failure.
    /// Long cells are cut at `max_cell` characters (the fix list below repeats them in full).
    pub fn render_table(&self, color: bool, max_cell: usize) -> String {
        let cut = |s: &str| -> String {
            let one_line = s.replace('\n', " ");
            if one_line.chars().count() > max_cell {
                let kept: String = one_line.chars().take(max_cell.saturating_sub(1)).collect();
                format!("{kept}…")
            } else {
                one_line
            }
        };
        let header = ["CHECK", "EXPECTED", "ACTUAL", "VERDICT", "TIME"];
        let rows: Vec<[String; 5]> = self
            .checks
            .iter()
            .map(|c| {
                [
                    cut(&c.check),
                    cut(&c.expected),
                    cut(&c.actual),
                    c.verdict.to_string(),
                    duration(c.duration),
                ]
            })
            .collect();
        let mut widths = header.map(|h| h.chars().count());
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        let line = |out: &mut String, cells: [&str; 5], verdict: Option<Verdict>| {
            for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
                let pad = w.saturating_sub(cell.chars().count());
                let painted = match (i, verdict, color) {
                    (3, Some(Verdict::Pass), true) => format!("\x1b[32m{cell}\x1b[0m"),
                    (3, Some(Verdict::Fail), true) => format!("\x1b[1;31m{cell}\x1b[0m"),
                    _ => (*cell).to_owned(),
                };
                out.push_str(&painted);
                if i < 4 {
                    out.push_str(&" ".repeat(pad + 2));
                }
            }
            out.push('\n');
        };
        line(&mut out, header, None);
        for (row, check) in rows.iter().zip(&self.checks) {
            line(
                &mut out,
                [&row[0], &row[1], &row[2], &row[3], &row[4]],
                Some(check.verdict),
            );
        }
        let failed: Vec<&CheckResult> = self.failures().collect();
        let _ = writeln!(
            out,
            "\n{} checks, {} passed, {} failed",
            self.checks.len(),
            self.checks.len() - failed.len(),
            failed.len()
        );
        for f in failed {
            let _ = writeln!(
                out,
                "\nFAIL {}\n  expected: {}\n  actual:   {}",
                f.check, f.expected, f.actual
            );
            if let Some(fix) = &f.fix {
                let _ = writeln!(out, "  fix:      {fix}");
            }
        }
        out
    }

    /// JUnit XML (written with `quick-junit`, in the schema CI parsers read): one test suite,
    /// one test case per check (classname and name split at the first `": "`), failures with
    /// `expected X, got Y` as the message and expected/actual/fix as the text. `started`, when
    /// given, is the run's timestamp; the suite's time is the longest check (they run
    /// concurrently).
    pub fn render_junit(&self, suite: &str, started: Option<SystemTime>) -> String {
        let total: Duration = self
            .checks
            .iter()
            .map(|c| c.duration)
            .max()
            .unwrap_or_default();
        let mut report = quick_junit::Report::new(suite);
        let mut test_suite = quick_junit::TestSuite::new(suite);
        if let Some(at) = started {
            let timestamp = chrono::DateTime::<chrono::Utc>::from(at).fixed_offset();
            report.set_timestamp(timestamp);
            test_suite.set_timestamp(timestamp);
        }
        report.set_time(total);
        test_suite.set_time(total);
        for c in &self.checks {
            let (classname, name) = c
                .check
                .split_once(": ")
                .unwrap_or((suite, c.check.as_str()));
            let status = if c.passed() {
                TestCaseStatus::success()
            } else {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status
                    .set_message(format!("expected {}, got {}", c.expected, c.actual))
                    .set_description(format!(
                        "expected: {}\nactual: {}\nfix: {}",
                        c.expected,
                        c.actual,
                        c.fix.as_deref().unwrap_or("-")
                    ));
                status
            };
            let mut case = TestCase::new(name, status);
            case.set_classname(classname).set_time(c.duration);
            test_suite.add_test_case(case);
        }
        report.add_test_suite(test_suite);
        // Serializing to a String cannot fail on I/O; the only other error is a value XML
        // cannot hold, which quick-junit escapes or strips itself.
        report
            .to_string()
            .unwrap_or_else(|e| format!("<!-- JUnit report could not be written: {e} -->\n"))
    }
}

fn duration(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        Report::new(vec![
            CheckResult::pass("s3 b: versioning", "Enabled", "Enabled")
                .took(Duration::from_millis(12)),
            CheckResult::fail(
                "lambda f: memory (MB)",
                256,
                512,
                "apply <stack> & \"re-run\"",
            )
            .took(Duration::from_millis(3)),
        ])
    }

    #[test]
    fn a_report_passes_only_when_it_has_checks_and_none_failed() {
        assert!(!report().passed());
        assert!(!Report::default().passed());
        assert!(Report::new(vec![CheckResult::pass("a", 1, 1)]).passed());
    }

    #[test]
    fn table_lists_every_check_and_the_fix_of_each_failure() {
        insta::assert_snapshot!(report().render_table(false, 60));
    }

    #[test]
    fn junit_escapes_text_and_marks_failures() {
        insta::assert_snapshot!(report().render_junit("callflow verify", None));
    }

    #[test]
    fn junit_carries_the_run_timestamp_and_parses_back() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_838_800);
        let xml = report().render_junit("callflow verify", Some(at));
        assert!(xml.contains("timestamp=\"2025-12-04T09:00:00"), "{xml}");
        let parsed = quick_junit::Report::deserialize_from_str(&xml).expect("valid JUnit XML");
        let suite = &parsed.test_suites[0];
        assert_eq!((suite.tests, suite.failures), (2, 1));
        let failed = &suite.test_cases[1];
        assert_eq!(failed.classname.as_deref(), Some("lambda f"));
        match &failed.status {
            TestCaseStatus::NonSuccess {
                message,
                description,
                ..
            } => {
                assert_eq!(message.as_deref(), Some("expected 256, got 512"));
                assert!(
                    description
                        .as_deref()
                        .is_some_and(|d| d.ends_with("fix: apply <stack> & \"re-run\""))
                );
            }
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    #[test]
    fn json_has_counts_and_rows_with_durations_in_milliseconds() {
        let value: serde_json::Value = serde_json::from_str(&report().render_json()).unwrap();
        assert_eq!(value["passed"], false);
        assert_eq!(value["failed"], 1);
        assert_eq!(value["checks"][1]["duration_ms"], 3);
        assert_eq!(value["checks"][1]["verdict"], "fail");
        assert_eq!(value["checks"][1]["expected"], "256");
    }
}
