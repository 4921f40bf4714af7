//! Rendering MIR into differential-dataflow operators. Every rendered relation is a pair of
//! collections: `oks` (rows) and `errs` (evaluation errors, as data).
//!
//! Per operator, for input updates `(row, t, d)`:
//! - `Get` of a published arrangement imports it (shared, not copied), as of `as_of`:
//!   the snapshot at `as_of` then every later change.
//! - `Map` / `Filter` / `Project` evaluate row by row; a failing scalar sends its error to
//!   `errs` and drops the row.
//! - `Join`, `Reduce`, `TopK`, `Threshold`: see `join.rs`, `reduce.rs`, `topk.rs`.
//! - A window call (`Project` of a `FlatMap` over a `WindowPartition` `Reduce`) that is a
//!   numbering, a value of nearby rows or a running aggregate: see `window.rs`, which
//!   maintains it row by row.
//! - `Union` concatenates; `Negate` negates diffs; `Let` renders its value once and every
//!   `Get` of it reuses those collections.
//! - `LetRec`: see `recursion.rs`. Its values are rendered in a nested scope whose times are
//!   `(time, round)`; every operator above renders the same there ([`RenderTime`]).

mod join;
mod recursion;
mod reduce;
mod topk;
mod window;

use super::command::{DataflowDesc, DataflowExport};
use super::traces::{TraceBundle, TraceManager};
use crate::expr::{EvalError, Id, LocalId, RelationExpr, ScalarExpr};
use crate::repr::{Datum, Diff, GlobalId, Row, Timestamp};
use differential_dataflow::lattice::Lattice;
use differential_dataflow::operators::arrange::{Arranged, ShutdownButton, TraceAgent};
use differential_dataflow::trace::implementations::ValSpine;
use differential_dataflow::{AsCollection, VecCollection};
use std::collections::BTreeMap;
use timely::dataflow::Scope;
use timely::dataflow::operators::CapabilitySet;
use timely::order::Product;
use timely::progress::Antichain;
use timely::progress::timestamp::Refines;

pub type Oks<'s, T = Timestamp> = VecCollection<'s, T, Row, Diff>;
pub type Errs<'s, T = Timestamp> = VecCollection<'s, T, EvalError, Diff>;

/// Rows arranged by a key row (the left side of a join step).
pub type KeyedRows<'s, T> = Arranged<'s, TraceAgent<ValSpine<Row, Row, T, Diff>>>;

/// The times rendering works in: the dataflow's own, and inside a `LetRec` the pairs
/// `(time, round)`. What differs between them: reading published arrangements (only the
/// dataflow's own scope can; a `LetRec` enters what its values read), and the dataflow time
/// a temporal filter compares with.
pub(super) trait RenderTime:
    timely::progress::Timestamp + Lattice + Refines<Timestamp>
{
    /// The dataflow time of this time.
    fn outer(&self) -> Timestamp;
    /// This time with its dataflow time replaced by `outer`.
    fn with_outer(&self, outer: Timestamp) -> Self;
    /// Renders a `Get` of a published collection; a table's rows fitted to `width` when it
    /// is given (see `fit_table_rows`), else as stored.
    fn import<'s>(
        cx: &mut Context<'s, '_, Self>,
        id: GlobalId,
        width: Option<usize>,
    ) -> (Oks<'s, Self>, Errs<'s, Self>);
    /// Joins `left` with the published index on `source` arranged by exactly `key`, if one
    /// exists and this scope can read it.
    /// `width`: the width the plan reads `source`'s rows with (see `fit_table_rows`).
    fn index_join<'s>(
        cx: &mut Context<'s, '_, Self>,
        left: KeyedRows<'s, Self>,
        source: GlobalId,
        key: &[ScalarExpr],
        width: usize,
    ) -> Option<(Oks<'s, Self>, Errs<'s, Self>)>;
    /// Renders a window call that `window.rs` maintains row by row, if this scope can.
    fn render_window<'s>(
        cx: &mut Context<'s, '_, Self>,
        plan: &window::WindowPlan<'_>,
    ) -> Option<(Oks<'s, Self>, Errs<'s, Self>)>;
    /// Renders a `LetRec`.
    fn render_letrec<'s>(
        cx: &mut Context<'s, '_, Self>,
        letrec: &RelationExpr,
    ) -> (Oks<'s, Self>, Errs<'s, Self>);
}

