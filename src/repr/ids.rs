//! Identifiers and the two numbers of the update model.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Milliseconds since the Unix epoch: one timeline for tables, sources and views.
pub type Timestamp = u64;

/// Multiplicity change of an update: +1 insert, -1 delete.
pub type Diff = i64;

/// Names a collection (table, view, materialized view, index, transient dataflow) for its
/// whole life. User ids are durable and never reused; transient ids live for one process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum GlobalId {
    /// A built-in relation.
    System(u64),
    /// A user-created catalog item.
    User(u64),
    /// A dataflow or peek that lives only as long as one statement.
    Transient(u64),
}

impl fmt::Display for GlobalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GlobalId::System(id) => write!(f, "s{id}"),
            GlobalId::User(id) => write!(f, "u{id}"),
            GlobalId::Transient(id) => write!(f, "t{id}"),
        }
    }
}
