//! One snapshot per READ ONLY transaction block: every read of a `BEGIN READ ONLY` block
//! happens at the timestamp its first read chose, so the block sees the tables, views and
//! materialized views it reads as of one instant, however many statements it takes. A read
//! hold at that timestamp (one per block) keeps arrangements from compacting past it until
//! the block ends (or its connection does).
//!
//! A relation created after the block's timestamp has no state to read at it: reading one
//! fails (0A000) rather than mixing instants.
//!
//! Read-write blocks read at the latest timestamp, statement by statement: their UPDATEs
//! and DELETEs must see rows as they are when applied.

use super::SessionInfo;
use super::coordinator::Coordinator;
use super::error::Result;
use crate::expr::RelationExpr;
use crate::repr::{GlobalId, Timestamp};

/// A pinned snapshot: its timestamp, and the first item id created after it.
#[derive(Clone, Copy, Debug)]
pub struct Snapshot {
    pub ts: Timestamp,
    next_user_id: u64,
}

impl Coordinator {
    /// The timestamp `session`'s read of `expr` happens at: its READ ONLY block's snapshot
    /// (taken now, if this is the block's first read), else `None` (the latest).
    pub(super) fn snapshot_for(
        &mut self,
        session: &SessionInfo,
        expr: &RelationExpr,
    ) -> Result<Option<Timestamp>> {
        if !session.read_only_transaction {
            return Ok(None);
        }
        let snapshot = match self.snapshots.get(&session.conn_id) {
            Some(snapshot) => *snapshot,
            None => {
                let ts = self.oracle.read_ts();
                self.acquire_read_hold(ts);
                let snapshot = Snapshot {
                    ts,
                    next_user_id: self.next_user_id,
                };
                self.snapshots.insert(session.conn_id, snapshot);
                snapshot
            }
        };
        for id in expr.global_ids() {
            if let GlobalId::User(n) = id
                && n >= snapshot.next_user_id
            {
                let name = self
                    .catalog
                    .get(id)
                    .map_or_else(|| id.to_string(), |e| e.name.clone());
                return Err(crate::sql::PlanError::unsupported(format!(
                    "reading \"{name}\", created after this READ ONLY transaction's snapshot \
                     (start a new transaction)"
                ))
                .into());
            }
        }
        Ok(Some(snapshot.ts))
    }

    /// The transaction block of `conn_id` ended (or its connection did): its snapshot, if
    /// any, is released.
    pub(super) fn release_snapshot(&mut self, conn_id: u32) {
        if let Some(snapshot) = self.snapshots.remove(&conn_id) {
            self.release_read_hold(snapshot.ts);
        }
    }
}
