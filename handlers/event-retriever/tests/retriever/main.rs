//! Integration tests: the real retriever (and storer) handlers with real API Gateway proxy
//! requests, through aws-sdk-s3, against the embedded S3-compatible store on loopback.

mod backfill;
mod by_id;
mod common;
mod pagination;
mod query;
