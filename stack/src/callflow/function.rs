//! A handler function: its role with least privilege, its log group, and the Lambda itself.

use callflow_deployment::Handler;

use crate::aws::cloudwatch::CloudwatchLogGroup;
use crate::aws::iam::{IamRole, IamRolePolicy};
use crate::aws::lambda::{
    LambdaFunction, LambdaFunctionEnvironment, LambdaFunctionLoggingConfig,
    LambdaFunctionTracingConfig,
};
use crate::dsl::{Handle, Stack, Tf, functions};
use crate::iam::{PolicyDocument, Principal, Statement};

use super::bucket::EventsKey;
use super::names::Account;

/// Name of the local value holding the directory of the handler zips.
pub const ARTIFACTS_LOCAL: &str = "lambda_artifacts_dir";

/// Log retention of every function's log group, in days.
pub const LOG_RETENTION_DAYS: i64 = 30;

/// Which of the three handlers a function runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FunctionKind {
    /// The TOKEN authorizer.
    Authorizer,
    /// POST /events.
    EventStorer,
    /// GET /events, GET /events/{eventId}.
    EventRetriever,
}

impl FunctionKind {
    /// Logical id stem, e.g. `event_storer`.
    pub fn logical_id(self) -> &'static str {
        match self {
            Self::Authorizer => "authorizer",
            Self::EventStorer => "event_storer",
            Self::EventRetriever => "event_retriever",
        }
    }

    /// The deployment's handler this function runs (which knows its binary and environment).
    pub fn handler(self) -> Handler {
        match self {
            Self::Authorizer => Handler::Authorizer,
            Self::EventStorer => Handler::EventStorer,
            Self::EventRetriever => Handler::EventRetriever,
        }
    }

    /// Crate and binary name; the zip is `target/lambda/<binary>/bootstrap.zip`.
    pub fn binary_name(self) -> &'static str {
        self.handler().binary_name()
    }

    /// Physical name suffix, e.g. `event-storer`.
    pub fn short_name(self) -> &'static str {
        self.handler().short_name()
    }

    /// Default memory size in MB of this handler's function.
    pub fn memory_mb(self) -> i64 {
        match self {
            Self::Authorizer => 128,
            Self::EventStorer => 256,
            Self::EventRetriever => 512,
        }
    }

    /// Default timeout in seconds of this handler's function.
    pub fn timeout_s(self) -> i64 {
        match self {
            Self::Authorizer => 5,
            Self::EventStorer => 10,
            Self::EventRetriever => 15,
        }
    }

    /// Default description of this handler's function.
    pub fn description(self) -> &'static str {
        match self {
            Self::Authorizer => {
                "TOKEN authorizer: verifies JWTs and returns a policy for every route the token's scopes allow"
            }
            Self::EventStorer => "POST /events: validates and stores call-flow events idempotently",
            Self::EventRetriever => {
                "GET /events and GET /events/{eventId}: reads and queries stored events"
            }
        }
    }

    /// Default reserved concurrency: caps each function so one cannot starve the account.
    pub fn reserved_concurrency(self) -> i64 {
        match self {
            Self::Authorizer => 50,
            Self::EventStorer => 100,
            Self::EventRetriever => 100,
        }
    }
}

/// What a [`HandlerFunction`] is built from: the name and environment are required, the sizing
/// defaults come from the [`FunctionKind`] and the log retention from [`LOG_RETENTION_DAYS`].
#[derive(Clone, Debug)]
pub struct HandlerFunctionProps {
    /// Which handler the function runs. Required.
    pub kind: FunctionKind,
    /// Function, role and log group name (`/aws/lambda/<name>`). Required.
    pub name: String,
    /// Environment variables. Required (may be empty).
    pub environment: Vec<(String, Tf<String>)>,
    /// Memory in MB. Default: [`FunctionKind::memory_mb`].
    pub memory_mb: i64,
    /// Timeout in seconds. Default: [`FunctionKind::timeout_s`].
    pub timeout_s: i64,
    /// Reserved concurrency. Default: [`FunctionKind::reserved_concurrency`].
    pub reserved_concurrency: i64,
    /// Log retention in days. Default: [`LOG_RETENTION_DAYS`].
    pub log_retention_days: i64,
}

impl HandlerFunctionProps {
    /// The props of `kind` named `name` with `environment` and the documented defaults.
    ///
    /// ```
    /// use callflow_stack::callflow::{FunctionKind, HandlerFunctionProps};
    /// let props = HandlerFunctionProps::new(FunctionKind::EventStorer, "callflow-dev-event-storer", vec![]);
    /// assert_eq!(props.memory_mb, 256);
    /// ```
    pub fn new(
        kind: FunctionKind,
        name: impl Into<String>,
        environment: Vec<(String, Tf<String>)>,
    ) -> Self {
        Self {
            kind,
            name: name.into(),
            environment,
            memory_mb: kind.memory_mb(),
            timeout_s: kind.timeout_s(),
            reserved_concurrency: kind.reserved_concurrency(),
            log_retention_days: LOG_RETENTION_DAYS,
        }
    }
}

