//! Parse + summarize + render time for a large synthetic plan (the shape of a real one:
//! nested blocks, unknown and sensitive values). Run: `cargo bench -p callflow-plan`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use callflow_plan::{PlanDocument, PlanSummary};
use serde_json::{Value, json};

fn resource_change(i: usize) -> Value {
    let actions = match i % 4 {
        0 => json!(["create"]),
        1 => json!(["update"]),
        2 => json!(["no-op"]),
        _ => json!(["delete", "create"]),
    };
    let object = |memory: usize, level: &str| {
        json!({
            "function_name": format!("fn-{i}"), "memory_size": memory, "timeout": 10,
            "architectures": ["arm64"], "handler": "bootstrap", "runtime": "provided.al2023",
            "environment": [{"variables": {"LOG_LEVEL": level, "S3_BUCKET": "events", "KEY": "secret"}}],
            "policy": "{\"Version\":\"2012-10-17\",\"Statement\":[]}".repeat(20),
            "tags": {"service": "callflow", "Cost Center": "telephony"}
        })
    };
    json!({
        "address": format!("aws_lambda_function.f{i}"), "mode": "managed",
        "type": "aws_lambda_function", "name": format!("f{i}"),
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "change": {
            "actions": actions,
            "before": if i.is_multiple_of(4) { Value::Null } else { object(128, "info") },
            "after": object(256, "debug"),
            "after_unknown": {"arn": true, "last_modified": true, "environment": [{"variables": {}}]},
            "before_sensitive": {"environment": [{"variables": {"KEY": true}}]},
            "after_sensitive": {"environment": [{"variables": {"KEY": true}}]},
            "replace_paths": [["architectures"]]
        }
    })
}

fn time<T>(label: &str, rounds: u32, mut f: impl FnMut() -> T) -> Duration {
    let start = Instant::now();
    for _ in 0..rounds {
        black_box(f());
    }
    let per_round = start.elapsed() / rounds;
    println!("{label:<28} {per_round:>12.3?} per round");
    per_round
}

fn main() {
    for resources in [100, 2_000] {
        let plan = json!({
            "format_version": "1.2", "terraform_version": "1.11.4",
            "resource_changes": (0..resources).map(resource_change).collect::<Vec<_>>(),
        })
        .to_string();
        println!(
            "plan with {resources} resource changes ({} KiB JSON):",
            plan.len() / 1024
        );
        let rounds = if resources > 1_000 { 10 } else { 100 };
        time("  parse", rounds, || {
            PlanDocument::from_json(&plan).map(|p| p.resource_changes.len())
        });
        let document = PlanDocument::from_json(&plan).expect("synthetic plan parses");
        time("  summarize (deep diff)", rounds, || {
            PlanSummary::from_document(&document)
        });
        let summary = PlanSummary::from_document(&document);
        time("  render_human", rounds, || {
            summary.render_human(true).len()
        });
        time("  render_json", rounds, || summary.render_json().len());
    }
}
