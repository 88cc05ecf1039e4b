//! End-to-end API smoke checks against a deployed URL.
