//! Where single fields of the contract are, for the build script that takes them out of the
//! document (`build.rs` includes this file by path) and for their readers in the crate.

/// The idempotency window in days: `x-callflow-idempotency-window-days` of the
/// `IdempotencyKey` parameter, as a JSON pointer.
pub const IDEMPOTENCY_WINDOW_POINTER: &str =
    "/components/parameters/IdempotencyKey/x-callflow-idempotency-window-days";
