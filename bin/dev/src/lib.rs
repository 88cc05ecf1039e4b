//! Local API Gateway stage and embedded S3-compatible store for running the whole service on one machine.
