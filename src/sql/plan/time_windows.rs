//! Time windows as table functions in `FROM`, as RisingWave and Flink SQL write them:
//!
//! - `TUMBLE(rel, time_col, size [, offset])`: every row of `rel` with `window_start` and
//!   `window_end` appended: the window of length `size` containing `time_col`, windows
//!   starting at `offset + k * size` (`window_start = date_bin(size, time_col, epoch +
//!   offset)`). A NULL time gets NULL bounds.
//! - `HOP(rel, time_col, slide, size [, offset])`: each row once per window `[s, s + size)`
//!   containing `time_col`, windows starting every `slide`. A NULL time is in no window.
//! - `SESSION(rel, time_col, gap [, key_col ...])`: per key, a session is a maximal run of
//!   rows each less than `gap` after the one before; every row gets its session's first time
//!   as `window_start` and its last time plus `gap` as `window_end`. Maintained per key: a
//!   change to a key's rows recomputes that key's sessions.
//!
//! `rel` names a table or view; sizes are constant intervals without months (fixed
//! durations, as the windows are in UTC). The result is an ordinary relation: group it by
//! `window_start` to aggregate per window.

use super::context::StatementContext;
use super::query;
use crate::expr::func::NamedFunc;
use crate::expr::{Func, RelationExpr, ScalarExpr, TableFunc};
use crate::repr::{ColumnType, Datum, Interval, ScalarType};
use crate::sql::{PlanError, Result};
use sqlparser::ast::{self, Expr, FunctionArg, FunctionArgExpr};

/// At most this many windows per row for HOP (`size / slide`): more is almost certainly a
/// mistake in the units, and would multiply the data by that much.
const MAX_HOP_WINDOWS_PER_ROW: i64 = 10_000;

/// Whether `name` is a window function of this module.
pub fn is_time_window(name: &str) -> bool {
    matches!(name, "tumble" | "hop" | "session")
}

/// Plans `TUMBLE(...)` or `HOP(...)`; returns the relation, its column names and types, and
/// the name it is known by.
pub fn plan(
    scx: &StatementContext,
    name: &str,
    args: &[FunctionArg],
) -> Result<(RelationExpr, Vec<String>, Vec<ColumnType>, String)> {
    let usage = match name {
        "tumble" => "TUMBLE(relation, time_column, size [, offset])",
        "session" => "SESSION(relation, time_column, gap [, key_column ...])",
        _ => "HOP(relation, time_column, slide, size [, offset])",
    };
    let exprs: Vec<&Expr> = args
        .iter()
        .map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Ok(e),
            _ => Err(PlanError::Syntax(format!("the arguments of {usage}"))),
        })
        .collect::<Result<_>>()?;
    let intervals = if name == "hop" { 2 } else { 1 };
    if name == "session" && exprs.len() < 3 {
        return Err(PlanError::Syntax(format!(
            "SESSION takes at least 3 arguments: {usage}"
        )));
    }
    if name != "session" && exprs.len() != 2 + intervals && exprs.len() != 3 + intervals {
        return Err(PlanError::Syntax(format!(
            "{} takes {} or {} arguments: {usage}",
            name.to_uppercase(),
            2 + intervals,
            3 + intervals
        )));
    }
    let relation = match exprs[0] {
        Expr::Identifier(ident) => ast::ObjectName::from(vec![ident.clone()]),
        Expr::CompoundIdentifier(parts) => ast::ObjectName::from(parts.clone()),
        other => {
            return Err(PlanError::Syntax(format!(
                "the first argument of {usage} must name a table or view, not {other}"
            )));
        }
    };
    let (rel, mut names, mut types, table_name) = query::resolve_catalog_relation(scx, &relation)?;
    let column_index = |e: &Expr, which: &str| -> Result<usize> {
        let Expr::Identifier(column) = e else {
            return Err(PlanError::Syntax(format!(
                "the {which} argument of {usage} must be a column name"
            )));
        };
        let column_name = super::expr::normalize_ident(column);
        names
            .iter()
            .position(|n| *n == column_name)
            .ok_or(PlanError::UnknownColumn(column_name))
    };
    let time_column = column_index(exprs[1], "second")?;
    let time_type = types[time_column].scalar_type.clone();
    if !matches!(time_type, ScalarType::Timestamp | ScalarType::TimestampTz) {
        return Err(PlanError::DatatypeMismatch(format!(
            "the time column of {} must be a timestamp or timestamptz, not {}",
            name.to_uppercase(),
            time_type.sql_name()
        )));
    }
    if name == "session" {
        let gap = positive(fixed_interval_micros(scx, exprs[2], usage)?, "gap", usage)?;
        let keys: Vec<usize> = exprs[3..]
            .iter()
            .map(|e| column_index(e, "key"))
            .collect::<Result<_>>()?;
        let expr = session(rel, &types, time_column, &keys, gap, time_type.clone());
        types.push(ColumnType::new(time_type.clone(), true));
        types.push(ColumnType::new(time_type, true));
        names.push("window_start".into());
        names.push("window_end".into());
        return Ok((expr, names, types, table_name));
    }
    let micros: Vec<i64> = exprs[2..]
        .iter()
        .map(|e| fixed_interval_micros(scx, e, usage))
        .collect::<Result<_>>()?;
    let offset = micros.get(intervals).copied().unwrap_or(0);
    let origin = time_literal(offset, &time_type)?;
    let arity = names.len();
    let expr = if name == "tumble" {
        let size = positive(micros[0], "size", usage)?;
        let window_start = ScalarExpr::call(
            Func::Named(NamedFunc::DateBin),
            vec![
                interval_literal(size),
                ScalarExpr::Column(time_column),
                origin,
            ],
        );
        let window_end = ScalarExpr::call(
            Func::Add,
            vec![ScalarExpr::Column(arity), interval_literal(size)],
        );
        types.push(ColumnType::new(
            time_type.clone(),
            types[time_column].nullable,
        ));
        types.push(ColumnType::new(
            time_type.clone(),
            types[time_column].nullable,
        ));
        rel.map(vec![window_start, window_end])
    } else {
        let slide = positive(micros[0], "slide", usage)?;
        let size = positive(micros[1], "size", usage)?;
        if size / slide > MAX_HOP_WINDOWS_PER_ROW {
            return Err(PlanError::InvalidParameter(format!(
                "HOP with a size {} times its slide puts each row in too many windows (at most {MAX_HOP_WINDOWS_PER_ROW})",
                size / slide
            )));
        }
        types.push(ColumnType::new(time_type.clone(), false));
        types.push(ColumnType::new(time_type.clone(), false));
        RelationExpr::FlatMap {
            input: Box::new(rel),
            func: TableFunc::HopWindows {
                slide_micros: slide,
                size_micros: size,
                offset_micros: offset,
                time_type,
            },
            exprs: vec![ScalarExpr::Column(time_column)],
        }
    };
    names.push("window_start".into());
    names.push("window_end".into());
    Ok((expr, names, types, table_name))
}

