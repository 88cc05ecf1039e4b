//! ACM certificates.

use super::{StringMap, tf_block};
use crate::dsl::Tf;

tf_block! {
    /// `aws_acm_certificate`: a public certificate validated through DNS.
    pub struct AcmCertificate: resource "aws_acm_certificate" [arn, domain_validation_options] {
        /// Domain.
        domain_name: Option<Tf<String>>,
        /// `DNS` or `EMAIL`.
        validation_method: Option<Tf<String>>,
        /// Tags.
        tags: StringMap,
    }
}

tf_block! {
    /// `aws_acm_certificate_validation`: waits until the certificate is issued.
    pub struct AcmCertificateValidation: resource "aws_acm_certificate_validation" [certificate_arn] {
        /// Certificate ARN.
        certificate_arn: Tf<String>,
        /// FQDNs of the validation records.
        validation_record_fqdns: Option<Tf<Vec<String>>>,
    }
}
