//! Lambda entry point of `callflow-event-storer`: JSON tracing, configuration (failing at cold
//! start), one S3 client, then the runtime loop.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use callflow_core::Config;
use callflow_event_storer::EventStorer;
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = Config::from_env().inspect_err(|e| eprintln!("{e}"))?;
    callflow_core::telemetry::init_json_logging(&config.log_level)?;
    let storer = Arc::new(EventStorer::new(
        config.event_store().await,
        config.service_name.clone(),
        config.acceptance_window,
    ));
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayProxyRequest>| {
            let storer = Arc::clone(&storer);
            async move { Ok::<ApiGatewayProxyResponse, Error>(storer.handle(event.payload).await) }
        },
    ))
    .await
}
