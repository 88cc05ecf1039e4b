//! The S3 bucket family (the v4+ split resources: one resource per bucket configuration).

use super::{StringMap, tf_block};
use crate::dsl::Tf;

tf_block! {
    /// `aws_s3_bucket`.
    pub struct S3Bucket: resource "aws_s3_bucket" [arn, bucket, bucket_regional_domain_name] {
        /// Bucket name.
        bucket: Option<Tf<String>>,
        /// Delete all objects on destroy.
        force_destroy: Option<Tf<bool>>,
        /// Tags.
        tags: StringMap,
    }
}

tf_block! {
    /// `versioning_configuration` block.
    pub struct VersioningConfiguration {
        /// `Enabled` or `Suspended`.
        status: Tf<String>,
    }
}

tf_block! {
    /// `aws_s3_bucket_versioning`.
    pub struct S3BucketVersioning: resource "aws_s3_bucket_versioning" [] {
        /// Bucket name.
        bucket: Tf<String>,
        /// The configuration (single block).
        versioning_configuration: Option<VersioningConfiguration>,
    }
}

tf_block! {
    /// Lifecycle `filter` block.
    pub struct LifecycleFilter {
        /// Key prefix the rule applies to.
        prefix: Option<Tf<String>>,
    }
}

tf_block! {
    /// Lifecycle `transition` block.
    pub struct LifecycleTransition {
        /// Days after creation.
        days: Option<Tf<i64>>,
        /// Target storage class, e.g. `STANDARD_IA`, `GLACIER`.
        storage_class: Tf<String>,
    }
}

tf_block! {
    /// Lifecycle `noncurrent_version_expiration` block.
    pub struct NoncurrentVersionExpiration {
        /// Days after becoming noncurrent.
        noncurrent_days: Tf<i64>,
    }
}

tf_block! {
    /// Lifecycle `expiration` block.
    pub struct LifecycleExpiration {
        /// Days after creation.
        days: Option<Tf<i64>>,
        /// Remove delete markers that have no noncurrent versions left.
        expired_object_delete_marker: Option<Tf<bool>>,
    }
}

tf_block! {
    /// Lifecycle `abort_incomplete_multipart_upload` block.
    pub struct AbortIncompleteMultipartUpload {
        /// Days after initiation.
        days_after_initiation: Option<Tf<i64>>,
    }
}

tf_block! {
    /// Lifecycle `rule` block.
    pub struct LifecycleRule {
        /// Rule id.
        id: Tf<String>,
        /// `Enabled` or `Disabled`.
        status: Tf<String>,
        /// Which objects the rule applies to.
        filter: Vec<LifecycleFilter>,
        /// Expiry of current versions.
        expiration: Vec<LifecycleExpiration>,
        /// Storage class transitions.
        transition: Vec<LifecycleTransition>,
        /// Expiry of noncurrent versions.
        noncurrent_version_expiration: Vec<NoncurrentVersionExpiration>,
        /// Clean-up of abandoned multipart uploads.
        abort_incomplete_multipart_upload: Vec<AbortIncompleteMultipartUpload>,
    }
}

tf_block! {
    /// `aws_s3_bucket_lifecycle_configuration`.
    pub struct S3BucketLifecycleConfiguration: resource "aws_s3_bucket_lifecycle_configuration" [] {
        /// Bucket name.
        bucket: Tf<String>,
        /// Rules, evaluated by S3 together.
        rule: Vec<LifecycleRule>,
    }
}

tf_block! {
    /// `apply_server_side_encryption_by_default` block.
    pub struct SseByDefault {
        /// `aws:kms` or `AES256`.
        sse_algorithm: Tf<String>,
        /// KMS key ARN for `aws:kms`.
        kms_master_key_id: Option<Tf<String>>,
    }
}

tf_block! {
    /// Server-side encryption `rule` block.
    pub struct SseRule {
        /// The default encryption.
        apply_server_side_encryption_by_default: Option<SseByDefault>,
        /// Use S3 bucket keys (fewer KMS calls).
        bucket_key_enabled: Option<Tf<bool>>,
    }
}

tf_block! {
    /// `aws_s3_bucket_server_side_encryption_configuration`.
    pub struct S3BucketSseConfiguration: resource "aws_s3_bucket_server_side_encryption_configuration" [] {
        /// Bucket name.
        bucket: Tf<String>,
        /// Rules (list block).
        rule: Vec<SseRule>,
    }
}

tf_block! {
    /// `aws_s3_bucket_public_access_block`.
    pub struct S3BucketPublicAccessBlock: resource "aws_s3_bucket_public_access_block" [] {
        /// Bucket name.
        bucket: Tf<String>,
        /// Reject public ACLs.
        block_public_acls: Option<Tf<bool>>,
        /// Reject public bucket policies.
        block_public_policy: Option<Tf<bool>>,
        /// Ignore existing public ACLs.
        ignore_public_acls: Option<Tf<bool>>,
        /// Restrict access to principals in the account when a policy is public.
        restrict_public_buckets: Option<Tf<bool>>,
    }
}

tf_block! {
    /// Ownership controls `rule` block.
    pub struct OwnershipRule {
        /// `BucketOwnerEnforced` disables ACLs.
        object_ownership: Tf<String>,
    }
}

tf_block! {
    /// `aws_s3_bucket_ownership_controls`.
    pub struct S3BucketOwnershipControls: resource "aws_s3_bucket_ownership_controls" [] {
        /// Bucket name.
        bucket: Tf<String>,
        /// The rule (single block).
        rule: Option<OwnershipRule>,
    }
}

tf_block! {
    /// `aws_s3_bucket_policy`.
    pub struct S3BucketPolicy: resource "aws_s3_bucket_policy" [] {
        /// Bucket name.
        bucket: Tf<String>,
        /// Policy JSON.
        policy: Tf<String>,
    }
}

tf_block! {
    /// Metric configuration `filter` block.
    pub struct MetricFilter {
        /// Key prefix.
        prefix: Option<Tf<String>>,
    }
}

tf_block! {
    /// `aws_s3_bucket_metric`: enables CloudWatch request metrics for a bucket.
    pub struct S3BucketMetric: resource "aws_s3_bucket_metric" [] {
        /// Bucket name.
        bucket: Tf<String>,
        /// Metrics configuration id (the `FilterId` dimension).
        name: Tf<String>,
        /// Optional filter (single block).
        filter: Option<MetricFilter>,
    }
}
