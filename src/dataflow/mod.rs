//! Timely workers and the rendering of MIR into differential-dataflow operators.

pub mod command;
