//! Build script shared by the packages whose executables are started often and live
//! briefly: the `callflow` CLI (`synth` is a few milliseconds of work), the three Lambda
//! handlers (every cold start) and the hello-world `lambda_runtime` floor they are measured
//! against (`bin/dev/examples/bench_init.rs`), which is linked the same way so that the
//! comparison stays like for like.
//!
//! On Linux with glibc they are linked as position-dependent executables (`-no-pie`), as Go
//! links its binaries by default (`terraform` is one). A position-independent executable
//! has its relative relocations applied by the dynamic loader at every start: 53,642 for
//! `callflow`, 27,891 for the storer, each page of pointers it touches copied on write
//! (about 210 of the 415 page faults of a one-stack `callflow synth`). Non-PIE, the linker
//! resolves them once. The price is address-space randomization of the executable's own
//! image (shared libraries, heap, stacks and mmaps stay randomized).
//!
//! Set `CALLFLOW_PIE=1` when building to keep the platform's default (PIE).
//!
//! A statically linked build chooses between static-pie and static position-dependent from
//! the relocation model, and `-no-pie` on top of rustc's `-static-pie` produces an executable
//! that names a dynamic loader it must not use and crashes at start. So nothing is added when
//! the target's features (RUSTFLAGS, e.g. `--target` with `-C target-feature=+crt-static`)
//! include `crt-static`. `scripts/build-cli.sh` passes its flags to the final crate only
//! (`cargo rustc`), which this script does not see; it also passes
//! `-C relocation-model=static`, so rustc links `-static -no-pie` and the `-no-pie` here
//! agrees.
fn main() {
    println!("cargo:rerun-if-env-changed=CALLFLOW_PIE");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    let keep_pie = std::env::var_os("CALLFLOW_PIE").is_some_and(|v| !v.is_empty() && v != "0");
    let crt_static = std::env::var("CARGO_CFG_TARGET_FEATURE")
        .is_ok_and(|features| features.split(',').any(|f| f == "crt-static"));
    if os != "linux" || env != "gnu" || keep_pie || crt_static {
        return;
    }
    // Cargo refuses a link argument for a kind of target the package does not have.
    let package =
        std::path::PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    if package.join("src/main.rs").is_file() || package.join("src/bin").is_dir() {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
    if package.join("examples").is_dir() {
        println!("cargo:rustc-link-arg-examples=-no-pie");
    }
}
