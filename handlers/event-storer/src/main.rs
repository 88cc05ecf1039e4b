//! Lambda entry point of `callflow-event-storer`: JSON tracing, configuration (failing at cold
//! start), then the runtime loop. The S3 client (the SDK's config and its connector: plain
//! HTTP for a local endpoint, HTTPS with the platform's CA bundle otherwise) is built by the
//! first request, not at init (why, with the figures:
//! `callflow_core::config::Config::event_store`).

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use callflow_core::Config;
use callflow_event_storer::EventStorer;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use tokio::sync::OnceCell;

async fn storer(config: &Config) -> EventStorer {
    EventStorer::new(
        config.event_store().await,
        config.service_name.clone(),
        config.acceptance_window,
    )
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = Arc::new(Config::from_env().inspect_err(|e| eprintln!("{e}"))?);
    callflow_core::telemetry::init_json_logging(&config.log_level)?;
    let cell = Arc::new(OnceCell::<EventStorer>::new());
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayProxyRequest>| {
            let (cell, config) = (Arc::clone(&cell), Arc::clone(&config));
            async move {
                let storer = cell.get_or_init(|| storer(&config)).await;
                Ok::<ApiGatewayProxyResponse, Error>(storer.handle(event.payload).await)
            }
        },
    ))
    .await
}
