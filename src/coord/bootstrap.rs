//! Restart: the catalog comes back from storage in id order (an item only depends on items
//! created before it); every table's and source's shard is replayed into its input at one
//! timestamp; load generators resume after their last durable tick; then the dataflows of
//! materialized views and indexes are rebuilt on top.

use super::coordinator::Coordinator;
use super::error::{AdapterError, Result};
use super::timestamp::Oracle;
use crate::catalog::comments::CommentRecord;
use crate::catalog::{CatalogEntry, CatalogItem};
use crate::dataflow::command::WorkerCommand;
use crate::repr::{Diff, GlobalId, Row};

impl Coordinator {
    pub(super) async fn bootstrap(&mut self) -> Result<()> {
        let storage_error = AdapterError::from;
        let mut entries = Vec::new();
        let mut comments = Vec::new();
        let mut missing_values = std::collections::BTreeMap::new();
        for (id, record) in self.storage.catalog_items().await.map_err(storage_error)? {
            let undecodable = |e: postcard::Error| {
                AdapterError::Internal(format!("catalog record {id} cannot be decoded: {e}"))
            };
            if crate::catalog::comments::is_comment_record(id) {
                let comment: CommentRecord = postcard::from_bytes(&record).map_err(undecodable)?;
                comments.push(comment);
            } else if crate::catalog::missing_values::is_missing_values_record(id) {
                let missing: crate::catalog::missing_values::MissingValuesRecord =
                    postcard::from_bytes(&record).map_err(undecodable)?;
                missing_values.insert(missing.table, missing.values);
            } else if super::sequences::is_position_record(id) {
                let position: super::sequences::PositionRecord =
                    postcard::from_bytes(&record).map_err(undecodable)?;
                self.sequences.restore(position);
            } else {
                let entry: CatalogEntry = postcard::from_bytes(&record).map_err(undecodable)?;
                entries.push(entry);
            }
        }
        entries.sort_by_key(|e| e.id);
        // Table data, and the timestamp floor: time never goes backwards across restarts.
        let mut floor = 0;
        let mut table_rows: Vec<(GlobalId, Vec<(Row, Diff)>)> = Vec::new();
        // Rows of another width than their table's definition (an ALTER TABLE whose rewrite
        // did not become durable: `alter_table.rs`), rewritten to it.
        let mut repairs: Vec<(GlobalId, Vec<(Row, Diff)>)> = Vec::new();
        for entry in &entries {
            if let CatalogItem::Table { .. } | CatalogItem::Source { .. } = entry.item {
                let (updates, upper) = self
                    .storage
                    .snapshot(entry.id)
                    .await
                    .map_err(storage_error)?;
                floor = floor.max(upper);
                // Already consolidated by the snapshot.
                let mut rows: Vec<(Row, Diff)> = updates
                    .into_iter()
                    .map(|(row, _, diff)| (row, diff))
                    .collect();
                if let CatalogItem::Table { desc, .. } = &entry.item
                    && rows.iter().any(|(row, _)| row.len() != desc.arity())
                {
                    let missing = missing_values
                        .get(&entry.id)
                        .map_or(&[][..], |v| v.as_slice());
                    let repair =
                        super::alter_table::rewrite_updates(rows.clone(), desc.arity(), missing);
                    tracing::info!(table = %entry.name, rows = repair.len() / 2, "fitting rows to the table's columns");
                    rows.extend(repair.iter().cloned());
                    differential_dataflow::consolidation::consolidate(&mut rows);
                    repairs.push((entry.id, repair));
                }
                table_rows.push((entry.id, rows));
            }
        }
        self.oracle = Oracle::new(floor);
        if !repairs.is_empty() {
            let repair_ts = self.oracle.write_ts();
            self.storage
                .append(repair_ts, repairs)
                .await
                .map_err(storage_error)?;
            self.oracle.applied(repair_ts);
        }
        let ts = self.oracle.read_ts();
        self.next_user_id = entries
            .iter()
            .filter_map(|e| match e.id {
                GlobalId::User(n) => Some(n + 1),
                _ => None,
            })
            .max()
            .unwrap_or(1);
        let mut dataflows = Vec::new();
        for entry in entries {
            let id = entry.id;
            let is_table = matches!(
                entry.item,
                CatalogItem::Table { .. } | CatalogItem::Source { .. }
            );
            let has_dataflow = matches!(
                entry.item,
                CatalogItem::MaterializedView { .. } | CatalogItem::Index { .. }
            );
            if let CatalogItem::Table { desc, keys, .. } = &entry.item {
                let rows = table_rows
                    .iter()
                    .find(|(t, _)| *t == id)
                    .map_or(&[][..], |(_, rows)| rows.as_slice());
                self.writes.unique.add_table(id, desc, keys, rows)?;
            }
            if let CatalogItem::Index {
                on,
                unique: Some(key),
                ..
            } = &entry.item
            {
                let desc = match self.catalog.get(*on).map(|e| &e.item) {
                    Some(CatalogItem::Table { desc, .. }) => desc.clone(),
                    _ => {
                        return Err(AdapterError::Internal(format!(
                            "unique index {} is not on a table",
                            entry.name
                        )));
                    }
                };
                let rows = table_rows
                    .iter()
                    .find(|(t, _)| t == on)
                    .map_or(&[][..], |(_, rows)| rows.as_slice());
                self.writes.unique.add_key(*on, &desc, key, rows)?;
            }
            self.catalog.insert(entry);
            if let Some(values) = missing_values.remove(&id) {
                self.catalog.set_missing_values(id, values);
            }
            if is_table {
                self.create_table_input(id);
            } else if has_dataflow {
                dataflows.push(id);
            }
        }
        for comment in comments {
            // Dropping an item deletes its comments in the same catalog transaction.
            if self.catalog.get(comment.target.item).is_none() {
                return Err(AdapterError::Internal(format!(
                    "a comment describes item {}, which does not exist",
                    comment.target.item
                )));
            }
            self.catalog.set_comment(comment.target, Some(comment.text));
        }
        // Generators resume after the last tick their progress relation holds.
        let generators: Vec<GlobalId> = self
            .catalog
            .entries()
            .filter(|e| {
                matches!(
                    e.item,
                    CatalogItem::Source {
                        generator: Some(_),
                        ..
                    }
                )
            })
            .map(|e| e.id)
            .collect();
        for main in generators {
            self.start_generator(main, |progress| {
                table_rows
                    .iter()
                    .find(|(id, _)| *id == progress)
                    .map_or(0, |(_, rows)| Self::resume_tick(rows))
            });
        }
        // Kafka sources resume after the offsets their progress relations hold.
        let kafka: Vec<GlobalId> = self
            .catalog
            .entries()
            .filter(|e| matches!(e.item, CatalogItem::Source { kafka: Some(_), .. }))
            .map(|e| e.id)
            .collect();
        for main in kafka {
            self.start_kafka_source(main, |shard| {
                table_rows
                    .iter()
                    .find(|(id, _)| *id == shard)
                    .map(|(_, rows)| rows.clone())
                    .unwrap_or_default()
            });
        }
        let rows: usize = table_rows.iter().map(|(_, r)| r.len()).sum();
        self.cluster.send(WorkerCommand::AppendTables {
            ts,
            updates: table_rows,
            advance_to: ts + 1,
        });
        for id in dataflows {
            self.create_item_dataflow(id);
        }
        // Sinks last: they read the relations rebuilt above.
        let sinks: Vec<GlobalId> = self
            .catalog
            .entries()
            .filter(|e| matches!(e.item, CatalogItem::Sink { .. }))
            .map(|e| e.id)
            .collect();
        for id in sinks {
            if let Err(e) = self.start_sink(id) {
                tracing::error!(sink = %id, error = %e, "a sink cannot be started");
            }
        }
        tracing::info!(
            items = self.catalog.entries().count(),
            table_rows = rows,
            "catalog restored"
        );
        Ok(())
    }
}
