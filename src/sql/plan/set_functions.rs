//! Set-returning functions in FROM: `generate_series` (integers, timestamps), `unnest`,
//! `jsonb_array_elements[_text]`, `jsonb_each[_text]`, `jsonb_object_keys`.
//!
//! As in PostgreSQL, a function in FROM may refer to the FROM items before it (it is
//! implicitly LATERAL): it becomes a `FlatMap` over the relation so far, each row followed by
//! each row the function returns for it. With nothing before it, that relation is one empty
//! row. A function's columns are named as PostgreSQL names them (`value`; `key`, `value`; or
//! after the function); for one named after the function, `AS g` names the relation and its
//! column, and `g(x)` the column `x`.

use super::context::StatementContext;
use super::expr::{ExprContext, Typed, normalize_ident};
use super::func::{self, CastContext};
use super::scope::Scope;
use crate::expr::func::set_returning::SetFunc;
use crate::expr::{Func, RelationExpr, ScalarExpr, TableFunc};
use crate::repr::{ColumnType, ScalarType};
use crate::sql::{PlanError, Result};
use sqlparser::ast;

/// Whether `name` is a set-returning function this module plans.
pub fn is_set_function(name: &str) -> bool {
    matches!(
        name,
        "generate_series"
            | "unnest"
            | "jsonb_array_elements"
            | "jsonb_array_elements_text"
            | "jsonb_each"
            | "jsonb_each_text"
            | "jsonb_object_keys"
    )
}

/// `preceding` followed by the rows of `name(args)` for each of its rows.
pub fn plan(
    scx: &StatementContext,
    (rel, scope): (RelationExpr, Scope),
    name: &str,
    args: &[&ast::Expr],
    alias: Option<&ast::TableAlias>,
    now_is_constant: bool,
) -> Result<(RelationExpr, Scope)> {
    let mut ecx = ExprContext::new(scx, rel, scope, "functions in FROM");
    ecx.now_is_constant = now_is_constant;
    let mut typed = Vec::with_capacity(args.len());
    for arg in args {
        typed.push(ecx.plan_expr(arg)?);
    }
    let planned = plan_call(name, typed)?;
    let arity = ecx.scope.len();
    let mut rel = RelationExpr::FlatMap {
        input: Box::new(ecx.rel),
        func: planned.func,
        exprs: planned.exprs,
    };
    if let Some(to) = &planned.narrow_to {
        // Values between two integers fit an integer.
        rel = rel
            .map(vec![ScalarExpr::call(
                Func::Cast(to.clone()),
                vec![ScalarExpr::Column(arity)],
            )])
            .project((0..arity).chain([arity + 1]).collect());
    }
    let mut names = planned.names;
    // A function whose column is named after it takes the alias as its column's name too;
    // one with named columns (`value`, `key`) keeps them.
    if names.len() == 1
        && names[0] == name
        && let Some(a) = alias.filter(|a| a.columns.is_empty())
    {
        names[0] = normalize_ident(&a.name);
    }
    let table = super::from::apply_alias(alias, &mut names, name)?;
    let mut scope = ecx.scope;
    scope = scope.concat(scx.scope_for(Some(&table), &names, &planned.types));
    Ok((rel, scope))
}

struct PlannedCall {
    func: TableFunc,
    exprs: Vec<ScalarExpr>,
    names: Vec<String>,
    types: Vec<ColumnType>,
    /// Cast the one output column to this type (integer `generate_series`).
    narrow_to: Option<ScalarType>,
}

