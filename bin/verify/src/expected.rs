//! What the live environment must look like, read from the synthesized stack (`cdk.tf.json`).
//!
//! Every expected value comes from the synth. Values that are Terraform interpolations are known
//! only after apply: they are resolved by name at check time where possible (a KMS key through its
//! alias, a log group through its name, a Route 53 alias target through the API Gateway custom
//! domain) and otherwise checked for presence only.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::Value;

use crate::synth_doc::{Declared, ResourceRef, SynthDoc, block, blocks, boolean, int, number};

/// Errors reading expectations from a synthesized document.
#[derive(Debug, thiserror::Error)]
pub enum ExpectedError {
    /// A resource lacks a literal value verify needs to find it in the account.
    #[error(
        "{address}: `{attr}` must be a literal for verify to find the resource (found {found})"
    )]
    NotLiteral {
        /// Resource address, e.g. `aws_s3_bucket.events`.
        address: String,
        /// The attribute.
        attr: &'static str,
        /// What the synth has there.
        found: String,
    },
    /// The REST API `body` is not an OpenAPI JSON document.
    #[error("{address}: `body` is not OpenAPI JSON: {message}")]
    BadApiBody {
        /// Resource address.
        address: String,
        /// The parse error.
        message: String,
    },
}

/// Everything verify expects to find, per resource.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExpectedStack {
    /// Region of the default provider (literal), used unless `--region` is given.
    pub region: Option<String>,
    /// S3 buckets and their configuration resources.
    pub buckets: Vec<ExpectedBucket>,
    /// Lambda functions.
    pub functions: Vec<ExpectedFunction>,
    /// REST APIs with their stages and authorizers.
    pub rest_apis: Vec<ExpectedRestApi>,
    /// API Gateway custom domain names.
    pub domains: Vec<ExpectedDomain>,
    /// Route 53 alias records.
    pub alias_records: Vec<ExpectedAliasRecord>,
    /// CloudWatch metric alarms.
    pub alarms: Vec<ExpectedAlarm>,
    /// CloudWatch dashboard names.
    pub dashboards: Vec<String>,
}

/// An S3 bucket (`aws_s3_bucket`) and the `aws_s3_bucket_*` resources that configure it.
#[derive(Clone, Debug, PartialEq)]
pub struct ExpectedBucket {
    /// The bucket name.
    pub name: String,
    /// `Enabled` / `Suspended` from `aws_s3_bucket_versioning`, when declared.
    pub versioning: Option<String>,
    /// Rules from `aws_s3_bucket_lifecycle_configuration`, when declared.
    pub lifecycle: Option<Vec<LifecycleRule>>,
    /// Default encryption from `aws_s3_bucket_server_side_encryption_configuration`.
    pub encryption: Option<ExpectedEncryption>,
    /// `aws_s3_bucket_public_access_block`, when declared.
    pub public_access_block: Option<PublicAccessBlock>,
}

/// One lifecycle rule, in a shape both the synth and `GetBucketLifecycleConfiguration` map to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LifecycleRule {
    /// Rule id.
    pub id: String,
    /// `Enabled` or `Disabled`.
    pub status: String,
    /// Filter prefix (`""` for the whole bucket).
    pub prefix: String,
    /// Transitions as (days, storage class), sorted by days.
    pub transitions: Vec<(i64, String)>,
    /// Current-version expiration in days.
    pub expiration_days: Option<i64>,
    /// Noncurrent-version expiration in days.
    pub noncurrent_expiration_days: Option<i64>,
    /// Days after which incomplete multipart uploads are aborted.
    pub abort_multipart_days: Option<i64>,
}

impl fmt::Display for LifecycleRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} prefix={:?}", self.id, self.status, self.prefix)?;
        for (days, class) in &self.transitions {
            write!(f, " {class}@{days}d")?;
        }
        if let Some(d) = self.expiration_days {
            write!(f, " expire@{d}d")?;
        }
        if let Some(d) = self.noncurrent_expiration_days {
            write!(f, " noncurrent-expire@{d}d")?;
        }
        if let Some(d) = self.abort_multipart_days {
            write!(f, " abort-mpu@{d}d")?;
        }
        Ok(())
    }
}

