//! SELECT (and `COPY ... TO STDOUT`, which reads as the SELECT of its rows): choose a
//! timestamp, read, finish.
//!
//! - Constant queries are evaluated here, with no dataflow.
//! - Fast path: a query that only filters and projects one arrangement (a table, a
//!   materialized view or an index) peeks it directly; an equality on every key column of
//!   an index becomes a point lookup.
//! - Otherwise a transient dataflow computes the query as of the read timestamp, is peeked
//!   once and dropped.
//!
//! The read timestamp is the oracle's read timestamp: every write committed before the
//! SELECT started is visible (strict serializability). A read hold keeps arrangements from
//! compacting past it until the peek returns.

use super::client::SubscribeStream;
use super::coordinator::{Coordinator, Message};
use super::error::{AdapterError, Result};
use super::{ExecuteResponse, Executed, SessionInfo};
use crate::catalog::CatalogItem;
use crate::dataflow::command::{DataflowDesc, DataflowExport, Peek, PeekResponse, WorkerCommand};
use crate::expr::constant::eval_constant;
use crate::expr::{Func, Id, RelationExpr, ScalarExpr};
use crate::repr::{Datum, Diff, GlobalId, RelationDesc, Row};
use crate::sql::Statement;
use crate::sql::plan::Finishing;
use crate::sql::plan::statement::copy_to_format;
use tokio::sync::{mpsc, oneshot, watch};

/// How to read one arrangement directly.
pub(super) struct FastPath {
    pub id: GlobalId,
    /// The width the reader was planned with for the object's rows (see `Peek::arity`).
    pub arity: usize,
    pub key: Option<Row>,
    pub filter: Vec<ScalarExpr>,
    pub project: Option<Vec<usize>>,
}

impl Coordinator {
    pub(super) fn sequence_select(
        &mut self,
        session: SessionInfo,
        expr: RelationExpr,
        desc: RelationDesc,
        finishing: Finishing,
        cursor: Option<String>,
        reply: oneshot::Sender<Result<Executed>>,
    ) {
        let read = match self.start_session_read(&session, expr) {
            Ok(read) => read,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        tokio::spawn(async move {
            let result = read
                .await
                .and_then(|rows| finish(rows, &finishing))
                .map(|rows| {
                    let tag = format!("SELECT {}", rows.len());
                    let response = ExecuteResponse::Rows { desc, rows, tag };
                    match cursor {
                        Some(name) => Executed::Cursor { name, response },
                        None => Executed::Response(response),
                    }
                });
            let _ = reply.send(result);
        });
    }

    /// `COPY table|(query) TO STDOUT` (`stmt`), planned as the SELECT of its rows: they are
    /// read exactly as that SELECT's, and sent as COPY data in the statement's format.
    pub(super) fn sequence_copy_to(
        &mut self,
        session: SessionInfo,
        stmt: &Statement,
        expr: RelationExpr,
        desc: RelationDesc,
        finishing: Finishing,
        reply: oneshot::Sender<Result<Executed>>,
    ) {
        let format = match copy_to_format(stmt, &desc) {
            Some(Ok(format)) => format,
            Some(Err(e)) => {
                let _ = reply.send(Err(e.into()));
                return;
            }
            None => {
                let _ = reply.send(Err(AdapterError::Internal(
                    "COPY TO of a statement that is not one".into(),
                )));
                return;
            }
        };
        let read = match self.start_session_read(&session, expr) {
            Ok(read) => read,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        tokio::spawn(async move {
            let result = read
                .await
                .and_then(|rows| finish(rows, &finishing))
                .map(|rows| {
                    Executed::Response(ExecuteResponse::CopyOut {
                        desc,
                        stream: SubscribeStream::of_rows(rows, format),
                    })
                });
            let _ = reply.send(result);
        });
    }

    /// Starts `session`'s read of `expr`: at its READ ONLY block's snapshot
    /// (`snapshots.rs`), else at the read timestamp.
    fn start_session_read(
        &mut self,
        session: &SessionInfo,
        expr: RelationExpr,
    ) -> Result<impl std::future::Future<Output = Result<Vec<(Row, Diff)>>> + Send + 'static> {
        let at = self.snapshot_for(session, &expr)?;
        let cancel = self.cancel_watch(session.conn_id);
        Ok(self.start_read_at(expr, cancel, at))
    }

    /// Starts reading `expr` at the read timestamp; the returned future resolves to its
    /// consolidated rows. Cleanup (read hold, transient dataflow) is reported back as a
    /// `Message::ReadDone` by the future itself.
    pub(super) fn start_read(
        &mut self,
        expr: RelationExpr,
        conn_id: u32,
    ) -> impl std::future::Future<Output = Result<Vec<(Row, Diff)>>> + Send + 'static {
        let cancel = self.cancel_watch(conn_id);
        self.start_read_until(expr, cancel)
    }

