//! Aggregate functions: the value of an aggregate over a group's multiset of input datums.
//! Every input comes with its multiplicity; NULL inputs are ignored, as SQL aggregates do
//! (except where noted).

use super::arith;
use super::compare::{compare_keys, sql_order};
use super::window::{self, WindowOrder};
use crate::expr::EvalError;
use crate::repr::{ColumnType, Datum, Diff, ScalarType};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AggregateFunc {
    /// Number of non-NULL inputs (`count(*)` counts a non-NULL literal).
    Count,
    /// Sum of smallint / integer inputs, as bigint.
    SumInt,
    /// Sum of bigint or numeric inputs, as numeric.
    SumNumeric,
    /// Sum of real (`SumFloat32`) or double precision inputs.
    SumFloat32,
    SumFloat,
    Min,
    Max,
    BoolAnd,
    BoolOr,
    /// `string_agg(value, delimiter ORDER BY ...)`: input records `[value, delimiter, keys...]`.
    StringAgg {
        order: Vec<WindowOrder>,
    },
    /// `array_agg(value ORDER BY ...)`: input records `[value, keys...]`; NULLs included.
    ArrayAgg {
        order: Vec<WindowOrder>,
    },
    /// `jsonb_agg(value ORDER BY ...)`: input records `[value, keys...]`; NULLs included.
    JsonbAgg {
        order: Vec<WindowOrder>,
    },
    /// Three-valued OR of booleans: TRUE if any is TRUE, else NULL if any is NULL, else FALSE
    /// (also for no input). Lowers `x op ANY (subquery)` and `IN (subquery)`.
    Any,
    /// Three-valued AND: FALSE if any is FALSE, else NULL if any is NULL, else TRUE. Lowers
    /// `x op ALL (subquery)`.
    All,
    /// `percentile_cont(f) WITHIN GROUP (ORDER BY v)` (`continuous`: interpolated, over
    /// double precision) and `percentile_disc(f)` (the first value at or past fraction `f`):
    /// input records `[v]`; NULLs ignored. `fraction_bits` is `f` as `f64::to_bits`.
    Percentile {
        fraction_bits: u64,
        continuous: bool,
        order: Vec<WindowOrder>,
    },
    /// `mode() WITHIN GROUP (ORDER BY v)`: the most frequent non-NULL value, the first in
    /// the order among equally frequent ones. Input records `[v]`.
    Mode {
        order: Vec<WindowOrder>,
    },
    /// A window's partition: its records sorted by the window's ORDER BY (see `window.rs`).
    WindowPartition {
        order: Vec<WindowOrder>,
    },
}

impl AggregateFunc {
    /// The result type for an argument of type `arg`.
    pub fn output_type(&self, arg: &ColumnType) -> ColumnType {
        let t = |s: ScalarType| ColumnType::new(s, true);
        match self {
            AggregateFunc::Count => ColumnType::new(ScalarType::Int64, false),
            AggregateFunc::SumInt => t(ScalarType::Int64),
            AggregateFunc::SumNumeric => t(ScalarType::Numeric { typmod: None }),
            AggregateFunc::SumFloat32 => t(ScalarType::Float32),
            AggregateFunc::SumFloat => t(ScalarType::Float64),
            AggregateFunc::Min | AggregateFunc::Max => t(arg.scalar_type.without_modifiers()),
            AggregateFunc::BoolAnd
            | AggregateFunc::BoolOr
            | AggregateFunc::Any
            | AggregateFunc::All => t(ScalarType::Bool),
            AggregateFunc::StringAgg { .. } => t(ScalarType::String),
            AggregateFunc::ArrayAgg { .. } => {
                t(ScalarType::Array(Box::new(record_value_type(arg))))
            }
            AggregateFunc::JsonbAgg { .. } => t(ScalarType::Jsonb),
            AggregateFunc::Percentile {
                continuous: true, ..
            } => t(ScalarType::Float64),
            AggregateFunc::Percentile { .. } | AggregateFunc::Mode { .. } => {
                t(record_value_type(arg))
            }
            AggregateFunc::WindowPartition { .. } => {
                ColumnType::new(ScalarType::Array(Box::new(ScalarType::Unknown)), false)
            }
        }
    }

