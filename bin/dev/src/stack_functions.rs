//! The Lambda functions of a synthesized stack (`cdktf.out/`): name, artifact, memory,
//! timeout, reserved concurrency and environment, read from `manifest.json` and the stack's
//! `cdk.tf.json`, the one source `callflow dev` takes them from in process mode.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

/// The synth output directory's name.
pub const SYNTH_DIR: &str = "cdktf.out";

/// Reading the synthesized stack failed.
#[derive(Debug, thiserror::Error)]
pub enum StackError {
    /// No `cdktf.out/manifest.json` in the directory or any parent.
    #[error(
        "no {SYNTH_DIR}/manifest.json in {start} or a parent directory (run `callflow synth`, pass --synth-dir, or use --lambda in-process)"
    )]
    NotFound {
        /// Where the search started.
        start: PathBuf,
    },
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file is not JSON.
    #[error("{path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: serde_json::Error,
    },
    /// The manifest names several stacks and none was chosen, or not the one asked for.
    #[error("stack {wanted:?} not in the manifest (stacks: {available}); pass --stack NAME")]
    Stack {
        /// The stack asked for (`None`: none was, and there is more than one).
        wanted: Option<String>,
        /// The stacks there are.
        available: String,
    },
    /// A function lacks an attribute `callflow dev` needs.
    #[error("{path}: aws_lambda_function.{function}: {problem}")]
    Function {
        /// The stack file.
        path: PathBuf,
        /// The function's logical id.
        function: String,
        /// What is missing or wrong.
        problem: String,
    },
    /// A variable's value is a Terraform expression with no local value.
    #[error(
        "function {function}: environment variable {variable} = {value:?} has no local value (only literals, variables with defaults and the local overrides resolve)"
    )]
    Unresolved {
        /// The function name.
        function: String,
        /// The variable.
        variable: String,
        /// Its value in the stack.
        value: String,
    },
}

/// A Terraform variable of the stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackVariable {
    /// Its default, when it has one (as a string).
    pub default: Option<String>,
    /// `sensitive = true`.
    pub sensitive: bool,
}

/// One `aws_lambda_function` of the stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackFunction {
    /// The logical id (`event_storer`).
    pub logical_id: String,
    /// `function_name`.
    pub function_name: String,
    /// The crate whose `bootstrap.zip` `filename` names (`callflow-event-storer`): the
    /// binary that runs it.
    pub artifact: String,
    /// `memory_size` in MB (Lambda's default 128 when unset).
    pub memory_mb: u32,
    /// `timeout` (Lambda's default 3 s when unset).
    pub timeout: Duration,
    /// `reserved_concurrent_executions`, when set and not -1.
    pub reserved_concurrency: Option<usize>,
    /// `handler`.
    pub handler: String,
    /// `environment.variables` as written in the stack (values may be `${...}`).
    pub variables: BTreeMap<String, String>,
}

/// Where a variable's local value came from (printed at start-up).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueSource {
    /// The stack's literal value.
    Stack,
    /// The default of the Terraform variable the stack refers to.
    VariableDefault(String),
    /// A local value replacing the stack's (which was this).
    Local {
        /// The stack's value.
        stack_value: String,
    },
    /// A variable only the local environment needs (e.g. the S3 endpoint).
    LocalOnly,
}

/// One variable as a function process receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedVariable {
    /// The value.
    pub value: String,
    /// Its origin.
    pub source: ValueSource,
    /// Not to be printed (sensitive stack variable, secret key).
    pub sensitive: bool,
}

/// Local values: those replacing a stack variable (only when the stack declares it) and
/// local-only additions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalOverrides {
    /// Replace the stack's value of these variables.
    pub replace: BTreeMap<String, String>,
    /// Add these variables (the stack's win when it declares the same name).
    pub add: BTreeMap<String, String>,
}

/// Variables whose values are never printed.
const SECRET_NAMES: [&str; 4] = [
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "TOKEN_SIGNING_KEY",
    "INDEX_HASH_KEY",
];

/// The functions, variables and region of one synthesized stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackFunctions {
    /// The stack's name in the manifest.
    pub stack: String,
    /// The stack file read.
    pub path: PathBuf,
    /// Its functions, by logical id.
    pub functions: Vec<StackFunction>,
    /// Its Terraform variables.
    pub variables: BTreeMap<String, StackVariable>,
    /// The AWS provider's region, when set.
    pub region: Option<String>,
}

/// Finds `cdktf.out` in `start` or the nearest parent that has one.
pub fn find_synth_dir(start: &Path) -> Result<PathBuf, StackError> {
    start
        .ancestors()
        .map(|dir| dir.join(SYNTH_DIR))
        .find(|dir| dir.join("manifest.json").is_file())
        .ok_or_else(|| StackError::NotFound {
            start: start.to_owned(),
        })
}

