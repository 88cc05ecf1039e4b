//! One execution environment: the function's executable as a child process, talking to its
//! own [`RuntimeApi`] endpoint.

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use hyper::body::Bytes;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::{oneshot, watch};

use crate::api::{
    Invocation, Lifecycle, MAX_PAYLOAD_BYTES, RuntimeApi, RuntimeReply, trace_header,
};
use crate::config::FunctionConfig;
use crate::error::{ErrorDocument, InvokeError, StartError};
use crate::ids::RequestId;
use crate::logs::{LogSink, OutputStream};
use crate::memory::peak_rss_mb;

/// How an invocation ended, with what the REPORT line needs.
#[derive(Debug)]
pub struct Outcome {
    /// The response, or why there is none.
    pub result: Result<Bytes, InvokeError>,
    /// From delivering the event to the answer (or the kill).
    pub duration: Duration,
    /// Peak RSS of the process in MB, read after the invocation.
    pub max_memory_used_mb: Option<u64>,
}

/// A running environment, ready for an invocation. Dropping it kills the process.
pub struct Environment {
    config: Arc<FunctionConfig>,
    api: RuntimeApi,
    pid: Option<u32>,
    kill: Option<oneshot::Sender<()>>,
    exited: watch::Receiver<Option<String>>,
    init_duration: Duration,
    last_used: Instant,
}

impl std::fmt::Debug for Environment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Environment")
            .field("function", &self.config.name)
            .field("pid", &self.pid)
            .field("api", &self.api)
            .finish_non_exhaustive()
    }
}

impl Environment {
    /// Starts the process and waits until it asks for its first event. Fails with
    /// [`InvokeError::InitFailed`] when it exits, posts `init/error` or outlasts the init
    /// timeout first; with [`InvokeError::Start`] when it cannot be started.
    pub async fn start(
        config: Arc<FunctionConfig>,
        sink: Arc<dyn LogSink>,
    ) -> Result<Self, InvokeError> {
        let started = Instant::now();
        let api = RuntimeApi::start().await?;
        let mut command = tokio::process::Command::new(&config.executable);
        command
            .env_clear()
            .envs(&config.environment)
            .envs(config.lambda_variables())
            .env("AWS_LAMBDA_RUNTIME_API", api.address())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if !config.environment.contains_key("PATH")
            && let Some(path) = std::env::var_os("PATH")
        {
            command.env("PATH", path);
        }
        if let Some(dir) = config.executable.parent() {
            command.current_dir(dir);
        }
        // Its own process group: a Ctrl-C in the terminal reaches the supervisor only, which
        // drains in-flight invocations before stopping the environments. If the supervisor
        // dies instead, the runtime's pending `invocation/next` fails and it exits.
        #[cfg(unix)]
        command.process_group(0);
        let mut child = command.spawn().map_err(|e| StartError::Spawn {
            executable: config.executable.display().to_string(),
            message: e.to_string(),
        })?;
        let pid = child.id();
        if let Some(out) = child.stdout.take() {
            pump(out, OutputStream::Stdout, &config, &sink);
        }
        if let Some(err) = child.stderr.take() {
            pump(err, OutputStream::Stderr, &config, &sink);
        }
        let (kill, kill_rx) = oneshot::channel::<()>();
        let (exit_tx, exited) = watch::channel(None);
        tokio::spawn(async move {
            let status = tokio::select! {
                status = child.wait() => status,
                _ = kill_rx => {
                    let _ = child.start_kill();
                    child.wait().await
                }
            };
            let text = match status {
                Ok(status) => status.to_string(),
                Err(e) => e.to_string(),
            };
            let _ = exit_tx.send(Some(text));
        });
        let mut environment = Self {
            config: Arc::clone(&config),
            api,
            pid,
            kill: Some(kill),
            exited,
            init_duration: Duration::ZERO,
            last_used: Instant::now(),
        };
        let mut exited = environment.exited.clone();
        let init_timeout = config.init_timeout;
        let lifecycle = tokio::select! {
            biased;
            event = environment.api.lifecycle() => Some(event),
            _ = exited.wait_for(Option::is_some) => Some(None),
            _ = tokio::time::sleep(init_timeout) => None,
        };
        let result = match lifecycle {
            Some(Some(Lifecycle::Ready)) => Ok(()),
            Some(Some(Lifecycle::InitError(document))) => Err(document),
            Some(None) => Err(ErrorDocument::platform(
                "Runtime.ExitError",
                format!(
                    "Runtime exited with error: {}",
                    environment.exit_status().unwrap_or_default()
                ),
            )),
            None => Err(ErrorDocument::platform(
                "Sandbox.Timedout",
                format!("init did not finish within {init_timeout:?}"),
            )),
        };
        environment.init_duration = started.elapsed();
        match result {
            Ok(()) => Ok(environment),
            Err(document) => {
                environment.stop();
                Err(InvokeError::InitFailed(document))
            }
        }
    }

