//! `generate_series(start, stop [, step])` in `FROM`, over integers: one row per value from
//! `start` to `stop` (inclusive) by `step` (default 1), as PostgreSQL. The arguments are
//! constants (a reference to another FROM item would need LATERAL). The column is integer
//! when every argument is smallint or integer, else bigint; it is named `generate_series`,
//! or by the alias (`AS g` names the relation and its column, `g(x)` the column `x`).

use super::context::StatementContext;
use super::expr::ExprContext;
use super::func::{self, CastContext};
use super::scope::Scope;
use crate::expr::{Func, RelationExpr, ScalarExpr, TableFunc};
use crate::repr::{Row, ScalarType};
use crate::sql::{PlanError, Result};
use sqlparser::ast::{FunctionArg, FunctionArgExpr};

/// Plans the call; returns the relation and its column's type.
pub fn plan(scx: &StatementContext, args: &[FunctionArg]) -> Result<(RelationExpr, ScalarType)> {
    let mut ecx = ExprContext::new(
        scx,
        RelationExpr::constant(vec![Row::empty()], vec![]),
        Scope::default(),
        "generate_series",
    );
    let mut planned = Vec::new();
    for arg in args {
        let FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) = arg else {
            return Err(PlanError::unsupported(format!(
                "generate_series argument {arg}"
            )));
        };
        planned.push(ecx.plan_expr(e)?);
    }
    if !(2..=3).contains(&planned.len()) {
        return Err(PlanError::UnknownFunction(format!(
            "generate_series with {} arguments",
            planned.len()
        )));
    }
    let integer = |t: &ScalarType| {
        matches!(
            t,
            ScalarType::Int16 | ScalarType::Int32 | ScalarType::Int64 | ScalarType::Unknown
        )
    };
    if let Some((_, t)) = planned.iter().find(|(_, t)| !integer(t)) {
        return Err(PlanError::unsupported(format!(
            "generate_series over {}",
            t.sql_name()
        )));
    }
    let narrow = planned.iter().all(|(_, t)| {
        matches!(
            t,
            ScalarType::Int16 | ScalarType::Int32 | ScalarType::Unknown
        )
    });
    let exprs = planned
        .into_iter()
        .map(|(e, t)| func::plan_cast(e, &t, &ScalarType::Int64, CastContext::Implicit))
        .collect::<Result<Vec<_>>>()?;
    let series = RelationExpr::FlatMap {
        input: Box::new(RelationExpr::constant(vec![Row::empty()], vec![])),
        func: TableFunc::GenerateSeriesInt64,
        exprs,
    };
    if !narrow {
        return Ok((series, ScalarType::Int64));
    }
    // Values between two integers fit an integer.
    let narrowed = series
        .map(vec![ScalarExpr::call(
            Func::Cast(ScalarType::Int32),
            vec![ScalarExpr::Column(0)],
        )])
        .project(vec![1]);
    Ok((narrowed, ScalarType::Int32))
}
