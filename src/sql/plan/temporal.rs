//! Where `mz_now()` may appear in a plan: only in `Filter` predicates of the forms
//! `expr::temporal_filter` accepts (which become temporal filters in the dataflow), and only
//! in statements that read (SELECT, SUBSCRIBE, views, EXPLAIN). Everything else with
//! `mz_now()` in it is refused here, at plan time, with SQLSTATE 0A000.

use super::statement::Plan;
use crate::expr::temporal_filter::{self, ACCEPTED_FORMS};
use crate::expr::{RelationExpr, ScalarExpr};
use crate::sql::{PlanError, Result};

/// Checks every use of `mz_now()` in `plan`.
pub fn check_plan(plan: &Plan) -> Result<()> {
    match plan {
        Plan::Select { expr, .. }
        | Plan::Subscribe { expr, .. }
        | Plan::CreateView { expr, .. }
        | Plan::Explain { expr, .. } => check_relation(expr),
        Plan::Insert { expr, .. } => refuse_any(expr, "INSERT"),
        Plan::ReadThenWrite { selection, .. } => refuse_any(selection, "UPDATE and DELETE"),
        Plan::DeclareCursor { plan, .. } => check_plan(plan),
        _ => Ok(()),
    }
}

fn refuse_any(expr: &RelationExpr, statement: &str) -> Result<()> {
    let mut found = false;
    visit(expr, &mut |node| {
        found |= scalars_of(node).iter().any(|s| s.contains_mz_now())
    });
    if found {
        return Err(PlanError::unsupported(format!("mz_now() in {statement}")));
    }
    Ok(())
}

fn check_relation(expr: &RelationExpr) -> Result<()> {
    let mut result = Ok(());
    visit(expr, &mut |node| {
        if result.is_err() {
            return;
        }
        if let RelationExpr::Filter { predicates, .. } = node {
            if let Err(message) = temporal_filter::split(predicates) {
                result = Err(PlanError::UnsupportedTemporal(message));
            }
        } else if scalars_of(node).iter().any(|s| s.contains_mz_now()) {
            result = Err(PlanError::UnsupportedTemporal(ACCEPTED_FORMS.to_string()));
        }
    });
    result
}

/// Calls `f` on `expr` and every expression below it.
fn visit(expr: &RelationExpr, f: &mut impl FnMut(&RelationExpr)) {
    f(expr);
    for child in expr.children() {
        visit(child, f);
    }
}

/// The scalar expressions a node evaluates (its own, not its inputs').
fn scalars_of(node: &RelationExpr) -> Vec<&ScalarExpr> {
    match node {
        RelationExpr::Map { scalars, .. } => scalars.iter().collect(),
        RelationExpr::Filter { predicates, .. } => predicates.iter().collect(),
        RelationExpr::FlatMap { exprs, .. } => exprs.iter().collect(),
        RelationExpr::Join { equivalences, .. } => equivalences.iter().flatten().collect(),
        RelationExpr::Reduce {
            group_key,
            aggregates,
            ..
        } => group_key
            .iter()
            .chain(aggregates.iter().map(|a| &a.expr))
            .collect(),
        RelationExpr::ArrangeBy { keys, .. } => keys.iter().flatten().collect(),
        RelationExpr::Constant { .. }
        | RelationExpr::Get { .. }
        | RelationExpr::Let { .. }
        | RelationExpr::LetRec { .. }
        | RelationExpr::Project { .. }
        | RelationExpr::TopK { .. }
        | RelationExpr::Negate { .. }
        | RelationExpr::Threshold { .. }
        | RelationExpr::Union { .. } => vec![],
    }
}
