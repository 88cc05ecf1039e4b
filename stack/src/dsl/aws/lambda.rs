//! Lambda functions and permissions.

use super::{StringMap, tf_block};
use crate::dsl::Tf;

tf_block! {
    /// `environment` block.
    pub struct LambdaEnvironment {
        /// Environment variables.
        variables: StringMap,
    }
}

tf_block! {
    /// `tracing_config` block.
    pub struct TracingConfig {
        /// `Active` or `PassThrough`.
        mode: Tf<String>,
    }
}

tf_block! {
    /// `logging_config` block.
    pub struct LoggingConfig {
        /// `JSON` or `Text`.
        log_format: Tf<String>,
        /// Log group name.
        log_group: Option<Tf<String>>,
        /// Application log level filter (JSON format only).
        application_log_level: Option<Tf<String>>,
        /// System log level filter (JSON format only).
        system_log_level: Option<Tf<String>>,
    }
}

tf_block! {
    /// `dead_letter_config` block.
    pub struct DeadLetterConfig {
        /// SQS queue or SNS topic ARN.
        target_arn: Tf<String>,
    }
}

tf_block! {
    /// `aws_lambda_function`.
    pub struct LambdaFunction: resource "aws_lambda_function" [arn, function_name, invoke_arn, qualified_arn] {
        /// Function name.
        function_name: Tf<String>,
        /// What the function does.
        description: Option<Tf<String>>,
        /// Execution role ARN.
        role: Tf<String>,
        /// Runtime, e.g. `provided.al2023`.
        runtime: Option<Tf<String>>,
        /// Handler; `bootstrap` for custom runtimes.
        handler: Option<Tf<String>>,
        /// `arm64` or `x86_64`.
        architectures: Option<Tf<Vec<String>>>,
        /// Path of the deployment zip.
        filename: Option<Tf<String>>,
        /// Base64 SHA-256 of the zip: a change redeploys the code.
        source_code_hash: Option<Tf<String>>,
        /// Memory in MB.
        memory_size: Option<Tf<i64>>,
        /// Timeout in seconds.
        timeout: Option<Tf<i64>>,
        /// Reserved concurrency (caps the function, protects the account).
        reserved_concurrent_executions: Option<Tf<i64>>,
        /// KMS key for environment variables at rest.
        kms_key_arn: Option<Tf<String>>,
        /// Environment (single block).
        environment: Option<LambdaEnvironment>,
        /// X-Ray (single block).
        tracing_config: Option<TracingConfig>,
        /// Logging (single block).
        logging_config: Option<LoggingConfig>,
        /// Dead letter queue for async invocations (single block).
        dead_letter_config: Option<DeadLetterConfig>,
        /// Tags.
        tags: StringMap,
    }
}

tf_block! {
    /// `aws_lambda_permission`: lets a service principal invoke a function.
    pub struct LambdaPermission: resource "aws_lambda_permission" [] {
        /// Statement id.
        statement_id: Option<Tf<String>>,
        /// `lambda:InvokeFunction`.
        action: Tf<String>,
        /// Function name or ARN.
        function_name: Tf<String>,
        /// Service principal, e.g. `apigateway.amazonaws.com`.
        principal: Tf<String>,
        /// ARN the invocation must come from (scopes the grant).
        source_arn: Option<Tf<String>>,
    }
}
