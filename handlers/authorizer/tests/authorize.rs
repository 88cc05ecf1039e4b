//! The authorizer against real RSA and EC keys generated here: the decision for each
//! kind of token, the policy it returns, and the decision log's inputs.

mod common;

use std::time::Duration;

use aws_lambda_events::iam::IamPolicyEffect;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use callflow_authorizer::{
    Authorizer, AuthorizerError, DEFAULT_CLIENT_ID_CLAIM, Decision, JwksSource, MethodArn,
    TokenIssuer, decide, policy_allows, policy_document, unix_now,
};
use callflow_openapi::Scope;
use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

fn claims(scope: &str) -> Value {
    let now = unix_now();
    json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "client_id": "app-1", "scope": scope,
           "iat": now, "nbf": now, "exp": now + 300})
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn without(mut claims: Value, key: &str) -> Value {
    claims.as_object_mut().expect("object").remove(key);
    claims
}

fn unsigned(header: Value, claims: &Value, signature: &str) -> String {
    let part = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).expect("json"));
    format!("{}.{}.{signature}", part(&header), part(claims))
}

#[derive(Debug, PartialEq)]
enum Expect {
    Allow,
    Deny,
    Unauthorized(&'static str),
}

#[tokio::test]
async fn each_kind_of_token_gets_its_decision() {
    let ec = ec_issuer();
    let rsa = RsaSigner::generate("rsa-1");
    let ec_jwk = ec.jwks().keys.remove(0);
    let authorizer = inline_authorizer(&[&ec_jwk, &rsa.jwk]);
    let stranger = TokenIssuer::generate(ISSUER, AUDIENCE);
    let stranger_key =
        EncodingKey::from_ec_pem(stranger.private_key_pem().as_bytes()).expect("stranger key");
    let now = unix_now();
    let read = claims("events:read");

    let sign_with_header = |alg: Algorithm, kid: Option<&str>, key: &EncodingKey, c: &Value| {
        let mut header = Header::new(alg);
        header.kid = kid.map(str::to_owned);
        jsonwebtoken::encode(&header, c, key).expect("sign")
    };
    let valid = ec.sign(&read);
    let oversized = ec.sign(&with(read.clone(), "pad", json!("x".repeat(9000))));
    let hs256_with_public_key = sign_with_header(
        Algorithm::HS256,
        Some("rsa-1"),
        &EncodingKey::from_secret(rsa.public_pem.as_bytes()),
        &read,
    );
    let none_header = json!({"alg": "none", "typ": "JWT", "kid": ec.kid()});

    let cases: Vec<(&str, Option<String>, Expect)> = vec![
        (
            "valid ES256",
            Some(format!("Bearer {valid}")),
            Expect::Allow,
        ),
        (
            "valid RS256",
            Some(format!("Bearer {}", rsa.sign(&read))),
            Expect::Allow,
        ),
        (
            "lowercase scheme",
            Some(format!("bearer {valid}")),
            Expect::Allow,
        ),
        (
            "issued helper",
            Some(format!(
                "Bearer {}",
                ec.issue("bob", &["events:write"], Duration::from_secs(60))
            )),
            Expect::Allow,
        ),
        (
            "expired",
            Some(format!(
                "Bearer {}",
                ec.sign(&with(read.clone(), "exp", json!(now - 120)))
            )),
            Expect::Unauthorized("expired"),
        ),
        (
            "expired within leeway",
            Some(format!(
                "Bearer {}",
                ec.sign(&with(read.clone(), "exp", json!(now - 10)))
            )),
            Expect::Allow,
        ),
        (
            "not yet valid",
            Some(format!(
                "Bearer {}",
                ec.sign(&with(read.clone(), "nbf", json!(now + 300)))
            )),
            Expect::Unauthorized("not_yet_valid"),
        ),
        (
            "nbf within leeway",
            Some(format!(
                "Bearer {}",
                ec.sign(&with(read.clone(), "nbf", json!(now + 10)))
            )),
            Expect::Allow,
        ),
        (
            "wrong issuer",
            Some(format!(
                "Bearer {}",
                ec.sign(&with(read.clone(), "iss", json!("https://evil.test")))
            )),
            Expect::Unauthorized("issuer"),
        ),
        (
            "wrong audience",
            Some(format!(
                "Bearer {}",
                ec.sign(&with(read.clone(), "aud", json!("other-api")))
            )),
            Expect::Unauthorized("audience"),
        ),
        (
            "audience list containing ours",
            Some(format!(
                "Bearer {}",
                ec.sign(&with(read.clone(), "aud", json!(["other", AUDIENCE])))
            )),
            Expect::Allow,
        ),
        (
            "missing exp",
            Some(format!("Bearer {}", ec.sign(&without(read.clone(), "exp")))),
            Expect::Unauthorized("missing_claim"),
        ),
        (
            "missing sub",
            Some(format!("Bearer {}", ec.sign(&without(read.clone(), "sub")))),
            Expect::Unauthorized("missing_claim"),
        ),
        (
            "missing client_id (the usage identifier claim)",
            Some(format!(
                "Bearer {}",
                ec.sign(&without(read.clone(), "client_id"))
            )),
            Expect::Unauthorized("missing_claim"),
        ),
        (
            "empty client_id",
            Some(format!(
                "Bearer {}",
                ec.sign(&with(read.clone(), "client_id", json!("")))
            )),
            Expect::Unauthorized("missing_claim"),
        ),
        (
            "non-string client_id",
            Some(format!(
                "Bearer {}",
                ec.sign(&with(read.clone(), "client_id", json!(42)))
            )),
            Expect::Unauthorized("missing_claim"),
        ),
        (
            "wrong key, trusted kid",
            Some(format!(
                "Bearer {}",
                sign_with_header(Algorithm::ES256, Some(ec.kid()), &stranger_key, &read)
            )),
            Expect::Unauthorized("signature"),
        ),
        (
            "wrong key, unknown kid",
            Some(format!("Bearer {}", stranger.sign(&read))),
            Expect::Unauthorized("unknown_kid"),
        ),
        (
            "no kid with two keys",
            Some(format!(
                "Bearer {}",
                sign_with_header(Algorithm::ES256, None, &stranger_key, &read)
            )),
            Expect::Unauthorized("unknown_kid"),
        ),
        (
            "ES256 header on the RSA key",
            Some(format!(
                "Bearer {}",
                sign_with_header(Algorithm::ES256, Some("rsa-1"), &stranger_key, &read)
            )),
            Expect::Unauthorized("algorithm"),
        ),
        (
            "alg none with signature",
            Some(format!(
                "Bearer {}",
                unsigned(none_header.clone(), &read, "AAAA")
            )),
            Expect::Unauthorized("algorithm"),
        ),
        (
            "alg none, empty signature",
            Some(format!("Bearer {}", unsigned(none_header, &read, ""))),
            Expect::Unauthorized("malformed"),
        ),
        (
            "HS256 signed with the RSA public key",
            Some(format!("Bearer {hs256_with_public_key}")),
            Expect::Unauthorized("algorithm"),
        ),
        (
            "truncated",
            Some(format!("Bearer {}", &valid[..valid.len() - 8])),
            Expect::Unauthorized("signature"),
        ),
        (
            "oversized",
            Some(format!("Bearer {oversized}")),
            Expect::Unauthorized("oversized"),
        ),
        (
            "garbage",
            Some("Bearer not-a-jwt".into()),
            Expect::Unauthorized("malformed"),
        ),
        (
            "garbage in three parts",
            Some("Bearer e30.e30.e30".into()),
            Expect::Unauthorized("bad_header"),
        ),
        (
            "missing Bearer",
            Some(valid.clone()),
            Expect::Unauthorized("not_bearer"),
        ),
        (
            "Basic credentials",
            Some("Basic YWxpY2U6c2VjcmV0".into()),
            Expect::Unauthorized("not_bearer"),
        ),
        (
            "empty header",
            Some(String::new()),
            Expect::Unauthorized("missing_header"),
        ),
        ("no header", None, Expect::Unauthorized("missing_header")),
        (
            "no scope of this API",
            Some(format!("Bearer {}", ec.sign(&claims("profile email")))),
            Expect::Deny,
        ),
        (
            "no scope claim",
            Some(format!(
                "Bearer {}",
                ec.sign(&without(read.clone(), "scope"))
            )),
            Expect::Deny,
        ),
    ];

    let mut failures = Vec::new();
    for (name, header, expected) in cases {
        let outcome = authorizer
            .authorize(authorizer_event(header.as_deref(), METHOD_ARN))
            .await;
        let actual = match outcome {
            Ok(response) => match response.policy_document.statement[0].effect {
                IamPolicyEffect::Allow => Expect::Allow,
                _ => Expect::Deny,
            },
            Err(AuthorizerError::Unauthorized) => {
                let reason = authorizer
                    .verify(header.as_deref())
                    .await
                    .expect_err("verify agrees with authorize")
                    .reason();
                Expect::Unauthorized(reason)
            }
            Err(other) => panic!("{name}: unexpected error {other}"),
        };
        if actual != expected {
            failures.push(format!("{name}: expected {expected:?}, got {actual:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn unauthorized_error_message_is_exactly_what_api_gateway_maps_to_401() {
    assert_eq!(AuthorizerError::Unauthorized.to_string(), "Unauthorized");
    let ec = ec_issuer();
    let authorizer = inline_authorizer(&[&ec.jwks().keys[0]]);
    let result = authorizer
        .authorize(authorizer_event(None, METHOD_ARN))
        .await;
    assert_eq!(result, Err(AuthorizerError::Unauthorized));
}

#[tokio::test]
async fn policy_covers_every_route_of_the_tokens_scopes() {
    let ec = ec_issuer();
    let authorizer = inline_authorizer(&[&ec.jwks().keys[0]]);
    let arn = |method: &str, path: &str| format!("{PREFIX}{method}/{path}");
    let cases = [
        (vec!["events:read"], vec!["GET/events", "GET/events/*"]),
        (vec!["events:write"], vec!["POST/events"]),
        (
            vec!["events:write", "events:read", "other"],
            vec!["POST/events", "GET/events", "GET/events/*"],
        ),
    ];
    for (scopes, expected) in cases {
        let token = ec.issue("alice", &scopes, Duration::from_secs(300));
        // The first request of the token is a POST: the policy must still cover the GETs
        // when the scopes allow them, because API Gateway caches it for every route.
        let response = authorizer
            .authorize(authorizer_event(
                Some(&format!("Bearer {token}")),
                &arn("POST", "events"),
            ))
            .await
            .expect("authorized");
        let statement = &response.policy_document.statement[0];
        assert_eq!(statement.effect, IamPolicyEffect::Allow);
        assert_eq!(statement.action, ["execute-api:Invoke"]);
        let expected_resources: Vec<String> =
            expected.iter().map(|r| format!("{PREFIX}{r}")).collect();
        assert_eq!(statement.resource, expected_resources, "{scopes:?}");
        let can =
            |method: &str, path: &str| policy_allows(&response.policy_document, &arn(method, path));
        let reads = scopes.contains(&"events:read");
        let writes = scopes.contains(&"events:write");
        assert_eq!(can("GET", "events"), reads, "{scopes:?}");
        assert_eq!(
            can("GET", "events/01900000-0000-7000-8000-000000000000"),
            reads
        );
        assert_eq!(can("POST", "events"), writes, "{scopes:?}");
        assert!(!can("DELETE", "events/x"));
        assert!(!can("POST", "events/x"));
        assert!(!policy_allows(
            &response.policy_document,
            "arn:aws:execute-api:eu-west-1:123456789012:other/prod/GET/events"
        ));
        assert_eq!(response.principal_id.as_deref(), Some("alice"));
        assert_eq!(
            response.context,
            json!({"sub": "alice", "scopes": scopes.join(" "), "clientId": "alice"})
        );
        // `TokenIssuer::issue` names the subject as the client.
        assert_eq!(response.usage_identifier_key.as_deref(), Some("alice"));
    }
}

#[tokio::test]
async fn deny_covers_the_whole_stage() {
    let ec = ec_issuer();
    let authorizer = inline_authorizer(&[&ec.jwks().keys[0]]);
    let token = ec.issue("mallory", &["profile"], Duration::from_secs(300));
    let response = authorizer
        .authorize(authorizer_event(
            Some(&format!("Bearer {token}")),
            METHOD_ARN,
        ))
        .await
        .expect("explicit deny, not an error");
    let statement = &response.policy_document.statement[0];
    assert_eq!(statement.effect, IamPolicyEffect::Deny);
    assert_eq!(statement.resource, [format!("{PREFIX}*")]);
    assert!(!policy_allows(&response.policy_document, METHOD_ARN));
}

#[tokio::test]
async fn invalid_method_arn_is_an_error_not_a_policy() {
    let ec = ec_issuer();
    let authorizer = inline_authorizer(&[&ec.jwks().keys[0]]);
    let token = ec.issue("alice", &["events:read"], Duration::from_secs(300));
    for arn in [
        "",
        "arn:aws:lambda:eu-west-1:1:function/x",
        "arn:aws:execute-api:eu-west-1:1:api",
    ] {
        let result = authorizer
            .authorize(authorizer_event(Some(&format!("Bearer {token}")), arn))
            .await;
        assert!(
            matches!(result, Err(AuthorizerError::InvalidMethodArn(_))),
            "{arn:?}"
        );
    }
}

#[test]
fn decision_is_a_pure_function_of_scopes_and_routes() {
    let routes = callflow_openapi::routes().expect("routes");
    let arn = MethodArn::parse(METHOD_ARN).expect("arn");
    assert_eq!(arn.prefix(), PREFIX);
    assert_eq!(arn.method(), "GET");
    assert_eq!(arn.resource(), "events/0190");
    let table: [(&[Scope], &[&str]); 4] = [
        (&[], &[]),
        (&[Scope::EventsRead], &["getEvent", "queryEvents"]),
        (&[Scope::EventsWrite], &["storeEvent"]),
        (
            &[Scope::EventsRead, Scope::EventsWrite],
            &["getEvent", "queryEvents", "storeEvent"],
        ),
    ];
    for (scopes, operations) in table {
        let decision = decide(&scopes.iter().copied().collect(), &routes);
        match &decision {
            Decision::Allow(allowed) => {
                let mut ids: Vec<&str> = allowed.iter().map(|r| r.operation_id.as_str()).collect();
                ids.sort();
                assert_eq!(ids, operations, "{scopes:?}");
            }
            Decision::Deny => assert!(operations.is_empty(), "{scopes:?}"),
        }
        let policy = policy_document(&decision, &arn);
        assert_eq!(policy.version.as_deref(), Some("2012-10-17"));
    }
}

#[tokio::test]
async fn usage_identifier_key_is_the_configured_client_claim() {
    let ec = ec_issuer();
    let mut config = config(JwksSource::Inline(jwks_json(&[&ec.jwks().keys[0]])));
    assert_eq!(config.client_id_claim, DEFAULT_CLIENT_ID_CLAIM);
    config.client_id_claim = "azp".into();
    let authorizer = Authorizer::new(config).expect("authorizer");
    let token = ec.sign(&with(claims("events:read"), "azp", json!("partner-7")));
    let response = authorizer
        .authorize(authorizer_event(
            Some(&format!("Bearer {token}")),
            METHOD_ARN,
        ))
        .await
        .expect("allowed");
    assert_eq!(response.usage_identifier_key.as_deref(), Some("partner-7"));
    assert_eq!(response.context["clientId"], json!("partner-7"));
    // With `azp` configured, `client_id` alone does not identify the client.
    let token = ec.sign(&claims("events:read"));
    let refused = authorizer
        .authorize(authorizer_event(
            Some(&format!("Bearer {token}")),
            METHOD_ARN,
        ))
        .await;
    assert_eq!(refused, Err(AuthorizerError::Unauthorized));
}
