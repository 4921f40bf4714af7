//! Statement parsing: sqlparser's PostgreSQL dialect for standard SQL, and a small parser of
//! our own for the streaming statements sqlparser does not know (SUBSCRIBE, SHOW ...).

use super::{PlanError, Result};

/// One parsed statement.
#[derive(Clone, Debug, PartialEq)]
pub enum Statement {
    Sql(Box<sqlparser::ast::Statement>),
}

pub fn parse(sql: &str) -> Result<Vec<Statement>> {
    let dialect = sqlparser::dialect::PostgreSqlDialect {};
    let statements = sqlparser::parser::Parser::parse_sql(&dialect, sql)
        .map_err(|e| PlanError::Syntax(e.to_string()))?;
    Ok(statements
        .into_iter()
        .map(|s| Statement::Sql(Box::new(s)))
        .collect())
}
