//! Drift to apply to a seeded moto: the changes verify must report.

use aws_sdk_apigateway::types::{Op, PatchOperation};

use super::seed::SeedError;
use crate::aws::{AwsClients, sdk_error};

fn failed<E>(step: &'static str) -> impl FnOnce(E) -> SeedError
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    move |e| SeedError::new(step, sdk_error(&e))
}

/// Suspends versioning of `bucket`.
pub async fn suspend_versioning(clients: &AwsClients, bucket: &str) -> Result<(), SeedError> {
    use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
    clients
        .s3
        .put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Suspended)
                .build(),
        )
        .send()
        .await
        .map_err(failed("suspend versioning"))?;
    Ok(())
}

/// Changes a function's memory.
pub async fn set_function_memory(
    clients: &AwsClients,
    function: &str,
    memory_mb: i32,
) -> Result<(), SeedError> {
    clients
        .lambda
        .update_function_configuration()
        .function_name(function)
        .memory_size(memory_mb)
        .send()
        .await
        .map_err(failed("update function memory"))?;
    Ok(())
}

/// Deletes an alarm.
pub async fn delete_alarm(clients: &AwsClients, alarm: &str) -> Result<(), SeedError> {
    clients
        .cloudwatch
        .delete_alarms()
        .alarm_names(alarm)
        .send()
        .await
        .map_err(failed("delete alarm"))?;
    Ok(())
}

/// Changes the throttling of method path `*/*` on a stage of the REST API named `api`.
pub async fn set_throttling(
    clients: &AwsClients,
    api: &str,
    stage: &str,
    burst: i32,
    rate: f64,
) -> Result<(), SeedError> {
    let id = crate::infra::find_rest_api_id(&clients.apigateway, api)
        .await
        .map_err(|e| SeedError::new("find REST API", e))?
        .ok_or_else(|| SeedError::new("find REST API", format!("{api} not found")))?;
    let op = |path: &str, value: String| {
        PatchOperation::builder()
            .op(Op::Replace)
            .path(path)
            .value(value)
            .build()
    };
    clients
        .apigateway
        .update_stage()
        .rest_api_id(id)
        .stage_name(stage)
        .patch_operations(op("/*/*/throttling/burstLimit", burst.to_string()))
        .patch_operations(op("/*/*/throttling/rateLimit", rate.to_string()))
        .send()
        .await
        .map_err(failed("update throttling"))?;
    Ok(())
}

/// Changes the throttle burst limit of the usage plan named `plan`.
pub async fn set_usage_plan_burst(
    clients: &AwsClients,
    plan: &str,
    burst: i32,
) -> Result<(), SeedError> {
    let plans = clients
        .apigateway
        .get_usage_plans()
        .limit(500)
        .send()
        .await
        .map_err(|e| SeedError::new("list usage plans", e.to_string()))?;
    let id = plans
        .items()
        .iter()
        .find(|p| p.name() == Some(plan))
        .and_then(|p| p.id())
        .ok_or_else(|| SeedError::new("find usage plan", format!("{plan} not found")))?
        .to_owned();
    clients
        .apigateway
        .update_usage_plan()
        .usage_plan_id(id)
        .patch_operations(
            PatchOperation::builder()
                .op(Op::Replace)
                .path("/throttle/burstLimit")
                .value(burst.to_string())
                .build(),
        )
        .send()
        .await
        .map_err(|e| SeedError::new("update usage plan", e.to_string()))?;
    Ok(())
}