    /// `start_read`, cancelled when `cancel` changes or its sender goes away.
    pub(super) fn start_read_until(
        &mut self,
        expr: RelationExpr,
        cancel: tokio::sync::watch::Receiver<u64>,
    ) -> impl std::future::Future<Output = Result<Vec<(Row, Diff)>>> + Send + 'static {
        self.start_read_at(expr, cancel, None)
    }

    /// `start_read_until` at timestamp `at` (which a read hold keeps readable: a READ ONLY
    /// block's snapshot), or at the read timestamp.
    pub(super) fn start_read_at(
        &mut self,
        expr: RelationExpr,
        cancel: tokio::sync::watch::Receiver<u64>,
        at: Option<crate::repr::Timestamp>,
    ) -> impl std::future::Future<Output = Result<Vec<(Row, Diff)>>> + Send + 'static {
        let expr = crate::optimize::optimize(expr, &self.catalog);
        let constant = eval_constant(&expr);
        let mut pending = None;
        if constant.is_none() {
            let ts = at.unwrap_or_else(|| self.oracle.read_ts());
            self.acquire_read_hold(ts);
            let (path, transient) = match self.fast_path(&expr) {
                Some(path) => (path, None),
                None => {
                    let id = self.transient_id();
                    let arity = expr.arity();
                    let desc = DataflowDesc {
                        debug_name: format!("select-{id}"),
                        id,
                        expr,
                        as_of: ts,
                        export: DataflowExport::Arrangement { key: vec![] },
                    };
                    self.cluster
                        .send(WorkerCommand::CreateDataflow(Box::new(desc)));
                    let path = FastPath {
                        id,
                        arity,
                        key: None,
                        filter: vec![],
                        project: None,
                    };
                    (path, Some(id))
                }
            };
            pending = Some((self.send_peek(path, ts), ts, transient));
        }
        let workers = self.cluster.workers();
        let internal = self.internal_tx.clone();
        async move {
            match (constant, pending) {
                (Some(result), _) => result.map_err(AdapterError::from),
                (None, Some((rx, ts, transient))) => {
                    let result = collect_peek(rx, workers, cancel).await;
                    let _ = internal.send(Message::ReadDone { ts, transient });
                    result
                }
                (None, None) => Err(AdapterError::Internal("read with no plan".into())),
            }
        }
    }

    /// Sends every worker the read `path` at `ts` (held readable by the caller); each
    /// worker's share of the answer arrives on the returned channel.
    fn send_peek(
        &mut self,
        path: FastPath,
        ts: crate::repr::Timestamp,
    ) -> mpsc::UnboundedReceiver<PeekResponse> {
        let (tx, rx) = mpsc::unbounded_channel();
        let uuid = self.next_transient_id;
        self.next_transient_id += 1;
        self.cluster.send(WorkerCommand::Peek(Peek {
            uuid,
            id: path.id,
            arity: path.arity,
            timestamp: ts,
            key: path.key,
            filter: path.filter,
            project: path.project,
            tx,
        }));
        rx
    }

    /// `Command::AwaitFresh`: a point lookup in the object's arrangement at the read
    /// timestamp, for a row of NULLs in every column (whatever it finds is ignored). A peek
    /// is answered only once the arrangement is complete through its timestamp
    /// (`dataflow/peek.rs`), and the lookup costs a seek per batch, not a scan.
    pub(super) fn await_fresh(
        &mut self,
        conn_id: u32,
        name: &str,
        reply: oneshot::Sender<Result<()>>,
    ) {
        let entry = match self.catalog.resolve(&[name.to_string()]) {
            Ok(entry) => entry,
            Err(e) => {
                let _ = reply.send(Err(e.into()));
                return;
            }
        };
        let (id, arity) = match entry.item.desc() {
            Some(desc) if self.arrangements.contains(&entry.id) => (entry.id, desc.arity()),
            _ => {
                let _ = reply.send(Err(AdapterError::Internal(format!(
                    "\"{name}\" is not a table, source or materialized view"
                ))));
                return;
            }
        };
        let ts = self.oracle.read_ts();
        self.acquire_read_hold(ts);
        let path = FastPath {
            id,
            arity,
            key: Some(Row::new(vec![Datum::Null; arity])),
            filter: vec![],
            project: None,
        };
        let rx = self.send_peek(path, ts);
        let workers = self.cluster.workers();
        let cancel = self.cancel_watch(conn_id);
        let internal = self.internal_tx.clone();
        tokio::spawn(async move {
            let result = collect_peek(rx, workers, cancel).await.map(|_| ());
            let _ = internal.send(Message::ReadDone {
                ts,
                transient: None,
            });
            let _ = reply.send(result);
        });
    }

    /// The direct read of one arrangement that computes `expr`, if there is one.
    pub(super) fn fast_path(&self, expr: &RelationExpr) -> Option<FastPath> {
        let (inner, project) = match expr {
            RelationExpr::Project { input, outputs } => (input.as_ref(), Some(outputs.clone())),
            other => (other, None),
        };
        let (get, filter) = match inner {
            RelationExpr::Filter { input, predicates } => (input.as_ref(), predicates.clone()),
            other => (other, vec![]),
        };
        let RelationExpr::Get {
            id: Id::Global(id),
            typ,
        } = get
        else {
            return None;
        };
        // A temporal filter needs the dataflow (rows enter and leave at their times).
        if !self.arrangements.contains(id) || filter.iter().any(ScalarExpr::contains_mz_now) {
            return None;
        }
        // A point lookup through an index whose every key is a column compared to a constant.
        let mut candidates: Vec<GlobalId> = match self.catalog.get(*id).map(|e| &e.item) {
            Some(CatalogItem::Index { .. }) => vec![*id],
            _ => vec![],
        };
        candidates.extend(
            self.catalog
                .indexes_on(*id)
                .iter()
                .map(|e| e.id)
                .filter(|i| self.arrangements.contains(i)),
        );
        for index in candidates {
            let Some(CatalogItem::Index { keys, .. }) = self.catalog.get(index).map(|e| &e.item)
            else {
                continue;
            };
            let key: Option<Vec<Datum>> = keys
                .iter()
                .map(|k| match k {
                    ScalarExpr::Column(c) => constant_equal_to(&filter, *c),
                    _ => None,
                })
                .collect();
            if let Some(key) = key {
                return Some(FastPath {
                    id: index,
                    arity: typ.len(),
                    key: Some(Row::new(key)),
                    filter,
                    project,
                });
            }
        }
        Some(FastPath {
            id: *id,
            arity: typ.len(),
            key: None,
            filter,
            project,
        })
    }
}

