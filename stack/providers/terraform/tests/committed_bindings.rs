//! The committed bindings (`src/`) and trimmed schema (`schema.json`) are exactly what the
//! generator makes of Terraform's builtin provider schema, and that schema is what the installed
//! `terraform` prints today (`terraform providers schema -json` needs no download for the builtin
//! provider, so this runs offline).
//!
//! `UPDATE_BINDINGS=1 cargo test -p callflow-provider-terraform --test committed_bindings`
//! regenerates `src/` from `schema.json`; with a `terraform` on the machine it first refreshes
//! `schema.json` from the live CLI. Terraform is found through `$TERRAFORM`, else
//! `/usr/local/bin/terraform`, else `PATH`; without it the live comparison prints `SKIPPED`,
//! unless `CALLFLOW_REQUIRE_TERRAFORM=1`, where it fails.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use callflow_codegen::{Options, Selection, generate};

/// The provider's address in `terraform providers schema -json`.
const PROVIDER: &str = "terraform.io/builtin/terraform";

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The options the committed bindings were generated with.
fn options() -> Options {
    let mut options = Options::new(PROVIDER);
    options.type_prefix = Some("terraform".into());
    options.services = vec!["remote_state".into()];
    options.command =
        "UPDATE_BINDINGS=1 cargo test -p callflow-provider-terraform --test committed_bindings"
            .into();
    options.rustfmt = Some("rustfmt".into());
    options
}

fn terraform_binary() -> Option<PathBuf> {
    let candidate = std::env::var_os("TERRAFORM")
        .map(PathBuf::from)
        .or_else(|| Some(PathBuf::from("/usr/local/bin/terraform")).filter(|p| p.is_file()))
        .or_else(|| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|p| p.join("terraform"))
                    .find(|p| p.is_file())
            })
        });
    if candidate.is_none() {
        assert!(
            std::env::var_os("CALLFLOW_REQUIRE_TERRAFORM").is_none(),
            "terraform is required (CALLFLOW_REQUIRE_TERRAFORM is set) but was not found"
        );
        eprintln!("SKIPPED: no terraform binary ($TERRAFORM, /usr/local/bin/terraform, PATH)");
    }
    candidate
}

/// `terraform providers schema -json` of a configuration whose only resource is `terraform_data`.
fn live_schema(terraform: &Path) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("main.tf"),
        "resource \"terraform_data\" \"x\" {}\n",
    )
    .expect("write main.tf");
    let rc = dir.path().join("empty.tfrc");
    std::fs::write(&rc, "").expect("write CLI config");
    let run = |args: &[&str]| {
        let out = Command::new(terraform)
            .args(args)
            .current_dir(dir.path())
            .env("TF_CLI_CONFIG_FILE", &rc)
            .env("TF_IN_AUTOMATION", "1")
            .output()
            .expect("terraform runs");
        assert!(
            out.status.success(),
            "terraform {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    };
    run(&["init", "-input=false", "-no-color", "-backend=false"]);
    run(&["providers", "schema", "-json"])
}

fn committed_sources() -> BTreeMap<String, String> {
    std::fs::read_dir(crate_dir().join("src"))
        .expect("src")
        .filter_map(Result::ok)
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read_to_string(e.path()).expect("readable"),
            )
        })
        .collect()
}

#[test]
fn committed_bindings_are_what_the_generator_makes_of_schema_json() {
    let schema_path = crate_dir().join("schema.json");
    if std::env::var_os("UPDATE_BINDINGS").is_some()
        && let Some(terraform) = terraform_binary()
    {
        let live = live_schema(&terraform);
        let trimmed = generate("live", &live, &Selection::all(), &options())
            .unwrap_or_else(|e| panic!("{e}"))
            .trimmed_schema;
        std::fs::write(&schema_path, trimmed).expect("write schema.json");
    }
    let schema = std::fs::read_to_string(&schema_path).expect("schema.json");
    let generated = generate("schema.json", &schema, &Selection::all(), &options())
        .unwrap_or_else(|e| panic!("{e}"));
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        callflow_codegen::write_dir(&crate_dir().join("src"), &generated.files).expect("write");
    }
    let committed = committed_sources();
    let stale: Vec<&String> = generated
        .files
        .keys()
        .chain(committed.keys())
        .filter(|name| generated.files.get(*name) != committed.get(*name))
        .collect();
    assert!(
        stale.is_empty(),
        "src/ is stale ({stale:?}): run `UPDATE_BINDINGS=1 cargo test -p \
         callflow-provider-terraform --test committed_bindings` and commit it"
    );
    assert_eq!(
        generated.trimmed_schema, schema,
        "schema.json is not in the generator's trimmed form"
    );
    assert_eq!(generated.stats.resources, 1, "terraform_data");
    assert_eq!(generated.stats.data_sources, 1, "terraform_remote_state");
}

#[test]
fn schema_json_is_what_the_installed_terraform_prints() {
    let Some(terraform) = terraform_binary() else {
        return;
    };
    let live = live_schema(&terraform);
    let trimmed = generate("live", &live, &Selection::all(), &options())
        .unwrap_or_else(|e| panic!("{e}"))
        .trimmed_schema;
    let committed = std::fs::read_to_string(crate_dir().join("schema.json")).expect("schema.json");
    assert_eq!(
        trimmed, committed,
        "the installed terraform's builtin provider schema changed: regenerate (see the module docs)"
    );
}
