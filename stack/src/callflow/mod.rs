//! The Callflow service's infrastructure, as constructs that read like the architecture diagram:
//! an encrypted events bucket, three handler functions, a REST API from the OpenAPI contract with
//! a TOKEN authorizer, an optional custom domain, and alarms plus a dashboard.

mod api;
mod bucket;
mod domain;
mod function;
mod names;
mod observability;

pub use api::{API_KEY_SOURCE, Api, ApiProps};
pub use bucket::{EventsBucket, EventsBucketProps, EventsKey, EventsKeyProps};
// The typed `callflow.toml`: crate `callflow-config`, which `callflow dev` reads too.
pub use callflow_config::{
    AcceptanceWindowConfig, AlarmConfig, AppConfig, CallflowConfig, ConfigError,
    DEFAULT_USAGE_PLAN, DomainConfig, JwtConfig, StateConfig, ThrottlingConfig, UsageClient,
    UsagePlanConfig, UsagePlanLimits, UsagePlanTier,
};
// The stage's name and access-log format: crate `callflow-deployment`, which `callflow dev`
// serves the same from.
pub use callflow_deployment::stage::{ACCESS_LOG_FORMAT, STAGE_NAME};
pub use domain::CustomDomain;
pub use function::{FunctionKind, HandlerFunction, HandlerFunctionProps};
pub use names::Account;
pub use observability::{
    AUTHORIZER_DENIAL_PATTERN, AUTHORIZER_DENIALS_METRIC, METRICS_NAMESPACE, Observability,
    ObservabilityProps,
};

use callflow_deployment::env;

use crate::aws::AwsProvider;
use crate::aws::provider::AwsProviderDefaultTags;
use crate::dsl::{App, Output, Provider, S3AssumeRole, S3Backend, Stack, Tf, Variable};

/// The hashicorp/aws provider version constraint the stack is written against: the one the
/// bindings were generated for (`version` of the aws `[[providers]]` in `callflow.toml`),
/// which declaring the provider requires.
pub const AWS_PROVIDER_VERSION: &str = match AwsProvider::VERSION {
    Some(version) => version,
    None => "",
};

/// The contract's idempotency window (taken out of the document at build time, so reading it
/// parses one number).
fn idempotency_window_days() -> Result<u32, String> {
    callflow_openapi::idempotency_window_days().map_err(|e| e.to_string())
}

/// The S3 backend of `[state]`: encrypted and locked with an S3 lock file unless the
/// configuration turns either off.
fn s3_backend(state: &StateConfig) -> S3Backend {
    let mut backend = S3Backend::new(state.bucket.as_str(), state.key.as_str())
        .region(state.region.as_str())
        .encrypt(state.encrypt)
        .use_lockfile(state.use_lockfile);
    backend.kms_key_id = state.kms_key_id.clone();
    backend.workspace_key_prefix = state.workspace_key_prefix.clone();
    backend.profile = state.profile.clone();
    backend.assume_role = state.role_arn.as_deref().map(S3AssumeRole::new);
    backend
}

