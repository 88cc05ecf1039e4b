//! State backends, typed: one struct per backend Terraform 1.11 ships (`local`, `s3`, `gcs`,
//! `azurerm`, `remote`, `http`, `pg`, `consul`, `kubernetes`, `oss`, `cos`) plus HCP Terraform's
//! `cloud` block, each with the arguments of Terraform's own schema for it
//! (`internal/backend/remote-state/*/backend.go` of terraform v1.11.4).
//!
//! Required arguments are the parameters of `new`; every optional one is an `Option` field
//! (left out of the JSON when `None`, so Terraform applies its documented default) with a
//! setter of the same name:
//! ```
//! use callflow_dsl::{Backend, S3Backend, S3AssumeRole};
//! let backend: Backend = S3Backend::new("state-bucket", "callflow/prod.tfstate")
//!     .region("eu-west-1")
//!     .use_lockfile(true)
//!     .encrypt(true)
//!     .assume_role(S3AssumeRole::new("arn:aws:iam::123456789012:role/state").session_name("ci"))
//!     .into();
//! assert_eq!(backend.type_name(), "s3");
//! let json = backend.config_json().unwrap();
//! assert_eq!(json["assume_role"]["session_name"], "ci");
//! assert!(json.get("kms_key_id").is_none());
//! ```
//!
//! Backend arguments are literal values: Terraform evaluates no expression there (no
//! variables, no references), so the fields are plain Rust values, not `Tf<T>`.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

/// A value a backend setter accepts: `&str`/`String` for strings, any iterator of strings for
/// lists and sets, any iterator of pairs for maps, and the value itself for the rest.
pub trait IntoBackendValue<T> {
    /// The value as stored in the backend struct.
    fn into_backend_value(self) -> T;
}

impl<S: Into<String>> IntoBackendValue<String> for S {
    fn into_backend_value(self) -> String {
        self.into()
    }
}

impl<I, S> IntoBackendValue<Vec<String>> for I
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    fn into_backend_value(self) -> Vec<String> {
        self.into_iter().map(Into::into).collect()
    }
}

impl<I, K, V> IntoBackendValue<BTreeMap<String, String>> for I
where
    I: IntoIterator<Item = (K, V)>,
    K: Into<String>,
    V: Into<String>,
{
    fn into_backend_value(self) -> BTreeMap<String, String> {
        self.into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect()
    }
}

macro_rules! identity_values {
    ($($t:ty),*) => {$(
        impl IntoBackendValue<$t> for $t {
            fn into_backend_value(self) -> $t { self }
        }
    )*};
}
identity_values!(bool, u32);

