//! Window functions maintained row by row, where the function allows it.
//!
//! The planner writes a window call as `Project(FlatMap(Reduce))`: a `Reduce` whose one
//! aggregate (`WindowPartition`) collects each partition's records `[order keys..., row...]`,
//! a `FlatMap` (`WindowNumbering` / `WindowValues`) that emits every row with its value, and
//! a `Project` that drops the partition. Rendered as written, a change to one row rebuilds,
//! retracts and re-emits its whole partition. This module recognizes that shape and, for
//! the functions below, renders it as one operator that keeps each partition sorted and
//! recomputes only the rows whose value can have changed:
//! - *Nearby* values: `lag` / `lead` with a constant offset, and `first_value`,
//!   `last_value`, `nth_value` and aggregates over a ROWS frame bounded at both ends. The
//!   value at row `i` reads rows `i - before ..= i + after` only, so a change at row `p`
//!   recomputes rows `p - after ..= p + before`: O((before + after)² log n) per change.
//! - *Numbering*: `row_number`, `rank`, `dense_rank`. Row `i`'s numbers follow from row
//!   `i - 1`'s numbers and whether the two are peers, so the rows from the first change on
//!   are renumbered, stopping past the last change at the first row whose numbers did not
//!   move. Appending after the last row costs O(log n); an insert at row `p` costs
//!   O((n - p) log n), and changes that many output rows anyway.
//!
//! - *Running* aggregates: `count`, `sum`, `min`, `max`, `bool_and`, `bool_or` (and what is
//!   computed from them, such as `avg`) over the frame from the partition's start to the
//!   current row (ROWS) or to its last peer (RANGE, the default frame). Each row keeps the
//!   aggregates' values up to it; a row's follow from the previous row's and its own input,
//!   so, as for numberings, rows are recomputed from the first change (from its peer group's
//!   first row) and stop past the last change where the values did not move.
//!
//! Everything else (`percent_rank`, `cume_dist`, `ntile`, RANGE frames with offsets, other
//! frames with an UNBOUNDED end, other aggregates, a `lag` offset that varies by row) reads
//! the whole partition; it is rendered as written. So is every window inside `WITH RECURSIVE`: this operator needs
//! totally ordered times.
//!
//! Semantics, for input updates `(row, t, d)`: the output at every time `t` is exactly what
//! the written plan gives at `t`. Rows are ordered within a partition by the order keys, then
//! by the whole record, and a row with multiplicity `m` is `m` adjacent rows (copies), as in
//! `WindowPartition`. An error evaluating a value is emitted in place of that row, and
//! retracted when the value is recomputed.
//!
//! Invariants: each worker owns the partitions that hash to it; updates at time `t` are
//! applied once the input frontier has passed `t`, in time order, so every stored value is
//! the one last emitted for its row.

use super::{Errs, Oks, eval_all, split};
use crate::expr::func::compare_keys;
use crate::expr::func::window::{WindowFunc, WindowOrder};
use crate::expr::func::window_value::{
    self, FrameBound, FrameUnits, PartitionLayout, WindowFrame, WindowValueFunc,
};
use crate::expr::{AggregateExpr, AggregateFunc, EvalError, RelationExpr, ScalarExpr, TableFunc};
use crate::repr::{Datum, Diff, Row, Timestamp};
use differential_dataflow::AsCollection;
use differential_dataflow::consolidation::consolidate;
use differential_dataflow::hashable::Hashable;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound::{Excluded, Unbounded};
use std::rc::Rc;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::Capability;
use timely::dataflow::operators::generic::Operator;

/// The most rows a nearby value may read on either side together. Past it, recomputing the
/// rows around a change (each reading its whole reach) would cost more than the partition.
const MAX_REACH: u64 = 256;

