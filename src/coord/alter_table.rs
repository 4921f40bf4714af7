//! `ALTER TABLE ... ADD COLUMN` (planned in `sql/plan/alter_table.rs`), and its undo when the
//! transaction block that ran it rolls back.
//!
//! A table's rows all have its width. Adding columns rewrites them: at one timestamp every
//! row is retracted and inserted again with the new columns' missing values (the DEFAULTs,
//! evaluated once). Step by step, in one coordinator turn:
//! 1. read what the table holds: the rows at the read timestamp, plus the writes queued or
//!    in flight (which that read does not see);
//! 2. make the wider definition and the missing values durable (one catalog transaction);
//! 3. queue the rewrite as a write. Rows queued after it, planned at the old width, are
//!    fitted to the new one (`fit_to_table_widths`), as the rewrite fits the rows it read.
//!
//! When the rewrite is durable and applied, the wider definition takes effect in the catalog
//! and the statement is answered. Until then the coordinator takes no new commands, so no
//! statement is planned against a definition that is about to change, and nothing else
//! changes the catalog meanwhile. Readers planned at the old width read the new rows cut to
//! it (`Row::fitted`, at every import of a table and in peeks).
//!
//! Undo (a rolled-back block's ADD COLUMN) and `DROP COLUMN` of a table's last columns run
//! the other way: the narrower definition is made durable and takes effect at once, then the
//! rewrite cuts the rows. Readers planned at the old width read the rows extended with
//! NULLs until the rewrite commits (none are planned meanwhile: see above). A DROP COLUMN
//! inside a transaction block runs at its COMMIT, as other DROPs do. An undo is skipped, with
//! a warning, when something created since reads the added columns or another open block
//! has written to the table.
//!
//! Crashes: the catalog changes first, so a restart may find rows of another width than
//! the definition; bootstrap fits them with the durable missing values and writes the fitted
//! rows back before anything reads them. A rewrite whose append fails leaves memory and the
//! definition disagreeing, so the process exits and that recovery runs (as PostgreSQL
//! PANICs when it cannot write its WAL).

use super::coordinator::Coordinator;
use super::error::{AdapterError, Result};
use super::write::{Ack, PendingWrite};
use super::{ExecuteResponse, Executed, SessionInfo, Writes};
use crate::catalog::missing_values::{self, MissingValuesRecord};
use crate::catalog::{CatalogEntry, CatalogItem};
use crate::expr::{EvalError, RelationExpr};
use crate::repr::{ColumnType, Datum, Diff, GlobalId, Row};
use crate::sql::plan::alter_table::{AddColumns, AlterColumns, DropColumns, TAG};
use crate::storage::CatalogOp;
use tokio::sync::oneshot;

type ExecReply = oneshot::Sender<Result<Executed>>;

/// What to do when a rewrite is durable and applied.
pub(super) struct TableRewrite {
    /// Definitions that take effect then (the wider tables of an ADD COLUMN).
    switch_to: Vec<CatalogEntry>,
    reply: RewriteReply,
}

enum RewriteReply {
    Statement {
        reply: ExecReply,
        executed: Box<Executed>,
    },
    Undo(Option<oneshot::Sender<Result<()>>>),
}

/// A table's last columns to remove: the undo of a transaction block's ADD COLUMN (kept by
/// the session until the block ends), or a DROP COLUMN.
#[derive(Clone, Debug)]
pub struct Narrowing {
    pub table: GlobalId,
    /// The width it goes back to.
    pub arity: usize,
    /// Its `create_sql` then.
    pub create_sql: String,
}

impl Coordinator {
    /// The width of table `id` (`None` if it is not a table).
    pub(super) fn table_arity(&self, id: GlobalId) -> Option<usize> {
        match self.catalog.get(id).map(|e| &e.item) {
            Some(CatalogItem::Table { desc, .. }) => Some(desc.arity()),
            _ => None,
        }
    }

