//! The customer managed key and the events bucket, with grants for the handler roles.

use crate::dsl::aws::iam::{IamRolePolicy, PolicyDocument, Principal, Statement};
use crate::dsl::aws::kms::{KmsAlias, KmsKey};
use crate::dsl::aws::s3::{
    AbortIncompleteMultipartUpload, LifecycleExpiration, LifecycleFilter, LifecycleRule,
    LifecycleTransition, NoncurrentVersionExpiration, OwnershipRule, S3Bucket,
    S3BucketLifecycleConfiguration, S3BucketMetric, S3BucketOwnershipControls, S3BucketPolicy,
    S3BucketPublicAccessBlock, S3BucketSseConfiguration, S3BucketVersioning, SseByDefault, SseRule,
    VersioningConfiguration,
};
use crate::dsl::{Handle, Lifecycle, Stack, Tf};

use super::config::CallflowConfig;
use super::function::HandlerFunction;
use super::names::Account;

/// Key prefix of event objects (`events/YYYY/MM/DD/<eventId>.json`).
pub const OBJECT_PREFIX: &str = "events/";
/// Key prefix of query index entries.
pub const INDEX_PREFIX: &str = "metadata/indexes/";
/// Key prefix of the idempotency records the storer claims keys with (read and written by the
/// storer only; expired after the contract's idempotency window).
pub const IDEMPOTENCY_PREFIX: &str = "metadata/idempotency/";

/// The customer managed KMS key that encrypts events, function environments, logs and alarms.
#[derive(Clone, Debug)]
pub struct EventsKey {
    /// The key.
    pub key: Handle<KmsKey>,
    /// `alias/<service>-<environment>-events`.
    pub alias: Handle<KmsAlias>,
}

impl EventsKey {
    /// Declares the key (rotation on, 30-day deletion window, protected from destroy) and alias.
    pub fn new(stack: &mut Stack, config: &CallflowConfig, account: &Account) -> Self {
        // Key policies must name the key itself as "*" (the policy is attached to one key).
        let this_key: Tf<String> = "*".into();
        let admin_actions = [
            "kms:DescribeKey",
            "kms:GetKeyPolicy",
            "kms:PutKeyPolicy",
            "kms:GetKeyRotationStatus",
            "kms:EnableKeyRotation",
            "kms:DisableKeyRotation",
            "kms:EnableKey",
            "kms:DisableKey",
            "kms:ScheduleKeyDeletion",
            "kms:CancelKeyDeletion",
            "kms:TagResource",
            "kms:UntagResource",
            "kms:ListResourceTags",
            "kms:UpdateKeyDescription",
            "kms:CreateAlias",
            "kms:DeleteAlias",
            "kms:UpdateAlias",
            "kms:CreateGrant",
            "kms:ListGrants",
            "kms:RevokeGrant",
            "kms:Encrypt",
            "kms:Decrypt",
            "kms:GenerateDataKey",
            "kms:ReEncryptFrom",
            "kms:ReEncryptTo",
        ];
        let logs_arn = account.arn("logs", "log-group:*");
        let policy = PolicyDocument::new(vec![
            Statement::allow(
                "AccountAdministersKeyAndDelegatesToIam",
                &admin_actions,
                vec![this_key.clone()],
            )
            .with_principal(Principal::aws(account.root())),
            Statement::allow(
                "CloudWatchLogsEncryptsLogGroupsOfThisAccount",
                &[
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncryptFrom",
                    "kms:ReEncryptTo",
                    "kms:GenerateDataKey",
                    "kms:DescribeKey",
                ],
                vec![this_key.clone()],
            )
            .with_principal(Principal::service(Tf::template([
                "logs.".into(),
                account.region.region(),
                ".amazonaws.com".into(),
            ])))
            .with_condition(
                "ArnLike",
                "kms:EncryptionContext:aws:logs:arn",
                vec![logs_arn],
            ),
            Statement::allow(
                "CloudWatchAlarmsPublishToEncryptedTopic",
                &["kms:Decrypt", "kms:GenerateDataKey"],
                vec![this_key],
            )
            .with_principal(Principal::service("cloudwatch.amazonaws.com"))
            .with_condition(
                "StringEquals",
                "aws:SourceAccount",
                vec![account.identity.account_id()],
            ),
        ]);
        let key = stack.resource(
            "events",
            KmsKey {
                description: Some(
                    format!(
                        "{}: events, function environments, logs and alarms",
                        config.prefix()
                    )
                    .into(),
                ),
                enable_key_rotation: Some(true.into()),
                deletion_window_in_days: Some(30.into()),
                policy: Some(policy.to_tf()),
                ..Default::default()
            },
        );
        stack.lifecycle(
            &key,
            Lifecycle {
                prevent_destroy: true,
                ..Default::default()
            },
        );
        let alias = stack.resource(
            "events",
            KmsAlias {
                name: Some(format!("alias/{}-events", config.prefix()).into()),
                target_key_id: key.key_id(),
            },
        );
        Self { key, alias }
    }
}

