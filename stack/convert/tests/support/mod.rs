//! Building and running a converted package, shared by the tests that do.
#![allow(dead_code)] // each test crate uses a part

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository checkout.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Where converted packages build: a target directory kept between runs (beside the test's
/// own; the running `cargo test` holds the shared one).
pub fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("converted")
}

/// `cargo run` of the package in `dir`, writing `out`; panics with cargo's output on failure
/// or on any warning. Returns the build-and-run time.
pub fn run_package(dir: &Path, out: &Path) -> std::time::Duration {
    let started = std::time::Instant::now();
    let run = Command::new(env!("CARGO"))
        .args(["run", "--quiet", "--offline", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .arg("--")
        .arg(out)
        .env("CARGO_TARGET_DIR", target_dir())
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo run");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success(),
        "the converted package failed:\n{stderr}"
    );
    assert!(
        !stderr.contains("warning"),
        "the converted package has warnings:\n{stderr}"
    );
    started.elapsed()
}

/// A parsed JSON file.
pub fn read_json(path: &Path) -> serde_json::Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `rustfmt --check` of a file passes.
pub fn assert_rustfmt_clean(file: &Path) {
    let check = Command::new(callflow_convert::find_rustfmt().expect("rustfmt"))
        .args(["--edition", "2024", "--check"])
        .arg(file)
        .output()
        .expect("rustfmt");
    assert!(
        check.status.success(),
        "{} is not rustfmt-clean:\n{}",
        file.display(),
        String::from_utf8_lossy(&check.stdout)
    );
}