/// A window call in the shape the planner writes, whose function this module maintains.
pub(in crate::dataflow) struct WindowPlan<'a> {
    /// The relation the window is over.
    input: &'a RelationExpr,
    /// The PARTITION BY expressions, over `input`.
    partition: &'a [ScalarExpr],
    /// The record expression: `[order keys..., row...]`, over `input`.
    record: &'a ScalarExpr,
    /// The output columns of `partition ++ [partition array] ++ row ++ [value]`; never the
    /// partition array.
    outputs: &'a [usize],
    order: Vec<WindowOrder>,
    kind: Kind,
}

#[derive(Clone)]
enum Kind {
    Numbering(WindowFunc),
    Nearby {
        func: Box<WindowValueFunc>,
        frame: WindowFrame,
        before: usize,
        after: usize,
    },
    /// Aggregates over the frame from the partition's start to the current row (ROWS), or
    /// to its last peer (`peers`: RANGE, the default frame): running totals.
    Running {
        aggregates: Vec<AggregateExpr>,
        finish: ScalarExpr,
        peers: bool,
    },
}

impl<'a> WindowPlan<'a> {
    /// The relation the window is over.
    pub(super) fn input(&self) -> &'a RelationExpr {
        self.input
    }
}

/// The window call `expr` is, when it is one and this module maintains its function.
pub(super) fn recognize(expr: &RelationExpr) -> Option<WindowPlan<'_>> {
    let RelationExpr::Project { input, outputs } = expr else {
        return None;
    };
    let RelationExpr::FlatMap { input, func, exprs } = input.as_ref() else {
        return None;
    };
    let RelationExpr::Reduce {
        input,
        group_key,
        aggregates,
    } = input.as_ref()
    else {
        return None;
    };
    let [aggregate] = aggregates.as_slice() else {
        return None;
    };
    let AggregateFunc::WindowPartition { order } = &aggregate.func else {
        return None;
    };
    let partition_column = group_key.len();
    if aggregate.distinct
        || exprs.as_slice() != [ScalarExpr::Column(partition_column)]
        || outputs.contains(&partition_column)
    {
        return None;
    }
    let kind = match func {
        TableFunc::WindowNumbering { func, .. } => Kind::Numbering(*func),
        TableFunc::WindowValues { func, frame, .. } => match running(func, frame) {
            Some(running) => running,
            None => nearby(func, frame)?,
        },
        _ => return None,
    };
    Some(WindowPlan {
        input,
        partition: group_key,
        record: &aggregate.expr,
        outputs,
        order: order.clone(),
        kind,
    })
}

/// A value of nearby rows, when `func` over `frame` reads at most `MAX_REACH` of them.
fn nearby(func: &WindowValueFunc, frame: &WindowFrame) -> Option<Kind> {
    let (before, after) = window_value::bounded_reach(func, frame)?;
    if before.saturating_add(after) > MAX_REACH {
        return None;
    }
    Some(Kind::Nearby {
        func: Box::new(func.clone()),
        frame: frame.clone(),
        before: before as usize,
        after: after as usize,
    })
}

/// A running aggregate, when `func` over `frame` is one whose aggregates fold row by row.
fn running(func: &WindowValueFunc, frame: &WindowFrame) -> Option<Kind> {
    let WindowValueFunc::Aggregate { aggregates, finish } = func else {
        return None;
    };
    let peers = match frame.units {
        FrameUnits::Rows => false,
        FrameUnits::Range => true,
        FrameUnits::Groups => return None,
    };
    let from_start =
        frame.start == FrameBound::UnboundedPreceding && frame.end == FrameBound::CurrentRow;
    let foldable = aggregates
        .iter()
        .all(|a| !a.distinct && fold_step(&a.func).is_some());
    (from_start && foldable).then(|| Kind::Running {
        aggregates: aggregates.clone(),
        finish: finish.clone(),
        peers,
    })
}

/// How an aggregate's value over rows `..= i` follows from its value over rows `..i` and
/// row `i`'s input: counting it, or the aggregate of the two (sums, min, max, bool_and,
/// bool_or, whose value over a set is their value over any split of it). Sums of floats
/// add in row order, as over the whole frame.
enum FoldStep {
    Count,
    Combine,
}

