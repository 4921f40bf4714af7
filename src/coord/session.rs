//! `Session`: one connection's state — variables, the transaction block and its buffered
//! writes, cursors — and the statement path: parse → (coordinator: plan → sequence) → finish
//! session-level statements here.
//!
//! Transaction blocks: writes inside `BEGIN ... COMMIT` are buffered here and applied at
//! COMMIT as one atomic append (one timestamp); ROLLBACK discards them. The block's own
//! reads see them (`transaction.rs`). A savepoint remembers how many writes the block had
//! buffered; ROLLBACK TO drops those after it and ends the block's failed state.

use super::client::{
    CancelKey, Client, ExecuteResponse, StatementDesc, SubscribeStream, TransactionStatus,
};
use super::error::{AdapterError, Result};
use super::vars::SessionVars;
use super::{Command, Executed, SessionInfo, Writes};
use crate::repr::{ColumnType, Datum, GlobalId, RelationDesc, Row, ScalarType};
use crate::sql::plan::Plan;
use crate::sql::{PlanError, Statement};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use tokio::sync::oneshot;

enum Cursor {
    Rows {
        desc: RelationDesc,
        rows: VecDeque<Row>,
    },
    Subscribe {
        desc: RelationDesc,
        stream: SubscribeStream,
        buffered: VecDeque<Row>,
    },
}

impl Cursor {
    fn desc(&self) -> &RelationDesc {
        match self {
            Cursor::Rows { desc, .. } | Cursor::Subscribe { desc, .. } => desc,
        }
    }
}

/// A savepoint: its name, and how much the block had done when it was set.
struct Savepoint {
    name: String,
    writes: usize,
    created: usize,
    deferred: usize,
    dropping: usize,
    renaming: usize,
    added_columns: usize,
}

pub struct Session {
    client: Client,
    key: CancelKey,
    user: String,
    database: String,
    vars: SessionVars,
    pub(super) status: TransactionStatus,
    /// Writes of the open transaction block, applied at COMMIT. Shared with the statements
    /// of the block, which read them (`transaction.rs`).
    txn_writes: Arc<Writes>,
    cursors: HashMap<String, Cursor>,
    /// Items the open block created, which a rollback drops again (`transaction.rs`).
    pub(super) block_created: Vec<GlobalId>,
    /// NOTICE messages for the client, sent before the result of the statement that made
    /// them (`take_notices`).
    notices: Vec<String>,
    /// ADD COLUMNs the open block ran, which a rollback undoes (`alter_table.rs`).
    block_added_columns: Vec<super::alter_table::Narrowing>,
    /// DDL of the open block deferred to its COMMIT (`transaction.rs`).
    block_deferred: Vec<Statement>,
    /// What the deferred DROPs of the open block will remove.
    block_dropping: Vec<GlobalId>,
    /// The deferred renames of the open block: (item, new name).
    block_renaming: Vec<(GlobalId, String)>,
    /// The open block's savepoints, oldest first.
    savepoints: Vec<Savepoint>,
    /// Whether the open block is `READ ONLY`.
    read_only: bool,
    /// Variables the open block SET LOCAL, with their values from before, to restore when
    /// it ends.
    local_restore: Vec<(String, Option<String>)>,
}

pub(super) async fn connect(client: &Client, user: &str, database: &str) -> Result<Session> {
    let (reply, rx) = oneshot::channel();
    client
        .cmd_tx
        .send(Command::Startup { reply })
        .await
        .map_err(|_| AdapterError::ShuttingDown)?;
    let key = rx.await.map_err(|_| AdapterError::ShuttingDown)?;
    Ok(Session {
        client: client.clone(),
        key,
        user: user.to_string(),
        database: database.to_string(),
        vars: SessionVars::default(),
        status: TransactionStatus::Idle,
        txn_writes: Arc::new(Vec::new()),
        cursors: HashMap::new(),
        block_created: Vec::new(),
        notices: Vec::new(),
        block_added_columns: Vec::new(),
        block_deferred: Vec::new(),
        block_dropping: Vec::new(),
        block_renaming: Vec::new(),
        savepoints: Vec::new(),
        read_only: false,
        local_restore: Vec::new(),
    })
}

