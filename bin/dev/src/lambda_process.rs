//! Process mode: the real handler binaries as Lambda execution environments behind a local
//! Runtime API ([`callflow_lambda_rt`]), each function configured from the synthesized stack
//! (`cdktf.out/`): memory, timeout, reserved concurrency and environment variables, with only
//! what must differ locally replaced (bucket, S3 endpoint and credentials, JWKS location and
//! token issuer, continuation-token key).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerRequest, ApiGatewayCustomAuthorizerResponse, ApiGatewayProxyRequest,
    ApiGatewayProxyResponse,
};
use callflow_deployment::env;
use callflow_lambda_rt::{
    FunctionConfig, FunctionName, FunctionPool, InvalidFunctionName, InvokeError, LogSink,
    StderrLogSink,
};
use callflow_openapi::LambdaName;
use hyper::body::Bytes;

use crate::authorize::{AuthorizerFailure, TokenAuthorizer};
use crate::handler_binaries::BinaryDir;
use crate::integration::{Integration, IntegrationError};
use crate::local_auth::{DEV_AUDIENCE, DEV_ISSUER};
use crate::stack_functions::{
    LocalOverrides, ResolvedVariable, StackError, StackFunctions, ValueSource,
};
use crate::storage::{DEV_BUCKET, StorageChoice};

/// The crate of the TOKEN authorizer function.
pub const AUTHORIZER_ARTIFACT: &str = "callflow-authorizer";

/// Credentials and settings passed on from `callflow dev`'s own environment to the handler
/// processes when they talk to a real or external S3 (Lambda would give them its role's).
const PASS_THROUGH: [&str; 8] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_EC2_METADATA_DISABLED",
    "HOME",
];

/// How process mode runs the functions.
#[derive(Clone)]
pub struct ProcessOptions {
    /// The synth output (`cdktf.out`).
    pub synth_dir: PathBuf,
    /// The stack to read (`None`: the only one).
    pub stack: Option<String>,
    /// Where the handler executables are.
    pub binaries: BinaryDir,
    /// Executables to run instead of `binaries`' for some artifacts (crate name → path).
    pub executables: BTreeMap<String, PathBuf>,
    /// Environments per function at most. Default (`None`): the function's reserved
    /// concurrency from the stack, else 10.
    pub max_environments: Option<NonZeroUsize>,
    /// How long an idle environment lives. Default: 5 minutes.
    pub idle_timeout: Duration,
    /// Where the functions' output and START/END/REPORT lines go. Default: stderr.
    pub log_sink: Arc<dyn LogSink>,
    /// The functions' `LOG_LEVEL` (the stack's `var.log_level`, set at plan time on AWS).
    /// Default (`None`): the variable's default.
    pub log_level: Option<String>,
}

impl std::fmt::Debug for ProcessOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessOptions")
            .field("synth_dir", &self.synth_dir)
            .field("stack", &self.stack)
            .field("binaries", &self.binaries)
            .field("max_environments", &self.max_environments)
            .finish_non_exhaustive()
    }
}

impl ProcessOptions {
    /// The stack of `synth_dir`, executables in `binaries`, the defaults listed on each field.
    pub fn new(synth_dir: impl Into<PathBuf>, binaries: BinaryDir) -> Self {
        Self {
            synth_dir: synth_dir.into(),
            stack: None,
            binaries,
            executables: BTreeMap::new(),
            max_environments: None,
            idle_timeout: Duration::from_secs(300),
            log_sink: Arc::new(StderrLogSink),
            log_level: None,
        }
    }
}

/// How `callflow dev` runs the Lambda integrations and the authorizer.
#[derive(Debug, Clone, Default)]
pub enum LambdaMode {
    /// The handler functions called in this process.
    #[default]
    InProcess,
    /// The real handler binaries as processes behind a local Runtime API.
    Process(ProcessOptions),
}

