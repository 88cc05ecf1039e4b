//! Who may call what: Lambda permissions, API Gateway methods and the OpenAPI body of a REST
//! API.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::pattern::covers;
use super::{Attr, ChangeSign, Direction, ObjectSide, SecurityAspect, Sink};

/// `aws_lambda_permission`: a new permission is a new grant; a changed one is broadening when
/// the principal changes or any of the source restrictions is dropped or widened.
pub(super) fn lambda_permission(
    sink: &mut Sink<'_>,
    before: ObjectSide<'_>,
    after: ObjectSide<'_>,
) {
    let describe = |side: ObjectSide<'_>| {
        let principal = side.str_attr("principal").unwrap_or("(known after apply)");
        let action = side.str_attr("action").unwrap_or("lambda:InvokeFunction");
        let source = side
            .str_attr("source_arn")
            .map(|arn| format!("from {arn}"))
            .or_else(|| {
                side.str_attr("source_account")
                    .map(|a| format!("from account {a}"))
            })
            .or_else(|| {
                side.str_attr("principal_org_id")
                    .map(|o| format!("from organization {o}"))
            })
            .unwrap_or_else(|| "from any source".to_owned());
        format!("{principal} may {action} {source}")
    };
    match (before.exists(), after.exists()) {
        (false, true) => {
            sink.push(
                SecurityAspect::LambdaPermission,
                "principal",
                ChangeSign::Added,
                Direction::Broadening,
                None,
                format!("new permission: {}", describe(after)),
            );
            return;
        }
        (true, false) => {
            sink.push(
                SecurityAspect::LambdaPermission,
                "principal",
                ChangeSign::Removed,
                Direction::Narrowing,
                None,
                format!("permission removed: {}", describe(before)),
            );
            return;
        }
        (false, false) => return,
        (true, true) => {}
    }
    let mut push = |location: &str, direction: Direction, detail: String| {
        sink.push(
            SecurityAspect::LambdaPermission,
            location,
            ChangeSign::Modified,
            direction,
            None,
            detail,
        );
    };
    let opened = |old: Option<&str>, new: Option<&str>| match (old, new) {
        (Some(_), None) => Some(Direction::Broadening),
        (None, Some(_)) => Some(Direction::Narrowing),
        (Some(o), Some(n)) if o != n => Some(if covers(o, n, false) {
            Direction::Narrowing
        } else {
            Direction::Broadening
        }),
        _ => None,
    };
    let unknown = |key: &str| matches!(after.attr(key), Attr::Unknown);
    let (old_p, new_p) = (before.str_attr("principal"), after.str_attr("principal"));
    if old_p != new_p && !unknown("principal") {
        push(
            "principal",
            Direction::Broadening,
            format!(
                "opened to another principal: {} -> {}",
                old_p.unwrap_or("(none)"),
                new_p.unwrap_or("(none)")
            ),
        );
    }
    for key in [
        "source_arn",
        "source_account",
        "principal_org_id",
        "event_source_token",
    ] {
        if unknown(key) {
            continue;
        }
        let (old, new) = (before.str_attr(key), after.str_attr(key));
        if let Some(direction) = opened(old, new) {
            let detail = match new {
                None => format!("{key} restriction removed (was {})", old.unwrap_or("")),
                Some(n) => format!("{key}: {} -> {n}", old.unwrap_or("(none)")),
            };
            push(key, direction, detail);
        }
    }
    let (old_a, new_a) = (before.str_attr("action"), after.str_attr("action"));
    if old_a != new_a && !unknown("action") {
        let direction = match (old_a, new_a) {
            (Some(o), Some(n)) if covers(o, n, true) => Direction::Narrowing,
            _ => Direction::Broadening,
        };
        push(
            "action",
            direction,
            format!(
                "action {} -> {}",
                old_a.unwrap_or("(none)"),
                new_a.unwrap_or("(none)")
            ),
        );
    }
    let (old_u, new_u) = (
        before.str_attr("function_url_auth_type"),
        after.str_attr("function_url_auth_type"),
    );
    if old_u != new_u && !unknown("function_url_auth_type") {
        let direction = if new_u == Some("NONE") {
            Direction::Broadening
        } else {
            Direction::Narrowing
        };
        push(
            "function_url_auth_type",
            direction,
            format!(
                "function URL auth {} -> {}",
                old_u.unwrap_or("(none)"),
                new_u.unwrap_or("(none)")
            ),
        );
    }
}

