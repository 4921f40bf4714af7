//! Reading an arrangement at a timestamp (this worker's share of it).
//!
//! A peek at `t` is answered once the arrangement's upper is beyond `t` (every update at or
//! before `t` is in it) and its since is not beyond `t`. Errors are read first: any error
//! with a positive count at or before `t` is the answer. Otherwise each row's diffs at times
//! `<= t` are summed, the filter and projection applied, and non-zero rows returned.

use super::command::{Peek, PeekResponse};
use super::traces::TraceBundle;
use crate::expr::EvalError;
use crate::repr::{Datum, Diff, Row};
use differential_dataflow::trace::TraceReader;
use differential_dataflow::trace::cursor::{Cursor, cursor_list};
use timely::order::PartialOrder;
use timely::progress::Antichain;

/// Answers `peek` from `bundle` if it is ready; returns whether it was answered.
pub(super) fn try_answer(peek: &Peek, bundle: &mut TraceBundle) -> bool {
    let ts = peek.timestamp;
    let mut upper = Antichain::new();
    bundle.oks.read_upper(&mut upper);
    if upper.less_equal(&ts) {
        return false;
    }
    let mut err_upper = Antichain::new();
    bundle.errs.read_upper(&mut err_upper);
    if err_upper.less_equal(&ts) {
        return false;
    }
    let since = bundle.oks.get_logical_compaction().to_owned();
    if !since.less_equal(&ts) && !since.elements().is_empty() {
        let _ = peek
            .tx
            .send(PeekResponse::Error(EvalError::Internal(format!(
                "timestamp {ts} is no longer readable (compacted to {:?})",
                since.elements()
            ))));
        return true;
    }
    let response = match read_errors(bundle, ts, &err_upper) {
        Some(e) => PeekResponse::Error(e),
        None => match read_rows(peek, bundle, &upper) {
            Ok(rows) => PeekResponse::Rows(rows),
            Err(e) => PeekResponse::Error(e),
        },
    };
    let _ = peek.tx.send(response);
    true
}

fn read_errors(bundle: &mut TraceBundle, ts: u64, upper: &Antichain<u64>) -> Option<EvalError> {
    let batches = bundle.errs.batches_through(upper.borrow())?;
    let (mut cursor, storage) = cursor_list(batches);
    while let Some(err) = cursor.get_key(&storage) {
        let mut count: Diff = 0;
        while cursor.get_val(&storage).is_some() {
            cursor.map_times(&storage, |t, d| {
                if t.less_equal(&ts) {
                    count += *d;
                }
            });
            cursor.step_val(&storage);
        }
        if count > 0 {
            return Some(err.clone());
        }
        cursor.step_key(&storage);
    }
    None
}

fn read_rows(
    peek: &Peek,
    bundle: &mut TraceBundle,
    upper: &Antichain<u64>,
) -> Result<Vec<(Row, Diff)>, EvalError> {
    let rows_are_values = bundle.rows_are_values();
    let Some(batches) = bundle.oks.batches_through(upper.borrow()) else {
        return Err(EvalError::Internal(
            "arrangement batches unavailable".into(),
        ));
    };
    let (mut cursor, storage) = cursor_list(batches);
    let ts = peek.timestamp;
    let mut out = Vec::new();
    if let Some(key) = &peek.key {
        cursor.seek_key(&storage, key);
    }
    while let Some(key) = cursor.get_key(&storage) {
        if let Some(wanted) = &peek.key
            && key != wanted
        {
            break;
        }
        while let Some(val) = cursor.get_val(&storage) {
            let mut count: Diff = 0;
            cursor.map_times(&storage, |t, d| {
                if t.less_equal(&ts) {
                    count += *d;
                }
            });
            if count != 0 {
                let row = if rows_are_values { val } else { key };
                let fitted;
                let row = if row.len() == peek.arity {
                    row
                } else {
                    fitted = row.clone().fitted(peek.arity, &[]);
                    &fitted
                };
                if passes(&peek.filter, row)? {
                    let row = match &peek.project {
                        Some(columns) => row.project(columns),
                        None => row.clone(),
                    };
                    out.push((row, count));
                }
            }
            cursor.step_val(&storage);
        }
        cursor.step_key(&storage);
    }
    Ok(out)
}

fn passes(filter: &[crate::expr::ScalarExpr], row: &Row) -> Result<bool, EvalError> {
    for predicate in filter {
        if predicate.eval(row)? != Datum::Bool(true) {
            return Ok(false);
        }
    }
    Ok(true)
}
