//! `SELECT pg_advisory_lock(key)` and the rest of PostgreSQL's advisory-lock functions, as
//! a statement of their own: a SELECT whose whole list is one call of one of them, with no
//! FROM (how drivers and migration tools call them). The call becomes
//! `Plan::AdvisoryLock`, which the coordinator runs against its lock table
//! (`coord::advisory_locks`), waiting if the lock is taken. The arguments are evaluated
//! here: constants, parameters, or any expression over them.
//!
//! Anywhere else (over a table's rows, beside other columns) the functions fail with 0A000:
//! taking a lock per row of a query is not something Freshet does (`func.rs`).

use super::StatementContext;
use super::expr::ExprContext;
use super::func::{self, CastContext};
use super::scope::Scope;
use crate::expr::RelationExpr;
use crate::repr::{ColumnType, Datum, RelationDesc, Row, ScalarType};
use crate::sql::{PlanError, Result};
use sqlparser::ast;

/// The name of an advisory lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LockKey {
    /// `pg_advisory_lock(bigint)`.
    Int8(i64),
    /// `pg_advisory_lock(integer, integer)`: a key space of its own.
    Pair(i32, i32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LockMode {
    Exclusive,
    Shared,
}

/// How long a lock lasts: until unlocked or the session ends, or until the transaction
/// ends (outside a block, the statement is the transaction).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LockScope {
    Session,
    Transaction,
}

/// Which advisory-lock function a statement calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdvisoryFunction {
    /// `pg_advisory[_xact]_lock[_shared]`: waits for the lock; returns void.
    Lock(LockMode, LockScope),
    /// `pg_try_advisory[_xact]_lock[_shared]`: takes the lock if free; returns whether.
    TryLock(LockMode, LockScope),
    /// `pg_advisory_unlock[_shared]`: releases one session-level hold; returns whether
    /// there was one.
    Unlock(LockMode),
    /// `pg_advisory_unlock_all()`: releases every session-level lock; returns void.
    UnlockAll,
}

impl AdvisoryFunction {
    /// The function `name` (unqualified, lower case) names, if it is one of them.
    pub fn from_name(name: &str) -> Option<AdvisoryFunction> {
        use AdvisoryFunction::*;
        use LockMode::*;
        use LockScope::*;
        Some(match name {
            "pg_advisory_lock" => Lock(Exclusive, Session),
            "pg_advisory_lock_shared" => Lock(Shared, Session),
            "pg_advisory_xact_lock" => Lock(Exclusive, Transaction),
            "pg_advisory_xact_lock_shared" => Lock(Shared, Transaction),
            "pg_try_advisory_lock" => TryLock(Exclusive, Session),
            "pg_try_advisory_lock_shared" => TryLock(Shared, Session),
            "pg_try_advisory_xact_lock" => TryLock(Exclusive, Transaction),
            "pg_try_advisory_xact_lock_shared" => TryLock(Shared, Transaction),
            "pg_advisory_unlock" => Unlock(Exclusive),
            "pg_advisory_unlock_shared" => Unlock(Shared),
            "pg_advisory_unlock_all" => UnlockAll,
            _ => return None,
        })
    }

    /// The type of the function's result.
    pub fn result_type(self) -> ScalarType {
        match self {
            AdvisoryFunction::Lock(..) | AdvisoryFunction::UnlockAll => ScalarType::Void,
            AdvisoryFunction::TryLock(..) | AdvisoryFunction::Unlock(_) => ScalarType::Bool,
        }
    }
}

/// A planned call: what to do, on which key, and the name of the result column.
#[derive(Clone, Debug)]
pub struct AdvisoryLockCall {
    pub function: AdvisoryFunction,
    /// `None` when an argument is NULL: the functions are strict, so the result is NULL
    /// and nothing is locked. (Also while describing, when parameters have no values.)
    pub key: Option<LockKey>,
    pub column: String,
}

