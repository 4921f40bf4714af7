//! Window functions in SELECT and ORDER BY, `f(...) OVER (PARTITION BY ... ORDER BY ...
//! [frame])`:
//! - ranking: `row_number`, `rank`, `dense_rank` (`expr::func::window`);
//! - values: `percent_rank`, `cume_dist`, `ntile`, `lag`, `lead`, `first_value`,
//!   `last_value`, `nth_value`, and every aggregate, over ROWS or RANGE frames
//!   (`expr::func::window_value`).
//!
//! Each call appends a column to the relation: a `Reduce` keyed by the partition collects
//! each partition's rows in window order (`WindowPartition`), a `FlatMap` emits each row
//! with its value (`WindowNumbering` or `WindowValues`), and a `Project` restores
//! `row ++ [value]`. A filter on a `row_number` (`WHERE rn <= k` in an enclosing query) lets
//! the optimizer put a TopK below the `Reduce` (`optimize/window_topk.rs`), so only the top k
//! rows per partition are kept and numbered. Rendering maintains numberings, values that
//! read only nearby rows and running aggregates row by row, rather than per partition
//! (`dataflow/render/window.rs`).

use super::expr::{ExprContext, normalize_name};
use super::func::{self, CastContext};
use super::query;
use crate::expr::func::window::WindowFunc;
use crate::expr::func::window_value::{FrameBound, FrameUnits, WindowFrame, WindowValueFunc};
use crate::expr::{AggregateExpr, AggregateFunc, Func, RelationExpr, ScalarExpr, TableFunc};
use crate::repr::{ColumnType, Datum, ScalarType};
use crate::sql::{PlanError, Result};
use sqlparser::ast::{self, Expr, SelectItem};

/// The window function calls in the SELECT list and ORDER BY, anywhere in their expressions
/// but not inside subqueries (those belong to the subquery).
pub fn collect_window_calls(
    projection: &[SelectItem],
    order_by: &[ast::OrderByExpr],
) -> Vec<ast::Function> {
    let exprs =
        super::expr::select_list_exprs(projection).chain(order_by.iter().map(|ob| &ob.expr));
    super::expr::collect_calls(exprs, |f| f.over.is_some())
}

/// What a window call computes per row.
enum Computed {
    Ranking(WindowFunc),
    Value(Box<WindowValueFunc>, ColumnType),
}

/// Plans each window call as a new column of `ecx.rel`; returns the call → column map.
pub fn plan_windows(
    ecx: &mut ExprContext,
    calls: &[ast::Function],
    named: &[ast::NamedWindowDefinition],
) -> Result<Vec<(Expr, usize)>> {
    let mut mapping = Vec::new();
    for call in calls {
        let name = normalize_name(&call.name)?.pop().unwrap_or_default();
        let spec = match &call.over {
            Some(over) => resolve_window(over, named, 0)?,
            None => unreachable!("window calls have OVER"),
        };
        let spec = &spec;
        let computed = match WindowFunc::from_name(&name) {
            Some(ranking) => {
                check_no_arguments(call, &name)?;
                Computed::Ranking(ranking)
            }
            None => {
                let (func, typ) = plan_value_function(ecx, &name, call)?;
                Computed::Value(Box::new(func), typ)
            }
        };
        let mut partition = Vec::new();
        for p in &spec.partition_by {
            partition.push(ecx.plan_expr(p)?.0);
        }
        let mut order_exprs = Vec::new();
        let mut order_types = Vec::new();
        let mut order = Vec::new();
        for ob in &spec.order_by {
            let (e, typ) = ecx.plan_expr(&ob.expr)?;
            order_exprs.push(e);
            order_types.push(typ);
            let desc = ob.options.sort == Some(ast::OrderBySort::Desc);
            order.push((desc, ob.options.nulls_first.map(|f| !f).unwrap_or(!desc)));
        }
        let frame = plan_frame(ecx, spec.window_frame.as_ref(), &order_types, &order)?;
        let n = ecx.scope.len();
        let row_types: Vec<ColumnType> = ecx.rel.typ();
        let k = partition.len();
        let mut record = order_exprs;
        record.extend((0..n).map(ScalarExpr::Column));
        let rel = std::mem::replace(&mut ecx.rel, RelationExpr::constant(vec![], vec![]));
        let reduced = RelationExpr::Reduce {
            input: Box::new(rel),
            group_key: partition,
            aggregates: vec![AggregateExpr {
                func: AggregateFunc::WindowPartition {
                    order: order.clone(),
                },
                expr: ScalarExpr::call(Func::MakeRecord, record),
                distinct: false,
            }],
        };
        let (func, typ) = match computed {
            Computed::Ranking(func) => (
                TableFunc::WindowNumbering {
                    func,
                    order,
                    row_types,
                },
                ColumnType::new(ScalarType::Int64, false),
            ),
            Computed::Value(func, value_type) => (
                TableFunc::WindowValues {
                    func,
                    order,
                    frame,
                    row_types,
                    value_type: value_type.clone(),
                },
                value_type,
            ),
        };
        let valued = RelationExpr::FlatMap {
            input: Box::new(reduced),
            func,
            exprs: vec![ScalarExpr::Column(k)],
        };
        ecx.rel = valued.project((k + 1..k + 2 + n).collect());
        let item = ecx.scx.item(None, &name, typ, true);
        ecx.scope.push(item);
        mapping.push((Expr::Function(call.clone()), n));
    }
    Ok(mapping)
}

