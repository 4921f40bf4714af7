//! SQLite's sqllogictest corpus run through a real server over pgwire: reading its scripts
//! ([`script`]), rendering and comparing results as its runner does ([`check`]), and running
//! a script one-off or as materialized views ([`run`]).

pub mod check;
pub mod run;
pub mod script;