fn read_json(path: &Path) -> Result<Value, StackError> {
    let text = std::fs::read(path).map_err(|source| StackError::Io {
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_slice(&text).map_err(|source| StackError::Json {
        path: path.to_owned(),
        source,
    })
}

impl StackFunctions {
    /// Reads stack `stack` (or the only one) of the synth output `synth_dir` through its
    /// `manifest.json` (`stacks.<name>.synthesizedStackPath`).
    pub fn load(synth_dir: &Path, stack: Option<&str>) -> Result<Self, StackError> {
        let (name, path, document) = stack_document(synth_dir, stack)?;
        Self::from_document(name, path, &document)
    }
}

/// Reads stack `stack` (or the only one) of the synth output `synth_dir` through its
/// `manifest.json`: `(stack name, path of cdk.tf.json, its contents)`.
pub fn stack_document(
    synth_dir: &Path,
    stack: Option<&str>,
) -> Result<(String, PathBuf, Value), StackError> {
    {
        let manifest = read_json(&synth_dir.join("manifest.json"))?;
        let stacks = manifest
            .get("stacks")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let available = stacks.keys().cloned().collect::<Vec<_>>().join(", ");
        let chosen = match stack {
            Some(name) => stacks.get(name).map(|s| (name.to_owned(), s)),
            None if stacks.len() == 1 => stacks.iter().next().map(|(n, s)| (n.clone(), s)),
            None => None,
        };
        let Some((name, entry)) = chosen else {
            return Err(StackError::Stack {
                wanted: stack.map(str::to_owned),
                available,
            });
        };
        let relative = entry
            .get("synthesizedStackPath")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let path = synth_dir.join(relative);
        let document = read_json(&path)?;
        Ok((name, path, document))
    }
}

impl StackFunctions {
    /// Reads the functions of a stack document (`cdk.tf.json` contents).
    pub fn from_document(
        stack: String,
        path: PathBuf,
        document: &Value,
    ) -> Result<Self, StackError> {
        let variables = document
            .get("variable")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(name, v)| {
                let default = v.get("default").map(|d| match d {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                });
                let sensitive = v.get("sensitive").and_then(Value::as_bool).unwrap_or(false);
                (name.clone(), StackVariable { default, sensitive })
            })
            .collect();
        let region = document
            .pointer("/provider/aws/0/region")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let mut functions = Vec::new();
        for (id, resource) in document
            .pointer("/resource/aws_lambda_function")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            functions.push(read_function(&path, id, resource)?);
        }
        Ok(Self {
            stack,
            path,
            functions,
            variables,
            region,
        })
    }

    /// The function deployed from `artifact`'s `bootstrap.zip`.
    pub fn by_artifact(&self, artifact: &str) -> Option<&StackFunction> {
        self.functions.iter().find(|f| f.artifact == artifact)
    }

    /// The environment `function` gets locally: each stack variable resolved (a local
    /// replacement, else its literal value, else the default of the `${var.NAME}` it names),
    /// plus the local-only additions. A variable that resolves to none of these is an error,
    /// so a new stack reference is noticed instead of silently dropped.
    pub fn environment(
        &self,
        function: &StackFunction,
        overrides: &LocalOverrides,
    ) -> Result<BTreeMap<String, ResolvedVariable>, StackError> {
        let mut resolved = BTreeMap::new();
        for (name, value) in &function.variables {
            let referenced = referenced_variable(value);
            let sensitive = SECRET_NAMES.contains(&name.as_str())
                || referenced
                    .and_then(|v| self.variables.get(v))
                    .is_some_and(|v| v.sensitive);
            let (value, source) = if let Some(local) = overrides.replace.get(name) {
                (
                    local.clone(),
                    ValueSource::Local {
                        stack_value: value.clone(),
                    },
                )
            } else if !value.contains("${") {
                (value.clone(), ValueSource::Stack)
            } else if let Some(default) = referenced
                .and_then(|v| self.variables.get(v))
                .and_then(|v| v.default.clone())
            {
                (
                    default,
                    ValueSource::VariableDefault(referenced.unwrap_or_default().to_owned()),
                )
            } else {
                return Err(StackError::Unresolved {
                    function: function.function_name.clone(),
                    variable: name.clone(),
                    value: value.clone(),
                });
            };
            resolved.insert(
                name.clone(),
                ResolvedVariable {
                    value,
                    source,
                    sensitive,
                },
            );
        }
        for (name, value) in &overrides.add {
            resolved
                .entry(name.clone())
                .or_insert_with(|| ResolvedVariable {
                    value: value.clone(),
                    source: ValueSource::LocalOnly,
                    sensitive: SECRET_NAMES.contains(&name.as_str()),
                });
        }
        Ok(resolved)
    }
}

