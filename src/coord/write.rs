//! Table writes.
//!
//! Group commit: writes queue up while one durable append is in flight; when it finishes,
//! everything queued goes into the next append, at one new timestamp, with one fsync. After
//! an append is durable its updates go to the workers, every table input advances past its
//! timestamp, the read timestamp moves to it, and only then are the writers acknowledged.
//!
//! UPDATE and DELETE (and INSERT ... SELECT) read before they write. Read-then-write
//! operations run one at a time, each reading after the previous one's write committed, so
//! two concurrent UPDATEs never both retract the same row.

use super::coordinator::{Coordinator, Message};
use super::error::{AdapterError, Result};
use super::unique::UniqueKeys;
use super::{ExecuteResponse, Executed, SessionInfo, Writes};
use crate::catalog::CatalogItem;
use crate::dataflow::command::WorkerCommand;
use crate::expr::{EvalError, RelationExpr};
use crate::repr::{Datum, Diff, GlobalId, RelationDesc, Row, Timestamp};
use crate::sql::plan::Returning;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use tokio::sync::oneshot;

type ExecReply = oneshot::Sender<Result<Executed>>;

/// Appends in flight at once. Storage runs them one after another in start order, so a
/// second one in flight only splits the statements that arrive during a commit into two
/// smaller groups (two fsyncs where one would do). With one, every statement that arrives
/// while an fsync runs joins the next group: measured with 16 clients, 19.3k rows/s with
/// one in flight against 16.7k with two (`cargo bench --bench durability`).
const MAX_APPENDS_IN_FLIGHT: usize = 1;

#[derive(Default)]
pub struct WriteQueue {
    pending: Vec<PendingWrite>,
    /// The writes of appends started and not yet reported done, in start order (at most
    /// `MAX_APPENDS_IN_FLIGHT`). Kept to count them into a new unique key.
    in_flight: VecDeque<Arc<Writes>>,
    rtw_waiting: VecDeque<ReadThenWrite>,
    rtw_active: bool,
    /// The width rows written to a table that gained or lost columns since the start are
    /// fitted to when queued (`Coordinator::fit_to_table_widths`): a statement planned
    /// before the change, or a transaction block's earlier writes, have the old width.
    pub(super) widths: BTreeMap<GlobalId, usize>,
    /// `ALTER TABLE` rewrites queued or in flight (`alter_table.rs`). While there is one the
    /// coordinator takes no new commands, so that nothing else changes the catalog before
    /// the rewrite's definition takes effect.
    pub(super) rewrites_in_flight: usize,
    /// The connections whose open transaction block has written to each table (writes it
    /// applies at COMMIT, at the width the table had then). Cleared when the block ends.
    pub(super) block_writers: BTreeMap<GlobalId, std::collections::BTreeSet<u32>>,
    /// Counts of the key values of constrained tables, including queued writes.
    pub(super) unique: UniqueKeys,
}

impl WriteQueue {
    /// The updates to table `id` queued or in flight: written, but not yet in what a read
    /// at the read timestamp sees.
    pub fn unapplied_updates(&self, id: GlobalId) -> Vec<(Row, Diff)> {
        let in_flight = self.in_flight.iter().map(|w| w.as_slice());
        let pending = self.pending.iter().map(|p| p.writes.as_slice());
        in_flight
            .chain(pending)
            .flatten()
            .filter(|(table, _)| *table == id)
            .flat_map(|(_, updates)| updates.iter().cloned())
            .collect()
    }

    /// Drops queued writes to a table that no longer exists.
    pub fn forget_table(&mut self, id: GlobalId) {
        self.unique.forget_table(id);
        self.widths.remove(&id);
        for pending in &mut self.pending {
            pending.writes.retain(|(table, _)| *table != id);
        }
    }
}

pub(super) struct PendingWrite {
    pub(super) writes: Writes,
    pub(super) ack: Ack,
}

/// Whom to tell when a write commits.
pub(super) enum Ack {
    /// A load generator's ticks up to `next_tick` (exclusive), with its progress.
    Generator {
        source: GlobalId,
        next_tick: u64,
    },
    Statement {
        reply: ExecReply,
        response: ExecuteResponse,
        /// The write of the active read-then-write: the next one may start after it.
        ends_read_then_write: bool,
    },
    Commit(oneshot::Sender<Result<()>>),
    /// A Kafka source's batch, with the progress rows it makes durable.
    KafkaSource {
        source: GlobalId,
        progress: BTreeMap<i32, Row>,
    },
    /// An `ALTER TABLE` rewrite of stored rows to a new width (`alter_table.rs`).
    TableRewrite(Box<super::alter_table::TableRewrite>),
}