    /// How long initialization took.
    pub fn init_duration(&self) -> Duration {
        self.init_duration
    }

    /// The process id (while it runs).
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// When the environment last finished an invocation (or started).
    pub fn last_used(&self) -> Instant {
        self.last_used
    }

    /// Whether the process has exited.
    pub fn has_exited(&self) -> bool {
        self.exited.borrow().is_some()
    }

    fn exit_status(&self) -> Option<String> {
        self.exited.borrow().clone()
    }

    /// Runs one invocation of `payload` under request id `id`: the function's timeout is
    /// enforced by killing the process. After a timeout, a crash or an oversized response the
    /// environment is gone; after a function error it serves on, as on Lambda.
    pub async fn invoke(&mut self, id: RequestId, payload: Bytes) -> Outcome {
        let timeout = self.config.timeout;
        let (reply, answer) = oneshot::channel();
        let invocation = Invocation {
            id,
            payload,
            deadline: SystemTime::now() + timeout,
            function_arn: self.config.arn(),
            trace_id: trace_header(),
            reply,
        };
        let started = Instant::now();
        let mut exited = self.exited.clone();
        let result = if self.api.deliver(invocation).await.is_err() {
            Err(InvokeError::Crashed(
                "the runtime API endpoint stopped".to_owned(),
            ))
        } else {
            tokio::select! {
                biased;
                answer = answer => match answer {
                    Ok(RuntimeReply::Response(body)) => Ok(body),
                    Ok(RuntimeReply::Error(document)) => Err(InvokeError::Function(document)),
                    Ok(RuntimeReply::TooLarge) => Err(InvokeError::ResponseTooLarge { limit: MAX_PAYLOAD_BYTES }),
                    Err(_) => Err(InvokeError::Crashed("the runtime API endpoint stopped".to_owned())),
                },
                _ = exited.wait_for(Option::is_some) => Err(InvokeError::Crashed(
                    self.exit_status().unwrap_or_default(),
                )),
                _ = tokio::time::sleep(timeout) => Err(InvokeError::TimedOut(timeout)),
            }
        };
        let duration = started.elapsed();
        let max_memory_used_mb = self.pid.and_then(peak_rss_mb);
        if matches!(
            result,
            Err(InvokeError::TimedOut(_) | InvokeError::ResponseTooLarge { .. })
        ) {
            self.stop();
        }
        self.last_used = Instant::now();
        Outcome {
            result,
            duration,
            max_memory_used_mb,
        }
    }

    /// Kills the process (SIGKILL, as Lambda does to a runtime without extensions).
    pub fn stop(&mut self) {
        if let Some(kill) = self.kill.take() {
            let _ = kill.send(());
        }
    }

    /// Kills the process and waits until it is gone.
    pub async fn shutdown(mut self) {
        self.stop();
        let _ = self.exited.wait_for(Option::is_some).await;
    }
}

impl Drop for Environment {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Forwards each line of `stream` to the sink, tagged with the function.
fn pump(
    stream: impl AsyncRead + Unpin + Send + 'static,
    kind: OutputStream,
    config: &FunctionConfig,
    sink: &Arc<dyn LogSink>,
) {
    let name = config.name.clone();
    let sink = Arc::clone(sink);
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            sink.line(&name, kind, &line);
        }
    });
}
