//! Sequence positions: which value each sequence hands out next, made durable in blocks.
//!
//! A sequence's definition is a catalog item (`CatalogItem::Sequence`); its position lives
//! here. Before a value is handed out (to `nextval`, or to a `serial` / identity column of a
//! written row), the position up to which values may have been handed out is durable in a
//! catalog record of the sequence's own (`record_id`). It is reserved `RESERVE` values at a
//! time, so most calls write nothing. After a restart a sequence continues after its last
//! reservation: values can be skipped (as in PostgreSQL after a crash), never repeated.
//!
//! As in PostgreSQL, sequences are not transactional: a value handed out inside a block that
//! rolls back is not handed out again.
//!
//! Invariants: every value handed out lies between `start` (or the cycle's restart) and the
//! durable `reserved` position; `next` is the value the next call hands out, unless it
//! lies past the bound.

use super::coordinator::Coordinator;
use super::error::{AdapterError, Result};
use crate::catalog::{CatalogItem, SequenceSpec};
use crate::repr::{Datum, GlobalId, Row, ScalarType};
use crate::sql::plan::sequences::{Generated, SequenceCall, SequenceFunction};
use crate::storage::CatalogOp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Values reserved per durable write. Larger means fewer catalog writes, more values
/// skipped after a restart.
const RESERVE: i64 = 1_000;

/// Record ids from here on (below the comments' range) hold sequence positions.
const FIRST_POSITION_RECORD: u64 = 1 << 61;

/// A sequence's durable position.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PositionRecord {
    pub sequence: GlobalId,
    /// Values up to here (in the sequence's direction) may have been handed out; `None`:
    /// none was.
    pub reserved: Option<i64>,
}

/// The id of the record holding `sequence`'s position.
pub fn record_id(sequence: GlobalId) -> Option<u64> {
    match sequence {
        GlobalId::User(n) if n < FIRST_POSITION_RECORD => Some(FIRST_POSITION_RECORD | n),
        _ => None,
    }
}

/// Whether catalog record `id` holds a sequence position.
pub fn is_position_record(id: u64) -> bool {
    (FIRST_POSITION_RECORD..crate::catalog::comments::FIRST_COMMENT_RECORD).contains(&id)
}

/// Where one sequence is.
#[derive(Clone, Debug, Default)]
pub struct Position {
    /// The last value handed out, if any since the last `setval(..., false)`.
    last: Option<i64>,
    /// Durable: values up to here may have been handed out.
    reserved: Option<i64>,
}

/// Every sequence's position, and each session's last values (`currval`, `lastval`).
#[derive(Default)]
pub struct Sequences {
    positions: BTreeMap<GlobalId, Position>,
    /// Per connection: the last value `nextval` gave it per sequence, and which sequence
    /// it called last.
    sessions: BTreeMap<u32, (BTreeMap<GlobalId, i64>, Option<GlobalId>)>,
}

impl Sequences {
    /// A sequence back from storage, continuing after its reservation.
    pub fn restore(&mut self, record: PositionRecord) {
        self.positions.insert(
            record.sequence,
            Position {
                last: record.reserved,
                reserved: record.reserved,
            },
        );
    }

    pub fn forget(&mut self, sequence: GlobalId) {
        self.positions.remove(&sequence);
    }

    pub fn disconnect(&mut self, conn_id: u32) {
        self.sessions.remove(&conn_id);
    }

    /// `currval(sequence)` for `conn_id`.
    pub fn currval(&self, conn_id: u32, sequence: GlobalId) -> Option<i64> {
        self.sessions.get(&conn_id)?.0.get(&sequence).copied()
    }

    /// `lastval()` for `conn_id`.
    pub fn lastval(&self, conn_id: u32) -> Option<i64> {
        let (values, last) = self.sessions.get(&conn_id)?;
        values.get(&(*last)?).copied()
    }

    fn remember(&mut self, conn_id: u32, sequence: GlobalId, value: i64) {
        let session = self.sessions.entry(conn_id).or_default();
        session.0.insert(sequence, value);
        session.1 = Some(sequence);
    }
}

