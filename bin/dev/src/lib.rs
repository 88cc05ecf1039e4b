//! `callflow dev`: the whole Callflow service on one machine.
//!
//! - [`Gateway`]: a local REST API stage that behaves like the deployed one — routes from the
//!   OpenAPI spec, the TOKEN authorizer called first with its per-token policy cache
//!   ([`PolicyCache`], TTL 300 s by default), IAM wildcard matching of the method ARN,
//!   required-parameter validation, stage throttling ([`TokenBucket`], 429), per-client
//!   usage plans keyed by the authorizer's `usageIdentifierKey` ([`UsageMeter`]), gateway
//!   responses in the spec's JSON error shape, and the deployed JSON access log keys. The
//!   handlers are the Lambda crates' own functions, called in-process with real
//!   `ApiGatewayProxyRequest` events, or, in process mode ([`LambdaMode::Process`]), the
//!   real handler binaries as Lambda execution environments behind a local Runtime API
//!   ([`callflow_lambda_rt`]), configured from the synthesized stack ([`stack_functions`]).
//! - [`Storage`]: the embedded S3-compatible store (`callflow-s3store`) persisting under the
//!   data directory, or any S3 endpoint; the handlers reach it through `aws-sdk-s3`.
//! - [`LocalIdentity`]: a P-256 signing key kept under the data directory; its JWKS is served
//!   at `/.well-known/jwks.json` and [`LocalIdentity::issue`] mints tokens for it.
//! - [`DevServer`]: all of it behind an HTTP/1.1 listener, with graceful shutdown.
#![deny(missing_docs)]

pub mod access_log;
pub mod authorize;
pub mod clock;
pub mod gateway;
pub mod gateway_response;
pub mod handler_binaries;
pub mod integration;
pub mod lambda_process;
pub mod local_auth;
pub mod policy_cache;
pub mod request_id;
pub mod server;
pub mod stack_functions;
pub mod storage;
pub mod throttle;
pub mod usage_plan;
pub mod validation;

pub use access_log::{AccessLogFormat, AccessLogSink, DiscardSink, MemorySink, StdoutSink};
pub use authorize::{AuthorizerFailure, FnAuthorizer, PolicyVerdict, StageArn, TokenAuthorizer};
pub use clock::{Clock, ManualClock, SystemClock};
pub use gateway::{
    Gateway, GatewayBuilder, GatewayError, GatewayRequest, GatewayResponse, MAX_PAYLOAD_BYTES,
    RequestBody,
};
pub use gateway_response::{GatewayResponseType, GatewayResponses};
pub use handler_binaries::{BinaryDir, BinaryProblem, BuildError};
pub use integration::{Integration, IntegrationError};
pub use lambda_process::{LambdaMode, ProcessLambdas, ProcessOptions};
pub use local_auth::{DEFAULT_SUBJECT, DEV_AUDIENCE, DEV_ISSUER, LocalIdentity};
pub use policy_cache::{AuthorizerResult, AuthorizerTtl, PolicyCache};
pub use server::{DEFAULT_DATA_DIR, DEFAULT_PORT, DevConfig, DevError, DevServer, JWKS_PATH};
pub use storage::{DEV_BUCKET, EmbeddedFsync, Storage, StorageChoice};
pub use throttle::{ThrottleLimits, TokenBucket};
pub use usage_plan::{InvalidUsagePlan, PlanLimits, UsageMeter, UsagePlans, UsageVerdict};
