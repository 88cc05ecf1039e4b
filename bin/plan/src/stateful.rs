//! Resource types that hold data or identity which a delete or replace loses.

/// A kind of stateful AWS resource, with what destroying it costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatefulKind {
    /// `aws_s3_bucket`.
    S3Bucket,
    /// `aws_s3_bucket_*` (versioning, encryption, policy, lifecycle, ... of a bucket).
    S3BucketConfiguration,
    /// `aws_kms_key`.
    KmsKey,
    /// `aws_cloudwatch_log_group`.
    LogGroup,
    /// `aws_route53_record`.
    Route53Record,
    /// `aws_route53_zone`.
    Route53Zone,
}

impl StatefulKind {
    /// The kind of `resource_type`, or `None` when destroying it loses nothing lasting.
    pub fn of(resource_type: &str) -> Option<Self> {
        Some(match resource_type {
            "aws_s3_bucket" => Self::S3Bucket,
            t if t.starts_with("aws_s3_bucket_") => Self::S3BucketConfiguration,
            "aws_kms_key" => Self::KmsKey,
            "aws_cloudwatch_log_group" => Self::LogGroup,
            "aws_route53_record" => Self::Route53Record,
            "aws_route53_zone" => Self::Route53Zone,
            _ => return None,
        })
    }

    /// A short human name: "S3 bucket", "KMS key", ...
    pub fn label(self) -> &'static str {
        match self {
            Self::S3Bucket => "S3 bucket",
            Self::S3BucketConfiguration => "S3 bucket configuration",
            Self::KmsKey => "KMS key",
            Self::LogGroup => "CloudWatch log group",
            Self::Route53Record => "Route 53 record",
            Self::Route53Zone => "Route 53 hosted zone",
        }
    }

    /// What is lost when the resource is destroyed.
    pub fn consequence(self) -> &'static str {
        match self {
            Self::S3Bucket => "the bucket and every object stored in it are lost",
            Self::S3BucketConfiguration => {
                "the bucket loses this protection or configuration until it is recreated"
            }
            Self::KmsKey => {
                "the key is scheduled for deletion and data encrypted under it becomes unreadable"
            }
            Self::LogGroup => "the log group and all its log events are lost",
            Self::Route53Record => "clients fail to resolve the name until it is recreated",
            Self::Route53Zone => {
                "the zone and all its records are lost; a new zone gets new name servers"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_the_stateful_types() {
        assert_eq!(
            StatefulKind::of("aws_s3_bucket"),
            Some(StatefulKind::S3Bucket)
        );
        assert_eq!(
            StatefulKind::of("aws_s3_bucket_versioning"),
            Some(StatefulKind::S3BucketConfiguration)
        );
        assert_eq!(StatefulKind::of("aws_kms_key"), Some(StatefulKind::KmsKey));
        assert_eq!(StatefulKind::of("aws_kms_alias"), None);
        assert_eq!(StatefulKind::of("aws_s3_object"), None);
        assert_eq!(StatefulKind::of("aws_lambda_function"), None);
    }
}
