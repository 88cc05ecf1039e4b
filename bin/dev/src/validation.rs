//! Request parameter validation (`validateRequestParameters`): the required query string
//! parameters and headers of an operation must be present and not blank.

use std::collections::HashMap;

use aws_lambda_events::http::HeaderMap;
use aws_lambda_events::query_map::QueryMap;
use serde_json::Value;

/// Where a required parameter lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamLocation {
    /// The query string.
    Query,
    /// A header.
    Header,
}

/// One required parameter of an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequiredParam {
    /// Its name as declared.
    pub name: String,
    /// Where it is.
    pub location: ParamLocation,
}

/// The required query and header parameters of each operation, by `operationId`.
#[derive(Debug, Clone, Default)]
pub struct RequiredParams {
    by_operation: HashMap<String, Vec<RequiredParam>>,
}

impl RequiredParams {
    /// Reads every operation's `parameters` (following `#/components/parameters/` refs).
    pub fn from_spec(spec: &Value) -> Self {
        let mut by_operation = HashMap::new();
        let Some(paths) = spec.get("paths").and_then(Value::as_object) else {
            return Self::default();
        };
        for item in paths.values().filter_map(Value::as_object) {
            let shared = item.get("parameters");
            for operation in item.values().filter_map(Value::as_object) {
                let Some(id) = operation.get("operationId").and_then(Value::as_str) else {
                    continue;
                };
                let params = [shared, operation.get("parameters")]
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_array)
                    .flatten()
                    .filter_map(|p| resolve(spec, p))
                    .filter(|p| p.get("required").and_then(Value::as_bool) == Some(true))
                    .filter_map(|p| {
                        let name = p.get("name")?.as_str()?.to_owned();
                        let location = match p.get("in")?.as_str()? {
                            "query" => ParamLocation::Query,
                            "header" => ParamLocation::Header,
                            _ => return None,
                        };
                        Some(RequiredParam { name, location })
                    })
                    .collect();
                by_operation.insert(id.to_owned(), params);
            }
        }
        Self { by_operation }
    }

    /// The names of `operation_id`'s required parameters that are missing or blank, in
    /// declaration order.
    pub fn missing(
        &self,
        operation_id: &str,
        query: &QueryMap,
        headers: &HeaderMap,
    ) -> Vec<String> {
        let Some(params) = self.by_operation.get(operation_id) else {
            return Vec::new();
        };
        params
            .iter()
            .filter(|p| {
                let value = match p.location {
                    ParamLocation::Query => query.first(&p.name),
                    ParamLocation::Header => {
                        headers.get(p.name.as_str()).and_then(|v| v.to_str().ok())
                    }
                };
                value.is_none_or(|v| v.trim().is_empty())
            })
            .map(|p| p.name.clone())
            .collect()
    }
}

fn resolve<'a>(spec: &'a Value, parameter: &'a Value) -> Option<&'a Value> {
    match parameter.get("$ref").and_then(Value::as_str) {
        Some(reference) => spec.pointer(reference.strip_prefix('#')?),
        None => Some(parameter),
    }
}
