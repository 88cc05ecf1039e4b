//! The `callflow-authorizer` Lambda: configuration at cold start, then one call of
//! [`Authorizer::authorize`] per event.

use callflow_authorizer::{
    Authorizer, AuthorizerConfig, AuthorizerError, json_log_subscriber, log_filter_from_env,
};
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
    let authorizer = Authorizer::new(AuthorizerConfig::from_env()?)?;
    if let Err(error) = authorizer.warm_up().await {
        tracing::warn!(%error, "jwks not loaded at cold start; retrying on first request");
    }
    let authorizer = &authorizer;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<_>| async move {
        authorizer
            .authorize(event.payload)
            .await
            .map_err(diagnostic)
    }))
    .await
}
