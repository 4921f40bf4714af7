//! The state store: shard states, inline batches and catalog records behind the `StateStore`
//! trait, implemented in redb (`RedbStateStore`). Every write is one redb transaction,
//! durable when it commits.

use super::{CatalogOp, Result, StorageError};
use crate::repr::Timestamp;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

const SHARDS: TableDefinition<&str, &[u8]> = TableDefinition::new("shards");
const CATALOG: TableDefinition<u64, &[u8]> = TableDefinition::new("catalog");
/// Small batches, stored in the same transaction as the state that references them (one
/// commit per append instead of a file write, its fsyncs and a commit).
const INLINE_BATCHES: TableDefinition<&str, &[u8]> = TableDefinition::new("inline_batches");

/// Whether a state change must be on disk before its call returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Commit {
    /// Fsynced before returning: appends, whose callers acknowledge writes after it.
    Durable,
    /// Made durable by the next durable commit; a crash before it undoes the change. For
    /// changes that lose nothing when undone (a compaction's swap of batches whose rows it
    /// keeps), so that they do not cost an fsync each.
    Lazy,
}

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

/// The shard states, inline batches and catalog records storage keeps, with the one
/// guarantee it relies on: each method is atomic, and `update_shards` is a read-modify-write
/// that no concurrent call can interleave with (compare-and-set semantics). `RedbStateStore`
/// implements it in an embedded file; a networked store (PostgreSQL, a consensus service)
/// can implement it without changing `Storage`.
pub trait StateStore: Send + Sync {
    fn get_shard(&self, name: &str) -> Result<Option<ShardState>>;
    /// Reads, changes (with `f`) and writes the named shards' states in one transaction,
    /// together with inline batch puts and deletes. If `f` refuses (`Err`), nothing changes.
    /// With `Commit::Durable` the change is on disk when this returns; with `Commit::Lazy`
    /// it is visible at once but reaches the disk with the next durable commit, and a crash
    /// before that undoes it (wholly).
    fn update_shards(
        &self,
        commit: Commit,
        names: &[String],
        inline_puts: &[(String, Vec<u8>)],
        inline_deletes: &[String],
        f: &mut dyn FnMut(&str, &mut ShardState) -> Result<()>,
    ) -> Result<()>;
    /// Makes every change committed so far durable (lazy ones included): a checkpoint.
    fn sync(&self) -> Result<()>;
    /// The bytes of an inline batch.
    fn get_inline(&self, key: &str) -> Result<Option<Vec<u8>>>;
    /// Applies catalog changes, shard creations and drops atomically; returns the blob keys
    /// of dropped shards, for the caller to delete after.
    fn catalog_transact(&self, ops: Vec<CatalogOp>) -> Result<Vec<String>>;
    /// Every blob key some shard references.
    fn referenced_blobs(&self) -> Result<BTreeSet<String>>;
    /// Every catalog record, by id.
    fn catalog_items(&self) -> Result<Vec<(u64, Vec<u8>)>>;
}

pub struct RedbStateStore {
    path: PathBuf,
    /// `None` after an I/O error until a reopen succeeds: redb refuses every transaction
    /// after one failed on I/O ("previous I/O error"), so the database is closed and opened
    /// again (recovering to its last commit) before the next use.
    db: RwLock<Option<Database>>,
}

/// A redb error as ours: I/O errors keep their kind (a full disk is `DiskFull`, 53100).
fn state_error(e: impl Into<redb::Error>) -> StorageError {
    match e.into() {
        redb::Error::Io(io) => StorageError::io(Path::new("state.redb"), io),
        redb::Error::PreviousIo => StorageError::Io {
            path: "state.redb".into(),
            message: "an earlier I/O error closed the state store".into(),
        },
        other => StorageError::State(other.to_string()),
    }
}

fn encode_error(e: postcard::Error) -> StorageError {
    StorageError::Internal(format!("encoding shard state: {e}"))
}

/// redb's page cache. Its default (1 GiB) would keep every page ever written in memory; the
/// state store is read at restart and for small shard records, so a small cache does.
const STATE_CACHE_BYTES: usize = 32 * 1024 * 1024;