impl AdvisoryLockCall {
    /// The one-column description of the result.
    pub fn desc(&self) -> RelationDesc {
        RelationDesc::new(
            vec![self.column.clone()],
            vec![ColumnType::new(self.function.result_type(), true)],
        )
    }

    /// The result row: `held` is whether the lock was taken (try) or released (unlock).
    pub fn row(&self, held: bool) -> Row {
        let datum = match (self.key, self.function) {
            (
                None,
                AdvisoryFunction::Lock(..)
                | AdvisoryFunction::TryLock(..)
                | AdvisoryFunction::Unlock(_),
            ) => Datum::Null,
            // void prints as the empty string, and is not NULL.
            (_, AdvisoryFunction::Lock(..) | AdvisoryFunction::UnlockAll) => {
                Datum::String(String::new())
            }
            (Some(_), AdvisoryFunction::TryLock(..) | AdvisoryFunction::Unlock(_)) => {
                Datum::Bool(held)
            }
        };
        Row::new(vec![datum])
    }
}

/// Plans `SELECT f(args) [AS name]` when `f` is an advisory-lock function; `None` when the
/// call is another function.
pub fn plan_advisory_lock(
    scx: &StatementContext,
    f: &ast::Function,
    alias: Option<&ast::Ident>,
) -> Option<Result<AdvisoryLockCall>> {
    let name = super::statement::builtin_function_name(f)?;
    let function = AdvisoryFunction::from_name(&name)?;
    let column = super::statement::call_column(alias, &name);
    Some(
        plan_call(scx, f, function, &name).map(|key| AdvisoryLockCall {
            function,
            key,
            column,
        }),
    )
}

/// Evaluates the arguments of a call into its key (`None`: a NULL argument, or no key for
/// `pg_advisory_unlock_all`).
fn plan_call(
    scx: &StatementContext,
    f: &ast::Function,
    function: AdvisoryFunction,
    name: &str,
) -> Result<Option<LockKey>> {
    let args = super::statement::plain_call_arguments(f, name)?;
    // Planned first, each `$n` typed as the one- or two-argument form wants it, so that
    // an error can name the argument types.
    let hint = match args.len() {
        1 => ScalarType::Int64,
        _ => ScalarType::Int32,
    };
    let mut ecx = ExprContext::new(
        scx,
        RelationExpr::constant(vec![Row::empty()], vec![]),
        Scope::default(),
        "advisory lock key",
    );
    let planned = args
        .iter()
        .map(|e| ecx.plan_expr_typed_param(e, &hint))
        .collect::<Result<Vec<_>>>()?;
    let no_such = || {
        let types: Vec<String> = planned.iter().map(|(_, t)| t.sql_name()).collect();
        PlanError::UnknownFunction(format!("{name}({})", types.join(", ")))
    };
    let want = match (function, planned.len()) {
        (AdvisoryFunction::UnlockAll, 0) => return Ok(None),
        (AdvisoryFunction::UnlockAll, _) => return Err(no_such()),
        (_, 1) => ScalarType::Int64,
        (_, 2) => ScalarType::Int32,
        _ => return Err(no_such()),
    };
    let mut values = Vec::new();
    for (e, t) in &planned {
        // A string literal converts as PostgreSQL's input function would (and fails as it
        // does, 22P02); any other type must cast implicitly.
        let cast = func::plan_cast(e.clone(), t, &want, CastContext::Implicit);
        let cast = match (cast, t) {
            (Ok(cast), _) => cast,
            (Err(e), ScalarType::Unknown) => return Err(e),
            (Err(_), _) => return Err(no_such()),
        };
        values.push(cast.eval(&[])?);
    }
    Ok(match values.as_slice() {
        [] => None,
        [Datum::Int64(k)] => Some(LockKey::Int8(*k)),
        [Datum::Int32(a), Datum::Int32(b)] => Some(LockKey::Pair(*a, *b)),
        // A NULL argument: the functions are strict.
        _ => None,
    })
}
