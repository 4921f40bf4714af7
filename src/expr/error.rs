//! Errors raised while evaluating scalar expressions. They are data: they travel through
//! dataflows in the error collection and reach the client when a view is read.

use serde::{Deserialize, Serialize};

#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, thiserror::Error,
)]
pub enum EvalError {
    #[error("division by zero")]
    DivisionByZero,
    #[error("{0}")]
    NumericOutOfRange(String),
    #[error("invalid input syntax for type {type_name}: \"{input}\"")]
    InvalidTextRepresentation { type_name: String, input: String },
    #[error("value too long for type {0}")]
    StringTooLong(String),
    #[error("more than one row returned by a subquery used as an expression")]
    MultipleRowsFromSubquery,
    #[error("{message}")]
    InvalidParameter { message: String },
    #[error("{message}")]
    DatetimeOutOfRange { message: String },
    #[error(
        "null value in column \"{column}\" of relation \"{relation}\" violates not-null constraint"
    )]
    NullConstraintViolation { column: String, relation: String },
    /// A function called with arguments it does not support (PostgreSQL's 0A000 errors).
    #[error("{0}")]
    FeatureNotSupported(String),
    #[error("{0}")]
    Internal(String),
    #[error("argument of ntile must be greater than zero")]
    InvalidArgumentForNtile,
    #[error("argument of nth_value must be greater than zero")]
    InvalidArgumentForNthValue,
    /// A `LetRec` (WITH RECURSIVE) still changing after this many rounds.
    #[error("recursive query did not finish within {rounds} rounds")]
    RecursionLimit { rounds: u64 },
}

impl EvalError {
    /// The SQLSTATE a client receives for this error.
    pub fn sqlstate(&self) -> &'static str {
        match self {
            EvalError::DivisionByZero => "22012",
            EvalError::NumericOutOfRange(_) => "22003",
            EvalError::InvalidTextRepresentation { .. } => "22P02",
            EvalError::StringTooLong(_) => "22001",
            EvalError::MultipleRowsFromSubquery => "21000",
            EvalError::InvalidParameter { .. } => "22023",
            EvalError::DatetimeOutOfRange { .. } => "22008",
            EvalError::NullConstraintViolation { .. } => "23502",
            EvalError::FeatureNotSupported(_) => "0A000",
            EvalError::Internal(_) => "XX000",
            EvalError::RecursionLimit { .. } => "54000",
            EvalError::InvalidArgumentForNtile => "22014",
            EvalError::InvalidArgumentForNthValue => "22016",
        }
    }
}
