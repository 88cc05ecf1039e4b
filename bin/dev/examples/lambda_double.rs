//! A misbehaving Lambda function for the process-mode tests of `callflow dev`: a real
//! `lambda_runtime` function whose behaviour each request picks with the `mode` field of its
//! JSON body (proxy events) or its bearer token (TOKEN authorizer events, `Bearer <mode>`):
//!
//! - `ok` (default): a 201 proxy response echoing the mode; for an authorizer event, a policy
//!   allowing everything;
//! - `Unauthorized`: the error API Gateway turns into a 401 for an authorizer;
//! - `crash`: the process aborts mid-request;
//! - `hang`: it never answers (exceeds any timeout);
//! - `error`: the handler returns an error (posted to `invocation/{id}/error`);
//! - `malformed`: a response that is not a proxy response (a bare JSON string);
//! - `huge`: a 7 MB response, over Lambda's 6 MB limit;
//! - `misuse`: before answering, posts a response for an unknown request id straight to the
//!   Runtime API and reports the status it got (`{"unknownIdStatus": 400}`).
//!
//! When `LAMBDA_DOUBLE_INIT_MARKER` names a file that does not exist yet, the process
//! creates it and fails its initialization like a handler missing a required variable
//! (message on stderr, exit status 1): the first environment fails, the next starts.

use std::io::{Read, Write};

use aws_lambda_events::apigw::ApiGatewayProxyResponse;
use aws_lambda_events::encodings::Body;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

fn mode(event: &Value) -> String {
    let from_body = event
        .get("body")
        .and_then(Value::as_str)
        .and_then(|b| serde_json::from_str::<Value>(b).ok())
        .and_then(|v| v.get("mode").and_then(Value::as_str).map(str::to_owned));
    let from_token = event
        .get("authorizationToken")
        .and_then(Value::as_str)
        .map(|t| t.trim_start_matches("Bearer ").to_owned());
    from_body.or(from_token).unwrap_or_else(|| "ok".to_owned())
}

fn allow_everything() -> Value {
    json!({
        "principalId": "double",
        "usageIdentifierKey": "double-client",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": "*"}]
        }
    })
}

/// POSTs a response for a request id the Runtime API never issued; returns its status.
fn post_for_unknown_id() -> u16 {
    let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") else {
        return 0;
    };
    let Ok(mut stream) = std::net::TcpStream::connect(&api) else {
        return 0;
    };
    let request = format!(
        "POST /2018-06-01/runtime/invocation/not-a-current-id/response HTTP/1.1\r\nHost: {api}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
    );
    let _ = stream.write_all(request.as_bytes());
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    reply
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn proxy(status: i64, body: Value) -> Value {
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = status;
    response.body = Some(Body::Text(body.to_string()));
    serde_json::to_value(response).unwrap_or(Value::Null)
}

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let authorizer = event.payload.get("authorizationToken").is_some();
    match mode(&event.payload).as_str() {
        "Unauthorized" => Err("Unauthorized".into()),
        "crash" => std::process::abort(),
        "hang" => {
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
            Ok(Value::Null)
        }
        "error" => Err("the double failed on purpose".into()),
        "malformed" => Ok(json!("not a proxy response")),
        "huge" => Ok(proxy(200, json!({"filler": "x".repeat(7 * 1024 * 1024)}))),
        "misuse" => Ok(proxy(
            201,
            json!({"unknownIdStatus": post_for_unknown_id()}),
        )),
        _ if authorizer => Ok(allow_everything()),
        other => Ok(proxy(
            201,
            json!({"mode": other, "pid": std::process::id()}),
        )),
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    if let Ok(marker) = std::env::var("LAMBDA_DOUBLE_INIT_MARKER")
        && std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&marker)
            .is_ok()
    {
        eprintln!("invalid configuration:\n  LAMBDA_DOUBLE_REQUIRED: is required");
        std::process::exit(1);
    }
    println!("lambda double ready");
    lambda_runtime::run(service_fn(handle)).await
}