fn plan_call(name: &str, args: Vec<Typed>) -> Result<PlannedCall> {
    let no_such = |args: &[Typed]| {
        let types: Vec<String> = args.iter().map(|(_, t)| t.sql_name()).collect();
        PlanError::UnknownFunction(format!("{name}({})", types.join(", ")))
    };
    let set = |func: SetFunc, exprs, names: &[&str], types: Vec<ScalarType>| PlannedCall {
        func: TableFunc::SetReturning {
            func,
            output: types
                .iter()
                .map(|t| ColumnType::new(t.clone(), true))
                .collect(),
        },
        exprs,
        names: names.iter().map(|n| n.to_string()).collect(),
        types: types
            .into_iter()
            .map(|t| ColumnType::new(t, true))
            .collect(),
        narrow_to: None,
    };
    let jsonb = |args: Vec<Typed>| -> Result<ScalarExpr> {
        match <[Typed; 1]>::try_from(args) {
            Ok([(e, t)]) if matches!(t, ScalarType::Jsonb | ScalarType::Unknown) => {
                func::plan_cast(e, &t, &ScalarType::Jsonb, CastContext::Implicit)
            }
            Ok([arg]) => Err(no_such(&[arg])),
            Err(args) => Err(no_such(&args)),
        }
    };
    Ok(match name {
        "generate_series" => return plan_generate_series(args, no_such),
        "unnest" => match <[Typed; 1]>::try_from(args) {
            Ok([(e, ScalarType::Array(element))]) => {
                set(SetFunc::Unnest, vec![e], &["unnest"], vec![*element])
            }
            Ok([arg]) => return Err(no_such(&[arg])),
            Err(args) => return Err(no_such(&args)),
        },
        "jsonb_array_elements" | "jsonb_array_elements_text" => {
            let (text, typ) = text_or_jsonb(name);
            set(
                SetFunc::JsonbArrayElements { text },
                vec![jsonb(args)?],
                &["value"],
                vec![typ],
            )
        }
        "jsonb_each" | "jsonb_each_text" => {
            let (text, typ) = text_or_jsonb(name);
            set(
                SetFunc::JsonbEach { text },
                vec![jsonb(args)?],
                &["key", "value"],
                vec![ScalarType::String, typ],
            )
        }
        "jsonb_object_keys" => set(
            SetFunc::JsonbObjectKeys,
            vec![jsonb(args)?],
            &["jsonb_object_keys"],
            vec![ScalarType::String],
        ),
        _ => return Err(PlanError::UnknownFunction(format!("{name} in FROM"))),
    })
}

/// Whether a jsonb function returns text (its `_text` form), and the type of its values.
fn text_or_jsonb(name: &str) -> (bool, ScalarType) {
    if name.ends_with("_text") {
        (true, ScalarType::String)
    } else {
        (false, ScalarType::Jsonb)
    }
}

/// `generate_series(start, stop [, step])`: over integers (integer when every argument is
/// smallint or integer, else bigint), or over timestamps with an interval step.
fn plan_generate_series(
    args: Vec<Typed>,
    no_such: impl Fn(&[Typed]) -> PlanError,
) -> Result<PlannedCall> {
    if !(2..=3).contains(&args.len()) {
        return Err(no_such(&args));
    }
    let integer = |t: &ScalarType| {
        matches!(
            t,
            ScalarType::Int16 | ScalarType::Int32 | ScalarType::Int64 | ScalarType::Unknown
        )
    };
    if args.iter().all(|(_, t)| integer(t)) {
        let narrow = args.iter().all(|(_, t)| {
            matches!(
                t,
                ScalarType::Int16 | ScalarType::Int32 | ScalarType::Unknown
            )
        });
        let exprs = args
            .into_iter()
            .map(|(e, t)| func::plan_cast(e, &t, &ScalarType::Int64, CastContext::Implicit))
            .collect::<Result<Vec<_>>>()?;
        let typ = if narrow {
            ScalarType::Int32
        } else {
            ScalarType::Int64
        };
        return Ok(PlannedCall {
            func: TableFunc::GenerateSeriesInt64,
            exprs,
            names: vec!["generate_series".into()],
            types: vec![ColumnType::new(typ.clone(), false)],
            narrow_to: narrow.then_some(typ),
        });
    }
    let time = args
        .iter()
        .take(2)
        .map(|(_, t)| t.clone())
        .find(|t| matches!(t, ScalarType::Timestamp | ScalarType::TimestampTz));
    let (Some(time), 3) = (time, args.len()) else {
        return Err(no_such(&args));
    };
    let mut exprs = Vec::with_capacity(3);
    for (i, (e, t)) in args.into_iter().enumerate() {
        let want = if i < 2 {
            time.clone()
        } else {
            ScalarType::Interval
        };
        exprs.push(func::plan_cast(e, &t, &want, CastContext::Implicit)?);
    }
    Ok(PlannedCall {
        func: TableFunc::SetReturning {
            func: SetFunc::GenerateSeriesTimestamp,
            output: vec![ColumnType::new(time.clone(), false)],
        },
        exprs,
        names: vec!["generate_series".into()],
        types: vec![ColumnType::new(time, false)],
        narrow_to: None,
    })
}
