//! Volatile scalars (`gen_random_uuid()`): two evaluations on the same row may differ, so a
//! row of multiplicity `m` must be evaluated `m` times, once per copy, as PostgreSQL
//! evaluates it once per row. Updates must be consolidated first: a `+1` and a `-1` of one
//! row that meet only later would otherwise get different values and never cancel.

use crate::repr::{Diff, Row};

/// A consolidated update `(row, m)` as `m` updates `(row, 1)` (or `-m` updates
/// `(row, -1)`).
pub fn copies(row: Row, diff: Diff) -> impl Iterator<Item = (Row, Diff)> {
    let unit = diff.signum();
    std::iter::repeat_n(row, diff.unsigned_abs() as usize).map(move |row| (row, unit))
}
