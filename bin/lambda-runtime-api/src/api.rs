//! The Runtime API (2018-06-01) of one execution environment, served on loopback.
//!
//! | request | answer |
//! |---|---|
//! | `GET /2018-06-01/runtime/invocation/next` | blocks until an event arrives, then 200 with the payload and the `Lambda-Runtime-Aws-Request-Id`, `-Deadline-Ms`, `-Invoked-Function-Arn`, `-Trace-Id` headers |
//! | `POST …/invocation/{id}/response` | 202 `{"status":"OK"}`; 400 `InvalidRequestID` for an id that is not the current invocation's (unknown or already answered); 413 `RequestEntityTooLarge` over [`MAX_PAYLOAD_BYTES`] (the invocation then fails) |
//! | `POST …/invocation/{id}/error` | 202; 400 `InvalidRequestID` as above; the body need not be a standard error document (see [`ErrorDocument::from_body`]) |
//! | `POST …/init/error` | 202 during init; 403 `InvalidStateTransition` once the runtime has asked for an event |
//!
//! The statuses and error types are those of Lambda's runtime interface emulator
//! (`aws-lambda-runtime-interface-emulator`, `rapi/rendering`).

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};

use crate::error::{ErrorDocument, StartError};
use crate::ids::RequestId;

/// Lambda's limit on a synchronous response (and on an error document): 6 MB, plus the 100
/// bytes of slack the runtime interface emulator allows (6,291,556 bytes).
pub const MAX_PAYLOAD_BYTES: usize = 6 * 1024 * 1024 + 100;

const PREFIX: &str = "/2018-06-01/runtime";

/// One event on its way to the runtime.
#[derive(Debug)]
pub struct Invocation {
    /// Its request id.
    pub id: RequestId,
    /// The event JSON.
    pub payload: Bytes,
    /// When the function times out.
    pub deadline: SystemTime,
    /// The function ARN.
    pub function_arn: String,
    /// The X-Ray trace header value.
    pub trace_id: String,
    /// Where the runtime's answer goes.
    pub reply: oneshot::Sender<RuntimeReply>,
}

/// The runtime's answer to one invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuntimeReply {
    /// `invocation/{id}/response`.
    Response(Bytes),
    /// `invocation/{id}/error`.
    Error(ErrorDocument),
    /// A response over [`MAX_PAYLOAD_BYTES`] (answered 413 to the runtime).
    TooLarge,
}

/// What the runtime did outside invocations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lifecycle {
    /// The first `invocation/next`: initialization is over.
    Ready,
    /// `init/error` during initialization.
    InitError(ErrorDocument),
}

struct Active {
    id: RequestId,
    reply: oneshot::Sender<RuntimeReply>,
}

struct Shared {
    queue: tokio::sync::Mutex<mpsc::Receiver<Invocation>>,
    current: std::sync::Mutex<Option<Active>>,
    lifecycle: mpsc::UnboundedSender<Lifecycle>,
    initialized: AtomicBool,
}

impl Shared {
    fn current(&self) -> std::sync::MutexGuard<'_, Option<Active>> {
        self.current.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes the current invocation when `id` is its id.
    fn take_if(&self, id: &str) -> Option<Active> {
        let mut current = self.current();
        match current.as_ref() {
            Some(active) if active.id.as_str() == id => current.take(),
            _ => None,
        }
    }
}

/// The Runtime API endpoint of one environment (stopped when dropped).
pub struct RuntimeApi {
    addr: SocketAddr,
    invocations: mpsc::Sender<Invocation>,
    lifecycle: mpsc::UnboundedReceiver<Lifecycle>,
    stop: watch::Sender<bool>,
}

