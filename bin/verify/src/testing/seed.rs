//! Seeding moto with the resources a synthesized stack declares, through the AWS SDKs.
//!
//! Values come from the synth document, so a verify run right after seeding must pass. Where the
//! synth has a value only known after apply, the seed invents one (key ARNs, API ids). Route 53
//! zone ids are assigned by moto, so the seed returns a copy of the document whose alias records
//! point at the zone it created: the only edit, as an environment with that zone would have.

use aws_sdk_apigateway::primitives::Blob;
use aws_sdk_apigateway::types::{EndpointConfiguration, EndpointType, Op, PatchOperation};
use aws_sdk_s3::types as s3t;
use serde_json::Value;

use super::{TEST_ACCESS_KEY, TEST_SECRET_KEY};
use crate::aws::{AwsClients, AwsTarget, sdk_error};
use crate::expected::{AliasTarget, ExpectedStack, KeyRef};
use crate::synth_doc::{SynthDoc, block, int, number};

/// A seeding step that failed.
#[derive(Debug, thiserror::Error)]
#[error("seeding moto: {step}: {message}")]
pub struct SeedError {
    step: String,
    message: String,
}

impl SeedError {
    /// A failed step with its message.
    pub fn new(step: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            step: step.into(),
            message: message.into(),
        }
    }
}

fn sdk<E>(step: &str) -> impl FnOnce(E) -> SeedError + '_
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    move |e| SeedError {
        step: step.to_owned(),
        message: sdk_error(&e),
    }
}

fn other<E: std::fmt::Display>(step: &str) -> impl FnOnce(E) -> SeedError + '_ {
    move |e| SeedError {
        step: step.to_owned(),
        message: e.to_string(),
    }
}

/// The account id moto uses.
pub const MOTO_ACCOUNT: &str = "123456789012";

/// Clients for moto at `endpoint` with static test credentials.
pub async fn moto_clients(endpoint: &str, region: &str) -> AwsClients {
    AwsClients::connect(&AwsTarget {
        region: Some(region.to_owned()),
        profile: None,
        endpoint_url: Some(endpoint.to_owned()),
        static_credentials: Some((TEST_ACCESS_KEY.to_owned(), TEST_SECRET_KEY.to_owned())),
    })
    .await
}

