//! `ALTER TABLE [IF EXISTS] [ONLY] name ADD [COLUMN] [IF NOT EXISTS] column type [DEFAULT
//! expr] [NULL | NOT NULL] [, ADD ...]`: columns appended to a table. Every row the table
//! holds gets the column's DEFAULT (or NULL), evaluated once here, as PostgreSQL does for a
//! non-volatile default; the coordinator rewrites the stored rows (`coord/alter_table.rs`).
//! Views, materialized views and indexes over the table keep the columns they were defined
//! with. Refused with 0A000: a volatile DEFAULT (one value per row: `gen_random_uuid()`,
//! `nextval`, `mz_now()`), `serial` and identity columns, and PRIMARY KEY, UNIQUE, CHECK and
//! REFERENCES on the added column. NOT NULL without a DEFAULT succeeds only on an empty table
//! (23502 otherwise, checked when the rows are read).
//!
//! `ALTER TABLE ... DROP [COLUMN] [IF EXISTS] column [CASCADE | RESTRICT] [, DROP ...]`
//! removes the table's last columns (what a migration's down step does after an ADD
//! COLUMN). Dropping a column with others after it, one of a PRIMARY KEY or UNIQUE
//! constraint, or a serial or identity column fails with 0A000; one that views or indexes
//! read fails with 2BP01 (checked by the coordinator).
//!
//! `ALTER TABLE ... ALTER [COLUMN] c SET DEFAULT expr | DROP DEFAULT | SET NOT NULL | DROP NOT
//! NULL [, ...]` changes only the definition: a DEFAULT applies to later INSERTs; SET NOT
//! NULL checks the rows first (23502, by the coordinator); DROP NOT NULL is refused (0A000)
//! while views, materialized views or indexes read the table, whose plans may count on it.
//!
//! Other ALTER TABLE operations, and different kinds of them in one statement, fail with
//! 0A000.

use super::StatementContext;
use super::expr::{normalize_ident, normalize_name};
use super::statement::{Plan, plan_default};
use super::types::scalar_type_from_sql;
use crate::catalog::CatalogItem;
use crate::repr::{ColumnType, Datum, GlobalId, Row};
use crate::sql::{PlanError, Result};
use sqlparser::ast;

/// The command tag of ALTER TABLE.
pub const TAG: &str = "ALTER TABLE";

/// One column `ALTER TABLE ... ADD COLUMN` appends.
#[derive(Debug, Clone)]
pub struct AddedColumn {
    pub name: String,
    pub typ: ColumnType,
    /// The DEFAULT as written, planned again at each INSERT (as CREATE TABLE's are).
    pub default: Option<String>,
    /// The value the column has in the rows the table holds now: the DEFAULT evaluated once,
    /// or NULL.
    pub missing: Datum,
}

/// `columns` appended, in order, to the table `id`.
#[derive(Debug, Clone)]
pub struct AddColumns {
    pub id: GlobalId,
    pub table: String,
    pub columns: Vec<AddedColumn>,
}

pub fn plan_alter_table(scx: &StatementContext, alter: &ast::AlterTable) -> Result<Plan> {
    if alter.table_type.is_some() || alter.on_cluster.is_some() || alter.location.is_some() {
        return Err(PlanError::unsupported(format!("{alter}")));
    }
    let parts = normalize_name(&alter.name)?;
    let entry = match scx.resolve(&parts) {
        Ok(entry) => entry,
        Err(PlanError::UnknownRelation(_)) if alter.if_exists => {
            return Ok(Plan::NoOp {
                notice: format!("relation \"{}\" does not exist, skipping", parts.join(".")),
                tag: TAG.into(),
            });
        }
        Err(e) => return Err(e),
    };
    let CatalogItem::Table { desc, .. } = &entry.item else {
        return Err(PlanError::WrongObjectType(format!(
            "ALTER action ADD COLUMN cannot be performed on relation \"{}\"",
            entry.name
        )));
    };
    let dropping = alter
        .operations
        .iter()
        .any(|op| matches!(op, ast::AlterTableOperation::DropColumn { .. }));
    if dropping {
        return plan_drop_columns(scx, alter, entry, desc);
    }
    let altering = alter
        .operations
        .iter()
        .any(|op| matches!(op, ast::AlterTableOperation::AlterColumn { .. }));
    if altering {
        return plan_alter_columns(scx, alter, entry);
    }
    let mut columns: Vec<AddedColumn> = Vec::new();
    let mut skipped = Vec::new();
    for operation in &alter.operations {
        let ast::AlterTableOperation::AddColumn {
            if_not_exists,
            column_def,
            column_position: None,
            ..
        } = operation
        else {
            return Err(PlanError::unsupported(format!(
                "ALTER TABLE ... {operation}"
            )));
        };
        let name = normalize_ident(&column_def.name);
        let exists = desc.names.contains(&name) || columns.iter().any(|c| c.name == name);
        if exists && *if_not_exists {
            skipped.push(format!(
                "column \"{name}\" of relation \"{}\" already exists, skipping",
                entry.name
            ));
            continue;
        }
        if exists {
            return Err(PlanError::ColumnExists {
                column: name,
                table: entry.name.clone(),
            });
        }
        columns.push(plan_added_column(scx, &entry.name, name, column_def)?);
    }
    if columns.is_empty() {
        return Ok(Plan::NoOp {
            notice: skipped.join("\n"),
            tag: TAG.into(),
        });
    }
    Ok(Plan::AddColumns(AddColumns {
        id: entry.id,
        table: entry.name.clone(),
        columns,
    }))
}