/// The events bucket and its configuration resources.
#[derive(Clone, Debug)]
pub struct EventsBucket {
    /// The bucket.
    pub bucket: Handle<S3Bucket>,
    /// Versioning (enabled).
    pub versioning: Handle<S3BucketVersioning>,
    /// Lifecycle `archive-old-events`.
    pub lifecycle: Handle<S3BucketLifecycleConfiguration>,
    /// SSE-KMS with the CMK.
    pub encryption: Handle<S3BucketSseConfiguration>,
    /// All four public access blocks.
    pub public_access_block: Handle<S3BucketPublicAccessBlock>,
    /// Bucket owner enforced.
    pub ownership: Handle<S3BucketOwnershipControls>,
    /// TLS-only bucket policy.
    pub policy: Handle<S3BucketPolicy>,
    /// Request metrics for the dashboard (`EntireBucket`).
    pub metrics: Handle<S3BucketMetric>,
    key_arn: Tf<String>,
}

/// The request metrics configuration id the dashboard reads (`FilterId` dimension).
pub const REQUEST_METRICS_FILTER: &str = "EntireBucket";

impl EventsBucket {
    /// Declares `<service>-events-<environment>`: versioned, lifecycle to STANDARD_IA at 90 days
    /// and GLACIER at 365 (noncurrent versions expire after 30), idempotency records expired
    /// after `idempotency_window_days` (the contract's window), SSE-KMS with the CMK and bucket
    /// keys, public access blocked, ACLs disabled, non-TLS access denied, destroy prevented.
    pub fn new(
        stack: &mut Stack,
        config: &CallflowConfig,
        key: &EventsKey,
        idempotency_window_days: u32,
    ) -> Self {
        let bucket = stack.resource(
            "events",
            S3Bucket {
                bucket: Some(config.bucket_name().into()),
                ..Default::default()
            },
        );
        stack.lifecycle(
            &bucket,
            Lifecycle {
                prevent_destroy: true,
                ..Default::default()
            },
        );
        stack.suppress_check(&bucket, "CKV_AWS_18", "access logging would need a second log bucket per environment; API access logs and CloudTrail data events cover who touched events");
        stack.suppress_check(&bucket, "CKV_AWS_144", "cross-region replication is a disaster-recovery decision per environment, not enabled by default");
        stack.suppress_check(
            &bucket,
            "CKV2_AWS_62",
            "no consumer of object events exists yet; notifications add cost without a subscriber",
        );
        let name = bucket.bucket();
        let versioning = stack.resource(
            "events",
            S3BucketVersioning {
                bucket: name.clone(),
                versioning_configuration: Some(VersioningConfiguration {
                    status: "Enabled".into(),
                }),
            },
        );
        let lifecycle = stack.resource(
            "events",
            S3BucketLifecycleConfiguration {
                bucket: name.clone(),
                rule: vec![
                    LifecycleRule {
                        id: "archive-old-events".into(),
                        status: "Enabled".into(),
                        filter: vec![LifecycleFilter {
                            prefix: Some("".into()),
                        }],
                        expiration: vec![],
                        transition: vec![
                            LifecycleTransition {
                                days: Some(90.into()),
                                storage_class: "STANDARD_IA".into(),
                            },
                            LifecycleTransition {
                                days: Some(365.into()),
                                storage_class: "GLACIER".into(),
                            },
                        ],
                        noncurrent_version_expiration: vec![NoncurrentVersionExpiration {
                            noncurrent_days: 30.into(),
                        }],
                        abort_incomplete_multipart_upload: vec![AbortIncompleteMultipartUpload {
                            days_after_initiation: Some(7.into()),
                        }],
                    },
                    LifecycleRule {
                        id: "expire-idempotency-records".into(),
                        status: "Enabled".into(),
                        filter: vec![LifecycleFilter {
                            prefix: Some(IDEMPOTENCY_PREFIX.into()),
                        }],
                        expiration: vec![LifecycleExpiration {
                            days: Some(i64::from(idempotency_window_days).into()),
                            expired_object_delete_marker: None,
                        }],
                        transition: vec![],
                        noncurrent_version_expiration: vec![NoncurrentVersionExpiration {
                            noncurrent_days: 1.into(),
                        }],
                        abort_incomplete_multipart_upload: vec![],
                    },
                ],
            },
        );
        stack.depends_on(&lifecycle, &[versioning.address()]);
        let encryption = stack.resource(
            "events",
            S3BucketSseConfiguration {
                bucket: name.clone(),
                rule: vec![SseRule {
                    apply_server_side_encryption_by_default: Some(SseByDefault {
                        sse_algorithm: "aws:kms".into(),
                        kms_master_key_id: Some(key.key.arn()),
                    }),
                    bucket_key_enabled: Some(true.into()),
                }],
            },
        );
        let public_access_block = stack.resource(
            "events",
            S3BucketPublicAccessBlock {
                bucket: name.clone(),
                block_public_acls: Some(true.into()),
                block_public_policy: Some(true.into()),
                ignore_public_acls: Some(true.into()),
                restrict_public_buckets: Some(true.into()),
            },
        );
        let ownership = stack.resource(
            "events",
            S3BucketOwnershipControls {
                bucket: name.clone(),
                rule: Some(OwnershipRule {
                    object_ownership: "BucketOwnerEnforced".into(),
                }),
            },
        );
        let arn = bucket.arn();
        let tls_only = Statement::deny_all_actions(
            "DenyInsecureTransport",
            "s3",
            vec![arn.clone(), arn.suffixed("/*")],
        )
        .with_principal(Principal::everyone())
        .with_condition("Bool", "aws:SecureTransport", vec!["false".into()]);
        let policy = stack.resource(
            "events",
            S3BucketPolicy {
                bucket: name.clone(),
                policy: PolicyDocument::new(vec![tls_only]).to_tf(),
            },
        );
        // A bucket policy is rejected while the public access block is being applied.
        stack.depends_on(&policy, &[public_access_block.address()]);
        let metrics = stack.resource(
            "events",
            S3BucketMetric {
                bucket: name,
                name: REQUEST_METRICS_FILTER.into(),
                filter: None,
            },
        );
        Self {
            bucket,
            versioning,
            lifecycle,
            encryption,
            public_access_block,
            ownership,
            policy,
            metrics,
            key_arn: key.key.arn(),
        }
    }

