//! Freshet: a streaming database. SQL over pgwire, views maintained incrementally by
//! differential dataflow. See `DESIGN.md` (shared) for the architecture; each module's
//! header says what it owns.

pub mod bench;
pub mod catalog;
pub mod coord;
pub mod dataflow;
pub mod expr;
pub mod optimize;
pub mod repr;
pub mod server;
pub mod sql;
pub mod storage;
