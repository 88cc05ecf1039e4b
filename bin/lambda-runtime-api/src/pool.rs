//! One function's execution environments: concurrency limit, warm reuse, idle stop,
//! throttling, and the platform log lines of every invocation.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use hyper::body::Bytes;

use crate::config::FunctionConfig;
use crate::environment::{Environment, Outcome};
use crate::error::InvokeError;
use crate::ids::{FunctionName, RequestId};
use crate::logs::{LogSink, OutputStream};
use crate::report::{Report, end_line, start_line};

/// Counters of one function since its pool was created.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FunctionStats {
    /// Invocations that reached an environment (each has START, END and REPORT lines).
    pub invocations: u64,
    /// Invocations refused because every environment was busy at the limit.
    pub throttles: u64,
    /// Environments started (cold starts, including failed inits).
    pub environments_started: u64,
    /// Environments running now (busy or idle).
    pub live_environments: usize,
    /// The most environments that ran at once.
    pub peak_environments: usize,
    /// Init durations of successful cold starts, oldest first (at most 1,000).
    pub init_durations: Vec<Duration>,
}

#[derive(Default)]
struct State {
    idle: Vec<Environment>,
    live: usize,
    closed: bool,
    stats: FunctionStats,
}

struct Inner {
    config: Arc<FunctionConfig>,
    sink: Arc<dyn LogSink>,
    state: Mutex<State>,
    idle_stopped: AtomicU64,
}

impl Inner {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn log(&self, line: &str) {
        self.sink
            .line(&self.config.name, OutputStream::Platform, line);
    }
}

/// The environments of one function. Cloning shares them.
#[derive(Clone)]
pub struct FunctionPool {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for FunctionPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FunctionPool")
            .field("function", &self.inner.config.name)
            .field("stats", &self.stats())
            .finish()
    }
}

/// How an invocation got its environment.
enum Slot {
    Warm(Environment),
    Cold,
}

impl FunctionPool {
    /// A pool for `config` with no environment yet; a background task stops environments
    /// idle for longer than `config.idle_timeout`. Must run inside a Tokio runtime.
    pub fn new(config: FunctionConfig, sink: Arc<dyn LogSink>) -> Self {
        let inner = Arc::new(Inner {
            config: Arc::new(config),
            sink,
            state: Mutex::new(State::default()),
            idle_stopped: AtomicU64::new(0),
        });
        tokio::spawn(reap_idle(Arc::downgrade(&inner)));
        Self { inner }
    }

    /// The function's configuration.
    pub fn config(&self) -> &FunctionConfig {
        &self.inner.config
    }

    /// The function's name.
    pub fn name(&self) -> &FunctionName {
        &self.inner.config.name
    }

    /// The counters so far.
    pub fn stats(&self) -> FunctionStats {
        self.inner.state().stats.clone()
    }

    /// Environments stopped because they sat idle.
    pub fn idle_stopped(&self) -> u64 {
        self.inner.idle_stopped.load(Ordering::Relaxed)
    }

    /// Process ids of the idle environments (tests read their `/proc/<pid>/environ`).
    pub fn idle_pids(&self) -> Vec<u32> {
        self.inner
            .state()
            .idle
            .iter()
            .filter_map(Environment::pid)
            .collect()
    }

