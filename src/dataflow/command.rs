//! The contract between the coordinator and the timely workers.
//!
//! Every worker receives every command, in the same order (the coordinator sends each
//! command to all workers before the next one). Workers never block on the coordinator:
//! replies go through the senders carried in the commands.
//!
//! Arrangements published in the trace manager all have the shape `key: Row => val: Row`:
//! - a table or materialized view is arranged by its whole row: `row => []`;
//! - an index is arranged by its key expressions: `key(row) => row`.
//!
//! Each also has an error arrangement of `EvalError`s (errors are data).

use crate::expr::{EvalError, RelationExpr, ScalarExpr};
use crate::repr::{Diff, GlobalId, Row, Timestamp};

/// Rows to add (diff > 0) or remove, per table.
pub type TableUpdates = Vec<(GlobalId, Vec<(Row, Diff)>)>;

#[derive(Clone)]
pub enum WorkerCommand {
    /// Creates an input for table `id` whose first readable time is `as_of`, arranges its
    /// rows by the whole row and publishes the arrangement under `id`.
    CreateTable { id: GlobalId, as_of: Timestamp },
    /// Appends `updates` to the named tables at time `ts`, then advances every table input to
    /// `advance_to` (> `ts`). Each worker receives a share of the rows (see
    /// `into_worker_shares`) and feeds it; the arrangement exchanges them by key. Also sent
    /// with no updates to move time forward.
    AppendTables {
        ts: Timestamp,
        updates: TableUpdates,
        advance_to: Timestamp,
    },
    /// Builds a dataflow.
    CreateDataflow(Box<DataflowDesc>),
    /// Reads one arrangement at one time. Each worker answers with its share of the rows.
    Peek(Peek),
    /// Drops the arrangement, dataflow or subscribe named `id` (whatever it is), releasing
    /// its memory once no other dataflow imports it.
    Drop { id: GlobalId },
    /// Lets the arrangement `id` compact its history up to `since`: reads at earlier times
    /// are no longer possible.
    AllowCompaction { id: GlobalId, since: Timestamp },
}

impl WorkerCommand {
    /// What each of `workers` workers receives of this command: every command goes to every
    /// worker, except that the rows of `AppendTables` are dealt out, each to the worker that
    /// arranges it (`arranging_worker`), so that a large append (a restart's whole table
    /// contents) is fed by all workers at once, never copied, and not sent again from one
    /// worker to another by the table's arrangement.
    pub fn into_worker_shares(self, workers: usize) -> Vec<WorkerCommand> {
        assert!(workers > 0, "a cluster has at least one worker");
        match self {
            WorkerCommand::AppendTables {
                ts,
                updates,
                advance_to,
            } => {
                let mut shares: Vec<TableUpdates> = (0..workers).map(|_| Vec::new()).collect();
                for (id, rows) in updates {
                    let mut dealt: Vec<Vec<(Row, Diff)>> = (0..workers)
                        .map(|_| Vec::with_capacity(rows.len() / workers + 1))
                        .collect();
                    for update in rows {
                        dealt[arranging_worker(&update.0, workers)].push(update);
                    }
                    for (share, rows) in shares.iter_mut().zip(dealt) {
                        share.push((id, rows));
                    }
                }
                shares
                    .into_iter()
                    .map(|updates| WorkerCommand::AppendTables {
                        ts,
                        updates,
                        advance_to,
                    })
                    .collect()
            }
            other => vec![other; workers],
        }
    }
}

/// The worker that keeps `row` in a table's arrangement: `arrange_by_key` exchanges each
/// update by differential's `Hashable` hash of its key (the whole row), and timely's exchange
/// sends hash `h` to worker `h & (workers - 1)` when `workers` is a power of two, else to
/// `h % workers`. Dealing a table's rows the same way makes the arrangement's exchange a
/// local hand-off; any other dealing is as correct, only slower (measured on Nexmark in
/// `docs/benchmarks.md`).
pub fn arranging_worker(row: &Row, workers: usize) -> usize {
    use differential_dataflow::hashable::Hashable;
    let hash: u64 = row.hashed();
    let workers = workers as u64;
    let index = if workers.is_power_of_two() {
        hash & (workers - 1)
    } else {
        hash % workers
    };
    index as usize
}

/// A dataflow: imports the arrangements its expression reads (every `Get` of a global id
/// names a published arrangement), computes `expr`, and exports it.
#[derive(Clone)]
pub struct DataflowDesc {
    pub debug_name: String,
    /// The id the output is known under.
    pub id: GlobalId,
    pub expr: RelationExpr,
    /// The time the output starts at: the snapshot of the inputs at `as_of`, then every
    /// change after it. Imports must be readable at `as_of` (their since is not beyond it).
    pub as_of: Timestamp,
    pub export: DataflowExport,
}

#[derive(Clone)]
pub enum DataflowExport {
    /// Arrange the output by `key` (expressions over the output row) and publish the
    /// arrangement under `id`. An empty key means "by the whole row" (`row => []`).
    Arrangement { key: Vec<ScalarExpr> },
    /// Stream the output's changes, at complete times, to `tx`. Worker 0 sends all of them
    /// (the updates are exchanged to it); other workers send nothing.
    Subscribe {
        /// Whether the updates at `as_of` (the snapshot) are sent.
        snapshot: bool,
        tx: tokio::sync::mpsc::UnboundedSender<SubscribeEvent>,
    },
}

/// What a subscribe stream reports. `Updates` carry only times the frontier has passed,
/// consolidated, sorted by time; `Progress(t)` says every update before `t` was sent.
#[derive(Debug)]
pub enum SubscribeEvent {
    Updates(Vec<(Timestamp, Row, Diff)>),
    Progress(Timestamp),
    Error(EvalError),
}

/// A read of arrangement `id` at `timestamp`, waiting until the arrangement is complete
/// through `timestamp` (its upper is beyond it).
#[derive(Clone)]
pub struct Peek {
    pub uuid: u64,
    pub id: GlobalId,
    /// The width the reader was planned with: each row of the object is fitted to it first
    /// (cut, or extended with NULLs), because a table's stored rows take a new width only
    /// when its `ALTER TABLE` rewrite commits (`coord/alter_table.rs`).
    pub arity: usize,
    pub timestamp: Timestamp,
    /// For an index, read only the rows with this key (a point lookup).
    pub key: Option<Row>,
    /// Applied to each row of the object (the key of a whole-row arrangement, the value of
    /// an index): `filter` on the row, then `project` to the listed columns.
    pub filter: Vec<ScalarExpr>,
    pub project: Option<Vec<usize>>,
    /// Each worker returns its consolidated `(row, count)` pairs, or the first error.
    pub tx: tokio::sync::mpsc::UnboundedSender<PeekResponse>,
}

#[derive(Debug)]
pub enum PeekResponse {
    Rows(Vec<(Row, Diff)>),
    Error(EvalError),
}
