//! `ScalarExpr`: an expression over the columns of one row.
//!
//! `And`, `Or`, `If` and `Coalesce` evaluate lazily with PostgreSQL's three-valued logic;
//! an error in an operand that does not decide the result is not raised
//! (`false AND 1/0 = 1` is false). Every other call is strict or not as its `Func` says.

use super::{EvalError, Func};
use crate::repr::{ColumnType, Datum, ScalarType};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ScalarExpr {
    /// The datum in this column of the input row.
    Column(usize),
    /// A constant, or a constant error (folded from an expression that always fails).
    Literal(Result<Datum, EvalError>, ScalarType),
    /// A function or operator applied to its arguments.
    Call {
        func: Func,
        args: Vec<ScalarExpr>,
    },
    And(Vec<ScalarExpr>),
    Or(Vec<ScalarExpr>),
    /// `CASE WHEN cond THEN then ELSE els END`; a NULL condition takes `els`.
    If {
        cond: Box<ScalarExpr>,
        then: Box<ScalarExpr>,
        els: Box<ScalarExpr>,
    },
    /// The first non-NULL argument.
    Coalesce(Vec<ScalarExpr>),
}

impl ScalarExpr {
    /// A constant `datum` of type `typ`. The datum must be a value of the type (its
    /// representation: an `int2` value is an `Int16`), since nothing converts a literal later:
    /// a mislabelled literal would be stored or compared as the wrong type.
    pub fn literal(datum: Datum, typ: ScalarType) -> ScalarExpr {
        debug_assert!(
            datum.is_instance_of(&typ),
            "literal {datum:?} is not a value of type {typ:?}"
        );
        ScalarExpr::Literal(Ok(datum), typ)
    }

    pub fn null(typ: ScalarType) -> ScalarExpr {
        ScalarExpr::Literal(Ok(Datum::Null), typ)
    }

    pub fn literal_true() -> ScalarExpr {
        ScalarExpr::literal(Datum::Bool(true), ScalarType::Bool)
    }

    pub fn call(func: Func, args: Vec<ScalarExpr>) -> ScalarExpr {
        ScalarExpr::Call { func, args }
    }

    /// The type of the result when the input row has columns of types `input`.
    pub fn typ(&self, input: &[ColumnType]) -> ColumnType {
        match self {
            ScalarExpr::Column(c) => input[*c].clone(),
            ScalarExpr::Literal(Ok(datum), typ) => ColumnType::new(typ.clone(), datum.is_null()),
            ScalarExpr::Literal(Err(_), typ) => ColumnType::new(typ.clone(), true),
            ScalarExpr::Call { func, args } => {
                let arg_types: Vec<ColumnType> = args.iter().map(|a| a.typ(input)).collect();
                func.output_type(&arg_types)
            }
            ScalarExpr::And(args) | ScalarExpr::Or(args) => {
                ColumnType::new(ScalarType::Bool, args.iter().any(|a| a.typ(input).nullable))
            }
            ScalarExpr::If { then, els, .. } => {
                let then = then.typ(input);
                let els = els.typ(input);
                let scalar_type = if then.scalar_type == ScalarType::Unknown {
                    els.scalar_type.clone()
                } else {
                    then.scalar_type.clone()
                };
                ColumnType::new(scalar_type, then.nullable || els.nullable)
            }
            ScalarExpr::Coalesce(args) => {
                let types: Vec<ColumnType> = args.iter().map(|a| a.typ(input)).collect();
                let scalar_type = types
                    .iter()
                    .map(|t| t.scalar_type.clone())
                    .find(|t| *t != ScalarType::Unknown)
                    .unwrap_or(ScalarType::Unknown);
                ColumnType::new(scalar_type, types.iter().all(|t| t.nullable))
            }
        }
    }

