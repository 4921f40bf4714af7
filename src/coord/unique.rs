//! Enforcement of tables' PRIMARY KEY and UNIQUE constraints.
//!
//! The coordinator keeps, per constrained table, the number of rows holding each key value
//! (one map per key). A write is checked against it when it is queued, before its durable
//! append, and the maps take its updates at once; so writes queued behind it are checked
//! against a state that includes it, in the order their appends will apply. An append that
//! fails gives its updates back ([`UniqueKeys::revert`]).
//!
//! A write is checked as a whole (a statement, or a transaction at COMMIT): its retractions
//! and insertions net out per key value first, so `UPDATE t SET a = a + 1` over a unique `a`
//! succeeds, as with a constraint checked at the end of the statement (PostgreSQL checks a
//! non-deferrable constraint row by row and rejects that one).
//!
//! Invariants: for every constrained table, every count equals the number of rows of the
//! table (committed, plus writes queued or in flight) with that key value, and no count
//! exceeds 1; key values with a NULL in any column are not counted (they never conflict).

use super::error::{AdapterError, Result};
use crate::catalog::UniqueKey;
use crate::repr::text::format_datum;
use crate::repr::{Datum, Diff, GlobalId, RelationDesc, Row};
use std::collections::{BTreeMap, HashMap};

/// The key counts of one table.
struct TableKeys {
    keys: Vec<UniqueKey>,
    /// The table's columns, for the error detail.
    desc: RelationDesc,
    /// Per key in `keys`: key value => number of rows holding it.
    counts: Vec<HashMap<Row, Diff>>,
}

#[derive(Default)]
pub struct UniqueKeys {
    tables: HashMap<GlobalId, TableKeys>,
}

impl UniqueKeys {
    /// Starts enforcing `keys` on table `id`, whose rows are `rows` (consolidated). Fails if
    /// the rows already break a key (never, for rows written through this).
    pub fn add_table(
        &mut self,
        id: GlobalId,
        desc: &RelationDesc,
        keys: &[UniqueKey],
        rows: &[(Row, Diff)],
    ) -> Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let mut table = TableKeys {
            keys: keys.to_vec(),
            desc: desc.clone(),
            counts: vec![HashMap::new(); keys.len()],
        };
        let mut deltas = BTreeMap::new();
        table.check(rows, &mut deltas)?;
        table.apply(&deltas, 1);
        self.tables.insert(id, table);
        Ok(())
    }

    /// Starts enforcing one more key (a `CREATE UNIQUE INDEX`) on table `id`, whose rows,
    /// with every write queued or in flight, are `rows`. Fails, changing nothing, if two of
    /// them share a value of the key.
    pub fn add_key(
        &mut self,
        id: GlobalId,
        desc: &RelationDesc,
        key: &UniqueKey,
        rows: &[(Row, Diff)],
    ) -> Result<()> {
        let mut counts: HashMap<Row, Diff> = HashMap::new();
        for (row, diff) in rows {
            if let Some(value) = TableKeys::key_value(key, row) {
                *counts.entry(value).or_insert(0) += diff;
            }
        }
        counts.retain(|_, count| *count != 0);
        if let Some((value, _)) = counts.iter().find(|(_, count)| **count > 1) {
            return Err(AdapterError::UniqueIndexDuplicates {
                index: key.name.clone(),
                detail: format!("Key {} is duplicated.", key_text(key, desc, value)),
            });
        }
        let table = self.tables.entry(id).or_insert_with(|| TableKeys {
            keys: Vec::new(),
            desc: desc.clone(),
            counts: Vec::new(),
        });
        table.keys.push(key.clone());
        table.counts.push(counts);
        Ok(())
    }

    /// Stops enforcing the key named `name` on table `id` (its unique index was dropped).
    pub fn drop_key(&mut self, id: GlobalId, name: &str) {
        if let Some(table) = self.tables.get_mut(&id) {
            if let Some(k) = table.keys.iter().position(|key| key.name == name) {
                table.keys.remove(k);
                table.counts.remove(k);
            }
            if table.keys.is_empty() {
                self.tables.remove(&id);
            }
        }
    }

    pub fn forget_table(&mut self, id: GlobalId) {
        self.tables.remove(&id);
    }

    /// Checks the writes of one statement or transaction against every key of the tables
    /// they touch, and if none breaks, counts them.
    pub fn check_and_count(&mut self, writes: &[(GlobalId, Vec<(Row, Diff)>)]) -> Result<()> {
        let mut all = Vec::new();
        for (id, updates) in writes {
            if let Some(table) = self.tables.get(id) {
                let mut deltas = BTreeMap::new();
                table.check(updates, &mut deltas)?;
                all.push((*id, deltas));
            }
        }
        for (id, deltas) in all {
            if let Some(table) = self.tables.get_mut(&id) {
                table.apply(&deltas, 1);
            }
        }
        Ok(())
    }

    /// Takes back the counts of writes whose append failed.
    pub fn revert(&mut self, writes: &[(GlobalId, Vec<(Row, Diff)>)]) {
        for (id, updates) in writes {
            if let Some(table) = self.tables.get_mut(id) {
                let mut deltas = BTreeMap::new();
                table.collect_deltas(updates, &mut deltas);
                table.apply(&deltas, -1);
            }
        }
    }
}

/// A key value as PostgreSQL's error details show it: `(a, b)=(1, x)`.
fn key_text(key: &UniqueKey, desc: &RelationDesc, value: &Row) -> String {
    let names: Vec<&str> = key
        .columns
        .iter()
        .map(|&c| desc.names[c].as_str())
        .collect();
    let values: Vec<String> = key
        .columns
        .iter()
        .zip(value.iter())
        .map(|(&c, d)| format_datum(d, &desc.types[c].scalar_type))
        .collect();
    format!("({})=({})", names.join(", "), values.join(", "))
}

/// Per key index: key value => net change of its count.
type Deltas = BTreeMap<(usize, Row), Diff>;

impl TableKeys {
    fn key_value(key: &UniqueKey, row: &Row) -> Option<Row> {
        let datums: Vec<Datum> = key.columns.iter().map(|&c| row[c].clone()).collect();
        if datums.iter().any(Datum::is_null) {
            return None;
        }
        Some(Row::new(datums))
    }

    fn collect_deltas(&self, updates: &[(Row, Diff)], deltas: &mut Deltas) {
        for (row, diff) in updates {
            for (k, key) in self.keys.iter().enumerate() {
                if let Some(value) = Self::key_value(key, row) {
                    *deltas.entry((k, value)).or_insert(0) += diff;
                }
            }
        }
    }

    /// Fills `deltas` from `updates` and fails if a key value would be held by two rows.
    fn check(&self, updates: &[(Row, Diff)], deltas: &mut Deltas) -> Result<()> {
        self.collect_deltas(updates, deltas);
        for ((k, value), delta) in deltas.iter() {
            let now = self.counts[*k].get(value).copied().unwrap_or(0);
            if now + delta > 1 {
                let key = &self.keys[*k];
                return Err(AdapterError::UniqueViolation {
                    constraint: key.name.clone(),
                    detail: format!("Key {} already exists.", key_text(key, &self.desc, value)),
                });
            }
        }
        Ok(())
    }

    fn apply(&mut self, deltas: &Deltas, sign: Diff) {
        for ((k, value), delta) in deltas {
            let counts = &mut self.counts[*k];
            let count = counts.entry(value.clone()).or_insert(0);
            *count += sign * delta;
            debug_assert!(*count >= 0, "a key value counted below zero");
            if *count == 0 {
                counts.remove(value);
            }
        }
    }
}