    /// Fits the rows of `writes` to the width of their table, for tables that changed width
    /// since the start (rows planned before the change): extended with the table's missing
    /// values, or cut. A NULL so given to a NOT NULL column is refused (23502).
    pub(super) fn fit_to_table_widths(&self, writes: &mut Writes) -> Result<()> {
        for (id, updates) in writes.iter_mut() {
            let Some(&width) = self.writes.widths.get(id) else {
                continue;
            };
            if updates.iter().all(|(row, _)| row.len() == width) {
                continue;
            }
            let missing = self.catalog.missing_values(*id);
            let desc = match self.catalog.get(*id).map(|e| &e.item) {
                Some(CatalogItem::Table { desc, .. }) => Some(desc),
                _ => None,
            };
            for (row, _) in updates.iter_mut() {
                let old = row.len();
                if old == width {
                    continue;
                }
                *row = std::mem::take(row).fitted(width, missing);
                for column in old..width {
                    let column_type = desc.and_then(|d| d.types.get(column));
                    if row[column].is_null() && column_type.is_some_and(|t| !t.nullable) {
                        return Err(EvalError::NullConstraintViolation {
                            column: desc.map_or_else(String::new, |d| d.names[column].clone()),
                            relation: self.item_name(*id),
                        }
                        .into());
                    }
                }
            }
        }
        Ok(())
    }

