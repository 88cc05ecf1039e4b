//! The handlers' S3 client over HTTPS with the trust [`PlatformTrust`] builds, against a
//! real local TLS server whose certificate is generated here: a bundle holding that
//! certificate lets the request through the handshake; a bundle without it, or one for
//! another name, fails the request before the server sees any HTTP.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use callflow_core::s3_http::{PlatformTrust, https_client};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::TlsAcceptor;

/// A self-signed certificate for `names`, its key, and its PEM.
struct Identity {
    certificate: CertificateDer<'static>,
    key: Vec<u8>,
    pem: String,
}

fn identity(names: &[&str]) -> Identity {
    let certified = rcgen::generate_simple_self_signed(
        names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>(),
    )
    .expect("self-signed certificate");
    Identity {
        certificate: certified.cert.der().clone(),
        key: certified.signing_key.serialize_der(),
        pem: pem_of(certified.cert.der()),
    }
}

/// A certificate as a PEM block, the form bundle files hold.
fn pem_of(der: &[u8]) -> String {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in encoded.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem
}

/// An HTTPS server on 127.0.0.1:0 answering every request `200` with an empty body (what
/// `HeadBucket` expects), counting the requests it read after a completed handshake.
async fn serve(identity: &Identity) -> (String, Arc<AtomicUsize>) {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![identity.certificate.clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(identity.key.clone())),
        )
        .expect("server config");
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("https://{}", listener.local_addr().expect("address"));
    let requests = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&requests);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, counted) = (acceptor.clone(), Arc::clone(&counted));
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                loop {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                    while let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                        head.drain(..end + 4);
                        counted.fetch_add(1, Ordering::SeqCst);
                        let answer =
                            "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nx-amz-request-id: t\r\n\r\n";
                        if tls.write_all(answer.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    (url, requests)
}

fn bundle(pem: &str) -> PlatformTrust {
    match PlatformTrust::from_bundle("test-bundle.pem".into(), pem.as_bytes().to_vec()) {
        trust @ PlatformTrust::Bundle {
            certificates: 1, ..
        } => trust,
        other => panic!("the test certificate is a valid bundle, got {other:?}"),
    }
}

async fn head_bucket(url: &str, trust: PlatformTrust) -> Result<(), String> {
    let config = aws_sdk_s3::config::Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .endpoint_url(url)
        .force_path_style(true)
        .retry_config(RetryConfig::disabled())
        .http_client(https_client(trust))
        .build();
    aws_sdk_s3::Client::from_conf(config)
        .head_bucket()
        .bucket("callflow-events")
        .send()
        .await
        .map(|_| ())
        .map_err(|e| format!("{:?}", aws_sdk_s3::error::DisplayErrorContext(e)))
}

#[tokio::test]
async fn a_bundle_holding_the_servers_certificate_is_trusted() {
    let server = identity(&["127.0.0.1"]);
    let (url, requests) = serve(&server).await;
    head_bucket(&url, bundle(&server.pem))
        .await
        .expect("the handshake verifies against the bundle");
    assert_eq!(requests.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_bundle_without_it_or_for_another_name_fails_before_any_request() {
    let server = identity(&["127.0.0.1"]);
    let (url, requests) = serve(&server).await;
    let stranger = identity(&["127.0.0.1"]);
    let error = head_bucket(&url, bundle(&stranger.pem))
        .await
        .expect_err("an unknown issuer is refused");
    assert!(
        error.to_lowercase().contains("certificate") || error.contains("UnknownIssuer"),
        "{error}"
    );

    let misnamed = identity(&["s3.example.test"]);
    let (url, misnamed_requests) = serve(&misnamed).await;
    head_bucket(&url, bundle(&misnamed.pem))
        .await
        .expect_err("a certificate for another name is refused");
    assert_eq!(requests.load(Ordering::SeqCst), 0);
    assert_eq!(misnamed_requests.load(Ordering::SeqCst), 0);
}
