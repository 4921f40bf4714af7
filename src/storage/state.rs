//! The state store: shard states and catalog records, in redb. Every
//! write is one redb transaction, durable when it commits.

use super::{CatalogOp, Result, StorageError};
use crate::repr::Timestamp;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

const SHARDS: TableDefinition<&str, &[u8]> = TableDefinition::new("shards");
const CATALOG: TableDefinition<u64, &[u8]> = TableDefinition::new("catalog");
/// Small batches, stored in the same transaction as the state that references them (one
/// commit per append instead of a file write, its fsyncs and a commit).
const INLINE_BATCHES: TableDefinition<&str, &[u8]> = TableDefinition::new("inline_batches");

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShardState {
    pub since: Timestamp,
    pub upper: Timestamp,
    /// The shard's batches, oldest first.
    pub batches: Vec<BatchMeta>,
    pub next_batch: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchMeta {
    pub key: String,
    /// Stored in the state store (small batches), not as a blob.
    pub inline: bool,
    /// Encoded size, for choosing which batches to merge.
    pub bytes: u64,
}

pub struct StateStore {
    db: Database,
}

fn state_error(e: impl std::fmt::Display) -> StorageError {
    StorageError::State(e.to_string())
}

impl StateStore {
    pub fn open(path: &Path) -> Result<StateStore> {
        let db = Database::create(path).map_err(|e| match e {
            redb::DatabaseError::DatabaseAlreadyOpen => {
                StorageError::Locked(path.display().to_string())
            }
            other => state_error(other),
        })?;
        let txn = db.begin_write().map_err(state_error)?;
        txn.open_table(SHARDS).map_err(state_error)?;
        txn.open_table(CATALOG).map_err(state_error)?;
        txn.open_table(INLINE_BATCHES).map_err(state_error)?;
        txn.commit().map_err(state_error)?;
        Ok(StateStore { db })
    }

    pub fn get_shard(&self, name: &str) -> Result<Option<ShardState>> {
        let txn = self.db.begin_read().map_err(state_error)?;
        let table = txn.open_table(SHARDS).map_err(state_error)?;
        match table.get(name).map_err(state_error)? {
            None => Ok(None),
            Some(bytes) => {
                postcard::from_bytes(bytes.value())
                    .map(Some)
                    .map_err(|e| StorageError::Corrupt {
                        shard: name.to_string(),
                        blob: "state".into(),
                        reason: e.to_string(),
                    })
            }
        }
    }

    /// Reads, changes and writes the named shards' states in one transaction, together with
    /// inline batch puts and deletes: concurrent appends and compactions never lose each
    /// other's changes. If `f` refuses (`Err`), nothing changes.
    pub fn update_shards(
        &self,
        names: &[String],
        inline_puts: &[(String, Vec<u8>)],
        inline_deletes: &[String],
        mut f: impl FnMut(&str, &mut ShardState) -> Result<()>,
    ) -> Result<()> {
        let txn = self.db.begin_write().map_err(state_error)?;
        {
            let mut batches = txn.open_table(INLINE_BATCHES).map_err(state_error)?;
            for key in inline_deletes {
                batches.remove(key.as_str()).map_err(state_error)?;
            }
            for (key, bytes) in inline_puts {
                assert!(
                    !inline_deletes.contains(key),
                    "a batch key is written and deleted in one transaction"
                );
                batches
                    .insert(key.as_str(), bytes.as_slice())
                    .map_err(state_error)?;
            }
            let mut table = txn.open_table(SHARDS).map_err(state_error)?;
            for name in names {
                let mut state: ShardState = match table.get(name.as_str()).map_err(state_error)? {
                    None => return Err(StorageError::UnknownShard(name.clone())),
                    Some(bytes) => {
                        postcard::from_bytes(bytes.value()).map_err(|e| StorageError::Corrupt {
                            shard: name.clone(),
                            blob: "state".into(),
                            reason: e.to_string(),
                        })?
                    }
                };
                f(name, &mut state)?;
                let bytes = postcard::to_allocvec(&state).map_err(state_error)?;
                table
                    .insert(name.as_str(), bytes.as_slice())
                    .map_err(state_error)?;
            }
        }
        txn.commit().map_err(state_error)
    }

    /// The bytes of an inline batch.
    pub fn get_inline(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let txn = self.db.begin_read().map_err(state_error)?;
        let table = txn.open_table(INLINE_BATCHES).map_err(state_error)?;
        Ok(table
            .get(key)
            .map_err(state_error)?
            .map(|v| v.value().to_vec()))
    }

    pub fn put_shard(&self, name: &str, state: &ShardState) -> Result<()> {
        let mut one = BTreeMap::new();
        one.insert(name.to_string(), state.clone());
        self.put_shards(&one)
    }

    /// Writes several shard states in one transaction.
    pub fn put_shards(&self, states: &BTreeMap<String, ShardState>) -> Result<()> {
        let txn = self.db.begin_write().map_err(state_error)?;
        {
            let mut table = txn.open_table(SHARDS).map_err(state_error)?;
            for (name, state) in states {
                let bytes = postcard::to_allocvec(state).map_err(state_error)?;
                table
                    .insert(name.as_str(), bytes.as_slice())
                    .map_err(state_error)?;
            }
        }
        txn.commit().map_err(state_error)
    }

    /// Removes a shard's state and its inline batches.
    pub fn delete_shard(&self, name: &str, inline_keys: &[String]) -> Result<()> {
        let txn = self.db.begin_write().map_err(state_error)?;
        {
            let mut table = txn.open_table(SHARDS).map_err(state_error)?;
            table.remove(name).map_err(state_error)?;
            let mut batches = txn.open_table(INLINE_BATCHES).map_err(state_error)?;
            for key in inline_keys {
                batches.remove(key.as_str()).map_err(state_error)?;
            }
        }
        txn.commit().map_err(state_error)
    }

    pub fn catalog_transact(&self, ops: Vec<CatalogOp>) -> Result<()> {
        let txn = self.db.begin_write().map_err(state_error)?;
        {
            let mut table = txn.open_table(CATALOG).map_err(state_error)?;
            for op in ops {
                match op {
                    CatalogOp::Put { id, record } => {
                        table.insert(id, record.as_slice()).map_err(state_error)?;
                    }
                    CatalogOp::Delete { id } => {
                        table.remove(id).map_err(state_error)?;
                    }
                }
            }
        }
        txn.commit().map_err(state_error)
    }

    pub fn catalog_items(&self) -> Result<Vec<(u64, Vec<u8>)>> {
        let txn = self.db.begin_read().map_err(state_error)?;
        let table = txn.open_table(CATALOG).map_err(state_error)?;
        let mut out = Vec::new();
        for entry in table.iter().map_err(state_error)? {
            let (k, v) = entry.map_err(state_error)?;
            out.push((k.value(), v.value().to_vec()));
        }
        Ok(out)
    }
}
