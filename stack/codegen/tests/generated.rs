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

#[test]
fn the_generated_provider_type_configures_default_and_aliased_providers() {
    use callflow_dsl::Provider;
    use constructs::provider::DemoProvider;
    let mut stack = Stack::new("providers");
    stack.add_provider(DemoProvider::new().set_endpoint("https://eu.example.com"));
    let us = stack.add_provider_alias(
        "us",
        DemoProvider::new().set_endpoint("https://us.example.com"),
    );
    let thing = stack.resource("other", constructs::thing::ThingConfig::new("x"));
    stack.use_provider(&thing, &us);
    let region = stack.data("current", constructs::region::DataRegion::new());
    stack.use_provider(&region, &us);
    let doc = stack.synth().expect("synth");
    assert_eq!(
        doc["provider"]["demo"],
        json!([
            {"endpoint": "https://eu.example.com"},
            {"alias": "us", "endpoint": "https://us.example.com"}
        ])
    );
    assert_eq!(
        doc["resource"]["demo_thing_config"]["other"]["provider"],
        "demo.us"
    );
    assert_eq!(doc["data"]["demo_region"]["current"]["provider"], "demo.us");
    // No version constraint in the test options: the requirement names the source only.
    assert_eq!(
        doc["terraform"]["required_providers"]["demo"],
        json!({"source": "acme/demo"})
    );
    assert_eq!(DemoProvider::NAME, "demo");
    assert_eq!(constructs::DemoProvider::SOURCE, "acme/demo");
}

/// The provider JSON the DSL writes for a generated provider type, read by the real
/// `terraform`: Terraform's builtin provider needs no download, so a stack declaring its default
/// and an aliased configuration (with `required_providers` added by the declaration) and a
/// `terraform_data` using the alias is initialized, validated and planned offline; a wrong
/// shape (a map instead of a list of configurations, an alias Terraform cannot resolve) fails.
/// Skipped with `SKIPPED` without terraform unless `CALLFLOW_REQUIRE_TERRAFORM` is set.
#[test]
fn terraform_reads_the_declared_provider_configurations() {
    use builtin::TerraformProvider;
    let terraform = std::env::var_os("TERRAFORM")
        .map(PathBuf::from)
        .or_else(|| Some(PathBuf::from("/usr/local/bin/terraform")).filter(|p| p.is_file()));
    let Some(terraform) = terraform else {
        assert!(
            std::env::var_os("CALLFLOW_REQUIRE_TERRAFORM").is_none(),
            "terraform is required (CALLFLOW_REQUIRE_TERRAFORM is set) but was not found"
        );
        eprintln!("SKIPPED: no terraform binary ($TERRAFORM, /usr/local/bin/terraform)");
        return;
    };
    let mut stack = Stack::new("aliased");
    stack.add_provider(TerraformProvider::new());
    let second = stack.add_provider_alias("second", TerraformProvider::new());
    let data = stack.resource("d", builtin::data::Data::new().set_input(json!("x")));
    stack.use_provider(&data, &second);
    let many = stack.resource_with_count("many", 2, |_| builtin::data::Data::new());
    stack.use_provider(&many, &second);
    // A provider-defined function: resolved because the declaration requires the provider.
    stack.resource(
        "encoded",
        builtin::data::Data::new()
            .set_input(builtin::functions::encode_tfvars(json!({"a": "b"})).as_dynamic()),
    );
    let doc = stack.synth().expect("synth");
    assert_eq!(
        doc["provider"]["terraform"],
        json!([{}, {"alias": "second"}])
    );
    assert_eq!(
        doc["terraform"]["required_providers"]["terraform"],
        json!({"source": "terraform.io/builtin/terraform"})
    );
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("cdk.tf.json"), doc.to_string()).expect("write stack");
    let rc = dir.path().join("empty.tfrc");
    std::fs::write(&rc, "").expect("write CLI config");
    for args in [
        &["init", "-input=false", "-no-color"][..],
        &["validate", "-no-color"][..],
        &[
            "plan",
            "-input=false",
            "-no-color",
            "-lock=false",
            "-out=tfplan",
        ][..],
        &["show", "-json", "tfplan"][..],
    ] {
        let out = std::process::Command::new(&terraform)
            .args(args)
            .current_dir(dir.path())
            .env("TF_CLI_CONFIG_FILE", &rc)
            .env("TF_IN_AUTOMATION", "1")
            .output()
            .expect("terraform runs");
        assert!(
            out.status.success(),
            "terraform {args:?}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if args[0] == "show" {
            let plan: serde_json::Value = serde_json::from_slice(&out.stdout).expect("plan JSON");
            let config = &plan["configuration"];
            let resources = config["root_module"]["resources"]
                .as_array()
                .expect("resources");
            assert_eq!(resources.len(), 3, "{config}");
            for r in resources {
                let key = if r["name"] == "encoded" {
                    "terraform"
                } else {
                    "terraform.second"
                };
                assert_eq!(r["provider_config_key"], key, "{config}");
            }
            let encoded = plan["resource_changes"]
                .as_array()
                .expect("changes")
                .iter()
                .find(|c| c["address"] == "terraform_data.encoded")
                .expect("planned");
            assert_eq!(encoded["change"]["after"]["input"], "a = \"b\"\n");
            assert!(
                config["provider_config"]["terraform.second"].is_object(),
                "{config}"
            );
        }
    }
}

/// A function call on another stack's reference keeps that stack as its origin, so the
/// consumer reads the whole call through remote state (as it would read the reference) instead
/// of naming a resource it does not have.
#[test]
fn function_calls_on_another_stacks_reference_become_cross_stack_references() {
    use callflow_dsl::{App, functions};
    let mut a = Stack::new("producer");
    let value = a.resource("value", builtin::data::Data::new().set_input(json!("x")));
    let mut b = Stack::new("consumer");
    let upper = functions::upper(value.id());
    let joined = functions::join("-", &[&vec![value.id()], &vec!["local"]]);
    b.resource(
        "copy",
        builtin::data::Data::new().set_input(functions::tolist(&[upper, joined]).value()),
    );
    let mut app = App::new();
    app.add_stack(a);
    app.add_stack(b);
    let synth = app.synth().expect("synth");
    let consumer = &synth.stacks()["consumer"];
    let input = consumer["resource"]["terraform_data"]["copy"]["input"]
        .as_str()
        .expect("an expression")
        .to_string();
    assert!(
        !input.contains("terraform_data.value"),
        "the consumer does not name the producer's resource: {input}"
    );
    assert!(
        input.contains("data.terraform_remote_state."),
        "read through remote state: {input}"
    );
    let outputs = synth.stacks()["producer"]["output"]
        .as_object()
        .expect("the producer exports the calls")
        .values()
        .map(|o| o["value"].as_str().unwrap_or_default().to_string())
        .collect::<Vec<_>>();
    assert!(
        outputs
            .iter()
            .any(|v| v.contains("upper(terraform_data.value.id)")),
        "{outputs:?}"
    );
}
