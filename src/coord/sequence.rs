//! Executing plans: DDL (durable in the catalog before it is acknowledged), SHOW, EXPLAIN,
//! and the dispatch of reads, writes and subscriptions to their modules.

use super::coordinator::Coordinator;
use super::error::{AdapterError, Result};
use super::sources::SourceFeed;
use super::{ExecuteResponse, Executed, SessionInfo, StatementDesc};
use crate::catalog::comments::CommentRecord;
use crate::catalog::{CatalogEntry, CatalogItem, UniqueKey};
use crate::dataflow::command::{DataflowDesc, DataflowExport, WorkerCommand};
use crate::expr::RelationExpr;
use crate::repr::{ColumnType, Datum, GlobalId, RelationDesc, Row, ScalarType};
use crate::sql::plan::Plan;
use crate::sql::{PlanError, Statement};
use crate::storage::CatalogOp;
use tokio::sync::oneshot;

type Reply = oneshot::Sender<Result<Executed>>;

impl Coordinator {
    pub(super) async fn sequence(
        &mut self,
        session: SessionInfo,
        plan: Plan,
        stmt: Statement,
        reply: Reply,
    ) {
        let is_ddl = matches!(
            plan,
            Plan::CreateTable { .. }
                | Plan::CreateSequence { .. }
                | Plan::CreateSource { .. }
                | Plan::CreateKafkaSource { .. }
                | Plan::CreateConnection { .. }
                | Plan::CreateSecret { .. }
                | Plan::CreateSink { .. }
                | Plan::CreateView { .. }
                | Plan::CreateIndex { .. }
                | Plan::Drop { .. }
                | Plan::AlterRename { .. }
                | Plan::Comment { .. }
                | Plan::DropColumns(_)
                | Plan::AlterColumns(_)
        );
        if session.read_only_transaction {
            let write = match &plan {
                Plan::Insert { .. } => Some("INSERT"),
                Plan::ReadThenWrite {
                    assignments: Some(_),
                    ..
                } => Some("UPDATE"),
                Plan::ReadThenWrite { .. } => Some("DELETE"),
                Plan::CopyFrom(_) => Some("COPY FROM"),
                Plan::Drop { .. } => Some("DROP"),
                Plan::AlterRename { .. } => Some("ALTER"),
                Plan::AddColumns(_) | Plan::DropColumns(_) | Plan::AlterColumns(_) => {
                    Some("ALTER TABLE")
                }
                Plan::Comment { .. } => Some("COMMENT"),
                _ if is_ddl => Some("CREATE"),
                _ => None,
            };
            if let Some(write) = write {
                let _ = reply.send(Err(AdapterError::ReadOnlyTransaction(write.into())));
                return;
            }
        }
        let notices = self.ddl_notices(&plan);
        let reply = if notices.is_empty() {
            reply
        } else {
            with_notices(reply, notices)
        };
        if is_ddl && session.in_transaction_block {
            self.sequence_ddl_in_block(plan, stmt, &session, reply)
                .await;
            return;
        }
        match plan {
            Plan::SetVariable { .. }
            | Plan::SetConfig { .. }
            | Plan::ResetAll
            | Plan::ShowVariable(_)
            | Plan::StartTransaction { .. }
            | Plan::SetTransaction { .. }
            | Plan::Commit
            | Plan::Rollback
            | Plan::Savepoint(_)
            | Plan::ReleaseSavepoint(_)
            | Plan::RollbackToSavepoint(_)
            | Plan::Deallocate(_)
            | Plan::Fetch { .. }
            | Plan::Close { .. }
            | Plan::DiscardAll
            | Plan::NoOp { .. } => {
                // Gone before the session runs the plan: COMMIT takes the block's buffered
                // writes out of the `Arc` this info shares, without copying them while it
                // is still shared.
                drop(session);
                let _ = reply.send(Ok(Executed::SessionPlan(plan)));
            }
            Plan::CreateConnection { .. }
            | Plan::CreateKafkaSource { .. }
            | Plan::CreateSink { .. } => {
                self.check_broker_then_sequence(plan, stmt, reply);
            }
            Plan::CreateTable { .. }
            | Plan::CreateSequence { .. }
            | Plan::CreateSource { .. }
            | Plan::CreateSecret { .. }
            | Plan::CreateView { .. }
            | Plan::CreateIndex { .. }
            | Plan::Drop { .. }
            | Plan::AlterRename { .. }
            | Plan::Comment { .. } => {
                let result = self.sequence_ddl(plan, &stmt).await;
                self.reply_ddl(result, reply);
            }
            Plan::CopyFrom(target) => {
                let _ = reply.send(Ok(Executed::Response(ExecuteResponse::CopyIn { target })));
            }
            Plan::AddColumns(add) => {
                self.sequence_add_columns(&session, add, statement_sql(&stmt), reply)
                    .await;
            }
            Plan::DropColumns(drop) => {
                self.sequence_drop_columns(&session, drop, statement_sql(&stmt), reply)
                    .await;
            }
            Plan::AlterColumns(alter) => {
                let result = self.alter_columns(alter, statement_sql(&stmt)).await;
                self.reply_ddl(result, reply);
            }
            Plan::AdvisoryLock(call) => self.sequence_advisory_lock(&session, call, reply),
            Plan::ShowSourceStatuses => {
                let (desc, rows) = self.source_statuses();
                let tag = format!("SHOW {}", rows.len());
                let _ = reply.send(Ok(Executed::Response(ExecuteResponse::Rows {
                    desc,
                    rows,
                    tag,
                })));
            }
            Plan::ShowRows { desc, rows } => {
                let tag = format!("SHOW {}", rows.len());
                let _ = reply.send(Ok(Executed::Response(ExecuteResponse::Rows {
                    desc,
                    rows,
                    tag,
                })));
            }
            Plan::Explain { expr } => {
                let expr = crate::optimize::optimize(expr, &self.catalog);
                let text = super::explain::explain(&expr, &self.catalog);
                let rows: Vec<Row> = text
                    .lines()
                    .map(|l| Row::new(vec![Datum::String(l.to_string())]))
                    .collect();
                let desc = RelationDesc::new(
                    vec!["Optimized Plan".into()],
                    vec![ColumnType::new(ScalarType::String, false)],
                );
                let tag = format!("EXPLAIN {}", rows.len());
                let _ = reply.send(Ok(Executed::Response(ExecuteResponse::Rows {
                    desc,
                    rows,
                    tag,
                })));
            }
            Plan::Select {
                expr,
                desc,
                finishing,
            } => self.sequence_select(session, expr, desc, finishing, None, reply),
            Plan::Subscribe {
                expr,
                desc,
                snapshot,
                progress,
                copy,
            } => {
                let response =
                    self.sequence_subscribe(&session, expr, desc, snapshot, progress, copy);
                let _ = reply.send(response.map(Executed::Response));
            }
            Plan::DeclareCursor { name, plan } => match *plan {
                Plan::Subscribe {
                    expr,
                    desc,
                    snapshot,
                    progress,
                    ..
                } => {
                    let response =
                        self.sequence_subscribe(&session, expr, desc, snapshot, progress, false);
                    let _ =
                        reply.send(response.map(|response| Executed::Cursor { name, response }));
                }
                Plan::Select {
                    expr,
                    desc,
                    finishing,
                } => self.sequence_select(session, expr, desc, finishing, Some(name), reply),
                _ => {
                    let _ = reply.send(Err(AdapterError::Internal(
                        "cursor over a statement that is not a query".into(),
                    )));
                }
            },
            Plan::Insert {
                id,
                expr,
                returning,
                generated,
            } => {
                self.sequence_insert(session, id, expr, returning, generated, reply)
                    .await
            }
            Plan::SequenceFunction(call) => {
                let result = self.sequence_function(&session, &call).await;
                let _ = reply.send(result.map(|row| {
                    Executed::Response(ExecuteResponse::Rows {
                        desc: call.desc(),
                        rows: vec![row],
                        tag: "SELECT 1".into(),
                    })
                }));
            }
            Plan::ReadThenWrite {
                id,
                selection,
                assignments,
                returning,
            } => {
                self.sequence_read_then_write(session, id, selection, assignments, returning, reply)
            }
        }
    }

