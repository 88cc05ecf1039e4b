//! The optional custom domain: ACM certificate validated through Route 53, a regional API
//! Gateway domain with TLS 1.2, the base path mapping and the alias record.

use callflow_config::DomainConfig;

use crate::aws::acm::{AcmCertificate, AcmCertificateValidation};
use crate::aws::api_gateway::{
    ApiGatewayBasePathMapping, ApiGatewayDomainName, ApiGatewayDomainNameEndpointConfiguration,
};
use crate::aws::route53::{Route53Record, Route53RecordAlias};
use crate::dsl::{Handle, Lifecycle, Stack, Tf, functions};

use super::api::Api;

/// The custom domain resources.
#[derive(Clone, Debug)]
pub struct CustomDomain {
    /// The certificate.
    pub certificate: Handle<AcmCertificate>,
    /// The API Gateway domain.
    pub domain: Handle<ApiGatewayDomainName>,
    /// The alias `A` record.
    pub alias: Handle<Route53Record>,
    name: String,
}

impl CustomDomain {
    /// Declares certificate, validation record and wait, domain, mapping and alias record.
    pub fn new(stack: &mut Stack, domain: &DomainConfig, api: &Api) -> Self {
        let certificate = stack.resource(
            "api",
            AcmCertificate::new()
                .set_domain_name(domain.name.clone())
                .set_validation_method("DNS"),
        );
        stack.lifecycle(
            &certificate,
            Lifecycle {
                create_before_destroy: true,
                ..Default::default()
            },
        );
        // One domain, so exactly one validation option. The provider returns a set, which
        // cannot be indexed: `tolist` first.
        let option = certificate.domain_validation_options().tolist().get(0);
        let validation_record = stack.resource(
            "certificate_validation",
            Route53Record::new(
                option.resource_record_name(),
                option.resource_record_type(),
                domain.hosted_zone_id.clone(),
            )
            .set_ttl(60)
            .set_records(functions::list(&[option.resource_record_value()]))
            .set_allow_overwrite(true),
        );
        let validation = stack.resource(
            "api",
            AcmCertificateValidation::new(certificate.arn())
                .set_validation_record_fqdns(functions::list(&[validation_record.fqdn()])),
        );
        let domain_name = stack.resource(
            "api",
            ApiGatewayDomainName::new(domain.name.clone())
                .set_regional_certificate_arn(validation.certificate_arn())
                .set_security_policy("TLS_1_2")
                .set_endpoint_configuration(ApiGatewayDomainNameEndpointConfiguration::new(vec![
                    "REGIONAL",
                ])),
        );
        stack.resource(
            "api",
            ApiGatewayBasePathMapping::new(api.rest_api.id(), domain_name.domain_name())
                .set_stage_name(api.stage.stage_name()),
        );
        let alias = stack.resource(
            "api_alias",
            Route53Record::new(
                domain_name.domain_name(),
                "A",
                domain.hosted_zone_id.clone(),
            )
            .set_alias(Route53RecordAlias::new(
                false,
                domain_name.regional_domain_name(),
                domain_name.regional_zone_id(),
            )),
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