/// Renders rules one per `; `-separated entry (the table's expected/actual text).
pub fn render_rules(rules: &[LifecycleRule]) -> String {
    if rules.is_empty() {
        return "(no rules)".to_owned();
    }
    rules
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Default encryption of a bucket.
#[derive(Clone, Debug, PartialEq)]
pub struct ExpectedEncryption {
    /// `aws:kms`, `aws:kms:dsse` or `AES256`.
    pub algorithm: String,
    /// The KMS key, when the algorithm uses one.
    pub key: KeyRef,
    /// S3 Bucket Key, when declared.
    pub bucket_key_enabled: Option<bool>,
}

/// How the synth names a KMS key.
#[derive(Clone, Debug, PartialEq)]
pub enum KeyRef {
    /// No key (S3-managed or AWS-managed default).
    None,
    /// A literal key id or ARN.
    Literal(String),
    /// A key created in the stack, found at check time through this alias (`alias/...`).
    Alias(String),
    /// An expression that cannot be resolved by name: presence only.
    Unresolved(String),
}

impl fmt::Display for KeyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None => f.write_str("(default key)"),
            Self::Literal(k) => f.write_str(k),
            Self::Alias(a) => write!(f, "the key behind {a}"),
            Self::Unresolved(e) => write!(f, "any key (synth: {e}, known after apply)"),
        }
    }
}

/// The four public access block switches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicAccessBlock {
    /// `block_public_acls`.
    pub block_public_acls: bool,
    /// `block_public_policy`.
    pub block_public_policy: bool,
    /// `ignore_public_acls`.
    pub ignore_public_acls: bool,
    /// `restrict_public_buckets`.
    pub restrict_public_buckets: bool,
}

impl fmt::Display for PublicAccessBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "block_public_acls={} block_public_policy={} ignore_public_acls={} restrict_public_buckets={}",
            self.block_public_acls,
            self.block_public_policy,
            self.ignore_public_acls,
            self.restrict_public_buckets
        )
    }
}

/// A Lambda function (`aws_lambda_function`), with the provider's defaults filled in.
#[derive(Clone, Debug, PartialEq)]
pub struct ExpectedFunction {
    /// Function name.
    pub name: String,
    /// Runtime, e.g. `provided.al2023` (absent for container images).
    pub runtime: Option<String>,
    /// Instruction set architectures (default `x86_64`).
    pub architectures: Vec<String>,
    /// Memory in MB (default 128).
    pub memory_mb: i64,
    /// Timeout in seconds (default 3).
    pub timeout_s: i64,
    /// Names of the environment variables (values may be secrets or known only after apply).
    pub env_var_names: BTreeSet<String>,
    /// X-Ray tracing mode (default `PassThrough`).
    pub tracing_mode: String,
}

/// A REST API (`aws_api_gateway_rest_api`) found by its name.
#[derive(Clone, Debug, PartialEq)]
pub struct ExpectedRestApi {
    /// The API name.
    pub name: String,
    /// Its stages.
    pub stages: Vec<ExpectedStage>,
    /// Authorizers from the OpenAPI body's `securitySchemes`.
    pub authorizers: Vec<ExpectedAuthorizer>,
    /// The API key source (`api_key_source`, else the body's
    /// `x-amazon-apigateway-api-key-source`), when declared.
    pub api_key_source: Option<String>,
    /// The usage plans (`aws_api_gateway_usage_plan`) associated with this API's stages.
    pub usage_plans: Vec<ExpectedUsagePlan>,
}

/// A usage plan found by its name: its throttle, quota and the stages of this API it covers.
#[derive(Clone, Debug, PartialEq)]
pub struct ExpectedUsagePlan {
    /// The plan's name.
    pub name: String,
    /// Throttle burst per client, when declared.
    pub burst_limit: Option<i64>,
    /// Throttle rate per client, when declared.
    pub rate_limit: Option<f64>,
    /// Quota limit, when declared.
    pub quota_limit: Option<i64>,
    /// Quota period (`DAY`, `WEEK`, `MONTH`), when declared.
    pub quota_period: Option<String>,
    /// Names of this API's stages the plan is associated with.
    pub stages: Vec<String>,
}

/// A stage (`aws_api_gateway_stage`) and its `aws_api_gateway_method_settings`.
#[derive(Clone, Debug, PartialEq)]
pub struct ExpectedStage {
    /// Stage name, e.g. `v1`.
    pub name: String,
    /// X-Ray tracing.
    pub xray_tracing: bool,
    /// Access logging, when declared.
    pub access_log: Option<ExpectedAccessLog>,
    /// Method settings by method path.
    pub method_settings: Vec<ExpectedMethodSettings>,
}

