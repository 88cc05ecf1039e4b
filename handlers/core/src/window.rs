//! The acceptance window of event timestamps around the time of receipt.
//!
//! An unset clock (1970-01-01) or a mistyped year (2099) would otherwise be stored in a day
//! partition that no query for the real day reads. As CloudWatch Logs' `PutLogEvents` does for
//! log events too new or too old, the storer accepts timestamps from `max_age` before to
//! `max_future` after the moment it receives the event, and answers
//! `422 timestamp_out_of_window` naming the window otherwise.

use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Default oldest accepted event, relative to receipt: 14 days (as CloudWatch Logs).
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(14 * 24 * 3600);
/// Default newest accepted event, relative to receipt: 5 minutes of clock skew.
pub const DEFAULT_MAX_FUTURE: Duration = Duration::from_secs(5 * 60);

/// Which event timestamps the storer accepts, relative to the time of receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcceptanceWindow {
    /// How far before receipt an event may have happened (late or backfilled events).
    pub max_age: Duration,
    /// How far after receipt an event may claim to have happened (clock skew).
    pub max_future: Duration,
}

impl Default for AcceptanceWindow {
    fn default() -> Self {
        Self {
            max_age: DEFAULT_MAX_AGE,
            max_future: DEFAULT_MAX_FUTURE,
        }
    }
}

/// Why a timestamp is outside the window; displays as the message the API answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutsideWindow {
    /// The event's timestamp.
    pub timestamp: OffsetDateTime,
    /// When the event was received.
    pub received_at: OffsetDateTime,
    /// The window it falls outside of.
    pub window: AcceptanceWindow,
}

impl OutsideWindow {
    /// `before` or `after` the time of receipt.
    pub fn side(&self) -> &'static str {
        if self.timestamp < self.received_at {
            "before"
        } else {
            "after"
        }
    }

    /// How far the timestamp is from the time of receipt.
    pub fn distance(&self) -> Duration {
        (self.timestamp - self.received_at).unsigned_abs()
    }
}

impl std::fmt::Display for OutsideWindow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rfc3339 = |t: OffsetDateTime| t.format(&Rfc3339).unwrap_or_else(|_| t.to_string());
        write!(
            f,
            "timestamp {} is {} {} the time of receipt {}; events are accepted from {} before to {} after receipt",
            rfc3339(self.timestamp),
            words(self.distance()),
            self.side(),
            rfc3339(self.received_at),
            words(self.window.max_age),
            words(self.window.max_future),
        )
    }
}

impl std::error::Error for OutsideWindow {}

impl AcceptanceWindow {
    /// A window that accepts every timestamp an event id can carry (years 1970 to 9999): for
    /// tests and benchmarks over fixed historical dates, and imports of historical data.
    pub const fn any() -> Self {
        let ten_thousand_years = Duration::from_secs(10_000 * 366 * 86_400);
        Self {
            max_age: ten_thousand_years,
            max_future: ten_thousand_years,
        }
    }

    /// Checks `timestamp` against the window around `received_at`.
    ///
    /// ```
    /// use callflow_core::window::AcceptanceWindow;
    /// use time::macros::datetime;
    ///
    /// let now = datetime!(2026-12-02 12:00 UTC);
    /// let w = AcceptanceWindow::default();
    /// assert!(w.check(datetime!(2026-12-01 12:00 UTC), now).is_ok());
    /// let err = w.check(datetime!(1970-01-01 00:00 UTC), now).unwrap_err();
    /// assert!(err.to_string().contains("from 14 days before to 5 minutes after receipt"));
    /// assert!(w.check(datetime!(2026-12-02 12:06 UTC), now).is_err());
    /// ```
    pub fn check(
        &self,
        timestamp: OffsetDateTime,
        received_at: OffsetDateTime,
    ) -> Result<(), OutsideWindow> {
        let outside = OutsideWindow {
            timestamp,
            received_at,
            window: *self,
        };
        let limit = if timestamp < received_at {
            self.max_age
        } else {
            self.max_future
        };
        if outside.distance() <= limit {
            Ok(())
        } else {
            Err(outside)
        }
    }
}

/// A duration in the largest whole unit that fits: `14 days`, `5 minutes`, `90 seconds`.
pub fn words(d: Duration) -> String {
    let s = d.as_secs();
    let (n, unit) = if s >= 86_400 && s.is_multiple_of(86_400) || s >= 10 * 86_400 {
        (s / 86_400, "day")
    } else if s >= 3600 && s.is_multiple_of(3600) || s >= 10 * 3600 {
        (s / 3600, "hour")
    } else if s >= 60 && s.is_multiple_of(60) || s >= 10 * 60 {
        (s / 60, "minute")
    } else {
        (s, "second")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn edges_are_inclusive() {
        let now = datetime!(2026-12-02 12:00 UTC);
        let w = AcceptanceWindow::default();
        assert!(w.check(now - DEFAULT_MAX_AGE, now).is_ok());
        assert!(w.check(now + DEFAULT_MAX_FUTURE, now).is_ok());
        assert!(
            w.check(now - DEFAULT_MAX_AGE - time::Duration::milliseconds(1), now)
                .is_err()
        );
        let e = w
            .check(now + DEFAULT_MAX_FUTURE + time::Duration::seconds(1), now)
            .unwrap_err();
        assert_eq!(e.side(), "after");
        assert_eq!(words(e.distance()), "301 seconds");
    }

    #[test]
    fn mistyped_year_names_the_window() {
        let now = datetime!(2026-12-02 12:00 UTC);
        let e = AcceptanceWindow::default()
            .check(datetime!(2099-01-01 00:00 UTC), now)
            .unwrap_err();
        assert_eq!(e.side(), "after");
        assert!(e.to_string().contains("2099-01-01T00:00:00Z"), "{e}");
        assert!(e.to_string().contains("5 minutes after receipt"), "{e}");
    }

    #[test]
    fn words_pick_a_readable_unit() {
        assert_eq!(words(Duration::from_secs(1)), "1 second");
        assert_eq!(words(Duration::from_secs(300)), "5 minutes");
        assert_eq!(words(Duration::from_secs(90)), "90 seconds");
        assert_eq!(words(Duration::from_secs(7200)), "2 hours");
        assert_eq!(words(Duration::from_secs(14 * 86_400)), "14 days");
        assert_eq!(
            words(Duration::from_secs(20_424 * 86_400 + 5)),
            "20424 days"
        );
    }
}
