//! The HTTP client under the handlers' S3 client, chosen for the endpoint it talks to.
//!
//! The SDK's default HTTPS client loads the platform's root certificates the way OpenSSL
//! would: the CA bundle file *and* every file of the certificate directory (on Debian about
//! 290 files, most of them the bundle's certificates again), and parses them all when the
//! client is built, again when its first connection is made. That is most of a storer's or
//! retriever's cold start. Here:
//!
//! - an `http://` endpoint (a local S3-compatible store, `callflow dev`) never handshakes,
//!   so its client has no TLS at all;
//! - an `https://` endpoint or AWS itself trusts the platform's CA *bundle*, one file read
//!   once ([`PlatformTrust`]): the same certificates OpenSSL and curl trust on that
//!   platform, without the directory walk. `SSL_CERT_FILE` / `SSL_CERT_DIR` are honoured as
//!   OpenSSL honours them, and where no bundle is found (or it does not parse) the SDK's own
//!   native-roots loading is used, so no platform trusts less than before.

use std::path::{Path, PathBuf};

use aws_sdk_s3::config::SharedHttpClient;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// Where Linux distributions keep their CA bundle (the same list Go's `crypto/x509` reads),
/// Amazon Linux (Lambda's `provided.al2023`) first.
pub const CA_BUNDLE_LOCATIONS: [&str; 6] = [
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// The roots the HTTPS client trusts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlatformTrust {
    /// The certificates of one PEM bundle file.
    Bundle {
        /// The file read.
        path: PathBuf,
        /// Its contents (every certificate in it parsed as a trust anchor).
        pem: Vec<u8>,
        /// How many certificates it holds.
        certificates: usize,
    },
    /// The SDK's native-roots loading (bundle plus certificate directories), used when
    /// `SSL_CERT_DIR` is set, when no bundle exists, or when the bundle has a certificate
    /// that does not parse (the SDK would refuse the whole bundle).
    NativeRoots {
        /// Why the bundle was not used.
        reason: String,
    },
}

impl PlatformTrust {
    /// The platform's trust, read from this process's environment and file system.
    pub fn locate() -> Self {
        Self::locate_with(
            |name| std::env::var_os(name).filter(|v| !v.is_empty()),
            &CA_BUNDLE_LOCATIONS.map(Path::new),
        )
    }

    /// [`PlatformTrust::locate`] with the environment and the candidate files given.
    pub fn locate_with(
        env: impl Fn(&str) -> Option<std::ffi::OsString>,
        candidates: &[&Path],
    ) -> Self {
        if env("SSL_CERT_DIR").is_some() {
            return Self::NativeRoots {
                reason: "SSL_CERT_DIR is set".to_owned(),
            };
        }
        let path = match env("SSL_CERT_FILE") {
            Some(file) => PathBuf::from(file),
            None => match candidates.iter().find(|p| p.is_file()) {
                Some(p) => p.to_path_buf(),
                None => {
                    return Self::NativeRoots {
                        reason: "no CA bundle file found".to_owned(),
                    };
                }
            },
        };
        match std::fs::read(&path) {
            Ok(pem) => Self::from_bundle(path, pem),
            Err(e) => Self::NativeRoots {
                reason: format!("reading {}: {e}", path.display()),
            },
        }
    }

    /// Checks every certificate of a PEM bundle the way the SDK will load it (it panics on
    /// one that does not parse, so such a bundle is left to the native-roots loader).
    pub fn from_bundle(path: PathBuf, pem: Vec<u8>) -> Self {
        let mut roots = rustls::RootCertStore::empty();
        for (n, der) in CertificateDer::pem_slice_iter(&pem).enumerate() {
            let parsed = der
                .map_err(|e| e.to_string())
                .and_then(|der| roots.add(der).map_err(|e| e.to_string()));
            if let Err(e) = parsed {
                return Self::NativeRoots {
                    reason: format!("{}: certificate {n}: {e}", path.display()),
                };
            }
        }
        if roots.is_empty() {
            return Self::NativeRoots {
                reason: format!("{} holds no certificate", path.display()),
            };
        }
        Self::Bundle {
            path,
            pem,
            certificates: roots.len(),
        }
    }

