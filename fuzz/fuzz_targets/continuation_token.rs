//! Continuation tokens (`nextToken`): any string is decoded against a fixed key, and tokens the
//! signer made are round-tripped and tampered with.
//! Properties: no panic; a token the signer did not make is always refused; a token it made
//! decodes to the position it was made for, only for its own query and its own key; changing
//! any byte of it makes it refused.
#![no_main]

use arbitrary::Arbitrary;
use callflow_core::token::QueryFingerprint;
use callflow_core::{CallId, EventId, IdempotencySource, Position, TokenError, TokenSigner};
use libfuzzer_sys::fuzz_target;
use time::OffsetDateTime;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    /// A client-supplied token.
    token: &'a str,
    /// Where the signed token points: nanoseconds since the epoch and a sequence number.
    nanos: i64,
    sequence: u64,
    /// The query the signed token belongs to, and another query.
    query: [u8; 16],
    other_query: [u8; 16],
    /// One byte of the signed token to overwrite, and its new value.
    tamper_at: u16,
    tamper_with: u8,
}

const KEY: &[u8] = b"fuzz-continuation-key-0123456789abcdef";

fuzz_target!(|input: Input<'_>| {
    let signer = TokenSigner::new(KEY);
    let query = QueryFingerprint(input.query);
    let decoded = signer.decode(input.token, query);

    let Ok(timestamp) = OffsetDateTime::from_unix_timestamp_nanos(i128::from(input.nanos)) else {
        assert!(decoded.is_err(), "accepted a token the signer did not make");
        return;
    };
    let call = CallId::parse("fuzz-call").expect("call id");
    let source = IdempotencySource::CallSequence {
        call_id: &call,
        sequence: input.sequence,
    };
    let Ok(event_id) = EventId::derive(timestamp, source) else {
        assert!(decoded.is_err(), "accepted a token the signer did not make");
        return;
    };
    let position = Position {
        timestamp,
        event_id,
    };
    let token = signer.encode(position, query);
    if input.token != token {
        assert!(
            decoded.is_err(),
            "accepted a token the signer did not make: {:?}",
            input.token
        );
    }
    assert_eq!(signer.decode(&token, query), Ok(position), "round trip");
    if input.other_query != input.query {
        assert_eq!(
            signer.decode(&token, QueryFingerprint(input.other_query)),
            Err(TokenError::OtherQuery)
        );
    }
    let stranger = TokenSigner::new(b"another-key-of-the-same-length-0000000".as_slice());
    assert_eq!(
        stranger.decode(&token, query),
        Err(TokenError::BadSignature)
    );

    let mut bytes = token.clone().into_bytes();
    let at = usize::from(input.tamper_at) % bytes.len();
    bytes[at] = input.tamper_with;
    if let Ok(tampered) = String::from_utf8(bytes)
        && tampered != token
    {
        assert!(
            signer.decode(&tampered, query).is_err(),
            "accepted tampered {tampered:?}"
        );
    }
});