    /// Describes a statement for the extended protocol.
    pub(super) fn describe(
        &self,
        session: &SessionInfo,
        stmt: &Statement,
        param_types: Vec<Option<ScalarType>>,
    ) -> Result<StatementDesc> {
        let (plan, types) = self.plan(session, stmt, None, param_types)?;
        let result = match plan {
            Plan::Select { desc, .. } | Plan::ShowRows { desc, .. } => Some(desc),
            Plan::SetConfig { .. } => Some(super::session::set_config_desc()),
            Plan::AdvisoryLock(call) => Some(call.desc()),
            Plan::SequenceFunction(call) => Some(call.desc()),
            Plan::Subscribe {
                desc,
                progress,
                copy: false,
                ..
            } => Some(super::subscribe::subscribe_desc(&desc, progress)),
            Plan::Explain { .. } => Some(RelationDesc::new(
                vec!["Optimized Plan".into()],
                vec![ColumnType::new(ScalarType::String, false)],
            )),
            Plan::Insert {
                returning: Some(r), ..
            }
            | Plan::ReadThenWrite {
                returning: Some(r), ..
            } => Some(r.desc),
            Plan::ShowSourceStatuses => Some(super::kafka_sources::source_statuses_desc()),
            Plan::ShowVariable(name) => Some(RelationDesc::new(
                vec![name],
                vec![ColumnType::new(ScalarType::String, false)],
            )),
            _ => None,
        };
        Ok(StatementDesc {
            param_types: types
                .into_iter()
                .map(|t| t.unwrap_or(ScalarType::String))
                .collect(),
            result,
        })
    }

