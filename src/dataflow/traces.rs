//! The trace manager: every published arrangement (tables, materialized views, indexes),
//! by id, with its error arrangement and what it is arranged by.

use crate::expr::{EvalError, ScalarExpr};
use crate::repr::{Diff, GlobalId, Row, Timestamp};
use differential_dataflow::operators::arrange::TraceAgent;
use differential_dataflow::trace::implementations::{KeySpine, ValSpine};
use std::collections::BTreeMap;

/// Rows arranged `key => val`: for a whole-row arrangement `row => []`, for an index
/// `key(row) => row`.
pub type RowSpine = ValSpine<Row, Row, Timestamp, Diff>;
pub type ErrSpine = KeySpine<EvalError, Timestamp, Diff>;
pub type RowTrace = TraceAgent<RowSpine>;
pub type ErrTrace = TraceAgent<ErrSpine>;

pub struct TraceBundle {
    pub oks: RowTrace,
    pub errs: ErrTrace,
    /// The key expressions; empty for a whole-row arrangement.
    pub key: Vec<ScalarExpr>,
    /// The collection an index arranges (for reusing it in joins), if it is a plain `Get`.
    pub source: Option<GlobalId>,
    /// A table's own arrangement: its rows may be of another width than a reader was
    /// planned with, and are fitted to it (`Row::fitted`) when imported.
    pub is_table: bool,
}

impl TraceBundle {
    /// Whether rows are the values (an index) rather than the keys.
    pub fn rows_are_values(&self) -> bool {
        !self.key.is_empty()
    }
}

#[derive(Default)]
pub struct TraceManager {
    pub traces: BTreeMap<GlobalId, TraceBundle>,
}

impl TraceManager {
    pub fn get_mut(&mut self, id: &GlobalId) -> Option<&mut TraceBundle> {
        self.traces.get_mut(id)
    }

    /// An index on `source` arranged by exactly `key`, if one is published.
    pub fn index_on(&self, source: GlobalId, key: &[ScalarExpr]) -> Option<GlobalId> {
        self.traces
            .iter()
            .find(|(_, b)| b.source == Some(source) && !b.key.is_empty() && b.key == key)
            .map(|(id, _)| *id)
    }
}