/// One handler function and what it needs to run.
#[derive(Clone, Debug)]
pub struct HandlerFunction {
    /// Which handler.
    pub kind: FunctionKind,
    /// The function's name (also its role's and, under `/aws/lambda/`, its log group's).
    pub name: String,
    /// Execution role.
    pub role: Handle<IamRole>,
    /// `/aws/lambda/<name>`, created before the function so retention applies from the start.
    pub log_group: Handle<CloudwatchLogGroup>,
    /// The function.
    pub function: Handle<LambdaFunction>,
}

impl HandlerFunction {
    /// Declares role, base policy (own log group, X-Ray, CMK decrypt), log group and function:
    /// `provided.al2023` on `arm64`, handler `bootstrap`, code from the handler crate's zip in
    /// the `artifacts` directory (the reference of the local declared by the stack).
    pub fn new(
        stack: &mut Stack,
        props: HandlerFunctionProps,
        account: &Account,
        key: &EventsKey,
        artifacts: &Tf<String>,
    ) -> Self {
        let HandlerFunctionProps {
            kind,
            name,
            environment,
            memory_mb,
            timeout_s,
            reserved_concurrency,
            log_retention_days,
        } = props;
        let id = kind.logical_id();
        let trust = PolicyDocument::new(vec![
            Statement::allow("LambdaAssumesRole", &["sts:AssumeRole"], vec![])
                .with_principal(Principal::service("lambda.amazonaws.com"))
                .with_condition(
                    "StringEquals",
                    "aws:SourceAccount",
                    vec![account.identity.account_id()],
                ),
        ]);
        let trust = trust.render(stack, "HandlerFunction");
        let role = stack.resource(
            id,
            IamRole::new(trust)
                .set_name(name.clone())
                .set_description(format!("Execution role of {name}")),
        );
        let log_group = stack.resource(
            id,
            CloudwatchLogGroup::new()
                .set_name(format!("/aws/lambda/{name}"))
                .set_retention_in_days(log_retention_days)
                .set_kms_key_id(key.key.arn()),
        );
        stack.suppress_check(
            &log_group,
            "CKV_AWS_338",
            "30-day retention is the service's log policy; events themselves are kept in S3",
        );
        let base_policy = PolicyDocument::new(vec![
            Statement::allow(
                "WriteOwnLogGroup",
                &["logs:CreateLogStream", "logs:PutLogEvents"],
                vec![log_group.arn().suffixed(":*")],
            ),
            // X-Ray's PutTraceSegments/PutTelemetryRecords support no resource-level
            // permissions: AWS requires Resource "*" here.
            Statement::allow(
                "XRayRequiresWildcardResource",
                &["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                vec!["*".into()],
            ),
            Statement::allow("DecryptEnvironment", &["kms:Decrypt"], vec![key.key.arn()]),
        ])
        .render(stack, "HandlerFunction");
        let base = stack.resource(
            &format!("{id}_base"),
            IamRolePolicy::new(base_policy, role.name()).set_name("base"),
        );
        let zip = Tf::template([
            artifacts.clone(),
            format!("/{}/bootstrap.zip", kind.binary_name()).into(),
        ]);
        let function = stack.resource(
            id,
            LambdaFunction::new(name.clone(), role.arn())
                .set_description(kind.description())
                .set_runtime("provided.al2023")
                .set_handler("bootstrap")
                .set_architectures(vec!["arm64"])
                .set_filename(zip.clone())
                .set_source_code_hash(functions::filebase64sha256(&zip))
                .set_memory_size(memory_mb)
                .set_timeout(timeout_s)
                .set_reserved_concurrent_executions(reserved_concurrency)
                .set_kms_key_arn(key.key.arn())
                .set_environment(
                    LambdaFunctionEnvironment::new()
                        .set_variables(Tf::Literal(environment.into_iter().collect())),
                )
                .set_tracing_config(LambdaFunctionTracingConfig::new("Active"))
                .set_logging_config(
                    LambdaFunctionLoggingConfig::new("JSON").set_log_group(log_group.name()),
                ),
        );
        stack.depends_on(&function, &[&log_group, &base]);
        stack.suppress_check(
            &function,
            "CKV_AWS_116",
            "invoked synchronously by API Gateway: a DLQ applies only to asynchronous invocations",
        );
        stack.suppress_check(&function, "CKV_AWS_117", "reaches only S3 and KMS through public AWS endpoints; a VPC adds NAT cost and cold-start latency");
        stack.suppress_check(&function, "CKV_AWS_272", "code signing needs a signing profile outside this stack; zips are built and hashed by CI");
        Self {
            kind,
            name,
            role,
            log_group,
            function,
        }
    }
}