/// `arity` columns left of table `id` (its last ones dropped).
#[derive(Debug, Clone)]
pub struct DropColumns {
    pub id: GlobalId,
    pub table: String,
    pub arity: usize,
    /// The dropped columns' names, in column order.
    pub dropped: Vec<String>,
    /// `CASCADE`: dependents would be dropped too (refused when there are any).
    pub cascade: bool,
}

fn plan_drop_columns(
    scx: &StatementContext,
    alter: &ast::AlterTable,
    entry: &crate::catalog::CatalogEntry,
    desc: &crate::repr::RelationDesc,
) -> Result<Plan> {
    let mut positions = std::collections::BTreeSet::new();
    let mut skipped = Vec::new();
    let mut cascade = false;
    for operation in &alter.operations {
        let ast::AlterTableOperation::DropColumn {
            column_names,
            if_exists,
            drop_behavior,
            ..
        } = operation
        else {
            return Err(PlanError::unsupported(format!(
                "ALTER TABLE ... {operation} together with DROP COLUMN"
            )));
        };
        cascade |= matches!(drop_behavior, Some(ast::DropBehavior::Cascade));
        for column in column_names {
            let name = normalize_ident(column);
            match desc.names.iter().position(|n| *n == name) {
                Some(position) => {
                    positions.insert(position);
                }
                None if *if_exists => skipped.push(format!(
                    "column \"{name}\" of relation \"{}\" does not exist, skipping",
                    entry.name
                )),
                None => {
                    return Err(PlanError::UnknownTableColumn {
                        column: name,
                        table: entry.name.clone(),
                    });
                }
            }
        }
    }
    let Some(&first) = positions.first() else {
        return Ok(Plan::NoOp {
            notice: skipped.join("\n"),
            tag: TAG.into(),
        });
    };
    if positions.len() != desc.arity() - first {
        return Err(PlanError::unsupported(format!(
            "ALTER TABLE ... DROP COLUMN of \"{}\", which has columns after it (only a table's last columns can be dropped)",
            desc.names[first]
        )));
    }
    if first == 0 {
        return Err(PlanError::unsupported(
            "ALTER TABLE ... DROP COLUMN of every column of a table",
        ));
    }
    if let CatalogItem::Table { keys, .. } = &entry.item
        && let Some(key) = keys.iter().find(|k| k.columns.iter().any(|c| *c >= first))
    {
        return Err(PlanError::unsupported(format!(
            "ALTER TABLE ... DROP COLUMN of a column of constraint \"{}\" (drop the table instead)",
            key.name
        )));
    }
    if let Some((sequence, _)) = scx
        .catalog
        .sequences_owned_by(entry.id)
        .find(|(_, spec)| spec.owned_by.is_some_and(|(_, c)| c >= first))
    {
        return Err(PlanError::unsupported(format!(
            "ALTER TABLE ... DROP COLUMN of a serial or identity column (its sequence \"{}\")",
            sequence.name
        )));
    }
    Ok(Plan::DropColumns(DropColumns {
        id: entry.id,
        table: entry.name.clone(),
        arity: first,
        dropped: desc.names[first..].to_vec(),
        cascade,
    }))
}

/// Table `id`'s new `desc` and `defaults` (nothing else changes); the rows must have no NULL
/// in columns `check_not_null`.
#[derive(Debug, Clone)]
pub struct AlterColumns {
    pub id: GlobalId,
    pub table: String,
    pub desc: crate::repr::RelationDesc,
    pub defaults: Vec<Option<String>>,
    pub check_not_null: Vec<usize>,
}

