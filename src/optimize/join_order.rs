//! Join ordering: the inputs of each multi-way join are put in an order where every input
//! after the first shares an equivalence with the inputs before it, whenever the join's
//! equivalences connect them, so the left-deep rendering (`dataflow/render/join.rs`) never
//! builds a cross product it can avoid.
//!
//! Semantics are unchanged: `Join(inputs, equivalences)` ⇒
//! `Project(Join(permuted inputs, remapped equivalences), original column order)`, the same
//! rows with the same multiplicities at every time.
//!
//! Choice (greedy, deterministic): start with the first input that is restricted on its own
//! (filtered, or equated to a constant), else the first input; then repeatedly take the first
//! remaining input connected to those taken, preferring restricted ones; when none is
//! connected (a real cross product), take the first remaining input.

use crate::expr::{RelationExpr, ScalarExpr};

pub fn order_joins(expr: RelationExpr) -> RelationExpr {
    let expr = super::map_children(expr, &mut order_joins);
    let RelationExpr::Join {
        inputs,
        equivalences,
    } = expr
    else {
        return expr;
    };
    // Two inputs are joined on whatever they share either way.
    if inputs.len() < 3 {
        return RelationExpr::Join {
            inputs,
            equivalences,
        };
    }
    // Column ranges `[lo, hi)` of the inputs in the original numbering.
    let mut ranges = Vec::with_capacity(inputs.len());
    let mut offset = 0;
    for input in &inputs {
        ranges.push((offset, offset + input.arity()));
        offset += input.arity();
    }
    let order = choose_order(&inputs, &ranges, &equivalences);
    if order.iter().copied().eq(0..inputs.len()) {
        return RelationExpr::Join {
            inputs,
            equivalences,
        };
    }
    // old column => new column.
    let mut new_of_old = vec![0; offset];
    let mut next = 0;
    for &i in &order {
        for slot in &mut new_of_old[ranges[i].0..ranges[i].1] {
            *slot = next;
            next += 1;
        }
    }
    let equivalences: Vec<Vec<ScalarExpr>> = equivalences
        .into_iter()
        .map(|class| {
            class
                .into_iter()
                .map(|mut e| {
                    e.visit_columns_mut(&mut |c| *c = new_of_old[*c]);
                    e
                })
                .collect()
        })
        .collect();
    let mut slots: Vec<Option<RelationExpr>> = inputs.into_iter().map(Some).collect();
    let inputs = order
        .iter()
        .map(|&i| slots[i].take().expect("each input is taken once"))
        .collect();
    RelationExpr::Project {
        input: Box::new(RelationExpr::Join {
            inputs,
            equivalences,
        }),
        outputs: new_of_old,
    }
}

/// Which input each class member reads, or `None` for a member over several inputs or none.
fn input_of(expr: &ScalarExpr, ranges: &[(usize, usize)]) -> Option<usize> {
    let columns = expr.columns();
    let first = *columns.iter().next()?;
    let input = ranges
        .iter()
        .position(|(lo, hi)| first >= *lo && first < *hi)?;
    let (lo, hi) = ranges[input];
    columns.iter().all(|c| *c >= lo && *c < hi).then_some(input)
}

fn choose_order(
    inputs: &[RelationExpr],
    ranges: &[(usize, usize)],
    equivalences: &[Vec<ScalarExpr>],
) -> Vec<usize> {
    // Per class: the inputs its members read on their own, and whether it holds a constant.
    let classes: Vec<(Vec<usize>, bool)> = equivalences
        .iter()
        .map(|class| {
            let mut readers: Vec<usize> =
                class.iter().filter_map(|e| input_of(e, ranges)).collect();
            readers.sort_unstable();
            readers.dedup();
            let constant = class.iter().any(|e| e.columns().is_empty());
            (readers, constant)
        })
        .collect();
    let restricted: Vec<bool> = (0..inputs.len())
        .map(|i| {
            matches!(inputs[i], RelationExpr::Filter { .. })
                || classes
                    .iter()
                    .any(|(r, constant)| *constant && r.contains(&i))
        })
        .collect();
    let mut taken = vec![false; inputs.len()];
    let mut order = Vec::with_capacity(inputs.len());
    let first = (0..inputs.len()).find(|&i| restricted[i]).unwrap_or(0);
    taken[first] = true;
    order.push(first);
    while order.len() < inputs.len() {
        let connected = |i: usize| {
            classes
                .iter()
                .any(|(r, _)| r.contains(&i) && r.iter().any(|&j| taken[j]))
        };
        let candidates: Vec<usize> = (0..inputs.len()).filter(|&i| !taken[i]).collect();
        let next = candidates
            .iter()
            .copied()
            .find(|&i| connected(i) && restricted[i])
            .or_else(|| candidates.iter().copied().find(|&i| connected(i)))
            .unwrap_or(candidates[0]);
        taken[next] = true;
        order.push(next);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repr::{ColumnType, ScalarType};

    fn table(id: u64) -> RelationExpr {
        RelationExpr::global_get(
            crate::repr::GlobalId::User(id),
            vec![ColumnType::new(ScalarType::Int32, true); 2],
        )
    }

    #[test]
    fn a_chain_written_out_of_order_is_joined_along_its_equalities() {
        // FROM t0, t1, t2 WHERE t0.a = t2.a AND t2.b = t1.b: t0 and t1 share nothing.
        let join = RelationExpr::Join {
            inputs: vec![table(0), table(1), table(2)],
            equivalences: vec![
                vec![ScalarExpr::Column(0), ScalarExpr::Column(4)],
                vec![ScalarExpr::Column(5), ScalarExpr::Column(3)],
            ],
        };
        let RelationExpr::Project { input, outputs } = order_joins(join) else {
            panic!("expected a projection restoring the column order");
        };
        // Order t0, t2, t1: t0's columns stay, t1's move after t2's.
        assert_eq!(outputs, vec![0, 1, 4, 5, 2, 3]);
        let RelationExpr::Join { equivalences, .. } = *input else {
            panic!("expected the join");
        };
        assert_eq!(
            equivalences,
            vec![
                vec![ScalarExpr::Column(0), ScalarExpr::Column(2)],
                vec![ScalarExpr::Column(3), ScalarExpr::Column(5)],
            ]
        );
    }

    #[test]
    fn connected_joins_keep_their_order() {
        let join = RelationExpr::Join {
            inputs: vec![table(0), table(1), table(2)],
            equivalences: vec![
                vec![ScalarExpr::Column(0), ScalarExpr::Column(2)],
                vec![ScalarExpr::Column(3), ScalarExpr::Column(4)],
            ],
        };
        assert!(matches!(order_joins(join), RelationExpr::Join { .. }));
    }
}
