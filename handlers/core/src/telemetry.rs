//! Structured JSON logs via `tracing`.

use tracing_subscriber::EnvFilter;

/// Installs a JSON subscriber filtered by `log_level` (a `tracing` filter); span fields such as
/// the request id are included in every line. Errors when a subscriber is already installed.
pub fn init_json_logging(log_level: &str) -> Result<(), String> {
    let filter = EnvFilter::try_new(log_level).map_err(|e| e.to_string())?;
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(true)
        .with_ansi(false)
        .try_init()
        .map_err(|e| e.to_string())
}

/// The span every handler invocation runs in: carries the service and API Gateway request id.
pub fn request_span(service: &str, request_id: &str, route: &'static str) -> tracing::Span {
    tracing::info_span!("request", service = %service, request_id = %request_id, route = route)
}
