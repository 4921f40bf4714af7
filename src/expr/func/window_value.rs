//! Window functions that compute a value per row from other rows of its partition:
//! `percent_rank`, `cume_dist`, `ntile`, `lag`, `lead`, `first_value`, `last_value`,
//! `nth_value`, and aggregates `OVER (...)`, with ROWS and RANGE frames.
//!
//! Like the ranking functions (`window.rs`), a `Reduce` with the `WindowPartition` aggregate
//! collects each partition's records `[order keys..., row...]`, sorted; the `WindowValues`
//! table function then emits each row followed by its value. The function's arguments are
//! expressions over the row, evaluated here. A change to a partition recomputes that
//! partition; aggregates evaluate each frame anew, so a running aggregate costs
//! O(rows × frame) per partition change.
//!
//! Frames, as PostgreSQL defines them. The default, `RANGE BETWEEN UNBOUNDED PRECEDING AND
//! CURRENT ROW`, ends at the current row's last peer (its last row with equal order keys;
//! with no ORDER BY every row is a peer). ROWS frames count rows. Frames apply to
//! `first_value`, `last_value`, `nth_value` and aggregates; the others ignore them.

use super::compare::compare_keys;
use super::window::WindowOrder;
use crate::expr::{AggregateExpr, EvalError, ScalarExpr};
use crate::repr::{Datum, Row};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum WindowValueFunc {
    /// `(rank - 1) / (rows - 1)`, 0 for a one-row partition.
    PercentRank,
    /// Rows preceding or peer with the current row, over the partition's rows.
    CumeDist,
    /// The bucket (1 ..= n) of the current row when the partition is split into `n` buckets
    /// as evenly as possible, earlier buckets one row larger.
    Ntile(ScalarExpr),
    /// The value at `offset` rows before (`Lag`) or after (`Lead`) the current row, or
    /// `default` (evaluated at the current row) past the partition's ends.
    Lag {
        value: ScalarExpr,
        offset: ScalarExpr,
        default: ScalarExpr,
    },
    Lead {
        value: ScalarExpr,
        offset: ScalarExpr,
        default: ScalarExpr,
    },
    FirstValue(ScalarExpr),
    LastValue(ScalarExpr),
    /// The value at the `n`th row of the frame (from 1), NULL if the frame is shorter.
    NthValue(ScalarExpr, ScalarExpr),
    /// Aggregates over the frame's rows, then `finish` over their values (as for GROUP BY).
    Aggregate {
        aggregates: Vec<AggregateExpr>,
        finish: ScalarExpr,
    },
}

/// Which rows a frame counts in: rows, or peer groups of equal order keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum FrameUnits {
    Rows,
    Range,
}

/// One end of a frame. `Preceding(n)` / `Following(n)` only with ROWS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum FrameBound {
    UnboundedPreceding,
    Preceding(u64),
    CurrentRow,
    Following(u64),
    UnboundedFollowing,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct WindowFrame {
    pub units: FrameUnits,
    pub start: FrameBound,
    pub end: FrameBound,
}

impl Default for WindowFrame {
    /// `RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW`.
    fn default() -> Self {
        WindowFrame {
            units: FrameUnits::Range,
            start: FrameBound::UnboundedPreceding,
            end: FrameBound::CurrentRow,
        }
    }
}

impl WindowFrame {
    /// The frame of row `i` of `n`, whose peers are rows `peers.0 .. peers.1`, as a range of
    /// row positions (empty when it ends before it starts).
    fn rows(&self, i: usize, n: usize, peers: (usize, usize)) -> std::ops::Range<usize> {
        let start = match (self.start, self.units) {
            (FrameBound::UnboundedPreceding, _) => 0,
            (FrameBound::Preceding(k), _) => i.saturating_sub(clamp(k)),
            (FrameBound::CurrentRow, FrameUnits::Rows) => i,
            (FrameBound::CurrentRow, FrameUnits::Range) => peers.0,
            (FrameBound::Following(k), _) => i.saturating_add(clamp(k)).min(n),
            (FrameBound::UnboundedFollowing, _) => n,
        };
        let end = match (self.end, self.units) {
            (FrameBound::UnboundedPreceding, _) => 0,
            (FrameBound::Preceding(k), _) => (i + 1).saturating_sub(clamp(k)),
            (FrameBound::CurrentRow, FrameUnits::Rows) => i + 1,
            (FrameBound::CurrentRow, FrameUnits::Range) => peers.1,
            (FrameBound::Following(k), _) => i.saturating_add(clamp(k)).saturating_add(1).min(n),
            (FrameBound::UnboundedFollowing, _) => n,
        };
        start..end.max(start)
    }
}

