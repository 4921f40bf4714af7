//! Ranking window functions in SELECT: `row_number() | rank() | dense_rank() OVER
//! (PARTITION BY ... ORDER BY ...)`.
//!
//! Each call appends a column to the relation: a `Reduce` keyed by the partition collects
//! each partition's rows in window order (`WindowPartition`), a `FlatMap` numbers them
//! (`WindowNumbering`), and a `Project` restores `row ++ [number]`. A filter on the number
//! (`WHERE rn <= k` in an enclosing query) lets the optimizer put a TopK below the `Reduce`
//! (`optimize/window_topk.rs`), so only the top k rows per partition are kept and numbered.

use super::expr::{ExprContext, normalize_name};
use crate::expr::func::window::WindowFunc;
use crate::expr::{AggregateExpr, AggregateFunc, Func, RelationExpr, ScalarExpr, TableFunc};
use crate::repr::{ColumnType, ScalarType};
use crate::sql::{PlanError, Result};
use sqlparser::ast::{self, Expr, SelectItem};

/// The window function calls in the SELECT list and ORDER BY.
pub fn collect_window_calls(
    projection: &[SelectItem],
    order_by: &[ast::OrderByExpr],
) -> Vec<ast::Function> {
    let mut out = Vec::new();
    let mut visit = |e: &Expr| {
        if let Expr::Function(f) = e
            && f.over.is_some()
            && !out.contains(f)
        {
            out.push(f.clone());
        }
    };
    for item in projection {
        if let SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } = item {
            visit(e);
        }
    }
    for ob in order_by {
        visit(&ob.expr);
    }
    out
}

/// Plans each window call as a new column of `ecx.rel`; returns the call → column map.
pub fn plan_windows(ecx: &mut ExprContext, calls: &[ast::Function]) -> Result<Vec<(Expr, usize)>> {
    let mut mapping = Vec::new();
    for call in calls {
        let name = normalize_name(&call.name)?.pop().unwrap_or_default();
        let func = WindowFunc::from_name(&name)
            .ok_or_else(|| PlanError::unsupported(format!("window function {name} (ranking functions row_number, rank and dense_rank are supported)")))?;
        let no_args = match &call.args {
            ast::FunctionArguments::None => true,
            ast::FunctionArguments::List(list) => {
                list.args.is_empty()
                    && list.clauses.is_empty()
                    && list.duplicate_treatment.is_none()
            }
            ast::FunctionArguments::Subquery(_) => false,
        };
        if !no_args
            || call.filter.is_some()
            || !call.within_group.is_empty()
            || call.null_treatment.is_some()
        {
            return Err(PlanError::Syntax(format!(
                "window function {name} takes no arguments"
            )));
        }
        let spec = match &call.over {
            Some(ast::WindowType::WindowSpec(spec)) => spec,
            Some(ast::WindowType::NamedWindow(_)) => {
                return Err(PlanError::unsupported("named windows"));
            }
            None => unreachable!("window calls have OVER"),
        };
        if spec.window_name.is_some() || spec.window_frame.is_some() {
            return Err(PlanError::unsupported("window frames and named windows"));
        }
        let mut partition = Vec::new();
        for p in &spec.partition_by {
            partition.push(ecx.plan_expr(p)?.0);
        }
        let mut order_exprs = Vec::new();
        let mut order = Vec::new();
        for ob in &spec.order_by {
            order_exprs.push(ecx.plan_expr(&ob.expr)?.0);
            let desc = ob.options.sort == Some(ast::OrderBySort::Desc);
            order.push((desc, ob.options.nulls_first.map(|f| !f).unwrap_or(!desc)));
        }
        let n = ecx.scope.len();
        let row_types: Vec<ColumnType> = ecx.rel.typ();
        let k = partition.len();
        let mut record = order_exprs;
        record.extend((0..n).map(ScalarExpr::Column));
        let rel = std::mem::replace(&mut ecx.rel, RelationExpr::constant(vec![], vec![]));
        let reduced = RelationExpr::Reduce {
            input: Box::new(rel),
            group_key: partition,
            aggregates: vec![AggregateExpr {
                func: AggregateFunc::WindowPartition {
                    order: order.clone(),
                },
                expr: ScalarExpr::call(Func::MakeRecord, record),
                distinct: false,
            }],
        };
        let numbered = RelationExpr::FlatMap {
            input: Box::new(reduced),
            func: TableFunc::WindowNumbering {
                func,
                order,
                row_types,
            },
            exprs: vec![ScalarExpr::Column(k)],
        };
        ecx.rel = numbered.project((k + 1..k + 2 + n).collect());
        let item = ecx
            .scx
            .item(None, &name, ColumnType::new(ScalarType::Int64, false), true);
        ecx.scope.push(item);
        mapping.push((Expr::Function(call.clone()), n));
    }
    Ok(mapping)
}