/// The window an OVER clause names or defines, with the WINDOW clause's definitions
/// applied as PostgreSQL applies them: `OVER w` is `w`; `OVER (w ORDER BY ...)` copies `w`'s
/// PARTITION BY and adds what `w` lacks.
fn resolve_window(
    over: &ast::WindowType,
    named: &[ast::NamedWindowDefinition],
    depth: usize,
) -> Result<ast::WindowSpec> {
    // Definitions may refer to earlier ones; a cycle is an error, not a loop.
    if depth > named.len() {
        return Err(PlanError::WindowingError(
            "window definitions refer to each other in a cycle".into(),
        ));
    }
    let lookup = |name: &ast::Ident| -> Result<ast::WindowSpec> {
        let wanted = super::expr::normalize_ident(name);
        let definition = named
            .iter()
            .find(|d| super::expr::normalize_ident(&d.0) == wanted)
            .ok_or_else(|| {
                PlanError::UnknownObject(format!("window \"{wanted}\" does not exist"))
            })?;
        match &definition.1 {
            ast::NamedWindowExpr::WindowSpec(spec) => {
                resolve_window(&ast::WindowType::WindowSpec(spec.clone()), named, depth + 1)
            }
            ast::NamedWindowExpr::NamedWindow(other) => resolve_window(
                &ast::WindowType::NamedWindow(other.clone()),
                named,
                depth + 1,
            ),
        }
    };
    match over {
        ast::WindowType::NamedWindow(name) => lookup(name),
        ast::WindowType::WindowSpec(spec) => {
            let Some(base_name) = &spec.window_name else {
                return Ok(spec.clone());
            };
            let base = lookup(base_name)?;
            let name = super::expr::normalize_ident(base_name);
            if !spec.partition_by.is_empty() {
                return Err(PlanError::WindowingError(format!(
                    "cannot override PARTITION BY clause of window \"{name}\""
                )));
            }
            if !base.order_by.is_empty() && !spec.order_by.is_empty() {
                return Err(PlanError::WindowingError(format!(
                    "cannot override ORDER BY clause of window \"{name}\""
                )));
            }
            if base.window_frame.is_some() {
                return Err(PlanError::WindowingError(format!(
                    "cannot copy window \"{name}\" because it has a frame clause"
                )));
            }
            Ok(ast::WindowSpec {
                window_name: None,
                partition_by: base.partition_by,
                order_by: if spec.order_by.is_empty() {
                    base.order_by
                } else {
                    spec.order_by.clone()
                },
                window_frame: spec.window_frame.clone(),
            })
        }
    }
}

fn check_no_arguments(call: &ast::Function, name: &str) -> Result<()> {
    let no_args = match &call.args {
        ast::FunctionArguments::None => true,
        ast::FunctionArguments::List(list) => {
            list.args.is_empty() && list.clauses.is_empty() && list.duplicate_treatment.is_none()
        }
        ast::FunctionArguments::Subquery(_) => false,
    };
    if !no_args
        || call.filter.is_some()
        || !call.within_group.is_empty()
        || call.null_treatment.is_some()
    {
        return Err(PlanError::Syntax(format!(
            "window function {name} takes no arguments"
        )));
    }
    Ok(())
}

