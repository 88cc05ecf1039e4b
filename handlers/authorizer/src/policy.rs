//! The Allow/Deny decision and the IAM policy API Gateway caches per token.
//!
//! API Gateway caches the returned policy for the authorizer TTL and reuses it for every
//! request made with the same token, so the policy lists every route the token's
//! scopes allow, not only the `methodArn` of the request that triggered the call.

use std::collections::BTreeSet;

use aws_lambda_events::apigw::ApiGatewayCustomAuthorizerPolicy;
use aws_lambda_events::iam::{IamPolicyEffect, IamPolicyStatement};
use callflow_openapi::{Route, Scope};

/// A method ARN that API Gateway sends:
/// `arn:{partition}:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}/{path}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodArn {
    prefix: String,
    method: String,
    resource: String,
}

/// A `methodArn` that is not an execute-api method ARN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an execute-api method ARN: `{0}`")]
pub struct InvalidMethodArn(pub String);

impl MethodArn {
    /// Parses a method ARN; the API id, stage and method must be non-empty.
    pub fn parse(arn: &str) -> Result<Self, InvalidMethodArn> {
        let invalid = || InvalidMethodArn(arn.to_owned());
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let [arn_word, partition, service, region, account, tail] = parts[..] else {
            return Err(invalid());
        };
        if arn_word != "arn"
            || partition.is_empty()
            || service != "execute-api"
            || region.is_empty()
            || account.is_empty()
        {
            return Err(invalid());
        }
        let mut pieces = tail.splitn(4, '/');
        let (Some(api), Some(stage), Some(method)) = (pieces.next(), pieces.next(), pieces.next())
        else {
            return Err(invalid());
        };
        if api.is_empty() || stage.is_empty() || method.is_empty() {
            return Err(invalid());
        }
        let resource = pieces.next().unwrap_or_default().to_owned();
        Ok(Self {
            prefix: format!("arn:{partition}:execute-api:{region}:{account}:{api}/{stage}/"),
            method: method.to_owned(),
            resource,
        })
    }

    /// `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/`, shared by every route.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The HTTP method of the request (`GET`).
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The resource path without its leading slash (`events/abc`).
    pub fn resource(&self) -> &str {
        &self.resource
    }
}

/// What a token may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Every listed route is allowed.
    Allow(Vec<Route>),
    /// No route is allowed: the token is valid but carries no scope of this API.
    Deny,
}

/// The routes a set of scopes grants, in route-table order: a pure function of the
/// token's scopes and the route table (`events:write` → POST /events, `events:read` →
/// GET /events and GET /events/{eventId}).
pub fn decide(scopes: &BTreeSet<Scope>, routes: &[Route]) -> Decision {
    let allowed: Vec<Route> = routes
        .iter()
        .filter(|route| scopes.contains(&route.scope))
        .cloned()
        .collect();
    if allowed.is_empty() {
        Decision::Deny
    } else {
        Decision::Allow(allowed)
    }
}

/// The IAM policy for a decision: one Allow statement listing
/// `{prefix}{METHOD}/{resource}` per allowed route (path parameters as `*`), or one
/// Deny statement on `{prefix}*`.
pub fn policy_document(decision: &Decision, arn: &MethodArn) -> ApiGatewayCustomAuthorizerPolicy {
    let (effect, resource) = match decision {
        Decision::Allow(routes) => (
            IamPolicyEffect::Allow,
            routes
                .iter()
                .map(|route| format!("{}{}", arn.prefix(), route.policy_resource()))
                .collect(),
        ),
        Decision::Deny => (IamPolicyEffect::Deny, vec![format!("{}*", arn.prefix())]),
    };
    let mut statement = IamPolicyStatement::default();
    statement.action = vec!["execute-api:Invoke".to_owned()];
    statement.effect = effect;
    statement.resource = resource;
    let mut policy = ApiGatewayCustomAuthorizerPolicy::default();
    policy.version = Some("2012-10-17".to_owned());
    policy.statement = vec![statement];
    policy
}

/// Evaluates a policy for one method ARN as API Gateway does: an explicit Deny that
/// matches wins, otherwise some Allow must match. `*` matches any run of characters
/// (including `/`), `?` any one character. The local gateway uses this on cached policies.
pub fn policy_allows(policy: &ApiGatewayCustomAuthorizerPolicy, method_arn: &str) -> bool {
    let matching = |effect: IamPolicyEffect| {
        policy.statement.iter().any(|statement| {
            statement.effect == effect
                && statement
                    .action
                    .iter()
                    .any(|a| glob_matches(a, "execute-api:Invoke"))
                && statement
                    .resource
                    .iter()
                    .any(|pattern| glob_matches(pattern, method_arn))
        })
    };
    !matching(IamPolicyEffect::Deny) && matching(IamPolicyEffect::Allow)
}

/// IAM-style wildcard match (`*`, `?`), iterative with backtracking on the last `*`.
fn glob_matches(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((star_p, star_t)) = star {
            pi = star_p + 1;
            ti = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&b| b == b'*')
}

#[cfg(test)]
mod tests {
    use super::glob_matches;

    #[test]
    fn glob_matches_like_iam() {
        assert!(glob_matches("a/*", "a/b/c"));
        assert!(glob_matches("a/*/c", "a/b/c"));
        assert!(glob_matches("*", ""));
        assert!(glob_matches("a?c", "abc"));
        assert!(!glob_matches("a/*", "b/x"));
        assert!(!glob_matches("GET/events", "GET/events/x"));
        assert!(glob_matches("GET/events/*", "GET/events/x"));
        assert!(!glob_matches("GET/events/*", "GET/events"));
    }
}
