//! Evaluation of `Func` on datums.

use super::Func;
use crate::expr::EvalError;
use crate::repr::{ColumnType, Datum, ScalarType};

pub(super) fn eval(func: &Func, args: &[Datum]) -> Result<Datum, EvalError> {
    let _ = args;
    Err(EvalError::Internal(format!(
        "function {func:?} not implemented"
    )))
}

pub(super) fn output_type(func: &Func, args: &[ColumnType]) -> ColumnType {
    let nullable = args.iter().any(|a| a.nullable);
    match func {
        Func::Eq | Func::NotEq | Func::Lt | Func::Lte | Func::Gt | Func::Gte | Func::Not => {
            ColumnType::new(ScalarType::Bool, nullable)
        }
        Func::IsDistinctFrom
        | Func::IsNotDistinctFrom
        | Func::IsNull
        | Func::IsNotNull
        | Func::IsTrue
        | Func::IsFalse => ColumnType::new(ScalarType::Bool, false),
        Func::Add | Func::Sub | Func::Mul | Func::Div | Func::Mod | Func::Neg => {
            ColumnType::new(args[0].scalar_type.clone(), nullable)
        }
        Func::Cast(to) => ColumnType::new(to.clone(), nullable),
        Func::Concat => ColumnType::new(ScalarType::String, nullable),
        Func::MakeRecord => {
            ColumnType::new(ScalarType::Array(Box::new(ScalarType::Unknown)), false)
        }
    }
}
