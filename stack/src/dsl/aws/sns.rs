//! SNS topics and subscriptions.

use super::{StringMap, tf_block};
use crate::dsl::Tf;

tf_block! {
    /// `aws_sns_topic`.
    pub struct SnsTopic: resource "aws_sns_topic" [arn, name] {
        /// Topic name.
        name: Option<Tf<String>>,
        /// KMS key for messages at rest.
        kms_master_key_id: Option<Tf<String>>,
        /// Tags.
        tags: StringMap,
    }
}

tf_block! {
    /// `aws_sns_topic_policy`.
    pub struct SnsTopicPolicy: resource "aws_sns_topic_policy" [] {
        /// Topic ARN.
        arn: Tf<String>,
        /// Policy JSON.
        policy: Tf<String>,
    }
}

tf_block! {
    /// `aws_sns_topic_subscription`.
    pub struct SnsTopicSubscription: resource "aws_sns_topic_subscription" [arn] {
        /// Topic ARN.
        topic_arn: Tf<String>,
        /// `email`, `https`, `sqs`, ...
        protocol: Tf<String>,
        /// Address.
        endpoint: Tf<String>,
    }
}
