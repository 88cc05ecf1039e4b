//! The committed bindings are exactly what `callflow get` generates from the committed trimmed
//! schema (`schema.json`) with the selection in `callflow.toml`: CI fails when someone edits the
//! generated files or changes the selection without regenerating (as for `cdktf.out/`).
//! `UPDATE_BINDINGS=1 cargo test -p callflow-provider-aws --test committed_bindings` rewrites
//! them from the committed schema (as `callflow get --schema stack/providers/aws/schema.json`
//! does), for a change of the generator.

use std::collections::BTreeMap;
use std::path::PathBuf;

use callflow_codegen::project::ProjectBindings;

#[test]
fn committed_bindings_are_what_callflow_get_generates() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../..");
    let config = root.join("callflow.toml");
    let text = std::fs::read_to_string(&config).expect("callflow.toml");
    let project = ProjectBindings::from_toml("callflow.toml", &text).expect("[[providers]]");
    let aws = project
        .providers
        .iter()
        .find(|p| p.source == "hashicorp/aws")
        .expect("an aws provider entry");
    let schema_path = aws.schema_path(&root);
    let schema = std::fs::read_to_string(&schema_path).expect("schema.json");
    let generated = callflow_codegen::generate(
        &schema_path.display().to_string(),
        &schema,
        &aws.selection(),
        &aws.options(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let src = aws.src_dir(&root);
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        callflow_codegen::write_dir(&src, &generated.files).expect("write src");
        std::fs::write(&schema_path, &generated.trimmed_schema).expect("write schema.json");
        return;
    }
    let committed: BTreeMap<String, String> = std::fs::read_dir(&src)
        .expect("src")
        .filter_map(Result::ok)
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read_to_string(e.path()).expect("readable"),
            )
        })
        .collect();
    let stale: Vec<&String> = generated
        .files
        .keys()
        .chain(committed.keys())
        .filter(|name| generated.files.get(*name) != committed.get(*name))
        .collect();
    assert!(
        stale.is_empty(),
        "stack/providers/aws/src is stale ({stale:?}): run `cargo run -p callflow-cli -- get \
         --schema stack/providers/aws/schema.json` (or, after adding a type to callflow.toml, \
         --schema with the provider's whole `terraform providers schema -json`) and commit it"
    );
    assert_eq!(
        generated.trimmed_schema, schema,
        "schema.json is not the trimmed schema of the selected types: run `callflow get` again"
    );
}