impl RenderTime for Timestamp {
    fn outer(&self) -> Timestamp {
        *self
    }
    fn with_outer(&self, outer: Timestamp) -> Self {
        outer
    }
    fn import<'s>(
        cx: &mut Context<'s, '_, Self>,
        id: GlobalId,
        width: Option<usize>,
    ) -> (Oks<'s>, Errs<'s>) {
        cx.import(id, width)
    }
    fn index_join<'s>(
        cx: &mut Context<'s, '_, Self>,
        left: KeyedRows<'s, Self>,
        source: GlobalId,
        key: &[ScalarExpr],
        width: usize,
    ) -> Option<(Oks<'s>, Errs<'s>)> {
        let (right, right_errs) = cx.import_index(source, key)?;
        let joined = left.join_core(right, move |_k, l: &Row, r: &Row| {
            Some(if r.len() == width {
                l.concat(r)
            } else {
                l.concat(&r.clone().fitted(width, &[]))
            })
        });
        Some((joined, right_errs))
    }
    fn render_window<'s>(
        cx: &mut Context<'s, '_, Self>,
        plan: &window::WindowPlan<'_>,
    ) -> Option<(Oks<'s>, Errs<'s>)> {
        let input = cx.render(plan.input());
        Some(window::render(input, plan))
    }
    fn render_letrec<'s>(
        cx: &mut Context<'s, '_, Self>,
        letrec: &RelationExpr,
    ) -> (Oks<'s>, Errs<'s>) {
        recursion::render(cx, letrec)
    }
}

impl RenderTime for Product<Timestamp, u64> {
    fn outer(&self) -> Timestamp {
        self.outer
    }
    fn with_outer(&self, outer: Timestamp) -> Self {
        Product::new(outer, self.inner)
    }
    fn import<'s>(
        _cx: &mut Context<'s, '_, Self>,
        id: GlobalId,
        _width: Option<usize>,
    ) -> (Oks<'s, Self>, Errs<'s, Self>) {
        // `recursion::render` enters every collection the values read before rendering them.
        panic!("MIR invariant violated: recursive value reads {id}, which was not entered");
    }
    fn index_join<'s>(
        _cx: &mut Context<'s, '_, Self>,
        _left: KeyedRows<'s, Self>,
        _source: GlobalId,
        _key: &[ScalarExpr],
        _width: usize,
    ) -> Option<(Oks<'s, Self>, Errs<'s, Self>)> {
        None
    }
    fn render_window<'s>(
        _cx: &mut Context<'s, '_, Self>,
        _plan: &window::WindowPlan<'_>,
    ) -> Option<(Oks<'s, Self>, Errs<'s, Self>)> {
        // Rounds are not totally ordered with the dataflow's times: the plan as written.
        None
    }
    fn render_letrec<'s>(
        cx: &mut Context<'s, '_, Self>,
        _letrec: &RelationExpr,
    ) -> (Oks<'s, Self>, Errs<'s, Self>) {
        // A second level of rounds would need times `((time, round), round)`.
        let error =
            EvalError::FeatureNotSupported("WITH RECURSIVE nested inside a recursive query".into());
        let data = if cx.worker_index == 0 {
            vec![(error, cx.as_of, 1)]
        } else {
            vec![]
        };
        (
            constant_collection(cx.scope, Vec::new()),
            constant_collection(cx.scope, data),
        )
    }
}

pub(super) struct Context<'s, 't, T: RenderTime = Timestamp> {
    scope: Scope<'s, T>,
    as_of: T,
    worker_index: usize,
    traces: &'t mut TraceManager,
    lets: BTreeMap<LocalId, (Oks<'s, T>, Errs<'s, T>)>,
    /// Published collections already brought into this scope (inside a `LetRec`).
    globals: BTreeMap<GlobalId, (Oks<'s, T>, Errs<'s, T>)>,
    buttons: Vec<ShutdownButton<CapabilitySet<Timestamp>>>,
}

