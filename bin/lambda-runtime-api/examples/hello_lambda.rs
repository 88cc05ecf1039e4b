//! The floor of Lambda init: a hello-world `lambda_runtime` function (no configuration, no
//! clients, no log subscriber) that answers every event with `{"hello": <event>}`. The
//! `bench_init` example of `callflow-dev` starts it beside the shipped handlers and reports
//! each handler's Init Duration as a multiple of this one's.
//!
//! ```text
//! cargo build --release -p callflow-lambda-rt --example hello_lambda
//! ```

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<Value, Error>(json!({ "hello": event.payload }))
    }))
    .await
}
