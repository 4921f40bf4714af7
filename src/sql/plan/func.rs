//! Type resolution for functions, operators and casts: which `Func` a call means for its
//! argument types, and which implicit casts make the arguments fit — PostgreSQL's rules,
//! simplified to the types Freshet has:
//!
//! - An untyped literal (`Unknown`) takes the type its context needs.
//! - Numbers widen along smallint → integer → bigint → numeric → real → double precision.
//! - String types (text, varchar, char) meet as text; date → timestamp → timestamptz.
//! - Anything else must match exactly, or the call is an error naming the types.
//!
//! Casts of constants are folded here, so `'abc'::int` fails at plan time, as in PostgreSQL.

use crate::expr::func::NamedFunc;
use crate::expr::func::window::WindowOrder;
use crate::expr::{AggregateExpr, AggregateFunc, Func, ScalarExpr};
use crate::repr::{Datum, ScalarType};
use crate::sql::{PlanError, Result};

pub type Typed = (ScalarExpr, ScalarType);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CastContext {
    Implicit,
    Assignment,
    Explicit,
}

fn numeric_rank(t: &ScalarType) -> Option<u8> {
    Some(match t {
        ScalarType::Int16 => 1,
        ScalarType::Int32 => 2,
        ScalarType::Int64 => 3,
        ScalarType::Numeric { .. } => 4,
        ScalarType::Float32 => 5,
        ScalarType::Float64 => 6,
        _ => return None,
    })
}

fn temporal_rank(t: &ScalarType) -> Option<u8> {
    Some(match t {
        ScalarType::Date => 1,
        ScalarType::Timestamp => 2,
        ScalarType::TimestampTz => 3,
        _ => return None,
    })
}

/// Whether a cast from `from` to `to` is allowed in `ccx`.
pub fn can_cast(from: &ScalarType, to: &ScalarType, ccx: CastContext) -> bool {
    use ScalarType::*;
    if from.without_modifiers() == to.without_modifiers() || *from == Unknown {
        return true;
    }
    let implicit = match (from, to) {
        _ if numeric_rank(from).is_some() && numeric_rank(to).is_some() => {
            numeric_rank(from) < numeric_rank(to)
        }
        _ if temporal_rank(from).is_some() && temporal_rank(to).is_some() => {
            temporal_rank(from) < temporal_rank(to)
        }
        (a, b) if a.is_string_like() && b.is_string_like() => true,
        (Time, Interval) => true,
        (Int16 | Int32 | Int64, Oid) => true,
        // A vector and the array it behaves as.
        (a, b) if a.as_array() == b.as_array() => true,
        // An array converts element by element, in the same context (PostgreSQL).
        (Array(a), Array(b)) => can_cast(a, b, CastContext::Implicit),
        // The reg* aliases are oids: they convert to and from oid (and integers) freely.
        (Int16 | Int32 | Int64 | Oid, Reg(_)) | (Reg(_), Oid) => true,
        _ => false,
    };
    if implicit || ccx == CastContext::Implicit {
        return implicit;
    }
    let assignment = match (from, to) {
        _ if numeric_rank(from).is_some() && numeric_rank(to).is_some() => true,
        _ if temporal_rank(from).is_some() && temporal_rank(to).is_some() => true,
        (_, String | VarChar { .. } | Char { .. }) => true,
        (Timestamp | TimestampTz, Time) => true,
        (Array(a), Array(b)) => can_cast(a, b, CastContext::Assignment),
        _ => false,
    };
    if assignment || ccx == CastContext::Assignment {
        return assignment;
    }
    match (from, to) {
        (String | VarChar { .. } | Char { .. }, _) => true,
        (Int32 | Int64, Bool) | (Bool, Int32) => true,
        (Oid | Reg(_), Int32 | Int64) => true,
        (Reg(_), Reg(_)) => true,
        (Interval, Time) => true,
        (Jsonb, _) if to.is_string_like() => true,
        (_, Jsonb) => true,
        (Array(a), Array(b)) => can_cast(a, b, ccx),
        _ => false,
    }
}

/// An argument of `concat` / `concat_ws` as text: its output form, as PostgreSQL writes it,
/// which for a boolean is `t` / `f` where a cast to text says `true` / `false`. NULL stays
/// NULL (the functions skip it).
fn concat_arg((e, t): Typed) -> Result<ScalarExpr> {
    if t != ScalarType::Bool {
        return plan_cast(e, &t, &ScalarType::String, CastContext::Explicit);
    }
    let text = |s: &str| ScalarExpr::literal(Datum::String(s.into()), ScalarType::String);
    Ok(ScalarExpr::If {
        cond: Box::new(e.clone()),
        then: Box::new(text("t")),
        els: Box::new(ScalarExpr::If {
            cond: Box::new(ScalarExpr::call(Func::IsNull, vec![e])),
            then: Box::new(ScalarExpr::null(ScalarType::String)),
            els: Box::new(text("f")),
        }),
    })
}

/// Cast `expr` of type `from` to `to`; identity when equal; constant-folds literals (a bad
/// literal is a plan-time error with the evaluation error's SQLSTATE).
pub fn plan_cast(
    expr: ScalarExpr,
    from: &ScalarType,
    to: &ScalarType,
    ccx: CastContext,
) -> Result<ScalarExpr> {
    if from == to || *to == ScalarType::Unknown {
        return Ok(expr);
    }
    // A vector's text is its elements, space-separated (`array_to_string(v, ' ')`).
    if from.vector_element().is_some() && to.is_string_like() {
        let text = ScalarExpr::call(
            Func::Named(NamedFunc::ArrayToString),
            vec![
                expr,
                ScalarExpr::literal(Datum::String(" ".into()), ScalarType::String),
            ],
        );
        return plan_cast(text, &ScalarType::String, to, ccx);
    }
    if !can_cast(from, to, ccx) {
        return Err(PlanError::CannotCast {
            from: from.sql_name(),
            to: to.sql_name(),
        });
    }
    // Widening to an unconstrained type of the same family needs no conversion.
    if from.without_modifiers() == *to && !matches!(to, ScalarType::Char { .. }) {
        return Ok(retype_literal(expr, to));
    }
    // An explicit cast to varchar(n) / char(n) truncates instead of failing (PostgreSQL).
    let limit = match to {
        ScalarType::VarChar {
            max_length: Some(n),
        } => Some(*n),
        ScalarType::Char { length } => Some(*length),
        _ => None,
    };
    let expr = match limit {
        Some(n) if ccx == CastContext::Explicit => {
            let text = if from.is_string_like() || *from == ScalarType::Unknown {
                retype_literal(expr, &ScalarType::String)
            } else {
                ScalarExpr::call(Func::Cast(ScalarType::String), vec![expr])
            };
            ScalarExpr::call(
                Func::Named(NamedFunc::Left),
                vec![
                    text,
                    ScalarExpr::literal(Datum::Int32(n as i32), ScalarType::Int32),
                ],
            )
        }
        _ => expr,
    };
    let cast = ScalarExpr::call(Func::Cast(to.clone()), vec![expr]);
    fold_constant(cast, to)
}

fn retype_literal(expr: ScalarExpr, to: &ScalarType) -> ScalarExpr {
    match expr {
        ScalarExpr::Literal(v, _) => ScalarExpr::Literal(v, to.clone()),
        other => other,
    }
}

/// Evaluates `expr` now if it reads no column; a failure is a plan-time error. A strict
/// function with a NULL literal argument is NULL, whatever its other arguments (PostgreSQL's
/// constant folding: `col / 0 = NULL` is NULL and never divides).
fn fold_constant(expr: ScalarExpr, typ: &ScalarType) -> Result<ScalarExpr> {
    if let ScalarExpr::Call { func, args } = &expr
        && func.propagates_nulls()
        && args
            .iter()
            .any(|a| matches!(a, ScalarExpr::Literal(Ok(d), _) if d.is_null()))
    {
        return Ok(ScalarExpr::literal(Datum::Null, typ.clone()));
    }
    if !expr.columns().is_empty() || !is_foldable(&expr) {
        return Ok(expr);
    }
    let value = expr.eval(&[])?;
    Ok(ScalarExpr::literal(value, typ.clone()))
}

