//! Embedded S3-compatible object store (an s3s backend): per-key locking, durable conditional writes, request log.