/// Access log settings of a stage.
#[derive(Clone, Debug, PartialEq)]
pub struct ExpectedAccessLog {
    /// Where the log goes.
    pub destination: LogDestination,
    /// The log line format.
    pub format: Option<String>,
}

/// Access log destination as the synth names it.
#[derive(Clone, Debug, PartialEq)]
pub enum LogDestination {
    /// A literal ARN.
    Arn(String),
    /// The ARN of the log group with this name (a group created in the stack).
    LogGroup(String),
    /// Known after apply: presence only.
    Unresolved(String),
}

impl fmt::Display for LogDestination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Arn(a) => f.write_str(a),
            Self::LogGroup(name) => write!(f, "arn:…:log-group:{name}"),
            Self::Unresolved(e) => write!(f, "any destination (synth: {e})"),
        }
    }
}

/// `aws_api_gateway_method_settings` for one method path; `None` fields are not declared.
#[derive(Clone, Debug, PartialEq)]
pub struct ExpectedMethodSettings {
    /// Method path, `*/*` for all methods.
    pub method_path: String,
    /// Burst limit.
    pub throttling_burst_limit: Option<i64>,
    /// Steady-state rate limit (requests per second).
    pub throttling_rate_limit: Option<f64>,
    /// Execution logging level (`OFF`, `ERROR`, `INFO`).
    pub logging_level: Option<String>,
    /// CloudWatch metrics.
    pub metrics_enabled: Option<bool>,
    /// Full request/response logging.
    pub data_trace_enabled: Option<bool>,
    /// Response caching.
    pub caching_enabled: Option<bool>,
}

/// A Lambda authorizer declared in the OpenAPI body (`x-amazon-apigateway-authorizer`).
#[derive(Clone, Debug, PartialEq)]
pub struct ExpectedAuthorizer {
    /// Security scheme name (the authorizer's name in API Gateway).
    pub name: String,
    /// `TOKEN` or `REQUEST`.
    pub kind: String,
    /// Result cache TTL in seconds (default 300).
    pub ttl_seconds: i64,
    /// Identity source, e.g. `method.request.header.Authorization`.
    pub identity_source: Option<String>,
}

/// An API Gateway custom domain name and the API stage mapped under it.
#[derive(Clone, Debug, PartialEq)]
pub struct ExpectedDomain {
    /// The domain, e.g. `events.example.com`.
    pub name: String,
    /// (REST API name, stage name) mapped at a base path, when declared and resolvable.
    pub mapping: Option<(String, String)>,
}

/// A Route 53 alias record.
#[derive(Clone, Debug, PartialEq)]
pub struct ExpectedAliasRecord {
    /// Hosted zone id.
    pub zone_id: String,
    /// Record name (without the trailing dot).
    pub name: String,
    /// Record type, e.g. `A`.
    pub record_type: String,
    /// What the alias points at.
    pub target: AliasTarget,
}

/// The target of an alias record as the synth names it.
#[derive(Clone, Debug, PartialEq)]
pub enum AliasTarget {
    /// The regional domain of this API Gateway custom domain (resolved at check time).
    ApiGatewayDomain(String),
    /// A literal DNS name.
    DnsName(String),
    /// Known after apply: presence only.
    Unresolved(String),
}

impl fmt::Display for AliasTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ApiGatewayDomain(d) => write!(f, "regional domain of API Gateway domain {d}"),
            Self::DnsName(n) => f.write_str(n),
            Self::Unresolved(e) => write!(f, "any target (synth: {e})"),
        }
    }
}

/// A CloudWatch metric alarm.
#[derive(Clone, Debug, PartialEq)]
pub struct ExpectedAlarm {
    /// Alarm name.
    pub name: String,
    /// Metric namespace.
    pub namespace: Option<String>,
    /// Metric name.
    pub metric_name: Option<String>,
    /// Comparison operator.
    pub comparison_operator: Option<String>,
    /// Threshold.
    pub threshold: Option<f64>,
}