fn fold_step(func: &AggregateFunc) -> Option<FoldStep> {
    match func {
        AggregateFunc::Count => Some(FoldStep::Count),
        AggregateFunc::SumInt
        | AggregateFunc::SumNumeric
        | AggregateFunc::SumFloat
        | AggregateFunc::SumFloat32
        | AggregateFunc::Min
        | AggregateFunc::Max
        | AggregateFunc::BoolAnd
        | AggregateFunc::BoolOr => Some(FoldStep::Combine),
        _ => None,
    }
}

/// The aggregates' values over no rows, as folding starts.
fn empty_folds(aggregates: &[AggregateExpr]) -> Vec<Datum> {
    aggregates
        .iter()
        .map(|a| match a.func {
            AggregateFunc::Count => Datum::Int64(0),
            _ => Datum::Null,
        })
        .collect()
}

/// The aggregates' values with `row` added to `folds`.
fn fold(
    aggregates: &[AggregateExpr],
    folds: &[Datum],
    row: &[Datum],
) -> Result<Vec<Datum>, EvalError> {
    aggregates
        .iter()
        .zip(folds)
        .map(|(agg, acc)| {
            let input = agg.expr.eval(row)?;
            match fold_step(&agg.func) {
                Some(FoldStep::Count) => match acc {
                    Datum::Int64(n) => Ok(Datum::Int64(n + i64::from(!input.is_null()))),
                    other => Err(EvalError::Internal(format!("running count of {other:?}"))),
                },
                Some(FoldStep::Combine) => agg.func.eval([(acc, 1), (&input, 1)].into_iter()),
                None => Err(EvalError::Internal(format!(
                    "running {:?} is not a fold",
                    agg.func
                ))),
            }
        })
        .collect()
}

/// Renders `plan` over its rendered input.
pub(super) fn render<'s>(
    (oks, errs): (Oks<'s>, Errs<'s>),
    plan: &WindowPlan<'_>,
) -> (Oks<'s>, Errs<'s>) {
    let partition = plan.partition.to_vec();
    let record = plan.record.clone();
    let (keyed, key_errs) = split(oks.map(move |row| {
        let key = eval_all(&partition, &row)?;
        match record.eval(&row)? {
            Datum::Array(fields) => Ok((key, Row::new(fields))),
            other => Err(EvalError::Internal(format!(
                "window record is not an array: {other:?}"
            ))),
        }
    }));
    let mut state = WindowState {
        order: plan.order.clone().into(),
        kind: plan.kind.clone(),
        outputs: plan.outputs.to_vec(),
        partitions: HashMap::new(),
    };
    let exchange = Exchange::new(|((key, _), _, _): &((Row, Row), Timestamp, Diff)| key.hashed());
    let results = keyed
        .inner
        .unary_frontier(exchange, "window", move |_capability, _info| {
            // Updates not yet applied, by time, with a capability to emit at that time.
            let mut pending: BTreeMap<Timestamp, PendingUpdates> = BTreeMap::new();
            move |(input, frontier), output| {
                input.for_each(|capability, data| {
                    for ((key, record), time, diff) in data.drain(..) {
                        pending
                            .entry(time)
                            .or_insert_with(|| (capability.delayed(&time, 0), Vec::new()))
                            .1
                            .push((key, record, diff));
                    }
                });
                while let Some(first) = pending.first_entry() {
                    if frontier.less_equal(first.key()) {
                        break;
                    }
                    let (time, (capability, updates)) = first.remove_entry();
                    let produced = state.apply(updates);
                    let mut session = output.session(&capability);
                    for (result, diff) in produced {
                        session.give((result, time, diff));
                    }
                }
            }
        })
        .as_collection();
    let (rows, value_errs) = split(results);
    (rows, errs.concat(key_errs).concat(value_errs))
}