fn lock_poisoned() -> StorageError {
    StorageError::Internal("state store lock poisoned".into())
}

/// Opens (creating if needed) the database and its tables.
fn open_database(path: &Path) -> Result<Database> {
    let db = redb::Builder::new()
        .set_cache_size(STATE_CACHE_BYTES)
        .create(path)
        .map_err(|e| match e {
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
    Ok(db)
}

impl RedbStateStore {
    pub fn open(path: &Path) -> Result<RedbStateStore> {
        let db = open_database(path)?;
        Ok(RedbStateStore {
            path: path.to_path_buf(),
            db: RwLock::new(Some(db)),
        })
    }

    /// Runs `f` on the database, reopening it first if an I/O error closed it, and closing
    /// it when `f` fails on I/O (see `db`).
    fn with_db<T>(&self, f: impl FnOnce(&Database) -> Result<T>) -> Result<T> {
        let closed = self.db.read().map_err(|_| lock_poisoned())?.is_none();
        if closed {
            self.reopen()?;
        }
        let result = {
            let guard = self.db.read().map_err(|_| lock_poisoned())?;
            match guard.as_ref() {
                Some(db) => f(db),
                None => Err(StorageError::State("the state store is closed".into())),
            }
        };
        if let Err(StorageError::DiskFull { .. } | StorageError::Io { .. }) = &result {
            // Closed now, while nothing uses it; opened again by the next call.
            if let Ok(mut guard) = self.db.write() {
                *guard = None;
            }
        }
        result
    }

    fn reopen(&self) -> Result<()> {
        let mut guard = self.db.write().map_err(|_| lock_poisoned())?;
        if guard.is_none() {
            *guard = Some(open_database(&self.path)?);
            tracing::info!("state store reopened after an I/O error");
        }
        Ok(())
    }
}

impl StateStore for RedbStateStore {
    fn sync(&self) -> Result<()> {
        self.with_db(|db| {
            // An empty transaction with the default (immediate) durability: its commit
            // flushes every lazy commit before it.
            let txn = db.begin_write().map_err(state_error)?;
            txn.commit().map_err(state_error)
        })
    }

    fn get_shard(&self, name: &str) -> Result<Option<ShardState>> {
        self.with_db(|db| {
            let txn = db.begin_read().map_err(state_error)?;
            let table = txn.open_table(SHARDS).map_err(state_error)?;
            match table.get(name).map_err(state_error)? {
                None => Ok(None),
                Some(bytes) => postcard::from_bytes(bytes.value()).map(Some).map_err(|e| {
                    StorageError::Corrupt {
                        shard: name.to_string(),
                        blob: "state".into(),
                        reason: e.to_string(),
                    }
                }),
            }
        })
    }

    /// Reads, changes and writes the named shards' states in one transaction, together with
    /// inline batch puts and deletes: concurrent appends and compactions never lose each
    /// other's changes. If `f` refuses (`Err`), nothing changes.
    fn update_shards(
        &self,
        commit: Commit,
        names: &[String],
        inline_puts: &[(String, Vec<u8>)],
        inline_deletes: &[String],
        f: &mut dyn FnMut(&str, &mut ShardState) -> Result<()>,
    ) -> Result<()> {
        self.with_db(|db| {
            let mut txn = db.begin_write().map_err(state_error)?;
            if commit == Commit::Lazy {
                txn.set_durability(redb::Durability::None)
                    .map_err(state_error)?;
            }
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
                    let mut state: ShardState =
                        match table.get(name.as_str()).map_err(state_error)? {
                            None => return Err(StorageError::UnknownShard(name.clone())),
                            Some(bytes) => postcard::from_bytes(bytes.value()).map_err(|e| {
                                StorageError::Corrupt {
                                    shard: name.clone(),
                                    blob: "state".into(),
                                    reason: e.to_string(),
                                }
                            })?,
                        };
                    f(name, &mut state)?;
                    let bytes = postcard::to_allocvec(&state).map_err(encode_error)?;
                    table
                        .insert(name.as_str(), bytes.as_slice())
                        .map_err(state_error)?;
                }
            }
            txn.commit().map_err(state_error)
        })
    }

    /// The bytes of an inline batch.
    fn get_inline(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.with_db(|db| {
            let txn = db.begin_read().map_err(state_error)?;
            let table = txn.open_table(INLINE_BATCHES).map_err(state_error)?;
            Ok(table
                .get(key)
                .map_err(state_error)?
                .map(|v| v.value().to_vec()))
        })
    }

    /// Applies catalog changes, shard creations and shard drops in one transaction. Returns
    /// the blob keys of dropped shards' batches stored as blobs: the caller deletes them once
    /// this has committed (until then the shards still reference them).
    fn catalog_transact(&self, ops: Vec<CatalogOp>) -> Result<Vec<String>> {
        self.with_db(|db| {
            let mut dropped_blobs = Vec::new();
            let txn = db.begin_write().map_err(state_error)?;
            {
                let mut table = txn.open_table(CATALOG).map_err(state_error)?;
                let mut shards = txn.open_table(SHARDS).map_err(state_error)?;
                let mut batches = txn.open_table(INLINE_BATCHES).map_err(state_error)?;
                for op in ops {
                    match op {
                        CatalogOp::Put { id, record } => {
                            table.insert(id, record.as_slice()).map_err(state_error)?;
                        }
                        CatalogOp::Delete { id } => {
                            table.remove(id).map_err(state_error)?;
                        }
                        CatalogOp::CreateShard { shard, upper } => {
                            let name = super::shard_name(shard);
                            let state = ShardState {
                                since: 0,
                                upper,
                                batches: vec![],
                                next_batch: 0,
                            };
                            let bytes = postcard::to_allocvec(&state).map_err(encode_error)?;
                            shards
                                .insert(name.as_str(), bytes.as_slice())
                                .map_err(state_error)?;
                        }
                        CatalogOp::DropShard { shard } => {
                            let name = super::shard_name(shard);
                            let Some(bytes) = shards.remove(name.as_str()).map_err(state_error)?
                            else {
                                continue;
                            };
                            let state: ShardState =
                                postcard::from_bytes(bytes.value()).map_err(|e| {
                                    StorageError::Corrupt {
                                        shard: name.clone(),
                                        blob: "state".into(),
                                        reason: e.to_string(),
                                    }
                                })?;
                            drop(bytes);
                            for meta in state.batches {
                                if meta.inline {
                                    batches.remove(meta.key.as_str()).map_err(state_error)?;
                                } else {
                                    dropped_blobs.push(meta.key);
                                }
                            }
                        }
                    }
                }
            }
            txn.commit().map_err(state_error)?;
            Ok(dropped_blobs)
        })
    }

    /// Every blob key some shard references: what the orphan sweep at open keeps.
    fn referenced_blobs(&self) -> Result<BTreeSet<String>> {
        self.with_db(|db| {
            let txn = db.begin_read().map_err(state_error)?;
            let table = txn.open_table(SHARDS).map_err(state_error)?;
            let mut keys = BTreeSet::new();
            for entry in table.iter().map_err(state_error)? {
                let (name, bytes) = entry.map_err(state_error)?;
                let state: ShardState =
                    postcard::from_bytes(bytes.value()).map_err(|e| StorageError::Corrupt {
                        shard: name.value().to_string(),
                        blob: "state".into(),
                        reason: e.to_string(),
                    })?;
                keys.extend(
                    state
                        .batches
                        .into_iter()
                        .filter(|b| !b.inline)
                        .map(|b| b.key),
                );
            }
            Ok(keys)
        })
    }

    fn catalog_items(&self) -> Result<Vec<(u64, Vec<u8>)>> {
        self.with_db(|db| {
            let txn = db.begin_read().map_err(state_error)?;
            let table = txn.open_table(CATALOG).map_err(state_error)?;
            let mut out = Vec::new();
            for entry in table.iter().map_err(state_error)? {
                let (k, v) = entry.map_err(state_error)?;
                out.push((k.value(), v.value().to_vec()));
            }
            Ok(out)
        })
    }
}
