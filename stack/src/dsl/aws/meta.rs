//! Account, region and partition data sources.

use super::tf_block;

tf_block! {
    /// `data.aws_caller_identity`: the account the provider runs as.
    pub struct CallerIdentity: data "aws_caller_identity" [account_id, arn] {}
}

tf_block! {
    /// `data.aws_region`: the provider's region.
    pub struct Region: data "aws_region" [region] {}
}

tf_block! {
    /// `data.aws_partition`: `aws`, `aws-cn`, `aws-us-gov`, for ARNs.
    pub struct Partition: data "aws_partition" [partition, dns_suffix] {}
}