fn is_foldable(expr: &ScalarExpr) -> bool {
    match expr {
        ScalarExpr::Column(_) => false,
        ScalarExpr::Literal(Ok(_), _) => true,
        ScalarExpr::Literal(Err(_), _) => false,
        ScalarExpr::Call {
            func: Func::MzNow | Func::GenRandomUuid,
            ..
        } => false,
        ScalarExpr::Call { args, .. }
        | ScalarExpr::And(args)
        | ScalarExpr::Or(args)
        | ScalarExpr::Coalesce(args) => args.iter().all(is_foldable),
        ScalarExpr::If { cond, then, els } => {
            is_foldable(cond) && is_foldable(then) && is_foldable(els)
        }
    }
}

/// PostgreSQL's rule for UNION / CASE / COALESCE / VALUES: the common type of `types`.
pub fn common_type(types: &[ScalarType], context: &str) -> Result<ScalarType> {
    let known: Vec<&ScalarType> = types
        .iter()
        .filter(|t| **t != ScalarType::Unknown)
        .collect();
    let Some(first) = known.first() else {
        return Ok(ScalarType::Unknown);
    };
    if known.iter().all(|t| *t == *first) {
        return Ok((*first).clone());
    }
    let mut best = (*first).without_modifiers();
    for t in &known[1..] {
        let t = t.without_modifiers();
        if t == best {
            continue;
        }
        // Arrays meet as arrays of their elements' common type.
        if let (ScalarType::Array(a), ScalarType::Array(b)) = (&best, &t) {
            let elem = common_type(&[a.as_ref().clone(), b.as_ref().clone()], context)?;
            best = ScalarType::Array(Box::new(elem));
            continue;
        }
        best = match (
            numeric_rank(&best),
            numeric_rank(&t),
            temporal_rank(&best),
            temporal_rank(&t),
        ) {
            (Some(a), Some(b), _, _) => {
                if b > a {
                    t
                } else {
                    best
                }
            }
            (_, _, Some(a), Some(b)) => {
                if b > a {
                    t
                } else {
                    best
                }
            }
            _ if best.is_string_like() && t.is_string_like() => ScalarType::String,
            // An oid compared with an integer is compared as an oid (PostgreSQL), and so is
            // a reg* alias compared with an oid or an integer.
            _ if best.is_oid_like() && (t.is_integer() || t.is_oid_like()) => ScalarType::Oid,
            _ if t.is_oid_like() && best.is_integer() => ScalarType::Oid,
            _ => {
                return Err(PlanError::DatatypeMismatch(format!(
                    "{context} types {} and {} cannot be matched",
                    best.sql_name(),
                    t.sql_name()
                )));
            }
        };
    }
    Ok(best)
}

fn coerce_pair(
    op: &str,
    left: Typed,
    right: Typed,
) -> Result<(ScalarExpr, ScalarExpr, ScalarType)> {
    let (l, lt) = left;
    let (r, rt) = right;
    let typ = match (&lt, &rt) {
        (ScalarType::Unknown, ScalarType::Unknown) => ScalarType::String,
        (ScalarType::Unknown, t) | (t, ScalarType::Unknown) => t.without_modifiers(),
        _ => common_type(&[lt.clone(), rt.clone()], "operator")
            .map_err(|_| operator_error(op, &lt, &rt))?,
    };
    let typ = match typ {
        ScalarType::Char { .. } | ScalarType::VarChar { .. } if lt != rt => ScalarType::String,
        t => t,
    };
    let l =
        plan_cast(l, &lt, &typ, CastContext::Implicit).map_err(|_| operator_error(op, &lt, &rt))?;
    let r =
        plan_cast(r, &rt, &typ, CastContext::Implicit).map_err(|_| operator_error(op, &lt, &rt))?;
    Ok((l, r, typ))
}

fn operator_error(op: &str, l: &ScalarType, r: &ScalarType) -> PlanError {
    PlanError::UnknownOperator(format!("{} {op} {}", l.sql_name(), r.sql_name()))
}

fn call2(func: Func, l: ScalarExpr, r: ScalarExpr, typ: ScalarType) -> Result<Typed> {
    let e = ScalarExpr::call(func, vec![l, r]);
    Ok((fold_constant(e, &typ)?, typ))
}

fn not(e: ScalarExpr) -> ScalarExpr {
    ScalarExpr::call(Func::Not, vec![e])
}