/// Builds the dataflow for `desc` in `scope`; returns the arrangement to publish, if any.
pub(super) fn build(
    scope: Scope<'_, Timestamp>,
    desc: DataflowDesc,
    traces: &mut TraceManager,
    worker_index: usize,
) -> Option<TraceBundle> {
    let mut cx = Context {
        scope,
        as_of: desc.as_of,
        worker_index,
        traces,
        lets: BTreeMap::new(),
        globals: BTreeMap::new(),
        buttons: Vec::new(),
    };
    let (oks, errs) = match (&desc.export, &desc.expr) {
        // An index of a table holds its rows as stored, whatever width the table had when
        // the index was built: readers fit them to theirs (`fit_table_rows`).
        (
            DataflowExport::Arrangement { key },
            RelationExpr::Get {
                id: Id::Global(g), ..
            },
        ) if !key.is_empty() => cx.global(*g),
        _ => cx.render(&desc.expr),
    };
    // Imports end when the dataflow is dropped; the buttons are not needed past building.
    drop(std::mem::take(&mut cx.buttons));
    match desc.export {
        DataflowExport::Arrangement { key } => {
            let source = match &desc.expr {
                RelationExpr::Get {
                    id: Id::Global(g), ..
                } => Some(*g),
                _ => None,
            };
            let (oks, key_errs) = if key.is_empty() {
                (oks.map(|row| (row, Row::empty())), None)
            } else {
                let key_exprs = key.clone();
                let results = oks.map(move |row| match eval_all(&key_exprs, &row) {
                    Ok(k) => Ok((k, row)),
                    Err(e) => Err(e),
                });
                let (oks, errs) = split(results);
                (oks, Some(errs))
            };
            let errs = match key_errs {
                Some(e) => errs.concat(e),
                None => errs,
            };
            let oks = oks.arrange_by_key_named("export");
            let errs = errs.arrange_by_self_named("export errors");
            Some(TraceBundle {
                oks: oks.trace,
                errs: errs.trace,
                key,
                source,
                is_table: false,
            })
        }
        DataflowExport::Subscribe { snapshot, tx } => {
            super::subscribe::sink(oks, errs, desc.as_of, snapshot, tx, worker_index);
            None
        }
    }
}

/// Evaluates every expression on `row`, as a new row.
pub fn eval_all(exprs: &[ScalarExpr], row: &[Datum]) -> Result<Row, EvalError> {
    exprs.iter().map(|e| e.eval(row)).collect()
}

/// Splits a collection of results into its successes and its errors.
pub fn split<'s, T, D>(
    results: VecCollection<'s, T, Result<D, EvalError>, Diff>,
) -> (VecCollection<'s, T, D, Diff>, Errs<'s, T>)
where
    T: timely::progress::Timestamp,
    D: differential_dataflow::Data,
{
    let oks = results.clone().flat_map(|r| r.ok());
    let errs = results.flat_map(|r| r.err());
    (oks, errs)
}

/// A filter with temporal predicates (see `expr::temporal_filter`): each row that passes the
/// ordinary predicates is inserted at the start of its validity interval and retracted at its
/// end. `(row, t, d)` ⇒ `(row, max(t, lower), d)` and `(row, max(t, upper), -d)`, or nothing
/// when the interval is empty by then.
fn render_temporal_filter<'s, T: RenderTime>(
    oks: Oks<'s, T>,
    predicates: &[ScalarExpr],
) -> (Oks<'s, T>, Errs<'s, T>) {
    use crate::expr::temporal_filter;
    use timely::dataflow::operators::vec::Map;
    let split_predicates = temporal_filter::split(predicates)
        .map_err(|message| EvalError::Internal(format!("temporal filter: {message}")));
    let results = oks
        .inner
        .flat_map(move |(row, time, diff)| {
            let (ordinary, temporal) = match &split_predicates {
                Ok(split) => split,
                Err(e) => return vec![(Err(e.clone()), time, diff)],
            };
            match ScalarExpr::all_true(ordinary, &row) {
                Ok(true) => {}
                Ok(false) => return vec![],
                Err(e) => return vec![(Err(e), time, diff)],
            }
            match temporal_filter::validity(temporal, &row) {
                Err(e) => vec![(Err(e), time, diff)],
                Ok(None) => vec![],
                Ok(Some((lower, upper))) => {
                    let start = time.outer().max(lower);
                    match upper {
                        Some(upper) if upper <= start => vec![],
                        Some(upper) => vec![
                            (Ok(row.clone()), time.with_outer(start), diff),
                            (Ok(row), time.with_outer(upper), -diff),
                        ],
                        None => vec![(Ok(row), time.with_outer(start), diff)],
                    }
                }
            }
        })
        .as_collection();
    split(results)
}

