//! Lambda entry point of `callflow-event-retriever`: JSON tracing, configuration (failing at cold
//! start), then the runtime loop. The S3 client (the SDK's config and its connector: plain HTTP for
//! a local endpoint, HTTPS with the platform's CA bundle otherwise) is built by the first request,
//! not at init. Built on a task started at init, it overlapped only the rest of init and competed
//! with init's path to the first `invocation/next` for the CPU. In one `bench_init` run
//! (callflow-dev), init plus first invocation came out about the same either way (storer 1.34x the
//! floor's both ways, retriever 1.27x on a task, 1.37x on the first request) and Init Duration
//! shorter this way (1.26x to 1.10x, 1.19x to 1.11x).

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
