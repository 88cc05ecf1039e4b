//! Post-deploy verification: live infrastructure drift checks and end-to-end API smoke tests.
