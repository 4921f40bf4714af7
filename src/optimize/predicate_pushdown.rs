//! Predicate pushdown. A `Filter` moves below `Project`, `Map` (when it does not read the
//! mapped columns), `Union`, `Negate`-free paths, and into the inputs of a `Join`:
//! - a predicate over one join input filters that input before the join;
//! - `a = b` with `a` over one input and `b` over another becomes a join equivalence, plus
//!   `a IS NOT NULL` and `b IS NOT NULL` on the inputs (SQL equality never matches NULL,
//!   while join equivalences compare datums, where NULL equals NULL);
//! - anything else stays above the join.

use crate::expr::{Func, RelationExpr, ScalarExpr};

pub fn pushdown(expr: RelationExpr) -> RelationExpr {
    match expr {
        RelationExpr::Filter { input, predicates } => push_filter(*input, predicates),
        other => super::map_children(other, &mut pushdown),
    }
}

/// `a AND b` as two predicates, recursively.
fn conjuncts(predicates: Vec<ScalarExpr>) -> Vec<ScalarExpr> {
    let mut out = Vec::with_capacity(predicates.len());
    let mut stack: Vec<ScalarExpr> = predicates.into_iter().rev().collect();
    while let Some(p) = stack.pop() {
        match p {
            ScalarExpr::And(args) => stack.extend(args.into_iter().rev()),
            other => {
                if !out.contains(&other) {
                    out.push(other)
                }
            }
        }
    }
    out
}

fn push_filter(input: RelationExpr, predicates: Vec<ScalarExpr>) -> RelationExpr {
    let mut predicates = conjuncts(predicates);
    match input {
        RelationExpr::Filter {
            input,
            predicates: inner,
        } => {
            predicates.extend(inner);
            push_filter(*input, predicates)
        }
        RelationExpr::Project { input, outputs } => {
            for p in &mut predicates {
                p.permute(&outputs);
            }
            push_filter(*input, predicates).project(outputs)
        }
        RelationExpr::Map { input, scalars } => {
            let arity = input.arity();
            // A mapped plain column reference is that column: look through it.
            for p in &mut predicates {
                p.visit_columns_mut(&mut |c| {
                    while *c >= arity {
                        match &scalars[*c - arity] {
                            ScalarExpr::Column(k) => *c = *k,
                            _ => break,
                        }
                    }
                });
            }
            let (below, above): (Vec<_>, Vec<_>) = predicates
                .into_iter()
                .partition(|p| p.columns().iter().all(|c| *c < arity));
            let input = push_filter(*input, below);
            RelationExpr::Map {
                input: Box::new(input),
                scalars,
            }
            .filter(above)
        }
        RelationExpr::Union { base, inputs } => RelationExpr::Union {
            base: Box::new(push_filter(*base, predicates.clone())),
            inputs: inputs
                .into_iter()
                .map(|i| push_filter(i, predicates.clone()))
                .collect(),
        },
        RelationExpr::Join {
            inputs,
            mut equivalences,
        } => {
            let arities: Vec<usize> = inputs.iter().map(|i| i.arity()).collect();
            let mut offsets = Vec::with_capacity(arities.len());
            let mut total = 0;
            for a in &arities {
                offsets.push(total);
                total += a;
            }
            let input_of = |c: usize| {
                offsets
                    .iter()
                    .rposition(|o| *o <= c)
                    .expect("column in some input")
            };
            let single_input = |e: &ScalarExpr| -> Option<usize> {
                let cols = e.columns();
                let first = input_of(*cols.iter().next()?);
                cols.iter().all(|c| input_of(*c) == first).then_some(first)
            };
            let mut per_input: Vec<Vec<ScalarExpr>> = vec![Vec::new(); inputs.len()];
            let mut above = Vec::new();
            for p in predicates {
                if let Some(i) = single_input(&p) {
                    let mut p = p;
                    p.visit_columns_mut(&mut |c| *c -= offsets[i]);
                    per_input[i].push(p);
                    continue;
                }
                if let ScalarExpr::Call {
                    func: Func::Eq,
                    args,
                } = &p
                    && let (Some(i), Some(j)) = (single_input(&args[0]), single_input(&args[1]))
                    && i != j
                    && !p.contains_mz_now()
                {
                    for (k, arg) in [(i, &args[0]), (j, &args[1])] {
                        let mut not_null = ScalarExpr::call(Func::IsNotNull, vec![arg.clone()]);
                        not_null.visit_columns_mut(&mut |c| *c -= offsets[k]);
                        per_input[k].push(not_null);
                    }
                    equivalences.push(vec![args[0].clone(), args[1].clone()]);
                    continue;
                }
                above.push(p);
            }
            let inputs = inputs
                .into_iter()
                .zip(per_input)
                .map(|(input, preds)| push_filter(input, preds))
                .collect();
            RelationExpr::Join {
                inputs,
                equivalences,
            }
            .filter(above)
        }
        other => pushdown(other).filter_pushed(predicates),
    }
}

trait FilterPushed {
    fn filter_pushed(self, predicates: Vec<ScalarExpr>) -> RelationExpr;
}

impl FilterPushed for RelationExpr {
    /// Filters `self` (already optimized) without pushing further.
    fn filter_pushed(self, predicates: Vec<ScalarExpr>) -> RelationExpr {
        if predicates.is_empty() {
            return self;
        }
        match self {
            RelationExpr::Filter {
                input,
                predicates: mut inner,
            } => {
                inner.extend(predicates);
                RelationExpr::Filter {
                    input,
                    predicates: inner,
                }
            }
            other => other.filter(predicates),
        }
    }
}
