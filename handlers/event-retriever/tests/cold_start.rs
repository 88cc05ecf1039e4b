//! The Lambda binary refuses to start with a bad environment and says why.

#[test]
fn bad_configuration_fails_at_cold_start_with_every_problem() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_callflow-event-retriever"))
        .env_clear()
        .env("S3_BUCKET", "Not_A_Bucket")
        .env("TOKEN_SIGNING_KEY", "short")
        .output()
        .expect("the binary runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    for problem in [
        "S3_BUCKET",
        "SERVICE_NAME: is required",
        "LOG_LEVEL: is required",
        "INDEX_HASH_KEY: is required",
        "TOKEN_SIGNING_KEY: must be at least 32 bytes",
    ] {
        assert!(
            stderr.contains(problem),
            "{problem} missing from:\n{stderr}"
        );
    }
}

#[test]
fn the_retriever_needs_a_token_signing_key() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_callflow-event-retriever"))
        .env_clear()
        .env("S3_BUCKET", "events")
        .env("SERVICE_NAME", "callflow")
        .env("LOG_LEVEL", "info")
        .env("INDEX_HASH_KEY", "index-key-of-the-tests-32-bytes!")
        .output()
        .expect("the binary runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("TOKEN_SIGNING_KEY: is required"),
        "{stderr}"
    );
}
