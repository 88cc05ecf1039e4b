//! KMS keys and aliases.

use super::{StringMap, tf_block};
use crate::dsl::Tf;

tf_block! {
    /// `aws_kms_key`: a customer managed key.
    pub struct KmsKey: resource "aws_kms_key" [arn, key_id] {
        /// What the key protects.
        description: Option<Tf<String>>,
        /// Yearly automatic rotation.
        enable_key_rotation: Option<Tf<bool>>,
        /// Waiting period before deletion (7–30 days).
        deletion_window_in_days: Option<Tf<i64>>,
        /// Key policy JSON.
        policy: Option<Tf<String>>,
        /// Tags.
        tags: StringMap,
    }
}

tf_block! {
    /// `aws_kms_alias`: a friendly name (`alias/...`) for a key.
    pub struct KmsAlias: resource "aws_kms_alias" [arn] {
        /// Alias name, starting with `alias/`.
        name: Option<Tf<String>>,
        /// Key id or ARN.
        target_key_id: Tf<String>,
    }
}
