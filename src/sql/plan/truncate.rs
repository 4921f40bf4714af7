//! `TRUNCATE [TABLE] name [CONTINUE IDENTITY] [CASCADE | RESTRICT]`: every row of one table
//! deleted, planned as `DELETE FROM name` (the session answers PostgreSQL's tag, `TRUNCATE
//! TABLE`). Freshet has no foreign keys, so CASCADE and RESTRICT change nothing. Several
//! tables at once, `RESTART IDENTITY` and `IF EXISTS` fail with 0A000. (No table inherits from
//! another, so `ONLY` and `name *` truncate the same rows.)

use super::StatementContext;
use super::statement::{Plan, writable_table};
use crate::expr::RelationExpr;
use crate::sql::{PlanError, Result};
use sqlparser::ast;

/// The command tag of TRUNCATE.
pub const TAG: &str = "TRUNCATE TABLE";

pub fn plan_truncate(scx: &StatementContext, truncate: &ast::Truncate) -> Result<Plan> {
    if truncate.partitions.is_some() || truncate.on_cluster.is_some() || truncate.if_exists {
        return Err(PlanError::unsupported(format!("{truncate}")));
    }
    if matches!(
        truncate.identity,
        Some(ast::TruncateIdentityOption::Restart)
    ) {
        return Err(PlanError::unsupported(
            "TRUNCATE ... RESTART IDENTITY (use setval on the sequences)",
        ));
    }
    let [target] = truncate.table_names.as_slice() else {
        return Err(PlanError::unsupported(
            "TRUNCATE of several tables (truncate each)",
        ));
    };
    let entry = scx.resolve_name(&target.name)?;
    if !matches!(entry.item, crate::catalog::CatalogItem::Table { .. }) {
        return Err(PlanError::WrongObjectType(format!(
            "\"{}\" is not a table",
            entry.name
        )));
    }
    let (entry, desc) = writable_table(scx, &target.name, "truncate")?;
    Ok(Plan::ReadThenWrite {
        id: entry.id,
        selection: RelationExpr::global_get(entry.id, desc.types.clone()),
        assignments: None,
        returning: None,
    })
}