fn clamp(k: u64) -> usize {
    usize::try_from(k).unwrap_or(usize::MAX)
}

/// The `WindowValues` table function: for a sorted partition (records `[order keys...,
/// row...]`), each row followed by `func`'s value for it.
pub fn evaluate_partition(
    func: &WindowValueFunc,
    partition: &Datum,
    order: &[WindowOrder],
    frame: &WindowFrame,
) -> Result<Vec<Row>, EvalError> {
    let Datum::Array(records) = partition else {
        return Err(EvalError::Internal(
            "window partition is not an array".into(),
        ));
    };
    let keys = order.len();
    let mut rows: Vec<&[Datum]> = Vec::with_capacity(records.len());
    for record in records {
        let Datum::Array(fields) = record else {
            return Err(EvalError::Internal("window record is not an array".into()));
        };
        rows.push(fields);
    }
    let n = rows.len();
    // Peer groups: rows start .. end with equal order keys.
    let mut peers = vec![(0, 0); n];
    let mut start = 0;
    while start < n {
        let mut end = start + 1;
        while end < n
            && compare_keys(&rows[start][..keys], &rows[end][..keys], order) == Ordering::Equal
        {
            end += 1;
        }
        for p in &mut peers[start..end] {
            *p = (start, end);
        }
        start = end;
    }
    let row_of = |i: usize| &rows[i][keys..];
    let mut out = Vec::with_capacity(n);
    for (i, &peer) in peers.iter().enumerate() {
        let row = row_of(i);
        let frame_rows = frame.rows(i, n, peer);
        let value = match func {
            WindowValueFunc::PercentRank => {
                if n <= 1 {
                    Datum::f64(0.0)
                } else {
                    Datum::f64(peer.0 as f64 / (n - 1) as f64)
                }
            }
            WindowValueFunc::CumeDist => Datum::f64(peer.1 as f64 / n as f64),
            WindowValueFunc::Ntile(buckets) => match as_i64(&buckets.eval(row)?) {
                None => Datum::Null,
                Some(b) if b <= 0 => {
                    return Err(EvalError::InvalidArgumentForNtile);
                }
                Some(b) => Datum::Int32(ntile(i, n, b)),
            },
            WindowValueFunc::Lag {
                value,
                offset,
                default,
            }
            | WindowValueFunc::Lead {
                value,
                offset,
                default,
            } => match as_i64(&offset.eval(row)?) {
                None => Datum::Null,
                Some(k) => {
                    let k = if matches!(func, WindowValueFunc::Lag { .. }) {
                        k.checked_neg().unwrap_or(i64::MAX)
                    } else {
                        k
                    };
                    match (i as i64).checked_add(k) {
                        Some(j) if j >= 0 && (j as usize) < n => value.eval(row_of(j as usize))?,
                        _ => default.eval(row)?,
                    }
                }
            },
            WindowValueFunc::FirstValue(value) => match frame_rows.clone().next() {
                Some(j) => value.eval(row_of(j))?,
                None => Datum::Null,
            },
            WindowValueFunc::LastValue(value) => match frame_rows.clone().next_back() {
                Some(j) => value.eval(row_of(j))?,
                None => Datum::Null,
            },
            WindowValueFunc::NthValue(value, nth) => match as_i64(&nth.eval(row)?) {
                None => Datum::Null,
                Some(k) if k <= 0 => return Err(EvalError::InvalidArgumentForNthValue),
                Some(k) => match frame_rows.clone().nth((k - 1) as usize) {
                    Some(j) => value.eval(row_of(j))?,
                    None => Datum::Null,
                },
            },
            WindowValueFunc::Aggregate { aggregates, finish } => {
                let mut values = Vec::with_capacity(aggregates.len());
                for agg in aggregates {
                    let inputs = frame_rows
                        .clone()
                        .map(|j| agg.expr.eval(row_of(j)))
                        .collect::<Result<Vec<Datum>, EvalError>>()?;
                    values.push(agg.func.eval(inputs.iter().map(|d| (d, 1)))?);
                }
                finish.eval(&values)?
            }
        };
        let mut produced = row.to_vec();
        produced.push(value);
        out.push(Row::new(produced));
    }
    Ok(out)
}

