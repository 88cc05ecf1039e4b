//! The typed route table read from the spec: method, path template, Lambda and scope per operation.

use callflow_deployment::Handler;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde_json::Value;

use crate::SpecError;
use crate::route_fields;

/// An HTTP method an operation can be declared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HttpMethod {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `PATCH`
    Patch,
    /// `DELETE`
    Delete,
    /// `HEAD`
    Head,
    /// `OPTIONS`
    Options,
}

impl HttpMethod {
    /// The upper-case name as used in method ARNs and on the wire (`GET`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
            Self::Head => "HEAD",
            Self::Options => "OPTIONS",
        }
    }
}

impl FromStr for HttpMethod {
    type Err = SpecError;

    /// Parses a method name case-insensitively (`get` in the spec, `GET` on the wire).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_uppercase().as_str() {
            "GET" => Ok(Self::Get),
            "POST" => Ok(Self::Post),
            "PUT" => Ok(Self::Put),
            "PATCH" => Ok(Self::Patch),
            "DELETE" => Ok(Self::Delete),
            "HEAD" => Ok(Self::Head),
            "OPTIONS" => Ok(Self::Options),
            _ => Err(SpecError::UnknownMethod(s.to_owned())),
        }
    }
}

impl fmt::Display for HttpMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The handler Lambda that serves an operation (`x-callflow-lambda`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LambdaName {
    /// `event-storer`: POST /events.
    EventStorer,
    /// `event-retriever`: the GET routes.
    EventRetriever,
}

impl LambdaName {
    /// Every handler Lambda, in a fixed order.
    pub const ALL: [LambdaName; 2] = [LambdaName::EventStorer, LambdaName::EventRetriever];

    /// The deployment's handler that serves the operation (which knows its binary and
    /// environment).
    pub fn handler(self) -> Handler {
        match self {
            Self::EventStorer => Handler::EventStorer,
            Self::EventRetriever => Handler::EventRetriever,
        }
    }

    /// The short name used in the spec (`event-storer`).
    pub fn as_str(self) -> &'static str {
        self.handler().short_name()
    }

    /// The crate and binary name of the handler (`callflow-event-storer`).
    pub fn binary_name(self) -> &'static str {
        self.handler().binary_name()
    }
}

impl FromStr for LambdaName {
    type Err = SpecError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| SpecError::UnknownLambda(s.to_owned()))
    }
}

impl fmt::Display for LambdaName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An OAuth-style scope a token must carry to call an operation (`x-callflow-scope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// `events:read`: the GET routes.
    EventsRead,
    /// `events:write`: POST /events.
    EventsWrite,
}

impl Scope {
    /// The scope string as it appears in tokens and in the spec (`events:read`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EventsRead => "events:read",
            Self::EventsWrite => "events:write",
        }
    }
}

impl FromStr for Scope {
    type Err = SpecError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "events:read" => Ok(Self::EventsRead),
            "events:write" => Ok(Self::EventsWrite),
            _ => Err(SpecError::UnknownScope(s.to_owned())),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One segment of a path template.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Segment {
    /// Must equal the request's segment exactly.
    Literal(String),
    /// Matches any non-empty segment and binds it to this name.
    Param(String),
}

/// A path template in API Gateway resource form, e.g. `/events/{eventId}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PathTemplate {
    template: String,
    segments: Vec<Segment>,
}

/// Path parameters bound by [`PathTemplate::matches`], by name, percent-decoded.
pub type PathParams = BTreeMap<String, String>;

impl PathTemplate {
    /// Parses a template such as `/events/{eventId}`: it starts with `/`, has no empty
    /// segment, and a `{name}` must fill a whole segment.
    pub fn parse(template: &str) -> Result<Self, SpecError> {
        let invalid = |reason| SpecError::InvalidPath {
            template: template.to_owned(),
            reason,
        };
        let rest = template
            .strip_prefix('/')
            .ok_or_else(|| invalid("must start with '/'"))?;
        let mut segments = Vec::new();
        if !rest.is_empty() {
            for part in rest.split('/') {
                if part.is_empty() {
                    return Err(invalid("empty segment"));
                }
                let segment = match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                    Some(name) if !name.is_empty() && !name.contains(['{', '}']) => {
                        Segment::Param(name.to_owned())
                    }
                    Some(_) => return Err(invalid("empty or nested parameter name")),
                    None if part.contains(['{', '}']) => {
                        return Err(invalid("a parameter must fill a whole segment"));
                    }
                    None => Segment::Literal(part.to_owned()),
                };
                segments.push(segment);
            }
        }
        Ok(Self {
            template: template.to_owned(),
            segments,
        })
    }

    /// The API Gateway resource path form, exactly as in the spec (`/events/{eventId}`).
    pub fn as_str(&self) -> &str {
        &self.template
    }

    /// The names of the path parameters, in order.
    pub fn param_names(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Param(name) => Some(name.as_str()),
            Segment::Literal(_) => None,
        })
    }

    /// Matches a request path (without query string). Returns the bound parameters,
    /// percent-decoded, or `None` when the path does not fit this template.
    /// A trailing slash or an empty segment never matches.
    pub fn matches(&self, path: &str) -> Option<PathParams> {
        let rest = path.strip_prefix('/')?;
        let parts: Vec<&str> = if rest.is_empty() {
            Vec::new()
        } else {
            rest.split('/').collect()
        };
        if parts.len() != self.segments.len() {
            return None;
        }
        let mut params = PathParams::new();
        for (segment, part) in self.segments.iter().zip(parts) {
            if part.is_empty() {
                return None;
            }
            match segment {
                Segment::Literal(literal) if literal == part => {}
                Segment::Literal(_) => return None,
                Segment::Param(name) => {
                    params.insert(name.clone(), percent_decode(part));
                }
            }
        }
        Some(params)
    }

    /// The resource part of an IAM policy `Resource` for this template, with every
    /// parameter replaced by `*`: `/events/{eventId}` → `events/*`, `/events` → `events`.
    pub fn policy_resource_path(&self) -> String {
        self.segments
            .iter()
            .map(|s| match s {
                Segment::Literal(literal) => literal.as_str(),
                Segment::Param(_) => "*",
            })
            .collect::<Vec<_>>()
            .join("/")
    }
}

