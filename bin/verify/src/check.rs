//! One row of the report: a check, what was expected, what was found, the verdict and time.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

/// Whether a check passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The live value matches the synth (or the API behaved as the contract says).
    Pass,
    /// It does not, or it could not be read.
    Fail,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pass => "PASS",
            Self::Fail => "FAIL",
        })
    }
}

/// The outcome of one check.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheckResult {
    /// What was checked, e.g. `s3 callflow-events-prod: versioning`.
    pub check: String,
    /// The expected value (from the synth or the API contract).
    pub expected: String,
    /// The value found.
    pub actual: String,
    /// Pass or fail.
    pub verdict: Verdict,
    /// Time the check's calls took.
    #[serde(rename = "duration_ms", serialize_with = "millis")]
    pub duration: Duration,
    /// What to do about a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl CheckResult {
    /// A passing check.
    pub fn pass(
        check: impl Into<String>,
        expected: impl fmt::Display,
        actual: impl fmt::Display,
    ) -> Self {
        Self {
            check: check.into(),
            expected: expected.to_string(),
            actual: actual.to_string(),
            verdict: Verdict::Pass,
            duration: Duration::ZERO,
            fix: None,
        }
    }

    /// A failing check with the action that fixes it.
    pub fn fail(
        check: impl Into<String>,
        expected: impl fmt::Display,
        actual: impl fmt::Display,
        fix: impl Into<String>,
    ) -> Self {
        Self {
            verdict: Verdict::Fail,
            fix: Some(fix.into()),
            ..Self::pass(check, expected, actual)
        }
    }

    /// Passes when `ok`, fails with `fix` otherwise.
    pub fn compare(
        check: impl Into<String>,
        expected: impl fmt::Display,
        actual: impl fmt::Display,
        ok: bool,
        fix: impl Into<String>,
    ) -> Self {
        if ok {
            Self::pass(check, expected, actual)
        } else {
            Self::fail(check, expected, actual, fix)
        }
    }

    /// Passes when `actual == expected` (compared by their display text).
    pub fn equal(
        check: impl Into<String>,
        expected: impl fmt::Display,
        actual: impl fmt::Display,
        fix: impl Into<String>,
    ) -> Self {
        let (e, a) = (expected.to_string(), actual.to_string());
        let ok = e == a;
        Self::compare(check, e, a, ok, fix)
    }

    /// Sets the duration.
    pub fn took(mut self, duration: Duration) -> Self {
        self.duration = duration;
        self
    }

    /// Whether the check passed.
    pub fn passed(&self) -> bool {
        self.verdict == Verdict::Pass
    }
}
