//! Join: a left-deep sequence of binary joins on arrangements.
//!
//! For `inputs` `[I0, I1, ...]` (rows concatenated in order, diffs multiplied), step i joins
//! the rows so far with `Ii` on the key formed by every equivalence class that has a member
//! over the rows so far and a member over `Ii` (both arranged by that key; with no such class
//! the key is empty: a cross product). Keys compare datums, so NULL matches NULL: the planner
//! filters NULLs out for SQL equality. Every equivalence is checked again on the result.
//!
//! When `Ii` is a published collection and an index on it is arranged by exactly the key, the
//! join reads that index instead of arranging `Ii` again.

use super::{Context, Errs, Oks, RenderTime, eval_all, split};
use crate::expr::{Id, RelationExpr, ScalarExpr};
use crate::repr::Row;

pub fn render<'s, T: RenderTime>(
    cx: &mut Context<'s, '_, T>,
    inputs: &[RelationExpr],
    equivalences: &[Vec<ScalarExpr>],
) -> (Oks<'s, T>, Errs<'s, T>) {
    let (mut acc, mut errs) = cx.render(&inputs[0]);
    let mut acc_arity = inputs[0].arity();
    for input in &inputs[1..] {
        let arity = input.arity();
        let (lo, hi) = (acc_arity, acc_arity + arity);
        let mut left_key = Vec::new();
        let mut right_key = Vec::new();
        for class in equivalences {
            let left = class
                .iter()
                .find(|e| !e.columns().is_empty() && e.columns().iter().all(|c| *c < lo));
            let right = class.iter().find(|e| {
                !e.columns().is_empty() && e.columns().iter().all(|c| *c >= lo && *c < hi)
            });
            if let (Some(l), Some(r)) = (left, right) {
                let mut r = r.clone();
                r.visit_columns_mut(&mut |c| *c -= lo);
                left_key.push(l.clone());
                right_key.push(r);
            }
        }
        let lk = left_key.clone();
        let (left_keyed, left_errs) =
            split(acc.map(move |row| eval_all(&lk, &row).map(|k| (k, row))));
        errs = errs.concat(left_errs);
        let left = left_keyed.arrange_by_key_named("join left");
        let index = match input {
            RelationExpr::Get {
                id: Id::Global(g),
                typ,
            } if !right_key.is_empty()
                && right_key.iter().all(|k| matches!(k, ScalarExpr::Column(_))) =>
            {
                T::index_join(cx, left.clone(), *g, &right_key, typ.len())
            }
            _ => None,
        };
        acc = match index {
            Some((joined, right_errs)) => {
                errs = errs.concat(right_errs);
                joined
            }
            None => {
                let (right_rows, right_errs) = cx.render(input);
                errs = errs.concat(right_errs);
                let rk = right_key.clone();
                let (right_keyed, key_errs) =
                    split(right_rows.map(move |row| eval_all(&rk, &row).map(|k| (k, row))));
                errs = errs.concat(key_errs);
                let right = right_keyed.arrange_by_key_named("join right");
                left.join_core(right, |_k, l: &Row, r: &Row| Some(l.concat(r)))
            }
        };
        acc_arity = hi;
    }
    // Every member of each class must be equal (datum equality).
    let classes: Vec<Vec<ScalarExpr>> = equivalences
        .iter()
        .filter(|c| c.len() > 1)
        .cloned()
        .collect();
    if classes.is_empty() {
        return (acc, errs);
    }
    let results = acc.flat_map(move |row| {
        for class in &classes {
            let first = match class[0].eval(&row) {
                Ok(d) => d,
                Err(e) => return Some(Err(e)),
            };
            for member in &class[1..] {
                match member.eval(&row) {
                    Ok(d) if d == first => {}
                    Ok(_) => return None,
                    Err(e) => return Some(Err(e)),
                }
            }
        }
        Some(Ok(row))
    });
    let (oks, new_errs) = split(results);
    (oks, errs.concat(new_errs))
}
