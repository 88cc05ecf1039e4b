//! Handler configuration from environment variables, validated once at cold start.

use callflow_deployment::env;
use std::time::Duration;

use aws_sdk_s3::config::retry::{RetryConfig, RetryPartition, TokenBucket};
use aws_sdk_s3::config::timeout::TimeoutConfig;

use crate::index::IndexKey;
use crate::store::EventStore;
use crate::token::TokenSigner;
use crate::window::AcceptanceWindow;

/// Shortest accepted `TOKEN_SIGNING_KEY`, in bytes.
pub const MIN_SIGNING_KEY_LEN: usize = 32;

/// An S3 bucket name (3..=63 of `[a-z0-9.-]`, starting and ending alphanumeric).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BucketName(String);

impl BucketName {
    /// Parses a bucket name.
    pub fn parse(v: &str) -> Result<Self, String> {
        let ok_chars = v
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
        let ends_ok =
            |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if (3..=63).contains(&v.len())
            && ok_chars
            && ends_ok(v.as_bytes().first())
            && ends_ok(v.as_bytes().last())
        {
            Ok(Self(v.to_owned()))
        } else {
            Err(format!(
                "{v:?} is not a valid bucket name (3-63 of a-z 0-9 . -)"
            ))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Validated handler configuration.
#[derive(Clone)]
pub struct Config {
    /// `S3_BUCKET`: where events live.
    pub bucket: BucketName,
    /// `SERVICE_NAME`: logged with every line.
    pub service_name: String,
    /// `LOG_LEVEL`: a `tracing` filter such as `info` or `callflow_core=debug,info`.
    pub log_level: String,
    /// `S3_ENDPOINT`: an S3-compatible endpoint (`http(s)://host:port`); AWS when absent.
    pub s3_endpoint: Option<String>,
    /// `S3_FORCE_PATH_STYLE`: `true`/`false` (default false), for S3-compatible stores.
    pub s3_force_path_style: bool,
    /// `INDEX_HASH_KEY`: at least 32 bytes, keys the by-type index's party digests.
    pub index_key: IndexKey,
    /// `TOKEN_SIGNING_KEY`: at least 32 bytes, signs continuation tokens. Optional here
    /// (the storer does not need it); the retriever calls [`Config::require_token_signer`].
    pub token_signer: Option<TokenSigner>,
    /// How the S3 client retries and times out (`S3_MAX_ATTEMPTS`, `S3_INITIAL_BACKOFF_MS`,
    /// `S3_MAX_BACKOFF_MS`, `S3_CONNECT_TIMEOUT_MS`, `S3_ATTEMPT_TIMEOUT_MS`,
    /// `S3_OPERATION_TIMEOUT_MS`, `S3_RETRY_BUDGET`); see [`StorageRetryPolicy`] for defaults.
    pub storage_retry: StorageRetryPolicy,
    /// Which event timestamps the storer accepts (`EVENT_MAX_AGE_SECONDS`,
    /// `EVENT_MAX_FUTURE_SECONDS`); defaults in [`crate::window`].
    pub acceptance_window: AcceptanceWindow,
}

/// The S3 client's retry and timeout policy, set explicitly instead of relying on SDK defaults.
///
/// Every S3 call (PutObject, GetObject, ListObjectsV2) is one SDK operation: it is tried up to
/// `max_attempts` times; an attempt fails on a 5xx, 429/503 `SlowDown`, a connection error or
/// reset, or when it takes longer than `attempt_timeout` (a stalled store); between attempts
/// the SDK sleeps an exponentially growing, fully jittered backoff starting at
/// `initial_backoff`, capped at `max_backoff`; the whole operation gives up after
/// `operation_timeout`. Failures left after that are answered `503 storage_unavailable` with
/// `Retry-After`, and clients retry with the same `Idempotency-Key`.
///
/// Retrying a conditional `PutObject` whose first attempt was applied but whose answer was lost
/// gets `412`; the store then reads the object back and the storer answers `200` with the
/// original event, so a retry never stores a second copy.
///
/// Retries draw on a token bucket of `retry_budget` tokens (5 per retry, 10 per retried
/// timeout, 1 back per success without retry), the SDK's guard against retry storms: when
/// a store fails persistently the bucket empties and failures surface at once as 503.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageRetryPolicy {
    /// Attempts per S3 call, including the first (at least 1). Default: 4.
    pub max_attempts: u32,
    /// Backoff before the first retry (grows ×2 per retry, full jitter). Default: 25 ms.
    pub initial_backoff: Duration,
    /// Largest backoff between two attempts. Default: 1 s.
    pub max_backoff: Duration,
    /// Time to establish a connection. Default: 1 s.
    pub connect_timeout: Duration,
    /// Time one attempt may take, from sending to the complete answer. Default: 2 s.
    pub attempt_timeout: Duration,
    /// Time all attempts of one S3 call may take together. Default: 10 s.
    pub operation_timeout: Duration,
    /// Capacity of the retry token bucket. Default: 10,000.
    pub retry_budget: usize,
}

impl Default for StorageRetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(25),
            max_backoff: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(1),
            attempt_timeout: Duration::from_secs(2),
            operation_timeout: Duration::from_secs(10),
            retry_budget: 10_000,
        }
    }
}

