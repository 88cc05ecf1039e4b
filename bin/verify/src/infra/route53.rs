//! Route 53: the alias record of the public API name, pointing at the API Gateway custom domain.

use aws_sdk_route53::types::RrType;

use super::reapply;
use crate::aws::{AwsClients, sdk_error};
use crate::check::CheckResult;
use crate::expected::{AliasTarget, ExpectedAliasRecord};
use crate::probe::Probe;

/// What the alias target must be.
enum Wanted {
    /// Anything (the synth's value is known only after apply).
    Any,
    /// This DNS name.
    Dns(String),
    /// A name that could not be read: nothing matches.
    Unreadable,
}

impl Wanted {
    fn matches(&self, live: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Dns(want) => dns(live) == *want,
            Self::Unreadable => false,
        }
    }
}

fn dns(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

pub(super) fn alias_probe(clients: &AwsClients, record: &ExpectedAliasRecord) -> Probe {
    let (route53, apigateway) = (clients.route53.clone(), clients.apigateway.clone());
    let expected = record.clone();
    Probe::new(format!("route53 {}", record.name), async move {
        let check = format!(
            "route53 {} {} (zone {}): alias",
            expected.name, expected.record_type, expected.zone_id
        );
        let fix = reapply(&format!(
            "alias record {} in zone {} (aws_route53_record)",
            expected.name, expected.zone_id
        ));
        let (wanted, target_text): (Wanted, String) = match &expected.target {
            AliasTarget::DnsName(name) => {
                let want = dns(name);
                (Wanted::Dns(want), name.clone())
            }
            AliasTarget::Unresolved(e) => (Wanted::Any, format!("any target (synth: {e})")),
            AliasTarget::ApiGatewayDomain(domain) => match apigateway
                .get_domain_name()
                .domain_name(domain)
                .send()
                .await
            {
                Ok(out) => {
                    let want = dns(out.regional_domain_name().unwrap_or_default());
                    let text = format!("{want} (regional domain of {domain})");
                    (Wanted::Dns(want), text)
                }
                Err(e) => (
                    Wanted::Unreadable,
                    format!(
                        "regional domain of {domain}, which cannot be read: {}",
                        sdk_error(&e)
                    ),
                ),
            },
        };
        let listed = route53
            .list_resource_record_sets()
            .hosted_zone_id(&expected.zone_id)
            .start_record_name(&expected.name)
            .start_record_type(RrType::from(expected.record_type.as_str()))
            .max_items(10)
            .send()
            .await;
        let sets = match listed {
            Ok(out) => out.resource_record_sets().to_vec(),
            Err(e) => {
                return vec![CheckResult::fail(
                    check,
                    target_text,
                    sdk_error(&e),
                    format!(
                        "zone {} is not readable: check the zone id in the stack config and the credentials",
                        expected.zone_id
                    ),
                )];
            }
        };
        let found = sets.iter().find(|s| {
            dns(s.name()) == dns(&expected.name) && s.r#type().as_str() == expected.record_type
        });
        vec![match found.and_then(|s| s.alias_target()) {
            None if found.is_some() => {
                CheckResult::fail(check, target_text, "a record that is not an alias", fix)
            }
            None => CheckResult::fail(check, target_text, "(no such record)", fix),
            Some(alias) => CheckResult::compare(
                check,
                target_text,
                dns(alias.dns_name()),
                wanted.matches(alias.dns_name()),
                fix,
            ),
        }]
    })
}
