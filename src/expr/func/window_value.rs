//! Window functions that compute a value per row from other rows of its partition:
//! `percent_rank`, `cume_dist`, `ntile`, `lag`, `lead`, `first_value`, `last_value`,
//! `nth_value`, and aggregates `OVER (...)`, with ROWS and RANGE frames.
//!
//! Like the ranking functions (`window.rs`), a `Reduce` with the `WindowPartition` aggregate
//! collects each partition's records `[order keys..., row...]`, sorted; the `WindowValues`
//! table function then emits each row followed by its value. The function's arguments are
//! expressions over the row, evaluated here. Rendered as written, a change to a partition
//! recomputes that partition, and aggregates evaluate each frame anew (a running aggregate
//! costs O(rows × frame)). A value that reads only rows near its own ([`bounded_reach`]) is
//! instead maintained row by row (`dataflow/render/window.rs`), from [`value_at`].
//!
//! Frames, as PostgreSQL defines them. The default, `RANGE BETWEEN UNBOUNDED PRECEDING AND
//! CURRENT ROW`, ends at the current row's last peer (its last row with equal order keys;
//! with no ORDER BY every row is a peer). ROWS frames count rows. Frames apply to
//! `first_value`, `last_value`, `nth_value` and aggregates; the others ignore them.

use super::compare::{compare_keys, compare_ordered};
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

/// Which rows a frame counts in: rows; peer groups by the order key's value (RANGE); or
/// peer groups by number (GROUPS).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum FrameUnits {
    Rows,
    Range,
    Groups,
}

/// One end of a frame. `Preceding(n)` / `Following(n)` count rows (ROWS) or peer groups
/// (GROUPS). `OffsetPreceding(e)` / `OffsetFollowing(e)` are RANGE offsets: `e` computes,
/// from the current row's one order key (column 0), the key value at which the frame ends
/// (`key - offset` or `key + offset`, as the order's direction says).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum FrameBound {
    UnboundedPreceding,
    Preceding(u64),
    CurrentRow,
    Following(u64),
    UnboundedFollowing,
    OffsetPreceding(Box<ScalarExpr>),
    OffsetFollowing(Box<ScalarExpr>),
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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

/// What frames read of a sorted partition besides positions: peer groups, and for RANGE
/// offsets each row's (one) order key.
pub struct PartitionLayout<'a> {
    /// Per row: its peer group, rows `.0 .. .1`.
    peers: Vec<(usize, usize)>,
    /// Per row: the number of its peer group (from 0).
    group_of: Vec<usize>,
    /// Per peer group: its first row; then the number of rows.
    group_starts: Vec<usize>,
    /// Per row: its first order key, and that key's order (RANGE offsets only).
    first_keys: Vec<&'a Datum>,
    order: Option<WindowOrder>,
    /// The rows whose first order key is not NULL (NULLs sort first or last).
    non_null: std::ops::Range<usize>,
}

impl<'a> PartitionLayout<'a> {
    /// The layout of `records` (`[order keys..., row...]`, sorted by `order`).
    pub fn new(records: &[&'a [Datum]], order: &[WindowOrder]) -> Self {
        let keys = order.len();
        let n = records.len();
        let first_keys: Vec<&Datum> = if keys > 0 {
            records.iter().map(|r| &r[0]).collect()
        } else {
            Vec::new()
        };
        let nulls = first_keys.iter().filter(|k| k.is_null()).count();
        let non_null = match order.first() {
            Some((_, true)) => 0..first_keys.len() - nulls,
            _ => nulls..first_keys.len(),
        };
        let mut layout = PartitionLayout {
            peers: vec![(0, 0); n],
            group_of: vec![0; n],
            group_starts: Vec::new(),
            first_keys,
            order: order.first().copied(),
            non_null,
        };
        let mut start = 0;
        while start < n {
            let mut end = start + 1;
            while end < n
                && compare_keys(&records[start][..keys], &records[end][..keys], order)
                    == Ordering::Equal
            {
                end += 1;
            }
            let group = layout.group_starts.len();
            layout.group_starts.push(start);
            for i in start..end {
                layout.peers[i] = (start, end);
                layout.group_of[i] = group;
            }
            start = end;
        }
        layout.group_starts.push(n);
        layout
    }

    /// `n` rows, each its own peer group: for ROWS frames over a run of a partition.
    pub fn rows_only(n: usize) -> Self {
        PartitionLayout {
            peers: (0..n).map(|i| (i, i + 1)).collect(),
            group_of: (0..n).collect(),
            group_starts: (0..=n).collect(),
            first_keys: Vec::new(),
            order: None,
            non_null: 0..0,
        }
    }

    fn len(&self) -> usize {
        self.peers.len()
    }
}

impl WindowFrame {
    /// The frame of row `i` as a range of row positions (empty when it ends before it
    /// starts).
    pub fn positions(
        &self,
        i: usize,
        layout: &PartitionLayout,
    ) -> Result<std::ops::Range<usize>, EvalError> {
        let start = self.bound(&self.start, true, i, layout)?;
        let end = self.bound(&self.end, false, i, layout)?;
        Ok(start..end.max(start))
    }

