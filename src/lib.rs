//! Freshet: a streaming database. SQL over pgwire, views maintained incrementally by
//! differential dataflow. See `DESIGN.md` (shared) for the architecture; each module's
//! header says what it owns.

pub mod coord;
pub mod dataflow;
pub mod expr;
pub mod repr;
pub mod sql;
