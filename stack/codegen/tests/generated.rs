//! The generator's output for hand-written schema documents covering every construct of the
//! format (`tests/fixtures/constructs.json`) and for the real CLI output of Terraform's builtin
//! provider (`tests/fixtures/builtin-terraform.json`, see its README) is committed under
//! `tests/generated/` and compiled as part of this test crate: the tests below fail when it is
//! stale (`UPDATE_GENERATED=1 cargo test -p callflow-codegen --test generated` rewrites it),
//! when it is not rustfmt-clean, or when the types do not render the JSON Terraform expects.
#![allow(dead_code)]

#[path = "generated/builtin/mod.rs"]
mod builtin;
#[path = "generated/constructs/mod.rs"]
mod constructs;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use callflow_codegen::{Options, Selection, generate};
use callflow_dsl::{Number, Stack, Tf};
use serde_json::json;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests")
}

/// (fixture file, provider, output directory under tests/generated).
fn fixtures() -> Vec<(PathBuf, &'static str, &'static str)> {
    vec![
        (
            dir().join("fixtures/constructs.json"),
            "acme/demo",
            "constructs",
        ),
        (
            dir().join("fixtures/builtin-terraform.json"),
            "terraform.io/builtin/terraform",
            "builtin",
        ),
    ]
}

fn options(provider: &str) -> Options {
    let mut o = Options::new(provider);
    o.root_file = "mod.rs".into();
    o.command = "cargo test -p callflow-codegen --test generated".into();
    o.rustfmt = Some("rustfmt".into());
    o
}

fn regenerate(schema: &Path, provider: &str) -> BTreeMap<String, String> {
    let text =
        std::fs::read_to_string(schema).unwrap_or_else(|e| panic!("{}: {e}", schema.display()));
    generate(
        &schema.display().to_string(),
        &text,
        &Selection::all(),
        &options(provider),
    )
    .unwrap_or_else(|e| panic!("{e}"))
    .files
}

#[test]
fn committed_output_is_current() {
    let mut stale = Vec::new();
    for (schema, provider, out) in fixtures() {
        let files = regenerate(&schema, provider);
        let target = dir().join("generated").join(out);
        if std::env::var_os("UPDATE_GENERATED").is_some() {
            callflow_codegen::write_dir(&target, &files).expect("write");
            continue;
        }
        let committed: BTreeMap<String, String> = std::fs::read_dir(&target)
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| {
                        let name = e.file_name().to_string_lossy().into_owned();
                        (name, std::fs::read_to_string(e.path()).unwrap_or_default())
                    })
                    .collect()
            })
            .unwrap_or_default();
        if committed != files {
            stale.push(out);
        }
    }
    assert!(
        stale.is_empty(),
        "tests/generated/{stale:?} is stale: run UPDATE_GENERATED=1 cargo test -p callflow-codegen --test generated"
    );
}

#[test]
fn generation_is_deterministic() {
    for (schema, provider, _) in fixtures() {
        assert_eq!(regenerate(&schema, provider), regenerate(&schema, provider));
    }
}

#[test]
fn output_is_rustfmt_clean() {
    let Ok(status) = std::process::Command::new("rustfmt")
        .arg("--version")
        .output()
    else {
        eprintln!("rustfmt not on PATH: skipped");
        return;
    };
    assert!(status.status.success());
    for (_, _, out) in fixtures() {
        let target = dir().join("generated").join(out);
        let files: Vec<PathBuf> = std::fs::read_dir(&target)
            .expect("generated dir")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        let result = std::process::Command::new("rustfmt")
            .args(["--edition", "2024", "--check"])
            .args(&files)
            .output()
            .expect("rustfmt runs");
        assert!(
            result.status.success(),
            "{out} is not rustfmt-clean:\n{}",
            String::from_utf8_lossy(&result.stdout)
        );
    }
}

#[test]
fn every_construct_renders_the_json_terraform_expects() {
    use constructs::thing::*;
    let mut stack = Stack::new("demo");
    let other = stack.resource("other", constructs::thing::ThingConfig::new("x"));
    let thing = Thing::new(
        ThingConfig2::new("fast").set_inner(vec![ThingInner::new("k")]),
        "demo",
        vec![ThingRule::new("r1"), ThingRule::new(other.id())],
    )
    .set_size(9_007_199_254_740_993_i64)
    .set_enabled(true)
    .set_type("kind")
    .set_self_("me")
    .set_foo_bar("camel")
    .set_foo_bar_2("snake")
    .set_tags(Tf::from([("Team", "core")]))
    .set_ports(Tf::Literal(vec![Tf::from(80), Tf::from(0.5)]))
    .set_zones(vec!["a", "b"])
    .set_anything(json!({"k": ["${not-a-ref}"]}))
    .set_endpoint(ThingEndpoint::new("h", 443))
    .set_pair(Tf::Literal((Tf::from("p"), Tf::from(Number::from(2u64)))))
    .set_nested_single(ThingNestedSingle::new("a").set_beta(1.25))
    .set_nested_list(Tf::Literal(vec![Tf::from(ThingNestedList::new(
        other.thing(),
    ))]))
    .set_nested_map(Tf::Literal(BTreeMap::from([(
        "m".to_string(),
        Tf::from(ThingNestedMap::new(false)),
    )])))
    .set_filter(vec![ThingFilter::new().set_prefix("logs/")])
    .set_listener(BTreeMap::from([(
        "http".to_string(),
        ThingListener::new(80),
    )]))
    .set_timeouts(ThingTimeouts::new().set_create("5m"));
    let handle = stack.resource("main", thing);
    stack.output(
        "refs",
        callflow_dsl::Output {
            value: Tf::template([
                handle.status().get(0).message(),
                " ".into(),
                handle.nested_set().tolist().get(1).item(),
                " ".into(),
                handle.listener().get("http").port().as_string(),
                " ".into(),
                handle.config().inner().get(0).key(),
                " ".into(),
                handle.nested_map().get("m").value().as_string(),
            ]),
            description: "typed references".into(),
            sensitive: false,
        },
    );
    let region = stack.data("current", constructs::region::DataRegion::new());
    stack.output(
        "region",
        callflow_dsl::Output {
            value: region.region(),
            description: "data source reference".into(),
            sensitive: false,
        },
    );
    let doc = stack.synth().expect("synth");
    insta::assert_json_snapshot!("constructs_synth", doc);
}

#[test]
fn the_builtin_provider_generates_and_its_types_work() {
    let mut stack = Stack::new("builtin");
    let data = stack.resource("d", builtin::data::Data::new().set_input(json!({"a": 1})));
    let state = stack.data(
        "s",
        builtin::remote::DataRemoteState::new("local").set_config(json!({"path": "x"})),
    );
    stack.output(
        "o",
        callflow_dsl::Output {
            value: Tf::template([data.id(), "/".into(), state.backend()]),
            description: "refs".into(),
            sensitive: false,
        },
    );
    let doc = stack.synth().expect("synth");
    assert_eq!(
        doc["resource"]["terraform_data"]["d"],
        json!({"input": {"a": 1}})
    );
    assert_eq!(
        doc["data"]["terraform_remote_state"]["s"],
        json!({"backend": "local", "config": {"path": "x"}})
    );
    assert_eq!(
        doc["output"]["o"]["value"],
        json!("${terraform_data.d.id}/${data.terraform_remote_state.s.backend}")
    );
}