    /// Where `bound` puts the frame's first row (`start`) or the row after its last.
    fn bound(
        &self,
        bound: &FrameBound,
        start: bool,
        i: usize,
        layout: &PartitionLayout,
    ) -> Result<usize, EvalError> {
        let n = layout.len();
        let peers = layout.peers[i];
        let group = layout.group_of[i];
        let groups = layout.group_starts.len() - 1;
        // The first row of group `g` (`start`) or the row after its last, clamped.
        let group_edge = |g: usize| layout.group_starts[if start { g } else { g + 1 }.min(groups)];
        Ok(match (bound, self.units) {
            (FrameBound::UnboundedPreceding, _) => 0,
            (FrameBound::UnboundedFollowing, _) => n,
            (FrameBound::CurrentRow, FrameUnits::Rows) => i + usize::from(!start),
            (FrameBound::CurrentRow, _) => {
                if start {
                    peers.0
                } else {
                    peers.1
                }
            }
            (FrameBound::Preceding(k), FrameUnits::Rows) => {
                (i + usize::from(!start)).saturating_sub(clamp(*k))
            }
            (FrameBound::Following(k), FrameUnits::Rows) => {
                (i + usize::from(!start)).saturating_add(clamp(*k)).min(n)
            }
            (FrameBound::Preceding(k), _) => match group.checked_sub(clamp(*k)) {
                Some(g) => group_edge(g),
                None => 0,
            },
            (FrameBound::Following(k), _) => group_edge(group.saturating_add(clamp(*k))),
            (FrameBound::OffsetPreceding(target) | FrameBound::OffsetFollowing(target), _) => {
                let preceding = matches!(bound, FrameBound::OffsetPreceding(_));
                range_offset_bound(target, preceding, start, i, layout)?
            }
        })
    }
}

/// A RANGE offset bound of row `i`: the first row whose key is not before `target(key_i)`
/// (`start`), or the first row whose key is after it. Rows with a NULL key are never in a
/// non-NULL row's frame; a NULL row's frame is its peers (PostgreSQL's rule). A target past
/// the type's range puts the bound past every row on that side.
fn range_offset_bound(
    target: &ScalarExpr,
    preceding: bool,
    start: bool,
    i: usize,
    layout: &PartitionLayout,
) -> Result<usize, EvalError> {
    let (Some((desc, nulls_last)), Some(key)) = (layout.order, layout.first_keys.get(i)) else {
        return Err(EvalError::Internal(
            "RANGE offset without an order key".into(),
        ));
    };
    let peers = layout.peers[i];
    if key.is_null() {
        return Ok(if start { peers.0 } else { peers.1 });
    }
    let (first, last) = (layout.non_null.start, layout.non_null.end);
    let target = match target.eval(std::slice::from_ref(*key)) {
        Ok(t) => t,
        Err(EvalError::NumericOutOfRange(_) | EvalError::DatetimeOutOfRange { .. }) => {
            return Ok(if preceding { first } else { last });
        }
        Err(e) => return Err(e),
    };
    let non_null = &layout.first_keys[first..last];
    let position = if start {
        non_null
            .partition_point(|k| compare_ordered(k, &target, desc, nulls_last) == Ordering::Less)
    } else {
        non_null
            .partition_point(|k| compare_ordered(k, &target, desc, nulls_last) != Ordering::Greater)
    };
    Ok(first + position)
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
    let layout = PartitionLayout::new(&rows, order);
    let row_of: Vec<&[Datum]> = rows.iter().map(|r| &r[keys..]).collect();
    let mut out = Vec::with_capacity(rows.len());
    for (i, &peer) in layout.peers.iter().enumerate() {
        let frame_rows = frame.positions(i, &layout)?;
        let value = value_at(func, &row_of, i, peer, frame_rows)?;
        let mut produced = row_of[i].to_vec();
        produced.push(value);
        out.push(Row::new(produced));
    }
    Ok(out)
}

/// `func`'s value at row `i` of `rows` (the rows of a partition, in window order, or a run
/// of them holding every row the value reads), whose peers are rows `peers.0 .. peers.1`
/// and whose frame is rows `frame_rows`.
pub fn value_at(
    func: &WindowValueFunc,
    rows: &[&[Datum]],
    i: usize,
    peer: (usize, usize),
    frame_rows: std::ops::Range<usize>,
) -> Result<Datum, EvalError> {
    let n = rows.len();
    let row = rows[i];
    Ok(match func {
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
                    Some(j) if j >= 0 && (j as usize) < n => value.eval(rows[j as usize])?,
                    _ => default.eval(row)?,
                }
            }
        },
        WindowValueFunc::FirstValue(value) => match frame_rows.clone().next() {
            Some(j) => value.eval(rows[j])?,
            None => Datum::Null,
        },
        WindowValueFunc::LastValue(value) => match frame_rows.clone().next_back() {
            Some(j) => value.eval(rows[j])?,
            None => Datum::Null,
        },
        WindowValueFunc::NthValue(value, nth) => match as_i64(&nth.eval(row)?) {
            None => Datum::Null,
            Some(k) if k <= 0 => return Err(EvalError::InvalidArgumentForNthValue),
            Some(k) => match frame_rows.clone().nth((k - 1) as usize) {
                Some(j) => value.eval(rows[j])?,
                None => Datum::Null,
            },
        },
        WindowValueFunc::Aggregate { aggregates, finish } => {
            let mut values = Vec::with_capacity(aggregates.len());
            for agg in aggregates {
                let inputs = frame_rows
                    .clone()
                    .map(|j| agg.expr.eval(rows[j]))
                    .collect::<Result<Vec<Datum>, EvalError>>()?;
                values.push(agg.func.eval(inputs.iter().map(|d| (d, 1)))?);
            }
            finish.eval(&values)?
        }
    })
}

