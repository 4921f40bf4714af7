//! `REFRESH MATERIALIZED VIEW [CONCURRENTLY] name [WITH DATA]`.
//!
//! PostgreSQL recomputes a materialized view's rows from its query when told to; Freshet
//! keeps them equal to the query's result at every timestamp, so there is nothing to
//! recompute: the statement checks that `name` is a materialized view (with PostgreSQL's
//! errors otherwise) and succeeds. `CONCURRENTLY` asks that reads go on during the refresh,
//! which they always do. `WITH NO DATA` (empty the view and fail its reads until the next
//! refresh) is not supported (0A000).

use super::context::StatementContext;
use super::statement::Plan;
use crate::catalog::ItemKind;
use crate::sql::{PlanError, Result};
use sqlparser::ast;

pub fn plan_refresh(
    scx: &StatementContext,
    refresh: &ast::RefreshMaterializedView,
) -> Result<Plan> {
    if refresh.with_data == Some(false) {
        return Err(PlanError::unsupported(
            "REFRESH MATERIALIZED VIEW ... WITH NO DATA (a materialized view is always populated)",
        ));
    }
    let entry = scx.resolve_name(&refresh.name)?;
    match entry.item.kind() {
        ItemKind::MaterializedView => Ok(Plan::NoOp {
            notice: format!(
                "materialized view \"{}\" is kept fresh: there is nothing to refresh",
                entry.name
            ),
            tag: "REFRESH MATERIALIZED VIEW".into(),
        }),
        ItemKind::Table => Err(PlanError::NotAllowed(format!(
            "\"{}\" is not a materialized view",
            entry.name
        ))),
        _ => Err(PlanError::WrongObjectType(format!(
            "\"{}\" is not a table or materialized view",
            entry.name
        ))),
    }
}
