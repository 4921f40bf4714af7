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
//! rows per partition are kept and numbered.

use super::expr::{ExprContext, normalize_name};
use super::func::{self, CastContext};
use super::query;
use crate::expr::func::window::WindowFunc;
use crate::expr::func::window_value::{FrameBound, FrameUnits, WindowFrame, WindowValueFunc};
use crate::expr::{AggregateExpr, AggregateFunc, Func, RelationExpr, ScalarExpr, TableFunc};
use crate::repr::{ColumnType, Datum, ScalarType};
use crate::sql::{PlanError, Result};
use sqlparser::ast::{self, Expr, SelectItem, Visit, Visitor};
use std::ops::ControlFlow;

/// The window function calls in the SELECT list and ORDER BY, anywhere in their expressions
/// but not inside subqueries (those belong to the subquery).
pub fn collect_window_calls(
    projection: &[SelectItem],
    order_by: &[ast::OrderByExpr],
) -> Vec<ast::Function> {
    struct Collector {
        calls: Vec<ast::Function>,
        query_depth: usize,
    }
    impl Visitor for Collector {
        type Break = ();
        fn pre_visit_query(&mut self, _query: &ast::Query) -> ControlFlow<()> {
            self.query_depth += 1;
            ControlFlow::Continue(())
        }
        fn post_visit_query(&mut self, _query: &ast::Query) -> ControlFlow<()> {
            self.query_depth -= 1;
            ControlFlow::Continue(())
        }
        fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
            if let Expr::Function(f) = expr
                && f.over.is_some()
                && self.query_depth == 0
                && !self.calls.contains(f)
            {
                self.calls.push(f.clone());
            }
            ControlFlow::Continue(())
        }
    }
    let mut collector = Collector {
        calls: Vec::new(),
        query_depth: 0,
    };
    for item in projection {
        if let SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } = item {
            let _ = e.visit(&mut collector);
        }
    }
    for ob in order_by {
        let _ = ob.expr.visit(&mut collector);
    }
    collector.calls
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
        let frame = plan_frame(ecx, spec.window_frame.as_ref())?;
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
        let mut order = Vec::new();
        for ob in &spec.order_by {
            order_exprs.push(ecx.plan_expr(&ob.expr)?.0);
            let desc = ob.options.sort == Some(ast::OrderBySort::Desc);
            order.push((desc, ob.options.nulls_first.map(|f| !f).unwrap_or(!desc)));
        }
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

/// The frame clause, as PostgreSQL accepts it; ROWS offsets are constants. RANGE with an
/// offset and GROUPS frames are not supported yet.
fn plan_frame(ecx: &ExprContext, frame: Option<&ast::WindowFrame>) -> Result<WindowFrame> {
    let Some(frame) = frame else {
        return Ok(WindowFrame::default());
    };
    let units = match frame.units {
        ast::WindowFrameUnits::Rows => FrameUnits::Rows,
        ast::WindowFrameUnits::Range => FrameUnits::Range,
        ast::WindowFrameUnits::Groups => {
            return Err(PlanError::unsupported("GROUPS window frames"));
        }
    };
    let bound = |b: &ast::WindowFrameBound, which: &str| -> Result<FrameBound> {
        let offset = |e: &Expr| -> Result<u64> {
            if units == FrameUnits::Range {
                return Err(PlanError::unsupported(
                    "RANGE window frames with an offset PRECEDING or FOLLOWING",
                ));
            }
            let clause = format!("frame {which} offset");
            match query::constant_count(ecx.scx, e, &clause)? {
                Some(n) => Ok(n as u64),
                None => Err(PlanError::InvalidParameter(format!(
                    "frame {which} offset must not be null"
                ))),
            }
        };
        Ok(match b {
            ast::WindowFrameBound::CurrentRow => FrameBound::CurrentRow,
            ast::WindowFrameBound::Preceding(None) => FrameBound::UnboundedPreceding,
            ast::WindowFrameBound::Following(None) => FrameBound::UnboundedFollowing,
            ast::WindowFrameBound::Preceding(Some(e)) => FrameBound::Preceding(offset(e)?),
            ast::WindowFrameBound::Following(Some(e)) => FrameBound::Following(offset(e)?),
        })
    };
    let start = bound(&frame.start_bound, "starting")?;
    let end = match &frame.end_bound {
        Some(b) => bound(b, "ending")?,
        None => FrameBound::CurrentRow,
    };
    let error = |m: &str| Err(PlanError::WindowingError(m.into()));
    match (start, end) {
        (FrameBound::UnboundedFollowing, _) => error("frame start cannot be UNBOUNDED FOLLOWING"),
        (_, FrameBound::UnboundedPreceding) => error("frame end cannot be UNBOUNDED PRECEDING"),
        (FrameBound::CurrentRow, FrameBound::Preceding(_)) => {
            error("frame starting from current row cannot have preceding rows")
        }
        (FrameBound::Following(_), FrameBound::Preceding(_) | FrameBound::CurrentRow) => {
            error("frame starting from following row cannot have preceding rows")
        }
        _ => Ok(WindowFrame { units, start, end }),
    }
}
