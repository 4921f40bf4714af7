//! The coordinator: one tokio task that owns the catalog, the timestamp oracle, read holds
//! and pending peeks. Sessions send it `Command`s; nothing else mutates its state, so there
//! are no locks.

pub mod client;
pub mod error;
mod session;

pub use client::{CancelKey, Client, ExecuteResponse, Session, StatementDesc, TransactionStatus};
pub use error::AdapterError;

/// A request from a session to the coordinator.
pub enum Command {
    Cancel { key: CancelKey },
}
