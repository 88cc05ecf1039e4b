//! The security analysis on hand-made AWS plan documents in `terraform show -json`'s
//! documented shape: every broadening case is found; narrowing and reordering-only changes are
//! never flagged as broadening.

use std::path::Path;

use callflow_plan::{
    Direction, GatePolicy, PlanDocument, PlanSummary, RequireApproval, SecurityAspect,
    SecurityChange,
};
use serde_json::{Value, json};

/// A one-change plan document, as `terraform show -json` writes it.
fn plan_with(changes: Vec<Value>, prior_data: Vec<Value>) -> PlanDocument {
    let doc = json!({
        "format_version": "1.2",
        "terraform_version": "1.11.4",
        "resource_changes": changes,
        "prior_state": {"format_version": "1.0", "terraform_version": "1.11.4",
                        "values": {"root_module": {"resources": prior_data}}},
    });
    PlanDocument::from_json(&doc.to_string()).expect("valid plan document")
}

fn rc(address: &str, actions: &[&str], before: Value, after: Value) -> Value {
    let (mode, rest) = match address.strip_prefix("data.") {
        Some(rest) => ("data", rest),
        None => ("managed", address),
    };
    let (kind, name) = rest.split_once('.').expect("type.name");
    json!({
        "address": address, "mode": mode, "type": kind, "name": name,
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "change": {"actions": actions, "before": before, "after": after,
                   "after_unknown": {}, "before_sensitive": {}, "after_sensitive": {}}
    })
}

fn analyze(address: &str, actions: &[&str], before: Value, after: Value) -> Vec<SecurityChange> {
    PlanSummary::from_document(&plan_with(
        vec![rc(address, actions, before, after)],
        vec![],
    ))
    .security
}

fn update(address: &str, before: Value, after: Value) -> Vec<SecurityChange> {
    analyze(address, &["update"], before, after)
}