    /// Whether `name` is taken: `Ok(true)` lets `IF NOT EXISTS` succeed doing nothing;
    /// without it, a taken name is an error.
    fn name_taken(&self, name: &str, if_not_exists: bool) -> Result<bool> {
        match (self.catalog.name_exists(name), if_not_exists) {
            (false, _) => Ok(false),
            (true, true) => Ok(true),
            (true, false) => Err(PlanError::AlreadyExists(name.to_string()).into()),
        }
    }

    /// DDL inside a transaction block (see `transaction.rs`): a CREATE runs now and its items
    /// are reported for the session to drop if the block rolls back; a DROP, ALTER or
    /// CREATE OR REPLACE, which could not be undone, was checked by planning (a DROP's
    /// dependents here, counting what the block's earlier DROPs remove; a rename's new name
    /// here, counting what its earlier renames and DROPs free) and runs at COMMIT.
    async fn sequence_ddl_in_block(
        &mut self,
        plan: Plan,
        stmt: Statement,
        session: &SessionInfo,
        reply: Reply,
    ) {
        let going = &session.block_dropping;
        let deferred = matches!(
            plan,
            Plan::Drop { .. }
                | Plan::AlterRename { .. }
                | Plan::Comment { .. }
                | Plan::DropColumns(_)
                | Plan::AlterColumns(_)
                | Plan::CreateView {
                    replace: Some(_),
                    ..
                }
        );
        if deferred {
            let dropping = match &plan {
                Plan::Drop { ids, cascade, .. } => match self.drop_closure(ids, *cascade, going) {
                    Ok(all) => all,
                    Err(e) => {
                        let _ = reply.send(Err(e));
                        return;
                    }
                },
                _ => Vec::new(),
            };
            if let Plan::DropColumns(drop) = &plan
                && let Err(e) = self.check_drop_columns(drop, session.conn_id)
            {
                let _ = reply.send(Err(e));
                return;
            }
            let renaming = match &plan {
                Plan::AlterRename { id, new_name, .. } => {
                    if let Err(e) = self.check_deferred_rename(new_name, session) {
                        let _ = reply.send(Err(e));
                        return;
                    }
                    Some((*id, new_name.clone()))
                }
                _ => None,
            };
            let tag = super::transaction::command_tag(&stmt);
            let _ = reply.send(Ok(Executed::DeferredToCommit {
                dropping,
                renaming,
                response: ExecuteResponse::Command { tag },
            }));
            return;
        }
        if matches!(
            plan,
            Plan::CreateConnection { .. }
                | Plan::CreateKafkaSource { .. }
                | Plan::CreateSink { .. }
        ) {
            let _ = reply.send(Err(PlanError::unsupported(
                "CREATE CONNECTION, Kafka SOURCE or SINK inside a transaction block",
            )
            .into()));
            return;
        }
        let first = self.next_user_id;
        let result = self.sequence_ddl(plan, &stmt).await;
        self.catalog_generation
            .fetch_add(1, std::sync::atomic::Ordering::Release);
        let created: Vec<GlobalId> = (first..self.next_user_id)
            .map(GlobalId::User)
            .filter(|id| self.catalog.get(*id).is_some())
            .collect();
        let _ = reply.send(result.map(|tag| Executed::CreatedInBlock {
            created,
            response: ExecuteResponse::Command { tag },
        }));
    }

    /// Whether a rename the block defers to COMMIT will find `new_name` free then: it is
    /// free now, or its item is renamed or dropped by an earlier deferred statement of the
    /// block (which runs first), and no earlier deferred rename of the block takes it.
    fn check_deferred_rename(&self, new_name: &str, session: &SessionInfo) -> Result<()> {
        let holder = self.catalog.resolve(&[new_name.to_string()]).ok();
        let freed = holder.is_none_or(|entry| {
            session.block_dropping.contains(&entry.id)
                || session.block_renaming.iter().any(|(id, _)| *id == entry.id)
        });
        let taken = session
            .block_renaming
            .iter()
            .any(|(_, name)| name == new_name);
        if !freed || taken {
            return Err(PlanError::AlreadyExists(new_name.to_string()).into());
        }
        Ok(())
    }