/// The value after `last` in `spec`'s order (the first, `start`, when there is no last),
/// wrapping around for a cycling sequence; an error past the bound otherwise.
fn following(spec: &SequenceSpec, name: &str, last: Option<i64>) -> Result<i64> {
    let Some(last) = last else {
        return Ok(spec.start);
    };
    let next = last
        .checked_add(spec.increment)
        .filter(|v| (spec.min..=spec.max).contains(v));
    match next {
        Some(v) => Ok(v),
        None if spec.cycle => Ok(if spec.increment > 0 {
            spec.min
        } else {
            spec.max
        }),
        None => Err(AdapterError::SequenceLimit(format!(
            "nextval: reached {} value of sequence \"{name}\" ({})",
            if spec.increment > 0 {
                "maximum"
            } else {
                "minimum"
            },
            if spec.increment > 0 {
                spec.max
            } else {
                spec.min
            },
        ))),
    }
}

/// Whether `value` lies beyond `reserved` in the sequence's direction (or a wrap went back
/// behind it, which needs a reservation of its own).
fn needs_reservation(
    spec: &SequenceSpec,
    value: i64,
    last: Option<i64>,
    reserved: Option<i64>,
) -> bool {
    let Some(reserved) = reserved else {
        return true;
    };
    let wrapped = last.is_some_and(|last| {
        if spec.increment > 0 {
            value < last
        } else {
            value > last
        }
    });
    wrapped
        || if spec.increment > 0 {
            value > reserved
        } else {
            value < reserved
        }
}

impl Coordinator {
    fn sequence_spec(&self, sequence: GlobalId) -> Result<(SequenceSpec, String)> {
        match self.catalog.get(sequence) {
            Some(entry) => match &entry.item {
                CatalogItem::Sequence(spec) => Ok((spec.clone(), entry.name.clone())),
                _ => Err(AdapterError::Internal(format!(
                    "\"{}\" is not a sequence",
                    entry.name
                ))),
            },
            None => Err(AdapterError::Internal(format!(
                "sequence {sequence} was dropped"
            ))),
        }
    }

    /// Hands out the next `count` values of `sequence` (for `conn_id`), durable first.
    pub(super) async fn next_values(
        &mut self,
        conn_id: u32,
        sequence: GlobalId,
        count: usize,
    ) -> Result<Vec<i64>> {
        let (spec, name) = self.sequence_spec(sequence)?;
        let mut position = self
            .sequences
            .positions
            .get(&sequence)
            .cloned()
            .unwrap_or_default();
        let mut values = Vec::with_capacity(count);
        let mut reserve_to = position.reserved;
        let mut last = position.last;
        for _ in 0..count {
            let value = following(&spec, &name, last)?;
            if needs_reservation(&spec, value, last, reserve_to) {
                // Up to RESERVE values on from here, within the bound.
                let ahead = spec.increment.saturating_mul(RESERVE - 1);
                let end = value.saturating_add(ahead).clamp(spec.min, spec.max);
                reserve_to = Some(end);
            }
            values.push(value);
            last = Some(value);
        }
        if reserve_to != position.reserved {
            self.persist_position(sequence, reserve_to).await?;
            position.reserved = reserve_to;
        }
        position.last = last;
        self.sequences.positions.insert(sequence, position);
        if let Some(value) = values.last() {
            self.sequences.remember(conn_id, sequence, *value);
        }
        Ok(values)
    }

