//! `COMMENT ON TABLE | VIEW | MATERIALIZED VIEW | INDEX | COLUMN name IS 'text' | NULL`:
//! which item (or column) the comment describes, checked as PostgreSQL checks it (the
//! object exists and is of the kind named). Comments on other kinds of object (schemas,
//! databases, functions, ...) fail with 0A000: Freshet has none of them to describe, or
//! keeps no comments for them.

use super::StatementContext;
use super::expr::normalize_name;
use super::statement::{Plan, check_kind};
use crate::catalog::comments::CommentTarget;
use crate::sql::parse::ObjectKind;
use crate::sql::{PlanError, Result};
use sqlparser::ast;

pub fn plan_comment(
    scx: &StatementContext,
    object_type: &ast::CommentObject,
    object_name: &ast::ObjectName,
    comment: &Option<String>,
    if_exists: bool,
) -> Result<Plan> {
    let kind = match object_type {
        ast::CommentObject::Table => ObjectKind::Table,
        ast::CommentObject::View => ObjectKind::View,
        ast::CommentObject::MaterializedView => ObjectKind::MaterializedView,
        ast::CommentObject::Index => ObjectKind::Index,
        ast::CommentObject::Column => {
            return plan_column_comment(scx, object_name, comment, if_exists);
        }
        other => return Err(PlanError::unsupported(format!("COMMENT ON {other}"))),
    };
    let parts = normalize_name(object_name)?;
    let entry = match scx.resolve(&parts) {
        Ok(entry) => entry,
        Err(_) if if_exists => return Ok(skipped(&parts)),
        Err(_) if kind == ObjectKind::Index => {
            return Err(PlanError::UnknownObject(format!(
                "index \"{}\" does not exist",
                parts.join(".")
            )));
        }
        Err(e) => return Err(e),
    };
    check_kind(entry.item.kind(), kind, &entry.name)?;
    Ok(Plan::Comment {
        target: CommentTarget {
            item: entry.id,
            column: None,
        },
        text: comment.clone(),
    })
}

/// `COMMENT ON COLUMN [schema.]relation.column`: a column of a table, view, materialized
/// view or source.
fn plan_column_comment(
    scx: &StatementContext,
    object_name: &ast::ObjectName,
    comment: &Option<String>,
    if_exists: bool,
) -> Result<Plan> {
    let parts = normalize_name(object_name)?;
    let Some((column, relation)) = parts.split_last().filter(|(_, r)| !r.is_empty()) else {
        return Err(PlanError::Syntax(format!(
            "column name must be qualified: {object_name}"
        )));
    };
    let entry = match scx.resolve(relation) {
        Ok(entry) => entry,
        Err(_) if if_exists => return Ok(skipped(&parts)),
        Err(e) => return Err(e),
    };
    let Some(desc) = entry.item.desc() else {
        return Err(PlanError::WrongObjectType(format!(
            "\"{}\" is not a table, view or materialized view",
            entry.name
        )));
    };
    let position = desc.names.iter().position(|n| n == column).ok_or_else(|| {
        PlanError::UnknownColumn(format!("{column}\" of relation \"{}", entry.name))
    })?;
    Ok(Plan::Comment {
        target: CommentTarget {
            item: entry.id,
            column: Some(position),
        },
        text: comment.clone(),
    })
}

fn skipped(parts: &[String]) -> Plan {
    Plan::NoOp {
        notice: format!("\"{}\" does not exist, skipping", parts.join(".")),
        tag: "COMMENT".into(),
    }
}
