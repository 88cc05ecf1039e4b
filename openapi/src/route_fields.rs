//! The operation fields a route is read from: one list for the route table (`route.rs`) and
//! for the build script, which keeps only these in `routes.json` (`build.rs` includes this
//! file by path).

/// An operation's id.
pub const OPERATION_ID: &str = "operationId";
/// The Lambda function that serves the operation.
pub const LAMBDA: &str = "x-callflow-lambda";
/// The OAuth scope the operation requires.
pub const SCOPE: &str = "x-callflow-scope";
/// Every field the route table reads from an operation (the build script's list).
#[allow(dead_code)] // read by build.rs only
pub const ROUTE_FIELDS: [&str; 3] = [OPERATION_ID, LAMBDA, SCOPE];