/// Process mode could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The synthesized stack.
    #[error(transparent)]
    Stack(#[from] StackError),
    /// The stack has no function deployed from this crate.
    #[error("{path}: no aws_lambda_function deploys {artifact}/bootstrap.zip")]
    NoFunction {
        /// The stack file.
        path: PathBuf,
        /// The crate.
        artifact: String,
    },
    /// A function name Lambda would refuse.
    #[error(transparent)]
    Name(#[from] InvalidFunctionName),
    /// An executable is missing.
    #[error("{path} does not exist; build it with `{command}`")]
    Executable {
        /// The path.
        path: PathBuf,
        /// The command that builds it.
        command: String,
    },
}

/// What a function process receives, and where each value came from.
#[derive(Debug, Clone)]
pub struct FunctionEnvironment {
    /// The function.
    pub function: FunctionName,
    /// Its crate.
    pub artifact: String,
    /// The executable.
    pub executable: PathBuf,
    /// Its own variables (Lambda's are added by the runtime crate).
    pub variables: BTreeMap<String, ResolvedVariable>,
}

/// The running functions of process mode.
pub struct ProcessLambdas {
    authorizer: FunctionPool,
    handlers: HashMap<LambdaName, FunctionPool>,
    environments: Vec<FunctionEnvironment>,
}

impl std::fmt::Debug for ProcessLambdas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessLambdas")
            .field("authorizer", &self.authorizer)
            .field("handlers", &self.handlers)
            .finish_non_exhaustive()
    }
}

impl ProcessLambdas {
    /// Reads the stack and creates one pool per function (no process starts before its
    /// first invocation). Must run inside a Tokio runtime.
    pub fn start(
        options: &ProcessOptions,
        overrides: &LocalOverrides,
    ) -> Result<Self, ProcessError> {
        let stack = StackFunctions::load(&options.synth_dir, options.stack.as_deref())?;
        let mut overrides = overrides.clone();
        if let Some(level) = &options.log_level {
            overrides
                .replace
                .insert(env::LOG_LEVEL.to_owned(), level.clone());
        }
        let overrides = &overrides;
        let mut environments = Vec::new();
        let mut pool = |artifact: &str| -> Result<FunctionPool, ProcessError> {
            let (config, environment) = function_config(&stack, artifact, options, overrides)?;
            environments.push(environment);
            Ok(FunctionPool::new(config, Arc::clone(&options.log_sink)))
        };
        let authorizer = pool(AUTHORIZER_ARTIFACT)?;
        let mut handlers = HashMap::new();
        for lambda in LambdaName::ALL {
            handlers.insert(lambda, pool(lambda.binary_name())?);
        }
        Ok(Self {
            authorizer,
            handlers,
            environments,
        })
    }

    /// The authorizer's pool.
    pub fn authorizer(&self) -> &FunctionPool {
        &self.authorizer
    }

    /// A handler's pool.
    pub fn handler(&self, lambda: LambdaName) -> Option<&FunctionPool> {
        self.handlers.get(&lambda)
    }

    /// What each function process receives.
    pub fn environments(&self) -> &[FunctionEnvironment] {
        &self.environments
    }

    /// The start-up lines: each function, its limits and its variables with their origin
    /// (secrets masked).
    pub fn describe(&self) -> String {
        let mut out = String::new();
        let pools = std::iter::once(&self.authorizer)
            .chain(LambdaName::ALL.iter().filter_map(|l| self.handlers.get(l)));
        for (pool, environment) in pools.zip(&self.environments) {
            let c = pool.config();
            let _ = writeln!(
                out,
                "  function {} ({}, {} MB, timeout {} s, up to {} environments, idle stop after {} s)",
                c.name,
                environment.executable.display(),
                c.memory_mb,
                c.timeout.as_secs(),
                c.max_environments,
                c.idle_timeout.as_secs()
            );
            for (name, variable) in &environment.variables {
                let value = if variable.sensitive {
                    "****"
                } else {
                    variable.value.as_str()
                };
                let origin = match &variable.source {
                    ValueSource::Stack => "stack".to_owned(),
                    ValueSource::VariableDefault(v) => format!("stack, default of var.{v}"),
                    ValueSource::Local { stack_value } => format!("local; stack has {stack_value}"),
                    ValueSource::LocalOnly => "local only".to_owned(),
                };
                let _ = writeln!(out, "    {name}={value}  ({origin})");
            }
        }
        out
    }

    /// Stops every environment.
    pub async fn shutdown(&self) {
        self.authorizer.shutdown().await;
        for pool in self.handlers.values() {
            pool.shutdown().await;
        }
    }
}