/// A value window function or a window aggregate, and the type of its value.
fn plan_value_function(
    ecx: &mut ExprContext,
    name: &str,
    call: &ast::Function,
) -> Result<(WindowValueFunc, ColumnType)> {
    if call.null_treatment.is_some() {
        return Err(PlanError::unsupported("IGNORE NULLS / RESPECT NULLS"));
    }
    if !call.within_group.is_empty() {
        return Err(PlanError::unsupported(format!(
            "{name} WITHIN GROUP as a window function"
        )));
    }
    if func::is_aggregate(name) {
        return plan_window_aggregate(ecx, call);
    }
    if call.filter.is_some() {
        return Err(PlanError::unsupported(
            "FILTER for non-aggregate window functions",
        ));
    }
    let args: Vec<&Expr> = match &call.args {
        ast::FunctionArguments::None => vec![],
        ast::FunctionArguments::List(list) => {
            if list.duplicate_treatment.is_some() || !list.clauses.is_empty() {
                return Err(PlanError::unsupported(format!(
                    "{name} with DISTINCT or ORDER BY in its arguments"
                )));
            }
            super::expr::expr_arguments(&list.args)?
        }
        ast::FunctionArguments::Subquery(_) => {
            return Err(PlanError::unsupported("window function over a subquery"));
        }
    };
    let mut typed = Vec::with_capacity(args.len());
    for arg in &args {
        typed.push(ecx.plan_expr(arg)?);
    }
    let no_such = || {
        let types: Vec<String> = typed.iter().map(|(_, t)| t.sql_name()).collect();
        PlanError::UnknownFunction(format!("{name}({})", types.join(", ")))
    };
    let float = ColumnType::new(ScalarType::Float64, false);
    let nullable = |t: &ScalarType| ColumnType::new(t.clone(), true);
    let integer = |(e, t): (ScalarExpr, ScalarType)| -> Result<ScalarExpr> {
        match t {
            ScalarType::Int16 | ScalarType::Int32 | ScalarType::Int64 => Ok(e),
            ScalarType::Unknown => Ok(ScalarExpr::null(ScalarType::Int32)),
            _ => Err(no_such()),
        }
    };
    let mut args = typed.clone().into_iter();
    let planned = match (name, typed.len()) {
        ("percent_rank", 0) => (WindowValueFunc::PercentRank, float),
        ("cume_dist", 0) => (WindowValueFunc::CumeDist, float),
        ("ntile", 1) => (
            WindowValueFunc::Ntile(integer(args.next().ok_or_else(no_such)?)?),
            ColumnType::new(ScalarType::Int32, true),
        ),
        ("lag" | "lead", 1..=3) => {
            let (value, value_type) = args.next().ok_or_else(no_such)?;
            let offset = match args.next() {
                Some(offset) => integer(offset)?,
                None => ScalarExpr::literal(Datum::Int32(1), ScalarType::Int32),
            };
            let (default, default_type) = args
                .next()
                .unwrap_or_else(|| (ScalarExpr::null(value_type.clone()), value_type.clone()));
            let typ = func::common_type(&[value_type.clone(), default_type.clone()], name)?;
            let typ = if typ == ScalarType::Unknown {
                ScalarType::String
            } else {
                typ
            };
            let value = func::plan_cast(value, &value_type, &typ, CastContext::Implicit)?;
            let default = func::plan_cast(default, &default_type, &typ, CastContext::Implicit)?;
            let func = if name == "lag" {
                WindowValueFunc::Lag {
                    value,
                    offset,
                    default,
                }
            } else {
                WindowValueFunc::Lead {
                    value,
                    offset,
                    default,
                }
            };
            (func, nullable(&typ))
        }
        ("first_value" | "last_value", 1) => {
            let (value, typ) = args.next().ok_or_else(no_such)?;
            let func = if name == "first_value" {
                WindowValueFunc::FirstValue(value)
            } else {
                WindowValueFunc::LastValue(value)
            };
            (func, nullable(&typ))
        }
        ("nth_value", 2) => {
            let (value, typ) = args.next().ok_or_else(no_such)?;
            let nth = integer(args.next().ok_or_else(no_such)?)?;
            (WindowValueFunc::NthValue(value, nth), nullable(&typ))
        }
        (
            "percent_rank" | "cume_dist" | "ntile" | "lag" | "lead" | "first_value" | "last_value"
            | "nth_value",
            _,
        ) => return Err(no_such()),
        _ => {
            return Err(PlanError::UnknownFunction(format!(
                "{name}: not a window function or aggregate"
            )));
        }
    };
    Ok(planned)
}

