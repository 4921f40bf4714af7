//! `CREATE TABLE [IF NOT EXISTS] name AS query`: the table's part.
//!
//! The statement is planned as the `CREATE TABLE` of a table with the query's columns (their
//! names and types, every one nullable, no default, no key, as in PostgreSQL); the session
//! then runs `INSERT INTO name query` and answers `SELECT n`, both in one transaction
//! (`coord/create_table_as.rs`), unless the statement ends `WITH NO DATA`. With `IF NOT
//! EXISTS` and the name taken, nothing is created and nothing inserted. A list of column
//! names (`CREATE TABLE t (a, b) AS ...`) does not parse: name the columns in the query.

use super::context::StatementContext;
use super::statement::{Plan, plan_select, table_name};
use crate::repr::{RelationDesc, ScalarType};
use crate::sql::{PlanError, Result};
use sqlparser::ast;

/// The command tag of `CREATE TABLE ... AS` when it inserts nothing (`IF NOT EXISTS` with the
/// name taken, or `WITH NO DATA`).
pub const SKIPPED_TAG: &str = "CREATE TABLE AS";

pub fn plan_create_table_as(
    scx: &StatementContext,
    ct: &ast::CreateTable,
    query: &ast::Query,
) -> Result<Plan> {
    if !ct.columns.is_empty() || !ct.constraints.is_empty() {
        return Err(PlanError::unsupported(
            "columns or constraints in CREATE TABLE ... AS (name the columns in the query)",
        ));
    }
    if ct.with_data.is_some_and(|w| w.statistics.is_some()) {
        return Err(PlanError::unsupported(
            "CREATE TABLE ... AS ... WITH DATA AND [NO] STATISTICS",
        ));
    }
    let name = table_name(scx, &ct.name)?;
    if scx.catalog.name_exists(&name) {
        if !ct.if_not_exists {
            return Err(PlanError::AlreadyExists(name));
        }
        return Ok(Plan::NoOp {
            notice: format!("relation \"{name}\" already exists, skipping"),
            tag: SKIPPED_TAG.into(),
        });
    }
    let Plan::Select { desc, .. } = plan_select(scx, query)? else {
        unreachable!("plan_select returns Select");
    };
    for (i, column) in desc.names.iter().enumerate() {
        if desc.names[..i].contains(column) {
            return Err(PlanError::DuplicateColumn(column.clone()));
        }
    }
    let types = desc
        .types
        .iter()
        .map(|t| {
            let mut t = t.clone();
            if t.scalar_type == ScalarType::Unknown {
                t.scalar_type = ScalarType::String;
            }
            t.nullable = true;
            t
        })
        .collect();
    let columns = desc.names.len();
    Ok(Plan::CreateTable {
        name,
        desc: RelationDesc::new(desc.names, types),
        defaults: vec![None; columns],
        keys: vec![],
        if_not_exists: false,
        sequences: vec![],
    })
}
