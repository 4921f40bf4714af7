//! Arithmetic on numbers: checked integer operations, floats that refuse to overflow, and
//! numerics, with PostgreSQL's errors.

use crate::expr::EvalError;
use crate::repr::Datum;
use rust_decimal::prelude::*;

fn overflow(type_name: &str) -> EvalError {
    EvalError::NumericOutOfRange(format!("{type_name} out of range"))
}

fn float_result(v: f64, inputs_finite: bool) -> Result<f64, EvalError> {
    if v.is_infinite() && inputs_finite {
        return Err(EvalError::NumericOutOfRange(
            "value out of range: overflow".into(),
        ));
    }
    Ok(v)
}

#[derive(Clone, Copy)]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

macro_rules! int_op {
    ($a:expr, $b:expr, $op:expr, $name:expr, $variant:ident) => {{
        let (a, b) = ($a, $b);
        let r = match $op {
            Op::Add => a.checked_add(b),
            Op::Sub => a.checked_sub(b),
            Op::Mul => a.checked_mul(b),
            Op::Div => {
                if b == 0 {
                    return Err(EvalError::DivisionByZero);
                }
                a.checked_div(b)
            }
            Op::Mod => {
                if b == 0 {
                    return Err(EvalError::DivisionByZero);
                }
                Some(a.checked_rem(b).unwrap_or(0))
            }
        };
        Datum::$variant(r.ok_or_else(|| overflow($name))?)
    }};
}

/// `a op b` for two numbers of the same type.
pub fn numeric_op(op: Op, a: &Datum, b: &Datum) -> Result<Datum, EvalError> {
    Ok(match (a, b) {
        (Datum::Int16(a), Datum::Int16(b)) => int_op!(*a, *b, op, "smallint", Int16),
        (Datum::Int32(a), Datum::Int32(b)) => int_op!(*a, *b, op, "integer", Int32),
        (Datum::Int64(a), Datum::Int64(b)) => int_op!(*a, *b, op, "bigint", Int64),
        (Datum::Float32(a), Datum::Float32(b)) => {
            let (x, y) = (a.0 as f64, b.0 as f64);
            Datum::f32(float_op(op, x, y)? as f32)
        }
        (Datum::Float64(a), Datum::Float64(b)) => Datum::f64(float_op(op, a.0, b.0)?),
        (Datum::Numeric(a), Datum::Numeric(b)) => {
            let r = match op {
                Op::Add => a.checked_add(*b),
                Op::Sub => a.checked_sub(*b),
                Op::Mul => a.checked_mul(*b),
                Op::Div => {
                    if b.is_zero() {
                        return Err(EvalError::DivisionByZero);
                    }
                    a.checked_div(*b).map(|d| numeric_division_scale(d, a, b))
                }
                Op::Mod => {
                    if b.is_zero() {
                        return Err(EvalError::DivisionByZero);
                    }
                    a.checked_rem(*b)
                }
            };
            Datum::Numeric(
                r.ok_or_else(|| {
                    EvalError::NumericOutOfRange("value overflows numeric format".into())
                })?
                .normalize_scale_floor(a, b, op),
            )
        }
        _ => {
            return Err(EvalError::Internal(format!(
                "arithmetic on {a:?} and {b:?}"
            )));
        }
    })
}

fn float_op(op: Op, x: f64, y: f64) -> Result<f64, EvalError> {
    let finite = x.is_finite() && y.is_finite();
    match op {
        Op::Add => float_result(x + y, finite),
        Op::Sub => float_result(x - y, finite),
        Op::Mul => float_result(x * y, finite),
        Op::Div => {
            if y == 0.0 {
                return Err(EvalError::DivisionByZero);
            }
            float_result(x / y, finite)
        }
        Op::Mod => {
            if y == 0.0 {
                return Err(EvalError::DivisionByZero);
            }
            Ok(x % y)
        }
    }
}