/// An aggregate `OVER (...)`: the same aggregate as with GROUP BY, over each row's frame.
fn plan_window_aggregate(
    ecx: &mut ExprContext,
    call: &ast::Function,
) -> Result<(WindowValueFunc, ColumnType)> {
    if let ast::FunctionArguments::List(list) = &call.args {
        if matches!(
            list.duplicate_treatment,
            Some(ast::DuplicateTreatment::Distinct)
        ) {
            return Err(PlanError::unsupported(
                "DISTINCT in window aggregates (as in PostgreSQL)",
            ));
        }
        if !list.clauses.is_empty() {
            return Err(PlanError::unsupported(
                "ORDER BY in window aggregates (as in PostgreSQL)",
            ));
        }
    }
    let plan = query::plan_aggregate_call(ecx, call)?;
    let nullable = !matches!(plan.aggregates.as_slice(), [a] if a.func == AggregateFunc::Count)
        || plan.finish != ScalarExpr::Column(0);
    Ok((
        WindowValueFunc::Aggregate {
            aggregates: plan.aggregates,
            finish: plan.finish,
        },
        ColumnType::new(plan.typ, nullable),
    ))
}

/// The frame clause, checked as PostgreSQL checks it. `order_types` and `order` are the
/// window's ORDER BY keys: a RANGE offset needs exactly one, of a type with arithmetic
/// (numbers, timestamps), and GROUPS needs an ORDER BY.
fn plan_frame(
    ecx: &ExprContext,
    frame: Option<&ast::WindowFrame>,
    order_types: &[ScalarType],
    order: &[(bool, bool)],
) -> Result<WindowFrame> {
    let Some(frame) = frame else {
        return Ok(WindowFrame::default());
    };
    let units = match frame.units {
        ast::WindowFrameUnits::Rows => FrameUnits::Rows,
        ast::WindowFrameUnits::Range => FrameUnits::Range,
        ast::WindowFrameUnits::Groups => {
            if order.is_empty() {
                return Err(PlanError::WindowingError(
                    "GROUPS mode requires an ORDER BY clause".into(),
                ));
            }
            FrameUnits::Groups
        }
    };
    let bound = |b: &ast::WindowFrameBound, which: &str| -> Result<FrameBound> {
        let offset = |e: &Expr, preceding: bool| -> Result<FrameBound> {
            if units == FrameUnits::Range {
                return range_offset(ecx, e, preceding, order_types, order);
            }
            let clause = format!("frame {which} offset");
            match query::constant_count(ecx.scx, e, &clause)? {
                Some(n) if preceding => Ok(FrameBound::Preceding(n as u64)),
                Some(n) => Ok(FrameBound::Following(n as u64)),
                None => Err(PlanError::InvalidFrameSize(format!(
                    "frame {which} offset must not be null"
                ))),
            }
        };
        Ok(match b {
            ast::WindowFrameBound::CurrentRow => FrameBound::CurrentRow,
            ast::WindowFrameBound::Preceding(None) => FrameBound::UnboundedPreceding,
            ast::WindowFrameBound::Following(None) => FrameBound::UnboundedFollowing,
            ast::WindowFrameBound::Preceding(Some(e)) => offset(e, true)?,
            ast::WindowFrameBound::Following(Some(e)) => offset(e, false)?,
        })
    };
    let start = bound(&frame.start_bound, "starting")?;
    let end = match &frame.end_bound {
        Some(b) => bound(b, "ending")?,
        None => FrameBound::CurrentRow,
    };
    let error = |m: &str| Err(PlanError::WindowingError(m.into()));
    use FrameBound::*;
    match (&start, &end) {
        (UnboundedFollowing, _) => error("frame start cannot be UNBOUNDED FOLLOWING"),
        (_, UnboundedPreceding) => error("frame end cannot be UNBOUNDED PRECEDING"),
        (CurrentRow, Preceding(_) | OffsetPreceding(_)) => {
            error("frame starting from current row cannot have preceding rows")
        }
        (Following(_) | OffsetFollowing(_), Preceding(_) | OffsetPreceding(_) | CurrentRow) => {
            error("frame starting from following row cannot have preceding rows")
        }
        _ => Ok(WindowFrame { units, start, end }),
    }
}

