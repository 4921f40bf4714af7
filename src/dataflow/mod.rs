//! Timely workers and the rendering of MIR into differential-dataflow operators.
//!
//! | file | owns |
//! |---|---|
//! | `command.rs` | the coordinator ⇄ worker contract |
//! | `cluster.rs` | starting worker threads, delivering commands in order, waking workers |
//! | `worker.rs` | one worker's loop and state: table inputs, dataflows, peeks |
//! | `traces.rs` | the trace manager: published arrangements by id |
//! | `render/` | MIR → operators (`mod.rs` dispatch, `join.rs`, `reduce.rs`, `topk.rs`) |
//! | `peek.rs` | reading an arrangement at a timestamp |
//! | `subscribe.rs` | the sink that streams a collection's changes to a client |
//!
//! Invariants: every worker builds the same dataflows in the same order (commands arrive in
//! the same order everywhere); workers never block on the coordinator; errors are data (each
//! collection has an error collection beside it).

mod cluster;
pub mod command;
mod peek;
mod render;
mod subscribe;
mod traces;
mod worker;

pub use cluster::{Cluster, DataflowError};
