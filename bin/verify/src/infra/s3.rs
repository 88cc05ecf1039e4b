//! The events bucket: existence, versioning, lifecycle rules, default encryption, public access.

use aws_sdk_s3::types::ServerSideEncryptionRule;

use super::reapply;
use crate::aws::{AwsClients, is_not_found, sdk_error};
use crate::check::CheckResult;
use crate::expected::{
    ExpectedBucket, ExpectedEncryption, KeyRef, LifecycleRule, PublicAccessBlock, render_rules,
};
use crate::probe::Probe;

pub(super) fn probes(clients: &AwsClients, bucket: &ExpectedBucket) -> Vec<Probe> {
    let mut probes = Vec::new();
    let name = bucket.name.clone();
    let s3 = clients.s3.clone();
    probes.push(Probe::new(format!("s3 {name}"), {
        let name = name.clone();
        async move {
            let check = format!("s3 {name}: exists");
            vec![match s3.head_bucket().bucket(&name).send().await {
                Ok(_) => CheckResult::pass(check, "bucket exists", "exists"),
                Err(e) => CheckResult::fail(check, "bucket exists", sdk_error(&e),
                    format!("bucket {name} is missing or not readable with these credentials: apply the stack, or check --region/--profile")),
            }]
        }
    }));
    if let Some(status) = bucket.versioning.clone() {
        let (s3, name) = (clients.s3.clone(), name.clone());
        probes.push(Probe::new(format!("s3 {name} versioning"), async move {
            let check = format!("s3 {name}: versioning");
            let fix = reapply(&format!(
                "versioning of bucket {name} (aws_s3_bucket_versioning)"
            ));
            let live = match s3.get_bucket_versioning().bucket(&name).send().await {
                Ok(out) => Ok(out
                    .status()
                    .map_or("(never enabled)", |s| s.as_str())
                    .to_owned()),
                Err(e) => status_from_raw_versioning(&e).ok_or_else(|| sdk_error(&e)),
            };
            vec![match live {
                Ok(actual) => CheckResult::equal(check, &status, actual, fix),
                Err(e) => CheckResult::fail(check, status, e, fix),
            }]
        }));
    }
    if let Some(rules) = bucket.lifecycle.clone() {
        let (s3, name) = (clients.s3.clone(), name.clone());
        probes.push(Probe::new(format!("s3 {name} lifecycle"), async move {
            let check = format!("s3 {name}: lifecycle rules");
            let expected = render_rules(&rules);
            let fix = reapply(&format!(
                "lifecycle rules of bucket {name} (aws_s3_bucket_lifecycle_configuration)"
            ));
            vec![match s3
                .get_bucket_lifecycle_configuration()
                .bucket(&name)
                .send()
                .await
            {
                Ok(out) => {
                    let mut live: Vec<LifecycleRule> = out.rules().iter().map(live_rule).collect();
                    live.sort();
                    CheckResult::compare(check, expected, render_rules(&live), live == rules, fix)
                }
                Err(e) if is_not_found(&e) => {
                    CheckResult::fail(check, expected, "(no lifecycle configuration)", fix)
                }
                Err(e) => CheckResult::fail(check, expected, sdk_error(&e), fix),
            }]
        }));
    }
    if let Some(encryption) = bucket.encryption.clone() {
        let (s3, kms, name) = (clients.s3.clone(), clients.kms.clone(), name.clone());
        probes.push(Probe::new(format!("s3 {name} encryption"), async move {
            encryption_checks(&s3, &kms, &name, &encryption).await
        }));
    }
    if let Some(block) = bucket.public_access_block {
        let (s3, name) = (clients.s3.clone(), name.clone());
        probes.push(Probe::new(
            format!("s3 {name} public access block"),
            async move {
                let check = format!("s3 {name}: public access block");
                let fix = reapply(&format!(
                    "public access block of bucket {name} (aws_s3_bucket_public_access_block)"
                ));
                vec![
                    match s3.get_public_access_block().bucket(&name).send().await {
                        Ok(out) => {
                            let c = out.public_access_block_configuration();
                            let flag = |f: Option<bool>| f.unwrap_or(false);
                            let live = PublicAccessBlock {
                                block_public_acls: flag(c.and_then(|c| c.block_public_acls())),
                                block_public_policy: flag(c.and_then(|c| c.block_public_policy())),
                                ignore_public_acls: flag(c.and_then(|c| c.ignore_public_acls())),
                                restrict_public_buckets: flag(
                                    c.and_then(|c| c.restrict_public_buckets()),
                                ),
                            };
                            CheckResult::compare(check, block, live, live == block, fix)
                        }
                        Err(e) if is_not_found(&e) => {
                            CheckResult::fail(check, block, "(no public access block)", fix)
                        }
                        Err(e) => CheckResult::fail(check, block, sdk_error(&e), fix),
                    },
                ]
            },
        ));
    }
    probes
}

