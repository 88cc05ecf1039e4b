//! Phase timing of synthesis for 100 copies: build, synth (checks + canonical order), render.
use std::time::Instant;
fn main() {
    first_call_costs();
    openapi_costs();
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../callflow.toml"))
        .expect("config");
    let base = callflow_stack::callflow::AppConfig::from_toml(&text)
        .expect("valid")
        .stacks
        .remove(0);
    let stacks: Vec<_> = (0..100)
        .map(|i| {
            let mut c = base.clone();
            c.stack_name = format!("s{i}");
            c.environment = format!("e{i}");
            c
        })
        .collect();
    for _ in 0..3 {
        let t = Instant::now();
        let app = callflow_stack::callflow::callflow_app(&callflow_stack::callflow::AppConfig {
            stacks: stacks.clone(),
        });
        let t1 = t.elapsed();
        let s = app.synth().expect("synth");
        let t2 = t.elapsed();
        let f = s.files();
        let t3 = t.elapsed();
        println!(
            "build {:?} synth {:?} render {:?} ({} files)",
            t1,
            t2 - t1,
            t3 - t2,
            f.len()
        );
    }
}

#[allow(dead_code)]
fn openapi_costs() {
    let t = Instant::now();
    for _ in 0..100 {
        std::hint::black_box(callflow_openapi::routes().expect("ok"));
    }
    println!("100x routes {:?}", t.elapsed());
    let spec = callflow_openapi::spec_json();
    let t = Instant::now();
    for _ in 0..100 {
        std::hint::black_box(callflow_stack::dsl::TfJson::from(spec).to_template());
    }
    println!(
        "100x body template {:?} ({} bytes of spec)",
        t.elapsed(),
        spec.to_string().len()
    );
}

#[allow(dead_code)]
fn first_call_costs() {
    let t = Instant::now();
    let v = callflow_openapi::spec_json();
    println!(
        "first spec_json {:?} ({} keys)",
        t.elapsed(),
        v.as_object().map_or(0, |m| m.len())
    );
    let t = Instant::now();
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../callflow.toml"))
        .expect("config");
    let app = callflow_stack::callflow::callflow_app(
        &callflow_stack::callflow::AppConfig::from_toml(&text).expect("valid"),
    );
    let s = app.synth().expect("synth");
    let f = s.files();
    println!(
        "one stack after spec parsed {:?} ({} files)",
        t.elapsed(),
        f.len()
    );
}
