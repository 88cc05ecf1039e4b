//! The typed per-environment configuration of the Callflow stack, read from `callflow.toml`.
//!
//! Structural choices (names, the custom domain, limits, alarm routing) are synth-time config,
//! because they change which resources exist. Values an operator tunes without re-synthesizing
//! are Terraform variables instead (`log_level`), documented in the README.
//!
//! The crate depends on neither the DSL nor the generated provider bindings, so `callflow dev`
//! reads the same defaults (stage throttling, the default usage plan) the stack synthesizes
//! without linking the stack. `callflow-stack` re-exports every type under
//! `callflow_stack::callflow`.
//!
//! ```
//! use callflow_config::{AppConfig, DEFAULT_USAGE_PLAN};
//! let config = AppConfig::from_toml(
//!     "environment = \"dev\"\nregion = \"eu-west-1\"\n\
//!      [jwt]\nissuer = \"https://issuer/\"\naudience = \"callflow\"\n\
//!      jwks_url = \"https://issuer/jwks.json\"\n",
//! )?;
//! let stack = &config.stacks[0];
//! assert_eq!(stack.prefix(), "callflow-dev");
//! assert_eq!(stack.throttling.burst_limit, 200);
//! assert_eq!(stack.usage_plan.plans()[0].name, DEFAULT_USAGE_PLAN);
//! # Ok::<(), callflow_config::ConfigError>(())
//! ```
#![deny(missing_docs)]

use serde::Deserialize;

/// Errors reading or checking a configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Not valid TOML for this schema.
    #[error("invalid configuration: {0}")]
    Parse(String),
    /// Values that violate documented constraints (all of them, each quoted).
    #[error("invalid configuration:\n  {}", .0.join("\n  "))]
    Invalid(Vec<String>),
}

/// One environment of the Callflow service (one stack).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CallflowConfig {
    /// Stack name: the directory under `cdktf.out/stacks/`, a Terraform identifier (see
    /// [`is_stack_name`]). Default: `callflow`.
    #[serde(default = "default_stack_name")]
    pub stack_name: String,
    /// Service name, the prefix of every physical name. Default: `callflow`.
    #[serde(default = "default_service")]
    pub service: String,
    /// Environment name, e.g. `prod`, `staging`.
    pub environment: String,
    /// AWS region.
    pub region: String,
    /// Default `LOG_LEVEL` of the functions (also a Terraform variable). Default: `info`.
    #[serde(default = "default_log_level")]
    pub log_level: String,
    /// Custom domain; when absent the domain resources are not created and the API is reached
    /// at the stage URL.
    #[serde(default)]
    pub domain: Option<DomainConfig>,
    /// JWT verification settings of the authorizer.
    pub jwt: JwtConfig,
    /// Stage-wide throttling.
    #[serde(default)]
    pub throttling: ThrottlingConfig,
    /// Per-client usage plan limits.
    #[serde(default)]
    pub usage_plan: UsagePlanConfig,
    /// Alarm thresholds and routing.
    #[serde(default)]
    pub alarms: AlarmConfig,
    /// Which event timestamps the storer accepts around receipt.
    #[serde(default)]
    pub acceptance_window: AcceptanceWindowConfig,
    /// Remote state; when absent, local state as cdktf does.
    #[serde(default)]
    pub state: Option<StateConfig>,
}

/// Custom domain settings.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DomainConfig {
    /// Fully qualified domain name of the API, e.g. `events.example.com`.
    pub name: String,
    /// Route 53 hosted zone id that holds the name.
    pub hosted_zone_id: String,
}

/// JWT verification settings.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct JwtConfig {
    /// Expected `iss`.
    pub issuer: String,
    /// Expected `aud`.
    pub audience: String,
    /// JWKS URL the authorizer fetches keys from.
    pub jwks_url: String,
    /// The claim naming the calling client (the authorizer's `CLIENT_ID_CLAIM`): its value
    /// is the `usageIdentifierKey`, i.e. the API key value of the client's usage plan. A
    /// token without it is refused (401). Default: `client_id`.
    #[serde(default = "default_client_id_claim")]
    pub client_id_claim: String,
}

fn default_client_id_claim() -> String {
    "client_id".into()
}

/// Stage throttling (API Gateway method settings `*/*`).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ThrottlingConfig {
    /// Burst limit (requests). Default: 200.
    pub burst_limit: i64,
    /// Steady rate (requests per second). Default: 100.
    pub rate_limit: f64,
}

impl ThrottlingConfig {
    /// Every violated constraint, each quoting the value.
    pub fn problems(&self) -> Vec<String> {
        if self.burst_limit < 1 || self.rate_limit <= 0.0 {
            vec![format!(
                "throttling burst {} / rate {}: both must be positive",
                self.burst_limit, self.rate_limit
            )]
        } else {
            Vec::new()
        }
    }
}