impl Drop for Session {
    fn drop(&mut self) {
        // A connection that ends inside a block rolls it back.
        if !self.block_created.is_empty() {
            let _ = self.client.cmd_tx.try_send(Command::DropCreated {
                ids: std::mem::take(&mut self.block_created),
                reply: None,
            });
        }
        if !self.block_added_columns.is_empty() {
            let _ = self.client.cmd_tx.try_send(Command::UndoAddedColumns {
                conn_id: self.key.conn_id,
                undo: std::mem::take(&mut self.block_added_columns),
                reply: None,
            });
        }
        let _ = self.client.cmd_tx.try_send(Command::Terminate {
            conn_id: self.key.conn_id,
        });
    }
}

fn is_transaction_end(stmt: &Statement) -> bool {
    matches!(
        stmt,
        Statement::Sql(s) if matches!(s.as_ref(), sqlparser::ast::Statement::Commit { .. } | sqlparser::ast::Statement::Rollback { .. })
    )
}

impl Session {
    pub fn cancel_key(&self) -> CancelKey {
        self.key
    }

    /// The ParameterStatus pairs sent after authentication.
    pub fn startup_parameters(&self) -> Vec<(String, String)> {
        self.vars.startup_parameters()
    }

    pub fn transaction_status(&self) -> TransactionStatus {
        self.status
    }

    fn info(&self) -> SessionInfo {
        SessionInfo {
            conn_id: self.key.conn_id,
            user: self.user.clone(),
            database: self.database.clone(),
            in_transaction_block: self.status != TransactionStatus::Idle,
            settings: self.vars.settings(),
            read_only_transaction: self.read_only && self.status != TransactionStatus::Idle,
            txn_writes: Arc::clone(&self.txn_writes),
            block_dropping: self.block_dropping.clone(),
            block_renaming: self.block_renaming.clone(),
        }
    }

    /// Describes `stmt` for the extended protocol. `param_types[i]` is the type the client
    /// declared for `$i+1` (None: infer it). As in PostgreSQL, a statement that fails to
    /// describe (Parse or Describe of an unknown table, say) aborts the open block, and an
    /// aborted block describes nothing but its end (25P02).
    pub async fn describe(
        &mut self,
        stmt: &Statement,
        param_types: &[Option<ScalarType>],
    ) -> Result<StatementDesc> {
        if self.status == TransactionStatus::Failed && !is_transaction_end(stmt) {
            return Err(AdapterError::InFailedTransaction);
        }
        let result = self.describe_inner(stmt, param_types).await;
        if result.is_err() {
            self.fail_block();
        }
        result
    }

    async fn describe_inner(
        &mut self,
        stmt: &Statement,
        param_types: &[Option<ScalarType>],
    ) -> Result<StatementDesc> {
        match stmt {
            Statement::Fetch { cursor, .. } => {
                let cursor = self
                    .cursors
                    .get(cursor)
                    .ok_or_else(|| AdapterError::UnknownCursor(cursor.clone()))?;
                return Ok(StatementDesc {
                    param_types: vec![],
                    result: Some(cursor.desc().clone()),
                });
            }
            Statement::Show(crate::sql::ShowStatement::Variable(name)) => {
                return Ok(StatementDesc {
                    param_types: vec![],
                    result: Some(show_desc(name)),
                });
            }
            _ => {}
        }
        let (reply, rx) = oneshot::channel();
        self.send(Command::Describe {
            session: self.info(),
            stmt: stmt.clone(),
            param_types: param_types.to_vec(),
            reply,
        })
        .await?;
        rx.await.map_err(|_| AdapterError::ShuttingDown)?
    }

    /// Executes `stmt` with `params` bound to `$1, $2, ...`.
    pub async fn execute(&mut self, stmt: &Statement, params: &[Datum]) -> Result<ExecuteResponse> {
        self.execute_typed(stmt, params, &[]).await
    }