fn function_config(
    stack: &StackFunctions,
    artifact: &str,
    options: &ProcessOptions,
    overrides: &LocalOverrides,
) -> Result<(FunctionConfig, FunctionEnvironment), ProcessError> {
    let function = stack
        .by_artifact(artifact)
        .ok_or_else(|| ProcessError::NoFunction {
            path: stack.path.clone(),
            artifact: artifact.to_owned(),
        })?;
    let variables = stack.environment(function, overrides)?;
    let executable = options
        .executables
        .get(artifact)
        .cloned()
        .unwrap_or_else(|| options.binaries.executable(artifact));
    if !executable.is_file() {
        return Err(ProcessError::Executable {
            command: options.binaries.build_command(&[artifact]),
            path: executable,
        });
    }
    let name = FunctionName::parse(&function.function_name)?;
    let mut config = FunctionConfig::new(name.clone(), &executable);
    config.environment = variables
        .iter()
        .map(|(k, v)| (k.clone(), v.value.clone()))
        .collect();
    config.memory_mb = function.memory_mb;
    config.timeout = function.timeout;
    config.handler = function.handler.clone();
    config.idle_timeout = options.idle_timeout;
    if let Some(region) = &stack.region {
        config.region = region.clone();
    }
    config.max_environments = options
        .max_environments
        .or_else(|| function.reserved_concurrency.and_then(NonZeroUsize::new))
        .unwrap_or(config.max_environments);
    Ok((
        config,
        FunctionEnvironment {
            function: name,
            artifact: artifact.to_owned(),
            executable,
            variables,
        },
    ))
}

/// What the handler processes need to differ from the stack locally.
#[derive(Debug, Clone)]
pub struct LocalValues {
    /// The store in use.
    pub storage: StorageChoice,
    /// The embedded store's endpoint and credentials, when it is the one in use.
    pub embedded: Option<EmbeddedEndpoint>,
    /// The local JWKS URL the authorizer fetches keys from.
    pub jwks_url: String,
    /// The data directory's continuation-token key.
    pub token_signing_key: String,
    /// The data directory's by-type index key.
    pub index_hash_key: String,
    /// The storer's acceptance window, when `callflow dev` was told one (else the stack's).
    pub acceptance_window: Option<callflow_core::AcceptanceWindow>,
}

/// The embedded store as an S3 endpoint.
#[derive(Debug, Clone)]
pub struct EmbeddedEndpoint {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Its access key id.
    pub access_key: String,
    /// Its secret key.
    pub secret_key: String,
}

impl LocalValues {
    /// The overrides: the bucket, token key, JWKS URL, issuer and audience replace the
    /// stack's values; the S3 endpoint, path-style addressing and credentials are added.
    pub fn overrides(&self) -> LocalOverrides {
        let bucket = match &self.storage {
            StorageChoice::Embedded => DEV_BUCKET.to_owned(),
            StorageChoice::Endpoint { bucket, .. } | StorageChoice::Aws { bucket } => {
                bucket.as_str().to_owned()
            }
        };
        let pairs = |list: &[(&str, &str)]| -> BTreeMap<String, String> {
            list.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let mut replace = pairs(&[
            (env::S3_BUCKET, &bucket),
            (env::TOKEN_SIGNING_KEY, &self.token_signing_key),
            (env::INDEX_HASH_KEY, &self.index_hash_key),
            (env::JWKS_URL, &self.jwks_url),
            (env::JWT_ISSUER, DEV_ISSUER),
            (env::JWT_AUDIENCE, DEV_AUDIENCE),
        ]);
        if let Some(window) = self.acceptance_window {
            replace.insert(
                env::EVENT_MAX_AGE_SECONDS.to_owned(),
                window.max_age.as_secs().to_string(),
            );
            replace.insert(
                env::EVENT_MAX_FUTURE_SECONDS.to_owned(),
                window.max_future.as_secs().to_string(),
            );
        }
        let mut add = BTreeMap::new();
        match (&self.storage, &self.embedded) {
            (StorageChoice::Embedded, Some(store)) => {
                add = pairs(&[
                    (env::S3_ENDPOINT, &store.url),
                    (env::S3_FORCE_PATH_STYLE, "true"),
                    ("AWS_ACCESS_KEY_ID", &store.access_key),
                    ("AWS_SECRET_ACCESS_KEY", &store.secret_key),
                    ("AWS_EC2_METADATA_DISABLED", "true"),
                ]);
            }
            (storage, _) => {
                if let StorageChoice::Endpoint { url, .. } = storage {
                    add = pairs(&[(env::S3_ENDPOINT, url), (env::S3_FORCE_PATH_STYLE, "true")]);
                }
                for name in PASS_THROUGH {
                    if let Ok(value) = std::env::var(name) {
                        add.insert(name.to_owned(), value);
                    }
                }
            }
        }
        LocalOverrides { replace, add }
    }
}

/// A Lambda proxy integration served by a function's processes.
pub struct ProcessIntegration(pub FunctionPool);

#[async_trait]
impl Integration for ProcessIntegration {
    async fn invoke(&self, event: ApiGatewayProxyRequest) -> ApiGatewayProxyResponse {
        // Status 0 is not a proxy response: the stage answers 502 for it.
        self.call(event).await.unwrap_or_default()
    }

