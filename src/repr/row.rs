//! `Row`: the datums of one record, in column order.

use super::Datum;
use serde::{Deserialize, Serialize};
use std::ops::Deref;

/// The datums of one record. A newtype so that the physical layout can become packed
/// bytes later without touching callers that only index and iterate.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Row(Vec<Datum>);

impl Row {
    pub fn new(datums: Vec<Datum>) -> Row {
        Row(datums)
    }

    pub fn empty() -> Row {
        Row(Vec::new())
    }

    pub fn into_datums(self) -> Vec<Datum> {
        self.0
    }

    pub fn push(&mut self, datum: Datum) {
        self.0.push(datum)
    }

    /// Removes the last datum and returns it.
    pub fn pop(&mut self) -> Option<Datum> {
        self.0.pop()
    }

    /// This row followed by `other`'s datums.
    pub fn concat(&self, other: &Row) -> Row {
        let mut datums = Vec::with_capacity(self.0.len() + other.0.len());
        datums.extend_from_slice(&self.0);
        datums.extend_from_slice(&other.0);
        Row(datums)
    }

    /// This row with exactly `width` columns: its first `width`, or all of them followed by
    /// `fill[self.len()..width]` (NULL past the end of `fill`). A table's rows are fitted to
    /// the width a reader was planned with (`catalog::missing_values`).
    pub fn fitted(mut self, width: usize, fill: &[Datum]) -> Row {
        if self.0.len() > width {
            self.0.truncate(width);
        } else {
            for column in self.0.len()..width {
                self.0
                    .push(fill.get(column).cloned().unwrap_or(Datum::Null));
            }
        }
        self
    }

    /// The datums at `columns`, in that order.
    pub fn project(&self, columns: &[usize]) -> Row {
        Row(columns.iter().map(|c| self.0[*c].clone()).collect())
    }
}

impl Deref for Row {
    type Target = [Datum];
    fn deref(&self) -> &[Datum] {
        &self.0
    }
}

impl FromIterator<Datum> for Row {
    fn from_iter<I: IntoIterator<Item = Datum>>(iter: I) -> Row {
        Row(iter.into_iter().collect())
    }
}

impl From<Vec<Datum>> for Row {
    fn from(datums: Vec<Datum>) -> Row {
        Row(datums)
    }
}