/// `aws_api_gateway_method`: authorization type, authorizer, scopes, API key.
pub(super) fn method(sink: &mut Sink<'_>, before: ObjectSide<'_>, after: ObjectSide<'_>) {
    let auth = |side: ObjectSide<'_>| side.str_attr("authorization").unwrap_or("NONE").to_owned();
    if !after.exists() || matches!(after.attr("authorization"), Attr::Unknown) {
        return;
    }
    let new_auth = auth(after);
    if !before.exists() {
        if new_auth == "NONE" {
            sink.push(
                SecurityAspect::ApiAuthorization,
                "authorization",
                ChangeSign::Added,
                Direction::Broadening,
                None,
                "new method open to anyone (authorization NONE)".to_owned(),
            );
        }
        return;
    }
    let mut push = |location: &str, direction: Direction, detail: String| {
        sink.push(
            SecurityAspect::ApiAuthorization,
            location,
            ChangeSign::Modified,
            direction,
            None,
            detail,
        );
    };
    let old_auth = auth(before);
    if old_auth != new_auth {
        let direction = if new_auth == "NONE" {
            Direction::Broadening
        } else if old_auth == "NONE" {
            Direction::Narrowing
        } else {
            Direction::Changed
        };
        push(
            "authorization",
            direction,
            format!("authorization {old_auth} -> {new_auth}"),
        );
    }
    let (old_id, new_id) = (
        before.str_attr("authorizer_id"),
        after.str_attr("authorizer_id"),
    );
    if old_id.is_some() && new_id.is_none() && !matches!(after.attr("authorizer_id"), Attr::Unknown)
    {
        push(
            "authorizer_id",
            Direction::Broadening,
            format!("authorizer {} removed", old_id.unwrap_or("")),
        );
    } else if old_id.is_some() && new_id.is_some() && old_id != new_id {
        push(
            "authorizer_id",
            Direction::Changed,
            format!(
                "authorizer {} -> {}",
                old_id.unwrap_or(""),
                new_id.unwrap_or("")
            ),
        );
    }
    let scopes = |side: ObjectSide<'_>| -> BTreeSet<String> {
        match side.attr("authorization_scopes") {
            Attr::Known(v) => super::strings_of(v).into_iter().collect(),
            _ => BTreeSet::new(),
        }
    };
    let (old_s, new_s) = (scopes(before), scopes(after));
    if old_s != new_s && !matches!(after.attr("authorization_scopes"), Attr::Unknown) {
        // Any one listed scope admits the caller: more scopes or none at all admit more.
        let direction = if new_s.is_empty() || !new_s.is_subset(&old_s) {
            Direction::Broadening
        } else {
            Direction::Narrowing
        };
        let join = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join(" ");
        push(
            "authorization_scopes",
            direction,
            format!("scopes [{}] -> [{}]", join(&old_s), join(&new_s)),
        );
    }
    if before.bool_attr("api_key_required") == Some(true)
        && after.bool_attr("api_key_required") != Some(true)
    {
        push(
            "api_key_required",
            Direction::Broadening,
            "API key no longer required".to_owned(),
        );
    } else if before.bool_attr("api_key_required") != Some(true)
        && after.bool_attr("api_key_required") == Some(true)
    {
        push(
            "api_key_required",
            Direction::Narrowing,
            "API key now required".to_owned(),
        );
    }
}

const METHODS: [&str; 8] = [
    "get",
    "put",
    "post",
    "delete",
    "options",
    "head",
    "patch",
    "x-amazon-apigateway-any-method",
];

/// The security of one OpenAPI document: per route (`POST /events`), the alternatives of
/// scheme sets, and per scheme its authorizer settings.
#[derive(Default)]
struct ApiSecurity {
    routes: BTreeMap<String, BTreeSet<BTreeSet<String>>>,
    schemes: BTreeMap<String, Value>,
}

fn requirements(value: &Value) -> BTreeSet<BTreeSet<String>> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .map(|alternative| alternative.keys().cloned().collect())
        .collect()
}

fn api_security(body: &str) -> Option<ApiSecurity> {
    let doc: Value = serde_json::from_str(body).ok()?;
    let global = doc.get("security").map(requirements).unwrap_or_default();
    let mut out = ApiSecurity::default();
    for (path, item) in doc.get("paths")?.as_object()? {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let security = op
                .get("security")
                .map(requirements)
                .unwrap_or_else(|| global.clone());
            let name = if method == "x-amazon-apigateway-any-method" {
                "ANY"
            } else {
                method
            };
            out.routes
                .insert(format!("{} {path}", name.to_ascii_uppercase()), security);
        }
    }
    let schemes = doc
        .pointer("/components/securitySchemes")
        .or_else(|| doc.get("securityDefinitions"))
        .and_then(Value::as_object);
    for (name, scheme) in schemes.into_iter().flatten() {
        out.schemes.insert(name.clone(), scheme.clone());
    }
    Some(out)
}

