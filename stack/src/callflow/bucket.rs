//! The customer managed key and the events bucket, with grants for the handler roles.

use callflow_config::CallflowConfig;

use crate::aws::iam::{IamRole, IamRolePolicy};
use crate::aws::kms::{KmsAlias, KmsKey};
use crate::aws::s3::{
    S3Bucket, S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationExpiration, S3BucketLifecycleConfigurationFilter,
    S3BucketLifecycleConfigurationNoncurrentVersionExpiration, S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationTransition, S3BucketMetric, S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule, S3BucketPolicy, S3BucketPublicAccessBlock,
    S3BucketServerSideEncryptionConfiguration,
    S3BucketServerSideEncryptionConfigurationApplyServerSideEncryptionByDefault,
    S3BucketServerSideEncryptionConfigurationRule, S3BucketVersioning,
    S3BucketVersioningVersioningConfiguration,
};
use crate::dsl::{Handle, Lifecycle, Stack, Tf};
use crate::iam::{PolicyDocument, Principal, Statement};

use super::names::Account;

// The key layout's prefixes, as the handlers write them: IAM scopes and lifecycle filters are
// computed from these.
use callflow_deployment::key_layout::{EVENTS_PREFIX, IDEMPOTENCY_PREFIX, INDEXES_PREFIX};

/// The customer managed KMS key that encrypts events, function environments, logs and alarms.
#[derive(Clone, Debug)]
pub struct EventsKey {
    /// The key.
    pub key: Handle<KmsKey>,
    /// `alias/<service>-<environment>-events`.
    pub alias: Handle<KmsAlias>,
}

/// What the events key is for and how it is named (AWS CDK-style props).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventsKeyProps {
    /// Prefix of the key's description and alias: `alias/<prefix>-events`. Required.
    pub prefix: String,
    /// Days KMS waits before deleting the key once deletion is scheduled (7–30). Default: 30,
    /// the longest, since the key decrypts every stored event.
    pub deletion_window_days: u32,
}

impl EventsKeyProps {
    /// The props for `prefix` (`<service>-<environment>`) with the documented defaults.
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
            deletion_window_days: 30,
        }
    }
}

impl EventsKey {
    /// The key of a Callflow environment: [`EventsKeyProps`] from its configuration.
    pub fn from_config(stack: &mut Stack, config: &CallflowConfig, account: &Account) -> Self {
        Self::new(stack, &EventsKeyProps::new(config.prefix()), account)
    }

    /// Declares the key (rotation on, deletion window from the props, protected from destroy)
    /// and its alias.
    pub fn new(stack: &mut Stack, props: &EventsKeyProps, account: &Account) -> Self {
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
        let policy = policy.render(stack, "EventsKey");
        let key = stack.resource(
            "events",
            KmsKey::new()
                .set_description(format!(
                    "{}: events, function environments, logs and alarms",
                    props.prefix
                ))
                .set_enable_key_rotation(true)
                .set_deletion_window_in_days(props.deletion_window_days)
                .set_policy(policy),
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
            KmsAlias::new(key.key_id()).set_name(format!("alias/{}-events", props.prefix)),
        );
        Self { key, alias }
    }
}

/// The events bucket and its configuration resources.
#[derive(Clone, Debug)]
pub struct EventsBucket {
    /// The bucket's name (for dashboards and other documents that need it as text).
    pub name: String,
    /// The bucket.
    pub bucket: Handle<S3Bucket>,
    /// Versioning (enabled).
    pub versioning: Handle<S3BucketVersioning>,
    /// Lifecycle `archive-old-events`.
    pub lifecycle: Handle<S3BucketLifecycleConfiguration>,
    /// SSE-KMS with the CMK.
    pub encryption: Handle<S3BucketServerSideEncryptionConfiguration>,
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

/// How the events bucket is named and how long objects stay in each storage class (AWS
/// CDK-style props; what is not here is fixed: versioned, SSE-KMS with bucket keys, public
/// access blocked, ACLs disabled, TLS only, destroy prevented).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventsBucketProps {
    /// Bucket name. Required.
    pub name: String,
    /// How long idempotency records live (under [`IDEMPOTENCY_PREFIX`]). Required: it is the
    /// contract's idempotency window (`x-callflow-idempotency-window-days`).
    pub idempotency_window_days: u32,
    /// Days after which objects move to STANDARD_IA. Default: 90 (queries mostly read recent days).
    pub infrequent_access_after_days: u32,
    /// Days after which objects move to GLACIER. Default: 365.
    pub archive_after_days: u32,
    /// Days a noncurrent (overwritten or deleted) version is kept. Default: 30.
    pub noncurrent_version_days: u32,
    /// Days before an unfinished multipart upload is aborted. Default: 7.
    pub abort_incomplete_upload_days: u32,
}