/// `SESSION`: each key's rows, as records `[time, row...]` sorted by time, become sessions
/// (`TableFunc::SessionWindows`); the result is `row ++ [window_start, window_end]`.
fn session(
    rel: RelationExpr,
    types: &[ColumnType],
    time_column: usize,
    keys: &[usize],
    gap: i64,
    time_type: ScalarType,
) -> RelationExpr {
    use crate::expr::{AggregateExpr, AggregateFunc};
    let n = types.len();
    let mut record = vec![ScalarExpr::Column(time_column)];
    record.extend((0..n).map(ScalarExpr::Column));
    let reduced = RelationExpr::Reduce {
        input: Box::new(rel),
        group_key: keys.iter().map(|k| ScalarExpr::Column(*k)).collect(),
        aggregates: vec![AggregateExpr {
            // Ascending, NULL times last.
            func: AggregateFunc::WindowPartition {
                order: vec![(false, true)],
            },
            expr: ScalarExpr::call(Func::MakeRecord, record),
            distinct: false,
        }],
    };
    let k = keys.len();
    RelationExpr::FlatMap {
        input: Box::new(reduced),
        func: TableFunc::SessionWindows {
            gap_micros: gap,
            row_types: types.to_vec(),
            time_type,
        },
        exprs: vec![ScalarExpr::Column(k)],
    }
    .project((k + 1..k + 1 + n + 2).collect())
}

fn positive(micros: i64, what: &str, usage: &str) -> Result<i64> {
    if micros <= 0 {
        return Err(PlanError::InvalidParameter(format!(
            "the window {what} of {usage} must be greater than zero"
        )));
    }
    Ok(micros)
}

/// A constant interval argument without months, in microseconds.
fn fixed_interval_micros(scx: &StatementContext, e: &Expr, usage: &str) -> Result<i64> {
    match super::expr::eval_constant(scx, e, &ScalarType::Interval, "window size") {
        Ok(Datum::Interval(Interval {
            months: 0,
            days,
            micros,
        })) => Ok(days as i64 * Interval::MICROS_PER_DAY + micros),
        _ => Err(PlanError::InvalidParameter(format!(
            "the window sizes of {usage} must be constant intervals without months or years"
        ))),
    }
}

fn interval_literal(micros: i64) -> ScalarExpr {
    ScalarExpr::literal(
        Datum::Interval(Interval {
            months: 0,
            days: 0,
            micros,
        }),
        ScalarType::Interval,
    )
}

/// The epoch plus `micros`, as a literal of the time column's type.
fn time_literal(micros: i64, typ: &ScalarType) -> Result<ScalarExpr> {
    let at = chrono::DateTime::from_timestamp_micros(micros)
        .ok_or_else(|| PlanError::InvalidParameter("window offset out of range".into()))?;
    Ok(match typ {
        ScalarType::Timestamp => ScalarExpr::literal(Datum::Timestamp(at.naive_utc()), typ.clone()),
        _ => ScalarExpr::literal(Datum::TimestampTz(at), ScalarType::TimestampTz),
    })
}
