//! Shared pieces of the fuzz targets: polling futures that never wait, and the property every
//! non-2xx answer must have (a JSON body with one of the contract's stable `code`s).

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use callflow_core::ErrorCode;
use serde_json::Value;

/// Runs a future that completes without waiting (inline JWKS, no I/O). Panics if it waits:
/// that would mean the code under test started I/O on fuzz input.
pub fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("future waited although it has nothing to wait for"),
    }
}

/// Asserts that a non-2xx body is a JSON object whose `code` is one of the contract's codes
/// and whose `message` is a string. Returns the code.
pub fn assert_error_body(status: u16, body: &[u8]) -> String {
    let value: Value = serde_json::from_slice(body).unwrap_or_else(|e| {
        panic!(
            "{status} body is not JSON ({e}): {:?}",
            String::from_utf8_lossy(body)
        )
    });
    let code = value
        .get("code")
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{status} body has no string `code`: {value}"));
    assert!(
        ErrorCode::ALL.iter().any(|c| c.as_str() == code),
        "{status} body has an unknown code {code:?}: {value}"
    );
    assert!(
        value.get("message").is_some_and(Value::is_string),
        "{status} body has no string `message`: {value}"
    );
    code.to_owned()
}