/// One backend (or nested object) configuration struct: required fields are `new`'s
/// parameters, optional ones `Option` fields skipped when `None`, each with a setter.
macro_rules! config_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            required {
                $( $(#[$rdoc:meta])* $rfield:ident : $rty:ty ),* $(,)?
            }
            optional {
                $( $(#[$odoc:meta])* $ofield:ident : $oty:ty ),* $(,)?
            }
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Serialize)]
        pub struct $name {
            $( $(#[$rdoc])* pub $rfield: $rty, )*
            $(
                $(#[$odoc])*
                #[serde(skip_serializing_if = "Option::is_none")]
                pub $ofield: Option<$oty>,
            )*
        }

        impl $name {
            /// The configuration with its required arguments; every optional one unset
            /// (Terraform's default applies).
            #[allow(clippy::new_without_default)]
            pub fn new($($rfield: impl IntoBackendValue<$rty>),*) -> Self {
                Self {
                    $( $rfield: $rfield.into_backend_value(), )*
                    $( $ofield: None, )*
                }
            }

            $(
                $(#[$odoc])*
                pub fn $ofield(mut self, value: impl IntoBackendValue<$oty>) -> Self {
                    self.$ofield = Some(value.into_backend_value());
                    self
                }
            )*
        }

        impl IntoBackendValue<$name> for $name {
            fn into_backend_value(self) -> $name { self }
        }
    };
}

config_struct! {
    /// `local`: state in a file on the machine that runs Terraform (cdktf's default backend).
    pub struct LocalBackend {
        required {}
        optional {
            /// State file path, relative to the working directory (`stacks/<name>/`).
            /// Default: `terraform.tfstate`; a DSL [`crate::Stack`] defaults to
            /// `terraform.<stack>.tfstate`, as cdktf.
            path: String,
            /// Directory of the non-default workspaces' state files. Default: `terraform.tfstate.d`.
            workspace_dir: String,
        }
    }
}

config_struct! {
    /// `s3`: state as an object in an S3 bucket, locked with a lock file next to it
    /// (`use_lockfile`, Terraform 1.10+) or, deprecated, a DynamoDB table.
    pub struct S3Backend {
        required {
            /// Name of the S3 bucket holding the state.
            bucket: String,
            /// Object key of the state file of the default workspace (other workspaces:
            /// `<workspace_key_prefix>/<workspace>/<key>`); must not start or end with `/`.
            key: String,
        }
        optional {
            /// Region of the bucket (and of the DynamoDB table). Default: `AWS_REGION` /
            /// `AWS_DEFAULT_REGION`, else the shared config file's region.
            region: String,
            /// Lock the state with an S3 lock file (`<key>.tflock`, conditional writes).
            /// Default: `false` (no locking unless `dynamodb_table` is set).
            use_lockfile: bool,
            /// Server-side encryption of the state object. Default: `false` (the bucket's
            /// default encryption still applies).
            encrypt: bool,
            /// ARN, id or alias of the KMS key that encrypts the state (SSE-KMS); needs
            /// `encrypt`. Default: none (SSE-S3 when `encrypt`).
            kms_key_id: String,
            /// Base64 key for SSE-C, instead of `kms_key_id`. Default: `AWS_SSE_CUSTOMER_KEY`.
            sse_customer_key: String,
            /// Canned ACL applied to the state object, e.g. `bucket-owner-full-control`.
            /// Default: none.
            acl: String,
            /// Deprecated (use `use_lockfile`): DynamoDB table for locking, partition key `LockID`.
            /// Default: no DynamoDB locking.
            dynamodb_table: String,
            /// Prefix of the non-default workspaces' keys. Default: `env:`.
            workspace_key_prefix: String,
            /// Account ids allowed; any other fails. Default: any.
            allowed_account_ids: Vec<String>,
            /// Account ids refused. Default: none.
            forbidden_account_ids: Vec<String>,
            /// Static access key id. Default: the AWS SDK credential chain.
            access_key: String,
            /// Static secret access key. Default: the AWS SDK credential chain.
            secret_key: String,
            /// Session token of temporary credentials (MFA). Default: `AWS_SESSION_TOKEN`.
            token: String,
            /// Named profile of the shared config/credentials files. Default: `AWS_PROFILE`.
            profile: String,
            /// Shared config files. Default: `~/.aws/config`.
            shared_config_files: Vec<String>,
            /// Shared credentials files. Default: `~/.aws/credentials`.
            shared_credentials_files: Vec<String>,
            /// Deprecated (use `shared_credentials_files`): one shared credentials file.
            shared_credentials_file: String,
            /// Role assumed before any S3 call (cross-account state).
            assume_role: S3AssumeRole,
            /// Role assumed with an OIDC/OAuth web identity token.
            assume_role_with_web_identity: S3AssumeRoleWithWebIdentity,
            /// Custom service endpoints (S3-compatible stores, VPC endpoints).
            endpoints: S3Endpoints,
            /// Deprecated (use `endpoints.s3`): custom S3 endpoint.
            endpoint: String,
            /// Deprecated (use `endpoints.dynamodb`): custom DynamoDB endpoint.
            dynamodb_endpoint: String,
            /// Deprecated (use `endpoints.iam`): custom IAM endpoint.
            iam_endpoint: String,
            /// Deprecated (use `endpoints.sts`): custom STS endpoint.
            sts_endpoint: String,
            /// Region of STS calls. Default: `region`.
            sts_region: String,
            /// Endpoint of the EC2 instance metadata service. Default: `AWS_EC2_METADATA_SERVICE_ENDPOINT`.
            ec2_metadata_service_endpoint: String,
            /// `IPv4` or `IPv6` for the metadata service. Default: `IPv4`.
            ec2_metadata_service_endpoint_mode: String,
            /// Path-style URLs (`https://host/bucket/key`), for S3-compatible stores. Default: `false`.
            use_path_style: bool,
            /// Deprecated (use `use_path_style`).
            force_path_style: bool,
            /// FIPS endpoints. Default: `false`.
            use_fips_endpoint: bool,
            /// Dual-stack (IPv6) endpoints. Default: `false`.
            use_dualstack_endpoint: bool,
            /// Maximum retries of a retryable API error. Default: 5.
            max_retries: u32,
            /// `standard` or `adaptive` retries. Default: `standard`.
            retry_mode: String,
            /// Skip the STS `GetCallerIdentity` credentials check. Default: `false`.
            skip_credentials_validation: bool,
            /// Do not look the account id up. Default: `false`.
            skip_requesting_account_id: bool,
            /// Skip the EC2 metadata API check. Default: `false`.
            skip_metadata_api_check: bool,
            /// Accept any region name (S3-compatible stores). Default: `false`.
            skip_region_validation: bool,
            /// Send no checksum on uploads (S3-compatible stores). Default: `false`.
            skip_s3_checksum: bool,
            /// PEM bundle of extra trusted CA certificates. Default: `AWS_CA_BUNDLE`.
            custom_ca_bundle: String,
            /// Proxy of HTTP requests. Default: `HTTP_PROXY`.
            http_proxy: String,
            /// Proxy of HTTPS requests. Default: `HTTPS_PROXY`.
            https_proxy: String,
            /// Hosts reached without proxy, comma-separated. Default: `NO_PROXY`.
            no_proxy: String,
            /// Accept any TLS certificate. Default: `false`.
            insecure: bool,
        }
    }
}

config_struct! {
    /// The S3 backend's `assume_role` object.
    pub struct S3AssumeRole {
        required {
            /// ARN of the role to assume.
            role_arn: String,
        }
        optional {
            /// Session duration, 15 minutes to 12 hours (`1h`, `30m`). Default: 15 minutes.
            duration: String,
            /// External id the role's trust policy requires (2 to 1224 characters).
            external_id: String,
            /// Inline IAM policy JSON restricting the session further.
            policy: String,
            /// ARNs of managed policies restricting the session further.
            policy_arns: Vec<String>,
            /// Session name (CloudTrail). Default: generated.
            session_name: String,
            /// Source identity of the principal assuming the role.
            source_identity: String,
            /// Session tags.
            tags: BTreeMap<String, String>,
            /// Keys of the session tags passed on to subsequent sessions.
            transitive_tag_keys: Vec<String>,
        }
    }
}

config_struct! {
    /// The S3 backend's `assume_role_with_web_identity` object (exactly one of
    /// `web_identity_token` and `web_identity_token_file`).
    pub struct S3AssumeRoleWithWebIdentity {
        required {
            /// ARN of the role to assume.
            role_arn: String,
        }
        optional {
            /// Session duration, 15 minutes to 12 hours. Default: 15 minutes.
            duration: String,
            /// Inline IAM policy JSON restricting the session further.
            policy: String,
            /// ARNs of managed policies restricting the session further.
            policy_arns: Vec<String>,
            /// Session name. Default: generated.
            session_name: String,
            /// The OIDC/OAuth token itself.
            web_identity_token: String,
            /// File holding the OIDC/OAuth token. Default: `AWS_WEB_IDENTITY_TOKEN_FILE`.
            web_identity_token_file: String,
        }
    }
}

config_struct! {
    /// The S3 backend's `endpoints` object: custom service URLs.
    pub struct S3Endpoints {
        required {}
        optional {
            /// Deprecated with DynamoDB locking: DynamoDB endpoint. Default: `AWS_ENDPOINT_URL_DYNAMODB`.
            dynamodb: String,
            /// IAM endpoint. Default: `AWS_ENDPOINT_URL_IAM`.
            iam: String,
            /// S3 endpoint (MinIO, LocalStack, VPC endpoints). Default: `AWS_ENDPOINT_URL_S3`.
            s3: String,
            /// IAM Identity Center (SSO) endpoint. Default: `AWS_ENDPOINT_URL_SSO`.
            sso: String,
            /// STS endpoint. Default: `AWS_ENDPOINT_URL_STS`.
            sts: String,
        }
    }
}

config_struct! {
    /// `gcs`: state objects in a Google Cloud Storage bucket, locked with a lock object.
    pub struct GcsBackend {
        required {
            /// Name of the bucket.
            bucket: String,
        }
        optional {
            /// Directory of the state files inside the bucket (`<prefix>/<workspace>.tfstate`).
            /// Default: the bucket's root.
            prefix: String,
            /// Service account key JSON, or a path to it. Default: application default credentials.
            credentials: String,
            /// OAuth2 access token, instead of `credentials`. Default: `GOOGLE_OAUTH_ACCESS_TOKEN`.
            access_token: String,
            /// Service account impersonated for every call.
            impersonate_service_account: String,
            /// Delegation chain of the impersonated service account.
            impersonate_service_account_delegates: Vec<String>,
            /// Base64 32-byte customer-supplied encryption key. Default: `GOOGLE_ENCRYPTION_KEY`.
            encryption_key: String,
            /// Cloud KMS key (`projects/…/cryptoKeys/…`) encrypting the state. Default: `GOOGLE_KMS_ENCRYPTION_KEY`.
            kms_encryption_key: String,
            /// Custom Storage API endpoint. Default: `GOOGLE_BACKEND_STORAGE_CUSTOM_ENDPOINT`.
            storage_custom_endpoint: String,
        }
    }
}

config_struct! {
    /// `azurerm`: state as a blob in an Azure Storage container, locked with a blob lease.
    pub struct AzureRmBackend {
        required {
            /// Name of the storage account.
            storage_account_name: String,
            /// Name of the blob container.
            container_name: String,
            /// Blob name of the default workspace's state (`<key>env:<workspace>` for others).
            key: String,
        }
        optional {
            /// Resource group of the storage account (to look its access key up).
            resource_group_name: String,
            /// Subscription of the storage account. Default: `ARM_SUBSCRIPTION_ID`.
            subscription_id: String,
            /// Tenant of Azure AD authentication. Default: `ARM_TENANT_ID`.
            tenant_id: String,
            /// Client (application) id of a service principal. Default: `ARM_CLIENT_ID`.
            client_id: String,
            /// File holding the client id. Default: `ARM_CLIENT_ID_FILE_PATH`.
            client_id_file_path: String,
            /// Client secret of the service principal. Default: `ARM_CLIENT_SECRET`.
            client_secret: String,
            /// File holding the client secret. Default: `ARM_CLIENT_SECRET_FILE_PATH`.
            client_secret_file_path: String,
            /// Base64 PKCS#12 client certificate. Default: `ARM_CLIENT_CERTIFICATE`.
            client_certificate: String,
            /// Path of the PKCS#12 client certificate. Default: `ARM_CLIENT_CERTIFICATE_PATH`.
            client_certificate_path: String,
            /// Password of the client certificate. Default: `ARM_CLIENT_CERTIFICATE_PASSWORD`.
            client_certificate_password: String,
            /// Storage access key. Default: `ARM_ACCESS_KEY`.
            access_key: String,
            /// SAS token. Default: `ARM_SAS_TOKEN`.
            sas_token: String,
            /// Authenticate with OpenID Connect. Default: `false` (`ARM_USE_OIDC`).
            use_oidc: bool,
            /// OIDC ID token. Default: `ARM_OIDC_TOKEN`.
            oidc_token: String,
            /// File holding the OIDC ID token. Default: `ARM_OIDC_TOKEN_FILE_PATH`.
            oidc_token_file_path: String,
            /// Bearer token of the OIDC token request. Default: `ARM_OIDC_REQUEST_TOKEN`.
            oidc_request_token: String,
            /// URL of the OIDC token request. Default: `ARM_OIDC_REQUEST_URL`.
            oidc_request_url: String,
            /// Azure DevOps service connection id (OIDC). Default: `ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID`.
            ado_pipeline_service_connection_id: String,
            /// Authenticate with a managed identity. Default: `false` (`ARM_USE_MSI`).
            use_msi: bool,
            /// Custom managed identity endpoint. Default: detected.
            msi_endpoint: String,
            /// Deprecated (use `msi_endpoint`).
            endpoint: String,
            /// Authenticate with the Azure CLI. Default: `true`.
            use_cli: bool,
            /// Authenticate with AKS workload identity. Default: `false`.
            use_aks_workload_identity: bool,
            /// Use Azure AD (not the access key) on the storage data plane. Default: `false`.
            use_azuread_auth: bool,
            /// Look the blob endpoint up (Azure DNS zone endpoints). Default: `false`.
            lookup_blob_endpoint: bool,
            /// Snapshot the blob before each write. Default: `false`.
            snapshot: bool,
            /// Cloud: `public`, `usgovernment` or `china`. Default: `public`.
            environment: String,
            /// Hostname of the Azure metadata service, instead of `environment`. Default: `ARM_METADATA_HOSTNAME`.
            metadata_host: String,
        }
    }
}

config_struct! {
    /// `remote`: state (and optionally runs) in HCP Terraform / Terraform Enterprise workspaces;
    /// the `cloud` block ([`CloudBackend`]) is its successor.
    pub struct RemoteBackend {
        required {
            /// Organization name.
            organization: String,
            /// Which workspace(s): one `name`, or every workspace starting with `prefix`.
            workspaces: RemoteWorkspaces,
        }
        optional {
            /// Hostname of the service. Default: `app.terraform.io`.
            hostname: String,
            /// API token. Default: the CLI configuration's credentials.
            token: String,
        }
    }
}

config_struct! {
    /// The `remote` backend's `workspaces` block: exactly one of `name` and `prefix`.
    pub struct RemoteWorkspaces {
        required {}
        optional {
            /// The one workspace this configuration uses.
            name: String,
            /// Prefix of the workspaces this configuration maps Terraform workspaces to.
            prefix: String,
        }
    }
}

config_struct! {
    /// The `cloud` block (`terraform { cloud { … } }`, not a backend in the JSON): HCP Terraform
    /// or Terraform Enterprise. Every argument may also come from `TF_CLOUD_*` variables.
    pub struct CloudBackend {
        required {}
        optional {
            /// Organization name. Default: `TF_CLOUD_ORGANIZATION`.
            organization: String,
            /// Which workspace(s). Default: `TF_WORKSPACE`.
            workspaces: CloudWorkspaces,
            /// Hostname of the service. Default: `TF_CLOUD_HOSTNAME`, else `app.terraform.io`.
            hostname: String,
            /// API token. Default: the CLI configuration's credentials.
            token: String,
        }
    }
}

config_struct! {
    /// The `cloud` block's `workspaces`: one `name`, or the workspaces carrying `tags`;
    /// `project` places new workspaces.
    pub struct CloudWorkspaces {
        required {}
        optional {
            /// The one workspace this configuration uses. Default: `TF_WORKSPACE`.
            name: String,
            /// Tags selecting the workspaces (a list of tag names). Default: none.
            tags: Vec<String>,
            /// Project of new workspaces. Default: `TF_CLOUD_PROJECT`, else the default project.
            project: String,
        }
    }
}

config_struct! {
    /// `http`: state fetched and stored through a REST endpoint (GET/POST, optional LOCK/UNLOCK).
    pub struct HttpBackend {
        required {
            /// URL of the state (`http` or `https`). (Terraform also reads `TF_HTTP_ADDRESS`.)
            address: String,
        }
        optional {
            /// Method of state updates. Default: `POST`.
            update_method: String,
            /// URL of locking; none disables locking. Default: none.
            lock_address: String,
            /// Method of locking. Default: `LOCK`.
            lock_method: String,
            /// URL of unlocking. Default: none.
            unlock_address: String,
            /// Method of unlocking. Default: `UNLOCK`.
            unlock_method: String,
            /// Basic auth user. Default: `TF_HTTP_USERNAME`.
            username: String,
            /// Basic auth password. Default: `TF_HTTP_PASSWORD`.
            password: String,
            /// Accept any TLS certificate. Default: `false`.
            skip_cert_verification: bool,
            /// Retries of a failed request. Default: 2.
            retry_max: u32,
            /// Minimum wait between retries, seconds. Default: 1.
            retry_wait_min: u32,
            /// Maximum wait between retries, seconds. Default: 30.
            retry_wait_max: u32,
            /// PEM CA chain verifying the server. Default: the system roots.
            client_ca_certificate_pem: String,
            /// PEM client certificate (mTLS).
            client_certificate_pem: String,
            /// PEM private key of `client_certificate_pem`.
            client_private_key_pem: String,
        }
    }
}

config_struct! {
    /// `pg`: state rows in a PostgreSQL database, locked with advisory locks.
    pub struct PgBackend {
        required {}
        optional {
            /// Connection string (`postgres://user:pass@host/db`). Default: `PG_CONN_STR`.
            conn_str: String,
            /// Schema holding the `states` table. Default: `terraform_remote_state`.
            schema_name: String,
            /// Do not create the schema. Default: `false`.
            skip_schema_creation: bool,
            /// Do not create the table. Default: `false`.
            skip_table_creation: bool,
            /// Do not create the index. Default: `false`.
            skip_index_creation: bool,
        }
    }
}

config_struct! {
    /// `consul`: state in Consul's KV store, locked with a Consul session.
    pub struct ConsulBackend {
        required {
            /// KV path of the state.
            path: String,
        }
        optional {
            /// ACL token. Default: `CONSUL_HTTP_TOKEN`.
            access_token: String,
            /// Agent address (`host:port`). Default: `CONSUL_HTTP_ADDR`, else `127.0.0.1:8500`.
            address: String,
            /// `http` or `https`. Default: `http`.
            scheme: String,
            /// Datacenter. Default: the agent's.
            datacenter: String,
            /// Basic auth, `user:password`. Default: `CONSUL_HTTP_AUTH`.
            http_auth: String,
            /// Gzip the state. Default: `false`.
            gzip: bool,
            /// Lock the state. Default: `true`.
            lock: bool,
            /// PEM CA file verifying the agent. Default: `CONSUL_CACERT`.
            ca_file: String,
            /// PEM client certificate file. Default: `CONSUL_CLIENT_CERT`.
            cert_file: String,
            /// PEM client key file. Default: `CONSUL_CLIENT_KEY`.
            key_file: String,
        }
    }
}

config_struct! {
    /// `kubernetes`: state in a Secret (`tfstate-<workspace>-<secret_suffix>`), locked with a Lease.
    pub struct KubernetesBackend {
        required {
            /// Suffix of the Secret's name.
            secret_suffix: String,
        }
        optional {
            /// Extra labels of the Secret.
            labels: BTreeMap<String, String>,
            /// Namespace of the Secret. Default: `KUBE_NAMESPACE`, else `default`.
            namespace: String,
            /// Use the pod's service account. Default: `false`.
            in_cluster_config: bool,
            /// Read the kubeconfig file. Default: `true`.
            load_config_file: bool,
            /// API server URL. Default: `KUBE_HOST`.
            host: String,
            /// Basic auth user. Default: `KUBE_USER`.
            username: String,
            /// Basic auth password. Default: `KUBE_PASSWORD`.
            password: String,
            /// Accept any TLS certificate. Default: `false`.
            insecure: bool,
            /// PEM client certificate. Default: `KUBE_CLIENT_CERT_DATA`.
            client_certificate: String,
            /// PEM client key. Default: `KUBE_CLIENT_KEY_DATA`.
            client_key: String,
            /// PEM CA bundle. Default: `KUBE_CLUSTER_CA_CERT_DATA`.
            cluster_ca_certificate: String,
            /// Kubeconfig files. Default: `KUBE_CONFIG_PATHS`.
            config_paths: Vec<String>,
            /// Kubeconfig file. Default: `KUBE_CONFIG_PATH`.
            config_path: String,
            /// Kubeconfig context. Default: the current context (`KUBE_CTX`).
            config_context: String,
            /// Kubeconfig user of the context. Default: `KUBE_CTX_AUTH_INFO`.
            config_context_auth_info: String,
            /// Kubeconfig cluster of the context. Default: `KUBE_CTX_CLUSTER`.
            config_context_cluster: String,
            /// Service account token. Default: `KUBE_TOKEN`.
            token: String,
            /// Proxy URL of API requests. Default: `KUBE_PROXY_URL`.
            proxy_url: String,
            /// A credential plugin run for a token.
            exec: KubernetesExec,
        }
    }
}

config_struct! {
    /// The `kubernetes` backend's `exec` block: a client-go credential plugin.
    pub struct KubernetesExec {
        required {
            /// API version of the plugin's output, e.g. `client.authentication.k8s.io/v1`.
            api_version: String,
            /// The plugin command.
            command: String,
        }
        optional {
            /// Environment of the command.
            env: BTreeMap<String, String>,
            /// Arguments of the command.
            args: Vec<String>,
        }
    }
}

config_struct! {
    /// `oss`: state in an Alibaba Cloud OSS bucket, locked in a TableStore table.
    pub struct OssBackend {
        required {
            /// Name of the bucket.
            bucket: String,
        }
        optional {
            /// Directory of the workspaces' state. Default: `env:`.
            prefix: String,
            /// Object key of the state. Default: `terraform.tfstate`.
            key: String,
            /// Region of the bucket. Default: `ALICLOUD_REGION`.
            region: String,
            /// TableStore table locking the state. Default: no locking.
            tablestore_table: String,
            /// TableStore endpoint. Default: `ALICLOUD_TABLESTORE_ENDPOINT`.
            tablestore_endpoint: String,
            /// Custom OSS endpoint. Default: `ALICLOUD_OSS_ENDPOINT`.
            endpoint: String,
            /// Custom STS endpoint. Default: `ALICLOUD_STS_ENDPOINT`.
            sts_endpoint: String,
            /// Server-side encryption. Default: `false`.
            encrypt: bool,
            /// Object ACL: `private`, `public-read` or `public-read-write`. Default: the bucket's.
            acl: String,
            /// Access key id. Default: `ALICLOUD_ACCESS_KEY`.
            access_key: String,
            /// Access key secret. Default: `ALICLOUD_SECRET_KEY`.
            secret_key: String,
            /// STS security token. Default: `ALICLOUD_SECURITY_TOKEN`.
            security_token: String,
            /// RAM role of the ECS instance. Default: `ALICLOUD_ECS_ROLE_NAME`.
            ecs_role_name: String,
            /// Shared credentials file. Default: `~/.aliyun/config.json` with `profile`.
            shared_credentials_file: String,
            /// Profile of the shared credentials. Default: `ALICLOUD_PROFILE`.
            profile: String,
            /// ARN of a RAM role assumed first. Default: `ALICLOUD_ASSUME_ROLE_ARN`.
            assume_role_role_arn: String,
            /// Session name of the assumed role. Default: `ALICLOUD_ASSUME_ROLE_SESSION_NAME`.
            assume_role_session_name: String,
            /// Policy restricting the assumed role.
            assume_role_policy: String,
            /// Session lifetime, 900 to 3600 seconds.
            assume_role_session_expiration: u32,
            /// Deprecated (use the `assume_role_*` arguments): the `assume_role` block, at
            /// most one (Terraform's schema makes it a set; the setter takes one).
            assume_role: Vec<OssAssumeRole>,
        }
    }
}

config_struct! {
    /// The `oss` backend's deprecated `assume_role` block.
    pub struct OssAssumeRole {
        required {
            /// ARN of the RAM role.
            role_arn: String,
        }
        optional {
            /// Session name.
            session_name: String,
            /// Policy restricting the session.
            policy: String,
            /// Session lifetime, 900 to 3600 seconds.
            session_expiration: u32,
        }
    }
}

config_struct! {
    /// `cos`: state in a Tencent Cloud COS bucket, locked with a lock object.
    pub struct CosBackend {
        required {
            /// Name of the bucket (`<name>-<appid>`).
            bucket: String,
        }
        optional {
            /// Region of the bucket. Default: `TENCENTCLOUD_REGION`.
            region: String,
            /// Directory of the state in the bucket. Default: the root.
            prefix: String,
            /// Object key of the state. Default: `terraform.tfstate`.
            key: String,
            /// Server-side encryption. Default: `true`.
            encrypt: bool,
            /// Object ACL: `private` or `public-read`. Default: `private`.
            acl: String,
            /// Global acceleration. Default: `false`.
            accelerate: bool,
            /// Custom COS endpoint. Default: `TENCENTCLOUD_ENDPOINT`.
            endpoint: String,
            /// Root domain of API requests. Default: `tencentcloudapi.com`.
            domain: String,
            /// Secret id. Default: `TENCENTCLOUD_SECRET_ID`.
            secret_id: String,
            /// Secret key. Default: `TENCENTCLOUD_SECRET_KEY`.
            secret_key: String,
            /// Security token of temporary credentials. Default: `TENCENTCLOUD_SECURITY_TOKEN`.
            security_token: String,
            /// Directory of shared credentials. Default: `~/.tccli`.
            shared_credentials_dir: String,
            /// Profile of the shared credentials. Default: the `tccli configure` default.
            profile: String,
            /// CAM role of the CVM instance. Default: `TENCENTCLOUD_CAM_ROLE_NAME`.
            cam_role_name: String,
            /// A role assumed first: the `assume_role` block, at most one (Terraform's schema
            /// makes it a set; the setter takes one).
            assume_role: Vec<CosAssumeRole>,
        }
    }
}

config_struct! {
    /// The `cos` backend's `assume_role` block.
    pub struct CosAssumeRole {
        required {
            /// ARN of the role.
            role_arn: String,
            /// Session name.
            session_name: String,
            /// Session duration, 0 to 43200 seconds (Terraform's default is 7200).
            session_duration: u32,
        }
        optional {
            /// Policy restricting the session.
            policy: String,
            /// External id of the role.
            external_id: String,
        }
    }
}

/// A block Terraform declares as a set of at most one: written as a one-element list, the
/// form both the backend block and `terraform_remote_state`'s `config` accept.
macro_rules! single_block {
    ($($t:ty),*) => {$(
        impl IntoBackendValue<Vec<$t>> for $t {
            fn into_backend_value(self) -> Vec<$t> { vec![self] }
        }
    )*};
}
single_block!(OssAssumeRole, CosAssumeRole);

/// Where Terraform keeps a stack's state: one of Terraform's backends or the `cloud` block.
// One backend per stack, set once: the size of the S3 variant costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Backend {
    /// [`LocalBackend`].
    Local(LocalBackend),
    /// [`S3Backend`].
    S3(S3Backend),
    /// [`GcsBackend`].
    Gcs(GcsBackend),
    /// [`AzureRmBackend`].
    AzureRm(AzureRmBackend),
    /// [`RemoteBackend`].
    Remote(RemoteBackend),
    /// [`CloudBackend`] (`terraform.cloud`, not `terraform.backend`).
    Cloud(CloudBackend),
    /// [`HttpBackend`].
    Http(HttpBackend),
    /// [`PgBackend`].
    Pg(PgBackend),
    /// [`ConsulBackend`].
    Consul(ConsulBackend),
    /// [`KubernetesBackend`].
    Kubernetes(KubernetesBackend),
    /// [`OssBackend`].
    Oss(OssBackend),
    /// [`CosBackend`].
    Cos(CosBackend),
}

macro_rules! backend_from {
    ($($variant:ident($t:ty)),*) => {$(
        impl From<$t> for Backend {
            fn from(b: $t) -> Self { Backend::$variant(b) }
        }
    )*};
}
backend_from!(
    Local(LocalBackend),
    S3(S3Backend),
    Gcs(GcsBackend),
    AzureRm(AzureRmBackend),
    Remote(RemoteBackend),
    Cloud(CloudBackend),
    Http(HttpBackend),
    Pg(PgBackend),
    Consul(ConsulBackend),
    Kubernetes(KubernetesBackend),
    Oss(OssBackend),
    Cos(CosBackend)
);

impl Backend {
    /// A local state file at `path` (relative to the stack's working directory).
    pub fn local(path: impl Into<String>) -> Self {
        Backend::Local(LocalBackend::new().path(path.into()))
    }

    /// The backend's type: the key under `terraform.backend` (`cloud` for the cloud block).
    pub fn type_name(&self) -> &'static str {
        match self {
            Backend::Local(_) => "local",
            Backend::S3(_) => "s3",
            Backend::Gcs(_) => "gcs",
            Backend::AzureRm(_) => "azurerm",
            Backend::Remote(_) => "remote",
            Backend::Cloud(_) => "cloud",
            Backend::Http(_) => "http",
            Backend::Pg(_) => "pg",
            Backend::Consul(_) => "consul",
            Backend::Kubernetes(_) => "kubernetes",
            Backend::Oss(_) => "oss",
            Backend::Cos(_) => "cos",
        }
    }

    /// Whether this is the `cloud` block (written as `terraform.cloud`), not a backend.
    pub fn is_cloud(&self) -> bool {
        matches!(self, Backend::Cloud(_))
    }

    /// The configuration body as Terraform JSON (the object under `terraform.backend.<type>`,
    /// or under `terraform.cloud`).
    pub fn config_json(&self) -> Result<Value, serde_json::Error> {
        match self {
            Backend::Local(b) => serde_json::to_value(b),
            Backend::S3(b) => serde_json::to_value(b),
            Backend::Gcs(b) => serde_json::to_value(b),
            Backend::AzureRm(b) => serde_json::to_value(b),
            Backend::Remote(b) => serde_json::to_value(b),
            Backend::Cloud(b) => serde_json::to_value(b),
            Backend::Http(b) => serde_json::to_value(b),
            Backend::Pg(b) => serde_json::to_value(b),
            Backend::Consul(b) => serde_json::to_value(b),
            Backend::Kubernetes(b) => serde_json::to_value(b),
            Backend::Oss(b) => serde_json::to_value(b),
            Backend::Cos(b) => serde_json::to_value(b),
        }
    }

    /// Adds this backend to a stack's `terraform` block: `backend.<type>` or `cloud`.
    pub(crate) fn insert_into(
        &self,
        terraform: &mut serde_json::Map<String, Value>,
    ) -> Result<(), serde_json::Error> {
        let body = self.config_json()?;
        if self.is_cloud() {
            terraform.insert("cloud".into(), body);
        } else {
            let mut backend = serde_json::Map::new();
            backend.insert(self.type_name().into(), body);
            terraform.insert("backend".into(), Value::Object(backend));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_arguments_are_left_out_until_set() {
        let b = S3Backend::new("b", "k");
        assert_eq!(
            Backend::from(b.clone()).config_json().unwrap(),
            serde_json::json!({"bucket": "b", "key": "k"})
        );
        let b = b.use_lockfile(true).allowed_account_ids(["1", "2"]);
        let json = Backend::from(b).config_json().unwrap();
        assert_eq!(json["use_lockfile"], true);
        assert_eq!(json["allowed_account_ids"], serde_json::json!(["1", "2"]));
    }

    #[test]
    fn the_cloud_block_is_not_a_backend() {
        let mut terraform = serde_json::Map::new();
        Backend::from(
            CloudBackend::new()
                .organization("acme")
                .workspaces(CloudWorkspaces::new().name("prod")),
        )
        .insert_into(&mut terraform)
        .unwrap();
        assert_eq!(
            Value::Object(terraform),
            serde_json::json!({"cloud": {"organization": "acme", "workspaces": {"name": "prod"}}})
        );
    }
}