    /// Whether every predicate is TRUE on `row` (a filter keeps the row): FALSE or NULL stops
    /// at once; the first error is returned.
    pub fn all_true(predicates: &[ScalarExpr], row: &[Datum]) -> Result<bool, EvalError> {
        for p in predicates {
            if p.eval(row)? != Datum::Bool(true) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Whether `mz_now()` occurs anywhere in the expression.
    pub fn contains_mz_now(&self) -> bool {
        self.contains_call(&|f| matches!(f, Func::MzNow))
    }

    /// Whether a volatile function (`gen_random_uuid()`) occurs anywhere in the expression:
    /// two evaluations on one row may differ.
    pub fn is_volatile(&self) -> bool {
        self.contains_call(&|f| matches!(f, Func::GenRandomUuid))
    }

    /// Whether a call of a function for which `wanted` holds occurs anywhere in the
    /// expression.
    fn contains_call(&self, wanted: &dyn Fn(&Func) -> bool) -> bool {
        match self {
            ScalarExpr::Column(_) | ScalarExpr::Literal(..) => false,
            ScalarExpr::Call { func, args } => {
                wanted(func) || args.iter().any(|a| a.contains_call(wanted))
            }
            ScalarExpr::And(args) | ScalarExpr::Or(args) | ScalarExpr::Coalesce(args) => {
                args.iter().any(|a| a.contains_call(wanted))
            }
            ScalarExpr::If { cond, then, els } => {
                cond.contains_call(wanted)
                    || then.contains_call(wanted)
                    || els.contains_call(wanted)
            }
        }
    }

    /// Evaluates the expression on `row`.
    pub fn eval(&self, row: &[Datum]) -> Result<Datum, EvalError> {
        match self {
            ScalarExpr::Column(c) => Ok(row[*c].clone()),
            ScalarExpr::Literal(result, _) => result.clone(),
            ScalarExpr::Call { func, args } => {
                let mut datums = Vec::with_capacity(args.len());
                for arg in args {
                    let datum = arg.eval(row)?;
                    if datum.is_null() && func.propagates_nulls() {
                        return Ok(Datum::Null);
                    }
                    datums.push(datum);
                }
                func.eval(&datums)
            }
            ScalarExpr::And(args) => eval_connective(args, row, false),
            ScalarExpr::Or(args) => eval_connective(args, row, true),
            ScalarExpr::If { cond, then, els } => match cond.eval(row)? {
                Datum::Bool(true) => then.eval(row),
                _ => els.eval(row),
            },
            ScalarExpr::Coalesce(args) => {
                for arg in args {
                    let datum = arg.eval(row)?;
                    if !datum.is_null() {
                        return Ok(datum);
                    }
                }
                Ok(Datum::Null)
            }
        }
    }

    /// Applies `f` to every column reference, in place.
    pub fn visit_columns_mut(&mut self, f: &mut impl FnMut(&mut usize)) {
        match self {
            ScalarExpr::Column(c) => f(c),
            ScalarExpr::Literal(..) => {}
            ScalarExpr::Call { args, .. }
            | ScalarExpr::And(args)
            | ScalarExpr::Or(args)
            | ScalarExpr::Coalesce(args) => {
                for arg in args {
                    arg.visit_columns_mut(f)
                }
            }
            ScalarExpr::If { cond, then, els } => {
                cond.visit_columns_mut(f);
                then.visit_columns_mut(f);
                els.visit_columns_mut(f);
            }
        }
    }

    /// Every column this expression reads.
    pub fn columns(&self) -> std::collections::BTreeSet<usize> {
        let mut out = std::collections::BTreeSet::new();
        self.clone().visit_columns_mut(&mut |c| {
            out.insert(*c);
        });
        out
    }

    /// Renumbers column references through `map` (`Column(i)` becomes `Column(map[i])`).
    pub fn permute(&mut self, map: &[usize]) {
        self.visit_columns_mut(&mut |c| *c = map[*c]);
    }

    /// Adds `offset` to every column reference.
    pub fn shift_columns(&mut self, offset: usize) {
        self.visit_columns_mut(&mut |c| *c += offset);
    }
}

/// AND (`decisive` false) or OR (`decisive` true) in three-valued logic: the decisive value
/// wins over NULL and over errors; then the first error; then NULL; else the other value.
fn eval_connective(args: &[ScalarExpr], row: &[Datum], decisive: bool) -> Result<Datum, EvalError> {
    let mut null = false;
    let mut error = None;
    for arg in args {
        match arg.eval(row) {
            Ok(Datum::Bool(b)) if b == decisive => return Ok(Datum::Bool(decisive)),
            Ok(Datum::Null) => null = true,
            Ok(_) => {}
            Err(e) => error = error.or(Some(e)),
        }
    }
    match error {
        Some(e) => Err(e),
        None if null => Ok(Datum::Null),
        None => Ok(Datum::Bool(!decisive)),
    }
}