fn as_i64(d: &Datum) -> Option<i64> {
    match d {
        Datum::Int16(v) => Some(i64::from(*v)),
        Datum::Int32(v) => Some(i64::from(*v)),
        Datum::Int64(v) => Some(*v),
        _ => None,
    }
}

/// PostgreSQL's ntile: `n` rows into `buckets` buckets, the first `n % buckets` buckets one
/// row larger than the rest.
fn ntile(i: usize, n: usize, buckets: i64) -> i32 {
    let buckets = usize::try_from(buckets).unwrap_or(usize::MAX).min(n.max(1));
    let per = n / buckets;
    let larger = n % buckets;
    let bucket = if i < larger * (per + 1) {
        i / (per + 1)
    } else {
        larger + (i - larger * (per + 1)) / per.max(1)
    };
    bucket as i32 + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::AggregateFunc;

    /// Records `[key, key, value]`: order key then the row `(key, value)`.
    fn partition(rows: &[(i32, i32)]) -> Datum {
        Datum::Array(
            rows.iter()
                .map(|(k, v)| {
                    Datum::Array(vec![Datum::Int32(*k), Datum::Int32(*k), Datum::Int32(*v)])
                })
                .collect(),
        )
    }

    fn values(func: WindowValueFunc, frame: WindowFrame, rows: &[(i32, i32)]) -> Vec<Datum> {
        evaluate_partition(&func, &partition(rows), &[(false, true)], &frame)
            .unwrap()
            .into_iter()
            .map(|r| r[2].clone())
            .collect()
    }

    fn ints(v: &[Option<i64>]) -> Vec<Datum> {
        v.iter()
            .map(|x| x.map_or(Datum::Null, Datum::Int64))
            .collect()
    }

    fn sum() -> WindowValueFunc {
        WindowValueFunc::Aggregate {
            aggregates: vec![AggregateExpr {
                func: AggregateFunc::SumInt,
                expr: ScalarExpr::Column(1),
                distinct: false,
            }],
            finish: ScalarExpr::Column(0),
        }
    }

    #[test]
    fn default_frame_runs_to_the_last_peer() {
        let rows = [(1, 10), (2, 20), (2, 5), (3, 1)];
        assert_eq!(
            values(sum(), WindowFrame::default(), &rows),
            ints(&[Some(10), Some(35), Some(35), Some(36)])
        );
    }

    #[test]
    fn rows_frames_count_rows() {
        let frame = WindowFrame {
            units: FrameUnits::Rows,
            start: FrameBound::Preceding(1),
            end: FrameBound::Following(1),
        };
        let rows = [(1, 1), (2, 2), (3, 3), (4, 4)];
        assert_eq!(
            values(sum(), frame, &rows),
            ints(&[Some(3), Some(6), Some(9), Some(7)])
        );
        let empty = WindowFrame {
            units: FrameUnits::Rows,
            start: FrameBound::Following(1),
            end: FrameBound::Preceding(1),
        };
        assert_eq!(values(sum(), empty, &rows), ints(&[None, None, None, None]));
    }

    #[test]
    fn lag_and_lead_step_over_rows_and_fall_back_to_the_default() {
        let lag = WindowValueFunc::Lag {
            value: ScalarExpr::Column(1),
            offset: ScalarExpr::literal(Datum::Int32(1), crate::repr::ScalarType::Int32),
            default: ScalarExpr::literal(Datum::Int32(-1), crate::repr::ScalarType::Int32),
        };
        let rows = [(1, 10), (2, 20), (3, 30)];
        assert_eq!(
            values(lag, WindowFrame::default(), &rows),
            vec![Datum::Int32(-1), Datum::Int32(10), Datum::Int32(20)]
        );
    }

    #[test]
    fn ntile_makes_earlier_buckets_larger() {
        let buckets: Vec<i32> = (0..7).map(|i| ntile(i, 7, 3)).collect();
        assert_eq!(buckets, vec![1, 1, 1, 2, 2, 3, 3]);
        let more_buckets_than_rows: Vec<i32> = (0..2).map(|i| ntile(i, 2, 5)).collect();
        assert_eq!(more_buckets_than_rows, vec![1, 2]);
    }
}
