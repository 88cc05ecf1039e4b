//! `callflow`: synthesize, diff, plan and verify the Callflow stack, and run it locally.
//!
//! Exit codes: 0 success; 1 "differs" (`diff --exit-code`); 2 error; 3 destructive changes
//! blocked (`plan` without `--allow-destroy`); 4 security broadening blocked (`plan`, or `diff`
//! with `--require-approval broadening`, without `--allow-broadening`); 5 other security changes
//! blocked (`--require-approval any-change`).

mod allocator;
mod cmd_convert;
mod cmd_dev;
mod cmd_diff;
mod cmd_get;
mod cmd_index;
mod cmd_plan;
mod cmd_soak;
mod cmd_synth;
mod cmd_token;
mod cmd_verify;
mod progress;
mod project;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Command line of the Callflow Service: infrastructure from Rust, checked and verified.
#[derive(Parser, Debug)]
#[command(name = "callflow", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Synthesize the stacks to cdktf's layout (manifest.json, stacks/<name>/cdk.tf.json).
    Synth(cmd_synth::SynthArgs),
    /// Compare a fresh synth with a previous one (default: the committed cdktf.out).
    ///
    /// Security changes (IAM and resource policies, Lambda permissions, API authorization,
    /// public access blocks, encryption) are listed first, broadening ones marked;
    /// `--format markdown` renders it all for a pull request comment.
    ///
    /// Exit status: 0 same (or differs without --exit-code), 1 differs with --exit-code,
    /// 4 broadening under --require-approval broadening/any-change, 5 other security changes
    /// under --require-approval any-change (neither with --allow-broadening), 2 error.
    Diff(cmd_diff::DiffArgs),
    /// Generate the typed provider bindings selected in callflow.toml ([[providers]]) from the
    /// provider schema (--schema FILE, or `terraform providers schema -json`).
    ///
    /// Exit status: 0 written (or current with --check), 1 stale with --check, 2 error.
    Get(cmd_get::GetArgs),
    /// Convert a Terraform configuration (a directory of *.tf / *.tf.json) or a synthesized
    /// cdk.tf.json into a Rust Cargo package on the DSL and generated bindings.
    ///
    /// Exit status: 0 converted, 1 converted with constructs listed as gaps, 2 error.
    Convert(cmd_convert::ConvertArgs),
    /// Synthesize, run terraform init/plan/show on a stack, and summarize the plan — or
    /// summarize a saved plan with --plan-file (no synth, no init). Security changes, drift
    /// (changed outside Terraform) and destructive changes are called out; --format human,
    /// json or markdown.
    ///
    /// Exit status: 0 nothing blocked; 2 error; 3 destructive changes to stateful resources
    /// without --allow-destroy; 4 security broadening under --require-approval broadening (the
    /// default) or any-change without --allow-broadening; 5 other security changes under
    /// --require-approval any-change without --allow-broadening. When several gates block, the
    /// lowest code wins and every reason is printed.
    Plan(cmd_plan::PlanArgs),
    /// Run the whole service locally: API Gateway stage, handlers, embedded S3 store, local auth.
    Dev(cmd_dev::DevArgs),
    /// Print a token for `callflow dev` (signed with the data directory's local key).
    Token(cmd_token::TokenArgs),
    /// Check a deployed environment: infrastructure against the synth (AWS SDKs) and an API
    /// smoke test.
    ///
    /// Exit status: 0 every check passed, 1 a check failed, 2 error.
    Verify(cmd_verify::VerifyArgs),
    /// Maintain the query indexes: `index backfill` indexes events stored before the by-type
    /// index (idempotent, resumable with --checkpoint).
    Index(cmd_index::IndexArgs),
    /// Drive a local `callflow dev` with mixed load (rate, concurrency, duration bounded) and
    /// audit acknowledged vs stored events.
    ///
    /// Exit status: 0 consistent, 1 lost/duplicated/unexpected events, 2 error.
    Soak(cmd_soak::SoakArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Synth(args) => cmd_synth::run(&args),
        Command::Diff(args) => cmd_diff::run(&args),
        Command::Get(args) => cmd_get::run(&args),
        Command::Convert(args) => cmd_convert::run(&args),
        Command::Plan(args) => cmd_plan::run(&args),
        Command::Dev(args) => cmd_dev::run(&args),
        Command::Token(args) => cmd_token::run(&args),
        Command::Verify(args) => cmd_verify::run(&args),
        Command::Soak(args) => cmd_soak::run(&args),
        Command::Index(args) => cmd_index::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
