//! Converts `openapi.yaml` to JSON at build time, so a process reads the contract with a fast
//! JSON parse instead of a YAML parse (synth of one stack is a few milliseconds end to end).

use std::path::PathBuf;

#[path = "src/extracted_fields.rs"]
mod extracted_fields;
#[path = "src/route_fields.rs"]
#[allow(dead_code)] // this script reads only the list
mod route_fields;

fn main() {
    println!("cargo:rerun-if-changed=openapi.yaml");
    println!("cargo:rerun-if-changed=src/route_fields.rs");
    println!("cargo:rerun-if-changed=src/extracted_fields.rs");
    let yaml = std::fs::read_to_string("openapi.yaml").expect("openapi/openapi.yaml is readable");
    let doc: serde_json::Value = match serde_norway::from_str(&yaml) {
        Ok(doc) => doc,
        Err(err) => panic!("openapi/openapi.yaml does not parse: {err}"),
    };
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("openapi.json"), doc.to_string()).expect("write openapi.json");
    std::fs::write(out.join("routes.json"), reduce_to_routes(&doc).to_string())
        .expect("write routes.json");
    // The one field `idempotency_window_days` reads (`null` when the document lacks it).
    let window = doc
        .pointer(extracted_fields::IDEMPOTENCY_WINDOW_POINTER)
        .cloned()
        .unwrap_or(serde_json::Value::Null);
    std::fs::write(out.join("idempotency_window.json"), window.to_string())
        .expect("write idempotency_window.json");
}

/// The document reduced to what the route table reads (`routes_from`): under `paths`, each
/// path item's members with only the operation fields the routes take. A process that needs
/// the routes and not the contract (the authorizer's cold start) parses this, not the
/// whole document; `routes_from` reads both alike, so its checks apply to either.
fn reduce_to_routes(doc: &serde_json::Value) -> serde_json::Value {
    use serde_json::{Map, Value};
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return Value::Object(Map::new());
    };
    let paths: Map<String, Value> = paths
        .iter()
        .map(|(path, item)| {
            let members = item.as_object().map(|item| {
                item.iter()
                    .map(|(key, member)| {
                        let kept = member.as_object().map(|operation| {
                            operation
                                .iter()
                                .filter(|(field, _)| {
                                    route_fields::ROUTE_FIELDS.contains(&field.as_str())
                                })
                                .map(|(field, value)| (field.clone(), value.clone()))
                                .collect::<Map<String, Value>>()
                        });
                        (key.clone(), kept.map_or(Value::Null, Value::Object))
                    })
                    .collect::<Map<String, Value>>()
            });
            (path.clone(), members.map_or(Value::Null, Value::Object))
        })
        .collect();
    let mut reduced = Map::new();
    reduced.insert("paths".to_owned(), Value::Object(paths));
    Value::Object(reduced)
}