pub struct AppendResult {
    ts: Timestamp,
    writes: Arc<Writes>,
    acks: Vec<Ack>,
    /// The shards to merge batches of, once durable.
    result: Result<Vec<GlobalId>>,
}

struct ReadThenWrite {
    session: SessionInfo,
    id: GlobalId,
    /// The table's width when the statement was planned.
    arity: usize,
    selection: RelationExpr,
    assignments: Option<Vec<(usize, usize)>>,
    returning: Option<Returning>,
    reply: ExecReply,
}

pub enum WriteKind {
    Insert,
    /// COPY FROM: an insert that reports `COPY n`.
    Copy,
    Update {
        assignments: Vec<(usize, usize)>,
    },
    Delete,
}

/// Rows read for a write, ready to be turned into updates.
pub struct ReadyWrite {
    session: SessionInfo,
    id: GlobalId,
    kind: WriteKind,
    returning: Option<Returning>,
    rows: Result<Vec<(Row, Diff)>>,
    reply: ExecReply,
    read_then_write: bool,
    /// Columns of an INSERT or COPY to fill from sequences before writing.
    generated: crate::sql::plan::sequences::Generated,
    /// For UPDATE and DELETE: the table's width when the statement was planned (the rows
    /// read are that many columns of the old row, then the assigned values).
    table_arity: Option<usize>,
}

impl Coordinator {
    pub(super) async fn sequence_insert(
        &mut self,
        session: SessionInfo,
        id: GlobalId,
        expr: RelationExpr,
        returning: Option<Returning>,
        generated: crate::sql::plan::sequences::Generated,
        reply: ExecReply,
    ) {
        // `INSERT ... VALUES` (any constant): the rows are known now, so they go straight to
        // the write queue instead of through a read task and back.
        if let Some(rows) = crate::expr::constant::eval_constant(&expr) {
            let ready = self
                .fill_ready_write(ReadyWrite {
                    session,
                    id,
                    kind: WriteKind::Insert,
                    returning,
                    rows: rows.map_err(AdapterError::from),
                    reply,
                    read_then_write: false,
                    generated,
                    table_arity: None,
                })
                .await;
            self.write_rows_ready(ready);
            return;
        }
        let read = self.start_read(expr, session.conn_id);
        let internal = self.internal_tx.clone();
        tokio::spawn(async move {
            let rows = read.await;
            let _ = internal.send(Message::WriteRowsReady(Box::new(ReadyWrite {
                session,
                id,
                kind: WriteKind::Insert,
                returning,
                rows,
                reply,
                read_then_write: false,
                generated,
                table_arity: None,
            })));
        });
    }

    /// COPY FROM: rows already parsed and complete but for `generated` columns, inserted
    /// as one write.
    pub(super) async fn copy_rows(
        &mut self,
        session: SessionInfo,
        id: GlobalId,
        rows: Vec<Row>,
        generated: crate::sql::plan::sequences::Generated,
        reply: ExecReply,
    ) {
        let ready = self
            .fill_ready_write(ReadyWrite {
                session,
                id,
                kind: WriteKind::Copy,
                returning: None,
                rows: Ok(rows.into_iter().map(|r| (r, 1)).collect()),
                reply,
                read_then_write: false,
                generated,
                table_arity: None,
            })
            .await;
        self.write_rows_ready(ready);
    }

    /// Fills the sequence-generated columns of an INSERT's or COPY's rows (an error
    /// replaces the rows).
    pub(super) async fn fill_ready_write(&mut self, mut ready: ReadyWrite) -> ReadyWrite {
        if ready.generated.columns.is_empty() {
            return ready;
        }
        let generated = std::mem::take(&mut ready.generated);
        let rows = std::mem::replace(&mut ready.rows, Ok(Vec::new()));
        ready.rows = match rows {
            Ok(rows) => {
                self.fill_generated(ready.session.conn_id, ready.id, &generated, rows)
                    .await
            }
            Err(e) => Err(e),
        };
        ready
    }

