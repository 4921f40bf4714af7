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

    /// Reads, changes and writes the named shards' states in one transaction: concurrent
    /// appends and compactions never lose each other's changes. `f` may refuse (`Err`), and
    /// then nothing changes.
    pub fn update_shards(
        &self,
        names: &[String],
        mut f: impl FnMut(&str, &mut ShardState) -> Result<()>,
    ) -> Result<()> {
        let txn = self.db.begin_write().map_err(state_error)?;
        {
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

    pub fn delete_shard(&self, name: &str) -> Result<()> {
        let txn = self.db.begin_write().map_err(state_error)?;
        {
            let mut table = txn.open_table(SHARDS).map_err(state_error)?;
            table.remove(name).map_err(state_error)?;
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