    /// Whether the aggregate's value is a sum of per-row contributions (count and sums,
    /// boolean and/or as counts): the dataflow maintains these without re-reading groups.
    pub fn is_accumulable(&self) -> bool {
        matches!(
            self,
            AggregateFunc::Count
                | AggregateFunc::SumInt
                | AggregateFunc::SumNumeric
                | AggregateFunc::BoolAnd
                | AggregateFunc::BoolOr
                | AggregateFunc::Any
                | AggregateFunc::All
        )
    }

    /// The aggregate over `inputs`: each datum with its multiplicity (positive once a group is
    /// consolidated). An empty group gives the aggregate's empty value (0 for count, FALSE for
    /// `Any`, TRUE for `All`, NULL otherwise).
    pub fn eval<'a>(
        &self,
        inputs: impl Iterator<Item = (&'a Datum, Diff)>,
    ) -> Result<Datum, EvalError> {
        let mut inputs: Vec<(&Datum, Diff)> = inputs.collect();
        if let Some((d, diff)) = inputs.iter().find(|(_, diff)| *diff < 0) {
            return Err(EvalError::Internal(format!(
                "aggregate input {d:?} with negative multiplicity {diff}"
            )));
        }
        let non_null = || inputs.iter().filter(|(d, _)| !d.is_null());
        Ok(match self {
            AggregateFunc::Count => Datum::Int64(non_null().map(|(_, n)| *n).sum()),
            AggregateFunc::SumInt => {
                let mut sum: i128 = 0;
                let mut any = false;
                for (d, n) in non_null() {
                    any = true;
                    let v = match d {
                        Datum::Int16(v) => *v as i128,
                        Datum::Int32(v) => *v as i128,
                        Datum::Int64(v) => *v as i128,
                        other => {
                            return Err(EvalError::Internal(format!("integer sum of {other:?}")));
                        }
                    };
                    sum += v * *n as i128;
                }
                if !any {
                    Datum::Null
                } else {
                    Datum::Int64(
                        i64::try_from(sum).map_err(|_| {
                            EvalError::NumericOutOfRange("bigint out of range".into())
                        })?,
                    )
                }
            }
            AggregateFunc::SumNumeric => {
                let mut sum = Decimal::ZERO;
                let mut any = false;
                for (d, n) in non_null() {
                    any = true;
                    let v = match d {
                        Datum::Int64(v) => Decimal::from(*v),
                        Datum::Int32(v) => Decimal::from(*v),
                        Datum::Int16(v) => Decimal::from(*v),
                        Datum::Numeric(v) => *v,
                        other => {
                            return Err(EvalError::Internal(format!("numeric sum of {other:?}")));
                        }
                    };
                    let term = v.checked_mul(Decimal::from(*n)).ok_or_else(|| {
                        EvalError::NumericOutOfRange("value overflows numeric format".into())
                    })?;
                    sum = sum.checked_add(term).ok_or_else(|| {
                        EvalError::NumericOutOfRange("value overflows numeric format".into())
                    })?;
                }
                if any {
                    Datum::Numeric(sum)
                } else {
                    Datum::Null
                }
            }
            AggregateFunc::SumFloat | AggregateFunc::SumFloat32 => {
                let mut sum = 0.0f64;
                let mut any = false;
                for (d, n) in non_null() {
                    any = true;
                    sum += arith::to_f64(d).unwrap_or(f64::NAN) * *n as f64;
                }
                match (any, self) {
                    (false, _) => Datum::Null,
                    (true, AggregateFunc::SumFloat32) => Datum::f32(sum as f32),
                    (true, _) => Datum::f64(sum),
                }
            }
            AggregateFunc::Min | AggregateFunc::Max => {
                let want = if *self == AggregateFunc::Min {
                    Ordering::Less
                } else {
                    Ordering::Greater
                };
                let mut best: Option<&Datum> = None;
                for (d, _) in non_null() {
                    if best.is_none_or(|b| sql_order(d, b) == want) {
                        best = Some(d);
                    }
                }
                best.cloned().unwrap_or(Datum::Null)
            }
            AggregateFunc::BoolAnd | AggregateFunc::BoolOr => {
                let mut any = false;
                let target = *self == AggregateFunc::BoolOr;
                let mut result = !target;
                for (d, _) in non_null() {
                    any = true;
                    if **d == Datum::Bool(target) {
                        result = target;
                    }
                }
                if any {
                    Datum::Bool(result)
                } else {
                    Datum::Null
                }
            }
            AggregateFunc::Any | AggregateFunc::All => super::scalar_eval::three_valued(
                *self == AggregateFunc::Any,
                inputs.iter().map(|(d, _)| Ok((*d).clone())),
            )?,
            AggregateFunc::StringAgg { order } => {
                let records = sorted_records(&mut inputs, order, 2)?;
                let mut out: Option<String> = None;
                for fields in records {
                    let (Datum::String(value), delimiter) = (&fields[0], &fields[1]) else {
                        continue;
                    };
                    match &mut out {
                        None => out = Some(value.clone()),
                        Some(s) => {
                            if let Datum::String(d) = delimiter {
                                s.push_str(d);
                            }
                            s.push_str(value);
                        }
                    }
                }
                out.map(Datum::String).unwrap_or(Datum::Null)
            }
            AggregateFunc::ArrayAgg { order } => {
                let records = sorted_records(&mut inputs, order, 1)?;
                if records.is_empty() {
                    Datum::Null
                } else {
                    Datum::Array(records.into_iter().map(|f| f[0].clone()).collect())
                }
            }
            AggregateFunc::JsonbAgg { order } => {
                let records = sorted_records(&mut inputs, order, 1)?;
                if records.is_empty() {
                    Datum::Null
                } else {
                    let values = records
                        .iter()
                        .map(|f| super::cast::json_of(&f[0]))
                        .collect();
                    Datum::Jsonb(crate::repr::Jsonb::from_value(&serde_json::Value::Array(
                        values,
                    )))
                }
            }
            AggregateFunc::Percentile {
                fraction_bits,
                continuous,
                order,
            } => {
                let values = sorted_values(&mut inputs, order)?;
                percentile(&values, f64::from_bits(*fraction_bits), *continuous)?
            }
            AggregateFunc::Mode { order } => {
                let values = sorted_values(&mut inputs, order)?;
                let mut best: Option<(&Datum, usize)> = None;
                let mut i = 0;
                while i < values.len() {
                    let run = values[i..].iter().take_while(|v| **v == values[i]).count();
                    if best.is_none_or(|(_, n)| run > n) {
                        best = Some((values[i], run));
                    }
                    i += run;
                }
                best.map_or(Datum::Null, |(v, _)| v.clone())
            }
            AggregateFunc::WindowPartition { order } => {
                window::sort_partition(inputs.into_iter(), order)?
            }
        })
    }
}