impl<'s, 't, T: RenderTime> Context<'s, 't, T> {
    /// The published collection `id` (imported, or entered from an outer scope), its rows as
    /// stored.
    pub(super) fn global(&mut self, id: GlobalId) -> (Oks<'s, T>, Errs<'s, T>) {
        match self.globals.get(&id) {
            Some((oks, errs)) => (oks.clone(), errs.clone()),
            None => T::import(self, id, None),
        }
    }

    /// A table's rows fitted to the `width` its reader was planned with: a table that gained
    /// or lost columns holds rows of its new width from its rewrite on, which readers planned
    /// before read cut (or, before the rewrite, extended with NULLs: the rewrite retracts
    /// those rows at once). Other collections keep their width. (A fresh import fits rows as
    /// it copies them out of the arrangement; this is for collections entered from an outer
    /// scope.)
    fn fit_table_rows(&self, id: GlobalId, oks: Oks<'s, T>, width: usize) -> Oks<'s, T> {
        if !self.traces.traces.get(&id).is_some_and(|b| b.is_table) {
            return oks;
        }
        oks.map(move |row| {
            if row.len() == width {
                row
            } else {
                row.fitted(width, &[])
            }
        })
    }

    fn empty_errs(&self) -> Errs<'s, T> {
        let data: Vec<(EvalError, T, Diff)> = Vec::new();
        constant_collection(self.scope, data)
    }