/// The updates `(partition key, record, diff)` at one time, not yet applied, with the
/// capability to emit that time's output.
type PendingUpdates = (Capability<Timestamp>, Vec<(Row, Row, Diff)>);

/// One row of a partition: its record, which copy of it (for multiplicities), and the
/// window's order, which the entries are sorted by (then by record, then copy).
#[derive(Clone, Debug)]
struct Entry {
    record: Row,
    copy: u64,
    order: Rc<[WindowOrder]>,
}

impl Entry {
    fn keys(&self) -> &[Datum] {
        &self.record[..self.order.len()]
    }
    fn row(&self) -> &[Datum] {
        &self.record[self.order.len()..]
    }
    fn is_peer(&self, other: &Entry) -> bool {
        compare_keys(self.keys(), other.keys(), &self.order) == Ordering::Equal
    }
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_keys(self.keys(), other.keys(), &self.order)
            .then_with(|| self.record.cmp(&other.record))
            .then(self.copy.cmp(&other.copy))
    }
}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Entry {}

/// What is stored per row: the value last emitted for it (`None` until its first), and for
/// numbering functions its numbers, from which the next row's follow.
#[derive(Clone, Debug, Default)]
struct Slot {
    value: Option<Result<Datum, EvalError>>,
    numbers: Numbers,
    /// For running aggregates: their values over the rows up to this one.
    folds: Option<Result<Vec<Datum>, EvalError>>,
}

/// A row's numbers. `row_number` and `rank` follow from the previous row's `row_number`,
/// `dense_rank` from its `dense_rank`; a function keeps only those it needs (the rest 0), so
/// that renumbering stops as soon as what it needs settles.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Numbers {
    row_number: i64,
    rank: i64,
    dense_rank: i64,
}

impl WindowFunc {
    fn relevant(self, numbers: Numbers) -> Numbers {
        match self {
            WindowFunc::RowNumber => Numbers {
                rank: 0,
                dense_rank: 0,
                ..numbers
            },
            WindowFunc::Rank => Numbers {
                dense_rank: 0,
                ..numbers
            },
            WindowFunc::DenseRank => Numbers {
                dense_rank: numbers.dense_rank,
                ..Numbers::default()
            },
        }
    }
}

type Partition = BTreeMap<Entry, Slot>;

/// Output updates: the plan's output row (see [`output_row`]), or the error computing the
/// value.
type Produced = Vec<(Result<Row, EvalError>, Diff)>;

struct WindowState {
    order: Rc<[WindowOrder]>,
    kind: Kind,
    /// The plan's output columns of `partition key ++ [partition array] ++ row ++ [value]`.
    outputs: Vec<usize>,
    partitions: HashMap<Row, Partition>,
}

/// The plan's output row for a row of partition `key` with `value`: its `outputs` columns
/// of `key ++ [partition array] ++ row ++ [value]`, which never include the array.
fn output_row(outputs: &[usize], key: &Row, row: &[Datum], value: &Datum) -> Row {
    outputs
        .iter()
        .map(|&c| match c.checked_sub(key.len() + 1) {
            None => key.get(c).cloned().unwrap_or(Datum::Null),
            Some(r) => row.get(r).unwrap_or(value).clone(),
        })
        .collect()
}

/// Sets `slot`'s value; when it differs from the one last emitted, `emit`s the old one's
/// retraction and the new one.
fn set_value(
    slot: &mut Slot,
    value: Result<Datum, EvalError>,
    mut emit: impl FnMut(&Result<Datum, EvalError>, Diff),
) {
    if slot.value.as_ref() != Some(&value) {
        if let Some(old) = slot.value.take() {
            emit(&old, -1);
        }
        emit(&value, 1);
        slot.value = Some(value);
    }
}

