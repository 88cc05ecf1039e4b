//! Test support (feature `test-support`): a moto server on a free loopback port, seeding it with
//! the resources a synthesized stack declares, and drift to apply to them.

pub mod drift;
pub mod moto;
pub mod seed;

pub use moto::{MotoServer, find_moto_server, moto_or_skip};
pub use seed::{SeedError, seed_stack};

/// Access key of the static test credentials moto accepts.
pub const TEST_ACCESS_KEY: &str = "testing";
/// Secret key of the static test credentials moto accepts.
pub const TEST_SECRET_KEY: &str = "testing";