    /// Executes `stmt` with `params` bound to `$1, $2, ...`, each of the type at the same
    /// position of `param_types` (the types they were decoded as; missing ones are inferred),
    /// so that the plan converts each value from the type it has.
    pub async fn execute_typed(
        &mut self,
        stmt: &Statement,
        params: &[Datum],
        param_types: &[ScalarType],
    ) -> Result<ExecuteResponse> {
        if self.status == TransactionStatus::Failed && !is_transaction_end(stmt) {
            return Err(AdapterError::InFailedTransaction);
        }
        let result = match super::create_table_as::insert_of(stmt) {
            Some(insert) => {
                self.create_table_as(stmt, insert?.as_ref(), params, param_types)
                    .await
            }
            None => self.execute_inner(stmt, params, param_types).await,
        };
        // TRUNCATE runs as a DELETE of every row; it answers as PostgreSQL's does.
        let result = match result {
            Ok(ExecuteResponse::Command { .. }) if matches!(stmt, Statement::Sql(s) if matches!(s.as_ref(), sqlparser::ast::Statement::Truncate(_))) => {
                Ok(ExecuteResponse::Command {
                    tag: crate::sql::plan::truncate::TAG.into(),
                })
            }
            other => other,
        };
        if result.is_err() && self.status == TransactionStatus::InBlock {
            self.status = TransactionStatus::Failed;
        }
        result
    }

    async fn send(&self, cmd: Command) -> Result<()> {
        self.client
            .cmd_tx
            .send(cmd)
            .await
            .map_err(|_| AdapterError::ShuttingDown)
    }

    pub(super) async fn execute_inner(
        &mut self,
        stmt: &Statement,
        params: &[Datum],
        param_types: &[ScalarType],
    ) -> Result<ExecuteResponse> {
        if let Statement::DeclareCursor { .. } = stmt
            && self.status == TransactionStatus::Idle
        {
            return Err(AdapterError::NoActiveTransaction(
                "DECLARE CURSOR can only be used in transaction blocks".into(),
            ));
        }
        let (reply, rx) = oneshot::channel();
        self.send(Command::Execute {
            session: self.info(),
            stmt: stmt.clone(),
            params: params.to_vec(),
            param_types: param_types.iter().cloned().map(Some).collect(),
            reply,
        })
        .await?;
        let mut executed = rx.await.map_err(|_| AdapterError::ShuttingDown)??;
        while let Executed::WithNotices {
            notices,
            executed: inner,
        } = executed
        {
            self.notices.extend(notices);
            executed = *inner;
        }
        match executed {
            Executed::WithNotices { .. } => unreachable!("unwrapped above"),
            Executed::Response(response) => Ok(response),
            Executed::BufferedWrite { writes, response } => {
                Arc::make_mut(&mut self.txn_writes).extend(writes);
                Ok(response)
            }
            Executed::CreatedInBlock { created, response } => {
                self.block_created.extend(created);
                Ok(response)
            }
            Executed::AddedColumnsInBlock { undo, response } => {
                self.block_added_columns.push(undo);
                Ok(response)
            }
            Executed::DeferredToCommit {
                dropping,
                renaming,
                response,
            } => {
                self.block_deferred.push(stmt.clone());
                self.block_dropping.extend(dropping);
                self.block_renaming.extend(renaming);
                Ok(response)
            }
            Executed::Cursor { name, response } => {
                let cursor = match response {
                    ExecuteResponse::Rows { desc, rows, .. } => Cursor::Rows {
                        desc,
                        rows: rows.into(),
                    },
                    ExecuteResponse::Subscribe { desc, stream }
                    | ExecuteResponse::CopyOut { desc, stream } => Cursor::Subscribe {
                        desc,
                        stream,
                        buffered: VecDeque::new(),
                    },
                    ExecuteResponse::Command { .. } | ExecuteResponse::CopyIn { .. } => {
                        return Err(AdapterError::Internal("cursor over a command".into()));
                    }
                };
                self.cursors.insert(name, cursor);
                Ok(ExecuteResponse::Command {
                    tag: "DECLARE CURSOR".into(),
                })
            }
            Executed::SessionPlan(plan) => self.execute_session_plan(plan).await,
        }
    }

