//! Temporal filters: `WHERE` / `HAVING` conjuncts that compare `mz_now()` with an expression
//! of the row, such as `mz_now() <= created_at + INTERVAL '5 minutes'`.
//!
//! A row is in the result at logical time `t` exactly when every temporal conjunct holds with
//! `mz_now() = t`. The conjuncts of one filter give each row a validity interval
//! `[lower, upper)` (milliseconds since the epoch, the unit of Freshet's timestamps): for an
//! input update `(row, time, diff)` the filter emits `(row, max(time, lower), diff)` and, if
//! there is an upper bound, `(row, max(time, upper), -diff)`; nothing if the interval is
//! empty by then. A bound that evaluates to NULL makes the comparison NULL: the row never
//! appears. A bound that fails to evaluate is an error (as data).
//!
//! Accepted forms, after splitting `AND`s: `mz_now() op e` or `e op mz_now()` with `op` one of
//! `= < <= > >=` and `e` free of `mz_now()`; `mz_now()` may carry `+` or `-` a constant
//! interval without months (`now() - INTERVAL '5 minutes' < created_at`), which moves to the
//! other side exactly because such intervals are fixed durations in UTC. Anything else with
//! `mz_now()` in it is refused by `split` with a message saying what is accepted.
//!
//! Times are milliseconds; a bound with finer precision is rounded so that the comparison is
//! exact at millisecond times (`t > e` starts at the first millisecond after `e`).

use super::{EvalError, Func, ScalarExpr};
use crate::repr::{Datum, Interval, ScalarType, Timestamp};

/// `mz_now() op bound`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemporalPredicate {
    pub op: TemporalOp,
    pub bound: ScalarExpr,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TemporalOp {
    Eq,
    Lt,
    Lte,
    Gt,
    Gte,
}

impl TemporalOp {
    fn of(func: &Func) -> Option<TemporalOp> {
        Some(match func {
            Func::Eq => TemporalOp::Eq,
            Func::Lt => TemporalOp::Lt,
            Func::Lte => TemporalOp::Lte,
            Func::Gt => TemporalOp::Gt,
            Func::Gte => TemporalOp::Gte,
            _ => return None,
        })
    }

    /// `a op b` ⇔ `b flipped a`.
    fn flipped(self) -> TemporalOp {
        match self {
            TemporalOp::Eq => TemporalOp::Eq,
            TemporalOp::Lt => TemporalOp::Gt,
            TemporalOp::Lte => TemporalOp::Gte,
            TemporalOp::Gt => TemporalOp::Lt,
            TemporalOp::Gte => TemporalOp::Lte,
        }
    }
}

/// What is accepted, for error messages.
pub const ACCEPTED_FORMS: &str = "mz_now(), and now() in a view, are only supported in WHERE or \
    HAVING comparisons (=, <, <=, >, >=) with an expression of the row, combined with AND, \
    such as created_at > now() - INTERVAL '5 minutes'";

/// Splits `predicates` into ordinary ones and temporal ones; `Err` (with `ACCEPTED_FORMS`
/// and the offending part) if `mz_now()` occurs in a form that is not a temporal filter.
pub fn split(
    predicates: &[ScalarExpr],
) -> Result<(Vec<ScalarExpr>, Vec<TemporalPredicate>), String> {
    let mut ordinary = Vec::new();
    let mut temporal = Vec::new();
    let mut pending: Vec<&ScalarExpr> = predicates.iter().rev().collect();
    while let Some(p) = pending.pop() {
        if !p.contains_mz_now() {
            ordinary.push(p.clone());
            continue;
        }
        match p {
            ScalarExpr::And(args) => pending.extend(args.iter().rev()),
            ScalarExpr::Call { func, args } if args.len() == 2 => {
                let op = TemporalOp::of(func).ok_or_else(refusal)?;
                let (now_side, op, other) =
                    match (args[0].contains_mz_now(), args[1].contains_mz_now()) {
                        (true, false) => (&args[0], op, args[1].clone()),
                        (false, true) => (&args[1], op.flipped(), args[0].clone()),
                        _ => return Err(refusal()),
                    };
                temporal.push(isolate(now_side, op, other)?);
            }
            _ => return Err(refusal()),
        }
    }
    Ok((ordinary, temporal))
}

fn refusal() -> String {
    ACCEPTED_FORMS.to_string()
}

/// Rewrites `now_side op other` until `now_side` is `mz_now()` itself.
fn isolate(
    now_side: &ScalarExpr,
    op: TemporalOp,
    other: ScalarExpr,
) -> Result<TemporalPredicate, String> {
    match now_side {
        ScalarExpr::Call {
            func: Func::MzNow, ..
        } => Ok(TemporalPredicate { op, bound: other }),
        // (x ± k) op e  ⇔  x op (e ∓ k), for a fixed-duration interval k.
        ScalarExpr::Call { func, args }
            if matches!(func, Func::Add | Func::Sub) && args.len() == 2 =>
        {
            let (x, k, subtract) = match (func, args[0].contains_mz_now()) {
                (Func::Add, true) => (&args[0], &args[1], true),
                (Func::Add, false) => (&args[1], &args[0], true),
                (Func::Sub, true) => (&args[0], &args[1], false),
                _ => return Err(refusal()),
            };
            if k.contains_mz_now() || !is_fixed_interval(k) {
                return Err(format!(
                    "{}; an interval added to or subtracted from mz_now() must be a constant without months or years",
                    ACCEPTED_FORMS
                ));
            }
            let moved = ScalarExpr::call(
                if subtract { Func::Sub } else { Func::Add },
                vec![other, k.clone()],
            );
            isolate(x, op, moved)
        }
        _ => Err(refusal()),
    }
}