/// The non-NULL values of an ordered-set aggregate's records `[v]`, sorted by `order`.
fn sorted_values<'a>(
    inputs: &mut [(&'a Datum, Diff)],
    order: &[WindowOrder],
) -> Result<Vec<&'a Datum>, EvalError> {
    Ok(sorted_records(inputs, order, 0)?
        .into_iter()
        .map(|f| &f[0])
        .filter(|d| !d.is_null())
        .collect())
}

/// `percentile_cont` / `percentile_disc` of sorted non-NULL `values`, as PostgreSQL computes
/// them: continuous interpolates between the values at positions `floor` and `ceil` of
/// `f * (n - 1)`; discrete takes the value at position `ceil(f * n) - 1`.
fn percentile(values: &[&Datum], f: f64, continuous: bool) -> Result<Datum, EvalError> {
    if values.is_empty() {
        return Ok(Datum::Null);
    }
    if !continuous {
        let index = ((f * values.len() as f64).ceil() as usize).saturating_sub(1);
        return Ok(values[index.min(values.len() - 1)].clone());
    }
    let float = |d: &Datum| match d {
        Datum::Float64(v) => Ok(v.0),
        other => Err(EvalError::Internal(format!(
            "percentile_cont input {other:?}"
        ))),
    };
    let position = f * (values.len() - 1) as f64;
    let (lo, hi) = (position.floor() as usize, position.ceil() as usize);
    let (a, b) = (float(values[lo])?, float(values[hi])?);
    Ok(Datum::Float64(crate::repr::OrdF64(if lo == hi {
        a
    } else {
        a + (position - lo as f64) * (b - a)
    })))
}

