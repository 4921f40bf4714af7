//! Reduce: one output row `key ++ [aggregate values]` per non-empty group.
//!
//! - No aggregates (DISTINCT): the keys, each once, while its count is positive.
//! - Only accumulable aggregates (count, integer and numeric sums, bool_and / bool_or, and
//!   the three-valued `Any` / `All`): each row contributes a vector of counters (`Accums`)
//!   to its group as a *difference*; differential sums them as updates arrive, so a change
//!   costs O(1) per group and never re-reads the group. A DISTINCT one (`count(DISTINCT
//!   x)`, with or without FILTER) first keeps each group's distinct non-NULL values
//!   (`key ++ [i, x]` for aggregate `i`, while its count is positive; one arrangement for
//!   all of a reduce's DISTINCT aggregates); each distinct value then contributes to the
//!   aggregate's counters as a row does to the others'. So `key ++ [i, x]` ⇒ `x`'s
//!   contribution to aggregate `i` when `x` first appears in the group, its negation when
//!   the group's last row with `x` goes.
//! - Otherwise (`reread`): the group's values (with multiplicities) are re-read when it
//!   changes and each `AggregateFunc` evaluated over them.
//! - Both kinds in one reduce: the accumulable ones as above, the others re-read over their
//!   own arguments only, and the two rows of each group joined by key (both have a row for
//!   exactly the groups with rows).

use super::{Errs, Oks, RenderTime, eval_all, split};
use crate::expr::{AggregateExpr, AggregateFunc, EvalError, ScalarExpr};
use crate::repr::{Datum, Diff, Row};
use differential_dataflow::difference::{Abelian, IsZero, Monoid, Multiply, Semigroup};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub fn render<'s, T: RenderTime>(
    (oks, errs): (Oks<'s, T>, Errs<'s, T>),
    group_key: &[ScalarExpr],
    aggregates: &[AggregateExpr],
) -> (Oks<'s, T>, Errs<'s, T>) {
    let key = group_key.to_vec();
    if aggregates.is_empty() {
        let (keys, key_errs) = split(oks.map(move |row| eval_all(&key, &row)));
        let distinct = keys.threshold(|_k, count: &Diff| if *count > 0 { 1 } else { 0 });
        return (distinct, errs.concat(key_errs));
    }
    // Each row's key and aggregate arguments, evaluated once for every use below.
    let exprs: Vec<ScalarExpr> = aggregates.iter().map(|a| a.expr.clone()).collect();
    let (evaluated, input_errs) =
        split(oks.map(move |row| Ok((eval_all(&key, &row)?, eval_all(&exprs, &row)?))));
    let (fast, other): (Vec<usize>, Vec<usize>) =
        (0..aggregates.len()).partition(|i| accumulates(&aggregates[*i]));
    let (keyed, agg_errs) = if other.is_empty() {
        accumulable(evaluated, aggregates.to_vec())
    } else if fast.is_empty() {
        reread(evaluated, aggregates.to_vec())
    } else {
        // Both kinds: each computed its own way over its own arguments, then the two rows
        // of each group joined.
        let pick = |indexes: Vec<usize>| {
            let aggs: Vec<AggregateExpr> = indexes.iter().map(|i| aggregates[*i].clone()).collect();
            let args = evaluated
                .clone()
                .map(move |(key, values)| (key, values.project(&indexes)));
            (args, aggs)
        };
        let mut order = vec![(false, 0); aggregates.len()];
        for (j, i) in fast.iter().enumerate() {
            order[*i] = (true, j);
        }
        for (j, i) in other.iter().enumerate() {
            order[*i] = (false, j);
        }
        let (fast_args, fast_aggs) = pick(fast);
        let (other_args, other_aggs) = pick(other);
        let (fast_rows, fast_errs) = accumulable(fast_args, fast_aggs);
        let (other_rows, other_errs) = reread(other_args, other_aggs);
        let joined = fast_rows
            .arrange_by_key_named("reduce accumulable")
            .join_core(
                other_rows.arrange_by_key_named("reduce reread"),
                move |key, fast: &Row, other: &Row| {
                    let values: Row = order
                        .iter()
                        .map(|(is_fast, j)| if *is_fast { &fast[*j] } else { &other[*j] })
                        .cloned()
                        .collect();
                    Some((key.clone(), values))
                },
            );
        (joined, fast_errs.concat(other_errs))
    };
    (
        keyed.map(|(key, values)| key.concat(&values)),
        errs.concat(input_errs).concat(agg_errs),
    )
}