    /// Invokes the function with `payload` (synchronous invocation): a warm idle
    /// environment when there is one (the most recently used), else a new one while fewer
    /// than the limit run, else [`InvokeError::Throttled`]. An environment whose runtime
    /// crashed or timed out is gone, so the next invocation gets a fresh one.
    pub async fn invoke(&self, payload: Bytes) -> Result<Bytes, InvokeError> {
        let slot = self.acquire()?;
        let id = RequestId::random();
        let inner = &self.inner;
        let config = &inner.config;
        let (mut environment, init_duration) = match slot {
            Slot::Warm(environment) => (environment, None),
            Slot::Cold => {
                match Environment::start(Arc::clone(config), Arc::clone(&inner.sink)).await {
                    Ok(environment) => {
                        let init = environment.init_duration();
                        let mut state = inner.state();
                        if state.stats.init_durations.len() < 1000 {
                            state.stats.init_durations.push(init);
                        }
                        (environment, Some(init))
                    }
                    Err(error) => {
                        self.release(None);
                        inner.log(&format!(
                            "INIT_REPORT Phase: init\tStatus: error\tError: {error}"
                        ));
                        self.count_invocation();
                        inner.log(&start_line(&id, &config.version));
                        inner.log(&end_line(&id));
                        inner.log(
                            &Report {
                                request_id: id,
                                duration: Duration::ZERO,
                                memory_mb: config.memory_mb,
                                max_memory_used_mb: None,
                                init_duration: None,
                                status: Some("error"),
                            }
                            .to_string(),
                        );
                        return Err(error);
                    }
                }
            }
        };
        self.count_invocation();
        inner.log(&start_line(&id, &config.version));
        let Outcome {
            result,
            duration,
            max_memory_used_mb,
        } = environment.invoke(id.clone(), payload).await;
        let status = match &result {
            Ok(_) => None,
            Err(InvokeError::TimedOut(after)) => {
                inner.log(&format!(
                    "RequestId: {id} Error: Task timed out after {:.2} seconds",
                    after.as_secs_f64()
                ));
                Some("timeout")
            }
            Err(error) => {
                inner.log(&format!("RequestId: {id} Error: {error}"));
                Some("error")
            }
        };
        inner.log(&end_line(&id));
        inner.log(
            &Report {
                request_id: id,
                duration,
                memory_mb: config.memory_mb,
                max_memory_used_mb,
                init_duration,
                status,
            }
            .to_string(),
        );
        // Lambda resets an environment whose runtime crashed or timed out; after a function
        // error the runtime asks for the next event as usual. A runtime whose response was
        // refused as too large may or may not carry on (`lambda_runtime` exits), so that
        // environment is replaced too rather than raced.
        let reset = matches!(
            result,
            Err(InvokeError::Crashed(_)
                | InvokeError::TimedOut(_)
                | InvokeError::ResponseTooLarge { .. })
        );
        let keep = !reset && !environment.has_exited();
        self.release(keep.then_some(environment));
        result
    }

    /// Stops every idle environment now and refuses new invocations' environments;
    /// busy ones are stopped when their invocation ends.
    pub async fn shutdown(&self) {
        let idle = {
            let mut state = self.inner.state();
            state.closed = true;
            let idle = std::mem::take(&mut state.idle);
            state.live -= idle.len();
            state.stats.live_environments = state.live;
            idle
        };
        for environment in idle {
            environment.shutdown().await;
        }
    }

    fn acquire(&self) -> Result<Slot, InvokeError> {
        let mut state = self.inner.state();
        while let Some(environment) = state.idle.pop() {
            if !environment.has_exited() {
                return Ok(Slot::Warm(environment));
            }
            state.live -= 1;
            state.stats.live_environments = state.live;
        }
        let limit = self.inner.config.max_environments.get();
        if state.live >= limit || state.closed {
            state.stats.throttles += 1;
            return Err(InvokeError::Throttled { limit });
        }
        state.live += 1;
        state.stats.live_environments = state.live;
        state.stats.environments_started += 1;
        state.stats.peak_environments = state.stats.peak_environments.max(state.live);
        Ok(Slot::Cold)
    }

    /// Returns a healthy environment to the idle set, or gives up its slot.
    fn release(&self, environment: Option<Environment>) {
        let mut state = self.inner.state();
        match environment {
            Some(environment) if !state.closed => state.idle.push(environment),
            _ => {
                state.live -= 1;
                state.stats.live_environments = state.live;
            }
        }
    }

    fn count_invocation(&self) {
        self.inner.state().stats.invocations += 1;
    }
}

/// Stops environments idle for longer than the function's idle timeout, until the pool is
/// gone.
async fn reap_idle(pool: Weak<Inner>) {
    let period = match pool.upgrade() {
        Some(inner) => (inner.config.idle_timeout / 4)
            .clamp(Duration::from_millis(10), Duration::from_secs(30)),
        None => return,
    };
    loop {
        tokio::time::sleep(period).await;
        let Some(inner) = pool.upgrade() else { return };
        let expired: Vec<Environment> = {
            let mut state = inner.state();
            let idle_timeout = inner.config.idle_timeout;
            let (stale, fresh): (Vec<_>, Vec<_>) = std::mem::take(&mut state.idle)
                .into_iter()
                .partition(|e| e.last_used().elapsed() >= idle_timeout || e.has_exited());
            state.idle = fresh;
            state.live -= stale.len();
            state.stats.live_environments = state.live;
            stale
        };
        if !expired.is_empty() {
            inner
                .idle_stopped
                .fetch_add(expired.len() as u64, Ordering::Relaxed);
            tracing::debug!(function = %inner.config.name, stopped = expired.len(), "idle environments stopped");
        }
        drop(inner);
        for environment in expired {
            environment.shutdown().await;
        }
    }
}