    pub(super) fn sequence_read_then_write(
        &mut self,
        session: SessionInfo,
        id: GlobalId,
        selection: RelationExpr,
        assignments: Option<Vec<(usize, usize)>>,
        returning: Option<Returning>,
        reply: ExecReply,
    ) {
        let arity = self.table_arity(id).unwrap_or(0);
        self.writes.rtw_waiting.push_back(ReadThenWrite {
            session,
            id,
            arity,
            selection,
            assignments,
            returning,
            reply,
        });
        self.start_next_read_then_write();
    }

    fn start_next_read_then_write(&mut self) {
        if self.writes.rtw_active {
            return;
        }
        let Some(op) = self.writes.rtw_waiting.pop_front() else {
            return;
        };
        let changed = match self.table_arity(op.id) {
            None => Some(AdapterError::Internal(format!(
                "table {} was dropped before the write",
                op.id
            ))),
            // Planned against columns an ALTER TABLE has changed since.
            Some(arity) if arity != op.arity => {
                Some(AdapterError::ConcurrentAlter(self.item_name(op.id)))
            }
            Some(_) => None,
        };
        if let Some(error) = changed {
            let _ = op.reply.send(Err(error));
            return self.start_next_read_then_write();
        }
        self.writes.rtw_active = true;
        let read = self.start_read(op.selection, op.session.conn_id);
        let internal = self.internal_tx.clone();
        tokio::spawn(async move {
            let rows = read.await;
            let kind = match op.assignments {
                Some(assignments) => WriteKind::Update { assignments },
                None => WriteKind::Delete,
            };
            let _ = internal.send(Message::WriteRowsReady(Box::new(ReadyWrite {
                session: op.session,
                id: op.id,
                kind,
                returning: op.returning,
                rows,
                reply: op.reply,
                read_then_write: true,
                generated: Default::default(),
                table_arity: Some(op.arity),
            })));
        });
    }

    fn end_read_then_write(&mut self) {
        self.writes.rtw_active = false;
        self.start_next_read_then_write();
    }

    pub(super) fn write_rows_ready(&mut self, ready: ReadyWrite) {
        let ReadyWrite {
            session,
            id,
            kind,
            returning,
            rows,
            reply,
            read_then_write,
            generated: _,
            table_arity,
        } = ready;
        let prepared = rows
            .and_then(|rows| self.prepare_write(id, &kind, rows, returning.as_ref(), table_arity));
        let (updates, response) = match prepared {
            Ok(p) => p,
            Err(e) => {
                let _ = reply.send(Err(e));
                if read_then_write {
                    self.end_read_then_write();
                }
                return;
            }
        };
        let writes = vec![(id, updates)];
        if session.in_transaction_block {
            self.writes
                .block_writers
                .entry(id)
                .or_default()
                .insert(session.conn_id);
            // Gone before the session adds `writes` to the block's buffer, which this info
            // shares: the buffer is extended in place instead of copied.
            drop(session);
            let _ = reply.send(Ok(Executed::BufferedWrite { writes, response }));
            if read_then_write {
                self.end_read_then_write();
            }
            return;
        }
        self.queue_write(PendingWrite {
            writes,
            ack: Ack::Statement {
                reply,
                response,
                ends_read_then_write: read_then_write,
            },
        });
    }