    pub(super) async fn execute_session_plan(&mut self, plan: Plan) -> Result<ExecuteResponse> {
        let command = |tag: &str| {
            Ok(ExecuteResponse::Command {
                tag: tag.to_string(),
            })
        };
        match plan {
            Plan::SetVariable { name, value, local } => {
                self.set_variable(&name, value.as_deref(), local)?;
                command("SET")
            }
            Plan::ResetAll => {
                let names: Vec<String> = self.vars.all().map(|(n, _)| n.clone()).collect();
                for name in names {
                    // Variables clients cannot change keep their one value.
                    let _ = self.set_variable(&name, None, false);
                }
                command("RESET")
            }
            Plan::SetConfig { name, value, local } => {
                self.set_variable(&name, Some(&value), local)?;
                let value = self.vars.get(&name).unwrap_or_default().to_string();
                Ok(ExecuteResponse::Rows {
                    desc: set_config_desc(),
                    rows: vec![Row::new(vec![Datum::String(value)])],
                    tag: "SELECT 1".into(),
                })
            }
            Plan::ShowVariable(name) => {
                if name == "all" {
                    let rows = self
                        .vars
                        .all()
                        .map(|(n, v)| {
                            Row::new(vec![Datum::String(n.clone()), Datum::String(v.clone())])
                        })
                        .collect::<Vec<_>>();
                    let desc = RelationDesc::new(
                        vec!["name".into(), "setting".into()],
                        vec![
                            ColumnType::new(ScalarType::String, false),
                            ColumnType::new(ScalarType::String, false),
                        ],
                    );
                    return Ok(ExecuteResponse::Rows {
                        desc,
                        rows,
                        tag: "SHOW".into(),
                    });
                }
                let value = self.vars.get(&name).ok_or_else(|| {
                    PlanError::UnknownObject(format!(
                        "unrecognized configuration parameter \"{name}\""
                    ))
                })?;
                Ok(ExecuteResponse::Rows {
                    desc: show_desc(&name),
                    rows: vec![Row::new(vec![Datum::String(value.to_string())])],
                    tag: "SHOW".into(),
                })
            }
            Plan::StartTransaction { read_only } => {
                if self.status == TransactionStatus::Idle {
                    self.status = TransactionStatus::InBlock;
                    self.read_only = read_only.unwrap_or_else(|| {
                        self.vars.get("default_transaction_read_only") == Some("on")
                    });
                }
                command("BEGIN")
            }
            // Outside a block PostgreSQL only warns, and nothing changes.
            Plan::SetTransaction { read_only } => {
                if self.status != TransactionStatus::Idle
                    && let Some(read_only) = read_only
                {
                    self.read_only = read_only;
                }
                command("SET")
            }
            Plan::Commit => {
                let failed = self.status == TransactionStatus::Failed;
                let writes = std::mem::take(Arc::make_mut(&mut self.txn_writes));
                let deferred = std::mem::take(&mut self.block_deferred);
                if failed {
                    self.undo_created(0).await?;
                    self.undo_added_columns(0).await?;
                    self.end_block();
                    self.end_transaction_in_coordinator().await?;
                    return command("ROLLBACK");
                }
                // Committed: what the block created stays (`end_block` forgets it).
                self.end_block();
                // The block ends in the coordinator once its writes are in: until then
                // they count as the block's (an ALTER TABLE of another session checks).
                let applied = async {
                    for stmt in deferred {
                        self.run_deferred(stmt).await?;
                    }
                    if !writes.is_empty() {
                        let (reply, rx) = oneshot::channel();
                        self.send(Command::CommitWrites { writes, reply }).await?;
                        rx.await.map_err(|_| AdapterError::ShuttingDown)??;
                    }
                    Ok::<_, AdapterError>(())
                }
                .await;
                self.end_transaction_in_coordinator().await?;
                applied?;
                command("COMMIT")
            }
            Plan::Rollback => {
                Arc::make_mut(&mut self.txn_writes).clear();
                self.block_deferred.clear();
                self.undo_created(0).await?;
                self.undo_added_columns(0).await?;
                self.end_block();
                self.end_transaction_in_coordinator().await?;
                command("ROLLBACK")
            }
            Plan::Savepoint(name) => {
                if self.status == TransactionStatus::Idle {
                    return Err(AdapterError::NoActiveTransaction(
                        "SAVEPOINT can only be used in transaction blocks".into(),
                    ));
                }
                self.savepoints.push(Savepoint {
                    name,
                    writes: self.txn_writes.len(),
                    created: self.block_created.len(),
                    deferred: self.block_deferred.len(),
                    dropping: self.block_dropping.len(),
                    renaming: self.block_renaming.len(),
                    added_columns: self.block_added_columns.len(),
                });
                command("SAVEPOINT")
            }
            Plan::ReleaseSavepoint(name) => {
                let at = self.savepoint(&name)?;
                self.savepoints.truncate(at);
                command("RELEASE")
            }
            Plan::RollbackToSavepoint(name) => {
                let at = self.savepoint(&name)?;
                let (writes, created, deferred, dropping, renaming, added_columns) = {
                    let s = &self.savepoints[at];
                    (
                        s.writes,
                        s.created,
                        s.deferred,
                        s.dropping,
                        s.renaming,
                        s.added_columns,
                    )
                };
                Arc::make_mut(&mut self.txn_writes).truncate(writes);
                self.block_deferred.truncate(deferred);
                self.block_dropping.truncate(dropping);
                self.block_renaming.truncate(renaming);
                self.undo_created(created).await?;
                self.undo_added_columns(added_columns).await?;
                self.savepoints.truncate(at + 1);
                self.status = TransactionStatus::InBlock;
                command("ROLLBACK")
            }
            // Prepared statements live in the protocol layer, which drops them after this
            // succeeds (`server::simple`).
            Plan::Deallocate(name) => command(match name {
                Some(_) => "DEALLOCATE",
                None => "DEALLOCATE ALL",
            }),
            Plan::Fetch {
                cursor,
                count,
                timeout,
            } => self.fetch(&cursor, count, timeout).await,
            Plan::Close { cursor } => {
                self.cursors
                    .remove(&cursor)
                    .ok_or_else(|| AdapterError::UnknownCursor(cursor.clone()))?;
                command("CLOSE CURSOR")
            }
            Plan::DiscardAll => {
                if self.status != TransactionStatus::Idle {
                    return Err(AdapterError::ActiveTransaction(
                        "DISCARD ALL cannot run inside a transaction block".into(),
                    ));
                }
                self.vars = SessionVars::default();
                self.cursors.clear();
                self.send(Command::ReleaseSessionLocks {
                    conn_id: self.key.conn_id,
                })
                .await?;
                command("DISCARD ALL")
            }
            Plan::NoOp { notice, tag } => {
                self.notices
                    .extend(notice.lines().filter(|l| !l.is_empty()).map(String::from));
                command(&tag)
            }
            other => Err(AdapterError::Internal(format!(
                "not a session plan: {other:?}"
            ))),
        }
    }