/// Plans `left op right`.
pub fn plan_binary_op(op: &str, left: Typed, right: Typed) -> Result<Typed> {
    use ScalarType::*;
    let (lt, rt) = (left.1.clone(), right.1.clone());
    match op {
        "="
        | "<>"
        | "!="
        | "<"
        | "<="
        | ">"
        | ">="
        | "IS DISTINCT FROM"
        | "IS NOT DISTINCT FROM" => {
            let (l, r, typ) = coerce_pair(op, left, right)?;
            if matches!(typ, Jsonb | Array(_))
                && !matches!(
                    op,
                    "=" | "<>" | "!=" | "IS DISTINCT FROM" | "IS NOT DISTINCT FROM"
                )
            {
                return Err(operator_error(op, &lt, &rt));
            }
            let func = match op {
                "=" => Func::Eq,
                "<>" | "!=" => Func::NotEq,
                "<" => Func::Lt,
                "<=" => Func::Lte,
                ">" => Func::Gt,
                ">=" => Func::Gte,
                "IS DISTINCT FROM" => Func::IsDistinctFrom,
                _ => Func::IsNotDistinctFrom,
            };
            call2(func, l, r, Bool)
        }
        "+" | "-" | "*" | "/" | "%" => plan_arithmetic(op, left, right),
        "||" if lt == Bytes && matches!(rt, Bytes | Unknown) => {
            let r = plan_cast(right.0, &rt, &Bytes, CastContext::Implicit)?;
            call2(Func::Named(NamedFunc::BytesConcat), left.0, r, Bytes)
        }
        // Arrays: `array || array`, `array || element`, `element || array`.
        "||" if matches!(lt, Array(_)) || matches!(rt, Array(_)) => {
            let array_type = match (&lt, &rt) {
                (Array(_), Array(_)) => common_type(&[lt.clone(), rt.clone()], "ARRAY")?,
                (Array(_), _) => lt.clone(),
                _ => rt.clone(),
            };
            let Array(element) = &array_type else {
                return Err(operator_error(op, &lt, &rt));
            };
            let operand = |(e, t): Typed| -> Result<ScalarExpr> {
                match t {
                    Array(_) | Unknown => plan_cast(e, &t, &array_type, CastContext::Implicit),
                    _ => {
                        let e = plan_cast(e, &t, element, CastContext::Implicit)?;
                        Ok(ScalarExpr::call(Func::MakeArray, vec![e]))
                    }
                }
            };
            let (l, r) = (operand(left)?, operand(right)?);
            call2(Func::Named(NamedFunc::ArrayCat), l, r, array_type)
        }
        "||" => {
            if lt == Jsonb && rt == Jsonb {
                return Err(PlanError::unsupported("jsonb || jsonb"));
            }
            if !(lt.is_string_like() || rt.is_string_like() || lt == Unknown || rt == Unknown) {
                return Err(operator_error(op, &lt, &rt));
            }
            let l = plan_cast(left.0, &lt, &String, CastContext::Explicit)?;
            let r = plan_cast(right.0, &rt, &String, CastContext::Explicit)?;
            call2(Func::Concat, l, r, String)
        }
        "LIKE" | "NOT LIKE" | "ILIKE" | "NOT ILIKE" | "~" | "~*" | "!~" | "!~*" => {
            let text_of = |(e, t): Typed| -> Result<ScalarExpr> {
                if t == Unknown || t.is_string_like() {
                    plan_cast(e, &t, &String, CastContext::Implicit)
                } else {
                    Err(operator_error(op, &lt, &rt))
                }
            };
            let (l, r) = (text_of(left)?, text_of(right)?);
            let func = match op {
                "LIKE" | "NOT LIKE" => Func::Like {
                    case_insensitive: false,
                },
                "ILIKE" | "NOT ILIKE" => Func::Like {
                    case_insensitive: true,
                },
                "~" | "!~" => Func::RegexMatch {
                    case_insensitive: false,
                },
                _ => Func::RegexMatch {
                    case_insensitive: true,
                },
            };
            let (e, t) = call2(func, l, r, Bool)?;
            if op.starts_with("NOT") || op.starts_with('!') {
                Ok((fold_constant(not(e), &Bool)?, t))
            } else {
                Ok((e, t))
            }
        }
        "->" | "->>" => {
            let l = plan_cast(left.0, &lt, &Jsonb, CastContext::Implicit)
                .map_err(|_| operator_error(op, &lt, &rt))?;
            let key_type = if matches!(rt, Int16 | Int32 | Int64) {
                Int64
            } else {
                String
            };
            let r = plan_cast(right.0, &rt, &key_type, CastContext::Implicit)
                .map_err(|_| operator_error(op, &lt, &rt))?;
            if op == "->" {
                call2(Func::Named(NamedFunc::JsonbGet), l, r, Jsonb)
            } else {
                call2(Func::Named(NamedFunc::JsonbGetText), l, r, String)
            }
        }
        "#>" | "#>>" => {
            let l = plan_cast(left.0, &lt, &Jsonb, CastContext::Implicit)
                .map_err(|_| operator_error(op, &lt, &rt))?;
            let path_type = Array(Box::new(String));
            let r = plan_cast(right.0, &rt, &path_type, CastContext::Implicit)
                .map_err(|_| operator_error(op, &lt, &rt))?;
            if op == "#>" {
                call2(Func::Named(NamedFunc::JsonbGetPath), l, r, Jsonb)
            } else {
                call2(Func::Named(NamedFunc::JsonbGetPathText), l, r, String)
            }
        }
        "@>" | "<@" => {
            let l = plan_cast(left.0, &lt, &Jsonb, CastContext::Implicit)
                .map_err(|_| operator_error(op, &lt, &rt))?;
            let r = plan_cast(right.0, &rt, &Jsonb, CastContext::Implicit)
                .map_err(|_| operator_error(op, &lt, &rt))?;
            let (a, b) = if op == "@>" { (l, r) } else { (r, l) };
            call2(Func::Named(NamedFunc::JsonbContains), a, b, Bool)
        }
        "?" => {
            let l = plan_cast(left.0, &lt, &Jsonb, CastContext::Implicit)
                .map_err(|_| operator_error(op, &lt, &rt))?;
            let r = plan_cast(right.0, &rt, &String, CastContext::Implicit)
                .map_err(|_| operator_error(op, &lt, &rt))?;
            call2(Func::Named(NamedFunc::JsonbHasKey), l, r, Bool)
        }
        "?|" | "?&" => {
            let text_array = Array(Box::new(String));
            let l = plan_cast(left.0, &lt, &Jsonb, CastContext::Implicit)
                .map_err(|_| operator_error(op, &lt, &rt))?;
            let r = match &rt {
                Array(e) if **e == String => right.0,
                Unknown => plan_cast(right.0, &rt, &text_array, CastContext::Explicit)?,
                _ => return Err(operator_error(op, &lt, &rt)),
            };
            let f = if op == "?|" {
                NamedFunc::JsonbHasAnyKey
            } else {
                NamedFunc::JsonbHasAllKeys
            };
            call2(Func::Named(f), l, r, Bool)
        }
        other => Err(PlanError::UnknownOperator(format!(
            "{} {other} {}",
            lt.sql_name(),
            rt.sql_name()
        ))),
    }
}

fn plan_arithmetic(op: &str, left: Typed, right: Typed) -> Result<Typed> {
    use ScalarType::*;
    let (lt, rt) = (left.1.without_modifiers(), right.1.without_modifiers());
    let func = match op {
        "+" => Func::Add,
        "-" => Func::Sub,
        "*" => Func::Mul,
        "/" => Func::Div,
        _ => Func::Mod,
    };
    // Unknown literals take the other side's type.
    let (left, right) = match (&lt, &rt) {
        (Unknown, Unknown) => {
            return Err(PlanError::UnknownOperator(format!("unknown {op} unknown")));
        }
        (Unknown, t) => (
            (
                plan_cast(left.0, &Unknown, t, CastContext::Implicit)?,
                t.clone(),
            ),
            right,
        ),
        (t, Unknown) => (
            left,
            (
                plan_cast(right.0, &Unknown, t, CastContext::Implicit)?,
                t.clone(),
            ),
        ),
        _ => (left, right),
    };
    let (lt, rt) = (left.1.without_modifiers(), right.1.without_modifiers());
    let temporal = matches!(
        (&func, &lt, &rt),
        (Func::Add | Func::Sub, Date, Int16 | Int32 | Int64)
            | (Func::Add, Int16 | Int32 | Int64, Date)
            | (Func::Sub, Date, Date)
            | (
                Func::Add | Func::Sub,
                Date | Timestamp | TimestampTz | Time,
                Interval
            )
            | (Func::Add, Interval, Date | Timestamp | TimestampTz)
            | (Func::Sub, Timestamp, Timestamp)
            | (Func::Sub, TimestampTz, TimestampTz)
            | (Func::Sub, Time, Time)
            | (Func::Add | Func::Sub, Interval, Interval)
    );
    if temporal {
        // date ± integer takes an integer.
        let fix_int = |(e, t): Typed| -> Result<ScalarExpr> {
            if matches!(t, Int16 | Int64) {
                plan_cast(e, &t, &Int32, CastContext::Assignment)
            } else {
                Ok(e)
            }
        };
        let (l, r) = (fix_int(left)?, fix_int(right)?);
        let lt2 = if matches!(lt, Int16 | Int64) {
            Int32
        } else {
            lt.clone()
        };
        let rt2 = if matches!(rt, Int16 | Int64) {
            Int32
        } else {
            rt.clone()
        };
        let typ = crate::expr::func::arithmetic_result(&func, &lt2, &rt2);
        return call2(func, l, r, typ);
    }
    if matches!(func, Func::Mul | Func::Div) && (lt == Interval) != (rt == Interval) {
        let (interval, number, interval_left) = if lt == Interval {
            (left, right, true)
        } else {
            (right, left, false)
        };
        if numeric_rank(&number.1).is_none() || (!interval_left && func == Func::Div) {
            return Err(operator_error(op, &lt, &rt));
        }
        let n = plan_cast(number.0, &number.1, &Float64, CastContext::Implicit)?;
        let (l, r) = if interval_left {
            (interval.0, n)
        } else {
            (n, interval.0)
        };
        return call2(func, l, r, Interval);
    }
    if numeric_rank(&lt).is_none() || numeric_rank(&rt).is_none() {
        return Err(operator_error(op, &left.1, &right.1));
    }
    let (l, r, typ) = coerce_pair(op, left, right)?;
    if func == Func::Mod && matches!(typ, Float32 | Float64) {
        return Err(operator_error(op, &lt, &rt));
    }
    call2(func, l, r, typ)
}

