//! Shared test fixtures: real RSA and EC keys, JWKS documents, a JWKS HTTP(S) server
//! and self-signed TLS certificates generated per test.
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
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

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

/// A self-signed server certificate and its key, generated for the test.
pub struct TlsIdentity {
    pub certificate: CertificateDer<'static>,
    key: Vec<u8>,
}

impl TlsIdentity {
    /// A self-signed certificate (P-256) valid for the given names or IP addresses.
    pub fn self_signed(names: &[&str]) -> Self {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let certified = rcgen::generate_simple_self_signed(names).expect("self-signed cert");
        Self {
            certificate: certified.cert.der().clone(),
            key: certified.signing_key.serialize_der(),
        }
    }

    fn acceptor(&self) -> TlsAcceptor {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![self.certificate.clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.clone())),
            )
            .expect("server config");
        TlsAcceptor::from(Arc::new(config))
    }
}

/// A JWKS endpoint on 127.0.0.1:0 whose status and body the test can change, counting
/// TCP connections and HTTP requests served.
pub struct JwksServer {
    pub url: String,
    pub hits: Arc<AtomicUsize>,
    pub connections: Arc<AtomicUsize>,
    response: Arc<Mutex<(u16, String)>>,
}

impl JwksServer {
    /// A plain-HTTP server.
    pub async fn start(status: u16, body: String) -> Self {
        Self::serve(status, body, None).await
    }

    /// An HTTPS server presenting `identity`'s certificate.
    pub async fn start_https(status: u16, body: String, identity: &TlsIdentity) -> Self {
        Self::serve(status, body, Some(identity.acceptor())).await
    }

    async fn serve(status: u16, body: String, tls: Option<TlsAcceptor>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let hits = Arc::new(AtomicUsize::new(0));
        let connections = Arc::new(AtomicUsize::new(0));
        let response = Arc::new(Mutex::new((status, body)));
        let (served_hits, served_connections, served) =
            (hits.clone(), connections.clone(), response.clone());
        let scheme = if tls.is_some() { "https" } else { "http" };
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                served_connections.fetch_add(1, Ordering::SeqCst);
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
                let tls = tls.clone();
                tokio::spawn(async move {
                    let http = http1::Builder::new();
                    match tls {
                        // A failed handshake (client refused our certificate) just ends
                        // the connection.
                        Some(acceptor) => {
                            if let Ok(stream) = acceptor.accept(stream).await {
                                let _ = http.serve_connection(TokioIo::new(stream), service).await;
                            }
                        }
                        None => {
                            let _ = http.serve_connection(TokioIo::new(stream), service).await;
                        }
                    }
                });
            }
        });
        Self {
            url: format!("{scheme}://{addr}/.well-known/jwks.json"),
            hits,
            connections,
            response,
        }
    }

    pub fn set(&self, status: u16, body: String) {
        *self.response.lock().expect("lock") = (status, body);
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}
