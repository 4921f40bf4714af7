//! The coordinator task: its state, startup, and the loop that reacts to commands and
//! messages. Handlers live in `sequence.rs`, `read.rs`, `write.rs` and `subscribe.rs`.

use super::client::{CancelKey, Client};
use super::error::{AdapterError, Result};
use super::timestamp::Oracle;
use super::write::WriteQueue;
use super::{Command, Executed, SessionInfo};
use crate::catalog::Catalog;
use crate::dataflow::Cluster;
use crate::dataflow::command::WorkerCommand;
use crate::repr::{Datum, GlobalId, ScalarType, Timestamp};
use crate::sql::Statement;
use crate::sql::plan::advisory_locks::LockScope;
use crate::sql::plan::{self, Plan, StatementContext};
use crate::storage::Storage;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// How far behind the read timestamp arrangements keep their history (so that reads that
/// chose a slightly older timestamp still succeed).
pub const COMPACTION_WINDOW_MS: Timestamp = 1_000;

/// How often time advances for tables with no writes while a dataflow has a temporal filter
/// or a subscription runs, so that rows of temporal filters enter and leave views on time
/// (reads see them within a tick of their times) and subscriptions report progress.
pub const TICK: Duration = Duration::from_millis(100);

/// How often time advances for idle tables otherwise, so that compaction proceeds. Reads do
/// not need it (every write advances its tables past its own timestamp), and each advance
/// costs progress tracking in every dataflow: measured with 100 idle materialized views of
/// 20-way joins, advancing every 100 ms kept a quarter of a core busy.
pub const IDLE_TICK: Duration = Duration::from_secs(1);

/// Commands waiting for the coordinator. Sessions wait when it is full: backpressure instead
/// of unbounded memory.
const COMMAND_QUEUE_CAPACITY: usize = 4_096;

pub struct Config {
    pub data_dir: PathBuf,
    pub workers: usize,
}

/// Messages from the coordinator's own spawned work.
pub enum Message {
    /// A durable append finished (or failed).
    AppendDone(super::write::AppendResult),
    /// A read finished: release its hold and drop its transient dataflow.
    ReadDone {
        ts: Timestamp,
        transient: Option<GlobalId>,
    },
    /// The read half of a read-then-write (or INSERT ... SELECT) finished.
    WriteRowsReady(Box<super::write::ReadyWrite>),
    /// A subscription's client went away.
    SubscribeDone { id: GlobalId },
    /// A CREATE CONNECTION or Kafka CREATE SOURCE has the broker's answer.
    BrokerChecked(Box<super::kafka_sources::BrokerChecked>),
    /// A Kafka source's reader has queued batches.
    KafkaReady { source: GlobalId },
    /// A Kafka source's relations, read back to restart it after a failed append.
    KafkaRestart {
        source: GlobalId,
        rows: Vec<(GlobalId, Vec<(crate::repr::Row, crate::repr::Diff)>)>,
    },
}

pub(super) struct ConnMeta {
    pub secret: u32,
    /// Bumped to cancel the connection's running statement.
    pub cancel: watch::Sender<u64>,
}