    async fn call(
        &self,
        event: ApiGatewayProxyRequest,
    ) -> Result<ApiGatewayProxyResponse, IntegrationError> {
        let payload = proxy_event_json(event)
            .map_err(|e| IntegrationError::Failed(format!("event not serializable: {e}")))?;
        match self.0.invoke(Bytes::from(payload)).await {
            Ok(body) => serde_json::from_slice(&body).map_err(|e| {
                IntegrationError::Failed(format!("malformed Lambda proxy response: {e}"))
            }),
            Err(error @ InvokeError::Throttled { .. }) => {
                Err(IntegrationError::Rejected(error.to_string()))
            }
            Err(error) => Err(IntegrationError::Failed(error.to_string())),
        }
    }
}

/// The TOKEN authorizer served by its function's processes. A function error whose
/// `errorMessage` is `Unauthorized` is API Gateway's 401; any other failure its 500.
pub struct ProcessAuthorizer(pub FunctionPool);

#[async_trait]
impl TokenAuthorizer for ProcessAuthorizer {
    async fn authorize(
        &self,
        request: ApiGatewayCustomAuthorizerRequest,
    ) -> Result<ApiGatewayCustomAuthorizerResponse, AuthorizerFailure> {
        let payload = serde_json::to_vec(&request)
            .map_err(|e| AuthorizerFailure::Error(format!("event not serializable: {e}")))?;
        match self.0.invoke(Bytes::from(payload)).await {
            Ok(body) => serde_json::from_slice(&body).map_err(|e| {
                AuthorizerFailure::Error(format!("malformed authorizer response: {e}"))
            }),
            Err(InvokeError::Function(document)) if document.error_message == "Unauthorized" => {
                Err(AuthorizerFailure::Unauthorized)
            }
            Err(error) => Err(AuthorizerFailure::Error(error.to_string())),
        }
    }
}

/// The proxy event as JSON for the function. Header values that are not UTF-8 (HTTP allows
/// obs-text bytes) go as ISO-8859-1 text, one character per byte, as API Gateway passes them;
/// the event types cannot serialize such a value themselves, and the handler then sees a
/// non-ASCII value just as it does behind API Gateway.
fn proxy_event_json(mut event: ApiGatewayProxyRequest) -> Result<Vec<u8>, serde_json::Error> {
    for headers in [&mut event.headers, &mut event.multi_value_headers] {
        for value in headers.values_mut() {
            if std::str::from_utf8(value.as_bytes()).is_err() {
                let latin1: String = value.as_bytes().iter().map(|&b| char::from(b)).collect();
                if let Ok(text) = hyper::header::HeaderValue::from_bytes(latin1.as_bytes()) {
                    *value = text;
                }
            }
        }
    }
    serde_json::to_vec(&event)
}

#[cfg(test)]
mod proxy_event_tests {
    use super::*;

    #[test]
    fn obs_text_header_values_serialize_as_latin1() {
        let mut event = ApiGatewayProxyRequest::default();
        let raw = hyper::header::HeaderValue::from_bytes(b"caf\xe9").expect("obs-text value");
        event.headers.insert("idempotency-key", raw.clone());
        event.multi_value_headers.insert("idempotency-key", raw);
        assert!(
            serde_json::to_vec(&event).is_err(),
            "the event types refuse it"
        );
        let json: serde_json::Value =
            serde_json::from_slice(&proxy_event_json(event).expect("serializes")).expect("JSON");
        assert_eq!(json["headers"]["idempotency-key"], "caf\u{e9}");
        assert_eq!(json["multiValueHeaders"]["idempotency-key"][0], "caf\u{e9}");
    }
}
