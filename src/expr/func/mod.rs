//! The scalar function, aggregate and table function registry of MIR: what each function
//! computes, datum in, datum out.
//!
//! Functions dispatch on the datum variants of their (already type-checked and coerced)
//! arguments: the planner guarantees both operands of `Add` have the same type, except for
//! the mixed date/time forms listed on each variant.

mod aggregate;
mod scalar_eval;
mod table;
pub mod window;

pub use aggregate::AggregateFunc;
pub use table::TableFunc;

use super::EvalError;
use crate::repr::{ColumnType, Datum, ScalarType};
use serde::{Deserialize, Serialize};

/// A scalar function or operator. Strict unless `propagates_nulls` says otherwise: a NULL
/// argument to a strict function makes the result NULL without calling it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Func {
    // Comparison, with PostgreSQL semantics per type (intervals by their comparison key,
    // char(n) ignoring trailing blanks, NaN equal to NaN and above every number).
    Eq,
    NotEq,
    Lt,
    Lte,
    Gt,
    Gte,
    /// `a IS DISTINCT FROM b`: NULL-aware, never NULL.
    IsDistinctFrom,
    /// `a IS NOT DISTINCT FROM b`.
    IsNotDistinctFrom,
    Not,
    IsNull,
    IsNotNull,
    IsTrue,
    IsFalse,
    // Arithmetic on two operands of the same numeric type; integer overflow raises
    // NumericOutOfRange, division by zero raises DivisionByZero.
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Neg,
    /// Cast to the type, enforcing its modifiers (numeric scale, varchar length, char pad).
    Cast(ScalarType),
    /// `a || b` on strings.
    Concat,
    /// The arguments as one array datum (a record for ordered aggregates and windows).
    MakeRecord,
}

impl Func {
    /// Whether a NULL argument makes the result NULL without evaluating the function.
    pub fn propagates_nulls(&self) -> bool {
        !matches!(
            self,
            Func::IsDistinctFrom
                | Func::IsNotDistinctFrom
                | Func::IsNull
                | Func::IsNotNull
                | Func::IsTrue
                | Func::IsFalse
        )
    }

    /// The result type for arguments of types `args`. Nullable when any argument is and
    /// the function propagates NULLs, or when the function itself can return NULL.
    pub fn output_type(&self, args: &[ColumnType]) -> ColumnType {
        scalar_eval::output_type(self, args)
    }

    /// Applies the function to evaluated arguments.
    pub fn eval(&self, args: &[Datum]) -> Result<Datum, EvalError> {
        scalar_eval::eval(self, args)
    }
}

/// PLACEHOLDER (merge: take the function registry's version).
pub fn sql_order(a: &Datum, b: &Datum) -> std::cmp::Ordering {
    a.cmp(b)
}