impl StorageRetryPolicy {
    /// The SDK retry configuration of this policy.
    pub fn retry_config(&self) -> RetryConfig {
        RetryConfig::standard()
            .with_max_attempts(self.max_attempts.max(1))
            .with_initial_backoff(self.initial_backoff)
            .with_max_backoff(self.max_backoff)
    }

    /// The SDK timeout configuration of this policy.
    pub fn timeout_config(&self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(self.connect_timeout)
            .operation_attempt_timeout(self.attempt_timeout)
            .operation_timeout(self.operation_timeout)
            .build()
    }

    /// Applies the policy to an S3 client configuration.
    pub fn apply(&self, builder: aws_sdk_s3::config::Builder) -> aws_sdk_s3::config::Builder {
        builder
            .retry_config(self.retry_config())
            .timeout_config(self.timeout_config())
            .retry_partition(
                RetryPartition::custom("callflow-event-store")
                    .token_bucket(TokenBucket::new(self.retry_budget))
                    .build(),
            )
    }

    /// Reads the `S3_*` overrides through `lookup`, reporting bad values into `problems`.
    fn from_lookup(lookup: &impl Fn(&str) -> Option<String>, problems: &mut Vec<String>) -> Self {
        let mut policy = Self::default();
        let mut number = |name: &str, min: u64| -> Option<u64> {
            let text = lookup(name).filter(|v| !v.trim().is_empty())?;
            match text.trim().parse::<u64>() {
                Ok(n) if n >= min => Some(n),
                _ => {
                    problems.push(format!("{name}: {text:?} must be an integer >= {min}"));
                    None
                }
            }
        };
        let ms = Duration::from_millis;
        if let Some(n) = number(env::S3_MAX_ATTEMPTS, 1) {
            policy.max_attempts = u32::try_from(n).unwrap_or(u32::MAX);
        }
        if let Some(n) = number(env::S3_INITIAL_BACKOFF_MS, 0) {
            policy.initial_backoff = ms(n);
        }
        if let Some(n) = number(env::S3_MAX_BACKOFF_MS, 0) {
            policy.max_backoff = ms(n);
        }
        if let Some(n) = number(env::S3_CONNECT_TIMEOUT_MS, 1) {
            policy.connect_timeout = ms(n);
        }
        if let Some(n) = number(env::S3_ATTEMPT_TIMEOUT_MS, 1) {
            policy.attempt_timeout = ms(n);
        }
        if let Some(n) = number(env::S3_OPERATION_TIMEOUT_MS, 1) {
            policy.operation_timeout = ms(n);
        }
        if let Some(n) = number(env::S3_RETRY_BUDGET, 0) {
            policy.retry_budget = usize::try_from(n).unwrap_or(usize::MAX);
        }
        policy
    }
}

/// Reads the window overrides through `lookup`, reporting bad values into `problems`.
fn acceptance_window_from_lookup(
    lookup: &impl Fn(&str) -> Option<String>,
    problems: &mut Vec<String>,
) -> AcceptanceWindow {
    let mut window = AcceptanceWindow::default();
    let mut seconds = |name: &str| -> Option<Duration> {
        let text = lookup(name).filter(|v| !v.trim().is_empty())?;
        match text.trim().parse::<u64>() {
            Ok(n) => Some(Duration::from_secs(n)),
            Err(_) => {
                problems.push(format!(
                    "{name}: {text:?} must be a whole number of seconds"
                ));
                None
            }
        }
    };
    if let Some(d) = seconds(env::EVENT_MAX_AGE_SECONDS) {
        window.max_age = d;
    }
    if let Some(d) = seconds(env::EVENT_MAX_FUTURE_SECONDS) {
        window.max_future = d;
    }
    window
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("bucket", &self.bucket)
            .field("service_name", &self.service_name)
            .field("log_level", &self.log_level)
            .field("s3_endpoint", &self.s3_endpoint)
            .field("s3_force_path_style", &self.s3_force_path_style)
            .field("storage_retry", &self.storage_retry)
            .field("acceptance_window", &self.acceptance_window)
            .finish_non_exhaustive()
    }
}