/// Whether `agg` is computed by accumulating counters (`accumulable`).
fn accumulates(agg: &AggregateExpr) -> bool {
    agg.func.is_accumulable()
        && !(agg.distinct && matches!(agg.func, AggregateFunc::Any | AggregateFunc::All))
}

/// Groups as `(key, values)`: the key columns and the aggregates' values.
type Groups<'s, T> = differential_dataflow::collection::VecCollection<'s, T, (Row, Row), Diff>;

/// Any aggregates, over `(key, arguments)`: a group's arguments (with multiplicities) are
/// re-read when it changes and each aggregate evaluated over them. Returns the groups and
/// the aggregates' errors.
fn reread<'s, T: RenderTime>(
    keyed: Groups<'s, T>,
    aggs: Vec<AggregateExpr>,
) -> (Groups<'s, T>, Errs<'s, T>) {
    let reduced = keyed.reduce(
        move |_key, input: &[(&Row, Diff)], output: &mut Vec<(Result<Row, EvalError>, Diff)>| {
            let result: Result<Row, EvalError> = aggs
                .iter()
                .enumerate()
                .map(|(i, agg)| {
                    if agg.distinct {
                        let mut values: Vec<&Datum> = input
                            .iter()
                            .filter(|(_, d)| *d > 0)
                            .map(|(v, _)| &v[i])
                            .filter(|d| !d.is_null())
                            .collect();
                        values.sort();
                        values.dedup();
                        agg.func.eval(values.into_iter().map(|d| (d, 1)))
                    } else {
                        agg.func.eval(input.iter().map(|(v, d)| (&v[i], *d)))
                    }
                })
                .collect();
            output.push((result, 1));
        },
    );
    split(reduced.map(|(key, values)| values.map(|v| (key, v))))
}

/// Counters for accumulable aggregates; see the module docs. `ints[0]` counts the group's
/// rows (a group with zero rows has no output).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Accums {
    ints: Vec<i128>,
    nums: Vec<Decimal>,
    /// A numeric sum left the representable range; the aggregate reports an error.
    overflow: bool,
}

impl Accums {
    /// `n_ints` and `n_nums` counters, all zero.
    fn zeroed(n_ints: usize, n_nums: usize) -> Accums {
        Accums {
            ints: vec![0; n_ints],
            nums: vec![Decimal::ZERO; n_nums],
            overflow: false,
        }
    }
}

impl IsZero for Accums {
    fn is_zero(&self) -> bool {
        !self.overflow && self.ints.iter().all(|i| *i == 0) && self.nums.iter().all(|n| n.is_zero())
    }
}

impl Semigroup for Accums {
    fn plus_equals(&mut self, rhs: &Self) {
        if self.ints.len() < rhs.ints.len() {
            self.ints.resize(rhs.ints.len(), 0);
        }
        for (a, b) in self.ints.iter_mut().zip(&rhs.ints) {
            *a += *b;
        }
        if self.nums.len() < rhs.nums.len() {
            self.nums.resize(rhs.nums.len(), Decimal::ZERO);
        }
        for (a, b) in self.nums.iter_mut().zip(&rhs.nums) {
            match a.checked_add(*b) {
                Some(sum) => *a = sum,
                None => self.overflow = true,
            }
        }
        self.overflow |= rhs.overflow;
    }
}

impl Monoid for Accums {
    fn zero() -> Self {
        Accums::default()
    }
}

impl Abelian for Accums {
    fn negate(&mut self) {
        for i in &mut self.ints {
            *i = -*i;
        }
        for n in &mut self.nums {
            *n = -*n;
        }
    }
}

impl Multiply<Diff> for Accums {
    type Output = Accums;
    fn multiply(mut self, rhs: &Diff) -> Accums {
        for i in &mut self.ints {
            *i *= *rhs as i128;
        }
        let factor = Decimal::from(*rhs);
        for n in &mut self.nums {
            match n.checked_mul(factor) {
                Some(v) => *n = v,
                None => self.overflow = true,
            }
        }
        self
    }
}

/// Where each aggregate keeps its counters.
#[derive(Clone, Copy)]
struct Slot {
    int: usize,
    num: usize,
}