    /// Turns read rows into table updates and the statement's response.
    fn prepare_write(
        &self,
        id: GlobalId,
        kind: &WriteKind,
        rows: Vec<(Row, Diff)>,
        returning: Option<&Returning>,
        table_arity: Option<usize>,
    ) -> Result<(Vec<(Row, Diff)>, ExecuteResponse)> {
        let entry = self.catalog.get(id).ok_or_else(|| {
            AdapterError::Internal(format!("table {id} was dropped during the write"))
        })?;
        let CatalogItem::Table { desc, .. } = &entry.item else {
            return Err(AdapterError::Internal(format!(
                "{} is not a table",
                entry.name
            )));
        };
        let arity = table_arity.unwrap_or(desc.arity());
        let mut updates = Vec::with_capacity(rows.len() * 2);
        let mut returned_rows = Vec::new();
        let mut count: Diff = 0;
        for (row, diff) in rows {
            if diff <= 0 {
                return Err(AdapterError::Internal(format!(
                    "write read a row with multiplicity {diff}"
                )));
            }
            count += diff;
            match kind {
                WriteKind::Insert | WriteKind::Copy => {
                    check_row(&row, desc, &entry.name)?;
                    returned_rows.push((row.clone(), diff));
                    updates.push((row, diff));
                }
                WriteKind::Delete => {
                    let old = Row::new(row[..arity].to_vec());
                    returned_rows.push((old.clone(), diff));
                    updates.push((old, -diff));
                }
                WriteKind::Update { assignments } => {
                    let old = Row::new(row[..arity].to_vec());
                    let mut new = old.clone().into_datums();
                    for (column, source) in assignments {
                        new[*column] = row[*source].clone();
                    }
                    let new = Row::new(new);
                    check_row(&new, desc, &entry.name)?;
                    returned_rows.push((new.clone(), diff));
                    updates.push((old, -diff));
                    updates.push((new, diff));
                }
            }
        }
        let tag = match kind {
            WriteKind::Insert => format!("INSERT 0 {count}"),
            WriteKind::Copy => format!("COPY {count}"),
            WriteKind::Update { .. } => format!("UPDATE {count}"),
            WriteKind::Delete => format!("DELETE {count}"),
        };
        let response = match returning {
            None => ExecuteResponse::Command { tag },
            Some(r) => {
                let mut out = Vec::new();
                for (row, diff) in returned_rows {
                    let values: Vec<Datum> = r
                        .exprs
                        .iter()
                        .map(|e| e.eval(&row))
                        .collect::<std::result::Result<_, EvalError>>()?;
                    for _ in 0..diff {
                        out.push(Row::new(values.clone()));
                    }
                }
                ExecuteResponse::Rows {
                    desc: r.desc.clone(),
                    rows: out,
                    tag,
                }
            }
        };
        Ok((updates, response))
    }

    /// Queues a write for the next group commit, unless it breaks a PRIMARY KEY or UNIQUE
    /// constraint (then its writer gets the error and nothing is written).
    pub(super) fn queue_write(&mut self, mut write: PendingWrite) {
        let fitted = match write.ack {
            Ack::TableRewrite(_) => Ok(()),
            _ => self.fit_to_table_widths(&mut write.writes),
        };
        if let Err(error) = fitted.and_then(|()| self.writes.unique.check_and_count(&write.writes))
        {
            if self.fail_ack(write.ack, &error) {
                self.end_read_then_write();
            }
            return;
        }
        self.writes.pending.push(write);
        self.maybe_start_append();
    }

    /// COMMIT of a transaction block.
    pub(super) fn submit_writes(&mut self, writes: Writes, reply: oneshot::Sender<Result<()>>) {
        for (id, _) in &writes {
            if self.catalog.get(*id).is_none() {
                let _ = reply.send(Err(AdapterError::Internal(format!(
                    "table {id} was dropped before COMMIT"
                ))));
                return;
            }
        }
        self.queue_write(PendingWrite {
            writes,
            ack: Ack::Commit(reply),
        });
    }