    /// Drops what a rolled-back block created (those of `ids` that still exist), each with
    /// whatever was built on it since, newest first.
    pub(super) async fn drop_created(&mut self, ids: Vec<GlobalId>) -> Result<()> {
        let mut doomed = std::collections::BTreeSet::new();
        for id in ids {
            if self.catalog.get(id).is_some() {
                doomed.extend(self.catalog.dependents_closure(id));
            }
        }
        let newest_first: Vec<GlobalId> = doomed.into_iter().rev().collect();
        if newest_first.is_empty() {
            return Ok(());
        }
        self.drop_items(&newest_first).await
    }

    pub(super) fn allocate_id(&mut self) -> GlobalId {
        let id = GlobalId::User(self.next_user_id);
        self.next_user_id += 1;
        id
    }

    pub(super) async fn persist_catalog(&self, ops: Vec<CatalogOp>) -> Result<()> {
        self.storage
            .catalog_transact(ops)
            .await
            .map_err(AdapterError::from)
    }

    pub(super) fn catalog_put(entry: &CatalogEntry) -> Result<CatalogOp> {
        let record = postcard::to_allocvec(entry)
            .map_err(|e| AdapterError::Internal(format!("encoding catalog entry: {e}")))?;
        Ok(CatalogOp::Put {
            id: user_id(entry.id),
            record,
        })
    }

    /// Answers a DDL statement with its tag (or error); what sessions cached about
    /// statements is invalid from now on.
    pub(super) fn reply_ddl(&mut self, result: Result<String>, reply: Reply) {
        self.catalog_generation
            .fetch_add(1, std::sync::atomic::Ordering::Release);
        let _ = reply.send(result.map(|tag| Executed::Response(ExecuteResponse::Command { tag })));
    }

