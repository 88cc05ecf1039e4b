//! The optional custom domain: ACM certificate validated through Route 53, a regional API
//! Gateway domain with TLS 1.2, the base path mapping and the alias record.

use crate::dsl::aws::acm::{AcmCertificate, AcmCertificateValidation};
use crate::dsl::aws::apigateway::{BasePathMapping, DomainName, EndpointConfiguration};
use crate::dsl::aws::route53::{RecordAlias, Route53Record};
use crate::dsl::{Expression, Handle, Lifecycle, Stack, Tf};

use super::api::Api;
use super::config::{CallflowConfig, DomainConfig};

/// The custom domain resources.
#[derive(Clone, Debug)]
pub struct CustomDomain {
    /// The certificate.
    pub certificate: Handle<AcmCertificate>,
    /// The API Gateway domain.
    pub domain: Handle<DomainName>,
    /// The alias `A` record.
    pub alias: Handle<Route53Record>,
    name: String,
}

impl CustomDomain {
    /// Declares certificate, validation record and wait, domain, mapping and alias record.
    pub fn new(
        stack: &mut Stack,
        _config: &CallflowConfig,
        domain: &DomainConfig,
        api: &Api,
    ) -> Self {
        let certificate = stack.resource(
            "api",
            AcmCertificate {
                domain_name: Some(domain.name.clone().into()),
                validation_method: Some("DNS".into()),
                ..Default::default()
            },
        );
        stack.lifecycle(
            &certificate,
            Lifecycle {
                create_before_destroy: true,
                ..Default::default()
            },
        );
        // One domain, so exactly one validation option; sets cannot be indexed, lists can.
        let option = |attr: &str| {
            Tf::expr(Expression::raw(format!(
                "tolist({}.domain_validation_options)[0].{attr}",
                certificate.address()
            )))
        };
        let validation_record = stack.resource(
            "certificate_validation",
            Route53Record {
                zone_id: domain.hosted_zone_id.clone().into(),
                name: option("resource_record_name"),
                record_type: option("resource_record_type"),
                ttl: Some(60.into()),
                records: Some(Tf::expr(Expression::raw(format!(
                    "[tolist({}.domain_validation_options)[0].resource_record_value]",
                    certificate.address()
                )))),
                allow_overwrite: Some(true.into()),
                alias: None,
            },
        );
        let validation = stack.resource(
            "api",
            AcmCertificateValidation {
                certificate_arn: certificate.arn(),
                validation_record_fqdns: Some(Tf::expr(Expression::raw(format!(
                    "[{}]",
                    validation_record.expression("fqdn")
                )))),
            },
        );
        let domain_name = stack.resource(
            "api",
            DomainName {
                domain_name: domain.name.clone().into(),
                regional_certificate_arn: Some(validation.certificate_arn()),
                security_policy: Some("TLS_1_2".into()),
                endpoint_configuration: Some(EndpointConfiguration {
                    types: vec!["REGIONAL".to_string()].into(),
                }),
                ..Default::default()
            },
        );
        stack.resource(
            "api",
            BasePathMapping {
                api_id: api.rest_api.id(),
                stage_name: Some(api.stage.stage_name()),
                domain_name: domain_name.domain_name(),
                base_path: None,
            },
        );
        let alias = stack.resource(
            "api_alias",
            Route53Record {
                zone_id: domain.hosted_zone_id.clone().into(),
                name: domain_name.domain_name(),
                record_type: "A".into(),
                alias: Some(RecordAlias {
                    name: domain_name.regional_domain_name(),
                    zone_id: domain_name.regional_zone_id(),
                    evaluate_target_health: false.into(),
                }),
                ..Default::default()
            },
        );
        Self {
            certificate,
            domain: domain_name,
            alias,
            name: domain.name.clone(),
        }
    }

    /// `https://<domain>` (the mapping serves stage `v1` at the root).
    pub fn url(&self) -> Tf<String> {
        format!("https://{}", self.name).into()
    }
}
