//! Missing values: for a table that gained columns with `ALTER TABLE ... ADD COLUMN`, the
//! value each added column has in rows stored before it existed (PostgreSQL's
//! `attmissingval`). Rows are rewritten to the new width when a column is added
//! (`coord/alter_table.rs`), but the catalog record says the table is wider before the
//! rewrite is durable; a restart in between fills the narrower stored rows with these.
//!
//! Durable as catalog records of their own, one per table, in a range no item id reaches
//! (as comments are), so that data directories from before this record existed still load.
//!
//! Invariants: a table's missing values cover every column it has (NULL for columns it was
//! created with); they are dropped with the table, in the same catalog transaction.

use crate::repr::{Datum, GlobalId};
use serde::{Deserialize, Serialize};

/// Record ids from here up to the sequences' positions are missing values.
const FIRST_MISSING_VALUES_RECORD: u64 = 1 << 60;
const LAST_MISSING_VALUES_RECORD: u64 = (1 << 61) - 1;

/// A table's missing values as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissingValuesRecord {
    pub table: GlobalId,
    /// One per column of the table, in column order.
    pub values: Vec<Datum>,
}

/// The id of the record holding `table`'s missing values; `None` for an id no record can
/// hold (not a stored item).
pub fn record_id(table: GlobalId) -> Option<u64> {
    match table {
        GlobalId::User(n) if n < FIRST_MISSING_VALUES_RECORD => {
            Some(FIRST_MISSING_VALUES_RECORD | n)
        }
        _ => None,
    }
}

/// Whether catalog record `id` holds missing values (rather than an item).
pub fn is_missing_values_record(id: u64) -> bool {
    (FIRST_MISSING_VALUES_RECORD..=LAST_MISSING_VALUES_RECORD).contains(&id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_ids_are_per_table_and_outside_item_ids_and_other_records() {
        let a = record_id(GlobalId::User(1)).expect("user item");
        let b = record_id(GlobalId::User(2)).expect("user item");
        assert_ne!(a, b);
        assert!(is_missing_values_record(a) && is_missing_values_record(b));
        assert!(!is_missing_values_record(1));
        assert!(!is_missing_values_record(1 << 61));
        assert!(!crate::catalog::comments::is_comment_record(a));
    }
}
