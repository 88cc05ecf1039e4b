//! Plans one synthesized stack with the real terraform and prints the summary and timings.
//!
//! `cargo run -p callflow-plan --example plan_stack -- <cdktf.out> <stack> [--json]
//! [--allow-destroy] [--var name=value]...`
//!
//! Exits 0, 2 (error) or 3 (destructive changes blocked), like `callflow plan`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use callflow_plan::{
    Manifest, PlanDocument, PlanError, PlanOptions, PlanSummary, TerraformCli, exit_code,
};

fn main() -> ExitCode {
    match run() {
        Ok(code) => ExitCode::from(code as u8),
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(exit_code::ERROR as u8)
        }
    }
}

fn run() -> Result<i32, PlanError> {
    let mut args = std::env::args().skip(1);
    let out_dir = PathBuf::from(args.next().unwrap_or_else(|| "cdktf.out".to_owned()));
    let stack = args.next().unwrap_or_else(|| "callflow".to_owned());
    let (mut json, mut allow_destroy, mut options) = (false, false, PlanOptions::default());
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--json" => json = true,
            "--allow-destroy" => allow_destroy = true,
            "--var" => options.vars.push(args.next().unwrap_or_default().parse()?),
            other => eprintln!("ignoring unknown argument {other:?}"),
        }
    }
    let cli = TerraformCli::locate(None)?;
    let dir = Manifest::load(&out_dir)?.working_dir(&stack)?;

    let started = Instant::now();
    cli.init(&dir, &options)?;
    let init = started.elapsed();
    let plan_file = cli.plan(&dir, &options)?;
    let plan = started.elapsed() - init;
    let document: PlanDocument = cli.show_json(&dir, &plan_file)?;
    let show = started.elapsed() - init - plan;
    let render_start = Instant::now();
    let summary = PlanSummary::from_document(&document);
    let text = if json {
        summary.render_json()
    } else {
        summary.render_human(false)
    };
    let render = render_start.elapsed();

    println!("{text}");
    eprintln!(
        "timings: init {init:?}, plan {plan:?}, show -json {show:?}, summarize+render {render:?}"
    );
    Ok(match summary.gate(allow_destroy) {
        Ok(()) => exit_code::OK,
        Err(blocked) => {
            eprintln!("{blocked}");
            exit_code::DESTRUCTIVE_BLOCKED
        }
    })
}