/// Every problem found in the environment, one per line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration:\n  {}", .problems.join("\n  "))]
pub struct ConfigError {
    /// `NAME: what is wrong`, one per variable.
    pub problems: Vec<String>,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads variables through `lookup` (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut problems = Vec::new();
        let mut required = |name: &str| match lookup(name).filter(|v| !v.trim().is_empty()) {
            Some(v) => Some(v),
            None => {
                problems.push(format!("{name}: is required"));
                None
            }
        };
        let bucket = required(env::S3_BUCKET);
        let service_name = required(env::SERVICE_NAME);
        let log_level = required(env::LOG_LEVEL);
        let index_key = required(env::INDEX_HASH_KEY);
        let bucket = bucket.and_then(|b| {
            BucketName::parse(&b)
                .map_err(|m| problems.push(format!("{}: {m}", env::S3_BUCKET)))
                .ok()
        });
        let log_level = log_level.and_then(|l| {
            tracing_subscriber::EnvFilter::try_new(&l)
                .map(|_| l.clone())
                .map_err(|e| {
                    problems.push(format!(
                        "{}: {l:?} is not a tracing filter ({e})",
                        env::LOG_LEVEL
                    ))
                })
                .ok()
        });
        let signing_key = lookup(env::TOKEN_SIGNING_KEY).and_then(|k| {
            if k.len() >= MIN_SIGNING_KEY_LEN {
                Some(k)
            } else {
                problems.push(format!(
                    "{}: must be at least {MIN_SIGNING_KEY_LEN} bytes, got {}",
                    env::TOKEN_SIGNING_KEY,
                    k.len()
                ));
                None
            }
        });
        let index_key = index_key.and_then(|k| {
            IndexKey::new(k.into_bytes())
                .map_err(|e| problems.push(format!("{}: {e}", env::INDEX_HASH_KEY)))
                .ok()
        });
        let s3_endpoint = lookup(env::S3_ENDPOINT).filter(|v| !v.is_empty());
        if let Some(e) = &s3_endpoint
            && !(e.starts_with("http://") || e.starts_with("https://"))
        {
            problems.push(format!(
                "{}: {e:?} must start with http:// or https://",
                env::S3_ENDPOINT
            ));
        }
        let s3_force_path_style = match lookup(env::S3_FORCE_PATH_STYLE).as_deref() {
            None | Some("") | Some("false") | Some("0") => false,
            Some("true") | Some("1") => true,
            Some(other) => {
                problems.push(format!(
                    "{}: {other:?} must be true or false",
                    env::S3_FORCE_PATH_STYLE
                ));
                false
            }
        };
        let storage_retry = StorageRetryPolicy::from_lookup(&lookup, &mut problems);
        let acceptance_window = acceptance_window_from_lookup(&lookup, &mut problems);
        match (bucket, service_name, log_level, index_key) {
            (Some(bucket), Some(service_name), Some(log_level), Some(index_key))
                if problems.is_empty() =>
            {
                Ok(Config {
                    bucket,
                    index_key,
                    service_name,
                    log_level,
                    s3_endpoint,
                    s3_force_path_style,
                    token_signer: signing_key.map(|k| TokenSigner::new(k.into_bytes())),
                    storage_retry,
                    acceptance_window,
                })
            }
            _ => Err(ConfigError { problems }),
        }
    }

    /// The continuation-token signer, or the error to fail a cold start with.
    pub fn require_token_signer(&self) -> Result<TokenSigner, ConfigError> {
        self.token_signer.clone().ok_or_else(|| ConfigError {
            problems: vec![format!("{}: is required", env::TOKEN_SIGNING_KEY)],
        })
    }