/// How far a value reaches when it reads only nearby rows: the value at row `i` reads rows
/// `i - before ..= i + after` and nothing else (not the partition's size, not rows further
/// away). `None` for functions that read the whole partition (ranks, `ntile`, RANGE frames,
/// unbounded frames) or whose reach depends on the row (a non-constant `lag` offset).
pub fn bounded_reach(func: &WindowValueFunc, frame: &WindowFrame) -> Option<(u64, u64)> {
    let constant_offset = |offset: &ScalarExpr| match offset {
        ScalarExpr::Literal(Ok(d), _) if d.is_null() => Some(0i64),
        ScalarExpr::Literal(Ok(d), _) => as_i64(d),
        _ => None,
    };
    let steps = |k: i64| (k.max(0).unsigned_abs(), k.min(0).unsigned_abs());
    match func {
        WindowValueFunc::Lag { offset, .. } => constant_offset(offset).map(steps),
        WindowValueFunc::Lead { offset, .. } => constant_offset(offset).map(|k| {
            let (before, after) = steps(k);
            (after, before)
        }),
        WindowValueFunc::FirstValue(_)
        | WindowValueFunc::LastValue(_)
        | WindowValueFunc::NthValue(..)
        | WindowValueFunc::Aggregate { .. } => {
            if frame.units != FrameUnits::Rows {
                return None;
            }
            let (mut before, mut after) = (0, 0);
            for bound in [&frame.start, &frame.end] {
                match bound {
                    FrameBound::Preceding(k) => before = before.max(*k),
                    FrameBound::Following(k) => after = after.max(*k),
                    FrameBound::CurrentRow => {}
                    FrameBound::UnboundedPreceding
                    | FrameBound::UnboundedFollowing
                    | FrameBound::OffsetPreceding(_)
                    | FrameBound::OffsetFollowing(_) => {
                        return None;
                    }
                }
            }
            Some((before, after))
        }
        WindowValueFunc::PercentRank | WindowValueFunc::CumeDist | WindowValueFunc::Ntile(_) => {
            None
        }
    }
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