impl fmt::Display for ExpectedAlarm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = |o: &Option<String>| o.clone().unwrap_or_else(|| "?".into());
        write!(
            f,
            "{}/{} {} {}",
            s(&self.namespace),
            s(&self.metric_name),
            s(&self.comparison_operator),
            self.threshold
                .map(|t| t.to_string())
                .unwrap_or_else(|| "?".into())
        )
    }
}

impl ExpectedStack {
    /// Reads the expectations from one synthesized stack document.
    pub fn from_synth(doc: &Value) -> Result<Self, ExpectedError> {
        let synth = SynthDoc::new(doc);
        let mut stack = Self {
            region: synth.provider_region(),
            ..Self::default()
        };
        for (name, bucket) in synth.resources("aws_s3_bucket") {
            stack.buckets.push(read_bucket(&synth, name, bucket)?);
        }
        for (name, function) in synth.resources("aws_lambda_function") {
            stack.functions.push(read_function(&synth, name, function)?);
        }
        for (name, api) in synth.resources("aws_api_gateway_rest_api") {
            stack.rest_apis.push(read_rest_api(&synth, name, api)?);
        }
        for (name, domain) in synth.resources("aws_api_gateway_domain_name") {
            stack.domains.push(read_domain(&synth, name, domain)?);
        }
        for (name, record) in synth.resources("aws_route53_record") {
            if let Some(alias) = read_alias_record(&synth, name, record)? {
                stack.alias_records.push(alias);
            }
        }
        for (name, alarm) in synth.resources("aws_cloudwatch_metric_alarm") {
            stack.alarms.push(ExpectedAlarm {
                name: required(
                    &synth,
                    "aws_cloudwatch_metric_alarm",
                    name,
                    alarm,
                    "alarm_name",
                )?,
                namespace: known(&synth, alarm.get("namespace")),
                metric_name: known(&synth, alarm.get("metric_name")),
                comparison_operator: known(&synth, alarm.get("comparison_operator")),
                threshold: number(alarm.get("threshold")),
            });
        }
        for (name, dashboard) in synth.resources("aws_cloudwatch_dashboard") {
            stack.dashboards.push(required(
                &synth,
                "aws_cloudwatch_dashboard",
                name,
                dashboard,
                "dashboard_name",
            )?);
        }
        Ok(stack)
    }

    /// Whether the synth declares nothing verify knows how to check.
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
            && self.functions.is_empty()
            && self.rest_apis.is_empty()
            && self.alarms.is_empty()
            && self.dashboards.is_empty()
    }
}

fn required(
    synth: &SynthDoc<'_>,
    resource_type: &str,
    name: &str,
    resource: &Value,
    attr: &'static str,
) -> Result<String, ExpectedError> {
    match synth.string(resource.get(attr)) {
        Some(Declared::Known(v)) => Ok(v),
        other => Err(ExpectedError::NotLiteral {
            address: format!("{resource_type}.{name}"),
            attr,
            found: match other {
                Some(Declared::Unresolved(e)) => e,
                _ => "nothing".to_owned(),
            },
        }),
    }
}

fn known(synth: &SynthDoc<'_>, value: Option<&Value>) -> Option<String> {
    match synth.string(value) {
        Some(Declared::Known(v)) => Some(v),
        _ => None,
    }
}

/// The `aws_s3_bucket_*` resource of `resource_type` whose `bucket` resolves to `bucket_name`.
fn bucket_config<'a>(
    synth: &SynthDoc<'a>,
    resource_type: &str,
    bucket_name: &str,
) -> Option<&'a Value> {
    synth
        .resources(resource_type)
        .into_iter()
        .map(|(_, v)| v)
        .find(|v| synth.string(v.get("bucket")) == Some(Declared::Known(bucket_name.to_owned())))
}

