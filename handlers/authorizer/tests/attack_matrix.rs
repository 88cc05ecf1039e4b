//! A matrix of attack tokens, each with the decision the authorizer must reach: algorithm
//! confusion, `kid` injection, `jku`/`x5u`/`jwk` headers pointing elsewhere, huge tokens,
//! nested JWS, critical headers, keys removed by a JWKS rotation. JWKS fetch failures of
//! every kind must fail closed (an error, never a policy).
//!
//! Keys are real (RSA 2048 and P-256 generated here); the `jku`/`x5u` targets are a real
//! HTTP server on 127.0.0.1:0 that counts requests, so "never fetched" is observed.

mod common;

use std::time::Duration;

use aws_lambda_events::iam::IamPolicyEffect;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use callflow_authorizer::{
    Authorizer, AuthorizerError, JwksSource, JwksUrl, MAX_TOKEN_BYTES, TokenIssuer, unix_now,
};
use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

/// What the authorizer must decide for a token.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expect {
    /// A policy allowing the token's routes.
    Allow,
    /// Refused with `Unauthorized` (401), for this logged reason.
    Unauthorized(&'static str),
    /// No decision possible (keys unavailable): an error, which API Gateway answers 500.
    FailClosed,
}

/// One row of the matrix.
struct Attack {
    name: &'static str,
    header: String,
    expect: Expect,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn b64_json(value: &Value) -> String {
    b64(&serde_json::to_vec(value).expect("json"))
}

/// A compact JWS over exactly these header and payload bytes, signed with `key`.
fn sign_raw(header: &Value, payload: &[u8], key: &EncodingKey, alg: Algorithm) -> String {
    let message = format!("{}.{}", b64_json(header), b64(payload));
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), key, alg).expect("sign");
    format!("{message}.{signature}")
}

fn sign_header(header: &Value, claims: &Value, key: &EncodingKey, alg: Algorithm) -> String {
    sign_raw(header, &serde_json::to_vec(claims).expect("json"), key, alg)
}

