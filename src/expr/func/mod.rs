//! The scalar function, aggregate and table function registry of MIR: what each function
//! computes, datum in, datum out.
//!
//! Functions dispatch on the datum variants of their (already type-checked and coerced)
//! arguments: the planner guarantees both operands of `Add` have the same type, except for
//! the mixed date/time forms listed on each variant. Every failure is an `EvalError`, never a
//! panic: these run inside dataflows on user data.

mod aggregate;
mod arith;
pub(crate) mod cast;
pub use cast::json_of;
pub mod bytea;
mod compare;
mod scalar_eval;
pub mod set_returning;
mod string;
mod table;
pub mod temporal;
pub mod window;
pub mod window_value;

pub use aggregate::AggregateFunc;
pub use compare::{compare_keys, compare_rows, sql_order};
pub use scalar_eval::arithmetic_result;
pub use table::TableFunc;

use super::EvalError;
use crate::repr::{ColumnType, Datum, ScalarType};
use serde::{Deserialize, Serialize};

/// A scalar function or operator. Strict unless `propagates_nulls` says otherwise: a NULL
/// argument to a strict function makes the result NULL without calling it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Func {
    // Comparison, with PostgreSQL semantics per type (intervals by their comparison key,
    // NaN equal to NaN and above every number).
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
    // Arithmetic on two operands of the same numeric type (or the date/time combinations
    // `temporal.rs` lists). Integer overflow raises NumericOutOfRange, division by zero
    // raises DivisionByZero.
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
    /// `string LIKE pattern` (`ILIKE` when case-insensitive).
    Like {
        case_insensitive: bool,
    },
    /// `string ~ pattern` (`~*` when case-insensitive).
    RegexMatch {
        case_insensitive: bool,
    },
    /// A named function (`lower`, `round`, `date_trunc`, ...), see `scalar_eval.rs`.
    Named(NamedFunc),
    /// `greatest(...)` / `least(...)`: NULL arguments are ignored.
    Greatest,
    Least,
    /// `mz_now()` (and `now()` in a view): the logical time of each update. Never evaluated:
    /// it may only appear in temporal filters (`temporal_filter.rs`), which the dataflow turns
    /// into the times rows enter and leave.
    MzNow,
    /// `ARRAY[a, b, ...]`: the arguments (already of one type, NULLs kept) as an array.
    MakeArray,
    /// `array[i]`: the element at 1-based position `i`, NULL outside the array.
    ArrayIndex,
    /// `x op ANY (array)` (`all`: `ALL`): `compare` evaluated on each row `[x, element]`,
    /// combined with three-valued OR (AND): TRUE (FALSE) as soon as one is, else NULL if one
    /// is NULL, else FALSE (TRUE), which is also the answer for an empty array. A NULL array
    /// gives NULL.
    ArrayQuantified {
        compare: Box<crate::expr::ScalarExpr>,
        all: bool,
    },
    /// `gen_random_uuid()`: a new random (version 4) UUID at each evaluation. Volatile: never
    /// folded, and allowed only where a query is evaluated once (one-off SELECTs, INSERT
    /// values, column defaults), where each row of a multiplicity gets its own value.
    GenRandomUuid,
}

/// Named scalar functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum NamedFunc {
    Lower,
    Upper,
    CharLength,
    OctetLength,
    Substring,
    Strpos,
    Btrim,
    Ltrim,
    Rtrim,
    Replace,
    /// `concat(...)`: NULL arguments are ignored.
    ConcatAll,
    /// `concat_ws(sep, ...)`.
    ConcatWs,
    Left,
    Right,
    Lpad,
    Rpad,
    Repeat,
    Reverse,
    SplitPart,
    StartsWith,
    Initcap,
    Ascii,
    Chr,
    RegexpReplace,
    Abs,
    Ceil,
    Floor,
    Round,
    Trunc,
    Sqrt,
    /// Square root of a numeric, at the scale of its argument (stddev of numerics).
    NumericSqrt,
    Cbrt,
    Power,
    Exp,
    Ln,
    Log10,
    Sign,
    Pi,
    DateTrunc,
    /// `date_bin(stride, source, origin)`: the start of `source`'s bin.
    DateBin,
    DatePart,
    /// `EXTRACT(field FROM value)`: numeric (PostgreSQL 14+), unlike `date_part`'s float.
    Extract,
    ToTimestamp,
    MakeDate,
    Age,
    ToChar,
    JsonbTypeof,
    JsonbArrayLength,
    JsonbGet,
    JsonbGetText,
    JsonbGetPath,
    JsonbGetPathText,
    JsonbContains,
    JsonbHasKey,
    JsonbBuildObject,
    JsonbBuildArray,
    ArrayLength,
    /// `regexp_match(string, pattern [, flags])`: the first match's capture groups (the
    /// whole match when the pattern has none) as text[], or NULL.
    RegexpMatch,
    /// `array_to_string(array, delimiter [, null_string])`.
    ArrayToString,
    /// `string_to_array(string, delimiter [, null_string])`.
    StringToArray,
    /// `array_position(array, value)`: the first 1-based position of `value`, or NULL.
    ArrayPosition,
    /// `jsonb ?| text[]`: any of the strings is a key (or a string element).
    JsonbHasAnyKey,
    /// `jsonb ?& text[]`: all of them are.
    JsonbHasAllKeys,
    /// `md5(text | bytea)`: the digest as 32 hex digits.
    Md5,
    /// `sha256(bytea)`: the digest as bytea.
    Sha256,
    /// `encode(bytea, 'hex' | 'base64' | 'escape')`.
    Encode,
    /// `decode(text, 'hex' | 'base64' | 'escape')`.
    Decode,
    /// `bytea || bytea`.
    BytesConcat,
    /// `quote_ident(text)`: the identifier, double-quoted when it would not read back as
    /// itself unquoted.
    QuoteIdent,
    /// `quote_literal(text)`: the string as a single-quoted SQL literal.
    QuoteLiteral,
    /// `pg_size_pretty(bigint | numeric)`: a byte count in bytes, kB, MB, GB, TB or PB,
    /// each unit 1024 of the one before, rounded half away from zero (`string::size_pretty`).
    SizePretty,
    /// `array || array` (`array_cat`): the elements of both; a NULL operand counts as empty
    /// (the result is NULL only when both are).
    ArrayCat,
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
                | Func::MakeRecord
                | Func::MakeArray
                | Func::ArrayQuantified { .. }
                | Func::Greatest
                | Func::Least
                | Func::Named(NamedFunc::ConcatAll)
                | Func::Named(NamedFunc::ConcatWs)
                | Func::Named(NamedFunc::JsonbBuildObject)
                | Func::Named(NamedFunc::JsonbBuildArray)
                | Func::Named(NamedFunc::ArrayCat)
        )
    }

    /// The result type for arguments of types `args`.
    pub fn output_type(&self, args: &[ColumnType]) -> ColumnType {
        scalar_eval::output_type(self, args)
    }

    /// Applies the function to evaluated arguments.
    pub fn eval(&self, args: &[Datum]) -> Result<Datum, EvalError> {
        scalar_eval::eval(self, args)
    }
}
