//! Table functions: each input row produces zero or more output rows.

use crate::expr::EvalError;
use crate::repr::{ColumnType, Datum, Row, ScalarType};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TableFunc {
    /// `generate_series(start, stop [, step])` over bigints: one column.
    GenerateSeriesInt64,
    /// Numbers the rows of a window partition (the `WindowPartition` aggregate's output):
    /// appends each row's columns (of types `row_types`) and its number.
    WindowNumbering {
        func: super::window::WindowFunc,
        order: Vec<super::window::WindowOrder>,
        row_types: Vec<ColumnType>,
    },
}

impl TableFunc {
    /// The types of the columns this function appends.
    pub fn output_type(&self, args: &[ColumnType]) -> Vec<ColumnType> {
        let _ = args;
        match self {
            TableFunc::GenerateSeriesInt64 => vec![ColumnType::new(ScalarType::Int64, false)],
            TableFunc::WindowNumbering { row_types, .. } => {
                let mut types = row_types.clone();
                types.push(ColumnType::new(ScalarType::Int64, false));
                types
            }
        }
    }

    /// The rows this function produces for one set of evaluated arguments.
    pub fn eval(&self, args: &[Datum]) -> Result<Vec<Row>, EvalError> {
        let _ = args;
        Err(EvalError::Internal(format!(
            "table function {self:?} not implemented"
        )))
    }
}
