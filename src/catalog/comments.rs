//! Comments (`COMMENT ON TABLE | VIEW | MATERIALIZED VIEW | INDEX | COLUMN`): a text kept
//! for an item, or for one of its columns, which `pg_description`, `obj_description` and
//! `col_description` show (and so psql's `\d+` and SQLAlchemy's reflection).
//!
//! Durable as catalog records of their own, beside the items' records: each comment's
//! record id is derived from what it describes (`record_id`), in a range no item id reaches,
//! so that setting a comment again overwrites its record and dropping an item deletes its
//! comments' records by id.
//!
//! Invariants: a comment describes an item that exists (dropping an item drops its
//! comments, in the same catalog transaction); its text is never empty (an empty comment,
//! as in PostgreSQL, removes it).

use crate::repr::GlobalId;
use serde::{Deserialize, Serialize};

/// Record ids from here on are comments; item ids stay far below.
pub const FIRST_COMMENT_RECORD: u64 = 1 << 62;

/// Bits of a comment's record id that hold its column (`0` for the item itself).
const COLUMN_BITS: u32 = 16;

/// What a comment describes: an item, or its column at 0-based position `column`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CommentTarget {
    pub item: GlobalId,
    pub column: Option<usize>,
}

/// A comment as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentRecord {
    pub target: CommentTarget,
    pub text: String,
}

impl CommentTarget {
    /// The id of the record that holds this target's comment; `None` for targets that
    /// cannot have one (not a stored item, or a column number too large to encode).
    pub fn record_id(&self) -> Option<u64> {
        let GlobalId::User(n) = self.item else {
            return None;
        };
        let column = match self.column {
            None => 0,
            Some(c) => u64::try_from(c).ok()?.checked_add(1)?,
        };
        if column >= 1 << COLUMN_BITS || n >= FIRST_COMMENT_RECORD >> COLUMN_BITS {
            return None;
        }
        Some(FIRST_COMMENT_RECORD | (n << COLUMN_BITS) | column)
    }

    /// PostgreSQL's `objsubid`: 0 for the item, else the 1-based column number.
    pub fn objsubid(&self) -> i32 {
        self.column.map_or(0, |c| c as i32 + 1)
    }
}

/// Whether catalog record `id` is a comment's (rather than an item's).
pub fn is_comment_record(id: u64) -> bool {
    id >= FIRST_COMMENT_RECORD
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_ids_are_distinct_per_target_and_outside_item_ids() {
        let table = |n, column| CommentTarget {
            item: GlobalId::User(n),
            column,
        };
        let ids = [
            table(1, None).record_id(),
            table(1, Some(0)).record_id(),
            table(1, Some(1)).record_id(),
            table(2, None).record_id(),
        ];
        let mut distinct: Vec<u64> = ids.iter().map(|id| id.unwrap()).collect();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 4);
        assert!(distinct.iter().all(|id| is_comment_record(*id)));
        assert!(!is_comment_record(u64::from(u32::MAX)));
        assert_eq!(table(3, Some(70_000)).record_id(), None);
        assert_eq!(table(1, Some(2)).objsubid(), 3);
    }
}
