//! Volatile scalars (`gen_random_uuid()`): two evaluations on the same row may differ, so a
//! row of multiplicity `m` must be evaluated `m` times, once per copy, as PostgreSQL
//! evaluates it once per row. Updates must be consolidated first: a `+1` and a `-1` of one
//! row that meet only later would otherwise get different values and never cancel.

use crate::repr::{Diff, Row};

/// Consolidated updates `(row, m)` as `m` updates `(row, 1)` (or `-m` updates `(row, -1)`).
pub fn copies(rows: Vec<(Row, Diff)>) -> Vec<(Row, Diff)> {
    let mut out = Vec::with_capacity(rows.len());
    for (row, diff) in rows {
        let unit = diff.signum();
        for _ in 0..diff.unsigned_abs() {
            out.push((row.clone(), unit));
        }
    }
    out
}