/// A RANGE frame's `offset PRECEDING` / `FOLLOWING`: the expression that computes, from the
/// current row's order key (column 0), the key at the frame's end, in the key's type.
fn range_offset(
    ecx: &ExprContext,
    e: &Expr,
    preceding: bool,
    order_types: &[ScalarType],
    order: &[(bool, bool)],
) -> Result<FrameBound> {
    let ([key_type], [(desc, _)]) = (order_types, order) else {
        return Err(PlanError::WindowingError(
            "RANGE with offset PRECEDING/FOLLOWING requires exactly one ORDER BY column".into(),
        ));
    };
    let mut ocx = ExprContext::new(
        ecx.scx,
        RelationExpr::constant(vec![crate::repr::Row::empty()], vec![]),
        super::scope::Scope::default(),
        "RANGE offset",
    );
    let (offset, offset_type) = ocx.plan_expr(e)?;
    let key_type = key_type.without_modifiers();
    let is_number = |t: &ScalarType| {
        t.is_integer()
            || matches!(
                t,
                ScalarType::Numeric { .. } | ScalarType::Float32 | ScalarType::Float64
            )
    };
    // The offset's type for this key type, as PostgreSQL's in_range functions take them.
    let wanted = match &key_type {
        t if t.is_integer() && offset_type.is_integer() => ScalarType::Int64,
        ScalarType::Numeric { .. } if is_number(&offset_type) => {
            ScalarType::Numeric { typmod: None }
        }
        ScalarType::Float32 | ScalarType::Float64 if is_number(&offset_type) => ScalarType::Float64,
        ScalarType::Timestamp | ScalarType::TimestampTz
            if matches!(offset_type, ScalarType::Interval | ScalarType::Unknown) =>
        {
            ScalarType::Interval
        }
        t if is_number(t) || matches!(t, ScalarType::Timestamp | ScalarType::TimestampTz) => {
            return Err(PlanError::NotAllowed(format!(
                "RANGE with offset PRECEDING/FOLLOWING is not supported for column type {} and offset type {}",
                key_type.sql_name(),
                offset_type.sql_name()
            )));
        }
        _ => {
            return Err(PlanError::NotAllowed(format!(
                "RANGE with offset PRECEDING/FOLLOWING is not supported for column type {}",
                key_type.sql_name()
            )));
        }
    };
    let offset = func::plan_cast(offset, &offset_type, &wanted, CastContext::Explicit)?;
    let value = offset.eval(&[])?;
    let negative = match &value {
        Datum::Null => true,
        Datum::Int64(v) => *v < 0,
        Datum::Numeric(v) => v.is_sign_negative() && !v.is_zero(),
        Datum::Float64(v) => v.0 < 0.0 || v.0.is_nan(),
        Datum::Interval(v) => v.months < 0 || v.days < 0 || v.micros < 0,
        _ => false,
    };
    if negative {
        return Err(PlanError::InvalidFrameSize(
            "invalid preceding or following size in window function".into(),
        ));
    }
    // Preceding rows lie below the key in ascending order, above it in descending order.
    let op = if preceding != *desc { "-" } else { "+" };
    let key = (ScalarExpr::Column(0), key_type.clone());
    let (target, target_type) = func::plan_binary_op(
        op,
        key,
        (ScalarExpr::literal(value, wanted.clone()), wanted),
    )?;
    let target = func::plan_cast(target, &target_type, &key_type, CastContext::Explicit)?;
    Ok(if preceding {
        FrameBound::OffsetPreceding(Box::new(target))
    } else {
        FrameBound::OffsetFollowing(Box::new(target))
    })
}