fn read_bucket(
    synth: &SynthDoc<'_>,
    name: &str,
    bucket: &Value,
) -> Result<ExpectedBucket, ExpectedError> {
    let bucket_name = required(synth, "aws_s3_bucket", name, bucket, "bucket")?;
    let versioning = bucket_config(synth, "aws_s3_bucket_versioning", &bucket_name)
        .and_then(|v| block(v.get("versioning_configuration")))
        .and_then(|c| known(synth, c.get("status")));
    let lifecycle = bucket_config(synth, "aws_s3_bucket_lifecycle_configuration", &bucket_name)
        .map(|v| {
            let mut rules: Vec<LifecycleRule> =
                blocks(v.get("rule")).into_iter().map(read_rule).collect();
            rules.sort();
            rules
        });
    let encryption = bucket_config(
        synth,
        "aws_s3_bucket_server_side_encryption_configuration",
        &bucket_name,
    )
    .and_then(|v| block(v.get("rule")))
    .and_then(|rule| {
        let default = block(rule.get("apply_server_side_encryption_by_default"))?;
        Some(ExpectedEncryption {
            algorithm: known(synth, default.get("sse_algorithm"))?,
            key: key_ref(synth, default.get("kms_master_key_id")),
            bucket_key_enabled: boolean(rule.get("bucket_key_enabled")),
        })
    });
    let public_access_block =
        bucket_config(synth, "aws_s3_bucket_public_access_block", &bucket_name).map(|v| {
            let flag = |k: &str| boolean(v.get(k)).unwrap_or(false);
            PublicAccessBlock {
                block_public_acls: flag("block_public_acls"),
                block_public_policy: flag("block_public_policy"),
                ignore_public_acls: flag("ignore_public_acls"),
                restrict_public_buckets: flag("restrict_public_buckets"),
            }
        });
    Ok(ExpectedBucket {
        name: bucket_name,
        versioning,
        lifecycle,
        encryption,
        public_access_block,
    })
}

fn read_rule(rule: &Value) -> LifecycleRule {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_owned();
    let prefix = block(rule.get("filter"))
        .map(|f| text(f.get("prefix")))
        .or_else(|| rule.get("prefix").map(|p| text(Some(p))))
        .unwrap_or_default();
    let mut transitions: Vec<(i64, String)> = blocks(rule.get("transition"))
        .into_iter()
        .filter_map(|t| Some((int(t.get("days"))?, text(t.get("storage_class")))))
        .collect();
    transitions.sort();
    LifecycleRule {
        id: text(rule.get("id")),
        status: text(rule.get("status")),
        prefix,
        transitions,
        expiration_days: block(rule.get("expiration")).and_then(|e| int(e.get("days"))),
        noncurrent_expiration_days: block(rule.get("noncurrent_version_expiration"))
            .and_then(|e| int(e.get("noncurrent_days"))),
        abort_multipart_days: block(rule.get("abort_incomplete_multipart_upload"))
            .and_then(|e| int(e.get("days_after_initiation"))),
    }
}

/// A KMS key reference: literal, or a stack key found through an `aws_kms_alias` targeting it.
fn key_ref(synth: &SynthDoc<'_>, value: Option<&Value>) -> KeyRef {
    match synth.string(value) {
        None => KeyRef::None,
        Some(Declared::Known(k)) => KeyRef::Literal(k),
        Some(Declared::Unresolved(expr)) => {
            let Some(reference) = ResourceRef::parse(&expr) else {
                return KeyRef::Unresolved(expr);
            };
            if reference.resource_type != "aws_kms_key" {
                return KeyRef::Unresolved(expr);
            }
            let alias = synth
                .resources("aws_kms_alias")
                .into_iter()
                .find_map(|(_, alias)| {
                    let target = ResourceRef::parse(alias.get("target_key_id")?.as_str()?)?;
                    (target.resource_type == "aws_kms_key" && target.name == reference.name)
                        .then(|| known(synth, alias.get("name")))
                        .flatten()
                });
            alias.map_or(KeyRef::Unresolved(expr), KeyRef::Alias)
        }
    }
}

fn read_function(
    synth: &SynthDoc<'_>,
    name: &str,
    function: &Value,
) -> Result<ExpectedFunction, ExpectedError> {
    let architectures = function
        .get("architectures")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_else(|| vec!["x86_64".to_owned()]);
    let env_var_names = block(function.get("environment"))
        .and_then(|e| e.get("variables"))
        .and_then(Value::as_object)
        .map(|vars| vars.keys().cloned().collect())
        .unwrap_or_default();
    Ok(ExpectedFunction {
        name: required(
            synth,
            "aws_lambda_function",
            name,
            function,
            "function_name",
        )?,
        runtime: known(synth, function.get("runtime")),
        architectures,
        memory_mb: int(function.get("memory_size")).unwrap_or(128),
        timeout_s: int(function.get("timeout")).unwrap_or(3),
        env_var_names,
        tracing_mode: block(function.get("tracing_config"))
            .and_then(|t| known(synth, t.get("mode")))
            .unwrap_or_else(|| "PassThrough".to_owned()),
    })
}