    pub(super) fn render(&mut self, expr: &RelationExpr) -> (Oks<'s, T>, Errs<'s, T>) {
        match expr {
            RelationExpr::Constant { rows, .. } => {
                let as_of = self.as_of.clone();
                let emit = self.worker_index == 0;
                match rows {
                    Ok(rows) => {
                        let data: Vec<(Row, T, Diff)> = if emit {
                            rows.iter()
                                .map(|(r, d)| (r.clone(), as_of.clone(), *d))
                                .collect()
                        } else {
                            vec![]
                        };
                        (constant_collection(self.scope, data), self.empty_errs())
                    }
                    Err(e) => {
                        let data: Vec<(EvalError, T, Diff)> = if emit {
                            vec![(e.clone(), as_of, 1)]
                        } else {
                            vec![]
                        };
                        (
                            constant_collection(self.scope, Vec::<(Row, T, Diff)>::new()),
                            constant_collection(self.scope, data),
                        )
                    }
                }
            }
            RelationExpr::Get {
                id: Id::Local(id), ..
            } => match self.lets.get(id) {
                Some((oks, errs)) => (oks.clone(), errs.clone()),
                None => panic!("MIR invariant violated: Get of unbound local {id:?}"),
            },
            RelationExpr::Get {
                id: Id::Global(id),
                typ,
            } => match self.globals.get(id) {
                Some((oks, errs)) => {
                    let oks = self.fit_table_rows(*id, oks.clone(), typ.len());
                    (oks, errs.clone())
                }
                None => T::import(self, *id, Some(typ.len())),
            },
            RelationExpr::LetRec { .. } => T::render_letrec(self, expr),
            RelationExpr::Let { id, value, body } => {
                let value = self.render(value);
                let shadowed = self.lets.insert(*id, value);
                let result = self.render(body);
                match shadowed {
                    Some(previous) => self.lets.insert(*id, previous),
                    None => self.lets.remove(id),
                };
                result
            }
            RelationExpr::Map { input, scalars } => {
                let (mut oks, errs) = self.render(input);
                if scalars.iter().any(ScalarExpr::is_volatile) {
                    // One evaluation per copy of each row (see `expr::volatile`).
                    use timely::dataflow::operators::vec::Map;
                    oks = oks
                        .consolidate()
                        .inner
                        .flat_map(|(row, time, diff)| {
                            crate::expr::volatile::copies(row, diff)
                                .map(move |(row, unit)| (row, time.clone(), unit))
                        })
                        .as_collection();
                }
                let scalars = scalars.clone();
                let results = oks.map(move |row| {
                    let mut datums = row.into_datums();
                    for s in &scalars {
                        let d = s.eval(&datums)?;
                        datums.push(d);
                    }
                    Ok(Row::new(datums))
                });
                let (oks, new_errs) = split(results);
                (oks, errs.concat(new_errs))
            }
            RelationExpr::Filter { input, predicates }
                if predicates.iter().any(ScalarExpr::contains_mz_now) =>
            {
                let (oks, errs) = self.render(input);
                let (oks, new_errs) = render_temporal_filter(oks, predicates);
                (oks, errs.concat(new_errs))
            }
            RelationExpr::Filter { input, predicates } => {
                let (oks, errs) = self.render(input);
                let predicates = predicates.clone();
                let results =
                    oks.flat_map(move |row| match ScalarExpr::all_true(&predicates, &row) {
                        Ok(true) => Some(Ok(row)),
                        Ok(false) => None,
                        Err(e) => Some(Err(e)),
                    });
                let (oks, new_errs) = split(results);
                (oks, errs.concat(new_errs))
            }
            RelationExpr::Project { input, outputs } => {
                if let Some(plan) = window::recognize(expr)
                    && let Some(rendered) = T::render_window(self, &plan)
                {
                    return rendered;
                }
                if let RelationExpr::FlatMap { input, func, exprs } = input.as_ref() {
                    return self.render_flat_map(input, func, exprs, Some(outputs));
                }
                let (oks, errs) = self.render(input);
                let outputs = outputs.clone();
                (oks.map(move |row| row.project(&outputs)), errs)
            }
            RelationExpr::FlatMap { input, func, exprs } => {
                self.render_flat_map(input, func, exprs, None)
            }
            RelationExpr::Join {
                inputs,
                equivalences,
            } => join::render(self, inputs, equivalences),
            RelationExpr::Reduce {
                input,
                group_key,
                aggregates,
            } => {
                let rendered = self.render(input);
                reduce::render(rendered, group_key, aggregates)
            }
            RelationExpr::TopK {
                input,
                group_key,
                order_key,
                limit,
                offset,
            } => {
                let rendered = self.render(input);
                topk::render(rendered, group_key, order_key, *limit, *offset)
            }
            RelationExpr::Negate { input } => {
                let (oks, errs) = self.render(input);
                (oks.negate(), errs)
            }
            RelationExpr::Threshold { input } => {
                let (oks, errs) = self.render(input);
                let oks = oks.threshold(|_row, count: &Diff| if *count > 0 { *count } else { 0 });
                (oks, errs)
            }
            RelationExpr::Union { base, inputs } => {
                let (mut oks, mut errs) = self.render(base);
                for input in inputs {
                    let (o, e) = self.render(input);
                    oks = oks.concat(o);
                    errs = errs.concat(e);
                }
                (oks, errs)
            }
            RelationExpr::ArrangeBy { input, .. } => self.render(input),
        }
    }
}