    /// Executes a DDL plan; returns the command tag.
    pub(super) async fn sequence_ddl(&mut self, plan: Plan, stmt: &Statement) -> Result<String> {
        let create_sql = statement_sql(stmt);
        match plan {
            Plan::CreateTable {
                name,
                desc,
                defaults,
                keys,
                if_not_exists,
                sequences,
            } => {
                if self.name_taken(&name, if_not_exists)? {
                    return Ok("CREATE TABLE".into());
                }
                // The sequences of serial and identity columns first: the table uses them.
                let mut sequence_entries = Vec::new();
                for sequence in &sequences {
                    self.name_taken(&sequence.name, false)?;
                    sequence_entries.push(CatalogEntry {
                        id: self.allocate_id(),
                        name: sequence.name.clone(),
                        create_sql: format!("CREATE SEQUENCE {}", sequence.name),
                        item: CatalogItem::Sequence(sequence.spec.clone()),
                    });
                }
                let id = self.allocate_id();
                for (entry, sequence) in sequence_entries.iter_mut().zip(&sequences) {
                    if let CatalogItem::Sequence(spec) = &mut entry.item {
                        spec.owned_by = Some((id, sequence.column));
                    }
                }
                let entry = CatalogEntry {
                    id,
                    name,
                    create_sql,
                    item: CatalogItem::Table {
                        desc,
                        defaults,
                        keys,
                    },
                };
                let read_ts = self.oracle.read_ts();
                // The table's record, its shard and its sequences, in one transaction.
                let mut ops = Vec::new();
                for sequence in &sequence_entries {
                    ops.push(Self::catalog_put(sequence)?);
                    ops.push(Self::initial_position(sequence.id)?);
                }
                ops.push(Self::catalog_put(&entry)?);
                ops.push(CatalogOp::CreateShard {
                    shard: id,
                    upper: read_ts + 1,
                });
                self.persist_catalog(ops).await?;
                for sequence in sequence_entries {
                    self.catalog.insert(sequence);
                }
                if let CatalogItem::Table { desc, keys, .. } = &entry.item {
                    // An empty table breaks no key.
                    self.writes.unique.add_table(id, desc, keys, &[])?;
                }
                self.catalog.insert(entry);
                self.create_table_input(id);
                Ok("CREATE TABLE".into())
            }
            Plan::CreateSequence {
                name,
                spec,
                if_not_exists,
            } => {
                if self.name_taken(&name, if_not_exists)? {
                    return Ok("CREATE SEQUENCE".into());
                }
                let entry = CatalogEntry {
                    id: self.allocate_id(),
                    name,
                    create_sql,
                    item: CatalogItem::Sequence(spec),
                };
                self.persist_catalog(vec![
                    Self::catalog_put(&entry)?,
                    Self::initial_position(entry.id)?,
                ])
                .await?;
                self.catalog.insert(entry);
                Ok("CREATE SEQUENCE".into())
            }
            Plan::CreateSource { spec, relations } => {
                self.create_source(SourceFeed::Generator(spec), relations, create_sql)
                    .await?;
                Ok("CREATE SOURCE".into())
            }
            Plan::CreateKafkaSource { spec, relations } => {
                self.create_source(SourceFeed::Kafka(spec), relations, create_sql)
                    .await?;
                Ok("CREATE SOURCE".into())
            }
            Plan::CreateConnection { name, connection } => {
                self.create_plain_item(
                    name,
                    create_sql,
                    CatalogItem::Connection { kafka: connection },
                )
                .await?;
                Ok("CREATE CONNECTION".into())
            }
            Plan::CreateSink { name, spec } => {
                let id = self
                    .create_plain_item(name, create_sql, CatalogItem::Sink { spec: *spec })
                    .await?;
                self.start_sink(id)?;
                Ok("CREATE SINK".into())
            }
            Plan::CreateSecret { name, value } => {
                self.create_plain_item(name, create_sql, CatalogItem::Secret { value })
                    .await?;
                Ok("CREATE SECRET".into())
            }
            Plan::CreateView {
                name,
                desc,
                expr,
                materialized,
                if_not_exists,
                replace,
            } => {
                let tag = if materialized {
                    "CREATE MATERIALIZED VIEW"
                } else {
                    "CREATE VIEW"
                };
                if let Some(old) = replace {
                    let dependents = self.catalog.dependents_closure(old);
                    let materialized_dependents = dependents
                        .iter()
                        .filter(|d| **d != old)
                        .filter_map(|d| self.catalog.get(*d))
                        .any(|e| !matches!(e.item, CatalogItem::View { .. }));
                    if materialized_dependents {
                        return Err(PlanError::unsupported("CREATE OR REPLACE of a view that materialized views or indexes depend on").into());
                    }
                    if !materialized {
                        // Replace in place: dependent views see the new definition (they are
                        // inlined at query time). PostgreSQL's rule: existing columns keep
                        // their names and types; new ones may only be added at the end.
                        let old_desc = self
                            .catalog
                            .get(old)
                            .and_then(|e| e.item.desc())
                            .cloned()
                            .unwrap_or_default();
                        for (i, (name, typ)) in old_desc.iter().enumerate() {
                            match (desc.names.get(i), desc.types.get(i)) {
                                (Some(n), _) if n != name => {
                                    return Err(PlanError::InvalidTableDefinition(format!("cannot change name of view column \"{name}\" to \"{n}\"")).into())
                                }
                                (Some(_), Some(t)) if t.scalar_type != typ.scalar_type => {
                                    return Err(PlanError::InvalidTableDefinition(format!(
                                        "cannot change data type of view column \"{name}\" from {} to {}",
                                        typ.scalar_type.sql_name(),
                                        t.scalar_type.sql_name()
                                    ))
                                    .into())
                                }
                                (None, _) => return Err(PlanError::InvalidTableDefinition("cannot drop columns from view".into()).into()),
                                _ => {}
                            }
                        }
                        let entry = CatalogEntry {
                            id: old,
                            name,
                            create_sql,
                            item: CatalogItem::View { desc, expr },
                        };
                        self.persist_catalog(vec![Self::catalog_put(&entry)?])
                            .await?;
                        self.catalog.replace(entry);
                        return Ok(tag.into());
                    }
                    self.drop_items(&[old]).await?;
                } else if self.name_taken(&name, if_not_exists)? {
                    return Ok(tag.into());
                }
                let id = self.allocate_id();
                let item = if materialized {
                    CatalogItem::MaterializedView { desc, expr }
                } else {
                    CatalogItem::View { desc, expr }
                };
                let entry = CatalogEntry {
                    id,
                    name,
                    create_sql,
                    item,
                };
                self.persist_catalog(vec![Self::catalog_put(&entry)?])
                    .await?;
                self.catalog.insert(entry);
                self.create_item_dataflow(id);
                Ok(tag.into())
            }
            Plan::CreateIndex {
                name,
                on,
                keys,
                key_sql,
                unique,
                if_not_exists,
            } => {
                if self.name_taken(&name, if_not_exists)? {
                    return Ok("CREATE INDEX".into());
                }
                if let Some(key) = &unique {
                    self.enforce_unique_index(on, key).await?;
                }
                let id = self.allocate_id();
                let entry = CatalogEntry {
                    id,
                    name,
                    create_sql,
                    item: CatalogItem::Index {
                        on,
                        keys,
                        key_sql,
                        unique,
                    },
                };
                let persisted = self.persist_catalog(vec![Self::catalog_put(&entry)?]).await;
                if let (
                    Err(_),
                    CatalogItem::Index {
                        unique: Some(key), ..
                    },
                ) = (&persisted, &entry.item)
                {
                    self.writes.unique.drop_key(on, &key.name);
                }
                persisted?;
                self.catalog.insert(entry);
                self.create_item_dataflow(id);
                Ok("CREATE INDEX".into())
            }
            Plan::Drop {
                kind,
                ids,
                cascade,
                missing: _,
            } => {
                let tag = format!("DROP {}", item_kind_name(kind));
                let all = self.drop_closure(&ids, cascade, &[])?;
                self.drop_items(&all).await?;
                Ok(tag)
            }
            Plan::Comment { target, text } => {
                let id = target.record_id().ok_or_else(|| {
                    AdapterError::Internal(format!("{target:?} cannot have a comment"))
                })?;
                let text = text.filter(|t| !t.is_empty());
                let op = match &text {
                    Some(text) => CatalogOp::Put {
                        id,
                        record: postcard::to_allocvec(&CommentRecord {
                            target,
                            text: text.clone(),
                        })
                        .map_err(|e| AdapterError::Internal(format!("encoding a comment: {e}")))?,
                    },
                    None => CatalogOp::Delete { id },
                };
                // Planned against this catalog, or checked again when a block's COMMIT runs it.
                if self.catalog.get(target.item).is_none() {
                    return Err(AdapterError::Internal(format!(
                        "the item {} of a comment is gone",
                        target.item
                    )));
                }
                self.persist_catalog(vec![op]).await?;
                self.catalog.set_comment(target, text);
                Ok("COMMENT".into())
            }
            Plan::AlterRename { kind, id, new_name } => {
                if self.catalog.name_exists(&new_name) {
                    return Err(PlanError::AlreadyExists(new_name).into());
                }
                self.catalog.rename(id, new_name);
                let entry = self.catalog.get(id).expect("renamed item exists").clone();
                self.persist_catalog(vec![Self::catalog_put(&entry)?])
                    .await?;
                Ok(format!("ALTER {}", item_kind_name(kind)))
            }
            _ => Err(AdapterError::Internal("not a DDL plan".into())),
        }
    }

