//! What Lambda knows about a function: its executable, environment, memory, timeout and
//! concurrency.

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use crate::ids::FunctionName;

/// One function as the local Lambda service runs it.
#[derive(Debug, Clone)]
pub struct FunctionConfig {
    /// The function name (`AWS_LAMBDA_FUNCTION_NAME`, the tag of its log lines).
    pub name: FunctionName,
    /// The executable started for each execution environment (the `bootstrap` of a
    /// `provided.al2023` function).
    pub executable: PathBuf,
    /// The function's own variables (the stack's `environment.variables`, with local values
    /// where they must differ). Lambda's own variables ([`FunctionConfig::lambda_variables`])
    /// are added to them and win.
    pub environment: BTreeMap<String, String>,
    /// `memory_size` in MB (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, `Memory Size` of REPORT lines).
    /// Not enforced on the process. Default in Lambda: 128.
    pub memory_mb: u32,
    /// `timeout`: how long one invocation may run before its environment is killed.
    /// Default in Lambda: 3 s.
    pub timeout: Duration,
    /// The most environments at once (the reserved concurrency when the function has one);
    /// invocations beyond it are throttled.
    pub max_environments: NonZeroUsize,
    /// How long an environment may sit idle before it is stopped.
    pub idle_timeout: Duration,
    /// How long initialization (start until the first `invocation/next`) may take; Lambda
    /// allows 10 s.
    pub init_timeout: Duration,
    /// `AWS_REGION` and the region of the function ARN.
    pub region: String,
    /// The account id of the function ARN.
    pub account: String,
    /// `AWS_LAMBDA_FUNCTION_VERSION` (`$LATEST`).
    pub version: String,
    /// `_HANDLER` (`bootstrap` for custom runtimes).
    pub handler: String,
}

impl FunctionConfig {
    /// A function with Lambda's defaults: 128 MB, 3 s timeout, 10 environments, 5 min idle
    /// timeout, 10 s init timeout, `us-east-1`, account `123456789012`, `$LATEST`,
    /// handler `bootstrap`, no variables of its own.
    pub fn new(name: FunctionName, executable: impl Into<PathBuf>) -> Self {
        Self {
            name,
            executable: executable.into(),
            environment: BTreeMap::new(),
            memory_mb: 128,
            timeout: Duration::from_secs(3),
            max_environments: NonZeroUsize::new(10).unwrap_or(NonZeroUsize::MIN),
            idle_timeout: Duration::from_secs(300),
            init_timeout: Duration::from_secs(10),
            region: "us-east-1".to_owned(),
            account: "123456789012".to_owned(),
            version: "$LATEST".to_owned(),
            handler: "bootstrap".to_owned(),
        }
    }

    /// `arn:aws:lambda:{region}:{account}:function:{name}`
    /// (`Lambda-Runtime-Invoked-Function-Arn`).
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{}",
            self.region, self.account, self.name
        )
    }

    /// The variables Lambda itself sets in every environment of this function (besides
    /// `AWS_LAMBDA_RUNTIME_API`, which names each environment's own endpoint).
    pub fn lambda_variables(&self) -> BTreeMap<String, String> {
        let log_group = format!("/aws/lambda/{}", self.name);
        [
            ("AWS_LAMBDA_FUNCTION_NAME", self.name.to_string()),
            (
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                self.memory_mb.to_string(),
            ),
            ("AWS_LAMBDA_FUNCTION_VERSION", self.version.clone()),
            ("AWS_LAMBDA_LOG_GROUP_NAME", log_group),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_owned()),
            ("AWS_REGION", self.region.clone()),
            ("AWS_DEFAULT_REGION", self.region.clone()),
            ("_HANDLER", self.handler.clone()),
            ("LAMBDA_TASK_ROOT", self.task_root()),
            ("LAMBDA_RUNTIME_DIR", self.task_root()),
            ("TZ", ":UTC".to_owned()),
            ("LANG", "en_US.UTF-8".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// `LAMBDA_TASK_ROOT`: the directory of the executable (`/var/task` on Lambda).
    fn task_root(&self) -> String {
        self.executable
            .parent()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    }
}