impl<'s, 't, T: RenderTime> Context<'s, 't, T> {
    /// A `FlatMap`, and the `Project` over it if there is one: each output row is built
    /// directly from the input row and the produced columns. (A window's or session's
    /// `FlatMap` reads a whole partition from one column of its input row; concatenating
    /// that into every output row before projecting it away would take time and memory
    /// quadratic in the partition.)
    fn render_flat_map(
        &mut self,
        input: &RelationExpr,
        func: &crate::expr::TableFunc,
        exprs: &[ScalarExpr],
        outputs: Option<&[usize]>,
    ) -> (Oks<'s, T>, Errs<'s, T>) {
        let (oks, errs) = self.render(input);
        let (func, exprs) = (func.clone(), exprs.to_vec());
        let outputs = outputs.map(<[usize]>::to_vec);
        let results = oks.flat_map(move |row| {
            let produced = eval_all(&exprs, &row).and_then(|args| func.eval(&args));
            match produced {
                Ok(rows) => rows
                    .into_iter()
                    .map(|out| {
                        Ok(match &outputs {
                            None => row.concat(&out),
                            Some(outputs) => outputs
                                .iter()
                                .map(|&c| match c.checked_sub(row.len()) {
                                    None => row[c].clone(),
                                    Some(p) => out[p].clone(),
                                })
                                .collect(),
                        })
                    })
                    .collect::<Vec<_>>(),
                Err(e) => vec![Err(e)],
            }
        });
        let (oks, new_errs) = split(results);
        (oks, errs.concat(new_errs))
    }
}

impl<'s, 't> Context<'s, 't, Timestamp> {
    /// Imports a published arrangement as of `as_of`, as a collection of rows: a table's
    /// fitted to `width` if given (see `fit_table_rows`), in the copy out of the arrangement.
    fn import(&mut self, id: crate::repr::GlobalId, width: Option<usize>) -> (Oks<'s>, Errs<'s>) {
        let since = Antichain::from_elem(self.as_of);
        let scope = self.scope;
        let Some(bundle) = self.traces.get_mut(&id) else {
            panic!("MIR invariant violated: dataflow reads {id}, which is not published");
        };
        let rows_are_values = bundle.rows_are_values();
        let fit_to = width.filter(|_| bundle.is_table);
        let (oks, oks_button) = bundle.oks.import_frontier_core(
            scope,
            &format!("import {id}"),
            since.clone(),
            Antichain::new(),
        );
        let (errs, errs_button) = bundle.errs.import_frontier_core(
            scope,
            &format!("import {id} errors"),
            since,
            Antichain::new(),
        );
        self.buttons.push(oks_button);
        self.buttons.push(errs_button);
        let oks = match (rows_are_values, fit_to) {
            (true, _) => oks.as_collection(|_k, v| v.clone()),
            (false, None) => oks.as_collection(|k, _v| k.clone()),
            (false, Some(width)) => oks.as_collection(move |k, _v| {
                if k.len() == width {
                    k.clone()
                } else {
                    k.clone().fitted(width, &[])
                }
            }),
        };
        let errs = errs.as_collection(|k, _| k.clone());
        (oks, errs)
    }

    /// The arrangement of `source` by `key` (and its errors), when a published index
    /// provides exactly it.
    pub(super) fn import_index(
        &mut self,
        source: crate::repr::GlobalId,
        key: &[ScalarExpr],
    ) -> Option<(ImportedRows<'s>, Errs<'s>)> {
        let index = self.traces.index_on(source, key)?;
        let since = Antichain::from_elem(self.as_of);
        let scope = self.scope;
        let bundle = self.traces.get_mut(&index)?;
        let (oks, oks_button) = bundle.oks.import_frontier_core(
            scope,
            &format!("import index {index}"),
            since.clone(),
            Antichain::new(),
        );
        let (errs, errs_button) = bundle.errs.import_frontier_core(
            scope,
            &format!("import index {index} errors"),
            since,
            Antichain::new(),
        );
        self.buttons.push(oks_button);
        self.buttons.push(errs_button);
        Some((oks, errs.as_collection(|k, _| k.clone())))
    }
}

/// An imported arrangement of rows by key.
pub type ImportedRows<'s> = differential_dataflow::operators::arrange::Arranged<
    's,
    differential_dataflow::trace::wrappers::frontier::TraceFrontier<super::traces::RowTrace>,
>;

/// A collection holding exactly `data` (each update at its own time).
pub fn constant_collection<'s, T: timely::progress::Timestamp, D: differential_dataflow::Data>(
    scope: Scope<'s, T>,
    data: Vec<(D, T, Diff)>,
) -> VecCollection<'s, T, D, Diff> {
    use timely::dataflow::operators::vec::ToStream;
    data.to_stream(scope).as_collection()
}
