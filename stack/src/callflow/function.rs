//! A handler function: its role with least privilege, its log group, and the Lambda itself.

use crate::dsl::aws::cloudwatch::LogGroup;
use crate::dsl::aws::iam::{IamRole, IamRolePolicy, PolicyDocument, Principal, Statement};
use crate::dsl::aws::lambda::{LambdaEnvironment, LambdaFunction, LoggingConfig, TracingConfig};
use crate::dsl::{Expression, Handle, Stack, Tf, functions};

use super::bucket::EventsKey;
use super::config::CallflowConfig;
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

    /// Crate and binary name; the zip is `target/lambda/<binary>/bootstrap.zip`.
    pub fn binary_name(self) -> &'static str {
        match self {
            Self::Authorizer => "callflow-authorizer",
            Self::EventStorer => "callflow-event-storer",
            Self::EventRetriever => "callflow-event-retriever",
        }
    }

    /// Physical name suffix, e.g. `event-storer`.
    pub fn short_name(self) -> &'static str {
        match self {
            Self::Authorizer => "authorizer",
            Self::EventStorer => "event-storer",
            Self::EventRetriever => "event-retriever",
        }
    }

    fn memory_mb(self) -> i64 {
        match self {
            Self::Authorizer => 128,
            Self::EventStorer => 256,
            Self::EventRetriever => 512,
        }
    }

    fn timeout_s(self) -> i64 {
        match self {
            Self::Authorizer => 5,
            Self::EventStorer => 10,
            Self::EventRetriever => 15,
        }
    }

    fn description(self) -> &'static str {
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

    /// Reserved concurrency: caps each function so one cannot starve the account.
    fn reserved_concurrency(self) -> i64 {
        match self {
            Self::Authorizer => 50,
            Self::EventStorer => 100,
            Self::EventRetriever => 100,
        }
    }
}

/// One handler function and what it needs to run.
#[derive(Clone, Debug)]
pub struct HandlerFunction {
    /// Which handler.
    pub kind: FunctionKind,
    /// Execution role.
    pub role: Handle<IamRole>,
    /// `/aws/lambda/<name>`, created before the function so retention applies from the start.
    pub log_group: Handle<LogGroup>,
    /// The function.
    pub function: Handle<LambdaFunction>,
}

impl HandlerFunction {
    /// Declares role, base policy (own log group, X-Ray, CMK decrypt), log group and function:
    /// `provided.al2023` on `arm64`, handler `bootstrap`, code from the handler crate's zip.
    pub fn new(
        stack: &mut Stack,
        config: &CallflowConfig,
        account: &Account,
        key: &EventsKey,
        kind: FunctionKind,
        environment: Vec<(String, Tf<String>)>,
    ) -> Self {
        let id = kind.logical_id();
        let name = format!("{}-{}", config.prefix(), kind.short_name());
        let trust = PolicyDocument::new(vec![
            Statement::allow("LambdaAssumesRole", &["sts:AssumeRole"], vec![])
                .with_principal(Principal::service("lambda.amazonaws.com"))
                .with_condition(
                    "StringEquals",
                    "aws:SourceAccount",
                    vec![account.identity.account_id()],
                ),
        ]);
        let role = stack.resource(
            id,
            IamRole {
                name: Some(name.clone().into()),
                description: Some(format!("Execution role of {name}").into()),
                assume_role_policy: trust.to_tf(),
                ..Default::default()
            },
        );
        let log_group = stack.resource(
            id,
            LogGroup {
                name: Some(format!("/aws/lambda/{name}").into()),
                retention_in_days: Some(LOG_RETENTION_DAYS.into()),
                kms_key_id: Some(key.key.arn()),
                ..Default::default()
            },
        );
        stack.suppress_check(
            &log_group,
            "CKV_AWS_338",
            "30-day retention is the service's log policy; events themselves are kept in S3",
        );
        let base = stack.resource(
            &format!("{id}_base"),
            IamRolePolicy {
                name: Some("base".into()),
                role: role.name(),
                policy: PolicyDocument::new(vec![
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
                .to_tf(),
            },
        );
        let zip = Tf::template([
            Tf::expr(Expression::raw(format!("local.{ARTIFACTS_LOCAL}"))),
            format!("/{}/bootstrap.zip", kind.binary_name()).into(),
        ]);
        let function = stack.resource(
            id,
            LambdaFunction {
                function_name: name.clone().into(),
                description: Some(kind.description().into()),
                role: role.arn(),
                runtime: Some("provided.al2023".into()),
                handler: Some("bootstrap".into()),
                architectures: Some(vec!["arm64".to_string()].into()),
                filename: Some(zip.clone()),
                source_code_hash: Some(functions::filebase64sha256(&zip)),
                memory_size: Some(kind.memory_mb().into()),
                timeout: Some(kind.timeout_s().into()),
                reserved_concurrent_executions: Some(kind.reserved_concurrency().into()),
                kms_key_arn: Some(key.key.arn()),
                environment: Some(LambdaEnvironment {
                    variables: environment.into_iter().collect(),
                }),
                tracing_config: Some(TracingConfig {
                    mode: "Active".into(),
                }),
                logging_config: Some(LoggingConfig {
                    log_format: "JSON".into(),
                    log_group: Some(log_group.name()),
                    ..Default::default()
                }),
                ..Default::default()
            },
        );
        stack.depends_on(&function, &[log_group.address(), base.address()]);
        stack.suppress_check(
            &function,
            "CKV_AWS_116",
            "invoked synchronously by API Gateway: a DLQ applies only to asynchronous invocations",
        );
        stack.suppress_check(&function, "CKV_AWS_117", "reaches only S3 and KMS through public AWS endpoints; a VPC adds NAT cost and cold-start latency");
        stack.suppress_check(&function, "CKV_AWS_272", "code signing needs a signing profile outside this stack; zips are built and hashed by CI");
        Self {
            kind,
            role,
            log_group,
            function,
        }
    }
}
