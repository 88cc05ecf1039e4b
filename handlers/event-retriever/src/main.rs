//! Lambda entry point of `callflow-event-retriever`: JSON tracing, configuration (failing at cold
//! start), then the runtime loop. The S3 client (the SDK's config and its connector: plain
//! HTTP for a local endpoint, HTTPS with the platform's CA bundle otherwise) is built by the
//! first request, not at init (why, with the figures:
//! `callflow_core::config::Config::event_store`).

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use callflow_core::{Config, TokenSigner};
use callflow_event_retriever::EventRetriever;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use tokio::sync::OnceCell;

async fn retriever(config: &Config, signer: &TokenSigner) -> EventRetriever {
    EventRetriever::new(
        config.event_store().await,
        signer.clone(),
        config.service_name.clone(),
    )
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = Config::from_env().inspect_err(|e| eprintln!("{e}"))?;
    let signer = config
        .require_token_signer()
        .inspect_err(|e| eprintln!("{e}"))?;
    callflow_core::telemetry::init_json_logging(&config.log_level)?;
    let setup = Arc::new((config, signer));
    let cell = Arc::new(OnceCell::<EventRetriever>::new());
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayProxyRequest>| {
            let (cell, setup) = (Arc::clone(&cell), Arc::clone(&setup));
            async move {
                let retriever = cell.get_or_init(|| retriever(&setup.0, &setup.1)).await;
                Ok::<ApiGatewayProxyResponse, Error>(retriever.handle(event.payload).await)
            }
        },
    ))
    .await
}