    /// SET (or RESET, `value` None). `local`: only until the block ends, as PostgreSQL's
    /// SET LOCAL, which outside a block has no effect (PostgreSQL warns).
    fn set_variable(&mut self, name: &str, value: Option<&str>, local: bool) -> Result<()> {
        if local && self.status == TransactionStatus::Idle {
            return Ok(());
        }
        let before = self.vars.get(name).map(str::to_string);
        self.vars
            .set(name, value)
            .map_err(|m| AdapterError::Plan(PlanError::InvalidParameter(m)))?;
        let name = name.to_lowercase();
        if local {
            // The value from before the block's first SET LOCAL of it comes back at its end.
            if !self.local_restore.iter().any(|(n, _)| *n == name) {
                self.local_restore.push((name, before));
            }
        } else {
            // A plain SET in the block outlives it.
            self.local_restore.retain(|(n, _)| *n != name);
        }
        Ok(())
    }

    /// Tells the coordinator the block ended: it releases the block's transaction-scoped
    /// advisory locks and its READ ONLY snapshot. Commands reach the coordinator in order, so
    /// this precedes the session's next statement.
    async fn end_transaction_in_coordinator(&self) -> Result<()> {
        self.send(Command::TransactionEnded {
            conn_id: self.key.conn_id,
        })
        .await
    }

    /// Ends the transaction block (its writes already taken or dropped).
    fn end_block(&mut self) {
        self.status = TransactionStatus::Idle;
        self.read_only = false;
        self.savepoints.clear();
        self.block_created.clear();
        self.block_added_columns.clear();
        self.block_deferred.clear();
        self.block_dropping.clear();
        self.block_renaming.clear();
        self.cursors.clear();
        for (name, value) in std::mem::take(&mut self.local_restore).into_iter().rev() {
            if let Err(e) = self.vars.set(&name, value.as_deref()) {
                tracing::warn!(%name, error = %e, "restoring a SET LOCAL variable failed");
            }
        }
    }