/// Plans a prefix operator or a postfix test (`IS NULL`, ...).
pub fn plan_unary_op(op: &str, expr: Typed) -> Result<Typed> {
    use ScalarType::*;
    let (e, t) = expr;
    let test = |func: Func, e: ScalarExpr, negate: bool| -> Result<Typed> {
        let call = ScalarExpr::call(func, vec![e]);
        let call = if negate { not(call) } else { call };
        Ok((fold_constant(call, &Bool)?, Bool))
    };
    let boolean = |e: ScalarExpr, t: &ScalarType| -> Result<ScalarExpr> {
        if *t == Bool || *t == Unknown {
            plan_cast(e, t, &Bool, CastContext::Implicit)
        } else {
            Err(PlanError::DatatypeMismatch(format!(
                "argument of {op} must be type boolean, not type {}",
                t.sql_name()
            )))
        }
    };
    match op {
        "-" => {
            let t = if t == Unknown {
                Numeric { typmod: None }
            } else {
                t
            };
            let e = plan_cast(e, &Unknown, &t, CastContext::Implicit)
                .unwrap_or_else(|_| ScalarExpr::null(t.clone()));
            if numeric_rank(&t).is_none() && t != Interval {
                return Err(PlanError::UnknownOperator(format!("- {}", t.sql_name())));
            }
            let call = ScalarExpr::call(Func::Neg, vec![e]);
            Ok((fold_constant(call, &t)?, t.without_modifiers()))
        }
        "+" => {
            if numeric_rank(&t).is_none() && t != Interval && t != Unknown {
                return Err(PlanError::UnknownOperator(format!("+ {}", t.sql_name())));
            }
            Ok((e, t))
        }
        "NOT" => {
            let e = boolean(e, &t)?;
            Ok((fold_constant(not(e), &Bool)?, Bool))
        }
        "IS NULL" | "IS UNKNOWN" => test(Func::IsNull, e, false),
        "IS NOT NULL" | "IS NOT UNKNOWN" => test(Func::IsNotNull, e, false),
        "IS TRUE" => test(Func::IsTrue, boolean(e, &t)?, false),
        "IS NOT TRUE" => test(Func::IsTrue, boolean(e, &t)?, true),
        "IS FALSE" => test(Func::IsFalse, boolean(e, &t)?, false),
        "IS NOT FALSE" => test(Func::IsFalse, boolean(e, &t)?, true),
        other => Err(PlanError::UnknownOperator(format!(
            "{other} {}",
            t.sql_name()
        ))),
    }
}

/// Argument types a function accepts: each a family, coerced to its concrete type.
#[derive(Clone, Copy)]
enum Param {
    Text,
    Int,
    Float,
    /// Any numeric type, kept as is.
    Number,
    Any,
    Timestamp,
    Jsonb,
}

fn coerce_args(
    name: &str,
    args: Vec<Typed>,
    params: &[Param],
    variadic: bool,
) -> Result<Vec<ScalarExpr>> {
    if (!variadic && args.len() != params.len())
        || (variadic && args.len() < params.len().saturating_sub(1))
    {
        return Err(unknown_function(name, &args));
    }
    let types: Vec<ScalarType> = args.iter().map(|(_, t)| t.clone()).collect();
    let mut out = Vec::with_capacity(args.len());
    for (i, (e, t)) in args.into_iter().enumerate() {
        let param = if i < params.len() {
            params[i]
        } else {
            *params.last().unwrap_or(&Param::Any)
        };
        let target = match param {
            Param::Text => ScalarType::String,
            Param::Int => ScalarType::Int32,
            Param::Float => ScalarType::Float64,
            Param::Number => {
                if numeric_rank(&t).is_none() && t != ScalarType::Unknown {
                    return Err(unknown_function_types(name, &types));
                }
                if t == ScalarType::Unknown {
                    ScalarType::Numeric { typmod: None }
                } else {
                    t.clone()
                }
            }
            Param::Any => {
                out.push(plan_cast(
                    e,
                    &t,
                    if t == ScalarType::Unknown {
                        &ScalarType::String
                    } else {
                        &t
                    },
                    CastContext::Implicit,
                )?);
                continue;
            }
            Param::Timestamp => {
                if temporal_rank(&t).is_none()
                    && t != ScalarType::Interval
                    && t != ScalarType::Unknown
                {
                    return Err(unknown_function_types(name, &types));
                }
                if t == ScalarType::Unknown {
                    ScalarType::TimestampTz
                } else {
                    t.clone()
                }
            }
            Param::Jsonb => ScalarType::Jsonb,
        };
        let ccx = if matches!(param, Param::Text) && t != ScalarType::Unknown && !t.is_string_like()
        {
            return Err(unknown_function_types(name, &types));
        } else {
            CastContext::Implicit
        };
        out.push(plan_cast(e, &t, &target, ccx).map_err(|_| unknown_function_types(name, &types))?);
    }
    Ok(out)
}

fn unknown_function(name: &str, args: &[Typed]) -> PlanError {
    unknown_function_types(
        name,
        &args.iter().map(|(_, t)| t.clone()).collect::<Vec<_>>(),
    )
}

