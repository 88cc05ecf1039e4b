//! Converts `openapi.yaml` to JSON at build time, so a process reads the contract with a fast
//! JSON parse instead of a YAML parse (synth of one stack is a few milliseconds end to end).

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=openapi.yaml");
    let yaml = std::fs::read_to_string("openapi.yaml").expect("openapi/openapi.yaml is readable");
    let doc: serde_json::Value = match serde_norway::from_str(&yaml) {
        Ok(doc) => doc,
        Err(err) => panic!("openapi/openapi.yaml does not parse: {err}"),
    };
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("openapi.json");
    std::fs::write(out, doc.to_string()).expect("write openapi.json");
}
