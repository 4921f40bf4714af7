//! Table functions: each input row produces zero or more output rows.

use super::temporal::{timestamp_like, timestamp_micros};
use crate::expr::EvalError;
use crate::repr::{ColumnType, Datum, Row, ScalarType};
use serde::{Deserialize, Serialize};

/// Bound on the rows one call may produce: a guard against `generate_series(1, 1e12)`
/// exhausting memory inside a dataflow.
const MAX_ROWS_PER_CALL: i64 = 100_000_000;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TableFunc {
    /// `generate_series(start, stop [, step])` over bigints: one column.
    GenerateSeriesInt64,
    /// Numbers the rows of a window partition (the `WindowPartition` aggregate's output):
    /// appends each row's columns (of types `row_types`) and its number.
    WindowNumbering {
        func: super::window::WindowFunc,
        order: Vec<super::window::WindowOrder>,
        row_types: Vec<ColumnType>,
    },
    /// `HOP` windows: for a time `t` (the one argument, of type `time_type`), one row
    /// `(window_start, window_end)` per window `[s, s + size)` containing `t`, where the
    /// starts are `offset + k * slide`. A NULL time is in no window.
    HopWindows {
        slide_micros: i64,
        size_micros: i64,
        offset_micros: i64,
        time_type: ScalarType,
    },
    /// Session windows over one key's rows (the `WindowPartition` aggregate's output, records
    /// `[time, row...]` sorted by time): a session is a maximal run of rows each less than
    /// `gap` after the previous one; each row is appended `(window_start, window_end)` = its
    /// session's first time and last time plus `gap`. A NULL time gets NULL bounds.
    SessionWindows {
        gap_micros: i64,
        row_types: Vec<ColumnType>,
        time_type: ScalarType,
    },
    /// A value per row of a window partition (the `WindowPartition` aggregate's output):
    /// appends each row's columns (of types `row_types`) and `func`'s value for it (of type
    /// `value_type`). See `window_value.rs`.
    WindowValues {
        func: Box<super::window_value::WindowValueFunc>,
        order: Vec<super::window::WindowOrder>,
        frame: super::window_value::WindowFrame,
        row_types: Vec<ColumnType>,
        value_type: ColumnType,
    },
    /// A set-returning function of one value (`unnest`, `jsonb_each`, ...): appends its
    /// columns, of types `output`, one row per value it returns.
    SetReturning {
        func: super::set_returning::SetFunc,
        output: Vec<ColumnType>,
    },
    /// Several table functions of one column each, in lockstep (set-returning functions in
    /// a SELECT list): the arguments are each function's arguments in turn (`funcs[i].1` of
    /// them); row `j` is every function's value `j`, NULL for one that returned fewer rows. As many rows as the
    /// longest; none when every function returns none.
    Zip {
        funcs: Vec<(TableFunc, usize)>,
        output: Vec<ColumnType>,
    },
    /// `WITH ORDINALITY`: the function's rows, each followed by its number (from 1, as a
    /// bigint) in the order the function returns them.
    WithOrdinality(Box<TableFunc>),
}

impl TableFunc {
    /// The types of the columns this function appends.
    pub fn output_type(&self, args: &[ColumnType]) -> Vec<ColumnType> {
        let _ = args;
        match self {
            TableFunc::GenerateSeriesInt64 => vec![ColumnType::new(ScalarType::Int64, false)],
            TableFunc::WindowNumbering { row_types, .. } => {
                let mut types = row_types.clone();
                types.push(ColumnType::new(ScalarType::Int64, false));
                types
            }
            TableFunc::SetReturning { output, .. } | TableFunc::Zip { output, .. } => {
                output.clone()
            }
            TableFunc::WithOrdinality(func) => {
                let mut types = func.output_type(args);
                types.push(ColumnType::new(ScalarType::Int64, false));
                types
            }
            TableFunc::WindowValues {
                row_types,
                value_type,
                ..
            } => {
                let mut types = row_types.clone();
                types.push(value_type.clone());
                types
            }
            TableFunc::HopWindows { time_type, .. } => {
                vec![ColumnType::new(time_type.clone(), false); 2]
            }
            TableFunc::SessionWindows {
                row_types,
                time_type,
                ..
            } => {
                let mut types = row_types.clone();
                types.extend([
                    ColumnType::new(time_type.clone(), true),
                    ColumnType::new(time_type.clone(), true),
                ]);
                types
            }
        }
    }

