//! `callflow verify`: post-deploy checks of a live environment against the committed synth.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use callflow_stack::dsl::Synthesized;
use callflow_verify::api::{ApiClient, ApiTarget, TokenSource, api_probes};
use callflow_verify::{
    AwsClients, AwsTarget, ExpectedStack, Probe, Report, infra_probes, run_probes,
};

use crate::progress::Progress;

/// Output format of `verify`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A table of check, expected, actual, verdict and time, then how to fix each failure.
    Table,
    /// `{"passed", "total", "failed", "checks": [...]}`.
    Json,
}

/// Arguments of `callflow verify`.
#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// The synth to verify against (cdktf layout: manifest.json, stacks/<name>/cdk.tf.json).
    #[arg(long, default_value = "cdktf.out")]
    synth_dir: PathBuf,
    /// Stack to verify (default: the only stack of the synth).
    #[arg(long)]
    stack: Option<String>,
    /// AWS region (default: the synth's provider region, else the standard chain).
    #[arg(long)]
    region: Option<String>,
    /// Named AWS profile; credentials otherwise come from the standard chain.
    #[arg(long)]
    profile: Option<String>,
    /// Endpoint for every AWS service (e.g. moto server); S3 then uses path-style addressing.
    #[arg(long, value_name = "URL")]
    aws_endpoint_url: Option<String>,
    /// Skip the infrastructure checks.
    #[arg(long)]
    skip_infra: bool,
    /// Skip the API checks (then no token is needed).
    #[arg(long)]
    skip_api: bool,
    /// Base URL of the API, including the stage path when not behind a custom domain
    /// (default: the synth's literal `custom_domain_url` output).
    #[arg(long, value_name = "URL")]
    api_url: Option<String>,
    /// Token with events:write and events:read.
    #[arg(
        long,
        env = "CALLFLOW_TOKEN",
        hide_env_values = true,
        group = "write_token"
    )]
    token: Option<String>,
    /// File holding that token.
    #[arg(long, value_name = "FILE", group = "write_token")]
    token_file: Option<PathBuf>,
    /// Shell command printing that token on its last stdout line.
    #[arg(long, value_name = "COMMAND", group = "write_token")]
    token_command: Option<String>,
    /// Token without events:write, for the 403 check.
    #[arg(
        long,
        env = "CALLFLOW_READ_ONLY_TOKEN",
        hide_env_values = true,
        group = "read_token"
    )]
    read_only_token: Option<String>,
    /// File holding the read-only token.
    #[arg(long, value_name = "FILE", group = "read_token")]
    read_only_token_file: Option<PathBuf>,
    /// Shell command printing the read-only token, e.g. for `callflow dev`:
    /// `callflow token --scope events:read`.
    #[arg(long, value_name = "COMMAND", group = "read_token")]
    read_only_token_command: Option<String>,
    /// Timeout of each API request, in seconds.
    #[arg(long, default_value_t = 15)]
    request_timeout: u64,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Also write a JUnit XML report to this file (for CI).
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
}

fn source(
    literal: &Option<String>,
    file: &Option<PathBuf>,
    command: &Option<String>,
) -> Option<TokenSource> {
    literal
        .clone()
        .map(TokenSource::Literal)
        .or_else(|| file.clone().map(TokenSource::File))
        .or_else(|| command.clone().map(TokenSource::Command))
}

/// Runs the checks; exit 0 when all passed, 1 when any failed, 2 on errors.
pub fn run(args: &VerifyArgs) -> Result<ExitCode> {
    if args.skip_infra && args.skip_api {
        bail!("--skip-infra and --skip-api together leave nothing to verify");
    }
    let synth = Synthesized::read_from(&args.synth_dir).with_context(|| {
        format!(
            "reading the synth in {} (run `callflow synth`)",
            args.synth_dir.display()
        )
    })?;
    let doc = match &args.stack {
        Some(name) => synth
            .stacks()
            .get(name)
            .with_context(|| format!("no stack {name:?} in {}", args.synth_dir.display()))?,
        None => match synth.stacks().values().collect::<Vec<_>>().as_slice() {
            [only] => *only,
            stacks => bail!(
                "{} stacks in {}: choose one with --stack",
                stacks.len(),
                args.synth_dir.display()
            ),
        },
    };
    let expected = ExpectedStack::from_synth(doc)?;
    let started = std::time::SystemTime::now();
    let api_url = if args.skip_api {
        None
    } else {
        let url = args.api_url.clone().or_else(|| {
            doc.pointer("/output/custom_domain_url/value")
                .and_then(|v| v.as_str())
                .filter(|v| !v.contains("${"))
                .map(str::to_owned)
        });
        Some(url.context(
            "no API URL: pass --api-url (the synth has no literal custom_domain_url output)",
        )?)
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let report = runtime.block_on(async {
        let mut probes: Vec<Probe> = Vec::new();
        if !args.skip_infra {
            let target = AwsTarget {
                region: args.region.clone().or_else(|| expected.region.clone()),
                profile: args.profile.clone(),
                endpoint_url: args.aws_endpoint_url.clone(),
                static_credentials: None,
            };
            let clients = AwsClients::connect(&target).await;
            probes.extend(infra_probes(&clients, &expected));
        }
        if let Some(url) = &api_url {
            let write = source(&args.token, &args.token_file, &args.token_command)
                .context("the API checks need a token with events:write and events:read: pass --token, --token-file or --token-command (or --skip-api)")?;
            let token = write.resolve().await?;
            let read_only_token = match source(&args.read_only_token, &args.read_only_token_file, &args.read_only_token_command) {
                Some(s) => Some(s.resolve().await?),
                None => None,
            };
            let client = ApiClient::new(url, Duration::from_secs(args.request_timeout))?;
            probes.extend(api_probes(ApiTarget::new(client, token, read_only_token)));
        }
        let progress = Progress::new(Some(probes.len() as u64));
        let rows = run_probes(probes, |p| {
            let failed = p.rows.iter().filter(|r| !r.passed()).count();
            let mark = if failed == 0 { "ok".to_owned() } else { format!("{failed} FAILED") };
            if progress.interactive() {
                progress.update(p.done as u64, format!("{} … {mark}", p.label));
            } else {
                progress.log(&format!("callflow verify: [{}/{}] {} … {mark}", p.done, p.total, p.label));
            }
        })
        .await;
        progress.finish();
        anyhow::Ok(Report::new(rows))
    })?;

    if let Some(path) = &args.junit {
        std::fs::write(path, report.render_junit("callflow verify", Some(started)))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let text = match args.format {
        Format::Json => report.render_json(),
        Format::Table => {
            let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            report.render_table(color, 60)
        }
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