pub struct Coordinator {
    pub(super) catalog: Catalog,
    pub(super) storage: Arc<Storage>,
    pub(super) cluster: Cluster,
    pub(super) oracle: Oracle,
    pub(super) next_user_id: u64,
    pub(super) next_transient_id: u64,
    pub(super) conns: HashMap<u32, ConnMeta>,
    next_conn_id: u32,
    pub(super) internal_tx: mpsc::UnboundedSender<Message>,
    pub(super) writes: WriteQueue,
    /// Timestamps of reads in flight: compaction must not pass them.
    pub(super) read_holds: BTreeMap<Timestamp, usize>,
    /// Every published arrangement (tables, materialized views, indexes).
    pub(super) arrangements: BTreeSet<GlobalId>,
    /// Running subscriptions and the connection that owns each.
    pub(super) subscribes: HashMap<GlobalId, u32>,
    /// Dataflows with a temporal filter: while there is one, idle time advances every TICK.
    pub(super) time_dependent: BTreeSet<GlobalId>,
    /// When idle tables last advanced.
    pub(super) last_idle_advance: std::time::Instant,
    /// Bumped after every DDL statement: what sessions cached about statements (parameter
    /// types) is valid only for the generation it was computed in.
    pub(super) catalog_generation: Arc<std::sync::atomic::AtomicU64>,
    /// Running load generators, by the id of their source.
    pub(super) generators: BTreeMap<GlobalId, super::sources::RunningGenerator>,
    /// Running Kafka sources, by the id of their source.
    pub(super) kafka_sources: BTreeMap<GlobalId, super::kafka_sources::RunningKafkaSource>,
    /// Running Kafka sinks, by id.
    pub(super) sinks: BTreeMap<GlobalId, crate::storage::kafka::sink::KafkaSink>,
    /// The snapshot of each connection's READ ONLY block, once it has read (`snapshots.rs`).
    pub(super) snapshots: BTreeMap<u32, super::snapshots::Snapshot>,
    /// Where each sequence is (`nextval`).
    pub(super) sequences: super::sequences::Sequences,
    /// Advisory locks held and awaited (`pg_advisory_lock`).
    pub(super) advisory_locks:
        super::advisory_locks::AdvisoryLocks<super::lock_statements::LockWaiter>,
}

/// Starts the storage, the worker cluster and the coordinator task.
pub async fn start(config: Config) -> Result<Client> {
    let storage = Arc::new(
        Storage::open(&config.data_dir)
            .await
            .map_err(AdapterError::from)?,
    );
    let cluster =
        Cluster::start(config.workers.max(1)).map_err(|e| AdapterError::Internal(e.to_string()))?;
    let (cmd_tx, cmd_rx) = mpsc::channel(COMMAND_QUEUE_CAPACITY);
    let (internal_tx, internal_rx) = mpsc::unbounded_channel();
    let mut coord = Coordinator {
        catalog: Catalog::default(),
        storage,
        cluster,
        oracle: Oracle::new(0),
        next_user_id: 1,
        next_transient_id: 1,
        conns: HashMap::new(),
        next_conn_id: 1,
        internal_tx,
        writes: WriteQueue::default(),
        read_holds: BTreeMap::new(),
        arrangements: BTreeSet::new(),
        subscribes: HashMap::new(),
        time_dependent: BTreeSet::new(),
        last_idle_advance: std::time::Instant::now(),
        catalog_generation: Default::default(),
        generators: BTreeMap::new(),
        kafka_sources: BTreeMap::new(),
        sinks: BTreeMap::new(),
        advisory_locks: Default::default(),
        sequences: Default::default(),
        snapshots: BTreeMap::new(),
    };
    coord.bootstrap().await?;
    let catalog_generation = coord.catalog_generation.clone();
    tokio::spawn(coord.run(cmd_rx, internal_rx));
    Ok(Client {
        cmd_tx,
        catalog_generation,
    })
}