    /// The rows this function produces for one set of evaluated arguments.
    pub fn eval(&self, args: &[Datum]) -> Result<Vec<Row>, EvalError> {
        match self {
            TableFunc::HopWindows {
                slide_micros,
                size_micros,
                offset_micros,
                ..
            } => {
                let Some(time) = args.first() else {
                    return Ok(vec![]);
                };
                let Some(t) = timestamp_micros(time) else {
                    return Ok(vec![]);
                };
                let datum = |micros: i64| timestamp_like(micros, time);
                let latest =
                    offset_micros + (t - offset_micros).div_euclid(*slide_micros) * slide_micros;
                let mut rows = Vec::new();
                let mut start = latest;
                while start + size_micros > t {
                    rows.push(Row::new(vec![datum(start)?, datum(start + size_micros)?]));
                    start -= slide_micros;
                }
                rows.reverse();
                Ok(rows)
            }
            TableFunc::GenerateSeriesInt64 => {
                let int = |d: Option<&Datum>| match d {
                    Some(Datum::Int64(v)) => Ok(Some(*v)),
                    Some(Datum::Int32(v)) => Ok(Some(*v as i64)),
                    Some(Datum::Null) => Ok(None),
                    None => Ok(Some(1)),
                    Some(other) => Err(EvalError::Internal(format!(
                        "generate_series argument {other:?}"
                    ))),
                };
                let (Some(start), Some(stop), Some(step)) =
                    (int(args.first())?, int(args.get(1))?, int(args.get(2))?)
                else {
                    return Ok(vec![]);
                };
                if step == 0 {
                    return Err(EvalError::InvalidParameter {
                        message: "step size cannot equal zero".into(),
                    });
                }
                let count = if (step > 0 && stop < start) || (step < 0 && stop > start) {
                    0
                } else {
                    ((stop as i128 - start as i128) / step as i128 + 1) as i64
                };
                if count > MAX_ROWS_PER_CALL {
                    return Err(EvalError::InvalidParameter {
                        message: format!(
                            "generate_series would produce {count} rows (at most {MAX_ROWS_PER_CALL})"
                        ),
                    });
                }
                Ok((0..count)
                    .map(|i| Row::new(vec![Datum::Int64(start + i * step)]))
                    .collect())
            }
            TableFunc::SessionWindows { gap_micros, .. } => {
                let partition = args
                    .first()
                    .ok_or_else(|| EvalError::Internal("session windows without input".into()))?;
                session_windows(partition, *gap_micros)
            }
            TableFunc::SetReturning { func, .. } => func.eval(args),
            TableFunc::Zip { funcs, .. } => zip(funcs, args),
            TableFunc::WithOrdinality(func) => Ok(func
                .eval(args)?
                .into_iter()
                .zip(1i64..)
                .map(|(row, n)| row.iter().cloned().chain([Datum::Int64(n)]).collect())
                .collect()),
            TableFunc::WindowValues {
                func, order, frame, ..
            } => {
                let partition = args
                    .first()
                    .ok_or_else(|| EvalError::Internal("window values without input".into()))?;
                super::window_value::evaluate_partition(func, partition, order, frame)
            }
            TableFunc::WindowNumbering { func, order, .. } => {
                let partition = args
                    .first()
                    .ok_or_else(|| EvalError::Internal("window numbering without input".into()))?;
                super::window::number_partition(*func, partition, order)
            }
        }
    }
}

/// `TableFunc::Zip`: each function over its arguments, row by row.
fn zip(funcs: &[(TableFunc, usize)], args: &[Datum]) -> Result<Vec<Row>, EvalError> {
    let mut results = Vec::with_capacity(funcs.len());
    let mut rest = args;
    for (func, count) in funcs {
        let (own, others) = rest.split_at((*count).min(rest.len()));
        rest = others;
        results.push(func.eval(own)?);
    }
    let rows = results.iter().map(Vec::len).max().unwrap_or(0);
    Ok((0..rows)
        .map(|j| {
            results
                .iter()
                .map(|produced| produced.get(j).map_or(Datum::Null, |row| row[0].clone()))
                .collect()
        })
        .collect())
}

/// `TableFunc::SessionWindows` for one sorted partition.
fn session_windows(partition: &Datum, gap: i64) -> Result<Vec<Row>, EvalError> {
    let Datum::Array(records) = partition else {
        return Err(EvalError::Internal(
            "session partition is not an array".into(),
        ));
    };
    let mut fields_of = Vec::with_capacity(records.len());
    for record in records {
        let Datum::Array(fields) = record else {
            return Err(EvalError::Internal("session record is not an array".into()));
        };
        fields_of.push(fields.as_slice());
    }
    // Split into sessions (records are sorted by time, NULL times last).
    let mut out = Vec::with_capacity(records.len());
    let mut i = 0;
    while i < fields_of.len() {
        let Some(first) = timestamp_micros(&fields_of[i][0]) else {
            for fields in &fields_of[i..] {
                let mut row = fields[1..].to_vec();
                row.extend([Datum::Null, Datum::Null]);
                out.push(Row::new(row));
            }
            break;
        };
        let mut last = first;
        let mut j = i + 1;
        while j < fields_of.len() {
            match timestamp_micros(&fields_of[j][0]) {
                Some(t) if t - last < gap => {
                    last = t;
                    j += 1;
                }
                _ => break,
            }
        }
        let like = &fields_of[i][0];
        let (start, end) = (
            timestamp_like(first, like)?,
            timestamp_like(last + gap, like)?,
        );
        for fields in &fields_of[i..j] {
            let mut row = fields[1..].to_vec();
            row.extend([start.clone(), end.clone()]);
            out.push(Row::new(row));
        }
        i = j;
    }
    Ok(out)
}