impl WindowState {
    /// Applies one time's updates `(partition key, record, diff)`; returns the output's
    /// changes at that time.
    fn apply(&mut self, updates: Vec<(Row, Row, Diff)>) -> Produced {
        let mut updates: Vec<((Row, Row), Diff)> = updates
            .into_iter()
            .map(|(key, record, diff)| ((key, record), diff))
            .collect();
        consolidate(&mut updates);
        let mut produced = Vec::new();
        let mut start = 0;
        while start < updates.len() {
            let key = &updates[start].0.0;
            let end = start + updates[start..].partition_point(|((k, _), _)| k == key);
            let changes: Vec<(&Row, Diff)> = updates[start..end]
                .iter()
                .map(|((_, record), diff)| (record, *diff))
                .collect();
            self.update_partition(key, &changes, &mut produced);
            start = end;
        }
        produced
    }

    fn update_partition(&mut self, key: &Row, changes: &[(&Row, Diff)], out: &mut Produced) {
        let order = Rc::clone(&self.order);
        let outputs = &self.outputs;
        let entries = self.partitions.entry(key.clone()).or_default();
        let emit = |out: &mut Produced, entry: &Entry, value: &Result<Datum, EvalError>, diff| {
            let result = match value {
                Ok(value) => Ok(output_row(outputs, key, entry.row(), value)),
                Err(e) => Err(e.clone()),
            };
            out.push((result, diff));
        };
        // Apply the changes; retract the values of removed rows.
        let mut changed: Vec<Entry> = Vec::new();
        for (record, diff) in changes {
            let entry = |copy| Entry {
                record: (*record).clone(),
                copy,
                order: Rc::clone(&order),
            };
            let present = entries
                .range(entry(0)..)
                .take_while(|(e, _)| e.record == **record)
                .count() as u64;
            if *diff > 0 {
                for copy in present..present + diff.unsigned_abs() {
                    entries.insert(entry(copy), Slot::default());
                    changed.push(entry(copy));
                }
            } else {
                let removed = diff.unsigned_abs();
                if removed > present {
                    tracing::error!(present, removed, "window input retracts a missing row");
                    out.push((
                        Err(EvalError::Internal(format!(
                            "window input with multiplicity {}",
                            present as i64 + diff
                        ))),
                        1,
                    ));
                    continue;
                }
                for copy in present - removed..present {
                    let gone = entry(copy);
                    if let Some(Slot {
                        value: Some(value), ..
                    }) = entries.remove(&gone)
                    {
                        emit(out, &gone, &value, -1);
                    }
                    changed.push(gone);
                }
            }
        }
        match &self.kind {
            Kind::Nearby {
                func,
                frame,
                before,
                after,
            } => {
                // A change at row p moves the values of rows p - after ..= p + before.
                let mut affected: BTreeSet<Entry> = BTreeSet::new();
                for entry in &changed {
                    if entries.contains_key(entry) {
                        affected.insert(entry.clone());
                    }
                    let preceding = entries.range(..entry).rev().take(*after);
                    let following = entries.range((Excluded(entry), Unbounded)).take(*before);
                    affected.extend(preceding.chain(following).map(|(e, _)| e.clone()));
                }
                for entry in affected {
                    let value = nearby_value(entries, &entry, func, frame, *before, *after);
                    if let Some(slot) = entries.get_mut(&entry) {
                        set_value(slot, value, |v, d| emit(out, &entry, v, d));
                    }
                }
            }
            Kind::Running {
                aggregates,
                finish,
                peers,
            } => {
                let (Some(first), Some(last)) = (changed.iter().min(), changed.iter().max()) else {
                    return self.drop_if_empty(key);
                };
                // Start at the first row of the peer group the first change is in (or
                // would be in): the group's rows share its value.
                let mut start = entries.range(first..).next().map(|(e, _)| e.clone());
                let mut before = entries.range(..first).next_back().map(|(e, _)| e.clone());
                while *peers
                    && let Some(b) = &before
                    && b.is_peer(first)
                {
                    start = Some(b.clone());
                    before = entries.range(..b).next_back().map(|(e, _)| e.clone());
                }
                let mut folds: Result<Vec<Datum>, EvalError> = match &before {
                    Some(b) => entries
                        .get(b)
                        .and_then(|s| s.folds.clone())
                        .unwrap_or_else(|| Ok(empty_folds(aggregates))),
                    None => Ok(empty_folds(aggregates)),
                };
                let mut group: Vec<Entry> = Vec::new();
                let mut next = start;
                while let Some(entry) = next {
                    folds = folds.and_then(|f| fold(aggregates, &f, entry.row()));
                    let following = entries
                        .range((Excluded(&entry), Unbounded))
                        .next()
                        .map(|(e, _)| e.clone());
                    let Some(slot) = entries.get_mut(&entry) else {
                        break;
                    };
                    let unchanged = slot.folds.as_ref() == Some(&folds);
                    slot.folds = Some(folds.clone());
                    group.push(entry.clone());
                    let group_ends =
                        !*peers || following.as_ref().is_none_or(|f| !f.is_peer(&entry));
                    if group_ends {
                        let value = folds.clone().and_then(|f| finish.eval(&f));
                        for member in group.drain(..) {
                            if let Some(slot) = entries.get_mut(&member) {
                                set_value(slot, value.clone(), |v, d| emit(out, &member, v, d));
                            }
                        }
                        if &entry > last && unchanged {
                            // Past every change with the same running values: so is every
                            // later row.
                            break;
                        }
                    }
                    next = following;
                }
            }
            Kind::Numbering(func) => {
                let (Some(first), Some(last)) = (changed.iter().min(), changed.iter().max()) else {
                    return self.drop_if_empty(key);
                };
                let mut previous: Option<(Entry, Numbers)> = entries
                    .range(..first)
                    .next_back()
                    .map(|(e, slot)| (e.clone(), slot.numbers));
                let mut next = entries.range(first..).next().map(|(e, _)| e.clone());
                while let Some(entry) = next {
                    let numbers = func.relevant(match &previous {
                        None => Numbers {
                            row_number: 1,
                            rank: 1,
                            dense_rank: 1,
                        },
                        Some((before, n)) if before.is_peer(&entry) => Numbers {
                            row_number: n.row_number + 1,
                            ..*n
                        },
                        Some((_, n)) => Numbers {
                            row_number: n.row_number + 1,
                            rank: n.row_number + 1,
                            dense_rank: n.dense_rank + 1,
                        },
                    });
                    let value = Ok(Datum::Int64(match func {
                        WindowFunc::RowNumber => numbers.row_number,
                        WindowFunc::Rank => numbers.rank,
                        WindowFunc::DenseRank => numbers.dense_rank,
                    }));
                    let Some(slot) = entries.get_mut(&entry) else {
                        break;
                    };
                    if &entry > last && slot.value.is_some() && slot.numbers == numbers {
                        // Past every change, and numbered as before: so is every later row.
                        break;
                    }
                    slot.numbers = numbers;
                    set_value(slot, value, |v, d| emit(out, &entry, v, d));
                    next = entries
                        .range((Excluded(&entry), Unbounded))
                        .next()
                        .map(|(e, _)| e.clone());
                    previous = Some((entry, numbers));
                }
            }
        }
        self.drop_if_empty(key);
    }

