//! Route 53 records.

use super::tf_block;
use crate::dsl::Tf;

tf_block! {
    /// Record `alias` block.
    pub struct RecordAlias {
        /// Target DNS name.
        name: Tf<String>,
        /// Target hosted zone id.
        zone_id: Tf<String>,
        /// Route by target health.
        evaluate_target_health: Tf<bool>,
    }
}

tf_block! {
    /// `aws_route53_record`.
    pub struct Route53Record: resource "aws_route53_record" [fqdn, name] {
        /// Hosted zone id.
        zone_id: Tf<String>,
        /// Record name.
        name: Tf<String>,
        /// Record type, e.g. `A`, `CNAME`.
        #[serde(rename = "type")]
        record_type: Tf<String>,
        /// TTL (non-alias records).
        ttl: Option<Tf<i64>>,
        /// Values (non-alias records).
        records: Option<Tf<Vec<String>>>,
        /// Overwrite an existing record of the same name and type.
        allow_overwrite: Option<Tf<bool>>,
        /// Alias target (single block).
        alias: Option<RecordAlias>,
    }
}