impl std::fmt::Debug for RuntimeApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeApi")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl RuntimeApi {
    /// Listens on `127.0.0.1:0` and serves until dropped. Must run inside a Tokio runtime.
    pub async fn start() -> Result<Self, StartError> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .map_err(|e| StartError::Listen(e.to_string()))?;
        let addr = listener
            .local_addr()
            .map_err(|e| StartError::Listen(e.to_string()))?;
        let (invocations, queue) = mpsc::channel(1);
        let (lifecycle_tx, lifecycle) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            queue: tokio::sync::Mutex::new(queue),
            current: std::sync::Mutex::new(None),
            lifecycle: lifecycle_tx,
            initialized: AtomicBool::new(false),
        });
        let (stop, stop_rx) = watch::channel(false);
        tokio::spawn(serve(listener, shared, stop_rx));
        Ok(Self {
            addr,
            invocations,
            lifecycle,
            stop,
        })
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// Queues an event for the runtime's next `invocation/next`.
    pub async fn deliver(&self, invocation: Invocation) -> Result<(), Invocation> {
        self.invocations.send(invocation).await.map_err(|e| e.0)
    }

    /// The next lifecycle event (`None` once the endpoint stopped).
    pub async fn lifecycle(&mut self) -> Option<Lifecycle> {
        self.lifecycle.recv().await
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

async fn serve(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let shared = Arc::clone(&shared);
                connections.spawn(async move {
                    let service = service_fn(move |request| {
                        let shared = Arc::clone(&shared);
                        async move { Ok::<_, std::convert::Infallible>(route(&shared, request).await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            _ = stop.changed() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.abort_all();
}

async fn route(shared: &Shared, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_owned();
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return not_found();
    };
    let segments: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
    match (request.method(), segments.as_slice()) {
        (&Method::GET, ["invocation", "next"]) => next(shared).await,
        (&Method::POST, ["invocation", id, "response"]) => {
            let id = (*id).to_owned();
            respond(shared, &id, request).await
        }
        (&Method::POST, ["invocation", id, "error"]) => {
            let id = (*id).to_owned();
            fail(shared, &id, request).await
        }
        (&Method::POST, ["init", "error"]) => init_error(shared, request).await,
        _ => not_found(),
    }
}

async fn next(shared: &Shared) -> Response<Full<Bytes>> {
    if shared.current().is_some() {
        return error(
            StatusCode::FORBIDDEN,
            "InvalidStateTransition",
            "State transition from Running to Ready failed for runtime: the current invocation has no answer",
        );
    }
    if !shared.initialized.swap(true, Ordering::SeqCst) {
        let _ = shared.lifecycle.send(Lifecycle::Ready);
    }
    let mut queue = shared.queue.lock().await;
    let Some(invocation) = queue.recv().await else {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "the environment is shutting down",
        );
    };
    drop(queue);
    let deadline_ms = invocation
        .deadline
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_millis();
    let mut response = Response::new(Full::new(invocation.payload));
    let headers = response.headers_mut();
    let mut set = |name: &'static str, value: &str| {
        if let Ok(value) = hyper::header::HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set("lambda-runtime-aws-request-id", invocation.id.as_str());
    set("lambda-runtime-deadline-ms", &deadline_ms.to_string());
    set(
        "lambda-runtime-invoked-function-arn",
        &invocation.function_arn,
    );
    set("lambda-runtime-trace-id", &invocation.trace_id);
    set("content-type", "application/json");
    *shared.current() = Some(Active {
        id: invocation.id,
        reply: invocation.reply,
    });
    response
}

/// Reads a body of at most [`MAX_PAYLOAD_BYTES`]; `None` when it is longer (or broken).
async fn read_body(request: Request<Incoming>) -> Option<Bytes> {
    Limited::new(request.into_body(), MAX_PAYLOAD_BYTES)
        .collect()
        .await
        .ok()
        .map(|c| c.to_bytes())
}

async fn respond(shared: &Shared, id: &str, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let body = read_body(request).await;
    let Some(active) = shared.take_if(id) else {
        return invalid_request_id();
    };
    match body {
        Some(body) => {
            let _ = active.reply.send(RuntimeReply::Response(body));
            accepted()
        }
        None => {
            let _ = active.reply.send(RuntimeReply::TooLarge);
            too_large()
        }
    }
}

async fn fail(shared: &Shared, id: &str, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let error_type = error_type_header(&request);
    let Some(body) = read_body(request).await else {
        return too_large();
    };
    let Some(active) = shared.take_if(id) else {
        return invalid_request_id();
    };
    let document = ErrorDocument::from_body(&body, error_type.as_deref());
    let _ = active.reply.send(RuntimeReply::Error(document));
    accepted()
}

async fn init_error(shared: &Shared, request: Request<Incoming>) -> Response<Full<Bytes>> {
    if shared.initialized.load(Ordering::SeqCst) {
        return error(
            StatusCode::FORBIDDEN,
            "InvalidStateTransition",
            "State transition from Ready to InitError failed for runtime",
        );
    }
    let error_type = error_type_header(&request);
    let Some(body) = read_body(request).await else {
        return too_large();
    };
    let document = ErrorDocument::from_body(&body, error_type.as_deref());
    let _ = shared.lifecycle.send(Lifecycle::InitError(document));
    accepted()
}

fn error_type_header(request: &Request<Incoming>) -> Option<String> {
    request
        .headers()
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn json(status: StatusCode, body: serde_json::Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

fn error(status: StatusCode, error_type: &str, message: &str) -> Response<Full<Bytes>> {
    json(
        status,
        serde_json::json!({"errorMessage": message, "errorType": error_type}),
    )
}

fn accepted() -> Response<Full<Bytes>> {
    json(StatusCode::ACCEPTED, serde_json::json!({"status": "OK"}))
}

fn invalid_request_id() -> Response<Full<Bytes>> {
    error(
        StatusCode::BAD_REQUEST,
        "InvalidRequestID",
        "Invalid request ID",
    )
}

fn too_large() -> Response<Full<Bytes>> {
    error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "RequestEntityTooLarge",
        &format!("Exceeded maximum allowed payload size ({MAX_PAYLOAD_BYTES} bytes)."),
    )
}

fn not_found() -> Response<Full<Bytes>> {
    error(
        StatusCode::NOT_FOUND,
        "NotFound",
        "no such Runtime API resource",
    )
}

/// An X-Ray trace header for a new invocation: `Root=1-<epoch hex>-<96 random bits>;Sampled=0`.
pub fn trace_header() -> String {
    let epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("Root=1-{epoch:08x}-{};Sampled=0", &random[..24])
}
