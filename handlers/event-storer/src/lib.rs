//! Event Storer Lambda: POST /events, validated, idempotent, conditional writes to S3.