/// Whether `value` is a reference to `${resource_type.name.<any attr>}`.
fn refers_to(value: Option<&Value>, resource_type: &str, name: &str) -> bool {
    value
        .and_then(Value::as_str)
        .and_then(ResourceRef::parse)
        .is_some_and(|r| r.resource_type == resource_type && r.name == name)
}

fn read_rest_api(
    synth: &SynthDoc<'_>,
    name: &str,
    api: &Value,
) -> Result<ExpectedRestApi, ExpectedError> {
    let api_name = required(synth, "aws_api_gateway_rest_api", name, api, "name")?;
    let mut stages = Vec::new();
    for (_, stage) in synth.resources("aws_api_gateway_stage") {
        if !refers_to(stage.get("rest_api_id"), "aws_api_gateway_rest_api", name) {
            continue;
        }
        let Some(stage_name) = known(synth, stage.get("stage_name")) else {
            continue;
        };
        let access_log = block(stage.get("access_log_settings")).map(|a| ExpectedAccessLog {
            destination: log_destination(synth, a.get("destination_arn")),
            format: known(synth, a.get("format")),
        });
        let method_settings = synth
            .resources("aws_api_gateway_method_settings")
            .into_iter()
            .map(|(_, ms)| ms)
            .filter(|ms| {
                refers_to(ms.get("rest_api_id"), "aws_api_gateway_rest_api", name)
                    && known(synth, ms.get("stage_name")).as_deref() == Some(stage_name.as_str())
            })
            .filter_map(|ms| {
                let settings = block(ms.get("settings"))?;
                Some(ExpectedMethodSettings {
                    method_path: known(synth, ms.get("method_path"))?,
                    throttling_burst_limit: int(settings.get("throttling_burst_limit")),
                    throttling_rate_limit: number(settings.get("throttling_rate_limit")),
                    logging_level: known(synth, settings.get("logging_level")),
                    metrics_enabled: boolean(settings.get("metrics_enabled")),
                    data_trace_enabled: boolean(settings.get("data_trace_enabled")),
                    caching_enabled: boolean(settings.get("caching_enabled")),
                })
            })
            .collect();
        stages.push(ExpectedStage {
            name: stage_name,
            xray_tracing: boolean(stage.get("xray_tracing_enabled")).unwrap_or(false),
            access_log,
            method_settings,
        });
    }
    let authorizers = match api.get("body") {
        Some(Value::String(body)) => {
            read_authorizers(&serde_json::from_str(body).map_err(|e| {
                ExpectedError::BadApiBody {
                    address: format!("aws_api_gateway_rest_api.{name}"),
                    message: e.to_string(),
                }
            })?)
        }
        Some(body @ Value::Object(_)) => read_authorizers(body),
        _ => Vec::new(),
    };
    let body_key_source = match api.get("body") {
        Some(Value::String(body)) => serde_json::from_str::<Value>(body).ok().and_then(|b| {
            b.get("x-amazon-apigateway-api-key-source")
                .and_then(Value::as_str)
                .map(str::to_owned)
        }),
        _ => None,
    };
    let api_key_source = known(synth, api.get("api_key_source")).or(body_key_source);
    let mut usage_plans = Vec::new();
    for (plan_id, plan) in synth.resources("aws_api_gateway_usage_plan") {
        let stages: Vec<String> = blocks(plan.get("api_stages"))
            .into_iter()
            .filter(|s| refers_to(s.get("api_id"), "aws_api_gateway_rest_api", name))
            .filter_map(|s| {
                known(synth, s.get("stage")).or_else(|| {
                    // `${aws_api_gateway_stage.<id>.stage_name}`: that stage's name.
                    s.get("stage")
                        .and_then(Value::as_str)
                        .and_then(ResourceRef::parse)
                        .filter(|r| r.resource_type == "aws_api_gateway_stage")
                        .and_then(|r| synth.resource(&r.resource_type, &r.name))
                        .and_then(|stage| known(synth, stage.get("stage_name")))
                })
            })
            .collect();
        if stages.is_empty() {
            continue;
        }
        let throttle = block(plan.get("throttle_settings"));
        let quota = block(plan.get("quota_settings"));
        usage_plans.push(ExpectedUsagePlan {
            name: required(synth, "aws_api_gateway_usage_plan", plan_id, plan, "name")?,
            burst_limit: throttle.and_then(|t| int(t.get("burst_limit"))),
            rate_limit: throttle.and_then(|t| number(t.get("rate_limit"))),
            quota_limit: quota.and_then(|q| int(q.get("limit"))),
            quota_period: quota.and_then(|q| known(synth, q.get("period"))),
            stages,
        });
    }
    Ok(ExpectedRestApi {
        name: api_name,
        stages,
        authorizers,
        api_key_source,
        usage_plans,
    })
}