    /// `ALTER TABLE ... ADD COLUMN`: answered when the table's rows have the new columns.
    pub(super) async fn sequence_add_columns(
        &mut self,
        session: &SessionInfo,
        plan: AddColumns,
        statement_sql: String,
        reply: ExecReply,
    ) {
        let (updates, entry, undo) = match self.add_columns(plan, statement_sql).await {
            Ok(prepared) => prepared,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        let response = ExecuteResponse::Command { tag: TAG.into() };
        let executed = if session.in_transaction_block {
            Executed::AddedColumnsInBlock { undo, response }
        } else {
            Executed::Response(response)
        };
        self.queue_rewrite(
            vec![(entry.id, updates)],
            TableRewrite {
                switch_to: vec![entry],
                reply: RewriteReply::Statement {
                    reply,
                    executed: Box::new(executed),
                },
            },
        );
    }

    /// Steps 1 and 2 of an ADD COLUMN (see the module comment): the rewrite's updates, the
    /// wider definition, and how to undo it.
    async fn add_columns(
        &mut self,
        plan: AddColumns,
        statement_sql: String,
    ) -> Result<(Vec<(Row, Diff)>, CatalogEntry, Narrowing)> {
        let Some(entry) = self.catalog.get(plan.id).cloned() else {
            return Err(AdapterError::Internal(format!(
                "table {} was dropped",
                plan.table
            )));
        };
        let CatalogItem::Table {
            desc,
            defaults,
            keys,
        } = entry.item
        else {
            return Err(AdapterError::Internal(format!(
                "{} is not a table",
                plan.table
            )));
        };
        let arity = desc.arity();
        let contents = self.table_contents(plan.id, desc.types.clone()).await?;
        let mut missing = self.catalog.missing_values(plan.id).to_vec();
        missing.resize(arity, Datum::Null);
        let mut names = desc.names;
        let mut types = desc.types;
        let mut defaults = defaults;
        for column in plan.columns {
            if !column.typ.nullable
                && column.missing.is_null()
                && contents.iter().any(|(_, diff)| *diff > 0)
            {
                return Err(AdapterError::ColumnContainsNulls {
                    column: column.name,
                    table: plan.table,
                });
            }
            names.push(column.name);
            types.push(column.typ);
            defaults.push(column.default);
            missing.push(column.missing);
        }
        let wider = CatalogEntry {
            id: plan.id,
            name: entry.name,
            create_sql: format!("{};\n{statement_sql}", entry.create_sql),
            item: CatalogItem::Table {
                desc: crate::repr::RelationDesc::new(names, types),
                defaults,
                keys,
            },
        };
        let width = missing.len();
        self.persist_catalog(vec![
            Self::catalog_put(&wider)?,
            missing_values_put(plan.id, &missing)?,
        ])
        .await?;
        let updates = rewrite_updates(contents, width, &missing);
        self.catalog.set_missing_values(plan.id, missing);
        self.writes.widths.insert(plan.id, width);
        let undo = Narrowing {
            table: plan.id,
            arity,
            create_sql: entry.create_sql,
        };
        Ok((updates, wider, undo))
    }

    /// `ALTER TABLE ... DROP COLUMN` of the table's last columns: answered when its rows
    /// have lost them.
    pub(super) async fn sequence_drop_columns(
        &mut self,
        session: &SessionInfo,
        drop: DropColumns,
        statement_sql: String,
        reply: ExecReply,
    ) {
        if let Err(e) = self.check_drop_columns(&drop, session.conn_id) {
            let _ = reply.send(Err(e));
            return;
        }
        let Some(entry) = self.catalog.get(drop.id) else {
            let _ = reply.send(Err(AdapterError::Internal(format!(
                "table {} was dropped",
                drop.table
            ))));
            return;
        };
        let narrowing = Narrowing {
            table: drop.id,
            arity: drop.arity,
            create_sql: format!("{};\n{statement_sql}", entry.create_sql),
        };
        let response = ExecuteResponse::Command { tag: TAG.into() };
        match self.narrow_table(&narrowing, session.conn_id).await {
            Ok(Some(updates)) => self.queue_rewrite(
                vec![(drop.id, updates)],
                TableRewrite {
                    switch_to: vec![],
                    reply: RewriteReply::Statement {
                        reply,
                        executed: Box::new(Executed::Response(response)),
                    },
                },
            ),
            Ok(None) => {
                let _ = reply.send(Ok(Executed::Response(response)));
            }
            Err(e) => {
                let _ = reply.send(Err(e));
            }
        }
    }

    /// `ALTER TABLE ... ALTER COLUMN`: the new defaults and NOT NULLs, durable and in effect
    /// when this returns (SET NOT NULL after the rows are checked). No row changes.
    pub(super) async fn alter_columns(
        &mut self,
        alter: AlterColumns,
        statement_sql: String,
    ) -> Result<String> {
        let entry = match self.catalog.get(alter.id) {
            Some(entry) => entry.clone(),
            None => {
                return Err(AdapterError::Internal(format!(
                    "table {} was dropped",
                    alter.table
                )));
            }
        };
        let CatalogItem::Table { desc, keys, .. } = entry.item else {
            return Err(AdapterError::Internal(format!(
                "{} is not a table",
                alter.table
            )));
        };
        if desc.arity() != alter.desc.arity() {
            return Err(AdapterError::ConcurrentAlter(alter.table));
        }
        if !alter.check_not_null.is_empty() {
            let contents = self.table_contents(alter.id, desc.types.clone()).await?;
            for &column in &alter.check_not_null {
                if contents
                    .iter()
                    .any(|(row, diff)| *diff > 0 && row[column].is_null())
                {
                    return Err(AdapterError::ColumnContainsNulls {
                        column: desc.names[column].clone(),
                        table: alter.table,
                    });
                }
            }
        }
        let altered = CatalogEntry {
            id: alter.id,
            name: entry.name,
            create_sql: format!("{};\n{statement_sql}", entry.create_sql),
            item: CatalogItem::Table {
                desc: alter.desc,
                defaults: alter.defaults,
                keys,
            },
        };
        self.persist_catalog(vec![Self::catalog_put(&altered)?])
            .await?;
        self.catalog.replace(altered);
        Ok(TAG.into())
    }

    /// Whether the last columns of `drop`'s table, from `drop.arity` on, can go: nothing
    /// reads them (2BP01), and no other connection's open block has written rows of the
    /// table's present width (55006: they would be cut at its COMMIT, and a column added
    /// later could take their values).
    pub(super) fn check_drop_columns(&self, drop: &DropColumns, conn_id: u32) -> Result<()> {
        let readers = self.catalog.readers_of_columns_from(drop.id, drop.arity);
        if !readers.is_empty() && drop.cascade {
            return Err(crate::sql::PlanError::unsupported(format!(
                "ALTER TABLE ... DROP COLUMN ... CASCADE of a column that {} {} reads (drop it first)",
                readers[0].item.kind().as_str(),
                readers[0].name
            ))
            .into());
        }
        if !readers.is_empty() {
            return Err(AdapterError::DependentObjects {
                kind: "column".into(),
                name: format!("{} of table {}", drop.dropped[0], drop.table),
                dependents: readers
                    .iter()
                    .map(|e| format!("{} {}", e.item.kind().as_str(), e.name))
                    .collect(),
            });
        }
        if self.other_block_writes(drop.id, conn_id) {
            return Err(AdapterError::ObjectInUse(format!(
                "cannot drop a column of table \"{}\" while another transaction block has uncommitted writes to it",
                drop.table
            )));
        }
        Ok(())
    }

    /// Whether an open transaction block of a connection other than `conn_id` has written
    /// to `table`.
    fn other_block_writes(&self, table: GlobalId, conn_id: u32) -> bool {
        self.writes
            .block_writers
            .get(&table)
            .is_some_and(|writers| writers.iter().any(|c| *c != conn_id))
    }

    /// Connection `conn_id`'s transaction block ended (or the connection did).
    pub(super) fn block_ended(&mut self, conn_id: u32) {
        self.writes.block_writers.retain(|_, writers| {
            writers.remove(&conn_id);
            !writers.is_empty()
        });
    }

    /// Undoes the ADD COLUMNs of a rolled-back transaction block (any order): each table
    /// goes back to its width and definition from before the block's first one.
    pub(super) async fn undo_added_columns(
        &mut self,
        conn_id: u32,
        undo: Vec<Narrowing>,
        reply: Option<oneshot::Sender<Result<()>>>,
    ) {
        let mut oldest: std::collections::BTreeMap<GlobalId, Narrowing> = Default::default();
        for added in undo {
            let keep = oldest
                .get(&added.table)
                .is_none_or(|kept| added.arity < kept.arity);
            if keep {
                oldest.insert(added.table, added);
            }
        }
        let mut updates = Vec::new();
        for added in oldest.into_values() {
            if self.other_block_writes(added.table, conn_id) {
                tracing::warn!(table = %added.table, "a rolled-back block's ADD COLUMN stays: another open block has written to the table");
                continue;
            }
            match self.narrow_table(&added, conn_id).await {
                Ok(Some(rewrite)) => updates.push((added.table, rewrite)),
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(table = %added.table, error = %e, "undoing a rolled-back ADD COLUMN failed");
                }
            }
        }
        self.catalog_generation
            .fetch_add(1, std::sync::atomic::Ordering::Release);
        if updates.is_empty() {
            if let Some(reply) = reply {
                let _ = reply.send(Ok(()));
            }
            return;
        }
        self.queue_rewrite(
            updates,
            TableRewrite {
                switch_to: vec![],
                reply: RewriteReply::Undo(reply),
            },
        );
    }

