//! Shared test fixtures: real RSA and EC keys, JWKS documents, a JWKS HTTP server.
#![allow(dead_code)]

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use callflow_authorizer::{
    Audience, Authorizer, AuthorizerConfig, Issuer, JwksSource, TokenIssuer,
};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};
use serde_json::Value;
use tokio::net::TcpListener;

pub const ISSUER: &str = "https://issuer.test";
pub const AUDIENCE: &str = "callflow-api";
pub const METHOD_ARN: &str =
    "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/events/0190";
pub const PREFIX: &str = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/";

/// An RS256 signer with a freshly generated 2048-bit key.
pub struct RsaSigner {
    pub kid: String,
    pub key: EncodingKey,
    pub jwk: Jwk,
    pub public_pem: String,
}

impl RsaSigner {
    pub fn generate(kid: &str) -> Self {
        let private = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect("rsa keygen");
        let der = private.to_pkcs1_der().expect("pkcs1 der");
        let key = EncodingKey::from_rsa_der(der.as_bytes());
        let mut jwk = Jwk::from_encoding_key(&key, Algorithm::RS256).expect("jwk");
        jwk.common.key_id = Some(kid.to_owned());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        jwk.common.key_algorithm = Some(KeyAlgorithm::RS256);
        let public_pem = private
            .to_public_key()
            .to_pkcs1_pem(rsa::pkcs8::LineEnding::LF)
            .expect("public pem");
        Self {
            kid: kid.to_owned(),
            key,
            jwk,
            public_pem,
        }
    }

    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.key).expect("sign")
    }
}

pub fn jwks_json(keys: &[&Jwk]) -> String {
    serde_json::to_string(&JwkSet {
        keys: keys.iter().map(|k| (*k).clone()).collect(),
    })
    .expect("jwks json")
}

pub fn config(jwks: JwksSource) -> AuthorizerConfig {
    AuthorizerConfig::new(
        Issuer::new(ISSUER).expect("issuer"),
        Audience::new(AUDIENCE).expect("audience"),
        jwks,
    )
}

pub fn ec_issuer() -> TokenIssuer {
    TokenIssuer::generate(ISSUER, AUDIENCE)
}

pub fn inline_authorizer(keys: &[&Jwk]) -> Authorizer {
    Authorizer::new(config(JwksSource::Inline(jwks_json(keys)))).expect("authorizer")
}

pub fn authorizer_event(
    token: Option<&str>,
    method_arn: &str,
) -> aws_lambda_events::apigw::ApiGatewayCustomAuthorizerRequest {
    serde_json::from_value(serde_json::json!({
        "type": "TOKEN",
        "authorizationToken": token,
        "methodArn": method_arn,
    }))
    .expect("authorizer event")
}

/// A JWKS endpoint on 127.0.0.1:0 whose status and body the test can change, counting hits.
pub struct JwksServer {
    pub url: String,
    pub hits: Arc<AtomicUsize>,
    response: Arc<Mutex<(u16, String)>>,
}

impl JwksServer {
    pub async fn start(status: u16, body: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let hits = Arc::new(AtomicUsize::new(0));
        let response = Arc::new(Mutex::new((status, body)));
        let (served_hits, served) = (hits.clone(), response.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (hits, response) = (served_hits.clone(), served.clone());
                let service = service_fn(move |_req: Request<Incoming>| {
                    hits.fetch_add(1, Ordering::SeqCst);
                    let (status, body) = response.lock().expect("lock").clone();
                    async move {
                        Ok::<_, Infallible>(
                            Response::builder()
                                .status(status)
                                .header("content-type", "application/json")
                                .body(Full::new(Bytes::from(body)))
                                .expect("response"),
                        )
                    }
                });
                tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
            }
        });
        Self {
            url: format!("http://{addr}/.well-known/jwks.json"),
            hits,
            response,
        }
    }

    pub fn set(&self, status: u16, body: String) {
        *self.response.lock().expect("lock") = (status, body);
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}
