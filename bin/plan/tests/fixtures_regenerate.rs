//! The committed real plans (`tests/fixtures/plans`) are what `tests/fixtures/regenerate.sh`
//! makes with the terraform on this machine: the script is run into a temporary directory and
//! every plan's structure (addresses, actions, previous addresses, reasons, import ids, replace
//! paths, drift, outputs) must match. Ids and timestamps differ on every run and are not
//! compared.
//!
//! Without terraform this prints `SKIPPED` and passes, unless `CALLFLOW_REQUIRE_TERRAFORM=1`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

fn terraform() -> Option<PathBuf> {
    let found = std::env::var_os("TERRAFORM")
        .map(PathBuf::from)
        .or_else(|| Some(PathBuf::from("/usr/local/bin/terraform")).filter(|p| p.is_file()))
        .or_else(|| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|dir| dir.join("terraform"))
                    .find(|p| p.is_file())
            })
        });
    if found.is_none() {
        assert!(
            std::env::var_os("CALLFLOW_REQUIRE_TERRAFORM").is_none(),
            "terraform is required (CALLFLOW_REQUIRE_TERRAFORM is set) but was not found"
        );
        eprintln!("SKIPPED: no terraform binary ($TERRAFORM, /usr/local/bin/terraform, PATH)");
    }
    found
}

/// What must not change between two runs of the script.
fn shape(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let doc: Value = serde_json::from_str(&text).expect("JSON");
    let changes = |key: &str| -> Vec<Value> {
        doc[key]
            .as_array()
            .into_iter()
            .flatten()
            .map(|rc| {
                json!([
                    rc["address"],
                    rc["change"]["actions"],
                    rc["previous_address"],
                    rc["action_reason"],
                    rc["change"]["importing"],
                    rc["change"]["replace_paths"]
                ])
            })
            .collect()
    };
    let outputs: Vec<Value> = doc["output_changes"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, change)| json!([name, change["actions"]]))
        .collect();
    json!({
        "terraform_version": doc["terraform_version"],
        "format_version": doc["format_version"],
        "resource_changes": changes("resource_changes"),
        "resource_drift": changes("resource_drift"),
        "outputs": outputs,
    })
}

#[test]
fn regenerating_the_real_plans_gives_the_committed_ones() {
    let Some(terraform) = terraform() else { return };
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let out = tempfile::tempdir().expect("tempdir");
    let status = Command::new("bash")
        .arg(fixtures.join("regenerate.sh"))
        .env("TERRAFORM", &terraform)
        .env("PLANS_OUT", out.path())
        .status()
        .expect("run regenerate.sh");
    assert!(status.success(), "regenerate.sh failed");
    let mut committed: Vec<String> = std::fs::read_dir(fixtures.join("plans"))
        .expect("plans dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".plan.json"))
        .collect();
    committed.sort();
    let mut made: Vec<String> = std::fs::read_dir(out.path())
        .expect("output dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    made.sort();
    assert_eq!(
        made, committed,
        "the script makes exactly the committed plans"
    );
    for name in &committed {
        assert_eq!(
            shape(&out.path().join(name)),
            shape(&fixtures.join("plans").join(name)),
            "{name} differs from a fresh regeneration"
        );
    }
}
