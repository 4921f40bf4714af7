//! MIR → MIR rewrites. Each pass preserves the relation's value at every time; together they
//! turn the planner's literal translation into something cheap to maintain.
//!
//! Order: inline views → flatten joins → push predicates down (turning cross-input equalities
//! into join equivalences) → order join inputs along their equalities → top-k below filtered
//! windows → drop identity projections.

mod inline_views;
mod join;
mod join_order;
mod predicate_pushdown;
mod window_topk;

pub use inline_views::inline_views;

use crate::catalog::Catalog;
use crate::expr::RelationExpr;

/// Runs every pass over `expr`.
pub fn optimize(expr: RelationExpr, catalog: &Catalog) -> RelationExpr {
    let expr = inline_views(expr, catalog);
    let expr = join::flatten(expr);
    let expr = predicate_pushdown::pushdown(expr);
    let expr = join::flatten(expr);
    let expr = join_order::order_joins(expr);
    let expr = window_topk::window_topk(expr);
    remove_identity_projects(expr)
}

/// Applies `f` to each child of `expr`, bottom-up, rebuilding it.
pub(crate) fn map_children(
    expr: RelationExpr,
    f: &mut impl FnMut(RelationExpr) -> RelationExpr,
) -> RelationExpr {
    use RelationExpr::*;
    match expr {
        Constant { .. } | Get { .. } => expr,
        Let { id, value, body } => Let {
            id,
            value: Box::new(f(*value)),
            body: Box::new(f(*body)),
        },
        LetRec {
            ids,
            values,
            limit,
            body,
        } => LetRec {
            ids,
            values: values.into_iter().map(&mut *f).collect(),
            limit,
            body: Box::new(f(*body)),
        },
        Map { input, scalars } => Map {
            input: Box::new(f(*input)),
            scalars,
        },
        Filter { input, predicates } => Filter {
            input: Box::new(f(*input)),
            predicates,
        },
        Project { input, outputs } => Project {
            input: Box::new(f(*input)),
            outputs,
        },
        FlatMap { input, func, exprs } => FlatMap {
            input: Box::new(f(*input)),
            func,
            exprs,
        },
        Join {
            inputs,
            equivalences,
        } => Join {
            inputs: inputs.into_iter().map(&mut *f).collect(),
            equivalences,
        },
        Reduce {
            input,
            group_key,
            aggregates,
        } => Reduce {
            input: Box::new(f(*input)),
            group_key,
            aggregates,
        },
        TopK {
            input,
            group_key,
            order_key,
            limit,
            offset,
        } => TopK {
            input: Box::new(f(*input)),
            group_key,
            order_key,
            limit,
            offset,
        },
        Negate { input } => Negate {
            input: Box::new(f(*input)),
        },
        Threshold { input } => Threshold {
            input: Box::new(f(*input)),
        },
        Union { base, inputs } => Union {
            base: Box::new(f(*base)),
            inputs: inputs.into_iter().map(&mut *f).collect(),
        },
        ArrangeBy { input, keys } => ArrangeBy {
            input: Box::new(f(*input)),
            keys,
        },
    }
}

/// `Project(Map(input, scalars))` where every projected column is an input column or a
/// mapped plain column reference becomes `Project(input)`: the Map copied columns only.
fn project_through_column_maps(expr: RelationExpr) -> RelationExpr {
    let RelationExpr::Project { input, outputs } = expr else {
        return expr;
    };
    let RelationExpr::Map {
        input: inner,
        scalars,
    } = *input
    else {
        return RelationExpr::Project { input, outputs };
    };
    let arity = inner.arity();
    let resolve = |mut c: usize| -> Option<usize> {
        while c >= arity {
            match &scalars[c - arity] {
                crate::expr::ScalarExpr::Column(k) => c = *k,
                _ => return None,
            }
        }
        Some(c)
    };
    match outputs
        .iter()
        .map(|c| resolve(*c))
        .collect::<Option<Vec<usize>>>()
    {
        Some(resolved) => RelationExpr::Project {
            input: inner,
            outputs: resolved,
        },
        None => RelationExpr::Project {
            input: Box::new(RelationExpr::Map {
                input: inner,
                scalars,
            }),
            outputs,
        },
    }
}

fn remove_identity_projects(expr: RelationExpr) -> RelationExpr {
    let expr = map_children(expr, &mut remove_identity_projects);
    let expr = project_through_column_maps(expr);
    match expr {
        RelationExpr::Project { input, outputs } => {
            if outputs.iter().copied().eq(0..input.arity()) {
                *input
            } else {
                match *input {
                    // Project of Project composes.
                    RelationExpr::Project {
                        input: inner,
                        outputs: inner_outputs,
                    } => RelationExpr::Project {
                        input: inner,
                        outputs: outputs.iter().map(|c| inner_outputs[*c]).collect(),
                    },
                    other => RelationExpr::Project {
                        input: Box::new(other),
                        outputs,
                    },
                }
            }
        }
        other => other,
    }
}
