//! `callflow verify` against moto server seeded from the committed synth (needs `moto_server`:
//! `CALLFLOW_MOTO_SERVER=/path/to/moto_server`, or on PATH; skipped loudly without it unless CI).

use std::path::Path;
use std::process::{Command, Output};

use callflow_stack::dsl::Synthesized;
use callflow_verify::testing::{MotoServer, drift, moto_or_skip, seed, seed_stack};

const BIN: &str = env!("CARGO_BIN_EXE_callflow");

fn verify(synth_dir: &Path, endpoint: &str, extra: &[&str]) -> Output {
    Command::new(BIN)
        .arg("verify")
        .arg("--synth-dir")
        .arg(synth_dir)
        .args(["--aws-endpoint-url", endpoint, "--skip-api"])
        .args(extra)
        // The standard credential chain, fed the static test credentials moto accepts.
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("callflow runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_passes_on_the_seeded_stack_and_reports_drift_with_exit_1() {
    let Some(moto) =
        moto_or_skip("verify_passes_on_the_seeded_stack_and_reports_drift_with_exit_1")
    else {
        return;
    };
    let server = MotoServer::start(&moto).expect("moto starts");
    let committed =
        Synthesized::read_from(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../cdktf.out"))
            .unwrap();
    let doc = seed_stack(server.endpoint(), &committed.stacks()["callflow"])
        .await
        .expect("seeding");
    let dir = tempfile::tempdir().unwrap();
    Synthesized::new([("callflow".to_owned(), doc)].into())
        .write_to(dir.path())
        .unwrap();

    let started = std::time::Instant::now();
    let out = verify(dir.path(), server.endpoint(), &[]);
    eprintln!("verify (infra, all passing) took {:?}", started.elapsed());
    let table = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{table}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(table.starts_with("CHECK"), "{table}");
    assert!(table.contains(" 0 failed"), "{table}");
    eprintln!(
        "{}",
        table
            .lines()
            .find(|l| l.ends_with(" 0 failed"))
            .unwrap_or_default()
    );

    let clients = seed::moto_clients(server.endpoint(), "us-east-1").await;
    drift::suspend_versioning(&clients, "callflow-events-prod")
        .await
        .unwrap();
    drift::set_function_memory(&clients, "callflow-prod-authorizer", 1024)
        .await
        .unwrap();
    drift::delete_alarm(&clients, "callflow-prod-event-storer-errors")
        .await
        .unwrap();
    drift::set_throttling(&clients, "callflow-prod-api", "v1", 5000, 10000.0)
        .await
        .unwrap();
    drift::set_usage_plan_burst(&clients, "callflow-prod-default", 7)
        .await
        .unwrap();

    let junit = dir.path().join("verify.xml");
    let out = verify(
        dir.path(),
        server.endpoint(),
        &["--format", "json", "--junit", junit.to_str().unwrap()],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report["passed"], false);
    let failed: Vec<(String, String, String)> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["verdict"] == "fail")
        .map(|c| {
            assert!(
                c["fix"].as_str().is_some_and(|f| !f.is_empty()),
                "every failure says what to fix: {c}"
            );
            let s = |k: &str| c[k].as_str().unwrap().to_owned();
            (s("check"), s("expected"), s("actual"))
        })
        .collect();
    let expect = |c: &str, e: &str, a: &str| (c.to_owned(), e.to_owned(), a.to_owned());
    assert_eq!(
        failed,
        vec![
            expect(
                "s3 callflow-events-prod: versioning",
                "Enabled",
                "Suspended"
            ),
            expect(
                "lambda callflow-prod-authorizer: memory (MB)",
                "128",
                "1024"
            ),
            expect(
                "apigateway callflow-prod-api stage v1: method settings */* throttling",
                "burst 200 rate 100",
                "burst 5000 rate 10000"
            ),
            expect(
                "apigateway callflow-prod-api usage plan callflow-prod-default: throttle",
                "burst 100 rate 50",
                "burst 7 rate 50"
            ),
            expect(
                "cloudwatch alarm callflow-prod-event-storer-errors",
                "AWS/Lambda/Errors GreaterThanOrEqualToThreshold 1",
                "(alarm missing)"
            ),
        ]
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<failure ").count(), 5, "{xml}");
    assert!(xml.contains("expected Enabled, got Suspended"), "{xml}");
}

#[test]
fn an_unreachable_endpoint_fails_every_check_instead_of_passing() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../cdktf.out");
    // A port nothing listens on: bind one, then drop it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = Command::new(BIN)
        .arg("verify")
        .arg("--synth-dir")
        .arg(&dir)
        .args([
            "--aws-endpoint-url",
            &format!("http://127.0.0.1:{port}"),
            "--skip-api",
            "--format",
            "json",
        ])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["failed"], report["total"]);
}
