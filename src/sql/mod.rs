//! The SQL layer: parsing (sqlparser's PostgreSQL dialect plus our own statements), name
//! resolution, type checking and planning. Planning is pure and synchronous.

mod error;
pub mod parse;
pub mod plan;

pub use error::{PlanError, Result};
pub use parse::{
    CursorBody, ObjectKind, ShowStatement, Statement, SubscribeStatement, SubscribeTarget, parse,
};
