//! The catalog: every named item (tables, views, materialized views, indexes), their
//! dependencies, and name resolution.
//!
//! Invariants:
//! - Names are unique within the one schema `public` of the one database `freshet`.
//! - An item only depends on items with smaller ids (it was created after them), so replaying
//!   items in id order recreates every dependency.
//! - `used_by` is the exact inverse of `uses`.
//! - Every comment describes an existing item (`comments.rs`).
//! - `owned_sequences` holds exactly the sequences whose `owned_by` names each table.
//! - Missing values (`missing_values.rs`) belong to existing tables.
//!
//! The coordinator owns the catalog (no locks); the planner reads it through `&Catalog`.

pub mod comments;
mod item;
pub mod missing_values;
pub mod system;

pub use item::{
    CatalogEntry, CatalogItem, Identity, ItemKind, SequenceSpec, SourceOutput, UniqueKey,
};

use crate::expr::RelationExpr;
use crate::repr::GlobalId;
use crate::sql::{PlanError, Result};
use std::collections::{BTreeMap, BTreeSet};

pub const DEFAULT_DATABASE: &str = "freshet";
pub const DEFAULT_SCHEMA: &str = "public";

/// The PostgreSQL version Freshet speaks as (drivers parse it).
pub const SERVER_VERSION: &str = "15.0";

/// The value `SELECT version()` returns: PostgreSQL-compatible, naming Freshet.
pub fn version_string() -> String {
    format!(
        "PostgreSQL {SERVER_VERSION} (Freshet {}) on {}-{}, a streaming database",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::ARCH,
        std::env::consts::OS
    )
}

#[derive(Default)]
pub struct Catalog {
    entries: BTreeMap<GlobalId, CatalogEntry>,
    by_name: BTreeMap<String, GlobalId>,
    used_by: BTreeMap<GlobalId, BTreeSet<GlobalId>>,
    comments: BTreeMap<comments::CommentTarget, String>,
    /// The sequences each table owns (its `serial` and identity columns'), by table.
    owned_sequences: BTreeMap<GlobalId, BTreeSet<GlobalId>>,
    /// Per table that gained columns: the value of each column in rows stored before it.
    missing_values: BTreeMap<GlobalId, Vec<crate::repr::Datum>>,
}

impl Catalog {
    pub fn get(&self, id: GlobalId) -> Option<&CatalogEntry> {
        self.entries.get(&id)
    }

    /// The entry named `name` (unqualified, or qualified by `public` / `freshet.public`).
    pub fn resolve(&self, name: &[String]) -> Result<&CatalogEntry> {
        let display = name.join(".");
        let item = match name {
            [item] => item,
            [schema, item] if schema == DEFAULT_SCHEMA => item,
            [db, schema, item] if db == DEFAULT_DATABASE && schema == DEFAULT_SCHEMA => item,
            _ => return Err(PlanError::UnknownRelation(display)),
        };
        self.by_name
            .get(item)
            .and_then(|id| self.entries.get(id))
            .ok_or(PlanError::UnknownRelation(display))
    }

    pub fn entries(&self) -> impl Iterator<Item = &CatalogEntry> {
        self.entries.values()
    }

    /// The ids of the items that read `id` directly.
    pub fn used_by(&self, id: GlobalId) -> Vec<GlobalId> {
        self.used_by
            .get(&id)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }

    /// `id` and everything that depends on it, transitively, dependents before the items they
    /// depend on (the order in which to drop them).
    pub fn dependents_closure(&self, id: GlobalId) -> Vec<GlobalId> {
        let mut out = BTreeSet::new();
        let mut stack = vec![id];
        while let Some(next) = stack.pop() {
            if out.insert(next) {
                stack.extend(self.used_by(next));
            }
        }
        // Higher ids were created later, so they depend on lower ones: drop them first.
        out.into_iter().rev().collect()
    }

    /// The indexes built on `id`.
    pub fn indexes_on(&self, id: GlobalId) -> Vec<&CatalogEntry> {
        self.used_by(id)
            .into_iter()
            .filter_map(|i| self.entries.get(&i))
            .filter(|e| matches!(&e.item, CatalogItem::Index { on, .. } if *on == id))
            .collect()
    }

    /// The items that read column `arity` or a later one of `table`: views and materialized
    /// views that may use one (see `reads_wider`), and indexes keyed by one of them. (Indexes keyed by earlier columns store whole rows,
    /// which readers cut to their width.)
    pub fn readers_of_columns_from(&self, table: GlobalId, arity: usize) -> Vec<&CatalogEntry> {
        self.used_by(table)
            .into_iter()
            .filter_map(|id| self.entries.get(&id))
            .filter(|entry| match &entry.item {
                CatalogItem::View { expr, .. } | CatalogItem::MaterializedView { expr, .. } => {
                    // Optimized, a plain query's projection sits on its table's `Get`.
                    reads_wider(&crate::optimize::optimize(expr.clone(), self), table, arity)
                }
                CatalogItem::Index { on, keys, .. } => {
                    *on == table && keys.iter().any(|k| k.columns().iter().any(|c| *c >= arity))
                }
                _ => true,
            })
            .collect()
    }

    pub fn insert(&mut self, entry: CatalogEntry) {
        assert!(
            !self.by_name.contains_key(&entry.name),
            "catalog names are unique"
        );
        for dep in entry.item.uses() {
            self.used_by.entry(dep).or_default().insert(entry.id);
        }
        if let Some((table, _)) = entry.item.sequence_owner() {
            self.owned_sequences
                .entry(table)
                .or_default()
                .insert(entry.id);
        }
        self.by_name.insert(entry.name.clone(), entry.id);
        self.entries.insert(entry.id, entry);
    }

