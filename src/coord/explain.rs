//! EXPLAIN: an optimized MIR plan as indented text, one operator per line, inputs below
//! their consumer.

use crate::catalog::Catalog;
use crate::expr::{Id, RelationExpr, ScalarExpr};
use std::fmt::Write;

pub fn explain(expr: &RelationExpr, catalog: &Catalog) -> String {
    let mut out = String::new();
    write_expr(expr, catalog, 0, &mut out);
    out
}

fn scalars(exprs: &[ScalarExpr]) -> String {
    exprs.iter().map(scalar).collect::<Vec<_>>().join(", ")
}

fn scalar(e: &ScalarExpr) -> String {
    match e {
        ScalarExpr::Column(c) => format!("#{c}"),
        ScalarExpr::Literal(Ok(d), _) => format!("{d:?}"),
        ScalarExpr::Literal(Err(e), _) => format!("error({e})"),
        ScalarExpr::Call { func, args } => format!("{func:?}({})", scalars(args)),
        ScalarExpr::And(args) => format!(
            "({})",
            args.iter().map(scalar).collect::<Vec<_>>().join(" AND ")
        ),
        ScalarExpr::Or(args) => format!(
            "({})",
            args.iter().map(scalar).collect::<Vec<_>>().join(" OR ")
        ),
        ScalarExpr::If { cond, then, els } => format!(
            "if {} then {} else {}",
            scalar(cond),
            scalar(then),
            scalar(els)
        ),
        ScalarExpr::Coalesce(args) => format!("coalesce({})", scalars(args)),
    }
}

fn write_expr(expr: &RelationExpr, catalog: &Catalog, depth: usize, out: &mut String) {
    let indent = "  ".repeat(depth);
    let line = match expr {
        RelationExpr::Constant { rows: Ok(rows), .. } => format!("Constant ({} rows)", rows.len()),
        RelationExpr::Constant { rows: Err(e), .. } => format!("Constant error({e})"),
        RelationExpr::Get {
            id: Id::Global(id), ..
        } => {
            let name = catalog
                .get(*id)
                .map(|e| e.name.clone())
                .unwrap_or_else(|| id.to_string());
            format!("Get {name}")
        }
        RelationExpr::Get {
            id: Id::Local(l), ..
        } => format!("Get l{}", l.0),
        RelationExpr::Let { id, .. } => format!("Let l{}", id.0),
        RelationExpr::LetRec { ids, limit, .. } => {
            let ids: Vec<String> = ids.iter().map(|id| format!("l{}", id.0)).collect();
            match limit {
                Some(limit) => format!(
                    "LetRec {} ({} at {} rounds)",
                    ids.join(", "),
                    if limit.error { "error" } else { "return" },
                    limit.rounds
                ),
                None => format!("LetRec {}", ids.join(", ")),
            }
        }
        RelationExpr::Map { scalars: s, .. } => format!("Map ({})", scalars(s)),
        RelationExpr::Filter { predicates, .. } => format!("Filter {}", scalars(predicates)),
        RelationExpr::Project { outputs, .. } => format!(
            "Project ({})",
            outputs
                .iter()
                .map(|c| format!("#{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        RelationExpr::FlatMap { func, exprs, .. } => {
            format!("FlatMap {func:?}({})", scalars(exprs))
        }
        RelationExpr::Join { equivalences, .. } => {
            if equivalences.is_empty() {
                "CrossJoin".to_string()
            } else {
                format!(
                    "Join on=({})",
                    equivalences
                        .iter()
                        .map(|class| scalars(class).replace(", ", " = "))
                        .collect::<Vec<_>>()
                        .join(" AND ")
                )
            }
        }
        RelationExpr::Reduce {
            group_key,
            aggregates,
            ..
        } => format!(
            "Reduce group_by=[{}] aggregates=[{}]",
            scalars(group_key),
            aggregates
                .iter()
                .map(|a| format!(
                    "{:?}({}{})",
                    a.func,
                    if a.distinct { "distinct " } else { "" },
                    scalar(&a.expr)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        RelationExpr::TopK {
            group_key,
            order_key,
            limit,
            offset,
            ..
        } => format!(
            "TopK group_by=[{}] order_by=[{}] limit={} offset={offset}",
            group_key
                .iter()
                .map(|c| format!("#{c}"))
                .collect::<Vec<_>>()
                .join(", "),
            order_key
                .iter()
                .map(|o| format!("#{}{}", o.column, if o.desc { " desc" } else { "" }))
                .collect::<Vec<_>>()
                .join(", "),
            limit
                .map(|l| l.to_string())
                .unwrap_or_else(|| "none".into())
        ),
        RelationExpr::Negate { .. } => "Negate".into(),
        RelationExpr::Threshold { .. } => "Threshold".into(),
        RelationExpr::Union { .. } => "Union".into(),
        RelationExpr::ArrangeBy { keys, .. } => format!(
            "ArrangeBy keys=[{}]",
            keys.iter()
                .map(|k| format!("[{}]", scalars(k)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let _ = writeln!(out, "{indent}{line}");
    for child in expr.children() {
        write_expr(child, catalog, depth + 1, out);
    }
}
