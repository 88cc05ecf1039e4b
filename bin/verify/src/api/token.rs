//! Bearer tokens for the smoke checks: given literally, read from a file, or printed by a command.

use std::fmt;
use std::path::PathBuf;

/// Errors obtaining a token.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The token file could not be read.
    #[error("reading token file {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The token command could not be started or failed.
    #[error("token command `{command}` failed: {message}")]
    Command {
        /// The command line.
        command: String,
        /// What went wrong (exit status and stderr).
        message: String,
    },
    /// The source produced no token.
    #[error("{0} produced an empty token")]
    Empty(String),
    /// The token has characters a header cannot carry.
    #[error("{0} produced a token with whitespace or control characters")]
    Malformed(String),
}

/// Where a token comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenSource {
    /// The token itself (`--token`).
    Literal(String),
    /// A file holding the token (`--token-file`), surrounding whitespace ignored.
    File(PathBuf),
    /// A shell command (`sh -c`) printing the token on the last non-empty line of stdout
    /// (`--token-command`), e.g. `callflow token --scope events:read`.
    Command(String),
}

/// A bearer token (never printed: `Debug` and `Display` redact it).
#[derive(Clone, PartialEq, Eq)]
pub struct BearerToken(String);

impl BearerToken {
    /// Parses a token: non-empty, no whitespace or control characters.
    pub fn parse(text: &str, origin: &str) -> Result<Self, TokenError> {
        let token = text.trim();
        let token = token.strip_prefix("Bearer ").unwrap_or(token);
        if token.is_empty() {
            return Err(TokenError::Empty(origin.to_owned()));
        }
        if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(TokenError::Malformed(origin.to_owned()));
        }
        Ok(Self(token.to_owned()))
    }

    /// The `Authorization` header value.
    pub fn header_value(&self) -> String {
        format!("Bearer {}", self.0)
    }
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BearerToken(<redacted>)")
    }
}

impl TokenSource {
    /// Obtains the token.
    pub async fn resolve(&self) -> Result<BearerToken, TokenError> {
        match self {
            Self::Literal(text) => BearerToken::parse(text, "--token"),
            Self::File(path) => {
                let text =
                    tokio::fs::read_to_string(path)
                        .await
                        .map_err(|source| TokenError::File {
                            path: path.clone(),
                            source,
                        })?;
                BearerToken::parse(&text, &format!("token file {}", path.display()))
            }
            Self::Command(command) => {
                let failed = |message: String| TokenError::Command {
                    command: command.clone(),
                    message,
                };
                let output = tokio::process::Command::new("sh")
                    .arg("-c")
                    .arg(command)
                    .stdin(std::process::Stdio::null())
                    .output()
                    .await
                    .map_err(|e| failed(e.to_string()))?;
                if !output.status.success() {
                    let stderr = String::from_utf8_lossy(&output.stderr);
                    return Err(failed(format!("{}: {}", output.status, stderr.trim())));
                }
                let stdout = String::from_utf8_lossy(&output.stdout);
                let last = stdout
                    .lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("");
                BearerToken::parse(last, &format!("token command `{command}`"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_command_token_is_its_last_nonempty_stdout_line() {
        let source = TokenSource::Command("echo banner; echo; echo tok.en-1; echo".into());
        let token = source.resolve().await.unwrap();
        assert_eq!(token.header_value(), "Bearer tok.en-1");
        assert_eq!(format!("{token:?}"), "BearerToken(<redacted>)");
    }

    #[tokio::test]
    async fn a_failing_command_reports_its_stderr() {
        let err = TokenSource::Command("echo nope >&2; exit 3".into())
            .resolve()
            .await
            .unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
    }

    #[tokio::test]
    async fn file_tokens_are_trimmed_and_empty_ones_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t");
        std::fs::write(&path, "  abc\n").unwrap();
        assert_eq!(
            TokenSource::File(path.clone())
                .resolve()
                .await
                .unwrap()
                .header_value(),
            "Bearer abc"
        );
        std::fs::write(&path, "\n").unwrap();
        assert!(matches!(
            TokenSource::File(path).resolve().await,
            Err(TokenError::Empty(_))
        ));
        assert!(matches!(
            BearerToken::parse("a b", "x"),
            Err(TokenError::Malformed(_))
        ));
    }
}