    /// `setval(sequence, value, is_called)`: the next value is the one after `value`
    /// (`is_called`) or `value` itself.
    pub(super) async fn set_position(
        &mut self,
        conn_id: u32,
        sequence: GlobalId,
        value: i64,
        is_called: bool,
    ) -> Result<()> {
        let (spec, name) = self.sequence_spec(sequence)?;
        if !(spec.min..=spec.max).contains(&value) {
            return Err(AdapterError::SequenceValueOutOfBounds(format!(
                "setval: value {value} is out of bounds for sequence \"{name}\" ({}..{})",
                spec.min, spec.max
            )));
        }
        // The last value "handed out" is `value`, or the one before it.
        let last = if is_called {
            Some(value)
        } else {
            value
                .checked_sub(spec.increment)
                .filter(|v| (spec.min..=spec.max).contains(v))
        };
        self.persist_position(sequence, last).await?;
        self.sequences.positions.insert(
            sequence,
            Position {
                last,
                reserved: last,
            },
        );
        if is_called {
            self.sequences.remember(conn_id, sequence, value);
        }
        Ok(())
    }

    async fn persist_position(&mut self, sequence: GlobalId, reserved: Option<i64>) -> Result<()> {
        let id = record_id(sequence).ok_or_else(|| {
            AdapterError::Internal(format!("{sequence} cannot be a stored sequence"))
        })?;
        let record = postcard::to_allocvec(&PositionRecord { sequence, reserved })
            .map_err(|e| AdapterError::Internal(format!("encoding a sequence position: {e}")))?;
        self.persist_catalog(vec![CatalogOp::Put { id, record }])
            .await
    }

    /// Runs `SELECT nextval(...)` or another sequence function: its one-value row.
    pub(super) async fn sequence_function(
        &mut self,
        session: &super::SessionInfo,
        call: &SequenceCall,
    ) -> Result<Row> {
        let conn_id = session.conn_id;
        let value = match &call.function {
            SequenceFunction::Nextval(None)
            | SequenceFunction::Currval(None)
            | SequenceFunction::Setval { sequence: None, .. }
            | SequenceFunction::Setval { value: None, .. } => None,
            SequenceFunction::Nextval(Some(sequence)) => {
                self.next_values(conn_id, *sequence, 1).await?.pop()
            }
            SequenceFunction::Currval(Some(sequence)) => {
                let value = self.sequences.currval(conn_id, *sequence);
                if value.is_none() {
                    let (_, name) = self.sequence_spec(*sequence)?;
                    return Err(AdapterError::ObjectNotInPrerequisiteState(format!(
                        "currval of sequence \"{name}\" is not yet defined in this session"
                    )));
                }
                value
            }
            SequenceFunction::Lastval => {
                let value = self.sequences.lastval(conn_id);
                if value.is_none() {
                    return Err(AdapterError::ObjectNotInPrerequisiteState(
                        "lastval is not yet defined in this session".into(),
                    ));
                }
                value
            }
            SequenceFunction::Setval {
                sequence: Some(sequence),
                value: Some(value),
                is_called,
            } => {
                self.set_position(conn_id, *sequence, *value, *is_called)
                    .await?;
                Some(*value)
            }
        };
        Ok(Row::new(vec![value.map_or(Datum::Null, Datum::Int64)]))
    }