/// Whether every alternative of `new` demands at least one whole alternative of `old`.
fn at_least_as_strict(old: &BTreeSet<BTreeSet<String>>, new: &BTreeSet<BTreeSet<String>>) -> bool {
    if old.is_empty() || old.iter().any(BTreeSet::is_empty) {
        return true;
    }
    !new.is_empty() && new.iter().all(|n| old.iter().any(|o| o.is_subset(n)))
}

fn show(reqs: &BTreeSet<BTreeSet<String>>) -> String {
    if reqs.is_empty() || reqs.iter().any(BTreeSet::is_empty) {
        return "none".to_owned();
    }
    reqs.iter()
        .map(|set| set.iter().cloned().collect::<Vec<_>>().join(" + "))
        .collect::<Vec<_>>()
        .join(" or ")
}

/// `aws_api_gateway_rest_api.body` (OpenAPI JSON): routes that lose or weaken their security
/// requirements, new routes without any, and schemes that lose their Lambda authorizer.
pub(super) fn rest_api_body(sink: &mut Sink<'_>, before: Attr<'_>, after: Attr<'_>) {
    let text = |attr: Attr<'_>| match attr {
        Attr::Known(Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    let Some(new_text) = text(after) else { return };
    let new = match api_security(&new_text) {
        Some(s) => s,
        None => return,
    };
    let old = text(before)
        .and_then(|t| api_security(&t))
        .unwrap_or_default();
    let had_body = text(before).is_some();
    let mut push = |location: &str, sign: ChangeSign, direction: Direction, detail: String| {
        sink.push(
            SecurityAspect::ApiAuthorization,
            location,
            sign,
            direction,
            None,
            detail,
        );
    };
    for (route, reqs) in &new.routes {
        let open = reqs.is_empty() || reqs.iter().any(BTreeSet::is_empty);
        match old.routes.get(route) {
            None if open => push(
                route,
                ChangeSign::Added,
                Direction::Broadening,
                "new route without any security requirement".to_owned(),
            ),
            None => {}
            Some(prev) if prev == reqs => {}
            Some(prev) => {
                let direction = if !at_least_as_strict(prev, reqs) {
                    Direction::Broadening
                } else {
                    Direction::Narrowing
                };
                push(
                    route,
                    ChangeSign::Modified,
                    direction,
                    format!("security {} -> {}", show(prev), show(reqs)),
                );
            }
        }
    }
    if had_body {
        for (name, scheme) in &old.schemes {
            let authorizer = |s: &Value| s.get("x-amazon-apigateway-authorizer").cloned();
            let location = format!("securitySchemes.{name}");
            match new.schemes.get(name) {
                None => push(
                    &location,
                    ChangeSign::Removed,
                    Direction::Broadening,
                    format!("security scheme {name} removed"),
                ),
                Some(now) if authorizer(scheme).is_some() && authorizer(now).is_none() => push(
                    &location,
                    ChangeSign::Modified,
                    Direction::Broadening,
                    format!("the Lambda authorizer of scheme {name} is removed"),
                ),
                Some(now) if authorizer(scheme) != authorizer(now) => push(
                    &location,
                    ChangeSign::Modified,
                    Direction::Changed,
                    format!("the authorizer of scheme {name} changes"),
                ),
                Some(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reqs(alternatives: &[&[&str]]) -> BTreeSet<BTreeSet<String>> {
        alternatives
            .iter()
            .map(|a| a.iter().map(|s| (*s).to_owned()).collect())
            .collect()
    }

    #[test]
    fn dropping_a_scheme_or_adding_an_alternative_is_weaker() {
        let both = reqs(&[&["bearerAuth", "api_key"]]);
        assert!(at_least_as_strict(&both, &both));
        assert!(!at_least_as_strict(&both, &reqs(&[&["bearerAuth"]])));
        assert!(!at_least_as_strict(&both, &reqs(&[])));
        assert!(!at_least_as_strict(
            &both,
            &reqs(&[&["bearerAuth", "api_key"], &["api_key"]])
        ));
        assert!(at_least_as_strict(&reqs(&[&["bearerAuth"]]), &both));
    }
}
