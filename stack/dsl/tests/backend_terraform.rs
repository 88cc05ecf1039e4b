//! Typed backends against the real `terraform` (1.11, offline): every argument of every backend
//! struct is set, the JSON is snapshot, and terraform proves it accepts every argument name:
//!
//! - `terraform init` with the backend decodes the configuration before it connects anywhere:
//!   an unknown argument fails there with "No argument or block type is named", a connection or
//!   credentials failure comes after. The init output of each backend must have no decode error
//!   (a control with one bogus argument shows that the check catches it);
//! - the same arguments in a `terraform_remote_state` data source ([`RemoteState::from_backend`])
//!   go through the backend's own schema check in `terraform validate`, which rejects an
//!   unexpected attribute, nested ones included, offline;
//! - `local` is initialized and applied for real.

mod backend_support;

use std::path::Path;

use backend_support::{Terraform, TerraformData, text};
use callflow_dsl::{
    AzureRmBackend, Backend, CloudBackend, CloudWorkspaces, ConsulBackend, CosAssumeRole,
    CosBackend, GcsBackend, HttpBackend, KubernetesBackend, KubernetesExec, LocalBackend,
    OssAssumeRole, OssBackend, PgBackend, RemoteBackend, RemoteState, RemoteWorkspaces,
    S3AssumeRole, S3AssumeRoleWithWebIdentity, S3Backend, S3Endpoints, Stack,
};
use serde_json::{Value, json};

const ROLE: &str = "arn:aws:iam::123456789012:role/state";
const POLICY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;

