//! The authorizer's token parsing: any `Authorization` header value, any three base64url
//! parts, and tokens whose header and claims are fuzzed but carry a real signature of the
//! trusted key.
//! Properties: no panic and no I/O; nothing the fuzzer can build without the key is
//! accepted; a token that is accepted really says what the verified result claims (ES256
//! header of the trusted `kid`, the configured issuer and audience, the same non-empty `sub`,
//! an `exp`).
#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use callflow_authorizer::{
    Audience, Authorizer, AuthorizerConfig, Issuer, JwksSource, Rejection, TokenIssuer, unix_now,
};
use callflow_fuzz::ready;
use jsonwebtoken::{Algorithm, EncodingKey};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const ISSUER: &str = "https://issuer.fuzz";
const AUDIENCE: &str = "callflow-api";

struct Fixture {
    authorizer: Authorizer,
    kid: String,
    key: EncodingKey,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let trusted = TokenIssuer::generate(ISSUER, AUDIENCE);
        let other = TokenIssuer::generate(ISSUER, AUDIENCE);
        let mut jwks = trusted.jwks();
        jwks.keys.extend(other.jwks().keys);
        let config = AuthorizerConfig::new(
            Issuer::new(ISSUER).expect("issuer"),
            Audience::new(AUDIENCE).expect("audience"),
            JwksSource::Inline(serde_json::to_string(&jwks).expect("jwks")),
        );
        Fixture {
            authorizer: Authorizer::new(config).expect("authorizer"),
            kid: trusted.kid().to_owned(),
            key: EncodingKey::from_ec_pem(trusted.private_key_pem().as_bytes()).expect("key"),
        }
    })
}

#[derive(Arbitrary, Debug)]
enum Input<'a> {
    /// The whole header value.
    Header(&'a str),
    /// `Bearer` + three base64url parts of arbitrary bytes (no valid signature).
    Parts {
        header: &'a [u8],
        claims: &'a [u8],
        signature: &'a [u8],
    },
    /// Arbitrary header and claims bytes, signed with the trusted key.
    SignedBytes { header: &'a [u8], claims: &'a [u8] },
    /// A near-valid header and claims with fuzzed members appended (duplicates, `crit`,
    /// `jku`, other `alg`s, empty `sub`, ...), signed with the trusted key.
    SignedMembers {
        header_members: &'a str,
        claim_members: &'a str,
        exp_offset: i32,
    },
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn signed(header: &[u8], claims: &[u8], key: &EncodingKey) -> String {
    let message = format!("{}.{}", b64(header), b64(claims));
    let signature =
        jsonwebtoken::crypto::sign(message.as_bytes(), key, Algorithm::ES256).expect("sign");
    format!("{message}.{signature}")
}

fuzz_target!(|input: Input<'_>| {
    let fixture = fixture();
    let verify = |header: &str| ready(fixture.authorizer.verify(Some(header)));
    match input {
        Input::Header(value) => {
            let result = verify(value);
            assert!(
                result.is_err(),
                "accepted a header the fuzzer made: {value:?}"
            );
        }
        Input::Parts {
            header,
            claims,
            signature,
        } => {
            let value = format!("Bearer {}.{}.{}", b64(header), b64(claims), b64(signature));
            assert!(
                verify(&value).is_err(),
                "accepted an unsigned token: {value}"
            );
        }
        Input::SignedBytes { header, claims } => {
            let token = signed(header, claims, &fixture.key);
            check_accepted(fixture, header, claims, verify(&format!("Bearer {token}")));
        }
        Input::SignedMembers {
            header_members,
            claim_members,
            exp_offset,
        } => {
            let header = format!(
                r#"{{"alg":"ES256","kid":"{}"{header_members}}}"#,
                fixture.kid
            );
            let exp = i64::try_from(unix_now()).unwrap_or(i64::MAX) + i64::from(exp_offset);
            let claims = format!(
                r#"{{"iss":"{ISSUER}","aud":"{AUDIENCE}","sub":"fuzz","exp":{exp}{claim_members}}}"#
            );
            let token = signed(header.as_bytes(), claims.as_bytes(), &fixture.key);
            check_accepted(
                fixture,
                header.as_bytes(),
                claims.as_bytes(),
                verify(&format!("Bearer {token}")),
            );
        }
    }
});

/// When a signed token is accepted, its header and claims must justify it.
fn check_accepted(
    fixture: &Fixture,
    header: &[u8],
    claims: &[u8],
    result: Result<callflow_authorizer::VerifiedToken, Rejection>,
) {
    let verified = match result {
        Ok(verified) => verified,
        Err(Rejection::KeysUnavailable(message)) => panic!("inline keys unavailable: {message}"),
        Err(_) => return,
    };
    let header: Value = serde_json::from_slice(header).expect("accepted header is JSON");
    assert_eq!(header["alg"], "ES256", "{header}");
    assert_eq!(header["kid"], fixture.kid.as_str(), "{header}");
    let claims: Value = serde_json::from_slice(claims).expect("accepted claims are JSON");
    assert_eq!(claims["iss"], ISSUER, "{claims}");
    let audience_ok = match &claims["aud"] {
        Value::String(aud) => aud == AUDIENCE,
        Value::Array(list) => list.iter().any(|a| a == AUDIENCE),
        _ => false,
    };
    assert!(audience_ok, "{claims}");
    assert!(claims["exp"].is_number(), "{claims}");
    assert_eq!(claims["sub"], verified.subject.as_str(), "{claims}");
    assert!(!verified.subject.trim().is_empty());
}