/// Builds the Callflow stack for one environment.
pub fn callflow_stack(config: &CallflowConfig) -> Stack {
    let mut stack = Stack::new(&config.stack_name);
    // The default aws configuration (and with it `required_providers.aws`: hashicorp/aws at
    // AWS_PROVIDER_VERSION). Every resource carries these tags.
    stack.add_provider(
        AwsProvider::new()
            .set_region(config.region.as_str())
            .set_default_tags(vec![AwsProviderDefaultTags::new().set_tags(Tf::from([
                ("Service", config.service.as_str()),
                ("Environment", config.environment.as_str()),
                ("ManagedBy", "callflow-stack"),
            ]))]),
    );
    if let Some(state) = &config.state {
        stack.backend(s3_backend(state));
    }

    let log_level = stack.variable(
        "log_level",
        Variable {
            type_constraint: "string".into(),
            description: Some(
                "LOG_LEVEL of the handler functions (trace, debug, info, warn, error).".into(),
            ),
            default: Some(config.log_level.clone().into()),
            sensitive: false,
        },
    );
    let token_signing_key = stack.variable(
        "token_signing_key",
        Variable {
            type_constraint: "string".into(),
            description: Some(
                "HMAC key (32+ random bytes, base64) that signs pagination continuation tokens; \
                 stored encrypted with the events CMK in the retriever's environment."
                    .into(),
            ),
            default: None,
            sensitive: true,
        },
    );
    let index_hash_key = stack.variable(
        "index_hash_key",
        Variable {
            type_constraint: "string".into(),
            description: Some(
                "HMAC key (32+ random bytes, base64) of the by-type index's phone-number digests; \
                 fixed for the life of the data (changing it needs `callflow index backfill`); \
                 stored encrypted with the events CMK in the storer's and retriever's environment."
                    .into(),
            ),
            default: None,
            sensitive: true,
        },
    );

    // The handler zips built by `cargo lambda build --release --arm64 --output-format zip`,
    // relative to the stack's working directory (cdktf.out/stacks/<name>).
    let artifacts = stack.local(
        function::ARTIFACTS_LOCAL,
        serde_json::Value::String("${path.module}/../../../target/lambda".into()),
    );
    let account = Account::declare(&mut stack);
    let key = EventsKey::from_config(&mut stack, config, &account);
    // The contract's idempotency window decides how long the storer's records live.
    let idempotency_window_days = idempotency_window_days().unwrap_or_else(|e| {
        stack.record_error(crate::dsl::StackError::Invalid {
            construct: "EventsBucket".into(),
            message: format!("the idempotency window: {e}"),
        });
        1
    });
    let bucket = EventsBucket::from_config(&mut stack, config, &key, idempotency_window_days);

    let function_props = |kind: FunctionKind, environment| {
        HandlerFunctionProps::new(
            kind,
            format!("{}-{}", config.prefix(), kind.short_name()),
            environment,
        )
    };
    let common_env = |extra: &[(&str, Tf<String>)]| {
        let mut env: Vec<(String, Tf<String>)> = vec![
            (env::SERVICE_NAME.into(), config.service.clone().into()),
            (env::LOG_LEVEL.into(), log_level.clone()),
        ];
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
        env
    };
    let authorizer = HandlerFunction::new(
        &mut stack,
        function_props(
            FunctionKind::Authorizer,
            common_env(&[
                (env::JWT_ISSUER, config.jwt.issuer.clone().into()),
                (env::JWT_AUDIENCE, config.jwt.audience.clone().into()),
                (env::JWKS_URL, config.jwt.jwks_url.clone().into()),
                (
                    env::CLIENT_ID_CLAIM,
                    config.jwt.client_id_claim.clone().into(),
                ),
            ]),
        ),
        &account,
        &key,
        &artifacts,
    );
    let storer = HandlerFunction::new(
        &mut stack,
        function_props(
            FunctionKind::EventStorer,
            common_env(&[
                (env::S3_BUCKET, bucket.bucket.bucket()),
                (env::INDEX_HASH_KEY, index_hash_key.clone()),
                (
                    env::EVENT_MAX_AGE_SECONDS,
                    config.acceptance_window.max_age_seconds.to_string().into(),
                ),
                (
                    env::EVENT_MAX_FUTURE_SECONDS,
                    config
                        .acceptance_window
                        .max_future_seconds
                        .to_string()
                        .into(),
                ),
            ]),
        ),
        &account,
        &key,
        &artifacts,
    );
    let retriever = HandlerFunction::new(
        &mut stack,
        function_props(
            FunctionKind::EventRetriever,
            common_env(&[
                (env::S3_BUCKET, bucket.bucket.bucket()),
                (env::INDEX_HASH_KEY, index_hash_key),
                (env::TOKEN_SIGNING_KEY, token_signing_key),
            ]),
        ),
        &account,
        &key,
        &artifacts,
    );
    bucket.grant_write(&mut stack, &storer.role);
    bucket.grant_read(&mut stack, &storer.role);
    bucket.grant_idempotency(&mut stack, &storer.role);
    bucket.grant_read(&mut stack, &retriever.role);

    let api_props = ApiProps {
        throttling: config.throttling.clone(),
        usage_plan: config.usage_plan.clone(),
        ..ApiProps::new(config.prefix())
    };
    let api = Api::new(
        &mut stack,
        &api_props,
        &account,
        &key,
        &authorizer,
        &storer,
        &retriever,
    );
    let domain = config
        .domain
        .as_ref()
        .map(|d| CustomDomain::new(&mut stack, d, &api));
    let observability_props = ObservabilityProps {
        alarms: config.alarms.clone(),
        ..ObservabilityProps::new(config.prefix(), config.region.clone())
    };
    let observability = Observability::new(
        &mut stack,
        &observability_props,
        &account,
        &key,
        &bucket,
        &api,
        [&authorizer, &storer, &retriever],
    );

    stack.output(
        "api_url",
        Output {
            value: api.stage.invoke_url(),
            description: "Invoke URL of the v1 stage.".into(),
            sensitive: false,
        },
    );
    stack.output(
        "custom_domain_url",
        Output {
            value: match &domain {
                Some(d) => d.url(),
                None => api.stage.invoke_url(),
            },
            description: "Public URL of the API: the custom domain, or the stage URL when none is configured.".into(),
            sensitive: false,
        },
    );
    stack.output(
        "bucket_name",
        Output {
            value: bucket.bucket.bucket(),
            description: "Events bucket.".into(),
            sensitive: false,
        },
    );
    for f in [&authorizer, &storer, &retriever] {
        stack.output(
            &format!("{}_function_name", f.kind.logical_id()),
            Output {
                value: f.function.function_name(),
                description: format!("Name of the {} function.", f.kind.binary_name()),
                sensitive: false,
            },
        );
    }
    stack.output(
        "dashboard_name",
        Output {
            value: observability.dashboard_name(),
            description: "CloudWatch dashboard of the service.".into(),
            sensitive: false,
        },
    );
    stack
}

/// Renders the app of a configuration file with [`App::render_built`]: each environment's
/// stack is built and rendered on a worker and dropped, so 100 environments stay small.
pub fn render_callflow_app(
    config: &AppConfig,
) -> Result<crate::dsl::Rendered, Vec<crate::dsl::SynthError>> {
    App::render_built(&config.stacks, |c| c.stack_name.clone(), callflow_stack)
}

/// The app for a configuration file: one Callflow stack per environment in it.
pub fn callflow_app(config: &AppConfig) -> App {
    let mut app = App::new();
    for stack in &config.stacks {
        app.add_stack(callflow_stack(stack));
    }
    app
}