    /// Starts a durable append of everything queued, unless enough are in flight already.
    fn maybe_start_append(&mut self) {
        if self.writes.in_flight.len() >= MAX_APPENDS_IN_FLIGHT || self.writes.pending.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut self.writes.pending);
        let mut merged: BTreeMap<GlobalId, Vec<(Row, Diff)>> = BTreeMap::new();
        let mut acks = Vec::with_capacity(pending.len());
        for p in pending {
            for (id, updates) in p.writes {
                merged.entry(id).or_default().extend(updates);
            }
            acks.push(p.ack);
        }
        let writes: Arc<Writes> = Arc::new(merged.into_iter().collect());
        let ts = self.oracle.write_ts();
        tracing::debug!(ts, statements = acks.len(), "group commit");
        self.writes.in_flight.push_back(writes.clone());
        let internal = self.internal_tx.clone();
        let started = std::time::Instant::now();
        // Completions are sent from storage's appender thread in start order, so the
        // coordinator applies appends in timestamp order.
        self.storage.start_append(
            ts,
            writes,
            Box::new(move |result, writes| {
                tracing::debug!(
                    ts,
                    micros = started.elapsed().as_micros() as u64,
                    "append durable"
                );
                let _ = internal.send(Message::AppendDone(AppendResult {
                    ts,
                    writes,
                    acks,
                    result: result.map_err(AdapterError::from),
                }));
            }),
        );
    }

    pub(super) fn append_done(&mut self, done: AppendResult) {
        let AppendResult {
            ts,
            writes,
            acks,
            result,
        } = done;
        let started = self.writes.in_flight.pop_front();
        assert!(
            started.is_some_and(|w| Arc::ptr_eq(&w, &writes)),
            "appends finish in the order they started"
        );
        // Storage has let go of its reference, and the queue's went above: this unwraps
        // without copying.
        let writes = Arc::try_unwrap(writes).unwrap_or_else(|w| (*w).clone());
        let mut ended_rtw = false;
        match result {
            Ok(piled_up) => {
                self.cluster.send(WorkerCommand::AppendTables {
                    ts,
                    updates: writes,
                    advance_to: ts + 1,
                });
                self.oracle.applied(ts);
                // Merge the written shards' batches in the background when they pile up.
                for id in piled_up {
                    let storage = self.storage.clone();
                    tokio::spawn(async move {
                        if let Err(e) = storage.compact(id).await {
                            tracing::warn!(%id, error = %e, "compaction failed");
                        }
                    });
                }
                for ack in acks {
                    match ack {
                        Ack::Statement {
                            reply,
                            response,
                            ends_read_then_write,
                        } => {
                            ended_rtw |= ends_read_then_write;
                            let _ = reply.send(Ok(Executed::Response(response)));
                        }
                        Ack::Commit(reply) => {
                            let _ = reply.send(Ok(()));
                        }
                        Ack::Generator { source, next_tick } => {
                            self.generator_committed(source, Some(next_tick));
                        }
                        Ack::KafkaSource { source, progress } => {
                            self.kafka_source_committed(source, Some(progress));
                        }
                        Ack::TableRewrite(rewrite) => self.table_rewritten(*rewrite),
                    }
                }
            }
            Err(error) => {
                tracing::warn!(%error, "table write failed");
                self.writes.unique.revert(&writes);
                for ack in acks {
                    ended_rtw |= self.fail_ack(ack, &error);
                }
            }
        }
        if ended_rtw {
            self.end_read_then_write();
        }
        self.maybe_start_append();
    }

    /// Tells the writer behind `ack` that its write failed with `error`; returns whether it
    /// was the write of the active read-then-write (the next may start).
    fn fail_ack(&mut self, ack: Ack, error: &AdapterError) -> bool {
        match ack {
            Ack::Statement {
                reply,
                ends_read_then_write,
                ..
            } => {
                let _ = reply.send(Err(error.clone()));
                return ends_read_then_write;
            }
            Ack::Commit(reply) => {
                let _ = reply.send(Err(error.clone()));
            }
            Ack::Generator { source, .. } => self.generator_committed(source, None),
            Ack::KafkaSource { source, .. } => self.kafka_source_committed(source, None),
            Ack::TableRewrite(_) => Self::table_rewrite_failed(error),
        }
        false
    }

    /// With no writes queued or in flight, moves every table to a new timestamp so that time
    /// passes for views and subscriptions even when nothing changes.
    pub(super) fn advance_idle_tables(&mut self) {
        if !self.writes.in_flight.is_empty() || !self.writes.pending.is_empty() {
            return;
        }
        let ts = self.oracle.write_ts();
        self.cluster.send(WorkerCommand::AppendTables {
            ts,
            updates: vec![],
            advance_to: ts + 1,
        });
        self.oracle.applied(ts);
    }
}

/// A row about to be written to `table`: NOT NULL columns hold values (23502), and every
/// value is held as its column's type holds values, so that a planning mistake is an error
/// here rather than a stored row that no comparison matches.
fn check_row(row: &Row, desc: &RelationDesc, table: &str) -> Result<()> {
    for (datum, (name, typ)) in row.iter().zip(desc.iter()) {
        if datum.is_null() && !typ.nullable {
            return Err(EvalError::NullConstraintViolation {
                column: name.clone(),
                relation: table.to_string(),
            }
            .into());
        }
        if !datum.is_instance_of(&typ.scalar_type) {
            return Err(AdapterError::Internal(format!(
                "a value for column \"{name}\" of \"{table}\" is not of its type {}: {datum:?}",
                typ.scalar_type.sql_name()
            )));
        }
    }
    Ok(())
}