impl Default for ThrottlingConfig {
    fn default() -> Self {
        Self {
            burst_limit: 200,
            rate_limit: 100.0,
        }
    }
}

/// The storer's acceptance window of event timestamps, relative to the time of receipt
/// (the storer's `EVENT_MAX_AGE_SECONDS` / `EVENT_MAX_FUTURE_SECONDS`).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AcceptanceWindowConfig {
    /// How long before receipt an event may have happened (late or backfilled events), in
    /// seconds. Default: 1,209,600 (14 days, as CloudWatch Logs).
    pub max_age_seconds: u64,
    /// How long after receipt an event may claim to have happened (clock skew), in seconds.
    /// Default: 300 (5 minutes).
    pub max_future_seconds: u64,
}

impl Default for AcceptanceWindowConfig {
    fn default() -> Self {
        Self {
            max_age_seconds: 14 * 24 * 3600,
            max_future_seconds: 5 * 60,
        }
    }
}

/// Per-client usage plans: the default plan, optional named tiers, and the clients (one API
/// key each). API Gateway meters a request against the plan of the API key whose value is
/// the `usageIdentifierKey` the authorizer returned (the token's client claim).
///
/// ```toml
/// [usage_plan]                  # the default plan
/// burst_limit = 100
/// rate_limit = 50.0
/// quota_per_day = 1000000
///
/// [[usage_plan.tiers]]          # another plan, `<prefix>-bulk`
/// name = "bulk"
/// burst_limit = 500
/// rate_limit = 200.0
/// quota_per_day = 10000000
///
/// [[usage_plan.clients]]        # an API key whose value is the client id
/// client_id = "callflow-console-0001"
/// plan = "bulk"                 # Default: "default"
/// ```
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UsagePlanConfig {
    /// Burst per client of the default plan. Default: 100.
    pub burst_limit: i64,
    /// Rate per client of the default plan (requests per second). Default: 50.
    pub rate_limit: f64,
    /// Requests per client per day of the default plan. Default: 1,000,000.
    pub quota_per_day: i64,
    /// Further plans, each selectable by a client. Default: none.
    #[serde(default)]
    pub tiers: Vec<UsagePlanTier>,
    /// The clients: one API key each, in the plan it names. A token whose client claim
    /// names no client here is answered 403 by API Gateway (no API key has that value).
    /// Default: none.
    #[serde(default)]
    pub clients: Vec<UsageClient>,
}

impl Default for UsagePlanConfig {
    fn default() -> Self {
        Self {
            burst_limit: 100,
            rate_limit: 50.0,
            quota_per_day: 1_000_000,
            tiers: Vec::new(),
            clients: Vec::new(),
        }
    }
}

/// The name of the default usage plan (its logical id, and the `<prefix>-default` suffix).
pub const DEFAULT_USAGE_PLAN: &str = "default";

/// A named usage plan besides the default one.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UsagePlanTier {
    /// The tier's name: 1-32 of `[a-z0-9_]`, a letter first; not `default`.
    pub name: String,
    /// Burst per client.
    pub burst_limit: i64,
    /// Rate per client (requests per second).
    pub rate_limit: f64,
    /// Requests per client per day.
    pub quota_per_day: i64,
}

/// A client of the API: an API key whose value is `client_id`, associated with `plan`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UsageClient {
    /// The client claim's value in this client's tokens, and the API key's value: 20-128
    /// of `[A-Za-z0-9._-]` (API Gateway requires API key values of at least 20 characters).
    pub client_id: String,
    /// The plan: `default` or a tier's name. Default: `default`.
    #[serde(default = "default_plan_name")]
    pub plan: String,
}

fn default_plan_name() -> String {
    DEFAULT_USAGE_PLAN.into()
}

/// One usage plan with its limits, as the stack declares it.
#[derive(Clone, Debug, PartialEq)]
pub struct UsagePlanLimits {
    /// `default` or the tier's name.
    pub name: String,
    /// Burst per client.
    pub burst_limit: i64,
    /// Rate per client.
    pub rate_limit: f64,
    /// Requests per client per day.
    pub quota_per_day: i64,
}

impl UsagePlanConfig {
    /// Every plan, the default one first.
    pub fn plans(&self) -> Vec<UsagePlanLimits> {
        let mut plans = vec![UsagePlanLimits {
            name: DEFAULT_USAGE_PLAN.into(),
            burst_limit: self.burst_limit,
            rate_limit: self.rate_limit,
            quota_per_day: self.quota_per_day,
        }];
        plans.extend(self.tiers.iter().map(|t| UsagePlanLimits {
            name: t.name.clone(),
            burst_limit: t.burst_limit,
            rate_limit: t.rate_limit,
            quota_per_day: t.quota_per_day,
        }));
        plans
    }