    /// Takes table `narrowing.table` back to `narrowing.arity` columns: the narrower definition is
    /// durable and in effect when this returns; the rewrite cutting its rows is returned.
    /// `None` when there is nothing to undo, or something reads the added columns.
    async fn narrow_table(
        &mut self,
        narrowing: &Narrowing,
        conn_id: u32,
    ) -> Result<Option<Vec<(Row, Diff)>>> {
        debug_assert!(!self.other_block_writes(narrowing.table, conn_id));
        let Some(entry) = self.catalog.get(narrowing.table).cloned() else {
            return Ok(None);
        };
        let CatalogItem::Table {
            desc,
            defaults,
            keys,
        } = entry.item
        else {
            return Ok(None);
        };
        let arity = narrowing.arity;
        if desc.arity() <= arity {
            return Ok(None);
        }
        if let Some(reader) = self
            .catalog
            .readers_of_columns_from(narrowing.table, arity)
            .first()
        {
            tracing::warn!(
                table = %entry.name,
                reader = %reader.name,
                "a rolled-back block's ADD COLUMN stays: another object reads the column"
            );
            return Ok(None);
        }
        let contents = self
            .table_contents(narrowing.table, desc.types.clone())
            .await?;
        let narrower = CatalogEntry {
            id: narrowing.table,
            name: entry.name,
            create_sql: narrowing.create_sql.clone(),
            item: CatalogItem::Table {
                desc: crate::repr::RelationDesc::new(
                    desc.names[..arity].to_vec(),
                    desc.types[..arity].to_vec(),
                ),
                defaults: defaults[..arity.min(defaults.len())].to_vec(),
                keys,
            },
        };
        let mut missing = self.catalog.missing_values(narrowing.table).to_vec();
        missing.truncate(arity);
        let comments: Vec<_> = self
            .catalog
            .comments_on(narrowing.table)
            .into_iter()
            .filter(|target| target.column.is_some_and(|c| c >= arity))
            .collect();
        let mut ops = vec![
            Self::catalog_put(&narrower)?,
            missing_values_put(narrowing.table, &missing)?,
        ];
        ops.extend(
            comments
                .iter()
                .filter_map(|target| target.record_id())
                .map(|id| CatalogOp::Delete { id }),
        );
        self.persist_catalog(ops).await?;
        for target in comments {
            self.catalog.set_comment(target, None);
        }
        self.catalog.replace(narrower);
        self.catalog.set_missing_values(narrowing.table, missing);
        self.writes.widths.insert(narrowing.table, arity);
        Ok(Some(rewrite_updates(contents, arity, &[])))
    }

