//! The Lambda's log format: one JSON object per line, event fields nested under
//! `fields` (tracing-subscriber's JSON formatter), no timestamp (CloudWatch Logs adds
//! one) and no span context. The stack's metric filter
//! (`callflow_stack::callflow::AUTHORIZER_DENIAL_PATTERN`) counts denials by reading
//! `$.fields.decision` from these lines; a test keeps the two in step.

use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// The environment variable holding the log filter (`info`, `debug`,
/// `callflow_authorizer=debug`, ...).
pub const LOG_LEVEL_VAR: &str = callflow_deployment::env::LOG_LEVEL;

/// The filter used when [`LOG_LEVEL_VAR`] is unset or invalid.
pub const DEFAULT_LOG_LEVEL: &str = "info";

/// The log filter from `LOG_LEVEL`, falling back to [`DEFAULT_LOG_LEVEL`].
pub fn log_filter_from_env() -> EnvFilter {
    EnvFilter::try_from_env(LOG_LEVEL_VAR).unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG_LEVEL))
}

/// The subscriber `main` installs: JSON lines with the event's fields under `fields`,
/// without time or span context, filtered by `filter`, written to `writer` (stdout in
/// the Lambda).
pub fn json_log_subscriber<W>(filter: EnvFilter, writer: W) -> impl Subscriber + Send + Sync
where
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .without_time()
        .with_writer(writer)
        .finish()
}
