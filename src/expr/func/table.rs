//! Table functions: each input row produces zero or more output rows.

use crate::expr::EvalError;
use crate::repr::{ColumnType, Datum, Row, ScalarType};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TableFunc {
    /// `generate_series(start, stop [, step])` over bigints: one column.
    GenerateSeriesInt64,
}

impl TableFunc {
    /// The types of the columns this function appends.
    pub fn output_type(&self, args: &[ColumnType]) -> Vec<ColumnType> {
        let _ = args;
        match self {
            TableFunc::GenerateSeriesInt64 => vec![ColumnType::new(ScalarType::Int64, false)],
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
