//! Timely workers and the rendering of MIR into differential-dataflow operators.

mod cluster;
pub mod command;
pub use cluster::{Cluster, DataflowError};
