//! Top-k per partition from a filtered window: `Filter(#rn <= k)` over the numbering of a
//! `row_number()` window puts `TopK(partition, window order, limit k)` below the window's
//! `Reduce`, so each partition keeps (and renumbers) only its first k rows. The numbers are
//! unchanged: TopK and the window order rows the same way (order keys, then the whole row).
//!
//! Recognized: `rn <= k`, `rn < k`, `rn = 1` (and the mirrored forms), with `k` a constant.

use crate::expr::func::window::WindowFunc;
use crate::expr::{AggregateFunc, ColumnOrder, Func, RelationExpr, ScalarExpr, TableFunc};
use crate::repr::Datum;

pub fn window_topk(expr: RelationExpr) -> RelationExpr {
    let expr = super::map_children(expr, &mut window_topk);
    let RelationExpr::Filter { input, predicates } = expr else {
        return expr;
    };
    let RelationExpr::FlatMap {
        input: reduce,
        func,
        exprs,
    } = *input
    else {
        return RelationExpr::Filter { input, predicates };
    };
    let rebuild = |reduce: Box<RelationExpr>,
                   func: TableFunc,
                   exprs: Vec<ScalarExpr>,
                   predicates: Vec<ScalarExpr>| RelationExpr::Filter {
        input: Box::new(RelationExpr::FlatMap {
            input: reduce,
            func,
            exprs,
        }),
        predicates,
    };
    let (
        TableFunc::WindowNumbering {
            func: WindowFunc::RowNumber,
            order,
            row_types,
        },
        RelationExpr::Reduce {
            input: x,
            group_key,
            aggregates,
        },
    ) = (&func, reduce.as_ref())
    else {
        return rebuild(reduce, func, exprs, predicates);
    };
    let k = group_key.len();
    // The numbering's column: after `partition ++ [records]` and the row.
    let rn = k + 1 + row_types.len();
    let Some(limit) = predicates.iter().filter_map(|p| row_limit(p, rn)).min() else {
        return rebuild(reduce, func, exprs, predicates);
    };
    let [agg] = aggregates.as_slice() else {
        return rebuild(reduce, func, exprs, predicates);
    };
    let (
        AggregateFunc::WindowPartition { .. },
        ScalarExpr::Call {
            func: Func::MakeRecord,
            args,
        },
    ) = (&agg.func, &agg.expr)
    else {
        return rebuild(reduce, func, exprs, predicates);
    };
    let n = x.arity();
    let order_exprs: Vec<ScalarExpr> = args[..order.len()].to_vec();
    let mut scalars = group_key.clone();
    scalars.extend(order_exprs);
    let order_key = order
        .iter()
        .enumerate()
        .map(|(i, (desc, nulls_last))| ColumnOrder {
            column: n + k + i,
            desc: *desc,
            nulls_last: *nulls_last,
        })
        .collect();
    let topk = RelationExpr::TopK {
        input: Box::new(x.as_ref().clone().map(scalars)),
        group_key: (n..n + k).collect(),
        order_key,
        limit: Some(limit),
        offset: 0,
    }
    .project((0..n).collect());
    let reduce = Box::new(RelationExpr::Reduce {
        input: Box::new(topk),
        group_key: group_key.clone(),
        aggregates: aggregates.clone(),
    });
    rebuild(reduce, func, exprs, predicates)
}

/// The number of leading rows predicate `p` keeps when it bounds column `rn`.
fn row_limit(p: &ScalarExpr, rn: usize) -> Option<usize> {
    let ScalarExpr::Call { func, args } = p else {
        return None;
    };
    let constant = |e: &ScalarExpr| match e {
        ScalarExpr::Literal(Ok(Datum::Int64(v)), _) => Some(*v),
        ScalarExpr::Literal(Ok(Datum::Int32(v)), _) => Some(*v as i64),
        ScalarExpr::Call {
            func: Func::Cast(_),
            args,
        } => match args.first() {
            Some(ScalarExpr::Literal(Ok(Datum::Int32(v)), _)) => Some(*v as i64),
            Some(ScalarExpr::Literal(Ok(Datum::Int16(v)), _)) => Some(*v as i64),
            _ => None,
        },
        _ => None,
    };
    let is_rn = |e: &ScalarExpr| matches!(e, ScalarExpr::Column(c) if *c == rn);
    let (op, bound) = match (&args[..], func) {
        ([l, r], f) if is_rn(l) => (f.clone(), constant(r)?),
        ([l, r], Func::Lt) if is_rn(r) => (Func::Gt, constant(l)?),
        ([l, r], Func::Lte) if is_rn(r) => (Func::Gte, constant(l)?),
        ([l, r], Func::Gt) if is_rn(r) => (Func::Lt, constant(l)?),
        ([l, r], Func::Gte) if is_rn(r) => (Func::Lte, constant(l)?),
        ([l, r], Func::Eq) if is_rn(r) => (Func::Eq, constant(l)?),
        _ => return None,
    };
    let limit = match op {
        Func::Lte => bound,
        Func::Lt => bound - 1,
        Func::Eq if bound == 1 => 1,
        _ => return None,
    };
    Some(limit.max(0) as usize)
}