fn claims(sub: &str) -> Value {
    let now = unix_now();
    json!({"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "client_id": "app-1", "scope": "events:read events:write",
           "iat": now, "nbf": now, "exp": now + 300})
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// The decision the authorizer actually reaches for one header value.
async fn decide(authorizer: &Authorizer, header: &str) -> Expect {
    match authorizer
        .authorize(authorizer_event(Some(header), METHOD_ARN))
        .await
    {
        Ok(response) => match response.policy_document.statement[0].effect {
            IamPolicyEffect::Allow => Expect::Allow,
            _ => Expect::Unauthorized("explicit deny"),
        },
        Err(AuthorizerError::Unauthorized) => Expect::Unauthorized(
            authorizer
                .verify(Some(header))
                .await
                .expect_err("verify agrees with authorize")
                .reason(),
        ),
        Err(AuthorizerError::KeysUnavailable) => Expect::FailClosed,
        Err(other) => panic!("unexpected authorizer error {other}"),
    }
}

/// A TCP server on 127.0.0.1:0 that counts connections and answers each with `body`
/// (an attacker's JWKS or certificate).
struct AttackerServer {
    url: String,
    connections: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl AttackerServer {
    async fn start(body: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/jwks.json", listener.local_addr().expect("addr"));
        let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = connections.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            }
        });
        Self { url, connections }
    }

    fn connections(&self) -> usize {
        self.connections.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[tokio::test]
async fn every_attack_token_gets_its_expected_decision() {
    let trusted_ec = ec_issuer();
    let trusted_rsa = RsaSigner::generate("rsa-1");
    let ec_jwk = trusted_ec.jwks().keys.remove(0);
    let authorizer = inline_authorizer(&[&ec_jwk, &trusted_rsa.jwk]);
    let ec_key = EncodingKey::from_ec_pem(trusted_ec.private_key_pem().as_bytes()).expect("ec key");
    let ec_kid = trusted_ec.kid().to_owned();

    let attacker = TokenIssuer::generate(ISSUER, AUDIENCE);
    let attacker_key =
        EncodingKey::from_ec_pem(attacker.private_key_pem().as_bytes()).expect("attacker key");
    let attacker_jwk = serde_json::to_value(&attacker.jwks().keys[0]).expect("jwk");
    let attacker_rsa = RsaSigner::generate("rsa-1");
    let server = AttackerServer::start(attacker.jwks_json()).await;

    let alice = claims("alice");
    let valid = trusted_ec.sign(&alice);
    let es256 = |extra: Value| {
        let mut header = json!({"alg": "ES256", "typ": "JWT"});
        for (k, v) in extra.as_object().expect("object") {
            header[k] = v.clone();
        }
        header
    };
    let hmac = |alg: Algorithm, kid: &str, secret: &[u8]| {
        let mut header = Header::new(alg);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, &alice, &EncodingKey::from_secret(secret)).expect("hmac")
    };
    let unsigned = |header: Value, signature: &str| {
        format!("{}.{}.{signature}", b64_json(&header), b64_json(&alice))
    };
    // Claims padded so that the whole token is exactly MAX_TOKEN_BYTES long.
    // The largest token of this shape that still fits MAX_TOKEN_BYTES, and the next larger
    // one (ES256 signatures have a fixed length: the size follows from a padding claim).
    let (at_limit, over_limit) = {
        let sized = |pad: usize| {
            let mut padded = alice.clone();
            padded["pad"] = json!("p".repeat(pad));
            trusted_ec.sign(&padded)
        };
        let mut pad = 0;
        while sized(pad + 1).len() <= MAX_TOKEN_BYTES {
            pad += (MAX_TOKEN_BYTES - sized(pad + 1).len()).div_ceil(2).max(1);
        }
        while sized(pad).len() > MAX_TOKEN_BYTES {
            pad -= 1;
        }
        (sized(pad), sized(pad + 1))
    };
    assert!(MAX_TOKEN_BYTES - at_limit.len() <= 2 && over_limit.len() > MAX_TOKEN_BYTES);
    // As deep as fits in MAX_TOKEN_BYTES: parsing must neither overflow the stack nor
    // reject a token that is otherwise fine (the issuer signed it).
    let deeply_nested = {
        let payload = format!(
            r#"{{"iss":"{ISSUER}","aud":"{AUDIENCE}","sub":"alice","client_id":"app-1","scope":"events:read","exp":{},"nested":{}{}}}"#,
            unix_now() + 300,
            "[".repeat(2800),
            "]".repeat(2800)
        );
        sign_raw(
            &es256(json!({"kid": ec_kid})),
            payload.as_bytes(),
            &ec_key,
            Algorithm::ES256,
        )
    };
    let other_valid = trusted_ec.sign(&claims("mallory"));
    let spliced = {
        let parts: Vec<&str> = valid.split('.').collect();
        let other: Vec<&str> = other_valid.split('.').collect();
        format!("{}.{}.{}", parts[0], other[1], parts[2])
    };

    let attacks = vec![
        // --- baseline, so that a matrix of refusals cannot pass with a broken authorizer
        Attack { name: "baseline: valid ES256", header: bearer(&valid), expect: Expect::Allow },
        Attack {
            name: "baseline: largest token that fits MAX_TOKEN_BYTES",
            header: bearer(&at_limit),
            expect: Expect::Allow,
        },
        // --- algorithm confusion
        Attack {
            name: "alg none, empty signature",
            header: bearer(&unsigned(json!({"alg": "none", "kid": ec_kid}), "")),
            expect: Expect::Unauthorized("malformed"),
        },
        Attack {
            name: "alg none, junk signature",
            header: bearer(&unsigned(json!({"alg": "none", "kid": ec_kid}), "AAAA")),
            expect: Expect::Unauthorized("algorithm"),
        },
        Attack {
            name: "alg nOnE (case games)",
            header: bearer(&unsigned(json!({"alg": "nOnE", "kid": ec_kid}), "AAAA")),
            expect: Expect::Unauthorized("algorithm"),
        },
        Attack {
            name: "HS256 keyed with the trusted RSA public key PEM",
            header: bearer(&hmac(Algorithm::HS256, "rsa-1", trusted_rsa.public_pem.as_bytes())),
            expect: Expect::Unauthorized("algorithm"),
        },
        Attack {
            name: "HS256 keyed with the trusted EC JWK JSON",
            header: bearer(&hmac(
                Algorithm::HS256,
                &ec_kid,
                serde_json::to_string(&ec_jwk).expect("jwk").as_bytes(),
            )),
            expect: Expect::Unauthorized("algorithm"),
        },
        Attack {
            name: "HS512 keyed with the whole JWKS document",
            header: bearer(&hmac(
                Algorithm::HS512,
                &ec_kid,
                jwks_json(&[&ec_jwk, &trusted_rsa.jwk]).as_bytes(),
            )),
            expect: Expect::Unauthorized("algorithm"),
        },
        Attack {
            name: "PS256 with the trusted RSA private key (right key, alg not allowlisted)",
            header: bearer(&{
                let mut header = Header::new(Algorithm::PS256);
                header.kid = Some("rsa-1".into());
                jsonwebtoken::encode(&header, &alice, &trusted_rsa.key).expect("ps256")
            }),
            expect: Expect::Unauthorized("algorithm"),
        },
        Attack {
            name: "RS256 header on the EC kid, signed by an attacker RSA key",
            header: bearer(&{
                let mut header = Header::new(Algorithm::RS256);
                header.kid = Some(ec_kid.clone());
                jsonwebtoken::encode(&header, &alice, &attacker_rsa.key).expect("rs256")
            }),
            expect: Expect::Unauthorized("algorithm"),
        },
        Attack {
            name: "ES256 header on the RSA kid",
            header: bearer(&sign_header(
                &es256(json!({"kid": "rsa-1"})),
                &alice,
                &attacker_key,
                Algorithm::ES256,
            )),
            expect: Expect::Unauthorized("algorithm"),
        },
        Attack {
            name: "ES384 header",
            header: bearer(&unsigned(json!({"alg": "ES384", "kid": ec_kid}), "AAAA")),
            expect: Expect::Unauthorized("algorithm"),
        },
        Attack {
            name: "EdDSA header",
            header: bearer(&unsigned(json!({"alg": "EdDSA", "kid": ec_kid}), "AAAA")),
            expect: Expect::Unauthorized("algorithm"),
        },
        // --- kid injection
        Attack {
            name: "kid path traversal",
            header: bearer(&sign_header(
                &es256(json!({"kid": "../../../../../../etc/passwd"})),
                &alice,
                &attacker_key,
                Algorithm::ES256,
            )),
            expect: Expect::Unauthorized("unknown_kid"),
        },
        Attack {
            name: "kid SQL injection",
            header: bearer(&sign_header(
                &es256(json!({"kid": "x' UNION SELECT 'secret' --"})),
                &alice,
                &attacker_key,
                Algorithm::ES256,
            )),
            expect: Expect::Unauthorized("unknown_kid"),
        },
        Attack {
            name: "kid = trusted kid + NUL + junk",
            header: bearer(&sign_header(
                &es256(json!({"kid": format!("{ec_kid}\u{0}../x")})),
                &alice,
                &attacker_key,
                Algorithm::ES256,
            )),
            expect: Expect::Unauthorized("unknown_kid"),
        },
        Attack {
            name: "kid is a URL to the attacker's keys",
            header: bearer(&sign_header(
                &es256(json!({"kid": server.url})),
                &alice,
                &attacker_key,
                Algorithm::ES256,
            )),
            expect: Expect::Unauthorized("unknown_kid"),
        },
        Attack {
            name: "kid of 4000 characters",
            header: bearer(&sign_header(
                &es256(json!({"kid": "k".repeat(4000)})),
                &alice,
                &attacker_key,
                Algorithm::ES256,
            )),
            expect: Expect::Unauthorized("unknown_kid"),
        },
        Attack {
            name: "kid is a number (header does not parse; alg is logged)",
            header: bearer(&unsigned(json!({"alg": "ES256", "kid": 7}), "AAAA")),
            expect: Expect::Unauthorized("algorithm"),
        },
        Attack {
            name: "trusted kid, attacker signature",
            header: bearer(&sign_header(
                &es256(json!({"kid": ec_kid})),
                &alice,
                &attacker_key,
                Algorithm::ES256,
            )),
            expect: Expect::Unauthorized("signature"),
        },
        // --- keys from elsewhere
        Attack {
            name: "jku pointing at the attacker's JWKS",
            header: bearer(&sign_header(
                &es256(json!({"kid": attacker.kid(), "jku": server.url})),
                &alice,
                &attacker_key,
                Algorithm::ES256,
            )),
            expect: Expect::Unauthorized("unknown_kid"),
        },
        Attack {
            name: "x5u pointing at the attacker's server",
            header: bearer(&sign_header(
                &es256(json!({"kid": attacker.kid(), "x5u": server.url})),
                &alice,
                &attacker_key,
                Algorithm::ES256,
            )),
            expect: Expect::Unauthorized("unknown_kid"),
        },
        Attack {
            name: "jku + trusted kid, attacker signature",
            header: bearer(&sign_header(
                &es256(json!({"kid": ec_kid, "jku": server.url})),
                &alice,
                &attacker_key,
                Algorithm::ES256,
            )),
            expect: Expect::Unauthorized("signature"),
        },
        Attack {
            name: "embedded jwk of the attacker, no kid",
            header: bearer(&sign_header(
                &es256(json!({"jwk": attacker_jwk})),
                &alice,
                &attacker_key,
                Algorithm::ES256,
            )),
            expect: Expect::Unauthorized("unknown_kid"),
        },
        Attack {
            name: "embedded jwk of the attacker, trusted kid",
            header: bearer(&sign_header(
                &es256(json!({"kid": ec_kid, "jwk": attacker_jwk})),
                &alice,
                &attacker_key,
                Algorithm::ES256,
            )),
            expect: Expect::Unauthorized("signature"),
        },
        Attack {
            name: "x5c chain of junk, trusted kid, attacker signature",
            header: bearer(&sign_header(
                &es256(json!({"kid": ec_kid, "x5c": ["MIIBAAAA", "MIIBBBBB"]})),
                &alice,
                &attacker_key,
                Algorithm::ES256,
            )),
            expect: Expect::Unauthorized("signature"),
        },
        // --- size
        Attack {
            name: "validly signed, one claim byte over MAX_TOKEN_BYTES",
            header: bearer(&over_limit),
            expect: Expect::Unauthorized("oversized"),
        },
        Attack {
            name: "1 MiB token",
            header: bearer(&format!("{}.{}.{}", "a".repeat(512 * 1024), "b".repeat(512 * 1024), "c")),
            expect: Expect::Unauthorized("oversized"),
        },
        Attack {
            name: "thousands of parts",
            header: bearer(&"e30.".repeat(1500)),
            expect: Expect::Unauthorized("malformed"),
        },
        Attack {
            name: "claims nested 2800 deep, validly signed (decided, no stack overflow)",
            header: bearer(&deeply_nested),
            expect: Expect::Allow,
        },
        Attack {
            name: "JOSE header nested 4000 deep, unsigned",
            header: bearer(&format!(
                "{}.{}.AAAA",
                b64(format!(r#"{{"alg":"ES256","x":{}{}}}"#, "[".repeat(2000), "]".repeat(2000)).as_bytes()),
                b64_json(&alice)
            )),
            expect: Expect::Unauthorized("bad_header"),
        },
        // --- nested and spliced JWS
        Attack {
            name: "nested JWS: trusted outer signature over a token, cty JWT",
            header: bearer(&sign_raw(
                &es256(json!({"kid": ec_kid, "cty": "JWT"})),
                valid.as_bytes(),
                &ec_key,
                Algorithm::ES256,
            )),
            expect: Expect::Unauthorized("claims"),
        },
        Attack {
            name: "nested JWS: alg none outer around a valid inner token",
            header: bearer(&format!(
                "{}.{}.AAAA",
                b64_json(&json!({"alg": "none", "cty": "JWT"})),
                b64(valid.as_bytes())
            )),
            expect: Expect::Unauthorized("algorithm"),
        },
        Attack {
            name: "payload of another valid token spliced in",
            header: bearer(&spliced),
            expect: Expect::Unauthorized("signature"),
        },
        Attack {
            name: "JWE-shaped (five parts)",
            header: bearer(&format!("{valid}.AAAA.BBBB")),
            expect: Expect::Unauthorized("malformed"),
        },
        Attack {
            name: "JWS JSON serialization instead of compact",
            header: bearer(
                &json!({"payload": b64_json(&alice), "signatures": [{"protected": "e30", "signature": "AAAA"}]})
                    .to_string(),
            ),
            expect: Expect::Unauthorized("malformed"),
        },
        Attack {
            name: "two tokens in one header",
            header: format!("Bearer {valid} {valid}"),
            expect: Expect::Unauthorized("malformed"),
        },
        Attack {
            name: "duplicate sub claim (alice, then admin), validly signed",
            header: bearer(&sign_raw(
                &es256(json!({"kid": ec_kid})),
                serde_json::to_string(&alice)
                    .expect("json")
                    .replacen('{', "{\"sub\":\"admin\",", 1)
                    .as_bytes(),
                &ec_key,
                Algorithm::ES256,
            )),
            expect: Expect::Unauthorized("claims"),
        },
        Attack {
            name: "exp as a string far in the future, validly signed",
            header: bearer(&trusted_ec.sign(&{
                let mut c = alice.clone();
                c["exp"] = json!("99999999999");
                c
            })),
            expect: Expect::Unauthorized("missing_claim"),
        },
    ];

    let attack_count = attacks
        .iter()
        .filter(|a| !a.name.starts_with("baseline"))
        .count();
    assert!(attack_count >= 20, "only {attack_count} attack tokens");
    let mut failures = Vec::new();
    for attack in &attacks {
        let actual = decide(&authorizer, &attack.header).await;
        if actual != attack.expect {
            failures.push(format!(
                "{}: expected {:?}, got {actual:?}",
                attack.name, attack.expect
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        server.connections(),
        0,
        "the authorizer contacted a URL named in a token"
    );
    println!("attack matrix: {attack_count} attack tokens, all decided as expected");
}

/// RFC 7515 §4.1.11: a `crit` header naming extensions the recipient does not understand
/// (or an empty `crit`) MUST make the JWS invalid, even when its signature is good.
#[tokio::test]
async fn critical_header_parameters_are_refused() {
    let trusted = ec_issuer();
    let authorizer = inline_authorizer(&[&trusted.jwks().keys[0]]);
    let key = EncodingKey::from_ec_pem(trusted.private_key_pem().as_bytes()).expect("key");
    let cases = [
        json!({"alg": "ES256", "kid": trusted.kid(), "crit": ["urn:example:must-understand"],
               "urn:example:must-understand": true}),
        json!({"alg": "ES256", "kid": trusted.kid(), "crit": ["b64"], "b64": false}),
        json!({"alg": "ES256", "kid": trusted.kid(), "crit": []}),
        json!({"alg": "ES256", "kid": trusted.kid(), "crit": ["exp"]}),
    ];
    for header in cases {
        let token = sign_header(&header, &claims("alice"), &key, Algorithm::ES256);
        let decision = decide(&authorizer, &bearer(&token)).await;
        assert!(
            matches!(decision, Expect::Unauthorized(_)),
            "{header}: {decision:?}"
        );
    }
}

fn url_authorizer(url: &str, min_interval: Duration, timeout: Duration) -> Authorizer {
    let mut config = config(JwksSource::Url(JwksUrl::parse(url).expect("url")));
    config.refetch.min_interval = min_interval;
    config.refetch.retry_when_empty = min_interval;
    config.refetch.timeout = timeout;
    Authorizer::new(config).expect("authorizer")
}

fn token_of(issuer: &TokenIssuer) -> String {
    bearer(&issuer.issue("alice", &["events:read"], Duration::from_secs(300)))
}

#[tokio::test]
async fn a_key_removed_by_rotation_stops_verifying_once_the_new_set_is_loaded() {
    let old = ec_issuer();
    let new = ec_issuer();
    let jwks = JwksServer::start(200, old.jwks_json()).await;
    let authorizer = url_authorizer(&jwks.url, Duration::from_secs(1), Duration::from_secs(2));
    assert_eq!(decide(&authorizer, &token_of(&old)).await, Expect::Allow);

    // The issuer rotates: the old key is withdrawn (say it leaked), the new one published.
    jwks.set(200, new.jwks_json());
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        decide(&authorizer, &token_of(&new)).await,
        Expect::Allow,
        "the first token of the new key loads the new set"
    );
    assert_eq!(jwks.hits(), 2);
    assert_eq!(
        decide(&authorizer, &token_of(&old)).await,
        Expect::Unauthorized("unknown_kid"),
        "a still-unexpired token of the withdrawn key is refused"
    );
    // Replaying old-key tokens does not turn into a refetch storm (at most one fetch per
    // second; these replays take well under one).
    for _ in 0..10 {
        assert_eq!(
            decide(&authorizer, &token_of(&old)).await,
            Expect::Unauthorized("unknown_kid")
        );
    }
    assert_eq!(jwks.hits(), 2);
}

#[tokio::test]
async fn every_kind_of_jwks_failure_fails_closed() {
    let issuer = ec_issuer();
    let hmac_jwks = json!({"keys": [{"kty": "oct", "kid": issuer.kid(), "alg": "HS256",
                                     "k": b64(b"attacker-planted-secret")}]})
    .to_string();
    let huge_jwks = format!(
        "{{\"keys\": [], \"pad\": \"{}\"}}",
        "x".repeat(callflow_authorizer::MAX_JWKS_BYTES)
    );
    let cases: Vec<(&str, u16, String)> = vec![
        ("HTTP 500", 500, "oops".into()),
        ("HTTP 404", 404, "{}".into()),
        ("HTTP 302 to elsewhere", 302, String::new()),
        ("HTML instead of JSON", 200, "<html>login</html>".into()),
        ("empty key list", 200, "{\"keys\": []}".into()),
        ("only a symmetric key", 200, hmac_jwks),
        ("larger than MAX_JWKS_BYTES", 200, huge_jwks),
        ("truncated JSON", 200, issuer.jwks_json()[..40].to_owned()),
    ];
    for (name, status, body) in cases {
        let server = JwksServer::start(status, body).await;
        let authorizer =
            url_authorizer(&server.url, Duration::from_secs(60), Duration::from_secs(2));
        assert_eq!(
            decide(&authorizer, &token_of(&issuer)).await,
            Expect::FailClosed,
            "{name}"
        );
        // An HS256 token made with the planted secret is not accepted either.
        let forged = {
            let mut header = Header::new(Algorithm::HS256);
            header.kid = Some(issuer.kid().to_owned());
            jsonwebtoken::encode(
                &header,
                &claims("mallory"),
                &EncodingKey::from_secret(b"attacker-planted-secret"),
            )
            .expect("hs256")
        };
        assert_ne!(
            decide(&authorizer, &bearer(&forged)).await,
            Expect::Allow,
            "{name}"
        );
    }
}

#[tokio::test]
async fn an_endpoint_that_never_answers_fails_closed_within_the_timeout() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/jwks", listener.local_addr().expect("addr"));
    // Accept connections and hold them open without a byte of response.
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            open.push(stream);
        }
    });
    let authorizer = url_authorizer(&url, Duration::from_secs(60), Duration::from_millis(300));
    let started = std::time::Instant::now();
    assert_eq!(
        decide(&authorizer, &token_of(&ec_issuer())).await,
        Expect::FailClosed
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    held.abort();
}

#[tokio::test]
async fn an_outage_after_loading_keeps_known_keys_and_fails_closed_for_new_ones() {
    let known = ec_issuer();
    let unknown = ec_issuer();
    let jwks = JwksServer::start(200, known.jwks_json()).await;
    let authorizer = url_authorizer(
        &jwks.url,
        Duration::from_millis(100),
        Duration::from_secs(2),
    );
    assert_eq!(decide(&authorizer, &token_of(&known)).await, Expect::Allow);
    jwks.set(503, "down".into());
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(
        decide(&authorizer, &token_of(&unknown)).await,
        Expect::FailClosed,
        "a kid that needs a refetch during the outage is an error, never an Allow"
    );
    assert_eq!(decide(&authorizer, &token_of(&known)).await, Expect::Allow);
}
