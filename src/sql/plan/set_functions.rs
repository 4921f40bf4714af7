//! Set-returning functions in FROM: `generate_series` (integers, timestamps), `unnest`,
//! `jsonb_array_elements[_text]`, `jsonb_each[_text]`, `jsonb_object_keys`.
//!
//! As in PostgreSQL, a function in FROM may refer to the FROM items before it (it is
//! implicitly LATERAL): it becomes a `FlatMap` over the relation so far, each row followed by
//! each row the function returns for it. With nothing before it, that relation is one empty
//! row. A function's columns are named as PostgreSQL names them (`value`; `key`, `value`; or
//! after the function); for one named after the function, `AS g` names the relation and its
//! column, and `g(x)` the column `x`.
//!
//! In a SELECT list (PostgreSQL's "ProjectSet"), the calls are evaluated in lockstep after
//! grouping and window functions: each input row gives as many rows as its longest call,
//! the shorter ones padded with NULLs, and none when every call returns none. Only calls with
//! one column; nested calls, and calls in other clauses, are refused as PostgreSQL refuses
//! them or with 0A000.

use super::context::StatementContext;
use super::expr::{ExprContext, Typed, normalize_ident};
use super::func::{self, CastContext};
use super::scope::Scope;
use crate::expr::func::set_returning::SetFunc;
use crate::expr::{Func, RelationExpr, ScalarExpr, TableFunc};
use crate::repr::{ColumnType, ScalarType};
use crate::sql::{PlanError, Result};
use sqlparser::ast::{self, Expr, SelectItem};

/// Whether `name` is a set-returning function this module plans.
pub fn is_set_function(name: &str) -> bool {
    matches!(
        name,
        "generate_series"
            | "generate_subscripts"
            | "unnest"
            | "jsonb_array_elements"
            | "jsonb_array_elements_text"
            | "jsonb_each"
            | "jsonb_each_text"
            | "jsonb_object_keys"
            | "regexp_matches"
            | "pg_options_to_table"
    )
}

/// `preceding` followed by the rows of `name(args)` for each of its rows.
pub fn plan(
    scx: &StatementContext,
    (rel, scope): (RelationExpr, Scope),
    name: &str,
    args: &[&ast::Expr],
    alias: Option<&ast::TableAlias>,
    ordinality: bool,
    now_is_constant: bool,
) -> Result<(RelationExpr, Scope)> {
    let mut ecx = ExprContext::new(scx, rel, scope, "functions in FROM");
    ecx.now_is_constant = now_is_constant;
    let mut typed = Vec::with_capacity(args.len());
    for arg in args {
        typed.push(ecx.plan_expr(arg)?);
    }
    let mut planned = plan_call(name, typed)?;
    if ordinality {
        planned.func = TableFunc::WithOrdinality(Box::new(planned.func));
        planned.names.push("ordinality".into());
        planned
            .types
            .push(ColumnType::new(ScalarType::Int64, false));
    }
    let arity = ecx.scope.len();
    let width = planned.types.len();
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
            .project(
                (0..arity)
                    .chain([arity + width])
                    .chain(arity + 1..arity + width)
                    .collect(),
            );
    }
    let mut names = planned.names;
    // A function whose column is named after it takes the alias as its column's name too;
    // one with named columns (`value`, `key`) keeps them.
    if names.len() == 1 + usize::from(ordinality)
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

/// The set-returning calls in a SELECT list, outside subqueries, each once.
pub fn collect_select_list_calls(projection: &[SelectItem]) -> Vec<ast::Function> {
    collect_calls(super::expr::select_list_exprs(projection))
}

/// The set-returning calls in `exprs`.
fn collect_calls<'e>(exprs: impl IntoIterator<Item = &'e Expr>) -> Vec<ast::Function> {
    super::expr::collect_calls(exprs, |f| {
        f.over.is_none()
            && matches!(super::expr::normalize_name(&f.name).as_deref(), Ok([name]) if is_set_function(name))
    })
}