impl EventsBucketProps {
    /// The props for a bucket name and idempotency window with the documented defaults.
    pub fn new(name: impl Into<String>, idempotency_window_days: u32) -> Self {
        Self {
            name: name.into(),
            idempotency_window_days,
            infrequent_access_after_days: 90,
            archive_after_days: 365,
            noncurrent_version_days: 30,
            abort_incomplete_upload_days: 7,
        }
    }
}

impl EventsBucket {
    /// The bucket of a Callflow environment: [`EventsBucketProps`] from its configuration.
    pub fn from_config(
        stack: &mut Stack,
        config: &CallflowConfig,
        key: &EventsKey,
        idempotency_window_days: u32,
    ) -> Self {
        let props = EventsBucketProps::new(config.bucket_name(), idempotency_window_days);
        Self::new(stack, &props, key)
    }

    /// Declares the bucket: versioned, lifecycle to STANDARD_IA and GLACIER (noncurrent
    /// versions expire) as the props say, idempotency records expired after the contract's
    /// window, SSE-KMS with the CMK and bucket keys, public access blocked, ACLs disabled,
    /// non-TLS access denied, destroy prevented.
    pub fn new(stack: &mut Stack, props: &EventsBucketProps, key: &EventsKey) -> Self {
        let idempotency_window_days = props.idempotency_window_days;
        let bucket = stack.resource("events", S3Bucket::new().set_bucket(props.name.clone()));
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
            S3BucketVersioning::new(
                name.clone(),
                S3BucketVersioningVersioningConfiguration::new("Enabled"),
            ),
        );
        let lifecycle = stack.resource(
            "events",
            S3BucketLifecycleConfiguration::new(name.clone()).set_rule(vec![
                S3BucketLifecycleConfigurationRule::new("archive-old-events", "Enabled")
                    .set_filter(vec![
                        S3BucketLifecycleConfigurationFilter::new().set_prefix(""),
                    ])
                    .set_transition(vec![
                        S3BucketLifecycleConfigurationTransition::new("STANDARD_IA")
                            .set_days(props.infrequent_access_after_days),
                        S3BucketLifecycleConfigurationTransition::new("GLACIER")
                            .set_days(props.archive_after_days),
                    ])
                    .set_noncurrent_version_expiration(vec![
                        S3BucketLifecycleConfigurationNoncurrentVersionExpiration::new(
                            props.noncurrent_version_days,
                        ),
                    ])
                    .set_abort_incomplete_multipart_upload(vec![
                        S3BucketLifecycleConfigurationAbortIncompleteMultipartUpload::new()
                            .set_days_after_initiation(props.abort_incomplete_upload_days),
                    ]),
                S3BucketLifecycleConfigurationRule::new("expire-idempotency-records", "Enabled")
                    .set_filter(vec![
                        S3BucketLifecycleConfigurationFilter::new().set_prefix(IDEMPOTENCY_PREFIX),
                    ])
                    .set_expiration(vec![
                        S3BucketLifecycleConfigurationExpiration::new()
                            .set_days(idempotency_window_days),
                    ])
                    .set_noncurrent_version_expiration(vec![
                        S3BucketLifecycleConfigurationNoncurrentVersionExpiration::new(1),
                    ]),
            ]),
        );
        stack.depends_on(&lifecycle, &[&versioning]);
        let encryption = stack.resource(
            "events",
            S3BucketServerSideEncryptionConfiguration::new(
                name.clone(),
                vec![
                    S3BucketServerSideEncryptionConfigurationRule::new()
                        .set_apply_server_side_encryption_by_default(
                            S3BucketServerSideEncryptionConfigurationApplyServerSideEncryptionByDefault::new(
                                "aws:kms",
                            )
                            .set_kms_master_key_id(key.key.arn()),
                        )
                        .set_bucket_key_enabled(true),
                ],
            ),
        );
        let public_access_block = stack.resource(
            "events",
            S3BucketPublicAccessBlock::new(name.clone())
                .set_block_public_acls(true)
                .set_block_public_policy(true)
                .set_ignore_public_acls(true)
                .set_restrict_public_buckets(true),
        );
        let ownership = stack.resource(
            "events",
            S3BucketOwnershipControls::new(
                name.clone(),
                S3BucketOwnershipControlsRule::new("BucketOwnerEnforced"),
            ),
        );
        let arn = bucket.arn();
        let tls_only = Statement::deny_all_actions(
            "DenyInsecureTransport",
            "s3",
            vec![arn.clone(), arn.suffixed("/*")],
        )
        .with_principal(Principal::everyone())
        .with_condition("Bool", "aws:SecureTransport", vec!["false".into()]);
        let tls_only = PolicyDocument::new(vec![tls_only]).render(stack, "EventsBucket");
        let policy = stack.resource("events", S3BucketPolicy::new(name.clone(), tls_only));
        // A bucket policy is rejected while the public access block is being applied.
        stack.depends_on(&policy, &[&public_access_block]);
        let metrics = stack.resource("events", S3BucketMetric::new(name, REQUEST_METRICS_FILTER));
        Self {
            name: props.name.clone(),
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

    /// One inline policy `<name>-events-bucket` on the grantee's role, declared as
    /// `<role id>_<name>`: every grant goes through here.
    fn grant(
        &self,
        stack: &mut Stack,
        role: &Handle<IamRole>,
        name: &str,
        statements: Vec<Statement>,
    ) {
        let policy = PolicyDocument::new(statements).render(stack, "EventsBucket grant");
        stack.resource(
            &format!("{}_{name}", role.logical_id()),
            IamRolePolicy::new(policy, role.name()).set_name(format!("{name}-events-bucket")),
        );
    }

    /// Lets the role put event objects and index entries (and encrypt them with the CMK).
    pub fn grant_write(&self, stack: &mut Stack, role: &Handle<IamRole>) {
        let arn = self.bucket.arn();
        self.grant(
            stack,
            role,
            "write",
            vec![
                Statement::allow(
                    "PutEventsAndIndexEntries",
                    &["s3:PutObject"],
                    vec![
                        arn.suffixed(&format!("/{EVENTS_PREFIX}*")),
                        arn.suffixed(&format!("/{INDEXES_PREFIX}*")),
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

    /// Lets the role claim idempotency keys: put and read the records under
    /// [`IDEMPOTENCY_PREFIX`] (encrypting and decrypting with the CMK). Nothing else reads them.
    pub fn grant_idempotency(&self, stack: &mut Stack, role: &Handle<IamRole>) {
        let records = self
            .bucket
            .arn()
            .suffixed(&format!("/{IDEMPOTENCY_PREFIX}*"));
        self.grant(
            stack,
            role,
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

    /// Lets the role read event objects and list the two prefixes (and decrypt).
    pub fn grant_read(&self, stack: &mut Stack, role: &Handle<IamRole>) {
        let arn = self.bucket.arn();
        self.grant(
            stack,
            role,
            "read",
            vec![
                Statement::allow(
                    "GetEventsAndIndexEntries",
                    &["s3:GetObject"],
                    vec![
                        arn.suffixed(&format!("/{EVENTS_PREFIX}*")),
                        arn.suffixed(&format!("/{INDEXES_PREFIX}*")),
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
                        format!("{EVENTS_PREFIX}*").into(),
                        format!("{INDEXES_PREFIX}*").into(),
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