    /// Every violated constraint, each quoting the value.
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        let plans = self.plans();
        for plan in &plans {
            if plan.burst_limit < 1
                || !(plan.rate_limit.is_finite() && plan.rate_limit > 0.0)
                || plan.quota_per_day < 1
            {
                p.push(format!(
                    "usage plan `{}`: burst {} / rate {} / quota_per_day {}: all must be positive",
                    plan.name, plan.burst_limit, plan.rate_limit, plan.quota_per_day
                ));
            }
        }
        let mut names = std::collections::BTreeSet::new();
        for tier in &self.tiers {
            let ok = tier.name.len() <= 32
                && tier.name.starts_with(|c: char| c.is_ascii_lowercase())
                && tier
                    .name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                && tier.name != DEFAULT_USAGE_PLAN;
            if !ok {
                p.push(format!(
                    "usage_plan.tiers name `{}`: use 1-32 of [a-z0-9_], a letter first, not `default`",
                    tier.name
                ));
            }
            if !names.insert(tier.name.as_str()) {
                p.push(format!(
                    "usage_plan.tiers name `{}` is declared twice",
                    tier.name
                ));
            }
        }
        let mut ids = std::collections::BTreeSet::new();
        for client in &self.clients {
            let id = &client.client_id;
            let ok = (20..=128).contains(&id.len())
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
            if !ok {
                p.push(format!(
                    "usage_plan.clients client_id `{id}`: use 20-128 of [A-Za-z0-9._-] (an API key value)"
                ));
            }
            if !ids.insert(id.as_str()) {
                p.push(format!(
                    "usage_plan.clients client_id `{id}` is declared twice"
                ));
            }
            if !plans.iter().any(|plan| plan.name == client.plan) {
                p.push(format!(
                    "usage_plan.clients `{id}`: plan `{}` is neither `default` nor a tier",
                    client.plan
                ));
            }
        }
        p
    }
}

/// Alarm thresholds and routing.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AlarmConfig {
    /// Function errors per 5 minutes that raise an alarm. Default: 1.
    pub lambda_errors: f64,
    /// Function throttles per 5 minutes that raise an alarm. Default: 1.
    pub lambda_throttles: f64,
    /// API 5XX responses per 5 minutes that raise an alarm. Default: 5.
    pub api_5xx: f64,
    /// API p99 latency (ms) that raises an alarm. Default: 1000.
    pub api_p99_latency_ms: f64,
    /// Email subscribed to the alarm topic (needs confirmation). Default: none.
    pub email: Option<String>,
}

impl Default for AlarmConfig {
    fn default() -> Self {
        Self {
            lambda_errors: 1.0,
            lambda_throttles: 1.0,
            api_5xx: 5.0,
            api_p99_latency_ms: 1000.0,
            email: None,
        }
    }
}

/// S3 remote state (`[state]`): the stack's `terraform.backend.s3`. Encryption and S3 native
/// locking are on unless turned off.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StateConfig {
    /// State bucket.
    pub bucket: String,
    /// State key.
    pub key: String,
    /// State bucket region.
    pub region: String,
    /// Server-side encryption of the state object (default `true`).
    #[serde(default = "default_true")]
    pub encrypt: bool,
    /// Lock with an S3 lock file next to the state, Terraform 1.10+ (default `true`).
    #[serde(default = "default_true")]
    pub use_lockfile: bool,
    /// KMS key (ARN, id or alias) encrypting the state instead of SSE-S3 (default: none).
    #[serde(default)]
    pub kms_key_id: Option<String>,
    /// Prefix of the non-default workspaces' keys (Terraform's default `env:`).
    #[serde(default)]
    pub workspace_key_prefix: Option<String>,
    /// AWS profile reading the state (default: the SDK's credential chain).
    #[serde(default)]
    pub profile: Option<String>,
    /// ARN of a role assumed to read and write the state (cross-account state bucket).
    #[serde(default)]
    pub role_arn: Option<String>,
}

impl StateConfig {
    /// Every violated constraint of the state settings, each quoting the value.
    fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        if self.bucket.is_empty() {
            p.push("state.bucket is empty".into());
        }
        if self.key.is_empty()
            || self.key.starts_with('/')
            || self.key.ends_with('/')
            || self.key.contains("//")
        {
            p.push(format!(
                "state.key `{}`: a non-empty object key that neither starts nor ends with `/` nor contains `//`",
                self.key
            ));
        }
        if self.kms_key_id.is_some() && !self.encrypt {
            p.push("state.kms_key_id needs state.encrypt = true".into());
        }
        if let Some(arn) = self.role_arn.as_ref().filter(|a| !a.starts_with("arn:")) {
            p.push(format!("state.role_arn `{arn}` is not an ARN"));
        }
        p
    }
}

