//! Lambda entry point of `callflow-event-retriever`: JSON tracing, configuration (failing at
//! cold start), one S3 client, then the runtime loop.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use callflow_core::Config;
use callflow_event_retriever::EventRetriever;
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = Config::from_env().inspect_err(|e| eprintln!("{e}"))?;
    let signer = config
        .require_token_signer()
        .inspect_err(|e| eprintln!("{e}"))?;
    callflow_core::telemetry::init_json_logging(&config.log_level)?;
    let retriever = Arc::new(EventRetriever::new(
        config.event_store().await,
        signer,
        config.service_name.clone(),
    ));
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayProxyRequest>| {
            let retriever = Arc::clone(&retriever);
            async move {
                Ok::<ApiGatewayProxyResponse, Error>(retriever.handle(event.payload).await)
            }
        },
    ))
    .await
}