    /// Starts enforcing a unique index's key on table `on`, after checking the table's rows.
    ///
    /// The coordinator handles nothing else until this returns, so no write is queued
    /// meanwhile. The rows checked are what a read at the read timestamp sees, plus the
    /// writes in flight or queued (which commit later): every row the table will hold once
    /// those commit. Later writes are checked against the key when they are queued.
    async fn enforce_unique_index(&mut self, on: GlobalId, key: &UniqueKey) -> Result<()> {
        let desc = match self.catalog.get(on).map(|e| &e.item) {
            Some(CatalogItem::Table { desc, .. }) => desc.clone(),
            _ => {
                return Err(AdapterError::Internal(format!(
                    "unique index on {on}, which is not a table"
                )));
            }
        };
        // Nothing cancels this read but the server going away.
        let (_cancel_tx, cancel) = tokio::sync::watch::channel(0);
        let read = self.start_read_until(RelationExpr::global_get(on, desc.types.clone()), cancel);
        let mut rows = read.await?;
        rows.extend(self.writes.unapplied_updates(on));
        self.writes.unique.add_key(on, &desc, key, &rows)
    }

    /// What `DROP ids` removes, dependents before what they depend on: `ids`, their
    /// indexes, and with `cascade` everything depending on them. Without `cascade` anything
    /// else depending on them is an error (2BP01), unless it is in `going`: dropped by an
    /// earlier statement of the transaction block, at its COMMIT, before this one.
    fn drop_closure(
        &self,
        ids: &[GlobalId],
        cascade: bool,
        going: &[GlobalId],
    ) -> Result<Vec<GlobalId>> {
        let mut all = Vec::new();
        for id in ids {
            let closure = self.catalog.dependents_closure(*id);
            let dependents: Vec<String> = closure
                .iter()
                .filter(|d| *d != id && !ids.contains(d) && !going.contains(d))
                .filter_map(|d| self.catalog.get(*d))
                // Indexes go with their object, as in PostgreSQL.
                .filter(|e| !matches!(&e.item, CatalogItem::Index { on, .. } if on == id))
                .map(|e| format!("{} {}", e.item.kind().as_str(), e.name))
                .collect();
            if !cascade && !dependents.is_empty() {
                let entry = self.catalog.get(*id).expect("planned ids exist");
                return Err(AdapterError::DependentObjects {
                    kind: entry.item.kind().as_str().into(),
                    name: entry.name.clone(),
                    dependents,
                });
            }
            for d in closure {
                if !all.contains(&d) {
                    all.push(d);
                }
            }
        }
        // A sequence of a serial or identity column goes with its table, and only with it.
        let tables: Vec<GlobalId> = all.iter().chain(going).copied().collect();
        for table in tables {
            for (sequence, _) in self.catalog.sequences_owned_by(table) {
                if !all.contains(&sequence.id) {
                    all.push(sequence.id);
                }
            }
        }
        for id in &all {
            let Some(entry) = self.catalog.get(*id) else {
                continue;
            };
            let CatalogItem::Sequence(spec) = &entry.item else {
                continue;
            };
            let Some((table, column)) = spec.owned_by else {
                continue;
            };
            if all.contains(&table) || going.contains(&table) {
                continue;
            }
            let identity = spec.identity.is_some();
            if cascade && !identity {
                return Err(PlanError::unsupported(format!(
                    "DROP SEQUENCE ... CASCADE of \"{}\", the default of a column of \
                     table \"{}\" (drop the table)",
                    entry.name,
                    self.item_name(table)
                ))
                .into());
            }
            // An identity column needs its sequence; a serial column's default uses it.
            let what = if identity {
                "column"
            } else {
                "default value for column"
            };
            return Err(AdapterError::DependentObjects {
                kind: "sequence".into(),
                name: entry.name.clone(),
                dependents: vec![format!(
                    "{what} {} of table {}",
                    self.column_name(table, column),
                    self.item_name(table)
                )],
            });
        }
        all.sort_by(|a, b| b.cmp(a));
        Ok(all)
    }