impl fmt::Display for PathTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.template)
    }
}

/// Decodes `%XX` escapes; a malformed escape or invalid UTF-8 is kept as written.
fn percent_decode(segment: &str) -> String {
    if !segment.contains('%') {
        return segment.to_owned();
    }
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| segment.to_owned())
}

/// One operation of the API: how it is reached, who serves it and which scope it needs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Route {
    /// The HTTP method.
    pub method: HttpMethod,
    /// The path template (`/events/{eventId}`).
    pub path: PathTemplate,
    /// The spec's `operationId` (`storeEvent`, `getEvent`, `queryEvents`).
    pub operation_id: String,
    /// The handler Lambda (`x-callflow-lambda`).
    pub lambda: LambdaName,
    /// The scope a token needs (`x-callflow-scope`).
    pub scope: Scope,
}

impl Route {
    /// The `{METHOD}/{resource}` tail of a method ARN covering every request of this
    /// route: `GET/events/*`, `POST/events`.
    pub fn policy_resource(&self) -> String {
        format!("{}/{}", self.method, self.path.policy_resource_path())
    }
}

/// The operation keys OpenAPI allows under a path item.
const OPERATION_KEYS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Reads every operation under `paths` of an OpenAPI document, in document order.
pub fn routes_from(spec: &Value) -> Result<Vec<Route>, SpecError> {
    let paths = spec
        .get("paths")
        .and_then(Value::as_object)
        .ok_or(SpecError::MissingSection("paths"))?;
    let mut routes = Vec::new();
    for (path, item) in paths {
        let template = PathTemplate::parse(path)?;
        let Some(item) = item.as_object() else {
            continue;
        };
        for (key, operation) in item {
            if !OPERATION_KEYS.contains(&key.as_str()) {
                continue;
            }
            let field = |field: &'static str| {
                operation.get(field).and_then(Value::as_str).ok_or_else(|| {
                    SpecError::MissingField {
                        method: key.clone(),
                        path: path.clone(),
                        field,
                    }
                })
            };
            routes.push(Route {
                method: key.parse()?,
                path: template.clone(),
                operation_id: field(route_fields::OPERATION_ID)?.to_owned(),
                lambda: field(route_fields::LAMBDA)?.parse()?,
                scope: field(route_fields::SCOPE)?.parse()?,
            });
        }
    }
    Ok(routes)
}

/// Finds the route serving `method` on `path` and binds its path parameters.
/// Literal segments win over parameters when two templates match.
pub fn find_route<'a>(
    routes: &'a [Route],
    method: HttpMethod,
    path: &str,
) -> Option<(&'a Route, PathParams)> {
    routes
        .iter()
        .filter(|route| route.method == method)
        .filter_map(|route| route.path.matches(path).map(|params| (route, params)))
        .min_by_key(|(_, params)| params.len())
}