fn log_destination(synth: &SynthDoc<'_>, value: Option<&Value>) -> LogDestination {
    match synth.string(value) {
        Some(Declared::Known(arn)) => LogDestination::Arn(arn),
        Some(Declared::Unresolved(expr)) => ResourceRef::parse(&expr)
            .filter(|r| r.resource_type == "aws_cloudwatch_log_group" && r.attr == "arn")
            .and_then(|r| synth.resource(&r.resource_type, &r.name))
            .and_then(|group| known(synth, group.get("name")))
            .map_or(LogDestination::Unresolved(expr), LogDestination::LogGroup),
        None => LogDestination::Unresolved("(none)".to_owned()),
    }
}

fn read_authorizers(spec: &Value) -> Vec<ExpectedAuthorizer> {
    let schemes = spec
        .pointer("/components/securitySchemes")
        .or_else(|| spec.get("securityDefinitions"))
        .and_then(Value::as_object);
    let Some(schemes) = schemes else {
        return Vec::new();
    };
    schemes
        .iter()
        .filter_map(|(name, scheme)| {
            let authorizer = scheme.get("x-amazon-apigateway-authorizer")?;
            Some(ExpectedAuthorizer {
                name: name.clone(),
                kind: authorizer
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("token")
                    .to_ascii_uppercase(),
                ttl_seconds: int(authorizer.get("authorizerResultTtlInSeconds")).unwrap_or(300),
                identity_source: authorizer
                    .get("identitySource")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            })
        })
        .collect()
}

fn read_domain(
    synth: &SynthDoc<'_>,
    name: &str,
    domain: &Value,
) -> Result<ExpectedDomain, ExpectedError> {
    let domain_name = required(
        synth,
        "aws_api_gateway_domain_name",
        name,
        domain,
        "domain_name",
    )?;
    let mapping = synth
        .resources("aws_api_gateway_base_path_mapping")
        .into_iter()
        .map(|(_, m)| m)
        .find(|m| known(synth, m.get("domain_name")).as_deref() == Some(domain_name.as_str()))
        .and_then(|m| {
            let api = ResourceRef::parse(m.get("api_id")?.as_str()?)?;
            let api_name = known(
                synth,
                synth.resource(&api.resource_type, &api.name)?.get("name"),
            )?;
            Some((api_name, known(synth, m.get("stage_name"))?))
        });
    Ok(ExpectedDomain {
        name: domain_name,
        mapping,
    })
}

fn read_alias_record(
    synth: &SynthDoc<'_>,
    name: &str,
    record: &Value,
) -> Result<Option<ExpectedAliasRecord>, ExpectedError> {
    let Some(alias) = block(record.get("alias")) else {
        return Ok(None);
    };
    let target = match synth.string(alias.get("name")) {
        Some(Declared::Known(dns)) => AliasTarget::DnsName(dns),
        Some(Declared::Unresolved(expr)) => ResourceRef::parse(&expr)
            .filter(|r| {
                r.resource_type == "aws_api_gateway_domain_name" && r.attr == "regional_domain_name"
            })
            .and_then(|r| synth.resource(&r.resource_type, &r.name))
            .and_then(|d| known(synth, d.get("domain_name")))
            .map_or(AliasTarget::Unresolved(expr), AliasTarget::ApiGatewayDomain),
        None => AliasTarget::Unresolved("(none)".to_owned()),
    };
    Ok(Some(ExpectedAliasRecord {
        zone_id: required(synth, "aws_route53_record", name, record, "zone_id")?,
        name: required(synth, "aws_route53_record", name, record, "name")?
            .trim_end_matches('.')
            .to_owned(),
        record_type: required(synth, "aws_route53_record", name, record, "type")?,
        target,
    }))
}
