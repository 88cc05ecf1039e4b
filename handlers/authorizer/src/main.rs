//! The `callflow-authorizer` Lambda: configuration at cold start, the key set fetched in the
//! background, then one call of [`Authorizer::authorize`] per event.

use callflow_authorizer::{
    Authorizer, AuthorizerConfig, AuthorizerError, json_log_subscriber, log_filter_from_env,
};
use std::sync::Arc;

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};

fn diagnostic(error: AuthorizerError) -> Diagnostic {
    // API Gateway turns exactly the message "Unauthorized" into a 401.
    Diagnostic {
        error_type: match error {
            AuthorizerError::Unauthorized => "Unauthorized",
            AuthorizerError::KeysUnavailable => "KeysUnavailable",
            AuthorizerError::InvalidMethodArn(_) => "InvalidMethodArn",
        }
        .to_owned(),
        error_message: error.to_string(),
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    tracing::subscriber::set_global_default(json_log_subscriber(
        log_filter_from_env(),
        std::io::stdout,
    ))?;
    let authorizer = Arc::new(Authorizer::new(AuthorizerConfig::from_env()?)?);
    // The key set is fetched on a task started here: init ends at the first
    // `invocation/next` without waiting for the JWKS round trip, and a request that needs a
    // key before the fetch is done waits for that same fetch (the key store's lock), so
    // the keys are still fetched once.
    tokio::spawn({
        let authorizer = Arc::clone(&authorizer);
        async move {
            if let Err(error) = authorizer.warm_up().await {
                tracing::warn!(%error, "jwks not loaded at cold start; retrying on first request");
            }
        }
    });
    lambda_runtime::run(service_fn(move |event: LambdaEvent<_>| {
        let authorizer = Arc::clone(&authorizer);
        async move {
            authorizer
                .authorize(event.payload)
                .await
                .map_err(diagnostic)
        }
    }))
    .await
}