fn is_fixed_interval(e: &ScalarExpr) -> bool {
    matches!(
        e,
        ScalarExpr::Literal(
            Ok(Datum::Interval(Interval { months: 0, .. })),
            ScalarType::Interval
        )
    )
}

/// The interval `[lower, upper)` of times a row is valid at, from the temporal predicates;
/// `None` if a bound is NULL (the row never appears).
pub fn validity(
    predicates: &[TemporalPredicate],
    row: &[Datum],
) -> Result<Option<(Timestamp, Option<Timestamp>)>, EvalError> {
    let mut lower: Timestamp = 0;
    let mut upper: Option<Timestamp> = None;
    for p in predicates {
        let bound = p.bound.eval(row)?;
        if bound.is_null() {
            return Ok(None);
        }
        let Some(micros) = super::func::temporal::timestamp_micros(&bound) else {
            return Err(EvalError::Internal(format!(
                "temporal filter bound is not a timestamp: {bound:?}"
            )));
        };
        // Millisecond times t with t * 1000 compared to `micros`.
        let floor = micros.div_euclid(1000);
        let ceil = floor + i64::from(micros.rem_euclid(1000) != 0);
        let to_ts = |ms: i64| ms.max(0) as Timestamp;
        let (lo, hi) = match p.op {
            TemporalOp::Gte => (Some(ceil), None),
            TemporalOp::Gt => (Some(floor + 1), None),
            TemporalOp::Lte => (None, Some(floor + 1)),
            TemporalOp::Lt => (None, Some(ceil)),
            TemporalOp::Eq if micros.rem_euclid(1000) != 0 => return Ok(Some((0, Some(0)))),
            TemporalOp::Eq => (Some(floor), Some(floor + 1)),
        };
        if let Some(lo) = lo {
            lower = lower.max(to_ts(lo));
        }
        if let Some(hi) = hi {
            let hi = to_ts(hi);
            upper = Some(upper.map_or(hi, |u| u.min(hi)));
        }
    }
    Ok(Some((lower, upper)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn now() -> ScalarExpr {
        ScalarExpr::call(Func::MzNow, vec![])
    }

    fn minutes(n: i64) -> ScalarExpr {
        ScalarExpr::literal(
            Datum::Interval(Interval {
                months: 0,
                days: 0,
                micros: n * 60_000_000,
            }),
            ScalarType::Interval,
        )
    }

    fn at_ms(ms: i64) -> Datum {
        Datum::TimestampTz(Utc.timestamp_millis_opt(ms).unwrap())
    }

    #[test]
    fn created_at_after_now_minus_five_minutes_is_valid_for_five_minutes() {
        // created_at > now() - 5 min  ⇔  now() < created_at + 5 min
        let pred = ScalarExpr::call(
            Func::Gt,
            vec![
                ScalarExpr::Column(0),
                ScalarExpr::call(Func::Sub, vec![now(), minutes(5)]),
            ],
        );
        let (ordinary, temporal) = split(&[pred]).unwrap();
        assert!(ordinary.is_empty());
        assert_eq!(temporal.len(), 1);
        assert_eq!(temporal[0].op, TemporalOp::Lt);
        let valid = validity(&temporal, &[at_ms(1_000_000)]).unwrap();
        assert_eq!(valid, Some((0, Some(1_000_000 + 300_000))));
    }

    #[test]
    fn bounds_from_both_sides_intersect() {
        let preds = vec![ScalarExpr::And(vec![
            ScalarExpr::call(Func::Gte, vec![now(), ScalarExpr::Column(0)]),
            ScalarExpr::call(Func::Lte, vec![now(), ScalarExpr::Column(1)]),
        ])];
        let (_, temporal) = split(&preds).unwrap();
        let valid = validity(&temporal, &[at_ms(10), at_ms(20)]).unwrap();
        assert_eq!(valid, Some((10, Some(21))));
        assert_eq!(
            validity(&temporal, &[Datum::Null, at_ms(20)]).unwrap(),
            None
        );
    }

    #[test]
    fn mz_now_elsewhere_is_refused() {
        let in_or = ScalarExpr::Or(vec![
            ScalarExpr::call(Func::Gt, vec![now(), ScalarExpr::Column(0)]),
            ScalarExpr::literal_true(),
        ]);
        assert!(split(&[in_or]).is_err());
        let both_sides = ScalarExpr::call(Func::Gt, vec![now(), now()]);
        assert!(split(&[both_sides]).is_err());
    }
}
