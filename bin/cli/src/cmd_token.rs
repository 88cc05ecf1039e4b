//! `callflow token`: a token signed with the local key of `callflow dev`'s data directory.

use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use callflow_dev::{DEFAULT_DATA_DIR, DEFAULT_SUBJECT, LocalIdentity};
use callflow_openapi::Scope;

/// Longest token lifetime `callflow token` issues.
const MAX_TOKEN_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// Arguments of `callflow token`.
#[derive(clap::Args, Debug)]
pub struct TokenArgs {
    /// A scope to grant (repeatable): events:read, events:write. Default: both.
    #[arg(long = "scope", value_name = "SCOPE", value_parser = parse_scope)]
    scopes: Vec<Scope>,
    /// Lifetime: seconds, or a number with s, m, h or d (at most 30d).
    #[arg(long, default_value = "12h", value_parser = parse_ttl)]
    ttl: Duration,
    /// The data directory of `callflow dev` (the key is created there if missing).
    #[arg(long, default_value = DEFAULT_DATA_DIR)]
    data_dir: PathBuf,
    /// The token's subject (`sub`), stored as the events' `principal`.
    #[arg(long, default_value = DEFAULT_SUBJECT)]
    sub: String,
    /// The token's `client_id`: the usage identifier whose usage plan meters it. Default:
    /// the subject.
    #[arg(long, value_name = "ID")]
    client_id: Option<String>,
}

fn parse_scope(text: &str) -> Result<Scope, String> {
    Scope::from_str(text)
        .map_err(|_| format!("unknown scope {text:?}; known: events:read, events:write"))
}

/// Parses `90`, `90s`, `15m`, `12h`, `7d` (positive, at most 30 days).
pub fn parse_ttl(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let seconds_per_unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "{text:?}: use a number with s, m, h or d, e.g. 12h"
            ));
        }
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?}: use a number with s, m, h or d, e.g. 12h"))?;
    let ttl = Duration::from_secs(n.saturating_mul(seconds_per_unit));
    if ttl.is_zero() || ttl > MAX_TOKEN_TTL {
        return Err(format!("{text:?}: must be between 1s and 30d"));
    }
    Ok(ttl)
}

/// Prints the token alone on the last line of stdout.
pub fn run(args: &TokenArgs) -> anyhow::Result<ExitCode> {
    let identity = LocalIdentity::load_or_create(&args.data_dir)
        .with_context(|| format!("local signing key under {}", args.data_dir.display()))?;
    let scopes = if args.scopes.is_empty() {
        vec![Scope::EventsRead, Scope::EventsWrite]
    } else {
        args.scopes.clone()
    };
    if args.sub.trim().is_empty() {
        anyhow::bail!("--sub must not be empty");
    }
    let client_id = args.client_id.as_deref().unwrap_or(&args.sub);
    if client_id.trim().is_empty() {
        anyhow::bail!("--client-id must not be empty");
    }
    println!(
        "{}",
        identity.issue_for_client(&args.sub, client_id, &scopes, args.ttl)
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_units() {
        assert_eq!(parse_ttl("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_ttl("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_ttl("12h"), Ok(Duration::from_secs(43_200)));
        assert_eq!(parse_ttl("30d"), Ok(MAX_TOKEN_TTL));
        for bad in ["", "0", "31d", "1w", "h", "-5"] {
            assert!(parse_ttl(bad).is_err(), "{bad:?} accepted");
        }
    }
}