impl Coordinator {
    async fn run(
        mut self,
        mut cmd_rx: mpsc::Receiver<Command>,
        mut internal_rx: mpsc::UnboundedReceiver<Message>,
    ) {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                // Internal messages first: they complete work already acknowledged to start.
                biased;
                Some(msg) = internal_rx.recv() => self.handle_message(msg).await,
                // No commands while an ALTER TABLE rewrite is on its way (`alter_table.rs`).
                cmd = cmd_rx.recv(), if self.writes.rewrites_in_flight == 0 => match cmd {
                    Some(cmd) => self.handle_command(cmd).await,
                    None => break,
                },
                _ = tick.tick() => self.handle_tick(),
            }
        }
        tracing::info!("coordinator stopped: every client handle is gone");
    }

    async fn handle_command(&mut self, cmd: Command) {
        match cmd {
            Command::Startup { reply } => {
                let conn_id = self.next_conn_id;
                self.next_conn_id = self.next_conn_id.wrapping_add(1).max(1);
                let secret: u32 = rand_u32();
                let (cancel, _) = watch::channel(0);
                self.conns.insert(conn_id, ConnMeta { secret, cancel });
                let _ = reply.send(CancelKey { conn_id, secret });
            }
            Command::Execute {
                session,
                stmt,
                params,
                param_types,
                reply,
            } => {
                self.execute(session, stmt, params, param_types, reply)
                    .await
            }
            Command::Describe {
                session,
                stmt,
                param_types,
                reply,
            } => {
                let mut desc = self.describe(&session, &stmt, param_types);
                // COPY has no result columns: its rows are COPY data.
                if let Ok(desc) = &mut desc
                    && plan::statement::is_copy_to(&stmt)
                {
                    desc.result = None;
                }
                let _ = reply.send(desc);
            }
            Command::CommitWrites { writes, reply } => self.submit_writes(writes, reply),
            Command::UndoAddedColumns {
                conn_id,
                undo,
                reply,
            } => self.undo_added_columns(conn_id, undo, reply).await,
            Command::DropCreated { ids, reply } => {
                let result = self.drop_created(ids).await;
                self.catalog_generation
                    .fetch_add(1, std::sync::atomic::Ordering::Release);
                if let Err(e) = &result {
                    tracing::warn!(error = %e, "undoing a rolled-back block's CREATEs failed");
                }
                if let Some(reply) = reply {
                    let _ = reply.send(result);
                }
            }
            Command::CopyRows {
                session,
                id,
                rows,
                generated,
                reply,
            } => self.copy_rows(session, id, rows, generated, reply).await,
            Command::AwaitFresh {
                conn_id,
                name,
                reply,
            } => self.await_fresh(conn_id, &name, reply),
            Command::Cancel { key } => {
                if let Some(conn) = self.conns.get(&key.conn_id)
                    && conn.secret == key.secret
                {
                    conn.cancel.send_modify(|generation| *generation += 1);
                    self.cancel_advisory_wait(key.conn_id);
                }
            }
            Command::TransactionEnded { conn_id } => {
                self.block_ended(conn_id);
                self.release_advisory_locks(conn_id, LockScope::Transaction);
                self.release_snapshot(conn_id);
            }
            Command::ReleaseSessionLocks { conn_id } => {
                self.release_advisory_locks(conn_id, LockScope::Session)
            }
            Command::Terminate { conn_id } => {
                self.block_ended(conn_id);
                if let Some(conn) = self.conns.remove(&conn_id) {
                    conn.cancel.send_modify(|generation| *generation += 1);
                }
                self.disconnect_advisory_locks(conn_id);
                self.release_snapshot(conn_id);
                self.sequences.disconnect(conn_id);
            }
        }
    }

    async fn handle_message(&mut self, msg: Message) {
        match msg {
            Message::AppendDone(result) => self.append_done(result),
            Message::ReadDone { ts, transient } => {
                self.release_read_hold(ts);
                if let Some(id) = transient {
                    self.cluster.send(WorkerCommand::Drop { id });
                }
            }
            Message::WriteRowsReady(ready) => {
                let ready = self.fill_ready_write(*ready).await;
                self.write_rows_ready(ready)
            }
            Message::SubscribeDone { id } => {
                if let Some(conn_id) = self.subscribes.remove(&id) {
                    tracing::debug!(%id, conn_id, "subscription ended");
                    self.cluster.send(WorkerCommand::Drop { id });
                }
            }
            Message::BrokerChecked(checked) => self.broker_checked(*checked).await,
            Message::KafkaReady { source } => self.drive_kafka_source(source),
            Message::KafkaRestart { source, rows } => self.restart_kafka_source(source, rows),
        }
    }

    /// Moves time forward when there were no writes, and lets arrangements compact.
    fn handle_tick(&mut self) {
        self.drive_generators();
        self.drive_kafka_sources();
        let time_must_pass = !self.time_dependent.is_empty() || !self.subscribes.is_empty();
        if time_must_pass || self.last_idle_advance.elapsed() >= IDLE_TICK {
            self.last_idle_advance = std::time::Instant::now();
            self.advance_idle_tables();
        }
        let read_ts = self.oracle.read_ts();
        let mut since = read_ts.saturating_sub(COMPACTION_WINDOW_MS);
        if let Some((oldest_hold, _)) = self.read_holds.first_key_value() {
            since = since.min(*oldest_hold);
        }
        tracing::trace!(
            read_ts,
            since,
            read_holds = self.read_holds.len(),
            "compaction"
        );
        for id in &self.arrangements {
            self.cluster
                .send(WorkerCommand::AllowCompaction { id: *id, since });
        }
    }

    pub(super) fn acquire_read_hold(&mut self, ts: Timestamp) {
        *self.read_holds.entry(ts).or_insert(0) += 1;
    }

    pub(super) fn release_read_hold(&mut self, ts: Timestamp) {
        if let Some(count) = self.read_holds.get_mut(&ts) {
            *count -= 1;
            if *count == 0 {
                self.read_holds.remove(&ts);
            }
        }
    }

    pub(super) fn transient_id(&mut self) -> GlobalId {
        let id = GlobalId::Transient(self.next_transient_id);
        self.next_transient_id += 1;
        id
    }

    pub(super) fn cancel_watch(&self, conn_id: u32) -> watch::Receiver<u64> {
        match self.conns.get(&conn_id) {
            Some(conn) => conn.cancel.subscribe(),
            // A session the coordinator does not know (it disconnected): a receiver whose
            // sender is gone reports "changed" at once, which cancels the work.
            None => watch::channel(0).1,
        }
    }

    /// Plans `stmt` against the current catalog.
    pub(super) fn plan(
        &self,
        session: &SessionInfo,
        stmt: &Statement,
        params: Option<&[Datum]>,
        param_types: Vec<Option<ScalarType>>,
    ) -> Result<(Plan, Vec<Option<ScalarType>>)> {
        let mut scx = StatementContext::new(&self.catalog, param_types, params);
        scx.session = plan::SessionContext {
            user: session.user.clone(),
            database: session.database.clone(),
            conn_id: session.conn_id,
            settings: session.settings.clone(),
        };
        scx.advisory_locks = self.advisory_locks.pg_locks_rows();
        let plan = plan::plan(&scx, stmt)?;
        let types = scx.param_types.into_inner();
        Ok((plan, types))
    }

    async fn execute(
        &mut self,
        session: SessionInfo,
        stmt: Statement,
        params: Vec<Datum>,
        param_types: Vec<Option<ScalarType>>,
        reply: tokio::sync::oneshot::Sender<Result<Executed>>,
    ) {
        let mut plan = match self.plan(&session, &stmt, Some(&params), param_types) {
            Ok((plan, _)) => plan,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        // Inside a transaction block, reads see the block's own buffered writes.
        let reads = match &mut plan {
            Plan::Select { expr, .. } | Plan::Insert { expr, .. } => Some(expr),
            Plan::ReadThenWrite { selection, .. } => Some(selection),
            _ => None,
        };
        if let Some(expr) = reads
            && let Err(e) =
                super::transaction::overlay_writes(&self.catalog, expr, &session.txn_writes)
        {
            let _ = reply.send(Err(e));
            return;
        }
        match plan {
            // `COPY ... TO STDOUT`: the SELECT of its rows, sent as COPY data (`read.rs`).
            Plan::Select {
                expr,
                desc,
                finishing,
            } if plan::statement::is_copy_to(&stmt) => {
                self.sequence_copy_to(session, &stmt, expr, desc, finishing, reply)
            }
            plan => self.sequence(session, plan, stmt, reply).await,
        }
    }
}

/// A random u32 for cancel secrets, from the OS-seeded hasher (no extra dependency).
fn rand_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(super::timestamp::now_ms());
    hasher.finish() as u32
}