fn layout(aggregates: &[AggregateExpr]) -> (Vec<Slot>, usize, usize) {
    let (mut ints, mut nums) = (1, 0);
    let mut slots = Vec::with_capacity(aggregates.len());
    for agg in aggregates {
        slots.push(Slot {
            int: ints,
            num: nums,
        });
        match agg.func {
            AggregateFunc::Count => ints += 1,
            AggregateFunc::SumNumeric => {
                ints += 1;
                nums += 1;
            }
            _ => ints += 2,
        }
    }
    (slots, ints, nums)
}

/// One row's counters: 1 in `ints[0]` (the group's row count) and each non-DISTINCT
/// aggregate's value (`values`: the row's aggregate arguments, in order).
fn contribution(
    aggregates: &[AggregateExpr],
    slots: &[Slot],
    n_ints: usize,
    n_nums: usize,
    values: &[Datum],
) -> Result<Accums, EvalError> {
    let mut acc = Accums::zeroed(n_ints, n_nums);
    acc.ints[0] = 1;
    for ((agg, slot), value) in aggregates.iter().zip(slots).zip(values) {
        if !agg.distinct {
            add_value(&mut acc, &agg.func, *slot, value)?;
        }
    }
    Ok(acc)
}

/// A group's counters with only `value`'s contribution to aggregate `func` at `slot`
/// (`ints[0]`, the row count, stays 0): one distinct value of a DISTINCT aggregate.
fn distinct_contribution(
    func: &AggregateFunc,
    slot: Slot,
    n_ints: usize,
    n_nums: usize,
    value: &Datum,
) -> Result<Accums, EvalError> {
    let mut acc = Accums::zeroed(n_ints, n_nums);
    add_value(&mut acc, func, slot, value)?;
    Ok(acc)
}

/// Adds one row's `value` for aggregate `func` to its counters at `slot`.
fn add_value(
    acc: &mut Accums,
    func: &AggregateFunc,
    slot: Slot,
    value: &Datum,
) -> Result<(), EvalError> {
    let (i, n) = (slot.int, slot.num);
    match (func, value) {
        (AggregateFunc::Count, v) => acc.ints[i] = (!v.is_null()) as i128,
        (AggregateFunc::SumInt, Datum::Null) | (AggregateFunc::SumNumeric, Datum::Null) => {}
        (AggregateFunc::SumInt, v) => {
            acc.ints[i] = match v {
                Datum::Int16(x) => *x as i128,
                Datum::Int32(x) => *x as i128,
                Datum::Int64(x) => *x as i128,
                other => return Err(EvalError::Internal(format!("integer sum of {other:?}"))),
            };
            acc.ints[i + 1] = 1;
        }
        (AggregateFunc::SumNumeric, v) => {
            acc.nums[n] = match v {
                Datum::Int64(x) => Decimal::from(*x),
                Datum::Int32(x) => Decimal::from(*x),
                Datum::Int16(x) => Decimal::from(*x),
                Datum::Numeric(x) => *x,
                other => return Err(EvalError::Internal(format!("numeric sum of {other:?}"))),
            };
            acc.ints[i] = 1;
        }
        (AggregateFunc::BoolAnd | AggregateFunc::All, Datum::Bool(false)) => acc.ints[i] = 1,
        (AggregateFunc::BoolOr | AggregateFunc::Any, Datum::Bool(true)) => acc.ints[i] = 1,
        (AggregateFunc::Any | AggregateFunc::All, Datum::Null) => acc.ints[i + 1] = 1,
        (AggregateFunc::Any | AggregateFunc::All, _) => {}
        (AggregateFunc::BoolAnd | AggregateFunc::BoolOr, Datum::Null) => {}
        (AggregateFunc::BoolAnd | AggregateFunc::BoolOr, _) => {}
        (other, _) => return Err(EvalError::Internal(format!("{other:?} is not accumulable"))),
    }
    if matches!(func, AggregateFunc::BoolAnd | AggregateFunc::BoolOr) && !value.is_null() {
        acc.ints[i + 1] = 1;
    }
    Ok(())
}

