//! PLACEHOLDER until the dataflow layer lands (signatures only).
#![allow(unused)]
use super::command::WorkerCommand;
#[derive(Debug, thiserror::Error)]
pub enum DataflowError {
    #[error("x")]
    X,
}
pub struct Cluster;
impl Cluster {
    pub fn start(workers: usize) -> Result<Cluster, DataflowError> {
        todo!()
    }
    pub fn send(&self, cmd: WorkerCommand) {
        todo!()
    }
    pub fn workers(&self) -> usize {
        todo!()
    }
}
