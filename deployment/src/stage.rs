//! The REST API's stage as the stack deploys it and `callflow dev` serves it: its name (the
//! version segment of every URL) and the JSON format of its access log (the stack sets it on
//! the stage; the local gateway logs one line per request with the same keys).
//!
//! ```
//! use callflow_deployment::stage;
//! assert_eq!(stage::STAGE_NAME, "v1");
//! assert!(stage::ACCESS_LOG_FORMAT.contains(r#""requestId":"$context.requestId""#));
//! ```

/// The stage name: the version segment of every URL.
pub const STAGE_NAME: &str = "v1";

/// The JSON access log line of the stage (one field per key; `callflow dev` logs the same keys).
pub const ACCESS_LOG_FORMAT: &str = concat!(
    r#"{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","#,
    r#""requestTime":"$context.requestTime","httpMethod":"$context.httpMethod","#,
    r#""resourcePath":"$context.resourcePath","path":"$context.path","status":"$context.status","#,
    r#""protocol":"$context.protocol","responseLength":"$context.responseLength","#,
    r#""responseLatency":"$context.responseLatency","integrationLatency":"$context.integrationLatency","#,
    r#""authorizerStatus":"$context.authorizer.status","authorizerLatency":"$context.authorizer.latency","#,
    r#""principalId":"$context.authorizer.principalId","apiKey":"$context.identity.apiKey","#,
    r#""userAgent":"$context.identity.userAgent","#,
    r#""errorMessage":"$context.error.message"}"#
);