    fn trust_store(self) -> TrustStore {
        match self {
            Self::Bundle { pem, .. } => TrustStore::empty().with_pem_certificate(pem),
            Self::NativeRoots { .. } => TrustStore::default(),
        }
    }
}

/// The HTTP client for an S3 endpoint: plain HTTP for an `http://` endpoint, else
/// [`https_client`] trusting [`PlatformTrust::locate`].
pub fn s3_http_client(endpoint: Option<&str>) -> SharedHttpClient {
    if endpoint.is_some_and(|e| e.starts_with("http://")) {
        return aws_smithy_http_client::Builder::new().build_http();
    }
    https_client(PlatformTrust::locate())
}

/// The SDK's HTTPS client (hyper, rustls with aws-lc) trusting `trust`.
pub fn https_client(trust: PlatformTrust) -> SharedHttpClient {
    match &trust {
        PlatformTrust::Bundle {
            path, certificates, ..
        } => tracing::debug!(bundle = %path.display(), certificates, "trusting the CA bundle"),
        PlatformTrust::NativeRoots { reason } => {
            tracing::debug!(%reason, "trusting the platform's native roots")
        }
    }
    let builder = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc));
    match TlsContext::builder()
        .with_trust_store(trust.trust_store())
        .build()
    {
        Ok(context) => builder.tls_context(context).build_https(),
        // Building a context cannot fail today; if it ever does, the SDK's defaults apply.
        Err(_) => builder.build_https(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn no_env(_: &str) -> Option<OsString> {
        None
    }

    #[test]
    fn the_first_existing_bundle_is_read_and_every_certificate_counted() {
        let platform = CA_BUNDLE_LOCATIONS.map(Path::new);
        let Some(bundle) = platform.iter().find(|p| p.is_file()) else {
            eprintln!("skipped: this machine has no CA bundle at the usual places");
            return;
        };
        let expected = std::fs::read_to_string(bundle)
            .expect("readable bundle")
            .matches("-----BEGIN CERTIFICATE-----")
            .count();
        match PlatformTrust::locate_with(no_env, &platform) {
            PlatformTrust::Bundle {
                path, certificates, ..
            } => {
                assert_eq!(&path, bundle);
                assert_eq!(certificates, expected);
            }
            other => panic!("expected the bundle, got {other:?}"),
        }
    }

    #[test]
    fn ssl_cert_file_wins_and_ssl_cert_dir_defers_to_the_native_loader() {
        let dir = std::env::temp_dir().join(format!("callflow-trust-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let missing = dir.join("missing.pem");
        let env_file = |name: &str| (name == "SSL_CERT_FILE").then(|| missing.clone().into());
        match PlatformTrust::locate_with(env_file, &CA_BUNDLE_LOCATIONS.map(Path::new)) {
            PlatformTrust::NativeRoots { reason } => assert!(reason.contains("missing.pem")),
            other => panic!("SSL_CERT_FILE must be the file read, got {other:?}"),
        }
        let env_dir = |name: &str| (name == "SSL_CERT_DIR").then(|| OsString::from("/x"));
        assert_eq!(
            PlatformTrust::locate_with(env_dir, &[]),
            PlatformTrust::NativeRoots {
                reason: "SSL_CERT_DIR is set".to_owned()
            }
        );
        assert!(matches!(
            PlatformTrust::locate_with(no_env, &[missing.as_path()]),
            PlatformTrust::NativeRoots { .. }
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_bundle_with_a_broken_certificate_is_left_to_the_native_loader() {
        let broken = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_vec();
        assert!(matches!(
            PlatformTrust::from_bundle("broken.pem".into(), broken),
            PlatformTrust::NativeRoots { .. }
        ));
        assert!(matches!(
            PlatformTrust::from_bundle("empty.pem".into(), Vec::new()),
            PlatformTrust::NativeRoots { .. }
        ));
    }
}