    fn drop_if_empty(&mut self, key: &Row) {
        if self.partitions.get(key).is_some_and(BTreeMap::is_empty) {
            self.partitions.remove(key);
        }
    }
}

/// The value at `entry` of a function that reads `before` rows before it and `after` rows
/// after it: evaluated over just those rows, which is exact because the function reads no
/// others (and a run cut short by the partition's end is cut short there too).
fn nearby_value(
    entries: &Partition,
    entry: &Entry,
    func: &WindowValueFunc,
    frame: &WindowFrame,
    before: usize,
    after: usize,
) -> Result<Datum, EvalError> {
    let mut rows: Vec<&[Datum]> = entries
        .range(..entry)
        .rev()
        .take(before)
        .map(|(e, _)| e.row())
        .collect();
    rows.reverse();
    let at = rows.len();
    rows.push(entry.row());
    rows.extend(
        entries
            .range((Excluded(entry), Unbounded))
            .take(after)
            .map(|(e, _)| e.row()),
    );
    // Peers matter only to RANGE and GROUPS frames and ranks, which read the whole partition.
    let frame_rows = frame.positions(at, &PartitionLayout::rows_only(rows.len()))?;
    window_value::value_at(func, &rows, at, (at, at + 1), frame_rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::func::window_value::{FrameBound, FrameUnits};
    use crate::repr::ScalarType;

    fn state(kind: Kind) -> WindowState {
        WindowState {
            order: vec![(false, true)].into(),
            kind,
            // Everything but the partition array: key, row (key, value), value.
            outputs: vec![0, 2, 3, 4],
            partitions: HashMap::new(),
        }
    }

    /// Record `[order key, order key, value]` (the row is `(key, value)`) in partition 0.
    fn update(key: i32, value: i32, diff: Diff) -> (Row, Row, Diff) {
        (
            Row::new(vec![Datum::Int32(0)]),
            Row::new(vec![
                Datum::Int32(key),
                Datum::Int32(key),
                Datum::Int32(value),
            ]),
            diff,
        )
    }

    /// The output changes as sorted `(key, value, output value, diff)`, from output rows
    /// `(partition, key, value, output value)`.
    fn changes(produced: Produced) -> Vec<(i32, i32, Datum, Diff)> {
        let mut out: Vec<_> = produced
            .into_iter()
            .map(|(row, diff)| {
                let row = row.unwrap();
                let int = |d: &Datum| match d {
                    Datum::Int32(v) => *v,
                    other => panic!("not an int: {other:?}"),
                };
                (int(&row[1]), int(&row[2]), row[3].clone(), diff)
            })
            .collect();
        out.sort();
        out
    }

    fn lag() -> Kind {
        Kind::Nearby {
            func: Box::new(WindowValueFunc::Lag {
                value: ScalarExpr::Column(1),
                offset: ScalarExpr::literal(Datum::Int32(1), ScalarType::Int32),
                default: ScalarExpr::literal(Datum::Null, ScalarType::Int32),
            }),
            frame: WindowFrame::default(),
            before: 1,
            after: 0,
        }
    }

    #[test]
    fn an_insert_between_two_rows_moves_only_the_lag_after_it() {
        let mut s = state(lag());
        s.apply(vec![update(1, 10, 1), update(3, 30, 1), update(4, 40, 1)]);
        let produced = s.apply(vec![update(2, 20, 1)]);
        assert_eq!(
            changes(produced),
            vec![
                (2, 20, Datum::Int32(10), 1),
                (3, 30, Datum::Int32(10), -1),
                (3, 30, Datum::Int32(20), 1),
            ]
        );
    }

    #[test]
    fn a_delete_links_its_neighbours() {
        let mut s = state(lag());
        s.apply(vec![update(1, 10, 1), update(2, 20, 1), update(3, 30, 1)]);
        let produced = s.apply(vec![update(2, 20, -1)]);
        assert_eq!(
            changes(produced),
            vec![
                (2, 20, Datum::Int32(10), -1),
                (3, 30, Datum::Int32(10), 1),
                (3, 30, Datum::Int32(20), -1),
            ]
        );
        let emptied = s.apply(vec![update(1, 10, -1), update(3, 30, -1)]);
        assert_eq!(emptied.len(), 2);
        assert!(s.partitions.is_empty());
    }

    #[test]
    fn copies_of_a_row_are_adjacent_rows() {
        let mut s = state(lag());
        let produced = s.apply(vec![update(1, 10, 2)]);
        assert_eq!(
            changes(produced),
            vec![(1, 10, Datum::Null, 1), (1, 10, Datum::Int32(10), 1)]
        );
    }

    #[test]
    fn a_sliding_sum_recomputes_the_frames_that_hold_the_change() {
        let sum = WindowValueFunc::Aggregate {
            aggregates: vec![crate::expr::AggregateExpr {
                func: AggregateFunc::SumInt,
                expr: ScalarExpr::Column(1),
                distinct: false,
            }],
            finish: ScalarExpr::Column(0),
        };
        let frame = WindowFrame {
            units: FrameUnits::Rows,
            start: FrameBound::Preceding(1),
            end: FrameBound::CurrentRow,
        };
        let mut s = state(Kind::Nearby {
            func: Box::new(sum),
            frame,
            before: 1,
            after: 0,
        });
        s.apply((1..=5).map(|k| update(k, k, 1)).collect());
        let produced = s.apply(vec![update(3, 3, -1), update(3, 30, 1)]);
        assert_eq!(
            changes(produced),
            vec![
                (3, 3, Datum::Int64(5), -1),
                (3, 30, Datum::Int64(32), 1),
                (4, 4, Datum::Int64(7), -1),
                (4, 4, Datum::Int64(34), 1),
            ]
        );
    }

    fn running_sum(peers: bool) -> Kind {
        Kind::Running {
            aggregates: vec![crate::expr::AggregateExpr {
                func: AggregateFunc::SumInt,
                expr: ScalarExpr::Column(1),
                distinct: false,
            }],
            finish: ScalarExpr::Column(0),
            peers,
        }
    }

    #[test]
    fn appending_to_a_running_sum_computes_only_the_new_row() {
        let mut s = state(running_sum(false));
        s.apply((1..=100).map(|k| update(k, 1, 1)).collect());
        let produced = s.apply(vec![update(101, 5, 1)]);
        assert_eq!(changes(produced), vec![(101, 5, Datum::Int64(105), 1)]);
    }

    #[test]
    fn a_running_sum_over_peers_moves_the_whole_peer_group() {
        let mut s = state(running_sum(true));
        s.apply(vec![update(1, 1, 1), update(2, 10, 1), update(3, 100, 1)]);
        // A new peer of key 2: both rows of key 2 take the group's total, and so does 3.
        let produced = s.apply(vec![update(2, 20, 1)]);
        assert_eq!(
            changes(produced),
            vec![
                (2, 10, Datum::Int64(11), -1),
                (2, 10, Datum::Int64(31), 1),
                (2, 20, Datum::Int64(31), 1),
                (3, 100, Datum::Int64(111), -1),
                (3, 100, Datum::Int64(131), 1),
            ]
        );
        // Deleting the last row retracts only it.
        let produced = s.apply(vec![update(3, 100, -1)]);
        assert_eq!(changes(produced), vec![(3, 100, Datum::Int64(131), -1)]);
    }

    #[test]
    fn appending_a_row_numbers_only_that_row() {
        let mut s = state(Kind::Numbering(WindowFunc::RowNumber));
        s.apply((1..=100).map(|k| update(k, k, 1)).collect());
        let produced = s.apply(vec![update(101, 0, 1)]);
        assert_eq!(changes(produced), vec![(101, 0, Datum::Int64(101), 1)]);
    }

    #[test]
    fn ranks_renumber_from_the_change_and_stop_where_numbers_settle() {
        let mut s = state(Kind::Numbering(WindowFunc::Rank));
        s.apply(vec![
            update(1, 0, 1),
            update(2, 0, 1),
            update(3, 0, 1),
            update(4, 0, 1),
        ]);
        // Replacing row 2 by a peer of row 1: rows 3 and 4 keep their ranks.
        let produced = s.apply(vec![update(2, 0, -1), update(1, 5, 1)]);
        assert_eq!(
            changes(produced),
            vec![(1, 5, Datum::Int64(1), 1), (2, 0, Datum::Int64(2), -1)]
        );
    }
}
