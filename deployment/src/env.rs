//! The handlers' environment variables: their names, once, and which handler reads which.

/// Who sets a variable in a deployment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetBy {
    /// The stack sets it on the function, always.
    Stack,
    /// Optional and not set by the stack: tuning with documented defaults, or local runs
    /// (`callflow dev`, S3-compatible stores).
    Optional,
}

/// One environment variable a handler reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EnvVar {
    /// The variable's name.
    pub name: &'static str,
    /// Who sets it.
    pub set_by: SetBy,
    /// What it holds.
    pub description: &'static str,
}

const fn stack(name: &'static str, description: &'static str) -> EnvVar {
    EnvVar {
        name,
        set_by: SetBy::Stack,
        description,
    }
}

const fn optional(name: &'static str, description: &'static str) -> EnvVar {
    EnvVar {
        name,
        set_by: SetBy::Optional,
        description,
    }
}

/// The service name in every log line.
pub const SERVICE_NAME: &str = "SERVICE_NAME";
/// The `tracing` filter of the handler's JSON logs.
pub const LOG_LEVEL: &str = "LOG_LEVEL";
/// The events bucket.
pub const S3_BUCKET: &str = "S3_BUCKET";
/// An S3-compatible endpoint instead of AWS.
pub const S3_ENDPOINT: &str = "S3_ENDPOINT";
/// Path-style addressing for S3-compatible stores.
pub const S3_FORCE_PATH_STYLE: &str = "S3_FORCE_PATH_STYLE";
/// How far before receipt an event's timestamp may lie, in seconds.
pub const EVENT_MAX_AGE_SECONDS: &str = "EVENT_MAX_AGE_SECONDS";
/// How far after receipt an event's timestamp may lie, in seconds.
pub const EVENT_MAX_FUTURE_SECONDS: &str = "EVENT_MAX_FUTURE_SECONDS";
/// Attempts per S3 request (first try included).
pub const S3_MAX_ATTEMPTS: &str = "S3_MAX_ATTEMPTS";
/// First retry backoff of S3 requests, in milliseconds.
pub const S3_INITIAL_BACKOFF_MS: &str = "S3_INITIAL_BACKOFF_MS";
/// Largest retry backoff of S3 requests, in milliseconds.
pub const S3_MAX_BACKOFF_MS: &str = "S3_MAX_BACKOFF_MS";
/// Connect timeout of S3 requests, in milliseconds.
pub const S3_CONNECT_TIMEOUT_MS: &str = "S3_CONNECT_TIMEOUT_MS";
/// Timeout of one S3 attempt, in milliseconds.
pub const S3_ATTEMPT_TIMEOUT_MS: &str = "S3_ATTEMPT_TIMEOUT_MS";
/// Timeout of one S3 operation with its retries, in milliseconds.
pub const S3_OPERATION_TIMEOUT_MS: &str = "S3_OPERATION_TIMEOUT_MS";
/// Retry tokens shared by the S3 client's requests.
pub const S3_RETRY_BUDGET: &str = "S3_RETRY_BUDGET";
/// The HMAC key of the by-type index's party digests (phone numbers never appear in clear in
/// key names); fixed for the life of the data.
pub const INDEX_HASH_KEY: &str = "INDEX_HASH_KEY";
/// The HMAC key of pagination continuation tokens.
pub const TOKEN_SIGNING_KEY: &str = "TOKEN_SIGNING_KEY";
/// The JWT issuer the authorizer accepts.
pub const JWT_ISSUER: &str = "JWT_ISSUER";
/// The JWT audience the authorizer accepts.
pub const JWT_AUDIENCE: &str = "JWT_AUDIENCE";
/// Where the authorizer fetches its JSON Web Key Set.
pub const JWKS_URL: &str = "JWKS_URL";
/// A JSON Web Key Set given inline instead of [`JWKS_URL`].
pub const JWKS_JSON: &str = "JWKS_JSON";
/// The token claim naming the calling client: the authorizer returns its value as the
/// `usageIdentifierKey` that selects the client's usage plan (default `client_id`).
pub const CLIENT_ID_CLAIM: &str = "CLIENT_ID_CLAIM";

const COMMON: &[EnvVar] = &[
    stack(SERVICE_NAME, "the service name in every log line"),
    stack(
        LOG_LEVEL,
        "the tracing filter of the JSON logs (the stack's log_level variable)",
    ),
];

const STORAGE: &[EnvVar] = &[
    stack(S3_BUCKET, "the events bucket"),
    stack(
        INDEX_HASH_KEY,
        "HMAC key (32+ bytes) of the index's phone-number digests",
    ),
    optional(
        S3_ENDPOINT,
        "an S3-compatible endpoint (http(s)://host:port); AWS when absent",
    ),
    optional(
        S3_FORCE_PATH_STYLE,
        "true for path-style addressing (S3-compatible stores); default false",
    ),
    optional(S3_MAX_ATTEMPTS, "attempts per S3 request"),
    optional(S3_INITIAL_BACKOFF_MS, "first retry backoff (ms)"),
    optional(S3_MAX_BACKOFF_MS, "largest retry backoff (ms)"),
    optional(S3_CONNECT_TIMEOUT_MS, "connect timeout (ms)"),
    optional(S3_ATTEMPT_TIMEOUT_MS, "timeout of one attempt (ms)"),
    optional(
        S3_OPERATION_TIMEOUT_MS,
        "timeout of an operation with its retries (ms)",
    ),
    optional(
        S3_RETRY_BUDGET,
        "retry tokens shared by the client's requests",
    ),
];

/// The authorizer's variables, in groups.
pub const AUTHORIZER: &[&[EnvVar]] = &[
    COMMON,
    &[
        stack(JWT_ISSUER, "the JWT issuer (iss) accepted"),
        stack(JWT_AUDIENCE, "the JWT audience (aud) accepted"),
        stack(JWKS_URL, "the issuer's JSON Web Key Set URL"),
        optional(JWKS_JSON, "a JSON Web Key Set inline, instead of JWKS_URL"),
        stack(
            CLIENT_ID_CLAIM,
            "the claim whose value is the usageIdentifierKey (default client_id)",
        ),
    ],
];

/// The event storer's variables, in groups.
pub const EVENT_STORER: &[&[EnvVar]] = &[
    COMMON,
    STORAGE,
    &[
        stack(
            EVENT_MAX_AGE_SECONDS,
            "acceptance window: seconds before receipt (default 14 days)",
        ),
        stack(
            EVENT_MAX_FUTURE_SECONDS,
            "acceptance window: seconds after receipt (default 5 minutes)",
        ),
    ],
];

/// The event retriever's variables, in groups.
pub const EVENT_RETRIEVER: &[&[EnvVar]] = &[
    COMMON,
    STORAGE,
    &[stack(
        TOKEN_SIGNING_KEY,
        "HMAC key (32+ bytes) of continuation tokens",
    )],
];