fn live_rule(rule: &aws_sdk_s3::types::LifecycleRule) -> LifecycleRule {
    #[allow(deprecated)]
    let legacy_prefix = rule.prefix();
    let prefix = rule
        .filter()
        .and_then(|f| f.prefix())
        .or(legacy_prefix)
        .unwrap_or_default()
        .to_owned();
    let mut transitions: Vec<(i64, String)> = rule
        .transitions()
        .iter()
        .filter_map(|t| {
            Some((
                i64::from(t.days()?),
                t.storage_class().map_or("", |c| c.as_str()).to_owned(),
            ))
        })
        .collect();
    transitions.sort();
    LifecycleRule {
        id: rule.id().unwrap_or_default().to_owned(),
        status: rule.status().as_str().to_owned(),
        prefix,
        transitions,
        expiration_days: rule.expiration().and_then(|e| e.days()).map(i64::from),
        noncurrent_expiration_days: rule
            .noncurrent_version_expiration()
            .and_then(|e| e.noncurrent_days())
            .map(i64::from),
        abort_multipart_days: rule
            .abort_incomplete_multipart_upload()
            .and_then(|a| a.days_after_initiation())
            .map(i64::from),
    }
}

async fn encryption_checks(
    s3: &aws_sdk_s3::Client,
    kms: &aws_sdk_kms::Client,
    name: &str,
    expected: &ExpectedEncryption,
) -> Vec<CheckResult> {
    let check = format!("s3 {name}: default encryption");
    let fix = reapply(&format!(
        "default encryption of bucket {name} (aws_s3_bucket_server_side_encryption_configuration)"
    ));
    let expected_text = format!("{} with {}", expected.algorithm, expected.key);
    let rule: ServerSideEncryptionRule = match s3.get_bucket_encryption().bucket(name).send().await
    {
        Ok(out) => match out
            .server_side_encryption_configuration()
            .and_then(|c| c.rules().first())
        {
            Some(rule) => rule.clone(),
            None => return vec![CheckResult::fail(check, expected_text, "(no rules)", fix)],
        },
        Err(e) if is_not_found(&e) => {
            return vec![CheckResult::fail(
                check,
                expected_text,
                "(no default encryption)",
                fix,
            )];
        }
        Err(e) => return vec![CheckResult::fail(check, expected_text, sdk_error(&e), fix)],
    };
    let default = rule.apply_server_side_encryption_by_default();
    let algorithm = default
        .map_or("(none)", |d| d.sse_algorithm().as_str())
        .to_owned();
    let live_key = default
        .and_then(|d| d.kms_master_key_id())
        .map(str::to_owned);
    let (key_ok, key_expected) = match &expected.key {
        KeyRef::None => (live_key.is_none(), "(default key)".to_owned()),
        KeyRef::Literal(k) => (
            live_key.as_deref().is_some_and(|l| same_key(l, k)),
            k.clone(),
        ),
        KeyRef::Unresolved(_) => (live_key.is_some(), expected.key.to_string()),
        KeyRef::Alias(alias) => match kms.describe_key().key_id(alias).send().await {
            Ok(out) => {
                let arn = out
                    .key_metadata()
                    .and_then(|m| m.arn())
                    .unwrap_or_default()
                    .to_owned();
                let id = out
                    .key_metadata()
                    .map(|m| m.key_id())
                    .unwrap_or_default()
                    .to_owned();
                let ok = live_key
                    .as_deref()
                    .is_some_and(|l| same_key(l, &arn) || l == id || l == alias);
                (ok, format!("{arn} ({alias})"))
            }
            Err(e) => (
                false,
                format!("{alias}, which does not resolve: {}", sdk_error(&e)),
            ),
        },
    };
    let mut rows = Vec::new();
    let actual = format!(
        "{algorithm} with {}",
        live_key.as_deref().unwrap_or("(default key)")
    );
    rows.push(CheckResult::compare(
        check,
        format!("{} with {key_expected}", expected.algorithm),
        actual,
        algorithm == expected.algorithm && key_ok,
        fix.clone(),
    ));
    if let Some(bucket_key) = expected.bucket_key_enabled {
        let live = rule.bucket_key_enabled().unwrap_or(false);
        rows.push(CheckResult::equal(
            format!("s3 {name}: bucket key"),
            bucket_key,
            live,
            fix,
        ));
    }
    rows
}

/// Whether two key identifiers (ids or ARNs) name the same key.
fn same_key(a: &str, b: &str) -> bool {
    let id = |k: &str| k.rsplit('/').next().unwrap_or(k).to_owned();
    a == b || (!a.contains("alias/") && !b.contains("alias/") && id(a) == id(b))
}

/// The versioning status from a 200 response the SDK could not parse. moto 5.2.5 names the
/// document root `GetBucketVersioningResponse` instead of S3's `VersioningConfiguration`; the
/// `Status` element inside is the same, so it is read from the raw body.
fn status_from_raw_versioning<E>(
    error: &aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> Option<String> {
    let aws_sdk_s3::error::SdkError::ServiceError(service) = error else {
        return None;
    };
    let raw = service.raw();
    if raw.status().as_u16() != 200 {
        return None;
    }
    let body = std::str::from_utf8(raw.body().bytes()?).ok()?;
    if !body.contains("<GetBucketVersioningResponse") {
        return None;
    }
    let status = body
        .split("<Status>")
        .nth(1)
        .and_then(|rest| rest.split("</Status>").next());
    Some(status.map_or("(never enabled)".to_owned(), |s| s.trim().to_owned()))
}
