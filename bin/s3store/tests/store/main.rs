//! Integration tests: the real aws-sdk-s3 client against a running store on 127.0.0.1:0.

mod common;
mod conditional;
mod lifecycle;
mod listing;
mod objects;
mod observability;