/// `NAME` of a value that is exactly `${var.NAME}`.
fn referenced_variable(value: &str) -> Option<&str> {
    value
        .strip_prefix("${var.")
        .and_then(|rest| rest.strip_suffix('}'))
        .filter(|name| !name.contains(['$', '{', '}']))
}

fn read_function(path: &Path, id: &str, resource: &Value) -> Result<StackFunction, StackError> {
    let problem = |problem: &str| StackError::Function {
        path: path.to_owned(),
        function: id.to_owned(),
        problem: problem.to_owned(),
    };
    let text = |key: &str| resource.get(key).and_then(Value::as_str);
    let number = |key: &str| resource.get(key).and_then(Value::as_i64);
    let function_name = text("function_name")
        .ok_or_else(|| problem("function_name is not a literal string"))?
        .to_owned();
    let filename = text("filename").ok_or_else(|| problem("no filename"))?;
    let artifact = filename
        .strip_suffix("/bootstrap.zip")
        .and_then(|dir| dir.rsplit('/').next())
        .filter(|name| !name.is_empty())
        .ok_or_else(|| problem("filename is not .../<crate>/bootstrap.zip"))?
        .to_owned();
    let memory_mb = match number("memory_size") {
        None => 128,
        Some(mb) => u32::try_from(mb).map_err(|_| problem("memory_size out of range"))?,
    };
    let timeout = match number("timeout") {
        None => Duration::from_secs(3),
        Some(s) => Duration::from_secs(u64::try_from(s).map_err(|_| problem("negative timeout"))?),
    };
    let reserved_concurrency = number("reserved_concurrent_executions")
        .filter(|n| *n >= 0)
        .and_then(|n| usize::try_from(n).ok());
    let variables = resource
        .pointer("/environment/variables")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            let value = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), value)
        })
        .collect();
    Ok(StackFunction {
        logical_id: id.to_owned(),
        function_name,
        artifact,
        memory_mb,
        timeout,
        reserved_concurrency,
        handler: text("handler").unwrap_or("bootstrap").to_owned(),
        variables,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document() -> Value {
        serde_json::json!({
            "variable": {
                "log_level": {"default": "info", "type": "string"},
                "token_signing_key": {"sensitive": true, "type": "string"}
            },
            "provider": {"aws": [{"region": "eu-west-1"}]},
            "resource": {"aws_lambda_function": {"storer": {
                "function_name": "svc-storer",
                "filename": "${local.dir}/callflow-event-storer/bootstrap.zip",
                "memory_size": 256, "timeout": 10, "reserved_concurrent_executions": 7,
                "handler": "bootstrap",
                "environment": {"variables": {
                    "LOG_LEVEL": "${var.log_level}",
                    "S3_BUCKET": "${aws_s3_bucket.events.bucket}",
                    "KEY": "${var.token_signing_key}",
                    "WINDOW": "300"
                }}
            }}}
        })
    }

    #[test]
    fn reads_functions_and_resolves_their_environment() {
        let stack = StackFunctions::from_document("s".into(), PathBuf::from("x.json"), &document())
            .unwrap();
        let f = stack.by_artifact("callflow-event-storer").unwrap();
        assert_eq!(
            (f.memory_mb, f.timeout, f.reserved_concurrency),
            (256, Duration::from_secs(10), Some(7))
        );
        assert_eq!(stack.region.as_deref(), Some("eu-west-1"));
        let err = stack
            .environment(f, &LocalOverrides::default())
            .unwrap_err();
        assert!(
            matches!(err, StackError::Unresolved { ref variable, .. } if variable == "KEY" || variable == "S3_BUCKET"),
            "{err}"
        );
        let overrides = LocalOverrides {
            replace: [("S3_BUCKET", "local"), ("KEY", "k"), ("NOT_IN_STACK", "x")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            add: [("S3_ENDPOINT".to_owned(), "http://127.0.0.1:1".to_owned())].into(),
        };
        let env = stack.environment(f, &overrides).unwrap();
        assert_eq!(env["LOG_LEVEL"].value, "info");
        assert_eq!(
            env["LOG_LEVEL"].source,
            ValueSource::VariableDefault("log_level".into())
        );
        assert_eq!(env["WINDOW"].source, ValueSource::Stack);
        assert_eq!(env["S3_BUCKET"].value, "local");
        assert!(env["KEY"].sensitive);
        assert_eq!(env["S3_ENDPOINT"].source, ValueSource::LocalOnly);
        assert!(
            !env.contains_key("NOT_IN_STACK"),
            "replacements apply only to stack variables"
        );
    }
}