    /// Builds the S3 client and the store: on `lambda_s3_config` when the environment holds
    /// credentials and a region (a Lambda function's does), else on [`sdk_config`]; then
    /// [`s3_client`]'s settings.
    ///
    /// The storer and retriever call this on their first request, not at init. Built on a
    /// task started at init, it overlapped only the rest of init and competed with init's
    /// path to the first `invocation/next` for the CPU. In one `bench_init` run
    /// (callflow-dev), init plus first invocation came out about the same either way (storer
    /// 1.34x the floor's both ways, retriever 1.27x on a task, 1.37x on the first request) and
    /// Init Duration shorter this way (1.26x to 1.10x, 1.19x to 1.11x).
    pub async fn event_store(&self) -> EventStore {
        let aws = AwsEnvironment::from_process();
        let client = match lambda_s3_config(&aws) {
            Some(base) => s3_client_from(base, self),
            None => s3_client(&shared_sdk_config(&aws).await, self),
        };
        EventStore::new(client, self.bucket.clone(), self.index_key.clone())
            .with_retry_policy(&self.storage_retry)
    }
}

/// What the environment says of the SDK's credentials and region: Lambda sets the role's
/// credentials (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`) and the
/// region (`AWS_REGION`) for every function, and `callflow dev` does the same.
struct AwsEnvironment {
    /// An access key id and a secret key are both set (and not empty).
    credentials: bool,
    /// `AWS_REGION`, else `AWS_DEFAULT_REGION`, as the default chain reads them.
    region: Option<String>,
}

impl AwsEnvironment {
    fn from_process() -> Self {
        Self::read(&|name| std::env::var(name).ok())
    }

    fn read(var: &dyn Fn(&str) -> Option<String>) -> Self {
        let set = |name: &str| var(name).filter(|v| !v.is_empty());
        Self {
            credentials: set("AWS_ACCESS_KEY_ID").is_some()
                && set("AWS_SECRET_ACCESS_KEY").is_some(),
            region: set("AWS_REGION").or_else(|| set("AWS_DEFAULT_REGION")),
        }
    }
}

/// The S3 configuration of a Lambda function, from its environment's credentials and region;
/// `None` when either is missing (then [`sdk_config`] applies).
///
/// A function has no profile file, so this skips the shared loader
/// ([`aws_config::defaults`]), which still looks for `~/.aws/config` and `~/.aws/credentials`
/// to resolve every other setting through environment and profile: about 0.1 ms of a cold
/// storer's first request (`bench_init`, 1.22 → 1.10 ms median, two runs); the rest is
/// building the client itself.
fn lambda_s3_config(aws: &AwsEnvironment) -> Option<aws_sdk_s3::config::Builder> {
    use aws_config::environment::EnvironmentVariableCredentialsProvider;
    let region = aws.region.clone().filter(|_| aws.credentials)?;
    Some(
        aws_sdk_s3::config::Builder::new()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(region))
            .credentials_provider(EnvironmentVariableCredentialsProvider::new()),
    )
}

/// The shared SDK configuration (credentials, region, profile settings).
///
/// The default chain would find credentials and region in the environment too, but building
/// it also builds the clients of its later links (IMDS, and with it an HTTPS connector that
/// loads every root certificate of the platform) before any is asked; whichever of the two
/// the environment holds is used directly. Otherwise the default chain applies, as before.
pub async fn sdk_config() -> aws_config::SdkConfig {
    shared_sdk_config(&AwsEnvironment::from_process()).await
}

async fn shared_sdk_config(aws: &AwsEnvironment) -> aws_config::SdkConfig {
    use aws_config::environment::EnvironmentVariableCredentialsProvider;
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if aws.credentials {
        loader = loader.credentials_provider(EnvironmentVariableCredentialsProvider::new());
    }
    if let Some(region) = &aws.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    loader.load().await
}

/// An S3 client for `config`'s endpoint and addressing style, over
/// [`s3_http_client`](crate::s3_http::s3_http_client) (no TLS for an `http://` endpoint, the
/// platform's CA bundle for HTTPS).
pub fn s3_client(shared: &aws_config::SdkConfig, config: &Config) -> aws_sdk_s3::Client {
    s3_client_from(aws_sdk_s3::config::Builder::from(shared), config)
}

