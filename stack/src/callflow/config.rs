//! The typed per-environment configuration of the Callflow stack, read from TOML.
//!
//! Structural choices (names, the custom domain, limits, alarm routing) are synth-time config,
//! because they change which resources exist. Values an operator tunes without re-synthesizing
//! are Terraform variables instead (`log_level`), documented in the README.

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
    /// Stack name: the directory under `cdktf.out/stacks/`. Default: `callflow`.
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

/// Usage plan limits.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UsagePlanConfig {
    /// Burst per client. Default: 100.
    pub burst_limit: i64,
    /// Rate per client. Default: 50.
    pub rate_limit: f64,
    /// Requests per client per day. Default: 1,000,000.
    pub quota_per_day: i64,
}

impl Default for UsagePlanConfig {
    fn default() -> Self {
        Self {
            burst_limit: 100,
            rate_limit: 50.0,
            quota_per_day: 1_000_000,
        }
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

/// S3 remote state.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StateConfig {
    /// State bucket.
    pub bucket: String,
    /// State key.
    pub key: String,
    /// State bucket region.
    pub region: String,
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
        if crate::dsl::LogicalId::parse(&self.stack_name).is_err() {
            p.push(format!(
                "stack_name `{}`: use a letter first, then letters, digits, `_` or `-`",
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
        if self.throttling.burst_limit < 1 || self.throttling.rate_limit <= 0.0 {
            p.push(format!(
                "throttling burst {} / rate {}: both must be positive",
                self.throttling.burst_limit, self.throttling.rate_limit
            ));
        }
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