fn default_true() -> bool {
    true
}

/// Whether `name` can name a stack: a Terraform identifier of at most 64 characters (a letter
/// or `_` first, then letters, digits, `_` or `-`), the rule of the DSL's `LogicalId::parse`
/// (`callflow-stack`'s tests check that both agree).
pub fn is_stack_name(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') && name.len() <= 64
}

fn default_stack_name() -> String {
    "callflow".into()
}
fn default_service() -> String {
    "callflow".into()
}
fn default_log_level() -> String {
    "info".into()
}

/// A configuration file: one environment at the top level, or several under `[[stack]]`.
#[derive(Clone, Debug, PartialEq)]
pub struct AppConfig {
    /// One entry per stack.
    pub stacks: Vec<CallflowConfig>,
}

#[derive(Deserialize)]
struct MultiStack {
    stack: Vec<CallflowConfig>,
}

impl AppConfig {
    /// Parses TOML and checks every stack's constraints, reporting all violations at once.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let stacks = if text.lines().any(|l| l.trim() == "[[stack]]") {
            toml::from_str::<MultiStack>(text)
                .map_err(|e| ConfigError::Parse(e.to_string()))?
                .stack
        } else {
            vec![single_stack(text)?]
        };
        let problems: Vec<String> = stacks.iter().flat_map(CallflowConfig::problems).collect();
        if problems.is_empty() {
            Ok(Self { stacks })
        } else {
            Err(ConfigError::Invalid(problems))
        }
    }
}

/// One environment at the top level. `[[providers]]` tables belong to `callflow get`
/// (`callflow_codegen::project`), not to the stack, and are skipped here.
fn single_stack(text: &str) -> Result<CallflowConfig, ConfigError> {
    let parse = |e: toml::de::Error| ConfigError::Parse(e.to_string());
    let mut table: toml::Table = toml::from_str(text).map_err(parse)?;
    if table.remove("providers").is_none() {
        // Deserializing the text itself keeps line and column in error messages.
        return toml::from_str::<CallflowConfig>(text).map_err(parse);
    }
    toml::Value::Table(table)
        .try_into::<CallflowConfig>()
        .map_err(parse)
}

impl CallflowConfig {
    /// Every violated constraint, each quoting the value.
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        let name_ok = |s: &str| {
            !s.is_empty()
                && s.len() <= 24
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !s.starts_with('-')
        };
        if !name_ok(&self.service) {
            p.push(format!(
                "service `{}`: use 1-24 of [a-z0-9-] (it prefixes bucket and function names)",
                self.service
            ));
        }
        if !name_ok(&self.environment) {
            p.push(format!(
                "environment `{}`: use 1-24 of [a-z0-9-]",
                self.environment
            ));
        }
        if !is_stack_name(&self.stack_name) {
            p.push(format!(
                "stack_name `{}`: use a letter or `_` first, then letters, digits, `_` or `-` (at most 64)",
                self.stack_name
            ));
        }
        let bucket = self.bucket_name();
        if bucket.len() > 63 {
            p.push(format!("bucket name `{bucket}` is longer than 63 characters: shorten service or environment"));
        }
        if !["trace", "debug", "info", "warn", "error"].contains(&self.log_level.as_str()) {
            p.push(format!(
                "log_level `{}`: one of trace, debug, info, warn, error",
                self.log_level
            ));
        }
        if !self.jwt.jwks_url.starts_with("https://") {
            p.push(format!(
                "jwt.jwks_url `{}`: must be https",
                self.jwt.jwks_url
            ));
        }
        p.extend(self.throttling.problems());
        p.extend(self.usage_plan.problems());
        if let Some(d) = &self.domain {
            if !d.name.contains('.') || d.name.ends_with('.') {
                p.push(format!(
                    "domain.name `{}`: a fully qualified name without trailing dot",
                    d.name
                ));
            }
            if d.hosted_zone_id.is_empty() {
                p.push("domain.hosted_zone_id is empty".into());
            }
        }
        if let Some(email) = self.alarms.email.as_ref().filter(|e| !e.contains('@')) {
            p.push(format!("alarms.email `{email}` is not an email address"));
        }
        if let Some(state) = &self.state {
            p.extend(state.problems());
        }
        p
    }

    /// Physical name prefix: `<service>-<environment>`.
    pub fn prefix(&self) -> String {
        format!("{}-{}", self.service, self.environment)
    }

    /// The events bucket name: `<service>-events-<environment>`.
    pub fn bucket_name(&self) -> String {
        format!("{}-events-{}", self.service, self.environment)
    }
}
