//! Aggregate functions: the value of an aggregate over a group's multiset of input datums.

use crate::expr::EvalError;
use crate::repr::{ColumnType, Datum, Diff, ScalarType};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AggregateFunc {
    /// Number of non-NULL inputs (`count(*)` counts a non-NULL literal).
    Count,
    /// Sum of integers as bigint (smallint, integer inputs) or numeric (bigint input).
    SumInt,
    SumNumeric,
    SumFloat,
    Min,
    Max,
    BoolAnd,
    BoolOr,
    /// A window's partition: its records sorted by the window's ORDER BY (see `window.rs`).
    WindowPartition {
        order: Vec<super::window::WindowOrder>,
    },
}

impl AggregateFunc {
    /// The result type for an argument of type `arg`.
    pub fn output_type(&self, arg: &ColumnType) -> ColumnType {
        match self {
            AggregateFunc::Count => ColumnType::new(ScalarType::Int64, false),
            AggregateFunc::SumInt => ColumnType::new(ScalarType::Int64, true),
            AggregateFunc::SumNumeric => {
                ColumnType::new(ScalarType::Numeric { typmod: None }, true)
            }
            AggregateFunc::SumFloat => ColumnType::new(ScalarType::Float64, true),
            AggregateFunc::Min | AggregateFunc::Max => {
                ColumnType::new(arg.scalar_type.without_modifiers(), true)
            }
            AggregateFunc::BoolAnd | AggregateFunc::BoolOr => {
                ColumnType::new(ScalarType::Bool, true)
            }
            AggregateFunc::WindowPartition { .. } => {
                ColumnType::new(ScalarType::Array(Box::new(ScalarType::Unknown)), false)
            }
        }
    }

    /// The aggregate over `inputs`: each datum with its multiplicity (always positive once
    /// a group is consolidated). An empty group gives the aggregate's empty value (0 for
    /// count, NULL otherwise).
    pub fn eval<'a>(
        &self,
        inputs: impl Iterator<Item = (&'a Datum, Diff)>,
    ) -> Result<Datum, EvalError> {
        let _ = inputs;
        Err(EvalError::Internal(format!(
            "aggregate {self:?} not implemented"
        )))
    }
}
