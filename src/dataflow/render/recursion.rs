//! `LetRec`: mutually recursive bindings, iterated to their fixed point.
//!
//! The values are rendered in a nested scope whose times are `(time, round)`. Each binding is
//! a differential `Variable`: its collection at round `r + 1` is its value computed at round
//! `r`, and at round 0 it is empty. Updates circulate until a round changes nothing, so at
//! each `time` the bindings reach the fixed point of the values over the inputs at `time`;
//! an input change at a later time restarts the rounds from the fixed point already reached,
//! and only the differences circulate.
//!
//! For input updates `(row, t, d)` of the collections the values read, each binding's output
//! leaving the scope at `t` accumulates to its fixed point at `t`.
//!
//! - Values are consolidated before they feed back, so updates that cancel never circulate.
//! - Errors circulate as a set (each distinct error once): a value that reads its own
//!   binding sees that binding's errors again each round, and counting them would never
//!   reach a fixed point.
//! - With a limit of `n` rounds, updates of round `n` or later are not fed back: the
//!   bindings keep their values of round `n`. With `error`, such an update also yields
//!   `EvalError::RecursionLimit`, which stays once raised.
//!
//! Invariant: everything a value reads from outside the `LetRec` (published collections and
//! enclosing `Let` bindings) is rendered in the outer scope and entered before the values are
//! rendered; the nested scope never imports an arrangement itself.

use super::{Context, Errs, Oks};
use crate::expr::{EvalError, Id, LocalId, RecursionLimit, RelationExpr};
use crate::repr::{Diff, GlobalId, Timestamp};
use differential_dataflow::AsCollection;
use differential_dataflow::operators::iterate::Variable;
use std::collections::{BTreeMap, BTreeSet};
use timely::dataflow::operators::vec::Map;
use timely::order::Product;

/// Times inside the rounds: (dataflow time, round).
type Round = Product<Timestamp, u64>;

pub(super) fn render<'s>(
    cx: &mut Context<'s, '_, Timestamp>,
    letrec: &RelationExpr,
) -> (Oks<'s>, Errs<'s>) {
    let RelationExpr::LetRec {
        ids,
        values,
        limit,
        body,
    } = letrec
    else {
        panic!("recursion::render called on a non-LetRec");
    };
    // What the values read from outside, rendered out here.
    let mut globals = BTreeSet::new();
    let mut locals = BTreeSet::new();
    for value in values {
        free_ids(value, &mut globals, &mut locals);
    }
    for id in ids {
        locals.remove(id);
    }
    let outer_globals: Vec<(GlobalId, (Oks<'s>, Errs<'s>))> = globals
        .into_iter()
        // As stored: each `Get` inside fits them to its own width.
        .map(|g| (g, cx.global(g)))
        .collect();
    let outer_locals: Vec<(LocalId, (Oks<'s>, Errs<'s>))> = locals
        .into_iter()
        .filter_map(|l| cx.lets.get(&l).map(|c| (l, c.clone())))
        .collect();

    let scope = cx.scope;
    let as_of = cx.as_of;
    let worker_index = cx.worker_index;
    let traces = &mut *cx.traces;
    let results: Vec<(Oks<'s>, Errs<'s>)> = scope.iterative::<u64, _, _>(|inner| {
        let enter = |(oks, errs): (Oks<'s>, Errs<'s>)| (oks.enter(inner), errs.enter(inner));
        let mut icx: Context<'_, '_, Round> = Context {
            scope: inner,
            as_of: Product::new(as_of, 0),
            worker_index,
            traces,
            lets: outer_locals
                .into_iter()
                .map(|(l, c)| (l, enter(c)))
                .collect(),
            globals: outer_globals
                .into_iter()
                .map(|(g, c)| (g, enter(c)))
                .collect(),
            buttons: Vec::new(),
        };
        let step = Product::new(0, 1);
        let mut variables = Vec::with_capacity(ids.len());
        for id in ids {
            let (oks_var, oks) = Variable::new(inner, step);
            let (errs_var, errs) = Variable::new(inner, step);
            icx.lets.insert(*id, (oks, errs));
            variables.push((oks_var, errs_var));
        }
        let mut results = Vec::with_capacity(ids.len());
        for (value, (oks_var, errs_var)) in values.iter().zip(variables) {
            let (oks, errs) = icx.render(value);
            let (oks, limit_errs) = match limit {
                Some(limit) => stop_at_limit(oks, *limit),
                None => (oks, None),
            };
            let oks = oks.consolidate();
            let errs = errs.threshold(|_error, count: &Diff| if *count > 0 { 1 } else { 0 });
            oks_var.set(oks.clone());
            errs_var.set(errs.clone());
            let errs = match limit_errs {
                Some(limit_errs) => errs.concat(limit_errs),
                None => errs,
            };
            results.push((oks.leave(scope), errs.leave(scope)));
        }
        results
    });

    let mut shadowed = BTreeMap::new();
    for (id, result) in ids.iter().zip(results) {
        if let Some(previous) = cx.lets.insert(*id, result) {
            shadowed.insert(*id, previous);
        }
    }
    let result = cx.render(body);
    for id in ids {
        match shadowed.remove(id) {
            Some(previous) => cx.lets.insert(*id, previous),
            None => cx.lets.remove(id),
        };
    }
    result
}