    pub(super) fn item_name(&self, id: GlobalId) -> String {
        self.catalog
            .get(id)
            .map_or_else(|| id.to_string(), |e| e.name.clone())
    }

    fn column_name(&self, id: GlobalId, column: usize) -> String {
        self.catalog
            .get(id)
            .and_then(|e| e.item.desc())
            .and_then(|d| d.names.get(column).cloned())
            .unwrap_or_else(|| column.to_string())
    }

    /// Drops `ids` (dependents before what they depend on): dataflows, shards, catalog.
    async fn drop_items(&mut self, ids: &[GlobalId]) -> Result<()> {
        // Records and the shards of dropped tables go in one transaction.
        let mut ops = Vec::new();
        for id in ids {
            ops.push(CatalogOp::Delete { id: user_id(*id) });
            if let Some(CatalogItem::Table { .. }) = self.catalog.get(*id).map(|e| &e.item)
                && let Some(missing) = crate::catalog::missing_values::record_id(*id)
            {
                ops.push(CatalogOp::Delete { id: missing });
            }
            if let Some(CatalogItem::Sequence(_)) = self.catalog.get(*id).map(|e| &e.item)
                && let Some(position) = super::sequences::record_id(*id)
            {
                ops.push(CatalogOp::Delete { id: position });
            }
            ops.extend(
                self.catalog
                    .comments_on(*id)
                    .iter()
                    .filter_map(|target| target.record_id())
                    .map(|id| CatalogOp::Delete { id }),
            );
            if let Some(CatalogItem::Table { .. } | CatalogItem::Source { .. }) =
                self.catalog.get(*id).map(|e| &e.item)
            {
                ops.push(CatalogOp::DropShard { shard: *id });
            }
        }
        self.persist_catalog(ops).await?;
        for id in ids {
            let Some(entry) = self.catalog.remove(*id) else {
                continue;
            };
            if self.arrangements.remove(id) {
                self.cluster.send(WorkerCommand::Drop { id: *id });
            }
            self.time_dependent.remove(id);
            match &entry.item {
                CatalogItem::Table { .. } | CatalogItem::Source { .. } => {
                    self.writes.forget_table(*id);
                }
                CatalogItem::Index {
                    on,
                    unique: Some(key),
                    ..
                } => self.writes.unique.drop_key(*on, &key.name),
                _ => {}
            }
            self.generators.remove(id);
            self.sequences.forget(*id);
            self.kafka_sources.remove(id);
            self.stop_sink(*id);
        }
        Ok(())
    }

    /// A catalog item without data of its own (a connection, a secret, a sink), durable
    /// before this returns. The name was free when planned; it is checked again here because a
    /// broker check may have run in between.
    async fn create_plain_item(
        &mut self,
        name: String,
        create_sql: String,
        item: CatalogItem,
    ) -> Result<GlobalId> {
        if self.catalog.name_exists(&name) {
            return Err(PlanError::AlreadyExists(name).into());
        }
        let entry = CatalogEntry {
            id: self.allocate_id(),
            name,
            create_sql,
            item,
        };
        let id = entry.id;
        self.persist_catalog(vec![Self::catalog_put(&entry)?])
            .await?;
        self.catalog.insert(entry);
        Ok(id)
    }

