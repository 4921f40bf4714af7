//! The unique indexes behind PRIMARY KEY and UNIQUE constraints, as clients expect to find
//! them: PostgreSQL creates one per constraint (named like the constraint), and clients
//! find a table's keys through it (`pg_constraint.conindid` ⇒ `pg_index`). Freshet enforces
//! the keys without an index item, so these indexes are described from the table's keys.
//!
//! Invariant: a key index's OID is `oids::of_key_index(table, n)` for the table's `n`th
//! key, the same number its constraint has in `oids::of_constraint`.

use super::SystemContext;
use super::oids;
use super::pg_catalog::relations;
use crate::catalog::{CatalogEntry, CatalogItem, DEFAULT_SCHEMA, UniqueKey};
use crate::repr::ColumnType;

/// One PRIMARY KEY or UNIQUE constraint's index.
pub struct KeyIndex<'a> {
    pub oid: u32,
    pub constraint_oid: u32,
    pub table_oid: u32,
    pub table: &'a CatalogEntry,
    pub key: &'a UniqueKey,
}

/// Every table's key indexes, in table then key order.
pub fn key_indexes<'a>(cx: &'a SystemContext) -> Vec<KeyIndex<'a>> {
    let mut all = Vec::new();
    for (table_oid, table) in relations(cx) {
        let CatalogItem::Table { keys, .. } = &table.item else {
            continue;
        };
        for (n, key) in keys.iter().enumerate() {
            let (Some(oid), Some(constraint_oid)) = (
                oids::of_key_index(table.id, n),
                oids::of_constraint(table.id, n),
            ) else {
                continue;
            };
            all.push(KeyIndex {
                oid,
                constraint_oid,
                table_oid,
                table,
                key,
            });
        }
    }
    all
}

impl KeyIndex<'_> {
    /// The indexed columns' names and types.
    pub fn columns(&self) -> Vec<(String, ColumnType)> {
        let Some(desc) = self.table.item.desc() else {
            return Vec::new();
        };
        self.key
            .columns
            .iter()
            .filter_map(|c| Some((desc.names.get(*c)?.clone(), desc.types.get(*c)?.clone())))
            .collect()
    }

    fn column_list(&self) -> String {
        self.columns()
            .into_iter()
            .map(|(name, _)| name)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `pg_get_indexdef`: as PostgreSQL prints a unique btree index.
    pub fn definition(&self) -> String {
        format!(
            "CREATE UNIQUE INDEX {} ON {DEFAULT_SCHEMA}.{} USING btree ({})",
            self.key.name,
            self.table.name,
            self.column_list()
        )
    }

    /// `pg_get_constraintdef`: `PRIMARY KEY (a, b)` or `UNIQUE (a)`.
    pub fn constraint_definition(&self) -> String {
        let kind = if self.key.primary {
            "PRIMARY KEY"
        } else {
            "UNIQUE"
        };
        format!("{kind} ({})", self.column_list())
    }
}
