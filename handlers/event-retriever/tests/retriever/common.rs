//! A running store with a bucket, both handlers over it, request builders.

use std::collections::BTreeMap;

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use aws_lambda_events::encodings::Body;
use callflow_core::{AcceptanceWindow, BucketName, EventStore, TokenSigner};
use callflow_event_retriever::EventRetriever;
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
    pub events: EventStore,
    pub storer: EventStorer,
    pub retriever: EventRetriever,
    _dir: TempDir,
}

impl Fixture {
    pub async fn start() -> Fixture {
        Self::with_scan_budget(callflow_core::store::DEFAULT_SCAN_BUDGET).await
    }

    pub async fn with_scan_budget(budget: usize) -> Fixture {
        Self::with_budgets(budget, callflow_core::store::DEFAULT_LIST_BUDGET).await
    }

    /// A fixture whose store reads at most `budget` objects and makes at most `list_budget`
    /// LIST requests per page.
    pub async fn with_budgets(budget: usize, list_budget: usize) -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = RunningStore::start(StoreConfig {
            data_dir: dir.path().join("data"),
            ..StoreConfig::default()
        })
        .await
        .expect("store starts");
        store.ensure_bucket(BUCKET).await.expect("bucket");
        let bucket = BucketName::parse(BUCKET).expect("bucket name");
        let events = EventStore::new(store.sdk_client(), bucket, index_key())
            .with_read_concurrency(8)
            .with_scan_budget(budget)
            .with_list_budget(list_budget);
        // The query tests use fixed dates of 2025.
        let storer = EventStorer::new(events.clone(), "callflow-test", AcceptanceWindow::any());
        let retriever = EventRetriever::new(events.clone(), signer(), "callflow-test");
        Fixture {
            store,
            events,
            storer,
            retriever,
            _dir: dir,
        }
    }

    /// Stores an event through the storer handler and returns the response body.
    pub async fn post(&self, event: Value) -> Value {
        let resp = self
            .storer
            .handle(request(
                "POST",
                "/events",
                None,
                &[],
                Some(&event.to_string()),
            ))
            .await;
        assert_eq!(resp.status_code, 201, "{:?}", resp.body);
        body_json(&resp)
    }

    pub async fn get(&self, id: &str) -> ApiGatewayProxyResponse {
        self.retriever
            .handle(request(
                "GET",
                &format!("/events/{id}"),
                Some(id),
                &[],
                None,
            ))
            .await
    }

    pub async fn query(&self, params: &[(&str, &str)]) -> ApiGatewayProxyResponse {
        self.retriever
            .handle(request("GET", "/events", None, params, None))
            .await
    }
}

pub fn signer() -> TokenSigner {
    TokenSigner::new(b"test-signing-key-of-32-bytes-min".to_vec())
}

/// A request as API Gateway (REST, proxy integration) delivers it after the authorizer.
pub fn request(
    method: &str,
    path: &str,
    event_id: Option<&str>,
    params: &[(&str, &str)],
    body: Option<&str>,
) -> ApiGatewayProxyRequest {
    let query: BTreeMap<&str, &str> = params.iter().copied().collect();
    let resource = if event_id.is_some() {
        "/events/{eventId}"
    } else {
        "/events"
    };
    serde_json::from_value(json!({
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json", "Authorization": "Bearer x"},
        "multiValueHeaders": {},
        "queryStringParameters": if query.is_empty() { Value::Null } else { json!(query) },
        "pathParameters": event_id.map(|id| json!({"eventId": id})),
        "requestContext": {
            "accountId": "123456789012",
            "stage": "prod",
            "requestId": "req-42",
            "resourcePath": resource,
            "httpMethod": method,
            "identity": {"sourceIp": "127.0.0.1"},
            "authorizer": {"principalId": "client-1", "sub": "client-1", "scopes": "events:read events:write"}
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

pub fn event(call_id: &str, event_type: &str, timestamp: &str) -> Value {
    json!({
        "callId": call_id,
        "eventType": event_type,
        "timestamp": timestamp,
        "direction": "inbound",
        "from": "+14155550100",
        "to": "+14155550199"
    })
}

/// The event ids of a query response, in order.
pub fn ids(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["eventId"].as_str().unwrap_or_default().to_owned())
        .collect()
}
