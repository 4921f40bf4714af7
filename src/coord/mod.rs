//! The coordinator: one tokio task that owns the catalog, the timestamp oracle, read holds,
//! the write queue and the worker cluster. Sessions send it `Command`s; its own spawned work
//! (durable appends, peeks) reports back as `Message`s. Nothing else mutates its state, so
//! there are no locks.
//!
//! | file | owns |
//! |---|---|
//! | `client.rs` | what a connection sees: `Client`, `ExecuteResponse`, `StatementDesc` |
//! | `session.rs` | one connection's state: variables, transaction block, cursors |
//! | `create_table_as.rs` | CREATE TABLE ... AS: CREATE TABLE, then INSERT, in one transaction |
//! | `coordinator.rs` | the task, its state and the command loop |
//! | `sequence.rs` | executing plans: DDL, SHOW, EXPLAIN |
//! | `read.rs` | SELECT: timestamp choice, fast-path peeks, transient dataflows, finishing |
//! | `write.rs` | INSERT / UPDATE / DELETE: group commit and read-then-write |
//! | `subscribe.rs` | SUBSCRIBE streams |
//! | `sources.rs` | load generators |
//! | `kafka_sources.rs` | Kafka connections and sources: broker checks, readers, appends |
//! | `kafka_sinks.rs` | Kafka sinks: a subscription dataflow feeding a sink thread |
//! | `bootstrap.rs` | restart: catalog and table data back into the workers |
//! | `timestamp.rs` | the oracle |
//! | `vars.rs` | session variables |
//! | `advisory_locks.rs` | the advisory lock table (`pg_advisory_lock`) |
//! | `sequences.rs` | sequence positions: `nextval`, `setval`, durable reservations |
//! | `snapshots.rs` | the one read timestamp of a READ ONLY block |
//! | `lock_statements.rs` | running the advisory-lock functions, releasing their locks |

mod advisory_locks;
mod alter_table;
mod bootstrap;
pub mod client;
mod coordinator;
mod create_table_as;
pub mod error;
mod explain;
mod kafka_sinks;
mod kafka_sources;
mod lock_statements;
mod read;
mod sequence;
mod sequences;
mod session;
mod snapshots;
mod sources;
mod subscribe;
mod timestamp;
mod transaction;
mod unique;
pub mod vars;
mod write;

pub use client::{CancelKey, Client, ExecuteResponse, Session, StatementDesc, TransactionStatus};
pub use coordinator::{Config, start};
pub use error::AdapterError;
pub use explain::explain as explain_plan;

use crate::repr::{Datum, Diff, GlobalId, Row, ScalarType};
use crate::sql::Statement;
use crate::sql::plan::Plan;
use error::Result;
use tokio::sync::oneshot;

/// What a session knows that planning needs.
#[derive(Clone, Debug)]
pub struct SessionInfo {
    pub conn_id: u32,
    pub user: String,
    pub database: String,
    pub in_transaction_block: bool,
    /// The session's variables, for `current_setting()` and `pg_settings`.
    pub settings: crate::sql::plan::Settings,
    /// Whether its open transaction block is `READ ONLY`: writes and DDL are refused.
    pub read_only_transaction: bool,
    /// The writes its open transaction block has buffered, which its reads see.
    pub txn_writes: std::sync::Arc<Writes>,
    /// What the DROPs its open transaction block deferred will remove at COMMIT: a later
    /// DROP of the block may drop what depends only on these.
    pub block_dropping: Vec<GlobalId>,
    /// The renames its open transaction block deferred to COMMIT, (item, new name): a later
    /// rename of the block may take a name one of these frees, and not one it takes.
    pub block_renaming: Vec<(GlobalId, String)>,
}

/// Table writes: rows with their multiplicity changes, per table.
pub type Writes = Vec<(GlobalId, Vec<(Row, Diff)>)>;