/// The element type of an ordered aggregate's record input (its first field).
fn record_value_type(arg: &ColumnType) -> ScalarType {
    match &arg.scalar_type {
        ScalarType::Array(inner) => inner.as_ref().clone(),
        other => other.clone(),
    }
}

/// The records of an ordered aggregate, one per unit of multiplicity, sorted by their order
/// keys (the fields after the first `values`), ties by the whole record.
fn sorted_records<'a>(
    inputs: &mut [(&'a Datum, Diff)],
    order: &[WindowOrder],
    values: usize,
) -> Result<Vec<&'a [Datum]>, EvalError> {
    let mut records = Vec::new();
    for (d, n) in inputs.iter() {
        // A NULL record is a row an aggregate's FILTER left out.
        if d.is_null() {
            continue;
        }
        let Datum::Array(fields) = d else {
            return Err(EvalError::Internal(
                "ordered aggregate input is not a record".into(),
            ));
        };
        for _ in 0..*n {
            records.push(fields.as_slice());
        }
    }
    records.sort_by(|a, b| compare_keys(&a[values..], &b[values..], order).then_with(|| a.cmp(b)));
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiplicities_count_and_sum() {
        let (a, b, n) = (Datum::Int32(2), Datum::Int32(5), Datum::Null);
        let inputs = || vec![(&a, 3), (&b, 1), (&n, 2)].into_iter();
        assert_eq!(
            AggregateFunc::Count.eval(inputs()).unwrap(),
            Datum::Int64(4)
        );
        assert_eq!(
            AggregateFunc::SumInt.eval(inputs()).unwrap(),
            Datum::Int64(11)
        );
        assert_eq!(AggregateFunc::Max.eval(inputs()).unwrap(), Datum::Int32(5));
        assert_eq!(
            AggregateFunc::SumInt
                .eval(vec![(&n, 1)].into_iter())
                .unwrap(),
            Datum::Null
        );
    }

    #[test]
    fn any_and_all_are_three_valued() {
        let (t, f, n) = (Datum::Bool(true), Datum::Bool(false), Datum::Null);
        assert_eq!(
            AggregateFunc::Any
                .eval(vec![(&f, 1), (&n, 1)].into_iter())
                .unwrap(),
            Datum::Null
        );
        assert_eq!(
            AggregateFunc::Any
                .eval(vec![(&f, 1), (&t, 1)].into_iter())
                .unwrap(),
            Datum::Bool(true)
        );
        assert_eq!(
            AggregateFunc::Any.eval(std::iter::empty()).unwrap(),
            Datum::Bool(false)
        );
        assert_eq!(
            AggregateFunc::All.eval(std::iter::empty()).unwrap(),
            Datum::Bool(true)
        );
        assert_eq!(
            AggregateFunc::All
                .eval(vec![(&t, 1), (&n, 1)].into_iter())
                .unwrap(),
            Datum::Null
        );
    }

    #[test]
    fn string_agg_orders_by_its_keys() {
        let r = |v: &str, k: i32| {
            Datum::Array(vec![
                Datum::String(v.into()),
                Datum::String(",".into()),
                Datum::Int32(k),
            ])
        };
        let (a, b) = (r("a", 2), r("b", 1));
        let agg = AggregateFunc::StringAgg {
            order: vec![(false, true)],
        };
        assert_eq!(
            agg.eval(vec![(&a, 1), (&b, 1)].into_iter()).unwrap(),
            Datum::String("b,a".into())
        );
    }
}