    /// Creates the worker input of table `id`, readable from the current read timestamp.
    pub(super) fn create_table_input(&mut self, id: GlobalId) {
        let read_ts = self.oracle.read_ts();
        self.cluster
            .send(WorkerCommand::CreateTable { id, as_of: read_ts });
        self.arrangements.insert(id);
    }

    /// Builds the dataflow of a materialized view or index (views have none).
    pub(super) fn create_item_dataflow(&mut self, id: GlobalId) {
        let Some(entry) = self.catalog.get(id) else {
            return;
        };
        let (expr, key) = match &entry.item {
            CatalogItem::MaterializedView { expr, .. } => (expr.clone(), vec![]),
            CatalogItem::Index { on, keys, .. } => {
                let on_entry = self.catalog.get(*on).expect("index target exists");
                let typ = on_entry
                    .item
                    .desc()
                    .map(|d| d.types.clone())
                    .unwrap_or_default();
                let source = match &on_entry.item {
                    // An index on a view materializes the view.
                    CatalogItem::View { expr, .. } => expr.clone(),
                    _ => RelationExpr::global_get(*on, typ),
                };
                (source, keys.clone())
            }
            _ => return,
        };
        let expr = crate::optimize::optimize(expr, &self.catalog);
        if expr.contains_temporal_filter() {
            self.time_dependent.insert(id);
        }
        let desc = DataflowDesc {
            debug_name: entry.name.clone(),
            id,
            expr,
            as_of: self.oracle.read_ts(),
            export: DataflowExport::Arrangement { key },
        };
        self.cluster
            .send(WorkerCommand::CreateDataflow(Box::new(desc)));
        self.arrangements.insert(id);
    }
}

impl Coordinator {
    /// The NOTICEs PostgreSQL sends for `plan`: what an `IF EXISTS` or `IF NOT EXISTS`
    /// skipped.
    fn ddl_notices(&self, plan: &Plan) -> Vec<String> {
        let exists = |name: &str| vec![format!("relation \"{name}\" already exists, skipping")];
        match plan {
            Plan::Drop { kind, missing, .. } => missing
                .iter()
                .map(|name| {
                    format!(
                        "{} \"{name}\" does not exist, skipping",
                        item_kind_name(*kind).to_lowercase()
                    )
                })
                .collect(),
            Plan::CreateTable {
                name,
                if_not_exists: true,
                ..
            }
            | Plan::CreateSequence {
                name,
                if_not_exists: true,
                ..
            }
            | Plan::CreateView {
                name,
                if_not_exists: true,
                ..
            }
            | Plan::CreateIndex {
                name,
                if_not_exists: true,
                ..
            } if self.catalog.name_exists(name) => exists(name),
            _ => Vec::new(),
        }
    }
}

/// `reply`, with `notices` put before what is sent through the sender this returns.
fn with_notices(reply: Reply, notices: Vec<String>) -> Reply {
    let (tx, rx) = oneshot::channel::<Result<Executed>>();
    tokio::spawn(async move {
        // A dropped sender (the coordinator stopped) drops `reply` too.
        if let Ok(result) = rx.await {
            let _ = reply.send(result.map(|executed| Executed::WithNotices {
                notices,
                executed: Box::new(executed),
            }));
        }
    });
    tx
}

/// The text of `stmt` as the catalog keeps it (an item's `create_sql`).
fn statement_sql(stmt: &Statement) -> String {
    match stmt {
        Statement::Sql(s) => s.to_string(),
        other => format!("{other:?}"),
    }
}

fn item_kind_name(kind: crate::sql::ObjectKind) -> &'static str {
    match kind {
        crate::sql::ObjectKind::Table => "TABLE",
        crate::sql::ObjectKind::View => "VIEW",
        crate::sql::ObjectKind::MaterializedView => "MATERIALIZED VIEW",
        crate::sql::ObjectKind::Index => "INDEX",
        crate::sql::ObjectKind::Source => "SOURCE",
        crate::sql::ObjectKind::Connection => "CONNECTION",
        crate::sql::ObjectKind::Secret => "SECRET",
        crate::sql::ObjectKind::Sink => "SINK",
        crate::sql::ObjectKind::Sequence => "SEQUENCE",
    }
}

/// The storage key of a user item.
pub(super) fn user_id(id: GlobalId) -> u64 {
    match id {
        GlobalId::User(n) => n,
        other => panic!("only user items are stored in the catalog, not {other}"),
    }
}
