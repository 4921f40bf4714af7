//! Data representation shared by every layer: datums, rows, types, relation descriptions,
//! identifiers and the update model `(Row, Timestamp, Diff)`.
//!
//! Invariants:
//! - A `Datum`'s `Ord` is a total order used by arrangements; SQL comparison semantics
//!   (NULLs, intervals, char padding) live in `expr`, not here.
//! - A `Row` always has exactly as many datums as its relation has columns.

pub mod copy_format;
mod datum;
mod ids;
pub mod interval;
pub mod jsonb;
mod row;
mod scalar_type;
pub mod text;

pub use datum::{Datum, OrdF32, OrdF64};
pub use ids::{Diff, GlobalId, Timestamp};
pub use interval::Interval;
pub use jsonb::Jsonb;
pub use row::Row;
pub use scalar_type::{ColumnType, RegKind, RelationDesc, ScalarType};