fn policy(statements: Value) -> String {
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

fn role_policy(statements: Value) -> Value {
    json!({"name": "read", "role": "callflow-prod-event-retriever", "policy": policy(statements)})
}

fn broadening(changes: &[SecurityChange]) -> Vec<&SecurityChange> {
    changes
        .iter()
        .filter(|c| c.direction == Direction::Broadening)
        .collect()
}

#[track_caller]
fn assert_broadening(changes: &[SecurityChange], detail_part: &str) {
    let found = broadening(changes);
    assert!(
        found.iter().any(|c| c.detail.contains(detail_part)),
        "no broadening change mentioning {detail_part:?} in {changes:#?}"
    );
}

#[track_caller]
fn assert_not_broadening(changes: &[SecurityChange]) {
    assert!(
        broadening(changes).is_empty(),
        "unexpected broadening: {changes:#?}"
    );
}

const EVENTS: &str = "arn:aws:s3:::callflow-events/events/*";

// ---------------------------------------------------------------- broadening

#[test]
fn a_role_policy_widened_to_every_action_on_every_resource() {
    let changes = update(
        "aws_iam_role_policy.read",
        role_policy(json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": EVENTS}])),
        role_policy(json!([{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}])),
    );
    assert_broadening(&changes, "newly grants s3:* on *");
    let added = broadening(&changes)[0];
    assert_eq!(added.aspect, SecurityAspect::IdentityPolicy);
    assert_eq!(added.location, "policy");
    let view = added.statement.as_ref().expect("statement");
    assert_eq!(
        (view.actions.as_slice(), view.resources.as_slice()),
        (&["s3:*".to_owned()][..], &["*".to_owned()][..])
    );
    // The old statement is reported as gone, but still granted by the wider one.
    assert!(changes.iter().any(|c| c.direction == Direction::Narrowing
        && c.detail == "still granted by the new statements"));
}

#[test]
fn a_new_allow_statement_and_a_wider_resource_pattern() {
    let before = json!([{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [EVENTS]}]);
    let new_statement = json!([
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [EVENTS]},
        {"Effect": "Allow", "Action": ["s3:DeleteObject"], "Resource": [EVENTS]}
    ]);
    assert_broadening(
        &update(
            "aws_iam_policy.p",
            json!({"policy": policy(before.clone())}),
            json!({"policy": policy(new_statement)}),
        ),
        "newly grants s3:DeleteObject on arn:aws:s3:::callflow-events/events/*",
    );
    let wider = json!([{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::callflow-events/*"]}]);
    assert_broadening(
        &update(
            "aws_iam_policy.p",
            json!({"policy": policy(before)}),
            json!({"policy": policy(wider)}),
        ),
        "newly grants s3:GetObject on arn:aws:s3:::callflow-events/*",
    );
}

fn tls_deny() -> Value {
    json!({"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": {"AWS": ["*"]},
           "Action": ["s3:*"], "Resource": ["arn:aws:s3:::callflow-events", "arn:aws:s3:::callflow-events/*"],
           "Condition": {"Bool": {"aws:SecureTransport": ["false"]}}})
}

#[test]
fn a_bucket_policy_that_drops_its_secure_transport_deny() {
    let reader = json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:role/reader"},
                        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::callflow-events/*"});
    let changes = update(
        "aws_s3_bucket_policy.events",
        json!({"bucket": "callflow-events", "policy": policy(json!([tls_deny(), reader.clone()]))}),
        json!({"bucket": "callflow-events", "policy": policy(json!([reader]))}),
    );
    assert_broadening(&changes, "no longer refused");
    assert_broadening(&changes, "aws:securetransport");
    assert_eq!(
        broadening(&changes)[0].aspect,
        SecurityAspect::ResourcePolicy
    );
    // Deleting the whole bucket policy removes the deny too.
    let deleted = analyze(
        "aws_s3_bucket_policy.events",
        &["delete"],
        json!({"bucket": "callflow-events", "policy": policy(json!([tls_deny()]))}),
        Value::Null,
    );
    assert_broadening(&deleted, "no longer refused");
}

#[test]
fn a_trust_policy_opened_to_anyone_or_without_its_condition() {
    let lambda = json!({"Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com"]},
        "Action": ["sts:AssumeRole"],
        "Condition": {"StringEquals": {"aws:SourceAccount": ["123456789012"]}}});
    let role = |statements: Value| json!({"name": "callflow-prod-event-storer", "assume_role_policy": policy(statements)});
    let open = json!({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"});
    let changes = update(
        "aws_iam_role.event_storer",
        role(json!([lambda.clone()])),
        role(json!([lambda.clone(), open])),
    );
    assert_broadening(&changes, "newly grants sts:AssumeRole to *");
    assert_eq!(broadening(&changes)[0].aspect, SecurityAspect::TrustPolicy);
    let mut no_condition = lambda.clone();
    no_condition
        .as_object_mut()
        .expect("object")
        .remove("Condition");
    assert_broadening(
        &update(
            "aws_iam_role.event_storer",
            role(json!([lambda])),
            role(json!([no_condition])),
        ),
        "newly grants sts:AssumeRole to Service:lambda.amazonaws.com",
    );
}

#[test]
fn an_inline_role_policy_widened() {
    let role = |action: &str| {
        json!({"name": "r", "assume_role_policy": policy(json!([])),
        "inline_policy": [{"name": "read", "policy": policy(json!([{"Effect": "Allow", "Action": action, "Resource": EVENTS}]))}]})
    };
    let changes = update("aws_iam_role.r", role("s3:GetObject"), role("s3:Get*"));
    assert_broadening(&changes, "newly grants s3:Get*");
    assert_eq!(broadening(&changes)[0].location, "inline_policy[\"read\"]");
}

#[test]
fn a_kms_key_policy_granting_another_account() {
    let key = |principals: Value| {
        json!({"enable_key_rotation": true, "policy": policy(json!([
        {"Effect": "Allow", "Principal": {"AWS": principals}, "Action": "kms:*", "Resource": "*"}]))})
    };
    let changes = update(
        "aws_kms_key.events",
        key(json!("arn:aws:iam::123456789012:root")),
        key(json!(["arn:aws:iam::123456789012:root", "999999999999"])),
    );
    assert_broadening(&changes, "to AWS:arn:aws:iam::999999999999:root");
}

#[test]
fn public_access_block_flags_turned_off_or_removed() {
    let block = |flag: bool| {
        json!({"bucket": "callflow-events", "block_public_acls": true,
        "block_public_policy": flag, "ignore_public_acls": true, "restrict_public_buckets": true})
    };
    let changes = update(
        "aws_s3_bucket_public_access_block.events",
        block(true),
        block(false),
    );
    assert_broadening(&changes, "block_public_policy turned off");
    assert_eq!(changes.len(), 1);
    let removed = analyze(
        "aws_s3_bucket_public_access_block.events",
        &["delete"],
        block(true),
        Value::Null,
    );
    assert_eq!(broadening(&removed).len(), 4);
}

fn permission(principal: &str, source_arn: Option<&str>) -> Value {
    json!({"action": "lambda:InvokeFunction", "function_name": "callflow-prod-event-storer",
           "principal": principal, "source_arn": source_arn, "statement_id": "AllowApiGateway"})
}

#[test]
fn lambda_permissions_opened_to_another_principal_or_any_source() {
    let api = "arn:aws:execute-api:eu-west-1:123456789012:abc123/*/POST/events";
    let replaced = analyze(
        "aws_lambda_permission.store",
        &["delete", "create"],
        permission("apigateway.amazonaws.com", Some(api)),
        permission("events.amazonaws.com", Some(api)),
    );
    assert_broadening(
        &replaced,
        "opened to another principal: apigateway.amazonaws.com -> events.amazonaws.com",
    );
    let any_source = analyze(
        "aws_lambda_permission.store",
        &["delete", "create"],
        permission("apigateway.amazonaws.com", Some(api)),
        permission("apigateway.amazonaws.com", None),
    );
    assert_broadening(&any_source, "source_arn restriction removed");
    let wider_source = analyze(
        "aws_lambda_permission.store",
        &["delete", "create"],
        permission("apigateway.amazonaws.com", Some(api)),
        permission(
            "apigateway.amazonaws.com",
            Some("arn:aws:execute-api:eu-west-1:123456789012:abc123/*"),
        ),
    );
    assert_broadening(&wider_source, "source_arn");
    let created = analyze(
        "aws_lambda_permission.store",
        &["create"],
        Value::Null,
        permission("*", None),
    );
    assert_broadening(
        &created,
        "new permission: * may lambda:InvokeFunction from any source",
    );
}

#[test]
fn an_api_method_whose_authorizer_is_removed() {
    let method = |auth: &str, authorizer: Option<&str>| {
        json!({"http_method": "POST",
        "authorization": auth, "authorizer_id": authorizer, "api_key_required": true})
    };
    let changes = update(
        "aws_api_gateway_method.post_events",
        method("CUSTOM", Some("abc123")),
        method("NONE", None),
    );
    assert_broadening(&changes, "authorization CUSTOM -> NONE");
    assert_broadening(&changes, "authorizer abc123 removed");
    assert_eq!(
        broadening(&changes)[0].aspect,
        SecurityAspect::ApiAuthorization
    );
}

/// Our stack's REST API body shape: a Lambda TOKEN authorizer scheme plus an API key scheme,
/// required together on every route.
fn api_body(post_security: Value, authorizer: bool) -> String {
    let mut bearer = json!({"type": "apiKey", "name": "Authorization", "in": "header",
        "x-amazon-apigateway-authtype": "custom"});
    if authorizer {
        bearer["x-amazon-apigateway-authorizer"] = json!({"type": "token",
            "authorizerUri": "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:authorizer/invocations",
            "identitySource": "method.request.header.Authorization"});
    }
    json!({"openapi": "3.0.3", "security": [{"bearerAuth": []}],
        "paths": {"/events": {
            "post": {"operationId": "storeEvent", "security": post_security},
            "get": {"operationId": "queryEvents", "security": [{"bearerAuth": [], "api_key": []}]}}},
        "components": {"securitySchemes": {"bearerAuth": bearer,
            "api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"}}}})
    .to_string()
}

#[test]
fn a_rest_api_route_or_scheme_that_loses_its_authorizer() {
    let api = |body: String| json!({"name": "callflow-prod-api", "body": body});
    let both = json!([{"bearerAuth": [], "api_key": []}]);
    let changes = update(
        "aws_api_gateway_rest_api.api",
        api(api_body(both.clone(), true)),
        api(api_body(json!([]), true)),
    );
    assert_broadening(&changes, "security api_key + bearerAuth -> none");
    assert_eq!(broadening(&changes)[0].location, "POST /events");
    let dropped_key = update(
        "aws_api_gateway_rest_api.api",
        api(api_body(both.clone(), true)),
        api(api_body(json!([{"bearerAuth": []}]), true)),
    );
    assert_broadening(&dropped_key, "security api_key + bearerAuth -> bearerAuth");
    let no_authorizer = update(
        "aws_api_gateway_rest_api.api",
        api(api_body(both.clone(), true)),
        api(api_body(both, false)),
    );
    assert_broadening(
        &no_authorizer,
        "the Lambda authorizer of scheme bearerAuth is removed",
    );
}

#[test]
fn bucket_encryption_removed_or_weakened() {
    let sse = |algorithm: &str, key: Option<&str>| {
        json!({"bucket": "callflow-events", "rule": [
        {"apply_server_side_encryption_by_default": [{"sse_algorithm": algorithm, "kms_master_key_id": key}],
         "bucket_key_enabled": true}]})
    };
    let key = "arn:aws:kms:eu-west-1:123456789012:key/0a1b";
    let weaker = update(
        "aws_s3_bucket_server_side_encryption_configuration.events",
        sse("aws:kms", Some(key)),
        sse("AES256", None),
    );
    assert_broadening(
        &weaker,
        "default encryption aws:kms with key arn:aws:kms:eu-west-1:123456789012:key/0a1b -> AES256",
    );
    let removed = analyze(
        "aws_s3_bucket_server_side_encryption_configuration.events",
        &["delete"],
        sse("aws:kms", Some(key)),
        Value::Null,
    );
    assert_broadening(&removed, "is removed");
    let rotation = update(
        "aws_kms_key.events",
        json!({"enable_key_rotation": true}),
        json!({"enable_key_rotation": false}),
    );
    assert_broadening(&rotation, "automatic key rotation turned off");
}

#[test]
fn a_policy_known_only_after_apply_cannot_be_shown_safe() {
    let mut change = rc(
        "aws_iam_role_policy.read",
        &["update"],
        role_policy(json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": EVENTS}])),
        json!({"name": "read", "role": "callflow-prod-event-retriever"}),
    );
    change["change"]["after_unknown"] = json!({"policy": true});
    let security = PlanSummary::from_document(&plan_with(vec![change], vec![])).security;
    assert_broadening(&security, "known only after apply");
}

#[test]
fn a_managed_policy_attached() {
    let changes = analyze(
        "aws_iam_role_policy_attachment.admin",
        &["create"],
        Value::Null,
        json!({"role": "r", "policy_arn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
    );
    assert_broadening(
        &changes,
        "attaches managed policy arn:aws:iam::aws:policy/AdministratorAccess",
    );
}

fn document_data(actions: &[&str]) -> Value {
    json!({"id": "1", "json": null, "statement": [{"sid": "", "effect": "Allow", "actions": actions,
        "resources": [EVENTS], "not_actions": [], "not_resources": [], "principals": [], "not_principals": [], "condition": []}]})
}

#[test]
fn a_policy_document_data_source_read_during_apply_compares_with_the_prior_state() {
    let address = "data.aws_iam_policy_document.read";
    let prior = json!({"address": address, "mode": "data", "type": "aws_iam_policy_document",
        "name": "read", "provider_name": "registry.terraform.io/hashicorp/aws",
        "schema_version": 0, "values": document_data(&["s3:GetObject"]), "sensitive_values": {}});
    let mut read = rc(
        address,
        &["read"],
        Value::Null,
        document_data(&["s3:GetObject", "s3:PutObject"]),
    );
    read["change"]["after_unknown"] = json!({"id": true, "json": true});
    read["action_reason"] = json!("read_because_config_unknown");
    let security =
        PlanSummary::from_document(&plan_with(vec![read.clone()], vec![prior.clone()])).security;
    assert_broadening(&security, "newly grants s3:PutObject");
    // The same statements, reordered: nothing.
    let mut same = rc(
        address,
        &["read"],
        Value::Null,
        document_data(&["s3:GetObject"]),
    );
    same["change"]["after_unknown"] = json!({"id": true, "json": true});
    assert!(
        PlanSummary::from_document(&plan_with(vec![same], vec![prior]))
            .security
            .is_empty()
    );
}

// ------------------------------------------------- narrowing and reordering

#[test]
fn reordered_statements_and_actions_and_single_strings_are_no_change() {
    let before = role_policy(json!([
        {"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": [EVENTS, "arn:aws:s3:::callflow-events"]},
        tls_deny()
    ]));
    let after = role_policy(json!([
        {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": ["arn:aws:s3:::callflow-events/*", "arn:aws:s3:::callflow-events"],
         "Condition": {"Bool": {"aws:securetransport": "false"}}},
        {"Sid": "ReadRenamed", "Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetObject"], "Resource": ["arn:aws:s3:::callflow-events", EVENTS]}
    ]));
    assert!(update("aws_iam_role_policy.read", before, after).is_empty());
}

#[test]
fn a_statement_split_in_two_is_no_change() {
    let before = role_policy(
        json!([{"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": EVENTS}]),
    );
    let after = role_policy(json!([
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": EVENTS},
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": EVENTS}]));
    assert!(update("aws_iam_role_policy.read", before, after).is_empty());
}

#[test]
fn narrowed_policies_are_not_broadening() {
    let wide = role_policy(json!([{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]));
    let narrow =
        role_policy(json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": EVENTS}]));
    let changes = update("aws_iam_role_policy.read", wide.clone(), narrow);
    assert!(!changes.is_empty());
    assert_not_broadening(&changes);
    let with_condition = role_policy(
        json!([{"Effect": "Allow", "Action": "s3:*", "Resource": "*",
        "Condition": {"Bool": {"aws:SecureTransport": "true"}}}]),
    );
    assert_not_broadening(&update(
        "aws_iam_role_policy.read",
        wide.clone(),
        with_condition,
    ));
    let with_deny = role_policy(
        json!([{"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}]),
    );
    assert_not_broadening(&update("aws_iam_role_policy.read", wide.clone(), with_deny));
    // A deny that loses its condition refuses more, not less.
    let unconditional = json!({"Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": ["arn:aws:s3:::callflow-events", "arn:aws:s3:::callflow-events/*"]});
    let changes = update(
        "aws_s3_bucket_policy.events",
        json!({"policy": policy(json!([tls_deny()]))}),
        json!({"policy": policy(json!([unconditional]))}),
    );
    assert!(!changes.is_empty());
    assert_not_broadening(&changes);
    let removed = analyze("aws_iam_role_policy.read", &["delete"], wide, Value::Null);
    assert_not_broadening(&removed);
}

#[test]
fn tighter_settings_are_not_broadening() {
    let block = |flag: bool| {
        json!({"block_public_acls": flag, "block_public_policy": flag,
        "ignore_public_acls": flag, "restrict_public_buckets": flag})
    };
    let on = update(
        "aws_s3_bucket_public_access_block.events",
        block(false),
        block(true),
    );
    assert_eq!(on.len(), 4);
    assert_not_broadening(&on);
    let api = "arn:aws:execute-api:eu-west-1:123456789012:abc123/*/GET/events/*";
    let narrower = analyze(
        "aws_lambda_permission.get",
        &["delete", "create"],
        permission("apigateway.amazonaws.com", Some(api)),
        permission(
            "apigateway.amazonaws.com",
            Some("arn:aws:execute-api:eu-west-1:123456789012:abc123/v1/GET/events/*"),
        ),
    );
    assert!(!narrower.is_empty());
    assert_not_broadening(&narrower);
    assert_not_broadening(&analyze(
        "aws_lambda_permission.get",
        &["delete"],
        permission("apigateway.amazonaws.com", Some(api)),
        Value::Null,
    ));
    let method = |auth: &str| json!({"authorization": auth, "authorizer_id": if auth == "NONE" { Value::Null } else { json!("abc") }});
    assert_not_broadening(&update(
        "aws_api_gateway_method.m",
        method("NONE"),
        method("CUSTOM"),
    ));
    let sse = |algorithm: &str| json!({"rule": [{"apply_server_side_encryption_by_default": [{"sse_algorithm": algorithm, "kms_master_key_id": ""}]}]});
    assert_not_broadening(&update(
        "aws_s3_bucket_server_side_encryption_configuration.e",
        sse("AES256"),
        sse("aws:kms"),
    ));
    let api_body = |security: Value| json!({"body": api_body(security, true)});
    assert_not_broadening(&update(
        "aws_api_gateway_rest_api.api",
        api_body(json!([{"bearerAuth": []}])),
        api_body(json!([{"bearerAuth": [], "api_key": []}])),
    ));
}

#[test]
fn reordered_api_body_and_unchanged_authorizer_are_no_change() {
    let body = api_body(json!([{"bearerAuth": [], "api_key": []}]), true);
    let reordered = api_body(json!([{"api_key": [], "bearerAuth": []}]), true);
    assert!(
        update(
            "aws_api_gateway_rest_api.api",
            json!({"body": body}),
            json!({"body": reordered})
        )
        .is_empty()
    );
}

// ------------------------------------------------------------------- gates

fn fixture(name: &str) -> PlanSummary {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/aws")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("fixture");
    PlanSummary::from_document(&PlanDocument::from_json(&text).expect("valid plan"))
}

#[test]
fn the_widened_role_policy_fixture_is_blocked_and_the_reordered_one_passes() {
    let widened = fixture("role-policy-widened.plan.json");
    assert_broadening(&widened.security, "newly grants s3:* on *");
    let policy = GatePolicy::default();
    assert_eq!(policy.require_approval, RequireApproval::Broadening);
    let blocked = widened.check(&policy).expect_err("broadening is stopped");
    assert_eq!(blocked.exit_code(), 4);
    assert!(
        widened
            .check(&GatePolicy {
                allow_broadening: true,
                ..policy
            })
            .is_ok()
    );
    assert!(
        widened
            .check(&GatePolicy {
                require_approval: RequireApproval::Never,
                ..policy
            })
            .is_ok()
    );

    let reordered = fixture("role-policy-reordered.plan.json");
    assert!(reordered.security.is_empty(), "{:#?}", reordered.security);
    assert!(
        reordered
            .check(&GatePolicy {
                require_approval: RequireApproval::AnyChange,
                ..policy
            })
            .is_ok()
    );
}

#[test]
fn any_change_stops_narrowing_with_its_own_exit_code() {
    let changes = update(
        "aws_iam_role_policy.read",
        role_policy(json!([{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}])),
        role_policy(json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": EVENTS}])),
    );
    let mut summary = fixture("role-policy-reordered.plan.json");
    summary.security = changes;
    assert!(summary.check(&GatePolicy::default()).is_ok());
    let blocked = summary
        .check(&GatePolicy {
            require_approval: RequireApproval::AnyChange,
            ..GatePolicy::default()
        })
        .expect_err("any-change stops every security change");
    assert_eq!(blocked.exit_code(), 5);
}

#[test]
fn security_changes_render_first_in_markdown() {
    let widened = fixture("role-policy-widened.plan.json");
    let markdown = widened.render_markdown();
    let security = markdown
        .find("#### Security changes")
        .expect("security section");
    let update = markdown.find("#### Update").expect("update section");
    assert!(security < update);
    insta::assert_snapshot!("role_policy_widened.md", markdown);
    insta::assert_snapshot!("role_policy_widened.human", widened.render_human(false));
}

#[test]
fn security_group_rules_opened_and_closed() {
    let group = |ingress: Value| json!({"name": "api", "ingress": ingress, "egress": []});
    let https_vpc = json!({"from_port": 443, "to_port": 443, "protocol": "tcp",
        "cidr_blocks": ["10.0.0.0/16"], "ipv6_cidr_blocks": [], "security_groups": [], "prefix_list_ids": [], "self": false});
    let ssh_world = json!({"from_port": 22, "to_port": 22, "protocol": "tcp",
        "cidr_blocks": ["0.0.0.0/0"], "ipv6_cidr_blocks": [], "security_groups": [], "prefix_list_ids": [], "self": false});
    let opened = update(
        "aws_security_group.api",
        group(json!([https_vpc.clone()])),
        group(json!([ssh_world, https_vpc.clone()])),
    );
    assert_broadening(&opened, "opens ingress tcp 22 from 0.0.0.0/0 (anywhere)");
    assert_eq!(opened.len(), 1);
    assert_eq!(opened[0].aspect, SecurityAspect::NetworkRule);
    // Rules listed in another order are the same rules.
    let mut other = https_vpc.clone();
    other["from_port"] = json!(8443);
    other["to_port"] = json!(8443);
    let reordered = update(
        "aws_security_group.api",
        group(json!([https_vpc.clone(), other.clone()])),
        group(json!([other, https_vpc.clone()])),
    );
    assert!(reordered.is_empty(), "{reordered:#?}");
    let closed = update(
        "aws_security_group.api",
        group(json!([https_vpc])),
        group(json!([])),
    );
    assert!(!closed.is_empty());
    assert_not_broadening(&closed);
    let rule = analyze(
        "aws_vpc_security_group_ingress_rule.db",
        &["create"],
        Value::Null,
        json!({"ip_protocol": "tcp", "from_port": 5432, "to_port": 5432, "cidr_ipv4": "0.0.0.0/0"}),
    );
    assert_broadening(&rule, "opens ingress tcp 5432 from 0.0.0.0/0");
}

#[test]
fn an_unset_policy_reported_as_an_empty_string_is_no_change() {
    // The AWS provider plans a role's computed `inline_policy` as one block with empty strings.
    let trust = policy(
        json!([{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]),
    );
    let before = json!({"name": "r", "assume_role_policy": trust, "inline_policy": []});
    let after = json!({"name": "r", "assume_role_policy": trust, "inline_policy": [{"name": "", "policy": ""}]});
    assert!(update("aws_iam_role.r", before, after).is_empty());
}