/// Every backend with every argument set (deprecated ones that conflict with their successor
/// in a second configuration of the same backend), by a test name.
fn backends() -> Vec<(&'static str, Backend)> {
    vec![
        (
            "local",
            LocalBackend::new()
                .path("state/terraform.tfstate")
                .workspace_dir("state/workspaces")
                .into(),
        ),
        (
            "s3",
            S3Backend::new("state-bucket", "callflow/prod.tfstate")
                .region("eu-west-1")
                .use_lockfile(true)
                .encrypt(true)
                .kms_key_id(
                    "arn:aws:kms:eu-west-1:123456789012:key/0a1b2c3d-1111-4222-8333-444455556666",
                )
                .acl("bucket-owner-full-control")
                .workspace_key_prefix("workspaces")
                .allowed_account_ids(["123456789012"])
                .access_key("AKIAIOSFODNN7EXAMPLE")
                .secret_key("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
                .token("session-token")
                .profile("state")
                .shared_config_files(["/etc/aws/config"])
                .shared_credentials_files(["/etc/aws/credentials"])
                .assume_role(
                    S3AssumeRole::new(ROLE)
                        .duration("1h")
                        .external_id("external-id")
                        .policy(POLICY)
                        .policy_arns(["arn:aws:iam::aws:policy/ReadOnlyAccess"])
                        .session_name("callflow")
                        .source_identity("ci")
                        .tags([("team", "telephony")])
                        .transitive_tag_keys(["team"]),
                )
                .endpoints(
                    S3Endpoints::new()
                        .dynamodb("https://dynamodb.eu-west-1.amazonaws.com")
                        .iam("https://iam.amazonaws.com")
                        .s3("https://s3.eu-west-1.amazonaws.com")
                        .sso("https://portal.sso.eu-west-1.amazonaws.com")
                        .sts("https://sts.eu-west-1.amazonaws.com"),
                )
                .sts_region("eu-west-1")
                .ec2_metadata_service_endpoint("http://169.254.169.254")
                .ec2_metadata_service_endpoint_mode("IPv4")
                .use_path_style(true)
                .use_fips_endpoint(false)
                .use_dualstack_endpoint(false)
                .max_retries(3)
                .retry_mode("standard")
                .skip_credentials_validation(true)
                .skip_requesting_account_id(true)
                .skip_metadata_api_check(true)
                .skip_region_validation(true)
                .skip_s3_checksum(true)
                .custom_ca_bundle("/etc/ssl/ca.pem")
                .http_proxy("http://proxy:3128")
                .https_proxy("http://proxy:3128")
                .no_proxy("localhost")
                .insecure(false)
                .into(),
        ),
        (
            "s3_legacy",
            S3Backend::new("state-bucket", "callflow/prod.tfstate")
                .region("eu-west-1")
                .dynamodb_table("terraform-locks")
                .sse_customer_key("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
                .encrypt(true)
                .forbidden_account_ids(["210987654321"])
                .shared_credentials_file("/etc/aws/credentials")
                .endpoint("https://s3.eu-west-1.amazonaws.com")
                .dynamodb_endpoint("https://dynamodb.eu-west-1.amazonaws.com")
                .iam_endpoint("https://iam.amazonaws.com")
                .sts_endpoint("https://sts.eu-west-1.amazonaws.com")
                .force_path_style(true)
                .assume_role_with_web_identity(
                    S3AssumeRoleWithWebIdentity::new(ROLE)
                        .duration("1h")
                        .policy(POLICY)
                        .policy_arns(["arn:aws:iam::aws:policy/ReadOnlyAccess"])
                        .session_name("callflow")
                        .web_identity_token_file("/var/run/token"),
                )
                .into(),
        ),
        (
            "gcs",
            GcsBackend::new("state-bucket")
                .prefix("callflow")
                .credentials("/etc/gcp/key.json")
                .impersonate_service_account("state@project.iam.gserviceaccount.com")
                .impersonate_service_account_delegates(["delegate@project.iam.gserviceaccount.com"])
                .kms_encryption_key("projects/p/locations/europe-west1/keyRings/r/cryptoKeys/state")
                .storage_custom_endpoint("https://storage.googleapis.com/storage/v1/")
                .into(),
        ),
        (
            "gcs_token",
            GcsBackend::new("state-bucket")
                .access_token("ya29.token")
                .encryption_key("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
                .into(),
        ),
        (
            "azurerm",
            AzureRmBackend::new("callflowstate", "tfstate", "prod.terraform.tfstate")
                .resource_group_name("state")
                .subscription_id("00000000-0000-0000-0000-000000000000")
                .tenant_id("00000000-0000-0000-0000-000000000001")
                .client_id("00000000-0000-0000-0000-000000000002")
                .client_id_file_path("/etc/azure/client-id")
                .client_secret("secret")
                .client_secret_file_path("/etc/azure/client-secret")
                .client_certificate("Y2VydA==")
                .client_certificate_path("/etc/azure/cert.pfx")
                .client_certificate_password("password")
                .access_key("a2V5")
                .sas_token("sv=2022")
                .use_oidc(true)
                .oidc_token("token")
                .oidc_token_file_path("/etc/azure/oidc")
                .oidc_request_token("request-token")
                .oidc_request_url("https://token.example.com")
                .ado_pipeline_service_connection_id("connection")
                .use_msi(false)
                .msi_endpoint("http://169.254.169.254/metadata/identity/oauth2/token")
                .endpoint("http://169.254.169.254/metadata/identity/oauth2/token")
                .use_cli(false)
                .use_aks_workload_identity(false)
                .use_azuread_auth(true)
                .lookup_blob_endpoint(false)
                .snapshot(true)
                .environment("public")
                .metadata_host("management.azure.com")
                .into(),
        ),
        (
            "remote",
            RemoteBackend::new("acme", RemoteWorkspaces::new().name("callflow-prod"))
                .hostname("app.terraform.io")
                .token("token")
                .into(),
        ),
        (
            "remote_prefix",
            RemoteBackend::new("acme", RemoteWorkspaces::new().prefix("callflow-")).into(),
        ),
        (
            "cloud",
            CloudBackend::new()
                .organization("acme")
                .hostname("app.terraform.io")
                .token("token")
                .workspaces(
                    CloudWorkspaces::new()
                        .name("callflow-prod")
                        .project("telephony"),
                )
                .into(),
        ),
        (
            "cloud_tags",
            CloudBackend::new()
                .organization("acme")
                .workspaces(CloudWorkspaces::new().tags(["callflow"]))
                .into(),
        ),
        (
            "http",
            HttpBackend::new("https://state.example.com/callflow")
                .update_method("PUT")
                .lock_address("https://state.example.com/callflow/lock")
                .lock_method("LOCK")
                .unlock_address("https://state.example.com/callflow/lock")
                .unlock_method("UNLOCK")
                .username("terraform")
                .password("password")
                .skip_cert_verification(false)
                .retry_max(3)
                .retry_wait_min(1)
                .retry_wait_max(10)
                .client_ca_certificate_pem("-----BEGIN CERTIFICATE-----")
                .client_certificate_pem("-----BEGIN CERTIFICATE-----")
                .client_private_key_pem("-----BEGIN PRIVATE KEY-----")
                .into(),
        ),
        (
            "pg",
            PgBackend::new()
                .conn_str("postgres://terraform@127.0.0.1:9/state?sslmode=disable")
                .schema_name("callflow")
                .skip_schema_creation(false)
                .skip_table_creation(false)
                .skip_index_creation(false)
                .into(),
        ),
        (
            "consul",
            ConsulBackend::new("callflow/prod")
                .access_token("token")
                .address("127.0.0.1:9")
                .scheme("http")
                .datacenter("dc1")
                .http_auth("user:password")
                .gzip(true)
                .lock(true)
                .ca_file("/etc/consul/ca.pem")
                .cert_file("/etc/consul/cert.pem")
                .key_file("/etc/consul/key.pem")
                .into(),
        ),
        (
            "kubernetes",
            KubernetesBackend::new("callflow")
                .labels([("app", "callflow")])
                .namespace("terraform")
                .in_cluster_config(false)
                .load_config_file(false)
                .host("https://127.0.0.1:9")
                .username("admin")
                .password("password")
                .insecure(true)
                .client_certificate("cert")
                .client_key("key")
                .cluster_ca_certificate("ca")
                .config_paths(["/etc/kube/config"])
                .config_path("/etc/kube/config")
                .config_context("prod")
                .config_context_auth_info("admin")
                .config_context_cluster("prod")
                .token("token")
                .proxy_url("http://proxy:3128")
                .exec(
                    KubernetesExec::new("client.authentication.k8s.io/v1", "kube-token")
                        .env([("CLUSTER", "prod")])
                        .args(["--cluster", "prod"]),
                )
                .into(),
        ),
        (
            "oss",
            OssBackend::new("callflow-state")
                .prefix("workspaces")
                .key("prod.tfstate")
                .region("cn-hangzhou")
                .tablestore_table("locks")
                .tablestore_endpoint("https://state.cn-hangzhou.ots.aliyuncs.com")
                .endpoint("oss-cn-hangzhou.aliyuncs.com")
                .sts_endpoint("sts.aliyuncs.com")
                .encrypt(true)
                .acl("private")
                .access_key("key")
                .secret_key("secret")
                .security_token("token")
                .ecs_role_name("state")
                .shared_credentials_file("/etc/aliyun/config.json")
                .profile("default")
                .assume_role_role_arn("acs:ram::123456789012:role/state")
                .assume_role_session_name("callflow")
                .assume_role_policy(POLICY)
                .assume_role_session_expiration(3600)
                .into(),
        ),
        (
            "oss_legacy",
            OssBackend::new("callflow-state")
                .assume_role(
                    OssAssumeRole::new("acs:ram::123456789012:role/state")
                        .session_name("callflow")
                        .policy(POLICY)
                        .session_expiration(3600),
                )
                .into(),
        ),
        (
            "cos",
            CosBackend::new("callflow-state-1250000000")
                .region("ap-guangzhou")
                .prefix("workspaces")
                .key("prod.tfstate")
                .encrypt(true)
                .acl("private")
                .accelerate(false)
                .endpoint("https://cos-internal.ap-guangzhou.tencentcos.cn")
                .domain("tencentcloudapi.com")
                .secret_id("id")
                .secret_key("key")
                .security_token("token")
                .shared_credentials_dir("/etc/tccli")
                .profile("default")
                .cam_role_name("state")
                .assume_role(
                    CosAssumeRole::new(
                        "qcs::cam::uin/100000000001:roleName/state",
                        "callflow",
                        7200,
                    )
                    .policy(POLICY)
                    .external_id("external-id"),
                )
                .into(),
        ),
    ]
}

/// A stack storing its state in `backend`, with one `terraform_data`.
fn stack_with(backend: &Backend) -> Value {
    let mut stack = Stack::new("state");
    stack.backend(backend.clone());
    stack.resource("marker", TerraformData::new("stored"));
    stack.synth().expect("synth")
}

#[test]
fn every_backend_and_its_remote_state_synthesize_as_terraform_reads_them() {
    for (name, backend) in backends() {
        let doc = stack_with(&backend);
        insta::assert_json_snapshot!(format!("backend_{name}"), doc["terraform"]);
        assert_eq!(doc["//"]["metadata"]["backend"], backend.type_name());
        match RemoteState::from_backend(&backend) {
            Ok(state) => {
                let mut consumer = Stack::new("consumer");
                let read = consumer.data("state", state.workspace("default"));
                let value: callflow_dsl::Tf<String> = read.output("marker");
                consumer.resource("copy", TerraformData::new(value));
                let doc = consumer.synth().expect("synth");
                insta::assert_json_snapshot!(format!("remote_state_{name}"), doc["data"]);
            }
            Err(e) => {
                assert_eq!(name, "cloud_tags", "{name}: {e}");
                assert_eq!(
                    e.to_string(),
                    "the cloud block reads workspaces by tags or from the environment: terraform_remote_state needs `organization` and `workspaces.name`"
                );
            }
        }
    }
}

/// Errors of a configuration terraform could not decode: an argument name or type it rejects.
const DECODE_ERRORS: [&str; 6] = [
    "Extraneous JSON object property",
    "No argument or block type is named",
    "Unsupported argument",
    "Unsupported block type",
    "Incorrect attribute value type",
    "Missing required argument",
];

fn write_json(dir: &Path, doc: &Value) {
    std::fs::create_dir_all(dir).expect("mkdir");
    std::fs::write(
        dir.join("cdk.tf.json"),
        serde_json::to_string_pretty(doc).expect("json"),
    )
    .expect("write");
}

#[test]
fn terraform_accepts_every_argument_of_every_backend() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let Some(tf) = Terraform::find(scratch.path()) else {
        return;
    };
    for (name, backend) in backends() {
        let dir = scratch.path().join(name);
        write_json(&dir, &stack_with(&backend));
        // The document itself is valid Terraform (the backend block is not checked here).
        tf.ok(
            &dir,
            &["init", "-backend=false", "-input=false", "-no-color"],
        );
        tf.ok(&dir, &["validate", "-no-color"]);
        // With the backend: every argument decodes (the failure, if any, is the connection).
        let init = text(&tf.run(&dir, &["init", "-input=false", "-no-color"]));
        for error in DECODE_ERRORS {
            assert!(
                !init.contains(error),
                "{name}: terraform rejected an argument:\n{init}"
            );
        }
        assert!(
            init.contains("Initializing the backend")
                || init.contains("Initializing HCP Terraform"),
            "{name}: {init}"
        );
    }

    // The check catches a wrong argument name.
    let dir = scratch.path().join("bogus");
    let mut doc = stack_with(&S3Backend::new("b", "k").region("eu-west-1").into());
    doc["terraform"]["backend"]["s3"]["bogus_argument"] = json!(true);
    write_json(&dir, &doc);
    let init = text(&tf.run(&dir, &["init", "-input=false", "-no-color"]));
    assert!(
        init.contains("No argument or block type is named \"bogus_argument\""),
        "{init}"
    );
}

#[test]
fn terraform_validates_the_remote_state_of_every_backend() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let Some(tf) = Terraform::find(scratch.path()) else {
        return;
    };
    let mut consumer = Stack::new("consumer");
    for (name, backend) in backends() {
        let Ok(state) = RemoteState::from_backend(&backend) else {
            continue;
        };
        let read = consumer.data(name, state);
        consumer.resource(name, TerraformData::new(read.output::<String>("marker")));
    }
    let doc = consumer.synth().expect("synth");
    let dir = scratch.path().join("consumer");
    write_json(&dir, &doc);
    tf.ok(&dir, &["init", "-input=false", "-no-color"]);
    tf.ok(&dir, &["validate", "-no-color"]);

    // Nested objects (`assume_role`, `endpoints`, blocks such as `exec`): terraform drops an
    // unknown nested attribute silently, so their names are proven another way: a value of no
    // possible type (`[[]]`) at a known name fails validation, at an unknown one it does not.
    let nested_control = {
        let mut doc = doc.clone();
        doc["data"]["terraform_remote_state"]["s3"]["config"]["assume_role"]["bogus_argument"] =
            json!([[]]);
        doc
    };
    write_json(&dir, &nested_control);
    tf.ok(&dir, &["validate", "-no-color"]);
    let mut proven = 0;
    for (name, state) in doc["data"]["terraform_remote_state"]
        .as_object()
        .expect("remote states")
    {
        for (path, pointer) in nested_arguments(&state["config"]) {
            let mut wrong = doc.clone();
            *wrong
                .pointer_mut(&format!(
                    "/data/terraform_remote_state/{name}/config{pointer}"
                ))
                .expect("argument") = json!([[]]);
            write_json(&dir, &wrong);
            let out = tf.run(&dir, &["validate", "-no-color"]);
            assert!(
                !out.status.success(),
                "{name}: terraform ignored `{path}`, so it does not know that argument"
            );
            proven += 1;
        }
    }
    assert!(proven >= 30, "only {proven} nested arguments checked");
}

/// The nested arguments of a backend configuration: (dotted path, JSON pointer below `config`).
fn nested_arguments(config: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (key, value) in config.as_object().into_iter().flatten() {
        let (object, pointer) = match value {
            Value::Object(o) => (o, format!("/{key}")),
            Value::Array(items) => match items.first() {
                Some(Value::Object(o)) => (o, format!("/{key}/0")),
                _ => continue,
            },
            _ => continue,
        };
        for inner in object.keys() {
            out.push((format!("{key}.{inner}"), format!("{pointer}/{inner}")));
        }
    }
    out
}

#[test]
fn the_local_backend_stores_the_state_where_it_says() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let Some(tf) = Terraform::find(scratch.path()) else {
        return;
    };
    let dir = scratch.path().join("local");
    let backend: Backend = LocalBackend::new()
        .path("state/terraform.tfstate")
        .workspace_dir("state/workspaces")
        .into();
    write_json(&dir, &stack_with(&backend));
    tf.ok(&dir, &["init", "-input=false", "-no-color"]);
    tf.ok(
        &dir,
        &["apply", "-auto-approve", "-input=false", "-no-color"],
    );
    let state: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("state/terraform.tfstate")).expect("state file"),
    )
    .expect("state json");
    assert_eq!(state["resources"][0]["type"], "terraform_data");
    tf.ok(&dir, &["workspace", "new", "-no-color", "second"]);
    assert!(dir.join("state/workspaces/second").is_dir());
}
