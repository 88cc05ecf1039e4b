//! Real-world shapes: each configuration under `tests/corpus/NN-name/` (written for this suite
//! in the shapes people write: several files, validated variables, locals with `for` and
//! conditionals, `dynamic` blocks, `count` / `for_each` over maps of objects, `jsonencode`
//! policies, data sources, provider aliases, outputs) on the AWS types of the committed schema
//! is converted, built (no warnings), run, and its synthesized document compared structurally
//! with the parsed HCL (Terraform JSON; the root `//` metadata comment and an empty `terraform`
//! object, which the DSL adds, are not compared). A directory holding a `cdk.tf.json` is a
//! synthesized cdktf stack, converted as that file.

mod support;

use std::path::Path;

use callflow_convert::{Options, convert};
use serde_json::Value;
use support::{read_json, repo, run_package};

fn normalized(mut doc: Value) -> Value {
    if let Some(root) = doc.as_object_mut() {
        root.remove("//");
        if root
            .get("terraform")
            .and_then(Value::as_object)
            .is_some_and(|t| t.is_empty())
        {
            root.remove("terraform");
        }
    }
    doc
}

#[test]
fn corpus_converts_builds_and_synthesizes_its_input() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut entries: Vec<_> = std::fs::read_dir(&corpus)
        .expect("corpus")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    entries.sort();
    assert!(
        entries.len() >= 21,
        "the corpus has {} configurations",
        entries.len()
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut converted, mut built, mut equal) = (0, 0, 0);
    let mut report = Vec::new();
    for entry in &entries {
        let name = entry
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("?")
            .to_string();
        // A directory holding one synthesized stack file is converted as that file.
        let synthesized = entry.join("cdk.tf.json");
        let source = if synthesized.is_file() {
            synthesized
        } else {
            entry.clone()
        };
        let mut options = Options::new(&source);
        options.schemas = vec![repo().join("stack/providers/aws/schema.json")];
        options.dsl_path = std::fs::canonicalize(repo().join("stack/dsl")).expect("stack/dsl");
        let conversion = match convert(&options) {
            Ok(c) => c,
            Err(e) => {
                report.push(format!("{name}: not converted: {e}"));
                continue;
            }
        };
        converted += 1;
        if name == "04-provider-aliases" {
            let main_rs = &conversion.files[Path::new("src/main.rs")];
            let compact: String = main_rs.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(
                compact.contains(
                    "let west_aws = stack.add_provider_alias( \"west\", AwsProvider::new()"
                ),
                "{main_rs}"
            );
            assert!(
                compact.contains("stack.use_provider(&replica, &west_aws);"),
                "{main_rs}"
            );
        }
        let package = tmp.path().join(&name);
        conversion.write_to(&package).expect("write");
        let out = package.join("cdktf.out");
        run_package(&package, &out);
        built += 1;
        let stack = &conversion.stack_name;
        let synthesized = read_json(&out.join(format!("stacks/{stack}/cdk.tf.json")));
        if normalized(synthesized.clone()) == normalized(conversion.expected.clone()) {
            equal += 1;
        } else {
            report.push(format!(
                "{name}: synthesized differs:\n{}\n---- expected\n{}",
                serde_json::to_string_pretty(&synthesized).unwrap_or_default(),
                serde_json::to_string_pretty(&conversion.expected).unwrap_or_default()
            ));
        }
        let gaps: Vec<String> = conversion.gaps.iter().map(|g| format!("    {g}")).collect();
        println!("{name}: {} gap(s)\n{}", gaps.len(), gaps.join("\n"));
    }
    println!(
        "corpus: {} configurations, {converted} converted, {built} built, {equal} equal",
        entries.len()
    );
    assert!(report.is_empty(), "{}", report.join("\n\n"));
}
