//! Local auth that works out of the box: a P-256 signing key created on first use under the
//! data directory, the authorizer configured with its JWKS, and tokens minted with it.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use callflow_authorizer::{
    Audience, Authorizer, AuthorizerConfig, ConfigError, Issuer, JwksSource, TokenIssuer,
};
use callflow_openapi::Scope;
use rand::RngCore;

/// `iss` of local tokens.
pub const DEV_ISSUER: &str = "urn:callflow:dev";
/// `aud` of local tokens.
pub const DEV_AUDIENCE: &str = "callflow-dev";
/// The subject `callflow token` and the start banner use unless told otherwise.
pub const DEFAULT_SUBJECT: &str = "local-developer";

/// Problems with the key files.
#[derive(Debug, thiserror::Error)]
pub enum LocalAuthError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The saved key is not a P-256 PKCS#8 key.
    #[error("{path}: {message} (delete it to create a new key)")]
    InvalidKey {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The authorizer refused the configuration.
    #[error("authorizer: {0}")]
    Authorizer(#[from] ConfigError),
}

/// The data directory's signing identity.
pub struct LocalIdentity {
    issuer: TokenIssuer,
    key_path: PathBuf,
}

impl std::fmt::Debug for LocalIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalIdentity")
            .field("kid", &self.issuer.kid())
            .field("key_path", &self.key_path)
            .finish()
    }
}

impl LocalIdentity {
    /// Loads `<data_dir>/auth/signing-key.pem`, creating it (mode 0600) on first use.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, LocalAuthError> {
        let key_path = data_dir.join("auth").join("signing-key.pem");
        let pem = read_or_create(&key_path, || {
            TokenIssuer::generate(DEV_ISSUER, DEV_AUDIENCE)
                .private_key_pem()
                .as_bytes()
                .to_vec()
        })?;
        let text = String::from_utf8_lossy(&pem);
        let issuer =
            TokenIssuer::from_private_key_pem(&text, DEV_ISSUER, DEV_AUDIENCE).map_err(|e| {
                LocalAuthError::InvalidKey {
                    path: key_path.clone(),
                    message: e.to_string(),
                }
            })?;
        Ok(Self { issuer, key_path })
    }

    /// Where the private key is kept.
    pub fn key_path(&self) -> &Path {
        &self.key_path
    }

    /// The public JWKS document as JSON.
    pub fn jwks_json(&self) -> String {
        self.issuer.jwks_json()
    }

    /// A token for `subject` with `scopes`, valid for `ttl` from now.
    pub fn issue(&self, subject: &str, scopes: &[Scope], ttl: Duration) -> String {
        let scopes: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
        self.issuer.issue(subject, &scopes, ttl)
    }

    /// A token for `subject` of client `client_id` (the usage identifier) with `scopes`.
    pub fn issue_for_client(
        &self,
        subject: &str,
        client_id: &str,
        scopes: &[Scope],
        ttl: Duration,
    ) -> String {
        let scopes: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
        self.issuer
            .issue_for_client(subject, client_id, &scopes, ttl)
    }

    /// The signing issuer itself (tests sign unusual claims with it).
    pub fn token_issuer(&self) -> &TokenIssuer {
        &self.issuer
    }

    /// The production authorizer, verifying tokens against this identity's JWKS.
    pub fn authorizer(&self) -> Result<Authorizer, LocalAuthError> {
        let config = AuthorizerConfig::new(
            Issuer::new(DEV_ISSUER)?,
            Audience::new(DEV_AUDIENCE)?,
            JwksSource::Inline(self.issuer.jwks_json()),
        );
        Ok(Authorizer::new(config)?)
    }
}

/// The continuation-token signing key of the data directory
/// (`<data_dir>/auth/continuation-key`, 32 random bytes, created on first use).
pub fn continuation_key(data_dir: &Path) -> Result<Vec<u8>, LocalAuthError> {
    random_hex_key(&data_dir.join("auth").join("continuation-key"))
}

/// The data directory's by-type index key (`INDEX_HASH_KEY` of the handlers,
/// `<data_dir>/auth/index-key`), created on first use and kept, since entries written under one
/// key are not found under another.
pub fn index_key(data_dir: &Path) -> Result<Vec<u8>, LocalAuthError> {
    random_hex_key(&data_dir.join("auth").join("index-key"))
}

/// The key at `path`: 32 random bytes as 64 hex digits, created on first use.
fn random_hex_key(path: &Path) -> Result<Vec<u8>, LocalAuthError> {
    read_or_create(path, || {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        key.iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
            .into_bytes()
    })
}

/// Reads `path`, or writes `create()` there first. Creation is atomic (temp file + hard link,
/// which fails when another process won the race; then its file is read).
fn read_or_create(
    path: &Path,
    create: impl FnOnce() -> Vec<u8>,
) -> Result<Vec<u8>, LocalAuthError> {
    let io = |source| LocalAuthError::Io {
        path: path.to_owned(),
        source,
    };
    match fs::read(path) {
        Ok(bytes) => return Ok(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(io)?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("key"),
        std::process::id()
    ));
    let contents = create();
    {
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp).map_err(io)?;
        file.write_all(&contents).map_err(io)?;
        file.sync_all().map_err(io)?;
    }
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(contents),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => fs::read(path).map_err(io),
        Err(e) => Err(io(e)),
    }
}
