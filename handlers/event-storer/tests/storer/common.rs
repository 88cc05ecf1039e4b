//! A running store with a bucket, the handler over it, request builders, bucket inspection.

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use aws_lambda_events::encodings::Body;
use callflow_core::{AcceptanceWindow, BucketName, EventStore};
use callflow_event_storer::EventStorer;
use callflow_s3store::{RunningStore, StoreConfig};
use serde_json::{Value, json};
use tempfile::TempDir;

/// The index key of the tests.
pub fn index_key() -> callflow_core::IndexKey {
    callflow_core::IndexKey::new(b"index-key-of-the-tests-32-bytes!".to_vec()).expect("index key")
}

pub const BUCKET: &str = "callflow-events";

pub struct Fixture {
    pub store: RunningStore,
    pub client: aws_sdk_s3::Client,
    pub storer: EventStorer,
    events: EventStore,
    _dir: TempDir,
}

impl Fixture {
    /// A store and a storer that accepts [`event`]'s fixed timestamps.
    pub async fn start() -> Fixture {
        Self::start_with_window(AcceptanceWindow::any()).await
    }

    /// A store and a storer with `window`.
    pub async fn start_with_window(window: AcceptanceWindow) -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = RunningStore::start(StoreConfig {
            data_dir: dir.path().join("data"),
            ..StoreConfig::default()
        })
        .await
        .expect("store starts");
        store.ensure_bucket(BUCKET).await.expect("bucket");
        let client = store.sdk_client();
        let bucket = BucketName::parse(BUCKET).expect("bucket name");
        let events = EventStore::new(client.clone(), bucket, index_key());
        let storer = EventStorer::new(events.clone(), "callflow-test", window);
        Fixture {
            store,
            client,
            storer,
            events,
            _dir: dir,
        }
    }

    /// The store the storer writes to, for reading events back.
    pub fn storer_store(&self) -> &EventStore {
        &self.events
    }

    /// Every key in the bucket under `prefix`, sorted.
    /// How many by-call and by-type index entries the bucket holds.
    pub async fn index_entries(&self) -> (usize, usize) {
        (
            self.keys(callflow_core::layout::CALL_INDEX_PREFIX)
                .await
                .len(),
            self.keys(callflow_core::layout::TYPE_INDEX_PREFIX)
                .await
                .len(),
        )
    }

    pub async fn keys(&self, prefix: &str) -> Vec<String> {
        self.store.keys(BUCKET, prefix).await
    }
}

/// A valid event body.
pub fn event(call_id: &str) -> Value {
    json!({
        "callId": call_id,
        "eventType": "call.answered",
        "timestamp": "2025-06-01T10:00:00.250Z",
        "direction": "inbound",
        "from": "+14155550100",
        "to": "sip:support@example.com",
        "attributes": {"queue": "support"},
        "payload": {"CallStatus": "in-progress", "AccountSid": "AC123"}
    })
}

/// A `POST /events` request as API Gateway (REST, proxy integration) delivers it after the
/// TOKEN authorizer allowed it with context `sub`/`scopes`.
pub fn post(body: &str, headers: &[(&str, &str)]) -> ApiGatewayProxyRequest {
    post_as("client-1", body, headers)
}

/// [`post`] from principal `sub`.
pub fn post_as(sub: &str, body: &str, headers: &[(&str, &str)]) -> ApiGatewayProxyRequest {
    let mut hdrs = serde_json::Map::new();
    hdrs.insert("Content-Type".into(), json!("application/json"));
    for (k, v) in headers {
        hdrs.insert((*k).into(), json!(v));
    }
    serde_json::from_value(json!({
        "resource": "/events",
        "path": "/events",
        "httpMethod": "POST",
        "headers": hdrs,
        "multiValueHeaders": {},
        "queryStringParameters": null,
        "pathParameters": null,
        "requestContext": {
            "accountId": "123456789012",
            "resourceId": "abc123",
            "stage": "prod",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "resourcePath": "/events",
            "httpMethod": "POST",
            "apiId": "api1234567",
            "identity": {"sourceIp": "127.0.0.1"},
            "authorizer": {"principalId": sub, "sub": sub, "scopes": "events:write"}
        },
        "body": body,
        "isBase64Encoded": false
    }))
    .expect("a valid API Gateway proxy event")
}

pub fn body_json(resp: &ApiGatewayProxyResponse) -> Value {
    match &resp.body {
        Some(Body::Text(t)) => serde_json::from_str(t).expect("JSON body"),
        other => panic!("unexpected body {other:?}"),
    }
}

pub fn header<'a>(resp: &'a ApiGatewayProxyResponse, name: &str) -> Option<&'a str> {
    resp.headers.get(name).and_then(|v| v.to_str().ok())
}