/// [`s3_client`] on top of `base` (the shared configuration, or [`lambda_s3_config`]).
fn s3_client_from(base: aws_sdk_s3::config::Builder, config: &Config) -> aws_sdk_s3::Client {
    let mut b = config.storage_retry.apply(
        base.force_path_style(config.s3_force_path_style)
            .http_client(crate::s3_http::s3_http_client(
                config.s3_endpoint.as_deref(),
            )),
    );
    if let Some(endpoint) = &config.s3_endpoint {
        b = b.endpoint_url(endpoint);
    }
    aws_sdk_s3::Client::from_conf(b.build())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn lambda_s3_config_needs_credentials_and_region_from_the_environment() {
        let config_of =
            |vars: &[(&str, &str)]| lambda_s3_config(&AwsEnvironment::read(&lookup(vars)));
        let full = [
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_REGION", "eu-west-1"),
        ];
        let config = config_of(&full).expect("all set").build();
        assert_eq!(config.region().map(|r| r.as_ref()), Some("eu-west-1"));
        // AWS_DEFAULT_REGION stands in for AWS_REGION, as in the default chain.
        let default_region = [full[0], full[1], ("AWS_DEFAULT_REGION", "us-east-2")];
        let config = config_of(&default_region).expect("default region").build();
        assert_eq!(config.region().map(|r| r.as_ref()), Some("us-east-2"));
        // Anything missing or empty: the shared loader decides instead.
        for missing in 0..full.len() {
            let partial: Vec<_> = full
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != missing)
                .map(|(_, kv)| *kv)
                .collect();
            assert!(config_of(&partial).is_none(), "{missing}");
        }
        let empty_secret = [full[0], ("AWS_SECRET_ACCESS_KEY", ""), full[2]];
        assert!(config_of(&empty_secret).is_none());
        // That requests are signed with the variables' credentials is shown end to end by the
        // process-mode tests of callflow-dev (handler binaries storing through the embedded
        // store with the credentials `callflow dev` hands them): an S3 client without an
        // identity resolver fails every request there.
    }

    const INDEX_KEY: &str = "index-key-of-the-tests-32-bytes!";

    #[test]
    fn a_complete_environment() {
        let c = Config::from_lookup(lookup(&[
            ("S3_BUCKET", "callflow-events"),
            ("SERVICE_NAME", "callflow"),
            ("LOG_LEVEL", "info"),
            ("TOKEN_SIGNING_KEY", &"k".repeat(32)),
            ("INDEX_HASH_KEY", &"i".repeat(32)),
            ("S3_ENDPOINT", "http://127.0.0.1:9000"),
            ("S3_FORCE_PATH_STYLE", "true"),
        ]))
        .unwrap();
        assert_eq!(c.bucket.as_str(), "callflow-events");
        assert!(c.s3_force_path_style);
        assert!(c.require_token_signer().is_ok());
        assert!(!format!("{c:?}").contains("kkkk"), "the key is not logged");
        assert!(
            !format!("{c:?}").contains("iiii"),
            "the index key is not logged"
        );
    }

    #[test]
    fn every_problem_is_reported() {
        let err = Config::from_lookup(lookup(&[
            ("S3_BUCKET", "Bad_Bucket"),
            ("LOG_LEVEL", "info,[[["),
            ("TOKEN_SIGNING_KEY", "short"),
            ("INDEX_HASH_KEY", "short"),
            ("S3_ENDPOINT", "localhost:9000"),
            ("S3_FORCE_PATH_STYLE", "yes"),
        ]))
        .unwrap_err();
        let text = err.to_string();
        for var in [
            "S3_BUCKET",
            "SERVICE_NAME",
            "LOG_LEVEL",
            "TOKEN_SIGNING_KEY",
            "INDEX_HASH_KEY: must be at least 32 bytes",
            "S3_ENDPOINT",
            "S3_FORCE_PATH_STYLE",
        ] {
            assert!(text.contains(var), "{var} missing from {text}");
        }
        assert_eq!(err.problems.len(), 7);
    }

    #[test]
    fn the_storage_retry_policy_has_documented_defaults_and_overrides() {
        let base = [
            ("S3_BUCKET", "events"),
            ("SERVICE_NAME", "callflow"),
            ("LOG_LEVEL", "info"),
            ("INDEX_HASH_KEY", INDEX_KEY),
        ];
        let c = Config::from_lookup(lookup(&base)).unwrap();
        assert_eq!(c.storage_retry, StorageRetryPolicy::default());
        assert_eq!(c.storage_retry.retry_config().max_attempts(), 4);
        let timeouts = c.storage_retry.timeout_config();
        assert_eq!(
            timeouts.operation_attempt_timeout(),
            Some(Duration::from_secs(2))
        );
        let mut vars = base.to_vec();
        vars.extend([("S3_MAX_ATTEMPTS", "7"), ("S3_ATTEMPT_TIMEOUT_MS", "250")]);
        let c = Config::from_lookup(lookup(&vars)).unwrap();
        assert_eq!(c.storage_retry.max_attempts, 7);
        assert_eq!(c.storage_retry.attempt_timeout, Duration::from_millis(250));
        vars.push(("S3_OPERATION_TIMEOUT_MS", "soon"));
        vars.push(("S3_MAX_ATTEMPTS", "0"));
        let err = Config::from_lookup(lookup(&vars)).unwrap_err();
        assert_eq!(err.problems.len(), 2, "{err}");
    }

    #[test]
    fn the_signing_key_is_optional_until_required() {
        let c = Config::from_lookup(lookup(&[
            ("S3_BUCKET", "events"),
            ("SERVICE_NAME", "callflow"),
            ("LOG_LEVEL", "info"),
            ("INDEX_HASH_KEY", INDEX_KEY),
        ]))
        .unwrap();
        assert!(!c.s3_force_path_style);
        let err = c.require_token_signer().unwrap_err();
        assert!(err.to_string().contains("TOKEN_SIGNING_KEY: is required"));
    }

    #[test]
    fn the_acceptance_window_has_defaults_and_overrides() {
        let base = [
            ("S3_BUCKET", "events"),
            ("SERVICE_NAME", "callflow"),
            ("LOG_LEVEL", "info"),
            ("INDEX_HASH_KEY", INDEX_KEY),
        ];
        let c = Config::from_lookup(lookup(&base)).unwrap();
        assert_eq!(c.acceptance_window, AcceptanceWindow::default());
        let mut vars = base.to_vec();
        vars.extend([
            ("EVENT_MAX_AGE_SECONDS", "3600"),
            ("EVENT_MAX_FUTURE_SECONDS", "0"),
        ]);
        let c = Config::from_lookup(lookup(&vars)).unwrap();
        assert_eq!(c.acceptance_window.max_age, Duration::from_secs(3600));
        assert_eq!(c.acceptance_window.max_future, Duration::ZERO);
        vars.push(("EVENT_MAX_AGE_SECONDS", "two weeks"));
        let err = Config::from_lookup(lookup(&vars)).unwrap_err();
        assert!(err.to_string().contains("EVENT_MAX_AGE_SECONDS"), "{err}");
    }

    /// The storer and the retriever read exactly the variables `callflow_deployment` lists for
    /// them (the list the stack sets), and the stack-set ones alone configure them.
    #[test]
    fn reads_only_the_variables_the_deployment_lists() {
        use callflow_deployment::{Handler, SetBy};
        use std::cell::RefCell;
        let value = |name: &str| match name {
            env::S3_BUCKET => "callflow-events".to_owned(),
            env::SERVICE_NAME => "callflow".to_owned(),
            env::LOG_LEVEL => "info".to_owned(),
            env::TOKEN_SIGNING_KEY | env::INDEX_HASH_KEY => "k".repeat(32),
            env::EVENT_MAX_AGE_SECONDS | env::EVENT_MAX_FUTURE_SECONDS => "60".to_owned(),
            _ => String::new(),
        };
        for handler in [Handler::EventStorer, Handler::EventRetriever] {
            let listed = handler.environment();
            let asked = RefCell::new(Vec::<String>::new());
            let config = Config::from_lookup(|name| {
                asked.borrow_mut().push(name.to_owned());
                listed
                    .iter()
                    .find(|v| v.name == name && v.set_by == SetBy::Stack)
                    .map(|v| value(v.name))
            });
            assert!(config.is_ok(), "{handler:?}: {config:?}");
            // The shared Config also asks for the other handler's variables; each must be
            // listed for one of the two.
            for name in asked.into_inner() {
                let known = [Handler::EventStorer, Handler::EventRetriever]
                    .iter()
                    .any(|h| h.environment().iter().any(|v| v.name == name));
                assert!(
                    known,
                    "{name} is read but not listed in callflow_deployment"
                );
            }
        }
    }
}
