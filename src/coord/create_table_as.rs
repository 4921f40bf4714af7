//! `CREATE TABLE name AS query`, run by the session as two statements in one transaction:
//! the `CREATE TABLE` of a table with the query's columns (planned in
//! `sql/plan/create_table_as.rs`), then `INSERT INTO name query`. It answers `SELECT n`, as
//! PostgreSQL does.
//!
//! Inside a transaction block both are the block's: the table is created at once (and
//! dropped if the block rolls back) and the rows are among the block's writes, applied at
//! COMMIT. Outside one, the statement is a block of its own: a query that fails, or a COMMIT
//! that fails, leaves no table behind. With `IF NOT EXISTS` and the name taken, the CREATE
//! creates nothing and the INSERT does not run; `WITH NO DATA` runs no INSERT either.

use super::client::{ExecuteResponse, TransactionStatus};
use super::error::{AdapterError, Result};
use super::session::Session;
use crate::repr::{Datum, ScalarType};
use crate::sql::Statement;
use crate::sql::plan::Plan;
use crate::sql::plan::create_table_as::SKIPPED_TAG;

/// For a `CREATE TABLE name AS query` statement, its `INSERT INTO name query` (`None` with
/// `WITH NO DATA`); `None` for any other statement.
pub(super) fn insert_of(stmt: &Statement) -> Option<Result<Option<Statement>>> {
    let Statement::Sql(sql) = stmt else {
        return None;
    };
    let sqlparser::ast::Statement::CreateTable(create) = sql.as_ref() else {
        return None;
    };
    let query = create.query.as_ref()?;
    if create.with_data.is_some_and(|w| !w.data) {
        return Some(Ok(None));
    }
    let text = format!("INSERT INTO {} {query}", create.name);
    Some(
        crate::sql::parse::parse(&text)
            .map_err(AdapterError::from)
            .and_then(|mut statements| match statements.len() {
                1 => Ok(Some(statements.remove(0))),
                _ => Err(AdapterError::Internal(format!(
                    "CREATE TABLE AS: {text} is not one INSERT"
                ))),
            }),
    )
}

impl Session {
    /// Runs `create` (`CREATE TABLE name AS query`) and then `insert` (its [`insert_of`], if
    /// any), with the same parameters.
    pub(super) async fn create_table_as(
        &mut self,
        create: &Statement,
        insert: Option<&Statement>,
        params: &[Datum],
        param_types: &[ScalarType],
    ) -> Result<ExecuteResponse> {
        let implicit = self.status == TransactionStatus::Idle;
        if implicit {
            self.status = TransactionStatus::InBlock;
        }
        let created_before = self.block_created.len();
        let result = async {
            let response = self.execute_inner(create, params, param_types).await?;
            if self.block_created.len() == created_before {
                // IF NOT EXISTS, and the name was taken.
                return Ok(response);
            }
            let Some(insert) = insert else {
                return Ok(ExecuteResponse::Command {
                    tag: SKIPPED_TAG.into(),
                });
            };
            let inserted = self.execute_inner(insert, params, param_types).await?;
            let rows = match &inserted {
                ExecuteResponse::Command { tag } => tag.rsplit(' ').next().unwrap_or("0"),
                _ => "0",
            };
            Ok(ExecuteResponse::Command {
                tag: format!("SELECT {rows}"),
            })
        }
        .await;
        if !implicit {
            return result;
        }
        if result.is_err() {
            // Drops the table and forgets its rows.
            self.execute_session_plan(Plan::Rollback).await?;
            return result;
        }
        let created = self.block_created.clone();
        if let Err(e) = self.execute_session_plan(Plan::Commit).await {
            // The block has ended: what it created is dropped as a rolled-back block's is.
            self.block_created = created;
            self.undo_created(0).await?;
            return Err(e);
        }
        result
    }
}