    /// Aborts the open block (if any) for an error the protocol layer found, as a failed
    /// statement would: COPY data it refused, or a client's CopyFail.
    pub fn fail_block(&mut self) {
        if self.status == TransactionStatus::InBlock {
            self.status = TransactionStatus::Failed;
        }
    }

    /// Runs DDL deferred to COMMIT, as a statement of its own (the block has ended).
    async fn run_deferred(&mut self, stmt: Statement) -> Result<()> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Execute {
            session: self.info(),
            stmt,
            params: vec![],
            param_types: vec![],
            reply,
        })
        .await?;
        rx.await.map_err(|_| AdapterError::ShuttingDown)??;
        Ok(())
    }

    /// Drops the items the block created after its first `keep`.
    pub(super) async fn undo_created(&mut self, keep: usize) -> Result<()> {
        if self.block_created.len() <= keep {
            return Ok(());
        }
        let ids = self.block_created.split_off(keep);
        let (reply, rx) = oneshot::channel();
        self.send(Command::DropCreated {
            ids,
            reply: Some(reply),
        })
        .await?;
        rx.await.map_err(|_| AdapterError::ShuttingDown)?
    }

    /// Undoes the ADD COLUMNs the block ran after its first `keep`.
    async fn undo_added_columns(&mut self, keep: usize) -> Result<()> {
        if self.block_added_columns.len() <= keep {
            return Ok(());
        }
        let undo = self.block_added_columns.split_off(keep);
        let (reply, rx) = oneshot::channel();
        self.send(Command::UndoAddedColumns {
            conn_id: self.key.conn_id,
            undo,
            reply: Some(reply),
        })
        .await?;
        rx.await.map_err(|_| AdapterError::ShuttingDown)?
    }

    /// The NOTICE messages of the statements run since the last call, oldest first.
    pub fn take_notices(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notices)
    }

    /// The position of the newest savepoint named `name` in the open block.
    fn savepoint(&self, name: &str) -> Result<usize> {
        if self.status == TransactionStatus::Idle {
            return Err(AdapterError::NoActiveTransaction(format!(
                "savepoint \"{name}\" can only be used in transaction blocks"
            )));
        }
        self.savepoints
            .iter()
            .rposition(|s| s.name == name)
            .ok_or_else(|| AdapterError::UnknownSavepoint(name.to_string()))
    }

    /// Finishes `COPY ... FROM STDIN` with the data the client sent: parses it, fills in
    /// defaults, and inserts every row as one write (or buffers it in a transaction block).
    pub async fn copy_in(
        &mut self,
        target: &crate::sql::plan::CopyFromTarget,
        data: &[u8],
    ) -> Result<ExecuteResponse> {
        if self.status == TransactionStatus::Failed {
            return Err(AdapterError::InFailedTransaction);
        }
        match copy_rows_of(target, data) {
            Ok(rows) => self.copy_rows(target, rows).await,
            Err(e) => {
                self.fail_block();
                Err(e)
            }
        }
    }

    /// Inserts `rows`, complete rows of `target`'s table (as `copy_in` makes them from COPY
    /// data: every column present, sequence columns still to fill), as one write, or
    /// buffers them in the open transaction block. The benchmarks' generators call it with
    /// the rows they make.
    pub async fn copy_rows(
        &mut self,
        target: &crate::sql::plan::CopyFromTarget,
        rows: Vec<Row>,
    ) -> Result<ExecuteResponse> {
        if self.status == TransactionStatus::Failed {
            return Err(AdapterError::InFailedTransaction);
        }
        let result = self.send_copy_rows(target, rows).await;
        if result.is_err() {
            self.fail_block();
        }
        result
    }

    async fn send_copy_rows(
        &mut self,
        target: &crate::sql::plan::CopyFromTarget,
        rows: Vec<Row>,
    ) -> Result<ExecuteResponse> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::CopyRows {
            session: self.info(),
            id: target.id,
            rows,
            generated: target.generated.clone(),
            reply,
        })
        .await?;
        match rx.await.map_err(|_| AdapterError::ShuttingDown)?? {
            Executed::Response(response) => Ok(response),
            Executed::BufferedWrite { writes, response } => {
                Arc::make_mut(&mut self.txn_writes).extend(writes);
                Ok(response)
            }
            _ => Err(AdapterError::Internal("unexpected answer to COPY".into())),
        }
    }

    /// Waits until table, source or materialized view `name` reflects every write
    /// committed before the call (strict serializability, as a SELECT of it would),
    /// without reading its rows: how a benchmark learns that a view has absorbed its
    /// input. Cancellable like a query.
    pub async fn await_fresh(&mut self, name: &str) -> Result<()> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::AwaitFresh {
            conn_id: self.key.conn_id,
            name: name.to_string(),
            reply,
        })
        .await?;
        rx.await.map_err(|_| AdapterError::ShuttingDown)?
    }

    /// `FETCH count cursor [WITH (TIMEOUT = t)]`. On a SUBSCRIBE cursor: waits until at least
    /// one row is available (at most `timeout`, if given), then returns up to `count` rows.
    async fn fetch(
        &mut self,
        name: &str,
        count: Option<u64>,
        timeout: Option<std::time::Duration>,
    ) -> Result<ExecuteResponse> {
        let cursor = self
            .cursors
            .get_mut(name)
            .ok_or_else(|| AdapterError::UnknownCursor(name.to_string()))?;
        let limit = count.map(|c| c as usize).unwrap_or(usize::MAX);
        let (desc, rows) = match cursor {
            Cursor::Rows { desc, rows } => {
                let n = limit.min(rows.len());
                (desc.clone(), rows.drain(..n).collect::<Vec<_>>())
            }
            Cursor::Subscribe {
                desc,
                stream,
                buffered,
            } => {
                if buffered.is_empty() {
                    let next = match timeout {
                        Some(t) => tokio::time::timeout(t, stream.recv()).await.ok(),
                        None => Some(stream.recv().await),
                    };
                    if let Some(Some(batch)) = next {
                        buffered.extend(batch?)
                    }
                }
                // Take whatever else is already waiting, without blocking.
                while buffered.len() < limit {
                    match stream.try_recv() {
                        Ok(batch) => buffered.extend(batch?),
                        Err(_) => break,
                    }
                }
                let n = limit.min(buffered.len());
                (desc.clone(), buffered.drain(..n).collect::<Vec<_>>())
            }
        };
        let tag = format!("FETCH {}", rows.len());
        Ok(ExecuteResponse::Rows { desc, rows, tag })
    }
}