/// Drops the updates of round `limit.rounds` and later; with `limit.error`, each dropped
/// update also yields the limit's error (counted once per update, so it never cancels).
fn stop_at_limit<'s>(
    oks: Oks<'s, Round>,
    limit: RecursionLimit,
) -> (Oks<'s, Round>, Option<Errs<'s, Round>>) {
    let rounds = limit.rounds;
    let kept = oks
        .inner
        .clone()
        .flat_map(move |update| (update.1.inner < rounds).then_some(update))
        .as_collection();
    if !limit.error {
        return (kept, None);
    }
    let errs = oks
        .inner
        .flat_map(move |(_, time, _)| {
            (time.inner >= rounds).then_some((EvalError::RecursionLimit { rounds }, time, 1))
        })
        .as_collection();
    (kept, Some(errs))
}

/// The global ids and the local ids `expr` reads without binding them itself.
fn free_ids(expr: &RelationExpr, globals: &mut BTreeSet<GlobalId>, locals: &mut BTreeSet<LocalId>) {
    match expr {
        RelationExpr::Get {
            id: Id::Global(g), ..
        } => {
            globals.insert(*g);
        }
        RelationExpr::Get {
            id: Id::Local(l), ..
        } => {
            locals.insert(*l);
        }
        RelationExpr::Let { id, value, body } => {
            free_ids(value, globals, locals);
            let mut inner = BTreeSet::new();
            free_ids(body, globals, &mut inner);
            inner.remove(id);
            locals.extend(inner);
        }
        RelationExpr::LetRec {
            ids, values, body, ..
        } => {
            let mut inner = BTreeSet::new();
            for value in values {
                free_ids(value, globals, &mut inner);
            }
            free_ids(body, globals, &mut inner);
            for id in ids {
                inner.remove(id);
            }
            locals.extend(inner);
        }
        other => {
            for child in other.children() {
                free_ids(child, globals, locals);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repr::ColumnType;

    fn get_local(id: u64) -> RelationExpr {
        RelationExpr::Get {
            id: Id::Local(LocalId(id)),
            typ: Vec::<ColumnType>::new(),
        }
    }

    #[test]
    fn free_ids_leave_out_what_the_expression_binds() {
        // Let l1 = l2 in (l1 ∪ l3)
        let expr = RelationExpr::Let {
            id: LocalId(1),
            value: Box::new(get_local(2)),
            body: Box::new(get_local(1).union(get_local(3))),
        };
        let (mut globals, mut locals) = (BTreeSet::new(), BTreeSet::new());
        free_ids(&expr, &mut globals, &mut locals);
        assert!(globals.is_empty());
        assert_eq!(locals, [LocalId(2), LocalId(3)].into_iter().collect());
    }
}