/// Plans the SELECT list's set-returning `calls` as one `FlatMap` over `ecx.rel`, in
/// lockstep; returns the call → column map.
pub fn plan_select_list(
    ecx: &mut ExprContext,
    calls: &[ast::Function],
) -> Result<Vec<(Expr, usize)>> {
    let arity = ecx.scope.len();
    let mut funcs = Vec::with_capacity(calls.len());
    let mut exprs = Vec::new();
    let mut casts = Vec::with_capacity(calls.len());
    let mut items = Vec::with_capacity(calls.len());
    for (i, call) in calls.iter().enumerate() {
        let name = super::expr::normalize_name(&call.name)?
            .pop()
            .unwrap_or_default();
        let args = match &call.args {
            ast::FunctionArguments::List(list)
                if list.duplicate_treatment.is_none() && list.clauses.is_empty() =>
            {
                super::expr::expr_arguments(&list.args)?
            }
            ast::FunctionArguments::None => vec![],
            _ => {
                return Err(PlanError::unsupported(format!(
                    "{name} with these arguments"
                )));
            }
        };
        if call.filter.is_some() || !call.within_group.is_empty() {
            return Err(PlanError::unsupported(format!(
                "{name} with FILTER / WITHIN GROUP"
            )));
        }
        if !collect_calls(args.iter().copied()).is_empty() {
            return Err(PlanError::unsupported(format!(
                "a set-returning function in the arguments of {name}"
            )));
        }
        let mut typed = Vec::with_capacity(args.len());
        for arg in args {
            typed.push(ecx.plan_expr(arg)?);
        }
        let planned = plan_call(&name, typed)?;
        let [typ] = planned.types.as_slice() else {
            return Err(PlanError::unsupported(format!(
                "{name} in a SELECT list (it returns a record: call it in FROM)"
            )));
        };
        let column = ScalarExpr::Column(arity + i);
        let typ = match &planned.narrow_to {
            Some(to) => {
                casts.push(ScalarExpr::call(Func::Cast(to.clone()), vec![column]));
                ColumnType::new(to.clone(), true)
            }
            None => {
                casts.push(column);
                typ.clone()
            }
        };
        items.push(ecx.scx.item(None, &name, typ, true));
        funcs.push((planned.func, planned.exprs.len()));
        exprs.extend(planned.exprs);
    }
    let func = if funcs.len() == 1 {
        funcs.remove(0).0
    } else {
        let output = funcs.iter().flat_map(|(f, _)| f.output_type(&[])).collect();
        TableFunc::Zip { funcs, output }
    };
    let rel = std::mem::replace(&mut ecx.rel, RelationExpr::constant(vec![], vec![]));
    let produced = calls.len();
    ecx.rel = RelationExpr::FlatMap {
        input: Box::new(rel),
        func,
        exprs,
    }
    .map(casts)
    .project(
        (0..arity)
            .chain(arity + produced..arity + 2 * produced)
            .collect(),
    );
    let mut mapping = Vec::with_capacity(calls.len());
    for (i, (call, item)) in calls.iter().zip(items).enumerate() {
        ecx.scope.push(item);
        mapping.push((Expr::Function(call.clone()), arity + i));
    }
    Ok(mapping)
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
        // Arrays are indexed from 1, so an array's subscripts in a dimension run from 1 to
        // its length there (none when it has no such dimension or is empty).
        "generate_subscripts" => match <[Typed; 2]>::try_from(args) {
            Ok([(array, array_type), (dim, dim_type)]) if array_type.array_element().is_some() => {
                // A vector's subscripts start at 0.
                let first = if array_type.vector_element().is_some() {
                    0
                } else {
                    1
                };
                let dim =
                    func::plan_cast(dim, &dim_type, &ScalarType::Int32, CastContext::Implicit)?;
                let length = ScalarExpr::call(
                    Func::Named(crate::expr::func::NamedFunc::ArrayLength),
                    vec![array, dim],
                );
                return Ok(PlannedCall {
                    func: TableFunc::GenerateSeriesInt64,
                    exprs: vec![
                        ScalarExpr::literal(crate::repr::Datum::Int64(first), ScalarType::Int64),
                        ScalarExpr::call(
                            Func::Add,
                            vec![
                                ScalarExpr::call(Func::Cast(ScalarType::Int64), vec![length]),
                                ScalarExpr::literal(
                                    crate::repr::Datum::Int64(first - 1),
                                    ScalarType::Int64,
                                ),
                            ],
                        ),
                    ],
                    names: vec!["generate_subscripts".into()],
                    types: vec![ColumnType::new(ScalarType::Int32, false)],
                    narrow_to: Some(ScalarType::Int32),
                });
            }
            Ok(args) => return Err(no_such(&args)),
            Err(args) => return Err(no_such(&args)),
        },
        "unnest" => match <[Typed; 1]>::try_from(args) {
            Ok([(e, ScalarType::Array(element))]) => {
                set(SetFunc::Unnest, vec![e], &["unnest"], vec![*element])
            }
            Ok([(e, t)]) if t.vector_element().is_some() => {
                let element = t.vector_element().unwrap_or(ScalarType::Int16);
                set(SetFunc::Unnest, vec![e], &["unnest"], vec![element])
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
        "regexp_matches" if matches!(args.len(), 2 | 3) => {
            if args
                .iter()
                .any(|(_, t)| !matches!(t, ScalarType::String | ScalarType::Unknown))
            {
                return Err(no_such(&args));
            }
            let mut exprs = Vec::with_capacity(args.len());
            for (e, t) in args {
                exprs.push(func::plan_cast(
                    e,
                    &t,
                    &ScalarType::String,
                    CastContext::Implicit,
                )?);
            }
            set(
                SetFunc::RegexpMatches,
                exprs,
                &["regexp_matches"],
                vec![ScalarType::Array(Box::new(ScalarType::String))],
            )
        }
        "pg_options_to_table" => match <[Typed; 1]>::try_from(args) {
            Ok([(e, ScalarType::Array(element))]) if *element == ScalarType::String => set(
                SetFunc::OptionsToTable,
                vec![e],
                &["option_name", "option_value"],
                vec![ScalarType::String, ScalarType::String],
            ),
            Ok([arg]) => return Err(no_such(&[arg])),
            Err(args) => return Err(no_such(&args)),
        },
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
