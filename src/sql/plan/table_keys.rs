//! PRIMARY KEY and UNIQUE constraints of CREATE TABLE, as column options (`a int PRIMARY
//! KEY`) or table constraints (`PRIMARY KEY (a, b)`, `CONSTRAINT c UNIQUE (b)`), planned into
//! the table's [`UniqueKey`]s; the coordinator enforces them on every write (`coord/unique.rs`).
//!
//! Semantics are PostgreSQL's: a table has at most one primary key, whose columns become NOT
//! NULL; UNIQUE keys treat NULLs as distinct (a row with a NULL in a key column never
//! conflicts). Unnamed constraints are named as PostgreSQL names them: `<table>_pkey`,
//! `<table>_<column>[_<column>...]_key`, with a number appended when that name is taken.
//! Anything that would change the meaning (DEFERRABLE, NULLS NOT DISTINCT, INCLUDE, index
//! options) is refused with 0A000; FOREIGN KEY and CHECK are refused likewise.

use super::super::error::{PlanError, Result};
use crate::catalog::UniqueKey;
use sqlparser::ast;

/// One constraint as written, before names are settled.
struct WrittenKey {
    name: Option<String>,
    columns: Vec<String>,
    primary: bool,
}

/// The keys of a table named `table` with `columns`; marks primary-key columns NOT NULL in
/// `nullable`.
pub fn plan_table_keys(
    table: &str,
    columns: &[String],
    nullable: &mut [bool],
    ct: &ast::CreateTable,
) -> Result<Vec<UniqueKey>> {
    let mut written = Vec::new();
    for column in &ct.columns {
        let name = super::expr::normalize_ident(&column.name);
        for option in &column.options {
            let constraint_name = option.name.as_ref().map(super::expr::normalize_ident);
            match &option.option {
                ast::ColumnOption::PrimaryKey(pk) => {
                    check_plain(pk.characteristics.as_ref(), &pk.index_options, &pk.include)?;
                    written.push(WrittenKey {
                        name: constraint_name,
                        columns: vec![name.clone()],
                        primary: true,
                    });
                }
                ast::ColumnOption::Unique(u) => {
                    check_unique(u)?;
                    written.push(WrittenKey {
                        name: constraint_name,
                        columns: vec![name.clone()],
                        primary: false,
                    });
                }
                _ => {}
            }
        }
    }
    for constraint in &ct.constraints {
        match constraint {
            ast::TableConstraint::PrimaryKey(pk) => {
                check_plain(pk.characteristics.as_ref(), &pk.index_options, &pk.include)?;
                if pk.index_name.is_some() || pk.index_type.is_some() {
                    return Err(PlanError::unsupported("index options of a PRIMARY KEY"));
                }
                written.push(WrittenKey {
                    name: pk.name.as_ref().map(super::expr::normalize_ident),
                    columns: key_columns(&pk.columns)?,
                    primary: true,
                });
            }
            ast::TableConstraint::Unique(u) => {
                check_unique(u)?;
                written.push(WrittenKey {
                    name: u.name.as_ref().map(super::expr::normalize_ident),
                    columns: key_columns(&u.columns)?,
                    primary: false,
                });
            }
            other => {
                return Err(PlanError::unsupported(format!(
                    "table constraint {other} (only PRIMARY KEY and UNIQUE are)"
                )));
            }
        }
    }
    if written.iter().filter(|k| k.primary).count() > 1 {
        return Err(PlanError::InvalidTableDefinition(format!(
            "multiple primary keys for table \"{table}\" are not allowed"
        )));
    }
    let mut keys: Vec<UniqueKey> = Vec::new();
    for key in written {
        let mut positions = Vec::with_capacity(key.columns.len());
        for column in &key.columns {
            let Some(position) = columns.iter().position(|c| c == column) else {
                return Err(PlanError::UnknownKeyColumn(column.clone()));
            };
            if positions.contains(&position) {
                return Err(PlanError::DuplicateColumn(column.clone()));
            }
            positions.push(position);
        }
        if key.primary {
            for &position in &positions {
                nullable[position] = false;
            }
        }
        let name = match key.name {
            Some(name) => {
                if keys.iter().any(|k| k.name == name) {
                    return Err(PlanError::AlreadyExists(name));
                }
                name
            }
            None => {
                let base = if key.primary {
                    format!("{table}_pkey")
                } else {
                    format!("{table}_{}_key", key.columns.join("_"))
                };
                free_name(&base, &keys)
            }
        };
        keys.push(UniqueKey {
            name,
            columns: positions,
            primary: key.primary,
        });
    }
    // The primary key first: it is the one clients look for.
    keys.sort_by_key(|k| !k.primary);
    Ok(keys)
}

/// `base`, or `base1`, `base2`, ... : the first not yet used by `keys`.
fn free_name(base: &str, keys: &[UniqueKey]) -> String {
    let taken = |n: &str| keys.iter().any(|k| k.name == n);
    if !taken(base) {
        return base.to_string();
    }
    (1..)
        .map(|i| format!("{base}{i}"))
        .find(|n| !taken(n))
        .unwrap_or_else(|| base.to_string())
}

fn key_columns(columns: &[ast::IndexColumn]) -> Result<Vec<String>> {
    columns
        .iter()
        .map(|c| match &c.column.expr {
            ast::Expr::Identifier(ident)
                if c.operator_class.is_none()
                    && c.column.options.sort.is_none()
                    && c.column.options.nulls_first.is_none() =>
            {
                Ok(super::expr::normalize_ident(ident))
            }
            other => Err(PlanError::unsupported(format!(
                "key column {other} (a key lists plain column names)"
            ))),
        })
        .collect()
}

fn check_unique(u: &ast::UniqueConstraint) -> Result<()> {
    check_plain(u.characteristics.as_ref(), &u.index_options, &u.include)?;
    if u.index_name.is_some() || u.index_type.is_some() {
        return Err(PlanError::unsupported(
            "index options of a UNIQUE constraint",
        ));
    }
    match u.nulls_distinct {
        ast::NullsDistinctOption::None | ast::NullsDistinctOption::Distinct => Ok(()),
        ast::NullsDistinctOption::NotDistinct => {
            Err(PlanError::unsupported("UNIQUE NULLS NOT DISTINCT"))
        }
    }
}

fn check_plain(
    characteristics: Option<&ast::ConstraintCharacteristics>,
    index_options: &[ast::IndexOption],
    include: &[ast::Ident],
) -> Result<()> {
    if characteristics.is_some() {
        return Err(PlanError::unsupported(
            "constraint characteristics (DEFERRABLE, INITIALLY, ENFORCED)",
        ));
    }
    if !index_options.is_empty() || !include.is_empty() {
        return Err(PlanError::unsupported("index options of a key constraint"));
    }
    Ok(())
}