/// A request from a session to the coordinator.
pub enum Command {
    Startup {
        reply: oneshot::Sender<CancelKey>,
    },
    Execute {
        session: SessionInfo,
        stmt: Statement,
        params: Vec<Datum>,
        param_types: Vec<Option<ScalarType>>,
        reply: oneshot::Sender<Result<Executed>>,
    },
    Describe {
        session: SessionInfo,
        stmt: Statement,
        param_types: Vec<Option<ScalarType>>,
        reply: oneshot::Sender<Result<StatementDesc>>,
    },
    /// The rows of a `COPY ... FROM STDIN` (complete table rows), to insert as one write.
    CopyRows {
        session: SessionInfo,
        id: GlobalId,
        rows: Vec<Row>,
        /// Columns to fill from sequences (`CopyFromTarget::generated`).
        generated: crate::sql::plan::sequences::Generated,
        reply: oneshot::Sender<Result<Executed>>,
    },
    /// Undoes the CREATEs of a transaction block that rolled back: drops `ids` (those that
    /// still exist), dependents first.
    DropCreated {
        ids: Vec<GlobalId>,
        reply: Option<oneshot::Sender<Result<()>>>,
    },
    /// Undoes the ADD COLUMNs of a transaction block that rolled back (`alter_table.rs`).
    UndoAddedColumns {
        conn_id: u32,
        undo: Vec<alter_table::Narrowing>,
        reply: Option<oneshot::Sender<Result<()>>>,
    },
    /// COMMIT of a transaction block's buffered writes: one atomic append.
    CommitWrites {
        writes: Writes,
        reply: oneshot::Sender<Result<()>>,
    },
    /// Answers once table, source or materialized view `name` reflects every write
    /// committed before this command arrived, without reading its rows (`read.rs`,
    /// `await_fresh`).
    AwaitFresh {
        conn_id: u32,
        name: String,
        reply: oneshot::Sender<Result<()>>,
    },
    Cancel {
        key: CancelKey,
    },
    /// A connection's transaction block ended: its transaction-scoped advisory locks and
    /// its READ ONLY snapshot are released.
    TransactionEnded {
        conn_id: u32,
    },
    /// DISCARD ALL: the connection's session-level advisory locks are released.
    ReleaseSessionLocks {
        conn_id: u32,
    },
    Terminate {
        conn_id: u32,
    },
}

/// What executing a statement produced, for the session to finish.
pub enum Executed {
    /// `executed`, with NOTICE messages for the client (`relation "t" already exists,
    /// skipping`), sent before the statement's result.
    WithNotices {
        notices: Vec<String>,
        executed: Box<Executed>,
    },
    Response(ExecuteResponse),
    /// A statement about the session itself (SET, BEGIN, FETCH, ...).
    SessionPlan(Plan),
    /// `DECLARE name CURSOR FOR ...`: the cursor's rows.
    Cursor {
        name: String,
        response: ExecuteResponse,
    },
    /// A write inside a transaction block: applied at COMMIT.
    BufferedWrite {
        writes: Writes,
        response: ExecuteResponse,
    },
    /// A CREATE inside a transaction block: applied now, dropped again if the block rolls
    /// back.
    CreatedInBlock {
        created: Vec<GlobalId>,
        response: ExecuteResponse,
    },
    /// `ALTER TABLE ... ADD COLUMN` inside a transaction block: applied now, undone again if
    /// the block rolls back.
    AddedColumnsInBlock {
        undo: alter_table::Narrowing,
        response: ExecuteResponse,
    },
    /// A DROP, ALTER or CREATE OR REPLACE inside a transaction block: checked, and run at
    /// COMMIT (it could not be undone). `dropping`: what a DROP will remove then;
    /// `renaming`: the item a rename will rename then, and its new name.
    DeferredToCommit {
        dropping: Vec<GlobalId>,
        renaming: Option<(GlobalId, String)>,
        response: ExecuteResponse,
    },
}