/// The one column `SELECT set_config(...)` answers.
pub(super) fn set_config_desc() -> RelationDesc {
    show_desc("set_config")
}

fn show_desc(name: &str) -> RelationDesc {
    RelationDesc::new(
        vec![name.to_string()],
        vec![ColumnType::new(ScalarType::String, false)],
    )
}

/// The complete rows of `COPY ... FROM STDIN` data for `target`: each record parsed, and
/// defaults filled in for the columns it does not list.
fn copy_rows_of(target: &crate::sql::plan::CopyFromTarget, data: &[u8]) -> Result<Vec<Row>> {
    let records = crate::repr::copy_format::parse_copy(data, &target.format)
        .map_err(AdapterError::BadCopyFormat)?;
    let defaults: Vec<Datum> = target
        .defaults
        .iter()
        .map(|d| d.eval(&[]))
        .collect::<std::result::Result<_, _>>()?;
    let mut rows = Vec::with_capacity(records.len());
    for (n, fields) in records.into_iter().enumerate() {
        let line = n + 1;
        if fields.len() < target.columns.len() {
            return Err(AdapterError::BadCopyFormat(format!(
                "missing data for column \"{}\" (line {line})",
                target.desc.names[target.columns[fields.len()]]
            )));
        }
        if fields.len() > target.columns.len() {
            return Err(AdapterError::BadCopyFormat(format!(
                "extra data after last expected column (line {line})"
            )));
        }
        let mut row = defaults.clone();
        for (field, column) in fields.into_iter().zip(&target.columns) {
            row[*column] = match field {
                None => Datum::Null,
                Some(text) => {
                    crate::repr::text::parse_datum(&text, &target.desc.types[*column].scalar_type)
                        .map_err(|source| AdapterError::CopyField {
                        source,
                        context: format!(
                            "COPY {}, line {line}, column {}: \"{text}\"",
                            target.table, target.desc.names[*column]
                        ),
                    })?
                }
            };
        }
        rows.push(Row::new(row));
    }
    Ok(rows)
}