    fn grant(
        &self,
        stack: &mut Stack,
        function: &HandlerFunction,
        name: &str,
        statements: Vec<Statement>,
    ) {
        stack.resource(
            &format!("{}_{name}", function.kind.logical_id()),
            IamRolePolicy {
                name: Some(format!("{name}-events-bucket").into()),
                role: function.role.name(),
                policy: PolicyDocument::new(statements).to_tf(),
            },
        );
    }

    /// Lets the function put event objects and index entries (and encrypt them with the CMK).
    pub fn grant_write(&self, stack: &mut Stack, function: &HandlerFunction) {
        let arn = self.bucket.arn();
        self.grant(
            stack,
            function,
            "write",
            vec![
                Statement::allow(
                    "PutEventsAndIndexEntries",
                    &["s3:PutObject"],
                    vec![
                        arn.suffixed(&format!("/{OBJECT_PREFIX}*")),
                        arn.suffixed(&format!("/{INDEX_PREFIX}*")),
                    ],
                ),
                Statement::allow(
                    "EncryptWithEventsKey",
                    &["kms:GenerateDataKey", "kms:Encrypt"],
                    vec![self.key_arn.clone()],
                ),
            ],
        );
    }

    /// Lets the function claim idempotency keys: put and read the records under
    /// [`IDEMPOTENCY_PREFIX`] (encrypting and decrypting with the CMK). Nothing else reads them.
    pub fn grant_idempotency(&self, stack: &mut Stack, function: &HandlerFunction) {
        let records = self
            .bucket
            .arn()
            .suffixed(&format!("/{IDEMPOTENCY_PREFIX}*"));
        self.grant(
            stack,
            function,
            "idempotency",
            vec![
                Statement::allow(
                    "PutAndGetIdempotencyRecords",
                    &["s3:PutObject", "s3:GetObject"],
                    vec![records],
                ),
                Statement::allow(
                    "EncryptAndDecryptWithEventsKey",
                    &["kms:GenerateDataKey", "kms:Encrypt", "kms:Decrypt"],
                    vec![self.key_arn.clone()],
                ),
            ],
        );
    }

    /// Lets the function read event objects and list the two prefixes (and decrypt).
    pub fn grant_read(&self, stack: &mut Stack, function: &HandlerFunction) {
        let arn = self.bucket.arn();
        self.grant(
            stack,
            function,
            "read",
            vec![
                Statement::allow(
                    "GetEventsAndIndexEntries",
                    &["s3:GetObject"],
                    vec![
                        arn.suffixed(&format!("/{OBJECT_PREFIX}*")),
                        arn.suffixed(&format!("/{INDEX_PREFIX}*")),
                    ],
                ),
                Statement::allow(
                    "ListOnlyEventAndIndexPrefixes",
                    &["s3:ListBucket"],
                    vec![arn],
                )
                .with_condition(
                    "StringLike",
                    "s3:prefix",
                    vec![
                        format!("{OBJECT_PREFIX}*").into(),
                        format!("{INDEX_PREFIX}*").into(),
                    ],
                ),
                Statement::allow(
                    "DecryptWithEventsKey",
                    &["kms:Decrypt"],
                    vec![self.key_arn.clone()],
                ),
            ],
        );
    }
}