fn finish(aggregates: &[AggregateExpr], slots: &[Slot], acc: &Accums) -> Result<Row, EvalError> {
    let int = |i: usize| acc.ints.get(i).copied().unwrap_or(0);
    let to_i64 = |v: i128| {
        i64::try_from(v).map_err(|_| EvalError::NumericOutOfRange("bigint out of range".into()))
    };
    aggregates
        .iter()
        .zip(slots)
        .map(|(agg, slot)| {
            let (i, n) = (slot.int, slot.num);
            Ok(match agg.func {
                AggregateFunc::Count => Datum::Int64(to_i64(int(i))?),
                AggregateFunc::SumInt => {
                    if int(i + 1) == 0 {
                        Datum::Null
                    } else {
                        Datum::Int64(to_i64(int(i))?)
                    }
                }
                AggregateFunc::SumNumeric => {
                    if acc.overflow {
                        return Err(EvalError::NumericOutOfRange(
                            "value overflows numeric format".into(),
                        ));
                    }
                    if int(i) == 0 {
                        Datum::Null
                    } else {
                        Datum::Numeric(acc.nums.get(n).copied().unwrap_or(Decimal::ZERO))
                    }
                }
                AggregateFunc::BoolAnd | AggregateFunc::BoolOr => {
                    if int(i + 1) == 0 {
                        Datum::Null
                    } else if agg.func == AggregateFunc::BoolAnd {
                        Datum::Bool(int(i) == 0)
                    } else {
                        Datum::Bool(int(i) > 0)
                    }
                }
                AggregateFunc::Any | AggregateFunc::All => {
                    let decisive = agg.func == AggregateFunc::Any;
                    if int(i) > 0 {
                        Datum::Bool(decisive)
                    } else if int(i + 1) > 0 {
                        Datum::Null
                    } else {
                        Datum::Bool(!decisive)
                    }
                }
                ref other => {
                    return Err(EvalError::Internal(format!("{other:?} is not accumulable")));
                }
            })
        })
        .collect()
}

/// Only aggregates that `accumulates`, over `(key, arguments)`: see the module docs.
/// Returns the groups and the aggregates' errors.
fn accumulable<'s, T: RenderTime>(
    evaluated: Groups<'s, T>,
    aggregates: Vec<AggregateExpr>,
) -> (Groups<'s, T>, Errs<'s, T>) {
    let (slots, n_ints, n_nums) = layout(&aggregates);
    let (aggs, slots2) = (aggregates.clone(), slots.clone());
    let (contributions, contribution_errs) = split(evaluated.clone().map(move |(key, values)| {
        Ok((key, contribution(&aggs, &slots2, n_ints, n_nums, &values)?))
    }));
    let mut exploded = contributions.explode(|(key, acc)| Some(((key, ()), acc)));
    let mut errs = contribution_errs;
    let distinct: Vec<usize> = (0..aggregates.len())
        .filter(|i| aggregates[*i].distinct)
        .collect();
    if !distinct.is_empty() {
        // `key ++ [i, value]` for each DISTINCT aggregate `i` whose value is not NULL, then
        // each such row once: one arrangement for every DISTINCT aggregate of the reduce.
        let pairs = evaluated.flat_map(move |(key, values)| {
            distinct
                .iter()
                .filter(|i| !values[**i].is_null())
                .map(|i| {
                    let mut pair = key.clone();
                    pair.push(Datum::Int64(*i as i64));
                    pair.push(values[*i].clone());
                    pair
                })
                .collect::<Vec<_>>()
        });
        let distinct = pairs.threshold(|_pair, count: &Diff| if *count > 0 { 1 } else { 0 });
        let (aggs, slots2) = (aggregates.clone(), slots.clone());
        let (values, value_errs) = split(distinct.map(move |mut pair| {
            let value = pair.pop().unwrap_or(Datum::Null);
            let i = match pair.pop() {
                Some(Datum::Int64(i)) => i as usize,
                other => {
                    return Err(EvalError::Internal(format!("distinct aggregate {other:?}")));
                }
            };
            let acc = distinct_contribution(&aggs[i].func, slots2[i], n_ints, n_nums, &value)?;
            Ok((pair, acc))
        }));
        errs = errs.concat(value_errs);
        exploded = exploded.concat(values.explode(|(key, acc)| Some(((key, ()), acc))));
    }
    let reduced = exploded.reduce(
        move |_key, input: &[(&(), Accums)], output: &mut Vec<(Result<Row, EvalError>, Diff)>| {
            let acc = &input[0].1;
            if acc.ints.first().copied().unwrap_or(0) <= 0 {
                return;
            }
            output.push((finish(&aggregates, &slots, acc), 1));
        },
    );
    let (groups, agg_errs) = split(reduced.map(|(key, values)| values.map(|v| (key, v))));
    (groups, errs.concat(agg_errs))
}
