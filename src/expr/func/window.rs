//! Ranking window functions (`row_number`, `rank`, `dense_rank`) over one partition.
//!
//! A window is computed by a `Reduce` keyed by the partition with the `WindowPartition`
//! aggregate, which collects the partition's rows as records `[order keys..., row...]` sorted
//! by the order keys (ties broken by the whole record, so the numbering is deterministic),
//! followed by a `FlatMap` with `WindowNumbering`, which emits each row with its number.
//! A change to a partition recomputes that partition only.

use super::compare::compare_keys;
use crate::expr::EvalError;
use crate::repr::{Datum, Diff, Row};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum WindowFunc {
    RowNumber,
    Rank,
    DenseRank,
}

impl WindowFunc {
    pub fn from_name(name: &str) -> Option<WindowFunc> {
        match name {
            "row_number" => Some(WindowFunc::RowNumber),
            "rank" => Some(WindowFunc::Rank),
            "dense_rank" => Some(WindowFunc::DenseRank),
            _ => None,
        }
    }
}

/// One ORDER BY key of a window: `(descending, nulls_last)`.
pub type WindowOrder = (bool, bool);

/// The `WindowPartition` aggregate: the partition's records (each an array
/// `[order keys..., row...]`), one per unit of multiplicity, sorted.
pub fn sort_partition<'a>(
    inputs: impl Iterator<Item = (&'a Datum, Diff)>,
    order: &[WindowOrder],
) -> Result<Datum, EvalError> {
    let mut records: Vec<&[Datum]> = Vec::new();
    for (datum, diff) in inputs {
        let Datum::Array(fields) = datum else {
            return Err(EvalError::Internal("window record is not an array".into()));
        };
        if diff < 0 {
            return Err(EvalError::Internal(format!(
                "window input with multiplicity {diff}"
            )));
        }
        for _ in 0..diff {
            records.push(fields);
        }
    }
    records.sort_by(|a, b| compare_keys(a, b, order).then_with(|| a.cmp(b)));
    Ok(Datum::Array(
        records
            .into_iter()
            .map(|r| Datum::Array(r.to_vec()))
            .collect(),
    ))
}

/// The `WindowNumbering` table function: for a sorted partition, each row (the record
/// without its order keys) followed by its number.
pub fn number_partition(
    func: WindowFunc,
    partition: &Datum,
    order: &[WindowOrder],
) -> Result<Vec<Row>, EvalError> {
    let Datum::Array(records) = partition else {
        return Err(EvalError::Internal(
            "window partition is not an array".into(),
        ));
    };
    let keys = order.len();
    let mut out = Vec::with_capacity(records.len());
    let mut rank = 0i64;
    let mut dense = 0i64;
    let mut previous: Option<&[Datum]> = None;
    for (i, record) in records.iter().enumerate() {
        let Datum::Array(fields) = record else {
            return Err(EvalError::Internal("window record is not an array".into()));
        };
        let peer = previous
            .is_some_and(|p| compare_keys(&p[..keys], &fields[..keys], order) == Ordering::Equal);
        if !peer {
            rank = i as i64 + 1;
            dense += 1;
        }
        previous = Some(fields);
        let value = match func {
            WindowFunc::RowNumber => i as i64 + 1,
            WindowFunc::Rank => rank,
            WindowFunc::DenseRank => dense,
        };
        let mut row: Vec<Datum> = fields[keys..].to_vec();
        row.push(Datum::Int64(value));
        out.push(Row::new(row));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(key: i32, row: &str) -> Datum {
        Datum::Array(vec![Datum::Int32(key), Datum::String(row.into())])
    }

    #[test]
    fn ranks_number_peers_as_postgres_does() {
        let inputs = [
            record(2, "b"),
            record(1, "a"),
            record(2, "c"),
            record(3, "d"),
        ];
        let sorted = sort_partition(inputs.iter().map(|d| (d, 1)), &[(false, true)]).unwrap();
        let values = |f| {
            number_partition(f, &sorted, &[(false, true)])
                .unwrap()
                .into_iter()
                .map(|r| r[1].clone())
                .collect::<Vec<_>>()
        };
        let ints = |v: &[i64]| v.iter().map(|i| Datum::Int64(*i)).collect::<Vec<_>>();
        assert_eq!(values(WindowFunc::RowNumber), ints(&[1, 2, 3, 4]));
        assert_eq!(values(WindowFunc::Rank), ints(&[1, 2, 2, 4]));
        assert_eq!(values(WindowFunc::DenseRank), ints(&[1, 2, 2, 3]));
    }

    #[test]
    fn multiplicities_become_separate_rows() {
        let inputs = [record(1, "a")];
        let sorted = sort_partition(inputs.iter().map(|d| (d, 2)), &[(true, false)]).unwrap();
        assert_eq!(
            number_partition(WindowFunc::RowNumber, &sorted, &[(true, false)])
                .unwrap()
                .len(),
            2
        );
    }
}
