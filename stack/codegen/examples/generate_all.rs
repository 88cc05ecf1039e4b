//! Generates bindings for every type of a provider schema into a directory and prints the
//! figures: `cargo run --release -p callflow-codegen --example generate_all -- SCHEMA PROVIDER OUT_DIR`.
//! (The scale benchmark of issue 12; `callflow get` is the command for projects.)

use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(schema), Some(provider), Some(out)) = (args.next(), args.next(), args.next()) else {
        return Err("usage: generate_all SCHEMA PROVIDER OUT_DIR".into());
    };
    let start = Instant::now();
    let text = std::fs::read_to_string(&schema)?;
    let read = start.elapsed();
    let mut options = callflow_codegen::Options::new(provider);
    options.command = "generate_all (callflow-codegen example)".into();
    let generated = callflow_codegen::generate(
        &schema,
        &text,
        &callflow_codegen::Selection::all(),
        &options,
    )?;
    let generated_at = start.elapsed();
    callflow_codegen::write_dir(std::path::Path::new(&out), &generated.files)?;
    let s = generated.stats;
    println!(
        "{} resources, {} data sources, {} modules, {} structs, {} lines, {} bytes; read {} ms, generate {} ms, write {} ms",
        s.resources,
        s.data_sources,
        s.modules,
        s.structs,
        s.lines,
        generated.files.values().map(String::len).sum::<usize>(),
        read.as_millis(),
        (generated_at - read).as_millis(),
        (start.elapsed() - generated_at).as_millis()
    );
    Ok(())
}
