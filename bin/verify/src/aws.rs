//! The AWS SDK clients verify reads the live environment through.

use aws_config::{BehaviorVersion, Region};
use aws_sdk_s3::config::Credentials;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata};

/// Where and as whom to reach AWS (or an AWS-compatible endpoint such as moto server).
#[derive(Clone, Debug, Default)]
pub struct AwsTarget {
    /// Region; when `None`, the standard chain (`AWS_REGION`, profile) decides.
    pub region: Option<String>,
    /// Named profile of the shared config files.
    pub profile: Option<String>,
    /// Endpoint override for every service (S3 then uses path-style addressing).
    pub endpoint_url: Option<String>,
    /// Static credentials instead of the standard chain (tests against moto).
    pub static_credentials: Option<(String, String)>,
}

/// One client per service verify reads.
#[derive(Clone, Debug)]
pub struct AwsClients {
    /// S3: the events bucket.
    pub s3: aws_sdk_s3::Client,
    /// KMS: keys behind aliases.
    pub kms: aws_sdk_kms::Client,
    /// Lambda: function configuration.
    pub lambda: aws_sdk_lambda::Client,
    /// API Gateway (REST APIs v1).
    pub apigateway: aws_sdk_apigateway::Client,
    /// Route 53: alias records.
    pub route53: aws_sdk_route53::Client,
    /// CloudWatch: alarms and dashboards.
    pub cloudwatch: aws_sdk_cloudwatch::Client,
}

impl AwsClients {
    /// Loads the shared configuration (standard credential chain unless static credentials are
    /// given) and builds the clients.
    pub async fn connect(target: &AwsTarget) -> Self {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(region) = &target.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(profile) = &target.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(url) = &target.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        if let Some((key, secret)) = &target.static_credentials {
            loader = loader.credentials_provider(Credentials::new(
                key.clone(),
                secret.clone(),
                None,
                None,
                "callflow-verify-static",
            ));
        }
        let shared = loader.load().await;
        let s3_config = aws_sdk_s3::config::Builder::from(&shared)
            .force_path_style(target.endpoint_url.is_some())
            .build();
        Self {
            s3: aws_sdk_s3::Client::from_conf(s3_config),
            kms: aws_sdk_kms::Client::new(&shared),
            lambda: aws_sdk_lambda::Client::new(&shared),
            apigateway: aws_sdk_apigateway::Client::new(&shared),
            route53: aws_sdk_route53::Client::new(&shared),
            cloudwatch: aws_sdk_cloudwatch::Client::new(&shared),
        }
    }
}

/// An SDK error as one line: `Code: message`, or the full error chain when there is no code.
pub fn sdk_error<E>(error: &E) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match (error.code(), error.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_owned(),
        _ => DisplayErrorContext(error).to_string(),
    }
}

/// Whether an SDK error means "this resource does not exist".
pub fn is_not_found<E: ProvideErrorMetadata>(error: &E) -> bool {
    matches!(
        error.code(),
        Some(
            "NoSuchBucket"
                | "NotFound"
                | "NotFoundException"
                | "ResourceNotFoundException"
                | "NoSuchLifecycleConfiguration"
                | "ServerSideEncryptionConfigurationNotFoundError"
                | "NoSuchPublicAccessBlockConfiguration"
                | "NoSuchHostedZone"
                | "ResourceNotFound"
        )
    )
}
