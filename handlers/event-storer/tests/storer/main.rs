//! Integration tests: the real handler, real `ApiGatewayProxyRequest`s, the real aws-sdk-s3
//! client against the embedded S3-compatible store on a loopback port.

mod common;
mod errors;
mod idempotency;
mod model;
mod store;
mod window;
