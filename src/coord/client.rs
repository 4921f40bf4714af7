//! What a session (one client connection) sees of the coordinator: parse, describe and
//! execute statements, and cancel a running one.

use super::error::Result;
use crate::repr::copy_format::CopyFormat;
use crate::repr::{RelationDesc, Row, ScalarType};
use crate::sql::Statement;

/// The result of executing one statement.
pub enum ExecuteResponse {
    /// A finished result set (SELECT, SHOW, EXPLAIN, FETCH, INSERT ... RETURNING) and the
    /// command tag to complete it with (`SELECT 3`, `INSERT 0 3`, `FETCH 3`).
    Rows {
        desc: RelationDesc,
        rows: Vec<Row>,
        tag: String,
    },
    /// A statement with no result set; the command tag (`CREATE TABLE`, `INSERT 0 1`).
    Command { tag: String },
    /// SUBSCRIBE as a query: rows `(mz_timestamp, [mz_progressed,] mz_diff, columns...)`
    /// arrive over time, until the stream ends with `None` (never, unless the subscribed
    /// object is dropped) or with an error. Dropping the stream stops the subscription.
    Subscribe {
        desc: RelationDesc,
        stream: SubscribeStream,
    },
    /// `COPY ... FROM STDIN`: the client sends the data next; hand it to
    /// `Session::copy_in` with this target.
    CopyIn {
        target: crate::sql::plan::CopyFromTarget,
    },
    /// `COPY ... TO STDOUT`: rows sent as COPY data in the stream's `copy_format`. For
    /// `COPY (SUBSCRIBE ...)` they are the subscription's (text format); for a table or a
    /// query, the SELECT's rows, in one batch.
    CopyOut {
        desc: RelationDesc,
        stream: SubscribeStream,
    },
}

/// Rows of a subscription (or of a `COPY ... TO STDOUT`), in batches, as they become
/// complete.
pub struct SubscribeStream {
    rx: tokio::sync::mpsc::Receiver<Result<Vec<Row>>>,
    copy_format: CopyFormat,
}

impl SubscribeStream {
    /// A stream sent as COPY data (if it is) in text format.
    pub fn new(rx: tokio::sync::mpsc::Receiver<Result<Vec<Row>>>) -> SubscribeStream {
        SubscribeStream {
            rx,
            copy_format: CopyFormat::text(),
        }
    }

    /// A stream of `rows` alone.
    pub fn of_rows(rows: Vec<Row>, copy_format: CopyFormat) -> SubscribeStream {
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        tx.try_send(Ok(rows))
            .expect("a new channel has room for one batch");
        SubscribeStream { rx, copy_format }
    }

    /// The format `ExecuteResponse::CopyOut` sends the rows in.
    pub fn copy_format(&self) -> &CopyFormat {
        &self.copy_format
    }

    /// The next batch; `None` once the stream has ended.
    pub async fn recv(&mut self) -> Option<Result<Vec<Row>>> {
        self.rx.recv().await
    }

    /// The next batch if one is waiting.
    pub fn try_recv(
        &mut self,
    ) -> std::result::Result<Result<Vec<Row>>, tokio::sync::mpsc::error::TryRecvError> {
        self.rx.try_recv()
    }
}

/// What the extended protocol's Describe needs: parameter types and the result columns
/// (`None` for a statement that returns no rows).
#[derive(Clone, Debug)]
pub struct StatementDesc {
    pub param_types: Vec<ScalarType>,
    pub result: Option<RelationDesc>,
}

/// Identifies a connection for cancel requests (BackendKeyData).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CancelKey {
    pub conn_id: u32,
    pub secret: u32,
}

/// Parses SQL text into statements. Pure: no catalog access.
pub fn parse(sql: &str) -> Result<Vec<Statement>> {
    Ok(crate::sql::parse(sql)?)
}

/// Whether the session is in a transaction block (ReadyForQuery's status byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransactionStatus {
    Idle,
    InBlock,
    Failed,
}

/// A handle to the coordinator, cloned into every connection task.
#[derive(Clone)]
pub struct Client {
    pub(super) cmd_tx: tokio::sync::mpsc::Sender<super::Command>,
    /// See `Coordinator::catalog_generation`.
    pub(super) catalog_generation: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Client {
    /// Starts a session for `user` on `database`. Any user is accepted (trust auth).
    pub async fn connect(&self, user: &str, database: &str) -> Result<Session> {
        super::session::connect(self, user, database).await
    }

    /// The catalog's generation: it changes after every DDL statement, so anything derived
    /// from the catalog (a statement's parameter types) is reusable while it stays the same.
    pub fn catalog_generation(&self) -> u64 {
        self.catalog_generation
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// Cancels the statement running in the session with `key`, if any. Unknown keys are
    /// ignored, as PostgreSQL does.
    pub fn cancel(&self, key: CancelKey) {
        let _ = self.cmd_tx.try_send(super::Command::Cancel { key });
    }
}

pub use super::session::Session;