    /// Everything table `id` holds, at the width `types`: its rows at the read timestamp
    /// and the writes queued or in flight, consolidated. Nothing cancels this read but the
    /// server going away.
    async fn table_contents(
        &mut self,
        id: GlobalId,
        types: Vec<ColumnType>,
    ) -> Result<Vec<(Row, Diff)>> {
        let (_cancel_tx, cancel) = tokio::sync::watch::channel(0);
        let unapplied = self.writes.unapplied_updates(id);
        let read = self.start_read_until(RelationExpr::global_get(id, types), cancel);
        let mut rows = read.await?;
        rows.extend(unapplied);
        differential_dataflow::consolidation::consolidate(&mut rows);
        Ok(rows)
    }

    /// Queues a rewrite; until it is applied the coordinator takes no commands.
    fn queue_rewrite(&mut self, writes: Writes, rewrite: TableRewrite) {
        self.writes.rewrites_in_flight += 1;
        self.queue_write(PendingWrite {
            writes,
            ack: Ack::TableRewrite(Box::new(rewrite)),
        });
    }

    /// A rewrite is durable and applied: its definitions take effect, and its statement is
    /// answered.
    pub(super) fn table_rewritten(&mut self, rewrite: TableRewrite) {
        self.writes.rewrites_in_flight -= 1;
        for entry in rewrite.switch_to {
            // Dropped meanwhile (a DROP cannot run meanwhile, but a failed block's undo
            // queued before may have).
            if self.catalog.get(entry.id).is_some() {
                self.catalog.replace(entry);
            }
        }
        self.catalog_generation
            .fetch_add(1, std::sync::atomic::Ordering::Release);
        match rewrite.reply {
            RewriteReply::Statement { reply, executed } => {
                let _ = reply.send(Ok(*executed));
            }
            RewriteReply::Undo(Some(reply)) => {
                let _ = reply.send(Ok(()));
            }
            RewriteReply::Undo(None) => {}
        }
    }

    /// A rewrite's append failed: the catalog already has the new definition and the workers
    /// the old rows. Restarting reconciles them (see the module comment).
    pub(super) fn table_rewrite_failed(error: &AdapterError) -> ! {
        tracing::error!(%error, "a table rewrite could not be made durable; exiting so that recovery reconciles the table with its definition");
        eprintln!(
            "freshet: a table rewrite could not be made durable ({error}); exiting, a restart recovers"
        );
        std::process::exit(1)
    }
}

/// The updates that give every row of `contents` exactly `width` columns: each row of
/// another width retracted, and inserted again fitted (`Row::fitted`, with `missing`).
/// Retractions come first.
pub(super) fn rewrite_updates(
    contents: Vec<(Row, Diff)>,
    width: usize,
    missing: &[Datum],
) -> Vec<(Row, Diff)> {
    let (mut retractions, mut insertions) = (Vec::new(), Vec::new());
    for (row, diff) in contents {
        if row.len() != width {
            retractions.push((row.clone(), -diff));
            insertions.push((row.fitted(width, missing), diff));
        }
    }
    retractions.extend(insertions);
    retractions
}

/// The catalog op storing `table`'s missing values.
pub(super) fn missing_values_put(table: GlobalId, values: &[Datum]) -> Result<CatalogOp> {
    let id = missing_values::record_id(table).ok_or_else(|| {
        AdapterError::Internal(format!("table {table} cannot have missing values"))
    })?;
    let record = postcard::to_allocvec(&MissingValuesRecord {
        table,
        values: values.to_vec(),
    })
    .map_err(|e| AdapterError::Internal(format!("encoding missing values: {e}")))?;
    Ok(CatalogOp::Put { id, record })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(values: &[i32]) -> Row {
        values.iter().map(|v| Datum::Int32(*v)).collect()
    }

    #[test]
    fn rewrite_retracts_each_row_of_another_width_and_inserts_it_fitted() {
        let contents = vec![(row(&[1]), 2), (row(&[2]), 1), (row(&[3, 9]), 1)];
        let updates = rewrite_updates(contents, 2, &[Datum::Null, Datum::Int32(7)]);
        assert_eq!(
            updates,
            vec![
                (row(&[1]), -2),
                (row(&[2]), -1),
                (row(&[1, 7]), 2),
                (row(&[2, 7]), 1),
            ]
        );
    }

    #[test]
    fn rewrite_to_fewer_columns_cuts_rows() {
        let updates = rewrite_updates(vec![(row(&[1, 7]), 1)], 1, &[]);
        assert_eq!(updates, vec![(row(&[1, 7]), -1), (row(&[1]), 1)]);
    }
}
