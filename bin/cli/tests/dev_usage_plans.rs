//! Per-client usage plans through the real `callflow dev`: tokens of two clients (their
//! `client_id` claims), one throttled or out of quota while the other is served, a token
//! without the claim refused, and the access log naming the client.

mod support;

use std::process::Command;

use callflow_dev::LocalIdentity;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use support::{DevProcess, Reply, assert_error, bearer, get};

const BIN: &str = env!("CARGO_BIN_EXE_callflow");

fn range() -> String {
    let now = OffsetDateTime::now_utc();
    let at = |t: OffsetDateTime| t.format(&Rfc3339).unwrap();
    format!(
        "from={}&to={}",
        at(now - time::Duration::hours(1)),
        at(now + time::Duration::hours(1))
    )
}

/// `callflow token --client-id ID` for the data dir.
fn client_token(data_dir: &std::path::Path, client_id: &str) -> String {
    let output = Command::new(BIN)
        .arg("token")
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--scope", "events:read", "--client-id", client_id])
        .output()
        .expect("callflow token runs");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .last()
        .expect("a token")
        .to_owned()
}

fn assert_429(reply: &Reply, message: &str, error_type: &str) {
    assert_error(reply, 429, "throttled");
    assert_eq!(reply.body["message"], message, "{}", reply.body);
    assert_eq!(reply.headers["x-amzn-errortype"], error_type);
    assert!(reply.headers.contains_key("retry-after"));
}

fn access_log(dev: &DevProcess, count: usize) -> Vec<Value> {
    dev.stdout_until(|lines| {
        lines
            .iter()
            .filter(|l| l.starts_with("{\"requestId\""))
            .count()
            >= count
    })
    .iter()
    .filter(|l| l.starts_with("{\"requestId\""))
    .map(|l| serde_json::from_str(l).unwrap())
    .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_over_its_burst_is_throttled_while_another_is_served() {
    let data = tempfile::tempdir().unwrap();
    let dev = DevProcess::start(
        data.path(),
        &[
            "--lambda",
            "in-process",
            "--usage-burst",
            "2",
            "--usage-rate",
            "0.001",
        ],
    );
    let noisy = bearer(&client_token(data.path(), "noisy-client-000000001"));
    let quiet = bearer(&client_token(data.path(), "quiet-client-000000001"));
    let path = format!("/events?{}", range());
    assert_eq!(get(&dev, &noisy, &path).await.status, 200);
    assert_eq!(get(&dev, &noisy, &path).await.status, 200);
    assert_429(
        &get(&dev, &noisy, &path).await,
        "Too Many Requests",
        "TooManyRequestsException",
    );
    assert_eq!(get(&dev, &quiet, &path).await.status, 200);
    assert_eq!(get(&dev, &quiet, &path).await.status, 200);
    assert_429(
        &get(&dev, &noisy, &path).await,
        "Too Many Requests",
        "TooManyRequestsException",
    );
    let keys: Vec<Value> = access_log(&dev, 6)
        .iter()
        .map(|l| json!([l["apiKey"], l["status"]]))
        .collect();
    assert_eq!(
        keys,
        [
            json!(["noisy-client-000000001", "200"]),
            json!(["noisy-client-000000001", "200"]),
            json!(["noisy-client-000000001", "429"]),
            json!(["quiet-client-000000001", "200"]),
            json!(["quiet-client-000000001", "200"]),
            json!(["noisy-client-000000001", "429"]),
        ]
    );
    dev.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_past_its_daily_quota_gets_limit_exceeded_and_others_are_served() {
    let data = tempfile::tempdir().unwrap();
    let dev = DevProcess::start(
        data.path(),
        &[
            "--lambda",
            "in-process",
            "--usage-quota",
            "3",
            "--no-access-log",
        ],
    );
    let heavy = bearer(&client_token(data.path(), "heavy-client-000000001"));
    let light = bearer(&client_token(data.path(), "light-client-000000001"));
    let path = format!("/events?{}", range());
    for _ in 0..3 {
        assert_eq!(get(&dev, &heavy, &path).await.status, 200);
    }
    assert_429(
        &get(&dev, &heavy, &path).await,
        "Limit Exceeded",
        "LimitExceededException",
    );
    // Another token of the same client shares its quota: the plan meters the client.
    let heavy_again = bearer(&client_token(data.path(), "heavy-client-000000001"));
    assert_429(
        &get(&dev, &heavy_again, &path).await,
        "Limit Exceeded",
        "LimitExceededException",
    );
    assert_eq!(get(&dev, &light, &path).await.status, 200);
    dev.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_without_the_client_claim_is_refused() {
    let data = tempfile::tempdir().unwrap();
    let dev = DevProcess::start(data.path(), &["--lambda", "in-process", "--no-access-log"]);
    let identity = LocalIdentity::load_or_create(data.path()).expect("local key");
    let issuer = identity.token_issuer();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = json!({
        "iss": issuer.issuer(), "aud": issuer.audience(), "sub": "no-client",
        "scope": "events:read", "iat": now, "nbf": now, "exp": now + 300,
    });
    let without = bearer(&issuer.sign(&claims));
    let path = format!("/events?{}", range());
    assert_error(&get(&dev, &without, &path).await, 401, "unauthorized");
    let mut with_empty = claims.clone();
    with_empty["client_id"] = json!("");
    assert_error(
        &get(&dev, &bearer(&issuer.sign(&with_empty)), &path).await,
        401,
        "unauthorized",
    );
    let mut with = claims;
    with["client_id"] = json!("named-client-00000001");
    assert_eq!(
        get(&dev, &bearer(&issuer.sign(&with)), &path).await.status,
        200
    );
    dev.stop();
}
