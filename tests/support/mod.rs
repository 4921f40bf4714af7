//! Code shared by the integration tests: starting a real `freshet` server process on a
//! loopback port for the duration of one test. Each integration test binary declares
//! `mod support;` and uses what it needs.

pub mod server;