fn plan_alter_columns(
    scx: &StatementContext,
    alter: &ast::AlterTable,
    entry: &crate::catalog::CatalogEntry,
) -> Result<Plan> {
    let CatalogItem::Table {
        desc,
        defaults,
        keys,
    } = &entry.item
    else {
        unreachable!("checked by plan_alter_table");
    };
    let mut desc = desc.clone();
    let mut defaults = defaults.clone();
    let mut check_not_null = Vec::new();
    for operation in &alter.operations {
        let ast::AlterTableOperation::AlterColumn { column_name, op } = operation else {
            return Err(PlanError::unsupported(format!(
                "ALTER TABLE ... {operation} together with ALTER COLUMN"
            )));
        };
        let name = normalize_ident(column_name);
        let column = desc.names.iter().position(|n| *n == name).ok_or_else(|| {
            PlanError::UnknownTableColumn {
                column: name.clone(),
                table: entry.name.clone(),
            }
        })?;
        let generated = scx
            .catalog
            .sequences_owned_by(entry.id)
            .any(|(_, spec)| spec.owned_by == Some((entry.id, column)) && spec.identity.is_some());
        match op {
            ast::AlterColumnOperation::SetDefault { value } => {
                if generated {
                    return Err(PlanError::Syntax(format!(
                        "column \"{name}\" of relation \"{}\" is an identity column",
                        entry.name
                    )));
                }
                let sql = value.to_string();
                if super::sequences::default_sequence(scx, &sql)?.is_none() {
                    plan_default(scx, &sql, &desc.types[column].scalar_type)?;
                }
                defaults[column] = Some(sql);
            }
            ast::AlterColumnOperation::DropDefault => defaults[column] = None,
            ast::AlterColumnOperation::SetNotNull => {
                if desc.types[column].nullable {
                    desc.types[column].nullable = false;
                    check_not_null.push(column);
                }
            }
            ast::AlterColumnOperation::DropNotNull => {
                if let Some(key) = keys
                    .iter()
                    .find(|k| k.primary && k.columns.contains(&column))
                {
                    return Err(PlanError::InvalidTableDefinition(format!(
                        "column \"{name}\" is in a primary key (\"{}\")",
                        key.name
                    )));
                }
                if generated {
                    return Err(PlanError::Syntax(format!(
                        "column \"{name}\" of relation \"{}\" is an identity column",
                        entry.name
                    )));
                }
                if !desc.types[column].nullable {
                    if let Some(reader) = scx.catalog.used_by(entry.id).first() {
                        let reader = scx.catalog.get(*reader).map_or("", |e| e.name.as_str());
                        return Err(PlanError::unsupported(format!(
                            "ALTER COLUMN ... DROP NOT NULL of a table that \"{reader}\" reads (drop it first)"
                        )));
                    }
                    desc.types[column].nullable = true;
                }
            }
            other => {
                return Err(PlanError::unsupported(format!(
                    "ALTER TABLE ... ALTER COLUMN {name} {other}"
                )));
            }
        }
    }
    Ok(Plan::AlterColumns(AlterColumns {
        id: entry.id,
        table: entry.name.clone(),
        desc,
        defaults,
        check_not_null,
    }))
}

fn plan_added_column(
    scx: &StatementContext,
    table: &str,
    name: String,
    column_def: &ast::ColumnDef,
) -> Result<AddedColumn> {
    if super::sequences::serial_type(&column_def.data_type).is_some() {
        return Err(PlanError::unsupported(
            "adding a serial column to an existing table (add an integer column, then a sequence)",
        ));
    }
    let scalar_type = scalar_type_from_sql(&column_def.data_type)?;
    let mut nullable = true;
    let mut default = None;
    for option in &column_def.options {
        match &option.option {
            ast::ColumnOption::Null => nullable = true,
            ast::ColumnOption::NotNull => nullable = false,
            ast::ColumnOption::Default(e) if default.is_none() => default = Some(e.to_string()),
            ast::ColumnOption::Default(_) => {
                return Err(PlanError::Syntax(format!(
                    "multiple default values specified for column \"{name}\" of table \"{table}\""
                )));
            }
            other => {
                return Err(PlanError::unsupported(format!(
                    "column option {other} in ALTER TABLE ... ADD COLUMN"
                )));
            }
        }
    }
    let missing = match &default {
        None => Datum::Null,
        Some(sql) => {
            let expr = plan_default(scx, sql, &scalar_type)?;
            if expr.is_volatile() || expr.contains_mz_now() {
                return Err(PlanError::unsupported(format!(
                    "ALTER TABLE ... ADD COLUMN with a volatile DEFAULT ({sql})"
                )));
            }
            expr.eval(&Row::empty())?
        }
    };
    Ok(AddedColumn {
        name,
        typ: ColumnType::new(scalar_type, nullable),
        default,
        missing,
    })
}
