//! MIR: the relational intermediate representation that the optimizer rewrites and the
//! dataflow layer renders, and the scalar expressions evaluated inside operators.
//!
//! Invariants:
//! - Every `RelationExpr` has a fixed arity and column types (`RelationExpr::typ`).
//! - Scalar evaluation never panics on data: failures are `EvalError`s, which dataflows carry
//!   as data in their error collections.

pub mod constant;
mod error;
pub mod func;
mod relation;
mod scalar;
pub mod temporal_filter;
pub mod volatile;

pub use error::EvalError;
pub use func::{AggregateFunc, Func, TableFunc};
pub use relation::{AggregateExpr, ColumnOrder, Id, LocalId, RecursionLimit, RelationExpr};
pub use scalar::ScalarExpr;