/// The base-10000 weight and first (non-zero) base-10000 digit of a numeric, as PostgreSQL
/// stores it: 12 is (0, 12), 123456 is (1, 12), 0.05 is (-1, 500).
fn base_10000_lead(d: &Decimal) -> (i32, u32) {
    if d.is_zero() {
        return (0, 0);
    }
    let text = d.abs().to_string();
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let int = int.trim_start_matches('0');
    if !int.is_empty() {
        let len = int.len();
        let weight = ((len - 1) / 4) as i32;
        let lead = (len - 1) % 4 + 1;
        return (weight, int[..lead].parse().unwrap_or(0));
    }
    let zeros = frac.len() - frac.trim_start_matches('0').len();
    let group = zeros / 4;
    let digits: String = frac
        .chars()
        .skip(group * 4)
        .chain(std::iter::repeat('0'))
        .take(4)
        .collect();
    (-(group as i32) - 1, digits.parse().unwrap_or(0))
}

/// PostgreSQL's result scale for numeric division (`select_div_scale`): at least 16
/// significant digits, and at least the scale of either input.
fn numeric_division_scale(q: Decimal, a: &Decimal, b: &Decimal) -> Decimal {
    let (w1, d1) = base_10000_lead(a);
    let (w2, d2) = base_10000_lead(b);
    let mut qweight = w1 - w2;
    if d1 <= d2 {
        qweight -= 1;
    }
    let wanted = (16 - qweight * 4)
        .max(a.scale() as i32)
        .max(b.scale() as i32)
        .max(0);
    // rust_decimal carries at most 28 digits after the point.
    let wanted = wanted.min(28) as u32;
    let mut r = q.round_dp_with_strategy(wanted, RoundingStrategy::MidpointAwayFromZero);
    r.rescale(wanted);
    r
}

trait NumericScale {
    fn normalize_scale_floor(self, a: &Decimal, b: &Decimal, op: Op) -> Decimal;
}

impl NumericScale for Decimal {
    /// Sums and differences keep the larger input scale, products the sum of scales (as
    /// PostgreSQL does), within rust_decimal's 28 digits.
    fn normalize_scale_floor(mut self, a: &Decimal, b: &Decimal, op: Op) -> Decimal {
        let scale = match op {
            Op::Add | Op::Sub | Op::Mod => a.scale().max(b.scale()),
            Op::Mul => (a.scale() + b.scale()).min(28),
            Op::Div => return self,
        };
        if self.scale() < scale {
            self.rescale(scale);
        }
        self
    }
}

pub fn negate(a: &Datum) -> Result<Datum, EvalError> {
    Ok(match a {
        Datum::Int16(v) => Datum::Int16(v.checked_neg().ok_or_else(|| overflow("smallint"))?),
        Datum::Int32(v) => Datum::Int32(v.checked_neg().ok_or_else(|| overflow("integer"))?),
        Datum::Int64(v) => Datum::Int64(v.checked_neg().ok_or_else(|| overflow("bigint"))?),
        Datum::Float32(v) => Datum::f32(-v.0),
        Datum::Float64(v) => Datum::f64(-v.0),
        Datum::Numeric(v) => Datum::Numeric(-*v),
        Datum::Interval(i) => Datum::Interval(crate::repr::Interval::new(
            i.months.checked_neg().ok_or_else(|| overflow("interval"))?,
            i.days.checked_neg().ok_or_else(|| overflow("interval"))?,
            i.micros.checked_neg().ok_or_else(|| overflow("interval"))?,
        )),
        other => return Err(EvalError::Internal(format!("negation of {other:?}"))),
    })
}

/// A number as f64 (for math functions and float casts).
pub fn to_f64(d: &Datum) -> Option<f64> {
    match d {
        Datum::Int16(v) => Some(*v as f64),
        Datum::Int32(v) => Some(*v as f64),
        Datum::Int64(v) => Some(*v as f64),
        Datum::Float32(v) => Some(v.0 as f64),
        Datum::Float64(v) => Some(v.0),
        Datum::Numeric(v) => v.to_f64(),
        _ => None,
    }
}