    /// The sequences `table` owns (those of its `serial` and identity columns), with their
    /// specs.
    pub fn sequences_owned_by(
        &self,
        table: GlobalId,
    ) -> impl Iterator<Item = (&CatalogEntry, &SequenceSpec)> {
        self.owned_sequences
            .get(&table)
            .into_iter()
            .flatten()
            .filter_map(|id| self.entries.get(id))
            .filter_map(|e| match &e.item {
                CatalogItem::Sequence(spec) => Some((e, spec)),
                _ => None,
            })
    }

    /// Every comment, by what it describes.
    pub fn comments(&self) -> impl Iterator<Item = (&comments::CommentTarget, &str)> {
        self.comments.iter().map(|(t, c)| (t, c.as_str()))
    }

    /// The targets of the comments on `id` and its columns.
    pub fn comments_on(&self, id: GlobalId) -> Vec<comments::CommentTarget> {
        self.comments
            .keys()
            .filter(|t| t.item == id)
            .copied()
            .collect()
    }

    /// Sets (or with `None` removes) the comment on `target`, whose item exists.
    pub fn set_comment(&mut self, target: comments::CommentTarget, text: Option<String>) {
        assert!(
            self.entries.contains_key(&target.item),
            "a comment describes an existing item"
        );
        match text {
            Some(text) if !text.is_empty() => {
                self.comments.insert(target, text);
            }
            _ => {
                self.comments.remove(&target);
            }
        }
    }

    /// The values `table`'s columns have in rows stored before the column existed (NULL for
    /// a column it was created with; empty for a table that never gained a column).
    pub fn missing_values(&self, table: GlobalId) -> &[crate::repr::Datum] {
        self.missing_values
            .get(&table)
            .map_or(&[], |v| v.as_slice())
    }

    /// Sets `table`'s missing values (see `missing_values.rs`); the table exists.
    pub fn set_missing_values(&mut self, table: GlobalId, values: Vec<crate::repr::Datum>) {
        assert!(
            self.entries.contains_key(&table),
            "missing values belong to an existing table"
        );
        self.missing_values.insert(table, values);
    }

    pub fn remove(&mut self, id: GlobalId) -> Option<CatalogEntry> {
        let entry = self.entries.remove(&id)?;
        self.comments.retain(|t, _| t.item != id);
        self.missing_values.remove(&id);
        if let Some((table, _)) = entry.item.sequence_owner()
            && let Some(owned) = self.owned_sequences.get_mut(&table)
        {
            owned.remove(&id);
            if owned.is_empty() {
                self.owned_sequences.remove(&table);
            }
        }
        self.by_name.remove(&entry.name);
        for dep in entry.item.uses() {
            if let Some(set) = self.used_by.get_mut(&dep) {
                set.remove(&id);
            }
        }
        self.used_by.remove(&id);
        Some(entry)
    }

    /// Replaces the definition of an existing item, keeping its id and its dependents.
    pub fn replace(&mut self, entry: CatalogEntry) {
        let Some(old) = self.entries.get(&entry.id) else {
            return self.insert(entry);
        };
        for dep in old.item.uses() {
            if let Some(set) = self.used_by.get_mut(&dep) {
                set.remove(&entry.id);
            }
        }
        self.by_name.remove(&old.name);
        for dep in entry.item.uses() {
            self.used_by.entry(dep).or_default().insert(entry.id);
        }
        self.by_name.insert(entry.name.clone(), entry.id);
        self.entries.insert(entry.id, entry);
    }

    pub fn rename(&mut self, id: GlobalId, new_name: String) {
        if let Some(entry) = self.entries.get_mut(&id) {
            self.by_name.remove(&entry.name);
            entry.name = new_name.clone();
            self.by_name.insert(new_name, id);
        }
    }

    pub fn name_exists(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }
}

/// Whether `expr` may use a column of `table` from `arity` on: it reads the table at a
/// greater width, other than under a `Project` of `Filter`s and `Map`s whose columns all come
/// before `arity` (what `SELECT a, b FROM t WHERE ...` plans to). Anything else counts as a
/// use.
fn reads_wider(expr: &RelationExpr, table: GlobalId, arity: usize) -> bool {
    if let RelationExpr::Project { input, outputs } = expr
        && let Some((width, mut used)) = chain_to_get(input, table)
    {
        used.extend(outputs.iter().copied());
        return used.iter().any(|c| (arity..width).contains(c));
    }
    match expr {
        RelationExpr::Get {
            id: crate::expr::Id::Global(id),
            typ,
        } => *id == table && typ.len() > arity,
        other => other
            .children()
            .into_iter()
            .any(|child| reads_wider(child, table, arity)),
    }
}

/// For `expr` a chain of `Filter`s and `Map`s over a `Get` of `table`: the width it reads
/// the table at, and the columns its predicates and scalars use.
fn chain_to_get(expr: &RelationExpr, table: GlobalId) -> Option<(usize, BTreeSet<usize>)> {
    match expr {
        RelationExpr::Get {
            id: crate::expr::Id::Global(id),
            typ,
        } if *id == table => Some((typ.len(), BTreeSet::new())),
        RelationExpr::Filter { input, predicates } => {
            let (width, mut used) = chain_to_get(input, table)?;
            used.extend(predicates.iter().flat_map(|p| p.columns()));
            Some((width, used))
        }
        RelationExpr::Map { input, scalars } => {
            let (width, mut used) = chain_to_get(input, table)?;
            used.extend(scalars.iter().flat_map(|s| s.columns()));
            Some((width, used))
        }
        _ => None,
    }
}