/// The constant a predicate in `filter` says column `c` equals (`c = literal`).
fn constant_equal_to(filter: &[ScalarExpr], c: usize) -> Option<Datum> {
    filter.iter().find_map(|p| match p {
        ScalarExpr::Call {
            func: Func::Eq,
            args,
        } => match (&args[0], &args[1]) {
            (ScalarExpr::Column(col), ScalarExpr::Literal(Ok(d), _))
            | (ScalarExpr::Literal(Ok(d), _), ScalarExpr::Column(col))
                if *col == c && !d.is_null() =>
            {
                Some(d.clone())
            }
            _ => None,
        },
        _ => None,
    })
}

/// Waits for every worker's share of a peek (or a cancel) and merges them.
pub(super) async fn collect_peek(
    mut rx: mpsc::UnboundedReceiver<PeekResponse>,
    workers: usize,
    mut cancel: watch::Receiver<u64>,
) -> Result<Vec<(Row, Diff)>> {
    let mut rows = Vec::new();
    let mut error = None;
    for _ in 0..workers {
        tokio::select! {
            response = rx.recv() => match response {
                Some(PeekResponse::Rows(r)) => rows.extend(r),
                Some(PeekResponse::Error(e)) => error = error.or(Some(e)),
                None => return Err(AdapterError::Internal("a worker dropped a peek".into())),
            },
            _ = cancel.changed() => return Err(AdapterError::Canceled),
        }
    }
    match error {
        Some(e) => Err(e.into()),
        None => Ok(rows),
    }
}

/// Expands multiplicities, then sorts, skips, limits and projects as `finishing` says.
pub(super) fn finish(rows: Vec<(Row, Diff)>, finishing: &Finishing) -> Result<Vec<Row>> {
    let mut out = Vec::with_capacity(rows.len());
    for (row, diff) in rows {
        if diff < 0 {
            return Err(AdapterError::Internal(format!(
                "invalid data: a row has negative multiplicity {diff}: {row:?}"
            )));
        }
        for _ in 0..diff {
            out.push(row.clone());
        }
    }
    if !finishing.order_by.is_empty() {
        out.sort_by(|a, b| crate::expr::func::compare_rows(a, b, &finishing.order_by));
    }
    let out = out
        .into_iter()
        .skip(finishing.offset)
        .take(finishing.limit.unwrap_or(usize::MAX))
        .map(|row| row.project(&finishing.project))
        .collect();
    Ok(out)
}
