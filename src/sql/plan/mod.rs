//! Planning: statements to `Plan`s, and queries to MIR. Planning is pure and synchronous: it
//! reads the catalog and the statement, and does no I/O.

pub mod context;
pub mod expr;
pub mod from;
pub mod func;
pub mod query;
pub mod scope;
pub mod show;
pub mod statement;
pub mod types;
pub mod window;
pub use context::{SessionContext, StatementContext};
pub use query::Finishing;
pub use statement::{Plan, Returning, plan};