/// Creates every resource `doc` declares that verify checks; returns the document to verify
/// against (alias records moved to the zone moto created).
pub async fn seed_stack(endpoint: &str, doc: &Value) -> Result<Value, SeedError> {
    let expected = ExpectedStack::from_synth(doc).map_err(other("reading the synth"))?;
    let region = expected
        .region
        .clone()
        .unwrap_or_else(|| "us-east-1".to_owned());
    let clients = moto_clients(endpoint, &region).await;
    let synth = SynthDoc::new(doc);
    let role_arn = create_lambda_role(endpoint, &region).await?;

    for bucket in &expected.buckets {
        let s3 = &clients.s3;
        let mut create = s3.create_bucket().bucket(&bucket.name);
        if region != "us-east-1" {
            create = create.create_bucket_configuration(
                s3t::CreateBucketConfiguration::builder()
                    .location_constraint(s3t::BucketLocationConstraint::from(region.as_str()))
                    .build(),
            );
        }
        create.send().await.map_err(sdk("create bucket"))?;
        if let Some(status) = &bucket.versioning {
            s3.put_bucket_versioning()
                .bucket(&bucket.name)
                .versioning_configuration(
                    s3t::VersioningConfiguration::builder()
                        .status(s3t::BucketVersioningStatus::from(status.as_str()))
                        .build(),
                )
                .send()
                .await
                .map_err(sdk("put versioning"))?;
        }
        if let Some(rules) = &bucket.lifecycle {
            let mut config = s3t::BucketLifecycleConfiguration::builder();
            for rule in rules {
                let mut r = s3t::LifecycleRule::builder()
                    .id(&rule.id)
                    .status(s3t::ExpirationStatus::from(rule.status.as_str()))
                    .filter(
                        s3t::LifecycleRuleFilter::builder()
                            .prefix(&rule.prefix)
                            .build(),
                    );
                for (days, class) in &rule.transitions {
                    r = r.transitions(
                        s3t::Transition::builder()
                            .days(i32::try_from(*days).map_err(other("transition days"))?)
                            .storage_class(s3t::TransitionStorageClass::from(class.as_str()))
                            .build(),
                    );
                }
                if let Some(days) = rule.expiration_days {
                    r = r.expiration(
                        s3t::LifecycleExpiration::builder()
                            .days(days as i32)
                            .build(),
                    );
                }
                if let Some(days) = rule.noncurrent_expiration_days {
                    r = r.noncurrent_version_expiration(
                        s3t::NoncurrentVersionExpiration::builder()
                            .noncurrent_days(days as i32)
                            .build(),
                    );
                }
                if let Some(days) = rule.abort_multipart_days {
                    r = r.abort_incomplete_multipart_upload(
                        s3t::AbortIncompleteMultipartUpload::builder()
                            .days_after_initiation(days as i32)
                            .build(),
                    );
                }
                config = config.rules(r.build().map_err(other("lifecycle rule"))?);
            }
            s3.put_bucket_lifecycle_configuration()
                .bucket(&bucket.name)
                .lifecycle_configuration(config.build().map_err(other("lifecycle configuration"))?)
                .send()
                .await
                .map_err(sdk("put lifecycle"))?;
        }
        if let Some(encryption) = &bucket.encryption {
            let key = match &encryption.key {
                KeyRef::Alias(alias) => Some(create_key_with_alias(&clients, alias).await?),
                KeyRef::Literal(k) => Some(k.clone()),
                KeyRef::Unresolved(_) => {
                    Some(create_key_with_alias(&clients, "alias/seeded-key").await?)
                }
                KeyRef::None => None,
            };
            let default = s3t::ServerSideEncryptionByDefault::builder()
                .sse_algorithm(s3t::ServerSideEncryption::from(
                    encryption.algorithm.as_str(),
                ))
                .set_kms_master_key_id(key)
                .build()
                .map_err(other("encryption default"))?;
            let rule = s3t::ServerSideEncryptionRule::builder()
                .apply_server_side_encryption_by_default(default)
                .set_bucket_key_enabled(encryption.bucket_key_enabled)
                .build();
            s3.put_bucket_encryption()
                .bucket(&bucket.name)
                .server_side_encryption_configuration(
                    s3t::ServerSideEncryptionConfiguration::builder()
                        .rules(rule)
                        .build()
                        .map_err(other("encryption configuration"))?,
                )
                .send()
                .await
                .map_err(sdk("put encryption"))?;
        }
        if let Some(pab) = bucket.public_access_block {
            s3.put_public_access_block()
                .bucket(&bucket.name)
                .public_access_block_configuration(
                    s3t::PublicAccessBlockConfiguration::builder()
                        .block_public_acls(pab.block_public_acls)
                        .block_public_policy(pab.block_public_policy)
                        .ignore_public_acls(pab.ignore_public_acls)
                        .restrict_public_buckets(pab.restrict_public_buckets)
                        .build(),
                )
                .send()
                .await
                .map_err(sdk("put public access block"))?;
        }
    }

    for function in &expected.functions {
        use aws_sdk_lambda::types as lt;
        let mut env = lt::Environment::builder();
        for name in &function.env_var_names {
            env = env.variables(name, "seeded");
        }
        let mut create = clients
            .lambda
            .create_function()
            .function_name(&function.name)
            .role(&role_arn)
            .handler("bootstrap")
            .code(
                lt::FunctionCode::builder()
                    .zip_file(Blob::new(EMPTY_ZIP.to_vec()))
                    .build(),
            )
            .memory_size(function.memory_mb as i32)
            .timeout(function.timeout_s as i32)
            .environment(env.build())
            .tracing_config(
                lt::TracingConfig::builder()
                    .mode(lt::TracingMode::from(function.tracing_mode.as_str()))
                    .build(),
            );
        if let Some(runtime) = &function.runtime {
            create = create.runtime(lt::Runtime::from(runtime.as_str()));
        }
        for arch in &function.architectures {
            create = create.architectures(lt::Architecture::from(arch.as_str()));
        }
        create.send().await.map_err(sdk("create function"))?;
    }

    for (logical, api) in synth.resources("aws_api_gateway_rest_api") {
        let Some(want) = expected
            .rest_apis
            .iter()
            .find(|a| Some(a.name.as_str()) == api.get("name").and_then(Value::as_str))
        else {
            continue;
        };
        let ag = &clients.apigateway;
        let body = api.get("body").and_then(Value::as_str).unwrap_or("{\"openapi\":\"3.0.1\",\"info\":{\"title\":\"t\",\"version\":\"1\",\"description\":\"d\"},\"paths\":{}}");
        let imported = ag
            .import_rest_api()
            .body(Blob::new(body.as_bytes().to_vec()))
            .fail_on_warnings(false)
            .send()
            .await
            .map_err(sdk("import REST API"))?;
        let id = imported.id().unwrap_or_default().to_owned();
        ag.update_rest_api()
            .rest_api_id(&id)
            .patch_operations(patch("/name", &want.name))
            .send()
            .await
            .map_err(sdk("rename REST API"))?;
        for authorizer in &want.authorizers {
            ag.create_authorizer()
                .rest_api_id(&id)
                .name(&authorizer.name)
                .r#type(aws_sdk_apigateway::types::AuthorizerType::from(authorizer.kind.as_str()))
                .authorizer_uri(format!("arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/arn:aws:lambda:{region}:{MOTO_ACCOUNT}:function:authorizer/invocations"))
                .set_identity_source(authorizer.identity_source.clone())
                .authorizer_result_ttl_in_seconds(authorizer.ttl_seconds as i32)
                .send()
                .await
                .map_err(sdk("create authorizer"))?;
        }
        let deployment = ag
            .create_deployment()
            .rest_api_id(&id)
            .send()
            .await
            .map_err(sdk("create deployment"))?;
        for stage in &want.stages {
            ag.create_stage()
                .rest_api_id(&id)
                .stage_name(&stage.name)
                .deployment_id(deployment.id().unwrap_or_default())
                .tracing_enabled(stage.xray_tracing)
                .send()
                .await
                .map_err(sdk("create stage"))?;
            let mut update = ag.update_stage().rest_api_id(&id).stage_name(&stage.name);
            if let Some(log) = &stage.access_log {
                let arn = match &log.destination {
                    crate::expected::LogDestination::Arn(a) => a.clone(),
                    crate::expected::LogDestination::LogGroup(g) => {
                        format!("arn:aws:logs:{region}:{MOTO_ACCOUNT}:log-group:{g}")
                    }
                    crate::expected::LogDestination::Unresolved(_) => {
                        format!("arn:aws:logs:{region}:{MOTO_ACCOUNT}:log-group:seeded")
                    }
                };
                update = update.patch_operations(patch("/accessLogSettings/destinationArn", &arn));
                if let Some(format) = &log.format {
                    update = update.patch_operations(patch("/accessLogSettings/format", format));
                }
            }
            for ms in &stage.method_settings {
                let p = |leaf: &str| format!("/{}/{leaf}", ms.method_path);
                if let Some(v) = ms.throttling_burst_limit {
                    update =
                        update.patch_operations(patch(&p("throttling/burstLimit"), &v.to_string()));
                }
                if let Some(v) = ms.throttling_rate_limit {
                    update =
                        update.patch_operations(patch(&p("throttling/rateLimit"), &v.to_string()));
                }
                if let Some(v) = &ms.logging_level {
                    update = update.patch_operations(patch(&p("logging/loglevel"), v));
                }
                if let Some(v) = ms.metrics_enabled {
                    update = update.patch_operations(patch(&p("metrics/enabled"), &v.to_string()));
                }
                if let Some(v) = ms.data_trace_enabled {
                    update =
                        update.patch_operations(patch(&p("logging/dataTrace"), &v.to_string()));
                }
                if let Some(v) = ms.caching_enabled {
                    update = update.patch_operations(patch(&p("caching/enabled"), &v.to_string()));
                }
            }
            update.send().await.map_err(sdk("update stage"))?;
        }
        if let Some(source) = &want.api_key_source {
            ag.update_rest_api()
                .rest_api_id(&id)
                .patch_operations(patch("/apiKeySource", source))
                .send()
                .await
                .map_err(sdk("set API key source"))?;
        }
        for plan in &want.usage_plans {
            use aws_sdk_apigateway::types::{
                ApiStage, QuotaPeriodType, QuotaSettings, ThrottleSettings,
            };
            let mut create = ag.create_usage_plan().name(&plan.name);
            for stage in &plan.stages {
                create = create.api_stages(ApiStage::builder().api_id(&id).stage(stage).build());
            }
            if plan.burst_limit.is_some() || plan.rate_limit.is_some() {
                create = create.throttle(
                    ThrottleSettings::builder()
                        .set_burst_limit(plan.burst_limit.map(|b| b as i32))
                        .set_rate_limit(plan.rate_limit)
                        .build(),
                );
            }
            if let Some(limit) = plan.quota_limit {
                create = create.quota(
                    QuotaSettings::builder()
                        .limit(limit as i32)
                        .set_period(plan.quota_period.as_deref().map(QuotaPeriodType::from))
                        .build(),
                );
            }
            create.send().await.map_err(sdk("create usage plan"))?;
        }
        let _ = logical;
    }

    for domain in &expected.domains {
        let ag = &clients.apigateway;
        ag.create_domain_name()
            .domain_name(&domain.name)
            .regional_certificate_arn(format!(
                "arn:aws:acm:{region}:{MOTO_ACCOUNT}:certificate/seeded"
            ))
            .endpoint_configuration(
                EndpointConfiguration::builder()
                    .types(EndpointType::Regional)
                    .build(),
            )
            .send()
            .await
            .map_err(sdk("create domain name"))?;
        if let Some((api, stage)) = &domain.mapping {
            let id = crate::infra::find_rest_api_id(ag, api)
                .await
                .map_err(other("find REST API"))?
                .unwrap_or_default();
            ag.create_base_path_mapping()
                .domain_name(&domain.name)
                .rest_api_id(id)
                .stage(stage)
                .send()
                .await
                .map_err(sdk("create base path mapping"))?;
        }
    }

    let mut adjusted = doc.clone();
    for (logical, record) in synth.resources("aws_route53_record") {
        let Some(want) = expected.alias_records.iter().find(|r| {
            Some(r.zone_id.as_str()) == record.get("zone_id").and_then(Value::as_str)
                && block(record.get("alias")).is_some()
        }) else {
            continue;
        };
        let zone_name = want
            .name
            .split_once('.')
            .map_or(want.name.as_str(), |(_, parent)| parent);
        let zone = clients
            .route53
            .create_hosted_zone()
            .name(zone_name)
            .caller_reference(format!("callflow-verify-seed-{logical}"))
            .send()
            .await
            .map_err(sdk("create hosted zone"))?;
        let zone_id = zone
            .hosted_zone()
            .map(|z| z.id().trim_start_matches("/hostedzone/").to_owned())
            .unwrap_or_default();
        let (dns_name, target_zone) = match &want.target {
            AliasTarget::ApiGatewayDomain(domain) => {
                let d = clients
                    .apigateway
                    .get_domain_name()
                    .domain_name(domain)
                    .send()
                    .await
                    .map_err(sdk("get domain name"))?;
                (
                    d.regional_domain_name().unwrap_or_default().to_owned(),
                    d.regional_hosted_zone_id()
                        .unwrap_or("Z1UJRXOUMOOFQ8")
                        .to_owned(),
                )
            }
            AliasTarget::DnsName(n) => (n.clone(), "Z1UJRXOUMOOFQ8".to_owned()),
            AliasTarget::Unresolved(_) => {
                ("seeded.example.com".to_owned(), "Z1UJRXOUMOOFQ8".to_owned())
            }
        };
        use aws_sdk_route53::types as rt;
        let set = rt::ResourceRecordSet::builder()
            .name(&want.name)
            .r#type(rt::RrType::from(want.record_type.as_str()))
            .alias_target(
                rt::AliasTarget::builder()
                    .dns_name(dns_name)
                    .hosted_zone_id(target_zone)
                    .evaluate_target_health(false)
                    .build()
                    .map_err(other("alias target"))?,
            )
            .build()
            .map_err(other("record set"))?;
        let change = rt::Change::builder()
            .action(rt::ChangeAction::Upsert)
            .resource_record_set(set)
            .build()
            .map_err(other("change"))?;
        clients
            .route53
            .change_resource_record_sets()
            .hosted_zone_id(&zone_id)
            .change_batch(
                rt::ChangeBatch::builder()
                    .changes(change)
                    .build()
                    .map_err(other("change batch"))?,
            )
            .send()
            .await
            .map_err(sdk("create alias record"))?;
        if let Some(slot) =
            adjusted.pointer_mut(&format!("/resource/aws_route53_record/{logical}/zone_id"))
        {
            *slot = Value::String(zone_id);
        }
    }

    for (_, alarm) in synth.resources("aws_cloudwatch_metric_alarm") {
        use aws_sdk_cloudwatch::types as ct;
        let text = |k: &str| {
            alarm
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let mut put = clients
            .cloudwatch
            .put_metric_alarm()
            .alarm_name(text("alarm_name"))
            .namespace(text("namespace"))
            .metric_name(text("metric_name"))
            .comparison_operator(ct::ComparisonOperator::from(
                text("comparison_operator").as_str(),
            ))
            .threshold(number(alarm.get("threshold")).unwrap_or(1.0))
            .evaluation_periods(int(alarm.get("evaluation_periods")).unwrap_or(1) as i32)
            .period(int(alarm.get("period")).unwrap_or(300) as i32);
        if let Some(stat) = alarm.get("statistic").and_then(Value::as_str) {
            put = put.statistic(ct::Statistic::from(stat));
        }
        if let Some(stat) = alarm.get("extended_statistic").and_then(Value::as_str) {
            put = put.extended_statistic(stat);
        }
        if let Some(dims) = alarm.get("dimensions").and_then(Value::as_object) {
            for (k, v) in dims {
                put = put.dimensions(
                    ct::Dimension::builder()
                        .name(k)
                        .value(v.as_str().unwrap_or_default())
                        .build(),
                );
            }
        }
        put.send().await.map_err(sdk("put alarm"))?;
    }
    for (_, dashboard) in synth.resources("aws_cloudwatch_dashboard") {
        clients
            .cloudwatch
            .put_dashboard()
            .dashboard_name(
                dashboard
                    .get("dashboard_name")
                    .and_then(Value::as_str)
                    .unwrap_or_default(),
            )
            .dashboard_body(
                dashboard
                    .get("dashboard_body")
                    .and_then(Value::as_str)
                    .unwrap_or("{\"widgets\":[]}"),
            )
            .send()
            .await
            .map_err(sdk("put dashboard"))?;
    }
    Ok(adjusted)
}

/// An empty zip archive (end-of-central-directory record only): moto stores the code, never runs it.
const EMPTY_ZIP: [u8; 22] = [
    0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];

fn patch(path: &str, value: &str) -> PatchOperation {
    PatchOperation::builder()
        .op(Op::Replace)
        .path(path)
        .value(value)
        .build()
}

async fn create_key_with_alias(clients: &AwsClients, alias: &str) -> Result<String, SeedError> {
    let key = clients
        .kms
        .create_key()
        .description("seeded by callflow-verify tests")
        .send()
        .await
        .map_err(sdk("create key"))?;
    let metadata = key.key_metadata().ok_or_else(|| SeedError {
        step: "create key".into(),
        message: "no metadata".into(),
    })?;
    clients
        .kms
        .create_alias()
        .alias_name(alias)
        .target_key_id(metadata.key_id())
        .send()
        .await
        .map_err(sdk("create alias"))?;
    Ok(metadata.arn().unwrap_or_default().to_owned())
}

/// Lambda in moto requires an existing IAM role. The IAM SDK is not a dependency of verify (it
/// checks no IAM resource), so the role is created with one IAM Query API request, which moto
/// accepts unsigned when the credential scope names the service.
async fn create_lambda_role(endpoint: &str, region: &str) -> Result<String, SeedError> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let body = format!(
        "Action=CreateRole&Version=2010-05-08&RoleName=callflow-verify-seed&AssumeRolePolicyDocument={}",
        form_encode(trust)
    );
    let address = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential={TEST_ACCESS_KEY}/20260101/{region}/iam/aws4_request, SignedHeaders=host, Signature=0\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .map_err(other("connect for IAM"))?;
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(other("IAM CreateRole"))?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .await
        .map_err(other("IAM CreateRole"))?;
    let arn = response
        .split("<Arn>")
        .nth(1)
        .and_then(|rest| rest.split("</Arn>").next())
        .ok_or_else(|| SeedError {
            step: "IAM CreateRole".into(),
            message: response.chars().take(300).collect(),
        })?;
    Ok(arn.to_owned())
}

fn form_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