fn unknown_function_types(name: &str, types: &[ScalarType]) -> PlanError {
    PlanError::UnknownFunction(format!(
        "{name}({})",
        types
            .iter()
            .map(|t| t.sql_name())
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// Plans a call of a scalar function.
pub fn plan_function(name: &str, args: Vec<Typed>) -> Result<Typed> {
    use ScalarType::*;
    // A vector (`int2vector`) is an array subscripted from 0: its bounds are one less than
    // the array's; everything else sees the array.
    let first_is_vector = args
        .first()
        .is_some_and(|(_, t)| t.vector_element().is_some());
    let args: Vec<Typed> = args
        .into_iter()
        .map(|(e, t)| match t.vector_element() {
            Some(_) => (e, t.as_array()),
            None => (e, t),
        })
        .collect();
    let named =
        |f: NamedFunc, params: &[Param], ret: ScalarType, args: Vec<Typed>| -> Result<Typed> {
            let exprs = coerce_args(name, args, params, false)?;
            let e = ScalarExpr::call(Func::Named(f), exprs);
            Ok((fold_constant(e, &ret)?, ret))
        };
    let first_type = args
        .first()
        .map(|(_, t)| t.without_modifiers())
        .unwrap_or(Unknown);
    match (name, args.len()) {
        ("lower", 1) => named(NamedFunc::Lower, &[Param::Text], String, args),
        ("upper", 1) => named(NamedFunc::Upper, &[Param::Text], String, args),
        ("length", 1) if first_type == Bytes => Ok((
            ScalarExpr::call(
                Func::Named(NamedFunc::OctetLength),
                vec![args.into_iter().next().expect("one arg").0],
            ),
            Int32,
        )),
        ("md5", 1) if first_type == Bytes => Ok((
            ScalarExpr::call(
                Func::Named(NamedFunc::Md5),
                vec![args.into_iter().next().expect("one arg").0],
            ),
            String,
        )),
        ("md5", 1) => named(NamedFunc::Md5, &[Param::Text], String, args),
        ("sha256", 1) => {
            let (e, t) = args.into_iter().next().expect("one arg");
            let e = plan_cast(e, &t, &Bytes, CastContext::Implicit)
                .map_err(|_| PlanError::UnknownFunction(format!("sha256({})", t.sql_name())))?;
            Ok((
                ScalarExpr::call(Func::Named(NamedFunc::Sha256), vec![e]),
                Bytes,
            ))
        }
        ("encode", 2) => {
            let mut args = args.into_iter();
            let (data, dt) = args.next().expect("two args");
            let (format, ft) = args.next().expect("two args");
            let data = plan_cast(data, &dt, &Bytes, CastContext::Implicit).map_err(|_| {
                PlanError::UnknownFunction(format!("encode({}, text)", dt.sql_name()))
            })?;
            let format = plan_cast(format, &ft, &String, CastContext::Implicit)?;
            Ok((
                ScalarExpr::call(Func::Named(NamedFunc::Encode), vec![data, format]),
                String,
            ))
        }
        ("decode", 2) => named(NamedFunc::Decode, &[Param::Text, Param::Text], Bytes, args),
        ("length" | "char_length" | "character_length", 1) => {
            named(NamedFunc::CharLength, &[Param::Text], Int32, args)
        }
        ("octet_length", 1) if first_type == Bytes => {
            let e = ScalarExpr::call(
                Func::Named(NamedFunc::OctetLength),
                vec![args.into_iter().next().expect("one arg").0],
            );
            Ok((e, Int32))
        }
        ("octet_length", 1) => named(NamedFunc::OctetLength, &[Param::Text], Int32, args),
        ("substring" | "substr", 2) => named(
            NamedFunc::Substring,
            &[Param::Text, Param::Int],
            String,
            args,
        ),
        ("substring" | "substr", 3) => named(
            NamedFunc::Substring,
            &[Param::Text, Param::Int, Param::Int],
            String,
            args,
        ),
        ("strpos", 2) => named(NamedFunc::Strpos, &[Param::Text, Param::Text], Int32, args),
        ("btrim" | "trim", 1 | 2) => named(
            NamedFunc::Btrim,
            &[Param::Text, Param::Text][..args.len()],
            String,
            args,
        ),
        ("ltrim", 1 | 2) => named(
            NamedFunc::Ltrim,
            &[Param::Text, Param::Text][..args.len()],
            String,
            args,
        ),
        ("rtrim", 1 | 2) => named(
            NamedFunc::Rtrim,
            &[Param::Text, Param::Text][..args.len()],
            String,
            args,
        ),
        ("replace", 3) => named(
            NamedFunc::Replace,
            &[Param::Text, Param::Text, Param::Text],
            String,
            args,
        ),
        ("concat", _) => {
            let exprs = args
                .into_iter()
                .map(concat_arg)
                .collect::<Result<Vec<_>>>()?;
            Ok((
                ScalarExpr::call(Func::Named(NamedFunc::ConcatAll), exprs),
                String,
            ))
        }
        ("concat_ws", n) if n >= 1 => {
            let exprs = args
                .into_iter()
                .map(concat_arg)
                .collect::<Result<Vec<_>>>()?;
            Ok((
                ScalarExpr::call(Func::Named(NamedFunc::ConcatWs), exprs),
                String,
            ))
        }
        ("left", 2) => named(NamedFunc::Left, &[Param::Text, Param::Int], String, args),
        ("quote_ident", 1) => named(NamedFunc::QuoteIdent, &[Param::Text], String, args),
        ("quote_literal", 1) => named(NamedFunc::QuoteLiteral, &[Param::Text], String, args),
        ("pg_size_pretty", 1) => named(NamedFunc::SizePretty, &[Param::Number], String, args),
        ("right", 2) => named(NamedFunc::Right, &[Param::Text, Param::Int], String, args),
        ("lpad", 2 | 3) => named(
            NamedFunc::Lpad,
            &[Param::Text, Param::Int, Param::Text][..args.len()],
            String,
            args,
        ),
        ("rpad", 2 | 3) => named(
            NamedFunc::Rpad,
            &[Param::Text, Param::Int, Param::Text][..args.len()],
            String,
            args,
        ),
        ("repeat", 2) => named(NamedFunc::Repeat, &[Param::Text, Param::Int], String, args),
        ("reverse", 1) => named(NamedFunc::Reverse, &[Param::Text], String, args),
        ("split_part", 3) => named(
            NamedFunc::SplitPart,
            &[Param::Text, Param::Text, Param::Int],
            String,
            args,
        ),
        ("starts_with", 2) => named(
            NamedFunc::StartsWith,
            &[Param::Text, Param::Text],
            Bool,
            args,
        ),
        ("initcap", 1) => named(NamedFunc::Initcap, &[Param::Text], String, args),
        ("ascii", 1) => named(NamedFunc::Ascii, &[Param::Text], Int32, args),
        ("chr", 1) => named(NamedFunc::Chr, &[Param::Int], String, args),
        ("regexp_match", 2 | 3) => named(
            NamedFunc::RegexpMatch,
            &[Param::Text, Param::Text, Param::Text][..args.len()],
            Array(Box::new(String)),
            args,
        ),
        ("string_to_array", 2 | 3) => named(
            NamedFunc::StringToArray,
            &[Param::Text, Param::Text, Param::Text][..args.len()],
            Array(Box::new(String)),
            args,
        ),
        ("array_to_string", 2 | 3) if matches!(first_type, Array(_)) => {
            let mut args = args;
            let (arr, _) = args.remove(0);
            let mut planned = vec![arr];
            for (e, t) in args {
                planned.push(plan_cast(e, &t, &String, CastContext::Implicit)?);
            }
            Ok((
                ScalarExpr::call(Func::Named(NamedFunc::ArrayToString), planned),
                String,
            ))
        }
        ("array_position", 2) if matches!(first_type, Array(_)) => {
            let mut args = args;
            let (value, vt) = args.remove(1);
            let (arr, at) = args.remove(0);
            let Array(element) = at else {
                unreachable!("matched an array")
            };
            let value = plan_cast(value, &vt, &element, CastContext::Implicit)?;
            Ok((
                ScalarExpr::call(Func::Named(NamedFunc::ArrayPosition), vec![arr, value]),
                Int32,
            ))
        }
        ("regexp_replace", 3 | 4) => named(
            NamedFunc::RegexpReplace,
            &[Param::Text, Param::Text, Param::Text, Param::Text][..args.len()],
            String,
            args,
        ),
        ("abs", 1) => named(
            NamedFunc::Abs,
            &[Param::Number],
            number_type(&first_type),
            args,
        ),
        ("ceil" | "ceiling", 1) => named(
            NamedFunc::Ceil,
            &[Param::Number],
            rounding_type(&first_type),
            args,
        ),
        ("floor", 1) => named(
            NamedFunc::Floor,
            &[Param::Number],
            rounding_type(&first_type),
            args,
        ),
        ("round", 1) => named(
            NamedFunc::Round,
            &[Param::Number],
            rounding_type(&first_type),
            args,
        ),
        ("round", 2) => {
            let mut args = args;
            let (e, t) = args.remove(0);
            let numeric = Numeric { typmod: None };
            let e = plan_cast(e, &t, &numeric, CastContext::Implicit)
                .map_err(|_| unknown_function_types(name, std::slice::from_ref(&t)))?;
            args.insert(0, (e, numeric.clone()));
            named(
                NamedFunc::Round,
                &[Param::Number, Param::Int],
                numeric,
                args,
            )
        }
        ("trunc", 1) => named(
            NamedFunc::Trunc,
            &[Param::Number],
            rounding_type(&first_type),
            args,
        ),
        ("trunc", 2) => {
            let mut args = args;
            let (e, t) = args.remove(0);
            let numeric = Numeric { typmod: None };
            let e = plan_cast(e, &t, &numeric, CastContext::Implicit)?;
            args.insert(0, (e, numeric.clone()));
            named(
                NamedFunc::Trunc,
                &[Param::Number, Param::Int],
                numeric,
                args,
            )
        }
        ("sqrt", 1) => named(NamedFunc::Sqrt, &[Param::Float], Float64, args),
        ("cbrt", 1) => named(NamedFunc::Cbrt, &[Param::Float], Float64, args),
        ("power" | "pow", 2) => named(
            NamedFunc::Power,
            &[Param::Float, Param::Float],
            Float64,
            args,
        ),
        ("exp", 1) => named(NamedFunc::Exp, &[Param::Float], Float64, args),
        ("ln", 1) => named(NamedFunc::Ln, &[Param::Float], Float64, args),
        ("log" | "log10", 1) => named(NamedFunc::Log10, &[Param::Float], Float64, args),
        ("sign", 1) => named(
            NamedFunc::Sign,
            &[Param::Number],
            if matches!(first_type, Numeric { .. }) {
                first_type.clone()
            } else {
                Float64
            },
            args,
        ),
        ("pi", 0) => named(NamedFunc::Pi, &[], Float64, args),
        ("mod", 2) => plan_binary_op("%", args[0].clone(), args[1].clone()),
        ("div", 2) => {
            let (q, t) = plan_binary_op("/", args[0].clone(), args[1].clone())?;
            plan_function("trunc", vec![(q, t)])
        }
        ("greatest" | "least", n) if n >= 1 => {
            let types: Vec<ScalarType> = args.iter().map(|(_, t)| t.clone()).collect();
            let typ = common_type(&types, &name.to_uppercase())?;
            let typ = if typ == Unknown { String } else { typ };
            let exprs = args
                .into_iter()
                .map(|(e, t)| plan_cast(e, &t, &typ, CastContext::Implicit))
                .collect::<Result<Vec<_>>>()?;
            let func = if name == "greatest" {
                Func::Greatest
            } else {
                Func::Least
            };
            Ok((ScalarExpr::call(func, exprs), typ))
        }
        ("date_trunc", 2) => {
            let ret = match args[1].1 {
                Timestamp => Timestamp,
                Interval => Interval,
                _ => TimestampTz,
            };
            named(
                NamedFunc::DateTrunc,
                &[Param::Text, Param::Timestamp],
                ret,
                args,
            )
        }
        ("date_bin", 3) => {
            // (interval, timestamp, timestamp) → timestamp, else the timestamptz form.
            let plain = args[1].1 == Timestamp && matches!(args[2].1, Timestamp | Unknown);
            let typ = if plain { Timestamp } else { TimestampTz };
            let mut exprs = Vec::with_capacity(3);
            for ((e, t), target) in args.into_iter().zip([Interval, typ.clone(), typ.clone()]) {
                exprs.push(
                    plan_cast(e, &t, &target, CastContext::Implicit)
                        .map_err(|_| unknown_function_types(name, std::slice::from_ref(&t)))?,
                );
            }
            let e = ScalarExpr::call(Func::Named(NamedFunc::DateBin), exprs);
            Ok((fold_constant(e, &typ)?, typ))
        }
        ("date_part" | "extract", 2) => {
            // date_part is double precision; EXTRACT is numeric (PostgreSQL 14+).
            let (func, ret) = if name == "extract" {
                (NamedFunc::Extract, Numeric { typmod: None })
            } else {
                (NamedFunc::DatePart, Float64)
            };
            let mut args = args;
            if args[1].1 == Time || args[1].1 == Interval {
                let exprs = coerce_args(name, args, &[Param::Text, Param::Any], false)?;
                let e = ScalarExpr::call(Func::Named(func), exprs);
                return Ok((fold_constant(e, &ret)?, ret));
            }
            let (e, t) = args.remove(1);
            let t2 = if t == Unknown { TimestampTz } else { t };
            args.push((e, t2));
            named(func, &[Param::Text, Param::Timestamp], ret, args)
        }
        ("to_timestamp", 1) => named(NamedFunc::ToTimestamp, &[Param::Float], TimestampTz, args),
        ("make_date", 3) => named(
            NamedFunc::MakeDate,
            &[Param::Int, Param::Int, Param::Int],
            Date,
            args,
        ),
        ("age", 2) => {
            let typ = common_type(&[args[0].1.clone(), args[1].1.clone()], "age")?;
            let typ = if typ == TimestampTz {
                TimestampTz
            } else {
                Timestamp
            };
            let exprs = args
                .into_iter()
                .map(|(e, t)| plan_cast(e, &t, &typ, CastContext::Implicit))
                .collect::<Result<Vec<_>>>()?;
            Ok((
                ScalarExpr::call(Func::Named(NamedFunc::Age), exprs),
                Interval,
            ))
        }
        ("to_char", 2) if matches!(first_type, Timestamp | TimestampTz | Date) => {
            let mut args = args;
            let (fmt, ft) = args.remove(1);
            let fmt = plan_cast(fmt, &ft, &String, CastContext::Implicit)
                .map_err(|_| unknown_function_types(name, &[first_type.clone(), ft.clone()]))?;
            let (value, _) = args.remove(0);
            Ok((
                ScalarExpr::call(Func::Named(NamedFunc::ToChar), vec![value, fmt]),
                String,
            ))
        }
        ("jsonb_typeof", 1) => named(NamedFunc::JsonbTypeof, &[Param::Jsonb], String, args),
        ("jsonb_array_length", 1) => {
            named(NamedFunc::JsonbArrayLength, &[Param::Jsonb], Int32, args)
        }
        // Freshet has no `json` type: the `json_` builders give jsonb.
        ("jsonb_build_object" | "json_build_object", _) => {
            let exprs = args
                .into_iter()
                .map(|(e, t)| retype_unknown(e, t))
                .collect();
            Ok((
                ScalarExpr::call(Func::Named(NamedFunc::JsonbBuildObject), exprs),
                Jsonb,
            ))
        }
        ("jsonb_build_array" | "json_build_array", _) => {
            let exprs = args
                .into_iter()
                .map(|(e, t)| retype_unknown(e, t))
                .collect();
            Ok((
                ScalarExpr::call(Func::Named(NamedFunc::JsonbBuildArray), exprs),
                Jsonb,
            ))
        }
        // Arrays are indexed from 1: a dimension's upper bound is its length, its lower
        // bound 1 (both NULL where the array has no such dimension, or is empty).
        ("array_upper" | "array_lower", 2) if matches!(first_type, Array(_)) => {
            let mut args = args;
            let (dim, dt) = args.remove(1);
            let dim = plan_cast(dim, &dt, &Int32, CastContext::Implicit)?;
            let (arr, _) = args.remove(0);
            let length = ScalarExpr::call(Func::Named(NamedFunc::ArrayLength), vec![arr, dim]);
            let lower = if first_is_vector { 0 } else { 1 };
            if name == "array_upper" {
                let upper = ScalarExpr::call(
                    Func::Add,
                    vec![length, ScalarExpr::literal(Datum::Int32(lower - 1), Int32)],
                );
                return Ok((upper, Int32));
            }
            Ok((
                ScalarExpr::If {
                    cond: Box::new(ScalarExpr::call(Func::IsNull, vec![length])),
                    then: Box::new(ScalarExpr::null(Int32)),
                    els: Box::new(ScalarExpr::literal(Datum::Int32(lower), Int32)),
                },
                Int32,
            ))
        }
        ("array_length", 2) if matches!(first_type, Array(_)) => {
            let mut args = args;
            let (dim, dt) = args.remove(1);
            let dim = plan_cast(dim, &dt, &Int32, CastContext::Implicit)?;
            let (arr, _) = args.remove(0);
            Ok((
                ScalarExpr::call(Func::Named(NamedFunc::ArrayLength), vec![arr, dim]),
                Int32,
            ))
        }
        ("int8" | "int4" | "int2" | "float8" | "float4" | "text" | "numeric", 1) => {
            let target = match name {
                "int8" => Int64,
                "int4" => Int32,
                "int2" => Int16,
                "float8" => Float64,
                "float4" => Float32,
                "text" => String,
                _ => Numeric { typmod: None },
            };
            let (e, t) = args.into_iter().next().expect("one arg");
            Ok((plan_cast(e, &t, &target, CastContext::Explicit)?, target))
        }
        _ => Err(unknown_function(name, &args)),
    }
}

fn retype_unknown(e: ScalarExpr, t: ScalarType) -> ScalarExpr {
    if t == ScalarType::Unknown {
        retype_literal(e, &ScalarType::String)
    } else {
        e
    }
}

fn number_type(t: &ScalarType) -> ScalarType {
    if *t == ScalarType::Unknown {
        ScalarType::Numeric { typmod: None }
    } else {
        t.clone()
    }
}

/// ceil / floor / round / trunc of an integer return double precision in PostgreSQL.
fn rounding_type(t: &ScalarType) -> ScalarType {
    match t {
        ScalarType::Int16 | ScalarType::Int32 | ScalarType::Int64 => ScalarType::Float64,
        other => number_type(other),
    }
}

/// An aggregate call: MIR aggregates plus the expression over their results that finishes
/// it (`Column(i)` is `aggregates[i]`).
pub struct AggregatePlan {
    pub aggregates: Vec<AggregateExpr>,
    pub finish: ScalarExpr,
    pub typ: ScalarType,
}

pub fn is_aggregate(name: &str) -> bool {
    matches!(
        name,
        "count"
            | "sum"
            | "avg"
            | "min"
            | "max"
            | "bool_and"
            | "bool_or"
            | "every"
            | "string_agg"
            | "array_agg"
            | "percentile_cont"
            | "percentile_disc"
            | "mode"
            | "jsonb_agg"
            | "stddev"
            | "stddev_samp"
            | "stddev_pop"
            | "variance"
            | "var_samp"
            | "var_pop"
    )
}

fn single(func: AggregateFunc, expr: ScalarExpr, distinct: bool, typ: ScalarType) -> AggregatePlan {
    AggregatePlan {
        aggregates: vec![AggregateExpr {
            func,
            expr,
            distinct,
        }],
        finish: ScalarExpr::Column(0),
        typ,
    }
}

/// Plans an aggregate call. `order_by` is the aggregate's own ORDER BY:
/// `(expr, type, descending, nulls_last)`.
pub fn plan_aggregate(
    name: &str,
    args: Vec<Typed>,
    distinct: bool,
    order_by: Vec<(ScalarExpr, ScalarType, bool, bool)>,
) -> Result<AggregatePlan> {
    use ScalarType::*;
    if matches!(name, "percentile_cont" | "percentile_disc" | "mode") {
        return plan_ordered_set_aggregate(name, args, order_by);
    }
    if !order_by.is_empty() && !matches!(name, "string_agg" | "array_agg" | "jsonb_agg") {
        return Err(PlanError::unsupported(format!("ORDER BY in {name}")));
    }
    let arg_types: Vec<ScalarType> = args.iter().map(|(_, t)| t.clone()).collect();
    let wrong = || unknown_function_types(name, &arg_types);
    let one = |args: &[Typed]| -> Result<Typed> {
        args.first()
            .cloned()
            .filter(|_| args.len() == 1)
            .ok_or_else(wrong)
    };
    match name {
        "count" => {
            let expr = match args.len() {
                0 => ScalarExpr::literal_true(),
                1 => args[0].0.clone(),
                _ => return Err(wrong()),
            };
            Ok(single(AggregateFunc::Count, expr, distinct, Int64))
        }
        "sum" => {
            let (e, t) = one(&args)?;
            let t = if t == Unknown {
                Numeric { typmod: None }
            } else {
                t
            };
            let (func, typ) = match t.without_modifiers() {
                Int16 | Int32 => (AggregateFunc::SumInt, Int64),
                Int64 | Numeric { .. } => (AggregateFunc::SumNumeric, Numeric { typmod: None }),
                Float32 => (AggregateFunc::SumFloat32, Float32),
                Float64 => (AggregateFunc::SumFloat, Float64),
                Interval => return Err(PlanError::unsupported("sum(interval)")),
                _ => return Err(wrong()),
            };
            let e = plan_cast(e, &args[0].1, &t, CastContext::Implicit)?;
            Ok(single(func, e, distinct, typ))
        }
        "avg" => {
            let (e, t) = one(&args)?;
            let (sum_func, result) = match t.without_modifiers() {
                Int16 | Int32 | Int64 | Numeric { .. } | Unknown => {
                    (AggregateFunc::SumNumeric, Numeric { typmod: None })
                }
                Float32 | Float64 => (AggregateFunc::SumFloat, Float64),
                _ => return Err(wrong()),
            };
            let input = if result == Float64 {
                Float64
            } else {
                Numeric { typmod: None }
            };
            let e = plan_cast(e, &t, &input, CastContext::Implicit)?;
            let count = ScalarExpr::call(Func::Cast(input.clone()), vec![ScalarExpr::Column(1)]);
            // sum / count, NULL when there are no non-NULL inputs (count = 0).
            let finish = ScalarExpr::If {
                cond: Box::new(ScalarExpr::call(
                    Func::Eq,
                    vec![
                        ScalarExpr::Column(1),
                        ScalarExpr::literal(Datum::Int64(0), Int64),
                    ],
                )),
                then: Box::new(ScalarExpr::null(result.clone())),
                els: Box::new(ScalarExpr::call(
                    Func::Div,
                    vec![ScalarExpr::Column(0), count],
                )),
            };
            Ok(AggregatePlan {
                aggregates: vec![
                    AggregateExpr {
                        func: sum_func,
                        expr: e.clone(),
                        distinct,
                    },
                    AggregateExpr {
                        func: AggregateFunc::Count,
                        expr: e,
                        distinct,
                    },
                ],
                finish,
                typ: result,
            })
        }
        "stddev" | "stddev_samp" | "stddev_pop" | "variance" | "var_samp" | "var_pop" => {
            let (e, t) = one(&args)?;
            if numeric_rank(&t).is_none() {
                return Err(wrong());
            }
            let population = name.ends_with("_pop");
            let min_count = if population { 1 } else { 2 };
            if !matches!(t, Float32 | Float64) {
                // Integers and numerics: exact numeric arithmetic, as PostgreSQL does:
                // variance = (n·Σx² − (Σx)²) / (n·(n − 1)) (or n² for the population).
                let numeric = Numeric { typmod: None };
                let x = plan_cast(e, &t, &numeric, CastContext::Implicit)?;
                let square = ScalarExpr::call(Func::Mul, vec![x.clone(), x.clone()]);
                let n = ScalarExpr::call(Func::Cast(numeric.clone()), vec![ScalarExpr::Column(2)]);
                let numerator = ScalarExpr::call(
                    Func::Sub,
                    vec![
                        ScalarExpr::call(Func::Mul, vec![n.clone(), ScalarExpr::Column(1)]),
                        ScalarExpr::call(
                            Func::Mul,
                            vec![ScalarExpr::Column(0), ScalarExpr::Column(0)],
                        ),
                    ],
                );
                let other = if population {
                    n.clone()
                } else {
                    ScalarExpr::call(
                        Func::Sub,
                        vec![
                            n.clone(),
                            ScalarExpr::literal(Datum::Numeric(1.into()), numeric.clone()),
                        ],
                    )
                };
                let variance = ScalarExpr::call(
                    Func::Div,
                    vec![numerator, ScalarExpr::call(Func::Mul, vec![n, other])],
                );
                let value = if name.starts_with("stddev") {
                    ScalarExpr::call(Func::Named(NamedFunc::NumericSqrt), vec![variance])
                } else {
                    variance
                };
                let finish = ScalarExpr::If {
                    cond: Box::new(ScalarExpr::call(
                        Func::Lt,
                        vec![
                            ScalarExpr::Column(2),
                            ScalarExpr::literal(Datum::Int64(min_count), Int64),
                        ],
                    )),
                    then: Box::new(ScalarExpr::null(numeric.clone())),
                    els: Box::new(value),
                };
                return Ok(AggregatePlan {
                    aggregates: vec![
                        AggregateExpr {
                            func: AggregateFunc::SumNumeric,
                            expr: x.clone(),
                            distinct,
                        },
                        AggregateExpr {
                            func: AggregateFunc::SumNumeric,
                            expr: square,
                            distinct,
                        },
                        AggregateExpr {
                            func: AggregateFunc::Count,
                            expr: x,
                            distinct,
                        },
                    ],
                    finish,
                    typ: numeric,
                });
            }
            let x = plan_cast(e, &t, &Float64, CastContext::Implicit)?;
            let square = ScalarExpr::call(Func::Mul, vec![x.clone(), x.clone()]);
            // var = (Σx² − (Σx)²/n) / (n − 1) (sample) or / n (population).
            let n = ScalarExpr::call(Func::Cast(Float64), vec![ScalarExpr::Column(2)]);
            let sum = ScalarExpr::Column(0);
            let sumsq = ScalarExpr::Column(1);
            let numerator = ScalarExpr::call(
                Func::Sub,
                vec![
                    sumsq,
                    ScalarExpr::call(
                        Func::Div,
                        vec![
                            ScalarExpr::call(Func::Mul, vec![sum.clone(), sum]),
                            n.clone(),
                        ],
                    ),
                ],
            );
            let denominator = if population {
                n
            } else {
                ScalarExpr::call(
                    Func::Sub,
                    vec![n, ScalarExpr::literal(Datum::f64(1.0), Float64)],
                )
            };
            let variance = ScalarExpr::call(
                Func::Greatest,
                vec![
                    ScalarExpr::call(Func::Div, vec![numerator, denominator]),
                    ScalarExpr::literal(Datum::f64(0.0), Float64),
                ],
            );
            let value = if name.starts_with("stddev") {
                ScalarExpr::call(Func::Named(NamedFunc::Sqrt), vec![variance])
            } else {
                variance
            };
            let finish = ScalarExpr::If {
                cond: Box::new(ScalarExpr::call(
                    Func::Lt,
                    vec![
                        ScalarExpr::Column(2),
                        ScalarExpr::literal(Datum::Int64(min_count), Int64),
                    ],
                )),
                then: Box::new(ScalarExpr::null(Float64)),
                els: Box::new(value),
            };
            Ok(AggregatePlan {
                aggregates: vec![
                    AggregateExpr {
                        func: AggregateFunc::SumFloat,
                        expr: x.clone(),
                        distinct,
                    },
                    AggregateExpr {
                        func: AggregateFunc::SumFloat,
                        expr: square,
                        distinct,
                    },
                    AggregateExpr {
                        func: AggregateFunc::Count,
                        expr: x,
                        distinct,
                    },
                ],
                finish,
                typ: Float64,
            })
        }
        "min" | "max" => {
            let (e, t) = one(&args)?;
            if matches!(t, Jsonb) {
                return Err(wrong());
            }
            let t = if t == Unknown {
                String
            } else {
                t.without_modifiers()
            };
            let func = if name == "min" {
                AggregateFunc::Min
            } else {
                AggregateFunc::Max
            };
            Ok(single(func, e, distinct, t))
        }
        "bool_and" | "every" | "bool_or" | "any" | "all" => {
            let (e, t) = one(&args)?;
            if t != Bool && t != Unknown {
                return Err(wrong());
            }
            let func = match name {
                "bool_and" | "every" => AggregateFunc::BoolAnd,
                "bool_or" => AggregateFunc::BoolOr,
                "any" => AggregateFunc::Any,
                _ => AggregateFunc::All,
            };
            Ok(single(func, e, distinct, Bool))
        }
        "string_agg" => {
            if args.len() != 2 {
                return Err(wrong());
            }
            let value = plan_cast(
                args[0].0.clone(),
                &args[0].1,
                &String,
                CastContext::Implicit,
            )
            .map_err(|_| wrong())?;
            let delimiter = plan_cast(
                args[1].0.clone(),
                &args[1].1,
                &String,
                CastContext::Implicit,
            )
            .map_err(|_| wrong())?;
            let (keys, order) = order_keys(order_by);
            let mut fields = vec![value, delimiter];
            fields.extend(keys);
            Ok(single(
                AggregateFunc::StringAgg { order },
                ScalarExpr::call(Func::MakeRecord, fields),
                distinct,
                String,
            ))
        }
        "array_agg" | "jsonb_agg" => {
            let (e, t) = one(&args)?;
            let t = if t == Unknown { String } else { t };
            let (keys, order) = order_keys(order_by);
            let mut fields = vec![e];
            fields.extend(keys);
            let (func, typ) = if name == "array_agg" {
                (
                    AggregateFunc::ArrayAgg { order },
                    Array(Box::new(t.without_modifiers())),
                )
            } else {
                (AggregateFunc::JsonbAgg { order }, Jsonb)
            };
            Ok(single(
                func,
                ScalarExpr::call(Func::MakeRecord, fields),
                distinct,
                typ,
            ))
        }
        _ => Err(wrong()),
    }
}

/// The ordered-set aggregates: `percentile_cont(f)`, `percentile_disc(f)` and `mode()`, each
/// `WITHIN GROUP (ORDER BY v)` (`order_by`, exactly one key). The fraction must be a constant
/// between 0 and 1.
fn plan_ordered_set_aggregate(
    name: &str,
    args: Vec<Typed>,
    order_by: Vec<(ScalarExpr, ScalarType, bool, bool)>,
) -> Result<AggregatePlan> {
    use ScalarType::*;
    let [(value, value_type, desc, nulls_last)] = <[_; 1]>::try_from(order_by).map_err(|_| {
        PlanError::Syntax(format!(
            "{name} needs WITHIN GROUP (ORDER BY one expression)"
        ))
    })?;
    let order = vec![(desc, nulls_last)];
    if name == "mode" {
        if !args.is_empty() {
            return Err(unknown_function(name, &args));
        }
        return Ok(single(
            AggregateFunc::Mode { order },
            ScalarExpr::call(Func::MakeRecord, vec![value]),
            false,
            value_type.without_modifiers(),
        ));
    }
    let [(fraction, fraction_type)] =
        <[_; 1]>::try_from(args).map_err(|a: Vec<Typed>| unknown_function(name, &a))?;
    let fraction = plan_cast(fraction, &fraction_type, &Float64, CastContext::Implicit)?;
    let f = match fraction.eval(&[]) {
        Ok(Datum::Float64(f)) => f.0,
        Ok(Datum::Null) => {
            return Err(PlanError::unsupported(format!(
                "{name} with a NULL fraction"
            )));
        }
        _ => {
            return Err(PlanError::unsupported(format!(
                "{name} with a fraction that is not a constant"
            )));
        }
    };
    if !(0.0..=1.0).contains(&f) {
        return Err(PlanError::Eval(crate::expr::EvalError::NumericOutOfRange(
            format!("percentile value {f} is not between 0 and 1"),
        )));
    }
    let continuous = name == "percentile_cont";
    let (value, typ) = if continuous {
        if numeric_rank(&value_type).is_none() {
            return Err(PlanError::unsupported(format!(
                "percentile_cont over {}",
                value_type.sql_name()
            )));
        }
        (
            plan_cast(value, &value_type, &Float64, CastContext::Implicit)?,
            Float64,
        )
    } else {
        (value, value_type.without_modifiers())
    };
    Ok(single(
        AggregateFunc::Percentile {
            fraction_bits: f.to_bits(),
            continuous,
            order,
        },
        ScalarExpr::call(Func::MakeRecord, vec![value]),
        false,
        typ,
    ))
}

fn order_keys(
    order_by: Vec<(ScalarExpr, ScalarType, bool, bool)>,
) -> (Vec<ScalarExpr>, Vec<WindowOrder>) {
    order_by
        .into_iter()
        .map(|(e, _, desc, nulls_last)| (e, (desc, nulls_last)))
        .unzip()
}