    /// Fills the generated columns of rows an INSERT or COPY is about to write: each row
    /// (each copy of a row written more than once) takes the next value of each column's
    /// sequence, converted to the column's type.
    pub(super) async fn fill_generated(
        &mut self,
        conn_id: u32,
        table: GlobalId,
        generated: &Generated,
        rows: Vec<(Row, crate::repr::Diff)>,
    ) -> Result<Vec<(Row, crate::repr::Diff)>> {
        if generated.columns.is_empty() {
            return Ok(rows);
        }
        let types = match self.catalog.get(table).map(|e| &e.item) {
            Some(CatalogItem::Table { desc, .. }) => desc.types.clone(),
            _ => {
                return Err(AdapterError::Internal(format!(
                    "table {table} was dropped during the write"
                )));
            }
        };
        let mut single: Vec<Row> = Vec::new();
        for (row, diff) in rows {
            if diff <= 0 {
                return Err(AdapterError::Internal(format!(
                    "an insert read a row with multiplicity {diff}"
                )));
            }
            for _ in 0..diff {
                single.push(row.clone());
            }
        }
        if generated.ordered {
            // Each row ends with its position among the VALUES rows: fill in that order.
            let position = |row: &Row| match row.last() {
                Some(Datum::Int64(p)) => *p,
                Some(Datum::Int32(p)) => i64::from(*p),
                _ => i64::MAX,
            };
            single.sort_by_key(position);
            for row in single.iter_mut() {
                let mut datums = row.to_vec();
                datums.pop();
                *row = Row::new(datums);
            }
        }
        for (column, sequence) in &generated.columns {
            let values = self.next_values(conn_id, *sequence, single.len()).await?;
            let typ = &types[*column].scalar_type;
            for (row, value) in single.iter_mut().zip(values) {
                let datum = match typ {
                    ScalarType::Int16 => i16::try_from(value).map(Datum::Int16).ok(),
                    ScalarType::Int32 => i32::try_from(value).map(Datum::Int32).ok(),
                    ScalarType::Int64 => Some(Datum::Int64(value)),
                    // A column of another type (numeric, text) whose default is nextval().
                    other => crate::expr::func::cast::cast(&Datum::Int64(value), other).ok(),
                };
                let datum = datum.ok_or_else(|| {
                    AdapterError::SequenceValueOutOfBounds(format!(
                        "value {value} is out of range for type {}",
                        typ.sql_name()
                    ))
                })?;
                let mut datums = row.to_vec();
                datums[*column] = datum;
                *row = Row::new(datums);
            }
        }
        Ok(single.into_iter().map(|row| (row, 1)).collect())
    }

    /// The catalog record a new sequence starts with: nothing handed out.
    pub(super) fn initial_position(sequence: GlobalId) -> Result<CatalogOp> {
        let id = record_id(sequence).ok_or_else(|| {
            AdapterError::Internal(format!("{sequence} cannot be a stored sequence"))
        })?;
        let record = postcard::to_allocvec(&PositionRecord {
            sequence,
            reserved: None,
        })
        .map_err(|e| AdapterError::Internal(format!("encoding a sequence position: {e}")))?;
        Ok(CatalogOp::Put { id, record })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repr::ScalarType;

    fn spec(start: i64, increment: i64, min: i64, max: i64, cycle: bool) -> SequenceSpec {
        SequenceSpec {
            typ: ScalarType::Int64,
            start,
            increment,
            min,
            max,
            cycle,
            owned_by: None,
            identity: None,
        }
    }

    #[test]
    fn values_follow_start_and_increment_and_stop_or_wrap_at_the_bound() {
        let up = spec(1, 2, 1, 5, false);
        assert_eq!(following(&up, "s", None).unwrap(), 1);
        assert_eq!(following(&up, "s", Some(3)).unwrap(), 5);
        let err = following(&up, "s", Some(5)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "nextval: reached maximum value of sequence \"s\" (5)"
        );
        let down = spec(-1, -1, -3, -1, true);
        assert_eq!(following(&down, "s", Some(-3)).unwrap(), -1);
        let near_max = spec(i64::MAX - 1, 5, 1, i64::MAX, false);
        assert!(following(&near_max, "s", Some(i64::MAX - 1)).is_err());
    }

    #[test]
    fn a_reservation_is_needed_past_it_and_after_a_wrap() {
        let up = spec(1, 1, 1, 10, true);
        assert!(needs_reservation(&up, 1, None, None));
        assert!(!needs_reservation(&up, 5, Some(4), Some(8)));
        assert!(needs_reservation(&up, 9, Some(8), Some(8)));
        assert!(needs_reservation(&up, 1, Some(10), Some(10)), "wrapped");
        let down = spec(-1, -1, -10, -1, false);
        assert!(!needs_reservation(&down, -3, Some(-2), Some(-5)));
        assert!(needs_reservation(&down, -6, Some(-5), Some(-5)));
    }

    #[test]
    fn position_records_lie_between_item_and_comment_records() {
        let id = record_id(GlobalId::User(7)).unwrap();
        assert!(is_position_record(id));
        assert!(!crate::catalog::comments::is_comment_record(id));
        assert!(!is_position_record(7));
    }
}
