//! Code shared by the integration tests: starting a real `freshet` server process on a
//! loopback port for the duration of one test. Each integration test binary declares
//! `mod support;` and uses what it needs.

// Each test binary uses a different subset of these helpers.
#[allow(dead_code)]
pub mod server;
