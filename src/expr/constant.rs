//! Evaluating relations that read no collections (VALUES lists, `SELECT 1 + 1`) directly,
//! without building a dataflow.

use super::{EvalError, Id, RelationExpr, ScalarExpr};
use crate::repr::{Diff, Row};
use std::collections::BTreeMap;

/// The consolidated rows of `expr` if it reads no collection and uses only operators that
/// are cheap to evaluate here; `None` otherwise (render it as a dataflow instead).
pub fn eval_constant(expr: &RelationExpr) -> Option<Result<Vec<(Row, Diff)>, EvalError>> {
    let mut lets = BTreeMap::new();
    eval(expr, &mut lets).map(|r| r.map(consolidate))
}

fn consolidate(rows: Vec<(Row, Diff)>) -> Vec<(Row, Diff)> {
    let mut map: BTreeMap<Row, Diff> = BTreeMap::new();
    for (row, diff) in rows {
        *map.entry(row).or_insert(0) += diff;
    }
    map.into_iter().filter(|(_, d)| *d != 0).collect()
}

type Rows = Result<Vec<(Row, Diff)>, EvalError>;

fn eval(
    expr: &RelationExpr,
    lets: &mut BTreeMap<super::LocalId, Vec<(Row, Diff)>>,
) -> Option<Rows> {
    Some(match expr {
        RelationExpr::Constant { rows, .. } => rows.clone(),
        RelationExpr::Get {
            id: Id::Local(id), ..
        } => Ok(lets.get(id)?.clone()),
        RelationExpr::Get { .. } => return None,
        RelationExpr::Let { id, value, body } => {
            let value = match eval(value, lets)? {
                Ok(v) => v,
                Err(e) => return Some(Err(e)),
            };
            lets.insert(*id, value);
            eval(body, lets)?
        }
        RelationExpr::Map { input, scalars } => eval(input, lets)?.and_then(|rows| {
            // A volatile scalar gives each copy of a row its own value.
            let volatile = scalars.iter().any(ScalarExpr::is_volatile);
            let rows = if volatile {
                consolidate(rows)
                    .into_iter()
                    .flat_map(|(row, diff)| super::volatile::copies(row, diff))
                    .collect()
            } else {
                rows
            };
            rows.into_iter()
                .map(|(row, diff)| {
                    let mut datums = row.into_datums();
                    for scalar in scalars {
                        let datum = scalar.eval(&datums)?;
                        datums.push(datum);
                    }
                    Ok((Row::new(datums), diff))
                })
                .collect()
        }),
        // A temporal filter depends on the time of reading: not a constant.
        RelationExpr::Filter { predicates, .. }
            if predicates.iter().any(ScalarExpr::contains_mz_now) =>
        {
            return None;
        }
        RelationExpr::Filter { input, predicates } => eval(input, lets)?.and_then(|rows| {
            let mut out = Vec::with_capacity(rows.len());
            for (row, diff) in rows {
                if ScalarExpr::all_true(predicates, &row)? {
                    out.push((row, diff));
                }
            }
            Ok(out)
        }),
        RelationExpr::Project { input, outputs } => eval(input, lets)?.map(|rows| {
            rows.into_iter()
                .map(|(row, diff)| (row.project(outputs), diff))
                .collect()
        }),
        RelationExpr::Negate { input } => eval(input, lets)?
            .map(|rows| rows.into_iter().map(|(row, diff)| (row, -diff)).collect()),
        RelationExpr::Union { base, inputs } => {
            let mut all = match eval(base, lets)? {
                Ok(rows) => rows,
                Err(e) => return Some(Err(e)),
            };
            for input in inputs {
                match eval(input, lets)? {
                    Ok(rows) => all.extend(rows),
                    Err(e) => return Some(Err(e)),
                }
            }
            Ok(all)
        }
        _ => return None,
    })
}
